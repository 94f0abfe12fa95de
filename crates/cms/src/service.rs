//! Use cases of the information resource library: each one validates, checks the
//! principal's scope, runs the pure workflow, writes, audits and emits on the outbox in
//! one transaction.

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::Date;

use gongkai_kernel::auth::{OrgScope, Perm, Principal};
use gongkai_kernel::clock::{fmt_date, now_ms, parse_date, today};
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::{Error, FieldErrors, Result, is_unique_violation};
use gongkai_kernel::{audit, outbox};

use crate::model::*;
use crate::privacy::{Finding, default_checks, scan_all};
use crate::rules::{self, Action, Workflow};
use crate::store::{self, Column, Item, ItemFields, NewColumn, WorkflowRow};

// ---------------------------------------------------------------- columns

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ColumnInput {
    pub site_id: String,
    pub parent_id: String,
    pub name: String,
    pub slug: String,
    pub kind: String,
    pub class: String,
    pub update_days: String,
    pub sort_order: String,
    pub visible: String,
    pub link_url: String,
    pub review_levels: String,
}

fn opt_i64(errs: &mut FieldErrors, field: &str, s: &str, msg: &str) -> Option<i64> {
    match s.trim() {
        "" => None,
        v => v.parse::<i64>().ok().filter(|n| *n >= 0).or_else(|| {
            errs.add(field, msg);
            None
        }),
    }
}

pub(crate) fn checkbox(s: &str) -> bool {
    matches!(s.trim(), "on" | "true" | "1" | "yes")
}

async fn site_org_path(c: &mut Conn<'_>, site_id: i64) -> Result<(gongkai_kernel::site::Site, Option<String>)> {
    let site =
        gongkai_kernel::site::store::get(c, site_id).await?.ok_or_else(|| Error::field("site_id", "网站不存在"))?;
    let path = match site.org_id {
        Some(o) => gongkai_kernel::org::store::get(c, o).await?.map(|o| o.path),
        None => None,
    };
    Ok((site, path))
}

/// A column form's validated values.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnValues {
    pub site_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub name: String,
    pub slug: String,
    pub kind: ColumnKind,
    pub class: ColumnClass,
    pub update_days: Option<i64>,
    pub sort_order: i64,
    pub visible: bool,
    pub link_url: String,
    pub review_levels: i64,
}

/// Pure validation of a column form, every problem at once.
pub fn validate_column(input: &ColumnInput) -> std::result::Result<ColumnValues, FieldErrors> {
    let mut errs = FieldErrors::new();
    let site_id = opt_i64(&mut errs, "site_id", &input.site_id, "请选择网站");
    let parent_id = opt_i64(&mut errs, "parent_id", &input.parent_id, "上级栏目无效");
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 50 {
        errs.add("name", "栏目名称为 1–50 个字");
    }
    let slug = input.slug.trim().to_lowercase();
    if let Err(m) = gongkai_kernel::site::validate_code(&slug) {
        errs.add("slug", m.replace("网站代号", "栏目代号"));
    }
    let kind = ColumnKind::parse(input.kind.trim());
    if kind.is_none() {
        errs.add("kind", "请选择栏目类型");
    }
    let class = ColumnClass::parse(input.class.trim());
    if class.is_none() {
        errs.add("class", "请选择栏目分类");
    }
    let update_days = opt_i64(&mut errs, "update_days", &input.update_days, "更新周期应为天数")
        .or_else(|| class.and_then(|c| c.default_update_days()).map(i64::from));
    let sort_order = opt_i64(&mut errs, "sort_order", &input.sort_order, "排序号应为整数").unwrap_or(0);
    let review_levels = match input.review_levels.trim() {
        "" => 1,
        v => v.parse::<i64>().ok().filter(|n| (1..=3).contains(n)).unwrap_or_else(|| {
            errs.add("review_levels", "审核级数为 1（初审）、2（复审）或 3（终审）");
            1
        }),
    };
    let link_url = input.link_url.trim().to_string();
    if kind == Some(ColumnKind::Link)
        && !(link_url.starts_with("https://") || link_url.starts_with("http://") || link_url.starts_with('/'))
    {
        errs.add("link_url", "外部链接栏目须填写以 http:// 或 https:// 开头的地址");
    }
    // Visible unless explicitly hidden ("off"), so API callers get the common default.
    let visible = !matches!(input.visible.trim(), "off" | "false" | "0" | "no");
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(ColumnValues {
        site_id,
        parent_id,
        name,
        slug,
        kind: kind.unwrap_or(ColumnKind::List),
        class: class.unwrap_or(ColumnClass::Other),
        update_days,
        sort_order,
        visible,
        link_url,
        review_levels,
    })
}

/// Create a column. System administrators whose scope covers the site's host organisation
/// (SettingsManage) manage columns.
pub async fn create_column(db: &Db, who: &Principal, ip: &str, input: &ColumnInput) -> Result<Column> {
    let v = validate_column(input).map_err(Error::Invalid)?;
    let (site_id, parent_id) = (v.site_id, v.parent_id);
    let site_id = site_id.ok_or_else(|| Error::field("site_id", "请选择网站"))?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let (site, org_path) = site_org_path(&mut c, site_id).await?;
    if site.external {
        return Err(Error::field("site_id", "外部网站不在本平台发布，不能建栏目"));
    }
    if !who.can(Perm::SettingsManage, org_path.as_deref(), Some(site_id)) {
        return Err(Error::Forbidden("不能管理该网站的栏目".into()));
    }
    let parent_path = match parent_id {
        Some(pid) => {
            let p = store::column(&mut c, pid).await?.ok_or_else(|| Error::field("parent_id", "上级栏目不存在"))?;
            if p.site_id != site_id {
                return Err(Error::field("parent_id", "上级栏目不属于该网站"));
            }
            p.path
        }
        None => "/".to_string(),
    };
    let n = NewColumn {
        site_id,
        parent_id,
        name: &v.name,
        slug: &v.slug,
        kind: v.kind.as_str(),
        class: v.class.as_str(),
        update_days: v.update_days,
        sort_order: v.sort_order,
        visible: v.visible,
        link_url: &v.link_url,
        review_levels: v.review_levels,
    };
    let id = match store::insert_column(&mut c, &n, &parent_path).await {
        Err(e) if is_unique_violation(&e) => return Err(Error::field("slug", "该网站已有相同代号的栏目")),
        r => r?,
    };
    let col = store::column(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, &who.actor(ip), "column.create", "column", id, json!({ "after": &col })).await?;
    outbox::emit(&mut c, "column.changed", id, json!({ "site_id": site_id })).await?;
    tx.commit().await?;
    Ok(col)
}

/// Edit a column (name, code, kind, class, interval, order, visibility, review depth). The
/// parent and site stay; `version` guards against overwriting a concurrent edit.
pub async fn update_column(
    db: &Db,
    who: &Principal,
    ip: &str,
    id: i64,
    input: &ColumnInput,
    version: i64,
) -> Result<Column> {
    let v = validate_column(input).map_err(Error::Invalid)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = store::column(&mut c, id).await?.ok_or(Error::NotFound)?;
    let (_, org_path) = site_org_path(&mut c, before.site_id).await?;
    if !who.can(Perm::SettingsManage, org_path.as_deref(), Some(before.site_id)) {
        return Err(Error::Forbidden("不能管理该网站的栏目".into()));
    }
    let now = now_ms();
    let n = gongkai_kernel::with_conn!(&mut c, x => {
        sqlx::query(
            "UPDATE columns SET name = $1, slug = $2, kind = $3, class = $4, update_days = $5, sort_order = $6, visible = $7,
                    link_url = $8, review_levels = $9, version = version + 1, updated_at = $10
             WHERE id = $11 AND version = $12",
        )
        .bind(&v.name).bind(&v.slug).bind(v.kind.as_str()).bind(v.class.as_str()).bind(v.update_days).bind(v.sort_order)
        .bind(v.visible).bind(&v.link_url).bind(v.review_levels).bind(now).bind(id).bind(version)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    });
    match n.map_err(Error::from) {
        Err(e) if is_unique_violation(&e) => return Err(Error::field("slug", "该网站已有相同代号的栏目")),
        Err(e) => return Err(e),
        Ok(0) => return Err(Error::Conflict("该栏目已被他人修改，请刷新页面后再保存".into())),
        Ok(_) => {}
    }
    let after = store::column(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, &who.actor(ip), "column.update", "column", id, json!({ "before": &before, "after": &after }))
        .await?;
    outbox::emit(&mut c, "column.changed", id, json!({ "site_id": after.site_id })).await?;
    tx.commit().await?;
    Ok(after)
}

/// Give (or take back) a user's per-column editor or reviewer grant.
pub async fn set_column_grant(
    db: &Db,
    who: &Principal,
    ip: &str,
    column_id: i64,
    username: &str,
    kind: &str,
    on: bool,
) -> Result<()> {
    if !matches!(kind, "edit" | "review") {
        return Err(Error::field("kind", "请选择编辑或审核"));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let col = store::column(&mut c, column_id).await?.ok_or(Error::NotFound)?;
    let (_, org_path) = site_org_path(&mut c, col.site_id).await?;
    if !who.can(Perm::SettingsManage, org_path.as_deref(), Some(col.site_id)) {
        return Err(Error::Forbidden("不能管理该网站的栏目".into()));
    }
    let user = gongkai_kernel::auth::store::user_by_username(&mut c, username.trim())
        .await?
        .ok_or_else(|| Error::field("username", format!("用户 {} 不存在", username.trim())))?;
    if on {
        store::grant_column(&mut c, column_id, user.id, kind).await?;
    } else {
        gongkai_kernel::with_conn!(&mut c, x => {
            sqlx::query("DELETE FROM column_grants WHERE column_id = $1 AND user_id = $2 AND kind = $3")
                .bind(column_id).bind(user.id).bind(kind).execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    audit::append(
        &mut c,
        &who.actor(ip),
        if on { "column.grant" } else { "column.revoke" },
        "column",
        column_id,
        json!({ "user": user.username, "kind": kind }),
    )
    .await?;
    outbox::emit(&mut c, "column.changed", column_id, json!({ "grants": true })).await?;
    tx.commit().await
}

/// Per-column grants of a column: (username, display name, kind).
pub async fn column_grants(db: &Db, column_id: i64) -> Result<Vec<(String, String, String)>> {
    let mut h = db.read().await?;
    Ok(gongkai_kernel::with_conn!(&mut h.conn(), x => {
        sqlx::query_as(
            "SELECT u.username, u.display_name, g.kind FROM column_grants g JOIN users u ON u.id = g.user_id
             WHERE g.column_id = $1 ORDER BY g.kind, u.username",
        )
        .bind(column_id).fetch_all(&mut **x).await
    })?)
}

/// Delete a column that holds no items and no sub-columns (refused with the reason).
pub async fn delete_column(db: &Db, who: &Principal, ip: &str, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let col = store::column(&mut c, id).await?.ok_or(Error::NotFound)?;
    let (_, org_path) = site_org_path(&mut c, col.site_id).await?;
    if !who.can(Perm::SettingsManage, org_path.as_deref(), Some(col.site_id)) {
        return Err(Error::Forbidden("不能管理该网站的栏目".into()));
    }
    let (children, items) = store::column_dependents(&mut c, id).await?;
    if children > 0 || items > 0 {
        return Err(Error::Conflict(format!(
            "栏目“{}”下还有 {children} 个子栏目、{items} 条信息，不能删除。请先把信息移到其他栏目或撤销推送，再删除栏目。",
            col.name
        )));
    }
    store::delete_column(&mut c, id).await?;
    audit::append(&mut c, &who.actor(ip), "column.delete", "column", id, json!({ "before": &col })).await?;
    outbox::emit(&mut c, "column.changed", id, json!({ "site_id": col.site_id, "op": "delete" })).await?;
    tx.commit().await
}

// ---------------------------------------------------------------- items

/// An item form as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ItemInput {
    pub home_column_id: String,
    pub class_code: String,
    pub title: String,
    pub subtitle: String,
    pub body: String,
    pub summary: String,
    pub source: String,
    pub author: String,
    pub publisher_org_id: String,
    pub subject_code: String,
    pub genre: String,
    pub doc_no: String,
    pub written_on: String,
    pub published_on: String,
    pub validity: String,
    pub validity_on: String,
    pub replaced_by_item_id: String,
    pub keywords: String,
    pub disclosure_mode: String,
    pub not_disclosed_reason: String,
    pub disclosure_scope: String,
    pub five_open: String,
    pub art20: String,
    pub is_rule: String,
    pub is_normative: String,
    pub normative_issued_on: String,
    pub normative_repealed_on: String,
    pub needs_interpretation: String,
    pub interpretation_form: String,
    pub external_id: String,
    pub version: String,
}

fn opt_date(errs: &mut FieldErrors, field: &str, label: &str, s: &str) -> Option<Date> {
    match s.trim() {
        "" => None,
        v => parse_date(v).or_else(|| {
            errs.add(field, format!("{label}应为有效日期，格式 YYYY-MM-DD"));
            None
        }),
    }
}

fn opt_enum<T>(errs: &mut FieldErrors, field: &str, msg: &str, s: &str, parse: fn(&str) -> Option<T>) -> Option<T> {
    match s.trim() {
        "" => None,
        v => parse(v).or_else(|| {
            errs.add(field, msg);
            None
        }),
    }
}

fn limit(errs: &mut FieldErrors, field: &str, label: &str, s: &str, max: usize) -> String {
    // Control characters (NUL above all: PostgreSQL text cannot hold it) never belong in metadata.
    let t: String = s.trim().chars().filter(|c| !c.is_control() || *c == '\n').collect();
    if t.chars().count() > max {
        errs.add(field, format!("{label}不能超过 {max} 个字"));
    }
    t
}

/// Validate an item form (pure except for the calendar date used to refuse future dates).
impl ItemInput {
    /// The form as it would show a stored item (what the console's editor starts from).
    pub fn from_item(it: &store::Item) -> ItemInput {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let b = |v: bool| if v { "on".to_string() } else { String::new() };
        ItemInput {
            home_column_id: it.home_column_id.to_string(),
            class_code: it.class_code.clone(),
            title: it.title.clone(),
            subtitle: it.subtitle.clone(),
            body: it.body.clone(),
            summary: it.summary.clone(),
            source: it.source.clone(),
            author: it.author.clone(),
            publisher_org_id: it.publisher_org_id.map(|v| v.to_string()).unwrap_or_default(),
            subject_code: s(&it.subject_code),
            genre: s(&it.genre),
            doc_no: it.doc_no.clone(),
            written_on: s(&it.written_on),
            published_on: s(&it.published_on),
            validity: it.validity.clone(),
            validity_on: s(&it.validity_on),
            replaced_by_item_id: it.replaced_by_item_id.map(|v| v.to_string()).unwrap_or_default(),
            keywords: it.keywords.replace(',', "，"),
            disclosure_mode: it.disclosure_mode.clone(),
            not_disclosed_reason: it.not_disclosed_reason.clone(),
            disclosure_scope: it.disclosure_scope.clone(),
            five_open: s(&it.five_open),
            art20: s(&it.art20),
            is_rule: b(it.is_rule),
            is_normative: b(it.is_normative),
            normative_issued_on: s(&it.normative_issued_on),
            normative_repealed_on: s(&it.normative_repealed_on),
            needs_interpretation: b(it.needs_interpretation),
            interpretation_form: s(&it.interpretation_form),
            external_id: s(&it.external_id),
            version: it.version.to_string(),
        }
    }
}

pub fn validate_item(input: &ItemInput, today: Date) -> std::result::Result<ItemFields, FieldErrors> {
    let mut errs = FieldErrors::new();
    let title = rules::validate_title(&input.title).unwrap_or_else(|m| {
        errs.add("title", m);
        String::new()
    });
    let home_column_id = input.home_column_id.trim().parse::<i64>().unwrap_or_else(|_| {
        errs.add("home_column_id", "请选择所属栏目");
        0
    });
    let class_code = input.class_code.trim().to_string();
    if class_code.is_empty() {
        errs.add("class_code", "请选择信息类别");
    }
    let subtitle = limit(&mut errs, "subtitle", "副标题", &input.subtitle, 200);
    let summary = limit(&mut errs, "summary", "摘要", &input.summary, 500);
    let source = limit(&mut errs, "source", "来源", &input.source, 100);
    let author = limit(&mut errs, "author", "作者", &input.author, 50);
    if input.body.len() > 2 * 1024 * 1024 {
        errs.add("body", "正文过长（超过 2 MB），请把大段内容放入附件");
    }
    let body = crate::html::sanitize_body(&input.body);
    let missing_alt = crate::html::images_missing_alt(&body);
    if !missing_alt.is_empty() {
        errs.add(
            "body",
            format!("正文中有 {} 张图片缺少替代文字（alt），请为每张图片填写说明，方便视障读者", missing_alt.len()),
        );
    }
    let publisher_org_id = input.publisher_org_id.trim().parse::<i64>().ok();
    if publisher_org_id.is_none() {
        errs.add("publisher_org_id", "请选择发布机构");
    }
    let subject_code = Some(input.subject_code.trim().to_string()).filter(|s| !s.is_empty());
    let genre =
        opt_enum(&mut errs, "genre", "体裁分类无效", &input.genre, Genre::parse).map(|g| g.as_str().to_string());
    let doc_no = match input.doc_no.trim() {
        "" => String::new(),
        v => rules::validate_doc_no(v).unwrap_or_else(|m| {
            errs.add("doc_no", m);
            String::new()
        }),
    };
    let written_on = opt_date(&mut errs, "written_on", "成文日期", &input.written_on);
    let published_on = opt_date(&mut errs, "published_on", "发布日期", &input.published_on);
    if let Some(w) = written_on
        && w > today
    {
        errs.add("written_on", "成文日期不能晚于今天");
    }
    if let (Some(w), Some(p)) = (written_on, published_on)
        && p < w
    {
        errs.add("published_on", "发布日期不能早于成文日期");
    }
    let validity = match input.validity.trim() {
        "" => Validity::Valid,
        v => Validity::parse(v).unwrap_or_else(|| {
            errs.add("validity", "有效性无效");
            Validity::Valid
        }),
    };
    let validity_on = opt_date(&mut errs, "validity_on", "失效或废止日期", &input.validity_on);
    let replaced_by_item_id = input.replaced_by_item_id.trim().parse::<i64>().ok();
    if validity != Validity::Valid && validity_on.is_none() {
        errs.add("validity_on", "失效或废止的文件须填写日期");
    }
    if validity == Validity::Repealed && replaced_by_item_id.is_none() && !input.replaced_by_item_id.trim().is_empty() {
        errs.add("replaced_by_item_id", "替代文件编号无效");
    }
    let keywords = rules::validate_keywords(&input.keywords).unwrap_or_else(|m| {
        errs.add("keywords", m);
        Vec::new()
    });
    let disclosure_mode = match input.disclosure_mode.trim() {
        "" => DisclosureMode::Proactive,
        v => DisclosureMode::parse(v).unwrap_or_else(|| {
            errs.add("disclosure_mode", "公开方式无效");
            DisclosureMode::Proactive
        }),
    };
    let not_disclosed_reason =
        limit(&mut errs, "not_disclosed_reason", "不予公开理由", &input.not_disclosed_reason, 500);
    if disclosure_mode == DisclosureMode::NotDisclosed && not_disclosed_reason.is_empty() {
        errs.add("not_disclosed_reason", "不予公开须写明理由");
    }
    let disclosure_scope = match limit(&mut errs, "disclosure_scope", "公开范围", &input.disclosure_scope, 50) {
        s if s.is_empty() => "全社会".to_string(),
        s => s,
    };
    let five_open = opt_enum(&mut errs, "five_open", "“五公开”类别无效", &input.five_open, FiveOpen::parse)
        .map(|v| v.as_str().to_string());
    let art20 =
        opt_enum(&mut errs, "art20", "第二十条类别无效", &input.art20, Art20::parse).map(|v| v.as_str().to_string());
    let is_rule = checkbox(&input.is_rule);
    let is_normative = checkbox(&input.is_normative);
    let normative_issued_on =
        opt_date(&mut errs, "normative_issued_on", "规范性文件印发日期", &input.normative_issued_on);
    let normative_repealed_on =
        opt_date(&mut errs, "normative_repealed_on", "规范性文件废止日期", &input.normative_repealed_on);
    if is_normative && normative_issued_on.is_none() && written_on.is_none() {
        errs.add("normative_issued_on", "行政规范性文件须填写印发日期（或成文日期）");
    }
    let interpretation_form = opt_enum(
        &mut errs,
        "interpretation_form",
        "解读形式无效",
        &input.interpretation_form,
        InterpretationForm::parse,
    )
    .map(|v| v.as_str().to_string());
    if class_code == "interpretation" && interpretation_form.is_none() {
        errs.add("interpretation_form", "政策解读须选择解读形式");
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(ItemFields {
        home_column_id,
        class_code,
        title,
        subtitle,
        summary: if summary.is_empty() { crate::html::summarize(&body, 120) } else { summary },
        body,
        source,
        author,
        publisher_org_id,
        subject_code,
        genre,
        doc_no,
        written_on: written_on.map(fmt_date),
        published_on: published_on.map(fmt_date),
        validity: validity.as_str().to_string(),
        validity_on: validity_on.map(fmt_date),
        replaced_by_item_id,
        keywords,
        disclosure_mode: disclosure_mode.as_str().to_string(),
        not_disclosed_reason,
        disclosure_scope,
        five_open,
        art20,
        is_rule,
        is_normative,
        normative_issued_on: normative_issued_on.or(if is_normative { written_on } else { None }).map(fmt_date),
        normative_repealed_on: normative_repealed_on.map(fmt_date),
        needs_interpretation: checkbox(&input.needs_interpretation),
        interpretation_form,
    })
}

/// Where an item lives, for permission checks.
struct Place {
    column: Column,
    org_path: Option<String>,
}

async fn place_of(c: &mut Conn<'_>, column_id: i64, publisher_org_id: Option<i64>) -> Result<Place> {
    let column = store::column(c, column_id).await?.ok_or_else(|| Error::field("home_column_id", "所属栏目不存在"))?;
    let org_path = match publisher_org_id {
        Some(o) => Some(
            gongkai_kernel::org::store::get(c, o)
                .await?
                .ok_or_else(|| Error::field("publisher_org_id", "发布机构不存在"))?
                .path,
        ),
        None => None,
    };
    Ok(Place { column, org_path })
}

async fn may(c: &mut Conn<'_>, who: &Principal, perm: Perm, p: &Place) -> Result<bool> {
    if who.can(perm, p.org_path.as_deref(), Some(p.column.site_id)) {
        return Ok(true);
    }
    let kind = if perm == Perm::ContentReview { "review" } else { "edit" };
    store::has_column_grant(c, p.column.id, who.user_id, kind).await
}

/// May `who` act with `perm` on this item (by role scope or a per-column grant)?
pub(crate) async fn may_on_item(c: &mut Conn<'_>, who: &Principal, perm: Perm, item: &Item) -> Result<bool> {
    let p = place_of(c, item.home_column_id, item.publisher_org_id).await?;
    may(c, who, perm, &p).await
}

fn workflow_of(item: &Item) -> Workflow {
    Workflow {
        status: ItemStatus::parse(&item.status).unwrap_or(ItemStatus::Draft),
        level: item.review_level.clamp(0, 3) as u8,
        levels_required: item.levels_required.clamp(1, 3) as u8,
        publish_at: item.publish_at,
        live: item.live,
    }
}

fn refusal(r: rules::Refusal) -> Error {
    Error::Conflict(r.message_zh())
}

/// Create a draft (version 1).
pub async fn create_item(db: &Db, who: &Principal, ip: &str, input: &ItemInput) -> Result<Item> {
    let f = validate_item(input, today()).map_err(Error::Invalid)?;
    let ext = Some(input.external_id.trim()).filter(|s| !s.is_empty());
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let p = place_of(&mut c, f.home_column_id, f.publisher_org_id).await?;
    if !may(&mut c, who, Perm::ContentEdit, &p).await? {
        return Err(Error::Forbidden("您没有在该栏目发布该机构信息的权限".into()));
    }
    let id = match store::insert_item(&mut c, &f, ext, p.column.review_levels, Some(who.user_id)).await {
        Err(e) if is_unique_violation(&e) => return Err(Error::field("external_id", "该外部编号已导入过")),
        r => r?,
    };
    store::insert_version(&mut c, id, 1, &serde_json::to_string(&f).unwrap_or_default(), Some(who.user_id)).await?;
    store::place(&mut c, id, f.home_column_id, true).await?;
    let item = store::item(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "item.create",
        "item",
        id,
        json!({ "title": item.title, "column": f.home_column_id }),
    )
    .await?;
    crate::public::changed(&mut c, "item.changed", id, json!({ "version": 1 })).await?;
    tx.commit().await?;
    Ok(item)
}

/// Save an edit as a new version. A second save based on a stale version is refused
/// (the editor is told, nothing is overwritten).
pub async fn save_item(db: &Db, who: &Principal, ip: &str, id: i64, input: &ItemInput) -> Result<Item> {
    let f = validate_item(input, today()).map_err(Error::Invalid)?;
    let expected: i64 =
        input.version.trim().parse().map_err(|_| Error::field("version", "缺少版本号，请刷新后重试"))?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = store::item(&mut c, id).await?.ok_or(Error::NotFound)?;
    let p = place_of(&mut c, before.home_column_id, before.publisher_org_id).await?;
    let target = place_of(&mut c, f.home_column_id, f.publisher_org_id).await?;
    if !may(&mut c, who, Perm::ContentEdit, &p).await? || !may(&mut c, who, Perm::ContentEdit, &target).await? {
        return Err(Error::Forbidden("您没有编辑该信息的权限".into()));
    }
    let next = rules::transition(&workflow_of(&before), &Action::Edit, now_ms()).map_err(refusal)?;
    let Some(version) = store::update_item_fields(&mut c, id, expected, &f).await? else {
        return Err(Error::Conflict(format!(
            "这条信息已被他人修改（当前为第 {} 版，您编辑的是第 {expected} 版）。为免覆盖对方的修改，本次未保存；请复制您的改动，刷新后重新编辑。",
            before.version
        )));
    };
    store::insert_version(&mut c, id, version, &serde_json::to_string(&f).unwrap_or_default(), Some(who.user_id))
        .await?;
    if f.home_column_id != before.home_column_id {
        store::rehome(&mut c, id, f.home_column_id).await?;
    }
    write_workflow(&mut c, &before, &next, before.live_version, "").await?;
    let item = store::item(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, &who.actor(ip), "item.save", "item", id, json!({ "version": version, "title": item.title }))
        .await?;
    crate::public::changed(&mut c, "item.changed", id, json!({ "version": version })).await?;
    tx.commit().await?;
    Ok(item)
}

async fn write_workflow(
    c: &mut Conn<'_>,
    before: &Item,
    w: &Workflow,
    live_version: Option<i64>,
    reason: &str,
) -> Result<()> {
    let row = WorkflowRow {
        status: w.status.as_str(),
        review_level: w.level as i64,
        publish_at: w.publish_at,
        live: w.live,
        live_version: if w.live { live_version } else { None },
        withdrawn_reason: if w.status == ItemStatus::Withdrawn { reason } else { &before.withdrawn_reason },
    };
    store::set_workflow(c, before.id, &row).await
}

/// The pre-publish checks over an item's text fields.
pub fn privacy_findings(item: &Item) -> Vec<Finding> {
    let fields = [
        ("title", item.title.as_str()),
        ("subtitle", item.subtitle.as_str()),
        ("summary", item.summary.as_str()),
        ("body", item.body_text.as_str()),
    ];
    scan_all(&default_checks(), &fields, today())
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub status: String,
    /// Personal data found by the pre-publish checks, with their exact spots.
    pub findings: Vec<Finding>,
    /// True when nothing was changed because findings need a decision.
    pub held: bool,
    /// A policy document marked as needing an interpretation went live without one.
    pub missing_interpretation: bool,
    pub index_no: Option<String>,
}

/// Submit a draft for review. Personal data found by the checks holds the submission
/// until the editor confirms (the reviewer then decides).
pub async fn submit(db: &Db, who: &Principal, ip: &str, id: i64, confirm_findings: bool) -> Result<Outcome> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let item = store::item(&mut c, id).await?.ok_or(Error::NotFound)?;
    let p = place_of(&mut c, item.home_column_id, item.publisher_org_id).await?;
    if !may(&mut c, who, Perm::ContentEdit, &p).await? {
        return Err(Error::Forbidden("您没有提交该信息的权限".into()));
    }
    let findings = privacy_findings(&item);
    if !findings.is_empty() && !confirm_findings {
        return Ok(Outcome {
            status: item.status,
            findings,
            held: true,
            missing_interpretation: false,
            index_no: item.index_no,
        });
    }
    // The review depth is the home column's at submission time.
    let mut wf = workflow_of(&item);
    wf.levels_required = p.column.review_levels.clamp(1, 3) as u8;
    let next = rules::transition(&wf, &Action::Submit, now_ms()).map_err(refusal)?;
    with_levels(&mut c, id, p.column.review_levels).await?;
    write_workflow(&mut c, &item, &next, item.live_version, "").await?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "item.submit",
        "item",
        id,
        json!({ "version": item.version, "findings": findings.len() }),
    )
    .await?;
    crate::public::changed(&mut c, "item.changed", id, json!({ "status": next.status.as_str() })).await?;
    tx.commit().await?;
    Ok(Outcome {
        status: next.status.as_str().into(),
        findings,
        held: false,
        missing_interpretation: false,
        index_no: item.index_no,
    })
}

async fn with_levels(c: &mut Conn<'_>, id: i64, levels: i64) -> Result<()> {
    gongkai_kernel::with_conn!(c, x => {
        sqlx::query("UPDATE items SET levels_required = $1 WHERE id = $2").bind(levels.clamp(1, 3)).bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Approve at the current level. At the last level the item is published (or scheduled);
/// personal data found by the checks must be overridden with a reason.
pub async fn approve(
    db: &Db,
    who: &Principal,
    ip: &str,
    id: i64,
    publish_at: Option<i64>,
    comment: &str,
    override_reason: &str,
) -> Result<Outcome> {
    let comment = comment.trim();
    let override_reason = override_reason.trim();
    let now = now_ms();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let item = store::item(&mut c, id).await?.ok_or(Error::NotFound)?;
    let p = place_of(&mut c, item.home_column_id, item.publisher_org_id).await?;
    if !may(&mut c, who, Perm::ContentReview, &p).await? {
        return Err(Error::Forbidden("您没有审核该信息的权限".into()));
    }
    let wf = workflow_of(&item);
    let next = rules::transition(&wf, &Action::Approve { publish_at }, now).map_err(refusal)?;
    let findings = privacy_findings(&item);
    let final_level = next.status != ItemStatus::InReview;
    if final_level && !findings.is_empty() && override_reason.is_empty() {
        let spots: Vec<String> =
            findings.iter().take(3).map(|f| format!("{}（{}）", f.kind.label_zh(), f.excerpt)).collect();
        return Err(Error::field(
            "override_reason",
            format!("发现 {} 处个人信息：{}。请退回修改；如确需发布，请填写理由。", findings.len(), spots.join("；")),
        ));
    }
    let decision = if final_level && !findings.is_empty() { "override" } else { "approve" };
    let signature = if decision == "override" {
        format!("{comment}（放行理由：{override_reason}）")
    } else {
        comment.to_string()
    };
    store::insert_review(&mut c, id, item.version, wf.level as i64, decision, &signature, Some(who.user_id)).await?;
    let mut index_no = item.index_no.clone();
    if next.status == ItemStatus::Published {
        index_no = Some(publish_effects(&mut c, &item, now).await?);
    }
    write_workflow(&mut c, &item, &next, Some(item.version), "").await?;
    let missing_interpretation = next.status == ItemStatus::Published
        && item.needs_interpretation
        && !has_live_interpretation(&mut c, id).await?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "item.review",
        "item",
        id,
        json!({ "decision": decision, "level": wf.level, "level_label": rules::level_label(wf.level), "version": item.version,
                "comment": comment, "override_reason": override_reason, "findings": findings.len(), "status": next.status.as_str() }),
    )
    .await?;
    crate::public::changed(
        &mut c,
        if next.status == ItemStatus::Published { "item.published" } else { "item.changed" },
        id,
        json!({ "version": item.version }),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome { status: next.status.as_str().into(), findings, held: false, missing_interpretation, index_no })
}

async fn has_live_interpretation(c: &mut Conn<'_>, id: i64) -> Result<bool> {
    let (interps, _) = store::interpretation_links(c, id).await?;
    for i in interps {
        if store::item(c, i).await?.is_some_and(|it| it.live) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// First publication: 索引号 from the publisher's code, date and home placement.
async fn publish_effects(c: &mut Conn<'_>, item: &Item, now: i64) -> Result<String> {
    if let Some(no) = &item.index_no {
        return Ok(no.clone());
    }
    let org_id = item.publisher_org_id.ok_or_else(|| Error::Conflict("请先为该信息选择发布机构".into()))?;
    let org = gongkai_kernel::org::store::get(c, org_id).await?.ok_or(Error::NotFound)?;
    let code = org.index_code().ok_or_else(|| {
        Error::Conflict(format!(
            "发布机构“{}”缺少统一社会信用代码或组织机构代码，无法生成索引号。请系统管理员在机构管理中补充。",
            org.name
        ))
    })?;
    let published_on = item.published_on.clone().unwrap_or_else(|| fmt_date(today()));
    let year = published_on.get(..4).and_then(|y| y.parse::<i32>().ok()).unwrap_or_else(|| today().year());
    let serial = store::next_index_serial(c, org.id, year as i64).await?;
    let no = rules::format_index_no(code, year, serial as u32).map_err(Error::Conflict)?;
    store::set_published(c, item.id, Some(&no), &published_on, now).await?;
    store::place(c, item.id, item.home_column_id, true).await?;
    Ok(no)
}

/// A reviewer's one-step action (reject, withdraw, cancel a schedule).
async fn simple_action(db: &Db, who: &Principal, ip: &str, id: i64, action: Action, reason: &str) -> Result<Item> {
    let verb = match action {
        Action::Reject => "item.reject",
        Action::Withdraw => "item.withdraw",
        Action::CancelSchedule => "item.cancel_schedule",
        _ => "item.action",
    };
    let perm = Perm::ContentReview;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let item = store::item(&mut c, id).await?.ok_or(Error::NotFound)?;
    let p = place_of(&mut c, item.home_column_id, item.publisher_org_id).await?;
    if !may(&mut c, who, perm, &p).await? {
        return Err(Error::Forbidden("您没有进行该操作的权限".into()));
    }
    let wf = workflow_of(&item);
    let next = rules::transition(&wf, &action, now_ms()).map_err(refusal)?;
    if matches!(action, Action::Reject) {
        store::insert_review(&mut c, id, item.version, wf.level as i64, "reject", reason, Some(who.user_id)).await?;
    }
    write_workflow(&mut c, &item, &next, item.live_version, reason).await?;
    audit::append(
        &mut c,
        &who.actor(ip),
        verb,
        "item",
        id,
        json!({ "reason": reason, "from": item.status, "to": next.status.as_str() }),
    )
    .await?;
    crate::public::changed(&mut c, "item.changed", id, json!({ "status": next.status.as_str(), "live": next.live }))
        .await?;
    let after = store::item(&mut c, id).await?.ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(after)
}

/// Return to the editor with a comment (required).
pub async fn reject(db: &Db, who: &Principal, ip: &str, id: i64, comment: &str) -> Result<Item> {
    let comment = comment.trim();
    if comment.is_empty() {
        return Err(Error::field("comment", "退回须写明修改意见"));
    }
    simple_action(db, who, ip, id, Action::Reject, comment).await
}

/// 撤稿: take the public version down; the record and its history stay.
pub async fn withdraw(db: &Db, who: &Principal, ip: &str, id: i64, reason: &str) -> Result<Item> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::field("reason", "撤稿须写明理由"));
    }
    simple_action(db, who, ip, id, Action::Withdraw, reason).await
}

pub async fn cancel_schedule(db: &Db, who: &Principal, ip: &str, id: i64) -> Result<Item> {
    simple_action(db, who, ip, id, Action::CancelSchedule, "").await
}

/// Publish every scheduled item whose time has come (the `cms.publish_due` job).
pub async fn publish_due(db: &Db) -> Result<usize> {
    let now = now_ms();
    let ids = {
        let mut h = db.read().await?;
        store::due_scheduled(&mut h.conn(), now, 500).await?
    };
    let actor = audit::Actor::system("cms.publish_due");
    let mut n = 0;
    for id in ids {
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        let Some(item) = store::item(&mut c, id).await? else { continue };
        // Re-checked inside the transaction: another node may have published it already.
        let Ok(next) = rules::transition(&workflow_of(&item), &Action::PublishDue, now) else { continue };
        let index_no = publish_effects(&mut c, &item, now).await?;
        write_workflow(&mut c, &item, &next, Some(item.version), "").await?;
        audit::append(
            &mut c,
            &actor,
            "item.publish_scheduled",
            "item",
            id,
            json!({ "index_no": index_no, "version": item.version }),
        )
        .await?;
        crate::public::changed(&mut c, "item.published", id, json!({ "version": item.version })).await?;
        tx.commit().await?;
        n += 1;
    }
    Ok(n)
}

/// 推送: show an item in another column (any site) without copying it.
pub async fn push(db: &Db, who: &Principal, ip: &str, item_id: i64, column_id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let item = store::item(&mut c, item_id).await?.ok_or(Error::NotFound)?;
    let target = place_of(&mut c, column_id, item.publisher_org_id).await?;
    if !may(&mut c, who, Perm::ContentEdit, &target).await? {
        return Err(Error::Forbidden("您没有向该栏目推送信息的权限".into()));
    }
    store::place(&mut c, item_id, column_id, false).await?;
    audit::append(&mut c, &who.actor(ip), "item.push", "item", item_id, json!({ "column": column_id })).await?;
    crate::public::changed(&mut c, "item.changed", item_id, json!({ "placed": column_id })).await?;
    tx.commit().await
}

/// Link an interpretation to the policy document it explains (shown both ways).
pub async fn link_interpretation(
    db: &Db,
    who: &Principal,
    ip: &str,
    interpretation_id: i64,
    policy_id: i64,
) -> Result<()> {
    if interpretation_id == policy_id {
        return Err(Error::field("policy_id", "解读不能关联自己"));
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let interp = store::item(&mut c, interpretation_id).await?.ok_or(Error::NotFound)?;
    store::item(&mut c, policy_id).await?.ok_or_else(|| Error::field("policy_id", "被解读的文件不存在"))?;
    if interp.class_code != "interpretation" {
        return Err(Error::field("policy_id", "只有“政策解读”类信息可以关联被解读文件"));
    }
    let p = place_of(&mut c, interp.home_column_id, interp.publisher_org_id).await?;
    if !may(&mut c, who, Perm::ContentEdit, &p).await? {
        return Err(Error::Forbidden("您没有编辑该解读的权限".into()));
    }
    store::link_interpretation(&mut c, interpretation_id, policy_id).await?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "item.link_interpretation",
        "item",
        interpretation_id,
        json!({ "policy": policy_id }),
    )
    .await?;
    crate::public::changed(&mut c, "item.changed", policy_id, json!({ "interpretation": interpretation_id })).await?;
    tx.commit().await
}

/// What waits for this reviewer, across sites.
pub async fn review_queue(db: &Db, who: &Principal) -> Result<Vec<Item>> {
    let paths = match who.org_scope(Perm::ContentReview) {
        OrgScope::All => None,
        OrgScope::Paths(p) => Some(p),
        OrgScope::None => Some(Vec::new()),
    };
    let mut h = db.read().await?;
    store::review_queue(&mut h.conn(), paths.as_deref(), None, 500).await
}

/// A readable diff between two saved versions: per field, the old and new value.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

pub async fn diff_versions(db: &Db, item_id: i64, a: i64, b: i64) -> Result<Vec<FieldChange>> {
    let versions = {
        let mut h = db.read().await?;
        store::versions(&mut h.conn(), item_id).await?
    };
    let get = |v: i64| -> Result<serde_json::Map<String, serde_json::Value>> {
        let row = versions.iter().find(|r| r.version == v).ok_or(Error::NotFound)?;
        match serde_json::from_str::<serde_json::Value>(&row.data) {
            Ok(serde_json::Value::Object(m)) => Ok(m),
            _ => Err(Error::internal("版本数据损坏")),
        }
    };
    let (old, new) = (get(a)?, get(b)?);
    let show = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let mut keys: Vec<&String> = new.keys().chain(old.keys()).collect();
    keys.sort();
    keys.dedup();
    Ok(keys
        .into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| {
            let (before, after) = if k == "body" {
                (crate::html::to_text(&show(old.get(k))), crate::html::to_text(&show(new.get(k))))
            } else {
                (show(old.get(k)), show(new.get(k)))
            };
            FieldChange { field: k.clone(), before, after }
        })
        .collect())
}

/// Move an item's home to another column (any site), keeping its other placements.
pub async fn move_item(db: &Db, who: &Principal, ip: &str, id: i64, column_id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let item = store::item(&mut c, id).await?.ok_or(Error::NotFound)?;
    let from = place_of(&mut c, item.home_column_id, item.publisher_org_id).await?;
    let to = place_of(&mut c, column_id, item.publisher_org_id).await?;
    if !may(&mut c, who, Perm::ContentEdit, &from).await? || !may(&mut c, who, Perm::ContentEdit, &to).await? {
        return Err(Error::Forbidden("您没有移动该信息的权限".into()));
    }
    if item.home_column_id == column_id {
        return Ok(());
    }
    gongkai_kernel::with_conn!(&mut c, x => {
        sqlx::query("UPDATE items SET home_column_id = $1, updated_at = $2 WHERE id = $3")
            .bind(column_id).bind(now_ms()).bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    store::rehome(&mut c, id, column_id).await?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "item.move",
        "item",
        id,
        json!({ "from": item.home_column_id, "to": column_id }),
    )
    .await?;
    crate::public::changed(&mut c, "item.changed", id, json!({ "moved": column_id })).await?;
    tx.commit().await
}

/// One line of a bulk action's report.
#[derive(Debug, Clone, Serialize)]
pub struct BulkResult {
    pub id: i64,
    pub ok: bool,
    pub message: String,
}

/// Apply one action to many items, each in its own transaction, so one refusal (a
/// permission, a state) never blocks the others; every outcome is reported.
pub async fn bulk(
    db: &Db,
    who: &Principal,
    ip: &str,
    ids: &[i64],
    action: &str,
    column_id: Option<i64>,
    reason: &str,
) -> Result<Vec<BulkResult>> {
    if ids.is_empty() {
        return Err(Error::field("ids", "请先勾选要处理的信息"));
    }
    if ids.len() > 500 {
        return Err(Error::field("ids", "一次最多处理 500 条信息"));
    }
    let needs_column = matches!(action, "move" | "push");
    if needs_column && column_id.is_none() {
        return Err(Error::field("column_id", "请选择目标栏目"));
    }
    if action == "withdraw" && reason.trim().is_empty() {
        return Err(Error::field("reason", "撤稿须写明理由"));
    }
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        let r = match (action, column_id) {
            ("move", Some(col)) => move_item(db, who, ip, id, col).await,
            ("push", Some(col)) => push(db, who, ip, id, col).await,
            ("withdraw", _) => withdraw(db, who, ip, id, reason).await.map(|_| ()),
            _ => return Err(Error::field("action", "请选择批量操作")),
        };
        out.push(match r {
            Ok(()) => BulkResult { id, ok: true, message: "完成".into() },
            Err(Error::Invalid(f)) => {
                BulkResult {
                    id, ok: false, message: f.0.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>().join("；")
                }
            }
            Err(e @ (Error::Forbidden(_) | Error::Conflict(_) | Error::NotFound)) => {
                BulkResult { id, ok: false, message: e.to_string() }
            }
            Err(e) => return Err(e),
        });
    }
    Ok(out)
}

/// Choose one of the item's image attachments as its cover (or none).
pub async fn set_cover(
    db: &Db,
    who: &Principal,
    ip: &str,
    item_id: i64,
    item_attachment_id: Option<i64>,
) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let item = store::item(&mut c, item_id).await?.ok_or(Error::NotFound)?;
    if !may_on_item(&mut c, who, Perm::ContentEdit, &item).await? {
        return Err(Error::Forbidden("您没有编辑该信息的权限".into()));
    }
    let attachment_id = match item_attachment_id {
        None => None,
        Some(ia) => {
            let row: Option<(i64, i64, String)> = gongkai_kernel::with_conn!(&mut c, x => {
                sqlx::query_as(
                    "SELECT ia.item_id, a.id, a.mime FROM item_attachments ia JOIN attachments a ON a.id = ia.attachment_id WHERE ia.id = $1",
                )
                .bind(ia).fetch_optional(&mut **x).await
            })?;
            match row {
                Some((owner, aid, mime)) if owner == item_id && mime.starts_with("image/") => Some(aid),
                Some((owner, ..)) if owner == item_id => return Err(Error::field("cover", "封面只能是图片附件")),
                _ => return Err(Error::field("cover", "该附件不属于这条信息")),
            }
        }
    };
    gongkai_kernel::with_conn!(&mut c, x => {
        sqlx::query("UPDATE items SET cover_attachment_id = $1, updated_at = $2 WHERE id = $3")
            .bind(attachment_id).bind(now_ms()).bind(item_id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    audit::append(&mut c, &who.actor(ip), "item.cover", "item", item_id, json!({ "attachment": attachment_id }))
        .await?;
    crate::public::changed(&mut c, "item.changed", item_id, json!({ "cover": attachment_id })).await?;
    tx.commit().await
}
