//! Organisation pages.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{ORG_KINDS, OrgInput, service};
use crate::auth::Perm;
use crate::web::ctx::{form_error, render, render_with, see_other};
use crate::web::{AppState, Auth, ClientIp, CsrfForm, WebResult};

fn kinds() -> serde_json::Value {
    json!(ORG_KINDS.iter().map(|k| json!({ "value": k.as_str(), "label": k.label_zh() })).collect::<Vec<_>>())
}

async fn parents(state: &AppState, exclude: Option<&str>) -> WebResult<serde_json::Value> {
    let orgs = service::list(&state.db).await?;
    Ok(json!(
        orgs.iter()
            .filter(|o| exclude.is_none_or(|p| !o.path.starts_with(p)))
            .map(|o| json!({ "id": o.id, "label": format!("{}{}", "　".repeat(o.depth()), o.name) }))
            .collect::<Vec<_>>()
    ))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    saved: Option<String>,
}

pub async fn list(State(state): State<AppState>, Auth(who): Auth, Query(q): Query<ListQuery>) -> WebResult<Response> {
    let orgs = service::list(&state.db).await?;
    let rows: Vec<_> = orgs
        .iter()
        .map(|o| json!({ "o": o, "depth": o.depth(), "indent": "　".repeat(o.depth()), "editable": who.can(Perm::OrgManage, Some(&o.path), None) }))
        .collect();
    Ok(render_with(
        &state,
        Some(&who),
        "console/orgs.html",
        json!({ "rows": rows, "saved": q.saved.is_some() }),
        "/console/orgs",
    )?
    .into_response())
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    parent: Option<i64>,
}

pub async fn new_form(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<NewQuery>,
) -> WebResult<Response> {
    let input = OrgInput {
        parent_id: q.parent.map(|p| p.to_string()).unwrap_or_default(),
        kind: "department".into(),
        ..Default::default()
    };
    let ctx =
        json!({ "new": true, "o": input, "kinds": kinds(), "parents": parents(&state, None).await?, "errors": {} });
    Ok(render(&state, Some(&who), "console/org_form.html", ctx)?.into_response())
}

pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<OrgInput>,
) -> WebResult<Response> {
    match service::create(&state.db, &who, &ip, &f).await {
        Ok(_) => Ok(see_other("/console/orgs?saved=1")),
        Err(e) => {
            let ctx = json!({ "new": true, "o": f, "kinds": kinds(), "parents": parents(&state, None).await? });
            Ok(form_error(&state, &who, "console/org_form.html", ctx, e))
        }
    }
}

pub async fn edit_form(State(state): State<AppState>, Auth(who): Auth, Path(id): Path<i64>) -> WebResult<Response> {
    let o = service::get(&state.db, id).await?;
    let input = OrgInput {
        parent_id: o.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        name: o.name.clone(),
        short_name: o.short_name.clone(),
        kind: o.kind.clone(),
        uscc: o.uscc.clone().unwrap_or_default(),
        org_code: o.org_code.clone().unwrap_or_default(),
        division_code: o.division_code.clone(),
        phone: o.phone.clone(),
        address: o.address.clone(),
        email: o.email.clone(),
        sort_order: o.sort_order.to_string(),
        version: o.version.to_string(),
    };
    let ctx = json!({ "new": false, "id": id, "o": input, "kinds": kinds(), "parents": parents(&state, Some(&o.path)).await?, "errors": {} });
    Ok(render(&state, Some(&who), "console/org_form.html", ctx)?.into_response())
}

pub async fn update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<OrgInput>,
) -> WebResult<Response> {
    match service::update(&state.db, &who, &ip, id, &f).await {
        Ok(_) => Ok(see_other("/console/orgs?saved=1")),
        Err(e) => {
            let path = service::get(&state.db, id).await.map(|o| o.path).ok();
            let ctx = json!({ "new": false, "id": id, "o": f, "kinds": kinds(), "parents": parents(&state, path.as_deref()).await? });
            Ok(form_error(&state, &who, "console/org_form.html", ctx, e))
        }
    }
}

#[derive(Deserialize, Default)]
pub struct Empty {}

pub async fn delete(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    service::delete(&state.db, &who, &ip, id).await?;
    Ok(see_other("/console/orgs?saved=1"))
}
