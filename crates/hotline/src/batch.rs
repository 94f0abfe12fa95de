//! Intakes from the API and the public form go through the kernel's group commit
//! ([`gongkai_kernel::db::group`]): under load, concurrent intakes share one transaction.
//! Each intake is checked before the queue (reads on a read connection); the writer then
//! writes the whole batch with multi-row statements (`service::write_checked`).

use gongkai_kernel::db::group::{self, Group, Unit};
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::web::AppState;

use crate::service::{self, By, Checked, Intake, Intaken};
use crate::store::ClientRow;

/// Who submits, owned so it can cross to the writer task.
#[derive(Debug, Clone)]
pub enum Submitter {
    Client(ClientRow, String),
    Public(String),
}

impl Submitter {
    fn by(&self) -> By<'_> {
        match self {
            Submitter::Client(c, ip) => By::Client(c, ip),
            Submitter::Public(ip) => By::Public(ip),
        }
    }
}

/// One checked intake waiting for the writer.
pub struct Submission {
    key: Option<String>,
    checked: Checked,
}

impl Unit for Submission {
    type Out = Intaken;

    fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    async fn write(&self, c: &mut Conn<'_>) -> Result<Intaken> {
        let mut v = Self::write_all(&[self], c).await;
        v.pop().unwrap_or_else(|| Err(Error::Internal("受理未写入".into())))
    }

    async fn write_all(units: &[&Self], c: &mut Conn<'_>) -> Vec<Result<Intaken>> {
        let checked: Vec<&Checked> = units.iter().map(|u| &u.checked).collect();
        match service::write_checked(c, &checked).await {
            Ok(orders) => orders.into_iter().map(|order| Ok(Intaken { order, created: true })).collect(),
            // A database error: the kernel retries each submission alone.
            Err(e) => units.iter().map(|_| Err(Error::Internal(e.to_string()))).collect(),
        }
    }

    async fn alone(self, db: &Db) -> Result<Intaken> {
        if let Some(order) = service::seen(db, self.key.as_deref()).await? {
            return Ok(Intaken { order, created: false });
        }
        service::intake_checked(db, self.checked).await
    }

    async fn stored(db: &Db, keys: &[String]) -> Result<Vec<String>> {
        let mut h = db.read().await?;
        group::stored_keys(&mut h.conn(), "hl_orders", "idem_key", keys).await
    }
}

pub fn attach(state: AppState) -> AppState {
    state.with_ext(Group::<Submission>::default())
}

/// An intake through the group-commit writer: a failing check gets its errors before the
/// queue; a key seen before gets the stored order (the writer answers it alone).
pub async fn intake(state: &AppState, who: Submitter, intake: Intake) -> Result<Intaken> {
    let checked = {
        let mut h = state.db.read().await?;
        service::check(&mut h.conn(), who.by(), &intake).await?
    };
    let key = intake.idem_key.filter(|k| !k.is_empty());
    group::submit(state, Submission { key, checked }).await
}
