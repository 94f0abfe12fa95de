//! Outbox: an event row written in the same transaction as the change it describes.
//! Derived state (search, caches, roll-ups) tails this table; the database stays the truth.

use crate::db::{Backend, Conn};
use crate::error::Result;
use crate::with_conn;

/// Record that `entity_id` of `topic` changed. On PostgreSQL the writer's transaction id
/// is stored too, so tailers can read only up to a snapshot-safe point.
pub async fn emit(c: &mut Conn<'_>, topic: &str, entity_id: impl ToString, payload: serde_json::Value) -> Result<i64> {
    let sql = match c.backend() {
        Backend::Postgres => {
            "INSERT INTO outbox (at, topic, entity_id, payload, xid) VALUES ($1, $2, $3, $4, pg_current_xact_id()::text::bigint) RETURNING id"
        }
        Backend::Sqlite => "INSERT INTO outbox (at, topic, entity_id, payload) VALUES ($1, $2, $3, $4) RETURNING id",
    };
    let now = crate::clock::now_ms();
    let entity_id = entity_id.to_string();
    let payload = payload.to_string();
    let id: i64 = with_conn!(c, x => {
        sqlx::query_scalar(sql).bind(now).bind(topic).bind(&entity_id).bind(&payload).fetch_one(&mut **x).await
    })?;
    Ok(id)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Event {
    pub id: i64,
    pub at: i64,
    pub topic: String,
    pub entity_id: String,
    pub payload: String,
}

/// How far back a follower looks for events that committed late: PostgreSQL sequence
/// values can become visible out of order. SQLite's one writer commits in id order.
pub const LATE_WINDOW_MS: i64 = 60_000;

/// Whether a follower should re-read the trailing window now: never on SQLite, on
/// PostgreSQL at most once a second (a wake-up after every public submission would
/// otherwise re-read the last minute of events each time). Updates `last`.
pub fn late_window_due(db: &crate::db::Db, last: &mut i64, now: i64) -> bool {
    if matches!(db, crate::db::Db::Sqlite { .. }) || now - *last < 1_000 {
        return false;
    }
    *last = now;
    true
}

/// The highest event id now (0 for an empty outbox): where a fresh follower starts.
pub async fn head(db: &crate::db::Db) -> Result<i64> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let id: Option<i64> =
        with_conn!(&mut c, x => sqlx::query_scalar("SELECT MAX(id) FROM outbox").fetch_one(&mut **x).await)?;
    Ok(id.unwrap_or(0))
}

/// Events after `after_id`, oldest first.
pub async fn read_after(c: &mut Conn<'_>, after_id: i64, limit: i64) -> Result<Vec<Event>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Event>("SELECT id, at, topic, entity_id, payload FROM outbox WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after_id)
            .bind(limit)
            .fetch_all(&mut **x)
            .await
    })?)
}
