//! The public search page (`/search` on every site): works without JavaScript, searches
//! this site or the whole group, with the advanced filters, highlighted results, "did you
//! mean" and the site's hot searches. The query is cleaned by the search crate and echoed
//! escaped by the template; it is counted in aggregate only.

use gongkai_kernel::db::Conn;
use serde_json::{Value, json};

use crate::pages::{Fail, HTML, Page, R, crumb};
use crate::route::{Route, SearchParams};

pub const PER_PAGE: usize = 10;

/// Publication instants of a day range (Beijing time), inclusive.
fn day_ms(d: &str, end: bool) -> Option<i64> {
    let ms = gongkai_kernel::clock::local_to_ms(gongkai_kernel::clock::parse_date(d)?.midnight());
    Some(if end { ms + 86_400_000 - 1 } else { ms })
}

pub(crate) async fn page(
    pg: &mut Page<'_>,
    c: &mut Conn<'_>,
    route: &Route,
    s: &SearchParams,
) -> R<(Vec<u8>, &'static str)> {
    let Some(search) = pg.p.search.get().cloned() else {
        return Err(Fail::NotFound("本站检索服务暂未开放。".into()));
    };
    let site = pg.v.site;
    let sites = pg.p.sites.all(&pg.p.db).await?;
    let open: Vec<&crate::site::SiteInfo> = sites.iter().filter(|x| x.is_open()).collect();
    let column = match &s.column {
        Some(slug) => Some(pg.col_by_slug(slug).map(|c| c.id).ok_or(Fail::NotFound("栏目不存在。".into()))?),
        None => None,
    };
    let mut orgs: Vec<(&i64, &String)> = pg.labels.orgs.iter().collect();
    orgs.sort_by(|a, b| a.1.cmp(b.1));
    let orgs: Vec<Value> = orgs.into_iter().map(|(id, n)| json!([id, n])).collect();
    let mut ctx = json!({
        "q": s.q,
        "all": s.all,
        "by_date": s.by_date,
        "advanced": s.advanced(),
        "year": s.year,
        "column": s.column,
        "validity": s.validity,
        "subject": s.subject,
        "org": s.org,
        "genre": s.genre,
        "subjects": pg.labels.subjects.iter().map(|(c, l)| json!([c, l])).collect::<Vec<_>>(),
        "orgs": orgs,
        "genres": gongkai_cms::model::Genre::ALL.iter().map(|g| json!([g.as_str(), g.label_zh()])).collect::<Vec<_>>(),
        "from": s.from,
        "to": s.to,
        "columns": pg.cols.iter().filter(|c| c.visible && c.kind != "link" && c.kind != "page")
            .map(|c| json!({ "slug": c.slug, "name": c.name })).collect::<Vec<_>>(),
        "validities": [["valid", "有效"], ["expired", "已失效"], ["repealed", "已废止"]],
        "this_href": pg.v.href(&Route::Search(SearchParams { all: false, page: 1, ..s.clone() })),
        "all_href": pg.v.href(&Route::Search(SearchParams { all: true, page: 1, ..s.clone() })),
    });
    if !s.q.trim().is_empty() {
        let req = gongkai_search::Request {
            q: s.q.clone(),
            sites: if s.all { open.iter().map(|x| x.id).collect() } else { vec![site.id] },
            column,
            validity: s.validity.clone(),
            subject: s.subject.clone(),
            genre: s.genre.clone(),
            org: s.org,
            year: s.year,
            from_ts: s.from.as_deref().and_then(|d| day_ms(d, false)),
            to_ts: s.to.as_deref().and_then(|d| day_ms(d, true)),
            sort: if s.by_date { gongkai_search::Sort::Date } else { gongkai_search::Sort::Relevance },
            offset: (s.page.max(1) as usize - 1) * PER_PAGE,
            limit: PER_PAGE,
            ..Default::default()
        };
        let r = search.search(&req).map_err(Fail::Internal)?;
        if s.page <= 1 && !r.query.is_empty() {
            search.log_term(if s.all { 0 } else { site.id }, &r.query);
        }
        let hits: Vec<Value> = r
            .hits
            .iter()
            .map(|h| {
                let here = h.site_id == site.id || !s.all;
                let href = if here {
                    pg.v.href(&Route::Item { id: h.item_id })
                } else {
                    let code = open.iter().find(|x| x.id == h.site_id).map(|x| x.code.clone()).unwrap_or_default();
                    format!("/s/{code}{}", Route::Item { id: h.item_id }.href())
                };
                let site_name = open.iter().find(|x| x.id == h.site_id).map(|x| x.name.clone()).unwrap_or_default();
                json!({
                    "href": href,
                    "title_html": h.title_html,
                    "snippet_html": h.snippet_html,
                    "site_name": site_name,
                    "column_name": if here { pg.col(h.column_id).map(|c| c.name.clone()) } else { None },
                    "published_on": h.published_on,
                    "index_no": h.index_no,
                    "doc_no": h.doc_no,
                    "inactive": matches!(h.validity.as_str(), "repealed" | "expired"),
                })
            })
            .collect();
        let pages = r.total.div_ceil(PER_PAGE).clamp(1, 500) as i64;
        let at = |n: i64| pg.v.href(&Route::Search(SearchParams { page: n, ..s.clone() }));
        ctx["results"] = json!({
            "query": r.query,
            "total": r.total,
            "hits": hits,
            "notice": r.notice,
            "did_you_mean": r.did_you_mean.as_ref().map(|w| json!({
                "word": w,
                "href": pg.v.href(&Route::Search(SearchParams { q: w.clone(), page: 1, ..s.clone() })),
            })),
            "page": s.page,
            "pages": pages,
            "prev": (s.page > 1).then(|| at(s.page - 1)),
            "next": (s.page < pages).then(|| at(s.page + 1)),
            "by_relevance": pg.v.href(&Route::Search(SearchParams { by_date: false, page: 1, ..s.clone() })),
            "by_date": pg.v.href(&Route::Search(SearchParams { by_date: true, page: 1, ..s.clone() })),
        });
    }
    let since = gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today() - time::Duration::days(30));
    let hot = gongkai_search::store::hot(&pg.p.db, Some(site.id), &since, 10).await.unwrap_or_default();
    ctx["hot"] = json!(
        hot.iter()
            .map(|(t, _)| json!({ "term": t, "href": pg.v.href(&Route::Search(SearchParams { q: t.clone(), page: 1, ..Default::default() })) }))
            .collect::<Vec<_>>()
    );
    ctx["search"] = json!({ "action": format!("{}/search", pg.v.base), "q": s.q });
    let _ = c;
    let shown: String = s.q.trim().chars().take(30).collect();
    let title = if shown.is_empty() { "站内搜索".to_string() } else { format!("“{shown}”的搜索结果") };
    let crumbs = json!([crumb("站内搜索", "")]);
    Ok((pg.render("search.html", route, &title, crumbs, ctx, None)?, HTML))
}
