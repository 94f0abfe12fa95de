//! Black-box tests of the `gongkai` binary: every test runs the real executable against a
//! fresh database on each configured backend (SQLite always; PostgreSQL when
//! `GONGKAI_TEST_DATABASE_URL` is set). Every wait is bounded and every child process is
//! killed on every path (see [`Proc`]).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use gongkai_kernel::testkit::{self, TestDb};

/// Upper bound for one short command (debug build, PostgreSQL, argon2 hashing).
const CMD_TIMEOUT: Duration = Duration::from_secs(120);
/// Upper bound for a server to print its start-up line.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Upper bound for a server to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

const PASSWORD: &str = testkit::TEST_PASSWORD;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// Every configured backend, with the harness's own pool closed so the binary is the
/// only user of the database.
async fn backends() -> Vec<TestDb> {
    let v = testkit::backends().await;
    for t in &v {
        t.db.close().await;
    }
    v
}

fn is_pg(t: &TestDb) -> bool {
    t.url.starts_with("postgres")
}

/// A `gongkai` command isolated from the caller's environment: no GONGKAI_* variables,
/// working directory = the test's data dir (so no stray ./gongkai.toml is picked up).
fn bare(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gongkai"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("GONGKAI_") {
            c.env_remove(&k);
        }
    }
    c.env("GONGKAI_LOG", "warn").current_dir(dir);
    c
}

/// A `gongkai` command pointed at the test database.
fn gk(t: &TestDb) -> Command {
    let mut c = bare(&t.dir);
    c.arg("--database-url").arg(&t.url).arg("--data-dir").arg(&t.dir);
    c
}

/// A child process that is killed (and reaped) when dropped, whatever happened.
struct Proc {
    child: Child,
    what: String,
}

impl Proc {
    fn spawn(mut cmd: Command, what: &str) -> Proc {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        Proc { child, what: what.to_string() }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait for exit at most `limit`; None if still running.
    fn wait_for(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(s)) => return Some(s),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                Ok(None) => return None,
                Err(e) => panic!("wait for {}: {e}", self.what),
            }
        }
    }

    /// Send SIGTERM (through kill(1), no libc needed).
    fn terminate(&self) {
        let st = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        assert!(matches!(st, Ok(s) if s.success()), "kill -TERM {} ({}): {st:?}", self.pid(), self.what);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Read a pipe to the end on a thread.
fn drain<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut r) = r {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            s = String::from_utf8_lossy(&buf).into_owned();
        }
        s
    })
}

#[derive(Debug)]
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }
    #[track_caller]
    fn expect_ok(self) -> Out {
        assert!(self.ok(), "expected success, got {self:#?}");
        self
    }
    #[track_caller]
    fn expect_fail(self) -> Out {
        assert!(self.code.is_some() && !self.ok(), "expected a non-zero exit, got {self:#?}");
        assert!(!self.stderr.contains("panicked"), "the binary panicked: {self:#?}");
        self
    }
}

/// Run to completion (bounded), feeding `stdin` if given.
fn run_cmd(cmd: Command, stdin: Option<&str>, what: &str) -> Out {
    let mut p = Proc::spawn(cmd, what);
    let out_h = drain(p.child.stdout.take());
    let err_h = drain(p.child.stderr.take());
    // Feed stdin, then close it (the pipe drops here either way): a command that reads
    // it sees EOF instead of hanging.
    if let (Some(mut w), Some(s)) = (p.child.stdin.take(), stdin) {
        let _ = w.write_all(s.as_bytes());
    }
    let status = p.wait_for(CMD_TIMEOUT);
    if status.is_none() {
        drop(p); // kill, so the drain threads finish
        let (o, e) = (out_h.join().unwrap_or_default(), err_h.join().unwrap_or_default());
        panic!("`{what}` did not finish within {CMD_TIMEOUT:?}\nstdout: {o}\nstderr: {e}");
    }
    Out {
        code: status.and_then(|s| s.code()),
        stdout: out_h.join().unwrap_or_default(),
        stderr: err_h.join().unwrap_or_default(),
    }
}

/// `gongkai --database-url … --data-dir … ARGS`
fn run(t: &TestDb, args: &[&str]) -> Out {
    let mut c = gk(t);
    c.args(args);
    run_cmd(c, None, &args.join(" "))
}

fn contains_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A server started from the binary, with its stdout lines arriving on a channel.
struct Server {
    proc: Proc,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
    port: u16,
}

impl Server {
    /// Spawn and wait (bounded) for the "已启动" line; panics with the output otherwise.
    fn start(mut cmd: Command, what: &str) -> Server {
        cmd.arg("--listen").arg("127.0.0.1:0");
        let mut proc = Proc::spawn(cmd, what);
        let stdout = proc.child.stdout.take().expect("stdout");
        let stderr = Some(drain(proc.child.stderr.take()));
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Server { proc, lines, seen: Vec::new(), stderr, port: 0 };
        let line = s.wait_line(|l| l.contains("已启动"), START_TIMEOUT);
        s.port = parse_port(&line).unwrap_or_else(|| s.fail(&format!("no port in start-up line {line:?}")));
        s
    }

    /// Next stdout line matching `pred` (bounded).
    fn wait_line(&mut self, pred: impl Fn(&str) -> bool, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left.max(Duration::from_millis(1))) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if pred(&l) {
                        return l;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => self.fail(&format!("no expected line within {limit:?}")),
                Err(mpsc::RecvTimeoutError::Disconnected) => self.fail("stdout closed before the expected line"),
            }
        }
    }

    /// Stdout lines printed so far (without waiting).
    fn collect(&mut self) -> Vec<String> {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
        self.seen.clone()
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGTERM, then wait (bounded) for a clean exit.
    fn stop(mut self) -> ExitStatus {
        self.proc.terminate();
        match self.proc.wait_for(STOP_TIMEOUT) {
            Some(s) => s,
            None => self.fail(&format!("did not exit within {STOP_TIMEOUT:?} of SIGTERM")),
        }
    }

    fn fail(&mut self, why: &str) -> ! {
        if let Ok(None) = self.proc.child.try_wait() {
            let _ = self.proc.child.kill();
        }
        let _ = self.proc.child.wait();
        let out = self.collect().join("\n");
        let err = self.stderr.take().map(|h| h.join().unwrap_or_default()).unwrap_or_default();
        panic!("{}: {why}\nstdout:\n{out}\nstderr:\n{err}", self.proc.what);
    }
}

/// "gongkai 已启动：http://localhost:PORT/ （…" → PORT
fn parse_port(line: &str) -> Option<u16> {
    let rest = &line[line.find("http://localhost:")? + "http://localhost:".len()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok().filter(|p| *p != 0)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(15)).build().expect("http client")
}

/// Direct database access, to tamper with what the binary wrote.
enum Sql {
    Lite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

impl Sql {
    async fn open(url: &str) -> Sql {
        if url.starts_with("postgres") {
            Sql::Pg(sqlx::PgPool::connect(url).await.expect("connect postgres"))
        } else {
            Sql::Lite(sqlx::SqlitePool::connect(url).await.expect("open sqlite"))
        }
    }
    async fn exec(&self, sql: &'static str) -> u64 {
        let r = match self {
            Sql::Lite(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
            Sql::Pg(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        };
        r.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    async fn int(&self, sql: &'static str) -> i64 {
        let r = match self {
            Sql::Lite(p) => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await,
            Sql::Pg(p) => sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await,
        };
        r.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    async fn text(&self, sql: &'static str) -> String {
        let r = match self {
            Sql::Lite(p) => sqlx::query_scalar::<_, String>(sql).fetch_one(p).await,
            Sql::Pg(p) => sqlx::query_scalar::<_, String>(sql).fetch_one(p).await,
        };
        r.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    async fn flag(&self, sql: &'static str) -> bool {
        let r = match self {
            Sql::Lite(p) => sqlx::query_scalar::<_, bool>(sql).fetch_one(p).await,
            Sql::Pg(p) => sqlx::query_scalar::<_, bool>(sql).fetch_one(p).await,
        };
        r.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
    async fn audit_entries(&self) -> Vec<gongkai_kernel::audit::Entry> {
        const Q: &str = "SELECT * FROM audit_log ORDER BY seq";
        let r = match self {
            Sql::Lite(p) => sqlx::query_as::<_, gongkai_kernel::audit::Entry>(Q).fetch_all(p).await,
            Sql::Pg(p) => sqlx::query_as::<_, gongkai_kernel::audit::Entry>(Q).fetch_all(p).await,
        };
        r.expect("read audit_log")
    }
    async fn set_audit_row(&self, seq: i64, summary: &str, prev_hash: &str, hash: &str) {
        const Q: &str = "UPDATE audit_log SET summary = $1, prev_hash = $2, hash = $3 WHERE seq = $4";
        let r = match self {
            Sql::Lite(p) => sqlx::query(Q)
                .bind(summary)
                .bind(prev_hash)
                .bind(hash)
                .bind(seq)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
            Sql::Pg(p) => sqlx::query(Q)
                .bind(summary)
                .bind(prev_hash)
                .bind(hash)
                .bind(seq)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
        };
        assert_eq!(r.expect("update audit row"), 1);
    }
    async fn close(self) {
        match self {
            Sql::Lite(p) => p.close().await,
            Sql::Pg(p) => p.close().await,
        }
    }
}

/// `user list` parsed: (username, display name, roles, status).
fn user_list(t: &TestDb) -> Vec<(String, String, String, String)> {
    let o = run(t, &["user", "list"]).expect_ok();
    o.stdout
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "user list line should have 5 tab-separated fields: {l:?}");
            assert!(f[0].parse::<i64>().is_ok(), "first field is the id: {l:?}");
            (f[1].to_string(), f[2].to_string(), f[3].to_string(), f[4].to_string())
        })
        .collect()
}

fn user_status(t: &TestDb, username: &str) -> Option<String> {
    user_list(t).into_iter().find(|u| u.0 == username).map(|u| u.3)
}

#[track_caller]
fn assert_audit_intact(t: &TestDb) {
    let o = run(t, &["audit", "verify"]);
    assert_eq!(o.code, Some(0), "audit verify should pass: {o:#?}");
    assert!(o.stdout.starts_with("审计日志完整"), "{o:#?}");
}

#[track_caller]
fn assert_audit_broken_at(t: &TestDb, seq: i64, reason_part: &str) {
    let o = run(t, &["audit", "verify"]);
    assert_eq!(o.code, Some(1), "audit verify should fail with exit 1: {o:#?}");
    let prefix = format!("审计日志校验失败：第 {seq} 条");
    assert!(o.stdout.starts_with(&prefix), "expected {prefix:?}: {o:#?}");
    assert!(o.stdout.contains(reason_part), "expected reason containing {reason_part:?}: {o:#?}");
}

// ---------------------------------------------------------------------------
// calendar
// ---------------------------------------------------------------------------

#[tokio::test]
async fn calendar_days_and_add() {
    for t in backends().await {
        let b = t.backend_name();
        let o = run(&t, &["calendar", "days", "--from", "2024-02-01", "--to", "2024-02-29"]).expect_ok();
        let lines: Vec<&str> = o.stdout.lines().collect();
        assert_eq!(lines.len(), 29, "[{b}] one line per day: {o:#?}");
        for want in ["2024-02-04 adjusted_workday", "2024-02-10 holiday", "2024-02-05 workday", "2024-02-03 weekend"] {
            assert!(lines.contains(&want), "[{b}] missing {want:?}: {o:#?}");
        }
        assert_eq!(lines[0], "2024-02-01 workday", "[{b}]");
        assert_eq!(lines[28], "2024-02-29 workday", "[{b}]");
        assert!(lines.iter().all(|l| {
            let k = l.split_once(' ').map(|x| x.1).unwrap_or("");
            ["workday", "weekend", "holiday", "adjusted_workday"].contains(&k)
        }));

        let one = run(&t, &["calendar", "days", "--from", "2024-10-01", "--to", "2024-10-01"]).expect_ok();
        assert_eq!(one.stdout, "2024-10-01 holiday\n", "[{b}]");

        let o = run(&t, &["calendar", "add", "--from", "2024-09-27", "--working-days", "20"]).expect_ok();
        assert_eq!(o.stdout.lines().next(), Some("2024-10-30"), "[{b}] {o:#?}");
        let o = run(&t, &["calendar", "add", "--from", "2020-01-20", "--working-days", "20"]).expect_ok();
        assert_eq!(o.stdout.lines().next(), Some("2020-02-25"), "[{b}] {o:#?}");
        let o = run(&t, &["calendar", "add", "--from", "2024-09-27", "--working-days", "20", "--explain"]).expect_ok();
        let mut it = o.stdout.lines();
        assert_eq!(it.next(), Some("2024-10-30"), "[{b}] {o:#?}");
        let ex = it.next().unwrap_or_default();
        assert!(
            ex.contains("国庆节") && ex.contains("2024-09-29") && ex.contains("2024-10-12"),
            "[{b}] explanation: {ex}"
        );
        let o = run(&t, &["calendar", "add", "--from", "2024-09-27", "--working-days", "0"]).expect_ok();
        assert_eq!(o.stdout.lines().next(), Some("2024-09-27"), "[{b}]");

        // Bad input names the flag and says why, in Chinese.
        let o = run(&t, &["calendar", "add", "--from", "2024-02-30", "--working-days", "5"]).expect_fail();
        assert!(o.stderr.contains("--from") && contains_cjk(&o.stderr), "[{b}] {o:#?}");
        let o = run(&t, &["calendar", "days", "--from", "2024-02-01", "--to", "20240229"]).expect_fail();
        assert!(o.stderr.contains("--to") && contains_cjk(&o.stderr), "[{b}] {o:#?}");
        let o = run(&t, &["calendar", "days", "--from", "yesterday", "--to", "2024-02-29"]).expect_fail();
        assert!(o.stderr.contains("--from"), "[{b}] {o:#?}");
        let o = run(&t, &["calendar", "days", "--from", "2024-03-01", "--to", "2024-02-01"]).expect_fail();
        assert!(o.stderr.contains("--to") && o.stderr.contains("--from"), "[{b}] {o:#?}");
        let o = run(&t, &["calendar", "add", "--from", "2024-01-01", "--working-days", "-3"]).expect_fail();
        assert!(o.stderr.contains("--working-days"), "[{b}] {o:#?}");
        assert!(o.stdout.is_empty(), "[{b}] nothing on stdout for an error: {o:#?}");
    }
}

#[tokio::test]
async fn job_run_runs_one_job_now() {
    for t in backends().await {
        let b = t.backend_name();
        let o = run(&t, &["job", "run", "hl.sweep"]).expect_ok();
        assert!(o.stdout.contains("任务 hl.sweep 已完成"), "[{b}] {o:#?}");
        // Any slice's job; an unknown kind is refused with the list of kinds.
        run(&t, &["job", "run", "msg.sweep"]).expect_ok();
        let o = run(&t, &["job", "run", "no.such"]).expect_fail();
        assert!(o.stderr.contains("没有这种任务") && o.stderr.contains("msg.sweep"), "[{b}] {o:#?}");
    }
}

#[tokio::test]
async fn calendar_import_notice() {
    for t in backends().await {
        let b = t.backend_name();
        let dir = tempfile::tempdir().expect("tempdir");

        // Before: 2027 has no notice, only weekends apply, and --explain says so.
        let o = run(&t, &["calendar", "add", "--from", "2027-02-05", "--working-days", "6", "--explain"]).expect_ok();
        assert_eq!(o.stdout.lines().next(), Some("2027-02-15"), "[{b}] {o:#?}");
        assert!(o.stdout.contains("2027年放假安排尚未录入"), "[{b}] {o:#?}");
        let o = run(&t, &["calendar", "days", "--from", "2027-02-08", "--to", "2027-02-08"]).expect_ok();
        assert_eq!(o.stdout, "2027-02-08 workday\n", "[{b}]");

        // A made-up notice: 元旦 on Friday 01-01, 春节 Sat 02-06 .. Fri 02-12, Saturday 02-20 worked.
        let mut days = vec![serde_json::json!({ "name": "元旦", "date": "2027-01-01", "isOffDay": true })];
        for d in 6..=12 {
            days.push(serde_json::json!({ "name": "春节", "date": format!("2027-02-{d:02}"), "isOffDay": true }));
        }
        days.push(serde_json::json!({ "name": "春节", "date": "2027-02-20", "isOffDay": false }));
        let notice = serde_json::json!({ "year": 2027, "papers": ["https://example.invalid/2027"], "days": days });
        let file = dir.path().join("2027.json");
        std::fs::write(&file, serde_json::to_string_pretty(&notice).expect("json")).expect("write notice");

        let o = run(&t, &["calendar", "import", file.to_str().expect("path")]).expect_ok();
        assert!(o.stdout.contains("2027"), "[{b}] {o:#?}");

        let o = run(&t, &["calendar", "days", "--from", "2026-12-31", "--to", "2027-02-22"]).expect_ok();
        let lines: Vec<&str> = o.stdout.lines().collect();
        for want in [
            "2026-12-31 workday",
            "2027-01-01 holiday",
            "2027-01-02 weekend",
            "2027-01-04 workday",
            "2027-02-05 workday",
            "2027-02-06 holiday",
            "2027-02-08 holiday",
            "2027-02-12 holiday",
            "2027-02-13 weekend",
            "2027-02-15 workday",
            "2027-02-20 adjusted_workday",
            "2027-02-21 weekend",
        ] {
            assert!(lines.contains(&want), "[{b}] missing {want:?}: {o:#?}");
        }

        let o = run(&t, &["calendar", "add", "--from", "2027-02-05", "--working-days", "6", "--explain"]).expect_ok();
        assert_eq!(o.stdout.lines().next(), Some("2027-02-20"), "[{b}] {o:#?}");
        assert!(!o.stdout.contains("尚未录入"), "[{b}] the 2027 notice is loaded now: {o:#?}");
        assert!(o.stdout.contains("春节"), "[{b}] {o:#?}");
        let o = run(&t, &["calendar", "add", "--from", "2027-02-19", "--working-days", "1"]).expect_ok();
        assert_eq!(o.stdout.lines().next(), Some("2027-02-20"), "[{b}] {o:#?}");
        let o = run(&t, &["calendar", "add", "--from", "2026-12-31", "--working-days", "1"]).expect_ok();
        assert_eq!(o.stdout.lines().next(), Some("2027-01-04"), "[{b}] {o:#?}");

        // Malformed notices are rejected as a whole and change nothing.
        let bad: [(&str, String); 6] = [
            ("not-json", "{ \"year\": 2027, \"days\": [".to_string()),
            ("no-year", r#"{"days": [{"date": "2027-03-01", "isOffDay": true}]}"#.to_string()),
            ("no-days", r#"{"year": 2027}"#.to_string()),
            (
                "bad-date",
                r#"{"year": 2027, "days": [{"name":"x","date":"2027-03-01","isOffDay":true},{"name":"x","date":"2027-02-30","isOffDay":true}]}"#.to_string(),
            ),
            ("no-isoffday", r#"{"year": 2027, "days": [{"name":"x","date":"2027-03-01"}]}"#.to_string()),
            (
                "duplicate",
                r#"{"year": 2027, "days": [{"name":"x","date":"2027-03-01","isOffDay":true},{"name":"x","date":"2027-03-01","isOffDay":false}]}"#.to_string(),
            ),
        ];
        for (name, text) in bad {
            let f = dir.path().join(format!("{name}.json"));
            std::fs::write(&f, text).expect("write");
            let o = run(&t, &["calendar", "import", f.to_str().expect("path")]).expect_fail();
            assert!(contains_cjk(&o.stderr), "[{b}] {name}: Chinese reason expected: {o:#?}");
        }
        let o = run(&t, &["calendar", "import", dir.path().join("missing.json").to_str().expect("path")]).expect_fail();
        assert!(o.stderr.contains("missing.json"), "[{b}] {o:#?}");
        let o = run(&t, &["calendar", "days", "--from", "2027-03-01", "--to", "2027-03-01"]).expect_ok();
        assert_eq!(o.stdout, "2027-03-01 workday\n", "[{b}] a rejected file must not change the calendar");
        let o = run(&t, &["calendar", "days", "--from", "2027-02-20", "--to", "2027-02-20"]).expect_ok();
        assert_eq!(o.stdout, "2027-02-20 adjusted_workday\n", "[{b}]");

        // The import was audited and the chain is intact.
        let sql = Sql::open(&t.url).await;
        assert_eq!(
            sql.int("SELECT COUNT(*) FROM audit_log WHERE action = 'calendar.import' AND target_id = '2027'").await,
            2,
            "[{b}] the seed's empty 2027 notice and ours"
        );
        sql.close().await;
        assert_audit_intact(&t);
    }
}

// ---------------------------------------------------------------------------
// audit verify
// ---------------------------------------------------------------------------

#[tokio::test]
async fn audit_verify_catches_tampering() {
    for t in backends().await {
        let b = t.backend_name();
        // A few more rows on top of the calendar seeding.
        run(&t, &["user", "add", "--username", "auditee", "--name", "审计对象", "--password", PASSWORD]).expect_ok();
        run(&t, &["user", "disable", "auditee"]).expect_ok();
        assert_audit_intact(&t);

        let sql = Sql::open(&t.url).await;
        let rows = sql.int("SELECT COUNT(*) FROM audit_log").await;
        assert!(rows >= 6, "[{b}] expected several audit rows, have {rows}");
        let o = run(&t, &["audit", "verify"]);
        assert!(o.stdout.contains(&format!("共 {rows} 条")), "[{b}] {o:#?}");

        // 1. A row edited in place.
        let original = sql.text("SELECT summary FROM audit_log WHERE seq = 2").await;
        assert_eq!(sql.exec("UPDATE audit_log SET summary = '{}' WHERE seq = 2").await, 1);
        assert_audit_broken_at(&t, 2, "被修改");
        let entries = sql.audit_entries().await;
        let e2 = &entries[1];
        sql.set_audit_row(2, &original, &e2.prev_hash, &e2.hash).await;
        assert_audit_intact(&t);

        // 2. An edit whose row hash was recomputed: caught at the next row.
        let mut forged = sql.audit_entries().await[1].clone();
        forged.summary = "{}".into();
        let honest_hash = forged.hash.clone();
        forged.hash = forged.compute_hash();
        sql.set_audit_row(2, &forged.summary, &forged.prev_hash, &forged.hash).await;
        assert_audit_broken_at(&t, 3, "前序哈希");
        sql.set_audit_row(2, &original, &forged.prev_hash, &honest_hash).await;
        assert_audit_intact(&t);

        // 3. A middle row deleted.
        sql.exec("CREATE TABLE audit_keep AS SELECT * FROM audit_log WHERE seq = 4").await;
        assert_eq!(sql.exec("DELETE FROM audit_log WHERE seq = 4").await, 1);
        assert_audit_broken_at(&t, 4, "缺失");
        sql.exec("INSERT INTO audit_log SELECT * FROM audit_keep").await;
        sql.exec("DROP TABLE audit_keep").await;
        assert_audit_intact(&t);

        // 4. Two rows swapped (their positions exchanged).
        sql.exec("UPDATE audit_log SET seq = -3 WHERE seq = 3").await;
        sql.exec("UPDATE audit_log SET seq = 3 WHERE seq = 4").await;
        sql.exec("UPDATE audit_log SET seq = 4 WHERE seq = -3").await;
        assert_audit_broken_at(&t, 3, "前序哈希");
        sql.exec("UPDATE audit_log SET seq = -3 WHERE seq = 3").await;
        sql.exec("UPDATE audit_log SET seq = 3 WHERE seq = 4").await;
        sql.exec("UPDATE audit_log SET seq = 4 WHERE seq = -3").await;
        assert_audit_intact(&t);

        // 5. The tail cut off (the head row still remembers it).
        sql.exec("CREATE TABLE audit_keep AS SELECT * FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
            .await;
        let last = sql.int("SELECT MAX(seq) FROM audit_log").await;
        sql.exec("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_keep)").await;
        assert_audit_broken_at(&t, last, "链尾");
        sql.exec("INSERT INTO audit_log SELECT * FROM audit_keep").await;
        sql.exec("DROP TABLE audit_keep").await;
        assert_audit_intact(&t);

        // 6. Every row after an edit re-chained, but the head row left alone.
        let entries = sql.audit_entries().await;
        let mut prev = entries[0].hash.clone();
        for e in entries.iter().skip(1) {
            let mut f = e.clone();
            if f.seq == 2 {
                f.summary = "{}".into();
            }
            f.prev_hash = prev.clone();
            f.hash = f.compute_hash();
            sql.set_audit_row(f.seq, &f.summary, &f.prev_hash, &f.hash).await;
            prev = f.hash;
        }
        assert_audit_broken_at(&t, rows + 1, "链尾");
        for e in entries.iter().skip(1) {
            sql.set_audit_row(e.seq, &e.summary, &e.prev_hash, &e.hash).await;
        }
        assert_audit_intact(&t);
        sql.close().await;
    }
}

// ---------------------------------------------------------------------------
// user
// ---------------------------------------------------------------------------

#[tokio::test]
async fn user_management() {
    for t in backends().await {
        let b = t.backend_name();
        assert!(user_list(&t).is_empty(), "[{b}] fresh database has no users");

        let o = run(
            &t,
            &[
                "user",
                "add",
                "--username",
                "zhangsan",
                "--name",
                "张三",
                "--role",
                "editor",
                "--role",
                "reviewer",
                "--password",
                PASSWORD,
            ],
        )
        .expect_ok();
        assert!(o.stdout.contains("zhangsan"), "[{b}] {o:#?}");
        let users = user_list(&t);
        assert_eq!(users.len(), 1, "[{b}] {users:?}");
        let (u, name, roles, status) = &users[0];
        assert_eq!((u.as_str(), name.as_str(), status.as_str()), ("zhangsan", "张三", "active"), "[{b}]");
        assert!(roles.contains("editor") && roles.contains("reviewer"), "[{b}] roles: {roles}");

        // Weak, common and too-short passwords are refused with a Chinese reason.
        for weak in ["1234567890", "short", "aaaaaaaaaaaa", "lisi-Qinghe-2026"] {
            let o = run(&t, &["user", "add", "--username", "lisi", "--name", "李四", "--password", weak]).expect_fail();
            assert!(o.stderr.contains("密码") && contains_cjk(&o.stderr), "[{b}] {weak}: {o:#?}");
        }
        assert!(user_status(&t, "lisi").is_none(), "[{b}] a refused user must not be created");

        // Duplicate username, unknown role, unknown organisation.
        run(&t, &["user", "add", "--username", "zhangsan", "--name", "张三二", "--password", PASSWORD]).expect_fail();
        let o = run(
            &t,
            &["user", "add", "--username", "lisi", "--name", "李四", "--role", "emperor", "--password", PASSWORD],
        )
        .expect_fail();
        assert!(o.stderr.contains("emperor") && contains_cjk(&o.stderr), "[{b}] {o:#?}");
        run(&t, &["user", "add", "--username", "lisi", "--name", "李四", "--org", "999999", "--password", PASSWORD])
            .expect_fail();
        assert!(user_status(&t, "lisi").is_none(), "[{b}]");

        // Password from the environment and from standard input.
        let mut c = gk(&t);
        c.args(["user", "add", "--username", "wangwu", "--name", "王五"]).env("GONGKAI_PASSWORD", PASSWORD);
        run_cmd(c, None, "user add (env password)").expect_ok();
        let mut c = gk(&t);
        c.args(["user", "add", "--username", "zhaoliu", "--name", "赵六", "--no-force-change"]);
        run_cmd(c, Some("Zhao-Liu-Stdin-2026\n"), "user add (stdin password)").expect_ok();
        let mut c = gk(&t);
        c.args(["user", "add", "--username", "sunqi", "--name", "孙七"]);
        run_cmd(c, Some(""), "user add (empty stdin)").expect_fail();
        assert_eq!(user_list(&t).len(), 3, "[{b}]");

        let sql = Sql::open(&t.url).await;
        assert!(
            sql.flag("SELECT must_change_password FROM users WHERE username = 'zhangsan'").await,
            "[{b}] forced change by default"
        );
        assert!(
            !sql.flag("SELECT must_change_password FROM users WHERE username = 'zhaoliu'").await,
            "[{b}] --no-force-change"
        );
        let h = sql.text("SELECT password_hash FROM users WHERE username = 'zhaoliu'").await;
        assert!(gongkai_kernel::auth::password::verify("Zhao-Liu-Stdin-2026", &h).await, "[{b}] stdin password stored");

        // disable / enable
        let o = run(&t, &["user", "disable", "zhangsan"]).expect_ok();
        assert!(contains_cjk(&o.stdout), "[{b}] {o:#?}");
        assert_eq!(user_status(&t, "zhangsan").as_deref(), Some("disabled"), "[{b}]");
        assert_eq!(user_status(&t, "wangwu").as_deref(), Some("active"), "[{b}] others untouched");
        run(&t, &["user", "enable", "zhangsan"]).expect_ok();
        assert_eq!(user_status(&t, "zhangsan").as_deref(), Some("active"), "[{b}]");
        run(&t, &["user", "disable", "zhangsan"]).expect_ok();
        assert_eq!(user_status(&t, "zhangsan").as_deref(), Some("disabled"), "[{b}]");
        let o = run(&t, &["user", "disable", "nobody"]).expect_fail();
        assert!(o.stderr.contains("nobody") && contains_cjk(&o.stderr), "[{b}] {o:#?}");
        run(&t, &["user", "enable", "nobody"]).expect_fail();

        // passwd
        let before = sql.text("SELECT password_hash FROM users WHERE username = 'wangwu'").await;
        run(&t, &["user", "passwd", "wangwu", "--password", "Wang-Wu-Renewed-77"]).expect_ok();
        let after = sql.text("SELECT password_hash FROM users WHERE username = 'wangwu'").await;
        assert_ne!(before, after, "[{b}]");
        assert!(gongkai_kernel::auth::password::verify("Wang-Wu-Renewed-77", &after).await, "[{b}] new password works");
        assert!(!gongkai_kernel::auth::password::verify(PASSWORD, &after).await, "[{b}] old password no longer works");
        assert!(
            !sql.flag("SELECT must_change_password FROM users WHERE username = 'wangwu'").await,
            "[{b}] not temporary"
        );
        run(&t, &["user", "passwd", "wangwu", "--password", "Wang-Wu-Temporary-88", "--temporary"]).expect_ok();
        assert!(
            sql.flag("SELECT must_change_password FROM users WHERE username = 'wangwu'").await,
            "[{b}] --temporary forces a change"
        );
        let mut c = gk(&t);
        c.args(["user", "passwd", "wangwu"]);
        run_cmd(c, Some("Wang-Wu-From-Stdin-99\n"), "user passwd (stdin)").expect_ok();
        let h = sql.text("SELECT password_hash FROM users WHERE username = 'wangwu'").await;
        assert!(gongkai_kernel::auth::password::verify("Wang-Wu-From-Stdin-99", &h).await, "[{b}]");
        let o = run(&t, &["user", "passwd", "wangwu", "--password", "1234567890"]).expect_fail();
        assert!(o.stderr.contains("密码"), "[{b}] {o:#?}");
        assert_eq!(
            sql.text("SELECT password_hash FROM users WHERE username = 'wangwu'").await,
            h,
            "[{b}] a refused password changes nothing"
        );
        let o = run(&t, &["user", "passwd", "nobody", "--password", "Someone-Qinghe-2026"]).expect_fail();
        assert!(o.stderr.contains("nobody"), "[{b}] {o:#?}");

        // Every change was audited, and the chain holds.
        assert!(sql.int("SELECT COUNT(*) FROM audit_log WHERE actor_role = 'cli'").await >= 10, "[{b}]");
        sql.close().await;
        assert_audit_intact(&t);
    }
}

// ---------------------------------------------------------------------------
// config check
// ---------------------------------------------------------------------------

#[tokio::test]
async fn config_check() {
    for t in backends().await {
        let b = t.backend_name();
        let dir = tempfile::tempdir().expect("tempdir");

        // Unknown key in ./gongkai.toml (picked up from the working directory).
        std::fs::write(dir.path().join("gongkai.toml"), "listne = \"x\"\n").expect("write");
        let mut c = bare(dir.path());
        c.args(["--data-dir", t.dir.to_str().expect("path"), "config", "check"]);
        let o = run_cmd(c, None, "config check (unknown key)");
        assert_eq!(o.code, Some(2), "[{b}] {o:#?}");
        assert!(o.stderr.contains("listne"), "[{b}] {o:#?}");
        assert!(o.stdout.is_empty(), "[{b}] {o:#?}");
        // …and the same file refuses to start anything else either.
        let mut c = bare(dir.path());
        c.args(["--database-url", &t.url, "--data-dir", t.dir.to_str().expect("path"), "user", "list"]);
        assert_eq!(run_cmd(c, None, "user list (bad config)").code, Some(2), "[{b}]");

        // Bad values name their key; explicit --config works too.
        let cases = [
            ("bad-type.toml", "[security]\nlockout_minutes = \"ten\"\n", "lockout_minutes"),
            ("bad-listen.toml", "listen = \"localhost\"\n", "listen"),
            ("bad-url.toml", "database_url = \"mysql://u:pw@h/db\"\n", "database_url"),
            ("bad-section.toml", "[securty]\nlockout_minutes = 5\n", "securty"),
        ];
        for (name, text, key) in cases {
            let f = dir.path().join(name);
            std::fs::write(&f, text).expect("write");
            let mut c = bare(&t.dir);
            c.args(["--config", f.to_str().expect("path"), "config", "check"]);
            let o = run_cmd(c, None, name);
            assert_eq!(o.code, Some(2), "[{b}] {name}: {o:#?}");
            assert!(o.stderr.contains(key), "[{b}] {name}: stderr should name {key}: {o:#?}");
            assert!(!o.stderr.contains("pw@"), "[{b}] {name}: no password in errors: {o:#?}");
        }
        let mut c = bare(&t.dir);
        c.args(["--config", dir.path().join("absent.toml").to_str().expect("path"), "config", "check"]);
        assert_eq!(run_cmd(c, None, "missing --config file").code, Some(2), "[{b}]");
        let mut c = bare(&t.dir);
        c.args(["--log-format", "xml", "config", "check"]);
        let o = run_cmd(c, None, "bad --log-format");
        assert_eq!(o.code, Some(2), "[{b}] {o:#?}");
        assert!(o.stderr.contains("log_format"), "[{b}] {o:#?}");

        // A password in database_url is redacted.
        let f = dir.path().join("secret.toml");
        std::fs::write(&f, "database_url = \"postgres://u:secret@h/db\"\nlisten = \"127.0.0.1:9099\"\n")
            .expect("write");
        let mut c = bare(&t.dir);
        c.args(["--config", f.to_str().expect("path"), "config", "check"]);
        let o = run_cmd(c, None, "config check (secret)").expect_ok();
        assert!(!o.stdout.contains("secret") && !o.stderr.contains("secret"), "[{b}] password leaked: {o:#?}");
        assert!(o.stdout.contains("postgres://u:***@h/db"), "[{b}] {o:#?}");
        assert!(o.stdout.contains("127.0.0.1:9099"), "[{b}] file values are shown: {o:#?}");
        // The same through the environment, and the flag beating the file.
        let mut c = bare(&t.dir);
        c.args(["--config", f.to_str().expect("path"), "--listen", "127.0.0.1:9100", "config", "check"])
            .env("GONGKAI_DATABASE_URL", "postgres://gk:hunter2@db.example:5432/gongkai");
        let o = run_cmd(c, None, "config check (env secret)").expect_ok();
        assert!(!o.stdout.contains("hunter2"), "[{b}] {o:#?}");
        assert!(o.stdout.contains("gk:***@db.example"), "[{b}] {o:#?}");
        assert!(o.stdout.contains("127.0.0.1:9100") && !o.stdout.contains("9099"), "[{b}] {o:#?}");

        // The effective configuration of this test's database round-trips as valid TOML.
        let o = run(&t, &["config", "check"]).expect_ok();
        let back = dir.path().join("effective.toml");
        std::fs::write(&back, &o.stdout).expect("write");
        let mut c = bare(&t.dir);
        c.args(["--config", back.to_str().expect("path"), "config", "check"]);
        let again = run_cmd(c, None, "config check (round trip)").expect_ok();
        assert_eq!(again.stdout, o.stdout, "[{b}]");
    }
}

// ---------------------------------------------------------------------------
// backup / restore
// ---------------------------------------------------------------------------

#[tokio::test]
async fn sqlite_backup_and_restore() {
    let t = testkit::sqlite().await;
    t.db.close().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("snap.db");
    let f = file.to_str().expect("path");

    run(&t, &["user", "add", "--username", "before", "--name", "备份前", "--password", PASSWORD]).expect_ok();
    run(&t, &["backup", f]).expect_ok();
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    assert!(size > 4096, "backup file should hold a database ({size} bytes)");
    let o = run(&t, &["backup", f]).expect_fail();
    assert!(contains_cjk(&o.stderr), "refuses to overwrite: {o:#?}");
    assert_eq!(std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0), size, "existing backup untouched");

    run(&t, &["user", "add", "--username", "after", "--name", "备份后", "--password", PASSWORD]).expect_ok();
    let names = |t: &TestDb| {
        let mut v = user_list(t).into_iter().map(|u| u.0).collect::<Vec<_>>();
        v.sort();
        v
    };
    assert_eq!(names(&t), ["after", "before"]);

    run(&t, &["restore", f]).expect_ok();
    assert_eq!(names(&t), ["before"], "restore brings back the backed-up state");
    assert_audit_intact(&t);
    // The database is usable after the restore.
    run(&t, &["user", "add", "--username", "again", "--name", "恢复后", "--password", PASSWORD]).expect_ok();
    assert_eq!(names(&t), ["again", "before"]);
    assert_audit_intact(&t);

    // Things that are not gongkai backups are refused and leave the database as it was.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "this is not a database\n".repeat(500)).expect("write");
    let other = dir.path().join("other.db");
    {
        let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(&other).create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.expect("create other db");
        sqlx::query("CREATE TABLE t (x INTEGER)").execute(&pool).await.expect("create table");
        pool.close().await;
    }
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, "").expect("write");
    for bad in [&junk, &other, &empty, &dir.path().join("absent.db")] {
        let o = run(&t, &["restore", bad.to_str().expect("path")]).expect_fail();
        assert!(contains_cjk(&o.stderr), "{}: {o:#?}", bad.display());
        assert_eq!(names(&t), ["again", "before"], "{}: database must be intact", bad.display());
    }
    assert_audit_intact(&t);

    // Restoring under a running server is refused.
    let mut srv = gk(&t);
    srv.arg("serve");
    let server = Server::start(srv, "serve (restore guard)");
    let o = run(&t, &["restore", f]).expect_fail();
    assert!(o.stderr.contains(&server.proc.pid().to_string()), "names the running server: {o:#?}");
    assert!(server.stop().success());
    assert_eq!(names(&t), ["again", "before"]);
}

/// PostgreSQL backup/restore goes through pg_dump/pg_restore; runs when PostgreSQL is
/// configured and the client tools are installed.
#[tokio::test]
async fn postgres_backup_and_restore() {
    let Some(t) = testkit::postgres().await else {
        return;
    };
    t.db.close().await;
    if Command::new("pg_dump").arg("--version").output().is_err() {
        eprintln!("pg_dump not installed; skipping");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("snap.dump");
    let f = file.to_str().expect("path");
    run(&t, &["user", "add", "--username", "before", "--name", "备份前", "--password", PASSWORD]).expect_ok();
    run(&t, &["backup", f]).expect_ok();
    assert!(std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) > 0);
    run(&t, &["user", "add", "--username", "after", "--name", "备份后", "--password", PASSWORD]).expect_ok();
    run(&t, &["restore", f]).expect_ok();
    let names: Vec<String> = user_list(&t).into_iter().map(|u| u.0).collect();
    assert_eq!(names, ["before"]);
    assert_audit_intact(&t);
    let junk = dir.path().join("junk.dump");
    std::fs::write(&junk, "not a dump").expect("write");
    run(&t, &["restore", junk.to_str().expect("path")]).expect_fail();
    let names: Vec<String> = user_list(&t).into_iter().map(|u| u.0).collect();
    assert_eq!(names, ["before"]);
}

// ---------------------------------------------------------------------------
// serve / demo
// ---------------------------------------------------------------------------

#[tokio::test]
async fn serve_healthz_and_sigterm() {
    for t in backends().await {
        let b = t.backend_name();
        let mut c = gk(&t);
        c.arg("serve");
        let server = Server::start(c, &format!("serve [{b}]"));
        let pid_file = t.dir.join("serve.pid");
        if !is_pg(&t) {
            let pid = std::fs::read_to_string(&pid_file).unwrap_or_default();
            assert_eq!(pid.trim(), server.proc.pid().to_string(), "[{b}] serve.pid names the server");
        }
        let client = http();
        let r = client.get(server.url("/healthz")).send().await.expect("GET /healthz");
        assert_eq!(r.status().as_u16(), 200, "[{b}]");
        assert_eq!(r.text().await.expect("body").trim(), "ok", "[{b}]");
        let r = client.get(server.url("/no-such-page-here")).send().await.expect("GET 404");
        assert_eq!(r.status().as_u16(), 404, "[{b}]");

        let health = server.url("/healthz");
        let st = server.stop();
        assert!(st.success(), "[{b}] clean exit on SIGTERM: {st:?}");
        assert!(!pid_file.exists(), "[{b}] serve.pid removed on shutdown");
        assert!(client.get(&health).send().await.is_err(), "[{b}] nothing listens after shutdown");
    }
}

#[tokio::test]
async fn serve_refuses_a_taken_port() {
    for t in backends().await {
        let b = t.backend_name();
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = taken.local_addr().expect("addr").to_string();
        let mut c = gk(&t);
        c.args(["--listen", &addr, "serve"]);
        let o = run_cmd(c, None, "serve on a taken port").expect_fail();
        assert!(o.stderr.contains(&addr) && contains_cjk(&o.stderr), "[{b}] {o:#?}");
        let mut c = gk(&t);
        c.args(["--listen", "localhost", "serve"]);
        let o = run_cmd(c, None, "serve with a bad --listen");
        assert_eq!(o.code, Some(2), "[{b}] {o:#?}");
        assert!(o.stderr.contains("listen"), "[{b}] {o:#?}");
    }
}

const DEMO_USERNAMES: [&str; 11] = [
    "sysadmin",
    "secadmin",
    "auditor",
    "editor",
    "reviewer",
    "handler",
    "agent",
    "supervisor",
    "leader",
    "discloser",
    "discloser2",
];

#[tokio::test]
async fn demo_is_idempotent() {
    for t in backends().await {
        let b = t.backend_name();
        for round in 1..=2 {
            let mut c = gk(&t);
            c.arg("demo");
            let mut server = Server::start(c, &format!("demo #{round} [{b}]"));
            // The log-ins follow the start-up line.
            server.wait_line(|l| l.trim_start().starts_with("discloser2"), START_TIMEOUT);
            let out = server.collect().join("\n");
            assert!(out.contains("Demo-2026-Qinghe"), "[{b}] #{round}: {out}");
            for u in DEMO_USERNAMES {
                assert!(out.lines().any(|l| l.trim_start().starts_with(u)), "[{b}] #{round}: {u} not listed: {out}");
            }
            let r = http().get(server.url("/healthz")).send().await.expect("GET /healthz");
            assert_eq!(r.status().as_u16(), 200, "[{b}] #{round}");
            let st = server.stop();
            assert!(st.success(), "[{b}] #{round}: {st:?}");
        }
        let users = user_list(&t);
        for u in DEMO_USERNAMES {
            let n = users.iter().filter(|x| x.0 == u).count();
            assert_eq!(n, 1, "[{b}] {u} should exist exactly once: {users:?}");
            assert!(users.iter().any(|x| x.0 == u && x.3 == "active"), "[{b}] {u} active");
        }
        assert_eq!(users.len(), DEMO_USERNAMES.len(), "[{b}] {users:?}");
        // The search index is rebuilt from the database on demand, with progress.
        let o = run(&t, &["reindex"]).expect_ok();
        let sql = Sql::open(&t.url).await;
        let public = sql.text("SELECT CAST(COUNT(*) AS TEXT) FROM pub_items").await;
        assert!(o.stdout.contains(&format!("索引已重建：{public} 条信息")), "[{b}] {o:#?}");
        assert!(o.stderr.contains("重建索引："), "[{b}] progress: {o:#?}");
        let h = sql.text("SELECT password_hash FROM users WHERE username = 'editor'").await;
        assert!(gongkai_kernel::auth::password::verify("Demo-2026-Qinghe", &h).await, "[{b}] demo password");
        sql.close().await;
        assert_audit_intact(&t);
    }
}

// ---------------------------------------------------------------------------
// misc
// ---------------------------------------------------------------------------

#[tokio::test]
async fn migrate_is_repeatable_and_redacts() {
    for t in backends().await {
        let b = t.backend_name();
        for _ in 0..2 {
            let o = run(&t, &["migrate"]).expect_ok();
            assert!(contains_cjk(&o.stdout), "[{b}] {o:#?}");
        }
        // A fresh data dir without --database-url gets its own SQLite file.
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = bare(dir.path());
        c.args(["--data-dir", dir.path().join("d").to_str().expect("path"), "migrate"]);
        run_cmd(c, None, "migrate (fresh data dir)").expect_ok();
        assert!(dir.path().join("d").join("gongkai.db").exists(), "[{b}]");
        // An unreachable PostgreSQL fails with a Chinese reason that hides the password.
        let mut c = bare(dir.path());
        c.args(["--database-url", "postgres://u:topsecret@127.0.0.1:1/x", "migrate"]);
        let o = run_cmd(c, None, "migrate (unreachable)").expect_fail();
        assert!(!o.stderr.contains("topsecret") && contains_cjk(&o.stderr), "[{b}] {o:#?}");
    }
}

/// Restore writes to the configured database file (not always DATA_DIR/gongkai.db), and the
/// copy it keeps of the replaced database includes commits still in a crashed server's WAL.
#[tokio::test]
async fn sqlite_restore_targets_the_configured_file_and_keeps_wal_commits() {
    let t = testkit::sqlite().await;
    t.db.close().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let elsewhere = dir.path().join("elsewhere").join("x.db");
    std::fs::create_dir_all(elsewhere.parent().expect("parent")).expect("mkdir");
    std::fs::copy(t.dir.join("gongkai.db"), &elsewhere).expect("copy db");
    let url = format!("sqlite://{}", elsewhere.display());
    let data_dir = dir.path().join("d2");
    std::fs::create_dir_all(&data_dir).expect("mkdir");
    let cmd = |args: &[&str]| {
        let mut c = bare(&data_dir);
        c.arg("--database-url").arg(&url).arg("--data-dir").arg(&data_dir).args(args);
        run_cmd(c, None, &args.join(" "))
    };
    let snap = dir.path().join("snap.db");
    cmd(&["user", "add", "--username", "keep", "--name", "保留", "--password", PASSWORD]).expect_ok();
    cmd(&["backup", snap.to_str().expect("path")]).expect_ok();
    cmd(&["user", "add", "--username", "later", "--name", "之后", "--password", PASSWORD]).expect_ok();

    // Leave a commit in the WAL only, as a killed server would: write with checkpoints off,
    // copy the database and its WAL aside while the connection is open, then put them back.
    {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&elsewhere)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let pool = sqlx::SqlitePool::connect_with(opts).await.expect("open");
        sqlx::query("PRAGMA wal_autocheckpoint = 0").execute(&pool).await.expect("pragma");
        sqlx::query("UPDATE users SET display_name = '只在WAL里' WHERE username = 'later'")
            .execute(&pool)
            .await
            .expect("update");
        let wal = format!("{}-wal", elsewhere.display());
        let (db_copy, wal_copy) = (std::fs::read(&elsewhere).expect("read db"), std::fs::read(&wal).expect("read wal"));
        assert!(!wal_copy.is_empty(), "the commit sits in the WAL");
        pool.close().await;
        std::fs::write(&elsewhere, db_copy).expect("restore db bytes");
        std::fs::write(&wal, wal_copy).expect("restore wal bytes");
    }

    cmd(&["restore", snap.to_str().expect("path")]).expect_ok();
    assert!(!data_dir.join("gongkai.db").exists(), "restore must not write a database into the data dir");
    let users = cmd(&["user", "list"]).expect_ok().stdout;
    assert!(users.contains("keep") && !users.contains("later"), "restored the configured file: {users}");
    let kept = std::fs::read_dir(elsewhere.parent().expect("parent"))
        .expect("ls")
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("x.db.before-restore-"))
        .expect("the replaced database is kept beside it")
        .path();
    let pool =
        sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&kept).read_only(true))
            .await
            .expect("open kept");
    let name: String = sqlx::query_scalar("SELECT display_name FROM users WHERE username = 'later'")
        .fetch_one(&pool)
        .await
        .expect("later in kept copy");
    assert_eq!(name, "只在WAL里", "the kept copy includes the WAL-only commit");
    pool.close().await;
}
