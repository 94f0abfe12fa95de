//! SQL for users, grants and sessions.

use serde::Serialize;

use super::{Role, Scope};
use crate::db::Conn;
use crate::error::Result;
use crate::with_conn;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub org_id: Option<i64>,
    #[serde(skip)]
    pub password_hash: String,
    pub must_change_password: bool,
    pub disabled: bool,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    #[serde(skip)]
    pub totp_secret: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login_at: Option<i64>,
}

const USER_COLS: &str = "id, username, display_name, org_id, password_hash, must_change_password, disabled, failed_logins, locked_until, totp_secret, version, created_at, updated_at, last_login_at";

pub async fn user_by_username(c: &mut Conn<'_>, username: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE username = $1");
    Ok(
        with_conn!(c, x => sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(&mut **x).await)?,
    )
}

pub async fn user_by_id(c: &mut Conn<'_>, id: i64) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
    Ok(with_conn!(c, x => sqlx::query_as::<_, User>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **x).await)?)
}

/// A user row joined with its organisation's name, for lists.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub locked_until: Option<i64>,
    pub last_login_at: Option<i64>,
    pub roles: Option<String>,
}

/// Users, optionally restricted to organisation subtrees (`paths`), with a text filter.
pub async fn list_users(c: &mut Conn<'_>, paths: Option<&[String]>, q: &str, limit: i64) -> Result<Vec<UserRow>> {
    // One query whatever the number of grants: scope paths become OR'ed prefix tests.
    let mut sql = String::from(
        "SELECT u.id, u.username, u.display_name, u.org_id, o.name AS org_name, u.disabled, u.must_change_password,
                u.locked_until, u.last_login_at,
                (SELECT STRING_AGG(DISTINCT g.role, ',') FROM grants g WHERE g.user_id = u.id) AS roles
         FROM users u LEFT JOIN orgs o ON o.id = u.org_id WHERE 1 = 1",
    );
    let mut n = 0;
    if let Some(paths) = paths {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(&format!(" AND {}", crate::db::prefix_condition("o.path", paths.len(), &mut n)));
    }
    let q = q.trim();
    if !q.is_empty() {
        n += 1;
        sql.push_str(&format!(" AND (u.username LIKE ${n} OR u.display_name LIKE ${n})"));
    }
    sql.push_str(&format!(" ORDER BY u.username LIMIT {limit}"));
    if matches!(c, Conn::Sqlite(_)) {
        // SQLite spells STRING_AGG(DISTINCT x, sep) as GROUP_CONCAT(DISTINCT x) (comma only).
        sql = sql.replace("STRING_AGG(DISTINCT g.role, ',')", "GROUP_CONCAT(DISTINCT g.role)");
    }
    let like = format!("%{}%", q.replace(['%', '_'], ""));
    Ok(with_conn!(c, x => {
        let mut qy = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql.clone()));
        for p in paths.unwrap_or(&[]) {
            qy = qy.bind(format!("{p}%"));
        }
        if !q.is_empty() {
            qy = qy.bind(like.clone());
        }
        qy.fetch_all(&mut **x).await
    })?)
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub org_id: Option<i64>,
    pub password_hash: &'a str,
    pub must_change_password: bool,
}

pub async fn insert_user(c: &mut Conn<'_>, u: &NewUser<'_>) -> Result<i64> {
    let now = crate::clock::now_ms();
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO users (username, display_name, org_id, password_hash, must_change_password, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(u.username).bind(u.display_name).bind(u.org_id).bind(u.password_hash).bind(u.must_change_password).bind(now)
        .fetch_one(&mut **x)
        .await
    })?)
}

/// Update profile fields if the version matches; false when someone else saved first.
pub async fn update_user_profile(
    c: &mut Conn<'_>,
    id: i64,
    version: i64,
    display_name: &str,
    org_id: Option<i64>,
) -> Result<bool> {
    let now = crate::clock::now_ms();
    let r = with_conn!(c, x => {
        sqlx::query("UPDATE users SET display_name = $1, org_id = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5")
            .bind(display_name).bind(org_id).bind(now).bind(id).bind(version)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(r == 1)
}

pub async fn set_password(c: &mut Conn<'_>, id: i64, hash: &str, must_change: bool) -> Result<()> {
    let now = crate::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2, failed_logins = 0, locked_until = NULL, version = version + 1, updated_at = $3 WHERE id = $4")
            .bind(hash).bind(must_change).bind(now).bind(id)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn set_disabled(c: &mut Conn<'_>, id: i64, disabled: bool) -> Result<()> {
    let now = crate::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query("UPDATE users SET disabled = $1, version = version + 1, updated_at = $2 WHERE id = $3")
            .bind(disabled).bind(now).bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn set_totp(c: &mut Conn<'_>, id: i64, secret: Option<&str>) -> Result<()> {
    let now = crate::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query("UPDATE users SET totp_secret = $1, version = version + 1, updated_at = $2 WHERE id = $3")
            .bind(secret).bind(now).bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Count a failed log-in in the database (so the lockout holds on every node) and
/// lock the account when the threshold is reached. Returns (failures, locked_until).
pub async fn record_failure(c: &mut Conn<'_>, id: i64, threshold: i64, lock_until: i64) -> Result<(i64, Option<i64>)> {
    // After an expired lock the count starts again from one. SET expressions read the
    // old row on both backends.
    let now = crate::clock::now_ms();
    Ok(with_conn!(c, x => {
        sqlx::query_as(
            "UPDATE users SET
                failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= $4 THEN 1 ELSE failed_logins + 1 END,
                locked_until = CASE
                    WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= $4 THEN 1 ELSE failed_logins + 1 END) >= $1 THEN $2
                    WHEN locked_until IS NOT NULL AND locked_until <= $4 THEN NULL
                    ELSE locked_until END
             WHERE id = $3 RETURNING failed_logins, locked_until",
        )
        .bind(threshold).bind(lock_until).bind(id).bind(now)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn record_success(c: &mut Conn<'_>, id: i64) -> Result<()> {
    let now = crate::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $1 WHERE id = $2")
            .bind(now).bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

// ---- grants ----

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct GrantRow {
    pub id: i64,
    pub user_id: i64,
    pub role: String,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub org_path: Option<String>,
    pub site_id: Option<i64>,
    pub granted_at: i64,
}

pub async fn grants_of(c: &mut Conn<'_>, user_id: i64) -> Result<Vec<GrantRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, GrantRow>(
            "SELECT g.id, g.user_id, g.role, g.org_id, o.name AS org_name, o.path AS org_path, g.site_id, g.granted_at
             FROM grants g LEFT JOIN orgs o ON o.id = g.org_id WHERE g.user_id = $1 ORDER BY g.id",
        )
        .bind(user_id).fetch_all(&mut **x).await
    })?)
}

pub fn scopes(rows: &[GrantRow]) -> Vec<Scope> {
    rows.iter()
        .filter_map(|g| {
            Some(Scope {
                role: Role::parse(&g.role)?,
                org_id: g.org_id,
                org_path: g.org_path.clone(),
                site_id: g.site_id,
            })
        })
        .collect()
}

pub async fn insert_grant(
    c: &mut Conn<'_>,
    user_id: i64,
    role: Role,
    org_id: Option<i64>,
    site_id: Option<i64>,
    by: Option<i64>,
) -> Result<i64> {
    let now = crate::clock::now_ms();
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO grants (user_id, role, org_id, site_id, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user_id).bind(role.as_str()).bind(org_id).bind(site_id).bind(by).bind(now)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn grant_by_id(c: &mut Conn<'_>, id: i64) -> Result<Option<GrantRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, GrantRow>(
            "SELECT g.id, g.user_id, g.role, g.org_id, o.name AS org_name, o.path AS org_path, g.site_id, g.granted_at
             FROM grants g LEFT JOIN orgs o ON o.id = g.org_id WHERE g.id = $1",
        )
        .bind(id).fetch_optional(&mut **x).await
    })?)
}

pub async fn delete_grant(c: &mut Conn<'_>, id: i64) -> Result<()> {
    with_conn!(c, x => sqlx::query("DELETE FROM grants WHERE id = $1").bind(id).execute(&mut **x).await.map(|r| r.rows_affected()))?;
    Ok(())
}

// ---- sessions ----

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub mfa_pending: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: i64,
    pub csrf: &'a str,
    pub mfa_pending: bool,
    pub expires_at: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

pub async fn insert_session(c: &mut Conn<'_>, s: &NewSession<'_>) -> Result<()> {
    let now = crate::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, csrf_token, mfa_pending, created_at, last_seen_at, expires_at, ip, user_agent)
             VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)",
        )
        .bind(s.id).bind(s.user_id).bind(s.csrf).bind(s.mfa_pending).bind(now).bind(s.expires_at).bind(s.ip).bind(s.user_agent)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn session_by_id(c: &mut Conn<'_>, id: &str) -> Result<Option<SessionRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, SessionRow>(
            "SELECT id, user_id, csrf_token, mfa_pending, created_at, last_seen_at, expires_at FROM sessions WHERE id = $1",
        )
        .bind(id).fetch_optional(&mut **x).await
    })?)
}

pub async fn touch_session(c: &mut Conn<'_>, id: &str, now: i64, expires_at: i64) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3")
            .bind(now).bind(expires_at).bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn clear_mfa_pending(c: &mut Conn<'_>, id: &str) -> Result<()> {
    with_conn!(c, x => sqlx::query("UPDATE sessions SET mfa_pending = FALSE WHERE id = $1").bind(id).execute(&mut **x).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_session(c: &mut Conn<'_>, id: &str) -> Result<()> {
    with_conn!(c, x => sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&mut **x).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_sessions_of(c: &mut Conn<'_>, user_id: i64, except: Option<&str>) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user_id).bind(except.unwrap_or("")).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn delete_expired_sessions(c: &mut Conn<'_>, now: i64) -> Result<u64> {
    Ok(with_conn!(c, x => {
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(&mut **x).await.map(|r| r.rows_affected())
    })?)
}
