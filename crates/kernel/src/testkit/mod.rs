//! Test harness shared by every crate's tests: a fresh database per test on SQLite and,
//! when `GONGKAI_TEST_DATABASE_URL` is set, on PostgreSQL too (cloned from a template
//! database migrated once per schema version), and a real server on 127.0.0.1:0.
//!
//! `browser` (cargo feature `browser`) drives headless Chromium over W3C WebDriver;
//! `checkers` runs the outside checkers (axe-core, the Nu HTML Checker, feedparser).

use std::path::PathBuf;

use sqlx::Connection;

use crate::config::Config;
use crate::db::Db;

#[cfg(feature = "browser")]
pub mod browser;
pub mod checkers;

pub const ENV_PG: &str = "GONGKAI_TEST_DATABASE_URL";

pub struct TestDb {
    pub db: Db,
    pub url: String,
    pub dir: PathBuf,
    pg: Option<(String, String)>, // (admin url, database name) to drop
}

impl TestDb {
    pub fn backend_name(&self) -> &'static str {
        match self.db.backend() {
            crate::db::Backend::Sqlite => "sqlite",
            crate::db::Backend::Postgres => "postgres",
        }
    }
    /// A configuration pointing at this database, listening on an ephemeral port.
    pub fn config(&self) -> Config {
        Config {
            listen: "127.0.0.1:0".into(),
            data_dir: self.dir.clone(),
            database_url: self.url.clone(),
            ..Config::default()
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin, name)) = self.pg.take() {
            // Drop runs outside any runtime guarantee: use a short-lived one on a thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            )))
                            .execute(&mut c)
                            .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("gongkai-test-{}", crate::random_token::<8>()));
    let _ = std::fs::create_dir_all(&d);
    d
}

/// What every test database gets once: schema and the official calendar (shared through
/// the PostgreSQL template).
async fn prepare(db: &Db) -> crate::Result<()> {
    db.migrate().await?;
    crate::calendar::service::seed_if_empty(db).await?;
    Ok(())
}

/// Time-dependent rows are made per database, never copied from a template created
/// earlier (a schedule's next run would already be past and fire in the test).
async fn schedules(db: &Db) -> crate::Result<()> {
    for (name, cron, kind) in crate::jobs::runner::BUILTIN_SCHEDULES {
        crate::jobs::ensure_schedule(db, name, cron, kind).await?;
    }
    Ok(())
}

pub async fn sqlite() -> TestDb {
    let dir = temp_dir();
    let url = format!("sqlite://{}", dir.join("gongkai.db").display());
    let db = Db::connect(&url).await.expect("open sqlite");
    prepare(&db).await.expect("prepare sqlite");
    schedules(&db).await.expect("schedules");
    TestDb { db, url, dir, pg: None }
}

/// A database cloned from the per-schema template; None when PostgreSQL is not configured.
pub async fn postgres() -> Option<TestDb> {
    let admin = std::env::var(ENV_PG).ok().filter(|s| !s.trim().is_empty())?;
    // Bump when `prepare` changes what a template holds, so stale templates are not reused.
    const RECIPE: u64 = 2;
    let mut hash = RECIPE;
    for m in crate::db::PG_MIGRATIONS.iter() {
        for b in m.checksum.iter() {
            hash = hash.wrapping_mul(1_099_511_628_211).wrapping_add(*b as u64);
        }
    }
    let tpl = format!("gongkai_tpl_{:016x}", hash);
    let mut c = sqlx::PgConnection::connect(&admin).await.expect("connect to GONGKAI_TEST_DATABASE_URL");
    sqlx::query("SELECT pg_advisory_lock(727274)").execute(&mut c).await.expect("lock");
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&tpl)
        .fetch_optional(&mut c)
        .await
        .expect("query");
    if exists.is_none() {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{tpl}\"")))
            .execute(&mut c)
            .await
            .expect("create template");
        let tpl_url = with_database(&admin, &tpl);
        let db = Db::connect(&tpl_url).await.expect("connect template");
        prepare(&db).await.expect("migrate template");
        db.close().await;
    }
    sqlx::query("SELECT pg_advisory_unlock(727274)").execute(&mut c).await.expect("unlock");
    let name = format!("gongkai_t_{}", crate::random_token::<8>());
    let mut tries = 0;
    loop {
        match sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\" TEMPLATE \"{tpl}\"")))
            .execute(&mut c)
            .await
        {
            Ok(_) => break,
            Err(e) if tries < 20 => {
                tries += 1;
                tracing::debug!(error = %e, "template busy; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(100 * tries)).await;
            }
            Err(e) => panic!("create test database: {e}"),
        }
    }
    let _ = c.close().await;
    let url = with_database(&admin, &name);
    let db = Db::connect(&url).await.expect("connect test database");
    schedules(&db).await.expect("schedules");
    Some(TestDb { db, url, dir: temp_dir(), pg: Some((admin, name)) })
}

/// Replace the database name of a postgres:// URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    match base[after_scheme..].find('/') {
        Some(i) => format!("{}/{name}{query}", &base[..after_scheme + i]),
        None => format!("{base}/{name}{query}"),
    }
}

/// Every configured backend: SQLite always, PostgreSQL when configured.
pub async fn backends() -> Vec<TestDb> {
    let mut v = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        v.push(pg);
    }
    v
}

/// A running server for black-box tests.
pub struct TestServer {
    pub base: String,
    pub state: crate::web::AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(t: &TestDb) -> TestServer {
        Self::start_with(t, t.config()).await
    }
    pub async fn start_with(t: &TestDb, cfg: Config) -> TestServer {
        Self::start_state(crate::web::AppState::new(t.db.clone(), cfg)).await
    }
    /// A server with slices' console pages plugged in.
    pub async fn start_slices(t: &TestDb, slices: Vec<crate::web::Slice>) -> TestServer {
        Self::start_state(crate::web::AppState::with_slices(t.db.clone(), t.config(), slices)).await
    }
    pub async fn start_state(state: crate::web::AppState) -> TestServer {
        let listener = crate::web::bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        tokio::spawn(async move {
            let _ = crate::web::serve(listener, st, async {
                let _ = rx.await;
            })
            .await;
        });
        TestServer { base: format!("http://{addr}"), state, shutdown: Some(tx) }
    }
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub const TEST_PASSWORD: &str = "Qing-He-Test-2026";

/// Create an active user (no forced change) with one district-wide role.
pub async fn user_with_role(db: &Db, username: &str, role: Option<crate::auth::Role>) -> i64 {
    let actor = crate::audit::Actor::system("test");
    let input = crate::auth::service::UserInput {
        username: username.into(),
        display_name: format!("测试{username}"),
        password: TEST_PASSWORD.into(),
        ..Default::default()
    };
    let u = crate::auth::service::create_user(db, None, &actor, &input, false).await.expect("create user");
    if let Some(r) = role {
        crate::auth::service::grant(db, None, &actor, u.id, r, None, None).await.expect("grant");
    }
    u.id
}

/// The principal of a user as a request would see it (grants loaded from the database).
pub async fn principal(db: &Db, user_id: i64) -> crate::auth::Principal {
    crate::auth::service::principal_of(db, user_id).await.expect("principal")
}
