//! The open read API, black-box over HTTP on SQLite and PostgreSQL: every filter and the
//! cursor pagination against the public projection, item detail, the error shape, that
//! nothing unapproved or off a closed site is served, the OpenAPI document and the
//! explorer page.

use std::collections::{BTreeSet, HashSet};

use gongkai_cms::service::{self as cms, ItemInput};
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::testkit::{self, TestDb, TestServer};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;
use gongkai_portal::api;
use reqwest::StatusCode;
use serde_json::Value;

const REVISED_TITLE: &str = "未经审核的修订标题（不得公开）";
const REVISED_BODY: &str = "未经审核的修订正文";

struct World {
    server: TestServer,
    /// A live item whose revision waits for review.
    revised: i64,
    revised_title: String,
    /// A live www item with an attachment, pushed to a jyj column.
    pushed: i64,
    jyj_column: i64,
    attachment: Vec<u8>,
}

async fn scalar(t: &TestDb, sql: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&mut **x).await)
        .unwrap()
}

async fn ids(t: &TestDb, sql: &str) -> Vec<i64> {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string())).fetch_all(&mut **x).await)
        .unwrap()
}

async fn text(t: &TestDb, sql: &str) -> String {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&mut **x).await)
        .unwrap()
}

async fn user(t: &TestDb, name: &str, role: Role) -> Principal {
    let id = testkit::user_with_role(&t.db, name, Some(role)).await;
    testkit::principal(&t.db, id).await
}

/// The demo district, plus: a live item with a pending revision, a pushed item with an
/// attachment, and the special-topic site closed. All before the server starts, so no
/// cache can be stale.
async fn world(t: &TestDb) -> World {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    gongkai_cms::demo::seed(&t.db).await.unwrap();
    let editor = user(t, "api-editor", Role::Editor).await;

    let revised =
        scalar(t, "SELECT MIN(p.item_id) FROM pub_items p JOIN sites s ON s.id = p.site_id WHERE s.code = 'www'").await;
    let before = {
        let mut h = t.db.read().await.unwrap();
        gongkai_cms::store::item(&mut h.conn(), revised).await.unwrap().unwrap()
    };
    let mut input = ItemInput::from_item(&before);
    input.title = REVISED_TITLE.into();
    input.body = format!("<p>{REVISED_BODY}</p>");
    cms::save_item(&t.db, &editor, "ip", revised, &input).await.unwrap();
    cms::submit(&t.db, &editor, "ip", revised, true).await.unwrap();

    let pushed = scalar(
        t,
        "SELECT MAX(p.item_id) FROM pub_items p JOIN sites s ON s.id = p.site_id
          WHERE s.code = 'www' AND p.index_no IS NOT NULL",
    )
    .await;
    let jyj_column = scalar(
        t,
        "SELECT MIN(c.id) FROM columns c JOIN sites s ON s.id = c.site_id WHERE s.code = 'jyj' AND c.kind = 'list' AND c.visible",
    )
    .await;
    cms::push(&t.db, &editor, "ip", pushed, jyj_column).await.unwrap();
    let attachment = b"name,amount\nbudget,100\n".to_vec();
    let files = gongkai_cms::attachments::FileStore::new(&t.dir);
    gongkai_cms::attachments::attach(&t.db, &files, &editor, "ip", pushed, "预算表 2026.csv", attachment.clone())
        .await
        .unwrap();

    {
        let mut tx = t.db.begin().await.unwrap();
        let mut c = tx.conn();
        with_conn!(&mut c, x => sqlx::query("UPDATE sites SET status = 'closed' WHERE code = 'yshj'").execute(&mut **x).await.map(|r| r.rows_affected()))
            .unwrap();
        tx.commit().await.unwrap();
    }

    let state = AppState::with_slices(
        t.db.clone(),
        t.config(),
        vec![gongkai_cms::web::slice(), gongkai_cms::web_library::slice(), gongkai_portal::slice()],
    );
    let server = TestServer::start_state(gongkai_portal::attach(gongkai_search::attach(state))).await;
    World { server, revised, revised_title: before.title, pushed, jyj_column, attachment }
}

struct Got {
    status: StatusCode,
    body: Value,
    raw: String,
    headers: reqwest::header::HeaderMap,
}

async fn get(w: &World, path: &str) -> Got {
    let r = reqwest::Client::new().get(w.server.url(path)).send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let raw = r.text().await.unwrap();
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Got { status, body, raw, headers }
}

#[track_caller]
fn assert_error(g: &Got, status: StatusCode, code: &str, field: Option<&str>, what: &str) {
    assert_eq!(g.status, status, "{what}: {}", g.raw);
    let ct = g.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(ct.starts_with("application/json"), "{what}: {ct}");
    let e = g.body["error"].as_object().unwrap_or_else(|| panic!("{what}: {}", g.raw));
    assert_eq!(e["code"], code, "{what}");
    let msg = e["message"].as_str().unwrap_or("");
    assert!(msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{what}: message in Chinese: {msg}");
    assert_eq!(e.get("field").and_then(Value::as_str), field, "{what}");
    assert!(e.keys().all(|k| ["code", "message", "field"].contains(&k.as_str())), "{what}");
}

/// Every page of a listing: the ids in order, with the number of requests made.
async fn walk(w: &World, base: &str, key: &str) -> (Vec<i64>, Vec<Value>, usize) {
    let mut ids = Vec::new();
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{base}{sep}cursor={c}"),
            None => base.to_string(),
        };
        let g = get(w, &url).await;
        assert_eq!(g.status, StatusCode::OK, "{url}: {}", g.raw);
        pages += 1;
        for r in g.body[key].as_array().unwrap() {
            ids.push(r["id"].as_i64().unwrap());
            rows.push(r.clone());
        }
        match g.body["next_cursor"].as_str() {
            Some(c) => {
                assert!(!g.body[key].as_array().unwrap().is_empty(), "{url}: a next page after an empty one");
                cursor = Some(c.to_string());
            }
            None => {
                assert!(g.body["next_cursor"].is_null(), "{url}");
                break;
            }
        }
        assert!(pages < 1000, "{base}: pagination does not end");
    }
    (ids, rows, pages)
}

fn on_site(code: &str) -> String {
    format!(
        "p.item_id IN (SELECT item_id FROM pub_site_items WHERE site_id = (SELECT id FROM sites WHERE code = '{code}'))"
    )
}

fn in_column(id: i64) -> String {
    format!("p.item_id IN (SELECT item_id FROM pub_placements WHERE column_id = {id})")
}

/// Live items on open sites, newest first, with an extra SQL condition on `p`.
fn expected_sql(cond: &str) -> String {
    format!(
        "SELECT p.item_id FROM pub_items p
          WHERE EXISTS (SELECT 1 FROM pub_site_items s JOIN sites st ON st.id = s.site_id
                         WHERE s.item_id = p.item_id AND st.status = 'open' AND st.external = FALSE)
            AND {cond}
          ORDER BY p.published_on DESC, p.item_id DESC"
    )
}

/// One demo district per backend (seeding it is most of the run time), checked part by part.
#[tokio::test]
async fn open_read_api() {
    for t in testkit::backends().await {
        let w = world(&t).await;
        listing_filters_and_cursor_pagination_match_the_projection(&t, &w).await;
        details_sites_columns_and_only_approved_content(&t, &w).await;
        openapi_document_describes_every_route_and_the_explorer_loads(&t, &w).await;
        // Last: it hides a column.
        bad_input_is_a_json_400_or_404_never_a_500(&t, &w).await;
    }
}

async fn listing_filters_and_cursor_pagination_match_the_projection(t: &TestDb, w: &World) {
    let name = t.backend_name();
    let www_org = scalar(t, "SELECT org_id FROM sites WHERE code = 'www'").await;
    let year = text(t, "SELECT MAX(published_on) FROM pub_items").await[..4].parse::<i64>().unwrap();
    let since = text(t, "SELECT published_on FROM pub_items ORDER BY published_on DESC LIMIT 1 OFFSET 50").await;
    let www_col = scalar(
        t,
        "SELECT MIN(c.id) FROM columns c JOIN sites s ON s.id = c.site_id
              WHERE s.code = 'www' AND c.kind = 'list' AND c.parent_id IS NOT NULL AND c.visible",
    )
    .await;
    let cases: Vec<(String, String)> = vec![
        (String::new(), "1 = 1".into()),
        ("site=www".into(), on_site("www")),
        ("site=jyj".into(), on_site("jyj")),
        (format!("column={www_col}"), in_column(www_col)),
        (format!("column={}", w.jyj_column), in_column(w.jyj_column)),
        ("art20=a20_01".into(), "p.art20 = 'a20_01'".into()),
        ("subject=s10".into(), "p.subject_code = 's10'".into()),
        (format!("org={www_org}"), format!("p.publisher_org_id = {www_org}")),
        ("genre=notice".into(), "p.genre = 'notice'".into()),
        (format!("year={year}"), format!("p.year = {year}")),
        ("class=policy".into(), "p.class_code = 'policy'".into()),
        (format!("since={since}"), format!("p.published_on >= '{since}'")),
        ("validity=repealed".into(), "p.validity = 'repealed'".into()),
        (
            format!("site=www&org={www_org}&year={year}&validity=valid"),
            format!(
                "{} AND p.publisher_org_id = {www_org} AND p.year = {year} AND p.validity = 'valid'",
                on_site("www")
            ),
        ),
        // The pushed item: in a jyj column and shown on www (its home).
        (format!("site=www&column={}", w.jyj_column), format!("{} AND {}", in_column(w.jyj_column), on_site("www"))),
    ];
    let mut nonempty = 0;
    for (q, cond) in &cases {
        let want = ids(t, &expected_sql(cond)).await;
        for limit in [7, 100] {
            let base = if q.is_empty() {
                format!("/api/v1/items?limit={limit}")
            } else {
                format!("/api/v1/items?{q}&limit={limit}")
            };
            let (got, rows, pages) = walk(w, &base, "items").await;
            assert_eq!(got, want, "{name}: {base}");
            assert_eq!(pages, want.len().div_ceil(limit).max(1), "{name}: {base}: exact page count, no empty tail");
            let unique: HashSet<i64> = got.iter().copied().collect();
            assert_eq!(unique.len(), got.len(), "{name}: {base}: no duplicates");
            for r in &rows {
                let id = r["id"].as_i64().unwrap();
                assert_eq!(r["url"], format!("/s/{}/art/{id}.html", r["site"].as_str().unwrap()), "{name}");
            }
        }
        nonempty += usize::from(!want.is_empty());
    }
    assert!(nonempty >= cases.len() - 2, "{name}: the filters select something in the demo");
    let all = ids(t, &expected_sql("1 = 1")).await;
    assert!(all.len() > 200, "{name}: {}", all.len());

    // The default page size, and a page beyond the end is empty, not an error.
    let g = get(w, "/api/v1/items").await;
    assert_eq!(g.body["items"].as_array().unwrap().len(), api::DEFAULT_LIMIT as usize, "{name}");
    let g = get(w, "/api/v1/items?cursor=AAAAAAAAAAAAAAAA").await;
    assert_eq!(g.status, StatusCode::OK, "{name}: {}", g.raw);
    assert_eq!(g.body["items"].as_array().unwrap().len(), 0, "{name}: before the first day there is nothing");
    assert!(g.body["next_cursor"].is_null());

    // Headers of open data.
    for path in ["/api/v1/items?limit=1", "/api/v1/items/1?x", "/api/v1/items?limit=0"] {
        let g = get(w, path).await;
        assert_eq!(g.headers["access-control-allow-origin"], "*", "{name}: {path}");
        assert_eq!(g.headers["cache-control"], "public, max-age=60", "{name}: {path}");
    }

    // The catalogue: every entry exactly once, in id order, filters, live-only counts.
    for (q, cond) in [
        ("", "1 = 1".to_string()),
        ("domain=d04", "domain_code = 'd04'".to_string()),
        ("domain=d26", "domain_code = 'd26'".to_string()),
        ("org=6", "org_id = 6".to_string()),
    ] {
        let want = ids(t, &format!("SELECT id FROM catalogue_entries WHERE {cond} ORDER BY id")).await;
        let base = format!("/api/v1/catalogue?limit=3&{q}");
        let (got, rows, _) = walk(w, &base, "entries").await;
        assert_eq!(got, want, "{name}: {base}");
        for r in rows {
            let id = r["id"].as_i64().unwrap();
            let n = scalar(
                    t,
                    &format!(
                        "SELECT COUNT(*) FROM item_catalogue ic JOIN pub_items p ON p.item_id = ic.item_id WHERE ic.entry_id = {id}"
                    ),
                )
                .await;
            assert_eq!(r["item_count"].as_i64(), Some(n), "{name}: entry {id}");
            assert!(r["domain"]["label"].as_str().is_some_and(|l| !l.is_empty()), "{name}");
            assert!(r["channels"].as_array().is_some(), "{name}");
        }
    }
    let total: i64 = scalar(t, "SELECT COUNT(*) FROM catalogue_entries").await;
    assert!(total > 3, "{name}: the catalogue needs several pages");
    assert!(
        scalar(t, "SELECT COUNT(*) FROM item_catalogue ic JOIN pub_items p ON p.item_id = ic.item_id").await > 0,
        "{name}: some entries have items"
    );
}

async fn details_sites_columns_and_only_approved_content(t: &TestDb, w: &World) {
    let name = t.backend_name();

    // Sites: open, non-external, closed one gone; no host names exposed.
    let g = get(w, "/api/v1/sites").await;
    assert_eq!(g.status, StatusCode::OK);
    let codes: Vec<&str> = g.body["sites"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["www", "jyj"], "{name}: yshj closed, rmt external");
    let www = &g.body["sites"][0];
    assert_eq!(www["url"], "/s/www/");
    assert_eq!(www["site_code"], text(t, "SELECT site_code FROM sites WHERE code = 'www'").await);
    assert_eq!(
        www["org"]["name"],
        text(t, "SELECT o.name FROM sites s JOIN orgs o ON o.id = s.org_id WHERE s.code = 'www'").await
    );
    assert!(!g.raw.contains("hosts") && !g.raw.contains("qinghe.gov.cn\n"), "{name}");

    // Columns: visible ones, each parent listed before its children.
    let g = get(w, "/api/v1/sites/www/columns").await;
    assert_eq!(g.status, StatusCode::OK, "{}", g.raw);
    let cols = g.body["columns"].as_array().unwrap();
    let visible =
        scalar(t, "SELECT COUNT(*) FROM columns c JOIN sites s ON s.id = c.site_id WHERE s.code = 'www' AND c.visible")
            .await;
    assert!(!cols.is_empty() && cols.len() as i64 <= visible, "{name}");
    let mut seen = HashSet::new();
    for c in cols {
        if let Some(p) = c["parent_id"].as_i64() {
            assert!(seen.contains(&p), "{name}: parent {p} before {}", c["id"]);
        }
        seen.insert(c["id"].as_i64().unwrap());
        match c["kind"].as_str().unwrap() {
            "link" => assert_eq!(c["url"], c["link_url"], "{name}"),
            _ => assert_eq!(c["url"], format!("/s/www/col/{}/", c["slug"].as_str().unwrap()), "{name}"),
        }
    }
    assert_error(
        &get(w, "/api/v1/sites/yshj/columns").await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("code"),
        "closed site",
    );
    assert_error(
        &get(w, "/api/v1/sites/rmt/columns").await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("code"),
        "external site",
    );
    assert_error(
        &get(w, "/api/v1/sites/nope/columns").await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("code"),
        "unknown site",
    );
    assert_error(
        &get(w, "/api/v1/sites/WWW/columns").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
        Some("code"),
        "bad code",
    );

    // An item in full, field by field against the projection.
    let id = w.pushed;
    let g = get(w, &format!("/api/v1/items/{id}")).await;
    assert_eq!(g.status, StatusCode::OK, "{name}: {}", g.raw);
    let d = &g.body;
    assert_eq!(d["id"], id);
    assert_eq!(d["title"], text(t, &format!("SELECT title FROM pub_items WHERE item_id = {id}")).await);
    assert_eq!(d["body_html"], text(t, &format!("SELECT body FROM pub_items WHERE item_id = {id}")).await);
    assert_eq!(d["published_on"], text(t, &format!("SELECT published_on FROM pub_items WHERE item_id = {id}")).await);
    assert_eq!(d["index_no"], text(t, &format!("SELECT index_no FROM pub_items WHERE item_id = {id}")).await);
    let org = scalar(t, &format!("SELECT publisher_org_id FROM pub_items WHERE item_id = {id}")).await;
    assert_eq!(d["publisher"]["id"], org);
    assert_eq!(d["publisher"]["name"], text(t, &format!("SELECT name FROM orgs WHERE id = {org}")).await);
    let kw = text(t, &format!("SELECT keywords FROM pub_items WHERE item_id = {id}")).await;
    let kw: Vec<&str> = kw.split(',').map(str::trim).filter(|k| !k.is_empty()).collect();
    assert_eq!(d["keywords"], serde_json::json!(kw), "{name}");
    assert_eq!(d["class"]["code"], text(t, &format!("SELECT class_code FROM pub_items WHERE item_id = {id}")).await);
    assert!(d["class"]["label"].as_str().is_some_and(|l| !l.is_empty()));
    assert_eq!(d["validity"]["code"], "valid");
    assert_eq!(d["validity"]["label"], "有效");
    assert_eq!(d["sites"], serde_json::json!(["www", "jyj"]), "{name}: pushed to jyj");
    assert_eq!(d["site"], "www");
    assert_eq!(d["url"], format!("/s/www/art/{id}.html"));
    let att = d["attachments"].as_array().unwrap();
    assert_eq!(att.len(), 1, "{name}");
    assert_eq!(att[0]["name"], "预算表 2026.csv");
    assert_eq!(att[0]["size"], w.attachment.len());
    assert!(att[0]["mime"].as_str().unwrap().starts_with("text/"), "{name}: {}", att[0]["mime"]);
    let file = reqwest::get(w.server.url(att[0]["url"].as_str().unwrap())).await.unwrap();
    assert_eq!(file.status(), StatusCode::OK, "{name}: the attachment URL serves the file");
    assert_eq!(file.bytes().await.unwrap().to_vec(), w.attachment);
    // The item page the URL names exists.
    assert_eq!(reqwest::get(w.server.url(d["url"].as_str().unwrap())).await.unwrap().status(), StatusCode::OK);
    // Listed on the site and in the column it was pushed to.
    let (on_jyj, _, _) = walk(w, &format!("/api/v1/items?column={}&limit=100", w.jyj_column), "items").await;
    assert!(on_jyj.contains(&id), "{name}");

    // Interpretation links both ways.
    let (interp, policy) = {
        let mut h = t.db.read().await.unwrap();
        let mut c = h.conn();
        with_conn!(&mut c, x => sqlx::query_as::<_, (i64, i64)>(
                "SELECT l.interpretation_id, l.policy_id FROM interpretation_links l
                   JOIN pub_items a ON a.item_id = l.interpretation_id JOIN pub_items b ON b.item_id = l.policy_id
                   JOIN pub_site_items s ON s.item_id = a.item_id JOIN sites st ON st.id = s.site_id AND st.status = 'open'
                   JOIN pub_site_items s2 ON s2.item_id = b.item_id JOIN sites st2 ON st2.id = s2.site_id AND st2.status = 'open'
                  ORDER BY l.interpretation_id LIMIT 1").fetch_one(&mut **x).await)
            .unwrap()
    };
    let a = get(w, &format!("/api/v1/items/{interp}")).await;
    assert!(a.body["interprets"].as_array().unwrap().contains(&Value::from(policy)), "{name}: {}", a.raw);
    let b = get(w, &format!("/api/v1/items/{policy}")).await;
    assert!(b.body["interpretations"].as_array().unwrap().contains(&Value::from(interp)), "{name}: {}", b.raw);

    // The pending revision is not public: old title, no trace of the new text anywhere.
    let g = get(w, &format!("/api/v1/items/{}", w.revised)).await;
    assert_eq!(g.status, StatusCode::OK, "{name}");
    assert_eq!(g.body["title"], w.revised_title.as_str(), "{name}");
    assert!(!g.raw.contains(REVISED_TITLE) && !g.raw.contains(REVISED_BODY), "{name}");
    let mut everything = String::new();
    let mut cursor = String::new();
    loop {
        let g = get(w, &format!("/api/v1/items?limit=100{cursor}")).await;
        everything.push_str(&g.raw);
        match g.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert!(everything.contains(&w.revised_title), "{name}");
    assert!(!everything.contains(REVISED_TITLE), "{name}: the unapproved title never listed");

    // Never live (draft, in review, scheduled), withdrawn, or only on the closed site: 404.
    let hidden = ids(
        t,
        "SELECT id FROM items WHERE live = FALSE
             UNION SELECT p.item_id FROM pub_items p WHERE NOT EXISTS (
                 SELECT 1 FROM pub_site_items s JOIN sites st ON st.id = s.site_id
                  WHERE s.item_id = p.item_id AND st.status = 'open' AND st.external = FALSE)",
    )
    .await;
    let statuses: BTreeSet<String> = {
        let mut h = t.db.read().await.unwrap();
        let mut c = h.conn();
        with_conn!(&mut c, x => sqlx::query_scalar::<_, String>("SELECT DISTINCT status FROM items WHERE live = FALSE").fetch_all(&mut **x).await)
                .unwrap()
                .into_iter()
                .collect()
    };
    for s in ["draft", "in_review", "scheduled", "withdrawn"] {
        assert!(statuses.contains(s), "{name}: the demo has a {s} item");
    }
    let only_closed = scalar(
            t,
            "SELECT COUNT(*) FROM pub_items p WHERE NOT EXISTS (SELECT 1 FROM pub_site_items s JOIN sites st ON st.id = s.site_id
               WHERE s.item_id = p.item_id AND st.status = 'open')",
        )
        .await;
    assert!(only_closed > 0, "{name}: items of the closed site exist in the projection");
    let (listed, _, _) = walk(w, "/api/v1/items?limit=100", "items").await;
    let listed: HashSet<i64> = listed.into_iter().collect();
    for id in &hidden {
        assert!(!listed.contains(id), "{name}: {id} listed");
        assert_error(
            &get(w, &format!("/api/v1/items/{id}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("id"),
            "hidden item",
        );
    }
    assert_error(
        &get(w, "/api/v1/items?site=yshj").await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("site"),
        "closed site filter",
    );
}

async fn bad_input_is_a_json_400_or_404_never_a_500(t: &TestDb, w: &World) {
    let name = t.backend_name();
    let bad = [
        ("/api/v1/items?limit=0", "limit"),
        ("/api/v1/items?limit=101", "limit"),
        ("/api/v1/items?limit=-1", "limit"),
        ("/api/v1/items?limit=1e3", "limit"),
        ("/api/v1/items?limit=", "limit"),
        ("/api/v1/items?limit=99999999999999999999999", "limit"),
        ("/api/v1/items?limit=2&limit=3", "limit"),
        ("/api/v1/items?year=abc", "year"),
        ("/api/v1/items?year=20245", "year"),
        ("/api/v1/items?since=2024-02-30", "since"),
        ("/api/v1/items?since=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%94-01-01", "since"),
        ("/api/v1/items?cursor=", "cursor"),
        ("/api/v1/items?cursor=not-a-cursor", "cursor"),
        ("/api/v1/items?cursor=AAAAAAAAAAAAAAA%E2%82%AC", "cursor"),
        ("/api/v1/items?site=", "site"),
        ("/api/v1/items?site=%00", "site"),
        ("/api/v1/items?site=%E7%BD%91%E7%AB%99", "site"),
        ("/api/v1/items?column=1.5", "column"),
        ("/api/v1/items?column=0", "column"),
        ("/api/v1/items?org=0x10", "org"),
        ("/api/v1/items?org=9223372036854775808", "org"),
        ("/api/v1/items?art20=a20_16", "art20"),
        ("/api/v1/items?genre=%3Cscript%3E", "genre"),
        ("/api/v1/items?validity=VALID", "validity"),
        ("/api/v1/items?subject=S01", "subject"),
        ("/api/v1/items?class=", "class"),
        ("/api/v1/catalogue?domain=d27", "domain"),
        ("/api/v1/catalogue?org=-1", "org"),
        ("/api/v1/catalogue?cursor=AAAAAAAAAAAAAAAA", "cursor"),
        ("/api/v1/catalogue?limit=1000000", "limit"),
        ("/api/v1/items/0", "id"),
        ("/api/v1/items/-1", "id"),
        ("/api/v1/items/abc", "id"),
        ("/api/v1/items/99999999999999999999", "id"),
        ("/api/v1/items/9223372036854775808", "id"),
        ("/api/v1/items/%F0%9F%98%80", "id"),
        ("/api/v1/items/1%00", "id"),
        ("/api/v1/items/%FF", "id"),
        ("/api/v1/sites/%FF/columns", "code"),
        ("/api/v1/sites/a/columns", "code"),
    ];
    for (path, field) in bad {
        assert_error(
            &get(w, path).await,
            StatusCode::BAD_REQUEST,
            "bad_request",
            Some(field),
            &format!("{name}: {path}"),
        );
    }
    let long = format!("/api/v1/items/{}", "9".repeat(5000));
    assert_error(&get(w, &long).await, StatusCode::BAD_REQUEST, "bad_request", Some("id"), "long id");
    let missing = [
        ("/api/v1/items/9223372036854775807", Some("id")),
        ("/api/v1/items?site=nope", Some("site")),
        ("/api/v1/items?column=9223372036854775807", Some("column")),
        ("/api/v1/items?org=999999", Some("org")),
        ("/api/v1/items?subject=s99", Some("subject")),
        ("/api/v1/items?class=nope", Some("class")),
        ("/api/v1/catalogue?org=999999", Some("org")),
        ("/api/v1/nothing-here", None),
        ("/api/v1/items/", None),
    ];
    for (path, field) in missing {
        assert_error(&get(w, path).await, StatusCode::NOT_FOUND, "not_found", field, &format!("{name}: {path}"));
    }
    // A hidden column (or one under a hidden parent) is not a filter the public can use.
    let hidden_col = {
        let mut tx = t.db.begin().await.unwrap();
        let mut c = tx.conn();
        let id: i64 = with_conn!(&mut c, x => sqlx::query_scalar(
                "SELECT MIN(c.id) FROM columns c JOIN sites s ON s.id = c.site_id WHERE s.code = 'jyj' AND c.kind = 'list'"
            ).fetch_one(&mut **x).await)
            .unwrap();
        with_conn!(&mut c, x => sqlx::query("UPDATE columns SET visible = FALSE WHERE id = $1").bind(id).execute(&mut **x).await.map(|r| r.rows_affected()))
                .unwrap();
        tx.commit().await.unwrap();
        id
    };
    assert_error(
        &get(w, &format!("/api/v1/items?column={hidden_col}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
        Some("column"),
        "hidden column",
    );
    // Unknown parameters are ignored; other methods are refused with Allow.
    assert_eq!(get(w, "/api/v1/items?utm_source=x&_=1&limit=1").await.status, StatusCode::OK, "{name}");
    let r = reqwest::Client::new().post(w.server.url("/api/v1/items")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{name}");
    assert!(r.headers().get("allow").and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("GET")), "{name}");
}

async fn openapi_document_describes_every_route_and_the_explorer_loads(t: &TestDb, w: &World) {
    let g = get(w, "/api/openapi.json").await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.headers["access-control-allow-origin"], "*");
    let doc = &g.body;
    assert_eq!(doc["openapi"], "3.0.3");
    let paths: BTreeSet<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    let routes: BTreeSet<&str> = api::PATHS.iter().copied().collect();
    assert_eq!(paths, routes, "the document lists exactly the registered routes");
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let ops = ops.as_object().unwrap();
        assert_eq!(ops.keys().map(String::as_str).collect::<Vec<_>>(), ["get"], "{path}: GET only");
        let op = &ops["get"];
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{path}");
        assert!(op["responses"]["200"].is_object(), "{path}");
        // Suggestions name nothing that could be missing: no 404.
        if path.starts_with("/api/v1/") && path != "/api/v1/sites" && path != "/api/v1/search/suggest" {
            assert!(
                op["responses"]["400"].is_object() && op["responses"]["404"].is_object(),
                "{path}: error responses"
            );
        }
    }
    // Query parameters documented are the ones the handlers read.
    let names = |path: &str| -> Vec<String> {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| match p.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    doc["components"]["parameters"][r.rsplit('/').next().unwrap()]["name"].as_str().unwrap().to_string()
                }
                None => p["name"].as_str().unwrap().to_string(),
            })
            .collect()
    };
    assert_eq!(names("/api/v1/items"), api::ITEM_PARAMS);
    assert_eq!(names("/api/v1/catalogue"), api::CATALOGUE_PARAMS);
    assert_eq!(names("/api/v1/search"), api::SEARCH_PARAMS);
    assert_eq!(names("/api/v1/search/suggest"), ["q"]);
    // Every $ref resolves.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                    out.push(r);
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(doc, &mut all);
    assert!(all.len() > 20);
    for r in all {
        let target = r.strip_prefix("#/").unwrap().split('/').fold(doc, |v, k| &v[k]);
        assert!(target.is_object(), "{r} resolves");
    }
    // Every documented path answers (with a real value for its path parameter).
    let item =
        scalar(t, "SELECT MIN(item_id) FROM pub_items WHERE site_id = (SELECT id FROM sites WHERE code = 'www')").await;
    for path in api::PATHS {
        let mut url = path.replace("{code}", "www").replace("{id}", &item.to_string());
        if path.starts_with("/api/v1/search") {
            url.push_str("?q=%E6%94%BF%E5%BA%9C");
        }
        let g = get(w, &url).await;
        assert_eq!(g.status, StatusCode::OK, "{url}");
        assert_eq!(g.headers["cache-control"], "public, max-age=60", "{url}");
    }

    // The explorer: same-origin script and style only (the CSP forbids inline ones).
    let g = get(w, "/api/docs").await;
    assert!(g.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(g.raw.contains("<html lang=\"zh-CN\">"));
    assert!(g.raw.contains("<script src=\"/api/docs/explorer.js\" defer></script>"));
    assert!(g.raw.contains("href=\"/api/docs/explorer.css\""));
    assert!(!g.raw.contains("<style") && !g.raw.contains("style=") && !g.raw.contains("onclick"));
    assert!(!g.raw.contains("http://") && !g.raw.contains("https://"), "no CDN");
    let csp = g.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let js = get(w, "/api/docs/explorer.js").await;
    assert!(js.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(js.raw.contains("/api/openapi.json") && js.raw.contains("发送请求"));
    let css = get(w, "/api/docs/explorer.css").await;
    assert!(css.headers["content-type"].to_str().unwrap().starts_with("text/css"));
}
