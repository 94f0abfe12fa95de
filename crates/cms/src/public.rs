//! The public projection (`pub_items`, `pub_placements`, `pub_site_items`): what the
//! portal, feeds and the open API read. `refresh` rewrites an item's rows from its live
//! version inside the caller's transaction, so the public never sees an unapproved
//! revision and a list page never needs the version table.

use gongkai_kernel::Result;
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::with_conn;

use crate::store::{self, ItemFields};

/// Rewrite the public rows of one item: gone when it is not live, else from the live
/// version (the working copy when that is the live one, otherwise its snapshot).
pub async fn refresh(c: &mut Conn<'_>, item_id: i64) -> Result<()> {
    for sql in [
        "DELETE FROM pub_site_items WHERE item_id = $1",
        "DELETE FROM pub_placements WHERE item_id = $1",
        "DELETE FROM pub_items WHERE item_id = $1",
    ] {
        with_conn!(c, x => sqlx::query(sql).bind(item_id).execute(&mut **x).await.map(|r| r.rows_affected()))?;
    }
    let Some(item) = store::item(c, item_id).await? else { return Ok(()) };
    let Some(live_version) = item.live_version.filter(|_| item.live) else { return Ok(()) };
    let f: ItemFields = if live_version == item.version {
        crate::transfer::fields_of(&item)
    } else {
        let data: Option<String> = with_conn!(c, x => {
            sqlx::query_scalar("SELECT data FROM item_versions WHERE item_id = $1 AND version = $2")
                .bind(item_id).bind(live_version).fetch_optional(&mut **x).await
        })?;
        match data.and_then(|d| serde_json::from_str::<ItemFields>(&d).ok()) {
            Some(f) => f,
            None => crate::transfer::fields_of(&item),
        }
    };
    let Some(home) = store::column(c, f.home_column_id).await? else { return Ok(()) };
    let published_on = f
        .published_on
        .clone()
        .or_else(|| item.published_on.clone())
        .unwrap_or_else(|| gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today()));
    let year: i64 = published_on.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    let published_at = item.published_at.unwrap_or(item.updated_at);
    let keywords = f.keywords.join(",");
    with_conn!(c, x => {
        sqlx::query(
            "INSERT INTO pub_items (item_id, site_id, home_column_id, class_code, title, subtitle, summary, body, source, author,
                cover_attachment_id, index_no, publisher_org_id, subject_code, genre, doc_no, written_on, published_on, year,
                validity, validity_on, replaced_by_item_id, keywords, disclosure_mode, disclosure_scope, five_open, art20,
                is_rule, is_normative, interpretation_form, live_version, published_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
                $24, $25, $26, $27, $28, $29, $30, $31, $32, $33)",
        )
        .bind(item_id).bind(home.site_id).bind(home.id).bind(&f.class_code).bind(&f.title).bind(&f.subtitle)
        .bind(&f.summary).bind(&f.body).bind(&f.source).bind(&f.author).bind(item.cover_attachment_id)
        .bind(&item.index_no).bind(f.publisher_org_id).bind(&f.subject_code).bind(&f.genre).bind(&f.doc_no)
        .bind(&f.written_on).bind(&published_on).bind(year).bind(&f.validity).bind(&f.validity_on)
        .bind(f.replaced_by_item_id).bind(&keywords).bind(&f.disclosure_mode).bind(&f.disclosure_scope)
        .bind(&f.five_open).bind(&f.art20).bind(f.is_rule).bind(f.is_normative).bind(&f.interpretation_form)
        .bind(live_version).bind(published_at).bind(item.updated_at)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    // Placements: the home column and every column it was pushed to.
    let mut columns: Vec<i64> = store::placements(c, item_id).await?.into_iter().map(|(col, _)| col).collect();
    if !columns.contains(&home.id) {
        columns.push(home.id);
    }
    for col in &columns {
        with_conn!(c, x => {
            sqlx::query("INSERT INTO pub_placements (column_id, item_id, published_on) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(col).bind(item_id).bind(&published_on).execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    // One row per site it is listed on, in one statement.
    let disclosure = item.index_no.is_some() && f.disclosure_mode == "proactive";
    with_conn!(c, x => {
        sqlx::query(
            "INSERT INTO pub_site_items (site_id, item_id, published_on, year, disclosure, art20, subject_code, publisher_org_id, genre, class_code)
             SELECT DISTINCT col.site_id, $1, $2, $3, $4, $5, $6, $7, $8, $9
               FROM pub_placements pl JOIN columns col ON col.id = pl.column_id WHERE pl.item_id = $1",
        )
        .bind(item_id).bind(&published_on).bind(year).bind(disclosure).bind(&f.art20)
        .bind(&f.subject_code).bind(f.publisher_org_id).bind(&f.genre).bind(&f.class_code)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Start-up repair: project every live item that has no public row yet (a database
/// from before the projection existed, or restored from an old backup).
pub async fn backfill(db: &Db) -> Result<usize> {
    let ids: Vec<i64> = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        with_conn!(&mut c, x => {
            sqlx::query_scalar(
                "SELECT id FROM items WHERE live = TRUE AND live_version IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM pub_items p WHERE p.item_id = items.id) ORDER BY id",
            )
            .fetch_all(&mut **x).await
        })?
    };
    for chunk in ids.chunks(500) {
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        for id in chunk {
            refresh(&mut c, *id).await?;
        }
        tx.commit().await?;
    }
    Ok(ids.len())
}

/// Every change to an item goes through here: the public rows follow in the same
/// transaction, and the outbox tells caches, search and other nodes.
pub async fn changed(c: &mut Conn<'_>, topic: &str, item_id: i64, payload: serde_json::Value) -> Result<i64> {
    refresh(c, item_id).await?;
    gongkai_kernel::outbox::emit(c, topic, item_id, payload).await
}
