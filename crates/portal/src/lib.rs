//! gongkai-portal: what the public sees. Every site of the group is served from the
//! public projection of the information resource library (`gongkai_cms::public`), with
//! themes, a rendered-page cache invalidated from the outbox, feeds, sitemaps, the
//! 政府信息公开 section, the open read API and a static export.

pub mod api;
pub mod cache;
pub mod export;
pub mod feeds;
pub mod http;
pub mod pages;
pub mod route;
pub mod search;
pub mod site;
pub mod store;
pub mod sync;
pub mod theme;
pub mod zfxxgk;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use gongkai_kernel::Result;
use gongkai_kernel::config::Config;
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::web::{AppState, Slice};

/// Facet counts of a site's disclosure catalogue: (column, [(value, count)]).
pub type Facets = Vec<(&'static str, Vec<(String, i64)>)>;

/// The portal's shared state: one per node, attached to the `AppState`.
#[derive(Clone)]
pub struct Portal(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub sites: site::Directory,
    pub themes: theme::Themes,
    pub cache: cache::Cache,
    pub files: gongkai_cms::attachments::FileStore,
    pub default_site: String,
    /// The node's search service, when it runs (set once by `attach`).
    pub search: std::sync::OnceLock<gongkai_search::Search>,
    /// Whether this node serves the online disclosure-request form (the foi slice).
    pub apply_form: std::sync::atomic::AtomicBool,
    /// Whether this node serves the 互动交流 pages (the interact slices).
    pub interact: std::sync::atomic::AtomicBool,
    labels: RwLock<Option<Arc<pages::Labels>>>,
    facets: Mutex<HashMap<i64, Arc<Facets>>>,
}

impl std::ops::Deref for Portal {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Portal {
    pub fn new(db: Db, cfg: &Config) -> Portal {
        Portal(Arc::new(Inner {
            db,
            sites: site::Directory::default(),
            themes: theme::Themes::new(cfg.portal.themes_root(&cfg.data_dir), cfg.portal.theme_reload),
            cache: cache::Cache::new((cfg.portal.cache_mb as usize).saturating_mul(1024 * 1024)),
            files: gongkai_cms::attachments::FileStore::new(&cfg.data_dir),
            default_site: cfg.portal.default_site.clone(),
            search: std::sync::OnceLock::new(),
            apply_form: std::sync::atomic::AtomicBool::new(false),
            interact: std::sync::atomic::AtomicBool::new(false),
            labels: RwLock::new(None),
            facets: Mutex::new(HashMap::new()),
        }))
    }

    pub async fn labels(&self, c: &mut Conn<'_>) -> Result<Arc<pages::Labels>> {
        if let Some(l) = self.labels.read().ok().and_then(|g| g.clone()) {
            return Ok(l);
        }
        let l = Arc::new(pages::Labels::load(c).await?);
        if let Ok(mut g) = self.labels.write() {
            *g = Some(l.clone());
        }
        Ok(l)
    }

    pub async fn facets(&self, c: &mut Conn<'_>, site_id: i64) -> Result<Arc<Facets>> {
        if let Some(f) = self.facets.lock().ok().and_then(|m| m.get(&site_id).cloned()) {
            return Ok(f);
        }
        let mut v: Facets = Vec::new();
        for col in ["art20", "subject_code", "publisher_org_id", "genre", "year"] {
            v.push((col, store::facet(c, site_id, col).await?));
        }
        let v = Arc::new(v);
        if let Ok(mut m) = self.facets.lock() {
            m.insert(site_id, v.clone());
        }
        Ok(v)
    }

    /// Forget derived data of a site (or of every site).
    pub fn forget_site(&self, site_id: Option<i64>) {
        if let Ok(mut m) = self.facets.lock() {
            match site_id {
                Some(id) => {
                    m.remove(&id);
                }
                None => m.clear(),
            }
        }
    }

    pub fn forget_labels(&self) {
        if let Ok(mut g) = self.labels.write() {
            *g = None;
        }
    }
}

/// Attach the portal to the application state and start its outbox follower.
pub fn attach(state: AppState) -> AppState {
    let portal = Portal::new(state.db.clone(), &state.cfg);
    if let Some(s) = state.ext::<gongkai_search::Search>() {
        let _ = portal.search.set(s.clone());
    }
    if state.slices.iter().any(|s| s.name == "foi") {
        portal.apply_form.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    if state.slices.iter().any(|s| s.name == "messages") {
        portal.interact.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let mut state = state.with_ext(portal.clone());
    state.fast = Some(Arc::new(portal.clone()));
    sync::spawn(portal, state.cfg.portal.sync_ms, state.changes.clone());
    state
}

/// The portal's routes: every site's pages, assets, attachments, the open API.
pub fn slice() -> Slice {
    Slice { name: "portal", routes: &[], router: http::router, templates: |_| None, nav: &[] }
}
