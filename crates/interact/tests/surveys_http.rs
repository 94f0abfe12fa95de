//! 征集调查 over HTTP, on SQLite and PostgreSQL: the role × route matrix of the console
//! pages; the public questionnaire (captcha, field errors that keep the answers, the
//! signed cookie refusing a second vote, a replayed key, the results as SVG charts with
//! tables after closing, "征集已结束" after that); a solicitation's comment through
//! moderation; HTML in every text escaped; the export as CSV and XLSX (read back with
//! openpyxl when available); valid HTML (vnu) of every page.

use gongkai_interact::surveys::rules::Kind;
use gongkai_interact::surveys::service;
use gongkai_kernel::auth::{ALL_ROLES, Principal};
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestDb, TestServer, checkers};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;
use reqwest::{Client, StatusCode, redirect::Policy};
use time::Duration;

const QUESTIONS: &str = "1. [单选][必答] 您是否了解本次<b>改造</b>方案？\n- 了解\n- 不了解 -> 3\n2. [多选] 您最关心哪些内容？\n- 加装电梯\n- 停车位 -> 结束\n- 绿化\n3. [评分][必答] 您对方案的总体评价\n4. [填空] 其他意见和建议\n";
const XSS_TITLE: &str = "老旧小区改造<script>alert('t')</script>调查";

fn state(t: &TestDb) -> AppState {
    let state = AppState::with_slices(t.db.clone(), t.config(), gongkai_interact::slices());
    gongkai_interact::attach(state)
}

fn public_client(addr: &str) -> Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("x-real-ip", addr.parse().unwrap());
    Client::builder().cookie_store(true).redirect(Policy::none()).default_headers(h).build().unwrap()
}

async fn login(s: &TestServer, username: &str) -> (Client, String) {
    let c = Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
    // Users made by the test have the test password; the demo's users the demo's.
    let password = if username.starts_with("u_") { TEST_PASSWORD } else { gongkai_kernel::demo::DEMO_PASSWORD };
    let r = c.post(s.url("/login")).form(&[("username", username), ("password", password)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {username}");
    let page = c.get(s.url("/console/password")).send().await.unwrap().text().await.unwrap();
    let i = page.find("name=\"_csrf\" value=\"").unwrap() + 20;
    (c, page[i..i + 32].to_string())
}

async fn id_of(t: &TestDb, sql: &'static str, name: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).bind(name).fetch_one(&mut **x).await).unwrap()
}

async fn scalar(t: &TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

async fn who(t: &TestDb, username: &str) -> Principal {
    let id = id_of(t, "SELECT id FROM users WHERE username = $1", username).await;
    testkit::principal(&t.db, id).await
}

fn input_value(page: &str, name: &str) -> String {
    let key = format!("name=\"{name}\"");
    let i = page.find(&key).unwrap_or_else(|| panic!("no input {name} in {page}")) + key.len();
    let tag = &page[i..i + page[i..].find('>').unwrap()];
    let v = tag.find("value=\"").unwrap_or_else(|| panic!("input {name} has no value: {tag}")) + 7;
    tag[v..].split('"').next().unwrap().to_string()
}

fn solve(page: &str) -> String {
    let open = "<label for=\"f-answer\">";
    let i = page.find(open).unwrap_or_else(|| panic!("no captcha in {page}")) + open.len();
    let q: Vec<char> = page[i..].chars().take(3).collect();
    let digit = |c: char| "一二三四五六七八九".chars().position(|d| d == c).map(|p| p as u32 + 1).unwrap();
    let (a, b) = (digit(q[0]), digit(q[2]));
    (if q[1] == '加' { a + b } else { a - b }).to_string()
}

/// A published survey made through the service: (site id, survey id).
async fn published(t: &TestDb, kind: Kind, title: &str, questions: Option<&str>) -> i64 {
    let site = id_of(t, "SELECT id FROM sites WHERE code = $1", "www").await;
    let org = id_of(t, "SELECT id FROM orgs WHERE name = $1", "青禾区政务公开和大数据中心").await;
    let today = gongkai_kernel::clock::today();
    let f = service::SurveyForm {
        site_id: site.to_string(),
        org_id: org.to_string(),
        kind: kind.as_str().into(),
        title: title.into(),
        description: "说明<i>斜体</i>".into(),
        body: if kind == Kind::Solicitation { "第一条 <iframe src=x></iframe>正文".into() } else { String::new() },
        opens_on: gongkai_kernel::clock::fmt_date(today),
        closes_on: gongkai_kernel::clock::fmt_date(today + Duration::days(10)),
        version: String::new(),
    };
    let (editor, reviewer) = (who(t, "editor").await, who(t, "reviewer").await);
    let id = service::create(&t.db, &editor, "127.0.0.1", &f).await.unwrap();
    if let Some(q) = questions {
        let v = service::load(&t.db, id).await.unwrap().row.version.to_string();
        service::save_questions(&t.db, &editor, "127.0.0.1", id, q, &v).await.unwrap();
    }
    service::publish(&t.db, &reviewer, "127.0.0.1", id, today).await.unwrap();
    id
}

fn expected(method: &str, path: &str) -> &'static [&'static str] {
    const VIEW: &[&str] = &["editor", "reviewer", "leader"];
    match (method, path) {
        ("get", "/console/surveys/new") => &["editor"],
        ("get", _) => VIEW,
        ("post", p) if p.ends_with("/publish") || p.ends_with("/close") || p.ends_with("/feedback") => &["reviewer"],
        ("post", _) => &["editor"],
        (m, p) => panic!("surveys route {m} {p} has no expectation: add one"),
    }
}

#[tokio::test]
async fn surveys_role_route_matrix() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let s = TestServer::start_state(state(&t)).await;
        let id = published(&t, Kind::Questionnaire, "矩阵测试问卷", Some(QUESTIONS)).await;
        for r in ALL_ROLES {
            testkit::user_with_role(&t.db, &format!("u_{}", r.as_str()), Some(r)).await;
        }
        for role in ALL_ROLES {
            let (c, csrf) = login(&s, &format!("u_{}", role.as_str())).await;
            for route in gongkai_interact::surveys::web::ROUTES {
                let path = route.path.replace("{id}", &id.to_string()).replace("{fid}", "1").replace("{cid}", "1");
                let resp = if route.method == "get" {
                    c.get(s.url(&path)).send().await.unwrap()
                } else if path.ends_with("/files") {
                    let boundary = "----svy-matrix";
                    let body = format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n--{boundary}--\r\n"
                    );
                    c.post(s.url(&path))
                        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                        .body(body)
                        .send()
                        .await
                        .unwrap()
                } else {
                    c.post(s.url(&path)).form(&[("_csrf", csrf.as_str())]).send().await.unwrap()
                };
                let allowed = expected(route.method, route.path).contains(&role.as_str());
                let status = resp.status();
                if allowed {
                    assert_ne!(status, StatusCode::FORBIDDEN, "{b}: {} {path} for {role:?}", route.method);
                    assert!(status.as_u16() < 500, "{b}: {} {path} for {role:?}: {status}", route.method);
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {} {path} for {role:?}", route.method);
                }
            }
        }
        // The posts carried no data: only closing (which needs none) took effect.
        let sv = service::load(&t.db, id).await.unwrap();
        assert_eq!((sv.row.state.as_str(), sv.row.closed_at.is_some()), ("published", true), "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM svy_responses").await, 0, "{b}");
    }
}

#[tokio::test]
async fn public_questionnaire_vote_cookie_and_results() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let s = TestServer::start_state(state(&t)).await;
        let id = published(&t, Kind::Questionnaire, XSS_TITLE, Some(QUESTIONS)).await;
        let url = s.url(&format!("/hudong/www/zhengji/{id}"));
        let c = public_client(if b == "sqlite" { "198.51.100.20" } else { "198.51.100.21" });
        let mut pages: Vec<(String, String)> = Vec::new();

        let list = c.get(s.url("/hudong/www/zhengji")).send().await.unwrap();
        assert_eq!(list.status(), StatusCode::OK, "{b}");
        let list = list.text().await.unwrap();
        assert!(list.contains("老旧小区改造&lt;script&gt;") && !list.contains("<script>alert"), "{b}: {list}");
        assert!(list.contains("正在进行"), "{b}");
        pages.push(("list".into(), list));
        assert_eq!(c.get(s.url("/hudong/nosuch/zhengji")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        assert_eq!(
            c.get(s.url("/hudong/jyj/zhengji/1")).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "another site's survey"
        );

        let page = c.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(
            page.contains("您是否了解本次&lt;b&gt;改造&lt;&#x2f;b&gt;方案") && !page.contains("<b>改造"),
            "{b}: {page}"
        );
        assert!(page.contains("选此项请跳至第3题"), "{b}: the skip is explained");
        pages.push(("form".into(), page.clone()));
        let (idem, token, answer) = (input_value(&page, "idem"), input_value(&page, "token"), solve(&page));
        let vote = |extra: &[(&str, &str)], idem: &str, token: &str, answer: &str| {
            let mut f: Vec<(String, String)> =
                vec![("idem".into(), idem.into()), ("token".into(), token.into()), ("answer".into(), answer.into())];
            f.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            f
        };
        // Q3 missing: 422, the message at Q3, Q1's choice kept, nothing stored.
        let r = c
            .post(format!("{url}/vote"))
            .form(&vote(&[("q1", "0"), ("q2", "0")], &idem, &token, &answer))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let again = r.text().await.unwrap();
        assert!(again.contains("id=\"e-q3\">此题为必答题") || again.contains("请按提示修改"), "{b}: {again}");
        assert!(again.contains("id=\"f-q1-0\" name=\"q1\" value=\"0\" checked"), "{b}: the choice stays");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM svy_responses").await, 0, "{b}");
        pages.push(("form with errors".into(), again.clone()));

        // A valid response: "已提交" and the cookie.
        let (token, answer) = (input_value(&again, "token"), solve(&again));
        let body = vote(
            &[("q1", "0"), ("q2", "0"), ("q2", "2"), ("q3", "4"), ("q4", "<script>alert(2)</script>")],
            &idem,
            &token,
            &answer,
        );
        let r = c.post(format!("{url}/vote")).form(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        let cookie = r.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert!(cookie.starts_with("gk_svy=") && cookie.contains("HttpOnly"), "{b}: {cookie}");
        let done = r.text().await.unwrap();
        assert!(done.contains("<h1>已提交</h1>"), "{b}: {done}");
        pages.push(("thanks".into(), done));
        // The same submission again: the same answer, nothing new.
        let r = c.post(format!("{url}/vote")).form(&body).send().await.unwrap();
        assert!(r.text().await.unwrap().contains("之前已经提交过"), "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM svy_responses").await, 1, "{b}");

        // With the cookie: no form, and a second vote is refused with a clear message.
        let page = c.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("您已参与过本次问卷调查") && !page.contains("name=\"q1\""), "{b}");
        let second = vote(&[("q1", "1"), ("q3", "2")], "second-vote-key-0001", &token, &answer);
        let r = c.post(format!("{url}/vote")).form(&second).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT, "{b}");
        assert!(r.text().await.unwrap().contains(service::MSG_VOTED), "{b}");
        // A forged cookie counts for nothing: another person votes normally.
        let other = public_client(if b == "sqlite" { "198.51.100.22" } else { "198.51.100.23" });
        let page =
            other.get(&url).header("cookie", "gk_svy=00000000000000000000000000000000.abc").send().await.unwrap();
        let page = page.text().await.unwrap();
        let body =
            vote(&[("q1", "1"), ("q3", "2")], &input_value(&page, "idem"), &input_value(&page, "token"), &solve(&page));
        let r = other
            .post(format!("{url}/vote"))
            .header("cookie", "gk_svy=00000000000000000000000000000000.abc")
            .form(&body);
        assert_eq!(r.send().await.unwrap().status(), StatusCode::OK, "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM svy_responses").await, 2, "{b}");

        // Closed: the results with charts and tables; voting is refused.
        let reviewer = who(&t, "reviewer").await;
        service::close(&t.db, &reviewer, "127.0.0.1", id, gongkai_kernel::clock::today()).await.unwrap();
        let r = c
            .post(format!("{url}/vote"))
            .form(&vote(&[("q1", "0"), ("q3", "3")], "late-vote-key-000001", &token, &answer))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT, "{b}");
        assert!(r.text().await.unwrap().contains("征集已结束"), "{b}");
        let results = c.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(!results.contains("name=\"q1\""), "{b}: no form after closing");
        assert_eq!(
            results.matches("<svg class=\"svy-chart\"").count(),
            3,
            "{b}: one chart per choice and rating question"
        );
        assert!(results.contains("role=\"img\"") && results.contains("<title id="), "{b}");
        assert!(
            results.contains("aria-label=\"第1题统计图：了解 1人（50.0%）；不了解 1人（50.0%）\""),
            "{b}: {results}"
        );
        assert_eq!(results.matches("<table class=\"svy-table\">").count(), 3, "{b}");
        assert!(results.contains("<th scope=\"row\">加装电梯</th><td>1</td><td>100.0%</td>"), "{b}");
        assert!(!results.contains("alert(2)"), "{b}: free-text answers are not published");
        pages.push(("results".into(), results));
        checkers::assert_valid_html(&pages);
    }
}

#[tokio::test]
async fn solicitation_comment_is_moderated_and_escaped() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let s = TestServer::start_state(state(&t)).await;
        let id = published(&t, Kind::Solicitation, "《停车管理办法》<img src=x>征求意见", None).await;
        let url = s.url(&format!("/hudong/www/zhengji/{id}"));
        let c = public_client(if b == "sqlite" { "198.51.100.30" } else { "198.51.100.31" });
        let page = c.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("&lt;iframe src=x&gt;&lt;&#x2f;iframe&gt;正文") && !page.contains("<iframe"), "{b}");
        let (idem, token, answer) = (input_value(&page, "idem"), input_value(&page, "token"), solve(&page));
        let comment = [
            ("name", "王先生"),
            ("contact", "13900002222"),
            ("body", "建议<script>alert(3)</script>延长夜间停车时间"),
            ("idem", &idem),
            ("token", &token),
        ];
        // A wrong captcha: 422, what was typed kept, nothing stored.
        let wrong = (answer.parse::<u32>().unwrap() + 1).to_string();
        let mut f: Vec<(&str, &str)> = comment.to_vec();
        f.push(("answer", &wrong));
        let r = c.post(format!("{url}/comment")).form(&f).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let again = r.text().await.unwrap();
        assert!(again.contains("验证答案不正确") && again.contains("延长夜间停车时间"), "{b}");
        assert!(!again.contains("<script>alert(3)"), "{b}: typed text is escaped too");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM svy_comments").await, 0, "{b}");
        let (token2, answer2) = (input_value(&again, "token"), solve(&again));
        let mut f: Vec<(&str, &str)> = comment.to_vec();
        f[4] = ("token", &token2);
        f.push(("answer", &answer2));
        let r = c.post(format!("{url}/comment")).form(&f).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        assert!(r.text().await.unwrap().contains("<h1>已提交</h1>"), "{b}");
        let r = c.post(format!("{url}/comment")).form(&f).send().await.unwrap();
        assert!(r.text().await.unwrap().contains("之前已经提交过"), "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM svy_comments").await, 1, "{b}");
        // Pending: not public yet.
        assert!(!c.get(&url).send().await.unwrap().text().await.unwrap().contains("延长夜间停车时间"), "{b}");

        // The editor approves it in the console.
        let (ed, csrf) = login(&s, "editor").await;
        let console = ed.get(s.url(&format!("/console/surveys/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(console.contains("13900002222") && console.contains("待审核"), "{b}");
        assert!(console.contains("建议&lt;script&gt;alert(3)&lt;&#x2f;script&gt;"), "{b}");
        let cid = id_of(&t, "SELECT id FROM svy_comments WHERE name = $1", "王先生").await;
        let r = ed
            .post(s.url(&format!("/console/surveys/{id}/comments/{cid}/approve")))
            .form(&[("_csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{b}");
        let public = c.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(public.contains("建议&lt;script&gt;alert(3)&lt;&#x2f;script&gt;延长夜间停车时间"), "{b}");
        assert!(public.contains("王先生") && !public.contains("13900002222"), "{b}: the contact is never public");
        let list = ed.get(s.url("/console/surveys")).send().await.unwrap().text().await.unwrap();
        assert!(list.contains("《停车管理办法》&lt;img src=x&gt;征求意见"), "{b}");
        let mut pages = vec![("public solicitation".to_string(), public), ("console list".to_string(), list)];
        pages.push((
            "console detail".into(),
            ed.get(s.url(&format!("/console/surveys/{id}"))).send().await.unwrap().text().await.unwrap(),
        ));
        pages.push((
            "console new".into(),
            ed.get(s.url("/console/surveys/new")).send().await.unwrap().text().await.unwrap(),
        ));
        checkers::assert_valid_html(&pages);
    }
}

#[tokio::test]
async fn export_responses_as_csv_and_xlsx() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let s = TestServer::start_state(state(&t)).await;
        let id = published(&t, Kind::Questionnaire, "导出测试问卷", Some(QUESTIONS)).await;
        let today = gongkai_kernel::clock::today();
        let answers = [
            vec![("q1", "0"), ("q2", "0"), ("q2", "2"), ("q3", "5"), ("q4", "=HYPERLINK(\"http://x\"),多建“停车场”")],
            vec![("q1", "1"), ("q3", "2")],
        ];
        for (i, a) in answers.iter().enumerate() {
            let posted: Vec<(String, String)> = a.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            service::vote(&t.db, id, &posted, &format!("export-key-{i:010}"), &format!("v{i}"), "127.0.0.1", today)
                .await
                .unwrap();
        }
        let (ed, _) = login(&s, "editor").await;
        let r = ed.get(s.url(&format!("/console/surveys/{id}/export.csv"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        assert!(r.headers()["content-disposition"].to_str().unwrap().contains("attachment"), "{b}");
        let csv = String::from_utf8(r.bytes().await.unwrap().to_vec()).unwrap();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "\u{feff}序号,提交时间,1. 您是否了解本次<b>改造</b>方案？,2. 您最关心哪些内容？,3. 您对方案的总体评价（1–5分）,4. 其他意见和建议",
            "{b}"
        );
        assert!(
            lines[1].starts_with("1,")
                && lines[1].ends_with(",了解,加装电梯；绿化,5,\"'=HYPERLINK(\"\"http://x\"\"),多建“停车场”\""),
            "{b}: {}",
            lines[1]
        );
        assert!(lines[2].ends_with(",不了解,,2,"), "{b}: skipped and unanswered are empty: {}", lines[2]);

        let r = ed.get(s.url(&format!("/console/surveys/{id}/export.xlsx"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        let xlsx = r.bytes().await.unwrap();
        assert!(xlsx.starts_with(b"PK"), "{b}");
        if let Some(py) = checkers::python() {
            let file = t.dir.join("export.xlsx");
            std::fs::write(&file, &xlsx).unwrap();
            let script = "import sys, json, openpyxl\nws = openpyxl.load_workbook(sys.argv[1]).active\nprint(json.dumps({'title': ws.title, 'rows': [[c if c is not None else '' for c in r] for r in ws.iter_rows(values_only=True)], 'widths': {k: v.width for k, v in ws.column_dimensions.items()}, 'freeze': ws.freeze_panes}, ensure_ascii=False))";
            let out = std::process::Command::new(py).arg("-c").arg(script).arg(&file).output().unwrap();
            if out.status.success() {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(v["title"], "答卷", "{b}");
                assert_eq!(v["rows"][0][2], "1. 您是否了解本次<b>改造</b>方案？", "{b}");
                assert_eq!(v["rows"][1][3], "加装电梯；绿化", "{b}");
                assert_eq!(v["rows"][1][5], "=HYPERLINK(\"http://x\"),多建“停车场”", "{b}: text, not a formula");
                assert_eq!(
                    v["rows"][2].as_array().unwrap()[2..].to_vec(),
                    vec![
                        serde_json::json!("不了解"),
                        serde_json::json!(""),
                        serde_json::json!("2"),
                        serde_json::json!("")
                    ],
                    "{b}"
                );
                assert_eq!(v["freeze"], "A2", "{b}");
                let w = v["widths"]["C"].as_f64().unwrap();
                assert!(w >= 30.0, "{b}: the Chinese header fits: {w}");
            } else if checkers::required() {
                panic!("openpyxl: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
        // A solicitation has nothing to export.
        let sol = published(&t, Kind::Solicitation, "无答卷", None).await;
        let r = ed.get(s.url(&format!("/console/surveys/{sol}/export.csv"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{b}");
    }
}
