//! gongkai-hotline: the 12345 政务服务便民热线. Work orders (工单) from every channel —
//! phone calls taken by agents, the portal's form, gateways for WeChat, Weibo, the app and
//! e-mail, and Open311 GeoReport v2 clients — go 受理 → 派单 → 签收 → 办理 → 答复 → 审核 →
//! 回访 → 办结, each step on time against an SLA table on the working-day calendar. One
//! dispatch leg per handling organisation keeps its own timers, so one late leg never
//! marks the order done.

pub mod batch;
pub mod demo;
pub mod kb;
pub mod model;
pub mod open311;
pub mod public;
pub mod rules;
pub mod service;
pub mod settings;
pub mod stats;
pub mod store;
pub mod web;

use gongkai_kernel::Result;
use gongkai_kernel::db::Db;
use gongkai_kernel::jobs::runner::Registry;
use gongkai_kernel::web::Slice;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Templates;

/// The templates of every part (console pages under `console/hotline/`).
pub(crate) fn template_source(name: &str) -> Option<String> {
    Templates::get(name).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

/// The console slices: work orders (agent screen, queues, order page, settings), the
/// knowledge base, statistics and reports, and the Open311 and gateway APIs.
pub fn slices() -> Vec<Slice> {
    vec![web::slice(), kb::slice(), stats::slice(), open311::slice()]
}

/// Per-node state: the group-commit writer of API and public intakes, the public form's
/// guard (rate limits, form secret).
pub fn attach(state: gongkai_kernel::web::AppState) -> gongkai_kernel::web::AppState {
    public::attach(batch::attach(state))
}

/// Idempotent start-up work: the default SLA table when empty, the sweep's schedule.
pub async fn init(db: &Db) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    if store::sla_rows(&mut c).await?.is_empty() {
        for r in rules::DEFAULT_SLA {
            store::upsert_sla(
                &mut c,
                &rules::SlaRow {
                    id: 0,
                    kind: r.0.into(),
                    category_code: r.1.into(),
                    urgency: r.2.into(),
                    accept_limit: r.3.into(),
                    return_limit: r.4.into(),
                    handle_limit: r.5.into(),
                    callback_limit: r.6.into(),
                },
            )
            .await?;
        }
    }
    tx.commit().await?;
    stats::init(db).await?;
    gongkai_kernel::jobs::ensure_schedule(db, "hl.sweep", "*/5 * * * *", "hl.sweep").await
}

pub fn register_jobs(reg: &mut Registry) {
    stats::register_jobs(reg);
    reg.register("hl.sweep", |ctx, _| async move {
        service::sweep(&ctx.db, gongkai_kernel::clock::now_ms()).await.map(|_| ()).map_err(|e| e.to_string())
    });
}

/// The demo's hotline: categories, gazetteer, an Open311 client and a year of orders.
pub async fn demo(db: &Db, today: time::Date) -> Result<bool> {
    let orders = demo::seed(db, today).await?;
    let kb = kb::seed_demo(db).await?;
    // The demo's year of orders is rolled up at once, so the statistics read the roll-up
    // from the first page view on (the hourly job would get there too).
    stats::rollup_now(db, gongkai_kernel::clock::now_ms()).await?;
    Ok(orders || kb)
}
