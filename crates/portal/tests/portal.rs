//! The public portal, black-box over HTTP on SQLite and PostgreSQL: every page kind,
//! host and path routing, bad input, escaping, the page cache (ETag, Last-Modified,
//! gzip/brotli) and its invalidation — on one node and across two nodes sharing a
//! PostgreSQL database.

use std::io::Read;
use std::time::{Duration, Instant};

use gongkai_cms::service::{self as cms, ItemInput};
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::config::Config;
use gongkai_kernel::testkit::{self, TestDb, TestServer};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, HOST, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};

fn state(t: &TestDb, cfg: Config) -> AppState {
    let state = AppState::with_slices(
        t.db.clone(),
        cfg,
        vec![gongkai_cms::web::slice(), gongkai_cms::web_library::slice(), gongkai_portal::slice()],
    );
    gongkai_portal::attach(state)
}

fn config(t: &TestDb) -> Config {
    let mut cfg = t.config();
    cfg.portal.sync_ms = 100;
    cfg
}

async fn demo(t: &TestDb) {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    gongkai_cms::demo::seed(&t.db).await.unwrap();
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn get(url: &str) -> (StatusCode, String) {
    let r = client().get(url).send().await.unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

async fn scalar(t: &TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

async fn user(t: &TestDb, name: &str, role: Role) -> Principal {
    let id = testkit::user_with_role(&t.db, name, Some(role)).await;
    testkit::principal(&t.db, id).await
}

/// Column id and publisher of the www site's 通知公告.
async fn notice_column(t: &TestDb) -> (i64, i64) {
    let col = scalar(
        t,
        "SELECT c.id FROM columns c JOIN sites s ON s.id = c.site_id WHERE s.code = 'www' AND c.slug = 'tzgg'",
    )
    .await;
    let org = scalar(t, "SELECT org_id FROM sites WHERE code = 'www'").await;
    (col, org)
}

async fn publish(t: &TestDb, editor: &Principal, reviewer: &Principal, title: &str, body: &str) -> i64 {
    try_publish(t, editor, reviewer, title, body).await.unwrap()
}

async fn try_publish(
    t: &TestDb,
    editor: &Principal,
    reviewer: &Principal,
    title: &str,
    body: &str,
) -> gongkai_kernel::Result<i64> {
    let (col, org) = notice_column(t).await;
    let input = ItemInput {
        home_column_id: col.to_string(),
        class_code: "notice".into(),
        title: title.into(),
        body: body.into(),
        publisher_org_id: org.to_string(),
        written_on: "2026-01-05".into(),
        art20: "a20_01".into(),
        ..Default::default()
    };
    let item = cms::create_item(&t.db, editor, "ip", &input).await?;
    cms::submit(&t.db, editor, "ip", item.id, true).await?;
    cms::approve(&t.db, reviewer, "ip", item.id, None, "", "").await?;
    Ok(item.id)
}

/// Wait until `check` holds (the page cache follows the outbox within its poll period).
async fn eventually(what: &str, secs: u64, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "not within {secs} s: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn every_page_kind_routing_and_bad_input() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        demo(&t).await;
        let srv = TestServer::start_state(state(&t, config(&t))).await;

        // 127.0.0.1 is served the portal-kind site.
        let (s, home) = get(&srv.url("/")).await;
        assert_eq!(s, StatusCode::OK, "{name}");
        assert!(home.contains("青禾区人民政府") && home.contains("政府信息公开"), "{name}");
        assert!(home.contains("3301990001"), "{name}: 政府网站标识码 in the footer");
        for path in [
            "/col/yw/",
            "/col/tzgg/",
            "/zfxxgk/",
            "/zfxxgk/gkzn.html",
            "/zfxxgk/gkzd/",
            "/zfxxgk/gknb/",
            "/zfxxgk/ysqgk.html",
            "/zfxxgk/bzh/",
            "/zfxxgk/fdzdgk/",
            "/rss.xml",
            "/atom.xml",
            "/sitemap.xml",
            "/robots.txt",
            "/theme/portal.css",
        ] {
            let (s, body) = get(&srv.url(path)).await;
            assert_eq!(s, StatusCode::OK, "{name} {path}: {}", &body[..body.len().min(300)]);
        }
        // An item page with its disclosure metadata; the 废止 mark on a repealed one.
        let id = scalar(&t, "SELECT s.item_id FROM pub_site_items s JOIN sites x ON x.id = s.site_id WHERE x.code = 'www' AND s.disclosure = TRUE ORDER BY s.item_id LIMIT 1").await;
        let (s, page) = get(&srv.url(&format!("/art/{id}.html"))).await;
        assert_eq!(s, StatusCode::OK, "{name}");
        for label in ["索引号", "主题分类", "发布机构", "成文日期", "发布日期", "有效性"] {
            assert!(page.contains(label), "{name}: {label}");
        }
        let repealed = scalar(&t, "SELECT p.item_id FROM pub_items p JOIN sites x ON x.id = p.site_id WHERE x.code = 'www' AND p.validity = 'repealed' ORDER BY p.item_id LIMIT 1").await;
        let (_, page) = get(&srv.url(&format!("/art/{repealed}.html"))).await;
        assert!(page.contains("废止"), "{name}: repealed mark");
        let (s, text) = get(&srv.url(&format!("/art/{repealed}_text.html"))).await;
        assert_eq!(s, StatusCode::OK, "{name}: plain-text mode");
        assert!(
            !text.contains("<nav aria-label=\"主导航\"") || text.len() < page.len(),
            "{name}: reading mode is lighter"
        );

        // The served feeds parse cleanly with Python's feedparser, entries and links intact.
        let topic: String = {
            let mut h = t.db.read().await.unwrap();
            let mut c = h.conn();
            with_conn!(&mut c, x => sqlx::query_scalar::<_, String>(
                "SELECT t.slug FROM topics t JOIN sites s ON s.id = t.site_id WHERE s.code = 'www' ORDER BY t.id LIMIT 1"
            ).fetch_one(&mut **x).await)
            .unwrap()
        };
        for (path, version) in [
            ("/rss.xml".to_string(), "rss20"),
            ("/atom.xml".to_string(), "atom10"),
            ("/col/tzgg/rss.xml".to_string(), "rss20"),
            ("/col/yw/atom.xml".to_string(), "atom10"),
            (format!("/topic/{topic}/rss.xml"), "rss20"),
            ("/s/jyj/atom.xml".to_string(), "atom10"),
        ] {
            let r = client().get(srv.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{name} {path}");
            let ct = r.headers()["content-type"].to_str().unwrap().to_string();
            assert!(ct.contains("xml"), "{name} {path}: {ct}");
            let body = r.bytes().await.unwrap();
            if let Some(feed) = gongkai_kernel::testkit::checkers::feedparser(&body) {
                assert!(!feed.bozo, "{name} {path}: {:?}", feed.bozo_exception);
                assert_eq!(feed.version, version, "{name} {path}");
                assert!(!feed.entries.is_empty(), "{name} {path}: entries");
                assert!(feed.entries.iter().all(|e| e.link.contains("/art/")), "{name} {path}: entry links");
            }
        }

        // Combined catalogue filters list exactly the matching records.
        let expected = scalar(&t, "SELECT COUNT(*) FROM pub_site_items s JOIN sites x ON x.id = s.site_id WHERE x.code = 'www' AND s.disclosure = TRUE AND s.art20 = 'a20_01' AND s.year = 2025").await;
        let (s, cat) = get(&srv.url("/zfxxgk/fdzdgk/?cat=a20_01&year=2025")).await;
        assert_eq!(s, StatusCode::OK, "{name}");
        assert!(
            cat.contains(&format!("共 {expected} 条")) || cat.contains(&format!("（共 {expected} 条）")),
            "{name}: {expected} rows"
        );
        assert!(cat.matches("/art/").count() as i64 >= expected.min(20), "{name}: one link per row");

        // Other sites by host and by path; unknown hosts are refused.
        let r = client().get(srv.url("/")).header(HOST, "jyj.qinghe.gov.cn").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("青禾区教育局"), "{name}");
        let (s, jyj) = get(&srv.url("/s/jyj/")).await;
        assert!(s == StatusCode::OK && jyj.contains("青禾区教育局"), "{name}");
        assert!(jyj.contains("href=\"/s/jyj/"), "{name}: links keep the path prefix");
        let r = client().get(srv.url("/")).header(HOST, "evil.example.com").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{name}: unknown host");
        assert_eq!(get(&srv.url("/s/nosuch/")).await.0, StatusCode::NOT_FOUND);
        // An external (inspection-only) site is never served.
        assert_eq!(get(&srv.url("/s/rmt/")).await.0, StatusCode::NOT_FOUND, "{name}");

        // Bad input: the site's own error page, never a 500.
        for (path, status) in [
            ("/nope", 404),
            ("/art/99999999.html", 404),
            ("/art/abc.html", 404),
            ("/col/yw/index_9999.html", 404),
            ("/col/nosuch/", 404),
            ("/zfxxgk/fdzdgk/?year=abc", 400),
            ("/zfxxgk/fdzdgk/?cat=%3Cscript%3E", 400),
            ("/zfxxgk/fdzdgk/?page=99999", 404),
            ("/zfxxgk/fdzdgk/?page=-1", 400),
            ("/zfxxgk/bzh/999999.html", 404),
            ("/theme/..%2F..%2Fetc%2Fpasswd", 404),
            ("/theme/../../Cargo.toml", 404),
            ("/files/999999/x.pdf", 404),
            ("/sitemap_7.xml", 404),
        ] {
            let (s, body) = get(&srv.url(path)).await;
            assert_eq!(s.as_u16(), status, "{name} {path}");
            assert!(
                body.contains("青禾区人民政府")
                    || status != 404
                    || path.starts_with("/theme")
                    || path.starts_with("/files"),
                "{name} {path}: site error page"
            );
        }
        let r = client().post(srv.url("/col/yw/")).send().await.unwrap();
        assert!(r.status().is_client_error(), "{name}: POST to a page");
        // Missing trailing slash: a redirect, not a 404.
        let r = client().get(srv.url("/col/yw")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT, "{name}");

        // 关怀模式: a cookie, remembered, rendered as a class on <html>; never an open redirect.
        let r = client().get(srv.url("/care?on=1&back=/col/yw/")).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/col/yw/");
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.starts_with("gk_care=1"), "{cookie}");
        let care =
            client().get(srv.url("/col/yw/")).header("cookie", "gk_care=1").send().await.unwrap().text().await.unwrap();
        assert!(care.contains("class=\"care\""), "{name}: care class");
        let r = client().get(srv.url("/care?on=1&back=//evil.com/")).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/", "{name}");
    }
}

#[tokio::test]
async fn cache_revalidation_compression_and_invalidation() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        demo(&t).await;
        let srv = TestServer::start_state(state(&t, config(&t))).await;
        let editor = user(&t, "editor9", Role::Editor).await;
        let reviewer = user(&t, "reviewer9", Role::Reviewer).await;
        let id = publish(&t, &editor, &reviewer, "关于缓存测试的通知", "<p>第一版正文。</p>").await;
        let item_url = srv.url(&format!("/art/{id}.html"));
        eventually("the new item is served", 10, async || get(&item_url).await.0 == StatusCode::OK).await;

        // ETag and Last-Modified revalidate to 304.
        let r = client().get(&item_url).send().await.unwrap();
        let etag = r.headers()[ETAG].clone();
        let lm = r.headers()[LAST_MODIFIED].clone();
        let r = client().get(&item_url).header(IF_NONE_MATCH, etag.clone()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{name}");
        let r = client().get(&item_url).header(IF_MODIFIED_SINCE, lm).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{name}");
        // gzip decodes to the same page; brotli is offered first when accepted.
        let plain = get(&item_url).await.1;
        let r = client().get(&item_url).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
        assert_eq!(r.headers()[CONTENT_ENCODING], "gzip");
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&r.bytes().await.unwrap()[..]).read_to_string(&mut unzipped).unwrap();
        assert_eq!(unzipped, plain, "{name}");
        let r = client().get(&item_url).header(ACCEPT_ENCODING, "gzip, deflate, br").send().await.unwrap();
        assert_eq!(r.headers()[CONTENT_ENCODING], "br");
        let mut unbr = Vec::new();
        brotli::BrotliDecompress(&mut &r.bytes().await.unwrap()[..], &mut unbr).unwrap();
        assert_eq!(String::from_utf8(unbr).unwrap(), plain, "{name}");

        // Warm the pages the item appears on, then revise it: an unapproved revision
        // never reaches the public; the approved one replaces the cached pages.
        let col_url = srv.url("/col/tzgg/");
        let feed_url = srv.url("/rss.xml");
        assert!(get(&col_url).await.1.contains("关于缓存测试的通知"), "{name}");
        assert!(get(&feed_url).await.1.contains("关于缓存测试的通知"), "{name}");
        let mut item = gongkai_cms::store::item(&mut t.db.read().await.unwrap().conn(), id).await.unwrap().unwrap();
        let mut input = ItemInput::from_item(&item);
        input.title = "关于缓存测试的通知（修订）".into();
        input.body = "<p>第二版正文。</p>".into();
        item = cms::save_item(&t.db, &editor, "ip", id, &input).await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        let page = get(&item_url).await.1;
        assert!(page.contains("第一版正文") && !page.contains("第二版正文"), "{name}: the revision is not public yet");
        cms::submit(&t.db, &editor, "ip", item.id, true).await.unwrap();
        cms::approve(&t.db, &reviewer, "ip", item.id, None, "", "").await.unwrap();
        eventually("the approved revision replaces the item page", 10, async || {
            get(&item_url).await.1.contains("第二版正文")
        })
        .await;
        eventually("… and its column list", 10, async || get(&col_url).await.1.contains("（修订）")).await;
        eventually("… and the site feed", 10, async || get(&feed_url).await.1.contains("（修订）")).await;
        let r = client().get(&item_url).header(IF_NONE_MATCH, etag.clone()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{name}: the old ETag no longer matches");

        // A sibling's page lists the new item under 相关信息 once it is published.
        let sibling = publish(&t, &editor, &reviewer, "关于相关信息测试的通知", "<p>正文</p>").await;
        let sibling_url = srv.url(&format!("/art/{sibling}.html"));
        eventually("sibling served", 10, async || get(&sibling_url).await.0 == StatusCode::OK).await;
        publish(&t, &editor, &reviewer, "关于第三条相关信息的通知", "<p>正文</p>").await;
        eventually("the cached sibling page shows the newer item as related", 10, async || {
            get(&sibling_url).await.1.contains("关于第三条相关信息的通知")
        })
        .await;

        // A page the change does not touch stays cached (exact invalidation).
        let other = srv.url("/col/yw/");
        let _ = get(&other).await;
        let hits_before = portal(&srv).cache.hits.load(std::sync::atomic::Ordering::Relaxed);
        cms::withdraw(&t.db, &reviewer, "ip", id, "测试撤稿").await.unwrap();
        eventually("withdrawn → gone", 10, async || get(&item_url).await.0 == StatusCode::NOT_FOUND).await;
        eventually("withdrawn → off the list", 10, async || !get(&col_url).await.1.contains("（修订）")).await;
        assert!(!get(&feed_url).await.1.contains("（修订）"), "{name}: off the feed");
        assert!(!get(&srv.url("/sitemap.xml")).await.1.contains(&format!("/art/{id}.html")), "{name}: off the sitemap");
        let _ = get(&other).await;
        let hits_after = portal(&srv).cache.hits.load(std::sync::atomic::Ordering::Relaxed);
        assert!(hits_after > hits_before, "{name}: an untouched column page was served from the cache");

        // A flood of public submissions (600 message events at once) is not an import:
        // the cache is kept.
        {
            let mut tx = t.db.begin().await.unwrap();
            let mut c = tx.conn();
            for i in 0..600 {
                gongkai_kernel::outbox::emit(&mut c, "msg.message", i, serde_json::json!({ "state": "submitted" }))
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
        }
        srv.state.changes.notify_one();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let _ = get(&other).await;
        let hits_flood = portal(&srv).cache.hits.load(std::sync::atomic::Ordering::Relaxed);
        assert!(hits_flood > hits_after, "{name}: the column page is still cached after the flood");
    }
}

fn portal(srv: &TestServer) -> gongkai_portal::Portal {
    srv.state.ext::<gongkai_portal::Portal>().cloned().unwrap()
}

#[tokio::test]
async fn item_content_is_escaped_or_sanitised() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        demo(&t).await;
        let srv = TestServer::start_state(state(&t, config(&t))).await;
        let editor = user(&t, "editor9", Role::Editor).await;
        let reviewer = user(&t, "reviewer9", Role::Reviewer).await;
        for (i, payload) in gongkai_cms::html::XSS_PAYLOADS.iter().enumerate() {
            let title = format!("测试{i}{}", payload.chars().filter(|c| !c.is_control()).take(80).collect::<String>());
            // A body the editor refuses (e.g. an image without alt text) goes in as text.
            let id = match try_publish(&t, &editor, &reviewer, &title, payload).await {
                Ok(id) => id,
                Err(_) => {
                    publish(&t, &editor, &reviewer, &title, &format!("<p>{}</p>", payload.replace('<', "&lt;"))).await
                }
            };
            for path in [
                format!("/art/{id}.html"),
                format!("/art/{id}_text.html"),
                "/col/tzgg/".into(),
                "/rss.xml".into(),
                "/atom.xml".into(),
            ] {
                let url = srv.url(&path);
                let mut body = String::new();
                eventually("published", 10, async || {
                    let (s, b) = get(&url).await;
                    body = b;
                    s == StatusCode::OK
                })
                .await;
                // Escaped text shows "&lt;"; only real markup is between '<' and '>'.
                for tag in tags(&body).into_iter().filter(|t| !t.ends_with("/theme/portal.js\" defer>")) {
                    if let Some(problem) = dangerous(tag) {
                        panic!("{name} {path}: payload {i} produced {problem}: {tag}");
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn two_nodes_on_one_postgres_see_each_others_changes() {
    let Some(t) = testkit::postgres().await else {
        eprintln!("GONGKAI_TEST_DATABASE_URL not set: two-node test skipped");
        return;
    };
    demo(&t).await;
    let a = TestServer::start_state(state(&t, config(&t))).await;
    let mut cfg_b = config(&t);
    cfg_b.portal.sync_ms = 500;
    let b = TestServer::start_state(state(&t, cfg_b)).await;
    let editor = user(&t, "editor9", Role::Editor).await;
    let reviewer = user(&t, "reviewer9", Role::Reviewer).await;
    // Node B caches the notices list and the home page first.
    let b_list = b.url("/col/tzgg/");
    let before = get(&b_list).await.1;
    let _ = get(&b.url("/")).await;
    assert!(!before.contains("两节点同步测试"));
    // Published through node A's console? The service is what the console calls; it
    // writes the outbox in the same transaction, which node B follows.
    let id = publish(&t, &editor, &reviewer, "两节点同步测试通知", "<p>正文</p>").await;
    let started = Instant::now();
    eventually("node B shows the item published elsewhere", 10, async || {
        get(&b_list).await.1.contains("两节点同步测试")
    })
    .await;
    eprintln!("node B current after {:?}", started.elapsed());
    assert!(get(&b.url("/")).await.1.contains("两节点同步测试"), "home page on node B too");
    assert_eq!(get(&a.url(&format!("/art/{id}.html"))).await.0, StatusCode::OK);
    cms::withdraw(&t.db, &reviewer, "ip", id, "测试").await.unwrap();
    eventually("node B drops the withdrawn item", 10, async || !get(&b_list).await.1.contains("两节点同步测试")).await;
    eventually("node A too", 10, async || get(&a.url(&format!("/art/{id}.html"))).await.0 == StatusCode::NOT_FOUND)
        .await;
}

/// The markup tags of a page (attributes included), for checking what the browser parses.
fn tags(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let after = &rest[start..];
        let end = after.find('>').map(|e| e + 1).unwrap_or(after.len());
        out.push(&after[..end]);
        rest = &after[end..];
    }
    out
}

/// What a browser would execute in one tag: a script-like element, an event handler
/// attribute, or a script URL.
fn dangerous(tag: &str) -> Option<&'static str> {
    let t = tag.to_lowercase();
    for el in ["<script", "<iframe", "<object", "<embed", "<base"] {
        if t.starts_with(el) {
            return Some("a script-capable element");
        }
    }
    // Attribute names only: drop quoted values first.
    let mut names = String::new();
    let mut quote: Option<char> = None;
    for ch in t.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '"' || ch == '\'' => quote = Some(ch),
            None => names.push(ch),
        }
    }
    if names.split(|c: char| c.is_whitespace() || c == '/').any(|a| a.starts_with("on") && a.contains('=')) {
        return Some("an event handler");
    }
    for attr in ["href=\"", "src=\"", "action=\""] {
        let mut rest = t.as_str();
        while let Some(i) = rest.find(attr) {
            let v = rest[i + attr.len()..].trim_start();
            if v.starts_with("javascript:") || v.starts_with("vbscript:") || v.starts_with("data:text/html") {
                return Some("a script URL");
            }
            rest = &rest[i + attr.len()..];
        }
    }
    None
}

#[tokio::test]
async fn a_site_theme_overrides_templates_and_assets() {
    let t = testkit::sqlite().await;
    demo(&t).await;
    let mut cfg = config(&t);
    cfg.portal.theme_reload = true;
    let root = cfg.portal.themes_root(&cfg.data_dir).join("civic");
    std::fs::create_dir_all(root.join("templates")).unwrap();
    std::fs::create_dir_all(root.join("static")).unwrap();
    std::fs::write(root.join("static/portal.css"), "body{background:#fefae0}").unwrap();
    std::fs::write(
        root.join("templates/error.html"),
        "{% extends \"base.html\" %}{% block content %}<h1>civic {{ status }}</h1>{% endblock %}",
    )
    .unwrap();
    let srv = TestServer::start_state(state(&t, cfg)).await;
    assert!(!get(&srv.url("/theme/portal.css")).await.1.contains("fefae0"));
    {
        let mut tx = t.db.begin().await.unwrap();
        let mut c = tx.conn();
        with_conn!(&mut c, x => sqlx::query("UPDATE sites SET theme = 'civic' WHERE code = 'www'").execute(&mut **x).await.map(|r| r.rows_affected())).unwrap();
        let id = scalar(&t, "SELECT id FROM sites WHERE code = 'www'").await;
        gongkai_kernel::outbox::emit(&mut c, "site.changed", id, serde_json::json!({ "op": "update" })).await.unwrap();
        tx.commit().await.unwrap();
    }
    eventually("the override stylesheet", 10, async || get(&srv.url("/theme/portal.css")).await.1.contains("fefae0"))
        .await;
    // Not overridden: the default theme's file.
    assert_eq!(get(&srv.url("/theme/emblem.svg")).await.0, StatusCode::OK);
    let (s, page) = get(&srv.url("/nope")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(page.contains("civic 404") && page.contains("青禾区人民政府"), "override template inside the default base");
    // Edits show without a restart (theme_reload).
    std::fs::write(root.join("static/portal.css"), "body{background:#0a0b0c}").unwrap();
    assert!(get(&srv.url("/theme/portal.css")).await.1.contains("#0a0b0c"));
    // Other sites keep the default theme.
    assert!(!get(&srv.url("/s/jyj/theme/portal.css")).await.1.contains("#0a0b0c"));
}

#[tokio::test]
async fn a_site_beyond_50000_urls_gets_a_sitemap_index() {
    let t = testkit::sqlite().await;
    demo(&t).await;
    // 50,000 extra live items on the portal site, written straight into the library and
    // its public projection (the publishing path is tested elsewhere; this is about size).
    {
        let mut tx = t.db.begin().await.unwrap();
        let mut c = tx.conn();
        for sql in [
            "INSERT INTO items (id, home_column_id, class_code, title, status, live, live_version, published_on, created_at, updated_at, published_at)
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
             SELECT 1000000 + i, (SELECT c.id FROM columns c JOIN sites s ON s.id = c.site_id WHERE s.code = 'www' AND c.slug = 'bmdt'),
                    'news', '批量信息' || i, 'published', TRUE, 1, '2025-06-01', 0, 0, 0 FROM n",
            "INSERT INTO pub_items (item_id, site_id, home_column_id, class_code, title, published_on, year, validity, disclosure_mode, live_version, published_at, updated_at)
             SELECT i.id, c.site_id, c.id, 'news', i.title, '2025-06-01', 2025, 'valid', 'proactive', 1, 0, 0
               FROM items i JOIN columns c ON c.id = i.home_column_id WHERE i.id > 1000000",
            "INSERT INTO pub_site_items (site_id, item_id, published_on, year, disclosure, class_code)
             SELECT site_id, item_id, published_on, year, FALSE, class_code FROM pub_items WHERE item_id > 1000000",
        ] {
            with_conn!(&mut c, x => sqlx::query(sql).execute(&mut **x).await.map(|r| r.rows_affected())).unwrap();
        }
        tx.commit().await.unwrap();
    }
    let srv = TestServer::start_state(state(&t, config(&t))).await;
    let (s, index) = get(&srv.url("/sitemap.xml")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(index.contains("<sitemapindex"), "an index, not one sitemap");
    assert!(index.contains("/sitemap_1.xml") && index.contains("/sitemap_2.xml") && !index.contains("/sitemap_3.xml"));
    let (s1, one) = get(&srv.url("/sitemap_1.xml")).await;
    let (s2, two) = get(&srv.url("/sitemap_2.xml")).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    let urls = one.matches("<loc>").count() + two.matches("<loc>").count();
    assert_eq!(one.matches("<loc>").count(), 50_000, "a full first part");
    let expected =
        scalar(&t, "SELECT COUNT(*) FROM pub_site_items s JOIN sites x ON x.id = s.site_id WHERE x.code = 'www'").await;
    assert!(urls as i64 > expected, "every item plus the section pages: {urls} vs {expected} items");
    assert_eq!(get(&srv.url("/sitemap_3.xml")).await.0, StatusCode::NOT_FOUND);
}
