//! The public dispatcher: one handler resolves the site (host or `/s/<code>/`), parses the
//! route, answers from the page cache or builds the page, and negotiates ETag,
//! Last-Modified and gzip/brotli. Unknown paths get the site's own 404 page.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get};
use gongkai_kernel::web::AppState;
use gongkai_kernel::web::middleware::cookie_value;

use crate::Portal;
use crate::cache::Page;
use crate::pages::{self, Fail, View};
use crate::route::{self, Reject, Route};
use crate::site::{self, SiteInfo};

pub const CARE_COOKIE: &str = "gk_care";

/// Paths owned by the console, the kernel or the API: never a site page.
const RESERVED: [&str; 8] = ["/console", "/login", "/logout", "/static/", "/healthz", "/readyz", "/metrics", "/api/"];

/// Whether a path belongs to the console, the kernel or the API ("/api" and "/api/…" alike).
fn reserved(path: &str) -> bool {
    RESERVED.iter().any(|p| path.starts_with(p) || p.strip_suffix('/') == Some(path))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dispatch))
        .route("/s/{site}", get(|req: Request| async move { Redirect::permanent(&format!("{}/", req.uri().path())) }))
        .route("/s/{site}/", get(dispatch))
        .route("/s/{site}/{*rest}", any(dispatch))
        .route("/{*rest}", any(dispatch))
        .merge(crate::api::router())
}

fn portal(state: &AppState) -> Option<Portal> {
    state.ext::<Portal>().cloned()
}

/// Scheme and host the client used (behind a proxy: X-Forwarded-Proto).
fn origin(h: &HeaderMap) -> String {
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let host: String = host.chars().filter(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(*c)).take(255).collect();
    let proto = h.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).filter(|p| *p == "https").unwrap_or("http");
    format!("{proto}://{host}")
}

fn html_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(pages::HTML));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// For a host no site serves: a plain page, not any site's.
fn unknown_host() -> Response {
    let body = "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>网站不存在</title>\
                <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head><body><main>\
                <h1>网站不存在</h1><p>您访问的网站地址未在本网站群中登记，请核对网址。</p></main></body></html>";
    html_response(StatusCode::NOT_FOUND, body.as_bytes().to_vec())
}

async fn dispatch(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if reserved(&path) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(p) = portal(&state) else { return StatusCode::NOT_FOUND.into_response() };
    let sites = match p.sites.all(&state.db).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "site directory");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let Some(at) = locate(&sites, &req, &path, &p.default_site) else {
        if path == "/" && sites.is_empty() {
            return Redirect::to("/console").into_response();
        }
        return unknown_host();
    };
    let site = at.site;
    let view = View {
        site,
        root: format!("{}{}", at.origin, at.base),
        base: at.base,
        origin: at.origin,
        care: at.care,
        export: false,
    };
    let rel = at.rel;
    let query = req.uri().query().unwrap_or("").to_string();
    let route = match route::parse(&rel, &query) {
        Ok(r) => r,
        Err(Reject::NotFound) => {
            // "/col/yw" → "/col/yw/".
            if !rel.ends_with('/') && route::parse(&format!("{rel}/"), "").is_ok() {
                return Redirect::permanent(&format!("{path}/")).into_response();
            }
            return error(&p, &state, &view, StatusCode::NOT_FOUND, "您访问的页面不存在或已被删除。").await;
        }
        Err(Reject::BadRequest(m)) => return error(&p, &state, &view, StatusCode::BAD_REQUEST, &m).await,
    };
    if !(req.method() == Method::GET || req.method() == Method::HEAD) {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    match &route {
        Route::Asset(name) => return asset(&p, site, name, req.headers()),
        Route::File { id } => return file(&p, &state, site, *id).await,
        Route::Care { on, back } => return care_switch(*on, back, &view),
        _ => {}
    }
    let key = cache_key(&view.origin, &view.base, view.care, &route);
    if let Some(page) = p.cache.get(&key) {
        return page.respond(req.headers(), 60);
    }
    match pages::build(&p, &state.db, &view, &route).await {
        Ok(b) => {
            let keep = route.cacheable() && p.cache.enabled();
            let page = Page::new(b.body, b.content_type, b.modified_ms, b.tags, keep);
            let page = if keep { p.cache.put(key, page) } else { std::sync::Arc::new(page) };
            page.respond(req.headers(), 60)
        }
        Err(Fail::NotFound(m)) => error(&p, &state, &view, StatusCode::NOT_FOUND, &m).await,
        Err(Fail::Internal(e)) => {
            tracing::error!(error = %e, path = %path, "public page");
            error(&p, &state, &view, StatusCode::INTERNAL_SERVER_ERROR, "服务器暂时无法处理您的请求，请稍后重试。")
                .await
        }
    }
}

/// Where a request is: the site, the URL prefix of its root, the path below it, the
/// origin and the 关怀模式 flag.
struct Located<'a> {
    site: &'a SiteInfo,
    base: String,
    rel: String,
    origin: String,
    care: bool,
}

fn locate<'a>(sites: &'a [SiteInfo], req: &Request, path: &str, default_site: &str) -> Option<Located<'a>> {
    let (site, base, rel) = if let Some(rest) = path.strip_prefix("/s/") {
        let (code, rel) = rest.split_once('/').map(|(c, r)| (c, format!("/{r}"))).unwrap_or((rest, "/".into()));
        (site::by_code(sites, code)?, format!("/s/{code}"), rel)
    } else {
        let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        (site::by_host(sites, host, default_site)?, String::new(), path.to_string())
    };
    let care = cookie_value(req.headers(), CARE_COOKIE).as_deref() == Some("1");
    Some(Located { site, base, rel, origin: origin(req.headers()), care })
}

fn cache_key(origin: &str, base: &str, care: bool, route: &Route) -> String {
    format!("{origin}|{base}|{}|{}", care as u8, route.href())
}

impl gongkai_kernel::web::FastPath for Portal {
    /// A page already in the cache, for a visitor without a session: straight from memory.
    fn answer(&self, req: &Request) -> Option<Response> {
        if !(req.method() == Method::GET || req.method() == Method::HEAD) || !self.cache.enabled() {
            return None;
        }
        let path = req.uri().path();
        if reserved(path) {
            return None;
        }
        if cookie_value(req.headers(), gongkai_kernel::web::middleware::SESSION_COOKIE).is_some() {
            return None;
        }
        let sites = self.sites.loaded()?;
        let at = locate(&sites, req, path, &self.default_site)?;
        if !at.site.is_open() {
            return None;
        }
        let route = route::parse(&at.rel, req.uri().query().unwrap_or("")).ok()?;
        let key = match &route {
            Route::Asset(name) if !self.themes.reloading() => format!("asset|{}|{name}", at.site.theme),
            r if r.cacheable() => cache_key(&at.origin, &at.base, at.care, r),
            _ => return None,
        };
        let page = self.cache.get(&key)?;
        Some(page.respond(req.headers(), if matches!(route, Route::Asset(_)) { 3600 } else { 60 }))
    }
}

async fn error(p: &Portal, state: &AppState, view: &View<'_>, status: StatusCode, message: &str) -> Response {
    match pages::error_page(p, &state.db, view, status.as_u16(), message).await {
        Ok(body) => html_response(status, body),
        Err(e) => {
            tracing::error!(error = ?e, "error page");
            // The kernel's status layer dresses a bare status.
            status.into_response()
        }
    }
}

fn asset(p: &Portal, site: &SiteInfo, name: &str, req: &HeaderMap) -> Response {
    // Compressed once and kept, unless theme files are being edited (theme_reload).
    let key = format!("asset|{}|{name}", site.theme);
    if !p.themes.reloading()
        && let Some(page) = p.cache.get(&key)
    {
        return page.respond(req, 3600);
    }
    let Some((bytes, mime)) = p.themes.asset(&site.theme, name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let keep = !p.themes.reloading() && p.cache.enabled();
    let page = Page::new(bytes, mime, 0, Vec::new(), keep);
    if keep { p.cache.put(key, page).respond(req, 3600) } else { page.respond(req, 3600) }
}

async fn file(p: &Portal, state: &AppState, site: &SiteInfo, id: i64) -> Response {
    let found = async {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        let Some((item_id, a)) = crate::store::public_attachment(&mut c, id).await? else { return Ok(None) };
        if !crate::store::on_site(&mut c, site.id, item_id).await? {
            return Ok(None);
        }
        Ok::<_, gongkai_kernel::Error>(Some(a))
    }
    .await;
    let a = match found {
        Ok(Some(a)) => a,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "attachment");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Some(path) = p.files.path_of(&a.sha256) else { return StatusCode::NOT_FOUND.into_response() };
    let Ok(bytes) = tokio::fs::read(&path).await else { return StatusCode::NOT_FOUND.into_response() };
    if let Err(e) = gongkai_cms::attachments::count_download(&state.db, id).await {
        tracing::warn!(error = %e, "download count");
    }
    let mut r = (StatusCode::OK, Body::from(bytes)).into_response();
    let h = r.headers_mut();
    if let Ok(v) = a.mime.parse() {
        h.insert(header::CONTENT_TYPE, v);
    }
    let disposition = format!("attachment; filename*=UTF-8''{}", gongkai_kernel::web::middleware::urlencode(&a.name));
    if let Ok(v) = disposition.parse() {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

/// 关怀模式 on or off: remembered for a year, then back to the page.
fn care_switch(on: bool, back: &str, view: &View) -> Response {
    let target = if back.starts_with(&format!("{}/", view.base)) || view.base.is_empty() {
        back.to_string()
    } else {
        format!("{}/", view.base)
    };
    let mut r = Redirect::to(&target).into_response();
    let cookie = if on {
        format!("{CARE_COOKIE}=1; Path=/; Max-Age=31536000; SameSite=Lax")
    } else {
        format!("{CARE_COOKIE}=0; Path=/; Max-Age=0; SameSite=Lax")
    };
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
