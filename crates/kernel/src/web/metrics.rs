//! Prometheus text metrics kept in atomics: request counts and latency histograms per
//! route and status class. Job queue and pool figures are read at scrape time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

const BUCKETS_MS: [u64; 10] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000];

#[derive(Default)]
struct Series {
    count: AtomicU64,
    sum_us: AtomicU64,
    buckets: [AtomicU64; BUCKETS_MS.len()],
}

#[derive(Default)]
pub struct Metrics {
    series: Mutex<HashMap<(String, String, u16), std::sync::Arc<Series>>>,
    /// Requests answered from memory before the router (see `web::FastPath`).
    fast: AtomicU64,
}

impl Metrics {
    pub fn count_fast(&self) {
        self.fast.fetch_add(1, Ordering::Relaxed);
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, micros: u64) {
        let key = (method.to_string(), route.to_string(), status);
        let s = {
            let mut m = self.series.lock().unwrap_or_else(|p| p.into_inner());
            m.entry(key).or_default().clone()
        };
        s.count.fetch_add(1, Ordering::Relaxed);
        s.sum_us.fetch_add(micros, Ordering::Relaxed);
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            if micros <= b * 1000 {
                s.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let m = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<_> = m.keys().cloned().collect();
        keys.sort();
        out.push_str("# HELP gongkai_http_requests_total HTTP requests by method, route and status.\n# TYPE gongkai_http_requests_total counter\n");
        for k in &keys {
            let s = &m[k];
            let _ = writeln!(
                out,
                "gongkai_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}",
                k.0,
                esc(&k.1),
                k.2,
                s.count.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP gongkai_http_fast_responses_total Requests answered from memory before routing (cached public pages).\n# TYPE gongkai_http_fast_responses_total counter\ngongkai_http_fast_responses_total {}",
            self.fast.load(Ordering::Relaxed)
        );
        out.push_str("# HELP gongkai_http_request_duration_seconds Request latency.\n# TYPE gongkai_http_request_duration_seconds histogram\n");
        for k in &keys {
            let s = &m[k];
            let labels = format!("method=\"{}\",route=\"{}\",status=\"{}\"", k.0, esc(&k.1), k.2);
            for (i, b) in BUCKETS_MS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "gongkai_http_request_duration_seconds_bucket{{{labels},le=\"{}\"}} {}",
                    *b as f64 / 1000.0,
                    s.buckets[i].load(Ordering::Relaxed)
                );
            }
            let n = s.count.load(Ordering::Relaxed);
            let _ = writeln!(out, "gongkai_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {n}");
            let _ = writeln!(
                out,
                "gongkai_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_us.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(out, "gongkai_http_request_duration_seconds_count{{{labels}}} {n}");
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
