//! Message statistics for a period: a pure function over rows (tested alone), and the
//! entry point the annual report calls.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;

use gongkai_kernel::calendar::rules::{Calendar, format_date, parse_date};
use gongkai_kernel::db::Db;
use gongkai_kernel::error::Result;

use super::{KINDS, store};

/// What the statistics need of one message.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct StatRow {
    pub kind: String,
    pub state: String,
    pub submitted_on: String,
    pub accepted_on: Option<String>,
    pub due_on: Option<String>,
    pub sent_on: Option<String>,
    pub published_on: Option<String>,
    pub rating: Option<String>,
    /// The handling organisation's name, else the addressed one's.
    pub org_name: String,
}

/// The counts of one slice (all, or one type).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Submitted in the period.
    pub received: u64,
    /// Accepted in the period.
    pub accepted: u64,
    /// Refused (不予受理) among those received in the period.
    pub rejected: u64,
    /// Replies sent in the period.
    pub replied: u64,
    /// … of which on or before their due date.
    pub replied_on_time: u64,
    /// Mean working days from acceptance to sending, over the replies of the period
    /// (one decimal); None without replies.
    pub average_days: Option<f64>,
    /// Replies published in the period.
    pub published: u64,
    pub satisfied: u64,
    pub basic: u64,
    pub unsatisfied: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    #[serde(with = "ymd")]
    pub from: Date,
    #[serde(with = "ymd")]
    pub to: Date,
    pub total: Counts,
    /// Per type code (every type listed, in the form's order).
    pub by_kind: Vec<(String, Counts)>,
    /// Per organisation (handling, else addressed) with anything in the period, most
    /// messages received first.
    pub by_org: Vec<(String, Counts)>,
}

mod ymd {
    pub fn serialize<S: serde::Serializer>(d: &time::Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&gongkai_kernel::calendar::rules::format_date(*d))
    }
}

fn within(d: Option<&str>, from: Date, to: Date) -> Option<Date> {
    d.and_then(parse_date).filter(|d| *d >= from && *d <= to)
}

fn count(rows: &[&StatRow], cal: &Calendar, from: Date, to: Date) -> Counts {
    let mut c = Counts::default();
    let mut days_total: u64 = 0;
    for r in rows {
        if within(Some(&r.submitted_on), from, to).is_some() {
            c.received += 1;
            if r.state == "rejected" {
                c.rejected += 1;
            }
        }
        if within(r.accepted_on.as_deref(), from, to).is_some() {
            c.accepted += 1;
        }
        if let Some(sent) = within(r.sent_on.as_deref(), from, to) {
            c.replied += 1;
            if r.due_on.as_deref().and_then(parse_date).is_some_and(|due| sent <= due) {
                c.replied_on_time += 1;
            }
            if let Some(acc) = r.accepted_on.as_deref().and_then(parse_date) {
                days_total += u64::from(cal.working_days_between(acc, sent));
            }
            match r.rating.as_deref() {
                Some("satisfied") => c.satisfied += 1,
                Some("basic") => c.basic += 1,
                Some("unsatisfied") => c.unsatisfied += 1,
                _ => {}
            }
        }
        if within(r.published_on.as_deref(), from, to).is_some() {
            c.published += 1;
        }
    }
    if c.replied > 0 {
        c.average_days = Some((days_total as f64 / c.replied as f64 * 10.0).round() / 10.0);
    }
    c
}

/// The statistics of `rows` for the period [from, to]. Ratings count with the reply they
/// rate (a reply sent in the period).
pub fn compute(rows: &[StatRow], cal: &Calendar, from: Date, to: Date) -> Stats {
    let all: Vec<&StatRow> = rows.iter().collect();
    let mut by: BTreeMap<&str, Vec<&StatRow>> = BTreeMap::new();
    let mut by_org: BTreeMap<&str, Vec<&StatRow>> = BTreeMap::new();
    for r in rows {
        by.entry(r.kind.as_str()).or_default().push(r);
        by_org.entry(r.org_name.as_str()).or_default().push(r);
    }
    let mut orgs: Vec<(String, Counts)> = by_org
        .into_iter()
        .map(|(o, rs)| (o.to_string(), count(&rs, cal, from, to)))
        .filter(|(_, c)| *c != Counts::default())
        .collect();
    // Stable: equal counts stay in name order.
    orgs.sort_by_key(|o| std::cmp::Reverse(o.1.received));
    Stats {
        from,
        to,
        total: count(&all, cal, from, to),
        by_kind: KINDS
            .iter()
            .map(|(k, _)| (k.to_string(), count(by.get(k).map(Vec::as_slice).unwrap_or(&[]), cal, from, to)))
            .collect(),
        by_org: orgs,
    }
}

/// The statistics of a site (None: every site) and organisation subtree (the handling
/// organisation, else the addressed one; None: all) for [from, to]: the annual report's
/// entry point.
pub async fn stats(db: &Db, site_id: Option<i64>, org_path: Option<&str>, from: Date, to: Date) -> Result<Stats> {
    let cal = gongkai_kernel::calendar::service::load(db).await?;
    let rows = {
        let mut h = db.read().await?;
        store::stat_rows(&mut h.conn(), site_id, org_path, &format_date(to)).await?
    };
    Ok(compute(&rows, &cal, from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn row(kind: &str, state: &str, sub: &str, acc: Option<&str>, due: Option<&str>, sent: Option<&str>) -> StatRow {
        StatRow {
            kind: kind.into(),
            state: state.into(),
            submitted_on: sub.into(),
            accepted_on: acc.map(Into::into),
            due_on: due.map(Into::into),
            sent_on: sent.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn counts_over_a_period() {
        let cal = Calendar::new([], [2025]);
        let mut rows = vec![
            // Mon accepted, sent Fri: 4 working days, on time.
            row("consult", "sent", "2025-03-02", Some("2025-03-03"), Some("2025-03-10"), Some("2025-03-07")),
            // Late: sent after the due date, 6 working days.
            row("complain", "published", "2025-03-03", Some("2025-03-03"), Some("2025-03-10"), Some("2025-03-11")),
            row("complain", "rejected", "2025-03-04", None, None, None),
            row("help", "assigned", "2025-03-05", Some("2025-03-05"), Some("2025-03-12"), None),
            // Before the period: counted only for what happened inside it.
            row("suggest", "sent", "2024-12-30", Some("2024-12-31"), Some("2025-01-07"), Some("2025-01-06")),
        ];
        for (r, o) in rows.iter_mut().zip(["区教育局", "区教育局", "区府办", "区卫健局", "区财政局"])
        {
            r.org_name = o.into();
        }
        rows[0].rating = Some("satisfied".into());
        rows[1].rating = Some("unsatisfied".into());
        rows[1].published_on = Some("2025-03-12".into());
        let s = compute(&rows, &cal, date!(2025 - 01 - 01), date!(2025 - 12 - 31));
        let t = &s.total;
        assert_eq!((t.received, t.accepted, t.rejected), (4, 3, 1));
        assert_eq!((t.replied, t.replied_on_time, t.published), (3, 2, 1));
        // (4 + 6 + 4) / 3 = 4.7: 2024-12-31 → 2025-01-06 is 4 working days (no holidays loaded).
        assert_eq!(t.average_days, Some(4.7));
        assert_eq!((t.satisfied, t.basic, t.unsatisfied), (1, 0, 1));
        // By organisation: 教育局 handled three of them, 卫健局 one, one is still addressed to 区府办.
        let orgs: Vec<(&str, u64, u64)> = s.by_org.iter().map(|(o, c)| (o.as_str(), c.received, c.replied)).collect();
        assert_eq!(orgs, vec![("区教育局", 2, 2), ("区卫健局", 1, 0), ("区府办", 1, 0), ("区财政局", 0, 1)]);
        let complain = &s.by_kind.iter().find(|(k, _)| k == "complain").unwrap().1;
        assert_eq!((complain.received, complain.rejected, complain.replied, complain.replied_on_time), (2, 1, 1, 0));
        assert_eq!(s.by_kind.len(), KINDS.len());
        // A period with nothing in it.
        let empty = compute(&rows, &cal, date!(2026 - 01 - 01), date!(2026 - 12 - 31));
        assert_eq!(empty.total, Counts::default());
        assert!(empty.by_org.is_empty(), "organisations without figures are left out");
    }
}
