//! Every console route of the hotline's slices (work orders and settings, knowledge base,
//! statistics, client keys) against every role, on SQLite and PostgreSQL, with real ids
//! from the demo: anonymous requests are sent to the login page (GET) or refused (POST); a
//! role without the route's declared permission gets 403; a role holding it never gets a
//! server error.

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

async fn one(t: &TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    with_conn!(&mut h.conn(), x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

/// The path with `{id}` taken from the table its prefix names, `{fid}` any file id.
fn fill(path: &str, ids: &Ids) -> String {
    let id = [
        ("/console/hotline/orders/", ids.order),
        ("/console/hotline/kb/", ids.kb),
        ("/console/hotline/sla/", ids.sla),
        ("/console/hotline/categories/", ids.category),
        ("/console/hotline/places/", ids.place),
        ("/console/hotline/polls/", 1),
        ("/console/hotline/clients/", ids.client),
    ]
    .iter()
    .find(|(p, _)| path.starts_with(p))
    .map_or(0, |(_, v)| *v);
    path.replace("{id}", &id.to_string()).replace("{fid}", "1")
}

struct Ids {
    order: i64,
    kb: i64,
    sla: i64,
    category: i64,
    place: i64,
    client: i64,
}

async fn send(c: &Client, s: &TestServer, route: &ConsoleRoute, path: &str, csrf: &str) -> reqwest::Response {
    if route.method == "get" {
        return c.get(s.url(path)).send().await.unwrap();
    }
    if path == "/console/hotline/new" {
        // The agent screen takes attachments: a multipart form.
        let boundary = "----hotline-matrix";
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
async fn hotline_role_route_matrix() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        gongkai_hotline::init(&t.db).await.unwrap();
        gongkai_hotline::demo(&t.db, gongkai_kernel::clock::today()).await.unwrap();
        let state = AppState::with_slices(t.db.clone(), t.config(), gongkai_hotline::slices());
        let s = TestServer::start_state(gongkai_hotline::attach(state)).await;
        let ids = Ids {
            order: one(&t, "SELECT MIN(id) FROM hl_orders WHERE state = 'dispatched'").await,
            kb: one(&t, "SELECT MIN(id) FROM hl_kb").await,
            sla: one(&t, "SELECT MAX(id) FROM hl_sla").await,
            category: one(&t, "SELECT MAX(id) FROM hl_categories").await,
            place: one(&t, "SELECT MAX(id) FROM hl_places").await,
            client: one(&t, "SELECT MIN(id) FROM hl_clients").await,
        };
        let slices = gongkai_hotline::slices();
        let total: usize = slices.iter().map(|s| s.routes.len()).sum();
        assert!(total >= 55, "{b}: every part's routes are in the tables ({total})");

        let anon = client();
        for slice in &slices {
            for route in slice.routes {
                let path = fill(route.path, &ids);
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
            for slice in &slices {
                for route in slice.routes {
                    let path = fill(route.path, &ids);
                    let status = send(&c, &s, route, &path, &csrf).await.status();
                    let holds = route.perm == Perm::Console || role_perms(role).contains(&route.perm);
                    let what = format!("{b}: {} {} {path} as {role:?}", slice.name, route.method);
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
