//! SQL of the statistics: the roll-up statements and the reads over `hl_monthly`,
//! `hl_daily` and (for days not yet rolled) `hl_events`. One SQL text for both backends;
//! sums are cast to BIGINT because PostgreSQL's SUM of a BIGINT is NUMERIC.

use std::collections::BTreeMap;

use time::Date;

use gongkai_kernel::clock::fmt_date;
use gongkai_kernel::db::Conn;
use gongkai_kernel::error::Result;
use gongkai_kernel::with_conn;

use super::figures::{COUNT_COLUMNS, Counts, Dims, Filter, Plan};

/// Setting holding the last rolled day ('YYYY-MM-DD').
pub const MARK_KEY: &str = "hotline.rolled_until";
/// Setting written first in every roll-up transaction: on PostgreSQL its row lock
/// serialises concurrent roll-ups (SQLite's single writer already does).
const LOCK_KEY: &str = "hotline.rollup_lock";

/// The entries the roll-up reads: the counted kinds and the legs' lateness.
const COUNTED: &str =
    "(e.kind IN ('received', 'direct', 'dispatched', 'accepted', 'returned', 'replied', 'closed', 'callback')
  OR (e.kind = 'overdue' AND e.leg_id IS NOT NULL))";

/// The organisation of an entry: the leg's for leg entries, 0 for order-level ones.
const EV_ORG: &str =
    "CASE WHEN e.leg_id IS NOT NULL AND e.kind IN ('dispatched', 'accepted', 'returned', 'replied', 'overdue')
  THEN COALESCE(l.org_id, 0) ELSE 0 END";
const EV_DIMS: &str = "o.channel, o.kind, COALESCE(o.category_top, 0), o.street";
const EV_FROM: &str = "hl_events e JOIN hl_orders o ON o.id = e.order_id LEFT JOIN hl_legs l ON l.id = e.leg_id";

fn event_sums() -> String {
    COUNT_COLUMNS
        .iter()
        .map(|(name, cond)| format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0) AS BIGINT) AS {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn table_sums() -> String {
    COUNT_COLUMNS
        .iter()
        .map(|(name, _)| format!("CAST(COALESCE(SUM({name}), 0) AS BIGINT) AS {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn column_list() -> String {
    COUNT_COLUMNS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

async fn exec(c: &mut Conn<'_>, sql: String, args: &[String]) -> Result<u64> {
    Ok(with_conn!(c, x => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in args {
            q = q.bind(a);
        }
        q.execute(&mut **x).await.map(|r| r.rows_affected())
    })?)
}

// --- the roll-up ------------------------------------------------------------------------

pub async fn lock(c: &mut Conn<'_>, what: &str) -> Result<()> {
    gongkai_kernel::calendar::store::put_setting(c, LOCK_KEY, what).await
}

pub async fn mark(c: &mut Conn<'_>) -> Result<Option<Date>> {
    Ok(gongkai_kernel::calendar::store::get_setting(c, MARK_KEY)
        .await?
        .and_then(|s| gongkai_kernel::clock::parse_date(&s)))
}

pub async fn set_mark(c: &mut Conn<'_>, day: Date) -> Result<()> {
    gongkai_kernel::calendar::store::put_setting(c, MARK_KEY, &fmt_date(day)).await
}

/// The first day with timeline entries.
pub async fn first_event_day(c: &mut Conn<'_>) -> Result<Option<Date>> {
    let d: Option<String> = with_conn!(c, x => {
        sqlx::query_scalar("SELECT MIN(day) FROM hl_events").fetch_one(&mut **x).await
    })?;
    Ok(d.and_then(|s| gongkai_kernel::clock::parse_date(&s)))
}

/// Replace `day`'s rows of `hl_daily` with one set-based statement over its entries.
pub async fn roll_day(c: &mut Conn<'_>, day: &str) -> Result<u64> {
    exec(c, "DELETE FROM hl_daily WHERE day = $1".into(), &[day.to_string()]).await?;
    let sql = format!(
        "INSERT INTO hl_daily (day, channel, kind, category_top, street, org_id, {cols})
         SELECT e.day, {EV_DIMS}, {EV_ORG}, {sums}
         FROM {EV_FROM}
         WHERE e.day = $1 AND {COUNTED}
         GROUP BY e.day, {EV_DIMS}, {EV_ORG}",
        cols = column_list(),
        sums = event_sums(),
    );
    exec(c, sql, &[day.to_string()]).await
}

/// Orders received and closed per tag on the days `from..=to`: the entries grouped by
/// the order's tag list, split here (the same on both backends).
pub async fn live_tags(c: &mut Conn<'_>, from: &str, to: &str) -> Result<BTreeMap<String, (i64, i64)>> {
    let rows: Vec<(String, i64, i64)> = with_conn!(c, x => {
        sqlx::query_as(
            "SELECT o.tags, CAST(SUM(CASE WHEN e.kind = 'received' THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN e.kind = 'closed' THEN 1 ELSE 0 END) AS BIGINT)
             FROM hl_events e JOIN hl_orders o ON o.id = e.order_id
             WHERE e.day >= $1 AND e.day <= $2 AND e.kind IN ('received', 'closed') AND o.tags <> ''
             GROUP BY o.tags",
        )
        .bind(from).bind(to).fetch_all(&mut **x).await
    })?;
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (tags, received, closed) in rows {
        let mut seen = Vec::new();
        for t in tags.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if seen.contains(&t) {
                continue;
            }
            seen.push(t);
            let e = out.entry(t.to_string()).or_default();
            e.0 += received;
            e.1 += closed;
        }
    }
    Ok(out)
}

/// Replace `day`'s rows of `hl_daily_tags`.
pub async fn roll_tags(c: &mut Conn<'_>, day: &str) -> Result<u64> {
    exec(c, "DELETE FROM hl_daily_tags WHERE day = $1".into(), &[day.to_string()]).await?;
    let tags = live_tags(c, day, day).await?;
    let mut n = 0;
    for (tag, (received, closed)) in tags {
        n += with_conn!(c, x => {
            sqlx::query("INSERT INTO hl_daily_tags (day, tag, received, closed) VALUES ($1, $2, $3, $4)")
                .bind(day).bind(&tag).bind(received).bind(closed).execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(n)
}

/// Rebuild one month of `hl_monthly` from its rolled days `first..=last`.
pub async fn roll_month(c: &mut Conn<'_>, month: &str, first: &str, last: &str) -> Result<u64> {
    exec(c, "DELETE FROM hl_monthly WHERE month = $1".into(), &[month.to_string()]).await?;
    let sql = format!(
        "INSERT INTO hl_monthly (month, channel, kind, category_top, street, org_id, {cols})
         SELECT CAST($1 AS TEXT), channel, kind, category_top, street, org_id, {sums}
         FROM hl_daily WHERE day >= $2 AND day <= $3
         GROUP BY channel, kind, category_top, street, org_id",
        cols = column_list(),
        sums = table_sums(),
    );
    exec(c, sql, &[month.to_string(), first.to_string(), last.to_string()]).await
}

// --- reading ----------------------------------------------------------------------------

/// How read rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// By all five dimensions (totals and breakdowns are summed from these).
    Dims,
    /// By month ('YYYY-MM').
    Month,
    /// One row: the totals.
    Total,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct AggRow {
    month: String,
    channel: String,
    kind: String,
    category_top: i64,
    street: String,
    org_id: i64,
    #[sqlx(flatten)]
    counts: Counts,
}

/// Where one source's rows are.
struct Source {
    from: &'static str,
    /// The day or month column.
    month: &'static str,
    dims: [&'static str; 5],
    sums: String,
    /// Extra condition (the counted entries).
    cond: &'static str,
}

fn rolled(table: &'static str, month: &'static str) -> Source {
    Source {
        from: table,
        month,
        dims: ["channel", "kind", "category_top", "street", "org_id"],
        sums: table_sums(),
        cond: "1=1",
    }
}

fn live() -> Source {
    Source {
        from: EV_FROM,
        month: "SUBSTR(e.day, 1, 7)",
        dims: ["o.channel", "o.kind", "COALESCE(o.category_top, 0)", "o.street", EV_ORG],
        sums: event_sums(),
        cond: COUNTED,
    }
}

/// One SELECT over `src` restricted by `range` (SQL with $1.. placeholders for `args`).
async fn read(
    c: &mut Conn<'_>,
    src: &Source,
    by: By,
    range: &str,
    mut args: Vec<String>,
    f: &Filter,
) -> Result<Vec<AggRow>> {
    let mut cond = vec![range.to_string(), src.cond.to_string()];
    let bind = |args: &mut Vec<String>, v: &str| {
        args.push(v.to_string());
        format!("${}", args.len())
    };
    if let Some(v) = &f.channel {
        cond.push(format!("{} = {}", src.dims[0], bind(&mut args, v)));
    }
    if let Some(v) = &f.kind {
        cond.push(format!("{} = {}", src.dims[1], bind(&mut args, v)));
    }
    // Integers from typed filters: safe to write into the SQL.
    if let Some(v) = f.category_top {
        cond.push(format!("{} = {v}", src.dims[2]));
    }
    if let Some(v) = &f.street {
        cond.push(format!("{} = {}", src.dims[3], bind(&mut args, v)));
    }
    if let Some(v) = f.org_id {
        cond.push(format!("{} = {v}", src.dims[4]));
    }
    let [ch, ki, ca, st, og] = src.dims;
    // The dimensions a grouping leaves out are constants.
    let rest =
        "'' AS channel, '' AS kind, CAST(0 AS BIGINT) AS category_top, '' AS street, CAST(0 AS BIGINT) AS org_id";
    let (select, group) = match by {
        By::Dims => (
            format!("'' AS month, {ch} AS channel, {ki} AS kind, {ca} AS category_top, {st} AS street, {og} AS org_id"),
            format!(" GROUP BY {ch}, {ki}, {ca}, {st}, {og}"),
        ),
        By::Month => (format!("{} AS month, {rest}", src.month), format!(" GROUP BY {}", src.month)),
        By::Total => (format!("'' AS month, {rest}"), String::new()),
    };
    let sql = format!(
        "SELECT {select}, {sums} FROM {from} WHERE {cond}{group}",
        sums = src.sums,
        from = src.from,
        cond = cond.join(" AND "),
    );
    Ok(with_conn!(c, x => {
        let mut q = sqlx::query_as::<_, AggRow>(sqlx::AssertSqlSafe(sql));
        for a in &args {
            q = q.bind(a);
        }
        q.fetch_all(&mut **x).await
    })?)
}

/// The counts of a planned period, grouped `by`: rows of every source merged.
pub async fn counts(c: &mut Conn<'_>, p: &Plan, by: By, f: &Filter) -> Result<Vec<(String, Dims, Counts)>> {
    let mut rows = Vec::new();
    if let Some((a, b)) = &p.months {
        rows.extend(
            read(c, &rolled("hl_monthly", "month"), by, "month >= $1 AND month <= $2", vec![a.clone(), b.clone()], f)
                .await?,
        );
    }
    for (a, b) in &p.days {
        let src = rolled("hl_daily", "SUBSTR(day, 1, 7)");
        rows.extend(read(c, &src, by, "day >= $1 AND day <= $2", vec![fmt_date(*a), fmt_date(*b)], f).await?);
    }
    if let Some((a, b)) = &p.live {
        rows.extend(read(c, &live(), by, "e.day >= $1 AND e.day <= $2", vec![fmt_date(*a), fmt_date(*b)], f).await?);
    }
    let mut merged: BTreeMap<(String, Dims), Counts> = BTreeMap::new();
    for r in rows {
        let d =
            Dims { channel: r.channel, kind: r.kind, category_top: r.category_top, street: r.street, org_id: r.org_id };
        *merged.entry((r.month, d)).or_default() += &r.counts;
    }
    Ok(merged.into_iter().map(|((m, d), c)| (m, d, c)).collect())
}

/// Orders received and closed per tag over a planned period.
pub async fn tags(c: &mut Conn<'_>, p: &Plan) -> Result<BTreeMap<String, (i64, i64)>> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    if let Some((a, b)) = p.rolled.map(|(a, b)| (fmt_date(a), fmt_date(b))) {
        let rows: Vec<(String, i64, i64)> = with_conn!(c, x => {
            sqlx::query_as(
                "SELECT tag, CAST(SUM(received) AS BIGINT), CAST(SUM(closed) AS BIGINT) FROM hl_daily_tags
                 WHERE day >= $1 AND day <= $2 GROUP BY tag",
            )
            .bind(&a).bind(&b).fetch_all(&mut **x).await
        })?;
        for (t, r, cl) in rows {
            let e = out.entry(t).or_default();
            e.0 += r;
            e.1 += cl;
        }
    }
    if let Some((a, b)) = &p.live {
        for (t, (r, cl)) in live_tags(c, &fmt_date(*a), &fmt_date(*b)).await? {
            let e = out.entry(t).or_default();
            e.0 += r;
            e.1 += cl;
        }
    }
    Ok(out)
}

/// Top-level category names by id.
pub async fn category_names(c: &mut Conn<'_>) -> Result<BTreeMap<i64, String>> {
    let rows: Vec<(i64, String)> = with_conn!(c, x => {
        sqlx::query_as("SELECT id, name FROM hl_categories WHERE parent_id IS NULL").fetch_all(&mut **x).await
    })?;
    Ok(rows.into_iter().collect())
}

/// Organisation names by id.
pub async fn org_names(c: &mut Conn<'_>) -> Result<BTreeMap<i64, String>> {
    let rows: Vec<(i64, String)> = with_conn!(c, x => {
        sqlx::query_as("SELECT id, name FROM orgs").fetch_all(&mut **x).await
    })?;
    Ok(rows.into_iter().collect())
}
