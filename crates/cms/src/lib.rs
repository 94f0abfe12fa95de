//! gongkai site group and information resource library (信息资源库): sites, columns, items
//! with statutory disclosure metadata, the review workflow, interpretations, topics and the
//! standard disclosure catalogue.

pub mod attachments;
pub mod catalogue;
pub mod demo;
pub mod html;
pub mod model;
pub mod privacy;
pub mod public;
pub mod rules;
pub mod service;
pub mod store;
pub mod topics;
pub mod transfer;
pub mod web;
pub mod web_library;

use gongkai_kernel::Result;
use gongkai_kernel::db::Db;
use gongkai_kernel::jobs::runner::Registry;
use gongkai_kernel::with_conn;

/// Idempotent start-up work: seed the editable reference data on first start and make
/// sure the scheduled-publishing schedule exists.
pub async fn init(db: &Db) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    for (i, (code, label)) in model::SUBJECTS.iter().enumerate() {
        with_conn!(&mut c, x => {
            sqlx::query("INSERT INTO subjects (code, label, sort_order) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING")
                .bind(*code).bind(*label).bind(i as i64).execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    for (i, (code, label)) in model::ITEM_CLASSES.iter().enumerate() {
        with_conn!(&mut c, x => {
            sqlx::query("INSERT INTO item_classes (code, label, sort_order) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING")
                .bind(*code).bind(*label).bind(i as i64).execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    tx.commit().await?;
    public::backfill(db).await?;
    gongkai_kernel::jobs::ensure_schedule(db, "cms.publish_due", "* * * * *", "cms.publish_due").await
}

/// The slice's jobs.
pub fn register_jobs(reg: &mut Registry) {
    reg.register("cms.publish_due", |ctx, _| async move {
        service::publish_due(&ctx.db).await.map(|_| ()).map_err(|e| e.to_string())
    });
}
