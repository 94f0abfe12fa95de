//! Console pages of messages: the worklist, one message with its timeline, deadline and
//! the forms of every step, the supervision queue, per-site settings and statistics.
//! Routes are open to every signed-in user; `service` decides per message who acts.

use axum::extract::{Path, Query, State as AxState};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::calendar::rules::parse_date;
use gongkai_kernel::error::Error;
use gongkai_kernel::web::ctx::{form_error, render_with, see_other};
use gongkai_kernel::web::{AppState, Auth, ClientIp, CsrfForm, NavItem, Slice, WebResult};

use super::service::{self, ReviewForm, SettingsForm};
use super::store::{self, ListFilter, Visibility};
use super::{KINDS, RATINGS, REJECT_REASONS, State, label};

gongkai_kernel::console_routes! { ROUTES, router;
    get  "/console/messages" Console => list;
    get  "/console/messages/supervision" Supervise => supervision;
    get  "/console/messages/stats" Console => stats_page;
    get  "/console/messages/settings" SettingsManage => settings;
    post "/console/messages/settings" SettingsManage => settings_save;
    get  "/console/messages/{id}" Console => detail;
    get  "/console/messages/{id}/files/{fid}" Console => file;
    post "/console/messages/{id}/accept" Console => accept;
    post "/console/messages/{id}/reject" Console => reject;
    post "/console/messages/{id}/assign" Console => assign;
    post "/console/messages/{id}/reply" Console => reply;
    post "/console/messages/{id}/review" Console => review;
    post "/console/messages/{id}/send" Console => send;
    post "/console/messages/{id}/publish" Console => publish;
    post "/console/messages/{id}/supervise" Supervise => supervise;
}

const NAV: &[NavItem] = &[
    NavItem { href: "/console/messages", label: "网民留言", perm: Perm::Console },
    NavItem { href: "/console/messages/supervision", label: "留言督办", perm: Perm::Supervise },
];

fn full_router() -> axum::Router<AppState> {
    router().merge(super::public::router())
}

pub fn slice() -> Slice {
    Slice { name: "messages", routes: ROUTES, router: full_router, templates: crate::template_source, nav: NAV }
}

fn words(w: super::Words) -> Vec<Value> {
    w.iter().map(|(v, l)| json!({ "value": v, "label": l })).collect()
}

fn states() -> Vec<Value> {
    State::ALL.iter().map(|s| json!({ "value": s.as_str(), "label": s.label_zh() })).collect()
}

fn state_label(s: &str) -> &'static str {
    State::parse(s).map(State::label_zh).unwrap_or("")
}

/// What the principal sees on the worklist.
async fn visibility(state: &AppState, who: &Principal) -> Result<Visibility, Error> {
    let (sites, orgs) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        (gongkai_kernel::site::store::all(&mut c).await?, gongkai_kernel::org::store::all(&mut c).await?)
    };
    let desk = sites
        .iter()
        .filter(|s| service::may_desk(who, s, s.org_id.and_then(|id| orgs.iter().find(|o| o.id == id))))
        .map(|s| s.id)
        .collect();
    Ok(Visibility {
        sites: desk,
        orgs: vec![who.org_scope(Perm::CaseHandle), who.org_scope(Perm::LeaderView), who.org_scope(Perm::Supervise)],
    })
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    site: Option<i64>,
}

fn rows_json(rows: &[store::ListRow]) -> Vec<Value> {
    rows.iter()
        .map(|r| json!({ "r": r, "state_label": state_label(&r.state), "kind_label": label(KINDS, &r.kind) }))
        .collect()
}

pub async fn list(
    AxState(state): AxState<AppState>,
    Auth(who): Auth,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let v = visibility(&state, &who).await?;
    let f = ListFilter {
        state: State::parse(q.state.trim()).map(|s| s.as_str().to_string()),
        site_id: q.site,
        q: Some(q.q.clone()),
        flagged: false,
    };
    let rows = {
        let mut h = state.db.read().await?;
        store::list(&mut h.conn(), &v, &f, 300).await?
    };
    let ctx = json!({
        "rows": rows_json(&rows), "q": q.q, "state": q.state, "states": states(),
        "can_settings": who.has(Perm::SettingsManage), "can_supervise": who.has(Perm::Supervise),
    });
    Ok(render_with(&state, Some(&who), "console/interact/messages/list.html", ctx, "/console/messages")?
        .into_response())
}

pub async fn supervision(AxState(state): AxState<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let v = Visibility { sites: Vec::new(), orgs: vec![who.org_scope(Perm::Supervise)] };
    let f = ListFilter { flagged: true, ..Default::default() };
    let rows = {
        let mut h = state.db.read().await?;
        store::list(&mut h.conn(), &v, &f, 500).await?
    };
    let ctx = json!({ "rows": rows_json(&rows) });
    Ok(render_with(
        &state,
        Some(&who),
        "console/interact/messages/supervision.html",
        ctx,
        "/console/messages/supervision",
    )?
    .into_response())
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    saved: String,
}

async fn detail_ctx(state: &AppState, who: &Principal, id: i64) -> Result<Value, Error> {
    let ctx = service::load_for(&state.db, who, id).await?;
    let cal = gongkai_kernel::calendar::service::load(&state.db).await?;
    let (events, files) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        (store::events(&mut c, id, false).await?, store::files(&mut c, id).await?)
    };
    let orgs = gongkai_kernel::org::service::list(&state.db).await?;
    let m = &ctx.m;
    let st = State::parse(&m.state);
    let a = ctx.access;
    let is = |s: State| st == Some(s);
    let (pt, pc, pr) = service::masked(m);
    let last_level = m.review_passed + 1 >= m.review_levels;
    Ok(json!({
        "m": m,
        "site_name": ctx.site.name, "site_code": ctx.site.code,
        "addressee_name": if m.addressee == "leader" { format!("{}领导信箱", ctx.addressee.name) } else { ctx.addressee.name.clone() },
        "org_name": ctx.org.as_ref().map(|o| o.name.clone()),
        "state_label": state_label(&m.state),
        "kind_label": label(KINDS, &m.kind),
        "reject_label": m.reject_reason.as_deref().map(|r| label(REJECT_REASONS, r)),
        "rating_label": m.rating.as_deref().map(|r| label(RATINGS, r)),
        "explain": service::explain(&cal, m),
        "events": events.iter().map(|e| json!({ "e": e, "at": gongkai_kernel::clock::fmt_ms(e.at) })).collect::<Vec<_>>(),
        "orgs": orgs.iter().filter(|o| Some(o.id) != m.org_id).map(|o| json!({ "value": o.id, "label": o.name })).collect::<Vec<_>>(),
        "reasons": words(REJECT_REASONS),
        "files": files.iter().map(|f| json!({ "f": f, "size": size_label(f.size) })).collect::<Vec<_>>(),
        "masked": { "title": pt, "content": pc, "reply": pr, "name": crate::mask::mask_name(&m.name) },
        "access": a,
        "can_intake": a.desk && is(State::Submitted),
        "can_assign": (a.desk && is(State::Accepted)) || ((a.desk || a.handler) && is(State::Assigned)),
        "can_reply": a.handler && is(State::Assigned),
        "can_review": (a.desk || a.leader) && is(State::Replied),
        "last_level": last_level,
        "level": m.review_passed + 1,
        "can_send": (a.desk || a.handler) && is(State::Reviewed),
        "can_send_back": (a.desk || a.leader) && is(State::Reviewed),
        "can_publish": a.desk && is(State::Sent) && m.agree_publish == 1 && m.publish_ok == 1,
        "can_supervise": a.supervisor && !st.is_some_and(State::is_answered),
        "today": gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today()),
        "late": m.due_on.as_deref().and_then(parse_date).is_some_and(|d| gongkai_kernel::clock::today() > d) && st.is_some_and(State::clock_runs),
        "errors": {},
        "typed": {},
    }))
}

pub async fn detail(
    AxState(state): AxState<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> WebResult<Response> {
    let mut ctx = detail_ctx(&state, &who, id).await?;
    ctx["saved"] = json!(q.saved);
    Ok(render_with(&state, Some(&who), "console/interact/messages/detail.html", ctx, "/console/messages")?
        .into_response())
}

/// A file size as people read it.
fn size_label(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1024.0 / 1024.0)
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

/// An attachment, to whoever may see the message; always a download (never shown inline,
/// so a crafted file cannot run as a page of this site).
pub async fn file(
    AxState(state): AxState<AppState>,
    Auth(who): Auth,
    Path((id, fid)): Path<(i64, i64)>,
) -> WebResult<Response> {
    service::load_for(&state.db, &who, id).await?;
    let (meta, data) = {
        let mut h = state.db.read().await?;
        store::file_data(&mut h.conn(), id, fid).await?.ok_or(Error::NotFound)?
    };
    Ok(gongkai_kernel::web::ctx::attachment(&meta.name, &meta.name, &meta.content_type, data))
}

/// After a step: back to the page, or the page again with the form's errors and what was typed.
async fn after<T: serde::Serialize>(
    state: &AppState,
    who: &Principal,
    id: i64,
    form: &str,
    typed: &T,
    result: Result<impl Sized, Error>,
) -> WebResult<Response> {
    match result {
        Ok(_) => Ok(see_other(&format!("/console/messages/{id}?saved={form}"))),
        Err(Error::NotFound) => Err(Error::NotFound.into()),
        Err(e) => {
            let mut ctx = detail_ctx(state, who, id).await?;
            ctx["typed"] = json!({ form: typed });
            ctx["form"] = json!(form);
            Ok(form_error(state, who, "console/interact/messages/detail.html", ctx, e))
        }
    }
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct StepForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    reply: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    text: String,
}

gongkai_kernel::step_handlers! { after;
    accept, StepForm, "accept", |db, who, ip, id, _f| service::accept(db, who, ip, id);
    reject, StepForm, "reject", |db, who, ip, id, f| service::reject(db, who, ip, id, &f.reason, &f.note);
    assign, StepForm, "assign", |db, who, ip, id, f| service::assign(db, who, ip, id, &f.org_id, &f.note);
    reply, StepForm, "reply", |db, who, ip, id, f| service::draft(db, who, ip, id, &f.reply);
    review, ReviewForm, "review", |db, who, ip, id, f| service::review(db, who, ip, id, f);
    send, StepForm, "send", |db, who, ip, id, _f| service::send(db, who, ip, id);
    publish, StepForm, "publish", |db, who, ip, id, _f| service::publish(db, who, ip, id);
    supervise, StepForm, "supervise", |db, who, ip, id, f| service::supervise(db, who, ip, id, &f.kind, &f.text);
}

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    #[serde(default)]
    site: Option<i64>,
    #[serde(default)]
    saved: String,
}

async fn settings_ctx(state: &AppState, site: Option<i64>) -> Result<Value, Error> {
    let mut h = state.db.read().await?;
    let mut c = h.conn();
    let sites: Vec<_> = gongkai_kernel::site::store::all(&mut c).await?.into_iter().filter(|s| !s.external).collect();
    let Some(site) = site.and_then(|id| sites.iter().find(|s| s.id == id)).or(sites.first()) else {
        return Ok(json!({ "sites": [], "errors": {} }));
    };
    let levels = store::review_levels(&mut c, site.id).await?;
    let days = store::deadlines(&mut c, site.id).await?;
    let typed: serde_json::Map<String, Value> = KINDS
        .iter()
        .map(|(k, _)| {
            let d = days.iter().find(|(dk, _)| dk == k).map(|(_, d)| d.to_string()).unwrap_or_default();
            (k.to_string(), json!(d))
        })
        .chain([("review_levels".to_string(), json!(levels.to_string()))])
        .collect();
    Ok(json!({
        "sites": sites.iter().map(|s| json!({ "value": s.id, "label": s.name })).collect::<Vec<_>>(),
        "site_id": site.id, "site_name": site.name,
        "kinds": words(KINDS), "typed": typed, "default_days": super::rules::DEFAULT_DAYS,
        "errors": {},
    }))
}

pub async fn settings(
    AxState(state): AxState<AppState>,
    Auth(who): Auth,
    Query(q): Query<SettingsQuery>,
) -> WebResult<Response> {
    let mut ctx = settings_ctx(&state, q.site).await?;
    ctx["saved"] = json!(q.saved == "1");
    Ok(render_with(&state, Some(&who), "console/interact/messages/settings.html", ctx, "/console/messages")?
        .into_response())
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct SettingsBody {
    #[serde(default)]
    site_id: i64,
    #[serde(flatten)]
    f: SettingsForm,
}

pub async fn settings_save(
    AxState(state): AxState<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(b): CsrfForm<SettingsBody>,
) -> WebResult<Response> {
    match service::save_settings(&state.db, &who, &ip, b.site_id, &b.f).await {
        Ok(()) => Ok(see_other(&format!("/console/messages/settings?site={}&saved=1", b.site_id))),
        Err(e) => {
            let mut ctx = settings_ctx(&state, Some(b.site_id)).await?;
            ctx["typed"] = json!(&b.f);
            Ok(form_error(&state, &who, "console/interact/messages/settings.html", ctx, e))
        }
    }
}

#[derive(Deserialize, Default)]
pub struct StatsQuery {
    #[serde(default)]
    site: Option<i64>,
    #[serde(default)]
    org: Option<i64>,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub async fn stats_page(
    AxState(state): AxState<AppState>,
    Auth(who): Auth,
    Query(q): Query<StatsQuery>,
) -> WebResult<Response> {
    let (sites, orgs) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        (gongkai_kernel::site::store::all(&mut c).await?, gongkai_kernel::org::store::all(&mut c).await?)
    };
    // Figures are for the sites one runs the desk of, or the organisations one handles,
    // leads or supervises.
    let site_ok = |s: &gongkai_kernel::site::Site| {
        service::may_desk(&who, s, s.org_id.and_then(|id| orgs.iter().find(|o| o.id == id)))
    };
    let org_ok = |o: &gongkai_kernel::org::Org| {
        [Perm::CaseHandle, Perm::LeaderView, Perm::Supervise].iter().any(|p| who.can(*p, Some(&o.path), None))
    };
    let today = gongkai_kernel::clock::today();
    let from = parse_date(&q.from).unwrap_or_else(|| today.replace_ordinal(1).unwrap_or(today));
    let to = parse_date(&q.to).unwrap_or(today);
    let site = q.site.and_then(|id| sites.iter().find(|s| s.id == id));
    let org = q.org.and_then(|id| orgs.iter().find(|o| o.id == id));
    let allowed = match (site, org) {
        (_, Some(o)) => org_ok(o) || site.is_some_and(&site_ok),
        (Some(s), None) => site_ok(s),
        (None, None) => who.org_scope(Perm::Supervise) == gongkai_kernel::auth::OrgScope::All,
    };
    let mut ctx = json!({
        "sites": sites.iter().filter(|s| site_ok(s)).map(|s| json!({ "value": s.id, "label": s.name })).collect::<Vec<_>>(),
        "orgs": orgs.iter().filter(|o| org_ok(o) || sites.iter().any(&site_ok)).map(|o| json!({ "value": o.id, "label": o.name })).collect::<Vec<_>>(),
        "site_id": q.site, "org_id": q.org,
        "from": gongkai_kernel::clock::fmt_date(from), "to": gongkai_kernel::clock::fmt_date(to),
        "allowed": allowed,
    });
    if allowed && from <= to {
        let s = super::stats(&state.db, site.map(|s| s.id), org.map(|o| o.path.as_str()), from, to).await?;
        ctx["stats"] = json!(s);
        ctx["rows"] =
            json!(s.by_kind.iter().map(|(k, c)| json!({ "label": label(KINDS, k), "c": c })).collect::<Vec<_>>());
        ctx["org_rows"] = json!(s.by_org.iter().map(|(o, c)| json!({ "label": o, "c": c })).collect::<Vec<_>>());
    }
    Ok(render_with(&state, Some(&who), "console/interact/messages/stats.html", ctx, "/console/messages")?
        .into_response())
}
