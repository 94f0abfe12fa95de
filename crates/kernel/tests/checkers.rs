//! The outside checkers really check: axe-core finds the faults of a broken page in
//! Chromium, vnu rejects invalid HTML and passes valid HTML, feedparser flags a broken feed.
//! Each test skips with a note when its tool is missing, unless GONGKAI_REQUIRE_CHECKERS
//! (or, for the browser, GONGKAI_REQUIRE_BROWSER) is set.

use gongkai_kernel::testkit::browser::Driver;
use gongkai_kernel::testkit::checkers;

const VALID: &str = r#"<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>清河区人民政府</title></head>
<body>
<header><a href="/">首页</a></header>
<main>
<h1>政务公开</h1>
<p>各部门：为提升政务公开工作水平，定于近期开展培训。</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="区政府大楼" width="1" height="1">
<form action="/search"><label for="q">搜索</label> <input id="q" name="q"> <button type="submit">搜索</button></form>
</main>
</body>
</html>
"#;

/// No alternative text, an empty button, an unlabeled input, no language and no title (for
/// axe), and duplicate ids (axe-core 4.x leaves those to HTML validation: vnu).
const BROKEN: &str = r#"<!DOCTYPE html>
<html>
<head><meta charset="utf-8"></head>
<body>
<main>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="40" height="40">
<button type="button"></button>
<input type="text">
<span id="dup">甲</span><span id="dup">乙</span>
<div role="region" aria-labelledby="dup">内容</div>
</main>
</body>
</html>
"#;

fn page_file(name: &str, html: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gongkai-checkers-{}", gongkai_kernel::random_token::<6>()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, html).unwrap();
    p
}

#[tokio::test]
async fn axe_reports_the_faults_of_a_broken_page_and_passes_a_clean_one() {
    if checkers::axe_js().is_none() {
        return;
    }
    let Some(d) = Driver::start().await else { return };
    let good = page_file("good.html", VALID);
    let bad = page_file("bad.html", BROKEN);

    d.goto(&format!("file://{}", good.display())).await;
    let all = checkers::assert_axe_clean(&d, "valid page").await.expect("axe ran");
    assert!(all.iter().all(|v| !v.is_serious()), "{}", checkers::format_violations(&all));

    d.goto(&format!("file://{}", bad.display())).await;
    d.screenshot("checkers-broken-page").await;
    let v = checkers::axe(&d).await.expect("axe ran");
    let ids: Vec<&str> = v.iter().map(|x| x.id.as_str()).collect();
    for rule in ["image-alt", "button-name", "label", "html-has-lang", "document-title"] {
        assert!(ids.contains(&rule), "axe missed {rule}; found:\n{}", checkers::format_violations(&v));
    }
    let img = v.iter().find(|x| x.id == "image-alt").unwrap();
    assert_eq!(img.impact.as_deref(), Some("critical"));
    assert_eq!(img.nodes[0].target, vec!["img".to_string()]);

    // The assertion helper fails on that page and names the rules it found.
    let h = tokio::spawn(async move {
        checkers::assert_axe_clean(&d, "broken page").await;
    });
    let err = h.await.expect_err("assert_axe_clean must fail on the broken page");
    let msg = err.into_panic().downcast::<String>().map(|s| *s).unwrap_or_default();
    assert!(msg.contains("image-alt") && msg.contains("button-name"), "{msg}");
    let _ = std::fs::remove_dir_all(good.parent().unwrap());
    let _ = std::fs::remove_dir_all(bad.parent().unwrap());
}

#[test]
fn vnu_rejects_misnested_html_and_accepts_a_valid_page() {
    let invalid = VALID.replace("<p>各部门", "<p><div>各部门").replace("培训。</p>", "培训。</p></div>");
    let Some(r) = checkers::vnu_many(&[("invalid", invalid.as_str()), ("valid", VALID), ("broken", BROKEN)]) else {
        return;
    };
    assert_eq!(r[0].0, "invalid");
    assert!(r[0].1.iter().any(|e| e.contains("“p”")), "{:?}", r[0].1);
    assert_eq!(r[1], ("valid".to_string(), vec![]));
    assert!(r[2].1.iter().any(|e| e.contains("Duplicate ID “dup”")), "{:?}", r[2].1);
    assert!(r[2].1.iter().any(|e| e.contains("“alt”")), "{:?}", r[2].1);

    let errs = checkers::vnu("<!DOCTYPE html><html lang=zh><title>x</title><p><div></p>").expect("vnu ran");
    assert!(errs.iter().any(|e| e.contains("No “p” element in scope")), "{errs:?}");

    let failed = std::panic::catch_unwind(|| checkers::assert_valid_html(&[("bad.html", "<p>no doctype")]));
    let msg = failed.expect_err("invalid HTML must fail").downcast::<String>().map(|s| *s).unwrap_or_default();
    assert!(msg.contains("bad.html") && msg.contains("doctype"), "{msg}");
}

#[test]
fn feedparser_reads_a_valid_feed_and_flags_a_broken_one() {
    let rss = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>清河区人民政府 通知公告</title><link>https://www.example.invalid/tzgg/</link><description>通知公告</description>
<item><title>关于开展2026年度政务公开培训的通知</title><link>https://www.example.invalid/tzgg/1.html</link>
<guid>https://www.example.invalid/tzgg/1.html</guid><pubDate>Mon, 02 Mar 2026 09:00:00 +0800</pubDate>
<description>各部门：定于近期开展培训。</description></item>
</channel></rss>"#;
    let Some(feed) = checkers::feedparser(rss.as_bytes()) else { return };
    assert!(!feed.bozo, "{:?}", feed.bozo_exception);
    assert_eq!(feed.version, "rss20");
    assert_eq!(feed.title, "清河区人民政府 通知公告");
    assert_eq!(feed.entries.len(), 1);
    assert_eq!(feed.entries[0].title, "关于开展2026年度政务公开培训的通知");
    assert_eq!(feed.entries[0].link, "https://www.example.invalid/tzgg/1.html");

    let broken = rss.replace(
        "</title><link>https://www.example.invalid/tzgg/1.html",
        "<link>https://www.example.invalid/tzgg/1.html",
    );
    let feed = checkers::feedparser(broken.as_bytes()).expect("feedparser ran");
    assert!(feed.bozo, "a mismatched tag must set bozo");
    assert!(feed.bozo_exception.is_some());
}

#[test]
fn schemathesis_is_installed_beside_the_checkers_python() {
    let Some(st) = checkers::schemathesis() else { return };
    let out = std::process::Command::new(&st).arg("--version").output().expect("run schemathesis");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("schemathesis, version "));
}
