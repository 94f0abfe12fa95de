//! Pure rules of 征集调查: the kinds and states, the period (open = today within
//! [opens_on, closes_on], unless closed early), the questions editor's text format, the
//! validation of a response with its skip logic, the result counts, the bar charts and
//! the yearly counts for the annual report.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

use gongkai_kernel::error::FieldErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Solicitation,
    Questionnaire,
}

impl Kind {
    pub const ALL: &'static [Kind] = &[Kind::Solicitation, Kind::Questionnaire];
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Solicitation => "solicitation",
            Kind::Questionnaire => "questionnaire",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Kind::Solicitation => "意见征集",
            Kind::Questionnaire => "问卷调查",
        }
    }
    /// What the published feedback is called.
    pub fn feedback_zh(self) -> &'static str {
        match self {
            Kind::Solicitation => "采纳情况",
            Kind::Questionnaire => "调查结果",
        }
    }
}

/// The stored workflow state; open/closed is derived from the dates (see [`phase`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Draft,
    Published,
    Result,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Published => "published",
            State::Result => "result",
        }
    }
    pub fn parse(s: &str) -> Option<State> {
        [State::Draft, State::Published, State::Result].into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a survey stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Draft,
    Upcoming,
    Open,
    Closed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Draft => "draft",
            Phase::Upcoming => "upcoming",
            Phase::Open => "open",
            Phase::Closed => "closed",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Phase::Draft => "草稿",
            Phase::Upcoming => "未开始",
            Phase::Open => "进行中",
            Phase::Closed => "已结束",
        }
    }
    /// Why a submission is refused in this phase (None: accepted).
    pub fn refusal(self) -> Option<&'static str> {
        match self {
            Phase::Open => None,
            Phase::Upcoming => Some("征集尚未开始，请在开始日期后再提交"),
            Phase::Closed => Some("征集已结束，感谢您的关注"),
            Phase::Draft => Some("该征集尚未发布"),
        }
    }
}

/// The phase on `today` (Asia/Shanghai): both end dates count as open days; a survey
/// closed early by staff (`closed_early`) is closed whatever its dates say.
pub fn phase(state: State, opens_on: Date, closes_on: Date, closed_early: bool, today: Date) -> Phase {
    match state {
        State::Draft => Phase::Draft,
        _ if closed_early || today > closes_on => Phase::Closed,
        _ if today < opens_on => Phase::Upcoming,
        _ => Phase::Open,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QKind {
    Single,
    Multiple,
    Rating,
    Text,
}

impl QKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            QKind::Single => "单选",
            QKind::Multiple => "多选",
            QKind::Rating => "评分",
            QKind::Text => "填空",
        }
    }
    fn parse_zh(s: &str) -> Option<QKind> {
        match s {
            "单选" => Some(QKind::Single),
            "多选" => Some(QKind::Multiple),
            "评分" => Some(QKind::Rating),
            "填空" | "文字" | "问答" => Some(QKind::Text),
            _ => None,
        }
    }
    pub fn has_options(self) -> bool {
        matches!(self, QKind::Single | QKind::Multiple)
    }
}

/// "If the answer includes option `option`, skip to question `to`" (1-based numbers;
/// `to` = 0 ends the questionnaire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    pub option: usize,
    pub to: u32,
}

/// One question. Its id is its 1-based number: questions are fixed once published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: u32,
    pub kind: QKind,
    pub text: String,
    pub required: bool,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub skip: Vec<Skip>,
}

pub const MAX_QUESTIONS: usize = 50;
pub const MAX_OPTIONS: usize = 20;
pub const MAX_QUESTION_CHARS: usize = 200;
pub const MAX_OPTION_CHARS: usize = 100;
pub const MAX_TEXT_ANSWER: usize = 1000;
pub const RATING_MAX: u8 = 5;

/// The end marker of a skip in the editor's text.
const END_ZH: &str = "结束";

/// Parse the questions editor's text. One question per line, its options on the lines
/// after it:
///
/// ```text
/// 1. [单选][必答] 您是否了解本次改造方案？
/// - 了解
/// - 不了解 -> 3
/// 2. [多选] 您最关心哪些内容？
/// - 加装电梯
/// - 停车位 -> 结束
/// 3. [评分][必答] 您对方案的总体评价
/// 4. [填空] 其他意见和建议
/// ```
///
/// The leading number is optional (questions are numbered in order); `-> N` on an option
/// skips to question N, `-> 结束` ends the questionnaire. Errors name the line.
pub fn parse_questions(text: &str) -> Result<Vec<Question>, Vec<String>> {
    let mut qs: Vec<Question> = Vec::new();
    let mut errs = Vec::new();
    let mut skips: Vec<(usize, String)> = Vec::new(); // (line, target) in question and option order
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(opt) = line.strip_prefix('-').or_else(|| line.strip_prefix('－')) {
            let Some(q) = qs.last_mut() else {
                errs.push(format!("第{line_no}行：选项之前应先写题目"));
                continue;
            };
            if !q.kind.has_options() {
                errs.push(format!("第{line_no}行：{}题没有选项", q.kind.label_zh()));
                continue;
            }
            let (label, target) = match opt.split_once("->").or_else(|| opt.split_once('→')) {
                Some((l, t)) => (l.trim(), Some(t.trim())),
                None => (opt.trim(), None),
            };
            if label.is_empty() {
                errs.push(format!("第{line_no}行：选项内容不能为空"));
            } else if label.chars().count() > MAX_OPTION_CHARS {
                errs.push(format!("第{line_no}行：选项不能超过{MAX_OPTION_CHARS}个字"));
            } else if q.options.iter().any(|o| o == label) {
                errs.push(format!("第{line_no}行：选项“{label}”重复"));
            }
            if let Some(t) = target {
                skips.push((line_no, t.to_string()));
                let q = qs.len() - 1;
                let option = qs[q].options.len();
                qs[q].skip.push(Skip { option, to: 0 });
            }
            if let Some(q) = qs.last_mut() {
                q.options.push(label.to_string());
            }
            continue;
        }
        let rest = strip_number(line);
        let mut rest = rest.trim_start();
        let mut kind = None;
        let mut required = false;
        while let Some(tag) = rest.strip_prefix('[').or_else(|| rest.strip_prefix('【')) {
            let Some(end) = tag.find([']', '】']) else { break };
            let name = tag[..end].trim();
            match name {
                "必答" | "必填" => required = true,
                _ => match QKind::parse_zh(name) {
                    Some(k) if kind.is_none() => kind = Some(k),
                    Some(_) => errs.push(format!("第{line_no}行：一道题只能有一种题型")),
                    None => errs.push(format!(
                        "第{line_no}行：不认识的标记“{name}”，题型可写 [单选] [多选] [评分] [填空]，必答题写 [必答]"
                    )),
                },
            }
            let close_len = tag[end..].chars().next().map(char::len_utf8).unwrap_or(1);
            rest = tag[end + close_len..].trim_start();
        }
        let Some(kind) = kind else {
            errs.push(format!("第{line_no}行：题目应以题型开头，如“[单选] 题目”；选项以“-”开头"));
            continue;
        };
        let text = rest.trim();
        if text.is_empty() {
            errs.push(format!("第{line_no}行：题目不能为空"));
        } else if text.chars().count() > MAX_QUESTION_CHARS {
            errs.push(format!("第{line_no}行：题目不能超过{MAX_QUESTION_CHARS}个字"));
        }
        if qs.len() == MAX_QUESTIONS {
            errs.push(format!("第{line_no}行：一份问卷最多{MAX_QUESTIONS}道题"));
            break;
        }
        qs.push(Question {
            id: qs.len() as u32 + 1,
            kind,
            text: text.to_string(),
            required,
            options: Vec::new(),
            skip: Vec::new(),
        });
    }
    // Skip targets are checked once every question is known.
    let mut k = 0;
    for (qi, q) in qs.iter_mut().enumerate() {
        for s in q.skip.iter_mut() {
            let Some((line_no, target)) = skips.get(k) else { break };
            k += 1;
            let target = target.trim_start_matches('第').trim_end_matches('题').trim();
            if target == END_ZH {
                s.to = 0;
                continue;
            }
            match target.parse::<u32>() {
                Ok(n) if n as usize > qi + 1 => s.to = n,
                Ok(_) => {
                    errs.push(format!("第{line_no}行：只能跳到后面的题目（第{}题之后的题号），或写“-> 结束”", qi + 1))
                }
                Err(_) => errs.push(format!("第{line_no}行：跳转应写成“-> 题号”或“-> 结束”")),
            }
        }
    }
    let count = qs.len() as u32;
    for q in &qs {
        for s in &q.skip {
            if s.to > count {
                errs.push(format!("第{}题：跳转的第{}题不存在", q.id, s.to));
            }
        }
        if q.kind.has_options() && q.options.len() < 2 {
            errs.push(format!("第{}题：{}题至少要有两个选项", q.id, q.kind.label_zh()));
        }
        if q.options.len() > MAX_OPTIONS {
            errs.push(format!("第{}题：选项不能超过{MAX_OPTIONS}个", q.id));
        }
    }
    if errs.is_empty() { Ok(qs) } else { Err(errs) }
}

/// "12. ", "12、", "12．" → the rest of the line.
fn strip_number(line: &str) -> &str {
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return line;
    }
    let rest = &line[digits..];
    for sep in [".", "、", "．", ")", "）"] {
        if let Some(r) = rest.strip_prefix(sep) {
            return r;
        }
    }
    line
}

/// The questions back in the editor's text format (parse(to_text(q)) == q).
pub fn to_text(qs: &[Question]) -> String {
    let mut out = String::new();
    for q in qs {
        out.push_str(&format!(
            "{}. [{}]{} {}\n",
            q.id,
            q.kind.label_zh(),
            if q.required { "[必答]" } else { "" },
            q.text
        ));
        for (i, o) in q.options.iter().enumerate() {
            out.push_str("- ");
            out.push_str(o);
            if let Some(s) = q.skip.iter().find(|s| s.option == i) {
                if s.to == 0 {
                    out.push_str(&format!(" -> {END_ZH}"));
                } else {
                    out.push_str(&format!(" -> {}", s.to));
                }
            }
            out.push('\n');
        }
    }
    out
}

/// One answer as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Choice(usize),
    Choices(Vec<usize>),
    Rating(u8),
    Text(String),
}

pub type Answers = BTreeMap<u32, Answer>;

/// Where a skip rule triggered by `a` sends the respondent (question number, or 0 = end).
fn skip_target(q: &Question, a: &Answer) -> Option<u32> {
    let chosen = |opt: usize| match a {
        Answer::Choice(c) => *c == opt,
        Answer::Choices(cs) => cs.contains(&opt),
        _ => false,
    };
    q.skip.iter().find(|s| chosen(s.option)).map(|s| s.to)
}

/// Which questions a set of answers skips (by the first rule that fires at each question).
pub fn skipped(qs: &[Question], answers: &Answers) -> Vec<u32> {
    let mut out = Vec::new();
    let mut until: Option<(u32, u32)> = None; // (from question, to question; 0 = end)
    for q in qs {
        if let Some((_, to)) = until {
            if to == 0 || q.id < to {
                out.push(q.id);
                continue;
            }
            until = None;
        }
        if let Some(t) = answers.get(&q.id).and_then(|a| skip_target(q, a)) {
            until = Some((q.id, t));
        }
    }
    out
}

/// Check a response as posted (field `q{id}`, repeated for multiple choice) against the
/// questions: required questions answered, values among the options, ratings 1–5, text
/// within bounds, and questions skipped by an earlier answer left empty. Errors are keyed
/// `q{id}`.
pub fn validate_answers(qs: &[Question], posted: &[(String, String)]) -> Result<Answers, FieldErrors> {
    let mut errs = FieldErrors::new();
    let mut out = Answers::new();
    let mut until: Option<(u32, u32)> = None;
    for q in qs {
        let key = format!("q{}", q.id);
        let values: Vec<&str> =
            posted.iter().filter(|(k, _)| *k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect();
        if let Some((from, to)) = until {
            if to == 0 || q.id < to {
                if !values.is_empty() {
                    errs.add(&key, format!("根据第{from}题的回答，本题应跳过，请不要作答"));
                }
                continue;
            }
            until = None;
        }
        if values.is_empty() {
            if q.required {
                errs.add(&key, "此题为必答题");
            }
            continue;
        }
        let option = |v: &str| v.parse::<usize>().ok().filter(|i| *i < q.options.len());
        let answer = match q.kind {
            QKind::Single => match (values.as_slice(), values.first().and_then(|v| option(v))) {
                ([_], Some(i)) => Some(Answer::Choice(i)),
                _ => None,
            },
            QKind::Multiple => {
                let mut picked: Vec<usize> = values.iter().filter_map(|v| option(v)).collect();
                picked.sort_unstable();
                picked.dedup();
                (picked.len() == values.len()).then_some(Answer::Choices(picked))
            }
            QKind::Rating => match values.as_slice() {
                [v] => v.parse::<u8>().ok().filter(|r| (1..=RATING_MAX).contains(r)).map(Answer::Rating),
                _ => None,
            },
            QKind::Text => match values.as_slice() {
                [v] if v.chars().count() > MAX_TEXT_ANSWER => {
                    errs.add(&key, format!("不能超过{MAX_TEXT_ANSWER}个字"));
                    continue;
                }
                [v] => Some(Answer::Text(v.to_string())),
                _ => None,
            },
        };
        let Some(answer) = answer else {
            errs.add(&key, "答案无效，请重新选择");
            continue;
        };
        if let Some(t) = skip_target(q, &answer) {
            until = Some((q.id, t));
        }
        out.insert(q.id, answer);
    }
    // A field for a question that does not exist is a forged form: refuse, store nothing.
    let known =
        |k: &str| k.strip_prefix('q').and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| qs.iter().any(|q| q.id == n));
    if posted.iter().any(|(k, _)| k.starts_with('q') && k[1..].chars().all(|c| c.is_ascii_digit()) && !known(k)) {
        errs.add("form", "表单内容与问卷不符，请刷新页面后重新填写");
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

/// Counts of one choice (or rating value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub label: String,
    pub count: u32,
    /// Share of the respondents who answered the question, in tenths of a percent.
    pub pct10: u32,
    /// "45.8%"
    pub pct: String,
}

/// The results of one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionResult {
    pub id: u32,
    pub kind: QKind,
    pub kind_label: &'static str,
    pub text: String,
    /// Respondents who answered it.
    pub answered: u32,
    /// Respondents an earlier answer sent past it.
    pub skipped: u32,
    pub rows: Vec<Row>,
    /// Average rating ×10 (rating questions with answers).
    pub average10: Option<u32>,
    pub average: String,
    pub chart: Option<Chart>,
}

fn pct10(count: u32, base: u32) -> u32 {
    if base == 0 { 0 } else { ((u64::from(count) * 2000 + u64::from(base)) / (u64::from(base) * 2)) as u32 }
}

fn tenths(v: u32) -> String {
    format!("{}.{}", v / 10, v % 10)
}

/// Per-question counts over every response.
pub fn results(qs: &[Question], responses: &[Answers]) -> Vec<QuestionResult> {
    let skipped_sets: Vec<Vec<u32>> = responses.iter().map(|a| skipped(qs, a)).collect();
    qs.iter()
        .map(|q| {
            let answers: Vec<&Answer> = responses.iter().filter_map(|r| r.get(&q.id)).collect();
            let answered = answers.len() as u32;
            let skipped = skipped_sets.iter().filter(|s| s.contains(&q.id)).count() as u32;
            let labels: Vec<String> = match q.kind {
                QKind::Single | QKind::Multiple => q.options.clone(),
                QKind::Rating => (1..=RATING_MAX).map(|r| format!("{r}分")).collect(),
                QKind::Text => Vec::new(),
            };
            let mut counts = vec![0u32; labels.len()];
            let mut sum = 0u32;
            for a in &answers {
                match a {
                    Answer::Choice(i) => {
                        if let Some(c) = counts.get_mut(*i) {
                            *c += 1
                        }
                    }
                    Answer::Choices(is) => {
                        for i in is {
                            if let Some(c) = counts.get_mut(*i) {
                                *c += 1
                            }
                        }
                    }
                    Answer::Rating(r) => {
                        sum += u32::from(*r);
                        if let Some(c) = counts.get_mut(usize::from(*r).saturating_sub(1)) {
                            *c += 1
                        }
                    }
                    Answer::Text(_) => {}
                }
            }
            let rows: Vec<Row> = labels
                .into_iter()
                .zip(counts)
                .map(|(label, count)| {
                    let p = pct10(count, answered);
                    Row { label, count, pct10: p, pct: format!("{}%", tenths(p)) }
                })
                .collect();
            // Rounded half up, in tenths.
            let average10 = (q.kind == QKind::Rating && answered > 0)
                .then(|| ((u64::from(sum) * 20 + u64::from(answered)) / (u64::from(answered) * 2)) as u32);
            let chart = (!rows.is_empty()).then(|| chart(&rows));
            QuestionResult {
                id: q.id,
                kind: q.kind,
                kind_label: q.kind.label_zh(),
                text: q.text.clone(),
                answered,
                skipped,
                average: average10.map(tenths).unwrap_or_default(),
                average10,
                rows,
                chart,
            }
        })
        .collect()
}

/// A horizontal bar chart's geometry (SVG user units): each row has its label above
/// the bar and the count with the percentage after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub bar_height: u32,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bar {
    pub label: String,
    pub value: String,
    pub label_y: u32,
    pub bar_y: u32,
    pub bar_width: u32,
    pub value_x: u32,
    pub value_y: u32,
}

pub const CHART_WIDTH: u32 = 400;
const BAR_MAX: u32 = 260;
const ROW_H: u32 = 46;
const BAR_H: u32 = 18;

pub fn chart(rows: &[Row]) -> Chart {
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let top = i as u32 * ROW_H;
            // At least one unit wide, so a zero still shows where the bar would start.
            let w = (r.pct10 * BAR_MAX / 1000).max(1);
            Bar {
                label: r.label.clone(),
                value: format!("{}人（{}）", r.count, r.pct),
                label_y: top + 16,
                bar_y: top + 22,
                bar_width: w,
                value_x: w + 8,
                value_y: top + 36,
            }
        })
        .collect();
    Chart { width: CHART_WIDTH, bar_height: BAR_H, height: rows.len() as u32 * ROW_H + 4, bars }
}

/// The yearly figures for the annual report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Periods held (published items whose period started in the year), by kind.
    pub solicitations: i64,
    pub questionnaires: i64,
    /// Comments received on solicitations (every comment, whatever its moderation).
    pub opinions: i64,
    /// Questionnaire responses received.
    pub responses: i64,
    /// Result notices (采纳情况 / 调查结果) published in the year.
    pub results_published: i64,
}

/// What the yearly counts read of one survey.
#[derive(Debug, Clone)]
pub struct YearSurvey {
    pub kind: Kind,
    pub published: bool,
    pub opens_on: Date,
    /// The date (Asia/Shanghai) the feedback was published.
    pub feedback_on: Option<Date>,
}

/// Aggregate: `opinion_days`/`response_days` are the dates (Asia/Shanghai) submissions
/// were received.
pub fn counts(surveys: &[YearSurvey], opinion_days: &[Date], response_days: &[Date], year: i32) -> Counts {
    let mut c = Counts::default();
    for s in surveys.iter().filter(|s| s.published) {
        if s.opens_on.year() == year {
            match s.kind {
                Kind::Solicitation => c.solicitations += 1,
                Kind::Questionnaire => c.questionnaires += 1,
            }
        }
        if s.feedback_on.is_some_and(|d| d.year() == year) {
            c.results_published += 1;
        }
    }
    c.opinions = opinion_days.iter().filter(|d| d.year() == year).count() as i64;
    c.responses = response_days.iter().filter(|d| d.year() == year).count() as i64;
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const SAMPLE: &str = "1. [单选][必答] 您是否了解本次改造方案？\n- 了解\n- 不了解 -> 3\n2. [多选] 您最关心哪些内容？\n- 加装电梯\n- 停车位 -> 结束\n- 绿化\n3. [评分][必答] 您对方案的总体评价\n4. [填空] 其他意见和建议\n";

    fn post(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn phases() {
        let (o, c) = (date!(2026 - 03 - 01), date!(2026 - 03 - 31));
        assert_eq!(phase(State::Draft, o, c, false, date!(2026 - 03 - 10)), Phase::Draft);
        assert_eq!(phase(State::Published, o, c, false, date!(2026 - 02 - 28)), Phase::Upcoming);
        assert_eq!(phase(State::Published, o, c, false, o), Phase::Open);
        assert_eq!(phase(State::Published, o, c, false, c), Phase::Open, "the last day counts");
        assert_eq!(phase(State::Published, o, c, false, date!(2026 - 04 - 01)), Phase::Closed);
        assert_eq!(phase(State::Published, o, c, true, date!(2026 - 03 - 10)), Phase::Closed);
        assert_eq!(phase(State::Result, o, c, false, date!(2026 - 04 - 01)), Phase::Closed);
        assert!(Phase::Closed.refusal().unwrap().contains("征集已结束"));
        assert!(Phase::Open.refusal().is_none());
    }

    #[test]
    fn editor_text_round_trips() {
        let qs = parse_questions(SAMPLE).unwrap();
        assert_eq!(qs.len(), 4);
        assert_eq!(qs[0].kind, QKind::Single);
        assert!(qs[0].required && !qs[1].required);
        assert_eq!(qs[0].skip, vec![Skip { option: 1, to: 3 }]);
        assert_eq!(qs[1].skip, vec![Skip { option: 1, to: 0 }]);
        assert_eq!(qs[1].options, vec!["加装电梯", "停车位", "绿化"]);
        assert_eq!(qs[3].kind, QKind::Text);
        assert_eq!(parse_questions(&to_text(&qs)).unwrap(), qs);
        // Without numbers, with full-width brackets.
        let qs2 = parse_questions("【单选】【必答】甲\n- 是\n- 否 -> 第2题\n[填空] 乙").unwrap();
        assert_eq!(qs2[0].skip, vec![Skip { option: 1, to: 2 }]);
    }

    #[test]
    fn editor_errors_name_the_line() {
        let e = parse_questions("- 孤立的选项\n[单选] 题\n- 只有一个").unwrap_err();
        assert!(e.iter().any(|m| m.starts_with("第1行")), "{e:?}");
        assert!(e.iter().any(|m| m.contains("至少要有两个选项")), "{e:?}");
        let e = parse_questions("[单选] 甲\n- 是 -> 1\n- 否\n[单选] 乙\n- 是 -> 9\n- 否").unwrap_err();
        assert!(e.iter().any(|m| m.starts_with("第2行") && m.contains("后面")), "{e:?}");
        assert!(e.iter().any(|m| m.contains("第9题不存在")), "{e:?}");
        let e = parse_questions("[问卷] 甲").unwrap_err();
        assert!(e[0].contains("不认识的标记"), "{e:?}");
        let e = parse_questions("随便写一行").unwrap_err();
        assert!(e[0].contains("题型"), "{e:?}");
        let e = parse_questions("[评分] 甲\n- 一").unwrap_err();
        assert!(e[0].contains("没有选项"), "{e:?}");
    }

    #[test]
    fn answers_with_skip_logic() {
        let qs = parse_questions(SAMPLE).unwrap();
        // Q1 = 不了解 skips Q2.
        let a = validate_answers(&qs, &post(&[("q1", "1"), ("q3", "4"), ("q4", "<b>多建停车位</b>")])).unwrap();
        assert_eq!(a.get(&1), Some(&Answer::Choice(1)));
        assert_eq!(a.get(&2), None);
        assert_eq!(a.get(&4), Some(&Answer::Text("<b>多建停车位</b>".into())));
        assert_eq!(skipped(&qs, &a), vec![2]);
        // A skipped question answered anyway is refused.
        let e = validate_answers(&qs, &post(&[("q1", "1"), ("q2", "0"), ("q3", "4")])).unwrap_err();
        assert!(e.get("q2").unwrap().contains("根据第1题的回答"), "{e:?}");
        // Q2 includes 停车位 → the end: Q3 (required) is not required any more.
        let a = validate_answers(&qs, &post(&[("q1", "0"), ("q2", "0"), ("q2", "1")])).unwrap();
        assert_eq!(a.get(&2), Some(&Answer::Choices(vec![0, 1])));
        assert_eq!(skipped(&qs, &a), vec![3, 4]);
        // Without the skip, Q3 is required.
        let e = validate_answers(&qs, &post(&[("q1", "0"), ("q2", "2")])).unwrap_err();
        assert_eq!(e.get("q3"), Some("此题为必答题"));
        assert_eq!(e.get("q1"), None);
        // Bad values: an option out of range, two answers to a single choice, rating 6,
        // a field for a question that does not exist.
        let e = validate_answers(&qs, &post(&[("q1", "7"), ("q3", "6"), ("q9", "x")])).unwrap_err();
        assert!(e.get("q1").is_some() && e.get("q3").is_some() && e.get("form").is_some(), "{e:?}");
        let e = validate_answers(&qs, &post(&[("q1", "0"), ("q1", "1"), ("q3", "3")])).unwrap_err();
        assert!(e.get("q1").is_some());
        let long = "字".repeat(MAX_TEXT_ANSWER + 1);
        let e = validate_answers(&qs, &post(&[("q1", "0"), ("q3", "3"), ("q4", &long)])).unwrap_err();
        assert!(e.get("q4").unwrap().contains("不能超过"));
    }

    #[test]
    fn result_counts_for_every_kind() {
        let qs = parse_questions(SAMPLE).unwrap();
        let rs: Vec<Answers> = [
            vec![("q1", "0"), ("q2", "0"), ("q3", "5"), ("q4", "好")],
            vec![("q1", "0"), ("q2", "0"), ("q2", "2"), ("q3", "4")],
            vec![("q1", "1"), ("q3", "2")],
            vec![("q1", "0"), ("q2", "1")],
        ]
        .iter()
        .map(|p| validate_answers(&qs, &post(p)).unwrap())
        .collect();
        let r = results(&qs, &rs);
        assert_eq!((r[0].answered, r[0].skipped), (4, 0));
        assert_eq!(r[0].rows.iter().map(|x| x.count).collect::<Vec<_>>(), vec![3, 1]);
        assert_eq!(r[0].rows[0].pct, "75.0%");
        assert_eq!((r[1].answered, r[1].skipped), (3, 1));
        assert_eq!(r[1].rows.iter().map(|x| x.count).collect::<Vec<_>>(), vec![2, 1, 1]);
        assert_eq!(r[1].rows[0].pct, "66.7%");
        assert_eq!(r[1].rows[1].pct, "33.3%");
        assert_eq!((r[2].answered, r[2].skipped), (3, 1));
        assert_eq!(r[2].rows.iter().map(|x| x.count).collect::<Vec<_>>(), vec![0, 1, 0, 1, 1]);
        assert_eq!(r[2].average, "3.7");
        assert_eq!((r[3].answered, r[3].skipped), (1, 1));
        assert!(r[3].rows.is_empty() && r[3].chart.is_none());
        let c = r[0].chart.as_ref().unwrap();
        assert_eq!(c.bars.len(), 2);
        assert_eq!(c.bars[0].bar_width, 195);
        assert_eq!(c.bars[0].value, "3人（75.0%）");
        assert!(c.height > c.bars[1].value_y);
        // No responses: zero percentages, no division by zero.
        let empty = results(&qs, &[]);
        assert_eq!(empty[0].rows[0].pct, "0.0%");
        assert_eq!(empty[2].average10, None);
    }

    #[test]
    fn yearly_counts() {
        let s = |kind, published, opens_on, feedback_on| YearSurvey { kind, published, opens_on, feedback_on };
        let surveys = [
            s(Kind::Solicitation, true, date!(2025 - 12 - 20), Some(date!(2026 - 01 - 15))),
            s(Kind::Solicitation, true, date!(2026 - 03 - 01), Some(date!(2026 - 04 - 10))),
            s(Kind::Questionnaire, true, date!(2026 - 05 - 01), None),
            s(Kind::Questionnaire, false, date!(2026 - 06 - 01), None),
            s(Kind::Questionnaire, true, date!(2027 - 01 - 01), None),
        ];
        let days = [date!(2025 - 12 - 31), date!(2026 - 01 - 01), date!(2026 - 12 - 31)];
        let c = counts(&surveys, &days, &days[..1], 2026);
        assert_eq!(c, Counts { solicitations: 1, questionnaires: 1, opinions: 2, responses: 0, results_published: 2 });
        assert_eq!(counts(&surveys, &days, &days, 2025).solicitations, 1);
    }
}
