//! Intakes from the API and the public form go through the kernel's group commit
//! ([`gongkai_kernel::db::group`]): under load, concurrent intakes share one transaction.

use gongkai_kernel::db::group::{self, Group, Unit};
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::Result;
use gongkai_kernel::web::AppState;

use crate::service::{self, By, Intake, Intaken};
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

/// One intake waiting for the writer.
pub struct Submission {
    who: Submitter,
    intake: Intake,
}

impl Unit for Submission {
    type Out = Intaken;

    fn key(&self) -> Option<&str> {
        self.intake.idem_key.as_deref()
    }

    async fn write(&self, c: &mut Conn<'_>) -> Result<Intaken> {
        // `intake_in` checks (reads) before its first write.
        service::intake_in(c, self.who.by(), &self.intake).await.map(|order| Intaken { order, created: true })
    }

    async fn alone(self, db: &Db) -> Result<Intaken> {
        service::intake(db, self.who.by(), self.intake).await
    }

    async fn stored(db: &Db, keys: &[String]) -> Result<Vec<String>> {
        let mut h = db.read().await?;
        group::stored_keys(&mut h.conn(), "hl_orders", "idem_key", keys).await
    }
}

pub fn attach(state: AppState) -> AppState {
    state.with_ext(Group::<Submission>::default())
}

/// An intake through the group-commit writer.
pub async fn intake(state: &AppState, who: Submitter, intake: Intake) -> Result<Intaken> {
    group::submit(state, Submission { who, intake }).await
}
