//! SQL over the public projection (`pub_items`, `pub_placements`, `pub_site_items`) and
//! the few library tables the portal shows (columns, topics, catalogue, attachments).

use gongkai_kernel::Result;
use gongkai_kernel::db::Conn;
use gongkai_kernel::with_conn;
use serde::Serialize;

/// A live item as lists show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Row {
    pub item_id: i64,
    pub site_id: i64,
    pub home_column_id: i64,
    pub title: String,
    pub summary: String,
    pub published_on: String,
    pub written_on: Option<String>,
    pub index_no: Option<String>,
    pub publisher_org_id: Option<i64>,
    pub validity: String,
    pub cover_attachment_id: Option<i64>,
    pub published_at: i64,
    pub updated_at: i64,
}

const ROW: &str =
    "p.item_id, p.site_id, p.home_column_id, p.title, p.summary, p.published_on, p.written_on, p.index_no,
    p.publisher_org_id, p.validity, p.cover_attachment_id, p.published_at, p.updated_at";

/// A live item in full.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Full {
    pub item_id: i64,
    pub site_id: i64,
    pub home_column_id: i64,
    pub class_code: String,
    pub title: String,
    pub subtitle: String,
    pub summary: String,
    pub body: String,
    pub source: String,
    pub author: String,
    pub cover_attachment_id: Option<i64>,
    pub index_no: Option<String>,
    pub publisher_org_id: Option<i64>,
    pub subject_code: Option<String>,
    pub genre: Option<String>,
    pub doc_no: String,
    pub written_on: Option<String>,
    pub published_on: String,
    pub year: i64,
    pub validity: String,
    pub validity_on: Option<String>,
    pub replaced_by_item_id: Option<i64>,
    pub keywords: String,
    pub disclosure_mode: String,
    pub disclosure_scope: String,
    pub five_open: Option<String>,
    pub art20: Option<String>,
    pub is_rule: bool,
    pub is_normative: bool,
    pub interpretation_form: Option<String>,
    pub live_version: i64,
    pub published_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Col {
    pub id: i64,
    pub site_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub slug: String,
    pub kind: String,
    pub class: String,
    pub sort_order: i64,
    pub visible: bool,
    pub link_url: String,
    pub updated_at: i64,
}

pub async fn columns(c: &mut Conn<'_>, site_id: i64) -> Result<Vec<Col>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Col>(
            "SELECT id, site_id, parent_id, name, slug, kind, class, sort_order, visible, link_url, updated_at
               FROM columns WHERE site_id = $1 ORDER BY sort_order, id",
        )
        .bind(site_id).fetch_all(&mut **x).await
    })?)
}

pub async fn column_items(c: &mut Conn<'_>, column_id: i64, limit: i64, offset: i64) -> Result<Vec<Row>> {
    // The OFFSET walks the covering index alone; only the page's rows are joined.
    let sql = format!(
        "SELECT {ROW} FROM (SELECT item_id, published_on FROM pub_placements WHERE column_id = $1
                              ORDER BY published_on DESC, item_id DESC LIMIT $2 OFFSET $3) k
           JOIN pub_items p ON p.item_id = k.item_id ORDER BY k.published_on DESC, k.item_id DESC"
    );
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone())).bind(column_id).bind(limit).bind(offset).fetch_all(&mut **x).await
    })?)
}

pub async fn column_count(c: &mut Conn<'_>, column_id: i64) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("SELECT COUNT(*) FROM pub_placements WHERE column_id = $1").bind(column_id).fetch_one(&mut **x).await
    })?)
}

/// Newest live items shown on a site (any column), for feeds and the home page.
pub async fn site_latest(c: &mut Conn<'_>, site_id: i64, limit: i64) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT {ROW} FROM pub_site_items s JOIN pub_items p ON p.item_id = s.item_id
          WHERE s.site_id = $1 ORDER BY s.published_on DESC, s.item_id DESC LIMIT $2"
    );
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone())).bind(site_id).bind(limit).fetch_all(&mut **x).await
    })?)
}

pub async fn item(c: &mut Conn<'_>, id: i64) -> Result<Option<Full>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Full>("SELECT * FROM pub_items WHERE item_id = $1").bind(id).fetch_optional(&mut **x).await
    })?)
}

/// Whether a live item is shown on a site (home or pushed there).
pub async fn on_site(c: &mut Conn<'_>, site_id: i64, item_id: i64) -> Result<bool> {
    let n: i64 = with_conn!(c, x => {
        sqlx::query_scalar("SELECT COUNT(*) FROM pub_site_items WHERE site_id = $1 AND item_id = $2")
            .bind(site_id).bind(item_id).fetch_one(&mut **x).await
    })?;
    Ok(n > 0)
}

/// Columns of this site an item is listed in.
pub async fn item_columns(c: &mut Conn<'_>, site_id: i64, item_id: i64) -> Result<Vec<i64>> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "SELECT pl.column_id FROM pub_placements pl JOIN columns col ON col.id = pl.column_id
              WHERE pl.item_id = $1 AND col.site_id = $2 ORDER BY pl.column_id",
        )
        .bind(item_id).bind(site_id).fetch_all(&mut **x).await
    })?)
}

/// (interpretations of this policy, policies this item interprets), live ones only.
pub async fn interpretation_links(c: &mut Conn<'_>, id: i64) -> Result<(Vec<Row>, Vec<Row>)> {
    let a = format!(
        "SELECT {ROW} FROM interpretation_links l JOIN pub_items p ON p.item_id = l.interpretation_id
          WHERE l.policy_id = $1 ORDER BY p.published_on DESC, p.item_id DESC"
    );
    let b = format!(
        "SELECT {ROW} FROM interpretation_links l JOIN pub_items p ON p.item_id = l.policy_id
          WHERE l.interpretation_id = $1 ORDER BY p.published_on DESC, p.item_id DESC"
    );
    let interpretations = with_conn!(c, x => {
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(a.clone())).bind(id).fetch_all(&mut **x).await
    })?;
    let interprets = with_conn!(c, x => {
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(b.clone())).bind(id).fetch_all(&mut **x).await
    })?;
    Ok((interpretations, interprets))
}

pub async fn rows_by_ids(c: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<Row>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let sql = format!("SELECT {ROW} FROM pub_items p WHERE p.item_id IN ({list})");
    Ok(with_conn!(c, x => sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone())).fetch_all(&mut **x).await)?)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Attachment {
    pub id: i64,
    pub name: String,
    pub size: i64,
    pub mime: String,
    pub sha256: String,
}

pub async fn attachments(c: &mut Conn<'_>, item_id: i64) -> Result<Vec<Attachment>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Attachment>(
            "SELECT ia.id, ia.name, a.size, a.mime, a.sha256 FROM item_attachments ia JOIN attachments a ON a.id = ia.attachment_id
              WHERE ia.item_id = $1 ORDER BY ia.sort_order, ia.id",
        )
        .bind(item_id).fetch_all(&mut **x).await
    })?)
}

/// An attachment of a live item, by `item_attachments.id`.
pub async fn public_attachment(c: &mut Conn<'_>, id: i64) -> Result<Option<(i64, Attachment)>> {
    #[derive(sqlx::FromRow)]
    struct AttRow {
        item_id: i64,
        id: i64,
        name: String,
        size: i64,
        mime: String,
        sha256: String,
    }
    let r = with_conn!(c, x => {
        sqlx::query_as::<_, AttRow>(
            "SELECT ia.item_id, ia.id, ia.name, a.size, a.mime, a.sha256 FROM item_attachments ia
               JOIN attachments a ON a.id = ia.attachment_id JOIN pub_items p ON p.item_id = ia.item_id WHERE ia.id = $1",
        )
        .bind(id).fetch_optional(&mut **x).await
    })?;
    Ok(r.map(|r| (r.item_id, Attachment { id: r.id, name: r.name, size: r.size, mime: r.mime, sha256: r.sha256 })))
}

// ---------------------------------------------------------------- topics

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Topic {
    pub id: i64,
    pub site_id: i64,
    pub name: String,
    pub slug: String,
    pub intro: String,
    pub opened_on: String,
    pub closed_on: Option<String>,
    pub updated_at: i64,
}

pub async fn topics(c: &mut Conn<'_>, site_id: i64) -> Result<Vec<Topic>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Topic>(
            "SELECT id, site_id, name, slug, intro, opened_on, closed_on, updated_at FROM topics WHERE site_id = $1
              ORDER BY opened_on DESC, id DESC",
        )
        .bind(site_id).fetch_all(&mut **x).await
    })?)
}

pub async fn topic_items(c: &mut Conn<'_>, topic_id: i64, limit: i64) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT {ROW} FROM topic_items t JOIN pub_items p ON p.item_id = t.item_id WHERE t.topic_id = $1
          ORDER BY p.published_on DESC, p.item_id DESC LIMIT $2"
    );
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone())).bind(topic_id).bind(limit).fetch_all(&mut **x).await
    })?)
}

pub async fn topic_columns(c: &mut Conn<'_>, topic_id: i64) -> Result<Vec<i64>> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("SELECT column_id FROM topic_columns WHERE topic_id = $1 ORDER BY column_id").bind(topic_id).fetch_all(&mut **x).await
    })?)
}

/// Topics an item belongs to (directly or through one of its columns).
pub async fn topics_of_item(c: &mut Conn<'_>, item_id: i64) -> Result<Vec<i64>> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "SELECT topic_id FROM topic_items WHERE item_id = $1
             UNION SELECT tc.topic_id FROM topic_columns tc JOIN item_placements pl ON pl.column_id = tc.column_id WHERE pl.item_id = $1",
        )
        .bind(item_id).fetch_all(&mut **x).await
    })?)
}

/// Every column an item is or was listed in (library placements and its home column),
/// with their sites: what a change to the item can touch.
pub async fn item_reach(c: &mut Conn<'_>, item_id: i64) -> Result<Vec<(i64, i64)>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT col.id, col.site_id FROM columns col
              WHERE col.id IN (SELECT column_id FROM item_placements WHERE item_id = $1
                               UNION SELECT home_column_id FROM items WHERE id = $1
                               UNION SELECT column_id FROM pub_placements WHERE item_id = $1)",
        )
        .bind(item_id).fetch_all(&mut **x).await
    })?)
}

// ---------------------------------------------------------------- 法定主动公开内容

/// Filters of the disclosure catalogue; every field optional and combinable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub art20: Option<String>,
    pub subject: Option<String>,
    pub org: Option<i64>,
    pub genre: Option<String>,
    pub year: Option<i64>,
}

enum Bind {
    S(String),
    I(i64),
}

fn where_of(site_id: i64, f: &Filter) -> (String, Vec<Bind>) {
    let mut sql = String::from("s.site_id = $1 AND s.disclosure = TRUE");
    let mut binds = vec![Bind::I(site_id)];
    let mut add = |col: &str, b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        sql.push_str(&format!(" AND s.{col} = ${}", binds.len()));
    };
    if let Some(v) = &f.art20 {
        add("art20", Bind::S(v.clone()), &mut binds);
    }
    if let Some(v) = &f.subject {
        add("subject_code", Bind::S(v.clone()), &mut binds);
    }
    if let Some(v) = f.org {
        add("publisher_org_id", Bind::I(v), &mut binds);
    }
    if let Some(v) = &f.genre {
        add("genre", Bind::S(v.clone()), &mut binds);
    }
    if let Some(v) = f.year {
        add("year", Bind::I(v), &mut binds);
    }
    (sql, binds)
}

pub async fn catalogue(c: &mut Conn<'_>, site_id: i64, f: &Filter, limit: i64, offset: i64) -> Result<(Vec<Row>, i64)> {
    let (cond, binds) = where_of(site_id, f);
    // Filter, order and OFFSET on a covering index; join only the page's rows.
    let list = format!(
        "SELECT {ROW} FROM (SELECT s.item_id, s.published_on FROM pub_site_items s WHERE {cond}
                              ORDER BY s.published_on DESC, s.item_id DESC LIMIT {limit} OFFSET {offset}) k
           JOIN pub_items p ON p.item_id = k.item_id ORDER BY k.published_on DESC, k.item_id DESC"
    );
    let count = format!("SELECT COUNT(*) FROM pub_site_items s WHERE {cond}");
    let rows = with_conn!(c, x => {
        let mut q = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(list.clone()));
        for b in &binds {
            q = match b { Bind::S(s) => q.bind(s.clone()), Bind::I(i) => q.bind(*i) };
        }
        q.fetch_all(&mut **x).await
    })?;
    let total: i64 = with_conn!(c, x => {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(count.clone()));
        for b in &binds {
            q = match b { Bind::S(s) => q.bind(s.clone()), Bind::I(i) => q.bind(*i) };
        }
        q.fetch_one(&mut **x).await
    })?;
    Ok((rows, total))
}

/// Counts per value of one facet over a site's whole disclosure catalogue (values as text;
/// years newest first, organisations by count, codes in order).
pub async fn facet(c: &mut Conn<'_>, site_id: i64, column: &str) -> Result<Vec<(String, i64)>> {
    let order = match column {
        "art20" | "subject_code" | "genre" => "1",
        "year" => "year DESC",
        "publisher_org_id" => "2 DESC",
        _ => return Ok(Vec::new()),
    };
    let sql = format!(
        "SELECT CAST({column} AS TEXT), COUNT(*) FROM pub_site_items WHERE site_id = $1 AND disclosure = TRUE AND {column} IS NOT NULL
          GROUP BY {column} ORDER BY {order}"
    );
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql.clone())).bind(site_id).fetch_all(&mut **x).await
    })?)
}

// ---------------------------------------------------------------- 标准化规范化

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub org_id: Option<i64>,
    pub domain_code: String,
    pub seq: String,
    pub level1: String,
    pub level2: String,
    pub content: String,
    pub basis: String,
    pub time_limit: String,
    pub channels: String,
    pub audience: String,
    pub mode: String,
    pub n: i64,
}

/// An entry's columns and how many of its items this site shows (`$1` is the site).
const ENTRY: &str = "e.id, e.org_id, e.domain_code, e.seq, e.level1, e.level2, e.content, e.basis, e.time_limit, e.channels,
    e.audience, e.mode, (SELECT COUNT(*) FROM item_catalogue ic JOIN pub_site_items ps ON ps.item_id = ic.item_id AND ps.site_id = $1
                         WHERE ic.entry_id = e.id) AS n";

/// Catalogue entries a site shows: all on a portal site, its own organisation's elsewhere.
pub async fn entries(c: &mut Conn<'_>, site_id: i64, org_id: Option<i64>) -> Result<Vec<Entry>> {
    let sql = match org_id {
        Some(_) => format!(
            "SELECT {ENTRY} FROM catalogue_entries e WHERE e.org_id = $2 ORDER BY e.domain_code, e.sort_order, e.id"
        ),
        None => format!("SELECT {ENTRY} FROM catalogue_entries e ORDER BY e.domain_code, e.sort_order, e.id"),
    };
    Ok(with_conn!(c, x => {
        let mut q = sqlx::query_as::<_, Entry>(sqlx::AssertSqlSafe(sql.clone())).bind(site_id);
        if let Some(o) = org_id {
            q = q.bind(o);
        }
        q.fetch_all(&mut **x).await
    })?)
}

pub async fn entry(c: &mut Conn<'_>, site_id: i64, id: i64) -> Result<Option<Entry>> {
    let sql = format!("SELECT {ENTRY} FROM catalogue_entries e WHERE e.id = $2");
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Entry>(sqlx::AssertSqlSafe(sql.clone())).bind(site_id).bind(id).fetch_optional(&mut **x).await
    })?)
}

/// The entry's items this site shows.
pub async fn entry_items(c: &mut Conn<'_>, site_id: i64, entry_id: i64, limit: i64) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT {ROW} FROM item_catalogue ic JOIN pub_site_items ps ON ps.item_id = ic.item_id AND ps.site_id = $1
           JOIN pub_items p ON p.item_id = ic.item_id WHERE ic.entry_id = $2
          ORDER BY p.published_on DESC, p.item_id DESC LIMIT $3"
    );
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone())).bind(site_id).bind(entry_id).bind(limit).fetch_all(&mut **x).await
    })?)
}

// ---------------------------------------------------------------- sitemap, labels

/// (item id, published_on, updated_at) of every live item on a site, newest first.
pub async fn sitemap_items(c: &mut Conn<'_>, site_id: i64) -> Result<Vec<(i64, String, i64)>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, (i64, String, i64)>(
            "SELECT s.item_id, s.published_on, p.updated_at FROM pub_site_items s JOIN pub_items p ON p.item_id = s.item_id
              WHERE s.site_id = $1 ORDER BY s.published_on DESC, s.item_id DESC",
        )
        .bind(site_id).fetch_all(&mut **x).await
    })?)
}

pub async fn pairs(c: &mut Conn<'_>, sql: &'static str) -> Result<Vec<(String, String)>> {
    Ok(with_conn!(c, x => sqlx::query_as::<_, (String, String)>(sql).fetch_all(&mut **x).await)?)
}

pub async fn org_names(c: &mut Conn<'_>) -> Result<Vec<(i64, String)>> {
    Ok(
        with_conn!(c, x => sqlx::query_as::<_, (i64, String)>("SELECT id, name FROM orgs ORDER BY id").fetch_all(&mut **x).await)?,
    )
}
