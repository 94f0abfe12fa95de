//! `gongkai export-static`: the demo district's sites exported into a temporary folder, then
//! checked as a static web server would serve them — every relative link and asset of every
//! HTML page resolves to a file of the export, every live item (and no other) is there,
//! feeds and sitemaps parse and point at exported files, attachments are copied, and a
//! re-export replaces the folder without leaving stale pages.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gongkai_kernel::testkit::{self, TestDb, checkers};
use gongkai_kernel::with_conn;
use gongkai_portal::export::{self, ExportReport};

const BASE_URL: &str = "https://www.example.gov.cn";

async fn scalar(t: &TestDb, sql: String) -> i64 {
    let mut h = t.db.read().await.unwrap();
    with_conn!(&mut h.conn(), x => {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone())).fetch_one(&mut **x).await
    })
    .unwrap()
}

async fn ids(t: &TestDb, sql: String) -> BTreeSet<i64> {
    let mut h = t.db.read().await.unwrap();
    with_conn!(&mut h.conn(), x => {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.clone())).fetch_all(&mut **x).await
    })
    .unwrap()
    .into_iter()
    .collect()
}

async fn run(t: &TestDb, site: &str, dir: &Path) -> (ExportReport, Vec<(usize, usize)>) {
    let mut calls = Vec::new();
    let report = export::export_site(&t.db, &t.config(), site, dir, BASE_URL, |d, n| calls.push((d, n)))
        .await
        .unwrap_or_else(|e| panic!("export of {site}: {e}"));
    (report, calls)
}

/// An attachment on a live item of the site, stored as the library stores one; returns
/// (item id, item_attachments id, bytes).
async fn add_attachment(t: &TestDb, site: &str, name: &str) -> (i64, i64, Vec<u8>) {
    let item = scalar(
        t,
        format!(
            "SELECT MIN(s.item_id) FROM pub_site_items s JOIN sites x ON x.id = s.site_id
              WHERE x.code = '{site}' AND s.disclosure = TRUE"
        ),
    )
    .await;
    let bytes = b"%PDF-1.4\n% export test: budget table\n%%EOF\n".to_vec();
    let files = gongkai_cms::attachments::FileStore::new(&t.dir);
    let (sha, size) = files.put(bytes.clone()).await.unwrap();
    let mut tx = t.db.begin().await.unwrap();
    let id: i64 = with_conn!(&mut tx.conn(), x => {
        sqlx::query(
            "INSERT INTO attachments (sha256, size, mime, created_at) VALUES ($1, $2, 'application/pdf', 0)
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&sha).bind(size as i64).execute(&mut **x).await.unwrap();
        let a: i64 = sqlx::query_scalar("SELECT id FROM attachments WHERE sha256 = $1")
            .bind(&sha).fetch_one(&mut **x).await.unwrap();
        sqlx::query_scalar(
            "INSERT INTO item_attachments (item_id, attachment_id, name, sort_order)
             VALUES ($1, $2, $3, 99) RETURNING id",
        )
        .bind(item).bind(a).bind(name).fetch_one(&mut **x).await
    })
    .unwrap();
    tx.commit().await.unwrap();
    (item, id, bytes)
}

// ---------------------------------------------------------------- reading the export

fn files_under(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..end];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => ent
                .strip_prefix("#x")
                .or_else(|| ent.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The URL-valued attributes (`href`, `src`, `action`) of every start tag, in document order.
/// A small HTML tokenizer: comments, doctype, and the content of `<script>`/`<style>` are
/// skipped; attribute values may be double-, single- or unquoted.
fn url_attributes(html: &str) -> Vec<(String, String)> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        if html[i..].starts_with("<!--") {
            i = html[i..].find("-->").map(|e| i + e + 3).unwrap_or(b.len());
            continue;
        }
        if i + 1 >= b.len() || !(b[i + 1].is_ascii_alphabetic()) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-') {
            j += 1;
        }
        let tag = html[i + 1..j].to_ascii_lowercase();
        // Attributes up to the closing '>'.
        loop {
            while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b'/') {
                j += 1;
            }
            if j >= b.len() || b[j] == b'>' {
                break;
            }
            let start = j;
            while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/') {
                j += 1;
            }
            let name = html[start..j].to_ascii_lowercase();
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let mut value = None;
            if j < b.len() && b[j] == b'=' {
                j += 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
                    let q = b[j];
                    let end = html[j + 1..].find(q as char).map(|e| j + 1 + e).unwrap_or(b.len());
                    value = Some(&html[j + 1..end]);
                    j = (end + 1).min(b.len());
                } else {
                    let s = j;
                    while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                        j += 1;
                    }
                    value = Some(&html[s..j]);
                }
            }
            if let Some(v) = value
                && matches!(name.as_str(), "href" | "src" | "action")
            {
                out.push((format!("<{tag} {name}>"), decode_entities(v)));
            }
        }
        i = j + 1;
        if tag == "script" || tag == "style" {
            let close = format!("</{tag}");
            i = html[i.min(b.len())..].to_ascii_lowercase().find(&close).map(|e| i + e).unwrap_or(b.len());
        }
    }
    out
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[derive(Default)]
struct Links {
    checked: usize,
    external: usize,
    /// Links to a folder ("../../"): they work behind a web server (its index file), not
    /// from a folder opened in a browser.
    directory: BTreeSet<String>,
    broken: Vec<String>,
}

/// Where a relative URL written in `from` (a file relative to the export root) leads, as a
/// static web server resolves it; Err says why it cannot work in a static export.
fn resolve(root: &Path, from: &str, url: &str) -> Result<Option<(PathBuf, bool)>, &'static str> {
    let url = url.trim();
    if url.is_empty() {
        return Err("empty link");
    }
    if url.starts_with('#') {
        return Ok(None);
    }
    if url.starts_with("//") {
        return Ok(None);
    }
    let scheme_end = url.find(':').filter(|i| !url[..*i].contains(['/', '?', '#']));
    if let Some(i) = scheme_end {
        return match url[..i].to_ascii_lowercase().as_str() {
            "http" | "https" | "mailto" | "tel" => Ok(None),
            _ => Err("scheme not allowed in a static export"),
        };
    }
    let url = url.split('#').next().unwrap_or("");
    if url.contains('?') {
        return Err("query string: a static web server ignores it and serves the same file");
    }
    if url.starts_with('/') {
        return Err("root-absolute path: breaks when the export is not served at the host root");
    }
    let path = percent_decode(url).ok_or("bad percent-encoding")?;
    let mut segs: Vec<String> = from.split('/').map(str::to_string).collect();
    segs.pop(); // the file itself
    for s in path.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                segs.pop().ok_or("leaves the export folder")?;
            }
            s => segs.push(s.to_string()),
        }
    }
    let mut target = root.to_path_buf();
    for s in &segs {
        target.push(s);
    }
    let dir = path.ends_with('/') || path.is_empty() || target.is_dir();
    if dir {
        target.push("index.html");
    }
    Ok(Some((target, dir)))
}

fn check_links(root: &Path, html_files: &[String]) -> Links {
    let mut links = Links::default();
    for f in html_files {
        let html = std::fs::read_to_string(root.join(f)).unwrap();
        for (attr, url) in url_attributes(&html) {
            links.checked += 1;
            match resolve(root, f, &url) {
                Ok(None) => links.external += 1,
                Ok(Some((target, dir))) => {
                    if !target.is_file() {
                        links.broken.push(format!("{f}: {attr} {url:?} → {} does not exist", target.display()));
                    } else if dir {
                        links.directory.insert(format!("{attr} {url}"));
                    }
                }
                Err(why) => links.broken.push(format!("{f}: {attr} {url:?}: {why}")),
            }
        }
    }
    links
}

/// The exported file an absolute URL of the site (feeds, sitemaps) is answered from.
fn file_of(root: &Path, url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix(BASE_URL)?;
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.contains('?') {
        return None;
    }
    let p = root.join(percent_decode(path)?);
    Some(if path.is_empty() || path.ends_with('/') { p.join("index.html") } else { p })
}

fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open).skip(1).filter_map(|s| s.split(&close).next()).map(decode_entities).collect()
}

/// Broken links grouped by the folder of the page and the reason, a few examples each, so
/// every kind of defect shows in the failure message.
fn link_report(what: &str, broken: &[String]) -> String {
    let mut groups: std::collections::BTreeMap<String, Vec<&String>> = std::collections::BTreeMap::new();
    for b in broken {
        let page = b.split(':').next().unwrap_or("");
        let dir = page.rsplit_once('/').map(|(d, _)| d).unwrap_or("(root)");
        let why = if b.ends_with("does not exist") {
            "target missing"
        } else {
            b.rsplit_once("\": ").map(|(_, w)| w).unwrap_or("")
        };
        groups.entry(format!("{dir}/…: {why}")).or_default().push(b);
    }
    let mut out = format!("{} {what}, {} kinds:\n", broken.len(), groups.len());
    for (k, v) in &groups {
        out.push_str(&format!("- {} × {k}\n", v.len()));
        for b in v.iter().take(4) {
            out.push_str(&format!("    {b}\n"));
        }
    }
    out
}

fn fail_list(what: &str, v: &[String]) -> String {
    let shown: Vec<&String> = v.iter().take(60).collect();
    format!("{} {what}:\n{}", v.len(), shown.iter().map(|s| format!("  {s}")).collect::<Vec<_>>().join("\n"))
}

// ---------------------------------------------------------------- the test

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_sites_export_with_every_link_resolving() {
    let t = testkit::sqlite().await;
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    gongkai_cms::demo::seed(&t.db).await.unwrap();
    let att_name = "2025年 部门预算公开表（草案）.pdf";
    let (att_item, att_id, att_bytes) = add_attachment(&t, "www", att_name).await;

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("www");
    let (report, calls) = run(&t, "www", &out).await;
    eprintln!("{}", report.to_zh());
    let files = files_under(&out);

    // Progress: from 0 to every job, once each.
    let total = calls.last().map(|c| c.1).unwrap_or(0);
    assert_eq!(calls.first(), Some(&(0, total)));
    assert_eq!(calls.last(), Some(&(total, total)));
    assert_eq!(calls.len(), total + 1);
    assert_eq!(
        total,
        report.pages + report.feeds + report.documents + report.assets + report.attachments + report.skipped.len()
    );
    assert!(report.skipped.is_empty(), "{}", fail_list("skipped", &report.skipped));

    // Exactly the live items of the site, each with its plain-text page; nothing withdrawn or draft.
    let site_id = scalar(&t, "SELECT id FROM sites WHERE code = 'www'".into()).await;
    let live = ids(&t, format!("SELECT item_id FROM pub_site_items WHERE site_id = {site_id}")).await;
    assert!(live.len() > 100, "{} live items", live.len());
    let exported: BTreeSet<i64> =
        files.iter().filter_map(|f| f.strip_prefix("art/")?.strip_suffix(".html")?.parse().ok()).collect();
    assert_eq!(exported, live, "the export holds exactly the site's live items");
    assert_eq!(report.items, live.len());
    for id in &live {
        assert!(out.join(format!("art/{id}_text.html")).is_file(), "art/{id}_text.html");
    }
    let gone = ids(&t, "SELECT id FROM items WHERE live = FALSE".into()).await;
    assert!(!gone.is_empty(), "the demo has drafts and withdrawn items");
    assert!(gone.iter().all(|id| !out.join(format!("art/{id}.html")).exists()), "nothing unpublished is exported");
    let marker = std::fs::read_to_string(out.join(export::MARKER)).unwrap();
    assert!(marker.contains("site=www") && marker.contains(BASE_URL), "{marker}");

    // Every section page, feed and discovery document is there.
    for f in [
        "index.html",
        "rss.xml",
        "atom.xml",
        "sitemap.xml",
        "robots.txt",
        "zfxxgk/index.html",
        "zfxxgk/gkzn.html",
        "zfxxgk/gkzd/index.html",
        "zfxxgk/gknb/index.html",
        "zfxxgk/ysqgk.html",
        "zfxxgk/bzh/index.html",
        "zfxxgk/fdzdgk/index.html",
        "col/yw/index.html",
        "col/yw/rss.xml",
        "theme/portal.css",
        "theme/emblem.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing; files: {files:?}");
    }
    let listed =
        scalar(&t, format!("SELECT COUNT(*) FROM pub_site_items WHERE site_id = {site_id} AND disclosure = TRUE"))
            .await;
    let catalogue_pages = files.iter().filter(|f| f.starts_with("zfxxgk/fdzdgk/")).count() as i64;
    assert_eq!(catalogue_pages, ((listed + 19) / 20).max(1), "one file per unfiltered catalogue page");
    assert!(files.iter().any(|f| f.starts_with("zfxxgk/bzh/") && f != "zfxxgk/bzh/index.html"), "standard entries");
    assert!(files.iter().any(|f| f.starts_with("topic/")), "topics");
    let portal = gongkai_portal::Portal::new(t.db.clone(), &t.config());
    for name in portal.themes.asset_names("default") {
        let (bytes, _) = portal.themes.asset("default", &name).unwrap();
        assert_eq!(std::fs::read(out.join("theme").join(&name)).unwrap(), bytes, "theme/{name}");
    }

    // The attachment is copied under the name the item page links to.
    let copied = out.join(format!("files/{att_id}/{att_name}"));
    assert_eq!(std::fs::read(&copied).unwrap(), att_bytes);
    let page = std::fs::read_to_string(out.join(format!("art/{att_item}.html"))).unwrap();
    assert!(page.contains(&format!("../files/{att_id}/")), "the item page links its attachment");

    // No page offers what only the server can do.
    let html: Vec<String> = files.iter().filter(|f| f.ends_with(".html")).cloned().collect();
    for f in &html {
        let s = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(!s.contains("/care?"), "{f}: 关怀模式 switch in a static page");
        assert!(!s.contains("<form"), "{f}: a form in a static page");
    }

    // Every link and asset of every page resolves to an exported file.
    let links = check_links(&out, &html);
    eprintln!(
        "www: {} HTML files, {} URLs checked ({} external); {} distinct links to a folder \
         (need the server's index file): {:?}",
        html.len(),
        links.checked,
        links.external,
        links.directory.len(),
        links.directory
    );
    assert!(links.checked > html.len() * 10, "the tokenizer found the links");
    // Asserted last, so that every other check runs and reports too.
    let www_broken = links.broken;

    // Feeds parse, and each entry links to an exported page.
    let feeds: Vec<&String> = files.iter().filter(|f| f.ends_with("rss.xml") || f.ends_with("atom.xml")).collect();
    assert_eq!(feeds.len(), report.feeds);
    let mut parsed = 0;
    for f in &feeds {
        let bytes = std::fs::read(out.join(f)).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        for l in xml_values(&text, "link").iter().filter(|l| l.starts_with("http")) {
            let target = file_of(&out, l).unwrap_or_else(|| panic!("{f}: link {l} is not on {BASE_URL}"));
            assert!(target.is_file(), "{f}: {l} → {} missing", target.display());
        }
        if let Some(feed) = checkers::feedparser(&bytes) {
            assert!(!feed.bozo, "{f}: {:?}", feed.bozo_exception);
            let want = if f.ends_with("rss.xml") { "rss20" } else { "atom10" };
            assert_eq!(feed.version, want, "{f}");
            for e in &feed.entries {
                let target = file_of(&out, &e.link).unwrap_or_else(|| panic!("{f}: entry link {}", e.link));
                assert!(target.is_file(), "{f}: entry {} → missing", e.link);
            }
            parsed += 1;
        }
    }
    eprintln!("feedparser read {parsed} of {} feeds", feeds.len());

    // The sitemap lists exported pages only, and robots.txt points at it.
    let sitemap = std::fs::read_to_string(out.join("sitemap.xml")).unwrap();
    let locs = xml_values(&sitemap, "loc");
    assert!(locs.len() > live.len(), "{} locations", locs.len());
    for l in &locs {
        let target = file_of(&out, l).unwrap_or_else(|| panic!("sitemap: {l} is not on {BASE_URL}"));
        assert!(target.is_file(), "sitemap: {l} → {} missing", target.display());
    }
    let robots = std::fs::read_to_string(out.join("robots.txt")).unwrap();
    assert!(robots.contains(&format!("Sitemap: {BASE_URL}/sitemap.xml")), "{robots}");

    // A department site (standard catalogue scoped to its organisation) exports cleanly too.
    let jyj = tmp.path().join("jyj");
    let (r, _) = run(&t, "jyj", &jyj).await;
    assert!(r.items > 10 && r.skipped.is_empty(), "{}", r.to_zh());
    let jfiles = files_under(&jyj);
    let jhtml: Vec<String> = jfiles.iter().filter(|f| f.ends_with(".html")).cloned().collect();
    let jyj_broken = check_links(&jyj, &jhtml).broken;

    // Re-export into the same folder: replaced as a whole, so a page of an item withdrawn in
    // the meantime (here: a stray file) does not survive.
    std::fs::write(out.join("art/999999.html"), "stale").unwrap();
    let (again, _) = run(&t, "www", &out).await;
    assert_eq!(again.items, report.items);
    assert!(!out.join("art/999999.html").exists(), "a re-export leaves no stale page");
    assert!(out.join("index.html").is_file());

    // A folder that is neither empty nor an earlier export is refused and left alone.
    let foreign = tmp.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("keep.txt"), "mine").unwrap();
    let err = export::export_site(&t.db, &t.config(), "www", &foreign, BASE_URL, |_, _| {}).await.unwrap_err();
    assert!(err.to_string().contains("不为空"), "{err}");
    assert_eq!(std::fs::read_to_string(foreign.join("keep.txt")).unwrap(), "mine");
    assert_eq!(files_under(&foreign), vec!["keep.txt".to_string()]);

    // Unknown site, bad base URL: refused with a message, nothing written.
    let err = export::export_site(&t.db, &t.config(), "nope", &tmp.path().join("x"), BASE_URL, |_, _| {}).await;
    assert!(err.unwrap_err().to_string().contains("不存在"));
    let err =
        export::export_site(&t.db, &t.config(), "www", &tmp.path().join("x"), "www.example.gov.cn", |_, _| {}).await;
    assert!(err.is_err());
    assert!(!tmp.path().join("x").exists());

    // No staging folder is left behind.
    let mut left: Vec<String> =
        std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, vec!["foreign", "jyj", "www"]);

    assert!(www_broken.is_empty(), "{}", link_report("broken links in the www export", &www_broken));
    assert!(jyj_broken.is_empty(), "{}", link_report("broken links in the jyj export", &jyj_broken));
}

#[test]
fn the_link_checker_catches_what_a_static_server_cannot_serve() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("col/yw")).unwrap();
    std::fs::create_dir_all(root.join("art")).unwrap();
    std::fs::write(root.join("col/yw/index.html"), "x").unwrap();
    std::fs::write(root.join("art/1.html"), "x").unwrap();
    std::fs::write(root.join("index.html"), "x").unwrap();
    let page = r##"<!doctype html><html><head><link rel="stylesheet" href='../../theme/portal.css'>
        <script>var a = "<a href='nope.html'>";</script><!-- <a href="commented.html"> --></head>
        <body><a href="../../art/1.html#top">ok</a> <a href=../../art/1.html>unquoted</a>
        <a href="../../">home</a> <a class=x href="../../art/2.html">missing</a>
        <a href="../../zfxxgk/fdzdgk/?page=2">query</a> <a href="/art/1.html">absolute</a>
        <a href="../../../../etc/passwd">escape</a> <a href="https://x.gov.cn/">ext</a> <a href="#main">anchor</a>
        <a href="mailto:a@b.cn">mail</a> <a href="javascript:alert(1)">js</a> <img src="../../art/1.html?v=1" alt="">
        <a href="../../col/yw/index.html?x=1&amp;y=2">entity</a> <a href="">empty</a></body></html>"##;
    std::fs::write(root.join("col/yw/index_2.html"), page).unwrap();
    let links = check_links(root, &["col/yw/index_2.html".to_string()]);
    let broken = links.broken.join("\n");
    for want in [
        "theme/portal.css",
        "art/2.html",
        "?page=2",
        "\"/art/1.html\"",
        "etc/passwd",
        "javascript:",
        "?v=1",
        "?x=1&y=2",
        "\"\": empty",
    ] {
        assert!(broken.contains(want), "{want} not reported in:\n{broken}");
    }
    assert!(!broken.contains("nope.html") && !broken.contains("commented.html"), "{broken}");
    assert_eq!(links.broken.len(), 9, "{broken}");
    assert_eq!(links.external, 3, "https, #anchor, mailto");
    assert_eq!(links.directory.len(), 1, "{:?}", links.directory);
}
