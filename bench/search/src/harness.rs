//! Latency runs: N client threads, each with its own connection, each running the class's
//! queries in its own shuffled order until it has run `per_client` of them or the time is
//! up (a query in flight at the deadline is finished and counted).

use std::sync::Barrier;
use std::time::{Duration, Instant};

use crate::queries::{Q, shuffled};

#[derive(Clone, Debug, Default)]
pub struct Lat {
    pub clients: usize,
    pub queries: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
    /// Completed queries per second of wall time, all clients together.
    pub qps: f64,
    pub wall_s: f64,
}

impl Lat {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "clients": self.clients,
            "queries": self.queries,
            "errors": self.errors,
            "first_error": self.first_error,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "mean_ms": self.mean_ms,
            "max_ms": self.max_ms,
            "qps": self.qps,
            "wall_s": self.wall_s,
        })
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub struct Plan {
    pub clients: usize,
    pub per_client: usize,
    pub max: Duration,
    pub seed: u64,
}

/// Run `queries` with `plan.clients` threads. `open` makes a thread's connection (before
/// the clock starts); `exec` runs one query on it and returns the number of hits.
pub fn run<C>(
    plan: &Plan,
    queries: &[Q],
    open: &(dyn Fn() -> Result<C, String> + Sync),
    exec: &(dyn Fn(&mut C, &Q) -> Result<usize, String> + Sync),
) -> Lat {
    let barrier = Barrier::new(plan.clients + 1);
    let mut lat = Lat { clients: plan.clients, ..Default::default() };
    if queries.is_empty() {
        return lat;
    }
    let (samples, wall) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..plan.clients)
            .map(|c| {
                let barrier = &barrier;
                s.spawn(move || {
                    let ctx = open();
                    barrier.wait();
                    let mut ctx = match ctx {
                        Ok(ctx) => ctx,
                        Err(e) => return (Vec::new(), 1, Some(e)),
                    };
                    let deadline = Instant::now() + plan.max;
                    let mut times = Vec::with_capacity(plan.per_client);
                    let (mut errors, mut first_error) = (0, None);
                    let mut order = Vec::new();
                    for k in 0..plan.per_client {
                        if Instant::now() >= deadline {
                            break;
                        }
                        if k % queries.len() == 0 {
                            order = shuffled(queries.len(), plan.seed ^ ((c as u64) << 32) ^ k as u64);
                        }
                        let q = &queries[order[k % queries.len()]];
                        let t = Instant::now();
                        match exec(&mut ctx, q) {
                            Ok(_) => times.push(t.elapsed().as_secs_f64() * 1000.0),
                            Err(e) => {
                                errors += 1;
                                first_error.get_or_insert(format!("{}: {e}", q.label()));
                            }
                        }
                    }
                    (times, errors, first_error)
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let mut all = Vec::new();
        for h in handles {
            match h.join() {
                Ok(r) => all.push(r),
                Err(_) => all.push((Vec::new(), 1, Some("client thread panicked".to_string()))),
            }
        }
        (all, start.elapsed())
    });
    let mut times = Vec::new();
    for (t, e, fe) in samples {
        times.extend(t);
        lat.errors += e;
        if lat.first_error.is_none() {
            lat.first_error = fe;
        }
    }
    times.sort_by(f64::total_cmp);
    lat.queries = times.len();
    lat.p50_ms = percentile(&times, 50.0);
    lat.p99_ms = percentile(&times, 99.0);
    lat.mean_ms = if times.is_empty() { f64::NAN } else { times.iter().sum::<f64>() / times.len() as f64 };
    lat.max_ms = times.last().copied().unwrap_or(f64::NAN);
    lat.wall_s = wall.as_secs_f64();
    lat.qps = times.len() as f64 / lat.wall_s.max(1e-9);
    lat
}

/// One pass over the queries on one connection, unmeasured, so caches hold what the
/// measured runs will read; stops at `max`.
pub fn warm<C>(
    queries: &[Q],
    max: Duration,
    open: &(dyn Fn() -> Result<C, String> + Sync),
    exec: &(dyn Fn(&mut C, &Q) -> Result<usize, String> + Sync),
) -> Result<(), String> {
    let mut ctx = open()?;
    let deadline = Instant::now() + max;
    for q in queries {
        if Instant::now() >= deadline {
            break;
        }
        exec(&mut ctx, q)?;
    }
    Ok(())
}
