//! Console pages of 征集调查: the list, creating and editing, the questions editor,
//! the draft's files, comment moderation, publishing, closing early, the feedback and the
//! export of responses. The public pages are in `pages.rs` and merged into the router.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use gongkai_kernel::auth::{OrgScope, Perm, Principal};
use gongkai_kernel::clock;
use gongkai_kernel::error::Error;
use gongkai_kernel::web::ctx::{form_error, render_with, see_other};
use gongkai_kernel::web::{AppState, Auth, ClientIp, CsrfForm, CsrfUpload, NavItem, Slice, WebResult};

use super::rules::{self, Kind};
use super::service::{self, Survey, SurveyForm};
use super::{export, store};

gongkai_kernel::console_routes! { ROUTES, router;
    get  "/console/surveys" ContentView => list;
    get  "/console/surveys/new" ContentEdit => new_form;
    post "/console/surveys/new" ContentEdit => create;
    get  "/console/surveys/{id}" ContentView => detail;
    post "/console/surveys/{id}" ContentEdit => update;
    post "/console/surveys/{id}/questions" ContentEdit => questions;
    post "/console/surveys/{id}/files" ContentEdit => upload;
    get  "/console/surveys/{id}/files/{fid}" ContentView => file;
    post "/console/surveys/{id}/files/{fid}/delete" ContentEdit => file_delete;
    post "/console/surveys/{id}/comments/{cid}/approve" ContentEdit => approve;
    post "/console/surveys/{id}/comments/{cid}/reject" ContentEdit => reject;
    post "/console/surveys/{id}/publish" ContentReview => publish;
    post "/console/surveys/{id}/close" ContentReview => close;
    post "/console/surveys/{id}/feedback" ContentReview => feedback;
    get  "/console/surveys/{id}/export.csv" ContentView => export_csv;
    get  "/console/surveys/{id}/export.xlsx" ContentView => export_xlsx;
}

const NAV: &[NavItem] = &[NavItem { href: "/console/surveys", label: "征集调查", perm: Perm::ContentView }];

pub fn slice() -> Slice {
    Slice {
        name: "surveys",
        routes: ROUTES,
        router: || router().merge(super::pages::router()),
        templates: crate::template_source,
        nav: NAV,
    }
}

const HOME: &str = "/console/surveys";

fn kinds() -> Value {
    Value::Array(Kind::ALL.iter().map(|k| json!({ "value": k.as_str(), "label": k.label_zh() })).collect())
}

/// A survey as the console lists it.
fn summary(s: &Survey, site_name: &str, today: time::Date) -> Value {
    let phase = s.phase(today);
    json!({
        "id": s.row.id,
        "title": s.row.title,
        "kind": s.kind.as_str(),
        "kind_label": s.kind.label_zh(),
        "site_name": site_name,
        "org_name": s.org_name,
        "opens_on": s.row.opens_on,
        "closes_on": s.row.closes_on,
        "phase": phase.as_str(),
        "phase_label": phase.label_zh(),
        "result": s.state == rules::State::Result,
        "closed_early": s.row.closed_at.map(clock::fmt_ms),
    })
}

async fn site_names(state: &AppState) -> Result<Vec<gongkai_kernel::site::Site>, Error> {
    let mut h = state.db.read().await?;
    Ok(gongkai_kernel::site::store::all(&mut h.conn()).await?.into_iter().filter(|s| !s.external).collect())
}

fn site_name(sites: &[gongkai_kernel::site::Site], id: i64) -> String {
    sites.iter().find(|s| s.id == id).map(|s| s.name.clone()).unwrap_or_default()
}

pub async fn list(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let ids: Vec<i64> = {
        let mut h = state.db.read().await?;
        store::all(&mut h.conn(), None).await?.into_iter().map(|r| r.id).collect()
    };
    let sites = site_names(&state).await?;
    let today = clock::today();
    let mut rows = Vec::new();
    for id in ids {
        // Outside the principal's scope: not listed.
        if let Ok(s) = service::load_for(&state.db, &who, id).await {
            rows.push(summary(&s, &site_name(&sites, s.row.site_id), today));
        }
    }
    let ctx = json!({ "rows": rows, "can_edit": who.has(Perm::ContentEdit) });
    Ok(render_with(&state, Some(&who), "console/interact/surveys/list.html", ctx, HOME)?.into_response())
}

/// The organisations the principal may start a survey for, and the sites.
async fn choices(state: &AppState, who: &Principal) -> Result<Value, Error> {
    let orgs = gongkai_kernel::org::service::list(&state.db).await?;
    let scope = who.org_scope(Perm::ContentEdit);
    let orgs: Vec<Value> = orgs
        .iter()
        .filter(|o| match &scope {
            OrgScope::All => true,
            OrgScope::Paths(ps) => ps.iter().any(|p| o.path.starts_with(p.as_str())),
            OrgScope::None => false,
        })
        .map(|o| json!({ "value": o.id, "label": o.name }))
        .collect();
    let sites: Vec<Value> =
        site_names(state).await?.iter().map(|s| json!({ "value": s.id, "label": s.name })).collect();
    Ok(json!({ "orgs": orgs, "sites": sites, "kinds": kinds() }))
}

pub async fn new_form(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let today = clock::today();
    let typed = json!({
        "org_id": who.org_id,
        "kind": "solicitation",
        "opens_on": clock::fmt_date(today),
        "closes_on": clock::fmt_date(today.saturating_add(time::Duration::days(30))),
    });
    let ctx = json!({ "choices": choices(&state, &who).await?, "typed": typed, "errors": {} });
    Ok(render_with(&state, Some(&who), "console/interact/surveys/new.html", ctx, HOME)?.into_response())
}

pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<SurveyForm>,
) -> WebResult<Response> {
    match service::create(&state.db, &who, &ip, &f).await {
        Ok(id) => Ok(see_other(&format!("{HOME}/{id}?saved=1"))),
        Err(e) => {
            let ctx = json!({ "choices": choices(&state, &who).await?, "typed": f });
            Ok(form_error(&state, &who, "console/interact/surveys/new.html", ctx, e))
        }
    }
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    saved: String,
}

fn fmt_opt(ms: Option<i64>) -> Option<String> {
    ms.map(clock::fmt_ms)
}

async fn detail_ctx(state: &AppState, who: &Principal, id: i64) -> Result<Value, Error> {
    let s = service::load_for(&state.db, who, id).await?;
    let sites = site_names(state).await?;
    let today = clock::today();
    let (files, comments, (responses, _, pending)) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        (store::files(&mut c, id).await?, store::comments(&mut c, id, None).await?, store::tallies(&mut c, id).await?)
    };
    let comments: Vec<Value> = comments
        .iter()
        .map(|m| {
            json!({ "m": m, "at": clock::fmt_ms(m.created_at),
                    "state_label": match m.state.as_str() { "pending" => "待审核", "approved" => "已公开", _ => "未采用公开" } })
        })
        .collect();
    let results = if s.kind == Kind::Questionnaire { service::results(&state.db, &s).await? } else { Vec::new() };
    let site_code = sites.iter().find(|x| x.id == s.row.site_id).map(|x| x.code.clone()).unwrap_or_default();
    Ok(json!({
        "s": summary(&s, &site_name(&sites, s.row.site_id), today),
        "row": s.row,
        "public_url": format!("/hudong/{site_code}/zhengji/{id}"),
        "published_at": fmt_opt(s.row.published_at),
        "feedback_at": fmt_opt(s.row.feedback_at),
        "feedback_label": s.kind.feedback_zh(),
        "draft": s.state == rules::State::Draft,
        "closed": s.phase(today) == rules::Phase::Closed,
        "questions_text": rules::to_text(&s.questions),
        "question_count": s.questions.len(),
        "files": files,
        "comments": comments,
        "pending": pending,
        "responses": responses,
        "results": results,
        "can_edit": service::may(who, Perm::ContentEdit, &s),
        "can_review": service::may(who, Perm::ContentReview, &s),
        "choices": choices(state, who).await?,
        "typed": {
            "org_id": s.row.org_id, "title": s.row.title, "description": s.row.description, "body": s.row.body,
            "opens_on": s.row.opens_on, "closes_on": s.row.closes_on, "feedback": s.row.feedback,
        },
        "errors": {},
    }))
}

pub async fn detail(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> WebResult<Response> {
    let mut ctx = detail_ctx(&state, &who, id).await?;
    ctx["saved"] = json!(!q.saved.is_empty());
    Ok(render_with(&state, Some(&who), "console/interact/surveys/detail.html", ctx, HOME)?.into_response())
}

/// After a step: back to the page, or the page again with the form's errors and what
/// was typed (merged over the stored values).
async fn after(
    state: &AppState,
    who: &Principal,
    id: i64,
    anchor: &str,
    typed: Value,
    result: Result<(), Error>,
) -> WebResult<Response> {
    match result {
        Ok(()) => Ok(see_other(&format!("{HOME}/{id}?saved=1#{anchor}"))),
        Err(Error::NotFound) => Err(Error::NotFound.into()),
        Err(e) => {
            let mut ctx = detail_ctx(state, who, id).await?;
            if let (Value::Object(into), Value::Object(from)) = (&mut ctx["typed"], typed) {
                into.extend(from);
            }
            ctx["form"] = json!(anchor);
            Ok(form_error(state, who, "console/interact/surveys/detail.html", ctx, e))
        }
    }
}

pub async fn update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<SurveyForm>,
) -> WebResult<Response> {
    let r = service::update(&state.db, &who, &ip, id, &f).await;
    after(&state, &who, id, "basics", json!(f), r).await
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct QuestionsForm {
    #[serde(default)]
    questions: String,
    #[serde(default)]
    version: String,
}

pub async fn questions(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<QuestionsForm>,
) -> WebResult<Response> {
    let r = service::save_questions(&state.db, &who, &ip, id, &f.questions, &f.version).await;
    after(&state, &who, id, "questions", json!({ "questions": f.questions }), r).await
}

pub async fn upload(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfUpload(file): CsrfUpload,
) -> WebResult<Response> {
    let r = match file {
        Some((name, data)) => service::add_file(&state.db, &who, &ip, id, &name, data).await.map(|_| ()),
        None => Err(Error::field("file", "请选择要上传的征集稿文件")),
    };
    after(&state, &who, id, "files", json!({}), r).await
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct Empty {}

pub async fn file_delete(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path((id, fid)): Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let r = service::delete_file(&state.db, &who, &ip, id, fid).await;
    after(&state, &who, id, "files", json!({}), r).await
}

/// A stored draft file as a download.
pub fn attachment(meta: &store::FileRow, data: Vec<u8>) -> Response {
    gongkai_kernel::web::ctx::attachment(&meta.name, &meta.name, &meta.content_type, data)
}

pub async fn file(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((id, fid)): Path<(i64, i64)>,
) -> WebResult<Response> {
    service::load_for(&state.db, &who, id).await?;
    let (meta, data) = {
        let mut h = state.db.read().await?;
        store::file_data(&mut h.conn(), id, fid).await?.ok_or(Error::NotFound)?
    };
    Ok(attachment(&meta, data))
}

async fn moderate(state: AppState, who: &Principal, ip: &str, id: i64, cid: i64, approve: bool) -> WebResult<Response> {
    let r = service::moderate(&state.db, who, ip, id, cid, approve).await;
    after(&state, who, id, "comments", json!({}), r).await
}

pub async fn approve(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path((id, cid)): Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    moderate(state, &who, &ip, id, cid, true).await
}

pub async fn reject(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path((id, cid)): Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    moderate(state, &who, &ip, id, cid, false).await
}

pub async fn publish(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let r = service::publish(&state.db, &who, &ip, id, clock::today()).await;
    after(&state, &who, id, "state", json!({}), r).await
}

pub async fn close(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let r = service::close(&state.db, &who, &ip, id, clock::today()).await;
    after(&state, &who, id, "state", json!({}), r).await
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct FeedbackForm {
    #[serde(default)]
    feedback: String,
}

pub async fn feedback(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<FeedbackForm>,
) -> WebResult<Response> {
    let r = service::publish_feedback(&state.db, &who, &ip, id, &f.feedback, clock::today()).await;
    after(&state, &who, id, "feedback", json!(f), r).await
}

/// The export table of a questionnaire the principal may see.
async fn export_table(state: &AppState, who: &Principal, id: i64) -> Result<(Survey, export::Table), Error> {
    let s = service::load_for(&state.db, who, id).await?;
    if s.kind != Kind::Questionnaire {
        return Err(Error::NotFound);
    }
    let rows: Vec<(String, rules::Answers)> =
        service::answers(&state.db, id).await?.into_iter().map(|(r, a)| (clock::fmt_ms(r.created_at), a)).collect();
    let t = export::table(&s.questions, &rows);
    Ok((s, t))
}

fn download(name: String, content_type: &str, data: Vec<u8>) -> Response {
    gongkai_kernel::web::ctx::attachment(&name, &name, content_type, data)
}

pub async fn export_csv(State(state): State<AppState>, Auth(who): Auth, Path(id): Path<i64>) -> WebResult<Response> {
    let (s, t) = export_table(&state, &who, id).await?;
    Ok(download(format!("问卷答卷-{}.csv", s.row.id), "text/csv; charset=utf-8", export::to_csv(&t)))
}

pub async fn export_xlsx(State(state): State<AppState>, Auth(who): Auth, Path(id): Path<i64>) -> WebResult<Response> {
    let (s, t) = export_table(&state, &who, id).await?;
    let data = export::to_xlsx(&t, "答卷")?;
    Ok(download(
        format!("问卷答卷-{}.xlsx", s.row.id),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        data,
    ))
}
