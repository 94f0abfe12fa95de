//! The job runner: one loop per node that fires due schedules and runs claimed jobs.
//! A handler's error or panic is recorded on the job (retry, then dead), never lost.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::Jobs as JobsConfig;
use crate::db::Db;

pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type HandlerFn = Arc<dyn Fn(JobContext, serde_json::Value) -> JobFuture + Send + Sync>;

#[derive(Clone)]
pub struct JobContext {
    pub db: Db,
    pub job_id: i64,
}

#[derive(Default, Clone)]
pub struct Registry {
    handlers: HashMap<String, HandlerFn>,
}

impl Registry {
    pub fn register<F, Fut>(&mut self, kind: &str, f: F)
    where
        F: Fn(JobContext, serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.handlers.insert(kind.to_string(), Arc::new(move |ctx, v| Box::pin(f(ctx, v))));
    }
    /// Run the handler of `kind` once, outside the job table (the CLI's `job run`).
    pub async fn run_now(&self, db: &Db, kind: &str) -> Result<(), String> {
        let Some(h) = self.handlers.get(kind) else {
            return Err(format!("没有这种任务：{kind}（可用：{}）", self.kinds().join("、")));
        };
        h(JobContext { db: db.clone(), job_id: 0 }, serde_json::Value::Null).await
    }
    pub fn kinds(&self) -> Vec<String> {
        let mut k: Vec<String> = self.handlers.keys().cloned().collect();
        k.sort();
        k
    }
}

/// Built-in housekeeping jobs and their schedules.
pub fn builtin(reg: &mut Registry) {
    reg.register("sessions.cleanup", |ctx, _| async move {
        let mut tx = ctx.db.begin().await.map_err(|e| e.to_string())?;
        crate::auth::store::delete_expired_sessions(&mut tx.conn(), crate::clock::now_ms())
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())
    });
    reg.register("jobs.cleanup", |ctx, _| async move {
        let week_ago = crate::clock::now_ms() - 7 * 24 * 3600 * 1000;
        let mut tx = ctx.db.begin().await.map_err(|e| e.to_string())?;
        super::delete_done_before(&mut tx.conn(), week_ago).await.map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())
    });
    // A broken chain fails this job, so it shows as dead in the console and in /metrics.
    reg.register("audit.verify", |ctx, _| async move {
        match crate::audit::verify(&ctx.db).await.map_err(|e| e.to_string())? {
            crate::audit::Verdict::Intact { .. } => Ok(()),
            crate::audit::Verdict::Broken { seq, reason } => Err(format!("审计日志校验失败：第 {seq} 条：{reason}")),
        }
    });
}

pub const BUILTIN_SCHEDULES: [(&str, &str, &str); 3] = [
    ("sessions.cleanup", "17 * * * *", "sessions.cleanup"),
    ("jobs.cleanup", "30 3 * * *", "jobs.cleanup"),
    ("audit.verify", "0 2 * * *", "audit.verify"),
];

pub fn worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!("{}:{}:{}", host.trim(), std::process::id(), crate::audit::hex(&crate::random_bytes::<4>()))
}

/// Run one job to its end (success, retry or dead).
pub async fn run_one(db: &Db, reg: &Registry, job: super::Job, worker: &str, lease_ms: i64) {
    let Some(handler) = reg.handlers.get(&job.kind).cloned() else {
        let _ = super::fail(db, &job, worker, &format!("未知的任务类型：{}", job.kind)).await;
        return;
    };
    let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or(serde_json::Value::Null);
    let ctx = JobContext { db: db.clone(), job_id: job.id };
    // Spawned so a panic is caught as a JoinError; heartbeats keep the lease alive.
    let mut task = tokio::spawn(handler(ctx, payload));
    let beat = Duration::from_millis((lease_ms / 3).max(1000) as u64);
    let outcome = loop {
        tokio::select! {
            r = &mut task => break r,
            _ = tokio::time::sleep(beat) => {
                let _ = super::heartbeat(db, job.id, worker, lease_ms).await;
            }
        }
    };
    let result = match outcome {
        Ok(Ok(())) => super::complete(db, job.id, worker).await,
        Ok(Err(msg)) => super::fail(db, &job, worker, &msg).await,
        Err(join) => super::fail(db, &job, worker, &format!("任务异常终止：{join}")).await,
    };
    if let Err(e) = result {
        tracing::error!(job = job.id, error = %e, "could not record job outcome; the lease will expire and it will be retried");
    }
}

/// Drain due work once: fire schedules, then run jobs until none is due.
pub async fn tick(db: &Db, reg: &Registry, worker: &str, lease_ms: i64) -> usize {
    if let Err(e) = super::fire_due_schedules(db).await {
        tracing::warn!(error = %e, "schedule tick failed");
    }
    let mut ran = 0;
    loop {
        match super::claim(db, worker, lease_ms).await {
            Ok(Some(job)) => {
                run_one(db, reg, job, worker, lease_ms).await;
                ran += 1;
            }
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "job claim failed");
                break;
            }
        }
    }
    ran
}

pub async fn run(db: Db, reg: Arc<Registry>, cfg: JobsConfig, mut shutdown: watch::Receiver<bool>) {
    let worker = worker_id();
    let lease_ms = cfg.lease_secs as i64 * 1000;
    tracing::info!(%worker, kinds = ?reg.kinds(), "job runner started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        tick(&db, &reg, &worker, lease_ms).await;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(cfg.poll_ms)) => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::info!("job runner stopped");
}
