//! Store and service tests, run on SQLite and (when GONGKAI_TEST_DATABASE_URL is set)
//! on PostgreSQL, each on a fresh database.

use gongkai_kernel::audit::{self, Actor, Verdict};
use gongkai_kernel::auth::{Perm, Role, service as auth, store as auth_store};
use gongkai_kernel::calendar::{rules::DayKind, service as calendar};
use gongkai_kernel::clock::parse_date;
use gongkai_kernel::config::Security;
use gongkai_kernel::db::Conn;
use gongkai_kernel::error::Error;
use gongkai_kernel::org::{OrgInput, service as org};
use gongkai_kernel::testkit::{self, TEST_PASSWORD};
use gongkai_kernel::{jobs, outbox, with_conn};

fn actor() -> Actor {
    Actor::system("test")
}

async fn exec(t: &testkit::TestDb, sql: &'static str) {
    let mut tx = t.db.begin().await.unwrap();
    with_conn!(&mut tx.conn(), x => sqlx::query(sql).execute(&mut **x).await.map(|_| ())).unwrap();
    tx.commit().await.unwrap();
}

async fn count(t: &testkit::TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    with_conn!(&mut h.conn(), x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

fn dept(name: &str, parent: Option<i64>) -> OrgInput {
    OrgInput {
        name: name.into(),
        kind: "department".into(),
        parent_id: parent.map(|p| p.to_string()).unwrap_or_default(),
        ..Default::default()
    }
}

#[tokio::test]
async fn audit_chain_detects_edit_delete_and_reorder() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        for i in 0..5 {
            let mut tx = t.db.begin().await.unwrap();
            audit::append(&mut tx.conn(), &actor(), "test.op", "thing", i, serde_json::json!({ "i": i }))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let Verdict::Intact { rows, .. } = audit::verify(&t.db).await.unwrap() else {
            panic!("{name}: fresh chain broken")
        };
        assert!(rows >= 5, "{name}");

        // Edited summary.
        exec(&t, "UPDATE audit_log SET summary = '{\"i\":99}' WHERE seq = 3").await;
        match audit::verify(&t.db).await.unwrap() {
            Verdict::Broken { seq, .. } => assert_eq!(seq, 3, "{name}"),
            v => panic!("{name}: edit not detected: {v:?}"),
        }
    }
}

#[tokio::test]
async fn audit_chain_detects_deletion_swap_and_truncation() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        for i in 0..6 {
            let mut tx = t.db.begin().await.unwrap();
            audit::append(&mut tx.conn(), &actor(), "test.op", "thing", i, serde_json::json!({})).await.unwrap();
            tx.commit().await.unwrap();
        }
        let total = count(&t, "SELECT COUNT(*) FROM audit_log").await;
        // Truncated tail (last row deleted): caught by the head row.
        let mut tx = t.db.begin().await.unwrap();
        with_conn!(&mut tx.conn(), x => sqlx::query("DELETE FROM audit_log WHERE seq = $1").bind(total).execute(&mut **x).await.map(|_| ())).unwrap();
        tx.commit().await.unwrap();
        assert!(matches!(audit::verify(&t.db).await.unwrap(), Verdict::Broken { .. }), "{name}: truncation");
        // Middle row deleted.
        exec(&t, "DELETE FROM audit_log WHERE seq = 2").await;
        match audit::verify(&t.db).await.unwrap() {
            Verdict::Broken { seq, .. } => assert_eq!(seq, 2, "{name}"),
            v => panic!("{name}: deletion not detected: {v:?}"),
        }
    }
    for t in testkit::backends().await {
        let name = t.backend_name();
        for i in 0..4 {
            let mut tx = t.db.begin().await.unwrap();
            audit::append(&mut tx.conn(), &actor(), "test.op", "thing", i, serde_json::json!({ "n": i }))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        // Swap the content of two rows (reorder) keeping their seq numbers.
        exec(&t, "UPDATE audit_log SET seq = -1 WHERE seq = 2").await;
        exec(&t, "UPDATE audit_log SET seq = 2 WHERE seq = 3").await;
        exec(&t, "UPDATE audit_log SET seq = 3 WHERE seq = -1").await;
        match audit::verify(&t.db).await.unwrap() {
            Verdict::Broken { seq, .. } => assert_eq!(seq, 2, "{name}"),
            v => panic!("{name}: reorder not detected: {v:?}"),
        }
    }
}

#[tokio::test]
async fn audit_batches_chain_like_single_appends() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let entry = |i: usize| audit::NewEntry {
            actor: actor(),
            action: "test.batch".into(),
            target_type: "thing".into(),
            target_id: i.to_string(),
            summary: serde_json::json!({ "i": i }),
        };
        let before = count(&t, "SELECT COUNT(*) FROM audit_log").await;
        let mut tx = t.db.begin().await.unwrap();
        audit::append(&mut tx.conn(), &actor(), "test.op", "thing", 0, serde_json::json!({})).await.unwrap();
        // More than one INSERT's worth of rows, then a single append after them.
        let batch: Vec<audit::NewEntry> = (1..=1203).map(entry).collect();
        let seqs = audit::append_all(&mut tx.conn(), &batch).await.unwrap();
        let last = audit::append(&mut tx.conn(), &actor(), "test.op", "thing", 0, serde_json::json!({})).await.unwrap();
        assert!(audit::append_all(&mut tx.conn(), &[]).await.unwrap().is_empty(), "{name}");
        tx.commit().await.unwrap();
        assert_eq!(seqs.len(), 1203, "{name}");
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{name}: consecutive");
        assert_eq!(seqs[0], before + 2, "{name}");
        assert_eq!(last, before + 1205, "{name}");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log").await, before + 1205, "{name}");
        assert!(matches!(audit::verify(&t.db).await.unwrap(), Verdict::Intact { .. }), "{name}");
        // Each batched entry is chained on its own: editing one breaks the chain there.
        exec(&t, "UPDATE audit_log SET target_id = 'x' WHERE action = 'test.batch' AND target_id = '700'").await;
        match audit::verify(&t.db).await.unwrap() {
            Verdict::Broken { seq, .. } => assert_eq!(seq, before + 701, "{name}"),
            v => panic!("{name}: edit not detected: {v:?}"),
        }
    }
}

#[tokio::test]
async fn audit_appends_stay_linear_under_concurrency() {
    for t in testkit::backends().await {
        let mut handles = Vec::new();
        for i in 0..40 {
            let db = t.db.clone();
            handles.push(tokio::spawn(async move {
                let mut tx = db.begin().await.unwrap();
                audit::append(&mut tx.conn(), &Actor::system("c"), "test.concurrent", "t", i, serde_json::json!({}))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        assert!(matches!(audit::verify(&t.db).await.unwrap(), Verdict::Intact { .. }), "{}", t.backend_name());
    }
}

#[tokio::test]
async fn outbox_and_audit_roll_back_with_the_change() {
    for t in testkit::backends().await {
        let before_out = count(&t, "SELECT COUNT(*) FROM outbox").await;
        let before_audit = count(&t, "SELECT COUNT(*) FROM audit_log").await;
        {
            let mut tx = t.db.begin().await.unwrap();
            let mut c = tx.conn();
            outbox::emit(&mut c, "test", 1, serde_json::json!({})).await.unwrap();
            audit::append(&mut c, &actor(), "test.rollback", "t", 1, serde_json::json!({})).await.unwrap();
            // dropped without commit
        }
        assert_eq!(count(&t, "SELECT COUNT(*) FROM outbox").await, before_out);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log").await, before_audit);
        // A committed org change leaves exactly one outbox event and one audit row.
        org::create_as(&t.db, &actor(), &dept("区教育局", None)).await.unwrap();
        assert_eq!(count(&t, "SELECT COUNT(*) FROM outbox").await, before_out + 1);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log").await, before_audit + 1);
        let mut h = t.db.read().await.unwrap();
        let ev = outbox::read_after(&mut h.conn(), 0, 1000).await.unwrap();
        assert_eq!(ev.last().unwrap().topic, "org.changed");
        assert!(matches!(audit::verify(&t.db).await.unwrap(), Verdict::Intact { .. }));
    }
}

async fn admin(t: &testkit::TestDb, role: Role) -> gongkai_kernel::auth::Principal {
    let name = format!("{}{}", role.as_str(), gongkai_kernel::random_token::<3>());
    let id = testkit::user_with_role(&t.db, &name, Some(role)).await;
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    let u = auth_store::user_by_id(&mut c, id).await.unwrap().unwrap();
    let grants = auth_store::grants_of(&mut c, id).await.unwrap();
    gongkai_kernel::auth::Principal {
        user_id: id,
        username: u.username,
        display_name: u.display_name,
        org_id: None,
        must_change_password: false,
        session_id: String::new(),
        csrf_token: String::new(),
        grants: auth_store::scopes(&grants),
    }
}

#[tokio::test]
async fn organisations_tree_codes_versions_and_deletion() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let sys = admin(&t, Role::SysAdmin).await;
        let gov = org::create(
            &t.db,
            &sys,
            "127.0.0.1",
            &OrgInput { name: "青禾区人民政府".into(), kind: "government".into(), ..Default::default() },
        )
        .await
        .unwrap();
        let edu = org::create(&t.db, &sys, "127.0.0.1", &dept("区教育局", Some(gov.id))).await.unwrap();
        let school = org::create(&t.db, &sys, "127.0.0.1", &dept("区第一中学", Some(edu.id))).await.unwrap();
        assert_eq!(school.path, format!("/{}/{}/{}/", gov.id, edu.id, school.id), "{name}");

        // Invalid code → field error, nothing written.
        let bad = OrgInput { uscc: "91110000600037341X".into(), ..dept("坏代码", Some(gov.id)) };
        match org::create(&t.db, &sys, "ip", &bad).await {
            Err(Error::Invalid(f)) => assert!(f.get("uscc").is_some()),
            r => panic!("{name}: {r:?}"),
        }

        // Duplicate code refused with a field message.
        let body = "12345678";
        let oc = format!("{body}{}", gongkai_kernel::cn::org_code_check_char(body).unwrap());
        org::create(&t.db, &sys, "ip", &OrgInput { org_code: oc.clone(), ..dept("甲", Some(gov.id)) }).await.unwrap();
        match org::create(&t.db, &sys, "ip", &OrgInput { org_code: oc, ..dept("乙", Some(gov.id)) }).await {
            Err(Error::Invalid(f)) => {
                assert!(f.get("uscc").is_some() || f.get("org_code").is_some())
            }
            r => panic!("{name}: duplicate code accepted: {r:?}"),
        }

        // Concurrent edit: the second save with a stale version is told, not applied.
        let mut input = dept("区教育体育局", Some(gov.id));
        input.version = edu.version.to_string();
        org::update(&t.db, &sys, "ip", edu.id, &input).await.unwrap();
        input.name = "区教育局（旧）".into();
        assert!(matches!(org::update(&t.db, &sys, "ip", edu.id, &input).await, Err(Error::Conflict(_))), "{name}");
        assert_eq!(org::get(&t.db, edu.id).await.unwrap().name, "区教育体育局");

        // Moving under its own descendant is refused; moving a subtree rewrites paths.
        let edu_now = org::get(&t.db, edu.id).await.unwrap();
        let mut mv = dept("区教育体育局", Some(school.id));
        mv.version = edu_now.version.to_string();
        assert!(matches!(org::update(&t.db, &sys, "ip", edu.id, &mv).await, Err(Error::Invalid(_))), "{name}");
        let other = org::create(&t.db, &sys, "ip", &dept("区文旅局", Some(gov.id))).await.unwrap();
        mv.parent_id = other.id.to_string();
        org::update(&t.db, &sys, "ip", edu.id, &mv).await.unwrap();
        let school_now = org::get(&t.db, school.id).await.unwrap();
        assert_eq!(school_now.path, format!("/{}/{}/{}/{}/", gov.id, other.id, edu.id, school.id), "{name}");

        // Deleting an organisation that still has children or users is refused.
        assert!(matches!(org::delete(&t.db, &sys, "ip", edu.id).await, Err(Error::Conflict(_))), "{name}");
        org::delete(&t.db, &sys, "ip", school.id).await.unwrap();
        org::delete(&t.db, &sys, "ip", edu.id).await.unwrap();

        // A scoped sysadmin cannot touch organisations outside its subtree.
        let scoped_id = testkit::user_with_role(&t.db, "scoped_sys", None).await;
        auth::grant(&t.db, None, &actor(), scoped_id, Role::SysAdmin, Some(other.id), None).await.unwrap();
        let mut h = t.db.read().await.unwrap();
        let grants = auth_store::grants_of(&mut h.conn(), scoped_id).await.unwrap();
        drop(h);
        let scoped =
            gongkai_kernel::auth::Principal { user_id: scoped_id, grants: auth_store::scopes(&grants), ..sys.clone() };
        assert!(scoped.can(Perm::OrgManage, Some(&other.path), None));
        assert!(
            matches!(org::create(&t.db, &scoped, "ip", &dept("越权", Some(gov.id))).await, Err(Error::Forbidden(_))),
            "{name}"
        );
        org::create(&t.db, &scoped, "ip", &dept("文旅局下属", Some(other.id))).await.unwrap();
        assert!(matches!(audit::verify(&t.db).await.unwrap(), Verdict::Intact { .. }));
    }
}

#[tokio::test]
async fn login_lockout_holds_in_the_database() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        testkit::user_with_role(&t.db, "zhang", Some(Role::Editor)).await;
        let sec = Security { lockout_threshold: 3, lockout_minutes: 15, ..Security::default() };
        for i in 1..3 {
            match auth::login(&t.db, &sec, "zhang", "wrong-password", "ip", "ua").await {
                Err(Error::Invalid(f)) => {
                    assert!(f.get("password").unwrap().contains(&format!("再错 {} 次", 3 - i)), "{name}: {f:?}")
                }
                r => panic!("{name}: {:?}", r.map(|_| ())),
            }
        }
        assert!(
            matches!(auth::login(&t.db, &sec, "zhang", "wrong-password", "ip", "ua").await, Err(Error::TooMany(_))),
            "{name}"
        );
        // Locked: even the right password is refused, on any node (the state is in the DB).
        assert!(
            matches!(auth::login(&t.db, &sec, "zhang", TEST_PASSWORD, "ip", "ua").await, Err(Error::TooMany(_))),
            "{name}"
        );
        // After the lock expires the right password works and the counter restarts.
        exec(&t, "UPDATE users SET locked_until = 1 WHERE username = 'zhang'").await;
        let ok = auth::login(&t.db, &sec, "zhang", TEST_PASSWORD, "ip", "ua").await.unwrap();
        assert_eq!(ok.token.len(), 64);
        assert_eq!(
            count(
                &t,
                "SELECT COUNT(*) FROM users WHERE username = 'zhang' AND failed_logins = 0 AND locked_until IS NULL"
            )
            .await,
            1
        );
        // Unknown user: same generic message.
        match auth::login(&t.db, &sec, "nobody", "whatever-123", "ip", "ua").await {
            Err(Error::Invalid(f)) => assert_eq!(f.get("password"), Some("用户名或密码错误")),
            r => panic!("{name}: {:?}", r.map(|_| ())),
        }
        // Disabled user cannot log in and its sessions are gone.
        let id = count(&t, "SELECT id FROM users WHERE username = 'zhang'").await;
        auth::set_disabled_as(&t.db, &actor(), id, true).await.unwrap();
        assert_eq!(
            count(&t, "SELECT COUNT(*) FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = 'zhang')")
                .await,
            0
        );
        assert!(
            matches!(auth::login(&t.db, &sec, "zhang", TEST_PASSWORD, "ip", "ua").await, Err(Error::Forbidden(_))),
            "{name}"
        );
        assert!(auth::principal_for_token(&t.db, &sec, &ok.token).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn users_and_grants_keep_the_triad_separate() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let sec = admin(&t, Role::SecAdmin).await;
        let sys = admin(&t, Role::SysAdmin).await;
        // Weak password, bad username: field errors, nothing stored.
        let bad = auth::UserInput {
            username: "A".into(),
            display_name: "".into(),
            password: "1234567890".into(),
            ..Default::default()
        };
        match auth::create_user(&t.db, Some(&sys), &actor(), &bad, true).await {
            Err(Error::Invalid(f)) => {
                for k in ["username", "display_name", "password"] {
                    assert!(f.get(k).is_some(), "{name}: {k}");
                }
            }
            r => panic!("{name}: {:?}", r.map(|_| ())),
        }
        let input = auth::UserInput {
            username: "li.ming".into(),
            display_name: "李明".into(),
            password: "Qing-He-2026-x".into(),
            ..Default::default()
        };
        let u = auth::create_user(&t.db, Some(&sys), &actor(), &input, true).await.unwrap();
        assert!(u.must_change_password);
        assert!(
            matches!(auth::create_user(&t.db, Some(&sys), &actor(), &input, true).await, Err(Error::Invalid(_))),
            "{name}: duplicate username"
        );

        // The system administrator cannot grant.
        assert!(
            matches!(
                auth::grant(&t.db, Some(&sys), &actor(), u.id, Role::Editor, None, None).await,
                Err(Error::Forbidden(_))
            ),
            "{name}"
        );
        // The security administrator can, but not to itself, and never two triad roles.
        auth::grant(&t.db, Some(&sec), &actor(), u.id, Role::AuditAdmin, None, None).await.unwrap();
        assert!(
            matches!(
                auth::grant(&t.db, Some(&sec), &actor(), u.id, Role::SysAdmin, None, None).await,
                Err(Error::Invalid(_))
            ),
            "{name}: triad"
        );
        assert!(
            matches!(
                auth::grant(&t.db, Some(&sec), &actor(), sec.user_id, Role::Editor, None, None).await,
                Err(Error::Forbidden(_))
            ),
            "{name}: self"
        );
        assert!(
            matches!(
                auth::grant(&t.db, Some(&sec), &actor(), u.id, Role::AuditAdmin, None, None).await,
                Err(Error::Invalid(_))
            ),
            "{name}: duplicate grant"
        );
        assert!(
            matches!(
                auth::grant(&t.db, Some(&sec), &actor(), u.id, Role::Editor, None, Some(999)).await,
                Err(Error::Invalid(_))
            ),
            "{name}: unknown site"
        );
        let gid = auth::grant(&t.db, Some(&sec), &actor(), u.id, Role::Editor, None, None).await.unwrap();
        auth::revoke(&t.db, &sec, "ip", gid).await.unwrap();
        let mut h = t.db.read().await.unwrap();
        let roles: Vec<String> =
            auth_store::grants_of(&mut h.conn(), u.id).await.unwrap().into_iter().map(|g| g.role).collect();
        assert_eq!(roles, vec!["auditadmin"], "{name}");
    }
}

#[tokio::test]
async fn calendar_edits_and_imports_change_deadlines() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let cal = calendar::load(&t.db).await.unwrap();
        let d = |s| parse_date(s).unwrap();
        assert_eq!(cal.add_working_days(d("2024-09-27"), 20), d("2024-10-30"), "{name}");
        assert_eq!(cal.kind(d("2024-02-04")), DayKind::AdjustedWorkday);
        assert!(!cal.years_loaded().contains(&2027));
        // 2027 notice arrives: New Year's Day off and a Saturday made a working day.
        let notice = r#"{"year": 2027, "papers": ["https://www.gov.cn/example"], "days": [
            {"name": "元旦", "date": "2027-01-01", "isOffDay": true},
            {"name": "春节", "date": "2027-02-06", "isOffDay": false}]}"#;
        let before = cal.add_working_days(d("2026-12-30"), 3);
        calendar::import_notice(&t.db, &actor(), notice, "test").await.unwrap();
        let cal = calendar::load(&t.db).await.unwrap();
        assert!(cal.years_loaded().contains(&2027));
        assert_eq!(cal.kind(d("2027-02-06")), DayKind::AdjustedWorkday);
        assert_eq!(before, d("2027-01-04"));
        assert_eq!(cal.add_working_days(d("2026-12-30"), 3), d("2027-01-05"), "{name}: holiday now skipped");
        // A hand edit, then its removal.
        calendar::set_day(&t.db, &actor(), d("2027-03-01"), DayKind::Holiday, "测试假日").await.unwrap();
        assert_eq!(calendar::load(&t.db).await.unwrap().kind(d("2027-03-01")), DayKind::Holiday);
        calendar::set_day(&t.db, &actor(), d("2027-03-01"), DayKind::Workday, "").await.unwrap();
        assert_eq!(calendar::load(&t.db).await.unwrap().kind(d("2027-03-01")), DayKind::Workday);
        // Invalid edits are refused with field messages.
        assert!(matches!(
            calendar::set_day(&t.db, &actor(), d("2027-03-02"), DayKind::AdjustedWorkday, "x").await,
            Err(Error::Invalid(_))
        ));
        assert!(matches!(calendar::import_notice(&t.db, &actor(), "{not json", "test").await, Err(Error::Invalid(_))));
        // Every edit is on the outbox for slices holding deadlines.
        assert!(count(&t, "SELECT COUNT(*) FROM outbox WHERE topic = 'calendar.changed'").await >= 3, "{name}");
        // Office hours.
        assert!(matches!(calendar::set_office_hours(&t.db, &actor(), "12:00-09:00").await, Err(Error::Invalid(_))));
        calendar::set_office_hours(&t.db, &actor(), "08:30-12:00,14:00-17:30").await.unwrap();
        assert_eq!(calendar::office_hours(&t.db).await.unwrap().to_string_spec(), "08:30-12:00,14:00-17:30");
    }
}

#[tokio::test]
async fn jobs_retry_back_off_die_and_leases_expire() {
    use jobs::runner::{Registry, tick};
    for t in testkit::backends().await {
        let name = t.backend_name();
        let mut reg = Registry::default();
        reg.register("ok", |_, _| async { Ok(()) });
        reg.register("fail", |_, _| async { Err("boom".to_string()) });
        reg.register("panic", |_, v: serde_json::Value| async move {
            if v["x"] == 1 {
                panic!("handler panicked");
            }
            Ok(())
        });
        let now = gongkai_kernel::clock::now_ms();
        {
            let mut tx = t.db.begin().await.unwrap();
            let mut c = tx.conn();
            jobs::enqueue(&mut c, "ok", &serde_json::json!({}), now, None).await.unwrap();
            jobs::enqueue(&mut c, "fail", &serde_json::json!({}), now, None).await.unwrap();
            jobs::enqueue(&mut c, "panic", &serde_json::json!({"x": 1}), now, None).await.unwrap();
            jobs::enqueue(&mut c, "unknown.kind", &serde_json::json!({}), now, None).await.unwrap();
            assert!(jobs::enqueue(&mut c, "ok", &serde_json::json!({}), now, Some("k1")).await.unwrap().is_some());
            assert!(
                jobs::enqueue(&mut c, "ok", &serde_json::json!({}), now, Some("k1")).await.unwrap().is_none(),
                "dedupe"
            );
            tx.commit().await.unwrap();
        }
        tick(&t.db, &reg, "w1", 60_000).await;
        let q = |s: &'static str| count(&t, s);
        assert_eq!(q("SELECT COUNT(*) FROM jobs WHERE kind = 'ok' AND status = 'done'").await, 2, "{name}");
        // Failures are queued again with a later run_at and the error kept.
        assert_eq!(
            q("SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND attempts = 1 AND last_error <> ''").await,
            3,
            "{name}"
        );
        // Make them due and exhaust their attempts: they end dead, visible.
        exec(&t, "UPDATE jobs SET max_attempts = 2, run_at = 0 WHERE status = 'queued'").await;
        tick(&t.db, &reg, "w1", 60_000).await;
        assert_eq!(q("SELECT COUNT(*) FROM jobs WHERE status = 'dead'").await, 3, "{name}");
        assert_eq!(
            q("SELECT COUNT(*) FROM jobs WHERE status = 'dead' AND last_error LIKE '%未知的任务类型%'").await,
            1
        );
        // Retry from the console puts one back.
        let dead_id = q("SELECT MIN(id) FROM jobs WHERE status = 'dead'").await;
        let mut tx = t.db.begin().await.unwrap();
        jobs::retry(&mut tx.conn(), dead_id).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(q("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").await, 1);

        // A crashed worker's lease expires and another claims the job.
        exec(&t, "DELETE FROM jobs").await;
        let mut tx = t.db.begin().await.unwrap();
        jobs::enqueue(&mut tx.conn(), "ok", &serde_json::json!({}), 0, None).await.unwrap();
        tx.commit().await.unwrap();
        let j = jobs::claim(&t.db, "crashed", 60_000).await.unwrap().expect("claim");
        assert!(jobs::claim(&t.db, "w2", 60_000).await.unwrap().is_none(), "{name}: leased job claimed twice");
        exec(&t, "UPDATE jobs SET locked_until = 1").await;
        let j2 = jobs::claim(&t.db, "w2", 60_000).await.unwrap().expect("reclaim after lease expiry");
        assert_eq!(j.id, j2.id);
        assert_eq!(j2.attempts, 2);
        // The crashed worker can no longer complete it.
        jobs::complete(&t.db, j.id, "crashed").await.unwrap();
        assert_eq!(q("SELECT COUNT(*) FROM jobs WHERE status = 'running'").await, 1, "{name}");
    }
}

#[tokio::test]
async fn a_schedule_tick_runs_once_across_nodes() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        jobs::ensure_schedule(&t.db, "test.every", "* * * * *", "ok").await.unwrap();
        exec(&t, "UPDATE schedules SET next_run_at = 1 WHERE name = 'test.every'").await;
        // Eight "nodes" fire at once.
        let mut hs = Vec::new();
        for _ in 0..8 {
            let db = t.db.clone();
            hs.push(tokio::spawn(async move { jobs::fire_due_schedules(&db).await.unwrap() }));
        }
        let mut fired = 0;
        for h in hs {
            fired += h.await.unwrap();
        }
        // The built-in schedules are not due in a fresh database, so only ours fires.
        assert_eq!(fired, 1, "{name}");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM jobs WHERE kind = 'ok'").await, 1, "{name}");
        assert!(
            count(&t, "SELECT next_run_at FROM schedules WHERE name = 'test.every'").await
                > gongkai_kernel::clock::now_ms()
        );
        // An invalid cron expression is refused.
        assert!(jobs::ensure_schedule(&t.db, "bad", "61 * * * *", "ok").await.is_err());
    }
}

#[tokio::test]
async fn sessions_expire_and_rotate() {
    for t in testkit::backends().await {
        testkit::user_with_role(&t.db, "wang", Some(Role::Reviewer)).await;
        let sec = Security::default();
        let a = auth::login(&t.db, &sec, "wang", TEST_PASSWORD, "ip", "ua").await.unwrap();
        let b = auth::login(&t.db, &sec, "wang", TEST_PASSWORD, "ip", "ua").await.unwrap();
        assert_ne!(a.token, b.token, "each log-in gets a new session");
        assert!(auth::principal_for_token(&t.db, &sec, &a.token).await.unwrap().is_some());
        // Idle expiry.
        exec(&t, "UPDATE sessions SET expires_at = 1").await;
        assert!(auth::principal_for_token(&t.db, &sec, &a.token).await.unwrap().is_none());
        // Garbage tokens.
        assert!(auth::principal_for_token(&t.db, &sec, "' OR 1=1 --").await.unwrap().is_none());
        let mut tx = t.db.begin().await.unwrap();
        let n = auth_store::delete_expired_sessions(&mut tx.conn(), gongkai_kernel::clock::now_ms()).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(n, 2);
        let _ = Conn::backend; // the enum is part of the public storage API
    }
}

#[tokio::test]
async fn demo_district_is_valid_and_idempotent() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        assert!(gongkai_kernel::demo::seed(&t.db).await.unwrap().created);
        assert!(!gongkai_kernel::demo::seed(&t.db).await.unwrap().created, "{name}: second run reuses the data");
        let orgs = org::list(&t.db).await.unwrap();
        assert_eq!(orgs.len(), 12);
        for o in &orgs {
            let code = o.uscc.as_deref().expect("demo orgs have a USCC");
            assert_eq!(gongkai_kernel::cn::validate_uscc(code).unwrap(), code);
        }
        let mut h = t.db.read().await.unwrap();
        let sites = gongkai_kernel::site::store::all(&mut h.conn()).await.unwrap();
        assert_eq!(sites.iter().filter(|s| !s.external).count(), 3, "{name}");
        for s in &sites {
            gongkai_kernel::site::validate_site_code(&s.site_code).unwrap();
        }
        // Every role has a demo user who can log in with the printed password.
        for (username, _, role, _) in gongkai_kernel::demo::DEMO_USERS {
            let ok =
                auth::login(&t.db, &Security::default(), username, gongkai_kernel::demo::DEMO_PASSWORD, "ip", "ua")
                    .await;
            assert!(ok.is_ok(), "{name}: demo user {username}");
            let id = auth_store::user_by_username(&mut h.conn(), username).await.unwrap().unwrap().id;
            let roles: Vec<String> =
                auth_store::grants_of(&mut h.conn(), id).await.unwrap().into_iter().map(|g| g.role).collect();
            assert_eq!(roles, vec![role.as_str().to_string()]);
        }
        drop(h);
        assert!(matches!(audit::verify(&t.db).await.unwrap(), Verdict::Intact { .. }));
    }
}

#[tokio::test]
async fn sites_register_close_reopen_and_count() {
    use gongkai_kernel::site::service::{self as sites, SiteInput};
    for t in testkit::backends().await {
        let name = t.backend_name();
        let sys = admin(&t, Role::SysAdmin).await;
        let host = org::create(&t.db, &sys, "ip", &dept("区文旅局", None)).await.unwrap();
        let good = SiteInput {
            code: "wlj".into(),
            name: "青禾区文旅局".into(),
            site_code: "3301990042".into(),
            hosts: "wlj.qinghe.gov.cn\nWLJ.qinghe.gov.cn.".into(),
            kind: "department".into(),
            org_id: host.id.to_string(),
            opened_on: "2019-05-01".into(),
            ..Default::default()
        };
        // Bad input: every field reported at once, nothing stored.
        let bad = SiteInput {
            code: "W J".into(),
            site_code: "99".into(),
            hosts: "http://x/y".into(),
            opened_on: "2999-01-01".into(),
            ..good.clone()
        };
        match sites::create(&t.db, &sys, "ip", &bad).await {
            Err(Error::Invalid(f)) => {
                for k in ["code", "site_code", "hosts", "opened_on"] {
                    assert!(f.get(k).is_some(), "{name}: {k} {f:?}");
                }
            }
            r => panic!("{name}: {:?}", r.map(|s| s.id)),
        }
        let s = sites::create(&t.db, &sys, "ip", &good).await.unwrap();
        assert_eq!(s.hosts, "wlj.qinghe.gov.cn", "{name}: hosts normalised and deduplicated");
        assert!(matches!(sites::create(&t.db, &sys, "ip", &good).await, Err(Error::Invalid(_))), "duplicate code");
        // Closing needs a reason, then counts in its year.
        assert!(matches!(
            sites::set_status(&t.db, &sys, "ip", s.id, true, "2024-03-01", "").await,
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            sites::set_status(&t.db, &sys, "ip", s.id, true, "2019-01-01", "早于开通").await,
            Err(Error::Invalid(_))
        ));
        let closed =
            sites::set_status(&t.db, &sys, "ip", s.id, true, "2024-03-01", "整合迁移至区政府门户网站").await.unwrap();
        assert_eq!((closed.status.as_str(), closed.closed_on.as_deref()), ("closed", Some("2024-03-01")));
        assert!(matches!(
            sites::set_status(&t.db, &sys, "ip", s.id, true, "2024-03-02", "again").await,
            Err(Error::Conflict(_))
        ));
        assert_eq!(sites::counts_in_year(&t.db, 2019).await.unwrap(), (1, 0), "{name}");
        assert_eq!(sites::counts_in_year(&t.db, 2024).await.unwrap(), (0, 1), "{name}");
        sites::set_status(&t.db, &sys, "ip", s.id, false, "2025-06-01", "").await.unwrap();
        assert_eq!(sites::counts_in_year(&t.db, 2025).await.unwrap(), (1, 0));
        assert_eq!(sites::status_history(&t.db, s.id).await.unwrap().len(), 3);
        // Stale edit refused.
        let mut edit = good.clone();
        edit.version = "1".into();
        edit.name = "改名".into();
        assert!(matches!(sites::update(&t.db, &sys, "ip", s.id, &edit).await, Err(Error::Conflict(_))), "{name}");
        // The host organisation cannot be deleted while the site points at it.
        match org::delete(&t.db, &sys, "ip", host.id).await {
            Err(Error::Conflict(m)) => assert!(m.contains("引用"), "{m}"),
            r => panic!("{name}: {r:?}"),
        }
        assert!(matches!(audit::verify(&t.db).await.unwrap(), Verdict::Intact { .. }));
    }
}

#[tokio::test]
async fn sqlite_wal_is_checkpointed_beside_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("g.db");
    let db = gongkai_kernel::db::Db::connect(&format!("sqlite://{}", file.display())).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    for sql in ["CREATE TABLE kept (v TEXT)", "INSERT INTO kept VALUES ('写入')"] {
        with_conn!(&mut tx.conn(), x => sqlx::query(sql).execute(&mut **x).await.map(|_| ())).unwrap();
    }
    tx.commit().await.unwrap();
    // A commit this small stays in the WAL until a checkpoint: the main file alone (a copy
    // without the WAL) has the row only once the checkpoint task has run.
    let copy = dir.path().join("copy.db");
    let mut rows = None;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        std::fs::copy(&file, &copy).unwrap();
        let _ = std::fs::remove_file(dir.path().join("copy.db-wal"));
        let other = gongkai_kernel::db::Db::connect(&format!("sqlite://{}", copy.display())).await.unwrap();
        let mut h = other.read().await.unwrap();
        let n = with_conn!(&mut h.conn(), x => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM kept").fetch_one(&mut **x).await);
        drop(h);
        other.close().await;
        if let Ok(n) = n {
            rows = Some(n);
            break;
        }
    }
    assert_eq!(rows, Some(1), "the WAL was not checkpointed into the main file");
    db.close().await;
}
