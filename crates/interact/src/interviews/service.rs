//! Use cases of interviews. Each is one transaction: check the permission (ContentEdit
//! over the site's organisation and site), apply the pure rules, write, audit, emit an
//! outbox event. `at` is the instant of the action (epoch ms): handlers pass the clock,
//! tests and the demo pass the instant they need.

use serde::Deserialize;
use serde_json::json;
use time::Date;

use gongkai_kernel::audit::{self, Actor};
use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::clock;
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::outbox;
use gongkai_kernel::site::Site;

use super::rules::{self, Step};
use super::store::{self, EntryPhoto, InterviewData, InterviewRow, NewEntry};
use super::{Kind, State};

pub const TOPIC: &str = "interview";

fn date_of(at: i64) -> Date {
    clock::ms_to_local(at).date()
}

fn state_of(r: &InterviewRow) -> State {
    State::parse(&r.state).unwrap_or(State::Draft)
}

fn check(r: &InterviewRow, step: Step) -> Result<()> {
    rules::allowed(state_of(r), step).map_err(Error::Conflict)
}

/// The site and its organisation's path.
async fn site_of(c: &mut Conn<'_>, site_id: i64) -> Result<(Site, Option<String>)> {
    let site = gongkai_kernel::site::store::get(c, site_id).await?.ok_or(Error::NotFound)?;
    let path = match site.org_id {
        Some(o) => gongkai_kernel::org::store::get(c, o).await?.map(|o| o.path),
        None => None,
    };
    Ok((site, path))
}

/// May `who` run interviews on this site: ContentEdit over its organisation and the site.
pub fn may_edit(who: &Principal, site: &Site, org_path: Option<&str>) -> bool {
    who.can(Perm::ContentEdit, org_path, Some(site.id))
}

async fn editable_site(c: &mut Conn<'_>, who: &Principal, site_id: i64) -> Result<Site> {
    let (site, path) = match site_of(c, site_id).await {
        Ok(v) => v,
        Err(Error::NotFound) => return Err(Error::field("site_id", "网站不存在")),
        Err(e) => return Err(e),
    };
    if !may_edit(who, &site, path.as_deref()) {
        return Err(Error::Forbidden("您没有管理该网站在线访谈的权限".into()));
    }
    Ok(site)
}

/// An interview the principal may manage, with its site.
pub async fn load_for(db: &Db, who: &Principal, id: i64) -> Result<(InterviewRow, Site)> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let r = store::get(&mut c, id).await?.ok_or(Error::NotFound)?;
    let site = editable_site(&mut c, who, r.site_id).await?;
    Ok((r, site))
}

/// In a transaction: the interview, after the permission check.
async fn locked(c: &mut Conn<'_>, who: &Principal, id: i64) -> Result<InterviewRow> {
    let r = store::get(c, id).await?.ok_or(Error::NotFound)?;
    editable_site(c, who, r.site_id).await?;
    Ok(r)
}

fn data(v: &rules::InterviewValues) -> InterviewData<'_> {
    InterviewData {
        site_id: v.site_id,
        kind: v.kind.as_str(),
        topic: &v.topic,
        intro: &v.intro,
        starts_at: clock::local_to_ms(v.starts_at),
        ends_at: clock::local_to_ms(v.ends_at),
        answer_days: v.answer_days,
    }
}

fn guest_pairs(v: &rules::InterviewValues) -> Vec<(String, String)> {
    v.guests.iter().map(|g| (g.name.clone(), g.title.clone())).collect()
}

pub async fn create(db: &Db, who: &Principal, ip: &str, f: &rules::InterviewForm, at: i64) -> Result<i64> {
    let v = rules::validate(f)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    editable_site(&mut c, who, v.site_id).await?;
    let id = store::insert(&mut c, &data(&v), Some(who.user_id), at).await?;
    store::replace_guests(&mut c, id, &guest_pairs(&v)).await?;
    let summary = json!({ "after": { "kind": v.kind.as_str(), "topic": v.topic, "site_id": v.site_id,
                         "starts_at": clock::fmt_local(v.starts_at), "guests": v.guests.len() } });
    audit::append(&mut c, &who.actor(ip), "itv.create", TOPIC, id, summary).await?;
    outbox::emit(&mut c, TOPIC, id, json!({ "event": "created" })).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(db: &Db, who: &Principal, ip: &str, id: i64, f: &rules::InterviewForm, at: i64) -> Result<()> {
    let v = rules::validate(f)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = locked(&mut c, who, id).await?;
    check(&before, Step::Edit)?;
    editable_site(&mut c, who, v.site_id).await?;
    // Once announced, the notice still holds for the new start.
    if let Some(on) = before.announced_on.as_deref().and_then(clock::parse_date) {
        rules::check_notice(on, v.starts_at).map_err(|m| Error::field("starts_at", m))?;
    }
    if !store::update(&mut c, id, &data(&v), at).await? {
        return Err(Error::Conflict("访谈已开始，不能再修改基本信息".into()));
    }
    store::replace_guests(&mut c, id, &guest_pairs(&v)).await?;
    let summary = json!({
        "before": { "topic": before.topic, "starts_at": clock::fmt_ms(before.starts_at), "kind": before.kind },
        "after": { "topic": v.topic, "starts_at": clock::fmt_local(v.starts_at), "kind": v.kind.as_str() },
    });
    audit::append(&mut c, &who.actor(ip), "itv.update", TOPIC, id, summary).await?;
    outbox::emit(&mut c, TOPIC, id, json!({ "event": "updated" })).await?;
    tx.commit().await?;
    Ok(())
}

/// Move the interview along one step in one transaction.
async fn step(
    db: &Db,
    who: &Principal,
    ip: &str,
    id: i64,
    step: Step,
    at: i64,
    extra: impl AsyncFnOnce(&mut Conn<'_>, &InterviewRow) -> Result<serde_json::Value>,
) -> Result<()> {
    let (to, action) = match step {
        Step::Announce => (State::Announced, "itv.announce"),
        Step::GoLive => (State::Live, "itv.live"),
        _ => (State::Ended, "itv.end"),
    };
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let r = locked(&mut c, who, id).await?;
    check(&r, step)?;
    let more = extra(&mut c, &r).await?;
    if !store::transition(&mut c, id, &r.state, to.as_str(), at).await? {
        return Err(Error::Conflict("访谈状态已被他人更改，请刷新页面".into()));
    }
    let summary = json!({ "before": { "state": r.state }, "after": { "state": to.as_str() }, "detail": more });
    audit::append(&mut c, &who.actor(ip), action, TOPIC, id, summary).await?;
    outbox::emit(&mut c, TOPIC, id, json!({ "event": to.as_str() })).await?;
    tx.commit().await?;
    Ok(())
}

/// Announce: the question box opens. The start must be ≥ 3 calendar days away.
pub async fn announce(db: &Db, who: &Principal, ip: &str, id: i64, at: i64) -> Result<()> {
    step(db, who, ip, id, Step::Announce, at, async |c, r| {
        let today = date_of(at);
        rules::check_notice(today, clock::ms_to_local(r.starts_at)).map_err(Error::Conflict)?;
        store::set_announced(c, r.id, &clock::fmt_date(today)).await?;
        Ok(json!({ "announced_on": clock::fmt_date(today) }))
    })
    .await
}

pub async fn go_live(db: &Db, who: &Principal, ip: &str, id: i64, at: i64) -> Result<()> {
    step(db, who, ip, id, Step::GoLive, at, async |c, r| {
        store::set_live(c, r.id, at).await?;
        Ok(json!({}))
    })
    .await
}

/// End the session: the page becomes the archive; questions still open get a due date
/// `answer_days` working days after today.
pub async fn end(db: &Db, who: &Principal, ip: &str, id: i64, at: i64) -> Result<()> {
    let cal = gongkai_kernel::calendar::service::load(db).await?;
    step(db, who, ip, id, Step::End, at, async |c, r| {
        let on = date_of(at);
        let due = rules::answer_due(&cal, on, r.answer_days);
        store::set_ended(c, r.id, at, &clock::fmt_date(on), &clock::fmt_date(due.due)).await?;
        Ok(json!({ "ended_on": clock::fmt_date(on), "answer_due_on": clock::fmt_date(due.due) }))
    })
    .await
}

/// A question as the public typed it, with the form's idempotency key.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub asker: &'a str,
    pub body: &'a str,
    pub idem: &'a str,
}

/// What a public question did: its id and whether this call created it (false: a
/// repeated submission with the same key).
pub async fn submit_question(
    db: &Db,
    site_id: i64,
    id: i64,
    q: &Question<'_>,
    ip: &str,
    at: i64,
) -> Result<(i64, bool)> {
    let (asker, body) = rules::check_question(q.asker, q.body)?;
    let idem = q.idem.trim();
    if idem.is_empty() || idem.len() > 64 {
        return Err(Error::field("body", "表单已过期，请刷新页面后重新提交"));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let r = store::get(&mut c, id).await?.filter(|r| r.site_id == site_id).ok_or(Error::NotFound)?;
    if let Some(q) = store::question_by_idem(&mut c, idem).await? {
        return Ok((q.id, false));
    }
    check(&r, Step::Ask)?;
    let (qid, created) = store::insert_question(&mut c, id, "public", Some(idem), &asker, &body, "pending", at).await?;
    if created {
        let actor = Actor { user_id: None, name: "网民".into(), role: "public".into(), org_id: None, ip: ip.into() };
        audit::append(&mut c, &actor, "itv.question", TOPIC, id, json!({ "after": { "question_id": qid } })).await?;
        outbox::emit(&mut c, TOPIC, id, json!({ "event": "question", "question_id": qid })).await?;
    }
    tx.commit().await?;
    Ok((qid, created))
}

/// What the moderator decides on a question.
#[derive(Debug, Clone, Copy)]
pub enum Moderation<'a> {
    Approve,
    /// Not used, with the reason (may be empty).
    Reject(&'a str),
}

/// Approve a submitted question into the moderator's queue, or reject it.
pub async fn moderate(
    db: &Db,
    who: &Principal,
    ip: &str,
    id: i64,
    qid: i64,
    decision: Moderation<'_>,
    at: i64,
) -> Result<()> {
    let (approve, reason) = match decision {
        Moderation::Approve => (true, ""),
        Moderation::Reject(r) => (false, r.trim()),
    };
    if reason.chars().count() > 200 {
        return Err(Error::field("reason", "理由不能超过200个字"));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let r = locked(&mut c, who, id).await?;
    check(&r, Step::Moderate)?;
    let q = store::question(&mut c, id, qid).await?.ok_or(Error::NotFound)?;
    let (from, to): (&[&str], &str) =
        if approve { (&["pending"], "queued") } else { (&["pending", "queued"], "rejected") };
    if !store::question_state(&mut c, qid, from, to, reason, None).await? {
        return Err(Error::Conflict(match q.state.as_str() {
            "answered" => "该问题已经答复".to_string(),
            "rejected" => "该问题已不予采用".to_string(),
            _ => "该问题已在待答列表中".to_string(),
        }));
    }
    let summary =
        json!({ "before": { "state": q.state }, "after": { "state": to, "reason": reason }, "question_id": qid });
    audit::append(&mut c, &who.actor(ip), "itv.moderate", TOPIC, id, summary).await?;
    outbox::emit(&mut c, TOPIC, id, json!({ "event": "moderated", "question_id": qid, "at": at })).await?;
    tx.commit().await?;
    Ok(())
}

/// The answer form: a submitted question (`question_id`) or one typed by the moderator.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct AnswerForm {
    #[serde(default)]
    pub question_id: String,
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub asker: String,
    #[serde(default)]
    pub guest: String,
    #[serde(default)]
    pub answer: String,
}

/// Publish a question-and-answer pair: at once on the live page, or on the archive for a
/// question the session left open. A question is answered once.
pub async fn publish_answer(db: &Db, who: &Principal, ip: &str, id: i64, f: &AnswerForm, at: i64) -> Result<i64> {
    let answer = rules::check_text("answer", "答复内容", &f.answer, rules::MAX_ANSWER)?;
    let qid = match f.question_id.trim() {
        "" => None,
        s => Some(s.parse::<i64>().map_err(|_| Error::field("question_id", "请选择要答复的问题"))?),
    };
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let r = locked(&mut c, who, id).await?;
    check(&r, Step::Answer)?;
    let guests = store::guests(&mut c, id).await?;
    let guest = guests
        .iter()
        .find(|g| g.name == f.guest.trim())
        .ok_or_else(|| Error::field("guest", "请选择答复的嘉宾"))?
        .name
        .clone();
    let ended = state_of(&r) == State::Ended;
    let (qid, question, asker) = match qid {
        Some(qid) => {
            let q = store::question(&mut c, id, qid).await?.ok_or_else(|| Error::field("question_id", "问题不存在"))?;
            if !store::question_state(&mut c, qid, &["pending", "queued"], "answered", "", Some(at)).await? {
                return Err(Error::Conflict(match q.state.as_str() {
                    "answered" => "该问题已经答复，不能重复发布".into(),
                    _ => "该问题已不予采用，不能发布".into(),
                }));
            }
            (qid, q.body, q.asker)
        }
        None if ended => return Err(Error::field("question_id", "访谈结束后只能答复网民已提交的问题")),
        None => {
            let question = rules::check_text("question", "问题", &f.question, rules::MAX_QUESTION)?;
            let asker = f.asker.trim().to_string();
            if asker.chars().count() > 40 {
                return Err(Error::field("asker", "称呼不能超过40个字"));
            }
            let (qid, _) = store::insert_question(&mut c, id, "staff", None, &asker, &question, "answered", at).await?;
            store::question_state(&mut c, qid, &["answered"], "answered", "", Some(at)).await?;
            (qid, question, asker)
        }
    };
    let seq = store::next_seq(&mut c, id).await?;
    let entry = NewEntry {
        interview_id: id,
        seq,
        kind: "qa",
        question_id: Some(qid),
        question: &question,
        asker: &asker,
        guest: &guest,
        body: &answer,
        photo: None,
        after_session: ended,
        at,
        by: Some(who.user_id),
    };
    store::insert_entry(&mut c, &entry).await?;
    let summary = json!({ "after": { "seq": seq, "question_id": qid, "guest": guest, "after_session": ended } });
    audit::append(&mut c, &who.actor(ip), "itv.answer", TOPIC, id, summary).await?;
    outbox::emit(&mut c, TOPIC, id, json!({ "event": "entry", "seq": seq })).await?;
    tx.commit().await?;
    Ok(seq)
}

/// Publish a text update (图文直播) on the live page.
pub async fn publish_update(db: &Db, who: &Principal, ip: &str, id: i64, body: &str, at: i64) -> Result<i64> {
    publish_update_post(db, who, ip, id, &UpdatePost { body, ..Default::default() }, at).await
}

/// An update as the moderator's live desk sends it: text, a photo, or both.
#[derive(Debug, Clone, Copy, Default)]
pub struct UpdatePost<'a> {
    pub body: &'a str,
    /// The chosen file's bytes, as uploaded (checked here, not trusted).
    pub photo: Option<&'a [u8]>,
    /// What the photo shows, for screen readers; required with a photo.
    pub alt: &'a str,
    pub caption: &'a str,
}

/// Publish an update with an optional photo (图文直播). The photo is checked before
/// anything is written (type by its first bytes, ≤ 2 MB, alternative text), then stored
/// with the entry, audited and announced in one transaction.
pub async fn publish_update_post(
    db: &Db,
    who: &Principal,
    ip: &str,
    id: i64,
    u: &UpdatePost<'_>,
    at: i64,
) -> Result<i64> {
    let checked = rules::check_update(u.body, u.photo, u.alt, u.caption)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let r = locked(&mut c, who, id).await?;
    check(&r, Step::Update)?;
    let seq = store::next_seq(&mut c, id).await?;
    let photo = match (&checked.photo, u.photo) {
        (Some(p), Some(data)) => Some(EntryPhoto {
            data,
            content_type: p.info.content_type,
            alt: &p.alt,
            caption: &p.caption,
            width: i64::from(p.info.width),
            height: i64::from(p.info.height),
        }),
        _ => None,
    };
    let entry = NewEntry {
        interview_id: id,
        seq,
        kind: "update",
        question_id: None,
        question: "",
        asker: "",
        guest: "",
        body: &checked.body,
        photo,
        after_session: false,
        at,
        by: Some(who.user_id),
    };
    store::insert_entry(&mut c, &entry).await?;
    let photo = checked.photo.as_ref().map(|p| {
        json!({ "type": p.info.content_type, "bytes": u.photo.map_or(0, <[u8]>::len),
                "width": p.info.width, "height": p.info.height, "alt": p.alt, "caption": p.caption })
    });
    audit::append(&mut c, &who.actor(ip), "itv.post", TOPIC, id, json!({ "after": { "seq": seq, "photo": photo } }))
        .await?;
    outbox::emit(&mut c, TOPIC, id, json!({ "event": "entry", "seq": seq })).await?;
    tx.commit().await?;
    Ok(seq)
}

/// The content type of an image by its first bytes; None for anything else (the name and
/// the browser's claim are not trusted).
pub fn image_type(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
        Some("image/png")
    } else if data.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else {
        None
    }
}

pub const MAX_PHOTO: usize = rules::MAX_PHOTO;

/// A guest's photo (PNG or JPEG, ≤ 2 MB), stored in the database.
pub async fn set_guest_photo(db: &Db, who: &Principal, ip: &str, id: i64, gid: i64, data: &[u8]) -> Result<()> {
    if data.len() > MAX_PHOTO {
        return Err(Error::field("file", "照片不能超过2MB"));
    }
    let ty = image_type(data).ok_or_else(|| Error::field("file", "照片须为 JPG 或 PNG 图片"))?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    locked(&mut c, who, id).await?;
    if !store::set_guest_photo(&mut c, id, gid, data, ty).await? {
        return Err(Error::NotFound);
    }
    let summary = json!({ "after": { "guest_id": gid, "bytes": data.len(), "type": ty } });
    audit::append(&mut c, &who.actor(ip), "itv.photo", TOPIC, id, summary).await?;
    outbox::emit(&mut c, TOPIC, id, json!({ "event": "photo", "guest_id": gid })).await?;
    tx.commit().await?;
    Ok(())
}

/// What the sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sweep {
    pub checked: usize,
    pub due_soon: usize,
    pub overdue: usize,
}

/// Reminder lead: working days before the due date.
pub const REMIND_DAYS: u32 = 2;

/// The job: questions an ended session left open are flagged overdue after their due
/// date, with a reminder before it; each reminder is written once.
pub async fn sweep(db: &Db, today: Date) -> Result<Sweep> {
    let cal = gongkai_kernel::calendar::service::load(db).await?;
    let open = {
        let mut h = db.read().await?;
        store::open_questions_of_ended(&mut h.conn()).await?
    };
    let actor = Actor::system(super::SWEEP);
    let now = clock::now_ms();
    let mut out = Sweep::default();
    for q in open {
        out.checked += 1;
        let Some(due) = clock::parse_date(&q.due_on) else { continue };
        let kind = if today > due {
            "overdue"
        } else if cal.working_days_between(today, due) <= REMIND_DAYS {
            "due_soon"
        } else {
            continue;
        };
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        if !store::insert_reminder(&mut c, q.interview_id, q.question_id, kind, &q.due_on, now).await? {
            continue;
        }
        if kind == "overdue" {
            store::set_overdue(&mut c, q.question_id).await?;
            out.overdue += 1;
        } else {
            out.due_soon += 1;
        }
        let summary = json!({ "question_id": q.question_id, "kind": kind, "due_on": q.due_on });
        audit::append(&mut c, &actor, "itv.remind", TOPIC, q.interview_id, summary).await?;
        outbox::emit(&mut c, TOPIC, q.interview_id, json!({ "event": "reminder", "question_id": q.question_id }))
            .await?;
        tx.commit().await?;
    }
    Ok(out)
}

/// Kind label for a stored kind.
pub fn kind_label(s: &str) -> &'static str {
    Kind::parse(s).map(Kind::label_zh).unwrap_or("")
}

pub fn state_label(s: &str) -> &'static str {
    State::parse(s).map(State::label_zh).unwrap_or("")
}
