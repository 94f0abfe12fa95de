//! gongkai-interact: 互动交流, the citizen-facing functions of every site. Messages (网民留言)
//! with intake, assignment, reviewed replies, masked publication, working-day deadlines,
//! supervision and the 3-month alarm; solicitations and surveys (征集调查); online
//! interviews and news conferences (在线访谈) with a live page. Each part is its own
//! console slice; the public pages live under `/hudong/{site}/…`.

pub mod interviews;
pub mod mask;
pub mod messages;
pub mod public;
pub mod surveys;

use gongkai_kernel::Result;
use gongkai_kernel::db::Db;
use gongkai_kernel::jobs::runner::Registry;
use gongkai_kernel::web::{AppState, Slice};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Templates;

/// The templates of every part (console pages under `console/interact/`, public pages
/// under `interact/`).
pub(crate) fn template_source(name: &str) -> Option<String> {
    Templates::get(name).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

/// The console slices of the three parts.
pub fn slices() -> Vec<Slice> {
    vec![messages::web::slice(), surveys::web::slice(), interviews::web::slice()]
}

/// The public forms' per-node state (rate limiter, form secret).
pub fn attach(state: AppState) -> AppState {
    public::attach(state)
}

/// Idempotent start-up work: the schedules of the parts' jobs.
pub async fn init(db: &Db) -> Result<()> {
    messages::init(db).await?;
    interviews::init(db).await?;
    Ok(())
}

pub fn register_jobs(reg: &mut Registry) {
    messages::register_jobs(reg);
    interviews::register_jobs(reg);
}

/// The demo's messages, surveys and interviews (each part idempotent on its own).
pub async fn demo(db: &Db, today: time::Date) -> Result<bool> {
    let a = messages::demo::seed(db, today).await?;
    let b = surveys::demo::seed(db, today).await?;
    let c = interviews::demo::seed(db, today).await?;
    Ok(a || b || c)
}
