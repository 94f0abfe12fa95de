//! Log-in, sessions, users and grants as use cases: rules, store, audit and outbox in
//! one transaction each.

use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::store::{self, NewUser, User};
use super::{Perm, Principal, Role, password};
use crate::audit::{self, Actor};
use crate::config::Security;
use crate::db::Db;
use crate::error::{Error, FieldErrors, Result, is_unique_violation};
use crate::{org, outbox};

/// What a session cookie resolves to.
pub enum SessionState {
    Active(Principal),
    /// Password accepted, second factor still to come.
    MfaPending(i64),
}

/// Marker in request extensions for a half-signed-in (TOTP pending) session.
#[derive(Clone, Copy, Debug)]
pub struct PendingMfa(pub i64);

pub fn session_id(token: &str) -> String {
    crate::audit::hex(&Sha256::digest(token.as_bytes()))
}

/// Resolve a cookie token. Expired sessions (idle or absolute) and disabled users give None.
pub async fn principal_for_token(db: &Db, sec: &Security, token: &str) -> Result<Option<SessionState>> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let id = session_id(token);
    let now = crate::clock::now_ms();
    let (sess, user, grants) = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        let Some(sess) = store::session_by_id(&mut c, &id).await? else {
            return Ok(None);
        };
        let max_ms = sec.session_max_hours as i64 * 3_600_000;
        if sess.expires_at < now || sess.created_at + max_ms < now {
            return Ok(None);
        }
        let Some(user) = store::user_by_id(&mut c, sess.user_id).await? else {
            return Ok(None);
        };
        if user.disabled {
            return Ok(None);
        }
        let grants = store::grants_of(&mut c, user.id).await?;
        (sess, user, grants)
    };
    // Slide the idle expiry, at most once a minute per session to spare the writer.
    if now - sess.last_seen_at > 60_000 {
        let idle_ms = sec.session_idle_minutes as i64 * 60_000;
        let mut tx = db.begin().await?;
        store::touch_session(&mut tx.conn(), &id, now, now + idle_ms).await?;
        tx.commit().await?;
    }
    if sess.mfa_pending {
        return Ok(Some(SessionState::MfaPending(user.id)));
    }
    Ok(Some(SessionState::Active(Principal {
        user_id: user.id,
        username: user.username,
        display_name: user.display_name,
        org_id: user.org_id,
        must_change_password: user.must_change_password,
        session_id: id,
        csrf_token: sess.csrf_token,
        grants: store::scopes(&grants),
    })))
}

/// A brand-new session (never a reused id: rotation at every log-in step). Returns the
/// cookie token; only its hash is stored.
async fn start_session(
    c: &mut crate::db::Conn<'_>,
    sec: &Security,
    user_id: i64,
    mfa_pending: bool,
    ip: &str,
    ua: &str,
) -> Result<String> {
    let token = crate::random_token::<32>();
    let (id, csrf) = (session_id(&token), crate::random_token::<16>());
    let ua: String = ua.chars().take(200).collect();
    let expires_at = crate::clock::now_ms() + sec.session_idle_minutes as i64 * 60_000;
    let new = store::NewSession { id: &id, user_id, csrf: &csrf, mfa_pending, expires_at, ip, user_agent: &ua };
    store::insert_session(c, &new).await?;
    Ok(token)
}

/// A user's principal outside a request (CLI tools, demo seeding, tests): the user and
/// their grants from the database, with no session.
pub async fn principal_of(db: &Db, user_id: i64) -> Result<Principal> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let u = store::user_by_id(&mut c, user_id).await?.ok_or(Error::NotFound)?;
    let grants = store::grants_of(&mut c, user_id).await?;
    Ok(Principal {
        user_id,
        username: u.username,
        display_name: u.display_name,
        org_id: u.org_id,
        must_change_password: u.must_change_password,
        session_id: String::new(),
        csrf_token: String::new(),
        grants: store::scopes(&grants),
    })
}

pub struct LoginOk {
    pub token: String,
    pub mfa_pending: bool,
    pub must_change_password: bool,
}

fn bad_credentials() -> Error {
    Error::field("password", "用户名或密码错误")
}

/// Check a password log-in. Failures are counted in the database (lockout holds on every
/// node); success rotates to a brand-new session.
pub async fn login(db: &Db, sec: &Security, username: &str, pw: &str, ip: &str, ua: &str) -> Result<LoginOk> {
    let username = username.trim();
    if username.is_empty() || pw.is_empty() {
        let mut e = FieldErrors::new();
        if username.is_empty() {
            e.add("username", "请输入用户名");
        }
        if pw.is_empty() {
            e.add("password", "请输入密码");
        }
        return Err(Error::Invalid(e));
    }
    let user = {
        let mut h = db.read().await?;
        store::user_by_username(&mut h.conn(), username).await?
    };
    let Some(user) = user else {
        // Same work as a real check, so timing does not reveal which usernames exist.
        password::verify(pw, password::dummy_hash()).await;
        return Err(bad_credentials());
    };
    let now = crate::clock::now_ms();
    if let Some(until) = user.locked_until
        && until > now
    {
        return Err(Error::TooMany(format!(
            "连续登录失败次数过多，账号已锁定至 {}，请稍后再试或联系系统管理员",
            crate::clock::fmt_ms(until)
        )));
    }
    let ok = password::verify(pw, &user.password_hash).await;
    let actor = Actor {
        user_id: Some(user.id),
        name: user.username.clone(),
        role: String::new(),
        org_id: user.org_id,
        ip: ip.to_string(),
    };
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    if !ok {
        let until = now + sec.lockout_minutes as i64 * 60_000;
        let (fails, locked) = store::record_failure(&mut c, user.id, sec.lockout_threshold as i64, until).await?;
        let locked_now = locked.is_some_and(|l| l > now);
        audit::append(
            &mut c,
            &actor,
            if locked_now { "auth.locked" } else { "auth.login_failed" },
            "user",
            user.id,
            json!({ "failures": fails }),
        )
        .await?;
        tx.commit().await?;
        if locked_now {
            return Err(Error::TooMany(format!("连续 {fails} 次登录失败，账号已锁定 {} 分钟", sec.lockout_minutes)));
        }
        let left = sec.lockout_threshold as i64 - fails;
        return Err(Error::field("password", format!("用户名或密码错误（再错 {left} 次将锁定账号）")));
    }
    if user.disabled {
        tx.commit().await?;
        return Err(Error::Forbidden("该账号已停用，请联系系统管理员".into()));
    }
    store::record_success(&mut c, user.id).await?;
    let mfa = user.totp_secret.is_some();
    let token = start_session(&mut c, sec, user.id, mfa, ip, ua).await?;
    audit::append(&mut c, &actor, "auth.login", "user", user.id, json!({ "second_factor_pending": mfa })).await?;
    tx.commit().await?;
    Ok(LoginOk { token, mfa_pending: mfa, must_change_password: user.must_change_password })
}

/// Second step of a TOTP log-in: the pending session becomes a full one, under a new id.
pub async fn login_totp(db: &Db, sec: &Security, old_token: &str, code: &str, ip: &str) -> Result<String> {
    let old_id = session_id(old_token);
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let sess = store::session_by_id(&mut c, &old_id)
        .await?
        .filter(|s| s.mfa_pending && s.expires_at > now)
        .ok_or(Error::Unauthenticated)?;
    let user = store::user_by_id(&mut c, sess.user_id).await?.ok_or(Error::Unauthenticated)?;
    let secret = user.totp_secret.clone().unwrap_or_default();
    let actor = Actor {
        user_id: Some(user.id),
        name: user.username.clone(),
        role: String::new(),
        org_id: user.org_id,
        ip: ip.to_string(),
    };
    if !super::totp::verify(&secret, code, now / 1000) {
        let until = now + sec.lockout_minutes as i64 * 60_000;
        let (fails, locked) = store::record_failure(&mut c, user.id, sec.lockout_threshold as i64, until).await?;
        audit::append(&mut c, &actor, "auth.totp_failed", "user", user.id, json!({ "failures": fails })).await?;
        if locked.is_some_and(|l| l > now) {
            store::delete_session(&mut c, &old_id).await?;
        }
        tx.commit().await?;
        return Err(Error::field("code", "动态验证码不正确"));
    }
    store::delete_session(&mut c, &old_id).await?;
    store::record_success(&mut c, user.id).await?;
    let token = start_session(&mut c, sec, user.id, false, ip, "").await?;
    audit::append(&mut c, &actor, "auth.login_totp", "user", user.id, json!({})).await?;
    tx.commit().await?;
    Ok(token)
}

pub async fn logout(db: &Db, token: &str, actor: Option<&Actor>) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    store::delete_session(&mut c, &session_id(token)).await?;
    if let Some(a) = actor {
        audit::append(&mut c, a, "auth.logout", "user", a.user_id.unwrap_or(0), json!({})).await?;
    }
    tx.commit().await
}

// ---- users ----

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub org_id: String,
    pub password: String,
    pub version: String,
}

fn validate_username(errs: &mut FieldErrors, s: &str) {
    let ok = (3..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !ok {
        errs.add("username", "用户名为 3–32 位小写字母、数字或 . _ -");
    }
}

fn parse_org(errs: &mut FieldErrors, s: &str) -> Option<i64> {
    match s.trim() {
        "" => None,
        v => v.parse::<i64>().ok().or_else(|| {
            errs.add("org_id", "所属机构无效");
            None
        }),
    }
}

fn validate_display_name(errs: &mut FieldErrors, s: &str) {
    let n = s.trim().chars().count();
    if n == 0 {
        errs.add("display_name", "请填写姓名");
    } else if n > 50 {
        errs.add("display_name", "姓名不能超过 50 个字");
    }
}

/// The organisation a user belongs to must exist and be within the actor's reach.
async fn check_org_scope(db: &Db, who: Option<&Principal>, org_id: Option<i64>) -> Result<Option<String>> {
    let path = match org_id {
        Some(id) => Some(org::service::get(db, id).await.map_err(|_| Error::field("org_id", "所属机构不存在"))?.path),
        None => None,
    };
    if let Some(p) = who
        && !p.can(Perm::UserManage, path.as_deref(), None)
    {
        return Err(Error::field("org_id", "您不能管理该机构的用户"));
    }
    Ok(path)
}

/// Create a user. From the console the account must change its password at first log-in.
pub async fn create_user(
    db: &Db,
    who: Option<&Principal>,
    actor: &Actor,
    input: &UserInput,
    must_change: bool,
) -> Result<User> {
    let mut errs = FieldErrors::new();
    let username = input.username.trim().to_lowercase();
    validate_username(&mut errs, &username);
    validate_display_name(&mut errs, &input.display_name);
    let org_id = parse_org(&mut errs, &input.org_id);
    if let Err(m) = password::check_policy(&input.password, &username) {
        errs.add("password", m);
    }
    errs.into_result()?;
    check_org_scope(db, who, org_id).await?;
    let hash = password::hash(&input.password).await?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let nu = NewUser {
        username: &username,
        display_name: input.display_name.trim(),
        org_id,
        password_hash: &hash,
        must_change_password: must_change,
    };
    let id = match store::insert_user(&mut c, &nu).await {
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::field("username", "该用户名已被使用"));
        }
        r => r?,
    };
    let user = store::user_by_id(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, actor, "user.create", "user", id, json!({ "after": &user })).await?;
    outbox::emit(&mut c, "user.changed", id, json!({ "op": "create" })).await?;
    tx.commit().await?;
    Ok(user)
}

async fn load_in_scope(db: &Db, who: &Principal, id: i64) -> Result<User> {
    let user = {
        let mut h = db.read().await?;
        store::user_by_id(&mut h.conn(), id).await?.ok_or(Error::NotFound)?
    };
    let path = match user.org_id {
        Some(o) => Some(org::service::get(db, o).await?.path),
        None => None,
    };
    if !who.can(Perm::UserManage, path.as_deref(), None) {
        return Err(Error::Forbidden("您不能管理该用户".into()));
    }
    Ok(user)
}

pub async fn update_user(db: &Db, who: &Principal, ip: &str, id: i64, input: &UserInput) -> Result<User> {
    let mut errs = FieldErrors::new();
    validate_display_name(&mut errs, &input.display_name);
    let org_id = parse_org(&mut errs, &input.org_id);
    let version: Option<i64> = input.version.trim().parse().ok();
    if version.is_none() {
        errs.add("version", "缺少版本号，请刷新后重试");
    }
    errs.into_result()?;
    let before = load_in_scope(db, who, id).await?;
    check_org_scope(db, Some(who), org_id).await?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    if !store::update_user_profile(&mut c, id, version.unwrap_or(0), input.display_name.trim(), org_id).await? {
        return Err(Error::Conflict("该用户已被他人修改，请刷新页面查看最新内容后再保存".into()));
    }
    let after = store::user_by_id(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, &who.actor(ip), "user.update", "user", id, json!({ "before": &before, "after": &after }))
        .await?;
    outbox::emit(&mut c, "user.changed", id, json!({ "op": "update" })).await?;
    tx.commit().await?;
    Ok(after)
}

/// An administrator sets a temporary password; the user must change it at next log-in.
pub async fn reset_password(db: &Db, who: &Principal, ip: &str, id: i64, new_password: &str) -> Result<()> {
    let user = load_in_scope(db, who, id).await?;
    password::check_policy(new_password, &user.username).map_err(|m| Error::field("password", m))?;
    let hash = password::hash(new_password).await?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    store::set_password(&mut c, id, &hash, true).await?;
    store::delete_sessions_of(&mut c, id, None).await?;
    audit::append(&mut c, &who.actor(ip), "user.reset_password", "user", id, json!({})).await?;
    tx.commit().await
}

pub async fn set_disabled(db: &Db, who: &Principal, ip: &str, id: i64, disabled: bool) -> Result<()> {
    if id == who.user_id && disabled {
        return Err(Error::Conflict("不能停用自己的账号".into()));
    }
    load_in_scope(db, who, id).await?;
    set_disabled_as(db, &who.actor(ip), id, disabled).await
}

pub async fn set_disabled_as(db: &Db, actor: &Actor, id: i64, disabled: bool) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    store::user_by_id(&mut c, id).await?.ok_or(Error::NotFound)?;
    store::set_disabled(&mut c, id, disabled).await?;
    if disabled {
        store::delete_sessions_of(&mut c, id, None).await?;
    }
    audit::append(&mut c, actor, if disabled { "user.disable" } else { "user.enable" }, "user", id, json!({})).await?;
    outbox::emit(&mut c, "user.changed", id, json!({ "op": "disable" })).await?;
    tx.commit().await
}

/// CLI password change (no old password: the operator has the machine).
pub async fn set_password_as(
    db: &Db,
    actor: &Actor,
    username: &str,
    new_password: &str,
    must_change: bool,
) -> Result<()> {
    password::check_policy(new_password, username).map_err(|m| Error::field("password", m))?;
    let hash = password::hash(new_password).await?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let user = store::user_by_username(&mut c, username)
        .await?
        .ok_or_else(|| Error::field("username", format!("用户 {username} 不存在")))?;
    store::set_password(&mut c, user.id, &hash, must_change).await?;
    store::delete_sessions_of(&mut c, user.id, None).await?;
    audit::append(&mut c, actor, "user.reset_password", "user", user.id, json!({})).await?;
    tx.commit().await
}

/// The user changes their own password (old one required); other sessions end.
pub async fn change_own_password(
    db: &Db,
    who: &Principal,
    ip: &str,
    old: &str,
    new: &str,
    confirm: &str,
) -> Result<()> {
    let user = {
        let mut h = db.read().await?;
        store::user_by_id(&mut h.conn(), who.user_id).await?.ok_or(Error::Unauthenticated)?
    };
    let mut errs = FieldErrors::new();
    if !password::verify(old, &user.password_hash).await {
        errs.add("old_password", "原密码不正确");
    }
    if let Err(m) = password::check_policy(new, &user.username) {
        errs.add("new_password", m);
    } else if new == old {
        errs.add("new_password", "新密码不能与原密码相同");
    }
    if new != confirm {
        errs.add("confirm", "两次输入的新密码不一致");
    }
    errs.into_result()?;
    let hash = password::hash(new).await?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    store::set_password(&mut c, who.user_id, &hash, false).await?;
    store::delete_sessions_of(&mut c, who.user_id, Some(&who.session_id)).await?;
    audit::append(&mut c, &who.actor(ip), "user.change_password", "user", who.user_id, json!({})).await?;
    tx.commit().await
}

/// Turn the second factor on (after proving a code from the new secret) or off.
pub async fn set_totp(db: &Db, who: &Principal, ip: &str, secret: Option<&str>, code: &str) -> Result<()> {
    if let Some(s) = secret
        && !super::totp::verify(s, code, crate::clock::now_ms() / 1000)
    {
        return Err(Error::field("code", "动态验证码不正确，请核对手机上的验证器后重试"));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    store::set_totp(&mut c, who.user_id, secret).await?;
    audit::append(
        &mut c,
        &who.actor(ip),
        if secret.is_some() { "user.totp_enable" } else { "user.totp_disable" },
        "user",
        who.user_id,
        json!({}),
    )
    .await?;
    tx.commit().await
}

// ---- grants ----

/// Grant a role. Only the security administrator can; nobody grants to themself; a
/// person holds at most one of the three administrator roles (三员分立).
pub async fn grant(
    db: &Db,
    who: Option<&Principal>,
    actor: &Actor,
    user_id: i64,
    role: Role,
    org_id: Option<i64>,
    site_id: Option<i64>,
) -> Result<i64> {
    if let Some(p) = who {
        if !p.has(Perm::GrantManage) {
            return Err(Error::Forbidden("只有安全管理员可以授权".into()));
        }
        if p.user_id == user_id {
            return Err(Error::Forbidden("不能给自己授权".into()));
        }
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let user = store::user_by_id(&mut c, user_id).await?.ok_or(Error::NotFound)?;
    if let Some(oid) = org_id
        && org::store::get(&mut c, oid).await?.is_none()
    {
        return Err(Error::field("org_id", "授权范围中的机构不存在"));
    }
    if let Some(sid) = site_id
        && crate::site::store::get(&mut c, sid).await?.is_none()
    {
        return Err(Error::field("site_id", "授权范围中的网站不存在"));
    }
    let existing = store::grants_of(&mut c, user_id).await?;
    if role.is_admin_triad()
        && let Some(other) =
            existing.iter().filter_map(|g| Role::parse(&g.role)).find(|r| r.is_admin_triad() && *r != role)
    {
        return Err(Error::field(
            "role",
            format!("三员分立：{} 已是{}，不能再兼任{}", user.display_name, other.label_zh(), role.label_zh()),
        ));
    }
    let id = match store::insert_grant(&mut c, user_id, role, org_id, site_id, actor.user_id).await {
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::field("role", "该用户已有相同范围的此角色"));
        }
        r => r?,
    };
    audit::append(
        &mut c,
        actor,
        "grant.add",
        "user",
        user_id,
        json!({ "grant": id, "role": role.as_str(), "org_id": org_id, "site_id": site_id }),
    )
    .await?;
    outbox::emit(&mut c, "user.changed", user_id, json!({ "op": "grant" })).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn revoke(db: &Db, who: &Principal, ip: &str, grant_id: i64) -> Result<i64> {
    if !who.has(Perm::GrantManage) {
        return Err(Error::Forbidden("只有安全管理员可以撤销授权".into()));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let g = store::grant_by_id(&mut c, grant_id).await?.ok_or(Error::NotFound)?;
    if g.user_id == who.user_id {
        return Err(Error::Forbidden("不能撤销自己的授权".into()));
    }
    store::delete_grant(&mut c, grant_id).await?;
    audit::append(&mut c, &who.actor(ip), "grant.revoke", "user", g.user_id, json!({ "before": &g })).await?;
    outbox::emit(&mut c, "user.changed", g.user_id, json!({ "op": "revoke" })).await?;
    tx.commit().await?;
    Ok(g.user_id)
}
