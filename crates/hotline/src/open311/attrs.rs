//! Service definitions (a category's `attributes` JSON) and the `attribute[code]=v` /
//! `attribute[code][]=v` values a POST carries, checked against them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::wire::{DayEnd, V, iso, parse_datetime};
use crate::rules;

/// One attribute of a service definition.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrDef {
    /// false: shown to the user as information only, never an input.
    pub variable: bool,
    pub code: String,
    pub datatype: Datatype,
    pub required: bool,
    pub datatype_description: String,
    pub order: Option<i64>,
    pub description: String,
    pub values: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    SingleValueList,
    MultiValueList,
}

impl Datatype {
    pub fn parse(s: &str) -> Option<Datatype> {
        Some(match s {
            "string" => Datatype::String,
            "number" => Datatype::Number,
            "datetime" => Datatype::Datetime,
            "text" => Datatype::Text,
            "singlevaluelist" => Datatype::SingleValueList,
            "multivaluelist" => Datatype::MultiValueList,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::String => "string",
            Datatype::Number => "number",
            Datatype::Datetime => "datetime",
            Datatype::Text => "text",
            Datatype::SingleValueList => "singlevaluelist",
            Datatype::MultiValueList => "multivaluelist",
        }
    }
}

/// The longest `string` attribute value; `text` may be as long as a description.
pub const MAX_STRING: usize = 200;

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The definitions stored with a category, in presentation order. Entries an
/// administrator got wrong (no code, an unknown datatype, a list without values) are
/// left out rather than failing the whole service.
pub fn definitions(stored: &str) -> Vec<AttrDef> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(stored) else {
        return Vec::new();
    };
    let mut defs: Vec<AttrDef> = items
        .iter()
        .filter_map(|a| {
            let code = text_of(a.get("code")).trim().to_string();
            if code.is_empty() || code.contains(['[', ']']) {
                return None;
            }
            let datatype = match a.get("datatype").and_then(Value::as_str) {
                None => Datatype::String,
                Some(d) => Datatype::parse(d)?,
            };
            let values: Vec<(String, String)> = a
                .get("values")
                .and_then(Value::as_array)
                .map(|vs| {
                    vs.iter()
                        .map(|v| (text_of(v.get("key")), text_of(v.get("name"))))
                        .filter(|(k, _)| !k.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let list = matches!(datatype, Datatype::SingleValueList | Datatype::MultiValueList);
            if list && values.is_empty() {
                return None;
            }
            Some(AttrDef {
                variable: a.get("variable").and_then(Value::as_bool).unwrap_or(true),
                code,
                datatype,
                required: a.get("required").and_then(Value::as_bool).unwrap_or(false),
                datatype_description: text_of(a.get("datatype_description")),
                order: a.get("order").and_then(Value::as_i64),
                description: text_of(a.get("description")),
                values,
            })
        })
        .collect();
    // Stable: unordered entries keep their place after the ordered ones.
    defs.sort_by_key(|d| d.order.unwrap_or(i64::MAX));
    defs
}

/// The service definition's `attributes` list.
pub fn to_v(defs: &[AttrDef]) -> V {
    V::List(
        defs.iter()
            .map(|d| {
                let mut f = vec![
                    ("variable", V::Bool(d.variable)),
                    ("code", V::s(d.code.clone())),
                    ("datatype", V::s(d.datatype.as_str())),
                    ("required", V::Bool(d.required)),
                    ("datatype_description", V::opt(&d.datatype_description)),
                    ("order", d.order.map(V::Int).unwrap_or(V::Null)),
                    ("description", V::opt(&d.description)),
                ];
                if !d.values.is_empty() {
                    f.push((
                        "values",
                        V::List(
                            d.values
                                .iter()
                                .map(|(k, n)| V::Obj(vec![("key", V::s(k.clone())), ("name", V::s(n.clone()))]))
                                .collect(),
                        ),
                    ));
                }
                V::Obj(f)
            })
            .collect(),
    )
}

/// Values as submitted: `attribute[c]=v` once, or `attribute[c][]=v` any number of times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given {
    One(String),
    Many(Vec<String>),
}

const SHAPE: &str = "应为 attribute[属性代码]=值，多选为 attribute[属性代码][]=值";

/// The attribute parameters of a form, by code. Errors name each malformed parameter.
pub fn collect(pairs: &[(String, String)]) -> Result<BTreeMap<String, Given>, Vec<String>> {
    let mut out: BTreeMap<String, Given> = BTreeMap::new();
    let mut errs = Vec::new();
    for (k, v) in pairs {
        // `attribute` alone or `attribute[…`; other names (`attributes`) are not ours.
        let Some(rest) = k.strip_prefix("attribute").filter(|r| r.is_empty() || r.starts_with('[')) else {
            continue;
        };
        let parsed = rest.strip_prefix('[').and_then(|r| {
            let (code, tail) = r.split_once(']')?;
            if code.is_empty() || code.contains('[') {
                return None;
            }
            match tail {
                "" => Some((code, false)),
                "[]" => Some((code, true)),
                _ => None,
            }
        });
        let Some((code, many)) = parsed else {
            errs.push(format!("{k}: 参数格式有误，{SHAPE}"));
            continue;
        };
        match (out.get_mut(code), many) {
            (None, false) => {
                out.insert(code.to_string(), Given::One(v.clone()));
            }
            (None, true) => {
                out.insert(code.to_string(), Given::Many(vec![v.clone()]));
            }
            (Some(Given::Many(list)), true) => list.push(v.clone()),
            (Some(Given::One(_)), false) => {
                errs.push(format!("attribute[{code}]: 只能提交一次，多选请用 attribute[{code}][]"))
            }
            (Some(_), _) => {
                errs.push(format!("attribute[{code}]: 不能同时使用 attribute[{code}] 和 attribute[{code}][]"))
            }
        }
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

fn one<'a>(code: &str, g: &'a Given, errs: &mut Vec<String>) -> Option<&'a str> {
    match g {
        Given::One(v) => Some(v.trim()),
        Given::Many(vs) if vs.len() == 1 => Some(vs[0].trim()),
        Given::Many(_) => {
            errs.push(format!("attribute[{code}]: 只能填写一个值"));
            None
        }
    }
}

fn present(g: &Given) -> bool {
    match g {
        Given::One(v) => !v.trim().is_empty(),
        Given::Many(vs) => vs.iter().any(|v| !v.trim().is_empty()),
    }
}

/// Checks the values against the definitions: unknown codes, required ones missing,
/// list keys, number and datetime formats, lengths and markup. Returns the values to
/// store (a JSON object: strings, numbers, and arrays for multi-value lists).
pub fn validate(defs: &[AttrDef], given: &BTreeMap<String, Given>) -> Result<Value, Vec<String>> {
    let mut errs = Vec::new();
    for code in given.keys() {
        if !defs.iter().any(|d| d.variable && d.code == *code) {
            errs.push(format!("attribute[{code}]: 该服务没有这一属性"));
        }
    }
    let mut out = serde_json::Map::new();
    for d in defs.iter().filter(|d| d.variable) {
        let code = d.code.as_str();
        let Some(g) = given.get(code).filter(|g| present(g)) else {
            if d.required {
                let what = if d.description.is_empty() { String::new() } else { format!("（{}）", d.description) };
                errs.push(format!("attribute[{code}]: 必须填写{what}"));
            }
            continue;
        };
        let keys = || d.values.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join("、");
        match d.datatype {
            Datatype::String | Datatype::Text => {
                let Some(v) = one(code, g, &mut errs) else { continue };
                let max = if d.datatype == Datatype::String { MAX_STRING } else { rules::MAX_CONTENT };
                if v.chars().count() > max {
                    errs.push(format!("attribute[{code}]: 不能超过 {max} 个字"));
                } else if rules::has_markup(v) {
                    errs.push(format!("attribute[{code}]: 不能包含 HTML 标记"));
                } else {
                    out.insert(code.into(), json!(v));
                }
            }
            Datatype::Number => {
                let Some(v) = one(code, g, &mut errs) else { continue };
                match v.parse::<f64>().ok().filter(|n| n.is_finite()) {
                    Some(n) => {
                        out.insert(code.into(), json!(n));
                    }
                    None => errs.push(format!("attribute[{code}]: 应为数字")),
                }
            }
            Datatype::Datetime => {
                let Some(v) = one(code, g, &mut errs) else { continue };
                match parse_datetime(v, DayEnd::Start) {
                    Some(ms) => {
                        out.insert(code.into(), json!(iso(ms)));
                    }
                    None => {
                        errs.push(format!("attribute[{code}]: 应为 ISO 8601 日期时间，如 2026-11-28T09:30:00+08:00"))
                    }
                }
            }
            Datatype::SingleValueList => {
                let Some(v) = one(code, g, &mut errs) else { continue };
                if d.values.iter().any(|(k, _)| k == v) {
                    out.insert(code.into(), json!(v));
                } else {
                    errs.push(format!("attribute[{code}]: “{v}”不是可选值（可选：{}）", keys()));
                }
            }
            Datatype::MultiValueList => {
                let all: Vec<&str> = match g {
                    Given::One(v) => vec![v.trim()],
                    Given::Many(vs) => vs.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect(),
                };
                let mut picked: Vec<&str> = Vec::new();
                for v in all {
                    if !d.values.iter().any(|(k, _)| k == v) {
                        errs.push(format!("attribute[{code}]: “{v}”不是可选值（可选：{}）", keys()));
                    } else if !picked.contains(&v) {
                        picked.push(v);
                    }
                }
                out.insert(code.into(), json!(picked));
            }
        }
    }
    if errs.is_empty() { Ok(Value::Object(out)) } else { Err(errs) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEF: &str = r#"[
      {"code": "pole", "datatype": "string", "required": true, "description": "灯杆编号", "order": 2},
      {"code": "kind", "datatype": "singlevaluelist", "required": false, "order": 1,
       "values": [{"key": "help", "name": "求助"}, {"key": "complain", "name": "投诉"}]},
      {"code": "sides", "datatype": "multivaluelist", "values": [{"key": "n", "name": "北"}, {"key": "s", "name": "南"}]},
      {"code": "height", "datatype": "number"},
      {"code": "seen", "datatype": "datetime"},
      {"code": "note", "variable": false, "datatype": "text", "description": "仅提示"},
      {"datatype": "string"},
      {"code": "bad", "datatype": "picture"}
    ]"#;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn definitions_skip_broken_entries_and_follow_the_order() {
        let d = definitions(DEF);
        let codes: Vec<&str> = d.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(codes, ["kind", "pole", "sides", "height", "seen", "note"]);
        assert!(!d[5].variable);
        assert!(definitions("not json").is_empty());
        assert!(definitions("{}").is_empty());
    }

    #[test]
    fn malformed_attribute_parameters_are_named() {
        for bad in [
            "attribute",
            "attribute[",
            "attribute[]",
            "attribute[a]b",
            "attribute[a][b]",
            "attribute[a][]x",
            "attribute[[a]]",
        ] {
            let e = collect(&pairs(&[(bad, "1")])).unwrap_err();
            assert!(e[0].starts_with(bad), "{bad}: {e:?}");
        }
        let e = collect(&pairs(&[("attribute[a]", "1"), ("attribute[a]", "2")])).unwrap_err();
        assert!(e[0].contains("只能提交一次"), "{e:?}");
        let e = collect(&pairs(&[("attribute[a]", "1"), ("attribute[a][]", "2")])).unwrap_err();
        assert!(e[0].contains("不能同时"), "{e:?}");
        let ok =
            collect(&pairs(&[("attribute[a][]", "1"), ("attribute[a][]", "2"), ("attributes", "x"), ("lat", "1")]));
        assert_eq!(ok.unwrap().get("a"), Some(&Given::Many(vec!["1".into(), "2".into()])));
    }

    #[test]
    fn values_are_checked_against_the_definition() {
        let d = definitions(DEF);
        let good = collect(&pairs(&[
            ("attribute[pole]", " A-12 "),
            ("attribute[kind]", "complain"),
            ("attribute[sides][]", "n"),
            ("attribute[sides][]", "s"),
            ("attribute[sides][]", "n"),
            ("attribute[height]", "7.5"),
            ("attribute[seen]", "2026-11-28T01:00:00Z"),
        ]))
        .unwrap();
        let v = validate(&d, &good).unwrap();
        assert_eq!(
            v,
            json!({"pole": "A-12", "kind": "complain", "sides": ["n", "s"], "height": 7.5, "seen": "2026-11-28T09:00:00+08:00"})
        );
        let bad = collect(&pairs(&[
            ("attribute[kind]", "praise"),
            ("attribute[sides][]", "e"),
            ("attribute[height]", "tall"),
            ("attribute[seen]", "2026-02-30"),
            ("attribute[note]", "x"),
            ("attribute[ghost]", "x"),
        ]))
        .unwrap();
        let e = validate(&d, &bad).unwrap_err().join("\n");
        for want in [
            "attribute[pole]: 必须填写（灯杆编号）",
            "attribute[kind]: “praise”不是可选值",
            "attribute[sides]: “e”不是可选值",
            "attribute[height]: 应为数字",
            "attribute[seen]: 应为 ISO 8601",
            "attribute[note]: 该服务没有这一属性",
            "attribute[ghost]: 该服务没有这一属性",
        ] {
            assert!(e.contains(want), "{want} in {e}");
        }
        let markup = collect(&pairs(&[("attribute[pole]", "<b>1</b>")])).unwrap();
        assert!(validate(&d, &markup).unwrap_err()[0].contains("HTML"));
        let two = collect(&pairs(&[("attribute[pole][]", "1"), ("attribute[pole][]", "2")])).unwrap();
        assert!(validate(&d, &two).unwrap_err()[0].contains("只能填写一个值"));
        let long = "长".repeat(MAX_STRING + 1);
        let long = collect(&pairs(&[("attribute[pole]", long.as_str())])).unwrap();
        assert!(validate(&d, &long).unwrap_err()[0].contains("不能超过"));
    }
}
