//! A real browser (headless Chromium through chromedriver) answers a questionnaire on a
//! phone-width window — skip logic, the captcha, "已提交" — then, after staff close it,
//! reads the results page with its SVG charts and tables. Both pages pass axe and the Nu
//! HTML Checker. Screenshots go to `target/screenshots/` (or `$GONGKAI_ARTIFACTS`).
//!
//! Without chromedriver the test says so and returns, unless `GONGKAI_REQUIRE_BROWSER=1`.

use gongkai_interact::surveys::rules::Kind;
use gongkai_interact::surveys::service;
use gongkai_kernel::testkit::browser::Driver;
use gongkai_kernel::testkit::{self, TestServer, checkers};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;
use serde_json::Value;

const QUESTIONS: &str = "1. [单选][必答] 您是否了解本次老旧小区改造方案？\n- 了解\n- 不了解 -> 3\n2. [多选] 您最关心哪些内容？\n- 加装电梯\n- 停车位\n- 绿化\n3. [评分][必答] 您对方案的总体评价\n4. [填空] 其他意见和建议\n";

fn solve(question: &str) -> u32 {
    let digit = |c: char| "一二三四五六七八九".chars().position(|d| d == c).map(|p| p as u32 + 1);
    let c: Vec<char> = question.chars().collect();
    let (a, b) = (digit(c[0]).unwrap_or_else(|| panic!("{question}")), digit(c[2]).unwrap());
    if c[1] == '加' { a + b } else { a - b }
}

/// The HTML the server sent for the current page (the driver's DOM has lost the doctype).
async fn served(d: &Driver) -> String {
    let script = "var done = arguments[arguments.length - 1];
        fetch(location.href).then(function (r) { return r.text(); }).then(done);";
    d.execute_async(script, vec![]).await.as_str().unwrap_or_default().to_string()
}

async fn id_of(t: &testkit::TestDb, sql: &'static str, v: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).bind(v).fetch_one(&mut **x).await).unwrap()
}

#[tokio::test]
async fn a_citizen_answers_a_questionnaire_on_a_phone_and_reads_the_results() {
    let Some(d) = Driver::start().await else { return };
    let t = testkit::sqlite().await;
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    let state = gongkai_interact::attach(AppState::with_slices(t.db.clone(), t.config(), gongkai_interact::slices()));
    let s = TestServer::start_state(state).await;
    let base = s.base.clone();
    let today = gongkai_kernel::clock::today();

    // Staff prepare and publish the questionnaire (through the service), and two
    // neighbours answer first.
    let user = |name: &'static str| {
        let t = &t;
        async move {
            let id = id_of(t, "SELECT id FROM users WHERE username = $1", name).await;
            testkit::principal(&t.db, id).await
        }
    };
    let (editor, reviewer) = (user("editor").await, user("reviewer").await);
    let f = service::SurveyForm {
        site_id: id_of(&t, "SELECT id FROM sites WHERE code = $1", "www").await.to_string(),
        org_id: id_of(&t, "SELECT id FROM orgs WHERE name = $1", "青禾区政务公开和大数据中心").await.to_string(),
        kind: Kind::Questionnaire.as_str().into(),
        title: "老旧小区改造居民意见问卷".into(),
        description: "约需2分钟，不记名。".into(),
        body: String::new(),
        opens_on: gongkai_kernel::clock::fmt_date(today),
        closes_on: gongkai_kernel::clock::fmt_date(today + time::Duration::days(14)),
        version: String::new(),
    };
    let id = service::create(&t.db, &editor, "127.0.0.1", &f).await.unwrap();
    service::save_questions(&t.db, &editor, "127.0.0.1", id, QUESTIONS, "1").await.unwrap();
    service::publish(&t.db, &reviewer, "127.0.0.1", id, today).await.unwrap();
    for (i, a) in [[("q1", "0"), ("q2", "0"), ("q3", "4")], [("q1", "0"), ("q2", "1"), ("q3", "5")]].iter().enumerate()
    {
        let posted: Vec<(String, String)> = a.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        service::vote(&t.db, id, &posted, &format!("browser-neighbour-{i:04}"), &format!("n{i}"), "127.0.0.1", today)
            .await
            .unwrap();
    }

    let mut sources: Vec<(String, String)> = Vec::new();
    d.set_window_size(390, 844).await;
    d.goto(&format!("{base}/hudong/www/zhengji")).await;
    d.wait_for(&["征集调查", "老旧小区改造居民意见问卷", "正在进行"], "the list").await;
    d.click("main .svy-list a").await;
    d.wait_for(&["您是否了解本次老旧小区改造方案", "选此项请跳至第3题"], "the questionnaire").await;
    checkers::assert_axe_clean(&d, "the questionnaire on a phone").await;
    sources.push(("questionnaire".into(), served(&d).await));
    // The form fits the phone: nothing wider than the window.
    let wide = d.execute("return document.documentElement.scrollWidth > window.innerWidth + 1;", vec![]).await;
    assert_eq!(wide, Value::Bool(false), "no horizontal scrolling on a phone");

    // "不了解" skips question 2; a rating and a comment with markup in it.
    d.click("label[for='f-q1-1']").await;
    d.click("label[for='f-q3-3']").await;
    d.send_keys("#f-q4", "希望公布施工时间表<b>谢谢</b>").await;
    let question = d.text("label[for='f-answer']").await;
    d.send_keys("#f-answer", &solve(question.trim_end_matches('*').trim()).to_string()).await;
    d.screenshot("svy-01-phone-questionnaire").await;
    d.click("form[action$='/vote'] button[type=submit]").await;
    d.wait_for(&["已提交", "感谢您参与本次问卷调查"], "the thanks page").await;
    d.screenshot("svy-02-phone-submitted").await;

    // Back on the page: no second form.
    d.goto(&format!("{base}/hudong/www/zhengji/{id}")).await;
    d.wait_for(&["您已参与过本次问卷调查"], "the page remembers the vote").await;

    // Staff close it; the results page shows the charts with tables beside them.
    service::close(&t.db, &reviewer, "127.0.0.1", id, today).await.unwrap();
    service::publish_feedback(&t.db, &reviewer, "127.0.0.1", id, "多数受访居民了解改造方案，平均评分4.0分。", today)
        .await
        .unwrap();
    d.goto(&format!("{base}/hudong/www/zhengji/{id}")).await;
    let page = d.wait_for(&["调查统计", "共收到有效答卷 3 份", "调查结果", "平均评分4.0分"], "the results").await;
    assert!(!page.contains("name=\"q1\""), "no form after closing");
    assert_eq!(d.find_all("svg.svy-chart[role='img']").await.len(), 3, "three charts");
    assert_eq!(d.find_all("table.svy-table").await.len(), 3, "a table beside each chart");
    let label = d.attribute("svg.svy-chart", "aria-label").await.unwrap_or_default();
    assert_eq!(label, "第1题统计图：了解 2人（66.7%）；不了解 1人（33.3%）");
    d.execute("document.querySelector('.svy-result').scrollIntoView();", vec![]).await;
    d.screenshot("svy-03-phone-results").await;
    checkers::assert_axe_clean(&d, "the results on a phone").await;
    d.set_window_size(1280, 900).await;
    checkers::assert_axe_clean(&d, "the results on a desktop").await;
    d.screenshot("svy-04-desktop-results").await;
    sources.push(("results".into(), served(&d).await));
    let docs: Vec<(&str, &str)> = sources.iter().map(|(n, h)| (n.as_str(), h.as_str())).collect();
    checkers::assert_valid_html(&docs);
    d.quit().await;
}
