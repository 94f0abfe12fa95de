//! Working-day calendar rules (pure logic: no I/O, no DB, no async).
//!
//! A day is classified by the weekday rule (Mon–Fri work, Sat/Sun off) unless an
//! official State Council notice lists it as an exception (holiday-cn data).
//! All date/time values are local Asia/Shanghai wall time; callers convert.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Duration, Month, PrimitiveDateTime, Time, Weekday};

// ---------------------------------------------------------------------------
// Day kinds
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    Workday,
    Weekend,
    Holiday,
    AdjustedWorkday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Workday => "workday",
            DayKind::Weekend => "weekend",
            DayKind::Holiday => "holiday",
            DayKind::AdjustedWorkday => "adjusted_workday",
        }
    }

    pub fn parse(s: &str) -> Option<DayKind> {
        match s {
            "workday" => Some(DayKind::Workday),
            "weekend" => Some(DayKind::Weekend),
            "holiday" => Some(DayKind::Holiday),
            "adjusted_workday" => Some(DayKind::AdjustedWorkday),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            DayKind::Workday => "工作日",
            DayKind::Weekend => "周末",
            DayKind::Holiday => "法定节假日",
            DayKind::AdjustedWorkday => "调休上班",
        }
    }

    pub fn is_working(self) -> bool {
        matches!(self, DayKind::Workday | DayKind::AdjustedWorkday)
    }
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

// ---------------------------------------------------------------------------
// Date text helpers: dates in strings are always YYYY-MM-DD
// ---------------------------------------------------------------------------

/// Format a date as `YYYY-MM-DD`.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// Parse a strict `YYYY-MM-DD` date; `None` for anything else (including 2024-02-30).
pub fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let year: i32 = s[0..4].parse().ok()?;
    let month: u8 = s[5..7].parse().ok()?;
    let day: u8 = s[8..10].parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

// Serde as "YYYY-MM-DD": time's own serde impl (without `serde-human-readable`)
// would emit `[2024, 275]`, which no UI wants.
mod serde_ymd {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_date(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Date, D::Error> {
        let s = String::deserialize(de)?;
        parse_date(&s).ok_or_else(|| serde::de::Error::custom(format!("日期无效: {s}")))
    }
}

mod serde_ymd_vec {
    use super::*;

    pub fn serialize<S: Serializer>(ds: &[Date], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ds.iter().map(|d| format_date(*d)))
    }
}

// ---------------------------------------------------------------------------
// Official notice data
// ---------------------------------------------------------------------------

/// One day listed by an official notice (an exception to the weekday rule).
/// `kind` is Holiday (off day), AdjustedWorkday (weekend day made a working day)
/// or Workday (a weekday the notice lists as working, e.g. 2020-02-03).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialDay {
    #[serde(with = "serde_ymd")]
    pub date: Date,
    pub kind: DayKind,
    pub name: String,
}

/// Parse one holiday-cn JSON file. Returns (notice year, papers, days).
///
/// Errors are Chinese messages naming the bad entry, e.g. "第3条日期无效: 2024-02-30".
/// A file with no days (e.g. 2027.json before the notice is published) parses fine;
/// the caller must then NOT count that year as loaded (see [`Calendar::from_holiday_cn`]).
pub fn parse_holiday_cn(json: &str) -> Result<(i32, Vec<String>, Vec<SpecialDay>), String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("放假安排JSON格式错误: {e}"))?;
    let obj = v.as_object().ok_or("放假安排JSON顶层应为对象")?;

    let year = obj
        .get("year")
        .and_then(|y| y.as_i64())
        .and_then(|y| i32::try_from(y).ok())
        .ok_or("放假安排缺少有效的year字段")?;

    let papers = match obj.get("papers") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, p)| p.as_str().map(str::to_owned).ok_or_else(|| format!("papers第{}条应为字符串", i + 1)))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("papers字段应为数组".into()),
    };

    let entries = obj.get("days").and_then(|d| d.as_array()).ok_or("放假安排缺少days数组")?;

    let mut seen = BTreeSet::new();
    let mut days = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let no = i + 1;
        let date_str = e.get("date").and_then(|d| d.as_str()).ok_or_else(|| format!("第{no}条缺少date字段"))?;
        let date = parse_date(date_str).ok_or_else(|| format!("第{no}条日期无效: {date_str}"))?;
        let off = e
            .get("isOffDay")
            .and_then(|o| o.as_bool())
            .ok_or_else(|| format!("第{no}条缺少isOffDay字段: {date_str}"))?;
        let name = e.get("name").and_then(|n| n.as_str()).unwrap_or("").to_owned();
        // Two entries for one date in a single notice is a data error, not a revision.
        if !seen.insert(date) {
            return Err(format!("第{no}条日期重复: {date_str}"));
        }
        let kind = match (off, is_weekend(date)) {
            (true, _) => DayKind::Holiday,
            (false, true) => DayKind::AdjustedWorkday,
            (false, false) => DayKind::Workday,
        };
        days.push(SpecialDay { date, kind, name });
    }
    Ok((year, papers, days))
}

// ---------------------------------------------------------------------------
// Calendar
// ---------------------------------------------------------------------------

/// The calendar: weekday rule + the special days, plus the set of years whose
/// official notice is loaded.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    days: BTreeMap<Date, SpecialDay>,
    years_loaded: BTreeSet<i32>,
}

impl Calendar {
    /// Later entries for the same date win (a later notice revises an earlier one).
    pub fn new(days: impl IntoIterator<Item = SpecialDay>, years_loaded: impl IntoIterator<Item = i32>) -> Self {
        Calendar {
            days: days.into_iter().map(|d| (d.date, d)).collect(),
            years_loaded: years_loaded.into_iter().collect(),
        }
    }

    /// Build from holiday-cn files (in order; later files win on the same date).
    /// A notice year counts as loaded only if its file lists at least one day:
    /// an empty file means the notice is not published yet.
    pub fn from_holiday_cn<'a>(files: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut days = Vec::new();
        let mut years = Vec::new();
        for (i, json) in files.into_iter().enumerate() {
            let (year, _papers, ds) = parse_holiday_cn(json).map_err(|e| format!("第{}个放假安排文件: {e}", i + 1))?;
            if !ds.is_empty() {
                years.push(year);
            }
            days.extend(ds);
        }
        Ok(Calendar::new(days, years))
    }

    /// Special day if listed, else Weekend for Sat/Sun, else Workday.
    pub fn kind(&self, d: Date) -> DayKind {
        match self.days.get(&d) {
            Some(s) => s.kind,
            None if is_weekend(d) => DayKind::Weekend,
            None => DayKind::Workday,
        }
    }

    pub fn special(&self, d: Date) -> Option<&SpecialDay> {
        self.days.get(&d)
    }

    /// All listed special days in date order (for admin listings).
    pub fn special_days(&self) -> impl Iterator<Item = &SpecialDay> {
        self.days.values()
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        self.kind(d).is_working()
    }

    pub fn years_loaded(&self) -> &BTreeSet<i32> {
        &self.years_loaded
    }

    /// Counting starts the day after `start`; returns the n-th working day after
    /// start. n == 0 returns start.
    pub fn add_working_days(&self, start: Date, n: u32) -> Date {
        self.walk_working_days(start, n, |_, _| {})
    }

    /// Same as [`Calendar::add_working_days`], with the explanation UIs show.
    pub fn explain_add_working_days(&self, start: Date, n: u32) -> DueExplanation {
        let mut skipped = Vec::new();
        let mut adjusted_counted = Vec::new();
        let mut years_needed = BTreeSet::new();
        let due = self.walk_working_days(start, n, |d, kind| {
            years_needed.insert(d.year());
            // Late-December days can be governed by the NEXT year's notice
            // (元旦 arrangements, e.g. 2018-12-29..31 are in the 2019 notice).
            if d.month() == Month::December && d.day() >= 25 {
                years_needed.insert(d.year().saturating_add(1));
            }
            match kind {
                DayKind::Weekend | DayKind::Holiday => skipped.push(SkippedDay {
                    date: d,
                    kind,
                    name: self.days.get(&d).map(|s| s.name.clone()).unwrap_or_default(),
                }),
                DayKind::AdjustedWorkday => adjusted_counted.push(d),
                DayKind::Workday => {}
            }
        });
        let years_missing = years_needed.into_iter().filter(|y| !self.years_loaded.contains(y)).collect();
        DueExplanation { start, working_days: n, due, skipped, adjusted_counted, years_missing }
    }

    /// Steps day by day after `start`, reporting each examined day, until the
    /// n-th working day. Saturates at the last representable date.
    fn walk_working_days(&self, start: Date, n: u32, mut visit: impl FnMut(Date, DayKind)) -> Date {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = match d.next_day() {
                Some(next) => next,
                None => return d,
            };
            let kind = self.kind(d);
            visit(d, kind);
            if kind.is_working() {
                left -= 1;
            }
        }
        d
    }

    /// Number of working days in (from, to] — 0 if to <= from.
    pub fn working_days_between(&self, from: Date, to: Date) -> u32 {
        let mut count: u32 = 0;
        let mut d = from;
        while d < to {
            d = match d.next_day() {
                Some(next) => next,
                None => break,
            };
            if self.is_working_day(d) {
                count = count.saturating_add(1);
            }
        }
        count
    }

    /// Add `minutes` of office time to `start` (local Asia/Shanghai wall time).
    /// If start is outside office hours / on a non-working day, counting begins at
    /// the next office period start (so `minutes == 0` returns that moment).
    /// Landing exactly on a period end returns that end (12:00, not 13:30).
    pub fn add_working_minutes(
        &self,
        start: PrimitiveDateTime,
        minutes: u32,
        hours: &OfficeHours,
    ) -> PrimitiveDateTime {
        let periods = hours.normalized();
        let Some(&(_, last_end)) = periods.last() else {
            return start; // no office time configured: nothing can elapse
        };
        let mut remaining = Duration::minutes(i64::from(minutes));
        let mut date = start.date();
        let mut t = start.time();
        loop {
            if self.is_working_day(date) {
                for &(ps, pe) in &periods {
                    if t >= pe {
                        continue;
                    }
                    let from = t.max(ps);
                    let avail = pe - from;
                    if remaining <= avail {
                        return PrimitiveDateTime::new(date, from + remaining);
                    }
                    remaining -= avail;
                    t = pe;
                }
            }
            date = match date.next_day() {
                Some(next) => next,
                None => return PrimitiveDateTime::new(date, last_end),
            };
            t = Time::MIDNIGHT;
        }
    }

    /// Office minutes (whole, rounded down) elapsed between two local times;
    /// 0 if to <= from. Inverse of [`Calendar::add_working_minutes`].
    pub fn working_minutes_between(&self, from: PrimitiveDateTime, to: PrimitiveDateTime, hours: &OfficeHours) -> u32 {
        if to <= from {
            return 0;
        }
        let periods = hours.normalized();
        let mut total = Duration::ZERO;
        let mut date = from.date();
        loop {
            if self.is_working_day(date) {
                let lo = if date == from.date() { from.time() } else { Time::MIDNIGHT };
                let hi = if date == to.date() { Some(to.time()) } else { None };
                for &(ps, pe) in &periods {
                    let s = ps.max(lo);
                    let e = hi.map_or(pe, |h| pe.min(h));
                    if e > s {
                        total += e - s;
                    }
                }
            }
            if date >= to.date() {
                break;
            }
            date = match date.next_day() {
                Some(next) => next,
                None => break,
            };
        }
        u32::try_from(total.whole_minutes()).unwrap_or(u32::MAX)
    }
}

// ---------------------------------------------------------------------------
// Office hours
// ---------------------------------------------------------------------------

/// Office hours, configurable; default 09:00–12:00 and 13:30–17:30.
/// 1..=3 periods, sorted, non-overlapping. Serialized as the spec string
/// "09:00-12:00,13:30-17:30" (validated on deserialize) so config files stay readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OfficeHours {
    pub periods: Vec<(Time, Time)>,
}

impl Default for OfficeHours {
    fn default() -> Self {
        OfficeHours { periods: vec![(hm(9, 0), hm(12, 0)), (hm(13, 30), hm(17, 30))] }
    }
}

// Constant inputs only; the fallback is unreachable but keeps the no-panic rule.
fn hm(h: u8, m: u8) -> Time {
    Time::from_hms(h, m, 0).unwrap_or(Time::MIDNIGHT)
}

fn parse_hm(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    if !digits(h) || h.len() > 2 || !digits(m) || m.len() != 2 {
        return None;
    }
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

fn fmt_hm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

impl OfficeHours {
    /// Parse "09:00-12:00,13:30-17:30"; Chinese error message on bad input.
    pub fn parse(s: &str) -> Result<OfficeHours, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("办公时间不能为空".into());
        }
        let mut periods = Vec::new();
        for (i, part) in s.split(',').enumerate() {
            let no = i + 1;
            let part = part.trim();
            let (a, b) =
                part.split_once('-').ok_or_else(|| format!("第{no}段办公时间格式无效: {part}（应为HH:MM-HH:MM）"))?;
            let start = parse_hm(a).ok_or_else(|| format!("第{no}段开始时间无效: {}（应为HH:MM）", a.trim()))?;
            let end = parse_hm(b).ok_or_else(|| format!("第{no}段结束时间无效: {}（应为HH:MM）", b.trim()))?;
            periods.push((start, end));
        }
        let hours = OfficeHours { periods };
        hours.validate()?;
        Ok(hours)
    }

    /// Check the invariants (1..=3 periods, each end > start, sorted, no overlap).
    /// Fields are public, so values built by hand can be checked too.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.periods.len();
        if n == 0 || n > 3 {
            return Err(format!("办公时段应为1至3段，实际{n}段"));
        }
        for (i, &(start, end)) in self.periods.iter().enumerate() {
            let no = i + 1;
            if end <= start {
                return Err(format!("第{no}段结束时间须晚于开始时间: {}-{}", fmt_hm(start), fmt_hm(end)));
            }
            if i > 0 {
                let (_, prev_end) = self.periods[i - 1];
                if start < prev_end {
                    return Err(format!("第{no}段与上一段重叠或顺序颠倒: {}-{}", fmt_hm(start), fmt_hm(end)));
                }
            }
        }
        Ok(())
    }

    /// Back to "09:00-12:00,13:30-17:30".
    pub fn to_string_spec(&self) -> String {
        self.periods.iter().map(|&(a, b)| format!("{}-{}", fmt_hm(a), fmt_hm(b))).collect::<Vec<_>>().join(",")
    }

    /// Usable periods even for an invalid value: drop empty ones, sort, merge
    /// overlaps. Keeps the arithmetic total (no panic, no endless loop).
    fn normalized(&self) -> Vec<(Time, Time)> {
        let mut ps: Vec<(Time, Time)> = self.periods.iter().copied().filter(|(a, b)| b > a).collect();
        ps.sort();
        let mut out: Vec<(Time, Time)> = Vec::with_capacity(ps.len());
        for (a, b) in ps {
            match out.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        out
    }
}

impl TryFrom<String> for OfficeHours {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        OfficeHours::parse(&s)
    }
}

impl From<OfficeHours> for String {
    fn from(h: OfficeHours) -> String {
        h.to_string_spec()
    }
}

// ---------------------------------------------------------------------------
// Due-date explanation
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueExplanation {
    #[serde(with = "serde_ymd")]
    pub start: Date,
    pub working_days: u32,
    #[serde(with = "serde_ymd")]
    pub due: Date,
    /// Non-working days skipped between start (exclusive) and due, in date order,
    /// with kind and notice name (weekends have name "").
    pub skipped: Vec<SkippedDay>,
    /// 调休 (AdjustedWorkday) days that were counted as working days.
    #[serde(serialize_with = "serde_ymd_vec::serialize")]
    pub adjusted_counted: Vec<Date>,
    /// Years touched by the computation whose official notice is not loaded
    /// (so only weekends were applied): a warning for the UI.
    pub years_missing: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedDay {
    #[serde(with = "serde_ymd")]
    pub date: Date,
    pub kind: DayKind,
    pub name: String,
}

impl DueExplanation {
    /// Chinese, one paragraph, e.g. "自2024-09-27的次日起算20个工作日，截止2024-10-30。
    /// 期间跳过节假日7天（国庆节 2024-10-01至2024-10-07）、周末6天；计入调休上班日2天
    /// （2024-09-29、2024-10-12）。"
    pub fn to_zh(&self) -> String {
        let mut out = if self.working_days == 0 {
            format!("自{}起算0个工作日，截止{}。", format_date(self.start), format_date(self.due))
        } else {
            format!(
                "自{}的次日起算{}个工作日，截止{}。",
                format_date(self.start),
                self.working_days,
                format_date(self.due)
            )
        };

        // Group consecutive holiday days with the same name into ranges.
        let mut groups: Vec<(&str, Date, Date)> = Vec::new();
        let mut holidays = 0usize;
        let mut weekends = 0usize;
        for s in &self.skipped {
            match s.kind {
                DayKind::Holiday => {
                    holidays += 1;
                    match groups.last_mut() {
                        Some((name, _, end)) if *name == s.name && end.next_day() == Some(s.date) => *end = s.date,
                        _ => groups.push((&s.name, s.date, s.date)),
                    }
                }
                _ => weekends += 1,
            }
        }

        let mut skip_parts = Vec::new();
        if holidays > 0 {
            let ranges: Vec<String> = groups
                .iter()
                .map(|&(name, a, b)| {
                    let span = if a == b { format_date(a) } else { format!("{}至{}", format_date(a), format_date(b)) };
                    if name.is_empty() { span } else { format!("{name} {span}") }
                })
                .collect();
            skip_parts.push(format!("节假日{holidays}天（{}）", ranges.join("、")));
        }
        if weekends > 0 {
            skip_parts.push(format!("周末{weekends}天"));
        }

        let mut clauses = Vec::new();
        if !skip_parts.is_empty() {
            clauses.push(format!("期间跳过{}", skip_parts.join("、")));
        }
        if !self.adjusted_counted.is_empty() {
            let dates: Vec<String> = self.adjusted_counted.iter().map(|d| format_date(*d)).collect();
            clauses.push(format!("计入调休上班日{}天（{}）", self.adjusted_counted.len(), dates.join("、")));
        }
        if !clauses.is_empty() {
            out.push_str(&clauses.join("；"));
            out.push('。');
        }

        if !self.years_missing.is_empty() {
            let years: Vec<String> = self.years_missing.iter().map(|y| format!("{y}年")).collect();
            out.push_str(&format!("注意：{}放假安排尚未录入，仅按周末计算。", years.join("、")));
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, time};

    const FILES: [&str; 11] = [
        include_str!("../../../../data/holiday-cn/2017.json"),
        include_str!("../../../../data/holiday-cn/2018.json"),
        include_str!("../../../../data/holiday-cn/2019.json"),
        include_str!("../../../../data/holiday-cn/2020.json"),
        include_str!("../../../../data/holiday-cn/2021.json"),
        include_str!("../../../../data/holiday-cn/2022.json"),
        include_str!("../../../../data/holiday-cn/2023.json"),
        include_str!("../../../../data/holiday-cn/2024.json"),
        include_str!("../../../../data/holiday-cn/2025.json"),
        include_str!("../../../../data/holiday-cn/2026.json"),
        include_str!("../../../../data/holiday-cn/2027.json"),
    ];

    /// Calendar with the official notices 2017..=2027 loaded.
    fn official() -> Calendar {
        Calendar::from_holiday_cn(FILES).expect("official data parses")
    }

    #[test]
    fn day_kind_strings_round_trip() {
        let table = [
            (DayKind::Workday, "workday", "工作日", true),
            (DayKind::Weekend, "weekend", "周末", false),
            (DayKind::Holiday, "holiday", "法定节假日", false),
            (DayKind::AdjustedWorkday, "adjusted_workday", "调休上班", true),
        ];
        for (k, s, zh, working) in table {
            assert_eq!(k.as_str(), s);
            assert_eq!(DayKind::parse(s), Some(k));
            assert_eq!(k.label_zh(), zh);
            assert_eq!(k.is_working(), working, "{s}");
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<DayKind>(&format!("\"{s}\"")).unwrap(), k);
        }
        assert_eq!(DayKind::parse("Workday"), None);
        assert_eq!(DayKind::parse(""), None);
    }

    #[test]
    fn official_day_kinds() {
        let cal = official();
        let table = [
            (date!(2024 - 02 - 04), DayKind::AdjustedWorkday), // Sunday before 春节
            (date!(2024 - 10 - 01), DayKind::Holiday),         // weekday holiday
            (date!(2024 - 10 - 05), DayKind::Holiday),         // Saturday inside 国庆 span
            (date!(2024 - 03 - 02), DayKind::Weekend),         // plain Saturday
            (date!(2024 - 03 - 04), DayKind::Workday),         // plain Monday
            (date!(2026 - 02 - 14), DayKind::AdjustedWorkday), // Saturday
            (date!(2026 - 02 - 28), DayKind::AdjustedWorkday), // Saturday
            (date!(2026 - 01 - 04), DayKind::AdjustedWorkday), // Sunday
            (date!(2020 - 01 - 31), DayKind::Holiday),         // extension (second notice)
            (date!(2020 - 02 - 01), DayKind::Holiday),         // was 调休, extension made it off
            (date!(2020 - 02 - 03), DayKind::Workday),         // weekday listed as working
            (date!(2018 - 12 - 29), DayKind::AdjustedWorkday), // from the 2019 file
            (date!(2018 - 12 - 31), DayKind::Holiday),         // from the 2019 file
            (date!(2027 - 01 - 01), DayKind::Workday),         // 2027 not published: weekday rule
            (date!(2027 - 01 - 02), DayKind::Weekend),
        ];
        for (d, want) in table {
            assert_eq!(cal.kind(d), want, "{d}");
            assert_eq!(cal.is_working_day(d), want.is_working(), "{d}");
        }
        assert_eq!(cal.special(date!(2024 - 10 - 01)).map(|s| s.name.as_str()), Some("国庆节"));
        assert_eq!(cal.special(date!(2024 - 03 - 02)), None);
        assert_eq!(
            cal.years_loaded().iter().copied().collect::<Vec<_>>(),
            (2017..=2026).collect::<Vec<_>>(),
            "empty 2027 file must not count as loaded"
        );
    }

    #[test]
    fn add_working_days_official() {
        let cal = official();
        let table = [
            (date!(2024 - 09 - 27), 20, date!(2024 - 10 - 30)),
            (date!(2020 - 01 - 20), 20, date!(2020 - 02 - 25)), // 春节 extended
            (date!(2024 - 09 - 27), 0, date!(2024 - 09 - 27)),
            (date!(2024 - 09 - 27), 1, date!(2024 - 09 - 29)), // Sunday 调休 counts
            (date!(2024 - 09 - 30), 1, date!(2024 - 10 - 08)),
            (date!(2024 - 03 - 01), 1, date!(2024 - 03 - 04)), // Fri -> Mon
            (date!(2024 - 03 - 02), 1, date!(2024 - 03 - 04)), // from a Saturday
            (date!(2024 - 03 - 04), 5, date!(2024 - 03 - 11)),
            (date!(2018 - 12 - 28), 1, date!(2018 - 12 - 29)), // Saturday 调休 from 2019 file
            (date!(2026 - 12 - 31), 1, date!(2027 - 01 - 01)), // 2027 unknown: weekday rule
        ];
        for (start, n, want) in table {
            assert_eq!(cal.add_working_days(start, n), want, "{start} + {n}");
            assert_eq!(cal.explain_add_working_days(start, n).due, want, "{start} + {n}");
        }
    }

    #[test]
    fn working_days_between_is_inverse_of_add() {
        let cal = official();
        let table = [
            (date!(2024 - 09 - 27), date!(2024 - 10 - 30), 20),
            (date!(2020 - 01 - 20), date!(2020 - 02 - 25), 20),
            (date!(2024 - 10 - 30), date!(2024 - 09 - 27), 0), // reversed
            (date!(2024 - 10 - 01), date!(2024 - 10 - 01), 0), // same day
            (date!(2024 - 09 - 30), date!(2024 - 10 - 07), 0), // all holiday
        ];
        for (a, b, want) in table {
            assert_eq!(cal.working_days_between(a, b), want, "({a}, {b}]");
        }
        let mut start = date!(2019 - 12 - 01);
        while start < date!(2021 - 02 - 01) {
            for n in [0u32, 1, 2, 5, 10, 20, 60] {
                let due = cal.add_working_days(start, n);
                assert_eq!(cal.working_days_between(start, due), n, "{start} + {n}");
                // due itself is a working day (unless n == 0)
                assert!(n == 0 || cal.is_working_day(due), "{start} + {n}");
            }
            start = start.next_day().unwrap();
        }
    }

    #[test]
    fn explanation_national_day_2024() {
        let cal = official();
        let e = cal.explain_add_working_days(date!(2024 - 09 - 27), 20);
        assert_eq!(e.due, date!(2024 - 10 - 30));
        let holidays: Vec<Date> = e.skipped.iter().filter(|s| s.kind == DayKind::Holiday).map(|s| s.date).collect();
        let national: Vec<Date> = (1..=7).map(|d| Date::from_calendar_date(2024, Month::October, d).unwrap()).collect();
        assert_eq!(holidays, national);
        assert!(e.skipped.iter().filter(|s| s.kind == DayKind::Holiday).all(|s| s.name == "国庆节"));
        let weekends: Vec<&SkippedDay> = e.skipped.iter().filter(|s| s.kind == DayKind::Weekend).collect();
        assert_eq!(weekends.len(), 6);
        assert!(weekends.iter().all(|s| s.name.is_empty()));
        assert_eq!(e.adjusted_counted, vec![date!(2024 - 09 - 29), date!(2024 - 10 - 12)]);
        assert!(e.years_missing.is_empty());
        // skipped days are in date order, strictly between start and due
        assert!(e.skipped.windows(2).all(|w| w[0].date < w[1].date));
        assert!(e.skipped.iter().all(|s| s.date > e.start && s.date < e.due));

        let zh = e.to_zh();
        assert_eq!(
            zh,
            "自2024-09-27的次日起算20个工作日，截止2024-10-30。\
             期间跳过节假日7天（国庆节 2024-10-01至2024-10-07）、周末6天；\
             计入调休上班日2天（2024-09-29、2024-10-12）。"
        );

        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["due"], "2024-10-30");
        assert_eq!(json["adjusted_counted"][1], "2024-10-12");
        assert_eq!(json["skipped"][0]["kind"], "weekend");
    }

    #[test]
    fn explanation_groups_and_warnings() {
        let cal = official();
        // 中秋 then 国庆 2024: two holiday groups.
        let e = cal.explain_add_working_days(date!(2024 - 09 - 13), 12);
        let zh = e.to_zh();
        assert!(zh.contains("（中秋节 2024-09-15至2024-09-17、国庆节 2024-10-01至2024-10-07）"), "{zh}");

        // Crossing into 2027 whose notice is not published yet.
        let e = cal.explain_add_working_days(date!(2026 - 12 - 20), 10);
        assert_eq!(e.years_missing, vec![2027]);
        assert!(e.to_zh().ends_with("注意：2027年放假安排尚未录入，仅按周末计算。"), "{}", e.to_zh());

        // Late December needs next year's notice too (元旦 may start in December).
        let e = cal.explain_add_working_days(date!(2026 - 12 - 24), 1);
        assert_eq!(e.due, date!(2026 - 12 - 25));
        assert_eq!(e.years_missing, vec![2027]);

        // Ordinary week: no skipped days.
        let e = cal.explain_add_working_days(date!(2024 - 03 - 04), 2);
        assert_eq!(e.to_zh(), "自2024-03-04的次日起算2个工作日，截止2024-03-06。");

        let e = cal.explain_add_working_days(date!(2024 - 03 - 04), 0);
        assert_eq!(e.to_zh(), "自2024-03-04起算0个工作日，截止2024-03-04。");

        // No data at all: every touched year is missing.
        let empty = Calendar::default();
        let e = empty.explain_add_working_days(date!(2024 - 12 - 31), 3);
        assert_eq!(e.years_missing, vec![2025]);
        let e = empty.explain_add_working_days(date!(2024 - 12 - 10), 3); // ends 12-13
        assert_eq!(e.years_missing, vec![2024]);
        let e = empty.explain_add_working_days(date!(2024 - 12 - 20), 3); // ends 12-25
        assert_eq!(e.years_missing, vec![2024, 2025]);
    }

    #[test]
    fn explanation_same_name_non_consecutive_holidays_are_separate_ranges() {
        let holiday = |d| SpecialDay { date: d, kind: DayKind::Holiday, name: "测试节".into() };
        let cal = Calendar::new([holiday(date!(2024 - 03 - 05)), holiday(date!(2024 - 03 - 07))], [2024]);
        let e = cal.explain_add_working_days(date!(2024 - 03 - 04), 3);
        assert_eq!(e.due, date!(2024 - 03 - 11));
        assert_eq!(
            e.to_zh(),
            "自2024-03-04的次日起算3个工作日，截止2024-03-11。\
             期间跳过节假日2天（测试节 2024-03-05、测试节 2024-03-07）、周末2天。"
        );
    }

    #[test]
    fn working_minutes_examples() {
        let cal = official();
        let h = OfficeHours::default();
        let table = [
            // Friday 16:30 + 4h: 60 min Friday + 180 min Monday morning -> Monday 12:00.
            (datetime!(2024-03-01 16:30), 240, datetime!(2024-03-04 12:00)),
            (datetime!(2024-03-01 16:30), 210, datetime!(2024-03-04 11:30)),
            (datetime!(2024-03-01 16:30), 241, datetime!(2024-03-04 13:31)),
            // Friday before 国庆 2024: next working day is Sunday 09-29 (调休).
            (datetime!(2024-09-27 16:30), 240, datetime!(2024-09-29 12:00)),
            // Monday 09-30 before 国庆: next working day is 10-08.
            (datetime!(2024-09-30 16:30), 240, datetime!(2024-10-08 12:00)),
            // Lunch break start counts from 13:30.
            (datetime!(2024-03-04 12:15), 60, datetime!(2024-03-04 14:30)),
            (datetime!(2024-03-04 12:15), 0, datetime!(2024-03-04 13:30)),
            // Before opening / after closing / on a holiday.
            (datetime!(2024-03-04 07:00), 30, datetime!(2024-03-04 09:30)),
            (datetime!(2024-03-04 18:00), 30, datetime!(2024-03-05 09:30)),
            (datetime!(2024-10-03 10:00), 30, datetime!(2024-10-08 09:30)),
            // Exactly filling the morning ends at 12:00, not 13:30.
            (datetime!(2024-03-04 09:00), 180, datetime!(2024-03-04 12:00)),
            (datetime!(2024-03-04 09:00), 420, datetime!(2024-03-04 17:30)),
            (datetime!(2024-03-04 09:00), 421, datetime!(2024-03-05 09:01)),
            // Seconds are kept.
            (datetime!(2024-03-04 10:00:30), 5, datetime!(2024-03-04 10:05:30)),
        ];
        for (start, m, want) in table {
            assert_eq!(cal.add_working_minutes(start, m, &h), want, "{start} + {m}min");
        }
        assert_eq!(cal.working_minutes_between(datetime!(2024-03-01 16:30), datetime!(2024-03-04 12:00), &h), 240);
        assert_eq!(cal.working_minutes_between(datetime!(2024-03-04 12:00), datetime!(2024-03-01 16:30), &h), 0);
        assert_eq!(cal.working_minutes_between(datetime!(2024-10-01 00:00), datetime!(2024-10-07 23:59), &h), 0);
    }

    #[test]
    fn working_minutes_between_is_consistent_with_add() {
        let cal = official();
        let hour_sets = [
            OfficeHours::default(),
            OfficeHours::parse("08:30-12:00,14:00-18:00").unwrap(),
            OfficeHours::parse("09:00-17:00").unwrap(),
            OfficeHours::parse("08:00-10:00,10:00-11:00,19:00-21:15").unwrap(),
        ];
        let durations = [0u32, 1, 29, 60, 179, 180, 181, 240, 420, 421, 839, 840, 1000, 3000, 9999];
        for h in &hour_sets {
            // Every 47 minutes across the 2024 National Day period (holiday, 调休 weekend).
            let mut start = datetime!(2024-09-26 00:00);
            let mut prev_end: Option<PrimitiveDateTime> = None;
            while start < datetime!(2024-10-14 00:00) {
                let mut last = None;
                for &m in &durations {
                    let end = cal.add_working_minutes(start, m, h);
                    assert_eq!(
                        cal.working_minutes_between(start, end, h),
                        m,
                        "{start} + {m}min = {end} ({})",
                        h.to_string_spec()
                    );
                    assert!(end >= start, "{start} + {m}min went backwards");
                    // The result lies in office time on a working day.
                    assert!(cal.is_working_day(end.date()), "{start} + {m}min = {end}");
                    assert!(
                        h.periods.iter().any(|&(a, b)| end.time() >= a && end.time() <= b),
                        "{start} + {m}min = {end} outside office hours"
                    );
                    // Longer duration never ends earlier.
                    if let Some(l) = last {
                        assert!(end >= l);
                    }
                    last = Some(end);
                }
                // Later start never ends earlier (monotone in start).
                let end = cal.add_working_minutes(start, 240, h);
                if let Some(p) = prev_end {
                    assert!(end >= p, "{start}");
                }
                prev_end = Some(end);
                start += Duration::minutes(47);
            }
        }
    }

    #[test]
    fn office_hours_parse() {
        let ok = [
            ("09:00-12:00,13:30-17:30", "09:00-12:00,13:30-17:30"),
            (" 9:00 - 12:00 , 13:30-17:30 ", "09:00-12:00,13:30-17:30"),
            ("08:00-18:00", "08:00-18:00"),
            ("08:00-10:00,10:00-11:00,19:00-21:00", "08:00-10:00,10:00-11:00,19:00-21:00"),
        ];
        for (s, spec) in ok {
            let h = OfficeHours::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(h.to_string_spec(), spec);
            assert_eq!(OfficeHours::parse(&h.to_string_spec()).unwrap(), h);
        }
        assert_eq!(OfficeHours::default().to_string_spec(), "09:00-12:00,13:30-17:30");
        assert_eq!(OfficeHours::parse("09:00-12:00,13:30-17:30").unwrap(), OfficeHours::default());

        let bad = [
            ("12:00-09:00", "结束时间须晚于开始时间"),
            ("09:00-09:00", "结束时间须晚于开始时间"),
            ("9-12", "开始时间无效"),
            ("09:00-12:00,11:00-17:30", "重叠"),
            ("13:30-17:30,09:00-12:00", "重叠或顺序颠倒"),
            ("09:00-10:00,10:00-11:00,11:00-12:00,13:00-14:00", "1至3段"),
            ("", "不能为空"),
            ("09:00", "格式无效"),
            ("25:00-26:00", "开始时间无效"),
            ("09:60-10:00", "开始时间无效"),
            ("09:00-12:0", "结束时间无效"),
            ("09:00-12:00,", "格式无效"),
            ("０９:00-12:00", "开始时间无效"), // full-width digits
        ];
        for (s, want) in bad {
            let err = OfficeHours::parse(s).expect_err(s);
            assert!(err.contains(want), "{s}: {err}");
        }
    }

    #[test]
    fn office_hours_serde_is_spec_string() {
        let h = OfficeHours::default();
        assert_eq!(serde_json::to_string(&h).unwrap(), "\"09:00-12:00,13:30-17:30\"");
        assert_eq!(serde_json::from_str::<OfficeHours>("\"09:00-17:00\"").unwrap().periods.len(), 1);
        assert!(serde_json::from_str::<OfficeHours>("\"12:00-09:00\"").is_err());
    }

    #[test]
    fn invalid_office_hours_do_not_hang_or_panic() {
        let cal = official();
        let start = datetime!(2024-03-04 10:00);
        let empty = OfficeHours { periods: vec![] };
        assert_eq!(cal.add_working_minutes(start, 60, &empty), start);
        assert_eq!(cal.working_minutes_between(start, datetime!(2024-03-05 10:00), &empty), 0);
        // Unsorted + overlapping + inverted: treated as the merged valid periods 09:00-12:00.
        let messy = OfficeHours {
            periods: vec![
                (time!(10:00), time!(12:00)),
                (time!(09:00), time!(11:00)),
                (time!(15:00), time!(14:00)),
                (time!(10:30), time!(11:30)), // nested inside 10:00-12:00
            ],
        };
        assert!(messy.validate().is_err());
        assert_eq!(cal.add_working_minutes(start, 120, &messy), datetime!(2024-03-04 12:00));
        assert_eq!(cal.add_working_minutes(start, 121, &messy), datetime!(2024-03-05 09:01));
    }

    #[test]
    fn extremes_saturate_without_panic() {
        let cal = official();
        let h = OfficeHours::default();
        assert_eq!(cal.add_working_days(Date::MAX, 5), Date::MAX);
        let e = cal.explain_add_working_days(Date::MAX, 5);
        assert_eq!(e.due, Date::MAX);
        let _ = e.to_zh();
        let far = cal.add_working_minutes(PrimitiveDateTime::new(Date::MAX, time!(16:00)), 10_000, &h);
        assert_eq!(far, PrimitiveDateTime::new(Date::MAX, time!(17:30)));
        assert_eq!(cal.working_days_between(Date::MAX, Date::MIN), 0);
        let _ = format_date(Date::MIN);
        // Large n stays fast enough (a few hundred working days).
        let d = cal.add_working_days(date!(2024 - 01 - 01), 500);
        assert_eq!(cal.working_days_between(date!(2024 - 01 - 01), d), 500);
    }

    #[test]
    fn parse_holiday_cn_ok_and_errors() {
        let (year, papers, days) = parse_holiday_cn(FILES[3]).unwrap();
        assert_eq!(year, 2020);
        assert_eq!(papers.len(), 2);
        assert_eq!(days.len(), 37);
        let feb3 = days.iter().find(|d| d.date == date!(2020 - 02 - 03)).unwrap();
        assert_eq!(feb3.kind, DayKind::Workday);
        assert_eq!(feb3.name, "春节");

        let (year, papers, days) = parse_holiday_cn(FILES[10]).unwrap();
        assert_eq!((year, papers.len(), days.len()), (2027, 0, 0));

        let d = |entries: &str| format!(r#"{{"year":2024,"papers":[],"days":[{entries}]}}"#);
        let good = r#"{"name":"春节","date":"2024-02-04","isOffDay":false}"#;
        let bad = [
            ("{not json".to_string(), "JSON格式错误"),
            ("[]".to_string(), "顶层应为对象"),
            (r#"{"papers":[],"days":[]}"#.to_string(), "year"),
            (r#"{"year":2024,"papers":[]}"#.to_string(), "days"),
            (r#"{"year":2024,"papers":[1],"days":[]}"#.to_string(), "papers第1条"),
            (d(&format!(r#"{good},{good},{{"name":"x","date":"2024-02-30","isOffDay":true}}"#)), "第2条日期重复"),
            (
                d(&format!(
                    r#"{good},{{"name":"x","date":"2024-03-01","isOffDay":true}},{{"name":"x","date":"2024-02-30","isOffDay":true}}"#
                )),
                "第3条日期无效: 2024-02-30",
            ),
            (d(r#"{"name":"x","date":"2024/02/01","isOffDay":true}"#), "第1条日期无效: 2024/02/01"),
            (d(r#"{"name":"x","date":"2024-2-1","isOffDay":true}"#), "第1条日期无效"),
            (d(r#"{"name":"x","isOffDay":true}"#), "第1条缺少date字段"),
            (d(r#"{"name":"x","date":"2024-02-01","isOffDay":"yes"}"#), "第1条缺少isOffDay字段"),
        ];
        for (json, want) in bad {
            let err = parse_holiday_cn(&json).expect_err(&json);
            assert!(err.contains(want), "{json}: {err}");
        }
    }

    #[test]
    fn calendar_later_notice_wins_and_special_day_serde() {
        let first = SpecialDay { date: date!(2020 - 02 - 01), kind: DayKind::AdjustedWorkday, name: "春节".into() };
        let second = SpecialDay { date: date!(2020 - 02 - 01), kind: DayKind::Holiday, name: "春节".into() };
        let cal = Calendar::new([first.clone(), second], [2020]);
        assert_eq!(cal.kind(date!(2020 - 02 - 01)), DayKind::Holiday);
        assert_eq!(cal.special_days().count(), 1);

        let json = serde_json::to_string(&first).unwrap();
        assert_eq!(json, r#"{"date":"2020-02-01","kind":"adjusted_workday","name":"春节"}"#);
        assert_eq!(serde_json::from_str::<SpecialDay>(&json).unwrap(), first);
        assert!(serde_json::from_str::<SpecialDay>(r#"{"date":"2020-02-30","kind":"holiday","name":""}"#).is_err());
    }

    #[test]
    fn date_helpers() {
        for (s, want) in [
            ("2024-02-29", Some(date!(2024 - 02 - 29))),
            ("2023-02-29", None),
            ("2024-13-01", None),
            ("2024-00-10", None),
            ("+024-01-01", None),
            ("2024-01-1", None),
            ("", None),
            ("２０２４-01-01", None),
        ] {
            assert_eq!(parse_date(s), want, "{s}");
        }
        assert_eq!(format_date(date!(2024 - 03 - 04)), "2024-03-04");
    }
}
