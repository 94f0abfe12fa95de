//! 在线访谈 and 新闻发布会 (one model, two labels). A session is prepared as a draft,
//! announced at least three calendar days ahead (the question box opens), goes live (the
//! moderator publishes question-and-answer pairs and updates with text, a photo or both;
//! the public page follows by server-sent events), and ends (the page becomes the
//! archived transcript). Questions the session left open are answered within a set number
//! of working days; the `itv.sweep` job flags the overdue ones and writes reminders.

pub mod demo;
pub mod rules;
pub mod service;
pub mod store;
pub mod web;

use gongkai_kernel::Result;
use gongkai_kernel::db::Db;
use gongkai_kernel::jobs::runner::Registry;

pub use rules::Counts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Interview,
    Press,
}

impl Kind {
    pub const ALL: &[Kind] = &[Kind::Interview, Kind::Press];
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Interview => "interview",
            Kind::Press => "press",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Kind::Interview => "在线访谈",
            Kind::Press => "新闻发布会",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Draft,
    Announced,
    Live,
    Ended,
}

impl State {
    pub const ALL: &[State] = &[State::Draft, State::Announced, State::Live, State::Ended];
    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Announced => "announced",
            State::Live => "live",
            State::Ended => "ended",
        }
    }
    pub fn parse(s: &str) -> Option<State> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            State::Draft => "草稿",
            State::Announced => "预告中",
            State::Live => "直播中",
            State::Ended => "已结束",
        }
    }
}

/// Counts for the annual report: sessions held (ended in `year`, by kind), questions
/// received and answered in `year`, for one site or all.
pub async fn counts(db: &Db, site_id: Option<i64>, year: i32) -> Result<Counts> {
    let mut h = db.read().await?;
    let rows = store::count_rows(&mut h.conn(), site_id).await?;
    Ok(rules::aggregate(&rows, year))
}

pub const SWEEP: &str = "itv.sweep";

pub async fn init(db: &Db) -> Result<()> {
    gongkai_kernel::jobs::ensure_schedule(db, SWEEP, "*/10 * * * *", SWEEP).await
}

pub fn register_jobs(reg: &mut Registry) {
    reg.register(SWEEP, |ctx, _| async move {
        service::sweep(&ctx.db, gongkai_kernel::clock::today()).await.map(|_| ()).map_err(|e| e.to_string())
    });
}
