//! The daily roll-up (job `hl.rollup`, hourly): every day before today not yet rolled is
//! counted into `hl_daily` and `hl_daily_tags` with set-based statements, then its month of
//! `hl_monthly` is rebuilt and the mark (setting `hotline.rolled_until`) moves on in the
//! same transaction, so readers always see the roll-up and the mark agree. Re-rolling a
//! day replaces its rows: the roll-up is idempotent. Then today's entries before a cut
//! (`PART_MARGIN_MS` ago) are rolled the same way (`roll_part`), so a page counts live
//! only the last hour or so of the timeline, however busy the day.

use time::Date;

use gongkai_kernel::clock::{fmt_date, ms_to_local};
use gongkai_kernel::db::Db;
use gongkai_kernel::error::Result;

use super::figures::{Part, month_bounds, month_key};
use super::store;

/// How long before the roll-up its cut lies: far longer than any transaction that writes
/// timeline entries (their time is taken inside it), so every entry before the cut has
/// been committed when the cut is rolled.
pub const PART_MARGIN_MS: i64 = 10 * 60 * 1000;

/// Roll the entries before `cut` of `cut`'s day, if that day follows the mark (every
/// earlier day rolled whole). Returns whether it did. Rolling again moves the cut on,
/// adding only the entries since the last cut (an hour's, not the whole day's, with the
/// writer held).
pub async fn roll_part(db: &Db, cut: i64) -> Result<bool> {
    let day = ms_to_local(cut).date();
    let d = fmt_date(day);
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    store::lock(&mut c, &d).await?;
    let mark = store::mark(&mut c).await?;
    if mark.and_then(|m| m.next_day()) != Some(day) {
        return Ok(false);
    }
    // From the start of the day unless the last cut was earlier on it (`part` is only ever
    // this day's; a clock that moved back gets the day recounted).
    let since = match store::part(&mut c, mark).await? {
        Some(p) if p.cut <= cut => p.cut,
        _ => i64::MIN,
    };
    store::roll_day(&mut c, &d, (since, cut)).await?;
    store::roll_tags(&mut c, &d, (since, cut)).await?;
    store::set_part(&mut c, Part { day, cut }).await?;
    tx.commit().await?;
    Ok(true)
}

/// What the hourly job does at `now`: roll every finished day not yet rolled, then today's
/// entries up to `PART_MARGIN_MS` before `now`.
pub async fn rollup_now(db: &Db, now: i64) -> Result<()> {
    rollup_until(db, ms_to_local(now).date()).await?;
    roll_part(db, now - PART_MARGIN_MS).await?;
    Ok(())
}

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
    // Entries loaded or corrected for today are found again: the next part is counted
    // from the start of the day, and until then today is counted live.
    let mut tx = db.begin().await?;
    store::clear_part(&mut tx.conn()).await?;
    tx.commit().await?;
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
            store::roll_day(&mut c, &d, (i64::MIN, i64::MAX)).await?;
            store::roll_tags(&mut c, &d, (i64::MIN, i64::MAX)).await?;
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
