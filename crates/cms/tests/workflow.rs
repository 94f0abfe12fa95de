//! The editorial workflow through the service layer, on SQLite and PostgreSQL.

use gongkai_cms::service::{self as cms, ColumnInput, ItemInput};
use gongkai_cms::store;
use gongkai_kernel::auth::{Principal, Role, service as auth};
use gongkai_kernel::error::Error;
use gongkai_kernel::testkit::{self, TestDb};
use gongkai_kernel::with_conn;

struct World {
    editor: Principal,
    reviewer: Principal,
    admin: Principal,
    site_id: i64,
    org_id: i64,
    org_code: String,
    column: i64,
}

async fn user(t: &TestDb, name: &str, role: Role) -> Principal {
    let id = testkit::user_with_role(&t.db, name, Some(role)).await;
    testkit::principal(&t.db, id).await
}

async fn world(t: &TestDb, levels: &str) -> World {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    let mut h = t.db.read().await.unwrap();
    let site =
        gongkai_kernel::site::store::all(&mut h.conn()).await.unwrap().into_iter().find(|s| s.code == "www").unwrap();
    let org = gongkai_kernel::org::store::get(&mut h.conn(), site.org_id.unwrap()).await.unwrap().unwrap();
    drop(h);
    let admin = user(t, "siteadmin", Role::SysAdmin).await;
    let col = cms::create_column(
        &t.db,
        &admin,
        "ip",
        &ColumnInput {
            site_id: site.id.to_string(),
            name: "通知公告".into(),
            slug: format!("tzgg{levels}"),
            kind: "list".into(),
            class: "notice".into(),
            review_levels: levels.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    World {
        editor: user(t, "editor1", Role::Editor).await,
        reviewer: user(t, "reviewer1", Role::Reviewer).await,
        admin,
        site_id: site.id,
        org_id: org.id,
        org_code: org.uscc.clone().unwrap(),
        column: col.id,
    }
}

fn input(w: &World, title: &str, body: &str) -> ItemInput {
    ItemInput {
        home_column_id: w.column.to_string(),
        class_code: "notice".into(),
        title: title.into(),
        body: body.into(),
        publisher_org_id: w.org_id.to_string(),
        doc_no: "青政办发[2026]3号".into(),
        written_on: "2026-01-05".into(),
        art20: "a20_01".into(),
        keywords: "通知，公告".into(),
        ..Default::default()
    }
}

async fn item(t: &TestDb, id: i64) -> store::Item {
    let mut h = t.db.read().await.unwrap();
    store::item(&mut h.conn(), id).await.unwrap().unwrap()
}

#[tokio::test]
async fn publish_assigns_index_numbers_and_keeps_versions() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t, "1").await;
        let a = cms::create_item(
            &t.db,
            &w.editor,
            "ip",
            &input(
                &w,
                "关于做好2026年春节期间安全生产工作的通知",
                "<p>各街道：</p><script>alert(1)</script><p>现将有关事项通知如下。</p>",
            ),
        )
        .await
        .unwrap();
        assert_eq!(a.status, "draft");
        assert!(!a.body.contains("<script"), "{name}: body sanitised");
        assert_eq!(a.doc_no, "青政办发〔2026〕3号", "文号 normalised");
        // Editors cannot approve; reviewers cannot approve a draft.
        assert!(matches!(cms::approve(&t.db, &w.editor, "ip", a.id, None, "", "").await, Err(Error::Forbidden(_))));
        assert!(
            matches!(cms::approve(&t.db, &w.reviewer, "ip", a.id, None, "", "").await, Err(Error::Conflict(_))),
            "{name}"
        );
        let out = cms::submit(&t.db, &w.editor, "ip", a.id, false).await.unwrap();
        assert_eq!(out.status, "in_review");
        let out = cms::approve(&t.db, &w.reviewer, "ip", a.id, None, "同意", "").await.unwrap();
        assert_eq!(out.status, "published");
        let year = gongkai_kernel::clock::today().year();
        assert_eq!(out.index_no.as_deref(), Some(format!("{}/{year}-00001", w.org_code).as_str()), "{name}");
        let b = cms::create_item(&t.db, &w.editor, "ip", &input(&w, "第二条通知", "<p>内容</p>")).await.unwrap();
        cms::submit(&t.db, &w.editor, "ip", b.id, false).await.unwrap();
        let out = cms::approve(&t.db, &w.reviewer, "ip", b.id, None, "", "").await.unwrap();
        assert_eq!(out.index_no.as_deref(), Some(format!("{}/{year}-00002", w.org_code).as_str()));

        // Editing a published item keeps it live while the revision is reviewed; the
        // 索引号 never changes.
        let a_now = item(&t, a.id).await;
        let mut edit = input(&w, "关于做好2026年春节期间安全生产工作的通知（修订）", "<p>修订后的内容</p>");
        edit.version = a_now.version.to_string();
        let saved = cms::save_item(&t.db, &w.editor, "ip", a.id, &edit).await.unwrap();
        assert_eq!((saved.status.as_str(), saved.live, saved.version), ("draft", true, 2), "{name}");
        // A second save from the stale version is refused, not silently applied.
        assert!(matches!(cms::save_item(&t.db, &w.editor, "ip", a.id, &edit).await, Err(Error::Conflict(_))), "{name}");
        cms::submit(&t.db, &w.editor, "ip", a.id, false).await.unwrap();
        cms::approve(&t.db, &w.reviewer, "ip", a.id, None, "", "").await.unwrap();
        let a2 = item(&t, a.id).await;
        assert_eq!(a2.live_version, Some(2));
        assert_eq!(a2.index_no, out_index(&w, year, 1));
        let diff = cms::diff_versions(&t.db, a.id, 1, 2).await.unwrap();
        let fields: Vec<&str> = diff.iter().map(|d| d.field.as_str()).collect();
        assert!(fields.contains(&"title") && fields.contains(&"body"), "{name}: {fields:?}");
        assert!(diff.iter().any(|d| d.field == "body" && d.after.contains("修订后的内容") && !d.after.contains("<p>")));

        // Withdraw needs a reason, keeps the record.
        assert!(matches!(cms::withdraw(&t.db, &w.reviewer, "ip", a.id, " ").await, Err(Error::Invalid(_))));
        let wd = cms::withdraw(&t.db, &w.reviewer, "ip", a.id, "内容已过时").await.unwrap();
        assert_eq!((wd.status.as_str(), wd.live, wd.withdrawn_reason.as_str()), ("withdrawn", false, "内容已过时"));
        assert_eq!(wd.index_no, out_index(&w, year, 1), "index number kept after withdrawal");
        let mut h = t.db.read().await.unwrap();
        assert_eq!(store::versions(&mut h.conn(), a.id).await.unwrap().len(), 2);
        drop(h);
        assert!(matches!(
            gongkai_kernel::audit::verify(&t.db).await.unwrap(),
            gongkai_kernel::audit::Verdict::Intact { .. }
        ));
    }
}

fn out_index(w: &World, year: i32, serial: u32) -> Option<String> {
    Some(format!("{}/{year}-{serial:05}", w.org_code))
}

#[tokio::test]
async fn three_level_review_reject_and_schedule() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t, "3").await;
        let it = cms::create_item(&t.db, &w.editor, "ip", &input(&w, "三级审核的通知", "<p>正文</p>")).await.unwrap();
        cms::submit(&t.db, &w.editor, "ip", it.id, false).await.unwrap();
        assert_eq!(
            cms::approve(&t.db, &w.reviewer, "ip", it.id, None, "初审同意", "").await.unwrap().status,
            "in_review"
        );
        assert_eq!(item(&t, it.id).await.review_level, 2);
        // Reject at level 2 needs a comment and returns the item to the editor.
        assert!(matches!(cms::reject(&t.db, &w.reviewer, "ip", it.id, "").await, Err(Error::Invalid(_))));
        let r = cms::reject(&t.db, &w.reviewer, "ip", it.id, "请补充联系方式").await.unwrap();
        assert_eq!((r.status.as_str(), r.review_level), ("draft", 0), "{name}");
        cms::submit(&t.db, &w.editor, "ip", it.id, false).await.unwrap();
        for _ in 0..2 {
            assert_eq!(cms::approve(&t.db, &w.reviewer, "ip", it.id, None, "", "").await.unwrap().status, "in_review");
        }
        // Final level with a time in the future: scheduled, not yet public.
        let at = gongkai_kernel::clock::now_ms() + 3_600_000;
        let out = cms::approve(&t.db, &w.reviewer, "ip", it.id, Some(at), "终审同意，定时发布", "").await.unwrap();
        assert_eq!(out.status, "scheduled", "{name}");
        assert!(!item(&t, it.id).await.live);
        assert_eq!(cms::publish_due(&t.db).await.unwrap(), 0, "not due yet");
        let mut tx = t.db.begin().await.unwrap();
        with_conn!(&mut tx.conn(), x => sqlx::query("UPDATE items SET publish_at = 1 WHERE id = $1").bind(it.id).execute(&mut **x).await.map(|_| ())).unwrap();
        tx.commit().await.unwrap();
        assert_eq!(cms::publish_due(&t.db).await.unwrap(), 1);
        let done = item(&t, it.id).await;
        assert_eq!((done.status.as_str(), done.live), ("published", true), "{name}");
        assert!(done.index_no.is_some());
        assert_eq!(cms::publish_due(&t.db).await.unwrap(), 0, "published once");
        let mut h = t.db.read().await.unwrap();
        let reviews = store::reviews(&mut h.conn(), it.id).await.unwrap();
        let decisions: Vec<(i64, &str)> = reviews.iter().map(|r| (r.level, r.decision.as_str())).collect();
        assert_eq!(
            decisions,
            vec![(1, "approve"), (2, "reject"), (1, "approve"), (2, "approve"), (3, "approve")],
            "{name}"
        );
    }
}

#[tokio::test]
async fn privacy_checks_block_until_overridden() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t, "1").await;
        let body = "<p>联系人：张三，身份证号11010519491231002X，手机13812345678。</p>";
        let it = cms::create_item(&t.db, &w.editor, "ip", &input(&w, "公示名单", body)).await.unwrap();
        let out = cms::submit(&t.db, &w.editor, "ip", it.id, false).await.unwrap();
        assert!(out.held, "{name}: submission held for a decision");
        // The body and the summary made from it each hold the ID number and the mobile.
        assert_eq!(out.findings.len(), 4, "{name}: {:?}", out.findings);
        assert!(out.findings.iter().any(|f| f.field == "body" && f.start == 11 && f.end == 29), "exact spot");
        assert!(
            out.findings
                .iter()
                .all(|f| !f.excerpt.contains("11010519491231002X") && !f.excerpt.contains("13812345678"))
        );
        assert_eq!(item(&t, it.id).await.status, "draft");
        cms::submit(&t.db, &w.editor, "ip", it.id, true).await.unwrap();
        match cms::approve(&t.db, &w.reviewer, "ip", it.id, None, "", "").await {
            Err(Error::Invalid(f)) => assert!(f.get("override_reason").unwrap().contains("身份证号码"), "{name}"),
            r => panic!("{name}: published with personal data: {:?}", r.map(|o| o.status)),
        }
        let out = cms::approve(&t.db, &w.reviewer, "ip", it.id, None, "", "依法须公示").await.unwrap();
        assert_eq!(out.status, "published");
        let mut h = t.db.read().await.unwrap();
        let r = store::reviews(&mut h.conn(), it.id).await.unwrap();
        assert_eq!(r.last().unwrap().decision, "override");
        assert!(r.last().unwrap().comment.contains("依法须公示"));
    }
}

#[tokio::test]
async fn interpretations_link_both_ways_and_missing_ones_are_reported() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t, "1").await;
        let mut policy_in = input(&w, "青禾区促进就业若干政策", "<p>第一条……</p>");
        policy_in.class_code = "policy".into();
        policy_in.needs_interpretation = "on".into();
        let policy = cms::create_item(&t.db, &w.editor, "ip", &policy_in).await.unwrap();
        cms::submit(&t.db, &w.editor, "ip", policy.id, false).await.unwrap();
        let out = cms::approve(&t.db, &w.reviewer, "ip", policy.id, None, "", "").await.unwrap();
        assert!(out.missing_interpretation, "{name}: reviewer warned");
        let mut h = t.db.read().await.unwrap();
        assert_eq!(store::policies_missing_interpretation(&mut h.conn()).await.unwrap().len(), 1);
        drop(h);
        let mut interp_in = input(&w, "一图读懂《青禾区促进就业若干政策》", "<p>解读</p>");
        interp_in.class_code = "interpretation".into();
        assert!(
            matches!(cms::create_item(&t.db, &w.editor, "ip", &interp_in).await, Err(Error::Invalid(_))),
            "form required"
        );
        interp_in.interpretation_form = "graphic".into();
        let interp = cms::create_item(&t.db, &w.editor, "ip", &interp_in).await.unwrap();
        assert!(
            matches!(
                cms::link_interpretation(&t.db, &w.editor, "ip", policy.id, interp.id).await,
                Err(Error::Invalid(_))
            ),
            "only interpretations link"
        );
        cms::link_interpretation(&t.db, &w.editor, "ip", interp.id, policy.id).await.unwrap();
        cms::submit(&t.db, &w.editor, "ip", interp.id, false).await.unwrap();
        cms::approve(&t.db, &w.reviewer, "ip", interp.id, None, "", "").await.unwrap();
        let mut h = t.db.read().await.unwrap();
        let mut c = h.conn();
        assert_eq!(store::interpretation_links(&mut c, policy.id).await.unwrap(), (vec![interp.id], vec![]));
        assert_eq!(store::interpretation_links(&mut c, interp.id).await.unwrap(), (vec![], vec![policy.id]));
        assert!(store::policies_missing_interpretation(&mut c).await.unwrap().is_empty(), "{name}");
    }
}

#[tokio::test]
async fn concurrent_publishing_never_repeats_an_index_number() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t, "1").await;
        let mut ids = Vec::new();
        for i in 0..30 {
            let it = cms::create_item(&t.db, &w.editor, "ip", &input(&w, &format!("并发发布测试 {i}"), "<p>x</p>"))
                .await
                .unwrap();
            cms::submit(&t.db, &w.editor, "ip", it.id, false).await.unwrap();
            ids.push(it.id);
        }
        let mut handles = Vec::new();
        for id in ids.clone() {
            let (db, rev) = (t.db.clone(), w.reviewer.clone());
            handles.push(tokio::spawn(async move {
                cms::approve(&db, &rev, "ip", id, None, "", "").await.map(|o| o.index_no)
            }));
        }
        let mut numbers = Vec::new();
        for h in handles {
            numbers.push(h.await.unwrap().unwrap().unwrap());
        }
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 30, "{name}: duplicate 索引号");
        let year = gongkai_kernel::clock::today().year();
        assert_eq!(numbers.first(), out_index(&w, year, 1).as_ref());
        assert_eq!(numbers.last(), out_index(&w, year, 30).as_ref());
        // A duplicate 索引号 written directly is refused by the database.
        let mut tx = t.db.begin().await.unwrap();
        let dup = with_conn!(&mut tx.conn(), x => sqlx::query("UPDATE items SET index_no = $1 WHERE id = $2").bind(&numbers[0]).bind(ids[29]).execute(&mut **x).await.map(|_| ()));
        assert!(dup.is_err(), "{name}");
    }
}

#[tokio::test]
async fn columns_refuse_deletion_while_holding_items_and_check_scope() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t, "1").await;
        let it = cms::create_item(&t.db, &w.editor, "ip", &input(&w, "栏目中的信息", "<p>x</p>")).await.unwrap();
        match cms::delete_column(&t.db, &w.admin, "ip", w.column).await {
            Err(Error::Conflict(m)) => assert!(m.contains("1 条信息"), "{name}: {m}"),
            r => panic!("{name}: {r:?}"),
        }
        // An editor scoped to another organisation cannot write into this one.
        let other = testkit::user_with_role(&t.db, "editor2", None).await;
        let orgs = gongkai_kernel::org::service::list(&t.db).await.unwrap();
        let edu = orgs.iter().find(|o| o.name.contains("教育局")).unwrap();
        auth::grant(&t.db, None, &gongkai_kernel::audit::Actor::system("t"), other, Role::Editor, Some(edu.id), None)
            .await
            .unwrap();
        let scoped = testkit::principal(&t.db, other).await;
        assert!(
            matches!(
                cms::create_item(&t.db, &scoped, "ip", &input(&w, "越权", "<p>x</p>")).await,
                Err(Error::Forbidden(_))
            ),
            "{name}"
        );
        assert!(matches!(cms::submit(&t.db, &scoped, "ip", it.id, false).await, Err(Error::Forbidden(_))));
        // Bad metadata is reported field by field.
        let mut bad = input(&w, "", "<p><img src=\"/a.png\"></p>");
        bad.doc_no = "〔2018〕".into();
        bad.written_on = "2026-02-30".into();
        bad.validity = "repealed".into();
        match cms::create_item(&t.db, &w.editor, "ip", &bad).await {
            Err(Error::Invalid(f)) => {
                for k in ["title", "body", "doc_no", "written_on", "validity_on"] {
                    assert!(f.get(k).is_some(), "{name}: {k} in {f:?}");
                }
            }
            r => panic!("{name}: {:?}", r.map(|i| i.id)),
        }
        let _ = w.site_id;
    }
}

#[tokio::test]
async fn column_edits_and_per_column_grants() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t, "1").await;
        // A scoped editor of another organisation may not write here …
        let other = testkit::user_with_role(&t.db, "editor3", None).await;
        let orgs = gongkai_kernel::org::service::list(&t.db).await.unwrap();
        let edu = orgs.iter().find(|o| o.name.contains("教育局")).unwrap();
        auth::grant(&t.db, None, &gongkai_kernel::audit::Actor::system("t"), other, Role::Editor, Some(edu.id), None)
            .await
            .unwrap();
        let scoped = testkit::principal(&t.db, other).await;
        assert!(matches!(
            cms::create_item(&t.db, &scoped, "ip", &input(&w, "栏目授权前", "<p>x</p>")).await,
            Err(Error::Forbidden(_))
        ));
        // … until the column is granted to them.
        assert!(
            matches!(
                cms::set_column_grant(&t.db, &w.editor, "ip", w.column, "editor3", "edit", true).await,
                Err(Error::Forbidden(_))
            ),
            "{name}: only site administrators grant"
        );
        assert!(matches!(
            cms::set_column_grant(&t.db, &w.admin, "ip", w.column, "nobody", "edit", true).await,
            Err(Error::Invalid(_))
        ));
        cms::set_column_grant(&t.db, &w.admin, "ip", w.column, "editor3", "edit", true).await.unwrap();
        cms::create_item(&t.db, &scoped, "ip", &input(&w, "栏目授权后", "<p>x</p>")).await.unwrap();
        assert_eq!(cms::column_grants(&t.db, w.column).await.unwrap().len(), 1);
        cms::set_column_grant(&t.db, &w.admin, "ip", w.column, "editor3", "edit", false).await.unwrap();
        assert!(
            matches!(
                cms::create_item(&t.db, &scoped, "ip", &input(&w, "撤销后", "<p>x</p>")).await,
                Err(Error::Forbidden(_))
            ),
            "{name}"
        );
        // Column edit with version check; hiding works.
        let col = {
            let mut h = t.db.read().await.unwrap();
            store::column(&mut h.conn(), w.column).await.unwrap().unwrap()
        };
        let edit = ColumnInput {
            site_id: col.site_id.to_string(),
            name: "通知公告（改）".into(),
            slug: col.slug.clone(),
            kind: "list".into(),
            class: "notice".into(),
            visible: "off".into(),
            review_levels: "2".into(),
            ..Default::default()
        };
        let after = cms::update_column(&t.db, &w.admin, "ip", w.column, &edit, col.version).await.unwrap();
        assert_eq!((after.name.as_str(), after.visible, after.review_levels), ("通知公告（改）", false, 2), "{name}");
        assert!(
            matches!(
                cms::update_column(&t.db, &w.admin, "ip", w.column, &edit, col.version).await,
                Err(Error::Conflict(_))
            ),
            "stale"
        );
    }
}

#[tokio::test]
async fn cover_must_be_one_of_the_items_images() {
    for t in testkit::backends().await {
        let w = world(&t, "1").await;
        let files = gongkai_cms::attachments::FileStore::new(&t.dir);
        let a = cms::create_item(&t.db, &w.editor, "ip", &input(&w, "带封面的信息", "<p>x</p>")).await.unwrap();
        let b = cms::create_item(&t.db, &w.editor, "ip", &input(&w, "另一条信息", "<p>y</p>")).await.unwrap();
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde".to_vec();
        let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
        let img = gongkai_cms::attachments::attach(&t.db, &files, &w.editor, "ip", a.id, "现场.png", png.clone())
            .await
            .unwrap();
        let doc =
            gongkai_cms::attachments::attach(&t.db, &files, &w.editor, "ip", a.id, "方案.pdf", pdf).await.unwrap();
        let foreign =
            gongkai_cms::attachments::attach(&t.db, &files, &w.editor, "ip", b.id, "别处.png", png).await.unwrap();
        assert!(
            matches!(cms::set_cover(&t.db, &w.editor, "ip", a.id, Some(doc.id)).await, Err(Error::Invalid(_))),
            "not an image"
        );
        assert!(
            matches!(cms::set_cover(&t.db, &w.editor, "ip", a.id, Some(foreign.id)).await, Err(Error::Invalid(_))),
            "another item's"
        );
        cms::set_cover(&t.db, &w.editor, "ip", a.id, Some(img.id)).await.unwrap();
        assert_eq!(item(&t, a.id).await.cover_attachment_id, Some(img.attachment_id), "{}", t.backend_name());
        cms::set_cover(&t.db, &w.editor, "ip", a.id, None).await.unwrap();
        assert_eq!(item(&t, a.id).await.cover_attachment_id, None);
    }
}
