//! Log-in pages, the console home, own password and second factor, users and grants.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::service::{self as svc, PendingMfa, UserInput};
use super::{ALL_ROLES, OrgScope, Perm, Role, store};
use crate::error::Error;
use crate::web::ctx::{form_error, render, render_with, see_other};
use crate::web::middleware::{SESSION_COOKIE, cookie_value};
use crate::web::{AppState, Auth, ClientIp, CsrfForm, WebResult};

fn session_cookie(state: &AppState, headers: &HeaderMap, token: &str, max_age: Option<i64>) -> String {
    let https = state.cfg.security.force_secure_cookies
        || headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
    let secure = if https { "; Secure" } else { "" };
    let age = max_age.map(|a| format!("; Max-Age={a}")).unwrap_or_default();
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}{age}")
}

/// Only local paths are followed after log-in (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/console".to_string(),
    }
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(State(state): State<AppState>, Query(q): Query<NextQuery>) -> WebResult<Response> {
    Ok(render(&state, None, "console/login.html", json!({ "next": safe_next(q.next.as_deref()), "errors": {} }))?
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    axum::Form(f): axum::Form<LoginForm>,
) -> WebResult<Response> {
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let next = safe_next(Some(&f.next));
    match svc::login(&state.db, &state.cfg.security, &f.username, &f.password, &ip, ua).await {
        Ok(ok) => {
            let to = if ok.mfa_pending {
                format!("/login/totp?next={}", crate::web::middleware::urlencode(&next))
            } else if ok.must_change_password {
                "/console/password".to_string()
            } else {
                next
            };
            let mut r = see_other(&to);
            if let Ok(v) = session_cookie(&state, &headers, &ok.token, None).parse() {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Err(e) => {
            let (status, errors, message) = match &e {
                Error::Invalid(f) => (StatusCode::UNPROCESSABLE_ENTITY, json!(f.as_map()), String::new()),
                Error::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, json!({}), m.clone()),
                Error::Forbidden(m) => (StatusCode::FORBIDDEN, json!({}), m.clone()),
                _ => return Err(e.into()),
            };
            let html = render(
                &state,
                None,
                "console/login.html",
                json!({ "next": next, "username": f.username, "errors": errors, "error_message": message }),
            )?;
            Ok((status, html).into_response())
        }
    }
}

pub async fn totp_login_form(
    State(state): State<AppState>,
    pending: Option<axum::Extension<PendingMfa>>,
    Query(q): Query<NextQuery>,
) -> WebResult<Response> {
    if pending.is_none() {
        return Ok(see_other("/login"));
    }
    Ok(render(&state, None, "console/login_totp.html", json!({ "next": safe_next(q.next.as_deref()), "errors": {} }))?
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TotpForm {
    code: String,
    next: String,
}

pub async fn totp_login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    axum::Form(f): axum::Form<TotpForm>,
) -> WebResult<Response> {
    let Some(old) = cookie_value(&headers, SESSION_COOKIE) else {
        return Ok(see_other("/login"));
    };
    let next = safe_next(Some(&f.next));
    match svc::login_totp(&state.db, &state.cfg.security, &old, &f.code, &ip).await {
        Ok(token) => {
            let mut r = see_other(&next);
            if let Ok(v) = session_cookie(&state, &headers, &token, None).parse() {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Err(Error::Invalid(e)) => {
            let html = render(&state, None, "console/login_totp.html", json!({ "next": next, "errors": e.as_map() }))?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LogoutForm {
    _csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    who: Option<axum::Extension<std::sync::Arc<super::Principal>>>,
    axum::Form(f): axum::Form<LogoutForm>,
) -> WebResult<Response> {
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        let actor = match &who {
            Some(p) if !crate::web::ctx::constant_time_eq(f._csrf.as_bytes(), p.csrf_token.as_bytes()) => {
                return Err(Error::Forbidden("表单已过期，请刷新页面后重新退出".into()).into());
            }
            Some(p) => Some(p.actor(&ip)),
            None => None,
        };
        svc::logout(&state.db, &token, actor.as_ref()).await?;
    }
    let mut r = see_other("/login");
    if let Ok(v) = session_cookie(&state, &headers, "", Some(0)).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// The home page shows each role what it is there to do.
pub async fn home(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let cards: Vec<serde_json::Value> = [
        (Perm::UserManage, "/console/users", "用户管理", "新建账号、重置密码、停用离岗人员。"),
        (Perm::OrgManage, "/console/orgs", "机构管理", "维护全区机构树和统一社会信用代码。"),
        (Perm::GrantManage, "/console/users", "授权管理", "为用户分配角色及其机构、网站范围。"),
        (Perm::AuditRead, "/console/audit", "审计日志", "查看、筛选、导出所有操作记录，校验日志完整性。"),
        (Perm::SettingsManage, "/console/calendar", "工作日历", "录入国务院办公厅放假通知，设置办公时间。"),
        (Perm::JobView, "/console/jobs", "后台任务", "查看定时任务和失败的任务。"),
        (Perm::Console, "/console/calendar/due", "期限计算", "按工作日历计算办理期限，并说明推算过程。"),
    ]
    .into_iter()
    .filter(|(p, ..)| who.has(*p))
    .map(|(_, href, title, text)| json!({ "href": href, "title": title, "text": text }))
    .collect();
    let cal = crate::calendar::service::load(&state.db).await?;
    let today = crate::clock::today();
    let next_year = today.year() + 1;
    let warn_calendar = who.has(Perm::SettingsManage) && !cal.years_loaded().contains(&next_year);
    Ok(render_with(
        &state,
        Some(&who),
        "console/home.html",
        json!({ "cards": cards, "today": crate::clock::fmt_date(today), "today_kind": cal.kind(today).label_zh(), "warn_calendar": warn_calendar, "next_year": next_year }),
        "/console",
    )?
    .into_response())
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn password_form(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<SavedQuery>,
) -> WebResult<Response> {
    Ok(render(
        &state,
        Some(&who),
        "console/password.html",
        json!({ "errors": {}, "forced": who.must_change_password, "saved": q.saved.is_some() }),
    )?
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    old_password: String,
    new_password: String,
    confirm: String,
}

pub async fn password_change(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> WebResult<Response> {
    match svc::change_own_password(&state.db, &who, &ip, &f.old_password, &f.new_password, &f.confirm).await {
        Ok(()) => Ok(see_other("/console/password?saved=1")),
        Err(e) => {
            Ok(form_error(&state, &who, "console/password.html", json!({ "forced": who.must_change_password }), e))
        }
    }
}

pub async fn totp_page(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let enabled = {
        let mut h = state.db.read().await?;
        store::user_by_id(&mut h.conn(), who.user_id).await?.and_then(|u| u.totp_secret).is_some()
    };
    let secret = super::totp::new_secret();
    let uri = super::totp::otpauth_uri(&secret, &who.username);
    Ok(render(
        &state,
        Some(&who),
        "console/totp.html",
        json!({ "enabled": enabled, "secret": secret, "uri": uri, "errors": {} }),
    )?
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TotpUpdate {
    action: String,
    secret: String,
    code: String,
}

pub async fn totp_update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<TotpUpdate>,
) -> WebResult<Response> {
    let secret = (f.action == "enable").then_some(f.secret.as_str());
    match svc::set_totp(&state.db, &who, &ip, secret, &f.code).await {
        Ok(()) => Ok(see_other("/console/totp")),
        Err(e) => {
            let uri = super::totp::otpauth_uri(&f.secret, &who.username);
            Ok(form_error(
                &state,
                &who,
                "console/totp.html",
                json!({ "enabled": false, "secret": f.secret, "uri": uri }),
                e,
            ))
        }
    }
}

// ---- users ----

#[derive(Deserialize, Default)]
pub struct UsersQuery {
    q: Option<String>,
}

pub async fn users(State(state): State<AppState>, Auth(who): Auth, Query(q): Query<UsersQuery>) -> WebResult<Response> {
    let scope = who.org_scope(Perm::UserView);
    let paths = match &scope {
        OrgScope::All => None,
        OrgScope::Paths(p) => Some(p.as_slice()),
        OrgScope::None => Some(&[][..]),
    };
    let text = q.q.unwrap_or_default();
    let rows = {
        let mut h = state.db.read().await?;
        store::list_users(&mut h.conn(), paths, &text, 500).await?
    };
    Ok(render_with(
        &state,
        Some(&who),
        "console/users.html",
        json!({ "users": rows, "q": text, "can_manage": who.has(Perm::UserManage), "can_grant": who.has(Perm::GrantManage) }),
        "/console/users",
    )?
    .into_response())
}

async fn org_options(state: &AppState) -> WebResult<serde_json::Value> {
    let orgs = crate::org::service::list(&state.db).await?;
    Ok(json!(
        orgs.iter()
            .map(|o| json!({ "id": o.id, "label": format!("{}{}", "　".repeat(o.depth()), o.name) }))
            .collect::<Vec<_>>()
    ))
}

pub async fn user_new_form(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let orgs = org_options(&state).await?;
    Ok(render(
        &state,
        Some(&who),
        "console/user_form.html",
        json!({ "new": true, "u": {}, "orgs": orgs, "errors": {} }),
    )?
    .into_response())
}

pub async fn user_create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<UserInput>,
) -> WebResult<Response> {
    match svc::create_user(&state.db, Some(&who), &who.actor(&ip), &f, true).await {
        Ok(u) => Ok(see_other(&format!("/console/users/{}?saved=1", u.id))),
        Err(e) => {
            let orgs = org_options(&state).await?;
            let mut shown = f.clone();
            shown.password.clear();
            Ok(form_error(&state, &who, "console/user_form.html", json!({ "new": true, "u": shown, "orgs": orgs }), e))
        }
    }
}

pub async fn user_edit_form(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> WebResult<Response> {
    let user = {
        let mut h = state.db.read().await?;
        store::user_by_id(&mut h.conn(), id).await?.ok_or(Error::NotFound)?
    };
    let orgs = org_options(&state).await?;
    let u = json!({ "id": user.id, "username": user.username, "display_name": user.display_name, "org_id": user.org_id.map(|o| o.to_string()).unwrap_or_default(), "version": user.version, "disabled": user.disabled, "locked_until": user.locked_until, "totp": user.totp_secret.is_some() });
    Ok(render(
        &state,
        Some(&who),
        "console/user_form.html",
        json!({ "new": false, "u": u, "orgs": orgs, "errors": {}, "saved": q.saved.is_some() }),
    )?
    .into_response())
}

pub async fn user_update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<UserInput>,
) -> WebResult<Response> {
    match svc::update_user(&state.db, &who, &ip, id, &f).await {
        Ok(_) => Ok(see_other(&format!("/console/users/{id}?saved=1"))),
        Err(e) => {
            let orgs = org_options(&state).await?;
            let u = json!({ "id": id, "username": f.username, "display_name": f.display_name, "org_id": f.org_id, "version": f.version });
            Ok(form_error(&state, &who, "console/user_form.html", json!({ "new": false, "u": u, "orgs": orgs }), e))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    password: String,
}

pub async fn user_reset_password(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ResetForm>,
) -> WebResult<Response> {
    match svc::reset_password(&state.db, &who, &ip, id, &f.password).await {
        Ok(()) => Ok(see_other(&format!("/console/users/{id}?saved=1"))),
        Err(Error::Invalid(e)) => {
            let msg = e.get("password").unwrap_or("密码不符合要求").to_string();
            Err(Error::Conflict(format!("重置失败：{msg}")).into())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct Empty {}

pub async fn user_disable(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    svc::set_disabled(&state.db, &who, &ip, id, true).await?;
    Ok(see_other(&format!("/console/users/{id}?saved=1")))
}

pub async fn user_enable(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    svc::set_disabled(&state.db, &who, &ip, id, false).await?;
    Ok(see_other(&format!("/console/users/{id}?saved=1")))
}

// ---- grants ----

async fn grants_page(state: &AppState, who: &super::Principal, user_id: i64) -> WebResult<serde_json::Value> {
    let (user, grants) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        let u = store::user_by_id(&mut c, user_id).await?.ok_or(Error::NotFound)?;
        (u, store::grants_of(&mut c, user_id).await?)
    };
    let orgs = org_options(state).await?;
    let sites: Vec<_> = {
        let mut h = state.db.read().await?;
        crate::site::store::all(&mut h.conn()).await?
    }
    .into_iter()
    .filter(|s| !s.external)
    .map(|s| json!({ "id": s.id, "label": s.name }))
    .collect();
    let roles: Vec<_> = ALL_ROLES.iter().map(|r| json!({ "value": r.as_str(), "label": r.label_zh() })).collect();
    Ok(
        json!({ "user": { "id": user.id, "username": user.username, "display_name": user.display_name }, "grants": grants, "orgs": orgs, "sites": sites, "roles": roles, "self": user.id == who.user_id, "errors": {} }),
    )
}

pub async fn grants_of_user(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let ctx = grants_page(&state, &who, id).await?;
    Ok(render(&state, Some(&who), "console/grants.html", ctx)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct GrantForm {
    role: String,
    org_id: String,
    site_id: String,
}

pub async fn grant_add(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<GrantForm>,
) -> WebResult<Response> {
    let result = async {
        let role = Role::parse(&f.role).ok_or_else(|| Error::field("role", "请选择角色"))?;
        let org_id = match f.org_id.trim() {
            "" => None,
            s => Some(s.parse::<i64>().map_err(|_| Error::field("org_id", "机构范围无效"))?),
        };
        let site_id = match f.site_id.trim() {
            "" => None,
            s => Some(s.parse::<i64>().map_err(|_| Error::field("site_id", "网站编号应为正整数"))?),
        };
        svc::grant(&state.db, Some(&who), &who.actor(&ip), id, role, org_id, site_id).await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/console/grants/{id}"))),
        Err(e) => {
            let ctx = grants_page(&state, &who, id).await?;
            Ok(form_error(&state, &who, "console/grants.html", ctx, e))
        }
    }
}

pub async fn grant_revoke(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(grant_id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let user_id = svc::revoke(&state.db, &who, &ip, grant_id).await?;
    Ok(see_other(&format!("/console/grants/{user_id}")))
}
