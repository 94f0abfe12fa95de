//! Black-box HTTP tests: a real server on 127.0.0.1:0 over each configured backend.

use gongkai_kernel::auth::{ALL_ROLES, Role};
use gongkai_kernel::config::Config;
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestDb, TestServer};
use gongkai_kernel::web::CONSOLE_ROUTES;
use reqwest::{Client, StatusCode, redirect::Policy};

fn client() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"_csrf\" value=\"").expect("page has a CSRF field") + 20;
    html[i..i + 32].to_string()
}

/// Log in through the form; returns the client (holding the session cookie) and the CSRF token.
async fn login(s: &TestServer, username: &str, password: &str) -> (Client, String) {
    let c = client();
    let r = c
        .post(s.url("/login"))
        .form(&[("username", username), ("password", password), ("next", "/console")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {username}");
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let page = c.get(s.url("/console/password")).send().await.unwrap().text().await.unwrap();
    (c, csrf_of(&page))
}

/// Which roles the role × route matrix allows, written out independently of the code's
/// role table so that a change to either is caught.
fn expected(method: &str, path: &str) -> &'static [&'static str] {
    const ALL: &[&str] = &[
        "sysadmin",
        "secadmin",
        "auditadmin",
        "editor",
        "reviewer",
        "handler",
        "agent",
        "supervisor",
        "leader",
        "discloser",
    ];
    match (method, path) {
        ("get", "/console") | (_, "/console/password") | (_, "/console/totp") => ALL,
        ("get", "/console/calendar") | ("get", "/console/calendar/due") | ("get", "/console/sites") => ALL,
        ("post", p) if p.starts_with("/console/calendar/") => &["sysadmin"],
        (_, p) if p.starts_with("/console/orgs") => &["sysadmin"],
        (_, p) if p.starts_with("/console/sites/") => &["sysadmin"],
        ("get", "/console/users") => &["sysadmin", "secadmin"],
        (_, p) if p.starts_with("/console/users/") => &["sysadmin"],
        (_, p) if p.starts_with("/console/grants/") => &["secadmin"],
        (_, p) if p.starts_with("/console/audit") => &["auditadmin"],
        (_, p) if p.starts_with("/console/jobs") => &["sysadmin"],
        (m, p) => panic!("route {m} {p} has no expectation in the role × route test: add one"),
    }
}

#[tokio::test]
async fn role_route_matrix() {
    for t in testkit::backends().await {
        let s = TestServer::start(&t).await;
        let actor = gongkai_kernel::audit::Actor::system("test");
        // Targets for the {id} routes: a victim organisation, user, grant and dead job.
        let victim_org = gongkai_kernel::org::service::create_as(
            &t.db,
            &actor,
            &gongkai_kernel::org::OrgInput {
                name: "受试机构".into(), kind: "department".into(), ..Default::default()
            },
        )
        .await
        .unwrap();
        let victim = testkit::user_with_role(&t.db, "victim", Some(Role::Editor)).await;
        let victim_site = {
            let mut tx = t.db.begin().await.unwrap();
            let new = gongkai_kernel::site::store::NewSite {
                code: "victim",
                name: "受试网站",
                site_code: "3301990099",
                hosts: "v.example.gov.cn",
                kind: "department",
                org_id: Some(victim_org.id),
                icp: "",
                psb: "",
                phone: "",
                opened_on: Some("2020-01-01"),
                external: false,
            };
            let id = gongkai_kernel::site::store::insert(&mut tx.conn(), &new).await.unwrap();
            tx.commit().await.unwrap();
            id
        };
        let mut tx = t.db.begin().await.unwrap();
        let job = gongkai_kernel::jobs::enqueue(&mut tx.conn(), "none", &serde_json::json!({}), 0, None)
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();
        let mut users = Vec::new();
        for r in ALL_ROLES {
            testkit::user_with_role(&t.db, &format!("u_{}", r.as_str()), Some(r)).await;
            users.push(r);
        }
        // Anonymous: every console GET goes to the log-in page, every POST is refused.
        let anon = client();
        for route in CONSOLE_ROUTES {
            let path = route.path.replace("{id}", "1");
            let r = if route.method == "get" {
                anon.get(s.url(&path)).send().await
            } else {
                anon.post(s.url(&path)).form(&[("_csrf", "x")]).send().await
            }
            .unwrap();
            if route.method == "get" {
                assert_eq!(r.status(), StatusCode::SEE_OTHER, "anonymous GET {path}");
                assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"));
            } else {
                assert!(
                    r.status() == StatusCode::SEE_OTHER || r.status() == StatusCode::FORBIDDEN,
                    "anonymous POST {path}: {}",
                    r.status()
                );
            }
        }
        let mut checked = 0;
        for role in users {
            let (c, csrf) = login(&s, &format!("u_{}", role.as_str()), TEST_PASSWORD).await;
            for route in CONSOLE_ROUTES {
                let id = match route.path {
                    p if p.starts_with("/console/orgs/") => victim_org.id,
                    p if p.ends_with("/revoke") => {
                        // a grant of the victim: look it up fresh (it may have been revoked already)
                        let mut h = t.db.read().await.unwrap();
                        gongkai_kernel::auth::store::grants_of(&mut h.conn(), victim)
                            .await
                            .unwrap()
                            .first()
                            .map(|g| g.id)
                            .unwrap_or(999_999)
                    }
                    p if p.starts_with("/console/jobs/") => job,
                    p if p.starts_with("/console/sites/") => victim_site,
                    _ => victim,
                };
                let path = route.path.replace("{id}", &id.to_string());
                let resp = if route.method == "get" {
                    c.get(s.url(&path)).send().await.unwrap()
                } else {
                    c.post(s.url(&path)).form(&[("_csrf", csrf.as_str()), ("action", "disable")]).send().await.unwrap()
                };
                let allowed = expected(route.method, route.path).contains(&role.as_str());
                let status = resp.status();
                if allowed {
                    assert_ne!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{}: {} {} should be allowed for {:?}",
                        t.backend_name(),
                        route.method,
                        path,
                        role
                    );
                    assert!(status.as_u16() < 500, "{} {path} for {role:?}: {status}", route.method);
                    if route.method == "get" {
                        assert_eq!(status, StatusCode::OK, "{} {path} for {role:?}", route.method);
                    }
                } else {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{}: {} {} should be denied for {:?}",
                        t.backend_name(),
                        route.method,
                        path,
                        role
                    );
                    let body = resp.text().await.unwrap();
                    assert!(body.contains("没有访问此页面的权限"), "Chinese 403 page: {body}");
                }
                checked += 1;
            }
        }
        assert_eq!(checked, CONSOLE_ROUTES.len() * ALL_ROLES.len());
    }
}

#[tokio::test]
async fn csrf_is_enforced_on_state_changes() {
    for t in testkit::backends().await {
        let s = TestServer::start(&t).await;
        testkit::user_with_role(&t.db, "sys", Some(Role::SysAdmin)).await;
        let (c, csrf) = login(&s, "sys", TEST_PASSWORD).await;
        let form = [("_csrf", csrf.as_str()), ("name", "区审计局"), ("kind", "department")];
        // Cross-site: the browser says so through Origin / Sec-Fetch-Site.
        let r = c
            .post(s.url("/console/orgs/new"))
            .header("Origin", "http://evil.example")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("请求来源校验未通过"));
        let r =
            c.post(s.url("/console/orgs/new")).header("Sec-Fetch-Site", "cross-site").form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // Same origin but no or a wrong token.
        let r = c
            .post(s.url("/console/orgs/new"))
            .form(&[("name", "区审计局"), ("kind", "department")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = c
            .post(s.url("/console/orgs/new"))
            .form(&[("_csrf", "0123456789abcdef0123456789abcdef"), ("name", "x"), ("kind", "department")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let n = |db: &TestDb| {
            let db = db.db.clone();
            async move {
                let mut h = db.read().await.unwrap();
                gongkai_kernel::org::store::count(&mut h.conn()).await.unwrap()
            }
        };
        assert_eq!(n(&t).await, 0, "nothing written by refused requests");
        // The real thing, same origin.
        let origin = s.base.clone();
        let r = c.post(s.url("/console/orgs/new")).header("Origin", origin).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(n(&t).await, 1);
        // Log-out is a POST with the token too.
        let r = c.post(s.url("/logout")).form(&[("_csrf", "wrong")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = c.post(s.url("/logout")).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(c.get(s.url("/console")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn forms_show_field_errors_escape_input_and_keep_it() {
    for t in testkit::backends().await {
        let s = TestServer::start(&t).await;
        testkit::user_with_role(&t.db, "sys", Some(Role::SysAdmin)).await;
        let (c, csrf) = login(&s, "sys", TEST_PASSWORD).await;
        let xss = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>";
        let r = c
            .post(s.url("/console/orgs/new"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("name", xss),
                ("kind", "department"),
                ("uscc", "91110000600037341X"),
                ("email", "not-an-email"),
                ("phone", "0571-12345678"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(body.contains("电子邮箱格式不正确"), "{body}");
        assert!(body.contains("aria-invalid=\"true\""));
        assert!(body.contains("0571-12345678"), "typed values kept");
        assert!(!body.contains("<script>alert(1)"), "input is escaped");
        assert!(body.contains("&lt;script&gt;"));
        // Saved with the payload as a name: every page shows it escaped.
        let r = c
            .post(s.url("/console/orgs/new"))
            .form(&[("_csrf", csrf.as_str()), ("name", xss), ("kind", "department")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let list = c.get(s.url("/console/orgs")).send().await.unwrap().text().await.unwrap();
        assert!(!list.contains("<script>alert(1)") && !list.contains("<img src=x"), "{list}");
        // Over-long field.
        let long = "机".repeat(101);
        let r = c
            .post(s.url("/console/orgs/new"))
            .form(&[("_csrf", csrf.as_str()), ("name", long.as_str()), ("kind", "department")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("不能超过 100 个字"));
        // New user with a weak password: field error, user not created.
        let r = c
            .post(s.url("/console/users/new"))
            .form(&[("_csrf", csrf.as_str()), ("username", "wu"), ("display_name", "吴"), ("password", "password123")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("过于常见"));
    }
}

#[tokio::test]
async fn created_accounts_must_change_password_first() {
    for t in testkit::backends().await {
        let s = TestServer::start(&t).await;
        testkit::user_with_role(&t.db, "sys", Some(Role::SysAdmin)).await;
        let (c, csrf) = login(&s, "sys", TEST_PASSWORD).await;
        let r = c
            .post(s.url("/console/users/new"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("username", "new.editor"),
                ("display_name", "新编辑"),
                ("password", "Temp-Pass-2026"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let u = client();
        let r = u
            .post(s.url("/login"))
            .form(&[("username", "new.editor"), ("password", "Temp-Pass-2026")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/console/password");
        let r = u.get(s.url("/console")).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/console/password", "everything leads to the password page");
        let page = u.get(s.url("/console/password")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("须先设置自己的新密码"));
        let tok = csrf_of(&page);
        let r = u
            .post(s.url("/console/password"))
            .form(&[
                ("_csrf", tok.as_str()),
                ("old_password", "Temp-Pass-2026"),
                ("new_password", "short"),
                ("confirm", "short"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = u
            .post(s.url("/console/password"))
            .form(&[
                ("_csrf", tok.as_str()),
                ("old_password", "Temp-Pass-2026"),
                ("new_password", "My-Own-Pass-2026"),
                ("confirm", "My-Own-Pass-2026"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(u.get(s.url("/console")).send().await.unwrap().status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn lockout_limits_and_error_pages() {
    for t in testkit::backends().await {
        let mut cfg: Config = t.config();
        cfg.limits.request_body_bytes = 4096;
        let s = TestServer::start_with(&t, cfg).await;
        testkit::user_with_role(&t.db, "zhao", Some(Role::AuditAdmin)).await;
        let c = client();
        for _ in 0..4 {
            let r = c
                .post(s.url("/login"))
                .form(&[("username", "zhao"), ("password", "wrong-one-123")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
            assert!(r.text().await.unwrap().contains("用户名或密码错误"));
        }
        let r =
            c.post(s.url("/login")).form(&[("username", "zhao"), ("password", "wrong-one-123")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(r.text().await.unwrap().contains("锁定"));
        let r =
            c.post(s.url("/login")).form(&[("username", "zhao"), ("password", TEST_PASSWORD)]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "locked even with the right password");
        // Body over the limit.
        let big = "x".repeat(10_000);
        let r = c.post(s.url("/login")).form(&[("username", big.as_str()), ("password", "p")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(r.text().await.unwrap().contains("超过上限"));
        // Unknown page: Chinese 404 page.
        let r = c.get(s.url("/no/such/page")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(r.text().await.unwrap().contains("页面不存在"));
        // No open redirect after log-in.
        testkit::user_with_role(&t.db, "qian", Some(Role::Leader)).await;
        let r = client()
            .post(s.url("/login"))
            .form(&[("username", "qian"), ("password", TEST_PASSWORD), ("next", "//evil.example/x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/console");
        // Secure cookie behind an HTTPS proxy.
        let r = client()
            .post(s.url("/login"))
            .header("X-Forwarded-Proto", "https")
            .form(&[("username", "qian"), ("password", TEST_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(r.headers()["set-cookie"].to_str().unwrap().contains("; Secure"));
    }
}

#[tokio::test]
async fn operations_endpoints_and_headers() {
    for t in testkit::backends().await {
        let s = TestServer::start(&t).await;
        let c = client();
        let r = c.get(s.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let h = r.headers();
        assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
        assert!(!h["content-security-policy"].to_str().unwrap().contains("unsafe-inline"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
        assert_eq!(c.get(s.url("/readyz")).send().await.unwrap().text().await.unwrap(), "ready\n");
        let login_page = c.get(s.url("/login")).send().await.unwrap().text().await.unwrap();
        assert!(login_page.contains(r#"autocomplete="username""#), "field attributes are markup, not escaped text");
        let m = c.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(m.contains("gongkai_http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"} 1"), "{m}");
        assert!(m.contains("gongkai_http_request_duration_seconds_bucket"));
        assert!(m.contains("gongkai_jobs{status=\"dead\"}"));
        assert!(m.contains("gongkai_db_pool_connections{state=\"open\"}"));
        let css = c.get(s.url("/static/console.css")).send().await.unwrap();
        assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
        assert_eq!(c.get(s.url("/static/../Cargo.toml")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn audit_viewer_filters_and_exports() {
    for t in testkit::backends().await {
        let s = TestServer::start(&t).await;
        testkit::user_with_role(&t.db, "aud", Some(Role::AuditAdmin)).await;
        testkit::user_with_role(&t.db, "sys", Some(Role::SysAdmin)).await;
        let (sys, csrf) = login(&s, "sys", TEST_PASSWORD).await;
        sys.post(s.url("/console/orgs/new"))
            .form(&[("_csrf", csrf.as_str()), ("name", "=HYPERLINK(\"x\")"), ("kind", "department")])
            .send()
            .await
            .unwrap();
        let (c, _) = login(&s, "aud", TEST_PASSWORD).await;
        let page = c.get(s.url("/console/audit?action=org.")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("org.create"), "{page}");
        assert!(!page.contains("calendar.import"), "filter applied");
        let r = c.get(s.url("/console/audit.csv?action=org.")).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let csv = r.text().await.unwrap();
        assert!(csv.starts_with("\u{feff}序号,时间,操作人"));
        assert!(csv.contains("org.create"));
        let verify = c.get(s.url("/console/audit/verify")).send().await.unwrap();
        assert_eq!(verify.status(), StatusCode::OK);
        assert!(verify.text().await.unwrap().contains("哈希链完整"));
        // Log-ins are audited.
        let page = c.get(s.url("/console/audit?action=auth.login")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("auth.login"));
    }
}

#[tokio::test]
async fn totp_second_factor_end_to_end() {
    use gongkai_kernel::auth::totp;
    for t in testkit::backends().await {
        let s = TestServer::start(&t).await;
        testkit::user_with_role(&t.db, "editor1", Some(Role::Editor)).await;
        let (c, csrf) = login(&s, "editor1", TEST_PASSWORD).await;
        let page = c.get(s.url("/console/totp")).send().await.unwrap().text().await.unwrap();
        let i = page.find("name=\"secret\" value=\"").unwrap() + 21;
        let secret = page[i..i + 32].to_string();
        let now = || gongkai_kernel::clock::now_ms() / 1000;
        let code_now = |secret: &str| totp::code_at(&totp::base32_decode(secret).unwrap(), (now() / 30) as u64);
        // A wrong code does not enable it.
        let r = c
            .post(s.url("/console/totp"))
            .form(&[("_csrf", csrf.as_str()), ("action", "enable"), ("secret", secret.as_str()), ("code", "000000")])
            .send()
            .await
            .unwrap();
        let wrong = r.status();
        if code_now(&secret) != "000000" {
            assert_eq!(wrong, StatusCode::UNPROCESSABLE_ENTITY);
        }
        let code = code_now(&secret);
        let r = c
            .post(s.url("/console/totp"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("action", "enable"),
                ("secret", secret.as_str()),
                ("code", code.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(c.get(s.url("/console/totp")).send().await.unwrap().text().await.unwrap().contains("已开启"));

        // Log in again: the password alone leads to the second step, not the console.
        let u = client();
        let r = u
            .post(s.url("/login"))
            .form(&[("username", "editor1"), ("password", TEST_PASSWORD), ("next", "/console/calendar")])
            .send()
            .await
            .unwrap();
        let first_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(r.headers()["location"].to_str().unwrap().starts_with("/login/totp"));
        assert_eq!(
            u.get(s.url("/console")).send().await.unwrap().status(),
            StatusCode::SEE_OTHER,
            "half-signed-in session has no console"
        );
        let r = u
            .post(s.url("/login/totp"))
            .form(&[("code", "12345x"), ("next", "/console/calendar")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("动态验证码不正确"));
        let code = code_now(&secret);
        let r = u
            .post(s.url("/login/totp"))
            .form(&[("code", code.as_str()), ("next", "/console/calendar")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/console/calendar");
        assert_ne!(
            r.headers()["set-cookie"].to_str().unwrap(),
            first_cookie,
            "session id rotated after the second factor"
        );
        assert_eq!(u.get(s.url("/console")).send().await.unwrap().status(), StatusCode::OK);
    }
}
