//! A raw W3C WebDriver client for tests: headless Chromium through chromedriver, over HTTP.
//!
//! `Driver::start()` returns None when chromedriver is not installed, unless
//! `GONGKAI_REQUIRE_BROWSER` is set (`.ci/run` sets it after installing Chromium): then a
//! missing chromedriver is a failure. Screenshots go to `$GONGKAI_ARTIFACTS`, else
//! `<repo>/target/screenshots`. Lookups wait (bounded) for the page; a failed WebDriver
//! command panics with WebDriver's message, which is what a test wants.
//!
//! Behind the cargo feature `browser` so that reqwest stays out of the release binary:
//! crates enable it from their `[dev-dependencies]`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The W3C key of an element reference in WebDriver's JSON.
pub const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long `find` and `wait_for` wait for the page before failing.
pub const WAIT: Duration = Duration::from_secs(10);

const CHROMEDRIVERS: [&str; 2] = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"];

/// An element found on the current page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub id: String,
}

impl Element {
    /// The element as an argument of `execute` / `execute_async` (arrives as a DOM node).
    pub fn as_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}

/// A chromedriver process with one browser session. Dropping it ends chromedriver and the
/// browser it started.
pub struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    shots: PathBuf,
    profile: PathBuf,
}

impl Drop for Driver {
    /// chromedriver runs in its own process group: killing the group also ends the
    /// browser processes it started, whatever path the test took.
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// An unused TCP port on 127.0.0.1 (for chromedriver to listen on).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(9515)
}

/// Standard base64 (WebDriver's screenshot encoding); characters outside the alphabet,
/// padding included, are skipped.
pub fn b64decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let (mut out, mut buf, mut bits) = (Vec::new(), 0u32, 0);
    for v in s.bytes().filter_map(val) {
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// Where screenshots and other test artifacts go: `$GONGKAI_ARTIFACTS`, else
/// `<repo>/target/screenshots`.
pub fn artifacts_dir() -> PathBuf {
    std::env::var("GONGKAI_ARTIFACTS")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| super::checkers::repo_root().join("target/screenshots"))
}

fn chromedriver() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GONGKAI_CHROMEDRIVER").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    CHROMEDRIVERS.into_iter().map(PathBuf::from).find(|p| p.exists())
}

impl Driver {
    /// Start chromedriver and a headless Chromium session (window 1280×1000).
    pub async fn start() -> Option<Driver> {
        let Some(exe) = chromedriver() else {
            assert!(
                std::env::var("GONGKAI_REQUIRE_BROWSER").is_err(),
                "chromedriver is missing but GONGKAI_REQUIRE_BROWSER is set (install chromium and chromium-driver)"
            );
            eprintln!("browser test not run: chromedriver is not installed (apt-get install chromium chromium-driver)");
            return None;
        };
        let chromium = std::env::var("GONGKAI_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(&exe)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", exe.display()))
        };
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let profile = std::env::temp_dir().join(format!("gongkai-chrome-{}", crate::random_token::<6>()));
        let shots = artifacts_dir();
        let _ = std::fs::create_dir_all(&shots);
        // From here on the Driver owns chromedriver, so a failed start still ends it.
        let mut d = Driver { child, base, session: String::new(), http, shots, profile };
        let start = Instant::now();
        loop {
            if let Ok(r) = d.http.get(format!("{}/status", d.base)).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,1000", format!("--user-data-dir={}", d.profile.display())] } } } });
        let r: Value = d
            .http
            .post(format!("{}/session", d.base))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("json");
        d.session = r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {r}")).to_string();
        // axe and similar checkers run for seconds on a big page; WebDriver's default is 30 s.
        d.command("POST", "/timeouts", json!({ "script": 120_000 })).await;
        Some(d)
    }

    /// Where `screenshot` writes.
    pub fn artifacts(&self) -> &Path {
        &self.shots
    }

    /// A raw WebDriver command on this session (`path` after `/session/{id}`); returns
    /// the reply's `value` and panics on a WebDriver error.
    pub async fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let v: Value = req.send().await.expect("webdriver").json().await.expect("json");
        if let Some(err) = v["value"].get("error") {
            panic!("webdriver {method} {path}: {err} {}", v["value"]["message"]);
        }
        v["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url })).await;
    }
    pub async fn current_url(&self) -> String {
        self.command("GET", "/url", json!({})).await.as_str().unwrap_or("").to_string()
    }
    pub async fn title(&self) -> String {
        self.command("GET", "/title", json!({})).await.as_str().unwrap_or("").to_string()
    }
    /// Resize the browser window (e.g. 375×812 for a phone layout).
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.command("POST", "/window/rect", json!({ "width": width, "height": height })).await;
    }

    /// The first element matching `css`, or None right now (no waiting).
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        let url = format!("{}/session/{}/element", self.base, self.session);
        let v: Value = self
            .http
            .post(url)
            .json(&json!({ "using": "css selector", "value": css }))
            .send()
            .await
            .expect("find")
            .json()
            .await
            .expect("json");
        v["value"][ELEMENT_KEY].as_str().map(|id| Element { id: id.to_string() })
    }
    /// The first element matching `css`, waiting up to `WAIT` for it; fails with the page.
    pub async fn find(&self, css: &str) -> Element {
        let start = Instant::now();
        loop {
            if let Some(el) = self.try_find(css).await {
                return el;
            }
            if start.elapsed() > WAIT {
                panic!("element {css} not found; page: {}", self.page_source().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    /// Every element matching `css` now (possibly none).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let v = self.command("POST", "/elements", json!({ "using": "css selector", "value": css })).await;
        v.as_array()
            .map(|a| {
                a.iter().filter_map(|e| e[ELEMENT_KEY].as_str()).map(|id| Element { id: id.to_string() }).collect()
            })
            .unwrap_or_default()
    }

    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.click_element(&el).await;
    }
    /// Type `text` into the element matching `css` (for a file input: a path to upload).
    pub async fn send_keys(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.send_keys_element(&el, text).await;
    }
    /// The rendered text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let el = self.find(css).await;
        self.element_text(&el).await
    }
    /// An attribute or property of the element matching `css`.
    pub async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let el = self.find(css).await;
        let v = self.command("GET", &format!("/element/{}/attribute/{name}", el.id), json!({})).await;
        v.as_str().map(str::to_string)
    }
    pub async fn click_element(&self, el: &Element) {
        self.command("POST", &format!("/element/{}/click", el.id), json!({})).await;
    }
    pub async fn send_keys_element(&self, el: &Element, text: &str) {
        self.command("POST", &format!("/element/{}/value", el.id), json!({ "text": text })).await;
    }
    pub async fn element_text(&self, el: &Element) -> String {
        self.command("GET", &format!("/element/{}/text", el.id), json!({})).await.as_str().unwrap_or("").to_string()
    }

    /// Run `script` (a function body; `arguments` holds `args`) and return its result.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.command("POST", "/execute/sync", json!({ "script": script, "args": args })).await
    }
    /// Run an asynchronous `script`: it finishes by calling `arguments[arguments.length - 1]`
    /// with the result.
    pub async fn execute_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.command("POST", "/execute/async", json!({ "script": script, "args": args })).await
    }

    pub async fn page_source(&self) -> String {
        self.command("GET", "/source", json!({})).await.as_str().unwrap_or("").to_string()
    }

    /// Wait (bounded) until the page shows every one of `texts`; on timeout, fail with the
    /// page's main content so the reason is visible.
    pub async fn wait_for(&self, texts: &[&str], what: &str) -> String {
        let start = Instant::now();
        loop {
            let src = self.page_source().await;
            if texts.iter().all(|t| src.contains(t)) {
                return src;
            }
            if start.elapsed() > WAIT {
                let main: String = src.split("<main").nth(1).unwrap_or(&src).chars().take(2000).collect();
                panic!("{what}: page never showed {texts:?}: {main}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Save a PNG of the viewport as `<artifacts>/<name>.png` and return its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.command("GET", "/screenshot", json!({})).await;
        let path = self.shots.join(format!("{name}.png"));
        if let Err(e) = std::fs::write(&path, b64decode(png.as_str().unwrap_or(""))) {
            eprintln!("screenshot {} not saved: {e}", path.display());
        }
        path
    }

    /// Sign in through the console's login form as `user` (password `TEST_PASSWORD`) and
    /// wait for the console's side navigation.
    pub async fn login(&self, base: &str, user: &str) {
        self.goto(&format!("{base}/login")).await;
        self.send_keys("#f-username", user).await;
        self.send_keys("#f-password", super::TEST_PASSWORD).await;
        self.click("form[action='/login'] button[type=submit]").await;
        self.find("nav.side").await;
    }

    /// Log out and wait for the login page, so a following `goto` cannot race the
    /// logout's redirect (it did once: the redirect landed after the next navigation).
    pub async fn logout(&self) {
        self.click("form[action='/logout'] button").await;
        self.wait_for(&["登录管理后台"], "the login page after logging out").await;
    }

    /// End the session (the browser quits) before chromedriver goes.
    pub async fn quit(&self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send().await;
    }
}

#[cfg(test)]
mod tests {
    use super::b64decode;

    #[test]
    fn b64decode_reads_padded_and_unpadded_input() {
        assert_eq!(b64decode("aGVsbG8="), b"hello");
        assert_eq!(b64decode("aGVsbG8gd29ybGQ"), b"hello world");
        assert_eq!(b64decode("iVBORw0KGgo="), b"\x89PNG\r\n\x1a\n");
    }
}
