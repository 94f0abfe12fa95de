//! Plain text from attachments (PDF, DOCX, HTML, plain text) so the index holds what a
//! published file says.
//!
//! Everything here reads uploads from outside. The parsers are small and never panic:
//! malformed input ends in `None` or in the text read so far, and the work is bounded
//! (decompressed bytes, nesting depth, reference chains, content-stream operators).

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::ops::Range;
use std::rc::Rc;

use flate2::read::{DeflateDecoder, ZlibDecoder};

/// Decompressed bytes one document may produce in all (PDF streams, DOCX parts): a deflate
/// bomb stops here.
const INFLATE_BUDGET: usize = 64 << 20;

/// The indexable text of a file, or None when the format is not supported or nothing could be read.
/// `name` is the original file name (its extension decides the format together with magic bytes), at most
/// `limit` chars of text are returned (cut at a char boundary).
pub fn text_of(name: &str, bytes: &[u8], limit: usize) -> Option<String> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.trim().to_ascii_lowercase()).unwrap_or_default();
    // Some producers put a few bytes before the header; readers accept it within the first KiB.
    let is_pdf = find(&bytes[..bytes.len().min(1024)], b"%PDF", 0).is_some();
    let is_zip = bytes.starts_with(b"PK\x03\x04");
    let text = match ext.as_str() {
        "pdf" if is_pdf => pdf_extract(bytes, INFLATE_BUDGET, limit),
        "docx" if is_zip => docx_text(bytes),
        "pdf" | "docx" => None,
        "txt" | "text" | "md" | "markdown" | "csv" | "tsv" => plain_text(bytes),
        "html" | "htm" | "xhtml" => html_text(bytes),
        // An unknown or missing extension: only the magic bytes can tell.
        _ if is_pdf => pdf_extract(bytes, INFLATE_BUDGET, limit),
        _ if is_zip => docx_text(bytes),
        _ => None,
    }?;
    cut(text, limit)
}

/// The text of a PDF's pages, in page order.
pub fn pdf_text(bytes: &[u8]) -> Option<String> {
    pdf_extract(bytes, INFLATE_BUDGET, usize::MAX)
}

/// The text of a Word (.docx) document: the body, then footnotes and endnotes.
pub fn docx_text(bytes: &[u8]) -> Option<String> {
    let entries = zip_entries(bytes);
    let entry = |name: &str| entries.iter().find(|e| e.name == name.as_bytes());
    // The main part is word/document.xml; a few generators number it.
    let main = entry("word/document.xml")
        .or_else(|| entries.iter().find(|e| e.name.starts_with(b"word/document") && e.name.ends_with(b".xml")))?;
    let mut budget = INFLATE_BUDGET;
    let mut out = String::new();
    docx_xml_text(&String::from_utf8_lossy(&zip_read(bytes, main, &mut budget)?), &mut out);
    for part in ["word/footnotes.xml", "word/endnotes.xml"] {
        if let Some(e) = entry(part)
            && let Some(xml) = zip_read(bytes, e, &mut budget)
        {
            out.push_str("\n\n");
            docx_xml_text(&String::from_utf8_lossy(&xml), &mut out);
        }
    }
    normalise(&out)
}

/// UTF-8 (with or without BOM), UTF-16 with BOM; else lossy only if mostly valid, otherwise None.
pub fn plain_text(bytes: &[u8]) -> Option<String> {
    normalise(&decode_plain(bytes)?)
}

/// The visible text of an HTML page: tags stripped, entities decoded, scripts and styles skipped.
pub fn html_text(bytes: &[u8]) -> Option<String> {
    // The same HTML-to-text as item bodies: a real parser, scripts and styles dropped.
    normalise(&gongkai_cms::html::to_text(&decode_plain(bytes)?))
}

// ---------------------------------------------------------------------------------------
// Shared helpers

/// Whether the normalised text keeps this char (whitespace collapses, controls go).
fn kept(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || matches!(c, '\u{feff}' | '\u{fffd}' | '\u{200b}'))
}

/// Collapse runs of spaces and tabs, keep newlines (at most two in a row), trim; None when empty.
fn normalise(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len().min(1 << 20));
    let (mut space, mut newlines) = (false, 0usize);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                newlines += 1;
            }
            '\n' | '\x0c' | '\u{2028}' | '\u{2029}' => newlines += 1,
            c if c.is_whitespace() => space = true,
            c if !kept(c) => {}
            c => {
                if !out.is_empty() {
                    if newlines > 0 {
                        out.extend(std::iter::repeat_n('\n', newlines.min(2)));
                    } else if space {
                        out.push(' ');
                    }
                }
                (space, newlines) = (false, 0);
                out.push(c);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// At most `limit` chars, cut at a char boundary.
fn cut(mut text: String, limit: usize) -> Option<String> {
    if let Some((at, _)) = text.char_indices().nth(limit) {
        text.truncate(at);
        let keep = text.trim_end().len();
        text.truncate(keep);
    }
    (!text.is_empty()).then_some(text)
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i.saturating_add(needle.len()) <= hay.len() {
        let j = i + hay.get(i..)?.iter().position(|&b| b == first)?;
        if hay.get(j..).is_some_and(|r| r.starts_with(needle)) {
            return Some(j);
        }
        i = j + 1;
    }
    None
}

fn decode_plain(bytes: &[u8]) -> Option<String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return mostly_utf8(rest);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return Some(utf16(rest, false));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return Some(utf16(rest, true));
    }
    mostly_utf8(bytes)
}

fn utf16(b: &[u8], big_endian: bool) -> String {
    let units = b
        .chunks_exact(2)
        .map(|c| if big_endian { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) });
    char::decode_utf16(units).map(|r| r.unwrap_or('\u{fffd}')).collect()
}

/// UTF-8 text, or lossy UTF-8 when at most 2% is broken; None for binary or other encodings.
fn mostly_utf8(b: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(b);
    let total = s.chars().count().max(1);
    let broken = s.chars().filter(|&c| c == '\u{fffd}').count();
    // Control characters (other than line breaks and tabs) mean a binary file that happens to decode.
    let controls = s.chars().filter(|&c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c')).count();
    (broken * 50 <= total && controls * 20 <= total).then(|| s.into_owned())
}

/// Decode the XML/HTML entities (`&amp;` `&#NN;` `&#xHH;` and the common named ones); an
/// unknown one stays as written.
fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let tail = &rest[p + 1..];
        match tail.find(';').filter(|&e| e <= 10).and_then(|e| entity(&tail[..e]).map(|c| (c, e))) {
            Some((c, e)) => {
                out.push(c);
                rest = &tail[e + 1..];
            }
            None => {
                out.push('&');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let v = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(v).filter(|&c| c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ensp" | "emsp" | "thinsp" => ' ',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "middot" => '·',
        "bull" => '•',
        "ldquo" => '“',
        "rdquo" => '”',
        "lsquo" => '‘',
        "rsquo" => '’',
        "laquo" => '«',
        "raquo" => '»',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "times" => '×',
        "divide" => '÷',
        "yen" => '¥',
        "deg" => '°',
        "plusmn" => '±',
        "sect" => '§',
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------
// DOCX: a minimal ZIP reader and WordprocessingML text

struct ZipEntry<'a> {
    name: &'a [u8],
    method: usize,
    csize: usize,
    size: usize,
    offset: usize,
}

fn le16(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(usize::from(u16::from_le_bytes([s[0], s[1]])))
}

fn le32(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(4)?)?;
    usize::try_from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])).ok()
}

fn at_sig(b: &[u8], at: usize, sig: &[u8]) -> bool {
    b.get(at..).is_some_and(|r| r.starts_with(sig))
}

/// The archive's entries from its central directory, or (a truncated upload) from the local headers.
fn zip_entries(b: &[u8]) -> Vec<ZipEntry<'_>> {
    central_directory(b).unwrap_or_else(|| local_headers(b))
}

fn central_directory(b: &[u8]) -> Option<Vec<ZipEntry<'_>>> {
    let last = b.len().checked_sub(22)?;
    // The end record sits in the last 22 bytes plus at most a 64 KiB comment.
    for eocd in (last.saturating_sub(0xFFFF)..=last).rev() {
        if !at_sig(b, eocd, b"PK\x05\x06") {
            continue;
        }
        let (Some(count), Some(mut p)) = (le16(b, eocd + 10), le32(b, eocd + 16)) else { continue };
        if count > 0 && !at_sig(b, p, b"PK\x01\x02") {
            continue; // a signature inside the comment, or a ZIP64 archive
        }
        let mut out = Vec::new();
        for _ in 0..count {
            if !at_sig(b, p, b"PK\x01\x02") {
                break;
            }
            let field = |at: usize, wide: bool| {
                if wide { le32(b, p.saturating_add(at)) } else { le16(b, p.saturating_add(at)) }
            };
            let (Some(method), Some(csize), Some(size), Some(nlen), Some(elen), Some(clen), Some(offset)) = (
                field(10, false),
                field(20, true),
                field(24, true),
                field(28, false),
                field(30, false),
                field(32, false),
                field(42, true),
            ) else {
                break;
            };
            let start = p.saturating_add(46);
            let Some(name) = b.get(start..start.saturating_add(nlen)) else { break };
            out.push(ZipEntry { name, method, csize, size, offset });
            p = start.saturating_add(nlen + elen + clen);
        }
        return Some(out);
    }
    None
}

fn local_headers(b: &[u8]) -> Vec<ZipEntry<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = find(b, b"PK\x03\x04", i) {
        i = p + 4;
        let (Some(method), Some(csize), Some(size), Some(nlen)) =
            (le16(b, p + 8), le32(b, p + 18), le32(b, p + 22), le16(b, p + 26))
        else {
            break;
        };
        if let Some(name) = b.get(p + 30..p + 30 + nlen) {
            out.push(ZipEntry { name, method, csize, size, offset: p });
        }
    }
    out
}

/// An entry's bytes (stored or deflated), at most `budget` of them; the budget shrinks by what was read.
fn zip_read(b: &[u8], e: &ZipEntry, budget: &mut usize) -> Option<Vec<u8>> {
    let p = e.offset;
    if !at_sig(b, p, b"PK\x03\x04") {
        return None;
    }
    let start = p.saturating_add(30).saturating_add(le16(b, p + 26)?).saturating_add(le16(b, p + 28)?);
    let data = b.get(start..)?;
    let out = match e.method {
        0 => {
            let n = if e.csize > 0 { e.csize } else { e.size };
            data[..n.min(data.len()).min(*budget)].to_vec()
        }
        8 => {
            // A deflate stream ends by itself, so a missing or wrong size (data descriptor, truncation) does not matter.
            let data = data.get(..e.csize).filter(|_| e.csize > 0).unwrap_or(data);
            let mut out = Vec::new();
            // A damaged stream keeps what decoded before the damage.
            let _ = DeflateDecoder::new(data).take(*budget as u64).read_to_end(&mut out);
            out
        }
        _ => return None,
    };
    *budget = budget.saturating_sub(out.len());
    Some(out)
}

/// Append the text of a WordprocessingML part: `<w:t>` runs, tabs, breaks, paragraph ends.
fn docx_xml_text(xml: &str, out: &mut String) {
    let b = xml.as_bytes();
    let (mut in_text, mut in_tabs) = (false, false);
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            let next = b[i..].iter().position(|&c| c == b'<').map_or(b.len(), |p| i + p);
            if in_text {
                out.push_str(&decode_entities(&xml[i..next]));
            }
            i = next;
            continue;
        }
        let rest = &xml[i..];
        if rest.starts_with("<!--") {
            i = find(b, b"-->", i + 4).map_or(b.len(), |e| e + 3);
            continue;
        }
        if let Some(cdata) = rest.strip_prefix("<![CDATA[") {
            let len = cdata.find("]]>").unwrap_or(cdata.len());
            if in_text {
                out.push_str(&cdata[..len]);
            }
            i += 9 + len + 3;
            continue;
        }
        let end = b[i..].iter().position(|&c| c == b'>').map_or(b.len(), |p| i + p);
        let tag = &xml[i + 1..end];
        i = end + 1;
        let closing = tag.starts_with('/');
        let self_closing = tag.ends_with('/');
        let name = tag.trim_start_matches('/').split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("");
        // Match the local name: w:t, and also a:t / m:t (text in shapes and equations).
        let local = name.rsplit(':').next().unwrap_or(name);
        match (closing, local) {
            (false, "t") => in_text = !self_closing,
            (true, "t") => in_text = false,
            // <w:tabs> in paragraph properties defines tab stops, not tab characters.
            (false, "tabs") => in_tabs = !self_closing,
            (true, "tabs") => in_tabs = false,
            (false, "tab") if !in_tabs => out.push('\t'),
            (false, "br" | "cr") => out.push('\n'),
            (false, "noBreakHyphen") => out.push('-'),
            (true, "p") => out.push('\n'),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// PDF: lexer and objects

/// Array and dictionary entries one document's objects may hold in all (memory bound).
const ELEMENT_BUDGET: usize = 4 << 20;
/// Content-stream bytes one document may interpret in all, counting dictionary look-ups
/// (work bound: forms and shared contents can repeat).
const WORK_BUDGET: usize = 256 << 20;
/// Text one document may produce (bytes).
const MAX_TEXT: usize = 16 << 20;
const MAX_DEPTH: usize = 32;
const MAX_PAGES: usize = 100_000;
const MAX_OBJECTS: usize = 2_000_000;

enum Obj {
    Null,
    Num(f64),
    Str(Vec<u8>),
    Name(Vec<u8>),
    Array(Vec<Obj>),
    Dict(Dict),
    Ref(u32),
    /// A stream: its dictionary and where its raw data lies in the file.
    Stream(Dict, Range<usize>),
}

static NULL: Obj = Obj::Null;

impl Obj {
    fn dict(&self) -> Option<&Dict> {
        match self {
            Obj::Dict(d) | Obj::Stream(d, _) => Some(d),
            _ => None,
        }
    }
    fn num(&self) -> Option<f64> {
        if let Obj::Num(v) = self { Some(*v) } else { None }
    }
    fn name(&self) -> Option<&[u8]> {
        if let Obj::Name(n) = self { Some(n) } else { None }
    }
    fn array(&self) -> Option<&[Obj]> {
        if let Obj::Array(a) = self { Some(a) } else { None }
    }
    fn string(&self) -> Option<&[u8]> {
        if let Obj::Str(s) = self { Some(s) } else { None }
    }
}

struct Dict(Vec<(Vec<u8>, Obj)>);

impl Dict {
    fn get(&self, key: &[u8]) -> Option<&Obj> {
        self.0.iter().find(|(k, _)| k.as_slice() == key).map(|(_, v)| v)
    }
}

enum Tok<'a> {
    /// A number and whether it was written as an integer.
    Num(f64, bool),
    Str(Vec<u8>),
    Name(Vec<u8>),
    ArrOpen,
    ArrClose,
    DictOpen,
    DictClose,
    /// A keyword or operator (also a stray delimiter).
    Word(&'a [u8]),
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | 0)
}

fn is_regular(c: u8) -> bool {
    !is_ws(c) && !matches!(c, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

struct Lexer<'a> {
    b: &'a [u8],
    pos: usize,
    /// Read `N G R` as a reference (file objects; content streams have none).
    refs: bool,
    /// Array and dictionary entries this lexer may still keep.
    room: usize,
}

impl<'a> Lexer<'a> {
    fn new(b: &'a [u8]) -> Self {
        Lexer { b, pos: 0, refs: false, room: 1 << 16 }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if is_ws(c) {
                self.pos += 1;
            } else if c == b'%' {
                while self.peek().is_some_and(|c| c != b'\n' && c != b'\r') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    fn next(&mut self) -> Option<Tok<'a>> {
        self.skip_ws();
        let start = self.pos;
        let c = self.peek()?;
        self.pos += 1;
        Some(match c {
            b'(' => Tok::Str(self.literal()),
            b'<' if self.peek() == Some(b'<') => {
                self.pos += 1;
                Tok::DictOpen
            }
            b'<' => Tok::Str(self.hex()),
            b'>' if self.peek() == Some(b'>') => {
                self.pos += 1;
                Tok::DictClose
            }
            b'[' => Tok::ArrOpen,
            b']' => Tok::ArrClose,
            b'/' => Tok::Name(self.name()),
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                while self.peek().is_some_and(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.')) {
                    self.pos += 1;
                }
                let s = self.b.get(start..self.pos).unwrap_or_default();
                let v = std::str::from_utf8(s).ok().and_then(|s| s.parse::<f64>().ok()).filter(|v| v.is_finite());
                Tok::Num(v.unwrap_or(0.0), !s.contains(&b'.'))
            }
            c if is_regular(c) => {
                while self.peek().is_some_and(is_regular) {
                    self.pos += 1;
                }
                Tok::Word(self.b.get(start..self.pos).unwrap_or_default())
            }
            _ => Tok::Word(self.b.get(start..self.pos).unwrap_or_default()),
        })
    }

    /// A literal string after its "(": escapes, balanced parentheses, line continuations.
    fn literal(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut depth = 1usize;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'(' => {
                    depth += 1;
                    out.push(c);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    out.push(c);
                }
                b'\\' => {
                    let Some(e) = self.peek() else { break };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            // \ddd above \377: the high-order bit is dropped.
                            out.push((v & 0xff) as u8);
                        }
                        // \( \) \\ and an unknown escape: the character itself.
                        other => out.push(other),
                    }
                }
                b'\r' => {
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                _ => out.push(c),
            }
        }
        out
    }

    /// A hex string after its "<"; other characters are skipped, an odd last digit is padded with 0.
    fn hex(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == b'>' {
                break;
            }
            let Some(d) = (c as char).to_digit(16) else { continue };
            let d = d as u8;
            match high.take() {
                Some(h) => out.push(h << 4 | d),
                None => high = Some(d),
            }
        }
        if let Some(h) = high {
            out.push(h << 4);
        }
        out
    }

    fn name(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(c) = self.peek().filter(|&c| is_regular(c)) {
            self.pos += 1;
            if c == b'#' {
                let hex = self.b.get(self.pos..self.pos + 2).and_then(|h| std::str::from_utf8(h).ok());
                if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    self.pos += 2;
                    out.push(v);
                    continue;
                }
            }
            out.push(c);
        }
        out
    }

    /// The next object; None at the end or at a keyword that is not a value.
    fn object(&mut self, depth: usize) -> Option<Obj> {
        let t = self.next()?;
        self.value(t, depth)
    }

    fn value(&mut self, tok: Tok<'a>, depth: usize) -> Option<Obj> {
        Some(match tok {
            Tok::Num(v, true) if self.refs && (0.0..=f64::from(u32::MAX)).contains(&v) => {
                let save = self.pos;
                if let Some(Tok::Num(_, true)) = self.next()
                    && let Some(Tok::Word(b"R")) = self.next()
                {
                    return Some(Obj::Ref(v as u32));
                }
                self.pos = save;
                Obj::Num(v)
            }
            Tok::Num(v, _) => Obj::Num(v),
            Tok::Str(s) => Obj::Str(s),
            Tok::Name(n) => Obj::Name(n),
            Tok::ArrOpen if depth < MAX_DEPTH => {
                let mut items = Vec::new();
                while let Some(t) = self.next() {
                    if matches!(t, Tok::ArrClose) {
                        break;
                    }
                    if let Some(o) = self.value(t, depth + 1)
                        && self.room > 0
                    {
                        self.room -= 1;
                        items.push(o);
                    }
                }
                Obj::Array(items)
            }
            Tok::DictOpen if depth < MAX_DEPTH => {
                let mut entries = Vec::new();
                while let Some(t) = self.next() {
                    match t {
                        Tok::DictClose => break,
                        Tok::Name(k) => {
                            let Some(t) = self.next() else { break };
                            if matches!(t, Tok::DictClose) {
                                break;
                            }
                            let v = self.value(t, depth + 1).unwrap_or(Obj::Null);
                            if self.room > 0 {
                                self.room -= 1;
                                entries.push((k, v));
                            }
                        }
                        _ => {} // garbage where a key belongs
                    }
                }
                Obj::Dict(Dict(entries))
            }
            Tok::Word(b"true" | b"false" | b"null") => Obj::Null,
            _ => return None,
        })
    }
}

/// Where the `N G obj` header whose "obj" starts at `k` begins, and N.
fn object_number(data: &[u8], k: usize) -> Option<(usize, u32)> {
    let back = |from: usize, pred: fn(u8) -> bool| {
        let mut j = from;
        while j > 0 && pred(data[j - 1]) {
            j -= 1;
        }
        (j < from).then_some(j)
    };
    let gen_end = back(k, is_ws)?;
    let gen_start = back(gen_end, |c| c.is_ascii_digit())?;
    let num_end = back(gen_start, is_ws)?;
    let num_start = back(num_end, |c| c.is_ascii_digit())?;
    if num_start > 0 && is_regular(data[num_start - 1]) {
        return None;
    }
    Some((num_start, std::str::from_utf8(&data[num_start..num_end]).ok()?.parse().ok()?))
}

/// The raw data of a stream whose keyword ends at `pos`, and where scanning goes on.
fn stream_range(data: &[u8], mut pos: usize, d: &Dict) -> (Range<usize>, usize) {
    if data.get(pos) == Some(&b'\r') {
        pos += 1;
    }
    if data.get(pos) == Some(&b'\n') {
        pos += 1;
    }
    // Trust /Length only when "endstream" follows it (it may be wrong or indirect).
    if let Some(len) = d.get(b"Length").and_then(Obj::num).filter(|l| *l >= 0.0) {
        let end = pos.saturating_add(len as usize);
        if end <= data.len() {
            let j = end + data[end..].iter().take_while(|&&c| is_ws(c)).count();
            if at_sig(data, j, b"endstream") {
                return (pos..end, j + 9);
            }
        }
    }
    match find(data, b"endstream", pos) {
        Some(e) => {
            let mut end = e;
            if end > pos && data[end - 1] == b'\n' {
                end -= 1;
            }
            if end > pos && data[end - 1] == b'\r' {
                end -= 1;
            }
            (pos..end, e + 9)
        }
        None => (pos..data.len(), data.len()),
    }
}

// ---------------------------------------------------------------------------------------
// PDF: the document

struct Pdf<'a> {
    data: &'a [u8],
    /// Object number → (where it was found: later wins, and the fallback page order; the object).
    objs: HashMap<u32, (usize, Obj)>,
    inflate_left: Cell<usize>,
    work_left: Cell<usize>,
    /// Loaded fonts by the address of their dictionary in `objs` (stable once loaded).
    fonts: RefCell<HashMap<usize, Rc<Font>>>,
    default_font: Rc<Font>,
}

impl<'a> Pdf<'a> {
    /// Read the objects; None for an encrypted document (its strings and streams are unreadable).
    fn load(data: &'a [u8], inflate_budget: usize) -> Option<Pdf<'a>> {
        let mut pdf = Pdf {
            data,
            objs: HashMap::new(),
            inflate_left: Cell::new(inflate_budget),
            work_left: Cell::new(WORK_BUDGET),
            fonts: RefCell::new(HashMap::new()),
            default_font: Rc::new(Font::default()),
        };
        let mut room = ELEMENT_BUDGET;
        pdf.scan(&mut room);
        pdf.expand_object_streams(&mut room);
        (!pdf.encrypted()).then_some(pdf)
    }

    /// Every `N G obj` in the file, without trusting the cross-reference table.
    fn scan(&mut self, room: &mut usize) {
        let data = self.data;
        // (where "N G obj" starts, where "obj" is, N)
        let mut heads = Vec::new();
        let mut i = 0;
        while let Some(k) = find(data, b"obj", i) {
            i = k + 3;
            if heads.len() >= MAX_OBJECTS {
                break;
            }
            if data.get(k + 3).is_some_and(|&c| is_regular(c)) {
                continue;
            }
            if let Some((start, num)) = object_number(data, k) {
                heads.push((start, k, num));
            }
        }
        // The next "endobj" from some position (searched from, found), so the search stays linear.
        let mut endobj: (usize, Option<usize>) = (usize::MAX, None);
        let mut skip_to = 0;
        for (idx, &(_, k, num)) in heads.iter().enumerate() {
            if k < skip_to {
                continue; // inside the data of the stream before
            }
            let from = k + 3;
            let next_endobj = if endobj.0 <= from && endobj.1.is_none_or(|e| e >= from) {
                endobj.1
            } else {
                let f = find(data, b"endobj", from);
                endobj = (from, f);
                f
            };
            // The object's tokens end at its endobj or the next header, so a broken object
            // (an unterminated string, say) cannot swallow the rest of the file.
            let next_head = heads.get(idx + 1).map_or(data.len(), |h| h.0);
            let end = next_endobj.unwrap_or(data.len()).min(next_head).max(from);
            let mut lex = Lexer::new(&data[..end]);
            (lex.pos, lex.refs, lex.room) = (from, true, *room);
            let obj = lex.object(0);
            let is_stream = matches!(lex.next(), Some(Tok::Word(b"stream")));
            *room = lex.room;
            let obj = match obj {
                Some(Obj::Dict(d)) if is_stream => {
                    let (range, after) = stream_range(data, lex.pos, &d);
                    // Binary stream data may contain anything that looks like a header.
                    skip_to = after;
                    Obj::Stream(d, range)
                }
                Some(o) => o,
                None => continue,
            };
            self.objs.insert(num, (k, obj));
        }
    }

    /// Objects inside `/Type /ObjStm` streams (Chromium and many producers keep fonts there).
    fn expand_object_streams(&mut self, room: &mut usize) {
        let mut stms: Vec<(usize, u32)> = self
            .objs
            .iter()
            .filter(
                |(_, (_, o))| matches!(o, Obj::Stream(d, _) if d.get(b"Type").and_then(Obj::name) == Some(b"ObjStm")),
            )
            .map(|(n, (p, _))| (*p, *n))
            .collect();
        stms.sort_unstable();
        let mut found = Vec::new();
        for (pos, n) in stms {
            let Some((_, stm)) = self.objs.get(&n) else { continue };
            let Some(d) = stm.dict() else { continue };
            let count = self.get(d, b"N").num().unwrap_or(0.0) as usize;
            let first = self.get(d, b"First").num().unwrap_or(0.0) as usize;
            let Some(body) = self.stream_data(stm) else { continue };
            let mut header = Lexer::new(body.get(..first).unwrap_or(&body));
            let mut offsets = Vec::new();
            for _ in 0..count.min(1 << 20) {
                let (Some(Tok::Num(num, _)), Some(Tok::Num(off, _))) = (header.next(), header.next()) else { break };
                offsets.push((num as u32, first.saturating_add(off as usize)));
            }
            for (idx, &(num, off)) in offsets.iter().enumerate() {
                if off >= body.len() {
                    continue;
                }
                let end =
                    offsets.get(idx + 1).map(|o| o.1).filter(|&e| e > off && e <= body.len()).unwrap_or(body.len());
                let mut lex = Lexer::new(&body[..end]);
                (lex.pos, lex.refs, lex.room) = (off, true, *room);
                if let Some(o) = lex.object(0) {
                    found.push((num, pos, o));
                }
                *room = lex.room;
            }
        }
        for (num, pos, o) in found {
            // A direct object written after the object stream is a later revision.
            if self.objs.get(&num).is_none_or(|(p, _)| *p <= pos) {
                self.objs.insert(num, (pos, o));
            }
        }
    }

    fn encrypted(&self) -> bool {
        let xref_stream = self.objs.values().any(|(_, o)| {
            matches!(o, Obj::Stream(d, _) if d.get(b"Type").and_then(Obj::name) == Some(b"XRef") && d.get(b"Encrypt").is_some())
        });
        let mut i = 0;
        for _ in 0..64 {
            let Some(k) = find(self.data, b"trailer", i) else { break };
            i = k + 7;
            let mut lex = Lexer::new(&self.data[..(i + 65536).min(self.data.len())]);
            lex.pos = i;
            if let Some(Obj::Dict(d)) = lex.object(0)
                && d.get(b"Encrypt").is_some()
            {
                return true;
            }
        }
        xref_stream
    }

    fn resolve<'s>(&'s self, mut o: &'s Obj) -> &'s Obj {
        for _ in 0..16 {
            match o {
                Obj::Ref(n) => o = self.objs.get(n).map_or(&NULL, |(_, x)| x),
                _ => return o,
            }
        }
        &NULL
    }

    fn get<'s>(&'s self, d: &'s Dict, key: &[u8]) -> &'s Obj {
        d.get(key).map_or(&NULL, |o| self.resolve(o))
    }

    fn type_is(&self, o: &Obj, t: &[u8]) -> bool {
        o.dict().is_some_and(|d| self.get(d, b"Type").name() == Some(t))
    }

    /// A stream's decoded data: FlateDecode (alone or chained) or no filter; None for other filters.
    fn stream_data(&self, o: &Obj) -> Option<Cow<'a, [u8]>> {
        let Obj::Stream(d, range) = o else { return None };
        let raw = self.data.get(range.clone())?;
        let filters: Vec<&[u8]> = match d.get(b"Filter").map(|f| self.resolve(f)) {
            None | Some(Obj::Null) => Vec::new(),
            Some(Obj::Name(n)) => vec![n.as_slice()],
            Some(Obj::Array(a)) => a.iter().filter_map(|f| self.resolve(f).name()).collect(),
            Some(_) => return None,
        };
        let mut out = Cow::Borrowed(raw);
        for f in filters {
            match f {
                b"FlateDecode" | b"Fl" => out = Cow::Owned(self.inflate(&out)?),
                _ => return None, // images (DCT, JPX, CCITT…) and others carry no text
            }
        }
        Some(out)
    }

    /// Inflate within what is left of the document's budget.
    fn inflate(&self, data: &[u8]) -> Option<Vec<u8>> {
        let cap = self.inflate_left.get();
        if cap == 0 {
            return None;
        }
        let mut out = Vec::new();
        let zlib = matches!(data, [a, b, ..] if a & 0x0f == 8 && (u16::from(*a) << 8 | u16::from(*b)) % 31 == 0);
        // A damaged stream keeps what decoded before the damage.
        let _ = if zlib {
            ZlibDecoder::new(data).take(cap as u64).read_to_end(&mut out)
        } else {
            DeflateDecoder::new(data).take(cap as u64).read_to_end(&mut out)
        };
        self.inflate_left.set(cap.saturating_sub(out.len()));
        (!out.is_empty()).then_some(out)
    }

    /// The pages in page-tree order, or (no usable tree) every page object in file order.
    fn pages(&self) -> Vec<Page<'_>> {
        let mut out = Vec::new();
        let catalog = self.objs.values().filter(|(_, o)| self.type_is(o, b"Catalog")).max_by_key(|(p, _)| *p);
        if let Some((_, cat)) = catalog
            && let Some(root) = cat.dict().and_then(|d| d.get(b"Pages"))
        {
            self.walk(root, None, 0, &mut HashSet::new(), &mut out);
        }
        if out.is_empty() {
            let mut all: Vec<(usize, u32, &Dict)> = self
                .objs
                .iter()
                .filter(|(_, (_, o))| self.type_is(o, b"Page"))
                .filter_map(|(n, (p, o))| Some((*p, *n, o.dict()?)))
                .collect();
            all.sort_by_key(|(p, n, _)| (*p, *n));
            out = all.into_iter().take(MAX_PAGES).map(|(_, _, d)| Page { dict: d, res: self.inherited(d) }).collect();
        }
        out
    }

    fn walk<'s>(
        &'s self,
        node: &'s Obj,
        res: Option<&'s Dict>,
        depth: usize,
        seen: &mut HashSet<u32>,
        out: &mut Vec<Page<'s>>,
    ) {
        if depth > 64 || out.len() >= MAX_PAGES {
            return;
        }
        if let Obj::Ref(n) = node
            && !seen.insert(*n)
        {
            return; // a cycle
        }
        let Some(d) = self.resolve(node).dict() else { return };
        // Resources are inherited from the /Pages nodes above.
        let res = self.get(d, b"Resources").dict().or(res);
        match self.get(d, b"Kids") {
            Obj::Array(kids) => {
                for k in kids {
                    self.walk(k, res, depth + 1, seen, out);
                }
            }
            _ => out.push(Page { dict: d, res }),
        }
    }

    /// A page's resources, looked up through its /Parent chain.
    fn inherited<'s>(&'s self, mut d: &'s Dict) -> Option<&'s Dict> {
        for _ in 0..32 {
            if let Some(r) = self.get(d, b"Resources").dict() {
                return Some(r);
            }
            d = self.get(d, b"Parent").dict()?;
        }
        None
    }

    fn page_content(&self, page: &Dict) -> Vec<u8> {
        let mut content = Vec::new();
        let parts: Vec<&Obj> = match self.get(page, b"Contents") {
            Obj::Array(a) => a.iter().map(|o| self.resolve(o)).collect(),
            o => vec![o],
        };
        for p in parts {
            if let Some(b) = self.stream_data(p) {
                content.extend_from_slice(&b);
                // Parts split at token boundaries; keep them apart.
                content.push(b'\n');
            }
        }
        content
    }

    /// Spend interpretation work; false once the document's budget is gone.
    fn charge(&self, n: usize) -> bool {
        let left = self.work_left.get();
        self.work_left.set(left.saturating_sub(n));
        left > 0
    }

    /// An entry of a resource dictionary (/Font, /XObject, /Properties), its scan charged as work.
    fn resource<'s>(&'s self, res: Option<&'s Dict>, kind: &[u8], name: &[u8]) -> Option<&'s Obj> {
        let d = self.get(res?, kind).dict()?;
        self.charge(d.0.len());
        d.get(name).map(|o| self.resolve(o))
    }

    /// The font a /Font resource names, loaded once per font dictionary.
    fn font(&self, res: Option<&Dict>, name: &[u8]) -> Option<Rc<Font>> {
        let d = self.resource(res, b"Font", name)?.dict()?;
        let key = std::ptr::from_ref(d) as usize;
        if let Some(f) = self.fonts.borrow().get(&key) {
            return Some(f.clone());
        }
        let font = Rc::new(self.load_font(d));
        self.fonts.borrow_mut().insert(key, font.clone());
        Some(font)
    }

    fn load_font(&self, d: &Dict) -> Font {
        let subtype = self.get(d, b"Subtype").name().unwrap_or_default();
        let composite = subtype == b"Type0";
        let to_unicode = match self.get(d, b"ToUnicode") {
            s @ Obj::Stream(..) => self.stream_data(s).map(|b| CMap::parse(&b)),
            _ => None,
        };
        let enc = self.get(d, b"Encoding");
        let mut font = Font { composite, ..Font::default() };
        if composite {
            font.spaces = match enc {
                // An embedded encoding CMap says how long the codes are.
                s @ Obj::Stream(..) => self.stream_data(s).map(|b| CMap::parse(&b).spaces).unwrap_or_default(),
                // Identity-H/V: two bytes.
                Obj::Name(n) if n.starts_with(b"Identity") => Vec::new(),
                _ => to_unicode.as_ref().map(|c| c.spaces.clone()).unwrap_or_default(),
            };
            if let Obj::Name(n) = enc {
                font.ucs2 = find(n, b"UCS2", 0).is_some() || find(n, b"UTF16", 0).is_some();
            }
            let desc =
                self.get(d, b"DescendantFonts").array().and_then(|a| a.first()).and_then(|o| self.resolve(o).dict());
            let dw = desc.and_then(|f| self.get(f, b"DW").num()).unwrap_or(1000.0);
            let mut w = Vec::new();
            if let Some(arr) = desc.and_then(|f| self.get(f, b"W").array()) {
                let mut i = 0;
                while let Some(c) = arr.get(i).and_then(|o| self.resolve(o).num()) {
                    let c = c as u32;
                    match arr.get(i + 1).map(|o| self.resolve(o)) {
                        Some(Obj::Array(ws)) => {
                            for (k, x) in ws.iter().enumerate() {
                                let cid = c.saturating_add(k as u32);
                                w.push((cid, cid, self.resolve(x).num().unwrap_or(dw)));
                            }
                            i += 2;
                        }
                        Some(Obj::Num(hi)) => {
                            let x = arr.get(i + 2).and_then(|o| self.resolve(o).num()).unwrap_or(dw);
                            w.push((c, *hi as u32, x));
                            i += 3;
                        }
                        _ => break,
                    }
                }
            }
            w.sort_by_key(|r| r.0);
            font.widths = Widths::Cid { dw, w };
        } else {
            if subtype == b"Type3" {
                // Type3 glyph widths are in glyph space, scaled by the font matrix.
                font.scale =
                    self.get(d, b"FontMatrix").array().and_then(|m| m.first()).and_then(Obj::num).unwrap_or(0.001);
            }
            if let Some(ws) = self.get(d, b"Widths").array() {
                let first = self.get(d, b"FirstChar").num().unwrap_or(0.0) as u32;
                let missing = self
                    .get(d, b"FontDescriptor")
                    .dict()
                    .and_then(|fd| self.get(fd, b"MissingWidth").num())
                    .unwrap_or(0.0);
                let w = ws.iter().map(|o| self.resolve(o).num().unwrap_or(missing)).collect();
                font.widths = Widths::Simple { first, w, missing };
            }
            if let Some(diffs) = enc.dict().and_then(|e| self.get(e, b"Differences").array()) {
                let mut code = 0u32;
                for o in diffs {
                    match self.resolve(o) {
                        Obj::Num(n) => code = *n as u32,
                        Obj::Name(g) => {
                            if let Some(t) = glyph_text(g) {
                                font.differences.insert(code, t);
                            }
                            code = code.saturating_add(1);
                        }
                        _ => {}
                    }
                }
            }
        }
        font.to_unicode = to_unicode;
        font
    }
}

struct Page<'s> {
    dict: &'s Dict,
    res: Option<&'s Dict>,
}

// ---------------------------------------------------------------------------------------
// PDF: fonts and CMaps

#[derive(Default)]
enum Widths {
    /// No /Widths (a standard font): positions along the line are unknown.
    #[default]
    Unknown,
    Simple {
        first: u32,
        w: Vec<f64>,
        missing: f64,
    },
    /// (first CID, last CID, width), sorted.
    Cid {
        dw: f64,
        w: Vec<(u32, u32, f64)>,
    },
}

struct Font {
    /// Type0: codes of one or more bytes, CIDs.
    composite: bool,
    to_unicode: Option<CMap>,
    /// Code lengths of a composite font; empty: two bytes.
    spaces: Vec<(Vec<u8>, Vec<u8>)>,
    /// A simple font's /Differences (code → text of the glyph name).
    differences: HashMap<u32, String>,
    /// A composite font with a predefined UCS-2/UTF-16 encoding: the code is the character.
    ucs2: bool,
    widths: Widths,
    /// Glyph space to text space (1/1000 but for Type3).
    scale: f64,
}

impl Default for Font {
    fn default() -> Self {
        Font {
            composite: false,
            to_unicode: None,
            spaces: Vec::new(),
            differences: HashMap::new(),
            ucs2: false,
            widths: Widths::Unknown,
            scale: 0.001,
        }
    }
}

impl Font {
    /// The codes of a shown string with their byte lengths.
    fn codes(&self, s: &[u8]) -> Vec<(u32, usize)> {
        if !self.composite {
            return s.iter().map(|&b| (u32::from(b), 1)).collect();
        }
        let mut out = Vec::with_capacity(s.len() / 2);
        let mut rest = s;
        while !rest.is_empty() {
            let n = self.code_len(rest).clamp(1, 4).min(rest.len());
            let (code, tail) = rest.split_at(n);
            out.push((code.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)), n));
            rest = tail;
        }
        out
    }

    fn code_len(&self, rest: &[u8]) -> usize {
        if self.spaces.is_empty() {
            return 2;
        }
        for (lo, hi) in &self.spaces {
            if lo.len() <= rest.len() && lo.iter().zip(hi).zip(rest).all(|((l, h), c)| l <= c && c <= h) {
                return lo.len();
            }
        }
        self.spaces.iter().map(|(lo, _)| lo.len()).min().unwrap_or(2)
    }

    fn push_text(&self, code: u32, out: &mut String) {
        if let Some(cm) = &self.to_unicode
            && cm.lookup(code, out)
        {
            return;
        }
        if self.composite {
            // Without ToUnicode a CID says nothing about the character, unless the encoding is Unicode.
            if self.ucs2
                && let Some(c) = char::from_u32(code)
            {
                out.push(c);
            }
        } else if let Some(t) = self.differences.get(&code) {
            out.push_str(t);
        } else if let Some(c) = win_ansi(code) {
            out.push(c);
        }
    }

    fn widths_known(&self) -> bool {
        !matches!(self.widths, Widths::Unknown)
    }

    /// The advance of a glyph in text space per unit of font size.
    fn advance(&self, code: u32) -> f64 {
        let w = match &self.widths {
            Widths::Unknown => 0.0,
            Widths::Simple { first, w, missing } => {
                code.checked_sub(*first).and_then(|i| w.get(i as usize)).copied().unwrap_or(*missing)
            }
            Widths::Cid { dw, w } => {
                let i = w.partition_point(|r| r.0 <= code);
                i.checked_sub(1).and_then(|i| w.get(i)).filter(|r| code <= r.1).map_or(*dw, |r| r.2)
            }
        };
        w * self.scale
    }
}

enum RangeDst {
    /// The first destination; later codes increment its last UTF-16 unit.
    Start(Vec<u16>),
    List(Vec<String>),
}

#[derive(Default)]
struct CMap {
    spaces: Vec<(Vec<u8>, Vec<u8>)>,
    chars: HashMap<u32, String>,
    /// (low code, high code, destination), sorted by low code.
    ranges: Vec<(u32, u32, RangeDst)>,
}

impl CMap {
    fn parse(data: &[u8]) -> CMap {
        let mut cm = CMap::default();
        let mut lex = Lexer::new(data);
        let mut args: Vec<Obj> = Vec::new();
        while let Some(t) = lex.next() {
            let w = match t {
                Tok::Word(w) => w,
                t => {
                    lex.room = 1 << 16;
                    if let Some(o) = lex.value(t, 0)
                        && args.len() < 1 << 20
                    {
                        args.push(o);
                    }
                    continue;
                }
            };
            match w {
                b"endcodespacerange" => {
                    for p in args.chunks_exact(2) {
                        if let (Obj::Str(lo), Obj::Str(hi)) = (&p[0], &p[1])
                            && (1..=4).contains(&lo.len())
                            && lo.len() == hi.len()
                        {
                            cm.spaces.push((lo.clone(), hi.clone()));
                        }
                    }
                }
                b"endbfchar" => {
                    for p in args.chunks_exact(2) {
                        if let (Some(src), Some(dst)) = (cmap_code(&p[0]), cmap_dst(&p[1])) {
                            cm.chars.insert(src, dst);
                        }
                    }
                }
                b"endbfrange" => {
                    for p in args.chunks_exact(3) {
                        let (Some(lo), Some(hi)) = (cmap_code(&p[0]), cmap_code(&p[1])) else { continue };
                        let dst = match &p[2] {
                            Obj::Str(s) => RangeDst::Start(utf16_units(s)),
                            Obj::Array(a) => {
                                RangeDst::List(a.iter().map(|o| cmap_dst(o).unwrap_or_default()).collect())
                            }
                            _ => continue,
                        };
                        if lo <= hi {
                            cm.ranges.push((lo, hi, dst));
                        }
                    }
                }
                _ => {}
            }
            args.clear();
        }
        cm.ranges.sort_by_key(|r| r.0);
        cm
    }

    /// Append the text of a code; false when the CMap does not map it.
    fn lookup(&self, code: u32, out: &mut String) -> bool {
        if let Some(s) = self.chars.get(&code) {
            out.push_str(s);
            return true;
        }
        let i = self.ranges.partition_point(|r| r.0 <= code);
        let Some((lo, hi, dst)) = i.checked_sub(1).and_then(|i| self.ranges.get(i)) else { return false };
        if code > *hi {
            return false;
        }
        let off = code - lo;
        match dst {
            RangeDst::Start(units) => {
                let mut units = units.clone();
                if let Some(last) = units.last_mut() {
                    *last = last.wrapping_add(off as u16);
                }
                out.extend(char::decode_utf16(units).filter_map(Result::ok));
            }
            RangeDst::List(list) => match list.get(off as usize) {
                Some(s) => out.push_str(s),
                None => return false,
            },
        }
        true
    }
}

fn cmap_code(o: &Obj) -> Option<u32> {
    let s = o.string().filter(|s| (1..=4).contains(&s.len()))?;
    Some(s.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)))
}

/// A CMap destination: UTF-16BE (surrogate pairs, several chars for ligatures) or a glyph name.
fn cmap_dst(o: &Obj) -> Option<String> {
    match o {
        Obj::Str(s) => Some(char::decode_utf16(utf16_units(s)).filter_map(Result::ok).collect()),
        Obj::Name(n) => glyph_text(n),
        _ => None,
    }
}

fn utf16_units(s: &[u8]) -> Vec<u16> {
    match s {
        // A one-byte destination (a broken CMap) is the code point itself.
        [b] => vec![u16::from(*b)],
        _ => s.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect(),
    }
}

/// A PDF text string (/ActualText): UTF-16 with BOM, UTF-8 with BOM, else PDFDocEncoding (≈ Latin-1).
fn text_string(b: &[u8]) -> String {
    if let Some(r) = b.strip_prefix(b"\xFE\xFF") {
        utf16(r, true)
    } else if let Some(r) = b.strip_prefix(b"\xFF\xFE") {
        utf16(r, false)
    } else if let Some(r) = b.strip_prefix(b"\xEF\xBB\xBF") {
        String::from_utf8_lossy(r).into_owned()
    } else {
        b.iter().map(|&c| win_ansi(u32::from(c)).unwrap_or(' ')).collect()
    }
}

/// WinAnsiEncoding (Latin-1 with the Windows-1252 extras), good enough for simple fonts without ToUnicode.
fn win_ansi(code: u32) -> Option<char> {
    const HIGH: [u16; 32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D,
        0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,
        0x017E, 0x0178,
    ];
    match code {
        0x20..=0x7E | 0xA0..=0xFF => char::from_u32(code),
        0x80..=0x9F => {
            HIGH.get((code - 0x80) as usize).filter(|&&u| u != 0).and_then(|&u| char::from_u32(u32::from(u)))
        }
        _ => None,
    }
}

/// The text of a glyph name (`/Differences`, name destinations): uniXXXX, uXXXX, one letter or digit, common names.
fn glyph_text(name: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(name).ok()?;
    // "a.sc", "one.oldstyle": the part before the dot names the character.
    let base = name.split('.').next().unwrap_or(name);
    if base.len() == 1 && base.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Some(base.to_string());
    }
    if let Some(hex) = base.strip_prefix("uni")
        && hex.is_ascii()
        && !hex.is_empty()
        && hex.len() % 4 == 0
    {
        let units: Option<Vec<u16>> =
            (0..hex.len()).step_by(4).map(|i| u16::from_str_radix(&hex[i..i + 4], 16).ok()).collect();
        return Some(char::decode_utf16(units?).filter_map(Result::ok).collect());
    }
    if let Some(hex) = base.strip_prefix('u')
        && (4..=6).contains(&hex.len())
        && let Ok(v) = u32::from_str_radix(hex, 16)
    {
        return char::from_u32(v).map(String::from);
    }
    let s = match base {
        "space" | "nbspace" => " ",
        "exclam" => "!",
        "quotedbl" => "\"",
        "numbersign" => "#",
        "dollar" => "$",
        "percent" => "%",
        "ampersand" => "&",
        "quotesingle" => "'",
        "parenleft" => "(",
        "parenright" => ")",
        "asterisk" => "*",
        "plus" => "+",
        "comma" => ",",
        "hyphen" | "minus" => "-",
        "period" => ".",
        "slash" => "/",
        "zero" => "0",
        "one" => "1",
        "two" => "2",
        "three" => "3",
        "four" => "4",
        "five" => "5",
        "six" => "6",
        "seven" => "7",
        "eight" => "8",
        "nine" => "9",
        "colon" => ":",
        "semicolon" => ";",
        "less" => "<",
        "equal" => "=",
        "greater" => ">",
        "question" => "?",
        "at" => "@",
        "bracketleft" => "[",
        "backslash" => "\\",
        "bracketright" => "]",
        "asciicircum" => "^",
        "underscore" => "_",
        "grave" => "`",
        "braceleft" => "{",
        "bar" => "|",
        "braceright" => "}",
        "asciitilde" => "~",
        "quoteleft" => "‘",
        "quoteright" => "’",
        "quotedblleft" => "“",
        "quotedblright" => "”",
        "quotesinglbase" => "‚",
        "quotedblbase" => "„",
        "endash" => "–",
        "emdash" => "—",
        "bullet" => "•",
        "ellipsis" => "…",
        "periodcentered" => "·",
        "degree" => "°",
        "copyright" => "©",
        "registered" => "®",
        "trademark" => "™",
        "section" => "§",
        "paragraph" => "¶",
        "dagger" => "†",
        "daggerdbl" => "‡",
        "multiply" => "×",
        "divide" => "÷",
        "Euro" => "€",
        "yen" => "¥",
        "sterling" => "£",
        "fi" => "fi",
        "fl" => "fl",
        "ff" => "ff",
        "ffi" => "ffi",
        "ffl" => "ffl",
        _ => return None,
    };
    Some(s.to_string())
}

// ---------------------------------------------------------------------------------------
// PDF: content streams

type Mat = [f64; 6];
const IDENTITY: Mat = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

fn mul(m: &Mat, n: &Mat) -> Mat {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

fn translate(tx: f64, ty: f64) -> Mat {
    [1.0, 0.0, 0.0, 1.0, tx, ty]
}

/// The last K operands as numbers (missing or not numbers: 0).
fn nums<const K: usize>(ops: &[Obj]) -> [f64; K] {
    let mut out = [0.0; K];
    for (o, v) in out.iter_mut().zip(&ops[ops.len().saturating_sub(K)..]) {
        *o = v.num().unwrap_or(0.0);
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(u32::from(c), 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// The text being written, with where the last glyph ended (device space) to place the next.
struct Out {
    s: String,
    end: Option<(f64, f64)>,
    /// Chars that survive normalisation, to stop once the caller's limit is reached.
    kept: usize,
    max: usize,
}

impl Out {
    fn full(&self) -> bool {
        self.kept >= self.max || self.s.len() >= MAX_TEXT
    }

    fn push(&mut self, t: &str) {
        self.kept += t.chars().filter(|&c| kept(c)).count();
        self.s.push_str(t);
    }

    fn space(&mut self) {
        if self.s.chars().next_back().is_some_and(|c| !c.is_whitespace()) {
            self.s.push(' ');
        }
    }

    /// A line break when the baseline moved, a space when the text jumped along the line.
    fn place(&mut self, start: (f64, f64), dir: (f64, f64), size: f64, widths_known: bool) {
        let Some((ex, ey)) = self.end else { return };
        let (dx, dy) = (start.0 - ex, start.1 - ey);
        let along = dx * dir.0 + dy * dir.1;
        let across = dy * dir.0 - dx * dir.1;
        let em = if size.is_finite() && size > 1e-6 { size } else { 1.0 };
        if across.abs() > em * 0.5 {
            self.s.push('\n');
        } else if (widths_known && along > em * 0.3) || along < -em * 1.5 {
            self.space();
        }
    }
}

#[derive(Clone)]
struct GState {
    ctm: Mat,
    font: Option<Rc<Font>>,
    size: f64,
    tc: f64,
    tw: f64,
    th: f64,
    tl: f64,
}

impl Default for GState {
    fn default() -> Self {
        GState { ctm: IDENTITY, font: None, size: 1.0, tc: 0.0, tw: 0.0, th: 1.0, tl: 0.0 }
    }
}

struct Interp<'p, 'a> {
    pdf: &'p Pdf<'a>,
    out: Out,
    gs: GState,
    stack: Vec<GState>,
    tm: Mat,
    tlm: Mat,
    /// Marked-content levels, true where the level carries /ActualText.
    marked: Vec<bool>,
    in_actual: usize,
    /// ActualText not yet written: written at the first glyph of its span, or at its end.
    actual: Option<String>,
    /// Form XObjects running now, by address (a form may not run itself).
    forms: Vec<usize>,
}

fn pdf_extract(bytes: &[u8], inflate_budget: usize, max_chars: usize) -> Option<String> {
    let pdf = Pdf::load(bytes, inflate_budget)?;
    let mut it = Interp {
        pdf: &pdf,
        out: Out { s: String::new(), end: None, kept: 0, max: max_chars },
        gs: GState::default(),
        stack: Vec::new(),
        tm: IDENTITY,
        tlm: IDENTITY,
        marked: Vec::new(),
        in_actual: 0,
        actual: None,
        forms: Vec::new(),
    };
    for page in pdf.pages() {
        if it.out.full() || pdf.work_left.get() == 0 {
            break;
        }
        it.page(&page);
    }
    normalise(&it.out.s)
}

impl<'p, 'a> Interp<'p, 'a> {
    fn page(&mut self, page: &Page<'p>) {
        (self.gs, self.tm, self.tlm, self.in_actual, self.actual) = (GState::default(), IDENTITY, IDENTITY, 0, None);
        self.stack.clear();
        self.marked.clear();
        let content = self.pdf.page_content(page.dict);
        self.run(&content, page.res, 0);
        if let Some(a) = self.actual.take() {
            self.out.push(&a);
        }
        self.out.s.push_str("\n\n");
        self.out.end = None;
    }

    fn run(&mut self, content: &[u8], res: Option<&'p Dict>, depth: usize) {
        let pdf = self.pdf;
        let base = self.stack.len();
        let mut lex = Lexer::new(content);
        let mut ops: Vec<Obj> = Vec::new();
        let mut charged = 0;
        while let Some(tok) = lex.next() {
            // Charge the bytes read since the last token (operands, skipped inline images).
            if !pdf.charge(lex.pos - charged + 1) || self.out.full() {
                break;
            }
            charged = lex.pos;
            let op = match tok {
                Tok::Word(w) => w,
                t => {
                    // Operators take a handful of operands; a run without one is garbage.
                    if ops.len() >= 1024 {
                        ops.clear();
                    }
                    lex.room = 1 << 16;
                    if let Some(o) = lex.value(t, 0) {
                        ops.push(o);
                    }
                    continue;
                }
            };
            match op {
                b"BT" => (self.tm, self.tlm) = (IDENTITY, IDENTITY),
                b"q" if self.stack.len() < 256 => self.stack.push(self.gs.clone()),
                b"Q" if self.stack.len() > base => {
                    if let Some(g) = self.stack.pop() {
                        self.gs = g;
                    }
                }
                b"cm" => self.gs.ctm = mul(&nums::<6>(&ops), &self.gs.ctm),
                b"Tf" => {
                    self.gs.size = nums::<1>(&ops)[0];
                    let name = ops.len().checked_sub(2).and_then(|i| ops[i].name());
                    self.gs.font = name.and_then(|n| pdf.font(res, n));
                }
                b"Tc" => self.gs.tc = nums::<1>(&ops)[0],
                b"Tw" => self.gs.tw = nums::<1>(&ops)[0],
                b"Tz" => self.gs.th = nums::<1>(&ops)[0] / 100.0,
                b"TL" => self.gs.tl = nums::<1>(&ops)[0],
                b"Td" => {
                    let [x, y] = nums::<2>(&ops);
                    self.td(x, y);
                }
                b"TD" => {
                    let [x, y] = nums::<2>(&ops);
                    self.gs.tl = -y;
                    self.td(x, y);
                }
                b"Tm" => {
                    let m = nums::<6>(&ops);
                    (self.tm, self.tlm) = (m, m);
                }
                b"T*" => self.td(0.0, -self.gs.tl),
                b"Tj" | b"'" | b"\"" => {
                    if op == b"\"" {
                        let [aw, ac] = nums::<2>(&ops[..ops.len().saturating_sub(1)]);
                        (self.gs.tw, self.gs.tc) = (aw, ac);
                    }
                    if op != b"Tj" {
                        self.td(0.0, -self.gs.tl);
                    }
                    if let Some(Obj::Str(s)) = ops.last() {
                        self.show(s);
                    }
                }
                b"TJ" => {
                    if let Some(Obj::Array(items)) = ops.last() {
                        for item in items {
                            match item {
                                Obj::Str(s) => self.show(s),
                                Obj::Num(k) => self.kern(*k),
                                _ => {}
                            }
                        }
                    }
                }
                b"BDC" => {
                    let props = match ops.last() {
                        Some(Obj::Dict(d)) => Some(d),
                        Some(Obj::Name(n)) => pdf.resource(res, b"Properties", n).and_then(Obj::dict),
                        _ => None,
                    };
                    let actual = props.and_then(|p| pdf.get(p, b"ActualText").string()).map(text_string);
                    self.begin_marked(actual);
                }
                b"BMC" => self.begin_marked(None),
                b"EMC" => self.end_marked(),
                b"Do" => {
                    if let Some(Obj::Name(n)) = ops.last() {
                        self.form(res, n, depth);
                    }
                }
                b"BI" => skip_inline_image(&mut lex),
                _ => {}
            }
            ops.clear();
        }
        self.stack.truncate(base);
    }

    fn td(&mut self, x: f64, y: f64) {
        self.tlm = mul(&translate(x, y), &self.tlm);
        self.tm = self.tlm;
    }

    fn show(&mut self, s: &[u8]) {
        let font = self.gs.font.clone().unwrap_or_else(|| self.pdf.default_font.clone());
        let trm = mul(&self.tm, &self.gs.ctm);
        let start = (trm[4], trm[5]);
        let norm = trm[0].hypot(trm[1]);
        let dir = if norm > 1e-9 && norm.is_finite() { (trm[0] / norm, trm[1] / norm) } else { (1.0, 0.0) };
        let size = (self.gs.size * trm[2].hypot(trm[3])).abs();
        let mut text = String::new();
        let codes = font.codes(s);
        for &(code, len) in &codes {
            if self.in_actual == 0 {
                font.push_text(code, &mut text);
            }
            let mut tx = font.advance(code) * self.gs.size + self.gs.tc;
            if len == 1 && code == 32 {
                tx += self.gs.tw;
            }
            self.tm = mul(&translate(tx * self.gs.th, 0.0), &self.tm);
        }
        if self.in_actual > 0 {
            // Inside an /ActualText span the replacement text stands for the glyphs.
            text = self.actual.take().unwrap_or_default();
        }
        if !text.is_empty() {
            self.out.place(start, dir, size, font.widths_known());
            self.out.push(&text);
        }
        if !text.is_empty() || (self.in_actual > 0 && !codes.is_empty()) {
            let end = mul(&self.tm, &self.gs.ctm);
            self.out.end = Some((end[4], end[5]));
        }
    }

    /// A TJ adjustment; a large negative one (more than a fifth of an em) is a word space in Latin text.
    fn kern(&mut self, k: f64) {
        self.tm = mul(&translate(-k / 1000.0 * self.gs.size * self.gs.th, 0.0), &self.tm);
        if k < -200.0 && self.out.s.chars().next_back().is_some_and(|c| !is_cjk(c)) {
            self.out.space();
        }
    }

    fn begin_marked(&mut self, actual: Option<String>) {
        let has = actual.is_some();
        if has && self.in_actual == 0 {
            self.actual = actual;
        }
        if self.marked.len() < 4096 {
            self.in_actual += usize::from(has);
            self.marked.push(has);
        }
    }

    fn end_marked(&mut self) {
        if self.marked.pop() == Some(true) {
            self.in_actual = self.in_actual.saturating_sub(1);
            if self.in_actual == 0
                && let Some(a) = self.actual.take()
            {
                self.out.push(&a);
            }
        }
    }

    /// Run a form XObject (text in forms: stamps, headers, whole pages from some producers).
    fn form(&mut self, res: Option<&'p Dict>, name: &[u8], depth: usize) {
        let pdf = self.pdf;
        let Some(obj) = pdf.resource(res, b"XObject", name) else { return };
        let key = std::ptr::from_ref(obj) as usize;
        if depth >= 8 || self.forms.contains(&key) {
            return;
        }
        let Some(d) = obj.dict() else { return };
        if pdf.get(d, b"Subtype").name() != Some(b"Form") {
            return;
        }
        let Some(data) = pdf.stream_data(obj) else { return };
        let form_res = pdf.get(d, b"Resources").dict().or(res);
        let mut matrix = IDENTITY;
        if let Some(m) = pdf.get(d, b"Matrix").array().filter(|m| m.len() == 6) {
            matrix = nums::<6>(m);
        }
        let saved = (self.gs.clone(), self.tm, self.tlm);
        self.gs.ctm = mul(&matrix, &self.gs.ctm);
        self.forms.push(key);
        self.run(&data, form_res, depth + 1);
        self.forms.pop();
        (self.gs, self.tm, self.tlm) = saved;
    }
}

/// Skip an inline image: its dictionary runs to ID, its binary data to EI between whitespace.
fn skip_inline_image(lex: &mut Lexer) {
    while let Some(t) = lex.next() {
        if matches!(t, Tok::Word(b"ID")) {
            break;
        }
    }
    let b = lex.b;
    let mut i = lex.pos + 1;
    while i + 2 <= b.len() {
        if &b[i..i + 2] == b"EI" && is_ws(b[i - 1]) && b.get(i + 2).is_none_or(|&c| is_ws(c)) {
            lex.pos = i + 2;
            return;
        }
        i += 1;
    }
    lex.pos = b.len();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::PathBuf;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    fn squeeze(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    /// A PDF from object bodies numbered from 1, without an xref table (the reader must not need one).
    fn pdf_of(objects: &[Vec<u8>]) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
        for (i, o) in objects.iter().enumerate() {
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(o);
            out.extend_from_slice(b"\nendobj\n");
        }
        out.extend_from_slice(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n");
        out
    }

    fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut o = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
        o.extend_from_slice(data);
        o.extend_from_slice(b"\nendstream");
        o
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// One page (resources inherited from /Pages): font F1 is object 5, the content object 4.
    fn one_page(content: &[u8], font: &[u8], extra: &[Vec<u8>]) -> Vec<u8> {
        let mut objs = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /Font << /F1 5 0 R >> >> >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>".to_vec(),
            stream("/Filter /FlateDecode", &zlib(content)),
            font.to_vec(),
        ];
        objs.extend(extra.iter().cloned());
        pdf_of(&objs)
    }

    const HELVETICA: &[u8] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";

    #[test]
    fn demo_sample_pdf() {
        let pdf = gongkai_cms::demo::sample_pdf("Annual report 2025");
        let text = pdf_text(&pdf).unwrap();
        assert!(text.contains("Annual report 2025"), "{text:?}");
        assert_eq!(text_of("年报（PDF版）.PDF", &pdf, 100).as_deref(), Some("Annual report 2025"));
        assert_eq!(text_of("年报", &pdf, 6).as_deref(), Some("Annual"), "no extension: the magic bytes decide");
        assert_eq!(text_of("年报.txt", b"%PDF-1.4 not really", 100).as_deref(), Some("%PDF-1.4 not really"));
        assert_eq!(text_of("a.pdf", b"plain words", 100), None, "a .pdf without the header");
    }

    #[test]
    fn type0_tounicode_bfchar_bfrange_and_array_form() {
        let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Test def
1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfchar <0001> <9752> <0002> <D840DC00> endbfchar
2 beginbfrange
<0010> <0012> [<79BE> <533A> <00660069>]
<0020> <0022> <0030>
endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end";
        let font = b"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [7 0 R] /ToUnicode 6 0 R >>";
        let content =
            b"BT /F1 12 Tf 72 700 Td <000100100011> Tj [<0012>] TJ 0 -20 Td <002000210022> Tj <0002> Tj <0099> Tj ET";
        let doc = one_page(
            content,
            font,
            &[
                stream("", cmap),
                b"<< /Type /Font /Subtype /CIDFontType2 /DW 1000 /W [1 [500 500] 16 18 1000] >>".to_vec(),
            ],
        );
        assert_eq!(pdf_text(&doc).as_deref(), Some("青禾区fi\n012\u{20000}"));
    }

    #[test]
    fn object_streams_page_order_and_actual_text() {
        // Fonts and the page tree inside a compressed object stream; the second page comes
        // first in the file; /ActualText replaces the glyphs it spans.
        let embedded = [
            (9, &b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Differences [65 /uni9752 /fi] >> >>"[..]),
            (10, &b"<< /Type /Pages /Kids [8 0 R 7 0 R] /Count 2 /Resources << /Font << /F1 9 0 R >> >> >>"[..]),
        ];
        let mut header = String::new();
        let mut body = Vec::new();
        for (n, o) in embedded {
            header.push_str(&format!("{n} {} ", body.len()));
            body.extend_from_slice(o);
            body.push(b'\n');
        }
        let mut objstm = header.clone().into_bytes();
        objstm.extend_from_slice(&body);
        let objs = vec![
            b"<< /Type /Catalog /Pages 10 0 R >>".to_vec(),
            stream(
                &format!("/Type /ObjStm /N 2 /First {} /Filter [/FlateDecode]", header.len()),
                &zlib(&objstm),
            ),
            stream("/Filter /FlateDecode", &zlib(b"BT /F1 10 Tf 1 0 0 1 50 700 Tm (second page) Tj ET")),
            stream(
                "",
                b"BT /F1 10 Tf 50 700 Td (AB) Tj /Span << /ActualText <FEFF79BE533A> >> BDC (xy) Tj EMC (\\(z\\)) Tj ET",
            ),
            b"<< /Type /XRef /Size 9 >>".to_vec(),
            b"<< /Type /Nothing >>".to_vec(),
            b"<< /Type /Page /Parent 10 0 R /Contents 3 0 R >>".to_vec(),
            b"<< /Type /Page /Parent 10 0 R /Contents [4 0 R] >>".to_vec(),
        ];
        let text = pdf_text(&pdf_of(&objs)).unwrap();
        assert_eq!(text, "青fi禾区(z)\n\nsecond page");
    }

    #[test]
    fn literal_string_escapes_hex_and_names() {
        let mut lex =
            Lexer::new(b"(a\\(b\\)c\\\\d\\n\\101\\0612\\\ne(nested (deep))f\\q\\777) <48 65 6C6C 6F7> /A#20B");
        let Some(Tok::Str(s)) = lex.next() else { panic!("a string") };
        assert_eq!(s, b"a(b)c\\d\nA12e(nested (deep))fq\xff");
        let Some(Tok::Str(s)) = lex.next() else { panic!("a hex string") };
        assert_eq!(s, b"Hellop");
        let Some(Tok::Name(n)) = lex.next() else { panic!("a name") };
        assert_eq!(n, b"A B");
        assert!(lex.next().is_none());
        let doc = one_page(
            b"BT /F1 12 Tf 14 TL 72 700 Td (Hello\\040World \\223quoted\\224) Tj T* [(Kern)-250(space)] TJ ET",
            HELVETICA,
            &[],
        );
        assert_eq!(pdf_text(&doc).as_deref(), Some("Hello World “quoted”\nKern space"));
    }

    #[test]
    fn lines_from_td_and_tm_and_spaces_from_widths() {
        let font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 32 /LastChar 122 /Widths 6 0 R >>";
        let widths = format!("[{}]", vec!["500"; 91].join(" ")).into_bytes();
        // Words placed one by one (no space glyphs), then a new line by Tm, then by TD/T*.
        let content = b"BT /F1 10 Tf 100 700 Td (one) Tj 20 0 Td (two) Tj 1 0 0 1 100 680 Tm (three) Tj \
                        0 -14 TD (four) Tj T* (five) Tj ' ET";
        let doc = one_page(content, font, &[widths]);
        assert_eq!(pdf_text(&doc).as_deref(), Some("one two\nthree\nfour\nfive"));
    }

    #[test]
    fn garbage_and_truncated_pdfs_do_not_panic() {
        let good = one_page(b"BT /F1 12 Tf 72 700 Td (Some words here) Tj ET", HELVETICA, &[]);
        assert_eq!(pdf_text(&good).as_deref(), Some("Some words here"));
        for cut in (0..good.len()).step_by(3) {
            let _ = pdf_text(&good[..cut]);
        }
        let mut flipped = good.clone();
        for i in (0..flipped.len()).step_by(7) {
            flipped[i] ^= 0x5a;
            let _ = pdf_text(&flipped);
        }
        let mut cases: Vec<Vec<u8>> = vec![
            [b"%PDF-1.4\n1 0 obj\n".as_slice(), &b"[".repeat(200_000)].concat(),
            [b"%PDF-1.4\n1 0 obj\n".as_slice(), &b"<<".repeat(200_000)].concat(),
            [b"%PDF-1.4\n1 0 obj\n".as_slice(), &b"(".repeat(200_000)].concat(),
            [b"%PDF-1.4\n".as_slice(), &b"1 0 obj (".repeat(50_000)].concat(),
            b"%PDF-1.4\n1 0 obj << /Length 99999999999999999999 >> stream\nabc".to_vec(),
            b"%PDF-1.4\n1 0 obj 2 0 R endobj 2 0 obj 1 0 R endobj 3 0 obj << /Type /Catalog /Pages 1 0 R >> endobj".to_vec(),
            b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj 2 0 obj << /Kids [2 0 R 2 0 R] >> endobj".to_vec(),
            b"%PDF-1.4\n1 0 obj << /Type /ObjStm /N 99999999 /First 99999999 >> stream\n1 2 3\nendstream endobj".to_vec(),
            b"%PDF-1.4\n1 0 obj << /Type /Page /Contents 2 0 R >> endobj 2 0 obj << >> stream\nBT BI /W 1 ID \x00\x01 (x) Tj"
                .to_vec(),
            b"%PDF-1.4\n4294967296 0 obj << >> endobj 99999999999999999999 0 obj endobj -1 0 obj".to_vec(),
        ];
        // A form that runs itself.
        cases.push(pdf_of(&[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /XObject << /X 4 0 R >> >> >>".to_vec(),
            stream("/Type /XObject /Subtype /Form /Resources << /XObject << /X 4 0 R >> >>", b"/X Do /X Do (a) Tj"),
        ]));
        // Pseudo-random bytes around object headers.
        let mut x: u32 = 12345;
        let mut noise = b"%PDF-1.5\n".to_vec();
        for i in 0..200_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            noise.push((x >> 16) as u8);
            if i % 997 == 0 {
                noise.extend_from_slice(b" 7 0 obj << /Type /Page /Contents 7 0 R /Filter /FlateDecode >> stream\n");
            }
        }
        cases.push(noise);
        for (i, c) in cases.iter().enumerate() {
            let started = Instant::now();
            let _ = pdf_text(c);
            let _ = text_of("x.pdf", c, 1000);
            eprintln!("case {i}: {:?}", started.elapsed());
            assert!(started.elapsed() < Duration::from_secs(20), "bounded work");
        }
    }

    #[test]
    fn replayed_forms_stay_bounded() {
        // A 100 KB uncompressed form drawn 100 000 times would be 10 GB of work and text.
        let form = [b"(".as_slice(), &b"A".repeat(100_000), b") Tj"].concat();
        let doc = pdf_of(&[
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /XObject << /X 5 0 R >> >> >>".to_vec(),
            stream("/Filter /FlateDecode", &zlib(&b"/X Do ".repeat(100_000))),
            stream("/Type /XObject /Subtype /Form", &form),
        ]);
        let started = Instant::now();
        let text = pdf_text(&doc).unwrap();
        assert!(text.len() <= MAX_TEXT + form.len(), "{} bytes", text.len());
        assert!(started.elapsed() < Duration::from_secs(60));
        assert_eq!(text_of("x.pdf", &doc, 5).as_deref(), Some("AAAAA"));
    }

    /// A zlib stream that inflates to `copies` times `chunk` (chunk compressed once, repeated).
    fn bomb(chunk: &[u8], copies: usize) -> Vec<u8> {
        let mut c = flate2::Compress::new(flate2::Compression::best(), false);
        let mut part = Vec::with_capacity(chunk.len());
        c.compress_vec(chunk, &mut part, flate2::FlushCompress::Sync).unwrap();
        assert_eq!(c.total_in() as usize, chunk.len());
        let mut out = vec![0x78, 0x9c];
        for _ in 0..copies {
            out.extend_from_slice(&part);
        }
        out.extend_from_slice(&[0x03, 0x00]); // an empty final block
        out
    }

    #[test]
    fn deflate_bomb_stays_bounded() {
        // 100 MiB of zeros from ~100 KiB: the document's 64 MiB budget stops it.
        let zeros = bomb(&vec![0u8; 1 << 20], 100);
        let doc = one_page(b"", HELVETICA, &[stream("/Filter /FlateDecode", &zeros)]);
        let pdf = Pdf::load(&doc, INFLATE_BUDGET).unwrap();
        let big = pdf.objs.get(&6).map(|(_, o)| o).unwrap();
        assert_eq!(pdf.stream_data(big).map(|d| d.len()), Some(INFLATE_BUDGET));
        assert!(pdf.stream_data(big).is_none(), "the budget is spent");
        // Text through the whole pipeline with a 1 MiB budget: partial text, bounded by the budget.
        let unit = b"(AAAAAA) Tj ";
        let chunk = unit.repeat((1 << 20) / unit.len());
        let doc = one_page(b"", HELVETICA, &[]);
        let doc =
            [doc, b"4 0 obj\n".to_vec(), stream("/Filter /FlateDecode", &bomb(&chunk, 16)), b"\nendobj\n".to_vec()]
                .concat();
        let text = pdf_extract(&doc, 1 << 20, usize::MAX).unwrap();
        let a = text.chars().filter(|&c| c == 'A').count();
        assert!(a > 100_000 && a <= 1 << 20, "{a} letters");
        assert_eq!(text_of("big.pdf", &doc, 10).as_deref(), Some("AAAAAAAAAA"));
    }

    fn env_on(name: &str) -> bool {
        std::env::var(name).is_ok_and(|v| !v.trim().is_empty() && v.trim() != "0")
    }

    /// Chromium, if installed (GONGKAI_CHROMIUM, PATH, /usr/bin/chromium); missing is a
    /// failure when GONGKAI_REQUIRE_BROWSER is set.
    fn chromium() -> Option<PathBuf> {
        let mut candidates: Vec<PathBuf> =
            std::env::var_os("GONGKAI_CHROMIUM").filter(|v| !v.is_empty()).map(PathBuf::from).into_iter().collect();
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                candidates.extend(["chromium", "chromium-browser", "google-chrome"].map(|n| dir.join(n)));
            }
        }
        candidates.push("/usr/bin/chromium".into());
        let found = candidates.into_iter().find(|p| p.is_file());
        if found.is_none() {
            assert!(
                !env_on("GONGKAI_REQUIRE_BROWSER"),
                "chromium is missing but GONGKAI_REQUIRE_BROWSER is set (apt-get install chromium fonts-noto-cjk)"
            );
            eprintln!("PDF test with Chromium not run: chromium not found (apt-get install chromium fonts-noto-cjk)");
        }
        found
    }

    /// Run a command to its end, killing it after `secs`; whether it succeeded.
    fn run(cmd: &mut Command, secs: u64) -> bool {
        let Ok(mut child) = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn() else { return false };
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return false;
                }
            }
        }
    }

    #[test]
    fn chromium_printed_pdf_with_chinese_text() {
        let Some(chromium) = chromium() else { return };
        let dir = tempfile::tempdir().unwrap();
        let html = dir.path().join("guide.html");
        let out = dir.path().join("guide.pdf");
        std::fs::write(
            &html,
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>指南</title></head><body>\
             <h1>《青禾区政府信息公开指南》</h1>\
             <p>公民、法人或者其他组织可以依申请公开政府信息。</p>\
             <p>咨询电话：12345 热线。文号：青政办发〔2025〕3号</p>\
             <p>The quick brown fox jumps over the lazy dog.</p></body></html>",
        )
        .unwrap();
        let ok = run(
            Command::new(&chromium)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-pdf-header-footer",
                ])
                .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
                .arg(format!("--print-to-pdf={}", out.display()))
                .arg(format!("file://{}", html.display())),
            120,
        );
        assert!(ok && out.exists(), "{} did not print {}", chromium.display(), out.display());
        let bytes = std::fs::read(&out).unwrap();
        let text = pdf_text(&bytes).expect("text from Chromium's PDF");
        let flat = squeeze(&text);
        for want in ["《青禾区政府信息公开指南》", "依申请公开", "12345热线", "青政办发〔2025〕3号"]
        {
            assert!(flat.contains(want), "{want} not in {text:?}");
        }
        assert!(text.contains("The quick brown fox jumps over the lazy dog."), "{text:?}");
        assert_eq!(text_of("guide.pdf", &bytes, 4).as_deref(), Some("《青禾区"));
    }

    /// A ZIP archive: (name, data, deflate?).
    fn zip_of(files: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let (mut out, mut central) = (Vec::new(), Vec::new());
        for (name, data, deflate) in files {
            let body = if *deflate {
                let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            } else {
                data.to_vec()
            };
            let offset = out.len() as u32;
            let method: u16 = if *deflate { 8 } else { 0 };
            let sizes = [body.len() as u32, data.len() as u32];
            out.extend_from_slice(b"PK\x03\x04\x14\0\0\0");
            out.extend_from_slice(&method.to_le_bytes());
            out.extend_from_slice(&[0; 8]); // time, date, crc (not checked)
            sizes.iter().for_each(|s| out.extend_from_slice(&s.to_le_bytes()));
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&body);
            central.extend_from_slice(b"PK\x01\x02\x14\0\x14\0\0\0");
            central.extend_from_slice(&method.to_le_bytes());
            central.extend_from_slice(&[0; 8]);
            sizes.iter().for_each(|s| central.extend_from_slice(&s.to_le_bytes()));
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        let n = (files.len() as u16).to_le_bytes();
        out.extend_from_slice(&[n, n].concat());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(b"\x05\0zip\x50\x4b"); // a comment
        out
    }

    const DOCUMENT_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="420"/></w:tabs></w:pPr><w:r><w:t>第一段</w:t></w:r><w:r><w:t xml:space="preserve"> 依申请公开</w:t></w:r></w:p>
<w:p><w:r><w:t>A &amp; B &lt;c&gt; &#x4E2D;&#25991;</w:t><w:tab/><w:t>tab</w:t><w:br/><w:t>break</w:t><w:delText>deleted</w:delText><w:instrText>PAGE</w:instrText></w:r></w:p>
<!-- <w:t>comment</w:t> -->
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>单元格一</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>单元格二</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
</w:body></w:document>"#;

    #[test]
    fn docx_from_hand_made_zips() {
        let want = "第一段 依申请公开\nA & B <c> 中文\ttab\nbreak\n单元格一\n单元格二";
        let want = want.replace('\t', " ");
        let stored = zip_of(&[
            ("[Content_Types].xml", b"<Types/>", false),
            ("word/document.xml", DOCUMENT_XML.as_bytes(), false),
            (
                "word/footnotes.xml",
                "<w:footnotes><w:footnote><w:p><w:r><w:t>脚注</w:t></w:r></w:p></w:footnote></w:footnotes>".as_bytes(),
                false,
            ),
        ]);
        assert_eq!(docx_text(&stored).unwrap(), format!("{want}\n\n脚注"));
        let deflated =
            zip_of(&[("word/document.xml", DOCUMENT_XML.as_bytes(), true), ("docProps/app.xml", b"<x/>", true)]);
        assert_eq!(docx_text(&deflated).as_deref(), Some(want.as_str()));
        assert_eq!(text_of("通知.DOCX", &deflated, 3).as_deref(), Some("第一段"));
        // A truncated upload without its central directory: the local headers still lead to the text.
        let cut = find(&deflated, b"PK\x01\x02", 0).unwrap();
        assert_eq!(docx_text(&deflated[..cut]).as_deref(), Some(want.as_str()));
        // No main part, garbage, every truncation: None or partial text, no panic.
        assert_eq!(docx_text(&zip_of(&[("xl/workbook.xml", b"<w:t>no</w:t>", false)])), None);
        assert_eq!(docx_text(b"PK\x03\x04garbage"), None);
        for end in 0..stored.len() {
            let _ = docx_text(&stored[..end]);
        }
        // A deflate bomb in a part is cut at the budget.
        let mut budget = 1 << 20;
        let big = zip_of(&[("word/document.xml", &vec![b'a'; 4 << 20], true)]);
        let entries = zip_entries(&big);
        assert_eq!(zip_read(&big, &entries[0], &mut budget).map(|d| d.len()), Some(1 << 20));
        assert_eq!(budget, 0);
    }

    #[test]
    fn docx_from_python_docx() {
        use gongkai_kernel::testkit::checkers;
        let Some(py) = checkers::python() else { return };
        let has_docx =
            Command::new(&py).args(["-c", "import docx"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
        if !has_docx {
            assert!(
                !checkers::required(),
                "python-docx is missing from {} but GONGKAI_REQUIRE_CHECKERS is set",
                py.display()
            );
            eprintln!(
                "python-docx test not run: `import docx` fails in {} (pip install -r tools/requirements.txt)",
                py.display()
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("指南.docx");
        let script = r#"
import sys, docx
d = docx.Document()
d.add_heading("青禾区政府信息公开指南", level=1)
d.add_paragraph("公民、法人或者其他组织可以依申请公开政府信息。")
p = d.add_paragraph("咨询电话：")
p.add_run("12345").bold = True
p.add_run(" 热线 & <更多>")
t = d.add_table(rows=2, cols=2)
t.cell(0, 0).text = "文号"
t.cell(0, 1).text = "青政办发〔2025〕3号"
t.cell(1, 0).text = "English"
t.cell(1, 1).text = "The quick brown fox."
d.save(sys.argv[1])
"#;
        let status = Command::new(&py).args(["-c", script]).arg(&path).status().unwrap();
        assert!(status.success(), "python-docx could not write {}", path.display());
        let bytes = std::fs::read(&path).unwrap();
        let text = text_of("指南.docx", &bytes, 10_000).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for want in [
            "青禾区政府信息公开指南",
            "公民、法人或者其他组织可以依申请公开政府信息。",
            "咨询电话：12345 热线 & <更多>",
            "文号",
            "青政办发〔2025〕3号",
            "The quick brown fox.",
        ] {
            assert!(lines.contains(&want), "{want:?} not a line of {text:?}");
        }
    }

    #[test]
    fn html_tags_entities_scripts() {
        let html = "<!doctype html><html><head><title>标题</title><style>p { color: red }</style>\
            <script type=\"text/javascript\">var s = \"<p>not text</p>\";</SCRIPT></head>\
            <body><!-- a <p>comment</p> --><h1 class=\"x\" data-a='1>2'>政府信息公开</h1>\
            <p>A&amp;B &lt;tag&gt; &quot;q&quot; &#20013;&#x6587;&nbsp;x &unknown; 5 < 6\n   wrapped</p>\
            <table><tr><td>一</td><td>二</td></tr></table><p>a<b>b</b>c<br>d</p></body></html>";
        let text = html_text(html.as_bytes()).unwrap();
        // What a page shows (the <title> is not on the page), as item bodies are read.
        assert_eq!(text, "政府信息公开\nA&B <tag> \"q\" 中文 x &unknown; 5 < 6 wrapped\n一 二\nabc\nd");
        assert_eq!(text_of("page.HTM", html.as_bytes(), 2).as_deref(), Some("政府"));
    }

    #[test]
    fn plain_text_encodings() {
        assert_eq!(
            plain_text("\u{feff}依申请公开\r\n\r\n\r\n\r\n第二段\t\t  结束  ".as_bytes()).as_deref(),
            Some("依申请公开\n\n第二段 结束")
        );
        let utf16le: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("政府 信息".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(plain_text(&utf16le).as_deref(), Some("政府 信息"));
        let utf16be: Vec<u8> =
            [0xFE, 0xFF].into_iter().chain("公开😀".encode_utf16().flat_map(u16::to_be_bytes)).collect();
        assert_eq!(plain_text(&utf16be).as_deref(), Some("公开😀"));
        // One broken byte in a long text: lossy; mostly broken (GBK, binary): None.
        let mut almost = "有效的文本".repeat(20).into_bytes();
        almost.push(0xFF);
        assert_eq!(plain_text(&almost).map(|s| s.chars().count()), Some(100));
        assert_eq!(plain_text(&[0xD5, 0xFE, 0xB8, 0xAE, 0xD0, 0xC5, 0xCF, 0xA2]), None);
        assert_eq!(plain_text(&[0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9]), None);
        assert_eq!(plain_text(b" \n\t "), None);
        assert_eq!(text_of("a.csv", "名称,数量\n甲,1".as_bytes(), 100).as_deref(), Some("名称,数量\n甲,1"));
        assert_eq!(text_of("notes.MD", "# 标题\n\n正文".as_bytes(), 4).as_deref(), Some("# 标题"));
        assert_eq!(text_of("a.txt", "一二三四".as_bytes(), 0), None);
        assert_eq!(text_of("a.png", b"\x89PNG\r\n", 100), None);
        assert_eq!(text_of("a.doc", b"\xD0\xCF\x11\xE0", 100), None);
    }
}
