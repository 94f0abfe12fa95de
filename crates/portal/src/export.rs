//! `gongkai export-static <site> <dir>`: the whole site as static files, for districts that
//! publish through their own nginx or CDN. Every page is built by `pages::build`, the same
//! code the server runs, with `View.export` set: links are relative to the page
//! (`base` = "..", "../.." …) and directories are written as `index.html`.
//!
//! The export is written into a staging folder beside `dir` and swapped in at the end, so a
//! failed run leaves the previous export untouched and a re-export leaves no page of an
//! item withdrawn since (a withdrawn government document must not stay online).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gongkai_kernel::config::Config;
use gongkai_kernel::db::Db;
use gongkai_kernel::{Error, Result, with_conn};

use crate::Portal;
use crate::pages::{self, Fail, PAGE_SIZE, View};
use crate::route::{Feed, Route};
use crate::site::{self, SiteInfo};
use crate::store::{self, Filter};

/// Marks a folder as written by this command: only such a folder (or an empty one) is replaced.
pub const MARKER: &str = ".gongkai-export";

/// What an export wrote.
#[derive(Debug, Clone, Default)]
pub struct ExportReport {
    pub site: String,
    pub dir: PathBuf,
    /// HTML pages, item pages included.
    pub pages: usize,
    /// Live items of the site (each has its page and its plain-text page).
    pub items: usize,
    /// RSS and Atom documents.
    pub feeds: usize,
    /// sitemap.xml (and its parts) and robots.txt.
    pub documents: usize,
    pub assets: usize,
    pub attachments: usize,
    pub bytes: u64,
    /// Pages that were not written, with the reason (e.g. removed while exporting).
    pub skipped: Vec<String>,
    pub seconds: f64,
}

impl ExportReport {
    pub fn to_zh(&self) -> String {
        let mut s = format!(
            "导出完成：网站 {}，目录 {}\n页面 {} 个（其中信息 {} 条，另有同样数量的纯文本页），订阅源 {} 个，站点地图与 robots.txt {} 个，\
             主题文件 {} 个，附件 {} 个；共 {:.1} MB，用时 {:.1} 秒。\n",
            self.site,
            self.dir.display(),
            self.pages,
            self.items,
            self.feeds,
            self.documents,
            self.assets,
            self.attachments,
            self.bytes as f64 / 1_048_576.0,
            self.seconds
        );
        if !self.skipped.is_empty() {
            s.push_str(&format!("未导出 {} 项：\n", self.skipped.len()));
            for k in self.skipped.iter().take(50) {
                s.push_str(&format!("  {k}\n"));
            }
            if self.skipped.len() > 50 {
                s.push_str("  ……\n");
            }
        }
        s.push_str("说明：法定主动公开内容的分类筛选需要服务器，静态导出中只有不带筛选条件的目录页。\n");
        s
    }
}

/// The site's public address when none is given: `https://` and its first host name.
pub fn default_base_url(site: &SiteInfo) -> Option<String> {
    site.hosts.lines().map(str::trim).find(|h| !h.is_empty() && *h != "localhost").map(|h| format!("https://{h}"))
}

/// "https://www.example.gov.cn/" → ("https://www.example.gov.cn", root "https://www.example.gov.cn").
/// A path after the host stays in the root (a site published below a folder).
fn split_base_url(base_url: &str) -> Result<(String, String)> {
    let root = base_url.trim().trim_end_matches('/').to_string();
    let rest = root.strip_prefix("https://").or_else(|| root.strip_prefix("http://"));
    let host = rest.map(|r| r.split('/').next().unwrap_or(""));
    let ok = host
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
        && !root.contains(['?', '#', ' ', '"', '<', '>', '\\']);
    if !ok {
        return Err(Error::field(
            "base_url",
            "网站地址应形如 https://www.example.gov.cn（用于订阅源、站点地图中的绝对地址）",
        ));
    }
    let scheme_len = root.find("://").map(|i| i + 3).unwrap_or(0);
    let host = host.unwrap_or("");
    Ok((root[..scheme_len + host.len()].to_string(), root))
}

/// The file a route is written to, relative to the export root; None for a page that only
/// the server can answer (a filtered catalogue page).
pub fn out_path(route: &Route) -> Option<String> {
    let p = match route {
        // The server reads `?page=n` and `index_n.html` as the same page; a file needs the latter.
        Route::Catalogue { filter, page } if *filter == Filter::default() => {
            if *page <= 1 {
                "zfxxgk/fdzdgk/index.html".to_string()
            } else {
                format!("zfxxgk/fdzdgk/index_{page}.html")
            }
        }
        Route::Catalogue { .. } | Route::Care { .. } | Route::File { .. } | Route::Search(_) => return None,
        r => {
            let h = r.href();
            if h.contains('?') {
                return None;
            }
            let h = h.strip_prefix('/')?;
            if h.is_empty() || h.ends_with('/') { format!("{h}index.html") } else { h.to_string() }
        }
    };
    crate::theme::safe_name(&p).then_some(p)
}

/// The relative prefix from a file at `path` (relative to the export root) back to the root.
pub fn rel_base(path: &str) -> String {
    match path.matches('/').count() {
        0 => ".".to_string(),
        n => vec![".."; n].join("/"),
    }
}

/// An attachment's file name as one path component: no separators, no `.`/`..`, no NUL or
/// other control characters; `file` when nothing is left. Names from the library are clean
/// already (`attachments::clean_name`), so this changes nothing for them and the page's link
/// (`files/<id>/<name>`) finds the file.
pub fn safe_file_name(name: &str) -> String {
    let s: String = name.chars().filter(|c| !c.is_control() && !matches!(c, '/' | '\\')).collect();
    let s = s.trim();
    if s.is_empty() || s == "." || s == ".." || s.len() > 240 { "file".to_string() } else { s.to_string() }
}

enum Job {
    Page(Route),
    Asset(String),
    File { id: i64, name: String, sha256: String },
}

enum Done {
    Page { kind: Kind, bytes: u64 },
    Asset(u64),
    File(u64),
    Skipped(String),
}

#[derive(Clone, Copy)]
enum Kind {
    Html,
    Item,
    Feed,
    Doc,
}

/// Everything a worker needs, shared.
struct Ctx {
    portal: Portal,
    db: Db,
    site: SiteInfo,
    origin: String,
    root: String,
    staging: PathBuf,
    jobs: Vec<Job>,
    next: AtomicUsize,
    stop: AtomicBool,
}

/// Write the whole site `site_code` into `dir`. `base_url` is the site's public address,
/// used where a URL must be absolute (feeds, sitemaps, canonical links). `progress` is told
/// (done, total) as files are written.
pub async fn export_site(
    db: &Db,
    cfg: &Config,
    site_code: &str,
    dir: &Path,
    base_url: &str,
    mut progress: impl FnMut(usize, usize),
) -> Result<ExportReport> {
    let started = std::time::Instant::now();
    let (origin, root) = split_base_url(base_url)?;
    let portal = Portal::new(db.clone(), cfg);
    let sites = portal.sites.all(db).await?;
    let site = site::by_code(&sites, site_code)
        .cloned()
        .ok_or_else(|| Error::Conflict(format!("网站“{site_code}”不存在（请填写网站代码，如 www）")))?;
    if !site.is_open() {
        return Err(Error::Conflict(format!("网站“{}”已关闭，不能导出", site.name)));
    }
    check_target(dir)?;
    let jobs = plan(&portal, db, &site).await?;
    let total = jobs.len();

    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let leaf = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "site".into());
    let staging = parent.join(format!(".{leaf}.export-{}", gongkai_kernel::random_token::<6>()));
    std::fs::create_dir_all(&staging).map_err(|e| io("无法创建导出目录", &staging, e))?;

    let ctx = Arc::new(Ctx {
        portal,
        db: db.clone(),
        site,
        origin,
        root,
        staging: staging.clone(),
        jobs,
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 8);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Done>>(1024);
    let mut handles = Vec::new();
    for _ in 0..workers {
        let (ctx, tx) = (ctx.clone(), tx.clone());
        handles.push(tokio::spawn(async move { work(ctx, tx).await }));
    }
    drop(tx);

    let mut report = ExportReport { site: site_code.to_string(), dir: dir.to_path_buf(), ..Default::default() };
    let mut failed: Option<Error> = None;
    let mut done = 0;
    progress(0, total);
    while let Some(r) = rx.recv().await {
        done += 1;
        match r {
            Ok(Done::Page { kind, bytes }) => {
                report.bytes += bytes;
                match kind {
                    Kind::Html => report.pages += 1,
                    Kind::Item => {
                        report.pages += 1;
                        report.items += 1;
                    }
                    Kind::Feed => report.feeds += 1,
                    Kind::Doc => report.documents += 1,
                }
            }
            Ok(Done::Asset(b)) => {
                report.assets += 1;
                report.bytes += b;
            }
            Ok(Done::File(b)) => {
                report.attachments += 1;
                report.bytes += b;
            }
            Ok(Done::Skipped(why)) => report.skipped.push(why),
            Err(e) => {
                ctx.stop.store(true, Ordering::Relaxed);
                failed.get_or_insert(e);
            }
        }
        progress(done, total);
    }
    for h in handles {
        if let Err(e) = h.await {
            failed.get_or_insert(Error::internal(format!("导出任务异常结束：{e}")));
        }
    }
    let result = match failed {
        Some(e) => Err(e),
        None => finish(&staging, dir, &ctx.site, &ctx.root),
    };
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    report.skipped.sort();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Internal(format!("{what} {}：{e}", path.display()))
}

/// The target is new, empty, or an earlier export: anything else is refused, so a typo in
/// the path can never replace someone's folder.
fn check_target(dir: &Path) -> Result<()> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io("无法读取目录", dir, e)),
        Ok(m) if !m.is_dir() => Err(Error::Conflict(format!("{} 不是目录", dir.display()))),
        Ok(_) => {
            let mut entries = std::fs::read_dir(dir).map_err(|e| io("无法读取目录", dir, e))?;
            if entries.next().is_none() || dir.join(MARKER).is_file() {
                Ok(())
            } else {
                Err(Error::Conflict(format!(
                    "目录 {} 不为空，也不是此前的静态导出目录（没有 {MARKER} 文件）；请指定一个新目录或空目录",
                    dir.display()
                )))
            }
        }
    }
}

/// Swap the finished staging folder in: the old export is moved aside, then removed.
fn finish(staging: &Path, dir: &Path, site: &SiteInfo, root: &str) -> Result<()> {
    let marker = format!(
        "site={}\nbase_url={root}\nexported_at={}\n",
        site.code,
        gongkai_kernel::clock::fmt_ms(gongkai_kernel::clock::now_ms())
    );
    std::fs::write(staging.join(MARKER), marker).map_err(|e| io("无法写入", staging, e))?;
    check_target(dir)?;
    let old = if dir.exists() {
        let old = staging.with_extension("old");
        std::fs::rename(dir, &old)
            .map_err(|e| io("无法替换目录（如为挂载点，请导出到其中的子目录并让网站服务器指向该子目录）", dir, e))?;
        Some(old)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(staging, dir) {
        if let Some(old) = &old {
            let _ = std::fs::rename(old, dir);
        }
        return Err(io("无法写入导出目录", dir, e));
    }
    if let Some(old) = old {
        let _ = std::fs::remove_dir_all(old);
    }
    Ok(())
}

/// Every file of the export: pages, feeds, discovery documents, assets, attachments.
async fn plan(p: &Portal, db: &Db, site: &SiteInfo) -> Result<Vec<Job>> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let mut routes = vec![
        Route::Home,
        Route::SiteFeed(Feed::Rss),
        Route::SiteFeed(Feed::Atom),
        Route::Robots,
        Route::Disclosure,
        Route::Guide,
        Route::Rules,
        Route::Reports,
        Route::Apply,
        Route::Standard,
    ];
    let cols = store::columns(&mut c, site.id).await?;
    // URLs the sitemap lists besides the items (as `pages::sitemap` counts them).
    let mut sitemap_urls = 2 + cols.iter().filter(|c| c.visible && c.kind != "link").count();
    for col in cols {
        if col.kind == "link" {
            continue;
        }
        let total = store::column_count(&mut c, col.id).await?;
        // A hidden column is left out of the navigation, not secret: the server answers for
        // it, and its items' pages link to it.
        if !col.visible && total == 0 {
            continue;
        }
        // The 政府信息公开 column shows the section's front page whatever the page number.
        let pages = if col.slug == "zfxxgk" { 1 } else { ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1) };
        routes.extend((1..=pages).map(|n| Route::Column { slug: col.slug.clone(), page: n }));
        for f in [Feed::Rss, Feed::Atom] {
            routes.push(Route::ColumnFeed { slug: col.slug.clone(), feed: f });
        }
    }
    for t in store::topics(&mut c, site.id).await? {
        sitemap_urls += 1;
        routes.push(Route::Topic { slug: t.slug.clone() });
        for f in [Feed::Rss, Feed::Atom] {
            routes.push(Route::TopicFeed { slug: t.slug.clone(), feed: f });
        }
    }
    let scope = if site.kind == "portal" { None } else { Some(site.org_id.unwrap_or(-1)) };
    for e in store::entries(&mut c, site.id, scope).await? {
        routes.push(Route::StandardEntry { id: e.id });
    }
    let (_, listed) = store::catalogue(&mut c, site.id, &Filter::default(), 1, 0).await?;
    let pages = ((listed + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    routes.extend((1..=pages).map(|n| Route::Catalogue { filter: Filter::default(), page: n }));
    let items = store::sitemap_items(&mut c, site.id).await?;
    // Above the protocol's limit the sitemap is an index of parts.
    let urls = items.len() + sitemap_urls;
    routes.push(Route::Sitemap { part: None });
    if urls > crate::feeds::SITEMAP_LIMIT {
        let parts = urls.div_ceil(crate::feeds::SITEMAP_LIMIT) as i64;
        routes.extend((1..=parts).map(|n| Route::Sitemap { part: Some(n) }));
    }
    for (id, _, _) in &items {
        routes.push(Route::Item { id: *id });
        routes.push(Route::ItemText { id: *id });
    }
    let mut jobs: Vec<Job> = routes.into_iter().map(Job::Page).collect();
    jobs.extend(p.themes.asset_names(&site.theme).into_iter().map(Job::Asset));
    let files: Vec<(i64, String, String)> = with_conn!(&mut c, x => {
        sqlx::query_as::<_, (i64, String, String)>(
            "SELECT ia.id, ia.name, a.sha256 FROM item_attachments ia JOIN attachments a ON a.id = ia.attachment_id
               JOIN pub_site_items s ON s.item_id = ia.item_id WHERE s.site_id = $1 ORDER BY ia.id",
        )
        .bind(site.id).fetch_all(&mut **x).await
    })?;
    jobs.extend(files.into_iter().map(|(id, name, sha256)| Job::File { id, name, sha256 }));
    Ok(jobs)
}

async fn work(ctx: Arc<Ctx>, tx: tokio::sync::mpsc::Sender<Result<Done>>) {
    loop {
        if ctx.stop.load(Ordering::Relaxed) {
            return;
        }
        let i = ctx.next.fetch_add(1, Ordering::Relaxed);
        let Some(job) = ctx.jobs.get(i) else { return };
        let r = match job {
            Job::Page(route) => page(&ctx, route).await,
            Job::Asset(name) => asset(&ctx, name).await,
            Job::File { id, name, sha256 } => file(&ctx, *id, name, sha256).await,
        };
        if tx.send(r).await.is_err() {
            return;
        }
    }
}

async fn write(ctx: &Ctx, rel: &str, bytes: &[u8]) -> Result<u64> {
    let path = ctx.staging.join(rel);
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(|e| io("无法创建目录", parent, e))?;
    }
    tokio::fs::write(&path, bytes).await.map_err(|e| io("无法写入", &path, e))?;
    Ok(bytes.len() as u64)
}

async fn page(ctx: &Ctx, route: &Route) -> Result<Done> {
    let Some(rel) = out_path(route) else {
        return Ok(Done::Skipped(format!("{}：只能由服务器提供", route.href())));
    };
    let view = View {
        site: &ctx.site,
        base: rel_base(&rel),
        origin: ctx.origin.clone(),
        root: ctx.root.clone(),
        care: false,
        export: true,
    };
    let built = match pages::build(&ctx.portal, &ctx.db, &view, route).await {
        Ok(b) => b,
        // Gone between planning and rendering (withdrawn, a page fewer): not an error.
        Err(Fail::NotFound(m)) => return Ok(Done::Skipped(format!("/{rel}：{m}"))),
        Err(Fail::Internal(e)) => return Err(Error::Internal(format!("/{rel}：{e}"))),
    };
    let bytes = write(ctx, &rel, &built.body).await?;
    let kind = match route {
        Route::Item { .. } => Kind::Item,
        Route::SiteFeed(_) | Route::ColumnFeed { .. } | Route::TopicFeed { .. } => Kind::Feed,
        Route::Sitemap { .. } | Route::Robots => Kind::Doc,
        _ => Kind::Html,
    };
    Ok(Done::Page { kind, bytes })
}

async fn asset(ctx: &Ctx, name: &str) -> Result<Done> {
    let Some((bytes, _)) = ctx.portal.themes.asset(&ctx.site.theme, name) else {
        return Ok(Done::Skipped(format!("/theme/{name}：主题文件不存在")));
    };
    Ok(Done::Asset(write(ctx, &format!("theme/{name}"), &bytes).await?))
}

async fn file(ctx: &Ctx, id: i64, name: &str, sha256: &str) -> Result<Done> {
    let rel = format!("files/{id}/{}", safe_file_name(name));
    let Some(src) = ctx.portal.files.path_of(sha256) else {
        return Ok(Done::Skipped(format!("/{rel}：附件摘要无效")));
    };
    let dst = ctx.staging.join(&rel);
    // Copied by content, not with `fs::copy`: that would carry the store's restrictive
    // permissions over, and the web server's user could not read the file.
    let r = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut from = std::fs::File::open(&src)?;
        let mut to = std::fs::File::create(&dst)?;
        std::io::copy(&mut from, &mut to)
    })
    .await
    .map_err(|e| Error::internal(format!("复制附件失败：{e}")))?;
    match r {
        Ok(n) => Ok(Done::File(n)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(Done::Skipped(format!("/{rel}：附件文件缺失（{sha256}）")))
        }
        Err(e) => Err(Error::Internal(format!("复制附件 /{rel} 失败：{e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_relative_bases() {
        let cases = [
            (Route::Home, "index.html", "."),
            (Route::SiteFeed(Feed::Rss), "rss.xml", "."),
            (Route::Column { slug: "yw".into(), page: 1 }, "col/yw/index.html", "../.."),
            (Route::Column { slug: "yw".into(), page: 3 }, "col/yw/index_3.html", "../.."),
            (Route::Item { id: 7 }, "art/7.html", ".."),
            (Route::ItemText { id: 7 }, "art/7_text.html", ".."),
            (Route::StandardEntry { id: 3 }, "zfxxgk/bzh/3.html", "../.."),
            (Route::Catalogue { filter: Filter::default(), page: 1 }, "zfxxgk/fdzdgk/index.html", "../.."),
            (Route::Catalogue { filter: Filter::default(), page: 4 }, "zfxxgk/fdzdgk/index_4.html", "../.."),
            (Route::Sitemap { part: Some(2) }, "sitemap_2.xml", "."),
        ];
        for (r, path, base) in cases {
            assert_eq!(out_path(&r).as_deref(), Some(path), "{r:?}");
            assert_eq!(rel_base(path), base, "{r:?}");
            // The file is where the server would answer for the same page.
            let (p, q) = (format!("/{path}"), "");
            assert_eq!(crate::route::parse(&p, q), Ok(r.clone()), "{path}");
        }
        let filtered = Route::Catalogue { filter: Filter { year: Some(2025), ..Default::default() }, page: 1 };
        assert_eq!(out_path(&filtered), None);
        assert_eq!(out_path(&Route::Care { on: true, back: "/".into() }), None);
    }

    #[test]
    fn attachment_names_stay_one_component() {
        assert_eq!(safe_file_name("2025年预算公开表（草案）.pdf"), "2025年预算公开表（草案）.pdf");
        assert_eq!(safe_file_name("a b.docx"), "a b.docx");
        for (bad, good) in [
            ("../../etc/passwd", "....etcpasswd"),
            ("a/b.pdf", "ab.pdf"),
            ("a\\b.pdf", "ab.pdf"),
            ("x\0y.pdf", "xy.pdf"),
            ("..", "file"),
            (".", "file"),
            ("", "file"),
            (" / ", "file"),
            ("\u{1}", "file"),
        ] {
            let s = safe_file_name(bad);
            assert_eq!(s, good, "{bad:?}");
            assert!(crate::theme::safe_name(&s), "{bad:?} → {s:?}");
        }
        assert_eq!(safe_file_name(&"长".repeat(100)), "file");
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            split_base_url("https://www.example.gov.cn/").unwrap(),
            ("https://www.example.gov.cn".into(), "https://www.example.gov.cn".into())
        );
        assert_eq!(
            split_base_url("http://10.0.0.1:8080/qinghe").unwrap(),
            ("http://10.0.0.1:8080".into(), "http://10.0.0.1:8080/qinghe".into())
        );
        for bad in ["www.example.gov.cn", "ftp://x", "https://", "https://a b", "https://x/?a=1", "javascript:alert(1)"]
        {
            assert!(split_base_url(bad).is_err(), "{bad}");
        }
    }
}
