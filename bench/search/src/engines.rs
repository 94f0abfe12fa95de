//! Loading and querying the three engines.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use gongkai_search::engine::{Doc, Engine};
use gongkai_search::query::{Request, run};
use gongkai_search::text::Segmenter;

use crate::data::{Generator, Item};
use crate::queries::Q;

pub const BATCH: usize = 10_000;

/// Total size of the files under `p`.
pub fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else { return 0 };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn batches(n: usize) -> impl Iterator<Item = std::ops::Range<i64>> {
    (0..n.div_ceil(BATCH)).map(move |b| (b * BATCH + 1) as i64..(((b + 1) * BATCH).min(n) + 1) as i64)
}

// ---------------------------------------------------------------- gongkai

pub struct GkLoaded {
    pub engine: Engine,
    /// Upserts of every batch and the one commit: all items searchable.
    pub load_s: f64,
    pub segments_at_commit: usize,
    pub size_at_commit: u64,
    /// Waiting for the background merges the commit started to finish (directory size
    /// unchanged for 3 s), then a commit to search the merged segments.
    pub settle_s: f64,
    pub segments_settled: usize,
    pub size_settled: u64,
}

fn doc_of(it: &Item) -> Doc {
    Doc {
        item_id: it.id,
        version: 1,
        title: it.title.clone(),
        summary: it.summary.clone(),
        body: it.body.clone(),
        doc_no: it.doc_no.clone(),
        sites: vec![1],
        columns: vec![it.column],
        org: Some(it.org),
        year: it.year,
        published_on: it.day.clone(),
        ts: it.ts,
        ..Default::default()
    }
}

pub fn gk_load(dir: &Path, g: &Generator, n: usize, writer_mb: usize) -> Result<GkLoaded, String> {
    let t = Instant::now();
    let e = Engine::create(Some(dir), Segmenter::new(&[]), "", writer_mb).map_err(|e| e.to_string())?;
    for r in batches(n) {
        let docs: Vec<Doc> = r.map(|id| doc_of(&g.item(id))).collect();
        e.upsert(&docs).map_err(|e| e.to_string())?;
    }
    e.commit(0).map_err(|e| e.to_string())?;
    let load_s = t.elapsed().as_secs_f64();
    let segments_at_commit = e.searcher().segment_readers().len();
    let size_at_commit = dir_size(dir);
    let t = Instant::now();
    let (mut last, mut stable) = (size_at_commit, 0);
    while stable < 6 && t.elapsed() < Duration::from_secs(900) {
        std::thread::sleep(Duration::from_millis(500));
        let now = dir_size(dir);
        if now == last {
            stable += 1;
        } else {
            stable = 0;
            last = now;
        }
    }
    e.commit(0).map_err(|e| e.to_string())?;
    let settle_s = t.elapsed().as_secs_f64();
    if e.num_docs() != n as u64 {
        return Err(format!("gongkai index holds {} docs, expected {n}", e.num_docs()));
    }
    Ok(GkLoaded {
        segments_settled: e.searcher().segment_readers().len(),
        size_settled: dir_size(dir),
        engine: e,
        load_s,
        segments_at_commit,
        size_at_commit,
        settle_s,
    })
}

/// The top 10 ids (relevance) and the total number of matches.
pub fn gk_search(e: &Engine, syn: &HashMap<String, Vec<String>>, q: &Q) -> Result<(Vec<i64>, usize), String> {
    let r = run(
        e,
        syn,
        &Request {
            q: q.gongkai_text(),
            sites: vec![1],
            column: q.column,
            year: q.year,
            limit: 10,
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    Ok((r.hits.iter().map(|h| h.item_id).collect(), r.total))
}

// ---------------------------------------------------------------- SQLite FTS5

pub struct FtsLoaded {
    pub insert_s: f64,
    pub optimize_s: f64,
    pub size: u64,
    pub version: String,
}

pub fn fts_load(path: &Path, g: &Generator, n: usize) -> Result<FtsLoaded, String> {
    use rusqlite::{Connection, params};
    let s = |e: rusqlite::Error| e.to_string();
    let t = Instant::now();
    let mut c = Connection::open(path).map_err(s)?;
    let version: String = c.query_row("SELECT sqlite_version()", [], |r| r.get(0)).map_err(s)?;
    c.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA cache_size = -262144;
         CREATE VIRTUAL TABLE fts USING fts5(title, body, year UNINDEXED, col UNINDEXED, ts UNINDEXED,
                                             tokenize = 'trigram');",
    )
    .map_err(s)?;
    {
        let tx = c.transaction().map_err(s)?;
        {
            let mut st = tx
                .prepare("INSERT INTO fts (rowid, title, body, year, col, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(s)?;
            for r in batches(n) {
                for id in r {
                    let it = g.item(id);
                    st.execute(params![it.id, it.title, it.body, it.year, it.column, it.ts]).map_err(s)?;
                }
            }
        }
        tx.commit().map_err(s)?;
    }
    let insert_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    c.execute_batch("INSERT INTO fts (fts) VALUES ('optimize');").map_err(s)?;
    let optimize_s = t.elapsed().as_secs_f64();
    drop(c);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(FtsLoaded { insert_s, optimize_s, size, version })
}

pub fn fts_open(path: &Path) -> Result<rusqlite::Connection, String> {
    use rusqlite::OpenFlags;
    let c =
        rusqlite::Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| e.to_string())?;
    c.execute_batch("PRAGMA cache_size = -65536;").map_err(|e| e.to_string())?;
    c.set_prepared_statement_cache_capacity(128);
    Ok(c)
}

pub fn fts_top10(c: &rusqlite::Connection, q: &Q) -> Result<Vec<i64>, String> {
    let (sql, p) = q.fts5_top10();
    let mut st = c.prepare_cached(&sql).map_err(|e| e.to_string())?;
    let rows = st.query_map(rusqlite::params_from_iter(p.iter()), |r| r.get::<_, i64>(0)).map_err(|e| e.to_string())?;
    rows.collect::<Result<Vec<i64>, _>>().map_err(|e| e.to_string())
}

/// How many items match (substring semantics), optionally only among `ids`.
pub fn fts_count(c: &rusqlite::Connection, q: &Q, ids: Option<&[i64]>) -> Result<i64, String> {
    let (w, p, _) = q.fts5_where();
    let sql = match ids {
        Some([]) => return Ok(0),
        Some(ids) => {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            format!("SELECT count(*) FROM fts WHERE rowid IN ({}) AND {w}", list.join(","))
        }
        None => format!("SELECT count(*) FROM fts WHERE {w}"),
    };
    c.query_row(&sql, rusqlite::params_from_iter(p.iter()), |r| r.get(0)).map_err(|e| e.to_string())
}

pub fn fts_explain(c: &rusqlite::Connection, q: &Q) -> Result<Vec<String>, String> {
    let (sql, p) = q.fts5_top10();
    let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).map_err(|e| e.to_string())?;
    let rows =
        st.query_map(rusqlite::params_from_iter(p.iter()), |r| r.get::<_, String>(3)).map_err(|e| e.to_string())?;
    rows.collect::<Result<Vec<String>, _>>().map_err(|e| e.to_string())
}

// ---------------------------------------------------------------- PostgreSQL pg_trgm

pub const PG_DB: &str = "gongkai_bench_search";

fn pg(e: postgres::Error) -> String {
    // The server's message says what went wrong; the wrapper's Display alone often does not.
    match e.as_db_error() {
        Some(d) => format!("{}: {}", d.code().code(), d.message()),
        None => e.to_string(),
    }
}

pub fn pg_connect(base: &str, db: &str) -> Result<postgres::Client, String> {
    postgres::Client::connect(&format!("{base} dbname={db}"), postgres::NoTls).map_err(pg)
}

/// Drop and create the scratch database (UTF-8 with a UTF-8 ctype, which pg_trgm needs to
/// treat Chinese characters as word characters).
pub fn pg_recreate(base: &str) -> Result<String, String> {
    let mut a = pg_connect(base, "postgres")?;
    let version: String = a.query_one("SHOW server_version", &[]).map_err(pg)?.get(0);
    a.batch_execute(&format!("DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")).map_err(pg)?;
    a.batch_execute(&format!(
        "CREATE DATABASE {PG_DB} ENCODING 'UTF8' LC_CTYPE 'C.UTF-8' LC_COLLATE 'C.UTF-8' TEMPLATE template0"
    ))
    .map_err(pg)?;
    Ok(version)
}

pub fn pg_drop(base: &str) -> Result<(), String> {
    let mut a = pg_connect(base, "postgres")?;
    a.batch_execute(&format!("DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")).map_err(pg)
}

pub struct PgLoaded {
    pub copy_s: f64,
    pub index_s: f64,
    pub analyze_s: f64,
    pub total_size: u64,
    pub index_size: u64,
    pub settings: Vec<(String, String)>,
}

/// COPY's text format: backslash, tab and line breaks escaped.
fn copy_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ => out.push(c),
        }
    }
}

pub fn pg_load(base: &str, g: &Generator, n: usize) -> Result<PgLoaded, String> {
    use std::io::Write;
    let mut c = pg_connect(base, PG_DB)?;
    c.batch_execute(
        "CREATE EXTENSION pg_trgm;
         CREATE TABLE items (id bigint NOT NULL, title text NOT NULL, body text NOT NULL, year int NOT NULL,
                             col int NOT NULL, org int NOT NULL, day date NOT NULL, ts bigint NOT NULL);
         SET maintenance_work_mem = '1GB';",
    )
    .map_err(pg)?;
    let t = Instant::now();
    {
        let mut w = c.copy_in("COPY items (id, title, body, year, col, org, day, ts) FROM STDIN").map_err(pg)?;
        let mut buf = String::new();
        for r in batches(n) {
            buf.clear();
            for id in r {
                let it = g.item(id);
                buf.push_str(&it.id.to_string());
                buf.push('\t');
                copy_text(&mut buf, &it.title);
                buf.push('\t');
                copy_text(&mut buf, &it.body);
                buf.push_str(&format!("\t{}\t{}\t{}\t{}\t{}\n", it.year, it.column, it.org, it.day, it.ts));
            }
            w.write_all(buf.as_bytes()).map_err(|e| e.to_string())?;
        }
        w.finish().map_err(pg)?;
    }
    let copy_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    c.batch_execute(
        "ALTER TABLE items ADD PRIMARY KEY (id);
         CREATE INDEX items_title_trgm ON items USING gin (title gin_trgm_ops);
         CREATE INDEX items_body_trgm ON items USING gin (body gin_trgm_ops);",
    )
    .map_err(pg)?;
    let index_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    c.batch_execute("VACUUM ANALYZE items").map_err(pg)?;
    let analyze_s = t.elapsed().as_secs_f64();
    let row = c
        .query_one("SELECT pg_total_relation_size('items')::bigint, pg_indexes_size('items')::bigint", &[])
        .map_err(pg)?;
    let mut settings = Vec::new();
    for name in ["shared_buffers", "work_mem", "max_parallel_workers_per_gather", "effective_cache_size", "jit"] {
        let v: String = c.query_one(&format!("SHOW {name}"), &[]).map_err(pg)?.get(0);
        settings.push((name.to_string(), v));
    }
    Ok(PgLoaded {
        copy_s,
        index_s,
        analyze_s,
        total_size: row.get::<_, i64>(0).max(0) as u64,
        index_size: row.get::<_, i64>(1).max(0) as u64,
        settings,
    })
}

pub fn pg_top10(c: &mut postgres::Client, q: &Q) -> Result<Vec<i64>, String> {
    let rows = c.query(&q.pg_top10(), &[]).map_err(pg)?;
    Ok(rows.iter().map(|r| r.get::<_, i64>(0)).collect())
}

pub fn pg_explain(c: &mut postgres::Client, q: &Q) -> Result<Vec<String>, String> {
    let rows = c.query(&format!("EXPLAIN {}", q.pg_top10()), &[]).map_err(pg)?;
    Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
}

/// How many trigrams pg_trgm makes of a Chinese word (0 means the ctype is not UTF-8).
pub fn pg_trgm_check(c: &mut postgres::Client) -> Result<i64, String> {
    Ok(c.query_one("SELECT cardinality(show_trgm('高质量发展'))::bigint", &[]).map_err(pg)?.get(0))
}
