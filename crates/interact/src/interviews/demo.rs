//! Demo interviews on the district portal (site `www`): an archived 在线访谈 with two
//! guests, twelve answered questions, updates, two questions answered after the session
//! and one still open; an announced one with questions waiting; an archived 新闻发布会.
//! Idempotent: a database that has interviews is left as it is.

use time::{Date, PrimitiveDateTime, Time};

use gongkai_kernel::Result;
use gongkai_kernel::auth::{Principal, Role, Scope};
use gongkai_kernel::clock;
use gongkai_kernel::db::Db;
use gongkai_kernel::with_conn;

use super::rules::InterviewForm;
use super::service::{self, AnswerForm, Moderation, Question};

const IP: &str = "demo";

/// (asker, question, guest index, answer)
const QA: [(&str, &str, usize, &str); 12] = [
    (
        "家长王女士",
        "今年小学一年级招生什么时候开始网上报名？",
        0,
        "今年小学一年级网上报名时间为6月20日至6月30日，家长可通过“青禾教育”公众号或区教育局网站报名，逾期将无法参加第一批次录取。",
    ),
    (
        "东湖社区居民",
        "学区划分今年有调整吗？在哪里可以查询？",
        1,
        "今年对东湖、西岭两个片区的学区作了微调，调整方案已于5月底在区政府门户网站公示，也可拨打各学校招生咨询电话查询。",
    ),
    (
        "网友“青禾爸爸”",
        "随迁子女入学需要准备哪些材料？",
        1,
        "需提供户口簿、在本区的居住证（有效期内）、父母一方的劳动合同或营业执照，以及社保缴纳证明。具体以各校公布的材料清单为准。",
    ),
    (
        "家长李先生",
        "孩子户籍在本区但房产在外区，可以在本区就读吗？",
        0,
        "按照“户籍与实际居住地一致”的原则，优先在户籍所在学区就读；房户分离的，由区教育局根据学位情况统筹安排。",
    ),
    (
        "网友“晨曦”",
        "民办学校摇号结果在哪里查？",
        1,
        "民办学校摇号结果将在7月10日后在区教育局网站和各民办学校官网同步公布，报名家长还会收到短信通知。",
    ),
    (
        "家长赵女士",
        "二孩家庭能否安排兄弟姐妹同校就读？",
        0,
        "今年起实行“兄弟姐妹同校就读”政策，符合条件的家庭可在报名时勾选并上传相关证明材料。",
    ),
    (
        "网友“小树苗”",
        "新建的滨江小学今年招生吗？",
        0,
        "滨江小学今年9月投入使用，首期招收一年级6个班，学区范围为滨江一号、二号社区。",
    ),
    (
        "初三家长",
        "中考体育考试项目有变化吗？",
        1,
        "今年中考体育考试项目保持稳定，仍为必考项目加两项选考项目，具体评分标准已在区教育局网站公布。",
    ),
    (
        "网友“阳光”",
        "课后服务收费标准是多少？",
        1,
        "课后服务按每生每学期不超过600元收取，家庭经济困难学生免收，由学校统一向家长公示。",
    ),
    (
        "家长孙先生",
        "孩子有特殊教育需要，入学有什么支持？",
        0,
        "区特殊教育资源中心提供入学评估，随班就读学生由学校配备资源教师，家长可在报名时提出申请。",
    ),
    (
        "网友“青青”",
        "幼儿园和小学的衔接有什么安排？",
        1,
        "各小学在一年级上学期开设入学适应课程，幼儿园大班开展入学准备教育，两者共同做好幼小衔接。",
    ),
    (
        "家长周女士",
        "报名系统打不开怎么办？",
        1,
        "报名高峰期请错峰登录，如仍有问题可拨打技术支持电话 0571-12345678，工作日 8:30—17:30 有专人值守。",
    ),
];

const LATE: [(&str, &str, usize, &str); 2] = [
    (
        "网友“路人甲”",
        "校车接送今年会扩大范围吗？",
        1,
        "今年新增两条校车线路，覆盖西岭街道北部社区，具体线路将于开学前公布。",
    ),
    ("家长陈先生", "转学手续需要多长时间？", 1, "材料齐全的，转出、转入学校在5个工作日内办结。"),
];

const UPDATES: [&str; 3] = [
    "访谈开始。区教育局王立新局长、基础教育科李芳科长来到直播间。",
    "王立新局长介绍：今年全区新增小学学位1800个，新建、改扩建学校4所。",
    "访谈结束。感谢各位网友的关注和参与，未及答复的问题将在5个工作日内答复。",
];

fn at(day: Date, h: u8, m: u8) -> i64 {
    clock::local_to_ms(PrimitiveDateTime::new(day, Time::from_hms(h, m, 0).unwrap_or(Time::MIDNIGHT)))
}

fn days(d: Date, n: i64) -> Date {
    d + time::Duration::days(n)
}

/// A principal for the demo's actions: the demo editor's account, district-wide.
async fn demo_editor(db: &Db) -> Result<Option<Principal>> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let id: Option<(i64, String)> = with_conn!(&mut c, x => {
        sqlx::query_as("SELECT id, display_name FROM users WHERE username = 'editor'").fetch_optional(&mut **x).await
    })?;
    Ok(id.map(|(user_id, display_name)| Principal {
        user_id,
        username: "editor".into(),
        display_name,
        org_id: None,
        must_change_password: false,
        session_id: String::new(),
        csrf_token: String::new(),
        grants: vec![Scope { role: Role::Editor, org_id: None, org_path: None, site_id: None }],
    }))
}

fn form(
    site: i64,
    kind: &str,
    topic: &str,
    intro: &str,
    guests: &str,
    start: PrimitiveDateTime,
    hours: i64,
) -> InterviewForm {
    InterviewForm {
        site_id: site.to_string(),
        kind: kind.into(),
        topic: topic.into(),
        intro: intro.into(),
        guests: guests.into(),
        starts_at: clock::fmt_local(start),
        ends_at: clock::fmt_local(start + time::Duration::hours(hours)),
        answer_days: "5".into(),
    }
}

/// A public question (the demo's keys make a second run find the same rows).
async fn ask(db: &Db, site: i64, id: i64, asker: &str, body: &str, idem: &str, at: i64) -> Result<(i64, bool)> {
    service::submit_question(db, site, id, &Question { asker, body, idem }, IP, at).await
}

pub async fn seed(db: &Db, today: Date) -> Result<bool> {
    let (existing, site): (i64, Option<i64>) = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        let n = with_conn!(&mut c, x => sqlx::query_scalar("SELECT COUNT(*) FROM itv_interviews").fetch_one(&mut **x).await)?;
        let s = with_conn!(&mut c, x => {
            sqlx::query_scalar("SELECT id FROM sites WHERE code = 'www'").fetch_optional(&mut **x).await
        })?;
        (n, s)
    };
    let (Some(site), Some(who)) = (site, demo_editor(db).await?) else { return Ok(false) };
    if existing > 0 {
        return Ok(false);
    }

    // 1. The archived interview, 40 days ago.
    let day = days(today, -40);
    let guests = "王立新 青禾区教育局局长\n李芳 区教育局基础教育科科长";
    let names = ["王立新", "李芳"];
    let f = form(
        site,
        "interview",
        "2025年义务教育阶段招生入学政策解读",
        "今年我区义务教育招生入学工作有哪些新变化？随迁子女如何报名？区教育局负责同志做客在线访谈，解读招生政策，回答网友关心的问题。",
        guests,
        PrimitiveDateTime::new(day, Time::from_hms(9, 30, 0).unwrap_or(Time::MIDNIGHT)),
        2,
    );
    let id = service::create(db, &who, IP, &f, at(days(day, -10), 9, 0)).await?;
    service::announce(db, &who, IP, id, at(days(day, -7), 9, 0)).await?;
    let mut asked = Vec::new();
    for (i, (asker, q, _, _)) in QA.iter().chain(LATE.iter()).enumerate() {
        let when = at(days(day, -6 + (i as i64 % 6)), 10 + (i as u8 % 8), 5);
        let (qid, _) = ask(db, site, id, asker, q, &format!("demo-itv-{id}-{i}"), when).await?;
        asked.push(qid);
    }
    let (open_q, _) = ask(
        db,
        site,
        id,
        "网友“好奇”",
        "学校食堂的餐费标准是怎么定的？",
        &format!("demo-itv-{id}-open"),
        at(days(day, -1), 20, 0),
    )
    .await?;
    let (rejected, _) =
        ask(db, site, id, "", "快来看看这个网站！", &format!("demo-itv-{id}-spam"), at(days(day, -1), 21, 0)).await?;
    service::moderate(db, &who, IP, id, rejected, Moderation::Reject("与访谈主题无关"), at(days(day, -1), 21, 30))
        .await?;
    service::moderate(db, &who, IP, id, open_q, Moderation::Approve, at(day, 9, 0)).await?;
    service::go_live(db, &who, IP, id, at(day, 9, 30)).await?;
    service::publish_update(db, &who, IP, id, UPDATES[0], at(day, 9, 30)).await?;
    for (i, (_, _, g, a)) in QA.iter().enumerate() {
        let when = at(day, 9, 35) + i as i64 * 8 * 60_000;
        let f = AnswerForm {
            question_id: asked[i].to_string(),
            guest: names[*g].into(),
            answer: (*a).into(),
            ..Default::default()
        };
        service::publish_answer(db, &who, IP, id, &f, when).await?;
        if i == 5 {
            service::publish_update(db, &who, IP, id, UPDATES[1], when + 60_000).await?;
        }
    }
    service::publish_update(db, &who, IP, id, UPDATES[2], at(day, 11, 30)).await?;
    service::end(db, &who, IP, id, at(day, 11, 32)).await?;
    for (i, (_, _, g, a)) in LATE.iter().enumerate() {
        let qid = asked[QA.len() + i];
        let f = AnswerForm {
            question_id: qid.to_string(),
            guest: names[*g].into(),
            answer: (*a).into(),
            ..Default::default()
        };
        service::publish_answer(db, &who, IP, id, &f, at(days(day, 2 + i as i64), 15, 0)).await?;
    }

    // 2. The archived news conference, 20 days ago: journalists' questions typed in.
    let day = days(today, -20);
    let f = form(
        site,
        "press",
        "青禾区一季度经济运行情况新闻发布会",
        "区政府新闻办举行新闻发布会，介绍一季度全区经济运行情况，并回答记者提问。",
        "钱进 青禾区统计局局长\n吴桐 区发展和改革局副局长",
        PrimitiveDateTime::new(day, Time::from_hms(10, 0, 0).unwrap_or(Time::MIDNIGHT)),
        1,
    );
    let id = service::create(db, &who, IP, &f, at(days(day, -8), 9, 0)).await?;
    service::announce(db, &who, IP, id, at(days(day, -5), 9, 0)).await?;
    service::go_live(db, &who, IP, id, at(day, 10, 0)).await?;
    service::publish_update(
        db,
        &who,
        IP,
        id,
        "发布会开始。钱进局长通报一季度全区经济运行情况：地区生产总值同比增长5.6%。",
        at(day, 10, 2),
    )
    .await?;
    let press = [
        (
            "青禾日报记者",
            "一季度消费市场表现如何？",
            "钱进",
            "一季度全区社会消费品零售总额同比增长6.1%，其中升级类商品零售额增长较快。",
        ),
        (
            "区融媒体中心记者",
            "下一步在稳投资方面有什么举措？",
            "吴桐",
            "我们将加快推进32个重点项目建设，全年计划完成投资120亿元，并持续优化项目审批服务。",
        ),
        (
            "财经周刊记者",
            "规模以上工业增加值增速回落的原因是什么？",
            "钱进",
            "主要受部分企业设备检修影响，预计二季度将逐步恢复。",
        ),
    ];
    for (i, (asker, q, g, a)) in press.iter().enumerate() {
        let f = AnswerForm {
            question: (*q).into(),
            asker: (*asker).into(),
            guest: (*g).into(),
            answer: (*a).into(),
            ..Default::default()
        };
        service::publish_answer(db, &who, IP, id, &f, at(day, 10, 15 + i as u8 * 10)).await?;
    }
    service::end(db, &who, IP, id, at(day, 11, 0)).await?;

    // 3. Announced today, a week ahead, with questions waiting.
    let start = PrimitiveDateTime::new(days(today, 7), Time::from_hms(15, 0, 0).unwrap_or(Time::MIDNIGHT));
    let f = form(
        site,
        "interview",
        "优化营商环境“一件事一次办”改革访谈",
        "区行政审批局负责同志介绍“一件事一次办”改革进展，欢迎企业和群众提前留言提问。",
        "郑华 青禾区行政审批局局长",
        start,
        1,
    );
    let now = at(today, 9, 0);
    let id = service::create(db, &who, IP, &f, now).await?;
    service::announce(db, &who, IP, id, now).await?;
    let (q, _) =
        ask(db, site, id, "个体户刘先生", "开一家小餐馆需要跑几个部门？", &format!("demo-itv-{id}-1"), now + 3_600_000)
            .await?;
    ask(db, site, id, "", "企业变更登记能全程网办吗？", &format!("demo-itv-{id}-2"), now + 7_200_000).await?;
    service::moderate(db, &who, IP, id, q, Moderation::Approve, now + 7_300_000).await?;
    Ok(true)
}
