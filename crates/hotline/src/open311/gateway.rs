//! The inbound channel gateway, `/api/hotline/v1/orders`: the WeChat, Weibo, app and
//! e-mail gateways file work orders with their own key (`Authorization: Bearer …`); the
//! order carries the key's channel. A retried POST with the same `Idempotency-Key`
//! answers 200 with the order the first one made (201 on creation). The same key reads
//! back the orders it filed: state and the public timeline. Errors are JSON
//! `{"errors": {"field": "…"}}`: 400 unreadable body, 401 key, 404, 422 field errors.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};

use gongkai_kernel::error::Error;
use gongkai_kernel::web::{AppState, ClientIp};

use super::api::idempotency_key;
use super::clients;
use super::wire::{JSON_TYPE, iso};
use crate::model::{ClientKind, Kind, OrderState, Urgency, event_label};
use crate::service::Intake;
use crate::store::{self, ClientRow, OrderKey};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/hotline/v1/orders", any(create)).route("/api/hotline/v1/orders/{no}", any(read))
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut r = (status, v.to_string()).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_TYPE));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn errors(status: StatusCode, fields: &BTreeMap<String, String>) -> Response {
    json_response(status, &json!({ "errors": fields }))
}

fn one_error(status: StatusCode, field: &str, msg: &str) -> Response {
    errors(status, &BTreeMap::from([(field.to_string(), msg.to_string())]))
}

fn unauthorized() -> Response {
    let mut r = one_error(
        StatusCode::UNAUTHORIZED,
        "authorization",
        "缺少或无效的接口密钥，请在 Authorization 头中以 Bearer 方式提供",
    );
    r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

fn not_allowed(allow: &'static str) -> Response {
    let mut r = one_error(StatusCode::METHOD_NOT_ALLOWED, "method", &format!("该地址只支持 {allow}"));
    r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

/// The body field an intake field came from.
fn body_field(field: &str) -> &str {
    match field {
        "long" => "lng",
        "place_id" => "address",
        other => other,
    }
}

fn fail(e: Error) -> Response {
    match e {
        Error::Invalid(fe) => {
            let mut m = BTreeMap::new();
            for (k, v) in fe.0 {
                m.entry(body_field(&k).to_string()).or_insert(v);
            }
            errors(StatusCode::UNPROCESSABLE_ENTITY, &m)
        }
        Error::NotFound => one_error(StatusCode::NOT_FOUND, "no", "工单不存在"),
        Error::Forbidden(m) => one_error(StatusCode::FORBIDDEN, "authorization", &m),
        Error::Conflict(m) => one_error(StatusCode::CONFLICT, "_", &m),
        Error::TooMany(m) => one_error(StatusCode::TOO_MANY_REQUESTS, "_", &m),
        Error::Unauthenticated => unauthorized(),
        Error::Db(e) => {
            tracing::error!(error = %e, "hotline gateway: database error");
            one_error(StatusCode::INTERNAL_SERVER_ERROR, "_", "服务器暂时无法处理请求，请稍后重试")
        }
        Error::Internal(m) => {
            tracing::error!(error = %m, "hotline gateway: internal error");
            one_error(StatusCode::INTERNAL_SERVER_ERROR, "_", "服务器暂时无法处理请求，请稍后重试")
        }
    }
}

/// The active inbound client of the `Authorization: Bearer` key.
async fn client_of(state: &AppState, headers: &HeaderMap) -> Result<ClientRow, Response> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, k)| k.trim().to_string())
        .ok_or_else(unauthorized)?;
    clients::authenticate(&state.db, &key, ClientKind::Inbound).await.map_err(fail)?.ok_or_else(unauthorized)
}

/// The fields of the JSON body. Every field is optional as JSON; the intake decides what
/// is required.
const FIELDS: &[&str] = &[
    "caller_name",
    "caller_phone",
    "caller_email",
    "anonymous",
    "confidential",
    "kind",
    "category",
    "urgency",
    "tags",
    "title",
    "content",
    "address",
    "lat",
    "lng",
    "media_url",
    "related",
];

/// How long a title derived from the content is.
const DERIVED_TITLE: usize = 30;

/// The intake a body asks for, or its field errors (wrong JSON types, unknown fields).
pub fn intake_of(body: &Map<String, Value>) -> Result<Intake, BTreeMap<String, String>> {
    let mut errs = BTreeMap::new();
    for k in body.keys() {
        if !FIELDS.contains(&k.as_str()) {
            errs.insert(k.clone(), "未知字段，可用字段见接口说明".to_string());
        }
    }
    let mut text = |name: &str| match body.get(name) {
        None | Some(Value::Null) => String::new(),
        // PostgreSQL text cannot hold U+0000.
        Some(Value::String(s)) if s.contains('\0') => {
            errs.insert(name.into(), "不能包含空字符（U+0000）".into());
            String::new()
        }
        Some(Value::String(s)) => s.trim().to_string(),
        Some(_) => {
            errs.insert(name.into(), "应为字符串".into());
            String::new()
        }
    };
    let (caller_name, caller_phone, caller_email) = (text("caller_name"), text("caller_phone"), text("caller_email"));
    let (kind, category, urgency) = (text("kind"), text("category"), text("urgency"));
    let (title, content, address, media_url) = (text("title"), text("content"), text("address"), text("media_url"));
    let mut flag = |name: &str| match body.get(name) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errs.insert(name.into(), "应为 true 或 false".into());
            false
        }
    };
    let (anonymous, confidential) = (flag("anonymous"), flag("confidential"));
    let mut number = |name: &str| match body.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(_) => {
            errs.insert(name.into(), "应为数字（WGS84 十进制度数）".into());
            None
        }
    };
    let (lat, lng) = (number("lat"), number("lng"));
    let mut list = |name: &str| match body.get(name) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items))
            if items.len() <= 20 && items.iter().all(|i| i.as_str().is_some_and(|s| !s.contains('\0'))) =>
        {
            items.iter().filter_map(Value::as_str).map(|s| s.trim().to_string()).collect()
        }
        Some(_) => {
            errs.insert(name.into(), "应为字符串数组（最多 20 项，不含空字符）".into());
            Vec::new()
        }
    };
    let (tags, related) = (list("tags"), list("related"));
    if !kind.is_empty() && Kind::parse(&kind).is_none() {
        let all: Vec<String> = Kind::ALL.iter().map(|k| format!("{}（{}）", k.as_str(), k.label_zh())).collect();
        errs.insert("kind".into(), format!("诉求类型应为：{}", all.join("、")));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let title = if title.is_empty() && !content.is_empty() {
        let flat: String = content.split_whitespace().collect::<Vec<_>>().join(" ");
        if flat.chars().count() > DERIVED_TITLE {
            format!("{}…", flat.chars().take(DERIVED_TITLE - 1).collect::<String>())
        } else {
            flat
        }
    } else {
        title
    };
    Ok(Intake {
        caller_name,
        caller_phone,
        caller_email,
        anonymous,
        confidential,
        kind,
        category,
        urgency: if urgency.is_empty() { Urgency::Normal.as_str().into() } else { urgency },
        tags,
        title,
        content,
        address,
        lat,
        lng,
        media_url,
        related,
        ..Default::default()
    })
}

async fn create(State(state): State<AppState>, ClientIp(ip): ClientIp, req: Request) -> Response {
    if req.method() != Method::POST {
        return not_allowed("POST");
    }
    let headers = req.headers().clone();
    let client = match client_of(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let bytes = match Bytes::from_request(req, &()).await {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return one_error(StatusCode::PAYLOAD_TOO_LARGE, "body", "提交的内容过大");
        }
        Err(_) => return one_error(StatusCode::BAD_REQUEST, "body", "无法读取请求体"),
    };
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return one_error(StatusCode::BAD_REQUEST, "body", "请求体应为 JSON 对象"),
        Err(e) => return one_error(StatusCode::BAD_REQUEST, "body", &format!("请求体不是有效的 JSON：{e}")),
    };
    let idem = match idempotency_key(&headers) {
        Ok(k) => k,
        Err(m) => return one_error(StatusCode::BAD_REQUEST, "idempotency_key", &m),
    };
    let mut intake = match intake_of(&body) {
        Ok(i) => i,
        Err(e) => return errors(StatusCode::UNPROCESSABLE_ENTITY, &e),
    };
    // Keys are per client: two gateways that happen to pick the same key stay apart.
    intake.idem_key = idem.map(|k| format!("c{}:{k}", client.id));
    intake.channel = client.channel.clone();
    match crate::batch::intake(&state, crate::batch::Submitter::Client(client.clone(), ip.to_string()), intake).await {
        Ok(done) => {
            let o = &done.order;
            let state_label = OrderState::parse(&o.state).map(|s| s.label_zh()).unwrap_or("");
            let status = if done.created { StatusCode::CREATED } else { StatusCode::OK };
            json_response(
                status,
                &json!({
                    "no": o.no,
                    "state": o.state,
                    "state_label": state_label,
                    "channel": o.channel,
                    "received_at": iso(o.received_at),
                    "created": done.created,
                }),
            )
        }
        Err(e) => fail(e),
    }
}

async fn read(State(state): State<AppState>, path: Result<Path<String>, PathRejection>, req: Request) -> Response {
    let (req, _) = req.into_parts();
    if req.method != Method::GET && req.method != Method::HEAD {
        return not_allowed("GET");
    }
    let client = match client_of(&state, &req.headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(Path(no)) = path else {
        return one_error(StatusCode::BAD_REQUEST, "no", "工单编号无法解析");
    };
    let run = async {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        if no.contains('\0') {
            return Err(Error::NotFound);
        }
        // A gateway reads the orders it filed, nothing else.
        let Some(o) =
            store::order_by(&mut c, OrderKey::No, no.trim()).await?.filter(|o| o.client_id == Some(client.id))
        else {
            return Err(Error::NotFound);
        };
        let events = store::events(&mut c, o.id).await?;
        Ok((o, events))
    };
    let (o, events) = match run.await {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let state_word = OrderState::parse(&o.state).unwrap_or(OrderState::Received);
    let answered = matches!(state_word, OrderState::Callback | OrderState::Closed);
    let timeline: Vec<Value> = events
        .iter()
        .filter(|e| e.public == 1)
        .map(|e| json!({ "at": iso(e.at), "kind": e.kind, "label": event_label(&e.kind), "text": e.text }))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "no": o.no,
            "state": o.state,
            "state_label": state_word.label_zh(),
            "status": state_word.open311(),
            "kind": o.kind,
            "kind_label": Kind::parse(&o.kind).map(|k| k.label_zh()).unwrap_or(""),
            "title": o.title,
            "received_at": iso(o.received_at),
            "updated_at": iso(o.updated_at),
            "closed_at": o.closed_at.map(iso),
            "answer": if answered && !o.answer.is_empty() { Some(o.answer.as_str()) } else { None },
            "timeline": timeline,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn bodies_map_to_an_intake_and_wrong_types_are_named() {
        let i = intake_of(&obj(json!({
            "caller_name": " 张三 ", "caller_phone": "13912345678", "kind": "complain", "category": "cs.light",
            "tags": ["营商环境"], "content": "东街路灯  不亮，已经三天了，晚上出行很不方便，请尽快维修处理一下", "lat": 39.9, "lng": 116.4,
            "related": ["20261128-000001"], "anonymous": false
        })))
        .unwrap();
        assert_eq!(i.caller_name, "张三");
        assert_eq!(i.urgency, "normal");
        assert_eq!(i.tags, ["营商环境"]);
        assert_eq!(i.title.chars().count(), DERIVED_TITLE, "a title from the content: {}", i.title);
        assert!(i.title.starts_with("东街路灯 不亮"));
        assert_eq!((i.lat, i.lng), (Some(39.9), Some(116.4)));
        let e = intake_of(&obj(json!({
            "caller_name": 5, "anonymous": "yes", "lat": "39", "tags": "a,b", "kind": "gripe", "colour": "red"
        })))
        .unwrap_err();
        for f in ["caller_name", "anonymous", "lat", "tags", "kind", "colour"] {
            assert!(e.contains_key(f), "{f}: {e:?}");
        }
    }
}
