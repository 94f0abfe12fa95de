//! RSS 2.0, Atom 1.0, sitemaps and robots.txt: pure functions from data to XML text.
//!
//! The XML is written by hand (no XML dependency); every piece of caller text goes through
//! [`xml_escape`] / the attribute variant, which also drops characters XML 1.0 forbids, so a
//! title pasted from Word with a stray `\u{8}` cannot make the whole feed unparseable.
//! Times are rendered in Asia/Shanghai as the fixed offset +08:00 (China has no DST today, and
//! an offset rendering of an instant is exact whatever the zone's history).

use std::ops::Range;

use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::macros::{datetime, format_description, offset};
use time::{Date, OffsetDateTime, UtcOffset};

/// The feed-level data shared by RSS and Atom.
pub struct Channel<'a> {
    pub title: &'a str,
    /// Absolute URL of the HTML page the feed mirrors.
    pub link: &'a str,
    /// Absolute URL of this feed document.
    pub self_url: &'a str,
    pub description: &'a str,
    /// e.g. `"zh-CN"`.
    pub language: &'a str,
    /// Epoch milliseconds: the newest entry's update time, or now.
    pub updated_ms: i64,
    /// The site's 主办单位.
    pub author: &'a str,
}

pub struct Entry<'a> {
    pub title: &'a str,
    /// Absolute URL.
    pub link: &'a str,
    /// Stable id, e.g. a `tag:` URI or the link itself.
    pub id: &'a str,
    /// Plain text.
    pub summary: &'a str,
    pub published_ms: i64,
    pub updated_ms: i64,
    pub categories: &'a [&'a str],
}

pub struct SitemapUrl<'a> {
    pub loc: &'a str,
    /// `YYYY-MM-DD` (a full RFC 3339 timestamp is accepted too); anything else is omitted.
    pub lastmod: Option<&'a str>,
}

/// Maximum `<url>`s per sitemap and `<sitemap>`s per index (sitemaps.org protocol).
pub const SITEMAP_LIMIT: usize = 50_000;

const SHANGHAI: UtcOffset = offset!(+8);
const GENERATOR: &str = "gongkai";
const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

/// Range every formatter accepts: RFC 2822 needs a four-digit year >= 1900.
const MIN_MS: i64 = datetime!(1900-01-01 0:00 +8).unix_timestamp() * 1000;
const MAX_MS: i64 = datetime!(9999-12-31 23:59:59 +8).unix_timestamp() * 1000;

/// Characters allowed in XML 1.0 documents, minus C1 controls and DEL (allowed but
/// "discouraged", never meaningful in page text, and rejected by some readers).
fn is_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

fn push_escaped(out: &mut String, s: &str, attr: bool) {
    for c in s.chars().filter(|&c| is_allowed(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Parsers normalise a raw CR to LF, and whitespace in attributes to spaces;
            // character references survive both.
            '\r' => out.push_str("&#13;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

/// Escapes `s` for XML character data: `& < > " '` become entity references and characters
/// XML 1.0 forbids (controls other than tab/LF/CR, U+FFFE, U+FFFF) are dropped.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s, false);
    out
}

/// Like [`xml_escape`], but also keeps tab/LF intact inside attribute values.
fn xml_escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s, true);
    out
}

/// Plain text as HTML: RSS readers treat `<description>` as HTML, so plain text must be
/// HTML-escaped before it is XML-escaped, or a summary saying `<script>` would become markup.
fn html_escape(s: &str) -> String {
    gongkai_cms::html::escape(s)
}

/// Appends `<name>text</name>` (with a trailing newline).
fn element(out: &mut String, indent: &str, name: &str, text: &str) {
    out.push_str(indent);
    out.push('<');
    out.push_str(name);
    out.push('>');
    push_escaped(out, text, false);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// Epoch ms as a whole-second instant at +08:00, clamped to years 1900..=9999 so that
/// formatting cannot fail on absurd input.
fn shanghai(ms: i64) -> OffsetDateTime {
    let secs = ms.clamp(MIN_MS, MAX_MS).div_euclid(1000);
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH).to_offset(SHANGHAI)
}

/// RFC 822/2822 date as RSS wants it, e.g. `Fri, 01 Mar 2024 20:34:56 +0800`.
pub fn rfc2822(ms: i64) -> String {
    shanghai(ms).format(&Rfc2822).unwrap_or_else(|_| "Thu, 01 Jan 1970 08:00:00 +0800".to_owned())
}

/// RFC 3339 timestamp as Atom wants it, e.g. `2024-03-01T20:34:56+08:00`.
pub fn rfc3339(ms: i64) -> String {
    shanghai(ms).format(&Rfc3339).unwrap_or_else(|_| "1970-01-01T08:00:00+08:00".to_owned())
}

/// `YYYY-MM-DD` in +08:00, the form [`SitemapUrl::lastmod`] expects.
pub fn sitemap_date(ms: i64) -> String {
    let d = shanghai(ms).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// RSS 2.0 document. `<title>` is emitted as plain text (XML-escaped once, as readers expect);
/// `<description>` is HTML by RSS convention, so the plain-text summary is HTML-escaped first.
pub fn rss(ch: &Channel, entries: &[Entry]) -> String {
    let mut out = String::with_capacity(1024 + entries.len() * 512);
    out.push_str(XML_DECL);
    out.push_str(
        "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n",
    );
    element(&mut out, "  ", "title", ch.title);
    element(&mut out, "  ", "link", ch.link);
    // <description> is required; an empty one is legal but useless to readers.
    let description = if ch.description.trim().is_empty() { ch.title } else { ch.description };
    element(&mut out, "  ", "description", &html_escape(description));
    if !ch.language.is_empty() {
        element(&mut out, "  ", "language", ch.language);
    }
    element(&mut out, "  ", "lastBuildDate", &rfc2822(ch.updated_ms));
    element(&mut out, "  ", "generator", GENERATOR);
    if !ch.author.is_empty() {
        // RSS 2.0's own author fields require an e-mail address; the 主办单位 is a publisher.
        element(&mut out, "  ", "dc:publisher", ch.author);
    }
    out.push_str("  <atom:link rel=\"self\" type=\"application/rss+xml\" href=\"");
    out.push_str(&xml_escape_attr(ch.self_url));
    out.push_str("\"/>\n");
    for e in entries {
        out.push_str("  <item>\n");
        element(&mut out, "    ", "title", e.title);
        element(&mut out, "    ", "link", e.link);
        let guid = if e.id.is_empty() { e.link } else { e.id };
        out.push_str("    <guid isPermaLink=\"");
        out.push_str(if guid == e.link { "true" } else { "false" });
        out.push_str("\">");
        push_escaped(&mut out, guid, false);
        out.push_str("</guid>\n");
        element(&mut out, "    ", "description", &html_escape(e.summary));
        element(&mut out, "    ", "pubDate", &rfc2822(e.published_ms));
        for c in e.categories.iter().filter(|c| !c.trim().is_empty()) {
            element(&mut out, "    ", "category", c);
        }
        out.push_str("  </item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// Atom 1.0 (RFC 4287) document. Title and summary are `type="text"`, so readers show them
/// literally. The feed's `<updated>` is the newest of `ch.updated_ms` and every entry's update.
pub fn atom(ch: &Channel, entries: &[Entry]) -> String {
    let mut out = String::with_capacity(1024 + entries.len() * 640);
    out.push_str(XML_DECL);
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\"");
    if !ch.language.is_empty() {
        out.push_str(" xml:lang=\"");
        out.push_str(&xml_escape_attr(ch.language));
        out.push('"');
    }
    out.push_str(">\n");
    element(&mut out, "  ", "id", if ch.self_url.is_empty() { ch.link } else { ch.self_url });
    out.push_str("  <title type=\"text\">");
    push_escaped(&mut out, ch.title, false);
    out.push_str("</title>\n");
    if !ch.description.trim().is_empty() {
        out.push_str("  <subtitle type=\"text\">");
        push_escaped(&mut out, ch.description, false);
        out.push_str("</subtitle>\n");
    }
    let updated = entries.iter().map(|e| e.updated_ms).fold(ch.updated_ms, i64::max);
    element(&mut out, "  ", "updated", &rfc3339(updated));
    push_link(&mut out, "  ", "alternate", "text/html", ch.link);
    push_link(&mut out, "  ", "self", "application/atom+xml", ch.self_url);
    // RFC 4287 requires an author on the feed (or on every entry); name must not be empty.
    let author = if ch.author.trim().is_empty() { ch.title } else { ch.author };
    out.push_str("  <author>\n");
    element(&mut out, "    ", "name", author);
    out.push_str("  </author>\n");
    element(&mut out, "  ", "generator", GENERATOR);
    for e in entries {
        out.push_str("  <entry>\n");
        element(&mut out, "    ", "id", if e.id.is_empty() { e.link } else { e.id });
        out.push_str("    <title type=\"text\">");
        push_escaped(&mut out, e.title, false);
        out.push_str("</title>\n");
        push_link(&mut out, "    ", "alternate", "text/html", e.link);
        element(&mut out, "    ", "published", &rfc3339(e.published_ms));
        element(&mut out, "    ", "updated", &rfc3339(e.updated_ms));
        out.push_str("    <summary type=\"text\">");
        push_escaped(&mut out, e.summary, false);
        out.push_str("</summary>\n");
        for c in e.categories.iter().filter(|c| !c.trim().is_empty()) {
            out.push_str("    <category term=\"");
            out.push_str(&xml_escape_attr(c));
            out.push_str("\"/>\n");
        }
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

fn push_link(out: &mut String, indent: &str, rel: &str, ty: &str, href: &str) {
    out.push_str(indent);
    out.push_str("<link rel=\"");
    out.push_str(rel);
    out.push_str("\" type=\"");
    out.push_str(ty);
    out.push_str("\" href=\"");
    push_escaped(out, href, true);
    out.push_str("\"/>\n");
}

/// Whether `s` is a W3C datetime the sitemap protocol accepts (date or full timestamp).
fn valid_lastmod(s: &str) -> bool {
    Date::parse(s, format_description!("[year]-[month]-[day]")).is_ok() || OffsetDateTime::parse(s, &Rfc3339).is_ok()
}

/// Shared body of `<urlset>` and `<sitemapindex>`. Entries past [`SITEMAP_LIMIT`] are dropped
/// because search engines reject the whole file otherwise; callers split with
/// [`sitemap_page_range`].
fn sitemap_doc(root: &str, item: &str, urls: &[SitemapUrl]) -> String {
    let urls = &urls[..urls.len().min(SITEMAP_LIMIT)];
    let mut out = String::with_capacity(128 + urls.len() * 128);
    out.push_str(XML_DECL);
    out.push('<');
    out.push_str(root);
    out.push_str(" xmlns=\"");
    out.push_str(SITEMAP_NS);
    out.push_str("\">\n");
    for u in urls {
        out.push_str("  <");
        out.push_str(item);
        out.push_str(">\n");
        element(&mut out, "    ", "loc", u.loc);
        if let Some(lastmod) = u.lastmod.filter(|s| valid_lastmod(s)) {
            element(&mut out, "    ", "lastmod", lastmod);
        }
        out.push_str("  </");
        out.push_str(item);
        out.push_str(">\n");
    }
    out.push_str("</");
    out.push_str(root);
    out.push_str(">\n");
    out
}

/// `<urlset>` per sitemaps.org 0.9; at most [`SITEMAP_LIMIT`] URLs are written.
pub fn sitemap(urls: &[SitemapUrl]) -> String {
    sitemap_doc("urlset", "url", urls)
}

/// `<sitemapindex>` listing sitemap files; at most [`SITEMAP_LIMIT`] entries are written.
pub fn sitemap_index(sitemaps: &[SitemapUrl]) -> String {
    sitemap_doc("sitemapindex", "sitemap", sitemaps)
}

/// How many sitemap files `total` URLs need; at least one, so an empty site still serves a
/// valid (empty) sitemap.
pub fn sitemap_pages(total: usize) -> usize {
    total.div_ceil(SITEMAP_LIMIT).max(1)
}

/// The slice of `total` URLs that 1-based sitemap `page` holds, or `None` if there is no such
/// page (so a handler can answer 404).
pub fn sitemap_page_range(total: usize, page: usize) -> Option<Range<usize>> {
    if page == 0 || page > sitemap_pages(total) {
        return None;
    }
    let start = (page - 1) * SITEMAP_LIMIT;
    Some(start..total.min(start + SITEMAP_LIMIT))
}

/// Drops every control character (CR/LF included) so caller text cannot start a new
/// robots.txt line, and trims the ends.
fn robots_value(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned()
}

/// robots.txt allowing everything except `disallow` (path prefixes), pointing at the sitemap.
pub fn robots(sitemap_url: &str, disallow: &[&str]) -> String {
    let mut out = String::from("User-agent: *\n");
    let paths: Vec<String> = disallow.iter().map(|p| robots_value(p)).filter(|p| !p.is_empty()).collect();
    if paths.is_empty() {
        // An empty Disallow means "nothing is disallowed"; the original spec wants one per group.
        out.push_str("Disallow:\n");
    }
    for p in paths {
        out.push_str("Disallow: ");
        out.push_str(&p);
        out.push('\n');
    }
    let sitemap_url = robots_value(sitemap_url);
    if !sitemap_url.is_empty() {
        out.push_str("\nSitemap: ");
        out.push_str(&sitemap_url);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const XSS: &str = "<script>alert(1)</script>";

    fn channel() -> Channel<'static> {
        Channel {
            title: "某某区人民政府 — 通知公告",
            link: "https://www.example.gov.cn/tzgg/",
            self_url: "https://www.example.gov.cn/tzgg/feed.xml",
            description: "通知公告栏目的最新信息",
            language: "zh-CN",
            updated_ms: 1_709_296_496_789,
            author: "某某区人民政府办公室",
        }
    }

    fn entry<'a>(title: &'a str, link: &'a str, categories: &'a [&'a str]) -> Entry<'a> {
        Entry {
            title,
            link,
            id: link,
            summary: "摘要",
            published_ms: 1_709_296_496_000,
            updated_ms: 1_709_296_496_000,
            categories,
        }
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(xml_escape(XSS), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(xml_escape("\"&'"), "&quot;&amp;&apos;");
        assert_eq!(xml_escape("a]]>b"), "a]]&gt;b");
        assert_eq!(xml_escape("中文\t换行\n"), "中文\t换行\n");
        assert_eq!(xml_escape("a\r\nb"), "a&#13;\nb");
        assert_eq!(xml_escape_attr("a\tb\nc"), "a&#9;b&#10;c");

        let cats = ["\"&'", XSS];
        let es = [Entry { summary: XSS, ..entry(XSS, "https://e.gov.cn/a?x=1&y=\"2\"", &cats) }];
        let ch = Channel { title: "\"&'", author: XSS, ..channel() };
        for doc in [rss(&ch, &es), atom(&ch, &es)] {
            assert!(!doc.contains("<script"), "{doc}");
            assert!(!doc.contains("&y=\""), "{doc}");
            assert!(doc.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{doc}");
            assert!(doc.contains("&quot;&amp;&apos;"), "{doc}");
            assert!(doc.contains("https://e.gov.cn/a?x=1&amp;y=&quot;2&quot;"), "{doc}");
        }
        // RSS descriptions are HTML, so the plain-text summary is escaped twice.
        assert!(rss(&ch, &es).contains("<description>&amp;lt;script&amp;gt;"));
        assert!(atom(&ch, &es).contains("<summary type=\"text\">&lt;script&gt;"));
    }

    #[test]
    fn strips_characters_xml_forbids() {
        assert_eq!(xml_escape("a\u{8}b\u{0}c\u{1B}d\u{7F}e\u{85}f\u{FFFE}g\u{FFFF}h"), "abcdefgh");
        assert_eq!(xml_escape("emoji 😀 and \u{E000}"), "emoji 😀 and \u{E000}");
        let es = [entry("标题\u{8}一", "https://e.gov.cn/1", &["分类\u{1}"])];
        let ch = Channel { title: "频道\u{C}", ..channel() };
        for doc in [rss(&ch, &es), atom(&ch, &es)] {
            assert!(!doc.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')), "{doc:?}");
            assert!(doc.contains("标题一") && doc.contains("频道<") && doc.contains("分类"), "{doc}");
        }
        assert_eq!(sitemap(&[SitemapUrl { loc: "https://e.gov.cn/\u{2}x", lastmod: None }]).matches("/x<").count(), 1);
    }

    #[test]
    fn dates_are_rendered_in_shanghai_time() {
        // 2024-03-01T12:34:56.789Z, a Friday.
        assert_eq!(rfc2822(1_709_296_496_789), "Fri, 01 Mar 2024 20:34:56 +0800");
        assert_eq!(rfc3339(1_709_296_496_789), "2024-03-01T20:34:56+08:00");
        // 2023-12-31T20:00:00Z is already Monday 1 January 2024 in Beijing.
        assert_eq!(rfc2822(1_704_052_800_000), "Mon, 01 Jan 2024 04:00:00 +0800");
        assert_eq!(rfc3339(1_704_052_800_000), "2024-01-01T04:00:00+08:00");
        // Midnight in Beijing is 16:00 UTC the day before.
        assert_eq!(sitemap_date(1_704_038_399_999), "2023-12-31");
        assert_eq!(sitemap_date(1_704_038_400_000), "2024-01-01");
        // Negative ms round down, not toward zero.
        assert_eq!(rfc3339(-1), "1970-01-01T07:59:59+08:00");
        // Absurd inputs clamp instead of failing.
        assert_eq!(rfc2822(i64::MIN), "Mon, 01 Jan 1900 00:00:00 +0800");
        assert_eq!(rfc3339(i64::MAX), "9999-12-31T23:59:59+08:00");

        let doc = rss(&channel(), &[entry("t", "https://e.gov.cn/1", &[])]);
        assert!(doc.contains("<lastBuildDate>Fri, 01 Mar 2024 20:34:56 +0800</lastBuildDate>"), "{doc}");
        assert!(doc.contains("<pubDate>Fri, 01 Mar 2024 20:34:56 +0800</pubDate>"), "{doc}");
        // The feed's <updated> is never older than its newest entry.
        let newer = Entry { updated_ms: 1_709_300_000_000, ..entry("t", "https://e.gov.cn/1", &[]) };
        let doc = atom(&channel(), &[newer]);
        assert!(doc.contains("  <updated>2024-03-01T21:33:20+08:00</updated>\n  <link"), "{doc}");
    }

    #[test]
    fn empty_feeds_are_complete() {
        let r = rss(&channel(), &[]);
        assert!(r.starts_with(XML_DECL) && r.ends_with("</channel>\n</rss>\n"), "{r}");
        for needle in ["<title>", "<link>", "<description>", "<lastBuildDate>", "rel=\"self\""] {
            assert!(r.contains(needle), "{needle} missing: {r}");
        }
        assert!(!r.contains("<item>"));

        let a = atom(&channel(), &[]);
        assert!(a.contains("<id>https://www.example.gov.cn/tzgg/feed.xml</id>"), "{a}");
        assert!(a.contains("<updated>2024-03-01T20:34:56+08:00</updated>"), "{a}");
        assert!(a.contains("<name>某某区人民政府办公室</name>"), "{a}");
        assert!(a.contains("xml:lang=\"zh-CN\""), "{a}");
        assert!(!a.contains("<entry>"));

        // No author: the feed still names one (RFC 4287 requires it).
        let a = atom(&Channel { author: "", ..channel() }, &[]);
        assert!(a.contains("<name>某某区人民政府 — 通知公告</name>"), "{a}");

        let s = sitemap(&[]);
        assert_eq!(s, format!("{XML_DECL}<urlset xmlns=\"{SITEMAP_NS}\">\n</urlset>\n"));
    }

    #[test]
    fn guid_is_permalink_only_for_the_link() {
        let by_link = entry("t", "https://e.gov.cn/1", &[]);
        let by_tag = Entry { id: "tag:e.gov.cn,2024:item/1", ..entry("t", "https://e.gov.cn/1", &[]) };
        let doc = rss(&channel(), &[by_link, by_tag]);
        assert!(doc.contains("<guid isPermaLink=\"true\">https://e.gov.cn/1</guid>"), "{doc}");
        assert!(doc.contains("<guid isPermaLink=\"false\">tag:e.gov.cn,2024:item/1</guid>"), "{doc}");
    }

    #[test]
    fn sitemap_limits() {
        assert_eq!(sitemap_pages(0), 1);
        assert_eq!(sitemap_pages(1), 1);
        assert_eq!(sitemap_pages(SITEMAP_LIMIT), 1);
        assert_eq!(sitemap_pages(SITEMAP_LIMIT + 1), 2);
        assert_eq!(sitemap_pages(3 * SITEMAP_LIMIT), 3);
        assert_eq!(sitemap_page_range(0, 1), Some(0..0));
        assert_eq!(sitemap_page_range(10, 1), Some(0..10));
        assert_eq!(sitemap_page_range(SITEMAP_LIMIT + 1, 1), Some(0..SITEMAP_LIMIT));
        assert_eq!(sitemap_page_range(SITEMAP_LIMIT + 1, 2), Some(SITEMAP_LIMIT..SITEMAP_LIMIT + 1));
        assert_eq!(sitemap_page_range(SITEMAP_LIMIT + 1, 3), None);
        assert_eq!(sitemap_page_range(10, 0), None);

        let locs: Vec<String> = (0..=SITEMAP_LIMIT).map(|i| format!("https://e.gov.cn/{i}")).collect();
        let urls: Vec<SitemapUrl> = locs.iter().map(|l| SitemapUrl { loc: l, lastmod: None }).collect();
        let doc = sitemap(&urls);
        assert_eq!(doc.matches("<url>").count(), SITEMAP_LIMIT);
        assert!(doc.contains("/49999</loc>") && !doc.contains("/50000</loc>"));
        assert_eq!(sitemap_index(&urls).matches("<sitemap>").count(), SITEMAP_LIMIT);
    }

    #[test]
    fn sitemap_lastmod_is_validated() {
        let urls = [
            SitemapUrl { loc: "https://e.gov.cn/a?b=1&c=2", lastmod: Some("2024-03-01") },
            SitemapUrl { loc: "https://e.gov.cn/b", lastmod: Some("2024-03-01T20:34:56+08:00") },
            SitemapUrl { loc: "https://e.gov.cn/c", lastmod: Some("2024-13-01") },
            SitemapUrl { loc: "https://e.gov.cn/d", lastmod: Some("</lastmod><x>") },
        ];
        let doc = sitemap(&urls);
        assert!(doc.contains("<loc>https://e.gov.cn/a?b=1&amp;c=2</loc>\n    <lastmod>2024-03-01</lastmod>"), "{doc}");
        assert!(doc.contains("<lastmod>2024-03-01T20:34:56+08:00</lastmod>"), "{doc}");
        assert_eq!(doc.matches("<lastmod>").count(), 2, "{doc}");
        let idx = sitemap_index(&urls[..1]);
        assert!(idx.contains("<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n  <sitemap>\n"));
    }

    #[test]
    fn robots_lines_cannot_be_injected() {
        assert_eq!(
            robots("https://e.gov.cn/sitemap.xml", &["/admin/", " /preview/ ", "", "/x\nAllow: /secret"]),
            "User-agent: *\nDisallow: /admin/\nDisallow: /preview/\nDisallow: /xAllow: /secret\n\n\
             Sitemap: https://e.gov.cn/sitemap.xml\n"
        );
        assert_eq!(robots("", &[]), "User-agent: *\nDisallow:\n");
    }

    /// Feeds and sitemaps parsed by independent tools: Python feedparser (the parser behind
    /// many readers) and xml.etree.
    #[test]
    fn outside_parsers_accept_the_output() {
        use std::path::{Path, PathBuf};
        use std::process::Command;

        let require = std::env::var("GONGKAI_REQUIRE_CHECKERS").as_deref() == Ok("1");
        let skip = |why: String| {
            assert!(!require, "GONGKAI_REQUIRE_CHECKERS=1 but {why}");
            eprintln!("skipping feeds outside check: {why}");
        };
        let python: PathBuf = match std::env::var_os("GONGKAI_PYTHON").filter(|p| !p.is_empty()) {
            Some(p) => p.into(),
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/.venv/bin/python"),
        };
        match Command::new(&python).args(["-c", "import feedparser"]).output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                return skip(format!(
                    "{} cannot import feedparser: {}",
                    python.display(),
                    String::from_utf8_lossy(&o.stderr)
                ));
            }
            Err(e) => return skip(format!("no Python interpreter at {}: {e}", python.display())),
        }

        let cats: &[&str] = &["通知公告", "\"&'"];
        let raw_titles = ["关于2024年春节放假安排的通知", XSS, "含控制字符\u{8}的标题", "\"引号\" & '撇号'"];
        let links = [
            "https://www.example.gov.cn/tzgg/1.html",
            "https://www.example.gov.cn/tzgg/2.html?a=1&b=2",
            "https://www.example.gov.cn/tzgg/3.html",
            "https://www.example.gov.cn/tzgg/4.html",
        ];
        let summaries = ["春节放假七天。", XSS, "a < b && c > d", "摘要\u{1}"];
        let entries: Vec<Entry> = (0..4)
            .map(|i| Entry {
                title: raw_titles[i],
                link: links[i],
                id: if i == 3 { "tag:www.example.gov.cn,2024:item/4" } else { links[i] },
                summary: summaries[i],
                published_ms: 1_704_052_800_000 + i as i64 * 86_400_000,
                updated_ms: 1_704_052_800_000 + i as i64 * 86_400_000 + 3_600_000,
                categories: cats,
            })
            .collect();
        let ch = channel();
        let smaps =
            [SitemapUrl { loc: links[0], lastmod: Some("2024-01-01") }, SitemapUrl { loc: links[1], lastmod: None }];

        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, body: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, body).expect("write");
            p
        };
        let script = write("check.py", CHECK_PY);
        let files = [
            write("feed.rss", &rss(&ch, &entries)),
            write("feed.atom", &atom(&ch, &entries)),
            write("sitemap.xml", &sitemap(&smaps)),
            write("sitemap_index.xml", &sitemap_index(&smaps)),
            write("empty.rss", &rss(&ch, &[])),
            write("empty.atom", &atom(&ch, &[])),
        ];
        let out = Command::new(&python).arg(&script).args(&files).output().expect("run python");
        assert!(out.status.success(), "check.py failed: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("check.py JSON");

        let stripped = |s: &str| s.replace(['\u{8}', '\u{1}'], "");
        for (kind, version) in [("rss", "rss20"), ("atom", "atom10")] {
            let f = &v[kind];
            assert_eq!(f["bozo"], 0, "{kind}: {}", f["bozo_exception"]);
            assert_eq!(f["version"], version);
            assert_eq!(f["title"], ch.title, "{kind}");
            assert_eq!(f["link"], ch.link, "{kind}");
            assert_eq!(f["updated"], ch.updated_ms / 1000, "{kind}");
            let self_link = f["links"].as_array().unwrap().iter().find(|l| l["rel"] == "self").cloned();
            assert_eq!(self_link.map(|l| l["href"].clone()), Some(ch.self_url.into()), "{kind}");
            let got = f["entries"].as_array().unwrap();
            assert_eq!(got.len(), entries.len(), "{kind}");
            for (g, e) in got.iter().zip(&entries) {
                assert_eq!(g["title"], stripped(e.title), "{kind}");
                assert_eq!(g["link"], e.link, "{kind}");
                assert_eq!(g["id"], e.id, "{kind}");
                assert_eq!(g["summary_text"], stripped(e.summary), "{kind}");
                assert_eq!(g["published"], e.published_ms / 1000, "{kind}");
                assert_eq!(g["tags"], serde_json::json!(cats), "{kind}");
                if kind == "atom" {
                    assert_eq!(g["updated"], e.updated_ms / 1000);
                    assert_eq!(g["title_type"], "text/plain");
                }
            }
            let empty = &v[&format!("empty_{kind}")];
            assert_eq!(empty["bozo"], 0, "empty {kind}: {}", empty["bozo_exception"]);
            assert_eq!(empty["entries"].as_array().map(Vec::len), Some(0));
            assert_eq!(empty["title"], ch.title);
        }
        assert_eq!(v["rss"]["publisher"], ch.author);
        assert_eq!(v["atom"]["author"], ch.author);
        assert_eq!(v["rss"]["language"], "zh-CN");
        assert_eq!(v["atom"]["language"], "zh-CN");

        let expect = |root: &str, item: &str| {
            serde_json::json!({
                "root": format!("{{{SITEMAP_NS}}}{root}"),
                "items": [
                    {"tag": format!("{{{SITEMAP_NS}}}{item}"), "loc": links[0], "lastmod": "2024-01-01"},
                    {"tag": format!("{{{SITEMAP_NS}}}{item}"), "loc": links[1], "lastmod": null},
                ],
            })
        };
        assert_eq!(v["sitemap"], expect("urlset", "url"));
        assert_eq!(v["sitemap_index"], expect("sitemapindex", "sitemap"));
    }

    /// Prints one JSON object describing how the outside parsers read each file.
    const CHECK_PY: &str = r#"
import calendar, html, json, sys
import xml.etree.ElementTree as ET
import feedparser

def ts(t):
    return calendar.timegm(t) if t else None

def feed(path):
    d = feedparser.parse(path)
    f = d.feed
    def entry(e):
        summary = e.get("summary")
        stype = e.get("summary_detail", {}).get("type")
        # RSS descriptions are HTML; reduce to the text a reader displays.
        text = html.unescape(summary) if summary is not None and stype == "text/html" else summary
        return {
            "title": e.get("title"), "title_type": e.get("title_detail", {}).get("type"),
            "link": e.get("link"), "id": e.get("id"), "summary_text": text,
            "published": ts(e.get("published_parsed")), "updated": ts(e.get("updated_parsed")),
            "tags": [t.get("term") for t in e.get("tags", [])],
        }
    return {
        "bozo": int(bool(d.bozo)), "bozo_exception": repr(d.get("bozo_exception")), "version": d.version,
        "title": f.get("title"), "link": f.get("link"), "language": f.get("language"),
        "updated": ts(f.get("updated_parsed")), "author": f.get("author"), "publisher": f.get("publisher"),
        "links": [{"rel": l.get("rel"), "href": l.get("href")} for l in f.get("links", [])],
        "entries": [entry(e) for e in d.entries],
    }

def sitemap(path):
    root = ET.parse(path).getroot()
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    items = []
    for child in root:
        locs = child.findall(ns + "loc")
        assert len(locs) == 1, "exactly one loc per entry"
        lastmods = child.findall(ns + "lastmod")
        assert len(lastmods) <= 1
        assert {c.tag for c in child} <= {ns + "loc", ns + "lastmod"}, [c.tag for c in child]
        items.append({"tag": child.tag, "loc": locs[0].text,
                      "lastmod": lastmods[0].text if lastmods else None})
    return {"root": root.tag, "items": items}

rss, atom, sm, smi, erss, eatom = sys.argv[1:7]
print(json.dumps({
    "rss": feed(rss), "atom": feed(atom), "sitemap": sitemap(sm), "sitemap_index": sitemap(smi),
    "empty_rss": feed(erss), "empty_atom": feed(eatom),
}, ensure_ascii=False))
"#;
}
