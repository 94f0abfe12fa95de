//! Operations endpoints: liveness, readiness, Prometheus metrics, static assets.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::templates::Static;

pub async fn healthz() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok\n")
}

/// Ready when the database answers and every embedded migration is applied.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    if let Err(e) = state.db.ping().await {
        return (StatusCode::SERVICE_UNAVAILABLE, plain, format!("database unreachable: {e}\n")).into_response();
    }
    match state.db.pending_migrations().await {
        Ok(0) => (plain, "ready\n").into_response(),
        Ok(n) => (StatusCode::SERVICE_UNAVAILABLE, plain, format!("{n} migrations pending\n")).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, plain, format!("migration check failed: {e}\n")).into_response(),
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    use std::fmt::Write;
    let mut out = String::new();
    state.metrics.render(&mut out);
    let (size, idle) = state.db.pool_stats();
    let _ = writeln!(
        out,
        "# HELP gongkai_db_pool_connections Database pool connections.\n# TYPE gongkai_db_pool_connections gauge"
    );
    let _ = writeln!(out, "gongkai_db_pool_connections{{state=\"open\"}} {size}");
    let _ = writeln!(out, "gongkai_db_pool_connections{{state=\"idle\"}} {idle}");
    let _ = writeln!(out, "# HELP gongkai_jobs Jobs by status.\n# TYPE gongkai_jobs gauge");
    if let Ok(mut h) = state.db.read().await
        && let Ok(counts) = crate::jobs::counts(&mut h.conn()).await
    {
        for status in ["queued", "running", "done", "dead"] {
            let n = counts.iter().find(|(s, _)| s == status).map(|(_, n)| *n).unwrap_or(0);
            let _ = writeln!(out, "gongkai_jobs{{status=\"{status}\"}} {n}");
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}

pub async fn static_file(Path(path): Path<String>) -> Response {
    match Static::get(&path) {
        Some(f) => {
            let mime = match path.rsplit('.').next() {
                Some("css") => "text/css; charset=utf-8",
                Some("js") => "text/javascript; charset=utf-8",
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                Some("ico") => "image/x-icon",
                Some("woff2") => "font/woff2",
                _ => "application/octet-stream",
            };
            let mut r = (StatusCode::OK, f.data.into_owned()).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
            r
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
