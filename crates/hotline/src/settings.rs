//! Settings of the hotline: the SLA table, the category tree and the district gazetteer.
//! Each change is one transaction with its audit entry; only `Perm::SettingsManage` acts.

use serde_json::{Value, json};

use gongkai_kernel::audit;
use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::{Error, FieldErrors, Result, is_unique_violation};
use gongkai_kernel::with_conn;

use crate::rules::{self, Limit, SlaRow};
use crate::store::{self, CategoryRow, PlaceRow};

fn allowed(who: &Principal) -> Result<()> {
    if who.has(Perm::SettingsManage) {
        Ok(())
    } else {
        Err(Error::Forbidden("只有系统管理员可以修改热线设置".into()))
    }
}

async fn org_exists(c: &mut Conn<'_>, id: i64) -> Result<bool> {
    Ok(gongkai_kernel::org::store::get(c, id).await?.is_some())
}

/// An optional organisation id as typed: "" is none; anything else must be an existing one.
async fn org_field(c: &mut Conn<'_>, e: &mut FieldErrors, field: &str, v: &str) -> Result<Option<i64>> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    match v.parse::<i64>() {
        Ok(id) if org_exists(c, id).await? => Ok(Some(id)),
        _ => {
            e.add(field, "所选单位不存在");
            Ok(None)
        }
    }
}

// --- the SLA table ----------------------------------------------------------------------

/// One SLA row as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct SlaInput {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub category_code: String,
    #[serde(default)]
    pub urgency: String,
    #[serde(default)]
    pub accept_limit: String,
    #[serde(default)]
    pub return_limit: String,
    #[serde(default)]
    pub handle_limit: String,
    #[serde(default)]
    pub callback_limit: String,
}

const DUPLICATE_SLA: &str = "已有相同诉求类型、事项分类和紧急程度的时限，请直接修改那一行";

/// Add (`id` None) or change one row of the SLA table.
pub async fn save_sla(db: &Db, who: &Principal, ip: &str, id: Option<i64>, input: &SlaInput) -> Result<i64> {
    allowed(who)?;
    let (kind, category, urgency) = (input.kind.trim(), input.category_code.trim(), input.urgency.trim());
    let limits =
        [input.accept_limit.trim(), input.return_limit.trim(), input.handle_limit.trim(), input.callback_limit.trim()];
    let mut e = rules::validate_sla(kind, category, urgency, limits);
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    if !category.is_empty() && category != "*" && store::category_by_code(&mut c, category).await?.is_none() {
        e.add("category_code", "没有这个事项分类编码");
    }
    e.into_result()?;
    // Written back in the canonical form ("3 wd" is refused above, so only case and
    // leading zeros change).
    let spec = |s: &str| Limit::parse(s).map(Limit::spec).unwrap_or_default();
    let row = SlaRow {
        id: id.unwrap_or(0),
        kind: kind.into(),
        category_code: category.into(),
        urgency: urgency.into(),
        accept_limit: spec(limits[0]),
        return_limit: spec(limits[1]),
        handle_limit: spec(limits[2]),
        callback_limit: spec(limits[3]),
    };
    let before = match id {
        Some(id) => Some(sla_row(&mut c, id).await?.ok_or(Error::NotFound)?),
        None => None,
    };
    let res = match id {
        None => with_conn!(&mut c, x => {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO hl_sla (kind, category_code, urgency, accept_limit, return_limit, handle_limit, callback_limit)
                 VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id",
            )
            .bind(&row.kind).bind(&row.category_code).bind(&row.urgency).bind(&row.accept_limit)
            .bind(&row.return_limit).bind(&row.handle_limit).bind(&row.callback_limit)
            .fetch_one(&mut **x).await
        }),
        Some(id) => with_conn!(&mut c, x => {
            sqlx::query(
                "UPDATE hl_sla SET kind = $2, category_code = $3, urgency = $4, accept_limit = $5, return_limit = $6,
                   handle_limit = $7, callback_limit = $8 WHERE id = $1",
            )
            .bind(id).bind(&row.kind).bind(&row.category_code).bind(&row.urgency).bind(&row.accept_limit)
            .bind(&row.return_limit).bind(&row.handle_limit).bind(&row.callback_limit)
            .execute(&mut **x).await.map(|_| id)
        }),
    };
    let new_id = match res.map_err(Error::from) {
        Ok(v) => v,
        Err(err) if is_unique_violation(&err) => return Err(Error::field("urgency", DUPLICATE_SLA)),
        Err(err) => return Err(err),
    };
    audit::append(
        &mut c,
        &who.actor(ip),
        if id.is_some() { "hotline.sla_update" } else { "hotline.sla_add" },
        "hl_sla",
        new_id,
        json!({ "before": before, "after": SlaRow { id: new_id, ..row } }),
    )
    .await?;
    tx.commit().await?;
    Ok(new_id)
}

async fn sla_row(c: &mut Conn<'_>, id: i64) -> Result<Option<SlaRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, SlaRow>("SELECT * FROM hl_sla WHERE id = $1").bind(id).fetch_optional(&mut **x).await
    })?)
}

/// Delete one row; the catch-all row (全部/全部/全部) stays, so every order has limits.
pub async fn delete_sla(db: &Db, who: &Principal, ip: &str, id: i64) -> Result<()> {
    allowed(who)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let row = sla_row(&mut c, id).await?.ok_or(Error::NotFound)?;
    if row.kind == "*" && row.category_code == "*" && row.urgency == "*" {
        return Err(Error::Conflict(
            "“全部类型、全部分类、全部紧急程度”一行是兜底时限，不能删除，可以修改它的时限".into(),
        ));
    }
    store::delete_sla(&mut c, id).await?;
    audit::append(&mut c, &who.actor(ip), "hotline.sla_delete", "hl_sla", id, json!({ "before": row })).await?;
    tx.commit().await?;
    Ok(())
}

// --- categories -------------------------------------------------------------------------

/// A category as typed. `code` and `parent_id` are read only when adding.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct CategoryInput {
    #[serde(default)]
    pub parent_id: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub keywords: String,
    #[serde(default)]
    pub default_org_id: String,
    #[serde(default)]
    pub open311: String,
    #[serde(default)]
    pub attributes: String,
    #[serde(default)]
    pub active: String,
    #[serde(default)]
    pub sort: String,
}

fn checked(v: &str) -> bool {
    matches!(v.trim(), "1" | "on" | "true" | "yes")
}

const DATATYPES: &[&str] = &["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"];

/// Open311 GeoReport v2 attribute definitions (a service's "attributes"): a JSON array of
/// objects with variable, code, datatype, required, datatype_description, order,
/// description, and values for the list types. Returns the array written compactly, or
/// the first problem in Chinese.
pub fn validate_attributes(text: &str) -> std::result::Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok("[]".into());
    }
    let v: Value = serde_json::from_str(text).map_err(|e| format!("不是有效的 JSON：{e}"))?;
    let Some(items) = v.as_array() else {
        return Err("应为 JSON 数组，例如 [{\"code\": \"…\", …}]".into());
    };
    let mut codes = std::collections::BTreeSet::new();
    for (i, a) in items.iter().enumerate() {
        let n = i + 1;
        let Some(o) = a.as_object() else { return Err(format!("第 {n} 项应为对象")) };
        let s = |k: &str| o.get(k).and_then(Value::as_str);
        let b = |k: &str| o.get(k).and_then(Value::as_bool);
        let code = s("code").map(str::trim).unwrap_or("");
        if code.is_empty() {
            return Err(format!("第 {n} 项缺少 code"));
        }
        if !codes.insert(code.to_string()) {
            return Err(format!("code “{code}”重复"));
        }
        if b("variable").is_none() {
            return Err(format!("“{code}”的 variable 应为 true 或 false"));
        }
        if b("required").is_none() {
            return Err(format!("“{code}”的 required 应为 true 或 false"));
        }
        let datatype = s("datatype").unwrap_or("");
        if !DATATYPES.contains(&datatype) {
            return Err(format!("“{code}”的 datatype 应为 {} 之一", DATATYPES.join("、")));
        }
        if s("description").is_none_or(|d| d.trim().is_empty()) {
            return Err(format!("“{code}”缺少 description"));
        }
        if o.get("datatype_description").is_some_and(|d| !d.is_string() && !d.is_null()) {
            return Err(format!("“{code}”的 datatype_description 应为文字"));
        }
        if o.get("order").and_then(Value::as_u64).is_none_or(|x| x == 0) {
            return Err(format!("“{code}”的 order 应为正整数"));
        }
        let list = datatype.ends_with("valuelist");
        match o.get("values") {
            Some(Value::Array(vals)) => {
                if list && vals.is_empty() {
                    return Err(format!("“{code}”是列表类型，values 不能为空"));
                }
                for val in vals {
                    let ok = val.get("key").is_some_and(|k| k.is_string() || k.is_number())
                        && val.get("name").and_then(Value::as_str).is_some();
                    if !ok {
                        return Err(format!("“{code}”的 values 每项应为 {{\"key\": …, \"name\": …}}"));
                    }
                }
            }
            None | Some(Value::Null) if !list => {}
            _ => return Err(format!("“{code}”是列表类型，需要 values 数组")),
        }
    }
    Ok(v.to_string())
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 60
        && code.split('.').all(|p| !p.is_empty())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_' || c == '-')
}

/// What both adding and editing check: name, keywords, organisation, attributes, order.
async fn check_common(
    c: &mut Conn<'_>,
    e: &mut FieldErrors,
    input: &CategoryInput,
) -> Result<(String, Option<i64>, String, i64)> {
    let name = input.name.trim().to_string();
    if name.is_empty() {
        e.add("name", "请填写分类名称");
    } else if name.chars().count() > 30 || name.contains('/') {
        e.add("name", "分类名称不超过 30 个字，且不能含“/”");
    }
    if input.keywords.chars().count() > 200 {
        e.add("keywords", "关键词不超过 200 个字");
    }
    let org = org_field(c, e, "default_org_id", &input.default_org_id).await?;
    let attributes = match validate_attributes(&input.attributes) {
        Ok(a) => a,
        Err(m) => {
            e.add("attributes", m);
            String::new()
        }
    };
    let sort = match input.sort.trim() {
        "" => 0,
        s => s.parse::<i64>().unwrap_or_else(|_| {
            e.add("sort", "排序应为整数");
            0
        }),
    };
    Ok((name, org, attributes, sort))
}

/// Keywords as one space-separated line (typed with commas, 、 or spaces).
fn keywords_line(k: &str) -> String {
    k.split([',', '，', '、', ' ', '\n']).map(str::trim).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// A new category: top level, or under `parent_id` with a code that extends the parent's
/// (`cs` → `cs.water`), which is how the SLA table matches a category and its descendants.
pub async fn add_category(db: &Db, who: &Principal, ip: &str, input: &CategoryInput) -> Result<i64> {
    allowed(who)?;
    let mut e = FieldErrors::new();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let parent = match input.parent_id.trim() {
        "" => None,
        p => match p.parse::<i64>() {
            Ok(id) => Some(store::category(&mut c, id).await?.ok_or(Error::NotFound)?),
            Err(_) => return Err(Error::NotFound),
        },
    };
    let code = input.code.trim().to_ascii_lowercase();
    if !valid_code(&code) {
        e.add("code", "编码由小写字母、数字、“_”“-”组成，层级之间用“.”分隔，不超过 60 个字符");
    } else if let Some(p) = &parent {
        if !code.strip_prefix(p.code.as_str()).is_some_and(|r| r.starts_with('.') && !r[1..].contains('.')) {
            e.add("code", format!("下级分类的编码应以上级编码加“.”开头，例如 {}.xxx", p.code));
        }
    } else if code.contains('.') {
        e.add("code", "顶级分类的编码不能含“.”");
    }
    if valid_code(&code) && store::category_by_code(&mut c, &code).await?.is_some() {
        e.add("code", "编码已被使用");
    }
    let (name, org, attributes, sort) = check_common(&mut c, &mut e, input).await?;
    e.into_result()?;
    let keywords = keywords_line(&input.keywords);
    let id = store::insert_category(
        &mut c,
        &code,
        &name,
        parent.as_ref(),
        org,
        checked(&input.open311),
        &attributes,
        &keywords,
    )
    .await
    .map_err(|err| if is_unique_violation(&err) { Error::field("code", "编码已被使用") } else { err })?;
    with_conn!(&mut c, x => {
        sqlx::query("UPDATE hl_categories SET sort = $2 WHERE id = $1").bind(id).bind(sort).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    let after = store::category(&mut c, id).await?;
    audit::append(&mut c, &who.actor(ip), "hotline.category_add", "hl_category", id, json!({ "after": after })).await?;
    tx.commit().await?;
    Ok(id)
}

/// Change a category (its code stays: it is the Open311 service_code and the SLA key).
/// A new name rewrites the path of the category and of every descendant.
pub async fn update_category(db: &Db, who: &Principal, ip: &str, id: i64, input: &CategoryInput) -> Result<()> {
    allowed(who)?;
    let mut e = FieldErrors::new();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = store::category(&mut c, id).await?.ok_or(Error::NotFound)?;
    let (name, org, attributes, sort) = check_common(&mut c, &mut e, input).await?;
    e.into_result()?;
    let path = match before.path.rsplit_once('/') {
        Some((parent_path, _)) => format!("{parent_path}/{name}"),
        None => name.clone(),
    };
    with_conn!(&mut c, x => {
        sqlx::query(
            "UPDATE hl_categories SET name = $2, path = $3, keywords = $4, default_org_id = $5, open311 = $6,
               attributes = $7, active = $8, sort = $9 WHERE id = $1",
        )
        .bind(id).bind(&name).bind(&path).bind(keywords_line(&input.keywords)).bind(org)
        .bind(checked(&input.open311) as i64).bind(&attributes).bind(checked(&input.active) as i64).bind(sort)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    if path != before.path {
        let old_prefix = format!("{}/", before.path);
        for d in store::categories(&mut c).await?.into_iter().filter(|d| d.path.starts_with(&old_prefix)) {
            let new_path = format!("{path}/{}", &d.path[old_prefix.len()..]);
            with_conn!(&mut c, x => {
                sqlx::query("UPDATE hl_categories SET path = $2 WHERE id = $1").bind(d.id).bind(&new_path).execute(&mut **x).await.map(|r| r.rows_affected())
            })?;
        }
    }
    let after = store::category(&mut c, id).await?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "hotline.category_update",
        "hl_category",
        id,
        json!({ "before": before, "after": after }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The organisation a category suggests for dispatch: its own, else the nearest ancestor's.
pub fn category_org(cats: &[CategoryRow], id: i64) -> Option<i64> {
    let mut cur = cats.iter().find(|c| c.id == id);
    while let Some(c) = cur {
        if c.default_org_id.is_some() {
            return c.default_org_id;
        }
        cur = c.parent_id.and_then(|p| cats.iter().find(|x| x.id == p));
    }
    None
}

// --- the gazetteer ----------------------------------------------------------------------

#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct PlaceInput {
    #[serde(default)]
    pub street: String,
    #[serde(default)]
    pub community: String,
    #[serde(default)]
    pub org_id: String,
}

/// A street (community left empty) or a community of an existing street.
pub async fn add_place(db: &Db, who: &Principal, ip: &str, input: &PlaceInput) -> Result<i64> {
    allowed(who)?;
    let mut e = FieldErrors::new();
    let (street, community) = (input.street.trim(), input.community.trim());
    if street.is_empty() || street.chars().count() > 30 {
        e.add("street", "请填写街道（镇）名称，不超过 30 个字");
    }
    if community.chars().count() > 30 {
        e.add("community", "社区（村）名称不超过 30 个字");
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let org = org_field(&mut c, &mut e, "org_id", &input.org_id).await?;
    let places = store::places(&mut c).await?;
    if !community.is_empty()
        && !street.is_empty()
        && !places.iter().any(|p| p.street == street && p.community.is_empty())
    {
        e.add("street", "请先添加这个街道（镇），再添加它的社区（村）");
    }
    if places.iter().any(|p| p.street == street && p.community == community) {
        e.add(if community.is_empty() { "street" } else { "community" }, "已有这个地点");
    }
    e.into_result()?;
    let id = store::insert_place(&mut c, street, community, org).await?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "hotline.place_add",
        "hl_place",
        id,
        json!({ "street": street, "community": community, "org_id": org }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Change the office that handles a place (names stay: orders keep the street they had).
pub async fn update_place(db: &Db, who: &Principal, ip: &str, id: i64, org_id: &str) -> Result<()> {
    allowed(who)?;
    let mut e = FieldErrors::new();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = store::place(&mut c, id).await?.ok_or(Error::NotFound)?;
    let org = org_field(&mut c, &mut e, "org_id", org_id).await?;
    e.into_result()?;
    with_conn!(&mut c, x => {
        sqlx::query("UPDATE hl_places SET org_id = $2 WHERE id = $1").bind(id).bind(org).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "hotline.place_update",
        "hl_place",
        id,
        json!({ "street": before.street, "community": before.community, "before": before.org_id, "after": org }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The office a place suggests for dispatch: its own, else its street's.
pub fn place_org(places: &[PlaceRow], id: i64) -> Option<i64> {
    let p = places.iter().find(|p| p.id == id)?;
    p.org_id.or_else(|| places.iter().find(|s| s.street == p.street && s.community.is_empty()).and_then(|s| s.org_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open311_attributes_are_checked() {
        assert_eq!(validate_attributes("").unwrap(), "[]");
        let ok = r#"[{"variable": true, "code": "depth", "datatype": "number", "required": false,
            "datatype_description": "厘米", "order": 1, "description": "积水深度"},
            {"variable": true, "code": "kind", "datatype": "singlevaluelist", "required": true, "order": 2,
            "description": "类型", "values": [{"key": "a", "name": "路面"}]}]"#;
        assert!(validate_attributes(ok).is_ok());
        for (bad, why) in [
            ("{}", "数组"),
            ("[1]", "对象"),
            (r#"[{"code": "x"}]"#, "variable"),
            (
                r#"[{"variable": true, "code": "x", "required": true, "datatype": "blob", "order": 1, "description": "d"}]"#,
                "datatype",
            ),
            (
                r#"[{"variable": true, "code": "x", "required": true, "datatype": "singlevaluelist", "order": 1, "description": "d"}]"#,
                "values",
            ),
            (
                r#"[{"variable": true, "code": "x", "required": true, "datatype": "string", "order": 0, "description": "d"}]"#,
                "order",
            ),
            ("[{", "JSON"),
        ] {
            let e = validate_attributes(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn codes_and_keywords() {
        assert!(valid_code("cs.water_2"));
        for bad in ["", "CS", "cs..water", ".cs", "供水", "cs water"] {
            assert!(!valid_code(bad), "{bad}");
        }
        assert_eq!(keywords_line("停水, 水压、 自来水"), "停水 水压 自来水");
    }
}
