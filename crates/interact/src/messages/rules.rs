//! The pure rules of a message: what a submission must hold, which step may follow which,
//! the deadline on the working-day calendar, and what the sweep flags.

use serde::{Deserialize, Serialize};
use time::Date;

use gongkai_kernel::calendar::rules::{Calendar, DueExplanation};
use gongkai_kernel::error::{Error, FieldErrors, Result};

use super::{KINDS, State, is_word};

pub const TITLE_MAX: usize = 100;
pub const CONTENT_MAX: usize = 3000;
pub const REPLY_MAX: usize = 5000;
pub const NOTE_MAX: usize = 500;
/// Working days to answer when the site sets nothing for the type.
pub const DEFAULT_DAYS: u32 = 5;
/// Reminder lead, in working days before the due date.
pub const REMIND_DAYS: u32 = 1;
/// Days after submission past which a message without a valid reply raises the alarm
/// (three months without a reply fails a site at inspection; this warns ahead of it).
pub const ALARM_DAYS: i64 = 80;

/// The public form as typed (the guard fields travel beside it).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SubmitForm {
    #[serde(default)]
    pub kind: String,
    /// "leader" for the 领导信箱, else an organisation id.
    #[serde(default)]
    pub addressee: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub agree: String,
}

/// Who a message is addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressee {
    /// The 领导信箱 of the site's organisation.
    Leader,
    Org(i64),
}

/// A checked submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub kind: String,
    pub addressee: Addressee,
    pub title: String,
    pub content: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub agree: bool,
}

/// Text from a form: trimmed, line ends normalised, control characters (other than line
/// breaks and tabs) dropped.
pub fn clean(s: &str) -> String {
    s.replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_string()
}

fn required(errs: &mut FieldErrors, field: &str, v: &str, max: usize, label: &str) {
    if v.is_empty() {
        errs.add(field, format!("请填写{label}"));
    } else if v.chars().count() > max {
        errs.add(field, format!("{label}不能超过{max}个字（现有{}个字）", v.chars().count()));
    }
}

/// A telephone number a person typed: a mainland mobile, or a landline of digits with
/// separators (0571-88001000).
pub fn phone_ok(phone: &str) -> bool {
    if gongkai_kernel::cn::is_mobile_phone(phone) {
        return true;
    }
    let digits = phone.chars().filter(|c| c.is_ascii_digit()).count();
    phone.starts_with('0') && (10..=12).contains(&digits) && phone.chars().all(|c| c.is_ascii_digit() || c == '-')
}

pub fn email_ok(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && email.len() <= 100
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.chars().all(|c| c.is_ascii_alphanumeric() || "@._%+-".contains(c))
        && !domain.contains('@')
}

pub fn validate(f: &SubmitForm) -> Result<Submission> {
    let mut errs = FieldErrors::new();
    let kind = f.kind.trim().to_string();
    if !is_word(KINDS, &kind) {
        errs.add("kind", "请选择留言类型");
    }
    let addressee = match f.addressee.trim() {
        "leader" => Some(Addressee::Leader),
        s => s.parse::<i64>().ok().filter(|id| *id > 0).map(Addressee::Org),
    };
    if addressee.is_none() {
        errs.add("addressee", "请选择留言对象");
    }
    let title = clean(&f.title).replace(['\n', '\t'], " ");
    required(&mut errs, "title", &title, TITLE_MAX, "留言标题");
    let content = clean(&f.content);
    required(&mut errs, "content", &content, CONTENT_MAX, "留言内容");
    let name = clean(&f.name).replace(['\n', '\t'], " ");
    required(&mut errs, "name", &name, 50, "姓名");
    let phone = f.phone.trim().replace(' ', "");
    if phone.is_empty() {
        errs.add("phone", "请填写联系电话，便于工作人员与您联系（不会公开）");
    } else if !phone_ok(&phone) {
        errs.add("phone", "联系电话格式不正确，例如 13812345678 或 0571-88001000");
    }
    let email = f.email.trim().to_string();
    if !email.is_empty() && !email_ok(&email) {
        errs.add("email", "电子邮箱格式不正确，例如 name@example.cn");
    }
    errs.into_result()?;
    let addressee = addressee.ok_or_else(|| Error::internal("validated addressee missing"))?;
    Ok(Submission {
        kind,
        addressee,
        title,
        content,
        name,
        phone,
        email,
        agree: matches!(f.agree.trim(), "1" | "on" | "yes" | "true"),
    })
}

/// Attachments a message may carry: how many, how large each.
pub const FILES_MAX: usize = 3;
pub const FILE_BYTES_MAX: usize = 5 * 1024 * 1024;
const FILE_NAME_MAX: usize = 100;

/// The accepted types: extension, content type, and the bytes the file must start with
/// (the extension alone proves nothing; DOCX and XLSX are ZIP packages).
const FILE_TYPES: &[(&str, &str, &[u8])] = &[
    ("pdf", "application/pdf", b"%PDF"),
    ("jpg", "image/jpeg", b"\xFF\xD8\xFF"),
    ("jpeg", "image/jpeg", b"\xFF\xD8\xFF"),
    ("png", "image/png", b"\x89PNG"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
];

/// A file as uploaded.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub name: String,
    pub data: Vec<u8>,
}

/// A file that passed the checks: its cleaned name and content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedFile {
    pub name: String,
    pub content_type: &'static str,
}

/// The name to keep: the last path component (some browsers send a full path), without
/// control characters, at most `FILE_NAME_MAX` characters keeping the extension.
pub fn file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let base: String = base.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_string();
    if base.chars().count() <= FILE_NAME_MAX {
        return base;
    }
    let ext = base.rsplit_once('.').map(|(_, e)| e).filter(|e| e.len() <= 5).unwrap_or("");
    let stem: String = base.chars().take(FILE_NAME_MAX - ext.len() - 1).collect();
    if ext.is_empty() { stem } else { format!("{stem}.{ext}") }
}

/// Check the attachments (field `files`). Every message asks to choose the files again,
/// because a browser cannot put them back into the form.
pub fn check_files(files: &[Upload]) -> Result<Vec<CheckedFile>> {
    const AGAIN: &str = "请重新选择附件";
    if files.len() > FILES_MAX {
        return Err(Error::field("files", format!("最多上传{FILES_MAX}个附件（现有{}个），{AGAIN}", files.len())));
    }
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let name = file_name(&f.name);
        let shown = if name.is_empty() { "未命名文件".to_string() } else { name.clone() };
        if f.data.is_empty() {
            return Err(Error::field("files", format!("附件“{shown}”是空文件，{AGAIN}")));
        }
        if f.data.len() > FILE_BYTES_MAX {
            let mb = FILE_BYTES_MAX / 1024 / 1024;
            return Err(Error::field("files", format!("附件“{shown}”超过{mb}MB，请压缩或拆分后{AGAIN}")));
        }
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        let Some((_, content_type, magic)) = FILE_TYPES.iter().find(|(e, _, _)| *e == ext) else {
            return Err(Error::field(
                "files",
                format!("附件“{shown}”的类型不支持：只能上传 PDF、JPEG、PNG、DOCX 或 XLSX 文件，{AGAIN}"),
            ));
        };
        if !f.data.starts_with(magic) {
            return Err(Error::field(
                "files",
                format!("附件“{shown}”的内容与文件类型不符（可能已损坏或改过扩展名），{AGAIN}"),
            ));
        }
        out.push(CheckedFile { name, content_type });
    }
    Ok(out)
}

/// A step on a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Accept,
    Reject,
    /// To an organisation, first time (from accepted) or onwards (a transfer).
    Assign,
    Draft,
    /// One review level passed; `last` when it was the final level.
    Approve {
        last: bool,
    },
    SendBack,
    Send,
    Publish,
}

/// The state after `step`, or why it may not be taken now.
pub fn next(state: State, step: Step) -> std::result::Result<State, &'static str> {
    use State::*;
    match (state, step) {
        (Submitted, Step::Accept) => Ok(Accepted),
        (Submitted, Step::Reject) => Ok(Rejected),
        (Accepted | Assigned, Step::Assign) => Ok(Assigned),
        (Assigned, Step::Draft) => Ok(Replied),
        (Replied, Step::Approve { last: false }) => Ok(Replied),
        (Replied, Step::Approve { last: true }) => Ok(Reviewed),
        (Replied | Reviewed, Step::SendBack) => Ok(Assigned),
        (Reviewed, Step::Send) => Ok(Sent),
        (Sent, Step::Publish) => Ok(Published),
        (_, Step::Accept | Step::Reject) => Err("该留言已经作过受理处理"),
        (_, Step::Assign) => Err("只有已受理、尚未答复的留言可以交办或转办"),
        (_, Step::Draft) => Err("只有交办到本单位、尚未提交答复的留言可以起草答复"),
        (_, Step::Approve { .. } | Step::SendBack) => Err("该留言没有待审核的答复"),
        (_, Step::Send) => Err("答复审核通过后才能发送"),
        (_, Step::Publish) => Err("答复发送后才能公开"),
    }
}

/// The deadline from the acceptance day, with the explanation shown to staff.
pub fn due(cal: &Calendar, accepted_on: Date, days: u32) -> DueExplanation {
    cal.explain_add_working_days(accepted_on, days)
}

/// What the sweep needs of a message.
#[derive(Debug, Clone)]
pub struct ClockView {
    pub state: State,
    pub submitted_on: Date,
    pub accepted_on: Option<Date>,
    pub due_days: Option<u32>,
    pub reminded_due: Option<Date>,
}

/// The flags a message should carry today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flags {
    pub due: Option<Date>,
    pub overdue: bool,
    /// A reminder is due now (not yet sent for this due date).
    pub remind: bool,
    pub alarm: bool,
}

pub fn flags(cal: &Calendar, m: &ClockView, today: Date) -> Flags {
    let due = match (m.accepted_on, m.due_days) {
        (Some(a), Some(n)) => Some(cal.add_working_days(a, n)),
        _ => None,
    };
    let runs = m.state.clock_runs();
    let overdue = runs && due.is_some_and(|d| today > d);
    let remind = runs
        && !overdue
        && due.is_some_and(|d| cal.working_days_between(today, d) <= REMIND_DAYS && m.reminded_due != Some(d));
    let alarm = !m.state.is_answered() && (today - m.submitted_on).whole_days() >= ALARM_DAYS;
    Flags { due, overdue, remind, alarm }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn form() -> SubmitForm {
        SubmitForm {
            kind: "consult".into(),
            addressee: "leader".into(),
            title: "关于小区门口路灯不亮的问题".into(),
            content: "东湖路12号小区门口的路灯已经坏了两周。".into(),
            name: "张三".into(),
            phone: "13812345678".into(),
            email: String::new(),
            agree: "1".into(),
        }
    }

    fn fields(e: Error) -> Vec<String> {
        match e {
            Error::Invalid(f) => f.0.into_iter().map(|(k, _)| k).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn a_good_submission() {
        let s = validate(&form()).unwrap();
        assert_eq!(s.addressee, Addressee::Leader);
        assert!(s.agree);
        let mut f = form();
        f.addressee = "7".into();
        f.agree = String::new();
        f.phone = "0571-88001000".into();
        let s = validate(&f).unwrap();
        assert_eq!(s.addressee, Addressee::Org(7));
        assert!(!s.agree);
    }

    #[test]
    fn bad_submissions() {
        type Change = Box<dyn Fn(&mut SubmitForm)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|f| f.kind = "praise".into()), "kind"),
            (Box::new(|f| f.addressee = "".into()), "addressee"),
            (Box::new(|f| f.addressee = "-3".into()), "addressee"),
            (Box::new(|f| f.title = "  ".into()), "title"),
            (Box::new(|f| f.title = "长".repeat(101)), "title"),
            (Box::new(|f| f.content = "".into()), "content"),
            (Box::new(|f| f.content = "字".repeat(3001)), "content"),
            (Box::new(|f| f.name = "".into()), "name"),
            (Box::new(|f| f.phone = "".into()), "phone"),
            (Box::new(|f| f.phone = "12345".into()), "phone"),
            (Box::new(|f| f.phone = "<script>".into()), "phone"),
            (Box::new(|f| f.email = "not-an-email".into()), "email"),
            (Box::new(|f| f.email = "a@b".into()), "email"),
        ];
        for (change, field) in cases {
            let mut f = form();
            change(&mut f);
            assert_eq!(fields(validate(&f).unwrap_err()), vec![field.to_string()], "{field}");
        }
        // Exactly at the limits is fine.
        let mut f = form();
        f.title = "长".repeat(100);
        f.content = "字".repeat(3000);
        assert!(validate(&f).is_ok());
    }

    #[test]
    fn clean_drops_control_characters() {
        assert_eq!(clean("  a\u{0}b\r\nc\u{7}  "), "ab\nc");
    }

    #[test]
    fn the_state_machine() {
        use State::*;
        let ok = [
            (Submitted, Step::Accept, Accepted),
            (Submitted, Step::Reject, Rejected),
            (Accepted, Step::Assign, Assigned),
            (Assigned, Step::Assign, Assigned),
            (Assigned, Step::Draft, Replied),
            (Replied, Step::Approve { last: false }, Replied),
            (Replied, Step::Approve { last: true }, Reviewed),
            (Replied, Step::SendBack, Assigned),
            (Reviewed, Step::Send, Sent),
            (Sent, Step::Publish, Published),
        ];
        for (from, step, to) in ok {
            assert_eq!(next(from, step), Ok(to), "{from:?} {step:?}");
        }
        let steps = [
            Step::Accept,
            Step::Reject,
            Step::Assign,
            Step::Draft,
            Step::Approve { last: false },
            Step::Approve { last: true },
            Step::SendBack,
            Step::Send,
            Step::Publish,
        ];
        let mut allowed = 0;
        for s in State::ALL {
            for step in steps {
                if next(s, step).is_ok() {
                    allowed += 1;
                }
            }
        }
        // The ten above plus sending back an approved reply.
        assert_eq!(allowed, 11);
        assert!(next(Rejected, Step::Assign).is_err());
        assert!(next(Published, Step::Publish).is_err());
        assert!(next(Sent, Step::Send).is_err());
    }

    fn cal() -> Calendar {
        use gongkai_kernel::calendar::rules::{DayKind, SpecialDay};
        // 2025 National Day: 10-01..08 off, 09-28 (Sun) and 10-11 (Sat) worked.
        let mut days: Vec<SpecialDay> = (1..=8)
            .map(|d| SpecialDay {
                date: Date::from_calendar_date(2025, time::Month::October, d).unwrap(),
                kind: DayKind::Holiday,
                name: "国庆节、中秋节".into(),
            })
            .collect();
        for d in [date!(2025 - 09 - 28), date!(2025 - 10 - 11)] {
            days.push(SpecialDay { date: d, kind: DayKind::AdjustedWorkday, name: "国庆节、中秋节".into() });
        }
        Calendar::new(days, [2025])
    }

    #[test]
    fn deadlines_across_a_holiday_and_an_adjusted_workday() {
        let cal = cal();
        // Accepted Fri 2025-09-26: Sun 09-28 is worked, 09-29, 09-30, then the holiday;
        // 10-09 and 10-10 follow: the 5th working day is 10-10.
        let e = due(&cal, date!(2025 - 09 - 26), 5);
        assert_eq!(e.due, date!(2025 - 10 - 10));
        assert_eq!(e.adjusted_counted, vec![date!(2025 - 09 - 28)]);
        let zh = e.to_zh();
        assert!(zh.contains("截止2025-10-10") && zh.contains("国庆节、中秋节") && zh.contains("调休"), "{zh}");
        // Accepted Thu 10-09: 10-10, Sat 10-11 (worked), 10-13, 10-14, 10-15.
        assert_eq!(due(&cal, date!(2025 - 10 - 09), 5).due, date!(2025 - 10 - 15));
    }

    #[test]
    fn flags_remind_overdue_and_alarm() {
        let cal = cal();
        let m = ClockView {
            state: State::Assigned,
            submitted_on: date!(2025 - 09 - 25),
            accepted_on: Some(date!(2025 - 09 - 26)),
            due_days: Some(5),
            reminded_due: None,
        };
        let f = flags(&cal, &m, date!(2025 - 09 - 29));
        assert_eq!(f.due, Some(date!(2025 - 10 - 10)));
        assert!(!f.remind && !f.overdue && !f.alarm);
        // One working day before the due date; the holiday does not count as one.
        assert!(!flags(&cal, &m, date!(2025 - 09 - 30)).remind);
        assert!(!flags(&cal, &m, date!(2025 - 10 - 08)).remind);
        assert!(flags(&cal, &m, date!(2025 - 10 - 09)).remind);
        let reminded = ClockView { reminded_due: Some(date!(2025 - 10 - 10)), ..m.clone() };
        assert!(!flags(&cal, &reminded, date!(2025 - 10 - 09)).remind);
        assert!(!flags(&cal, &m, date!(2025 - 10 - 10)).overdue);
        assert!(flags(&cal, &m, date!(2025 - 10 - 11)).overdue);
        // 80 days after submission without a valid reply.
        assert!(!flags(&cal, &m, date!(2025 - 12 - 13)).alarm);
        assert!(flags(&cal, &m, date!(2025 - 12 - 14)).alarm);
        let sent = ClockView { state: State::Sent, ..m.clone() };
        let f = flags(&cal, &sent, date!(2025 - 12 - 20));
        assert!(!f.alarm && !f.overdue && !f.remind);
        // Never accepted: no deadline, but the alarm still rings.
        let waiting = ClockView { state: State::Submitted, accepted_on: None, due_days: None, ..m };
        let f = flags(&cal, &waiting, date!(2025 - 12 - 20));
        assert_eq!(f.due, None);
        assert!(f.alarm && !f.overdue);
    }

    #[test]
    fn attachments_are_checked_by_count_size_and_leading_bytes() {
        let up = |name: &str, data: &[u8]| Upload { name: name.into(), data: data.to_vec() };
        let ok = check_files(&[up("C:\\Users\\a\\扫描件.PDF", b"%PDF-1.7"), up("图.png", b"\x89PNG\r\n")]).unwrap();
        assert_eq!(ok[0], CheckedFile { name: "扫描件.PDF".into(), content_type: "application/pdf" });
        assert_eq!(ok[1].content_type, "image/png");
        assert!(
            check_files(&[up("a.docx", b"PK\x03\x04"), up("b.xlsx", b"PK\x03\x04"), up("c.jpg", b"\xFF\xD8\xFF")])
                .is_ok()
        );
        let field = |r: Result<Vec<CheckedFile>>| match r {
            Err(Error::Invalid(f)) => f.get("files").unwrap_or_default().to_string(),
            other => panic!("{other:?}"),
        };
        assert!(field(check_files(&[up("a.pdf", b"\x89PNG")])).contains("内容与文件类型不符"));
        assert!(field(check_files(&[up("a.exe", b"MZ")])).contains("类型不支持"));
        assert!(field(check_files(&[up("a.pdf", b"")])).contains("空文件"));
        let big = [b"%PDF".as_slice(), &vec![0u8; FILE_BYTES_MAX]].concat();
        assert!(field(check_files(&[up("a.pdf", &big)])).contains("超过5MB"));
        let four = vec![up("a.pdf", b"%PDF"); 4];
        let msg = field(check_files(&four));
        assert!(msg.contains("最多上传3个附件") && msg.contains("重新选择"), "{msg}");
        let long = format!("{}.pdf", "长".repeat(300));
        assert_eq!(file_name(&long).chars().count(), FILE_NAME_MAX);
        assert!(file_name(&long).ends_with(".pdf"));
    }
}
