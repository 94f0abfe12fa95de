//! Use cases of the knowledge base (知识库). Each change is one transaction with its audit
//! entry.
//!
//! Who acts (checked here):
//! - any centre agent (`Perm::HotlineIntake`) or handler (`Perm::CaseHandle`) proposes an
//!   entry, from scratch or from an answered order, and searches the active ones;
//! - the owning organisation reviews a proposal (approve, or reject with a note): a
//!   principal with `CaseHandle` or `LeaderView` over the owner's path, or with
//!   `HotlineIntake` when the owner is the 12345 centre itself;
//! - owners and the centre edit and retire entries. An edit by someone who could not approve
//!   the result (the centre on another organisation's entry, the proposer of a rejected
//!   one) goes back to the owner for review.
//!
//! Every signed-in console user may read the entries: they are what callers are told.

use serde::{Deserialize, Serialize};
use serde_json::json;

use gongkai_kernel::audit;
use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::clock::{self, fmt_date};
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::{Error, FieldErrors, Result};

use super::search::{self, Doc};
use super::store::{self, Filter, KbRow, KbValues};
use crate::model::KbState;
use crate::rules;

/// The short name of the 12345 centre's organisation: its agents review what it owns.
pub const CENTRE_SHORT_NAME: &str = "热线中心";

pub const MAX_QUESTION: usize = 200;
pub const MAX_SOURCE: usize = 200;
pub const PAGE: usize = 20;
pub const MAX_HITS: usize = 50;

/// May propose entries and search the active ones.
pub fn may_propose(who: &Principal) -> bool {
    who.has(Perm::HotlineIntake) || who.has(Perm::CaseHandle)
}

/// Reviews for the owner organisation (path, short name).
pub fn owns(who: &Principal, owner_path: &str, owner_short: &str) -> bool {
    who.can(Perm::CaseHandle, Some(owner_path), None)
        || who.can(Perm::LeaderView, Some(owner_path), None)
        || (owner_short == CENTRE_SHORT_NAME && who.has(Perm::HotlineIntake))
}

fn owns_row(who: &Principal, r: &KbRow) -> bool {
    owns(who, r.org_path.as_deref().unwrap_or(""), r.org_short.as_deref().unwrap_or(""))
}

/// An active entry past its `valid_until` is 待更新.
pub fn is_stale(valid_until: Option<&str>, today: &str) -> bool {
    valid_until.is_some_and(|d| !d.is_empty() && d < today)
}

fn today() -> String {
    fmt_date(clock::today())
}

/// What the principal may do with one entry.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Abilities {
    pub review: bool,
    pub edit: bool,
    pub retire: bool,
}

pub fn abilities(who: &Principal, r: &KbRow) -> Abilities {
    let state = KbState::parse(&r.state);
    let owner = owns_row(who, r);
    let manage = owner || who.has(Perm::HotlineIntake);
    let mine = r.proposed_by == Some(who.user_id);
    Abilities {
        review: owner && state == Some(KbState::Proposed),
        edit: match state {
            Some(KbState::Active) => manage,
            Some(KbState::Proposed | KbState::Rejected) => manage || mine,
            _ => false,
        },
        retire: manage && matches!(state, Some(KbState::Active | KbState::Proposed)),
    }
}

/// The entry form as typed (every field a string, so it can be shown again).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub category_id: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub valid_until: String,
    #[serde(default)]
    pub org_id: String,
    #[serde(default)]
    pub from_order: String,
}

/// What a checked form writes; `org` is the owner (path, short name).
struct Checked {
    values: KbValues,
    owner_path: String,
    owner_short: String,
    from_order_id: Option<i64>,
}

fn opt_id(s: &str) -> std::result::Result<Option<i64>, ()> {
    let s = s.trim();
    if s.is_empty() { Ok(None) } else { s.parse::<i64>().map(Some).map_err(|_| ()) }
}

async fn check(c: &mut Conn<'_>, who: &Principal, f: &EntryForm) -> Result<Checked> {
    let mut e = FieldErrors::new();
    let question = f.question.trim();
    if question.is_empty() {
        e.add("question", "请填写问题");
    } else if question.chars().count() > MAX_QUESTION {
        e.add("question", format!("问题不能超过 {MAX_QUESTION} 个字"));
    } else if rules::has_markup(question) {
        e.add("question", "问题不能包含 HTML 标记");
    }
    let answer = f.answer.trim();
    if answer.is_empty() {
        e.add("answer", "请填写答复口径");
    } else if answer.chars().count() > rules::MAX_CONTENT {
        e.add("answer", format!("答复口径不能超过 {} 个字", rules::MAX_CONTENT));
    } else if rules::has_markup(answer) {
        e.add("answer", "答复口径不能包含 HTML 标记");
    }
    let source = f.source.trim();
    if source.chars().count() > MAX_SOURCE {
        e.add("source", format!("依据文件不能超过 {MAX_SOURCE} 个字"));
    }
    let valid_until = match f.valid_until.trim() {
        "" => None,
        d => match clock::parse_date(d) {
            Some(d) => Some(fmt_date(d)),
            None => {
                e.add("valid_until", "有效期格式应为 2026-12-31");
                None
            }
        },
    };
    let category_id = match opt_id(&f.category_id) {
        Ok(None) => None,
        Ok(Some(id)) => match crate::store::category(c, id).await? {
            Some(cat) => Some(cat.id),
            None => {
                e.add("category_id", "事项分类不存在");
                None
            }
        },
        Err(()) => {
            e.add("category_id", "事项分类不存在");
            None
        }
    };
    let owner = match opt_id(&f.org_id) {
        Ok(Some(id)) => gongkai_kernel::org::store::get(c, id).await?,
        _ => None,
    };
    if owner.is_none() {
        e.add("org_id", "请选择负责审核和维护的单位");
    }
    let from_order_id = match opt_id(&f.from_order) {
        Ok(None) => None,
        Ok(Some(id)) => match order_for_proposal(c, who, id).await {
            Ok(o) => Some(o.id),
            Err(Error::NotFound) => {
                e.add("from_order", "来源工单不存在或无权查看");
                None
            }
            Err(err) => return Err(err),
        },
        Err(()) => {
            e.add("from_order", "来源工单不存在或无权查看");
            None
        }
    };
    e.into_result()?;
    let owner = owner.ok_or(Error::NotFound)?;
    Ok(Checked {
        values: KbValues {
            question: question.to_string(),
            answer: answer.to_string(),
            category_id,
            source: source.to_string(),
            valid_until,
            org_id: owner.id,
            state: String::new(),
            tokens: search::tokens_column(question, answer),
        },
        owner_path: owner.path,
        owner_short: owner.short_name,
        from_order_id,
    })
}

/// An order the principal may turn into a proposal: the centre's, or one of the
/// principal's organisation's legs.
async fn order_for_proposal(c: &mut Conn<'_>, who: &Principal, id: i64) -> Result<crate::store::OrderRow> {
    let o = crate::store::get_order(c, id, false).await?.ok_or(Error::NotFound)?;
    let legs = crate::store::legs_of(c, id).await?;
    let orgs = gongkai_kernel::org::store::all(c).await?;
    if crate::service::access(who, &legs, &orgs).sees_identity() { Ok(o) } else { Err(Error::NotFound) }
}

fn summary(r: &KbValues) -> serde_json::Value {
    json!({
        "question": r.question.chars().take(60).collect::<String>(),
        "state": r.state, "org_id": r.org_id, "category_id": r.category_id, "valid_until": r.valid_until,
    })
}

async fn reload(c: &mut Conn<'_>, id: i64) -> Result<KbRow> {
    store::get(c, id, false).await?.ok_or(Error::NotFound)
}

/// 提议: a new entry waiting for its owner's review.
pub async fn propose(db: &Db, who: &Principal, ip: &str, f: &EntryForm) -> Result<KbRow> {
    if !may_propose(who) {
        return Err(Error::Forbidden("只有热线中心坐席和承办人员可以提议知识库条目".into()));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut ch = check(&mut c, who, f).await?;
    ch.values.state = KbState::Proposed.as_str().into();
    let now = clock::now_ms();
    let id = store::insert(&mut c, &ch.values, ch.from_order_id, Some(who.user_id), now).await?;
    let mut s = summary(&ch.values);
    s["from_order_id"] = json!(ch.from_order_id);
    audit::append(&mut c, &who.actor(ip), "hotline.kb.propose", "hl_kb", id, s).await?;
    let row = reload(&mut c, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// 审核: the owner approves (active) or rejects (with a note) a proposal.
pub async fn review(db: &Db, who: &Principal, ip: &str, id: i64, approve: bool, note: &str) -> Result<KbRow> {
    let note = note.trim();
    if !approve && note.is_empty() {
        return Err(Error::field("note", "请填写不通过的理由"));
    }
    if note.chars().count() > 500 {
        return Err(Error::field("note", "审核意见不能超过 500 个字"));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let r = store::get(&mut c, id, true).await?.ok_or(Error::NotFound)?;
    if !owns_row(who, &r) {
        return Err(Error::Forbidden("只有条目的负责单位可以审核".into()));
    }
    if KbState::parse(&r.state) != Some(KbState::Proposed) {
        return Err(Error::Conflict(format!("条目当前状态为“{}”，不能审核", state_label(&r.state))));
    }
    let to = if approve { KbState::Active } else { KbState::Rejected };
    store::set_state(&mut c, id, to.as_str(), who.user_id, note, clock::now_ms()).await?;
    let action = if approve { "hotline.kb.approve" } else { "hotline.kb.reject" };
    audit::append(&mut c, &who.actor(ip), action, "hl_kb", id, json!({ "state": to.as_str(), "note": note })).await?;
    let row = reload(&mut c, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// 修改: owners keep the entry's state; an edit they did not make (or a rejected entry
/// proposed again) waits for the owner's review.
pub async fn edit(db: &Db, who: &Principal, ip: &str, id: i64, f: &EntryForm) -> Result<KbRow> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let r = store::get(&mut c, id, true).await?.ok_or(Error::NotFound)?;
    if KbState::parse(&r.state) == Some(KbState::Retired) {
        return Err(Error::Conflict("已停用的条目不能修改，请重新提议".into()));
    }
    if !abilities(who, &r).edit {
        return Err(Error::Forbidden("只有条目的负责单位、热线中心或提议人可以修改".into()));
    }
    // The source order stays what it was.
    let f = EntryForm { from_order: String::new(), ..f.clone() };
    let mut ch = check(&mut c, who, &f).await?;
    let keep = KbState::parse(&r.state) == Some(KbState::Active) && owns(who, &ch.owner_path, &ch.owner_short);
    ch.values.state = if keep { KbState::Active } else { KbState::Proposed }.as_str().into();
    store::update(&mut c, id, &ch.values, clock::now_ms()).await?;
    let mut s = summary(&ch.values);
    s["before"] = json!({ "state": r.state, "org_id": r.org_id });
    audit::append(&mut c, &who.actor(ip), "hotline.kb.edit", "hl_kb", id, s).await?;
    let row = reload(&mut c, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// 停用: the entry no longer answers anything.
pub async fn retire(db: &Db, who: &Principal, ip: &str, id: i64, note: &str) -> Result<KbRow> {
    let note = note.trim();
    if note.chars().count() > 500 {
        return Err(Error::field("note", "停用说明不能超过 500 个字"));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let r = store::get(&mut c, id, true).await?.ok_or(Error::NotFound)?;
    let can = abilities(who, &r);
    if !matches!(KbState::parse(&r.state), Some(KbState::Active | KbState::Proposed)) {
        return Err(Error::Conflict(format!("条目当前状态为“{}”，不能停用", state_label(&r.state))));
    }
    if !can.retire {
        return Err(Error::Forbidden("只有条目的负责单位或热线中心可以停用".into()));
    }
    store::set_state(&mut c, id, KbState::Retired.as_str(), who.user_id, note, clock::now_ms()).await?;
    audit::append(&mut c, &who.actor(ip), "hotline.kb.retire", "hl_kb", id, json!({ "before": r.state, "note": note }))
        .await?;
    let row = reload(&mut c, id).await?;
    tx.commit().await?;
    Ok(row)
}

pub fn state_label(s: &str) -> &'static str {
    KbState::parse(s).map(KbState::label_zh).unwrap_or("")
}

pub async fn get(db: &Db, id: i64) -> Result<KbRow> {
    let mut h = db.read().await?;
    store::get(&mut h.conn(), id, false).await?.ok_or(Error::NotFound)
}

/// One search result, as the agent screen reads it.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: i64,
    pub question: String,
    pub answer: String,
    /// The category's path, "" when unclassified.
    pub category: String,
    pub source: String,
    pub valid_until: Option<String>,
    pub stale: bool,
    pub score: f64,
}

/// Active entries ranked for a query, best first.
pub async fn search(db: &Db, who: &Principal, q: &str, limit: usize) -> Result<Vec<Hit>> {
    if !may_propose(who) {
        return Err(Error::Forbidden("只有热线中心坐席和承办人员可以检索知识库".into()));
    }
    let q: String = q.trim().chars().take(100).collect();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let rows = {
        let mut h = db.read().await?;
        store::active(&mut h.conn()).await?
    };
    let docs: Vec<Doc<'_>> =
        rows.iter().map(|r| Doc { question: &r.question, answer: &r.answer, tokens: &r.tokens }).collect();
    let today = today();
    Ok(search::rank(&q, &docs)
        .into_iter()
        .take(limit.clamp(1, MAX_HITS))
        .map(|(i, score)| {
            let r = &rows[i];
            Hit {
                id: r.id,
                question: r.question.clone(),
                answer: r.answer.clone(),
                category: r.category_path.clone().unwrap_or_default(),
                source: r.source.clone(),
                valid_until: r.valid_until.clone().filter(|d| !d.is_empty()),
                stale: is_stale(r.valid_until.as_deref(), &today),
                score: (score * 1000.0).round() / 1000.0,
            }
        })
        .collect())
}

/// The list's filters as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub category: String,
    /// "1": only 待更新 (active and past `valid_until`).
    #[serde(default)]
    pub stale: String,
    /// "1": only proposals the principal reviews.
    #[serde(default)]
    pub review: String,
    #[serde(default)]
    pub page: Option<usize>,
}

/// A list row with its flags.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub r: KbRow,
    pub state_label: &'static str,
    pub stale: bool,
    pub mine_to_review: bool,
    pub score: Option<f64>,
}

/// A page of entries (ranked when `q` is given, else the latest change first) and the total.
pub async fn list(db: &Db, who: &Principal, lq: &ListQuery) -> Result<(Vec<Listed>, usize)> {
    let today = today();
    let stale_only = lq.stale == "1";
    let mut f = Filter {
        state: KbState::parse(lq.state.trim()).map(|s| s.as_str().to_string()),
        stale_before: stale_only.then(|| today.clone()),
        ..Default::default()
    };
    if stale_only {
        f.state = Some(KbState::Active.as_str().into());
    }
    if lq.review == "1" {
        f.state = Some(KbState::Proposed.as_str().into());
    }
    let rows = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        if let Ok(id) = lq.category.trim().parse::<i64>() {
            f.category_path = Some(crate::store::category(&mut c, id).await?.map(|c| c.path).unwrap_or_default());
        }
        store::list(&mut c, &f).await?
    };
    let rows: Vec<KbRow> =
        if lq.review == "1" { rows.into_iter().filter(|r| owns_row(who, r)).collect() } else { rows };
    let q = lq.q.trim();
    let ranked: Vec<(KbRow, Option<f64>)> = if q.is_empty() {
        rows.into_iter().map(|r| (r, None)).collect()
    } else {
        let docs: Vec<Doc<'_>> =
            rows.iter().map(|r| Doc { question: &r.question, answer: &r.answer, tokens: &r.tokens }).collect();
        let order = search::rank(q, &docs);
        let mut slots: Vec<Option<KbRow>> = rows.into_iter().map(Some).collect();
        order.into_iter().filter_map(|(i, s)| slots.get_mut(i).and_then(Option::take).map(|r| (r, Some(s)))).collect()
    };
    let total = ranked.len();
    let page = lq.page.unwrap_or(1).clamp(1, 10_000);
    let out = ranked
        .into_iter()
        .skip((page - 1) * PAGE)
        .take(PAGE)
        .map(|(r, score)| Listed {
            state_label: state_label(&r.state),
            stale: r.state == KbState::Active.as_str() && is_stale(r.valid_until.as_deref(), &today),
            mine_to_review: r.state == KbState::Proposed.as_str() && owns_row(who, &r),
            score: score.map(|s| (s * 100.0).round() / 100.0),
            r,
        })
        .collect();
    Ok((out, total))
}

/// The order a proposal starts from, as the form shows it for reference.
#[derive(Debug, Clone, Serialize)]
pub struct SourceOrder {
    pub id: i64,
    pub no: String,
    pub title: String,
    pub content: String,
    pub answer: String,
}

/// A proposal prefilled from an answered order: its title (or the start of its content)
/// as the question, what the caller was told as the answer, its category, and as owner
/// the organisation that handled it (the main leg's), else the category's usual one, else
/// the centre.
pub async fn prefill_from_order(db: &Db, who: &Principal, order_id: i64) -> Result<(EntryForm, SourceOrder)> {
    if !may_propose(who) {
        return Err(Error::Forbidden("只有热线中心坐席和承办人员可以提议知识库条目".into()));
    }
    let mut h = db.read().await?;
    let mut c = h.conn();
    let o = order_for_proposal(&mut c, who, order_id).await?;
    let legs = crate::store::legs_of(&mut c, o.id).await?;
    let category = match o.category_id {
        Some(id) => crate::store::category(&mut c, id).await?,
        None => None,
    };
    let main_leg = legs.iter().rev().find(|l| l.role == crate::model::LegRole::Main.as_str() && l.state != "cancelled");
    let owner = match main_leg.map(|l| l.org_id).or(category.as_ref().and_then(|c| c.default_org_id)) {
        Some(id) => Some(id),
        None => centre_org(&mut c).await?,
    };
    let question = if o.title.trim().is_empty() {
        o.content.trim().chars().take(MAX_QUESTION).collect()
    } else {
        o.title.trim().to_string()
    };
    let form = EntryForm {
        question,
        answer: o.answer.trim().to_string(),
        category_id: o.category_id.map(|i| i.to_string()).unwrap_or_default(),
        org_id: owner.map(|i| i.to_string()).unwrap_or_default(),
        from_order: o.id.to_string(),
        ..Default::default()
    };
    let src = SourceOrder { id: o.id, no: o.no, title: o.title, content: o.content, answer: o.answer };
    Ok((form, src))
}

/// The 12345 centre's organisation, by its short name.
pub async fn centre_org(c: &mut Conn<'_>) -> Result<Option<i64>> {
    let orgs = gongkai_kernel::org::store::all(c).await?;
    Ok(orgs.iter().find(|o| o.short_name == CENTRE_SHORT_NAME).map(|o| o.id))
}

/// The owner a new proposal defaults to: the proposer's organisation, else the centre.
pub async fn default_owner(db: &Db, who: &Principal) -> Result<Option<i64>> {
    if who.org_id.is_some() {
        return Ok(who.org_id);
    }
    let mut h = db.read().await?;
    centre_org(&mut h.conn()).await
}
