//! SQL for columns, items, versions, placements, reviews and 索引号 serials.

use serde::Serialize;

use gongkai_kernel::Result;
use gongkai_kernel::db::Conn;
use gongkai_kernel::with_conn;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Column {
    pub id: i64,
    pub site_id: i64,
    pub parent_id: Option<i64>,
    pub path: String,
    pub name: String,
    pub slug: String,
    pub kind: String,
    pub class: String,
    pub update_days: Option<i64>,
    pub sort_order: i64,
    pub visible: bool,
    pub link_url: String,
    pub review_levels: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct NewColumn<'a> {
    pub site_id: i64,
    pub parent_id: Option<i64>,
    pub name: &'a str,
    pub slug: &'a str,
    pub kind: &'a str,
    pub class: &'a str,
    pub update_days: Option<i64>,
    pub sort_order: i64,
    pub visible: bool,
    pub link_url: &'a str,
    pub review_levels: i64,
}

pub async fn insert_column(c: &mut Conn<'_>, n: &NewColumn<'_>, parent_path: &str) -> Result<i64> {
    let now = gongkai_kernel::clock::now_ms();
    let id: i64 = with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO columns (site_id, parent_id, path, name, slug, kind, class, update_days, sort_order, visible, link_url, review_levels, created_at, updated_at)
             VALUES ($1, $2, '', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(n.site_id).bind(n.parent_id).bind(n.name).bind(n.slug).bind(n.kind).bind(n.class).bind(n.update_days)
        .bind(n.sort_order).bind(n.visible).bind(n.link_url).bind(n.review_levels).bind(now)
        .fetch_one(&mut **x).await
    })?;
    let path = format!("{parent_path}{id}/");
    with_conn!(c, x => sqlx::query("UPDATE columns SET path = $1 WHERE id = $2").bind(&path).bind(id).execute(&mut **x).await.map(|r| r.rows_affected()))?;
    Ok(id)
}

pub async fn column(c: &mut Conn<'_>, id: i64) -> Result<Option<Column>> {
    Ok(
        with_conn!(c, x => sqlx::query_as::<_, Column>("SELECT * FROM columns WHERE id = $1").bind(id).fetch_optional(&mut **x).await)?,
    )
}

pub async fn columns_of_site(c: &mut Conn<'_>, site_id: i64) -> Result<Vec<Column>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Column>("SELECT * FROM columns WHERE site_id = $1 ORDER BY path").bind(site_id).fetch_all(&mut **x).await
    })?)
}

/// (sub-columns, items placed in the column)
pub async fn column_dependents(c: &mut Conn<'_>, id: i64) -> Result<(i64, i64)> {
    Ok(with_conn!(c, x => {
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM columns WHERE parent_id = $1), (SELECT COUNT(*) FROM item_placements WHERE column_id = $1)")
            .bind(id).fetch_one(&mut **x).await
    })?)
}

pub async fn delete_column(c: &mut Conn<'_>, id: i64) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("DELETE FROM column_grants WHERE column_id = $1").bind(id).execute(&mut **x).await?;
        sqlx::query("DELETE FROM columns WHERE id = $1").bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn grant_column(c: &mut Conn<'_>, column_id: i64, user_id: i64, kind: &str) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("INSERT INTO column_grants (column_id, user_id, kind) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(column_id).bind(user_id).bind(kind).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Does the user hold a per-column grant of `kind` on this column?
pub async fn has_column_grant(c: &mut Conn<'_>, column_id: i64, user_id: i64, kind: &str) -> Result<bool> {
    let n: i64 = with_conn!(c, x => {
        sqlx::query_scalar("SELECT COUNT(*) FROM column_grants WHERE column_id = $1 AND user_id = $2 AND kind = $3")
            .bind(column_id).bind(user_id).bind(kind).fetch_one(&mut **x).await
    })?;
    Ok(n > 0)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Item {
    pub id: i64,
    pub external_id: Option<String>,
    pub home_column_id: i64,
    pub class_code: String,
    pub title: String,
    pub subtitle: String,
    pub body: String,
    pub body_text: String,
    pub summary: String,
    pub source: String,
    pub author: String,
    pub cover_attachment_id: Option<i64>,
    pub index_no: Option<String>,
    pub publisher_org_id: Option<i64>,
    pub subject_code: Option<String>,
    pub genre: Option<String>,
    pub doc_no: String,
    pub doc_no_norm: String,
    pub written_on: Option<String>,
    pub published_on: Option<String>,
    pub validity: String,
    pub validity_on: Option<String>,
    pub replaced_by_item_id: Option<i64>,
    pub keywords: String,
    pub disclosure_mode: String,
    pub not_disclosed_reason: String,
    pub disclosure_scope: String,
    pub five_open: Option<String>,
    pub art20: Option<String>,
    pub is_rule: bool,
    pub is_normative: bool,
    pub normative_issued_on: Option<String>,
    pub normative_repealed_on: Option<String>,
    pub needs_interpretation: bool,
    pub interpretation_form: Option<String>,
    pub status: String,
    pub review_level: i64,
    pub levels_required: i64,
    pub publish_at: Option<i64>,
    pub live: bool,
    pub live_version: Option<i64>,
    pub version: i64,
    pub withdrawn_reason: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
}

pub async fn item(c: &mut Conn<'_>, id: i64) -> Result<Option<Item>> {
    Ok(
        with_conn!(c, x => sqlx::query_as::<_, Item>("SELECT * FROM items WHERE id = $1").bind(id).fetch_optional(&mut **x).await)?,
    )
}

pub async fn item_by_external_id(c: &mut Conn<'_>, ext: &str) -> Result<Option<Item>> {
    Ok(
        with_conn!(c, x => sqlx::query_as::<_, Item>("SELECT * FROM items WHERE external_id = $1").bind(ext).fetch_optional(&mut **x).await)?,
    )
}

/// The editable fields of an item, as validated by the service.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ItemFields {
    pub home_column_id: i64,
    pub class_code: String,
    pub title: String,
    pub subtitle: String,
    pub body: String,
    pub summary: String,
    pub source: String,
    pub author: String,
    pub publisher_org_id: Option<i64>,
    pub subject_code: Option<String>,
    pub genre: Option<String>,
    pub doc_no: String,
    pub written_on: Option<String>,
    pub published_on: Option<String>,
    pub validity: String,
    pub validity_on: Option<String>,
    pub replaced_by_item_id: Option<i64>,
    pub keywords: Vec<String>,
    pub disclosure_mode: String,
    pub not_disclosed_reason: String,
    pub disclosure_scope: String,
    pub five_open: Option<String>,
    pub art20: Option<String>,
    pub is_rule: bool,
    pub is_normative: bool,
    pub normative_issued_on: Option<String>,
    pub normative_repealed_on: Option<String>,
    pub needs_interpretation: bool,
    pub interpretation_form: Option<String>,
}

/// Columns written from `ItemFields` (shared by insert and update).
struct Derived {
    body_text: String,
    doc_no_norm: String,
    keywords: String,
}

fn derive(f: &ItemFields) -> Derived {
    Derived {
        body_text: crate::html::to_text(&f.body),
        doc_no_norm: crate::rules::normalize_doc_no(&f.doc_no),
        keywords: f.keywords.join(","),
    }
}

pub async fn insert_item(
    c: &mut Conn<'_>,
    f: &ItemFields,
    external_id: Option<&str>,
    levels: i64,
    by: Option<i64>,
) -> Result<i64> {
    let now = gongkai_kernel::clock::now_ms();
    let d = derive(f);
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO items (external_id, home_column_id, class_code, title, subtitle, body, body_text, summary, source, author,
                publisher_org_id, subject_code, genre, doc_no, doc_no_norm, written_on, published_on, validity, validity_on,
                replaced_by_item_id, keywords, disclosure_mode, not_disclosed_reason, disclosure_scope, five_open, art20,
                is_rule, is_normative, normative_issued_on, normative_repealed_on, needs_interpretation, interpretation_form,
                levels_required, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
                $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $35) RETURNING id",
        )
        .bind(external_id).bind(f.home_column_id).bind(&f.class_code).bind(&f.title).bind(&f.subtitle).bind(&f.body)
        .bind(&d.body_text).bind(&f.summary).bind(&f.source).bind(&f.author).bind(f.publisher_org_id).bind(&f.subject_code)
        .bind(&f.genre).bind(&f.doc_no).bind(&d.doc_no_norm).bind(&f.written_on).bind(&f.published_on).bind(&f.validity)
        .bind(&f.validity_on).bind(f.replaced_by_item_id).bind(&d.keywords).bind(&f.disclosure_mode)
        .bind(&f.not_disclosed_reason).bind(&f.disclosure_scope).bind(&f.five_open).bind(&f.art20).bind(f.is_rule)
        .bind(f.is_normative).bind(&f.normative_issued_on).bind(&f.normative_repealed_on).bind(f.needs_interpretation)
        .bind(&f.interpretation_form).bind(levels).bind(by).bind(now)
        .fetch_one(&mut **x).await
    })?)
}

/// Save the working copy if `expected_version` is current; returns the new version, or
/// None when someone else saved first.
pub async fn update_item_fields(
    c: &mut Conn<'_>,
    id: i64,
    expected_version: i64,
    f: &ItemFields,
) -> Result<Option<i64>> {
    let now = gongkai_kernel::clock::now_ms();
    let d = derive(f);
    let v: Option<i64> = with_conn!(c, x => {
        sqlx::query_scalar(
            "UPDATE items SET home_column_id = $1, class_code = $2, title = $3, subtitle = $4, body = $5, body_text = $6,
                summary = $7, source = $8, author = $9, publisher_org_id = $10, subject_code = $11, genre = $12, doc_no = $13,
                doc_no_norm = $14, written_on = $15, published_on = COALESCE($16, published_on), validity = $17, validity_on = $18,
                replaced_by_item_id = $19, keywords = $20, disclosure_mode = $21, not_disclosed_reason = $22,
                disclosure_scope = $23, five_open = $24, art20 = $25, is_rule = $26, is_normative = $27,
                normative_issued_on = $28, normative_repealed_on = $29, needs_interpretation = $30, interpretation_form = $31,
                version = version + 1, updated_at = $32
             WHERE id = $33 AND version = $34 RETURNING version",
        )
        .bind(f.home_column_id).bind(&f.class_code).bind(&f.title).bind(&f.subtitle).bind(&f.body).bind(&d.body_text)
        .bind(&f.summary).bind(&f.source).bind(&f.author).bind(f.publisher_org_id).bind(&f.subject_code).bind(&f.genre)
        .bind(&f.doc_no).bind(&d.doc_no_norm).bind(&f.written_on).bind(&f.published_on).bind(&f.validity)
        .bind(&f.validity_on).bind(f.replaced_by_item_id).bind(&d.keywords).bind(&f.disclosure_mode)
        .bind(&f.not_disclosed_reason).bind(&f.disclosure_scope).bind(&f.five_open).bind(&f.art20).bind(f.is_rule)
        .bind(f.is_normative).bind(&f.normative_issued_on).bind(&f.normative_repealed_on).bind(f.needs_interpretation)
        .bind(&f.interpretation_form).bind(now).bind(id).bind(expected_version)
        .fetch_optional(&mut **x).await
    })?;
    Ok(v)
}

/// Workflow columns after a transition.
pub struct WorkflowRow<'a> {
    pub status: &'a str,
    pub review_level: i64,
    pub publish_at: Option<i64>,
    pub live: bool,
    pub live_version: Option<i64>,
    pub withdrawn_reason: &'a str,
}

pub async fn set_workflow(c: &mut Conn<'_>, id: i64, w: &WorkflowRow<'_>) -> Result<()> {
    let now = gongkai_kernel::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query(
            "UPDATE items SET status = $1, review_level = $2, publish_at = $3, live = $4, live_version = $5, withdrawn_reason = $6, updated_at = $7
             WHERE id = $8",
        )
        .bind(w.status).bind(w.review_level).bind(w.publish_at).bind(w.live).bind(w.live_version).bind(w.withdrawn_reason)
        .bind(now).bind(id)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// First publication: 索引号, date and time (kept on later republishing).
pub async fn set_published(
    c: &mut Conn<'_>,
    id: i64,
    index_no: Option<&str>,
    published_on: &str,
    at: i64,
) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query(
            "UPDATE items SET index_no = COALESCE(index_no, $1), published_on = COALESCE(published_on, $2), published_at = COALESCE(published_at, $3)
             WHERE id = $4",
        )
        .bind(index_no).bind(published_on).bind(at).bind(id)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn insert_version(c: &mut Conn<'_>, item_id: i64, version: i64, data: &str, by: Option<i64>) -> Result<()> {
    let now = gongkai_kernel::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query("INSERT INTO item_versions (item_id, version, data, saved_by, saved_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(item_id).bind(version).bind(data).bind(by).bind(now)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct VersionRow {
    pub item_id: i64,
    pub version: i64,
    pub data: String,
    pub saved_by: Option<i64>,
    pub saved_at: i64,
}

pub async fn versions(c: &mut Conn<'_>, item_id: i64) -> Result<Vec<VersionRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, VersionRow>("SELECT * FROM item_versions WHERE item_id = $1 ORDER BY version").bind(item_id).fetch_all(&mut **x).await
    })?)
}

pub async fn place(c: &mut Conn<'_>, item_id: i64, column_id: i64, is_home: bool) -> Result<()> {
    let now = gongkai_kernel::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query(
            "INSERT INTO item_placements (item_id, column_id, is_home, placed_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (item_id, column_id) DO UPDATE SET is_home = excluded.is_home",
        )
        .bind(item_id).bind(column_id).bind(is_home).bind(now)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Move the home placement to `column_id`; the old home row goes (an item has one home).
pub async fn rehome(c: &mut Conn<'_>, item_id: i64, column_id: i64) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("DELETE FROM item_placements WHERE item_id = $1 AND is_home = TRUE AND column_id <> $2")
            .bind(item_id).bind(column_id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    place(c, item_id, column_id, true).await
}

pub async fn unplace(c: &mut Conn<'_>, item_id: i64, column_id: i64) -> Result<u64> {
    Ok(with_conn!(c, x => {
        sqlx::query("DELETE FROM item_placements WHERE item_id = $1 AND column_id = $2 AND is_home = FALSE")
            .bind(item_id).bind(column_id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?)
}

pub async fn placements(c: &mut Conn<'_>, item_id: i64) -> Result<Vec<(i64, bool)>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as("SELECT column_id, is_home FROM item_placements WHERE item_id = $1 ORDER BY column_id").bind(item_id).fetch_all(&mut **x).await
    })?)
}

pub async fn insert_review(
    c: &mut Conn<'_>,
    item_id: i64,
    version: i64,
    level: i64,
    decision: &str,
    comment: &str,
    by: Option<i64>,
) -> Result<()> {
    let now = gongkai_kernel::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query("INSERT INTO item_reviews (item_id, version, level, decision, comment, reviewer_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(item_id).bind(version).bind(level).bind(decision).bind(comment).bind(by).bind(now)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReviewRow {
    pub id: i64,
    pub item_id: i64,
    pub version: i64,
    pub level: i64,
    pub decision: String,
    pub comment: String,
    pub reviewer_id: Option<i64>,
    pub at: i64,
}

pub async fn reviews(c: &mut Conn<'_>, item_id: i64) -> Result<Vec<ReviewRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, ReviewRow>("SELECT * FROM item_reviews WHERE item_id = $1 ORDER BY id").bind(item_id).fetch_all(&mut **x).await
    })?)
}

/// Next 索引号 serial for (organisation, year). The upsert takes the row lock, so
/// concurrent publishers on any node get distinct serials, and a serial is never reused.
pub async fn next_index_serial(c: &mut Conn<'_>, org_id: i64, year: i64) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO index_serials (org_id, year, last_serial) VALUES ($1, $2, 1)
             ON CONFLICT (org_id, year) DO UPDATE SET last_serial = index_serials.last_serial + 1
             RETURNING last_serial",
        )
        .bind(org_id).bind(year).fetch_one(&mut **x).await
    })?)
}

pub async fn link_interpretation(c: &mut Conn<'_>, interpretation_id: i64, policy_id: i64) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("INSERT INTO interpretation_links (interpretation_id, policy_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(interpretation_id).bind(policy_id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// (interpretations of a policy, policies an interpretation explains)
pub async fn interpretation_links(c: &mut Conn<'_>, item_id: i64) -> Result<(Vec<i64>, Vec<i64>)> {
    let interps: Vec<i64> = with_conn!(c, x => {
        sqlx::query_scalar("SELECT interpretation_id FROM interpretation_links WHERE policy_id = $1 ORDER BY interpretation_id").bind(item_id).fetch_all(&mut **x).await
    })?;
    let policies: Vec<i64> = with_conn!(c, x => {
        sqlx::query_scalar("SELECT policy_id FROM interpretation_links WHERE interpretation_id = $1 ORDER BY policy_id").bind(item_id).fetch_all(&mut **x).await
    })?;
    Ok((interps, policies))
}

/// Published policy documents marked as needing an interpretation that have no live one.
pub async fn policies_missing_interpretation(c: &mut Conn<'_>) -> Result<Vec<Item>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Item>(
            "SELECT * FROM items i WHERE i.needs_interpretation = TRUE AND i.live = TRUE
               AND NOT EXISTS (SELECT 1 FROM interpretation_links l JOIN items j ON j.id = l.interpretation_id
                               WHERE l.policy_id = i.id AND j.live = TRUE)
             ORDER BY i.published_at DESC",
        )
        .fetch_all(&mut **x).await
    })?)
}

/// Scheduled items whose time has come.
pub async fn due_scheduled(c: &mut Conn<'_>, now: i64, limit: i64) -> Result<Vec<i64>> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("SELECT id FROM items WHERE status = 'scheduled' AND publish_at <= $1 ORDER BY publish_at LIMIT $2")
            .bind(now).bind(limit).fetch_all(&mut **x).await
    })?)
}

/// Items waiting for review, oldest first, limited to organisation subtrees (`paths`,
/// None = all) and sites (`sites`, None = all).
pub async fn review_queue(
    c: &mut Conn<'_>,
    paths: Option<&[String]>,
    sites: Option<&[i64]>,
    limit: i64,
) -> Result<Vec<Item>> {
    let mut sql = String::from(
        "SELECT i.* FROM items i JOIN columns col ON col.id = i.home_column_id LEFT JOIN orgs o ON o.id = i.publisher_org_id
         WHERE i.status = 'in_review'",
    );
    let mut n = 0;
    if let Some(paths) = paths {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(&format!(" AND {}", gongkai_kernel::db::prefix_condition("o.path", paths.len(), &mut n)));
    }
    if let Some(sites) = sites {
        if sites.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = sites.iter().map(|s| s.to_string()).collect();
        sql.push_str(&format!(" AND col.site_id IN ({})", list.join(",")));
    }
    sql.push_str(&format!(" ORDER BY i.updated_at LIMIT {limit}"));
    Ok(with_conn!(c, x => {
        let mut q = sqlx::query_as::<_, Item>(sqlx::AssertSqlSafe(sql.clone()));
        for p in paths.unwrap_or(&[]) {
            q = q.bind(format!("{p}%"));
        }
        q.fetch_all(&mut **x).await
    })?)
}

/// Filters of the console's item list; empty strings mean "any".
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ItemFilter {
    pub site: String,
    pub column: String,
    pub status: String,
    pub class: String,
    pub org: String,
    pub validity: String,
    pub q: String,
    pub from: String,
    pub to: String,
    pub before: String,
}

/// One line of the item list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ItemRow {
    pub id: i64,
    pub title: String,
    pub status: String,
    pub live: bool,
    pub class_code: String,
    pub index_no: Option<String>,
    pub validity: String,
    pub published_on: Option<String>,
    pub updated_at: i64,
    pub version: i64,
    pub column_name: String,
    pub site_id: i64,
    pub org_name: Option<String>,
}

/// The filtered list, newest first, paged by id. `paths` limits it to organisation
/// subtrees (None = all), as the principal's scope dictates.
pub async fn list_items(
    c: &mut Conn<'_>,
    f: &ItemFilter,
    paths: Option<&[String]>,
    limit: i64,
) -> Result<Vec<ItemRow>> {
    let mut sql = String::from(
        "SELECT i.id, i.title, i.status, i.live, i.class_code, i.index_no, i.validity, i.published_on, i.updated_at, i.version,
                col.name AS column_name, col.site_id, o.name AS org_name
         FROM items i JOIN columns col ON col.id = i.home_column_id LEFT JOIN orgs o ON o.id = i.publisher_org_id WHERE 1 = 1",
    );
    enum B {
        I(i64),
        S(String),
    }
    let mut binds: Vec<B> = Vec::new();
    let mut n = 0usize;
    if let Some(paths) = paths {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(&format!(" AND {}", gongkai_kernel::db::prefix_condition("o.path", paths.len(), &mut n)));
        binds.extend(paths.iter().map(|p| B::S(format!("{p}%"))));
    }
    let mut push = |cond: &str, b: B, sql: &mut String| {
        n += 1;
        sql.push_str(&cond.replace("$?", &format!("${n}")));
        binds.push(b);
    };
    if let Ok(v) = f.site.trim().parse::<i64>() {
        push(" AND col.site_id = $?", B::I(v), &mut sql);
    }
    if let Ok(v) = f.column.trim().parse::<i64>() {
        push(
            " AND EXISTS (SELECT 1 FROM item_placements p WHERE p.item_id = i.id AND p.column_id = $?)",
            B::I(v),
            &mut sql,
        );
    }
    if !f.status.trim().is_empty() {
        push(" AND i.status = $?", B::S(f.status.trim().to_string()), &mut sql);
    }
    if !f.class.trim().is_empty() {
        push(" AND i.class_code = $?", B::S(f.class.trim().to_string()), &mut sql);
    }
    if let Ok(v) = f.org.trim().parse::<i64>() {
        push(" AND i.publisher_org_id = $?", B::I(v), &mut sql);
    }
    if !f.validity.trim().is_empty() {
        push(" AND i.validity = $?", B::S(f.validity.trim().to_string()), &mut sql);
    }
    let q = f.q.trim();
    if !q.is_empty() {
        let like = format!("%{}%", q.replace(['%', '_'], ""));
        push(" AND (i.title LIKE $? OR i.doc_no_norm LIKE $? OR i.index_no LIKE $?)", B::S(like), &mut sql);
    }
    if let Some(d) = gongkai_kernel::clock::parse_date(&f.from) {
        push(" AND i.published_on >= $?", B::S(gongkai_kernel::clock::fmt_date(d)), &mut sql);
    }
    if let Some(d) = gongkai_kernel::clock::parse_date(&f.to) {
        push(" AND i.published_on <= $?", B::S(gongkai_kernel::clock::fmt_date(d)), &mut sql);
    }
    if let Ok(v) = f.before.trim().parse::<i64>() {
        push(" AND i.id < $?", B::I(v), &mut sql);
    }
    sql.push_str(&format!(" ORDER BY i.id DESC LIMIT {limit}"));
    Ok(with_conn!(c, x => {
        let mut qy = sqlx::query_as::<_, ItemRow>(sqlx::AssertSqlSafe(sql.clone()));
        for b in &binds {
            qy = match b {
                B::I(v) => qy.bind(*v),
                B::S(v) => qy.bind(v.clone()),
            };
        }
        qy.fetch_all(&mut **x).await
    })?)
}

/// Every column of every site, for selects: (id, site name, column path label).
pub async fn column_options(c: &mut Conn<'_>) -> Result<Vec<(i64, i64, String, String)>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as(
            "SELECT col.id, col.site_id, s.name, col.name FROM columns col JOIN sites s ON s.id = col.site_id
             WHERE col.kind <> 'link' ORDER BY s.id, col.path",
        )
        .fetch_all(&mut **x).await
    })?)
}

pub async fn reference_list(c: &mut Conn<'_>, table: &str) -> Result<Vec<(String, String)>> {
    let sql = match table {
        "subjects" => "SELECT code, label FROM subjects WHERE enabled = TRUE ORDER BY sort_order",
        _ => "SELECT code, label FROM item_classes WHERE enabled = TRUE ORDER BY sort_order",
    };
    Ok(with_conn!(c, x => sqlx::query_as(sql).fetch_all(&mut **x).await)?)
}
