//! Attachments (sniffing, content addressing, limits, downloads, permissions) and topics
//! (validation, optimistic edits, closing, report counts), on SQLite and PostgreSQL.

use gongkai_cms::attachments::{self as att, FileStore, Kind};
use gongkai_cms::service::{self as cms, ColumnInput, ItemInput};
use gongkai_cms::topics::{self, TopicInput};
use gongkai_kernel::audit::{self, Actor, Verdict};
use gongkai_kernel::auth::{Principal, Role, service as auth};
use gongkai_kernel::error::Error;
use gongkai_kernel::testkit::{self, TestDb};
use gongkai_kernel::with_conn;
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------- sample files

/// A ZIP with stored (uncompressed) entries, local headers, central directory and end
/// record — the real layout, CRCs left zero (nothing here decompresses).
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let mut local = Vec::new();
        local.extend_from_slice(b"PK\x03\x04");
        local.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method, time, date, crc
        local.extend_from_slice(&(data.len() as u32).to_le_bytes());
        local.extend_from_slice(&(data.len() as u32).to_le_bytes());
        local.extend_from_slice(&(name.len() as u16).to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes());
        local.extend_from_slice(name.as_bytes());
        local.extend_from_slice(data);
        out.extend_from_slice(&local);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // extra, comment, disk, attrs
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

/// A compound file (OLE2): the 512-byte header, then one directory sector of 128-byte
/// entries (UTF-16LE name, its byte length at offset 64).
fn ole(names: &[&str]) -> Vec<u8> {
    let mut out = vec![0u8; 512];
    out[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    out[0x1E] = 9; // 512-byte sectors
    for name in std::iter::once(&"Root Entry").chain(names) {
        let mut e = vec![0u8; 128];
        let units: Vec<u8> = name.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        e[..units.len()].copy_from_slice(&units);
        e[64..66].copy_from_slice(&((units.len() + 2) as u16).to_le_bytes());
        out.extend_from_slice(&e);
    }
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    b.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    b
}

fn exe() -> Vec<u8> {
    let mut b = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
    b.resize(0x80, 0);
    b[0x3C] = 0x40;
    b[0x40..0x44].copy_from_slice(b"PE\0\0");
    b.extend_from_slice(b"This program cannot be run in DOS mode.");
    b
}

fn xlsx() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet().write_string(0, 0, "青禾区2026年财政预算").unwrap();
    wb.save_to_buffer().unwrap()
}

#[test]
fn sniffing_table() {
    let bmp = {
        let mut b = b"BM".to_vec();
        b.extend_from_slice(&58u32.to_le_bytes());
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(&54u32.to_le_bytes());
        b.extend_from_slice(&40u32.to_le_bytes());
        b.resize(58, 0);
        b
    };
    let table: Vec<(&str, Vec<u8>, Option<Kind>)> = vec![
        ("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec(), Some(Kind::Pdf)),
        ("png", png(), Some(Kind::Png)),
        ("jpeg", b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0".to_vec(), Some(Kind::Jpeg)),
        ("gif", b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04".to_vec(), Some(Kind::Gif)),
        (
            "webp",
            b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0/\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0".to_vec(),
            Some(Kind::Webp),
        ),
        ("bmp", bmp, Some(Kind::Bmp)),
        ("text starting BM", "BM 市民热线月报\n".as_bytes().to_vec(), Some(Kind::Text)),
        (
            "docx",
            zip(&[("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>")]),
            Some(Kind::Docx),
        ),
        ("xlsx (rust_xlsxwriter)", xlsx(), Some(Kind::Xlsx)),
        ("pptx", zip(&[("[Content_Types].xml", b"<Types/>"), ("ppt/presentation.xml", b"<p/>")]), Some(Kind::Pptx)),
        ("ofd", zip(&[("OFD.xml", b"<ofd:OFD/>"), ("Doc_0/Document.xml", b"<ofd:Document/>")]), Some(Kind::Ofd)),
        ("zip", zip(&[("readme.txt", b"hello"), ("data/a.csv", b"a,b\n1,2\n")]), Some(Kind::Zip)),
        ("doc", ole(&["WordDocument", "1Table", "\u{5}SummaryInformation"]), Some(Kind::Doc)),
        ("xls", ole(&["Workbook", "\u{5}SummaryInformation"]), Some(Kind::Xls)),
        ("ppt", ole(&["PowerPoint Document", "Current User"]), Some(Kind::Ppt)),
        ("msi (other compound file)", ole(&["\u{4840}\u{3f3f}\u{4577}", "SummaryInformation"]), None),
        (
            "text",
            "关于做好2026年春节期间安全生产工作的通知\n各街道、各部门：\n现将有关事项通知如下。\n".as_bytes().to_vec(),
            Some(Kind::Text),
        ),
        ("text with BOM", b"\xef\xbb\xbfplain text\r\n".to_vec(), Some(Kind::Text)),
        ("csv", "序号,姓名,补贴金额\n1,张三,\"1,200\"\n2,李四,800\n".as_bytes().to_vec(), Some(Kind::Csv)),
        ("gbk text", b"\xc7\xe0\xba\xcc\xc7\xf8".to_vec(), None),
        ("binary junk", vec![0u8, 1, 2, 3, 0, 0, 7, 9], None),
        ("rar", b"Rar!\x1a\x07\x01\0\x33\x92\xb5\xe5\x0a\x01".to_vec(), Some(Kind::Rar)),
        ("7z", b"7z\xbc\xaf\x27\x1c\0\x04\x8d\x9b\xd5\x0f".to_vec(), Some(Kind::SevenZip)),
        ("mp4", b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec(), Some(Kind::Mp4)),
        ("heic photo", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(), None),
        ("mp3 id3", b"ID3\x04\0\0\0\0\0\x23TSSE".to_vec(), Some(Kind::Mp3)),
        ("mp3 frame", b"\xff\xfb\x90\x64\0\0\0\0".to_vec(), Some(Kind::Mp3)),
        ("wav", b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0".to_vec(), Some(Kind::Wav)),
        ("exe", exe(), Some(Kind::WindowsExe)),
        ("elf", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec(), Some(Kind::Elf)),
        ("mach-o", b"\xcf\xfa\xed\xfe\x07\0\0\x01".to_vec(), Some(Kind::MachO)),
        ("shell script", b"#!/bin/sh\nrm -rf /\n".to_vec(), Some(Kind::Script)),
        ("html", b"<!DOCTYPE html><html><body><script>alert(1)</script>".to_vec(), Some(Kind::Html)),
        ("html fragment", b"  <div>hi</div><script>alert(document.cookie)</script>".to_vec(), Some(Kind::Html)),
        (
            "svg",
            b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
            Some(Kind::Svg),
        ),
        (
            "jar",
            zip(&[("META-INF/MANIFEST.MF", b"Main-Class: A\n"), ("A.class", b"\xca\xfe\xba\xbe")]),
            Some(Kind::JavaArchive),
        ),
        ("apk", zip(&[("AndroidManifest.xml", b"\x03\0"), ("classes.dex", b"dex\n035")]), Some(Kind::JavaArchive)),
        ("docm", zip(&[("word/document.xml", b"<w/>"), ("word/vbaProject.bin", b"\xd0\xcf")]), Some(Kind::MacroOffice)),
        ("doc with macros", ole(&["WordDocument", "Macros", "VBA", "_VBA_PROJECT"]), Some(Kind::MacroOffice)),
    ];
    for (label, bytes, want) in &table {
        assert_eq!(att::sniff(bytes), *want, "{label}");
        if let Some(k) = want {
            assert_eq!(Kind::from_mime(k.mime()), Some(*k), "{label}: mime maps back");
            assert!(!k.label_zh().is_empty() && !k.ext().is_empty());
            // The admission follows the allow-list.
            assert_eq!(att::admit("文件", bytes).is_ok(), k.allowed(), "{label}");
        } else {
            assert!(att::admit("文件", bytes).is_err(), "{label}: unknown types are refused");
        }
    }
    // A docx whose central directory is cut off is still read from its local headers.
    let docx = zip(&[("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w/>")]);
    let cut = &docx[..docx.windows(4).position(|w| w == b"PK\x01\x02").unwrap()];
    assert_eq!(att::sniff(cut), Some(Kind::Docx));
    // A document that merely mentions a stream name in its text is not misread.
    let mut mention = ole(&["Workbook"]);
    let mut sector = vec![0u8; 512];
    let words: Vec<u8> = "WordDocument".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    sector[10..10 + words.len()].copy_from_slice(&words); // unaligned text
    sector[128..128 + words.len()].copy_from_slice(&words); // aligned, but no entry length
    mention.extend_from_slice(&sector);
    assert_eq!(att::sniff(&mention), Some(Kind::Xls));
}

#[test]
fn names_never_decide_the_type() {
    // A forged PDF that is an executable is refused, and the message says what it really is.
    let e = att::admit("2026年工作报告.pdf", &exe()).unwrap_err();
    assert!(e.contains(".pdf") && e.contains("Windows 可执行程序"), "{e}");
    // A ".txt" that is really a PNG is stored as an image, named for what it is.
    let a = att::admit("现场照片.txt", &png()).unwrap();
    assert_eq!((a.kind, a.kind.mime(), a.name.as_str()), (Kind::Png, "image/png", "现场照片.png"));
    // An executable or script extension is refused even when the content is harmless text.
    for n in ["setup.bat", "a.JS", "报告.pdf.exe", "page.html", "报告.pdf.exe. . ."] {
        assert!(att::admit(n, b"@echo off\r\necho hello\r\n").is_err(), "{n}");
    }
    // The name loses its path and control characters, gains the real extension.
    let a = att::admit("../../etc/passwd", b"root:x:0:0\n").unwrap();
    assert_eq!(a.name, "passwd.txt");
    let a = att::admit("..\\..\\Windows\\通知\u{202E}fdp.jpg", &png()).unwrap();
    assert_eq!(a.name, "通知fdp.png");
    assert_eq!(att::admit("", &png()).unwrap().name, "附件.png");
    assert_eq!(att::admit("2026.01 会议纪要", &xlsx()).unwrap().name, "2026.01 会议纪要.xlsx");
    assert_eq!(att::admit("photo.JPEG", b"\xff\xd8\xff\xe0\0\x10JFIF").unwrap().name, "photo.JPEG");
    assert!(att::admit("empty.txt", b"").is_err());
    let long = format!("{}.docx", "很长的文件名".repeat(40));
    let a = att::admit(&long, &zip(&[("word/document.xml", b"<w/>")])).unwrap();
    assert!(a.name.chars().count() <= att::MAX_NAME_CHARS && a.name.ends_with(".docx"));
    // Text for search: plain text only for now.
    assert_eq!(att::extract_text(Kind::Text, "\u{feff}通知正文".as_bytes()).as_deref(), Some("通知正文"));
    assert_eq!(att::extract_text(Kind::Pdf, b"%PDF-1.7"), None);
}

// ---------------------------------------------------------------- world

struct World {
    editor: Principal,
    reviewer: Principal,
    /// An editor scoped to the education bureau (another organisation).
    outsider: Principal,
    site_id: i64,
    jyj_site_id: i64,
    jyj_column: i64,
    org_id: i64,
    column: i64,
}

async fn user(t: &TestDb, name: &str, role: Role) -> Principal {
    let id = testkit::user_with_role(&t.db, name, Some(role)).await;
    testkit::principal(&t.db, id).await
}

async fn column(t: &TestDb, admin: &Principal, site_id: i64, slug: &str) -> i64 {
    let input = ColumnInput {
        site_id: site_id.to_string(),
        name: "通知公告".into(),
        slug: slug.into(),
        kind: "list".into(),
        class: "notice".into(),
        ..Default::default()
    };
    cms::create_column(&t.db, admin, "ip", &input).await.unwrap().id
}

async fn world(t: &TestDb) -> World {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    let sites = {
        let mut h = t.db.read().await.unwrap();
        gongkai_kernel::site::store::all(&mut h.conn()).await.unwrap()
    };
    let site = sites.iter().find(|s| s.code == "www").unwrap();
    let jyj = sites.iter().find(|s| s.code == "jyj").unwrap();
    let admin = user(t, "siteadmin", Role::SysAdmin).await;
    let orgs = gongkai_kernel::org::service::list(&t.db).await.unwrap();
    let edu = orgs.iter().find(|o| o.name.contains("教育局")).unwrap();
    let other = testkit::user_with_role(&t.db, "editor-jyj", None).await;
    auth::grant(&t.db, None, &Actor::system("t"), other, Role::Editor, Some(edu.id), None).await.unwrap();
    World {
        editor: user(t, "editor1", Role::Editor).await,
        reviewer: user(t, "reviewer1", Role::Reviewer).await,
        outsider: testkit::principal(&t.db, other).await,
        site_id: site.id,
        jyj_site_id: jyj.id,
        jyj_column: column(t, &admin, jyj.id, "jytz").await,
        org_id: site.org_id.unwrap(),
        column: column(t, &admin, site.id, "tzgg").await,
    }
}

async fn draft(t: &TestDb, w: &World, title: &str) -> i64 {
    let input = ItemInput {
        home_column_id: w.column.to_string(),
        class_code: "notice".into(),
        title: title.into(),
        body: "<p>正文</p>".into(),
        publisher_org_id: w.org_id.to_string(),
        ..Default::default()
    };
    cms::create_item(&t.db, &w.editor, "ip", &input).await.unwrap().id
}

async fn publish(t: &TestDb, w: &World, id: i64) {
    cms::submit(&t.db, &w.editor, "ip", id, false).await.unwrap();
    assert_eq!(cms::approve(&t.db, &w.reviewer, "ip", id, None, "", "").await.unwrap().status, "published");
}

async fn count(t: &TestDb, sql: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    with_conn!(&mut h.conn(), x => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&mut **x).await)
        .unwrap()
}

/// Every file under the store root, as (folder name, file name).
fn files_on_disk(store: &FileStore) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(store.root()) else { return out };
    for d in dirs.flatten() {
        for f in std::fs::read_dir(d.path()).unwrap().flatten() {
            out.push((d.file_name().to_string_lossy().into(), f.file_name().to_string_lossy().into()));
        }
    }
    out.sort();
    out
}

fn assert_intact(v: Verdict, name: &str) {
    assert!(matches!(v, Verdict::Intact { .. }), "{name}: audit chain {v:?}");
}

// ---------------------------------------------------------------- attachments

#[tokio::test]
async fn attachments_are_stored_once_by_content() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t).await;
        let store = FileStore::new(&t.dir);
        assert_eq!(store.max_bytes(), att::DEFAULT_MAX_BYTES);
        assert_eq!(att::DEFAULT_MAX_BYTES, 50 * 1024 * 1024);
        let a = draft(&t, &w, "附件测试一").await;
        let b = draft(&t, &w, "附件测试二").await;
        let bytes = "序号,单位,金额\n1,区教育局,100\n2,区卫健局,200\n".as_bytes().to_vec();
        let sha = gongkai_kernel::audit::hex(&Sha256::digest(&bytes));

        let r1 = att::attach(&t.db, &store, &w.editor, "ip", a, "预算表.csv", bytes.clone()).await.unwrap();
        let r2 = att::attach(&t.db, &store, &w.editor, "ip", b, "../预算表（副本）.txt", bytes.clone()).await.unwrap();
        assert_eq!(
            (r1.sha256.as_str(), r1.size, r1.mime.as_str()),
            (sha.as_str(), bytes.len() as i64, "text/csv; charset=utf-8")
        );
        assert_eq!((r1.kind_label.as_str(), r1.name.as_str()), ("CSV 表格", "预算表.csv"), "{name}");
        assert_eq!(r2.name, "预算表（副本）.txt", "{name}: path stripped, .txt kept for CSV text");
        assert_eq!(r1.attachment_id, r2.attachment_id, "{name}: one attachments row");
        assert_ne!(r1.id, r2.id);
        assert_eq!(count(&t, "SELECT COUNT(*) FROM attachments").await, 1, "{name}");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM item_attachments").await, 2, "{name}");
        // One file, at files/<aa>/<sha256>, no temporary file left beside it.
        assert_eq!(files_on_disk(&store), vec![(sha[..2].to_string(), sha.clone())], "{name}");
        assert_eq!(store.path_of(&sha).unwrap(), t.dir.join("files").join(&sha[..2]).join(&sha));
        assert_eq!(store.read(&sha).await.unwrap(), bytes);
        let text = att::extract_text(Kind::Csv, &store.read(&sha).await.unwrap()).unwrap();
        assert!(text.contains("区卫健局"));

        // A second content, a PNG uploaded as ".txt", and a second attachment on item a.
        let r3 = att::attach(&t.db, &store, &w.editor, "ip", a, "示意图.txt", png()).await.unwrap();
        assert_eq!(
            (r3.mime.as_str(), r3.name.as_str(), r3.kind_label.as_str()),
            ("image/png", "示意图.png", "PNG 图片")
        );
        let listed = att::list(&t.db, a).await.unwrap();
        assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), vec![r1.id, r3.id], "{name}: upload order");
        assert_eq!(files_on_disk(&store).len(), 2);
        assert!(files_on_disk(&store).iter().all(|(d, f)| att::is_sha256(f) && f.starts_with(d.as_str())));

        // Refused uploads write nothing.
        match att::attach(&t.db, &store, &w.editor, "ip", a, "2026年工作报告.pdf", exe()).await {
            Err(Error::Invalid(f)) => assert!(f.get("file").unwrap().contains("可执行"), "{name}: {f:?}"),
            r => panic!("{name}: forged pdf accepted: {r:?}"),
        }
        let small = FileStore::new(&t.dir).with_max_bytes(1024 * 1024);
        let big = vec![b'a'; 1024 * 1024 + 512 * 1024];
        match att::attach(&t.db, &small, &w.editor, "ip", a, "大文件.txt", big).await {
            Err(Error::Invalid(f)) => {
                assert_eq!(f.get("file"), Some("附件超过 1 MB 上限（本文件 1.5 MB）"), "{name}")
            }
            r => panic!("{name}: {r:?}"),
        }
        let over = vec![b'a'; att::DEFAULT_MAX_BYTES as usize + 1];
        assert!(matches!(att::attach(&t.db, &store, &w.editor, "ip", a, "x.txt", over).await, Err(Error::Invalid(_))));
        assert_eq!(files_on_disk(&store).len(), 2, "{name}");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM item_attachments").await, 3);

        // Detach removes the link only: the shared file and row stay for item b.
        att::detach(&t.db, &w.editor, "ip", r1.id).await.unwrap();
        assert_eq!(att::list(&t.db, a).await.unwrap().len(), 1);
        assert_eq!(att::list(&t.db, b).await.unwrap().len(), 1);
        assert!(store.path_of(&sha).unwrap().is_file());
        assert!(matches!(att::detach(&t.db, &w.editor, "ip", r1.id).await, Err(Error::NotFound)));
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'item.attach'").await, 3, "{name}");
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'item.detach'").await, 1, "{name}");
        assert!(
            count(&t, "SELECT COUNT(*) FROM outbox WHERE topic = 'item.changed' AND payload LIKE '%attach%'").await
                >= 4
        );
        assert_intact(audit::verify(&t.db).await.unwrap(), name);
    }
}

#[tokio::test]
async fn store_paths_cannot_escape_and_writes_are_atomic() {
    let dir = std::env::temp_dir().join(format!("gongkai-att-{}", gongkai_kernel::random_token::<8>()));
    let store = FileStore::new(&dir);
    for bad in [
        "",
        "../../etc/passwd",
        "..",
        "aa/../../../../etc/passwd",
        &"A".repeat(64),
        &format!("{}/", "a".repeat(63)),
        &format!("../{}", "a".repeat(61)),
        &"g".repeat(64),
        &"a".repeat(65),
        &format!("{}\0", "a".repeat(63)),
    ] {
        assert_eq!(store.path_of(bad), None, "{bad:?}");
        assert!(matches!(store.read(bad).await, Err(Error::NotFound)), "{bad:?}");
    }
    let ok = "0f".repeat(32);
    assert_eq!(store.path_of(&ok), Some(dir.join("files").join("0f").join(&ok)));
    // Many concurrent writers of the same content: one final file, no temporary ones.
    let mut handles = Vec::new();
    for _ in 0..8 {
        let s = store.clone();
        handles.push(tokio::spawn(async move { s.put(b"same content".to_vec()).await.unwrap() }));
    }
    let mut shas = Vec::new();
    for h in handles {
        shas.push(h.await.unwrap().0);
    }
    shas.dedup();
    assert_eq!(shas.len(), 1);
    assert_eq!(files_on_disk(&store), vec![(shas[0][..2].to_string(), shas[0].clone())]);
    assert_eq!(store.read(&shas[0]).await.unwrap(), b"same content");
    // A damaged file (wrong size) under the final name is replaced on the next put.
    std::fs::write(store.path_of(&shas[0]).unwrap(), b"same").unwrap();
    store.put(b"same content".to_vec()).await.unwrap();
    assert_eq!(store.read(&shas[0]).await.unwrap(), b"same content");
    assert_eq!(files_on_disk(&store).len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn downloads_count_only_for_live_items_and_scope_is_checked() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t).await;
        let store = FileStore::new(&t.dir);
        let id = draft(&t, &w, "下载计数测试").await;
        let r =
            att::attach(&t.db, &store, &w.editor, "ip", id, "通知.pdf", b"%PDF-1.4\n%%EOF\n".to_vec()).await.unwrap();
        assert_eq!(r.kind_label, "PDF 文档");

        // Draft: the public sees nothing and nothing is counted; staff can preview.
        assert!(!att::count_download(&t.db, r.id).await.unwrap(), "{name}");
        assert!(matches!(att::open_for_download(&t.db, &store, r.id).await, Err(Error::NotFound)));
        let (_, p) = att::open_for_staff(&t.db, &store, &w.editor, r.id).await.unwrap();
        assert_eq!(std::fs::read(p).unwrap(), b"%PDF-1.4\n%%EOF\n");
        att::open_for_staff(&t.db, &store, &w.reviewer, r.id).await.unwrap();

        // An editor of another organisation can neither attach, detach nor preview.
        let private = b"%PDF-1.4\n% outsider\n".to_vec();
        let sha = gongkai_kernel::audit::hex(&Sha256::digest(&private));
        assert!(matches!(
            att::attach(&t.db, &store, &w.outsider, "ip", id, "a.pdf", private).await,
            Err(Error::Forbidden(_))
        ));
        assert!(!store.path_of(&sha).unwrap().exists(), "{name}: nothing written before the permission check");
        assert!(matches!(att::detach(&t.db, &w.outsider, "ip", r.id).await, Err(Error::Forbidden(_))));
        assert!(matches!(att::open_for_staff(&t.db, &store, &w.outsider, r.id).await, Err(Error::Forbidden(_))));
        assert!(matches!(
            att::attach(&t.db, &store, &w.editor, "ip", 999_999, "a.pdf", b"%PDF-1.4".to_vec()).await,
            Err(Error::NotFound)
        ));

        // In review the item is locked: attachments cannot change under the reviewer.
        cms::submit(&t.db, &w.editor, "ip", id, false).await.unwrap();
        assert!(matches!(
            att::attach(&t.db, &store, &w.editor, "ip", id, "b.pdf", b"%PDF-1.5".to_vec()).await,
            Err(Error::Conflict(_))
        ));
        assert!(matches!(att::detach(&t.db, &w.editor, "ip", r.id).await, Err(Error::Conflict(_))));
        cms::approve(&t.db, &w.reviewer, "ip", id, None, "", "").await.unwrap();

        // Live: downloads open and count.
        let (row, path) = att::open_for_download(&t.db, &store, r.id).await.unwrap();
        assert_eq!((row.name.as_str(), row.mime.as_str()), ("通知.pdf", "application/pdf"));
        assert!(path.is_file());
        assert!(att::count_download(&t.db, r.id).await.unwrap());
        assert!(att::count_download(&t.db, r.id).await.unwrap());
        assert!(!att::count_download(&t.db, 999_999).await.unwrap());
        assert_eq!(att::list(&t.db, id).await.unwrap()[0].downloads, 2, "{name}");

        // Withdrawn: gone for the public, count frozen.
        cms::withdraw(&t.db, &w.reviewer, "ip", id, "内容已过时").await.unwrap();
        assert!(!att::count_download(&t.db, r.id).await.unwrap());
        assert!(matches!(att::open_for_download(&t.db, &store, r.id).await, Err(Error::NotFound)));
        assert_eq!(att::list(&t.db, id).await.unwrap()[0].downloads, 2);

        // A row whose file vanished is reported, not served.
        std::fs::remove_file(store.path_of(&r.sha256).unwrap()).unwrap();
        assert!(matches!(att::open_for_staff(&t.db, &store, &w.editor, r.id).await, Err(Error::Internal(_))));
        // Downloads are not audited; the chain stays intact.
        assert_eq!(count(&t, "SELECT COUNT(*) FROM audit_log WHERE action LIKE '%download%'").await, 0);
        assert_intact(audit::verify(&t.db).await.unwrap(), name);
    }
}

// ---------------------------------------------------------------- topics

fn topic_input(site_id: i64, name: &str, slug: &str, opened: &str, closed: &str) -> TopicInput {
    TopicInput {
        site_id: site_id.to_string(),
        name: name.into(),
        slug: slug.into(),
        intro: "<p>专题简介</p><script>alert(1)</script><img src=x onerror=alert(1) alt=\"题图\">".into(),
        opened_on: opened.into(),
        closed_on: closed.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn topics_are_validated_edited_optimistically_and_closed() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t).await;
        let mut input = topic_input(w.site_id, "优化营商环境", "yshj", "2026-01-10", "");
        let tp = topics::create_topic(&t.db, &w.editor, "ip", &input).await.unwrap();
        assert!(!tp.intro.contains("<script") && !tp.intro.contains("onerror"), "{name}: intro sanitised");
        assert!(tp.intro.contains("专题简介"));
        assert_eq!((tp.opened_on.as_str(), tp.closed_on.as_deref()), ("2026-01-10", None));

        // Field-level refusals through the service.
        let bad = topic_input(w.site_id, "", "A_B", "2026-13-01", "2026-01-01");
        match topics::create_topic(&t.db, &w.editor, "ip", &bad).await {
            Err(Error::Invalid(f)) => {
                for field in ["name", "slug", "opened_on"] {
                    assert!(f.get(field).is_some(), "{name}: {field} {f:?}");
                }
            }
            r => panic!("{name}: {r:?}"),
        }
        match topics::create_topic(
            &t.db,
            &w.editor,
            "ip",
            &topic_input(w.site_id, "x", "xy", "2026-03-01", "2026-02-01"),
        )
        .await
        {
            Err(Error::Invalid(f)) => assert!(f.get("closed_on").unwrap().contains("早于"), "{name}"),
            r => panic!("{name}: {r:?}"),
        }
        match topics::create_topic(&t.db, &w.editor, "ip", &input).await {
            Err(Error::Invalid(f)) => assert!(f.get("slug").unwrap().contains("相同代号"), "{name}"),
            r => panic!("{name}: duplicate slug {r:?}"),
        }
        // The same slug on another site is fine, and the outsider may run topics on their own
        // bureau's site but not on the portal.
        let own = topics::create_topic(
            &t.db,
            &w.outsider,
            "ip",
            &topic_input(w.jyj_site_id, "双减专题", "yshj", "2026-02-01", ""),
        )
        .await
        .unwrap();
        input.slug = "yshj-2".into();
        assert!(matches!(topics::create_topic(&t.db, &w.outsider, "ip", &input).await, Err(Error::Forbidden(_))));

        // Optimistic edits: the form carries the updated_at it was loaded with.
        let mut edit = topic_input(w.site_id, "优化营商环境专题", "yshj", "2026-01-10", "");
        edit.updated_at = tp.updated_at.to_string();
        let saved = topics::update_topic(&t.db, &w.editor, "ip", tp.id, &edit).await.unwrap();
        assert_eq!(saved.name, "优化营商环境专题");
        assert!(saved.updated_at > tp.updated_at);
        edit.name = "另一人的修改".into();
        assert!(
            matches!(topics::update_topic(&t.db, &w.editor, "ip", tp.id, &edit).await, Err(Error::Conflict(_))),
            "{name}: stale save refused"
        );
        assert_eq!(topics::topic(&t.db, tp.id).await.unwrap().unwrap().name, "优化营商环境专题");
        edit.updated_at = String::new();
        assert!(matches!(topics::update_topic(&t.db, &w.editor, "ip", tp.id, &edit).await, Err(Error::Invalid(_))));
        edit.updated_at = saved.updated_at.to_string();
        assert!(matches!(topics::update_topic(&t.db, &w.outsider, "ip", tp.id, &edit).await, Err(Error::Forbidden(_))));

        // Items and columns.
        let live = draft(&t, &w, "专题中的已发布信息").await;
        publish(&t, &w, live).await;
        let newer = draft(&t, &w, "专题中较新的信息").await;
        publish(&t, &w, newer).await;
        let unpublished = draft(&t, &w, "专题中的草稿").await;
        for id in [live, newer, unpublished] {
            assert!(topics::add_item(&t.db, &w.editor, "ip", tp.id, id).await.unwrap());
        }
        assert!(!topics::add_item(&t.db, &w.editor, "ip", tp.id, live).await.unwrap(), "adding twice changes nothing");
        assert!(matches!(topics::add_item(&t.db, &w.editor, "ip", tp.id, 999_999).await, Err(Error::Invalid(_))));
        assert!(matches!(topics::add_item(&t.db, &w.outsider, "ip", tp.id, live).await, Err(Error::Forbidden(_))));
        let shown: Vec<i64> = topics::topic_items(&t.db, tp.id, 10).await.unwrap().iter().map(|i| i.id).collect();
        assert_eq!(shown, vec![newer, live], "{name}: live only, newest first");
        assert_eq!(topics::topic_items(&t.db, tp.id, 1).await.unwrap().len(), 1);
        assert!(topics::remove_item(&t.db, &w.editor, "ip", tp.id, newer).await.unwrap());
        assert!(!topics::remove_item(&t.db, &w.editor, "ip", tp.id, newer).await.unwrap());
        assert_eq!(topics::topic_items(&t.db, tp.id, 10).await.unwrap().len(), 1);
        assert!(topics::add_column(&t.db, &w.editor, "ip", tp.id, w.column).await.unwrap());
        match topics::add_column(&t.db, &w.editor, "ip", tp.id, w.jyj_column).await {
            Err(Error::Invalid(f)) => assert!(f.get("column_id").is_some()),
            r => panic!("{name}: column of another site: {r:?}"),
        }
        assert_eq!(topics::topic_columns(&t.db, tp.id).await.unwrap().len(), 1);
        assert!(topics::remove_column(&t.db, &w.editor, "ip", tp.id, w.column).await.unwrap());
        assert!(topics::topic_columns(&t.db, tp.id).await.unwrap().is_empty());
        // Membership changes bump the edit token, so a form loaded before them is stale.
        let current = topics::topic(&t.db, tp.id).await.unwrap().unwrap();
        assert!(current.updated_at > saved.updated_at);

        // Closing.
        assert!(matches!(
            topics::close_topic(&t.db, &w.editor, "ip", tp.id, "2026-01-09").await,
            Err(Error::Invalid(_))
        ));
        assert!(matches!(topics::close_topic(&t.db, &w.editor, "ip", tp.id, "明天").await, Err(Error::Invalid(_))));
        assert!(matches!(
            topics::close_topic(&t.db, &w.outsider, "ip", tp.id, "2026-06-30").await,
            Err(Error::Forbidden(_))
        ));
        let closed = topics::close_topic(&t.db, &w.editor, "ip", tp.id, "2026-06-30").await.unwrap();
        assert_eq!(closed.closed_on.as_deref(), Some("2026-06-30"));
        assert!(matches!(
            topics::close_topic(&t.db, &w.editor, "ip", tp.id, "2026-07-01").await,
            Err(Error::Conflict(_))
        ));
        let listed = topics::list_topics(&t.db, w.site_id).await.unwrap();
        assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), vec![tp.id], "{name}");
        assert_eq!(topics::list_topics(&t.db, w.jyj_site_id).await.unwrap()[0].id, own.id);
        for action in ["topic.create", "topic.update", "topic.add_item", "topic.remove_column", "topic.close"] {
            let n = count(&t, &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'")).await;
            assert!(n >= 1, "{name}: {action} audited");
        }
        assert_eq!(
            count(&t, "SELECT COUNT(*) FROM audit_log WHERE action = 'topic.add_item'").await,
            3,
            "{name}: a no-op add is not audited"
        );
        assert!(count(&t, "SELECT COUNT(*) FROM outbox WHERE topic = 'topic.changed'").await >= 10);
        assert_intact(audit::verify(&t.db).await.unwrap(), name);
    }
}

#[tokio::test]
async fn topic_counts_per_year() {
    for t in testkit::backends().await {
        let name = t.backend_name();
        let w = world(&t).await;
        // (site, opened_on, closed_on)
        let topics_table = [
            (w.site_id, "2022-05-05", "2024-01-01"),
            (w.site_id, "2023-03-01", "2023-12-31"),
            (w.site_id, "2024-01-01", ""),
            (w.site_id, "2024-06-30", "2025-01-01"),
            (w.site_id, "2025-12-31", "2025-12-31"),
            (w.jyj_site_id, "2024-12-31", "2025-01-01"),
        ];
        for (i, (site, opened, closed)) in topics_table.iter().enumerate() {
            let input = topic_input(*site, &format!("专题{i}"), &format!("zt-{i}"), opened, closed);
            topics::create_topic(&t.db, &w.editor, "ip", &input).await.unwrap();
        }
        // year → (new, maintained) district-wide, and for the portal alone
        let expected = [
            (2021, (0, 0), (0, 0)),
            (2022, (1, 1), (1, 1)),
            (2023, (1, 2), (1, 2)),
            (2024, (3, 4), (2, 3)),
            (2025, (1, 4), (1, 3)),
            (2026, (0, 1), (0, 1)),
        ];
        for (year, all, portal) in expected {
            assert_eq!(topics::topic_counts(&t.db, year).await.unwrap(), all, "{name}: {year}");
            assert_eq!(topics::topic_counts_for_site(&t.db, year, w.site_id).await.unwrap(), portal, "{name}: {year}");
        }
    }
}
