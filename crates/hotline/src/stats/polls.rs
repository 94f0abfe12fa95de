//! 民意调查: phone opinion-poll campaigns run by the centre, kept as their own records
//! (who was polled, how many answered, how satisfied) so the monthly report counts them
//! instead of copying numbers in. The centre (`Perm::HotlineIntake`) records and edits
//! them; every change is audited.

use serde::{Deserialize, Serialize};
use serde_json::json;

use gongkai_kernel::audit;
use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::clock::{fmt_date, parse_date};
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::{Error, FieldErrors, Result};
use gongkai_kernel::with_conn;

use super::figures::rate;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PollRow {
    pub id: i64,
    pub title: String,
    pub org_id: Option<i64>,
    pub started_on: String,
    pub ended_on: String,
    pub planned: i64,
    pub respondents: i64,
    pub satisfied: i64,
    pub basic: i64,
    pub unsatisfied: i64,
    pub note: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

impl PollRow {
    /// 满意率 of a poll: (满意 + 基本满意) ÷ those who rated.
    pub fn satisfaction(&self) -> Option<i64> {
        rate(self.satisfied + self.basic, self.satisfied + self.basic + self.unsatisfied)
    }
    /// 受访率: respondents ÷ planned calls.
    pub fn response_rate(&self) -> Option<i64> {
        rate(self.respondents, self.planned)
    }
}

/// The form as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PollForm {
    pub title: String,
    pub org_id: String,
    pub started_on: String,
    pub ended_on: String,
    pub planned: String,
    pub respondents: String,
    pub satisfied: String,
    pub basic: String,
    pub unsatisfied: String,
    pub note: String,
}

impl PollForm {
    pub fn of(p: &PollRow) -> PollForm {
        PollForm {
            title: p.title.clone(),
            org_id: p.org_id.map(|i| i.to_string()).unwrap_or_default(),
            started_on: p.started_on.clone(),
            ended_on: p.ended_on.clone(),
            planned: p.planned.to_string(),
            respondents: p.respondents.to_string(),
            satisfied: p.satisfied.to_string(),
            basic: p.basic.to_string(),
            unsatisfied: p.unsatisfied.to_string(),
            note: p.note.clone(),
        }
    }
}

/// Validated values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollValues {
    pub title: String,
    pub org_id: Option<i64>,
    pub started_on: String,
    pub ended_on: String,
    pub planned: i64,
    pub respondents: i64,
    pub satisfied: i64,
    pub basic: i64,
    pub unsatisfied: i64,
    pub note: String,
}

/// Counts above this are typing mistakes.
const MAX_COUNT: i64 = 10_000_000;

/// Pure validation: every problem at once. The three satisfaction counts add up to at
/// most the respondents, who are at most the planned calls.
pub fn validate(f: &PollForm) -> Result<PollValues, FieldErrors> {
    let mut e = FieldErrors::new();
    let title = f.title.trim().to_string();
    if title.is_empty() {
        e.add("title", "请填写调查名称");
    } else if title.chars().count() > 100 {
        e.add("title", "调查名称不能超过 100 个字");
    }
    let org_id = match f.org_id.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(i) if i > 0 => Some(i),
            _ => {
                e.add("org_id", "请选择组织单位");
                None
            }
        },
    };
    let mut date = |field: &str, label: &str, v: &str| match v.trim() {
        "" => {
            e.add(field, format!("请填写{label}"));
            None
        }
        s => {
            let d = parse_date(s);
            if d.is_none() {
                e.add(field, format!("{label}格式应为 YYYY-MM-DD"));
            }
            d
        }
    };
    let started = date("started_on", "开始日期", &f.started_on);
    let ended = date("ended_on", "结束日期", &f.ended_on);
    if let (Some(s), Some(t)) = (started, ended)
        && t < s
    {
        e.add("ended_on", "结束日期不能早于开始日期");
    }
    let mut count = |field: &str, label: &str, v: &str| -> i64 {
        let v = v.trim();
        if v.is_empty() {
            return 0;
        }
        match v.parse::<i64>() {
            Ok(n) if (0..=MAX_COUNT).contains(&n) => n,
            _ => {
                e.add(field, format!("{label}应为 0 到 {MAX_COUNT} 之间的整数"));
                0
            }
        }
    };
    let planned = count("planned", "计划拨打数", &f.planned);
    let respondents = count("respondents", "受访人数", &f.respondents);
    let satisfied = count("satisfied", "满意人数", &f.satisfied);
    let basic = count("basic", "基本满意人数", &f.basic);
    let unsatisfied = count("unsatisfied", "不满意人数", &f.unsatisfied);
    if respondents > planned {
        e.add("respondents", format!("受访人数（{respondents}）不能超过计划拨打数（{planned}）"));
    }
    let rated = satisfied + basic + unsatisfied;
    if rated > respondents {
        e.add("satisfied", format!("满意、基本满意、不满意人数之和（{rated}）不能超过受访人数（{respondents}）"));
    }
    let note = f.note.trim().to_string();
    if note.chars().count() > 1000 {
        e.add("note", "备注不能超过 1000 个字");
    }
    if !e.is_empty() {
        return Err(e);
    }
    Ok(PollValues {
        title,
        org_id,
        started_on: started.map(fmt_date).unwrap_or_default(),
        ended_on: ended.map(fmt_date).unwrap_or_default(),
        planned,
        respondents,
        satisfied,
        basic,
        unsatisfied,
        note,
    })
}

// --- store ------------------------------------------------------------------------------

pub async fn list(c: &mut Conn<'_>) -> Result<Vec<PollRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, PollRow>("SELECT * FROM hl_polls ORDER BY started_on DESC, id DESC").fetch_all(&mut **x).await
    })?)
}

pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<PollRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, PollRow>("SELECT * FROM hl_polls WHERE id = $1").bind(id).fetch_optional(&mut **x).await
    })?)
}

/// Polls running at some time in `from..=to` ('YYYY-MM-DD').
pub async fn in_period(c: &mut Conn<'_>, from: &str, to: &str) -> Result<Vec<PollRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, PollRow>(
            "SELECT * FROM hl_polls WHERE started_on <= $2 AND ended_on >= $1 ORDER BY started_on, id",
        )
        .bind(from).bind(to).fetch_all(&mut **x).await
    })?)
}

// --- use cases --------------------------------------------------------------------------

fn may_edit(who: &Principal) -> Result<()> {
    if who.has(Perm::HotlineIntake) {
        Ok(())
    } else {
        Err(Error::Forbidden("只有热线中心可以登记民意调查".into()))
    }
}

async fn check_org(c: &mut Conn<'_>, v: &PollValues) -> Result<()> {
    if let Some(id) = v.org_id
        && gongkai_kernel::org::store::get(c, id).await?.is_none()
    {
        return Err(Error::field("org_id", "所选单位不存在"));
    }
    Ok(())
}

fn summary(v: &PollValues) -> serde_json::Value {
    json!({
        "title": v.title, "org_id": v.org_id, "started_on": v.started_on, "ended_on": v.ended_on,
        "planned": v.planned, "respondents": v.respondents, "satisfied": v.satisfied, "basic": v.basic,
        "unsatisfied": v.unsatisfied,
    })
}

pub async fn create(db: &Db, who: &Principal, ip: &str, f: &PollForm) -> Result<i64> {
    may_edit(who)?;
    let v = validate(f).map_err(Error::Invalid)?;
    let now = gongkai_kernel::clock::now_ms();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    check_org(&mut c, &v).await?;
    let id: i64 = with_conn!(&mut c, x => {
        sqlx::query_scalar(
            "INSERT INTO hl_polls (title, org_id, started_on, ended_on, planned, respondents, satisfied, basic,
               unsatisfied, note, created_by, created_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id",
        )
        .bind(&v.title).bind(v.org_id).bind(&v.started_on).bind(&v.ended_on).bind(v.planned).bind(v.respondents)
        .bind(v.satisfied).bind(v.basic).bind(v.unsatisfied).bind(&v.note).bind(who.user_id).bind(now)
        .fetch_one(&mut **x).await
    })?;
    audit::append(&mut c, &who.actor(ip), "hotline.poll_create", "hl_poll", id, summary(&v)).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(db: &Db, who: &Principal, ip: &str, id: i64, f: &PollForm) -> Result<()> {
    may_edit(who)?;
    let v = validate(f).map_err(Error::Invalid)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = get(&mut c, id).await?.ok_or(Error::NotFound)?;
    check_org(&mut c, &v).await?;
    with_conn!(&mut c, x => {
        sqlx::query(
            "UPDATE hl_polls SET title = $2, org_id = $3, started_on = $4, ended_on = $5, planned = $6, respondents = $7,
               satisfied = $8, basic = $9, unsatisfied = $10, note = $11 WHERE id = $1",
        )
        .bind(id).bind(&v.title).bind(v.org_id).bind(&v.started_on).bind(&v.ended_on).bind(v.planned)
        .bind(v.respondents).bind(v.satisfied).bind(v.basic).bind(v.unsatisfied).bind(&v.note)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    let mut s = summary(&v);
    s["before"] = json!({
        "title": before.title, "respondents": before.respondents, "satisfied": before.satisfied,
        "basic": before.basic, "unsatisfied": before.unsatisfied,
    });
    audit::append(&mut c, &who.actor(ip), "hotline.poll_update", "hl_poll", id, s).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> PollForm {
        PollForm {
            title: "2026年供暖服务满意度电话调查".into(),
            org_id: "".into(),
            started_on: "2026-03-02".into(),
            ended_on: "2026-03-06".into(),
            planned: "200".into(),
            respondents: "150".into(),
            satisfied: "100".into(),
            basic: "30".into(),
            unsatisfied: "20".into(),
            note: "".into(),
        }
    }

    #[test]
    fn counts_add_up_to_at_most_the_respondents() {
        let v = validate(&form()).unwrap();
        assert_eq!((v.planned, v.respondents, v.satisfied + v.basic + v.unsatisfied), (200, 150, 150));
        let e = validate(&PollForm { unsatisfied: "21".into(), ..form() }).unwrap_err();
        assert_eq!(e.get("satisfied"), Some("满意、基本满意、不满意人数之和（151）不能超过受访人数（150）"));
        let e = validate(&PollForm { respondents: "201".into(), ..form() }).unwrap_err();
        assert!(e.get("respondents").is_some());
        let e = validate(&PollForm {
            title: " ".into(),
            started_on: "2026-03-10".into(),
            ended_on: "2026-03-09".into(),
            planned: "-1".into(),
            org_id: "x".into(),
            ..form()
        })
        .unwrap_err();
        for f in ["title", "ended_on", "planned", "org_id"] {
            assert!(e.get(f).is_some(), "{f}: {e:?}");
        }
        let e = validate(&PollForm { started_on: "2026-02-30".into(), ..form() }).unwrap_err();
        assert_eq!(e.get("started_on"), Some("开始日期格式应为 YYYY-MM-DD"));
    }
}
