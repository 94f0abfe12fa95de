//! The search console over HTTP: the role × route matrix of the slice, the dictionary
//! through real forms (field errors in Chinese, audited, a rebuild follows), and the
//! staff search that also finds drafts the user may see.

use std::time::{Duration, Instant};

use gongkai_kernel::auth::{ALL_ROLES, Role};
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestDb, TestServer};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;
use reqwest::{Client, StatusCode, redirect::Policy};

fn client() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

async fn login(s: &TestServer, username: &str) -> (Client, String) {
    let c = client();
    let r = c.post(s.url("/login")).form(&[("username", username), ("password", TEST_PASSWORD)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {username}");
    let page = c.get(s.url("/console/password")).send().await.unwrap().text().await.unwrap();
    let i = page.find("name=\"_csrf\" value=\"").unwrap() + 20;
    (c, page[i..i + 32].to_string())
}

/// Roles allowed per route of this slice, written out independently of the role table.
fn expected(method: &str, path: &str) -> &'static [&'static str] {
    match (method, path) {
        ("get", "/console/search") => &["editor", "reviewer", "leader"],
        (_, p) if p.starts_with("/console/search/") => &["sysadmin"],
        (m, p) => panic!("search route {m} {p} has no expectation: add one"),
    }
}

fn state(t: &TestDb) -> AppState {
    let mut cfg = t.config();
    cfg.portal.sync_ms = 100;
    let state = AppState::with_slices(t.db.clone(), cfg, vec![gongkai_cms::web::slice(), gongkai_search::slice()]);
    gongkai_search::attach(state)
}

async fn demo(t: &TestDb) {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    gongkai_cms::demo::seed(&t.db).await.unwrap();
}

async fn scalar(t: &TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

#[tokio::test]
async fn search_role_route_matrix() {
    for t in testkit::backends().await {
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        gongkai_cms::init(&t.db).await.unwrap();
        let s = TestServer::start_state(state(&t)).await;
        for r in ALL_ROLES {
            testkit::user_with_role(&t.db, &format!("u_{}", r.as_str()), Some(r)).await;
        }
        for role in ALL_ROLES {
            let (c, csrf) = login(&s, &format!("u_{}", role.as_str())).await;
            for route in gongkai_search::web::SEARCH_ROUTES {
                let resp = if route.method == "get" {
                    c.get(s.url(&format!("{}?q=%E5%85%AC%E5%BC%80", route.path))).send().await.unwrap()
                } else {
                    c.post(s.url(route.path)).form(&[("_csrf", csrf.as_str())]).send().await.unwrap()
                };
                let allowed = expected(route.method, route.path).contains(&role.as_str());
                let status = resp.status();
                let b = t.backend_name();
                if allowed {
                    assert_ne!(status, StatusCode::FORBIDDEN, "{b}: {} {} for {role:?}", route.method, route.path);
                    assert!(status.as_u16() < 500, "{b}: {} {} for {role:?}: {status}", route.method, route.path);
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {} {} for {role:?}", route.method, route.path);
                }
            }
        }
    }
}

#[tokio::test]
async fn dictionary_forms_and_staff_search_with_drafts() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        demo(&t).await;
        let st = state(&t);
        let s = TestServer::start_state(st.clone()).await;
        testkit::user_with_role(&t.db, "zhaoadmin", Some(Role::SysAdmin)).await;
        testkit::user_with_role(&t.db, "bianji", Some(Role::Editor)).await;
        let (admin, csrf) = login(&s, "zhaoadmin").await;
        // A bad entry: the form comes back with a Chinese field message, nothing stored.
        let r = admin
            .post(s.url("/console/search/dictionary"))
            .form(&[("_csrf", csrf.as_str()), ("kind", "synonym"), ("text", "<script>")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let page = r.text().await.unwrap();
        assert!(page.contains("同义词组至少要有两个词") && !page.contains("<script>"), "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM search_words").await, 0, "{b}");
        // Without the CSRF token: refused.
        let r = admin
            .post(s.url("/console/search/dictionary"))
            .form(&[("kind", "word"), ("text", "青禾通办")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{b}");
        for (kind, text) in [("word", "青禾通办"), ("synonym", "市民热线，12345")] {
            let r = admin
                .post(s.url("/console/search/dictionary"))
                .form(&[("_csrf", csrf.as_str()), ("kind", kind), ("text", text)])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{b}: {kind}");
        }
        // The same word twice: a field error, not a second row.
        let r = admin
            .post(s.url("/console/search/dictionary"))
            .form(&[("_csrf", csrf.as_str()), ("kind", "word"), ("text", "青禾通办")])
            .send()
            .await
            .unwrap();
        assert!(r.text().await.unwrap().contains("已在词典中"), "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM search_words").await, 2, "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'search.dictionary.add'").await, 2, "{b}");
        let page = admin.get(s.url("/console/search/dictionary")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("青禾通办") && page.contains("市民热线,12345"), "{b}");
        // The new word triggers a rebuild segmenting it whole (the follower saw the event).
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let page = admin.get(s.url("/console/search/dictionary")).send().await.unwrap().text().await.unwrap();
            let search = st.ext::<gongkai_search::Search>().cloned().unwrap();
            if search.engine().seg.has_word("青禾通办") && !search.status().rebuilding {
                assert!(page.contains("已索引信息"), "{b}");
                break;
            }
            assert!(Instant::now() < deadline, "{b}: rebuild with the new word");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Staff search: published items from the index, drafts from the library.
        let editor =
            testkit::principal(&t.db, scalar(&t, "SELECT id FROM users WHERE username = 'bianji'").await).await;
        let col = scalar(
            &t,
            "SELECT c.id FROM columns c JOIN sites s ON s.id = c.site_id WHERE s.code = 'www' AND c.slug = 'tzgg'",
        )
        .await;
        let org = scalar(&t, "SELECT org_id FROM sites WHERE code = 'www'").await;
        let input = gongkai_cms::service::ItemInput {
            home_column_id: col.to_string(),
            class_code: "notice".into(),
            title: "草稿：政府信息公开指南修订稿".into(),
            body: "<p>修订中。</p>".into(),
            publisher_org_id: org.to_string(),
            ..Default::default()
        };
        gongkai_cms::service::create_item(&t.db, &editor, "ip", &input).await.unwrap();
        let (ed, _) = login(&s, "bianji").await;
        let page = ed
            .get(s.url("/console/search?q=%E6%94%BF%E5%BA%9C%E4%BF%A1%E6%81%AF%E5%85%AC%E5%BC%80%E6%8C%87%E5%8D%97"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("<mark>政府信息公开"), "{b}: published results");
        assert!(page.contains("草稿：政府信息公开指南修订稿"), "{b}: the draft too");
    }
}
