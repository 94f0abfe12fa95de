//! Console pages of the information resource library: item list with filters, the item
//! editor, workflow actions, version diffs, the reviewer's queue and columns.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use serde::Deserialize;
use serde_json::{Value, json};

use gongkai_kernel::auth::{OrgScope, Perm, Principal};
use gongkai_kernel::clock::{local_to_ms, parse_local_minute};
use gongkai_kernel::error::Error;
use gongkai_kernel::web::ctx::{form_error, render, render_with, see_other};
use gongkai_kernel::web::{AppState, Auth, ClientIp, CsrfForm, CsrfUpload, NavItem, Slice, WebResult};

use crate::model::*;
use crate::service::{self as svc, ColumnInput, ItemInput};
use crate::store::{self, ItemFilter};

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Templates;

fn template_source(name: &str) -> Option<String> {
    Templates::get(name).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

gongkai_kernel::console_routes! { ROUTES, router;
    get  "/console/content" ContentView => list;
    get  "/console/content/new" ContentEdit => new_form;
    post "/console/content/new" ContentEdit => create;
    get  "/console/content/{id}" ContentView => detail;
    post "/console/content/{id}" ContentEdit => save;
    post "/console/content/{id}/submit" ContentEdit => submit;
    post "/console/content/{id}/approve" ContentReview => approve;
    post "/console/content/{id}/reject" ContentReview => reject;
    post "/console/content/{id}/withdraw" ContentReview => withdraw;
    get  "/console/content/{id}/diff" ContentView => diff;
    post "/console/content/bulk" ContentEdit => bulk;
    post "/console/content/{id}/push" ContentEdit => push;
    post "/console/content/{id}/cover" ContentEdit => cover;
    post "/console/content/{id}/interprets" ContentEdit => interprets;
    post "/console/content/{id}/catalogue" ContentReview => catalogue_link;
    post "/console/content/{id}/attachments" ContentEdit => attachment_upload;
    post "/console/attachments/{id}/delete" ContentEdit => attachment_delete;
    get  "/console/attachments/{id}" ContentView => attachment_download;
    get  "/console/review" ContentReview => review_queue;
    get  "/console/columns" SettingsManage => columns;
    post "/console/columns" SettingsManage => column_create;
    post "/console/columns/{id}/delete" SettingsManage => column_delete;
    get  "/console/columns/{id}" SettingsManage => column_edit;
    post "/console/columns/{id}" SettingsManage => column_update;
    post "/console/columns/{id}/grants" SettingsManage => column_grant;
}

const NAV: &[NavItem] = &[
    NavItem { href: "/console/content", label: "信息", perm: Perm::ContentView },
    NavItem { href: "/console/review", label: "待我审核", perm: Perm::ContentReview },
    NavItem { href: "/console/columns", label: "栏目", perm: Perm::SettingsManage },
];

/// The slice as the binary plugs it into the console.
pub fn slice() -> Slice {
    Slice { name: "cms", routes: ROUTES, router, templates: template_source, nav: NAV }
}

fn opts<T: Copy>(all: &[T], code: fn(T) -> &'static str, label: fn(T) -> &'static str) -> Value {
    json!(all.iter().map(|v| json!({ "value": code(*v), "label": label(*v) })).collect::<Vec<_>>())
}

/// Everything the item form's selects need.
async fn form_options(state: &AppState) -> WebResult<Value> {
    let mut h = state.db.read().await?;
    let mut c = h.conn();
    let columns: Vec<Value> = store::column_options(&mut c)
        .await?
        .into_iter()
        .map(|(id, _, site, col)| json!({ "value": id, "label": format!("{site} / {col}") }))
        .collect();
    let pairs = |v: Vec<(String, String)>| {
        json!(v.into_iter().map(|(c, l)| json!({ "value": c, "label": l })).collect::<Vec<_>>())
    };
    let subjects = pairs(store::reference_list(&mut c, "subjects").await?);
    let classes = pairs(store::reference_list(&mut c, "item_classes").await?);
    let orgs: Vec<Value> = gongkai_kernel::org::store::all(&mut c)
        .await?
        .iter()
        .map(|o| json!({ "value": o.id, "label": format!("{}{}", "　".repeat(o.depth()), o.name) }))
        .collect();
    let art20: Vec<Value> =
        Art20::ALL.iter().map(|a| json!({ "value": a.as_str(), "label": a.label_with_number() })).collect();
    Ok(json!({
        "columns": columns, "subjects": subjects, "classes": classes, "orgs": orgs, "art20": art20,
        "genres": opts(&Genre::ALL, Genre::as_str, Genre::label_zh),
        "validities": opts(&Validity::ALL, Validity::as_str, Validity::label_zh),
        "modes": opts(&DisclosureMode::ALL, DisclosureMode::as_str, DisclosureMode::label_zh),
        "five_open": opts(&FiveOpen::ALL, FiveOpen::as_str, FiveOpen::label_zh),
        "forms": opts(&InterpretationForm::ALL, InterpretationForm::as_str, InterpretationForm::label_zh),
        "statuses": opts(&ItemStatus::ALL, ItemStatus::as_str, ItemStatus::label_zh),
    }))
}

fn scope_paths(who: &Principal, perm: Perm) -> Option<Vec<String>> {
    match who.org_scope(perm) {
        OrgScope::All => None,
        OrgScope::Paths(p) => Some(p),
        OrgScope::None => Some(Vec::new()),
    }
}

pub async fn list(State(state): State<AppState>, Auth(who): Auth, Query(f): Query<ItemFilter>) -> WebResult<Response> {
    let rows = {
        let mut h = state.db.read().await?;
        let paths = scope_paths(&who, Perm::ContentView);
        store::list_items(&mut h.conn(), &f, paths.as_deref(), 50).await?
    };
    let next_before = if rows.len() == 50 { rows.last().map(|r| r.id) } else { None };
    let mut q = f.clone();
    q.before = String::new();
    let qs = serde_urlencoded_qs(&q);
    let sites: Vec<Value> = {
        let mut h = state.db.read().await?;
        gongkai_kernel::site::store::all(&mut h.conn()).await?
    }
    .into_iter()
    .filter(|s| !s.external)
    .map(|s| json!({ "value": s.id, "label": s.name }))
    .collect();
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let status = ItemStatus::parse(&r.status).map(|s| s.label_zh()).unwrap_or("");
            json!({ "r": r, "status_label": status })
        })
        .collect();
    let ctx = json!({ "rows": rows, "f": f, "qs": qs, "next_before": next_before, "sites": sites, "opt": form_options(&state).await?,
                      "can_edit": who.has(Perm::ContentEdit) });
    Ok(render_with(&state, Some(&who), "console/cms/items.html", ctx, "/console/content")?.into_response())
}

fn serde_urlencoded_qs(f: &ItemFilter) -> String {
    let pairs = [
        ("site", &f.site),
        ("column", &f.column),
        ("status", &f.status),
        ("class", &f.class),
        ("org", &f.org),
        ("validity", &f.validity),
        ("q", &f.q),
        ("from", &f.from),
        ("to", &f.to),
    ];
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", gongkai_kernel::web::middleware::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    column: Option<String>,
}

pub async fn new_form(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<NewQuery>,
) -> WebResult<Response> {
    let input = ItemInput {
        home_column_id: q.column.unwrap_or_default(),
        class_code: "news".into(),
        publisher_org_id: who.org_id.map(|o| o.to_string()).unwrap_or_default(),
        ..Default::default()
    };
    let ctx = json!({ "new": true, "i": input, "opt": form_options(&state).await?, "errors": {} });
    Ok(render(&state, Some(&who), "console/cms/item.html", ctx)?.into_response())
}

pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<ItemInput>,
) -> WebResult<Response> {
    match svc::create_item(&state.db, &who, &ip, &f).await {
        Ok(item) => Ok(see_other(&format!("/console/content/{}?saved=1", item.id))),
        Err(e) => {
            let ctx = json!({ "new": true, "i": f, "opt": form_options(&state).await? });
            Ok(form_error(&state, &who, "console/cms/item.html", ctx, e))
        }
    }
}

/// The detail page: the editable form, the workflow panel, history and findings.
async fn detail_ctx(state: &AppState, who: &Principal, id: i64) -> WebResult<Value> {
    let (item, reviews, versions, links) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        let item = store::item(&mut c, id).await?.ok_or(Error::NotFound)?;
        (
            item,
            store::reviews(&mut c, id).await?,
            store::versions(&mut c, id).await?,
            store::interpretation_links(&mut c, id).await?,
        )
    };
    let wf = crate::rules::Workflow {
        status: ItemStatus::parse(&item.status).unwrap_or(ItemStatus::Draft),
        level: item.review_level.clamp(0, 3) as u8,
        levels_required: item.levels_required.clamp(1, 3) as u8,
        publish_at: item.publish_at,
        live: item.live,
    };
    let actions = crate::rules::allowed_actions(&wf);
    let versions: Vec<Value> =
        versions.iter().map(|v| json!({ "version": v.version, "saved_at": v.saved_at })).collect();
    let attachments: Vec<Value> = crate::attachments::list(&state.db, id)
        .await?
        .into_iter()
        .map(|a| json!({ "size": crate::attachments::human_size(a.size.max(0) as u64), "a": a }))
        .collect();
    let label = |e: &crate::catalogue::Entry| {
        let l2 = if e.level2.is_empty() { String::new() } else { format!(" / {}", e.level2) };
        format!("{}：{}{l2}", e.domain_label(), e.level1)
    };
    let linked_entries: Vec<String> =
        crate::catalogue::entries_of_item(&state.db, id).await?.iter().map(label).collect();
    let catalogue: Vec<Value> = if who.has(Perm::ContentReview) {
        crate::catalogue::list_by_domain(&state.db)
            .await?
            .into_iter()
            .flat_map(|(_, _, views)| {
                views.into_iter().map(|v| json!({ "value": v.entry.id, "label": label(&v.entry) }))
            })
            .collect()
    } else {
        Vec::new()
    };
    // Where the public sees it: the home site's page (pushed copies share the item id).
    let public_url = if item.live {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        match store::column(&mut c, item.home_column_id).await? {
            Some(col) => gongkai_kernel::site::store::get(&mut c, col.site_id)
                .await?
                .filter(|s| !s.external)
                .map(|s| format!("/s/{}/art/{}.html", s.code, item.id)),
            None => None,
        }
    } else {
        None
    };
    let mut opt = form_options(state).await?;
    // A code that was disabled after the item used it still shows as selected.
    for (list, code) in [("subjects", item.subject_code.clone()), ("classes", Some(item.class_code.clone()))] {
        if let (Some(code), Some(arr)) = (code, opt[list].as_array_mut())
            && !arr.iter().any(|o| o["value"] == json!(code))
        {
            arr.push(json!({ "value": code, "label": format!("{code}（已停用）") }));
        }
    }
    Ok(json!({
        "linked_entries": linked_entries, "catalogue": catalogue, "public_url": public_url,
        "new": false, "id": id, "item": &item, "i": ItemInput::from_item(&item), "opt": opt, "errors": {},
        "status_label": wf.status.label_zh(), "level_label": crate::rules::level_label(wf.level), "actions": actions,
        "can_edit": who.has(Perm::ContentEdit), "can_review": who.has(Perm::ContentReview),
        "reviews": reviews, "versions": versions, "attachments": attachments, "interpretations": links.0, "policies": links.1,
        "findings": svc::privacy_findings(&item).iter().map(|f| json!({ "label": f.kind.label_zh(), "field": f.field, "start": f.start, "excerpt": f.excerpt })).collect::<Vec<_>>(),
    }))
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
    missing_interpretation: Option<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> WebResult<Response> {
    let mut ctx = detail_ctx(&state, &who, id).await?;
    ctx["saved"] = json!(q.saved.is_some());
    ctx["missing_interpretation"] = json!(q.missing_interpretation.is_some());
    Ok(render(&state, Some(&who), "console/cms/item.html", ctx)?.into_response())
}

pub async fn save(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ItemInput>,
) -> WebResult<Response> {
    match svc::save_item(&state.db, &who, &ip, id, &f).await {
        Ok(_) => Ok(see_other(&format!("/console/content/{id}?saved=1"))),
        Err(e) => {
            let mut ctx = detail_ctx(&state, &who, id).await?;
            ctx["i"] = json!(f); // what was typed stays on the page
            Ok(form_error(&state, &who, "console/cms/item.html", ctx, e))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    confirm: String,
    comment: String,
    reason: String,
    override_reason: String,
    publish_at: String,
}

/// After an item action: back to the item, or the item page with the error explained.
async fn after_action<T>(
    state: &AppState,
    who: &Principal,
    id: i64,
    r: Result<T, Error>,
    anchor: &str,
) -> WebResult<Response> {
    match r {
        Ok(_) => Ok(see_other(&format!("/console/content/{id}?saved=1{anchor}"))),
        Err(e) => action_error(state, who, id, e).await,
    }
}

async fn action_error(state: &AppState, who: &Principal, id: i64, e: Error) -> WebResult<Response> {
    let ctx = detail_ctx(state, who, id).await?;
    Ok(form_error(state, who, "console/cms/item.html", ctx, e))
}

pub async fn submit(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ActionForm>,
) -> WebResult<Response> {
    match svc::submit(&state.db, &who, &ip, id, f.confirm == "1").await {
        Ok(out) if out.held => {
            let mut ctx = detail_ctx(&state, &who, id).await?;
            ctx["held"] = json!(true);
            ctx["error_message"] = json!(format!(
                "发现 {} 处疑似个人信息，请核对下方列出的位置；确需提交的，请点击“仍要提交”，由审核人决定。",
                out.findings.len()
            ));
            Ok((StatusCode::CONFLICT, render(&state, Some(&who), "console/cms/item.html", ctx)?).into_response())
        }
        Ok(_) => Ok(see_other(&format!("/console/content/{id}?saved=1"))),
        Err(e) => action_error(&state, &who, id, e).await,
    }
}

pub async fn approve(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ActionForm>,
) -> WebResult<Response> {
    let publish_at = match f.publish_at.trim() {
        "" => None,
        v => match parse_local_minute(v) {
            Some(t) => Some(local_to_ms(t)),
            None => {
                return action_error(
                    &state,
                    &who,
                    id,
                    Error::field("publish_at", "定时发布时间格式应为 YYYY-MM-DD HH:MM"),
                )
                .await;
            }
        },
    };
    match svc::approve(&state.db, &who, &ip, id, publish_at, &f.comment, &f.override_reason).await {
        Ok(out) if out.missing_interpretation => {
            Ok(see_other(&format!("/console/content/{id}?saved=1&missing_interpretation=1")))
        }
        Ok(_) => Ok(see_other(&format!("/console/content/{id}?saved=1"))),
        Err(e) => action_error(&state, &who, id, e).await,
    }
}

pub async fn reject(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ActionForm>,
) -> WebResult<Response> {
    after_action(&state, &who, id, svc::reject(&state.db, &who, &ip, id, &f.comment).await, "").await
}

pub async fn withdraw(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ActionForm>,
) -> WebResult<Response> {
    after_action(&state, &who, id, svc::withdraw(&state.db, &who, &ip, id, &f.reason).await, "").await
}

#[derive(Deserialize, Default)]
pub struct DiffQuery {
    a: Option<i64>,
    b: Option<i64>,
}

pub async fn diff(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
    Query(q): Query<DiffQuery>,
) -> WebResult<Response> {
    let item = {
        let mut h = state.db.read().await?;
        store::item(&mut h.conn(), id).await?.ok_or(Error::NotFound)?
    };
    let b = q.b.unwrap_or(item.version);
    let a = q.a.unwrap_or((b - 1).max(1));
    let changes = svc::diff_versions(&state.db, id, a, b).await?;
    let ctx = json!({ "item": item, "a": a, "b": b, "changes": changes });
    Ok(render(&state, Some(&who), "console/cms/diff.html", ctx)?.into_response())
}

pub async fn review_queue(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let items = svc::review_queue(&state.db, &who).await?;
    let rows: Vec<Value> = items
        .iter()
        .map(|i| json!({ "i": i, "level": crate::rules::level_label(i.review_level.clamp(0, 3) as u8) }))
        .collect();
    Ok(render_with(&state, Some(&who), "console/cms/review.html", json!({ "rows": rows }), "/console/review")?
        .into_response())
}

#[derive(Deserialize, Default)]
pub struct ColumnsQuery {
    site: Option<i64>,
    saved: Option<String>,
}

async fn columns_ctx(state: &AppState, site: Option<i64>) -> WebResult<Value> {
    let mut h = state.db.read().await?;
    let mut c = h.conn();
    let sites: Vec<_> = gongkai_kernel::site::store::all(&mut c).await?.into_iter().filter(|s| !s.external).collect();
    let site_id = site.or_else(|| sites.first().map(|s| s.id)).unwrap_or(0);
    let cols = store::columns_of_site(&mut c, site_id).await?;
    let rows: Vec<Value> = cols
        .iter()
        .map(|col| {
            let depth = col.path.matches('/').count().saturating_sub(2);
            json!({ "c": col, "indent": "　".repeat(depth),
                    "kind": ColumnKind::parse(&col.kind).map(|k| k.label_zh()).unwrap_or(""),
                    "class": ColumnClass::parse(&col.class).map(|k| k.label_zh()).unwrap_or("") })
        })
        .collect();
    let parents: Vec<Value> = cols.iter().map(|c| json!({ "value": c.id, "label": c.name })).collect();
    let sites: Vec<Value> = sites.iter().map(|s| json!({ "value": s.id, "label": s.name })).collect();
    Ok(json!({ "site_id": site_id, "sites": sites, "rows": rows, "parents": parents, "errors": {},
               "kinds": opts(&ColumnKind::ALL, ColumnKind::as_str, ColumnKind::label_zh),
               "classes": opts(&ColumnClass::ALL, ColumnClass::as_str, ColumnClass::label_zh),
               "c": { "site_id": site_id, "kind": "list", "class": "news", "review_levels": "1" } }))
}

pub async fn columns(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<ColumnsQuery>,
) -> WebResult<Response> {
    let mut ctx = columns_ctx(&state, q.site).await?;
    ctx["saved"] = json!(q.saved.is_some());
    Ok(render_with(&state, Some(&who), "console/cms/columns.html", ctx, "/console/columns")?.into_response())
}

pub async fn column_create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<ColumnInput>,
) -> WebResult<Response> {
    match svc::create_column(&state.db, &who, &ip, &f).await {
        Ok(col) => Ok(see_other(&format!("/console/columns?site={}&saved=1", col.site_id))),
        Err(e) => {
            let mut ctx = columns_ctx(&state, f.site_id.parse().ok()).await?;
            ctx["c"] = json!(f);
            Ok(form_error(&state, &who, "console/cms/columns.html", ctx, e))
        }
    }
}

#[derive(Deserialize, Default)]
pub struct Empty {}

pub async fn column_delete(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let site = {
        let mut h = state.db.read().await?;
        store::column(&mut h.conn(), id).await?.map(|c| c.site_id)
    };
    svc::delete_column(&state.db, &who, &ip, id).await?;
    Ok(see_other(&format!("/console/columns?site={}&saved=1", site.unwrap_or(0))))
}

fn files(state: &AppState) -> crate::attachments::FileStore {
    // Uploads can never exceed the request limit anyway; keep the two consistent.
    let limit = state.cfg.limits.request_body_bytes.min(crate::attachments::DEFAULT_MAX_BYTES);
    crate::attachments::FileStore::new(&state.cfg.data_dir).with_max_bytes(limit)
}

/// Upload (multipart/form-data). The CSRF token travels as the form's `_csrf` field.
pub async fn attachment_upload(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfUpload(file): CsrfUpload,
) -> WebResult<Response> {
    let result = match file {
        Some((name, bytes)) => {
            crate::attachments::attach(&state.db, &files(&state), &who, &ip, id, &name, bytes).await.map(|_| ())
        }
        _ => Err(Error::field("file", "请选择要上传的文件")),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/console/content/{id}?saved=1#attachments"))),
        Err(e) => action_error(&state, &who, id, e).await,
    }
}

pub async fn attachment_delete(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let (row, _) = crate::attachments::open_for_staff(&state.db, &files(&state), &who, id).await?;
    crate::attachments::detach(&state.db, &who, &ip, id).await?;
    Ok(see_other(&format!("/console/content/{}?saved=1#attachments", row.item_id)))
}

/// Staff download of any item's attachment (drafts included); the public download comes
/// with the portal.
pub async fn attachment_download(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let (row, path) = crate::attachments::open_for_staff(&state.db, &files(&state), &who, id).await?;
    let bytes = tokio::fs::read(&path).await.map_err(|_| Error::NotFound)?;
    let disposition = format!("attachment; filename*=UTF-8''{}", gongkai_kernel::web::middleware::urlencode(&row.name));
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    if let Ok(v) = row.mime.parse() {
        h.insert(axum::http::header::CONTENT_TYPE, v);
    }
    if let Ok(v) = disposition.parse() {
        h.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ColumnForm {
    column_id: String,
    policy_id: String,
    entry_id: String,
}

fn parse_id(field: &str, s: &str, msg: &str) -> Result<i64, Error> {
    s.trim().parse::<i64>().map_err(|_| Error::field(field, msg))
}

/// 推送: show the item in another column too.
pub async fn push(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ColumnForm>,
) -> WebResult<Response> {
    let r = match parse_id("column_id", &f.column_id, "请选择要推送到的栏目") {
        Ok(col) => svc::push(&state.db, &who, &ip, id, col).await,
        Err(e) => Err(e),
    };
    after_action(&state, &who, id, r, "").await
}

/// Link this interpretation to the policy document it explains.
pub async fn interprets(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ColumnForm>,
) -> WebResult<Response> {
    let r = match parse_id("policy_id", &f.policy_id, "请填写被解读文件的信息编号") {
        Ok(policy) => svc::link_interpretation(&state.db, &who, &ip, id, policy).await,
        Err(e) => Err(e),
    };
    after_action(&state, &who, id, r, "").await
}

/// Link the item to a standard-catalogue entry (its 时限 is then tracked).
pub async fn catalogue_link(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ColumnForm>,
) -> WebResult<Response> {
    let r = match parse_id("entry_id", &f.entry_id, "请选择标准目录事项") {
        Ok(entry) => crate::catalogue::link_item(&state.db, &who, &ip, id, entry).await,
        Err(e) => Err(e),
    };
    after_action(&state, &who, id, r, "").await
}

/// Bulk move / push / withdraw from the list; the result page lists every outcome.
pub async fn bulk(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let ids: Vec<i64> = pairs.iter().filter(|(k, _)| k == "ids").filter_map(|(_, v)| v.parse().ok()).collect();
    let action = get("action");
    let column = get("column_id").parse::<i64>().ok();
    match svc::bulk(&state.db, &who, &ip, &ids, &action, column, &get("reason")).await {
        Ok(results) => {
            let done = results.iter().filter(|r| r.ok).count();
            let ctx = json!({ "results": results, "done": done, "failed": results.len() - done });
            Ok(render(&state, Some(&who), "console/cms/bulk.html", ctx)?.into_response())
        }
        Err(Error::Invalid(f)) => {
            let msg: Vec<String> = f.0.iter().map(|(_, m)| m.clone()).collect();
            Err(Error::Conflict(format!("批量操作未执行：{}", msg.join("；"))).into())
        }
        Err(e) => Err(e.into()),
    }
}

async fn column_ctx(state: &AppState, id: i64) -> WebResult<Value> {
    let col = {
        let mut h = state.db.read().await?;
        store::column(&mut h.conn(), id).await?.ok_or(Error::NotFound)?
    };
    let grants: Vec<Value> = svc::column_grants(&state.db, id)
        .await?
        .into_iter()
        .map(|(u, n, k)| json!({ "username": u, "name": n, "kind": k, "kind_label": if k == "edit" { "编辑" } else { "审核" } }))
        .collect();
    let input = ColumnInput {
        site_id: col.site_id.to_string(),
        parent_id: col.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        name: col.name.clone(),
        slug: col.slug.clone(),
        kind: col.kind.clone(),
        class: col.class.clone(),
        update_days: col.update_days.map(|d| d.to_string()).unwrap_or_default(),
        sort_order: col.sort_order.to_string(),
        visible: if col.visible { "on".into() } else { "off".into() },
        link_url: col.link_url.clone(),
        review_levels: col.review_levels.to_string(),
    };
    Ok(json!({ "id": id, "col": col, "c": input, "grants": grants, "errors": {},
               "kinds": opts(&ColumnKind::ALL, ColumnKind::as_str, ColumnKind::label_zh),
               "classes": opts(&ColumnClass::ALL, ColumnClass::as_str, ColumnClass::label_zh) }))
}

pub async fn column_edit(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> WebResult<Response> {
    let mut ctx = column_ctx(&state, id).await?;
    ctx["saved"] = json!(q.saved.is_some());
    Ok(render(&state, Some(&who), "console/cms/column.html", ctx)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ColumnEdit {
    #[serde(flatten)]
    input: ColumnInput,
    version: String,
}

pub async fn column_update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ColumnEdit>,
) -> WebResult<Response> {
    let version = f.version.trim().parse::<i64>().unwrap_or(0);
    match svc::update_column(&state.db, &who, &ip, id, &f.input, version).await {
        Ok(_) => Ok(see_other(&format!("/console/columns/{id}?saved=1"))),
        Err(e) => {
            let mut ctx = column_ctx(&state, id).await?;
            ctx["c"] = json!(f.input);
            Ok(form_error(&state, &who, "console/cms/column.html", ctx, e))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct GrantForm {
    username: String,
    kind: String,
    action: String,
}

pub async fn column_grant(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<GrantForm>,
) -> WebResult<Response> {
    match svc::set_column_grant(&state.db, &who, &ip, id, &f.username, &f.kind, f.action != "revoke").await {
        Ok(()) => Ok(see_other(&format!("/console/columns/{id}?saved=1"))),
        Err(e) => {
            let ctx = column_ctx(&state, id).await?;
            Ok(form_error(&state, &who, "console/cms/column.html", ctx, e))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CoverForm {
    cover: String,
}

pub async fn cover(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<CoverForm>,
) -> WebResult<Response> {
    let choice = f.cover.trim().parse::<i64>().ok();
    after_action(&state, &who, id, svc::set_cover(&state.db, &who, &ip, id, choice).await, "#attachments").await
}
