//! The daily roll-up (job `hl.rollup`, hourly): every day before today not yet rolled is
//! counted into `hl_daily` and `hl_daily_tags` with set-based statements, then its month of
//! `hl_monthly` is rebuilt and the mark (setting `hotline.rolled_until`) moves on in the
//! same transaction, so readers always see the roll-up and the mark agree. Re-rolling a
//! day replaces its rows: the roll-up is idempotent.

use time::Date;

use gongkai_kernel::clock::fmt_date;
use gongkai_kernel::db::Db;
use gongkai_kernel::error::Result;

use super::figures::{month_bounds, month_key};
use super::store;

/// Roll every day before `today` that is not yet rolled. Returns the days rolled.
pub async fn rollup_until(db: &Db, today: Date) -> Result<u64> {
    let Some(yesterday) = today.previous_day() else { return Ok(0) };
    let start = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        match store::mark(&mut c).await? {
            Some(m) => m.next_day(),
            None => store::first_event_day(&mut c).await?,
        }
    };
    match start {
        Some(s) if s <= yesterday => roll(db, s, yesterday).await,
        _ => Ok(0),
    }
}

/// Re-roll the days `from..=to` (after a bulk load or a correction), together with every
/// earlier day not yet rolled; days from today on are left to the live count. Returns
/// the days rolled.
pub async fn rollup_range(db: &Db, from: Date, to: Date, today: Date) -> Result<u64> {
    let Some(yesterday) = today.previous_day() else { return Ok(0) };
    let unrolled = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        match store::mark(&mut c).await? {
            Some(m) => m.next_day(),
            None => store::first_event_day(&mut c).await?,
        }
    };
    let start = unrolled.map_or(from, |u| u.min(from));
    let end = to.min(yesterday);
    if start > end {
        return Ok(0);
    }
    roll(db, start, end).await
}

/// Roll `start..=end`: each day in its own transaction, then per month the monthly rows
/// and the mark in one more.
async fn roll(db: &Db, start: Date, end: Date) -> Result<u64> {
    let mut n = 0;
    let mut day = start;
    loop {
        let (first, last) = month_bounds(day);
        let chunk_end = last.min(end);
        while day <= chunk_end {
            let d = fmt_date(day);
            let mut tx = db.begin().await?;
            let mut c = tx.conn();
            store::lock(&mut c, &d).await?;
            store::roll_day(&mut c, &d).await?;
            store::roll_tags(&mut c, &d).await?;
            tx.commit().await?;
            n += 1;
            match day.next_day() {
                Some(x) => day = x,
                None => return Ok(n),
            }
        }
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        store::lock(&mut c, &month_key(first)).await?;
        // The mark never moves back: a re-roll of old days leaves later rolled days rolled.
        let mark = store::mark(&mut c).await?.map_or(chunk_end, |m| m.max(chunk_end));
        store::roll_month(&mut c, &month_key(first), &fmt_date(first), &fmt_date(last.min(mark))).await?;
        store::set_mark(&mut c, mark).await?;
        tx.commit().await?;
        if chunk_end >= end {
            return Ok(n);
        }
    }
}
