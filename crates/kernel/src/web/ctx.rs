//! Request context: the signed-in principal, the client address, CSRF-checked forms,
//! page rendering and the error type handlers return.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{AppState, NavItem};
use crate::auth::{Perm, Principal};
use crate::error::Error;

/// The message of an error response; `middleware::status_pages` renders it in the
/// console's error page (one place renders every error).
#[derive(Clone, Debug)]
pub struct ErrorMessage(pub String);

#[derive(Debug)]
pub struct WebError(pub Error);

pub type WebResult<T = Response> = Result<T, WebError>;

impl From<Error> for WebError {
    fn from(e: Error) -> Self {
        WebError(e)
    }
}

impl From<sqlx::Error> for WebError {
    fn from(e: sqlx::Error) -> Self {
        WebError(e.into())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if matches!(self.0, Error::Unauthenticated) {
            return Redirect::to("/login").into_response();
        }
        let msg = match &self.0 {
            Error::Db(e) => {
                tracing::error!(error = %e, "database error");
                "服务器暂时无法完成操作，请稍后重试。如果问题持续，请联系系统管理员。".to_string()
            }
            Error::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                "服务器内部错误，请稍后重试。".to_string()
            }
            e => e.to_string(),
        };
        let mut r = (status, msg.clone()).into_response();
        r.extensions_mut().insert(ErrorMessage(msg));
        r
    }
}

/// The signed-in user. Routes behind `middleware::require` always have one.
pub struct Auth(pub Arc<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Arc<Principal>>().cloned().map(Auth).ok_or(WebError(Error::Unauthenticated))
    }
}

/// The client's address: the peer, or X-Real-IP when the peer is a proxy on this host.
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

pub fn client_ip(parts: &Parts) -> String {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    match peer {
        Some(ip) if ip.is_loopback() => parts
            .headers
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().chars().take(45).collect())
            .unwrap_or_else(|| ip.to_string()),
        Some(ip) => ip.to_string(),
        None => String::new(),
    }
}

/// A url-encoded form whose `_csrf` field must equal the session's token. This is a
/// second line behind the Origin/Sec-Fetch-Site check of tower-http's CSRF layer.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequest<S> for CsrfForm<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let principal = req.extensions().get::<Arc<Principal>>().cloned();
        // A body over the limit keeps its 413; status_pages explains it in Chinese.
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|r| r.status().into_response())?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let token = pairs.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str()).unwrap_or("");
        let Some(p) = principal else {
            return Err(WebError(Error::Unauthenticated).into_response());
        };
        if token.is_empty() || !constant_time_eq(token.as_bytes(), p.csrf_token.as_bytes()) {
            return Err(
                WebError(Error::Forbidden("表单已过期或来源无法验证，请刷新页面后重新提交".into())).into_response()
            );
        }
        serde_urlencoded::from_bytes::<T>(&bytes)
            .map(CsrfForm)
            .map_err(|e| WebError(Error::field("form", format!("表单内容无效：{e}"))).into_response())
    }
}

/// A multipart/form-data upload with one file field named `file`; the form's `_csrf`
/// field must equal the session's token (the same rule as `CsrfForm`). Yields the file's
/// name and bytes, or None when no (non-empty) file was chosen.
pub struct CsrfUpload(pub Option<(String, Vec<u8>)>);

impl<S: Send + Sync> FromRequest<S> for CsrfUpload {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let principal = req.extensions().get::<Arc<Principal>>().cloned();
        let mut form = axum::extract::Multipart::from_request(req, state).await.map_err(|r| r.into_response())?;
        let mut token = String::new();
        let mut file = None;
        loop {
            let field = match form.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err((e.status(), e.body_text()).into_response()),
            };
            match field.name() {
                Some("_csrf") => token = field.text().await.unwrap_or_default(),
                Some("file") => {
                    let name = field.file_name().unwrap_or("").to_string();
                    match field.bytes().await {
                        Ok(b) if !b.is_empty() => file = Some((name, b.to_vec())),
                        Ok(_) => {}
                        Err(e) => return Err((e.status(), e.body_text()).into_response()),
                    }
                }
                _ => {}
            }
        }
        let Some(p) = principal else { return Err(WebError(Error::Unauthenticated).into_response()) };
        if token.is_empty() || !constant_time_eq(token.as_bytes(), p.csrf_token.as_bytes()) {
            return Err(
                WebError(Error::Forbidden("表单已过期或来源无法验证，请刷新页面后重新提交".into())).into_response()
            );
        }
        Ok(CsrfUpload(file))
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) const NAV: &[NavItem] = &[
    NavItem { href: "/console", label: "首页", perm: Perm::Console },
    NavItem { href: "/console/orgs", label: "机构", perm: Perm::OrgManage },
    NavItem { href: "/console/users", label: "用户与授权", perm: Perm::UserView },
    NavItem { href: "/console/sites", label: "网站", perm: Perm::Console },
    NavItem { href: "/console/calendar", label: "工作日历", perm: Perm::Console },
    NavItem { href: "/console/audit", label: "审计日志", perm: Perm::AuditRead },
    NavItem { href: "/console/jobs", label: "后台任务", perm: Perm::JobView },
];

/// Render a console page: `ctx` plus the shell's own values (user, nav, CSRF token).
pub fn render(state: &AppState, who: Option<&Principal>, template: &str, ctx: Value) -> WebResult<Html<String>> {
    render_with(state, who, template, ctx, "")
}

pub fn render_with(
    state: &AppState,
    who: Option<&Principal>,
    template: &str,
    mut ctx: Value,
    path: &str,
) -> WebResult<Html<String>> {
    if let (Some(p), Value::Object(m)) = (who, &mut ctx) {
        let roles: Vec<&str> = p.roles().into_iter().map(|r| r.label_zh()).collect();
        // A page open to several permissions lists one entry per permission: show it once.
        let mut shown = std::collections::HashSet::new();
        let nav: Vec<Value> = state
            .nav()
            .iter()
            .filter(|n| p.has(n.perm) && shown.insert(n.href))
            .map(|n| json!({ "href": n.href, "label": n.label, "current": n.href == path }))
            .collect();
        m.insert(
            "me".into(),
            json!({ "id": p.user_id, "username": p.username, "display_name": p.display_name, "roles": roles }),
        );
        m.insert("csrf".into(), json!(p.csrf_token));
        m.insert("nav".into(), json!(nav));
    }
    let tmpl = state.templates.get_template(template).map_err(Error::internal)?;
    let html = tmpl.render(minijinja::Value::from_serialize(&ctx)).map_err(Error::internal)?;
    Ok(Html(html))
}

/// A file sent as a download, never shown inline: `name` (Chinese allowed) in RFC 5987 form,
/// `ascii_fallback` for clients that only read `filename=`, never cached by proxies.
pub fn attachment(name: &str, ascii_fallback: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    use axum::http::HeaderValue;
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let fallback: String =
        ascii_fallback.chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).take(100).collect();
    let fallback = if fallback.is_empty() { "download".to_string() } else { fallback };
    let disposition = format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{}", rfc5987(name));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    r
}

/// RFC 5987 `attr-char` encoding of a file name.
pub fn rfc5987(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// 303 See Other after a successful POST.
pub fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

/// Re-display a form with its field errors and what was typed (422).
pub fn form_error(state: &AppState, who: &Principal, template: &str, mut ctx: Value, err: Error) -> Response {
    let (status, errors, message) = match &err {
        Error::Invalid(f) => {
            (StatusCode::UNPROCESSABLE_ENTITY, json!(f.as_map()), "请按提示修改后重新提交".to_string())
        }
        Error::Conflict(m) => (StatusCode::CONFLICT, json!({}), m.clone()),
        Error::Forbidden(m) => (StatusCode::FORBIDDEN, json!({}), format!("无权操作：{m}")),
        Error::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, json!({}), m.clone()),
        _ => return WebError(err).into_response(),
    };
    if let Value::Object(m) = &mut ctx {
        m.insert("errors".into(), errors);
        m.insert("error_message".into(), json!(message));
    }
    match render(state, Some(who), template, ctx) {
        Ok(html) => (status, html).into_response(),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5987_encodes_outside_attr_chars() {
        assert_eq!(rfc5987("标准目录-2026.csv"), "%E6%A0%87%E5%87%86%E7%9B%AE%E5%BD%95-2026.csv");
        assert_eq!(rfc5987("a b/c\"'"), "a%20b%2Fc%22%27");
    }
}
