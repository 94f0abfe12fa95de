//! Statistics of the 12345 hotline: the daily roll-up of the timeline, the dashboard with
//! its breakdowns and charts, XLSX export of every table, the monthly operating report
//! (运行情况报告, HTML and DOCX) and the 民意调查 records.
//!
//! Every figure is counted from timeline entries (`hl_events`): a period's figures are
//! the sum of the roll-up (`hl_monthly` for whole months, `hl_daily` for other rolled
//! days) up to the last rolled day and a live count of the entries after it (today, and
//! any day the hourly job has not reached yet), read in one snapshot. The counts and the
//! formulas of the rates are in `figures`.
//!
//! Who sees what: the pages are for the centre (`Perm::HotlineIntake`), supervisors
//! (`Perm::Supervise`) and leaders (`Perm::LeaderView`), district-wide; polls are recorded
//! by the centre.

pub mod chart;
pub mod export;
pub mod figures;
pub mod polls;
pub mod report;
pub mod rollup;
pub mod store;
pub mod tables;
pub mod web;

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;

use gongkai_kernel::Result;
use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::clock::fmt_date;
use gongkai_kernel::db::Db;
use gongkai_kernel::jobs::runner::Registry;
use gongkai_kernel::web::Slice;

pub use figures::{Counts, Dims, Filter, Rates};
pub use rollup::{roll_part, rollup_now, rollup_range, rollup_until};

pub fn slice() -> Slice {
    web::slice()
}

/// Idempotent start-up work: the roll-up's hourly schedule.
pub async fn init(db: &Db) -> Result<()> {
    gongkai_kernel::jobs::ensure_schedule(db, "hl.rollup", "11 * * * *", "hl.rollup").await
}

pub fn register_jobs(reg: &mut Registry) {
    reg.register("hl.rollup", |ctx, _| async move {
        rollup_now(&ctx.db, gongkai_kernel::clock::now_ms()).await.map_err(|e| e.to_string())
    });
}

/// Sees the statistics, the reports and the polls.
pub fn may_view(who: &Principal) -> bool {
    who.has(Perm::HotlineIntake) || who.has(Perm::Supervise) || who.has(Perm::LeaderView)
}

/// Run `$body` on one read snapshot (`$c` is a `&mut Conn`): the mark and the roll-up
/// rows read together, so a roll-up committing meanwhile cannot count a day twice.
macro_rules! snapshot {
    ($db:expr, $c:ident => $body:expr) => {{
        let mut h = $db.read().await?;
        match &mut h {
            gongkai_kernel::db::Handle::Sqlite(conn) => {
                let mut tx = sqlx::Connection::begin(&mut **conn).await?;
                let r = {
                    let $c = &mut gongkai_kernel::db::Conn::Sqlite(&mut *tx);
                    $body
                };
                tx.commit().await?;
                r
            }
            gongkai_kernel::db::Handle::Pg(conn) => {
                let mut tx = sqlx::Connection::begin(&mut **conn).await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
                let r = {
                    let $c = &mut gongkai_kernel::db::Conn::Pg(&mut *tx);
                    $body
                };
                tx.commit().await?;
                r
            }
        }
    }};
}

/// A period's headline figures.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub from: String,
    pub to: String,
    pub counts: Counts,
    pub rates: Rates,
}

/// The figures of `from..=to` (days, Asia/Shanghai) restricted by `filter`.
pub async fn summary(db: &Db, from: Date, to: Date, filter: &Filter) -> Result<Summary> {
    let today = gongkai_kernel::clock::today();
    let rows = snapshot!(db, c => {
        let (mark, part) = marks(c, today).await?;
        store::counts(c, &figures::plan_with(from, to, mark, part), store::By::Total, filter).await?
    });
    let mut counts = Counts::default();
    for (_, _, x) in &rows {
        counts += x;
    }
    Ok(Summary { from: fmt_date(from), to: fmt_date(to), counts, rates: counts.rates() })
}

/// Everything the dashboard, the export and the report read for a period.
#[derive(Debug, Clone)]
pub struct Data {
    pub from: Date,
    pub to: Date,
    pub total: Counts,
    /// Counts by all five dimensions.
    pub rows: Vec<(Dims, Counts)>,
    /// The twelve months of `to`'s year, when asked for.
    pub trend: Vec<(String, Counts)>,
    pub tags: BTreeMap<String, (i64, i64)>,
    pub categories: BTreeMap<i64, String>,
    pub orgs: BTreeMap<i64, String>,
    /// The last rolled day.
    pub mark: Option<Date>,
}

/// The last rolled day and the partly rolled day after it, as a read sees them. The mark
/// is never today or later, even if a clock moved back.
async fn marks(c: &mut gongkai_kernel::db::Conn<'_>, today: Date) -> Result<(Option<Date>, Option<figures::Part>)> {
    let mark = store::mark(c).await?.filter(|m| *m < today);
    Ok((mark, store::part(c, mark).await?))
}

/// The twelve months of `year`: their plan, and the months with their counts from rows
/// grouped by month.
fn year_plan(year: i32, mark: Option<Date>, part: Option<figures::Part>) -> Option<figures::Plan> {
    let a = Date::from_calendar_date(year, time::Month::January, 1).ok()?;
    let b = Date::from_calendar_date(year, time::Month::December, 31).ok()?;
    Some(figures::plan_with(a, b, mark, part))
}

fn trend_of(year: i32, rows: Vec<(String, figures::Dims, Counts)>) -> Vec<(String, Counts)> {
    let by_month: BTreeMap<String, Counts> = store::merge(rows).into_iter().map(|(m, _, x)| (m, x)).collect();
    figures::months_of(year)
        .into_iter()
        .map(|m| {
            let x = by_month.get(&m).copied().unwrap_or_default();
            (m, x)
        })
        .collect()
}

/// The span of two optional day ranges.
fn span(a: Option<(Date, Date)>, b: Option<(Date, Date)>) -> Option<(Date, Date)> {
    match (a, b) {
        (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
        (x, None) | (None, x) => x,
    }
}

/// Reads a period (`trend`: also the months of `to`'s year). The tag counts are not
/// restricted by `filter`.
pub async fn load(db: &Db, from: Date, to: Date, filter: &Filter, today: Date, trend: bool) -> Result<Data> {
    let data = snapshot!(db, c => {
        let (mark, part) = marks(c, today).await?;
        let plan = figures::plan_with(from, to, mark, part);
        let year = if trend { year_plan(to.year(), mark, part) } else { None };
        // The timeline after the mark (and the part's cut) is read once for the period, the
        // trend and the tags.
        let live = match span(plan.live, year.as_ref().and_then(|y| y.live)) {
            Some((a, b)) => store::live(c, a, b, plan.since, filter).await?,
            None => Vec::new(),
        };
        let mut rows = store::rolled_counts(c, &plan, store::By::Dims, filter).await?;
        rows.extend(store::fold_live(&live, plan.live, store::By::Dims));
        let rows: Vec<(Dims, Counts)> = store::merge(rows).into_iter().map(|(_, d, c)| (d, c)).collect();
        let mut total = Counts::default();
        for (_, x) in &rows {
            total += x;
        }
        let trend = match &year {
            Some(y) => {
                let mut months = store::rolled_counts(c, y, store::By::Month, filter).await?;
                months.extend(store::fold_live(&live, y.live, store::By::Month));
                trend_of(to.year(), months)
            }
            None => Vec::new(),
        };
        let mut tags = store::rolled_tags(c, &plan).await?;
        let live_tags = if *filter == Filter::default() {
            store::fold_live_tags(&live, plan.live)
        } else if let Some((a, b)) = plan.live {
            // The tag counts are not restricted by the filter: read them on their own.
            store::live_tags(c, &fmt_date(a), &fmt_date(b), (plan.since, i64::MAX)).await?
        } else {
            BTreeMap::new()
        };
        for (t, (r, cl)) in live_tags {
            let e = tags.entry(t).or_default();
            e.0 += r;
            e.1 += cl;
        }
        let categories = store::category_names(c).await?;
        let orgs = store::org_names(c).await?;
        Data { from, to, total, rows, trend, tags, categories, orgs, mark }
    });
    Ok(data)
}
