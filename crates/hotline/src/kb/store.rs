//! SQL of the knowledge base. One SQL text for both backends.

use serde::Serialize;

use gongkai_kernel::db::{Backend, Conn};
use gongkai_kernel::error::Result;
use gongkai_kernel::with_conn;

/// One entry with the names the pages show (category path, owner, proposer, reviewer).
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct KbRow {
    pub id: i64,
    pub question: String,
    pub answer: String,
    pub category_id: Option<i64>,
    pub source: String,
    pub valid_until: Option<String>,
    pub org_id: i64,
    pub state: String,
    #[serde(skip)]
    pub tokens: String,
    pub from_order_id: Option<i64>,
    pub proposed_by: Option<i64>,
    pub reviewed_by: Option<i64>,
    pub review_note: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub category_path: Option<String>,
    pub org_name: Option<String>,
    pub org_short: Option<String>,
    pub org_path: Option<String>,
    pub proposer_name: Option<String>,
    pub reviewer_name: Option<String>,
    pub from_order_no: Option<String>,
}

const SELECT: &str = "SELECT k.id, k.question, k.answer, k.category_id, k.source, k.valid_until, k.org_id, k.state,
    k.tokens, k.from_order_id, k.proposed_by, k.reviewed_by, k.review_note, k.created_at, k.updated_at,
    c.path AS category_path, g.name AS org_name, g.short_name AS org_short, g.path AS org_path, pu.display_name AS proposer_name,
    ru.display_name AS reviewer_name, o.no AS from_order_no
  FROM hl_kb k
  LEFT JOIN hl_categories c ON c.id = k.category_id
  LEFT JOIN orgs g ON g.id = k.org_id
  LEFT JOIN users pu ON pu.id = k.proposed_by
  LEFT JOIN users ru ON ru.id = k.reviewed_by
  LEFT JOIN hl_orders o ON o.id = k.from_order_id";

/// What a new entry or an edit writes.
#[derive(Debug, Clone, Default)]
pub struct KbValues {
    pub question: String,
    pub answer: String,
    pub category_id: Option<i64>,
    pub source: String,
    pub valid_until: Option<String>,
    pub org_id: i64,
    pub state: String,
    pub tokens: String,
}

pub async fn insert(
    c: &mut Conn<'_>,
    v: &KbValues,
    from_order_id: Option<i64>,
    proposed_by: Option<i64>,
    now: i64,
) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO hl_kb (question, answer, category_id, source, valid_until, org_id, state, tokens, from_order_id,
               proposed_by, created_at, updated_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11) RETURNING id",
        )
        .bind(&v.question).bind(&v.answer).bind(v.category_id).bind(&v.source).bind(&v.valid_until).bind(v.org_id)
        .bind(&v.state).bind(&v.tokens).bind(from_order_id).bind(proposed_by).bind(now)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn update(c: &mut Conn<'_>, id: i64, v: &KbValues, now: i64) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query(
            "UPDATE hl_kb SET question = $2, answer = $3, category_id = $4, source = $5, valid_until = $6, org_id = $7,
               state = $8, tokens = $9, updated_at = $10 WHERE id = $1",
        )
        .bind(id).bind(&v.question).bind(&v.answer).bind(v.category_id).bind(&v.source).bind(&v.valid_until)
        .bind(v.org_id).bind(&v.state).bind(&v.tokens).bind(now)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// A review or a retirement: the new state, who decided and why.
pub async fn set_state(c: &mut Conn<'_>, id: i64, state: &str, reviewer: i64, note: &str, now: i64) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("UPDATE hl_kb SET state = $2, reviewed_by = $3, review_note = $4, updated_at = $5 WHERE id = $1")
            .bind(id).bind(state).bind(reviewer).bind(note).bind(now)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// One entry; inside a write transaction on PostgreSQL the row is locked first (SQLite
/// has one writer).
pub async fn get(c: &mut Conn<'_>, id: i64, lock: bool) -> Result<Option<KbRow>> {
    if lock && c.backend() == Backend::Postgres {
        with_conn!(c, x => {
            sqlx::query("SELECT id FROM hl_kb WHERE id = $1 FOR UPDATE").bind(id).fetch_optional(&mut **x).await.map(|r| r.is_some())
        })?;
    }
    let sql = format!("{SELECT} WHERE k.id = $1");
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, KbRow>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **x).await
    })?)
}

/// What the list loads before ranking and paging in Rust.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<String>,
    /// A category's path: entries of it and of its descendants.
    pub category_path: Option<String>,
    /// Only entries whose `valid_until` is before this day ('YYYY-MM-DD').
    pub stale_before: Option<String>,
    pub org_id: Option<i64>,
}

/// Entries matching the filter, the latest change first.
pub async fn list(c: &mut Conn<'_>, f: &Filter) -> Result<Vec<KbRow>> {
    let mut cond = vec!["1=1".to_string()];
    let mut args: Vec<String> = Vec::new();
    if let Some(s) = &f.state {
        args.push(s.clone());
        cond.push(format!("k.state = ${}", args.len()));
    }
    if let Some(p) = &f.category_path {
        args.push(p.clone());
        let a = args.len();
        args.push(format!("{p}/%"));
        cond.push(format!("(c.path = ${a} OR c.path LIKE ${})", args.len()));
    }
    if let Some(d) = &f.stale_before {
        args.push(d.clone());
        cond.push(format!("(k.valid_until IS NOT NULL AND k.valid_until <> '' AND k.valid_until < ${})", args.len()));
    }
    // A typed integer: safe to write into the SQL.
    if let Some(org) = f.org_id {
        cond.push(format!("k.org_id = {org}"));
    }
    let sql = format!("{SELECT} WHERE {} ORDER BY k.updated_at DESC, k.id DESC", cond.join(" AND "));
    Ok(with_conn!(c, x => {
        let mut q = sqlx::query_as::<_, KbRow>(sqlx::AssertSqlSafe(sql));
        for a in &args {
            q = q.bind(a);
        }
        q.fetch_all(&mut **x).await
    })?)
}

/// What search ranks: the active entries.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SearchRow {
    pub id: i64,
    pub question: String,
    pub answer: String,
    pub source: String,
    pub valid_until: Option<String>,
    pub tokens: String,
    pub category_path: Option<String>,
}

pub async fn active(c: &mut Conn<'_>) -> Result<Vec<SearchRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, SearchRow>(
            "SELECT k.id, k.question, k.answer, k.source, k.valid_until, k.tokens, c.path AS category_path
             FROM hl_kb k LEFT JOIN hl_categories c ON c.id = k.category_id
             WHERE k.state = 'active' ORDER BY k.id",
        )
        .fetch_all(&mut **x).await
    })?)
}

pub async fn count(c: &mut Conn<'_>) -> Result<i64> {
    Ok(with_conn!(c, x => { sqlx::query_scalar("SELECT COUNT(*) FROM hl_kb").fetch_one(&mut **x).await })?)
}
