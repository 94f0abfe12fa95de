//! What a visitor types, made into a tantivy query: cleaned (never an error for odd
//! input), quoted phrases, `-` exclusion, synonyms, 文号 in any bracket style, filters,
//! ranking with exact-title and 文号 matches first and newer first on ties, highlighted
//! snippets, "did you mean" and title suggestions.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Order, Searcher, TantivyDocument, Term};

use gongkai_cms::html::escape;

use crate::engine::{Engine, Fields};
use crate::text::{doc_no_key, edit_distance, normalize, title_key};

/// Longer queries are cut here (with a notice), so a pasted page cannot make a huge query.
pub const MAX_QUERY_CHARS: usize = 100;
const MAX_PARTS: usize = 12;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Part {
    pub text: String,
    pub phrase: bool,
}

/// A cleaned query: what must match, what must not.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub must: Vec<Part>,
    pub not: Vec<Part>,
    /// The query as it is run (shown back to the visitor).
    pub cleaned: String,
    pub notice: Option<String>,
}

impl Parsed {
    pub fn is_empty(&self) -> bool {
        self.must.is_empty()
    }
}

/// Clean and split a query. Never fails: control characters go, a lone `-` or quote is
/// ignored, an unclosed quote runs to the end, and overlong input is cut with a notice.
pub fn parse(raw: &str) -> Parsed {
    let mut notice = None;
    let mut s: String = raw.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if s.chars().count() > MAX_QUERY_CHARS {
        s = s.chars().take(MAX_QUERY_CHARS).collect();
        notice = Some(format!("检索词过长，只使用了前 {MAX_QUERY_CHARS} 个字"));
    }
    let chars: Vec<char> = s.chars().collect();
    let (mut must, mut not) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let negated = matches!(c, '-' | '－') && i + 1 < chars.len() && !chars[i + 1].is_whitespace();
        if negated {
            i += 1;
        }
        let (text, phrase) = if matches!(chars[i], '"' | '“' | '”' | '＂') {
            let start = i + 1;
            let mut end = start;
            while end < chars.len() && !matches!(chars[end], '"' | '“' | '”' | '＂') {
                end += 1;
            }
            i = end + 1;
            (chars[start..end.min(chars.len())].iter().collect::<String>(), true)
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !matches!(chars[i], '"' | '“' | '”' | '＂') {
                i += 1;
            }
            (chars[start..i].iter().collect::<String>(), false)
        };
        let text = text.trim().to_string();
        // Operators alone and pure punctuation carry nothing to search for.
        if !text.chars().any(char::is_alphanumeric) {
            continue;
        }
        let part = Part { text, phrase };
        if negated { not.push(part) } else { must.push(part) }
    }
    must.truncate(MAX_PARTS);
    not.truncate(MAX_PARTS);
    let mut cleaned: Vec<String> =
        must.iter().map(|p| if p.phrase { format!("\"{}\"", p.text) } else { p.text.clone() }).collect();
    cleaned.extend(not.iter().map(|p| if p.phrase { format!("-\"{}\"", p.text) } else { format!("-{}", p.text) }));
    Parsed { must, not, cleaned: cleaned.join(" "), notice }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    #[default]
    Relevance,
    Date,
}

/// A search: the query and the filters, all optional except the sites it may look in.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub q: String,
    /// Sites whose items may appear (the open sites of the group, or the one site).
    pub sites: Vec<i64>,
    pub column: Option<i64>,
    pub org: Option<i64>,
    pub subject: Option<String>,
    pub genre: Option<String>,
    pub class: Option<String>,
    pub validity: Option<String>,
    pub year: Option<i64>,
    /// Publication instants, inclusive (ms).
    pub from_ts: Option<i64>,
    pub to_ts: Option<i64>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub item_id: i64,
    pub title: String,
    /// Title and snippet with <mark> around matched words, already escaped.
    pub title_html: String,
    pub snippet_html: String,
    pub site_id: i64,
    pub column_id: i64,
    pub published_on: String,
    pub index_no: String,
    pub doc_no: String,
    pub validity: String,
    pub org_id: Option<i64>,
    pub score: f32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Results {
    pub query: String,
    pub total: usize,
    pub hits: Vec<Hit>,
    pub did_you_mean: Option<String>,
    pub notice: Option<String>,
}

/// Per-field weights: a word in the title counts three times one in the body.
const WEIGHTS: [(FieldOf, f32); 4] =
    [(FieldOf::Title, 3.0), (FieldOf::Meta, 2.0), (FieldOf::Body, 1.0), (FieldOf::Attach, 0.5)];

#[derive(Clone, Copy)]
enum FieldOf {
    Title,
    Meta,
    Body,
    Attach,
}

impl FieldOf {
    fn of(self, f: &Fields) -> Field {
        match self {
            FieldOf::Title => f.title,
            FieldOf::Meta => f.meta,
            FieldOf::Body => f.body,
            FieldOf::Attach => f.attach,
        }
    }
}

fn term_q(t: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs))
}

fn any_of(qs: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if qs.len() == 1 {
        return qs.into_iter().next().unwrap_or_else(|| Box::new(BooleanQuery::new(vec![])));
    }
    Box::new(BooleanQuery::new(qs.into_iter().map(|q| (Occur::Should, q)).collect()))
}

fn all_of(qs: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if qs.len() == 1 {
        return qs.into_iter().next().unwrap_or_else(|| Box::new(BooleanQuery::new(vec![])));
    }
    Box::new(BooleanQuery::new(qs.into_iter().map(|q| (Occur::Must, q)).collect()))
}

/// Builds the tantivy query of a parsed query and remembers the words to highlight.
pub struct Builder<'a> {
    e: &'a Engine,
    synonyms: &'a HashMap<String, Vec<String>>,
    pub highlight: BTreeSet<String>,
}

impl<'a> Builder<'a> {
    pub fn new(e: &'a Engine, synonyms: &'a HashMap<String, Vec<String>>) -> Builder<'a> {
        Builder { e, synonyms, highlight: BTreeSet::new() }
    }

    /// One word in any text field, weighted by field.
    fn word(&mut self, w: &str) -> Box<dyn Query> {
        self.highlight.insert(w.to_string());
        let f = self.e.f;
        any_of(
            WEIGHTS
                .iter()
                .map(|(fo, boost)| {
                    Box::new(BoostQuery::new(term_q(Term::from_field_text(fo.of(&f), w)), *boost)) as Box<dyn Query>
                })
                .collect(),
        )
    }

    /// The characters of `text` in this order in one field (offsets are char positions).
    fn phrase_in(&self, field: Field, words: &[(String, usize)]) -> Box<dyn Query> {
        if words.len() == 1 {
            return term_q(Term::from_field_text(field, &words[0].0));
        }
        let base = words.first().map(|w| w.1).unwrap_or(0);
        Box::new(PhraseQuery::new_with_offset(
            words.iter().map(|(w, at)| (at - base, Term::from_field_text(field, w))).collect(),
        ))
    }

    fn phrase(&mut self, text: &str) -> Option<Box<dyn Query>> {
        let words = self.e.seg.words(text);
        if words.is_empty() {
            return None;
        }
        for (w, _) in &words {
            self.highlight.insert(w.clone());
        }
        let f = self.e.f;
        Some(any_of(
            WEIGHTS
                .iter()
                .map(|(fo, boost)| {
                    Box::new(BoostQuery::new(self.phrase_in(fo.of(&f), &words), *boost)) as Box<dyn Query>
                })
                .collect(),
        ))
    }

    /// A word as typed: every segment must occur (a long segment may also be found as its
    /// dictionary parts); the segments next to each other in the title rank higher.
    fn plain(&mut self, text: &str) -> Option<Box<dyn Query>> {
        let words = self.e.seg.words(text);
        if words.is_empty() {
            return None;
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (w, at) in &words {
            let mut alts = vec![self.synonym_or_word(w)];
            let chars: Vec<char> = w.chars().collect();
            if chars.len() >= 3 && !chars.iter().any(char::is_ascii_alphanumeric) {
                // Found as its overlapping two-character windows in that order.
                let parts: Vec<(String, usize)> =
                    (0..chars.len() - 1).map(|i| (chars[i..i + 2].iter().collect::<String>(), at + i)).collect();
                let f = self.e.f;
                alts.push(Box::new(BoostQuery::new(self.phrase_in(f.body, &parts), 0.5)));
                alts.push(Box::new(BoostQuery::new(self.phrase_in(f.title, &parts), 1.5)));
            }
            clauses.push((Occur::Must, any_of(alts)));
        }
        if words.len() >= 2 {
            let f = self.e.f;
            clauses.push((Occur::Should, Box::new(BoostQuery::new(self.phrase_in(f.title, &words), 2.0))));
            clauses.push((Occur::Should, Box::new(BoostQuery::new(self.phrase_in(f.body, &words), 0.5))));
        }
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    fn synonym_or_word(&mut self, w: &str) -> Box<dyn Query> {
        let Some(group) = self.synonyms.get(w).cloned() else { return self.word(w) };
        let mut alts = vec![self.word(w)];
        for other in group.iter().filter(|o| String::as_str(o) != w) {
            let words = self.e.seg.words(other);
            let qs: Vec<Box<dyn Query>> = words.iter().map(|(x, _)| self.word(x)).collect();
            if !qs.is_empty() {
                alts.push(all_of(qs));
            }
        }
        any_of(alts)
    }

    fn part(&mut self, p: &Part) -> Option<Box<dyn Query>> {
        let norm = normalize(&p.text);
        // A whole-part synonym (市民热线 ↔ 12345) when the part is in a group.
        if !p.phrase
            && let Some(group) = self.synonyms.get(&norm).cloned()
        {
            let mut alts = Vec::new();
            for v in std::iter::once(norm.clone()).chain(group.into_iter().filter(|v| *v != norm)) {
                if let Some(q) = self.phrase(&v) {
                    alts.push(q);
                }
            }
            return (!alts.is_empty()).then(|| any_of(alts));
        }
        if p.phrase { self.phrase(&p.text) } else { self.plain(&p.text) }
    }

    /// The whole query with its ranking boosts; None when nothing searchable is left.
    pub fn build(&mut self, parsed: &Parsed, raw: &str) -> Option<Box<dyn Query>> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        // A 文号 typed in any bracket style is matched as one, before segmentation.
        let joined: String = parsed.must.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("");
        let doc_no = doc_no_key(&joined).or_else(|| doc_no_key(raw));
        let f = self.e.f;
        if let Some(k) = &doc_no {
            let by_no = Box::new(BoostQuery::new(term_q(Term::from_field_text(f.doc_no_key, k)), 100.0));
            let mut words = Vec::new();
            for p in &parsed.must {
                if let Some(q) = self.part(p) {
                    words.push(q);
                }
            }
            clauses.push((Occur::Must, any_of(vec![by_no, all_of(words)])));
        } else {
            for p in &parsed.must {
                if let Some(q) = self.part(p) {
                    clauses.push((Occur::Must, q));
                }
            }
        }
        if clauses.is_empty() {
            return None;
        }
        for p in &parsed.not {
            let before = self.highlight.clone();
            if let Some(q) = self.part(p) {
                clauses.push((Occur::MustNot, q));
            }
            self.highlight = before;
        }
        // The exact title first.
        let whole = title_key(&parsed.must.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(""));
        clauses.push((
            Occur::Should,
            Box::new(BoostQuery::new(term_q(Term::from_field_text(f.title_key, &whole)), 100.0)),
        ));
        Some(Box::new(BooleanQuery::new(clauses)))
    }
}

/// Whether every document is on one of `sites` (then the site filter is left out: on a
/// one-site group, or a search across the whole group, it would only cost time).
fn sites_cover_all(e: &Engine, sites: &[i64]) -> bool {
    let searcher = e.searcher();
    for seg in searcher.segment_readers() {
        let Ok(inv) = seg.inverted_index(e.f.site) else { return false };
        let Ok(mut stream) = inv.terms().stream() else { return false };
        while stream.advance() {
            let Ok(bytes) = <[u8; 8]>::try_from(stream.key()) else { return false };
            let site = u64::from_be_bytes(bytes) as i64;
            if stream.value().doc_freq > 0 && !sites.contains(&site) {
                return false;
            }
        }
    }
    true
}

/// A filter: matches or not, adds nothing to the score.
fn filter_q(q: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
}

fn filters(e: &Engine, r: &Request) -> Vec<(Occur, Box<dyn Query>)> {
    let f = &e.f;
    let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let sites: Vec<Box<dyn Query>> = r.sites.iter().map(|s| term_q(Term::from_field_u64(f.site, *s as u64))).collect();
    // No site at all means nothing may be shown.
    if sites.is_empty() {
        out.push((Occur::Must, Box::new(BooleanQuery::new(vec![]))));
    } else if !sites_cover_all(e, &r.sites) {
        out.push(filter_q(any_of(sites)));
    }
    if let Some(c) = r.column {
        out.push(filter_q(term_q(Term::from_field_u64(f.column, c as u64))));
    }
    if let Some(o) = r.org {
        out.push(filter_q(term_q(Term::from_field_u64(f.org, o as u64))));
    }
    for (field, v) in [(f.subject, &r.subject), (f.genre, &r.genre), (f.class, &r.class), (f.validity, &r.validity)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            out.push(filter_q(term_q(Term::from_field_text(field, v))));
        }
    }
    if let Some(y) = r.year {
        out.push(filter_q(term_q(Term::from_field_u64(f.year, y.max(0) as u64))));
    }
    if r.from_ts.is_some() || r.to_ts.is_some() {
        let lo = r.from_ts.map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_i64(f.ts, v)));
        let hi = r.to_ts.map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_i64(f.ts, v)));
        out.push(filter_q(Box::new(RangeQuery::new(lo, hi))));
    }
    out
}

/// Run a search on one engine.
pub fn run(e: &Engine, synonyms: &HashMap<String, Vec<String>>, r: &Request) -> tantivy::Result<Results> {
    let parsed = parse(&r.q);
    let mut results = Results { query: parsed.cleaned.clone(), notice: parsed.notice.clone(), ..Default::default() };
    let mut b = Builder::new(e, synonyms);
    let Some(q) = b.build(&parsed, &r.q) else { return Ok(results) };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, q)];
    clauses.extend(filters(e, r));
    let query = BooleanQuery::new(clauses);
    let searcher = e.searcher();
    let limit = r.limit.clamp(1, 100);
    let top = TopDocs::with_limit(limit).and_offset(r.offset.min(10_000));
    let (addrs, total): (Vec<(f32, DocAddress)>, usize) = match r.sort {
        Sort::Relevance => {
            let collector = top.tweak_score(move |seg: &tantivy::SegmentReader| {
                let ts = seg.fast_fields().i64("ts").ok().map(|c| c.first_or_default_col(0));
                move |doc: tantivy::DocId, score: tantivy::Score| {
                    // Scores equal to three decimals are ties: the newer item first.
                    let t = ts.as_ref().map(|c| c.get_val(doc)).unwrap_or(0);
                    ((score * 1000.0).round() / 1000.0, t)
                }
            });
            let (hits, n) = searcher.search(&query, &(collector, Count))?;
            (hits.into_iter().map(|((s, _), a)| (s, a)).collect(), n)
        }
        Sort::Date => {
            let collector = top.order_by_fast_field::<i64>("ts", Order::Desc);
            let (hits, n) = searcher.search(&query, &(collector, Count))?;
            (hits.into_iter().map(|(_, a)| (0.0, a)).collect(), n)
        }
    };
    results.total = total;
    for (score, addr) in addrs {
        let doc: TantivyDocument = searcher.doc(addr)?;
        results.hits.push(hit_of(e, &doc, score, &b.highlight));
    }
    if results.total == 0 && parsed.not.is_empty() && parsed.must.len() == 1 {
        results.did_you_mean = did_you_mean(e, synonyms, &parsed.must[0].text, r)?;
    }
    Ok(results)
}

fn text_of(doc: &TantivyDocument, f: Field) -> String {
    doc.get_first(f).and_then(|v| v.as_str()).unwrap_or_default().to_string()
}

fn hit_of(e: &Engine, doc: &TantivyDocument, score: f32, words: &BTreeSet<String>) -> Hit {
    let f = &e.f;
    let title = text_of(doc, f.title);
    let body = text_of(doc, f.body);
    let summary = text_of(doc, f.summary);
    let title_html = highlight(e, &title, words);
    let snippet_html = match window(&body, words, 120) {
        Some(w) => highlight(e, w, words),
        None if !summary.is_empty() => highlight(e, first_chars(&summary, 120), words),
        None => highlight(e, first_chars(&body, 120), words),
    };
    let u = |field: Field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0) as i64;
    Hit {
        item_id: u(f.id),
        title,
        title_html,
        snippet_html,
        site_id: u(f.home_site),
        column_id: u(f.home_column),
        published_on: text_of(doc, f.day),
        index_no: text_of(doc, f.index_no),
        doc_no: text_of(doc, f.doc_no),
        validity: text_of(doc, f.validity),
        org_id: doc.get_first(f.org).and_then(|v| v.as_u64()).map(|v| v as i64),
        score,
    }
}

fn first_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((b, _)) => &s[..b],
        None => s,
    }
}

/// About `chars` characters of `text` around the first matched word.
fn window<'t>(text: &'t str, words: &BTreeSet<String>, chars: usize) -> Option<&'t str> {
    let lower = normalize(text);
    let at = words.iter().filter_map(|w| lower.find(w.as_str())).min()?;
    // `normalize` keeps one char per char: map the byte offset back through char counts.
    let char_at = lower[..at].chars().count();
    let start = char_at.saturating_sub(chars / 4);
    let from = text.char_indices().nth(start).map_or(text.len(), |(b, _)| b);
    let rest = &text[from..];
    Some(first_chars(rest, chars))
}

/// Escape `text` and wrap the segments that are query words in <mark>.
pub fn highlight(e: &Engine, text: &str, words: &BTreeSet<String>) -> String {
    let mut ranges: Vec<(usize, usize)> =
        e.seg.tokens(text).into_iter().filter(|t| words.contains(&t.0)).map(|t| (t.2, t.3)).collect();
    ranges.sort();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let mut out = String::new();
    let mut at = 0;
    for (a, b) in merged {
        out.push_str(&escape(&text[at..a]));
        out.push_str("<mark>");
        out.push_str(&escape(&text[a..b]));
        out.push_str("</mark>");
        at = b;
    }
    out.push_str(&escape(&text[at..]));
    out
}

/// A close dictionary term that has results, for an empty result page.
fn did_you_mean(
    e: &Engine,
    synonyms: &HashMap<String, Vec<String>>,
    typed: &str,
    r: &Request,
) -> tantivy::Result<Option<String>> {
    let typed = normalize(typed);
    let n = typed.chars().count();
    if n < 2 {
        return Ok(None);
    }
    let max = if n >= 5 { 2 } else { 1 };
    let mut candidates: Vec<(usize, String)> = crate::text::BUILTIN_WORDS
        .iter()
        .map(|w| w.to_string())
        .chain(e.seg.extra_words().iter().cloned())
        .chain(synonyms.keys().cloned())
        .filter(|w| *w != typed)
        .map(|w| (edit_distance(&typed, &w), w))
        .filter(|(d, w)| *d <= max && w.chars().count() + max >= n)
        .collect();
    candidates.sort();
    for (_, w) in candidates.into_iter().take(5) {
        let probe = Request { q: w.clone(), limit: 1, offset: 0, ..r.clone() };
        let parsed = parse(&probe.q);
        let mut b = Builder::new(e, synonyms);
        let Some(q) = b.build(&parsed, &probe.q) else { continue };
        let mut clauses = vec![(Occur::Must, q)];
        clauses.extend(filters(e, &probe));
        if e.searcher().search(&BooleanQuery::new(clauses), &Count)? > 0 {
            return Ok(Some(w));
        }
    }
    Ok(None)
}

/// Titles that start with what has been typed (live items only), at most `n`.
pub fn suggest(e: &Engine, prefix: &str, n: usize) -> tantivy::Result<Vec<String>> {
    let key = title_key(prefix);
    if key.chars().count() < 1 || n == 0 {
        return Ok(Vec::new());
    }
    let searcher: Searcher = e.searcher();
    let mut upper = key.as_bytes().to_vec();
    upper.push(0xFF);
    let mut out: BTreeSet<String> = BTreeSet::new();
    for seg in searcher.segment_readers() {
        let inv = seg.inverted_index(e.f.title_key)?;
        let alive = seg.alive_bitset();
        let mut stream = inv.terms().range().ge(key.as_bytes()).lt(&upper).into_stream()?;
        let mut scanned = 0;
        while stream.advance() && scanned < 200 {
            scanned += 1;
            let Ok(title) = std::str::from_utf8(stream.key()) else { continue };
            let info = stream.value();
            // Terms of withdrawn items linger until segments merge: keep live ones only.
            let mut postings = inv.read_postings_from_terminfo(info, IndexRecordOption::Basic)?;
            let mut live = false;
            loop {
                let d = tantivy::DocSet::doc(&postings);
                if d == tantivy::TERMINATED {
                    break;
                }
                if alive.is_none_or(|a| a.is_alive(d)) {
                    live = true;
                    break;
                }
                tantivy::DocSet::advance(&mut postings);
            }
            if live {
                out.insert(title.to_string());
                if out.len() >= n * 3 {
                    break;
                }
            }
        }
    }
    // Shorter titles first: the closest completions.
    let mut v: Vec<String> = out.into_iter().collect();
    v.sort_by(|a, b| a.chars().count().cmp(&b.chars().count()).then(a.cmp(b)));
    v.truncate(n);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_input_is_cleaned_never_refused() {
        let p = parse("\"政府信息 公开");
        assert_eq!(p.must, vec![Part { text: "政府信息 公开".into(), phrase: true }]);
        let p = parse("- 公开 -");
        assert_eq!(p.must.len(), 1);
        assert!(p.not.is_empty());
        let p = parse("公开 -年报 \"依申请公开\"");
        assert_eq!(p.must.len(), 2);
        assert_eq!(p.not, vec![Part { text: "年报".into(), phrase: false }]);
        let long = "公".repeat(1000);
        let p = parse(&long);
        assert!(p.notice.is_some());
        assert_eq!(p.cleaned.chars().count(), MAX_QUERY_CHARS);
        let p = parse("\u{0}\u{7}公开\u{1b}[31m 😀 ' OR 1=1 -- <script>");
        assert!(p.must.iter().all(|x| !x.text.contains('\u{0}')));
        assert!(p.must.iter().any(|x| x.text.contains("公开")));
        assert!(parse("\"\" - + 😀").is_empty());
    }
}
