//! The rendered-page cache. A page is stored once with its gzip and brotli encodings,
//! an ETag and a Last-Modified date, under the tags of everything it shows (`item:7`,
//! `col:3`, `home:1`, `site:1` …). A change invalidates exactly the tags it touches (see
//! `sync`), on every node. Memory is bounded; the least recently used pages go first.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub struct Page {
    pub body: Bytes,
    pub gzip: Option<Bytes>,
    pub br: Option<Bytes>,
    pub etag: HeaderValue,
    pub last_modified: HeaderValue,
    pub content_type: &'static str,
    tags: Vec<String>,
    used: AtomicU64,
}

impl Page {
    /// Build a page and fingerprint it. A page kept in the cache is compressed once, both
    /// ways (small bodies are not worth it); one served once is not compressed at all.
    pub fn new(body: Vec<u8>, content_type: &'static str, modified_ms: i64, tags: Vec<String>, compress: bool) -> Page {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(&body);
        let etag = format!("\"{}\"", digest[..12].iter().map(|b| format!("{b:02x}")).collect::<String>());
        let (gzip, br) = if compress && body.len() >= 512 { (gzip(&body), brotli(&body)) } else { (None, None) };
        Page {
            body: Bytes::from(body),
            gzip,
            br,
            etag: HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\"")),
            last_modified: HeaderValue::from_str(&http_date(modified_ms)).unwrap_or(HeaderValue::from_static("")),
            content_type,
            tags,
            used: AtomicU64::new(0),
        }
    }

    fn size(&self) -> usize {
        self.body.len() + self.gzip.as_ref().map_or(0, |b| b.len()) + self.br.as_ref().map_or(0, |b| b.len()) + 256
    }

    /// The response for a request: 304 when the client's copy is current, else the best
    /// encoding it accepts.
    pub fn respond(&self, req: &HeaderMap, max_age: u32) -> Response {
        let mut h = HeaderMap::new();
        h.insert(header::ETAG, self.etag.clone());
        h.insert(header::LAST_MODIFIED, self.last_modified.clone());
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding, Cookie"));
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_str(&format!("public, max-age={max_age}"))
                .unwrap_or(HeaderValue::from_static("no-cache")),
        );
        if not_modified(req, &self.etag, &self.last_modified) {
            return (StatusCode::NOT_MODIFIED, h).into_response();
        }
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        let accept = req.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
        let body = if let Some(b) = self.br.as_ref().filter(|_| accepts(accept, "br")) {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            b.clone()
        } else if let Some(b) = self.gzip.as_ref().filter(|_| accepts(accept, "gzip")) {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            b.clone()
        } else {
            self.body.clone()
        };
        (StatusCode::OK, h, body).into_response()
    }
}

fn not_modified(req: &HeaderMap, etag: &HeaderValue, last_modified: &HeaderValue) -> bool {
    if let Some(inm) = req.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        let tag = etag.to_str().unwrap_or("");
        return inm.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == tag || t == "*");
    }
    match req.get(header::IF_MODIFIED_SINCE) {
        Some(ims) => ims.as_bytes() == last_modified.as_bytes(),
        None => false,
    }
}

/// Whether an Accept-Encoding value admits `coding` (q=0 refuses it).
pub fn accepts(accept: &str, coding: &str) -> bool {
    accept.split(',').any(|part| {
        let mut it = part.split(';');
        let name = it.next().unwrap_or("").trim();
        let q0 = it.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=").map(|q| q.trim().parse::<f32>().map(|q| q <= 0.0).unwrap_or(false)).unwrap_or(false)
        });
        (name.eq_ignore_ascii_case(coding) || name == "*") && !q0
    })
}

fn gzip(b: &[u8]) -> Option<Bytes> {
    let mut e = flate2::write::GzEncoder::new(Vec::with_capacity(b.len() / 4), flate2::Compression::new(6));
    e.write_all(b).ok()?;
    e.finish().ok().map(Bytes::from)
}

fn brotli(b: &[u8]) -> Option<Bytes> {
    let mut out = Vec::with_capacity(b.len() / 4);
    // A 64 KiB window covers a page; larger windows cost more to set up than they save.
    let params = brotli::enc::BrotliEncoderParams { quality: 5, lgwin: 16, ..Default::default() };
    brotli::BrotliCompress(&mut std::io::Cursor::new(b), &mut out, &params).ok()?;
    Some(Bytes::from(out))
}

/// RFC 7231 IMF-fixdate.
pub fn http_date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[t.weekday().number_days_from_monday() as usize],
        t.day(),
        MONTHS[t.month() as usize - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[derive(Default)]
struct Inner {
    pages: HashMap<String, std::sync::Arc<Page>>,
    by_tag: HashMap<String, HashSet<String>>,
    bytes: usize,
}

pub struct Cache {
    inner: Mutex<Inner>,
    limit: usize,
    clock: AtomicU64,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

impl Cache {
    pub fn new(limit_bytes: usize) -> Cache {
        Cache {
            inner: Mutex::new(Inner::default()),
            limit: limit_bytes,
            clock: AtomicU64::new(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn enabled(&self) -> bool {
        self.limit > 0
    }

    pub fn get(&self, key: &str) -> Option<std::sync::Arc<Page>> {
        if !self.enabled() {
            return None;
        }
        let page = self.inner.lock().ok()?.pages.get(key).cloned();
        match &page {
            Some(p) => {
                p.used.store(self.clock.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
                self.hits.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
            }
        }
        page
    }

    pub fn put(&self, key: String, page: Page) -> std::sync::Arc<Page> {
        let page = std::sync::Arc::new(page);
        if !self.enabled() || page.size() > self.limit / 4 {
            return page;
        }
        page.used.store(self.clock.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        let Ok(mut g) = self.inner.lock() else { return page };
        remove_key(&mut g, &key);
        for t in &page.tags {
            g.by_tag.entry(t.clone()).or_default().insert(key.clone());
        }
        g.bytes += page.size();
        g.pages.insert(key, page.clone());
        if g.bytes > self.limit {
            // Evict the least recently used quarter; rare, so a sort is fine.
            let mut order: Vec<(u64, String)> =
                g.pages.iter().map(|(k, p)| (p.used.load(Ordering::Relaxed), k.clone())).collect();
            order.sort_unstable();
            let target = self.limit * 3 / 4;
            for (_, k) in order {
                if g.bytes <= target {
                    break;
                }
                remove_key(&mut g, &k);
            }
        }
        page
    }

    /// Drop every page carrying any of `tags`; returns how many went.
    pub fn invalidate<S: AsRef<str>>(&self, tags: &[S]) -> usize {
        let Ok(mut g) = self.inner.lock() else { return 0 };
        let mut keys = HashSet::new();
        for t in tags {
            if let Some(ks) = g.by_tag.remove(t.as_ref()) {
                keys.extend(ks);
            }
        }
        let n = keys.len();
        for k in keys {
            remove_key(&mut g, &k);
        }
        n
    }

    pub fn clear(&self) {
        if let Ok(mut g) = self.inner.lock() {
            *g = Inner::default();
        }
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map(|g| g.pages.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn bytes(&self) -> usize {
        self.inner.lock().map(|g| g.bytes).unwrap_or(0)
    }
}

fn remove_key(g: &mut Inner, key: &str) {
    if let Some(old) = g.pages.remove(key) {
        g.bytes = g.bytes.saturating_sub(old.size());
        for t in &old.tags {
            if let Some(set) = g.by_tag.get_mut(t) {
                set.remove(key);
                if set.is_empty() {
                    g.by_tag.remove(t);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str, tags: &[&str]) -> Page {
        Page::new(
            body.as_bytes().to_vec(),
            "text/html; charset=utf-8",
            0,
            tags.iter().map(|t| t.to_string()).collect(),
            true,
        )
    }

    #[test]
    fn invalidation_is_by_tag() {
        let c = Cache::new(1 << 20);
        c.put("a".into(), page("A", &["item:1", "col:1"]));
        c.put("b".into(), page("B", &["col:1"]));
        c.put("c".into(), page("C", &["item:2"]));
        assert_eq!(c.invalidate(&["item:1"]), 1);
        assert!(c.get("a").is_none());
        assert!(c.get("b").is_some());
        assert_eq!(c.invalidate(&["col:1", "item:2"]), 2);
        assert!(c.is_empty());
        assert_eq!(c.bytes(), 0);
    }

    #[test]
    fn bounded_memory_evicts_least_recently_used() {
        let c = Cache::new(64 * 1024);
        let body = "x".repeat(4000);
        for i in 0..40 {
            c.put(format!("k{i}"), page(&body, &["site:1"]));
            let _ = c.get("k0");
        }
        assert!(c.bytes() <= 64 * 1024);
        assert!(c.get("k0").is_some(), "recently used page kept");
        assert!(c.get("k1").is_none(), "old page evicted");
    }

    #[test]
    fn conditional_and_encoded_responses() {
        let body = "<p>政府信息公开</p>".repeat(100);
        let p = page(&body, &[]);
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip, deflate, br"));
        let r = p.respond(&h, 60);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "br");
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip;q=1, br;q=0"));
        assert_eq!(p.respond(&h, 60).headers()[header::CONTENT_ENCODING], "gzip");
        h.insert(header::IF_NONE_MATCH, p.etag.clone());
        assert_eq!(p.respond(&h, 60).status(), StatusCode::NOT_MODIFIED);
        let mut h2 = HeaderMap::new();
        h2.insert(header::IF_MODIFIED_SINCE, p.last_modified.clone());
        assert_eq!(p.respond(&h2, 60).status(), StatusCode::NOT_MODIFIED);
        assert!(p.respond(&HeaderMap::new(), 60).headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
