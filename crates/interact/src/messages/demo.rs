//! Demo messages: 40 across the last year on the sites www and jyj, in every state, most
//! answered and published, a few open and overdue, one past the 3-month alarm. Made through
//! the use cases (so timelines and audit entries are real), then dated back.

use time::{Date, Duration};

use gongkai_kernel::audit::Actor;
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::calendar::rules::format_date;
use gongkai_kernel::db::Db;
use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::with_conn;

use super::rules::SubmitForm;
use super::service::{self, ReviewForm};
use super::{RATINGS, State};

/// (type, title, content, reply)
const TOPICS: [(&str, &str, &str, &str); 10] = [
    (
        "consult",
        "外省转入学生如何办理转学手续",
        "孩子今年随我们从外省来青禾工作，想转入东湖小学三年级，需要准备哪些材料？我的电话13812340001。",
        "您好：请携带户口簿或居住证、原学校出具的学籍信息表到拟转入学校办理，具体可咨询区教育局基础教育科0571-88001005。",
    ),
    (
        "suggest",
        "建议延长学校周边早高峰交警执勤时间",
        "东湖小学门口每天7点到8点非常拥堵，建议交警执勤延长到8点半，并设置临时停车点。",
        "您好：您的建议已转交区交警大队，自下月起东湖小学周边早高峰执勤延长至8时30分，并在东湖路设置临时停车点。",
    ),
    (
        "complain",
        "小区旁工地夜间施工噪音扰民",
        "西岭街道花园路工地连续一周夜间施工到凌晨，严重影响休息，我是业主陈志强，电话13912340002。",
        "您好：经核查，该工地未办理夜间施工许可，已责令停止夜间施工并予以处罚，今后如有类似情况请拨打12345反映。",
    ),
    (
        "help",
        "残疾人子女入学资助如何申请",
        "我是残疾人，孩子上初中，家庭困难，请问有什么资助政策，怎么申请？",
        "您好：可申请义务教育家庭经济困难学生生活补助，请于每学期开学后两周内向学校提出申请，学校审核后报区教育局。",
    ),
    (
        "consult",
        "2025年幼儿园招生报名时间",
        "请问今年公办幼儿园小班什么时候报名？网上报名还是现场报名？",
        "您好：2025年公办幼儿园小班报名于6月1日至6月10日在“青禾教育”网上报名，具体见区教育局网站招生公告。",
    ),
    (
        "suggest",
        "建议在石桥镇增设公交线路",
        "石桥镇到区中心只有一条公交线路，班次少，建议增开一条经过区人民医院的线路。",
        "您好：区交通运输局已将您的建议纳入明年公交线网优化方案，届时将征求公众意见。",
    ),
    (
        "complain",
        "学校食堂饭菜价格偏高",
        "西岭中学食堂一份午餐15元，比周边学校贵，质量一般，希望相关部门核查。",
        "您好：区教育局已会同市场监管部门对西岭中学食堂进行检查，食堂已调整价格并公示成本，欢迎继续监督。",
    ),
    (
        "help",
        "老人突发疾病如何申请临时救助",
        "我父亲突发脑梗住院，医药费负担重，请问能否申请临时救助？联系人李秀梅0571-88123456。",
        "您好：可向户籍所在地街道（镇）提出临时救助申请，需提供身份证、医疗费用票据等材料，街道将在5个工作日内审核。",
    ),
    (
        "other",
        "网站部分链接无法打开",
        "区政府网站“政策解读”栏目有几篇文章点击后显示无法访问。",
        "您好：感谢您的反馈，相关链接已修复。",
    ),
    (
        "consult",
        "教师资格认定体检地点",
        "请问2025年上半年教师资格认定的体检在哪家医院？",
        "您好：体检地点为青禾区人民医院体检中心，请携带体检表于工作日上午前往。",
    ),
];

/// The query password of every demo message (printed by `gongkai demo`'s caller if wanted).
pub const DEMO_PASSWORD: &str = "DEMO2026";

const NAMES: [&str; 8] = ["陈志强", "王芳", "李秀梅", "张伟", "刘洋", "赵敏", "孙丽", "周建国"];

async fn principal(db: &Db, username: &str) -> Result<Principal> {
    let id: Option<i64> = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        with_conn!(&mut c, x => {
            sqlx::query_scalar("SELECT id FROM users WHERE username = $1").bind(username).fetch_optional(&mut **x).await
        })?
    };
    let id = id.ok_or_else(|| Error::Conflict(format!("演示用户 {username} 不存在：请先创建内核演示数据")))?;
    gongkai_kernel::auth::service::principal_of(db, id).await
}

async fn count(db: &Db) -> Result<i64> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    Ok(with_conn!(&mut c, x => sqlx::query_scalar("SELECT COUNT(*) FROM msg_messages").fetch_one(&mut **x).await)?)
}

/// The state demo message `i` ends in.
fn target(i: usize) -> State {
    match i {
        0 => State::Submitted,
        1 => State::Accepted,
        2 | 10 => State::Assigned,
        3 => State::Replied,
        4 => State::Reviewed,
        i if i % 7 == 5 => State::Rejected,
        i if i % 4 == 0 => State::Sent,
        _ => State::Published,
    }
}

pub async fn seed(db: &Db, today: Date) -> Result<bool> {
    if count(db).await? > 0 {
        return Ok(false);
    }
    let (sites, orgs) = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        (gongkai_kernel::site::store::all(&mut c).await?, gongkai_kernel::org::store::all(&mut c).await?)
    };
    let site = |code: &str| {
        sites
            .iter()
            .find(|s| s.code == code)
            .cloned()
            .ok_or_else(|| Error::Conflict(format!("演示网站 {code} 不存在：请先创建内核演示数据（gongkai demo）")))
    };
    let (www, jyj_site) = (site("www")?, site("jyj")?);
    let jyj = orgs.iter().find(|o| o.short_name == "区教育局").map(|o| o.id).ok_or(Error::NotFound)?;
    // The demo's reviewer runs the message desk of both sites (the cms demo grants the same).
    let actor = Actor::system("demo");
    let reviewer = principal(db, "reviewer").await?;
    for s in [www.id, jyj_site.id] {
        if !reviewer.grants.iter().any(|g| g.role == Role::Reviewer && g.org_id.is_none() && g.site_id == Some(s)) {
            gongkai_kernel::auth::service::grant(db, None, &actor, reviewer.user_id, Role::Reviewer, None, Some(s))
                .await?;
        }
    }
    let desk = principal(db, "reviewer").await?;
    let handler = principal(db, "handler").await?;
    let supervisor = principal(db, "supervisor").await?;
    let cal = gongkai_kernel::calendar::service::load(db).await?;
    let ip = "demo";
    for i in 0..40usize {
        let (kind, title, content, reply) = TOPICS[i % TOPICS.len()];
        let name = NAMES[i % NAMES.len()];
        let s = if i % 2 == 0 { &www } else { &jyj_site };
        let st = target(i);
        let form = SubmitForm {
            kind: kind.into(),
            addressee: if i % 5 == 0 { "leader".into() } else { jyj.to_string() },
            title: title.into(),
            content: format!("{name}：{content}"),
            name: name.into(),
            phone: format!("139{:08}", 12_340_000 + i),
            email: String::new(),
            agree: if i % 4 == 0 { String::new() } else { "1".into() },
        };
        // Dated back below: submitted `age` days ago, accepted the next working day,
        // answered after 2–7 working days (so a few replies are late).
        let age = 2 + 9 * i as i64;
        let submitted = today - Duration::days(age);
        let idem = format!("demo-message-{i:04}-{}", gongkai_kernel::random_token::<4>());
        let code = service::tracking_code(submitted, &format!("DM{i:04}"));
        let (m, _) =
            service::prepare(db, s, &form, Vec::new(), &idem, &code, DEMO_PASSWORD, ip).await?.write(db).await?;
        let id = m.id;
        if st == State::Rejected {
            service::reject(db, &desk, ip, id, "out_of_scope", "属司法程序处理事项，请通过司法途径解决").await?;
        } else if st != State::Submitted {
            service::accept(db, &desk, ip, id).await?;
            if st != State::Accepted {
                service::assign(db, &desk, ip, id, &jyj.to_string(), "").await?;
            }
            if !matches!(st, State::Accepted | State::Assigned) {
                service::draft(db, &handler, ip, id, &format!("{name}{reply}")).await?;
            }
            if matches!(st, State::Reviewed | State::Sent | State::Published) {
                let approve = ReviewForm { decision: "approve".into(), note: String::new(), publish: "1".into() };
                service::review(db, &desk, ip, id, &approve).await?;
            }
            if matches!(st, State::Sent | State::Published) {
                service::send(db, &handler, ip, id).await?;
            }
            if st == State::Published {
                service::publish(db, &desk, ip, id).await?;
                if i % 3 != 0 {
                    service::rate(db, id, RATINGS[i % RATINGS.len()].0, ip).await?;
                }
            }
        }
        let accepted = cal.add_working_days(submitted, 1);
        let due = cal.add_working_days(accepted, 5);
        let sent = cal.add_working_days(accepted, 2 + (i % 6) as u32);
        let answered = matches!(st, State::Sent | State::Published);
        let shift_ms = (today - submitted).whole_milliseconds() as i64;
        let (sub, acc, due_s, sent_s) = (
            format_date(submitted),
            (st != State::Submitted && st != State::Rejected).then(|| format_date(accepted)),
            format_date(due),
            answered.then(|| format_date(sent)),
        );
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        with_conn!(&mut c, x => {
            sqlx::query(
                "UPDATE msg_messages SET submitted_on = $2, accepted_on = $3,
                   due_on = CASE WHEN $3 IS NULL THEN NULL ELSE $4 END, sent_on = $5,
                   published_on = CASE WHEN published_on IS NULL THEN NULL ELSE $5 END,
                   created_at = created_at - $6, updated_at = updated_at - $6
                 WHERE id = $1",
            )
            .bind(id).bind(&sub).bind(&acc).bind(&due_s).bind(&sent_s).bind(shift_ms)
            .execute(&mut **x).await?;
            sqlx::query("UPDATE msg_events SET at = at - $2 WHERE message_id = $1")
                .bind(id).bind(shift_ms).execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        if i == 10 {
            service::supervise(
                db,
                &supervisor,
                ip,
                id,
                "instruct",
                "该留言已近三个月未答复，请承办单位三日内办结并报告",
            )
            .await?;
        }
    }
    // Flags for today: overdue ones and the 3-month alarm.
    service::sweep(db, today).await?;
    Ok(true)
}
