//! The library's second set of console pages over HTTP, on SQLite and PostgreSQL: the
//! role × route matrix, topics (with a stale edit), the standard catalogue (forms, CSV
//! upload with row-numbered errors, downloads), reference lists feeding the item form,
//! the missing-interpretation report, and escaping of hostile input.

use gongkai_cms::catalogue::{self as cat, EntryInput};
use gongkai_cms::service::{self as cms, ColumnInput, ItemInput};
use gongkai_cms::topics::{self, TopicInput};
use gongkai_kernel::auth::{ALL_ROLES, Principal, Role};
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestDb, TestServer};
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

async fn server(t: &TestDb) -> TestServer {
    TestServer::start_slices(t, vec![gongkai_cms::web::slice(), gongkai_cms::web_library::slice()]).await
}

async fn get(c: &Client, s: &TestServer, path: &str) -> (StatusCode, String) {
    let r = c.get(s.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn post(c: &Client, s: &TestServer, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
    let r = c.post(s.url(path)).form(form).send().await.unwrap();
    let status = r.status();
    let loc = r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, loc, r.text().await.unwrap())
}

/// A multipart/form-data body written by hand (one CSRF field and one file).
fn multipart(csrf: &str, filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----gongkai-test-boundary-7d1f";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(c: &Client, s: &TestServer, csrf: &str, filename: &str, bytes: &[u8]) -> (StatusCode, String) {
    let (ct, body) = multipart(csrf, filename, bytes);
    let r = c.post(s.url("/console/catalogue/import")).header("content-type", ct).body(body).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

struct World {
    column: i64,
    org: i64,
    site: i64,
    editor: Principal,
    reviewer: Principal,
}

async fn principal(t: &TestDb, name: &str, role: Role) -> Principal {
    testkit::principal(&t.db, testkit::user_with_role(&t.db, name, Some(role)).await).await
}

async fn setup(t: &TestDb) -> World {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    let admin = principal(t, "svc_admin", Role::SysAdmin).await;
    let mut h = t.db.read().await.unwrap();
    let site =
        gongkai_kernel::site::store::all(&mut h.conn()).await.unwrap().into_iter().find(|s| s.code == "www").unwrap();
    drop(h);
    let col = cms::create_column(
        &t.db,
        &admin,
        "ip",
        &ColumnInput {
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
    World {
        column: col.id,
        org: site.org_id.unwrap(),
        site: site.id,
        editor: principal(t, "svc_editor", Role::Editor).await,
        reviewer: principal(t, "svc_reviewer", Role::Reviewer).await,
    }
}

/// An item through the service layer; published when `publish`.
async fn item(
    t: &TestDb,
    w: &World,
    title: &str,
    class: &str,
    needs_interp: bool,
    written_on: &str,
    publish: bool,
) -> i64 {
    let input = ItemInput {
        home_column_id: w.column.to_string(),
        class_code: class.into(),
        title: title.into(),
        body: "<p>正文</p>".into(),
        publisher_org_id: w.org.to_string(),
        written_on: written_on.into(),
        needs_interpretation: if needs_interp { "on".into() } else { String::new() },
        interpretation_form: if class == "interpretation" { "text".into() } else { String::new() },
        ..Default::default()
    };
    let it = cms::create_item(&t.db, &w.editor, "ip", &input).await.unwrap();
    if publish {
        cms::submit(&t.db, &w.editor, "ip", it.id, false).await.unwrap();
        let out = cms::approve(&t.db, &w.reviewer, "ip", it.id, None, "", "").await.unwrap();
        assert_eq!(out.status, "published");
    }
    it.id
}

fn entry_input(level1: &str) -> EntryInput {
    EntryInput {
        domain: "d05".into(),
        level1: level1.into(),
        time_limit: "信息形成或者变更之日起20个工作日内".into(),
        channels: "政府网站".into(),
        audience: "全社会".into(),
        mode: "主动".into(),
        tier: "县级".into(),
        ..Default::default()
    }
}

/// Roles allowed per route of this slice, written out independently of the role table.
fn expected(method: &str, path: &str) -> &'static [&'static str] {
    const VIEW: &[&str] = &["editor", "reviewer", "leader"];
    match (method, path) {
        ("get", "/console/topics") | ("get", "/console/topics/{id}") => VIEW,
        ("post", p) if p.starts_with("/console/topics") => &["editor"],
        ("get", "/console/catalogue")
        | ("get", "/console/catalogue/export.csv")
        | ("get", "/console/catalogue/export.xlsx") => VIEW,
        (_, p) if p.starts_with("/console/catalogue") => &["reviewer"],
        (_, p) if p.starts_with("/console/reference") => &["sysadmin"],
        ("get", "/console/interpretations/missing") => &["reviewer"],
        (m, p) => panic!("library route {m} {p} has no expectation: add one"),
    }
}

#[tokio::test]
async fn library_role_route_matrix() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = setup(&t).await;
        let s = server(&t).await;
        for r in ALL_ROLES {
            testkit::user_with_role(&t.db, &format!("u_{}", r.as_str()), Some(r)).await;
        }
        let topic = topics::create_topic(
            &t.db,
            &w.editor,
            "ip",
            &TopicInput {
                site_id: w.site.to_string(),
                name: "矩阵专题".into(),
                slug: "matrix".into(),
                opened_on: "2026-01-01".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let entry = cat::create_entry(&t.db, &w.reviewer, "ip", &entry_input("矩阵事项")).await.unwrap();
        assert_eq!(gongkai_cms::web_library::LIBRARY_ROUTES.len(), 25, "new routes need expectations below");
        for role in ALL_ROLES {
            let (c, csrf) = login(&s, &format!("u_{}", role.as_str())).await;
            for route in gongkai_cms::web_library::LIBRARY_ROUTES {
                let id = if route.path.starts_with("/console/topics") {
                    topic.id.to_string()
                } else if route.path.ends_with("/delete") {
                    "999999".into() // deleting the shared entry would change later rows
                } else {
                    entry.id.to_string()
                };
                let path = route.path.replace("{id}", &id).replace("{kind}", "subjects");
                let resp = if route.method == "get" {
                    c.get(s.url(&path)).send().await.unwrap()
                } else {
                    c.post(s.url(&path)).form(&[("_csrf", csrf.as_str())]).send().await.unwrap()
                };
                let status = resp.status();
                if expected(route.method, route.path).contains(&role.as_str()) {
                    assert_ne!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{name}: {} {path} should be allowed for {role:?}",
                        route.method
                    );
                    assert!(status.as_u16() < 500, "{name}: {} {path} for {role:?}: {status}", route.method);
                    if route.method == "get" {
                        assert_eq!(status, StatusCode::OK, "{name}: {path} for {role:?}");
                    }
                } else {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{name}: {} {path} should be denied for {role:?}",
                        route.method
                    );
                }
            }
            // Navigation offers exactly the pages the role may open.
            let (_, home) = get(&c, &s, "/console").await;
            for path in
                ["/console/topics", "/console/catalogue", "/console/reference", "/console/interpretations/missing"]
            {
                // Navigation hrefs are template values, so autoescape writes '/' as &#x2f;.
                let href = format!("href=\"{}\"", path.replace('/', "&#x2f;"));
                let shown = expected("get", path).contains(&role.as_str());
                assert_eq!(home.contains(&href), shown, "{name}: nav {path} for {role:?}");
            }
        }
        // The matrix's posts changed nothing they were not allowed to.
        let after = topics::topic(&t.db, topic.id).await.unwrap().unwrap();
        assert_eq!(after.name, "矩阵专题", "{name}");
        assert!(cat::entry(&t.db, entry.id).await.is_ok(), "{name}");
    }
}

fn token(page: &str) -> String {
    let i = page.find("name=\"updated_at\" value=\"").expect("edit token") + 25;
    page[i..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn topic_created_edited_and_refused_when_stale() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = setup(&t).await;
        let s = server(&t).await;
        testkit::user_with_role(&t.db, "bianji", Some(Role::Editor)).await;
        testkit::user_with_role(&t.db, "lingdao", Some(Role::Leader)).await;
        let (ed, csrf) = login(&s, "bianji").await;
        let site = w.site.to_string();
        let news = item(&t, &w, "专题里的动态", "news", false, "", true).await;
        let draft = item(&t, &w, "尚未发布的稿件", "news", false, "", false).await;

        // A bad slug: 422, the message on the field, what was typed kept.
        let mut form = vec![
            ("_csrf", csrf.as_str()),
            ("site_id", site.as_str()),
            ("name", "优化营商环境"),
            ("slug", "Bad Slug!"),
            ("opened_on", "2026-03-01"),
            ("intro", "<p>聚焦<b>营商环境</b></p>"),
        ];
        let (st, _, page) = post(&ed, &s, "/console/topics", &form).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(page.contains("专题代号为 2–32 位") && page.contains("优化营商环境"), "{name}: {page}");
        assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"e-slug\""), "{name}");
        form[3] = ("slug", "yshj");
        let (st, loc, _) = post(&ed, &s, "/console/topics", &form).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{name}");
        let id: i64 = loc.trim_start_matches("/console/topics/").split('?').next().unwrap().parse().unwrap();
        let (_, list) = get(&ed, &s, &format!("/console/topics?site={site}")).await;
        assert!(list.contains("优化营商环境") && list.contains("聚焦营商环境"), "{name}: listed with a text intro");
        // Same slug on the same site: refused on the field.
        let (st, _, page) = post(&ed, &s, "/console/topics", &form).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("该网站已有相同代号的专题"), "{name}");

        // Two people open the form; the first save wins, the second is refused.
        let path = format!("/console/topics/{id}");
        let (_, page) = get(&ed, &s, &path).await;
        let stale = token(&page);
        let edit = |title: &str, tok: &str| -> Vec<(String, String)> {
            [
                ("_csrf", csrf.as_str()),
                ("name", title),
                ("slug", "yshj"),
                ("opened_on", "2026-03-01"),
                ("intro", "<p>新简介</p>"),
                ("updated_at", tok),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
        };
        let first = edit("优化营商环境专题", &stale);
        let r = ed.post(s.url(&path)).form(&first).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{name}");
        let second = edit("营商环境（另一人的修改）", &stale);
        let r = ed.post(s.url(&path)).form(&second).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT, "{name}: stale edit refused");
        let page = r.text().await.unwrap();
        assert!(page.contains("该专题已被他人修改"), "{name}: the conflict message");
        assert!(page.contains("营商环境（另一人的修改）"), "{name}: typed values kept");
        let now = topics::topic(&t.db, id).await.unwrap().unwrap();
        assert_eq!(now.name, "优化营商环境专题", "{name}: the first save stands");
        assert_ne!(now.updated_at.to_string(), stale);

        // Items and columns through the forms.
        let items = format!("{path}/items");
        let (st, _, page) = post(&ed, &s, &items, &[("_csrf", csrf.as_str()), ("item_id", "abc")]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("请填写或选择信息编号"), "{name}");
        let (st, _, page) = post(&ed, &s, &items, &[("_csrf", csrf.as_str()), ("item_id", "987654")]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("信息不存在"), "{name}");
        for it in [news, draft] {
            let (st, _, _) = post(&ed, &s, &items, &[("_csrf", csrf.as_str()), ("item_id", &it.to_string())]).await;
            assert_eq!(st, StatusCode::SEE_OTHER, "{name}");
        }
        let (_, page) = get(&ed, &s, &path).await;
        assert!(page.contains("专题里的动态") && page.contains("尚未发布的稿件"), "{name}: drafts listed for editors");
        assert!(page.contains("已发布") && page.contains("草稿"), "{name}: with their status");
        let (st, _, _) = post(
            &ed,
            &s,
            &format!("{path}/items/remove"),
            &[("_csrf", csrf.as_str()), ("item_id", &draft.to_string())],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, page) = get(&ed, &s, &path).await;
        assert!(!page.contains("尚未发布的稿件"), "{name}: removed");
        assert_eq!(topics::topic_items(&t.db, id, 10).await.unwrap().len(), 1);
        let col = w.column.to_string();
        assert!(page.contains(&format!("<option value=\"{col}\">")), "{name}: the site's column offered");
        let (st, _, _) =
            post(&ed, &s, &format!("{path}/columns"), &[("_csrf", csrf.as_str()), ("column_id", &col)]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(topics::topic_columns(&t.db, id).await.unwrap().len(), 1, "{name}");
        let (st, _, _) =
            post(&ed, &s, &format!("{path}/columns/remove"), &[("_csrf", csrf.as_str()), ("column_id", &col)]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert!(topics::topic_columns(&t.db, id).await.unwrap().is_empty(), "{name}");

        // Close: a date before the opening is refused, then closed.
        let close = format!("{path}/close");
        let (st, _, page) = post(&ed, &s, &close, &[("_csrf", csrf.as_str()), ("closed_on", "2026-02-01")]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("关闭日期不能早于开设日期"), "{name}");
        let (st, _, _) = post(&ed, &s, &close, &[("_csrf", csrf.as_str()), ("closed_on", "2026-04-01")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, page) = get(&ed, &s, &path).await;
        assert!(page.contains("已于 2026-04-01 关闭"), "{name}");
        assert!(!page.contains(&format!("action=\"/console/topics/{id}/close\"")));
        let (st, _, page) = post(&ed, &s, &close, &[("_csrf", csrf.as_str()), ("closed_on", "2026-05-01")]).await;
        assert_eq!(st, StatusCode::CONFLICT, "{name}: already closed");
        assert!(page.contains("该专题已于 2026-04-01 关闭"));

        // A reader sees the topic without any form.
        let (ld, _) = login(&s, "lingdao").await;
        let (st, page) = get(&ld, &s, &path).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("优化营商环境专题") && page.contains("新简介"), "{name}");
        assert!(!page.contains("method=\"post\" action=\"/console/topics/"), "{name}: read only");

        // Every change was audited with an outbox event.
        let mut h = t.db.read().await.unwrap();
        let audited: i64 = with_conn!(&mut h.conn(), x => {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'topic.%'").fetch_one(&mut **x).await
        })
        .unwrap();
        assert_eq!(audited, 8, "{name}: create, update, 2 adds, remove, column add/remove, close");
    }
}

/// A CSV written independently of the module under test.
fn csv(rows: &[[&str; 12]]) -> Vec<u8> {
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
    };
    let mut out = String::from("\u{feff}");
    out.push_str(&HEADER.join(","));
    out.push_str("\r\n");
    for r in rows {
        out.push_str(&r.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// RFC 4180 records (enough for the export: quoted fields, doubled quotes, CRLF).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

const HEADER: [&str; 12] = [
    "序号",
    "领域",
    "一级事项",
    "二级事项",
    "公开内容（要素）",
    "公开依据",
    "公开时限",
    "公开主体",
    "公开渠道和载体",
    "公开对象",
    "公开方式",
    "公开层级",
];

const LIMIT20: &str = "信息形成或者变更之日起20个工作日内";

/// Rows 2..=5 of the upload (header = row 1); rows 3 and 5 are bad.
fn upload_rows() -> Vec<[&'static str; 12]> {
    vec![
        [
            "0701-01",
            "征地补偿",
            "征收土地信息",
            "征地告知",
            "位置、四至、面积",
            "《土地管理法》第四十七条",
            LIMIT20,
            "青禾区人民政府",
            "政府网站、两微一端",
            "全社会",
            "主动",
            "县级",
        ],
        ["", "宇宙探索", "星际航行", "", "", "", "10个工作日", "", "政府网站", "全社会", "主动", "县级"],
        [
            "1701-01",
            "义务教育",
            "招生入学",
            "招生政策",
            "招生范围, \"划片\"结果",
            "《义务教育法》第十二条",
            LIMIT20,
            "青禾区教育局",
            "政府网站",
            "全社会",
            "主动",
            "县级",
        ],
        ["", "d17", "课后服务", "", "", "", "每学期开学前", "不存在的局", "", "全社会", "主动", "县级"],
    ]
}

#[tokio::test]
async fn catalogue_import_export_and_forms_through_the_console() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = setup(&t).await;
        let s = server(&t).await;
        testkit::user_with_role(&t.db, "shenhe", Some(Role::Reviewer)).await;
        testkit::user_with_role(&t.db, "bianji", Some(Role::Editor)).await;
        let (rv, csrf) = login(&s, "shenhe").await;

        // Upload: valid rows imported, bad ones listed with their row numbers.
        let (st, page) = get(&rv, &s, "/console/catalogue/import").await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("enctype=\"multipart/form-data\""), "{name}");
        let file = csv(&upload_rows());
        let (st, page) = upload(&rv, &s, &csrf, "目录.csv", &file).await;
        assert_eq!(st, StatusCode::OK, "{name}: {page}");
        assert!(page.contains("新增 2 个事项") && page.contains("2 行有问题未导入"), "{name}: {page}");
        assert!(page.contains("第 3 行") && page.contains("第 5 行") && !page.contains("第 4 行"), "{name}");
        assert!(page.contains("领域：领域“宇宙探索”不是26个标准目录领域之一"), "{name}");
        assert!(page.contains("公开主体：公开主体“不存在的局”不是本平台的机构"), "{name}");
        assert!(page.contains("公开渠道和载体：请至少选择一个公开渠道和载体"), "{name}");
        // Importing again creates nothing.
        let (_, page) = upload(&rv, &s, &csrf, "目录.csv", &file).await;
        assert!(page.contains("新增 0 个事项，更新（核对）2 个已有事项"), "{name}");
        // Wrong file type, no file, wrong token.
        let (st, page) = upload(&rv, &s, &csrf, "目录.txt", b"x").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("只能导入 Excel（.xlsx）或 CSV（.csv）文件"), "{name}");
        let (st, page) = upload(&rv, &s, &csrf, "empty.csv", b"").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("请选择要导入的文件"));
        let (st, _) = upload(&rv, &s, &"0".repeat(32), "目录.csv", &file).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{name}: CSRF token checked on uploads");
        let (st, page) = upload(&rv, &s, &csrf, "bad.csv", "\u{feff}名称,备注\r\n甲,乙\r\n".as_bytes()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: a file without the columns");
        assert!(page.contains("id=\"e-file\""), "{name}: {page}");

        // Files over axum's 2 MB multipart default still reach the importer.
        let padding = "依".repeat(1_000_000);
        let big = csv(&[[
            "",
            "d05",
            "超长依据",
            "",
            "",
            padding.as_str(),
            LIMIT20,
            "",
            "政府网站",
            "全社会",
            "主动",
            "县级",
        ]]);
        assert!(big.len() > 2 * 1024 * 1024);
        let (st, page) = upload(&rv, &s, &csrf, "大文件.csv", &big).await;
        assert_eq!(st, StatusCode::OK, "{name}");
        assert!(page.contains("第 2 行") && page.contains("公开依据不能超过2000个字"), "{name}");

        // Export: CSV with BOM and header, XLSX, both with a Chinese file name.
        let r = rv.get(s.url("/console/catalogue/export.csv")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let cd = r.headers()["content-disposition"].to_str().unwrap().to_string();
        assert!(cd.starts_with("attachment;"), "{cd}");
        assert!(cd.contains("filename*=UTF-8''%E6%A0%87%E5%87%86%E7%9B%AE%E5%BD%95-"), "{name}: {cd}");
        assert!(cd.ends_with(".csv"), "{cd}");
        let bytes = r.bytes().await.unwrap();
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "{name}: BOM for Excel");
        let rows = parse_csv(std::str::from_utf8(&bytes[3..]).unwrap());
        assert_eq!(rows[0], HEADER, "{name}: header row");
        assert_eq!(rows.len(), 3, "{name}: two entries");
        let zs = rows.iter().find(|r| r[2] == "招生入学").expect("entry exported");
        assert_eq!(zs[4], "招生范围, \"划片\"结果", "{name}: quoted field round trip");
        assert_eq!(zs[7], "青禾区教育局");
        let r = rv.get(s.url("/console/catalogue/export.xlsx")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        let cd = r.headers()["content-disposition"].to_str().unwrap().to_string();
        assert!(cd.contains("filename*=UTF-8''%E6%A0%87%E5%87%86%E7%9B%AE%E5%BD%95-") && cd.ends_with(".xlsx"), "{cd}");
        let bytes = r.bytes().await.unwrap();
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let range = wb.worksheet_range("标准目录").unwrap();
        let header: Vec<String> = range.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
        assert_eq!(header, HEADER, "{name}: XLSX header");
        assert_eq!(range.rows().count(), 3);

        // Linked items and timeliness, shown as ✓/✗ with words.
        let groups = cat::list_by_domain(&t.db).await.unwrap();
        let find = |l1: &str| groups.iter().flat_map(|g| &g.2).find(|v| v.entry.level1 == l1).unwrap().entry.id;
        let (land, school) = (find("征收土地信息"), find("招生入学"));
        let today = gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today());
        let on_time = item(&t, &w, "征地告知书（按时）", "notice", false, &today, true).await;
        let late = item(&t, &w, "招生政策（迟发）", "notice", false, "2020-01-06", true).await;
        cat::link_item(&t.db, &w.reviewer, "ip", on_time, land).await.unwrap();
        cat::link_item(&t.db, &w.reviewer, "ip", late, school).await.unwrap();
        let (st, page) = get(&rv, &s, "/console/catalogue").await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("共 2 个目录事项，其中 1 个事项最近一次发布超过公开时限"), "{name}");
        assert!(page.contains("✓ 按时发布") && page.contains("✗ 超过公开时限（期限 2020-"), "{name}");
        assert!(page.contains(&format!("href=\"/console/content/{on_time}\"")), "{name}: linked item");
        assert!(page.contains("id=\"d07\"") && page.contains("id=\"d26\""), "{name}: all 26 domains");
        assert!(page.contains("该领域暂无目录事项"));
        assert!(page.contains("href=\"/console/catalogue/new\""), "{name}: reviewers may add");
        let (ed, _) = login(&s, "bianji").await;
        let (st, page) = get(&ed, &s, "/console/catalogue").await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("招生入学") && !page.contains("href=\"/console/catalogue/new\""), "{name}: editors read");

        // The entry form: errors on the fields, checkboxes for channels.
        let bad =
            [("_csrf", csrf.as_str()), ("domain", "d05"), ("seq", "0501-09"), ("level1", ""), ("time_limit", LIMIT20)];
        let (st, _, page) = post(&rv, &s, "/console/catalogue/new", &bad).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(page.contains("请填写一级事项") && page.contains("请至少选择一个公开渠道和载体"), "{name}");
        assert!(page.contains("value=\"0501-09\""), "{name}: typed value kept");
        let good = [
            ("_csrf", csrf.as_str()),
            ("domain", "d05"),
            ("seq", "0501-09"),
            ("level1", "安全生产监管"),
            ("level2", "执法检查"),
            ("time_limit", LIMIT20),
            ("org", "青禾区人民政府"),
            ("channels", "website"),
            ("channels", "new_media"),
            ("audience", "all"),
            ("mode", "proactive"),
            ("tier", "county"),
        ];
        let (st, loc, _) = post(&rv, &s, "/console/catalogue/new", &good).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{name}");
        assert_eq!(loc, "/console/catalogue?saved=1#d05");
        let (st, _, page) = post(&rv, &s, "/console/catalogue/new", &good).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: duplicate");
        assert!(page.contains("请勿重复添加"));
        let groups = cat::list_by_domain(&t.db).await.unwrap();
        let id = groups.iter().flat_map(|g| &g.2).find(|v| v.entry.level1 == "安全生产监管").unwrap().entry.id;
        assert_eq!(cat::entry(&t.db, id).await.unwrap().channels, "website,new_media");
        let (_, page) = get(&rv, &s, &format!("/console/catalogue/{id}")).await;
        assert!(page.contains("value=\"new_media\" checked") && !page.contains("value=\"gazette\" checked"), "{name}");
        assert!(page.contains("<option value=\"青禾区人民政府\" selected>"), "{name}: 公开主体 selected");
        let mut edit = good.to_vec();
        edit[4] = ("level2", "执法检查结果");
        let (st, loc, _) = post(&rv, &s, &format!("/console/catalogue/{id}"), &edit).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(loc, format!("/console/catalogue/{id}?saved=1"));
        assert_eq!(cat::entry(&t.db, id).await.unwrap().level2, "执法检查结果", "{name}");
        // A linked entry cannot be deleted; an unlinked one can.
        let (st, _, page) =
            post(&rv, &s, &format!("/console/catalogue/{land}/delete"), &[("_csrf", csrf.as_str())]).await;
        assert_eq!(st, StatusCode::CONFLICT, "{name}");
        assert!(page.contains("已关联 1 条信息，不能删除"), "{name}");
        let (st, _, _) = post(&rv, &s, &format!("/console/catalogue/{id}/delete"), &[("_csrf", csrf.as_str())]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert!(cat::entry(&t.db, id).await.is_err(), "{name}: deleted");
    }
}

async fn item_form(c: &Client, s: &TestServer) -> String {
    let (st, page) = get(c, s, "/console/content/new").await;
    assert_eq!(st, StatusCode::OK);
    page
}

#[tokio::test]
async fn reference_lists_feed_the_item_form() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        setup(&t).await;
        let s = server(&t).await;
        testkit::user_with_role(&t.db, "xitong", Some(Role::SysAdmin)).await;
        testkit::user_with_role(&t.db, "bianji", Some(Role::Editor)).await;
        let (ad, csrf) = login(&s, "xitong").await;
        let (ed, _) = login(&s, "bianji").await;
        let add = "/console/reference/subjects/add";

        let (st, _, page) = post(&ad, &s, add, &[("_csrf", csrf.as_str()), ("code", "Bad-Code"), ("label", "")]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(page.contains("代码为 1–30 位小写字母") && page.contains("名称为 1–30 个字"), "{name}");
        assert!(page.contains("value=\"Bad-Code\""), "{name}: typed kept");
        let (st, loc, _) =
            post(&ad, &s, add, &[("_csrf", csrf.as_str()), ("code", "s_test"), ("label", "测试主题")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{name}");
        assert_eq!(loc, "/console/reference?kind=subjects&saved=1");
        assert!(item_form(&ed, &s).await.contains("<option value=\"s_test\">测试主题</option>"), "{name}");
        let (st, _, page) =
            post(&ad, &s, add, &[("_csrf", csrf.as_str()), ("code", "s_test"), ("label", "别的")]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("代码“s_test”已被“测试主题”使用"), "{name}");
        let (st, _, page) =
            post(&ad, &s, add, &[("_csrf", csrf.as_str()), ("code", "s_dup"), ("label", "综合政务")]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("已有名为“综合政务”的主题分类"), "{name}");

        // Rename: the new label in the item form, the old one gone.
        let rename = "/console/reference/subjects/rename";
        let (st, _, _) =
            post(&ad, &s, rename, &[("_csrf", csrf.as_str()), ("code", "s_test"), ("label", "改名主题")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let form = item_form(&ed, &s).await;
        assert!(form.contains(">改名主题</option>") && !form.contains("测试主题"), "{name}");
        let (st, _, page) =
            post(&ad, &s, rename, &[("_csrf", csrf.as_str()), ("code", "s_test"), ("label", " ")]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("id=\"e-label-s_test\""), "{name}: the message on that row's form");

        // Reorder: the new subject moves up one place, in the form too.
        let before = item_form(&ed, &s).await;
        let last_seed = format!("<option value=\"{}\">", gongkai_cms::model::SUBJECTS.last().unwrap().0);
        let last_seed = last_seed.as_str();
        assert!(before.find(last_seed).unwrap() < before.find("改名主题").unwrap());
        let mv = "/console/reference/subjects/move";
        let (st, _, _) = post(&ad, &s, mv, &[("_csrf", csrf.as_str()), ("code", "s_test"), ("direction", "up")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let after = item_form(&ed, &s).await;
        assert!(after.find("改名主题").unwrap() < after.find(last_seed).unwrap(), "{name}: moved up");

        // Disable: gone from the form, still listed (and re-enabled) on the reference page.
        let toggle = "/console/reference/subjects/toggle";
        let (st, _, _) = post(&ad, &s, toggle, &[("_csrf", csrf.as_str()), ("code", "s_test"), ("enabled", "0")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert!(!item_form(&ed, &s).await.contains("改名主题"), "{name}: disabled");
        let (_, page) = get(&ad, &s, "/console/reference?kind=subjects").await;
        assert!(page.contains("改名主题") && page.contains("已停用"), "{name}");
        let (st, _, _) = post(&ad, &s, toggle, &[("_csrf", csrf.as_str()), ("code", "s_test"), ("enabled", "1")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert!(item_form(&ed, &s).await.contains("改名主题"), "{name}: enabled again");

        // Classes: added to the class select; the interpretation class cannot be disabled.
        let (st, _, _) = post(
            &ad,
            &s,
            "/console/reference/classes/add",
            &[("_csrf", csrf.as_str()), ("code", "bidding"), ("label", "招标投标")],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert!(item_form(&ed, &s).await.contains("<option value=\"bidding\">招标投标</option>"), "{name}");
        let (st, _, page) = post(
            &ad,
            &s,
            "/console/reference/classes/toggle",
            &[("_csrf", csrf.as_str()), ("code", "interpretation"), ("enabled", "0")],
        )
        .await;
        assert_eq!(st, StatusCode::CONFLICT, "{name}");
        assert!(page.contains("不能停用"));
        let (st, _) = get(&ad, &s, "/console/reference?kind=nope").await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // Each change: one audit row and one outbox event.
        let mut h = t.db.read().await.unwrap();
        let (audited, events): (i64, i64) = with_conn!(&mut h.conn(), x => {
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM audit_log WHERE action LIKE 'reference.%'),
                        (SELECT COUNT(*) FROM outbox WHERE topic = 'reference.changed')",
            )
            .fetch_one(&mut **x).await
        })
        .unwrap();
        assert_eq!((audited, events), (6, 6), "{name}: add, rename, move, disable, enable, add");
    }
}

#[tokio::test]
async fn policies_missing_an_interpretation_are_reported() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = setup(&t).await;
        let s = server(&t).await;
        testkit::user_with_role(&t.db, "shenhe", Some(Role::Reviewer)).await;
        let (rv, _) = login(&s, "shenhe").await;
        let policy = item(&t, &w, "青禾区促进就业若干政策", "policy", true, "2026-01-05", true).await;
        item(&t, &w, "无须解读的通知", "policy", false, "2026-01-05", true).await;
        item(&t, &w, "尚在起草的政策", "policy", true, "2026-01-05", false).await;
        let (st, page) = get(&rv, &s, "/console/interpretations/missing").await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains(&format!("<a href=\"/console/content/{policy}\">青禾区促进就业若干政策</a>")), "{name}");
        assert!(!page.contains("无须解读的通知") && !page.contains("尚在起草的政策"), "{name}");
        assert!(page.contains("（1 件"), "{name}");
        let today = gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today());
        assert!(page.contains(&today), "{name}: published date");
        let mut h = t.db.read().await.unwrap();
        let org = gongkai_kernel::org::store::get(&mut h.conn(), w.org).await.unwrap().unwrap();
        drop(h);
        assert!(page.contains(&org.name), "{name}: publisher");
        // Once a published interpretation is linked the policy leaves the report.
        let interp = item(&t, &w, "一图读懂促进就业政策", "interpretation", false, "", false).await;
        cms::link_interpretation(&t.db, &w.editor, "ip", interp, policy).await.unwrap();
        let (_, page) = get(&rv, &s, "/console/interpretations/missing").await;
        assert!(page.contains("青禾区促进就业若干政策"), "{name}: a draft interpretation does not count");
        cms::submit(&t.db, &w.editor, "ip", interp, false).await.unwrap();
        cms::approve(&t.db, &w.reviewer, "ip", interp, None, "", "").await.unwrap();
        let (_, page) = get(&rv, &s, "/console/interpretations/missing").await;
        assert!(!page.contains("青禾区促进就业若干政策") && page.contains("没有缺少解读的政策文件"), "{name}");
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
async fn hostile_input_is_escaped_on_library_pages() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = setup(&t).await;
        let s = server(&t).await;
        testkit::user_with_role(&t.db, "bianji", Some(Role::Editor)).await;
        testkit::user_with_role(&t.db, "shenhe", Some(Role::Reviewer)).await;
        testkit::user_with_role(&t.db, "xitong", Some(Role::SysAdmin)).await;
        let (ed, ecsrf) = login(&s, "bianji").await;
        let (rv, rcsrf) = login(&s, "shenhe").await;
        let (ad, acsrf) = login(&s, "xitong").await;
        let site = w.site.to_string();
        let (mut topics_made, mut entries_made, mut labels_made) = (0, 0, 0);
        for (i, p) in gongkai_cms::html::XSS_PAYLOADS.iter().take(20).enumerate() {
            let what = format!("{name} payload {i}: {p:?}");
            // Topic name and introduction.
            let topic_name: String = p.chars().take(50).collect();
            let slug = format!("xss-{i}");
            let form = [
                ("_csrf", ecsrf.as_str()),
                ("site_id", site.as_str()),
                ("name", topic_name.as_str()),
                ("slug", slug.as_str()),
                ("opened_on", "2026-01-01"),
                ("intro", p),
            ];
            let (st, loc, page) = post(&ed, &s, "/console/topics", &form).await;
            assert!(st == StatusCode::SEE_OTHER || st == StatusCode::UNPROCESSABLE_ENTITY, "{what}: {st}");
            assert_no_live_markup(&page, &what);
            if st == StatusCode::SEE_OTHER {
                topics_made += 1;
                let (_, page) = get(&ed, &s, &loc).await;
                assert_no_live_markup(&page, &what);
                let (_, page) = get(&rv, &s, &loc).await;
                assert_no_live_markup(&page, &what);
            }
            // Catalogue fields through the entry form.
            let level1: String = p.chars().take(100).collect();
            let (seq, limit): (String, String) = (p.chars().take(30).collect(), p.chars().take(200).collect());
            let form = [
                ("_csrf", rcsrf.as_str()),
                ("domain", "d05"),
                ("seq", seq.as_str()),
                ("level1", level1.as_str()),
                ("level2", level1.as_str()),
                ("content", p),
                ("basis", p),
                ("time_limit", limit.as_str()),
                ("channels", "website"),
                ("audience", "all"),
                ("mode", "proactive"),
                ("tier", "county"),
            ];
            let (st, _, page) = post(&rv, &s, "/console/catalogue/new", &form).await;
            assert!(st == StatusCode::SEE_OTHER || st == StatusCode::UNPROCESSABLE_ENTITY, "{what}: {st}");
            assert_no_live_markup(&page, &what);
            if st == StatusCode::SEE_OTHER {
                entries_made += 1;
            }
            // Reference labels reach the item form.
            let label: String = p.chars().take(30).collect();
            let code = format!("x{i}");
            let form = [("_csrf", acsrf.as_str()), ("code", code.as_str()), ("label", label.as_str())];
            let (st, _, page) = post(&ad, &s, "/console/reference/subjects/add", &form).await;
            assert!(st == StatusCode::SEE_OTHER || st == StatusCode::UNPROCESSABLE_ENTITY, "{what}: {st}");
            assert_no_live_markup(&page, &what);
            if st == StatusCode::SEE_OTHER {
                labels_made += 1;
            }
        }
        assert!(
            topics_made >= 15 && entries_made >= 15 && labels_made >= 15,
            "{name}: {topics_made} {entries_made} {labels_made}"
        );
        // Import of hostile rows: the error report repeats what was typed.
        let hostile: Vec<[&str; 12]> = gongkai_cms::html::XSS_PAYLOADS
            .iter()
            .take(20)
            .map(|p| ["", *p, *p, *p, *p, *p, *p, *p, *p, *p, *p, *p])
            .collect();
        let (st, page) = upload(&rv, &s, &rcsrf, "hostile.csv", &csv(&hostile)).await;
        assert_eq!(st, StatusCode::OK, "{name}");
        assert!(page.contains("第 21 行"), "{name}: every row reported");
        assert_no_live_markup(&page, "import report");
        for (c, path) in [
            (&ed, format!("/console/topics?site={site}")),
            (&rv, "/console/catalogue".to_string()),
            (&ad, "/console/reference?kind=subjects".to_string()),
            (&ed, "/console/content/new".to_string()),
        ] {
            let (st, page) = get(c, &s, &path).await;
            assert_eq!(st, StatusCode::OK, "{name}: {path}");
            assert_no_live_markup(&page, &path);
        }
        let groups = cat::list_by_domain(&t.db).await.unwrap();
        for v in groups.iter().flat_map(|g| &g.2) {
            let (_, page) = get(&rv, &s, &format!("/console/catalogue/{}", v.entry.id)).await;
            assert_no_live_markup(&page, &v.entry.level1);
        }
    }
}
