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

/// A photo update's photo: at most this many bytes (the same limit as guest photos).
pub const MAX_PHOTO: usize = 2 * 1024 * 1024;
/// The photo's alternative text and caption, each at most this many characters.
pub const MAX_PHOTO_TEXT: usize = 200;

/// What a photo's first bytes say it is: the type and its size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PhotoInfo {
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// The content types a photo update may have, as [`sniff_photo`] names them.
pub const PHOTO_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];

fn be16(d: &[u8], i: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes([*d.get(i)?, *d.get(i + 1)?])))
}

fn le_bytes(d: &[u8], i: usize, n: usize) -> Option<u32> {
    let b = d.get(i..i + n)?;
    Some(b.iter().rev().fold(0u32, |acc, x| (acc << 8) | u32::from(*x)))
}

/// A JPEG's size from its first frame header (SOF0..SOF15 but DHT, JPG and DAC).
fn jpeg_size(d: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    loop {
        if *d.get(i)? != 0xff {
            return None;
        }
        while *d.get(i)? == 0xff {
            i += 1;
        }
        let marker = *d.get(i)?;
        i += 1;
        if marker == 0x01 || (0xd0..=0xd9).contains(&marker) {
            continue;
        }
        let len = be16(d, i)? as usize;
        if (0xc0..=0xcf).contains(&marker) && !matches!(marker, 0xc4 | 0xc8 | 0xcc) {
            return Some((be16(d, i + 5)?, be16(d, i + 3)?));
        }
        if len < 2 {
            return None;
        }
        i += len;
    }
}

/// A WebP's size from its first chunk (lossy VP8, lossless VP8L or extended VP8X).
fn webp_size(d: &[u8]) -> Option<(u32, u32)> {
    match d.get(12..16)? {
        b"VP8 " => {
            if d.get(23..26)? != [0x9d, 0x01, 0x2a] {
                return None;
            }
            Some((le_bytes(d, 26, 2)? & 0x3fff, le_bytes(d, 28, 2)? & 0x3fff))
        }
        b"VP8L" => {
            if *d.get(20)? != 0x2f {
                return None;
            }
            let b = le_bytes(d, 21, 4)?;
            Some(((b & 0x3fff) + 1, ((b >> 14) & 0x3fff) + 1))
        }
        b"VP8X" => Some((le_bytes(d, 24, 3)? + 1, le_bytes(d, 27, 3)? + 1)),
        _ => None,
    }
}

/// A JPEG, PNG or WebP photo recognised by its first bytes, with its size in pixels; None
/// for anything else (the file's name and the browser's claim are not trusted), and for a
/// file whose header is cut short or says it has no pixels.
pub fn sniff_photo(d: &[u8]) -> Option<PhotoInfo> {
    let (content_type, (width, height)) = if d.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
        if d.get(12..16)? != b"IHDR" {
            return None;
        }
        let w = u32::from_be_bytes(d.get(16..20)?.try_into().ok()?);
        let h = u32::from_be_bytes(d.get(20..24)?.try_into().ok()?);
        ("image/png", (w, h))
    } else if d.starts_with(&[0xff, 0xd8, 0xff]) {
        ("image/jpeg", jpeg_size(d)?)
    } else if d.starts_with(b"RIFF") && d.get(8..12) == Some(b"WEBP") {
        ("image/webp", webp_size(d)?)
    } else {
        return None;
    };
    if width == 0 || height == 0 || width > 65_535 || height > 65_535 {
        return None;
    }
    Some(PhotoInfo { content_type, width, height })
}

/// A checked update: its text (may be empty when a photo carries it) and its photo.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedUpdate {
    pub body: String,
    pub photo: Option<CheckedPhoto>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckedPhoto {
    pub info: PhotoInfo,
    /// What the photo shows, for screen readers (required).
    pub alt: String,
    /// Shown under the photo (optional).
    pub caption: String,
}

/// The moderator's update: text, a photo, or both. A photo needs its alternative text;
/// a photo's type is read from its bytes. Every problem is reported at once.
pub fn check_update(body: &str, photo: Option<&[u8]>, alt: &str, caption: &str) -> Result<CheckedUpdate> {
    let mut errs = FieldErrors::new();
    let body = body.trim().to_string();
    let alt = alt.trim().to_string();
    let caption = caption.trim().to_string();
    if body.is_empty() && photo.is_none() {
        errs.add("body", "请填写动态内容，或选择一张照片");
    }
    too_long(&mut errs, "body", &body, MAX_UPDATE, "动态内容");
    too_long(&mut errs, "alt", &alt, MAX_PHOTO_TEXT, "照片的文字描述");
    too_long(&mut errs, "caption", &caption, MAX_PHOTO_TEXT, "图片说明");
    let info = match photo {
        None => {
            if !alt.is_empty() || !caption.is_empty() {
                errs.add("photo", "填写了照片的描述或说明，但没有选择照片：请选择照片，或清空这两项");
            }
            None
        }
        Some(d) => {
            let info = if d.len() > MAX_PHOTO {
                errs.add("photo", format!("照片不能超过{}MB，请压缩后重新选择", MAX_PHOTO / 1024 / 1024));
                None
            } else {
                let info = sniff_photo(d);
                if info.is_none() {
                    errs.add("photo", "照片须为 JPG、PNG 或 WebP 图片（按文件内容识别，与扩展名无关），请重新选择");
                }
                info
            };
            if alt.is_empty() {
                errs.add("alt", "请填写照片的文字描述，说明照片的内容，供使用读屏软件的网民了解");
            }
            info
        }
    };
    errs.into_result()?;
    let photo = info.map(|info| CheckedPhoto { info, alt, caption });
    Ok(CheckedUpdate { body, photo })
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

    /// The smallest real headers of each type, with the size they declare.
    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut d = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
        d.extend_from_slice(b"IHDR");
        d.extend_from_slice(&w.to_be_bytes());
        d.extend_from_slice(&h.to_be_bytes());
        d.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        d
    }

    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut d = vec![0xff, 0xd8, 0xff, 0xe0, 0, 16];
        d.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        // A quantisation table before the frame header, as encoders write it.
        d.extend_from_slice(&[0xff, 0xdb, 0, 4, 0, 1]);
        d.extend_from_slice(&[0xff, 0xc2, 0, 11, 8]);
        d.extend_from_slice(&h.to_be_bytes());
        d.extend_from_slice(&w.to_be_bytes());
        d.extend_from_slice(&[1, 1, 0x11, 0]);
        d
    }

    #[test]
    fn photos_are_known_by_their_bytes() {
        assert_eq!(sniff_photo(&png(640, 480)), Some(PhotoInfo { content_type: "image/png", width: 640, height: 480 }));
        assert_eq!(
            sniff_photo(&jpeg(1200, 800)),
            Some(PhotoInfo { content_type: "image/jpeg", width: 1200, height: 800 })
        );
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\x10\0\0\0".to_vec();
        vp8x.extend_from_slice(&[0x7f, 0x02, 0x00, 0xdf, 0x01, 0x00]);
        assert_eq!(sniff_photo(&vp8x), Some(PhotoInfo { content_type: "image/webp", width: 640, height: 480 }));
        let mut vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\x9d\x01\x2a".to_vec();
        vp8.extend_from_slice(&[0x20, 0x03, 0x58, 0x02]);
        assert_eq!(sniff_photo(&vp8).map(|p| (p.width, p.height)), Some((800, 600)));
        // Lossless: 14 bits of width − 1, then 14 of height − 1.
        let bits: u32 = 99 | (49 << 14);
        let mut vp8l = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        vp8l.extend_from_slice(&bits.to_le_bytes());
        assert_eq!(sniff_photo(&vp8l).map(|p| (p.width, p.height)), Some((100, 50)));
        // HTML named .jpg, a GIF, a cut header, no pixels: none is a photo.
        assert_eq!(sniff_photo(b"<html><script>alert(1)</script></html>"), None);
        assert_eq!(sniff_photo(b"GIF89a\x01\0\x01\0"), None);
        assert_eq!(sniff_photo(&png(640, 480)[..20]), None);
        assert_eq!(sniff_photo(&[0xff, 0xd8, 0xff, 0xe0, 0, 16]), None);
        assert_eq!(sniff_photo(&png(0, 480)), None);
        assert_eq!(sniff_photo(b""), None);
    }

    #[test]
    fn updates_are_checked() {
        let fields = |r: Result<CheckedUpdate>| match r {
            Err(Error::Invalid(errs)) => errs.0.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let text = check_update(" 访谈开始。 ", None, "", "").unwrap();
        assert_eq!((text.body.as_str(), text.photo), ("访谈开始。", None));
        let photo = png(10, 20);
        let p = check_update("", Some(&photo), " 嘉宾在直播间 ", "").unwrap();
        assert_eq!(p.body, "");
        assert_eq!(p.photo.as_ref().map(|p| (p.alt.as_str(), p.info.height)), Some(("嘉宾在直播间", 20)));
        assert_eq!(fields(check_update(" ", None, "", "")), ["body"]);
        assert_eq!(fields(check_update("文字", Some(&photo), "  ", "说明")), ["alt"]);
        assert_eq!(fields(check_update("文字", Some(b"<html>"), "描述", "")), ["photo"]);
        assert_eq!(fields(check_update("文字", None, "描述", "")), ["photo"]);
        let big = [photo.clone(), vec![0; MAX_PHOTO]].concat();
        assert_eq!(fields(check_update("", Some(&big), "", "")), ["photo", "alt"]);
        assert_eq!(fields(check_update("", Some(&photo), &"述".repeat(201), "")), ["alt"]);
        let Err(Error::Invalid(errs)) = check_update("", Some(b"<html>"), "", "") else { panic!() };
        assert!(errs.get("photo").is_some_and(|m| m.contains("JPG、PNG 或 WebP")));
        assert!(errs.get("alt").is_some_and(|m| m.contains("读屏")));
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
