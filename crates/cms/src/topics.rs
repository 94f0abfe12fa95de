//! Topics (专题专栏): landing pages grouping items and columns.
//!
//! Model, store and service in one file: a topic belongs to one site, opens on a date and
//! may close on a later one. The annual website report counts topics opened in a year and
//! topics maintained (open at any time) during it — see [`topic_counts`].

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::Date;

use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::clock::{fmt_date, now_ms, parse_date};
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::{Error, FieldErrors, Result, is_unique_violation};
use gongkai_kernel::{audit, outbox, with_conn};

use crate::store::{self, Item};

/// Largest introduction accepted, in bytes of HTML.
pub const MAX_INTRO_BYTES: usize = 200 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Topic {
    pub id: i64,
    pub site_id: i64,
    pub name: String,
    pub slug: String,
    pub intro: String,
    pub banner_attachment_id: Option<i64>,
    pub opened_on: String,
    pub closed_on: Option<String>,
    pub created_at: i64,
    /// Also the form's edit token: a save names the value it was loaded with.
    pub updated_at: i64,
}

/// A topic form as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TopicInput {
    pub site_id: String,
    pub name: String,
    pub slug: String,
    pub intro: String,
    pub banner_attachment_id: String,
    pub opened_on: String,
    pub closed_on: String,
    /// The `updated_at` the edit form was loaded with (updates only).
    pub updated_at: String,
}

/// A validated topic form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicFields {
    pub site_id: Option<i64>,
    pub name: String,
    pub slug: String,
    pub intro: String,
    pub banner_attachment_id: Option<i64>,
    pub opened_on: Date,
    pub closed_on: Option<Date>,
}

/// 2–32 characters of [a-z0-9-] (the topic's URL segment).
pub fn validate_slug(s: &str) -> std::result::Result<String, String> {
    let t = s.trim().to_lowercase();
    let n = t.chars().count();
    if !(2..=32).contains(&n) || !t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Err("专题代号为 2–32 位小写字母、数字或连字符（-），用于网址".into());
    }
    if t.starts_with('-') || t.ends_with('-') {
        return Err("专题代号不能以连字符开头或结尾".into());
    }
    Ok(t)
}

/// Validate a topic form (pure). `site_id` is required only when creating.
pub fn validate_topic(input: &TopicInput) -> std::result::Result<TopicFields, FieldErrors> {
    let mut errs = FieldErrors::new();
    let site_id = match input.site_id.trim() {
        "" => None,
        v => v.parse::<i64>().ok().filter(|n| *n > 0).or_else(|| {
            errs.add("site_id", "请选择网站");
            None
        }),
    };
    let name: String = input.name.trim().chars().filter(|c| !c.is_control()).collect();
    if name.is_empty() || name.chars().count() > 50 {
        errs.add("name", "专题名称为 1–50 个字");
    }
    let slug = validate_slug(&input.slug).unwrap_or_else(|m| {
        errs.add("slug", m);
        String::new()
    });
    if input.intro.len() > MAX_INTRO_BYTES {
        errs.add("intro", "专题简介过长（超过 200 KB），请精简");
    }
    let intro = crate::html::sanitize_body(&input.intro);
    let banner_attachment_id = match input.banner_attachment_id.trim() {
        "" => None,
        v => v.parse::<i64>().ok().or_else(|| {
            errs.add("banner_attachment_id", "题图无效");
            None
        }),
    };
    let opened_on = match input.opened_on.trim() {
        "" => {
            errs.add("opened_on", "请填写开设日期");
            None
        }
        v => parse_date(v).or_else(|| {
            errs.add("opened_on", "开设日期应为有效日期，格式 YYYY-MM-DD");
            None
        }),
    };
    let closed_on = match input.closed_on.trim() {
        "" => None,
        v => parse_date(v).or_else(|| {
            errs.add("closed_on", "关闭日期应为有效日期，格式 YYYY-MM-DD");
            None
        }),
    };
    if let (Some(o), Some(c)) = (opened_on, closed_on)
        && c < o
    {
        errs.add("closed_on", "关闭日期不能早于开设日期");
    }
    match opened_on {
        Some(opened_on) if errs.is_empty() => {
            Ok(TopicFields { site_id, name, slug, intro, banner_attachment_id, opened_on, closed_on })
        }
        _ => Err(errs),
    }
}

// ---------------------------------------------------------------- store

const TOPIC_COLS: &str =
    "id, site_id, name, slug, intro, banner_attachment_id, opened_on, closed_on, created_at, updated_at";

async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<Topic>> {
    let sql = format!("SELECT {TOPIC_COLS} FROM topics WHERE id = $1");
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Topic>(sqlx::AssertSqlSafe(sql.clone())).bind(id).fetch_optional(&mut **x).await
    })?)
}

/// One topic.
pub async fn topic(db: &Db, id: i64) -> Result<Option<Topic>> {
    let mut h = db.read().await?;
    get(&mut h.conn(), id).await
}

/// A site's topics, most recently opened first.
pub async fn list_topics(db: &Db, site_id: i64) -> Result<Vec<Topic>> {
    let mut h = db.read().await?;
    let sql = format!("SELECT {TOPIC_COLS} FROM topics WHERE site_id = $1 ORDER BY opened_on DESC, id DESC");
    Ok(with_conn!(&mut h.conn(), x => {
        sqlx::query_as::<_, Topic>(sqlx::AssertSqlSafe(sql.clone())).bind(site_id).fetch_all(&mut **x).await
    })?)
}

/// The live items of a topic, newest first.
pub async fn topic_items(db: &Db, topic_id: i64, limit: i64) -> Result<Vec<Item>> {
    let mut h = db.read().await?;
    Ok(with_conn!(&mut h.conn(), x => {
        sqlx::query_as::<_, Item>(
            "SELECT i.* FROM topic_items t JOIN items i ON i.id = t.item_id
             WHERE t.topic_id = $1 AND i.live = TRUE
             ORDER BY COALESCE(i.published_at, 0) DESC, i.id DESC LIMIT $2",
        )
        .bind(topic_id).bind(limit.clamp(0, 1000)).fetch_all(&mut **x).await
    })?)
}

/// The columns grouped under a topic, in their site order.
pub async fn topic_columns(db: &Db, topic_id: i64) -> Result<Vec<store::Column>> {
    let mut h = db.read().await?;
    Ok(with_conn!(&mut h.conn(), x => {
        sqlx::query_as::<_, store::Column>(
            "SELECT c.* FROM topic_columns t JOIN columns c ON c.id = t.column_id WHERE t.topic_id = $1 ORDER BY c.sort_order, c.path",
        )
        .bind(topic_id).fetch_all(&mut **x).await
    })?)
}

/// Figures for the annual website report, district-wide: (topics newly opened in `year`,
/// topics maintained in `year`, i.e. open on at least one day of it).
pub async fn topic_counts(db: &Db, year: i32) -> Result<(i64, i64)> {
    counts(db, year, None).await
}

/// The same figures for one site (the report is filed per website).
pub async fn topic_counts_for_site(db: &Db, year: i32, site_id: i64) -> Result<(i64, i64)> {
    counts(db, year, Some(site_id)).await
}

async fn counts(db: &Db, year: i32, site_id: Option<i64>) -> Result<(i64, i64)> {
    let (first, last) = (format!("{year:04}-01-01"), format!("{year:04}-12-31"));
    let mut h = db.read().await?;
    // Dates are 'YYYY-MM-DD' text, so text comparison is date comparison.
    Ok(with_conn!(&mut h.conn(), x => {
        sqlx::query_as(
            "SELECT
               (SELECT COUNT(*) FROM topics WHERE ($3 IS NULL OR site_id = $3) AND opened_on >= $1 AND opened_on <= $2),
               (SELECT COUNT(*) FROM topics WHERE ($3 IS NULL OR site_id = $3) AND opened_on <= $2
                  AND (closed_on IS NULL OR closed_on >= $1))",
        )
        .bind(&first).bind(&last).bind(site_id).fetch_one(&mut **x).await
    })?)
}

// ---------------------------------------------------------------- service

/// Site exists, is run on this platform, and `who` may edit content on it.
async fn check_site(c: &mut Conn<'_>, who: &Principal, site_id: i64) -> Result<()> {
    let site =
        gongkai_kernel::site::store::get(c, site_id).await?.ok_or_else(|| Error::field("site_id", "网站不存在"))?;
    if site.external {
        return Err(Error::field("site_id", "外部网站不在本平台发布，不能开设专题"));
    }
    let org_path = match site.org_id {
        Some(o) => gongkai_kernel::org::store::get(c, o).await?.map(|o| o.path),
        None => None,
    };
    if !who.can(Perm::ContentEdit, org_path.as_deref(), Some(site_id)) {
        return Err(Error::Forbidden("您没有管理该网站专题的权限".into()));
    }
    Ok(())
}

/// The topic, after checking that `who` may change it.
async fn editable(c: &mut Conn<'_>, who: &Principal, id: i64) -> Result<Topic> {
    let t = get(c, id).await?.ok_or(Error::NotFound)?;
    check_site(c, who, t.site_id).await?;
    Ok(t)
}

/// A banner must be a stored image.
async fn check_banner(c: &mut Conn<'_>, banner: Option<i64>) -> Result<()> {
    let Some(id) = banner else { return Ok(()) };
    let mime: Option<String> = with_conn!(c, x => {
        sqlx::query_scalar("SELECT mime FROM attachments WHERE id = $1").bind(id).fetch_optional(&mut **x).await
    })?;
    match mime.as_deref().and_then(crate::attachments::Kind::from_mime) {
        Some(k) if k.is_image() => Ok(()),
        Some(_) => Err(Error::field("banner_attachment_id", "题图须为图片")),
        None => Err(Error::field("banner_attachment_id", "题图不存在")),
    }
}

fn slug_taken(e: Error) -> Error {
    if is_unique_violation(&e) { Error::field("slug", "该网站已有相同代号的专题") } else { e }
}

pub async fn create_topic(db: &Db, who: &Principal, ip: &str, input: &TopicInput) -> Result<Topic> {
    let f = validate_topic(input).map_err(Error::Invalid)?;
    let site_id = f.site_id.ok_or_else(|| Error::field("site_id", "请选择网站"))?;
    let now = now_ms();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    check_site(&mut c, who, site_id).await?;
    check_banner(&mut c, f.banner_attachment_id).await?;
    let id: i64 = with_conn!(&mut c, x => {
        sqlx::query_scalar(
            "INSERT INTO topics (site_id, name, slug, intro, banner_attachment_id, opened_on, closed_on, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(site_id).bind(&f.name).bind(&f.slug).bind(&f.intro).bind(f.banner_attachment_id)
        .bind(fmt_date(f.opened_on)).bind(f.closed_on.map(fmt_date)).bind(now)
        .fetch_one(&mut **x).await
    })
    .map_err(|e| slug_taken(e.into()))?;
    let t = get(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, &who.actor(ip), "topic.create", "topic", id, json!({ "after": &t })).await?;
    outbox::emit(&mut c, "topic.changed", id, json!({ "site_id": site_id, "op": "create" })).await?;
    tx.commit().await?;
    Ok(t)
}

/// Save an edit made on a form loaded at `input.updated_at`. A save based on an older
/// state is refused rather than overwriting someone else's change. The site is not
/// changed by an edit (`input.site_id` is ignored).
pub async fn update_topic(db: &Db, who: &Principal, ip: &str, id: i64, input: &TopicInput) -> Result<Topic> {
    let f = validate_topic(input).map_err(Error::Invalid)?;
    let expected: i64 =
        input.updated_at.trim().parse().map_err(|_| Error::field("updated_at", "缺少版本信息，请刷新后重试"))?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = editable(&mut c, who, id).await?;
    check_banner(&mut c, f.banner_attachment_id).await?;
    // Strictly increasing even within one millisecond, so every save changes the token.
    let now = now_ms().max(before.updated_at + 1);
    let n = with_conn!(&mut c, x => {
        sqlx::query(
            "UPDATE topics SET name = $1, slug = $2, intro = $3, banner_attachment_id = $4, opened_on = $5, closed_on = $6, updated_at = $7
             WHERE id = $8 AND updated_at = $9",
        )
        .bind(&f.name).bind(&f.slug).bind(&f.intro).bind(f.banner_attachment_id).bind(fmt_date(f.opened_on))
        .bind(f.closed_on.map(fmt_date)).bind(now).bind(id).bind(expected)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })
    .map_err(|e| slug_taken(e.into()))?;
    if n == 0 {
        return Err(Error::Conflict(
            "该专题已被他人修改。为免覆盖对方的修改，本次未保存；请复制您的改动，刷新后重新编辑。".into(),
        ));
    }
    let after = get(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, &who.actor(ip), "topic.update", "topic", id, json!({ "before": &before, "after": &after }))
        .await?;
    outbox::emit(&mut c, "topic.changed", id, json!({ "site_id": after.site_id, "op": "update" })).await?;
    tx.commit().await?;
    Ok(after)
}

/// Close a topic on `closed_on` ('YYYY-MM-DD'; may be in the future). Reopening or moving
/// the date is an ordinary edit.
pub async fn close_topic(db: &Db, who: &Principal, ip: &str, id: i64, closed_on: &str) -> Result<Topic> {
    let date =
        parse_date(closed_on).ok_or_else(|| Error::field("closed_on", "关闭日期应为有效日期，格式 YYYY-MM-DD"))?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let before = editable(&mut c, who, id).await?;
    if let Some(d) = &before.closed_on {
        return Err(Error::Conflict(format!("该专题已于 {d} 关闭；如需更改关闭日期，请编辑专题")));
    }
    let date = fmt_date(date);
    if date < before.opened_on {
        return Err(Error::field("closed_on", format!("关闭日期不能早于开设日期（{}）", before.opened_on)));
    }
    let now = now_ms().max(before.updated_at + 1);
    with_conn!(&mut c, x => {
        sqlx::query("UPDATE topics SET closed_on = $1, updated_at = $2 WHERE id = $3")
            .bind(&date).bind(now).bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    let after = get(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(&mut c, &who.actor(ip), "topic.close", "topic", id, json!({ "closed_on": &date })).await?;
    outbox::emit(&mut c, "topic.changed", id, json!({ "site_id": after.site_id, "op": "close" })).await?;
    tx.commit().await?;
    Ok(after)
}

/// Which link table a membership change touches.
#[derive(Clone, Copy)]
enum Member {
    Item,
    Column,
}

impl Member {
    fn sql(self, add: bool) -> &'static str {
        match (self, add) {
            (Member::Item, true) => {
                "INSERT INTO topic_items (topic_id, item_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
            }
            (Member::Item, false) => "DELETE FROM topic_items WHERE topic_id = $1 AND item_id = $2",
            (Member::Column, true) => {
                "INSERT INTO topic_columns (topic_id, column_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
            }
            (Member::Column, false) => "DELETE FROM topic_columns WHERE topic_id = $1 AND column_id = $2",
        }
    }
    fn action(self, add: bool) -> &'static str {
        match (self, add) {
            (Member::Item, true) => "topic.add_item",
            (Member::Item, false) => "topic.remove_item",
            (Member::Column, true) => "topic.add_column",
            (Member::Column, false) => "topic.remove_column",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Member::Item => "item",
            Member::Column => "column",
        }
    }
}

/// Add or remove an item or column; returns whether anything changed (adding twice or
/// removing what is not there changes nothing and writes nothing).
async fn membership(db: &Db, who: &Principal, ip: &str, topic_id: i64, m: Member, id: i64, add: bool) -> Result<bool> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let t = editable(&mut c, who, topic_id).await?;
    if add {
        match m {
            Member::Item => {
                store::item(&mut c, id).await?.ok_or_else(|| Error::field("item_id", "信息不存在"))?;
            }
            Member::Column => {
                let col = store::column(&mut c, id).await?.ok_or_else(|| Error::field("column_id", "栏目不存在"))?;
                if col.site_id != t.site_id {
                    return Err(Error::field("column_id", "只能把专题所在网站的栏目加入专题"));
                }
            }
        }
    }
    let n = with_conn!(&mut c, x => {
        sqlx::query(m.sql(add)).bind(topic_id).bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Ok(false);
    }
    let now = now_ms().max(t.updated_at + 1);
    with_conn!(&mut c, x => {
        sqlx::query("UPDATE topics SET updated_at = $1 WHERE id = $2").bind(now).bind(topic_id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    audit::append(&mut c, &who.actor(ip), m.action(add), "topic", topic_id, json!({ m.key(): id })).await?;
    outbox::emit(&mut c, "topic.changed", topic_id, json!({ "site_id": t.site_id, "op": m.action(add) })).await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn add_item(db: &Db, who: &Principal, ip: &str, topic_id: i64, item_id: i64) -> Result<bool> {
    membership(db, who, ip, topic_id, Member::Item, item_id, true).await
}

pub async fn remove_item(db: &Db, who: &Principal, ip: &str, topic_id: i64, item_id: i64) -> Result<bool> {
    membership(db, who, ip, topic_id, Member::Item, item_id, false).await
}

pub async fn add_column(db: &Db, who: &Principal, ip: &str, topic_id: i64, column_id: i64) -> Result<bool> {
    membership(db, who, ip, topic_id, Member::Column, column_id, true).await
}

pub async fn remove_column(db: &Db, who: &Principal, ip: &str, topic_id: i64, column_id: i64) -> Result<bool> {
    membership(db, who, ip, topic_id, Member::Column, column_id, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, slug: &str, opened: &str, closed: &str) -> TopicInput {
        TopicInput {
            site_id: "1".into(),
            name: name.into(),
            slug: slug.into(),
            opened_on: opened.into(),
            closed_on: closed.into(),
            ..Default::default()
        }
    }

    #[test]
    fn validation_names_each_field() {
        let ok = validate_topic(&input("优化营商环境", "yshj-2026", "2026-01-01", "")).unwrap();
        assert_eq!(ok.slug, "yshj-2026");
        let cases = [
            (input("", "ab", "2026-01-01", ""), "name"),
            (input(&"长".repeat(51), "ab", "2026-01-01", ""), "name"),
            (input("x", "a", "2026-01-01", ""), "slug"),
            (input("x", "a_b", "2026-01-01", ""), "slug"),
            (input("x", &"a".repeat(33), "2026-01-01", ""), "slug"),
            (input("x", "-ab", "2026-01-01", ""), "slug"),
            (input("x", "ab", "", ""), "opened_on"),
            (input("x", "ab", "2026-02-30", ""), "opened_on"),
            (input("x", "ab", "2026-03-01", "2026-02-28"), "closed_on"),
            (input("x", "ab", "2026-03-01", "昨天"), "closed_on"),
        ];
        for (i, field) in cases {
            let e = validate_topic(&i).unwrap_err();
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
        let same_day = validate_topic(&input("x", "AB", "2026-03-01", "2026-03-01")).unwrap();
        assert_eq!(same_day.slug, "ab");
    }
}
