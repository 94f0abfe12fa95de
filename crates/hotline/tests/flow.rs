//! Work orders through the service, on SQLite and PostgreSQL: intake with its checks and
//! idempotency, 直接答复, dispatch to a main and a co-handling organisation, acceptance,
//! return and re-dispatch, extension, replies, review, callback, redo after an unsatisfied
//! callback, closing, merging, supervision; one late leg keeps the order open and late;
//! deadlines on the official 2026 calendar across the National Day holiday and its
//! adjusted Saturday, re-dated by the sweep after a calendar edit; masking and the audit
//! of confidential views.

use gongkai_hotline::model::Satisfaction;
use gongkai_hotline::rules::end_of_day;
use gongkai_hotline::service::{self, By, Callback, Dispatch, Intake, Push};
use gongkai_hotline::store::{self, LegRow, OrderRow};
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::calendar::rules::DayKind;
use gongkai_kernel::error::Error;
use gongkai_kernel::testkit::{self, TestDb};
use gongkai_kernel::with_conn;
use time::macros::date;

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

async fn exec(t: &TestDb, sql: &str) {
    let mut tx = t.db.begin().await.unwrap();
    let sql = sql.to_string();
    with_conn!(&mut tx.conn(), x => {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut **x).await.map(|r| r.rows_affected())
    })
    .unwrap();
    tx.commit().await.unwrap();
}

async fn scalar(t: &TestDb, sql: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let sql = sql.to_string();
    with_conn!(&mut h.conn(), x => {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(&mut **x).await
    })
    .unwrap()
}

async fn order(t: &TestDb, id: i64) -> OrderRow {
    let mut h = t.db.read().await.unwrap();
    store::get_order(&mut h.conn(), id, false).await.unwrap().unwrap()
}

async fn legs(t: &TestDb, id: i64) -> Vec<LegRow> {
    let mut h = t.db.read().await.unwrap();
    store::legs_of(&mut h.conn(), id).await.unwrap()
}

async fn event_kinds(t: &TestDb, id: i64) -> Vec<String> {
    let mut h = t.db.read().await.unwrap();
    store::events(&mut h.conn(), id).await.unwrap().into_iter().map(|e| e.kind).collect()
}

fn call(title: &str) -> Intake {
    Intake {
        channel: "phone".into(),
        caller_name: "林秀英".into(),
        caller_phone: "13912345678".into(),
        kind: "complain".into(),
        urgency: "normal".into(),
        title: title.into(),
        content: "东湖路88号工地夜间施工到凌晨两点，噪音很大。".into(),
        address: "东湖路88号".into(),
        tags: vec!["营商环境".into()],
        ..Default::default()
    }
}

fn conflict(e: Error) -> String {
    match e {
        Error::Conflict(m) => m,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn field(e: Error) -> String {
    match e {
        Error::Invalid(f) => f.0[0].0.clone(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

struct People {
    agent: Principal,
    jyj: Principal,
    wjw: Principal,
    czj: Principal,
    supervisor: Principal,
    leader: Principal,
}

async fn people(t: &TestDb) -> People {
    People {
        agent: user(t, "agent1", Role::Agent, Some(org_id(t, "热线中心").await)).await,
        jyj: user(t, "jyj1", Role::Handler, Some(org_id(t, "区教育局").await)).await,
        wjw: user(t, "wjw1", Role::Handler, Some(org_id(t, "区卫健局").await)).await,
        czj: user(t, "czj1", Role::Handler, Some(org_id(t, "区财政局").await)).await,
        supervisor: user(t, "sup1", Role::Supervisor, None).await,
        leader: user(t, "lead1", Role::Leader, None).await,
    }
}

async fn setup(t: &TestDb) -> People {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_hotline::init(&t.db).await.unwrap();
    people(t).await
}

async fn take(t: &TestDb, p: &People, i: Intake) -> OrderRow {
    service::intake(&t.db, By::Staff(&p.agent, IP), i).await.unwrap().order
}

#[tokio::test]
async fn intake_checks_numbers_and_idempotency() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let p = setup(&t).await;
        let mut i = call("夜间施工噪音");
        i.idem_key = Some("call-1".into());
        let a = service::intake(&t.db, By::Staff(&p.agent, IP), i.clone()).await.unwrap();
        assert!(a.created, "{b}");
        assert_eq!(a.order.state, "received");
        let today = gongkai_kernel::clock::today();
        let prefix = format!("{:04}{:02}{:02}-", today.year(), u8::from(today.month()), today.day());
        assert!(a.order.no.starts_with(&prefix) && a.order.no.len() == 15, "{}", a.order.no);
        // The same key again: the same order, nothing new.
        let again = service::intake(&t.db, By::Staff(&p.agent, IP), i).await.unwrap();
        assert!(!again.created);
        assert_eq!(again.order.id, a.order.id);
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_orders").await, 1, "{b}");
        assert_eq!(event_kinds(&t, a.order.id).await, vec!["received"]);
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'hotline.intake'").await, 1);

        // Only agents take calls from the console.
        let e = service::intake(&t.db, By::Staff(&p.jyj, IP), call("x")).await.unwrap_err();
        assert!(matches!(e, Error::Forbidden(_)), "{b}");
        // Field-level checks.
        let bad = Intake {
            kind: "gossip".into(),
            title: "<b>x</b>".into(),
            content: "字".repeat(4001),
            caller_phone: "12ab".into(),
            category: "no.such".into(),
            related: vec!["20990101-000001".into()],
            ..call("")
        };
        match service::intake(&t.db, By::Staff(&p.agent, IP), bad).await.unwrap_err() {
            Error::Invalid(f) => {
                for k in ["kind", "title", "content", "caller_phone", "category", "related"] {
                    assert!(f.get(k).is_some(), "{k}: {f:?}");
                }
            }
            other => panic!("{other:?}"),
        }
        // Open311-style intake needs a location.
        let e = service::intake(
            &t.db,
            By::Public(IP),
            Intake { location_required: true, address: String::new(), ..call("路灯不亮") },
        )
        .await
        .unwrap_err();
        assert_eq!(field(e), "address");
        // An anonymous call keeps no name; a public submission is channel web.
        let anon = service::intake(
            &t.db,
            By::Public(IP),
            Intake { anonymous: true, related: vec![a.order.no.clone()], ..call("匿名反映") },
        )
        .await
        .unwrap()
        .order;
        assert_eq!((anon.caller_name.as_str(), anon.channel.as_str()), ("", "web"));
        let mut h = t.db.read().await.unwrap();
        let linked = store::links(&mut h.conn(), anon.id).await.unwrap();
        assert_eq!(linked.iter().map(|l| l.id).collect::<Vec<_>>(), vec![a.order.id]);
    }
}

#[tokio::test]
async fn a_call_answered_on_the_spot_is_closed_on_time() {
    for t in testkit::backends().await {
        let p = setup(&t).await;
        let o = take(&t, &p, Intake { kind: "consult".into(), ..call("社保卡补办地点") }).await;
        assert_eq!(field(service::answer_directly(&t.db, &p.agent, IP, o.id, " ").await.unwrap_err()), "answer");
        assert!(matches!(service::answer_directly(&t.db, &p.jyj, IP, o.id, "x").await.unwrap_err(), Error::NotFound));
        let o =
            service::answer_directly(&t.db, &p.agent, IP, o.id, "可到区政务服务中心一楼社保窗口办理。").await.unwrap();
        assert_eq!((o.state.as_str(), o.direct, o.closed_on_time), ("closed", 1, Some(1)));
        assert_eq!(event_kinds(&t, o.id).await, vec!["received", "direct", "closed"]);
        let e = service::dispatch(&t.db, &p.agent, IP, o.id, &Dispatch { main_org: Some(1), ..Default::default() })
            .await
            .unwrap_err();
        assert!(conflict(e).contains("已办结"));
    }
}

#[tokio::test]
async fn return_redispatch_extension_reply_review_redo_and_close() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let p = setup(&t).await;
        let jyj = org_id(&t, "区教育局").await;
        let wjw = org_id(&t, "区卫健局").await;
        let o = take(&t, &p, call("学校周边夜间施工噪音")).await;

        // Dispatch needs a main organisation that exists.
        assert_eq!(
            field(service::dispatch(&t.db, &p.agent, IP, o.id, &Dispatch::default()).await.unwrap_err()),
            "main_org"
        );
        let none = Dispatch { main_org: Some(999_999), ..Default::default() };
        assert_eq!(field(service::dispatch(&t.db, &p.agent, IP, o.id, &none).await.unwrap_err()), "main_org");
        let to_jyj = Dispatch { main_org: Some(jyj), ..Default::default() };
        assert!(matches!(service::dispatch(&t.db, &p.jyj, IP, o.id, &to_jyj).await.unwrap_err(), Error::NotFound));
        let o = service::dispatch(&t.db, &p.agent, IP, o.id, &to_jyj).await.unwrap();
        assert_eq!(o.state, "dispatched", "{b}");
        let l = legs(&t, o.id).await;
        assert_eq!(l.len(), 1);
        let leg = &l[0];
        assert_eq!((leg.role.as_str(), leg.state.as_str(), leg.handle_limit.as_str()), ("main", "pending", "13wd"));
        assert!(leg.accept_due < leg.return_due && leg.return_due < leg.handle_due);

        // Another department's handler sees nothing; the 教育局 returns it with a reason.
        assert!(matches!(service::accept(&t.db, &p.czj, IP, o.id, leg.id).await.unwrap_err(), Error::NotFound));
        assert_eq!(field(service::return_leg(&t.db, &p.jyj, IP, o.id, leg.id, "").await.unwrap_err()), "reason");
        let o =
            service::return_leg(&t.db, &p.jyj, IP, o.id, leg.id, "施工许可属住建部门，噪音执法属城管").await.unwrap();
        assert_eq!(o.state, "received", "back to the centre");
        // Re-dispatching to the organisation that returned it needs a reason.
        assert_eq!(field(service::dispatch(&t.db, &p.agent, IP, o.id, &to_jyj).await.unwrap_err()), "note");
        let to_wjw = Dispatch { main_org: Some(wjw), co_orgs: vec![wjw], note: String::new() };
        let o = service::dispatch(&t.db, &p.agent, IP, o.id, &to_wjw).await.unwrap();
        let l = legs(&t, o.id).await;
        assert_eq!(l.len(), 2, "a co-handler equal to the main one is dropped");
        let leg = l[1].clone();
        assert_eq!((leg.org_id, leg.state.as_str()), (wjw, "pending"));
        // The old 教育局 handler no longer acts on it; the returned leg stays as history.
        assert!(matches!(service::reply(&t.db, &p.jyj, IP, o.id, leg.id, "x").await.unwrap_err(), Error::Forbidden(_)));

        // Accept, ask for an extension (bounded), the centre approves it.
        assert!(conflict(service::reply(&t.db, &p.wjw, IP, o.id, leg.id, "x").await.unwrap_err()).contains("签收后"));
        service::accept(&t.db, &p.wjw, IP, o.id, leg.id).await.unwrap();
        assert!(conflict(service::accept(&t.db, &p.wjw, IP, o.id, leg.id).await.unwrap_err()).contains("已签收"));
        let l1 = legs(&t, o.id).await[1].clone();
        assert_eq!(l1.accepted_on_time, Some(1));
        let e = service::request_extension(&t.db, &p.wjw, IP, o.id, leg.id, 11, "需现场监测").await.unwrap_err();
        assert_eq!(field(e), "days");
        service::request_extension(&t.db, &p.wjw, IP, o.id, leg.id, 5, "需夜间现场监测").await.unwrap();
        let e = service::request_extension(&t.db, &p.wjw, IP, o.id, leg.id, 1, "再延").await.unwrap_err();
        assert!(conflict(e).contains("待热线中心审核"));
        assert!(matches!(
            service::decide_extension(&t.db, &p.wjw, IP, o.id, leg.id, true, "").await.unwrap_err(),
            Error::Forbidden(_)
        ));
        assert_eq!(
            field(service::decide_extension(&t.db, &p.agent, IP, o.id, leg.id, false, "").await.unwrap_err()),
            "note"
        );
        service::decide_extension(&t.db, &p.agent, IP, o.id, leg.id, true, "").await.unwrap();
        let l2 = legs(&t, o.id).await[1].clone();
        assert_eq!((l2.ext_days, l2.ext_state.as_str()), (5, "approved"));
        assert!(l2.handle_due > l1.handle_due + 5 * 86_400_000 - 1, "five working days are at least five days");
        // Only 5 more days may be asked for (10 in all).
        let e = service::request_extension(&t.db, &p.wjw, IP, o.id, leg.id, 6, "再延").await.unwrap_err();
        assert_eq!(field(e), "days");

        // Reply, the centre sends it back once, then passes it.
        let o = service::reply(&t.db, &p.wjw, IP, o.id, leg.id, "已约谈施工单位，夜间停工。").await.unwrap();
        assert_eq!(o.state, "replied");
        assert_eq!(field(service::review(&t.db, &p.agent, IP, o.id, false, "", "").await.unwrap_err()), "note");
        let o = service::review(&t.db, &p.agent, IP, o.id, false, "", "请写明停工时段").await.unwrap();
        assert_eq!(o.state, "dispatched");
        assert_eq!(legs(&t, o.id).await[1].state, "accepted");
        service::reply(&t.db, &p.wjw, IP, o.id, leg.id, "已责成施工单位22时至次日6时停工。").await.unwrap();
        let o = service::review(&t.db, &p.agent, IP, o.id, true, "", "").await.unwrap();
        assert_eq!(o.state, "callback");
        assert_eq!(o.answer, "已责成施工单位22时至次日6时停工。", "the main reply by default");
        assert!(o.callback_due.is_some_and(|d| d > o.reviewed_at.unwrap()));

        // Callback: not reached, then reached and unsatisfied → 重办 with a fresh limit.
        let e = service::callback(&t.db, &p.agent, IP, o.id, &Callback { reached: true, ..Default::default() })
            .await
            .unwrap_err();
        assert_eq!(field(e), "satisfaction");
        let o = service::callback(&t.db, &p.agent, IP, o.id, &Callback::default()).await.unwrap();
        assert_eq!((o.state.as_str(), o.reached), ("callback", Some(0)));
        let unsatisfied = Callback {
            reached: true,
            resolved: false,
            satisfaction: Some(Satisfaction::Unsatisfied),
            note: "夜间仍在施工".into(),
        };
        let o = service::callback(&t.db, &p.agent, IP, o.id, &unsatisfied).await.unwrap();
        assert_eq!((o.state.as_str(), o.redo_count), ("dispatched", 1), "{b}");
        let l3 = legs(&t, o.id).await[1].clone();
        assert_eq!(l3.state, "accepted");
        assert!(l3.handle_from > l2.dispatched_at && l3.replied_on_time.is_none());

        // Redone, reviewed with an edited answer, satisfied → closed on time.
        service::reply(&t.db, &p.wjw, IP, o.id, leg.id, "已联合城管夜间巡查，工地已停工。").await.unwrap();
        let o = service::review(&t.db, &p.agent, IP, o.id, true, "经核实，工地已停止夜间施工。", "").await.unwrap();
        assert_eq!(o.answer, "经核实，工地已停止夜间施工。");
        let ok =
            Callback { reached: true, resolved: true, satisfaction: Some(Satisfaction::Basic), note: String::new() };
        let o = service::callback(&t.db, &p.agent, IP, o.id, &ok).await.unwrap();
        assert_eq!((o.state.as_str(), o.closed_on_time, o.satisfaction.as_deref()), ("closed", Some(1), Some("basic")));
        assert_eq!(legs(&t, o.id).await[1].state, "done");
        assert!(matches!(
            service::push(&t.db, &p.supervisor, IP, o.id, Push::Supervise, "督办").await.unwrap_err(),
            Error::Conflict(_)
        ));

        assert_eq!(
            event_kinds(&t, o.id).await,
            vec![
                "received",
                "dispatched",
                "returned",
                "dispatched",
                "accepted",
                "ext_requested",
                "ext_approved",
                "replied",
                "review_rejected",
                "replied",
                "review_passed",
                "callback",
                "callback",
                "redo",
                "replied",
                "review_passed",
                "callback",
                "closed",
            ],
            "{b}"
        );
        // One audit entry per step (the intake included).
        assert_eq!(
            scalar(
                &t,
                &format!("SELECT COUNT(*) FROM audit_log WHERE target_type = 'hl_order' AND target_id = '{}'", o.id)
            )
            .await,
            16,
            "{b}"
        );
    }
}

#[tokio::test]
async fn one_late_leg_keeps_the_order_open_and_late() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let p = setup(&t).await;
        let jyj = org_id(&t, "区教育局").await;
        let wjw = org_id(&t, "区卫健局").await;
        let o = take(&t, &p, Intake { kind: "help".into(), ..call("学校食堂卫生") }).await;
        let d = Dispatch { main_org: Some(jyj), co_orgs: vec![wjw], note: "卫健局协助检查".into() };
        let o = service::dispatch(&t.db, &p.agent, IP, o.id, &d).await.unwrap();
        let l = legs(&t, o.id).await;
        assert_eq!(l.iter().map(|l| (l.org_id, l.role.as_str())).collect::<Vec<_>>(), vec![(jyj, "main"), (wjw, "co")]);
        assert_eq!(l[0].handle_limit, "3wd", "求助: 3 working days");
        let (main, co) = (l[0].id, l[1].id);
        service::accept(&t.db, &p.jyj, IP, o.id, main).await.unwrap();
        service::accept(&t.db, &p.wjw, IP, o.id, co).await.unwrap();
        let o = service::reply(&t.db, &p.jyj, IP, o.id, main, "已检查食堂，责令整改。").await.unwrap();
        assert_eq!(o.state, "dispatched", "the co-handler has not replied");

        // The co-handler's limit passes: the sweep flags the leg and the order, once.
        exec(&t, &format!("UPDATE hl_legs SET handle_due = 1000 WHERE id = {co}")).await;
        let now = gongkai_kernel::clock::now_ms();
        let r = service::sweep(&t.db, now).await.unwrap();
        assert_eq!((r.late_handle, r.late_accept), (1, 0), "{b}");
        assert_eq!(service::sweep(&t.db, now).await.unwrap().late_handle, 0, "flagged once");
        let o = order(&t, o.id).await;
        assert_eq!((o.state.as_str(), o.overdue), ("dispatched", 1));
        let l = legs(&t, o.id).await;
        assert_eq!((l[0].overdue, l[1].overdue), (0, 2));
        // The supervisor urges and supervises; the leader instructs; priority rises.
        assert!(matches!(
            service::push(&t.db, &p.jyj, IP, o.id, Push::Supervise, "x").await.unwrap_err(),
            Error::Forbidden(_)
        ));
        service::push(&t.db, &p.supervisor, IP, o.id, Push::Urge, "请卫健局尽快答复").await.unwrap();
        service::push(&t.db, &p.supervisor, IP, o.id, Push::Supervise, "列入本周督办").await.unwrap();
        let o = service::push(&t.db, &p.leader, IP, o.id, Push::Instruct, "请卫健局今日内答复，确保食品安全。")
            .await
            .unwrap();
        assert_eq!((o.urged, o.supervised, o.priority), (1, 1, 2));
        assert!(o.leader_note.contains("食品安全"));

        // The late reply: the order moves on but is not closed on time.
        let o = service::reply(&t.db, &p.wjw, IP, o.id, co, "已抽检，结果合格。").await.unwrap();
        assert_eq!((o.state.as_str(), o.overdue), ("replied", 0));
        assert_eq!(legs(&t, o.id).await[1].replied_on_time, Some(0));
        service::review(&t.db, &p.agent, IP, o.id, true, "", "").await.unwrap();
        let ok = Callback {
            reached: true,
            resolved: true,
            satisfaction: Some(Satisfaction::Satisfied),
            ..Default::default()
        };
        let o = service::callback(&t.db, &p.agent, IP, o.id, &ok).await.unwrap();
        assert_eq!((o.state.as_str(), o.closed_on_time), ("closed", Some(0)), "{b}");

        // A callback past its limit is flagged too; closing without reaching the caller needs a note.
        let o2 = take(&t, &p, Intake { kind: "consult".into(), ..call("咨询") }).await;
        service::dispatch(&t.db, &p.agent, IP, o2.id, &Dispatch { main_org: Some(jyj), ..Default::default() })
            .await
            .unwrap();
        let l = legs(&t, o2.id).await[0].id;
        service::accept(&t.db, &p.jyj, IP, o2.id, l).await.unwrap();
        service::reply(&t.db, &p.jyj, IP, o2.id, l, "答复").await.unwrap();
        service::review(&t.db, &p.agent, IP, o2.id, true, "", "").await.unwrap();
        exec(&t, &format!("UPDATE hl_orders SET callback_due = 1000 WHERE id = {}", o2.id)).await;
        assert_eq!(service::sweep(&t.db, now).await.unwrap().late_callback, 1);
        assert_eq!(order(&t, o2.id).await.overdue, 1);
        assert_eq!(field(service::close(&t.db, &p.agent, IP, o2.id, "").await.unwrap_err()), "note");
        let o2 = service::close(&t.db, &p.agent, IP, o2.id, "三次回访均未接通").await.unwrap();
        assert_eq!((o2.state.as_str(), o2.overdue), ("closed", 0));
    }
}

#[tokio::test]
async fn deadlines_follow_the_official_calendar_and_its_edits() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let p = setup(&t).await;
        let jyj = org_id(&t, "区教育局").await;
        let o = take(&t, &p, call("国庆前的投诉")).await;
        service::dispatch(&t.db, &p.agent, IP, o.id, &Dispatch { main_org: Some(jyj), ..Default::default() })
            .await
            .unwrap();
        // The first sweep only remembers the calendar.
        let now = gongkai_kernel::clock::now_ms();
        assert_eq!(service::sweep(&t.db, now).await.unwrap().redated, 0);
        // Dispatched on Wednesday 30 September 2026 at 10:00, before the National Day week.
        let start = gongkai_kernel::clock::local_to_ms(time::macros::datetime!(2026-09-30 10:00));
        exec(
            &t,
            &format!("UPDATE hl_legs SET dispatched_at = {start}, handle_from = {start} WHERE order_id = {}", o.id),
        )
        .await;
        // An edit of the calendar (a district day off on Wednesday 21 October) re-dates every open leg.
        let actor = gongkai_kernel::audit::Actor::system("test");
        gongkai_kernel::calendar::service::set_day(&t.db, &actor, date!(2026 - 10 - 21), DayKind::Holiday, "区庆")
            .await
            .unwrap();
        let r = service::sweep(&t.db, now).await.unwrap();
        assert_eq!(r.redated, 1, "{b}");
        let l = &legs(&t, o.id).await[0];
        // 1–7 October off; Thu 8 is the first working day, Fri 9 the second, Sat 10 (调休) the third.
        assert_eq!(l.accept_due, end_of_day(date!(2026 - 10 - 08)), "{b}");
        assert_eq!(l.return_due, end_of_day(date!(2026 - 10 - 09)));
        // 13 working days: 8, 9, 10, 12–16, 19, 20, 22, 23 and 26 October (21 October now off).
        assert_eq!(l.handle_due, end_of_day(date!(2026 - 10 - 26)));
        // All long past: the leg is late to accept, and so is the order.
        assert_eq!(l.overdue, 1);
        assert_eq!(order(&t, o.id).await.overdue, 1);
        // Accepting late is recorded as such.
        service::accept(&t.db, &p.jyj, IP, o.id, l.id).await.unwrap();
        let l = &legs(&t, o.id).await[0];
        assert_eq!((l.accepted_on_time, l.overdue), (Some(0), 2), "late to accept and now past the handling limit");
        // Past the return limit nothing can be returned.
        let e = service::return_leg(&t.db, &p.jyj, IP, o.id, l.id, "不属本单位").await.unwrap_err();
        assert!(conflict(e).contains("已超过退单时限"));
    }
}

#[tokio::test]
async fn merge_masking_and_confidential_views() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let p = setup(&t).await;
        let jyj = org_id(&t, "区教育局").await;
        let a = take(&t, &p, call("东湖路工地噪音")).await;
        let c = take(&t, &p, Intake { confidential: true, ..call("东湖路工地噪音（再次来电）") }).await;
        service::dispatch(&t.db, &p.agent, IP, a.id, &Dispatch { main_org: Some(jyj), ..Default::default() })
            .await
            .unwrap();
        // The same caller within days: suggested as a duplicate.
        let dups = service::duplicates(&t.db, &c).await.unwrap();
        assert_eq!(dups.iter().map(|d| d.id).collect::<Vec<_>>(), vec![a.id], "{b}");
        service::dispatch(&t.db, &p.agent, IP, c.id, &Dispatch { main_org: Some(jyj), ..Default::default() })
            .await
            .unwrap();

        // The handler sees the caller; the supervisor sees a mask; both views of the
        // confidential order are audited.
        let v = service::view(&t.db, &p.jyj, IP, c.id).await.unwrap();
        assert!(!v.masked && v.order.caller_phone == "13912345678");
        let v = service::view(&t.db, &p.supervisor, IP, c.id).await.unwrap();
        assert!(v.masked);
        assert_eq!((v.order.caller_phone.as_str(), v.order.caller_name.as_str()), ("139****5678", "林**"));
        assert!(matches!(service::view(&t.db, &p.czj, IP, c.id).await.unwrap_err(), Error::NotFound));
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'hotline.view_confidential'").await, 2);
        service::view(&t.db, &p.jyj, IP, a.id).await.unwrap();
        assert_eq!(
            scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'hotline.view_confidential'").await,
            2,
            "an ordinary order's view is not"
        );

        // Merge the second call into the first: its leg is withdrawn, both timelines say so.
        assert_eq!(field(service::merge(&t.db, &p.agent, IP, c.id, &c.no).await.unwrap_err()), "into");
        assert_eq!(field(service::merge(&t.db, &p.agent, IP, c.id, "nope").await.unwrap_err()), "into");
        assert!(matches!(service::merge(&t.db, &p.jyj, IP, c.id, &a.no).await.unwrap_err(), Error::Forbidden(_)));
        let m = service::merge(&t.db, &p.agent, IP, c.id, &a.no).await.unwrap();
        assert_eq!((m.state.as_str(), m.merged_into), ("merged", Some(a.id)));
        assert_eq!(legs(&t, c.id).await[0].state, "cancelled");
        assert_eq!(event_kinds(&t, a.id).await.last().map(String::as_str), Some("merged"));
        let v = service::view(&t.db, &p.agent, IP, a.id).await.unwrap();
        assert_eq!(v.links.iter().map(|l| l.id).collect::<Vec<_>>(), vec![c.id]);
        // A merged order takes no more steps, and nothing merges into it.
        let o3 = take(&t, &p, call("第三次")).await;
        assert_eq!(field(service::merge(&t.db, &p.agent, IP, o3.id, &c.no).await.unwrap_err()), "into");

        // A list search matches the caller's phone only when asked to (for those who see it).
        let mut h = t.db.read().await.unwrap();
        let q = Some("13912345678".to_string());
        let masked = store::ListFilter { q: q.clone(), ..Default::default() };
        assert_eq!(store::list(&mut h.conn(), &masked, 0, 10).await.unwrap().1, 0, "{b}");
        let centre = store::ListFilter { q, q_phone: true, ..Default::default() };
        assert_eq!(store::list(&mut h.conn(), &centre, 0, 10).await.unwrap().1, 3, "{b}");
    }
}
