//! A real browser walks the public portal: home, a column, an item with attachments and
//! interpretations, the 政府信息公开 section with combined filters, and a topic — at 1280 px
//! and 375 px and in 关怀模式 — with axe-core on every page (no serious or critical
//! violation) and the Nu HTML Checker on every page's HTML (no error). Screenshots are
//! kept as CI artifacts (`$GONGKAI_ARTIFACTS`, default `target/screenshots/`).

use gongkai_kernel::testkit::browser::Driver;
use gongkai_kernel::testkit::{self, TestServer, checkers};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;

async fn scalar(t: &testkit::TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

#[tokio::test]
async fn citizen_reads_the_portal_on_desktop_phone_and_in_care_mode() {
    let Some(d) = Driver::start().await else { return };
    let t = testkit::sqlite().await;
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    gongkai_cms::demo::seed(&t.db).await.unwrap();
    let files = gongkai_cms::attachments::FileStore::new(&t.dir);
    assert!(gongkai_cms::demo::attach_files(&t.db, &files).await.unwrap() > 0);
    let state = AppState::with_slices(
        t.db.clone(),
        t.config(),
        vec![gongkai_cms::web::slice(), gongkai_cms::web_library::slice(), gongkai_portal::slice()],
    );
    let srv = TestServer::start_state(gongkai_portal::attach(gongkai_search::attach(state))).await;
    // The node builds its search index at start.
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !http
        .get(srv.url("/api/v1/search?q=%E5%B9%B4%E5%BA%A6%E6%8A%A5%E5%91%8A"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("<mark>")
    {
        assert!(std::time::Instant::now() < deadline, "search index built");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // A policy of the portal site with both attachments and a 解读.
    let item = scalar(
        &t,
        "SELECT p.item_id FROM pub_items p JOIN sites s ON s.id = p.site_id
          WHERE s.code = 'www' AND EXISTS (SELECT 1 FROM item_attachments a WHERE a.item_id = p.item_id)
            AND EXISTS (SELECT 1 FROM interpretation_links l JOIN pub_items q ON q.item_id = l.interpretation_id WHERE l.policy_id = p.item_id)
          ORDER BY p.item_id LIMIT 1",
    )
    .await;
    let topic: String = {
        let mut h = t.db.read().await.unwrap();
        let mut c = h.conn();
        with_conn!(&mut c, x => sqlx::query_scalar::<_, String>(
            "SELECT t.slug FROM topics t JOIN sites s ON s.id = t.site_id WHERE s.code = 'www' ORDER BY t.id LIMIT 1"
        ).fetch_one(&mut **x).await)
        .unwrap()
    };
    let pages: Vec<(&str, String, &[&str])> = vec![
        ("home", "/".into(), &["要闻", "通知公告", "政府信息公开"]),
        ("column", "/col/yw/".into(), &["青禾要闻"]),
        ("item", format!("/art/{item}.html"), &["索引号", "发布机构", ".pdf", "政策解读"]),
        ("disclosure", "/zfxxgk/".into(), &["政府信息公开指南", "法定主动公开内容", "政府信息公开年报"]),
        ("catalogue", "/zfxxgk/fdzdgk/".into(), &["索引号", "按第二十条分类"]),
        ("topic", format!("/topic/{topic}/"), &["专题"]),
        (
            "search",
            "/search?q=%E6%94%BF%E5%BA%9C%E4%BF%A1%E6%81%AF%E5%85%AC%E5%BC%80&year=2025".into(),
            &["搜索结果", "高级搜索"],
        ),
    ];
    let mut sources: Vec<(String, String)> = Vec::new();
    for (width, label) in [(1280u32, "desktop"), (375, "phone")] {
        d.set_window_size(width, 900).await;
        for (name, path, expect) in &pages {
            d.goto(&srv.url(path)).await;
            d.wait_for(expect, &format!("{name} at {width}px")).await;
            // The skip link comes first and leads to the main landmark.
            let first = d.execute("return document.querySelector('a[href]').getAttribute('href');", vec![]).await;
            assert_eq!(first, "#main", "{name}: skip link first");
            assert!(d.try_find("main#main").await.is_some(), "{name}: main landmark");
            // Nothing wider than a phone screen.
            let overflow = d
                .execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth;", vec![])
                .await;
            assert!(overflow.as_i64().unwrap_or(0) <= 1, "{name} at {width}px scrolls sideways by {overflow}px");
            checkers::assert_axe_clean(&d, &format!("{name} ({label})")).await;
            d.screenshot(&format!("portal-{name}-{label}")).await;
            if width == 1280 {
                let html = http.get(srv.url(path)).send().await.unwrap().text().await.unwrap();
                sources.push((format!("{name}.html"), html));
            }
        }
    }

    // Combined filters by clicking: a 第二十条 category, then a year; both stay selected and
    // the address can be shared.
    d.set_window_size(1280, 900).await;
    d.goto(&srv.url("/zfxxgk/fdzdgk/")).await;
    d.click("a[href*='cat=a20_01']").await;
    d.wait_for(&["行政法规、规章和规范性文件"], "category filter").await;
    let year_link = d.find("a[href*='cat=a20_01'][href*='year=']").await;
    d.click_element(&year_link).await;
    let url = d.current_url().await;
    assert!(url.contains("cat=a20_01") && url.contains("year="), "combined filters in the address: {url}");
    d.wait_for(&["已选"], "active filters shown").await;
    checkers::assert_axe_clean(&d, "filtered catalogue").await;
    d.screenshot("portal-catalogue-filtered").await;
    sources.push(("catalogue-filtered.html".into(), http.get(&url).send().await.unwrap().text().await.unwrap()));

    // Searching from the header box with the keyboard, then opening a result.
    d.goto(&srv.url("/")).await;
    d.send_keys("#search-q", "年度报告\u{E007}").await;
    d.wait_for(&["搜索结果", "年度报告"], "results of the header search").await;
    assert!(d.current_url().await.contains("/search?q="), "a shareable results address");
    assert!(d.try_find(".result mark").await.is_some(), "matched words marked");
    d.click(".result__title a").await;
    d.wait_for(&["年度报告", "索引号"], "the result opens").await;

    // 关怀模式: switched on from the page, remembered across pages, larger type.
    d.goto(&srv.url(&format!("/art/{item}.html"))).await;
    let normal = d.execute("return parseFloat(getComputedStyle(document.body).fontSize);", vec![]).await;
    d.click("a[href^='/care?on=1']").await;
    d.wait_for(&["索引号"], "back on the item").await;
    let care = d.execute("return document.documentElement.classList.contains('care');", vec![]).await;
    assert_eq!(care, true, "care class after switching on");
    let bigger = d.execute("return parseFloat(getComputedStyle(document.body).fontSize);", vec![]).await;
    assert!(bigger.as_f64() > normal.as_f64(), "care mode enlarges type: {normal} → {bigger}");
    checkers::assert_axe_clean(&d, "item in care mode").await;
    d.screenshot("portal-item-care").await;
    d.goto(&srv.url("/")).await;
    assert_eq!(d.execute("return document.documentElement.classList.contains('care');", vec![]).await, true);
    d.set_window_size(375, 900).await;
    checkers::assert_axe_clean(&d, "home in care mode on a phone").await;
    d.screenshot("portal-home-care-phone").await;
    let care_html = http.get(srv.url("/")).header("cookie", "gk_care=1").send().await.unwrap().text().await.unwrap();
    sources.push(("home-care.html".into(), care_html));

    // Plain-text reading mode.
    d.goto(&srv.url(&format!("/art/{item}_text.html"))).await;
    checkers::assert_axe_clean(&d, "plain-text mode").await;
    sources.push((
        "item-text.html".into(),
        http.get(srv.url(&format!("/art/{item}_text.html"))).send().await.unwrap().text().await.unwrap(),
    ));
    // An error page is the site's own, and valid too.
    sources.push(("404.html".into(), http.get(srv.url("/nope")).send().await.unwrap().text().await.unwrap()));

    let docs: Vec<(&str, &str)> = sources.iter().map(|(n, h)| (n.as_str(), h.as_str())).collect();
    checkers::assert_valid_html(&docs);
    d.quit().await;
}
