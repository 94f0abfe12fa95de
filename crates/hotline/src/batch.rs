//! Group commit for intakes from the API and the public form. Under load, concurrent intakes
//! are written by one task in one transaction (one `BEGIN IMMEDIATE`/commit and one WAL sync
//! on SQLite, one round of commits on PostgreSQL) instead of queueing one by one for the
//! single writer. Each caller is answered only after the commit, so an acknowledged order
//! survives a crash; an intake that fails its checks is answered with its own error and does
//! not affect the others. If the batch's transaction fails, each intake is retried alone.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use gongkai_kernel::db::Db;
use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::web::AppState;

use crate::service::{self, By, Intake, Intaken};
use crate::store::{self, ClientRow};

/// The most intakes one transaction carries.
const MAX_BATCH: usize = 128;

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

struct Job {
    who: Submitter,
    intake: Intake,
    reply: oneshot::Sender<Result<Intaken>>,
}

/// The per-node writer; attached to the application state.
#[derive(Clone)]
pub struct Batcher {
    tx: mpsc::Sender<Job>,
}

impl Batcher {
    /// Starts the writer task (needs a running Tokio runtime).
    pub fn start(db: Db) -> Batcher {
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(writer(db, rx));
        Batcher { tx }
    }
}

/// Lazily started so building the state needs no runtime.
#[derive(Clone, Default)]
pub struct BatcherCell(Arc<std::sync::OnceLock<Batcher>>);

pub fn attach(state: AppState) -> AppState {
    state.with_ext(BatcherCell::default())
}

/// An intake through the group-commit writer (or directly when the state has none, as in
/// tests that build their own state).
pub async fn intake(state: &AppState, who: Submitter, i: Intake) -> Result<Intaken> {
    let Some(cell) = state.ext::<BatcherCell>() else {
        return service::intake(&state.db, who.by(), i).await;
    };
    let b = cell.0.get_or_init(|| Batcher::start(state.db.clone())).clone();
    let (reply, rx) = oneshot::channel();
    b.tx.send(Job { who, intake: i, reply }).await.map_err(|_| Error::Internal("受理队列已关闭".into()))?;
    rx.await.map_err(|_| Error::Internal("受理队列未应答".into()))?
}

async fn writer(db: Db, mut rx: mpsc::Receiver<Job>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        jobs.push(first);
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        run_batch(&db, std::mem::take(&mut jobs)).await;
    }
}

async fn run_batch(db: &Db, jobs: Vec<Job>) {
    // Keys seen before, or twice in this batch, are answered after the batch from the
    // stored order: no unique violation can abort the shared transaction.
    let mut seen: Vec<String> = Vec::new();
    let mut fresh: Vec<Job> = Vec::with_capacity(jobs.len());
    let mut repeats: Vec<Job> = Vec::new();
    for j in jobs {
        match j.intake.idem_key.as_deref().filter(|k| !k.is_empty()) {
            Some(k) if seen.iter().any(|s| s == k) => repeats.push(j),
            Some(k) => {
                seen.push(k.to_string());
                fresh.push(j)
            }
            None => fresh.push(j),
        }
    }
    if !seen.is_empty() {
        match existing(db, &seen).await {
            Ok(found) => {
                let (dup, rest): (Vec<Job>, Vec<Job>) = fresh
                    .into_iter()
                    .partition(|j| j.intake.idem_key.as_deref().is_some_and(|k| found.iter().any(|f| f == k)));
                repeats.extend(dup);
                fresh = rest;
            }
            Err(e) => {
                tracing::warn!(error = %e, "hotline batch: idempotency look-up failed; intakes run alone");
                return alone(db, fresh.into_iter().chain(repeats).collect()).await;
            }
        }
    }
    let mut results: Vec<Result<store::OrderRow>> = Vec::with_capacity(fresh.len());
    let committed = async {
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        for j in &fresh {
            results.push(service::intake_in(&mut c, j.who.by(), &j.intake).await);
        }
        // A database error inside aborts the transaction on PostgreSQL: retry alone.
        if results.iter().any(|r| matches!(r, Err(Error::Db(_)) | Err(Error::Internal(_)))) {
            return Err(Error::Internal("batch".into()));
        }
        tx.commit().await
    }
    .await;
    match committed {
        Ok(()) => {
            for (j, r) in fresh.into_iter().zip(results) {
                let _ = j.reply.send(r.map(|order| Intaken { order, created: true }));
            }
            alone(db, repeats).await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "hotline batch failed; intakes run alone");
            alone(db, fresh.into_iter().chain(repeats).collect()).await;
        }
    }
}

/// Each intake in its own transaction (it finds an order already stored under its key).
async fn alone(db: &Db, jobs: Vec<Job>) {
    for j in jobs {
        let r = service::intake(db, j.who.by(), j.intake).await;
        let _ = j.reply.send(r);
    }
}

async fn existing(db: &Db, keys: &[String]) -> Result<Vec<String>> {
    let mut h = db.read().await?;
    store::stored_idem_keys(&mut h.conn(), keys).await
}
