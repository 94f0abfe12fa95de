//! The pure rules of interviews: the states and what each step needs, the form checks,
//! the announcement notice (≥ 3 calendar days), the answer deadline on the working-day
//! calendar, and the yearly counts.

use serde::Serialize;
use time::{Date, PrimitiveDateTime};

use gongkai_kernel::calendar::rules::{Calendar, DueExplanation};
use gongkai_kernel::error::{Error, FieldErrors, Result};

use super::{Kind, State};

/// Calendar days between the announcement and the start, at least.
pub const NOTICE_DAYS: i64 = 3;
/// Working days to answer questions the session left open, unless set per interview.
pub const DEFAULT_ANSWER_DAYS: i64 = 5;
pub const MAX_QUESTION: usize = 500;
pub const MAX_ANSWER: usize = 5000;
pub const MAX_UPDATE: usize = 2000;
pub const MAX_GUESTS: usize = 12;

/// A step on an interview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Edit,
    Announce,
    GoLive,
    End,
    /// A question from the public (or typed by the moderator).
    Ask,
    Moderate,
    /// A question-and-answer pair on the page.
    Answer,
    Update,
}

/// May `step` happen in `state`? The refusal says why in Chinese.
pub fn allowed(state: State, step: Step) -> std::result::Result<(), String> {
    use State::*;
    let ok = match step {
        Step::Edit => matches!(state, Draft | Announced),
        Step::Announce => state == Draft,
        Step::GoLive => state == Announced,
        Step::End => state == Live,
        Step::Ask => matches!(state, Announced | Live),
        Step::Moderate => matches!(state, Announced | Live | Ended),
        // After the session, questions it left open are still answered onto the archive.
        Step::Answer => matches!(state, Live | Ended),
        Step::Update => state == Live,
    };
    if ok {
        return Ok(());
    }
    Err(match (step, state) {
        (Step::Edit, _) => "访谈已开始，不能再修改基本信息".into(),
        (Step::Announce, _) => "只有草稿状态的访谈可以发布预告".into(),
        (Step::GoLive, Draft) => "请先发布预告，再开始直播".into(),
        (Step::GoLive, _) => "只有已预告的访谈可以开始直播".into(),
        (Step::End, _) => "只有正在直播的访谈可以结束".into(),
        (Step::Ask, Ended) => "访谈已结束，不再接受提问".into(),
        (Step::Ask, _) => "访谈尚未开放提问".into(),
        (Step::Moderate, _) => "访谈尚未开放提问".into(),
        (Step::Answer, _) => "访谈尚未开始直播，不能发布答复".into(),
        (Step::Update, _) => "只有直播中的访谈可以发布图文动态".into(),
    })
}

/// The announcement needs the start at least [`NOTICE_DAYS`] calendar days after `today`.
pub fn check_notice(today: Date, start: PrimitiveDateTime) -> std::result::Result<(), String> {
    let days = (start.date() - today).whole_days();
    if days >= NOTICE_DAYS {
        Ok(())
    } else {
        let earliest = today + time::Duration::days(NOTICE_DAYS);
        Err(format!(
            "访谈须至少提前{NOTICE_DAYS}天预告：今天预告，开始时间最早为{}（当前开始时间只提前{}天）",
            gongkai_kernel::clock::fmt_date(earliest),
            days.max(0)
        ))
    }
}

/// When the questions a session left open must be answered: `days` working days after
/// the day it ended, with the explanation shown to staff.
pub fn answer_due(cal: &Calendar, ended_on: Date, days: i64) -> DueExplanation {
    cal.explain_add_working_days(ended_on, days.clamp(0, 60) as u32)
}

/// A guest as typed: one a line, the name then the title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuestLine {
    pub name: String,
    pub title: String,
}

/// "姓名 职务" a line; the name ends at the first space, comma, tab or ｜.
pub fn parse_guests(text: &str) -> std::result::Result<Vec<GuestLine>, String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let cut = line.find(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '|' | '｜' | '、'));
        let (name, title) = match cut {
            Some(i) => {
                let rest = &line[i..];
                let title = rest.trim_start_matches(|c: char| c.is_whitespace() || ",，|｜、".contains(c));
                (line[..i].trim(), title.trim())
            }
            None => (line, ""),
        };
        if name.chars().count() > 40 {
            return Err(format!("嘉宾姓名过长：{name}"));
        }
        if title.chars().count() > 100 {
            return Err(format!("嘉宾职务不能超过100个字：{name}"));
        }
        out.push(GuestLine { name: name.to_string(), title: title.to_string() });
    }
    if out.is_empty() {
        return Err("请至少填写一位嘉宾".into());
    }
    if out.len() > MAX_GUESTS {
        return Err(format!("嘉宾不能超过{MAX_GUESTS}位"));
    }
    Ok(out)
}

/// The interview form as typed in the console.
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
pub struct InterviewForm {
    #[serde(default)]
    pub site_id: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub intro: String,
    #[serde(default)]
    pub guests: String,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
    #[serde(default)]
    pub answer_days: String,
}

/// A checked interview form.
#[derive(Debug, Clone, PartialEq)]
pub struct InterviewValues {
    pub site_id: i64,
    pub kind: Kind,
    pub topic: String,
    pub intro: String,
    pub guests: Vec<GuestLine>,
    pub starts_at: PrimitiveDateTime,
    pub ends_at: PrimitiveDateTime,
    pub answer_days: i64,
}

fn too_long(errs: &mut FieldErrors, field: &str, v: &str, max: usize, label: &str) {
    if v.chars().count() > max {
        errs.add(field, format!("{label}不能超过{max}个字"));
    }
}

pub fn validate(f: &InterviewForm) -> Result<InterviewValues> {
    let mut errs = FieldErrors::new();
    let site_id = f.site_id.trim().parse::<i64>().ok();
    if site_id.is_none() {
        errs.add("site_id", "请选择网站");
    }
    let kind = Kind::parse(f.kind.trim());
    if kind.is_none() {
        errs.add("kind", "请选择类型（在线访谈或新闻发布会）");
    }
    let topic = f.topic.trim().to_string();
    if topic.is_empty() {
        errs.add("topic", "请填写主题");
    }
    too_long(&mut errs, "topic", &topic, 200, "主题");
    let intro = f.intro.trim().to_string();
    too_long(&mut errs, "intro", &intro, 5000, "简介");
    let guests = match parse_guests(&f.guests) {
        Ok(g) => g,
        Err(m) => {
            errs.add("guests", m);
            Vec::new()
        }
    };
    let starts_at = gongkai_kernel::clock::parse_local_minute(&f.starts_at);
    if starts_at.is_none() {
        errs.add("starts_at", "请填写开始时间，例如 2026-05-20 09:30");
    }
    let ends_at = gongkai_kernel::clock::parse_local_minute(&f.ends_at);
    match (starts_at, ends_at) {
        (_, None) => errs.add("ends_at", "请填写结束时间，例如 2026-05-20 11:00"),
        (Some(s), Some(e)) if e <= s => errs.add("ends_at", "结束时间应晚于开始时间"),
        (Some(s), Some(e)) if (e - s).whole_hours() > 24 => errs.add("ends_at", "一场访谈不能超过24小时"),
        _ => {}
    }
    let answer_days = if f.answer_days.trim().is_empty() {
        Some(DEFAULT_ANSWER_DAYS)
    } else {
        f.answer_days.trim().parse::<i64>().ok().filter(|d| (1..=30).contains(d))
    };
    if answer_days.is_none() {
        errs.add("answer_days", "答复时限应为1到30个工作日");
    }
    errs.into_result()?;
    let (Some(site_id), Some(kind), Some(starts_at), Some(ends_at), Some(answer_days)) =
        (site_id, kind, starts_at, ends_at, answer_days)
    else {
        return Err(Error::internal("validated interview incomplete"));
    };
    Ok(InterviewValues { site_id, kind, topic, intro, guests, starts_at, ends_at, answer_days })
}

/// A question from the public: the name is optional, the question 1..=500 characters.
pub fn check_question(asker: &str, body: &str) -> Result<(String, String)> {
    let mut errs = FieldErrors::new();
    let asker = asker.trim().to_string();
    let body = body.trim().to_string();
    too_long(&mut errs, "asker", &asker, 40, "称呼");
    if body.is_empty() {
        errs.add("body", "请填写您的问题");
    }
    too_long(&mut errs, "body", &body, MAX_QUESTION, "问题");
    errs.into_result()?;
    Ok((asker, body))
}

/// Text checked against a length: (field, label, max).
pub fn check_text(field: &str, label: &str, v: &str, max: usize) -> Result<String> {
    let v = v.trim().to_string();
    if v.is_empty() {
        return Err(Error::field(field, format!("请填写{label}")));
    }
    if v.chars().count() > max {
        return Err(Error::field(field, format!("{label}不能超过{max}个字")));
    }
    Ok(v)
}

/// One row the yearly counts are made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountRow {
    /// An interview that ended, of `kind`, on `ended_on`.
    Held { kind: String, ended_on: String },
    /// A question submitted at `submitted_at` (epoch ms), answered at `answered_at`.
    Question { submitted_at: i64, answered_at: Option<i64> },
}

/// The annual report's figures for one year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// 在线访谈 held (ended in the year).
    pub interviews: i64,
    /// 新闻发布会 held.
    pub press_conferences: i64,
    /// Questions received in the year (rejected ones included: they were received).
    pub questions_received: i64,
    /// Questions answered in the year.
    pub questions_answered: i64,
}

fn year_of_ms(ms: i64) -> i32 {
    gongkai_kernel::clock::ms_to_local(ms).year()
}

pub fn aggregate(rows: &[CountRow], year: i32) -> Counts {
    let mut c = Counts::default();
    for r in rows {
        match r {
            CountRow::Held { kind, ended_on } => {
                if gongkai_kernel::clock::parse_date(ended_on).is_some_and(|d| d.year() == year) {
                    match Kind::parse(kind) {
                        Some(Kind::Interview) => c.interviews += 1,
                        Some(Kind::Press) => c.press_conferences += 1,
                        None => {}
                    }
                }
            }
            CountRow::Question { submitted_at, answered_at } => {
                if year_of_ms(*submitted_at) == year {
                    c.questions_received += 1;
                }
                if answered_at.is_some_and(|a| year_of_ms(a) == year) {
                    c.questions_answered += 1;
                }
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn every_step_has_its_states() {
        use State::*;
        assert!(allowed(Draft, Step::Announce).is_ok());
        assert!(allowed(Announced, Step::Announce).is_err());
        assert_eq!(allowed(Draft, Step::GoLive).unwrap_err(), "请先发布预告，再开始直播");
        assert!(allowed(Announced, Step::GoLive).is_ok());
        assert!(allowed(Live, Step::End).is_ok());
        assert!(allowed(Announced, Step::End).is_err());
        assert!(allowed(Announced, Step::Ask).is_ok());
        assert!(allowed(Live, Step::Ask).is_ok());
        assert_eq!(allowed(Ended, Step::Ask).unwrap_err(), "访谈已结束，不再接受提问");
        assert!(allowed(Draft, Step::Ask).is_err());
        assert!(allowed(Announced, Step::Answer).is_err());
        assert!(allowed(Ended, Step::Answer).is_ok());
        assert!(allowed(Ended, Step::Update).is_err());
        assert!(allowed(Live, Step::Edit).is_err());
    }

    #[test]
    fn notice_is_three_calendar_days() {
        let today = date!(2026 - 05 - 11);
        assert!(check_notice(today, datetime!(2026-05-14 09:00)).is_ok());
        assert!(check_notice(today, datetime!(2026-05-14 00:00)).is_ok());
        let e = check_notice(today, datetime!(2026-05-13 23:59)).unwrap_err();
        assert!(e.contains("2026-05-14") && e.contains("只提前2天"), "{e}");
        assert!(check_notice(today, datetime!(2026-05-01 09:00)).unwrap_err().contains("只提前0天"));
    }

    #[test]
    fn guests_one_a_line() {
        let g = parse_guests("王立新 青禾区教育局局长\n\n李芳，区教育局基础教育科科长\n张伟").unwrap();
        assert_eq!(g.len(), 3);
        assert_eq!(g[0], GuestLine { name: "王立新".into(), title: "青禾区教育局局长".into() });
        assert_eq!(g[1].title, "区教育局基础教育科科长");
        assert_eq!(g[2].title, "");
        assert!(parse_guests("  \n ").is_err());
    }

    #[test]
    fn form_checks() {
        let f = InterviewForm {
            site_id: "1".into(),
            kind: "press".into(),
            topic: "  主题 ".into(),
            guests: "王立新 局长".into(),
            starts_at: "2026-05-20T09:30".into(),
            ends_at: "2026-05-20 11:00".into(),
            ..Default::default()
        };
        let v = validate(&f).unwrap();
        assert_eq!(v.topic, "主题");
        assert_eq!(v.answer_days, DEFAULT_ANSWER_DAYS);
        assert_eq!(v.kind, Kind::Press);
        let bad = InterviewForm { ends_at: "2026-05-20 09:00".into(), answer_days: "0".into(), ..f };
        let Err(Error::Invalid(errs)) = validate(&bad) else { panic!() };
        let fields: Vec<&str> = errs.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(fields, ["ends_at", "answer_days"]);
    }

    #[test]
    fn questions_are_checked() {
        assert_eq!(check_question(" 市民 ", " 问题？ ").unwrap(), ("市民".into(), "问题？".into()));
        assert!(check_question("", "   ").is_err());
        assert!(check_question("", &"问".repeat(500)).is_ok());
        assert!(check_question("", &"问".repeat(501)).is_err());
    }

    #[test]
    fn counts_by_year_and_kind() {
        let ms = |y: i32| gongkai_kernel::clock::local_to_ms(datetime!(2025-06-01 10:00).replace_year(y).unwrap());
        let rows = vec![
            CountRow::Held { kind: "interview".into(), ended_on: "2025-03-01".into() },
            CountRow::Held { kind: "interview".into(), ended_on: "2025-12-31".into() },
            CountRow::Held { kind: "press".into(), ended_on: "2025-07-01".into() },
            CountRow::Held { kind: "press".into(), ended_on: "2024-12-31".into() },
            CountRow::Question { submitted_at: ms(2025), answered_at: Some(ms(2025)) },
            CountRow::Question { submitted_at: ms(2025), answered_at: None },
            // Received the year before, answered in this one.
            CountRow::Question { submitted_at: ms(2024), answered_at: Some(ms(2025)) },
        ];
        let c = aggregate(&rows, 2025);
        assert_eq!(c, Counts { interviews: 2, press_conferences: 1, questions_received: 2, questions_answered: 2 });
        assert_eq!(aggregate(&rows, 2024).press_conferences, 1);
        assert_eq!(aggregate(&rows, 2024).questions_received, 1);
        // New Year's Eve 23:30 in Beijing is still the old year.
        let nye = gongkai_kernel::clock::local_to_ms(datetime!(2025-12-31 23:30));
        let c = aggregate(&[CountRow::Question { submitted_at: nye, answered_at: None }], 2025);
        assert_eq!(c.questions_received, 1);
    }
}
