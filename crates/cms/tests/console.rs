//! The library's console pages over HTTP: the role × route matrix for its routes, the
//! editorial flow through real forms, and escaping of hostile input.

use gongkai_kernel::auth::{ALL_ROLES, Role};
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestServer};
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

/// Roles allowed per cms route, written out independently of the role table.
fn expected(method: &str, path: &str) -> &'static [&'static str] {
    match (method, path) {
        ("get", "/console/content") | ("get", "/console/content/{id}") | ("get", "/console/content/{id}/diff") => {
            &["editor", "reviewer", "leader"]
        }
        (_, "/console/content/new") | ("post", "/console/content/{id}") | ("post", "/console/content/{id}/submit") => {
            &["editor"]
        }
        ("post", "/console/content/{id}/attachments") | ("post", "/console/attachments/{id}/delete") => &["editor"],
        ("get", "/console/attachments/{id}") => &["editor", "reviewer", "leader"],
        ("post", "/console/content/bulk")
        | ("post", "/console/content/{id}/push")
        | ("post", "/console/content/{id}/cover")
        | ("post", "/console/content/{id}/interprets") => &["editor"],
        ("post", p) if p.starts_with("/console/content/{id}/") => &["reviewer"],
        (_, "/console/review") => &["reviewer"],
        (_, p) if p.starts_with("/console/columns") => &["sysadmin"],
        (m, p) => panic!("cms route {m} {p} has no expectation: add one"),
    }
}

async fn setup(t: &testkit::TestDb) -> (i64, i64) {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    let admin_id = testkit::user_with_role(&t.db, "colsadmin", Some(Role::SysAdmin)).await;
    let admin = testkit::principal(&t.db, admin_id).await;
    let mut h = t.db.read().await.unwrap();
    let site =
        gongkai_kernel::site::store::all(&mut h.conn()).await.unwrap().into_iter().find(|s| s.code == "www").unwrap();
    drop(h);
    let col = gongkai_cms::service::create_column(
        &t.db,
        &admin,
        "ip",
        &gongkai_cms::service::ColumnInput {
            site_id: site.id.to_string(),
            name: "政务动态".into(),
            slug: "zwdt".into(),
            kind: "list".into(),
            class: "news".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    (col.id, site.org_id.unwrap())
}

#[tokio::test]
async fn cms_role_route_matrix() {
    for t in testkit::backends().await {
        let (column, org) = setup(&t).await;
        let s = TestServer::start_slices(&t, vec![gongkai_cms::web::slice()]).await;
        for r in ALL_ROLES {
            testkit::user_with_role(&t.db, &format!("u_{}", r.as_str()), Some(r)).await;
        }
        let ed =
            testkit::principal(&t.db, testkit::user_with_role(&t.db, "seed_editor", Some(Role::Editor)).await).await;
        let input = gongkai_cms::service::ItemInput {
            home_column_id: column.to_string(),
            class_code: "news".into(),
            title: "矩阵测试信息".into(),
            body: "<p>正文</p>".into(),
            publisher_org_id: org.to_string(),
            ..Default::default()
        };
        let item = gongkai_cms::service::create_item(&t.db, &ed, "ip", &input).await.unwrap();
        for role in ALL_ROLES {
            let (c, csrf) = login(&s, &format!("u_{}", role.as_str())).await;
            for route in gongkai_cms::web::ROUTES {
                let path = route.path.replace("{id}", &item.id.to_string());
                let path = if route.path.starts_with("/console/columns/") {
                    route.path.replace("{id}", "999999")
                } else {
                    path
                };
                let resp = if route.method == "get" {
                    c.get(s.url(&path)).send().await.unwrap()
                } else {
                    c.post(s.url(&path)).form(&[("_csrf", csrf.as_str())]).send().await.unwrap()
                };
                let allowed = expected(route.method, route.path).contains(&role.as_str());
                let status = resp.status();
                if allowed {
                    assert_ne!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{}: {} {path} should be allowed for {role:?}",
                        t.backend_name(),
                        route.method
                    );
                    assert!(status.as_u16() < 500, "{} {path} for {role:?}: {status}", route.method);
                } else {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{}: {} {path} should be denied for {role:?}",
                        t.backend_name(),
                        route.method
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn edit_submit_review_publish_through_the_console() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let (column, org) = setup(&t).await;
        let s = TestServer::start_slices(&t, vec![gongkai_cms::web::slice()]).await;
        testkit::user_with_role(&t.db, "bianji", Some(Role::Editor)).await;
        testkit::user_with_role(&t.db, "shenhe", Some(Role::Reviewer)).await;
        let (ed, csrf) = login(&s, "bianji").await;
        let (col, org) = (column.to_string(), org.to_string());
        let mut form = vec![
            ("_csrf", csrf.as_str()),
            ("home_column_id", col.as_str()),
            ("class_code", "news"),
            ("publisher_org_id", org.as_str()),
            ("doc_no", "青政办发(2026)7号"),
            ("written_on", "2026-13-40"),
            ("title", "区政府召开常务会议"),
            ("body", "<p onclick=\"alert(1)\">会议研究了<b>重点工作</b>。</p><script>alert(2)</script>"),
        ];
        // A bad date: 422, the typed title kept, a field message.
        let r = ed.post(s.url("/console/content/new")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let body = r.text().await.unwrap();
        assert!(body.contains("成文日期应为有效日期") && body.contains("区政府召开常务会议"), "{body}");
        form[5] = ("written_on", "2026-01-06");
        let r = ed.post(s.url("/console/content/new")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{name}");
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let id: i64 = loc.trim_start_matches("/console/content/").split('?').next().unwrap().parse().unwrap();
        let page = ed.get(s.url(&format!("/console/content/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("青政办发〔2026〕7号"), "文号 normalised");
        assert!(!page.contains("<script>alert(2)") && !page.contains("onclick="), "sanitised body");
        let r = ed
            .post(s.url(&format!("/console/content/{id}/submit")))
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);

        let (rv, rcsrf) = login(&s, "shenhe").await;
        let queue = rv.get(s.url("/console/review")).send().await.unwrap().text().await.unwrap();
        assert!(queue.contains("区政府召开常务会议"), "{name}: in the reviewer's queue");
        let r = rv
            .post(s.url(&format!("/console/content/{id}/approve")))
            .form(&[("_csrf", rcsrf.as_str()), ("comment", "同意发布")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let page = rv.get(s.url(&format!("/console/content/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("已发布") && page.contains("索引号"), "{name}");
        let queue = rv.get(s.url("/console/review")).send().await.unwrap().text().await.unwrap();
        assert!(!queue.contains("区政府召开常务会议"));
        // Withdraw without a reason: the field message, nothing changed.
        let r = rv
            .post(s.url(&format!("/console/content/{id}/withdraw")))
            .form(&[("_csrf", rcsrf.as_str()), ("reason", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("撤稿须写明理由"));
        let list = ed.get(s.url("/console/content?status=published")).send().await.unwrap().text().await.unwrap();
        assert!(list.contains("区政府召开常务会议"), "{name}: list filter");
        let list = ed.get(s.url("/console/content?status=draft")).send().await.unwrap().text().await.unwrap();
        assert!(!list.contains("区政府召开常务会议"));

        // Bulk: push the item to a second column, and try to withdraw it as an editor
        // (refused per item, reported, nothing else blocked).
        let admin =
            testkit::principal(&t.db, testkit::user_with_role(&t.db, "coladmin2", Some(Role::SysAdmin)).await).await;
        let mut h = t.db.read().await.unwrap();
        let site_id = gongkai_cms::store::column(&mut h.conn(), column).await.unwrap().unwrap().site_id;
        drop(h);
        let second = gongkai_cms::service::create_column(
            &t.db,
            &admin,
            "ip",
            &gongkai_cms::service::ColumnInput {
                site_id: site_id.to_string(),
                name: "要闻".into(),
                slug: "yw".into(),
                kind: "list".into(),
                class: "news".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let (id_s, col2) = (id.to_string(), second.id.to_string());
        let r = ed
            .post(s.url("/console/content/bulk"))
            .form(&[("_csrf", csrf.as_str()), ("ids", id_s.as_str()), ("action", "push"), ("column_id", col2.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("完成 1 条"), "{name}");
        let pushed =
            ed.get(s.url(&format!("/console/content?column={col2}"))).send().await.unwrap().text().await.unwrap();
        assert!(pushed.contains("区政府召开常务会议"), "{name}: shown in the second column without copying");
        let r = ed
            .post(s.url("/console/content/bulk"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("ids", id_s.as_str()),
                ("ids", "999999"),
                ("action", "withdraw"),
                ("reason", "测试"),
            ])
            .send()
            .await
            .unwrap();
        let page = r.text().await.unwrap();
        assert!(page.contains("未完成 2 条"), "{name}: {page}");
        let r = ed
            .post(s.url("/console/content/bulk"))
            .form(&[("_csrf", csrf.as_str()), ("action", "push")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT, "nothing ticked");
    }
}

/// Escaped text never contains '<', so every '<' in a page starts a real tag: none may
/// carry an event handler, a javascript: URL or a scripting element of the payload's.
fn assert_no_live_markup(page: &str, what: &str) {
    for tag in page.split('<').skip(1).map(|t| t.split('>').next().unwrap_or("").to_lowercase()) {
        // Attribute values are quoted (and escaped): only what lies outside quotes is markup.
        let outside: String = tag.split('"').step_by(2).collect::<Vec<_>>().join("\"\"");
        let handler = outside.split_whitespace().skip(1).any(|a| a.starts_with("on") && a.contains('='));
        assert!(!handler, "event handler in <{tag}> from {what}");
        for attr in ["href=", "src=", "action=", "formaction="] {
            for scheme in ["javascript:", "vbscript:", "data:"] {
                let bad = format!("{attr}\"{scheme}");
                assert!(
                    !tag.contains(&bad) && !outside.contains(&format!(" {attr}{scheme}")),
                    "script URL in <{tag}> from {what}"
                );
            }
        }
        for el in ["iframe", "svg", "object", "embed", "math", "base", "meta http-equiv"] {
            assert!(!tag.starts_with(el), "<{tag}> from {what}");
        }
        if tag.starts_with("script") {
            assert!(tag.starts_with("script src=\"/static/"), "<{tag}> from {what}");
        }
    }
}

#[tokio::test]
async fn hostile_titles_are_escaped_everywhere() {
    let t = testkit::sqlite().await;
    let (column, org) = setup(&t).await;
    let s = TestServer::start_slices(&t, vec![gongkai_cms::web::slice()]).await;
    testkit::user_with_role(&t.db, "bianji", Some(Role::Editor)).await;
    let (ed, csrf) = login(&s, "bianji").await;
    let (col, org) = (column.to_string(), org.to_string());
    let mut created = 0;
    for p in gongkai_cms::html::XSS_PAYLOADS.iter().filter(|p| !p.contains('\0')).take(40) {
        let title: String = p.chars().filter(|c| !c.is_control()).take(200).collect();
        let form = [
            ("_csrf", csrf.as_str()),
            ("home_column_id", col.as_str()),
            ("class_code", "news"),
            ("publisher_org_id", org.as_str()),
            ("title", title.as_str()),
            ("body", p),
            ("source", p),
        ];
        let r = ed.post(s.url("/console/content/new")).form(&form).send().await.unwrap();
        assert!(
            r.status() == StatusCode::SEE_OTHER || r.status() == StatusCode::UNPROCESSABLE_ENTITY,
            "{p}: {}",
            r.status()
        );
        let page = if r.status() == StatusCode::SEE_OTHER {
            created += 1;
            let loc = r.headers()["location"].to_str().unwrap().to_string();
            ed.get(s.url(&loc)).send().await.unwrap().text().await.unwrap()
        } else {
            r.text().await.unwrap()
        };
        assert_no_live_markup(&page, p);
    }
    assert!(created > 10);
    let list = ed.get(s.url("/console/content")).send().await.unwrap().text().await.unwrap();
    assert_no_live_markup(&list, "list page");
}
