//! Calendar use cases. Edits emit `calendar.changed` on the outbox so the slices that
//! hold deadlines (messages, work orders, disclosure requests) re-date open ones.

use serde_json::json;
use time::Date;

use super::rules::{Calendar, DayKind, OfficeHours, SpecialDay, parse_holiday_cn};
use super::store;
use crate::audit::{self, Actor};
use crate::clock::fmt_date;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::outbox;

const OFFICE_HOURS_KEY: &str = "calendar.office_hours";

/// The calendar as the database holds it now.
pub async fn load(db: &Db) -> Result<Calendar> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let days = store::all_days(&mut c).await?;
    let years = store::years(&mut c).await?;
    let special = days.into_iter().filter_map(|d| {
        Some(SpecialDay { date: crate::clock::parse_date(&d.day)?, kind: DayKind::parse(&d.kind)?, name: d.name })
    });
    Ok(Calendar::new(special, years.into_iter().map(|y| y.year as i32)))
}

pub async fn office_hours(db: &Db) -> Result<OfficeHours> {
    let mut h = db.read().await?;
    Ok(match store::get_setting(&mut h.conn(), OFFICE_HOURS_KEY).await? {
        Some(s) => OfficeHours::parse(&s).unwrap_or_default(),
        None => OfficeHours::default(),
    })
}

pub async fn set_office_hours(db: &Db, actor: &Actor, spec: &str) -> Result<OfficeHours> {
    let hours = OfficeHours::parse(spec).map_err(|m| Error::field("office_hours", m))?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = store::get_setting(&mut c, OFFICE_HOURS_KEY).await?;
    store::put_setting(&mut c, OFFICE_HOURS_KEY, &hours.to_string_spec()).await?;
    audit::append(
        &mut c,
        actor,
        "calendar.office_hours",
        "setting",
        OFFICE_HOURS_KEY,
        json!({ "before": before, "after": hours.to_string_spec() }),
    )
    .await?;
    outbox::emit(&mut c, "calendar.changed", "office_hours", json!({})).await?;
    tx.commit().await?;
    Ok(hours)
}

/// Import one holiday-cn style notice file. Returns (notice year, days written).
pub async fn import_notice(db: &Db, actor: &Actor, json_text: &str, source: &str) -> Result<(i32, usize)> {
    let (year, papers, days) = parse_holiday_cn(json_text).map_err(|m| Error::field("notice", m))?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    for d in &days {
        store::upsert_day(&mut c, &fmt_date(d.date), d.kind.as_str(), &d.name).await?;
    }
    // An empty notice (not yet published) does not mark the year as loaded.
    if !days.is_empty() {
        let by = actor.user_id;
        store::upsert_year(&mut c, year as i64, &serde_json::to_string(&papers).unwrap_or_default(), source, by)
            .await?;
    }
    audit::append(
        &mut c,
        actor,
        "calendar.import",
        "calendar_year",
        year,
        json!({ "days": days.len(), "papers": papers, "source": source }),
    )
    .await?;
    outbox::emit(&mut c, "calendar.changed", year, json!({ "year": year })).await?;
    tx.commit().await?;
    Ok((year, days.len()))
}

/// Seed the shipped notices into an empty calendar (first start).
pub async fn seed_if_empty(db: &Db) -> Result<bool> {
    {
        let mut h = db.read().await?;
        if !store::years(&mut h.conn()).await?.is_empty() {
            return Ok(false);
        }
    }
    let actor = Actor::system("calendar.seed");
    for text in super::OFFICIAL_NOTICES {
        import_notice(db, &actor, text, "holiday-cn").await?;
    }
    Ok(true)
}

/// Set one day's kind by hand (e.g. a notice's late correction). Setting a day to what
/// the weekday rule gives removes the exception.
pub async fn set_day(db: &Db, actor: &Actor, date: Date, kind: DayKind, name: &str) -> Result<()> {
    let name = name.trim();
    if name.chars().count() > 30 {
        return Err(Error::field("name", "名称不能超过 30 个字"));
    }
    let weekend = matches!(date.weekday(), time::Weekday::Saturday | time::Weekday::Sunday);
    match (kind, weekend) {
        (DayKind::Weekend, false) => {
            return Err(Error::field("kind", "工作日不能设为周末；如放假请选“法定节假日”"));
        }
        (DayKind::AdjustedWorkday, false) => {
            return Err(Error::field("kind", "调休上班只能设在周六或周日"));
        }
        (DayKind::Holiday, _) if name.is_empty() => {
            return Err(Error::field("name", "请填写节日名称"));
        }
        _ => {}
    }
    let day = fmt_date(date);
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = store::day(&mut c, &day).await?;
    let plain = (kind == DayKind::Weekend && weekend) || (kind == DayKind::Workday && !weekend);
    if plain {
        store::delete_day(&mut c, &day).await?;
    } else {
        store::upsert_day(&mut c, &day, kind.as_str(), name).await?;
    }
    audit::append(
        &mut c,
        actor,
        "calendar.set_day",
        "calendar_day",
        &day,
        json!({ "before": before, "after": { "kind": kind.as_str(), "name": name } }),
    )
    .await?;
    outbox::emit(&mut c, "calendar.changed", &day, json!({ "day": day })).await?;
    tx.commit().await?;
    Ok(())
}
