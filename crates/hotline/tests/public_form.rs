//! The portal's 12345 web form over HTTP, on SQLite and PostgreSQL: a forged captcha and
//! field errors store nothing and keep what was typed, HTML in the content is refused, a
//! solved form creates one web order and a double submit with the same key no second one,
//! and tracking shows the state, the public timeline and the answer to the right phone
//! number only, never the caller's name.

use gongkai_hotline::store;
use gongkai_kernel::auth::Role;
use gongkai_kernel::testkit::{self, TestDb, TestServer};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;
use reqwest::{Client, StatusCode, redirect::Policy};

fn client() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

async fn server(t: &TestDb) -> TestServer {
    let state = AppState::with_slices(t.db.clone(), t.config(), gongkai_hotline::slices());
    TestServer::start_state(gongkai_hotline::attach(state)).await
}

async fn scalar(t: &TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
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
async fn open_form(c: &Client, s: &TestServer) -> (String, String, u32) {
    let r = c.get(s.url("/rexian")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("东湖街道 青禾社区"), "the places are offered");
    let question = text_after(&page, "<label for=\"f-answer\">");
    (input_value(&page, "idem"), input_value(&page, "token"), solve(&question))
}

fn request(place: i64) -> Vec<(&'static str, String)> {
    vec![
        ("kind", "complain".to_string()),
        ("title", "青禾路路灯不亮".to_string()),
        ("content", "青禾路18号到28号之间的路灯已经一周不亮，晚上行人很不安全。".to_string()),
        ("place_id", place.to_string()),
        ("address", "青禾路18号".to_string()),
        ("name", "王晓梅".to_string()),
        ("phone", "13800001234".to_string()),
    ]
}

fn guarded(mut f: Vec<(&'static str, String)>, idem: &str, token: &str, answer: &str) -> Vec<(&'static str, String)> {
    f.push(("idem", idem.into()));
    f.push(("token", token.into()));
    f.push(("answer", answer.into()));
    f
}

fn with(mut f: Vec<(&'static str, String)>, key: &'static str, value: &str) -> Vec<(&'static str, String)> {
    f.retain(|(k, _)| *k != key);
    f.push((key, value.to_string()));
    f
}

#[tokio::test]
async fn the_web_form_and_tracking() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        gongkai_hotline::init(&t.db).await.unwrap();
        let place = {
            let mut tx = t.db.begin().await.unwrap();
            let id = store::insert_place(&mut tx.conn(), "东湖街道", "青禾社区", None).await.unwrap();
            tx.commit().await.unwrap();
            id
        };
        let s = server(&t).await;
        let c = client();

        // A wrong captcha answer: the form again with what was typed, nothing stored.
        let (idem, token, answer) = open_form(&c, &s).await;
        let r = c
            .post(s.url("/rexian"))
            .form(&guarded(request(place), &idem, &token, &(answer + 1).to_string()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let page = r.text().await.unwrap();
        assert!(page.contains("验证答案不正确"), "{page}");
        assert!(page.contains("value=\"王晓梅\"") && page.contains("一周不亮"), "what was typed is kept");
        assert!(page.contains(&format!("<option value=\"{place}\" selected>")), "the place stays chosen");
        assert_eq!(input_value(&page, "idem"), idem, "the same key for the retry");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_orders").await, 0, "{b}");

        // Field errors in Chinese, what was typed kept.
        let (idem, token, answer) = open_form(&c, &s).await;
        let bad = with(with(with(request(place), "phone", ""), "title", ""), "name", "");
        let r = c.post(s.url("/rexian")).form(&guarded(bad, &idem, &token, &answer.to_string())).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains("请填写联系电话") && page.contains("请填写姓名") && page.contains("请填写标题"),
            "{page}"
        );
        assert!(page.contains("一周不亮") && page.contains("value=\"青禾路18号\""), "{page}");
        let (idem, token, answer) = open_form(&c, &s).await;
        let bad = with(with(request(place), "phone", "12-34"), "title", "");
        let r = c.post(s.url("/rexian")).form(&guarded(bad, &idem, &token, &answer.to_string())).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let page = r.text().await.unwrap();
        assert!(page.contains("请填写标题") && page.contains("电话号码只能包含数字"), "{page}");
        assert!(page.contains("value=\"12-34\""), "the phone as typed");

        // HTML in the content is refused, and shown back escaped.
        let (idem, token, answer) = open_form(&c, &s).await;
        let bad = with(request(place), "content", "<script>alert(1)</script>路灯坏了");
        let r = c.post(s.url("/rexian")).form(&guarded(bad, &idem, &token, &answer.to_string())).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let page = r.text().await.unwrap();
        assert!(page.contains("诉求内容不能包含 HTML 标记"), "{page}");
        assert!(!page.contains("<script>alert(1)") && page.contains("&lt;script&gt;"), "escaped");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_orders").await, 0, "{b}");

        // A solved form: one web order, the number on the receipt.
        let (idem, token, answer) = open_form(&c, &s).await;
        let good = guarded(with(request(place), "confidential", "1"), &idem, &token, &answer.to_string());
        let r = c.post(s.url("/rexian")).form(&good).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        let page = r.text().await.unwrap();
        let no = text_after(&page, "<strong class=\"msg-code\">");
        assert!(page.contains("诉求已提交") && page.contains("138****1234"), "{page}");
        let o = {
            let mut h = t.db.read().await.unwrap();
            store::order_by(&mut h.conn(), store::OrderKey::No, &no).await.unwrap().unwrap()
        };
        assert_eq!((o.channel.as_str(), o.state.as_str(), o.kind.as_str()), ("web", "received", "complain"), "{b}");
        assert_eq!(
            (o.caller_name.as_str(), o.caller_phone.as_str(), o.place_id),
            ("王晓梅", "13800001234", Some(place))
        );
        assert_eq!((o.street.as_str(), o.confidential, o.anonymous), ("东湖街道", 1, 0));
        assert_eq!(
            scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'hotline.intake' AND actor_role = 'public'")
                .await,
            1
        );

        // The same submission again (a double click, a retry): the same order, no second one.
        let r = c.post(s.url("/rexian")).form(&good).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        let page = r.text().await.unwrap();
        assert!(page.contains("已提交过") && page.contains(&no), "{page}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_orders").await, 1, "{b}");

        // Anonymous: no name needed, none stored.
        let (idem, token, answer) = open_form(&c, &s).await;
        let anon = with(with(with(request(place), "name", ""), "anonymous", "1"), "phone", "0571-88001234");
        let r = c.post(s.url("/rexian")).form(&guarded(anon, &idem, &token, &answer.to_string())).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_orders WHERE anonymous = 1 AND caller_name = ''").await, 1);

        // Tracking: a wrong phone number is refused without a word of the order.
        assert_eq!(c.get(s.url("/rexian/track")).send().await.unwrap().status(), StatusCode::OK);
        let r =
            c.post(s.url("/rexian/track")).form(&[("no", no.as_str()), ("phone", "13800009999")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let page = r.text().await.unwrap();
        assert!(page.contains("工单编号或电话号码不正确") && !page.contains("路灯不亮"), "{page}");
        let r = c
            .post(s.url("/rexian/track"))
            .form(&[("no", "20990101-000001"), ("phone", "13800001234")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = c.post(s.url("/rexian/track")).form(&[("no", ""), ("phone", "")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("请填写工单编号"));

        // The right one: state, public timeline, masked phone, no name.
        let r = c
            .post(s.url("/rexian/track"))
            .form(&[("no", no.as_str()), ("phone", "138 0000 1234")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        let page = r.text().await.unwrap();
        assert!(page.contains("待派单") && page.contains("工单已受理") && page.contains("青禾路路灯不亮"), "{page}");
        assert!(page.contains("138****1234") && !page.contains("13800001234"), "{page}");
        assert!(!page.contains("王晓梅") && !page.contains("青禾路18号"), "no identity, no address: {page}");
        assert!(!page.contains("答复</h2>"), "no answer before closing");

        // Once closed, the answer shows.
        let agent_id = testkit::user_with_role(&t.db, "pf-agent", Some(Role::Agent)).await;
        let agent = testkit::principal(&t.db, agent_id).await;
        gongkai_hotline::service::answer_directly(&t.db, &agent, "127.0.0.1", o.id, "已通知路灯管理所，今晚修复。")
            .await
            .unwrap();
        let r =
            c.post(s.url("/rexian/track")).form(&[("no", no.as_str()), ("phone", "13800001234")]).send().await.unwrap();
        let page = r.text().await.unwrap();
        assert!(page.contains("已办结") && page.contains("已通知路灯管理所，今晚修复。"), "{page}");
        assert!(!page.contains("王晓梅"), "{page}");
    }
}
