//! A real browser (headless Chromium through chromedriver) walks a message end to end: a
//! citizen leaves it on a phone-width page; the site's desk accepts and assigns it, the
//! handler replies, the desk reviews, sends and publishes; the public page shows the masked
//! reply; the citizen checks the status with the tracking code. axe runs on the form and on
//! the public reply page, the Nu checker on the public pages.
//!
//! Without chromedriver the test says so and returns, unless `GONGKAI_REQUIRE_BROWSER=1`.

use gongkai_kernel::auth::Role;
use gongkai_kernel::testkit::browser::Driver;
use gongkai_kernel::testkit::{self, TestServer, checkers};
use gongkai_kernel::web::AppState;
use serde_json::{Value, json};

fn solve(question: &str) -> u32 {
    let digit = |c: char| "一二三四五六七八九".chars().position(|d| d == c).map(|p| p as u32 + 1);
    let c: Vec<char> = question.chars().collect();
    let (a, b) = (digit(c[0]).unwrap_or_else(|| panic!("{question}")), digit(c[2]).unwrap());
    if c[1] == '加' { a + b } else { a - b }
}

/// The HTML the server sent for the current page (GET, or POST `form` to it).
async fn served(d: &Driver, form: Option<&[(&str, &str)]>) -> String {
    let body: serde_json::Map<String, Value> =
        form.unwrap_or(&[]).iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect();
    let script = "var done = arguments[arguments.length - 1]; var body = arguments[0];
        var init = Object.keys(body).length ? { method: 'POST', body: new URLSearchParams(body) } : {};
        fetch(location.href, init).then(function (r) { return r.text(); }).then(done);";
    d.execute_async(script, vec![Value::Object(body)]).await.as_str().unwrap_or_default().to_string()
}

async fn as_user(d: &Driver, base: &str, user: &str) {
    d.command("DELETE", "/cookie", json!({})).await;
    d.login(base, user).await;
}

#[tokio::test]
async fn a_citizen_leaves_a_message_staff_answer_and_publish_and_the_citizen_checks() {
    let Some(d) = Driver::start().await else { return };
    let t = testkit::sqlite().await;
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    let orgs = gongkai_kernel::org::service::list(&t.db).await.unwrap();
    let jyj = orgs.iter().find(|o| o.short_name == "区教育局").unwrap().id;
    let www = {
        let mut h = t.db.read().await.unwrap();
        gongkai_kernel::site::store::all(&mut h.conn()).await.unwrap().into_iter().find(|s| s.code == "www").unwrap()
    };
    let actor = gongkai_kernel::audit::Actor::system("test");
    let desk = testkit::user_with_role(&t.db, "desk", None).await;
    gongkai_kernel::auth::service::grant(&t.db, None, &actor, desk, Role::Reviewer, None, Some(www.id)).await.unwrap();
    let handler = testkit::user_with_role(&t.db, "jyjhandler", None).await;
    gongkai_kernel::auth::service::grant(&t.db, None, &actor, handler, Role::Handler, Some(jyj), None).await.unwrap();
    let state = AppState::with_slices(t.db.clone(), t.config(), gongkai_interact::slices());
    let s = TestServer::start_state(gongkai_interact::attach(state)).await;
    let base = s.base.clone();
    let mut sources: Vec<(String, String)> = Vec::new();

    // The citizen, on a phone.
    d.set_window_size(390, 844).await;
    d.goto(&format!("{base}/hudong/www/liuyan/new")).await;
    checkers::assert_axe_clean(&d, "the message form on a phone").await;
    sources.push(("form.html".into(), served(&d, None).await));
    d.click("#f-kind option[value='help']").await;
    d.click(&format!("#f-addressee option[value='{jyj}']")).await;
    d.send_keys("#f-title", "孩子转学手续咨询").await;
    d.send_keys("#f-content", "我叫王芳，孩子从外省转入东湖小学，需要哪些材料？我的电话13712345678。").await;
    d.send_keys("#f-name", "王芳").await;
    d.send_keys("#f-phone", "13712345678").await;
    d.click("#f-agree").await;
    let question = d.text("label[for='f-answer']").await;
    d.send_keys("#f-answer", &solve(question.trim_end_matches('*').trim()).to_string()).await;
    d.screenshot("msg-01-citizen-form-phone").await;
    d.click("form.msg-form button[type=submit]").await;
    d.wait_for(&["留言已提交", "您的留言已保存"], "the receipt").await;
    let code = d.text(".msg-code").await;
    let password = d.text(".msg-password").await;
    assert!(code.starts_with("LY"), "{code}");
    d.screenshot("msg-02-citizen-receipt").await;
    d.set_window_size(1280, 900).await;

    // The desk accepts and assigns.
    as_user(&d, &base, "desk").await;
    d.goto(&format!("{base}/console/messages")).await;
    d.wait_for(&[&code, "孩子转学手续咨询", "待受理"], "the worklist").await;
    d.click("main table a").await;
    d.click("form[action$='/accept'] button[type=submit]").await;
    d.wait_for(&["已受理", "的次日起算5个工作日"], "accepted").await;
    d.click(&format!("form[action$='/assign'] select[name=org_id] option[value='{jyj}']")).await;
    d.click("form[action$='/assign'] button[type=submit]").await;
    d.wait_for(&["办理中", "交办至青禾区教育局"], "assigned").await;
    let detail_url = d.current_url().await;
    let detail_url = detail_url.split('?').next().unwrap_or_default().to_string();

    // The handler replies.
    as_user(&d, &base, "jyjhandler").await;
    d.goto(&detail_url).await;
    d.send_keys("#f-reply", "王芳您好：请携带户口簿、原学校学籍证明到东湖小学办理，咨询电话0571-88001005。").await;
    d.click("form[action$='/reply'] button[type=submit]").await;
    d.wait_for(&["答复待审核", "提交答复，待1级审核"], "replied").await;

    // The desk reviews (publication allowed), sends and publishes.
    as_user(&d, &base, "desk").await;
    d.goto(&detail_url).await;
    d.click("form[action$='/review'] button[type=submit]").await;
    d.wait_for(&["答复已审核", "第1级审核通过，同意公开"], "reviewed").await;
    d.click("form[action$='/send'] button[type=submit]").await;
    d.wait_for(&["已答复", "答复已发送"], "sent").await;
    d.click("form[action$='/publish'] button[type=submit]").await;
    d.wait_for(&["已答复并公开", "公开版本"], "published").await;
    d.screenshot("msg-03-staff-published").await;
    d.command("DELETE", "/cookie", json!({})).await;

    // The public list and reply page: masked.
    d.goto(&format!("{base}/hudong/www/liuyan")).await;
    d.wait_for(&["孩子转学手续咨询", "共 1 条"], "the public list").await;
    sources.push(("list.html".into(), served(&d, None).await));
    d.click(".msg-list a").await;
    let page = d.wait_for(&["王*", "137****5678", "0571-****1005", "青禾区教育局"], "the public reply").await;
    assert!(!page.contains("王芳") && !page.contains("13712345678"), "no personal data");
    d.screenshot("msg-04-public-reply").await;
    checkers::assert_axe_clean(&d, "the public reply page").await;
    sources.push(("show.html".into(), served(&d, None).await));

    // The citizen checks the status with the code and password.
    d.set_window_size(390, 844).await;
    d.goto(&format!("{base}/hudong/liuyan/track")).await;
    sources.push(("track.html".into(), served(&d, None).await));
    d.send_keys("#f-code", &code).await;
    d.send_keys("#f-password", &password).await;
    d.click("form[action='/hudong/liuyan/track'] button[type=submit]").await;
    d.wait_for(&["已答复并公开", "请携带户口簿", "您对答复是否满意"], "the status page").await;
    d.screenshot("msg-05-citizen-status").await;
    checkers::assert_axe_clean(&d, "the status page").await;
    sources.push(("status.html".into(), served(&d, Some(&[("code", &code), ("password", &password)])).await));
    d.click("#r-satisfied").await;
    d.click("form[action='/hudong/liuyan/track/rate'] button[type=submit]").await;
    d.wait_for(&["感谢您的评价", "您的评价"], "rated").await;

    let docs: Vec<(&str, &str)> = sources.iter().map(|(n, h)| (n.as_str(), h.as_str())).collect();
    checkers::assert_valid_html(&docs);
    d.quit().await;
}
