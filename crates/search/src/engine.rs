//! One tantivy index generation: its schema, the writer that upserts items by id, and the
//! commit payload that records how far in the outbox it is current.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use gongkai_kernel::{Error, Result};
use serde::{Deserialize, Serialize};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::text::{GkTokenizer, Segmenter, doc_no_key, title_key};

/// Bumped whenever the schema or the tokenizer changes meaning: an index of another
/// version is rebuilt, never read.
pub const SCHEMA_VERSION: u32 = 1;
const TOKENIZER: &str = "gk";
/// Stored body text (for snippets) is cut here; the whole body is indexed.
const STORED_BODY_CHARS: usize = 20_000;

/// What one published item contributes to the index.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Doc {
    pub item_id: i64,
    pub version: i64,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub keywords: String,
    pub doc_no: String,
    pub index_no: String,
    pub attachments: String,
    /// Every site and column it is listed on; the first ones are its home.
    pub sites: Vec<i64>,
    pub columns: Vec<i64>,
    pub org: Option<i64>,
    pub subject: String,
    pub genre: String,
    pub class: String,
    pub validity: String,
    pub year: i64,
    /// YYYY-MM-DD
    pub published_on: String,
    /// Publication instant (ms), the "newer first" tie-break.
    pub ts: i64,
}

#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub version: Field,
    pub title: Field,
    pub meta: Field,
    pub body: Field,
    pub attach: Field,
    pub title_key: Field,
    pub doc_no_key: Field,
    pub summary: Field,
    pub doc_no: Field,
    pub index_no: Field,
    pub site: Field,
    pub column: Field,
    pub home_site: Field,
    pub home_column: Field,
    pub org: Field,
    pub subject: Field,
    pub genre: Field,
    pub class: Field,
    pub validity: Field,
    pub year: Field,
    pub day: Field,
    pub ts: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let idx = TextFieldIndexing::default()
        .set_tokenizer(TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text_stored = TextOptions::default().set_indexing_options(idx.clone()).set_stored();
    let text = TextOptions::default().set_indexing_options(idx);
    let f = Fields {
        id: b.add_u64_field("id", INDEXED | STORED | FAST),
        version: b.add_i64_field("version", STORED),
        title: b.add_text_field("title", text_stored.clone()),
        // 摘要, 关键词, 文号, 索引号 are matched together, boosted above the body.
        meta: b.add_text_field("meta", text.clone()),
        body: b.add_text_field("body", text_stored),
        attach: b.add_text_field("attach", text),
        title_key: b.add_text_field("title_key", STRING),
        doc_no_key: b.add_text_field("doc_no_key", STRING),
        summary: b.add_text_field("summary", STORED),
        doc_no: b.add_text_field("doc_no", STORED),
        index_no: b.add_text_field("index_no", STORED),
        site: b.add_u64_field("site", INDEXED | FAST),
        column: b.add_u64_field("column", INDEXED),
        home_site: b.add_u64_field("home_site", STORED),
        home_column: b.add_u64_field("home_column", STORED),
        org: b.add_u64_field("org", INDEXED | STORED),
        subject: b.add_text_field("subject", STRING | STORED),
        genre: b.add_text_field("genre", STRING | STORED),
        class: b.add_text_field("class", STRING | STORED),
        validity: b.add_text_field("validity", STRING | STORED),
        year: b.add_u64_field("year", INDEXED | FAST),
        day: b.add_text_field("day", STORED),
        ts: b.add_i64_field("ts", INDEXED | FAST),
    };
    (b.build(), f)
}

/// What an index generation remembers in its last commit.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Payload {
    pub schema: u32,
    /// Outbox events up to this id are reflected (events within the follower's trailing
    /// window are re-read anyway).
    pub after: i64,
    /// Hash of the dictionary the index was segmented with.
    pub dict: String,
}

pub struct Engine {
    pub dir: Option<PathBuf>,
    pub f: Fields,
    pub seg: Segmenter,
    pub dict: String,
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
}

fn err(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("search index: {e}"))
}

impl Engine {
    /// A new, empty generation in `dir` (or in memory).
    pub fn create(dir: Option<&Path>, seg: Segmenter, dict: &str, writer_mb: usize) -> Result<Engine> {
        let (schema, f) = schema();
        let index = match dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(err)?;
                Index::create_in_dir(d, schema).map_err(err)?
            }
            None => Index::create_in_ram(schema),
        };
        let e = Engine::wrap(index, f, dir, seg, dict, writer_mb)?;
        e.commit(0)?;
        Ok(e)
    }

    /// An existing generation, refused when it was built with another schema or dictionary.
    pub fn open(dir: &Path, seg: Segmenter, dict: &str, writer_mb: usize) -> Result<Engine> {
        let index = Index::open_in_dir(dir).map_err(err)?;
        let p = payload_of(&index);
        if p.schema != SCHEMA_VERSION || p.dict != dict {
            return Err(err(format!("{} is of another schema or dictionary", dir.display())));
        }
        let (_, f) = schema();
        Engine::wrap(index, f, Some(dir), seg, dict, writer_mb)
    }

    fn wrap(
        mut index: Index,
        f: Fields,
        dir: Option<&Path>,
        seg: Segmenter,
        dict: &str,
        writer_mb: usize,
    ) -> Result<Engine> {
        index.tokenizers().register(TOKENIZER, GkTokenizer::new(seg.clone()));
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 4);
        // Segments are searched in parallel: one visitor's query uses every core.
        index.set_multithread_executor(threads).map_err(err)?;
        let writer: IndexWriter =
            index.writer_with_num_threads(threads, writer_mb.max(15 * threads) * 1024 * 1024).map_err(err)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(err)?;
        Ok(Engine {
            dir: dir.map(Path::to_path_buf),
            f,
            seg,
            dict: dict.to_string(),
            index,
            reader,
            writer: Mutex::new(writer),
        })
    }

    pub fn payload(&self) -> Payload {
        payload_of(&self.index)
    }

    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replace (or add) these items. Not visible until `commit`.
    pub fn upsert(&self, docs: &[Doc]) -> Result<()> {
        let w = self.writer();
        for d in docs {
            w.delete_term(Term::from_field_u64(self.f.id, d.item_id as u64));
            w.add_document(self.document(d)).map_err(err)?;
        }
        Ok(())
    }

    pub fn delete(&self, item_ids: &[i64]) {
        let w = self.writer();
        for id in item_ids {
            w.delete_term(Term::from_field_u64(self.f.id, *id as u64));
        }
    }

    /// Make the changes durable and visible, remembering the outbox position.
    pub fn commit(&self, after: i64) -> Result<()> {
        let payload =
            serde_json::to_string(&Payload { schema: SCHEMA_VERSION, after, dict: self.dict.clone() }).map_err(err)?;
        {
            let mut w = self.writer();
            let mut pc = w.prepare_commit().map_err(err)?;
            pc.set_payload(&payload);
            pc.commit().map_err(err)?;
        }
        self.reader.reload().map_err(err)
    }

    fn document(&self, d: &Doc) -> TantivyDocument {
        let f = &self.f;
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.id, d.item_id as u64);
        doc.add_i64(f.version, d.version);
        doc.add_text(f.title, &d.title);
        let meta = [d.summary.as_str(), &d.keywords, &d.doc_no, &d.index_no].join("\n");
        doc.add_text(f.meta, &meta);
        doc.add_text(f.body, cut(&d.body, STORED_BODY_CHARS));
        if d.body.chars().count() > STORED_BODY_CHARS {
            // The rest of a very long body stays searchable with the attachments' text.
            doc.add_text(f.attach, skip(&d.body, STORED_BODY_CHARS));
        }
        if !d.attachments.is_empty() {
            doc.add_text(f.attach, &d.attachments);
        }
        doc.add_text(f.title_key, title_key(&d.title));
        if let Some(k) = doc_no_key(&d.doc_no) {
            doc.add_text(f.doc_no_key, k);
        }
        doc.add_text(f.summary, &d.summary);
        doc.add_text(f.doc_no, &d.doc_no);
        doc.add_text(f.index_no, &d.index_no);
        for s in &d.sites {
            doc.add_u64(f.site, *s as u64);
        }
        for c in &d.columns {
            doc.add_u64(f.column, *c as u64);
        }
        doc.add_u64(f.home_site, d.sites.first().copied().unwrap_or(0) as u64);
        doc.add_u64(f.home_column, d.columns.first().copied().unwrap_or(0) as u64);
        if let Some(o) = d.org {
            doc.add_u64(f.org, o as u64);
        }
        doc.add_text(f.subject, &d.subject);
        doc.add_text(f.genre, &d.genre);
        doc.add_text(f.class, &d.class);
        doc.add_text(f.validity, &d.validity);
        doc.add_u64(f.year, d.year.max(0) as u64);
        doc.add_text(f.day, &d.published_on);
        doc.add_i64(f.ts, d.ts);
        doc
    }

    /// The indexed version of an item, if it is in the index.
    pub fn version_of(&self, item_id: i64) -> Option<i64> {
        use tantivy::collector::TopDocs;
        use tantivy::query::TermQuery;
        let s = self.searcher();
        let q = TermQuery::new(Term::from_field_u64(self.f.id, item_id as u64), IndexRecordOption::Basic);
        let hits = s.search(&q, &TopDocs::with_limit(1).order_by_score()).ok()?;
        let (_, addr) = hits.first()?;
        let doc: TantivyDocument = s.doc(*addr).ok()?;
        doc.get_first(self.f.version).and_then(|v| v.as_i64())
    }
}

fn payload_of(index: &Index) -> Payload {
    index.load_metas().ok().and_then(|m| m.payload).and_then(|p| serde_json::from_str(&p).ok()).unwrap_or_default()
}

fn cut(s: &str, chars: usize) -> &str {
    match s.char_indices().nth(chars) {
        Some((b, _)) => &s[..b],
        None => s,
    }
}

fn skip(s: &str, chars: usize) -> &str {
    match s.char_indices().nth(chars) {
        Some((b, _)) => &s[b..],
        None => "",
    }
}
