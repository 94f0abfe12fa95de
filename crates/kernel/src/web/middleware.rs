//! Middleware: request metrics and logs, the signed-in principal, permission guards and
//! the Chinese error pages.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::json;

use super::AppState;
use super::ctx::{ErrorMessage, render};
use crate::auth::{Perm, Principal, service as auth_service};

pub const SESSION_COOKIE: &str = "gk_session";

pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let uri = req.uri().path().to_string();
    let resp = next.run(req).await;
    if !(method == Method::GET || method == Method::HEAD) {
        // Wake every follower waiting now (portal cache, search), and leave a permit for one that is busy.
        state.changes.notify_waiters();
        state.changes.notify_one();
    }
    let elapsed = start.elapsed();
    let status = resp.status().as_u16();
    let route = route.unwrap_or_else(|| if status == 404 { "unmatched".into() } else { uri.clone() });
    state.metrics.observe(method.as_str(), &route, status, elapsed.as_micros() as u64);
    tracing::info!(method = %method, path = %uri, status, ms = elapsed.as_millis() as u64, "request");
    resp
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// Attach the principal of a valid session cookie to the request.
pub async fn load_principal(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(token) = cookie_value(req.headers(), SESSION_COOKIE) {
        match auth_service::principal_for_token(&state.db, &state.cfg.security, &token).await {
            Ok(Some(auth_service::SessionState::Active(p))) => {
                req.extensions_mut().insert(Arc::new(p));
            }
            Ok(Some(auth_service::SessionState::MfaPending(user_id))) => {
                req.extensions_mut().insert(auth_service::PendingMfa(user_id));
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "session lookup failed"),
        }
    }
    next.run(req).await
}

/// Guard for console routes: signed in, password changed if required, permission held.
pub async fn require(State(perm): State<Perm>, req: Request, next: Next) -> Response {
    let Some(p) = req.extensions().get::<Arc<Principal>>().cloned() else {
        let next_url = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/console");
        let target = format!("/login?next={}", urlencode(next_url));
        return Redirect::to(&target).into_response();
    };
    let path = req.uri().path();
    if p.must_change_password && path != "/console/password" {
        return Redirect::to("/console/password").into_response();
    }
    if !p.has(perm) {
        let msg = "您的角色没有访问此页面的权限。如需开通，请联系安全管理员。".to_string();
        let mut r = (StatusCode::FORBIDDEN, msg.clone()).into_response();
        r.extensions_mut().insert(ErrorMessage(msg));
        return r;
    }
    next.run(req).await
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Every error response becomes a Chinese page (or stays JSON/plain for API clients).
pub async fn status_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let token = cookie_value(req.headers(), SESSION_COOKIE);
    let wants_html = req.method() == Method::GET || req.method() == Method::POST;
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || !wants_html {
        return resp;
    }
    let ct = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let explicit = resp.extensions().get::<ErrorMessage>().cloned();
    // Pages and machine-readable bodies (JSON, the Open311 API's XML) are kept as they are.
    if ["text/html", "application/json", "text/xml", "application/xml"].iter().any(|t| ct.starts_with(t)) {
        return resp;
    }
    let message = explicit.map(|m| m.0).unwrap_or_else(|| default_message(&state, status));
    // This layer sits outside the session loader (so it also dresses the CSRF, size and
    // timeout layers' bare responses); look the user up only now, for the navigation.
    let principal = match token {
        Some(t) => match auth_service::principal_for_token(&state.db, &state.cfg.security, &t).await {
            Ok(Some(auth_service::SessionState::Active(p))) => Some(p),
            _ => None,
        },
        None => None,
    };
    let page = render(
        &state,
        principal.as_ref(),
        "console/error.html",
        json!({ "status": status.as_u16(), "title": title(status), "message": message }),
    );
    match page {
        Ok(Html(body)) => {
            let mut r = (status, Html(body)).into_response();
            // Keep headers such as Retry-After that the inner layer set.
            for (k, v) in resp.headers() {
                if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
                    r.headers_mut().insert(k.clone(), v.clone());
                }
            }
            r
        }
        Err(_) => resp,
    }
}

fn title(s: StatusCode) -> &'static str {
    match s.as_u16() {
        400 => "请求有误",
        401 => "请先登录",
        403 => "禁止访问",
        404 => "页面不存在",
        405 => "不支持的请求方式",
        408 => "请求超时",
        409 => "数据冲突",
        413 => "提交内容过大",
        422 => "输入有误",
        429 => "操作过于频繁",
        _ => "服务器错误",
    }
}

fn default_message(state: &AppState, s: StatusCode) -> String {
    match s.as_u16() {
        400 => "请求格式有误，请检查后重试。".into(),
        403 => "请求来源校验未通过（可能是跨站提交或页面已过期）。请回到原页面刷新后重试。".into(),
        404 => "您访问的页面不存在或已被删除。".into(),
        405 => "该地址不支持此请求方式。".into(),
        408 => "服务器处理超时，请稍后重试。".into(),
        413 => format!(
            "提交的内容超过上限（{:.1} MB），请减小附件或分次提交。",
            state.cfg.limits.request_body_bytes as f64 / 1024.0 / 1024.0
        ),
        422 => "提交的内容无法识别，请检查后重试。".into(),
        _ => "服务器暂时无法处理您的请求，请稍后重试。".into(),
    }
}
