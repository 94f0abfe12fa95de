//! The website registry (网站): every site of the district's site group, and external
//! sites kept for inspection. Grants can be scoped to a site.

pub mod service;
pub mod store;
pub mod web;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    Portal,
    Department,
    Special,
}

pub const SITE_KINDS: [SiteKind; 3] = [SiteKind::Portal, SiteKind::Department, SiteKind::Special];

impl SiteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SiteKind::Portal => "portal",
            SiteKind::Department => "department",
            SiteKind::Special => "special",
        }
    }
    pub fn parse(s: &str) -> Option<SiteKind> {
        SITE_KINDS.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            SiteKind::Portal => "政府门户网站",
            SiteKind::Department => "部门网站",
            SiteKind::Special => "专项网站",
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Site {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub site_code: String,
    pub hosts: String,
    pub kind: String,
    pub org_id: Option<i64>,
    pub icp: String,
    pub psb: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub theme: String,
    pub external: bool,
    pub status: String,
    pub opened_on: Option<String>,
    pub closed_on: Option<String>,
    pub close_reason: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// 政府网站标识码: 10 digits, a valid 6-digit administrative division code followed by a
/// 4-digit serial (e.g. 3418020037 for 宣州区).
pub fn validate_site_code(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.len() != 10 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err("政府网站标识码应为 10 位数字（6 位行政区划代码 + 4 位序号）".into());
    }
    crate::cn::validate_division_code(&t[..6])
        .map_err(|m| format!("政府网站标识码前 6 位不是有效的行政区划代码：{m}"))?;
    if &t[6..] == "0000" {
        return Err("政府网站标识码后 4 位序号不能为 0000".into());
    }
    Ok(t.to_string())
}

/// A site's short code: lowercase letters, digits and '-', used in URLs.
pub fn validate_code(s: &str) -> Result<String, String> {
    let t = s.trim();
    if (2..=32).contains(&t.len())
        && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !t.starts_with('-')
    {
        Ok(t.to_string())
    } else {
        Err("网站代号为 2–32 位小写字母、数字或 -".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_codes() {
        assert_eq!(validate_site_code("3418020037").unwrap(), "3418020037");
        assert_eq!(validate_site_code(" 2109220045 ").unwrap(), "2109220045");
        for bad in ["341802003", "34180200371", "34180200a7", "9918020037", "3418020000", ""] {
            assert!(validate_site_code(bad).is_err(), "{bad}");
        }
        assert!(validate_code("www").is_ok());
        assert!(validate_code("jyj-2").is_ok());
        for bad in ["W", "a", "教育", "-x", "a/b"] {
            assert!(validate_code(bad).is_err(), "{bad}");
        }
    }
}
