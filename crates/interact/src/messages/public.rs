//! The public pages of messages: the form (captcha, rate limit, idempotency key, stored
//! before acknowledged), the receipt with the tracking code and query password, the
//! tracking page (status, reply, one rating, one follow-up), and the published replies.

use axum::Router;
use axum::extract::multipart::MultipartError;
use axum::extract::{Form, FromRequest, Multipart, Path, Query, Request, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use gongkai_kernel::db::group;
use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::site::Site;
use gongkai_kernel::web::guard;
use gongkai_kernel::web::{AppState, ClientIp, WebError};

use super::rules::{FILE_BYTES_MAX, SubmitForm, Upload};
use super::store::{self, MessageRow};
use super::{KINDS, RATINGS, REJECT_REASONS, State, label, service};
use crate::{mask, public};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hudong/{site}/liuyan", get(list))
        .route("/hudong/{site}/liuyan/new", get(form).post(submit))
        .route("/hudong/{site}/liuyan/{id}", get(show))
        .route("/hudong/liuyan/track", get(track_form).post(track))
        .route("/hudong/liuyan/track/rate", post(rate))
        .route("/hudong/liuyan/track/followup", post(follow_up))
}

fn web_err(e: Error) -> Response {
    WebError(e).into_response()
}

fn words(w: super::Words) -> Vec<Value> {
    w.iter().map(|(v, l)| json!({ "value": v, "label": l })).collect()
}

/// The query password of a submission, derived from its idempotency key.
fn password_for(secret: &[u8], idem: &str) -> String {
    guard::readable_code(secret, "msg-pass", idem, 8)
}

async fn form_ctx(state: &AppState, site: &Site, typed: Value) -> Result<Value> {
    let orgs = gongkai_kernel::org::service::list(&state.db).await?;
    let mut addressees = Vec::new();
    if let Some(o) = site.org_id.and_then(|id| orgs.iter().find(|o| o.id == id)) {
        addressees.push(json!({ "value": "leader", "label": format!("{}领导信箱", o.name) }));
    }
    addressees.extend(orgs.iter().map(|o| json!({ "value": o.id.to_string(), "label": o.name })));
    let c = public::challenge(state).await?;
    Ok(json!({
        "kinds": words(KINDS),
        "addressees": addressees,
        "typed": typed,
        "question": c.question,
        "token": c.token,
        "errors": {},
    }))
}

pub async fn form(AxState(state): AxState<AppState>, Path(code): Path<String>) -> Response {
    let run = async {
        let site = public::site(&state, &code).await?;
        let typed = json!({ "idem": gongkai_kernel::random_token::<16>(), "kind": "consult", "addressee": "leader" });
        Ok::<_, Error>((form_ctx(&state, &site, typed).await?, site))
    };
    match run.await {
        Ok((ctx, site)) => public::render(&state, StatusCode::OK, "interact/messages/form.html", Some(&site), ctx),
        Err(e) => web_err(e),
    }
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct SubmitBody {
    #[serde(flatten)]
    form: SubmitForm,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    answer: String,
}

/// The public form's body with its attachments. The form in the browser sends
/// multipart/form-data; url-encoded bodies (scripts, the benchmark) are taken too, without
/// files.
pub struct SubmitInput {
    body: SubmitBody,
    files: Vec<Upload>,
}

fn multipart_err(e: MultipartError) -> Response {
    (e.status(), e.body_text()).into_response()
}

/// A file part's bytes, keeping at most one byte past the limit: enough to refuse an
/// oversize file without holding all of it.
async fn capped_bytes(field: &mut axum::extract::multipart::Field<'_>) -> std::result::Result<Vec<u8>, Response> {
    let mut data = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_err)? {
        let room = (FILE_BYTES_MAX + 1).saturating_sub(data.len());
        data.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(data)
}

impl<S: Send + Sync> FromRequest<S> for SubmitInput {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> std::result::Result<Self, Self::Rejection> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
        if !multipart {
            let Form(body) = Form::<SubmitBody>::from_request(req, state).await.map_err(IntoResponse::into_response)?;
            return Ok(SubmitInput { body, files: Vec::new() });
        }
        let mut form = Multipart::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        let mut text = serde_json::Map::new();
        let mut files = Vec::new();
        while let Some(mut field) = form.next_field().await.map_err(multipart_err)? {
            let name = field.name().unwrap_or("").to_string();
            if name == "files" {
                let file_name = field.file_name().unwrap_or("").to_string();
                let data = capped_bytes(&mut field).await?;
                // A file input left empty is sent as a part without a name or bytes.
                if !(file_name.is_empty() && data.is_empty()) {
                    files.push(Upload { name: file_name, data });
                }
            } else if field.file_name().is_none() && !text.contains_key(&name) {
                let v = field.text().await.map_err(multipart_err)?;
                text.insert(name, Value::String(v));
            }
        }
        // Every field of the body is a string with a default: this cannot fail on text.
        let body = serde_json::from_value(Value::Object(text)).unwrap_or_default();
        Ok(SubmitInput { body, files })
    }
}

fn receipt(state: &AppState, site: &Site, m: &MessageRow, password: &str, repeated: bool) -> Response {
    let ctx = json!({ "code": m.code, "password": password, "repeated": repeated, "title": m.title });
    public::render(state, StatusCode::OK, "interact/messages/receipt.html", Some(site), ctx)
}

pub async fn submit(
    AxState(state): AxState<AppState>,
    Path(code): Path<String>,
    ClientIp(ip): ClientIp,
    SubmitInput { body: f, files }: SubmitInput,
) -> Response {
    let site = match public::site(&state, &code).await {
        Ok(s) => s,
        Err(e) => return web_err(e),
    };
    let secret = match public::secret(&state).await {
        Ok(s) => s,
        Err(e) => return web_err(e),
    };
    let idem = f.idem.trim().to_string();
    let had_files = !files.is_empty();
    let again = |err: Error| {
        let (state, site) = (state.clone(), site.clone());
        let typed = json!(&f);
        async move {
            match form_ctx(&state, &site, typed).await {
                Ok(mut ctx) => {
                    // A browser cannot put chosen files back into a form: say so.
                    ctx["files_again"] = json!(had_files);
                    public::form_again(&state, "interact/messages/form.html", Some(&site), ctx, err)
                }
                Err(e) => web_err(e),
            }
        }
    };
    // A retried submission (same key) is answered before the captcha and the limit: it
    // creates nothing and must not be refused.
    if !idem.is_empty() {
        let existing = match state.db.read().await {
            Ok(mut h) => store::by_idem_key(&mut h.conn(), &idem).await,
            Err(e) => Err(e),
        };
        match existing {
            Ok(Some(m)) => return receipt(&state, &site, &m, &password_for(&secret, &idem), true),
            Ok(None) => {}
            Err(e) => return web_err(e),
        }
    }
    if let Err(e) = public::check_submission(&state, &ip, &f.token, &f.answer).await {
        return again(e).await;
    }
    let today = gongkai_kernel::clock::today();
    let code = service::tracking_code(today, &guard::readable_code(&secret, "msg-code", &idem, 6));
    let password = password_for(&secret, &idem);
    let done = match service::prepare(&state.db, &site, &f.form, files, &idem, &code, &password, &ip).await {
        // Through the group commit: concurrent submissions share one transaction.
        Ok(s) => group::submit(&state, s).await,
        Err(e) => Err(e),
    };
    match done {
        // Committed before this page is sent: an acknowledged message survives a crash.
        Ok((m, created)) => receipt(&state, &site, &m, &password, !created),
        Err(e) => again(e).await,
    }
}

pub async fn track_form(AxState(state): AxState<AppState>) -> Response {
    public::render(&state, StatusCode::OK, "interact/messages/track.html", None, json!({ "errors": {}, "typed": {} }))
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct TrackBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
}

/// A token that lets the tracking page's rating and follow-up forms act on one message
/// for an hour without sending the password again.
fn page_token(secret: &[u8], id: i64, expires: i64) -> String {
    let tag = guard::mac(secret, &[b"msg-track", &id.to_be_bytes(), &expires.to_be_bytes()]);
    format!("{id}.{expires}.{}", gongkai_kernel::audit::hex(&tag[..16]))
}

fn token_id(secret: &[u8], t: &str) -> Option<i64> {
    let mut parts = t.split('.');
    let id = parts.next()?.parse::<i64>().ok()?;
    let expires = parts.next()?.parse::<i64>().ok()?;
    let ok = expires > gongkai_kernel::clock::now_ms()
        && gongkai_kernel::web::ctx::constant_time_eq(page_token(secret, id, expires).as_bytes(), t.as_bytes());
    ok.then_some(id)
}

async fn status_page(state: &AppState, m: &MessageRow, status: StatusCode, note: Option<(&str, &str)>) -> Response {
    let run = async {
        let secret = public::secret(state).await?;
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        let events = store::events(&mut c, m.id, true).await?;
        let site = gongkai_kernel::site::store::get(&mut c, m.site_id).await?;
        let st = State::parse(&m.state);
        let answered = matches!(st, Some(State::Sent | State::Published));
        let token = page_token(&secret, m.id, gongkai_kernel::clock::now_ms() + 3_600_000);
        Ok::<_, Error>(json!({
            "m": {
                "code": m.code, "title": m.title, "content": m.content, "submitted_on": m.submitted_on,
                "kind": label(KINDS, &m.kind), "state": m.state,
                "reply": if answered { m.reply.as_str() } else { "" },
                "reply_org": m.reply_org, "sent_on": m.sent_on, "due_on": m.due_on,
                "rating": m.rating.as_deref().map(|r| label(RATINGS, r)),
                "followup": m.followup,
                "reject": m.reject_reason.as_deref().map(|r| label(REJECT_REASONS, r)),
                "reject_note": m.reject_note,
                "published": m.state == "published",
            },
            "site_name": site.as_ref().map(|s| s.name.clone()),
            "site_code": site.as_ref().map(|s| s.code.clone()),
            "state_label": st.map(State::label_zh).unwrap_or(""),
            "answered": answered,
            "can_rate": answered && m.rating.is_none(),
            "can_follow": answered && m.followup_at.is_none(),
            "ratings": words(RATINGS),
            "events": events.iter().map(|e| json!({ "at": gongkai_kernel::clock::fmt_ms(e.at), "text": e.text })).collect::<Vec<_>>(),
            "t": token,
            "errors": {},
        }))
    };
    match run.await {
        Ok(mut ctx) => {
            if let Some((kind, text)) = note {
                ctx[kind] = json!(text);
            }
            public::render(state, status, "interact/messages/status.html", None, ctx)
        }
        Err(e) => web_err(e),
    }
}

pub async fn track(
    AxState(state): AxState<AppState>,
    ClientIp(ip): ClientIp,
    axum::extract::Form(f): axum::extract::Form<TrackBody>,
) -> Response {
    let code = f.code.trim().to_uppercase();
    let fail = |status: StatusCode, msg: &str| {
        public::render(
            &state,
            status,
            "interact/messages/track.html",
            None,
            json!({ "errors": { "password": msg }, "typed": { "code": code }, "error_message": msg }),
        )
    };
    if let Err(e) = public::check_lookup(&state, &ip) {
        tracing::warn!(client = %ip, code = %code, "留言查询过于频繁，已拒绝");
        return fail(StatusCode::TOO_MANY_REQUESTS, &e.to_string());
    }
    let found = match state.db.read().await {
        Ok(mut h) => store::by_code(&mut h.conn(), &code).await,
        Err(e) => Err(e),
    };
    match found {
        Ok(Some(m))
            if gongkai_kernel::web::ctx::constant_time_eq(
                service::hash_password(&f.password).as_bytes(),
                m.access_hash.as_bytes(),
            ) =>
        {
            status_page(&state, &m, StatusCode::OK, None).await
        }
        Ok(_) => {
            tracing::warn!(client = %ip, code = %code, "留言查询失败：查询码或密码不正确");
            fail(StatusCode::UNPROCESSABLE_ENTITY, "查询码或查询密码不正确，请核对后重新输入")
        }
        Err(e) => web_err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct ActBody {
    #[serde(default)]
    t: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    followup: String,
}

async fn writer_act(state: &AppState, ip: &str, f: &ActBody, rate: bool) -> Response {
    let secret = match public::secret(state).await {
        Ok(s) => s,
        Err(e) => return web_err(e),
    };
    let Some(id) = token_id(&secret, &f.t) else {
        return public::render(
            state,
            StatusCode::FORBIDDEN,
            "interact/messages/track.html",
            None,
            json!({ "errors": {}, "typed": {}, "error_message": "页面已过期，请重新输入查询码和查询密码" }),
        );
    };
    let result = if rate {
        service::rate(&state.db, id, &f.rating, ip).await
    } else {
        service::follow_up(&state.db, id, &f.followup, ip).await
    };
    let (m, status, note) = match result {
        Ok(m) => (m, StatusCode::OK, ("saved", if rate { "感谢您的评价。" } else { "追问已提交，我们会尽快处理。" })),
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let msg = match &e {
                Error::Invalid(fe) => fe.0.first().map(|(_, m)| m.clone()).unwrap_or_default(),
                Error::Conflict(m) => m.clone(),
                _ => return web_err(e),
            };
            let m = match state.db.read().await {
                Ok(mut h) => store::get(&mut h.conn(), id, false).await,
                Err(e) => Err(e),
            };
            return match m {
                Ok(Some(m)) => status_page(state, &m, status, Some(("error_message", &msg))).await,
                Ok(None) => web_err(Error::NotFound),
                Err(e) => web_err(e),
            };
        }
    };
    status_page(state, &m, status, Some(note)).await
}

pub async fn rate(
    AxState(state): AxState<AppState>,
    ClientIp(ip): ClientIp,
    axum::extract::Form(f): axum::extract::Form<ActBody>,
) -> Response {
    writer_act(&state, &ip, &f, true).await
}

pub async fn follow_up(
    AxState(state): AxState<AppState>,
    ClientIp(ip): ClientIp,
    axum::extract::Form(f): axum::extract::Form<ActBody>,
) -> Response {
    writer_act(&state, &ip, &f, false).await
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    page: Option<i64>,
}

const PAGE: i64 = 20;

pub async fn list(AxState(state): AxState<AppState>, Path(code): Path<String>, Query(q): Query<ListQuery>) -> Response {
    let run = async {
        let site = public::site(&state, &code).await?;
        let filter = store::PublicFilter {
            q: Some(q.q.chars().take(50).collect()),
            kind: super::is_word(KINDS, q.kind.trim()).then(|| q.kind.trim().to_string()),
            year: q.year.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)),
        };
        let page = q.page.unwrap_or(1).clamp(1, 10_000);
        let (rows, total) = {
            let mut h = state.db.read().await?;
            store::published(&mut h.conn(), site.id, &filter, (page - 1) * PAGE, PAGE).await?
        };
        let this_year = gongkai_kernel::clock::today().year();
        let ctx = json!({
            "rows": rows.iter().map(|r| json!({ "r": r, "kind_label": label(KINDS, &r.kind) })).collect::<Vec<_>>(),
            "total": total,
            "page": page,
            "pages": (total + PAGE - 1) / PAGE,
            "q": q.q, "kind": filter.kind, "year": filter.year,
            "kinds": words(KINDS),
            "years": (this_year - 4..=this_year).rev().collect::<Vec<_>>(),
        });
        Ok::<_, Error>((ctx, site))
    };
    match run.await {
        Ok((ctx, site)) => public::render(&state, StatusCode::OK, "interact/messages/list.html", Some(&site), ctx),
        Err(e) => web_err(e),
    }
}

pub async fn show(AxState(state): AxState<AppState>, Path((code, id)): Path<(String, i64)>) -> Response {
    let run = async {
        let site = public::site(&state, &code).await?;
        let m = {
            let mut h = state.db.read().await?;
            store::get(&mut h.conn(), id, false).await?
        };
        let m = m.filter(|m| m.site_id == site.id && m.state == "published").ok_or(Error::NotFound)?;
        let ctx = json!({
            "m": {
                "id": m.id, "title": m.public_title, "content": m.public_content, "reply": m.public_reply,
                "name": mask::mask_name(&m.name), "kind": label(KINDS, &m.kind), "reply_org": m.reply_org,
                "submitted_on": m.submitted_on, "sent_on": m.sent_on,
                "year": m.submitted_on.get(..4),
            },
        });
        Ok::<_, Error>((ctx, site))
    };
    match run.await {
        Ok((ctx, site)) => public::render(&state, StatusCode::OK, "interact/messages/show.html", Some(&site), ctx),
        Err(e) => web_err(e),
    }
}
