//! gongkai-search: Chinese full-text search over everything the site group publishes.
//!
//! One tantivy index per node under `<data_dir>/search/`, segmented with jieba plus the
//! government dictionary, fed from the outbox (`feed`), rebuilt in a new generation while
//! the old one keeps serving (`gongkai reindex`, or by itself when the index is missing,
//! stale or of another dictionary). The database stays the truth.

pub mod engine;
pub mod extract;
pub mod feed;
pub mod query;
pub mod store;
pub mod text;
pub mod web;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use gongkai_kernel::db::Db;
use gongkai_kernel::web::AppState;
use gongkai_kernel::{Error, Result};

pub use engine::{Doc, Engine};
pub use query::{Hit, Request, Results, Sort};
use text::Segmenter;

/// The search service of one node.
#[derive(Clone)]
pub struct Search(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    files: gongkai_cms::attachments::FileStore,
    root: PathBuf,
    engine: RwLock<Arc<Engine>>,
    synonyms: RwLock<Arc<HashMap<String, Vec<String>>>>,
    /// Aggregated search terms not yet written: (day, site, term) → count.
    terms: Mutex<HashMap<(String, i64, String), i64>>,
    rebuilding: AtomicBool,
    progress: (AtomicU64, AtomicU64),
    wake: tokio::sync::Notify,
}

impl std::ops::Deref for Search {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

const CURRENT: &str = "CURRENT";
const WORDS: &str = "words.json";

/// Index state shown in the console.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub docs: u64,
    pub after: i64,
    pub generation: String,
    pub rebuilding: bool,
    pub done: u64,
    pub total: u64,
}

fn io(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("search index: {e}"))
}

fn dict_hash(words: &[String]) -> String {
    use std::hash::{Hash, Hasher};
    let mut sorted: Vec<&String> = words.iter().collect();
    sorted.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    sorted.hash(&mut h);
    text::BUILTIN_WORDS.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The generation `CURRENT` names, opened with the words it was built with.
fn open_current(root: &Path) -> Option<Engine> {
    let name = std::fs::read_to_string(root.join(CURRENT)).ok()?;
    let dir = root.join(name.trim());
    let words: Vec<String> =
        std::fs::read_to_string(dir.join(WORDS)).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    match Engine::open(&dir, Segmenter::new(&words), &dict_hash(&words), 48) {
        Ok(e) => Some(e),
        Err(e) => {
            tracing::warn!(error = %e, "search index not usable; it will be rebuilt");
            None
        }
    }
}

/// A fresh generation directory with the words it is built with.
fn new_generation(root: &Path, words: &[String], writer_mb: usize) -> Result<Engine> {
    let name = format!("g{}", gongkai_kernel::clock::now_ms());
    let dir = root.join(&name);
    std::fs::create_dir_all(&dir).map_err(io)?;
    std::fs::write(dir.join(WORDS), serde_json::to_string(words).map_err(io)?).map_err(io)?;
    Engine::create(Some(&dir), Segmenter::new(words), &dict_hash(words), writer_mb)
}

/// Point `CURRENT` at a generation (write and rename, so readers see old or new).
fn make_current(root: &Path, dir: &Path) -> Result<()> {
    let name = dir.file_name().and_then(|n| n.to_str()).ok_or_else(|| io("generation name"))?;
    let tmp = root.join(format!("{CURRENT}.tmp"));
    std::fs::write(&tmp, name).map_err(io)?;
    std::fs::rename(&tmp, root.join(CURRENT)).map_err(io)
}

/// Remove generations other than the current one (their files may still be mapped by
/// a reader; Linux keeps them until it lets go).
fn prune(root: &Path) {
    let current = std::fs::read_to_string(root.join(CURRENT)).unwrap_or_default();
    if let Ok(rd) = std::fs::read_dir(root) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with('g') && n != current.trim() && e.path().is_dir() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Build a new generation from the database and make it current; the index it replaces
/// keeps serving until then (also in a server running beside `gongkai reindex`, which
/// follows `CURRENT`). Returns the folder, the words it was built with and the item count.
pub async fn build_generation(
    db: &Db,
    files: &gongkai_cms::attachments::FileStore,
    root: &Path,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<(PathBuf, Vec<String>, u64)> {
    std::fs::create_dir_all(root).map_err(io)?;
    let words = store::words(db).await?;
    // Events from here on are applied again after the hand-over (idempotently).
    let head = gongkai_kernel::outbox::head(db).await?;
    let e = new_generation(root, &words, 256)?;
    let n = feed::fill(db, files, &e, progress).await?;
    e.commit(head)?;
    let dir = e.dir.clone().ok_or_else(|| io("generation without a folder"))?;
    drop(e);
    make_current(root, &dir)?;
    Ok((dir, words, n))
}

/// `gongkai reindex`: rebuild the index of the node whose data folder this is.
pub async fn reindex(db: &Db, data_dir: &Path, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> Result<u64> {
    let files = gongkai_cms::attachments::FileStore::new(data_dir);
    let (_, _, n) = build_generation(db, &files, &data_dir.join("search"), progress).await?;
    Ok(n)
}

impl Search {
    /// Open this node's index (an empty one when there is none yet; the follower fills it).
    pub fn open(db: Db, data_dir: &Path) -> Result<Search> {
        let root = data_dir.join("search");
        std::fs::create_dir_all(&root).map_err(io)?;
        let engine = match open_current(&root) {
            Some(e) => e,
            None => {
                let e = new_generation(&root, &[], 48)?;
                if let Some(d) = &e.dir {
                    make_current(&root, d)?;
                }
                e
            }
        };
        prune(&root);
        Ok(Search(Arc::new(Inner {
            db,
            files: gongkai_cms::attachments::FileStore::new(data_dir),
            root,
            engine: RwLock::new(Arc::new(engine)),
            synonyms: RwLock::new(Arc::new(HashMap::new())),
            terms: Mutex::new(HashMap::new()),
            rebuilding: AtomicBool::new(false),
            progress: (AtomicU64::new(0), AtomicU64::new(0)),
            wake: tokio::sync::Notify::new(),
        })))
    }

    pub fn engine(&self) -> Arc<Engine> {
        self.engine.read().map(|e| e.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    fn swap(&self, e: Engine) {
        let mut g = self.engine.write().unwrap_or_else(|p| p.into_inner());
        *g = Arc::new(e);
    }

    pub fn synonyms(&self) -> Arc<HashMap<String, Vec<String>>> {
        self.synonyms.read().map(|s| s.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Run a search. Never fails on what the visitor typed; an index fault is an error.
    pub fn search(&self, r: &Request) -> Result<Results> {
        query::run(&self.engine(), &self.synonyms(), r).map_err(io)
    }

    pub fn suggest(&self, prefix: &str, n: usize) -> Result<Vec<String>> {
        query::suggest(&self.engine(), prefix, n).map_err(io)
    }

    /// Count a search term (aggregated in memory, written by the follower).
    pub fn log_term(&self, site_id: i64, term: &str) {
        let term: String = term.trim().chars().take(50).collect();
        if term.is_empty() {
            return;
        }
        let day = gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today());
        let mut m = self.terms.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() < 100_000 {
            *m.entry((day, site_id, term)).or_insert(0) += 1;
        }
    }

    pub async fn flush_terms(&self) -> Result<()> {
        let batch: Vec<((String, i64, String), i64)> = {
            let mut m = self.terms.lock().unwrap_or_else(|p| p.into_inner());
            m.drain().collect()
        };
        store::add_terms(&self.db, &batch).await
    }

    pub fn status(&self) -> Status {
        let e = self.engine();
        Status {
            docs: e.num_docs(),
            after: e.payload().after,
            generation: e
                .dir
                .as_ref()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
            rebuilding: self.rebuilding.load(Ordering::SeqCst),
            done: self.progress.0.load(Ordering::SeqCst),
            total: self.progress.1.load(Ordering::SeqCst),
        }
    }

    /// Build a new generation from the database while the current one keeps serving, then
    /// make it current. Returns the number of items indexed.
    pub async fn rebuild(&self, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> Result<u64> {
        if self.rebuilding.swap(true, Ordering::SeqCst) {
            return Err(Error::Conflict("索引正在重建，请稍后再试".into()));
        }
        let r = self.rebuild_inner(progress).await;
        self.rebuilding.store(false, Ordering::SeqCst);
        r
    }

    async fn rebuild_inner(&self, progress: &(dyn Fn(u64, u64) + Send + Sync)) -> Result<u64> {
        let report = |done: u64, total: u64| {
            self.progress.0.store(done, Ordering::SeqCst);
            self.progress.1.store(total, Ordering::SeqCst);
            progress(done, total);
        };
        let (dir, words, n) = build_generation(&self.db, &self.files, &self.root, &report).await?;
        // Reopen with a small writer for the follower, then hand over.
        let e = Engine::open(&dir, Segmenter::new(&words), &dict_hash(&words), 48)?;
        self.swap(e);
        prune(&self.root);
        self.wake.notify_one();
        Ok(n)
    }

    /// One follower step: pick up another process's new generation, apply new events,
    /// write the aggregated terms. Returns how many items were applied.
    pub async fn step(&self, f: &mut feed::Follower) -> Result<usize> {
        // `gongkai reindex` run beside the server: follow the generation it made current.
        let current = std::fs::read_to_string(self.root.join(CURRENT)).unwrap_or_default();
        let mine = self.engine().dir.as_ref().and_then(|d| d.file_name()).map(|n| n.to_string_lossy().to_string());
        if !self.rebuilding.load(Ordering::SeqCst)
            && mine.as_deref() != Some(current.trim())
            && !current.is_empty()
            && let Some(e) = open_current(&self.root)
        {
            self.swap(e);
            prune(&self.root);
        }
        let e = self.engine();
        if f.generation != e.dir {
            // A new generation (rebuilt here or by another process) starts from the outbox
            // position it was built at: events this follower gave the old one are read again.
            *f = feed::Follower::bound(e.payload().after, e.dir.clone());
        }
        let mut applied = 0;
        loop {
            let batch = f.read(&self.db).await?;
            if batch.dictionary_changed {
                self.reload_synonyms().await?;
                let words = store::words(&self.db).await?;
                if dict_hash(&words) != e.dict {
                    self.spawn_rebuild();
                }
            }
            // Always the generation this follower is bound to, even if a rebuild swaps in
            // another meanwhile: the new one must keep its own position.
            if !batch.items.is_empty() {
                let (docs, gone) = feed::docs(&self.db, &self.files, &batch.items).await?;
                e.delete(&gone);
                e.upsert(&docs)?;
                applied += batch.items.len();
            }
            if !batch.items.is_empty() || batch.head > e.payload().after {
                e.commit(batch.head)?;
            }
            if !batch.more {
                break;
            }
        }
        self.flush_terms().await?;
        Ok(applied)
    }

    pub async fn reload_synonyms(&self) -> Result<()> {
        let groups = store::synonyms(&self.db).await?;
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for g in groups {
            for t in &g {
                map.entry(t.clone()).or_default().extend(g.iter().cloned());
            }
        }
        for v in map.values_mut() {
            v.sort();
            v.dedup();
        }
        *self.synonyms.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(map);
        Ok(())
    }

    /// Rebuild in the background (the dictionary changed, or the index is stale).
    pub fn spawn_rebuild(&self) {
        if self.rebuilding.load(Ordering::SeqCst) {
            return;
        }
        let s = self.clone();
        tokio::spawn(async move {
            match s.rebuild(&|_, _| {}).await {
                Ok(n) => tracing::info!(items = n, "search index rebuilt"),
                Err(e) => tracing::warn!(error = %e, "search index rebuild"),
            }
        });
    }

    /// Catch up after a start: an index whose outbox position is gone, or that disagrees
    /// with the database on how many items are public, is rebuilt.
    pub async fn reconcile(&self) -> Result<bool> {
        let e = self.engine();
        let p = e.payload();
        let words = store::words(&self.db).await?;
        let stale = p.after == 0
            || !feed::outbox_covers(&self.db, p.after).await?
            || dict_hash(&words) != e.dict
            || feed::public_count(&self.db).await? != e.num_docs();
        if stale && !self.rebuilding.load(Ordering::SeqCst) {
            self.rebuild(&|_, _| {}).await?;
        }
        Ok(stale)
    }

    /// Wake the follower now (a change on this node).
    pub fn nudge(&self) {
        self.wake.notify_one();
    }
}

/// The follower of one node: never gives up, logs and retries at the next tick.
pub fn spawn(s: Search, every_ms: u64, changes: Arc<tokio::sync::Notify>) {
    tokio::spawn(async move {
        if let Err(e) = s.reload_synonyms().await {
            tracing::warn!(error = %e, "search synonyms");
        }
        let mut f = feed::Follower::default();
        if let Err(e) = s.step(&mut f).await {
            tracing::warn!(error = %e, "search catch-up");
        }
        if let Err(e) = s.reconcile().await {
            tracing::warn!(error = %e, "search reconcile");
        }
        while Arc::strong_count(&s.0) > 1 {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(every_ms)) => {}
                _ = changes.notified() => {
                    // A burst of writes (e.g. public submissions) is gathered into one step.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                _ = s.wake.notified() => {}
            }
            if let Err(e) = s.step(&mut f).await {
                tracing::warn!(error = %e, "search outbox follower");
            }
        }
    });
}

/// Open the node's index, attach it to the state and start its follower.
pub fn attach(state: AppState) -> AppState {
    match Search::open(state.db.clone(), &state.cfg.data_dir) {
        Ok(s) => {
            spawn(s.clone(), state.cfg.portal.sync_ms, state.changes.clone());
            state.with_ext(s)
        }
        Err(e) => {
            // Search down must not take the portal down: its pages say so instead.
            tracing::error!(error = %e, "search index could not be opened");
            state
        }
    }
}

pub use web::slice;
