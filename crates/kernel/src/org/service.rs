//! Organisation use cases: validate, check scope, write, audit, outbox — one transaction.

use serde_json::json;

use super::{Org, OrgInput, store, validate};
use crate::auth::{Perm, Principal};
use crate::db::Db;
use crate::error::{Error, Result, is_unique_violation};
use crate::{audit, outbox};

fn unique_to_field(e: Error) -> Error {
    if is_unique_violation(&e) {
        let mut f = crate::error::FieldErrors::new();
        f.add("uscc", "该统一社会信用代码或组织机构代码已被其他机构使用");
        Error::Invalid(f)
    } else {
        e
    }
}

/// Create an organisation. The actor needs OrgManage over the parent (or district-wide
/// for a new root).
pub async fn create(db: &Db, who: &Principal, ip: &str, input: &OrgInput) -> Result<Org> {
    let v = validate(input).map_err(Error::Invalid)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let parent_path = match v.parent_id {
        Some(pid) => store::get(&mut c, pid).await?.ok_or_else(|| Error::field("parent_id", "上级机构不存在"))?.path,
        None => String::from("/"),
    };
    let scope_path = if v.parent_id.is_some() { Some(parent_path.as_str()) } else { None };
    if !who.can(Perm::OrgManage, scope_path, None) {
        return Err(Error::Forbidden("不能在该机构下新建机构".into()));
    }
    let id = store::insert(&mut c, &v, &parent_path).await.map_err(unique_to_field)?;
    let org = store::get(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, &who.actor(ip), "org.create", "org", id, json!({ "after": &org })).await?;
    outbox::emit(&mut c, "org.changed", id, json!({ "op": "create" })).await?;
    tx.commit().await?;
    Ok(org)
}

/// Create without a principal: the CLI and the demo seeder (audited as such).
pub async fn create_as(db: &Db, actor: &audit::Actor, input: &OrgInput) -> Result<Org> {
    let v = validate(input).map_err(Error::Invalid)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let parent_path = match v.parent_id {
        Some(pid) => store::get(&mut c, pid).await?.ok_or_else(|| Error::field("parent_id", "上级机构不存在"))?.path,
        None => String::from("/"),
    };
    let id = store::insert(&mut c, &v, &parent_path).await.map_err(unique_to_field)?;
    let org = store::get(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, actor, "org.create", "org", id, json!({ "after": &org })).await?;
    outbox::emit(&mut c, "org.changed", id, json!({ "op": "create" })).await?;
    tx.commit().await?;
    Ok(org)
}

pub async fn update(db: &Db, who: &Principal, ip: &str, id: i64, input: &OrgInput) -> Result<Org> {
    let v = validate(input).map_err(Error::Invalid)?;
    let version: i64 = input.version.trim().parse().map_err(|_| Error::field("version", "缺少版本号，请刷新后重试"))?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = store::get(&mut c, id).await?.ok_or(Error::NotFound)?;
    if !who.can(Perm::OrgManage, Some(&before.path), None) {
        return Err(Error::Forbidden("不能修改该机构".into()));
    }
    let new_parent_path = match v.parent_id {
        Some(pid) if pid == id => return Err(Error::field("parent_id", "上级机构不能是自己")),
        Some(pid) => {
            let p = store::get(&mut c, pid).await?.ok_or_else(|| Error::field("parent_id", "上级机构不存在"))?;
            if p.path.starts_with(&before.path) {
                return Err(Error::field("parent_id", "不能把机构移到它自己的下级机构之下"));
            }
            if !who.can(Perm::OrgManage, Some(&p.path), None) {
                return Err(Error::Forbidden("不能把机构移到该上级机构之下".into()));
            }
            p.path
        }
        None => {
            if before.parent_id.is_some() && !who.can(Perm::OrgManage, None, None) {
                return Err(Error::Forbidden("只有全区范围的系统管理员可以设立顶级机构".into()));
            }
            "/".to_string()
        }
    };
    if !store::update(&mut c, id, version, &v).await.map_err(unique_to_field)? {
        return Err(Error::Conflict("该机构已被他人修改，请刷新页面查看最新内容后再保存".into()));
    }
    if v.parent_id != before.parent_id {
        store::rewrite_paths(&mut c, &before.path, &format!("{new_parent_path}{id}/")).await?;
    }
    let after = store::get(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, &who.actor(ip), "org.update", "org", id, json!({ "before": &before, "after": &after }))
        .await?;
    outbox::emit(&mut c, "org.changed", id, json!({ "op": "update" })).await?;
    tx.commit().await?;
    Ok(after)
}

/// Delete an organisation that has no sub-organisations and no users.
pub async fn delete(db: &Db, who: &Principal, ip: &str, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = store::get(&mut c, id).await?.ok_or(Error::NotFound)?;
    if !who.can(Perm::OrgManage, Some(&before.path), None) {
        return Err(Error::Forbidden("不能删除该机构".into()));
    }
    let (children, users) = store::dependents(&mut c, id).await?;
    if children > 0 || users > 0 {
        return Err(Error::Conflict(format!(
            "“{}”下还有 {children} 个下级机构、{users} 个用户，请先移走后再删除",
            before.name
        )));
    }
    // Anything else that points at the organisation (sites, published items, catalogue
    // entries…) keeps it: the database refuses, and the user is told why.
    store::delete(&mut c, id).await.map_err(|e| {
        if crate::error::is_foreign_key_violation(&e) {
            Error::Conflict(format!("“{}”仍被网站、信息或其他记录引用（如主办单位、发布机构），不能删除", before.name))
        } else {
            e
        }
    })?;
    audit::append(&mut c, &who.actor(ip), "org.delete", "org", id, json!({ "before": &before })).await?;
    outbox::emit(&mut c, "org.changed", id, json!({ "op": "delete" })).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list(db: &Db) -> Result<Vec<Org>> {
    let mut h = db.read().await?;
    store::all(&mut h.conn()).await
}

pub async fn get(db: &Db, id: i64) -> Result<Org> {
    let mut h = db.read().await?;
    store::get(&mut h.conn(), id).await?.ok_or(Error::NotFound)
}
