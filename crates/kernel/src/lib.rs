//! gongkai kernel: configuration, storage on SQLite or PostgreSQL, organisations, users
//! and permissions, sessions, the audit log, the outbox, the job runner, the working-day
//! calendar and the console shell that every slice plugs its pages into.

pub mod audit;
pub mod auth;
pub mod calendar;
pub mod clock;
pub mod cn;
pub mod config;
pub mod db;
pub mod demo;
pub mod docx;
pub mod error;
pub mod jobs;
pub mod org;
pub mod outbox;
pub mod site;
pub mod testkit;
pub mod web;

pub use error::{Error, Result};

/// Cryptographically random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // Without OS randomness no session token or salt is safe: stop rather than issue a guessable one.
    if let Err(e) = getrandom::fill(&mut b) {
        panic!("operating system random generator unavailable: {e}");
    }
    b
}

/// A random token as lowercase hex (2·N characters).
pub fn random_token<const N: usize>() -> String {
    audit::hex(&random_bytes::<N>())
}

/// Open the database, apply migrations and seed what a fresh database needs
/// (the official calendar, the built-in schedules).
pub async fn open(cfg: &config::Config) -> Result<db::Db> {
    let db = db::Db::connect(&cfg.database_url()).await?;
    db.migrate().await?;
    calendar::service::seed_if_empty(&db).await?;
    for (name, cron, kind) in jobs::runner::BUILTIN_SCHEDULES {
        jobs::ensure_schedule(&db, name, cron, kind).await?;
    }
    Ok(db)
}

/// A plain enum of stored words with their Chinese labels: generates `as_str`, `parse`,
/// `label_zh` and `ALL`. (The caller's crate needs `serde`.)
#[macro_export]
macro_rules! words {
    ($(#[$m:meta])* $name:ident { $($v:ident = $s:literal : $zh:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        pub enum $name { $($v,)* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s,)* }
            }
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$v),)* _ => None }
            }
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$v => $zh,)* }
            }
        }
    };
}
