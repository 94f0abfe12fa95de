//! The public side: the online application form (captcha, per-client rate limit,
//! idempotency key, stored before acknowledged) and the applicant's tracking page
//! (tracking number + 查询码; shows the state, the due date with its explanation, the
//! public timeline, the letters and the released files). Nothing here lists requests.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::web::guard::{self, FormGuard};
use gongkai_kernel::web::{AppState, ClientIp};

use crate::model::*;
use crate::{letter, rules, service, store};

/// The public form's per-node state.
#[derive(Clone)]
pub struct Public(FormGuard);

/// Submissions are limited per client address and hour (`limits.public_submissions_per_hour`,
/// default 20: a family or an office behind one address still fits; a script does not).
pub fn attach(state: AppState) -> AppState {
    let per_hour = state.cfg.limits.public_submissions_per_hour;
    state.with_ext(Public(FormGuard::new(per_hour, LOOKUPS_PER_HOUR)))
}

async fn public_of(state: &AppState) -> Result<(Public, Vec<u8>)> {
    let p = state.ext::<Public>().cloned().ok_or_else(|| Error::Internal("依申请公开公共服务未启动".into()))?;
    let secret = p.0.secret(&state.db).await?;
    Ok((p, secret))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/yisqgk", get(|| async { Redirect::permanent("/yisqgk/apply") }))
        .route("/yisqgk/apply", get(apply_form).post(apply))
        .route("/yisqgk/track", get(track_form).post(track))
        .route("/yisqgk/files/{fid}", get(file))
}

/// The 查询码 of an online submission, derived from its idempotency key: a retried
/// submission shows the same code again without the code being stored.
fn code_for(secret: &[u8], idem_key: &str) -> String {
    guard::readable_code(secret, "foi-code", idem_key, 8)
}

fn render(state: &AppState, status: StatusCode, template: &str, ctx: Value) -> Response {
    match gongkai_kernel::web::ctx::render(state, None, template, ctx) {
        Ok(html) => (status, html).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn form_ctx(state: &AppState, secret: &[u8], typed: Value) -> Result<Value> {
    let orgs = gongkai_kernel::org::service::list(&state.db).await?;
    let c = guard::challenge(secret, gongkai_kernel::clock::now_ms());
    Ok(json!({
        "orgs": orgs.iter().map(|o| json!({ "value": o.id, "label": o.name })).collect::<Vec<_>>(),
        "choices": crate::web::choices(),
        "typed": typed,
        "question": c.question,
        "token": c.token,
        "errors": {},
    }))
}

#[derive(Deserialize, Default)]
pub struct ApplyQuery {
    #[serde(default)]
    org: Option<i64>,
}

pub async fn apply_form(State(state): State<AppState>, Query(q): Query<ApplyQuery>) -> Response {
    let run = async {
        let (_, secret) = public_of(&state).await?;
        let idem = gongkai_kernel::random_token::<16>();
        form_ctx(
            &state,
            &secret,
            json!({ "org_id": q.org, "idem": idem, "applicant_kind": "natural", "id_type": "id_card" }),
        )
        .await
    };
    match run.await {
        Ok(ctx) => render(&state, StatusCode::OK, "foi/apply.html", ctx),
        Err(e) => gongkai_kernel::web::WebError(e).into_response(),
    }
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct ApplyForm {
    #[serde(flatten)]
    app: service::ApplicationForm,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    answer: String,
}

pub async fn apply(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    axum::extract::Form(f): axum::extract::Form<ApplyForm>,
) -> Response {
    let (p, secret) = match public_of(&state).await {
        Ok(v) => v,
        Err(e) => return gongkai_kernel::web::WebError(e).into_response(),
    };
    let again = |err: Error| {
        let state = state.clone();
        let secret = secret.clone();
        let typed = json!(&f);
        async move {
            let (status, errors, message) = match &err {
                Error::Invalid(fe) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, json!(fe.as_map()), "请按提示修改后重新提交".to_string())
                }
                Error::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, json!({}), m.clone()),
                _ => return gongkai_kernel::web::WebError(err).into_response(),
            };
            match form_ctx(&state, &secret, typed).await {
                Ok(mut ctx) => {
                    ctx["errors"] = errors;
                    ctx["error_message"] = json!(message);
                    render(&state, status, "foi/apply.html", ctx)
                }
                Err(e) => gongkai_kernel::web::WebError(e).into_response(),
            }
        }
    };
    // A retried submission (same key) is answered before the captcha and the limit: it
    // creates nothing and must not be refused.
    if !f.idem.trim().is_empty() {
        let existing = match state.db.read().await {
            Ok(mut h) => store::by_idem_key(&mut h.conn(), f.idem.trim()).await,
            Err(e) => Err(e),
        };
        match existing {
            Ok(Some(r)) => return receipt_page(&state, &r, &code_for(&secret, f.idem.trim()), true),
            Ok(None) => {}
            Err(e) => return gongkai_kernel::web::WebError(e).into_response(),
        }
    }
    if let Err(m) = guard::verify(&secret, &f.token, &f.answer, gongkai_kernel::clock::now_ms()) {
        return again(Error::field("answer", m)).await;
    }
    if let Err(wait) = p.0.submission(&ip) {
        let mins = wait.as_secs().div_ceil(60).max(1);
        return again(Error::TooMany(format!("提交过于频繁，请{mins}分钟后再试"))).await;
    }
    let code = code_for(&secret, f.idem.trim());
    match service::submit_online(&state.db, &f.app, &f.idem, &code, &ip).await {
        // Committed before this page is sent: an acknowledged request survives a crash.
        Ok((r, created)) => receipt_page(&state, &r, &code, !created),
        Err(e) => again(e).await,
    }
}

fn receipt_page(state: &AppState, r: &store::RequestRow, code: &str, repeated: bool) -> Response {
    let ctx = json!({ "tracking_no": r.tracking_no, "code": code, "repeated": repeated, "title": r.info_title });
    render(state, StatusCode::OK, "foi/receipt.html", ctx)
}

pub async fn track_form(State(state): State<AppState>) -> Response {
    render(&state, StatusCode::OK, "foi/track.html", json!({ "errors": {}, "typed": {} }))
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct TrackForm {
    #[serde(default)]
    no: String,
    #[serde(default)]
    code: String,
}

/// Tracking requests per address and hour: enough for any applicant, too few to guess codes.
const LOOKUPS_PER_HOUR: u32 = 60;

pub async fn track(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    axum::extract::Form(f): axum::extract::Form<TrackForm>,
) -> Response {
    let fail = |status: StatusCode, msg: &str| {
        render(
            &state,
            status,
            "foi/track.html",
            json!({ "errors": { "code": msg }, "typed": { "no": f.no }, "error_message": msg }),
        )
    };
    let limited = match state.ext::<Public>() {
        Some(p) => p.0.lookup(&ip).is_err(),
        None => true,
    };
    if limited {
        return fail(StatusCode::TOO_MANY_REQUESTS, "查询过于频繁，请稍后再试");
    }
    let found = match state.db.read().await {
        Ok(mut h) => store::by_tracking(&mut h.conn(), f.no.trim().to_uppercase().as_str()).await,
        Err(e) => Err(e),
    };
    let r = match found {
        Ok(Some(r))
            if gongkai_kernel::web::ctx::constant_time_eq(
                service::hash_code(&f.code).as_bytes(),
                r.access_hash.as_bytes(),
            ) =>
        {
            r
        }
        Ok(_) => return fail(StatusCode::UNPROCESSABLE_ENTITY, "申请编号或查询码不正确，请核对后重新输入"),
        Err(e) => return gongkai_kernel::web::WebError(e).into_response(),
    };
    match status_ctx(&state, &r).await {
        Ok(ctx) => render(&state, StatusCode::OK, "foi/status.html", ctx),
        Err(e) => gongkai_kernel::web::WebError(e).into_response(),
    }
}

/// What the applicant sees: no staff notes, no names of staff, no internal steps.
async fn status_ctx(state: &AppState, r: &store::RequestRow) -> Result<Value> {
    let (_, secret) = public_of(state).await?;
    let cal = gongkai_kernel::calendar::service::load(&state.db).await?;
    let mut h = state.db.read().await?;
    let mut c = h.conn();
    let steps = store::steps(&mut c, r.id).await?;
    let events = store::events(&mut c, r.id, true).await?;
    let letters = store::letters(&mut c, r.id).await?;
    let files = store::files(&mut c, r.id).await?;
    let org = gongkai_kernel::org::store::get(&mut c, r.org_id).await?.ok_or(Error::NotFound)?;
    let clock = rules::clock(&cal, &service::clock_input(r, &steps));
    let expires = gongkai_kernel::clock::now_ms() + 3_600_000;
    Ok(json!({
        "tracking_no": r.tracking_no,
        "org_name": org.name,
        "title": r.info_title,
        "state": r.state,
        "state_label": RequestState::parse(&r.state).map(RequestState::label_zh).unwrap_or(""),
        "received_on": r.received_on,
        "clock": if r.state == "decided" { Value::Null } else { json!(clock) },
        "decided_on": r.decided_on,
        "answer_label": r.answer.as_deref().and_then(Answer::parse).map(Answer::label_zh),
        "events": events.iter().map(|e| json!({ "at": gongkai_kernel::clock::fmt_ms(e.at), "text": e.text })).collect::<Vec<_>>(),
        "letters": letters.iter().map(|l| json!({ "title": l.title, "html": letter::to_html(&l.title, &l.body) })).collect::<Vec<_>>(),
        "files": files.iter().map(|f| json!({ "name": f.name, "size": f.size, "href": format!("/yisqgk/files/{}?t={}", f.id, file_token(&secret, f.id, expires)) })).collect::<Vec<_>>(),
    }))
}

fn file_token(secret: &[u8], fid: i64, expires: i64) -> String {
    let tag = guard::mac(secret, &[b"foi-file", &fid.to_be_bytes(), &expires.to_be_bytes()]);
    format!("{expires}.{}", gongkai_kernel::audit::hex(&tag[..16]))
}

#[derive(Deserialize, Default)]
pub struct FileQuery {
    #[serde(default)]
    t: String,
}

/// A released file, through the signed, expiring link on the tracking page.
pub async fn file(State(state): State<AppState>, Path(fid): Path<i64>, Query(q): Query<FileQuery>) -> Response {
    let Ok((_, secret)) = public_of(&state).await else { return StatusCode::SERVICE_UNAVAILABLE.into_response() };
    let expires = q.t.split('.').next().and_then(|e| e.parse::<i64>().ok()).unwrap_or(0);
    let valid = expires > gongkai_kernel::clock::now_ms()
        && gongkai_kernel::web::ctx::constant_time_eq(file_token(&secret, fid, expires).as_bytes(), q.t.as_bytes());
    if !valid {
        return (StatusCode::FORBIDDEN, Html("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>链接已失效</title></head><body><main><h1>链接已失效</h1><p>请回到<a href=\"/yisqgk/track\">申请查询</a>页面重新查询后下载。</p></main></body></html>")).into_response();
    }
    let found = match state.db.read().await {
        Ok(mut h) => {
            let mut c = h.conn();
            let req: Option<i64> = gongkai_kernel::with_conn!(&mut c, x => {
                sqlx::query_scalar("SELECT request_id FROM foi_files WHERE id = $1").bind(fid).fetch_optional(&mut **x).await
            })
            .ok()
            .flatten();
            match req {
                Some(rid) => store::file_data(&mut c, rid, fid).await,
                None => Ok(None),
            }
        }
        Err(e) => Err(e),
    };
    match found {
        Ok(Some((meta, data))) => crate::web::download(&meta, data),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => gongkai_kernel::web::WebError(e).into_response(),
    }
}
