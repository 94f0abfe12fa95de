//! A real browser (headless Chromium) follows a live interview: the page is open, the
//! moderator publishes a question-and-answer pair, a text update and a photo update
//! through the service, and all appear on the page without a reload (server-sent events
//! and interview.js), the photo loaded with its alternative text. The live page and the
//! archived transcript pass axe and the Nu HTML Checker.
//!
//! Without chromedriver the test says so and returns, unless `GONGKAI_REQUIRE_BROWSER=1`.

use gongkai_interact::interviews::rules::InterviewForm;
use gongkai_interact::interviews::service::{self, AnswerForm, Question, UpdatePost};
use gongkai_kernel::auth::Role;
use gongkai_kernel::clock;
use gongkai_kernel::testkit::browser::Driver;
use gongkai_kernel::testkit::{self, TestServer, checkers};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;

const IP: &str = "127.0.0.1";

/// A real 8×6 PNG (one red colour), small enough to write out.
const PHOTO: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x08, 0x00, 0x00, 0x00, 0x06, 0x08, 0x02, 0x00, 0x00, 0x00, 0x71, 0x67, 0x48, 0xac, 0x00, 0x00, 0x00, 0x11, 0x49,
    0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x38, 0xa1, 0xa1, 0x81, 0x15, 0x31, 0x0c, 0xa4, 0x04, 0x00, 0x80, 0xf7, 0x34,
    0x81, 0x38, 0x25, 0xbd, 0xe3, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The HTML the server sent for the current page (the DOM the driver returns has lost the doctype).
async fn served(d: &Driver) -> String {
    let script = "var done = arguments[arguments.length - 1];
        fetch(location.href).then(function (r) { return r.text(); }).then(done);";
    d.execute_async(script, vec![]).await.as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_live_interview_updates_itself_in_the_browser() {
    let Some(d) = Driver::start().await else { return };
    let t = testkit::sqlite().await;
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    let uid = testkit::user_with_role(&t.db, "itv", Some(Role::Editor)).await;
    let who = testkit::principal(&t.db, uid).await;
    let site: i64 = {
        let mut h = t.db.read().await.unwrap();
        let mut c = h.conn();
        with_conn!(&mut c, x => sqlx::query_scalar("SELECT id FROM sites WHERE code = 'www'").fetch_one(&mut **x).await)
            .unwrap()
    };
    let now = clock::now_ms();
    let start = clock::ms_to_local(now + 4 * 86_400_000);
    let f = InterviewForm {
        site_id: site.to_string(),
        kind: "interview".into(),
        topic: "城市更新与老旧小区改造".into(),
        intro: "区住建局负责同志介绍今年老旧小区改造计划，并回答网友提问。".into(),
        guests: "孙立 青禾区住房和城乡建设局局长\n周敏 区住建局城市更新科科长".into(),
        starts_at: clock::fmt_local(start),
        ends_at: clock::fmt_local(start + time::Duration::hours(2)),
        answer_days: "5".into(),
    };
    let id = service::create(&t.db, &who, IP, &f, now).await.unwrap();
    service::announce(&t.db, &who, IP, id, now).await.unwrap();
    let (qid, _) = service::submit_question(
        &t.db,
        site,
        id,
        &Question { asker: "东湖社区居民", body: "我们小区能加装电梯吗？", idem: "b-1" },
        IP,
        now,
    )
    .await
    .unwrap();
    service::go_live(&t.db, &who, IP, id, now).await.unwrap();
    service::publish_update(&t.db, &who, IP, id, "访谈开始，两位嘉宾已来到直播间。", now).await.unwrap();

    let state = AppState::with_slices(t.db.clone(), t.config(), gongkai_interact::slices());
    let s = TestServer::start_state(gongkai_interact::attach(state)).await;
    let url = s.url(&format!("/hudong/www/fangtan/{id}"));
    let mut sources: Vec<(String, String)> = Vec::new();

    d.set_window_size(390, 844).await;
    d.goto(&url).await;
    d.wait_for(&["城市更新与老旧小区改造", "访谈开始，两位嘉宾已来到直播间。", "直播进行中"], "the live page").await;
    // Mark the document: a reload would lose the mark.
    d.execute("document.body.setAttribute('data-test-mark', '1');", vec![]).await;

    let answer = AnswerForm {
        question_id: qid.to_string(),
        guest: "周敏".into(),
        answer: "符合条件的小区可以申请加装电梯，区里给予补贴。".into(),
        ..Default::default()
    };
    service::publish_answer(&t.db, &who, IP, id, &answer, clock::now_ms()).await.unwrap();
    d.wait_for(&["我们小区能加装电梯吗？", "符合条件的小区可以申请加装电梯"], "the answer, pushed").await;
    service::publish_update(&t.db, &who, IP, id, "<b>现场</b>图文：嘉宾展示改造前后对比。", clock::now_ms())
        .await
        .unwrap();
    d.wait_for(&["图文：嘉宾展示改造前后对比。"], "the update, pushed").await;
    let photo = UpdatePost {
        body: "改造后的小区新貌。",
        photo: Some(PHOTO),
        alt: "改造后的小区：新装的电梯和粉刷一新的楼道",
        caption: "东湖社区改造后",
    };
    service::publish_update_post(&t.db, &who, IP, id, &photo, clock::now_ms()).await.unwrap();
    d.wait_for(&["改造后的小区新貌。", "东湖社区改造后"], "the photo update, pushed").await;
    let alt = d.attribute("#itv-entries .itv-photo img", "alt").await;
    assert_eq!(alt.as_deref(), Some("改造后的小区：新装的电梯和粉刷一新的楼道"));
    // Scrolled into view (it loads lazily), the photo decodes at the size it was sent.
    let script = "var done = arguments[arguments.length - 1];
        var img = document.querySelector('#itv-entries .itv-photo img');
        img.scrollIntoView();
        img.decode().then(function () { done(img.naturalWidth + 'x' + img.naturalHeight); },
                          function (e) { done('failed: ' + e); });";
    assert_eq!(d.execute_async(script, vec![]).await.as_str(), Some("8x6"), "the photo loads");
    let text = d.execute("return document.getElementById('itv-entries').textContent;", vec![]).await;
    assert!(text.as_str().unwrap_or("").contains("<b>现场</b>图文"), "HTML in an update is shown as text");
    let mark = d.execute("return document.body.getAttribute('data-test-mark');", vec![]).await;
    assert_eq!(mark.as_str(), Some("1"), "the page was not reloaded");
    let n = d.execute("return document.querySelectorAll('#itv-entries .itv-entry').length;", vec![]).await;
    assert_eq!(n.as_i64(), Some(4));
    assert!(d.try_find("#itv-entries b").await.is_none(), "HTML in an update is text");
    d.screenshot("itv-01-live-phone").await;
    checkers::assert_axe_clean(&d, "the live interview on a phone").await;
    d.set_window_size(1280, 900).await;
    checkers::assert_axe_clean(&d, "the live interview on a desktop").await;
    sources.push(("live.html".into(), served(&d).await));

    // The end reaches the open page too; then the archive.
    service::end(&t.db, &who, IP, id, clock::now_ms()).await.unwrap();
    d.wait_for(&["访谈已结束，感谢关注。"], "the end, pushed").await;
    d.goto(&url).await;
    d.wait_for(&["文字实录", "访谈已结束，不再接受提问", "符合条件的小区", "东湖社区改造后"], "the archive").await;
    d.screenshot("itv-02-archive").await;
    checkers::assert_axe_clean(&d, "the archived interview").await;
    sources.push(("archive.html".into(), served(&d).await));
    d.goto(&s.url("/hudong/www/fangtan")).await;
    checkers::assert_axe_clean(&d, "the interview list").await;
    sources.push(("list.html".into(), served(&d).await));

    // The console page of the interview.
    d.login(&s.base, "itv").await;
    d.goto(&s.url(&format!("/console/interviews/{id}"))).await;
    d.wait_for(&["城市更新与老旧小区改造", "会后答复", "网民提问"], "the console page").await;
    checkers::assert_axe_clean(&d, "the interview in the console").await;
    sources.push(("console.html".into(), served(&d).await));

    let docs: Vec<(&str, &str)> = sources.iter().map(|(n, h)| (n.as_str(), h.as_str())).collect();
    checkers::assert_valid_html(&docs);
    d.quit().await;
}
