//! Every console route of the three parts (messages, surveys, interviews) against every
//! role, on SQLite and PostgreSQL, with real ids from the demo: anonymous requests are sent
//! to the login page (GET) or refused (POST); a role without the route's declared
//! permission gets 403; a role holding it never gets a server error.

use gongkai_kernel::auth::{ALL_ROLES, Perm, role_perms};
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestDb, TestServer};
use gongkai_kernel::web::{AppState, ConsoleRoute};
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

/// The first row of a two-id query, if any.
async fn pair(t: &TestDb, sql: &'static str) -> Option<(i64, i64)> {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_as::<_, (i64, i64)>(sql).fetch_optional(&mut **x).await).unwrap()
}

async fn one(t: &TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

/// A message with an attachment, left through the service like the public form does.
async fn message_with_file(t: &TestDb) -> (i64, i64) {
    use gongkai_interact::messages::{rules, service};
    let site = {
        let mut h = t.db.read().await.unwrap();
        gongkai_kernel::site::store::all(&mut h.conn()).await.unwrap().into_iter().find(|s| s.code == "www").unwrap()
    };
    let form = rules::SubmitForm {
        kind: "consult".into(),
        addressee: "leader".into(),
        title: "附件测试留言".into(),
        content: "请见附件。".into(),
        name: "测试人".into(),
        phone: "13812345678".into(),
        ..Default::default()
    };
    let files = [rules::Upload { name: "说明.pdf".into(), data: b"%PDF-1.7 test".to_vec() }];
    let idem = "routes-matrix-key-0001";
    let (m, _) =
        service::prepare(&t.db, &site, &form, files.to_vec(), idem, "LY20260101-ROUTES", "PASSWORD", "127.0.0.1")
            .await
            .unwrap()
            .write(&t.db)
            .await
            .unwrap();
    let fid = one(t, "SELECT MAX(id) FROM msg_files").await;
    (m.id, fid)
}

/// A part: its name, its route table and the ids its placeholders take.
type Part = (&'static str, &'static [ConsoleRoute], Vec<(&'static str, i64)>);

/// The path of a route with its placeholders replaced by real ids.
fn fill(path: &str, ids: &[(&str, i64)]) -> String {
    ids.iter().fold(path.to_string(), |p, (k, v)| p.replace(&format!("{{{k}}}"), &v.to_string()))
}

fn upload(path: &str) -> bool {
    path.ends_with("/files") || path.ends_with("/photo")
}

async fn send(c: &Client, s: &TestServer, route: &ConsoleRoute, path: &str, csrf: &str) -> reqwest::Response {
    if route.method == "get" {
        return c.get(s.url(path)).send().await.unwrap();
    }
    if upload(route.path) {
        let boundary = "----interact-matrix";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n--{boundary}--\r\n"
        );
        return c
            .post(s.url(path))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap();
    }
    c.post(s.url(path)).form(&[("_csrf", csrf)]).send().await.unwrap()
}

#[tokio::test]
async fn interact_role_route_matrix() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        gongkai_interact::demo(&t.db, gongkai_kernel::clock::today()).await.unwrap();
        let state = AppState::with_slices(t.db.clone(), t.config(), gongkai_interact::slices());
        let s = TestServer::start_state(gongkai_interact::attach(state)).await;

        let (msg, msg_file) = message_with_file(&t).await;
        let (svy, svy_file) = match pair(&t, "SELECT survey_id, id FROM svy_files ORDER BY id").await {
            Some(p) => p,
            // The demo's surveys carry no files: any file id then answers 404.
            None => (one(&t, "SELECT MIN(id) FROM svy_surveys").await, 1),
        };
        let svy_comment = pair(&t, "SELECT survey_id, id FROM svy_comments ORDER BY id").await.map_or(1, |p| p.1);
        let (itv, guest) = pair(&t, "SELECT interview_id, id FROM itv_guests ORDER BY id").await.unwrap();
        let question = pair(&t, "SELECT interview_id, id FROM itv_questions ORDER BY id").await.map_or(1, |p| p.1);
        let tables: [Part; 3] = [
            ("messages", gongkai_interact::messages::web::ROUTES, vec![("id", msg), ("fid", msg_file)]),
            (
                "surveys",
                gongkai_interact::surveys::web::ROUTES,
                vec![("id", svy), ("fid", svy_file), ("cid", svy_comment)],
            ),
            (
                "interviews",
                gongkai_interact::interviews::web::ROUTES,
                vec![("id", itv), ("gid", guest), ("qid", question)],
            ),
        ];

        // Anonymous: to the login page, or refused.
        let anon = client();
        for (part, routes, ids) in &tables {
            for route in *routes {
                let path = fill(route.path, ids);
                assert!(!path.contains('{'), "{part}: a placeholder left in {path}");
                let r = send(&anon, &s, route, &path, "").await;
                if route.method == "get" {
                    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{b}: anonymous GET {path}");
                    let to = r.headers()["location"].to_str().unwrap().to_string();
                    assert!(to.starts_with("/login"), "{b}: anonymous GET {path} -> {to}");
                } else {
                    let st = r.status();
                    assert!(
                        st == StatusCode::SEE_OTHER || st == StatusCode::FORBIDDEN,
                        "{b}: anonymous POST {path}: {st}"
                    );
                }
            }
        }

        for role in ALL_ROLES {
            testkit::user_with_role(&t.db, &format!("u_{}", role.as_str()), Some(role)).await;
        }
        for role in ALL_ROLES {
            let (c, csrf) = login(&s, &format!("u_{}", role.as_str())).await;
            for (part, routes, ids) in &tables {
                for route in *routes {
                    let path = fill(route.path, ids);
                    let status = send(&c, &s, route, &path, &csrf).await.status();
                    let holds = route.perm == Perm::Console || role_perms(role).contains(&route.perm);
                    let what = format!("{b}: {part} {} {path} as {role:?}", route.method);
                    if holds {
                        assert!(status.as_u16() < 500, "{what}: {status}");
                    } else {
                        assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
                    }
                }
            }
        }
    }
}
