//! Cron-like schedules for the job table.
//!
//! Schedules are evaluated in Asia/Shanghai wall time. China has observed no DST
//! since 1991, so local time is a fixed UTC+8 and no tz database is needed.
//!
//! Expressions come from admins through a form, so parsing never panics and
//! reports the offending field in Chinese.

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Asia/Shanghai offset from UTC in milliseconds (fixed, see module docs).
const SHANGHAI_OFFSET_MS: i64 = 8 * 3600 * 1000;

/// Search horizon for `next_after`: the longest 5-calendar-year span
/// (3 × 365 + 2 × 366 days). Beyond this a schedule is treated as never firing.
const HORIZON_DAYS: i64 = 1827;

const FIELD_NAMES: [&str; 5] = ["分钟", "小时", "日", "月", "星期"];
const MONTH_NAMES: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DOW_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A parsed 5-field cron expression: minute hour day-of-month month day-of-week
/// (0 or 7 = Sunday).
///
/// Supports `*`, lists (`1,2,5`), ranges (`1-5`), steps (`*/15`, `10-50/10`),
/// names JAN-DEC and SUN-SAT (case-insensitive), and the macros @hourly,
/// @daily (= @midnight), @weekly, @monthly, @yearly (= @annually).
///
/// Day-of-month / day-of-week follow Vixie cron: if both are restricted, a day
/// matches if EITHER matches; otherwise both must match. As in Vixie cron, a
/// field counts as unrestricted when its text starts with `*`, so `*/2` in the
/// day field is "unrestricted" for this rule ("0 0 */2 * 1" = odd days that are
/// Mondays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Bit n set = minute n (0..=59).
    minutes: u64,
    /// Bit n set = hour n (0..=23).
    hours: u32,
    /// Bit n set = day of month n (1..=31).
    days: u32,
    /// Bit n set = month n (1..=12).
    months: u16,
    /// Bit n set = weekday n, Sunday = 0 (7 is folded into 0 at parse time).
    weekdays: u8,
    /// Field text started with `*` (Vixie DOM_STAR / DOW_STAR).
    dom_star: bool,
    dow_star: bool,
}

/// Per-field parsing rules.
struct FieldSpec {
    index: usize,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// Value of names[0] (JAN = 1, SUN = 0).
    name_base: u32,
}

const SPECS: [FieldSpec; 5] = [
    FieldSpec { index: 0, min: 0, max: 59, names: &[], name_base: 0 },
    FieldSpec { index: 1, min: 0, max: 23, names: &[], name_base: 0 },
    FieldSpec { index: 2, min: 1, max: 31, names: &[], name_base: 0 },
    FieldSpec { index: 3, min: 1, max: 12, names: &MONTH_NAMES, name_base: 1 },
    // 7 is accepted as Sunday so "5-7" and "1-7" work.
    FieldSpec { index: 4, min: 0, max: 7, names: &DOW_NAMES, name_base: 0 },
];

impl FieldSpec {
    fn error(&self, token: &str) -> String {
        format!("第{}个字段（{}）无效：{}", self.index + 1, FIELD_NAMES[self.index], token)
    }

    /// A single value: decimal digits or (for month/weekday) a 3-letter name.
    fn value(&self, text: &str) -> Option<u32> {
        // Explicit digit check: `str::parse` would also take "+5".
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            // Long digit strings cannot be valid; this also avoids overflow.
            let v: u32 = if text.len() > 2 {
                return None;
            } else {
                text.parse().ok()?
            };
            return (self.min..=self.max).contains(&v).then_some(v);
        }
        self.names.iter().position(|n| n.eq_ignore_ascii_case(text)).map(|p| p as u32 + self.name_base)
    }

    /// Parses one comma-separated field into a bitset over min..=max.
    fn parse(&self, field: &str) -> Result<u64, String> {
        let mut bits = 0u64;
        for elem in field.split(',') {
            // An empty element ("1,,2") has no text of its own; show the field.
            let err = || self.error(if elem.is_empty() { field } else { elem });
            let (range, step) = match elem.split_once('/') {
                Some((r, s)) => {
                    let step = if !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()) {
                        s.parse::<u32>().map_err(|_| err())?
                    } else {
                        return Err(err());
                    };
                    if step == 0 || step > self.max {
                        return Err(err());
                    }
                    (r, Some(step))
                }
                None => (elem, None),
            };
            let (lo, hi) = if range == "*" {
                (self.min, self.max)
            } else if let Some((a, b)) = range.split_once('-') {
                let lo = self.value(a).ok_or_else(err)?;
                let hi = self.value(b).ok_or_else(err)?;
                if lo > hi {
                    return Err(err());
                }
                (lo, hi)
            } else {
                let v = self.value(range).ok_or_else(err)?;
                // Vixie cron rejects "5/10" (a step needs a range); so do we
                // rather than guess between its variants.
                if step.is_some() {
                    return Err(err());
                }
                (v, v)
            };
            let step = step.unwrap_or(1);
            let mut v = lo;
            while v <= hi {
                bits |= 1 << v;
                v += step; // v ≤ 59 and step ≤ 59: no overflow
            }
        }
        Ok(bits)
    }
}

/// Lowest set bit of `bits` at or above `from`.
fn next_bit(bits: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let masked = bits & (u64::MAX << from);
    (masked != 0).then(|| masked.trailing_zeros())
}

fn expand_macro(expr: &str) -> Option<&'static str> {
    Some(match expr.to_ascii_lowercase().as_str() {
        "@hourly" => "0 * * * *",
        "@daily" | "@midnight" => "0 0 * * *",
        "@weekly" => "0 0 * * 0",
        "@monthly" => "0 0 1 * *",
        "@yearly" | "@annually" => "0 0 1 1 *",
        _ => return None,
    })
}

impl Schedule {
    /// Parses a 5-field expression or macro. Errors are Chinese and name the bad
    /// field, e.g. "第2个字段（小时）无效：25".
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let expr = expr.trim();
        if expr.is_empty() {
            return Err("cron表达式不能为空".to_string());
        }
        let expr = if expr.starts_with('@') {
            expand_macro(expr)
                .ok_or_else(|| format!("不支持的cron宏：{expr}（可用 @hourly、@daily、@weekly、@monthly、@yearly）"))?
        } else {
            expr
        };
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!("cron表达式应有5个字段（分钟 小时 日 月 星期），实际为{}个", fields.len()));
        }
        let mut bits = [0u64; 5];
        for ((spec, field), out) in SPECS.iter().zip(&fields).zip(bits.iter_mut()) {
            *out = spec.parse(field)?;
        }
        // Sunday may be written 0 or 7; keep one bit for it.
        let weekdays = ((bits[4] | (bits[4] >> 7)) & 0x7f) as u8;
        Ok(Schedule {
            minutes: bits[0],
            hours: bits[1] as u32,
            days: bits[2] as u32,
            months: bits[3] as u16,
            weekdays,
            dom_star: fields[2].starts_with('*'),
            dow_star: fields[4].starts_with('*'),
        })
    }

    fn day_matches(&self, date: Date) -> bool {
        let dom = self.days & (1 << date.day()) != 0;
        let dow = self.weekdays & (1 << date.weekday().number_days_from_sunday()) != 0;
        if self.dom_star || self.dow_star { dom && dow } else { dom || dow }
    }

    /// First (hour, minute) on a matching day at or after (h0, m0).
    fn first_time_from(&self, h0: u32, m0: u32) -> Option<(u32, u32)> {
        let hours = u64::from(self.hours);
        let h = next_bit(hours, h0)?;
        if h == h0 {
            if let Some(m) = next_bit(self.minutes, m0) {
                return Some((h, m));
            }
            let h = next_bit(hours, h0 + 1)?;
            return Some((h, next_bit(self.minutes, 0)?));
        }
        Some((h, next_bit(self.minutes, 0)?))
    }

    /// The first local minute strictly after `after` (Asia/Shanghai wall time,
    /// seconds ignored) that matches; None if none within 5 years (1827 days),
    /// e.g. "0 0 30 2 *", or if the calendar range of `time` is exhausted.
    ///
    /// Walks whole months and days, only looking at minutes on a matching day,
    /// so the cost is bounded by ~1900 cheap steps whatever the expression.
    pub fn next_after(&self, after: PrimitiveDateTime) -> Option<PrimitiveDateTime> {
        let truncated = PrimitiveDateTime::new(after.date(), Time::from_hms(after.hour(), after.minute(), 0).ok()?);
        let start = truncated.checked_add(Duration::minutes(1))?;
        // Near Date::MAX there is no horizon date; running off the calendar ends the search.
        let end = start.date().checked_add(Duration::days(HORIZON_DAYS));
        let mut date = start.date();
        // Only the first day starts mid-day; later days start at 00:00.
        let mut from = (u32::from(start.hour()), u32::from(start.minute()));
        // Each step moves forward by at least a day, so HORIZON_DAYS steps (plus
        // slack for month skips) always reach the horizon; the bound is a hard
        // guarantee that no input can make this loop spin.
        for _ in 0..2 * HORIZON_DAYS {
            if end.is_some_and(|end| date >= end) {
                return None;
            }
            if self.months & (1 << date.month() as u8) == 0 {
                // Skip the rest of a non-matching month in one step.
                date = first_of_next_month(date)?;
                from = (0, 0);
                continue;
            }
            if self.day_matches(date)
                && let Some((h, m)) = self.first_time_from(from.0, from.1)
            {
                let time = Time::from_hms(h as u8, m as u8, 0).ok()?;
                return Some(PrimitiveDateTime::new(date, time));
            }
            date = date.next_day()?;
            from = (0, 0);
        }
        None
    }

    /// `next_after` on UTC epoch milliseconds (what the job table stores):
    /// shifts to UTC+8 wall time, computes, shifts back. None on out-of-range input.
    pub fn next_after_epoch_ms(&self, after_ms: i64) -> Option<i64> {
        let local_ms = after_ms.checked_add(SHANGHAI_OFFSET_MS)?;
        // Floor division so pre-1970 instants truncate towards the earlier minute.
        let local = OffsetDateTime::from_unix_timestamp(local_ms.div_euclid(1000)).ok()?;
        let next = self.next_after(PrimitiveDateTime::new(local.date(), local.time()))?;
        next.assume_utc().unix_timestamp().checked_mul(1000)?.checked_sub(SHANGHAI_OFFSET_MS)
    }
}

fn first_of_next_month(date: Date) -> Option<Date> {
    let (year, month) = match date.month() {
        Month::December => (date.year().checked_add(1)?, Month::January),
        m => (date.year(), m.next()),
    };
    Date::from_calendar_date(year, month, 1).ok()
}

/// Retry backoff for failed jobs in milliseconds: 30 s doubling per attempt
/// (attempt 1 → 30 s, 2 → 60 s, …), capped at 6 hours. Attempt 0 is treated as 1.
pub fn backoff_ms(attempt: u32) -> i64 {
    const BASE_MS: i64 = 30_000;
    const CAP_MS: i64 = 6 * 3600 * 1000;
    let doublings = attempt.saturating_sub(1);
    // 30 s × 2^10 already exceeds the cap; stopping there keeps the shift small.
    if doublings >= 10 { CAP_MS } else { (BASE_MS << doublings).min(CAP_MS) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sched(expr: &str) -> Schedule {
        Schedule::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    #[test]
    fn next_after_table() {
        type Case = (&'static str, PrimitiveDateTime, Option<PrimitiveDateTime>);
        let cases: &[Case] = &[
            // Steps.
            ("*/15 * * * *", datetime!(2024-01-01 10:07), Some(datetime!(2024-01-01 10:15))),
            ("*/15 * * * *", datetime!(2024-01-01 10:45), Some(datetime!(2024-01-01 11:00))),
            ("10-50/20 * * * *", datetime!(2024-01-01 10:31), Some(datetime!(2024-01-01 10:50))),
            ("10-50/20 * * * *", datetime!(2024-01-01 10:50), Some(datetime!(2024-01-01 11:10))),
            ("0 */6 * * *", datetime!(2024-01-01 18:00), Some(datetime!(2024-01-02 00:00))),
            // Strictly after, seconds ignored.
            ("0 0 * * *", datetime!(2024-01-01 00:00), Some(datetime!(2024-01-02 00:00))),
            ("0 0 * * *", datetime!(2024-12-31 23:59:59.999), Some(datetime!(2025-01-01 00:00))),
            ("* * * * *", datetime!(2024-01-01 10:00:30), Some(datetime!(2024-01-01 10:01))),
            ("5 3 * * *", datetime!(2024-01-01 03:05), Some(datetime!(2024-01-02 03:05))),
            ("5 3,4 * * *", datetime!(2024-01-01 03:05), Some(datetime!(2024-01-01 04:05))),
            // Month ends.
            ("0 0 31 * *", datetime!(2024-04-01 00:00), Some(datetime!(2024-05-31 00:00))),
            ("0 12 30,31 * *", datetime!(2024-02-01 00:00), Some(datetime!(2024-03-30 12:00))),
            ("0 0 1 * *", datetime!(2024-01-31 23:59), Some(datetime!(2024-02-01 00:00))),
            ("0 0 * * *", datetime!(2024-02-28 23:59), Some(datetime!(2024-02-29 00:00))),
            ("0 0 * * *", datetime!(2023-02-28 23:59), Some(datetime!(2023-03-01 00:00))),
            ("0 0 1 1 *", datetime!(2024-12-31 12:00), Some(datetime!(2025-01-01 00:00))),
            // Feb 29.
            ("0 0 29 2 *", datetime!(2023-01-01 00:00), Some(datetime!(2024-02-29 00:00))),
            ("0 0 29 2 *", datetime!(2024-02-29 00:00), Some(datetime!(2028-02-29 00:00))),
            // 2100 is not a leap year: next is 2104, beyond the 5-year horizon.
            ("0 0 29 2 *", datetime!(2096-03-01 00:00), None),
            ("0 0 30 2 *", datetime!(2024-01-01 00:00), None),
            ("0 0 31 4,6,9,11 *", datetime!(2024-01-01 00:00), None),
            // DOM/DOW OR rule when both restricted: 13th OR Friday.
            ("0 9 13 * 5", datetime!(2024-09-01 00:00), Some(datetime!(2024-09-06 09:00))),
            ("0 9 13 * 5", datetime!(2024-10-11 09:00), Some(datetime!(2024-10-13 09:00))),
            ("0 0 29 2 1", datetime!(2023-02-01 00:00), Some(datetime!(2023-02-06 00:00))),
            // AND when one side is *: Mondays only.
            ("0 9 * * 1", datetime!(2024-09-01 00:00), Some(datetime!(2024-09-02 09:00))),
            ("0 9 13 * *", datetime!(2024-09-01 00:00), Some(datetime!(2024-09-13 09:00))),
            // Vixie: "*/2" counts as * for the rule, so odd days AND Monday.
            ("0 0 */2 * 1", datetime!(2024-09-01 00:00), Some(datetime!(2024-09-09 00:00))),
            // 7 and 0 are Sunday.
            ("0 0 * * 7", datetime!(2024-09-02 00:00), Some(datetime!(2024-09-08 00:00))),
            ("0 0 * * 5-7", datetime!(2024-09-08 00:00), Some(datetime!(2024-09-13 00:00))),
            // Names.
            ("30 8 * JAN,jul mon-FRI", datetime!(2024-06-15 00:00), Some(datetime!(2024-07-01 08:30))),
            ("0 0 * * Sat", datetime!(2024-09-01 00:00), Some(datetime!(2024-09-07 00:00))),
            ("0 0 1 dec *", datetime!(2024-01-01 00:00), Some(datetime!(2024-12-01 00:00))),
            // Macros.
            ("@hourly", datetime!(2024-01-01 10:00), Some(datetime!(2024-01-01 11:00))),
            ("@daily", datetime!(2024-01-01 10:00), Some(datetime!(2024-01-02 00:00))),
            ("@midnight", datetime!(2024-01-01 10:00), Some(datetime!(2024-01-02 00:00))),
            ("@weekly", datetime!(2024-09-02 00:00), Some(datetime!(2024-09-08 00:00))),
            ("@monthly", datetime!(2024-01-31 12:00), Some(datetime!(2024-02-01 00:00))),
            ("@yearly", datetime!(2024-06-01 00:00), Some(datetime!(2025-01-01 00:00))),
            ("@ANNUALLY", datetime!(2024-06-01 00:00), Some(datetime!(2025-01-01 00:00))),
            // Edge of the calendar: no panic, just None.
            ("0 0 1 1 *", datetime!(9999-06-01 00:00), None),
            ("* * * * *", datetime!(9999-12-31 23:59), None),
        ];
        for &(expr, after, want) in cases {
            assert_eq!(sched(expr).next_after(after), want, "{expr} after {after}");
        }
    }

    #[test]
    fn next_after_epoch_ms_table() {
        let ms = |dt: OffsetDateTime| dt.unix_timestamp() * 1000 + i64::from(dt.millisecond());
        let cases: &[(&str, i64, Option<i64>)] = &[
            // 00:00Z = 08:00 Shanghai → 09:00 Shanghai = 01:00Z.
            ("0 9 * * *", ms(datetime!(2024-01-01 00:00 UTC)), Some(ms(datetime!(2024-01-01 01:00 UTC)))),
            // 16:00Z is already the next local day (00:00 +08).
            ("0 0 * * *", ms(datetime!(2024-01-01 15:59:59.999 UTC)), Some(ms(datetime!(2024-01-01 16:00 UTC)))),
            ("0 0 * * *", ms(datetime!(2024-01-01 16:00 UTC)), Some(ms(datetime!(2024-01-02 16:00 UTC)))),
            // Local Monday 2024-09-02 starts at 2024-09-01 16:00Z.
            ("0 0 * * 1", ms(datetime!(2024-09-01 00:00 UTC)), Some(ms(datetime!(2024-09-01 16:00 UTC)))),
            // Sub-minute input is truncated to the minute, then strictly after.
            ("* * * * *", ms(datetime!(2024-01-01 00:00:30.5 UTC)), Some(ms(datetime!(2024-01-01 00:01 UTC)))),
            // Before 1970: floor, not truncation toward zero.
            ("* * * * *", -1, Some(0)),
            ("0 8 1 1 *", -1, Some(0)), // 1970-01-01 08:00 +08 = epoch 0
            // Local time itself negative: 1969-12-31 23:59:59.999 +08 → next local midnight.
            ("* * * * *", -28_800_001, Some(-28_800_000)),
            ("0 0 * * *", -28_800_001, Some(-28_800_000)),
            ("* * * * *", i64::MAX, None),
            ("* * * * *", i64::MIN, None),
        ];
        for &(expr, after, want) in cases {
            assert_eq!(sched(expr).next_after_epoch_ms(after), want, "{expr} after {after}");
        }
    }

    #[test]
    fn parse_equivalences() {
        let same: &[(&str, &str)] = &[
            ("0 0 * * 7", "0 0 * * 0"),
            ("0 0 * * SUN", "0 0 * * 0"),
            ("0 0 * * mon-fri", "0 0 * * 1-5"),
            ("0 0 * JAN-MAR *", "0 0 * 1,2,3 *"),
            ("@daily", "0 0 * * *"),
            ("@hourly", "0 * * * *"),
            ("@weekly", "0 0 * * 0"),
            ("@monthly", "0 0 1 * *"),
            ("@yearly", "0 0 1 1 *"),
            ("*/20 * * * *", "0,20,40 * * * *"),
            ("  0\t0  *   * *  ", "0 0 * * *"),
            ("0 0 * * 1-7/2", "0 0 * * 0,1,3,5"),
        ];
        for &(a, b) in same {
            assert_eq!(sched(a), sched(b), "{a} vs {b}");
        }
        // A restricted-but-full DOW ("0-6") is not the same as "*" under Vixie rules.
        assert_ne!(sched("0 0 1 * 0-6"), sched("0 0 1 * *"));
    }

    #[test]
    fn parse_errors() {
        let cases: &[(&str, &str)] = &[
            ("60 * * * *", "第1个字段（分钟）无效：60"),
            ("-1 * * * *", "第1个字段（分钟）无效：-1"),
            ("+5 * * * *", "第1个字段（分钟）无效：+5"),
            ("MON * * * *", "第1个字段（分钟）无效：MON"),
            ("*/0 * * * *", "第1个字段（分钟）无效：*/0"),
            ("*/60 * * * *", "第1个字段（分钟）无效：*/60"),
            ("5/10 * * * *", "第1个字段（分钟）无效：5/10"),
            ("1,,2 * * * *", "第1个字段（分钟）无效：1,,2"),
            ("0 25 * * *", "第2个字段（小时）无效：25"),
            ("0 1,25 * * *", "第2个字段（小时）无效：25"),
            ("0 5-1 * * *", "第2个字段（小时）无效：5-1"),
            ("0 1- * * *", "第2个字段（小时）无效：1-"),
            ("0 0 0 * *", "第3个字段（日）无效：0"),
            ("0 0 32 * *", "第3个字段（日）无效：32"),
            ("0 0 1-2-3 * *", "第3个字段（日）无效：1-2-3"),
            ("0 0 * 0 *", "第4个字段（月）无效：0"),
            ("0 0 * 13 *", "第4个字段（月）无效：13"),
            ("0 0 * JANUARY *", "第4个字段（月）无效：JANUARY"),
            ("0 0 * MON *", "第4个字段（月）无效：MON"),
            ("0 0 * * 8", "第5个字段（星期）无效：8"),
            ("0 0 * * JAN", "第5个字段（星期）无效：JAN"),
            ("0 0 * * SAT-SUN", "第5个字段（星期）无效：SAT-SUN"),
            ("0 0 * * ?", "第5个字段（星期）无效：?"),
            ("０ 0 * * *", "第1个字段（分钟）无效：０"),
            ("0 0 * * 00000000000000000001", "第5个字段（星期）无效：00000000000000000001"),
            ("0 0 * * */99999999999999999999", "第5个字段（星期）无效：*/99999999999999999999"),
            ("", "cron表达式不能为空"),
            ("   ", "cron表达式不能为空"),
            ("0 0 * *", "cron表达式应有5个字段（分钟 小时 日 月 星期），实际为4个"),
            ("0 0 * * * *", "cron表达式应有5个字段（分钟 小时 日 月 星期），实际为6个"),
            ("@reboot", "不支持的cron宏：@reboot（可用 @hourly、@daily、@weekly、@monthly、@yearly）"),
            ("@daily extra", "不支持的cron宏：@daily extra（可用 @hourly、@daily、@weekly、@monthly、@yearly）"),
        ];
        for &(expr, want) in cases {
            assert_eq!(Schedule::parse(expr), Err(want.to_string()), "{expr:?}");
        }
    }

    #[test]
    fn backoff_table() {
        let cases: &[(u32, i64)] = &[
            (0, 30_000),
            (1, 30_000),
            (2, 60_000),
            (3, 120_000),
            (10, 15_360_000),
            (11, 21_600_000), // 30_720 s capped at 6 h
            (12, 21_600_000),
            (64, 21_600_000),
            (u32::MAX, 21_600_000),
        ];
        for &(attempt, want) in cases {
            assert_eq!(backoff_ms(attempt), want, "attempt {attempt}");
        }
    }

    /// Minimal deterministic LCG (Knuth MMIX constants); no rand crate.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Vixie "star" flags re-derived from the expression text, independently of
    /// `Schedule::parse`, for the reference matcher.
    fn text_stars(expr: &str) -> (bool, bool) {
        let fields: Vec<&str> = expand_macro(expr).unwrap_or(expr).split_whitespace().collect();
        (fields[2].starts_with('*'), fields[4].starts_with('*'))
    }

    /// Reference matcher: applies the DOM/DOW rule itself instead of using `day_matches`.
    fn naive_matches(s: &Schedule, stars: (bool, bool), dt: PrimitiveDateTime) -> bool {
        let wd = dt.weekday().number_days_from_sunday();
        let dom_ok = (s.days >> dt.day()) & 1 == 1;
        let dow_ok = (s.weekdays >> wd) & 1 == 1;
        let day_ok = if stars.0 || stars.1 { dom_ok && dow_ok } else { dom_ok || dow_ok };
        (s.minutes >> dt.minute()) & 1 == 1
            && (s.hours >> dt.hour()) & 1 == 1
            && (s.months >> dt.month() as u8) & 1 == 1
            && day_ok
    }

    /// Minute-by-minute search over `window` minutes after the truncated start.
    /// Plain integer minute counters keep debug builds fast enough.
    fn naive_next(
        s: &Schedule,
        stars: (bool, bool),
        after: PrimitiveDateTime,
        window: i64,
    ) -> Option<PrimitiveDateTime> {
        let mut date = after.date();
        let mut minute_of_day = i64::from(after.hour()) * 60 + i64::from(after.minute());
        for _ in 0..window {
            minute_of_day += 1;
            if minute_of_day == 24 * 60 {
                minute_of_day = 0;
                date = date.next_day()?;
            }
            let t = PrimitiveDateTime::new(
                date,
                Time::from_hms((minute_of_day / 60) as u8, (minute_of_day % 60) as u8, 0).unwrap(),
            );
            if naive_matches(s, stars, t) {
                return Some(t);
            }
        }
        None
    }

    fn random_field(rng: &mut Lcg, min: u64, max: u64, names: &[&str], name_base: u64) -> String {
        let span = max - min + 1;
        let val = |rng: &mut Lcg| -> String {
            let v = min + rng.below(span);
            let idx = v.wrapping_sub(name_base);
            if !names.is_empty() && idx < names.len() as u64 && rng.below(3) == 0 {
                names[idx as usize].to_string()
            } else {
                v.to_string()
            }
        };
        let mut parts = Vec::new();
        for _ in 0..=rng.below(2) {
            parts.push(match rng.below(6) {
                0 => "*".to_string(),
                1 => format!("*/{}", 1 + rng.below(max.min(12))),
                2 | 3 => val(rng),
                4 => {
                    let a = min + rng.below(span);
                    let b = a + rng.below(max - a + 1);
                    format!("{a}-{b}")
                }
                _ => {
                    let a = min + rng.below(span);
                    let b = a + rng.below(max - a + 1);
                    format!("{a}-{b}/{}", 1 + rng.below(max.min(10)))
                }
            });
        }
        parts.join(",")
    }

    #[test]
    fn brute_force_cross_check() {
        let mut exprs: Vec<String> = [
            "* * * * *",
            "*/7 * * * *",
            "0 0 * * *",
            "59 23 31 12 *",
            "0 0 29 2 *",
            "0 12 13 * 5",
            "0 0 */2 * 1",
            "30 4 1,15 * 1-5",
            "15 */3 * * SAT,SUN",
            "0 9-17/2 * JAN-MAR,OCT *",
            "0 0 31 * *",
            "0 0 L * *", // invalid on purpose: skipped below
            "@weekly",
            "@monthly",
            "45 6 * * 7",
            "0 0 1-7 * 1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut rng = Lcg(0x5eed_2024);
        for _ in 0..250 {
            let e = [
                random_field(&mut rng, 0, 59, &[], 0),
                random_field(&mut rng, 0, 23, &[], 0),
                random_field(&mut rng, 1, 31, &[], 0),
                random_field(&mut rng, 1, 12, &MONTH_NAMES, 1),
                random_field(&mut rng, 0, 7, &DOW_NAMES, 0),
            ]
            .join(" ");
            exprs.push(e);
        }
        // ~40 days keeps the naive search affordable in debug builds.
        const WINDOW: i64 = 40 * 24 * 60;
        let base = datetime!(2019-01-01 00:00);
        let mut checked = 0;
        let mut found_in_window = 0;
        for expr in &exprs {
            let Ok(s) = Schedule::parse(expr) else {
                assert_eq!(expr, "0 0 L * *", "generated expression failed to parse");
                continue;
            };
            for _ in 0..4 {
                // Random minute in 2019..2031 plus random seconds.
                let after = base
                    + Duration::minutes(rng.below(12 * 366 * 24 * 60) as i64)
                    + Duration::seconds(rng.below(60) as i64);
                let got = s.next_after(after);
                let want = naive_next(&s, text_stars(expr), after, WINDOW);
                checked += 1;
                match want {
                    Some(w) => {
                        found_in_window += 1;
                        assert_eq!(got, Some(w), "{expr} after {after}");
                    }
                    None => {
                        // Beyond the window the fast path must still land on a
                        // matching minute past the window (or find nothing).
                        if let Some(g) = got {
                            assert!(g > after + Duration::minutes(WINDOW), "{expr} after {after}: {g}");
                            assert!(naive_matches(&s, text_stars(expr), g), "{expr} after {after}: {g} does not match");
                        }
                    }
                }
            }
        }
        eprintln!("brute force: {checked} queries, {found_in_window} found in window");
        // Guard against a vacuous test (e.g. every expression failing to parse).
        assert!(checked > 900 && found_in_window > 400, "checked {checked}, found {found_in_window}");
    }

    #[test]
    fn sparse_schedules_are_fast_and_right() {
        // Minute stepping would need ~2 million steps per query; this loop of
        // thousands of queries only finishes quickly with day/month skipping.
        let s = sched("0 0 29 2 *");
        let mut rng = Lcg(29);
        for _ in 0..5_000 {
            let after = datetime!(2001-01-01 00:00) + Duration::minutes(rng.below(90 * 366 * 24 * 60) as i64);
            match s.next_after(after) {
                Some(g) => {
                    assert_eq!((g.month(), g.day(), g.hour(), g.minute()), (Month::February, 29, 0, 0));
                    assert!(g > after && g - after <= Duration::days(HORIZON_DAYS), "{after} → {g}");
                    // No leap day was skipped in between.
                    let mut y = after.year();
                    while y < g.year() {
                        let leap_day = Date::from_calendar_date(y, Month::February, 29);
                        if let Ok(d) = leap_day {
                            assert!(d.midnight() <= after, "{after} skipped {d}");
                        }
                        y += 1;
                    }
                }
                // Only possible across the 2100 gap (2096 → 2104).
                None => assert!(after.year() >= 2096, "{after}"),
            }
        }
    }
}
