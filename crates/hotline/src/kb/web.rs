//! Console pages of the knowledge base: the list (search box, state, category and 待更新
//! filters, paging), a new entry (from scratch or from an answered order), one entry with
//! its edit, review and retire forms, and the JSON search the agent screen calls. Routes
//! are open to every signed-in user; `service` decides who acts.

use axum::Json;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use gongkai_kernel::auth::Principal;
use gongkai_kernel::error::Error;
use gongkai_kernel::web::ctx::{form_error, render_with, see_other};
use gongkai_kernel::web::{AppState, Auth, ClientIp, CsrfForm, NavItem, WebResult};

use super::service::{self, EntryForm, ListQuery};
use crate::model::KbState;

gongkai_kernel::console_routes! { ROUTES, router;
    get  "/console/hotline/kb" Console => list;
    get  "/console/hotline/kb/new" Console => new_form;
    post "/console/hotline/kb/new" Console => create;
    get  "/console/hotline/kb/search.json" Console => search_json;
    get  "/console/hotline/kb/{id}" Console => detail;
    post "/console/hotline/kb/{id}/edit" Console => edit;
    post "/console/hotline/kb/{id}/approve" Console => approve;
    post "/console/hotline/kb/{id}/reject" Console => reject;
    post "/console/hotline/kb/{id}/retire" Console => retire;
}

pub const NAV: &[NavItem] =
    &[NavItem { href: "/console/hotline/kb", label: "知识库", perm: gongkai_kernel::auth::Perm::Console }];

const HERE: &str = "/console/hotline/kb";

/// Options of the form's selects: categories and organisations.
async fn options(state: &AppState) -> Result<(Vec<Value>, Vec<Value>), Error> {
    let mut h = state.db.read().await?;
    let mut c = h.conn();
    let cats = crate::store::categories(&mut c)
        .await?
        .into_iter()
        .filter(|c| c.active == 1)
        .map(|c| json!({ "value": c.id, "label": c.path }))
        .collect();
    let orgs = gongkai_kernel::org::store::all(&mut c)
        .await?
        .into_iter()
        .map(|o| json!({ "value": o.id, "label": o.name }))
        .collect();
    Ok((cats, orgs))
}

fn states() -> Vec<Value> {
    KbState::ALL.iter().map(|s| json!({ "value": s.as_str(), "label": s.label_zh() })).collect()
}

pub async fn list(
    AxState(state): AxState<AppState>,
    Auth(who): Auth,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let (rows, total) = service::list(&state.db, &who, &q).await?;
    let (cats, _) = options(&state).await?;
    let page = q.page.unwrap_or(1).max(1);
    let pages = total.div_ceil(service::PAGE).max(1);
    // The filters again, for the pager's links.
    let keep = [
        ("q", q.q.as_str()),
        ("state", q.state.as_str()),
        ("category", q.category.as_str()),
        ("stale", q.stale.as_str()),
        ("review", q.review.as_str()),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={}", gongkai_kernel::web::ctx::rfc5987(v)))
    .collect::<Vec<_>>()
    .join("&");
    let ctx = json!({
        "rows": rows, "total": total, "page": page, "pages": pages, "keep": keep,
        "f": q, "states": states(), "categories": cats,
        "can_propose": service::may_propose(&who),
    });
    Ok(render_with(&state, Some(&who), "console/hotline/kb/list.html", ctx, HERE)?.into_response())
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    from_order: Option<i64>,
}

async fn form_ctx(state: &AppState, typed: &EntryForm, source: Option<&service::SourceOrder>) -> Result<Value, Error> {
    let (cats, orgs) = options(state).await?;
    Ok(json!({ "typed": typed, "categories": cats, "orgs": orgs, "source": source, "errors": {} }))
}

pub async fn new_form(
    AxState(state): AxState<AppState>,
    Auth(who): Auth,
    Query(q): Query<NewQuery>,
) -> WebResult<Response> {
    if !service::may_propose(&who) {
        return Err(Error::Forbidden("只有热线中心坐席和承办人员可以提议知识库条目".into()).into());
    }
    let (typed, source) = match q.from_order {
        Some(id) => {
            let (f, s) = service::prefill_from_order(&state.db, &who, id).await?;
            (f, Some(s))
        }
        None => {
            let owner = service::default_owner(&state.db, &who).await?;
            (EntryForm { org_id: owner.map(|i| i.to_string()).unwrap_or_default(), ..Default::default() }, None)
        }
    };
    let ctx = form_ctx(&state, &typed, source.as_ref()).await?;
    Ok(render_with(&state, Some(&who), "console/hotline/kb/new.html", ctx, HERE)?.into_response())
}

pub async fn create(
    AxState(state): AxState<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<EntryForm>,
) -> WebResult<Response> {
    match service::propose(&state.db, &who, &ip, &f).await {
        Ok(r) => Ok(see_other(&format!("/console/hotline/kb/{}?saved=propose", r.id))),
        Err(e) => {
            // The source order's text again, when the proposal came from one.
            let source = match f.from_order.trim().parse::<i64>() {
                Ok(id) => service::prefill_from_order(&state.db, &who, id).await.ok().map(|(_, s)| s),
                Err(_) => None,
            };
            let ctx = form_ctx(&state, &f, source.as_ref()).await?;
            Ok(form_error(&state, &who, "console/hotline/kb/new.html", ctx, e))
        }
    }
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<usize>,
}

/// `[{"id", "question", "answer", "category", "source", "valid_until", "stale", "score"}]`,
/// active entries only, best first.
pub async fn search_json(AxState(state): AxState<AppState>, Auth(who): Auth, Query(q): Query<SearchQuery>) -> Response {
    match service::search(&state.db, &who, &q.q, q.limit.unwrap_or(8)).await {
        Ok(hits) => Json(hits).into_response(),
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let msg = match &e {
                Error::Forbidden(m) => m.clone(),
                Error::Db(_) | Error::Internal(_) => {
                    tracing::error!(error = %e, "知识库检索失败");
                    "服务器暂时无法完成检索，请稍后重试".into()
                }
                other => other.to_string(),
            };
            (status, Json(json!({ "error": msg }))).into_response()
        }
    }
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    saved: String,
}

async fn detail_ctx(state: &AppState, who: &Principal, id: i64) -> Result<Value, Error> {
    let r = service::get(&state.db, id).await?;
    let (cats, orgs) = options(state).await?;
    let today = gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today());
    let typed = EntryForm {
        question: r.question.clone(),
        answer: r.answer.clone(),
        category_id: r.category_id.map(|i| i.to_string()).unwrap_or_default(),
        source: r.source.clone(),
        valid_until: r.valid_until.clone().unwrap_or_default(),
        org_id: r.org_id.to_string(),
        from_order: String::new(),
    };
    Ok(json!({
        "k": r,
        "state_label": service::state_label(&r.state),
        "stale": r.state == KbState::Active.as_str() && service::is_stale(r.valid_until.as_deref(), &today),
        "can": service::abilities(who, &r),
        "created": gongkai_kernel::clock::fmt_ms(r.created_at),
        "updated": gongkai_kernel::clock::fmt_ms(r.updated_at),
        "categories": cats, "orgs": orgs,
        "typed": { "edit": typed },
        "errors": {},
    }))
}

pub async fn detail(
    AxState(state): AxState<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> WebResult<Response> {
    let mut ctx = detail_ctx(&state, &who, id).await?;
    ctx["saved"] = json!(!q.saved.is_empty());
    Ok(render_with(&state, Some(&who), "console/hotline/kb/detail.html", ctx, HERE)?.into_response())
}

/// After a step: back to the entry, or its page again with the form's errors and what was typed.
async fn after<T: serde::Serialize>(
    state: &AppState,
    who: &Principal,
    id: i64,
    form: &str,
    typed: &T,
    result: Result<impl Sized, Error>,
) -> WebResult<Response> {
    match result {
        Ok(_) => Ok(see_other(&format!("/console/hotline/kb/{id}?saved={form}"))),
        Err(Error::NotFound) => Err(Error::NotFound.into()),
        Err(e) => {
            let mut ctx = detail_ctx(state, who, id).await?;
            ctx["typed"][form] = json!(typed);
            ctx["form"] = json!(form);
            Ok(form_error(state, who, "console/hotline/kb/detail.html", ctx, e))
        }
    }
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
}

gongkai_kernel::step_handlers! { after;
    edit, EntryForm, "edit", |db, who, ip, id, f| service::edit(db, who, ip, id, f);
    approve, NoteForm, "approve", |db, who, ip, id, f| service::review(db, who, ip, id, true, &f.note);
    reject, NoteForm, "reject", |db, who, ip, id, f| service::review(db, who, ip, id, false, &f.note);
    retire, NoteForm, "retire", |db, who, ip, id, f| service::retire(db, who, ip, id, &f.note);
}
