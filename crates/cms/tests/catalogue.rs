//! The standard disclosure catalogue through the service layer, on SQLite and PostgreSQL:
//! validation, CSV/XLSX import with row-numbered errors, idempotence, export round trips,
//! links to items and timeliness on the working-day calendar.

use gongkai_cms::catalogue::{self as cat, EntryInput, EntryView, Format, RowError};
use gongkai_cms::service::{self as cms, ColumnInput, ItemInput};
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::error::Error;
use gongkai_kernel::testkit::{self, TestDb};
use gongkai_kernel::with_conn;

struct World {
    editor: Principal,
    reviewer: Principal,
    admin: Principal,
    column: i64,
    gov_id: i64,
}

async fn user(t: &TestDb, name: &str, role: Role) -> Principal {
    let id = testkit::user_with_role(&t.db, name, Some(role)).await;
    testkit::principal(&t.db, id).await
}

async fn world(t: &TestDb) -> World {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    let mut h = t.db.read().await.unwrap();
    let site =
        gongkai_kernel::site::store::all(&mut h.conn()).await.unwrap().into_iter().find(|s| s.code == "www").unwrap();
    let gov = gongkai_kernel::org::store::all(&mut h.conn())
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == "青禾区人民政府")
        .unwrap();
    drop(h);
    let admin = user(t, "siteadmin", Role::SysAdmin).await;
    let col = cms::create_column(
        &t.db,
        &admin,
        "ip",
        &ColumnInput {
            site_id: site.id.to_string(),
            name: "重点领域信息公开".into(),
            slug: "zdly".into(),
            kind: "list".into(),
            class: "notice".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    World {
        editor: user(t, "editor1", Role::Editor).await,
        reviewer: user(t, "reviewer1", Role::Reviewer).await,
        admin,
        column: col.id,
        gov_id: gov.id,
    }
}

const HEADER: [&str; 12] = [
    "序号",
    "领域",
    "一级事项",
    "二级事项",
    "公开内容（要素）",
    "公开依据",
    "公开时限",
    "公开主体",
    "公开渠道和载体",
    "公开对象",
    "公开方式",
    "公开层级",
];

const LIMIT20: &str = "信息形成或者变更之日起20个工作日内";

/// Rows 2..=8 of the realistic file (header is row 1). Rows 4, 6 and 8 are bad.
fn rows() -> Vec<[&'static str; 12]> {
    vec![
        [
            "0701-01",
            "征地补偿",
            "征收土地信息",
            "征地告知",
            "拟征收土地的位置、四至、面积、用途，征收目的，补偿安置方式",
            "《中华人民共和国土地管理法》第四十七条\n《中华人民共和国土地管理法实施条例》第二十六条",
            LIMIT20,
            "青禾区人民政府",
            "■政府网站 □政府公报 ■两微一端 □发布会/听证会 □广播电视 □纸质媒体 □公开查阅点 □政务服务中心 □便民服务站 □入户/现场 ■社区/企事业单位/村公示栏（电子屏） □精准推送 □其他",
            "全社会",
            "主动",
            "县级",
        ],
        [
            "0701-02",
            "d07",
            "征收土地信息",
            "征地补偿安置方案",
            "补偿标准、安置对象、安置方式、社会保障等",
            "《中华人民共和国土地管理法实施条例》第二十七条",
            LIMIT20,
            "青禾区人民政府",
            "政府网站、入户/现场、社区/企事业单位/村公示栏(电子屏)",
            "特定群体(群众)",
            "主动公开",
            "区级",
        ],
        ["", "宇宙探索", "星际航行", "", "", "", "10个工作日", "", "政府网站", "全社会", "主动", "县级"],
        [
            "1701-01",
            "义务教育",
            "招生入学",
            "招生政策",
            "招生范围、招生条件、报名时间, \"划片\"结果",
            "《中华人民共和国义务教育法》第十二条",
            LIMIT20,
            "青禾区教育局",
            "website,new_media,service_center",
            "全社会",
            "主动",
            "县级",
        ],
        [
            "1702-01",
            "义务教育",
            "学生资助",
            "资助名单",
            "受助学生姓名、学校、资助标准",
            "《学生资助资金管理办法》",
            "10个工作日",
            "青禾区教育局",
            "",
            "特定群体",
            "依申请",
            "乡、村级",
        ],
        [
            "0501-01",
            "安全生产",
            "生产安全事故",
            "事故信息",
            "事故发生时间、地点、伤亡情况",
            "《生产安全事故应急条例》",
            "实时",
            "",
            "□政府网站 ■两微一端",
            "全社会",
            "主动",
            "乡级",
        ],
        ["", "d17", "课后服务", "", "", "", "每学期开学前", "不存在的局", "政府网站", "全社会", "主动", "县级"],
    ]
}

/// A CSV written independently of the module under test.
fn csv(rows: &[[&str; 12]], header: &[&str], bom: bool, crlf: bool) -> Vec<u8> {
    let eol = if crlf { "\r\n" } else { "\n" };
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
    };
    let mut out = if bom { String::from("\u{feff}") } else { String::new() };
    out.push_str(&header.iter().map(|h| field(h)).collect::<Vec<_>>().join(","));
    out.push_str(eol);
    for r in rows {
        out.push_str(&r.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push_str(eol);
    }
    out.into_bytes()
}

/// An XLSX as a district office would send it: headers with half-width parentheses and
/// stray spaces, 序号 typed as numbers where they are numbers.
fn xlsx(rows: &[[&str; 12]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let header = HEADER.map(|h| if h == "公开内容（要素）" { "公开内容(要素)" } else { h });
    for (c, h) in header.iter().enumerate() {
        let h = if *h == "一级事项" { " 一级 事项 " } else { h };
        ws.write_string(0, c as u16, h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            match v.parse::<f64>() {
                Ok(n) if c == 0 => ws.write_number(r as u32 + 1, c as u16, n).map(|_| ()).unwrap(),
                _ if v.is_empty() => {}
                _ => ws.write_string(r as u32 + 1, c as u16, *v).map(|_| ()).unwrap(),
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

fn errors_of(report: &[RowError]) -> Vec<(usize, Vec<&str>)> {
    report.iter().map(|r| (r.row, r.errors.iter().map(|(f, _)| f.as_str()).collect())).collect()
}

async fn all_entries(t: &TestDb) -> Vec<cat::Entry> {
    cat::list_by_domain(&t.db).await.unwrap().into_iter().flat_map(|(_, _, v)| v).map(|v| v.entry).collect()
}

async fn view(t: &TestDb, id: i64) -> EntryView {
    cat::list_by_domain(&t.db).await.unwrap().into_iter().flat_map(|(_, _, v)| v).find(|v| v.entry.id == id).unwrap()
}

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&mut **x).await
    })
    .unwrap()
}

async fn text(t: &TestDb, sql: &str) -> String {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => {
        sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&mut **x).await
    })
    .unwrap()
}

fn entry_input(domain: &str, level1: &str, limit: &str, channels: &str) -> EntryInput {
    EntryInput {
        domain: domain.into(),
        level1: level1.into(),
        time_limit: limit.into(),
        channels: channels.into(),
        audience: "全社会".into(),
        mode: "主动".into(),
        tier: "县级".into(),
        ..Default::default()
    }
}

#[test]
fn validation_table() {
    let good: &[(EntryInput, &str, &str, &str)] = &[
        (entry_input("d05", "安全生产执法", LIMIT20, "政府网站"), "d05", "website", "working_days"),
        (
            entry_input("安全生产", "安全生产执法", "实时", "■政府网站 □政府公报 ■两微一端"),
            "d05",
            "website,new_media",
            "immediate",
        ),
        (
            entry_input("征地补偿领域", "征收土地信息", "20日内", "gazette；targeted_push"),
            "d07",
            "gazette,targeted_push",
            "days",
        ),
        (
            entry_input("D17", "办学信息", "每年3月底前", "发布会/听证会、公开查阅点"),
            "d17",
            "press_hearing,reading_point",
            "unparsed",
        ),
    ];
    for (input, domain, channels, kind) in good {
        let f = cat::validate_entry(input).unwrap_or_else(|e| panic!("{input:?}: {e:?}"));
        assert_eq!(
            (f.domain_code.as_str(), f.channel_codes().as_str(), f.limit_columns().0),
            (*domain, *channels, *kind)
        );
    }
    let bad: &[(EntryInput, &str, &str)] = &[
        (entry_input("宇宙探索", "事项", LIMIT20, "政府网站"), "domain", "不是26个标准目录领域之一"),
        (entry_input("", "事项", LIMIT20, "政府网站"), "domain", "请填写领域"),
        (entry_input("d05", "", LIMIT20, "政府网站"), "level1", "请填写一级事项"),
        (entry_input("d05", &"长".repeat(101), LIMIT20, "政府网站"), "level1", "不能超过100个字"),
        (entry_input("d05", "事项", "", "政府网站"), "time_limit", "请填写公开时限"),
        (entry_input("d05", "事项", LIMIT20, ""), "channels", "至少选择一个"),
        (entry_input("d05", "事项", LIMIT20, "□政府网站 □政府公报"), "channels", "至少选择一个"),
        (entry_input("d05", "事项", LIMIT20, "政府网站、飞鸽传书"), "channels", "飞鸽传书"),
        (
            EntryInput { audience: "外国人".into(), ..entry_input("d05", "事项", LIMIT20, "政府网站") },
            "audience",
            "全社会",
        ),
        (EntryInput { mode: "不公开".into(), ..entry_input("d05", "事项", LIMIT20, "政府网站") }, "mode", "依申请"),
        (
            EntryInput { tier: "县级、乡级".into(), ..entry_input("d05", "事项", LIMIT20, "政府网站") },
            "tier",
            "只能填一个",
        ),
        (EntryInput { tier: "省级".into(), ..entry_input("d05", "事项", LIMIT20, "政府网站") }, "tier", "县级"),
    ];
    for (input, field, needle) in bad {
        let e = cat::validate_entry(input).expect_err(&format!("{input:?}"));
        let msg = e.get(field).unwrap_or_else(|| panic!("{input:?}: {e:?}"));
        assert!(msg.contains(needle), "{input:?}: {msg}");
    }
}

#[tokio::test]
async fn entries_through_the_service() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t).await;
        let mut input = entry_input("征地补偿", "征收土地信息", LIMIT20, "■政府网站 □政府公报");
        input.org = "青禾区人民政府".into();
        // Editors do not maintain the catalogue; reviewers and system administrators do.
        assert!(matches!(cat::create_entry(&t.db, &w.editor, "ip", &input).await, Err(Error::Forbidden(_))), "{name}");
        let a = cat::create_entry(&t.db, &w.reviewer, "ip", &input).await.unwrap();
        assert_eq!((a.domain_code.as_str(), a.org_id, a.channels.as_str()), ("d07", Some(w.gov_id), "website"));
        assert_eq!((a.time_limit_kind.as_str(), a.time_limit_n), ("working_days", Some(20)));
        match cat::create_entry(&t.db, &w.admin, "ip", &input).await {
            Err(Error::Invalid(e)) => assert!(e.get("level1").unwrap().contains("重复"), "{name}: {e:?}"),
            other => panic!("{name}: duplicate accepted: {other:?}"),
        }
        // Same 事项 for another 公开主体 is a different entry.
        let b = cat::create_entry(&t.db, &w.admin, "ip", &EntryInput { org: String::new(), ..input.clone() })
            .await
            .unwrap();
        assert_eq!(b.org_id, None);
        match cat::create_entry(
            &t.db,
            &w.reviewer,
            "ip",
            &EntryInput { org: "不存在的局".into(), domain: "宇宙".into(), ..input.clone() },
        )
        .await
        {
            Err(Error::Invalid(e)) => {
                assert!(e.get("org").unwrap().contains("不存在的局"), "{name}: {e:?}");
                assert!(e.get("domain").is_some(), "both problems reported at once: {e:?}");
            }
            other => panic!("{name}: {other:?}"),
        }
        // Update; moving onto another entry's key is refused.
        let changed = cat::update_entry(
            &t.db,
            &w.reviewer,
            "ip",
            b.id,
            &EntryInput { tier: "乡级".into(), level2: "征地告知".into(), ..input.clone() },
        )
        .await
        .unwrap();
        assert_eq!((changed.tier.as_str(), changed.level2.as_str()), ("township", "征地告知"));
        assert!(matches!(
            cat::update_entry(&t.db, &w.reviewer, "ip", changed.id, &input).await,
            Err(Error::Invalid(_))
        ));
        let groups = cat::list_by_domain(&t.db).await.unwrap();
        assert_eq!(groups.len(), 26, "{name}");
        assert_eq!((groups[0].0.as_str(), groups[0].1.as_str()), ("d01", "城乡规划"));
        assert_eq!((groups[6].0.as_str(), groups[6].2.len()), ("d07", 2));
        assert_eq!(groups[6].2[0].org_name.as_deref(), Some("青禾区人民政府"));
        assert_eq!(count(&t, "SELECT COUNT(*) FROM outbox WHERE topic = 'catalogue.changed'").await, 3, "{name}");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'catalogue.%'").await, 3, "{name}");
    }
}

#[tokio::test]
async fn import_csv_and_xlsx_with_row_errors_idempotently() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t).await;
        let file = csv(&rows(), &HEADER, true, true);
        assert!(matches!(cat::import(&t.db, &w.editor, "ip", Format::Csv, &file).await, Err(Error::Forbidden(_))));
        let r = cat::import(&t.db, &w.reviewer, "ip", Format::Csv, &file).await.unwrap();
        assert_eq!((r.created, r.updated), (4, 0), "{name}: {r:?}");
        assert_eq!(errors_of(&r.rejected), vec![(4, vec!["领域"]), (6, vec!["公开渠道和载体"]), (8, vec!["公开主体"])]);
        assert!(r.rejected[0].errors[0].1.contains("宇宙探索"), "{:?}", r.rejected[0]);
        assert!(r.rejected[2].errors[0].1.contains("不存在的局"));

        let entries = all_entries(&t).await;
        assert_eq!(entries.len(), 4, "{name}");
        let notice = entries.iter().find(|e| e.level2 == "征地告知").unwrap();
        assert_eq!(notice.channels, "website,new_media,bulletin_board", "checkbox notation");
        assert_eq!((notice.time_limit_kind.as_str(), notice.time_limit_n), ("working_days", Some(20)));
        assert_eq!(notice.org_id, Some(w.gov_id));
        assert!(notice.basis.contains("第四十七条\n《中华"), "line break inside a quoted CSV field kept");
        let plan = entries.iter().find(|e| e.level2 == "征地补偿安置方案").unwrap();
        assert_eq!(
            (plan.domain_code.as_str(), plan.audience.as_str(), plan.tier.as_str()),
            ("d07", "specific", "county")
        );
        let enrol = entries.iter().find(|e| e.level1 == "招生入学").unwrap();
        assert_eq!(enrol.content, "招生范围、招生条件、报名时间, \"划片\"结果");
        assert_eq!(enrol.channels, "website,new_media,service_center");
        let accident = entries.iter().find(|e| e.domain_code == "d05").unwrap();
        assert_eq!((accident.time_limit_kind.as_str(), accident.org_id), ("immediate", None));
        assert_eq!((accident.channels.as_str(), accident.tier.as_str()), ("new_media", "township"));

        // Importing the same file again creates nothing and rewrites nothing.
        let again = cat::import(&t.db, &w.reviewer, "ip", Format::Csv, &file).await.unwrap();
        assert_eq!((again.created, again.updated, again.rejected.len()), (0, 4, 3), "{name}");
        assert_eq!(all_entries(&t).await, entries, "{name}: unchanged, timestamps included");
        // LF without BOM reads the same.
        let lf =
            cat::import(&t.db, &w.reviewer, "ip", Format::Csv, &csv(&rows(), &HEADER, false, false)).await.unwrap();
        assert_eq!((lf.created, lf.updated, errors_of(&lf.rejected)), (0, 4, errors_of(&r.rejected)));

        // The same rows as XLSX (tolerant headers, numeric cells) match the same entries;
        // a changed row is updated, a new one created.
        let mut xrows = rows();
        xrows[3][4] = "招生范围、招生条件、报名时间";
        xrows.push([
            "1703",
            "义务教育",
            "课后服务",
            "",
            "服务时间、收费标准",
            "",
            "每学期开学前",
            "青禾区教育局",
            "政府网站",
            "全社会",
            "主动",
            "县级",
        ]);
        let x = cat::import(&t.db, &w.reviewer, "ip", Format::Xlsx, &xlsx(&xrows)).await.unwrap();
        assert_eq!((x.created, x.updated), (1, 4), "{name}: {x:?}");
        assert_eq!(errors_of(&x.rejected), errors_of(&r.rejected), "{name}: same row numbers in Excel");
        let after = all_entries(&t).await;
        assert_eq!(after.len(), 5);
        assert_eq!(after.iter().find(|e| e.level1 == "招生入学").unwrap().content, "招生范围、招生条件、报名时间");
        assert_eq!(after.iter().find(|e| e.level1 == "课后服务").unwrap().seq, "1703");

        // One audit entry per import, with the counts; no outbox event when nothing changed.
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'catalogue.import'").await, 4, "{name}");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM outbox WHERE topic = 'catalogue.changed'").await, 2, "{name}");
        let summary =
            text(&t, "SELECT summary FROM audit_log WHERE action = 'catalogue.import' ORDER BY seq LIMIT 1").await;
        let s: serde_json::Value = serde_json::from_str(&summary).unwrap();
        assert_eq!((s["created"].as_i64(), s["updated"].as_i64(), s["rejected"].as_i64()), (Some(4), Some(0), Some(3)));

        // A missing required column is one clear error, and nothing is written.
        let short: Vec<&str> = HEADER.iter().copied().filter(|h| *h != "公开层级" && *h != "公开方式").collect();
        let short_rows: Vec<[&str; 12]> = Vec::new();
        match cat::import(&t.db, &w.reviewer, "ip", Format::Csv, &csv(&short_rows, &short, true, true)).await {
            Err(Error::Invalid(e)) => {
                let m = e.get("file").unwrap();
                assert!(m.contains("公开方式、公开层级"), "{name}: {m}");
            }
            other => panic!("{name}: {other:?}"),
        }
        assert!(matches!(
            cat::import(&t.db, &w.reviewer, "ip", Format::Xlsx, &file).await,
            Err(Error::Invalid(e)) if e.get("file").is_some()
        ));
        // Two rows with the same key in one file: the second is reported, the first kept.
        let dup = [rows()[0], rows()[0]];
        let d = cat::import(&t.db, &w.reviewer, "ip", Format::Csv, &csv(&dup, &HEADER, true, true)).await.unwrap();
        assert_eq!((d.created, d.updated), (0, 1));
        assert_eq!(d.rejected.len(), 1);
        assert_eq!(d.rejected[0].row, 3);
        assert!(d.rejected[0].errors[0].1.contains("第2行"), "{:?}", d.rejected);
        assert!(matches!(
            gongkai_kernel::audit::verify(&t.db).await.unwrap(),
            gongkai_kernel::audit::Verdict::Intact { .. }
        ));
    }
}

#[tokio::test]
async fn export_import_round_trip() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t).await;
        cat::import(&t.db, &w.reviewer, "ip", Format::Csv, &csv(&rows(), &HEADER, true, true)).await.unwrap();
        let before = all_entries(&t).await;
        assert_eq!(before.len(), 4);

        let out = cat::export(&t.db, Format::Csv).await.unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with(&format!("\u{feff}{}\r\n", HEADER.join(","))), "{name}: {text}");
        assert!(text.contains("\"招生范围、招生条件、报名时间, \"\"划片\"\"结果\""), "RFC 4180 quoting");
        assert!(text.contains("政府网站、两微一端、社区/企事业单位/村公示栏（电子屏）"));
        let r = cat::import(&t.db, &w.reviewer, "ip", Format::Csv, &out).await.unwrap();
        assert_eq!((r.created, r.updated, r.rejected.len()), (0, 4, 0), "{name}: {r:?}");
        assert_eq!(all_entries(&t).await, before, "{name}: CSV round trip changes nothing");
        assert_eq!(cat::export(&t.db, Format::Csv).await.unwrap(), out, "{name}: export is stable");

        let x = cat::export(&t.db, Format::Xlsx).await.unwrap();
        assert!(x.starts_with(b"PK\x03\x04"));
        let r = cat::import(&t.db, &w.reviewer, "ip", Format::Xlsx, &x).await.unwrap();
        assert_eq!((r.created, r.updated, r.rejected.len()), (0, 4, 0), "{name}: {r:?}");
        assert_eq!(all_entries(&t).await, before, "{name}: XLSX round trip changes nothing");

        // Into an empty catalogue the export recreates the same entries.
        let mut tx = t.db.begin().await.unwrap();
        with_conn!(&mut tx.conn(), x => {
            sqlx::query("DELETE FROM catalogue_entries").execute(&mut **x).await.map(|r| r.rows_affected())
        })
        .unwrap();
        tx.commit().await.unwrap();
        let r = cat::import(&t.db, &w.reviewer, "ip", Format::Xlsx, &x).await.unwrap();
        assert_eq!((r.created, r.updated), (4, 0), "{name}");
        let strip = |v: Vec<cat::Entry>| {
            v.into_iter().map(|e| cat::Entry { id: 0, created_at: 0, updated_at: 0, ..e }).collect::<Vec<_>>()
        };
        assert_eq!(strip(all_entries(&t).await), strip(before), "{name}");
        assert_eq!(cat::export(&t.db, Format::Csv).await.unwrap(), out, "{name}");
    }
}

async fn published_item(t: &TestDb, w: &World, title: &str, written: &str, published: &str, publish: bool) -> i64 {
    let item = cms::create_item(
        &t.db,
        &w.editor,
        "ip",
        &ItemInput {
            home_column_id: w.column.to_string(),
            class_code: "notice".into(),
            title: title.into(),
            body: "<p>现将有关事项公告如下。</p>".into(),
            publisher_org_id: w.gov_id.to_string(),
            written_on: written.into(),
            published_on: published.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    if publish {
        cms::submit(&t.db, &w.editor, "ip", item.id, false).await.unwrap();
        let out = cms::approve(&t.db, &w.reviewer, "ip", item.id, None, "同意", "").await.unwrap();
        assert_eq!(out.status, "published");
    }
    item.id
}

#[tokio::test]
async fn links_timeliness_across_national_day_and_delete_refused_while_linked() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t).await;
        let mk = |domain: &str, level1: &str, limit: &str| entry_input(domain, level1, limit, "政府网站");
        let a = cat::create_entry(&t.db, &w.reviewer, "ip", &mk("征地补偿", "征地告知书", LIMIT20)).await.unwrap();
        let b = cat::create_entry(&t.db, &w.reviewer, "ip", &mk("义务教育", "招生政策", LIMIT20)).await.unwrap();
        let c = cat::create_entry(&t.db, &w.reviewer, "ip", &mk("义务教育", "办学信息", "每年3月底前")).await.unwrap();
        let d = cat::create_entry(&t.db, &w.reviewer, "ip", &mk("义务教育", "学生资助", LIMIT20)).await.unwrap();
        // Written Friday 2024-09-27: 20 working days skip 国庆节 (10-01..07) and count the
        // 调休 days 09-29 and 10-12, so the limit is 2024-10-30.
        let on_time = published_item(&t, &w, "青禾区征地告知书", "2024-09-27", "2024-10-29", true).await;
        let late = published_item(&t, &w, "青禾区义务教育招生政策", "2024-09-27", "2024-10-31", true).await;
        let draft = published_item(&t, &w, "尚未发布的补充告知", "2024-09-27", "2024-11-30", false).await;

        assert!(matches!(cat::link_item(&t.db, &w.editor, "ip", on_time, a.id).await, Err(Error::Forbidden(_))));
        cat::link_item(&t.db, &w.reviewer, "ip", on_time, a.id).await.unwrap();
        cat::link_item(&t.db, &w.reviewer, "ip", on_time, a.id).await.unwrap(); // twice: no change
        cat::link_item(&t.db, &w.reviewer, "ip", draft, a.id).await.unwrap();
        cat::link_item(&t.db, &w.reviewer, "ip", late, b.id).await.unwrap();
        cat::link_item(&t.db, &w.reviewer, "ip", on_time, c.id).await.unwrap();
        assert!(matches!(cat::link_item(&t.db, &w.reviewer, "ip", 999_999, a.id).await, Err(Error::Invalid(_))));
        assert_eq!(
            cat::entries_of_item(&t.db, on_time).await.unwrap().iter().map(|e| e.id).collect::<Vec<_>>(),
            vec![a.id, c.id]
        );

        let va = view(&t, a.id).await;
        assert_eq!(va.items.iter().map(|i| i.id).collect::<Vec<_>>(), vec![on_time], "{name}: only live items");
        assert_eq!(va.last_published_on.as_deref(), Some("2024-10-29"));
        assert_eq!(va.due_on.as_deref(), Some("2024-10-30"), "{name}");
        assert_eq!(va.within_limit, Some(true), "{name}");
        let vb = view(&t, b.id).await;
        assert_eq!((vb.last_published_on.as_deref(), vb.within_limit), (Some("2024-10-31"), Some(false)), "{name}");
        let vc = view(&t, c.id).await;
        assert_eq!((vc.last_published_on.as_deref(), vc.within_limit), (Some("2024-10-29"), None), "unparsed limit");
        let vd = view(&t, d.id).await;
        assert_eq!((vd.items.len(), vd.last_published_on.as_deref(), vd.within_limit), (0, None, None));

        // Delete is refused while items are linked (the draft's link counts too).
        match cat::delete_entry(&t.db, &w.reviewer, "ip", a.id).await {
            Err(Error::Conflict(m)) => assert!(m.contains("已关联 2 条信息"), "{name}: {m}"),
            other => panic!("{name}: {other:?}"),
        }
        cat::unlink_item(&t.db, &w.reviewer, "ip", on_time, a.id).await.unwrap();
        assert!(matches!(cat::delete_entry(&t.db, &w.reviewer, "ip", a.id).await, Err(Error::Conflict(_))));
        cat::unlink_item(&t.db, &w.reviewer, "ip", draft, a.id).await.unwrap();
        cat::unlink_item(&t.db, &w.reviewer, "ip", draft, a.id).await.unwrap(); // twice: no change
        assert!(matches!(cat::delete_entry(&t.db, &w.editor, "ip", a.id).await, Err(Error::Forbidden(_))));
        cat::delete_entry(&t.db, &w.reviewer, "ip", a.id).await.unwrap();
        assert!(matches!(cat::entry(&t.db, a.id).await, Err(Error::NotFound)));
        assert!(matches!(cat::delete_entry(&t.db, &w.reviewer, "ip", a.id).await, Err(Error::NotFound)));
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'catalogue.link'").await, 4, "{name}");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'catalogue.unlink'").await, 2, "{name}");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'catalogue.delete'").await, 1, "{name}");
    }
}
