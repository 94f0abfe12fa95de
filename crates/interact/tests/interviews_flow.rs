//! Interviews through the service, on SQLite and PostgreSQL: every state transition and
//! its refusals (announcing too late, questions after the end, a question answered twice),
//! moderation, idempotent questions, the answer deadline across the National Day holiday,
//! the sweep's reminders, the yearly counts and access by organisation.

use gongkai_interact::interviews::rules::InterviewForm;
use gongkai_interact::interviews::service::{self, AnswerForm, Moderation, Question};
use gongkai_interact::interviews::{self, Counts, store};
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::clock;
use gongkai_kernel::error::Error;
use gongkai_kernel::testkit::{self, TestDb};
use gongkai_kernel::with_conn;
use time::macros::{date, datetime};

const IP: &str = "127.0.0.1";

async fn editor(t: &TestDb, name: &str, org: Option<i64>) -> Principal {
    let id = testkit::user_with_role(&t.db, name, None).await;
    let actor = gongkai_kernel::audit::Actor::system("test");
    gongkai_kernel::auth::service::grant(&t.db, None, &actor, id, Role::Editor, org, None).await.unwrap();
    testkit::principal(&t.db, id).await
}

async fn scalar(t: &TestDb, sql: &'static str, bind: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).bind(bind).fetch_one(&mut **x).await).unwrap()
}

async fn site_id(t: &TestDb, code: &str) -> i64 {
    scalar(t, "SELECT id FROM sites WHERE code = $1", code).await
}

fn form(site: i64, start: &str, end: &str) -> InterviewForm {
    InterviewForm {
        site_id: site.to_string(),
        kind: "interview".into(),
        topic: "2025年秋季学期义务教育招生政策解读".into(),
        intro: "区教育局负责同志解读今年秋季学期招生政策。".into(),
        guests: "王立新 青禾区教育局局长\n李芳 区教育局基础教育科科长".into(),
        starts_at: start.into(),
        ends_at: end.into(),
        answer_days: String::new(),
    }
}

fn at(dt: time::PrimitiveDateTime) -> i64 {
    clock::local_to_ms(dt)
}

fn conflict(e: Error) -> String {
    match e {
        Error::Conflict(m) => m,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn get(t: &TestDb, id: i64) -> store::InterviewRow {
    let mut h = t.db.read().await.unwrap();
    store::get(&mut h.conn(), id).await.unwrap().unwrap()
}

async fn questions(t: &TestDb, id: i64) -> Vec<store::QuestionRow> {
    let mut h = t.db.read().await.unwrap();
    store::questions(&mut h.conn(), id).await.unwrap()
}

fn answer(qid: Option<i64>, guest: &str, text: &str) -> AnswerForm {
    AnswerForm {
        question_id: qid.map(|q| q.to_string()).unwrap_or_default(),
        guest: guest.into(),
        answer: text.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_interview_from_draft_to_archive() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let www = site_id(&t, "www").await;
        let who = editor(&t, "itv", None).await;
        let day0 = at(datetime!(2025-09-20 10:00));

        // A draft two days before its start cannot be announced.
        let id =
            service::create(&t.db, &who, IP, &form(www, "2025-09-22T09:00", "2025-09-22T11:00"), day0).await.unwrap();
        assert_eq!(get(&t, id).await.state, "draft", "{b}");
        let m = conflict(service::announce(&t.db, &who, IP, id, day0).await.unwrap_err());
        assert!(m.contains("至少提前3天") && m.contains("2025-09-23"), "{b}: {m}");
        assert_eq!(get(&t, id).await.state, "draft", "{b}: nothing changed");
        // Not announced: no questions, no going live.
        let e = service::submit_question(&t.db, www, id, &Question { asker: "", body: "问题", idem: "k0" }, IP, day0)
            .await
            .unwrap_err();
        assert_eq!(conflict(e), "访谈尚未开放提问");
        let m = conflict(service::go_live(&t.db, &who, IP, id, day0).await.unwrap_err());
        assert_eq!(m, "请先发布预告，再开始直播");

        // Moved to the 30th, it is announced; the guests are kept in order.
        service::update(&t.db, &who, IP, id, &form(www, "2025-09-30T09:30", "2025-09-30T11:00"), day0).await.unwrap();
        service::announce(&t.db, &who, IP, id, day0).await.unwrap();
        let r = get(&t, id).await;
        assert_eq!((r.state.as_str(), r.announced_on.as_deref()), ("announced", Some("2025-09-20")), "{b}");
        let guests = {
            let mut h = t.db.read().await.unwrap();
            store::guests(&mut h.conn(), id).await.unwrap()
        };
        assert_eq!(guests.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["王立新", "李芳"]);
        // Once announced, the start cannot be moved closer than the notice allows.
        let e = service::update(&t.db, &who, IP, id, &form(www, "2025-09-21T09:30", "2025-09-21T11:00"), day0).await;
        assert!(matches!(e, Err(Error::Invalid(_))), "{b}: {e:?}");
        assert_eq!(
            service::announce(&t.db, &who, IP, id, day0).await.map_err(conflict).unwrap_err(),
            "只有草稿状态的访谈可以发布预告"
        );

        // The public asks; a repeated submission (same key) is one question.
        let ask = |k: &'static str, body: &'static str| {
            let db = t.db.clone();
            async move {
                service::submit_question(&db, www, id, &Question { asker: "家长", body, idem: k }, IP, day0 + 1000)
                    .await
            }
        };
        let (q1, new1) = ask("k1", "<script>alert(1)</script>学区划分什么时候公布？").await.unwrap();
        let (again, new_again) = ask("k1", "<script>alert(1)</script>学区划分什么时候公布？").await.unwrap();
        assert!(new1 && !new_again && again == q1, "{b}");
        let (q2, _) = ask("k2", "随迁子女入学需要哪些材料？").await.unwrap();
        let (q3, _) = ask("k3", "广告内容").await.unwrap();
        let (q4, _) = ask("k4", "民办学校摇号结果在哪里查？").await.unwrap();
        assert_eq!(questions(&t, id).await.len(), 4, "{b}");
        // Another site's address does not reach this interview.
        let jyj = site_id(&t, "jyj").await;
        assert!(matches!(
            service::submit_question(&t.db, jyj, id, &Question { asker: "", body: "问", idem: "k9" }, IP, day0).await,
            Err(Error::NotFound)
        ));
        // Bad input.
        assert!(matches!(ask("k5", "   ").await, Err(Error::Invalid(_))));
        let long: &'static str = Box::leak("问".repeat(501).into_boxed_str());
        assert!(matches!(ask("k6", long).await, Err(Error::Invalid(_))));

        // Moderation: approved into the queue, or rejected with a reason, once.
        service::moderate(&t.db, &who, IP, id, q1, Moderation::Approve, day0).await.unwrap();
        service::moderate(&t.db, &who, IP, id, q3, Moderation::Reject("与访谈主题无关"), day0).await.unwrap();
        let m = conflict(service::moderate(&t.db, &who, IP, id, q3, Moderation::Approve, day0).await.unwrap_err());
        assert_eq!(m, "该问题已不予采用");
        let states: Vec<String> = questions(&t, id).await.iter().map(|q| q.state.clone()).collect();
        assert_eq!(states, ["queued", "pending", "rejected", "pending"], "{b}");

        // No answers before the session.
        let m = conflict(
            service::publish_answer(&t.db, &who, IP, id, &answer(Some(q1), "王立新", "答"), day0).await.unwrap_err(),
        );
        assert!(m.contains("尚未开始直播"), "{m}");

        // Live: question-and-answer pairs and updates, numbered in order.
        let live = at(datetime!(2025-09-30 09:30));
        service::go_live(&t.db, &who, IP, id, live).await.unwrap();
        assert_eq!(get(&t, id).await.state, "live");
        let s1 = service::publish_update(&t.db, &who, IP, id, "访谈开始，王立新局长来到直播间。", live).await.unwrap();
        let s2 = service::publish_answer(
            &t.db,
            &who,
            IP,
            id,
            &answer(Some(q1), "王立新", "学区划分方案将于7月上旬公布。"),
            live + 60_000,
        )
        .await
        .unwrap();
        assert_eq!((s1, s2), (1, 2), "{b}");
        // The same question again is refused, whoever tries.
        let m = conflict(
            service::publish_answer(&t.db, &who, IP, id, &answer(Some(q1), "李芳", "再答"), live).await.unwrap_err(),
        );
        assert_eq!(m, "该问题已经答复，不能重复发布");
        // A rejected question cannot be published; a guest must be one of the interview's.
        assert!(service::publish_answer(&t.db, &who, IP, id, &answer(Some(q3), "李芳", "答"), live).await.is_err());
        let e = service::publish_answer(&t.db, &who, IP, id, &answer(Some(q2), "张三", "答"), live).await.unwrap_err();
        assert!(matches!(e, Error::Invalid(_)), "{e:?}");
        // A question typed by the moderator (from the hotline, say).
        let typed = AnswerForm {
            question: "热线网友：转学手续怎么办理？".into(),
            asker: "热线来电".into(),
            guest: "李芳".into(),
            answer: "可在学校办理转学手续。".into(),
            ..Default::default()
        };
        assert_eq!(service::publish_answer(&t.db, &who, IP, id, &typed, live + 120_000).await.unwrap(), 3);
        let entries = {
            let mut h = t.db.read().await.unwrap();
            store::entries(&mut h.conn(), id, 1).await.unwrap()
        };
        assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3], "entries after #1");
        assert_eq!(entries[0].question, "<script>alert(1)</script>学区划分什么时候公布？", "stored as typed");
        assert_eq!(entries[0].guest, "王立新");

        // The session ends on the 30th: the open questions are due 5 working days later,
        // across the National Day holiday (1–8 Oct) and the 11 Oct make-up working day.
        let ended = at(datetime!(2025-09-30 11:05));
        service::end(&t.db, &who, IP, id, ended).await.unwrap();
        let r = get(&t, id).await;
        assert_eq!(r.state, "ended");
        assert_eq!(r.ended_on.as_deref(), Some("2025-09-30"), "{b}");
        assert_eq!(r.answer_due_on.as_deref(), Some("2025-10-14"), "{b}");
        let m = conflict(service::end(&t.db, &who, IP, id, live).await.unwrap_err());
        assert_eq!(m, "只有正在直播的访谈可以结束");

        // After the end: no questions, no updates; open questions are still answered.
        let e = service::submit_question(
            &t.db,
            www,
            id,
            &Question { asker: "", body: "还能提问吗？", idem: "k7" },
            IP,
            live,
        )
        .await
        .unwrap_err();
        assert_eq!(conflict(e), "访谈已结束，不再接受提问");
        assert!(service::publish_update(&t.db, &who, IP, id, "动态", live).await.is_err());
        let f = AnswerForm { question: "新问题".into(), ..answer(None, "李芳", "答") };
        let e = service::publish_answer(&t.db, &who, IP, id, &f, live).await;
        assert!(matches!(e, Err(Error::Invalid(_))), "only submitted questions after the end");
        let late = at(datetime!(2025-10-09 15:00));
        let s4 = service::publish_answer(&t.db, &who, IP, id, &answer(Some(q2), "李芳", "需户口簿、居住证。"), late)
            .await
            .unwrap();
        let last = {
            let mut h = t.db.read().await.unwrap();
            store::entries(&mut h.conn(), id, s4 - 1).await.unwrap()
        };
        assert_eq!(last[0].after_session, 1, "{b}");

        // The sweep: a reminder two working days ahead, then overdue, each written once.
        let s = service::sweep(&t.db, date!(2025 - 10 - 10)).await.unwrap();
        assert_eq!(
            (s.checked, s.due_soon, s.overdue),
            (1, 0, 0),
            "{b}: only q4 is open; the 14th is 3 working days off"
        );
        let s = service::sweep(&t.db, date!(2025 - 10 - 13)).await.unwrap();
        assert_eq!((s.due_soon, s.overdue), (1, 0), "{b}");
        assert_eq!(service::sweep(&t.db, date!(2025 - 10 - 13)).await.unwrap().due_soon, 0, "once");
        let s = service::sweep(&t.db, date!(2025 - 10 - 15)).await.unwrap();
        assert_eq!(s.overdue, 1, "{b}");
        let q = questions(&t, id).await.into_iter().find(|q| q.id == q4).unwrap();
        assert_eq!(q.overdue, 1);
        let rem = {
            let mut h = t.db.read().await.unwrap();
            store::reminders(&mut h.conn(), Some(id)).await.unwrap()
        };
        assert_eq!(rem.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(), ["overdue", "due_soon"], "{b}");
        // Answered late, it leaves the reminders.
        service::publish_answer(&t.db, &who, IP, id, &answer(Some(q4), "王立新", "在区教育局网站查询。"), late + 1)
            .await
            .unwrap();
        let mut h = t.db.read().await.unwrap();
        assert!(store::reminders(&mut h.conn(), Some(id)).await.unwrap().is_empty());
        drop(h);

        // Counts: one interview held; 5 questions received (4 public + 1 typed), 4 answered.
        let c = interviews::counts(&t.db, Some(www), 2025).await.unwrap();
        assert_eq!(
            c,
            Counts { interviews: 1, press_conferences: 0, questions_received: 5, questions_answered: 4 },
            "{b}"
        );
        assert_eq!(interviews::counts(&t.db, Some(jyj), 2025).await.unwrap(), Counts::default());
        assert_eq!(interviews::counts(&t.db, None, 2024).await.unwrap(), Counts::default());

        // Every change is in the audit log.
        let n = scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE target_type = $1", "interview").await;
        assert!(n >= 18, "{b}: {n} audit entries");
        let n = scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE action = $1", "itv.announce").await;
        assert_eq!(n, 1, "{b}: the refused announcement left no trace");
    }
}

#[tokio::test]
async fn press_conferences_count_apart_and_access_follows_the_organisation() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let www = site_id(&t, "www").await;
        let jyj_site = site_id(&t, "jyj").await;
        let jyj_org = scalar(&t, "SELECT id FROM orgs WHERE short_name = $1", "区教育局").await;
        let district = editor(&t, "itv", None).await;
        let bureau = editor(&t, "itv-jyj", Some(jyj_org)).await;
        let day0 = at(datetime!(2026-03-02 10:00));

        // The bureau's editor runs the bureau's site, not the district portal.
        let e = service::create(&t.db, &bureau, IP, &form(www, "2026-03-10T09:00", "2026-03-10T10:00"), day0).await;
        assert!(matches!(e, Err(Error::Forbidden(_))), "{b}: {e:?}");
        let mut f = form(jyj_site, "2026-03-05T09:00", "2026-03-05T10:00");
        f.kind = "press".into();
        let id = service::create(&t.db, &bureau, IP, &f, day0).await.unwrap();
        assert!(service::load_for(&t.db, &bureau, id).await.is_ok());
        let other = service::create(&t.db, &district, IP, &form(www, "2026-03-10T09:00", "2026-03-10T10:00"), day0)
            .await
            .unwrap();
        assert!(matches!(service::load_for(&t.db, &bureau, other).await, Err(Error::Forbidden(_))), "{b}");
        assert!(matches!(service::announce(&t.db, &bureau, IP, other, day0).await, Err(Error::Forbidden(_))));

        // Exactly three calendar days ahead is enough.
        service::announce(&t.db, &bureau, IP, id, day0).await.unwrap();
        service::go_live(&t.db, &bureau, IP, id, day0).await.unwrap();
        service::end(&t.db, &bureau, IP, id, at(datetime!(2026-03-05 10:00))).await.unwrap();
        let c = interviews::counts(&t.db, None, 2026).await.unwrap();
        assert_eq!((c.interviews, c.press_conferences), (0, 1), "{b}");
        let c = interviews::counts(&t.db, Some(jyj_site), 2026).await.unwrap();
        assert_eq!(c.press_conferences, 1);
        assert_eq!(interviews::counts(&t.db, Some(www), 2026).await.unwrap().press_conferences, 0);
    }
}

#[tokio::test]
async fn the_demo_has_an_archive_an_announcement_and_a_press_conference() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let today = clock::today();
        assert!(gongkai_interact::interviews::demo::seed(&t.db, today).await.unwrap(), "{b}");
        assert!(!gongkai_interact::interviews::demo::seed(&t.db, today).await.unwrap(), "{b}: idempotent");
        let www = site_id(&t, "www").await;
        let rows = {
            let mut h = t.db.read().await.unwrap();
            store::list(&mut h.conn(), Some(www), false).await.unwrap()
        };
        let mut states: Vec<(String, String)> = rows.iter().map(|r| (r.kind.clone(), r.state.clone())).collect();
        states.sort();
        assert_eq!(
            states,
            [
                ("interview".into(), "announced".into()),
                ("interview".into(), "ended".into()),
                ("press".into(), "ended".into())
            ],
            "{b}"
        );
        let archived = rows.iter().find(|r| r.kind == "interview" && r.state == "ended").unwrap();
        let entries = {
            let mut h = t.db.read().await.unwrap();
            store::entries(&mut h.conn(), archived.id, 0).await.unwrap()
        };
        assert_eq!(entries.iter().filter(|e| e.kind == "qa" && e.after_session == 0).count(), 12, "{b}");
        assert_eq!(entries.iter().filter(|e| e.after_session == 1).count(), 2, "{b}");
        assert_eq!(entries.iter().filter(|e| e.kind == "update").count(), 3, "{b}");
        // The one open question is long overdue: the sweep flags it.
        let s = service::sweep(&t.db, today).await.unwrap();
        assert_eq!(s.overdue, 1, "{b}");
        let year = clock::ms_to_local(archived.ended_at.unwrap()).year();
        let c = interviews::counts(&t.db, Some(www), year).await.unwrap();
        assert!(c.interviews >= 1 && c.questions_answered >= 14, "{b}: {c:?}");
    }
}
