//! The Open311 GeoReport v2 server and the inbound channel gateway over HTTP, on SQLite and
//! PostgreSQL: every endpoint in JSON and XML, the spec's errors for bad input (never a
//! 500), retried POSTs creating one order, the JSON Schemas of open311/schema-validation
//! (Python `jsonschema`), real Python clients from PyPI (tools/open311_client.py), the
//! gateway's keys, idempotency and field errors, the console page of the keys, and the
//! CSRF exemption of the key-authenticated paths.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use gongkai_hotline::open311::clients::{self, NewClient};
use gongkai_hotline::open311::wire::iso;
use gongkai_hotline::service::{self, Dispatch};
use gongkai_hotline::store;
use gongkai_kernel::audit::Actor;
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestDb, TestServer, checkers};
use gongkai_kernel::with_conn;
use reqwest::{Client, StatusCode, redirect::Policy};
use serde_json::{Value, json};

const LIGHT_ATTRS: &str = r#"[
  {"variable": true, "code": "pole", "datatype": "string", "required": true, "datatype_description": "灯杆上喷涂的编号",
   "order": 1, "description": "灯杆编号"},
  {"variable": true, "code": "sides", "datatype": "multivaluelist", "required": false, "order": 2, "description": "哪一侧",
   "values": [{"key": "n", "name": "北侧"}, {"key": "s", "name": "南侧"}]},
  {"variable": true, "code": "kind", "datatype": "singlevaluelist", "required": false, "order": 3, "description": "诉求类型",
   "values": [{"key": "help", "name": "求助"}, {"key": "complain", "name": "投诉"}]},
  {"variable": true, "code": "height", "datatype": "number", "required": false, "order": 4, "description": "高度（米）"},
  {"variable": true, "code": "seen", "datatype": "datetime", "required": false, "order": 5, "description": "发现时间"},
  {"variable": false, "code": "tip", "datatype": "text", "required": false, "order": 6, "description": "夜间请注意安全"}
]"#;

struct Fx {
    s: TestServer,
    key311: String,
    key_wechat: String,
    key_app: String,
    jyj: i64,
    agent: Principal,
}

async fn scalar(t: &TestDb, sql: &'static str, arg: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).bind(arg).fetch_one(&mut **x).await).unwrap()
}

async fn text(t: &TestDb, sql: &'static str, arg: &str) -> String {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, String>(sql).bind(arg).fetch_one(&mut **x).await).unwrap()
}

async fn client_key(t: &TestDb, name: &str, kind: &str, channel: &str) -> String {
    let n = NewClient { name: name.into(), kind: kind.into(), channel: channel.into() };
    clients::create_as(&t.db, &Actor::system("test"), &n).await.unwrap().1
}

/// Categories: 城市管理 (not a service) with 路灯损坏 (attributes), 道路破损 (none), 内部事项
/// (not Open311), 旧事项 (inactive), 树木 (Open311 but not a leaf) with 倒伏.
async fn fixture(t: &TestDb) -> Fx {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_hotline::init(&t.db).await.unwrap();
    {
        let mut tx = t.db.begin().await.unwrap();
        let mut c = tx.conn();
        store::insert_category(&mut c, "cs", "城市管理", None, None, false, "[]", "").await.unwrap();
        let top = store::category_by_code(&mut c, "cs").await.unwrap().unwrap();
        store::insert_category(&mut c, "cs.light", "路灯损坏", Some(&top), None, true, LIGHT_ATTRS, "路灯,照明")
            .await
            .unwrap();
        store::insert_category(&mut c, "cs.road", "道路破损", Some(&top), None, true, "[]", "").await.unwrap();
        store::insert_category(&mut c, "cs.inner", "内部事项", Some(&top), None, false, "[]", "").await.unwrap();
        store::insert_category(&mut c, "cs.old", "旧事项", Some(&top), None, true, "[]", "").await.unwrap();
        store::insert_category(&mut c, "cs.tree", "树木", Some(&top), None, true, "[]", "").await.unwrap();
        let tree = store::category_by_code(&mut c, "cs.tree").await.unwrap().unwrap();
        store::insert_category(&mut c, "cs.tree.fallen", "树木倒伏", Some(&tree), None, true, "[]", "").await.unwrap();
        with_conn!(&mut c, x => sqlx::query("UPDATE hl_categories SET active = 0 WHERE code = 'cs.old'").execute(&mut **x).await.map(|r| r.rows_affected()))
            .unwrap();
        tx.commit().await.unwrap();
    }
    let key311 = client_key(t, "城管通", "open311", "open311").await;
    let key_wechat = client_key(t, "青禾微信公众号", "inbound", "wechat").await;
    let key_app = client_key(t, "青禾 App", "inbound", "app").await;
    let jyj = scalar(t, "SELECT id FROM orgs WHERE short_name = $1", "区教育局").await;
    let agent_id = scalar(t, "SELECT id FROM users WHERE username = $1", "agent").await;
    let agent = testkit::principal(&t.db, agent_id).await;
    // With the node state the binary attaches: intakes go through the group-commit writer.
    let state = gongkai_kernel::web::AppState::with_slices(t.db.clone(), t.config(), gongkai_hotline::slices());
    let s = TestServer::start_state(gongkai_hotline::attach(state)).await;
    Fx { s, key311, key_wechat, key_app, jyj, agent }
}

fn http() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

/// A form that must fail, the status and a piece of the error's description.
type BadPost<'a> = (Vec<(&'a str, &'a str)>, StatusCode, &'a str);

struct Got {
    status: StatusCode,
    ctype: String,
    body: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    /// The spec's error array: its first description, after checking the shape.
    fn error(&self, status: StatusCode) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        if self.ctype.starts_with("text/xml") {
            assert!(self.body.contains("<errors><error><code>"), "{}", self.body);
            assert!(self.body.contains(&format!("<code>{}</code><description>", status.as_u16())), "{}", self.body);
            return self.body.clone();
        }
        assert!(self.ctype.starts_with("application/json"), "{}", self.ctype);
        let v = self.json();
        assert_eq!(v[0]["code"], json!(status.as_u16()), "{v}");
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["description"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

async fn got(r: reqwest::Response) -> Got {
    let status = r.status();
    let ctype = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = r.text().await.unwrap();
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "never a 500: {body}");
    Got { status, ctype, body }
}

async fn get(s: &TestServer, path: &str) -> Got {
    got(http().get(s.url(path)).send().await.unwrap()).await
}

async fn post(s: &TestServer, path: &str, form: &[(&str, &str)], idem: Option<&str>) -> Got {
    let mut r = http().post(s.url(path)).form(form);
    if let Some(k) = idem {
        r = r.header("Idempotency-Key", k);
    }
    got(r.send().await.unwrap()).await
}

/// A valid request for 路灯损坏 with `extra` added.
fn light<'a>(key: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("api_key", key),
        ("service_code", "cs.light"),
        ("lat", "39.9042"),
        ("long", "116.4074"),
        ("description", "东街与北路交叉口路灯连续三晚不亮"),
        ("attribute[pole]", "A-12"),
        ("attribute[sides][]", "n"),
        ("attribute[sides][]", "s"),
        ("first_name", "三"),
        ("last_name", "张"),
        ("phone", "13912345678"),
    ];
    f.extend_from_slice(extra);
    f
}

#[tokio::test]
async fn open311_endpoints_in_json_and_xml_and_the_specs_errors() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let fx = fixture(&t).await;
        let s = &fx.s;

        // Discovery.
        let d = get(s, "/open311/v2/discovery.json").await;
        assert_eq!(d.status, StatusCode::OK, "{b}");
        let dv = d.json();
        assert_eq!(dv["endpoints"][0]["url"], json!(format!("{}/open311/v2", s.base)), "{b}: {dv}");
        assert_eq!(dv["endpoints"][0]["formats"], json!(["text/xml", "application/json"]));
        let dx = get(s, "/open311/v2/discovery.xml").await;
        assert!(dx.ctype.starts_with("text/xml"), "{b}: {}", dx.ctype);
        assert!(
            dx.body.contains("<discovery><changeset>") && dx.body.contains("<formats><format>text/xml</format>"),
            "{}",
            dx.body
        );

        // Services: active leaves marked Open311, group = the top level.
        let sv = get(s, "/open311/v2/services.json").await.json();
        let codes: Vec<&str> = sv.as_array().unwrap().iter().map(|x| x["service_code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["cs.light", "cs.road", "cs.tree.fallen"], "{b}: {sv}");
        let l = &sv[0];
        assert_eq!(l["service_name"], "路灯损坏");
        assert_eq!(l["description"], "城市管理/路灯损坏");
        assert_eq!(l["metadata"], json!(true));
        assert_eq!(l["type"], "realtime");
        assert_eq!(l["keywords"], "路灯,照明");
        assert_eq!(l["group"], "城市管理");
        assert_eq!(sv[1]["metadata"], json!(false));
        let sx = get(s, "/open311/v2/services.xml").await;
        assert!(
            sx.body.contains(
                "<services><service><service_code>cs.light</service_code><service_name>路灯损坏</service_name>"
            ),
            "{}",
            sx.body
        );
        assert!(sx.body.contains("<metadata>true</metadata>"));

        // Service definitions.
        let def = get(s, "/open311/v2/services/cs.light.json").await.json();
        assert_eq!(def["service_code"], "cs.light");
        let a = def["attributes"].as_array().unwrap();
        assert_eq!(a.len(), 6);
        assert_eq!(a[0]["code"], "pole");
        assert_eq!(a[0]["required"], json!(true));
        assert_eq!(a[1]["values"][1], json!({"key": "s", "name": "南侧"}));
        assert_eq!(a[5]["variable"], json!(false));
        let defx = get(s, "/open311/v2/services/cs.light.xml").await;
        assert!(defx.body.contains("<service_definition><service_code>cs.light</service_code><attributes><attribute><variable>true</variable><code>pole</code>"), "{}", defx.body);
        assert!(defx.body.contains("<values><value><key>n</key><name>北侧</name></value>"));
        for missing in ["cs.old", "cs.inner", "cs.tree", "nope"] {
            let e = get(s, &format!("/open311/v2/services/{missing}.json")).await.error(StatusCode::NOT_FOUND);
            assert!(e.contains("service_code"), "{b} {missing}: {e}");
        }
        get(s, "/open311/v2/services/nope.xml").await.error(StatusCode::NOT_FOUND);

        // POST requests, JSON.
        let r = post(s, "/open311/v2/requests.json", &light(&fx.key311, &[("account_id", "u-77")]), None).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {}", r.body);
        let rv = r.json();
        let no1 = rv[0]["service_request_id"].as_str().unwrap().to_string();
        assert!(rv[0]["service_notice"].as_str().unwrap().contains(&no1));
        assert_eq!(rv[0]["account_id"], "u-77");
        assert!(rv[0].get("token").is_none(), "realtime: an id, not a token");
        let id1 = scalar(&t, "SELECT id FROM hl_orders WHERE no = $1", &no1).await;
        let o = {
            let mut h = t.db.read().await.unwrap();
            store::get_order(&mut h.conn(), id1, false).await.unwrap().unwrap()
        };
        assert_eq!(o.channel, "open311");
        assert_eq!(o.kind, "help", "no kind attribute: 求助");
        assert_eq!(o.urgency, "normal");
        assert_eq!(o.title, "路灯损坏：东街与北路交叉口路灯连续三晚不亮");
        assert_eq!(o.caller_name, "张三");
        assert_eq!(o.caller_phone, "13912345678");
        assert_eq!((o.lat, o.lng), (Some(39.9042), Some(116.4074)));
        assert_eq!(serde_json::from_str::<Value>(&o.attributes).unwrap(), json!({"pole": "A-12", "sides": ["n", "s"]}));
        assert!(o.token.is_some());
        assert!(o.client_id.is_some());

        // POST requests, XML; a kind attribute sets 诉求类型; an address alone is a location.
        let x = post(
            s,
            "/open311/v2/requests.xml",
            &[
                ("api_key", &fx.key311),
                ("service_code", "cs.light"),
                ("address_string", "青禾区东街 1 号"),
                ("attribute[pole]", "B-3"),
                ("attribute[kind]", "complain"),
                ("attribute[height]", "7.5"),
                ("attribute[seen]", "2026-11-28T01:00:00Z"),
                ("description", "水温 < 10 度也不是 HTML"),
            ],
            None,
        )
        .await;
        assert_eq!(x.status, StatusCode::CREATED, "{b}: {}", x.body);
        assert!(x.ctype.starts_with("text/xml"));
        let i = x.body.find("<service_request_id>").unwrap() + 20;
        let no2 = x.body[i..].split('<').next().unwrap().to_string();
        assert!(
            x.body.starts_with("<?xml") && x.body.contains("<service_requests><request><service_request_id>"),
            "{}",
            x.body
        );
        assert_eq!(text(&t, "SELECT kind FROM hl_orders WHERE no = $1", &no2).await, "complain");
        assert_eq!(
            serde_json::from_str::<Value>(&text(&t, "SELECT attributes FROM hl_orders WHERE no = $1", &no2).await)
                .unwrap(),
            json!({"pole": "B-3", "kind": "complain", "height": 7.5, "seen": "2026-11-28T09:00:00+08:00"})
        );
        // A road request by address_id (the gazetteer), no description: the service name is the content.
        let place = {
            let mut tx = t.db.begin().await.unwrap();
            let p = store::insert_place(&mut tx.conn(), "东街街道", "", None).await.unwrap();
            tx.commit().await.unwrap();
            p.to_string()
        };
        let r3 = post(
            s,
            "/open311/v2/requests.json",
            &[("api_key", &fx.key311), ("service_code", "cs.road"), ("address_id", &place)],
            None,
        )
        .await;
        assert_eq!(r3.status, StatusCode::CREATED, "{b}: {}", r3.body);
        let no3 = r3.json()[0]["service_request_id"].as_str().unwrap().to_string();

        // Bad input: the spec's errors with the right status, in the requested format.
        let key = fx.key311.as_str();
        let cases: Vec<BadPost> = vec![
            (vec![("service_code", "cs.light"), ("lat", "1"), ("long", "1")], StatusCode::FORBIDDEN, "api_key"),
            (light("gk311_not-a-key", &[]), StatusCode::FORBIDDEN, "api_key"),
            (light(&fx.key_wechat, &[]), StatusCode::FORBIDDEN, "api_key"),
            (
                vec![("api_key", key), ("service_code", "cs.nope"), ("lat", "1"), ("long", "1")],
                StatusCode::NOT_FOUND,
                "service_code",
            ),
            (
                vec![("api_key", key), ("service_code", "cs.old"), ("lat", "1"), ("long", "1")],
                StatusCode::NOT_FOUND,
                "service_code",
            ),
            (vec![("api_key", key), ("lat", "1"), ("long", "1")], StatusCode::BAD_REQUEST, "service_code"),
            (vec![("api_key", key), ("service_code", "cs.road")], StatusCode::BAD_REQUEST, "需要提供位置"),
            (vec![("api_key", key), ("service_code", "cs.road"), ("lat", "39.9")], StatusCode::BAD_REQUEST, "同时提供"),
            (
                vec![("api_key", key), ("service_code", "cs.road"), ("lat", "north"), ("long", "1")],
                StatusCode::BAD_REQUEST,
                "lat:",
            ),
            (
                vec![("api_key", key), ("service_code", "cs.road"), ("lat", "95"), ("long", "1")],
                StatusCode::BAD_REQUEST,
                "lat:",
            ),
            (
                vec![("api_key", key), ("service_code", "cs.road"), ("address_id", "x9")],
                StatusCode::BAD_REQUEST,
                "address_id",
            ),
            (
                vec![("api_key", key), ("service_code", "cs.road"), ("address_id", "999999")],
                StatusCode::BAD_REQUEST,
                "address_id",
            ),
            (
                vec![("api_key", key), ("service_code", "cs.road"), ("address_string", "x"), ("email", "no-at")],
                StatusCode::BAD_REQUEST,
                "email",
            ),
            (
                vec![("api_key", key), ("service_code", "cs.road"), ("address_string", "x"), ("phone", "call me")],
                StatusCode::BAD_REQUEST,
                "phone",
            ),
            (
                vec![("api_key", key), ("service_code", "cs.road"), ("address_string", "x"), ("media_url", "ftp://x")],
                StatusCode::BAD_REQUEST,
                "media_url",
            ),
            (
                vec![
                    ("api_key", key),
                    ("service_code", "cs.road"),
                    ("address_string", "x"),
                    ("description", "<script>alert(1)</script>"),
                ],
                StatusCode::BAD_REQUEST,
                "description: 不能包含 HTML",
            ),
            (
                vec![("api_key", key), ("service_code", "cs.road"), ("address_string", "<b>东街</b>")],
                StatusCode::BAD_REQUEST,
                "address_string: 不能包含 HTML",
            ),
            (
                vec![("api_key", key), ("service_code", "cs.light"), ("lat", "1"), ("long", "1")],
                StatusCode::BAD_REQUEST,
                "attribute[pole]: 必须填写",
            ),
            (light(key, &[("attribute[sides]", "n")]), StatusCode::BAD_REQUEST, "不能同时使用"),
            (light(key, &[("attribute[pole][x]", "1")]), StatusCode::BAD_REQUEST, "attribute[pole][x]: 参数格式有误"),
            (light(key, &[("attribute[]", "1")]), StatusCode::BAD_REQUEST, "attribute[]: 参数格式有误"),
            (light(key, &[("attribute", "1")]), StatusCode::BAD_REQUEST, "参数格式有误"),
            (
                light(key, &[("attribute[kind]", "praise")]),
                StatusCode::BAD_REQUEST,
                "attribute[kind]: “praise”不是可选值",
            ),
            (light(key, &[("attribute[sides][]", "w")]), StatusCode::BAD_REQUEST, "attribute[sides]: “w”不是可选值"),
            (light(key, &[("attribute[height]", "tall")]), StatusCode::BAD_REQUEST, "attribute[height]: 应为数字"),
            (
                light(key, &[("attribute[seen]", "2026-02-30")]),
                StatusCode::BAD_REQUEST,
                "attribute[seen]: 应为 ISO 8601",
            ),
            (light(key, &[("attribute[ghost]", "1")]), StatusCode::BAD_REQUEST, "attribute[ghost]: 该服务没有这一属性"),
            (light(key, &[("jurisdiction_id", "elsewhere")]), StatusCode::NOT_FOUND, "jurisdiction_id"),
            (
                vec![("api_key", key), ("service_code", "cs.road"), ("address_string", "x"), ("description", "a\0b")],
                StatusCode::BAD_REQUEST,
                "空字符",
            ),
        ];
        for (form, status, want) in &cases {
            for fmt in ["json", "xml"] {
                let e = post(s, &format!("/open311/v2/requests.{fmt}"), form, None).await.error(*status);
                assert!(e.contains(want), "{b} {fmt} {form:?}: want {want} in {e}");
            }
        }
        // Several problems at once are several errors.
        let many = post(
            s,
            "/open311/v2/requests.json",
            &[("api_key", key), ("service_code", "cs.light"), ("attribute[kind]", "x")],
            None,
        )
        .await;
        assert!(many.json().as_array().unwrap().len() >= 3, "{}", many.body);
        // The description limit is 4,000 characters: 4,000 pass, 4,001 do not.
        let max = "字".repeat(4000);
        let over = "字".repeat(4001);
        let max_form = vec![
            ("api_key", key),
            ("service_code", "cs.road"),
            ("lat", "1"),
            ("long", "1"),
            ("description", max.as_str()),
        ];
        let ok = post(s, "/open311/v2/requests.json", &max_form, None).await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
        let no4 = ok.json()[0]["service_request_id"].as_str().unwrap().to_string();
        assert_eq!(text(&t, "SELECT content FROM hl_orders WHERE no = $1", &no4).await, max);
        let over_form = vec![
            ("api_key", key),
            ("service_code", "cs.road"),
            ("lat", "1"),
            ("long", "1"),
            ("description", over.as_str()),
        ];
        for fmt in ["json", "xml"] {
            let e =
                post(s, &format!("/open311/v2/requests.{fmt}"), &over_form, None).await.error(StatusCode::BAD_REQUEST);
            assert!(e.contains("description: 不能超过 4000 个字符"), "{b}: {e}");
        }
        // Not a form, a deactivated key, a bad idempotency key.
        let j =
            got(http().post(s.url("/open311/v2/requests.json")).json(&json!({"api_key": key})).send().await.unwrap())
                .await;
        assert!(j.error(StatusCode::BAD_REQUEST).contains("x-www-form-urlencoded"));
        let bad_idem = post(s, "/open311/v2/requests.json", &light(key, &[]), Some("has space")).await;
        assert!(bad_idem.error(StatusCode::BAD_REQUEST).contains("Idempotency-Key"));

        // GET requests/{id}.
        let one = get(s, &format!("/open311/v2/requests/{no1}.json")).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.body);
        let r1 = &one.json()[0];
        assert_eq!(r1["service_request_id"], json!(no1));
        assert_eq!(r1["status"], "open");
        assert_eq!(r1["status_notes"], "工单已受理");
        assert_eq!(r1["service_code"], "cs.light");
        assert_eq!(r1["service_name"], "路灯损坏");
        assert_eq!(r1["description"], "东街与北路交叉口路灯连续三晚不亮");
        assert_eq!(r1["agency_responsible"], "12345 政务服务便民热线");
        assert_eq!(r1["expected_datetime"], Value::Null, "not dispatched yet");
        assert_eq!(r1["lat"], json!(39.9042));
        assert_eq!(r1["long"], json!(116.4074));
        assert_eq!(r1["requested_datetime"], json!(iso(o.received_at)));
        assert!(r1["requested_datetime"].as_str().unwrap().ends_with("+08:00"));
        assert!(r1.get("caller_phone").is_none() && !one.body.contains("13912345678"), "no caller identity");
        let r3v = get(s, &format!("/open311/v2/requests/{no3}.json")).await.json();
        assert_eq!(r3v[0]["address_id"], json!(place), "address_id is a string");
        assert_eq!(r3v[0]["description"], "道路破损");
        let onex = get(s, &format!("/open311/v2/requests/{no1}.xml")).await;
        assert!(
            onex.body.contains(&format!(
                "<service_requests><request><service_request_id>{no1}</service_request_id><status>open</status>"
            )),
            "{}",
            onex.body
        );
        assert!(onex.body.contains("<zipcode/>"));
        get(s, "/open311/v2/requests/20990101-000001.json").await.error(StatusCode::NOT_FOUND);
        get(s, "/open311/v2/requests/20990101-000001.xml").await.error(StatusCode::NOT_FOUND);
        get(s, "/open311/v2/requests/a%00b.json").await.error(StatusCode::NOT_FOUND);
        get(s, "/open311/v2/services/a%00b.xml").await.error(StatusCode::NOT_FOUND);

        // Dispatch and close: agency, expected datetime, status.
        service::dispatch(
            &t.db,
            &fx.agent,
            "127.0.0.1",
            id1,
            &Dispatch { main_org: Some(fx.jyj), ..Default::default() },
        )
        .await
        .unwrap();
        let id2 = scalar(&t, "SELECT id FROM hl_orders WHERE no = $1", &no2).await;
        service::answer_directly(&t.db, &fx.agent, "127.0.0.1", id2, "已通知路灯所，今晚修复").await.unwrap();
        let after = get(s, &format!("/open311/v2/requests/{no1}.json")).await.json();
        assert_eq!(after[0]["agency_responsible"], "青禾区教育局", "{b}: {after}");
        let due = scalar(
            &t,
            "SELECT handle_due FROM hl_legs WHERE order_id = (SELECT id FROM hl_orders WHERE no = $1)",
            &no1,
        )
        .await;
        assert_eq!(after[0]["expected_datetime"], json!(iso(due)));
        assert!(after[0]["status_notes"].as_str().unwrap().starts_with("派至青禾区教育局"), "{after}");
        let closed = get(s, &format!("/open311/v2/requests/{no2}.json")).await.json();
        assert_eq!(closed[0]["status"], "closed");
        assert_eq!(closed[0]["status_notes"], "直接答复办结");

        // GET requests with filters.
        let list = |q: String| async move { get(s, &format!("/open311/v2/requests.json{q}")).await };
        let ids = |v: &Value| -> Vec<String> {
            v.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_string()).collect()
        };
        let all = list(String::new()).await.json();
        assert_eq!(ids(&all).len(), 4, "{b}: {all}");
        assert_eq!(ids(&all)[3], no1, "newest first");
        let roads = list("?service_code=cs.road".into()).await.json();
        assert_eq!(ids(&roads), [no4.as_str(), no3.as_str()]);
        let both = list("?service_code=cs.road,cs.light&status=closed".into()).await.json();
        assert_eq!(ids(&both), [no2.as_str()]);
        let open = list("?status=open".into()).await.json();
        assert_eq!(ids(&open).len(), 3);
        let openclosed = list("?status=open,closed".into()).await.json();
        assert_eq!(ids(&openclosed).len(), 4);
        // service_request_id overrides the other filters.
        let by_id = list(format!("?service_request_id={no1},{no3}&service_code=cs.nope&status=closed")).await.json();
        assert_eq!(ids(&by_id), [no3.as_str(), no1.as_str()]);
        let now = gongkai_kernel::clock::now_ms();
        let (from, to) = (iso(now - 86_400_000), iso(now + 86_400_000));
        let window = list(format!("?start_date={from}&end_date={to}")).await.json();
        assert_eq!(ids(&window).len(), 4, "{from}..{to}: {window}");
        let from_z = "2000-01-01T00:00:00Z";
        let past = list(format!("?start_date={from_z}")).await.json();
        assert!(ids(&past).is_empty(), "90 days from 2000");
        let future = list(format!("?end_date={}", iso(now - 86_400_000 * 100))).await.json();
        assert!(ids(&future).is_empty());
        // A '+' sent unencoded arrives as a space and is still understood.
        let raw = format!("?start_date={}&end_date={}", from.replace('+', "%20"), to);
        assert_eq!(ids(&list(raw).await.json()).len(), 4);
        let xl = get(s, "/open311/v2/requests.xml?status=closed").await;
        assert!(
            xl.body.contains(&format!(
                "<service_requests><request><service_request_id>{no2}</service_request_id><status>closed</status>"
            )),
            "{}",
            xl.body
        );
        let bad_filters = [
            ("?start_date=2026-02-30", "start_date"),
            ("?end_date=2026-02-30T10:00:00Z", "end_date"),
            ("?start_date=yesterday", "start_date"),
            ("?start_date=2026-01-01&end_date=2026-06-01", "90"),
            ("?start_date=2026-06-01&end_date=2026-01-01", "end_date"),
            ("?status=pending", "status"),
            ("?service_code=%00", "空字符"),
            ("?service_request_id=a%00b", "空字符"),
            ("?jurisdiction_id=elsewhere", "jurisdiction_id"),
        ];
        for (q, want) in bad_filters {
            for fmt in ["json", "xml"] {
                let status = if want == "jurisdiction_id" { StatusCode::NOT_FOUND } else { StatusCode::BAD_REQUEST };
                let e = get(s, &format!("/open311/v2/requests.{fmt}{q}")).await.error(status);
                assert!(e.contains(want), "{b} {fmt}{q}: {e}");
            }
        }
        let ok_jur = get(s, "/open311/v2/requests.json?jurisdiction_id=qinghe").await;
        assert_eq!(ok_jur.status, StatusCode::OK);
        // The jurisdiction id is a setting.
        {
            let mut tx = t.db.begin().await.unwrap();
            gongkai_kernel::calendar::store::put_setting(&mut tx.conn(), "hotline.jurisdiction_id", "qh-12345")
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        get(s, "/open311/v2/services.json?jurisdiction_id=qinghe").await.error(StatusCode::NOT_FOUND);
        assert_eq!(get(s, "/open311/v2/services.json?jurisdiction_id=qh-12345").await.status, StatusCode::OK);
        assert_eq!(get(s, "/open311/v2/services.json?jurisdiction_id=").await.status, StatusCode::OK, "empty ≡ absent");

        // Tokens.
        let token = text(&t, "SELECT token FROM hl_orders WHERE no = $1", &no1).await;
        let tk = get(s, &format!("/open311/v2/tokens/{token}.json")).await.json();
        assert_eq!(tk, json!([{"service_request_id": no1, "token": token}]));
        let tkx = get(s, &format!("/open311/v2/tokens/{token}.xml")).await;
        assert!(tkx.body.contains(&format!("<service_requests><request><service_request_id>{no1}</service_request_id><token>{token}</token></request></service_requests>")));
        get(s, "/open311/v2/tokens/nope.json").await.error(StatusCode::NOT_FOUND);
        get(s, "/open311/v2/tokens/nope.xml").await.error(StatusCode::NOT_FOUND);

        // servicerequestupdates: public timeline entries, oldest first.
        let up = get(s, "/open311/v2/servicerequestupdates.json").await.json();
        let of1: Vec<&Value> =
            up.as_array().unwrap().iter().filter(|u| u["service_request_id"] == json!(no1)).collect();
        assert_eq!(of1.len(), 2, "{b}: received and dispatched: {up}");
        assert_eq!(of1[0]["description"], "工单已受理");
        assert_eq!(of1[0]["status"], "open");
        assert!(of1[0]["update_id"].is_string());
        assert!(of1[1]["description"].as_str().unwrap().starts_with("派至"));
        let closed_up: Vec<&Value> =
            up.as_array().unwrap().iter().filter(|u| u["service_request_id"] == json!(no2)).collect();
        assert_eq!(closed_up.last().unwrap()["status"], "closed");
        let upx = get(s, "/open311/v2/servicerequestupdates.xml").await;
        assert!(upx.body.contains("<service_request_updates><request_update><update_id>"), "{}", upx.body);
        get(s, "/open311/v2/servicerequestupdates.json?start_date=2026-02-30").await.error(StatusCode::BAD_REQUEST);
        get(s, "/open311/v2/servicerequestupdates.xml?start_date=2025-01-01&end_date=2025-12-31")
            .await
            .error(StatusCode::BAD_REQUEST);

        // Unknown endpoints and formats, wrong methods, CORS.
        get(s, "/open311/v2/services.csv").await.error(StatusCode::NOT_FOUND);
        get(s, "/open311/v2/services").await.error(StatusCode::NOT_FOUND);
        get(s, "/open311/v2/reports.json").await.error(StatusCode::NOT_FOUND);
        get(s, "/open311/v2/a/b/c.xml").await.error(StatusCode::NOT_FOUND);
        get(s, "/open311/v3/services.json").await.error(StatusCode::NOT_FOUND);
        let m = post(s, "/open311/v2/services.json", &[("x", "y")], None).await;
        m.error(StatusCode::METHOD_NOT_ALLOWED);
        let d = got(http().delete(s.url("/open311/v2/requests/x.xml")).send().await.unwrap()).await;
        d.error(StatusCode::METHOD_NOT_ALLOWED);
        let cors = http().get(s.url("/open311/v2/services.json")).send().await.unwrap();
        assert_eq!(cors.headers()["access-control-allow-origin"], "*");
        let pre = http().request(reqwest::Method::OPTIONS, s.url("/open311/v2/requests.json")).send().await.unwrap();
        assert_eq!(pre.status(), StatusCode::NO_CONTENT);
        assert!(pre.headers()["access-control-allow-headers"].to_str().unwrap().contains("Idempotency-Key"));

        // Confidential orders and non-Open311 categories are not public.
        let gw = |body: Value| {
            let k = fx.key_wechat.clone();
            async move {
                got(http().post(s.url("/api/hotline/v1/orders")).bearer_auth(k).json(&body).send().await.unwrap()).await
            }
        };
        let conf =
            gw(json!({"kind": "report", "category": "cs.light", "content": "匿名举报", "confidential": true})).await;
        assert_eq!(conf.status, StatusCode::CREATED, "{}", conf.body);
        let conf_no = conf.json()["no"].as_str().unwrap().to_string();
        let inner = gw(json!({"kind": "consult", "category": "cs.inner", "content": "内部"})).await;
        let inner_no = inner.json()["no"].as_str().unwrap().to_string();
        for hidden in [&conf_no, &inner_no] {
            get(s, &format!("/open311/v2/requests/{hidden}.json")).await.error(StatusCode::NOT_FOUND);
        }
        let all_now = list(String::new()).await.json();
        assert_eq!(ids(&all_now).len(), 4, "{b}: the two are not listed");
        let up_now = get(s, "/open311/v2/servicerequestupdates.json").await.json();
        assert!(!up_now.to_string().contains(&conf_no) && !up_now.to_string().contains(&inner_no));
    }
}

#[tokio::test]
async fn a_retried_post_creates_one_order() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let fx = fixture(&t).await;
        let s = &fx.s;
        let form = light(&fx.key311, &[]);
        let first = post(s, "/open311/v2/requests.json", &form, Some("retry-1")).await;
        assert_eq!(first.status, StatusCode::CREATED, "{b}: {}", first.body);
        let no = first.json()[0]["service_request_id"].as_str().unwrap().to_string();
        let again = post(s, "/open311/v2/requests.xml", &form, Some("retry-1")).await;
        assert_eq!(again.status, StatusCode::OK, "{b}: a replay is 200: {}", again.body);
        assert!(again.body.contains(&format!("<service_request_id>{no}</service_request_id>")));
        // Concurrent retries: one order, every answer names it.
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let url = s.url("/open311/v2/requests.json");
            let form: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            tasks.push(tokio::spawn(async move {
                let r = http().post(url).header("Idempotency-Key", "burst-7").form(&form).send().await.unwrap();
                (r.status(), r.text().await.unwrap())
            }));
        }
        let mut created = 0;
        let mut numbers = std::collections::BTreeSet::new();
        for task in tasks {
            let (status, body) = task.await.unwrap();
            assert!(status == StatusCode::CREATED || status == StatusCode::OK, "{b}: {status} {body}");
            created += (status == StatusCode::CREATED) as i32;
            let v: Value = serde_json::from_str(&body).unwrap();
            numbers.insert(v[0]["service_request_id"].as_str().unwrap().to_string());
        }
        assert_eq!(created, 1, "{b}");
        assert_eq!(numbers.len(), 1, "{b}: {numbers:?}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_orders WHERE channel = $1", "open311").await, 2, "{b}");
        // A burst of distinct requests shares the writer's multi-row batches: each one is
        // stored once with its number, its `received` entry and its audit entry.
        let mut tasks = Vec::new();
        for i in 0..40 {
            let url = s.url("/open311/v2/requests.json");
            let mut form: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            form.retain(|(k, _)| k != "description");
            form.push(("description".into(), format!("第 {i} 件")));
            tasks.push(tokio::spawn(async move {
                let mut r = http().post(url);
                if i % 2 == 0 {
                    r = r.header("Idempotency-Key", format!("many-{i}"));
                }
                let r = r.form(&form).send().await.unwrap();
                (r.status(), r.text().await.unwrap())
            }));
        }
        let mut burst = std::collections::BTreeSet::new();
        for task in tasks {
            let (status, body) = task.await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{b}: {body}");
            let v: Value = serde_json::from_str(&body).unwrap();
            burst.insert(v[0]["service_request_id"].as_str().unwrap().to_string());
        }
        assert_eq!(burst.len(), 40, "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_orders WHERE channel = $1", "open311").await, 42, "{b}");
        for no in &burst {
            let id: i64 = no.rsplit('-').next().unwrap().parse().unwrap();
            assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_orders WHERE no = $1", no).await, 1, "{b}: {no}");
            assert_eq!(
                text(&t, "SELECT CAST(id AS TEXT) FROM hl_orders WHERE no = $1", no).await,
                id.to_string(),
                "{b}: the number ends with the id"
            );
            assert_eq!(
                scalar(
                    &t,
                    "SELECT COUNT(*) FROM hl_events e JOIN hl_orders o ON o.id = e.order_id WHERE o.no = $1 AND e.kind = 'received'",
                    no
                )
                .await,
                1,
                "{b}: {no}"
            );
        }
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "hotline.intake").await, 42, "{b}");
        assert!(matches!(
            gongkai_kernel::audit::verify(&t.db).await.unwrap(),
            gongkai_kernel::audit::Verdict::Intact { .. }
        ));
        // Without a key each POST is a new order; keys are per client.
        post(s, "/open311/v2/requests.json", &form, None).await;
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_orders WHERE channel = $1", "open311").await, 43);
        let other = client_key(&t, "另一客户端", "open311", "app").await;
        let theirs = post(s, "/open311/v2/requests.json", &light(&other, &[]), Some("retry-1")).await;
        assert_eq!(theirs.status, StatusCode::CREATED, "another client's same key is its own");
        assert_ne!(theirs.json()[0]["service_request_id"], json!(no));
        assert_eq!(
            text(
                &t,
                "SELECT channel FROM hl_orders WHERE no = $1",
                theirs.json()[0]["service_request_id"].as_str().unwrap()
            )
            .await,
            "app"
        );
    }
}

#[tokio::test]
async fn the_inbound_gateway_files_and_reads_back_orders() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let fx = fixture(&t).await;
        let s = &fx.s;
        let url = s.url("/api/hotline/v1/orders");
        let send = |key: Option<&str>, idem: Option<&str>, body: String| {
            let mut r = http().post(&url).header("content-type", "application/json").body(body);
            if let Some(k) = key {
                r = r.bearer_auth(k);
            }
            if let Some(k) = idem {
                r = r.header("Idempotency-Key", k);
            }
            async move { got(r.send().await.unwrap()).await }
        };
        let good = json!({
            "caller_name": "李四", "caller_phone": "13800001111", "caller_email": "li@example.cn",
            "kind": "complain", "category": "cs.light", "urgency": "high", "tags": ["营商环境"],
            "title": "路灯不亮", "content": "东街路灯三晚不亮", "address": "东街 1 号", "lat": 39.9, "lng": 116.4
        })
        .to_string();
        // Keys.
        for key in [None, Some("gkin_wrong"), Some(fx.key311.as_str())] {
            let r = send(key, None, good.clone()).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{b} {key:?}: {}", r.body);
            assert!(r.json()["errors"]["authorization"].as_str().unwrap().contains("密钥"));
        }
        let basic = got(http()
            .post(&url)
            .header("authorization", format!("Basic {}", fx.key_wechat))
            .body(good.clone())
            .send()
            .await
            .unwrap())
        .await;
        assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
        // Creation and its replay.
        let r = send(Some(&fx.key_wechat), Some("wx-msg-1"), good.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {}", r.body);
        let v = r.json();
        let no = v["no"].as_str().unwrap().to_string();
        assert_eq!(v["state"], "received");
        assert_eq!(v["state_label"], "待派单");
        assert_eq!(v["channel"], "wechat");
        assert_eq!(v["created"], json!(true));
        let again = send(Some(&fx.key_wechat), Some("wx-msg-1"), good.clone()).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.json()["no"], json!(no));
        assert_eq!(again.json()["created"], json!(false));
        let other_client = send(Some(&fx.key_app), Some("wx-msg-1"), good.clone()).await;
        assert_eq!(other_client.status, StatusCode::CREATED, "keys are per client");
        assert_eq!(other_client.json()["channel"], "app");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_orders WHERE caller_phone = $1", "13800001111").await, 2, "{b}");
        let id = scalar(&t, "SELECT id FROM hl_orders WHERE no = $1", &no).await;
        let o = {
            let mut h = t.db.read().await.unwrap();
            store::get_order(&mut h.conn(), id, false).await.unwrap().unwrap()
        };
        assert_eq!((o.kind.as_str(), o.urgency.as_str(), o.tags.as_str()), ("complain", "high", "营商环境"));
        assert_eq!(
            (o.caller_name.as_str(), o.caller_email.as_str(), o.address.as_str()),
            ("李四", "li@example.cn", "东街 1 号")
        );
        assert_eq!(o.token, None, "tokens are for Open311");
        // Field errors in Chinese, never a 500.
        let bad =
            send(Some(&fx.key_wechat), None, json!({"content": "", "kind": "", "caller_phone": "abc"}).to_string())
                .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
        let e = &bad.json()["errors"];
        assert!(e["kind"].as_str().unwrap().contains("诉求类型"), "{e}");
        assert!(e["content"].as_str().unwrap().contains("诉求内容"), "{e}");
        assert!(e["caller_phone"].as_str().unwrap().contains("电话"), "{e}");
        let typed = send(
            Some(&fx.key_wechat),
            None,
            json!({"kind": 3, "lat": "39", "tags": "a", "anonymous": 1, "colour": "red"}).to_string(),
        )
        .await;
        assert_eq!(typed.status, StatusCode::UNPROCESSABLE_ENTITY);
        for f in ["kind", "lat", "tags", "anonymous", "colour"] {
            assert!(typed.json()["errors"][f].is_string(), "{f}: {}", typed.body);
        }
        let cases = [
            (json!({"kind": "consult", "content": "x", "category": "nope"}), "category"),
            (json!({"kind": "consult", "content": "<b>x</b>"}), "content"),
            (json!({"kind": "consult", "content": "x".repeat(4001)}), "content"),
            (json!({"kind": "consult", "content": "x", "related": ["20990101-000001"]}), "related"),
            (json!({"kind": "consult", "content": "x", "lat": 91.0, "lng": 1.0}), "lat"),
            (json!({"kind": "consult", "content": "x", "lng": 1.0}), "lat"),
            (json!({"kind": "consult", "content": "x", "urgency": "whenever"}), "urgency"),
            (json!({"kind": "consult", "content": "x", "media_url": "javascript:alert(1)"}), "media_url"),
            (json!({"kind": "consult", "content": "a\u{0}b"}), "content"),
            (json!({"kind": "consult", "content": "x", "tags": ["a\u{0}"]}), "tags"),
        ];
        for (body, field) in cases {
            let r = send(Some(&fx.key_wechat), None, body.to_string()).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{b} {body}: {}", r.body);
            assert!(r.json()["errors"][field].is_string(), "{field}: {}", r.body);
        }
        for raw in ["{not json", "[1, 2]", ""] {
            let r = send(Some(&fx.key_wechat), None, raw.to_string()).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{raw}: {}", r.body);
            assert!(r.json()["errors"]["body"].is_string());
        }
        // A title from the content when none is given; related orders linked.
        let derived = send(
            Some(&fx.key_wechat),
            None,
            json!({"kind": "consult", "content": "请问社保卡在哪里补办", "related": [no]}).to_string(),
        )
        .await;
        assert_eq!(derived.status, StatusCode::CREATED, "{}", derived.body);
        let dno = derived.json()["no"].as_str().unwrap().to_string();
        assert_eq!(text(&t, "SELECT title FROM hl_orders WHERE no = $1", &dno).await, "请问社保卡在哪里补办");
        assert_eq!(
            scalar(&t, "SELECT COUNT(*) FROM hl_links WHERE order_id = (SELECT id FROM hl_orders WHERE no = $1)", &dno)
                .await,
            1
        );
        // Reading back: its own orders only, state and the public timeline.
        service::dispatch(
            &t.db,
            &fx.agent,
            "127.0.0.1",
            id,
            &Dispatch { main_org: Some(fx.jyj), ..Default::default() },
        )
        .await
        .unwrap();
        let read = |key: Option<String>, no: String| {
            let mut r = http().get(s.url(&format!("/api/hotline/v1/orders/{no}")));
            if let Some(k) = key {
                r = r.bearer_auth(k);
            }
            async move { got(r.send().await.unwrap()).await }
        };
        let mine = read(Some(fx.key_wechat.clone()), no.clone()).await;
        assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
        let m = mine.json();
        assert_eq!(m["state"], "dispatched");
        assert_eq!(m["state_label"], "办理中");
        assert_eq!(m["status"], "open");
        assert_eq!(m["answer"], Value::Null);
        let tl = m["timeline"].as_array().unwrap();
        assert_eq!(tl.len(), 2, "{m}");
        assert_eq!(tl[0]["label"], "受理");
        assert_eq!(tl[1]["kind"], "dispatched");
        assert!(tl[1]["at"].as_str().unwrap().ends_with("+08:00"));
        assert!(!mine.body.contains("13800001111"), "the caller's phone is not echoed");
        assert_eq!(
            read(Some(fx.key_app.clone()), no.clone()).await.status,
            StatusCode::NOT_FOUND,
            "another gateway's order"
        );
        assert_eq!(read(None, no.clone()).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(read(Some(fx.key_wechat.clone()), "20990101-000001".into()).await.status, StatusCode::NOT_FOUND);
        assert_eq!(read(Some(fx.key_wechat.clone()), "a%00b".into()).await.status, StatusCode::NOT_FOUND);
        let wrong_method = got(http().put(s.url("/api/hotline/v1/orders")).send().await.unwrap()).await;
        assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
        // A deactivated key stops working at once.
        let admin_id = testkit::user_with_role(&t.db, "gwadmin", Some(Role::SysAdmin)).await;
        let admin = testkit::principal(&t.db, admin_id).await;
        let wid = scalar(&t, "SELECT id FROM hl_clients WHERE name = $1", "青禾微信公众号").await;
        clients::deactivate(&t.db, &admin, "127.0.0.1", wid).await.unwrap();
        assert_eq!(send(Some(&fx.key_wechat), None, good.clone()).await.status, StatusCode::UNAUTHORIZED);
    }
}

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

#[tokio::test]
async fn the_console_creates_shows_once_and_deactivates_keys() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let fx = fixture(&t).await;
        let s = &fx.s;
        testkit::user_with_role(&t.db, "admin", Some(Role::SysAdmin)).await;
        testkit::user_with_role(&t.db, "seat", Some(Role::Agent)).await;
        let (c, csrf) = login(s, "admin").await;
        let page = c.get(s.url("/console/hotline/clients")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{b}");
        let page = page.text().await.unwrap();
        assert!(
            page.contains("热线接口客户端") && page.contains("城管通") && page.contains("青禾微信公众号"),
            "{page}"
        );
        assert!(page.contains("aria-current=\"page\">热线接口</a>"), "in the navigation");
        // Create: the key is shown in this answer only.
        let r = c
            .post(s.url("/console/hotline/clients"))
            .form(&[("_csrf", csrf.as_str()), ("name", "市民邮箱网关 <b>"), ("kind", "inbound"), ("channel", "email")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let body = r.text().await.unwrap();
        assert!(body.contains("市民邮箱网关 &lt;b&gt;"), "escaped");
        let i = body.find("<code>gkin_").unwrap() + 6;
        let key = body[i..].split('<').next().unwrap().to_string();
        assert_eq!(key.len(), 5 + 48, "{key}");
        let again = c.get(s.url("/console/hotline/clients")).send().await.unwrap().text().await.unwrap();
        assert!(!again.contains(&key), "shown once");
        assert_eq!(
            text(&t, "SELECT key_hash FROM hl_clients WHERE channel = $1", "email").await,
            clients::key_hash(&key)
        );
        let filed = got(http()
            .post(s.url("/api/hotline/v1/orders"))
            .bearer_auth(&key)
            .json(&json!({"kind": "consult", "content": "邮件来信"}))
            .send()
            .await
            .unwrap())
        .await;
        assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.body);
        assert_eq!(filed.json()["channel"], "email");
        // Field errors keep what was typed.
        let bad = c
            .post(s.url("/console/hotline/clients"))
            .form(&[("_csrf", csrf.as_str()), ("name", "错配"), ("kind", "inbound"), ("channel", "open311")])
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let bad = bad.text().await.unwrap();
        assert!(bad.contains("渠道接入只能选择") && bad.contains("value=\"错配\""), "{bad}");
        // No CSRF token: refused.
        let forged = c
            .post(s.url("/console/hotline/clients"))
            .form(&[("name", "伪造"), ("kind", "inbound"), ("channel", "email")])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        // Deactivate.
        let id = scalar(&t, "SELECT id FROM hl_clients WHERE channel = $1", "email").await;
        let d = c
            .post(s.url(&format!("/console/hotline/clients/{id}/deactivate")))
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(d.status(), StatusCode::SEE_OTHER, "{b}");
        let after = c.get(s.url("/console/hotline/clients")).send().await.unwrap().text().await.unwrap();
        assert!(after.contains("已停用"));
        let refused = got(http()
            .post(s.url("/api/hotline/v1/orders"))
            .bearer_auth(&key)
            .json(&json!({"kind": "consult", "content": "x"}))
            .send()
            .await
            .unwrap())
        .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        // Audited, without the key.
        let n = scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "hotline.client_create").await;
        assert_eq!(n, 4, "{b}: three in the fixture, one here");
        assert_eq!(
            scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "hotline.client_deactivate").await,
            1
        );
        assert_eq!(
            scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE summary LIKE $1", &format!("%{}%", &key[5..])).await,
            0
        );
        // Someone without SettingsManage.
        let (seat, seat_csrf) = login(s, "seat").await;
        assert_eq!(seat.get(s.url("/console/hotline/clients")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        let sneak = seat
            .post(s.url("/console/hotline/clients"))
            .form(&[("_csrf", seat_csrf.as_str()), ("name", "x"), ("kind", "inbound"), ("channel", "email")])
            .send()
            .await
            .unwrap();
        assert_eq!(sneak.status(), StatusCode::FORBIDDEN);
        for (method, path, _) in gongkai_hotline::open311::ROUTES.iter().map(|r| (r.method, r.path, r.perm)) {
            let path = path.replace("{id}", &id.to_string());
            let r = if method == "get" {
                seat.get(s.url(&path))
            } else {
                seat.post(s.url(&path)).form(&[("_csrf", seat_csrf.as_str())])
            };
            assert_eq!(r.send().await.unwrap().status(), StatusCode::FORBIDDEN, "{method} {path}");
        }
    }
}

#[tokio::test]
async fn cross_site_posts_reach_the_key_apis_and_nothing_else() {
    let t = testkit::sqlite().await;
    let fx = fixture(&t).await;
    let s = &fx.s;
    // What a browser sends for a form posted from another site.
    let cross = |r: reqwest::RequestBuilder| {
        r.header("origin", "https://elsewhere.example").header("sec-fetch-site", "cross-site")
    };
    let r =
        got(cross(http().post(s.url("/open311/v2/requests.json"))).form(&light(&fx.key311, &[])).send().await.unwrap())
            .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let g = got(cross(http().post(s.url("/api/hotline/v1/orders")))
        .bearer_auth(&fx.key_wechat)
        .json(&json!({"kind": "consult", "content": "跨站"}))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(g.status, StatusCode::CREATED, "{}", g.body);
    // The console keeps its check.
    testkit::user_with_role(&t.db, "admin", Some(Role::SysAdmin)).await;
    let (c, csrf) = login(s, "admin").await;
    let forged = cross(c.post(s.url("/console/hotline/clients")))
        .form(&[("_csrf", csrf.as_str()), ("name", "x"), ("kind", "inbound"), ("channel", "email")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_clients WHERE name = $1", "x").await, 0);
}

// --- outside checkers -------------------------------------------------------------------

/// The Python with these modules, or None (a note, or a failure under GONGKAI_REQUIRE_CHECKERS).
fn python_with(modules: &str) -> Option<PathBuf> {
    let py = checkers::python()?;
    let ok = Command::new(&py)
        .args(["-c", &format!("import {modules}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(!checkers::required(), "{modules} missing from {} but GONGKAI_REQUIRE_CHECKERS is set", py.display());
        eprintln!(
            "check not run: `import {modules}` fails in {} (pip install -r tools/requirements.txt)",
            py.display()
        );
        return None;
    }
    Some(py)
}

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/open311-schemas")
}

/// Validates each (name, schema, instance): a schema is a file of tests/open311-schemas
/// or an inline schema that may refer to them (`swagger.json#/definitions/…`). Every
/// `*_datetime` string must also be ISO 8601 with the +08:00 offset.
const VALIDATE: &str = r#"
import json, sys, pathlib, datetime
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
d = pathlib.Path(sys.argv[1])
registry = Registry().with_resources(
    [(p.name, Resource.from_contents(json.loads(p.read_text("utf-8")), default_specification=DRAFT7)) for p in d.glob("*.json")])
def dates(v, path, out):
    if isinstance(v, dict):
        for k, x in v.items():
            if k.endswith("_datetime") and isinstance(x, str):
                try:
                    t = datetime.datetime.fromisoformat(x)
                    if t.utcoffset() != datetime.timedelta(hours=8):
                        out.append(f"{path}/{k}: offset is not +08:00: {x}")
                except ValueError:
                    out.append(f"{path}/{k}: not ISO 8601: {x}")
            dates(x, f"{path}/{k}", out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            dates(x, f"{path}/{i}", out)
cases = json.load(sys.stdin)
out = []
for name, schema, instance in cases:
    if isinstance(schema, str):
        schema = json.loads((d / schema).read_text("utf-8"))
    errs = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in Draft7Validator(schema, registry=registry).iter_errors(instance)]
    dates(instance, "", errs)
    out.append({"name": name, "errors": errs})
print(json.dumps(out, ensure_ascii=False))
"#;

fn validate(py: &PathBuf, cases: &Value) -> Vec<(String, Vec<String>)> {
    let mut child = Command::new(py)
        .args(["-c", VALIDATE])
        .arg(schema_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(cases.to_string().as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "jsonschema run failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().to_string()).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_json_response_matches_the_open311_schemas() {
    let Some(py) = python_with("jsonschema, referencing") else { return };
    for t in testkit::backends().await {
        let b = t.backend_name();
        let fx = fixture(&t).await;
        let s = &fx.s;
        let created = post(
            s,
            "/open311/v2/requests.json",
            &light(&fx.key311, &[("account_id", "u-1"), ("media_url", "https://img.example/1.jpg")]),
            None,
        )
        .await;
        let no = created.json()[0]["service_request_id"].as_str().unwrap().to_string();
        let plain = post(
            s,
            "/open311/v2/requests.json",
            &[("api_key", &fx.key311), ("service_code", "cs.road"), ("address_string", "北路")],
            None,
        )
        .await;
        let id = scalar(&t, "SELECT id FROM hl_orders WHERE no = $1", &no).await;
        service::dispatch(
            &t.db,
            &fx.agent,
            "127.0.0.1",
            id,
            &Dispatch { main_org: Some(fx.jyj), ..Default::default() },
        )
        .await
        .unwrap();
        let token = text(&t, "SELECT token FROM hl_orders WHERE no = $1", &no).await;
        let j = |path: &str| {
            let path = path.to_string();
            async move { get(s, &path).await.json() }
        };
        let request = j(&format!("/open311/v2/requests/{no}.json")).await;
        let array_of = |def: &str| json!({"type": "array", "minItems": 1, "items": {"$ref": format!("swagger.json#/definitions/{def}")}});
        let error_schema = json!({"type": "array", "minItems": 1, "items": {"type": "object", "required": ["code", "description"],
            "properties": {"code": {"type": "integer"}, "description": {"type": "string", "minLength": 1}}, "additionalProperties": false}});
        let discovery_schema = json!({"type": "object", "required": ["changeset", "contact", "key_service", "endpoints"],
            "properties": {"endpoints": {"type": "array", "minItems": 1, "items": {"type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {"type": {"enum": ["production", "test"]}, "formats": {"type": "array", "items": {"type": "string"}},
                               "url": {"type": "string", "pattern": "^https?://"}}}}}});
        let updates_schema = json!({"type": "array", "minItems": 1, "items": {"type": "object",
            "required": ["update_id", "service_request_id", "status", "updated_datetime", "description"],
            "properties": {"update_id": {"type": "string"}, "service_request_id": {"type": "string"},
                "status": {"enum": ["open", "closed"]}, "updated_datetime": {"type": "string"}, "description": {"type": "string"},
                "media_url": {"type": ["string", "null"]}}}});
        let err403 = post(s, "/open311/v2/requests.json", &light("nope", &[]), None).await.json();
        let err400 =
            post(s, "/open311/v2/requests.json", &[("api_key", &fx.key311), ("service_code", "cs.light")], None)
                .await
                .json();
        let err404 = j("/open311/v2/services/nope.json").await;
        // A response that breaks the schema, so the check is known to bite.
        let mut broken = request.clone();
        broken[0]["service_request_id"] = json!(42);
        broken[0]["requested_datetime"] = json!("2026-02-30T00:00:00+08:00");
        let cases = json!([
            ["services", "services.json", j("/open311/v2/services.json").await],
            [
                "service definition with attributes",
                "service-definition.json",
                j("/open311/v2/services/cs.light.json").await
            ],
            ["service definition without", "service-definition.json", j("/open311/v2/services/cs.road.json").await],
            ["requests", "requests.json", j("/open311/v2/requests.json").await],
            ["requests by id", "requests.json", j(&format!("/open311/v2/requests.json?service_request_id={no}")).await],
            ["one request", "requests.json", request],
            ["one request item", "request.json", request[0]],
            ["post response", array_of("RequestResponse"), created.json()],
            ["post response without account", array_of("RequestResponse"), plain.json()],
            ["token", array_of("TokenResponse"), j(&format!("/open311/v2/tokens/{token}.json")).await],
            ["error 403", error_schema, err403],
            ["error 400", error_schema, err400],
            ["error 404", error_schema, err404],
            ["discovery", discovery_schema, j("/open311/v2/discovery.json").await],
            ["updates", updates_schema, j("/open311/v2/servicerequestupdates.json").await],
            ["broken", "requests.json", broken],
        ]);
        let py = py.clone();
        let results = tokio::task::spawn_blocking(move || validate(&py, &cases)).await.unwrap();
        assert_eq!(results.len(), 16);
        for (name, errs) in &results {
            if name == "broken" {
                let all = errs.join("\n");
                assert!(all.contains("0/service_request_id: 42 is not of type 'string'"), "{b}: {all}");
                assert!(all.contains("requested_datetime: not ISO 8601"), "{b}: {all}");
            } else {
                assert!(errs.is_empty(), "{b}: {name} breaks the schema:\n{}", errs.join("\n"));
            }
        }
    }
}

#[tokio::test]
async fn a_real_python_open311_client_lists_reads_files_and_reads_back() {
    let Some(py) = python_with("civicbot, georeport") else { return };
    for t in testkit::backends().await {
        let b = t.backend_name();
        let fx = fixture(&t).await;
        let base = fx.s.url("/open311/v2");
        let key = fx.key311.clone();
        let script = checkers::repo_root().join("tools/open311_client.py");
        let py = py.clone();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(&py)
                .arg(&script)
                .args(["--base", &base, "--api-key", &key, "--jurisdiction", "qinghe", "--service", "cs.light"])
                .args(["--lat", "39.9042", "--long", "116.4074", "--description", "北路口路灯闪烁"])
                .args(["--email", "py@example.cn", "--attribute", "pole=C-7", "--attribute", "sides=n,s"])
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(out.status.success(), "{b}: the client failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["services"], json!(["cs.light", "cs.road", "cs.tree.fallen"]), "{b}: {r}");
        assert_eq!(r["definition_codes"], json!(["pole", "sides", "kind", "height", "seen", "tip"]));
        assert_eq!(r["form"]["attribute[sides][]"], json!(["n", "s"]), "the client sent a multi-value list");
        let no = r["created"]["service_request_id"].as_str().unwrap().to_string();
        assert_eq!(r["read_back"]["service_request_id"], json!(no));
        assert_eq!(r["read_back"]["description"], "北路口路灯闪烁");
        assert_eq!(r["read_back"]["status"], "open");
        assert!(r["listed_ids"].as_array().unwrap().contains(&json!(no)));
        assert_eq!(r["xml_services"], r["services"], "the XML service list reads the same");
        assert_eq!(r["xml_definition_codes"], r["definition_codes"]);
        assert_eq!(r["xml_request"]["service_request_id"], json!(no));
        assert_eq!(r["xml_request"]["status"], "open");
        assert_eq!(r["xml_request"]["description"], "北路口路灯闪烁");
        assert_eq!(r["xml_listed_ids"], json!([no]));
        // What the client filed is the order.
        let id = scalar(&t, "SELECT id FROM hl_orders WHERE no = $1", &no).await;
        let o = {
            let mut h = t.db.read().await.unwrap();
            store::get_order(&mut h.conn(), id, false).await.unwrap().unwrap()
        };
        assert_eq!((o.channel.as_str(), o.caller_email.as_str()), ("open311", "py@example.cn"));
        assert_eq!(serde_json::from_str::<Value>(&o.attributes).unwrap(), json!({"pole": "C-7", "sides": ["n", "s"]}));
    }
}
