//! From the database to the index: the documents of published items (with the text of
//! their attachments), the outbox follower that keeps every node's index current, and the
//! full rebuild. The database stays the truth; applying an item twice is harmless because
//! each application reads the item's current public row.

use std::collections::HashMap;

use gongkai_kernel::Result;
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::outbox::Event;
use gongkai_kernel::with_conn;

use crate::engine::Doc;

#[derive(sqlx::FromRow)]
struct Row {
    item_id: i64,
    live_version: i64,
    title: String,
    subtitle: String,
    summary: String,
    body: String,
    keywords: String,
    doc_no: String,
    index_no: Option<String>,
    site_id: i64,
    home_column_id: i64,
    publisher_org_id: Option<i64>,
    subject_code: Option<String>,
    genre: Option<String>,
    class_code: String,
    validity: String,
    year: i64,
    published_on: String,
    published_at: i64,
}

const COLS: &str = "item_id, live_version, title, subtitle, summary, body, keywords, doc_no, index_no, site_id,
    home_column_id, publisher_org_id, subject_code, genre, class_code, validity, year, published_on, published_at";

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The documents of these items; ids without a public row are returned as gone.
pub async fn docs(db: &Db, files: &gongkai_cms::attachments::FileStore, ids: &[i64]) -> Result<(Vec<Doc>, Vec<i64>)> {
    let mut out = Vec::new();
    let mut gone = Vec::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<Row> = {
            let mut h = db.read().await?;
            let mut c = h.conn();
            let sql = format!("SELECT {COLS} FROM pub_items WHERE item_id IN ({})", placeholders(1, chunk.len()));
            with_conn!(&mut c, x => {
                let mut q = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone()));
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(&mut **x).await
            })?
        };
        let found: Vec<i64> = rows.iter().map(|r| r.item_id).collect();
        gone.extend(chunk.iter().filter(|id| !found.contains(id)));
        out.extend(complete(db, files, rows).await?);
    }
    Ok((out, gone))
}

/// Every published item after `after_id` (by id), `limit` at a time, for a rebuild.
async fn page(db: &Db, files: &gongkai_cms::attachments::FileStore, after_id: i64, limit: i64) -> Result<Vec<Doc>> {
    let rows: Vec<Row> = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        let sql = format!("SELECT {COLS} FROM pub_items WHERE item_id > $1 ORDER BY item_id LIMIT $2");
        with_conn!(&mut c, x => sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone())).bind(after_id).bind(limit).fetch_all(&mut **x).await)?
    };
    complete(db, files, rows).await
}

/// Rows → documents: sites, columns and attachment text added in three queries per batch.
async fn complete(db: &Db, files: &gongkai_cms::attachments::FileStore, rows: Vec<Row>) -> Result<Vec<Doc>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.item_id).collect();
    let ph = placeholders(1, ids.len());
    type Pairs = Vec<(i64, i64)>;
    let (sites, columns, attachments): (Pairs, Pairs, Vec<(i64, String, String)>) = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        let sites =
            pairs(&mut c, format!("SELECT item_id, site_id FROM pub_site_items WHERE item_id IN ({ph})"), &ids).await?;
        let columns =
            pairs(&mut c, format!("SELECT item_id, column_id FROM pub_placements WHERE item_id IN ({ph})"), &ids)
                .await?;
        let sql = format!(
            "SELECT ia.item_id, a.sha256, ia.name FROM item_attachments ia JOIN attachments a ON a.id = ia.attachment_id
              WHERE ia.item_id IN ({ph}) ORDER BY ia.item_id, ia.sort_order, ia.id"
        );
        let attachments: Vec<(i64, String, String)> = with_conn!(&mut c, x => {
            let mut q = sqlx::query_as::<_, (i64, String, String)>(sqlx::AssertSqlSafe(sql.clone()));
            for id in &ids {
                q = q.bind(id);
            }
            q.fetch_all(&mut **x).await
        })?;
        (sites, columns, attachments)
    };
    let texts = attachment_texts(db, files, &attachments).await?;
    let mut by_item: HashMap<i64, Vec<String>> = HashMap::new();
    for (item, sha, name) in &attachments {
        let t = by_item.entry(*item).or_default();
        t.push(name.clone());
        if let Some(text) = texts.get(sha).filter(|t| !t.is_empty()) {
            t.push(text.clone());
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut s: Vec<i64> = vec![r.site_id];
            s.extend(sites.iter().filter(|(i, x)| *i == r.item_id && *x != r.site_id).map(|(_, x)| *x));
            let mut c: Vec<i64> = vec![r.home_column_id];
            c.extend(columns.iter().filter(|(i, x)| *i == r.item_id && *x != r.home_column_id).map(|(_, x)| *x));
            let mut body = gongkai_cms::html::to_text(&r.body);
            if !r.subtitle.is_empty() {
                body = format!("{}\n{body}", r.subtitle);
            }
            Doc {
                item_id: r.item_id,
                version: r.live_version,
                title: r.title,
                summary: r.summary,
                body,
                keywords: r.keywords.replace(',', " "),
                doc_no: r.doc_no,
                index_no: r.index_no.unwrap_or_default(),
                attachments: by_item.remove(&r.item_id).unwrap_or_default().join("\n"),
                sites: s,
                columns: c,
                org: r.publisher_org_id,
                subject: r.subject_code.unwrap_or_default(),
                genre: r.genre.unwrap_or_default(),
                class: r.class_code,
                validity: r.validity,
                year: r.year,
                published_on: r.published_on,
                ts: r.published_at,
            }
        })
        .collect())
}

async fn pairs(c: &mut Conn<'_>, sql: String, ids: &[i64]) -> Result<Vec<(i64, i64)>> {
    Ok(with_conn!(c, x => {
        let mut q = sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql.clone()));
        for id in ids {
            q = q.bind(id);
        }
        q.fetch_all(&mut **x).await
    })?)
}

/// Attachment texts by content hash: read from `search_texts`, extracted (and stored) for
/// files not seen before. Extraction runs off the async threads.
const ATTACHMENT_TEXT_CHARS: usize = 200_000;

async fn attachment_texts(
    db: &Db,
    files: &gongkai_cms::attachments::FileStore,
    attachments: &[(i64, String, String)],
) -> Result<HashMap<String, String>> {
    let mut out: HashMap<String, String> = HashMap::new();
    if attachments.is_empty() {
        return Ok(out);
    }
    let mut shas: Vec<&str> = attachments.iter().map(|a| a.1.as_str()).collect();
    shas.sort();
    shas.dedup();
    {
        let mut h = db.read().await?;
        let mut c = h.conn();
        let sql = format!("SELECT sha256, text FROM search_texts WHERE sha256 IN ({})", placeholders(1, shas.len()));
        let known: Vec<(String, String)> = with_conn!(&mut c, x => {
            let mut q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql.clone()));
            for s in &shas {
                q = q.bind(*s);
            }
            q.fetch_all(&mut **x).await
        })?;
        out.extend(known);
    }
    for (_, sha, name) in attachments {
        if out.contains_key(sha) {
            continue;
        }
        let Ok(bytes) = files.read(sha).await else { continue };
        let name = name.clone();
        let text = tokio::task::spawn_blocking(move || crate::extract::text_of(&name, &bytes, ATTACHMENT_TEXT_CHARS))
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        with_conn!(&mut c, x => {
            sqlx::query("INSERT INTO search_texts (sha256, text) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING")
                .bind(sha).bind(&text).execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        out.insert(sha.clone(), text);
    }
    Ok(out)
}

/// Every published item into `engine`, reporting (done, total) as it goes.
pub async fn fill(
    db: &Db,
    files: &gongkai_cms::attachments::FileStore,
    engine: &crate::engine::Engine,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<u64> {
    let total: i64 = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        with_conn!(&mut c, x => sqlx::query_scalar("SELECT COUNT(*) FROM pub_items").fetch_one(&mut **x).await)?
    };
    let mut done = 0u64;
    let mut after = 0i64;
    progress(0, total as u64);
    loop {
        let batch = page(db, files, after, 1000).await?;
        let Some(last) = batch.last() else { break };
        after = last.item_id;
        engine.upsert(&batch)?;
        done += batch.len() as u64;
        progress(done, total.max(done as i64) as u64);
    }
    Ok(done)
}

/// How many items are public (the reconciliation check).
pub async fn public_count(db: &Db) -> Result<u64> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let n: i64 =
        with_conn!(&mut c, x => sqlx::query_scalar("SELECT COUNT(*) FROM pub_items").fetch_one(&mut **x).await)?;
    Ok(n as u64)
}

/// Whether the outbox still holds every event after `after` (old events may be pruned).
pub async fn outbox_covers(db: &Db, after: i64) -> Result<bool> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let min: Option<i64> =
        with_conn!(&mut c, x => sqlx::query_scalar("SELECT MIN(id) FROM outbox").fetch_one(&mut **x).await)?;
    Ok(min.is_none_or(|m| m <= after + 1))
}

use gongkai_kernel::outbox::LATE_WINDOW_MS as WINDOW_MS;

/// What a follower step found.
#[derive(Debug, Default)]
pub struct Batch {
    pub items: Vec<i64>,
    pub dictionary_changed: bool,
    pub head: i64,
    pub more: bool,
}

/// The outbox reader: new events plus a trailing window, each event id taken once.
#[derive(Default)]
pub struct Follower {
    pub after: i64,
    /// The index generation it feeds; another one restarts it from that one's position.
    pub generation: Option<std::path::PathBuf>,
    seen: HashMap<i64, i64>,
    /// When the trailing window was last re-read.
    late_at: i64,
}

impl Follower {
    pub fn new(after: i64) -> Follower {
        Follower { after, ..Default::default() }
    }

    /// A follower of one generation, from the outbox position it was built at.
    pub fn bound(after: i64, generation: Option<std::path::PathBuf>) -> Follower {
        Follower { after, generation, ..Default::default() }
    }

    /// One read: up to 5,000 new events, plus (on PostgreSQL, at most once a second) the
    /// late committers of the trailing window. `more` says the caller should read again
    /// at once.
    pub async fn read(&mut self, db: &Db) -> Result<Batch> {
        let now = gongkai_kernel::clock::now_ms();
        let since = now - WINDOW_MS;
        let late_due = gongkai_kernel::outbox::late_window_due(db, &mut self.late_at, now);
        let (new, late): (Vec<Event>, Vec<Event>) = {
            let mut h = db.read().await?;
            let mut c = h.conn();
            with_conn!(&mut c, x => {
                let new = sqlx::query_as::<_, Event>(
                    "SELECT id, at, topic, entity_id, payload FROM outbox WHERE id > $1 ORDER BY id LIMIT 5000",
                )
                .bind(self.after).fetch_all(&mut **x).await?;
                let late = if late_due {
                    sqlx::query_as::<_, Event>(
                        "SELECT id, at, topic, entity_id, payload FROM outbox WHERE id <= $1 AND at >= $2 ORDER BY id DESC LIMIT 20000",
                    )
                    .bind(self.after).bind(since).fetch_all(&mut **x).await?
                } else {
                    Vec::new()
                };
                Ok::<_, sqlx::Error>((new, late))
            })?
        };
        let mut batch = Batch { more: new.len() == 5000, ..Default::default() };
        for e in late.iter().chain(new.iter()) {
            if self.seen.insert(e.id, e.at).is_none() {
                if e.topic.starts_with("item.") {
                    if let Ok(id) = e.entity_id.parse::<i64>() {
                        batch.items.push(id);
                    }
                } else if e.topic == "search.dictionary" {
                    batch.dictionary_changed = true;
                }
            }
            self.after = self.after.max(e.id);
        }
        batch.head = self.after;
        self.seen.retain(|_, at| *at >= since - WINDOW_MS);
        batch.items.sort_unstable();
        batch.items.dedup();
        Ok(batch)
    }
}
