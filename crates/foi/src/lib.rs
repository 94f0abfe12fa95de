//! gongkai-foi: 依申请公开. Disclosure requests from the public form and from every other
//! channel, the statutory clock on the working-day calendar (corrections, consultations,
//! fee periods, extensions), fees, decisions in the terms of Art. 36 with the annual
//! report's category following, letters, released files, reviews and litigation, and the
//! statistics of the annual report's tables 三 and 四.

pub mod demo;
pub mod letter;
pub mod model;
pub mod public;
pub mod rules;
pub mod service;
pub mod stats;
pub mod store;
pub mod web;

use gongkai_kernel::Result;
use gongkai_kernel::db::Db;
use gongkai_kernel::jobs::runner::Registry;

/// Idempotent start-up work: the sweep's schedule.
pub async fn init(db: &Db) -> Result<()> {
    gongkai_kernel::jobs::ensure_schedule(db, "foi.sweep", "*/10 * * * *", "foi.sweep").await
}

pub fn register_jobs(reg: &mut Registry) {
    reg.register("foi.sweep", |ctx, _| async move {
        service::sweep(&ctx.db, gongkai_kernel::clock::today()).await.map(|_| ()).map_err(|e| e.to_string())
    });
}

pub use web::slice;
