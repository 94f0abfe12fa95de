//! The open read API under `/api/v1/`, its OpenAPI document and the API explorer.
//!
//! Everything is read from the public projection (`pub_items`, `pub_placements`,
//! `pub_site_items`), never from `items`, so an unapproved revision cannot leak; an item
//! is public when it is shown on at least one open site. One error shape for every
//! failure; a parameter that breaks its documented schema is 400, a well-formed one that
//! names nothing public is 404, and no input can cause a 500. Query strings and path
//! segments are parsed here, not by axum's extractors, whose rejections are plain text.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use gongkai_cms::catalogue::{Audience, Mode};
use gongkai_cms::model::{Art20, Channel, DOMAINS, Genre, Validity};
use gongkai_kernel::db::Conn;
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;
use serde_json::{Value, json};
use time::Date;

use crate::Portal;
use crate::pages::Labels;
use crate::site::SiteInfo;
use crate::store::{self, Col};

/// The OpenAPI 3.0.3 document, written by hand next to this file.
pub const OPENAPI: &str = include_str!("../openapi.json");
const EXPLORER_HTML: &str = include_str!("../api-explorer/index.html");
const EXPLORER_JS: &str = include_str!("../api-explorer/explorer.js");
const EXPLORER_CSS: &str = include_str!("../api-explorer/explorer.css");

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// Every path this router serves (the OpenAPI document describes exactly these).
pub const PATHS: [&str; 11] = [
    "/api/v1/sites",
    "/api/v1/sites/{code}/columns",
    "/api/v1/items",
    "/api/v1/items/{id}",
    "/api/v1/catalogue",
    "/api/openapi.json",
    "/api/docs",
    "/api/docs/explorer.js",
    "/api/docs/explorer.css",
    "/api/v1/search",
    "/api/v1/search/suggest",
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATHS[0], get(sites))
        .route(PATHS[1], get(columns))
        .route(PATHS[2], get(items))
        .route(PATHS[3], get(item))
        .route(PATHS[4], get(catalogue))
        .route(PATHS[5], get(|| async { body("application/json", OPENAPI) }))
        .route(PATHS[6], get(|| async { body("text/html; charset=utf-8", EXPLORER_HTML) }))
        .route(PATHS[7], get(|| async { body("text/javascript; charset=utf-8", EXPLORER_JS) }))
        .route(PATHS[8], get(|| async { body("text/css; charset=utf-8", EXPLORER_CSS) }))
        .route(PATHS[9], get(search))
        .route(PATHS[10], get(suggest))
        // API clients get the API's error shape for a mistyped path, not a console page.
        .route("/api/{*rest}", any(|| async { not_found(None, "接口不存在，可用接口见 /api/openapi.json") }))
        .layer(axum::middleware::map_response(open_data_headers))
}

/// Read-only open data: anyone may fetch it from any origin, and a minute of caching
/// costs nothing. A server failure is never cached.
async fn open_data_headers(mut r: Response) -> Response {
    let cache = if r.status().is_server_error() { "no-store" } else { "public, max-age=60" };
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

fn body(content_type: &'static str, text: &'static str) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], text).into_response()
}

fn json_ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

// ---------------------------------------------------------------- errors

/// `{ "error": { "code", "message", "field"? } }` with 400, 404 or 500.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<&'static str>,
}

fn bad(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError { status: StatusCode::BAD_REQUEST, code: "bad_request", message: message.into(), field: Some(field) }
}

fn not_found(field: Option<&'static str>, message: impl Into<String>) -> ApiError {
    ApiError { status: StatusCode::NOT_FOUND, code: "not_found", message: message.into(), field }
}

impl From<gongkai_kernel::Error> for ApiError {
    fn from(e: gongkai_kernel::Error) -> ApiError {
        tracing::error!(error = %e, "open api");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "服务器暂时无法处理您的请求，请稍后重试。".into(),
            field: None,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        gongkai_kernel::Error::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut e = json!({ "code": self.code, "message": self.message });
        if let Some(f) = self.field {
            e["field"] = json!(f);
        }
        (self.status, axum::Json(json!({ "error": e }))).into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

fn portal(state: &AppState) -> Result<Portal, ApiError> {
    state.ext::<Portal>().cloned().ok_or_else(|| gongkai_kernel::Error::internal("portal not attached").into())
}

// ---------------------------------------------------------------- parameters

/// Known query parameters of one operation; unknown ones (cache busters, tracking tags)
/// are ignored, a repeated known one is refused.
struct Params(HashMap<&'static str, String>);

fn params(query: Option<String>, known: &[&'static str]) -> Result<Params, ApiError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).map_err(|_| bad("query", "查询参数格式有误"))?;
    let mut m = HashMap::new();
    for (k, v) in pairs {
        if let Some(name) = known.iter().find(|n| **n == k)
            && m.insert(*name, v).is_some()
        {
            return Err(bad(name, format!("参数 {name} 只能出现一次")));
        }
    }
    Ok(Params(m))
}

impl Params {
    fn get(&self, name: &'static str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A decimal integer within [min, max]; digits only, so "+1", " 1" and "1.0" are refused.
    fn int(&self, name: &'static str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        self.get(name).map(|v| int_in(v, name, min, max)).transpose()
    }

    fn matching(&self, name: &'static str, ok: fn(&str) -> bool, what: &str) -> Result<Option<&str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if ok(v) => Ok(Some(v)),
            Some(_) => Err(bad(name, format!("参数 {name} 应为{what}"))),
        }
    }

    fn one_of(&self, name: &'static str, codes: &[&str]) -> Result<Option<&str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if codes.contains(&v) => Ok(Some(v)),
            Some(_) => Err(bad(name, format!("参数 {name} 不是可用的代码，可选值见接口说明"))),
        }
    }

    fn limit(&self) -> Result<i64, ApiError> {
        Ok(self.int("limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT))
    }
}

fn int_in(v: &str, name: &'static str, min: i64, max: i64) -> Result<i64, ApiError> {
    let n = if !v.is_empty() && v.len() <= 19 && v.bytes().all(|b| b.is_ascii_digit()) {
        v.parse::<i64>().ok()
    } else {
        None
    };
    n.filter(|n| (min..=max).contains(n))
        .ok_or_else(|| bad(name, format!("参数 {name} 应为 {min} 到 {max} 之间的整数")))
}

fn path_param(p: Result<Path<String>, PathRejection>, name: &'static str) -> Result<String, ApiError> {
    p.map(|Path(s)| s).map_err(|_| bad(name, format!("路径参数 {name} 格式有误")))
}

/// A site's code as the console allows it: 2–32 lowercase letters, digits or '-', not
/// starting with '-' (`^[a-z0-9][a-z0-9-]{1,31}$`).
fn site_code_ok(s: &str) -> bool {
    (2..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

/// A reference-data code: `^[a-z0-9_]{1,32}$`.
fn ref_code_ok(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `YYYY-MM-DD`, a real calendar day, exactly (no spaces or signs: the API is strict).
fn parse_day(s: &str) -> Option<Date> {
    if s.len() != 10
        || !s.bytes().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == b'-' } else { c.is_ascii_digit() })
    {
        return None;
    }
    gongkai_kernel::clock::parse_date(s)
}

fn fmt_day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

// ---------------------------------------------------------------- cursors

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(B64[((acc >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(B64[((acc << (6 - bits)) & 63) as usize] as char);
    }
    out
}

/// Decodes leniently (trailing bits dropped), so every string of the documented length
/// and alphabet is a cursor: a client can only ever point somewhere, never break a query.
fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = B64.iter().position(|x| *x == c)? as u32;
        acc = ((acc << 6) | v) & 0xFFFF;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Items: 16 characters for (published_on as a Julian day, item id), newest-first keyset.
pub const ITEM_CURSOR_LEN: usize = 16;
/// Catalogue entries: 11 characters for the last entry id.
pub const ENTRY_CURSOR_LEN: usize = 11;

fn item_cursor(published_on: &str, item_id: i64) -> String {
    let day = parse_day(published_on).map(|d| d.to_julian_day()).unwrap_or(0).max(0) as u32;
    let mut b = day.to_be_bytes().to_vec();
    b.extend_from_slice(&item_id.to_be_bytes());
    b64_encode(&b)
}

fn parse_item_cursor(s: &str) -> Option<(String, i64)> {
    if s.len() != ITEM_CURSOR_LEN {
        return None;
    }
    let b = b64_decode(s)?;
    let day = u32::from_be_bytes(b.get(..4)?.try_into().ok()?) as i64;
    let id = i64::from_be_bytes(b.get(4..12)?.try_into().ok()?);
    // Any day number is a position; clamp it into the years a date string can hold.
    let lo = Date::from_calendar_date(1, time::Month::January, 1).ok()?.to_julian_day() as i64;
    let hi = Date::from_calendar_date(9999, time::Month::December, 31).ok()?.to_julian_day() as i64;
    let d = Date::from_julian_day(day.clamp(lo, hi) as i32).ok()?;
    Some((fmt_day(d), id))
}

fn entry_cursor(id: i64) -> String {
    b64_encode(&id.to_be_bytes())
}

fn parse_entry_cursor(s: &str) -> Option<i64> {
    if s.len() != ENTRY_CURSOR_LEN {
        return None;
    }
    let b = b64_decode(s)?;
    Some(i64::from_be_bytes(b.get(..8)?.try_into().ok()?))
}

// ---------------------------------------------------------------- values

fn label(code: &str, label: &str) -> Value {
    json!({ "code": code, "label": label })
}

fn org_ref(labels: &Labels, id: Option<i64>) -> Value {
    match id {
        Some(id) => json!({ "id": id, "name": labels.org(Some(id)).unwrap_or_default() }),
        None => Value::Null,
    }
}

fn class_label(labels: &Labels, code: &str) -> Value {
    label(code, labels.classes.get(code).map(String::as_str).unwrap_or(code))
}

fn subject_label(labels: &Labels, code: &Option<String>) -> Value {
    match code {
        Some(c) => label(c, &labels.subject(code).unwrap_or_default()),
        None => Value::Null,
    }
}

fn genre_label(code: &Option<String>) -> Value {
    match code {
        Some(c) => label(c, Genre::parse(c).map(|g| g.label_zh()).unwrap_or(c)),
        None => Value::Null,
    }
}

fn art20_label(code: &Option<String>) -> Value {
    match code {
        Some(c) => label(c, &Art20::parse(c).map(|a| a.label_with_number()).unwrap_or_else(|| c.clone())),
        None => Value::Null,
    }
}

fn validity_label(code: &str) -> Value {
    label(code, Validity::parse(code).map(|v| v.label_zh()).unwrap_or(code))
}

fn site_value(s: &SiteInfo) -> Value {
    json!({
        "code": s.code,
        "name": s.name,
        "kind": s.kind,
        "site_code": s.site_code,
        "org": s.org_id.map(|id| json!({ "id": id, "name": s.org_name })),
        "url": format!("/s/{}/", s.code),
        "icp": s.icp,
        "psb": s.psb,
    })
}

fn item_url(site: &str, id: i64) -> String {
    format!("/s/{site}/art/{id}.html")
}

/// The open sites of the group (the directory holds non-external ones only).
async fn open_sites(p: &Portal, state: &AppState) -> Result<Vec<SiteInfo>, ApiError> {
    Ok(p.sites.all(&state.db).await?.iter().filter(|s| s.is_open()).cloned().collect())
}

/// Columns a visitor can reach (visible, and every ancestor visible too), in tree order:
/// each parent before its children, siblings in display order (`cols` is sorted so).
fn reachable(cols: &[Col]) -> Vec<&Col> {
    fn walk<'a>(cols: &'a [Col], parent: Option<i64>, depth: usize, out: &mut Vec<&'a Col>) {
        // Bounded depth: a corrupt parent loop cannot hang a request.
        if depth > 32 {
            return;
        }
        for c in cols.iter().filter(|c| c.parent_id == parent && c.visible) {
            out.push(c);
            walk(cols, Some(c.id), depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(cols, None, 0, &mut out);
    out
}

// ---------------------------------------------------------------- handlers

async fn sites(State(state): State<AppState>) -> ApiResult {
    let p = portal(&state)?;
    let list: Vec<Value> = open_sites(&p, &state).await?.iter().map(site_value).collect();
    Ok(json_ok(json!({ "sites": list })))
}

async fn columns(State(state): State<AppState>, path: Result<Path<String>, PathRejection>) -> ApiResult {
    let code = path_param(path, "code")?;
    if !site_code_ok(&code) {
        return Err(bad("code", "网站代码应为 2 到 32 位小写字母、数字或 -"));
    }
    let p = portal(&state)?;
    let sites = open_sites(&p, &state).await?;
    let site = sites.iter().find(|s| s.code == code).ok_or_else(|| not_found(Some("code"), "网站不存在或已关闭"))?;
    let mut h = state.db.read().await?;
    let cols = store::columns(&mut h.conn(), site.id).await?;
    let list: Vec<Value> = reachable(&cols)
        .into_iter()
        .map(|c| {
            let link = (c.kind == "link" && !c.link_url.is_empty()).then(|| c.link_url.clone());
            json!({
                "id": c.id,
                "parent_id": c.parent_id,
                "name": c.name,
                "slug": c.slug,
                "kind": c.kind,
                "class": c.class,
                "link_url": link,
                "url": link.clone().unwrap_or_else(|| format!("/s/{}/col/{}/", site.code, c.slug)),
            })
        })
        .collect();
    Ok(json_ok(json!({ "site": site.code, "columns": list })))
}

/// Query parameters of `GET /api/v1/items` (the OpenAPI document lists the same).
pub const ITEM_PARAMS: [&str; 12] =
    ["site", "column", "art20", "subject", "org", "genre", "year", "class", "since", "validity", "limit", "cursor"];

async fn items(State(state): State<AppState>, RawQuery(query): RawQuery) -> ApiResult {
    let q = params(query, &ITEM_PARAMS)?;
    // Syntax first (400), then existence (404), so the answer never depends on the data
    // when the request itself is malformed.
    let site_code = q.matching("site", site_code_ok, "网站代码（2 到 32 位小写字母、数字或 -）")?;
    let column = q.int("column", 1, i64::MAX)?;
    let art20 = q.one_of("art20", &Art20::ALL.map(|a| a.as_str()))?;
    let subject = q.matching("subject", ref_code_ok, "主题分类代码（小写字母、数字或下划线）")?;
    let org = q.int("org", 1, i64::MAX)?;
    let genre = q.one_of("genre", &Genre::ALL.map(|g| g.as_str()))?;
    let year = q.int("year", 1000, 9999)?;
    let class = q.matching("class", ref_code_ok, "信息类别代码（小写字母、数字或下划线）")?;
    let since = match q.get("since") {
        None => None,
        Some(v) => Some(parse_day(v).ok_or_else(|| bad("since", "参数 since 应为 YYYY-MM-DD 格式的日期"))?),
    };
    let validity = q.one_of("validity", &Validity::ALL.map(|v| v.as_str()))?;
    let limit = q.limit()?;
    let cursor = match q.get("cursor") {
        None => None,
        Some(v) => Some(
            parse_item_cursor(v).ok_or_else(|| bad("cursor", "参数 cursor 无效，请使用上一页返回的 next_cursor"))?,
        ),
    };

    let p = portal(&state)?;
    let sites = open_sites(&p, &state).await?;
    let mut h = state.db.read().await?;
    let mut c = h.conn();
    let labels = p.labels(&mut c).await?;
    let site = match site_code {
        Some(code) => {
            Some(sites.iter().find(|s| s.code == code).ok_or_else(|| not_found(Some("site"), "网站不存在或已关闭"))?)
        }
        None => None,
    };
    if let Some(col) = column {
        let site_id = column_site(&mut c, col).await?;
        let ok = match site_id.and_then(|sid| sites.iter().find(|s| s.id == sid)) {
            Some(s) => reachable(&store::columns(&mut c, s.id).await?).iter().any(|k| k.id == col),
            None => false,
        };
        if !ok {
            return Err(not_found(Some("column"), "栏目不存在或未公开"));
        }
    }
    if let Some(o) = org
        && !labels.orgs.contains_key(&o)
    {
        return Err(not_found(Some("org"), "发布机构不存在"));
    }
    if let Some(s) = subject
        && !labels.subjects.iter().any(|(code, _)| code == s)
    {
        return Err(not_found(Some("subject"), "主题分类不存在"));
    }
    if let Some(k) = class
        && !labels.classes.contains_key(k)
    {
        return Err(not_found(Some("class"), "信息类别不存在"));
    }

    let f = ItemFilter {
        site: site.map(|s| s.id),
        column,
        art20,
        subject,
        org,
        genre,
        year,
        class,
        since: since.map(fmt_day),
        validity,
        cursor,
    };
    let open_ids: Vec<i64> = sites.iter().map(|s| s.id).collect();
    let mut rows = list_items(&mut c, &f, &open_ids, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|r| item_cursor(&r.published_on, r.item_id)) } else { None };
    let shown = shown_on(&mut c, &rows.iter().map(|r| r.item_id).collect::<Vec<_>>(), &open_ids).await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            let site = url_site(&sites, r.site_id, shown.get(&r.item_id));
            json!({
                "id": r.item_id,
                "title": r.title,
                "summary": r.summary,
                "published_on": r.published_on,
                "index_no": r.index_no,
                "doc_no": r.doc_no,
                "class": class_label(&labels, &r.class_code),
                "publisher": org_ref(&labels, r.publisher_org_id),
                "subject": subject_label(&labels, &r.subject_code),
                "genre": genre_label(&r.genre),
                "art20": art20_label(&r.art20),
                "validity": validity_label(&r.validity),
                "site": site,
                "url": item_url(&site, r.item_id),
            })
        })
        .collect();
    Ok(json_ok(json!({ "items": list, "next_cursor": next })))
}

/// The site an item's links point to: its home site when open, else the first open site
/// it is pushed to.
fn url_site(sites: &[SiteInfo], home: i64, shown: Option<&Vec<i64>>) -> String {
    let shown = shown.map(Vec::as_slice).unwrap_or(&[]);
    let pick = if shown.contains(&home) { Some(home) } else { shown.first().copied() };
    pick.and_then(|id| sites.iter().find(|s| s.id == id)).map(|s| s.code.clone()).unwrap_or_default()
}

async fn item(State(state): State<AppState>, path: Result<Path<String>, PathRejection>) -> ApiResult {
    let raw = path_param(path, "id")?;
    let id = int_in(&raw, "id", 1, i64::MAX)?;
    let p = portal(&state)?;
    let sites = open_sites(&p, &state).await?;
    let open_ids: Vec<i64> = sites.iter().map(|s| s.id).collect();
    let mut h = state.db.read().await?;
    let mut c = h.conn();
    let gone = || not_found(Some("id"), "该信息不存在或已撤下");
    let f = store::item(&mut c, id).await?.ok_or_else(gone)?;
    let shown = shown_on(&mut c, &[id], &open_ids).await?;
    let on = shown.get(&id).cloned().unwrap_or_default();
    if on.is_empty() {
        return Err(gone());
    }
    let labels = p.labels(&mut c).await?;
    let site = url_site(&sites, f.site_id, Some(&on));
    let codes: Vec<String> =
        on.iter().filter_map(|sid| sites.iter().find(|s| s.id == *sid)).map(|s| s.code.clone()).collect();
    let attachments: Vec<Value> = store::attachments(&mut c, id)
        .await?
        .iter()
        .map(|a| {
            json!({
                "name": a.name,
                "size": a.size,
                "mime": a.mime,
                "url": format!("/s/{site}/files/{}/{}", a.id, gongkai_kernel::web::middleware::urlencode(&a.name)),
            })
        })
        .collect();
    let (interpretations, interprets) = store::interpretation_links(&mut c, id).await?;
    let linked: Vec<i64> =
        interpretations.iter().chain(interprets.iter()).map(|r| r.item_id).chain(f.replaced_by_item_id).collect();
    let public = shown_on(&mut c, &linked, &open_ids).await?;
    let ids = |rows: &[store::Row]| -> Vec<i64> {
        rows.iter().map(|r| r.item_id).filter(|i| public.contains_key(i)).collect()
    };
    let keywords: Vec<&str> = f.keywords.split(',').map(str::trim).filter(|k| !k.is_empty()).collect();
    Ok(json_ok(json!({
        "id": f.item_id,
        "title": f.title,
        "subtitle": f.subtitle,
        "summary": f.summary,
        "body_html": f.body,
        "published_on": f.published_on,
        "written_on": f.written_on,
        "index_no": f.index_no,
        "doc_no": f.doc_no,
        "class": class_label(&labels, &f.class_code),
        "publisher": org_ref(&labels, f.publisher_org_id),
        "subject": subject_label(&labels, &f.subject_code),
        "genre": genre_label(&f.genre),
        "art20": art20_label(&f.art20),
        "validity": validity_label(&f.validity),
        "validity_on": f.validity_on,
        "replaced_by": f.replaced_by_item_id.filter(|i| public.contains_key(i)),
        "source": f.source,
        "author": f.author,
        "keywords": keywords,
        "attachments": attachments,
        "interpretations": ids(&interpretations),
        "interprets": ids(&interprets),
        "sites": codes,
        "site": site,
        "url": item_url(&site, f.item_id),
    })))
}

/// Query parameters of `GET /api/v1/catalogue`.
pub const CATALOGUE_PARAMS: [&str; 4] = ["domain", "org", "limit", "cursor"];

async fn catalogue(State(state): State<AppState>, RawQuery(query): RawQuery) -> ApiResult {
    let q = params(query, &CATALOGUE_PARAMS)?;
    let domains: Vec<&str> = DOMAINS.iter().map(|(c, _)| *c).collect();
    let domain = q.one_of("domain", &domains)?;
    let org = q.int("org", 1, i64::MAX)?;
    let limit = q.limit()?;
    let after = match q.get("cursor") {
        None => None,
        Some(v) => Some(
            parse_entry_cursor(v).ok_or_else(|| bad("cursor", "参数 cursor 无效，请使用上一页返回的 next_cursor"))?,
        ),
    };
    let p = portal(&state)?;
    let mut h = state.db.read().await?;
    let mut c = h.conn();
    let labels = p.labels(&mut c).await?;
    if let Some(o) = org
        && !labels.orgs.contains_key(&o)
    {
        return Err(not_found(Some("org"), "公开主体不存在"));
    }
    let mut rows = list_entries(&mut c, domain, org, after, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|e| entry_cursor(e.id)) } else { None };
    let list: Vec<Value> = rows
        .iter()
        .map(|e| {
            let channels: Vec<Value> = e
                .channels
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| label(s, Channel::parse(s).map(|c| c.label_zh()).unwrap_or(s)))
                .collect();
            json!({
                "id": e.id,
                "seq": e.seq,
                "domain": label(&e.domain_code, gongkai_cms::catalogue::domain_label(&e.domain_code).unwrap_or(&e.domain_code)),
                "org": org_ref(&labels, e.org_id),
                "level1": e.level1,
                "level2": e.level2,
                "content": e.content,
                "basis": e.basis,
                "time_limit": e.time_limit,
                "channels": channels,
                "audience": label(&e.audience, Audience::parse(&e.audience).map(|a| a.label_zh()).unwrap_or(&e.audience)),
                "mode": label(&e.mode, Mode::parse(&e.mode).map(|m| m.label_zh()).unwrap_or(&e.mode)),
                "item_count": e.n,
            })
        })
        .collect();
    Ok(json_ok(json!({ "entries": list, "next_cursor": next })))
}

// ---------------------------------------------------------------- SQL (public projection only)

enum Bind {
    S(String),
    I(i64),
}

/// SQL text with numbered placeholders and their values, built together.
#[derive(Default)]
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    fn s(&mut self, v: &str) -> String {
        self.binds.push(Bind::S(v.to_string()));
        format!("${}", self.binds.len())
    }
    fn i(&mut self, v: i64) -> String {
        self.binds.push(Bind::I(v));
        format!("${}", self.binds.len())
    }
}

macro_rules! fetch_all {
    ($c:expr, $ty:ty, $q:expr) => {
        with_conn!($c, x => {
            let mut query = sqlx::query_as::<_, $ty>(sqlx::AssertSqlSafe($q.text.clone()));
            for b in &$q.binds {
                query = match b { Bind::S(s) => query.bind(s.clone()), Bind::I(i) => query.bind(*i) };
            }
            query.fetch_all(&mut **x).await
        })
    };
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

struct ItemFilter<'a> {
    site: Option<i64>,
    column: Option<i64>,
    art20: Option<&'a str>,
    subject: Option<&'a str>,
    org: Option<i64>,
    genre: Option<&'a str>,
    year: Option<i64>,
    class: Option<&'a str>,
    since: Option<String>,
    validity: Option<&'a str>,
    cursor: Option<(String, i64)>,
}

#[derive(sqlx::FromRow)]
struct ListRow {
    item_id: i64,
    site_id: i64,
    title: String,
    summary: String,
    published_on: String,
    index_no: Option<String>,
    doc_no: String,
    class_code: String,
    publisher_org_id: Option<i64>,
    subject_code: Option<String>,
    genre: Option<String>,
    art20: Option<String>,
    validity: String,
}

/// Newest first by (published_on, item_id). The driving table is the one whose index
/// serves the filter: a column's placements, a site's rows, or the projection itself.
async fn list_items(
    c: &mut Conn<'_>,
    f: &ItemFilter<'_>,
    open_sites: &[i64],
    limit: i64,
) -> Result<Vec<ListRow>, ApiError> {
    if open_sites.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::default();
    let mut cond: Vec<String> = Vec::new();
    let (from, k) = if let Some(col) = f.column {
        cond.push(format!("k.column_id = {}", q.i(col)));
        ("pub_placements k JOIN pub_items p ON p.item_id = k.item_id", "k")
    } else if let Some(site) = f.site {
        cond.push(format!("k.site_id = {}", q.i(site)));
        ("pub_site_items k JOIN pub_items p ON p.item_id = k.item_id", "k")
    } else {
        ("pub_items p", "p")
    };
    match (f.column, f.site) {
        (Some(_), Some(site)) => cond.push(format!(
            "EXISTS (SELECT 1 FROM pub_site_items s WHERE s.item_id = p.item_id AND s.site_id = {})",
            q.i(site)
        )),
        (None, None) => cond.push(format!(
            "EXISTS (SELECT 1 FROM pub_site_items s WHERE s.item_id = p.item_id AND s.site_id IN ({}))",
            id_list(open_sites)
        )),
        // A listed column and an open site both belong to an open site already.
        _ => {}
    }
    if let Some(v) = f.art20 {
        cond.push(format!("p.art20 = {}", q.s(v)));
    }
    if let Some(v) = f.subject {
        cond.push(format!("p.subject_code = {}", q.s(v)));
    }
    if let Some(v) = f.org {
        cond.push(format!("p.publisher_org_id = {}", q.i(v)));
    }
    if let Some(v) = f.genre {
        cond.push(format!("p.genre = {}", q.s(v)));
    }
    if let Some(v) = f.year {
        cond.push(format!("p.year = {}", q.i(v)));
    }
    if let Some(v) = f.class {
        cond.push(format!("p.class_code = {}", q.s(v)));
    }
    if let Some(v) = &f.since {
        cond.push(format!("p.published_on >= {}", q.s(v)));
    }
    if let Some(v) = f.validity {
        cond.push(format!("p.validity = {}", q.s(v)));
    }
    if let Some((on, id)) = &f.cursor {
        let a = q.s(on);
        let b = q.i(*id);
        cond.push(format!("({k}.published_on < {a} OR ({k}.published_on = {a} AND {k}.item_id < {b}))"));
    }
    let limit = q.i(limit);
    q.text = format!(
        "SELECT p.item_id, p.site_id, p.title, p.summary, p.published_on, p.index_no, p.doc_no, p.class_code,
                p.publisher_org_id, p.subject_code, p.genre, p.art20, p.validity
           FROM {from} WHERE {} ORDER BY {k}.published_on DESC, {k}.item_id DESC LIMIT {limit}",
        cond.join(" AND ")
    );
    Ok(fetch_all!(c, ListRow, q)?)
}

/// The open sites each item is shown on: item id → site ids (ascending); items on no
/// open site are absent.
async fn shown_on(c: &mut Conn<'_>, items: &[i64], open_sites: &[i64]) -> Result<HashMap<i64, Vec<i64>>, ApiError> {
    let mut m: HashMap<i64, Vec<i64>> = HashMap::new();
    if items.is_empty() || open_sites.is_empty() {
        return Ok(m);
    }
    let unique: Vec<i64> = items.iter().copied().collect::<HashSet<_>>().into_iter().collect();
    let q = Sql {
        text: format!(
            "SELECT item_id, site_id FROM pub_site_items WHERE item_id IN ({}) AND site_id IN ({}) ORDER BY item_id, site_id",
            id_list(&unique),
            id_list(open_sites)
        ),
        binds: Vec::new(),
    };
    for (item, site) in fetch_all!(c, (i64, i64), q)? {
        m.entry(item).or_default().push(site);
    }
    Ok(m)
}

async fn column_site(c: &mut Conn<'_>, column_id: i64) -> Result<Option<i64>, ApiError> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("SELECT site_id FROM columns WHERE id = $1").bind(column_id).fetch_optional(&mut **x).await
    })?)
}

async fn list_entries(
    c: &mut Conn<'_>,
    domain: Option<&str>,
    org: Option<i64>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<store::Entry>, ApiError> {
    let mut q = Sql::default();
    let mut cond = vec!["1 = 1".to_string()];
    if let Some(d) = domain {
        cond.push(format!("e.domain_code = {}", q.s(d)));
    }
    if let Some(o) = org {
        cond.push(format!("e.org_id = {}", q.i(o)));
    }
    if let Some(a) = after {
        cond.push(format!("e.id > {}", q.i(a)));
    }
    let limit = q.i(limit);
    q.text = format!(
        "SELECT e.id, e.org_id, e.domain_code, e.seq, e.level1, e.level2, e.content, e.basis, e.time_limit, e.channels,
                e.audience, e.mode,
                (SELECT COUNT(*) FROM item_catalogue ic JOIN pub_items p ON p.item_id = ic.item_id WHERE ic.entry_id = e.id) AS n
           FROM catalogue_entries e WHERE {} ORDER BY e.id LIMIT {limit}",
        cond.join(" AND ")
    );
    Ok(fetch_all!(c, store::Entry, q)?)
}

// ---------------------------------------------------------------- search

pub const SEARCH_PARAMS: [&str; 9] = ["q", "site", "column", "year", "validity", "class", "sort", "page", "limit"];

fn search_service(state: &AppState) -> Result<gongkai_search::Search, ApiError> {
    state
        .ext::<gongkai_search::Search>()
        .cloned()
        .ok_or_else(|| gongkai_kernel::Error::internal("search not attached").into())
}

/// Full-text search over the group or one site. The words are never refused (they are
/// cleaned); the filters are checked like the list's.
async fn search(State(state): State<AppState>, RawQuery(query): RawQuery) -> ApiResult {
    let q = params(query, &SEARCH_PARAMS)?;
    let words = q.get("q").ok_or_else(|| bad("q", "请提供检索词 q"))?.to_string();
    if words.chars().count() > 1000 {
        return Err(bad("q", "检索词 q 不能超过 1000 个字符"));
    }
    let site_code = q.matching("site", site_code_ok, "网站代码（2 到 32 位小写字母、数字或 -）")?;
    let column = q.int("column", 1, i64::MAX)?;
    let year = q.int("year", 1000, 9999)?;
    let validity = q.one_of("validity", &Validity::ALL.map(|v| v.as_str()))?;
    let class = q.matching("class", ref_code_ok, "信息类别代码（小写字母、数字或下划线）")?;
    let sort = q.one_of("sort", &["relevance", "date"])?;
    let page = q.int("page", 1, 500)?.unwrap_or(1);
    let limit = q.int("limit", 1, 50)?.unwrap_or(10);
    let p = portal(&state)?;
    let s = search_service(&state)?;
    let sites = open_sites(&p, &state).await?;
    let scope: Vec<i64> = match site_code {
        Some(code) => {
            vec![sites.iter().find(|s| s.code == code).ok_or_else(|| not_found(Some("site"), "网站不存在或已关闭"))?.id]
        }
        None => sites.iter().map(|s| s.id).collect(),
    };
    let req = gongkai_search::Request {
        q: words,
        sites: scope,
        column,
        year,
        validity: validity.map(str::to_string),
        class: class.map(str::to_string),
        sort: if sort == Some("date") { gongkai_search::Sort::Date } else { gongkai_search::Sort::Relevance },
        offset: ((page - 1) * limit) as usize,
        limit: limit as usize,
        ..Default::default()
    };
    let r = s.search(&req)?;
    if page == 1 && !r.query.is_empty() {
        let site_id = if site_code.is_some() { req.sites.first().copied().unwrap_or(0) } else { 0 };
        s.log_term(site_id, &r.query);
    }
    let items: Vec<Value> = r
        .hits
        .iter()
        .map(|h| {
            let code = sites.iter().find(|x| x.id == h.site_id).map(|x| x.code.clone()).unwrap_or_default();
            json!({
                "id": h.item_id,
                "title": h.title,
                "title_html": h.title_html,
                "snippet_html": h.snippet_html,
                "site": code,
                "column": h.column_id,
                "published_on": h.published_on,
                "index_no": if h.index_no.is_empty() { Value::Null } else { json!(h.index_no) },
                "doc_no": if h.doc_no.is_empty() { Value::Null } else { json!(h.doc_no) },
                "validity": h.validity,
                "url": item_url(&code, h.item_id),
            })
        })
        .collect();
    Ok(json_ok(json!({
        "query": r.query,
        "total": r.total,
        "page": page,
        "limit": limit,
        "notice": r.notice,
        "did_you_mean": r.did_you_mean,
        "items": items,
    })))
}

/// Title completions for what has been typed (the search box's suggestions).
async fn suggest(State(state): State<AppState>, RawQuery(query): RawQuery) -> ApiResult {
    let q = params(query, &["q"])?;
    let typed = q.get("q").ok_or_else(|| bad("q", "请提供已输入的文字 q"))?;
    if typed.chars().count() > 100 {
        return Err(bad("q", "参数 q 不能超过 100 个字符"));
    }
    let s = search_service(&state)?;
    Ok(json_ok(json!({ "suggestions": s.suggest(typed, 8)? })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_every_well_formed_one_decodes() {
        for (on, id) in [("2026-11-13", 312), ("0001-01-01", 1), ("9999-12-31", i64::MAX), ("1987-02-28", 7)] {
            let c = item_cursor(on, id);
            assert_eq!(c.len(), ITEM_CURSOR_LEN, "{c}");
            assert_eq!(parse_item_cursor(&c), Some((on.to_string(), id)));
        }
        for s in ["________________", "AAAAAAAAAAAAAAAA", "zzzzzzzzzzzzzzzz", "-_-_-_-_-_-_-_-_"] {
            let (day, _) = parse_item_cursor(s).expect(s);
            assert!(parse_day(&day).is_some(), "{s} → {day}");
        }
        for s in ["", "AAAA", "AAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAA。", "AAAAAAAAAAAAAAAAA"] {
            assert_eq!(parse_item_cursor(s), None, "{s}");
        }
        for id in [1, 42, i64::MAX] {
            let c = entry_cursor(id);
            assert_eq!(c.len(), ENTRY_CURSOR_LEN);
            assert_eq!(parse_entry_cursor(&c), Some(id));
        }
        assert!(parse_entry_cursor("___________").is_some());
        assert_eq!(parse_entry_cursor("AAAA"), None);
    }

    #[test]
    fn parameters_are_strict() {
        assert_eq!(int_in("20", "limit", 1, 100).ok(), Some(20));
        for v in ["", "0", "101", "+5", " 5", "5.0", "-1", "99999999999999999999", "１２"] {
            assert!(int_in(v, "limit", 1, 100).is_err(), "{v}");
        }
        assert!(int_in("9223372036854775807", "id", 1, i64::MAX).is_ok());
        assert!(parse_day("2024-02-29").is_some());
        for v in ["2023-02-29", "2024-2-01", "2024-02-01 ", "２０２４-02-01", "20240201", ""] {
            assert!(parse_day(v).is_none(), "{v}");
        }
        assert!(site_code_ok("www") && site_code_ok("jyj-2"));
        for v in ["w", "-ab", "WWW", "a_b", "网站", ""] {
            assert!(!site_code_ok(v), "{v}");
        }
        let q = params(Some("limit=1&limit=2".into()), &["limit"]);
        assert!(q.is_err());
        let q = params(Some("x=1&limit=3&_=9".into()), &["limit"]).ok().unwrap();
        assert_eq!(q.limit().ok(), Some(3));
    }
}
