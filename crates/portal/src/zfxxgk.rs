//! The statutory 政府信息公开 section (国办公开办函〔2019〕61号): 指南, 制度, 法定主动公开内容
//! (browsable by 第二十条 category, 主题分类, 机构, 体裁 and year, filters combinable and
//! linkable), 年报, 依申请公开 and 标准化规范化 — all computed from the library's records.

use gongkai_cms::model::DOMAINS;
use gongkai_kernel::db::Conn;
use serde_json::{Value, json};

use crate::pages::{HTML, PAGE_SIZE, Page, R, catalogue_route, crumb, filter_label, not_found, pager};
use crate::route::Route;
use crate::store::{self, Filter};

type Out = R<(Vec<u8>, &'static str)>;

fn section(pg: &Page) -> Value {
    crumb("政府信息公开", &pg.v.href(&Route::Disclosure))
}

/// The section's first-level entries, as the national model names them.
pub(crate) fn entries(pg: &Page) -> Vec<Value> {
    let mut v = vec![
        json!({ "name": "政府信息公开指南", "href": pg.v.href(&Route::Guide), "note": "公开的分类、编排体系、获取方式和工作机构" }),
        json!({ "name": "政府信息公开制度", "href": pg.v.href(&Route::Rules), "note": "本机关政府信息公开的制度规定" }),
        json!({ "name": "法定主动公开内容", "href": pg.v.href(&Route::Catalogue { filter: Filter::default(), page: 1 }), "note": "按条例第二十条、主题、机构、体裁和年份浏览" }),
        json!({ "name": "政府信息公开年报", "href": pg.v.href(&Route::Reports), "note": "历年政府信息公开工作年度报告" }),
        json!({ "name": "依申请公开", "href": pg.v.href(&Route::Apply), "note": "申请获取政府信息的途径和方式" }),
        json!({ "name": "标准化规范化", "href": pg.v.href(&Route::Standard), "note": "基层政务公开标准目录及对应信息" }),
    ];
    if let Some(c) = pg.col_by_slug("zcwj") {
        v.insert(3, json!({ "name": c.name, "href": pg.col_href(c), "note": "本机关制发的政策文件" }));
    }
    v
}

pub(crate) async fn index(pg: &mut Page<'_>, c: &mut Conn<'_>, route: &Route) -> Out {
    pg.tag(format!("zfxxgk:{}", pg.v.site.id));
    let (rows, _) = store::catalogue(c, pg.v.site.id, &Filter::default(), 10, 0).await?;
    let latest = pg.summaries(&rows);
    let ctx = json!({ "entries": entries(pg), "latest": latest });
    let current = pg.col_by_slug("zfxxgk").map(|c| c.id);
    Ok((pg.render("zfxxgk/index.html", route, "政府信息公开", json!([crumb("政府信息公开", "")]), ctx, current)?, HTML))
}

async fn office(pg: &Page<'_>) -> Value {
    let site = pg.v.site;
    let hours = match gongkai_kernel::calendar::service::office_hours(&pg.p.db).await {
        Ok(h) => h
            .periods
            .iter()
            .map(|(a, b)| format!("{:02}:{:02}—{:02}:{:02}", a.hour(), a.minute(), b.hour(), b.minute()))
            .collect::<Vec<_>>()
            .join("，"),
        Err(_) => String::new(),
    };
    json!({
        "name": if site.org_name.is_empty() { site.name.clone() } else { format!("{}政府信息公开工作机构", site.org_name) },
        "address": site.address, "phone": site.phone, "email": site.email,
        "hours": if hours.is_empty() { String::new() } else { format!("法定工作日 {hours}") },
    })
}

pub(crate) async fn guide(pg: &mut Page<'_>, c: &mut Conn<'_>, route: &Route) -> Out {
    pg.tag(format!("zfxxgk:{}", pg.v.site.id));
    let mut guide = Value::Null;
    if let Some(col) = pg.col_by_slug("gkzn").cloned() {
        pg.tag(format!("col:{}", col.id));
        if let Some(r) = store::column_items(c, col.id, 1, 0).await?.first()
            && let Some(full) = store::item(c, r.item_id).await?
        {
            pg.seen(r);
            let attachments = store::attachments(c, full.item_id).await?;
            guide = json!({
                "id": full.item_id, "title": full.title, "body": minijinja::Value::from_safe_string(full.body.clone()),
                "published_on": full.published_on, "index_no": full.index_no,
                "href": pg.v.href(&Route::Item { id: full.item_id }),
                "attachments": attachments.iter().map(|a| crate::pages::attachment(pg.v, a)).collect::<Vec<_>>(),
            });
        }
    }
    let ctx = json!({ "guide": guide, "office": office(pg).await });
    let crumbs = json!([section(pg), crumb("政府信息公开指南", "")]);
    Ok((pg.render("zfxxgk/guide.html", route, "政府信息公开指南", crumbs, ctx, None)?, HTML))
}

/// 制度 and 年报: the items of the column with that slug, grouped by year.
pub(crate) async fn listing(pg: &mut Page<'_>, c: &mut Conn<'_>, route: &Route, slug: &str, heading: &str) -> Out {
    pg.tag(format!("zfxxgk:{}", pg.v.site.id));
    let mut groups: Vec<Value> = Vec::new();
    if let Some(col) = pg.col_by_slug(slug).cloned() {
        pg.tag(format!("col:{}", col.id));
        let rows = store::column_items(c, col.id, 500, 0).await?;
        let mut current: Option<String> = None;
        let mut items: Vec<Value> = Vec::new();
        for r in &rows {
            let year = r.published_on.get(..4).unwrap_or("").to_string();
            if current.as_ref().is_some_and(|y| *y != year) {
                groups.push(json!({ "label": format!("{}年", current.take().unwrap_or_default()), "items": std::mem::take(&mut items) }));
            }
            current = Some(year);
            items.push(pg.summary(r));
        }
        if let Some(y) = current {
            groups.push(json!({ "label": format!("{y}年"), "items": items }));
        }
    }
    let ctx = json!({ "heading": heading, "groups": groups });
    let crumbs = json!([section(pg), crumb(heading, "")]);
    Ok((pg.render("zfxxgk/list.html", route, heading, crumbs, ctx, None)?, HTML))
}

pub(crate) async fn apply(pg: &mut Page<'_>, _c: &mut Conn<'_>, route: &Route) -> Out {
    pg.tag(format!("zfxxgk:{}", pg.v.site.id));
    let form_href = if pg.p.apply_form.load(std::sync::atomic::Ordering::Relaxed) {
        json!(match pg.v.site.org_id {
            Some(org) => format!("/yisqgk/apply?org={org}"),
            None => "/yisqgk/apply".to_string(),
        })
    } else {
        Value::Null
    };
    let ctx = json!({ "office": office(pg).await, "form_href": form_href, "guide_href": pg.v.href(&Route::Guide) });
    let crumbs = json!([section(pg), crumb("依申请公开", "")]);
    Ok((pg.render("zfxxgk/apply.html", route, "依申请公开", crumbs, ctx, None)?, HTML))
}

const FACETS: [(&str, &str, &str); 5] = [
    ("cat", "art20", "按第二十条分类"),
    ("subject", "subject_code", "按主题分类"),
    ("org", "publisher_org_id", "按发布机构"),
    ("genre", "genre", "按体裁"),
    ("year", "year", "按年份"),
];

fn with(f: &Filter, key: &str, value: Option<&str>) -> Filter {
    let mut f = f.clone();
    let s = value.map(str::to_string);
    match key {
        "cat" => f.art20 = s,
        "subject" => f.subject = s,
        "org" => f.org = s.and_then(|v| v.parse().ok()),
        "genre" => f.genre = s,
        "year" => f.year = s.and_then(|v| v.parse().ok()),
        _ => {}
    }
    f
}

fn selected(f: &Filter, key: &str, value: &str) -> bool {
    match key {
        "cat" => f.art20.as_deref() == Some(value),
        "subject" => f.subject.as_deref() == Some(value),
        "org" => f.org.map(|o| o.to_string()).as_deref() == Some(value),
        "genre" => f.genre.as_deref() == Some(value),
        "year" => f.year.map(|y| y.to_string()).as_deref() == Some(value),
        _ => false,
    }
}

pub(crate) async fn catalogue(pg: &mut Page<'_>, c: &mut Conn<'_>, route: &Route, f: &Filter, page: i64) -> Out {
    let site_id = pg.v.site.id;
    pg.tag(format!("zfxxgk:{site_id}"));
    let (rows, total) = store::catalogue(c, site_id, f, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    if page > 1 && rows.is_empty() {
        return not_found("页码超出范围。");
    }
    let counts = pg.p.facets(c, site_id).await?;
    let mut facets = Vec::new();
    for (key, col, label) in FACETS {
        let options: Vec<Value> = counts
            .iter()
            .find(|(k, _)| *k == col)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|(value, n)| {
                let lbl = filter_label(&pg.labels, key, &with(&Filter::default(), key, Some(value))).unwrap_or(value.clone());
                let on = selected(f, key, value);
                // Choosing an option keeps the other filters; choosing the selected one clears it.
                let target = with(f, key, if on { None } else { Some(value) });
                json!({ "value": value, "label": lbl, "count": n, "href": pg.v.href(&catalogue_route(&target, 1)), "selected": on })
            })
            .collect();
        facets.push(json!({ "key": key, "label": label, "options": options }));
    }
    let filters: Vec<Value> = FACETS
        .iter()
        .filter_map(|(key, _, label)| {
            let value_label = filter_label(&pg.labels, key, f)?;
            Some(json!({ "key": key, "label": label.trim_start_matches('按'), "value_label": value_label,
                         "remove_href": pg.v.href(&catalogue_route(&with(f, key, None), 1)) }))
        })
        .collect();
    let table: Vec<Value> = rows
        .iter()
        .map(|r| {
            pg.seen(r);
            json!({
                "index_no": r.index_no, "title": r.title, "href": pg.v.href(&Route::Item { id: r.item_id }),
                "written_on": r.written_on.clone().unwrap_or_else(|| r.published_on.clone()), "published_on": r.published_on,
                "publisher": pg.labels.org(r.publisher_org_id), "validity_label": crate::pages::validity_label(&r.validity),
                "inactive": crate::pages::inactive(&r.validity),
            })
        })
        .collect();
    let fc = f.clone();
    let pager = pager(pg.v, total, page, |n| catalogue_route(&fc, n));
    let title = if filters.is_empty() {
        "法定主动公开内容".to_string()
    } else {
        format!(
            "法定主动公开内容：{}",
            filters.iter().filter_map(|x| x["value_label"].as_str()).collect::<Vec<_>>().join("，")
        )
    };
    let ctx = json!({
        "facets": facets, "filters": filters, "rows": table, "pager": pager,
        "clear_href": pg.v.href(&catalogue_route(&Filter::default(), 1)),
    });
    let crumbs = json!([section(pg), crumb("法定主动公开内容", "")]);
    Ok((pg.render("zfxxgk/catalogue.html", route, &title, crumbs, ctx, None)?, HTML))
}

fn org_scope(pg: &Page) -> Option<i64> {
    if pg.v.site.kind == "portal" { None } else { Some(pg.v.site.org_id.unwrap_or(-1)) }
}

pub(crate) async fn standard(pg: &mut Page<'_>, c: &mut Conn<'_>, route: &Route) -> Out {
    pg.tag(format!("zfxxgk:{}", pg.v.site.id));
    pg.tag("catalogue".into());
    let entries = store::entries(c, pg.v.site.id, org_scope(pg)).await?;
    let domains: Vec<Value> = DOMAINS
        .iter()
        .filter_map(|(code, name)| {
            let list: Vec<Value> = entries
                .iter()
                .filter(|e| e.domain_code == *code)
                .map(|e| {
                    json!({ "id": e.id, "title": entry_title(e), "href": pg.v.href(&Route::StandardEntry { id: e.id }), "count": e.n })
                })
                .collect();
            (!list.is_empty()).then(|| json!({ "code": code, "name": name, "entries": list }))
        })
        .collect();
    let crumbs = json!([section(pg), crumb("标准化规范化", "")]);
    Ok((pg.render("zfxxgk/standard.html", route, "标准化规范化", crumbs, json!({ "domains": domains }), None)?, HTML))
}

fn entry_title(e: &store::Entry) -> String {
    if e.level2.is_empty() { e.level1.clone() } else { format!("{}：{}", e.level1, e.level2) }
}

pub(crate) async fn standard_entry(pg: &mut Page<'_>, c: &mut Conn<'_>, route: &Route, id: i64) -> Out {
    pg.tag(format!("zfxxgk:{}", pg.v.site.id));
    pg.tag("catalogue".into());
    let Some(e) = store::entry(c, pg.v.site.id, id).await? else { return not_found("目录事项不存在。") };
    if let Some(org) = org_scope(pg)
        && e.org_id != Some(org)
    {
        return not_found("该目录事项不属于本网站。");
    }
    let rows = store::entry_items(c, pg.v.site.id, id, 200).await?;
    let items = pg.summaries(&rows);
    let domain = DOMAINS.iter().find(|(c, _)| *c == e.domain_code).map(|(_, n)| *n).unwrap_or("");
    let title = entry_title(&e);
    let ctx = json!({
        "entry": {
            "title": title, "domain": domain, "level1": e.level1, "level2": e.level2, "basis": e.basis, "content": e.content,
            "subject_org": pg.labels.org(e.org_id), "time_limit": e.time_limit, "scope": e.audience, "channel": e.channels,
        },
        "items": items,
    });
    let crumbs = json!([section(pg), crumb("标准化规范化", &pg.v.href(&Route::Standard)), crumb(&title, "")]);
    Ok((pg.render("zfxxgk/standard_entry.html", route, &title, crumbs, ctx, None)?, HTML))
}
