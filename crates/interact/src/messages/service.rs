//! Use cases of a message. Each is one transaction: load and lock the message, check who
//! acts and whether the step may follow, write it back with a timeline entry, an audit
//! entry and an outbox event. Deadlines are recomputed from the calendar on every change
//! and by the sweep, so a calendar edit re-dates every open message.

use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::Date;

use gongkai_kernel::audit::{self, Actor};
use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::calendar::rules::{Calendar, format_date, parse_date};
use gongkai_kernel::clock;
use gongkai_kernel::db::{Conn, Db, group};
use gongkai_kernel::error::{Error, FieldErrors, Result, is_unique_violation};
use gongkai_kernel::org::Org;
use gongkai_kernel::outbox;
use gongkai_kernel::site::Site;

use super::rules::{self, Addressee, ClockView, Step, SubmitForm, Upload};
use super::store::{self, MessageRow};
use super::{KINDS, RATINGS, REJECT_REASONS, State, is_word, label};
use crate::mask;

pub fn hash_password(p: &str) -> String {
    audit::hex(&Sha256::digest(p.trim().to_uppercase().as_bytes()))
}

/// What a principal may do on one message.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Access {
    /// The site's message desk: intake, assignment, review, sending, publication.
    pub desk: bool,
    /// A handler of the handling organisation: the reply, transfer, sending.
    pub handler: bool,
    /// A leader over the handling organisation: may review.
    pub leader: bool,
    pub supervisor: bool,
    /// Staff of the addressed organisation before assignment: may look, not act.
    pub viewer: bool,
}

impl Access {
    pub fn any(&self) -> bool {
        self.desk || self.handler || self.leader || self.supervisor || self.viewer
    }
}

/// A message with what decides access to it.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub m: MessageRow,
    pub site: Site,
    pub site_org: Option<Org>,
    pub addressee: Org,
    pub org: Option<Org>,
    pub access: Access,
}

pub fn may_desk(who: &Principal, site: &Site, site_org: Option<&Org>) -> bool {
    who.can(Perm::ContentReview, site_org.map(|o| o.path.as_str()), Some(site.id))
}

fn access(who: &Principal, site: &Site, site_org: Option<&Org>, addressee: &Org, org: Option<&Org>) -> Access {
    // Before assignment, the addressed organisation's staff see the message; after, the
    // handling organisation's.
    let scope = org.unwrap_or(addressee).path.as_str();
    let handling = org.map(|o| o.path.as_str());
    Access {
        desk: may_desk(who, site, site_org),
        handler: handling.is_some_and(|p| who.can(Perm::CaseHandle, Some(p), None)),
        leader: handling.is_some_and(|p| who.can(Perm::LeaderView, Some(p), None)),
        supervisor: who.can(Perm::Supervise, Some(scope), None),
        viewer: [Perm::CaseHandle, Perm::LeaderView].iter().any(|p| who.can(*p, Some(scope), None)),
    }
}

async fn org_of(c: &mut Conn<'_>, id: Option<i64>) -> Result<Option<Org>> {
    match id {
        Some(id) => gongkai_kernel::org::store::get(c, id).await,
        None => Ok(None),
    }
}

async fn ctx_of(c: &mut Conn<'_>, who: Option<&Principal>, m: MessageRow) -> Result<Ctx> {
    let site = gongkai_kernel::site::store::get(c, m.site_id).await?.ok_or(Error::NotFound)?;
    let site_org = org_of(c, site.org_id).await?;
    let addressee = org_of(c, Some(m.addressee_org_id)).await?.ok_or(Error::NotFound)?;
    let org = org_of(c, m.org_id).await?;
    let access = match who {
        Some(w) => access(w, &site, site_org.as_ref(), &addressee, org.as_ref()),
        None => Access::default(),
    };
    Ok(Ctx { m, site, site_org, addressee, org, access })
}

/// A message the principal may see (not found otherwise: its existence is personal data).
pub async fn load_for(db: &Db, who: &Principal, id: i64) -> Result<Ctx> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let m = store::get(&mut c, id, false).await?.ok_or(Error::NotFound)?;
    let ctx = ctx_of(&mut c, Some(who), m).await?;
    if !ctx.access.any() {
        return Err(Error::NotFound);
    }
    Ok(ctx)
}

/// Lock the message inside the transaction and check the principal may see it.
async fn begin_on(c: &mut Conn<'_>, who: &Principal, id: i64) -> Result<Ctx> {
    let m = store::get(c, id, true).await?.ok_or(Error::NotFound)?;
    let ctx = ctx_of(c, Some(who), m).await?;
    if !ctx.access.any() {
        return Err(Error::NotFound);
    }
    Ok(ctx)
}

fn state_of(m: &MessageRow) -> Result<State> {
    State::parse(&m.state).ok_or_else(|| Error::internal(format!("unknown message state {}", m.state)))
}

fn step(m: &mut MessageRow, s: Step) -> Result<()> {
    let next = rules::next(state_of(m)?, s).map_err(|e| Error::Conflict(e.into()))?;
    m.state = next.as_str().into();
    Ok(())
}

async fn record(c: &mut Conn<'_>, actor: &Actor, m: &MessageRow, kind: &str, text: &str, public: bool) -> Result<()> {
    store::add_event(c, m.id, actor, kind, text, public).await?;
    audit::append(
        c,
        actor,
        &format!("msg.{kind}"),
        "msg_message",
        m.id,
        json!({ "code": m.code, "state": m.state, "text": text }),
    )
    .await?;
    outbox::emit(c, "msg.message", m.id, json!({ "state": m.state, "site_id": m.site_id })).await?;
    Ok(())
}

async fn finish(
    c: &mut Conn<'_>,
    actor: &Actor,
    m: &mut MessageRow,
    kind: &str,
    text: &str,
    public: bool,
) -> Result<()> {
    m.updated_at = clock::now_ms();
    store::save(c, m).await?;
    record(c, actor, m, kind, text, public).await
}

/// Working days to answer a message of `kind` on the site.
pub async fn days_for(c: &mut Conn<'_>, site_id: i64, kind: &str) -> Result<u32> {
    let rows = store::deadlines(c, site_id).await?;
    Ok(rows.iter().find(|(k, _)| k == kind).and_then(|(_, d)| u32::try_from(*d).ok()).unwrap_or(rules::DEFAULT_DAYS))
}

fn clock_view(m: &MessageRow) -> Option<ClockView> {
    Some(ClockView {
        state: state_of(m).ok()?,
        submitted_on: parse_date(&m.submitted_on)?,
        accepted_on: m.accepted_on.as_deref().and_then(parse_date),
        due_days: m.due_days.and_then(|d| u32::try_from(d).ok()),
        reminded_due: m.reminded_due.as_deref().and_then(parse_date),
    })
}

/// Recompute the cached due date and flags (reminders are the sweep's).
fn refresh(cal: &Calendar, m: &mut MessageRow, today: Date) {
    if let Some(v) = clock_view(m) {
        let f = rules::flags(cal, &v, today);
        m.due_on = f.due.map(format_date);
        m.overdue = f.overdue as i64;
        m.alarm = f.alarm as i64;
    }
}

/// The explanation of the deadline shown on the detail page.
pub fn explain(cal: &Calendar, m: &MessageRow) -> Option<String> {
    let start = m.accepted_on.as_deref().and_then(parse_date)?;
    let days = u32::try_from(m.due_days?).ok()?;
    Some(rules::due(cal, start, days).to_zh())
}

/// The tracking code of a submission made on `on` with the idempotency key's derived part.
pub fn tracking_code(on: Date, suffix: &str) -> String {
    format!("LY{}{:02}{:02}-{suffix}", on.year(), on.month() as u8, on.day())
}

/// A tracking code lengthened by four characters derived from the idempotency key, for
/// the rare submission whose code another message drew first.
fn longer_code(code: &str, idem_key: &str) -> String {
    format!("{code}{}", gongkai_kernel::web::guard::readable_code(b"msg", "msg-code-longer", idem_key, 4))
}

pub fn idem_ok(key: &str) -> bool {
    (16..=64).contains(&key.len()) && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The form's fields and its attachments checked together, so one answer lists every error.
fn validate_all(f: &SubmitForm, files: &[Upload]) -> Result<(rules::Submission, Vec<rules::CheckedFile>)> {
    match (rules::validate(f), rules::check_files(files)) {
        (Ok(s), Ok(checked)) => Ok((s, checked)),
        (a, b) => {
            let mut errs = FieldErrors::new();
            for e in [a.err(), b.err()].into_iter().flatten() {
                match e {
                    Error::Invalid(fe) => errs.0.extend(fe.0),
                    other => return Err(other),
                }
            }
            Err(Error::Invalid(errs))
        }
    }
}

/// A checked public submission, ready to be written (alone or with others in one
/// transaction through the group commit: [`Submission`] is a group-commit unit).
pub struct Submission {
    m: MessageRow,
    files: Vec<(rules::CheckedFile, Vec<u8>)>,
}

/// The public form's checks and reads, before any write: validate the fields and files,
/// resolve the addressee and the site's review levels. `code` and `password` are derived
/// from the key by the caller, so a retry shows the same ones. A key stored before is
/// answered when writing (the public handler also looks it up before the captcha).
#[allow(clippy::too_many_arguments)]
pub async fn prepare(
    db: &Db,
    site: &Site,
    f: &SubmitForm,
    files: Vec<Upload>,
    idem_key: &str,
    code: &str,
    password: &str,
    ip: &str,
) -> Result<Submission> {
    let (s, checked) = validate_all(f, &files)?;
    let idem_key = idem_key.trim();
    if !idem_ok(idem_key) {
        return Err(Error::field("idem", "表单已失效，请刷新页面后重新提交"));
    }
    let mut h = db.read().await?;
    let mut c = h.conn();
    let addressee_org_id = match s.addressee {
        Addressee::Leader => site.org_id.ok_or_else(|| Error::field("addressee", "本网站未设置领导信箱"))?,
        Addressee::Org(id) => {
            org_of(&mut c, Some(id)).await?.ok_or_else(|| Error::field("addressee", "留言对象不存在"))?.id
        }
    };
    let review_levels = store::review_levels(&mut c, site.id).await?;
    let now = clock::now_ms();
    let m = MessageRow {
        code: code.to_string(),
        access_hash: hash_password(password),
        idem_key: Some(idem_key.to_string()),
        site_id: site.id,
        kind: s.kind,
        addressee: if s.addressee == Addressee::Leader { "leader".into() } else { "org".into() },
        addressee_org_id,
        title: s.title,
        content: s.content,
        name: s.name,
        phone: s.phone,
        email: s.email,
        agree_publish: s.agree as i64,
        state: State::Submitted.as_str().into(),
        submitted_on: format_date(clock::today()),
        review_levels,
        ip: ip.chars().take(64).collect(),
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    let files = checked.into_iter().zip(files).map(|(ck, u)| (ck, u.data)).collect();
    Ok(Submission { m, files })
}

impl Submission {
    fn key(&self) -> &str {
        self.m.idem_key.as_deref().unwrap_or_default()
    }

    /// The message, its timeline entry and its files; only database errors after the checks.
    async fn write_in(&self, c: &mut Conn<'_>) -> Result<MessageRow> {
        let mut m = self.m.clone();
        m.id = store::insert(c, &m).await?;
        let actor = Actor {
            user_id: None,
            name: "留言人（网上提交）".into(),
            role: "public".into(),
            org_id: None,
            ip: m.ip.clone(),
        };
        record(c, &actor, &m, "submitted", "通过网站提交留言，等待受理", true).await?;
        for (ck, data) in &self.files {
            let meta = store::FileRow {
                id: 0,
                message_id: m.id,
                name: ck.name.clone(),
                content_type: ck.content_type.into(),
                size: i64::try_from(data.len()).map_err(Error::internal)?,
                sha256: audit::hex(&Sha256::digest(data)),
                created_at: m.created_at,
            };
            let fid = store::insert_file(c, &meta, data).await?;
            let detail = json!({ "code": m.code, "name": meta.name, "size": meta.size, "sha256": meta.sha256 });
            audit::append(c, &actor, "msg.file_added", "msg_file", fid, detail).await?;
        }
        Ok(m)
    }

    /// Written in its own transaction: the message, and false when its key was stored
    /// before (nothing created, no file stored again).
    pub async fn write(mut self, db: &Db) -> Result<(MessageRow, bool)> {
        let mut lengthened = false;
        loop {
            let mut tx = db.begin().await?;
            match self.write_in(&mut tx.conn()).await {
                Ok(m) => {
                    tx.commit().await?;
                    return Ok((m, true));
                }
                Err(e) if is_unique_violation(&e) => {
                    drop(tx);
                    let mut h = db.read().await?;
                    // The same key submitted at the same moment on another connection: that one won.
                    if let Some(m) = store::by_idem_key(&mut h.conn(), self.key()).await? {
                        return Ok((m, false));
                    }
                    // Another message drew the same tracking code (its derived part is short
                    // to read out): lengthen it, the same way for every retry of this key.
                    if lengthened {
                        return Err(e);
                    }
                    self.m.code = longer_code(&self.m.code, self.key());
                    lengthened = true;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl group::Unit for Submission {
    type Out = (MessageRow, bool);

    fn key(&self) -> Option<&str> {
        Some(Submission::key(self))
    }

    async fn write(&self, c: &mut Conn<'_>) -> Result<(MessageRow, bool)> {
        self.write_in(c).await.map(|m| (m, true))
    }

    async fn alone(self, db: &Db) -> Result<(MessageRow, bool)> {
        // Stored meanwhile (a repeated key in the batch): answer from the stored row.
        let stored = {
            let mut h = db.read().await?;
            store::by_idem_key(&mut h.conn(), Submission::key(&self)).await?
        };
        match stored {
            Some(m) => Ok((m, false)),
            None => Submission::write(self, db).await,
        }
    }

    async fn stored(db: &Db, keys: &[String]) -> Result<Vec<String>> {
        let mut h = db.read().await?;
        group::stored_keys(&mut h.conn(), "msg_messages", "idem_key", keys).await
    }
}

fn need(ok: bool, what: &str) -> Result<()> {
    if ok { Ok(()) } else { Err(Error::Forbidden(what.into())) }
}

const DESK: &str = "只有本网站留言办理（审核）人员可以操作";

/// 受理: the deadline starts from today.
pub async fn accept(db: &Db, who: &Principal, ip: &str, id: i64) -> Result<MessageRow> {
    let cal = gongkai_kernel::calendar::service::load(db).await?;
    let today = clock::today();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut ctx = begin_on(&mut c, who, id).await?;
    need(ctx.access.desk, DESK)?;
    step(&mut ctx.m, Step::Accept)?;
    let days = days_for(&mut c, ctx.m.site_id, &ctx.m.kind).await?;
    ctx.m.accepted_on = Some(format_date(today));
    ctx.m.due_days = Some(i64::from(days));
    refresh(&cal, &mut ctx.m, today);
    let text = format!("留言已受理，办理期限{days}个工作日（{}前）", ctx.m.due_on.clone().unwrap_or_default());
    finish(&mut c, &who.actor(ip), &mut ctx.m, "accepted", &text, true).await?;
    tx.commit().await?;
    Ok(ctx.m)
}

/// 不予受理, with a reason from the list (and a note, required for 其他).
pub async fn reject(db: &Db, who: &Principal, ip: &str, id: i64, reason: &str, note: &str) -> Result<MessageRow> {
    let reason = reason.trim();
    let note = rules::clean(note);
    if !is_word(REJECT_REASONS, reason) {
        return Err(Error::field("reason", "请选择不予受理的理由"));
    }
    if reason == "other" && note.is_empty() {
        return Err(Error::field("note", "选择“其他”时请说明理由"));
    }
    if note.chars().count() > rules::NOTE_MAX {
        return Err(Error::field("note", format!("说明不能超过{}个字", rules::NOTE_MAX)));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut ctx = begin_on(&mut c, who, id).await?;
    need(ctx.access.desk, DESK)?;
    step(&mut ctx.m, Step::Reject)?;
    ctx.m.reject_reason = Some(reason.into());
    ctx.m.reject_note = note.clone();
    ctx.m.alarm = 0;
    let text = if note.is_empty() {
        format!("不予受理：{}", label(REJECT_REASONS, reason))
    } else {
        format!("不予受理：{}（{note}）", label(REJECT_REASONS, reason))
    };
    finish(&mut c, &who.actor(ip), &mut ctx.m, "rejected", &text, true).await?;
    tx.commit().await?;
    Ok(ctx.m)
}

/// 交办 to an organisation, or 转办 from the handling one to another (with the note kept
/// on the timeline). The desk assigns and transfers; a handler may pass a message on.
pub async fn assign(db: &Db, who: &Principal, ip: &str, id: i64, org_id: &str, note: &str) -> Result<MessageRow> {
    let target = org_id.trim().parse::<i64>().map_err(|_| Error::field("org_id", "请选择承办单位"))?;
    let note = rules::clean(note);
    if note.chars().count() > rules::NOTE_MAX {
        return Err(Error::field("note", format!("说明不能超过{}个字", rules::NOTE_MAX)));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut ctx = begin_on(&mut c, who, id).await?;
    need(ctx.access.desk || ctx.access.handler, "只有留言办理人员或承办单位经办人可以交办、转办")?;
    let to = org_of(&mut c, Some(target)).await?.ok_or_else(|| Error::field("org_id", "承办单位不存在"))?;
    if ctx.m.org_id == Some(to.id) {
        return Err(Error::field("org_id", "已由该单位办理，请选择其他单位"));
    }
    let transfer = ctx.org.is_some();
    if transfer && note.is_empty() {
        return Err(Error::field("note", "转办时请说明理由"));
    }
    step(&mut ctx.m, Step::Assign)?;
    ctx.m.org_id = Some(to.id);
    let (kind, text) = match &ctx.org {
        Some(from) => ("transferred", format!("由{}转办至{}：{note}", from.name, to.name)),
        None if note.is_empty() => ("assigned", format!("交办至{}", to.name)),
        None => ("assigned", format!("交办至{}：{note}", to.name)),
    };
    finish(&mut c, &who.actor(ip), &mut ctx.m, kind, &text, false).await?;
    store::add_event(&mut c, ctx.m.id, &who.actor(ip), "public_note", &format!("已交由{}办理", to.name), true).await?;
    tx.commit().await?;
    Ok(ctx.m)
}

/// The handler's reply draft; it goes to review.
pub async fn draft(db: &Db, who: &Principal, ip: &str, id: i64, reply: &str) -> Result<MessageRow> {
    let reply = rules::clean(reply);
    if reply.is_empty() {
        return Err(Error::field("reply", "请填写答复内容"));
    }
    if reply.chars().count() > rules::REPLY_MAX {
        return Err(Error::field("reply", format!("答复内容不能超过{}个字", rules::REPLY_MAX)));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut ctx = begin_on(&mut c, who, id).await?;
    need(ctx.access.handler, "只有承办单位的经办人可以起草答复")?;
    step(&mut ctx.m, Step::Draft)?;
    ctx.m.reply = reply;
    ctx.m.reply_by = Some(who.user_id);
    ctx.m.replied_at = Some(clock::now_ms());
    ctx.m.review_levels = store::review_levels(&mut c, ctx.m.site_id).await?.clamp(1, 2);
    ctx.m.review_passed = 0;
    ctx.m.review1_by = None;
    let text = format!("提交答复，待{}级审核", ctx.m.review_levels);
    finish(&mut c, &who.actor(ip), &mut ctx.m, "replied", &text, false).await?;
    tx.commit().await?;
    Ok(ctx.m)
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct ReviewForm {
    /// "approve" or "back".
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub note: String,
    /// "1" when the reply may be published (only asked at the last level).
    #[serde(default)]
    pub publish: String,
}

/// One review level: approve (at the last level, choosing whether to publish) or send
/// back with a note. The second level is someone other than the first.
pub async fn review(db: &Db, who: &Principal, ip: &str, id: i64, f: &ReviewForm) -> Result<MessageRow> {
    let note = rules::clean(&f.note);
    if note.chars().count() > rules::NOTE_MAX {
        return Err(Error::field("note", format!("审核意见不能超过{}个字", rules::NOTE_MAX)));
    }
    let approve = match f.decision.trim() {
        "approve" => true,
        "back" => false,
        _ => return Err(Error::field("decision", "请选择审核结果")),
    };
    if !approve && note.is_empty() {
        return Err(Error::field("note", "退回时请写明修改意见"));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut ctx = begin_on(&mut c, who, id).await?;
    need(ctx.access.desk || ctx.access.leader, "只有留言审核人员或承办单位领导可以审核答复")?;
    let actor = who.actor(ip);
    if approve {
        let level = ctx.m.review_passed + 1;
        if level >= 2 && ctx.m.review1_by == Some(who.user_id) {
            return Err(Error::Conflict("第二级审核须由另一位审核人完成".into()));
        }
        if ctx.m.reply_by == Some(who.user_id) {
            return Err(Error::Conflict("不能审核自己起草的答复".into()));
        }
        let last = level >= ctx.m.review_levels;
        step(&mut ctx.m, Step::Approve { last })?;
        ctx.m.review_passed = level;
        if level == 1 {
            ctx.m.review1_by = Some(who.user_id);
        }
        let mut text = format!("第{level}级审核通过");
        if last {
            ctx.m.publish_ok = matches!(f.publish.trim(), "1" | "on") as i64;
            text.push_str(if ctx.m.publish_ok == 1 { "，同意公开" } else { "，不公开" });
        }
        if !note.is_empty() {
            text.push_str(&format!("：{note}"));
        }
        finish(&mut c, &actor, &mut ctx.m, "reviewed", &text, false).await?;
    } else {
        step(&mut ctx.m, Step::SendBack)?;
        ctx.m.review_passed = 0;
        ctx.m.review1_by = None;
        ctx.m.publish_ok = 0;
        finish(&mut c, &actor, &mut ctx.m, "sent_back", &format!("审核退回：{note}"), false).await?;
    }
    tx.commit().await?;
    Ok(ctx.m)
}

/// Send the reviewed reply to the writer: the clock stops.
pub async fn send(db: &Db, who: &Principal, ip: &str, id: i64) -> Result<MessageRow> {
    let today = clock::today();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut ctx = begin_on(&mut c, who, id).await?;
    need(ctx.access.desk || ctx.access.handler, "只有留言办理人员或承办单位经办人可以发送答复")?;
    step(&mut ctx.m, Step::Send)?;
    ctx.m.sent_on = Some(format_date(today));
    ctx.m.reply_org = ctx.org.as_ref().map(|o| o.name.clone()).unwrap_or_default();
    ctx.m.overdue = 0;
    ctx.m.alarm = 0;
    let late = ctx.m.due_on.as_deref().and_then(parse_date).is_some_and(|d| today > d);
    let text = if late { "答复已发送（超过办理期限）" } else { "答复已发送" };
    finish(&mut c, &who.actor(ip), &mut ctx.m, "sent", text, true).await?;
    tx.commit().await?;
    Ok(ctx.m)
}

/// The public version: title, content and reply with personal data masked.
pub fn masked(m: &MessageRow) -> (String, String, String) {
    let names = [m.name.as_str()];
    (mask::mask_text(&m.title, &names), mask::mask_text(&m.content, &names), mask::mask_text(&m.reply, &names))
}

/// Publish a sent reply: only when the writer agreed and the reviewer chose to.
pub async fn publish(db: &Db, who: &Principal, ip: &str, id: i64) -> Result<MessageRow> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut ctx = begin_on(&mut c, who, id).await?;
    need(ctx.access.desk, DESK)?;
    if ctx.m.agree_publish != 1 {
        return Err(Error::Conflict("留言人未同意公开，不能公开".into()));
    }
    if ctx.m.publish_ok != 1 {
        return Err(Error::Conflict("审核时未同意公开，不能公开".into()));
    }
    step(&mut ctx.m, Step::Publish)?;
    let (t, body, reply) = masked(&ctx.m);
    ctx.m.public_title = t;
    ctx.m.public_content = body;
    ctx.m.public_reply = reply;
    ctx.m.published_on = Some(format_date(clock::today()));
    finish(&mut c, &who.actor(ip), &mut ctx.m, "published", "答复已在网站公开（个人信息已隐去）", true).await?;
    tx.commit().await?;
    Ok(ctx.m)
}

/// 督办: a supervisor's reminder or instruction on the timeline.
pub async fn supervise(db: &Db, who: &Principal, ip: &str, id: i64, kind: &str, text: &str) -> Result<MessageRow> {
    let text = rules::clean(text);
    let what = match kind.trim() {
        "remind" => "催办",
        "instruct" => "督办指示",
        _ => return Err(Error::field("kind", "请选择督办方式")),
    };
    if text.is_empty() {
        return Err(Error::field("text", "请填写督办内容"));
    }
    if text.chars().count() > rules::NOTE_MAX {
        return Err(Error::field("text", format!("督办内容不能超过{}个字", rules::NOTE_MAX)));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut ctx = begin_on(&mut c, who, id).await?;
    need(ctx.access.supervisor, "只有督办人员可以督办")?;
    if state_of(&ctx.m)?.is_answered() {
        return Err(Error::Conflict("该留言已经答复，无需督办".into()));
    }
    ctx.m.supervised += 1;
    finish(&mut c, &who.actor(ip), &mut ctx.m, "supervised", &format!("{what}：{text}"), false).await?;
    tx.commit().await?;
    Ok(ctx.m)
}

fn writer(ip: &str) -> Actor {
    Actor { user_id: None, name: "留言人".into(), role: "public".into(), org_id: None, ip: ip.into() }
}

/// The writer rates the reply, once.
pub async fn rate(db: &Db, id: i64, rating: &str, ip: &str) -> Result<MessageRow> {
    let rating = rating.trim();
    if !is_word(RATINGS, rating) {
        return Err(Error::field("rating", "请选择满意度"));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut m = store::get(&mut c, id, true).await?.ok_or(Error::NotFound)?;
    if !matches!(state_of(&m)?, State::Sent | State::Published) {
        return Err(Error::Conflict("留言答复后才能评价".into()));
    }
    if m.rating.is_some() {
        return Err(Error::Conflict("您已经评价过这条答复，每条留言只能评价一次".into()));
    }
    m.rating = Some(rating.into());
    m.rated_at = Some(clock::now_ms());
    finish(&mut c, &writer(ip), &mut m, "rated", &format!("留言人评价：{}", label(RATINGS, rating)), true).await?;
    tx.commit().await?;
    Ok(m)
}

/// The writer's one follow-up message after the reply.
pub async fn follow_up(db: &Db, id: i64, text: &str, ip: &str) -> Result<MessageRow> {
    let text = rules::clean(text);
    if text.is_empty() {
        return Err(Error::field("followup", "请填写追问内容"));
    }
    if text.chars().count() > 1000 {
        return Err(Error::field("followup", "追问内容不能超过1000个字"));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut m = store::get(&mut c, id, true).await?.ok_or(Error::NotFound)?;
    if !matches!(state_of(&m)?, State::Sent | State::Published) {
        return Err(Error::Conflict("留言答复后才能追问".into()));
    }
    if m.followup_at.is_some() {
        return Err(Error::Conflict("每条留言只能追问一次".into()));
    }
    m.followup = text;
    m.followup_at = Some(clock::now_ms());
    finish(&mut c, &writer(ip), &mut m, "followup", "留言人提交了追问", true).await?;
    tx.commit().await?;
    Ok(m)
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub review_levels: String,
    #[serde(default)]
    pub consult: String,
    #[serde(default)]
    pub suggest: String,
    #[serde(default)]
    pub complain: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub other: String,
}

impl SettingsForm {
    pub fn days(&self, kind: &str) -> &str {
        match kind {
            "consult" => &self.consult,
            "suggest" => &self.suggest,
            "complain" => &self.complain,
            "help" => &self.help,
            _ => &self.other,
        }
    }
}

/// A site's review levels (1 or 2) and deadlines per type (blank: the default).
pub async fn save_settings(db: &Db, who: &Principal, ip: &str, site_id: i64, f: &SettingsForm) -> Result<()> {
    if !who.has(Perm::SettingsManage) {
        return Err(Error::Forbidden("只有系统管理员可以修改留言设置".into()));
    }
    let mut errs = FieldErrors::new();
    let levels = match f.review_levels.trim() {
        "1" => 1,
        "2" => 2,
        _ => {
            errs.add("review_levels", "审核级数只能是1或2");
            1
        }
    };
    let mut days: Vec<(&str, Option<i64>)> = Vec::new();
    for (k, l) in KINDS {
        let v = f.days(k).trim();
        if v.is_empty() {
            days.push((k, None));
        } else {
            match v.parse::<i64>() {
                Ok(d) if (1..=60).contains(&d) => days.push((k, Some(d))),
                _ => errs.add(k, format!("{l}的办理期限应为1到60之间的工作日数")),
            }
        }
    }
    errs.into_result()?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    gongkai_kernel::site::store::get(&mut c, site_id).await?.ok_or(Error::NotFound)?;
    store::set_review_levels(&mut c, site_id, levels).await?;
    for (k, d) in &days {
        store::set_deadline(&mut c, site_id, k, *d).await?;
    }
    audit::append(
        &mut c,
        &who.actor(ip),
        "msg.settings",
        "site",
        site_id,
        json!({ "review_levels": levels, "days": days.iter().map(|(k, d)| json!([k, d])).collect::<Vec<_>>() }),
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
    pub alarmed: usize,
}

/// The job: re-date open messages on the current calendar, remind one working day before
/// the due date, flag overdue messages and raise the 3-month alarm. The open messages are
/// read once; only those that change are written, each re-read under the write lock (a
/// step taken meanwhile wins), in transactions of up to 100, so the single writer is not
/// held once per open message.
pub async fn sweep(db: &Db, today: Date) -> Result<Sweep> {
    let cal = gongkai_kernel::calendar::service::load(db).await?;
    let open = {
        let mut h = db.read().await?;
        store::open_messages(&mut h.conn()).await?
    };
    let mut out = Sweep { checked: open.iter().filter(|m| clock_view(m).is_some()).count(), ..Default::default() };
    let changing: Vec<i64> = open.iter().filter(|m| swept(&cal, m, today).is_some()).map(|m| m.id).collect();
    drop(open);
    let actor = Actor::system("msg.sweep");
    for ids in changing.chunks(100) {
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        for &id in ids {
            let Some(m) = store::get(&mut c, id, true).await? else { continue };
            let Some((m, events)) = swept(&cal, &m, today) else { continue };
            for (kind, _) in &events {
                match *kind {
                    "redated" => out.redated += 1,
                    "overdue" => out.overdue += 1,
                    "alarm" => out.alarmed += 1,
                    _ => out.reminded += 1,
                }
            }
            store::save(&mut c, &m).await?;
            for (kind, text) in events {
                record(&mut c, &actor, &m, kind, &text, false).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(out)
}

/// What the sweep changes on one message: the message as it should be and its timeline
/// entries ("redated", "overdue", "alarm", "reminder"); None when nothing changes.
fn swept(cal: &Calendar, before: &MessageRow, today: Date) -> Option<(MessageRow, Vec<(&'static str, String)>)> {
    let view = clock_view(before)?;
    let f = rules::flags(cal, &view, today);
    let mut m = before.clone();
    let mut events: Vec<(&'static str, String)> = Vec::new();
    let due = f.due.map(format_date);
    if view.state.clock_runs() && due != m.due_on && m.due_on.is_some() {
        events.push((
            "redated",
            format!(
                "工作日历调整，办理期限由{}改为{}",
                m.due_on.clone().unwrap_or_default(),
                due.clone().unwrap_or_default()
            ),
        ));
    }
    if view.state.clock_runs() {
        m.due_on = due;
    }
    m.overdue = f.overdue as i64;
    m.alarm = f.alarm as i64;
    if f.overdue && before.overdue == 0 {
        events.push(("overdue", format!("已超过办理期限（{}）", m.due_on.clone().unwrap_or_default())));
    }
    if f.alarm && before.alarm == 0 {
        events.push(("alarm", format!("提交已满{}天仍未答复：三个月未答复预警，请立即办理", rules::ALARM_DAYS)));
    }
    if f.remind {
        m.reminded_due = m.due_on.clone();
        events.push(("reminder", format!("办理期限（{}）将至，请抓紧办理", m.due_on.clone().unwrap_or_default())));
    }
    if events.is_empty() && m.due_on == before.due_on && m.overdue == before.overdue && m.alarm == before.alarm {
        return None;
    }
    m.updated_at = clock::now_ms();
    Some((m, events))
}
