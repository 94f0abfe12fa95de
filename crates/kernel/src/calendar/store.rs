//! SQL for calendar days, loaded notice years and settings.

use serde::Serialize;

use crate::db::Conn;
use crate::error::Result;
use crate::with_conn;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DayRow {
    pub day: String,
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct YearRow {
    pub year: i64,
    pub papers: String,
    pub source: String,
    pub loaded_at: i64,
}

pub async fn all_days(c: &mut Conn<'_>) -> Result<Vec<DayRow>> {
    Ok(
        with_conn!(c, x => sqlx::query_as::<_, DayRow>("SELECT day, kind, name FROM calendar_days ORDER BY day").fetch_all(&mut **x).await)?,
    )
}

pub async fn days_between(c: &mut Conn<'_>, from: &str, to: &str) -> Result<Vec<DayRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, DayRow>("SELECT day, kind, name FROM calendar_days WHERE day >= $1 AND day <= $2 ORDER BY day")
            .bind(from).bind(to).fetch_all(&mut **x).await
    })?)
}

pub async fn years(c: &mut Conn<'_>) -> Result<Vec<YearRow>> {
    Ok(
        with_conn!(c, x => sqlx::query_as::<_, YearRow>("SELECT year, papers, source, loaded_at FROM calendar_years ORDER BY year").fetch_all(&mut **x).await)?,
    )
}

pub async fn upsert_day(c: &mut Conn<'_>, day: &str, kind: &str, name: &str) -> Result<()> {
    let now = crate::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query(
            "INSERT INTO calendar_days (day, kind, name, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name, updated_at = excluded.updated_at",
        )
        .bind(day).bind(kind).bind(name).bind(now).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn delete_day(c: &mut Conn<'_>, day: &str) -> Result<()> {
    with_conn!(c, x => sqlx::query("DELETE FROM calendar_days WHERE day = $1").bind(day).execute(&mut **x).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn day(c: &mut Conn<'_>, day: &str) -> Result<Option<DayRow>> {
    Ok(
        with_conn!(c, x => sqlx::query_as::<_, DayRow>("SELECT day, kind, name FROM calendar_days WHERE day = $1").bind(day).fetch_optional(&mut **x).await)?,
    )
}

pub async fn upsert_year(c: &mut Conn<'_>, year: i64, papers: &str, source: &str, by: Option<i64>) -> Result<()> {
    let now = crate::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query(
            "INSERT INTO calendar_years (year, papers, source, loaded_at, loaded_by) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (year) DO UPDATE SET papers = excluded.papers, source = excluded.source, loaded_at = excluded.loaded_at, loaded_by = excluded.loaded_by",
        )
        .bind(year).bind(papers).bind(source).bind(now).bind(by).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn get_setting(c: &mut Conn<'_>, key: &str) -> Result<Option<String>> {
    Ok(
        with_conn!(c, x => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(&mut **x).await)?,
    )
}

pub async fn put_setting(c: &mut Conn<'_>, key: &str, value: &str) -> Result<()> {
    let now = crate::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key).bind(value).bind(now).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}
