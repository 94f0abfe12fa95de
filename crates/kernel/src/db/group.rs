//! Group commit for public submissions (messages, hotline intakes from the API and the
//! public form). Under load, concurrent submissions of one kind are written by one task in
//! one transaction (one `BEGIN IMMEDIATE`/commit and one WAL sync on SQLite, one commit
//! round on PostgreSQL) instead of queueing one by one for the single writer. Each caller
//! is answered only after the commit, so an acknowledged submission survives a crash; a
//! submission that fails its checks gets its own error and does not affect the others.
//! If the batch's transaction fails, each submission is retried alone.
//!
//! A slice describes one submission as a [`Unit`] and attaches a [`Group`] of that unit
//! to the application state; handlers call [`submit`].

use std::future::Future;
use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

use crate::db::{Conn, Db};
use crate::error::{Error, Result};
use crate::web::AppState;

/// The most submissions one transaction carries.
const MAX_BATCH: usize = 128;

/// One submission that can share a transaction with others of its kind.
pub trait Unit: Send + Sync + 'static {
    type Out: Send + 'static;

    /// The idempotency key, when the submission has one: a key stored before, or seen
    /// twice in one batch, is answered by [`Unit::alone`] after the batch (it finds the
    /// stored row), so no unique violation can abort the shared transaction.
    fn key(&self) -> Option<&str>;

    /// The writes inside the shared transaction. Contract: fail either before the first
    /// write (checks: the submission gets its error, the others go on) or with a
    /// database error (the whole batch is retried alone).
    fn write(&self, c: &mut Conn<'_>) -> impl Future<Output = Result<Self::Out>> + Send;

    /// The writes of a whole batch, one result per unit in order: by default each unit's
    /// [`Unit::write`] in turn. A kind may override it to write the batch with multi-row
    /// statements, under the same contract.
    fn write_all(units: &[&Self], c: &mut Conn<'_>) -> impl Future<Output = Vec<Result<Self::Out>>> + Send {
        async move {
            let mut out = Vec::with_capacity(units.len());
            for u in units {
                out.push(u.write(c).await);
            }
            out
        }
    }

    /// The submission in its own transaction, answering a repeated key from the stored row.
    fn alone(self, db: &Db) -> impl Future<Output = Result<Self::Out>> + Send;

    /// Which of these keys are stored already (one query).
    fn stored(db: &Db, keys: &[String]) -> impl Future<Output = Result<Vec<String>>> + Send;
}

struct Job<U: Unit> {
    unit: U,
    reply: oneshot::Sender<Result<U::Out>>,
}

/// The per-node writer of one unit kind, started on first use so building the state needs
/// no runtime. Attach with `state.with_ext(Group::<U>::default())`.
pub struct Group<U: Unit>(Arc<OnceLock<mpsc::Sender<Job<U>>>>);

impl<U: Unit> Default for Group<U> {
    fn default() -> Self {
        Group(Arc::default())
    }
}

impl<U: Unit> Clone for Group<U> {
    fn clone(&self) -> Self {
        Group(self.0.clone())
    }
}

/// A submission through its kind's group-commit writer, or alone when the state has none
/// attached (tests that build their own state).
pub async fn submit<U: Unit>(state: &AppState, unit: U) -> Result<U::Out> {
    let Some(group) = state.ext::<Group<U>>() else {
        return unit.alone(&state.db).await;
    };
    let tx = group
        .0
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel(4096);
            tokio::spawn(writer(state.db.clone(), rx));
            tx
        })
        .clone();
    let (reply, rx) = oneshot::channel();
    tx.send(Job { unit, reply }).await.map_err(|_| Error::Internal("提交队列已关闭".into()))?;
    rx.await.map_err(|_| Error::Internal("提交队列未应答".into()))?
}

async fn writer<U: Unit>(db: Db, mut rx: mpsc::Receiver<Job<U>>) {
    let mut jobs: Vec<Job<U>> = Vec::with_capacity(MAX_BATCH);
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

async fn run_batch<U: Unit>(db: &Db, jobs: Vec<Job<U>>) {
    let mut seen: Vec<String> = Vec::new();
    let mut fresh: Vec<Job<U>> = Vec::with_capacity(jobs.len());
    let mut repeats: Vec<Job<U>> = Vec::new();
    for j in jobs {
        match j.unit.key().filter(|k| !k.is_empty()) {
            Some(k) if seen.iter().any(|s| s == k) => repeats.push(j),
            Some(k) => {
                seen.push(k.to_string());
                fresh.push(j)
            }
            None => fresh.push(j),
        }
    }
    if !seen.is_empty() {
        match U::stored(db, &seen).await {
            Ok(found) => {
                let (dup, rest): (Vec<Job<U>>, Vec<Job<U>>) =
                    fresh.into_iter().partition(|j| j.unit.key().is_some_and(|k| found.iter().any(|f| f == k)));
                repeats.extend(dup);
                fresh = rest;
            }
            Err(e) => {
                tracing::warn!(error = %e, "group commit: idempotency look-up failed; submissions run alone");
                return alone(db, fresh.into_iter().chain(repeats).collect()).await;
            }
        }
    }
    let mut results: Vec<Result<U::Out>> = Vec::new();
    let committed = async {
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        let units: Vec<&U> = fresh.iter().map(|j| &j.unit).collect();
        results = U::write_all(&units, &mut c).await;
        if results.len() != fresh.len() {
            return Err(Error::Internal("batch: one result per submission expected".into()));
        }
        // A database error inside aborts the transaction on PostgreSQL: retry alone.
        if let Some(Err(e)) = results.iter().find(|r| matches!(r, Err(Error::Db(_)) | Err(Error::Internal(_)))) {
            return Err(Error::Internal(format!("a submission failed: {e}")));
        }
        tx.commit().await
    }
    .await;
    match committed {
        Ok(()) => {
            for (j, r) in fresh.into_iter().zip(results) {
                let _ = j.reply.send(r);
            }
            alone(db, repeats).await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "group commit: batch failed; submissions run alone");
            alone(db, fresh.into_iter().chain(repeats).collect()).await;
        }
    }
}

async fn alone<U: Unit>(db: &Db, jobs: Vec<Job<U>>) {
    for j in jobs {
        let r = j.unit.alone(db).await;
        let _ = j.reply.send(r);
    }
}

/// Which of `keys` are stored in `table.column` (one query): [`Unit::stored`] for a unit
/// whose key is a column of its table.
pub async fn stored_keys(
    c: &mut Conn<'_>,
    table: &'static str,
    column: &'static str,
    keys: &[String],
) -> Result<Vec<String>> {
    let Some(last) = keys.last() else { return Ok(Vec::new()) };
    // The list is padded with its last key to a power of two, so the statement has a few
    // shapes that stay in the connection's statement cache (one per batch size would not).
    let n = keys.len().next_power_of_two();
    let marks: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    let sql = format!("SELECT {column} FROM {table} WHERE {column} IN ({})", marks.join(", "));
    Ok(crate::with_conn!(c, x => {
        let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for k in keys.iter().chain(std::iter::repeat_n(last, n - keys.len())) {
            q = q.bind(k);
        }
        q.fetch_all(&mut **x).await
    })?)
}
