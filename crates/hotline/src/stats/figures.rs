//! The figures of the hotline, as pure functions over counts of timeline entries. Every
//! number shown, exported or printed in the monthly report is one of the counts below or
//! one of the rates computed from them here; nothing is typed in.
//!
//! Counts (each one timeline entry of `hl_events` on a day of the period):
//! - 受理 `received`: orders taken in (one `received` entry per order);
//! - 直接答复 `direct`: orders the agent answered on the call;
//! - 派单 `dispatched`: dispatch legs sent (an order sent to three organisations counts 3);
//! - 签收 `accepted` and 按时签收 `accepted_on_time`: legs accepted, and those within the limit;
//! - 退单 `returned`: legs sent back by the organisation;
//! - 答复 `replied` and 按时答复 `replied_on_time`: legs replied, and those within the limit;
//! - 办结 `closed` and 按时办结 `closed_on_time`: orders closed (direct answers included), and
//!   those whose every live leg replied within its limit;
//! - 回访 `callbacks`: callback attempts; 接通 `reached`: attempts that reached the caller,
//!   split into 满意 `satisfied`, 基本满意 `basic` and 不满意 `unsatisfied`;
//! - 签收超时 `late_accept` and 办理超时 `late_handle`: legs that went past their acceptance
//!   or handling limit (the sweep's `overdue` entries).
//!
//! Rates (`None` when the denominator is 0, shown as "—"):
//! - 直接答复率 = 直接答复 ÷ 受理
//! - 按时签收率 = 按时签收 ÷ 签收
//! - 退单率 = 退单 ÷ 派单
//! - 按时答复率 = 按时答复 ÷ 答复
//! - 办结率 = 办结 ÷ 受理, both in the same period (orders closed in the period may have been
//!   received earlier, so the rate can pass 100%)
//! - 按时办结率 = 按时办结 ÷ 办结
//! - 回访率 = 回访办结 ÷ 需回访办结, where 回访办结 = 满意 + 基本满意 (each such callback closes
//!   its order at that instant) and 需回访办结 = 办结 − 直接答复 (direct answers need no
//!   callback); the rest were closed after unanswered attempts
//! - 满意率 = (满意 + 基本满意) ÷ 接通

use std::ops::AddAssign;

use serde::Serialize;
use time::{Date, Month};

/// Counts of one group of timeline entries. The field order is the column order of
/// `hl_daily` and `hl_monthly` (see `COUNT_COLUMNS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Counts {
    pub received: i64,
    pub direct: i64,
    pub dispatched: i64,
    pub accepted: i64,
    pub accepted_on_time: i64,
    pub returned: i64,
    pub replied: i64,
    pub replied_on_time: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    pub callbacks: i64,
    pub reached: i64,
    pub satisfied: i64,
    pub basic: i64,
    pub unsatisfied: i64,
    pub late_accept: i64,
    pub late_handle: i64,
}

/// The count columns with the timeline entries each counts (`e` is `hl_events`): the
/// roll-up and the live count of days not yet rolled share these conditions.
pub const COUNT_COLUMNS: [(&str, &str); 17] = [
    ("received", "e.kind = 'received'"),
    ("direct", "e.kind = 'direct'"),
    ("dispatched", "e.kind = 'dispatched'"),
    ("accepted", "e.kind = 'accepted'"),
    ("accepted_on_time", "e.kind = 'accepted' AND e.on_time = 1"),
    ("returned", "e.kind = 'returned'"),
    ("replied", "e.kind = 'replied'"),
    ("replied_on_time", "e.kind = 'replied' AND e.on_time = 1"),
    ("closed", "e.kind = 'closed'"),
    ("closed_on_time", "e.kind = 'closed' AND e.on_time = 1"),
    ("callbacks", "e.kind = 'callback'"),
    ("reached", "e.kind = 'callback' AND e.value <> 'unreached'"),
    ("satisfied", "e.kind = 'callback' AND e.value = 'satisfied'"),
    ("basic", "e.kind = 'callback' AND e.value = 'basic'"),
    ("unsatisfied", "e.kind = 'callback' AND e.value = 'unsatisfied'"),
    ("late_accept", "e.kind = 'overdue' AND e.value = 'accept' AND e.leg_id IS NOT NULL"),
    ("late_handle", "e.kind = 'overdue' AND e.value = 'handle' AND e.leg_id IS NOT NULL"),
];

impl AddAssign<&Counts> for Counts {
    fn add_assign(&mut self, o: &Counts) {
        self.received += o.received;
        self.direct += o.direct;
        self.dispatched += o.dispatched;
        self.accepted += o.accepted;
        self.accepted_on_time += o.accepted_on_time;
        self.returned += o.returned;
        self.replied += o.replied;
        self.replied_on_time += o.replied_on_time;
        self.closed += o.closed;
        self.closed_on_time += o.closed_on_time;
        self.callbacks += o.callbacks;
        self.reached += o.reached;
        self.satisfied += o.satisfied;
        self.basic += o.basic;
        self.unsatisfied += o.unsatisfied;
        self.late_accept += o.late_accept;
        self.late_handle += o.late_handle;
    }
}

/// A rate in tenths of a percent (375 = 37.5%), rounded half up; None when `d` is 0.
pub fn rate(n: i64, d: i64) -> Option<i64> {
    (d > 0).then(|| (n.max(0) * 2000 + d) / (2 * d))
}

/// "37.5%", or "—" when there is no rate.
pub fn pct(r: Option<i64>) -> String {
    match r {
        Some(t) => format!("{}.{}%", t / 10, t % 10),
        None => "—".into(),
    }
}

/// The rates of a group of counts (tenths of a percent; formulas in the module text).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rates {
    pub direct: Option<i64>,
    pub accept_on_time: Option<i64>,
    pub returned: Option<i64>,
    pub reply_on_time: Option<i64>,
    pub closed: Option<i64>,
    pub close_on_time: Option<i64>,
    pub callback: Option<i64>,
    pub satisfaction: Option<i64>,
}

impl Counts {
    pub fn rates(&self) -> Rates {
        Rates {
            direct: rate(self.direct, self.received),
            accept_on_time: rate(self.accepted_on_time, self.accepted),
            returned: rate(self.returned, self.dispatched),
            reply_on_time: rate(self.replied_on_time, self.replied),
            closed: rate(self.closed, self.received),
            close_on_time: rate(self.closed_on_time, self.closed),
            callback: rate(self.called_back(), self.needs_callback()),
            satisfaction: rate(self.satisfied + self.basic, self.reached),
        }
    }
    /// 需回访办结: closed orders that were not answered on the call.
    pub fn needs_callback(&self) -> i64 {
        (self.closed - self.direct).max(0)
    }
    /// 回访办结: closed after a satisfied or basically satisfied callback.
    pub fn called_back(&self) -> i64 {
        self.satisfied + self.basic
    }
    /// 未接通: callback attempts that did not reach the caller.
    pub fn unreached(&self) -> i64 {
        (self.callbacks - self.reached).max(0)
    }
    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }
}

/// The dimensions of a roll-up row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Dims {
    pub channel: String,
    pub kind: String,
    /// The top-level category; 0 when uncategorised.
    pub category_top: i64,
    pub street: String,
    /// The leg's organisation; 0 for order-level entries (受理, 办结, 回访).
    pub org_id: i64,
}

/// What the statistics are restricted to (None: everything).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Filter {
    pub channel: Option<String>,
    pub kind: Option<String>,
    pub category_top: Option<i64>,
    pub street: Option<String>,
    /// Only the entries of this organisation's legs (order-level entries have none).
    pub org_id: Option<i64>,
}

impl Filter {
    pub fn matches(&self, d: &Dims) -> bool {
        self.channel.as_ref().is_none_or(|c| *c == d.channel)
            && self.kind.as_ref().is_none_or(|k| *k == d.kind)
            && self.category_top.is_none_or(|t| t == d.category_top)
            && self.street.as_ref().is_none_or(|s| *s == d.street)
            && self.org_id.is_none_or(|o| o == d.org_id)
    }
}

// --- periods ----------------------------------------------------------------------------

/// `d`'s month: its first and last day.
pub fn month_bounds(d: Date) -> (Date, Date) {
    let first = d.replace_day(1).unwrap_or(d);
    let last = first.replace_day(d.month().length(d.year())).unwrap_or(d);
    (first, last)
}

/// The month before `d`'s.
pub fn previous_month(d: Date) -> (Date, Date) {
    let (first, _) = month_bounds(d);
    month_bounds(first.previous_day().unwrap_or(first))
}

/// "YYYY-MM".
pub fn month_key(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month() as u8)
}

/// "2026年3月".
pub fn month_label(d: Date) -> String {
    format!("{}年{}月", d.year(), d.month() as u8)
}

/// Parses "YYYY-MM" to the month's first day.
pub fn parse_month(s: &str) -> Option<Date> {
    let (y, m) = s.trim().split_once('-')?;
    let y: i32 = y.parse().ok().filter(|y| (2000..=2100).contains(y))?;
    let m = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y, m, 1).ok()
}

/// The quick period choices: 本月, 上月, 本季度, 本年 (label, from, to).
pub fn presets(today: Date) -> Vec<(&'static str, Date, Date)> {
    let (mf, ml) = month_bounds(today);
    let (pf, pl) = previous_month(today);
    let q = (today.month() as u8 - 1) / 3 * 3 + 1;
    let qf = Date::from_calendar_date(today.year(), Month::try_from(q).unwrap_or(Month::January), 1).unwrap_or(mf);
    let ql = month_bounds(
        Date::from_calendar_date(today.year(), Month::try_from(q + 2).unwrap_or(Month::March), 1).unwrap_or(ml),
    )
    .1;
    let yf = Date::from_calendar_date(today.year(), Month::January, 1).unwrap_or(mf);
    let yl = Date::from_calendar_date(today.year(), Month::December, 31).unwrap_or(ml);
    vec![("本月", mf, ml), ("上月", pf, pl), ("本季度", qf, ql), ("本年", yf, yl)]
}

/// The twelve months of `year` as "YYYY-MM".
pub fn months_of(year: i32) -> Vec<String> {
    (1..=12).map(|m| format!("{year:04}-{m:02}")).collect()
}

/// Where each part of a period is read from, given the last rolled day `mark`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Whole months of `hl_monthly` ("YYYY-MM", first and last, inclusive).
    pub months: Option<(String, String)>,
    /// Day ranges of `hl_daily` (inclusive).
    pub days: Vec<(Date, Date)>,
    /// Days counted live from `hl_events` (inclusive): after the mark.
    pub live: Option<(Date, Date)>,
    /// Every rolled day of the period (inclusive): what `months` and `days` cover.
    pub rolled: Option<(Date, Date)>,
    /// The live entries count from this instant on (a part's cut; 0 without one).
    pub since: i64,
}

/// The day after the mark rolled up to an instant: each hour `hl.rollup` counts today's
/// entries before `cut` into `hl_daily`, so a page counts live only what came after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub day: Date,
    pub cut: i64,
}

/// Splits `from..=to`: days up to the mark come from the roll-up — a month whose rolled
/// days all lie in the period from `hl_monthly` (which sums exactly those days), the
/// rest from `hl_daily` — and days after the mark are counted live.
pub fn plan(from: Date, to: Date, mark: Option<Date>) -> Plan {
    let mut p = Plan::default();
    if from > to {
        return p;
    }
    let Some(mark) = mark else {
        p.live = Some((from, to));
        return p;
    };
    if to > mark {
        let start = if from > mark { from } else { mark.next_day().unwrap_or(to) };
        p.live = Some((start, to));
    }
    let end = to.min(mark);
    if from > end {
        return p;
    }
    p.rolled = Some((from, end));
    let mut first_full: Option<Date> = None;
    let mut last_full: Option<Date> = None;
    let mut m = month_bounds(from).0;
    while m <= end {
        let (f, l) = month_bounds(m);
        let (a, b) = (from.max(f), end.min(l));
        if a == f && b == l.min(mark) {
            first_full.get_or_insert(f);
            last_full = Some(f);
        } else {
            p.days.push((a, b));
        }
        match l.next_day() {
            Some(n) => m = n,
            None => break,
        }
    }
    if let (Some(a), Some(b)) = (first_full, last_full) {
        p.months = Some((month_key(a), month_key(b)));
    }
    p
}

/// `plan` with the partly rolled day `part` (the day after the mark, see `store::part`):
/// its entries before the cut come from `hl_daily`, the later ones are counted live.
/// Every live day lies on or after the part's day, so `since` holds for all of them.
pub fn plan_with(from: Date, to: Date, mark: Option<Date>, part: Option<Part>) -> Plan {
    let mut p = plan(from, to, mark);
    if let Some(part) = part {
        p.since = part.cut;
        if p.live.is_some_and(|(a, b)| a <= part.day && part.day <= b) {
            p.days.push((part.day, part.day));
            p.rolled = Some(p.rolled.map_or((part.day, part.day), |(a, _)| (a, part.day)));
        }
    }
    p
}

// --- the monthly report's words ---------------------------------------------------------

/// "上升 12.3%", "下降 4.0%", "持平", or "—" without a previous figure.
pub fn change(cur: i64, prev: i64) -> String {
    if prev == 0 {
        return if cur == 0 { "持平".into() } else { "—".into() };
    }
    let diff = cur - prev;
    match rate(diff.abs(), prev) {
        _ if diff == 0 => "持平".into(),
        Some(r) => format!("{} {}", if diff > 0 { "上升" } else { "下降" }, pct(Some(r))),
        None => "—".into(),
    }
}

/// A rate's change in percentage points: "+1.2 个百分点", "−0.5 个百分点", "持平", "—".
pub fn change_points(cur: Option<i64>, prev: Option<i64>) -> String {
    match (cur, prev) {
        (Some(c), Some(p)) if c == p => "持平".into(),
        (Some(c), Some(p)) => {
            let d = c - p;
            format!("{}{}.{} 个百分点", if d > 0 { "+" } else { "−" }, d.abs() / 10, d.abs() % 10)
        }
        _ => "—".into(),
    }
}

/// The report's summary paragraphs, built from the figures only.
pub fn narrative(
    label: &str,
    cur: &Counts,
    prev: &Counts,
    top_categories: &[(String, i64)],
    late_orgs: &[(String, i64)],
    polls: &[(String, i64, Option<i64>)],
) -> Vec<String> {
    let r = cur.rates();
    let p = prev.rates();
    let mut out = Vec::new();
    if cur.received == 0 && cur.closed == 0 {
        out.push(format!("{label}，热线未受理群众诉求，也没有办结的工单。"));
    } else {
        out.push(format!(
            "{label}，12345热线共受理群众诉求{}件，较上月{}；其中直接答复{}件，直接答复率{}；派单{}次，按时签收率{}，退单率{}。",
            cur.received,
            change(cur.received, prev.received),
            cur.direct,
            pct(r.direct),
            cur.dispatched,
            pct(r.accept_on_time),
            pct(r.returned),
        ));
        out.push(format!(
            "本月办结工单{}件，办结率{}，按时办结率{}（较上月{}）；回访{}次，接通{}次，回访率{}，满意率{}（较上月{}）。",
            cur.closed,
            pct(r.closed),
            pct(r.close_on_time),
            change_points(r.close_on_time, p.close_on_time),
            cur.callbacks,
            cur.reached,
            pct(r.callback),
            pct(r.satisfaction),
            change_points(r.satisfaction, p.satisfaction),
        ));
    }
    let tops: Vec<String> =
        top_categories.iter().filter(|(_, n)| *n > 0).take(3).map(|(name, n)| format!("{name}（{n}件）")).collect();
    if !tops.is_empty() {
        out.push(format!("受理量居前的诉求类别为{}。", tops.join("、")));
    }
    let late: Vec<String> =
        late_orgs.iter().filter(|(_, n)| *n > 0).take(3).map(|(name, n)| format!("{name}（{n}次）")).collect();
    if late.is_empty() {
        if cur.dispatched > 0 {
            out.push("本月各承办单位均未发生签收或办理超时。".into());
        }
    } else {
        out.push(format!(
            "本月签收、办理超时共{}次，超时较多的单位为{}，请相关单位加强督办。",
            cur.late_accept + cur.late_handle,
            late.join("、")
        ));
    }
    if !polls.is_empty() {
        let items: Vec<String> =
            polls.iter().map(|(t, n, s)| format!("“{t}”（调查{n}人，满意率{}）", pct(*s))).collect();
        out.push(format!("本月开展民意调查{}项：{}。", polls.len(), items.join("；")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn rates_round_half_up_and_skip_empty_denominators() {
        assert_eq!(rate(1, 3), Some(333));
        assert_eq!(rate(2, 3), Some(667));
        assert_eq!(rate(1, 8), Some(125));
        assert_eq!(rate(1, 16), Some(63), "6.25% rounds up");
        assert_eq!(rate(5, 0), None);
        assert_eq!(pct(Some(1000)), "100.0%");
        assert_eq!(pct(Some(5)), "0.5%");
        assert_eq!(pct(None), "—");
        let c = Counts {
            received: 8,
            direct: 2,
            dispatched: 7,
            accepted: 5,
            accepted_on_time: 4,
            returned: 1,
            closed: 5,
            closed_on_time: 3,
            callbacks: 5,
            reached: 4,
            satisfied: 2,
            basic: 1,
            unsatisfied: 1,
            ..Default::default()
        };
        let r = c.rates();
        assert_eq!(r.direct, Some(250));
        assert_eq!(r.accept_on_time, Some(800));
        assert_eq!(r.returned, Some(143));
        assert_eq!(r.closed, Some(625));
        assert_eq!(r.close_on_time, Some(600));
        assert_eq!(r.callback, Some(1000), "3 of the 3 closed after handling were called back");
        assert_eq!(r.satisfaction, Some(750));
        assert_eq!(r.reply_on_time, None);
        assert_eq!(c.unreached(), 1);
    }

    #[test]
    fn periods() {
        assert_eq!(month_bounds(date!(2024 - 02 - 10)), (date!(2024 - 02 - 01), date!(2024 - 02 - 29)));
        assert_eq!(previous_month(date!(2026 - 01 - 15)), (date!(2025 - 12 - 01), date!(2025 - 12 - 31)));
        assert_eq!(parse_month("2026-03"), Some(date!(2026 - 03 - 01)));
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("x"), None);
        let p = presets(date!(2026 - 05 - 20));
        assert_eq!(p[0], ("本月", date!(2026 - 05 - 01), date!(2026 - 05 - 31)));
        assert_eq!(p[1], ("上月", date!(2026 - 04 - 01), date!(2026 - 04 - 30)));
        assert_eq!(p[2], ("本季度", date!(2026 - 04 - 01), date!(2026 - 06 - 30)));
        assert_eq!(p[3], ("本年", date!(2026 - 01 - 01), date!(2026 - 12 - 31)));
        assert_eq!(month_label(date!(2026 - 03 - 01)), "2026年3月");
    }

    #[test]
    fn plans_split_rolled_and_live_days() {
        let m = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        // Nothing rolled: everything live.
        assert_eq!(
            plan(date!(2026 - 01 - 01), date!(2026 - 01 - 31), None),
            Plan { live: Some((date!(2026 - 01 - 01), date!(2026 - 01 - 31))), ..Default::default() }
        );
        // A year with the mark in May: whole months Jan–Apr, May's rolled part as a whole
        // month (hl_monthly holds exactly May 1–14), the rest live.
        assert_eq!(
            plan(date!(2026 - 01 - 01), date!(2026 - 12 - 31), Some(date!(2026 - 05 - 14))),
            Plan {
                months: m("2026-01", "2026-05"),
                days: vec![],
                live: Some((date!(2026 - 05 - 15), date!(2026 - 12 - 31))),
                rolled: Some((date!(2026 - 01 - 01), date!(2026 - 05 - 14))),
                since: 0,
            }
        );
        // The same year with May 15 rolled up to a cut: that day's rolled part from
        // hl_daily, the live count from the cut on.
        let part = Part { day: date!(2026 - 05 - 15), cut: 1_778_800_000_000 };
        assert_eq!(
            plan_with(date!(2026 - 01 - 01), date!(2026 - 12 - 31), Some(date!(2026 - 05 - 14)), Some(part)),
            Plan {
                months: m("2026-01", "2026-05"),
                days: vec![(part.day, part.day)],
                live: Some((date!(2026 - 05 - 15), date!(2026 - 12 - 31))),
                rolled: Some((date!(2026 - 01 - 01), part.day)),
                since: part.cut,
            }
        );
        // A period after the part's day reads none of it.
        let june = plan_with(date!(2026 - 06 - 01), date!(2026 - 06 - 30), Some(date!(2026 - 05 - 14)), Some(part));
        assert_eq!((june.days, june.rolled), (vec![], None));
        // The part's day alone.
        let day = plan_with(part.day, part.day, Some(date!(2026 - 05 - 14)), Some(part));
        assert_eq!(
            (day.days, day.rolled, day.live),
            (vec![(part.day, part.day)], Some((part.day, part.day)), Some((part.day, part.day)))
        );
        // Partial months at both ends come from hl_daily.
        assert_eq!(
            plan(date!(2026 - 01 - 10), date!(2026 - 04 - 05), Some(date!(2026 - 05 - 14))),
            Plan {
                months: m("2026-02", "2026-03"),
                days: vec![
                    (date!(2026 - 01 - 10), date!(2026 - 01 - 31)),
                    (date!(2026 - 04 - 01), date!(2026 - 04 - 05))
                ],
                live: None,
                rolled: Some((date!(2026 - 01 - 10), date!(2026 - 04 - 05))),
                since: 0,
            }
        );
        // A period ending at the mark inside a month: that month's rolled part is whole.
        assert_eq!(
            plan(date!(2026 - 05 - 01), date!(2026 - 05 - 14), Some(date!(2026 - 05 - 14))),
            Plan {
                months: m("2026-05", "2026-05"),
                rolled: Some((date!(2026 - 05 - 01), date!(2026 - 05 - 14))),
                ..Default::default()
            }
        );
        // A period entirely after the mark.
        assert_eq!(
            plan(date!(2026 - 06 - 01), date!(2026 - 06 - 30), Some(date!(2026 - 05 - 14))),
            Plan { live: Some((date!(2026 - 06 - 01), date!(2026 - 06 - 30))), ..Default::default() }
        );
        assert_eq!(plan(date!(2026 - 06 - 02), date!(2026 - 06 - 01), None), Plan::default());
    }

    #[test]
    fn words_of_the_report() {
        assert_eq!(change(110, 100), "上升 10.0%");
        assert_eq!(change(90, 100), "下降 10.0%");
        assert_eq!(change(5, 5), "持平");
        assert_eq!(change(5, 0), "—");
        assert_eq!(change_points(Some(950), Some(938)), "+1.2 个百分点");
        assert_eq!(change_points(Some(900), Some(905)), "−0.5 个百分点");
        assert_eq!(change_points(None, Some(905)), "—");
        let cur =
            Counts { received: 10, direct: 4, closed: 6, reached: 2, satisfied: 1, basic: 1, ..Default::default() };
        let text = narrative(
            "2026年3月",
            &cur,
            &Counts { received: 8, ..Default::default() },
            &[("城乡建设".into(), 6), ("教育".into(), 0)],
            &[],
            &[("供暖满意度".into(), 100, Some(905))],
        );
        assert!(
            text[0].starts_with(
                "2026年3月，12345热线共受理群众诉求10件，较上月上升 25.0%；其中直接答复4件，直接答复率40.0%"
            ),
            "{text:?}"
        );
        assert!(text[1].contains("满意率100.0%"), "{text:?}");
        assert_eq!(text[2], "受理量居前的诉求类别为城乡建设（6件）。");
        assert_eq!(text[3], "本月开展民意调查1项：“供暖满意度”（调查100人，满意率90.5%）。");
        assert_eq!(narrative("2026年4月", &Counts::default(), &cur, &[], &[], &[]).len(), 1);
    }
}
