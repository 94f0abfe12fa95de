//! Keys of the channel gateways (WeChat, Weibo, the app, e-mail) and of Open311 clients:
//! an administrator creates one (the key is shown once; only its SHA-256 is kept) and
//! deactivates it; every call is checked against the active keys of its kind.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use gongkai_kernel::audit::{self, Actor};
use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::clock;
use gongkai_kernel::db::Db;
use gongkai_kernel::error::{Error, FieldErrors, Result};
use gongkai_kernel::web::ctx::{form_error, render_with, see_other};
use gongkai_kernel::web::{AppState, Auth, ClientIp, CsrfForm, WebResult};

use crate::model::{Channel, ClientKind};
use crate::store::{self, ClientRow};

/// The stored form of a key.
pub fn key_hash(key: &str) -> String {
    audit::hex(&Sha256::digest(key.trim().as_bytes()))
}

/// The channels a client of each kind may carry: a gateway brings its platform's
/// channel; an Open311 client is `open311` unless it is one of our own channels (the app)
/// speaking Open311.
pub fn channels_for(kind: ClientKind) -> &'static [Channel] {
    match kind {
        ClientKind::Inbound => &[Channel::Wechat, Channel::Weibo, Channel::App, Channel::Email],
        ClientKind::Open311 => &[Channel::Open311, Channel::App, Channel::Wechat, Channel::Weibo, Channel::Email],
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NewClient {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub channel: String,
}

pub fn validate(n: &NewClient) -> FieldErrors {
    let mut e = FieldErrors::new();
    let name = n.name.trim();
    if name.is_empty() {
        e.add("name", "请填写客户端名称，如“青禾微信公众号”");
    } else if name.chars().count() > 50 {
        e.add("name", "名称不能超过 50 个字");
    } else if name.chars().any(char::is_control) {
        e.add("name", "名称不能包含控制字符");
    }
    match ClientKind::parse(&n.kind) {
        None => e.add("kind", "请选择接口类型"),
        Some(k) => {
            if !Channel::parse(&n.channel).is_some_and(|c| channels_for(k).contains(&c)) {
                let allowed: Vec<&str> = channels_for(k).iter().map(|c| c.label_zh()).collect();
                e.add("channel", format!("{}只能选择：{}", k.label_zh(), allowed.join("、")));
            }
        }
    }
    e
}

/// A new client and its key, as `actor` (the console, a CLI or a benchmark set-up).
pub async fn create_as(db: &Db, actor: &Actor, n: &NewClient) -> Result<(ClientRow, String)> {
    validate(n).into_result()?;
    let prefix = if n.kind == ClientKind::Open311.as_str() { "gk311" } else { "gkin" };
    let key = format!("{prefix}_{}", gongkai_kernel::random_token::<24>());
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let id = store::insert_client(&mut c, n.name.trim(), &n.kind, &n.channel, &key_hash(&key)).await?;
    audit::append(
        &mut c,
        actor,
        "hotline.client_create",
        "hl_client",
        id,
        json!({ "name": n.name.trim(), "kind": n.kind, "channel": n.channel }),
    )
    .await?;
    tx.commit().await?;
    let row = ClientRow {
        id,
        name: n.name.trim().to_string(),
        kind: n.kind.clone(),
        channel: n.channel.clone(),
        key_hash: key_hash(&key),
        active: 1,
        created_at: clock::now_ms(),
    };
    Ok((row, key))
}

fn manager(who: &Principal) -> Result<()> {
    if who.has(Perm::SettingsManage) {
        Ok(())
    } else {
        Err(Error::Forbidden("只有系统管理员可以管理接口客户端".into()))
    }
}

/// A new client by an administrator.
pub async fn create(db: &Db, who: &Principal, ip: &str, n: &NewClient) -> Result<(ClientRow, String)> {
    manager(who)?;
    create_as(db, &who.actor(ip), n).await
}

/// Stop a client's key from working; its orders stay.
pub async fn deactivate(db: &Db, who: &Principal, ip: &str, id: i64) -> Result<()> {
    manager(who)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let client = store::clients(&mut c).await?.into_iter().find(|x| x.id == id).ok_or(Error::NotFound)?;
    if client.active == 0 {
        return Err(Error::Conflict("该客户端已停用".into()));
    }
    store::set_client_active(&mut c, id, false).await?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "hotline.client_deactivate",
        "hl_client",
        id,
        json!({ "name": client.name, "kind": client.kind }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The active client of `kind` holding `key`.
pub async fn authenticate(db: &Db, key: &str, kind: ClientKind) -> Result<Option<ClientRow>> {
    let key = key.trim();
    if key.is_empty() || key.len() > 200 {
        return Ok(None);
    }
    let mut h = db.read().await?;
    let row = store::client_by_key_hash(&mut h.conn(), &key_hash(key)).await?;
    Ok(row.filter(|c| c.kind == kind.as_str() && c.active == 1))
}

// --- the console page -------------------------------------------------------------------

const TEMPLATE: &str = "console/hotline/clients.html";
const PAGE: &str = "/console/hotline/clients";

async fn page_ctx(state: &AppState) -> Result<Value> {
    let rows = {
        let mut h = state.db.read().await?;
        store::clients(&mut h.conn()).await?
    };
    let clients: Vec<Value> = rows
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "kind": ClientKind::parse(&c.kind).map(|k| k.label_zh()).unwrap_or(""),
                "channel": Channel::parse(&c.channel).map(|k| k.label_zh()).unwrap_or(""),
                "active": c.active == 1,
                "created": clock::fmt_ms(c.created_at),
            })
        })
        .collect();
    let kinds: Vec<Value> =
        ClientKind::ALL.iter().map(|k| json!({ "value": k.as_str(), "label": k.label_zh() })).collect();
    let mut channels: Vec<Value> = Vec::new();
    for c in channels_for(ClientKind::Open311) {
        channels.push(json!({ "value": c.as_str(), "label": c.label_zh() }));
    }
    Ok(json!({
        "clients": clients,
        "kinds": kinds,
        "channels": channels,
        "typed": { "kind": "inbound", "channel": "wechat" },
        "errors": {},
    }))
}

pub async fn page(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let ctx = page_ctx(&state).await?;
    Ok(render_with(&state, Some(&who), TEMPLATE, ctx, PAGE)?.into_response())
}

pub async fn create_form(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<NewClient>,
) -> WebResult<Response> {
    match create(&state.db, &who, &ip, &f).await {
        Ok((row, key)) => {
            let mut ctx = page_ctx(&state).await?;
            ctx["new_key"] = json!({ "name": row.name, "key": key });
            // The key is in this page only: answered directly (no redirect, nothing in a
            // URL) and never stored by a cache.
            let mut r = render_with(&state, Some(&who), TEMPLATE, ctx, PAGE)?.into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(r)
        }
        Err(e) => {
            let mut ctx = page_ctx(&state).await?;
            ctx["typed"] = json!(&f);
            Ok(form_error(&state, &who, TEMPLATE, ctx, e))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

pub async fn deactivate_form(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    deactivate(&state.db, &who, &ip, id).await?;
    Ok(see_other(PAGE))
}
