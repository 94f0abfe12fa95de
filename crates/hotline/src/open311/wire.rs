//! What goes over the wire: an ordered value tree written as JSON or as GeoReport v2 XML
//! (the root and item element names come from the endpoint, nested lists are named by
//! the singular of their field), the spec's error arrays, and its datetimes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::ser::{SerializeMap, SerializeSeq};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, macros::format_description};

use gongkai_kernel::clock::{local_to_ms, ms_to_local};

/// The response format, from the URL's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// `services.json` → (`services`, Json). None when the suffix is neither.
    pub fn split(file: &str) -> Option<(&str, Format)> {
        let (stem, ext) = file.rsplit_once('.')?;
        let f = match ext {
            "json" => Format::Json,
            "xml" => Format::Xml,
            _ => return None,
        };
        (!stem.is_empty()).then_some((stem, f))
    }
    /// The format a failure is reported in when the suffix is unreadable: XML if the path
    /// asks for it, JSON otherwise.
    pub fn guess(path: &str) -> Format {
        if path.ends_with(".xml") { Format::Xml } else { Format::Json }
    }
}

/// A value in field order (GeoReport XML is read by element order by some clients).
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    Obj(Vec<(&'static str, V)>),
    List(Vec<V>),
}

impl V {
    pub fn s(v: impl Into<String>) -> V {
        V::Str(v.into())
    }
    /// A string, or null when empty (optional fields).
    pub fn opt(v: &str) -> V {
        if v.is_empty() { V::Null } else { V::Str(v.to_string()) }
    }
    pub fn time(ms: Option<i64>) -> V {
        ms.map(|m| V::Str(iso(m))).unwrap_or(V::Null)
    }
}

impl serde::Serialize for V {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            V::Null => s.serialize_none(),
            V::Bool(b) => s.serialize_bool(*b),
            V::Int(i) => s.serialize_i64(*i),
            V::Num(n) if n.is_finite() => s.serialize_f64(*n),
            V::Num(_) => s.serialize_none(),
            V::Str(t) => s.serialize_str(t),
            V::Obj(fields) => {
                let mut m = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            V::List(items) => {
                let mut q = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    q.serialize_element(v)?;
                }
                q.end()
            }
        }
    }
}

/// The element name of one item of a list field.
fn singular(name: &str) -> &str {
    match name {
        "attributes" => "attribute",
        "values" => "value",
        "endpoints" => "endpoint",
        "formats" => "format",
        "errors" => "error",
        "services" => "service",
        "service_requests" => "request",
        "service_request_updates" => "request_update",
        other => other.strip_suffix('s').unwrap_or(other),
    }
}

fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all are dropped rather than breaking the document.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

fn write_el(out: &mut String, name: &str, v: &V) {
    match v {
        V::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        V::Obj(fields) => {
            out.push_str(&format!("<{name}>"));
            for (k, x) in fields {
                write_el(out, k, x);
            }
            out.push_str(&format!("</{name}>"));
        }
        V::List(items) => {
            out.push_str(&format!("<{name}>"));
            let item = singular(name);
            for x in items {
                write_el(out, item, x);
            }
            out.push_str(&format!("</{name}>"));
        }
        scalar => {
            out.push_str(&format!("<{name}>"));
            match scalar {
                V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                V::Int(i) => out.push_str(&i.to_string()),
                V::Num(n) if n.is_finite() => out.push_str(&n.to_string()),
                V::Str(t) => escape(out, t),
                _ => {}
            }
            out.push_str(&format!("</{name}>"));
        }
    }
}

/// The XML document: `root` holds the value's fields (an object) or its items, each
/// named `item` (a list).
pub fn to_xml(root: &str, item: &str, v: &V) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    match v {
        V::List(items) => {
            out.push_str(&format!("<{root}>"));
            for x in items {
                write_el(&mut out, item, x);
            }
            out.push_str(&format!("</{root}>"));
        }
        other => write_el(&mut out, root, other),
    }
    out.push('\n');
    out
}

pub const JSON_TYPE: &str = "application/json; charset=utf-8";
pub const XML_TYPE: &str = "text/xml; charset=utf-8";

/// A response in the requested format. `root`/`item` name the XML elements.
pub fn respond(status: StatusCode, f: Format, root: &str, item: &str, v: &V) -> Response {
    let (ct, body) = match f {
        Format::Json => (JSON_TYPE, serde_json::to_string(v).unwrap_or_else(|_| "[]".into())),
        Format::Xml => (XML_TYPE, to_xml(root, item, v)),
    };
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

/// The spec's error array: `[{"code": 400, "description": "…"}]`, `<errors><error>…`.
pub fn errors(status: StatusCode, f: Format, descriptions: &[String]) -> Response {
    let items = descriptions
        .iter()
        .map(|d| V::Obj(vec![("code", V::Int(i64::from(status.as_u16()))), ("description", V::s(d.clone()))]))
        .collect();
    respond(status, f, "errors", "error", &V::List(items))
}

pub fn error(status: StatusCode, f: Format, description: impl Into<String>) -> Response {
    errors(status, f, &[description.into()])
}

/// A failure to be answered with the spec's error array (small, unlike a `Response`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    pub status: StatusCode,
    pub format: Format,
    pub descriptions: Vec<String>,
}

impl Fail {
    pub fn one(status: StatusCode, format: Format, description: impl Into<String>) -> Fail {
        Fail { status, format, descriptions: vec![description.into()] }
    }
    pub fn many(status: StatusCode, format: Format, descriptions: Vec<String>) -> Fail {
        Fail { status, format, descriptions }
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        errors(self.status, self.format, &self.descriptions)
    }
}

/// ISO 8601 with the +08:00 offset, to the second: `2026-11-28T09:20:00+08:00`.
pub fn iso(ms: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+08:00");
    ms_to_local(ms).format(fmt).unwrap_or_default()
}

/// Which end of a day a date-only value stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEnd {
    Start,
    End,
}

/// A W3C/ISO 8601 datetime from a query (`2026-01-01T00:00:00Z`, `…+08:00`, with or
/// without fractions), a local one without a zone, or a bare date (its start or end).
/// A '+' in the offset often arrives decoded as a space; it is put back.
pub fn parse_datetime(s: &str, end: DayEnd) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 40 {
        return None;
    }
    let fixed: String = match s.find('T') {
        Some(t) => format!("{}{}", &s[..t], s[t..].replace(' ', "+")),
        None => s.to_string(),
    };
    if let Ok(dt) = OffsetDateTime::parse(&fixed, &Rfc3339) {
        return Some((dt.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let local = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    if let Ok(dt) = PrimitiveDateTime::parse(&fixed, local) {
        return Some(local_to_ms(dt));
    }
    let local_min = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    if let Ok(dt) = PrimitiveDateTime::parse(&fixed, local_min) {
        return Some(local_to_ms(dt));
    }
    let day = Date::parse(&fixed, format_description!("[year]-[month]-[day]")).ok()?;
    let start = local_to_ms(PrimitiveDateTime::new(day, Time::MIDNIGHT));
    Some(match end {
        DayEnd::Start => start,
        DayEnd::End => start + 86_400_000 - 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_names_nested_lists_by_their_singular() {
        let v = V::Obj(vec![
            ("service_code", V::s("cs.light")),
            (
                "attributes",
                V::List(vec![V::Obj(vec![
                    ("code", V::s("pole")),
                    ("values", V::List(vec![V::Obj(vec![("key", V::s("a&b")), ("name", V::s("<甲>"))])])),
                    ("order", V::Null),
                ])]),
            ),
        ]);
        let x = to_xml("service_definition", "", &v);
        assert!(x.contains("<service_definition><service_code>cs.light</service_code><attributes><attribute><code>pole</code><values><value><key>a&amp;b</key><name>&lt;甲&gt;</name></value></values><order/></attribute></attributes></service_definition>"), "{x}");
        let list = to_xml("services", "service", &V::List(vec![V::Obj(vec![("metadata", V::Bool(true))])]));
        assert!(list.contains("<services><service><metadata>true</metadata></service></services>"), "{list}");
        let json = serde_json::to_string(&v).unwrap();
        assert!(json.starts_with("{\"service_code\":\"cs.light\",\"attributes\""), "field order kept: {json}");
    }

    #[test]
    fn datetimes_are_written_with_the_offset_and_read_in_every_usual_form() {
        let ms = parse_datetime("2026-11-28T09:20:00+08:00", DayEnd::Start).unwrap();
        assert_eq!(iso(ms), "2026-11-28T09:20:00+08:00");
        assert_eq!(parse_datetime("2026-11-28T01:20:00Z", DayEnd::Start), Some(ms));
        assert_eq!(parse_datetime("2026-11-28T09:20:00 08:00", DayEnd::Start), Some(ms), "+ decoded as a space");
        assert_eq!(parse_datetime("2026-11-28T09:20:00", DayEnd::Start), Some(ms), "local without a zone");
        assert_eq!(parse_datetime("2026-11-28T01:20:00.250Z", DayEnd::Start), Some(ms + 250));
        let day = parse_datetime("2026-11-28", DayEnd::Start).unwrap();
        assert_eq!(iso(day), "2026-11-28T00:00:00+08:00");
        assert_eq!(parse_datetime("2026-11-28", DayEnd::End), Some(day + 86_400_000 - 1));
        for bad in ["2026-02-30", "2026-02-30T00:00:00Z", "2026-13-01", "yesterday", "", "2026-11-28T25:00:00Z"] {
            assert_eq!(parse_datetime(bad, DayEnd::Start), None, "{bad}");
        }
    }

    #[test]
    fn formats_come_from_the_suffix() {
        assert_eq!(Format::split("services.json"), Some(("services", Format::Json)));
        assert_eq!(Format::split("20261128-000001.xml"), Some(("20261128-000001", Format::Xml)));
        assert_eq!(Format::split("services.csv"), None);
        assert_eq!(Format::split("services"), None);
        assert_eq!(Format::split(".json"), None);
    }
}
