//! The agent screen (热线受理): one form taken on a live call, built for the keyboard. The
//! caller's earlier orders and the knowledge base sit beside it (filled by hotline.js as
//! the agent types; without JavaScript the history comes from a plain GET form). Saving
//! takes the order and, in the same request, answers it directly or dispatches it.

use std::sync::Arc;

use axum::Json;
use axum::extract::multipart::MultipartError;
use axum::extract::{Form, FromRequest, Multipart, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use gongkai_kernel::auth::Principal;
use gongkai_kernel::clock;
use gongkai_kernel::error::{Error, FieldErrors, Result, is_unique_violation};
use gongkai_kernel::web::ctx::{constant_time_eq, form_error, render_with, see_other};
use gongkai_kernel::web::{AppState, Auth, ClientIp, WebError, WebResult};

use super::files::{self, FILE_BYTES_MAX, Upload};
use super::{COMMON_TAGS, Fields, channels, kind_label, kinds, state_label, urgencies};
use crate::service::{self, By, Dispatch, Intake, Intaken};
use crate::settings::{category_org, place_org};
use crate::store::{self, CategoryRow, OrderKey, PlaceRow};

const TEMPLATE: &str = "console/hotline/new.html";
const MULTI: &[&str] = &["tags", "co_orgs"];

/// The reference data the form offers: categories, places and organisations.
pub(crate) struct Refs {
    pub cats: Vec<CategoryRow>,
    pub places: Vec<PlaceRow>,
    pub orgs: Vec<gongkai_kernel::org::Org>,
}

pub(crate) async fn refs(state: &AppState) -> Result<Refs> {
    let mut h = state.db.read().await?;
    let mut c = h.conn();
    Ok(Refs {
        cats: store::categories(&mut c).await?,
        places: store::places(&mut c).await?,
        orgs: gongkai_kernel::org::store::all(&mut c).await?,
    })
}

impl Refs {
    pub fn org_options(&self) -> Vec<Value> {
        self.orgs.iter().map(|o| json!({ "value": o.id, "label": o.name })).collect()
    }
    pub fn org_name(&self, id: Option<i64>) -> String {
        id.and_then(|id| self.orgs.iter().find(|o| o.id == id)).map(|o| o.name.clone()).unwrap_or_default()
    }
    /// Active categories for picking by typing: code, path, keywords, suggested organisation.
    pub fn category_options(&self) -> Vec<Value> {
        self.cats
            .iter()
            .filter(|c| c.active == 1)
            .map(|c| {
                let org = category_org(&self.cats, c.id);
                json!({ "code": c.code, "path": c.path, "keywords": c.keywords, "org": org, "org_name": self.org_name(org) })
            })
            .collect()
    }
    /// Streets with their communities, each with the office that handles it.
    pub fn place_groups(&self) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        for s in self.places.iter().filter(|p| p.community.is_empty()) {
            let communities: Vec<Value> = self
                .places
                .iter()
                .filter(|p| p.street == s.street && !p.community.is_empty())
                .map(|p| json!({ "id": p.id, "name": p.community, "org": place_org(&self.places, p.id) }))
                .collect();
            out.push(json!({ "id": s.id, "street": s.street, "org": s.org_id, "communities": communities }));
        }
        out
    }
    /// A category as the agent typed it: its code, or its full path, or its name when only
    /// one category has that name.
    pub fn resolve_category(&self, typed: &str) -> String {
        let t = typed.trim();
        if t.is_empty() || self.cats.iter().any(|c| c.code == t) {
            return t.to_string();
        }
        if let Some(c) = self.cats.iter().find(|c| c.path == t && c.active == 1) {
            return c.code.clone();
        }
        let named: Vec<&CategoryRow> = self.cats.iter().filter(|c| c.name == t && c.active == 1).collect();
        if named.len() == 1 { named[0].code.clone() } else { t.to_string() }
    }
    /// The organisation to dispatch to when the agent did not choose: the category's
    /// usual one, else the office of the place.
    pub fn suggested_org(&self, category_code: &str, place_id: Option<i64>) -> Option<i64> {
        self.cats
            .iter()
            .find(|c| c.code == category_code)
            .and_then(|c| category_org(&self.cats, c.id))
            .or_else(|| place_id.and_then(|p| place_org(&self.places, p)))
    }
}

/// A caller's earlier orders as the JSON the screen shows.
fn history_json(rows: &[store::Brief]) -> Vec<Value> {
    rows.iter()
        .map(|b| {
            json!({
                "id": b.id, "no": b.no, "title": b.title, "state": b.state, "state_label": state_label(&b.state),
                "kind_label": kind_label(&b.kind), "date": clock::fmt_date(clock::ms_to_local(b.received_at).date()),
                "url": format!("/console/hotline/orders/{}", b.id),
            })
        })
        .collect()
}

async fn form_ctx(state: &AppState, who: &Principal, mut typed: Value, idem: &str) -> Result<Value> {
    let r = refs(state).await?;
    // The lists the template tests membership in are always there.
    for k in MULTI {
        if typed.get(k).is_none() {
            typed[*k] = json!([]);
        }
    }
    let phone = typed.get("caller_phone").and_then(Value::as_str).unwrap_or("").to_string();
    let history = if phone.trim().is_empty() {
        Vec::new()
    } else {
        history_json(&service::caller_history(&state.db, who, &phone).await?)
    };
    Ok(json!({
        "v": typed,
        "idem_key": idem,
        "kinds": kinds(), "urgencies": urgencies(), "channels": channels(),
        "common_tags": COMMON_TAGS,
        "categories": r.category_options(),
        "places": r.place_groups(),
        "orgs": r.org_options(),
        "history": history,
        "history_for": phone,
        "max_files": files::FILES_MAX,
        "max_mb": FILE_BYTES_MAX / 1024 / 1024,
        "errors": {},
    }))
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    phone: String,
}

pub async fn page(State(state): State<AppState>, Auth(who): Auth, Query(q): Query<NewQuery>) -> WebResult<Response> {
    let typed = json!({ "caller_phone": q.phone.trim(), "channel": "phone", "urgency": "normal" });
    let ctx = form_ctx(&state, &who, typed, &gongkai_kernel::random_token::<16>()).await?;
    Ok(render_with(&state, Some(&who), TEMPLATE, ctx, "/console/hotline/new")?.into_response())
}

/// The agent screen's body: its fields and its attachments. The browser sends
/// multipart/form-data; a url-encoded body (scripts, tests) is taken too, without files.
/// The `_csrf` field must equal the session's token, as for every console form.
pub struct IntakeBody {
    fields: Fields,
    files: Vec<Upload>,
}

fn multipart_err(e: MultipartError) -> Response {
    (e.status(), e.body_text()).into_response()
}

/// A file part's bytes, keeping at most one byte past the limit: enough to refuse an
/// oversize file without holding all of it.
async fn capped(field: &mut axum::extract::multipart::Field<'_>) -> std::result::Result<Vec<u8>, Response> {
    let mut data = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_err)? {
        let room = (FILE_BYTES_MAX + 1).saturating_sub(data.len());
        data.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(data)
}

impl<S: Send + Sync> FromRequest<S> for IntakeBody {
    type Rejection = Response;
    async fn from_request(req: Request, state: &S) -> std::result::Result<Self, Self::Rejection> {
        let principal = req.extensions().get::<Arc<Principal>>().cloned();
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut uploads = Vec::new();
        if multipart {
            let mut form = Multipart::from_request(req, state).await.map_err(IntoResponse::into_response)?;
            while let Some(mut field) = form.next_field().await.map_err(multipart_err)? {
                let name = field.name().unwrap_or("").to_string();
                if name == "files" {
                    let file_name = field.file_name().unwrap_or("").to_string();
                    let data = capped(&mut field).await?;
                    // An input left empty is sent as a part without a name or bytes.
                    if !(file_name.is_empty() && data.is_empty()) {
                        uploads.push(Upload { name: file_name, data });
                    }
                } else if field.file_name().is_none() {
                    pairs.push((name, field.text().await.map_err(multipart_err)?));
                }
            }
        } else {
            let Form(p) =
                Form::<Vec<(String, String)>>::from_request(req, state).await.map_err(IntoResponse::into_response)?;
            pairs = p;
        }
        let Some(p) = principal else { return Err(WebError(Error::Unauthenticated).into_response()) };
        let token = pairs.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str()).unwrap_or("");
        if token.is_empty() || !constant_time_eq(token.as_bytes(), p.csrf_token.as_bytes()) {
            return Err(
                WebError(Error::Forbidden("表单已过期或来源无法验证，请刷新页面后重新提交".into())).into_response()
            );
        }
        Ok(IntakeBody { fields: Fields(pairs), files: uploads })
    }
}

/// Words typed into one box, separated by commas, 、 or spaces.
fn split_list(s: &str) -> Vec<String> {
    s.split([',', '，', '、', ' ', ';', '；', '\n'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// The service's intake from the form; a number that does not parse is a field error.
fn intake_of(f: &Fields, r: &Refs, e: &mut FieldErrors) -> Intake {
    let num = |e: &mut FieldErrors, k: &str| -> Option<f64> {
        let v = f.get(k).trim();
        if v.is_empty() {
            return None;
        }
        let n = v.parse::<f64>().ok().filter(|n| n.is_finite());
        if n.is_none() {
            e.add(k, "请填写数字，例如 30.2741");
        }
        n
    };
    let place_id = match f.get("place_id").trim() {
        "" => None,
        v => match v.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                e.add("place_id", "所选街道社区不存在");
                None
            }
        },
    };
    let mut tags: Vec<String> = f.all("tags").iter().map(|t| t.trim().to_string()).collect();
    tags.extend(split_list(f.get("tags_other")));
    let mut seen = std::collections::BTreeSet::new();
    tags.retain(|t| seen.insert(t.clone()));
    let channel = match f.get("channel").trim() {
        "" => "phone".to_string(),
        c => c.to_string(),
    };
    Intake {
        idem_key: Some(f.get("idem_key").trim().to_string()).filter(|k| !k.is_empty() && k.len() <= 64),
        channel,
        caller_name: f.get("caller_name").to_string(),
        caller_phone: f.get("caller_phone").to_string(),
        caller_email: f.get("caller_email").trim().to_string(),
        anonymous: f.checked("anonymous"),
        confidential: f.checked("confidential"),
        kind: f.get("kind").trim().to_string(),
        category: r.resolve_category(f.get("category")),
        urgency: f.get("urgency").trim().to_string(),
        tags,
        title: f.get("title").to_string(),
        content: f.get("content").to_string(),
        address: f.get("address").to_string(),
        place_id,
        lat: num(e, "lat"),
        lng: num(e, "lng"),
        related: split_list(f.get("related")),
        ..Default::default()
    }
}

/// 受理 with the attachments, in one transaction; a retried request with a seen key gets
/// the order the first one made.
async fn take(
    state: &AppState,
    who: &Principal,
    ip: &str,
    i: &Intake,
    uploads: &[Upload],
    checked: &[files::Checked],
    mut pre: FieldErrors,
) -> Result<Intaken> {
    if let Some(k) = i.idem_key.as_deref() {
        let mut h = state.db.read().await?;
        if let Some(o) = store::order_by(&mut h.conn(), OrderKey::Idem, k).await? {
            return Ok(Intaken { order: o, created: false });
        }
    }
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let order = match service::intake_in(&mut c, By::Staff(who, ip), i).await {
        Ok(o) => o,
        Err(Error::Invalid(e)) => {
            // Every problem at once: the intake's and the chosen action's.
            for (k, m) in e.0 {
                pre.add(if k == "long" { "lng" } else { &k }, m);
            }
            return Err(Error::Invalid(pre));
        }
        Err(err) if is_unique_violation(&err) && i.idem_key.is_some() => {
            // The transaction is rolled back when dropped; read the winner's order.
            drop(tx);
            let mut h = state.db.read().await?;
            let k = i.idem_key.as_deref().unwrap_or_default();
            return match store::order_by(&mut h.conn(), OrderKey::Idem, k).await? {
                Some(o) => Ok(Intaken { order: o, created: false }),
                None => Err(err),
            };
        }
        Err(err) => return Err(err),
    };
    pre.into_result()?;
    let now = clock::now_ms();
    let mut stored = Vec::new();
    for (u, f) in uploads.iter().zip(checked) {
        files::insert(&mut c, order.id, f, &u.data, now).await?;
        stored.push(json!({ "name": f.name, "type": f.content_type, "size": u.data.len() }));
    }
    if !stored.is_empty() {
        gongkai_kernel::audit::append(
            &mut c,
            &who.actor(ip),
            "hotline.files_add",
            "hl_order",
            order.id,
            json!({ "no": order.no, "files": stored }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Intaken { order, created: true })
}

pub async fn submit(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    IntakeBody { fields: f, files: uploads }: IntakeBody,
) -> WebResult<Response> {
    let r = refs(&state).await?;
    let mut pre = FieldErrors::new();
    let i = intake_of(&f, &r, &mut pre);
    let action = if f.get("action") == "answer" { "answer" } else { "dispatch" };
    let answer = f.get("answer").trim().to_string();
    let mut main = None;
    if action == "answer" {
        if answer.is_empty() {
            pre.add("answer", "直接答复并办结需填写答复内容");
        }
    } else {
        main = f.i64("main_org").or_else(|| r.suggested_org(&i.category, i.place_id));
        if main.is_none() {
            pre.add("main_org", "请选择主办单位（所选事项分类和街道社区都没有默认承办单位）");
        }
    }
    let checked = match files::check(&uploads) {
        Ok(c) => c,
        Err(m) => {
            pre.add("files", m);
            Vec::new()
        }
    };
    let taken = match take(&state, &who, &ip, &i, &uploads, &checked, pre).await {
        Ok(t) => t,
        Err(e) => {
            let mut typed = f.typed(MULTI);
            typed["category"] = json!(i.category);
            let ctx = form_ctx(&state, &who, typed, i.idem_key.as_deref().unwrap_or_default()).await?;
            return Ok(form_error(&state, &who, TEMPLATE, ctx, e));
        }
    };
    let o = taken.order;
    // A retry after the step already ran finds the order moved on: nothing more to do.
    let step = if o.state != crate::model::OrderState::Received.as_str() {
        Ok(())
    } else if action == "answer" {
        service::answer_directly(&state.db, &who, &ip, o.id, &answer).await.map(|_| ())
    } else {
        let d = Dispatch { main_org: main, co_orgs: f.all_i64("co_orgs"), note: f.get("note").trim().to_string() };
        service::dispatch(&state.db, &who, &ip, o.id, &d).await.map(|_| ())
    };
    match step {
        Ok(()) => Ok(see_other(&format!("/console/hotline/orders/{}?saved=intake-{action}", o.id))),
        // The order is taken; what failed is shown on its page with the step's form.
        Err(e) => {
            let typed = json!({ action: f.typed(MULTI) });
            super::order::show_error(&state, &who, &ip, o.id, action, typed, e).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct PhoneQuery {
    #[serde(default)]
    phone: String,
}

/// The caller's earlier orders as the number is typed (at least 4 digits).
pub async fn callers(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<PhoneQuery>,
) -> WebResult<Json<Vec<Value>>> {
    let rows = service::caller_history(&state.db, &who, &q.phone).await?;
    Ok(Json(history_json(&rows)))
}

/// The active category tree for picking by typing (path and keywords) with the
/// organisation each suggests.
pub async fn categories_json(State(state): State<AppState>, Auth(_who): Auth) -> WebResult<Json<Vec<Value>>> {
    let r = refs(&state).await?;
    Ok(Json(r.category_options()))
}
