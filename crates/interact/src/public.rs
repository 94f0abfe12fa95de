//! What the public pages of every part share: the form guard (a text captcha signed with
//! the form secret, a per-client rate limit), the site a page belongs to, and rendering.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::site::Site;
use gongkai_kernel::web::guard::{self, FormGuard};
use gongkai_kernel::web::{AppState, WebError};

#[derive(Clone)]
struct Guard(FormGuard);

/// Tracking-code look-ups per client address and hour: enough for anyone, too few to guess.
pub const LOOKUPS_PER_HOUR: u32 = 60;

pub fn attach(state: AppState) -> AppState {
    let per_hour = state.cfg.limits.public_submissions_per_hour;
    state
        .with_ext(Guard(FormGuard::new(per_hour, LOOKUPS_PER_HOUR)))
        .with_ext(gongkai_kernel::db::group::Group::<crate::messages::service::Submission>::default())
}

fn guard_of(state: &AppState) -> Result<Guard> {
    state.ext::<Guard>().cloned().ok_or_else(|| Error::Internal("互动交流公共服务未启动".into()))
}

/// The form secret (shared by every node through `settings`).
pub async fn secret(state: &AppState) -> Result<Vec<u8>> {
    let g = guard_of(state)?;
    g.0.secret(&state.db).await
}

/// A new captcha question for a form: (question, token).
pub async fn challenge(state: &AppState) -> Result<guard::Challenge> {
    Ok(guard::challenge(&secret(state).await?, gongkai_kernel::clock::now_ms()))
}

/// Check a submission's captcha answer (field `answer`) and the client's rate.
pub async fn check_submission(state: &AppState, ip: &str, token: &str, answer: &str) -> Result<()> {
    let secret = secret(state).await?;
    guard::verify(&secret, token, answer, gongkai_kernel::clock::now_ms()).map_err(|m| Error::field("answer", m))?;
    let g = guard_of(state)?;
    if let Err(wait) = g.0.submission(ip) {
        let mins = wait.as_secs().div_ceil(60).max(1);
        return Err(Error::TooMany(format!("提交过于频繁，请{mins}分钟后再试")));
    }
    Ok(())
}

/// Count a tracking-code look-up; refused (and the caller logs it) past the hourly limit.
pub fn check_lookup(state: &AppState, ip: &str) -> Result<()> {
    let g = guard_of(state)?;
    g.0.lookup(ip).map_err(|_| Error::TooMany("查询过于频繁，请稍后再试".into()))
}

/// The open site a public page belongs to, by its code (404 for an unknown or closed one).
pub async fn site(state: &AppState, code: &str) -> Result<Site> {
    let mut h = state.db.read().await?;
    let site = gongkai_kernel::site::store::by_code(&mut h.conn(), code).await?;
    site.filter(|s| s.status == "open").ok_or(Error::NotFound)
}

/// Render a public page; `ctx` gets the site for the shared layout.
pub fn render(state: &AppState, status: StatusCode, template: &str, site: Option<&Site>, mut ctx: Value) -> Response {
    if let (Some(s), Value::Object(m)) = (site, &mut ctx) {
        m.insert("site".into(), json!({ "code": s.code, "name": s.name }));
    }
    match gongkai_kernel::web::ctx::render(state, None, template, ctx) {
        Ok(html) => (status, html).into_response(),
        Err(e) => e.into_response(),
    }
}

/// A public form again with its field errors and what was typed (422, 409 or 429).
pub fn form_again(state: &AppState, template: &str, site: Option<&Site>, mut ctx: Value, err: Error) -> Response {
    let (status, errors, message) = match &err {
        Error::Invalid(f) => {
            (StatusCode::UNPROCESSABLE_ENTITY, json!(f.as_map()), "请按提示修改后重新提交".to_string())
        }
        Error::Conflict(m) => (StatusCode::CONFLICT, json!({}), m.clone()),
        Error::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, json!({}), m.clone()),
        _ => return WebError(err).into_response(),
    };
    if let Value::Object(m) = &mut ctx {
        m.insert("errors".into(), errors);
        m.insert("error_message".into(), json!(message));
    }
    render(state, status, template, site, ctx)
}
