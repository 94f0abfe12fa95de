//! Following the outbox: every node reads the change events (its own and other nodes')
//! and drops exactly the cached pages they touch. PostgreSQL sequence values can become
//! visible out of order, so each read re-scans a trailing window of recent events and
//! skips the ones already applied; invalidating twice is harmless anyway.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use gongkai_kernel::Result;
use gongkai_kernel::outbox::{Event, LATE_WINDOW_MS as WINDOW_MS};
use gongkai_kernel::with_conn;

use crate::Portal;

/// How long a wake-up waits for the rest of a burst of writes before reading.
pub const COALESCE_MS: u64 = 20;

pub fn spawn(p: Portal, every_ms: u64, wake: Arc<tokio::sync::Notify>) {
    tokio::spawn(async move {
        // A fresh cache holds nothing stale: start from the current end.
        let mut f = Follower { after: gongkai_kernel::outbox::head(&p.db).await.unwrap_or(0), ..Default::default() };
        // The follower holds one handle; when it is the last, the node has stopped.
        while Arc::strong_count(&p.0) > 1 {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(every_ms)) => {}
                _ = wake.notified() => {
                    // A burst of writes (e.g. public submissions) is gathered into one step.
                    tokio::time::sleep(Duration::from_millis(COALESCE_MS)).await;
                }
            }
            if let Err(e) = f.step(&p).await {
                // Never give up: log and try again at the next tick.
                tracing::warn!(error = %e, "portal outbox follower");
            }
        }
    });
}

#[derive(Default)]
pub struct Follower {
    pub after: i64,
    /// Events applied within the window: id → their `at`.
    seen: HashMap<i64, i64>,
    /// When the trailing window was last re-read.
    late_at: i64,
}

impl Follower {
    /// Read and apply what is new; returns how many events were applied.
    pub async fn step(&mut self, p: &Portal) -> Result<usize> {
        let now = gongkai_kernel::clock::now_ms();
        let since = now - WINDOW_MS;
        let late = gongkai_kernel::outbox::late_window_due(&p.db, &mut self.late_at, now);
        let events: Vec<Event> = {
            let mut h = p.db.read().await?;
            let mut c = h.conn();
            with_conn!(&mut c, x => {
                let mut events = sqlx::query_as::<_, Event>(
                    "SELECT id, at, topic, entity_id, payload FROM outbox WHERE id > $1 ORDER BY id LIMIT 5000",
                )
                .bind(self.after).fetch_all(&mut **x).await?;
                if late {
                    events.extend(sqlx::query_as::<_, Event>(
                        "SELECT id, at, topic, entity_id, payload FROM outbox WHERE id <= $1 AND at >= $2 ORDER BY id LIMIT 20000",
                    )
                    .bind(self.after).bind(since).fetch_all(&mut **x).await?);
                }
                Ok::<_, sqlx::Error>(events)
            })?
        };
        let fresh: Vec<&Event> = events.iter().filter(|e| !self.seen.contains_key(&e.id)).collect();
        // Only events that touch pages count: a flood of public submissions is not an import.
        if fresh.iter().filter(|e| touches_pages(&e.topic)).count() > 500 {
            // A bulk import: cheaper to start over than to trace each item.
            p.cache.clear();
            p.sites.forget();
            p.forget_site(None);
            p.forget_labels();
        } else {
            for e in &fresh {
                apply(p, e).await?;
            }
        }
        let n = fresh.len();
        for e in &events {
            self.seen.insert(e.id, e.at);
            self.after = self.after.max(e.id);
        }
        self.seen.retain(|_, at| *at >= since - WINDOW_MS);
        Ok(n)
    }
}

/// Whether an event's topic is one [`apply`] acts on.
fn touches_pages(topic: &str) -> bool {
    matches!(
        topic,
        "item.changed"
            | "item.published"
            | "column.changed"
            | "site.changed"
            | "topic.changed"
            | "catalogue.changed"
            | "org.changed"
            | "reference.changed"
    )
}

/// The cache tags one event touches.
pub async fn apply(p: &Portal, e: &Event) -> Result<()> {
    let id: i64 = e.entity_id.parse().unwrap_or(0);
    match e.topic.as_str() {
        "item.changed" | "item.published" => {
            let mut h = p.db.read().await?;
            let mut c = h.conn();
            let reach = crate::store::item_reach(&mut c, id).await?;
            let topics = crate::store::topics_of_item(&mut c, id).await?;
            let mut tags = vec![format!("item:{id}")];
            let mut sites: Vec<i64> = Vec::new();
            for (col, site) in reach {
                tags.push(format!("col:{col}"));
                if !sites.contains(&site) {
                    sites.push(site);
                }
            }
            for s in &sites {
                for t in ["home", "feed", "sitemap", "zfxxgk"] {
                    tags.push(format!("{t}:{s}"));
                }
                p.forget_site(Some(*s));
            }
            tags.extend(topics.iter().map(|t| format!("topic:{t}")));
            p.cache.invalidate(&tags);
        }
        "column.changed" | "site.changed" => {
            let site = serde_json::from_str::<serde_json::Value>(&e.payload).ok().and_then(|v| v["site_id"].as_i64());
            let site = if e.topic == "site.changed" { Some(id) } else { site };
            p.sites.forget();
            match site {
                Some(s) => {
                    p.cache.invalidate(&[format!("site:{s}")]);
                    p.forget_site(Some(s));
                }
                None => p.cache.clear(),
            }
        }
        "topic.changed" => {
            let site = serde_json::from_str::<serde_json::Value>(&e.payload).ok().and_then(|v| v["site_id"].as_i64());
            let mut tags = vec![format!("topic:{id}")];
            if let Some(s) = site {
                tags.push(format!("home:{s}"));
                tags.push(format!("sitemap:{s}"));
            }
            p.cache.invalidate(&tags);
        }
        "catalogue.changed" => {
            p.cache.invalidate(&["catalogue"]);
        }
        "org.changed" | "reference.changed" => {
            p.forget_labels();
            p.sites.forget();
            p.forget_site(None);
            p.cache.clear();
        }
        _ => {}
    }
    Ok(())
}
