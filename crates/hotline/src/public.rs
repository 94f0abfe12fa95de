//! The portal's 12345 web form (channel "web") and its tracking page. The form guard is the
//! one every public form uses: a text captcha signed with the shared form secret, a
//! per-client rate limit, an idempotency key in a hidden field (a retried submission shows
//! the same order again), and the CSRF layer's Origin check (no session, so no token).
//! Tracking takes the order number and the caller's phone number, and shows the state, the
//! public timeline and, once closed, the answer; the caller's identity never appears
//! beyond the masked phone number.

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use gongkai_kernel::clock;
use gongkai_kernel::error::{Error, FieldErrors, Result};
use gongkai_kernel::web::ctx::constant_time_eq;
use gongkai_kernel::web::guard::{self, FormGuard};
use gongkai_kernel::web::{AppState, ClientIp, WebError};

use crate::model::{Channel, Kind, OrderState, Urgency, event_label};
use crate::rules;
use crate::service::Intake;
use crate::store::{self, OrderKey, OrderRow};

/// The public form's per-node state.
#[derive(Clone)]
struct Guard(FormGuard);

/// Tracking look-ups per client address and hour: enough for anyone, too few to guess
/// phone numbers.
pub const LOOKUPS_PER_HOUR: u32 = 60;

/// Submissions per client address and hour follow `limits.public_submissions_per_hour`
/// like every public form.
pub fn attach(state: AppState) -> AppState {
    let per_hour = state.cfg.limits.public_submissions_per_hour;
    state.with_ext(Guard(FormGuard::new(per_hour, LOOKUPS_PER_HOUR)))
}

async fn guard_of(state: &AppState) -> Result<(Guard, Vec<u8>)> {
    let g = state.ext::<Guard>().cloned().ok_or_else(|| Error::Internal("12345 网上诉求服务未启动".into()))?;
    let secret = g.0.secret(&state.db).await?;
    Ok((g, secret))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/rexian", get(form).post(submit)).route("/rexian/track", get(track_form).post(track))
}

fn web_err(e: Error) -> Response {
    WebError(e).into_response()
}

/// The portal's name for the masthead, when there is an open portal site.
async fn portal_name(state: &AppState) -> Option<String> {
    let mut h = state.db.read().await.ok()?;
    let sites = gongkai_kernel::site::store::all(&mut h.conn()).await.ok()?;
    sites.into_iter().find(|s| s.kind == "portal" && s.status == "open").map(|s| s.name)
}

async fn render(state: &AppState, status: StatusCode, template: &str, mut ctx: Value) -> Response {
    if let Value::Object(m) = &mut ctx {
        m.insert("portal".into(), json!(portal_name(state).await));
        let tab = if template.contains("track") || template.contains("status") { "track" } else { "form" };
        m.insert("tab".into(), json!(tab));
    }
    match gongkai_kernel::web::ctx::render(state, None, template, ctx) {
        Ok(html) => (status, html).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The form as typed; every field a string so it can be shown again.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WebForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub place_id: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub anonymous: String,
    #[serde(default)]
    pub confidential: String,
    #[serde(default)]
    pub idem: String,
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub answer: String,
}

async fn form_ctx(state: &AppState, secret: &[u8], typed: &WebForm) -> Result<Value> {
    let places = {
        let mut h = state.db.read().await?;
        store::places(&mut h.conn()).await?
    };
    let c = guard::challenge(secret, clock::now_ms());
    // The captcha answer is never typed back into the form.
    let typed = WebForm { answer: String::new(), token: String::new(), ..typed.clone() };
    Ok(json!({
        "kinds": Kind::ALL.iter().map(|k| json!({ "value": k.as_str(), "label": k.label_zh() })).collect::<Vec<_>>(),
        "places": places.iter().map(|p| json!({
            "value": p.id,
            "label": if p.community.is_empty() { p.street.clone() } else { format!("{} {}", p.street, p.community) },
        })).collect::<Vec<_>>(),
        "typed": typed,
        "question": c.question,
        "token": c.token,
        "errors": {},
        "max_title": rules::MAX_TITLE,
        "max_content": rules::MAX_CONTENT,
    }))
}

pub async fn form(State(state): State<AppState>) -> Response {
    let run = async {
        let (_, secret) = guard_of(&state).await?;
        let typed =
            WebForm { idem: gongkai_kernel::random_token::<16>(), kind: "consult".into(), ..Default::default() };
        form_ctx(&state, &secret, &typed).await
    };
    match run.await {
        Ok(ctx) => render(&state, StatusCode::OK, "hotline/form.html", ctx).await,
        Err(e) => web_err(e),
    }
}

/// An idempotency key as the form's hidden field carries it; anything else is ignored
/// (the submission then simply has none).
fn idem_key(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = (8..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then(|| format!("web-{s}"))
}

fn checked(v: &str) -> bool {
    matches!(v.trim(), "1" | "on" | "true" | "yes")
}

/// The service names the caller's fields `caller_*`; the form calls them `name` and `phone`.
fn form_errors(e: Error) -> Error {
    match e {
        Error::Invalid(f) => Error::Invalid(FieldErrors(
            f.0.into_iter()
                .map(|(k, m)| {
                    let k = match k.as_str() {
                        "caller_phone" => "phone".to_string(),
                        "caller_name" => "name".to_string(),
                        _ => k,
                    };
                    (k, m)
                })
                .collect(),
        )),
        e => e,
    }
}

/// The form's own rules (a phone number to call back on, a name unless anonymous) with the
/// intake's, so every message shows at once and a refused form costs no submission.
fn check_form(f: &WebForm) -> Result<()> {
    let intake = rules::validate_intake(&rules::IntakeCheck {
        channel: Channel::Web.as_str(),
        kind: f.kind.trim(),
        urgency: Urgency::Normal.as_str(),
        title: &f.title,
        content: &f.content,
        caller_phone: &f.phone,
        anonymous: checked(&f.anonymous),
        has_location: true,
        location_required: false,
    });
    let mut e = FieldErrors::new();
    if f.phone.trim().is_empty() {
        e.add("phone", "请填写联系电话，以便工作人员回复您");
    }
    if f.name.trim().is_empty() && !checked(&f.anonymous) {
        e.add("name", "请填写姓名，或勾选“匿名”");
    }
    if f.place_id.trim().parse::<i64>().is_err() && !f.place_id.trim().is_empty() {
        e.add("place_id", "所选街道社区不存在");
    }
    if rules::has_markup(&f.name) {
        e.add("name", "姓名不能包含 HTML 标记");
    }
    if rules::has_markup(&f.address) {
        e.add("address", "地址不能包含 HTML 标记");
    }
    if let Error::Invalid(more) = form_errors(Error::Invalid(intake)) {
        for (k, m) in more.0 {
            // One message per field: the form's own comes first.
            if e.get(&k).is_none() {
                e.add(&k, m);
            }
        }
    }
    e.into_result()
}

async fn receipt(state: &AppState, o: &OrderRow, repeated: bool) -> Response {
    let ctx = json!({
        "no": o.no, "title": o.title, "repeated": repeated, "phone": rules::mask_phone(&o.caller_phone),
        "kind": Kind::parse(&o.kind).map(Kind::label_zh).unwrap_or(""),
    });
    render(state, StatusCode::OK, "hotline/receipt.html", ctx).await
}

pub async fn submit(State(state): State<AppState>, ClientIp(ip): ClientIp, Form(f): Form<WebForm>) -> Response {
    let (g, secret) = match guard_of(&state).await {
        Ok(x) => x,
        Err(e) => return web_err(e),
    };
    let again = |err: Error| {
        let (state, secret, f) = (state.clone(), secret.clone(), f.clone());
        async move {
            match form_ctx(&state, &secret, &f).await {
                Ok(mut ctx) => {
                    let (status, errors, message) = match &err {
                        Error::Invalid(fe) => {
                            (StatusCode::UNPROCESSABLE_ENTITY, json!(fe.as_map()), "请按提示修改后重新提交".to_string())
                        }
                        Error::Conflict(m) => (StatusCode::CONFLICT, json!({}), m.clone()),
                        Error::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, json!({}), m.clone()),
                        _ => return web_err(err),
                    };
                    ctx["errors"] = errors;
                    ctx["error_message"] = json!(message);
                    render(&state, status, "hotline/form.html", ctx).await
                }
                Err(e) => web_err(e),
            }
        }
    };
    let idem = idem_key(&f.idem);
    // A retried submission (same key) is answered before the captcha and the limit: it
    // creates nothing and must not be refused.
    if let Some(k) = &idem {
        let existing = match state.db.read().await {
            Ok(mut h) => store::order_by(&mut h.conn(), OrderKey::Idem, k).await,
            Err(e) => Err(e),
        };
        match existing {
            Ok(Some(o)) => return receipt(&state, &o, true).await,
            Ok(None) => {}
            Err(e) => return web_err(e),
        }
    }
    if let Err(m) = guard::verify(&secret, &f.token, &f.answer, clock::now_ms()) {
        return again(Error::field("answer", m)).await;
    }
    if let Err(e) = check_form(&f) {
        return again(e).await;
    }
    if let Err(wait) = g.0.submission(&ip) {
        let mins = wait.as_secs().div_ceil(60).max(1);
        return again(Error::TooMany(format!("提交过于频繁，请{mins}分钟后再试"))).await;
    }
    let anonymous = checked(&f.anonymous);
    let intake = Intake {
        idem_key: idem,
        channel: Channel::Web.as_str().into(),
        caller_name: f.name.clone(),
        caller_phone: f.phone.trim().to_string(),
        anonymous,
        confidential: checked(&f.confidential),
        kind: f.kind.trim().to_string(),
        urgency: Urgency::Normal.as_str().into(),
        title: f.title.clone(),
        content: f.content.clone(),
        address: f.address.clone(),
        place_id: f.place_id.trim().parse::<i64>().ok(),
        ..Default::default()
    };
    match crate::batch::intake(&state, crate::batch::Submitter::Public(ip.to_string()), intake).await {
        // Committed before this page is sent: an acknowledged order survives a crash.
        Ok(done) => receipt(&state, &done.order, !done.created).await,
        Err(e) => again(form_errors(e)).await,
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrackForm {
    #[serde(default)]
    pub no: String,
    #[serde(default)]
    pub phone: String,
}

pub async fn track_form(State(state): State<AppState>, Query(q): Query<TrackForm>) -> Response {
    let typed = json!({ "no": q.no.trim() });
    render(&state, StatusCode::OK, "hotline/track.html", json!({ "errors": {}, "typed": typed })).await
}

/// Digits only: "0571-8800 1000" and "057188001000" are the same number.
fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

pub async fn track(State(state): State<AppState>, ClientIp(ip): ClientIp, Form(f): Form<TrackForm>) -> Response {
    let no = f.no.trim().to_string();
    let fail = |status: StatusCode, errors: Value, msg: String| {
        let state = state.clone();
        let no = no.clone();
        async move {
            let ctx = json!({ "errors": errors, "typed": { "no": no }, "error_message": msg });
            render(&state, status, "hotline/track.html", ctx).await
        }
    };
    let mut e = FieldErrors::new();
    if no.is_empty() {
        e.add("no", "请填写工单编号");
    }
    if digits(&f.phone).is_empty() {
        e.add("phone", "请填写提交诉求时留的电话号码");
    }
    if !e.is_empty() {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, json!(e.as_map()), "请按提示填写后查询".into()).await;
    }
    let g = match guard_of(&state).await {
        Ok((g, _)) => g,
        Err(e) => return web_err(e),
    };
    if g.0.lookup(&ip).is_err() {
        tracing::warn!(client = %ip, no = %no, "12345 工单查询过于频繁，已拒绝");
        return fail(StatusCode::TOO_MANY_REQUESTS, json!({}), "查询过于频繁，请稍后再试".into()).await;
    }
    let found = match state.db.read().await {
        Ok(mut h) => store::order_by(&mut h.conn(), OrderKey::No, &no).await,
        Err(e) => Err(e),
    };
    let o = match found {
        Ok(Some(o))
            if !digits(&o.caller_phone).is_empty()
                && constant_time_eq(digits(&o.caller_phone).as_bytes(), digits(&f.phone).as_bytes()) =>
        {
            o
        }
        Ok(_) => {
            tracing::warn!(client = %ip, no = %no, "12345 工单查询失败：编号或电话不正确");
            let msg = "工单编号或电话号码不正确，请核对后重新输入";
            return fail(StatusCode::UNPROCESSABLE_ENTITY, json!({ "phone": msg }), msg.into()).await;
        }
        Err(e) => return web_err(e),
    };
    match status_ctx(&state, &o).await {
        Ok(ctx) => render(&state, StatusCode::OK, "hotline/status.html", ctx).await,
        Err(e) => web_err(e),
    }
}

/// What the caller sees of an order: no name, no address, the phone number masked.
async fn status_ctx(state: &AppState, o: &OrderRow) -> Result<Value> {
    let events = {
        let mut h = state.db.read().await?;
        store::events(&mut h.conn(), o.id).await?
    };
    let st = OrderState::parse(&o.state);
    let closed = st == Some(OrderState::Closed);
    Ok(json!({
        "o": {
            "no": o.no, "title": o.title, "received_on": o.received_on,
            "kind": Kind::parse(&o.kind).map(Kind::label_zh).unwrap_or(""),
            "channel": Channel::parse(&o.channel).map(Channel::label_zh).unwrap_or(""),
            "phone": rules::mask_phone(&o.caller_phone),
        },
        "state_label": st.map(OrderState::label_zh).unwrap_or(""),
        "closed": closed,
        "answer": if closed { o.answer.as_str() } else { "" },
        "events": events.iter().filter(|e| e.public == 1).map(|e| json!({
            "at": clock::fmt_ms(e.at), "label": event_label(&e.kind), "text": e.text,
        })).collect::<Vec<_>>(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_shaped_and_scoped() {
        assert_eq!(idem_key("abcDEF0123456789").as_deref(), Some("web-abcDEF0123456789"));
        assert_eq!(idem_key("short"), None);
        assert_eq!(idem_key("has space in it!"), None);
        assert_eq!(idem_key(""), None);
    }

    #[test]
    fn phone_numbers_compare_by_digits() {
        assert_eq!(digits("0571-8800 1000"), "057188001000");
        assert_eq!(digits("电话"), "");
    }
}
