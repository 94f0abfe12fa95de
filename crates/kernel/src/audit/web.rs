//! The audit administrator's viewer: filters, CSV export and a chain check.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Entry, Verdict};
use crate::clock::{fmt_ms, local_to_ms, parse_date};
use crate::db::Db;
use crate::error::Result;
use crate::web::ctx::render_with;
use crate::web::{AppState, Auth, WebResult};
use crate::with_conn;

#[derive(Deserialize, Default, Clone, serde::Serialize)]
#[serde(default)]
pub struct Filter {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub from: String,
    pub to: String,
    pub before: String,
}

/// Filtered entries, newest first, `limit` at most; `before` pages by seq.
pub async fn search(db: &Db, f: &Filter, limit: i64) -> Result<Vec<Entry>> {
    let mut sql = String::from("SELECT * FROM audit_log WHERE 1 = 1");
    let mut binds: Vec<BindVal> = Vec::new();
    let mut n = 0;
    let mut push = |cond: &str, v: BindVal, sql: &mut String| {
        n += 1;
        sql.push_str(&cond.replace("$?", &format!("${n}")));
        binds.push(v);
    };
    if !f.actor.trim().is_empty() {
        push(" AND actor_name LIKE $?", BindVal::S(format!("%{}%", f.actor.trim())), &mut sql);
    }
    if !f.action.trim().is_empty() {
        push(" AND action LIKE $?", BindVal::S(format!("{}%", f.action.trim())), &mut sql);
    }
    if !f.target.trim().is_empty() {
        push(" AND (target_type || ':' || target_id) LIKE $?", BindVal::S(format!("%{}%", f.target.trim())), &mut sql);
    }
    if let Some(d) = parse_date(&f.from) {
        push(" AND at >= $?", BindVal::I(local_to_ms(d.midnight())), &mut sql);
    }
    if let Some(d) = parse_date(&f.to).and_then(|d| d.next_day()) {
        push(" AND at < $?", BindVal::I(local_to_ms(d.midnight())), &mut sql);
    }
    if let Ok(b) = f.before.trim().parse::<i64>() {
        push(" AND seq < $?", BindVal::I(b), &mut sql);
    }
    sql.push_str(&format!(" ORDER BY seq DESC LIMIT {limit}"));
    let mut h = db.read().await?;
    Ok(with_conn!(&mut h.conn(), x => {
        let mut q = sqlx::query_as::<_, Entry>(sqlx::AssertSqlSafe(sql.clone()));
        for b in &binds {
            q = match b {
                BindVal::S(s) => q.bind(s.clone()),
                BindVal::I(i) => q.bind(*i),
            };
        }
        q.fetch_all(&mut **x).await
    })?)
}

enum BindVal {
    S(String),
    I(i64),
}

pub async fn list(State(state): State<AppState>, Auth(who): Auth, Query(f): Query<Filter>) -> WebResult<Response> {
    let rows = search(&state.db, &f, 100).await?;
    let next_before = if rows.len() == 100 { rows.last().map(|e| e.seq) } else { None };
    let mut q = f.clone();
    q.before = String::new();
    let qs = serde_urlencoded::to_string(&q).unwrap_or_default();
    Ok(render_with(
        &state,
        Some(&who),
        "console/audit.html",
        json!({ "rows": rows, "f": f, "qs": qs, "next_before": next_before }),
        "/console/audit",
    )?
    .into_response())
}

/// CSV (UTF-8 with BOM so Excel opens Chinese correctly) of the filtered entries.
pub async fn csv(State(state): State<AppState>, Auth(_): Auth, Query(f): Query<Filter>) -> WebResult<Response> {
    let rows = search(&state.db, &f, 100_000).await?;
    let mut out = String::from("\u{feff}序号,时间,操作人,角色,机构,操作,对象类型,对象,摘要,IP,哈希\r\n");
    for e in rows {
        let fields = [
            e.seq.to_string(),
            fmt_ms(e.at),
            e.actor_name,
            e.actor_role,
            e.actor_org_id.map(|o| o.to_string()).unwrap_or_default(),
            e.action,
            e.target_type,
            e.target_id,
            e.summary,
            e.ip,
            e.hash,
        ];
        let line: Vec<String> = fields.iter().map(|s| csv_field(s)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"audit-log.csv\""),
        ],
        out,
    )
        .into_response())
}

/// Quote a CSV field; a leading = + - @ is prefixed with ' so spreadsheets do not run it.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

pub async fn verify(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let v = super::verify(&state.db).await?;
    let ctx = match v {
        Verdict::Intact { rows, head } => json!({ "ok": true, "rows": rows, "head": head }),
        Verdict::Broken { seq, reason } => json!({ "ok": false, "seq": seq, "reason": reason }),
    };
    let status = if ctx["ok"] == json!(true) { axum::http::StatusCode::OK } else { axum::http::StatusCode::CONFLICT };
    Ok((status, render_with(&state, Some(&who), "console/audit_verify.html", ctx, "/console/audit")?).into_response())
}
