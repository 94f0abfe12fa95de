//! The hotline's console over HTTP, on SQLite and PostgreSQL, black box: the settings
//! pages (categories, gazetteer, SLA table) with their errors and audit; the agent screen
//! keeping what was typed on errors, a retried submission with the same idempotency key
//! making one order, the caller's history; the whole flow through the order page —
//! multi-leg dispatch, acceptance, a return and the re-dispatch, an extension, replies,
//! review, an unsatisfied callback and the redo, the satisfied callback; merging a likely
//! duplicate; attachments stored and served back, a disguised file refused; masking of the
//! caller for a supervisor but not the agent or the handler; the audit of a confidential
//! order's view; refusals for the wrong people.

use gongkai_kernel::auth::Role;
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestDb, TestServer};
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

/// A signed-in client and its CSRF token.
struct User {
    c: Client,
    csrf: String,
}

async fn login(s: &TestServer, username: &str) -> User {
    let c = client();
    let r = c.post(s.url("/login")).form(&[("username", username), ("password", TEST_PASSWORD)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {username}");
    let page = c.get(s.url("/console/password")).send().await.unwrap().text().await.unwrap();
    let i = page.find("name=\"_csrf\" value=\"").unwrap() + 20;
    User { csrf: page[i..i + 32].to_string(), c }
}

impl User {
    async fn get(&self, s: &TestServer, path: &str) -> (StatusCode, String) {
        let r = self.c.get(s.url(path)).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }
    /// POST a form (the CSRF token added); returns the status and the Location or the body.
    async fn post(&self, s: &TestServer, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let mut f: Vec<(&str, &str)> = form.to_vec();
        f.push(("_csrf", &self.csrf));
        let r = self.c.post(s.url(path)).form(&f).send().await.unwrap();
        let status = r.status();
        if status == StatusCode::SEE_OTHER {
            return (status, r.headers()["location"].to_str().unwrap().to_string());
        }
        (status, r.text().await.unwrap())
    }
    /// POST multipart/form-data as the agent screen does in a browser.
    async fn upload(
        &self,
        s: &TestServer,
        path: &str,
        text: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> (StatusCode, String) {
        let mut t: Vec<(&str, &str)> = text.to_vec();
        t.push(("_csrf", &self.csrf));
        let (ct, body) = multipart(&t, files);
        let r = self.c.post(s.url(path)).header("content-type", ct).body(body).send().await.unwrap();
        let status = r.status();
        if status == StatusCode::SEE_OTHER {
            return (status, r.headers()["location"].to_str().unwrap().to_string());
        }
        (status, r.text().await.unwrap())
    }
}

fn multipart(text: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----gongkai-hotline-7c1e";
    let mut body = Vec::new();
    for (k, v) in text {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(v.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    for (name, data) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn staff(t: &TestDb, name: &str, role: Role, org: Option<i64>) {
    let id = testkit::user_with_role(&t.db, name, None).await;
    let actor = gongkai_kernel::audit::Actor::system("test");
    gongkai_kernel::auth::service::grant(&t.db, None, &actor, id, role, org, None).await.unwrap();
}

async fn scalar(t: &TestDb, sql: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let sql = sql.to_string();
    with_conn!(&mut h.conn(), x => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(&mut **x).await)
        .unwrap()
}

async fn text(t: &TestDb, sql: &str) -> String {
    let mut h = t.db.read().await.unwrap();
    let sql = sql.to_string();
    with_conn!(&mut h.conn(), x => sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql)).fetch_one(&mut **x).await)
        .unwrap()
}

async fn org(t: &TestDb, short: &str) -> i64 {
    scalar(t, &format!("SELECT id FROM orgs WHERE short_name = '{short}'")).await
}

fn input_value(page: &str, name: &str) -> String {
    let key = format!("name=\"{name}\"");
    let i = page.find(&key).unwrap_or_else(|| panic!("no input {name}")) + key.len();
    let tag = &page[i..i + page[i..].find('>').unwrap()];
    let v = tag.find("value=\"").unwrap_or_else(|| panic!("input {name} has no value: {tag}")) + 7;
    tag[v..].split('"').next().unwrap().to_string()
}

/// The order id from a redirect to its page.
fn order_id(location: &str) -> i64 {
    let rest =
        location.strip_prefix("/console/hotline/orders/").unwrap_or_else(|| panic!("not an order page: {location}"));
    rest.split(['?', '#']).next().unwrap().parse().unwrap()
}

async fn state_of(t: &TestDb, id: i64) -> String {
    text(t, &format!("SELECT state FROM hl_orders WHERE id = {id}")).await
}

async fn leg_of(t: &TestDb, order: i64, org: i64) -> String {
    scalar(t, &format!("SELECT MAX(id) FROM hl_legs WHERE order_id = {order} AND org_id = {org}")).await.to_string()
}

fn reply(leg: &str) -> [(&'static str, &str); 2] {
    [("leg", leg), ("reply", "已协调东湖小学为孩子办理学籍，本周内办结。")]
}

/// A phone call as the agent types it.
fn call<'a>(idem: &'a str, phone: &'a str, title: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("idem_key", idem),
        ("channel", "phone"),
        ("caller_phone", phone),
        ("caller_name", "林秀英"),
        ("kind", "complain"),
        ("urgency", "normal"),
        ("title", title),
        ("content", "孩子转学到东湖小学，学校迟迟不给办理学籍手续。"),
        ("tags", "营商环境"),
        ("tags_other", "教育 学籍"),
    ]
}

#[tokio::test]
async fn the_console_over_http() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        gongkai_hotline::init(&t.db).await.unwrap();
        let s = server(&t).await;
        let (jyj, zjj, wjw, czj, jd1) = (
            org(&t, "区教育局").await,
            org(&t, "区住建局").await,
            org(&t, "区卫健局").await,
            org(&t, "区财政局").await,
            org(&t, "东湖街道").await,
        );
        staff(&t, "admin1", Role::SysAdmin, None).await;
        staff(&t, "agent1", Role::Agent, Some(org(&t, "热线中心").await)).await;
        staff(&t, "jyj1", Role::Handler, Some(jyj)).await;
        staff(&t, "zjj1", Role::Handler, Some(zjj)).await;
        staff(&t, "wjw1", Role::Handler, Some(wjw)).await;
        staff(&t, "czj1", Role::Handler, Some(czj)).await;
        staff(&t, "sup1", Role::Supervisor, None).await;
        let admin = login(&s, "admin1").await;
        let agent = login(&s, "agent1").await;
        let hj = login(&s, "jyj1").await;
        let hz = login(&s, "zjj1").await;
        let hw = login(&s, "wjw1").await;
        let hc = login(&s, "czj1").await;
        let sup = login(&s, "sup1").await;
        let (jyj_s, zjj_s, wjw_s, jd1_s) = (jyj.to_string(), zjj.to_string(), wjw.to_string(), jd1.to_string());
        let (jyj_s, zjj_s, wjw_s, jd1_s) = (jyj_s.as_str(), zjj_s.as_str(), wjw_s.as_str(), jd1_s.as_str());

        // --- settings: categories, places, the SLA table --------------------------------
        assert_eq!(agent.get(&s, "/console/hotline/sla").await.0, StatusCode::FORBIDDEN, "{b}");
        let (st, page) = admin.get(&s, "/console/hotline/categories").await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert!(page.contains("还没有事项分类"));
        let (st, _) = admin
            .post(
                &s,
                "/console/hotline/categories",
                &[("code", "edu"), ("name", "教育"), ("default_org_id", jyj_s), ("attributes", "[]")],
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}");
        let edu = scalar(&t, "SELECT id FROM hl_categories WHERE code = 'edu'").await.to_string();
        let edu = edu.as_str();
        let (st, page) = admin
            .post(
                &s,
                "/console/hotline/categories",
                &[("parent_id", edu), ("code", "school"), ("name", "学校管理"), ("attributes", "[{")],
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(page.contains("下级分类的编码应以上级编码加") && page.contains("不是有效的 JSON"), "{page}");
        assert!(page.contains("value=\"学校管理\""), "the name typed is kept");
        let (st, _) = admin
            .post(
                &s,
                "/console/hotline/categories",
                &[("parent_id", edu), ("code", "edu.school"), ("name", "学校管理"), ("keywords", "入学、转学 学籍")],
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let attrs = r#"[{"variable": true, "code": "depth", "datatype": "number", "required": false, "order": 1, "description": "积水深度（厘米）"}]"#;
        for (code, parent, name, org_id) in [("cs", "", "城乡建设", zjj_s), ("cs.water", "cs", "供水", "")] {
            let parent_id = if parent.is_empty() {
                String::new()
            } else {
                scalar(&t, &format!("SELECT id FROM hl_categories WHERE code = '{parent}'")).await.to_string()
            };
            let f = [
                ("parent_id", parent_id.as_str()),
                ("code", code),
                ("name", name),
                ("default_org_id", org_id),
                ("open311", "1"),
                ("attributes", attrs),
            ];
            assert_eq!(admin.post(&s, "/console/hotline/categories", &f).await.0, StatusCode::SEE_OTHER, "{b} {code}");
        }
        // Renaming a parent rewrites its descendants' paths.
        let cs = scalar(&t, "SELECT id FROM hl_categories WHERE code = 'cs'").await;
        let f = [("name", "城乡建设管理"), ("default_org_id", zjj_s), ("active", "1"), ("attributes", "[]")];
        assert_eq!(admin.post(&s, &format!("/console/hotline/categories/{cs}"), &f).await.0, StatusCode::SEE_OTHER);
        assert_eq!(
            text(&t, "SELECT path FROM hl_categories WHERE code = 'cs.water'").await,
            "城乡建设管理/供水",
            "{b}"
        );
        let (_, page) = admin.get(&s, "/console/hotline/categories").await;
        assert!(page.contains("学校管理") && page.contains("edu.school") && page.contains("青禾区教育局"));

        let (st, page) =
            admin.post(&s, "/console/hotline/places", &[("street", "东湖街道"), ("community", "东湖社区")]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a community before its street");
        assert!(page.contains("请先添加这个街道"), "{page}");
        assert_eq!(
            admin.post(&s, "/console/hotline/places", &[("street", "东湖街道"), ("org_id", jd1_s)]).await.0,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            admin.post(&s, "/console/hotline/places", &[("street", "东湖街道"), ("community", "东湖社区")]).await.0,
            StatusCode::SEE_OTHER
        );
        let place = scalar(&t, "SELECT id FROM hl_places WHERE community = '东湖社区'").await.to_string();
        let place = place.as_str();

        let (st, page) = admin.get(&s, "/console/hotline/sla").await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("15 分钟") && page.contains("自然时间") && page.contains("13 个工作日"), "{b}");
        let sla = |k: &'static str, h: &'static str| {
            vec![
                ("kind", k),
                ("category_code", "edu"),
                ("urgency", "*"),
                ("accept_limit", "1wd"),
                ("return_limit", "2wd"),
                ("handle_limit", h),
                ("callback_limit", "2wd"),
            ]
        };
        let (st, page) = admin.post(&s, "/console/hotline/sla", &sla("complain", "7d")).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("时限格式为数字加单位") && page.contains("value=\"7d\""), "{page}");
        assert_eq!(
            admin.post(&s, "/console/hotline/sla", &sla("complain", "7wd")).await.0,
            StatusCode::SEE_OTHER,
            "{b}"
        );
        let (st, page) = admin.post(&s, "/console/hotline/sla", &sla("complain", "9wd")).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("已有相同诉求类型"), "{page}");
        let row = scalar(&t, "SELECT id FROM hl_sla WHERE category_code = 'edu'").await;
        assert_eq!(
            admin.post(&s, &format!("/console/hotline/sla/{row}"), &sla("complain", "8wd")).await.0,
            StatusCode::SEE_OTHER
        );
        assert_eq!(text(&t, "SELECT handle_limit FROM hl_sla WHERE category_code = 'edu'").await, "8wd");
        let catch_all =
            scalar(&t, "SELECT id FROM hl_sla WHERE kind = '*' AND category_code = '*' AND urgency = '*'").await;
        assert_eq!(
            admin.post(&s, &format!("/console/hotline/sla/{catch_all}/delete"), &[]).await.0,
            StatusCode::CONFLICT
        );
        assert_eq!(admin.post(&s, &format!("/console/hotline/sla/{row}/delete"), &[]).await.0, StatusCode::SEE_OTHER);
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_sla WHERE category_code = 'edu'").await, 0);
        assert_eq!(
            scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE action IN ('hotline.category_add', 'hotline.category_update', 'hotline.place_add', 'hotline.sla_add', 'hotline.sla_update', 'hotline.sla_delete')").await,
            4 + 1 + 2 + 1 + 1 + 1,
            "{b}: every settings change audited"
        );

        // --- the agent screen ----------------------------------------------------------
        assert_eq!(hj.get(&s, "/console/hotline/new").await.0, StatusCode::FORBIDDEN, "a handler takes no calls");
        let (st, page) = agent.get(&s, "/console/hotline/new").await;
        assert_eq!(st, StatusCode::OK);
        let idem = input_value(&page, "idem_key");
        assert_eq!(idem.len(), 32);
        assert!(page.contains("autofocus") && page.contains("edu.school") && page.contains("/static/hotline.js"));

        // Errors keep what was typed, and nothing is stored.
        let mut bad = call(&idem, "13912345678", "");
        bad.push(("action", "dispatch"));
        bad.retain(|(k, _)| *k != "kind");
        let (st, page) = agent.post(&s, "/console/hotline/new", &bad).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(
            page.contains("请填写标题") && page.contains("请选择诉求类型") && page.contains("请选择主办单位"),
            "{page}"
        );
        assert!(
            page.contains("value=\"13912345678\"") && page.contains("学校迟迟不给办理学籍手续"),
            "typed values kept"
        );
        assert!(page.contains(&format!("value=\"{idem}\"")), "the same key for the retry");
        let mut bad = call(&idem, "13912345678", "学籍手续");
        bad.push(("action", "answer"));
        let (st, page) = agent.post(&s, "/console/hotline/new", &bad).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("直接答复并办结需填写答复内容"), "{page}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_orders").await, 0, "{b}");

        // Typed by name, the category is found, and its parent's organisation is the main one.
        let mut good = call(&idem, "13912345678", "转学学籍手续办理慢");
        good.extend([("category", "学校管理"), ("place_id", place), ("co_orgs", wjw_s), ("action", "dispatch")]);
        let (st, loc) = agent.post(&s, "/console/hotline/new", &good).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}: {loc}");
        let a = order_id(&loc);
        // The browser retries (a timeout, a double click): the same order, dispatched once.
        let (st, loc2) = agent.post(&s, "/console/hotline/new", &good).await;
        assert_eq!((st, order_id(&loc2)), (StatusCode::SEE_OTHER, a), "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_orders").await, 1, "{b}");
        assert_eq!(scalar(&t, &format!("SELECT COUNT(*) FROM hl_legs WHERE order_id = {a}")).await, 2, "{b}");
        assert_eq!(state_of(&t, a).await, "dispatched");
        assert_eq!(text(&t, &format!("SELECT tags FROM hl_orders WHERE id = {a}")).await, "营商环境,教育,学籍");
        let no = text(&t, &format!("SELECT no FROM hl_orders WHERE id = {a}")).await;
        let (_, page) = agent.get(&s, &format!("/console/hotline/orders/{a}")).await;
        assert!(
            page.contains("13912345678")
                && page.contains("派至青禾区教育局（主办）")
                && page.contains("教育&#x2f;学校管理"),
            "{page}"
        );
        let (st, json) = agent.get(&s, "/console/hotline/callers.json?phone=1391").await;
        assert_eq!(st, StatusCode::OK);
        assert!(json.contains(&no) && json.contains("转学学籍手续办理慢"), "{json}");
        assert_eq!(hj.get(&s, "/console/hotline/callers.json?phone=1391").await.0, StatusCode::FORBIDDEN);

        // --- masking ---------------------------------------------------------------------
        let (_, list) = sup.get(&s, "/console/hotline/orders").await;
        assert!(list.contains(&no) && list.contains("139****5678") && !list.contains("13912345678"), "{b}: {list}");
        let (st, page) = sup.get(&s, &format!("/console/hotline/orders/{a}")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("139****5678") && !page.contains("13912345678") && page.contains("林*"), "{b}");
        let (_, list) = agent.get(&s, "/console/hotline/orders").await;
        assert!(list.contains("13912345678"), "the centre sees the caller");
        let (_, list) = hj.get(&s, "/console/hotline/orders").await;
        assert!(list.contains(&no) && list.contains("13912345678"), "the handler sees the caller");
        let (_, page) = hj.get(&s, &format!("/console/hotline/orders/{a}")).await;
        assert!(page.contains("13912345678"), "{b}");

        // --- a handler of another organisation -----------------------------------------------
        let leg_jyj = leg_of(&t, a, jyj).await;
        let leg_jyj = leg_jyj.as_str();
        assert_eq!(hc.get(&s, &format!("/console/hotline/orders/{a}")).await.0, StatusCode::NOT_FOUND, "{b}");
        assert_eq!(
            hc.post(&s, &format!("/console/hotline/orders/{a}/accept"), &[("leg", leg_jyj)]).await.0,
            StatusCode::NOT_FOUND
        );
        let (_, list) = hc.get(&s, "/console/hotline/orders").await;
        assert!(!list.contains(&no), "not on another organisation's list");
        // The co-handler may see it but not act on the main leg.
        let (st, _) = hw.post(&s, &format!("/console/hotline/orders/{a}/accept"), &[("leg", leg_jyj)]).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{b}");

        // --- accept, return, re-dispatch ----------------------------------------------------
        let (_, tasks) = hj.get(&s, "/console/hotline/tasks").await;
        assert!(tasks.contains(&no) && tasks.contains("待签收（1）"), "{tasks}");
        assert_eq!(
            hj.post(&s, &format!("/console/hotline/orders/{a}/accept"), &[("leg", leg_jyj)]).await.0,
            StatusCode::SEE_OTHER
        );
        let (st, page) =
            hj.post(&s, &format!("/console/hotline/orders/{a}/return"), &[("leg", leg_jyj), ("reason", " ")]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            page.contains("请说明退单理由") && page.contains(&format!("id=\"e-return-{leg_jyj}-reason\"")),
            "{page}"
        );
        let (st, _) = hj
            .post(
                &s,
                &format!("/console/hotline/orders/{a}/return"),
                &[("leg", leg_jyj), ("reason", "学籍由住建局配套学校管理，不属本局")],
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}");
        assert_eq!(state_of(&t, a).await, "received");
        let (_, tasks) = agent.get(&s, "/console/hotline/tasks").await;
        assert!(tasks.contains("待派单（1）") && tasks.contains(&no), "{tasks}");
        // Back to the same organisation needs a reason; the form keeps the choice.
        let (st, page) = agent.post(&s, &format!("/console/hotline/orders/{a}/dispatch"), &[("main_org", jyj_s)]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("该单位已退回此工单"), "{page}");
        assert_eq!(
            agent.post(&s, &format!("/console/hotline/orders/{a}/dispatch"), &[("main_org", zjj_s)]).await.0,
            StatusCode::SEE_OTHER
        );
        assert_eq!(state_of(&t, a).await, "dispatched", "{b}");
        let leg_zjj = leg_of(&t, a, zjj).await;
        let leg_wjw = leg_of(&t, a, wjw).await;
        let (leg_zjj, leg_wjw) = (leg_zjj.as_str(), leg_wjw.as_str());

        // --- extension, replies, review -------------------------------------------------------
        assert_eq!(
            hz.post(&s, &format!("/console/hotline/orders/{a}/accept"), &[("leg", leg_zjj)]).await.0,
            StatusCode::SEE_OTHER
        );
        let (st, page) = hz
            .post(
                &s,
                &format!("/console/hotline/orders/{a}/extension"),
                &[("leg", leg_zjj), ("days", "x"), ("reason", "需现场核查")],
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("请填写申请延期的工作日数") && page.contains("需现场核查"), "kept: {page}");
        let (st, _) = hz
            .post(
                &s,
                &format!("/console/hotline/orders/{a}/extension"),
                &[("leg", leg_zjj), ("days", "2"), ("reason", "需现场核查")],
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}");
        let (_, tasks) = agent.get(&s, "/console/hotline/tasks?tab=ext").await;
        assert!(tasks.contains(&no) && tasks.contains("申请延期 2 个工作日"), "{tasks}");
        let due_before = scalar(&t, &format!("SELECT handle_due FROM hl_legs WHERE id = {leg_zjj}")).await;
        let (st, _) = agent
            .post(
                &s,
                &format!("/console/hotline/orders/{a}/extension/decide"),
                &[("leg", leg_zjj), ("decision", "approve")],
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(scalar(&t, &format!("SELECT ext_days FROM hl_legs WHERE id = {leg_zjj}")).await, 2);
        assert!(scalar(&t, &format!("SELECT handle_due FROM hl_legs WHERE id = {leg_zjj}")).await > due_before);
        assert_eq!(
            hz.post(&s, &format!("/console/hotline/orders/{a}/reply"), &reply(leg_zjj)).await.0,
            StatusCode::SEE_OTHER
        );
        assert_eq!(state_of(&t, a).await, "dispatched", "{b}: the co-handler has not replied");
        assert_eq!(
            hw.post(&s, &format!("/console/hotline/orders/{a}/accept"), &[("leg", leg_wjw)]).await.0,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            hw.post(&s, &format!("/console/hotline/orders/{a}/reply"), &reply(leg_wjw)).await.0,
            StatusCode::SEE_OTHER
        );
        assert_eq!(state_of(&t, a).await, "replied", "{b}");
        let (_, page) = agent.get(&s, &format!("/console/hotline/orders/{a}")).await;
        assert!(
            page.contains("审核答复") && page.contains("已协调东湖小学为孩子办理学籍"),
            "the main reply offered as the answer"
        );
        assert_eq!(
            agent
                .post(&s, &format!("/console/hotline/orders/{a}/review"), &[("decision", "pass"), ("answer", "")])
                .await
                .0,
            StatusCode::SEE_OTHER
        );
        assert_eq!(state_of(&t, a).await, "callback", "{b}");

        // --- an unsatisfied callback, the redo, then satisfied ---------------------------------
        let (st, page) = agent
            .post(&s, &format!("/console/hotline/orders/{a}/callback"), &[("reached", "1"), ("resolved", "0")])
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("请选择满意度"), "{page}");
        let (st, _) = agent
            .post(
                &s,
                &format!("/console/hotline/orders/{a}/callback"),
                &[("reached", "1"), ("resolved", "0"), ("satisfaction", "unsatisfied"), ("note", "学籍仍未办好")],
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(state_of(&t, a).await, "dispatched", "{b}: 重办");
        assert_eq!(scalar(&t, &format!("SELECT redo_count FROM hl_orders WHERE id = {a}")).await, 1);
        assert_eq!(
            hz.post(&s, &format!("/console/hotline/orders/{a}/reply"), &reply(leg_zjj)).await.0,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            hw.post(&s, &format!("/console/hotline/orders/{a}/reply"), &reply(leg_wjw)).await.0,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            agent.post(&s, &format!("/console/hotline/orders/{a}/review"), &[("decision", "pass")]).await.0,
            StatusCode::SEE_OTHER
        );
        let (st, _) = agent
            .post(
                &s,
                &format!("/console/hotline/orders/{a}/callback"),
                &[("reached", "1"), ("resolved", "1"), ("satisfaction", "satisfied")],
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(state_of(&t, a).await, "closed", "{b}");
        let (_, page) = agent.get(&s, &format!("/console/hotline/orders/{a}")).await;
        for label in
            ["受理", "派单", "签收", "退单", "申请延期", "同意延期", "答复", "审核通过", "回访", "重办", "办结"]
        {
            assert!(page.contains(&format!("<td>{label}</td>")), "{b}: timeline lacks {label}");
        }
        let (_, list) = agent.get(&s, "/console/hotline/orders?state=closed&kind=complain").await;
        assert!(list.contains(&no), "{b}");
        let (_, list) = agent.get(&s, "/console/hotline/orders?state=received").await;
        assert!(!list.contains(&no));
        let today = gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today());
        let (_, list) = agent.get(&s, &format!("/console/hotline/orders?from={today}&to={today}&org_id={zjj}")).await;
        assert!(list.contains(&no), "{b}: the statistics' drill-down parameters");
        let (_, list) = agent.get(&s, "/console/hotline/orders?from=2000-01-01&to=2000-01-31").await;
        assert!(!list.contains(&no));

        // --- a likely duplicate merged ----------------------------------------------------------
        let mut first = call("dup-1", "13700001111", "小区停水三天");
        first.extend([("category", "cs.water"), ("action", "dispatch")]);
        let (_, loc) = agent.post(&s, "/console/hotline/new", &first).await;
        let bb = order_id(&loc);
        let no_b = text(&t, &format!("SELECT no FROM hl_orders WHERE id = {bb}")).await;
        assert_eq!(
            scalar(&t, &format!("SELECT org_id FROM hl_legs WHERE order_id = {bb}")).await,
            zjj,
            "the category's organisation"
        );
        let mut second = call("dup-2", "13700001111", "还是停水");
        second.extend([("category", "供水"), ("action", "dispatch")]);
        let (_, loc) = agent.post(&s, "/console/hotline/new", &second).await;
        let cc = order_id(&loc);
        let (_, page) = agent.get(&s, &format!("/console/hotline/orders/{cc}")).await;
        assert!(page.contains("可能重复的工单") && page.contains(&no_b), "{b}: {page}");
        let (st, _) = agent.post(&s, &format!("/console/hotline/orders/{cc}/merge"), &[("into", no_b.as_str())]).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}");
        assert_eq!(state_of(&t, cc).await, "merged");
        let (_, page) = agent.get(&s, &format!("/console/hotline/orders/{bb}")).await;
        assert!(page.contains(&text(&t, &format!("SELECT no FROM hl_orders WHERE id = {cc}")).await), "linked");
        let (st, page) =
            agent.post(&s, &format!("/console/hotline/orders/{bb}/merge"), &[("into", "20000101-000001")]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("要合并到的工单编号不存在") && page.contains("value=\"20000101-000001\""), "{page}");

        // --- a direct answer ---------------------------------------------------------------------
        let mut consult = call("direct-1", "13800002222", "学位咨询");
        consult.retain(|(k, _)| *k != "kind");
        consult.extend([("kind", "consult"), ("action", "answer"), ("answer", "请登录区教育局网站查询学区划分。")]);
        let (st, loc) = agent.post(&s, "/console/hotline/new", &consult).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let d = order_id(&loc);
        assert_eq!(state_of(&t, d).await, "closed", "{b}");
        assert_eq!(scalar(&t, &format!("SELECT direct FROM hl_orders WHERE id = {d}")).await, 1);

        // --- a confidential order: every view audited --------------------------------------------
        let mut secret = call("secret-1", "13600003333", "举报学校乱收费");
        secret.extend([("confidential", "1"), ("main_org", jyj_s), ("action", "dispatch")]);
        let (_, loc) = agent.post(&s, "/console/hotline/new", &secret).await;
        let e = order_id(&loc);
        let views = "SELECT COUNT(*) FROM audit_log WHERE action = 'hotline.view_confidential'";
        let before = scalar(&t, views).await;
        let (st, page) = sup.get(&s, &format!("/console/hotline/orders/{e}")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("136****3333") && page.contains("保密"));
        assert_eq!(scalar(&t, views).await, before + 1, "{b}");
        assert_eq!(
            scalar(&t, &format!("SELECT COUNT(*) FROM audit_log WHERE action = 'hotline.view_confidential' AND target_id = '{e}' AND actor_name LIKE '%sup1%'")).await,
            1
        );

        // --- attachments ---------------------------------------------------------------------------
        let png = [b"\x89PNG\r\n\x1a\n".as_slice(), b"photo-bytes", &[0u8, 255, 7]].concat();
        let mut photo = call("file-1", "13500004444", "路面积水");
        photo.extend([("category", "cs.water"), ("action", "dispatch")]);
        let (st, page) = agent.upload(&s, "/console/hotline/new", &photo, &[("积水.pdf", &png)]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: a PNG named .pdf");
        assert!(page.contains("请重新选择附件") && page.contains("value=\"路面积水\""), "{page}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_orders WHERE title = '路面积水'").await, 0);
        let (st, loc) = agent.upload(&s, "/console/hotline/new", &photo, &[("现场 照片.png", &png)]).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}: {loc}");
        let f = order_id(&loc);
        let fid = scalar(&t, &format!("SELECT id FROM hl_files WHERE order_id = {f}")).await;
        let (_, page) = hz.get(&s, &format!("/console/hotline/orders/{f}")).await;
        assert!(page.contains("现场 照片.png"), "{b}");
        let r = hz.c.get(s.url(&format!("/console/hotline/orders/{f}/files/{fid}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "image/png");
        assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        assert_eq!(r.bytes().await.unwrap().to_vec(), png, "{b}");
        assert_eq!(hc.get(&s, &format!("/console/hotline/orders/{f}/files/{fid}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            scalar(
                &t,
                &format!("SELECT COUNT(*) FROM audit_log WHERE action = 'hotline.files_add' AND target_id = '{f}'")
            )
            .await,
            1
        );

        // Supervision, urging and a leader's instruction through the page.
        let (st, _) =
            sup.post(&s, &format!("/console/hotline/orders/{f}/supervise"), &[("note", "请三日内处理到位")]).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}");
        let (_, page) = hz.get(&s, &format!("/console/hotline/orders/{f}")).await;
        assert!(page.contains("督办 1 次") && page.contains("请三日内处理到位"));
        assert_eq!(
            hz.post(&s, &format!("/console/hotline/orders/{f}/urge"), &[("note", "快")]).await.0,
            StatusCode::FORBIDDEN
        );
    }
}
