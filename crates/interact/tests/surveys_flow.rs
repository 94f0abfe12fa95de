//! 征集调查 through the service, on SQLite and PostgreSQL: a questionnaire from draft to
//! published results (questions fixed once published, skip logic, every question type
//! counted, a second vote and a replayed key, closing early, an expired period), a
//! solicitation's comments through moderation, the rights of editors and reviewers, and
//! the yearly counts for the annual report.

use gongkai_interact::surveys::rules::{Kind, QKind};
use gongkai_interact::surveys::{service, store};
use gongkai_kernel::auth::Principal;
use gongkai_kernel::error::Error;
use gongkai_kernel::testkit::{self, TestDb};
use gongkai_kernel::with_conn;
use time::Duration;

const QUESTIONS: &str = "1. [单选][必答] 您是否了解本次老旧小区改造方案？\n- 了解\n- 不了解 -> 3\n2. [多选] 您最关心哪些内容？\n- 加装电梯\n- 停车位 -> 结束\n- 绿化\n3. [评分][必答] 您对方案的总体评价\n4. [填空] 其他意见和建议\n";

async fn id_of(t: &TestDb, sql: &'static str, name: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).bind(name).fetch_one(&mut **x).await).unwrap()
}

async fn who(t: &TestDb, username: &str) -> Principal {
    let id = id_of(t, "SELECT id FROM users WHERE username = $1", username).await;
    testkit::principal(&t.db, id).await
}

fn today() -> time::Date {
    gongkai_kernel::clock::today()
}

fn day(d: time::Date) -> String {
    gongkai_kernel::clock::fmt_date(d)
}

async fn scalar(t: &TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

fn form(site: i64, org: i64, kind: Kind, title: &str, from: time::Date, to: time::Date) -> service::SurveyForm {
    service::SurveyForm {
        site_id: site.to_string(),
        org_id: org.to_string(),
        kind: kind.as_str().into(),
        title: title.into(),
        description: "请您结合实际提出意见。".into(),
        body: if kind == Kind::Solicitation {
            "第一条 为了规范……\n第二条 本办法适用于……".into()
        } else {
            String::new()
        },
        opens_on: day(from),
        closes_on: day(to),
        version: String::new(),
    }
}

fn post(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

struct Ctx {
    site: i64,
    org: i64,
    editor: Principal,
    reviewer: Principal,
}

async fn setup(t: &TestDb) -> Ctx {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    Ctx {
        site: id_of(t, "SELECT id FROM sites WHERE code = $1", "www").await,
        org: id_of(t, "SELECT id FROM orgs WHERE name = $1", "青禾区政务公开和大数据中心").await,
        editor: who(t, "editor").await,
        reviewer: who(t, "reviewer").await,
    }
}

#[tokio::test]
async fn questionnaire_from_draft_to_results() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let x = setup(&t).await;
        let (db, ip) = (&t.db, "203.0.113.5");
        let f =
            form(x.site, x.org, Kind::Questionnaire, "老旧小区改造满意度调查", today(), today() + Duration::days(9));
        let id = service::create(db, &x.editor, ip, &f).await.unwrap();

        // A reviewer cannot create, an editor cannot publish.
        assert!(matches!(service::create(db, &x.reviewer, ip, &f).await, Err(Error::Invalid(_))), "{b}");
        let s = service::load(db, id).await.unwrap();
        let v = s.row.version.to_string();
        assert!(
            matches!(service::publish(db, &x.reviewer, ip, id, today()).await, Err(Error::Conflict(_))),
            "{b}: no questions yet"
        );
        // Bad editor text: the line is named, nothing saved.
        let e = service::save_questions(db, &x.editor, ip, id, "[单选] 只有题目", &v).await.unwrap_err();
        assert!(
            matches!(&e, Error::Invalid(fe) if fe.get("questions").unwrap().contains("至少要有两个选项")),
            "{b}: {e:?}"
        );
        service::save_questions(db, &x.editor, ip, id, QUESTIONS, &v).await.unwrap();
        // The old version is stale now.
        assert!(
            matches!(service::save_questions(db, &x.editor, ip, id, QUESTIONS, &v).await, Err(Error::Conflict(_))),
            "{b}"
        );
        assert!(matches!(service::publish(db, &x.editor, ip, id, today()).await, Err(Error::Forbidden(_))), "{b}");
        service::publish(db, &x.reviewer, ip, id, today()).await.unwrap();
        let s = service::load(db, id).await.unwrap();
        assert_eq!(s.questions.len(), 4, "{b}");
        assert_eq!(s.questions[2].kind, QKind::Rating);
        let e = service::save_questions(db, &x.editor, ip, id, QUESTIONS, &s.row.version.to_string()).await;
        assert!(matches!(e, Err(Error::Conflict(m)) if m.contains("题目不能再修改")), "{b}");

        // Responses: every kind of question, both skips.
        let answers = [
            vec![("q1", "0"), ("q2", "0"), ("q3", "5"), ("q4", "<script>alert(1)</script>希望增加充电桩")],
            vec![("q1", "0"), ("q2", "0"), ("q2", "2"), ("q3", "4")],
            vec![("q1", "1"), ("q3", "2")],
            vec![("q1", "0"), ("q2", "1")],
        ];
        for (i, a) in answers.iter().enumerate() {
            let key = format!("idem-key-{b}-{i:08}");
            let (_, created) = service::vote(db, id, &post(a), &key, &format!("voter{i}"), ip, today()).await.unwrap();
            assert!(created, "{b}");
        }
        // The same key again: the stored response, nothing new.
        let (r, created) =
            service::vote(db, id, &post(&answers[1]), &format!("idem-key-{b}-{:08}", 1), "voter1", ip, today())
                .await
                .unwrap();
        assert!(!created && r.voter == "voter1", "{b}");
        // The same person (voter id) with a new form: refused.
        let e = service::vote(db, id, &post(&answers[1]), "another-key-00000001", "voter1", ip, today()).await;
        assert!(matches!(e, Err(Error::Conflict(m)) if m == service::MSG_VOTED), "{b}");
        // Invalid answers: a skipped question answered, a required one missing.
        let e = service::vote(
            db,
            id,
            &post(&[("q1", "1"), ("q2", "0"), ("q3", "3")]),
            "another-key-00000002",
            "voter9",
            ip,
            today(),
        )
        .await;
        assert!(matches!(&e, Err(Error::Invalid(fe)) if fe.get("q2").is_some()), "{b}: {e:?}");
        let e = service::vote(db, id, &post(&[("q1", "0")]), "another-key-00000003", "voter9", ip, today()).await;
        assert!(matches!(&e, Err(Error::Invalid(fe)) if fe.get("q3") == Some("此题为必答题")), "{b}: {e:?}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM svy_responses").await, 4, "{b}");

        let r = service::results(db, &service::load(db, id).await.unwrap()).await.unwrap();
        let counts = |i: usize| r[i].rows.iter().map(|x| x.count).collect::<Vec<_>>();
        assert_eq!((r[0].answered, counts(0)), (4, vec![3, 1]), "{b}");
        assert_eq!((r[1].answered, r[1].skipped, counts(1)), (3, 1, vec![2, 1, 1]), "{b}");
        assert_eq!((r[2].answered, r[2].skipped, counts(2)), (3, 1, vec![0, 1, 0, 1, 1]), "{b}");
        assert_eq!(r[2].average, "3.7", "{b}");
        assert_eq!((r[3].answered, r[3].skipped), (1, 1), "{b}");
        assert_eq!(r[1].rows[0].pct, "66.7%", "{b}");

        // Feedback only after closing; closing early is for reviewers.
        let e = service::publish_feedback(db, &x.reviewer, ip, id, "结果", today()).await;
        assert!(matches!(e, Err(Error::Conflict(m)) if m.contains("结束后")), "{b}");
        assert!(matches!(service::close(db, &x.editor, ip, id, today()).await, Err(Error::Forbidden(_))), "{b}");
        service::close(db, &x.reviewer, ip, id, today()).await.unwrap();
        assert!(matches!(service::close(db, &x.reviewer, ip, id, today()).await, Err(Error::Conflict(_))), "{b}");
        let e = service::vote(db, id, &post(&answers[0]), "late-key-0000000001", "voter7", ip, today()).await;
        assert!(matches!(e, Err(Error::Conflict(m)) if m.contains("征集已结束")), "{b}");
        service::publish_feedback(db, &x.reviewer, ip, id, "共收到有效答卷4份，75%的居民了解改造方案。", today())
            .await
            .unwrap();
        let s = service::load(db, id).await.unwrap();
        assert_eq!(s.row.state, "result", "{b}");
        // Every change is audited.
        let n = scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'survey.%'").await;
        assert_eq!(n, 1 + 1 + 1 + 4 + 1 + 1, "{b}: create, questions, publish, 4 votes, close, feedback");

        let c = service::counts(db, Some(x.site), today().year()).await.unwrap();
        assert_eq!((c.questionnaires, c.responses, c.results_published, c.solicitations), (1, 4, 1, 0), "{b}");
        let other = id_of(&t, "SELECT id FROM sites WHERE code = $1", "jyj").await;
        assert_eq!(service::counts(db, Some(other), today().year()).await.unwrap().responses, 0, "{b}");
        assert_eq!(service::counts(db, None, today().year() - 1).await.unwrap().questionnaires, 0, "{b}");
    }
}

#[tokio::test]
async fn an_expired_period_refuses_and_cannot_be_published() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let x = setup(&t).await;
        let (db, ip) = (&t.db, "203.0.113.6");
        let past = form(
            x.site,
            x.org,
            Kind::Solicitation,
            "已过期的征集",
            today() - Duration::days(20),
            today() - Duration::days(1),
        );
        let id = service::create(db, &x.editor, ip, &past).await.unwrap();
        let e = service::publish(db, &x.reviewer, ip, id, today()).await;
        assert!(matches!(e, Err(Error::Conflict(m)) if m.contains("截止日期已过")), "{b}");
        // Closing before opening is refused at the form.
        let mut bad = past.clone();
        bad.closes_on = day(today() - Duration::days(30));
        let e = service::create(db, &x.editor, ip, &bad).await.unwrap_err();
        assert!(matches!(&e, Error::Invalid(fe) if fe.get("closes_on").is_some()), "{b}");

        // A period that ends today: open today, refused tomorrow, not yet open yesterday.
        let f = form(x.site, x.org, Kind::Solicitation, "今天截止", today(), today());
        let id = service::create(db, &x.editor, ip, &f).await.unwrap();
        service::publish(db, &x.reviewer, ip, id, today()).await.unwrap();
        let c = service::CommentForm { body: "同意".into(), ..Default::default() };
        service::submit_comment(db, id, &c, "comment-key-0000001", ip, today()).await.unwrap();
        let e = service::submit_comment(db, id, &c, "comment-key-0000002", ip, today() + Duration::days(1)).await;
        assert!(matches!(e, Err(Error::Conflict(m)) if m.contains("征集已结束")), "{b}");
        let e = service::submit_comment(db, id, &c, "comment-key-0000003", ip, today() - Duration::days(1)).await;
        assert!(matches!(e, Err(Error::Conflict(m)) if m.contains("尚未开始")), "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM svy_comments").await, 1, "{b}");
    }
}

#[tokio::test]
async fn comments_are_moderated_before_they_appear() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let x = setup(&t).await;
        let (db, ip) = (&t.db, "203.0.113.7");
        let f = form(
            x.site,
            x.org,
            Kind::Solicitation,
            "《青禾区停车管理办法（征求意见稿）》",
            today(),
            today() + Duration::days(30),
        );
        let id = service::create(db, &x.editor, ip, &f).await.unwrap();
        service::publish(db, &x.reviewer, ip, id, today()).await.unwrap();

        // Validation: empty, oversize; nothing stored.
        let empty = service::CommentForm::default();
        let e = service::submit_comment(db, id, &empty, "comment-key-1000001", ip, today()).await.unwrap_err();
        assert!(matches!(&e, Error::Invalid(fe) if fe.get("body") == Some("请填写意见内容")), "{b}");
        let long = service::CommentForm { body: "长".repeat(2001), name: "名".repeat(51), ..Default::default() };
        let e = service::submit_comment(db, id, &long, "comment-key-1000002", ip, today()).await.unwrap_err();
        assert!(matches!(&e, Error::Invalid(fe) if fe.get("body").is_some() && fe.get("name").is_some()), "{b}");
        let e = service::submit_comment(
            db,
            id,
            &service::CommentForm { body: "好".into(), ..Default::default() },
            "short",
            ip,
            today(),
        )
        .await;
        assert!(matches!(e, Err(Error::Invalid(_))), "{b}: a key that is not one of ours");

        let good = service::CommentForm {
            name: "李女士".into(),
            contact: "13900001111".into(),
            body: "建议夜间允许临时停车。<img src=x onerror=alert(1)>".into(),
        };
        let (c1, created) = service::submit_comment(db, id, &good, "comment-key-1000003", ip, today()).await.unwrap();
        assert!(created && c1.state == "pending", "{b}");
        let (again, created) =
            service::submit_comment(db, id, &good, "comment-key-1000003", ip, today()).await.unwrap();
        assert!(!created && again.id == c1.id, "{b}: a double submit stores one comment");
        let (c2, _) = service::submit_comment(
            db,
            id,
            &service::CommentForm { body: "广告".into(), ..Default::default() },
            "comment-key-1000004",
            ip,
            today(),
        )
        .await
        .unwrap();
        let approved = |t: &TestDb| {
            let db = t.db.clone();
            async move {
                let mut h = db.read().await.unwrap();
                store::comments(&mut h.conn(), id, Some("approved")).await.unwrap().len()
            }
        };
        assert_eq!(approved(&t).await, 0, "{b}");
        // A user of another organisation does not see it at all.
        let other = testkit::user_with_role(db, "editor_other", None).await;
        let jyj = id_of(&t, "SELECT id FROM orgs WHERE name = $1", "青禾区教育局").await;
        gongkai_kernel::auth::service::grant(
            db,
            None,
            &gongkai_kernel::audit::Actor::system("test"),
            other,
            gongkai_kernel::auth::Role::Editor,
            Some(jyj),
            None,
        )
        .await
        .unwrap();
        let other = testkit::principal(db, other).await;
        assert!(matches!(service::moderate(db, &other, ip, id, c1.id, true).await, Err(Error::NotFound)), "{b}");
        service::moderate(db, &x.editor, ip, id, c1.id, true).await.unwrap();
        service::moderate(db, &x.editor, ip, id, c2.id, false).await.unwrap();
        assert!(matches!(service::moderate(db, &x.editor, ip, id, c2.id, true).await, Err(Error::Conflict(_))), "{b}");
        assert_eq!(approved(&t).await, 1, "{b}");
        // A comment of another survey cannot be moderated through this one.
        let f2 = form(x.site, x.org, Kind::Solicitation, "另一项征集", today(), today() + Duration::days(3));
        let id2 = service::create(db, &x.editor, ip, &f2).await.unwrap();
        assert!(matches!(service::moderate(db, &x.editor, ip, id2, c1.id, false).await, Err(Error::NotFound)), "{b}");

        let c = service::counts(db, None, today().year()).await.unwrap();
        assert_eq!((c.solicitations, c.opinions), (1, 2), "{b}: the draft is not counted; every comment received is");
    }
}

#[tokio::test]
async fn demo_seed_is_realistic_and_idempotent() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        assert!(gongkai_interact::surveys::demo::seed(&t.db, today()).await.unwrap(), "{b}");
        assert!(!gongkai_interact::surveys::demo::seed(&t.db, today()).await.unwrap(), "{b}: once");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM svy_surveys").await, 3, "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM svy_responses").await, 120, "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM svy_comments WHERE state = 'pending'").await, 2, "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM svy_surveys WHERE state = 'result'").await, 2, "{b}");
        let q = id_of(&t, "SELECT id FROM svy_surveys WHERE kind = $1", "questionnaire").await;
        let s = service::load(&t.db, q).await.unwrap();
        let r = service::results(&t.db, &s).await.unwrap();
        assert_eq!(r[0].answered, 120, "{b}");
        assert!(r[1].skipped > 0 && r[1].answered + r[1].skipped == 120, "{b}: the skip logic shows");
    }
}
