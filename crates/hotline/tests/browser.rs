//! A real browser (headless Chromium through chromedriver) walks a call end to end: the
//! agent takes it on the agent screen by keyboard alone — the phone field has the focus,
//! the caller's earlier order shows up as the number is typed, the category is picked by
//! typing its name, which suggests the handling organisation, and Ctrl+Enter dispatches;
//! the department's handler accepts and replies from the task queue; the agent reviews
//! and records a satisfied callback; the statistics dashboard counts the order. axe runs
//! on the agent screen and the order page, the Nu checker on the pages as served.
//! Screenshots go to `target/screenshots/` (or `$GONGKAI_ARTIFACTS`).
//!
//! Without chromedriver the test says so and returns, unless `GONGKAI_REQUIRE_BROWSER=1`.

use gongkai_hotline::service::{self, By, Intake};
use gongkai_hotline::settings::{self, CategoryInput, PlaceInput};
use gongkai_kernel::auth::Role;
use gongkai_kernel::testkit::browser::Driver;
use gongkai_kernel::testkit::{self, TestServer, checkers};
use gongkai_kernel::web::AppState;
use serde_json::json;

const TAB: &str = "\u{E004}";
const DOWN: &str = "\u{E015}";
const CTRL_ENTER: &str = "\u{E009}\u{E007}\u{E000}";

/// Keys sent to whatever has the focus, as a person types them.
async fn keys(d: &Driver, text: &str) {
    let active = d.command("GET", "/element/active", json!({})).await;
    let id = active[testkit::browser::ELEMENT_KEY].as_str().expect("a focused element").to_string();
    d.command("POST", &format!("/element/{id}/value"), json!({ "text": text })).await;
}

async fn focused(d: &Driver) -> String {
    d.execute("return document.activeElement.id;", vec![]).await.as_str().unwrap_or_default().to_string()
}

async fn value(d: &Driver, css: &str) -> String {
    let el = d.find(css).await;
    d.execute("return arguments[0].value;", vec![el.as_arg()]).await.as_str().unwrap_or_default().to_string()
}

/// The HTML the server sent for the current page (the driver's DOM has lost the doctype).
async fn served(d: &Driver) -> String {
    let script = "var done = arguments[arguments.length - 1];
        fetch(location.href).then(function (r) { return r.text(); }).then(done);";
    d.execute_async(script, vec![]).await.as_str().unwrap_or_default().to_string()
}

async fn org(t: &testkit::TestDb, short: &str) -> i64 {
    gongkai_kernel::org::service::list(&t.db).await.unwrap().into_iter().find(|o| o.short_name == short).unwrap().id
}

async fn user(t: &testkit::TestDb, name: &str, role: Role, org: Option<i64>) -> i64 {
    let id = testkit::user_with_role(&t.db, name, None).await;
    let actor = gongkai_kernel::audit::Actor::system("test");
    gongkai_kernel::auth::service::grant(&t.db, None, &actor, id, role, org, None).await.unwrap();
    id
}

#[tokio::test]
async fn an_agent_takes_a_call_by_keyboard_the_department_answers_and_the_statistics_count_it() {
    let Some(d) = Driver::start().await else { return };
    let t = testkit::sqlite().await;
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_hotline::init(&t.db).await.unwrap();
    let (jyj, jd1) = (org(&t, "区教育局").await, org(&t, "东湖街道").await);
    let admin = testkit::principal(&t.db, user(&t, "admin1", Role::SysAdmin, None).await).await;
    let agent_id = user(&t, "agent1", Role::Agent, Some(org(&t, "热线中心").await)).await;
    user(&t, "jyj1", Role::Handler, Some(jyj)).await;
    let cat = |parent: &str, code: &str, name: &str, org: Option<i64>, keywords: &str| CategoryInput {
        parent_id: parent.into(),
        code: code.into(),
        name: name.into(),
        keywords: keywords.into(),
        default_org_id: org.map(|o| o.to_string()).unwrap_or_default(),
        ..Default::default()
    };
    let edu = settings::add_category(&t.db, &admin, "127.0.0.1", &cat("", "edu", "教育", Some(jyj), "")).await.unwrap();
    settings::add_category(
        &t.db,
        &admin,
        "127.0.0.1",
        &cat(&edu.to_string(), "edu.school", "学校管理", None, "转学 学籍"),
    )
    .await
    .unwrap();
    let street = PlaceInput { street: "东湖街道".into(), org_id: jd1.to_string(), ..Default::default() };
    settings::add_place(&t.db, &admin, "127.0.0.1", &street).await.unwrap();
    // The caller rang last week about something else.
    let agent = testkit::principal(&t.db, agent_id).await;
    let earlier = Intake {
        channel: "phone".into(),
        caller_phone: "13912345678".into(),
        caller_name: "林秀英".into(),
        kind: "consult".into(),
        urgency: "normal".into(),
        title: "学区划分咨询".into(),
        content: "东湖小学的学区范围是哪些小区？".into(),
        ..Default::default()
    };
    let earlier = service::intake(&t.db, By::Staff(&agent, "127.0.0.1"), earlier).await.unwrap().order;
    service::answer_directly(&t.db, &agent, "127.0.0.1", earlier.id, "请见区教育局网站公布的学区划分。").await.unwrap();

    // The knowledge base knows the answer to a question like this one.
    let kb_answer = "外省转入学生由学校在转入后 5 个工作日内申请学籍，区教育局 3 个工作日内审核。";
    {
        let mut tx = t.db.begin().await.unwrap();
        let tokens = gongkai_hotline::kb::search::tokens_column("外省转学学籍怎么办理", kb_answer);
        let now = gongkai_kernel::clock::now_ms();
        gongkai_kernel::with_conn!(&mut tx.conn(), x => {
            sqlx::query(
                "INSERT INTO hl_kb (question, answer, source, org_id, state, tokens, created_at, updated_at)
                 VALUES ('外省转学学籍怎么办理', $1, '区教育局学籍管理办法', $2, 'active', $3, $4, $4)",
            )
            .bind(kb_answer).bind(jyj).bind(&tokens).bind(now).execute(&mut **x).await.map(|r| r.rows_affected())
        })
        .unwrap();
        tx.commit().await.unwrap();
    }

    let state = AppState::with_slices(t.db.clone(), t.config(), gongkai_hotline::slices());
    let s = TestServer::start_state(gongkai_hotline::attach(state)).await;
    let base = s.base.clone();
    let mut sources: Vec<(String, String)> = Vec::new();

    // --- the agent takes the call ---------------------------------------------------------
    d.login(&base, "agent1").await;
    d.goto(&format!("{base}/console/hotline/new")).await;
    d.wait_for(&["热线受理", "来电历史", "Ctrl"], "the agent screen").await;
    assert_eq!(focused(&d).await, "f-caller_phone", "the phone field has the focus");
    checkers::assert_axe_clean(&d, "the agent screen").await;
    d.screenshot("hotline-00-agent-screen").await;
    sources.push(("new.html".into(), served(&d).await));

    keys(&d, "13912345678").await;
    d.wait_for(&["该号码以前的工单 1 件", &earlier.no, "学区划分咨询"], "the caller's history").await;
    keys(&d, TAB).await;
    assert_eq!(focused(&d).await, "f-caller_name");
    keys(&d, "林秀英").await;
    // Past 匿名, 保密, the channel and the e-mail to the type: 请选择 → 咨询 → 求助 → 投诉.
    for expected in ["f-anonymous", "f-confidential", "f-channel", "f-caller_email", "f-kind"] {
        keys(&d, TAB).await;
        assert_eq!(focused(&d).await, expected, "tab order");
    }
    keys(&d, &DOWN.repeat(3)).await;
    assert_eq!(value(&d, "#f-kind").await, "complain");
    keys(&d, TAB).await;
    keys(&d, TAB).await;
    assert_eq!(focused(&d).await, "f-title");
    keys(&d, "孩子转学后学籍迟迟办不下来").await;
    // The title searched the knowledge base; its answer is copied into the direct answer,
    // and taken out again: this call is for the department.
    d.wait_for(&["外省转学学籍怎么办理", "区教育局学籍管理办法"], "the knowledge base beside the form").await;
    d.click("#hl-kb button[type=button]").await;
    assert_eq!(value(&d, "#f-answer").await, kb_answer);
    assert_eq!(focused(&d).await, "f-answer");
    keys(&d, "\u{E009}a\u{E000}\u{E003}").await;
    assert_eq!(value(&d, "#f-answer").await, "");
    d.click("#f-title").await;
    keys(&d, "\u{E010}").await;
    keys(&d, TAB).await;
    keys(&d, "孩子九月从外省转入东湖小学，至今没有学籍，学校说要等教育局审批。").await;
    keys(&d, TAB).await;
    assert_eq!(focused(&d).await, "f-category");
    keys(&d, "学校管理").await;
    keys(&d, TAB).await;
    // The name picked the category; its parent's organisation is suggested for dispatch.
    assert_eq!(value(&d, "#f-category").await, "edu.school");
    d.wait_for(&["已选：教育/学校管理", "建议：青禾区教育局"], "the category and the suggestion").await;
    assert_eq!(value(&d, "#f-main_org").await, jyj.to_string());
    d.screenshot("hotline-01-agent-screen").await;
    keys(&d, CTRL_ENTER).await;
    let page = d.wait_for(&["工单编号", "派至青禾区教育局（主办）"], "the new order's page").await;
    assert!(
        page.contains("13912345678") && page.contains("可能重复的工单") && page.contains(&earlier.no),
        "the earlier call is a likely duplicate"
    );
    let no = d.text(".hl-no").await;
    let order_url = d.current_url().await.split('?').next().unwrap_or_default().to_string();
    d.screenshot("hotline-02-order-dispatched").await;
    checkers::assert_axe_clean(&d, "the order page").await;
    sources.push(("order.html".into(), served(&d).await));
    d.logout().await;

    // --- the department accepts and replies -------------------------------------------------
    d.login(&base, "jyj1").await;
    d.goto(&format!("{base}/console/hotline/tasks")).await;
    d.wait_for(&["本单位承办", "待签收（1）", &no], "the department's queue").await;
    sources.push(("tasks.html".into(), served(&d).await));
    d.click("table.hl-list a").await;
    d.wait_for(&["办理记录", "孩子转学后学籍迟迟办不下来"], "the order from the queue").await;
    d.click("form[action$='/accept'] button[type=submit]").await;
    d.wait_for(&["已签收", "提交答复"], "accepted").await;
    d.send_keys("textarea[name=reply]", "已责成东湖小学当日为孩子办理学籍，家长可携户口簿到校确认。").await;
    d.click("form[action$='/reply'] button[type=submit]").await;
    d.wait_for(&["答复待审核", "已责成东湖小学当日为孩子办理学籍"], "replied").await;
    d.screenshot("hotline-03-department-replied").await;
    d.logout().await;

    // --- the agent reviews and calls back ---------------------------------------------------
    d.login(&base, "agent1").await;
    d.goto(&order_url).await;
    d.wait_for(&["审核答复", "提交审核"], "the review form").await;
    d.click("form[action$='/review'] button[type=submit]").await;
    d.wait_for(&["待回访", "记录回访"], "reviewed").await;
    d.click("#f-callback-satisfied").await;
    d.send_keys("#f-callback-note", "家长表示学籍已办好。").await;
    d.click("form[action$='/callback'] button[type=submit]").await;
    d.wait_for(&["已办结", "回访满意，办结"], "closed after the callback").await;
    d.screenshot("hotline-04-closed").await;
    sources.push(("order-closed.html".into(), served(&d).await));
    d.goto(&format!("{base}/console/hotline/orders?state=closed")).await;
    d.wait_for(&["热线工单", &no, &earlier.no], "the list of closed orders").await;
    sources.push(("orders.html".into(), served(&d).await));

    // --- the statistics count both calls ----------------------------------------------------
    d.goto(&format!("{base}/console/hotline/stats")).await;
    d.wait_for(&["热线统计", "主要指标"], "the statistics dashboard").await;
    assert_eq!(d.text("#m-received").await.trim(), "2", "this call and the earlier one");
    d.screenshot("hotline-05-statistics").await;
    d.logout().await;

    // --- the settings pages, as the administrator sees them ---------------------------------
    d.login(&base, "admin1").await;
    for (path, text, name) in [
        ("/console/hotline/sla".to_string(), "办理时限（SLA）", "sla.html"),
        ("/console/hotline/categories".to_string(), "添加分类", "categories.html"),
        (format!("/console/hotline/categories/{edu}"), "修改事项分类", "category.html"),
        ("/console/hotline/places".to_string(), "添加街道或社区", "places.html"),
    ] {
        d.goto(&format!("{base}{path}")).await;
        d.wait_for(&[text], name).await;
        checkers::assert_axe_clean(&d, name).await;
        sources.push((name.into(), served(&d).await));
    }
    d.screenshot("hotline-06-settings-places").await;

    let docs: Vec<(&str, &str)> = sources.iter().map(|(n, h)| (n.as_str(), h.as_str())).collect();
    checkers::assert_valid_html(&docs);
    d.quit().await;
}
