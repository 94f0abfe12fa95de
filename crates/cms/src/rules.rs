//! Workflow and metadata rules for content items: the review state machine,
//! 索引号, 文号, 公开时限 and item form fields.
//!
//! Everything here is pure and total: inputs come from users and stored rows,
//! so malformed values produce a refusal or `None`, never a panic.

use crate::model::ItemStatus;

// ───────────────────────────── review workflow ─────────────────────────────

/// Most review levels a column may require (初审, 复审, 终审).
pub const MAX_REVIEW_LEVELS: u8 = 3;

/// Workflow state of one content item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Workflow {
    pub status: ItemStatus,
    /// Review level now waiting (1..=levels_required) while `InReview`, else 0.
    pub level: u8,
    /// Number of review levels for this item, 1..=3.
    pub levels_required: u8,
    /// Scheduled publication time (Unix ms) while `Scheduled`.
    pub publish_at: Option<i64>,
    /// A published version is visible to the public. A published item being
    /// revised stays live while its new draft goes through review.
    pub live: bool,
}

impl Workflow {
    /// A new, never-published draft.
    pub fn new_draft(levels_required: u8) -> Self {
        Workflow { status: ItemStatus::Draft, level: 0, levels_required, publish_at: None, live: false }
    }
}

/// Something a user (or, for `PublishDue`, the scheduler) does to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Edit,
    Submit,
    /// At the last level, `publish_at` in the future schedules publication;
    /// `None` or a time not after `now` publishes at once. Ignored at earlier
    /// levels: only the final reviewer decides when the item goes out.
    Approve {
        publish_at: Option<i64>,
    },
    Reject,
    /// Run by the scheduler once `publish_at` has passed.
    PublishDue,
    CancelSchedule,
    Withdraw,
}

impl Action {
    /// Stable code, as returned by [`allowed_actions`].
    pub fn code(&self) -> &'static str {
        match self {
            Action::Edit => "edit",
            Action::Submit => "submit",
            Action::Approve { .. } => "approve",
            Action::Reject => "reject",
            Action::PublishDue => "publish_due",
            Action::CancelSchedule => "cancel_schedule",
            Action::Withdraw => "withdraw",
        }
    }

    /// Button text.
    pub fn label_zh(&self) -> &'static str {
        match self {
            Action::Edit => "修改",
            Action::Submit => "提交审核",
            Action::Approve { .. } => "审核通过",
            Action::Reject => "退回",
            Action::PublishDue => "定时发布",
            Action::CancelSchedule => "取消定时发布",
            Action::Withdraw => "撤稿",
        }
    }
}

/// Why a workflow action was refused. [`Refusal::message_zh`] is shown to users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `levels_required` is outside 1..=3.
    InvalidLevels { levels_required: u8 },
    /// The stored state contradicts itself; the reason is a Chinese phrase.
    Inconsistent { reason: &'static str },
    /// Submit from anything but a draft.
    NotDraft { status: ItemStatus },
    /// Approve/Reject (or a reviewer check) outside review.
    NotInReview { status: ItemStatus },
    /// PublishDue/CancelSchedule outside `Scheduled`.
    NotScheduled { status: ItemStatus },
    /// PublishDue before the scheduled time.
    NotYetDue { publish_at: i64 },
    /// Edit while in review or scheduled: reject or cancel first.
    Locked { status: ItemStatus },
    /// Withdraw with no public version.
    NotLive,
    /// A reviewer of a later level tried to act before earlier levels finished.
    LevelNotReached { level: u8, waiting: u8 },
    /// A reviewer of an earlier level tried to act again.
    LevelPassed { level: u8, waiting: u8 },
}

impl Refusal {
    pub fn message_zh(&self) -> String {
        match *self {
            Refusal::InvalidLevels { levels_required } => {
                format!("审核级数应为1至{MAX_REVIEW_LEVELS}级，当前设置为{levels_required}级")
            }
            Refusal::Inconsistent { reason } => format!("信息状态数据异常：{reason}，请联系系统管理员"),
            Refusal::NotDraft { status } => format!("只有草稿可以提交审核（当前状态：{}）", status.label_zh()),
            Refusal::NotInReview { status } => format!("该信息不在审核中（当前状态：{}）", status.label_zh()),
            Refusal::NotScheduled { status } => {
                format!("该信息不是定时待发布状态（当前状态：{}）", status.label_zh())
            }
            Refusal::NotYetDue { publish_at } => match format_beijing_ms(publish_at) {
                Some(t) => format!("尚未到定时发布时间（{t}）"),
                None => "尚未到定时发布时间".to_string(),
            },
            Refusal::Locked { status: ItemStatus::Scheduled } => "待发布的信息不能修改，请先取消定时发布".to_string(),
            Refusal::Locked { .. } => "审核中的信息不能修改，请先退回".to_string(),
            Refusal::NotLive => "撤稿只适用于已发布的信息".to_string(),
            Refusal::LevelNotReached { level, waiting } => {
                format!("第{level}级审核尚未轮到，当前等待第{waiting}级（{}）", level_label(waiting))
            }
            Refusal::LevelPassed { level, waiting } => {
                format!("第{level}级审核已完成，当前等待第{waiting}级（{}）", level_label(waiting))
            }
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message_zh())
    }
}

impl std::error::Error for Refusal {}

/// "2026-01-01 08:00" in Beijing time (UTC+8, no DST); None if out of range.
fn format_beijing_ms(ms: i64) -> Option<String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    let utc = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    utc.to_offset(time::macros::offset!(+8)).format(&fmt).ok()
}

/// 1 初审, 2 复审, 3 终审; anything else is just 审核.
pub fn level_label(level: u8) -> &'static str {
    match level {
        1 => "初审",
        2 => "复审",
        3 => "终审",
        _ => "审核",
    }
}

/// Rejects stored states no transition could have produced, so that a bad row
/// cannot be walked into an even stranger one.
fn check_state(w: &Workflow) -> Result<(), Refusal> {
    if !(1..=MAX_REVIEW_LEVELS).contains(&w.levels_required) {
        return Err(Refusal::InvalidLevels { levels_required: w.levels_required });
    }
    match w.status {
        ItemStatus::InReview if w.level == 0 => {
            Err(Refusal::Inconsistent { reason: "审核中的信息缺少审核级别" })
        }
        ItemStatus::Published if !w.live => Err(Refusal::Inconsistent { reason: "已发布的信息未上线" }),
        ItemStatus::Withdrawn if w.live => Err(Refusal::Inconsistent { reason: "已撤稿的信息仍在线" }),
        _ => Ok(()),
    }
}

/// Level now waiting. A level above `levels_required` happens when a column's
/// setting is lowered while items are in review; it counts as the last level
/// rather than stranding the item.
fn waiting_level(w: &Workflow) -> u8 {
    w.level.min(w.levels_required)
}

/// Applies `a` to `w` at `now_ms` (Unix ms). Returns the new state or why not.
pub fn transition(w: &Workflow, a: &Action, now_ms: i64) -> Result<Workflow, Refusal> {
    check_state(w)?;
    // Only a scheduled item has a use for publish_at; clearing it everywhere
    // else keeps a stale time from resurfacing in a later schedule.
    step(w, a, now_ms).map(|next| match next.status {
        ItemStatus::Scheduled => next,
        _ => Workflow { publish_at: None, ..next },
    })
}

fn step(w: &Workflow, a: &Action, now_ms: i64) -> Result<Workflow, Refusal> {
    use ItemStatus::*;
    let draft = |live: bool| Workflow { status: Draft, level: 0, live, ..*w };
    let published = Workflow { status: Published, level: 0, live: true, ..*w };
    match (w.status, *a) {
        (Draft, Action::Edit) => Ok(Workflow { level: 0, ..*w }),
        // The public keeps seeing the published version until the revision is approved.
        (Published, Action::Edit) => Ok(draft(true)),
        (Withdrawn, Action::Edit) => Ok(draft(false)),
        (InReview | Scheduled, Action::Edit) => Err(Refusal::Locked { status: w.status }),

        (Draft, Action::Submit) => Ok(Workflow { status: InReview, level: 1, ..*w }),
        (status, Action::Submit) => Err(Refusal::NotDraft { status }),

        (InReview, Action::Approve { publish_at }) => {
            let level = waiting_level(w);
            if level < w.levels_required {
                return Ok(Workflow { level: level + 1, ..*w });
            }
            match publish_at {
                Some(t) if t > now_ms => Ok(Workflow { status: Scheduled, level: 0, publish_at: Some(t), ..*w }),
                _ => Ok(published),
            }
        }
        (InReview, Action::Reject) => Ok(draft(w.live)),
        (status, Action::Approve { .. } | Action::Reject) => Err(Refusal::NotInReview { status }),

        // A schedule without a time was still fully approved: publish it.
        (Scheduled, Action::PublishDue) => match w.publish_at {
            Some(t) if now_ms < t => Err(Refusal::NotYetDue { publish_at: t }),
            _ => Ok(published),
        },
        (Scheduled, Action::CancelSchedule) => Ok(draft(w.live)),
        (status, Action::PublishDue | Action::CancelSchedule) => Err(Refusal::NotScheduled { status }),

        // Withdrawing takes the public version down whatever is being worked on;
        // any pending review or schedule ends with it.
        (_, Action::Withdraw) if w.live => Ok(Workflow { status: Withdrawn, level: 0, live: false, ..*w }),
        (_, Action::Withdraw) => Err(Refusal::NotLive),
    }
}

/// Codes (see [`Action::code`]) of the actions a user may take now, for
/// buttons. `publish_due` is never listed: the scheduler runs it, not a user.
pub fn allowed_actions(w: &Workflow) -> Vec<&'static str> {
    const USER_ACTIONS: [Action; 6] = [
        Action::Edit,
        Action::Submit,
        Action::Approve { publish_at: None },
        Action::Reject,
        Action::CancelSchedule,
        Action::Withdraw,
    ];
    // None of these depends on the clock, so any `now` gives the same answer.
    USER_ACTIONS.iter().filter(|a| transition(w, a, 0).is_ok()).map(Action::code).collect()
}

/// Whether a reviewer acting at `reviewer_level` may approve or reject now:
/// "第2级审核尚未轮到" while level 1 is still pending.
pub fn check_review_level(w: &Workflow, reviewer_level: u8) -> Result<(), Refusal> {
    check_state(w)?;
    if w.status != ItemStatus::InReview {
        return Err(Refusal::NotInReview { status: w.status });
    }
    let waiting = waiting_level(w);
    match reviewer_level.cmp(&waiting) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(Refusal::LevelNotReached { level: reviewer_level, waiting }),
        std::cmp::Ordering::Less => Err(Refusal::LevelPassed { level: reviewer_level, waiting }),
    }
}

// ───────────────────────────────── 索引号 ─────────────────────────────────

/// Years accepted in 索引号 and 文号: from the founding of the PRC to a
/// generous horizon; anything else is a typo.
const YEAR_RANGE: std::ops::RangeInclusive<i32> = 1949..=2100;

/// Organisation part of a 索引号: normally the 18-char 统一社会信用代码 or the
/// 9-char 组织机构代码. Only the shape is checked here; the checksum belongs to
/// the organisation record, which `gongkai_kernel::cn::validate_uscc` vets.
fn index_org_code(s: &str) -> Option<String> {
    let t = s.trim();
    if (1..=32).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Some(t.to_ascii_uppercase())
    } else {
        None
    }
}

/// "11330199MB1A00039X/2026-00001". `serial` must be 1..=99999.
pub fn format_index_no(org_code: &str, year: i32, serial: u32) -> Result<String, String> {
    let code = index_org_code(org_code)
        .ok_or_else(|| "索引号的机构代码应为字母和数字（通常为统一社会信用代码）".to_string())?;
    if !YEAR_RANGE.contains(&year) {
        return Err(format!("索引号年份{year}超出范围"));
    }
    if !(1..=99_999).contains(&serial) {
        return Err(format!("索引号流水号应为1至99999，当前为{serial}"));
    }
    Ok(format!("{code}/{year:04}-{serial:05}"))
}

/// Parses "<code>/<YYYY>-<serial>" and the older "<code>/<YYYYMM>-<serial>"
/// (the month is dropped). Serials of 1–8 digits are accepted because legacy
/// systems did not all pad to five. The code comes back uppercased.
pub fn parse_index_no(s: &str) -> Option<(String, i32, u32)> {
    let (code, rest) = s.trim().split_once('/')?;
    let code = index_org_code(code)?;
    let (date, serial) = rest.split_once('-')?;
    let all_digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(date) || !all_digits(serial) || serial.len() > 8 {
        return None;
    }
    let year: i32 = match date.len() {
        4 => date.parse().ok()?,
        6 => {
            let month: u8 = date[4..].parse().ok()?;
            if !(1..=12).contains(&month) {
                return None;
            }
            date[..4].parse().ok()?
        }
        _ => return None,
    };
    let serial: u32 = serial.parse().ok()?;
    (YEAR_RANGE.contains(&year) && serial >= 1).then_some((code, year, serial))
}

// ───────────────────────────────── 文号 ─────────────────────────────────

/// Opening and closing brackets people type around the year of a 文号;
/// the standard form (GB/T 9704) is 六角括号 〔〕.
const YEAR_OPEN: &[char] = &['〔', '[', '(', '（', '【', '［', '﹝', '〖', '﹙'];
const YEAR_CLOSE: &[char] = &['〕', ']', ')', '）', '】', '］', '﹞', '〗', '﹚'];

/// Full-width digits (U+FF10..U+FF19) to ASCII; everything else unchanged.
fn ascii_digit(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        _ => c,
    }
}

/// Canonical 文号 for search and duplicate checks: no whitespace, ASCII
/// digits, and any bracket pair around a 4-digit year turned into 〔YYYY〕.
/// Brackets around anything else are left alone.
pub fn normalize_doc_no(s: &str) -> String {
    let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).map(ascii_digit).collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let is_year = chars.get(i + 1..i + 5).is_some_and(|y| y.iter().all(char::is_ascii_digit))
            && YEAR_OPEN.contains(&chars[i])
            && chars.get(i + 5).is_some_and(|c| YEAR_CLOSE.contains(c));
        if is_year {
            out.push('〔');
            out.extend(&chars[i + 1..i + 5]);
            out.push('〕');
            i += 6;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Chinese numerals used in serials like 主席令第三十一号.
fn is_cn_numeral(c: char) -> bool {
    matches!(c, '〇' | '零' | '一' | '二' | '两' | '三' | '四' | '五' | '六' | '七' | '八' | '九' | '十' | '百' | '千')
}

const DOC_NO_EXAMPLE: &str = "如“国办发〔2024〕1号”或“国务院令第711号”";

/// Validates a 文号 and returns its normalised form. Accepts the standard
/// "机关代字〔年份〕序号号" and forms without a year such as "国务院令第711号".
pub fn validate_doc_no(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("请填写文号".to_string());
    }
    if t.chars().any(char::is_control) {
        return Err("文号含有不可见字符，请删除".to_string());
    }
    let n = normalize_doc_no(t);
    let len = n.chars().count();
    if len > 60 {
        return Err(format!("文号不能超过60个字（当前{len}个字）"));
    }
    let chars: Vec<char> = n.chars().collect();

    // Bracketed digits that normalisation did not take as a year ("〔18〕").
    for (i, c) in chars.iter().enumerate() {
        if !YEAR_OPEN.contains(c) {
            continue;
        }
        let inner = &chars[i + 1..];
        if let Some(close) = inner.iter().position(|c| YEAR_CLOSE.contains(c)) {
            let body = &inner[..close];
            if !body.is_empty() && body.iter().all(char::is_ascii_digit) && body.len() != 4 {
                return Err("文号中的年份应为4位数字，如“〔2024〕”".to_string());
            }
        }
    }

    let has_issuer = |part: &[char]| part.iter().any(|c| c.is_alphabetic());
    let year_at = (0..chars.len()).find(|&i| chars[i] == '〔' && chars.get(i + 5) == Some(&'〕'));
    match year_at {
        Some(p) if chars[p + 1..p + 5].iter().all(char::is_ascii_digit) => {
            let year: i32 = chars[p + 1..p + 5].iter().collect::<String>().parse().unwrap_or(0);
            if !YEAR_RANGE.contains(&year) {
                return Err(format!("文号中的年份{year}不在1949至2100之间"));
            }
            if !has_issuer(&chars[..p]) {
                return Err(format!("文号缺少发文机关代字，{DOC_NO_EXAMPLE}"));
            }
            // After the year: optional 第, at least one digit, then 号 at the end.
            let rest = &chars[p + 6..];
            let rest = rest.strip_prefix(&['第']).unwrap_or(rest);
            let ok = rest.split_last().is_some_and(|(last, digits)| {
                *last == '号' && !digits.is_empty() && digits.iter().all(char::is_ascii_digit)
            });
            if !ok {
                return Err(format!("文号应以“〔年份〕序号号”结尾，{DOC_NO_EXAMPLE}"));
            }
        }
        _ => {
            if chars.iter().any(|c| matches!(c, '〔' | '〕')) {
                return Err("文号中的年份括号不完整，应为“〔2024〕”形式".to_string());
            }
            // No year: issuer, optional 第, a number (ASCII or Chinese numerals), 号.
            let Some((&'号', body)) = chars.split_last() else {
                return Err(format!("文号应以“号”结尾，{DOC_NO_EXAMPLE}"));
            };
            let num_len = body.iter().rev().take_while(|&&c| c.is_ascii_digit() || is_cn_numeral(c)).count();
            let issuer = &body[..body.len() - num_len];
            let issuer = issuer.strip_suffix(&['第']).unwrap_or(issuer);
            if num_len == 0 || !has_issuer(issuer) {
                return Err(format!("文号格式不正确，{DOC_NO_EXAMPLE}"));
            }
        }
    }
    Ok(n)
}

// ──────────────────────────────── 公开时限 ────────────────────────────────

/// A 公开时限 from the standard catalogue, as far as it can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeLimit {
    WorkingDays(u32),
    Days(u32),
    Immediate,
    /// Free text such as "每年3月底前": kept as text, no deadline computed.
    Unparsed,
}

/// Value of a numeral run: ASCII/full-width digits (up to 9 of them), or
/// Chinese numerals from 一 to 九十九 (两 counts as 2).
fn numeral_value(run: &[char]) -> Option<u32> {
    if run.iter().all(|&c| ascii_digit(c).is_ascii_digit()) {
        if run.is_empty() || run.len() > 9 {
            return None;
        }
        return run.iter().map(|&c| ascii_digit(c)).collect::<String>().parse().ok();
    }
    let digit = |c: char| match c {
        '一' => Some(1),
        '二' | '两' => Some(2),
        '三' => Some(3),
        '四' => Some(4),
        '五' => Some(5),
        '六' => Some(6),
        '七' => Some(7),
        '八' => Some(8),
        '九' => Some(9),
        _ => None,
    };
    match *run {
        ['十'] => Some(10),
        [d] => digit(d),
        ['十', d] => Some(10 + digit(d)?),
        [t, '十'] => Some(digit(t)? * 10),
        [t, '十', d] => Some(digit(t)? * 10 + digit(d)?),
        _ => None,
    }
}

/// Unit starting at `rest`: working days, or calendar days. A bare "日" only
/// counts when followed by 内/以内, since "3月31日前" is a date, not a period.
fn unit_at(rest: &[char]) -> Option<bool> {
    let rest = rest.strip_prefix(&['个']).unwrap_or(rest);
    if rest.starts_with(&['工', '作', '日']) {
        Some(true)
    } else if [&['自', '然', '日'][..], &['天'], &['日', '内'], &['日', '以', '内']].iter().any(|u| rest.starts_with(u))
    {
        Some(false)
    } else {
        None
    }
}

/// Reads a 公开时限: the first "<number><unit>" in the text wins, e.g.
/// "信息形成或者变更之日起20个工作日内" → `WorkingDays(20)`.
pub fn parse_time_limit(s: &str) -> TimeLimit {
    let t = s.trim().trim_end_matches(['。', '.', '；', ';']).trim_end();
    if matches!(t, "实时" | "即时" | "及时") {
        return TimeLimit::Immediate;
    }
    let chars: Vec<char> = t.chars().collect();
    let is_digit = |c: char| ascii_digit(c).is_ascii_digit();
    for j in 1..chars.len() {
        let Some(working) = unit_at(&chars[j..]) else { continue };
        let before = &chars[..j];
        // Digits and Chinese numerals are read separately; of a Chinese run the
        // longest readable tail is taken, so "统一二十个工作日" still gives 20.
        let digit_len = before.iter().rev().take_while(|&&c| is_digit(c)).count();
        let value = if digit_len > 0 {
            numeral_value(&before[j - digit_len..])
        } else {
            let cn_len = before.iter().rev().take_while(|&&c| is_cn_numeral(c)).count();
            (1..=cn_len.min(3)).rev().find_map(|k| numeral_value(&before[j - k..]))
        };
        match value {
            Some(n) if n > 0 => return if working { TimeLimit::WorkingDays(n) } else { TimeLimit::Days(n) },
            _ => continue,
        }
    }
    TimeLimit::Unparsed
}

// ───────────────────────────── item form fields ─────────────────────────────

/// Title: 1..=200 characters after trimming, no control characters.
pub fn validate_title(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("请填写标题".to_string());
    }
    if t.chars().any(char::is_control) {
        return Err("标题含有换行或不可见字符，请删除".to_string());
    }
    let n = t.chars().count();
    if n > 200 {
        return Err(format!("标题不能超过200个字（当前{n}个字）"));
    }
    Ok(t.to_string())
}

/// Keywords split on , ， 、 ; ； and whitespace; empty pieces dropped,
/// duplicates removed (first occurrence kept); each ≤ 20 chars, ≤ 10 in all.
/// An empty input is fine: keywords are optional.
pub fn validate_keywords(s: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    // A set keeps deduplication linear on pasted junk with thousands of pieces.
    let mut seen = std::collections::HashSet::new();
    for k in s.split(|c: char| matches!(c, ',' | '，' | '、' | ';' | '；') || c.is_whitespace()) {
        if k.is_empty() || !seen.insert(k) {
            continue;
        }
        if k.chars().any(char::is_control) {
            return Err("关键词含有不可见字符，请删除".to_string());
        }
        let n = k.chars().count();
        if n > 20 {
            return Err(format!("关键词“{k}”过长，每个关键词不超过20个字"));
        }
        out.push(k.to_string());
    }
    if out.len() > 10 {
        return Err(format!("关键词最多10个（当前{}个）", out.len()));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // test tables are tuples of slices by design
mod tests {
    use super::*;
    use ItemStatus::*;

    /// 2026-01-01T00:00:00Z, i.e. 08:00 in Beijing.
    const NOW: i64 = 1_767_225_600_000;
    const LATER: i64 = NOW + 3_600_000;
    const EARLIER: i64 = NOW - 60_000;

    fn w(status: ItemStatus, level: u8, levels_required: u8, publish_at: Option<i64>, live: bool) -> Workflow {
        Workflow { status, level, levels_required, publish_at, live }
    }

    type Outcome = Result<Workflow, Refusal>;

    /// Columns of the transition table. `column` is never called: its
    /// exhaustive match makes a new `Action` variant a compile error here,
    /// as a reminder to add a column.
    const ACTIONS: [Action; 9] = [
        Action::Edit,
        Action::Submit,
        Action::Approve { publish_at: None },
        Action::Approve { publish_at: Some(LATER) },
        Action::Approve { publish_at: Some(NOW) },
        Action::Reject,
        Action::PublishDue,
        Action::CancelSchedule,
        Action::Withdraw,
    ];

    #[allow(dead_code)]
    fn column(a: Action) -> usize {
        match a {
            Action::Edit => 0,
            Action::Submit => 1,
            Action::Approve { publish_at: None } => 2,
            Action::Approve { publish_at: Some(_) } => 3,
            Action::Reject => 5,
            Action::PublishDue => 6,
            Action::CancelSchedule => 7,
            Action::Withdraw => 8,
        }
    }

    fn all(r: Refusal) -> [Outcome; 9] {
        [Err(r), Err(r), Err(r), Err(r), Err(r), Err(r), Err(r), Err(r), Err(r)]
    }

    /// Every state × every action, at NOW. Columns: Edit, Submit,
    /// Approve(None), Approve(LATER), Approve(NOW), Reject, PublishDue,
    /// CancelSchedule, Withdraw.
    fn table() -> Vec<(&'static str, Workflow, [Outcome; 9])> {
        let not_in_review = |status| Err(Refusal::NotInReview { status });
        let not_scheduled = |status| Err(Refusal::NotScheduled { status });
        let not_draft = |status| Err(Refusal::NotDraft { status });
        let locked = |status| Err(Refusal::Locked { status });
        let not_live = Err(Refusal::NotLive);
        vec![
            (
                "new draft",
                w(Draft, 0, 2, None, false),
                [
                    Ok(w(Draft, 0, 2, None, false)),
                    Ok(w(InReview, 1, 2, None, false)),
                    not_in_review(Draft),
                    not_in_review(Draft),
                    not_in_review(Draft),
                    not_in_review(Draft),
                    not_scheduled(Draft),
                    not_scheduled(Draft),
                    not_live,
                ],
            ),
            (
                "revision draft of a live item",
                w(Draft, 0, 2, None, true),
                [
                    Ok(w(Draft, 0, 2, None, true)),
                    Ok(w(InReview, 1, 2, None, true)),
                    not_in_review(Draft),
                    not_in_review(Draft),
                    not_in_review(Draft),
                    not_in_review(Draft),
                    not_scheduled(Draft),
                    not_scheduled(Draft),
                    Ok(w(Withdrawn, 0, 2, None, false)),
                ],
            ),
            (
                "draft carrying a stale time",
                w(Draft, 0, 1, Some(EARLIER), false),
                [
                    Ok(w(Draft, 0, 1, None, false)),
                    Ok(w(InReview, 1, 1, None, false)),
                    not_in_review(Draft),
                    not_in_review(Draft),
                    not_in_review(Draft),
                    not_in_review(Draft),
                    not_scheduled(Draft),
                    not_scheduled(Draft),
                    not_live,
                ],
            ),
            (
                "first of two levels",
                w(InReview, 1, 2, None, false),
                [
                    locked(InReview),
                    not_draft(InReview),
                    Ok(w(InReview, 2, 2, None, false)),
                    Ok(w(InReview, 2, 2, None, false)),
                    Ok(w(InReview, 2, 2, None, false)),
                    Ok(w(Draft, 0, 2, None, false)),
                    not_scheduled(InReview),
                    not_scheduled(InReview),
                    not_live,
                ],
            ),
            (
                "last of two levels",
                w(InReview, 2, 2, None, false),
                [
                    locked(InReview),
                    not_draft(InReview),
                    Ok(w(Published, 0, 2, None, true)),
                    Ok(w(Scheduled, 0, 2, Some(LATER), false)),
                    Ok(w(Published, 0, 2, None, true)),
                    Ok(w(Draft, 0, 2, None, false)),
                    not_scheduled(InReview),
                    not_scheduled(InReview),
                    not_live,
                ],
            ),
            (
                "single level, revision of a live item",
                w(InReview, 1, 1, None, true),
                [
                    locked(InReview),
                    not_draft(InReview),
                    Ok(w(Published, 0, 1, None, true)),
                    Ok(w(Scheduled, 0, 1, Some(LATER), true)),
                    Ok(w(Published, 0, 1, None, true)),
                    Ok(w(Draft, 0, 1, None, true)),
                    not_scheduled(InReview),
                    not_scheduled(InReview),
                    Ok(w(Withdrawn, 0, 1, None, false)),
                ],
            ),
            (
                "second of three levels, live",
                w(InReview, 2, 3, None, true),
                [
                    locked(InReview),
                    not_draft(InReview),
                    Ok(w(InReview, 3, 3, None, true)),
                    Ok(w(InReview, 3, 3, None, true)),
                    Ok(w(InReview, 3, 3, None, true)),
                    Ok(w(Draft, 0, 3, None, true)),
                    not_scheduled(InReview),
                    not_scheduled(InReview),
                    Ok(w(Withdrawn, 0, 3, None, false)),
                ],
            ),
            (
                "third of three levels",
                w(InReview, 3, 3, None, false),
                [
                    locked(InReview),
                    not_draft(InReview),
                    Ok(w(Published, 0, 3, None, true)),
                    Ok(w(Scheduled, 0, 3, Some(LATER), false)),
                    Ok(w(Published, 0, 3, None, true)),
                    Ok(w(Draft, 0, 3, None, false)),
                    not_scheduled(InReview),
                    not_scheduled(InReview),
                    not_live,
                ],
            ),
            (
                "level above a since-lowered requirement counts as last",
                w(InReview, 3, 2, None, false),
                [
                    locked(InReview),
                    not_draft(InReview),
                    Ok(w(Published, 0, 2, None, true)),
                    Ok(w(Scheduled, 0, 2, Some(LATER), false)),
                    Ok(w(Published, 0, 2, None, true)),
                    Ok(w(Draft, 0, 2, None, false)),
                    not_scheduled(InReview),
                    not_scheduled(InReview),
                    not_live,
                ],
            ),
            (
                "scheduled, not yet due",
                w(Scheduled, 0, 2, Some(LATER), false),
                [
                    locked(Scheduled),
                    not_draft(Scheduled),
                    not_in_review(Scheduled),
                    not_in_review(Scheduled),
                    not_in_review(Scheduled),
                    not_in_review(Scheduled),
                    Err(Refusal::NotYetDue { publish_at: LATER }),
                    Ok(w(Draft, 0, 2, None, false)),
                    not_live,
                ],
            ),
            (
                "scheduled revision, due",
                w(Scheduled, 0, 2, Some(EARLIER), true),
                [
                    locked(Scheduled),
                    not_draft(Scheduled),
                    not_in_review(Scheduled),
                    not_in_review(Scheduled),
                    not_in_review(Scheduled),
                    not_in_review(Scheduled),
                    Ok(w(Published, 0, 2, None, true)),
                    Ok(w(Draft, 0, 2, None, true)),
                    Ok(w(Withdrawn, 0, 2, None, false)),
                ],
            ),
            (
                "scheduled exactly now is due",
                w(Scheduled, 0, 1, Some(NOW), false),
                [
                    locked(Scheduled),
                    not_draft(Scheduled),
                    not_in_review(Scheduled),
                    not_in_review(Scheduled),
                    not_in_review(Scheduled),
                    not_in_review(Scheduled),
                    Ok(w(Published, 0, 1, None, true)),
                    Ok(w(Draft, 0, 1, None, false)),
                    not_live,
                ],
            ),
            (
                "scheduled without a time publishes when asked",
                w(Scheduled, 0, 1, None, false),
                [
                    locked(Scheduled),
                    not_draft(Scheduled),
                    not_in_review(Scheduled),
                    not_in_review(Scheduled),
                    not_in_review(Scheduled),
                    not_in_review(Scheduled),
                    Ok(w(Published, 0, 1, None, true)),
                    Ok(w(Draft, 0, 1, None, false)),
                    not_live,
                ],
            ),
            (
                "published",
                w(Published, 0, 2, None, true),
                [
                    Ok(w(Draft, 0, 2, None, true)),
                    not_draft(Published),
                    not_in_review(Published),
                    not_in_review(Published),
                    not_in_review(Published),
                    not_in_review(Published),
                    not_scheduled(Published),
                    not_scheduled(Published),
                    Ok(w(Withdrawn, 0, 2, None, false)),
                ],
            ),
            (
                "withdrawn",
                w(Withdrawn, 0, 2, None, false),
                [
                    Ok(w(Draft, 0, 2, None, false)),
                    not_draft(Withdrawn),
                    not_in_review(Withdrawn),
                    not_in_review(Withdrawn),
                    not_in_review(Withdrawn),
                    not_in_review(Withdrawn),
                    not_scheduled(Withdrawn),
                    not_scheduled(Withdrawn),
                    not_live,
                ],
            ),
            ("zero review levels", w(Draft, 0, 0, None, false), all(Refusal::InvalidLevels { levels_required: 0 })),
            ("four review levels", w(Published, 0, 4, None, true), all(Refusal::InvalidLevels { levels_required: 4 })),
            (
                "in review without a level",
                w(InReview, 0, 2, None, false),
                all(Refusal::Inconsistent { reason: "审核中的信息缺少审核级别" }),
            ),
            (
                "published but not live",
                w(Published, 0, 2, None, false),
                all(Refusal::Inconsistent { reason: "已发布的信息未上线" }),
            ),
            (
                "withdrawn but live",
                w(Withdrawn, 0, 2, None, true),
                all(Refusal::Inconsistent { reason: "已撤稿的信息仍在线" }),
            ),
        ]
    }

    #[test]
    fn every_state_and_action() {
        let table = table();
        // Every status appears with a consistent state in the table.
        for s in ItemStatus::ALL {
            assert!(table.iter().any(|(_, w, _)| w.status == s && check_state(w).is_ok()), "{s:?} missing");
        }
        for (name, state, expected) in &table {
            for (a, want) in ACTIONS.iter().zip(expected) {
                assert_eq!(&transition(state, a, NOW), want, "{name}: {a:?}");
            }
        }
    }

    #[test]
    fn allowed_actions_match_the_table() {
        // Columns that are user buttons (PublishDue and the timed approvals are not).
        const BUTTONS: [(usize, &str); 6] =
            [(0, "edit"), (1, "submit"), (2, "approve"), (5, "reject"), (7, "cancel_schedule"), (8, "withdraw")];
        for (name, state, expected) in table() {
            let want: Vec<&str> = BUTTONS.iter().filter(|(i, _)| expected[*i].is_ok()).map(|p| p.1).collect();
            assert_eq!(allowed_actions(&state), want, "{name}");
        }
        let spot: &[(Workflow, &[&str])] = &[
            (w(Draft, 0, 1, None, false), &["edit", "submit"]),
            (w(InReview, 1, 1, None, false), &["approve", "reject"]),
            (w(Scheduled, 0, 1, Some(LATER), true), &["cancel_schedule", "withdraw"]),
            (w(Published, 0, 1, None, true), &["edit", "withdraw"]),
            (w(Withdrawn, 0, 1, None, false), &["edit"]),
            (w(Draft, 0, 9, None, false), &[]),
        ];
        for (state, want) in spot {
            assert_eq!(&allowed_actions(state), want, "{state:?}");
        }
    }

    #[test]
    fn full_lifecycle() {
        // Draft → two reviews → scheduled → published → revised while live →
        // rejected → resubmitted → published → withdrawn → edited again.
        let steps: &[(Action, i64, Workflow)] = &[
            (Action::Submit, NOW, w(InReview, 1, 2, None, false)),
            (Action::Approve { publish_at: Some(LATER) }, NOW, w(InReview, 2, 2, None, false)),
            (Action::Approve { publish_at: Some(LATER) }, NOW, w(Scheduled, 0, 2, Some(LATER), false)),
            (Action::PublishDue, LATER, w(Published, 0, 2, None, true)),
            (Action::Edit, LATER, w(Draft, 0, 2, None, true)),
            (Action::Submit, LATER, w(InReview, 1, 2, None, true)),
            (Action::Reject, LATER, w(Draft, 0, 2, None, true)),
            (Action::Submit, LATER, w(InReview, 1, 2, None, true)),
            (Action::Approve { publish_at: None }, LATER, w(InReview, 2, 2, None, true)),
            (Action::Approve { publish_at: None }, LATER, w(Published, 0, 2, None, true)),
            (Action::Withdraw, LATER, w(Withdrawn, 0, 2, None, false)),
            (Action::Edit, LATER, w(Draft, 0, 2, None, false)),
        ];
        let mut state = Workflow::new_draft(2);
        for (i, (a, now, want)) in steps.iter().enumerate() {
            state = transition(&state, a, *now).unwrap_or_else(|r| panic!("step {i} {a:?}: {r}"));
            assert_eq!(&state, want, "step {i} {a:?}");
        }
    }

    #[test]
    fn results_are_always_consistent_and_nothing_panics() {
        let times = [None, Some(i64::MIN), Some(-1), Some(NOW), Some(i64::MAX)];
        let actions = [
            Action::Edit,
            Action::Submit,
            Action::Approve { publish_at: None },
            Action::Approve { publish_at: Some(i64::MIN) },
            Action::Approve { publish_at: Some(i64::MAX) },
            Action::Reject,
            Action::PublishDue,
            Action::CancelSchedule,
            Action::Withdraw,
        ];
        for status in ItemStatus::ALL {
            for level in [0, 1, 2, 3, 4, u8::MAX] {
                for req in [0, 1, 2, 3, 4, u8::MAX] {
                    for publish_at in times {
                        for live in [false, true] {
                            let state = w(status, level, req, publish_at, live);
                            let _ = allowed_actions(&state);
                            let _ = check_review_level(&state, level);
                            for a in &actions {
                                for now in [i64::MIN, 0, NOW, i64::MAX] {
                                    match transition(&state, a, now) {
                                        Ok(next) => {
                                            assert_eq!(check_state(&next), Ok(()), "{state:?} {a:?} → {next:?}");
                                            let in_review = next.status == InReview;
                                            assert_eq!(in_review, next.level > 0, "{next:?}");
                                            assert!(next.level <= next.levels_required, "{next:?}");
                                            assert_eq!(next.status == Scheduled, next.publish_at.is_some(), "{next:?}");
                                        }
                                        Err(r) => assert!(!r.message_zh().is_empty()),
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn reviewer_level_check() {
        let cases: &[(Workflow, u8, Result<(), Refusal>)] = &[
            (w(InReview, 1, 3, None, false), 1, Ok(())),
            (w(InReview, 1, 3, None, false), 2, Err(Refusal::LevelNotReached { level: 2, waiting: 1 })),
            (w(InReview, 3, 3, None, false), 2, Err(Refusal::LevelPassed { level: 2, waiting: 3 })),
            (w(InReview, 3, 2, None, false), 2, Ok(())),
            (w(Draft, 0, 3, None, false), 1, Err(Refusal::NotInReview { status: Draft })),
            (w(InReview, 1, 0, None, false), 1, Err(Refusal::InvalidLevels { levels_required: 0 })),
        ];
        for (state, level, want) in cases {
            assert_eq!(&check_review_level(state, *level), want, "{state:?} {level}");
        }
    }

    #[test]
    fn messages_and_labels() {
        let cases: &[(Refusal, &str)] = &[
            (Refusal::NotDraft { status: Published }, "只有草稿可以提交审核（当前状态：已发布）"),
            (Refusal::NotInReview { status: Draft }, "该信息不在审核中（当前状态：草稿）"),
            (Refusal::LevelNotReached { level: 2, waiting: 1 }, "第2级审核尚未轮到，当前等待第1级（初审）"),
            (Refusal::LevelPassed { level: 1, waiting: 3 }, "第1级审核已完成，当前等待第3级（终审）"),
            (Refusal::NotLive, "撤稿只适用于已发布的信息"),
            (Refusal::Locked { status: InReview }, "审核中的信息不能修改，请先退回"),
            (Refusal::Locked { status: Scheduled }, "待发布的信息不能修改，请先取消定时发布"),
            (Refusal::NotScheduled { status: Draft }, "该信息不是定时待发布状态（当前状态：草稿）"),
            (Refusal::NotYetDue { publish_at: LATER }, "尚未到定时发布时间（2026-01-01 09:00）"),
            (Refusal::NotYetDue { publish_at: i64::MAX }, "尚未到定时发布时间"),
            (Refusal::InvalidLevels { levels_required: 5 }, "审核级数应为1至3级，当前设置为5级"),
            (
                Refusal::Inconsistent { reason: "已撤稿的信息仍在线" },
                "信息状态数据异常：已撤稿的信息仍在线，请联系系统管理员",
            ),
        ];
        for (r, want) in cases {
            assert_eq!(r.message_zh(), *want);
            assert_eq!(r.to_string(), *want);
        }
        let labels = [(0, "审核"), (1, "初审"), (2, "复审"), (3, "终审"), (4, "审核")];
        for (l, want) in labels {
            assert_eq!(level_label(l), want);
        }
        assert_eq!(Action::Approve { publish_at: None }.code(), "approve");
        assert_eq!(Action::Withdraw.label_zh(), "撤稿");
    }

    #[test]
    fn index_no_format() {
        let ok: &[(&str, i32, u32, &str)] = &[
            ("11330199MB1A00039X", 2026, 1, "11330199MB1A00039X/2026-00001"),
            (" 11330199mb1a00039x ", 2026, 99_999, "11330199MB1A00039X/2026-99999"),
            ("000014349", 2021, 96, "000014349/2021-00096"),
        ];
        for &(code, year, serial, want) in ok {
            assert_eq!(format_index_no(code, year, serial).as_deref(), Ok(want));
            assert_eq!(parse_index_no(want), Some((want[..want.len() - 11].to_string(), year, serial)));
        }
        let bad: &[(&str, i32, u32, &str)] = &[
            ("11330199MB1A00039X", 2026, 0, "流水号"),
            ("11330199MB1A00039X", 2026, 100_000, "流水号"),
            ("11330199MB1A00039X", 1800, 1, "年份"),
            ("11330199MB1A00039X", 10_000, 1, "年份"),
            ("", 2026, 1, "机构代码"),
            ("1133/0199", 2026, 1, "机构代码"),
            ("杨浦区", 2026, 1, "机构代码"),
        ];
        for &(code, year, serial, needle) in bad {
            let err = format_index_no(code, year, serial).expect_err(code);
            assert!(err.contains(needle), "{code} {year} {serial}: {err}");
        }
    }

    #[test]
    fn index_no_parse() {
        let cases: &[(&str, Option<(&str, i32, u32)>)] = &[
            ("11330199MB1A00039X/2026-00001", Some(("11330199MB1A00039X", 2026, 1))),
            ("11341702486344515H/202110-00013", Some(("11341702486344515H", 2021, 13))),
            (" 000014349/2020-00123 ", Some(("000014349", 2020, 123))),
            ("11330199mb1a00039x/2026-00001", Some(("11330199MB1A00039X", 2026, 1))),
            ("11330199MB1A00039X/2026-1", Some(("11330199MB1A00039X", 2026, 1))),
            ("11330199MB1A00039X/2026-123456", Some(("11330199MB1A00039X", 2026, 123_456))),
            ("11330199MB1A00039X/2026-00000", None),
            ("11330199MB1A00039X/202613-00001", None), // month 13
            ("11330199MB1A00039X/202600-00001", None),
            ("11330199MB1A00039X/26-00001", None),
            ("11330199MB1A00039X/2026-", None),
            ("11330199MB1A00039X/2026-0000a", None),
            ("11330199MB1A00039X/2026-123456789", None),
            ("11330199MB1A00039X/1800-00001", None),
            ("11330199MB1A00039X-2026-00001", None),
            ("/2026-00001", None),
            ("杨浦/2026-00001", None),
            ("11330199MB1A00039X/２０２６-00001", None),
            ("11330199MB1A00039X/2026-00001/2", None),
            ("", None),
        ];
        for &(input, want) in cases {
            let want = want.map(|(c, y, n)| (c.to_string(), y, n));
            assert_eq!(parse_index_no(input), want, "{input:?}");
        }
    }

    #[test]
    fn doc_no_normalize() {
        let cases: &[(&str, &str)] = &[
            ("杨管办发[2018]9号", "杨管办发〔2018〕9号"),
            ("杨管办发(2018)9号", "杨管办发〔2018〕9号"),
            ("杨管办发（２０１８）９号", "杨管办发〔2018〕9号"),
            ("杨管办发 〔2018〕 9号", "杨管办发〔2018〕9号"),
            ("杨管办发【2018】9号", "杨管办发〔2018〕9号"),
            ("杨管办发［2018］9号", "杨管办发〔2018〕9号"),
            ("杨管办发﹝2018﹞9号", "杨管办发〔2018〕9号"),
            ("杨管办发〔2018〕9号", "杨管办发〔2018〕9号"),
            ("\u{3000}杨管办发\t[2018]\u{a0}9号 ", "杨管办发〔2018〕9号"),
            ("杨管办发〔2018]9号", "杨管办发〔2018〕9号"), // mismatched pair typed in haste
            ("国办发(18)9号", "国办发(18)9号"),            // not a 4-digit year: untouched
            ("某某(试行)", "某某(试行)"),
            ("(20180)", "(20180)"),
            ("国务院令第７１１号", "国务院令第711号"),
            ("", ""),
            ("[", "["),
            ("[2018", "[2018"),
        ];
        for &(input, want) in cases {
            assert_eq!(normalize_doc_no(input), want, "{input:?}");
        }
    }

    #[test]
    fn doc_no_validate() {
        let ok: &[(&str, &str)] = &[
            ("杨管办发[2018]9号", "杨管办发〔2018〕9号"),
            ("杨管办发(2018)9号", "杨管办发〔2018〕9号"),
            ("杨管办发（２０１８）９号", "杨管办发〔2018〕9号"),
            ("杨管办发 〔2018〕 9号", "杨管办发〔2018〕9号"),
            ("国务院令第711号", "国务院令第711号"),
            ("青政〔2024〕3号", "青政〔2024〕3号"),
            ("国发〔2024〕第3号", "国发〔2024〕第3号"),
            ("中华人民共和国主席令第三十一号", "中华人民共和国主席令第三十一号"),
            ("财政部公告2019年第39号", "财政部公告2019年第39号"),
            ("浙政办发〔1949〕1号", "浙政办发〔1949〕1号"),
            ("浙政办发〔2100〕1号", "浙政办发〔2100〕1号"),
        ];
        for &(input, want) in ok {
            assert_eq!(validate_doc_no(input).as_deref(), Ok(want), "{input:?}");
        }
        let long = format!("{}〔2018〕9号", "杨".repeat(54));
        let bad: &[(&str, &str)] = &[
            ("", "请填写"),
            ("   ", "请填写"),
            ("〔2018〕", "机关代字"),
            ("〔2018〕9号", "机关代字"),
            ("abc", "以“号”结尾"),
            ("国办发〔18〕9号", "4位数字"),
            ("国办发[18]9号", "4位数字"),
            ("国办发〔201〕9号", "4位数字"),
            ("国办发〔1948〕9号", "1949"),
            ("国办发〔2101〕9号", "2100"),
            ("国办发〔2018〕", "结尾"),
            ("国办发〔2018〕号", "结尾"),
            ("国办发〔2018〕9", "结尾"),
            ("国办发〔2018〕9号文", "结尾"),
            ("国办发〔2018〕〔2019〕9号", "结尾"),
            ("国办发〔2018〕a号", "结尾"),
            ("国办发〔2018号", "括号不完整"),
            ("国办发2018〕9号", "括号不完整"),
            ("国办发〔〕9号", "括号不完整"),
            ("第711号", "格式不正确"),
            ("711号", "格式不正确"),
            ("国务院令号", "格式不正确"),
            ("国办发〔2018〕9\n号", "不可见字符"),
            ("国办发\u{0}〔2018〕9号", "不可见字符"),
            (&long, "不能超过60个字"),
        ];
        for &(input, needle) in bad {
            let err = validate_doc_no(input).expect_err(input);
            assert!(err.contains(needle), "{input:?}: {err}");
        }
        // Exactly 60 characters is still accepted.
        let sixty = format!("{}〔2018〕9号", "杨".repeat(52));
        assert_eq!(sixty.chars().count(), 60);
        assert!(validate_doc_no(&sixty).is_ok());
    }

    #[test]
    fn time_limit() {
        use TimeLimit::*;
        let cases: &[(&str, TimeLimit)] = &[
            ("信息形成或者变更之日起20个工作日内", WorkingDays(20)),
            ("自信息形成之日起二十个工作日内", WorkingDays(20)),
            ("自信息形成之日起２０个工作日内", WorkingDays(20)),
            ("5个工作日", WorkingDays(5)),
            ("十个工作日内", WorkingDays(10)),
            ("十五个工作日内", WorkingDays(15)),
            ("九十九个工作日内", WorkingDays(99)),
            ("两个工作日内", WorkingDays(2)),
            ("统一二十个工作日内公开", WorkingDays(20)),
            ("7日内", Days(7)),
            ("15天内", Days(15)),
            ("三十日内", Days(30)),
            ("收到之日起30日以内", Days(30)),
            ("5个自然日内", Days(5)),
            ("20个工作日内，另有规定的7日内", WorkingDays(20)),
            ("实时", Immediate),
            ("即时", Immediate),
            ("及时", Immediate),
            (" 及时。", Immediate),
            ("及时公开", Unparsed),
            ("每年3月31日前", Unparsed),
            ("常态化公开", Unparsed),
            ("0个工作日", Unparsed),
            ("一百个工作日", Unparsed),
            ("个工作日", Unparsed),
            ("工作日", Unparsed),
            ("1个月内", Unparsed),
            ("99999999999个工作日", Unparsed),
            ("", Unparsed),
        ];
        for &(input, want) in cases {
            assert_eq!(parse_time_limit(input), want, "{input:?}");
        }
    }

    #[test]
    fn title() {
        let ok: &[(&str, &str)] = &[("  关于印发某某办法的通知 ", "关于印发某某办法的通知"), ("a", "a")];
        for &(input, want) in ok {
            assert_eq!(validate_title(input).as_deref(), Ok(want));
        }
        let max = "字".repeat(200);
        assert_eq!(validate_title(&max).as_deref(), Ok(max.as_str()));
        let too_long = "字".repeat(201);
        let bad: &[(&str, &str)] = &[
            ("", "请填写"),
            (" \u{3000} ", "请填写"),
            ("第一行\n第二行", "不可见字符"),
            ("标题\u{7}", "不可见字符"),
            (&too_long, "当前201个字"),
        ];
        for &(input, needle) in bad {
            let err = validate_title(input).expect_err(input);
            assert!(err.contains(needle), "{input:?}: {err}");
        }
    }

    #[test]
    fn keywords() {
        let ok: &[(&str, &[&str])] = &[
            ("", &[]),
            (" ，、 ", &[]),
            ("政务公开,信息公开", &["政务公开", "信息公开"]),
            (
                "政务公开，信息公开、年报;预算；决算 公示\u{3000}通知\t解读",
                &["政务公开", "信息公开", "年报", "预算", "决算", "公示", "通知", "解读"],
            ),
            ("年报,年报，年报", &["年报"]),
            ("a,A", &["a", "A"]),
            ("一,二,三,四,五,六,七,八,九,十,一,二", &["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]),
        ];
        for &(input, want) in ok {
            assert_eq!(validate_keywords(input), Ok(want.iter().map(|s| s.to_string()).collect()), "{input:?}");
        }
        let twenty = "字".repeat(20);
        assert_eq!(validate_keywords(&twenty), Ok(vec![twenty.clone()]));
        let long = format!("短,{}", "字".repeat(21));
        let bad: &[(&str, &str)] =
            &[("一,二,三,四,五,六,七,八,九,十,十一", "最多10个"), (&long, "过长"), ("关键\u{0}词", "不可见字符")];
        for &(input, needle) in bad {
            let err = validate_keywords(input).expect_err(input);
            assert!(err.contains(needle), "{input:?}: {err}");
        }
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let long = "〔".repeat(10_000);
        let inputs = [
            "",
            "〔",
            "〕",
            "〔〔〔〔〔〔",
            "[2018",
            "号",
            "第号",
            "〔2018〕",
            "/",
            "-",
            "/-",
            "a/-",
            "a/2026-",
            "十",
            "个",
            "日内",
            "十十个工作日",
            "𝕏𝕏",
            "\u{0}",
            "\u{202e}",
            &long,
        ];
        for s in inputs {
            let _ = normalize_doc_no(s);
            let _ = validate_doc_no(s);
            let _ = parse_index_no(s);
            let _ = format_index_no(s, 2026, 1);
            let _ = parse_time_limit(s);
            let _ = validate_title(s);
            let _ = validate_keywords(s);
        }
        let _ = format_index_no("A", i32::MIN, u32::MAX);
        // Large inputs stay fast (no quadratic scans).
        let many = (0..100_000).map(|n| n.to_string()).collect::<Vec<_>>().join(",");
        assert!(validate_keywords(&many).unwrap_err().contains("当前100000个"));
        let units = format!("{}{}", "1".repeat(100_000), "天".repeat(100_000));
        assert_eq!(parse_time_limit(&units), TimeLimit::Unparsed);
    }
}
