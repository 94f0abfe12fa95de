//! Settings pages (热线设置): the SLA table, the category tree and the gazetteer. The
//! changes themselves are in `crate::settings`, each audited in its transaction.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use gongkai_kernel::auth::Principal;
use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::web::ctx::{form_error, render_with, see_other};
use gongkai_kernel::web::{AppState, Auth, ClientIp, CsrfForm, WebResult};

use super::intake::refs;
use super::{kind_label, kinds, urgencies, urgency_label};
use crate::rules::Limit;
use crate::settings::{self, CategoryInput, PlaceInput, SlaInput};
use crate::store;

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    #[serde(default)]
    saved: String,
    #[serde(default)]
    edit: Option<i64>,
    #[serde(default)]
    parent: Option<i64>,
}

fn limit_zh(spec: &str) -> String {
    Limit::parse(spec).map(Limit::zh).unwrap_or_else(|| spec.to_string())
}

fn with_all(mut v: Vec<Value>) -> Vec<Value> {
    v.insert(0, json!({ "value": "*", "label": "全部" }));
    v
}

// --- SLA --------------------------------------------------------------------------------

async fn sla_ctx(state: &AppState, edit: Option<i64>) -> Result<Value> {
    let rows = {
        let mut h = state.db.read().await?;
        store::sla_rows(&mut h.conn()).await?
    };
    let r = refs(state).await?;
    let cat_name = |code: &str| {
        if code == "*" {
            "全部".to_string()
        } else {
            r.cats.iter().find(|c| c.code == code).map(|c| c.path.clone()).unwrap_or_default()
        }
    };
    let editing = edit.and_then(|id| rows.iter().find(|x| x.id == id)).cloned();
    let list: Vec<Value> = rows
        .iter()
        .map(|x| {
            json!({
                "x": x,
                "kind_label": if x.kind == "*" { "全部" } else { kind_label(&x.kind) },
                "urgency_label": if x.urgency == "*" { "全部" } else { urgency_label(&x.urgency) },
                "category_label": cat_name(&x.category_code),
                "accept": limit_zh(&x.accept_limit), "ret": limit_zh(&x.return_limit),
                "handle": limit_zh(&x.handle_limit), "callback": limit_zh(&x.callback_limit),
                "catch_all": x.kind == "*" && x.category_code == "*" && x.urgency == "*",
            })
        })
        .collect();
    Ok(json!({
        "rows": list,
        "kinds": with_all(kinds()), "urgencies": with_all(urgencies()),
        "categories": r.category_options(),
        "editing": editing,
        "typed": editing.map(|e| json!(e)).unwrap_or(json!({ "kind": "*", "category_code": "*", "urgency": "*" })),
        "add": json!({ "kind": "*", "category_code": "*", "urgency": "*" }),
        "errors": {}, "form": "",
    }))
}

pub async fn sla(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<SettingsQuery>,
) -> WebResult<Response> {
    let mut ctx = sla_ctx(&state, q.edit).await?;
    ctx["saved"] = json!(!q.saved.is_empty());
    Ok(render_with(&state, Some(&who), "console/hotline/sla.html", ctx, "/console/hotline/sla")?.into_response())
}

async fn sla_error(
    state: &AppState,
    who: &Principal,
    edit: Option<i64>,
    f: &SlaInput,
    e: Error,
) -> WebResult<Response> {
    if matches!(e, Error::NotFound) {
        return Err(e.into());
    }
    let mut ctx = sla_ctx(state, edit).await?;
    if edit.is_some() {
        ctx["typed"] = json!(f);
        ctx["form"] = json!("edit");
    } else {
        ctx["add"] = json!(f);
        ctx["form"] = json!("add");
    }
    Ok(form_error(state, who, "console/hotline/sla.html", ctx, e))
}

pub async fn sla_add(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<SlaInput>,
) -> WebResult<Response> {
    match settings::save_sla(&state.db, &who, &ip, None, &f).await {
        Ok(_) => Ok(see_other("/console/hotline/sla?saved=1")),
        Err(e) => sla_error(&state, &who, None, &f, e).await,
    }
}

pub async fn sla_update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<SlaInput>,
) -> WebResult<Response> {
    match settings::save_sla(&state.db, &who, &ip, Some(id), &f).await {
        Ok(_) => Ok(see_other("/console/hotline/sla?saved=1")),
        Err(e) => sla_error(&state, &who, Some(id), &f, e).await,
    }
}

#[derive(Deserialize, Default)]
pub struct Empty {}

pub async fn sla_delete(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(_f): CsrfForm<Empty>,
) -> WebResult<Response> {
    match settings::delete_sla(&state.db, &who, &ip, id).await {
        Ok(()) => Ok(see_other("/console/hotline/sla?saved=1")),
        Err(e) => sla_error(&state, &who, None, &SlaInput::default(), e).await,
    }
}

// --- categories -------------------------------------------------------------------------

async fn categories_ctx(state: &AppState, parent: Option<i64>) -> Result<Value> {
    let r = refs(state).await?;
    let tree: Vec<Value> = r
        .cats
        .iter()
        .map(|c| {
            json!({
                "c": c, "depth": c.path.matches('/').count(),
                "org": r.org_name(c.default_org_id),
            })
        })
        .collect();
    let parents: Vec<Value> =
        r.cats.iter().map(|c| json!({ "value": c.id, "label": format!("{}（{}）", c.path, c.code) })).collect();
    Ok(json!({
        "tree": tree,
        "parents": parents,
        "orgs": r.org_options(),
        "add": { "parent_id": parent.map(|p| p.to_string()).unwrap_or_default(), "attributes": "[]" },
        "errors": {},
    }))
}

pub async fn categories(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<SettingsQuery>,
) -> WebResult<Response> {
    let mut ctx = categories_ctx(&state, q.parent).await?;
    ctx["saved"] = json!(!q.saved.is_empty());
    Ok(render_with(&state, Some(&who), "console/hotline/categories.html", ctx, "/console/hotline/sla")?.into_response())
}

pub async fn category_add(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<CategoryInput>,
) -> WebResult<Response> {
    match settings::add_category(&state.db, &who, &ip, &f).await {
        Ok(_) => Ok(see_other("/console/hotline/categories?saved=1")),
        Err(Error::NotFound) => Err(Error::NotFound.into()),
        Err(e) => {
            let mut ctx = categories_ctx(&state, None).await?;
            ctx["add"] = json!(f);
            Ok(form_error(&state, &who, "console/hotline/categories.html", ctx, e))
        }
    }
}

async fn category_ctx(state: &AppState, id: i64) -> Result<Value> {
    let r = refs(state).await?;
    let c = r.cats.iter().find(|c| c.id == id).ok_or(Error::NotFound)?;
    Ok(json!({
        "c": c,
        "typed": {
            "name": c.name, "keywords": c.keywords, "default_org_id": c.default_org_id.map(|o| o.to_string()).unwrap_or_default(),
            "open311": if c.open311 == 1 { "1" } else { "" }, "active": if c.active == 1 { "1" } else { "" },
            "attributes": c.attributes, "sort": c.sort.to_string(),
        },
        "orgs": r.org_options(),
        "errors": {},
    }))
}

pub async fn category_page(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
    Query(q): Query<SettingsQuery>,
) -> WebResult<Response> {
    let mut ctx = category_ctx(&state, id).await?;
    ctx["saved"] = json!(!q.saved.is_empty());
    Ok(render_with(&state, Some(&who), "console/hotline/category.html", ctx, "/console/hotline/sla")?.into_response())
}

pub async fn category_update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<CategoryInput>,
) -> WebResult<Response> {
    match settings::update_category(&state.db, &who, &ip, id, &f).await {
        Ok(()) => Ok(see_other(&format!("/console/hotline/categories/{id}?saved=1"))),
        Err(Error::NotFound) => Err(Error::NotFound.into()),
        Err(e) => {
            let mut ctx = category_ctx(&state, id).await?;
            ctx["typed"] = json!(f);
            Ok(form_error(&state, &who, "console/hotline/category.html", ctx, e))
        }
    }
}

// --- places -----------------------------------------------------------------------------

async fn places_ctx(state: &AppState) -> Result<Value> {
    let r = refs(state).await?;
    let rows: Vec<Value> = r
        .places
        .iter()
        .map(|p| json!({ "p": p, "org": r.org_name(p.org_id), "street_org": r.org_name(settings::place_org(&r.places, p.id)) }))
        .collect();
    let streets: Vec<Value> = r
        .places
        .iter()
        .filter(|p| p.community.is_empty())
        .map(|p| json!({ "value": p.street, "label": p.street }))
        .collect();
    Ok(json!({ "rows": rows, "streets": streets, "orgs": r.org_options(), "add": {}, "errors": {}, "form": "" }))
}

pub async fn places(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<SettingsQuery>,
) -> WebResult<Response> {
    let mut ctx = places_ctx(&state).await?;
    ctx["saved"] = json!(!q.saved.is_empty());
    Ok(render_with(&state, Some(&who), "console/hotline/places.html", ctx, "/console/hotline/sla")?.into_response())
}

pub async fn place_add(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<PlaceInput>,
) -> WebResult<Response> {
    match settings::add_place(&state.db, &who, &ip, &f).await {
        Ok(_) => Ok(see_other("/console/hotline/places?saved=1")),
        Err(e) => {
            let mut ctx = places_ctx(&state).await?;
            ctx["add"] = json!(f);
            ctx["form"] = json!("add");
            Ok(form_error(&state, &who, "console/hotline/places.html", ctx, e))
        }
    }
}

pub async fn place_update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<PlaceInput>,
) -> WebResult<Response> {
    match settings::update_place(&state.db, &who, &ip, id, &f.org_id).await {
        Ok(()) => Ok(see_other("/console/hotline/places?saved=1")),
        Err(Error::NotFound) => Err(Error::NotFound.into()),
        Err(e) => {
            let mut ctx = places_ctx(&state).await?;
            ctx["form"] = json!(format!("place-{id}"));
            Ok(form_error(&state, &who, "console/hotline/places.html", ctx, e))
        }
    }
}
