//! Outside checkers for tests: axe-core (accessibility, in the browser), the Nu HTML
//! Checker (vnu, HTML conformance) and Python's feedparser (RSS/Atom). They are installed
//! from `tools/` (`npm ci --prefix tools`, a venv with `tools/requirements.txt`); the
//! environment may point elsewhere:
//!
//! - `GONGKAI_AXE_JS`: axe.min.js (default `<repo>/tools/node_modules/axe-core/axe.min.js`)
//! - `GONGKAI_VNU_JAR`: vnu.jar (default `<repo>/tools/node_modules/vnu-jar/build/dist/vnu.jar`),
//!   run with `java` from PATH
//! - `GONGKAI_PYTHON`: a Python with feedparser and schemathesis (default `<repo>/tools/.venv/bin/python`)
//!
//! A missing checker makes its helper print a note and return None, so a developer without
//! the tools still runs the rest; `GONGKAI_REQUIRE_CHECKERS=1` (set by `.ci/run`) turns that
//! into a failure. A checker that is present but breaks always fails the test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::Value;

/// The workspace root (the directory holding `tools/`).
pub fn repo_root() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    p.canonicalize().unwrap_or(p)
}

/// Whether a missing checker is a failure (`GONGKAI_REQUIRE_CHECKERS` set, not empty or 0).
pub fn required() -> bool {
    std::env::var("GONGKAI_REQUIRE_CHECKERS").is_ok_and(|v| !v.trim().is_empty() && v.trim() != "0")
}

/// Report a missing checker: a failure when required, else a note on stderr.
fn missing<T>(what: &str, detail: &str) -> Option<T> {
    let how = "install the checkers: npm ci --prefix tools; python3 -m venv tools/.venv && \
               tools/.venv/bin/pip install -r tools/requirements.txt; a Java runtime for vnu";
    assert!(!required(), "checker {what} is missing ({detail}) but GONGKAI_REQUIRE_CHECKERS is set; {how}");
    eprintln!("checker {what} not run: {detail} ({how})");
    None
}

fn tool_path(env: &str, default: &str) -> PathBuf {
    std::env::var_os(env).filter(|v| !v.is_empty()).map(PathBuf::from).unwrap_or_else(|| repo_root().join(default))
}

fn existing(what: &str, env: &str, default: &str) -> Option<PathBuf> {
    let p = tool_path(env, default);
    if p.exists() { Some(p) } else { missing(what, &format!("{} does not exist (set {env})", p.display())) }
}

/// axe-core's axe.min.js, if present.
pub fn axe_js() -> Option<PathBuf> {
    existing("axe-core", "GONGKAI_AXE_JS", "tools/node_modules/axe-core/axe.min.js")
}

/// vnu.jar, if present and a `java` runs.
pub fn vnu_jar() -> Option<PathBuf> {
    let jar = existing("vnu", "GONGKAI_VNU_JAR", "tools/node_modules/vnu-jar/build/dist/vnu.jar")?;
    match Command::new("java").arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(s) if s.success() => Some(jar),
        _ => missing("vnu", "no working `java` on PATH (apt-get install default-jre-headless)"),
    }
}

/// The Python interpreter that has the checkers (feedparser, schemathesis), if present.
pub fn python() -> Option<PathBuf> {
    existing("python", "GONGKAI_PYTHON", "tools/.venv/bin/python")
}

/// The schemathesis command beside that Python, if present.
pub fn schemathesis() -> Option<PathBuf> {
    let py = python()?;
    let st = py.with_file_name("schemathesis");
    if st.exists() { Some(st) } else { missing("schemathesis", &format!("{} does not exist", st.display())) }
}

// ---------------------------------------------------------------------------------------
// axe-core

/// One axe-core rule that the page breaks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Violation {
    /// The rule, e.g. `image-alt`.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: Option<String>,
    pub help: String,
    #[serde(rename = "helpUrl", default)]
    pub help_url: String,
    pub nodes: Vec<ViolationNode>,
}

/// An element that breaks the rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ViolationNode {
    /// CSS selectors of the element (several when it sits in frames or shadow roots).
    pub target: Vec<String>,
    #[serde(default)]
    pub html: String,
}

impl Violation {
    pub fn is_serious(&self) -> bool {
        matches!(self.impact.as_deref(), Some("serious" | "critical"))
    }
}

/// Violations one per line, with the elements concerned, for a failure message.
pub fn format_violations(v: &[Violation]) -> String {
    let mut out = String::new();
    for x in v {
        let targets: Vec<String> = x.nodes.iter().map(|n| n.target.join(" >>> ")).collect();
        out.push_str(&format!(
            "- {} [{}] {}: {}\n",
            x.id,
            x.impact.as_deref().unwrap_or("?"),
            x.help,
            targets.join(", ")
        ));
    }
    out
}

/// Collects `axe.run` results as plain JSON (targets flattened to strings), so WebDriver
/// does not serialise axe's whole result tree.
#[cfg(feature = "browser")]
const AXE_RUN: &str = r#"
var done = arguments[arguments.length - 1];
var flat = function (t) { return Array.isArray(t) ? t.map(flat).join(' >>> ') : String(t); };
window.axe.run(document, { resultTypes: ['violations'] }).then(function (r) {
  done({ violations: r.violations.map(function (v) {
    return { id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
             nodes: v.nodes.map(function (n) { return { target: n.target.map(flat), html: n.html }; }) };
  }) });
}, function (e) { done({ error: String(e && e.stack || e) }); });
"#;

/// Run axe-core on the driver's current page: every violation (all impacts), or None when
/// axe-core is not installed.
#[cfg(feature = "browser")]
pub async fn axe(d: &super::browser::Driver) -> Option<Vec<Violation>> {
    let js = axe_js()?;
    let loaded =
        d.execute("return typeof window.axe === 'object' && typeof window.axe.run === 'function';", vec![]).await;
    if loaded != Value::Bool(true) {
        let src = std::fs::read_to_string(&js).unwrap_or_else(|e| panic!("read {}: {e}", js.display()));
        d.execute(&src, vec![]).await;
    }
    let r = d.execute_async(AXE_RUN, vec![]).await;
    if let Some(e) = r.get("error") {
        panic!("axe.run failed on {}: {e}", d.current_url().await);
    }
    let v: Vec<Violation> = serde_json::from_value(r["violations"].clone())
        .unwrap_or_else(|e| panic!("axe result not understood: {e}: {r}"));
    Some(v)
}

/// Run axe-core on the current page and fail, listing them, on any `serious` or `critical`
/// violation. Returns all violations (lesser ones included) for further checks; None when
/// axe-core is not installed.
#[cfg(feature = "browser")]
pub async fn assert_axe_clean(d: &super::browser::Driver, what: &str) -> Option<Vec<Violation>> {
    let all = axe(d).await?;
    let serious: Vec<Violation> = all.iter().filter(|v| v.is_serious()).cloned().collect();
    assert!(
        serious.is_empty(),
        "{what} ({}): axe-core found serious or critical accessibility violations:\n{}",
        d.current_url().await,
        format_violations(&serious)
    );
    Some(all)
}

// ---------------------------------------------------------------------------------------
// The Nu HTML Checker

/// Check several HTML documents in one vnu run (the JVM takes seconds to start). Returns
/// each document's name with its errors (`line:column: message «extract»`), in input order,
/// or None when vnu is not installed.
pub fn vnu_many<N: AsRef<str>, H: AsRef<str>>(docs: &[(N, H)]) -> Option<Vec<(String, Vec<String>)>> {
    let jar = vnu_jar()?;
    let dir = std::env::temp_dir().join(format!("gongkai-vnu-{}", crate::random_token::<6>()));
    std::fs::create_dir_all(&dir).expect("vnu temp dir");
    let files: Vec<PathBuf> = (0..docs.len()).map(|i| dir.join(format!("doc{i:04}.html"))).collect();
    for (f, (_, html)) in files.iter().zip(docs) {
        std::fs::write(f, html.as_ref()).expect("write vnu input");
    }
    let out = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--no-langdetect", "--format", "json", "--stdout"])
        .args(&files)
        .stdin(Stdio::null())
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let out = out.unwrap_or_else(|e| panic!("run java -jar {}: {e}", jar.display()));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "vnu printed no JSON report ({e}; exit {}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut result: Vec<(String, Vec<String>)> =
        docs.iter().map(|(name, _)| (name.as_ref().to_string(), Vec::new())).collect();
    for m in report["messages"].as_array().into_iter().flatten() {
        let kind = m["type"].as_str().unwrap_or("");
        if kind != "error" && kind != "non-document-error" {
            continue;
        }
        let text = format!(
            "{}:{}: {}{}",
            m["lastLine"].as_u64().unwrap_or(0),
            m["firstColumn"].as_u64().or(m["lastColumn"].as_u64()).unwrap_or(0),
            m["message"].as_str().unwrap_or(""),
            m["extract"].as_str().map(|x| format!(" «{}»", x.trim())).unwrap_or_default()
        );
        let url = m["url"].as_str().unwrap_or("");
        match files.iter().position(|f| f.file_name().and_then(|n| n.to_str()).is_some_and(|n| url.ends_with(n))) {
            Some(i) => result[i].1.push(text),
            // An error about no document in particular means vnu itself failed.
            None => panic!("vnu failed: {text} ({url})"),
        }
    }
    Some(result)
}

/// vnu's errors for one HTML document; None when vnu is not installed.
pub fn vnu(html: &str) -> Option<Vec<String>> {
    vnu_many(&[("document", html)]).map(|mut v| v.remove(0).1)
}

/// Fail, listing every error by document, unless vnu finds all of `docs` valid.
/// Returns false when vnu is not installed (nothing was checked).
pub fn assert_valid_html<N: AsRef<str>, H: AsRef<str>>(docs: &[(N, H)]) -> bool {
    let Some(results) = vnu_many(docs) else { return false };
    let bad: Vec<String> = results
        .iter()
        .filter(|(_, errs)| !errs.is_empty())
        .map(|(name, errs)| format!("{name}:\n  {}", errs.join("\n  ")))
        .collect();
    assert!(bad.is_empty(), "the Nu HTML Checker found errors:\n{}", bad.join("\n"));
    true
}

// ---------------------------------------------------------------------------------------
// feedparser

/// What feedparser made of a feed.
#[derive(Debug, Clone, Deserialize)]
pub struct Feed {
    /// feedparser's "bozo" flag: the feed is not well-formed.
    pub bozo: bool,
    pub bozo_exception: Option<String>,
    /// e.g. `rss20`, `atom10`; empty when feedparser did not recognise a feed.
    pub version: String,
    pub title: String,
    pub link: String,
    pub entries: Vec<FeedEntry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FeedEntry {
    pub title: String,
    pub link: String,
    pub id: String,
    pub published: String,
    pub summary: String,
}

const FEEDPARSER: &str = r#"
import json, sys
import feedparser
d = feedparser.parse(sys.stdin.buffer.read())
exc = d.get("bozo_exception")
g = lambda o, k: str(o.get(k, "") or "")
print(json.dumps({
    "bozo": bool(d.get("bozo")),
    "bozo_exception": str(exc) if exc else None,
    "version": d.get("version", "") or "",
    "title": g(d.feed, "title"),
    "link": g(d.feed, "link"),
    "entries": [{k: g(e, k) for k in ("title", "link", "id", "published", "summary")} for e in d.entries],
}, ensure_ascii=False))
"#;

/// Parse `xml` with Python's feedparser; None when that Python or feedparser is missing.
pub fn feedparser(xml: &[u8]) -> Option<Feed> {
    let py = python()?;
    let mut child = Command::new(&py)
        .args(["-c", FEEDPARSER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", py.display()));
    // Written from a thread so a large feed cannot deadlock against Python's output.
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = {
        let xml = xml.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&xml);
        })
    };
    let out = child.wait_with_output().expect("feedparser output");
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        if stderr.contains("No module named 'feedparser'") {
            return missing("feedparser", &format!("{} has no feedparser module", py.display()));
        }
        panic!("feedparser failed ({}): {stderr}", out.status);
    }
    Some(
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("feedparser output not understood: {e}: {}", String::from_utf8_lossy(&out.stdout))
        }),
    )
}
