//! The website registry page.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{SiteKind, store};
use crate::web::ctx::render_with;
use crate::web::{AppState, Auth, WebResult};

pub async fn list(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let (sites, orgs) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        (store::all(&mut c).await?, crate::org::store::all(&mut c).await?)
    };
    let rows: Vec<_> = sites
        .iter()
        .map(|s| {
            json!({
                "s": s,
                "kind": SiteKind::parse(&s.kind).map(|k| k.label_zh()).unwrap_or(""),
                "org": s.org_id.and_then(|id| orgs.iter().find(|o| o.id == id)).map(|o| o.name.clone()).unwrap_or_default(),
                "hosts": s.hosts.lines().map(str::trim).filter(|h| !h.is_empty()).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(render_with(&state, Some(&who), "console/sites.html", json!({ "rows": rows }), "/console/sites")?
        .into_response())
}
