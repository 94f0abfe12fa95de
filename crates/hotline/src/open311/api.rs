//! Open311 GeoReport v2 under `/open311/v2/`: discovery, services, service definitions,
//! service requests (list, one, create), tokens, and mySociety's `servicerequestupdates`.
//! Every endpoint answers in JSON or XML by its suffix. Query strings, paths and bodies
//! are parsed here, not by axum's extractors, so every failure is the spec's error array
//! (400 bad input, 403 key, 404 unknown service, request, token or jurisdiction) and no
//! input causes a 500.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::Value;

use gongkai_kernel::clock;
use gongkai_kernel::error::Error;
use gongkai_kernel::web::{AppState, ClientIp};

use super::attrs;
use super::clients;
use super::query::{self, RequestFilter, RequestRow};
use super::wire::{DayEnd, Fail, Format, V, error, iso, parse_datetime, respond};
use crate::model::{ClientKind, Kind, OrderState, Urgency};
use crate::rules;
use crate::service::Intake;

/// The settings key of the jurisdiction id clients may pass.
pub const JURISDICTION_KEY: &str = "hotline.jurisdiction_id";
pub const DEFAULT_JURISDICTION: &str = "qinghe";
/// The longest window `GET requests` and `servicerequestupdates` cover, and the default one.
pub const MAX_WINDOW_DAYS: i64 = 90;
/// At most this many requests (or updates) per answer.
pub const MAX_RESULTS: i64 = 1000;
/// When this document (the API's shape) last changed, for discovery's `changeset`.
const CHANGESET: &str = "2026-11-01T00:00:00+08:00";
const SPEC: &str = "http://wiki.open311.org/GeoReport_v2";
/// Who answers for a request not yet with an organisation.
const CENTRE: &str = "12345 政务服务便民热线";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", any(top))
        .route("/open311/v2/services/{file}", any(definition))
        .route("/open311/v2/requests/{file}", any(one_request))
        .route("/open311/v2/tokens/{file}", any(token))
        .route("/open311", any(unknown))
        .route("/open311/{*rest}", any(unknown))
        .layer(axum::middleware::map_response(cors))
}

/// Reads are open data and a POST authenticates by its key, never by a cookie, so any
/// origin may call (the kernel exempts these paths from its CSRF check for the same reason).
async fn cors(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    r
}

type Answer = std::result::Result<Response, Fail>;

fn unwrap(a: Answer) -> Response {
    a.unwrap_or_else(IntoResponse::into_response)
}

/// A service failure as the spec's error array.
fn fail(f: Format, e: Error) -> Fail {
    match e {
        Error::Invalid(fe) => {
            let d: Vec<String> = fe.0.iter().map(|(k, m)| format!("{}: {m}", param_of(k))).collect();
            Fail::many(StatusCode::BAD_REQUEST, f, d)
        }
        Error::NotFound => Fail::one(StatusCode::NOT_FOUND, f, "未找到"),
        Error::Forbidden(m) => Fail::one(StatusCode::FORBIDDEN, f, m),
        Error::Conflict(m) => Fail::one(StatusCode::BAD_REQUEST, f, m),
        Error::TooMany(m) => Fail::one(StatusCode::TOO_MANY_REQUESTS, f, m),
        Error::Unauthenticated => Fail::one(StatusCode::FORBIDDEN, f, "缺少 api_key"),
        Error::Db(e) => {
            tracing::error!(error = %e, "open311: database error");
            Fail::one(StatusCode::INTERNAL_SERVER_ERROR, f, "服务器暂时无法处理请求，请稍后重试")
        }
        Error::Internal(m) => {
            tracing::error!(error = %m, "open311: internal error");
            Fail::one(StatusCode::INTERNAL_SERVER_ERROR, f, "服务器暂时无法处理请求，请稍后重试")
        }
    }
}

/// The Open311 parameter an intake field came from.
fn param_of(field: &str) -> &str {
    match field {
        "content" | "title" => "description",
        "caller_phone" => "phone",
        "caller_email" => "email",
        "caller_name" => "first_name",
        "address" => "address_string",
        "place_id" => "address_id",
        "category" => "service_code",
        other => other,
    }
}

/// The query's pairs; a query that cannot be decoded is a 400.
fn query_pairs(f: Format, req: &Parts) -> std::result::Result<Vec<(String, String)>, Fail> {
    let q = Query::<Vec<(String, String)>>::try_from_uri(&req.uri)
        .map_err(|_| Fail::one(StatusCode::BAD_REQUEST, f, "查询参数无法解析，请检查编码"))?;
    no_nul(f, q.0)
}

/// PostgreSQL text cannot hold U+0000: refused here as bad input rather than failing in
/// the database.
fn no_nul(f: Format, pairs: Vec<(String, String)>) -> std::result::Result<Vec<(String, String)>, Fail> {
    match pairs.iter().find(|(k, v)| k.contains('\0') || v.contains('\0')) {
        Some((k, _)) => Err(Fail::one(StatusCode::BAD_REQUEST, f, format!("{k}: 不能包含空字符（U+0000）"))),
        None => Ok(pairs),
    }
}

/// The first non-empty value of `name` (the spec: an empty optional parameter is absent).
fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.trim())
}

async fn check_jurisdiction(state: &AppState, f: Format, given: Option<&str>) -> std::result::Result<(), Fail> {
    let Some(given) = given else { return Ok(()) };
    let ours = {
        let mut h = state.db.read().await.map_err(|e| fail(f, e))?;
        gongkai_kernel::calendar::store::get_setting(&mut h.conn(), JURISDICTION_KEY).await.map_err(|e| fail(f, e))?
    };
    let ours = ours.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| DEFAULT_JURISDICTION.to_string());
    if given == ours.trim() {
        Ok(())
    } else {
        Err(Fail::one(StatusCode::NOT_FOUND, f, format!("jurisdiction_id 不存在：{given}（本接口为 {ours}）")))
    }
}

fn not_allowed(f: Format, allow: &'static str) -> Response {
    let mut r = error(StatusCode::METHOD_NOT_ALLOWED, f, format!("该地址只支持 {allow}"));
    r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

fn preflight(allow: &'static str) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(allow));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Content-Type, Idempotency-Key"));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    r
}

fn is_get(m: &Method) -> bool {
    m == Method::GET || m == Method::HEAD
}

async fn unknown(req: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        Format::guess(req.uri().path()),
        "接口不存在。可用接口见 /open311/v2/discovery.json 或 discovery.xml",
    )
}

/// The file name of a `{file}` path segment with its format, or the spec's 404.
fn file_of(
    path: std::result::Result<Path<String>, PathRejection>,
    req: &Parts,
) -> std::result::Result<(String, Format), Fail> {
    let guess = Format::guess(req.uri.path());
    let Ok(Path(file)) = path else {
        return Err(Fail::one(StatusCode::BAD_REQUEST, guess, "地址无法解析，请检查编码"));
    };
    match Format::split(&file) {
        Some((stem, f)) if !stem.contains('\0') => Ok((stem.to_string(), f)),
        Some((_, f)) => Err(Fail::one(StatusCode::NOT_FOUND, f, "地址不存在")),
        None => Err(Fail::one(StatusCode::NOT_FOUND, guess, "地址应以 .json 或 .xml 结尾")),
    }
}

/// The start every `…/{id}.fmt` endpoint shares: the id and format from the path, a
/// preflight or another method answered, the query read and the jurisdiction checked.
async fn one_of(
    state: &AppState,
    path: std::result::Result<Path<String>, PathRejection>,
    req: Request,
) -> std::result::Result<(String, Format), Response> {
    let (req, _) = req.into_parts();
    let (id, f) = file_of(path, &req).map_err(IntoResponse::into_response)?;
    if req.method == Method::OPTIONS {
        return Err(preflight("GET"));
    }
    if !is_get(&req.method) {
        return Err(not_allowed(f, "GET"));
    }
    let q = query_pairs(f, &req).map_err(IntoResponse::into_response)?;
    check_jurisdiction(state, f, param(&q, "jurisdiction_id")).await.map_err(IntoResponse::into_response)?;
    Ok((id, f))
}

/// `discovery`, `services`, `requests` and `servicerequestupdates`.
async fn top(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    path: std::result::Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    // Parts, not the request, are held across awaits: a body is not Sync.
    let (parts, body) = req.into_parts();
    let (stem, f) = match file_of(path, &parts) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let m = parts.method.clone();
    let allow = if stem == "requests" { "GET, POST" } else { "GET" };
    let known = matches!(stem.as_str(), "discovery" | "services" | "requests" | "servicerequestupdates");
    if !known {
        return error(StatusCode::NOT_FOUND, f, format!("接口不存在：{stem}"));
    }
    if m == Method::OPTIONS {
        return preflight(allow);
    }
    match (stem.as_str(), is_get(&m), m == Method::POST) {
        ("discovery", true, _) => unwrap(discovery(&state, f, &parts).await),
        ("services", true, _) => unwrap(services(&state, f, &parts).await),
        ("requests", true, _) => unwrap(list_requests(&state, f, &parts).await),
        ("requests", _, true) => unwrap(create(&state, f, &ip, Request::from_parts(parts, body)).await),
        ("servicerequestupdates", true, _) => unwrap(updates(&state, f, &parts).await),
        _ => not_allowed(f, allow),
    }
}

async fn discovery(state: &AppState, f: Format, req: &Parts) -> Answer {
    let q = query_pairs(f, req)?;
    check_jurisdiction(state, f, param(&q, "jurisdiction_id")).await?;
    let host = req.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let scheme = req
        .headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    let url = format!("{scheme}://{host}/open311/v2");
    let v = V::Obj(vec![
        ("changeset", V::s(CHANGESET)),
        ("contact", V::s(format!("{CENTRE}（电话 12345）"))),
        ("key_service", V::s("接口密钥由区 12345 热线中心发放（控制台“热线接口客户端”），请联系热线中心申请")),
        (
            "endpoints",
            V::List(vec![V::Obj(vec![
                ("specification", V::s(SPEC)),
                ("url", V::s(url)),
                ("changeset", V::s(CHANGESET)),
                ("type", V::s("production")),
                ("formats", V::List(vec![V::s("text/xml"), V::s("application/json")])),
            ])]),
        ),
    ]);
    Ok(respond(StatusCode::OK, f, "discovery", "", &v))
}

fn service_v(s: &query::ServiceRow) -> V {
    V::Obj(vec![
        ("service_code", V::s(s.code.clone())),
        ("service_name", V::s(s.name.clone())),
        ("description", V::s(s.path.clone())),
        ("metadata", V::Bool(!attrs::definitions(&s.attributes).is_empty())),
        ("type", V::s("realtime")),
        ("keywords", V::opt(&s.keywords)),
        ("group", V::opt(s.group_name.as_deref().unwrap_or(""))),
    ])
}

async fn services(state: &AppState, f: Format, req: &Parts) -> Answer {
    let q = query_pairs(f, req)?;
    check_jurisdiction(state, f, param(&q, "jurisdiction_id")).await?;
    let rows = {
        let mut h = state.db.read().await.map_err(|e| fail(f, e))?;
        query::services(&mut h.conn()).await.map_err(|e| fail(f, e))?
    };
    let v = V::List(rows.iter().map(service_v).collect());
    Ok(respond(StatusCode::OK, f, "services", "service", &v))
}

async fn find_service(state: &AppState, f: Format, code: &str) -> std::result::Result<query::ServiceRow, Fail> {
    let row = {
        let mut h = state.db.read().await.map_err(|e| fail(f, e))?;
        query::service(&mut h.conn(), code).await.map_err(|e| fail(f, e))?
    };
    row.ok_or_else(|| Fail::one(StatusCode::NOT_FOUND, f, format!("service_code 不存在：{code}")))
}

/// `services/{service_code}`: the service definition.
async fn definition(
    State(state): State<AppState>,
    path: std::result::Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let (code, f) = match one_of(&state, path, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let run = async {
        let s = find_service(&state, f, &code).await?;
        let v = V::Obj(vec![
            ("service_code", V::s(s.code.clone())),
            ("attributes", attrs::to_v(&attrs::definitions(&s.attributes))),
        ]);
        Ok(respond(StatusCode::OK, f, "service_definition", "", &v))
    };
    unwrap(run.await)
}

fn request_v(r: &RequestRow) -> V {
    let state = OrderState::parse(&r.state).unwrap_or(OrderState::Received);
    let updated = if state.is_open() { r.updated_at } else { r.closed_at.unwrap_or(r.updated_at) };
    V::Obj(vec![
        ("service_request_id", V::s(r.no.clone())),
        ("status", V::s(state.open311())),
        ("status_notes", V::opt(r.status_notes.as_deref().unwrap_or(""))),
        ("service_name", V::s(r.service_name.clone())),
        ("service_code", V::s(r.service_code.clone())),
        ("description", V::s(r.content.clone())),
        ("agency_responsible", V::s(r.agency.clone().unwrap_or_else(|| CENTRE.to_string()))),
        ("service_notice", V::Null),
        ("requested_datetime", V::s(iso(r.received_at))),
        ("updated_datetime", V::s(iso(updated))),
        ("expected_datetime", V::time(r.expected)),
        ("address", V::opt(&r.address)),
        ("address_id", r.place_id.map(|p| V::s(p.to_string())).unwrap_or(V::Null)),
        ("zipcode", V::Null),
        ("lat", r.lat.map(V::Num).unwrap_or(V::Null)),
        ("long", r.lng.map(V::Num).unwrap_or(V::Null)),
        ("media_url", V::opt(&r.media_url)),
    ])
}

/// The window of `start_date`/`end_date`: by default the last 90 days; one end alone
/// spans 90 days from it; more than 90 days, an end before the start or an impossible
/// date is a 400.
fn window(f: Format, q: &[(String, String)], now: i64) -> std::result::Result<(i64, i64), Fail> {
    let span = MAX_WINDOW_DAYS * 86_400_000;
    let mut errs = Vec::new();
    let mut read = |name: &str, end: DayEnd| match param(q, name) {
        None => None,
        Some(s) => {
            let v = parse_datetime(s, end);
            if v.is_none() {
                errs.push(format!("{name}: 不是有效的 ISO 8601 日期时间：{s}（如 2026-11-01T00:00:00+08:00）"));
            }
            v
        }
    };
    let start = read("start_date", DayEnd::Start);
    let end = read("end_date", DayEnd::End);
    if !errs.is_empty() {
        return Err(Fail::many(StatusCode::BAD_REQUEST, f, errs));
    }
    let (from, to) = match (start, end) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, a + span),
        (None, Some(b)) => (b - span, b),
        (None, None) => (now - span, now),
    };
    if to < from {
        return Err(Fail::one(StatusCode::BAD_REQUEST, f, "end_date 不能早于 start_date"));
    }
    if to - from > span {
        return Err(Fail::one(
            StatusCode::BAD_REQUEST,
            f,
            format!("start_date 与 end_date 相隔不能超过 {MAX_WINDOW_DAYS} 天"),
        ));
    }
    Ok((from, to))
}

fn comma_list(s: Option<&str>) -> Vec<String> {
    s.map(|s| s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()).unwrap_or_default()
}

async fn list_requests(state: &AppState, f: Format, req: &Parts) -> Answer {
    let q = query_pairs(f, req)?;
    check_jurisdiction(state, f, param(&q, "jurisdiction_id")).await?;
    let mut filter = RequestFilter { limit: MAX_RESULTS, ..Default::default() };
    let numbers = comma_list(param(&q, "service_request_id"));
    if !numbers.is_empty() {
        if numbers.len() as i64 > MAX_RESULTS {
            return Err(Fail::one(StatusCode::BAD_REQUEST, f, format!("service_request_id 一次最多 {MAX_RESULTS} 个")));
        }
        filter.numbers = Some(numbers);
    } else {
        filter.codes = comma_list(param(&q, "service_code"));
        if filter.codes.len() > 100 {
            return Err(Fail::one(StatusCode::BAD_REQUEST, f, "service_code 一次最多 100 个"));
        }
        let statuses = comma_list(param(&q, "status"));
        if let Some(bad) = statuses.iter().find(|s| *s != "open" && *s != "closed") {
            return Err(Fail::one(StatusCode::BAD_REQUEST, f, format!("status 只能是 open 或 closed：{bad}")));
        }
        let open = statuses.iter().any(|s| s == "open");
        let closed = statuses.iter().any(|s| s == "closed");
        filter.open = if open == closed { None } else { Some(open) };
        (filter.from_ms, filter.to_ms) = window(f, &q, clock::now_ms())?;
    }
    let rows = {
        let mut h = state.db.read().await.map_err(|e| fail(f, e))?;
        query::requests(&mut h.conn(), &filter).await.map_err(|e| fail(f, e))?
    };
    let v = V::List(rows.iter().map(request_v).collect());
    Ok(respond(StatusCode::OK, f, "service_requests", "request", &v))
}

/// `requests/{service_request_id}`.
async fn one_request(
    State(state): State<AppState>,
    path: std::result::Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let (no, f) = match one_of(&state, path, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let run = async {
        let filter = RequestFilter { numbers: Some(vec![no.clone()]), limit: 1, ..Default::default() };
        let rows = {
            let mut h = state.db.read().await.map_err(|e| fail(f, e))?;
            query::requests(&mut h.conn(), &filter).await.map_err(|e| fail(f, e))?
        };
        if rows.is_empty() {
            return Err(Fail::one(StatusCode::NOT_FOUND, f, format!("service_request_id 不存在：{no}")));
        }
        let v = V::List(rows.iter().map(request_v).collect());
        Ok(respond(StatusCode::OK, f, "service_requests", "request", &v))
    };
    unwrap(run.await)
}

/// `tokens/{token}`: the request a token stands for.
async fn token(
    State(state): State<AppState>,
    path: std::result::Result<Path<String>, PathRejection>,
    req: Request,
) -> Response {
    let (tok, f) = match one_of(&state, path, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let run = async {
        let no = {
            let mut h = state.db.read().await.map_err(|e| fail(f, e))?;
            query::number_of_token(&mut h.conn(), &tok).await.map_err(|e| fail(f, e))?
        };
        let Some(no) = no else {
            return Err(Fail::one(StatusCode::NOT_FOUND, f, format!("token 不存在：{tok}")));
        };
        let v = V::List(vec![V::Obj(vec![("service_request_id", V::s(no)), ("token", V::s(tok.clone()))])]);
        Ok(respond(StatusCode::OK, f, "service_requests", "request", &v))
    };
    unwrap(run.await)
}

/// mySociety's `servicerequestupdates`: public timeline entries in the window.
async fn updates(state: &AppState, f: Format, req: &Parts) -> Answer {
    let q = query_pairs(f, req)?;
    check_jurisdiction(state, f, param(&q, "jurisdiction_id")).await?;
    let (from, to) = window(f, &q, clock::now_ms())?;
    let rows = {
        let mut h = state.db.read().await.map_err(|e| fail(f, e))?;
        query::updates(&mut h.conn(), from, to, MAX_RESULTS).await.map_err(|e| fail(f, e))?
    };
    let v = V::List(
        rows.iter()
            .map(|u| {
                let status = OrderState::parse(&u.state).unwrap_or(OrderState::Received).open311();
                let text =
                    if u.text.is_empty() { crate::model::event_label(&u.kind).to_string() } else { u.text.clone() };
                V::Obj(vec![
                    ("update_id", V::s(u.id.to_string())),
                    ("service_request_id", V::s(u.no.clone())),
                    ("status", V::s(status)),
                    ("updated_datetime", V::s(iso(u.at))),
                    ("description", V::s(text)),
                    ("media_url", V::Null),
                ])
            })
            .collect(),
    );
    Ok(respond(StatusCode::OK, f, "service_request_updates", "request_update", &v))
}

// --- POST requests ----------------------------------------------------------------------

/// A header idempotency key: printable ASCII, at most 100 characters.
pub fn idempotency_key(headers: &HeaderMap) -> std::result::Result<Option<String>, String> {
    let Some(v) = headers.get("idempotency-key") else { return Ok(None) };
    let k = v.to_str().map_err(|_| "Idempotency-Key 只能包含可见的 ASCII 字符".to_string())?.trim();
    if k.is_empty() {
        return Ok(None);
    }
    if k.len() > 100 || !k.chars().all(|c| c.is_ascii_graphic()) {
        return Err("Idempotency-Key 应为 1 到 100 个可见 ASCII 字符".into());
    }
    Ok(Some(k.to_string()))
}

/// A title for the worklists: the service, then the start of the description.
pub fn title_of(service: &str, description: &str) -> String {
    let flat: String = description.split_whitespace().collect::<Vec<_>>().join(" ");
    let room = rules::MAX_TITLE.saturating_sub(service.chars().count() + 1).min(30);
    let mut t = if flat.is_empty() || room == 0 {
        service.to_string()
    } else if flat.chars().count() <= room {
        format!("{service}：{flat}")
    } else {
        format!("{service}：{}…", flat.chars().take(room.saturating_sub(1)).collect::<String>())
    };
    if t.chars().count() > rules::MAX_TITLE {
        t = t.chars().take(rules::MAX_TITLE).collect();
    }
    t
}

/// The caller's name from Open311's two fields: family name first when it is Chinese.
fn caller_name(first: &str, last: &str) -> String {
    let (first, last) = (first.trim(), last.trim());
    if first.is_ascii() && last.is_ascii() {
        format!("{first} {last}").trim().to_string()
    } else {
        format!("{last}{first}")
    }
}

async fn create(state: &AppState, f: Format, ip: &str, req: Request) -> Answer {
    let headers = req.headers().clone();
    let (parts, body) = req.into_parts();
    let q = query_pairs(f, &parts)?;
    let req = Request::from_parts(parts, body);
    let form = match axum::Form::<Vec<(String, String)>>::from_request(req, &()).await {
        Ok(axum::Form(pairs)) => no_nul(f, pairs)?,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(Fail::one(StatusCode::PAYLOAD_TOO_LARGE, f, "提交的内容过大"));
        }
        Err(_) => {
            return Err(Fail::one(
                StatusCode::BAD_REQUEST,
                f,
                "请以 application/x-www-form-urlencoded 格式提交（UTF-8 编码）",
            ));
        }
    };
    // The key and the jurisdiction may also come in the query string (some clients put them there).
    let get = |name: &str| param(&form, name).or_else(|| param(&q, name));
    check_jurisdiction(state, f, get("jurisdiction_id")).await?;
    let Some(key) = get("api_key") else {
        return Err(Fail::one(StatusCode::FORBIDDEN, f, "缺少 api_key"));
    };
    let client = clients::authenticate(&state.db, key, ClientKind::Open311).await.map_err(|e| fail(f, e))?;
    let Some(client) = client else {
        return Err(Fail::one(StatusCode::FORBIDDEN, f, "api_key 无效或已停用"));
    };
    let Some(code) = param(&form, "service_code") else {
        return Err(Fail::one(StatusCode::BAD_REQUEST, f, "service_code: 必须填写"));
    };
    let svc = find_service(state, f, code).await?;

    let mut errs: Vec<String> = Vec::new();
    let idem = idempotency_key(&headers).unwrap_or_else(|m| {
        errs.push(m);
        None
    });
    let number = |name: &str, errs: &mut Vec<String>| {
        param(&form, name).and_then(|s| match s.parse::<f64>() {
            Ok(n) if n.is_finite() => Some(n),
            _ => {
                errs.push(format!("{name}: 应为 WGS84 十进制度数，如 39.9042"));
                None
            }
        })
    };
    let lat = number("lat", &mut errs);
    let lng = number("long", &mut errs);
    if param(&form, "lat").is_some() != param(&form, "long").is_some() {
        errs.push("lat, long: 经纬度需同时提供".into());
    }
    let address = param(&form, "address_string").unwrap_or("");
    let place_id = param(&form, "address_id").and_then(|s| match s.parse::<i64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            errs.push(format!("address_id: 不存在：{s}"));
            None
        }
    });
    let has_location = (lat.is_some() && lng.is_some()) || !address.is_empty() || place_id.is_some();
    let malformed_location = ["lat", "long", "address_id"].iter().any(|n| param(&form, n).is_some());
    if !has_location && !malformed_location {
        errs.push("需要提供位置：lat 和 long、address_string 或 address_id 之一".into());
    }
    let description = param(&form, "description").unwrap_or("");
    if description.chars().count() > rules::MAX_CONTENT {
        errs.push(format!("description: 不能超过 {} 个字符", rules::MAX_CONTENT));
    }
    for name in ["description", "address_string", "first_name", "last_name"] {
        if param(&form, name).is_some_and(rules::has_markup) {
            errs.push(format!("{name}: 不能包含 HTML 标记"));
        }
    }
    let values = match attrs::collect(&form) {
        Err(mut e) => {
            errs.append(&mut e);
            Value::Null
        }
        Ok(given) => match attrs::validate(&attrs::definitions(&svc.attributes), &given) {
            Ok(v) => v,
            Err(mut e) => {
                errs.append(&mut e);
                Value::Null
            }
        },
    };
    if !errs.is_empty() {
        return Err(Fail::many(StatusCode::BAD_REQUEST, f, errs));
    }

    // A `kind` attribute, when the service defines one, says which 诉求类型 it is.
    let kind =
        values.get("kind").and_then(Value::as_str).and_then(Kind::parse).unwrap_or(Kind::Help).as_str().to_string();
    let name = caller_name(param(&form, "first_name").unwrap_or(""), param(&form, "last_name").unwrap_or(""));
    let phone = param(&form, "phone").unwrap_or("").to_string();
    let email = param(&form, "email").unwrap_or("").to_string();
    let intake = Intake {
        idem_key: idem.map(|k| format!("c{}:{k}", client.id)),
        channel: client.channel.clone(),
        anonymous: name.is_empty() && phone.is_empty() && email.is_empty(),
        caller_name: name,
        caller_phone: phone,
        caller_email: email,
        kind,
        category: svc.code.clone(),
        urgency: Urgency::Normal.as_str().into(),
        title: title_of(&svc.name, description),
        content: if description.is_empty() { svc.name.clone() } else { description.to_string() },
        address: address.to_string(),
        place_id,
        lat,
        lng,
        attributes: values,
        media_url: param(&form, "media_url").unwrap_or("").to_string(),
        location_required: true,
        with_token: true,
        ..Default::default()
    };
    let who = crate::batch::Submitter::Client(client.clone(), ip.to_string());
    let done = crate::batch::intake(state, who, intake).await.map_err(|e| fail(f, e))?;
    let o = &done.order;
    let mut fields = vec![
        ("service_request_id", V::s(o.no.clone())),
        ("service_notice", V::s(format!("工单已受理，编号 {}。可凭编号查询办理进度。", o.no))),
    ];
    // Echoed when given (it is the client's own account; nothing of it is stored).
    if let Some(a) = param(&form, "account_id") {
        fields.push(("account_id", V::s(a)));
    }
    let v = V::List(vec![V::Obj(fields)]);
    let status = if done.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(respond(status, f, "service_requests", "request", &v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_fit_the_worklist() {
        assert_eq!(title_of("路灯损坏", ""), "路灯损坏");
        assert_eq!(title_of("路灯损坏", "东街  路口\n不亮"), "路灯损坏：东街 路口 不亮");
        let t = title_of("路灯损坏", &"长".repeat(200));
        assert_eq!(t.chars().count(), "路灯损坏：".chars().count() + 30);
        assert!(t.ends_with('…'));
        assert!(title_of(&"名".repeat(150), "x").chars().count() <= rules::MAX_TITLE);
    }

    #[test]
    fn names_keep_their_order() {
        assert_eq!(caller_name("三", "张"), "张三");
        assert_eq!(caller_name("John", "Smith"), "John Smith");
        assert_eq!(caller_name("", ""), "");
    }
}
