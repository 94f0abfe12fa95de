//! Use cases of a disclosure request. Each is one transaction: load the request, apply the
//! pure rules, write it back with a timeline entry, an audit entry and an outbox event.
//! The clock is recomputed from the calendar on every change and by the sweep job, so a
//! calendar edit re-dates every open request.

use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::Date;

use gongkai_kernel::audit::{self, Actor};
use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::calendar::rules::{Calendar, format_date, parse_date};
use gongkai_kernel::clock;
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::{Error, FieldErrors, Result};
use gongkai_kernel::{cn, outbox};

use crate::letter;
use crate::model::*;
use crate::rules::{self, ClockInput, Correction, Evidence, Pause};
use crate::store::{self, LetterRow, RequestRow, ReviewRow, StepRow};

/// The application as typed, on the public form and the staff registration form alike.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct ApplicationForm {
    #[serde(default)]
    pub org_id: String,
    #[serde(default)]
    pub applicant_kind: String,
    #[serde(default)]
    pub applicant_name: String,
    #[serde(default)]
    pub id_type: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub uscc: String,
    #[serde(default)]
    pub legal_rep: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub postcode: String,
    #[serde(default)]
    pub info_title: String,
    #[serde(default)]
    pub info_doc_no: String,
    #[serde(default)]
    pub info_description: String,
    #[serde(default)]
    pub form_wanted: String,
    #[serde(default)]
    pub delivery: String,
}

fn limit(errs: &mut FieldErrors, field: &str, v: &str, max: usize, label: &str) {
    if v.chars().count() > max {
        errs.add(field, format!("{label}不能超过{max}个字"));
    }
}

/// Check an application; returns the request row to insert (without id, number, dates).
pub fn validate(f: &ApplicationForm, today: Date) -> Result<RequestRow> {
    let mut errs = FieldErrors::new();
    let t = |s: &str| s.trim().to_string();
    let org_id = f.org_id.trim().parse::<i64>().ok();
    if org_id.is_none() {
        errs.add("org_id", "请选择受理机关");
    }
    let kind = ApplicantKind::parse(f.applicant_kind.trim());
    if kind.is_none() {
        errs.add("applicant_kind", "请选择申请人类型");
    }
    let name = t(&f.applicant_name);
    if name.is_empty() {
        errs.add("applicant_name", if kind.is_some_and(|k| !k.is_natural()) { "请填写单位名称" } else { "请填写姓名" });
    }
    limit(&mut errs, "applicant_name", &name, 100, "名称");
    let (mut id_type, mut id_number, mut uscc) = (String::new(), String::new(), String::new());
    match kind {
        Some(ApplicantKind::Natural) => match IdType::parse(f.id_type.trim()) {
            None => errs.add("id_type", "请选择证件类型"),
            Some(IdType::IdCard) => {
                id_type = "id_card".into();
                match cn::validate_id_card(f.id_number.trim(), today) {
                    Ok(v) => id_number = v,
                    Err(e) => errs.add("id_number", e),
                }
            }
            Some(other) => {
                id_type = other.as_str().into();
                id_number = t(&f.id_number).to_uppercase();
                if id_number.is_empty() {
                    errs.add("id_number", "请填写证件号码");
                } else if id_number.chars().count() > 40
                    || !id_number.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    errs.add("id_number", "证件号码只能包含字母、数字和连字符，不超过40位");
                }
            }
        },
        Some(_) => match cn::validate_uscc(f.uscc.trim()) {
            Ok(v) => uscc = v,
            Err(e) => errs.add("uscc", e),
        },
        None => {}
    }
    let phone = t(&f.phone);
    let email = t(&f.email);
    if phone.is_empty() && email.is_empty() {
        errs.add("phone", "请至少填写联系电话或电子邮箱中的一项");
    }
    if !phone.is_empty()
        && (phone.len() < 7 || phone.len() > 20 || !phone.chars().all(|c| c.is_ascii_digit() || "-+ ".contains(c)))
    {
        errs.add("phone", "联系电话格式不正确，例如 13812345678 或 0571-12345678");
    }
    if !email.is_empty() && (!email.contains('@') || email.len() > 100 || email.contains(char::is_whitespace)) {
        errs.add("email", "电子邮箱格式不正确");
    }
    let address = t(&f.address);
    limit(&mut errs, "address", &address, 200, "通信地址");
    let postcode = t(&f.postcode);
    let postcode_ok = postcode.is_empty() || (postcode.len() == 6 && postcode.chars().all(|c| c.is_ascii_digit()));
    if !postcode_ok {
        errs.add("postcode", "邮政编码应为6位数字");
    }
    let (title, doc_no, desc) = (t(&f.info_title), t(&f.info_doc_no), t(&f.info_description));
    if title.is_empty() && doc_no.is_empty() && desc.is_empty() {
        errs.add("info_title", "请填写所需信息的名称、文号或者便于查询的其他特征性描述");
    }
    limit(&mut errs, "info_title", &title, 200, "信息名称");
    limit(&mut errs, "info_doc_no", &doc_no, 100, "文号");
    limit(&mut errs, "info_description", &desc, 2000, "特征描述");
    let form = FormWanted::parse(f.form_wanted.trim());
    if form.is_none() {
        errs.add("form_wanted", "请选择所需信息的提供形式");
    }
    let delivery = Delivery::parse(f.delivery.trim());
    match delivery {
        None => errs.add("delivery", "请选择获取信息的方式"),
        Some(Delivery::Post) if address.is_empty() => errs.add("address", "选择邮寄的，请填写通信地址"),
        Some(Delivery::Email) if email.is_empty() => errs.add("email", "选择电子邮件获取的，请填写电子邮箱"),
        _ => {}
    }
    errs.into_result()?;
    let (Some(org_id), Some(kind), Some(form), Some(delivery)) = (org_id, kind, form, delivery) else {
        return Err(Error::internal("validated application incomplete"));
    };
    Ok(RequestRow {
        id: 0,
        tracking_no: String::new(),
        access_hash: String::new(),
        idem_key: None,
        org_id,
        channel: String::new(),
        state: RequestState::Pending.as_str().into(),
        applicant_kind: kind.as_str().into(),
        applicant_name: name,
        id_type,
        id_number,
        uscc,
        legal_rep: t(&f.legal_rep),
        phone,
        email,
        address,
        postcode,
        info_title: if title.is_empty() {
            if doc_no.is_empty() { desc.chars().take(60).collect() } else { doc_no.clone() }
        } else {
            title
        },
        info_doc_no: doc_no,
        info_description: desc,
        form_wanted: form.as_str().into(),
        delivery: delivery.as_str().into(),
        evidence: "{}".into(),
        received_on: None,
        receipt_rule: String::new(),
        due_on: None,
        extension_days: 0,
        extension: "{}".into(),
        longer_due_on: None,
        longer_reason: String::new(),
        fee_scheme: None,
        fee_units: None,
        fee_amount: None,
        answer: None,
        ground: None,
        outcome: None,
        reason: String::new(),
        withheld: String::new(),
        decided_on: None,
        decided_by: None,
        delivered_on: None,
        delivery_method: String::new(),
        delivery_ref: String::new(),
        overdue: 0,
        reminded_due: None,
        created_by: None,
        created_at: 0,
        updated_at: 0,
    })
}

pub fn hash_code(code: &str) -> String {
    audit::hex(&Sha256::digest(code.trim().to_uppercase().as_bytes()))
}

/// A 查询码 the applicant can read out on the phone: no 0/O, 1/I/L.
fn new_access_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    gongkai_kernel::random_bytes::<8>().iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

fn d(s: &Option<String>) -> Option<Date> {
    s.as_deref().and_then(parse_date)
}

fn field_err(e: rules::FieldError) -> Error {
    Error::field(e.field, e.message)
}

/// A date typed in a form; `label` names the field in the message.
pub fn parse_field_date(field: &str, v: &str, label: &str) -> Result<Date> {
    let v = v.trim();
    if v.is_empty() {
        return Err(Error::field(field, format!("请填写{label}")));
    }
    parse_date(v).ok_or_else(|| Error::field(field, format!("{label}格式应为 2025-03-01 这样的日期")))
}

fn opt_date(field: &str, v: &str, label: &str) -> Result<Option<Date>> {
    if v.trim().is_empty() { Ok(None) } else { parse_field_date(field, v, label).map(Some) }
}

/// The clock's input from the request and its steps.
pub fn clock_input(r: &RequestRow, steps: &[StepRow]) -> ClockInput {
    let mut input = ClockInput {
        received_on: d(&r.received_on),
        corrections: Vec::new(),
        pauses: Vec::new(),
        extension_days: r.extension_days.max(0) as u32,
        longer_due: d(&r.longer_due_on),
    };
    for s in steps {
        let (Some(from), Some(deadline)) = (parse_date(&s.started_on), parse_date(&s.deadline_on)) else { continue };
        match StepKind::parse(&s.kind) {
            Some(StepKind::Correction) => {
                input.corrections.push(Correction { sent_on: from, deadline, received_on: d(&s.ended_on) })
            }
            Some(kind) => input.pauses.push(Pause { kind, from, to: d(&s.ended_on) }),
            None => {}
        }
    }
    input
}

/// Recompute the cached due date and the overdue flag.
fn refresh(cal: &Calendar, r: &mut RequestRow, steps: &[StepRow], today: Date) {
    if r.state == RequestState::Decided.as_str() {
        r.overdue = 0;
        return;
    }
    let c = rules::clock(cal, &clock_input(r, steps));
    r.due_on = c.due.map(format_date);
    r.overdue = rules::is_overdue(&c, today) as i64;
}

fn open_step(steps: &[StepRow], kind: StepKind) -> Option<&StepRow> {
    steps.iter().rev().find(|s| s.kind == kind.as_str() && s.ended_on.is_none())
}

pub fn may_view(who: &Principal, org_path: &str) -> bool {
    who.can(Perm::DisclosureView, Some(org_path), None)
}

pub fn may_handle(who: &Principal, org_path: &str) -> bool {
    who.can(Perm::DisclosureHandle, Some(org_path), None)
}

/// A request the principal may see, with its organisation.
pub async fn load_for(db: &Db, who: &Principal, id: i64) -> Result<(RequestRow, gongkai_kernel::org::Org)> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let r = store::get(&mut c, id, false).await?.ok_or(Error::NotFound)?;
    let org = gongkai_kernel::org::store::get(&mut c, r.org_id).await?.ok_or(Error::NotFound)?;
    if !may_view(who, &org.path) {
        // Not found rather than forbidden: the existence of a request is itself personal data.
        return Err(Error::NotFound);
    }
    Ok((r, org))
}

async fn new_tracking_no(c: &mut Conn<'_>, today: Date) -> Result<String> {
    let prefix = format!("YSQ{}{:02}{:02}-", today.year(), today.month() as u8, today.day());
    let n = store::count_tracking_prefix(c, &prefix).await?;
    Ok(format!("{prefix}{:04}", n + 1))
}

async fn org_exists(c: &mut Conn<'_>, id: i64) -> Result<gongkai_kernel::org::Org> {
    gongkai_kernel::org::store::get(c, id).await?.ok_or_else(|| Error::field("org_id", "受理机关不存在"))
}

async fn record(c: &mut Conn<'_>, actor: &Actor, r: &RequestRow, kind: &str, text: &str, public: bool) -> Result<()> {
    store::add_event(c, r.id, &actor.name, kind, text, public).await?;
    audit::append(
        c,
        actor,
        &format!("foi.{kind}"),
        "foi_request",
        r.id,
        json!({ "tracking_no": r.tracking_no, "state": r.state, "text": text }),
    )
    .await?;
    outbox::emit(c, "foi.request", r.id, json!({ "state": r.state })).await?;
    Ok(())
}

/// The public online form: the request waits for both sides to confirm receipt (Art. 31).
/// A repeated submission with the same idempotency key returns the first request (and
/// false: nothing was created). `access_code` is the 查询码 the applicant is shown.
pub async fn submit_online(
    db: &Db,
    form: &ApplicationForm,
    idem_key: &str,
    access_code: &str,
    ip: &str,
) -> Result<(RequestRow, bool)> {
    let today = clock::today();
    let mut r = validate(form, today)?;
    let idem_key = idem_key.trim();
    if idem_key.len() < 16 || idem_key.len() > 64 || !idem_key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(Error::field("idem", "表单已失效，请刷新页面后重新提交"));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    if let Some(existing) = store::by_idem_key(&mut c, idem_key).await? {
        return Ok((existing, false));
    }
    org_exists(&mut c, r.org_id).await?;
    let now = clock::now_ms();
    r.channel = Channel::Online.as_str().into();
    r.idem_key = Some(idem_key.to_string());
    r.access_hash = hash_code(access_code);
    r.evidence = serde_json::to_string(&Evidence { submitted_on: Some(today), ..Default::default() })
        .map_err(Error::internal)?;
    r.tracking_no = new_tracking_no(&mut c, today).await?;
    r.created_at = now;
    r.updated_at = now;
    r.id = store::insert(&mut c, &r).await?;
    let actor =
        Actor {
            user_id: None, name: "申请人（网上提交）".into(), role: "public".into(), org_id: None, ip: ip.into()
        };
    record(&mut c, &actor, &r, "submitted", "通过网上申请平台提交申请，待受理机关确认收到", true).await?;
    tx.commit().await?;
    Ok((r, true))
}

/// Dates a staff member records for a channel, as typed.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct EvidenceForm {
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub submitted_on: String,
    #[serde(default)]
    pub sent_on: String,
    #[serde(default)]
    pub arrived_on: String,
    #[serde(default)]
    pub signed_on: String,
    #[serde(default)]
    pub confirmed_on: String,
    #[serde(default)]
    pub email_received_on: String,
    /// The registration form's idempotency key.
    #[serde(default)]
    pub idem: String,
}

fn evidence_of(f: &EvidenceForm) -> Result<(Channel, Evidence)> {
    let mut errs = FieldErrors::new();
    let channel = Channel::parse(f.channel.trim());
    if channel.is_none() {
        errs.add("channel", "请选择申请渠道");
    }
    let mut get = |field: &'static str, v: &str| match opt_date(field, v, "日期") {
        Ok(d) => d,
        Err(Error::Invalid(e)) => {
            for (f, m) in e.0 {
                errs.add(&f, m);
            }
            None
        }
        Err(_) => None,
    };
    let ev = Evidence {
        submitted_on: get("submitted_on", &f.submitted_on),
        sent_on: get("sent_on", &f.sent_on),
        arrived_on: get("arrived_on", &f.arrived_on),
        signed_on: get("signed_on", &f.signed_on),
        confirmed_on: get("confirmed_on", &f.confirmed_on),
        email_received_on: get("email_received_on", &f.email_received_on),
    };
    errs.into_result()?;
    Ok((channel.unwrap_or(Channel::Other), ev))
}

/// Staff register a request that arrived in person, by mail, fax or e-mail (one per matter).
/// With the form's idempotency key, a second submission returns the first request and an
/// empty code (nothing is created twice).
pub async fn register(
    db: &Db,
    who: &Principal,
    ip: &str,
    form: &ApplicationForm,
    ev: &EvidenceForm,
) -> Result<(RequestRow, String)> {
    let today = clock::today();
    let idem = ev.idem.trim().to_string();
    let mut errs = FieldErrors::new();
    let validated = validate(form, today);
    let evidence = evidence_of(ev);
    for e in [validated.as_ref().err(), evidence.as_ref().err()].into_iter().flatten() {
        if let Error::Invalid(f) = e {
            for (k, m) in &f.0 {
                errs.add(k, m.clone());
            }
        }
    }
    errs.into_result()?;
    let mut r = validated?;
    let (channel, ev) = evidence?;
    let receipt = rules::receipt(channel, &ev, today).map_err(field_err)?;
    let cal = gongkai_kernel::calendar::service::load(db).await?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let org = org_exists(&mut c, r.org_id).await?;
    if !may_handle(who, &org.path) {
        return Err(Error::Forbidden("只能登记本机关收到的申请".into()));
    }
    if !idem.is_empty() {
        if let Some(existing) = store::by_idem_key(&mut c, &idem).await? {
            return Ok((existing, String::new()));
        }
        r.idem_key = Some(idem.chars().take(64).collect());
    }
    let code = new_access_code();
    let now = clock::now_ms();
    r.channel = channel.as_str().into();
    r.access_hash = hash_code(&code);
    r.evidence = serde_json::to_string(&ev).map_err(Error::internal)?;
    if let Some(rc) = &receipt {
        r.received_on = Some(format_date(rc.received_on));
        r.receipt_rule = rc.rule.to_string();
        r.state = RequestState::Open.as_str().into();
    }
    r.tracking_no = new_tracking_no(&mut c, today).await?;
    r.created_by = Some(who.user_id);
    r.created_at = now;
    r.updated_at = now;
    refresh(&cal, &mut r, &[], today);
    r.id = store::insert(&mut c, &r).await?;
    let text = match &receipt {
        Some(rc) => format!("登记{}申请，收到日期 {}（{}）", channel.label_zh(), format_date(rc.received_on), rc.rule),
        None => format!("登记{}申请，待与申请人确认收到", channel.label_zh()),
    };
    record(&mut c, &who.actor(ip), &r, "registered", &text, true).await?;
    tx.commit().await?;
    Ok((r, code))
}

/// Everything a use case on one request needs, loaded inside its transaction.
struct Ctx {
    r: RequestRow,
    steps: Vec<StepRow>,
    org: gongkai_kernel::org::Org,
}

async fn begin_on(c: &mut Conn<'_>, who: &Principal, id: i64) -> Result<Ctx> {
    let r = store::get(c, id, true).await?.ok_or(Error::NotFound)?;
    let org = gongkai_kernel::org::store::get(c, r.org_id).await?.ok_or(Error::NotFound)?;
    if !may_view(who, &org.path) {
        return Err(Error::NotFound);
    }
    if !may_handle(who, &org.path) {
        return Err(Error::Forbidden("只有受理机关的依申请公开经办人员可以办理".into()));
    }
    let steps = store::steps(c, id).await?;
    Ok(Ctx { r, steps, org })
}

fn state_of(r: &RequestRow) -> RequestState {
    RequestState::parse(&r.state).unwrap_or(RequestState::Open)
}

fn require_state(r: &RequestRow, allowed: &[RequestState], what: &str) -> Result<()> {
    let s = state_of(r);
    if allowed.contains(&s) {
        Ok(())
    } else {
        Err(Error::Conflict(format!("申请当前状态为“{}”，不能{what}", s.label_zh())))
    }
}

/// Run one use case on a request: load, change, refresh the clock, save, record.
async fn act<F>(db: &Db, who: &Principal, ip: &str, id: i64, kind: &str, f: F) -> Result<RequestRow>
where
    F: for<'a> FnOnce(&'a Calendar, &'a mut Ctx, Date) -> Result<Change>,
{
    let cal = gongkai_kernel::calendar::service::load(db).await?;
    let today = clock::today();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut ctx = begin_on(&mut c, who, id).await?;
    let change = f(&cal, &mut ctx, today)?;
    for s in &change.new_steps {
        let mut s = s.clone();
        s.request_id = id;
        s.created_at = clock::now_ms();
        s.id = store::insert_step(&mut c, &s).await?;
        ctx.steps.push(s);
    }
    for (step_id, on) in &change.end_steps {
        store::end_step(&mut c, *step_id, on).await?;
        if let Some(s) = ctx.steps.iter_mut().find(|s| s.id == *step_id) {
            s.ended_on = Some(on.clone());
        }
    }
    ctx.r.updated_at = clock::now_ms();
    refresh(&cal, &mut ctx.r, &ctx.steps, today);
    store::save(&mut c, &ctx.r).await?;
    if let Some((lkind, body)) = &change.letter {
        store::insert_letter(
            &mut c,
            &LetterRow {
                id: 0,
                request_id: id,
                kind: lkind.clone(),
                title: letter::title_of(lkind).into(),
                body: body.clone(),
                created_by: Some(who.user_id),
                created_at: clock::now_ms(),
            },
        )
        .await?;
    }
    record(&mut c, &who.actor(ip), &ctx.r, kind, &change.text, change.public).await?;
    tx.commit().await?;
    Ok(ctx.r)
}

#[derive(Default)]
struct Change {
    text: String,
    public: bool,
    new_steps: Vec<StepRow>,
    end_steps: Vec<(i64, String)>,
    letter: Option<(String, String)>,
}

fn step(kind: StepKind, from: Date, deadline: Date, detail: &str) -> StepRow {
    StepRow {
        id: 0,
        request_id: 0,
        kind: kind.as_str().into(),
        started_on: format_date(from),
        deadline_on: format_date(deadline),
        ended_on: None,
        detail: detail.into(),
        created_at: 0,
    }
}

fn not_future(field: &str, on: Date, today: Date) -> Result<()> {
    if on > today { Err(Error::field(field, "日期不能晚于今天")) } else { Ok(()) }
}

/// The values letters are rendered with.
fn letter_ctx(r: &RequestRow, org: &gongkai_kernel::org::Org, date: Date) -> serde_json::Value {
    json!({
        "applicant": r.applicant_name,
        "received_on": d(&r.received_on).map(letter::date_zh).unwrap_or_default(),
        "tracking_no": r.tracking_no,
        "info_title": r.info_title,
        "org_name": org.name,
        "date": letter::date_zh(date),
        "remedies": letter::REMEDIES,
    })
}

async fn template_of(db: &Db, kind: &str) -> Result<String> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    Ok(match store::template(&mut c, kind).await? {
        Some(t) => t,
        None => letter::default_template(kind).unwrap_or_default().to_string(),
    })
}

fn render_letter(template: &str, ctx: &serde_json::Value) -> Result<String> {
    letter::render(template, ctx)
        .map(|p| p.join("\n"))
        .map_err(|e| Error::Conflict(format!("告知书{e}，请管理员修改模板")))
}

/// Both sides confirmed (online, fax, ordinary mail, other channels): the clock starts.
pub async fn confirm_receipt(db: &Db, who: &Principal, ip: &str, id: i64, on: &str) -> Result<RequestRow> {
    let on = parse_field_date("on", on, "确认收到日期")?;
    act(db, who, ip, id, "receipt", |_, ctx, today| {
        require_state(&ctx.r, &[RequestState::Pending], "确认收到")?;
        let channel = Channel::parse(&ctx.r.channel).unwrap_or(Channel::Other);
        let mut ev: Evidence = serde_json::from_str(&ctx.r.evidence).unwrap_or_default();
        match channel {
            Channel::RegisteredMail => ev.signed_on = Some(on),
            Channel::Email => ev.email_received_on = Some(on),
            Channel::InPerson => ev.submitted_on = Some(on),
            _ => ev.confirmed_on = Some(on),
        }
        let rc = rules::receipt(channel, &ev, today)
            .map_err(|e| Error::field("on", e.message))?
            .ok_or_else(|| Error::field("on", "请填写确认收到日期"))?;
        ctx.r.evidence = serde_json::to_string(&ev).map_err(Error::internal)?;
        ctx.r.received_on = Some(format_date(rc.received_on));
        ctx.r.receipt_rule = rc.rule.to_string();
        ctx.r.state = RequestState::Open.as_str().into();
        Ok(Change {
            text: format!("确认收到申请，收到日期 {}（{}）", format_date(rc.received_on), rc.rule),
            public: true,
            ..Default::default()
        })
    })
    .await
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct CorrectionForm {
    #[serde(default)]
    pub items: String,
    #[serde(default)]
    pub sent_on: String,
    #[serde(default)]
    pub deadline: String,
}

/// 补正: one notice listing everything, within 7 working days of receipt (Art. 30).
pub async fn send_correction(db: &Db, who: &Principal, ip: &str, id: i64, f: &CorrectionForm) -> Result<RequestRow> {
    let items = f.items.trim().to_string();
    let mut errs = FieldErrors::new();
    if items.is_empty() {
        errs.add("items", "请一次性列明需要补正的全部内容");
    }
    let sent = opt_date("sent_on", &f.sent_on, "发出日期");
    let deadline = opt_date("deadline", &f.deadline, "补正期限");
    for e in [sent.as_ref().err(), deadline.as_ref().err()].into_iter().flatten() {
        if let Error::Invalid(fe) = e {
            for (k, m) in &fe.0 {
                errs.add(k, m.clone());
            }
        }
    }
    errs.into_result()?;
    let sent = sent?.ok_or_else(|| Error::field("sent_on", "请填写发出日期"))?;
    let deadline = deadline?.ok_or_else(|| Error::field("deadline", "请填写补正期限"))?;
    let template = template_of(db, "correction").await?;
    act(db, who, ip, id, "correction", |cal, ctx, today| {
        require_state(&ctx.r, &[RequestState::Open], "发出补正通知")?;
        let received = d(&ctx.r.received_on).ok_or_else(|| Error::Conflict("申请尚未确认收到".into()))?;
        // A second correction is allowed after the first was answered: its 7 days count from the corrected application.
        let base =
            ctx.steps.iter().rev().find(|s| s.kind == "correction").and_then(|s| d(&s.ended_on)).unwrap_or(received);
        rules::check_correction_notice(cal, base, sent, deadline, today).map_err(field_err)?;
        ctx.r.state = RequestState::Correction.as_str().into();
        let mut lc = letter_ctx(&ctx.r, &ctx.org, sent);
        lc["items"] = json!(items);
        lc["deadline"] = json!(letter::date_zh(deadline));
        let body = render_letter(&template, &lc)?;
        Ok(Change {
            text: format!("发出补正告知书（{}），补正期限 {}", format_date(sent), format_date(deadline)),
            public: true,
            new_steps: vec![step(StepKind::Correction, sent, deadline, &items)],
            letter: Some(("correction".into(), body)),
            ..Default::default()
        })
    })
    .await
}

/// The corrected application arrived: the 20 working days start again from this day.
pub async fn receive_correction(db: &Db, who: &Principal, ip: &str, id: i64, on: &str) -> Result<RequestRow> {
    let on = parse_field_date("on", on, "收到补正日期")?;
    act(db, who, ip, id, "correction_received", |_, ctx, today| {
        require_state(&ctx.r, &[RequestState::Correction], "登记收到补正")?;
        let s =
            open_step(&ctx.steps, StepKind::Correction).ok_or_else(|| Error::Conflict("没有待补正的通知".into()))?;
        let c = Correction {
            sent_on: parse_date(&s.started_on).unwrap_or(on),
            deadline: parse_date(&s.deadline_on).unwrap_or(on),
            received_on: None,
        };
        rules::check_correction_received(&c, on, today).map_err(|e| Error::field("on", e.message))?;
        ctx.r.state = RequestState::Open.as_str().into();
        Ok(Change {
            text: format!("收到补正后的申请（{}），答复期限自该日起重新计算", format_date(on)),
            public: true,
            end_steps: vec![(s.id, format_date(on))],
            ..Default::default()
        })
    })
    .await
}

/// Consult a third party (Art. 32): the time until the opinion arrives is not counted.
pub async fn start_consultation(
    db: &Db,
    who: &Principal,
    ip: &str,
    id: i64,
    party: &str,
    from: &str,
) -> Result<RequestRow> {
    let party = party.trim().to_string();
    if party.is_empty() {
        return Err(Error::field("party", "请填写征求意见的第三方"));
    }
    let from = parse_field_date("on", from, "发出征求意见日期")?;
    act(db, who, ip, id, "consultation", |cal, ctx, today| {
        require_state(&ctx.r, &[RequestState::Open], "征求第三方意见")?;
        not_future("on", from, today)?;
        if d(&ctx.r.received_on).is_some_and(|r| from < r) {
            return Err(Error::field("on", "征求意见日期不能早于收到申请日期"));
        }
        let deadline = rules::consultation_deadline(cal, from);
        ctx.r.state = RequestState::Consultation.as_str().into();
        Ok(Change {
            text: format!(
                "书面征求第三方意见（{}），第三方应于 {} 前提出意见，征求意见期间不计入答复期限",
                format_date(from),
                format_date(deadline)
            ),
            public: true,
            new_steps: vec![step(StepKind::Consultation, from, deadline, &party)],
            ..Default::default()
        })
    })
    .await
}

pub async fn end_consultation(
    db: &Db,
    who: &Principal,
    ip: &str,
    id: i64,
    on: &str,
    opinion: &str,
) -> Result<RequestRow> {
    let on = parse_field_date("on", on, "收到意见日期")?;
    let opinion = opinion.trim().to_string();
    act(db, who, ip, id, "consultation_end", |_, ctx, today| {
        require_state(&ctx.r, &[RequestState::Consultation], "结束征求意见")?;
        let s = open_step(&ctx.steps, StepKind::Consultation)
            .ok_or_else(|| Error::Conflict("没有进行中的征求意见".into()))?;
        let from = parse_date(&s.started_on).unwrap_or(on);
        rules::check_pause_end(from, on, today).map_err(|e| Error::field("on", e.message))?;
        ctx.r.state = RequestState::Open.as_str().into();
        let text = if opinion.is_empty() {
            format!("第三方意见征询结束（{}），恢复计算答复期限", format_date(on))
        } else {
            format!("收到第三方意见（{}）：{opinion}；恢复计算答复期限", format_date(on))
        };
        Ok(Change { text, public: false, end_steps: vec![(s.id, format_date(on))], ..Default::default() })
    })
    .await
}

/// Fee notice (国办函〔2020〕109号). Per request, the count is the applicant's requests
/// received in the calendar month, taken from the records, never typed.
pub async fn fee_notice(
    db: &Db,
    who: &Principal,
    ip: &str,
    id: i64,
    scheme: &str,
    pages: &str,
    on: &str,
) -> Result<RequestRow> {
    let scheme = FeeScheme::parse(scheme.trim()).ok_or_else(|| Error::field("scheme", "请选择计收方式"))?;
    let on = parse_field_date("on", on, "通知日期")?;
    let units = match scheme {
        FeeScheme::PerPage => Some(
            pages
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| Error::field("pages", "请填写页数（正整数）"))?,
        ),
        FeeScheme::PerRequest => None,
    };
    let nth = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        let r = store::get(&mut c, id, false).await?.ok_or(Error::NotFound)?;
        let month = r.received_on.as_deref().map(|s| s[..7.min(s.len())].to_string()).unwrap_or_default();
        store::applicant_month_count(&mut c, &r, &month).await?.max(1) as u32
    };
    let template = template_of(db, "fee").await?;
    act(db, who, ip, id, "fee_notice", |cal, ctx, today| {
        require_state(&ctx.r, &[RequestState::Open], "发出收费通知")?;
        not_future("on", on, today)?;
        if ctx.r.fee_scheme.is_some() {
            return Err(Error::Conflict("本申请已经发出过收费通知，一件申请只能适用一种计收方式".into()));
        }
        let form = FormWanted::parse(&ctx.r.form_wanted).unwrap_or(FormWanted::Other);
        let units = units.unwrap_or(nth);
        let amount = rules::fee(scheme, units, form).map_err(field_err)?;
        if amount == 0 {
            return Err(Error::field(
                "scheme",
                match scheme {
                    FeeScheme::PerRequest => format!("申请人本月第{units}件申请，未超过10件，不收费"),
                    FeeScheme::PerPage => format!("{units}页未超过30页，不收费"),
                },
            ));
        }
        let basis = match scheme {
            FeeScheme::PerRequest => format!("按件计收，申请人本月第{units}件申请"),
            FeeScheme::PerPage => format!("按量计收，共{units}页"),
        };
        let deadline = rules::fee_payment_deadline(cal, on);
        ctx.r.fee_scheme = Some(scheme.as_str().into());
        ctx.r.fee_units = Some(units as i64);
        ctx.r.fee_amount = Some(amount);
        ctx.r.state = RequestState::Fee.as_str().into();
        let mut lc = letter_ctx(&ctx.r, &ctx.org, on);
        lc["fee_basis"] = json!(basis);
        lc["fee_amount"] = json!(amount);
        lc["deadline"] = json!(letter::date_zh(deadline));
        let body = render_letter(&template, &lc)?;
        Ok(Change {
            text: format!(
                "发出收费通知（{}），{basis}，应缴{amount}元，缴费期限 {}；缴费期间不计入答复期限",
                format_date(on),
                format_date(deadline)
            ),
            public: true,
            new_steps: vec![step(StepKind::Fee, on, deadline, &basis)],
            letter: Some(("fee".into(), body)),
            ..Default::default()
        })
    })
    .await
}

pub async fn fee_paid(db: &Db, who: &Principal, ip: &str, id: i64, on: &str) -> Result<RequestRow> {
    let on = parse_field_date("on", on, "缴费日期")?;
    act(db, who, ip, id, "fee_paid", |_, ctx, today| {
        require_state(&ctx.r, &[RequestState::Fee], "登记缴费")?;
        let s = open_step(&ctx.steps, StepKind::Fee).ok_or_else(|| Error::Conflict("没有待缴费的通知".into()))?;
        let from = parse_date(&s.started_on).unwrap_or(on);
        rules::check_pause_end(from, on, today).map_err(|e| Error::field("on", e.message))?;
        if parse_date(&s.deadline_on).is_some_and(|dl| on > dl) {
            return Err(Error::field("on", format!("缴费期限已于 {} 届满，申请视为放弃", s.deadline_on)));
        }
        ctx.r.state = RequestState::Open.as_str().into();
        Ok(Change {
            text: format!("申请人已缴纳信息处理费（{}），恢复计算答复期限", format_date(on)),
            public: true,
            end_steps: vec![(s.id, format_date(on))],
            ..Default::default()
        })
    })
    .await
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct ExtensionForm {
    #[serde(default)]
    pub days: String,
    #[serde(default)]
    pub approver: String,
    #[serde(default)]
    pub approved_on: String,
    #[serde(default)]
    pub notified_on: String,
    #[serde(default)]
    pub reason: String,
}

/// Extension (Art. 33): once, at most 20 working days, approved by the head of the office
/// and notified to the applicant.
pub async fn extend(db: &Db, who: &Principal, ip: &str, id: i64, f: &ExtensionForm) -> Result<RequestRow> {
    let mut errs = FieldErrors::new();
    let days = f.days.trim().parse::<u32>().ok();
    if days.is_none() {
        errs.add("days", "请填写延长的工作日数（1至20）");
    }
    if f.approver.trim().is_empty() {
        errs.add("approver", "请填写批准延期的政府信息公开工作机构负责人");
    }
    if f.reason.trim().is_empty() {
        errs.add("reason", "请填写延期理由");
    }
    let approved = opt_date("approved_on", &f.approved_on, "批准日期");
    let notified = opt_date("notified_on", &f.notified_on, "告知申请人日期");
    for e in [approved.as_ref().err(), notified.as_ref().err()].into_iter().flatten() {
        if let Error::Invalid(fe) = e {
            for (k, m) in &fe.0 {
                errs.add(k, m.clone());
            }
        }
    }
    errs.into_result()?;
    let days = days.unwrap_or(0);
    let approved = approved?.ok_or_else(|| Error::field("approved_on", "请填写批准日期"))?;
    let notified = notified?.ok_or_else(|| Error::field("notified_on", "请填写告知申请人日期"))?;
    if notified < approved {
        return Err(Error::field("notified_on", "告知日期不能早于批准日期"));
    }
    let template = template_of(db, "extension").await?;
    let (approver, reason) = (f.approver.trim().to_string(), f.reason.trim().to_string());
    act(db, who, ip, id, "extension", |cal, ctx, today| {
        require_state(&ctx.r, &[RequestState::Open, RequestState::Consultation, RequestState::Fee], "延长答复期限")?;
        let clock = rules::clock(cal, &clock_input(&ctx.r, &ctx.steps));
        rules::check_extension(cal, clock.due, ctx.r.extension_days > 0, days, approved, today).map_err(|e| {
            let field = match e.field {
                "decided_on" => "approved_on",
                _ => "days",
            };
            Error::field(field, e.message)
        })?;
        not_future("notified_on", notified, today)?;
        ctx.r.extension_days = days as i64;
        ctx.r.extension = json!({ "approver": approver, "approved_on": format_date(approved), "notified_on": format_date(notified), "reason": reason }).to_string();
        let new_due = rules::clock(cal, &clock_input(&ctx.r, &ctx.steps)).due;
        let mut lc = letter_ctx(&ctx.r, &ctx.org, notified);
        lc["reason"] = json!(reason);
        lc["extension_days"] = json!(days);
        lc["due_on"] = json!(new_due.map(letter::date_zh).unwrap_or_else(|| "（征求意见或缴费结束后计算）".into()));
        let body = render_letter(&template, &lc)?;
        Ok(Change {
            text: format!("经{approver}批准（{}），答复期限延长{days}个工作日，{} 告知申请人", format_date(approved), format_date(notified)),
            public: true,
            letter: Some(("extension".into(), body)),
            ..Default::default()
        })
    })
    .await
}

/// Art. 35: a clearly excessive number or frequency of requests; a longer reasonable deadline.
pub async fn longer_deadline(
    db: &Db,
    who: &Principal,
    ip: &str,
    id: i64,
    due: &str,
    reason: &str,
) -> Result<RequestRow> {
    let due = parse_field_date("due", due, "答复期限")?;
    let reason = reason.trim().to_string();
    act(db, who, ip, id, "longer_deadline", |cal, ctx, _| {
        require_state(
            &ctx.r,
            &[RequestState::Open, RequestState::Consultation, RequestState::Fee],
            "确定合理答复期限",
        )?;
        let clock = rules::clock(cal, &clock_input(&ctx.r, &ctx.steps));
        rules::check_longer_due(clock.due, due, &reason)
            .map_err(|e| Error::field(if e.field == "reason" { "reason" } else { "due" }, e.message))?;
        ctx.r.longer_due_on = Some(format_date(due));
        ctx.r.longer_reason = reason.clone();
        Ok(Change {
            text: format!("申请数量、频次明显超过合理范围，依第三十五条确定答复期限为 {}：{reason}", format_date(due)),
            public: true,
            ..Default::default()
        })
    })
    .await
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct DecisionForm {
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub ground: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub withheld: String,
    #[serde(default)]
    pub decided_on: String,
}

/// The answer in legal terms; the report category follows.
pub fn check_decision(f: &DecisionForm) -> Result<(Answer, Option<Ground>, Outcome)> {
    let mut errs = FieldErrors::new();
    let answer = Answer::parse(f.answer.trim());
    if answer.is_none() {
        errs.add("answer", "请选择答复类型");
    }
    let ground = Ground::parse(f.ground.trim());
    if let Some(a) = answer {
        if a.needs_ground() && ground.is_none() {
            errs.add("ground", "请选择不予公开的理由");
        }
        if a.needs_reason() && f.reason.trim().is_empty() {
            errs.add(
                "reason",
                match a {
                    Answer::NotThisAgency => "请说明理由，能够确定负责公开的机关的，写明该机关的名称和联系方式",
                    Answer::AlreadyPublic => "请告知获取该信息的方式和途径",
                    _ => "请写明答复理由，理由将写入告知书",
                },
            );
        }
        if a == Answer::Partial && f.withheld.trim().is_empty() {
            errs.add("withheld", "部分公开的，请写明不予公开的部分");
        }
    }
    errs.into_result()?;
    let answer = answer.ok_or_else(|| Error::field("answer", "请选择答复类型"))?;
    let ground = if answer.needs_ground() { ground } else { None };
    let outcome = answer.outcome(ground).ok_or_else(|| Error::field("ground", "请选择不予公开的理由"))?;
    Ok((answer, ground, outcome))
}

pub async fn decide(db: &Db, who: &Principal, ip: &str, id: i64, f: &DecisionForm) -> Result<RequestRow> {
    let (answer, ground, outcome) = check_decision(f)?;
    let on = parse_field_date("decided_on", &f.decided_on, "答复日期")?;
    let (reason, withheld) = (f.reason.trim().to_string(), f.withheld.trim().to_string());
    act(db, who, ip, id, "decided", |_, ctx, today| {
        require_state(
            &ctx.r,
            &[RequestState::Open, RequestState::Correction, RequestState::Consultation, RequestState::Fee],
            "作出答复",
        )?;
        not_future("decided_on", on, today)?;
        if d(&ctx.r.received_on).is_some_and(|r| on < r) {
            return Err(Error::field("decided_on", "答复日期不能早于收到申请日期"));
        }
        match (state_of(&ctx.r), answer) {
            (RequestState::Correction, Answer::NoCorrection | Answer::StillUnclear)
            | (RequestState::Fee, Answer::NoPayment) => {}
            (RequestState::Correction, _) => {
                return Err(Error::field("answer", "申请人尚未补正，只能作“逾期不补正”或“补正后仍不明确”的处理"));
            }
            (RequestState::Fee, _) => {
                return Err(Error::field("answer", "申请人尚未缴费，请先登记缴费或作“逾期未缴费”处理"));
            }
            (_, Answer::NoPayment) => return Err(Error::field("answer", "本申请没有待缴的信息处理费")),
            (_, Answer::NoCorrection) => return Err(Error::field("answer", "本申请没有待补正的通知")),
            _ => {}
        }
        let ends = ctx.steps.iter().filter(|s| s.ended_on.is_none()).map(|s| (s.id, format_date(on))).collect();
        ctx.r.answer = Some(answer.as_str().into());
        ctx.r.ground = ground.map(|g| g.as_str().into());
        ctx.r.outcome = Some(outcome.as_str().into());
        ctx.r.reason = reason.clone();
        ctx.r.withheld = withheld.clone();
        ctx.r.decided_on = Some(format_date(on));
        ctx.r.decided_by = Some(who.user_id);
        ctx.r.state = RequestState::Decided.as_str().into();
        Ok(Change {
            text: format!("作出答复（{}）：{}", format_date(on), answer.label_zh()),
            public: true,
            end_steps: ends,
            ..Default::default()
        })
    })
    .await
}

/// The decision letter from the administrators' template for the answer.
pub async fn issue_letter(db: &Db, who: &Principal, ip: &str, id: i64) -> Result<RequestRow> {
    let (r, _) = load_for(db, who, id).await?;
    let answer = r
        .answer
        .as_deref()
        .and_then(Answer::parse)
        .ok_or_else(|| Error::Conflict("申请尚未作出答复，不能生成答复告知书".into()))?;
    let kind = letter::decision_kind(answer);
    let template = template_of(db, kind).await?;
    act(db, who, ip, id, "letter", |_, ctx, _| {
        let decided =
            d(&ctx.r.decided_on).ok_or_else(|| Error::Conflict("申请尚未作出答复，不能生成答复告知书".into()))?;
        let ground = ctx.r.ground.as_deref().and_then(Ground::parse);
        let mut lc = letter_ctx(&ctx.r, &ctx.org, decided);
        lc["answer"] = json!(answer.as_str());
        lc["answer_label"] = json!(answer.label_zh());
        lc["reason"] = json!(ctx.r.reason);
        lc["withheld"] = json!(ctx.r.withheld);
        lc["ground"] = json!(ground.map(|g| g.label_zh()).unwrap_or(""));
        lc["basis"] = json!(format!("《中华人民共和国政府信息公开条例》{}", answer.basis(ground)));
        let body = render_letter(&template, &lc)?;
        Ok(Change {
            text: format!("生成{}", letter::title_of(kind)),
            public: false,
            letter: Some((kind.into(), body)),
            ..Default::default()
        })
    })
    .await
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct DeliveryForm {
    #[serde(default)]
    pub delivered_on: String,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub reference: String,
}

pub async fn deliver(db: &Db, who: &Principal, ip: &str, id: i64, f: &DeliveryForm) -> Result<RequestRow> {
    let on = parse_field_date("delivered_on", &f.delivered_on, "送达日期")?;
    let method = f.method.trim().to_string();
    if method.is_empty() {
        return Err(Error::field("method", "请填写送达方式，例如 邮寄（EMS）、当面领取、电子邮件、网上获取"));
    }
    let reference = f.reference.trim().to_string();
    let has_letter = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        store::letters(&mut c, id).await?.iter().any(|l| l.kind.starts_with("decision"))
    };
    act(db, who, ip, id, "delivered", |_, ctx, today| {
        require_state(&ctx.r, &[RequestState::Decided], "登记送达")?;
        if !has_letter {
            return Err(Error::Conflict("请先生成答复告知书再登记送达".into()));
        }
        not_future("delivered_on", on, today)?;
        if d(&ctx.r.decided_on).is_some_and(|dd| on < dd) {
            return Err(Error::field("delivered_on", "送达日期不能早于答复日期"));
        }
        ctx.r.delivered_on = Some(format_date(on));
        ctx.r.delivery_method = method.clone();
        ctx.r.delivery_ref = reference.clone();
        let text = if reference.is_empty() {
            format!("答复告知书已送达（{}，{method}）", format_date(on))
        } else {
            format!("答复告知书已送达（{}，{method}，单号 {reference}）", format_date(on))
        };
        Ok(Change { text, public: true, ..Default::default() })
    })
    .await
}

/// A released document attached to a decided request.
pub async fn add_file(db: &Db, who: &Principal, ip: &str, id: i64, name: &str, data: Vec<u8>) -> Result<i64> {
    let name: String = name.trim().chars().filter(|c| !c.is_control() && !"/\\".contains(*c)).take(120).collect();
    if name.is_empty() || data.is_empty() {
        return Err(Error::field("file", "请选择要提供给申请人的文件"));
    }
    let content_type = match name.rsplit('.').next().map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("pdf") => "application/pdf",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("doc") => "application/msword",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("txt") => "text/plain; charset=utf-8",
        Some("zip") => "application/zip",
        _ => return Err(Error::field("file", "只能上传 PDF、Word、Excel、图片、文本或 ZIP 文件")),
    };
    let (r, org) = load_for(db, who, id).await?;
    if !may_handle(who, &org.path) {
        return Err(Error::Forbidden("只有受理机关的依申请公开经办人员可以办理".into()));
    }
    if r.state != RequestState::Decided.as_str() || !matches!(r.outcome.as_deref(), Some("1") | Some("2")) {
        return Err(Error::Conflict("只有予以公开或部分公开的申请可以上传提供的信息".into()));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let row = store::FileRow {
        id: 0,
        request_id: id,
        name: name.clone(),
        content_type: content_type.into(),
        size: data.len() as i64,
        sha256: audit::hex(&Sha256::digest(&data)),
        created_at: clock::now_ms(),
    };
    let fid = store::insert_file(&mut c, &row, &data, Some(who.user_id)).await?;
    record(&mut c, &who.actor(ip), &r, "file", &format!("提供信息文件：{name}"), true).await?;
    tx.commit().await?;
    Ok(fid)
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct ReviewForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub filed_on: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub result: String,
    #[serde(default)]
    pub concluded_on: String,
    #[serde(default)]
    pub note: String,
}

fn check_review(f: &ReviewForm, today: Date) -> Result<(ReviewKind, Date, ReviewResult, Option<Date>)> {
    let mut errs = FieldErrors::new();
    let kind = ReviewKind::parse(f.kind.trim());
    if kind.is_none() {
        errs.add("kind", "请选择复议或诉讼类型");
    }
    let result = ReviewResult::parse(f.result.trim());
    if result.is_none() {
        errs.add("result", "请选择结果");
    }
    if f.body.trim().is_empty() {
        errs.add("body", "请填写复议机关或受理法院");
    }
    let filed = match parse_field_date("filed_on", &f.filed_on, "立案（申请）日期") {
        Ok(v) => Some(v),
        Err(Error::Invalid(e)) => {
            for (k, m) in e.0 {
                errs.add(&k, m);
            }
            None
        }
        Err(e) => return Err(e),
    };
    let concluded = opt_date("concluded_on", &f.concluded_on, "审结日期").ok().flatten();
    if filed.is_some_and(|v| v > today) {
        errs.add("filed_on", "日期不能晚于今天");
    }
    match (result, concluded) {
        (Some(ReviewResult::Pending), Some(_)) => errs.add("concluded_on", "尚未审结的不填审结日期"),
        (Some(r), None) if r != ReviewResult::Pending => errs.add("concluded_on", "已有结果的，请填写审结日期"),
        (_, Some(c)) if filed.is_some_and(|fd| c < fd) || c > today => {
            errs.add("concluded_on", "审结日期应在立案日期之后且不晚于今天")
        }
        _ => {}
    }
    errs.into_result()?;
    match (kind, filed, result) {
        (Some(k), Some(fd), Some(r)) => Ok((k, fd, r, concluded)),
        _ => Err(Error::internal("validated review incomplete")),
    }
}

pub async fn add_review(db: &Db, who: &Principal, ip: &str, id: i64, f: &ReviewForm) -> Result<i64> {
    let (kind, filed, result, concluded) = check_review(f, clock::today())?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let ctx = begin_on(&mut c, who, id).await?;
    if ctx.r.state != RequestState::Decided.as_str() {
        return Err(Error::Conflict("申请尚未答复，不能登记复议或诉讼".into()));
    }
    let v = ReviewRow {
        id: 0,
        request_id: id,
        kind: kind.as_str().into(),
        filed_on: format_date(filed),
        body: f.body.trim().into(),
        result: result.as_str().into(),
        concluded_on: concluded.map(format_date),
        note: f.note.trim().into(),
        created_at: clock::now_ms(),
    };
    if store::reviews(&mut c, id)
        .await?
        .iter()
        .any(|x| x.kind == v.kind && x.filed_on == v.filed_on && x.body == v.body)
    {
        return Err(Error::Conflict("这条复议或诉讼记录已经登记过".into()));
    }
    let rid = store::insert_review(&mut c, &v, Some(who.user_id)).await?;
    record(
        &mut c,
        &who.actor(ip),
        &ctx.r,
        "review",
        &format!("登记{}（{}，{}）：{}", kind.label_zh(), v.filed_on, v.body, result.label_zh()),
        false,
    )
    .await?;
    tx.commit().await?;
    Ok(rid)
}

pub async fn update_review(db: &Db, who: &Principal, ip: &str, review_id: i64, f: &ReviewForm) -> Result<i64> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let v = store::review(&mut c, review_id).await?.ok_or(Error::NotFound)?;
    let mut f = f.clone();
    f.kind = v.kind.clone();
    f.filed_on = v.filed_on.clone();
    if f.body.trim().is_empty() {
        f.body = v.body.clone();
    }
    let (kind, _, result, concluded) = check_review(&f, clock::today())?;
    let ctx = begin_on(&mut c, who, v.request_id).await?;
    store::update_review(&mut c, review_id, result.as_str(), concluded.map(format_date).as_deref(), f.note.trim())
        .await?;
    record(
        &mut c,
        &who.actor(ip),
        &ctx.r,
        "review",
        &format!("更新{}结果：{}", kind.label_zh(), result.label_zh()),
        false,
    )
    .await?;
    tx.commit().await?;
    Ok(v.request_id)
}

/// Administrators edit a letter template; it is rendered against a sample first.
pub async fn save_template(db: &Db, who: &Principal, ip: &str, kind: &str, body: &str) -> Result<()> {
    if !who.has(Perm::SettingsManage) {
        return Err(Error::Forbidden("只有系统管理员可以修改告知书模板".into()));
    }
    letter::validate(kind, body).map_err(|e| Error::field("body", e))?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    store::put_template(&mut c, kind, body, Some(who.user_id)).await?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "foi.template",
        "foi_template",
        kind,
        json!({ "chars": body.chars().count() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What the sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sweep {
    pub checked: usize,
    pub redated: usize,
    pub reminded: usize,
    pub overdue: usize,
    pub abandoned: usize,
}

/// Reminder lead: working days before the due date.
pub const REMIND_DAYS: u32 = 3;

/// The job: re-date open requests on the current calendar, remind before the due date,
/// flag overdue requests, and close requests whose correction or payment period ran out
/// (视为放弃: table 三 rows （六）1 and 2). One transaction per request.
pub async fn sweep(db: &Db, today: Date) -> Result<Sweep> {
    let cal = gongkai_kernel::calendar::service::load(db).await?;
    let ids = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        store::open_ids(&mut c).await?
    };
    let actor = Actor::system("foi.sweep");
    let mut out = Sweep::default();
    for id in ids {
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        let Some(mut r) = store::get(&mut c, id, true).await? else { continue };
        if r.state == RequestState::Decided.as_str() {
            continue;
        }
        out.checked += 1;
        let steps = store::steps(&mut c, id).await?;
        let before = (r.due_on.clone(), r.overdue);
        refresh(&cal, &mut r, &steps, today);
        let mut events: Vec<(&str, String, bool)> = Vec::new();
        if r.due_on != before.0 && before.0.is_some() {
            out.redated += 1;
            events.push((
                "redated",
                format!(
                    "工作日历调整，答复期限由 {} 改为 {}",
                    before.0.clone().unwrap_or_default(),
                    r.due_on.clone().unwrap_or_else(|| "暂停计时".into())
                ),
                true,
            ));
        }
        // Abandonment after the correction or payment deadline.
        let lapsed = steps
            .iter()
            .rev()
            .find(|s| s.ended_on.is_none() && parse_date(&s.deadline_on).is_some_and(|dl| today > dl));
        let abandon = match (state_of(&r), lapsed.map(|s| s.kind.as_str())) {
            (RequestState::Correction, Some("correction")) => Some(Answer::NoCorrection),
            (RequestState::Fee, Some("fee")) => Some(Answer::NoPayment),
            _ => None,
        };
        if let (Some(answer), Some(s)) = (abandon, lapsed) {
            let on = parse_date(&s.deadline_on).and_then(|dl| dl.next_day()).unwrap_or(today);
            store::end_step(&mut c, s.id, &format_date(on)).await?;
            r.answer = Some(answer.as_str().into());
            r.outcome = answer.outcome(None).map(|o| o.as_str().into());
            r.reason = match answer {
                Answer::NoCorrection => format!("申请人未在补正期限（{}）内补正，视为放弃申请。", s.deadline_on),
                _ => format!("申请人未在缴费期限（{}）内缴纳信息处理费，视为放弃申请。", s.deadline_on),
            };
            r.decided_on = Some(format_date(on));
            r.state = RequestState::Decided.as_str().into();
            r.overdue = 0;
            out.abandoned += 1;
            events.push(("abandoned", r.reason.clone(), true));
        } else if r.overdue == 1 && before.1 == 0 {
            out.overdue += 1;
            events.push(("overdue", format!("已超过答复期限（{}）", r.due_on.clone().unwrap_or_default()), false));
        } else if let Some(due) = d(&r.due_on) {
            let left = cal.working_days_between(today, due);
            if today <= due && left <= REMIND_DAYS && r.reminded_due != r.due_on {
                r.reminded_due = r.due_on.clone();
                out.reminded += 1;
                events.push(("reminder", format!("距答复期限（{}）还有{left}个工作日", format_date(due)), false));
            }
        }
        if events.is_empty() && r.due_on == before.0 && r.overdue == before.1 {
            continue;
        }
        r.updated_at = clock::now_ms();
        store::save(&mut c, &r).await?;
        for (kind, text, public) in events {
            record(&mut c, &actor, &r, kind, &text, public).await?;
        }
        tx.commit().await?;
    }
    Ok(out)
}
