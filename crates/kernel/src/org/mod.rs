//! Organisations (机构): a tree of the district's government, departments, streets and
//! institutions. Their codes are the prefix of every 索引号 later slices assign.

pub mod service;
pub mod store;
pub mod web;

use serde::{Deserialize, Serialize};

use crate::error::FieldErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Government,
    Department,
    Street,
    Institution,
    Other,
}

pub const ORG_KINDS: [OrgKind; 5] =
    [OrgKind::Government, OrgKind::Department, OrgKind::Street, OrgKind::Institution, OrgKind::Other];

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Government => "government",
            OrgKind::Department => "department",
            OrgKind::Street => "street",
            OrgKind::Institution => "institution",
            OrgKind::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<OrgKind> {
        ORG_KINDS.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            OrgKind::Government => "人民政府",
            OrgKind::Department => "政府部门",
            OrgKind::Street => "乡镇/街道",
            OrgKind::Institution => "事业单位",
            OrgKind::Other => "其他",
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Org {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub path: String,
    pub name: String,
    pub short_name: String,
    pub kind: String,
    pub uscc: Option<String>,
    pub org_code: Option<String>,
    pub division_code: String,
    pub phone: String,
    pub address: String,
    pub email: String,
    pub sort_order: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Org {
    /// Depth in the tree, 0 for a root ("/1/" has one segment).
    pub fn depth(&self) -> usize {
        self.path.matches('/').count().saturating_sub(2)
    }
    /// The code that prefixes 索引号: the 统一社会信用代码, else the 组织机构代码.
    pub fn index_code(&self) -> Option<&str> {
        self.uscc.as_deref().or(self.org_code.as_deref())
    }
}

/// What a form or the CLI submits, as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OrgInput {
    pub parent_id: String,
    pub name: String,
    pub short_name: String,
    pub kind: String,
    pub uscc: String,
    pub org_code: String,
    pub division_code: String,
    pub phone: String,
    pub address: String,
    pub email: String,
    pub sort_order: String,
    pub version: String,
}

/// Validated values.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgValues {
    pub parent_id: Option<i64>,
    pub name: String,
    pub short_name: String,
    pub kind: OrgKind,
    pub uscc: Option<String>,
    pub org_code: Option<String>,
    pub division_code: String,
    pub phone: String,
    pub address: String,
    pub email: String,
    pub sort_order: i64,
}

fn check_len(errs: &mut FieldErrors, field: &str, label: &str, v: &str, max: usize) {
    if v.chars().count() > max {
        errs.add(field, format!("{label}不能超过 {max} 个字"));
    }
}

/// Pure validation of an organisation form; every problem is reported at once.
pub fn validate(input: &OrgInput) -> Result<OrgValues, FieldErrors> {
    let mut errs = FieldErrors::new();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errs.add("name", "请填写机构名称");
    }
    check_len(&mut errs, "name", "机构名称", &name, 100);
    let short_name = input.short_name.trim().to_string();
    check_len(&mut errs, "short_name", "简称", &short_name, 30);
    let kind = OrgKind::parse(input.kind.trim());
    if kind.is_none() {
        errs.add("kind", "请选择机构类型");
    }
    let parent_id = match input.parent_id.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(v) if v > 0 => Some(v),
            _ => {
                errs.add("parent_id", "上级机构无效");
                None
            }
        },
    };
    let uscc = match input.uscc.trim() {
        "" => None,
        s => match crate::cn::validate_uscc(s) {
            Ok(v) => Some(v),
            Err(m) => {
                errs.add("uscc", m);
                None
            }
        },
    };
    let org_code = match input.org_code.trim() {
        "" => None,
        s => match crate::cn::validate_org_code(s) {
            Ok(v) => Some(v),
            Err(m) => {
                errs.add("org_code", m);
                None
            }
        },
    };
    if let (Some(u), Some(o)) = (&uscc, &org_code)
        && u.get(8..17) != Some(o.as_str())
    {
        errs.add("org_code", "组织机构代码与统一社会信用代码第9至17位不一致");
    }
    let division_code = match input.division_code.trim() {
        "" => String::new(),
        s => match crate::cn::validate_division_code(s) {
            Ok(v) => v,
            Err(m) => {
                errs.add("division_code", m);
                String::new()
            }
        },
    };
    let phone = input.phone.trim().to_string();
    check_len(&mut errs, "phone", "联系电话", &phone, 50);
    if !phone.chars().all(|c| c.is_ascii_digit() || " -+()（）,，、".contains(c)) {
        errs.add("phone", "联系电话只能包含数字、空格和 - + ( )");
    }
    let address = input.address.trim().to_string();
    check_len(&mut errs, "address", "地址", &address, 200);
    let email = input.email.trim().to_string();
    check_len(&mut errs, "email", "电子邮箱", &email, 100);
    if !email.is_empty() && !is_email(&email) {
        errs.add("email", "电子邮箱格式不正确");
    }
    let sort_order = match input.sort_order.trim() {
        "" => 0,
        s => s.parse::<i64>().unwrap_or_else(|_| {
            errs.add("sort_order", "排序号应为整数");
            0
        }),
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(OrgValues {
        parent_id,
        name,
        short_name,
        kind: kind.unwrap_or(OrgKind::Other),
        uscc,
        org_code,
        division_code,
        phone,
        address,
        email,
        sort_order,
    })
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok_input() -> OrgInput {
        OrgInput { name: "区教育局".into(), kind: "department".into(), ..Default::default() }
    }

    #[test]
    fn validates_fields_at_once() {
        assert!(validate(&ok_input()).is_ok());
        let bad = OrgInput {
            name: " ".into(),
            kind: "x".into(),
            uscc: "91110000600037341X".into(),
            email: "a@b".into(),
            sort_order: "1.5".into(),
            ..Default::default()
        };
        let e = validate(&bad).unwrap_err();
        for f in ["name", "kind", "uscc", "email", "sort_order"] {
            assert!(e.get(f).is_some(), "missing error for {f}: {e:?}");
        }
        let long = OrgInput { name: "机".repeat(101), ..ok_input() };
        assert!(validate(&long).unwrap_err().get("name").unwrap().contains("100"));
    }

    #[test]
    fn codes_must_agree() {
        let body = "MA1234567";
        let Some(c) = crate::cn::org_code_check_char(&body[..8]) else { panic!() };
        let org_code = format!("{}{c}", &body[..8]);
        let first17 = format!("11341702{}", &org_code);
        let first17 = &first17[..17];
        let uscc = format!("{first17}{}", crate::cn::uscc_check_char(first17).unwrap());
        let v = validate(&OrgInput { uscc: uscc.clone(), org_code: org_code.clone(), ..ok_input() }).unwrap();
        assert_eq!(v.uscc.as_deref(), Some(uscc.as_str()));
        // A valid organisation code that is not the USCC's body is refused.
        let other = format!("{}{}", "12345678", crate::cn::org_code_check_char("12345678").unwrap());
        let e = validate(&OrgInput { uscc, org_code: other, ..ok_input() }).unwrap_err();
        assert!(e.get("org_code").is_some());
    }
}
