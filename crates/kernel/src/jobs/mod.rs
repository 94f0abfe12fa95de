//! Durable jobs and schedules in the database.
//!
//! Claims: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on SQLite. A claim
//! takes a lease (`locked_until`); a node that dies leaves the lease to expire and
//! another node retries the job. Failures back off and, after `max_attempts`, the job is
//! `dead` and stays visible in the console until someone retries it. Schedules are rows
//! whose `next_run_at` is advanced by compare-and-set, so each tick runs once however
//! many nodes there are.

pub mod cron;
pub mod runner;
pub mod web;

use serde::Serialize;

use crate::db::{Backend, Conn, Db};
use crate::error::{Error, Result};
use crate::with_conn;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub dedupe_key: Option<String>,
    pub priority: i64,
    pub status: String,
    pub run_at: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub locked_by: Option<String>,
    pub locked_until: Option<i64>,
    pub last_error: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const JOB_COLS: &str = "id, kind, payload, dedupe_key, priority, status, run_at, attempts, max_attempts, locked_by, locked_until, last_error, created_at, updated_at";

/// Queue a job. With a `dedupe_key`, a second enqueue of the same key while the first
/// is not finished is a no-op (returns None).
pub async fn enqueue(
    c: &mut Conn<'_>,
    kind: &str,
    payload: &serde_json::Value,
    run_at: i64,
    dedupe_key: Option<&str>,
) -> Result<Option<i64>> {
    let now = crate::clock::now_ms();
    let id: Option<i64> = with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, dedupe_key, run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        )
        .bind(kind).bind(payload.to_string()).bind(dedupe_key).bind(run_at).bind(now)
        .fetch_optional(&mut **x).await
    })?;
    Ok(id)
}

/// Claim the next due job (or one whose lease expired) for `worker`.
pub async fn claim(db: &Db, worker: &str, lease_ms: i64) -> Result<Option<Job>> {
    let now = crate::clock::now_ms();
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3
         WHERE id = (SELECT id FROM jobs
                     WHERE (status = 'queued' AND run_at <= $3) OR (status = 'running' AND locked_until < $3)
                     ORDER BY priority DESC, run_at, id LIMIT 1 {lock})
         RETURNING {JOB_COLS}"
    );
    let mut tx = db.begin().await?;
    let job = with_conn!(&mut tx.conn(), x => {
        sqlx::query_as::<_, Job>(sqlx::AssertSqlSafe(sql)).bind(worker).bind(now + lease_ms).bind(now).fetch_optional(&mut **x).await
    })?;
    tx.commit().await?;
    Ok(job)
}

/// Extend the lease of a running job (long jobs heartbeat with this).
pub async fn heartbeat(db: &Db, id: i64, worker: &str, lease_ms: i64) -> Result<bool> {
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    let n = with_conn!(&mut tx.conn(), x => {
        sqlx::query("UPDATE jobs SET locked_until = $1 WHERE id = $2 AND locked_by = $3 AND status = 'running'")
            .bind(now + lease_ms).bind(id).bind(worker).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    Ok(n == 1)
}

pub async fn complete(db: &Db, id: i64, worker: &str) -> Result<()> {
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    with_conn!(&mut tx.conn(), x => {
        sqlx::query("UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, dedupe_key = NULL, updated_at = $1 WHERE id = $2 AND locked_by = $3")
            .bind(now).bind(id).bind(worker).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    Ok(())
}

/// Record a failure: retry later with backoff, or mark dead after the last attempt.
pub async fn fail(db: &Db, job: &Job, worker: &str, error: &str) -> Result<()> {
    let now = crate::clock::now_ms();
    let dead = job.attempts >= job.max_attempts;
    let run_at = now + cron::backoff_ms(job.attempts.max(1) as u32);
    let err: String = error.chars().take(2000).collect();
    let mut tx = db.begin().await?;
    with_conn!(&mut tx.conn(), x => {
        sqlx::query(
            "UPDATE jobs SET status = $1, run_at = $2, last_error = $3, locked_by = NULL, locked_until = NULL, updated_at = $4
             WHERE id = $5 AND locked_by = $6",
        )
        .bind(if dead { "dead" } else { "queued" }).bind(run_at).bind(&err).bind(now).bind(job.id).bind(worker)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    if dead {
        tracing::error!(job = job.id, kind = %job.kind, error = %err, "job failed for the last time and is now dead");
    } else {
        tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %err, "job failed; will retry");
    }
    Ok(())
}

/// Put a dead job back in the queue (console action, audited by the caller).
pub async fn retry(c: &mut Conn<'_>, id: i64) -> Result<Job> {
    let now = crate::clock::now_ms();
    let sql = format!(
        "UPDATE jobs SET status = 'queued', run_at = $1, attempts = 0, updated_at = $1 WHERE id = $2 AND status = 'dead' RETURNING {JOB_COLS}"
    );
    with_conn!(c, x => sqlx::query_as::<_, Job>(sqlx::AssertSqlSafe(sql)).bind(now).bind(id).fetch_optional(&mut **x).await)?
        .ok_or_else(|| Error::Conflict("只能重试已失败（dead）的任务".into()))
}

pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<Job>> {
    let sql = format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1");
    Ok(with_conn!(c, x => sqlx::query_as::<_, Job>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **x).await)?)
}

/// Jobs with the given status, newest first.
pub async fn list(c: &mut Conn<'_>, status: &str, limit: i64) -> Result<Vec<Job>> {
    let sql = format!("SELECT {JOB_COLS} FROM jobs WHERE status = $1 ORDER BY updated_at DESC, id DESC LIMIT $2");
    Ok(
        with_conn!(c, x => sqlx::query_as::<_, Job>(sqlx::AssertSqlSafe(sql)).bind(status).bind(limit).fetch_all(&mut **x).await)?,
    )
}

/// (status, count) for every status present, plus overdue queued jobs.
pub async fn counts(c: &mut Conn<'_>) -> Result<Vec<(String, i64)>> {
    Ok(
        with_conn!(c, x => sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status").fetch_all(&mut **x).await)?,
    )
}

pub async fn delete_done_before(c: &mut Conn<'_>, before: i64) -> Result<u64> {
    Ok(with_conn!(c, x => {
        sqlx::query("DELETE FROM jobs WHERE status = 'done' AND updated_at < $1").bind(before).execute(&mut **x).await.map(|r| r.rows_affected())
    })?)
}

// ---- schedules ----

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ScheduleRow {
    pub name: String,
    pub cron: String,
    pub job_kind: String,
    pub payload: String,
    pub enabled: bool,
    pub next_run_at: i64,
    pub last_run_at: Option<i64>,
}

/// Create or update a schedule row (idempotent at every start). Changing the cron
/// expression recomputes the next run.
pub async fn ensure_schedule(db: &Db, name: &str, cron_expr: &str, job_kind: &str) -> Result<()> {
    let sched = cron::Schedule::parse(cron_expr).map_err(|m| Error::field("cron", m))?;
    let now = crate::clock::now_ms();
    let next = sched.next_after_epoch_ms(now).unwrap_or(i64::MAX);
    let mut tx = db.begin().await?;
    with_conn!(&mut tx.conn(), x => {
        sqlx::query(
            "INSERT INTO schedules (name, cron, job_kind, next_run_at, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (name) DO UPDATE SET
                next_run_at = CASE WHEN schedules.cron = excluded.cron THEN schedules.next_run_at ELSE excluded.next_run_at END,
                cron = excluded.cron, job_kind = excluded.job_kind, updated_at = excluded.updated_at",
        )
        .bind(name).bind(cron_expr).bind(job_kind).bind(next).bind(now).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    Ok(())
}

pub async fn schedules(c: &mut Conn<'_>) -> Result<Vec<ScheduleRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, ScheduleRow>("SELECT name, cron, job_kind, payload, enabled, next_run_at, last_run_at FROM schedules ORDER BY name")
            .fetch_all(&mut **x).await
    })?)
}

/// Enqueue a job for every due schedule. The compare-and-set on `next_run_at` means
/// only one node wins each tick; the job is queued in the same transaction.
pub async fn fire_due_schedules(db: &Db) -> Result<usize> {
    let now = crate::clock::now_ms();
    let due: Vec<ScheduleRow> = {
        let mut h = db.read().await?;
        with_conn!(&mut h.conn(), x => {
            sqlx::query_as::<_, ScheduleRow>(
                "SELECT name, cron, job_kind, payload, enabled, next_run_at, last_run_at FROM schedules WHERE enabled = TRUE AND next_run_at <= $1",
            )
            .bind(now).fetch_all(&mut **x).await
        })?
    };
    let mut fired = 0;
    for s in due {
        let next = cron::Schedule::parse(&s.cron).ok().and_then(|c| c.next_after_epoch_ms(now)).unwrap_or(i64::MAX);
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        let won = with_conn!(&mut c, x => {
            sqlx::query("UPDATE schedules SET next_run_at = $1, last_run_at = $2 WHERE name = $3 AND next_run_at = $4")
                .bind(next).bind(now).bind(&s.name).bind(s.next_run_at).execute(&mut **x).await.map(|r| r.rows_affected())
        })? == 1;
        if won {
            let payload: serde_json::Value = serde_json::from_str(&s.payload).unwrap_or(serde_json::json!({}));
            let key = format!("schedule:{}:{}", s.name, s.next_run_at);
            enqueue(&mut c, &s.job_kind, &payload, now, Some(&key)).await?;
            fired += 1;
        }
        tx.commit().await?;
    }
    Ok(fired)
}
