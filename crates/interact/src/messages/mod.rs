//! 网民留言: a public form on every site, intake (受理 / 不予受理), assignment and transfer
//! between organisations, a reply drafted by the handler and reviewed on one or two levels,
//! sending, masked publication, working-day deadlines with reminders, overdue flags and the
//! 3-month alarm, supervision (督办), ratings and one follow-up, and the statistics.
//!
//! Who acts (decided here, checked in `service`):
//! - the site's message desk — `Perm::ContentReview` over the site (its organisation and the
//!   site itself): intake, assignment, transfer, review, sending and publication;
//! - handlers — `Perm::CaseHandle` over the organisation handling the message: the reply
//!   draft, transfer onwards, sending once reviewed;
//! - leaders — `Perm::LeaderView` over the handling organisation: may review a reply too;
//! - supervisors — `Perm::Supervise` over the handling organisation: 督办 notes and the queue;
//! - system administrators — `Perm::SettingsManage`: per-site review levels and deadlines.

pub mod demo;
pub mod public;
pub mod rules;
pub mod service;
pub mod stats;
pub mod store;
pub mod web;

use serde::Serialize;

use gongkai_kernel::Result;
use gongkai_kernel::db::Db;
use gongkai_kernel::jobs::runner::Registry;

pub use stats::{Stats, stats};

/// (code, label) lists of the words a message uses.
pub type Words = &'static [(&'static str, &'static str)];

pub const KINDS: Words =
    &[("consult", "咨询"), ("suggest", "建议"), ("complain", "投诉"), ("help", "求助"), ("other", "其他")];

pub const REJECT_REASONS: Words = &[
    ("duplicate", "重复留言"),
    ("out_of_scope", "不属于受理范围"),
    ("abusive", "含有侮辱、谩骂等内容"),
    ("no_content", "无实质内容"),
    ("other", "其他"),
];

pub const RATINGS: Words = &[("satisfied", "满意"), ("basic", "基本满意"), ("unsatisfied", "不满意")];

/// The label of `code` in `words`, or "" for an unknown code.
pub fn label(words: Words, code: &str) -> &'static str {
    words.iter().find(|(c, _)| *c == code).map(|(_, l)| *l).unwrap_or("")
}

pub fn is_word(words: Words, code: &str) -> bool {
    words.iter().any(|(c, _)| *c == code)
}

/// Where a message stands. Lateness and the alarm are flags beside the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Submitted,
    Accepted,
    Rejected,
    Assigned,
    Replied,
    Reviewed,
    Sent,
    Published,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Submitted,
        State::Accepted,
        State::Rejected,
        State::Assigned,
        State::Replied,
        State::Reviewed,
        State::Sent,
        State::Published,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Accepted => "accepted",
            State::Rejected => "rejected",
            State::Assigned => "assigned",
            State::Replied => "replied",
            State::Reviewed => "reviewed",
            State::Sent => "sent",
            State::Published => "published",
        }
    }
    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            State::Submitted => "待受理",
            State::Accepted => "已受理",
            State::Rejected => "不予受理",
            State::Assigned => "办理中",
            State::Replied => "答复待审核",
            State::Reviewed => "答复已审核",
            State::Sent => "已答复",
            State::Published => "已答复并公开",
        }
    }
    /// The writer has a valid answer (a reply sent, or a refusal with its reason).
    pub fn is_answered(self) -> bool {
        matches!(self, State::Sent | State::Published | State::Rejected)
    }
    /// Accepted and not yet answered: the deadline runs.
    pub fn clock_runs(self) -> bool {
        matches!(self, State::Accepted | State::Assigned | State::Replied | State::Reviewed)
    }
}

/// Idempotent start-up work: the sweep's schedule.
pub async fn init(db: &Db) -> Result<()> {
    gongkai_kernel::jobs::ensure_schedule(db, "msg.sweep", "*/10 * * * *", "msg.sweep").await
}

pub fn register_jobs(reg: &mut Registry) {
    reg.register("msg.sweep", |ctx, _| async move {
        service::sweep(&ctx.db, gongkai_kernel::clock::today()).await.map(|_| ()).map_err(|e| e.to_string())
    });
}
