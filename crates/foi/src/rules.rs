//! The statutory rules of 依申请公开 as pure functions (no I/O, no DB): the receipt date
//! (条例第三十一条 + 国办公开办函〔2015〕207号), the answer clock (第三十、三十二、三十三、
//! 三十五、四十二条) and 信息处理费 (国办函〔2020〕109号). See statutory-rules.md §1.1–1.4.

use std::fmt;

use gongkai_kernel::calendar::rules::{Calendar, format_date};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::model::*;

/// Working days the agency has to answer (第三十三条第一款).
pub const ANSWER_WORKING_DAYS: u32 = 20;
/// Longest extension, granted once (第三十三条第二款).
pub const MAX_EXTENSION_DAYS: u32 = 20;
/// The 补正 notice goes out within this many working days of receipt (第三十条).
pub const CORRECTION_NOTICE_DAYS: u32 = 7;
/// The applicant pays within this many working days of the fee notice (109号).
pub const FEE_PAYMENT_DAYS: u32 = 20;
/// A consulted third party answers within this many working days (第三十二条).
pub const CONSULTATION_DAYS: u32 = 15;

const FUTURE: &str = "日期不能晚于今天";

// ---------------------------------------------------------------------------
// Errors and serde helpers
// ---------------------------------------------------------------------------

/// A refused input, attached to the form field that caused it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        FieldError { field, message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FieldError {}

fn not_future(field: &'static str, d: Date, today: Date) -> Result<(), FieldError> {
    if d > today { Err(FieldError::new(field, FUTURE)) } else { Ok(()) }
}

// Dates travel as "YYYY-MM-DD": time's own serde impl would emit `[2024, 275]`.
mod ymd {
    use gongkai_kernel::calendar::rules::{format_date, parse_date};
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_date(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Date, D::Error> {
        let s = String::deserialize(de)?;
        parse_date(s.trim()).ok_or_else(|| serde::de::Error::custom(format!("日期无效: {s}")))
    }
}

/// `Option<Date>` as "YYYY-MM-DD" or null; an empty string (a blank form field) reads as None.
mod opt_ymd {
    use gongkai_kernel::calendar::rules::{format_date, parse_date};
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format_date(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(de)? {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => parse_date(s.trim()).map(Some).ok_or_else(|| serde::de::Error::custom(format!("日期无效: {s}"))),
        }
    }
}

// StepKind travels as its stored word ("consultation"), like every other enum in the forms.
mod step_kind {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::model::StepKind;

    pub fn serialize<S: Serializer>(k: &StepKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<StepKind, D::Error> {
        let s = String::deserialize(de)?;
        StepKind::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("暂停类型无效: {s}")))
    }

    pub fn serialize_opt<S: Serializer>(k: &Option<StepKind>, s: S) -> Result<S::Ok, S::Error> {
        match k {
            Some(k) => s.serialize_str(k.as_str()),
            None => s.serialize_none(),
        }
    }
}

// ---------------------------------------------------------------------------
// 1. Receipt date
// ---------------------------------------------------------------------------

/// What staff record about how a request arrived; which field decides depends on the channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// In person / online submission day.
    #[serde(default, with = "opt_ymd")]
    pub submitted_on: Option<Date>,
    /// Postmark / sending date (mail, fax).
    #[serde(default, with = "opt_ymd")]
    pub sent_on: Option<Date>,
    /// The letter arrived (ordinary mail).
    #[serde(default, with = "opt_ymd")]
    pub arrived_on: Option<Date>,
    /// Registered mail or courier signed for.
    #[serde(default, with = "opt_ymd")]
    pub signed_on: Option<Date>,
    /// Both sides confirmed (online, fax, ordinary mail, other channels).
    #[serde(default, with = "opt_ymd")]
    pub confirmed_on: Option<Date>,
    #[serde(default, with = "opt_ymd")]
    pub email_received_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    #[serde(with = "ymd")]
    pub received_on: Date,
    /// The rule applied, one Chinese sentence.
    pub rule: &'static str,
}

const RULE_IN_PERSON: &str = "申请人当面提交申请的，以提交之日为收到申请之日（条例第三十一条第（一）项）。";
const RULE_REGISTERED: &str = "以邮寄方式提交申请的，以行政机关签收之日为收到申请之日（条例第三十一条第（二）项）。";
const RULE_ORDINARY: &str = "以平常信函等无需签收的邮寄方式提交申请的，以政府信息公开工作机构与申请人确认之日为收到申请之日（条例第三十一条第（二）项）。";
const RULE_ONLINE_FAX: &str = "通过互联网渠道或者政府信息公开工作机构的传真提交申请的，以双方确认之日为收到申请之日（条例第三十一条第（三）项）。";
const RULE_EMAIL: &str = "通过电子邮件提交申请的，以电子邮件系统收到之日为收到申请之日（国办公开办函〔2015〕207号）。";
const RULE_OTHER: &str = "通过其他渠道提交申请的，以双方确认之日为收到申请之日。";

/// The receipt date under the channel's rule. `Ok(None)`: not received yet (a channel whose
/// date is the confirmation day, still unconfirmed). Contradictory or future dates are refused
/// whichever channel they belong to, so the record never keeps an impossible date.
pub fn receipt(channel: Channel, ev: &Evidence, today: Date) -> Result<Option<Receipt>, FieldError> {
    let fields = [
        ("submitted_on", ev.submitted_on),
        ("sent_on", ev.sent_on),
        ("arrived_on", ev.arrived_on),
        ("signed_on", ev.signed_on),
        ("confirmed_on", ev.confirmed_on),
        ("email_received_on", ev.email_received_on),
    ];
    for (field, d) in fields {
        if let Some(d) = d {
            not_future(field, d, today)?;
        }
    }
    let before = |a: Option<Date>, b: Option<Date>| matches!((a, b), (Some(a), Some(b)) if a < b);
    if before(ev.signed_on, ev.sent_on) {
        return Err(FieldError::new("signed_on", "签收日期不能早于寄出日期"));
    }
    if before(ev.arrived_on, ev.sent_on) {
        return Err(FieldError::new("arrived_on", "到达日期不能早于寄出日期"));
    }
    if before(ev.confirmed_on, ev.arrived_on) {
        return Err(FieldError::new("confirmed_on", "确认日期不能早于来信到达日期"));
    }
    if before(ev.confirmed_on, ev.submitted_on) {
        return Err(FieldError::new("confirmed_on", "确认日期不能早于提交日期"));
    }
    if before(ev.confirmed_on, ev.sent_on) {
        return Err(FieldError::new("confirmed_on", "确认日期不能早于寄出日期"));
    }

    let required = |d: Option<Date>, field: &'static str, message: &str| {
        d.map(Some).ok_or_else(|| FieldError::new(field, message))
    };
    let (date, rule) = match channel {
        Channel::InPerson => (required(ev.submitted_on, "submitted_on", "请填写当面提交日期")?, RULE_IN_PERSON),
        Channel::RegisteredMail => (required(ev.signed_on, "signed_on", "请填写签收日期")?, RULE_REGISTERED),
        Channel::OrdinaryMail => (ev.confirmed_on, RULE_ORDINARY),
        Channel::Online | Channel::Fax => (ev.confirmed_on, RULE_ONLINE_FAX),
        Channel::Email => {
            (required(ev.email_received_on, "email_received_on", "请填写电子邮件系统收到日期")?, RULE_EMAIL)
        }
        Channel::Other => (ev.confirmed_on, RULE_OTHER),
    };
    Ok(date.map(|received_on| Receipt { received_on, rule }))
}

// ---------------------------------------------------------------------------
// 2. The clock
// ---------------------------------------------------------------------------

/// A 补正 notice: sent, with the deadline staff set, and when the corrected application came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    #[serde(with = "ymd")]
    pub sent_on: Date,
    #[serde(with = "ymd")]
    pub deadline: Date,
    #[serde(default, with = "opt_ymd")]
    pub received_on: Option<Date>,
}

/// A consultation or fee period: working days in (from, to] are not counted; `to == None`
/// means it is still running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    #[serde(with = "step_kind")]
    pub kind: StepKind,
    #[serde(with = "ymd")]
    pub from: Date,
    #[serde(default, with = "opt_ymd")]
    pub to: Option<Date>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockInput {
    #[serde(default, with = "opt_ymd")]
    pub received_on: Option<Date>,
    /// In order; the latest received one restarts the clock.
    #[serde(default)]
    pub corrections: Vec<Correction>,
    #[serde(default)]
    pub pauses: Vec<Pause>,
    /// 0, or 1..=20 granted once.
    #[serde(default)]
    pub extension_days: u32,
    /// 第三十五条: a reasonable longer deadline set by the agency.
    #[serde(default, with = "opt_ymd")]
    pub longer_due: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clock {
    /// The day the working days count from (receipt, or the latest correction received).
    /// None while not received or while a correction is outstanding (the clock will restart).
    #[serde(with = "opt_ymd")]
    pub start: Option<Date>,
    /// None while not received, while a correction is outstanding, or while a pause is open.
    #[serde(with = "opt_ymd")]
    pub due: Option<Date>,
    /// Receipt + 7 working days: the last day to send a 补正 notice.
    #[serde(with = "opt_ymd")]
    pub correction_notice_due: Option<Date>,
    /// An open pause, or `Correction` for an outstanding correction.
    #[serde(serialize_with = "step_kind::serialize_opt")]
    pub paused: Option<StepKind>,
    /// 20 + extension.
    pub working_days: u32,
    /// Working days excluded because of closed pauses.
    pub paused_working_days: u32,
    /// The explanation shown to staff and applicant, one Chinese sentence each.
    pub lines: Vec<String>,
}

fn pause_basis(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Consultation => "条例第三十二条",
        StepKind::Fee => "国办函〔2020〕109号",
        StepKind::Correction => "条例第三十条",
    }
}

/// The answer deadline and its explanation. Working days count from the day after `start`;
/// a day counts if it is a working day outside every closed pause (from, to].
pub fn clock(cal: &Calendar, input: &ClockInput) -> Clock {
    // Clamped so bad stored data cannot stretch the walk; check_extension refuses it on input.
    let extension = input.extension_days.min(MAX_EXTENSION_DAYS);
    let working_days = ANSWER_WORKING_DAYS + extension;
    let mut out = Clock {
        start: None,
        due: None,
        correction_notice_due: None,
        paused: None,
        working_days,
        paused_working_days: 0,
        lines: Vec::new(),
    };
    let Some(received) = input.received_on else {
        out.lines.push("尚未确认收到申请，答复期限尚未起算（条例第三十一条）。".to_string());
        return out;
    };
    out.lines.push(format!("收到申请之日为{}。", format_date(received)));
    out.correction_notice_due = Some(cal.add_working_days(received, CORRECTION_NOTICE_DAYS));

    let mut start = received;
    let mut outstanding = false;
    for c in &input.corrections {
        match c.received_on {
            Some(on) => {
                out.lines.push(format!(
                    "{}发出补正通知，{}收到补正后的申请，答复期限自该日重新起算（条例第三十条）。",
                    format_date(c.sent_on),
                    format_date(on)
                ));
                start = start.max(on);
            }
            None => {
                outstanding = true;
                out.lines.push(format!(
                    "{}发出补正通知，补正期限至{}，尚未收到补正；答复期限自收到补正后的申请之日重新起算（条例第三十条）。",
                    format_date(c.sent_on),
                    format_date(c.deadline)
                ));
            }
        }
    }
    if outstanding {
        out.paused = Some(StepKind::Correction);
        return out;
    }
    out.start = Some(start);

    // Closed pauses that reach past the start; the rest cannot touch the count.
    let closed: Vec<(usize, Date, Date)> = input
        .pauses
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.to.filter(|&to| to > start).map(|to| (i, p.from, to)))
        .collect();
    let excluded_by = |d: Date| closed.iter().find(|&&(_, from, to)| d > from && d <= to).map(|&(i, _, _)| i);
    let mut per_pause = vec![0u32; input.pauses.len()];

    let open = input.pauses.iter().find(|p| p.to.is_none());
    let mut walked = 0u32;
    let mut due = None;
    match open {
        Some(_) => {
            // No due date yet: report what the closed pauses have excluded so far.
            let last = closed.iter().map(|&(_, _, to)| to).max().unwrap_or(start);
            let mut d = start;
            while d < last {
                let Some(next) = d.next_day() else { break };
                d = next;
                if cal.is_working_day(d)
                    && let Some(i) = excluded_by(d)
                {
                    per_pause[i] += 1;
                }
            }
        }
        None => {
            let mut d = start;
            let mut counted = 0u32;
            while counted < working_days {
                let Some(next) = d.next_day() else { break };
                d = next;
                if !cal.is_working_day(d) {
                    continue;
                }
                walked += 1;
                match excluded_by(d) {
                    Some(i) => per_pause[i] += 1,
                    None => counted += 1,
                }
            }
            due = Some(d);
        }
    }
    out.paused_working_days = per_pause.iter().sum();

    for (i, p) in input.pauses.iter().enumerate() {
        let kind = p.kind.label_zh();
        let line = match p.to {
            None => {
                format!("自{}起{}，尚未结束，答复期限暂停计算（{}）。", format_date(p.from), kind, pause_basis(p.kind))
            }
            Some(to) if to <= start => format!(
                "{}期间（{}至{}）在答复期限起算之前结束，不影响期限。",
                kind,
                format_date(p.from),
                format_date(to)
            ),
            Some(to) => format!(
                "{}期间（{}至{}）不计算的工作日{}天（{}）。",
                kind,
                format_date(p.from),
                format_date(to),
                per_pause[i],
                pause_basis(p.kind)
            ),
        };
        out.lines.push(line);
    }
    if extension > 0 {
        out.lines
            .push(format!("经批准延长答复期限{extension}个工作日，共{working_days}个工作日（条例第三十三条第二款）。"));
    }
    if let Some(p) = open {
        out.paused = Some(p.kind);
        return out;
    }
    let Some(statutory) = due else { return out };
    if out.paused_working_days > 0 {
        out.lines.push(format!(
            "扣除暂停期间的{}个工作日，自{}的次日起共经过{}个工作日。",
            out.paused_working_days,
            format_date(start),
            walked
        ));
    }
    // The calendar's own explanation walks the same days and lands on the same date.
    out.lines.push(cal.explain_add_working_days(start, walked).to_zh());
    let mut final_due = statutory;
    if let Some(longer) = input.longer_due {
        if longer > statutory {
            final_due = longer;
            out.lines.push(format!(
                "因申请数量、频次明显超过合理范围，本机关确定的合理答复期限为{}（条例第三十五条）。",
                format_date(longer)
            ));
        } else {
            out.lines.push(format!(
                "本机关确定的答复期限{}不晚于法定期限，仍以{}为准。",
                format_date(longer),
                format_date(statutory)
            ));
        }
    }
    out.lines.push(format!("答复期限截止{}。", format_date(final_due)));
    out.due = Some(final_due);
    out
}

/// Late once the due day has passed; a paused or unreceived clock is never late.
pub fn is_overdue(clock: &Clock, today: Date) -> bool {
    clock.due.is_some_and(|due| today > due)
}

/// The applicant has not corrected and the deadline has passed (→ 视为放弃, 第三十条).
pub fn correction_deadline_passed(c: &Correction, today: Date) -> bool {
    c.received_on.is_none() && today > c.deadline
}

/// Last day to pay: 20 working days from the day after the fee notice.
pub fn fee_payment_deadline(cal: &Calendar, notice_on: Date) -> Date {
    cal.add_working_days(notice_on, FEE_PAYMENT_DAYS)
}

/// Last day for the consulted third party to answer: 15 working days.
pub fn consultation_deadline(cal: &Calendar, from: Date) -> Date {
    cal.add_working_days(from, CONSULTATION_DAYS)
}

// ---------------------------------------------------------------------------
// Validation of clock events
// ---------------------------------------------------------------------------

/// A 补正 notice goes out once, within 7 working days of receipt, with a deadline after it.
pub fn check_correction_notice(
    cal: &Calendar,
    received_on: Date,
    sent_on: Date,
    deadline: Date,
    today: Date,
) -> Result<(), FieldError> {
    not_future("sent_on", sent_on, today)?;
    if sent_on < received_on {
        return Err(FieldError::new(
            "sent_on",
            format!("补正通知日期不能早于收到申请之日（{}）", format_date(received_on)),
        ));
    }
    let last = cal.add_working_days(received_on, CORRECTION_NOTICE_DAYS);
    if sent_on > last {
        return Err(FieldError::new(
            "sent_on",
            format!("补正通知应在收到申请之日起7个工作日内一次性发出，最迟{}", format_date(last)),
        ));
    }
    if deadline <= sent_on {
        return Err(FieldError::new("deadline", "补正期限应晚于补正通知日期"));
    }
    Ok(())
}

/// The corrected application arrives after the notice and not in the future.
pub fn check_correction_received(c: &Correction, on: Date, today: Date) -> Result<(), FieldError> {
    not_future("received_on", on, today)?;
    if on < c.sent_on {
        return Err(FieldError::new(
            "received_on",
            format!("收到补正日期不能早于补正通知日期（{}）", format_date(c.sent_on)),
        ));
    }
    Ok(())
}

/// An extension is granted once, for 1..=20 working days, decided before the current due date.
/// `clock_due` is None while the clock is paused; the timing check then has nothing to compare.
/// The calendar is taken so callers pass the same context as to the other clock checks.
pub fn check_extension(
    _cal: &Calendar,
    clock_due: Option<Date>,
    already_extended: bool,
    days: u32,
    decided_on: Date,
    today: Date,
) -> Result<(), FieldError> {
    if already_extended {
        return Err(FieldError::new("extension_days", "答复期限只能延长一次"));
    }
    if days == 0 {
        return Err(FieldError::new("extension_days", "延长期限至少为1个工作日"));
    }
    if days > MAX_EXTENSION_DAYS {
        return Err(FieldError::new("extension_days", "延长期限最长不超过20个工作日"));
    }
    not_future("decided_on", decided_on, today)?;
    if let Some(due) = clock_due
        && decided_on > due
    {
        return Err(FieldError::new(
            "decided_on",
            format!("延长答复期限应在答复期限（{}）届满前决定", format_date(due)),
        ));
    }
    Ok(())
}

/// A pause ends on or after its start, and not in the future.
pub fn check_pause_end(from: Date, to: Date, today: Date) -> Result<(), FieldError> {
    if to < from {
        return Err(FieldError::new("to", format!("结束日期不能早于开始日期（{}）", format_date(from))));
    }
    not_future("to", to, today)
}

/// 第三十五条: the longer deadline must actually be longer, and the reason is recorded.
/// `current_due` is None while the clock is paused; only the reason is checked then.
pub fn check_longer_due(current_due: Option<Date>, longer: Date, reason: &str) -> Result<(), FieldError> {
    if reason.trim().is_empty() {
        return Err(FieldError::new("reason", "请填写确定延迟答复期限的理由"));
    }
    if let Some(due) = current_due
        && longer <= due
    {
        return Err(FieldError::new("longer_due", format!("合理答复期限应晚于当前答复期限（{}）", format_date(due))));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// 3. 信息处理费 (国办函〔2020〕109号)
// ---------------------------------------------------------------------------

/// Yuan for the applicant's n-th request received in the calendar month: the first 10 are
/// free, the 11th–30th 100 元, then each further band of 10 adds 100 元.
pub fn per_request_fee(nth_in_month: u32) -> i64 {
    let n = i64::from(nth_in_month);
    match n {
        ..=10 => 0,
        11..=30 => 100,
        _ => 200 + (n - 31) / 10 * 100,
    }
}

/// Yuan for one request of `pages` pages, charged progressively on the excess only:
/// 1–30 free, 31–100 at 10 元, 101–200 at 20 元, 201 and up at 40 元 a page.
pub fn per_page_fee(pages: u32) -> i64 {
    let p = i64::from(pages);
    let band = |lo: i64, hi: i64, rate: i64| (p.min(hi) - lo).max(0) * rate;
    band(30, 100, 10) + band(100, 200, 20) + band(200, i64::MAX, 40)
}

/// The fee under one scheme. `units` is the request's rank in the month (按件) or its page
/// count (按量); 按量 applies only to paper, e-mail or disc.
pub fn fee(scheme: FeeScheme, units: u32, form: FormWanted) -> Result<i64, FieldError> {
    if units == 0 {
        return Err(FieldError::new("units", "数量至少为1"));
    }
    match scheme {
        FeeScheme::PerRequest => Ok(per_request_fee(units)),
        FeeScheme::PerPage => match form {
            FormWanted::Paper | FormWanted::Email | FormWanted::Disc => Ok(per_page_fee(units)),
            FormWanted::Other => Err(FieldError::new("scheme", "按量计收仅适用于纸质、电子邮件或光盘形式提供的信息")),
        },
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use gongkai_kernel::calendar::rules::parse_date;

    const FILES: [&str; 11] = [
        include_str!("../../../data/holiday-cn/2017.json"),
        include_str!("../../../data/holiday-cn/2018.json"),
        include_str!("../../../data/holiday-cn/2019.json"),
        include_str!("../../../data/holiday-cn/2020.json"),
        include_str!("../../../data/holiday-cn/2021.json"),
        include_str!("../../../data/holiday-cn/2022.json"),
        include_str!("../../../data/holiday-cn/2023.json"),
        include_str!("../../../data/holiday-cn/2024.json"),
        include_str!("../../../data/holiday-cn/2025.json"),
        include_str!("../../../data/holiday-cn/2026.json"),
        include_str!("../../../data/holiday-cn/2027.json"),
    ];

    fn official() -> Calendar {
        Calendar::from_holiday_cn(FILES).expect("official data parses")
    }

    fn d(s: &str) -> Date {
        parse_date(s).unwrap_or_else(|| panic!("bad test date {s}"))
    }

    fn od(s: Option<&str>) -> Option<Date> {
        s.map(d)
    }

    // ---- receipt -----------------------------------------------------------

    #[test]
    fn receipt_per_channel() {
        let today = d("2024-10-31");
        let ev = |f: fn(&mut Evidence)| {
            let mut e = Evidence::default();
            f(&mut e);
            e
        };
        let full = ev(|e| {
            e.submitted_on = Some(d("2024-09-20"));
            e.sent_on = Some(d("2024-09-21"));
            e.arrived_on = Some(d("2024-09-23"));
            e.signed_on = Some(d("2024-09-24"));
            e.confirmed_on = Some(d("2024-09-25"));
            e.email_received_on = Some(d("2024-09-26"));
        });
        let none = Evidence::default();
        let cases: [(Channel, &Evidence, Option<&str>, &str); 14] = [
            (Channel::InPerson, &full, Some("2024-09-20"), "提交之日"),
            (Channel::RegisteredMail, &full, Some("2024-09-24"), "签收之日"),
            (Channel::OrdinaryMail, &full, Some("2024-09-25"), "平常信函"),
            (Channel::Online, &full, Some("2024-09-25"), "双方确认之日"),
            (Channel::Fax, &full, Some("2024-09-25"), "传真"),
            (Channel::Email, &full, Some("2024-09-26"), "207号"),
            (Channel::Other, &full, Some("2024-09-25"), "其他渠道"),
            (Channel::OrdinaryMail, &none, None, ""),
            (Channel::Online, &none, None, ""),
            (Channel::Fax, &none, None, ""),
            (Channel::Other, &none, None, ""),
            // A letter that arrived but is not yet confirmed is not received.
            (Channel::OrdinaryMail, &ev(|e| e.arrived_on = Some(d("2024-09-23"))), None, ""),
            // The confirmation day may be today.
            (Channel::Online, &ev(|e| e.confirmed_on = Some(d("2024-10-31"))), Some("2024-10-31"), "互联网"),
            (Channel::InPerson, &ev(|e| e.submitted_on = Some(d("2024-10-03"))), Some("2024-10-03"), "当面"),
        ];
        for (channel, e, want, rule) in cases {
            let got = receipt(channel, e, today).unwrap_or_else(|err| panic!("{channel:?}: {err}"));
            assert_eq!(got.as_ref().map(|r| r.received_on), od(want), "{channel:?} {e:?}");
            if let Some(r) = got {
                assert!(r.rule.contains(rule), "{channel:?}: {}", r.rule);
            }
        }
    }

    #[test]
    fn receipt_errors() {
        let today = d("2024-10-31");
        let ev = |pairs: &[(&str, &str)]| {
            let mut e = Evidence::default();
            for &(f, v) in pairs {
                let v = Some(d(v));
                match f {
                    "submitted_on" => e.submitted_on = v,
                    "sent_on" => e.sent_on = v,
                    "arrived_on" => e.arrived_on = v,
                    "signed_on" => e.signed_on = v,
                    "confirmed_on" => e.confirmed_on = v,
                    "email_received_on" => e.email_received_on = v,
                    _ => panic!("{f}"),
                }
            }
            e
        };
        // (channel, (field, date) pairs, error field, error message)
        type Row = (Channel, &'static [(&'static str, &'static str)], &'static str, &'static str);
        let cases: &[Row] = &[
            (Channel::InPerson, &[], "submitted_on", "请填写当面提交日期"),
            (Channel::RegisteredMail, &[("sent_on", "2024-09-20")], "signed_on", "请填写签收日期"),
            (Channel::Email, &[], "email_received_on", "请填写电子邮件系统收到日期"),
            (Channel::InPerson, &[("submitted_on", "2024-11-01")], "submitted_on", FUTURE),
            (Channel::RegisteredMail, &[("signed_on", "2024-11-01")], "signed_on", FUTURE),
            (Channel::OrdinaryMail, &[("arrived_on", "2025-01-01")], "arrived_on", FUTURE),
            (Channel::Online, &[("confirmed_on", "2024-11-01")], "confirmed_on", FUTURE),
            (Channel::Email, &[("email_received_on", "2024-11-01")], "email_received_on", FUTURE),
            // A future date is refused even in a field the channel does not use.
            (Channel::InPerson, &[("submitted_on", "2024-10-01"), ("sent_on", "2024-11-01")], "sent_on", FUTURE),
            (
                Channel::RegisteredMail,
                &[("sent_on", "2024-09-20"), ("signed_on", "2024-09-19")],
                "signed_on",
                "签收日期不能早于寄出日期",
            ),
            (
                Channel::OrdinaryMail,
                &[("sent_on", "2024-09-20"), ("arrived_on", "2024-09-19")],
                "arrived_on",
                "到达日期不能早于寄出日期",
            ),
            (
                Channel::OrdinaryMail,
                &[("arrived_on", "2024-09-23"), ("confirmed_on", "2024-09-22")],
                "confirmed_on",
                "确认日期不能早于来信到达日期",
            ),
            (
                Channel::Online,
                &[("submitted_on", "2024-09-23"), ("confirmed_on", "2024-09-22")],
                "confirmed_on",
                "确认日期不能早于提交日期",
            ),
            (
                Channel::Fax,
                &[("sent_on", "2024-09-23"), ("confirmed_on", "2024-09-22")],
                "confirmed_on",
                "确认日期不能早于寄出日期",
            ),
        ];
        for (channel, pairs, field, msg) in cases {
            let err = receipt(*channel, &ev(pairs), today).expect_err(&format!("{channel:?} {pairs:?}"));
            assert_eq!((err.field, err.message.as_str()), (*field, *msg), "{channel:?} {pairs:?}");
        }
        // Same-day dates are consistent.
        let same = ev(&[("sent_on", "2024-09-23"), ("signed_on", "2024-09-23"), ("confirmed_on", "2024-09-23")]);
        assert!(receipt(Channel::RegisteredMail, &same, today).is_ok());
    }

    #[test]
    fn evidence_serde_as_strings() {
        let e = Evidence { signed_on: Some(d("2024-09-24")), ..Evidence::default() };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["signed_on"], "2024-09-24");
        assert!(json["sent_on"].is_null());
        assert_eq!(serde_json::from_value::<Evidence>(json).unwrap(), e);
        let partial: Evidence =
            serde_json::from_str(r#"{"confirmed_on":"2024-10-08","sent_on":"","arrived_on":null}"#).unwrap();
        assert_eq!(partial, Evidence { confirmed_on: Some(d("2024-10-08")), ..Evidence::default() });
        assert!(serde_json::from_str::<Evidence>(r#"{"sent_on":"2024-02-30"}"#).is_err());
        let r = Receipt { received_on: d("2024-09-27"), rule: RULE_IN_PERSON };
        assert_eq!(serde_json::to_value(&r).unwrap()["received_on"], "2024-09-27");
    }

    // ---- clock -------------------------------------------------------------

    struct Case {
        name: &'static str,
        received: Option<&'static str>,
        /// (sent_on, deadline, received_on)
        corrections: &'static [(&'static str, &'static str, Option<&'static str>)],
        pauses: &'static [(StepKind, &'static str, Option<&'static str>)],
        ext: u32,
        longer: Option<&'static str>,
        start: Option<&'static str>,
        due: Option<&'static str>,
        paused: Option<StepKind>,
        paused_days: u32,
    }

    const BASE: Case = Case {
        name: "",
        received: None,
        corrections: &[],
        pauses: &[],
        ext: 0,
        longer: None,
        start: None,
        due: None,
        paused: None,
        paused_days: 0,
    };

    const C: StepKind = StepKind::Consultation;
    const F: StepKind = StepKind::Fee;

    // Expected dates counted by hand from data/holiday-cn/*.json (comments show the count).
    const CASES: &[Case] = &[
        Case {
            // 09-29(调休)1 09-30 2, 10-01..07 off, 10-08..11 6, 10-12(调休)7, 10-14..18 12,
            // 10-21..25 17, 10-28 18, 10-29 19, 10-30 20.
            name: "issue example: 国庆 2024 in person",
            received: Some("2024-09-27"),
            start: Some("2024-09-27"),
            due: Some("2024-10-30"),
            ..BASE
        },
        Case {
            // 02-02 1, 02-04(调休)2, 02-05..09 7, 02-10..17 off, 02-18(调休)8, 02-19..23 13,
            // 02-26..03-01 18, 03-04 19, 03-05 20.
            name: "春节 2024",
            received: Some("2024-02-01"),
            start: Some("2024-02-01"),
            due: Some("2024-03-05"),
            ..BASE
        },
        Case {
            // 01-21..24 4, 01-26(调休)5, 01-27 6, 01-28..02-04 off, 02-05..07 9, 02-08(调休)10,
            // 02-10..14 15, 02-17..21 20.
            name: "春节 2025 (除夕 a holiday)",
            received: Some("2025-01-20"),
            start: Some("2025-01-20"),
            due: Some("2025-02-21"),
            ..BASE
        },
        Case {
            // 02-11..13 3, 02-14(调休)4, 02-15..23 off (9 days), 02-24..27 8, 02-28(调休)9,
            // 03-02..06 14, 03-09..13 19, 03-16 20.
            name: "春节 2026 nine days",
            received: Some("2026-02-10"),
            start: Some("2026-02-10"),
            due: Some("2026-03-16"),
            ..BASE
        },
        Case {
            // 01-28 1, 01-29(调休)2, 01-30(调休)3, 01-31..02-06 off, 02-07..11 8, 02-14..18 13,
            // 02-21..25 18, 02-28 19, 03-01 20.
            name: "春节 2022 two 调休 days in a row",
            received: Some("2022-01-27"),
            start: Some("2022-01-27"),
            due: Some("2022-03-01"),
            ..BASE
        },
        Case {
            // 01-21..23 3, 01-24..02-02 off (extended), 02-03 (listed working Monday) 4,
            // 02-04..07 8, 02-10..14 13, 02-17..21 18, 02-24 19, 02-25 20.
            name: "春节 2020 extended by notice",
            received: Some("2020-01-20"),
            start: Some("2020-01-20"),
            due: Some("2020-02-25"),
            ..BASE
        },
        Case {
            // 04-28(调休)1, 04-29 2, 04-30 3, 05-01..05 off, 05-06..10 8, 05-11(调休)9,
            // 05-13..17 14, 05-20..24 19, 05-27 20.
            name: "五一 2024",
            received: Some("2024-04-26"),
            start: Some("2024-04-26"),
            due: Some("2024-05-27"),
            ..BASE
        },
        Case {
            // 04-02 1, 04-03 2, 04-04..06 off, 04-07(调休)3, 04-08..12 8, 04-15..19 13,
            // 04-22..26 18, 04-28(调休)19, 04-29 20.
            name: "清明 and 五一 调休 2024",
            received: Some("2024-04-01"),
            start: Some("2024-04-01"),
            due: Some("2024-04-29"),
            ..BASE
        },
        Case {
            // 09-10..13 4, 09-14(调休)5, 09-15..17 off, 09-18..20 8, 09-23..27 13,
            // 09-29(调休)14, 09-30 15, 10-08..11 19, 10-12(调休 Saturday)20.
            name: "due on a 调休 Saturday",
            received: Some("2024-09-09"),
            start: Some("2024-09-09"),
            due: Some("2024-10-12"),
            ..BASE
        },
        Case {
            // 09-28(调休)1, 09-29 2, 09-30 3, 10-01..08 off, 10-09 4, 10-10 5, 10-11(调休)6,
            // 10-13..17 11, 10-20..24 16, 10-27..30 20.
            name: "国庆中秋 2025",
            received: Some("2025-09-26"),
            start: Some("2025-09-26"),
            due: Some("2025-10-30"),
            ..BASE
        },
        Case {
            // 09-29..10-06 off, 10-07(调休)1, 10-08(调休)2, 10-09..13 7, 10-16..20 12,
            // 10-23..27 17, 10-30 18, 10-31 19, 11-01 20.
            name: "中秋国庆 2023",
            received: Some("2023-09-28"),
            start: Some("2023-09-28"),
            due: Some("2023-11-01"),
            ..BASE
        },
        Case {
            // 12-23..27 5, 12-30 6, 12-31 7, 01-01 off, 01-02 8, 01-03 9, 01-06..10 14,
            // 01-13..17 19, 01-20 20.
            name: "元旦 across 2024/2025",
            received: Some("2024-12-20"),
            start: Some("2024-12-20"),
            due: Some("2025-01-20"),
            ..BASE
        },
        Case {
            // 12-26 1, 12-29..31 4, 01-01..03 off, 01-04(调休 Sunday)5, 01-05..09 10,
            // 01-12..16 15, 01-19..23 20.
            name: "元旦 2026 with a Sunday 调休",
            received: Some("2025-12-25"),
            start: Some("2025-12-25"),
            due: Some("2026-01-23"),
            ..BASE
        },
        Case {
            // 12-29 1, 12-30 2, 12-31 (in the 2023 notice) off, 01-01..02 off, 01-03..06 6,
            // 01-09..13 11, 01-16..20 16, 01-21..27 off, 01-28(调休)17, 01-29(调休)18, 01-30 19, 01-31 20.
            name: "元旦 2023 from the next year's notice, then 春节",
            received: Some("2022-12-28"),
            start: Some("2022-12-28"),
            due: Some("2023-01-31"),
            ..BASE
        },
        Case {
            // Counting from the day after a holiday receipt: 10-08..11 4, 10-12(调休)5,
            // 10-14..18 10, 10-21..25 15, 10-28..11-01 20.
            name: "received on a holiday",
            received: Some("2024-10-03"),
            start: Some("2024-10-03"),
            due: Some("2024-11-01"),
            ..BASE
        },
        Case {
            // 03-04..08 5, 03-11..15 10, 03-18..22 15, 03-25..29 20.
            name: "received on a Saturday",
            received: Some("2024-03-02"),
            start: Some("2024-03-02"),
            due: Some("2024-03-29"),
            ..BASE
        },
        Case {
            // 10-14..18 5, 10-21..25 10, 10-28..11-01 15, 11-04..08 20.
            name: "received on a 调休 Saturday",
            received: Some("2024-10-12"),
            start: Some("2024-10-12"),
            due: Some("2024-11-08"),
            ..BASE
        },
        Case {
            name: "not received",
            received: None,
            pauses: &[(C, "2024-10-08", Some("2024-10-10"))],
            ext: 20,
            longer: Some("2024-12-31"),
            ..BASE
        },
        Case {
            // From 10-10: 10-11 1, 10-12(调休)2, 10-14..18 7, 10-21..25 12, 10-28..11-01 17,
            // 11-04 18, 11-05 19, 11-06 20.
            name: "correction restarts the clock",
            received: Some("2024-09-27"),
            corrections: &[("2024-09-30", "2024-10-15", Some("2024-10-10"))],
            start: Some("2024-10-10"),
            due: Some("2024-11-06"),
            ..BASE
        },
        Case {
            // From 05-13: 05-14..17 4, 05-20..24 9, 05-27..31 14, 06-03..07 19, 06-10 端午 off, 06-11 20.
            name: "two corrections: the latest restarts",
            received: Some("2024-04-22"),
            corrections: &[
                ("2024-04-24", "2024-05-10", Some("2024-04-30")),
                ("2024-05-06", "2024-05-20", Some("2024-05-13")),
            ],
            start: Some("2024-05-13"),
            due: Some("2024-06-11"),
            ..BASE
        },
        Case {
            name: "outstanding correction",
            received: Some("2024-09-27"),
            corrections: &[("2024-09-30", "2024-10-15", None)],
            paused: Some(StepKind::Correction),
            ..BASE
        },
        Case {
            name: "second correction outstanding",
            received: Some("2024-04-22"),
            corrections: &[("2024-04-24", "2024-05-10", Some("2024-04-30")), ("2024-05-06", "2024-05-20", None)],
            ext: 10,
            paused: Some(StepKind::Correction),
            ..BASE
        },
        Case {
            // 09-23..27 5; (09-27, 10-10] excludes 09-29, 09-30, 10-08, 10-09, 10-10;
            // 10-11 6, 10-12(调休)7, 10-14..18 12, 10-21..25 17, 10-28 18, 10-29 19, 10-30 20.
            name: "closed consultation over 国庆",
            received: Some("2024-09-20"),
            pauses: &[(C, "2024-09-27", Some("2024-10-10"))],
            start: Some("2024-09-20"),
            due: Some("2024-10-30"),
            paused_days: 5,
            ..BASE
        },
        Case {
            name: "open consultation",
            received: Some("2024-09-20"),
            pauses: &[(C, "2024-09-27", None)],
            start: Some("2024-09-20"),
            paused: Some(StepKind::Consultation),
            ..BASE
        },
        Case {
            name: "open fee period after a closed consultation",
            received: Some("2024-09-20"),
            pauses: &[(C, "2024-09-27", Some("2024-10-10")), (F, "2024-10-14", None)],
            start: Some("2024-09-20"),
            paused: Some(StepKind::Fee),
            paused_days: 5,
            ..BASE
        },
        Case {
            // 03-04..07 4, 03-10 5; (03-10, 03-14] excludes 4; 03-17..21 10, 03-24..28 15,
            // 03-31 16, 04-01..03 19, 04-04..06 清明 off, 04-07 20.
            name: "fee period",
            received: Some("2025-03-03"),
            pauses: &[(F, "2025-03-10", Some("2025-03-14"))],
            start: Some("2025-03-03"),
            due: Some("2025-04-07"),
            paused_days: 4,
            ..BASE
        },
        Case {
            // As "fee period" to 04-07 (20), then 04-08..11 24, 04-14..18 29, 04-21 30.
            name: "fee period and extension 10",
            received: Some("2025-03-03"),
            pauses: &[(F, "2025-03-10", Some("2025-03-14"))],
            ext: 10,
            start: Some("2025-03-03"),
            due: Some("2025-04-21"),
            paused_days: 4,
            ..BASE
        },
        Case {
            // 03-04 1, 03-05 2, 03-06/07 out, 03-10..12 5, 03-13 out, 03-14 6, 03-17..21 11,
            // 03-24..28 16, 03-31 17, 04-01..03 20.
            name: "two separate pauses",
            received: Some("2025-03-03"),
            pauses: &[(C, "2025-03-05", Some("2025-03-07")), (F, "2025-03-12", Some("2025-03-13"))],
            start: Some("2025-03-03"),
            due: Some("2025-04-03"),
            paused_days: 3,
            ..BASE
        },
        Case {
            // Union (03-05, 03-14] = 7 working days, not counted twice: 03-04 1, 03-05 2,
            // 03-17..21 7, 03-24..28 12, 03-31 13, 04-01..03 16, 04-07..10 20.
            name: "overlapping pauses counted once",
            received: Some("2025-03-03"),
            pauses: &[(C, "2025-03-05", Some("2025-03-12")), (C, "2025-03-10", Some("2025-03-14"))],
            start: Some("2025-03-03"),
            due: Some("2025-04-10"),
            paused_days: 7,
            ..BASE
        },
        Case {
            // (03-08, 03-10] is a weekend: nothing excluded. 03-05..08 4, 03-11..15 9,
            // 03-18..22 14, 03-25..29 19, 04-01 20.
            name: "pause over a weekend only",
            received: Some("2024-03-04"),
            pauses: &[(C, "2024-03-08", Some("2024-03-10"))],
            start: Some("2024-03-04"),
            due: Some("2024-04-01"),
            ..BASE
        },
        Case {
            name: "pause ending before the restart is ignored",
            received: Some("2024-09-27"),
            corrections: &[("2024-09-30", "2024-10-15", Some("2024-10-10"))],
            pauses: &[(C, "2024-09-29", Some("2024-10-09")), (F, "2024-10-08", Some("2024-10-10"))],
            start: Some("2024-10-10"),
            due: Some("2024-11-06"),
            ..BASE
        },
        Case {
            // (10-10, 10-15] excludes 10-11, 10-12(调休), 10-14, 10-15; 10-16..18 3,
            // 10-21..25 8, 10-28..11-01 13, 11-04..08 18, 11-11 19, 11-12 20.
            name: "pause straddling the restart counts only after it",
            received: Some("2024-09-27"),
            corrections: &[("2024-09-30", "2024-10-15", Some("2024-10-10"))],
            pauses: &[(C, "2024-10-08", Some("2024-10-15"))],
            start: Some("2024-10-10"),
            due: Some("2024-11-12"),
            paused_days: 4,
            ..BASE
        },
        Case {
            // 10-30 is the 20th; 10-31 21, 11-01 22, 11-04..08 27, 11-11..15 32, 11-18..22 37,
            // 11-25 38, 11-26 39, 11-27 40.
            name: "extension 20",
            received: Some("2024-09-27"),
            ext: 20,
            start: Some("2024-09-27"),
            due: Some("2024-11-27"),
            ..BASE
        },
        Case {
            // 10-31 21, 11-01 22, 11-04 23, 11-05 24, 11-06 25.
            name: "extension 5",
            received: Some("2024-09-27"),
            ext: 5,
            start: Some("2024-09-27"),
            due: Some("2024-11-06"),
            ..BASE
        },
        Case {
            name: "Art. 35 longer due",
            received: Some("2024-09-27"),
            longer: Some("2024-12-31"),
            start: Some("2024-09-27"),
            due: Some("2024-12-31"),
            ..BASE
        },
        Case {
            name: "Art. 35 date not later than the statutory one is not used",
            received: Some("2024-09-27"),
            longer: Some("2024-10-20"),
            start: Some("2024-09-27"),
            due: Some("2024-10-30"),
            ..BASE
        },
        Case {
            // From 10-10: 10-11 1, 10-12 2, 10-14 3, 10-15 4, 10-16..18 out, 10-21..25 9,
            // 10-28..11-01 14, 11-04..08 19, 11-11..15 24, 11-18..22 29, 11-25..29 34,
            // 12-02..06 39, 12-09 40.
            name: "correction, consultation and extension 20",
            received: Some("2024-09-27"),
            corrections: &[("2024-09-30", "2024-10-15", Some("2024-10-10"))],
            pauses: &[(C, "2024-10-15", Some("2024-10-18"))],
            ext: 20,
            start: Some("2024-10-10"),
            due: Some("2024-12-09"),
            paused_days: 3,
            ..BASE
        },
        Case {
            // The consultation started after the statutory due date: it changes nothing.
            name: "pause after the due date",
            received: Some("2024-09-27"),
            pauses: &[(C, "2024-11-04", Some("2024-11-08"))],
            start: Some("2024-09-27"),
            due: Some("2024-10-30"),
            ..BASE
        },
    ];

    fn input(c: &Case) -> ClockInput {
        ClockInput {
            received_on: od(c.received),
            corrections: c
                .corrections
                .iter()
                .map(|&(s, dl, r)| Correction { sent_on: d(s), deadline: d(dl), received_on: od(r) })
                .collect(),
            pauses: c.pauses.iter().map(|&(kind, f, t)| Pause { kind, from: d(f), to: od(t) }).collect(),
            extension_days: c.ext,
            longer_due: od(c.longer),
        }
    }

    #[test]
    fn clock_table() {
        assert!(CASES.len() >= 30, "{} cases", CASES.len());
        let cal = official();
        for c in CASES {
            let got = clock(&cal, &input(c));
            let n = c.name;
            assert_eq!(got.start, od(c.start), "{n}: start");
            assert_eq!(got.due, od(c.due), "{n}: due\n{}", got.lines.join("\n"));
            assert_eq!(got.paused, c.paused, "{n}: paused");
            assert_eq!(got.paused_working_days, c.paused_days, "{n}: paused days");
            assert_eq!(got.working_days, 20 + c.ext, "{n}: working days");
            assert_eq!(
                got.correction_notice_due,
                od(c.received).map(|r| cal.add_working_days(r, 7)),
                "{n}: correction notice due"
            );
            assert!(!got.lines.is_empty(), "{n}");
            if let Some(due) = got.due {
                assert_eq!(got.lines.last(), Some(&format!("答复期限截止{}。", format_date(due))), "{n}");
                assert!(!is_overdue(&got, due), "{n}");
                assert!(is_overdue(&got, due.next_day().unwrap()), "{n}");
            } else {
                assert!(!is_overdue(&got, d("2099-01-01")), "{n}");
            }
        }
    }

    #[test]
    fn clock_lines_explain() {
        let cal = official();
        let case = |name: &str| CASES.iter().find(|c| c.name == name).unwrap();
        let text = |name: &str| clock(&cal, &input(case(name))).lines.join("\n");

        let t = text("issue example: 国庆 2024 in person");
        assert!(t.contains("收到申请之日为2024-09-27。"), "{t}");
        assert!(t.contains("自2024-09-27的次日起算20个工作日，截止2024-10-30"), "{t}");
        assert!(t.contains("国庆节 2024-10-01至2024-10-07"), "{t}");
        assert!(t.contains("计入调休上班日2天（2024-09-29、2024-10-12）"), "{t}");

        let t = text("correction restarts the clock");
        assert!(t.contains("2024-09-30发出补正通知，2024-10-10收到补正后的申请，答复期限自该日重新起算"), "{t}");
        assert!(t.contains("自2024-10-10的次日起算20个工作日"), "{t}");

        let t = text("outstanding correction");
        assert!(t.contains("补正期限至2024-10-15，尚未收到补正"), "{t}");
        assert!(!t.contains("截止"), "{t}");

        let t = text("closed consultation over 国庆");
        assert!(t.contains("征求第三方意见期间（2024-09-27至2024-10-10）不计算的工作日5天（条例第三十二条）"), "{t}");
        assert!(t.contains("扣除暂停期间的5个工作日，自2024-09-20的次日起共经过25个工作日。"), "{t}");
        assert!(t.contains("起算25个工作日，截止2024-10-30"), "{t}");

        let t = text("open consultation");
        assert!(t.contains("自2024-09-27起征求第三方意见，尚未结束，答复期限暂停计算"), "{t}");

        let t = text("fee period and extension 10");
        assert!(
            t.contains("缴纳信息处理费期间（2025-03-10至2025-03-14）不计算的工作日4天（国办函〔2020〕109号）"),
            "{t}"
        );
        assert!(t.contains("经批准延长答复期限10个工作日，共30个工作日"), "{t}");
        assert!(t.contains("清明节 2025-04-04至2025-04-06"), "{t}");

        let t = text("pause ending before the restart is ignored");
        assert!(t.contains("征求第三方意见期间（2024-09-29至2024-10-09）在答复期限起算之前结束"), "{t}");
        assert!(t.contains("缴纳信息处理费期间（2024-10-08至2024-10-10）在答复期限起算之前结束"), "{t}");

        let t = text("Art. 35 longer due");
        assert!(t.contains("截止2024-10-30。"), "{t}");
        assert!(t.contains("合理答复期限为2024-12-31（条例第三十五条）"), "{t}");
        assert!(t.ends_with("答复期限截止2024-12-31。"), "{t}");

        let t = text("Art. 35 date not later than the statutory one is not used");
        assert!(t.contains("2024-10-20不晚于法定期限，仍以2024-10-30为准"), "{t}");

        let t = text("not received");
        assert_eq!(t, "尚未确认收到申请，答复期限尚未起算（条例第三十一条）。");
    }

    #[test]
    fn clock_serializes_dates_as_strings() {
        let cal = official();
        let c = clock(&cal, &ClockInput { received_on: Some(d("2024-09-27")), ..ClockInput::default() });
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["start"], "2024-09-27");
        assert_eq!(v["due"], "2024-10-30");
        assert_eq!(v["correction_notice_due"], "2024-10-12");
        assert!(v["paused"].is_null());
        let i: ClockInput = serde_json::from_str(
            r#"{"received_on":"2024-09-27","pauses":[{"kind":"fee","from":"2024-10-08","to":null}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(i.pauses[0], Pause { kind: StepKind::Fee, from: d("2024-10-08"), to: None });
        let v = serde_json::to_value(clock(&cal, &i)).unwrap();
        assert_eq!(v["paused"], "fee");
        assert!(v["due"].is_null());
        assert_eq!(serde_json::to_value(&i).unwrap()["pauses"][0]["kind"], "fee");
        assert!(serde_json::from_str::<Pause>(r#"{"kind":"nap","from":"2024-10-08"}"#).is_err());
    }

    #[test]
    fn deadlines() {
        let cal = official();
        // (function, from, expected), counted by hand from the official data.
        let cases: &[(&str, &str, &str)] = &[
            // 09-29(调休)1, 09-30 2, 10-08..11 6, 10-12(调休)7.
            ("correction_notice", "2024-09-27", "2024-10-12"),
            // 02-02 1, 02-04(调休)2, 02-05..09 7.
            ("correction_notice", "2024-02-01", "2024-02-09"),
            // 09-29 1, 09-30 2, 10-08..11 6, 10-12 7, 10-14..18 12, 10-21..25 17, 10-28 18,
            // 10-29 19, 10-30 20.
            ("fee", "2024-09-27", "2024-10-30"),
            // 02-11..13 3, 02-14(调休)4, 02-24..27 8, 02-28(调休)9, 03-02..06 14, 03-09..13 19, 03-16 20.
            ("fee", "2026-02-10", "2026-03-16"),
            // 09-29 1, 09-30 2, 10-08..11 6, 10-12 7, 10-14..18 12, 10-21 13, 10-22 14, 10-23 15.
            ("consultation", "2024-09-27", "2024-10-23"),
            // 04-28(调休)1, 04-29 2, 04-30 3, 05-06..10 8, 05-11(调休)9, 05-13..17 14, 05-20 15.
            ("consultation", "2024-04-26", "2024-05-20"),
        ];
        for &(f, from, want) in cases {
            let got = match f {
                "correction_notice" => cal.add_working_days(d(from), CORRECTION_NOTICE_DAYS),
                "fee" => fee_payment_deadline(&cal, d(from)),
                _ => consultation_deadline(&cal, d(from)),
            };
            assert_eq!(got, d(want), "{f} {from}");
        }
        let c = Correction { sent_on: d("2024-09-30"), deadline: d("2024-10-15"), received_on: None };
        for (today, want) in [("2024-10-14", false), ("2024-10-15", false), ("2024-10-16", true)] {
            assert_eq!(correction_deadline_passed(&c, d(today)), want, "{today}");
        }
        let done = Correction { received_on: Some(d("2024-10-10")), ..c };
        assert!(!correction_deadline_passed(&done, d("2024-12-01")));
    }

    // ---- validation ----------------------------------------------------------

    #[test]
    fn validation_errors() {
        let cal = official();
        let today = d("2024-10-31");
        let corr = Correction { sent_on: d("2024-09-30"), deadline: d("2024-10-15"), received_on: None };
        let due = Some(d("2024-10-30"));
        type Check<'a> = Box<dyn Fn() -> Result<(), FieldError> + 'a>;
        // None: accepted; Some((field, message)): refused.
        type Want = Option<(&'static str, &'static str)>;
        let cases: Vec<(&str, Check, Want)> = vec![
            // check_correction_notice: received 09-27, last allowed day 10-12.
            (
                "notice ok on the last day",
                Box::new(|| check_correction_notice(&cal, d("2024-09-27"), d("2024-10-12"), d("2024-10-20"), today)),
                None,
            ),
            (
                "notice too late",
                Box::new(|| check_correction_notice(&cal, d("2024-09-27"), d("2024-10-14"), d("2024-10-20"), today)),
                Some(("sent_on", "补正通知应在收到申请之日起7个工作日内一次性发出，最迟2024-10-12")),
            ),
            (
                "notice before receipt",
                Box::new(|| check_correction_notice(&cal, d("2024-09-27"), d("2024-09-26"), d("2024-10-20"), today)),
                Some(("sent_on", "补正通知日期不能早于收到申请之日（2024-09-27）")),
            ),
            (
                "notice in the future",
                Box::new(|| check_correction_notice(&cal, d("2024-10-28"), d("2024-11-01"), d("2024-11-20"), today)),
                Some(("sent_on", FUTURE)),
            ),
            (
                "notice deadline not after sending",
                Box::new(|| check_correction_notice(&cal, d("2024-09-27"), d("2024-09-30"), d("2024-09-30"), today)),
                Some(("deadline", "补正期限应晚于补正通知日期")),
            ),
            // check_correction_received
            ("correction received ok", Box::new(|| check_correction_received(&corr, d("2024-09-30"), today)), None),
            (
                "correction before notice",
                Box::new(|| check_correction_received(&corr, d("2024-09-29"), today)),
                Some(("received_on", "收到补正日期不能早于补正通知日期（2024-09-30）")),
            ),
            (
                "correction in the future",
                Box::new(|| check_correction_received(&corr, d("2024-11-01"), today)),
                Some(("received_on", FUTURE)),
            ),
            // check_extension
            ("extension ok", Box::new(|| check_extension(&cal, due, false, 20, d("2024-10-30"), today)), None),
            (
                "extension while paused",
                Box::new(|| check_extension(&cal, None, false, 1, d("2024-10-31"), today)),
                None,
            ),
            (
                "extension twice",
                Box::new(|| check_extension(&cal, due, true, 5, d("2024-10-20"), today)),
                Some(("extension_days", "答复期限只能延长一次")),
            ),
            (
                "extension 21",
                Box::new(|| check_extension(&cal, due, false, 21, d("2024-10-20"), today)),
                Some(("extension_days", "延长期限最长不超过20个工作日")),
            ),
            (
                "extension 0",
                Box::new(|| check_extension(&cal, due, false, 0, d("2024-10-20"), today)),
                Some(("extension_days", "延长期限至少为1个工作日")),
            ),
            (
                "extension after due",
                Box::new(|| check_extension(&cal, Some(d("2024-10-20")), false, 5, d("2024-10-21"), today)),
                Some(("decided_on", "延长答复期限应在答复期限（2024-10-20）届满前决定")),
            ),
            (
                "extension in the future",
                Box::new(|| check_extension(&cal, Some(d("2024-11-27")), false, 5, d("2024-11-01"), today)),
                Some(("decided_on", FUTURE)),
            ),
            // check_pause_end
            ("pause end same day", Box::new(|| check_pause_end(d("2024-10-08"), d("2024-10-08"), today)), None),
            (
                "pause end before start",
                Box::new(|| check_pause_end(d("2024-10-08"), d("2024-10-07"), today)),
                Some(("to", "结束日期不能早于开始日期（2024-10-08）")),
            ),
            (
                "pause end in the future",
                Box::new(|| check_pause_end(d("2024-10-08"), d("2024-11-01"), today)),
                Some(("to", FUTURE)),
            ),
            // check_longer_due
            ("longer ok", Box::new(|| check_longer_due(due, d("2024-10-31"), "申请数量明显过多")), None),
            ("longer while paused", Box::new(|| check_longer_due(None, d("2024-10-31"), "理由")), None),
            (
                "longer not later",
                Box::new(|| check_longer_due(due, d("2024-10-30"), "理由")),
                Some(("longer_due", "合理答复期限应晚于当前答复期限（2024-10-30）")),
            ),
            (
                "longer without reason",
                Box::new(|| check_longer_due(due, d("2024-12-31"), "  ")),
                Some(("reason", "请填写确定延迟答复期限的理由")),
            ),
        ];
        for (name, check, want) in cases {
            let got = check();
            match want {
                None => assert_eq!(got, Ok(()), "{name}"),
                Some((field, msg)) => {
                    let err = got.expect_err(name);
                    assert_eq!((err.field, err.message.as_str()), (field, msg), "{name}");
                }
            }
        }
    }

    // ---- fees ----------------------------------------------------------------

    #[test]
    fn per_request_bands() {
        let cases = [
            (1, 0),
            (10, 0),
            (11, 100),
            (30, 100),
            (31, 200),
            (40, 200),
            (41, 300),
            (50, 300),
            (51, 400),
            (60, 400),
            (61, 500),
            (0, 0),
        ];
        for (n, want) in cases {
            assert_eq!(per_request_fee(n), want, "request #{n}");
        }
        assert!(per_request_fee(u32::MAX) > 0);
    }

    #[test]
    fn per_page_bands() {
        let cases = [
            (0, 0),
            (1, 0),
            (30, 0),
            (31, 10),
            (32, 20),
            (100, 700),
            (101, 720),
            (102, 740),
            (200, 2700),
            (201, 2740),
            (202, 2780),
            (300, 6700),
        ];
        for (p, want) in cases {
            assert_eq!(per_page_fee(p), want, "{p} pages");
        }
        assert!(per_page_fee(u32::MAX) > 0);
    }

    #[test]
    fn fee_scheme_and_form() {
        let cases: &[(FeeScheme, u32, FormWanted, Result<i64, &str>)] = &[
            (FeeScheme::PerRequest, 11, FormWanted::Other, Ok(100)),
            (FeeScheme::PerRequest, 10, FormWanted::Paper, Ok(0)),
            (FeeScheme::PerPage, 101, FormWanted::Paper, Ok(720)),
            (FeeScheme::PerPage, 31, FormWanted::Email, Ok(10)),
            (FeeScheme::PerPage, 201, FormWanted::Disc, Ok(2740)),
            (FeeScheme::PerPage, 31, FormWanted::Other, Err("按量计收仅适用于纸质、电子邮件或光盘形式提供的信息")),
            (FeeScheme::PerPage, 0, FormWanted::Paper, Err("数量至少为1")),
            (FeeScheme::PerRequest, 0, FormWanted::Paper, Err("数量至少为1")),
        ];
        for &(scheme, units, form, want) in cases {
            let got = fee(scheme, units, form).map_err(|e| e.message);
            assert_eq!(got, want.map_err(str::to_string), "{scheme:?} {units} {form:?}");
        }
        assert_eq!(fee(FeeScheme::PerPage, 31, FormWanted::Other).unwrap_err().field, "scheme");
        assert_eq!(fee(FeeScheme::PerPage, 0, FormWanted::Paper).unwrap_err().field, "units");
    }
}
