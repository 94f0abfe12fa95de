//! Demo data of 征集调查 on the portal site (www), made through the service functions as
//! the demo's editor and reviewer: a closed questionnaire with about 120 responses and
//! its published results, an open solicitation with approved and pending comments, and a
//! closed solicitation with its published 采纳情况.

use time::{Date, Duration};

use gongkai_kernel::Result;
use gongkai_kernel::db::Db;
use gongkai_kernel::error::Error;
use gongkai_kernel::with_conn;

use super::rules::Kind;
use super::service::{self, CommentForm, SurveyForm};

const IP: &str = "demo";

const QUESTIONS: &str = "\
1. [单选][必答] 您居住的小区是否列入今年的老旧小区改造计划？
- 已列入
- 未列入 -> 4
- 不清楚 -> 4
2. [多选][必答] 您最希望优先改造哪些内容？
- 加装电梯
- 增加停车位
- 雨污分流和管网更新
- 绿化和休闲设施
- 充电桩
3. [评分][必答] 您对改造施工期间的安民告示和沟通是否满意？
4. [单选] 您通过什么渠道了解改造信息？
- 社区公告栏
- 区政府网站
- 微信公众号
- 邻居告知
5. [填空] 您对老旧小区改造还有哪些意见和建议？
";

const SUGGESTIONS: [&str; 6] = [
    "希望施工时间避开午休。",
    "建议电梯费用分摊方案提前公示。",
    "停车位不够，希望利用边角地。",
    "雨季施工注意排水。",
    "希望多种树，少铺硬地。",
    "改造完成后请公布验收结果。",
];

async fn user(db: &Db, username: &str) -> Result<gongkai_kernel::auth::Principal> {
    let id: Option<i64> = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        with_conn!(&mut c, x => {
            sqlx::query_scalar("SELECT id FROM users WHERE username = $1").bind(username).fetch_optional(&mut **x).await
        })?
    };
    let id = id.ok_or_else(|| Error::Internal(format!("演示用户 {username} 不存在，请先生成基础演示数据")))?;
    gongkai_kernel::auth::service::principal_of(db, id).await
}

async fn id_by(db: &Db, sql: &'static str, v: &str) -> Result<Option<i64>> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    Ok(with_conn!(&mut c, x => sqlx::query_scalar(sql).bind(v).fetch_optional(&mut **x).await)?)
}

fn form(site: i64, org: i64, kind: Kind, title: &str, desc: &str, body: &str, (from, to): (Date, Date)) -> SurveyForm {
    SurveyForm {
        site_id: site.to_string(),
        org_id: org.to_string(),
        kind: kind.as_str().into(),
        title: title.into(),
        description: desc.into(),
        body: body.into(),
        opens_on: gongkai_kernel::clock::fmt_date(from),
        closes_on: gongkai_kernel::clock::fmt_date(to),
        version: String::new(),
    }
}

/// A small deterministic generator, so the demo's figures are the same every time.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Seed once (false when the site already has surveys or the base demo is missing).
pub async fn seed(db: &Db, today: Date) -> Result<bool> {
    let Some(site) = id_by(db, "SELECT id FROM sites WHERE code = $1", "www").await? else { return Ok(false) };
    let Some(org) = id_by(db, "SELECT id FROM orgs WHERE name = $1", "青禾区政务公开和大数据中心").await?
    else {
        return Ok(false);
    };
    let existing = {
        let mut h = db.read().await?;
        super::store::all(&mut h.conn(), Some(site)).await?.len()
    };
    if existing > 0 {
        return Ok(false);
    }
    let (editor, reviewer) = (user(db, "editor").await?, user(db, "reviewer").await?);

    // A closed questionnaire with its results.
    let (from, to) = (today - Duration::days(75), today - Duration::days(45));
    let f = form(
        site,
        org,
        Kind::Questionnaire,
        "青禾区老旧小区改造居民满意度问卷调查",
        "为了解居民对老旧小区改造工作的意见，区住建局委托开展本次问卷调查，约需3分钟。问卷不记名，结果仅用于改进工作。",
        "",
        (from, to),
    );
    let q = service::create(db, &editor, IP, &f).await?;
    service::save_questions(db, &editor, IP, q, QUESTIONS, "1").await?;
    service::publish(db, &reviewer, IP, q, from).await?;
    let mut rng = Lcg(20_260_301);
    for i in 0..120u64 {
        let mut a: Vec<(String, String)> = Vec::new();
        let q1 = [0, 0, 0, 0, 0, 1, 1, 2][rng.next(8) as usize];
        a.push(("q1".into(), q1.to_string()));
        if q1 == 0 {
            let mut picked = false;
            for opt in 0..5 {
                if rng.next(100) < [70, 55, 35, 40, 25][opt] {
                    a.push(("q2".into(), opt.to_string()));
                    picked = true;
                }
            }
            if !picked {
                a.push(("q2".into(), "0".into()));
            }
            a.push(("q3".into(), [5, 5, 4, 4, 4, 3, 3, 2, 1][rng.next(9) as usize].to_string()));
        }
        if rng.next(10) < 8 {
            a.push(("q4".into(), rng.next(4).to_string()));
        }
        if rng.next(10) < 3 {
            a.push(("q5".into(), SUGGESTIONS[rng.next(SUGGESTIONS.len() as u64) as usize].into()));
        }
        let day = from + Duration::days((i % 30) as i64);
        service::vote(db, q, &a, &format!("demo-survey-response-{i:04}"), &format!("demo{i:028}"), IP, day).await?;
    }
    let result = "本次调查共收到有效问卷120份。受访居民中，多数所在小区已列入改造计划；最希望优先改造的是加装电梯和增加停车位。\n\
                  对施工期间沟通工作的平均评分为3.7分。针对意见较多的施工时间问题，区住建局已要求各施工单位在12:00—14:00和22:00以后停止噪声作业，并在小区出入口公示施工计划。";
    service::publish_feedback(db, &reviewer, IP, q, result, today).await?;

    // An open solicitation with approved and pending comments.
    let body = "第一条 为加强本区机动车停放管理，改善交通秩序，根据有关法律法规，结合本区实际，制定本办法。\n\
                第二条 本办法适用于本区行政区域内道路停车泊位和公共停车场的规划、建设、使用和管理。\n\
                第三条 区住房和城乡建设局负责公共停车设施的统筹协调；公安交通管理部门负责道路停车泊位的设置和管理。\n\
                第四条 鼓励机关、企事业单位在夜间和节假日向社会开放内部停车场。";
    let f = form(
        site,
        org,
        Kind::Solicitation,
        "关于《青禾区机动车停放管理办法（征求意见稿）》公开征求意见的公告",
        "为广泛听取社会公众意见，现将征求意见稿全文公布。公众可在征集期内通过本页提出意见，也可发送电子邮件至 tingche@qinghe.gov.cn。",
        body,
        (today - Duration::days(5), today + Duration::days(25)),
    );
    let s = service::create(db, &editor, IP, &f).await?;
    service::publish(db, &reviewer, IP, s, today).await?;
    let comments = [
        ("李女士", "13900001111", "建议在学校周边设置限时停车泊位，方便接送孩子。", Some(true)),
        ("", "", "第四条很好，希望明确开放内部停车场的单位名单并定期公布。", Some(true)),
        ("赵先生", "", "老旧小区周边夜间停车难，能否允许夜间在部分支路临时停车？", Some(true)),
        ("网友", "", "买车请到某某车行，优惠多多！", Some(false)),
        ("陈先生", "zhangchen@example.cn", "建议增加电动汽车充电车位的配建比例。", None),
        ("", "", "收费标准什么时候公布？希望听证。", None),
    ];
    for (i, (name, contact, text, decision)) in comments.iter().enumerate() {
        let c = CommentForm { name: (*name).into(), contact: (*contact).into(), body: (*text).into() };
        let (row, _) = service::submit_comment(db, s, &c, &format!("demo-survey-comment-{i:04}"), IP, today).await?;
        if let Some(approve) = decision {
            service::moderate(db, &editor, IP, s, row.id, *approve).await?;
        }
    }

    // A closed solicitation with its 采纳情况.
    let (from, to) = (today - Duration::days(120), today - Duration::days(90));
    let f = form(
        site,
        org,
        Kind::Solicitation,
        "关于《青禾区政府信息公开工作考核办法（修订稿）》公开征求意见的公告",
        "现将修订稿公开征求意见，征集期30天。",
        "第一条 为推进政府信息公开工作，提高工作质量，制定本办法。\n第二条 考核对象为区政府各部门、各街道办事处和镇人民政府。",
        (from, to),
    );
    let c = service::create(db, &editor, IP, &f).await?;
    service::publish(db, &reviewer, IP, c, from).await?;
    for (i, text) in ["建议把依申请公开的答复质量纳入考核。", "考核结果应向社会公开。", "希望减少重复填报的台账。"]
        .iter()
        .enumerate()
    {
        let cf = CommentForm { body: (*text).into(), ..Default::default() };
        let (row, _) = service::submit_comment(
            db,
            c,
            &cf,
            &format!("demo-survey-old-comment-{i:04}"),
            IP,
            from + Duration::days(3),
        )
        .await?;
        service::moderate(db, &editor, IP, c, row.id, true).await?;
    }
    let adopted = "征求意见期间共收到意见3条。\n\
                   采纳2条：将依申请公开答复质量纳入考核指标（第五条）；考核结果在区政府网站公开（第九条）。\n\
                   部分采纳1条：关于减少重复填报，已将台账合并为一套，但年度报告仍需单独报送。";
    service::publish_feedback(db, &reviewer, IP, c, adopted, today).await?;
    Ok(true)
}
