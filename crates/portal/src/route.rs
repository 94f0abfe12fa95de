//! Public URLs of a site, parsed into one `Route` (pure). The dispatcher, the page cache
//! key and the static export all go through here, so there is one spelling of each page.

use crate::store::Filter;

#[derive(Debug, Clone, PartialEq)]
pub enum Feed {
    Rss,
    Atom,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Home,
    Column {
        slug: String,
        page: i64,
    },
    ColumnFeed {
        slug: String,
        feed: Feed,
    },
    Item {
        id: i64,
    },
    ItemText {
        id: i64,
    },
    Topic {
        slug: String,
    },
    TopicFeed {
        slug: String,
        feed: Feed,
    },
    SiteFeed(Feed),
    Sitemap {
        part: Option<i64>,
    },
    Robots,
    Disclosure,
    Guide,
    Rules,
    Catalogue {
        filter: Filter,
        page: i64,
    },
    Reports,
    Apply,
    Standard,
    StandardEntry {
        id: i64,
    },
    /// Not cached: assets, attachments, the 关怀模式 switch.
    Asset(String),
    File {
        id: i64,
    },
    Care {
        on: bool,
        back: String,
    },
    Search(SearchParams),
}

/// The public search page's parameters, in their canonical order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchParams {
    pub q: String,
    /// Search the whole site group rather than this site.
    pub all: bool,
    pub by_date: bool,
    pub page: i64,
    pub year: Option<i64>,
    pub column: Option<String>,
    pub subject: Option<String>,
    pub org: Option<i64>,
    pub genre: Option<String>,
    pub validity: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl SearchParams {
    pub fn advanced(&self) -> bool {
        self.year.is_some()
            || self.column.is_some()
            || self.subject.is_some()
            || self.org.is_some()
            || self.genre.is_some()
            || self.validity.is_some()
            || self.from.is_some()
            || self.to.is_some()
    }
}

fn search_params(query: &str) -> Result<SearchParams, Reject> {
    let mut s = SearchParams { page: 1, ..Default::default() };
    for (k, v) in query_pairs(query)? {
        let v = v.trim().to_string();
        let bad = |what: &str| Reject::BadRequest(format!("检索条件“{what}”的值无效"));
        match k.as_str() {
            // The words are never refused here: the search cleans them.
            "q" => s.q = v.chars().take(1000).collect(),
            _ if v.is_empty() => {}
            "scope" => s.all = v == "all",
            "sort" => s.by_date = v == "date",
            "page" => s.page = v.parse::<i64>().ok().filter(|p| (1..=500).contains(p)).ok_or_else(|| bad("页码"))?,
            "year" => {
                s.year = Some(v.parse::<i64>().ok().filter(|y| (1949..=9999).contains(y)).ok_or_else(|| bad("年份"))?)
            }
            "column" if slug_ok(&v) => s.column = Some(v),
            "column" => return Err(bad("栏目")),
            "subject" if slug_ok(&v) && v.len() <= 32 => s.subject = Some(v),
            "subject" => return Err(bad("主题分类")),
            "genre" if slug_ok(&v) && v.len() <= 32 => s.genre = Some(v),
            "genre" => return Err(bad("体裁")),
            "org" => s.org = Some(v.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| bad("发布机构"))?),
            "validity" if slug_ok(&v) && v.len() <= 16 => s.validity = Some(v),
            "validity" => return Err(bad("有效性")),
            "from" | "to" => {
                gongkai_kernel::clock::parse_date(&v)
                    .ok_or_else(|| bad(if k == "from" { "起始日期" } else { "截止日期" }))?;
                if k == "from" { s.from = Some(v) } else { s.to = Some(v) }
            }
            _ => {}
        }
    }
    Ok(s)
}

pub fn search_href(s: &SearchParams) -> String {
    let mut q: Vec<(&str, String)> = vec![("q", s.q.clone())];
    if s.all {
        q.push(("scope", "all".into()));
    }
    if s.by_date {
        q.push(("sort", "date".into()));
    }
    if let Some(y) = s.year {
        q.push(("year", y.to_string()));
    }
    if let Some(v) = &s.column {
        q.push(("column", v.clone()));
    }
    if let Some(v) = &s.subject {
        q.push(("subject", v.clone()));
    }
    if let Some(v) = s.org {
        q.push(("org", v.to_string()));
    }
    for (k, v) in [("genre", &s.genre), ("validity", &s.validity), ("from", &s.from), ("to", &s.to)] {
        if let Some(v) = v {
            q.push((k, v.clone()));
        }
    }
    if s.page > 1 {
        q.push(("page", s.page.to_string()));
    }
    format!("/search?{}", serde_urlencoded::to_string(&q).unwrap_or_default())
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reject {
    NotFound,
    BadRequest(String),
}

fn slug_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn id_of(s: &str) -> Result<i64, Reject> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Reject::NotFound);
    }
    s.parse::<i64>().map_err(|_| Reject::NotFound).and_then(|n| if n > 0 { Ok(n) } else { Err(Reject::NotFound) })
}

/// "index.html" → 1, "index_7.html" → 7.
fn page_file(f: &str) -> Result<i64, Reject> {
    if f.is_empty() || f == "index.html" {
        return Ok(1);
    }
    let n = f.strip_prefix("index_").and_then(|r| r.strip_suffix(".html")).ok_or(Reject::NotFound)?;
    let n = id_of(n)?;
    if n == 1 { Err(Reject::NotFound) } else { Ok(n) }
}

fn query_pairs(q: &str) -> Result<Vec<(String, String)>, Reject> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(q).map_err(|_| Reject::BadRequest("查询参数格式有误".into()))
}

/// Parse a path below the site root (always starting with '/') and its query string.
pub fn parse(path: &str, query: &str) -> Result<Route, Reject> {
    let segs: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let r = match segs.as_slice() {
        [""] | ["index.html"] => Route::Home,
        ["rss.xml"] => Route::SiteFeed(Feed::Rss),
        ["atom.xml"] => Route::SiteFeed(Feed::Atom),
        ["robots.txt"] => Route::Robots,
        ["sitemap.xml"] => Route::Sitemap { part: None },
        [f] if f.starts_with("sitemap_") && f.ends_with(".xml") => {
            Route::Sitemap { part: Some(id_of(&f["sitemap_".len()..f.len() - 4])?) }
        }
        ["care"] => {
            let mut on = true;
            let mut back = String::from("/");
            for (k, v) in query_pairs(query)? {
                match k.as_str() {
                    "on" => on = v != "0",
                    // Only a path on this site: never an open redirect.
                    "back" if v.starts_with('/') && !v.starts_with("//") && !v.contains('\\') => back = v,
                    _ => {}
                }
            }
            Route::Care { on, back }
        }
        ["search"] => Route::Search(search_params(query)?),
        ["theme", rest @ ..] if !rest.is_empty() => Route::Asset(rest.join("/")),
        ["files", id, _name] => Route::File { id: id_of(id)? },
        ["col", slug, f] if slug_ok(slug) => match *f {
            "rss.xml" => Route::ColumnFeed { slug: slug.to_string(), feed: Feed::Rss },
            "atom.xml" => Route::ColumnFeed { slug: slug.to_string(), feed: Feed::Atom },
            f => Route::Column { slug: slug.to_string(), page: page_file(f)? },
        },
        ["art", f] => {
            if let Some(id) = f.strip_suffix("_text.html") {
                Route::ItemText { id: id_of(id)? }
            } else {
                Route::Item { id: id_of(f.strip_suffix(".html").ok_or(Reject::NotFound)?)? }
            }
        }
        ["topic", slug, f] if slug_ok(slug) => match *f {
            "" | "index.html" => Route::Topic { slug: slug.to_string() },
            "rss.xml" => Route::TopicFeed { slug: slug.to_string(), feed: Feed::Rss },
            "atom.xml" => Route::TopicFeed { slug: slug.to_string(), feed: Feed::Atom },
            _ => return Err(Reject::NotFound),
        },
        ["zfxxgk", ""] | ["zfxxgk", "index.html"] => Route::Disclosure,
        ["zfxxgk", "gkzn.html"] => Route::Guide,
        ["zfxxgk", "gkzd", ""] | ["zfxxgk", "gkzd", "index.html"] => Route::Rules,
        ["zfxxgk", "gknb", ""] | ["zfxxgk", "gknb", "index.html"] => Route::Reports,
        ["zfxxgk", "ysqgk.html"] => Route::Apply,
        ["zfxxgk", "bzh", ""] | ["zfxxgk", "bzh", "index.html"] => Route::Standard,
        ["zfxxgk", "bzh", f] => Route::StandardEntry { id: id_of(f.strip_suffix(".html").ok_or(Reject::NotFound)?)? },
        ["zfxxgk", "fdzdgk", f] => {
            let mut page = page_file(f)?;
            let mut filter = Filter::default();
            for (k, v) in query_pairs(query)? {
                let v = v.trim().to_string();
                if v.is_empty() {
                    continue;
                }
                let bad = |what: &str| Reject::BadRequest(format!("筛选条件“{what}”的值无效"));
                match k.as_str() {
                    "cat" if v.len() <= 16 && slug_ok(&v) => filter.art20 = Some(v),
                    "cat" => return Err(bad("第二十条分类")),
                    "subject" if v.len() <= 16 && slug_ok(&v) => filter.subject = Some(v),
                    "subject" => return Err(bad("主题分类")),
                    "genre" if v.len() <= 32 && slug_ok(&v) => filter.genre = Some(v),
                    "genre" => return Err(bad("体裁")),
                    "org" => {
                        filter.org = Some(v.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| bad("发布机构"))?)
                    }
                    "year" => {
                        filter.year = Some(
                            v.parse::<i64>().ok().filter(|y| (1949..=9999).contains(y)).ok_or_else(|| bad("年份"))?,
                        )
                    }
                    "page" => {
                        page =
                            v.parse::<i64>().ok().filter(|p| (1..=1_000_000).contains(p)).ok_or_else(|| bad("页码"))?
                    }
                    _ => {}
                }
            }
            Route::Catalogue { filter, page }
        }
        _ => return Err(Reject::NotFound),
    };
    Ok(r)
}

impl Route {
    /// Whether the rendered result may be kept in the page cache.
    pub fn cacheable(&self) -> bool {
        !matches!(self, Route::Asset(_) | Route::File { .. } | Route::Care { .. } | Route::Search(_))
    }

    /// The path (with query) of this route below the site root; the inverse of `parse`.
    pub fn href(&self) -> String {
        let feed = |f: &Feed| match f {
            Feed::Rss => "rss.xml",
            Feed::Atom => "atom.xml",
        };
        match self {
            Route::Home => "/".into(),
            Route::Column { slug, page: 1 } => format!("/col/{slug}/"),
            Route::Column { slug, page } => format!("/col/{slug}/index_{page}.html"),
            Route::ColumnFeed { slug, feed: f } => format!("/col/{slug}/{}", feed(f)),
            Route::Item { id } => format!("/art/{id}.html"),
            Route::ItemText { id } => format!("/art/{id}_text.html"),
            Route::Topic { slug } => format!("/topic/{slug}/"),
            Route::TopicFeed { slug, feed: f } => format!("/topic/{slug}/{}", feed(f)),
            Route::SiteFeed(f) => format!("/{}", feed(f)),
            Route::Sitemap { part: None } => "/sitemap.xml".into(),
            Route::Sitemap { part: Some(n) } => format!("/sitemap_{n}.xml"),
            Route::Robots => "/robots.txt".into(),
            Route::Disclosure => "/zfxxgk/".into(),
            Route::Guide => "/zfxxgk/gkzn.html".into(),
            Route::Rules => "/zfxxgk/gkzd/".into(),
            Route::Reports => "/zfxxgk/gknb/".into(),
            Route::Apply => "/zfxxgk/ysqgk.html".into(),
            Route::Standard => "/zfxxgk/bzh/".into(),
            Route::StandardEntry { id } => format!("/zfxxgk/bzh/{id}.html"),
            Route::Catalogue { filter, page } => catalogue_href(filter, *page),
            Route::Asset(p) => format!("/theme/{p}"),
            Route::File { id } => format!("/files/{id}/"),
            Route::Search(s) => search_href(s),
            Route::Care { on, back } => {
                format!(
                    "/care?on={}&back={}",
                    if *on { 1 } else { 0 },
                    gongkai_kernel::web::middleware::urlencode(back)
                )
            }
        }
    }
}

/// The catalogue URL for a filter: the canonical, linkable form (fixed key order).
pub fn catalogue_href(f: &Filter, page: i64) -> String {
    let mut q: Vec<(&str, String)> = Vec::new();
    if let Some(v) = &f.art20 {
        q.push(("cat", v.clone()));
    }
    if let Some(v) = &f.subject {
        q.push(("subject", v.clone()));
    }
    if let Some(v) = f.org {
        q.push(("org", v.to_string()));
    }
    if let Some(v) = &f.genre {
        q.push(("genre", v.clone()));
    }
    if let Some(v) = f.year {
        q.push(("year", v.to_string()));
    }
    // Unfiltered pages are files (a static export serves them too); filtered ones need the server.
    if q.is_empty() {
        return if page > 1 { format!("/zfxxgk/fdzdgk/index_{page}.html") } else { "/zfxxgk/fdzdgk/".into() };
    }
    if page > 1 {
        q.push(("page", page.to_string()));
    }
    format!("/zfxxgk/fdzdgk/?{}", serde_urlencoded::to_string(&q).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let f = Filter { art20: Some("a20_01".into()), year: Some(2024), org: Some(3), ..Default::default() };
        for r in [
            Route::Home,
            Route::Column { slug: "yw".into(), page: 1 },
            Route::Column { slug: "yw".into(), page: 12 },
            Route::ColumnFeed { slug: "yw".into(), feed: Feed::Atom },
            Route::Item { id: 42 },
            Route::ItemText { id: 42 },
            Route::Topic { slug: "yshj-1".into() },
            Route::TopicFeed { slug: "t".into(), feed: Feed::Rss },
            Route::SiteFeed(Feed::Rss),
            Route::Sitemap { part: None },
            Route::Sitemap { part: Some(2) },
            Route::Robots,
            Route::Disclosure,
            Route::Guide,
            Route::Rules,
            Route::Reports,
            Route::Apply,
            Route::Standard,
            Route::StandardEntry { id: 5 },
            Route::Catalogue { filter: Filter::default(), page: 1 },
            Route::Catalogue { filter: f.clone(), page: 3 },
            Route::Search(SearchParams { q: "政务 \"公开\" -年报 &<".into(), page: 1, ..Default::default() }),
            Route::Search(SearchParams {
                q: "杨管办发〔2018〕9号".into(),
                all: true,
                by_date: true,
                page: 4,
                year: Some(2018),
                column: Some("tzgg".into()),
                subject: Some("s01".into()),
                org: Some(7),
                genre: Some("notice".into()),
                validity: Some("valid".into()),
                from: Some("2018-01-01".into()),
                to: Some("2018-12-31".into()),
            }),
        ] {
            let href = r.href();
            let (p, q) = href.split_once('?').unwrap_or((&href, ""));
            assert_eq!(parse(p, q), Ok(r.clone()), "{href}");
        }
    }

    #[test]
    fn bad_input_is_404_or_400_never_a_panic() {
        for p in [
            "/art/abc.html",
            "/art/0.html",
            "/art/99999999999999999999.html",
            "/art/1",
            "/col/../x/",
            "/col/yw/index_1.html",
            "/col/yw/index_-3.html",
            "/col/yw/index_x.html",
            "/nope",
            "/zfxxgk/bzh/x.html",
            "/sitemap_x.xml",
            "/topic/%2e%2e/",
        ] {
            assert_eq!(parse(p, ""), Err(Reject::NotFound), "{p}");
        }
        for q in [
            "year=abc",
            "year=99999",
            "org=-1",
            "page=0",
            "page=x",
            "cat=%3Cscript%3E",
            "subject=a%20b",
            "year=2024&year=abc",
        ] {
            assert!(matches!(parse("/zfxxgk/fdzdgk/", q), Err(Reject::BadRequest(_))), "{q}");
        }
        // Unknown parameters are ignored; empty ones mean "no filter".
        assert_eq!(
            parse("/zfxxgk/fdzdgk/", "utm=1&cat=&year=2024"),
            Ok(Route::Catalogue { filter: Filter { year: Some(2024), ..Default::default() }, page: 1 })
        );
    }

    #[test]
    fn search_words_are_never_refused_but_filters_are_checked() {
        let ok = |q: &str| matches!(parse("/search", q), Ok(Route::Search(_)));
        assert!(ok("q=%22%22%22") && ok("q=-") && ok("") && ok("q=%F0%9F%98%80") && ok("q=%3Cscript%3E"));
        for q in ["q=x&year=abc", "q=x&page=0", "q=x&page=501", "q=x&org=-1", "q=x&from=2024-13-01", "q=x&column=a%2Fb"]
        {
            assert!(matches!(parse("/search", q), Err(Reject::BadRequest(_))), "{q}");
        }
    }

    #[test]
    fn care_switch_never_redirects_off_site() {
        for (q, back) in [
            ("on=1&back=//evil.com", "/"),
            ("on=1&back=https://evil.com", "/"),
            ("on=0&back=/art/1.html", "/art/1.html"),
        ] {
            match parse("/care", q) {
                Ok(Route::Care { back: b, .. }) => assert_eq!(b, back, "{q}"),
                other => panic!("{q}: {other:?}"),
            }
        }
    }
}
