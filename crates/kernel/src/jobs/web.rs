//! Job status: queue counts, schedules, failed jobs with their errors, and retry.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::web::ctx::{render_with, see_other};
use crate::web::{AppState, Auth, ClientIp, CsrfForm, WebResult};
use crate::{audit, outbox};

pub async fn list(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let mut h = state.db.read().await?;
    let mut c = h.conn();
    let counts = super::counts(&mut c).await?;
    let dead = super::list(&mut c, "dead", 100).await?;
    let queued = super::list(&mut c, "queued", 50).await?;
    let running = super::list(&mut c, "running", 50).await?;
    let schedules = super::schedules(&mut c).await?;
    drop(h);
    let ctx = json!({ "counts": counts, "dead": dead, "queued": queued, "running": running, "schedules": schedules });
    Ok(render_with(&state, Some(&who), "console/jobs.html", ctx, "/console/jobs")?.into_response())
}

#[derive(serde::Deserialize, Default)]
pub struct Empty {}

pub async fn retry(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let job = super::retry(&mut c, id).await?;
    audit::append(&mut c, &who.actor(&ip), "job.retry", "job", id, json!({ "kind": job.kind })).await?;
    outbox::emit(&mut c, "job.retried", id, json!({})).await?;
    tx.commit().await?;
    Ok(see_other("/console/jobs"))
}
