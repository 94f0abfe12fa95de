//! Public pages of 征集调查 under `/hudong/{site}/zhengji`: the list (open first, then
//! upcoming, then closed), one survey's page (the draft with moderated comments and the
//! comment form; the questionnaire form; after closing, the results as SVG bar charts
//! with tables and the published feedback), and the draft's files.
//!
//! One response per person is best-effort: a signed cookie carrying a random voter id is
//! set on the first response, a second one under it is refused, and the per-address rate
//! limit bounds what clearing cookies buys.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use time::Date;

use gongkai_kernel::clock;
use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::site::Site;
use gongkai_kernel::web::guard;
use gongkai_kernel::web::{AppState, ClientIp, WebError};

use super::rules::{self, Kind, Phase, QKind};
use super::service::{self, Survey};
use super::store;
use crate::public;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hudong/{site}/zhengji", get(list))
        .route("/hudong/{site}/zhengji/{id}", get(page))
        .route("/hudong/{site}/zhengji/{id}/comment", post(comment))
        .route("/hudong/{site}/zhengji/{id}/vote", post(vote))
        .route("/hudong/{site}/zhengji/{id}/files/{fid}", get(file))
}

const PAGE: &str = "interact/surveys/page.html";
const COOKIE: &str = "gk_svy";
/// A year: long enough to cover any survey period.
const COOKIE_MAX_AGE: i64 = 366 * 24 * 3600;

fn err(e: Error) -> Response {
    WebError(e).into_response()
}

pub async fn list(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    let run = async {
        let site = public::site(&state, &code).await?;
        let rows = {
            let mut h = state.db.read().await?;
            store::published(&mut h.conn(), site.id).await?
        };
        let today = clock::today();
        let (mut open, mut upcoming, mut closed) = (Vec::new(), Vec::new(), Vec::new());
        for r in rows {
            let (Some(kind), Some(st), Some(o), Some(c)) = (
                Kind::parse(&r.kind),
                rules::State::parse(&r.state),
                clock::parse_date(&r.opens_on),
                clock::parse_date(&r.closes_on),
            ) else {
                continue;
            };
            let phase = rules::phase(st, o, c, r.closed_at.is_some(), today);
            let item = json!({
                "id": r.id, "title": r.title, "kind_label": kind.label_zh(), "opens_on": r.opens_on,
                "closes_on": r.closes_on, "phase_label": phase.label_zh(),
                "result": st == rules::State::Result, "feedback_label": kind.feedback_zh(),
            });
            match phase {
                Phase::Open => open.push((c, item)),
                Phase::Upcoming => upcoming.push((o, item)),
                _ => closed.push(item),
            }
        }
        // Open: the one closing soonest first; upcoming: the one opening soonest first.
        open.sort_by_key(|(d, _)| *d);
        upcoming.sort_by_key(|(d, _)| *d);
        let strip = |v: Vec<(Date, Value)>| v.into_iter().map(|(_, x)| x).collect::<Vec<_>>();
        let ctx = json!({ "open": strip(open), "upcoming": strip(upcoming), "closed": closed });
        Ok::<_, Error>((site, ctx))
    };
    match run.await {
        Ok((site, ctx)) => public::render(&state, StatusCode::OK, "interact/surveys/list.html", Some(&site), ctx),
        Err(e) => err(e),
    }
}

/// The survey of a site, published (drafts and other sites' surveys are not found).
async fn survey_of(state: &AppState, code: &str, id: i64) -> Result<(Site, Survey)> {
    let site = public::site(state, code).await?;
    let s = service::load(&state.db, id).await?;
    if s.row.site_id != site.id || s.state == rules::State::Draft {
        return Err(Error::NotFound);
    }
    Ok((site, s))
}

fn paragraphs(text: &str) -> Vec<String> {
    text.split('\n').map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
}

/// The voter id in a valid signed cookie.
fn voter_of(secret: &[u8], headers: &HeaderMap) -> Option<String> {
    let v = gongkai_kernel::web::middleware::cookie_value(headers, COOKIE)?;
    let (voter, _) = v.split_once('.')?;
    let ok = voter.len() == 32
        && voter.bytes().all(|b| b.is_ascii_hexdigit())
        && gongkai_kernel::web::ctx::constant_time_eq(sign(secret, voter).as_bytes(), v.as_bytes());
    ok.then(|| voter.to_string())
}

fn sign(secret: &[u8], voter: &str) -> String {
    let tag = guard::mac(secret, &[b"survey-voter", voter.as_bytes()]);
    format!("{voter}.{}", gongkai_kernel::audit::hex(&tag[..16]))
}

fn with_cookie(state: &AppState, headers: &HeaderMap, mut resp: Response, value: &str) -> Response {
    let https = state.cfg.security.force_secure_cookies
        || headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
    let secure = if https { "; Secure" } else { "" };
    let c = format!("{COOKIE}={value}; Path=/hudong/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax{secure}");
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// What was typed on the questionnaire, by field.
fn typed_answers(posted: &[(String, String)]) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in posted.iter().filter(|(k, _)| k.starts_with('q')) {
        if let Value::Array(a) = m.entry(k.clone()).or_insert_with(|| json!([])) {
            a.push(json!(v));
        }
    }
    Value::Object(m)
}

/// The questions as the form shows them, with the skip hints and what was typed.
fn form_questions(s: &Survey, typed: &Value) -> Vec<Value> {
    s.questions
        .iter()
        .map(|q| {
            let key = format!("q{}", q.id);
            let chosen: Vec<String> = typed[&key]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
                .unwrap_or_default();
            let options: Vec<Value> = match q.kind {
                QKind::Single | QKind::Multiple => q
                    .options
                    .iter()
                    .enumerate()
                    .map(|(i, o)| {
                        let skip = q.skip.iter().find(|s| s.option == i).map(|s| {
                            if s.to == 0 { "选此项后无需回答后面的题目".to_string() } else { format!("选此项请跳至第{}题", s.to) }
                        });
                        json!({ "value": i.to_string(), "label": o, "checked": chosen.contains(&i.to_string()), "skip": skip })
                    })
                    .collect(),
                QKind::Rating => (1..=rules::RATING_MAX)
                    .map(|r| {
                        let label = match r {
                            1 => "1分（很不满意）".to_string(),
                            5 => "5分（很满意）".to_string(),
                            _ => format!("{r}分"),
                        };
                        json!({ "value": r.to_string(), "label": label, "checked": chosen.contains(&r.to_string()), "skip": null })
                    })
                    .collect(),
                QKind::Text => Vec::new(),
            };
            json!({
                "id": q.id, "name": key, "kind": match q.kind { QKind::Single | QKind::Rating => "radio", QKind::Multiple => "checkbox", QKind::Text => "text" },
                "kind_label": q.kind.label_zh(), "text": q.text, "required": q.required, "options": options,
                "value": chosen.first().cloned().unwrap_or_default(), "max": rules::MAX_TEXT_ANSWER,
            })
        })
        .collect()
}

/// Everything the survey page shows. `typed` is what the visitor typed (comment or
/// answers); `voted` whether this visitor has already answered.
async fn page_ctx(state: &AppState, s: &Survey, typed: Value, voted: bool) -> Result<Value> {
    let today = clock::today();
    let phase = s.phase(today);
    let (files, comments, responses) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        let files = store::files(&mut c, s.row.id).await?;
        let comments = store::comments(&mut c, s.row.id, Some("approved")).await?;
        let (responses, _, _) = store::tallies(&mut c, s.row.id).await?;
        (files, comments, responses)
    };
    let comments: Vec<Value> = comments
        .iter()
        .map(|m| {
            json!({ "name": if m.name.is_empty() { "网友" } else { m.name.as_str() },
                    "on": clock::fmt_date(clock::ms_to_local(m.created_at).date()), "body": paragraphs(&m.body) })
        })
        .collect();
    let open = phase == Phase::Open;
    let mut ctx = json!({
        "s": {
            "id": s.row.id, "title": s.row.title, "kind": s.kind.as_str(), "kind_label": s.kind.label_zh(),
            "description": paragraphs(&s.row.description), "body": paragraphs(&s.row.body),
            "opens_on": s.row.opens_on, "closes_on": s.row.closes_on, "org_name": s.org_name,
            "phase": phase.as_str(), "phase_label": phase.label_zh(), "refusal": phase.refusal(),
            "closed_early": s.row.closed_at.map(|ms| clock::fmt_date(clock::ms_to_local(ms).date())),
        },
        "files": files.iter().map(|f| json!({ "id": f.id, "name": f.name, "size_kb": (f.size + 1023) / 1024 })).collect::<Vec<_>>(),
        "comments": comments,
        "open": open,
        "voted": voted,
        "responses": responses,
        "feedback": (s.state == rules::State::Result).then(|| paragraphs(&s.row.feedback)),
        "feedback_label": s.kind.feedback_zh(),
        "feedback_on": s.row.feedback_at.map(|ms| clock::fmt_date(clock::ms_to_local(ms).date())),
        "errors": {},
        "typed": typed,
    });
    if open && !voted {
        let c = public::challenge(state).await?;
        ctx["question"] = json!(c.question);
        ctx["token"] = json!(c.token);
        if ctx["typed"]["idem"].as_str().unwrap_or("").is_empty() {
            ctx["typed"]["idem"] = json!(gongkai_kernel::random_token::<16>());
        }
    }
    if s.kind == Kind::Questionnaire {
        if open && !voted {
            ctx["questions"] = json!(form_questions(s, &ctx["typed"]["answers"]));
        }
        if phase == Phase::Closed {
            ctx["results"] = json!(service::results(&state.db, s).await?);
        }
    }
    Ok(ctx)
}

pub async fn page(
    State(state): State<AppState>,
    Path((code, id)): Path<(String, i64)>,
    headers: HeaderMap,
) -> Response {
    let run = async {
        let (site, s) = survey_of(&state, &code, id).await?;
        let voted = match (s.kind, voter_of(&public::secret(&state).await?, &headers)) {
            (Kind::Questionnaire, Some(v)) => {
                let mut h = state.db.read().await?;
                store::has_voted(&mut h.conn(), id, &v).await?
            }
            _ => false,
        };
        let ctx = page_ctx(&state, &s, json!({}), voted).await?;
        Ok::<_, Error>((site, ctx))
    };
    match run.await {
        Ok((site, ctx)) => public::render(&state, StatusCode::OK, PAGE, Some(&site), ctx),
        Err(e) => err(e),
    }
}

#[derive(Deserialize, serde::Serialize, Default)]
pub struct CommentPost {
    #[serde(flatten)]
    form: service::CommentForm,
    #[serde(default)]
    idem: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    answer: String,
}

/// The page again with the form's errors (or a refusal) and what was typed.
async fn again(state: &AppState, site: &Site, s: &Survey, typed: Value, e: Error) -> Response {
    match page_ctx(state, s, typed, false).await {
        Ok(ctx) => public::form_again(state, PAGE, Some(site), ctx, e),
        Err(e) => err(e),
    }
}

fn thanks(state: &AppState, site: &Site, s: &Survey, repeated: bool, note: &str) -> Response {
    let ctx = json!({
        "s": { "id": s.row.id, "title": s.row.title, "kind": s.kind.as_str(), "kind_label": s.kind.label_zh() },
        "repeated": repeated,
        "note": note,
    });
    public::render(state, StatusCode::OK, "interact/surveys/thanks.html", Some(site), ctx)
}

pub async fn comment(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((code, id)): Path<(String, i64)>,
    axum::extract::Form(f): axum::extract::Form<CommentPost>,
) -> Response {
    let (site, s) = match survey_of(&state, &code, id).await {
        Ok(v) if v.1.kind == Kind::Solicitation => v,
        Ok(_) => return err(Error::NotFound),
        Err(e) => return err(e),
    };
    let typed = json!({ "name": f.form.name, "contact": f.form.contact, "body": f.form.body, "idem": f.idem });
    // A retried submission (same key) is answered before the captcha and the limit.
    let existing = match state.db.read().await {
        Ok(mut h) => store::comment_by_idem(&mut h.conn(), f.idem.trim()).await,
        Err(e) => Err(e),
    };
    match existing {
        Ok(Some(m)) if m.survey_id == id => {
            return thanks(&state, &site, &s, true, "您的意见已经提交成功，审核后将在本页公开。");
        }
        Ok(_) => {}
        Err(e) => return err(e),
    }
    if let Some(why) = s.phase(clock::today()).refusal() {
        return again(&state, &site, &s, typed, Error::Conflict(why.into())).await;
    }
    if let Err(e) = public::check_submission(&state, &ip, &f.token, &f.answer).await {
        return again(&state, &site, &s, typed, e).await;
    }
    match service::submit_comment(&state.db, id, &f.form, &f.idem, &ip, clock::today()).await {
        // Committed before this page is sent.
        Ok((_, created)) => {
            thanks(&state, &site, &s, !created, "感谢您提出意见。意见经审核后将在本页公开，联系方式不会公开。")
        }
        Err(e) => again(&state, &site, &s, typed, e).await,
    }
}

pub async fn vote(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((code, id)): Path<(String, i64)>,
    headers: HeaderMap,
    axum::extract::Form(posted): axum::extract::Form<Vec<(String, String)>>,
) -> Response {
    let (site, s) = match survey_of(&state, &code, id).await {
        Ok(v) if v.1.kind == Kind::Questionnaire => v,
        Ok(_) => return err(Error::NotFound),
        Err(e) => return err(e),
    };
    let secret = match public::secret(&state).await {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let field =
        |name: &str| posted.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let idem = field("idem");
    let typed = json!({ "idem": idem, "answers": typed_answers(&posted) });
    let existing = match state.db.read().await {
        Ok(mut h) => store::response_by_idem(&mut h.conn(), &idem).await,
        Err(e) => Err(e),
    };
    match existing {
        Ok(Some(r)) if r.survey_id == id => {
            let resp = thanks(&state, &site, &s, true, "您的问卷已经提交成功。");
            return with_cookie(&state, &headers, resp, &sign(&secret, &r.voter));
        }
        Ok(_) => {}
        Err(e) => return err(e),
    }
    let today = clock::today();
    if let Some(why) = s.phase(today).refusal() {
        return again(&state, &site, &s, typed, Error::Conflict(why.into())).await;
    }
    let known = voter_of(&secret, &headers);
    if let Some(v) = &known {
        let voted = match state.db.read().await {
            Ok(mut h) => store::has_voted(&mut h.conn(), id, v).await,
            Err(e) => Err(e),
        };
        match voted {
            Ok(true) => return refused_again(&state, &site, &s).await,
            Ok(false) => {}
            Err(e) => return err(e),
        }
    }
    if let Err(e) = public::check_submission(&state, &ip, &field("token"), &field("answer")).await {
        return again(&state, &site, &s, typed, e).await;
    }
    let voter = known.unwrap_or_else(gongkai_kernel::random_token::<16>);
    match service::vote(&state.db, id, &posted, &idem, &voter, &ip, today).await {
        Ok((r, created)) => {
            let resp = thanks(&state, &site, &s, !created, "感谢您参与本次问卷调查。调查结束后可在本页查看统计结果。");
            with_cookie(&state, &headers, resp, &sign(&secret, &r.voter))
        }
        Err(Error::Conflict(m)) if m == service::MSG_VOTED => refused_again(&state, &site, &s).await,
        Err(e) => again(&state, &site, &s, typed, e).await,
    }
}

/// A second response from the same person: the page without the form, and why (409).
async fn refused_again(state: &AppState, site: &Site, s: &Survey) -> Response {
    match page_ctx(state, s, json!({}), true).await {
        Ok(ctx) => public::form_again(state, PAGE, Some(site), ctx, Error::Conflict(service::MSG_VOTED.into())),
        Err(e) => err(e),
    }
}

pub async fn file(State(state): State<AppState>, Path((code, id, fid)): Path<(String, i64, i64)>) -> Response {
    let run = async {
        survey_of(&state, &code, id).await?;
        let mut h = state.db.read().await?;
        store::file_data(&mut h.conn(), id, fid).await?.ok_or(Error::NotFound)
    };
    match run.await {
        Ok((meta, data)) => super::web::attachment(&meta, data),
        Err(e) => err(e),
    }
}
