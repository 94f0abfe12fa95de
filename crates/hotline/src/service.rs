//! Use cases of a work order. Each is one transaction: load and lock the order with its
//! legs, check who acts and whether the step may follow, change it in memory (`act`'s
//! closure is pure), write it back with timeline entries and an audit entry.
//!
//! Who acts (checked here):
//! - the centre (12345 热线中心) — `Perm::HotlineIntake`: intake, 直接答复, dispatch, extension
//!   decisions, review, callback, closing, merging, 催办;
//! - handlers — `Perm::CaseHandle` over a leg's organisation: 签收, 退单, 延期 requests, replies;
//! - supervisors — `Perm::Supervise` over a leg's organisation: 催办 and 督办;
//! - leaders — `Perm::LeaderView` over a leg's organisation: 领导批办.
//!
//! Caller identity is seen by the centre and the order's handlers only; everyone else sees
//! it masked, and every view of a confidential order is audited.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use gongkai_kernel::audit::{self, Actor};
use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::calendar::rules::{Calendar, OfficeHours};
use gongkai_kernel::clock::{self, fmt_date, ms_to_local};
use gongkai_kernel::db::{Backend, Conn, Db};
use gongkai_kernel::error::{Error, FieldErrors, Result, is_unique_violation};
use gongkai_kernel::org::Org;

use crate::model::{Channel, LegRole, LegState, OrderState, Satisfaction};
use crate::rules::{self, Limit, Limits, SlaRow};
use crate::store::{self, Brief, ClientRow, EventRow, LegRow, NewEvent, OrderKey, OrderRow};

/// Who is acting.
#[derive(Clone, Copy)]
pub enum By<'a> {
    Staff(&'a Principal, &'a str),
    /// A gateway or Open311 client, authenticated by its key.
    Client(&'a ClientRow, &'a str),
    /// The portal's public form.
    Public(&'a str),
}

impl By<'_> {
    pub fn actor(&self) -> Actor {
        match self {
            By::Staff(p, ip) => p.actor(ip),
            By::Client(c, ip) => Actor {
                user_id: None,
                name: format!("接口：{}", c.name),
                role: "client".into(),
                org_id: None,
                ip: ip.to_string(),
            },
            By::Public(ip) => Actor {
                user_id: None,
                name: "网站访客".into(),
                role: "public".into(),
                org_id: None,
                ip: ip.to_string(),
            },
        }
    }
}

/// What the intake needs; the web form, the inbound gateway and Open311 each fill it.
#[derive(Debug, Clone, Default)]
pub struct Intake {
    pub idem_key: Option<String>,
    pub channel: String,
    pub caller_name: String,
    pub caller_phone: String,
    pub caller_email: String,
    pub anonymous: bool,
    pub confidential: bool,
    pub kind: String,
    /// A category code; "" when not yet classified.
    pub category: String,
    pub urgency: String,
    pub tags: Vec<String>,
    pub title: String,
    pub content: String,
    pub address: String,
    pub place_id: Option<i64>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// Open311 attribute values (a JSON object).
    pub attributes: serde_json::Value,
    pub media_url: String,
    /// Numbers of related orders (关联工单).
    pub related: Vec<String>,
    /// A location is required (Open311: one of lat/long, address_string, address_id).
    pub location_required: bool,
    /// Issue an Open311 token.
    pub with_token: bool,
}

/// The outcome of an intake: the order, and whether this call created it (false when the
/// idempotency key had been seen).
#[derive(Debug, Clone)]
pub struct Intaken {
    pub order: OrderRow,
    pub created: bool,
}

fn random_token() -> String {
    gongkai_kernel::random_token::<12>()
}

/// Checks an intake against the reference tables; returns the category and place rows.
async fn check_intake(
    c: &mut Conn<'_>,
    i: &Intake,
) -> Result<(Option<store::CategoryRow>, Option<store::PlaceRow>, Vec<OrderRow>)> {
    let mut e = rules::validate_intake(&rules::IntakeCheck {
        channel: &i.channel,
        kind: &i.kind,
        urgency: &i.urgency,
        title: &i.title,
        content: &i.content,
        caller_phone: &i.caller_phone,
        anonymous: i.anonymous,
        has_location: !i.address.trim().is_empty() || i.place_id.is_some() || (i.lat.is_some() && i.lng.is_some()),
        location_required: i.location_required,
    });
    let category = if i.category.trim().is_empty() {
        None
    } else {
        match store::category_by_code(c, i.category.trim()).await? {
            Some(cat) if cat.active == 1 => Some(cat),
            _ => {
                e.add("category", "事项分类不存在或已停用");
                None
            }
        }
    };
    let place = match i.place_id {
        None => None,
        Some(id) => {
            let p = store::place(c, id).await?;
            if p.is_none() {
                e.add("place_id", "所选街道社区不存在");
            }
            p
        }
    };
    if let Some(lat) = i.lat
        && !(-90.0..=90.0).contains(&lat)
    {
        e.add("lat", "纬度应在 -90 到 90 之间");
    }
    if let Some(lng) = i.lng
        && !(-180.0..=180.0).contains(&lng)
    {
        e.add("long", "经度应在 -180 到 180 之间");
    }
    if i.lat.is_some() != i.lng.is_some() {
        e.add("lat", "经纬度需同时填写");
    }
    for t in &i.tags {
        if t.chars().count() > 20 || t.contains(',') {
            e.add("tags", "每个标签不超过 20 个字");
            break;
        }
    }
    if i.caller_email.len() > 200 || (!i.caller_email.is_empty() && !i.caller_email.contains('@')) {
        e.add("caller_email", "电子邮箱格式不正确");
    }
    if i.caller_name.chars().count() > 50 {
        e.add("caller_name", "姓名不能超过 50 个字");
    }
    if i.address.chars().count() > 200 {
        e.add("address", "地址不能超过 200 个字");
    }
    if i.media_url.len() > 1000 || (!i.media_url.is_empty() && !i.media_url.starts_with("http")) {
        e.add("media_url", "图片地址应以 http:// 或 https:// 开头");
    }
    let mut related = Vec::new();
    for no in i.related.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match store::order_by(c, OrderKey::No, no).await? {
            Some(o) => related.push(o),
            None => {
                e.add("related", format!("关联工单 {no} 不存在"));
                break;
            }
        }
    }
    e.into_result()?;
    Ok((category, place, related))
}

/// 受理: a new order in state `received` (or the existing one for a seen idempotency key).
pub async fn intake(db: &Db, by: By<'_>, i: Intake) -> Result<Intaken> {
    if let By::Staff(p, _) = by
        && !p.has(Perm::HotlineIntake)
    {
        return Err(Error::Forbidden("只有热线中心坐席可以受理工单".into()));
    }
    if let Some(o) = seen(db, i.idem_key.as_deref()).await? {
        return Ok(Intaken { order: o, created: false });
    }
    let k = {
        let mut h = db.read().await?;
        check(&mut h.conn(), by, &i).await?
    };
    intake_checked(db, k).await
}

/// The order stored for an idempotency key.
pub async fn seen(db: &Db, key: Option<&str>) -> Result<Option<OrderRow>> {
    let Some(k) = key.filter(|k| !k.is_empty()) else { return Ok(None) };
    let mut h = db.read().await?;
    store::order_by(&mut h.conn(), OrderKey::Idem, k).await
}

/// A checked intake in its own transaction (the caller looked its key up); a concurrent
/// retry that stored the key first gets that order.
pub async fn intake_checked(db: &Db, k: Checked) -> Result<Intaken> {
    let mut tx = db.begin().await?;
    match write_checked(&mut tx.conn(), &[&k]).await {
        Ok(mut v) => {
            tx.commit().await?;
            let order = v.pop().ok_or_else(|| Error::Internal("受理未写入".into()))?;
            Ok(Intaken { order, created: true })
        }
        Err(e) if is_unique_violation(&e) && k.order.idem_key.is_some() => {
            drop(tx);
            // A concurrent retry with the same key won: return its order.
            match seen(db, k.order.idem_key.as_deref()).await? {
                Some(o) => Ok(Intaken { order: o, created: false }),
                None => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// An intake that passed its checks: the order it makes (without its id and number yet),
/// the related orders and who submits it. Written by [`write_checked`], alone or with
/// others in one batch.
#[derive(Debug, Clone)]
pub struct Checked {
    order: OrderRow,
    related: Vec<OrderRow>,
    actor: Actor,
}

/// The checks of an intake against the reference tables, and the order it makes. Reads
/// only: the group-commit path runs it before the queue, so the batch does only writes.
pub async fn check(c: &mut Conn<'_>, by: By<'_>, i: &Intake) -> Result<Checked> {
    let (category, place, related) = check_intake(c, i).await?;
    let now = clock::now_ms();
    let channel = match by {
        By::Client(cl, _) => cl.channel.clone(),
        By::Public(_) => Channel::Web.as_str().to_string(),
        By::Staff(..) => i.channel.clone(),
    };
    let mut tags: Vec<String> = i.tags.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
    tags.dedup();
    let mut o = OrderRow {
        idem_key: i.idem_key.clone().filter(|k| !k.is_empty()),
        token: i.with_token.then(random_token),
        channel,
        client_id: match by {
            By::Client(cl, _) => Some(cl.id),
            _ => None,
        },
        caller_name: i.caller_name.trim().to_string(),
        caller_phone: i.caller_phone.trim().replace(' ', ""),
        caller_email: i.caller_email.trim().to_string(),
        anonymous: i.anonymous as i64,
        confidential: i.confidential as i64,
        kind: i.kind.clone(),
        category_id: category.as_ref().map(|c| c.id),
        category_top: category.as_ref().and_then(|c| c.top_id),
        urgency: i.urgency.clone(),
        tags: tags.join(","),
        title: i.title.trim().to_string(),
        content: i.content.trim().to_string(),
        address: i.address.trim().to_string(),
        place_id: place.as_ref().map(|p| p.id),
        street: place.as_ref().map(|p| p.street.clone()).unwrap_or_default(),
        lat: i.lat,
        lng: i.lng,
        attributes: if i.attributes.is_null() { "{}".into() } else { i.attributes.to_string() },
        media_url: i.media_url.trim().to_string(),
        state: OrderState::Received.as_str().into(),
        agent_id: match by {
            By::Staff(p, _) => Some(p.user_id),
            _ => None,
        },
        received_at: now,
        received_on: fmt_date(ms_to_local(now).date()),
        updated_at: now,
        ..Default::default()
    };
    if o.anonymous == 1 {
        o.caller_name.clear();
    }
    Ok(Checked { order: o, related, actor: by.actor() })
}

/// Write checked intakes inside the caller's transaction: their ids and numbers, the
/// orders, their `received` entries, links and audit entries, with a few multi-row
/// statements (a batch of 128 intakes is about 20 statements instead of about 1,150).
/// Fails only with database errors, such as a repeated idempotency key.
pub async fn write_checked(c: &mut Conn<'_>, items: &[&Checked]) -> Result<Vec<OrderRow>> {
    let ids = gongkai_kernel::db::next_ids(c, "hl_orders", items.len()).await?;
    let orders: Vec<OrderRow> = items
        .iter()
        .zip(ids)
        .map(|(k, id)| {
            let mut o = k.order.clone();
            o.id = id;
            o.no = rules::order_no(ms_to_local(o.received_at).date(), id);
            o
        })
        .collect();
    store::insert_orders(c, &orders.iter().collect::<Vec<_>>()).await?;
    let entries: Vec<store::EventOf> = orders
        .iter()
        .zip(items)
        .map(|(o, k)| store::EventOf {
            order: o,
            actor: &k.actor,
            at: o.received_at,
            event: NewEvent { kind: "received", text: "工单已受理", public: true, ..Default::default() },
        })
        .collect();
    store::add_events(c, &entries).await?;
    let mut audits = Vec::with_capacity(items.len());
    for (o, k) in orders.iter().zip(items) {
        for r in &k.related {
            store::add_link(c, o.id, r.id, "related").await?;
        }
        audits.push(audit::NewEntry {
            actor: k.actor.clone(),
            action: "hotline.intake".into(),
            target_type: "hl_order".into(),
            target_id: o.id.to_string(),
            summary: json!({ "no": o.no, "channel": o.channel, "kind": o.kind, "related": k.related.iter().map(|r| &r.no).collect::<Vec<_>>() }),
        });
    }
    audit::append_all(c, &audits).await?;
    Ok(orders)
}

/// The intake inside a caller's transaction: its checks, then its writes.
pub async fn intake_in(c: &mut Conn<'_>, by: By<'_>, i: &Intake) -> Result<OrderRow> {
    let k = check(c, by, i).await?;
    write_checked(c, &[&k]).await?.pop().ok_or_else(|| Error::Internal("受理未写入".into()))
}

// --- access -----------------------------------------------------------------------------

/// What a principal may do on one order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Access {
    pub centre: bool,
    /// Legs (ids) whose organisation the principal handles.
    pub handler_legs: Vec<i64>,
    pub supervisor: bool,
    pub leader: bool,
}

impl Access {
    pub fn any(&self) -> bool {
        self.centre || !self.handler_legs.is_empty() || self.supervisor || self.leader
    }
    /// Sees the caller's name and contacts.
    pub fn sees_identity(&self) -> bool {
        self.centre || !self.handler_legs.is_empty()
    }
    pub fn handles(&self, leg_id: i64) -> bool {
        self.handler_legs.contains(&leg_id)
    }
}

pub fn access(who: &Principal, legs: &[LegRow], orgs: &[Org]) -> Access {
    let path_of = |org_id: i64| orgs.iter().find(|o| o.id == org_id).map(|o| o.path.as_str());
    let live = |l: &&LegRow| !matches!(LegState::parse(&l.state), Some(LegState::Cancelled));
    let paths: Vec<&str> = legs.iter().filter(live).filter_map(|l| path_of(l.org_id)).collect();
    Access {
        centre: who.has(Perm::HotlineIntake),
        handler_legs: legs
            .iter()
            .filter(live)
            .filter(|l| path_of(l.org_id).is_some_and(|p| who.can(Perm::CaseHandle, Some(p), None)))
            .map(|l| l.id)
            .collect(),
        supervisor: who.can(Perm::Supervise, None, None)
            || paths.iter().any(|p| who.can(Perm::Supervise, Some(p), None)),
        leader: who.can(Perm::LeaderView, None, None) || paths.iter().any(|p| who.can(Perm::LeaderView, Some(p), None)),
    }
}

async fn orgs_of(c: &mut Conn<'_>, legs: &[LegRow]) -> Result<Vec<Org>> {
    let ids: BTreeSet<i64> = legs.iter().map(|l| l.org_id).collect();
    let mut out = Vec::new();
    for id in ids {
        if let Some(o) = gongkai_kernel::org::store::get(c, id).await? {
            out.push(o);
        }
    }
    Ok(out)
}

// --- the calendar and the SLA table -----------------------------------------------------

/// What deadlines are computed with.
#[derive(Debug, Clone)]
pub struct Env {
    pub cal: Calendar,
    pub hours: OfficeHours,
    pub sla: Vec<SlaRow>,
    pub now: i64,
}

impl Env {
    pub async fn load(db: &Db) -> Result<Env> {
        let cal = gongkai_kernel::calendar::service::load(db).await?;
        let hours = gongkai_kernel::calendar::service::office_hours(db).await?;
        let mut h = db.read().await?;
        let sla = store::sla_rows(&mut h.conn()).await?;
        Ok(Env { cal, hours, sla, now: clock::now_ms() })
    }
    /// The limits of an order: its type, category and urgency in the SLA table.
    pub fn limits(&self, kind: &str, category_code: &str, urgency: &str) -> Limits {
        rules::match_sla(&self.sla, kind, category_code, urgency).and_then(rules::limits_of).unwrap_or(Limits {
            accept: Limit::WorkDays(1),
            ret: Limit::WorkDays(2),
            handle: Limit::WorkDays(5),
            callback: Limit::WorkDays(2),
        })
    }
    pub fn due(&self, limit: &str, from: i64) -> i64 {
        Limit::parse(limit).unwrap_or(Limit::WorkDays(1)).due(from, &self.cal, &self.hours)
    }
    /// A fingerprint of the calendar and office hours: the sweep re-dates open deadlines
    /// when it changes.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for d in self.cal.special_days() {
            h.update(format!("{}:{};", d.date, d.kind.as_str()));
        }
        for y in self.cal.years_loaded() {
            h.update(format!("y{y};"));
        }
        h.update(self.hours.to_string_spec());
        audit::hex(&h.finalize())
    }
}

// --- one use case -----------------------------------------------------------------------

/// An order with its legs, their organisations and what the principal may do.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub o: OrderRow,
    pub legs: Vec<LegRow>,
    pub orgs: Vec<Org>,
    pub access: Access,
    pub category_code: String,
}

impl Ctx {
    fn leg_mut(&mut self, leg_id: i64) -> Result<&mut LegRow> {
        self.legs.iter_mut().find(|l| l.id == leg_id).ok_or(Error::NotFound)
    }
    fn state(&self) -> OrderState {
        OrderState::parse(&self.o.state).unwrap_or(OrderState::Received)
    }
    fn expect(&self, states: &[OrderState], what: &str) -> Result<()> {
        let s = self.state();
        if states.contains(&s) {
            Ok(())
        } else {
            Err(Error::Conflict(format!("工单当前状态为“{}”，不能{what}", s.label_zh())))
        }
    }
    fn centre(&self, what: &str) -> Result<()> {
        if self.access.centre { Ok(()) } else { Err(Error::Forbidden(format!("只有热线中心可以{what}"))) }
    }
    fn handler(&self, leg_id: i64, what: &str) -> Result<()> {
        if self.access.handles(leg_id) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!("只有承办单位可以{what}")))
        }
    }
    pub fn org_name(&self, org_id: i64) -> String {
        self.orgs.iter().find(|o| o.id == org_id).map(|o| o.name.clone()).unwrap_or_default()
    }
    /// Legs still in the loop (not returned or cancelled).
    fn live_legs(&self) -> impl Iterator<Item = &LegRow> {
        self.legs
            .iter()
            .filter(|l| !matches!(LegState::parse(&l.state), Some(LegState::Returned | LegState::Cancelled)))
    }
}

/// A timeline entry a use case adds. `new_leg` points into `Change::new_legs` for a leg
/// that has no id yet.
#[derive(Debug, Clone, Default)]
struct Ev {
    leg_id: Option<i64>,
    new_leg: Option<usize>,
    kind: &'static str,
    value: String,
    on_time: Option<bool>,
    text: String,
    public: bool,
}

#[derive(Debug, Clone, Default)]
struct Change {
    events: Vec<Ev>,
    new_legs: Vec<LegRow>,
    /// Links to other orders: (other order id, related | merged).
    links: Vec<(i64, &'static str)>,
    /// Timeline entries on other orders: (order id, text).
    elsewhere: Vec<(i64, String)>,
    /// The audit summary.
    summary: serde_json::Value,
}

impl Change {
    fn ev(mut self, kind: &'static str, text: impl Into<String>) -> Self {
        self.events.push(Ev { kind, text: text.into(), ..Default::default() });
        self
    }
    fn leg_ev(mut self, leg_id: i64, kind: &'static str, text: impl Into<String>, on_time: Option<bool>) -> Self {
        self.events.push(Ev { leg_id: Some(leg_id), kind, text: text.into(), on_time, ..Default::default() });
        self
    }
}

async fn load_ctx(c: &mut Conn<'_>, who: &Principal, id: i64, lock: bool) -> Result<Ctx> {
    let o = store::get_order(c, id, lock).await?.ok_or(Error::NotFound)?;
    let legs = store::legs_of(c, id).await?;
    let orgs = orgs_of(c, &legs).await?;
    let access = access(who, &legs, &orgs);
    let category_code = match o.category_id {
        Some(cid) => store::category(c, cid).await?.map(|c| c.code).unwrap_or_default(),
        None => String::new(),
    };
    Ok(Ctx { o, legs, orgs, access, category_code })
}

/// Run one use case on an order: load and lock, change, flag, save, record.
async fn act<F>(db: &Db, who: &Principal, ip: &str, id: i64, action: &str, f: F) -> Result<OrderRow>
where
    F: FnOnce(&Env, &mut Ctx) -> Result<Change>,
{
    let mut env = Env::load(db).await?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut ctx = load_ctx(&mut c, who, id, true).await?;
    if !ctx.access.any() {
        return Err(Error::NotFound);
    }
    env.now = clock::now_ms();
    let before_legs: Vec<(i64, String)> = ctx.legs.iter().map(|l| (l.id, l.state.clone())).collect();
    let change = f(&env, &mut ctx)?;
    let now = env.now;
    // New legs first: their events need ids.
    let mut new_ids = Vec::new();
    for l in &change.new_legs {
        let mut l = l.clone();
        l.order_id = id;
        l.id = store::insert_leg(&mut c, &l).await?;
        new_ids.push(l.id);
        ctx.legs.push(l);
    }
    for l in ctx.legs.iter_mut() {
        if !new_ids.contains(&l.id) {
            l.updated_at = now;
            store::save_leg(&mut c, l).await?;
        }
    }
    ctx.o.overdue = order_overdue(&ctx.o, &ctx.legs, now) as i64;
    ctx.o.updated_at = now;
    store::save_order(&mut c, &ctx.o).await?;
    let actor = who.actor(ip);
    for e in &change.events {
        let leg_id = e.leg_id.or_else(|| e.new_leg.and_then(|i| new_ids.get(i).copied()));
        store::add_event(
            &mut c,
            &ctx.o,
            &actor,
            now,
            &NewEvent { leg_id, kind: e.kind, value: &e.value, on_time: e.on_time, text: &e.text, public: e.public },
        )
        .await?;
    }
    for (other, kind) in &change.links {
        store::add_link(&mut c, id, *other, kind).await?;
    }
    for (other, text) in &change.elsewhere {
        if let Some(target) = store::get_order(&mut c, *other, true).await? {
            store::add_event(&mut c, &target, &actor, now, &NewEvent { kind: "merged", text, ..Default::default() })
                .await?;
        }
    }
    let legs_after: Vec<(i64, String)> = ctx.legs.iter().map(|l| (l.id, l.state.clone())).collect();
    audit::append(
        &mut c,
        &actor,
        action,
        "hl_order",
        id,
        json!({ "no": ctx.o.no, "state": ctx.o.state, "legs_before": before_legs, "legs_after": legs_after, "detail": change.summary }),
    )
    .await?;
    tx.commit().await?;
    Ok(ctx.o)
}

/// An order is late when a live leg is past its acceptance or handling limit, or the
/// callback is past its limit.
fn order_overdue(o: &OrderRow, legs: &[LegRow], now: i64) -> bool {
    let open = OrderState::parse(&o.state).is_some_and(|s| s.is_open());
    if !open {
        return false;
    }
    let leg_late = legs.iter().any(|l| match LegState::parse(&l.state) {
        Some(LegState::Pending) => l.accept_due < now,
        Some(LegState::Accepted) => l.handle_due < now,
        _ => false,
    });
    let callback_late = o.state == OrderState::Callback.as_str() && o.callback_due.is_some_and(|d| d < now);
    leg_late || callback_late
}

fn required(field: &str, v: &str, msg: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(Error::field(field, msg));
    }
    if v.chars().count() > rules::MAX_CONTENT {
        return Err(Error::field(field, format!("不能超过 {} 个字", rules::MAX_CONTENT)));
    }
    Ok(v.to_string())
}

// --- the flow ---------------------------------------------------------------------------

/// 直接答复: the agent answers on the call and closes the order.
pub async fn answer_directly(db: &Db, who: &Principal, ip: &str, id: i64, answer: &str) -> Result<OrderRow> {
    let answer = required("answer", answer, "请填写答复内容")?;
    act(db, who, ip, id, "hotline.direct", |env, ctx| {
        ctx.centre("直接答复")?;
        ctx.expect(&[OrderState::Received], "直接答复")?;
        ctx.o.direct = 1;
        ctx.o.answer = answer.clone();
        ctx.o.state = OrderState::Closed.as_str().into();
        ctx.o.closed_at = Some(env.now);
        ctx.o.closed_on_time = Some(1);
        let mut ch = Change::default().ev("direct", answer.clone());
        ch.events.push(Ev {
            kind: "closed",
            on_time: Some(true),
            text: "直接答复办结".into(),
            public: true,
            ..Default::default()
        });
        Ok(ch)
    })
    .await
}

/// 派单 to a main organisation and co-handlers.
#[derive(Debug, Clone, Default)]
pub struct Dispatch {
    pub main_org: Option<i64>,
    pub co_orgs: Vec<i64>,
    pub note: String,
}

pub async fn dispatch(db: &Db, who: &Principal, ip: &str, id: i64, d: &Dispatch) -> Result<OrderRow> {
    let mut e = FieldErrors::new();
    let Some(main) = d.main_org else {
        return Err(Error::field("main_org", "请选择主办单位"));
    };
    let mut co: Vec<i64> = d.co_orgs.iter().copied().filter(|o| *o != main).collect();
    co.sort_unstable();
    co.dedup();
    let mut names: Vec<(i64, String)> = Vec::new();
    {
        let mut h = db.read().await?;
        let mut c = h.conn();
        for (field, org) in std::iter::once(("main_org", main)).chain(co.iter().map(|o| ("co_orgs", *o))) {
            match gongkai_kernel::org::store::get(&mut c, org).await? {
                Some(o) => names.push((o.id, o.name)),
                None => e.add(field, "所选单位不存在"),
            }
        }
    }
    let name_of = |id: i64| names.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone()).unwrap_or_default();
    e.into_result()?;
    let note = d.note.trim().to_string();
    act(db, who, ip, id, "hotline.dispatch", |env, ctx| {
        ctx.centre("派单")?;
        ctx.expect(&[OrderState::Received], "派单")?;
        if ctx.legs.iter().any(|l| l.org_id == main && l.state == LegState::Returned.as_str() && l.role == "main")
            && note.is_empty()
        {
            return Err(Error::field("note", "该单位已退回此工单，再次派给它请说明理由"));
        }
        let limits = env.limits(&ctx.o.kind, &ctx.category_code, &ctx.o.urgency);
        let leg = |org_id: i64, role: LegRole| LegRow {
            org_id,
            role: role.as_str().into(),
            state: LegState::Pending.as_str().into(),
            dispatched_at: env.now,
            handle_from: env.now,
            accept_limit: limits.accept.spec(),
            return_limit: limits.ret.spec(),
            handle_limit: limits.handle.spec(),
            accept_due: limits.accept.due(env.now, &env.cal, &env.hours),
            return_due: limits.ret.due(env.now, &env.cal, &env.hours),
            handle_due: limits.handle.due(env.now, &env.cal, &env.hours),
            updated_at: env.now,
            ..Default::default()
        };
        let mut ch = Change::default();
        // A co-handler already live on the order stays; only new organisations get legs.
        let live: Vec<i64> = ctx.live_legs().map(|l| l.org_id).collect();
        ch.new_legs.push(leg(main, LegRole::Main));
        for org in co.iter().filter(|o| !live.contains(o)) {
            ch.new_legs.push(leg(*org, LegRole::Co));
        }
        for (i, l) in ch.new_legs.iter().enumerate() {
            let text = format!(
                "派至{}（{}），签收时限 {}，办理时限 {}{}",
                name_of(l.org_id),
                LegRole::parse(&l.role).map(|r| r.label_zh()).unwrap_or(""),
                Limit::parse(&l.accept_limit).map(|x| x.zh()).unwrap_or_default(),
                Limit::parse(&l.handle_limit).map(|x| x.zh()).unwrap_or_default(),
                if note.is_empty() { String::new() } else { format!("。{note}") }
            );
            ch.events.push(Ev { new_leg: Some(i), kind: "dispatched", text, public: i == 0, ..Default::default() });
        }
        ctx.o.state = OrderState::Dispatched.as_str().into();
        ch.summary = json!({ "main": main, "co": co, "limits": [limits.accept.spec(), limits.ret.spec(), limits.handle.spec()] });
        Ok(ch)
    })
    .await
}

/// 签收.
pub async fn accept(db: &Db, who: &Principal, ip: &str, order_id: i64, leg_id: i64) -> Result<OrderRow> {
    act(db, who, ip, order_id, "hotline.accept", |env, ctx| {
        ctx.handler(leg_id, "签收")?;
        let leg = ctx.leg_mut(leg_id)?;
        if leg.state != LegState::Pending.as_str() {
            return Err(Error::Conflict("该工单已签收或已退回".into()));
        }
        let on_time = env.now <= leg.accept_due;
        leg.state = LegState::Accepted.as_str().into();
        leg.accepted_at = Some(env.now);
        leg.accepted_on_time = Some(on_time as i64);
        leg.overdue = (env.now > leg.handle_due) as i64 * 2;
        let text = if on_time { "已签收".to_string() } else { "已签收（超过签收时限）".to_string() };
        Ok(Change::default().leg_ev(leg_id, "accepted", text, Some(on_time)))
    })
    .await
}

/// 退单: not the organisation's duty; back to the centre for re-dispatch.
pub async fn return_leg(
    db: &Db,
    who: &Principal,
    ip: &str,
    order_id: i64,
    leg_id: i64,
    reason: &str,
) -> Result<OrderRow> {
    let reason = required("reason", reason, "请说明退单理由")?;
    act(db, who, ip, order_id, "hotline.return", |env, ctx| {
        ctx.handler(leg_id, "退单")?;
        let leg = ctx.leg_mut(leg_id)?;
        if !LegState::parse(&leg.state).is_some_and(|s| s.is_active()) {
            return Err(Error::Conflict("该工单已答复或已退回，不能退单".into()));
        }
        if env.now > leg.return_due {
            return Err(Error::Conflict(format!(
                "已超过退单时限（{}），请办理或联系热线中心改派",
                clock::fmt_ms(leg.return_due)
            )));
        }
        leg.state = LegState::Returned.as_str().into();
        leg.returned_at = Some(env.now);
        leg.return_reason = reason.clone();
        leg.overdue = 0;
        let main = leg.role == LegRole::Main.as_str();
        if main {
            // The centre re-dispatches; co-handlers carry on meanwhile.
            ctx.o.state = OrderState::Received.as_str().into();
        } else {
            settle_replied(ctx);
        }
        Ok(Change::default().leg_ev(leg_id, "returned", reason.clone(), None))
    })
    .await
}

/// When every live leg has replied, the order waits for the centre's review.
fn settle_replied(ctx: &mut Ctx) {
    if ctx.live_legs().next().is_none() {
        return;
    }
    let has_main = ctx.live_legs().any(|l| l.role == LegRole::Main.as_str());
    if has_main
        && ctx.live_legs().all(|l| l.state == LegState::Replied.as_str())
        && ctx.o.state == OrderState::Dispatched.as_str()
    {
        ctx.o.state = OrderState::Replied.as_str().into();
    }
}

/// 延期 requested by the handler.
pub async fn request_extension(
    db: &Db,
    who: &Principal,
    ip: &str,
    order_id: i64,
    leg_id: i64,
    days: u32,
    reason: &str,
) -> Result<OrderRow> {
    let reason = required("reason", reason, "请说明延期理由")?;
    act(db, who, ip, order_id, "hotline.extension_request", |_env, ctx| {
        ctx.handler(leg_id, "申请延期")?;
        let leg = ctx.leg_mut(leg_id)?;
        if leg.state != LegState::Accepted.as_str() {
            return Err(Error::Conflict("签收后、答复前才能申请延期".into()));
        }
        if leg.ext_state == "requested" {
            return Err(Error::Conflict("已有延期申请待热线中心审核".into()));
        }
        let left = rules::MAX_EXTENSION_DAYS.saturating_sub(leg.ext_days as u32);
        if days == 0 || days > left {
            return Err(Error::field(
                "days",
                format!("延期天数应为 1 到 {left} 个工作日（累计不超过 {} 个）", rules::MAX_EXTENSION_DAYS),
            ));
        }
        leg.ext_state = "requested".into();
        leg.ext_request_days = i64::from(days);
        leg.ext_reason = reason.clone();
        Ok(Change::default().leg_ev(leg_id, "ext_requested", format!("申请延期 {days} 个工作日：{reason}"), None))
    })
    .await
}

/// The centre approves or refuses an extension.
pub async fn decide_extension(
    db: &Db,
    who: &Principal,
    ip: &str,
    order_id: i64,
    leg_id: i64,
    approve: bool,
    note: &str,
) -> Result<OrderRow> {
    let note = note.trim().to_string();
    if !approve && note.is_empty() {
        return Err(Error::field("note", "不同意延期请说明理由"));
    }
    act(db, who, ip, order_id, "hotline.extension_decide", |env, ctx| {
        ctx.centre("审核延期申请")?;
        let leg = ctx.leg_mut(leg_id)?;
        if leg.ext_state != "requested" {
            return Err(Error::Conflict("没有待审核的延期申请".into()));
        }
        if approve {
            let days = leg.ext_request_days as u32;
            leg.ext_days += i64::from(days);
            leg.handle_due = rules::extend_due(leg.handle_due, days, &env.cal);
            leg.ext_state = "approved".into();
            if leg.handle_due >= env.now {
                leg.overdue = 0;
            }
            let text =
                format!("同意延期 {days} 个工作日，办理期限延至 {}{}", clock::fmt_ms(leg.handle_due), suffix(&note));
            Ok(Change::default().leg_ev(leg_id, "ext_approved", text, None))
        } else {
            leg.ext_state = "refused".into();
            Ok(Change::default().leg_ev(leg_id, "ext_refused", note.clone(), None))
        }
    })
    .await
}

fn suffix(note: &str) -> String {
    if note.is_empty() { String::new() } else { format!("。{note}") }
}

/// 答复 by a handler.
pub async fn reply(db: &Db, who: &Principal, ip: &str, order_id: i64, leg_id: i64, text: &str) -> Result<OrderRow> {
    let text = required("reply", text, "请填写答复内容")?;
    act(db, who, ip, order_id, "hotline.reply", |env, ctx| {
        ctx.handler(leg_id, "答复")?;
        ctx.expect(&[OrderState::Dispatched, OrderState::Received], "答复")?;
        let leg = ctx.leg_mut(leg_id)?;
        if leg.state != LegState::Accepted.as_str() {
            return Err(Error::Conflict("签收后才能答复".into()));
        }
        let on_time = env.now <= leg.handle_due;
        leg.state = LegState::Replied.as_str().into();
        leg.replied_at = Some(env.now);
        leg.reply = text.clone();
        leg.replied_on_time = Some(on_time as i64);
        leg.overdue = 0;
        if leg.ext_state == "requested" {
            leg.ext_state = String::new();
        }
        settle_replied(ctx);
        Ok(Change::default().leg_ev(leg_id, "replied", text.clone(), Some(on_time)))
    })
    .await
}

/// The centre's review of the replies: passed (the caller's answer is set and the
/// callback clock starts) or sent back to the handlers.
pub async fn review(
    db: &Db,
    who: &Principal,
    ip: &str,
    order_id: i64,
    pass: bool,
    answer: &str,
    note: &str,
) -> Result<OrderRow> {
    let note = note.trim().to_string();
    if !pass && note.is_empty() {
        return Err(Error::field("note", "退回重新答复请说明理由"));
    }
    let answer = answer.trim().to_string();
    act(db, who, ip, order_id, "hotline.review", |env, ctx| {
        ctx.centre("审核答复")?;
        ctx.expect(&[OrderState::Replied], "审核答复")?;
        if pass {
            let main_reply =
                ctx.live_legs().find(|l| l.role == LegRole::Main.as_str()).map(|l| l.reply.clone()).unwrap_or_default();
            ctx.o.answer = if answer.is_empty() { main_reply } else { answer.clone() };
            ctx.o.reviewed_at = Some(env.now);
            let limits = env.limits(&ctx.o.kind, &ctx.category_code, &ctx.o.urgency);
            ctx.o.callback_limit = limits.callback.spec();
            ctx.o.callback_due = Some(limits.callback.due(env.now, &env.cal, &env.hours));
            ctx.o.state = OrderState::Callback.as_str().into();
            let mut ch = Change::default();
            ch.events.push(Ev {
                kind: "review_passed",
                text: ctx.o.answer.clone(),
                public: true,
                ..Default::default()
            });
            Ok(ch)
        } else {
            for l in ctx.legs.iter_mut().filter(|l| l.state == LegState::Replied.as_str()) {
                l.state = LegState::Accepted.as_str().into();
            }
            ctx.o.state = OrderState::Dispatched.as_str().into();
            Ok(Change::default().ev("review_rejected", note.clone()))
        }
    })
    .await
}

/// One callback (回访) attempt.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub reached: bool,
    pub resolved: bool,
    pub satisfaction: Option<Satisfaction>,
    pub note: String,
}

/// 回访: reached and satisfied (or basically) closes the order; unsatisfied sends it back
/// to the handlers (重办) with a fresh handling limit; not reached is recorded and the
/// order waits for another attempt (or `close`).
pub async fn callback(db: &Db, who: &Principal, ip: &str, order_id: i64, cb: &Callback) -> Result<OrderRow> {
    if cb.reached && cb.satisfaction.is_none() {
        return Err(Error::field("satisfaction", "请选择满意度"));
    }
    let note = cb.note.trim().to_string();
    act(db, who, ip, order_id, "hotline.callback", |env, ctx| {
        ctx.centre("回访")?;
        ctx.expect(&[OrderState::Callback], "回访")?;
        let mut ch = Change::default();
        ctx.o.callback_at = Some(env.now);
        ctx.o.reached = Some(cb.reached as i64);
        if !cb.reached {
            ch.events.push(Ev {
                kind: "callback",
                value: "unreached".into(),
                text: format!("未接通{}", suffix(&note)),
                ..Default::default()
            });
            return Ok(ch);
        }
        let sat = cb.satisfaction.unwrap_or(Satisfaction::Satisfied);
        ctx.o.resolved = Some(cb.resolved as i64);
        ctx.o.satisfaction = Some(sat.as_str().into());
        ch.events.push(Ev {
            kind: "callback",
            value: sat.as_str().into(),
            text: format!(
                "{}，{}{}",
                sat.label_zh(),
                if cb.resolved { "问题已解决" } else { "问题未解决" },
                suffix(&note)
            ),
            ..Default::default()
        });
        if sat == Satisfaction::Unsatisfied {
            ctx.o.redo_count += 1;
            ctx.o.state = OrderState::Dispatched.as_str().into();
            ctx.o.callback_due = None;
            for l in ctx.legs.iter_mut().filter(|l| l.state == LegState::Replied.as_str()) {
                l.state = LegState::Accepted.as_str().into();
                l.handle_from = env.now;
                l.handle_due = env.due(&l.handle_limit, env.now);
                l.replied_on_time = None;
                l.overdue = 0;
            }
            ch.events.push(Ev {
                kind: "redo",
                text: "群众不满意，退回承办单位重办".into(),
                public: true,
                ..Default::default()
            });
        } else {
            close_now(env, ctx, &mut ch, "回访满意，办结");
        }
        Ok(ch)
    })
    .await
}

fn close_now(env: &Env, ctx: &mut Ctx, ch: &mut Change, text: &str) {
    // 按时办结: every live leg replied within its handling limit.
    let on_time = ctx.live_legs().all(|l| l.replied_on_time == Some(1));
    for l in ctx.legs.iter_mut().filter(|l| l.state == LegState::Replied.as_str()) {
        l.state = LegState::Done.as_str().into();
    }
    ctx.o.state = OrderState::Closed.as_str().into();
    ctx.o.closed_at = Some(env.now);
    ctx.o.closed_on_time = Some(on_time as i64);
    ch.events.push(Ev {
        kind: "closed",
        on_time: Some(on_time),
        text: text.into(),
        public: true,
        ..Default::default()
    });
}

/// 办结 without a reached callback (the caller could not be reached after attempts).
pub async fn close(db: &Db, who: &Principal, ip: &str, order_id: i64, note: &str) -> Result<OrderRow> {
    let note = required("note", note, "请说明办结理由（如多次回访未接通）")?;
    act(db, who, ip, order_id, "hotline.close", |env, ctx| {
        ctx.centre("办结")?;
        ctx.expect(&[OrderState::Callback], "办结")?;
        let mut ch = Change::default();
        close_now(env, ctx, &mut ch, &note);
        Ok(ch)
    })
    .await
}

/// 合并: this order is the same matter as `into_no`; its live legs are withdrawn.
pub async fn merge(db: &Db, who: &Principal, ip: &str, order_id: i64, into_no: &str) -> Result<OrderRow> {
    let into = {
        let mut h = db.read().await?;
        store::order_by(&mut h.conn(), OrderKey::No, into_no.trim()).await?
    };
    let Some(into) = into else {
        return Err(Error::field("into", "要合并到的工单编号不存在"));
    };
    if into.id == order_id {
        return Err(Error::field("into", "不能合并到自己"));
    }
    if !OrderState::parse(&into.state).is_some_and(|s| s.is_open()) {
        return Err(Error::field("into", "要合并到的工单已办结或已合并"));
    }
    let into_id = into.id;
    let into_no = into.no.clone();
    act(db, who, ip, order_id, "hotline.merge", |_env, ctx| {
        ctx.centre("合并工单")?;
        if !ctx.state().is_open() {
            return Err(Error::Conflict("工单已办结或已合并".into()));
        }
        for l in ctx.legs.iter_mut().filter(|l| LegState::parse(&l.state).is_some_and(|s| s.is_active())) {
            l.state = LegState::Cancelled.as_str().into();
        }
        ctx.o.state = OrderState::Merged.as_str().into();
        ctx.o.merged_into = Some(into_id);
        let mut ch = Change::default();
        ch.events
            .push(Ev { kind: "merged", text: format!("并入工单 {into_no}"), public: true, ..Default::default() });
        ch.links.push((into_id, "merged"));
        ch.elsewhere.push((into_id, format!("工单 {} 并入本工单", ctx.o.no)));
        ch.summary = json!({ "into": into_id });
        Ok(ch)
    })
    .await
}

/// 关联: link another order as related.
pub async fn relate(db: &Db, who: &Principal, ip: &str, order_id: i64, other_no: &str) -> Result<OrderRow> {
    let other = {
        let mut h = db.read().await?;
        store::order_by(&mut h.conn(), OrderKey::No, other_no.trim()).await?
    };
    let Some(other) = other else {
        return Err(Error::field("other", "关联的工单编号不存在"));
    };
    if other.id == order_id {
        return Err(Error::field("other", "不能关联自己"));
    }
    act(db, who, ip, order_id, "hotline.relate", |_env, ctx| {
        if !ctx.access.sees_identity() {
            return Err(Error::Forbidden("只有热线中心和承办单位可以关联工单".into()));
        }
        let mut ch = Change::default().ev("related", format!("关联工单 {}", other.no));
        ch.links.push((other.id, "related"));
        Ok(ch)
    })
    .await
}

/// 催办 (the centre or a supervisor), 督办 (a supervisor) and 领导批办 (a leader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    Urge,
    Supervise,
    Instruct,
}

pub async fn push(db: &Db, who: &Principal, ip: &str, order_id: i64, kind: Push, note: &str) -> Result<OrderRow> {
    let note = required("note", note, "请填写内容")?;
    let action = match kind {
        Push::Urge => "hotline.urge",
        Push::Supervise => "hotline.supervise",
        Push::Instruct => "hotline.instruct",
    };
    act(db, who, ip, order_id, action, |_env, ctx| {
        if !ctx.state().is_open() {
            return Err(Error::Conflict("工单已办结或已合并".into()));
        }
        match kind {
            Push::Urge => {
                if !(ctx.access.centre || ctx.access.supervisor) {
                    return Err(Error::Forbidden("只有热线中心和督办人员可以催办".into()));
                }
                ctx.o.urged += 1;
                Ok(Change::default().ev("urged", note.clone()))
            }
            Push::Supervise => {
                if !ctx.access.supervisor {
                    return Err(Error::Forbidden("只有督办人员可以督办".into()));
                }
                ctx.o.supervised += 1;
                ctx.o.priority = ctx.o.priority.max(1);
                Ok(Change::default().ev("supervised", note.clone()))
            }
            Push::Instruct => {
                if !ctx.access.leader {
                    return Err(Error::Forbidden("只有领导可以批办".into()));
                }
                ctx.o.leader_note = note.clone();
                ctx.o.priority = 2;
                Ok(Change::default().ev("instructed", note.clone()))
            }
        }
    })
    .await
}

// --- reading ----------------------------------------------------------------------------

/// An order as a principal may see it.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub order: OrderRow,
    pub legs: Vec<LegRow>,
    pub events: Vec<EventRow>,
    pub links: Vec<Brief>,
    pub access: Access,
    /// Organisation names by id, for the legs.
    pub org_names: Vec<(i64, String)>,
    pub masked: bool,
}

/// The caller's identity, masked for everyone but the centre and the handlers.
pub fn mask_order(o: &mut OrderRow) {
    o.caller_name = rules::mask_name(&o.caller_name);
    o.caller_phone = rules::mask_phone(&o.caller_phone);
    o.caller_email = if o.caller_email.is_empty() { String::new() } else { "***".into() };
}

pub fn mask_brief(b: &mut Brief) {
    b.caller_name = rules::mask_name(&b.caller_name);
    b.caller_phone = rules::mask_phone(&b.caller_phone);
}

/// Read one order; audits the view of a confidential one.
pub async fn view(db: &Db, who: &Principal, ip: &str, id: i64) -> Result<View> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let ctx = load_ctx(&mut c, who, id, false).await?;
    if !ctx.access.any() {
        return Err(Error::NotFound);
    }
    let events = store::events(&mut c, id).await?;
    let mut links = store::links(&mut c, id).await?;
    drop(h);
    let masked = !ctx.access.sees_identity();
    let mut order = ctx.o;
    if masked {
        mask_order(&mut order);
        links.iter_mut().for_each(mask_brief);
    }
    if order.confidential == 1 {
        let mut tx = db.begin().await?;
        audit::append(
            &mut tx.conn(),
            &who.actor(ip),
            "hotline.view_confidential",
            "hl_order",
            id,
            json!({ "no": order.no, "masked": masked }),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(View {
        org_names: ctx.orgs.iter().map(|o| (o.id, o.name.clone())).collect(),
        order,
        legs: ctx.legs,
        events,
        links,
        access: ctx.access,
        masked,
    })
}

/// The caller's earlier orders as the agent types the number (at least 4 digits).
pub async fn caller_history(db: &Db, who: &Principal, phone_prefix: &str) -> Result<Vec<Brief>> {
    if !who.has(Perm::HotlineIntake) {
        return Err(Error::Forbidden("只有热线中心坐席可以查询来电历史".into()));
    }
    let p: String = phone_prefix.chars().filter(|c| c.is_ascii_digit() || *c == '-').collect();
    if p.chars().filter(|c| c.is_ascii_digit()).count() < 4 {
        return Ok(Vec::new());
    }
    let mut h = db.read().await?;
    store::by_phone_prefix(&mut h.conn(), &p, 20).await
}

/// Likely duplicates of an order: the same caller, or the same place and category,
/// within `DUPLICATE_WINDOW_DAYS`.
pub async fn duplicates(db: &Db, o: &OrderRow) -> Result<Vec<Brief>> {
    let since = o.received_at - rules::DUPLICATE_WINDOW_DAYS * 86_400_000;
    let mut h = db.read().await?;
    store::likely_duplicates(&mut h.conn(), o.id, &o.caller_phone, o.place_id, o.category_id, since).await
}

// --- the sweep --------------------------------------------------------------------------

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Open legs re-dated because the calendar changed.
    pub redated: u64,
    pub late_accept: u64,
    pub late_handle: u64,
    pub late_callback: u64,
    pub reminded: u64,
}

const FINGERPRINT_KEY: &str = "hotline.calendar_fingerprint";

/// A leg's order state, for the sweep's entries: a look-up by primary key per leg. Joined,
/// PostgreSQL hashed the late legs and scanned every order: 0.2 s a rule on 1,000,000
/// orders, for some 20,000-55,000 legs.
const ORDER_STATE: &str = "(SELECT o.state FROM hl_orders o WHERE o.id = l.order_id)";

/// `id IN (sub)` so that each backend probes the primary key for the ids `sub` yields:
/// PostgreSQL plans `IN (SELECT …)` as a hash semi-join over a scan of the whole table.
fn ids_in(backend: Backend, sub: &str) -> String {
    match backend {
        Backend::Postgres => format!("id = ANY(ARRAY({sub}))"),
        Backend::Sqlite => format!("id IN ({sub})"),
    }
}

/// Flag what became late, remind what is due within a day, and re-date open deadlines
/// when the calendar changed. Set-based: one statement per rule, whatever the number of
/// orders.
pub async fn sweep(db: &Db, now: i64) -> Result<SweepReport> {
    let env = Env::load(db).await?;
    let mut report = SweepReport::default();
    let fp = env.fingerprint();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let old = gongkai_kernel::calendar::store::get_setting(&mut c, FINGERPRINT_KEY).await?;
    if old.as_deref() != Some(fp.as_str()) {
        if old.is_some() {
            report.redated = redate(&mut c, &env, now).await?;
        }
        gongkai_kernel::calendar::store::put_setting(&mut c, FINGERPRINT_KEY, &fp).await?;
    }
    let day = fmt_date(ms_to_local(now).date());
    let sys = "系统";
    // Each rule: the timeline entries for what newly matches, its orders' flag, then the
    // legs' flag. Only newly late legs are looked at (through the due indexes): an order
    // whose leg was flagged before was flagged with it, and every step re-computes it.
    let rules: [(&str, &str, &str, &str); 2] = [
        ("accept", "l.state = 'pending' AND l.accept_due < $1 AND l.overdue = 0", "超过签收时限", "overdue = 1"),
        ("handle", "l.state = 'accepted' AND l.handle_due < $1 AND l.overdue < 2", "超过办理时限", "overdue = 2"),
    ];
    for (i, (value, cond, text, set)) in rules.iter().enumerate() {
        let ins = format!(
            "INSERT INTO hl_events (order_id, leg_id, at, day, actor, kind, value, text, state, public)
             SELECT l.order_id, l.id, $1, $2, $3, 'overdue', $4, $5, {ORDER_STATE}, 0
             FROM hl_legs l WHERE {cond}"
        );
        let n = gongkai_kernel::with_conn!(&mut c, x => {
            sqlx::query(sqlx::AssertSqlSafe(ins)).bind(now).bind(&day).bind(sys).bind(*value).bind(*text)
                .execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
        if n > 0 {
            let orders = format!(
                "UPDATE hl_orders SET overdue = 1, updated_at = $1 WHERE overdue = 0 AND {}",
                ids_in(c.backend(), &format!("SELECT l.order_id FROM hl_legs l WHERE {cond}"))
            );
            let legs = format!("UPDATE hl_legs SET {set}, updated_at = $1 WHERE {}", cond.replace("l.", ""));
            for sql in [orders, legs] {
                gongkai_kernel::with_conn!(&mut c, x => {
                    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).execute(&mut **x).await.map(|r| r.rows_affected())
                })?;
            }
        }
        if i == 0 {
            report.late_accept = n;
        } else {
            report.late_handle = n;
        }
    }
    // Callbacks past their limit.
    report.late_callback = gongkai_kernel::with_conn!(&mut c, x => {
        sqlx::query(
            "INSERT INTO hl_events (order_id, at, day, actor, kind, value, text, state, public)
             SELECT id, $1, $2, $3, 'overdue', 'callback', '超过回访时限', state, 0
             FROM hl_orders WHERE state = 'callback' AND callback_due < $1 AND overdue = 0",
        )
        .bind(now).bind(&day).bind(sys).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    if report.late_callback > 0 {
        gongkai_kernel::with_conn!(&mut c, x => {
            sqlx::query(
                "UPDATE hl_orders SET overdue = 1, updated_at = $1 WHERE state = 'callback' AND callback_due < $1 AND overdue = 0",
            )
            .bind(now).execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    // Reminders: handling due within the next 24 hours, once per due instant.
    let soon = now + 86_400_000;
    let remind = format!(
        "INSERT INTO hl_events (order_id, leg_id, at, day, actor, kind, value, text, state, public)
         SELECT l.order_id, l.id, $1, $2, $3, 'reminded', 'handle', '办理时限将至，请抓紧答复', {ORDER_STATE}, 0
         FROM hl_legs l
         WHERE l.state = 'accepted' AND l.handle_due >= $1 AND l.handle_due < $4 AND l.reminded <> l.handle_due"
    );
    report.reminded = gongkai_kernel::with_conn!(&mut c, x => {
        sqlx::query(sqlx::AssertSqlSafe(remind))
        .bind(now).bind(&day).bind(sys).bind(soon).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    if report.reminded > 0 {
        gongkai_kernel::with_conn!(&mut c, x => {
            sqlx::query(
                "UPDATE hl_legs SET reminded = handle_due
                 WHERE state = 'accepted' AND handle_due >= $1 AND handle_due < $2 AND reminded <> handle_due",
            )
            .bind(now).bind(soon).execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    tx.commit().await?;
    Ok(report)
}

/// Re-date every open leg and callback from its start with the current calendar, and
/// clear late flags that no longer hold.
async fn redate(c: &mut Conn<'_>, env: &Env, now: i64) -> Result<u64> {
    let legs: Vec<LegRow> = gongkai_kernel::with_conn!(c, x => {
        sqlx::query_as::<_, LegRow>("SELECT * FROM hl_legs WHERE state IN ('pending', 'accepted')").fetch_all(&mut **x).await
    })?;
    let mut n = 0;
    for mut l in legs {
        let (a, r) = (env.due(&l.accept_limit, l.dispatched_at), env.due(&l.return_limit, l.dispatched_at));
        let h = rules::extend_due(env.due(&l.handle_limit, l.handle_from), l.ext_days as u32, &env.cal);
        if (a, r, h) != (l.accept_due, l.return_due, l.handle_due) {
            l.accept_due = a;
            l.return_due = r;
            l.handle_due = h;
            l.overdue = match LegState::parse(&l.state) {
                Some(LegState::Pending) if a < now => 1,
                Some(LegState::Accepted) if h < now => 2,
                _ => 0,
            };
            l.updated_at = now;
            store::save_leg(c, &l).await?;
            n += 1;
        }
    }
    let orders: Vec<(i64, i64, String)> = gongkai_kernel::with_conn!(c, x => {
        sqlx::query_as("SELECT id, reviewed_at, callback_limit FROM hl_orders WHERE state = 'callback' AND reviewed_at IS NOT NULL")
            .fetch_all(&mut **x).await
    })?;
    for (id, reviewed_at, limit) in orders {
        let due = env.due(&limit, reviewed_at);
        gongkai_kernel::with_conn!(c, x => {
            sqlx::query("UPDATE hl_orders SET callback_due = $2 WHERE id = $1").bind(id).bind(due).execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    // Order flags follow their legs.
    gongkai_kernel::with_conn!(c, x => {
        sqlx::query(
            "UPDATE hl_orders SET overdue = CASE WHEN (state = 'callback' AND callback_due < $1)
               OR id IN (SELECT order_id FROM hl_legs WHERE overdue > 0 AND state IN ('pending', 'accepted')) THEN 1 ELSE 0 END
             WHERE state NOT IN ('closed', 'merged')",
        )
        .bind(now).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(n)
}
