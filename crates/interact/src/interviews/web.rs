//! Console pages of interviews (list, create, one interview with its steps, moderation,
//! the live desk with its text and photo updates) and the public pages under
//! `/hudong/{site}/fangtan`: the list, one interview with its question box, the live
//! page's server-sent events, and the photos of guests and updates.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{Form, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::clock;
use gongkai_kernel::error::Error;
use gongkai_kernel::site::Site;
use gongkai_kernel::web::ctx::{constant_time_eq, form_error, render_with, see_other};
use gongkai_kernel::web::{AppState, Auth, ClientIp, CsrfForm, CsrfUpload, NavItem, Slice, WebError, WebResult};

use super::rules::{self, InterviewForm};
use super::service::{self, AnswerForm, Moderation, Question, UpdatePost};
use super::store::{self, EntryRow, InterviewRow};
use super::{Kind, State as ItvState};
use crate::public;

gongkai_kernel::console_routes! { ROUTES, console_router;
    get  "/console/interviews" ContentEdit => list;
    get  "/console/interviews/new" ContentEdit => new_form;
    post "/console/interviews/new" ContentEdit => create;
    get  "/console/interviews/{id}" ContentEdit => detail;
    post "/console/interviews/{id}" ContentEdit => edit;
    post "/console/interviews/{id}/announce" ContentEdit => announce;
    post "/console/interviews/{id}/live" ContentEdit => go_live;
    post "/console/interviews/{id}/end" ContentEdit => end;
    post "/console/interviews/{id}/questions/{qid}/approve" ContentEdit => approve;
    post "/console/interviews/{id}/questions/{qid}/reject" ContentEdit => reject;
    post "/console/interviews/{id}/answer" ContentEdit => answer;
    post "/console/interviews/{id}/post" ContentEdit => post_update;
    post "/console/interviews/{id}/guests/{gid}/photo" ContentEdit => guest_photo_upload;
}

const NAV: &[NavItem] = &[NavItem { href: "/console/interviews", label: "在线访谈", perm: Perm::ContentEdit }];

pub fn slice() -> Slice {
    Slice {
        name: "interviews",
        routes: ROUTES,
        router: || console_router().merge(public_router()),
        templates: crate::template_source,
        nav: NAV,
    }
}

pub fn public_router() -> Router<AppState> {
    Router::new()
        .route("/hudong/{site}/fangtan", get(public_list))
        .route("/hudong/{site}/fangtan/{id}", get(public_page).post(public_ask))
        .route("/hudong/{site}/fangtan/{id}/events", get(events))
        .route("/hudong/{site}/fangtan/{id}/guests/{gid}/photo", get(public_guest_photo))
        .route("/hudong/{site}/fangtan/{id}/photos/{seq}", get(public_entry_photo))
}

fn kinds() -> Value {
    Value::Array(Kind::ALL.iter().map(|k| json!({ "value": k.as_str(), "label": k.label_zh() })).collect())
}

/// Local "YYYY-MM-DDTHH:MM" for a datetime-local input.
fn input_time(ms: i64) -> String {
    clock::fmt_local(clock::ms_to_local(ms)).replace(' ', "T")
}

/// "2026年5月20日 09:30" for people.
fn when(ms: i64) -> String {
    let t = clock::ms_to_local(ms);
    format!("{}年{}月{}日 {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

fn interview_json(r: &InterviewRow) -> Value {
    let same_day = clock::ms_to_local(r.starts_at).date() == clock::ms_to_local(r.ends_at).date();
    let end = clock::ms_to_local(r.ends_at);
    json!({
        "r": r,
        "kind_label": service::kind_label(&r.kind),
        "intro": paragraphs(&r.intro),
        "state_label": service::state_label(&r.state),
        "starts": when(r.starts_at),
        "ends": if same_day { format!("{:02}:{:02}", end.hour(), end.minute()) } else { when(r.ends_at) },
    })
}

fn paragraphs(s: &str) -> Vec<String> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
}

/// The public address of an interview's page; photos and events hang below it.
fn page_base(site_code: &str, id: i64) -> String {
    format!("/hudong/{site_code}/fangtan/{id}")
}

/// One entry for the templates; `base` is the interview's public address (see [`page_base`]).
fn entry_json(e: &EntryRow, base: &str) -> Value {
    let photo = (e.has_photo == 1).then(|| {
        json!({ "src": format!("{base}/photos/{}", e.seq), "alt": e.photo_alt, "caption": e.photo_caption,
                "width": e.photo_width, "height": e.photo_height })
    });
    json!({
        "photo": photo,
        "seq": e.seq,
        "kind": e.kind,
        "question": e.question,
        "asker": if e.asker.is_empty() { "网友" } else { e.asker.as_str() },
        "guest": e.guest,
        "paragraphs": paragraphs(&e.body),
        "at": clock::fmt_ms(e.published_at),
        "time": clock::fmt_ms(e.published_at).get(11..16).unwrap_or("").to_string(),
        "after_session": e.after_session == 1,
    })
}

// ------------------------------------------------------------------ console

/// The sites the principal may run interviews on.
async fn editable_sites(state: &AppState, who: &Principal) -> Result<Vec<Site>, Error> {
    let mut h = state.db.read().await?;
    let mut c = h.conn();
    let sites = gongkai_kernel::site::store::all(&mut c).await?;
    let orgs = gongkai_kernel::org::store::all(&mut c).await?;
    Ok(sites
        .into_iter()
        .filter(|s| {
            let path = s.org_id.and_then(|o| orgs.iter().find(|x| x.id == o)).map(|o| o.path.as_str());
            service::may_edit(who, s, path)
        })
        .collect())
}

fn site_options(sites: &[Site]) -> Value {
    Value::Array(sites.iter().map(|s| json!({ "value": s.id, "label": s.name })).collect())
}

pub async fn list(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let sites = editable_sites(&state, &who).await?;
    let (rows, reminders) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        (store::list(&mut c, None, true).await?, store::reminders(&mut c, None).await?)
    };
    let rows: Vec<Value> = rows
        .iter()
        .filter_map(|r| {
            let site = sites.iter().find(|s| s.id == r.site_id)?;
            let mut v = interview_json(r);
            v["site_name"] = json!(site.name);
            v["reminders"] = json!(reminders.iter().filter(|m| m.interview_id == r.id).count());
            v["overdue"] = json!(reminders.iter().any(|m| m.interview_id == r.id && m.kind == "overdue"));
            Some(v)
        })
        .collect();
    let ctx = json!({ "rows": rows, "can_create": !sites.is_empty() });
    Ok(render_with(&state, Some(&who), "console/interact/interviews/list.html", ctx, "/console/interviews")?
        .into_response())
}

pub async fn new_form(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let sites = editable_sites(&state, &who).await?;
    let typed = json!({ "kind": "interview", "answer_days": rules::DEFAULT_ANSWER_DAYS,
                        "site_id": sites.first().map(|s| s.id) });
    let ctx = json!({ "sites": site_options(&sites), "kinds": kinds(), "typed": typed, "errors": {} });
    Ok(render_with(&state, Some(&who), "console/interact/interviews/new.html", ctx, "/console/interviews")?
        .into_response())
}

pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<InterviewForm>,
) -> WebResult<Response> {
    match service::create(&state.db, &who, &ip, &f, clock::now_ms()).await {
        Ok(id) => Ok(see_other(&format!("/console/interviews/{id}?saved=created"))),
        Err(e) => {
            let sites = editable_sites(&state, &who).await?;
            let ctx = json!({ "sites": site_options(&sites), "kinds": kinds(), "typed": f });
            Ok(form_error(&state, &who, "console/interact/interviews/new.html", ctx, e))
        }
    }
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    saved: String,
}

async fn detail_ctx(state: &AppState, who: &Principal, id: i64) -> Result<Value, Error> {
    let (r, site) = service::load_for(&state.db, who, id).await?;
    let sites = editable_sites(state, who).await?;
    let (guests, questions, entries, reminders) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        (
            store::guests(&mut c, id).await?,
            store::questions(&mut c, id).await?,
            store::entries(&mut c, id, 0).await?,
            store::reminders(&mut c, Some(id)).await?,
        )
    };
    let st = ItvState::parse(&r.state).unwrap_or(ItvState::Draft);
    let due = match (r.ended_on.as_deref().and_then(clock::parse_date), st) {
        (Some(on), ItvState::Ended) => {
            let cal = gongkai_kernel::calendar::service::load(&state.db).await?;
            Some(rules::answer_due(&cal, on, r.answer_days).to_zh())
        }
        _ => None,
    };
    let today = clock::today();
    let questions: Vec<Value> = questions
        .iter()
        .map(|q| {
            json!({ "q": q, "at": clock::fmt_ms(q.submitted_at),
                    "overdue": q.overdue == 1 || (st == ItvState::Ended && matches!(q.state.as_str(), "pending" | "queued")
                        && r.answer_due_on.as_deref().and_then(clock::parse_date).is_some_and(|d| today > d)) })
        })
        .collect();
    let open = |s: &str| matches!(s, "pending" | "queued");
    let answerable: Vec<Value> = questions
        .iter()
        .filter(|q| open(q["q"]["state"].as_str().unwrap_or("")))
        .map(|q| {
            let body: String = q["q"]["body"].as_str().unwrap_or("").chars().take(60).collect();
            json!({ "value": q["q"]["id"], "label": format!("#{} {}", q["q"]["id"], body) })
        })
        .collect();
    let guests_text: String = guests.iter().map(|g| format!("{} {}\n", g.name, g.title)).collect();
    let base = page_base(&site.code, r.id);
    let typed_edit = json!({
        "site_id": r.site_id, "kind": r.kind, "topic": r.topic, "intro": r.intro, "guests": guests_text.trim_end(),
        "starts_at": input_time(r.starts_at), "ends_at": input_time(r.ends_at), "answer_days": r.answer_days,
    });
    Ok(json!({
        "iv": interview_json(&r),
        "site": { "id": site.id, "code": site.code, "name": site.name },
        "sites": site_options(&sites),
        "kinds": kinds(),
        "guests": guests,
        "guest_options": guests.iter().map(|g| json!({ "value": g.name, "label": format!("{} {}", g.name, g.title) })).collect::<Vec<_>>(),
        "questions": questions,
        "answerable": answerable,
        "entries": entries.iter().map(|e| entry_json(e, &base)).collect::<Vec<_>>(),
        "reminders": reminders,
        "due": due,
        "can": {
            "edit": rules::allowed(st, rules::Step::Edit).is_ok(),
            "announce": st == ItvState::Draft,
            "live": st == ItvState::Announced,
            "end": st == ItvState::Live,
            "moderate": rules::allowed(st, rules::Step::Moderate).is_ok(),
            "answer": rules::allowed(st, rules::Step::Answer).is_ok(),
            "update": st == ItvState::Live,
        },
        "typed": { "edit": typed_edit },
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
    ctx["saved"] = json!(q.saved);
    Ok(render_with(&state, Some(&who), "console/interact/interviews/detail.html", ctx, "/console/interviews")?
        .into_response())
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
        Ok(_) => Ok(see_other(&format!("/console/interviews/{id}?saved={form}"))),
        Err(Error::NotFound) => Err(Error::NotFound.into()),
        Err(e) => {
            let mut ctx = detail_ctx(state, who, id).await?;
            ctx["typed"][form] = json!(typed);
            ctx["form"] = json!(form);
            Ok(form_error(state, who, "console/interact/interviews/detail.html", ctx, e))
        }
    }
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct Empty {}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

/// The text of the live desk's update form (what is typed again after an error; a
/// chosen file cannot be).
#[derive(Deserialize, serde::Serialize, Default)]
pub struct UpdateForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    alt: String,
    #[serde(default)]
    caption: String,
}

/// The live desk's update: multipart/form-data with an optional file field `photo`, or a
/// url-encoded form (text only). `_csrf` must equal the session's token, the rule of
/// `CsrfForm`/`CsrfUpload`, which read only url-encoded text or a lone file.
pub struct UpdateUpload {
    form: UpdateForm,
    photo: Option<Vec<u8>>,
}

fn multipart_err(e: MultipartError) -> Response {
    (e.status(), e.body_text()).into_response()
}

/// A file part's bytes, keeping at most one byte past the photo limit: enough to refuse
/// an oversize photo with its field's message without holding all of it.
async fn capped_photo(field: &mut Field<'_>) -> Result<Vec<u8>, Response> {
    let mut data = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_err)? {
        let room = (rules::MAX_PHOTO + 1).saturating_sub(data.len());
        data.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(data)
}

impl<S: Send + Sync> FromRequest<S> for UpdateUpload {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let principal = req.extensions().get::<Arc<Principal>>().cloned();
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
        let mut text: Vec<(String, String)> = Vec::new();
        let mut photo = None;
        if multipart {
            let mut form = Multipart::from_request(req, state).await.map_err(IntoResponse::into_response)?;
            while let Some(mut field) = form.next_field().await.map_err(multipart_err)? {
                let name = field.name().unwrap_or("").to_string();
                if name == "photo" {
                    let file_name = field.file_name().unwrap_or("").to_string();
                    let data = capped_photo(&mut field).await?;
                    // A file input left empty is sent as a part without a name or bytes.
                    if photo.is_none() && !(file_name.is_empty() && data.is_empty()) {
                        photo = Some(data);
                    }
                } else if field.file_name().is_none() {
                    let v = field.text().await.map_err(multipart_err)?;
                    text.push((name, v));
                }
            }
        } else {
            // A body over the limit keeps its 413; status_pages explains it in Chinese.
            let Form(pairs) =
                Form::<Vec<(String, String)>>::from_request(req, state).await.map_err(IntoResponse::into_response)?;
            text = pairs;
        }
        let get = |k: &str| text.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let Some(p) = principal else { return Err(WebError(Error::Unauthenticated).into_response()) };
        let token = get("_csrf");
        if token.is_empty() || !constant_time_eq(token.as_bytes(), p.csrf_token.as_bytes()) {
            return Err(
                WebError(Error::Forbidden("表单已过期或来源无法验证，请刷新页面后重新提交".into())).into_response()
            );
        }
        Ok(UpdateUpload { form: UpdateForm { body: get("body"), alt: get("alt"), caption: get("caption") }, photo })
    }
}

pub async fn edit(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<InterviewForm>,
) -> WebResult<Response> {
    let r = service::update(&state.db, &who, &ip, id, &f, clock::now_ms()).await;
    after(&state, &who, id, "edit", &f, r).await
}

/// The one-button steps on an interview.
macro_rules! steps {
    ($($name:ident, $key:literal, $call:path;)*) => {$(
        pub async fn $name(
            State(state): State<AppState>,
            Auth(who): Auth,
            ClientIp(ip): ClientIp,
            Path(id): Path<i64>,
            CsrfForm(f): CsrfForm<Empty>,
        ) -> WebResult<Response> {
            let r = $call(&state.db, &who, &ip, id, clock::now_ms()).await;
            after(&state, &who, id, $key, &f, r).await
        }
    )*};
}

steps! {
    announce, "announce", service::announce;
    go_live, "live", service::go_live;
    end, "end", service::end;
}

pub async fn approve(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path((id, qid)): Path<(i64, i64)>,
    CsrfForm(f): CsrfForm<ReasonForm>,
) -> WebResult<Response> {
    let r = service::moderate(&state.db, &who, &ip, id, qid, Moderation::Approve, clock::now_ms()).await;
    after(&state, &who, id, "approve", &f, r).await
}

pub async fn reject(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path((id, qid)): Path<(i64, i64)>,
    CsrfForm(f): CsrfForm<ReasonForm>,
) -> WebResult<Response> {
    let r = service::moderate(&state.db, &who, &ip, id, qid, Moderation::Reject(&f.reason), clock::now_ms()).await;
    after(&state, &who, id, "reject", &f, r).await
}

pub async fn answer(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<AnswerForm>,
) -> WebResult<Response> {
    let r = service::publish_answer(&state.db, &who, &ip, id, &f, clock::now_ms()).await;
    after(&state, &who, id, "answer", &f, r).await
}

pub async fn post_update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    UpdateUpload { form: f, photo }: UpdateUpload,
) -> WebResult<Response> {
    let post = UpdatePost { body: &f.body, photo: photo.as_deref(), alt: &f.alt, caption: &f.caption };
    let r = service::publish_update_post(&state.db, &who, &ip, id, &post, clock::now_ms()).await;
    after(&state, &who, id, "post", &f, r).await
}

pub async fn guest_photo_upload(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path((id, gid)): Path<(i64, i64)>,
    CsrfUpload(file): CsrfUpload,
) -> WebResult<Response> {
    let r = match file {
        Some((_, data)) => service::set_guest_photo(&state.db, &who, &ip, id, gid, &data).await,
        None => Err(Error::field("file", "请选择照片")),
    };
    after(&state, &who, id, "photo", &Empty {}, r).await
}

// ------------------------------------------------------------------ public

fn fail(e: Error) -> Response {
    WebError(e).into_response()
}

pub async fn public_list(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    let run = async {
        let site = public::site(&state, &code).await?;
        let mut h = state.db.read().await?;
        let rows = store::list(&mut h.conn(), Some(site.id), false).await?;
        Ok::<_, Error>((site, rows))
    };
    let (site, rows) = match run.await {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    let of = |s: &str| rows.iter().filter(|r| r.state == s).map(interview_json).collect::<Vec<_>>();
    let mut upcoming = of("announced");
    upcoming.reverse(); // the soonest first
    let ctx = json!({ "live": of("live"), "upcoming": upcoming, "archived": of("ended") });
    public::render(&state, StatusCode::OK, "interact/interviews/list.html", Some(&site), ctx)
}

/// The public interview (not drafts) of a site.
async fn public_interview(state: &AppState, code: &str, id: i64) -> Result<(Site, InterviewRow), Error> {
    let site = public::site(state, code).await?;
    let mut h = state.db.read().await?;
    let r = store::get(&mut h.conn(), id).await?.ok_or(Error::NotFound)?;
    if r.site_id != site.id || r.state == ItvState::Draft.as_str() {
        return Err(Error::NotFound);
    }
    Ok((site, r))
}

async fn page_ctx(state: &AppState, site: &Site, r: &InterviewRow, typed: Value) -> Result<Value, Error> {
    let (guests, entries) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        (store::guests(&mut c, r.id).await?, store::entries(&mut c, r.id, 0).await?)
    };
    let st = ItvState::parse(&r.state).unwrap_or(ItvState::Draft);
    let open = matches!(st, ItvState::Announced | ItvState::Live);
    let (question, token) = if open {
        let c = public::challenge(state).await?;
        (c.question, c.token)
    } else {
        (String::new(), String::new())
    };
    let base = page_base(&site.code, r.id);
    let guests: Vec<Value> = guests
        .iter()
        .map(|g| {
            json!({ "name": g.name, "title": g.title,
                         "photo": (g.has_photo == 1).then(|| format!("{base}/guests/{}/photo", g.id)) })
        })
        .collect();
    let live_entries: Vec<Value> =
        entries.iter().filter(|e| e.after_session == 0).map(|e| entry_json(e, &base)).collect();
    let later: Vec<Value> = entries.iter().filter(|e| e.after_session == 1).map(|e| entry_json(e, &base)).collect();
    Ok(json!({
        "iv": interview_json(r),
        "guests": guests,
        "entries": live_entries,
        "later": later,
        "last_seq": entries.last().map(|e| e.seq).unwrap_or(0),
        "live": st == ItvState::Live,
        "open": open,
        "base": base,
        "question": question,
        "token": token,
        "typed": typed,
        "errors": {},
    }))
}

pub async fn public_page(State(state): State<AppState>, Path((code, id)): Path<(String, i64)>) -> Response {
    let run = async {
        let (site, r) = public_interview(&state, &code, id).await?;
        let typed = json!({ "idem": gongkai_kernel::random_token::<16>() });
        let ctx = page_ctx(&state, &site, &r, typed).await?;
        Ok::<_, Error>((site, ctx))
    };
    match run.await {
        Ok((site, ctx)) => public::render(&state, StatusCode::OK, "interact/interviews/page.html", Some(&site), ctx),
        Err(e) => fail(e),
    }
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct AskForm {
    #[serde(default)]
    asker: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    #[serde(skip_serializing)]
    token: String,
    #[serde(default)]
    #[serde(skip_serializing)]
    answer: String,
}

pub async fn public_ask(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((code, id)): Path<(String, i64)>,
    axum::extract::Form(f): axum::extract::Form<AskForm>,
) -> Response {
    const PAGE: &str = "interact/interviews/page.html";
    let (site, r) = match public_interview(&state, &code, id).await {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    let thanks = |state: AppState, site: Site, r: InterviewRow| async move {
        let typed = json!({ "idem": gongkai_kernel::random_token::<16>() });
        match page_ctx(&state, &site, &r, typed).await {
            Ok(mut ctx) => {
                ctx["asked"] = json!(true);
                public::render(&state, StatusCode::OK, PAGE, Some(&site), ctx)
            }
            Err(e) => fail(e),
        }
    };
    // A retried submission (same key) is answered before the captcha and the limit: it
    // creates nothing and must not be refused.
    let existing = match state.db.read().await {
        Ok(mut h) if !f.idem.trim().is_empty() => store::question_by_idem(&mut h.conn(), f.idem.trim()).await,
        Ok(_) => Ok(None),
        Err(e) => Err(e),
    };
    match existing {
        Ok(Some(q)) if q.interview_id == id => return thanks(state.clone(), site, r).await,
        Ok(_) => {}
        Err(e) => return fail(e),
    }
    let result = match public::check_submission(&state, &ip, &f.token, &f.answer).await {
        Ok(()) => service::submit_question(
            &state.db,
            site.id,
            id,
            &Question { asker: &f.asker, body: &f.body, idem: &f.idem },
            &ip,
            clock::now_ms(),
        )
        .await
        .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        // Committed before this page is sent.
        Ok(()) => thanks(state.clone(), site, r).await,
        Err(e) => match page_ctx(&state, &site, &r, json!(&f)).await {
            Ok(ctx) => public::form_again(&state, PAGE, Some(&site), ctx, e),
            Err(e2) => fail(e2),
        },
    }
}

/// A stored photo with the type its bytes were recognised as. `cache` is the
/// Cache-Control: short for a guest's photo (it may be replaced), long for an update's
/// (an entry never changes once published).
fn photo_response(found: Result<Option<(Vec<u8>, String)>, Error>, cache: &'static str) -> Response {
    match found {
        Ok(Some((data, ty))) => {
            // Only the types an upload accepts are ever declared.
            let ty = rules::PHOTO_TYPES.iter().find(|t| **t == ty).copied().unwrap_or("application/octet-stream");
            let mut resp = data.into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ty));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            // The global layer sets it too; a photo must never be sniffed into HTML.
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            resp
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => fail(e),
    }
}

pub async fn public_guest_photo(
    State(state): State<AppState>,
    Path((code, id, gid)): Path<(String, i64, i64)>,
) -> Response {
    let run = async {
        public_interview(&state, &code, id).await?;
        let mut h = state.db.read().await?;
        store::guest_photo(&mut h.conn(), id, gid).await
    };
    photo_response(run.await, "public, max-age=300")
}

/// The photo of a published update (`seq`) of a public interview; 404 for anything else
/// (a draft's, another site's, a question-and-answer entry, an update without a photo).
pub async fn public_entry_photo(
    State(state): State<AppState>,
    Path((code, id, seq)): Path<(String, i64, i64)>,
) -> Response {
    let run = async {
        public_interview(&state, &code, id).await?;
        let mut h = state.db.read().await?;
        store::entry_photo(&mut h.conn(), id, seq).await
    };
    photo_response(run.await, "public, max-age=86400")
}

// ------------------------------------------------------------------ live events

/// How long one event stream lives; the browser's EventSource reconnects after it.
pub const STREAM_LIFETIME: Duration = Duration::from_secs(600);
/// How often a stream looks for new entries when nothing on this node woke it.
pub const POLL: Duration = Duration::from_secs(1);

#[derive(Deserialize, Default)]
pub struct AfterQuery {
    #[serde(default)]
    after: Option<i64>,
}

/// The receiving end of a stream's channel as the `Stream` axum's `Sse` wants.
struct Events(tokio::sync::mpsc::Receiver<Event>);

impl futures_core::Stream for Events {
    type Item = Result<Event, Infallible>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|e| e.map(Ok))
    }
}

/// One entry as the HTML fragment the page shows (the same template the page uses, so a
/// photo arrives as its `<img>` with the photo's public address).
fn entry_html(state: &AppState, e: &EntryRow, base: &str) -> Result<String, Error> {
    let ctx = json!({ "e": entry_json(e, base) });
    let html =
        gongkai_kernel::web::ctx::render(state, None, "interact/interviews/_entry.html", ctx).map_err(|e| e.0)?;
    Ok(html.0.replace('\r', ""))
}

/// Server-sent events of a live interview: each new entry after `Last-Event-ID` (or
/// `?after=`) as an `entry` event with its HTML, then `state` when the session ends.
/// Not live: 204, which tells EventSource not to reconnect.
pub async fn events(
    State(state): State<AppState>,
    Path((code, id)): Path<(String, i64)>,
    Query(q): Query<AfterQuery>,
    headers: HeaderMap,
) -> Response {
    let (site, r) = match public_interview(&state, &code, id).await {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    if r.state != ItvState::Live.as_str() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let last_id = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|s| s.trim().parse::<i64>().ok());
    let after = last_id.max(q.after).unwrap_or(0).max(0);
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(32);
    tokio::spawn(pump(state, id, page_base(&site.code, id), after, tx));
    let mut resp = Sse::new(Events(rx)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response();
    // Proxies must pass events on at once.
    resp.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// Feed one stream until the client leaves, the session ends or the lifetime is up.
async fn pump(state: AppState, id: i64, base: String, mut after: i64, tx: tokio::sync::mpsc::Sender<Event>) {
    let deadline = tokio::time::Instant::now() + STREAM_LIFETIME;
    if tx.send(Event::default().retry(Duration::from_secs(3)).comment("connected")).await.is_err() {
        return;
    }
    loop {
        // Registered before the read, so a change committed during it still wakes us.
        let woken = state.changes.notified();
        let read = async {
            let mut h = state.db.read().await?;
            let mut c = h.conn();
            let entries = store::entries(&mut c, id, after).await?;
            let st = store::get(&mut c, id).await?.map(|r| r.state);
            Ok::<_, Error>((entries, st))
        };
        match read.await {
            Ok((entries, st)) => {
                for e in &entries {
                    let Ok(html) = entry_html(&state, e, &base) else { continue };
                    let ev = Event::default().id(e.seq.to_string()).event("entry").data(html);
                    if tx.send(ev).await.is_err() {
                        return;
                    }
                    after = e.seq;
                }
                if st.as_deref() != Some(ItvState::Live.as_str()) {
                    let _ = tx.send(Event::default().event("state").data(st.unwrap_or_default())).await;
                    return;
                }
            }
            Err(e) => tracing::warn!(error = %e, interview = id, "interview events: read failed"),
        }
        tokio::select! {
            _ = tx.closed() => return,
            _ = tokio::time::sleep_until(deadline) => return,
            _ = tokio::time::sleep(POLL) => {}
            _ = woken => {}
        }
    }
}
