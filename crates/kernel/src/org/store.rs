//! SQL for organisations.

use super::{Org, OrgValues};
use crate::db::Conn;
use crate::error::Result;
use crate::with_conn;

const COLS: &str = "id, parent_id, path, name, short_name, kind, uscc, org_code, division_code, phone, address, email, sort_order, version, created_at, updated_at";

pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<Org>> {
    let sql = format!("SELECT {COLS} FROM orgs WHERE id = $1");
    Ok(with_conn!(c, x => sqlx::query_as::<_, Org>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **x).await)?)
}

/// Every organisation in tree order (by path segments' sort order is approximated by
/// path, then sort_order within siblings, done in Rust to keep the SQL portable).
pub async fn all(c: &mut Conn<'_>) -> Result<Vec<Org>> {
    let sql = format!("SELECT {COLS} FROM orgs ORDER BY path");
    let rows: Vec<Org> =
        with_conn!(c, x => sqlx::query_as::<_, Org>(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **x).await)?;
    Ok(tree_order(rows))
}

/// Depth-first order with siblings by (sort_order, name).
pub fn tree_order(mut rows: Vec<Org>) -> Vec<Org> {
    rows.sort_by(|a, b| a.sort_order.cmp(&b.sort_order).then_with(|| a.name.cmp(&b.name)));
    let mut out = Vec::with_capacity(rows.len());
    fn visit(parent: Option<i64>, rows: &[Org], out: &mut Vec<Org>, depth: usize) {
        if depth > 64 {
            return;
        }
        for r in rows.iter().filter(|r| r.parent_id == parent) {
            out.push(r.clone());
            visit(Some(r.id), rows, out, depth + 1);
        }
    }
    visit(None, &rows, &mut out, 0);
    out
}

pub async fn insert(c: &mut Conn<'_>, v: &OrgValues, parent_path: &str) -> Result<i64> {
    let now = crate::clock::now_ms();
    let id: i64 = with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO orgs (parent_id, path, name, short_name, kind, uscc, org_code, division_code, phone, address, email, sort_order, created_at, updated_at)
             VALUES ($1, '', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(v.parent_id).bind(&v.name).bind(&v.short_name).bind(v.kind.as_str()).bind(&v.uscc).bind(&v.org_code)
        .bind(&v.division_code).bind(&v.phone).bind(&v.address).bind(&v.email).bind(v.sort_order).bind(now)
        .fetch_one(&mut **x).await
    })?;
    let path = format!("{parent_path}{id}/");
    with_conn!(c, x => sqlx::query("UPDATE orgs SET path = $1 WHERE id = $2").bind(&path).bind(id).execute(&mut **x).await.map(|r| r.rows_affected()))?;
    Ok(id)
}

/// Update if `version` matches; false when another save came first.
pub async fn update(c: &mut Conn<'_>, id: i64, version: i64, v: &OrgValues) -> Result<bool> {
    let now = crate::clock::now_ms();
    let n = with_conn!(c, x => {
        sqlx::query(
            "UPDATE orgs SET parent_id = $1, name = $2, short_name = $3, kind = $4, uscc = $5, org_code = $6, division_code = $7,
                    phone = $8, address = $9, email = $10, sort_order = $11, version = version + 1, updated_at = $12
             WHERE id = $13 AND version = $14",
        )
        .bind(v.parent_id).bind(&v.name).bind(&v.short_name).bind(v.kind.as_str()).bind(&v.uscc).bind(&v.org_code)
        .bind(&v.division_code).bind(&v.phone).bind(&v.address).bind(&v.email).bind(v.sort_order).bind(now)
        .bind(id).bind(version)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Move a subtree: rewrite the path prefix of the node and all its descendants.
pub async fn rewrite_paths(c: &mut Conn<'_>, old_prefix: &str, new_prefix: &str) -> Result<()> {
    let like = format!("{old_prefix}%");
    let cut = old_prefix.chars().count() as i32 + 1; // SUBSTR takes int4 on PostgreSQL
    with_conn!(c, x => {
        sqlx::query("UPDATE orgs SET path = $1 || SUBSTR(path, $2) WHERE path LIKE $3")
            .bind(new_prefix).bind(cut).bind(&like).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// (children, users) still attached to an organisation.
pub async fn dependents(c: &mut Conn<'_>, id: i64) -> Result<(i64, i64)> {
    Ok(with_conn!(c, x => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM orgs WHERE parent_id = $1), (SELECT COUNT(*) FROM users WHERE org_id = $1)",
        )
        .bind(id).fetch_one(&mut **x).await
    })?)
}

pub async fn delete(c: &mut Conn<'_>, id: i64) -> Result<()> {
    with_conn!(c, x => sqlx::query("DELETE FROM orgs WHERE id = $1").bind(id).execute(&mut **x).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn count(c: &mut Conn<'_>) -> Result<i64> {
    Ok(with_conn!(c, x => sqlx::query_scalar("SELECT COUNT(*) FROM orgs").fetch_one(&mut **x).await)?)
}
