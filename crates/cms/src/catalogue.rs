//! The standard disclosure catalogue (基层政务公开标准目录): entries, import and export.
//!
//! An entry is one row of a domain's catalogue as 国办发〔2019〕54号 publishes it: 事项,
//! 公开内容, 依据, 时限, 主体, 渠道, 对象, 方式, 层级. Items of the resource library are
//! linked to the entries they fulfil, so the console can show per entry what was published
//! and whether it went out within the 公开时限.
//!
//! Parsing and validation are pure; the service functions run one transaction each
//! (rules → SQL → audit → outbox `catalogue.changed`).

use std::collections::{BTreeSet, HashMap};
use std::io::Cursor;

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::{Date, Duration};

use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::calendar::rules::Calendar;
use gongkai_kernel::clock::{fmt_date, now_ms, parse_date};
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::{Error, FieldErrors, Result};
use gongkai_kernel::{audit, outbox, with_conn};

use crate::model::{Channel, DOMAINS};
use crate::rules::{TimeLimit, parse_time_limit};

// ───────────────────────────── model ─────────────────────────────

/// The import/export columns: (field key of [`EntryInput`], header as the catalogue prints it).
pub const COLUMNS: [(&str, &str); 12] = [
    ("seq", "序号"),
    ("domain", "领域"),
    ("level1", "一级事项"),
    ("level2", "二级事项"),
    ("content", "公开内容（要素）"),
    ("basis", "公开依据"),
    ("time_limit", "公开时限"),
    ("org", "公开主体"),
    ("channels", "公开渠道和载体"),
    ("audience", "公开对象"),
    ("mode", "公开方式"),
    ("tier", "公开层级"),
];

/// Columns an import file must have (the others may be left out).
const REQUIRED_COLUMNS: [&str; 7] = ["domain", "level1", "time_limit", "channels", "audience", "mode", "tier"];

/// Other headers seen in district spreadsheets for the same columns.
const HEADER_ALIASES: [(&str, &str); 4] =
    [("公开责任主体", "org"), ("公开渠道", "channels"), ("公开载体", "channels"), ("所属领域", "domain")];

/// Longest accepted 公开时限 in days; longer is a typo and would make deadline walks absurd.
const MAX_LIMIT_DAYS: u32 = 3650;

/// Upper bounds on an import, so a hostile file cannot tie up the writer.
const MAX_IMPORT_BYTES: usize = 20 * 1024 * 1024;
const MAX_IMPORT_ROWS: usize = 20_000;

/// 公开对象.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    All,
    Specific,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Specific => "specific",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "all" => Some(Self::All),
            "specific" => Some(Self::Specific),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::All => "全社会",
            Self::Specific => "特定群体",
        }
    }
    /// What people type: the label, common variants, or the code.
    fn from_text(s: &str) -> Option<Self> {
        match s {
            "全社会" | "社会公众" | "公众" | "all" => Some(Self::All),
            "特定群体" | "特定群体（群众）" | "特定群众" | "特定对象" | "specific" => {
                Some(Self::Specific)
            }
            _ => None,
        }
    }
}

/// 公开方式 of a catalogue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Proactive,
    OnRequest,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proactive => "proactive",
            Self::OnRequest => "on_request",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "proactive" => Some(Self::Proactive),
            "on_request" => Some(Self::OnRequest),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Proactive => "主动",
            Self::OnRequest => "依申请",
        }
    }
    fn from_text(s: &str) -> Option<Self> {
        match s {
            "主动" | "主动公开" | "proactive" => Some(Self::Proactive),
            "依申请" | "依申请公开" | "on_request" => Some(Self::OnRequest),
            _ => None,
        }
    }
}

/// 公开层级.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    County,
    Township,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::County => "county",
            Self::Township => "township",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "county" => Some(Self::County),
            "township" => Some(Self::Township),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::County => "县级",
            Self::Township => "乡级",
        }
    }
    fn from_text(s: &str) -> Option<Self> {
        match s {
            "县级" | "区级" | "县（区）级" | "县区级" | "县（市、区）级" | "县" | "区" | "county" => {
                Some(Self::County)
            }
            "乡级"
            | "乡、村级"
            | "乡村级"
            | "乡镇级"
            | "乡（镇）级"
            | "乡镇（街道）级"
            | "乡镇"
            | "街道"
            | "乡"
            | "township" => Some(Self::Township),
            _ => None,
        }
    }
}

/// A catalogue entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub org_id: Option<i64>,
    pub domain_code: String,
    pub seq: String,
    pub level1: String,
    pub level2: String,
    pub content: String,
    pub basis: String,
    pub time_limit: String,
    pub time_limit_kind: String,
    pub time_limit_n: Option<i64>,
    pub channels: String,
    pub audience: String,
    pub mode: String,
    pub tier: String,
    pub sort_order: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Entry {
    /// The stored 公开时限 as a deadline rule.
    pub fn limit(&self) -> TimeLimit {
        let n = self.time_limit_n.and_then(|n| u32::try_from(n).ok());
        match (self.time_limit_kind.as_str(), n) {
            ("working_days", Some(n)) => TimeLimit::WorkingDays(n),
            ("days", Some(n)) => TimeLimit::Days(n),
            ("immediate", _) => TimeLimit::Immediate,
            _ => TimeLimit::Unparsed,
        }
    }
    pub fn channel_list(&self) -> Vec<Channel> {
        self.channels.split(',').filter_map(Channel::parse).collect()
    }
    /// Channel labels joined with 、 (the export form; it reads back unchanged).
    pub fn channel_labels(&self) -> String {
        self.channel_list().iter().map(|c| c.label_zh()).collect::<Vec<_>>().join("、")
    }
    pub fn domain_label(&self) -> &'static str {
        domain_label(&self.domain_code).unwrap_or("")
    }
    pub fn audience_label(&self) -> &'static str {
        Audience::parse(&self.audience).map_or("", Audience::label_zh)
    }
    pub fn mode_label(&self) -> &'static str {
        Mode::parse(&self.mode).map_or("", Mode::label_zh)
    }
    pub fn tier_label(&self) -> &'static str {
        Tier::parse(&self.tier).map_or("", Tier::label_zh)
    }
}

/// The entry form, strings as typed (also one import row).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EntryInput {
    pub seq: String,
    /// A domain code ("d05") or label ("安全生产").
    pub domain: String,
    pub level1: String,
    pub level2: String,
    pub content: String,
    pub basis: String,
    pub time_limit: String,
    /// 公开主体: the exact organisation name, resolved by the service; empty for none.
    pub org: String,
    pub channels: String,
    pub audience: String,
    pub mode: String,
    pub tier: String,
    pub sort_order: String,
}

/// Validated values (the organisation is still a name).
#[derive(Debug, Clone, PartialEq)]
pub struct EntryFields {
    pub org_name: Option<String>,
    pub domain_code: String,
    pub seq: String,
    pub level1: String,
    pub level2: String,
    pub content: String,
    pub basis: String,
    pub time_limit: String,
    pub limit: TimeLimit,
    pub channels: Vec<Channel>,
    pub audience: Audience,
    pub mode: Mode,
    pub tier: Tier,
    pub sort_order: Option<i64>,
}

impl EntryFields {
    /// (time_limit_kind, time_limit_n) columns.
    pub fn limit_columns(&self) -> (&'static str, Option<i64>) {
        match self.limit {
            TimeLimit::WorkingDays(n) => ("working_days", Some(i64::from(n))),
            TimeLimit::Days(n) => ("days", Some(i64::from(n))),
            TimeLimit::Immediate => ("immediate", None),
            TimeLimit::Unparsed => ("unparsed", None),
        }
    }
    pub fn channel_codes(&self) -> String {
        self.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
    }
}

pub fn domain_label(code: &str) -> Option<&'static str> {
    DOMAINS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

// ───────────────────────────── pure parsing ─────────────────────────────

/// Half-width parentheses to full-width, so "特定群体(群众)" and "特定群体（群众）" compare equal.
fn full_parens(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            c => c,
        })
        .collect()
}

/// A one-line field: trimmed, control characters (line breaks from wrapped Excel cells
/// included) removed — PostgreSQL text cannot hold NUL, and keys must compare exactly.
fn one_line(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_string()
}

/// A multi-line field: line breaks kept as LF, other control characters removed.
fn multi_line(s: &str) -> String {
    s.replace("\r\n", "\n").chars().filter(|&c| c == '\n' || !c.is_control()).collect::<String>().trim().to_string()
}

/// A domain code from "d05", "D05", "安全生产" or "安全生产领域".
pub fn parse_domain(s: &str) -> Option<&'static str> {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let lower = t.to_ascii_lowercase();
    let bare = t.strip_suffix("领域").unwrap_or(&t);
    DOMAINS.iter().find(|(code, label)| *code == lower || *label == t || *label == bare).map(|(code, _)| *code)
}

fn is_selected_mark(c: char) -> bool {
    matches!(c, '■' | '☑' | '☒' | '√' | '✓' | '✔' | '▇' | '█')
}

fn is_unselected_mark(c: char) -> bool {
    matches!(c, '□' | '☐')
}

fn is_mark(c: char) -> bool {
    is_selected_mark(c) || is_unselected_mark(c)
}

fn is_channel_sep(c: char) -> bool {
    matches!(c, '、' | ',' | '，' | ';' | '；' | '/' | '／' | '_') || c.is_whitespace()
}

/// Extra spellings of channels met in district catalogues.
const CHANNEL_ALIASES: [(&str, Channel); 20] = [
    ("政府门户网站", Channel::Website),
    ("门户网站", Channel::Website),
    ("政务新媒体", Channel::NewMedia),
    ("微博", Channel::NewMedia),
    ("微信", Channel::NewMedia),
    ("客户端", Channel::NewMedia),
    ("发布会", Channel::PressHearing),
    ("新闻发布会", Channel::PressHearing),
    ("听证会", Channel::PressHearing),
    ("广播", Channel::Broadcast),
    ("电视", Channel::Broadcast),
    ("报刊", Channel::Print),
    ("查阅点", Channel::ReadingPoint),
    ("政务服务大厅", Channel::ServiceCenter),
    ("便民服务点", Channel::ServiceStation),
    ("入户", Channel::OnSite),
    ("现场", Channel::OnSite),
    ("公示栏", Channel::BulletinBoard),
    ("村公示栏", Channel::BulletinBoard),
    ("电子屏", Channel::BulletinBoard),
];

/// Every accepted spelling: codes, labels, labels without their parenthesis, aliases.
fn channel_patterns() -> Vec<(Vec<char>, Channel)> {
    let mut v = Vec::new();
    for ch in Channel::ALL {
        v.push((ch.as_str().chars().collect(), ch));
        let label = full_parens(ch.label_zh());
        if let Some(i) = label.find('（') {
            v.push((label[..i].chars().collect(), ch));
        }
        v.push((label.chars().collect(), ch));
    }
    for (a, ch) in CHANNEL_ALIASES {
        v.push((a.chars().collect(), ch));
    }
    v
}

/// Length of a pattern match at the start of `s` that ends on a token boundary (end,
/// separator, checkbox mark, or a trailing "（注释）" which is swallowed), or None.
fn match_at(s: &[char], pat: &[char]) -> Option<usize> {
    if pat.len() > s.len() || !s.iter().zip(pat).all(|(a, b)| a.eq_ignore_ascii_case(b)) {
        return None;
    }
    let rest = &s[pat.len()..];
    match rest.first() {
        None => Some(pat.len()),
        Some(&c) if is_channel_sep(c) || is_mark(c) => Some(pat.len()),
        Some('（') => rest.iter().position(|&c| c == '）').map(|close| pat.len() + close + 1),
        Some(_) => None,
    }
}

/// Reads 公开渠道和载体: codes or labels separated by 、 , ， ; ； / or spaces, or the
/// catalogue's checkbox notation "■政府网站 □政府公报" (■ chosen, □ not). Returns the
/// chosen channels in display order, or the pieces that could not be read.
pub fn parse_channels(s: &str) -> Result<Vec<Channel>, Vec<String>> {
    let chars: Vec<char> = full_parens(s).chars().collect();
    let patterns = channel_patterns();
    let mut chosen = BTreeSet::new();
    let mut unknown = Vec::new();
    let mut selected = true;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_channel_sep(c) {
            i += 1;
            continue;
        }
        if is_mark(c) {
            selected = is_selected_mark(c);
            i += 1;
            continue;
        }
        // Longest spelling wins, so "发布会/听证会" is one channel, not two tokens.
        let best = patterns.iter().filter_map(|(p, ch)| match_at(&chars[i..], p).map(|n| (n, *ch))).max_by_key(|m| m.0);
        match best {
            Some((n, ch)) => {
                if selected {
                    chosen.insert(Channel::ALL.iter().position(|&a| a == ch).unwrap_or(0));
                }
                i += n;
            }
            None => {
                let start = i;
                while i < chars.len() && !is_channel_sep(chars[i]) && !is_mark(chars[i]) {
                    i += 1;
                }
                // An unknown option left unticked changes nothing; only chosen ones matter.
                if selected {
                    unknown.push(chars[start..i].iter().collect::<String>());
                }
            }
        }
        selected = true;
    }
    if unknown.is_empty() { Ok(chosen.into_iter().map(|i| Channel::ALL[i]).collect()) } else { Err(unknown) }
}

/// The option(s) chosen in a one-of field: in checkbox notation the ■-marked pieces,
/// else the whole text. Whitespace is dropped and parentheses made full-width.
fn chosen_options(s: &str) -> Vec<String> {
    let t: String = full_parens(s).chars().filter(|c| !c.is_whitespace()).collect();
    if !t.chars().any(is_mark) {
        return if t.is_empty() { Vec::new() } else { vec![t] };
    }
    let mut out = Vec::new();
    let mut selected = false;
    let mut cur = String::new();
    for c in t.chars().chain(std::iter::once('□')) {
        if is_mark(c) {
            let piece = cur.trim_matches(|c: char| is_channel_sep(c) && c != '/').to_string();
            if selected && !piece.is_empty() {
                out.push(piece);
            }
            cur.clear();
            selected = is_selected_mark(c);
        } else {
            cur.push(c);
        }
    }
    out
}

/// One value of a one-of field. "县级、乡级" (both) and unknown text are errors.
fn parse_one_of<T: PartialEq + Copy>(
    s: &str,
    from_text: fn(&str) -> Option<T>,
    missing: &str,
    unknown: &str,
    several: &str,
) -> Result<T, String> {
    let opts = chosen_options(s);
    let mut found: Vec<T> = Vec::new();
    for o in &opts {
        let v = match from_text(o) {
            Some(v) => vec![v],
            // "县级、乡级" written without marks: read the pieces to say what is wrong.
            None => {
                let parts: Vec<Option<T>> =
                    o.split(['、', ',', '，', ';', '；', '/']).filter(|p| !p.is_empty()).map(from_text).collect();
                if parts.len() > 1 && parts.iter().all(Option::is_some) {
                    parts.into_iter().flatten().collect()
                } else {
                    return Err(unknown.to_string());
                }
            }
        };
        for x in v {
            if !found.contains(&x) {
                found.push(x);
            }
        }
    }
    match found.as_slice() {
        [] => Err(missing.to_string()),
        [one] => Ok(*one),
        _ => Err(several.to_string()),
    }
}

fn check_len(errs: &mut FieldErrors, field: &str, label: &str, v: &str, max: usize) {
    let n = v.chars().count();
    if n > max {
        errs.add(field, format!("{label}不能超过{max}个字（当前{n}个字）"));
    }
}

/// Validate an entry form or import row; every problem is reported at once, keyed by the
/// [`COLUMNS`] field names (plus `sort_order`).
pub fn validate_entry(input: &EntryInput) -> std::result::Result<EntryFields, FieldErrors> {
    let mut errs = FieldErrors::new();
    let domain_code = match input.domain.trim() {
        "" => {
            errs.add("domain", "请填写领域");
            ""
        }
        d => parse_domain(d).unwrap_or_else(|| {
            errs.add("domain", format!("领域“{d}”不是26个标准目录领域之一（可填代码如 d05，或名称如“安全生产”）"));
            ""
        }),
    };
    let seq = one_line(&input.seq);
    check_len(&mut errs, "seq", "序号", &seq, 30);
    let level1 = one_line(&input.level1);
    if level1.is_empty() {
        errs.add("level1", "请填写一级事项");
    }
    check_len(&mut errs, "level1", "一级事项", &level1, 100);
    let level2 = one_line(&input.level2);
    check_len(&mut errs, "level2", "二级事项", &level2, 100);
    let content = multi_line(&input.content);
    check_len(&mut errs, "content", "公开内容（要素）", &content, 2000);
    let basis = multi_line(&input.basis);
    check_len(&mut errs, "basis", "公开依据", &basis, 2000);
    let time_limit = multi_line(&input.time_limit);
    let limit = parse_time_limit(&time_limit);
    if time_limit.is_empty() {
        errs.add("time_limit", "请填写公开时限，如“信息形成或者变更之日起20个工作日内”");
    } else if time_limit.chars().count() > 200 {
        check_len(&mut errs, "time_limit", "公开时限", &time_limit, 200);
    } else if let TimeLimit::WorkingDays(n) | TimeLimit::Days(n) = limit
        && n > MAX_LIMIT_DAYS
    {
        errs.add("time_limit", format!("公开时限{n}天过长，请核对"));
    }
    let org = one_line(&input.org);
    check_len(&mut errs, "org", "公开主体", &org, 100);
    let channels = match parse_channels(&input.channels) {
        Ok(c) if c.is_empty() => {
            errs.add("channels", "请至少选择一个公开渠道和载体（如“政府网站”）");
            c
        }
        Ok(c) => c,
        Err(bad) => {
            let names: Vec<&str> = Channel::ALL.iter().map(|c| c.label_zh()).collect();
            errs.add("channels", format!("无法识别的公开渠道：{}。可选：{}", bad.join("、"), names.join("、")));
            Vec::new()
        }
    };
    let audience = parse_one_of(
        &input.audience,
        Audience::from_text,
        "请填写公开对象（全社会或特定群体）",
        "公开对象应为“全社会”或“特定群体”",
        "公开对象只能填一个（全社会或特定群体）",
    )
    .unwrap_or_else(|m| {
        errs.add("audience", m);
        Audience::All
    });
    let mode = parse_one_of(
        &input.mode,
        Mode::from_text,
        "请填写公开方式（主动或依申请）",
        "公开方式应为“主动”或“依申请”",
        "公开方式只能填一个（主动或依申请）",
    )
    .unwrap_or_else(|m| {
        errs.add("mode", m);
        Mode::Proactive
    });
    let tier = parse_one_of(
        &input.tier,
        Tier::from_text,
        "请填写公开层级（县级或乡级）",
        "公开层级应为“县级”或“乡级”",
        "公开层级只能填一个（县级或乡级）；两级都公开的事项请分两行填写",
    )
    .unwrap_or_else(|m| {
        errs.add("tier", m);
        Tier::County
    });
    let sort_order = match input.sort_order.trim() {
        "" => None,
        v => v.parse::<i64>().ok().or_else(|| {
            errs.add("sort_order", "排序号应为整数");
            None
        }),
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(EntryFields {
        org_name: Some(org).filter(|o| !o.is_empty()),
        domain_code: domain_code.to_string(),
        seq,
        level1,
        level2,
        content,
        basis,
        time_limit,
        limit,
        channels,
        audience,
        mode,
        tier,
        sort_order,
    })
}

/// The Chinese column label of a field key, for row-numbered import errors.
pub fn field_label(field: &str) -> &str {
    match field {
        "sort_order" => "排序",
        f => COLUMNS.iter().find(|(k, _)| *k == f).map_or(f, |(_, h)| *h),
    }
}

/// The deadline of a 公开时限 counted from 成文日期: working days on the calendar, or
/// plain days. None when the limit has no count (即时, free text).
pub fn due_date(cal: &Calendar, limit: TimeLimit, written_on: Date) -> Option<Date> {
    match limit {
        TimeLimit::WorkingDays(n) if n <= MAX_LIMIT_DAYS => Some(cal.add_working_days(written_on, n)),
        TimeLimit::Days(n) if n <= MAX_LIMIT_DAYS => written_on.checked_add(Duration::days(i64::from(n))),
        _ => None,
    }
}

/// (deadline, published within it?) for one publication; None where it cannot be judged.
pub fn judge_timeliness(
    cal: &Calendar,
    limit: TimeLimit,
    written_on: Option<&str>,
    published_on: Option<&str>,
) -> (Option<Date>, Option<bool>) {
    let Some(written) = written_on.and_then(parse_date) else { return (None, None) };
    let due = due_date(cal, limit, written);
    let within = match (due, published_on.and_then(parse_date)) {
        (Some(d), Some(p)) => Some(p <= d),
        _ => None,
    };
    (due, within)
}

// ───────────────────────────── files ─────────────────────────────

/// File formats for import and export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Xlsx,
    Csv,
}

impl Format {
    /// From an uploaded file's name (".xlsx" / ".csv", any case).
    pub fn from_filename(name: &str) -> Option<Format> {
        let lower = name.trim().to_ascii_lowercase();
        if lower.ends_with(".xlsx") {
            Some(Format::Xlsx)
        } else if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else {
            None
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// Rows of a sheet with their row number as Excel shows it (1-based).
type Sheet = Vec<(usize, Vec<String>)>;

const BOM: &str = "\u{feff}";

/// RFC 4180 records. Records end at CRLF, LF or a lone CR; quoted fields may hold
/// separators, doubled quotes and line breaks. A quote inside an unquoted field is kept
/// as text (as Excel does).
pub fn parse_csv(text: &str) -> std::result::Result<Vec<Vec<String>>, String> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut at_field_start = true;
    let mut line = 1usize;
    while let Some(c) = chars.next() {
        match c {
            '"' if at_field_start => {
                let opened_on = line;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            field.push(ch);
                        }
                        None => return Err(format!("第{opened_on}行有一个引号没有闭合")),
                    }
                }
                at_field_start = false;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                line += 1;
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                at_field_start = true;
            }
            c => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if !field.is_empty() || !record.is_empty() || !at_field_start {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// One CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn read_csv(bytes: &[u8]) -> std::result::Result<Sheet, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        "CSV 文件不是 UTF-8 编码。请在 Excel 中选择“另存为 → CSV UTF-8（逗号分隔）”后重新导入".to_string()
    })?;
    Ok(parse_csv(text)?.into_iter().enumerate().map(|(i, r)| (i + 1, r)).collect())
}

fn cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        // Whole numbers (序号 typed as 1, 2, 3) read back without ".0".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(dt) => dt.to_string(),
        Data::Error(_) | Data::Empty => String::new(),
    }
}

fn read_xlsx(bytes: &[u8]) -> std::result::Result<Sheet, String> {
    use calamine::Reader;
    let unreadable = |e: calamine::XlsxError| format!("无法读取该 Excel 文件（请确认是 .xlsx 格式）：{e}");
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(unreadable)?;
    let range = match wb.worksheet_range_at(0) {
        Some(r) => r.map_err(unreadable)?,
        None => return Err("Excel 文件中没有工作表".to_string()),
    };
    // The range starts at the first used cell; keep row numbers as Excel shows them.
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    Ok(range.rows().enumerate().map(|(i, r)| (first_row + i + 1, r.iter().map(cell_text).collect())).collect())
}

fn read_sheet(format: Format, bytes: &[u8]) -> std::result::Result<Sheet, String> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(format!("文件过大（超过 {} MB），请分领域导入", MAX_IMPORT_BYTES / 1024 / 1024));
    }
    let is_zip = bytes.starts_with(b"PK\x03\x04");
    match format {
        Format::Csv if is_zip => Err("这是一个 Excel（.xlsx）文件，请按 Excel 格式导入".to_string()),
        Format::Csv => read_csv(bytes),
        Format::Xlsx if !is_zip => Err("这不是 .xlsx 文件（旧版 .xls 请先在 Excel 中另存为 .xlsx）".to_string()),
        Format::Xlsx => read_xlsx(bytes),
    }
}

/// Header text compared without spaces, "*" required-markers, or parenthesis width.
fn normalize_header(s: &str) -> String {
    full_parens(s).chars().filter(|c| !c.is_whitespace() && !matches!(c, '*' | '＊')).collect()
}

/// The field key a header cell names, if any.
fn header_key(cell: &str) -> Option<&'static str> {
    let h = normalize_header(cell);
    if h.is_empty() {
        return None;
    }
    for (key, header) in COLUMNS {
        let bare = header.split('（').next().unwrap_or(header);
        if h == header || h == bare {
            return Some(key);
        }
    }
    HEADER_ALIASES.iter().find(|(a, _)| *a == h).map(|(_, k)| *k)
}

fn blank(cells: &[String]) -> bool {
    cells.iter().all(|c| c.trim().is_empty())
}

/// The import rows as forms, with their row numbers. The header is the first row naming
/// 一级事项 among the first few (a title row above it is allowed); a missing required
/// column is one error naming all of them.
fn rows_to_inputs(sheet: &Sheet) -> std::result::Result<Vec<(usize, EntryInput)>, String> {
    let non_blank: Vec<&(usize, Vec<String>)> = sheet.iter().filter(|(_, c)| !blank(c)).collect();
    if non_blank.is_empty() {
        return Err("文件是空的：第1行应为表头（序号、领域、一级事项……）".to_string());
    }
    let header_at = non_blank
        .iter()
        .take(10)
        .position(|(_, cells)| cells.iter().any(|c| header_key(c) == Some("level1")))
        .unwrap_or(0);
    let (header_row, header) = non_blank[header_at];
    let mut col_of: HashMap<&str, usize> = HashMap::new();
    for (i, cell) in header.iter().enumerate() {
        if let Some(k) = header_key(cell) {
            col_of.entry(k).or_insert(i);
        }
    }
    let missing: Vec<&str> =
        REQUIRED_COLUMNS.iter().filter(|k| !col_of.contains_key(*k)).map(|k| field_label(k)).collect();
    if !missing.is_empty() {
        let all: Vec<&str> = COLUMNS.iter().map(|(_, h)| *h).collect();
        return Err(format!("第{header_row}行表头缺少：{}。表头应依次为：{}", missing.join("、"), all.join("、")));
    }
    let data: Vec<&(usize, Vec<String>)> =
        sheet.iter().filter(|(row, cells)| *row > *header_row && !blank(cells)).collect();
    if data.len() > MAX_IMPORT_ROWS {
        return Err(format!("一次最多导入{MAX_IMPORT_ROWS}行（本文件{}行），请分领域导入", data.len()));
    }
    let get = |cells: &[String], key: &str| -> String {
        col_of.get(key).and_then(|&i| cells.get(i)).cloned().unwrap_or_default()
    };
    Ok(data
        .into_iter()
        .map(|(row, cells)| {
            let input = EntryInput {
                seq: get(cells, "seq"),
                domain: get(cells, "domain"),
                level1: get(cells, "level1"),
                level2: get(cells, "level2"),
                content: get(cells, "content"),
                basis: get(cells, "basis"),
                time_limit: get(cells, "time_limit"),
                org: get(cells, "org"),
                channels: get(cells, "channels"),
                audience: get(cells, "audience"),
                mode: get(cells, "mode"),
                tier: get(cells, "tier"),
                sort_order: String::new(),
            };
            (*row, input)
        })
        .collect())
}

/// Display width of a text in Excel column units: CJK and full-width characters take two.
pub fn display_width(s: &str) -> usize {
    s.lines()
        .map(|l| {
            l.chars()
                .map(|c| {
                    let u = c as u32;
                    let wide = matches!(u,
                        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
                        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD
                        | 0x25A0..=0x25A1);
                    if wide { 2 } else { 1 }
                })
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
}

/// Column width for a column's cells: the widest line plus a margin, kept readable.
fn column_width(cells: &[&str]) -> f64 {
    let w = cells.iter().map(|c| display_width(c)).max().unwrap_or(0);
    (w + 2).clamp(6, 60) as f64
}

/// An entry as an export row, in [`COLUMNS`] order.
fn export_row(e: &Entry, org_name: Option<&str>) -> [String; 12] {
    [
        e.seq.clone(),
        e.domain_label().to_string(),
        e.level1.clone(),
        e.level2.clone(),
        e.content.clone(),
        e.basis.clone(),
        e.time_limit.clone(),
        org_name.unwrap_or("").to_string(),
        e.channel_labels(),
        e.audience_label().to_string(),
        e.mode_label().to_string(),
        e.tier_label().to_string(),
    ]
}

/// UTF-8 CSV with BOM (so Excel opens it as UTF-8) and CRLF line ends.
pub fn write_csv(rows: &[[String; 12]]) -> Vec<u8> {
    let mut out = String::from(BOM);
    let header: Vec<String> = COLUMNS.iter().map(|(_, h)| csv_field(h)).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| csv_field(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// XLSX with a bold, frozen header row and column widths sized for Chinese text.
pub fn write_xlsx(rows: &[[String; 12]]) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format as XFormat, FormatAlign, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| Error::internal(format!("生成 Excel 文件失败：{e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("标准目录").map_err(x)?;
    let bold = XFormat::new().set_bold().set_align(FormatAlign::Center).set_align(FormatAlign::VerticalCenter);
    let body = XFormat::new().set_text_wrap().set_align(FormatAlign::Top);
    for (col, (_, h)) in COLUMNS.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, *h, &bold).map_err(x)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(|_| Error::internal("行数过多"))?;
        for (col, v) in r.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string_with_format(row, col as u16, v, &body).map_err(x)?;
            }
        }
    }
    for (col, (_, h)) in COLUMNS.iter().enumerate() {
        let cells: Vec<&str> = std::iter::once(*h).chain(rows.iter().map(|r| r[col].as_str())).collect();
        ws.set_column_width(col as u16, column_width(&cells)).map_err(x)?;
    }
    ws.set_freeze_panes(1, 0).map_err(x)?;
    wb.save_to_buffer().map_err(x)
}

// ───────────────────────────── store ─────────────────────────────

const ENTRY_COLS: &str = "id, org_id, domain_code, seq, level1, level2, content, basis, time_limit, time_limit_kind, \
     time_limit_n, channels, audience, mode, tier, sort_order, created_at, updated_at";

async fn get_entry(c: &mut Conn<'_>, id: i64) -> Result<Option<Entry>> {
    let sql = format!("SELECT {ENTRY_COLS} FROM catalogue_entries WHERE id = $1");
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Entry>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **x).await
    })?)
}

async fn all_entries(c: &mut Conn<'_>) -> Result<Vec<Entry>> {
    let sql = format!("SELECT {ENTRY_COLS} FROM catalogue_entries ORDER BY domain_code, sort_order, id");
    Ok(with_conn!(c, x => sqlx::query_as::<_, Entry>(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **x).await)?)
}

/// The entry with the identifying key (domain, 一级事项, 二级事项, 公开主体).
async fn entry_by_key(c: &mut Conn<'_>, f: &EntryFields, org_id: Option<i64>) -> Result<Option<Entry>> {
    // COALESCE keeps one SQL text for a nullable key on both backends.
    let sql = format!(
        "SELECT {ENTRY_COLS} FROM catalogue_entries WHERE domain_code = $1 AND level1 = $2 AND level2 = $3
         AND COALESCE(org_id, 0) = COALESCE($4, 0) ORDER BY id LIMIT 1"
    );
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Entry>(sqlx::AssertSqlSafe(sql))
            .bind(&f.domain_code).bind(&f.level1).bind(&f.level2).bind(org_id)
            .fetch_optional(&mut **x).await
    })?)
}

async fn insert_entry(c: &mut Conn<'_>, f: &EntryFields, org_id: Option<i64>) -> Result<i64> {
    let (kind, n) = f.limit_columns();
    let channels = f.channel_codes();
    let now = now_ms();
    // New entries go to the end of their domain unless a sort order is given.
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO catalogue_entries (org_id, domain_code, seq, level1, level2, content, basis, time_limit,
                time_limit_kind, time_limit_n, channels, audience, mode, tier, sort_order, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                COALESCE($15, (SELECT COALESCE(MAX(sort_order), 0) + 1 FROM catalogue_entries WHERE domain_code = $2)),
                $16, $16)
             RETURNING id",
        )
        .bind(org_id).bind(&f.domain_code).bind(&f.seq).bind(&f.level1).bind(&f.level2).bind(&f.content)
        .bind(&f.basis).bind(&f.time_limit).bind(kind).bind(n).bind(&channels).bind(f.audience.as_str())
        .bind(f.mode.as_str()).bind(f.tier.as_str()).bind(f.sort_order).bind(now)
        .fetch_one(&mut **x).await
    })?)
}

async fn update_entry_row(c: &mut Conn<'_>, id: i64, f: &EntryFields, org_id: Option<i64>) -> Result<()> {
    let (kind, n) = f.limit_columns();
    let channels = f.channel_codes();
    let now = now_ms();
    with_conn!(c, x => {
        sqlx::query(
            "UPDATE catalogue_entries SET org_id = $1, domain_code = $2, seq = $3, level1 = $4, level2 = $5,
                content = $6,
                basis = $7, time_limit = $8, time_limit_kind = $9, time_limit_n = $10, channels = $11, audience = $12,
                mode = $13, tier = $14, sort_order = COALESCE($15, sort_order), updated_at = $16
             WHERE id = $17",
        )
        .bind(org_id).bind(&f.domain_code).bind(&f.seq).bind(&f.level1).bind(&f.level2).bind(&f.content)
        .bind(&f.basis).bind(&f.time_limit).bind(kind).bind(n).bind(&channels).bind(f.audience.as_str())
        .bind(f.mode.as_str()).bind(f.tier.as_str()).bind(f.sort_order).bind(now).bind(id)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Would writing `f` change the stored entry? (Unchanged rows are not rewritten, so an
/// import of an exported file leaves every entry, timestamps included, as it was.)
fn differs(e: &Entry, f: &EntryFields, org_id: Option<i64>) -> bool {
    let (kind, n) = f.limit_columns();
    e.org_id != org_id
        || e.domain_code != f.domain_code
        || e.seq != f.seq
        || e.level1 != f.level1
        || e.level2 != f.level2
        || e.content != f.content
        || e.basis != f.basis
        || e.time_limit != f.time_limit
        || e.time_limit_kind != kind
        || e.time_limit_n != n
        || e.channels != f.channel_codes()
        || e.audience != f.audience.as_str()
        || e.mode != f.mode.as_str()
        || e.tier != f.tier.as_str()
        || f.sort_order.is_some_and(|s| s != e.sort_order)
}

async fn link_count(c: &mut Conn<'_>, entry_id: i64) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("SELECT COUNT(*) FROM item_catalogue WHERE entry_id = $1")
            .bind(entry_id).fetch_one(&mut **x).await
    })?)
}

/// (entry id, item id, title, published_on, written_on) of every live linked item.
type LinkRow = (i64, i64, String, Option<String>, Option<String>);

async fn live_links(c: &mut Conn<'_>) -> Result<Vec<LinkRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as(
            "SELECT ic.entry_id, i.id, i.title, i.published_on, i.written_on
             FROM item_catalogue ic JOIN items i ON i.id = ic.item_id WHERE i.live = TRUE",
        )
        .fetch_all(&mut **x).await
    })?)
}

/// Organisation names → ids (a name may be shared; the caller refuses ambiguity).
async fn org_names(c: &mut Conn<'_>) -> Result<(HashMap<String, Vec<i64>>, HashMap<i64, String>)> {
    let orgs = gongkai_kernel::org::store::all(c).await?;
    let mut by_name: HashMap<String, Vec<i64>> = HashMap::new();
    let mut by_id = HashMap::new();
    for o in orgs {
        by_name.entry(o.name.clone()).or_default().push(o.id);
        by_id.insert(o.id, o.name);
    }
    Ok((by_name, by_id))
}

fn resolve_org(by_name: &HashMap<String, Vec<i64>>, name: &str) -> std::result::Result<Option<i64>, String> {
    let name = one_line(name);
    if name.is_empty() {
        return Ok(None);
    }
    match by_name.get(&name).map(Vec::as_slice) {
        Some([id]) => Ok(Some(*id)),
        Some(_) => Err(format!("有多个机构名为“{name}”，请先在机构管理中区分名称")),
        None => Err(format!("公开主体“{name}”不是本平台的机构（请填写机构全称，如“青禾区教育局”）")),
    }
}

// ───────────────────────────── service ─────────────────────────────

fn may_change(who: &Principal) -> Result<()> {
    if who.has(Perm::ContentReview) || who.has(Perm::SettingsManage) {
        Ok(())
    } else {
        Err(Error::Forbidden("只有审核人员或系统管理员可以维护标准目录".into()))
    }
}

const DUPLICATE: &str = "该领域已有相同的一级事项、二级事项和公开主体，请勿重复添加";

/// Validation plus the organisation lookup, as one set of field errors.
async fn checked(c: &mut Conn<'_>, input: &EntryInput) -> Result<(EntryFields, Option<i64>)> {
    let (by_name, _) = org_names(c).await?;
    let org = resolve_org(&by_name, &input.org);
    match (validate_entry(input), org) {
        (Ok(f), Ok(o)) => Ok((f, o)),
        (v, o) => {
            let mut errs = v.err().unwrap_or_default();
            if let Err(m) = o {
                errs.add("org", m);
            }
            Err(Error::Invalid(errs))
        }
    }
}

fn entry_summary(e: &Entry) -> serde_json::Value {
    json!({ "domain": e.domain_code, "level1": e.level1, "level2": e.level2, "org_id": e.org_id,
            "time_limit": e.time_limit, "channels": e.channels, "audience": e.audience, "mode": e.mode,
            "tier": e.tier })
}

pub async fn entry(db: &Db, id: i64) -> Result<Entry> {
    let mut h = db.read().await?;
    get_entry(&mut h.conn(), id).await?.ok_or(Error::NotFound)
}

/// Add an entry to the catalogue.
pub async fn create_entry(db: &Db, who: &Principal, ip: &str, input: &EntryInput) -> Result<Entry> {
    may_change(who)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let (f, org_id) = checked(&mut c, input).await?;
    if entry_by_key(&mut c, &f, org_id).await?.is_some() {
        return Err(Error::field("level1", DUPLICATE));
    }
    let id = insert_entry(&mut c, &f, org_id).await?;
    let e = get_entry(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, &who.actor(ip), "catalogue.create", "catalogue_entry", id, entry_summary(&e)).await?;
    outbox::emit(&mut c, "catalogue.changed", id, json!({ "op": "create" })).await?;
    tx.commit().await?;
    Ok(e)
}

/// Change an entry; the key may change as long as it stays unique.
pub async fn update_entry(db: &Db, who: &Principal, ip: &str, id: i64, input: &EntryInput) -> Result<Entry> {
    may_change(who)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = get_entry(&mut c, id).await?.ok_or(Error::NotFound)?;
    let (f, org_id) = checked(&mut c, input).await?;
    if entry_by_key(&mut c, &f, org_id).await?.is_some_and(|other| other.id != id) {
        return Err(Error::field("level1", DUPLICATE));
    }
    update_entry_row(&mut c, id, &f, org_id).await?;
    let after = get_entry(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "catalogue.update",
        "catalogue_entry",
        id,
        json!({ "before": entry_summary(&before), "after": entry_summary(&after) }),
    )
    .await?;
    outbox::emit(&mut c, "catalogue.changed", id, json!({ "op": "update" })).await?;
    tx.commit().await?;
    Ok(after)
}

/// Remove an entry. Refused while items are linked to it, so no item loses its
/// catalogue classification silently.
pub async fn delete_entry(db: &Db, who: &Principal, ip: &str, id: i64) -> Result<()> {
    may_change(who)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let e = get_entry(&mut c, id).await?.ok_or(Error::NotFound)?;
    let n = link_count(&mut c, id).await?;
    if n > 0 {
        return Err(Error::Conflict(format!(
            "目录事项“{}”已关联 {n} 条信息，不能删除。请先取消这些信息与该事项的关联。",
            e.level1
        )));
    }
    with_conn!(&mut c, x => {
        sqlx::query("DELETE FROM catalogue_entries WHERE id = $1")
            .bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    audit::append(&mut c, &who.actor(ip), "catalogue.delete", "catalogue_entry", id, entry_summary(&e)).await?;
    outbox::emit(&mut c, "catalogue.changed", id, json!({ "op": "delete" })).await?;
    tx.commit().await
}

/// Record that an item fulfils a catalogue entry. Linking twice changes nothing.
pub async fn link_item(db: &Db, who: &Principal, ip: &str, item_id: i64, entry_id: i64) -> Result<()> {
    may_change(who)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    get_entry(&mut c, entry_id).await?.ok_or_else(|| Error::field("entry_id", "目录事项不存在"))?;
    let item = crate::store::item(&mut c, item_id).await?.ok_or_else(|| Error::field("item_id", "信息不存在"))?;
    let added = with_conn!(&mut c, x => {
        sqlx::query("INSERT INTO item_catalogue (item_id, entry_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(item_id).bind(entry_id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    if added > 0 {
        audit::append(
            &mut c,
            &who.actor(ip),
            "catalogue.link",
            "catalogue_entry",
            entry_id,
            json!({ "item": item_id, "title": item.title }),
        )
        .await?;
        outbox::emit(&mut c, "catalogue.changed", entry_id, json!({ "op": "link", "item": item_id })).await?;
    }
    tx.commit().await
}

/// Undo [`link_item`]. Unlinking what is not linked changes nothing.
pub async fn unlink_item(db: &Db, who: &Principal, ip: &str, item_id: i64, entry_id: i64) -> Result<()> {
    may_change(who)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let removed = with_conn!(&mut c, x => {
        sqlx::query("DELETE FROM item_catalogue WHERE item_id = $1 AND entry_id = $2")
            .bind(item_id).bind(entry_id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    if removed > 0 {
        audit::append(
            &mut c,
            &who.actor(ip),
            "catalogue.unlink",
            "catalogue_entry",
            entry_id,
            json!({ "item": item_id }),
        )
        .await?;
        outbox::emit(&mut c, "catalogue.changed", entry_id, json!({ "op": "unlink", "item": item_id })).await?;
    }
    tx.commit().await
}

/// The entries an item is linked to (for the item form).
pub async fn entries_of_item(db: &Db, item_id: i64) -> Result<Vec<Entry>> {
    let sql = format!(
        "SELECT {} FROM catalogue_entries e JOIN item_catalogue ic ON ic.entry_id = e.id WHERE ic.item_id = $1
         ORDER BY e.domain_code, e.sort_order, e.id",
        ENTRY_COLS.split(", ").map(|c| format!("e.{c}")).collect::<Vec<_>>().join(", ")
    );
    let mut h = db.read().await?;
    let mut c = h.conn();
    Ok(with_conn!(&mut c, x => {
        sqlx::query_as::<_, Entry>(sqlx::AssertSqlSafe(sql)).bind(item_id).fetch_all(&mut **x).await
    })?)
}

/// A live item linked to an entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedItem {
    pub id: i64,
    pub title: String,
    pub published_on: Option<String>,
    pub written_on: Option<String>,
}

/// An entry as the catalogue screen shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EntryView {
    pub entry: Entry,
    pub org_name: Option<String>,
    /// Live linked items, latest publication first.
    pub items: Vec<LinkedItem>,
    /// Latest 发布日期 among the live linked items.
    pub last_published_on: Option<String>,
    /// Deadline for that latest item, from its 成文日期 and the 公开时限.
    pub due_on: Option<String>,
    /// Was the latest publication within the 公开时限? None when it cannot be judged
    /// (no linked item, no 成文日期, or a limit without a count).
    pub within_limit: Option<bool>,
}

/// The catalogue grouped by the 26 domains, in order: (code, label, entries). Entries of
/// a code outside the list (should one be added later) follow at the end.
pub async fn list_by_domain(db: &Db) -> Result<Vec<(String, String, Vec<EntryView>)>> {
    let (entries, links, orgs) = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        let entries = all_entries(&mut c).await?;
        let links = live_links(&mut c).await?;
        let (_, orgs) = org_names(&mut c).await?;
        (entries, links, orgs)
    };
    let cal = gongkai_kernel::calendar::service::load(db).await?;
    let mut items_of: HashMap<i64, Vec<LinkedItem>> = HashMap::new();
    for (entry_id, id, title, published_on, written_on) in links {
        items_of.entry(entry_id).or_default().push(LinkedItem { id, title, published_on, written_on });
    }
    let mut groups: Vec<(String, String, Vec<EntryView>)> =
        DOMAINS.iter().map(|(c, l)| (c.to_string(), l.to_string(), Vec::new())).collect();
    for e in entries {
        let mut items = items_of.remove(&e.id).unwrap_or_default();
        // Latest first; 'YYYY-MM-DD' text sorts as dates, undated last.
        items.sort_by(|a, b| b.published_on.cmp(&a.published_on).then(b.id.cmp(&a.id)));
        let last = items.first().filter(|i| i.published_on.is_some());
        let (due, within) = match last {
            Some(i) => judge_timeliness(&cal, e.limit(), i.written_on.as_deref(), i.published_on.as_deref()),
            None => (None, None),
        };
        let view = EntryView {
            org_name: e.org_id.and_then(|o| orgs.get(&o).cloned()),
            last_published_on: last.and_then(|i| i.published_on.clone()),
            due_on: due.map(fmt_date),
            within_limit: within,
            items,
            entry: e,
        };
        match groups.iter_mut().find(|g| g.0 == view.entry.domain_code) {
            Some(g) => g.2.push(view),
            None => {
                let code = view.entry.domain_code.clone();
                groups.push((code.clone(), code, vec![view]));
            }
        }
    }
    Ok(groups)
}

/// A rejected import row: its number as Excel shows it (header = row 1) and the
/// problems as (column header, message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub errors: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// New entries.
    pub created: usize,
    /// Rows matching an existing entry (rewritten only where something differs).
    pub updated: usize,
    pub rejected: Vec<RowError>,
}

/// Import a catalogue file. Every valid row is written in one transaction (all or
/// nothing for the valid set); invalid rows are reported by row number and do not block
/// the others. Rows are matched to entries by (领域, 一级事项, 二级事项, 公开主体), so
/// importing the same file again creates nothing.
pub async fn import(db: &Db, who: &Principal, ip: &str, format: Format, bytes: &[u8]) -> Result<ImportReport> {
    may_change(who)?;
    // Parsing happens before the transaction: a large file must not hold the writer.
    let rows = read_sheet(format, bytes).and_then(|s| rows_to_inputs(&s)).map_err(|m| Error::field("file", m))?;
    let mut report = ImportReport::default();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let (by_name, _) = org_names(&mut c).await?;
    let mut good: Vec<(EntryFields, Option<i64>)> = Vec::new();
    let mut first_row_of: HashMap<(String, String, String, Option<i64>), usize> = HashMap::new();
    for (row, input) in &rows {
        let mut errs = FieldErrors::new();
        let fields = validate_entry(input).map_err(|e| errs = e).ok();
        let org_id = resolve_org(&by_name, &input.org).map_err(|m| errs.add("org", m)).ok().flatten();
        if let Some(f) = &fields {
            let key = (f.domain_code.clone(), f.level1.clone(), f.level2.clone(), org_id);
            if let Some(first) = first_row_of.get(&key) {
                errs.add("level1", format!("与第{first}行重复（领域、一级事项、二级事项、公开主体都相同）"));
            } else if errs.is_empty() {
                first_row_of.insert(key, *row);
            }
        }
        match fields {
            Some(f) if errs.is_empty() => good.push((f, org_id)),
            _ => report.rejected.push(RowError {
                row: *row,
                errors: errs.0.into_iter().map(|(k, m)| (field_label(&k).to_string(), m)).collect(),
            }),
        }
    }
    let existing = all_entries(&mut c).await?;
    let mut by_key: HashMap<(String, String, String, Option<i64>), Entry> = existing
        .into_iter()
        .map(|e| ((e.domain_code.clone(), e.level1.clone(), e.level2.clone(), e.org_id), e))
        .collect();
    let mut changed = 0usize;
    for (f, org_id) in &good {
        let key = (f.domain_code.clone(), f.level1.clone(), f.level2.clone(), *org_id);
        match by_key.remove(&key) {
            Some(e) => {
                if differs(&e, f, *org_id) {
                    update_entry_row(&mut c, e.id, f, *org_id).await?;
                    changed += 1;
                }
                report.updated += 1;
            }
            None => {
                insert_entry(&mut c, f, *org_id).await?;
                report.created += 1;
            }
        }
    }
    let summary = json!({ "format": format.extension(), "rows": rows.len(), "created": report.created,
                          "updated": report.updated, "changed": changed, "rejected": report.rejected.len(),
                          "rejected_rows": report.rejected.iter().map(|r| r.row).collect::<Vec<_>>() });
    audit::append(&mut c, &who.actor(ip), "catalogue.import", "catalogue", 0, summary).await?;
    if report.created + changed > 0 {
        outbox::emit(
            &mut c,
            "catalogue.changed",
            0,
            json!({ "op": "import", "created": report.created, "changed": changed }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(report)
}

/// The whole catalogue as a file, in domain order; it imports back unchanged.
pub async fn export(db: &Db, format: Format) -> Result<Vec<u8>> {
    let (entries, orgs) = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        let entries = all_entries(&mut c).await?;
        let (_, orgs) = org_names(&mut c).await?;
        (entries, orgs)
    };
    let rows: Vec<[String; 12]> =
        entries.iter().map(|e| export_row(e, e.org_id.and_then(|o| orgs.get(&o)).map(String::as_str))).collect();
    match format {
        Format::Csv => Ok(write_csv(&rows)),
        Format::Xlsx => write_xlsx(&rows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gongkai_kernel::calendar::rules::{DayKind, SpecialDay};

    fn input(domain: &str, channels: &str) -> EntryInput {
        EntryInput {
            domain: domain.into(),
            level1: "征收土地信息".into(),
            time_limit: "信息形成或者变更之日起20个工作日内".into(),
            channels: channels.into(),
            audience: "全社会".into(),
            mode: "主动".into(),
            tier: "县级".into(),
            ..Default::default()
        }
    }

    #[test]
    fn domains_by_code_or_label() {
        assert_eq!(parse_domain("d05"), Some("d05"));
        assert_eq!(parse_domain(" D07 "), Some("d07"));
        assert_eq!(parse_domain("安全生产"), Some("d05"));
        assert_eq!(parse_domain("义务教育领域"), Some("d17"));
        assert_eq!(parse_domain("d27"), None);
        assert_eq!(parse_domain("宇宙探索"), None);
        assert_eq!(parse_domain(""), None);
    }

    #[test]
    fn channels_in_every_notation() {
        use Channel::*;
        let ok: &[(&str, &[Channel])] = &[
            ("政府网站", &[Website]),
            ("website,new_media", &[Website, NewMedia]),
            ("WEBSITE", &[Website]),
            (
                "政府网站、政府公报，两微一端;发布会/听证会；广播电视 纸质媒体\u{3000}公开查阅点",
                &[Website, Gazette, NewMedia, PressHearing, Broadcast, Print, ReadingPoint],
            ),
            ("■政府网站 □政府公报 ■两微一端", &[Website, NewMedia]),
            ("■政府网站□政府公报■两微一端□发布会/听证会", &[Website, NewMedia]),
            ("□政府网站 ■社区/企事业单位/村公示栏（电子屏）", &[BulletinBoard]),
            ("社区/企事业单位/村公示栏(电子屏)、入户/现场", &[OnSite, BulletinBoard]),
            ("两微一端、政府网站、政府网站", &[Website, NewMedia]),
            ("■其他（村务微信群）", &[Other]),
            ("□其他____ ■精准推送", &[TargetedPush]),
            ("□某某平台 ■政府网站", &[Website]),
            ("", &[]),
            ("□政府网站 □政府公报", &[]),
        ];
        for &(s, want) in ok {
            assert_eq!(parse_channels(s), Ok(want.to_vec()), "{s:?}");
        }
        assert_eq!(parse_channels("政府网站群、飞鸽传书"), Err(vec!["政府网站群".to_string(), "飞鸽传书".to_string()]));
        assert_eq!(parse_channels("■某某平台"), Err(vec!["某某平台".to_string()]));
        // Every label reads back as itself (export writes labels).
        for ch in Channel::ALL {
            assert_eq!(parse_channels(ch.label_zh()), Ok(vec![ch]), "{ch:?}");
            assert_eq!(parse_channels(ch.as_str()), Ok(vec![ch]), "{ch:?}");
        }
        let all: Vec<&str> = Channel::ALL.iter().map(|c| c.label_zh()).collect();
        assert_eq!(parse_channels(&all.join("、")), Ok(Channel::ALL.to_vec()));
    }

    #[test]
    fn one_of_fields() {
        let v = |s: &str| validate_entry(&EntryInput { tier: s.into(), ..input("d07", "政府网站") }).map(|f| f.tier);
        assert_eq!(v("县级"), Ok(Tier::County));
        assert_eq!(v("区级"), Ok(Tier::County));
        assert_eq!(v("乡级"), Ok(Tier::Township));
        assert_eq!(v("乡、村级"), Ok(Tier::Township));
        assert_eq!(v("■县级 □乡级"), Ok(Tier::County));
        assert_eq!(v("□县级 ■乡级"), Ok(Tier::Township));
        let e = v("县级、乡级").unwrap_err();
        assert!(e.get("tier").unwrap().contains("只能填一个"), "{e:?}");
        assert!(v("省级").unwrap_err().get("tier").unwrap().contains("应为"));
        assert!(v("").unwrap_err().get("tier").unwrap().contains("请填写"));
        let a = |s: &str| {
            validate_entry(&EntryInput { audience: s.into(), ..input("d07", "政府网站") }).map(|f| f.audience)
        };
        assert_eq!(a("特定群体(群众)"), Ok(Audience::Specific));
        assert_eq!(a("特定群体（群众）"), Ok(Audience::Specific));
        assert_eq!(a(" 全社会 "), Ok(Audience::All));
        assert_eq!(a("■全社会 □特定群体"), Ok(Audience::All));
        let m = |s: &str| validate_entry(&EntryInput { mode: s.into(), ..input("d07", "政府网站") }).map(|f| f.mode);
        assert_eq!(m("依申请公开"), Ok(Mode::OnRequest));
        assert_eq!(m("依申请"), Ok(Mode::OnRequest));
        assert_eq!(m("主动公开"), Ok(Mode::Proactive));
        assert_eq!(m("proactive"), Ok(Mode::Proactive));
    }

    #[test]
    fn validation_reports_everything_at_once() {
        let bad = EntryInput {
            domain: "宇宙探索".into(),
            level1: "字".repeat(101),
            time_limit: String::new(),
            channels: "飞鸽传书".into(),
            audience: "外星人".into(),
            mode: "".into(),
            tier: "省级".into(),
            sort_order: "x".into(),
            ..Default::default()
        };
        let e = validate_entry(&bad).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            ["domain", "level1", "time_limit", "channels", "audience", "mode", "tier", "sort_order"],
            "{e:?}"
        );
        assert!(e.get("level1").unwrap().contains("当前101个字"));
        assert!(e.get("channels").unwrap().contains("飞鸽传书"));
        let f = validate_entry(&EntryInput {
            level1: " 征收土地\n信息 ".into(),
            org: " 青禾区人民政府 ".into(),
            content: "位置、四至\r\n面积\u{0}".into(),
            ..input("征地补偿", "■政府网站 □政府公报")
        })
        .unwrap();
        assert_eq!(f.domain_code, "d07");
        assert_eq!(f.level1, "征收土地信息");
        assert_eq!(f.content, "位置、四至\n面积");
        assert_eq!(f.org_name.as_deref(), Some("青禾区人民政府"));
        assert_eq!(f.limit, TimeLimit::WorkingDays(20));
        assert_eq!(f.limit_columns(), ("working_days", Some(20)));
        assert_eq!(f.channel_codes(), "website");
        let long =
            validate_entry(&EntryInput { time_limit: "99999个工作日".into(), ..input("d07", "政府网站") });
        assert!(long.unwrap_err().get("time_limit").unwrap().contains("过长"));
        let free =
            validate_entry(&EntryInput { time_limit: "每年3月底前".into(), ..input("d07", "政府网站") });
        assert_eq!(free.unwrap().limit_columns(), ("unparsed", None));
    }

    #[test]
    fn csv_reading_and_writing() {
        let text = "\u{feff}a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n\r\nlast,,\n";
        let recs = parse_csv(text).unwrap();
        assert_eq!(
            recs,
            vec![vec!["a", "b", "c"], vec!["x, y", "say \"hi\"", "two\nlines"], vec![""], vec!["last", "", ""],]
        );
        assert_eq!(parse_csv("a,b").unwrap(), vec![vec!["a", "b"]]);
        assert_eq!(parse_csv("a\rb\n").unwrap(), vec![vec!["a"], vec!["b"]]);
        assert_eq!(parse_csv("ab\"c,d").unwrap(), vec![vec!["ab\"c", "d"]]);
        assert_eq!(parse_csv("\"\"").unwrap(), vec![vec![""]]);
        assert!(parse_csv("a\n\"open,b\nc").unwrap_err().contains("第2行"));
        assert_eq!(parse_csv("").unwrap(), Vec::<Vec<String>>::new());
        for s in ["plain", "a,b", "q\"q", "l1\nl2", " pad"] {
            let line = csv_field(s);
            assert_eq!(parse_csv(&line).unwrap(), vec![vec![s.to_string()]], "{s:?}");
        }
        // Row numbers count records, as Excel shows them (a quoted line break stays in one row).
        let sheet = read_csv("h\r\n\"a\nb\"\r\nc\r\n".as_bytes()).unwrap();
        assert_eq!(sheet.iter().map(|(r, _)| *r).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(read_csv(&[0xC7, 0xE0, 0xBA, 0xCC]).unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn headers_are_matched_tolerantly() {
        assert_eq!(header_key("公开内容（要素）"), Some("content"));
        assert_eq!(header_key("公开内容(要素)"), Some("content"));
        assert_eq!(header_key(" 公开 内容 "), Some("content"));
        assert_eq!(header_key("*一级事项"), Some("level1"));
        assert_eq!(header_key("公开渠道和载体"), Some("channels"));
        assert_eq!(header_key("公开责任主体"), Some("org"));
        assert_eq!(header_key("备注"), None);
        let row = |cells: &[&str]| cells.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let all: Vec<&str> = COLUMNS.iter().map(|(_, h)| *h).collect();
        // A title row above the header is skipped; row numbers stay as in the file.
        let sheet: Sheet = vec![
            (1, row(&["青禾区征地补偿领域基层政务公开标准目录"])),
            (2, row(&all)),
            (3, row(&["", "", "", "", "", "", "", "", "", "", "", ""])),
            (4, row(&["1", "d07", "征收土地信息"])),
        ];
        let inputs = rows_to_inputs(&sheet).unwrap();
        assert_eq!(inputs.len(), 1);
        assert_eq!((inputs[0].0, inputs[0].1.level1.as_str(), inputs[0].1.tier.as_str()), (4, "征收土地信息", ""));
        let missing: Sheet = vec![(1, row(&["序号", "领域", "一级事项", "公开时限"]))];
        let err = rows_to_inputs(&missing).unwrap_err();
        assert!(err.contains("公开渠道和载体、公开对象、公开方式、公开层级"), "{err}");
        assert!(rows_to_inputs(&Vec::new()).unwrap_err().contains("空"));
    }

    #[test]
    fn widths_count_cjk_double() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("一级事项"), 8);
        assert_eq!(display_width("公开内容（要素）"), 16);
        assert_eq!(display_width("■政府网站"), 10);
        assert_eq!(display_width("短\n较长的一行"), 10);
        assert_eq!(column_width(&["序号", "1"]), 6.0);
        assert_eq!(column_width(&["一级事项", "征收土地信息"]), 14.0);
        assert_eq!(column_width(&[&"字".repeat(100)]), 60.0);
    }

    #[test]
    fn xlsx_written_reads_back() {
        let e = Entry {
            id: 1,
            org_id: None,
            domain_code: "d17".into(),
            seq: "1701-01".into(),
            level1: "办学信息".into(),
            level2: String::new(),
            content: "学校基本情况\n招生范围".into(),
            basis: "《中华人民共和国义务教育法》".into(),
            time_limit: "信息形成或者变更之日起20个工作日内".into(),
            time_limit_kind: "working_days".into(),
            time_limit_n: Some(20),
            channels: "website,new_media".into(),
            audience: "all".into(),
            mode: "proactive".into(),
            tier: "county".into(),
            sort_order: 1,
            created_at: 0,
            updated_at: 0,
        };
        let rows = vec![export_row(&e, Some("青禾区教育局"))];
        let bytes = write_xlsx(&rows).unwrap();
        let sheet = read_sheet(Format::Xlsx, &bytes).unwrap();
        let inputs = rows_to_inputs(&sheet).unwrap();
        assert_eq!(inputs.len(), 1);
        let (row, i) = &inputs[0];
        assert_eq!(*row, 2);
        assert_eq!(
            (i.domain.as_str(), i.content.as_str(), i.org.as_str()),
            ("义务教育", "学校基本情况\n招生范围", "青禾区教育局")
        );
        let f = validate_entry(i).unwrap();
        assert_eq!(f.channel_codes(), e.channels);
        assert!(!differs(&e, &f, None));
        let csv = write_csv(&rows);
        assert!(csv.starts_with(BOM.as_bytes()));
        let back = rows_to_inputs(&read_sheet(Format::Csv, &csv).unwrap()).unwrap();
        assert_eq!(back[0].1, inputs[0].1);
        assert!(read_sheet(Format::Csv, &bytes).unwrap_err().contains("Excel"));
        assert!(read_sheet(Format::Xlsx, &csv).unwrap_err().contains("不是 .xlsx"));
        assert!(read_sheet(Format::Xlsx, b"PK\x03\x04garbage").unwrap_err().contains("无法读取"));
    }

    #[test]
    fn timeliness_on_the_working_day_calendar() {
        let d = |s: &str| parse_date(s).unwrap();
        // 2024 国庆: 10-01..07 off, Sunday 09-29 and Saturday 10-12 worked.
        let mut days: Vec<SpecialDay> = (1..=7)
            .map(|i| SpecialDay {
                date: d(&format!("2024-10-{i:02}")), kind: DayKind::Holiday, name: "国庆节".into()
            })
            .collect();
        for s in ["2024-09-29", "2024-10-12"] {
            days.push(SpecialDay { date: d(s), kind: DayKind::AdjustedWorkday, name: "国庆节".into() });
        }
        let cal = Calendar::new(days, [2024]);
        let twenty = TimeLimit::WorkingDays(20);
        assert_eq!(due_date(&cal, twenty, d("2024-09-27")), Some(d("2024-10-30")));
        assert_eq!(judge_timeliness(&cal, twenty, Some("2024-09-27"), Some("2024-10-29")).1, Some(true));
        assert_eq!(judge_timeliness(&cal, twenty, Some("2024-09-27"), Some("2024-10-30")).1, Some(true));
        assert_eq!(judge_timeliness(&cal, twenty, Some("2024-09-27"), Some("2024-10-31")).1, Some(false));
        assert_eq!(due_date(&cal, TimeLimit::Days(20), d("2024-09-27")), Some(d("2024-10-17")));
        assert_eq!(judge_timeliness(&cal, TimeLimit::Immediate, Some("2024-09-27"), Some("2024-09-27")), (None, None));
        assert_eq!(judge_timeliness(&cal, TimeLimit::Unparsed, Some("2024-09-27"), Some("2024-09-27")), (None, None));
        assert_eq!(judge_timeliness(&cal, twenty, None, Some("2024-09-27")), (None, None));
        assert_eq!(judge_timeliness(&cal, twenty, Some("2024-09-27"), None).1, None);
        assert_eq!(due_date(&cal, TimeLimit::WorkingDays(u32::MAX), d("2024-09-27")), None);
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let long = "■".repeat(10_000);
        for s in ["", "■", "□", "（", "）", "■（", "其他（", "/", "■/□", "\u{0}", "𝕏", long.as_str()]
        {
            let _ = parse_channels(s);
            let _ = chosen_options(s);
            let _ = parse_domain(s);
            let _ = header_key(s);
            let _ = parse_csv(s);
            let _ = validate_entry(&EntryInput {
                domain: s.into(),
                level1: s.into(),
                channels: s.into(),
                audience: s.into(),
                mode: s.into(),
                tier: s.into(),
                time_limit: s.into(),
                ..Default::default()
            });
        }
        let _ = read_sheet(Format::Xlsx, b"");
        let _ = read_sheet(Format::Csv, b"\"");
    }
}
