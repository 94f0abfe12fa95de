//! Disclosure requests through the service, on SQLite and PostgreSQL: the statutory clock
//! from registration to delivery, refusals of bad input, the sweep (re-dating after a
//! calendar edit, reminders, abandonment), access by organisation, and the annual
//! statistics with their cross-checks over the demo's two years.

use gongkai_foi::model::{Outcome, RequestState};
use gongkai_foi::service::{
    self, ApplicationForm, CorrectionForm, DecisionForm, DeliveryForm, EvidenceForm, ExtensionForm, ReviewForm,
};
use gongkai_foi::store;
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::calendar::rules::DayKind;
use gongkai_kernel::error::Error;
use gongkai_kernel::testkit::{self, TestDb};
use gongkai_kernel::with_conn;
use time::macros::date;

const IP: &str = "127.0.0.1";

async fn discloser(t: &TestDb, name: &str, org: Option<i64>) -> Principal {
    let id = testkit::user_with_role(&t.db, name, None).await;
    let actor = gongkai_kernel::audit::Actor::system("test");
    gongkai_kernel::auth::service::grant(&t.db, None, &actor, id, Role::Discloser, org, None).await.unwrap();
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

fn person(org: i64) -> ApplicationForm {
    ApplicationForm {
        org_id: org.to_string(),
        applicant_kind: "natural".into(),
        applicant_name: "张明".into(),
        id_type: "id_card".into(),
        id_number: "11010519491231002X".into(),
        phone: "13812345678".into(),
        info_title: "东湖路拓宽工程征收补偿方案".into(),
        form_wanted: "paper".into(),
        delivery: "post".into(),
        address: "青禾区东湖路1号".into(),
        ..Default::default()
    }
}

fn in_person(on: &str) -> EvidenceForm {
    EvidenceForm { channel: "in_person".into(), submitted_on: on.into(), ..Default::default() }
}

fn fields(e: Error) -> Vec<(String, String)> {
    match e {
        Error::Invalid(f) => f.0,
        other => panic!("expected field errors, got {other:?}"),
    }
}

async fn get(t: &TestDb, id: i64) -> store::RequestRow {
    let mut h = t.db.read().await.unwrap();
    store::get(&mut h.conn(), id, false).await.unwrap().unwrap()
}

#[tokio::test]
async fn the_clock_from_registration_to_delivery() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let office = org_id(&t, "区府办").await;
        let who = discloser(&t, "gongkai", None).await;

        // The issue's example: received 2024-09-27 in person, no pauses → due 2024-10-30.
        let (r, code) = service::register(&t.db, &who, IP, &person(office), &in_person("2024-09-27")).await.unwrap();
        assert_eq!(code.len(), 8);
        assert_eq!(r.received_on.as_deref(), Some("2024-09-27"), "{b}");
        assert_eq!(r.due_on.as_deref(), Some("2024-10-30"), "{b}");
        assert_eq!(r.state, "open");
        assert!(r.tracking_no.starts_with("YSQ"), "{}", r.tracking_no);

        // 补正 within 7 working days of receipt (10-09 is the 5th after the 国庆 holiday).
        let late =
            CorrectionForm { items: "文号".into(), sent_on: "2024-10-15".into(), deadline: "2024-10-25".into() };
        let errs = fields(service::send_correction(&t.db, &who, IP, r.id, &late).await.unwrap_err());
        assert!(errs.iter().any(|(f, m)| f == "sent_on" && m.contains("7个工作日")), "{b}: {errs:?}");
        let ok = CorrectionForm {
            items: "1. 信息名称；2. 文号".into(),
            sent_on: "2024-10-09".into(),
            deadline: "2024-10-18".into(),
        };
        let r2 = service::send_correction(&t.db, &who, IP, r.id, &ok).await.unwrap();
        assert_eq!(r2.state, "correction");
        assert_eq!(r2.due_on, None, "{b}: no due date while waiting for the correction");
        // The corrected application restarts the clock: 20 working days from 2024-10-14.
        let r3 = service::receive_correction(&t.db, &who, IP, r.id, "2024-10-14").await.unwrap();
        assert_eq!(r3.state, "open");
        assert_eq!(r3.due_on.as_deref(), Some("2024-11-11"), "{b}");

        // A consultation is not counted: (10-21, 11-01] holds 9 working days.
        service::start_consultation(&t.db, &who, IP, r.id, "某建设公司", "2024-10-21").await.unwrap();
        assert_eq!(get(&t, r.id).await.due_on, None);
        let errs = fields(service::end_consultation(&t.db, &who, IP, r.id, "2024-10-20", "").await.unwrap_err());
        assert_eq!(errs[0].0, "on", "{b}: an opinion before the consultation");
        let r4 = service::end_consultation(&t.db, &who, IP, r.id, "2024-11-01", "不同意公开").await.unwrap();
        assert_eq!(r4.due_on.as_deref(), Some("2024-11-22"), "{b}");

        // Extension: at most 20 working days, once.
        let ext = |days: &str| ExtensionForm {
            days: days.into(),
            approver: "办公室主任 赵明".into(),
            approved_on: "2024-11-15".into(),
            notified_on: "2024-11-15".into(),
            reason: "需调取档案".into(),
        };
        let errs = fields(service::extend(&t.db, &who, IP, r.id, &ext("21")).await.unwrap_err());
        assert!(errs.iter().any(|(_, m)| m.contains("20个工作日")), "{b}: {errs:?}");
        let r5 = service::extend(&t.db, &who, IP, r.id, &ext("20")).await.unwrap();
        assert_eq!(r5.due_on.as_deref(), Some("2024-12-20"), "{b}");
        let errs = fields(service::extend(&t.db, &who, IP, r.id, &ext("5")).await.unwrap_err());
        assert!(errs.iter().any(|(_, m)| m.contains("只能延长一次")), "{b}: {errs:?}");

        // A letter for an undecided request is refused.
        let e = service::issue_letter(&t.db, &who, IP, r.id).await.unwrap_err();
        assert!(matches!(&e, Error::Conflict(m) if m.contains("尚未作出答复")), "{b}: {e:?}");

        // 部分公开 needs the withheld part and the ground.
        let mut dec = DecisionForm {
            answer: "partial".into(),
            reason: "其余部分予以公开".into(),
            decided_on: "2024-12-10".into(),
            ..Default::default()
        };
        let errs = fields(service::decide(&t.db, &who, IP, r.id, &dec).await.unwrap_err());
        let names: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert!(names.contains(&"ground") && names.contains(&"withheld"), "{b}: {errs:?}");
        dec.ground = "third_party".into();
        dec.withheld = "第3页企业报价".into();
        let r6 = service::decide(&t.db, &who, IP, r.id, &dec).await.unwrap();
        assert_eq!(r6.outcome.as_deref(), Some(Outcome::Partial.as_str()));
        assert_eq!(r6.state, "decided");

        // Delivery needs the letter first.
        let del = DeliveryForm {
            delivered_on: "2024-12-12".into(),
            method: "邮寄（EMS）".into(),
            reference: "EA000000001CN".into(),
        };
        assert!(matches!(service::deliver(&t.db, &who, IP, r.id, &del).await, Err(Error::Conflict(_))));
        service::issue_letter(&t.db, &who, IP, r.id).await.unwrap();
        let letters = {
            let mut h = t.db.read().await.unwrap();
            store::letters(&mut h.conn(), r.id).await.unwrap()
        };
        let decision = letters.iter().find(|l| l.kind == "decision.partial").expect("decision letter");
        assert!(decision.body.contains("张明："), "{}", decision.body);
        assert!(decision.body.contains("第3页企业报价"));
        assert!(decision.body.contains("第三十七条"));
        assert!(decision.body.contains("60日内") && decision.body.contains("6个月内"));
        assert!(letters.iter().any(|l| l.kind == "correction" && l.body.contains("1. 信息名称；2. 文号")));
        assert!(letters.iter().any(|l| l.kind == "extension" && l.body.contains("延长20个工作日")));
        let docx = gongkai_foi::letter::to_docx(&decision.title, &decision.body).unwrap();
        assert_eq!(&docx[..2], b"PK");
        let r7 = service::deliver(&t.db, &who, IP, r.id, &del).await.unwrap();
        assert_eq!(r7.delivered_on.as_deref(), Some("2024-12-12"));

        // Review after the decision, counted in table 四 of 2024.
        let review = ReviewForm {
            kind: "review".into(),
            filed_on: "2024-12-20".into(),
            body: "青禾区人民政府".into(),
            result: "upheld".into(),
            concluded_on: "".into(),
            note: "".into(),
        };
        let errs = fields(service::add_review(&t.db, &who, IP, r.id, &review).await.unwrap_err());
        assert_eq!(errs[0].0, "concluded_on", "{b}: a result without a conclusion date");
        service::add_review(&t.db, &who, IP, r.id, &ReviewForm { concluded_on: "2025-02-10".into(), ..review })
            .await
            .unwrap();

        // The timeline and the audit log hold every step.
        let events = {
            let mut h = t.db.read().await.unwrap();
            store::events(&mut h.conn(), r.id, false).await.unwrap()
        };
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        for k in [
            "registered",
            "correction",
            "correction_received",
            "consultation",
            "consultation_end",
            "extension",
            "decided",
            "letter",
            "delivered",
            "review",
        ] {
            assert!(kinds.contains(&k), "{b}: no {k} in {kinds:?}");
        }
        let audited: i64 = {
            let mut h = t.db.read().await.unwrap();
            let mut c = h.conn();
            with_conn!(&mut c, x => {
                sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE target_type = 'foi_request' AND target_id = $1")
                    .bind(r.id.to_string()).fetch_one(&mut **x).await
            })
            .unwrap()
        };
        assert_eq!(audited as usize, events.len(), "{b}");

        // Statistics: 2024 has it decided; 2025 has the review concluded after the year.
        let (t3, t4) = gongkai_foi::web::statistics(&t.db, "/", true, 2024).await.unwrap();
        assert_eq!(t3.new[0], 1);
        assert_eq!(t3.total[6], 1);
        assert!(t3.check().is_empty());
        assert_eq!(t4.groups[0].1, [0, 0, 0, 1, 1], "{b}: concluded in 2025, pending at the end of 2024");
    }
}

#[tokio::test]
async fn bad_input_is_refused_with_field_messages_and_nothing_stored() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let office = org_id(&t, "区府办").await;
        let who = discloser(&t, "gongkai", None).await;
        let count = || async {
            let mut h = t.db.read().await.unwrap();
            let mut c = h.conn();
            with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM foi_requests").fetch_one(&mut **x).await).unwrap()
        };

        let mut bad_id = person(office);
        bad_id.id_number = "110105194912310021".into();
        let errs = fields(service::register(&t.db, &who, IP, &bad_id, &in_person("2025-03-03")).await.unwrap_err());
        assert!(errs.iter().any(|(f, m)| f == "id_number" && m.contains("校验")), "{b}: {errs:?}");

        let mut org = person(office);
        org.applicant_kind = "business".into();
        org.uscc = "91330106MA27XK9L04".into();
        let errs = fields(service::register(&t.db, &who, IP, &org, &in_person("2025-03-03")).await.unwrap_err());
        assert!(errs.iter().any(|(f, _)| f == "uscc"), "{b}: {errs:?}");

        let mut nothing = person(office);
        nothing.info_title.clear();
        nothing.phone.clear();
        nothing.delivery = "email".into();
        let errs = fields(service::register(&t.db, &who, IP, &nothing, &in_person("2025-03-03")).await.unwrap_err());
        let names: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert!(names.contains(&"info_title") && names.contains(&"phone") && names.contains(&"email"), "{b}: {errs:?}");

        // Signed for before it was sent.
        let ev = EvidenceForm {
            channel: "registered_mail".into(),
            sent_on: "2025-03-05".into(),
            signed_on: "2025-03-03".into(),
            ..Default::default()
        };
        let errs = fields(service::register(&t.db, &who, IP, &person(office), &ev).await.unwrap_err());
        assert!(errs.iter().any(|(f, m)| f == "signed_on" && m.contains("早于")), "{b}: {errs:?}");
        // A date that is not a date.
        let errs =
            fields(service::register(&t.db, &who, IP, &person(office), &in_person("2025-02-30")).await.unwrap_err());
        assert_eq!(errs[0].0, "submitted_on", "{b}");
        assert_eq!(count().await, 0, "{b}: nothing stored");

        // A fee under the wrong scheme: per page when the information goes out online.
        let mut online = person(office);
        online.form_wanted = "other".into();
        online.delivery = "online".into();
        let (r, _) = service::register(&t.db, &who, IP, &online, &in_person("2025-03-03")).await.unwrap();
        let errs =
            fields(service::fee_notice(&t.db, &who, IP, r.id, "per_page", "120", "2025-03-05").await.unwrap_err());
        assert!(errs.iter().any(|(_, m)| m.contains("按量计收仅适用")), "{b}: {errs:?}");
        // Per request: the applicant's first request this month is free, so no notice.
        let errs =
            fields(service::fee_notice(&t.db, &who, IP, r.id, "per_request", "", "2025-03-05").await.unwrap_err());
        assert!(errs.iter().any(|(_, m)| m.contains("未超过10件")), "{b}: {errs:?}");
        // A decision without its reason.
        let errs = fields(
            service::decide(
                &t.db,
                &who,
                IP,
                r.id,
                &DecisionForm {
                    answer: "withhold".into(),
                    ground: "internal".into(),
                    decided_on: "2025-03-10".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err(),
        );
        assert_eq!(errs[0].0, "reason", "{b}");
        assert_eq!(get(&t, r.id).await.state, "open");
    }
}

#[tokio::test]
async fn per_request_fees_band_on_the_applicants_month_and_pause_the_clock() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let office = org_id(&t, "区府办").await;
        let who = discloser(&t, "gongkai", None).await;
        let mut last = 0;
        for i in 0..11 {
            let mut f = person(office);
            f.info_title = format!("第{i}份文件");
            last = service::register(&t.db, &who, IP, &f, &in_person("2025-03-03")).await.unwrap().0.id;
        }
        let r = service::fee_notice(&t.db, &who, IP, last, "per_request", "", "2025-03-05").await.unwrap();
        assert_eq!((r.fee_units, r.fee_amount), (Some(11), Some(100)), "{b}: the 11th request of the month");
        assert_eq!(r.state, "fee");
        assert_eq!(r.due_on, None);
        // A second notice under the other scheme is refused (one scheme per request).
        service::fee_paid(&t.db, &who, IP, last, "2025-03-12").await.unwrap();
        let e = service::fee_notice(&t.db, &who, IP, last, "per_page", "50", "2025-03-13").await.unwrap_err();
        assert!(matches!(&e, Error::Conflict(m) if m.contains("一种计收方式")), "{b}: {e:?}");
        // 20 working days from 03-03 is 03-31; the fee period (03-05, 03-12] held 5 → 04-08 (清明 04-04 skipped).
        assert_eq!(get(&t, last).await.due_on.as_deref(), Some("2025-04-08"), "{b}");
    }
}

#[tokio::test]
async fn the_sweep_redates_reminds_flags_and_closes_lapsed_requests() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let office = org_id(&t, "区府办").await;
        let who = discloser(&t, "gongkai", None).await;
        let (a, _) = service::register(&t.db, &who, IP, &person(office), &in_person("2025-03-03")).await.unwrap();
        assert_eq!(a.due_on.as_deref(), Some("2025-03-31"));
        let (c, _) = service::register(&t.db, &who, IP, &person(office), &in_person("2025-03-03")).await.unwrap();
        service::send_correction(
            &t.db,
            &who,
            IP,
            c.id,
            &CorrectionForm { items: "文号".into(), sent_on: "2025-03-04".into(), deadline: "2025-03-14".into() },
        )
        .await
        .unwrap();

        // A calendar edit (a new holiday inside the period) moves the due date at the next sweep.
        let admin = gongkai_kernel::audit::Actor::system("test");
        gongkai_kernel::calendar::service::set_day(&t.db, &admin, date!(2025 - 03 - 20), DayKind::Holiday, "临时休假")
            .await
            .unwrap();
        let s = service::sweep(&t.db, date!(2025 - 03 - 27)).await.unwrap();
        assert_eq!(s.redated, 1, "{b}: {s:?}");
        assert_eq!(s.abandoned, 1, "{b}: the correction deadline 03-14 passed: {s:?}");
        assert_eq!(s.reminded, 1, "{b}: 04-01 is 3 working days away: {s:?}");
        let a2 = get(&t, a.id).await;
        assert_eq!(a2.due_on.as_deref(), Some("2025-04-01"), "{b}");
        let c2 = get(&t, c.id).await;
        assert_eq!((c2.state.as_str(), c2.outcome.as_deref()), ("decided", Some("6.1")), "{b}");
        assert_eq!(c2.decided_on.as_deref(), Some("2025-03-15"));
        // Sweeping again changes nothing; after the due date the request is flagged overdue once.
        assert_eq!(service::sweep(&t.db, date!(2025 - 03 - 27)).await.unwrap().reminded, 0);
        let s = service::sweep(&t.db, date!(2025 - 04 - 02)).await.unwrap();
        assert_eq!(s.overdue, 1, "{b}: {s:?}");
        assert_eq!(get(&t, a.id).await.overdue, 1);
        let events = {
            let mut h = t.db.read().await.unwrap();
            store::events(&mut h.conn(), a.id, false).await.unwrap()
        };
        assert!(events.iter().any(|e| e.kind == "redated" && e.text.contains("2025-04-01")), "{b}");
        assert!(events.iter().any(|e| e.kind == "overdue"));
    }
}

#[tokio::test]
async fn requests_are_seen_only_by_their_organisation_and_supervisors() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let office = org_id(&t, "区府办").await;
        let edu = org_id(&t, "区教育局").await;
        let own = discloser(&t, "own", Some(office)).await;
        let other = discloser(&t, "other", Some(edu)).await;
        let (r, _) = service::register(&t.db, &own, IP, &person(office), &in_person("2025-03-03")).await.unwrap();
        assert!(matches!(service::load_for(&t.db, &other, r.id).await, Err(Error::NotFound)), "{b}");
        assert!(
            matches!(service::confirm_receipt(&t.db, &other, IP, r.id, "2025-03-03").await, Err(Error::NotFound)),
            "{b}"
        );
        // Registering for another organisation is refused.
        assert!(matches!(
            service::register(&t.db, &other, IP, &person(office), &in_person("2025-03-03")).await,
            Err(Error::Forbidden(_))
        ));
        let sup_id = testkit::user_with_role(&t.db, "sup", Some(Role::Supervisor)).await;
        let sup = testkit::principal(&t.db, sup_id).await;
        assert!(service::load_for(&t.db, &sup, r.id).await.is_ok(), "{b}: a supervisor sees it");
        let e = service::decide(
            &t.db,
            &sup,
            IP,
            r.id,
            &DecisionForm { answer: "disclose".into(), decided_on: "2025-03-10".into(), ..Default::default() },
        )
        .await;
        assert!(matches!(e, Err(Error::Forbidden(_))), "{b}: but does not handle it");
        let mut h = t.db.read().await.unwrap();
        let listed = store::list(
            &mut h.conn(),
            &other.org_scope(gongkai_kernel::auth::Perm::DisclosureView),
            &Default::default(),
            50,
        )
        .await
        .unwrap();
        assert!(listed.is_empty(), "{b}");
    }
}

#[tokio::test]
async fn the_demo_covers_every_state_and_outcome_and_its_tables_add_up() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let today = date!(2026 - 11 - 28);
        assert!(gongkai_foi::demo::seed(&t.db, today).await.unwrap());
        assert!(!gongkai_foi::demo::seed(&t.db, today).await.unwrap(), "{b}: idempotent");
        let rows: Vec<(String, Option<String>)> = {
            let mut h = t.db.read().await.unwrap();
            let mut c = h.conn();
            with_conn!(&mut c, x => {
                sqlx::query_as("SELECT state, outcome FROM foi_requests").fetch_all(&mut **x).await
            })
            .unwrap()
        };
        for s in RequestState::ALL {
            assert!(rows.iter().any(|r| r.0 == s.as_str()), "{b}: no request in state {s:?}");
        }
        for o in Outcome::ALL {
            assert!(rows.iter().any(|r| r.1.as_deref() == Some(o.as_str())), "{b}: no request with outcome {o:?}");
        }
        for year in [2025, 2026] {
            let (t3, t4) = gongkai_foi::web::statistics(&t.db, "/", true, year).await.unwrap();
            assert!(t3.check().is_empty(), "{b} {year}: {:?}", t3.check());
            assert!(t4.check().is_empty(), "{b} {year}");
            assert!(t3.new[6] > 0, "{b} {year}");
        }
        let (t26, _) = gongkai_foi::web::statistics(&t.db, "/", true, 2026).await.unwrap();
        let (t25, t4) = gongkai_foi::web::statistics(&t.db, "/", true, 2025).await.unwrap();
        assert!(t26.carried_over[6] > 0, "{b}: requests carried over into 2026");
        assert_eq!(t25.carried_next, t26.carried_over, "{b}: carried into next year = carried over from last year");
        assert!(t4.groups.iter().map(|(_, g)| g[4]).sum::<i64>() > 0, "{b}: reviews and litigation in 2025");
    }
}

#[tokio::test]
async fn fee_letters_lapsed_payments_longer_deadlines_and_released_files() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let office = org_id(&t, "区府办").await;
        let who = discloser(&t, "gongkai", None).await;

        // Per page, paper: 120 pages → 70 × 10 + 20 × 20 = 1,100 元, with its notice letter.
        let (fee, _) = service::register(&t.db, &who, IP, &person(office), &in_person("2025-03-03")).await.unwrap();
        let r = service::fee_notice(&t.db, &who, IP, fee.id, "per_page", "120", "2025-03-05").await.unwrap();
        assert_eq!(r.fee_amount, Some(1100), "{b}");
        let letters = {
            let mut h = t.db.read().await.unwrap();
            store::letters(&mut h.conn(), fee.id).await.unwrap()
        };
        assert!(
            letters.iter().any(|l| l.kind == "fee" && l.body.contains("1100元") && l.body.contains("2025年4月2日")),
            "{b}"
        );
        // Not paid within 20 working days (to 04-02): the sweep closes it as （六）2.
        let s = service::sweep(&t.db, date!(2025 - 04 - 10)).await.unwrap();
        assert_eq!(s.abandoned, 1, "{b}: {s:?}");
        let lapsed = get(&t, fee.id).await;
        assert_eq!((lapsed.outcome.as_deref(), lapsed.decided_on.as_deref()), (Some("6.2"), Some("2025-04-03")), "{b}");

        // Art. 35: a longer reasonable deadline, with its reason.
        let (many, _) = service::register(&t.db, &who, IP, &person(office), &in_person("2025-03-03")).await.unwrap();
        let errs = fields(service::longer_deadline(&t.db, &who, IP, many.id, "2025-05-30", "").await.unwrap_err());
        assert_eq!(errs[0].0, "reason", "{b}");
        let r =
            service::longer_deadline(&t.db, &who, IP, many.id, "2025-05-30", "申请数量明显超过合理范围").await.unwrap();
        assert_eq!(r.due_on.as_deref(), Some("2025-05-30"), "{b}");

        // Released files only on a disclosed request.
        let decide = |answer: &str, ground: &str| DecisionForm {
            answer: answer.into(),
            ground: ground.into(),
            reason: "依法处理。".into(),
            decided_on: "2025-03-20".into(),
            ..Default::default()
        };
        service::decide(&t.db, &who, IP, many.id, &decide("disclose", "")).await.unwrap();
        service::add_file(&t.db, &who, IP, many.id, "会议纪要.pdf", b"%PDF-1.4 demo".to_vec()).await.unwrap();
        let files = {
            let mut h = t.db.read().await.unwrap();
            store::files(&mut h.conn(), many.id).await.unwrap()
        };
        assert_eq!((files.len(), files[0].name.as_str()), (1, "会议纪要.pdf"), "{b}");
        let (refused, _) = service::register(&t.db, &who, IP, &person(office), &in_person("2025-03-03")).await.unwrap();
        service::decide(&t.db, &who, IP, refused.id, &decide("withhold", "internal")).await.unwrap();
        let e = service::add_file(&t.db, &who, IP, refused.id, "a.pdf", b"%PDF".to_vec()).await.unwrap_err();
        assert!(matches!(e, Error::Conflict(_)), "{b}: {e:?}");
    }
}
