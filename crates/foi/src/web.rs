//! Console pages of 依申请公开: the worklist, registration, one request with its clock,
//! timeline and the forms of every step, letters (print and DOCX), statistics and the
//! letter templates. Handlers parse, authorise and call `service`.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::RustEmbed;
use serde::Deserialize;
use serde_json::{Value, json};

use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::error::Error;
use gongkai_kernel::web::ctx::{form_error, render_with, see_other};
use gongkai_kernel::web::{AppState, Auth, ClientIp, CsrfForm, CsrfUpload, NavItem, Slice, WebResult};

use crate::model::*;
use crate::service::{self, ApplicationForm, EvidenceForm};
use crate::{letter, rules, stats, store};

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Templates;

fn template_source(name: &str) -> Option<String> {
    Templates::get(name).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

gongkai_kernel::console_routes! { FOI_ROUTES, foi_router;
    get  "/console/foi" DisclosureView => list;
    get  "/console/foi/new" DisclosureHandle => new_form;
    post "/console/foi/new" DisclosureHandle => create;
    get  "/console/foi/stats" DisclosureView => stats_page;
    get  "/console/foi/templates" SettingsManage => templates;
    post "/console/foi/templates" SettingsManage => template_save;
    post "/console/foi/reviews/{rid}" DisclosureHandle => review_update;
    get  "/console/foi/{id}" DisclosureView => detail;
    post "/console/foi/{id}/receipt" DisclosureHandle => receipt;
    post "/console/foi/{id}/correction" DisclosureHandle => correction;
    post "/console/foi/{id}/correction/received" DisclosureHandle => correction_received;
    post "/console/foi/{id}/consultation" DisclosureHandle => consultation;
    post "/console/foi/{id}/consultation/end" DisclosureHandle => consultation_end;
    post "/console/foi/{id}/fee" DisclosureHandle => fee;
    post "/console/foi/{id}/fee/paid" DisclosureHandle => fee_paid;
    post "/console/foi/{id}/extension" DisclosureHandle => extension;
    post "/console/foi/{id}/longer" DisclosureHandle => longer;
    post "/console/foi/{id}/decision" DisclosureHandle => decision;
    post "/console/foi/{id}/letter" DisclosureHandle => issue_letter;
    post "/console/foi/{id}/delivery" DisclosureHandle => delivery;
    post "/console/foi/{id}/files" DisclosureHandle => upload;
    post "/console/foi/{id}/reviews" DisclosureHandle => review_add;
    get  "/console/foi/{id}/files/{fid}" DisclosureView => file;
    get  "/console/foi/{id}/letters/{lid}" DisclosureView => letter_page;
    get  "/console/foi/{id}/letters/{lid}/docx" DisclosureView => letter_docx;
}

const NAV: &[NavItem] = &[
    NavItem { href: "/console/foi", label: "依申请公开", perm: Perm::DisclosureView },
    NavItem { href: "/console/foi/stats", label: "依申请公开统计", perm: Perm::DisclosureView },
];

pub fn slice() -> Slice {
    Slice {
        name: "foi",
        routes: FOI_ROUTES,
        router: || foi_router().merge(crate::public::router()),
        templates: template_source,
        nav: NAV,
    }
}

fn options<T: Copy>(all: &[T], value: fn(T) -> &'static str, label: fn(T) -> &'static str) -> Value {
    Value::Array(all.iter().map(|x| json!({ "value": value(*x), "label": label(*x) })).collect())
}

/// The choice lists every form uses.
pub fn choices() -> Value {
    json!({
        "applicant_kinds": options(ApplicantKind::ALL, ApplicantKind::as_str, ApplicantKind::label_zh),
        "id_types": options(IdType::ALL, IdType::as_str, IdType::label_zh),
        "forms": options(FormWanted::ALL, FormWanted::as_str, FormWanted::label_zh),
        "deliveries": options(Delivery::ALL, Delivery::as_str, Delivery::label_zh),
        "channels": options(&Channel::ALL[1..], Channel::as_str, Channel::label_zh),
        "states": options(RequestState::ALL, RequestState::as_str, RequestState::label_zh),
        "answers": options(Answer::ALL, Answer::as_str, Answer::label_zh),
        "grounds": options(Ground::ALL, Ground::as_str, Ground::label_zh),
        "schemes": options(FeeScheme::ALL, FeeScheme::as_str, FeeScheme::label_zh),
        "review_kinds": options(ReviewKind::ALL, ReviewKind::as_str, ReviewKind::label_zh),
        "review_results": options(ReviewResult::ALL, ReviewResult::as_str, ReviewResult::label_zh),
    })
}

fn label<T>(parse: fn(&str) -> Option<T>, label: fn(T) -> &'static str, v: &str) -> &'static str {
    parse(v).map(label).unwrap_or("")
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    q: String,
}

pub async fn list(State(state): State<AppState>, Auth(who): Auth, Query(q): Query<ListQuery>) -> WebResult<Response> {
    let f = store::ListFilter {
        state: RequestState::parse(q.state.trim()).map(|s| s.as_str().to_string()),
        overdue: q.overdue == "1",
        q: Some(q.q.clone()),
        ..Default::default()
    };
    let rows = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        store::list(&mut c, &who.org_scope(Perm::DisclosureView), &f, 200).await?
    };
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "r": r,
                "state_label": label(RequestState::parse, RequestState::label_zh, &r.state),
                "kind_label": label(ApplicantKind::parse, ApplicantKind::label_zh, &r.applicant_kind),
                "channel_label": label(Channel::parse, Channel::label_zh, &r.channel),
                "outcome_label": r.outcome.as_deref().map(|o| label(Outcome::parse, Outcome::label_zh, o)).unwrap_or(""),
            })
        })
        .collect();
    let ctx = json!({ "rows": rows, "q": q.q, "state": q.state, "overdue": q.overdue == "1", "choices": choices(),
                      "can_handle": who.has(Perm::DisclosureHandle) });
    Ok(render_with(&state, Some(&who), "console/foi/list.html", ctx, "/console/foi")?.into_response())
}

async fn handle_orgs(state: &AppState, who: &Principal) -> Result<Value, Error> {
    let orgs = gongkai_kernel::org::service::list(&state.db).await?;
    Ok(Value::Array(
        orgs.iter()
            .filter(|o| service::may_handle(who, &o.path))
            .map(|o| json!({ "value": o.id, "label": o.name }))
            .collect(),
    ))
}

pub async fn new_form(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let orgs = handle_orgs(&state, &who).await?;
    let typed = json!({
        "org_id": who.org_id,
        "submitted_on": gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today()),
        "channel": "in_person",
        "idem": gongkai_kernel::random_token::<16>(),
    });
    let ctx = json!({ "orgs": orgs, "choices": choices(), "typed": typed, "errors": {} });
    Ok(render_with(&state, Some(&who), "console/foi/new.html", ctx, "/console/foi")?.into_response())
}

#[derive(Deserialize, serde::Serialize)]
pub struct RegisterForm {
    #[serde(flatten)]
    app: ApplicationForm,
    #[serde(flatten)]
    ev: EvidenceForm,
}

pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<RegisterForm>,
) -> WebResult<Response> {
    match service::register(&state.db, &who, &ip, &f.app, &f.ev).await {
        // A repeated submission (same key) lands on the request already registered.
        Ok((r, code)) if code.is_empty() => Ok(see_other(&format!("/console/foi/{}", r.id))),
        // The 查询码 is shown once, on this response, never in a URL (addresses end up in logs).
        Ok((r, code)) => {
            let mut ctx = detail_ctx(&state, &who, r.id).await?;
            ctx["saved"] = json!("registered");
            ctx["code"] = json!(code);
            Ok(render_with(&state, Some(&who), "console/foi/detail.html", ctx, "/console/foi")?.into_response())
        }
        Err(e) => {
            let orgs = handle_orgs(&state, &who).await?;
            let ctx = json!({ "orgs": orgs, "choices": choices(), "typed": f });
            Ok(form_error(&state, &who, "console/foi/new.html", ctx, e))
        }
    }
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    saved: String,
}

/// Everything the detail page shows.
async fn detail_ctx(state: &AppState, who: &Principal, id: i64) -> Result<Value, Error> {
    let (r, org) = service::load_for(&state.db, who, id).await?;
    let cal = gongkai_kernel::calendar::service::load(&state.db).await?;
    let (steps, events, letters, files, reviews) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        (
            store::steps(&mut c, id).await?,
            store::events(&mut c, id, false).await?,
            store::letters(&mut c, id).await?,
            store::files(&mut c, id).await?,
            store::reviews(&mut c, id).await?,
        )
    };
    let clock = rules::clock(&cal, &service::clock_input(&r, &steps));
    let today = gongkai_kernel::clock::today();
    let evidence: Value = serde_json::from_str(&r.evidence).unwrap_or(json!({}));
    let extension: Value = serde_json::from_str(&r.extension).unwrap_or(json!({}));
    let events: Vec<Value> =
        events.iter().map(|e| json!({ "e": e, "at": gongkai_kernel::clock::fmt_ms(e.at) })).collect();
    let reviews: Vec<Value> = reviews
        .iter()
        .map(|v| {
            json!({ "v": v, "kind_label": label(ReviewKind::parse, ReviewKind::label_zh, &v.kind),
                    "result_label": label(ReviewResult::parse, ReviewResult::label_zh, &v.result) })
        })
        .collect();
    let open_step = |k: StepKind| steps.iter().rev().find(|s| s.kind == k.as_str() && s.ended_on.is_none()).cloned();
    Ok(json!({
        "r": r,
        "org": { "id": org.id, "name": org.name },
        "state_label": label(RequestState::parse, RequestState::label_zh, &r.state),
        "channel_label": label(Channel::parse, Channel::label_zh, &r.channel),
        "kind_label": label(ApplicantKind::parse, ApplicantKind::label_zh, &r.applicant_kind),
        "id_type_label": label(IdType::parse, IdType::label_zh, &r.id_type),
        "form_label": label(FormWanted::parse, FormWanted::label_zh, &r.form_wanted),
        "delivery_label": label(Delivery::parse, Delivery::label_zh, &r.delivery),
        "answer_label": r.answer.as_deref().map(|a| label(Answer::parse, Answer::label_zh, a)).unwrap_or(""),
        "ground_label": r.ground.as_deref().map(|g| label(Ground::parse, Ground::label_zh, g)).unwrap_or(""),
        "outcome_label": r.outcome.as_deref().map(|o| label(Outcome::parse, Outcome::label_zh, o)).unwrap_or(""),
        "evidence": evidence,
        "extension": extension,
        "clock": clock,
        "overdue": rules::is_overdue(&clock, today) && r.state != "decided",
        "steps": steps,
        "open_correction": open_step(StepKind::Correction),
        "open_consultation": open_step(StepKind::Consultation),
        "open_fee": open_step(StepKind::Fee),
        "events": events,
        "letters": letters,
        "files": files,
        "reviews": reviews,
        "can_handle": service::may_handle(who, &org.path),
        "today": gongkai_kernel::clock::fmt_date(today),
        "choices": choices(),
        "errors": {},
        "typed": {},
    }))
}

pub async fn detail(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> WebResult<Response> {
    let mut ctx = detail_ctx(&state, &who, id).await?;
    ctx["saved"] = json!(q.saved);
    Ok(render_with(&state, Some(&who), "console/foi/detail.html", ctx, "/console/foi")?.into_response())
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
        Ok(_) => Ok(see_other(&format!("/console/foi/{id}?saved={form}#top"))),
        Err(Error::NotFound) => Err(Error::NotFound.into()),
        Err(e) => {
            let mut ctx = detail_ctx(state, who, id).await?;
            ctx["typed"] = json!({ form: typed });
            ctx["form"] = json!(form);
            Ok(form_error(state, who, "console/foi/detail.html", ctx, e))
        }
    }
}

gongkai_kernel::step_handlers! { after;
    receipt, DateForm, "receipt", |db, who, ip, id, f| service::confirm_receipt(db, who, ip, id, &f.on);
    correction, service::CorrectionForm, "correction", |db, who, ip, id, f| service::send_correction(db, who, ip, id, f);
    correction_received, DateForm, "correction_received", |db, who, ip, id, f| service::receive_correction(db, who, ip, id, &f.on);
    consultation, ConsultForm, "consultation", |db, who, ip, id, f| service::start_consultation(db, who, ip, id, &f.party, &f.on);
    consultation_end, ConsultForm, "consultation_end", |db, who, ip, id, f| service::end_consultation(db, who, ip, id, &f.on, &f.opinion);
    fee, FeeForm, "fee", |db, who, ip, id, f| service::fee_notice(db, who, ip, id, &f.scheme, &f.pages, &f.on);
    fee_paid, DateForm, "fee_paid", |db, who, ip, id, f| service::fee_paid(db, who, ip, id, &f.on);
    extension, service::ExtensionForm, "extension", |db, who, ip, id, f| service::extend(db, who, ip, id, f);
    longer, LongerForm, "longer", |db, who, ip, id, f| service::longer_deadline(db, who, ip, id, &f.due, &f.reason);
    decision, service::DecisionForm, "decision", |db, who, ip, id, f| service::decide(db, who, ip, id, f);
    issue_letter, Empty, "letter", |db, who, ip, id, _f| service::issue_letter(db, who, ip, id);
    delivery, service::DeliveryForm, "delivery", |db, who, ip, id, f| service::deliver(db, who, ip, id, f);
    review_add, service::ReviewForm, "review", |db, who, ip, id, f| service::add_review(db, who, ip, id, f);
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct DateForm {
    #[serde(default)]
    on: String,
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct ConsultForm {
    #[serde(default)]
    party: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    opinion: String,
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct FeeForm {
    #[serde(default)]
    scheme: String,
    #[serde(default)]
    pages: String,
    #[serde(default)]
    on: String,
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct LongerForm {
    #[serde(default)]
    due: String,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct Empty {}

pub async fn upload(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfUpload(file): CsrfUpload,
) -> WebResult<Response> {
    let r = match file {
        Some((name, data)) => service::add_file(&state.db, &who, &ip, id, &name, data).await,
        None => Err(Error::field("file", "请选择要提供给申请人的文件")),
    };
    after(&state, &who, id, "files", &Empty {}, r).await
}

pub async fn review_update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(rid): Path<i64>,
    CsrfForm(f): CsrfForm<service::ReviewForm>,
) -> WebResult<Response> {
    match service::update_review(&state.db, &who, &ip, rid, &f).await {
        Ok(id) => Ok(see_other(&format!("/console/foi/{id}?saved=review#reviews"))),
        Err(e) => Err(e.into()),
    }
}

pub async fn file(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((id, fid)): Path<(i64, i64)>,
) -> WebResult<Response> {
    service::load_for(&state.db, &who, id).await?;
    let (meta, data) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        store::file_data(&mut c, id, fid).await?.ok_or(Error::NotFound)?
    };
    Ok(download(&meta, data))
}

/// A stored file as an attachment download (never rendered inline by the browser).
pub fn download(meta: &store::FileRow, data: Vec<u8>) -> Response {
    gongkai_kernel::web::ctx::attachment(&meta.name, &meta.name, &meta.content_type, data)
}

async fn letter_of(state: &AppState, who: &Principal, id: i64, lid: i64) -> Result<store::LetterRow, Error> {
    service::load_for(&state.db, who, id).await?;
    let mut h = state.db.read().await?;
    let mut c = h.conn();
    store::letters(&mut c, id).await?.into_iter().find(|l| l.id == lid).ok_or(Error::NotFound)
}

pub async fn letter_page(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((id, lid)): Path<(i64, i64)>,
) -> WebResult<Response> {
    let l = letter_of(&state, &who, id, lid).await?;
    Ok(Html(print_page(&l)).into_response())
}

/// A standalone printable page (A4, 公文 fonts) for a letter.
pub fn print_page(l: &store::LetterRow) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"stylesheet\" href=\"/static/letter.css\"></head><body>{body}</body></html>",
        title = l.title.replace('<', "&lt;"),
        body = letter::to_html(&l.title, &l.body)
    )
}

pub async fn letter_docx(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((id, lid)): Path<(i64, i64)>,
) -> WebResult<Response> {
    let l = letter_of(&state, &who, id, lid).await?;
    let bytes = letter::to_docx(&l.title, &l.body).map_err(Error::internal)?;
    let meta = store::FileRow {
        id: l.id,
        request_id: id,
        name: format!("{}-{}.docx", l.title, l.id),
        content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document".into(),
        size: bytes.len() as i64,
        sha256: String::new(),
        created_at: l.created_at,
    };
    Ok(download(&meta, bytes))
}

#[derive(Deserialize, Default)]
pub struct StatsQuery {
    #[serde(default)]
    org: Option<i64>,
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    subtree: Option<String>,
}

pub async fn stats_page(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<StatsQuery>,
) -> WebResult<Response> {
    let orgs = gongkai_kernel::org::service::list(&state.db).await?;
    let visible: Vec<&gongkai_kernel::org::Org> = orgs.iter().filter(|o| service::may_view(&who, &o.path)).collect();
    let year = q.year.unwrap_or_else(|| gongkai_kernel::clock::today().year() - 1);
    let org = q.org.and_then(|id| visible.iter().find(|o| o.id == id).copied()).or_else(|| {
        who.org_id.and_then(|id| visible.iter().find(|o| o.id == id).copied()).or(visible.first().copied())
    });
    let subtree = q.subtree.as_deref() == Some("1");
    let mut ctx = json!({
        "orgs": visible.iter().map(|o| json!({ "value": o.id, "label": o.name })).collect::<Vec<_>>(),
        "year": year, "subtree": subtree, "org_id": org.map(|o| o.id),
    });
    if let Some(org) = org {
        let (t3, t4) = statistics(&state.db, &org.path, subtree, year).await?;
        ctx["org_name"] = json!(org.name);
        ctx["t3_checks"] = json!(t3.check());
        ctx["t4_checks"] = json!(t4.check());
        ctx["t3"] = json!(t3);
        ctx["outcome_labels"] = json!(Outcome::ALL.iter().map(|o| o.label_zh()).collect::<Vec<_>>());
        ctx["t4"] =
            json!(t4.groups.iter().map(|(k, g)| json!({ "label": k.label_zh(), "cells": g })).collect::<Vec<_>>());
    }
    Ok(render_with(&state, Some(&who), "console/foi/stats.html", ctx, "/console/foi/stats")?.into_response())
}

/// Tables 三 and 四 for an organisation (and its sub-organisations) and year: the one
/// entry point the annual report uses.
pub async fn statistics(
    db: &gongkai_kernel::db::Db,
    org_path: &str,
    subtree: bool,
    year: i32,
) -> Result<(stats::Table3, stats::Table4), Error> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let rows = store::stat_rows(&mut c, org_path, subtree, year).await?;
    let reviews = store::review_stat_rows(&mut c, org_path, subtree, year).await?;
    Ok((stats::table3(&rows, year), stats::table4(&reviews, year)))
}

#[derive(Deserialize, Default)]
pub struct TemplateQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    saved: String,
}

async fn templates_ctx(state: &AppState, kind: &str) -> Result<Value, Error> {
    let kind =
        if letter::default_template(kind).is_some() { kind.to_string() } else { letter::TEMPLATES[0].0.to_string() };
    let body = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        store::template(&mut c, &kind).await?
    };
    let customised = body.is_some();
    Ok(json!({
        "kinds": letter::TEMPLATES.iter().map(|(k, t, _)| json!({ "value": k, "label": format!("{t}（{k}）") })).collect::<Vec<_>>(),
        "kind": kind,
        "body": body.unwrap_or_else(|| letter::default_template(&kind).unwrap_or_default().to_string()),
        "customised": customised,
        "errors": {},
    }))
}

pub async fn templates(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<TemplateQuery>,
) -> WebResult<Response> {
    let mut ctx = templates_ctx(&state, &q.kind).await?;
    ctx["saved"] = json!(q.saved == "1");
    Ok(render_with(&state, Some(&who), "console/foi/templates.html", ctx, "/console/foi")?.into_response())
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct TemplateForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    body: String,
}

pub async fn template_save(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<TemplateForm>,
) -> WebResult<Response> {
    match service::save_template(&state.db, &who, &ip, &f.kind, &f.body).await {
        Ok(()) => Ok(see_other(&format!("/console/foi/templates?kind={}&saved=1", f.kind))),
        Err(e) => {
            let mut ctx = templates_ctx(&state, &f.kind).await?;
            ctx["body"] = json!(f.body);
            Ok(form_error(&state, &who, "console/foi/templates.html", ctx, e))
        }
    }
}
