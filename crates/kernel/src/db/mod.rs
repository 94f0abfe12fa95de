//! Storage: one enum over the two backends, one SQL text for both wherever the SQL
//! allows (`$n` placeholders, epoch-ms integers, ISO date text). A query body is written
//! once inside `with_conn!` and compiled for each backend.

pub mod group;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, SqliteConnection, SqlitePool};

use crate::error::{Error, Result};

pub static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
pub static PG_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

#[derive(Clone, Debug)]
pub enum Db {
    /// One writer connection (so bursts queue instead of failing with SQLITE_BUSY)
    /// and a pool of readers (WAL lets them run beside the writer).
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
        checkpoints: Arc<Checkpoints>,
    },
    Pg(PgPool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A borrowed connection of either backend; store functions take `&mut Conn`.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Pg(&'c mut PgConnection),
}

impl Conn<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Pg(_) => Backend::Postgres,
        }
    }
}

/// Run one body against whichever backend `$conn` (a `&mut Conn`) holds. Inside the
/// body `$c` is `&mut &mut XConnection`; pass `&mut **$c` as the executor.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Pg($c) => $body,
        }
    };
}

pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Pg(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Pg(t) => Conn::Pg(t),
        }
    }
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// A pooled connection for reads outside a transaction.
pub enum Handle {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Pg(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl Handle {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Handle::Sqlite(c) => Conn::Sqlite(c),
            Handle::Pg(c) => Conn::Pg(c),
        }
    }
}

/// Where the database lives, from `--database-url` or the data directory.
pub fn resolve_url(database_url: Option<&str>, data_dir: &Path) -> String {
    match database_url.map(str::trim).filter(|s| !s.is_empty()) {
        Some(u) => u.to_string(),
        None => format!("sqlite://{}", data_dir.join("gongkai.db").display()),
    }
}

/// "(col LIKE $n OR col LIKE $n+1 …)" for `count` prefix binds, numbering placeholders
/// after `*next` (which it advances). Organisation scopes become one SQL filter this way
/// whatever the number of grants; bind each path as `format!("{path}%")`.
pub fn prefix_condition(column: &str, count: usize, next: &mut usize) -> String {
    let conds: Vec<String> = (0..count)
        .map(|_| {
            *next += 1;
            format!("{column} LIKE ${}", *next)
        })
        .collect();
    format!("({})", conds.join(" OR "))
}

/// The VALUES list of a multi-row INSERT: `rows` groups of `cols` placeholders, numbered
/// `$1..` row by row (bind each row's values in turn).
pub fn value_rows(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=cols).map(|k| format!("${}", r * cols + k)).collect();
            format!("({})", marks.join(","))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Splits `items` into runs whose lengths are powers of two, at most `max` (a power of
/// two), largest first. Multi-row statements then come in a few shapes (six up to 32
/// rows) that each connection prepares once and keeps in its statement cache; one shape
/// per batch size would evict each other and be parsed again on every batch.
pub fn pow2_chunks<T>(items: &[T], max: usize) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let mut n = max.max(1);
        while n > rest.len() {
            n /= 2;
        }
        let (head, tail) = rest.split_at(n);
        out.push(head);
        rest = tail;
    }
    out
}

/// WAL pages (1 GiB) at which the SQLite writer checkpoints by itself: only a safety net,
/// since `Checkpoints` keeps the WAL small. Lower, a large transaction paid for the copy
/// at its commit: the sweep's catch-up over 1,000,000 open orders (600 MB of WAL)
/// committed in 2.27 s at 16,384 pages, 0.46 s at this.
const WRITER_CHECKPOINT_PAGES: u32 = 262_144;
/// WAL frames (64 MiB of 4 KiB pages) past which `Checkpoints` also has the WAL started
/// over. A writer starts it over by itself only if, at its commit, every frame has been
/// copied back and no reader still reads from the WAL. Under a steady stream of commits and
/// reads that never held: the WAL grew to the writer's own limit (1 GiB), whose one commit
/// then paid for the restart and the cut back, 340 ms for every caller queued behind it,
/// every 12 s at 2,100 Open311 intakes/s.
const WAL_RESTART_FRAMES: i64 = 16_384;
/// How long the restart waits for the writer, and then for the readers still in the WAL,
/// before it gives up until the next tick: it holds the write lock while it waits.
const WAL_RESTART_WAIT: Duration = Duration::from_millis(20);
/// Bytes the WAL file is cut back to once checkpointed, after a large transaction grew it:
/// above what a restart leaves (`WAL_RESTART_FRAMES` and half a second of commits), so a
/// steady load never pays for the cut.
const WAL_SIZE_LIMIT: u32 = 128 << 20;
/// The writer's page cache (KiB; SQLite's default is 2 MiB).
const WRITER_CACHE_KIB: u32 = 65_536;
/// Pages a transaction may hold dirty in the writer's cache before SQLite spills them to
/// the WAL mid-transaction (1 GiB; beyond `WRITER_CACHE_KIB` the cache grows only for such
/// a transaction). Spilled, a large transaction re-reads what it spilled: the sweep's
/// catch-up over 1,000,000 open orders (about 150,000 pages) took 4.7 s spilling at 64 MiB,
/// 3.5 s without spilling.
const WRITER_SPILL_PAGES: u32 = 262_144;
/// Bytes of the database file read through a memory map instead of a copy into each
/// connection's cache (read-only: writes still go through the WAL). The catch-up sweep:
/// 4.4 s without, 3.5 s with.
const MMAP_BYTES: u64 = 2 << 30;
/// How often the WAL is checkpointed beside the writer.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// The task that checkpoints an SQLite database's WAL from a connection of its own
/// (PASSIVE: it never blocks the writer or readers), and has the WAL started over once it
/// is long (`WAL_RESTART_FRAMES`). Left to SQLite's automatic checkpoint, the writer itself
/// copies and syncs every 1,000 pages, and every caller queued behind it waits: at 2,000
/// Open311 intakes/s that was a 300 ms p99. The task stops when the last clone of the `Db`
/// is dropped or closed.
#[derive(Debug)]
pub struct Checkpoints(tokio::task::JoinHandle<()>);

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn checkpoint_loop(pool: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = checkpoint(&pool, WAL_RESTART_FRAMES).await {
            tracing::warn!(error = %e, "SQLite WAL checkpoint failed; the writer's own checkpoint remains");
        }
    }
}

/// What one checkpoint did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checkpointed {
    /// Copied what no reader still needs; the WAL is short enough to go on growing.
    Copied,
    /// Copied everything and saw the readers out of the WAL: the next commit starts it over.
    Restarted,
    /// The WAL is long but a writer or reader held on past `WAL_RESTART_WAIT`.
    RestartBusy,
}

/// A PASSIVE checkpoint and, when the WAL holds `restart_frames` or more, a RESTART: with
/// the write lock, it copies the little committed since and waits for the readers still in
/// the WAL, each wait at most `WAL_RESTART_WAIT` (the connection's busy timeout), so a long
/// reader makes it give up rather than hold the writer off.
async fn checkpoint(pool: &SqlitePool, restart_frames: i64) -> std::result::Result<Checkpointed, sqlx::Error> {
    let (_, log, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(pool).await?;
    if log < restart_frames {
        return Ok(Checkpointed::Copied);
    }
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(RESTART)").fetch_one(pool).await?;
    Ok(if busy == 0 { Checkpointed::Restarted } else { Checkpointed::RestartBusy })
}

/// `n` fresh ids of `table.id`, taken inside a write transaction, so a batch can write
/// rows that refer to each other with multi-row statements. SQLite (one writer; the tables
/// have no AUTOINCREMENT): the ids after the largest, which SQLite would assign itself;
/// PostgreSQL: from the column's sequence (unique, not always consecutive).
pub async fn next_ids(c: &mut Conn<'_>, table: &'static str, n: usize) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(n).map_err(|_| Error::Internal("too many ids".into()))?;
    match c {
        Conn::Sqlite(x) => {
            let sql = format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
            let max: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut **x).await?;
            Ok((1..=count).map(|k| max + k).collect())
        }
        Conn::Pg(x) => {
            let sql = format!("SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)");
            Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(count).fetch_all(&mut **x).await?)
        }
    }
}

/// The file of an SQLite URL (`sqlite://path` or `sqlite:path`); None for PostgreSQL.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let p = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let p = p.split('?').next().unwrap_or(p);
    (!p.is_empty()).then(|| PathBuf::from(p))
}

/// Hide the password of a connection URL for logs and `config check`.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.rsplit_once('@')
    {
        let user = creds.split(':').next().unwrap_or("");
        if creds.contains(':') {
            return format!("{scheme}://{user}:***@{host}");
        }
    }
    url.to_string()
}

impl Db {
    /// Connect (creating the SQLite file and its folder if needed) without migrating.
    pub async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| Error::Internal(format!("数据库地址无效：{e}")))?
                // JIT compiles each large statement before running it: measured on the
                // hotline's statistics statement over one day's 536,099 timeline entries,
                // 1.69 s with JIT and 1.57 s without; nothing here runs long enough to repay it.
                .options([("jit", "off")]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .map_err(|e| Error::Internal(format!("无法连接 PostgreSQL（{}）：{e}", redact_url(url))))?;
            Ok(Db::Pg(pool))
        } else if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if let Some(parent) = Path::new(path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::Internal(format!("无法创建数据目录 {}：{e}", parent.display())))?;
            }
            let base = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string())
                .pragma("mmap_size", MMAP_BYTES.to_string());
            // An embedded file cannot drop a connection: no ping before each use (a round
            // trip to the connection's thread; about a sixth of an Open311 intake's).
            let write = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                // Writers queue here; a burst waits rather than failing.
                .acquire_timeout(Duration::from_secs(60))
                // Checkpoints run beside the writer (`Checkpoints`); the writer does one
                // itself only if the WAL ever reaches 1 GiB.
                .connect_with(
                    base.clone()
                        .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string())
                        .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
                        .pragma("cache_spill", WRITER_SPILL_PAGES.to_string()),
                )
                .await
                .map_err(|e| Error::Internal(format!("无法打开 SQLite 数据库 {path}：{e}")))?;
            let checkpointer = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(base.clone().pragma("wal_autocheckpoint", "0").busy_timeout(WAL_RESTART_WAIT))
                .await
                .map_err(|e| Error::Internal(format!("无法打开 SQLite 数据库 {path}：{e}")))?;
            let checkpoints = Arc::new(Checkpoints(tokio::spawn(checkpoint_loop(checkpointer))));
            let read = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(base.read_only(true))
                .await
                .map_err(|e| Error::Internal(format!("无法打开 SQLite 数据库 {path}：{e}")))?;
            Ok(Db::Sqlite { write, read, checkpoints })
        } else {
            Err(Error::Internal(format!("数据库地址无效：{}（应以 postgres:// 或 sqlite:// 开头）", redact_url(url))))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Pg(_) => Backend::Postgres,
        }
    }

    fn migrator(&self) -> &'static Migrator {
        match self {
            Db::Sqlite { .. } => &SQLITE_MIGRATIONS,
            Db::Pg(_) => &PG_MIGRATIONS,
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite { write, .. } => SQLITE_MIGRATIONS.run(write).await?,
            Db::Pg(p) => PG_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// Migrations embedded in this binary that the database has not applied.
    pub async fn pending_migrations(&self) -> Result<usize> {
        let mut h = self.read().await?;
        let applied: Vec<i64> = with_conn!(&mut h.conn(), c => {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_all(&mut **c)
                .await
        })
        .unwrap_or_default();
        Ok(self.migrator().iter().filter(|m| !applied.contains(&m.version)).count())
    }

    /// A write transaction. SQLite: `BEGIN IMMEDIATE` on the single writer, so the
    /// write lock is taken up front and another process waits on busy_timeout.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Pg(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<Handle> {
        Ok(match self {
            Db::Sqlite { read, .. } => Handle::Sqlite(read.acquire().await?),
            Db::Pg(p) => Handle::Pg(p.acquire().await?),
        })
    }

    pub async fn ping(&self) -> Result<()> {
        let mut h = self.read().await?;
        with_conn!(&mut h.conn(), c => sqlx::query("SELECT 1").execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// (size, idle) of the main pool, for /metrics.
    pub fn pool_stats(&self) -> (u32, usize) {
        match self {
            Db::Sqlite { read, write, .. } => (read.size() + write.size(), read.num_idle() + write.num_idle()),
            Db::Pg(p) => (p.size(), p.num_idle()),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { write, read, checkpoints } => {
                checkpoints.0.abort();
                read.close().await;
                write.close().await;
            }
            Db::Pg(p) => p.close().await,
        }
    }
}

/// SQLite online backup: `VACUUM INTO` writes a consistent, compacted copy while
/// readers and the writer carry on.
pub async fn sqlite_snapshot(db: &Db, file: &Path) -> Result<()> {
    let Db::Sqlite { write, .. } = db else {
        return Err(Error::Internal("仅 SQLite 支持内置快照备份".into()));
    };
    let target = file.to_string_lossy().to_string();
    sqlx::query("VACUUM INTO $1").bind(&target).execute(write).await?;
    Ok(())
}

/// Replace the database file with a backup after checking the backup opens, is a gongkai
/// database and passes SQLite's integrity check. The old file is kept beside it.
pub async fn sqlite_restore(backup: &Path, target: &Path) -> Result<()> {
    let url = format!("sqlite://{}", backup.display());
    let opts = SqliteConnectOptions::from_str(&url).map_err(Error::internal)?.read_only(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .map_err(|e| Error::Internal(format!("备份文件无法打开：{e}")))?;
    let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .map_err(|e| Error::Internal(format!("备份文件损坏：{e}")))?;
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
        .fetch_all(&pool)
        .await
        .map_err(|_| Error::Internal("该文件不是 gongkai 的数据库备份".into()))?;
    pool.close().await;
    if ok != "ok" {
        return Err(Error::Internal(format!("备份文件完整性检查未通过：{ok}")));
    }
    if versions.is_empty() {
        return Err(Error::Internal("该文件不是 gongkai 的数据库备份".into()));
    }
    let side = |suffix: &str| PathBuf::from(format!("{}{suffix}", target.display()));
    if target.exists() {
        // Fold a crashed server's WAL into the file first, so the copy kept beside it
        // holds every committed transaction.
        let opts = SqliteConnectOptions::new().filename(target);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(|e| Error::Internal(format!("无法打开当前数据库：{e}")))?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await?;
        pool.close().await;
        let keep = side(&format!(".before-restore-{}", crate::clock::now_ms()));
        std::fs::rename(target, &keep).map_err(Error::internal)?;
    } else if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(Error::internal)?;
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(side(suffix));
    }
    std::fs::copy(backup, target).map_err(Error::internal)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer, a reader and the checkpointer on one WAL file, as `Db::connect` opens
    /// them, without the background task (each test calls `checkpoint` itself).
    async fn wal_pools(dir: &Path) -> (SqlitePool, SqlitePool, SqlitePool) {
        let base = SqliteConnectOptions::new()
            .filename(dir.join("t.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        let one = |o: SqliteConnectOptions| async move {
            SqlitePoolOptions::new().max_connections(1).connect_with(o).await.unwrap()
        };
        let write = one(base.clone().pragma("wal_autocheckpoint", "0")).await;
        let read = one(base.clone()).await;
        let ckpt = one(base.pragma("wal_autocheckpoint", "0").busy_timeout(WAL_RESTART_WAIT)).await;
        sqlx::query("CREATE TABLE t (x BLOB)").execute(&write).await.unwrap();
        (write, read, ckpt)
    }

    /// Commits `n` transactions of a page each.
    async fn commits(write: &SqlitePool, n: usize) {
        for _ in 0..n {
            sqlx::query("INSERT INTO t VALUES (randomblob(3000))").execute(write).await.unwrap();
        }
    }

    /// Frames in the WAL now (a PASSIVE checkpoint reports them).
    async fn wal_frames(ckpt: &SqlitePool) -> i64 {
        let (_, log, _): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(ckpt).await.unwrap();
        log
    }

    #[tokio::test]
    async fn a_long_wal_is_started_over_and_a_short_one_left_to_grow() {
        let dir = tempfile::tempdir().unwrap();
        let (write, _read, ckpt) = wal_pools(dir.path()).await;
        commits(&write, 20).await;
        assert_eq!(checkpoint(&ckpt, 100).await.unwrap(), Checkpointed::Copied);
        commits(&write, 100).await;
        let before = wal_frames(&ckpt).await;
        assert!(before >= 100, "{before} frames");
        assert_eq!(checkpoint(&ckpt, 100).await.unwrap(), Checkpointed::Restarted);
        commits(&write, 1).await;
        let after = wal_frames(&ckpt).await;
        assert!(after < 10, "the commit after a restart writes from the WAL's start: {after} frames, {before} before");
    }

    #[tokio::test]
    async fn a_reader_in_the_wal_defers_the_restart_without_holding_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let (write, read, ckpt) = wal_pools(dir.path()).await;
        commits(&write, 100).await;
        // A reader whose snapshot is in the WAL, as under a stream of reads.
        let mut r = read.begin().await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(&mut *r).await.unwrap();
        assert_eq!(n, 100);
        assert_eq!(checkpoint(&ckpt, 50).await.unwrap(), Checkpointed::RestartBusy);
        // The checkpoint gave the write lock back: the writer commits, after the WAL's end.
        commits(&write, 1).await;
        assert!(wal_frames(&ckpt).await > 100);
        r.commit().await.unwrap();
        assert_eq!(checkpoint(&ckpt, 50).await.unwrap(), Checkpointed::Restarted);
        commits(&write, 1).await;
        assert!(wal_frames(&ckpt).await < 10);
    }

    #[test]
    fn chunks_are_powers_of_two_largest_first() {
        let v: Vec<u32> = (0..203).collect();
        let sizes: Vec<usize> = pow2_chunks(&v, 128).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [128, 64, 8, 2, 1]);
        let joined: Vec<u32> = pow2_chunks(&v, 128).concat();
        assert_eq!(joined, v);
        assert_eq!(pow2_chunks(&v[..0], 128).len(), 0);
        assert_eq!(pow2_chunks(&v[..3], 1).len(), 3);
    }
}
