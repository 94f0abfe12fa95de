//! Messages through the service, on SQLite and PostgreSQL: every state transition
//! (intake, refusal, assignment, transfer, draft, send-back, one and two review levels,
//! sending, publication and its refusals), the deadline on the official calendar across a
//! holiday and an adjusted workday, the sweep (re-dating, reminder, overdue, the 3-month
//! alarm), supervision, the writer's rating and follow-up, and the statistics.

use gongkai_interact::messages::rules::SubmitForm;
use gongkai_interact::messages::service::{self, ReviewForm, SettingsForm};
use gongkai_interact::messages::store::{self, MessageRow};
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::calendar::rules::DayKind;
use gongkai_kernel::error::Error;
use gongkai_kernel::site::Site;
use gongkai_kernel::testkit::{self, TestDb};
use gongkai_kernel::with_conn;
use time::macros::date;

const IP: &str = "127.0.0.1";

async fn user(t: &TestDb, name: &str, role: Role, org: Option<i64>, site: Option<i64>) -> Principal {
    let id = testkit::user_with_role(&t.db, name, None).await;
    let actor = gongkai_kernel::audit::Actor::system("test");
    gongkai_kernel::auth::service::grant(&t.db, None, &actor, id, role, org, site).await.unwrap();
    testkit::principal(&t.db, id).await
}

async fn org_id(t: &TestDb, short: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => {
        sqlx::query_scalar::<_, i64>("SELECT id FROM orgs WHERE short_name = $1").bind(short).fetch_one(&mut **x).await
    })
    .unwrap()
}

async fn site(t: &TestDb, code: &str) -> Site {
    let mut h = t.db.read().await.unwrap();
    gongkai_kernel::site::store::all(&mut h.conn()).await.unwrap().into_iter().find(|s| s.code == code).unwrap()
}

async fn get(t: &TestDb, id: i64) -> MessageRow {
    let mut h = t.db.read().await.unwrap();
    store::get(&mut h.conn(), id, false).await.unwrap().unwrap()
}

async fn exec(t: &TestDb, sql: &str, args: &[&str]) {
    let mut tx = t.db.begin().await.unwrap();
    let mut c = tx.conn();
    let sql = sql.to_string();
    with_conn!(&mut c, x => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
        for a in args {
            q = q.bind(*a);
        }
        q.execute(&mut **x).await.map(|r| r.rows_affected())
    })
    .unwrap();
    tx.commit().await.unwrap();
}

fn form(addressee: &str, agree: bool) -> SubmitForm {
    SubmitForm {
        kind: "complain".into(),
        addressee: addressee.into(),
        title: "东湖路施工噪音扰民".into(),
        content: "我是张晓明，住东湖路88号，夜间施工到凌晨两点，电话13812345678，身份证110101199003072176。".into(),
        name: "张晓明".into(),
        phone: "13812345678".into(),
        email: "zhangxm@example.cn".into(),
        agree: if agree { "1".into() } else { String::new() },
    }
}

async fn submit(t: &TestDb, s: &Site, f: &SubmitForm) -> MessageRow {
    let idem = gongkai_kernel::random_token::<16>();
    let code = format!("LY20250101-{}", &idem[..6].to_uppercase());
    service::prepare(&t.db, s, f, Vec::new(), &idem, &code, "PASSWORD", IP).await.unwrap().write(&t.db).await.unwrap().0
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

fn approve(publish: bool) -> ReviewForm {
    ReviewForm {
        decision: "approve".into(),
        note: String::new(),
        publish: if publish { "1".into() } else { "".into() },
    }
}

fn back(note: &str) -> ReviewForm {
    ReviewForm { decision: "back".into(), note: note.into(), publish: String::new() }
}

struct People {
    desk: Principal,
    desk2: Principal,
    jyj: Principal,
    wjw: Principal,
    supervisor: Principal,
    nobody: Principal,
}

async fn people(t: &TestDb, www: &Site) -> People {
    People {
        desk: user(t, "desk", Role::Reviewer, None, Some(www.id)).await,
        desk2: user(t, "desk2", Role::Reviewer, None, Some(www.id)).await,
        jyj: user(t, "jyjhandler", Role::Handler, Some(org_id(t, "区教育局").await), None).await,
        wjw: user(t, "wjwhandler", Role::Handler, Some(org_id(t, "区卫健局").await), None).await,
        supervisor: user(t, "super", Role::Supervisor, None, None).await,
        nobody: user(t, "nobody", Role::Editor, Some(org_id(t, "区财政局").await), None).await,
    }
}

#[tokio::test]
async fn every_step_from_submission_to_publication() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let www = site(&t, "www").await;
        let p = people(&t, &www).await;
        let jyj = org_id(&t, "区教育局").await;
        let wjw = org_id(&t, "区卫健局").await;

        let m = submit(&t, &www, &form("leader", true)).await;
        assert_eq!((m.state.as_str(), m.addressee.as_str()), ("submitted", "leader"), "{b}");
        assert_eq!(Some(m.addressee_org_id), www.org_id);
        // Only the site's desk does intake; others do not even see the message.
        assert!(matches!(service::accept(&t.db, &p.nobody, IP, m.id).await, Err(Error::NotFound)), "{b}");
        assert!(matches!(service::accept(&t.db, &p.jyj, IP, m.id).await, Err(Error::NotFound)), "{b}");
        let m = service::accept(&t.db, &p.desk, IP, m.id).await.unwrap();
        assert_eq!(m.state, "accepted");
        assert_eq!(m.due_days, Some(5));
        assert!(m.due_on.is_some() && m.accepted_on.is_some());
        assert_eq!(conflict(service::accept(&t.db, &p.desk, IP, m.id).await.unwrap_err()), "该留言已经作过受理处理");

        // Assign to 教育局, then the handler there passes it to 卫健局 (a transfer needs a reason).
        let m = service::assign(&t.db, &p.desk, IP, m.id, &jyj.to_string(), "").await.unwrap();
        assert_eq!((m.state.as_str(), m.org_id), ("assigned", Some(jyj)));
        assert_eq!(field(service::assign(&t.db, &p.jyj, IP, m.id, &wjw.to_string(), "").await.unwrap_err()), "note");
        assert_eq!(field(service::assign(&t.db, &p.jyj, IP, m.id, &jyj.to_string(), "x").await.unwrap_err()), "org_id");
        let m = service::assign(&t.db, &p.jyj, IP, m.id, &wjw.to_string(), "属卫生健康部门职责").await.unwrap();
        assert_eq!(m.org_id, Some(wjw));
        // 教育局 no longer handles it.
        assert!(matches!(service::draft(&t.db, &p.jyj, IP, m.id, "答复").await, Err(Error::NotFound)), "{b}");
        assert!(matches!(service::draft(&t.db, &p.desk, IP, m.id, "答复").await, Err(Error::Forbidden(_))), "{b}");
        assert_eq!(field(service::draft(&t.db, &p.wjw, IP, m.id, "  ").await.unwrap_err()), "reply");
        let m = service::draft(&t.db, &p.wjw, IP, m.id, "已责成施工单位夜间停工。如有疑问请致电0571-88001000。")
            .await
            .unwrap();
        assert_eq!((m.state.as_str(), m.review_levels), ("replied", 1));
        // Sent back with a note, redrafted, approved with publication.
        assert_eq!(field(service::review(&t.db, &p.desk, IP, m.id, &back("")).await.unwrap_err()), "note");
        let m = service::review(&t.db, &p.desk, IP, m.id, &back("请写明停工时段")).await.unwrap();
        assert_eq!(m.state, "assigned");
        let reply = "张晓明您好：已责成施工单位22时至次日6时停工。如有疑问请致电0571-88001000。";
        let m = service::draft(&t.db, &p.wjw, IP, m.id, reply).await.unwrap();
        assert_eq!(conflict(service::send(&t.db, &p.wjw, IP, m.id).await.unwrap_err()), "答复审核通过后才能发送");
        assert!(matches!(service::review(&t.db, &p.wjw, IP, m.id, &approve(true)).await, Err(Error::Forbidden(_))));
        let m = service::review(&t.db, &p.desk, IP, m.id, &approve(true)).await.unwrap();
        assert_eq!((m.state.as_str(), m.publish_ok), ("reviewed", 1));
        assert_eq!(conflict(service::publish(&t.db, &p.desk, IP, m.id).await.unwrap_err()), "答复发送后才能公开");
        let m = service::send(&t.db, &p.wjw, IP, m.id).await.unwrap();
        assert_eq!(m.state, "sent");
        assert_eq!(m.reply_org, "青禾区卫生健康局");
        assert!(matches!(service::publish(&t.db, &p.wjw, IP, m.id).await, Err(Error::Forbidden(_))), "{b}");
        let m = service::publish(&t.db, &p.desk, IP, m.id).await.unwrap();
        assert_eq!(m.state, "published");
        assert!(m.public_content.contains("138****5678") && m.public_content.contains("110101********2176"));
        assert!(m.public_content.contains("我是张**") && !m.public_content.contains("张晓明"), "{}", m.public_content);
        assert!(m.public_reply.starts_with("张**您好") && m.public_reply.contains("0571-****1000"));
        assert!(m.published_on.is_some());

        // The writer rates once and follows up once.
        assert_eq!(field(service::rate(&t.db, m.id, "great", IP).await.unwrap_err()), "rating");
        service::rate(&t.db, m.id, "basic", IP).await.unwrap();
        assert!(conflict(service::rate(&t.db, m.id, "satisfied", IP).await.unwrap_err()).contains("只能评价一次"));
        service::follow_up(&t.db, m.id, "夜间仍有噪音", IP).await.unwrap();
        assert!(conflict(service::follow_up(&t.db, m.id, "再问", IP).await.unwrap_err()).contains("只能追问一次"));
        let m = get(&t, m.id).await;
        assert_eq!(m.rating.as_deref(), Some("basic"));

        // One timeline, every step attributed; one audit entry per step.
        let events = {
            let mut h = t.db.read().await.unwrap();
            store::events(&mut h.conn(), m.id, false).await.unwrap()
        };
        let kinds: Vec<&str> = events.iter().filter(|e| e.kind != "public_note").map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "submitted",
                "accepted",
                "assigned",
                "transferred",
                "replied",
                "sent_back",
                "replied",
                "reviewed",
                "sent",
                "published",
                "rated",
                "followup"
            ],
            "{b}"
        );
        assert!(events.iter().any(|e| e.kind == "transferred" && e.text.contains("属卫生健康部门职责")));
        assert!(events.iter().find(|e| e.kind == "accepted").unwrap().actor.contains("desk"));
        let audits = {
            let mut h = t.db.read().await.unwrap();
            let mut c = h.conn();
            with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'msg.%'").fetch_one(&mut **x).await).unwrap()
        };
        assert_eq!(audits as usize, kinds.len(), "{b}");
        assert!(matches!(
            gongkai_kernel::audit::verify(&t.db).await.unwrap(),
            gongkai_kernel::audit::Verdict::Intact { .. }
        ));

        // Statistics over today.
        let today = gongkai_kernel::clock::today();
        let s = gongkai_interact::messages::stats(&t.db, Some(www.id), None, today, today).await.unwrap();
        assert_eq!((s.total.received, s.total.accepted, s.total.replied, s.total.published), (1, 1, 1, 1), "{b}");
        assert_eq!((s.total.replied_on_time, s.total.basic, s.total.average_days), (1, 1, Some(0.0)));
        let gov = {
            let mut h = t.db.read().await.unwrap();
            gongkai_kernel::org::store::get(&mut h.conn(), wjw).await.unwrap().unwrap()
        };
        let by_org = gongkai_interact::messages::stats(&t.db, None, Some(&gov.path), today, today).await.unwrap();
        assert_eq!(by_org.total.received, 1);
        let other = gongkai_interact::messages::stats(&t.db, None, Some("/nowhere/"), today, today).await.unwrap();
        assert_eq!(other.total.received, 0);
    }
}

#[tokio::test]
async fn refusals_publication_refused_and_two_review_levels() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let www = site(&t, "www").await;
        let p = people(&t, &www).await;
        let jyj = org_id(&t, "区教育局").await;

        // 不予受理 with a reason from the list; 其他 needs a note.
        let m = submit(&t, &www, &form(&jyj.to_string(), true)).await;
        assert_eq!(field(service::reject(&t.db, &p.desk, IP, m.id, "rude", "").await.unwrap_err()), "reason");
        assert_eq!(field(service::reject(&t.db, &p.desk, IP, m.id, "other", "").await.unwrap_err()), "note");
        // The addressed organisation's handler sees it but may not do intake.
        assert!(matches!(service::reject(&t.db, &p.jyj, IP, m.id, "duplicate", "").await, Err(Error::Forbidden(_))));
        let m = service::reject(&t.db, &p.desk, IP, m.id, "duplicate", "与LY20250101-0001重复").await.unwrap();
        assert_eq!((m.state.as_str(), m.reject_reason.as_deref()), ("rejected", Some("duplicate")), "{b}");
        assert!(service::assign(&t.db, &p.desk, IP, m.id, &jyj.to_string(), "").await.is_err());
        assert!(service::accept(&t.db, &p.desk, IP, m.id).await.is_err());

        // The writer did not agree: the reviewer is not asked, publication is refused.
        let run = |agree: bool| {
            let (t, www, p) = (&t, &www, &p);
            async move {
                let m = submit(t, www, &form(&jyj.to_string(), agree)).await;
                service::accept(&t.db, &p.desk, IP, m.id).await.unwrap();
                service::assign(&t.db, &p.desk, IP, m.id, &jyj.to_string(), "").await.unwrap();
                service::draft(&t.db, &p.jyj, IP, m.id, "已处理。").await.unwrap();
                m.id
            }
        };
        let id = run(false).await;
        service::review(&t.db, &p.desk, IP, id, &approve(true)).await.unwrap();
        service::send(&t.db, &p.desk, IP, id).await.unwrap();
        assert_eq!(conflict(service::publish(&t.db, &p.desk, IP, id).await.unwrap_err()), "留言人未同意公开，不能公开");
        assert_eq!(get(&t, id).await.state, "sent", "{b}");
        // The writer agreed but the reviewer chose not to publish.
        let id = run(true).await;
        service::review(&t.db, &p.desk, IP, id, &approve(false)).await.unwrap();
        service::send(&t.db, &p.desk, IP, id).await.unwrap();
        assert_eq!(conflict(service::publish(&t.db, &p.desk, IP, id).await.unwrap_err()), "审核时未同意公开，不能公开");

        // Two levels: the same reviewer cannot pass both; the second can send back.
        let admin = user(&t, "admin", Role::SysAdmin, None, None).await;
        let settings = SettingsForm { review_levels: "2".into(), complain: "3".into(), ..Default::default() };
        assert!(matches!(
            service::save_settings(&t.db, &p.desk, IP, www.id, &settings).await,
            Err(Error::Forbidden(_))
        ));
        let bad = SettingsForm { review_levels: "3".into(), help: "0".into(), ..Default::default() };
        assert!(
            matches!(service::save_settings(&t.db, &admin, IP, www.id, &bad).await, Err(Error::Invalid(f)) if f.0.len() == 2)
        );
        service::save_settings(&t.db, &admin, IP, www.id, &settings).await.unwrap();
        let m = submit(&t, &www, &form(&jyj.to_string(), true)).await;
        let m = service::accept(&t.db, &p.desk, IP, m.id).await.unwrap();
        assert_eq!(m.due_days, Some(3), "the site's deadline for 投诉");
        service::assign(&t.db, &p.desk, IP, m.id, &jyj.to_string(), "").await.unwrap();
        let m = service::draft(&t.db, &p.jyj, IP, m.id, "已处理。").await.unwrap();
        assert_eq!(m.review_levels, 2);
        let m = service::review(&t.db, &p.desk, IP, m.id, &approve(true)).await.unwrap();
        assert_eq!((m.state.as_str(), m.review_passed), ("replied", 1));
        assert!(
            conflict(service::review(&t.db, &p.desk, IP, m.id, &approve(true)).await.unwrap_err()).contains("另一位")
        );
        let m = service::review(&t.db, &p.desk2, IP, m.id, &back("数据需核实")).await.unwrap();
        assert_eq!((m.state.as_str(), m.review_passed), ("assigned", 0), "{b}");
        service::draft(&t.db, &p.jyj, IP, m.id, "经核实已处理。").await.unwrap();
        service::review(&t.db, &p.desk2, IP, m.id, &approve(true)).await.unwrap();
        let m = service::review(&t.db, &p.desk, IP, m.id, &approve(true)).await.unwrap();
        assert_eq!(m.state, "reviewed", "{b}");

        // Supervision: a note on the timeline; not on an answered message.
        assert!(matches!(
            service::supervise(&t.db, &p.desk, IP, m.id, "remind", "请加快").await,
            Err(Error::Forbidden(_))
        ));
        assert_eq!(field(service::supervise(&t.db, &p.supervisor, IP, m.id, "shout", "x").await.unwrap_err()), "kind");
        let m = service::supervise(&t.db, &p.supervisor, IP, m.id, "instruct", "请今日内答复").await.unwrap();
        assert_eq!(m.supervised, 1);
        service::send(&t.db, &p.jyj, IP, m.id).await.unwrap();
        assert!(service::supervise(&t.db, &p.supervisor, IP, m.id, "remind", "x").await.is_err());
    }
}

#[tokio::test]
async fn deadlines_on_the_calendar_and_the_sweep() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let www = site(&t, "www").await;
        let p = people(&t, &www).await;
        let jyj = org_id(&t, "区教育局").await;
        let m = submit(&t, &www, &form(&jyj.to_string(), true)).await;
        service::accept(&t.db, &p.desk, IP, m.id).await.unwrap();
        service::assign(&t.db, &p.desk, IP, m.id, &jyj.to_string(), "").await.unwrap();
        // Accepted on Friday 2025-09-26: Sunday 09-28 is a 调休 workday, 10-01..08 the
        // National Day holiday; five working days end on 10-10.
        let id = m.id.to_string();
        exec(
            &t,
            "UPDATE msg_messages SET submitted_on = '2025-09-25', accepted_on = '2025-09-26' WHERE CAST(id AS TEXT) = $1",
            &[&id],
        )
        .await;
        let s = service::sweep(&t.db, date!(2025 - 09 - 29)).await.unwrap();
        assert_eq!((s.redated, s.reminded, s.overdue, s.alarmed), (1, 0, 0, 0), "{b}");
        let m = get(&t, m.id).await;
        assert_eq!(m.due_on.as_deref(), Some("2025-10-10"), "{b}");
        let cal = gongkai_kernel::calendar::service::load(&t.db).await.unwrap();
        let zh = service::explain(&cal, &m).unwrap();
        assert!(
            zh.contains("截止2025-10-10") && zh.contains("国庆节") && zh.contains("计入调休上班日1天（2025-09-28）"),
            "{zh}"
        );
        // Nothing changes on a second run the same day.
        assert_eq!(service::sweep(&t.db, date!(2025 - 09 - 29)).await.unwrap().redated, 0);
        // A calendar edit (10-10 made a holiday) re-dates: the Saturday 10-11 调休 day is next.
        gongkai_kernel::calendar::service::set_day(
            &t.db,
            &gongkai_kernel::audit::Actor::system("test"),
            date!(2025 - 10 - 10),
            DayKind::Holiday,
            "测试",
        )
        .await
        .unwrap();
        let s = service::sweep(&t.db, date!(2025 - 09 - 30)).await.unwrap();
        assert_eq!(s.redated, 1, "{b}");
        assert_eq!(get(&t, m.id).await.due_on.as_deref(), Some("2025-10-11"));
        // One working day before: a reminder, once.
        assert_eq!(service::sweep(&t.db, date!(2025 - 10 - 09)).await.unwrap().reminded, 1, "{b}");
        assert_eq!(service::sweep(&t.db, date!(2025 - 10 - 09)).await.unwrap().reminded, 0);
        // After the due date: overdue, then the 3-month alarm 80 days after submission.
        let s = service::sweep(&t.db, date!(2025 - 10 - 13)).await.unwrap();
        assert_eq!((s.overdue, s.alarmed), (1, 0), "{b}");
        let s = service::sweep(&t.db, date!(2025 - 12 - 14)).await.unwrap();
        assert_eq!((s.overdue, s.alarmed), (0, 1), "{b}");
        let m = get(&t, m.id).await;
        assert_eq!((m.overdue, m.alarm), (1, 1));
        let events = {
            let mut h = t.db.read().await.unwrap();
            store::events(&mut h.conn(), m.id, false).await.unwrap()
        };
        for kind in ["redated", "reminder", "overdue", "alarm"] {
            assert!(events.iter().any(|e| e.kind == kind && e.actor == "system:msg.sweep"), "{b} {kind}");
        }
        // The supervision queue lists it.
        let v = store::Visibility {
            sites: vec![],
            orgs: vec![p.supervisor.org_scope(gongkai_kernel::auth::Perm::Supervise)],
        };
        let f = store::ListFilter { flagged: true, ..Default::default() };
        let rows = {
            let mut h = t.db.read().await.unwrap();
            store::list(&mut h.conn(), &v, &f, 50).await.unwrap()
        };
        assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![m.id], "{b}");
    }
}

#[tokio::test]
async fn the_demo_has_every_state() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let today = gongkai_kernel::clock::today();
        assert!(gongkai_interact::messages::demo::seed(&t.db, today).await.unwrap(), "{b}");
        assert!(!gongkai_interact::messages::demo::seed(&t.db, today).await.unwrap(), "idempotent");
        let mut h = t.db.read().await.unwrap();
        let mut c = h.conn();
        let states: Vec<(String, i64)> = with_conn!(&mut c, x => {
            sqlx::query_as("SELECT state, COUNT(*) FROM msg_messages GROUP BY state ORDER BY state").fetch_all(&mut **x).await
        })
        .unwrap();
        assert_eq!(states.len(), 8, "{b}: {states:?}");
        assert_eq!(states.iter().map(|(_, n)| n).sum::<i64>(), 40);
        let (overdue, alarm, published): (i64, i64, i64) = with_conn!(&mut c, x => {
            sqlx::query_as("SELECT COUNT(CASE WHEN overdue = 1 THEN 1 END), COUNT(CASE WHEN alarm = 1 THEN 1 END), COUNT(CASE WHEN public_reply <> '' THEN 1 END) FROM msg_messages").fetch_one(&mut **x).await
        })
        .unwrap();
        assert!(overdue >= 3 && alarm == 1 && published >= 15, "{b}: {overdue} {alarm} {published}");
        drop(h);
        let year_ago = today - time::Duration::days(365);
        let s = gongkai_interact::messages::stats(&t.db, None, None, year_ago, today).await.unwrap();
        assert_eq!(s.total.received, 40, "{b}");
        assert!(s.total.replied > s.total.replied_on_time && s.total.replied_on_time > 0, "{b}: {:?}", s.total);
    }
}

/// Two keys whose derived tracking codes collide: the second message gets a longer code
/// (the same on every retry of its key), nothing fails.
#[tokio::test]
async fn a_tracking_code_drawn_twice_is_lengthened() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let www = site(&t, "www").await;
        let code = "LY20250101-SAME22";
        let first = |key: &'static str| {
            let (db, www) = (t.db.clone(), www.clone());
            async move {
                service::prepare(&db, &www, &form("leader", false), Vec::new(), key, code, "PASSWORD", IP)
                    .await
                    .unwrap()
                    .write(&db)
                    .await
                    .unwrap()
            }
        };
        let (a, created_a) = first("collide-key-one-0001").await;
        let (b2, created_b) = first("collide-key-two-0002").await;
        assert!(created_a && created_b, "{b}");
        assert_eq!(a.code, code);
        assert!(b2.code.starts_with(code) && b2.code.len() == code.len() + 4, "{b}: {}", b2.code);
        let (again, created) = first("collide-key-two-0002").await;
        assert!(!created, "{b}: a retry creates nothing");
        assert_eq!(again.code, b2.code, "{b}: and shows the same code");
    }
}
