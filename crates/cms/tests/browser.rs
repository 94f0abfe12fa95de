//! A real browser (headless Chromium through chromedriver, W3C WebDriver over HTTP) walks
//! the editorial flow: an editor creates an item with an attachment and submits it; a
//! reviewer approves it and sees it published. Screenshots are kept as CI artifacts in
//! `target/screenshots/` (or `$GONGKAI_ARTIFACTS`).
//!
//! Without chromedriver on the machine the test says so and returns, unless
//! `GONGKAI_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs Chromium) makes that a failure.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gongkai_kernel::auth::Role;
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestServer};
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    shots: PathBuf,
}

impl Drop for Driver {
    /// chromedriver runs in its own process group: killing the group also ends the
    /// browser processes it started, whatever path the test took.
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(9515)
}

fn b64decode(s: &str) -> Vec<u8> {
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

impl Driver {
    async fn start() -> Option<Driver> {
        let exe = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(exe) = exe else {
            assert!(
                std::env::var("GONGKAI_REQUIRE_BROWSER").is_err(),
                "chromedriver is missing but GONGKAI_REQUIRE_BROWSER is set (install chromium and chromium-driver)"
            );
            eprintln!("browser test not run: chromedriver is not installed (apt-get install chromium chromium-driver)");
            return None;
        };
        let port = free_port();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(exe)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("start chromedriver")
        };
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let start = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(format!("gongkai-chrome-{}", gongkai_kernel::random_token::<6>()));
        let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,1000", format!("--user-data-dir={}", profile.display())] } } } });
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("json");
        let session = r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {r}")).to_string();
        let shots = std::env::var("GONGKAI_ARTIFACTS")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"));
        let _ = std::fs::create_dir_all(&shots);
        Some(Driver { child, base, session, http, shots })
    }

    async fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = if method == "GET" { self.http.get(url) } else { self.http.post(url).json(&body) };
        let v: Value = req.send().await.expect("webdriver").json().await.expect("json");
        if let Some(err) = v["value"].get("error") {
            panic!("webdriver {path}: {err} {}", v["value"]["message"]);
        }
        v["value"].clone()
    }
    async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url })).await;
    }
    async fn find(&self, css: &str) -> String {
        let start = Instant::now();
        loop {
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
            if let Some(id) = v["value"][ELEMENT].as_str() {
                return id.to_string();
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "element {css} not found; page: {}",
                self.source().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.cmd("POST", &format!("/element/{el}/click"), json!({})).await;
    }
    async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.cmd("POST", &format!("/element/{el}/value"), json!({ "text": text })).await;
    }
    async fn script(&self, js: &str) -> Value {
        self.cmd("POST", "/execute/sync", json!({ "script": js, "args": [] })).await
    }
    async fn source(&self) -> String {
        self.cmd("GET", "/source", json!({})).await.as_str().unwrap_or("").to_string()
    }
    /// Wait (bounded) until the page shows every one of `texts`; on timeout, fail with the
    /// page's main content so the reason is visible.
    async fn wait_for(&self, texts: &[&str], what: &str) -> String {
        let start = Instant::now();
        loop {
            let src = self.source().await;
            if texts.iter().all(|t| src.contains(t)) {
                return src;
            }
            if start.elapsed() > Duration::from_secs(10) {
                let main: String = src.split("<main").nth(1).unwrap_or(&src).chars().take(2000).collect();
                panic!("{what}: page never showed {texts:?}: {main}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
    /// End the session (the browser quits) before chromedriver goes.
    async fn quit(&self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send().await;
    }
    async fn shot(&self, name: &str) {
        let png = self.cmd("GET", "/screenshot", json!({})).await;
        let _ = std::fs::write(self.shots.join(format!("{name}.png")), b64decode(png.as_str().unwrap_or("")));
    }
    async fn login(&self, base: &str, user: &str) {
        self.goto(&format!("{base}/login")).await;
        self.type_into("#f-username", user).await;
        self.type_into("#f-password", TEST_PASSWORD).await;
        self.click("form[action='/login'] button[type=submit]").await;
        self.find("nav.side").await;
    }
}

#[tokio::test]
async fn editor_and_reviewer_publish_an_item_with_an_attachment_in_a_browser() {
    let Some(d) = Driver::start().await else { return };
    let t = testkit::sqlite().await;
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    let admin =
        testkit::principal(&t.db, testkit::user_with_role(&t.db, "colsadmin", Some(Role::SysAdmin)).await).await;
    let mut h = t.db.read().await.unwrap();
    let site =
        gongkai_kernel::site::store::all(&mut h.conn()).await.unwrap().into_iter().find(|s| s.code == "www").unwrap();
    drop(h);
    let column = gongkai_cms::service::create_column(
        &t.db,
        &admin,
        "ip",
        &gongkai_cms::service::ColumnInput {
            site_id: site.id.to_string(),
            name: "通知公告".into(),
            slug: "tzgg".into(),
            kind: "list".into(),
            class: "notice".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    testkit::user_with_role(&t.db, "bianji", Some(Role::Editor)).await;
    testkit::user_with_role(&t.db, "shenhe", Some(Role::Reviewer)).await;
    let s = TestServer::start_slices(&t, vec![gongkai_cms::web::slice()]).await;
    let base = s.base.clone();

    // Editor: a new item typed into the rich-text editor.
    d.login(&base, "bianji").await;
    d.goto(&format!("{base}/console/content/new")).await;
    d.type_into("#f-title", "关于开展2026年度政务公开培训的通知").await;
    d.script(&format!(
        "document.getElementById('f-home_column_id').value = '{}'; document.getElementById('f-publisher_org_id').value = '{}'; document.getElementById('f-class_code').value = 'notice';",
        column.id,
        site.org_id.unwrap()
    ))
    .await;
    d.click(".rte-area").await;
    d.type_into(".rte-area", "各部门：为提升政务公开工作水平，定于近期开展培训。").await;
    d.shot("01-editor-new-item").await;
    d.click("form.item-form button[type=submit]").await;
    d.wait_for(&["草稿", "提升政务公开工作水平"], "item saved as a draft from the rich editor").await;

    // The attachment: a real upload through the file input.
    let pdf = std::env::temp_dir().join(format!("培训安排-{}.pdf", gongkai_kernel::random_token::<4>()));
    std::fs::write(&pdf, b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n").unwrap();
    d.type_into("#f-file", pdf.to_str().unwrap()).await;
    d.click("form[enctype='multipart/form-data'] button[type=submit]").await;
    d.wait_for(&["培训安排", "PDF"], "attachment listed with its sniffed type").await;
    d.click("form[action$='/submit'] button[type=submit]").await;
    d.wait_for(&["审核中"], "submitted").await;
    d.shot("02-editor-submitted").await;
    d.click("form[action='/logout'] button").await;

    // Reviewer: the queue, the item, approve.
    d.login(&base, "shenhe").await;
    d.goto(&format!("{base}/console/review")).await;
    d.click("main table a").await;
    d.type_into("#f-comment", "同意发布").await;
    d.click("form[action$='/approve'] button[type=submit]").await;
    d.wait_for(&["已发布", "索引号", "培训安排"], "published with an index number and the attachment").await;
    d.shot("03-reviewer-published").await;
    let _ = std::fs::remove_file(pdf);
    d.quit().await;
}
