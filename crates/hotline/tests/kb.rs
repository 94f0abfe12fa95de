//! The knowledge base (知识库) on SQLite and PostgreSQL: a proposal reviewed by its owner and
//! then found by search (two-character queries included), a rejection and the proposal
//! again, the 待更新 flag, a proposal from an answered order, who may do what, the audit
//! trail, the JSON search contract over HTTP and the demo seed.

use gongkai_hotline::kb::service::{self, EntryForm, ListQuery};
use gongkai_hotline::service::{self as orders, By, Dispatch, Intake};
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::error::Error;
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestDb, TestServer};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;
use reqwest::{Client, StatusCode, redirect::Policy};

const IP: &str = "127.0.0.1";

async fn user(t: &TestDb, name: &str, role: Role, org: Option<i64>) -> Principal {
    let id = testkit::user_with_role(&t.db, name, None).await;
    let actor = gongkai_kernel::audit::Actor::system("test");
    gongkai_kernel::auth::service::grant(&t.db, None, &actor, id, role, org, None).await.unwrap();
    testkit::principal(&t.db, id).await
}

async fn org_id(t: &TestDb, short: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    with_conn!(&mut h.conn(), x => {
        sqlx::query_scalar::<_, i64>("SELECT id FROM orgs WHERE short_name = $1").bind(short).fetch_one(&mut **x).await
    })
    .unwrap()
}

async fn scalar(t: &TestDb, sql: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let sql = sql.to_string();
    with_conn!(&mut h.conn(), x => {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(&mut **x).await
    })
    .unwrap()
}

struct People {
    agent: Principal,
    jyj: Principal,
    zjj: Principal,
    leader: Principal,
    editor: Principal,
}

async fn people(t: &TestDb) -> People {
    let (rxzx, jyj, zjj) = (org_id(t, "热线中心").await, org_id(t, "区教育局").await, org_id(t, "区住建局").await);
    People {
        agent: user(t, "kb-agent", Role::Agent, Some(rxzx)).await,
        jyj: user(t, "kb-jyj", Role::Handler, Some(jyj)).await,
        zjj: user(t, "kb-zjj", Role::Handler, Some(zjj)).await,
        leader: user(t, "kb-leader", Role::Leader, None).await,
        editor: user(t, "kb-editor", Role::Editor, None).await,
    }
}

async fn setup() -> Vec<(TestDb, People)> {
    let mut out = Vec::new();
    for t in testkit::backends().await {
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        gongkai_hotline::init(&t.db).await.unwrap();
        let p = people(&t).await;
        out.push((t, p));
    }
    out
}

fn entry(question: &str, answer: &str, org: i64) -> EntryForm {
    EntryForm {
        question: question.into(),
        answer: answer.into(),
        source: "《义务教育招生工作实施方案》".into(),
        valid_until: "2099-12-31".into(),
        org_id: org.to_string(),
        ..Default::default()
    }
}

fn field(e: Error) -> String {
    match e {
        Error::Invalid(f) => f.0.into_iter().map(|(k, _)| k).collect::<Vec<_>>().join(","),
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn forbidden(e: Error) {
    assert!(matches!(e, Error::Forbidden(_)), "expected a refusal, got {e:?}");
}

#[tokio::test]
async fn proposal_review_search_rejection_and_stale_entries() {
    for (t, p) in setup().await {
        let b = t.backend_name();
        let jyj = org_id(&t, "区教育局").await;
        let zjj = org_id(&t, "区住建局").await;

        // Field checks.
        let bad = EntryForm { org_id: String::new(), valid_until: "31/12/2099".into(), ..Default::default() };
        assert_eq!(
            field(service::propose(&t.db, &p.agent, IP, &bad).await.unwrap_err()),
            "question,answer,valid_until,org_id"
        );
        let html = entry("<script>alert(1)</script>入学", "答复", jyj);
        assert_eq!(field(service::propose(&t.db, &p.agent, IP, &html).await.unwrap_err()), "question");

        // The agent proposes; only the owner reviews.
        let school = entry(
            "小学一年级报名需要准备哪些材料？",
            "需要户口簿、房产证明和父母一方的社保缴纳证明，外地户籍还需居住证；医保参保凭证不必提供。",
            jyj,
        );
        let k = service::propose(&t.db, &p.agent, IP, &school).await.unwrap();
        assert_eq!(k.state, "proposed", "{b}");
        assert!(k.tokens.contains("小学"), "tokens are filled: {}", k.tokens);
        assert!(service::search(&t.db, &p.agent, "社保", 8).await.unwrap().is_empty(), "not active yet");
        forbidden(service::review(&t.db, &p.agent, IP, k.id, true, "").await.unwrap_err());
        forbidden(service::review(&t.db, &p.zjj, IP, k.id, true, "").await.unwrap_err());
        let k = service::review(&t.db, &p.jyj, IP, k.id, true, "口径准确").await.unwrap();
        assert_eq!((k.state.as_str(), k.reviewed_by), ("active", Some(p.jyj.user_id)), "{b}");
        assert!(matches!(service::review(&t.db, &p.jyj, IP, k.id, true, "").await.unwrap_err(), Error::Conflict(_)));

        // A second active entry (the leader reviews for any organisation).
        let med =
            entry("医保报销需要带什么？", "携带医保电子凭证或社会保障卡到定点医院直接结算，异地就医需先备案。", zjj);
        let m = service::propose(&t.db, &p.jyj, IP, &med).await.unwrap();
        service::review(&t.db, &p.leader, IP, m.id, true, "").await.unwrap();

        // Search: two-character words, the question weighted over the answer.
        let hits = service::search(&t.db, &p.agent, "社保", 8).await.unwrap();
        assert_eq!(hits.first().map(|h| h.id), Some(k.id), "{b}: {hits:?}");
        let hits = service::search(&t.db, &p.jyj, "医保", 8).await.unwrap();
        let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
        assert_eq!(ids, vec![m.id, k.id], "a question match ranks above an answer match ({b}): {hits:?}");
        assert!(!hits[0].stale && hits[0].score > 0.0);
        assert_eq!(hits[0].valid_until.as_deref(), Some("2099-12-31"));
        let hits = service::search(&t.db, &p.agent, "孩子上小学报名", 8).await.unwrap();
        assert_eq!(hits.first().map(|h| h.id), Some(k.id), "{b}: {hits:?}");
        assert!(service::search(&t.db, &p.agent, "公积金", 8).await.unwrap().is_empty());
        assert_eq!(service::search(&t.db, &p.agent, "社保", 1).await.unwrap().len(), 1, "limit");

        // A rejection needs a note, hides the entry from search, and the proposer may
        // propose it again by editing.
        let noise = entry("工地夜间施工噪音扰民怎么办？", "向区住建局投诉。", zjj);
        let n = service::propose(&t.db, &p.agent, IP, &noise).await.unwrap();
        assert_eq!(field(service::review(&t.db, &p.zjj, IP, n.id, false, " ").await.unwrap_err()), "note");
        let n = service::review(&t.db, &p.zjj, IP, n.id, false, "请写明夜间施工的禁止时段").await.unwrap();
        assert_eq!((n.state.as_str(), n.review_note.as_str()), ("rejected", "请写明夜间施工的禁止时段"), "{b}");
        assert!(service::search(&t.db, &p.agent, "噪音", 8).await.unwrap().is_empty());
        forbidden(service::edit(&t.db, &p.jyj, IP, n.id, &noise).await.unwrap_err());
        let again = EntryForm {
            answer: "晚22时至次日6时禁止施工，可向区住建局投诉。".into(), ..noise.clone()
        };
        let n = service::edit(&t.db, &p.agent, IP, n.id, &again).await.unwrap();
        assert_eq!(n.state, "proposed", "{b}");
        service::review(&t.db, &p.zjj, IP, n.id, true, "").await.unwrap();
        assert_eq!(service::search(&t.db, &p.agent, "噪音", 8).await.unwrap().len(), 1);

        // Stale: past its date, flagged in search and listed under 待更新.
        let past = EntryForm { valid_until: "2020-01-01".into(), ..med.clone() };
        let m2 = service::edit(&t.db, &p.zjj, IP, m.id, &past).await.unwrap();
        assert_eq!(m2.state, "active", "the owner's edit keeps the entry active ({b})");
        let hits = service::search(&t.db, &p.agent, "医保", 8).await.unwrap();
        assert!(hits[0].stale, "{b}: {hits:?}");
        let (rows, total) =
            service::list(&t.db, &p.agent, &ListQuery { stale: "1".into(), ..Default::default() }).await.unwrap();
        assert_eq!((total, rows[0].r.id, rows[0].stale), (1, m.id, true), "{b}");
        let (rows, _) = service::list(&t.db, &p.agent, &ListQuery::default()).await.unwrap();
        assert_eq!(rows.iter().filter(|r| r.stale).count(), 1);
        let (rows, total) =
            service::list(&t.db, &p.agent, &ListQuery { q: "医保".into(), ..Default::default() }).await.unwrap();
        assert_eq!((total, rows[0].r.id, rows[1].r.id), (2, m.id, k.id), "the list ranks by the query too ({b})");

        // The centre edits another organisation's entry: it goes back to the owner.
        let by_centre = EntryForm { answer: format!("{}（热线中心补充）", school.answer), ..school.clone() };
        let k2 = service::edit(&t.db, &p.agent, IP, k.id, &by_centre).await.unwrap();
        assert_eq!(k2.state, "proposed", "{b}");
        let (rows, total) =
            service::list(&t.db, &p.jyj, &ListQuery { review: "1".into(), ..Default::default() }).await.unwrap();
        assert_eq!((total, rows[0].r.id, rows[0].mine_to_review), (1, k.id, true), "{b}");
        service::review(&t.db, &p.jyj, IP, k.id, true, "").await.unwrap();

        // Retiring: owners and the centre, not other organisations; then it is gone from search.
        forbidden(service::retire(&t.db, &p.zjj, IP, k.id, "").await.unwrap_err());
        let k3 = service::retire(&t.db, &p.agent, IP, k.id, "政策已调整").await.unwrap();
        assert_eq!(k3.state, "retired");
        assert!(matches!(service::retire(&t.db, &p.jyj, IP, k.id, "").await.unwrap_err(), Error::Conflict(_)));
        assert!(matches!(service::edit(&t.db, &p.jyj, IP, k.id, &school).await.unwrap_err(), Error::Conflict(_)));
        assert!(service::search(&t.db, &p.agent, "小学", 8).await.unwrap().iter().all(|h| h.id != k.id));

        // Who may not: an editor proposes or searches nothing; nobody reviews a missing entry.
        forbidden(service::propose(&t.db, &p.editor, IP, &school).await.unwrap_err());
        forbidden(service::search(&t.db, &p.editor, "社保", 8).await.unwrap_err());
        forbidden(service::propose(&t.db, &p.leader, IP, &school).await.unwrap_err());
        assert!(matches!(service::review(&t.db, &p.jyj, IP, 999_999, true, "").await.unwrap_err(), Error::NotFound));

        // The audit trail.
        let audited = |a: &str| {
            format!("SELECT COUNT(*) FROM audit_log WHERE target_type = 'hl_kb' AND action = 'hotline.kb.{a}'")
        };
        assert_eq!(scalar(&t, &audited("propose")).await, 3, "{b}");
        assert_eq!(scalar(&t, &audited("approve")).await, 4, "{b}");
        assert_eq!(scalar(&t, &audited("reject")).await, 1, "{b}");
        assert_eq!(scalar(&t, &audited("edit")).await, 3, "{b}");
        assert_eq!(scalar(&t, &audited("retire")).await, 1, "{b}");
        let refused = scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE target_type = 'hl_kb'").await;
        assert_eq!(refused, 12, "refused steps leave no entry ({b})");
    }
}

#[tokio::test]
async fn proposals_from_answered_orders() {
    for (t, p) in setup().await {
        let b = t.backend_name();
        let jyj = org_id(&t, "区教育局").await;
        let rxzx = org_id(&t, "热线中心").await;
        let call = |title: &str| Intake {
            channel: "phone".into(),
            caller_name: "林秀英".into(),
            caller_phone: "13912345678".into(),
            kind: "consult".into(),
            urgency: "normal".into(),
            title: title.into(),
            content: "孩子明年上小学，想问一下社保要交满多久才能报名。".into(),
            ..Default::default()
        };

        // Answered on the call: prefilled from the order, owned by the centre.
        let o = orders::intake(&t.db, By::Staff(&p.agent, IP), call("咨询小学入学社保年限")).await.unwrap().order;
        let o = orders::answer_directly(&t.db, &p.agent, IP, o.id, "父母一方在本区连续缴纳社保满一年即可报名。")
            .await
            .unwrap();
        let (f, src) = service::prefill_from_order(&t.db, &p.agent, o.id).await.unwrap();
        assert_eq!(f.question, "咨询小学入学社保年限", "{b}");
        assert_eq!(f.answer, "父母一方在本区连续缴纳社保满一年即可报名。");
        assert_eq!((f.org_id.as_str(), f.from_order.as_str()), (rxzx.to_string().as_str(), o.id.to_string().as_str()));
        assert_eq!(src.no, o.no);
        let k = service::propose(&t.db, &p.agent, IP, &f).await.unwrap();
        assert_eq!((k.from_order_id, k.from_order_no.as_deref()), (Some(o.id), Some(o.no.as_str())), "{b}");
        // The centre owns it: its agents review.
        let k = service::review(&t.db, &p.agent, IP, k.id, true, "").await.unwrap();
        assert_eq!(k.state, "active");
        let audit = scalar(
            &t,
            &format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'hotline.kb.propose' AND summary LIKE '%\"from_order_id\":{}%'",
                o.id
            ),
        )
        .await;
        assert_eq!(audit, 1, "the audit names the source order ({b})");

        // A dispatched order: the handling organisation owns the proposal; other
        // organisations' handlers cannot see the order.
        let o2 = orders::intake(&t.db, By::Staff(&p.agent, IP), call("学区划分查询")).await.unwrap().order;
        orders::dispatch(&t.db, &p.agent, IP, o2.id, &Dispatch { main_org: Some(jyj), ..Default::default() })
            .await
            .unwrap();
        let (f2, _) = service::prefill_from_order(&t.db, &p.jyj, o2.id).await.unwrap();
        assert_eq!((f2.org_id, f2.answer.as_str()), (jyj.to_string(), ""), "{b}");
        assert!(matches!(service::prefill_from_order(&t.db, &p.zjj, o2.id).await.unwrap_err(), Error::NotFound));
        forbidden(service::prefill_from_order(&t.db, &p.editor, o2.id).await.unwrap_err());
        // Naming an order one cannot see in the form is refused too.
        let sneaky = EntryForm { from_order: o2.id.to_string(), ..entry("学区", "见教育局网站", jyj) };
        assert_eq!(field(service::propose(&t.db, &p.zjj, IP, &sneaky).await.unwrap_err()), "from_order");
        assert_eq!(
            field(
                service::propose(&t.db, &p.agent, IP, &EntryForm { from_order: "x".into(), ..sneaky })
                    .await
                    .unwrap_err()
            ),
            "from_order"
        );
    }
}

async fn login(s: &TestServer, username: &str) -> Client {
    let c = Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
    let r = c.post(s.url("/login")).form(&[("username", username), ("password", TEST_PASSWORD)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {username}");
    c
}

#[tokio::test]
async fn the_search_json_contract_the_console_pages_and_the_demo_seed() {
    for (t, p) in setup().await {
        let b = t.backend_name();
        // Categories seeded first are matched by name.
        {
            let mut tx = t.db.begin().await.unwrap();
            let mut c = tx.conn();
            let edu = gongkai_hotline::store::insert_category(&mut c, "edu", "教育", None, None, false, "[]", "")
                .await
                .unwrap();
            let edu = gongkai_hotline::store::category(&mut c, edu).await.unwrap().unwrap();
            gongkai_hotline::store::insert_category(
                &mut c,
                "edu.enroll",
                "入学招生",
                Some(&edu),
                None,
                false,
                "[]",
                "",
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
        assert!(gongkai_hotline::kb::seed_demo(&t.db).await.unwrap(), "{b}");
        assert!(!gongkai_hotline::kb::seed_demo(&t.db).await.unwrap(), "idempotent ({b})");
        let all = scalar(&t, "SELECT COUNT(*) FROM hl_kb").await;
        assert!(all >= 30, "{b}: {all}");
        assert!(scalar(&t, "SELECT COUNT(*) FROM hl_kb WHERE state = 'proposed'").await >= 2);
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_kb WHERE category_id IS NOT NULL").await, 4, "{b}");
        let hits = service::search(&t.db, &p.agent, "学区", 1).await.unwrap();
        assert_eq!(hits[0].category, "教育/入学招生", "{b}: {hits:?}");
        let stale =
            service::list(&t.db, &p.agent, &ListQuery { stale: "1".into(), ..Default::default() }).await.unwrap();
        assert_eq!(stale.1, 1, "one demo entry is past its date ({b})");

        let s = TestServer::start_state(gongkai_hotline::public::attach(AppState::with_slices(
            t.db.clone(),
            t.config(),
            gongkai_hotline::slices(),
        )))
        .await;
        let agent = login(&s, "kb-agent").await;
        let r = agent
            .get(s.url("/console/hotline/kb/search.json"))
            .query(&[("q", "社保"), ("limit", "3")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        let hits: Vec<serde_json::Value> = r.json().await.unwrap();
        assert!(!hits.is_empty() && hits.len() <= 3, "{hits:?}");
        for h in &hits {
            let keys: Vec<&str> = h.as_object().unwrap().keys().map(|k| k.as_str()).collect();
            for k in ["id", "question", "answer", "category", "source", "valid_until", "stale", "score"] {
                assert!(keys.contains(&k), "{k} missing in {h}");
            }
            assert!(h["stale"].is_boolean() && h["score"].as_f64().unwrap() > 0.0);
        }
        assert!(
            hits[0]["question"].as_str().unwrap().contains("社保")
                || hits[0]["answer"].as_str().unwrap().contains("社保")
        );
        let r = agent.get(s.url("/console/hotline/kb/search.json?q=%E5%A4%B1%E4%B8%9A")).send().await.unwrap();
        let hits: Vec<serde_json::Value> = r.json().await.unwrap();
        assert_eq!(hits[0]["stale"], serde_json::json!(true), "the demo's stale entry: {hits:?}");

        let editor = login(&s, "kb-editor").await;
        let r = editor.get(s.url("/console/hotline/kb/search.json?q=x")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{b}");
        assert!(r.json::<serde_json::Value>().await.unwrap()["error"].is_string());

        // The console pages render, escaped, with the filters.
        let page = agent.get(s.url("/console/hotline/kb?stale=1")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("待更新") && page.contains("失业保险金"), "{b}");
        let page =
            agent.get(s.url("/console/hotline/kb?q=%E5%8C%BB%E4%BF%9D")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("医保"), "{b}");
        let id = scalar(&t, "SELECT MIN(id) FROM hl_kb WHERE state = 'proposed'").await;
        let r = agent.get(s.url(&format!("/console/hotline/kb/{id}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let page = r.text().await.unwrap();
        let i = page.find("name=\"_csrf\" value=\"").unwrap() + 20;
        let csrf = page[i..i + 32].to_string();
        let r = agent.get(s.url("/console/hotline/kb/new")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        // A proposal over HTTP: field errors keep what was typed, then it is stored.
        let r = agent
            .post(s.url("/console/hotline/kb/new"))
            .form(&[("_csrf", csrf.as_str()), ("question", "<b>燃气</b>"), ("answer", ""), ("org_id", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let page = r.text().await.unwrap();
        assert!(page.contains("&lt;b&gt;燃气") && page.contains("请填写答复口径"), "{page}");
        let rxzx = org_id(&t, "热线中心").await.to_string();
        let r = agent
            .post(s.url("/console/hotline/kb/new"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("question", "燃气费怎么交"),
                ("answer", "可在燃气公司公众号缴纳。"),
                ("org_id", rxzx.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{b}");
        let to = r.headers()["location"].to_str().unwrap().to_string();
        let r = agent
            .post(s.url(&to.replace("?saved=propose", "/approve")))
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "the centre approves its own entry ({b})");
        let r = editor.get(s.url("/console/hotline/kb/new")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
}
