//! Use cases of 征集调查. Each change is one transaction with an audit entry and a
//! `survey.changed` outbox event. Staff rights: `ContentEdit` over the survey's 发起单位
//! (organisation) and site drafts, edits, uploads the draft's files and moderates
//! comments; `ContentReview` publishes, closes early and publishes the feedback — the
//! same split as the information resource library, where what the public sees passes a
//! reviewer.

use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::Date;

use gongkai_kernel::audit::{self, Actor};
use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::clock;
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::{Error, FieldErrors, Result};
use gongkai_kernel::outbox;

use super::rules::{self, Answers, Kind, Phase, Question, State};
use super::store::{self, CommentRow, ResponseRow, SurveyRow};

pub const MAX_TITLE: usize = 100;
pub const MAX_DESCRIPTION: usize = 2000;
pub const MAX_BODY: usize = 50_000;
pub const MAX_FEEDBACK: usize = 20_000;
pub const MAX_COMMENT: usize = 2000;
pub const MAX_NAME: usize = 50;
pub const MAX_CONTACT: usize = 100;
/// Files of a draft: each at most this many bytes.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

/// A survey with what the pages need beside the row.
#[derive(Debug, Clone)]
pub struct Survey {
    pub row: SurveyRow,
    pub kind: Kind,
    pub state: State,
    pub opens_on: Date,
    pub closes_on: Date,
    pub questions: Vec<Question>,
    pub org_path: String,
    pub org_name: String,
}

impl Survey {
    pub fn phase(&self, today: Date) -> Phase {
        rules::phase(self.state, self.opens_on, self.closes_on, self.row.closed_at.is_some(), today)
    }
}

fn corrupt(what: &str, id: i64) -> Error {
    Error::Internal(format!("征集调查 {id} 的{what}数据无效"))
}

async fn load_in(c: &mut Conn<'_>, id: i64) -> Result<Survey> {
    let row = store::get(c, id).await?.ok_or(Error::NotFound)?;
    let org = gongkai_kernel::org::store::get(c, row.org_id).await?.ok_or(Error::NotFound)?;
    let kind = Kind::parse(&row.kind).ok_or_else(|| corrupt("类型", id))?;
    let state = State::parse(&row.state).ok_or_else(|| corrupt("状态", id))?;
    let opens_on = clock::parse_date(&row.opens_on).ok_or_else(|| corrupt("开始日期", id))?;
    let closes_on = clock::parse_date(&row.closes_on).ok_or_else(|| corrupt("截止日期", id))?;
    let questions: Vec<Question> = serde_json::from_str(&row.questions).map_err(|_| corrupt("题目", id))?;
    Ok(Survey { row, kind, state, opens_on, closes_on, questions, org_path: org.path, org_name: org.name })
}

/// A survey by id (no permission check: public pages check the state themselves).
pub async fn load(db: &Db, id: i64) -> Result<Survey> {
    let mut h = db.read().await?;
    load_in(&mut h.conn(), id).await
}

pub fn may(who: &Principal, perm: Perm, s: &Survey) -> bool {
    who.can(perm, Some(&s.org_path), Some(s.row.site_id))
}

/// A survey the principal may see in the console; outside the scope it is "not found".
pub async fn load_for(db: &Db, who: &Principal, id: i64) -> Result<Survey> {
    let s = load(db, id).await?;
    if !may(who, Perm::ContentView, &s) && !may(who, Perm::ContentEdit, &s) && !may(who, Perm::ContentReview, &s) {
        return Err(Error::NotFound);
    }
    Ok(s)
}

fn require(who: &Principal, perm: Perm, s: &Survey) -> Result<()> {
    if may(who, perm, s) {
        return Ok(());
    }
    Err(Error::Forbidden(match perm {
        Perm::ContentReview => "只有发起单位的审核人员可以发布、结束征集或公布结果".into(),
        _ => "只有发起单位的编辑人员可以修改".into(),
    }))
}

/// The basic fields as typed (create and edit).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct SurveyForm {
    #[serde(default)]
    pub site_id: String,
    #[serde(default)]
    pub org_id: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub opens_on: String,
    #[serde(default)]
    pub closes_on: String,
    #[serde(default)]
    pub version: String,
}

fn too_long(errs: &mut FieldErrors, field: &str, v: &str, max: usize, label: &str) {
    if v.chars().count() > max {
        errs.add(field, format!("{label}不能超过{max}个字"));
    }
}

/// Text as stored: trimmed, CR LF → LF, other control characters dropped.
pub fn clean(s: &str) -> String {
    s.replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect::<String>()
        .trim()
        .to_string()
}

struct Basics {
    site_id: i64,
    org_id: i64,
    kind: Kind,
    title: String,
    description: String,
    body: String,
    opens_on: Date,
    closes_on: Date,
}

fn validate(f: &SurveyForm) -> Result<Basics> {
    let mut errs = FieldErrors::new();
    let site_id = f.site_id.trim().parse::<i64>().ok();
    if site_id.is_none() {
        errs.add("site_id", "请选择发布网站");
    }
    let org_id = f.org_id.trim().parse::<i64>().ok();
    if org_id.is_none() {
        errs.add("org_id", "请选择发起单位");
    }
    let kind = Kind::parse(f.kind.trim());
    if kind.is_none() {
        errs.add("kind", "请选择意见征集或问卷调查");
    }
    let title = clean(&f.title).replace('\n', " ");
    if title.is_empty() {
        errs.add("title", "请填写标题");
    }
    too_long(&mut errs, "title", &title, MAX_TITLE, "标题");
    let description = clean(&f.description);
    too_long(&mut errs, "description", &description, MAX_DESCRIPTION, "说明");
    let body = clean(&f.body);
    too_long(&mut errs, "body", &body, MAX_BODY, "征集稿正文");
    let opens_on = clock::parse_date(&f.opens_on);
    if opens_on.is_none() {
        errs.add("opens_on", "请按 2026-03-01 的格式填写开始日期");
    }
    let closes_on = clock::parse_date(&f.closes_on);
    match (opens_on, closes_on) {
        (_, None) => errs.add("closes_on", "请按 2026-03-31 的格式填写截止日期"),
        (Some(o), Some(c)) if c < o => errs.add("closes_on", "截止日期不能早于开始日期"),
        _ => {}
    }
    errs.into_result()?;
    match (site_id, org_id, kind, opens_on, closes_on) {
        (Some(site_id), Some(org_id), Some(kind), Some(opens_on), Some(closes_on)) => {
            Ok(Basics { site_id, org_id, kind, title, description, body, opens_on, closes_on })
        }
        _ => Err(Error::internal("validated survey incomplete")),
    }
}

async fn org_path(c: &mut Conn<'_>, org_id: i64) -> Result<String> {
    match gongkai_kernel::org::store::get(c, org_id).await? {
        Some(o) => Ok(o.path),
        None => Err(Error::field("org_id", "发起单位不存在")),
    }
}

async fn site_open(c: &mut Conn<'_>, site_id: i64) -> Result<()> {
    match gongkai_kernel::site::store::get(c, site_id).await? {
        Some(s) if !s.external => Ok(()),
        _ => Err(Error::field("site_id", "发布网站不存在")),
    }
}

async fn record(c: &mut Conn<'_>, actor: &Actor, action: &str, id: i64, summary: serde_json::Value) -> Result<()> {
    audit::append(c, actor, &format!("survey.{action}"), "survey", id, summary).await?;
    outbox::emit(c, "survey.changed", id, json!({ "op": action })).await?;
    Ok(())
}

pub async fn create(db: &Db, who: &Principal, ip: &str, f: &SurveyForm) -> Result<i64> {
    let b = validate(f)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    site_open(&mut c, b.site_id).await?;
    let path = org_path(&mut c, b.org_id).await?;
    if !who.can(Perm::ContentEdit, Some(&path), Some(b.site_id)) {
        return Err(Error::field("org_id", "您没有以该单位名义在该网站发起征集的权限"));
    }
    let now = clock::now_ms();
    let row = SurveyRow {
        id: 0,
        site_id: b.site_id,
        org_id: b.org_id,
        kind: b.kind.as_str().into(),
        title: b.title,
        description: b.description,
        body: b.body,
        questions: "[]".into(),
        opens_on: clock::fmt_date(b.opens_on),
        closes_on: clock::fmt_date(b.closes_on),
        state: State::Draft.as_str().into(),
        published_at: None,
        closed_at: None,
        feedback: String::new(),
        feedback_at: None,
        version: 1,
        created_by: Some(who.user_id),
        created_at: now,
        updated_at: now,
    };
    let id = store::insert(&mut c, &row).await?;
    record(
        &mut c,
        &who.actor(ip),
        "create",
        id,
        json!({ "title": row.title, "kind": row.kind, "site_id": row.site_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Load inside a transaction, check the right and the version the form was based on.
async fn for_change(c: &mut Conn<'_>, who: &Principal, perm: Perm, id: i64, version: Option<&str>) -> Result<Survey> {
    let s = load_in(c, id).await?;
    if !may(who, Perm::ContentView, &s) && !may(who, perm, &s) {
        return Err(Error::NotFound);
    }
    require(who, perm, &s)?;
    if let Some(v) = version
        && v.trim().parse::<i64>().ok() != Some(s.row.version)
    {
        return Err(Error::Conflict("该征集已被他人修改，请刷新页面后重新编辑".into()));
    }
    Ok(s)
}

async fn write(c: &mut Conn<'_>, s: &SurveyRow) -> Result<()> {
    if store::update(c, s, s.version).await? {
        Ok(())
    } else {
        Err(Error::Conflict("该征集已被他人修改，请刷新页面后重试".into()))
    }
}

/// Edit the basics. The kind and site are fixed once created; after the result is
/// published nothing changes but the feedback.
pub async fn update(db: &Db, who: &Principal, ip: &str, id: i64, f: &SurveyForm) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let s = for_change(&mut c, who, Perm::ContentEdit, id, Some(&f.version)).await?;
    let mut form = f.clone();
    form.site_id = s.row.site_id.to_string();
    form.kind = s.row.kind.clone();
    let b = validate(&form)?;
    if s.state == State::Result {
        return Err(Error::Conflict("结果已公布，不能再修改征集内容".into()));
    }
    let path = org_path(&mut c, b.org_id).await?;
    if !who.can(Perm::ContentEdit, Some(&path), Some(s.row.site_id)) {
        return Err(Error::field("org_id", "您没有以该单位名义在该网站发起征集的权限"));
    }
    let mut row = s.row.clone();
    let before = json!({ "title": row.title, "opens_on": row.opens_on, "closes_on": row.closes_on });
    row.org_id = b.org_id;
    row.title = b.title;
    row.description = b.description;
    row.body = b.body;
    row.opens_on = clock::fmt_date(b.opens_on);
    row.closes_on = clock::fmt_date(b.closes_on);
    row.updated_at = clock::now_ms();
    write(&mut c, &row).await?;
    let after = json!({ "title": row.title, "opens_on": row.opens_on, "closes_on": row.closes_on });
    record(&mut c, &who.actor(ip), "update", id, json!({ "before": before, "after": after })).await?;
    tx.commit().await?;
    Ok(())
}

/// Replace the questions (editor text, see `rules::parse_questions`): drafts only, so
/// the questions never change under a respondent.
pub async fn save_questions(db: &Db, who: &Principal, ip: &str, id: i64, text: &str, version: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let s = for_change(&mut c, who, Perm::ContentEdit, id, Some(version)).await?;
    if s.kind != Kind::Questionnaire {
        return Err(Error::Conflict("意见征集没有题目".into()));
    }
    if s.state != State::Draft {
        return Err(Error::Conflict("问卷已发布，题目不能再修改".into()));
    }
    let qs = rules::parse_questions(text).map_err(|e| Error::field("questions", e.join("；")))?;
    let mut row = s.row.clone();
    row.questions = serde_json::to_string(&qs).map_err(Error::internal)?;
    row.updated_at = clock::now_ms();
    write(&mut c, &row).await?;
    record(&mut c, &who.actor(ip), "questions", id, json!({ "count": qs.len() })).await?;
    tx.commit().await?;
    Ok(())
}

/// The file types a draft may carry, by extension.
const FILE_TYPES: &[(&str, &str)] = &[
    ("pdf", "application/pdf"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("doc", "application/msword"),
    ("wps", "application/vnd.ms-works"),
    ("ofd", "application/ofd"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("txt", "text/plain; charset=utf-8"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
];

/// Attach a file of the draft (solicitations; while not yet closed with a result).
pub async fn add_file(db: &Db, who: &Principal, ip: &str, id: i64, name: &str, data: Vec<u8>) -> Result<i64> {
    let name: String = name.trim().chars().filter(|c| !c.is_control() && !"/\\\"".contains(*c)).take(120).collect();
    if name.is_empty() || data.is_empty() {
        return Err(Error::field("file", "请选择要上传的征集稿文件"));
    }
    if data.len() > MAX_FILE_BYTES {
        return Err(Error::field("file", "文件不能超过 20 MB"));
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let Some((_, content_type)) = FILE_TYPES.iter().find(|(e, _)| *e == ext) else {
        return Err(Error::field("file", "只能上传 PDF、Word、WPS、OFD、Excel、文本或图片文件"));
    };
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let s = for_change(&mut c, who, Perm::ContentEdit, id, None).await?;
    if s.kind != Kind::Solicitation {
        return Err(Error::Conflict("只有意见征集可以上传征集稿".into()));
    }
    if s.state == State::Result {
        return Err(Error::Conflict("结果已公布，不能再修改征集稿".into()));
    }
    let row = store::FileRow {
        id: 0,
        survey_id: id,
        name: name.clone(),
        content_type: (*content_type).into(),
        size: data.len() as i64,
        sha256: audit::hex(&Sha256::digest(&data)),
        created_at: clock::now_ms(),
    };
    let fid = store::insert_file(&mut c, &row, &data, Some(who.user_id)).await?;
    record(&mut c, &who.actor(ip), "file", id, json!({ "name": name, "size": row.size, "sha256": row.sha256 })).await?;
    tx.commit().await?;
    Ok(fid)
}

pub async fn delete_file(db: &Db, who: &Principal, ip: &str, id: i64, fid: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let s = for_change(&mut c, who, Perm::ContentEdit, id, None).await?;
    if s.state == State::Result {
        return Err(Error::Conflict("结果已公布，不能再修改征集稿".into()));
    }
    let name =
        store::files(&mut c, id).await?.into_iter().find(|f| f.id == fid).map(|f| f.name).ok_or(Error::NotFound)?;
    store::delete_file(&mut c, id, fid).await?;
    record(&mut c, &who.actor(ip), "file_delete", id, json!({ "name": name })).await?;
    tx.commit().await?;
    Ok(())
}

/// Publish a draft: it appears on the site and opens on its start date.
pub async fn publish(db: &Db, who: &Principal, ip: &str, id: i64, today: Date) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let s = for_change(&mut c, who, Perm::ContentReview, id, None).await?;
    if s.state != State::Draft {
        return Err(Error::Conflict("该征集已发布".into()));
    }
    if s.closes_on < today {
        return Err(Error::Conflict("截止日期已过，请先修改征集期限".into()));
    }
    match s.kind {
        Kind::Questionnaire if s.questions.is_empty() => {
            return Err(Error::Conflict("问卷还没有题目，请先编辑题目".into()));
        }
        Kind::Solicitation if s.row.body.is_empty() && store::files(&mut c, id).await?.is_empty() => {
            return Err(Error::Conflict("请先填写征集稿正文或上传征集稿文件".into()));
        }
        _ => {}
    }
    let mut row = s.row.clone();
    let now = clock::now_ms();
    row.state = State::Published.as_str().into();
    row.published_at = Some(now);
    row.updated_at = now;
    write(&mut c, &row).await?;
    record(&mut c, &who.actor(ip), "publish", id, json!({ "opens_on": row.opens_on, "closes_on": row.closes_on }))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Close a published survey before its end date.
pub async fn close(db: &Db, who: &Principal, ip: &str, id: i64, today: Date) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let s = for_change(&mut c, who, Perm::ContentReview, id, None).await?;
    match s.phase(today) {
        Phase::Open | Phase::Upcoming => {}
        Phase::Draft => return Err(Error::Conflict("草稿尚未发布，无需结束".into())),
        Phase::Closed => return Err(Error::Conflict("该征集已经结束".into())),
    }
    let mut row = s.row.clone();
    let now = clock::now_ms();
    row.closed_at = Some(now);
    row.updated_at = now;
    write(&mut c, &row).await?;
    record(
        &mut c,
        &who.actor(ip),
        "close",
        id,
        json!({ "closes_on": row.closes_on, "closed_on": clock::fmt_date(today) }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Publish (or amend) the feedback of a closed survey: 采纳情况 / 调查结果.
pub async fn publish_feedback(db: &Db, who: &Principal, ip: &str, id: i64, text: &str, today: Date) -> Result<()> {
    let text = clean(text);
    if text.is_empty() {
        return Err(Error::field("feedback", "请填写要公布的内容"));
    }
    if text.chars().count() > MAX_FEEDBACK {
        return Err(Error::field("feedback", format!("不能超过{MAX_FEEDBACK}个字")));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let s = for_change(&mut c, who, Perm::ContentReview, id, None).await?;
    if s.phase(today) != Phase::Closed {
        return Err(Error::Conflict(format!("征集结束后才能公布{}", s.kind.feedback_zh())));
    }
    let mut row = s.row.clone();
    let now = clock::now_ms();
    let amended = s.state == State::Result;
    row.state = State::Result.as_str().into();
    row.feedback = text;
    // The first publication dates the result notice; an amendment keeps that date.
    row.feedback_at = row.feedback_at.or(Some(now));
    row.updated_at = now;
    write(&mut c, &row).await?;
    record(
        &mut c,
        &who.actor(ip),
        if amended { "feedback_amend" } else { "feedback" },
        id,
        json!({ "chars": row.feedback.chars().count() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Approve or reject a pending comment.
pub async fn moderate(db: &Db, who: &Principal, ip: &str, id: i64, cid: i64, approve: bool) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let s = for_change(&mut c, who, Perm::ContentEdit, id, None).await?;
    let comment = store::comment(&mut c, cid).await?.filter(|m| m.survey_id == s.row.id).ok_or(Error::NotFound)?;
    let state = if approve { "approved" } else { "rejected" };
    if !store::moderate(&mut c, cid, state, who.user_id, clock::now_ms()).await? {
        return Err(Error::Conflict("该意见已处理过".into()));
    }
    let action = if approve { "comment_approve" } else { "comment_reject" };
    record(&mut c, &who.actor(ip), action, id, json!({ "comment": comment.id })).await?;
    tx.commit().await?;
    Ok(())
}

fn public_actor(ip: &str) -> Actor {
    Actor { user_id: None, name: "公众（网上提交）".into(), role: "public".into(), org_id: None, ip: ip.into() }
}

fn check_idem(key: &str) -> Result<&str> {
    let key = key.trim();
    if key.len() < 16 || key.len() > 64 || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(Error::field("form", "表单已失效，请刷新页面后重新提交"));
    }
    Ok(key)
}

/// A comment as typed on the public form.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct CommentForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub body: String,
}

pub fn validate_comment(f: &CommentForm) -> Result<(String, String, String)> {
    let mut errs = FieldErrors::new();
    let name = clean(&f.name).replace('\n', " ");
    too_long(&mut errs, "name", &name, MAX_NAME, "姓名");
    let contact = clean(&f.contact).replace('\n', " ");
    too_long(&mut errs, "contact", &contact, MAX_CONTACT, "联系方式");
    let body = clean(&f.body);
    if body.is_empty() {
        errs.add("body", "请填写意见内容");
    }
    too_long(&mut errs, "body", &body, MAX_COMMENT, "意见内容");
    errs.into_result()?;
    Ok((name, contact, body))
}

/// Store a comment (pending moderation). The same idempotency key again returns the
/// stored comment and creates nothing: (comment, created).
pub async fn submit_comment(
    db: &Db,
    id: i64,
    f: &CommentForm,
    idem_key: &str,
    ip: &str,
    today: Date,
) -> Result<(CommentRow, bool)> {
    let (name, contact, body) = validate_comment(f)?;
    let key = check_idem(idem_key)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    if let Some(existing) = store::comment_by_idem(&mut c, key).await? {
        return Ok((existing, false));
    }
    let s = load_in(&mut c, id).await?;
    if s.kind != Kind::Solicitation {
        return Err(Error::NotFound);
    }
    if let Some(why) = s.phase(today).refusal() {
        return Err(Error::Conflict(why.into()));
    }
    let mut row = CommentRow {
        id: 0,
        survey_id: id,
        idem_key: key.into(),
        name,
        contact,
        body,
        state: "pending".into(),
        ip: ip.into(),
        moderated_by: None,
        moderated_at: None,
        created_at: clock::now_ms(),
    };
    row.id = store::insert_comment(&mut c, &row).await?;
    audit::append(&mut c, &public_actor(ip), "survey.comment", "survey", id, json!({ "comment": row.id })).await?;
    outbox::emit(&mut c, "survey.changed", id, json!({ "op": "comment" })).await?;
    tx.commit().await?;
    Ok((row, true))
}

/// Why a vote was refused because this person already answered.
pub const MSG_VOTED: &str = "您已参与过本次问卷调查，每人只能提交一次，感谢您的参与";

/// Store a questionnaire response. `voter` is the id in the respondent's signed cookie:
/// a second response under it is refused. The same idempotency key again returns the
/// stored response: (response, created).
pub async fn vote(
    db: &Db,
    id: i64,
    posted: &[(String, String)],
    idem_key: &str,
    voter: &str,
    ip: &str,
    today: Date,
) -> Result<(ResponseRow, bool)> {
    let key = check_idem(idem_key)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    if let Some(existing) = store::response_by_idem(&mut c, key).await? {
        return Ok((existing, false));
    }
    let s = load_in(&mut c, id).await?;
    if s.kind != Kind::Questionnaire {
        return Err(Error::NotFound);
    }
    if let Some(why) = s.phase(today).refusal() {
        return Err(Error::Conflict(why.into()));
    }
    if store::has_voted(&mut c, id, voter).await? {
        return Err(Error::Conflict(MSG_VOTED.into()));
    }
    let answers = rules::validate_answers(&s.questions, posted).map_err(Error::Invalid)?;
    let mut row = ResponseRow {
        id: 0,
        survey_id: id,
        idem_key: key.into(),
        voter: voter.into(),
        answers: serde_json::to_string(&answers).map_err(Error::internal)?,
        ip: ip.into(),
        created_at: clock::now_ms(),
    };
    row.id = store::insert_response(&mut c, &row).await?;
    audit::append(&mut c, &public_actor(ip), "survey.vote", "survey", id, json!({ "response": row.id })).await?;
    outbox::emit(&mut c, "survey.changed", id, json!({ "op": "vote" })).await?;
    tx.commit().await?;
    Ok((row, true))
}

/// Every response's answers (rows whose JSON does not parse are an internal error).
pub async fn answers(db: &Db, id: i64) -> Result<Vec<(ResponseRow, Answers)>> {
    let rows = {
        let mut h = db.read().await?;
        store::responses(&mut h.conn(), id).await?
    };
    rows.into_iter()
        .map(|r| {
            let a: Answers = serde_json::from_str(&r.answers).map_err(|_| corrupt("答卷", id))?;
            Ok((r, a))
        })
        .collect()
}

/// The per-question results of a questionnaire.
pub async fn results(db: &Db, s: &Survey) -> Result<Vec<rules::QuestionResult>> {
    let all: Vec<Answers> = answers(db, s.row.id).await?.into_iter().map(|(_, a)| a).collect();
    Ok(rules::results(&s.questions, &all))
}

/// The yearly figures for the annual report: periods held (by kind), opinions and
/// responses received, result notices published; one site or all (`site_id` None).
pub async fn counts(db: &Db, site_id: Option<i64>, year: i32) -> Result<rules::Counts> {
    let start = |y: i32| {
        Date::from_calendar_date(y, time::Month::January, 1)
            .map(|d| clock::local_to_ms(d.midnight()))
            .map_err(|_| Error::field("year", "年份无效"))
    };
    let (from, to) = (start(year)?, start(year + 1)?);
    let (surveys, opinions, responses) = {
        let mut h = db.read().await?;
        store::year_rows(&mut h.conn(), site_id, from, to).await?
    };
    let day = |ms: i64| clock::ms_to_local(ms).date();
    let surveys: Vec<rules::YearSurvey> = surveys
        .into_iter()
        .filter_map(|(kind, state, opens_on, feedback_at)| {
            Some(rules::YearSurvey {
                kind: Kind::parse(&kind)?,
                published: state != State::Draft.as_str(),
                opens_on: clock::parse_date(&opens_on)?,
                feedback_on: feedback_at.map(day),
            })
        })
        .collect();
    let opinions: Vec<Date> = opinions.into_iter().map(day).collect();
    let responses: Vec<Date> = responses.into_iter().map(day).collect();
    Ok(rules::counts(&surveys, &opinions, &responses, year))
}
