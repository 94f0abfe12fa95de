//! HTTP: the router, middleware, the console shell and operations endpoints.
//! Handlers stay thin: parse, authorise, call a service, render.

pub mod ctx;
pub mod guard;
pub mod metrics;
pub mod middleware;
pub mod ops;
pub mod templates;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::auth::Perm;
use crate::config::Config;
use crate::db::Db;

pub use ctx::{Auth, ClientIp, CsrfForm, CsrfUpload, WebError, WebResult};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub cfg: Arc<Config>,
    pub templates: Arc<minijinja::Environment<'static>>,
    pub metrics: Arc<metrics::Metrics>,
    pub slices: Arc<Vec<Slice>>,
    /// State a slice keeps for its handlers (e.g. the portal's page cache), by type.
    pub ext: Arc<axum::http::Extensions>,
    /// Woken after every state-changing request, so outbox tailers on this node (the
    /// page cache) act at once instead of at their next poll.
    pub changes: Arc<tokio::sync::Notify>,
    /// Answers served before the router and middleware (the portal's cached pages).
    pub fast: Option<Arc<dyn FastPath>>,
}

/// A synchronous answer from memory for a request that needs no session, no body and no
/// database: it skips routing and the middleware stack (the security headers are still
/// set). Returning None hands the request to the router.
pub trait FastPath: Send + Sync {
    fn answer(&self, req: &axum::extract::Request) -> Option<axum::response::Response>;
}

/// What a slice (cms, hotline, …) adds to the console: its guarded routes, its templates
/// (looked up after the kernel's) and its navigation entries.
#[derive(Clone)]
pub struct Slice {
    pub name: &'static str,
    pub routes: &'static [ConsoleRoute],
    pub router: fn() -> Router<AppState>,
    pub templates: fn(&str) -> Option<String>,
    pub nav: &'static [NavItem],
}

/// A navigation entry, shown to principals holding `perm`.
#[derive(Debug, Clone, Copy)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub perm: Perm,
}

impl AppState {
    pub fn new(db: Db, cfg: Config) -> AppState {
        Self::with_slices(db, cfg, Vec::new())
    }
    pub fn with_slices(db: Db, cfg: Config, slices: Vec<Slice>) -> AppState {
        let sources: Vec<fn(&str) -> Option<String>> = slices.iter().map(|s| s.templates).collect();
        AppState {
            db,
            cfg: Arc::new(cfg),
            templates: Arc::new(templates::environment(sources)),
            metrics: Arc::new(metrics::Metrics::default()),
            slices: Arc::new(slices),
            ext: Arc::new(axum::http::Extensions::new()),
            changes: Arc::new(tokio::sync::Notify::new()),
            fast: None,
        }
    }
    /// Attach a slice's state; call before the state is shared.
    pub fn with_ext<T: Clone + Send + Sync + 'static>(mut self, value: T) -> AppState {
        Arc::make_mut(&mut self.ext).insert(value);
        self
    }
    /// A slice's state attached with [`AppState::with_ext`].
    pub fn ext<T: Clone + Send + Sync + 'static>(&self) -> Option<&T> {
        self.ext.get::<T>()
    }
    /// Every navigation entry: the kernel's, then each slice's.
    pub fn nav(&self) -> Vec<NavItem> {
        let mut v: Vec<NavItem> = ctx::NAV.to_vec();
        for s in self.slices.iter() {
            v.extend_from_slice(s.nav);
        }
        v
    }
}

/// A console route: method, path and the permission that guards it. The router is built
/// from this table and the role × route test walks the same table.
pub struct ConsoleRoute {
    pub method: &'static str,
    pub path: &'static str,
    pub perm: Perm,
}

/// Declare a table of console routes and the router built from it, so the permission
/// guarding each route is written once and the role × route tests walk the same table.
#[macro_export]
macro_rules! console_routes {
    ($table:ident, $router:ident; $( $method:ident $path:literal $perm:ident => $handler:path ;)*) => {
        pub const $table: &[$crate::web::ConsoleRoute] = &[
            $( $crate::web::ConsoleRoute { method: stringify!($method), path: $path, perm: $crate::auth::Perm::$perm }, )*
        ];
        pub fn $router() -> ::axum::Router<$crate::web::AppState> {
            let mut r = ::axum::Router::new();
            $(
                r = r.route($path, ::axum::routing::$method($handler).route_layer(::axum::middleware::from_fn_with_state(
                    $crate::auth::Perm::$perm,
                    $crate::web::middleware::require,
                )));
            )*
            r
        }
    };
}

/// Handlers for the steps on one record (`POST …/{id}/<step>`): each parses its CSRF-checked
/// form, calls one use case, and hands the result to the slice's `$after` (back to the
/// record's page, or the page again with the form's errors and what was typed).
#[macro_export]
macro_rules! step_handlers {
    ($after:path; $($name:ident, $form:ty, $key:literal, |$db:ident, $who:ident, $ip:ident, $id:ident, $f:ident| $call:expr;)*) => {$(
        pub async fn $name(
            ::axum::extract::State(state): ::axum::extract::State<$crate::web::AppState>,
            $crate::web::Auth(who): $crate::web::Auth,
            $crate::web::ClientIp(ip): $crate::web::ClientIp,
            ::axum::extract::Path(id): ::axum::extract::Path<i64>,
            $crate::web::CsrfForm(f): $crate::web::CsrfForm<$form>,
        ) -> $crate::web::WebResult<::axum::response::Response> {
            let r = {
                let ($db, $who, $ip, $id, $f) = (&state.db, &*who, ip.as_str(), id, &f);
                $call.await
            };
            $after(&state, &who, id, $key, &f, r).await
        }
    )*};
}

console_routes! { CONSOLE_ROUTES, console_router;
    get  "/console" Console => crate::auth::web::home;
    get  "/console/password" Console => crate::auth::web::password_form;
    post "/console/password" Console => crate::auth::web::password_change;
    get  "/console/totp" Console => crate::auth::web::totp_page;
    post "/console/totp" Console => crate::auth::web::totp_update;
    get  "/console/orgs" OrgManage => crate::org::web::list;
    get  "/console/orgs/new" OrgManage => crate::org::web::new_form;
    post "/console/orgs/new" OrgManage => crate::org::web::create;
    get  "/console/orgs/{id}" OrgManage => crate::org::web::edit_form;
    post "/console/orgs/{id}" OrgManage => crate::org::web::update;
    post "/console/orgs/{id}/delete" OrgManage => crate::org::web::delete;
    get  "/console/users" UserView => crate::auth::web::users;
    get  "/console/users/new" UserManage => crate::auth::web::user_new_form;
    post "/console/users/new" UserManage => crate::auth::web::user_create;
    get  "/console/users/{id}" UserManage => crate::auth::web::user_edit_form;
    post "/console/users/{id}" UserManage => crate::auth::web::user_update;
    post "/console/users/{id}/password" UserManage => crate::auth::web::user_reset_password;
    post "/console/users/{id}/disable" UserManage => crate::auth::web::user_disable;
    post "/console/users/{id}/enable" UserManage => crate::auth::web::user_enable;
    get  "/console/grants/{id}" GrantManage => crate::auth::web::grants_of_user;
    post "/console/grants/{id}" GrantManage => crate::auth::web::grant_add;
    post "/console/grants/{id}/revoke" GrantManage => crate::auth::web::grant_revoke;
    get  "/console/sites" Console => crate::site::web::list;
    get  "/console/sites/new" SettingsManage => crate::site::web::new_form;
    post "/console/sites/new" SettingsManage => crate::site::web::create;
    get  "/console/sites/{id}" SettingsManage => crate::site::web::edit_form;
    post "/console/sites/{id}" SettingsManage => crate::site::web::update;
    post "/console/sites/{id}/close" SettingsManage => crate::site::web::close;
    post "/console/sites/{id}/reopen" SettingsManage => crate::site::web::reopen;
    get  "/console/calendar" Console => crate::calendar::web::year;
    get  "/console/calendar/due" Console => crate::calendar::web::due;
    post "/console/calendar/day" SettingsManage => crate::calendar::web::set_day;
    post "/console/calendar/import" SettingsManage => crate::calendar::web::import;
    post "/console/calendar/hours" SettingsManage => crate::calendar::web::set_hours;
    get  "/console/audit" AuditRead => crate::audit::web::list;
    get  "/console/audit.csv" AuditRead => crate::audit::web::csv;
    get  "/console/audit/verify" AuditRead => crate::audit::web::verify;
    get  "/console/jobs" JobView => crate::jobs::web::list;
    post "/console/jobs/{id}/retry" JobView => crate::jobs::web::retry;
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
const REFERRER: &str = "strict-origin-when-cross-origin";

/// The headers every response carries (the router sets them through layers).
fn security_headers(h: &mut axum::http::HeaderMap) {
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static(REFERRER));
}

/// Path prefixes of the key-authenticated APIs (the hotline's Open311 server and channel
/// gateway) exempt from the cross-origin check: their handlers never use the session.
pub const KEY_AUTH_PREFIXES: &[&str] = &["/open311/", "/api/hotline/"];

/// The whole application router with its middleware stack.
pub fn app(state: AppState) -> Router {
    let cfg = state.cfg.clone();
    let mut csrf = tower_http::csrf::CsrfLayer::new();
    for o in &cfg.security.trusted_origins {
        if let Ok(c) = csrf.clone().add_trusted_origin(o) {
            csrf = c;
        }
    }
    // APIs that authenticate each call by a key in the request and never read the session
    // cookie carry no ambient authority a forged cross-site request could use.
    let csrf = csrf.with_insecure_bypass(|_, uri| KEY_AUTH_PREFIXES.iter().any(|p| uri.path().starts_with(p)));
    let mut routes = Router::new()
        .route("/login", get(crate::auth::web::login_form).post(crate::auth::web::login))
        .route("/login/totp", get(crate::auth::web::totp_login_form).post(crate::auth::web::totp_login))
        .route("/logout", post(crate::auth::web::logout))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/static/{*path}", get(ops::static_file))
        .merge(console_router());
    for slice in state.slices.iter() {
        routes = routes.merge((slice.router)());
    }
    routes
        // A fresh install (or one without the portal) has nothing public at "/".
        .fallback(|uri: axum::http::Uri| async move {
            if uri.path() == "/" {
                axum::response::Redirect::to("/console").into_response()
            } else {
                StatusCode::NOT_FOUND.into_response()
            }
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::load_principal))
        .layer(csrf)
        // One body limit for everything (forms, uploads): the configured one, not axum's
        // built-in 2 MB default for extractors.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(cfg.limits.request_body_bytes as usize))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(cfg.limits.request_timeout_secs),
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::status_pages))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static(REFERRER)))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::observe))
        .with_state(state)
}

/// Bind the listener. `[::]` is opened dual-stack (IPv6 and IPv4-mapped) explicitly,
/// whatever the system default.
pub fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let domain = if addr.is_ipv6() { Domain::IPV6 } else { Domain::IPV4 };
    let sock = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() && addr.ip().is_unspecified() {
        sock.set_only_v6(false)?;
    }
    sock.set_reuse_address(true)?;
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    sock.listen(1024)?;
    tokio::net::TcpListener::from_std(sock.into())
}

/// Serve until `shutdown` resolves, then finish in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::ServiceExt;
    let fast = state.fast.clone();
    let metrics = state.metrics.clone();
    let router = app(state);
    let svc = tower::service_fn(move |req: axum::extract::Request| {
        let answered = fast.as_ref().and_then(|f| f.answer(&req));
        let router = router.clone();
        let metrics = metrics.clone();
        async move {
            match answered {
                Some(mut r) => {
                    security_headers(r.headers_mut());
                    metrics.count_fast();
                    Ok::<_, std::convert::Infallible>(r)
                }
                None => tower::ServiceExt::oneshot(router, req).await,
            }
        }
    });
    axum::serve(listener, svc.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
