//! The website registry page.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::service::SiteInput;
use super::{SiteKind, store};
use crate::auth::Perm;
use crate::web::ctx::{form_error, render, render_with, see_other};
use crate::web::{AppState, Auth, ClientIp, CsrfForm, WebResult};

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
    let year = crate::clock::today().year();
    let (opened, closed) = super::service::counts_in_year(&state.db, year).await?;
    let ctx = json!({ "rows": rows, "can_edit": who.has(Perm::SettingsManage), "year": year, "opened": opened, "closed": closed });
    Ok(render_with(&state, Some(&who), "console/sites.html", ctx, "/console/sites")?.into_response())
}

fn kinds() -> serde_json::Value {
    json!(super::SITE_KINDS.iter().map(|k| json!({ "value": k.as_str(), "label": k.label_zh() })).collect::<Vec<_>>())
}

async fn orgs(state: &AppState) -> WebResult<serde_json::Value> {
    let orgs = crate::org::service::list(&state.db).await?;
    Ok(json!(
        orgs.iter()
            .map(|o| json!({ "value": o.id, "label": format!("{}{}", "　".repeat(o.depth()), o.name) }))
            .collect::<Vec<_>>()
    ))
}

pub async fn new_form(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let ctx = json!({ "new": true, "s": { "kind": "department" }, "kinds": kinds(), "orgs": orgs(&state).await?, "errors": {} });
    Ok(render(&state, Some(&who), "console/site_form.html", ctx)?.into_response())
}

pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<SiteInput>,
) -> WebResult<Response> {
    match super::service::create(&state.db, &who, &ip, &f).await {
        Ok(s) => Ok(see_other(&format!("/console/sites/{}?saved=1", s.id))),
        Err(e) => {
            let ctx = json!({ "new": true, "s": f, "kinds": kinds(), "orgs": orgs(&state).await? });
            Ok(form_error(&state, &who, "console/site_form.html", ctx, e))
        }
    }
}

async fn edit_ctx(state: &AppState, id: i64) -> WebResult<serde_json::Value> {
    let s = super::service::get(&state.db, id).await?;
    let history = super::service::status_history(&state.db, id).await?;
    let input = SiteInput {
        code: s.code.clone(),
        name: s.name.clone(),
        site_code: s.site_code.clone(),
        hosts: s.hosts.clone(),
        kind: s.kind.clone(),
        org_id: s.org_id.map(|o| o.to_string()).unwrap_or_default(),
        icp: s.icp.clone(),
        psb: s.psb.clone(),
        phone: s.phone.clone(),
        email: s.email.clone(),
        address: s.address.clone(),
        external: if s.external { "on".into() } else { String::new() },
        opened_on: s.opened_on.clone().unwrap_or_default(),
        theme: s.theme.clone(),
        version: s.version.to_string(),
    };
    Ok(
        json!({ "new": false, "id": id, "site": s, "s": input, "history": history, "kinds": kinds(), "orgs": orgs(state).await?,
               "errors": {}, "today": crate::clock::fmt_date(crate::clock::today()) }),
    )
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn edit_form(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> WebResult<Response> {
    let mut ctx = edit_ctx(&state, id).await?;
    ctx["saved"] = json!(q.saved.is_some());
    Ok(render(&state, Some(&who), "console/site_form.html", ctx)?.into_response())
}

pub async fn update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<SiteInput>,
) -> WebResult<Response> {
    match super::service::update(&state.db, &who, &ip, id, &f).await {
        Ok(_) => Ok(see_other(&format!("/console/sites/{id}?saved=1"))),
        Err(e) => {
            let mut ctx = edit_ctx(&state, id).await?;
            ctx["s"] = json!(f);
            Ok(form_error(&state, &who, "console/site_form.html", ctx, e))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StatusForm {
    on_date: String,
    reason: String,
}

async fn status(
    state: AppState,
    who: &crate::auth::Principal,
    ip: &str,
    id: i64,
    close: bool,
    f: StatusForm,
) -> WebResult<Response> {
    match super::service::set_status(&state.db, who, ip, id, close, &f.on_date, &f.reason).await {
        Ok(_) => Ok(see_other(&format!("/console/sites/{id}?saved=1"))),
        Err(e) => {
            let ctx = edit_ctx(&state, id).await?;
            Ok(form_error(&state, who, "console/site_form.html", ctx, e))
        }
    }
}

pub async fn close(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<StatusForm>,
) -> WebResult<Response> {
    status(state, &who, &ip, id, true, f).await
}

pub async fn reopen(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<StatusForm>,
) -> WebResult<Response> {
    status(state, &who, &ip, id, false, f).await
}
