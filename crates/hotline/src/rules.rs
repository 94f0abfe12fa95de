//! Pure rules of the hotline: time limits and their due instants on the working-day
//! calendar, the SLA table's matching, the intake's validation, order numbers.

use time::{Duration, PrimitiveDateTime, Time};

use gongkai_kernel::calendar::rules::{Calendar, OfficeHours};
use gongkai_kernel::clock::{local_to_ms, ms_to_local};
use gongkai_kernel::error::FieldErrors;

use crate::model::{Channel, Kind, Urgency};

/// A time limit: calendar minutes (urgent acceptance), working hours, or working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Minutes(u32),
    WorkHours(u32),
    WorkDays(u32),
}

impl Limit {
    /// `15m`, `4wh`, `3wd`.
    pub fn parse(s: &str) -> Option<Limit> {
        let s = s.trim();
        let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
        let n: u32 = num.parse().ok()?;
        if n == 0 || n > 100_000 {
            return None;
        }
        match unit {
            "m" => Some(Limit::Minutes(n)),
            "wh" => Some(Limit::WorkHours(n)),
            "wd" => Some(Limit::WorkDays(n)),
            _ => None,
        }
    }
    pub fn spec(self) -> String {
        match self {
            Limit::Minutes(n) => format!("{n}m"),
            Limit::WorkHours(n) => format!("{n}wh"),
            Limit::WorkDays(n) => format!("{n}wd"),
        }
    }
    pub fn zh(self) -> String {
        match self {
            Limit::Minutes(n) if n % 60 == 0 => format!("{} 小时（自然时间）", n / 60),
            Limit::Minutes(n) => format!("{n} 分钟"),
            Limit::WorkHours(n) => format!("{n} 个工作小时"),
            Limit::WorkDays(n) => format!("{n} 个工作日"),
        }
    }
    /// The limit plus `extra` working days (an approved extension).
    pub fn extended(self, extra: u32) -> Limit {
        match self {
            Limit::WorkDays(n) => Limit::WorkDays(n + extra),
            // An extension of a short limit runs from its original due day.
            other => other,
        }
    }

    /// The instant (epoch ms) the limit ends when it starts at `start_ms`. Working days
    /// end at the close of the n-th working day after the start day (the start day is
    /// not counted); working hours count office time only.
    pub fn due(self, start_ms: i64, cal: &Calendar, hours: &OfficeHours) -> i64 {
        match self {
            Limit::Minutes(n) => start_ms + i64::from(n) * 60_000,
            Limit::WorkHours(n) => local_to_ms(cal.add_working_minutes(ms_to_local(start_ms), n * 60, hours)),
            Limit::WorkDays(n) => {
                let day = cal.add_working_days(ms_to_local(start_ms).date(), n);
                end_of_day(day)
            }
        }
    }
}

/// The last millisecond of a local day.
pub fn end_of_day(day: time::Date) -> i64 {
    local_to_ms(PrimitiveDateTime::new(day, Time::MIDNIGHT)) + 86_400_000 - 1
}

/// `due` extended by `days` working days (an approved 延期 on a working-day limit or not).
pub fn extend_due(due_ms: i64, days: u32, cal: &Calendar) -> i64 {
    if days == 0 {
        return due_ms;
    }
    end_of_day(cal.add_working_days(ms_to_local(due_ms).date(), days))
}

/// The longest extension the centre may grant, in working days.
pub const MAX_EXTENSION_DAYS: u32 = 10;

/// One row of the SLA table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct SlaRow {
    pub id: i64,
    pub kind: String,
    pub category_code: String,
    pub urgency: String,
    pub accept_limit: String,
    pub return_limit: String,
    pub handle_limit: String,
    pub callback_limit: String,
}

/// The limits that apply to one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub accept: Limit,
    pub ret: Limit,
    pub handle: Limit,
    pub callback: Limit,
}

/// `code` is `pattern` or a descendant of it (codes are dotted: `cs.water.outage`).
fn category_matches(pattern: &str, code: &str) -> bool {
    pattern == "*" || code == pattern || code.strip_prefix(pattern).is_some_and(|r| r.starts_with('.'))
}

/// The most specific row for (kind, category code, urgency): an exact urgency first (an
/// urgent order gets the urgent acceptance time whatever its category), then the deepest
/// category, then an exact type. None when no row matches (the table lacks `* * *`).
pub fn match_sla<'a>(rows: &'a [SlaRow], kind: &str, category: &str, urgency: &str) -> Option<&'a SlaRow> {
    rows.iter()
        .filter(|r| r.kind == "*" || r.kind == kind)
        .filter(|r| r.urgency == "*" || r.urgency == urgency)
        .filter(|r| category_matches(&r.category_code, category))
        .max_by_key(|r| {
            let depth = if r.category_code == "*" { 0 } else { 1 + r.category_code.matches('.').count() };
            (r.urgency != "*", depth, r.kind != "*")
        })
}

pub fn limits_of(row: &SlaRow) -> Option<Limits> {
    Some(Limits {
        accept: Limit::parse(&row.accept_limit)?,
        ret: Limit::parse(&row.return_limit)?,
        handle: Limit::parse(&row.handle_limit)?,
        callback: Limit::parse(&row.callback_limit)?,
    })
}

/// The default table (statutory-rules §7): 特急 accepted within 15 minutes and 紧急
/// (water, power, gas, heat) within 30, calendar time; ordinary orders within one working
/// day; returns within 2 working days; 咨询/求助 handled in 3 working days, 投诉/举报/建议
/// in 13, others in 5; the callback within 2 working days of the review.
pub const DEFAULT_SLA: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    ("*", "*", "*", "1wd", "2wd", "5wd", "2wd"),
    ("*", "*", "urgent", "15m", "2wh", "1wd", "1wd"),
    ("*", "*", "high", "30m", "4wh", "1wd", "1wd"),
    ("consult", "*", "*", "1wd", "2wd", "3wd", "2wd"),
    ("help", "*", "*", "1wd", "2wd", "3wd", "2wd"),
    ("complain", "*", "*", "1wd", "2wd", "13wd", "2wd"),
    ("report", "*", "*", "1wd", "2wd", "13wd", "2wd"),
    ("suggest", "*", "*", "1wd", "2wd", "13wd", "2wd"),
];

/// Checks one SLA row as an administrator typed it.
pub fn validate_sla(kind: &str, category: &str, urgency: &str, limits: [&str; 4]) -> FieldErrors {
    let mut e = FieldErrors::new();
    if kind != "*" && Kind::parse(kind).is_none() {
        e.add("kind", "请选择诉求类型或“全部”");
    }
    if category.trim().is_empty() {
        e.add("category_code", "请填写事项分类编码，或用 * 表示全部");
    }
    if urgency != "*" && Urgency::parse(urgency).is_none() {
        e.add("urgency", "请选择紧急程度或“全部”");
    }
    for (field, v) in ["accept_limit", "return_limit", "handle_limit", "callback_limit"].iter().zip(limits) {
        if Limit::parse(v).is_none() {
            e.add(field, "时限格式为数字加单位：15m（分钟）、4wh（工作小时）、3wd（工作日）");
        }
    }
    e
}

/// 工单编号: the receipt day and the order's id, e.g. `20261128-000123`; unique because
/// the id is.
pub fn order_no(received_on: time::Date, id: i64) -> String {
    format!("{:04}{:02}{:02}-{:06}", received_on.year(), u8::from(received_on.month()), received_on.day(), id)
}

pub const MAX_TITLE: usize = 100;
/// The Open311 limit on a description; the same for every channel.
pub const MAX_CONTENT: usize = 4000;

/// A mainland mobile or a fixed line with area code, digits and dashes only.
pub fn valid_phone(p: &str) -> bool {
    let digits: String = p.chars().filter(|c| *c != '-' && *c != ' ').collect();
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && (7..=13).contains(&digits.len())
}

/// Text that looks like markup: refused rather than silently changed (Open311 says "no HTML").
pub fn has_markup(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.contains('<')
        && (lower.contains("</") || lower.contains("/>") || lower.contains("<script") || {
            // `<b>`, `<img …>`: a tag name right after '<'.
            lower.split('<').skip(1).any(|t| t.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        })
}

/// What an intake is checked for before anything is stored.
#[derive(Debug, Clone, Default)]
pub struct IntakeCheck<'a> {
    pub channel: &'a str,
    pub kind: &'a str,
    pub urgency: &'a str,
    pub title: &'a str,
    pub content: &'a str,
    pub caller_phone: &'a str,
    pub anonymous: bool,
    pub has_location: bool,
    pub location_required: bool,
}

pub fn validate_intake(i: &IntakeCheck<'_>) -> FieldErrors {
    let mut e = FieldErrors::new();
    if Channel::parse(i.channel).is_none() {
        e.add("channel", "请选择来源渠道");
    }
    if Kind::parse(i.kind).is_none() {
        e.add("kind", "请选择诉求类型（咨询、求助、投诉、举报、建议、表扬）");
    }
    if Urgency::parse(i.urgency).is_none() {
        e.add("urgency", "请选择紧急程度");
    }
    let title = i.title.trim();
    if title.is_empty() {
        e.add("title", "请填写标题");
    } else if title.chars().count() > MAX_TITLE {
        e.add("title", format!("标题不能超过 {MAX_TITLE} 个字"));
    }
    let content = i.content.trim();
    if content.is_empty() {
        e.add("content", "请填写诉求内容");
    } else if content.chars().count() > MAX_CONTENT {
        e.add("content", format!("诉求内容不能超过 {MAX_CONTENT} 个字"));
    }
    if has_markup(title) {
        e.add("title", "标题不能包含 HTML 标记");
    }
    if has_markup(content) {
        e.add("content", "诉求内容不能包含 HTML 标记");
    }
    let phone = i.caller_phone.trim();
    if !phone.is_empty() && !valid_phone(phone) {
        e.add("caller_phone", "电话号码只能包含数字和连字符，7 到 13 位");
    }
    if phone.is_empty() && !i.anonymous && i.channel == "phone" {
        e.add("caller_phone", "请填写来电号码，或勾选“匿名”");
    }
    if i.location_required && !i.has_location {
        e.add("address", "请填写地址，或选择街道社区");
    }
    e
}

/// Two orders are likely duplicates when received within this many days of each other
/// from the same caller, or at the same place in the same category.
pub const DUPLICATE_WINDOW_DAYS: i64 = 7;

/// Whole days between two instants, for "within days" checks.
pub fn days_apart(a_ms: i64, b_ms: i64) -> i64 {
    (a_ms - b_ms).abs() / Duration::DAY.whole_milliseconds() as i64
}

/// A phone number shown outside the centre and the handlers: 139****5678.
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let keep_tail = 4;
    let keep_head = 3;
    let mut s: String = chars[..keep_head].iter().collect();
    s.push_str(&"*".repeat(chars.len() - keep_head - keep_tail));
    s.extend(&chars[chars.len() - keep_tail..]);
    s
}

/// A caller's name shown outside the centre and the handlers: 张*, 欧阳** .
pub fn mask_name(n: &str) -> String {
    let mut chars = n.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count();
            format!("{first}{}", "*".repeat(rest.max(1)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gongkai_kernel::calendar::rules::{DayKind, SpecialDay};
    use time::macros::{date, datetime};

    fn cal() -> Calendar {
        // A National Day week: Thu 1 to Wed 7 October off, Sat 10 October worked (调休).
        let mut days = Vec::new();
        for d in 1..=7 {
            days.push(SpecialDay {
                date: time::Date::from_calendar_date(2026, time::Month::October, d).unwrap(),
                kind: DayKind::Holiday,
                name: "国庆节".into(),
            });
        }
        days.push(SpecialDay {
            date: date!(2026 - 10 - 10),
            kind: DayKind::AdjustedWorkday,
            name: "国庆节调休".into(),
        });
        Calendar::new(days, [2026])
    }

    fn ms(dt: PrimitiveDateTime) -> i64 {
        local_to_ms(dt)
    }

    #[test]
    fn limits_parse_and_print() {
        assert_eq!(Limit::parse("15m"), Some(Limit::Minutes(15)));
        assert_eq!(Limit::parse("4wh"), Some(Limit::WorkHours(4)));
        assert_eq!(Limit::parse("13wd"), Some(Limit::WorkDays(13)));
        for bad in ["", "wd", "0wd", "3d", "3 wd", "-1m", "1.5wd"] {
            assert_eq!(Limit::parse(bad), None, "{bad}");
        }
        assert_eq!(Limit::WorkDays(3).spec(), "3wd");
        assert_eq!(Limit::WorkDays(3).zh(), "3 个工作日");
    }

    #[test]
    fn working_days_skip_the_holiday_and_count_the_adjusted_saturday() {
        let c = cal();
        let h = OfficeHours::default();
        // Received Wed 30 Sep: 1–7 Oct are holidays, Thu 8 and Fri 9 count, Sat 10 is a 调休
        // working day.
        let start = ms(datetime!(2026-09-30 16:00));
        assert_eq!(Limit::WorkDays(1).due(start, &c, &h), end_of_day(date!(2026 - 10 - 08)));
        assert_eq!(Limit::WorkDays(3).due(start, &c, &h), end_of_day(date!(2026 - 10 - 10)));
        // Then Sun 11 is a rest day, Mon 12 the fourth.
        assert_eq!(Limit::WorkDays(4).due(start, &c, &h), end_of_day(date!(2026 - 10 - 12)));
        // Calendar minutes do not care.
        assert_eq!(Limit::Minutes(15).due(start, &c, &h), start + 15 * 60_000);
    }

    #[test]
    fn working_hours_wait_for_the_office() {
        let c = cal();
        let h = OfficeHours::default();
        // Wednesday 17:00 before the holiday week: 30 minutes left that day, the rest on Thu 8 Oct.
        let start = ms(datetime!(2026-09-30 17:00));
        let due = ms_to_local(Limit::WorkHours(2).due(start, &c, &h));
        assert_eq!(due.date(), date!(2026 - 10 - 08));
    }

    #[test]
    fn extension_adds_working_days_from_the_old_due_day() {
        let c = cal();
        let due = end_of_day(date!(2026 - 09 - 30));
        assert_eq!(extend_due(due, 2, &c), end_of_day(date!(2026 - 10 - 09)));
        assert_eq!(extend_due(due, 0, &c), due);
    }

    fn row(kind: &str, cat: &str, urg: &str, handle: &str) -> SlaRow {
        SlaRow {
            id: 0,
            kind: kind.into(),
            category_code: cat.into(),
            urgency: urg.into(),
            accept_limit: "1wd".into(),
            return_limit: "2wd".into(),
            handle_limit: handle.into(),
            callback_limit: "2wd".into(),
        }
    }

    #[test]
    fn the_most_specific_sla_row_wins() {
        let rows = vec![
            row("*", "*", "*", "5wd"),
            row("complain", "*", "*", "13wd"),
            row("*", "cs", "*", "7wd"),
            row("*", "cs.water", "*", "2wd"),
            row("*", "*", "urgent", "1wd"),
        ];
        let h = |k, c, u| match_sla(&rows, k, c, u).map(|r| r.handle_limit.clone()).unwrap();
        assert_eq!(h("consult", "edu", "normal"), "5wd");
        assert_eq!(h("complain", "edu", "normal"), "13wd");
        assert_eq!(h("complain", "cs.road", "normal"), "7wd", "a category beats a type");
        assert_eq!(h("complain", "cs.water.outage", "normal"), "2wd", "the deepest category");
        assert_eq!(h("complain", "csx", "normal"), "13wd", "a prefix that is not a parent does not match");
        assert_eq!(h("complain", "cs.water", "urgent"), "1wd", "urgency first");
        assert!(match_sla(&rows[1..2], "consult", "x", "normal").is_none());
    }

    #[test]
    fn the_default_table_covers_everything() {
        let rows: Vec<SlaRow> = DEFAULT_SLA
            .iter()
            .map(|r| SlaRow {
                id: 0,
                kind: r.0.into(),
                category_code: r.1.into(),
                urgency: r.2.into(),
                accept_limit: r.3.into(),
                return_limit: r.4.into(),
                handle_limit: r.5.into(),
                callback_limit: r.6.into(),
            })
            .collect();
        for k in Kind::ALL {
            for u in Urgency::ALL {
                let r = match_sla(&rows, k.as_str(), "any", u.as_str()).expect("a row");
                assert!(limits_of(r).is_some());
            }
        }
        let urgent = match_sla(&rows, "complain", "x", "urgent").unwrap();
        assert_eq!(urgent.accept_limit, "15m");
    }

    #[test]
    fn intake_validation_names_each_field() {
        let ok = IntakeCheck {
            channel: "phone",
            kind: "complain",
            urgency: "normal",
            title: "噪音扰民",
            content: "夜间施工",
            caller_phone: "13912345678",
            ..Default::default()
        };
        assert!(validate_intake(&ok).is_empty());
        let long = "字".repeat(4001);
        let bad = IntakeCheck {
            channel: "fax",
            kind: "x",
            urgency: "",
            title: "<b>标题</b>",
            content: &long,
            caller_phone: "abc",
            location_required: true,
            ..Default::default()
        };
        let e = validate_intake(&bad);
        for f in ["channel", "kind", "urgency", "title", "content", "caller_phone", "address"] {
            assert!(e.get(f).is_some(), "{f}: {e:?}");
        }
        let anonymous_phone_call = IntakeCheck { caller_phone: "", anonymous: false, ..ok.clone() };
        assert!(validate_intake(&anonymous_phone_call).get("caller_phone").is_some());
        assert!(validate_intake(&IntakeCheck { caller_phone: "", anonymous: true, ..ok }).is_empty());
    }

    #[test]
    fn markup_is_recognised_but_a_less_than_sign_is_not() {
        assert!(has_markup("<script>alert(1)</script>"));
        assert!(has_markup("见 <img src=x>"));
        assert!(!has_markup("水温 < 10 度"));
        assert!(!has_markup("a<3"));
    }

    #[test]
    fn numbers_and_masks() {
        assert_eq!(order_no(date!(2026 - 11 - 28), 123), "20261128-000123");
        assert_eq!(order_no(date!(2026 - 11 - 28), 12_345_678), "20261128-12345678");
        assert_eq!(mask_phone("13912345678"), "139****5678");
        assert_eq!(mask_phone("123"), "***");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳修文"), "欧***");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(days_apart(0, 3 * 86_400_000 + 5), 3);
    }
}
