//! JSON Lines import and export of items, on SQLite and PostgreSQL.

use std::path::PathBuf;

use gongkai_cms::attachments::FileStore;
use gongkai_cms::service::{self as cms, ColumnInput, ItemInput};
use gongkai_cms::store;
use gongkai_cms::transfer::{self, ImportOptions, ImportSummary};
use gongkai_kernel::audit::{self, Actor};
use gongkai_kernel::auth::Role;
use gongkai_kernel::testkit::{self, TestDb};
use gongkai_kernel::with_conn;
use serde_json::{Value, json};

struct World {
    office_uscc: String,
    office_id: i64,
    notice_col: i64,
}

/// Demo district, cms reference data and three columns on www.
async fn world(t: &TestDb) -> World {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    let mut h = t.db.read().await.unwrap();
    let site =
        gongkai_kernel::site::store::all(&mut h.conn()).await.unwrap().into_iter().find(|s| s.code == "www").unwrap();
    let office = gongkai_kernel::org::store::all(&mut h.conn())
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == "青禾区人民政府办公室")
        .unwrap();
    drop(h);
    let admin_id = testkit::user_with_role(&t.db, "siteadmin", Some(Role::SysAdmin)).await;
    let admin = testkit::principal(&t.db, admin_id).await;
    let mut notice_col = 0;
    for (name, slug, class, levels) in
        [("通知公告", "tzgg", "notice", "1"), ("政策文件", "zcwj", "policy", "2"), ("政策解读", "zcjd", "policy", "1")]
    {
        let col = cms::create_column(
            &t.db,
            &admin,
            "ip",
            &ColumnInput {
                site_id: site.id.to_string(),
                name: name.into(),
                slug: slug.into(),
                kind: "list".into(),
                class: class.into(),
                review_levels: levels.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        if slug == "tzgg" {
            notice_col = col.id;
        }
    }
    World { office_uscc: office.uscc.unwrap(), office_id: office.id, notice_col }
}

/// Attachment files of the sample lines, as an old CMS would hand them over.
fn attachments_dir(t: &TestDb) -> PathBuf {
    let dir = t.dir.join("old-cms-files");
    std::fs::create_dir_all(dir.join("2023")).unwrap();
    std::fs::write(dir.join("2023/tongzhi.txt"), "关于春节期间烟花爆竹燃放管理的通告（原文）\n".as_bytes()).unwrap();
    std::fs::write(dir.join("evil.exe"), "MZ? no: plain text named .exe".as_bytes()).unwrap();
    dir
}

fn opts(t: &TestDb, dir: Option<PathBuf>) -> ImportOptions {
    ImportOptions {
        batch_size: 4,
        attachments_dir: dir,
        files: Some(FileStore::new(&t.dir)),
        ..ImportOptions::new(Actor::cli())
    }
}

async fn import_with(t: &TestDb, text: &str, dir: Option<PathBuf>) -> ImportSummary {
    let mut calls = 0u64;
    let sum = transfer::import_items(&t.db, text.as_bytes(), None, &opts(t, dir), &mut |_| calls += 1).await.unwrap();
    assert!(calls > 0, "progress is reported");
    sum
}

async fn import(t: &TestDb, text: &str) -> ImportSummary {
    import_with(t, text, Some(attachments_dir(t))).await
}

async fn export(t: &TestDb) -> String {
    let mut out = Vec::new();
    transfer::export_items(&t.db, &mut out, &mut |_| {}).await.unwrap();
    String::from_utf8(out).unwrap()
}

async fn by_ext(t: &TestDb, ext: &str) -> store::Item {
    let mut h = t.db.read().await.unwrap();
    store::item_by_external_id(&mut h.conn(), ext).await.unwrap().unwrap_or_else(|| panic!("no item {ext}"))
}

async fn count(t: &TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    with_conn!(&mut h.conn(), x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

fn line(v: Value) -> String {
    format!("{v}\n")
}

/// `text` with line `n` (1-based) parsed, changed by `f` and written back.
fn edit_line(text: &str, n: usize, mut f: impl FnMut(&mut Value)) -> String {
    text.split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == n {
                let mut v: Value = serde_json::from_str(l).unwrap();
                f(&mut v);
                format!("{v}\n")
            } else {
                l.to_string()
            }
        })
        .collect()
}

/// Good and bad lines; line numbers are the physical lines of the file (1-based).
fn sample(w: &World) -> String {
    let mut s = String::new();
    // 1: published, with an old 索引号 (serial 7 of 2023) to keep.
    s += &line(json!({
        "external_id": "old-1", "site": "www", "column": "tzgg", "class": "notice",
        "title": "关于2023年春节期间烟花爆竹燃放管理的通告", "body": "<p>各街道：</p><script>alert(1)</script><p>现将有关事项通告如下。</p>",
        "publisher": "青禾区人民政府办公室", "genre": "通告", "written_on": "2023-01-10", "published_on": "2023-01-11",
        "keywords": ["春节", "烟花爆竹"], "index_no": format!("{}/2023-00007", w.office_uscc), "status": "published",
        "art20": "a20_12", "five_open": "结果公开", "subject": "综合政务",
        "attachments": [{"name": "通告原文.txt", "path": "2023/tongzhi.txt"}]
    }));
    // 2: a draft normative policy document, 文号 in a loose form.
    s += &line(json!({
        "external_id": "old-2", "site": "www", "column": "zcwj", "class": "policy",
        "title": "青禾区人民政府关于印发《青禾区城市更新实施办法》的通知", "body": "<p>各街道办事处：</p><p>现印发给你们。</p>",
        "publisher": w.office_uscc, "doc_no": "青政发[2024]12号", "written_on": "2024-03-01", "published_on": "2024-03-05",
        "is_normative": "是", "keywords": "城市更新，实施办法", "status": "published", "needs_interpretation": true,
        "attachments": [{"name": "密码.txt", "path": "../../etc/passwd"}]
    }));
    // 3: blank
    s += "\n";
    // 4: invalid date
    s += &line(json!({
        "external_id": "bad-date", "site": "www", "column": "tzgg", "class": "notice", "title": "日期错误",
        "body": "<p>x</p>", "publisher": "区府办", "written_on": "2024-02-30", "status": "draft"
    }));
    // 5: unknown column
    s += &line(json!({
        "external_id": "bad-col", "site": "www", "column": "nosuch", "class": "notice", "title": "栏目错误",
        "body": "<p>x</p>", "publisher": "区府办"
    }));
    // 6: bad 文号
    s += &line(json!({
        "external_id": "bad-docno", "site": "www", "column": "zcwj", "class": "policy", "title": "文号错误",
        "body": "<p>x</p>", "publisher": "区府办", "doc_no": "青政发2024"
    }));
    // 7: duplicate 索引号 (the one of line 1)
    s += &line(json!({
        "external_id": "dup-index", "site": "www", "column": "tzgg", "class": "notice", "title": "索引号重复",
        "body": "<p>x</p>", "publisher": "区府办", "written_on": "2023-02-01", "status": "published",
        "index_no": format!("{}/2023-00007", w.office_uscc)
    }));
    // 8: broken JSON
    s += "{\"external_id\": \"broken\", \"title\": \"没写完\n";
    // 9: published without 索引号 in 2023: gets serial 8 (after the imported 7).
    s += &line(json!({
        "external_id": "old-3", "site": "www", "column": "tzgg", "class": "通知公告",
        "title": "关于开展2023年度安全生产大检查的通知", "body": "<p>各有关单位：</p><p>请认真组织开展。</p>",
        "publisher": "青禾区人民政府办公室", "written_on": "2023-04-01", "published_on": "2023-04-03", "status": "published",
        "attachments": [{"name": "检查表.exe", "path": "evil.exe"}, {"name": "不存在.pdf", "path": "2023/missing.pdf"}]
    }));
    // 10: an interpretation of line 2 (given before? no: after; order must not matter either way)
    s += &line(json!({
        "external_id": "old-4", "site": "www", "column": "zcjd", "class": "interpretation",
        "title": "《青禾区城市更新实施办法》政策解读", "body": "<p>一、起草背景</p>",
        "publisher": "区府办", "written_on": "2024-03-05", "published_on": "2024-03-06", "status": "published",
        "interpretation_form": "文字解读", "interprets": "old-2"
    }));
    // 11: repealed, replaced by line 2; withdrawn from the public site.
    s += &line(json!({
        "external_id": "old-5", "site": "www", "column": "zcwj", "class": "policy",
        "title": "青禾区旧城改造管理暂行办法", "body": "<p>（已废止）</p>", "publisher": "区府办",
        "doc_no": "青政发〔2019〕3号", "written_on": "2019-05-01", "published_on": "2019-05-06",
        "validity": "废止", "validity_on": "2024-03-05", "replaced_by": "old-2", "status": "withdrawn",
        "withdrawn_reason": "已被新办法替代"
    }));
    s
}

#[tokio::test]
async fn import_reports_bad_lines_and_keeps_index_numbers() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t).await;
        let sum = import(&t, &sample(&w)).await;
        let report = sum.to_zh();
        assert_eq!(sum.lines, 10, "{name}: blank line not counted\n{report}");
        assert_eq!((sum.created, sum.updated, sum.unchanged), (5, 0, 0), "{name}\n{report}");
        let bad: Vec<u64> = sum.rejected.iter().map(|e| e.line).collect();
        assert_eq!(bad, vec![4, 5, 6, 7, 8], "{name}\n{report}");
        assert!(!sum.all_accepted());
        let reason = |l: u64| sum.rejected.iter().find(|e| e.line == l).unwrap().reasons.join("；");
        assert!(reason(4).starts_with("written_on：") && reason(4).contains("有效日期"), "{}", reason(4));
        assert!(reason(5).contains("没有代号为“nosuch”的栏目"), "{}", reason(5));
        assert!(reason(6).starts_with("doc_no："), "{}", reason(6));
        assert!(reason(7).starts_with("index_no：") && reason(7).contains("已被信息"), "{}", reason(7));
        assert!(reason(8).contains("不是有效的 JSON"), "{}", reason(8));
        assert_eq!(sum.rejected.iter().find(|e| e.line == 7).unwrap().external_id, "dup-index");
        assert!(report.contains("第 4 行（external_id=bad-date）：written_on："), "{report}");
        // Attachments: one stored; a path leaving the directory, a program and a missing
        // file are skipped with a note each, and the items still imported.
        assert_eq!((sum.attachments_stored, sum.attachments_present, sum.attachments_skipped), (1, 0, 3), "{report}");
        let note =
            |l: u64| sum.notes.iter().filter(|n| n.line == l).map(|n| n.note.clone()).collect::<Vec<_>>().join("；");
        assert!(note(2).contains("不能含“..”"), "{report}");
        assert!(note(9).contains("检查表.exe") && note(9).contains("不存在.pdf"), "{report}");

        let a = by_ext(&t, "old-1").await;
        assert_eq!(a.index_no.as_deref(), Some(format!("{}/2023-00007", w.office_uscc).as_str()), "{name}");
        assert_eq!((a.status.as_str(), a.live, a.live_version), ("published", true, Some(1)));
        assert!(!a.body.contains("<script"), "{name}: body sanitised");
        assert_eq!(a.genre.as_deref(), Some("public_notice"), "labels become codes");
        assert_eq!((a.five_open.as_deref(), a.subject_code.as_deref()), (Some("result"), Some("s01")));
        assert_eq!(a.keywords, "春节,烟花爆竹");
        assert_eq!(a.publisher_org_id, Some(w.office_id));
        assert_eq!(a.home_column_id, w.notice_col);
        let files = gongkai_cms::attachments::list(&t.db, a.id).await.unwrap();
        assert_eq!(files.len(), 1, "{name}");
        assert_eq!((files[0].name.as_str(), files[0].mime.as_str()), ("通告原文.txt", "text/plain; charset=utf-8"));
        assert_eq!(
            FileStore::new(&t.dir).read(&files[0].sha256).await.unwrap(),
            "关于春节期间烟花爆竹燃放管理的通告（原文）\n".as_bytes()
        );
        // The serial of 2023 continues after the imported one.
        let c = by_ext(&t, "old-3").await;
        assert_eq!(c.index_no.as_deref(), Some(format!("{}/2023-00008", w.office_uscc).as_str()), "{name}");
        assert_eq!(c.class_code, "notice");
        let b = by_ext(&t, "old-2").await;
        assert_eq!((b.doc_no.as_str(), b.is_normative), ("青政发〔2024〕12号", true));
        assert_eq!(b.normative_issued_on.as_deref(), Some("2024-03-01"));
        assert!(b.index_no.as_deref().unwrap().ends_with("/2024-00001"), "{:?}", b.index_no);
        let d = by_ext(&t, "old-4").await;
        let mut h = t.db.read().await.unwrap();
        let (interps, _) = store::interpretation_links(&mut h.conn(), b.id).await.unwrap();
        assert_eq!(interps, vec![d.id], "{name}: interpretation linked");
        drop(h);
        let e = by_ext(&t, "old-5").await;
        assert_eq!((e.status.as_str(), e.live, e.validity.as_str()), ("withdrawn", false, "repealed"));
        assert_eq!((e.replaced_by_item_id, e.withdrawn_reason.as_str()), (Some(b.id), "已被新办法替代"));
        assert!(e.index_no.as_deref().unwrap().ends_with("/2019-00001"), "withdrawn items were published once");

        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'item.import'").await, 5);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM item_versions").await, 5);
        assert!(matches!(audit::verify(&t.db).await.unwrap(), audit::Verdict::Intact { .. }), "{name}");
    }
}

#[tokio::test]
async fn reimport_is_idempotent_and_changes_become_versions() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t).await;
        let text = sample(&w);
        import(&t, &text).await;
        let items = count(&t, "SELECT COUNT(*) FROM items").await;
        let audits = count(&t, "SELECT COUNT(*) FROM audit_log").await;

        let again = import(&t, &text).await;
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 5), "{name}\n{}", again.to_zh());
        assert_eq!((again.attachments_stored, again.attachments_present), (0, 1), "{name}: attached once");
        assert_eq!(again.rejected.len(), 5);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM items").await, items, "{name}: no duplicates");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log").await, audits, "{name}: skipped lines write nothing");

        // One changed line: a new version, still live with the new text; the rest skipped.
        let changed = text.replace("请认真组织开展。", "请认真组织开展，5月底前报送总结。");
        let third = import(&t, &changed).await;
        assert_eq!((third.created, third.updated, third.unchanged), (0, 1, 4), "{name}\n{}", third.to_zh());
        let c = by_ext(&t, "old-3").await;
        assert_eq!((c.version, c.live_version, c.status.as_str()), (2, Some(2), "published"), "{name}");
        assert!(c.body.contains("5月底前"));
        assert!(c.index_no.as_deref().unwrap().ends_with("/2023-00008"), "index number unchanged");
        let mut h = t.db.read().await.unwrap();
        assert_eq!(store::versions(&mut h.conn(), c.id).await.unwrap().len(), 2);
        drop(h);

        // A different 索引号 for an item that has one is refused, not applied.
        let moved = changed.replace(&format!("{}/2023-00007", w.office_uscc), &format!("{}/2023-00070", w.office_uscc));
        let fourth = import(&t, &moved).await;
        let l1 = fourth.rejected.iter().find(|e| e.line == 1).expect("line 1 refused");
        assert!(l1.reasons[0].contains("索引号与已导入的不一致"), "{:?}", l1.reasons);
        assert_eq!(
            by_ext(&t, "old-1").await.index_no.as_deref(),
            Some(format!("{}/2023-00007", w.office_uscc).as_str())
        );

        // A draft line never takes a published item down; a changed one becomes a
        // revision while the published version stays live.
        let as_draft = edit_line(&changed, 1, |v| {
            v["status"] = json!("draft");
            v["title"] = json!("关于2023年春节期间烟花爆竹燃放管理的通告（修订）");
        });
        let fifth = import(&t, &as_draft).await;
        assert_eq!(fifth.updated, 1, "{name}\n{}", fifth.to_zh());
        let a = by_ext(&t, "old-1").await;
        assert_eq!((a.status.as_str(), a.live, a.live_version, a.version), ("draft", true, Some(1), 2), "{name}");

        // An item under review in gongkai is not overwritten: the line is refused, and
        // lines that would change nothing are still skipped.
        let ed = testkit::principal(&t.db, testkit::user_with_role(&t.db, "editor1", Some(Role::Editor)).await).await;
        let c = by_ext(&t, "old-3").await;
        let edit = ItemInput {
            home_column_id: c.home_column_id.to_string(),
            class_code: c.class_code.clone(),
            title: format!("{}（修订）", c.title),
            body: c.body.clone(),
            publisher_org_id: w.office_id.to_string(),
            written_on: c.written_on.clone().unwrap(),
            version: c.version.to_string(),
            ..Default::default()
        };
        cms::save_item(&t.db, &ed, "ip", c.id, &edit).await.unwrap();
        cms::submit(&t.db, &ed, "ip", c.id, false).await.unwrap();
        let sixth = import(&t, &as_draft).await;
        let l9 = sixth.rejected.iter().find(|e| e.line == 9).expect("line 9 refused");
        assert!(l9.reasons[0].contains("正在审核"), "{:?}", l9.reasons);
        assert_eq!((sixth.created, sixth.updated, sixth.unchanged), (0, 0, 4), "{name}\n{}", sixth.to_zh());
        assert_eq!(by_ext(&t, "old-3").await.status, "in_review");
        assert!(matches!(audit::verify(&t.db).await.unwrap(), audit::Verdict::Intact { .. }), "{name}");
    }
}

#[tokio::test]
async fn export_then_import_into_an_empty_database_reproduces_the_items() {
    let mut a_backends = testkit::backends().await;
    let mut b_backends = testkit::backends().await;
    for (a, b) in a_backends.drain(..).zip(b_backends.drain(..)) {
        let name = a.backend_name();
        let wa = world(&a).await;
        let sum = import(&a, &sample(&wa)).await;
        assert_eq!(sum.created, 5);
        // One item made in gongkai itself (no external_id), published through the service.
        let ed = testkit::principal(&a.db, testkit::user_with_role(&a.db, "editor1", Some(Role::Editor)).await).await;
        let rv =
            testkit::principal(&a.db, testkit::user_with_role(&a.db, "reviewer1", Some(Role::Reviewer)).await).await;
        let it = cms::create_item(
            &a.db,
            &ed,
            "ip",
            &ItemInput {
                home_column_id: wa.notice_col.to_string(),
                class_code: "notice".into(),
                title: "关于调整区政务服务中心办公时间的公告".into(),
                body: "<p>自即日起，<strong>周六上午</strong>照常办公。</p><ul><li>地址：人民大道1号</li></ul>".into(),
                publisher_org_id: wa.office_id.to_string(),
                written_on: "2026-01-05".into(),
                keywords: "办公时间".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        cms::submit(&a.db, &ed, "ip", it.id, false).await.unwrap();
        let out = cms::approve(&a.db, &rv, "ip", it.id, None, "", "").await.unwrap();
        let local_index = out.index_no.unwrap();

        let dump = export(&a).await;
        assert_eq!(dump.lines().count(), 6, "{name}");
        let first: Value = serde_json::from_str(dump.lines().next().unwrap()).unwrap();
        assert_eq!(first["index_no"], json!(format!("{}/2023-00007", wa.office_uscc)));
        assert_eq!((first["site"].as_str(), first["column"].as_str()), (Some("www"), Some("tzgg")));
        assert!(dump.contains(&format!("\"external_id\":\"gongkai:{}\"", it.id)), "{dump}");
        assert!(dump.contains("\"interprets\":[\"old-2\"]") && dump.contains("\"replaced_by\":\"old-2\""));

        assert!(dump.contains("\"attachments\":[{\"name\":\"通告原文.txt\",\"path\":\""), "{dump}");
        world(&b).await;
        // Another installation: the files come from the old data directory's store.
        let sum = import_with(&b, &dump, Some(a.dir.join("files"))).await;
        assert_eq!(sum.attachments_stored, 1, "{name}\n{}", sum.to_zh());
        assert!(sum.all_accepted(), "{name}\n{}", sum.to_zh());
        assert_eq!(sum.created, 6);
        let again = export(&b).await;
        assert_eq!(again, dump, "{name}: export → import → export is stable");
        assert_eq!(by_ext(&b, &format!("gongkai:{}", it.id)).await.index_no.as_deref(), Some(local_index.as_str()));
        assert!(matches!(audit::verify(&b.db).await.unwrap(), audit::Verdict::Intact { .. }), "{name}");
    }
}
