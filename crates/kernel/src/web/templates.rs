//! Console templates: embedded in the binary (read from disk in debug builds, so edits
//! show without a rebuild). Autoescape is on for every `.html` template.

use minijinja::{Environment, Value};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Embedded;

#[derive(RustEmbed)]
#[folder = "static/"]
pub struct Static;

/// The template environment: the kernel's templates first, then each slice's source.
pub fn environment(sources: Vec<fn(&str) -> Option<String>>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_loader(move |name| {
        // rust-embed only serves names inside its folder; ".." never escapes it.
        if let Some(f) = Embedded::get(name) {
            return Ok(Some(String::from_utf8_lossy(&f.data).into_owned()));
        }
        Ok(sources.iter().find_map(|src| src(name)))
    });
    env.add_filter("dt", |ms: Option<i64>| ms.map(crate::clock::fmt_ms).unwrap_or_default());
    env.add_filter("role_label", |r: String| {
        crate::auth::Role::parse(&r).map(|r| r.label_zh().to_string()).unwrap_or(r)
    });
    env.add_filter("role_labels", |rs: Option<String>| {
        let labels: Vec<String> = rs
            .unwrap_or_default()
            .split(',')
            .filter(|r| !r.is_empty())
            .map(|r| crate::auth::Role::parse(r).map(|r| r.label_zh().to_string()).unwrap_or_else(|| r.to_string()))
            .collect();
        labels.join("、")
    });
    env.add_filter("org_kind_label", |k: String| {
        crate::org::OrgKind::parse(&k).map(|k| k.label_zh().to_string()).unwrap_or(k)
    });
    env.add_filter("day_kind_label", |k: String| {
        crate::calendar::rules::DayKind::parse(&k).map(|k| k.label_zh().to_string()).unwrap_or(k)
    });
    env.add_function("field_error", |errors: Value, field: String| -> Value {
        errors.get_attr(&field).unwrap_or(Value::UNDEFINED)
    });
    env
}
