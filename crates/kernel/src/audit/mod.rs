//! Audit log: every state change appends one row in the same transaction, chained by
//! SHA-256 so that editing, deleting or reordering rows directly in the database is
//! detected by `verify`. The head row (locked by each appender) keeps the chain linear
//! across nodes and lets verify notice a truncated tail.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{Backend, Conn, Db};
use crate::error::Result;
use crate::with_conn;

pub mod web;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did it, as recorded. Handlers build it from the session; the CLI uses `Actor::cli`.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
    pub role: String,
    pub org_id: Option<i64>,
    pub ip: String,
}

impl Actor {
    pub fn cli() -> Actor {
        let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        Actor { user_id: None, name: format!("cli:{who}"), role: "cli".into(), org_id: None, ip: "local".into() }
    }
    pub fn system(job: &str) -> Actor {
        Actor { user_id: None, name: format!("system:{job}"), role: "system".into(), org_id: None, ip: "local".into() }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub actor_role: String,
    pub actor_org_id: Option<i64>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub summary: String,
    pub ip: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The hash covers every field but itself, serialised as a JSON array so no
    /// field boundary is ambiguous.
    pub fn compute_hash(&self) -> String {
        let material = serde_json::json!([
            self.seq,
            self.at,
            self.actor_id,
            self.actor_name,
            self.actor_role,
            self.actor_org_id,
            self.action,
            self.target_type,
            self.target_id,
            self.summary,
            self.ip,
            self.prev_hash
        ]);
        hex(&Sha256::digest(material.to_string().as_bytes()))
    }
}

pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// One entry to append: what `append` takes, owned so a batch can collect them.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub actor: Actor,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    /// A before/after description (JSON).
    pub summary: serde_json::Value,
}

/// Append one entry. Must be called inside the transaction that makes the change.
/// `summary` is a before/after description (JSON value).
pub async fn append(
    c: &mut Conn<'_>,
    actor: &Actor,
    action: &str,
    target_type: &str,
    target_id: impl ToString,
    summary: serde_json::Value,
) -> Result<i64> {
    let e = NewEntry {
        actor: actor.clone(),
        action: action.to_string(),
        target_type: target_type.to_string(),
        target_id: target_id.to_string(),
        summary,
    };
    Ok(append_all(c, std::slice::from_ref(&e)).await?.first().copied().unwrap_or_default())
}

/// Most rows of one multi-row INSERT (13 values each). Kept small: sqlx looks up each
/// SQLite parameter's name, which takes time linear in the statement's parameters.
const INSERT_ROWS: usize = 32;

/// Append entries in order, chained, with one head read, one head update and a few
/// multi-row INSERTs (a group-commit batch writes its entries together). Must be called
/// inside the transaction that makes the changes. Returns their sequence numbers.
pub async fn append_all(c: &mut Conn<'_>, entries: &[NewEntry]) -> Result<Vec<i64>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    // Lock the head first: appenders on other nodes wait here, so seq has no gaps.
    let sql = match c.backend() {
        Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
        Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
    };
    let (mut seq, mut prev_hash): (i64, String) = with_conn!(c, x => sqlx::query_as(sql).fetch_one(&mut **x).await)?;
    let at = crate::clock::now_ms();
    let mut rows = Vec::with_capacity(entries.len());
    for n in entries {
        seq += 1;
        let mut e = Entry {
            seq,
            at,
            actor_id: n.actor.user_id,
            actor_name: n.actor.name.clone(),
            actor_role: n.actor.role.clone(),
            actor_org_id: n.actor.org_id,
            action: n.action.clone(),
            target_type: n.target_type.clone(),
            target_id: n.target_id.clone(),
            summary: n.summary.to_string(),
            ip: n.actor.ip.clone(),
            prev_hash: std::mem::take(&mut prev_hash),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        prev_hash = e.hash.clone();
        rows.push(e);
    }
    for chunk in crate::db::pow2_chunks(&rows, INSERT_ROWS) {
        let sql = format!(
            "INSERT INTO audit_log (seq, at, actor_id, actor_name, actor_role, actor_org_id, action, target_type, target_id, summary, ip, prev_hash, hash)
             VALUES {}",
            crate::db::value_rows(chunk.len(), 13)
        );
        with_conn!(c, x => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for e in chunk {
                q = q.bind(e.seq).bind(e.at).bind(e.actor_id).bind(&e.actor_name).bind(&e.actor_role).bind(e.actor_org_id)
                    .bind(&e.action).bind(&e.target_type).bind(&e.target_id).bind(&e.summary).bind(&e.ip)
                    .bind(&e.prev_hash).bind(&e.hash);
            }
            q.execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    with_conn!(c, x => {
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(seq).bind(&prev_hash)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(rows.iter().map(|e| e.seq).collect())
}

/// Result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Verdict {
    Intact { rows: i64, head: String },
    Broken { seq: i64, reason: String },
}

/// Walk the whole chain in order, in pages, and report the first bad row.
pub async fn verify(db: &Db) -> Result<Verdict> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let head: (i64, String) = with_conn!(&mut c, x => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut **x).await)?;
    let mut prev_hash = GENESIS.to_string();
    let mut expected_seq = 1i64;
    loop {
        let page: Vec<Entry> = with_conn!(&mut c, x => {
            sqlx::query_as::<_, Entry>("SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 1000")
                .bind(expected_seq)
                .fetch_all(&mut **x)
                .await
        })?;
        if page.is_empty() {
            break;
        }
        for e in page {
            if e.seq != expected_seq {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    reason: format!("第 {expected_seq} 条缺失（下一条为第 {} 条）", e.seq),
                });
            }
            if e.prev_hash != prev_hash {
                return Ok(Verdict::Broken {
                    seq: e.seq,
                    reason: format!("第 {} 条的前序哈希与链不符（被删除、插入或调换）", e.seq),
                });
            }
            if e.compute_hash() != e.hash {
                return Ok(Verdict::Broken {
                    seq: e.seq, reason: format!("第 {} 条内容与哈希不符（被修改）", e.seq)
                });
            }
            prev_hash = e.hash.clone();
            expected_seq += 1;
        }
    }
    let rows = expected_seq - 1;
    if rows != head.0 || prev_hash != head.1 {
        return Ok(Verdict::Broken {
            seq: rows + 1,
            reason: format!("链尾与记录头不符：日志有 {rows} 条，记录头为第 {} 条（末尾被删除或记录头被改动）", head.0),
        });
    }
    Ok(Verdict::Intact { rows, head: prev_hash })
}
