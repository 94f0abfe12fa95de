//! Console pages around the library: topics (专题专栏), the standard disclosure catalogue
//! (标准目录) with import and export, the editable reference lists (主题分类, 信息类别)
//! and the report of policies still waiting for an interpretation.
//!
//! Handlers stay thin over `crate::topics` and `crate::catalogue`. The reference lists
//! have no service module of their own, so their use cases live here: one transaction
//! each, audited, with an outbox `reference.changed` event.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use gongkai_kernel::auth::{OrgScope, Perm, Principal};
use gongkai_kernel::clock::{fmt_date, today};
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::{Error, FieldErrors, Result, is_unique_violation};
use gongkai_kernel::web::ctx::{form_error, render_with, see_other};
use gongkai_kernel::web::{AppState, Auth, ClientIp, CsrfForm, CsrfUpload, NavItem, Slice, WebResult};
use gongkai_kernel::{audit, outbox, with_conn};

use crate::catalogue::{self as cat, EntryInput, Format};
use crate::model::{Channel, DOMAINS, ItemStatus};
use crate::store;
use crate::topics::{self, TopicInput};

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Templates;

fn template_source(name: &str) -> Option<String> {
    Templates::get(name).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

gongkai_kernel::console_routes! { LIBRARY_ROUTES, library_router;
    get  "/console/topics" ContentView => topics_list;
    post "/console/topics" ContentEdit => topic_create;
    get  "/console/topics/{id}" ContentView => topic_detail;
    post "/console/topics/{id}" ContentEdit => topic_update;
    post "/console/topics/{id}/close" ContentEdit => topic_close;
    post "/console/topics/{id}/items" ContentEdit => topic_item_add;
    post "/console/topics/{id}/items/remove" ContentEdit => topic_item_remove;
    post "/console/topics/{id}/columns" ContentEdit => topic_column_add;
    post "/console/topics/{id}/columns/remove" ContentEdit => topic_column_remove;
    get  "/console/catalogue" ContentView => catalogue_list;
    get  "/console/catalogue/export.csv" ContentView => catalogue_export_csv;
    get  "/console/catalogue/export.xlsx" ContentView => catalogue_export_xlsx;
    get  "/console/catalogue/import" ContentReview => catalogue_import_form;
    post "/console/catalogue/import" ContentReview => catalogue_import;
    get  "/console/catalogue/new" ContentReview => entry_new_form;
    post "/console/catalogue/new" ContentReview => entry_create;
    get  "/console/catalogue/{id}" ContentReview => entry_edit_form;
    post "/console/catalogue/{id}" ContentReview => entry_update;
    post "/console/catalogue/{id}/delete" ContentReview => entry_delete;
    get  "/console/reference" SettingsManage => reference_page;
    post "/console/reference/{kind}/add" SettingsManage => reference_add;
    post "/console/reference/{kind}/rename" SettingsManage => reference_rename;
    post "/console/reference/{kind}/toggle" SettingsManage => reference_toggle;
    post "/console/reference/{kind}/move" SettingsManage => reference_move;
    get  "/console/interpretations/missing" ContentReview => missing_interpretations;
}

const NAV: &[NavItem] = &[
    NavItem { href: "/console/topics", label: "专题", perm: Perm::ContentView },
    NavItem { href: "/console/catalogue", label: "标准目录", perm: Perm::ContentView },
    NavItem { href: "/console/reference", label: "分类", perm: Perm::SettingsManage },
    NavItem { href: "/console/interpretations/missing", label: "待解读文件", perm: Perm::ContentReview },
];

/// The slice as the binary plugs it into the console.
pub fn slice() -> Slice {
    Slice { name: "cms-library", routes: LIBRARY_ROUTES, router: library_router, templates: template_source, nav: NAV }
}

#[derive(Deserialize, Default)]
pub struct Empty {}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

/// Sites run on this platform (external ones publish elsewhere): (id, name).
async fn own_sites(db: &Db) -> Result<Vec<(i64, String)>> {
    let mut h = db.read().await?;
    Ok(gongkai_kernel::site::store::all(&mut h.conn())
        .await?
        .into_iter()
        .filter(|s| !s.external)
        .map(|s| (s.id, s.name))
        .collect())
}

// ───────────────────────────── topics ─────────────────────────────

#[derive(Deserialize, Default)]
pub struct TopicsQuery {
    site: Option<i64>,
    saved: Option<String>,
}

/// How a topic stands today, in words.
fn topic_state(t: &topics::Topic) -> String {
    let today = fmt_date(today());
    match &t.closed_on {
        None if t.opened_on > today => format!("将于 {} 开设", t.opened_on),
        None => "开放中".into(),
        Some(d) if *d > today => format!("开放中，将于 {d} 关闭"),
        Some(d) => format!("已于 {d} 关闭"),
    }
}

async fn topics_ctx(state: &AppState, who: &Principal, site: Option<i64>) -> WebResult<Value> {
    let sites = own_sites(&state.db).await?;
    let site_id = site.filter(|s| sites.iter().any(|(id, _)| id == s)).or_else(|| sites.first().map(|s| s.0));
    let rows: Vec<Value> = match site_id {
        Some(id) => topics::list_topics(&state.db, id)
            .await?
            .iter()
            .map(|t| json!({ "t": t, "state": topic_state(t), "intro": crate::html::summarize(&t.intro, 60) }))
            .collect(),
        None => Vec::new(),
    };
    let site_name = sites.iter().find(|(id, _)| Some(*id) == site_id).map(|s| s.1.clone()).unwrap_or_default();
    let sites: Vec<Value> = sites.iter().map(|(id, name)| json!({ "value": id, "label": name })).collect();
    let blank = TopicInput {
        site_id: site_id.map(|s| s.to_string()).unwrap_or_default(),
        opened_on: fmt_date(today()),
        ..Default::default()
    };
    Ok(json!({ "sites": sites, "site_id": site_id, "site_name": site_name, "rows": rows, "t": blank,
               "errors": {}, "can_edit": who.has(Perm::ContentEdit) }))
}

pub async fn topics_list(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<TopicsQuery>,
) -> WebResult<Response> {
    let mut ctx = topics_ctx(&state, &who, q.site).await?;
    ctx["saved"] = json!(q.saved.is_some());
    Ok(render_with(&state, Some(&who), "console/cms/library/topics.html", ctx, "/console/topics")?.into_response())
}

pub async fn topic_create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<TopicInput>,
) -> WebResult<Response> {
    match topics::create_topic(&state.db, &who, &ip, &f).await {
        Ok(t) => Ok(see_other(&format!("/console/topics/{}?saved=1", t.id))),
        Err(e) => {
            let mut ctx = topics_ctx(&state, &who, f.site_id.trim().parse().ok()).await?;
            ctx["t"] = json!(f);
            Ok(form_error(&state, &who, "console/cms/library/topics.html", ctx, e))
        }
    }
}

fn topic_input(t: &topics::Topic) -> TopicInput {
    TopicInput {
        site_id: t.site_id.to_string(),
        name: t.name.clone(),
        slug: t.slug.clone(),
        intro: t.intro.clone(),
        banner_attachment_id: t.banner_attachment_id.map(|v| v.to_string()).unwrap_or_default(),
        opened_on: t.opened_on.clone(),
        closed_on: t.closed_on.clone().unwrap_or_default(),
        updated_at: t.updated_at.to_string(),
    }
}

/// A topic's members, drafts included: the editors need to see (and remove) everything
/// they added, not only what is live.
#[derive(Serialize, sqlx::FromRow)]
struct MemberItem {
    id: i64,
    title: String,
    status: String,
    live: bool,
    published_on: Option<String>,
}

async fn member_items(db: &Db, topic_id: i64) -> Result<Vec<MemberItem>> {
    let mut h = db.read().await?;
    Ok(with_conn!(&mut h.conn(), x => {
        sqlx::query_as::<_, MemberItem>(
            "SELECT i.id, i.title, i.status, i.live, i.published_on FROM topic_items t JOIN items i ON i.id = t.item_id
             WHERE t.topic_id = $1 ORDER BY COALESCE(i.published_at, 0) DESC, i.id DESC LIMIT 1000",
        )
        .bind(topic_id).fetch_all(&mut **x).await
    })?)
}

async fn topic_ctx(state: &AppState, who: &Principal, id: i64) -> WebResult<Value> {
    let t = topics::topic(&state.db, id).await?.ok_or(Error::NotFound)?;
    let items: Vec<Value> = member_items(&state.db, id)
        .await?
        .iter()
        .map(|i| {
            let status = ItemStatus::parse(&i.status).map_or("", |s| s.label_zh());
            json!({ "i": i, "status": status })
        })
        .collect();
    let columns = topics::topic_columns(&state.db, id).await?;
    let site_columns = {
        let mut h = state.db.read().await?;
        store::columns_of_site(&mut h.conn(), t.site_id).await?
    };
    let column_options: Vec<Value> = site_columns
        .iter()
        .filter(|c| !columns.iter().any(|m| m.id == c.id))
        .map(|c| {
            let depth = c.path.matches('/').count().saturating_sub(2);
            json!({ "value": c.id, "label": format!("{}{}", "　".repeat(depth), c.name) })
        })
        .collect();
    let site_name = own_sites(&state.db).await?.into_iter().find(|s| s.0 == t.site_id).map(|s| s.1).unwrap_or_default();
    Ok(json!({
        "id": id, "topic": &t, "t": topic_input(&t), "state": topic_state(&t), "site_name": site_name,
        "intro_text": crate::html::to_text(&t.intro),
        "items": items, "columns": columns, "column_options": column_options, "today": fmt_date(today()),
        "errors": {}, "can_edit": who.has(Perm::ContentEdit),
    }))
}

pub async fn topic_detail(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> WebResult<Response> {
    let mut ctx = topic_ctx(&state, &who, id).await?;
    ctx["saved"] = json!(q.saved.is_some());
    Ok(render_with(&state, Some(&who), "console/cms/library/topic.html", ctx, "/console/topics")?.into_response())
}

async fn topic_error(
    state: &AppState,
    who: &Principal,
    id: i64,
    e: Error,
    typed: Option<&TopicInput>,
) -> WebResult<Response> {
    let mut ctx = topic_ctx(state, who, id).await?;
    if let Some(f) = typed {
        // What was typed stays on the page, the stale token included: saving again must
        // not silently overwrite the other change.
        ctx["t"] = json!(f);
    }
    Ok(form_error(state, who, "console/cms/library/topic.html", ctx, e))
}

pub async fn topic_update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<TopicInput>,
) -> WebResult<Response> {
    match topics::update_topic(&state.db, &who, &ip, id, &f).await {
        Ok(_) => Ok(see_other(&format!("/console/topics/{id}?saved=1"))),
        Err(e) => topic_error(&state, &who, id, e, Some(&f)).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CloseForm {
    closed_on: String,
}

pub async fn topic_close(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<CloseForm>,
) -> WebResult<Response> {
    match topics::close_topic(&state.db, &who, &ip, id, f.closed_on.trim()).await {
        Ok(_) => Ok(see_other(&format!("/console/topics/{id}?saved=1"))),
        Err(e) => topic_error(&state, &who, id, e, None).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MemberForm {
    item_id: String,
    column_id: String,
}

/// A member id from the form, or the field's message.
fn member_id(v: &str, field: &str, what: &str) -> Result<i64> {
    v.trim().parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| Error::field(field, format!("请填写或选择{what}")))
}

/// Add or remove an item or column, then back to the topic's page.
async fn change_member(
    state: &AppState,
    who: &Principal,
    ip: &str,
    id: i64,
    f: &MemberForm,
    item: bool,
    add: bool,
) -> WebResult<Response> {
    let result = if item {
        match member_id(&f.item_id, "item_id", "信息编号") {
            Ok(m) if add => topics::add_item(&state.db, who, ip, id, m).await,
            Ok(m) => topics::remove_item(&state.db, who, ip, id, m).await,
            Err(e) => Err(e),
        }
    } else {
        match member_id(&f.column_id, "column_id", "栏目") {
            Ok(m) if add => topics::add_column(&state.db, who, ip, id, m).await,
            Ok(m) => topics::remove_column(&state.db, who, ip, id, m).await,
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/console/topics/{id}?saved=1#{}", if item { "items" } else { "columns" }))),
        Err(e) => topic_error(state, who, id, e, None).await,
    }
}

pub async fn topic_item_add(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<MemberForm>,
) -> WebResult<Response> {
    change_member(&state, &who, &ip, id, &f, true, true).await
}

pub async fn topic_item_remove(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<MemberForm>,
) -> WebResult<Response> {
    change_member(&state, &who, &ip, id, &f, true, false).await
}

pub async fn topic_column_add(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<MemberForm>,
) -> WebResult<Response> {
    change_member(&state, &who, &ip, id, &f, false, true).await
}

pub async fn topic_column_remove(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<MemberForm>,
) -> WebResult<Response> {
    change_member(&state, &who, &ip, id, &f, false, false).await
}

// ───────────────────────────── catalogue ─────────────────────────────

/// ✓/✗ with words, so the judgement never rests on colour alone.
fn timeliness(v: &cat::EntryView) -> String {
    let due = v.due_on.as_deref().map(|d| format!("（期限 {d}）")).unwrap_or_default();
    match v.within_limit {
        Some(true) => format!("✓ 按时发布{due}"),
        Some(false) => format!("✗ 超过公开时限{due}"),
        None if v.items.is_empty() => "— 尚无已发布信息".into(),
        None => "— 无法判断（缺成文日期或时限无具体天数）".into(),
    }
}

pub async fn catalogue_list(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<SavedQuery>,
) -> WebResult<Response> {
    let groups = cat::list_by_domain(&state.db).await?;
    let (mut total, mut late) = (0usize, 0usize);
    let groups: Vec<Value> = groups
        .iter()
        .map(|(code, label, views)| {
            total += views.len();
            late += views.iter().filter(|v| v.within_limit == Some(false)).count();
            let entries: Vec<Value> = views
                .iter()
                .map(|v| {
                    json!({ "e": &v.entry, "org": v.org_name.clone().unwrap_or_default(),
                            "channels": v.entry.channel_labels(), "items": &v.items,
                            "last": v.last_published_on, "within": v.within_limit, "timeliness": timeliness(v) })
                })
                .collect();
            json!({ "code": code, "label": label, "entries": entries })
        })
        .collect();
    let ctx = json!({ "groups": groups, "total": total, "late": late, "saved": q.saved.is_some(),
                      "can_review": who.has(Perm::ContentReview) });
    Ok(render_with(&state, Some(&who), "console/cms/library/catalogue.html", ctx, "/console/catalogue")?
        .into_response())
}

async fn export(state: &AppState, format: Format) -> WebResult<Response> {
    let bytes = cat::export(&state.db, format).await?;
    let (day, ext) = (fmt_date(today()), format.extension());
    Ok(gongkai_kernel::web::ctx::attachment(
        &format!("标准目录-{day}.{ext}"),
        &format!("catalogue-{day}.{ext}"),
        format.content_type(),
        bytes,
    ))
}

pub async fn catalogue_export_csv(State(state): State<AppState>, Auth(_): Auth) -> WebResult<Response> {
    export(&state, Format::Csv).await
}

pub async fn catalogue_export_xlsx(State(state): State<AppState>, Auth(_): Auth) -> WebResult<Response> {
    export(&state, Format::Xlsx).await
}

pub async fn catalogue_import_form(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let ctx = json!({ "errors": {} });
    Ok(render_with(&state, Some(&who), "console/cms/library/import.html", ctx, "/console/catalogue")?.into_response())
}

/// Import (multipart/form-data). The CSRF token travels as the form's `_csrf` field.
pub async fn catalogue_import(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfUpload(file): CsrfUpload,
) -> WebResult<Response> {
    let result = match file {
        Some((name, bytes)) => match Format::from_filename(&name) {
            Some(format) => cat::import(&state.db, &who, &ip, format, &bytes).await.map(|r| (name, r)),
            None => Err(Error::field("file", "只能导入 Excel（.xlsx）或 CSV（.csv）文件")),
        },
        _ => Err(Error::field("file", "请选择要导入的文件")),
    };
    match result {
        Ok((name, report)) => {
            let rejected: Vec<Value> = report
                .rejected
                .iter()
                .map(|r| {
                    let problems: Vec<String> = r.errors.iter().map(|(col, msg)| format!("{col}：{msg}")).collect();
                    json!({ "row": r.row, "problems": problems })
                })
                .collect();
            let ctx = json!({ "errors": {}, "report": { "file": name, "created": report.created,
                              "updated": report.updated, "rejected": rejected } });
            Ok(render_with(&state, Some(&who), "console/cms/library/import.html", ctx, "/console/catalogue")?
                .into_response())
        }
        Err(e) => Ok(form_error(&state, &who, "console/cms/library/import.html", json!({}), e)),
    }
}

/// Form pairs → an entry form; 公开渠道 arrives as one checkbox pair per channel.
fn entry_input_of(pairs: &[(String, String)]) -> EntryInput {
    let mut i = EntryInput::default();
    let mut channels = Vec::new();
    for (k, v) in pairs {
        let v = v.clone();
        match k.as_str() {
            "seq" => i.seq = v,
            "domain" => i.domain = v,
            "level1" => i.level1 = v,
            "level2" => i.level2 = v,
            "content" => i.content = v,
            "basis" => i.basis = v,
            "time_limit" => i.time_limit = v,
            "org" => i.org = v,
            "channels" => channels.push(v),
            "audience" => i.audience = v,
            "mode" => i.mode = v,
            "tier" => i.tier = v,
            "sort_order" => i.sort_order = v,
            _ => {}
        }
    }
    i.channels = channels.join(",");
    i
}

async fn entry_input_of_entry(db: &Db, e: &cat::Entry) -> Result<EntryInput> {
    let org = match e.org_id {
        Some(o) => {
            let mut h = db.read().await?;
            gongkai_kernel::org::store::get(&mut h.conn(), o).await?.map(|o| o.name).unwrap_or_default()
        }
        None => String::new(),
    };
    Ok(EntryInput {
        seq: e.seq.clone(),
        domain: e.domain_code.clone(),
        level1: e.level1.clone(),
        level2: e.level2.clone(),
        content: e.content.clone(),
        basis: e.basis.clone(),
        time_limit: e.time_limit.clone(),
        org,
        channels: e.channels.clone(),
        audience: e.audience.clone(),
        mode: e.mode.clone(),
        tier: e.tier.clone(),
        sort_order: e.sort_order.to_string(),
    })
}

fn opts<T: Copy>(all: &[T], code: fn(T) -> &'static str, label: fn(T) -> &'static str) -> Value {
    json!(all.iter().map(|v| json!({ "value": code(*v), "label": label(*v) })).collect::<Vec<_>>())
}

/// The entry form's page: options, the checked channels and what was typed.
async fn entry_ctx(state: &AppState, id: Option<i64>, input: &EntryInput) -> WebResult<Value> {
    let orgs: Vec<Value> = {
        let mut h = state.db.read().await?;
        gongkai_kernel::org::store::all(&mut h.conn())
            .await?
            .iter()
            .map(|o| json!({ "value": o.name, "label": format!("{}{}", "　".repeat(o.depth()), o.name) }))
            .collect()
    };
    let chosen: Vec<&str> =
        cat::parse_channels(&input.channels).unwrap_or_default().iter().map(|c| c.as_str()).collect();
    let channels: Vec<Value> = Channel::ALL
        .iter()
        .map(|c| json!({ "value": c.as_str(), "label": c.label_zh(), "checked": chosen.contains(&c.as_str()) }))
        .collect();
    let domains: Vec<Value> =
        DOMAINS.iter().map(|(c, l)| json!({ "value": c, "label": format!("{}（{c}）", l) })).collect();
    Ok(json!({
        "new": id.is_none(), "id": id, "i": input, "errors": {}, "orgs": orgs, "channels": channels, "domains": domains,
        "audiences": opts(&[cat::Audience::All, cat::Audience::Specific], cat::Audience::as_str, cat::Audience::label_zh),
        "modes": opts(&[cat::Mode::Proactive, cat::Mode::OnRequest], cat::Mode::as_str, cat::Mode::label_zh),
        "tiers": opts(&[cat::Tier::County, cat::Tier::Township], cat::Tier::as_str, cat::Tier::label_zh),
    }))
}

pub async fn entry_new_form(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let input = EntryInput {
        audience: "all".into(),
        mode: "proactive".into(),
        tier: "county".into(),
        channels: "website".into(),
        ..Default::default()
    };
    let ctx = entry_ctx(&state, None, &input).await?;
    Ok(render_with(&state, Some(&who), "console/cms/library/entry.html", ctx, "/console/catalogue")?.into_response())
}

pub async fn entry_create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let f = entry_input_of(&pairs);
    match cat::create_entry(&state.db, &who, &ip, &f).await {
        Ok(e) => Ok(see_other(&format!("/console/catalogue?saved=1#{}", e.domain_code))),
        Err(e) => {
            let ctx = entry_ctx(&state, None, &f).await?;
            Ok(form_error(&state, &who, "console/cms/library/entry.html", ctx, e))
        }
    }
}

pub async fn entry_edit_form(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> WebResult<Response> {
    let e = cat::entry(&state.db, id).await?;
    let mut ctx = entry_ctx(&state, Some(id), &entry_input_of_entry(&state.db, &e).await?).await?;
    ctx["saved"] = json!(q.saved.is_some());
    Ok(render_with(&state, Some(&who), "console/cms/library/entry.html", ctx, "/console/catalogue")?.into_response())
}

pub async fn entry_update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let f = entry_input_of(&pairs);
    match cat::update_entry(&state.db, &who, &ip, id, &f).await {
        Ok(_) => Ok(see_other(&format!("/console/catalogue/{id}?saved=1"))),
        Err(e) => {
            let ctx = entry_ctx(&state, Some(id), &f).await?;
            Ok(form_error(&state, &who, "console/cms/library/entry.html", ctx, e))
        }
    }
}

pub async fn entry_delete(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    match cat::delete_entry(&state.db, &who, &ip, id).await {
        Ok(()) => Ok(see_other("/console/catalogue?saved=1")),
        Err(e @ (Error::Conflict(_) | Error::Forbidden(_))) => {
            let entry = cat::entry(&state.db, id).await?;
            let ctx = entry_ctx(&state, Some(id), &entry_input_of_entry(&state.db, &entry).await?).await?;
            Ok(form_error(&state, &who, "console/cms/library/entry.html", ctx, e))
        }
        Err(e) => Err(e.into()),
    }
}

// ───────────────────────────── reference data ─────────────────────────────

/// An editable reference list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// 主题分类 (`subjects`, referred to by `items.subject_code`).
    Subjects,
    /// 信息类别 (`item_classes`, referred to by `items.class_code`).
    Classes,
}

impl RefKind {
    pub fn parse(s: &str) -> Option<RefKind> {
        match s {
            "subjects" => Some(RefKind::Subjects),
            "classes" => Some(RefKind::Classes),
            _ => None,
        }
    }
    /// The URL segment.
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::Subjects => "subjects",
            RefKind::Classes => "classes",
        }
    }
    pub fn table(self) -> &'static str {
        match self {
            RefKind::Subjects => "subjects",
            RefKind::Classes => "item_classes",
        }
    }
    /// The `items` column holding the code.
    fn item_column(self) -> &'static str {
        match self {
            RefKind::Subjects => "subject_code",
            RefKind::Classes => "class_code",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            RefKind::Subjects => "主题分类",
            RefKind::Classes => "信息类别",
        }
    }
}

/// Codes the program itself relies on; they stay enabled (政策解读 links depend on it).
const PINNED_CLASSES: &[&str] = &["interpretation"];

/// A code: 1–30 of [a-z0-9_] (stored in items and used in URLs; never changes).
pub fn validate_ref_code(s: &str) -> std::result::Result<String, String> {
    let t = s.trim().to_ascii_lowercase();
    let n = t.chars().count();
    if !(1..=30).contains(&n) || !t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err("代码为 1–30 位小写字母、数字或下划线（_），保存后不能修改".into());
    }
    Ok(t)
}

/// A label: 1–30 characters once trimmed, control characters dropped.
pub fn validate_ref_label(s: &str) -> std::result::Result<String, String> {
    let t: String = s.trim().chars().filter(|c| !c.is_control()).collect();
    let n = t.chars().count();
    if !(1..=30).contains(&n) {
        return Err("名称为 1–30 个字".into());
    }
    Ok(t)
}

/// One row of a reference list, with how many items use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RefRow {
    pub code: String,
    pub label: String,
    pub sort_order: i64,
    pub enabled: bool,
    pub uses: i64,
}

async fn ref_rows(c: &mut Conn<'_>, kind: RefKind) -> Result<Vec<RefRow>> {
    let sql = format!(
        "SELECT r.code, r.label, r.sort_order, r.enabled, (SELECT COUNT(*) FROM items i WHERE i.{} = r.code) AS uses
         FROM {} r ORDER BY r.sort_order, r.code",
        kind.item_column(),
        kind.table()
    );
    Ok(with_conn!(c, x => sqlx::query_as::<_, RefRow>(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **x).await)?)
}

/// Every entry of a list, disabled ones included, in display order.
pub async fn reference_rows(db: &Db, kind: RefKind) -> Result<Vec<RefRow>> {
    let mut h = db.read().await?;
    ref_rows(&mut h.conn(), kind).await
}

fn may_manage(who: &Principal) -> Result<()> {
    if who.has(Perm::SettingsManage) {
        Ok(())
    } else {
        Err(Error::Forbidden("只有系统管理员可以维护分类".into()))
    }
}

async fn ref_row(c: &mut Conn<'_>, kind: RefKind, code: &str) -> Result<RefRow> {
    ref_rows(c, kind).await?.into_iter().find(|r| r.code == code).ok_or(Error::NotFound)
}

/// Another entry of the list already carries `label`? (Imports map labels to codes, so
/// two entries with one label would be ambiguous.)
async fn label_taken(c: &mut Conn<'_>, kind: RefKind, label: &str, except: &str) -> Result<bool> {
    Ok(ref_rows(c, kind).await?.iter().any(|r| r.label == label && r.code != except))
}

async fn ref_changed(
    c: &mut Conn<'_>,
    who: &Principal,
    ip: &str,
    kind: RefKind,
    action: &str,
    code: &str,
    summary: Value,
) -> Result<()> {
    audit::append(c, &who.actor(ip), action, kind.table(), code, summary).await?;
    let op = action.trim_start_matches("reference.");
    outbox::emit(c, "reference.changed", code, json!({ "table": kind.table(), "code": code, "op": op })).await?;
    Ok(())
}

/// Add an entry at the end of the list, enabled.
pub async fn add_reference(
    db: &Db,
    who: &Principal,
    ip: &str,
    kind: RefKind,
    code: &str,
    label: &str,
) -> Result<RefRow> {
    may_manage(who)?;
    let mut errs = FieldErrors::new();
    let code = validate_ref_code(code).map_err(|m| errs.add("code", m)).unwrap_or_default();
    let label = validate_ref_label(label).map_err(|m| errs.add("label", m)).unwrap_or_default();
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let rows = ref_rows(&mut c, kind).await?;
    if let Some(r) = rows.iter().find(|r| r.code == code) {
        let state = if r.enabled { "" } else { "（已停用，可重新启用）" };
        return Err(Error::field("code", format!("代码“{code}”已被“{}”使用{state}", r.label)));
    }
    if rows.iter().any(|r| r.label == label) {
        return Err(Error::field("label", format!("已有名为“{label}”的{}", kind.label_zh())));
    }
    let next = rows.iter().map(|r| r.sort_order).max().map_or(0, |m| m + 1);
    let sql = format!("INSERT INTO {} (code, label, sort_order, enabled) VALUES ($1, $2, $3, TRUE)", kind.table());
    with_conn!(&mut c, x => {
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&code).bind(&label).bind(next)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })
    .map_err(|e| {
        let e: Error = e.into();
        if is_unique_violation(&e) { Error::field("code", format!("代码“{code}”已存在")) } else { e }
    })?;
    let row = ref_row(&mut c, kind, &code).await?;
    ref_changed(
        &mut c,
        who,
        ip,
        kind,
        "reference.add",
        &code,
        json!({ "table": kind.table(), "code": &code, "label": &label }),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Rename an entry (the code stays: items refer to it). Returns whether anything changed.
pub async fn rename_reference(
    db: &Db,
    who: &Principal,
    ip: &str,
    kind: RefKind,
    code: &str,
    label: &str,
) -> Result<bool> {
    may_manage(who)?;
    let label = validate_ref_label(label).map_err(|m| Error::field("label", m))?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = ref_row(&mut c, kind, code.trim()).await?;
    if before.label == label {
        return Ok(false);
    }
    if label_taken(&mut c, kind, &label, &before.code).await? {
        return Err(Error::field("label", format!("已有名为“{label}”的{}", kind.label_zh())));
    }
    let sql = format!("UPDATE {} SET label = $1 WHERE code = $2", kind.table());
    with_conn!(&mut c, x => {
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&label).bind(&before.code)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    let summary = json!({ "table": kind.table(), "code": &before.code, "before": &before.label, "after": &label });
    ref_changed(&mut c, who, ip, kind, "reference.rename", &before.code, summary).await?;
    tx.commit().await?;
    Ok(true)
}

/// Enable or disable an entry. Disabled entries leave the forms' choices but stay in
/// the table, so items already using them keep a readable label. Returns whether
/// anything changed.
pub async fn set_reference_enabled(
    db: &Db,
    who: &Principal,
    ip: &str,
    kind: RefKind,
    code: &str,
    enabled: bool,
) -> Result<bool> {
    may_manage(who)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let rows = ref_rows(&mut c, kind).await?;
    let row = rows.iter().find(|r| r.code == code.trim()).ok_or(Error::NotFound)?;
    if row.enabled == enabled {
        return Ok(false);
    }
    if !enabled && kind == RefKind::Classes {
        if PINNED_CLASSES.contains(&row.code.as_str()) {
            return Err(Error::Conflict(format!("“{}”用于关联政策文件与解读，不能停用", row.label)));
        }
        if rows.iter().filter(|r| r.enabled).count() <= 1 {
            return Err(Error::Conflict("至少要保留一个启用的信息类别：每条信息都必须选择类别".into()));
        }
    }
    let sql = format!("UPDATE {} SET enabled = $1 WHERE code = $2", kind.table());
    with_conn!(&mut c, x => {
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(enabled).bind(&row.code)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    let action = if enabled { "reference.enable" } else { "reference.disable" };
    let summary = json!({ "table": kind.table(), "code": &row.code, "label": &row.label, "uses": row.uses });
    ref_changed(&mut c, who, ip, kind, action, &row.code, summary).await?;
    tx.commit().await?;
    Ok(true)
}

/// The order after moving `code` one place up or down (pure); None when it cannot move.
pub fn moved(codes: &[String], code: &str, up: bool) -> Option<Vec<String>> {
    let i = codes.iter().position(|c| c == code)?;
    let j = if up { i.checked_sub(1)? } else { Some(i + 1).filter(|j| *j < codes.len())? };
    let mut v = codes.to_vec();
    v.swap(i, j);
    Some(v)
}

/// Move an entry one place up or down; the list is renumbered 0, 1, 2… so ties from
/// older data cannot make a move ineffective. Returns whether anything changed.
pub async fn move_reference(db: &Db, who: &Principal, ip: &str, kind: RefKind, code: &str, up: bool) -> Result<bool> {
    may_manage(who)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let rows = ref_rows(&mut c, kind).await?;
    let codes: Vec<String> = rows.iter().map(|r| r.code.clone()).collect();
    if !codes.iter().any(|c| c == code.trim()) {
        return Err(Error::NotFound);
    }
    let Some(order) = moved(&codes, code.trim(), up) else { return Ok(false) };
    let sql = format!("UPDATE {} SET sort_order = $1 WHERE code = $2", kind.table());
    for (i, code) in order.iter().enumerate() {
        let n = i as i64;
        if rows.iter().any(|r| &r.code == code && r.sort_order != n) {
            with_conn!(&mut c, x => {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(n).bind(code)
                    .execute(&mut **x).await.map(|r| r.rows_affected())
            })?;
        }
    }
    let summary = json!({ "table": kind.table(), "code": code.trim(), "direction": if up { "up" } else { "down" }, "order": &order });
    ref_changed(&mut c, who, ip, kind, "reference.reorder", code.trim(), summary).await?;
    tx.commit().await?;
    Ok(true)
}

#[derive(Deserialize, Default)]
pub struct RefQuery {
    kind: Option<String>,
    saved: Option<String>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
pub struct RefForm {
    code: String,
    label: String,
    /// toggle: "1" enables, anything else disables; move: "up" or "down".
    enabled: String,
    direction: String,
}

async fn reference_ctx(state: &AppState, kind: RefKind) -> WebResult<Value> {
    let rows = reference_rows(&state.db, kind).await?;
    let n = rows.len();
    let rows: Vec<Value> =
        rows.iter().enumerate().map(|(i, r)| json!({ "r": r, "first": i == 0, "last": i + 1 == n })).collect();
    let tabs: Vec<Value> = [RefKind::Subjects, RefKind::Classes]
        .iter()
        .map(|k| json!({ "kind": k.as_str(), "label": k.label_zh(), "current": *k == kind }))
        .collect();
    Ok(json!({ "kind": kind.as_str(), "kind_label": kind.label_zh(), "tabs": tabs, "rows": rows,
               "add": { "code": "", "label": "" }, "errors": {}, "failed": "", "failed_code": "" }))
}

pub async fn reference_page(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<RefQuery>,
) -> WebResult<Response> {
    let kind = RefKind::parse(q.kind.as_deref().unwrap_or("subjects")).ok_or(Error::NotFound)?;
    let mut ctx = reference_ctx(&state, kind).await?;
    ctx["saved"] = json!(q.saved.is_some());
    Ok(render_with(&state, Some(&who), "console/cms/library/reference.html", ctx, "/console/reference")?
        .into_response())
}

/// After a reference change: back to the list, or the list with the form's errors (on
/// the form that failed only: every row has its own rename form).
async fn reference_done(
    state: &AppState,
    who: &Principal,
    kind: RefKind,
    form: &str,
    f: &RefForm,
    r: Result<()>,
) -> WebResult<Response> {
    let e = match r {
        Ok(()) => return Ok(see_other(&format!("/console/reference?kind={}&saved=1", kind.as_str()))),
        // The row's form has no field to hang this on: say it above the list.
        Err(Error::NotFound) => Error::Conflict("没有这个代码的分类（可能已被他人修改），请刷新页面后重试".into()),
        Err(e) => e,
    };
    let mut ctx = reference_ctx(state, kind).await?;
    ctx["failed"] = json!(form);
    ctx["failed_code"] = json!(f.code.trim());
    if form == "add" {
        ctx["add"] = json!({ "code": &f.code, "label": &f.label });
    } else {
        ctx["typed_label"] = json!(&f.label);
    }
    Ok(form_error(state, who, "console/cms/library/reference.html", ctx, e))
}

fn ref_kind(kind: &str) -> Result<RefKind> {
    RefKind::parse(kind).ok_or(Error::NotFound)
}

pub async fn reference_add(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(kind): Path<String>,
    CsrfForm(f): CsrfForm<RefForm>,
) -> WebResult<Response> {
    let kind = ref_kind(&kind)?;
    let r = add_reference(&state.db, &who, &ip, kind, &f.code, &f.label).await.map(|_| ());
    reference_done(&state, &who, kind, "add", &f, r).await
}

pub async fn reference_rename(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(kind): Path<String>,
    CsrfForm(f): CsrfForm<RefForm>,
) -> WebResult<Response> {
    let kind = ref_kind(&kind)?;
    let r = rename_reference(&state.db, &who, &ip, kind, &f.code, &f.label).await.map(|_| ());
    reference_done(&state, &who, kind, "rename", &f, r).await
}

pub async fn reference_toggle(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(kind): Path<String>,
    CsrfForm(f): CsrfForm<RefForm>,
) -> WebResult<Response> {
    let kind = ref_kind(&kind)?;
    let r = set_reference_enabled(&state.db, &who, &ip, kind, &f.code, f.enabled == "1").await.map(|_| ());
    reference_done(&state, &who, kind, "toggle", &f, r).await
}

pub async fn reference_move(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(kind): Path<String>,
    CsrfForm(f): CsrfForm<RefForm>,
) -> WebResult<Response> {
    let kind = ref_kind(&kind)?;
    let r = match f.direction.as_str() {
        "up" | "down" => move_reference(&state.db, &who, &ip, kind, &f.code, f.direction == "up").await.map(|_| ()),
        _ => Err(Error::Conflict("请选择上移或下移".into())),
    };
    reference_done(&state, &who, kind, "move", &f, r).await
}

// ───────────────────────────── interpretation report ─────────────────────────────

/// Published policies marked as needing an interpretation that have no live one, within
/// the reviewer's organisations.
pub async fn missing_interpretations(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let (items, orgs) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        (store::policies_missing_interpretation(&mut c).await?, gongkai_kernel::org::store::all(&mut c).await?)
    };
    let scope = who.org_scope(Perm::ContentReview);
    let rows: Vec<Value> = items
        .iter()
        .filter_map(|i| {
            let org = i.publisher_org_id.and_then(|id| orgs.iter().find(|o| o.id == id));
            let visible = match (&scope, org) {
                (OrgScope::All, _) => true,
                (OrgScope::Paths(paths), Some(o)) => paths.iter().any(|p| o.path.starts_with(p.as_str())),
                _ => false,
            };
            visible.then(|| {
                json!({ "id": i.id, "title": i.title, "doc_no": i.doc_no, "index_no": i.index_no,
                        "org": org.map(|o| o.name.clone()).unwrap_or_default(), "published_on": i.published_on })
            })
        })
        .collect();
    let ctx = json!({ "rows": rows });
    Ok(render_with(
        &state,
        Some(&who),
        "console/cms/library/missing_interpretation.html",
        ctx,
        "/console/interpretations/missing",
    )?
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_codes_and_labels() {
        assert_eq!(validate_ref_code(" S_27 ").unwrap(), "s_27");
        for bad in ["", "a-b", "中文", "a b", &"a".repeat(31)] {
            assert!(validate_ref_code(bad).is_err(), "{bad:?}");
        }
        assert_eq!(validate_ref_code(&"a".repeat(30)).unwrap().len(), 30);
        assert_eq!(validate_ref_label(" 城乡建设\n ").unwrap(), "城乡建设");
        assert!(validate_ref_label("  ").is_err());
        assert!(validate_ref_label(&"长".repeat(31)).is_err());
        assert!(validate_ref_label(&"长".repeat(30)).is_ok());
    }

    #[test]
    fn moving_swaps_with_the_neighbour_only() {
        let v: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(moved(&v, "b", true).unwrap(), ["b", "a", "c"]);
        assert_eq!(moved(&v, "b", false).unwrap(), ["a", "c", "b"]);
        assert!(moved(&v, "a", true).is_none());
        assert!(moved(&v, "c", false).is_none());
        assert!(moved(&v, "x", false).is_none());
    }
}
