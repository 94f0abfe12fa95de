//! Site registry use cases: create, edit, close (permanently offline, with a reason) and
//! reopen, each audited; opening and closing dates feed the yearly counts reports need.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Site, SiteKind, validate_code, validate_site_code};
use crate::audit;
use crate::auth::{Perm, Principal};
use crate::clock::{fmt_date, parse_date, today};
use crate::db::{Conn, Db};
use crate::error::{Error, FieldErrors, Result, is_unique_violation};
use crate::outbox;
use crate::with_conn;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SiteInput {
    pub code: String,
    pub name: String,
    pub site_code: String,
    pub hosts: String,
    pub kind: String,
    pub org_id: String,
    pub icp: String,
    pub psb: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub external: String,
    pub opened_on: String,
    pub theme: String,
    pub version: String,
}

/// Validated values.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteValues {
    pub code: String,
    pub name: String,
    pub site_code: String,
    pub hosts: String,
    pub kind: SiteKind,
    pub org_id: Option<i64>,
    pub icp: String,
    pub psb: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub external: bool,
    pub opened_on: String,
    pub theme: String,
}

fn text(errs: &mut FieldErrors, field: &str, label: &str, s: &str, max: usize) -> String {
    let t: String = s.trim().chars().filter(|c| !c.is_control() || *c == '\n').collect();
    if t.chars().count() > max {
        errs.add(field, format!("{label}不能超过 {max} 个字"));
    }
    t
}

/// A host name: letters, digits, '-' and '.', at most 253 characters (IDN in punycode).
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-'))
        && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Pure validation of the site form, every problem at once.
pub fn validate(input: &SiteInput) -> std::result::Result<SiteValues, FieldErrors> {
    let mut errs = FieldErrors::new();
    let code = validate_code(&input.code.to_lowercase()).unwrap_or_else(|m| {
        errs.add("code", m);
        String::new()
    });
    let name = text(&mut errs, "name", "网站名称", &input.name, 100);
    if name.is_empty() {
        errs.add("name", "请填写网站名称");
    }
    let external = matches!(input.external.trim(), "on" | "true" | "1");
    let site_code = match input.site_code.trim() {
        "" if external => String::new(),
        "" => {
            errs.add("site_code", "请填写政府网站标识码");
            String::new()
        }
        v => validate_site_code(v).unwrap_or_else(|m| {
            errs.add("site_code", m);
            String::new()
        }),
    };
    let mut hosts: Vec<String> = Vec::new();
    for h in input.hosts.split(|c: char| c.is_whitespace() || c == ',' || c == '，' || c == '、') {
        let h = h.trim().trim_end_matches('.').to_lowercase();
        if h.is_empty() {
            continue;
        }
        if !valid_host(&h) {
            errs.add("hosts", format!("域名无效：{h}（只写主机名，如 www.example.gov.cn，不含 http:// 和路径）"));
            break;
        }
        if !hosts.contains(&h) {
            hosts.push(h);
        }
    }
    if hosts.is_empty() && !external {
        errs.add("hosts", "请至少填写一个域名");
    }
    let kind = SiteKind::parse(input.kind.trim()).unwrap_or_else(|| {
        errs.add("kind", "请选择网站类型");
        SiteKind::Department
    });
    let org_id = match input.org_id.trim() {
        "" => None,
        v => v.parse::<i64>().ok().or_else(|| {
            errs.add("org_id", "主办单位无效");
            None
        }),
    };
    if org_id.is_none() && !external {
        errs.add("org_id", "请选择主办单位");
    }
    let icp = text(&mut errs, "icp", "ICP备案号", &input.icp, 50);
    let psb = text(&mut errs, "psb", "公安机关备案号", &input.psb, 50);
    let phone = text(&mut errs, "phone", "联系电话", &input.phone, 50);
    let email = text(&mut errs, "email", "电子邮箱", &input.email, 100);
    let address = text(&mut errs, "address", "地址", &input.address, 200);
    let opened_on = match input.opened_on.trim() {
        "" => fmt_date(today()),
        v => match parse_date(v) {
            Some(d) if d <= today() => fmt_date(d),
            Some(_) => {
                errs.add("opened_on", "开通日期不能晚于今天");
                String::new()
            }
            None => {
                errs.add("opened_on", "开通日期应为有效日期，格式 YYYY-MM-DD");
                String::new()
            }
        },
    };
    // 主题: "default" (embedded) or a folder name under portal.themes_dir.
    let theme = match input.theme.trim() {
        "" => "default".to_string(),
        t if t.len() <= 64 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => t.to_string(),
        _ => {
            errs.add("theme", "主题名只能由字母、数字、- 和 _ 组成（default 为内置主题）");
            String::new()
        }
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(SiteValues {
        code,
        name,
        site_code,
        hosts: hosts.join("\n"),
        kind,
        org_id,
        icp,
        psb,
        phone,
        email,
        address,
        external,
        opened_on,
        theme,
    })
}

async fn org_path(c: &mut Conn<'_>, org_id: Option<i64>) -> Result<Option<String>> {
    Ok(match org_id {
        Some(o) => {
            Some(crate::org::store::get(c, o).await?.ok_or_else(|| Error::field("org_id", "主办单位不存在"))?.path)
        }
        None => None,
    })
}

fn unique(e: Error) -> Error {
    if is_unique_violation(&e) { Error::field("code", "该网站代号已被使用") } else { e }
}

async fn history(c: &mut Conn<'_>, site_id: i64, status: &str, on: &str, reason: &str, by: Option<i64>) -> Result<()> {
    let now = crate::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query("INSERT INTO site_status_history (site_id, status, on_date, reason, by_user, at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(site_id).bind(status).bind(on).bind(reason).bind(by).bind(now)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn create(db: &Db, who: &Principal, ip: &str, input: &SiteInput) -> Result<Site> {
    let v = validate(input).map_err(Error::Invalid)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let path = org_path(&mut c, v.org_id).await?;
    if !who.can(Perm::SettingsManage, path.as_deref(), None) {
        return Err(Error::Forbidden("不能为该主办单位登记网站".into()));
    }
    let new = super::store::NewSite {
        code: &v.code,
        name: &v.name,
        site_code: &v.site_code,
        hosts: &v.hosts,
        kind: v.kind.as_str(),
        org_id: v.org_id,
        icp: &v.icp,
        psb: &v.psb,
        phone: &v.phone,
        opened_on: Some(&v.opened_on),
        external: v.external,
    };
    let id = super::store::insert(&mut c, &new).await.map_err(unique)?;
    with_conn!(&mut c, x => {
        sqlx::query("UPDATE sites SET email = $1, address = $2, theme = $3 WHERE id = $4").bind(&v.email).bind(&v.address).bind(&v.theme).bind(id)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    history(&mut c, id, "open", &v.opened_on, "", Some(who.user_id)).await?;
    let site = super::store::get(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, &who.actor(ip), "site.create", "site", id, json!({ "after": &site })).await?;
    outbox::emit(&mut c, "site.changed", id, json!({ "op": "create" })).await?;
    tx.commit().await?;
    Ok(site)
}

pub async fn update(db: &Db, who: &Principal, ip: &str, id: i64, input: &SiteInput) -> Result<Site> {
    let v = validate(input).map_err(Error::Invalid)?;
    let version: i64 = input.version.trim().parse().map_err(|_| Error::field("version", "缺少版本号，请刷新后重试"))?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = super::store::get(&mut c, id).await?.ok_or(Error::NotFound)?;
    let (old_path, new_path) = (org_path(&mut c, before.org_id).await?, org_path(&mut c, v.org_id).await?);
    if !who.can(Perm::SettingsManage, old_path.as_deref(), Some(id))
        || !who.can(Perm::SettingsManage, new_path.as_deref(), Some(id))
    {
        return Err(Error::Forbidden("不能修改该网站".into()));
    }
    let now = crate::clock::now_ms();
    let n = with_conn!(&mut c, x => {
        sqlx::query(
            "UPDATE sites SET code = $1, name = $2, site_code = $3, hosts = $4, kind = $5, org_id = $6, icp = $7, psb = $8,
                    phone = $9, email = $10, address = $11, external = $12, opened_on = $13, theme = $14, version = version + 1,
                    updated_at = $15
             WHERE id = $16 AND version = $17",
        )
        .bind(&v.code).bind(&v.name).bind(&v.site_code).bind(&v.hosts).bind(v.kind.as_str()).bind(v.org_id).bind(&v.icp)
        .bind(&v.psb).bind(&v.phone).bind(&v.email).bind(&v.address).bind(v.external).bind(&v.opened_on).bind(&v.theme)
        .bind(now).bind(id).bind(version)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })
    .map_err(|e| unique(e.into()))?;
    if n != 1 {
        return Err(Error::Conflict("该网站已被他人修改，请刷新页面查看最新内容后再保存".into()));
    }
    let after = super::store::get(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, &who.actor(ip), "site.update", "site", id, json!({ "before": &before, "after": &after }))
        .await?;
    outbox::emit(&mut c, "site.changed", id, json!({ "op": "update" })).await?;
    tx.commit().await?;
    Ok(after)
}

/// Take a site permanently offline (关停) on a date, with the reason; or reopen it.
pub async fn set_status(
    db: &Db,
    who: &Principal,
    ip: &str,
    id: i64,
    close: bool,
    on: &str,
    reason: &str,
) -> Result<Site> {
    let reason = reason.trim();
    let on = parse_date(on).ok_or_else(|| Error::field("on_date", "日期应为有效日期，格式 YYYY-MM-DD"))?;
    if on > today() {
        return Err(Error::field("on_date", "日期不能晚于今天"));
    }
    if close && reason.is_empty() {
        return Err(Error::field("reason", "关停网站须写明原因（如：整合迁移至区政府门户网站）"));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = super::store::get(&mut c, id).await?.ok_or(Error::NotFound)?;
    let path = org_path(&mut c, before.org_id).await?;
    if !who.can(Perm::SettingsManage, path.as_deref(), Some(id)) {
        return Err(Error::Forbidden("不能变更该网站的状态".into()));
    }
    let on = fmt_date(on);
    match (close, before.status.as_str()) {
        (true, "closed") => return Err(Error::Conflict("该网站已关停".into())),
        (false, "open") => return Err(Error::Conflict("该网站正在运行".into())),
        _ => {}
    }
    if close && before.opened_on.as_deref().is_some_and(|o| on.as_str() < o) {
        return Err(Error::field("on_date", "关停日期不能早于开通日期"));
    }
    let now = crate::clock::now_ms();
    let (status, closed_on, opened_on) =
        if close { ("closed", Some(on.clone()), before.opened_on.clone()) } else { ("open", None, Some(on.clone())) };
    with_conn!(&mut c, x => {
        sqlx::query("UPDATE sites SET status = $1, closed_on = $2, opened_on = $3, close_reason = $4, version = version + 1, updated_at = $5 WHERE id = $6")
            .bind(status).bind(&closed_on).bind(&opened_on).bind(if close { reason } else { "" }).bind(now).bind(id)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    history(&mut c, id, status, &on, reason, Some(who.user_id)).await?;
    let after = super::store::get(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(
        &mut c,
        &who.actor(ip),
        if close { "site.close" } else { "site.reopen" },
        "site",
        id,
        json!({ "on": on, "reason": reason }),
    )
    .await?;
    outbox::emit(&mut c, "site.changed", id, json!({ "op": status })).await?;
    tx.commit().await?;
    Ok(after)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StatusChange {
    pub status: String,
    pub on_date: String,
    pub reason: String,
    pub at: i64,
}

pub async fn status_history(db: &Db, id: i64) -> Result<Vec<StatusChange>> {
    let mut h = db.read().await?;
    Ok(with_conn!(&mut h.conn(), x => {
        sqlx::query_as::<_, StatusChange>("SELECT status, on_date, reason, at FROM site_status_history WHERE site_id = $1 ORDER BY id")
            .bind(id).fetch_all(&mut **x).await
    })?)
}

/// Sites (hosted and external) opened and closed during a year, from the status history —
/// the figures of the yearly website reports.
pub async fn counts_in_year(db: &Db, year: i32) -> Result<(i64, i64)> {
    let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
    let mut h = db.read().await?;
    Ok(with_conn!(&mut h.conn(), x => {
        sqlx::query_as(
            "SELECT
                (SELECT COUNT(*) FROM site_status_history WHERE status = 'open' AND on_date >= $1 AND on_date <= $2),
                (SELECT COUNT(*) FROM site_status_history WHERE status = 'closed' AND on_date >= $1 AND on_date <= $2)",
        )
        .bind(&from).bind(&to).fetch_one(&mut **x).await
    })?)
}

pub async fn get(db: &Db, id: i64) -> Result<Site> {
    let mut h = db.read().await?;
    super::store::get(&mut h.conn(), id).await?.ok_or(Error::NotFound)
}
