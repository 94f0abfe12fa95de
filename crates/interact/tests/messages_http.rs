//! Messages over HTTP, on SQLite and PostgreSQL: the public form (captcha, a double submit
//! creating one message, a forged captcha storing nothing, field errors keeping what was
//! typed, HTML escaped), tracking with a wrong and the right password, rating and follow-up,
//! the console steps through their pages, and the public list showing only published,
//! masked replies.

use gongkai_kernel::auth::Role;
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestDb, TestServer};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;
use reqwest::{Client, StatusCode, redirect::Policy};

fn client() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

async fn server(t: &TestDb) -> TestServer {
    let state = AppState::with_slices(t.db.clone(), t.config(), gongkai_interact::slices());
    TestServer::start_state(gongkai_interact::attach(state)).await
}

async fn login(s: &TestServer, username: &str) -> (Client, String) {
    let c = client();
    let r = c.post(s.url("/login")).form(&[("username", username), ("password", TEST_PASSWORD)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {username}");
    let page = c.get(s.url("/console/password")).send().await.unwrap().text().await.unwrap();
    let i = page.find("name=\"_csrf\" value=\"").unwrap() + 20;
    (c, page[i..i + 32].to_string())
}

async fn staff(t: &TestDb, name: &str, role: Role, org: Option<i64>, site: Option<i64>) {
    let id = testkit::user_with_role(&t.db, name, None).await;
    let actor = gongkai_kernel::audit::Actor::system("test");
    gongkai_kernel::auth::service::grant(&t.db, None, &actor, id, role, org, site).await.unwrap();
}

async fn scalar(t: &TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

async fn id_of(t: &TestDb, sql: &'static str, key: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).bind(key).fetch_one(&mut **x).await).unwrap()
}

fn input_value(page: &str, name: &str) -> String {
    let key = format!("name=\"{name}\"");
    let i = page.find(&key).unwrap_or_else(|| panic!("no input {name} in {page}")) + key.len();
    let tag = &page[i..i + page[i..].find('>').unwrap()];
    let v = tag.find("value=\"").unwrap_or_else(|| panic!("input {name} has no value: {tag}")) + 7;
    tag[v..].split('"').next().unwrap().to_string()
}

fn text_after(page: &str, open: &str) -> String {
    let i = page.find(open).unwrap_or_else(|| panic!("{open} not in {page}")) + open.len();
    page[i..].split('<').next().unwrap().trim().to_string()
}

fn solve(question: &str) -> u32 {
    let digit = |c: char| "一二三四五六七八九".chars().position(|d| d == c).map(|p| p as u32 + 1);
    let c: Vec<char> = question.chars().collect();
    let (a, b) = (digit(c[0]).unwrap(), digit(c[2]).unwrap());
    if c[1] == '加' { a + b } else { a - b }
}

/// A fresh form: (idem, token, answer).
async fn open_form(c: &Client, s: &TestServer, site: &str) -> (String, String, u32) {
    let r = c.get(s.url(&format!("/hudong/{site}/liuyan/new"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("领导信箱"), "the leader mailbox is offered");
    let question = text_after(&page, "<label for=\"f-answer\">");
    (input_value(&page, "idem"), input_value(&page, "token"), solve(&question))
}

fn message(org: &str, agree: bool) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("kind", "complain".to_string()),
        ("addressee", org.to_string()),
        ("title", "<script>alert(1)</script>学校门口交通拥堵".to_string()),
        ("content", "我叫李小红，每天早上东湖小学门口堵车，电话13912345678，请增派交警。".to_string()),
        ("name", "李小红".to_string()),
        ("phone", "13912345678".to_string()),
        ("email", "lixh@example.cn".to_string()),
    ];
    if agree {
        v.push(("agree", "1".to_string()));
    }
    v
}

fn guarded(mut f: Vec<(&'static str, String)>, idem: &str, token: &str, answer: &str) -> Vec<(&'static str, String)> {
    f.push(("idem", idem.into()));
    f.push(("token", token.into()));
    f.push(("answer", answer.into()));
    f
}

#[tokio::test]
async fn the_public_form_tracking_and_the_console() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let s = server(&t).await;
        let www = id_of(&t, "SELECT id FROM sites WHERE code = $1", "www").await;
        let jyj = id_of(&t, "SELECT id FROM orgs WHERE short_name = $1", "区教育局").await;
        let c = client();

        // Unknown site: 404.
        assert_eq!(c.get(s.url("/hudong/nosuch/liuyan/new")).send().await.unwrap().status(), StatusCode::NOT_FOUND);

        // A forged captcha: the form again, nothing stored.
        let (idem, token, answer) = open_form(&c, &s, "www").await;
        let r = c
            .post(s.url("/hudong/www/liuyan/new"))
            .form(&guarded(message(&jyj.to_string(), true), &idem, &token, &(answer + 1).to_string()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let page = r.text().await.unwrap();
        assert!(page.contains("验证答案不正确"), "{page}");
        assert!(page.contains("value=\"李小红\""), "what was typed is kept");
        let r = c
            .post(s.url("/hudong/www/liuyan/new"))
            .form(&guarded(message(&jyj.to_string(), true), &idem, "00ff", "3"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM msg_messages").await, 0, "{b}");

        // Field errors.
        let (idem, token, answer) = open_form(&c, &s, "www").await;
        let mut bad = message(&jyj.to_string(), true);
        bad.retain(|(k, _)| *k != "phone" && *k != "title");
        bad.push(("phone", "12345".into()));
        bad.push(("title", "".into()));
        let r = c
            .post(s.url("/hudong/www/liuyan/new"))
            .form(&guarded(bad, &idem, &token, &answer.to_string()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.unwrap();
        assert!(page.contains("请填写留言标题") && page.contains("联系电话格式不正确"), "{page}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM msg_messages").await, 0);

        // A good submission, then the same one again (a double click): one message, same code.
        let (idem, token, answer) = open_form(&c, &s, "www").await;
        let form = guarded(message(&jyj.to_string(), true), &idem, &token, &answer.to_string());
        let r = c.post(s.url("/hudong/www/liuyan/new")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        let page = r.text().await.unwrap();
        let code = text_after(&page, "<strong class=\"msg-code\">");
        let password = text_after(&page, "<strong class=\"msg-password\">");
        assert!(code.starts_with("LY") && code.len() == 17, "{code}");
        assert_eq!(password.len(), 8);
        assert!(page.contains("&lt;script&gt;") && !page.contains("<script>alert"), "escaped");
        let again = c.post(s.url("/hudong/www/liuyan/new")).form(&form).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::OK);
        let page = again.text().await.unwrap();
        assert!(page.contains("已提交过"));
        assert_eq!(text_after(&page, "<strong class=\"msg-code\">"), code);
        assert_eq!(text_after(&page, "<strong class=\"msg-password\">"), password);
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM msg_messages").await, 1, "{b}");

        // Tracking: a wrong password is refused, the right one shows the state.
        assert_eq!(c.get(s.url("/hudong/liuyan/track")).send().await.unwrap().status(), StatusCode::OK);
        let r = c
            .post(s.url("/hudong/liuyan/track"))
            .form(&[("code", code.as_str()), ("password", "WRONGPWD")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("查询码或查询密码不正确"));
        let lower = code.to_lowercase();
        let r = c
            .post(s.url("/hudong/liuyan/track"))
            .form(&[("code", lower.as_str()), ("password", password.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        let page = r.text().await.unwrap();
        assert_eq!(text_after(&page, "<strong class=\"msg-state\">"), "待受理");
        assert!(!page.contains("提交评价"), "nothing to rate yet");

        // Staff through the console pages: desk accepts and assigns, the handler replies,
        // the desk reviews, sends and publishes.
        staff(&t, "desk", Role::Reviewer, None, Some(www)).await;
        staff(&t, "jyjhandler", Role::Handler, Some(jyj), None).await;
        let id = id_of(&t, "SELECT id FROM msg_messages WHERE code = $1", &code).await;
        let (desk, dcsrf) = login(&s, "desk").await;
        let (hand, hcsrf) = login(&s, "jyjhandler").await;
        let list = desk.get(s.url("/console/messages")).send().await.unwrap().text().await.unwrap();
        assert!(list.contains(&code), "the desk's worklist");
        let post = |who: &Client, csrf: &str, step: &str, extra: Vec<(&str, String)>| {
            let mut f = vec![("_csrf", csrf.to_string())];
            f.extend(extra);
            who.post(s.url(&format!("/console/messages/{id}/{step}"))).form(&f).send()
        };
        let r = post(&desk, &dcsrf, "accept", vec![]).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{b}");
        let detail = desk.get(s.url(&format!("/console/messages/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(detail.contains("自") && detail.contains("的次日起算5个工作日"), "the explanation: {detail}");
        // The handler cannot accept (already done) nor assign before the desk did.
        let r = post(&hand, &hcsrf, "reply", vec![("reply", "x".into())]).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{b}");
        let r = post(&desk, &dcsrf, "assign", vec![("org_id", "".into())]).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("请选择承办单位"));
        assert_eq!(
            post(&desk, &dcsrf, "assign", vec![("org_id", jyj.to_string())]).await.unwrap().status(),
            StatusCode::SEE_OTHER
        );
        let r = post(
            &hand,
            &hcsrf,
            "reply",
            vec![("reply", "李小红您好：已协调交警早高峰执勤，详询0571-88001000。".into())],
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{b}");
        let r =
            post(&desk, &dcsrf, "review", vec![("decision", "approve".into()), ("publish", "1".into())]).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(post(&desk, &dcsrf, "send", vec![]).await.unwrap().status(), StatusCode::SEE_OTHER);
        // Sent, not yet published: the public list is empty.
        let page = c.get(s.url("/hudong/www/liuyan")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("共 0 条"), "{b}");
        assert_eq!(
            c.get(s.url(&format!("/hudong/www/liuyan/{id}"))).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(post(&desk, &dcsrf, "publish", vec![]).await.unwrap().status(), StatusCode::SEE_OTHER);

        // The public list and page: masked.
        let page = c.get(s.url("/hudong/www/liuyan?q=交警")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("共 1 条") && page.contains(&format!("/hudong/www/liuyan/{id}")), "{page}");
        let none = c.get(s.url("/hudong/www/liuyan?q=李小红")).send().await.unwrap().text().await.unwrap();
        assert!(none.contains("共 0 条"), "the name is not searchable");
        let other = c.get(s.url("/hudong/jyj/liuyan")).send().await.unwrap().text().await.unwrap();
        assert!(other.contains("共 0 条"), "another site's list");
        let page = c.get(s.url(&format!("/hudong/www/liuyan/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("李**") && page.contains("139****5678") && page.contains("0571-****1000"), "{page}");
        assert!(!page.contains("李小红") && !page.contains("13912345678") && !page.contains("lixh@"), "{page}");
        assert!(page.contains("&lt;script&gt;"));
        assert_eq!(
            c.get(s.url(&format!("/hudong/jyj/liuyan/{id}"))).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );

        // The writer sees the reply, rates once, follows up once.
        let r = c
            .post(s.url("/hudong/liuyan/track"))
            .form(&[("code", code.as_str()), ("password", password.as_str())])
            .send()
            .await
            .unwrap();
        let page = r.text().await.unwrap();
        assert_eq!(text_after(&page, "<strong class=\"msg-state\">"), "已答复并公开");
        assert!(page.contains("已协调交警早高峰执勤"));
        let tok = input_value(&page, "t");
        let r = c
            .post(s.url("/hudong/liuyan/track/rate"))
            .form(&[("t", tok.as_str()), ("rating", "satisfied")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        assert!(r.text().await.unwrap().contains("感谢您的评价"));
        let r = c
            .post(s.url("/hudong/liuyan/track/rate"))
            .form(&[("t", tok.as_str()), ("rating", "basic")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let r = c
            .post(s.url("/hudong/liuyan/track/rate"))
            .form(&[("t", "1.9999999999999.00"), ("rating", "basic")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "a forged page token");
        let r = c
            .post(s.url("/hudong/liuyan/track/followup"))
            .form(&[("t", tok.as_str()), ("followup", "请问何时开始？")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = c
            .post(s.url("/hudong/liuyan/track/followup"))
            .form(&[("t", tok.as_str()), ("followup", "再问")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);

        // Console pages render for the roles that use them.
        for path in ["/console/messages/stats", "/console/messages?state=published"] {
            assert_eq!(desk.get(s.url(path)).send().await.unwrap().status(), StatusCode::OK, "{path}");
        }
        staff(&t, "admin", Role::SysAdmin, None, None).await;
        staff(&t, "super", Role::Supervisor, None, None).await;
        let (admin, _) = login(&s, "admin").await;
        assert_eq!(admin.get(s.url("/console/messages/settings")).send().await.unwrap().status(), StatusCode::OK);
        assert_eq!(desk.get(s.url("/console/messages/settings")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        let (sup, _) = login(&s, "super").await;
        assert_eq!(sup.get(s.url("/console/messages/supervision")).send().await.unwrap().status(), StatusCode::OK);
        let stats = sup.get(s.url("/console/messages/stats")).send().await.unwrap().text().await.unwrap();
        assert!(stats.contains("合计"), "{stats}");
        // The per-organisation table names the handling organisation with its reply.
        let by_org = stats.split("按办理单位").nth(1).unwrap_or_default();
        assert!(
            by_org.contains("<th scope=\"row\">青禾区教育局</th><td>1</td><td>1</td><td>0</td><td>1</td>"),
            "{by_org}"
        );
    }
}

#[tokio::test]
async fn tracking_look_ups_are_limited() {
    let t = testkit::sqlite().await;
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    let s = server(&t).await;
    let c = client();
    let mut last = StatusCode::OK;
    for _ in 0..=gongkai_interact::public::LOOKUPS_PER_HOUR {
        last = c
            .post(s.url("/hudong/liuyan/track"))
            .form(&[("code", "LY20250101-AAAAAA"), ("password", "GUESS123")])
            .send()
            .await
            .unwrap()
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

/// Concurrent submissions go through the group commit: each acknowledged one is stored
/// once with its timeline entry, a key submitted several times at once creates one
/// message and every answer names it, a bad submission among them gets its own errors,
/// and the audit chain stays intact.
#[tokio::test]
async fn concurrent_submissions_are_stored_once() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        // The per-address limit raised: every request comes from 127.0.0.1.
        let mut cfg = t.config();
        cfg.limits.public_submissions_per_hour = 1000;
        let state = AppState::with_slices(t.db.clone(), cfg, gongkai_interact::slices());
        let s = TestServer::start_state(gongkai_interact::attach(state)).await;
        let jyj = id_of(&t, "SELECT id FROM orgs WHERE short_name = $1", "区教育局").await;
        let c = client();
        let (_, token, answer) = open_form(&c, &s, "www").await;
        let mut tasks = Vec::new();
        for i in 0..36 {
            // 30 different keys, then the same key six times; one bad phone among them.
            let idem = if i < 30 { format!("burst-{b}-{i:04}-abcdefgh") } else { format!("burst-{b}-same-abcdefgh") };
            let mut f = message(&jyj.to_string(), false);
            if i == 7 {
                f.retain(|(k, _)| *k != "phone");
                f.push(("phone", "12345".into()));
            }
            let form = guarded(f, &idem, &token, &answer.to_string());
            let (c, url) = (c.clone(), s.url("/hudong/www/liuyan/new"));
            tasks.push(tokio::spawn(async move {
                let r = c.post(url).form(&form).send().await.unwrap();
                (r.status(), r.text().await.unwrap())
            }));
        }
        let mut codes = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            let (status, page) = task.await.unwrap();
            if i == 7 {
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
                assert!(page.contains("联系电话格式不正确"), "{b}: {page}");
                continue;
            }
            assert_eq!(status, StatusCode::OK, "{b} #{i}: {page}");
            codes.push(text_after(&page, "<strong class=\"msg-code\">"));
        }
        let same: std::collections::BTreeSet<&String> = codes[29..].iter().collect();
        assert_eq!(same.len(), 1, "{b}: one message for the repeated key: {same:?}");
        let all: std::collections::BTreeSet<&String> = codes.iter().collect();
        assert_eq!(all.len(), 30, "{b}: 29 good keys and the repeated one");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM msg_messages").await, 30, "{b}");
        assert_eq!(
            scalar(&t, "SELECT COUNT(*) FROM msg_events WHERE kind = 'submitted'").await,
            30,
            "{b}: one timeline entry each"
        );
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'msg.submitted'").await, 30, "{b}");
        let verdict = gongkai_kernel::audit::verify(&t.db).await.unwrap();
        assert!(matches!(verdict, gongkai_kernel::audit::Verdict::Intact { .. }), "{b}: {verdict:?}");
    }
}
