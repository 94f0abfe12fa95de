//! Building a public page: route → records → template context → HTML (or XML). Shared
//! by the HTTP dispatcher (through the page cache) and the static export.

use std::collections::HashMap;
use std::sync::Arc;

use gongkai_cms::model::{Art20, Genre, Validity};
use gongkai_kernel::db::{Conn, Db};
use serde_json::{Value, json};

use crate::Portal;
use crate::feeds;
use crate::route::{Feed, Route};
use crate::site::SiteInfo;
use crate::store::{self, Col, Filter, Row};

pub const PAGE_SIZE: i64 = 20;

/// Where and how a page is being rendered.
pub struct View<'a> {
    pub site: &'a SiteInfo,
    /// URL prefix of the site root: "", "/s/www", or a relative "../.." in an export.
    pub base: String,
    /// Scheme and host for absolute URLs (feeds, sitemaps, canonical links).
    pub origin: String,
    /// The site root's absolute URL prefix: origin + path prefix.
    pub root: String,
    pub care: bool,
    pub export: bool,
}

impl View<'_> {
    pub fn href(&self, r: &Route) -> String {
        let h = r.href();
        if self.export { export_href(&self.base, &h) } else { format!("{}{}", self.base, h) }
    }
    pub fn abs(&self, r: &Route) -> String {
        format!("{}{}", self.root, r.href())
    }
}

/// A static export writes directories as `index.html`; links are relative to the page.
fn export_href(base: &str, h: &str) -> String {
    let h = if h.ends_with('/') { format!("{h}index.html") } else { h.to_string() };
    format!("{base}{h}")
}

pub struct Built {
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub tags: Vec<String>,
    pub modified_ms: i64,
}

#[derive(Debug)]
pub enum Fail {
    NotFound(String),
    Internal(gongkai_kernel::Error),
}

impl From<gongkai_kernel::Error> for Fail {
    fn from(e: gongkai_kernel::Error) -> Fail {
        Fail::Internal(e)
    }
}

impl From<minijinja::Error> for Fail {
    fn from(e: minijinja::Error) -> Fail {
        Fail::Internal(gongkai_kernel::Error::Internal(format!("模板错误：{e:#}")))
    }
}

pub(crate) type R<T> = std::result::Result<T, Fail>;

pub(crate) fn not_found<T>(msg: &str) -> R<T> {
    Err(Fail::NotFound(msg.to_string()))
}

pub const HTML: &str = "text/html; charset=utf-8";
pub const RSS: &str = "application/rss+xml; charset=utf-8";
pub const ATOM: &str = "application/atom+xml; charset=utf-8";
pub const XML: &str = "application/xml; charset=utf-8";
pub const TEXT: &str = "text/plain; charset=utf-8";

/// Labels shown for stored codes; reference data is editable, so it is loaded, not fixed.
pub struct Labels {
    pub subjects: Vec<(String, String)>,
    pub classes: HashMap<String, String>,
    pub orgs: HashMap<i64, String>,
}

impl Labels {
    pub async fn load(c: &mut Conn<'_>) -> gongkai_kernel::Result<Labels> {
        let subjects = store::pairs(c, "SELECT code, label FROM subjects ORDER BY sort_order, code").await?;
        let classes = store::pairs(c, "SELECT code, label FROM item_classes ORDER BY sort_order, code").await?;
        let orgs = store::org_names(c).await?;
        Ok(Labels { subjects, classes: classes.into_iter().collect(), orgs: orgs.into_iter().collect() })
    }
    pub fn subject(&self, code: &Option<String>) -> Option<String> {
        let code = code.as_ref()?;
        Some(self.subjects.iter().find(|(c, _)| c == code).map(|(_, l)| l.clone()).unwrap_or_else(|| code.clone()))
    }
    pub fn org(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|i| self.orgs.get(&i).cloned())
    }
}

pub(crate) fn validity_label(v: &str) -> &'static str {
    Validity::parse(v).map(|v| v.label_zh()).unwrap_or("有效")
}

pub(crate) fn inactive(v: &str) -> bool {
    matches!(Validity::parse(v), Some(Validity::Expired | Validity::Repealed))
}

/// Everything one render needs besides the route.
pub(crate) struct Page<'a> {
    pub p: &'a Portal,
    pub v: &'a View<'a>,
    pub labels: Arc<Labels>,
    pub cols: Vec<Col>,
    pub tags: Vec<String>,
    pub modified: i64,
}

impl Page<'_> {
    pub(crate) fn col(&self, id: i64) -> Option<&Col> {
        self.cols.iter().find(|c| c.id == id)
    }
    pub(crate) fn col_by_slug(&self, slug: &str) -> Option<&Col> {
        self.cols.iter().find(|c| c.slug == slug)
    }
    pub(crate) fn col_href(&self, c: &Col) -> String {
        if c.kind == "link" && !c.link_url.is_empty() {
            return c.link_url.clone();
        }
        self.v.href(&Route::Column { slug: c.slug.clone(), page: 1 })
    }
    pub(crate) fn tag(&mut self, t: String) {
        if !self.tags.contains(&t) {
            self.tags.push(t);
        }
    }
    pub(crate) fn seen(&mut self, r: &Row) {
        self.modified = self.modified.max(r.updated_at);
        self.tag(format!("item:{}", r.item_id));
    }

    pub(crate) fn summary(&mut self, r: &Row) -> Value {
        self.seen(r);
        let col = self.col(r.home_column_id).cloned();
        json!({
            "id": r.item_id,
            "title": r.title,
            "href": self.v.href(&Route::Item { id: r.item_id }),
            "published_on": r.published_on,
            "summary": r.summary,
            "column_name": col.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
            "column_href": col.as_ref().map(|c| self.col_href(c)),
            "index_no": r.index_no,
            "publisher": self.labels.org(r.publisher_org_id),
            "validity": r.validity,
            "validity_label": validity_label(&r.validity),
            "inactive": inactive(&r.validity),
            "cover": Value::Null,
            "cover_alt": r.title,
        })
    }

    pub(crate) fn summaries(&mut self, rows: &[Row]) -> Vec<Value> {
        rows.iter().map(|r| self.summary(r)).collect()
    }

    pub(crate) fn nav(&self, current: Option<i64>) -> Value {
        let top: Vec<&Col> = self.cols.iter().filter(|c| c.parent_id.is_none() && c.visible).collect();
        let current_top = current.and_then(|id| {
            let mut c = self.col(id)?;
            while let Some(p) = c.parent_id.and_then(|p| self.col(p)) {
                c = p;
            }
            Some(c.id)
        });
        let mut nav: Vec<Value> = top
            .iter()
            .map(|c| {
                let children: Vec<Value> = self
                    .cols
                    .iter()
                    .filter(|k| k.parent_id == Some(c.id) && k.visible)
                    .map(|k| json!({ "name": k.name, "href": self.col_href(k), "current": Some(k.id) == current, "external": k.kind == "link" }))
                    .collect();
                json!({ "name": c.name, "href": self.section_href(c), "current": Some(c.id) == current_top,
                        "external": c.kind == "link", "children": children })
            })
            .collect();
        if !self.cols.iter().any(|c| c.parent_id.is_none() && c.slug == "zfxxgk") {
            nav.push(json!({ "name": "政府信息公开", "href": self.v.href(&Route::Disclosure), "current": false, "external": false, "children": [] }));
        }
        json!(nav)
    }

    /// The 政府信息公开 column opens the statutory section rather than a plain list.
    fn section_href(&self, c: &Col) -> String {
        if c.slug == "zfxxgk" { self.v.href(&Route::Disclosure) } else { self.col_href(c) }
    }

    pub(crate) fn render(
        &self,
        tpl: &str,
        route: &Route,
        title: &str,
        crumbs: Value,
        extra: Value,
        current: Option<i64>,
    ) -> R<Vec<u8>> {
        let v = self.v;
        let site = v.site;
        let here = route.href();
        let care =
            |on: bool| v.href(&Route::Care { on, back: format!("{}{}", if v.export { "" } else { &v.base }, here) });
        let mut feeds = vec![
            json!({ "title": format!("{} RSS", site.name), "href": v.href(&Route::SiteFeed(Feed::Rss)), "type": "application/rss+xml" }),
            json!({ "title": format!("{} Atom", site.name), "href": v.href(&Route::SiteFeed(Feed::Atom)), "type": "application/atom+xml" }),
        ];
        if let Some(f) = extra.get("feeds").and_then(|f| f.as_array()) {
            feeds.extend(f.iter().cloned());
        }
        let description = extra.get("description").and_then(|d| d.as_str()).unwrap_or("").to_string();
        let mut ctx = json!({
            "site": site,
            "base": v.base,
            "asset": format!("{}/theme", v.base),
            "nav": self.nav(current),
            "care": v.care,
            "care_on": care(true),
            "care_off": care(false),
            "path": here,
            "page": {
                "title": title,
                "description": if description.is_empty() { format!("{}：政务信息公开与服务。", site.name) } else { description },
                "canonical": v.abs(route),
                "og_type": if matches!(route, Route::Item { .. }) { "article" } else { "website" },
            },
            "crumbs": crumbs,
            "feeds": feeds,
            "search": { "action": format!("{}/search", v.base), "q": "" },
            "now_year": gongkai_kernel::clock::today().year(),
            "static_export": v.export,
            // The citizen pages of the 互动交流 slice, when this node serves them.
            "interact": if self.p.interact.load(std::sync::atomic::Ordering::Relaxed) && !v.export {
                json!(format!("/hudong/{}", site.code))
            } else {
                Value::Null
            },
        });
        if let (Some(obj), Some(more)) = (ctx.as_object_mut(), extra.as_object()) {
            for (k, val) in more {
                if k != "feeds" && k != "description" {
                    obj.insert(k.clone(), val.clone());
                }
            }
        }
        let env = self.p.themes.env(&site.theme);
        let t = env.get_template(tpl)?;
        Ok(t.render(ctx)?.into_bytes())
    }

    fn done(self, body: Vec<u8>, content_type: &'static str) -> Built {
        let mut tags = self.tags;
        tags.push(format!("site:{}", self.v.site.id));
        Built { body, content_type, tags, modified_ms: self.modified.max(self.v.site.updated_at) }
    }
}

pub(crate) fn crumb(name: &str, href: &str) -> Value {
    json!({ "name": name, "href": href })
}

pub(crate) fn pager(v: &View, total: i64, page: i64, href: impl Fn(i64) -> Route) -> Value {
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let lo = (page - 4).max(1);
    let hi = (lo + 8).min(pages);
    let lo = (hi - 8).max(1);
    let links: Vec<Value> =
        (lo..=hi).map(|n| json!({ "n": n, "href": v.href(&href(n)), "current": n == page })).collect();
    json!({
        "page": page, "pages": pages, "total": total,
        "prev": (page > 1).then(|| v.href(&href(page - 1))),
        "next": (page < pages).then(|| v.href(&href(page + 1))),
        "links": links,
    })
}

/// Build one page of a site.
pub async fn build(p: &Portal, db: &Db, v: &View<'_>, route: &Route) -> R<Built> {
    if !v.site.is_open() {
        return not_found("该网站已关闭。");
    }
    let mut h = db.read().await?;
    let mut c = h.conn();
    let labels = p.labels(&mut c).await?;
    let cols = store::columns(&mut c, v.site.id).await?;
    let mut pg = Page { p, v, labels, cols, tags: Vec::new(), modified: 0 };
    let (body, ct) = match route {
        Route::Home => home(&mut pg, &mut c, route).await?,
        Route::Column { slug, page } => column(&mut pg, &mut c, route, slug, *page).await?,
        Route::Item { id } => item(&mut pg, &mut c, route, *id, false).await?,
        Route::ItemText { id } => item(&mut pg, &mut c, route, *id, true).await?,
        Route::Topic { slug } => topic(&mut pg, &mut c, route, slug).await?,
        Route::SiteFeed(f) => feed(&mut pg, &mut c, f, None, None).await?,
        Route::ColumnFeed { slug, feed: f } => {
            let col = pg.col_by_slug(slug).cloned().ok_or(Fail::NotFound("栏目不存在。".into()))?;
            feed(&mut pg, &mut c, f, Some(col), None).await?
        }
        Route::TopicFeed { slug, feed: f } => {
            let t = store::topics(&mut c, v.site.id).await?.into_iter().find(|t| &t.slug == slug);
            let t = t.ok_or(Fail::NotFound("专题不存在。".into()))?;
            feed(&mut pg, &mut c, f, None, Some(t)).await?
        }
        Route::Sitemap { part } => sitemap(&mut pg, &mut c, *part).await?,
        Route::Robots => {
            pg.tag(format!("sitemap:{}", v.site.id));
            (feeds::robots(&v.abs(&Route::Sitemap { part: None }), &["/files/", "/care"]).into_bytes(), TEXT)
        }
        Route::Disclosure => crate::zfxxgk::index(&mut pg, &mut c, route).await?,
        Route::Guide => crate::zfxxgk::guide(&mut pg, &mut c, route).await?,
        Route::Rules => crate::zfxxgk::listing(&mut pg, &mut c, route, "gkzd", "政府信息公开制度").await?,
        Route::Reports => crate::zfxxgk::listing(&mut pg, &mut c, route, "gknb", "政府信息公开年报").await?,
        Route::Apply => crate::zfxxgk::apply(&mut pg, &mut c, route).await?,
        Route::Catalogue { filter, page } => crate::zfxxgk::catalogue(&mut pg, &mut c, route, filter, *page).await?,
        Route::Standard => crate::zfxxgk::standard(&mut pg, &mut c, route).await?,
        Route::StandardEntry { id } => crate::zfxxgk::standard_entry(&mut pg, &mut c, route, *id).await?,
        Route::Search(params) => crate::search::page(&mut pg, &mut c, route, params).await?,
        Route::Asset(_) | Route::File { .. } | Route::Care { .. } => return not_found("页面不存在。"),
    };
    Ok(pg.done(body, ct))
}

type Out = R<(Vec<u8>, &'static str)>;

async fn home(pg: &mut Page<'_>, c: &mut Conn<'_>, route: &Route) -> Out {
    let site_id = pg.v.site.id;
    pg.tag(format!("home:{site_id}"));
    // 要闻 and 通知公告 by column class; every other visible list column gets a block.
    let lists: Vec<Col> =
        pg.cols.iter().filter(|c| c.visible && c.kind != "link" && c.kind != "page").cloned().collect();
    let news =
        lists.iter().find(|c| c.class == "news" && c.parent_id.is_some()).or(lists.iter().find(|c| c.class == "news"));
    let notices = lists.iter().find(|c| c.class == "notice");
    let mut headline = Vec::new();
    if let Some(n) = news.cloned() {
        pg.tag(format!("col:{}", n.id));
        let rows = store::column_items(c, n.id, 8, 0).await?;
        headline = pg.summaries(&rows);
    }
    let mut notice_rows = Vec::new();
    if let Some(n) = notices.cloned() {
        pg.tag(format!("col:{}", n.id));
        let rows = store::column_items(c, n.id, 8, 0).await?;
        notice_rows = pg.summaries(&rows);
    }
    let used: Vec<i64> = [news.map(|c| c.id), notices.map(|c| c.id)].into_iter().flatten().collect();
    let mut blocks = Vec::new();
    let zfxxgk = pg.col_by_slug("zfxxgk").map(|c| c.id);
    for col in lists
        .iter()
        .filter(|c| !used.contains(&c.id) && Some(c.id) != zfxxgk && c.parent_id.is_none_or(|p| Some(p) != zfxxgk))
        .take(6)
    {
        pg.tag(format!("col:{}", col.id));
        let rows = store::column_items(c, col.id, 6, 0).await?;
        if rows.is_empty() {
            continue;
        }
        let items = pg.summaries(&rows);
        blocks.push(json!({ "name": col.name, "href": pg.col_href(col), "items": items }));
    }
    let topics: Vec<Value> = store::topics(c, site_id)
        .await?
        .iter()
        .filter(|t| t.closed_on.is_none())
        .take(6)
        .map(|t| json!({ "name": t.name, "href": pg.v.href(&Route::Topic { slug: t.slug.clone() }), "intro": t.intro }))
        .collect();
    let disclosure = crate::zfxxgk::entries(pg);
    let ctx = json!({ "headline": headline, "notices": notice_rows, "blocks": blocks, "topics": topics, "disclosure": disclosure });
    Ok((pg.render("home.html", route, "", json!([]), ctx, None)?, HTML))
}

async fn column(pg: &mut Page<'_>, c: &mut Conn<'_>, route: &Route, slug: &str, page: i64) -> Out {
    let Some(col) = pg.col_by_slug(slug).cloned() else { return not_found("栏目不存在或已删除。") };
    if col.slug == "zfxxgk" {
        return crate::zfxxgk::index(pg, c, &Route::Disclosure).await;
    }
    pg.tag(format!("col:{}", col.id));
    pg.modified = pg.modified.max(col.updated_at);
    let total = store::column_count(c, col.id).await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    if page > pages {
        return not_found("页码超出范围。");
    }
    let rows = store::column_items(c, col.id, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let items = pg.summaries(&rows);
    let children: Vec<Value> = pg
        .cols
        .iter()
        .filter(|k| k.parent_id == Some(col.id) && k.visible)
        .map(|k| json!({ "name": k.name, "href": pg.col_href(k) }))
        .collect();
    // A single-page column shows its newest item in full.
    let page_body = if col.kind == "page" {
        match rows.first() {
            Some(r) => match store::item(c, r.item_id).await? {
                Some(full) => Some(item_value(pg, c, &full).await?),
                None => None,
            },
            None => None,
        }
    } else {
        None
    };
    let slug_s = col.slug.clone();
    let pager = pager(pg.v, total, page, |n| Route::Column { slug: slug_s.clone(), page: n });
    let mut crumbs = column_crumbs(pg, &col);
    if let Some(last) = crumbs.last_mut() {
        last["href"] = json!("");
    }
    let feeds = json!([
        { "title": format!("{} RSS", col.name), "href": pg.v.href(&Route::ColumnFeed { slug: col.slug.clone(), feed: Feed::Rss }), "type": "application/rss+xml" },
        { "title": format!("{} Atom", col.name), "href": pg.v.href(&Route::ColumnFeed { slug: col.slug.clone(), feed: Feed::Atom }), "type": "application/atom+xml" },
    ]);
    let title = if page > 1 { format!("{}（第{}页）", col.name, page) } else { col.name.clone() };
    let ctx = json!({
        "column": { "id": col.id, "name": col.name, "slug": col.slug, "href": pg.col_href(&col), "kind": col.kind },
        "children": children, "items": items, "pager": pager, "page_body": page_body, "feeds": feeds,
    });
    Ok((pg.render("column.html", route, &title, json!(crumbs), ctx, Some(col.id))?, HTML))
}

fn column_crumbs(pg: &Page, col: &Col) -> Vec<Value> {
    let mut chain = vec![col.clone()];
    while let Some(parent) = chain.last().and_then(|c| c.parent_id).and_then(|p| pg.col(p)) {
        chain.push(parent.clone());
    }
    chain.reverse();
    chain.iter().map(|c| crumb(&c.name, &pg.section_href(c))).collect()
}

/// The `item` context of THEMES.md.
async fn item_value(pg: &mut Page<'_>, c: &mut Conn<'_>, f: &store::Full) -> R<Value> {
    pg.modified = pg.modified.max(f.updated_at);
    pg.tag(format!("item:{}", f.item_id));
    let replaced_by = match f.replaced_by_item_id {
        Some(id) => store::rows_by_ids(c, &[id]).await?.into_iter().next().map(|r| {
            pg.seen(&r);
            json!({ "title": r.title, "href": pg.v.href(&Route::Item { id: r.item_id }) })
        }),
        None => None,
    };
    let genre = f.genre.as_deref().and_then(Genre::parse).map(|g| g.label_zh().to_string()).or(f.genre.clone());
    let keywords: Vec<&str> = f.keywords.split(',').map(str::trim).filter(|k| !k.is_empty()).collect();
    Ok(json!({
        "id": f.item_id,
        "title": f.title,
        "subtitle": f.subtitle,
        "body": minijinja::Value::from_safe_string(f.body.clone()),
        "summary": f.summary,
        "source": f.source,
        "author": f.author,
        "published_on": f.published_on,
        "index_no": f.index_no,
        "subject": pg.labels.subject(&f.subject_code),
        "publisher": pg.labels.org(f.publisher_org_id),
        "written_on": f.written_on,
        "doc_no": f.doc_no,
        "genre": genre,
        "validity": f.validity,
        "validity_label": validity_label(&f.validity),
        "validity_on": f.validity_on,
        "inactive": inactive(&f.validity),
        "keywords": keywords,
        "disclosure": f.index_no.is_some(),
        "replaced_by": replaced_by,
        "text_href": pg.v.href(&Route::ItemText { id: f.item_id }),
        "href": pg.v.href(&Route::Item { id: f.item_id }),
        "art20": f.art20.as_deref().and_then(Art20::parse).map(|a| a.label_with_number()),
    }))
}

async fn item(pg: &mut Page<'_>, c: &mut Conn<'_>, route: &Route, id: i64, text: bool) -> Out {
    let site_id = pg.v.site.id;
    let Some(f) = store::item(c, id).await? else { return not_found("该信息不存在或已撤下。") };
    if !store::on_site(c, site_id, id).await? {
        return not_found("该信息不在本网站发布。");
    }
    let mut value = item_value(pg, c, &f).await?;
    // The breadcrumb follows the column of this site the item is listed in.
    let listed = store::item_columns(c, site_id, id).await?;
    let col_id = if listed.contains(&f.home_column_id) { Some(f.home_column_id) } else { listed.first().copied() };
    let col = col_id.and_then(|i| pg.col(i)).cloned();
    let mut crumbs = col.as_ref().map(|c| column_crumbs(pg, c)).unwrap_or_default();
    crumbs.push(crumb("正文", ""));
    let description = if f.summary.is_empty() { f.title.clone() } else { f.summary.clone() };
    if text {
        let plain = gongkai_cms::html::to_text(&f.body);
        let paragraphs: Vec<&str> = plain.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let ctx = json!({ "item": value, "paragraphs": paragraphs, "description": description });
        return Ok((pg.render("item_text.html", route, &f.title, json!(crumbs), ctx, col_id)?, HTML));
    }
    let attachments: Vec<Value> = store::attachments(c, id).await?.iter().map(|a| attachment(pg.v, a)).collect();
    let (interpretations, interprets) = store::interpretation_links(c, id).await?;
    let link = |pg: &mut Page, rows: &[Row]| -> Vec<Value> {
        rows.iter()
            .map(|r| {
                pg.seen(r);
                json!({ "title": r.title, "href": pg.v.href(&Route::Item { id: r.item_id }) })
            })
            .collect()
    };
    let interpretations = link(pg, &interpretations);
    let interprets = link(pg, &interprets);
    // 相关信息 are the column's newest items: the page changes with the column.
    let related_rows: Vec<Row> = match col_id {
        Some(cid) => {
            pg.tag(format!("col:{cid}"));
            store::column_items(c, cid, 6, 0).await?.into_iter().filter(|r| r.item_id != id).take(5).collect()
        }
        None => Vec::new(),
    };
    let related = pg.summaries(&related_rows);
    value["attachments_count"] = json!(attachments.len());
    let ctx = json!({
        "item": value, "attachments": attachments, "interpretations": interpretations, "interprets": interprets,
        "related": related, "description": description,
    });
    Ok((pg.render("item.html", route, &f.title, json!(crumbs), ctx, col_id)?, HTML))
}

/// An attachment as pages list it: name, download link, human size and kind.
pub(crate) fn attachment(v: &View, a: &store::Attachment) -> Value {
    json!({
        "name": a.name,
        "href": format!("{}/files/{}/{}", v.base, a.id, gongkai_kernel::web::middleware::urlencode(&a.name)),
        "size": gongkai_cms::attachments::human_size(a.size.max(0) as u64),
        "kind": kind_label(&a.mime, &a.name),
    })
}

fn kind_label(mime: &str, name: &str) -> String {
    gongkai_cms::attachments::Kind::from_mime(mime)
        .map(|k| k.label_zh().to_string())
        .unwrap_or_else(|| name.rsplit('.').next().unwrap_or("").to_uppercase())
}

async fn topic(pg: &mut Page<'_>, c: &mut Conn<'_>, route: &Route, slug: &str) -> Out {
    let Some(t) = store::topics(c, pg.v.site.id).await?.into_iter().find(|t| t.slug == slug) else {
        return not_found("专题不存在。");
    };
    pg.tag(format!("topic:{}", t.id));
    pg.modified = pg.modified.max(t.updated_at);
    let rows = store::topic_items(c, t.id, 20).await?;
    let items = pg.summaries(&rows);
    let mut sections = Vec::new();
    for col_id in store::topic_columns(c, t.id).await? {
        let Some(col) = pg.col(col_id).cloned() else { continue };
        pg.tag(format!("col:{}", col.id));
        let rows = store::column_items(c, col.id, 8, 0).await?;
        let items = pg.summaries(&rows);
        sections.push(json!({ "name": col.name, "href": pg.col_href(&col), "items": items }));
    }
    let feeds = json!([
        { "title": format!("{} RSS", t.name), "href": pg.v.href(&Route::TopicFeed { slug: t.slug.clone(), feed: Feed::Rss }), "type": "application/rss+xml" },
        { "title": format!("{} Atom", t.name), "href": pg.v.href(&Route::TopicFeed { slug: t.slug.clone(), feed: Feed::Atom }), "type": "application/atom+xml" },
    ]);
    let ctx = json!({
        "topic": { "name": t.name, "intro": t.intro, "href": pg.v.href(route), "opened_on": t.opened_on, "closed_on": t.closed_on },
        "sections": sections, "items": items, "feeds": feeds, "description": t.intro,
    });
    Ok((pg.render("topic.html", route, &t.name, json!([crumb("专题专栏", ""), crumb(&t.name, "")]), ctx, None)?, HTML))
}

async fn feed(pg: &mut Page<'_>, c: &mut Conn<'_>, kind: &Feed, col: Option<Col>, topic: Option<store::Topic>) -> Out {
    let site = pg.v.site;
    let (title, link, self_route, rows) = if let Some(col) = &col {
        pg.tag(format!("col:{}", col.id));
        let rows = store::column_items(c, col.id, 20, 0).await?;
        let r = Route::ColumnFeed { slug: col.slug.clone(), feed: kind.clone() };
        (format!("{} - {}", col.name, site.name), pg.v.abs(&Route::Column { slug: col.slug.clone(), page: 1 }), r, rows)
    } else if let Some(t) = &topic {
        pg.tag(format!("topic:{}", t.id));
        let rows = store::topic_items(c, t.id, 20).await?;
        let r = Route::TopicFeed { slug: t.slug.clone(), feed: kind.clone() };
        (format!("{} - {}", t.name, site.name), pg.v.abs(&Route::Topic { slug: t.slug.clone() }), r, rows)
    } else {
        pg.tag(format!("feed:{}", site.id));
        let rows = store::site_latest(c, site.id, 20).await?;
        (site.name.clone(), pg.v.abs(&Route::Home), Route::SiteFeed(kind.clone()), rows)
    };
    for r in &rows {
        pg.seen(r);
    }
    let links: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (pg.v.abs(&Route::Item { id: r.item_id }), format!("tag:{},item-{}", host_of(&pg.v.origin), r.item_id))
        })
        .collect();
    let updated = rows.iter().map(|r| r.updated_at).max().unwrap_or(site.updated_at);
    let self_url = pg.v.abs(&self_route);
    let description = format!("{}最新发布的信息", title);
    let ch = feeds::Channel {
        title: &title,
        link: &link,
        self_url: &self_url,
        description: &description,
        language: "zh-CN",
        updated_ms: updated,
        author: if site.org_name.is_empty() { &site.name } else { &site.org_name },
    };
    let cats: Vec<Vec<&str>> = rows.iter().map(|_| Vec::new()).collect();
    let entries: Vec<feeds::Entry> = rows
        .iter()
        .zip(links.iter())
        .zip(cats.iter())
        .map(|((r, (link, id)), cats)| feeds::Entry {
            title: &r.title,
            link,
            id,
            summary: &r.summary,
            published_ms: r.published_at,
            updated_ms: r.updated_at,
            categories: cats,
        })
        .collect();
    Ok(match kind {
        Feed::Rss => (feeds::rss(&ch, &entries).into_bytes(), RSS),
        Feed::Atom => (feeds::atom(&ch, &entries).into_bytes(), ATOM),
    })
}

fn host_of(origin: &str) -> String {
    origin.split("://").nth(1).unwrap_or(origin).split(':').next().unwrap_or("").to_string()
}

async fn sitemap(pg: &mut Page<'_>, c: &mut Conn<'_>, part: Option<i64>) -> Out {
    pg.tag(format!("sitemap:{}", pg.v.site.id));
    let mut urls: Vec<(String, Option<String>)> =
        vec![(pg.v.abs(&Route::Home), None), (pg.v.abs(&Route::Disclosure), None)];
    for col in pg.cols.iter().filter(|c| c.visible && c.kind != "link") {
        urls.push((pg.v.abs(&Route::Column { slug: col.slug.clone(), page: 1 }), None));
    }
    for t in store::topics(c, pg.v.site.id).await? {
        urls.push((pg.v.abs(&Route::Topic { slug: t.slug.clone() }), None));
    }
    for (id, on, updated) in store::sitemap_items(c, pg.v.site.id).await? {
        pg.modified = pg.modified.max(updated);
        urls.push((pg.v.abs(&Route::Item { id }), Some(on)));
    }
    let limit = feeds::SITEMAP_LIMIT;
    let body = match part {
        None if urls.len() <= limit => {
            let u: Vec<feeds::SitemapUrl> =
                urls.iter().map(|(l, m)| feeds::SitemapUrl { loc: l, lastmod: m.as_deref() }).collect();
            feeds::sitemap(&u)
        }
        None => {
            let parts = feeds::sitemap_pages(urls.len()) as i64;
            let locs: Vec<String> = (1..=parts).map(|n| pg.v.abs(&Route::Sitemap { part: Some(n) })).collect();
            let u: Vec<feeds::SitemapUrl> = locs.iter().map(|l| feeds::SitemapUrl { loc: l, lastmod: None }).collect();
            feeds::sitemap_index(&u)
        }
        Some(n) => {
            // Parts exist only when the site needs an index.
            let range = (urls.len() > limit).then(|| feeds::sitemap_page_range(urls.len(), n as usize)).flatten();
            let Some(range) = range else { return not_found("站点地图分片不存在。") };
            let u: Vec<feeds::SitemapUrl> =
                urls[range].iter().map(|(l, m)| feeds::SitemapUrl { loc: l, lastmod: m.as_deref() }).collect();
            feeds::sitemap(&u)
        }
    };
    Ok((body.into_bytes(), XML))
}

/// The site's own error page (404, 400) inside its theme.
pub async fn error_page(p: &Portal, db: &Db, v: &View<'_>, status: u16, message: &str) -> R<Vec<u8>> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let labels = p.labels(&mut c).await?;
    let cols = store::columns(&mut c, v.site.id).await?;
    let pg = Page { p, v, labels, cols, tags: Vec::new(), modified: 0 };
    let title = if status == 404 { "页面不存在" } else { "请求有误" };
    let ctx = json!({ "status": status, "message": message, "title": title });
    pg.render("error.html", &Route::Home, title, json!([crumb(title, "")]), ctx, None)
}

/// Filter values as shown (for the catalogue's active-filter chips).
pub(crate) fn filter_label(labels: &Labels, key: &str, f: &Filter) -> Option<String> {
    match key {
        "cat" => {
            f.art20.as_deref().map(|c| Art20::parse(c).map(|a| a.label_with_number()).unwrap_or_else(|| c.to_string()))
        }
        "subject" => labels.subject(&f.subject),
        "org" => f.org.map(|o| labels.org(Some(o)).unwrap_or_else(|| format!("机构 {o}"))),
        "genre" => f
            .genre
            .as_deref()
            .map(|g| Genre::parse(g).map(|g| g.label_zh().to_string()).unwrap_or_else(|| g.to_string())),
        "year" => f.year.map(|y| format!("{y}年")),
        _ => None,
    }
}

pub(crate) fn catalogue_route(f: &Filter, page: i64) -> Route {
    Route::Catalogue { filter: f.clone(), page }
}
