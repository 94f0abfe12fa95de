//! SQL for disclosure requests. One SQL text for both backends; a request is read, changed
//! in memory by the service and written back whole (`save`), inside one transaction.

use gongkai_kernel::auth::OrgScope;
use gongkai_kernel::db::{Backend, Conn};
use gongkai_kernel::error::Result;
use gongkai_kernel::with_conn;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RequestRow {
    pub id: i64,
    pub tracking_no: String,
    #[serde(skip)]
    pub access_hash: String,
    #[serde(skip)]
    pub idem_key: Option<String>,
    pub org_id: i64,
    pub channel: String,
    pub state: String,
    pub applicant_kind: String,
    pub applicant_name: String,
    pub id_type: String,
    pub id_number: String,
    pub uscc: String,
    pub legal_rep: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub postcode: String,
    pub info_title: String,
    pub info_doc_no: String,
    pub info_description: String,
    pub form_wanted: String,
    pub delivery: String,
    pub evidence: String,
    pub received_on: Option<String>,
    pub receipt_rule: String,
    pub due_on: Option<String>,
    pub extension_days: i64,
    pub extension: String,
    pub longer_due_on: Option<String>,
    pub longer_reason: String,
    pub fee_scheme: Option<String>,
    pub fee_units: Option<i64>,
    pub fee_amount: Option<i64>,
    pub answer: Option<String>,
    pub ground: Option<String>,
    pub outcome: Option<String>,
    pub reason: String,
    pub withheld: String,
    pub decided_on: Option<String>,
    pub decided_by: Option<i64>,
    pub delivered_on: Option<String>,
    pub delivery_method: String,
    pub delivery_ref: String,
    pub overdue: i64,
    pub reminded_due: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StepRow {
    pub id: i64,
    pub request_id: i64,
    pub kind: String,
    pub started_on: String,
    pub deadline_on: String,
    pub ended_on: Option<String>,
    pub detail: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub request_id: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub text: String,
    pub public: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LetterRow {
    pub id: i64,
    pub request_id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FileRow {
    pub id: i64,
    pub request_id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReviewRow {
    pub id: i64,
    pub request_id: i64,
    pub kind: String,
    pub filed_on: String,
    pub body: String,
    pub result: String,
    pub concluded_on: Option<String>,
    pub note: String,
    pub created_at: i64,
}

/// What the list and the statistics need of a request, with its organisation's path.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ListRow {
    pub id: i64,
    pub tracking_no: String,
    pub org_id: i64,
    pub org_name: String,
    pub channel: String,
    pub state: String,
    pub applicant_kind: String,
    pub applicant_name: String,
    pub info_title: String,
    pub received_on: Option<String>,
    pub due_on: Option<String>,
    pub outcome: Option<String>,
    pub decided_on: Option<String>,
    pub delivered_on: Option<String>,
    pub overdue: i64,
    pub created_at: i64,
}

pub async fn insert(c: &mut Conn<'_>, r: &RequestRow) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO foi_requests (tracking_no, access_hash, idem_key, org_id, channel, state, applicant_kind,
               applicant_name, id_type, id_number, uscc, legal_rep, phone, email, address, postcode, info_title,
               info_doc_no, info_description, form_wanted, delivery, evidence, received_on, receipt_rule, due_on,
               created_by, created_at, updated_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$27)
             RETURNING id",
        )
        .bind(&r.tracking_no).bind(&r.access_hash).bind(&r.idem_key).bind(r.org_id).bind(&r.channel).bind(&r.state)
        .bind(&r.applicant_kind).bind(&r.applicant_name).bind(&r.id_type).bind(&r.id_number).bind(&r.uscc)
        .bind(&r.legal_rep).bind(&r.phone).bind(&r.email).bind(&r.address).bind(&r.postcode).bind(&r.info_title)
        .bind(&r.info_doc_no).bind(&r.info_description).bind(&r.form_wanted).bind(&r.delivery).bind(&r.evidence)
        .bind(&r.received_on).bind(&r.receipt_rule).bind(&r.due_on).bind(r.created_by).bind(r.created_at)
        .fetch_one(&mut **x).await
    })?)
}

/// Write back every field a use case may change.
pub async fn save(c: &mut Conn<'_>, r: &RequestRow) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query(
            "UPDATE foi_requests SET state=$2, evidence=$3, received_on=$4, receipt_rule=$5, due_on=$6,
               extension_days=$7, extension=$8, longer_due_on=$9, longer_reason=$10, fee_scheme=$11, fee_units=$12,
               fee_amount=$13, answer=$14, ground=$15, outcome=$16, reason=$17, withheld=$18, decided_on=$19,
               decided_by=$20, delivered_on=$21, delivery_method=$22, delivery_ref=$23, overdue=$24, reminded_due=$25,
               updated_at=$26
             WHERE id=$1",
        )
        .bind(r.id).bind(&r.state).bind(&r.evidence).bind(&r.received_on).bind(&r.receipt_rule).bind(&r.due_on)
        .bind(r.extension_days).bind(&r.extension).bind(&r.longer_due_on).bind(&r.longer_reason).bind(&r.fee_scheme)
        .bind(r.fee_units).bind(r.fee_amount).bind(&r.answer).bind(&r.ground).bind(&r.outcome).bind(&r.reason)
        .bind(&r.withheld).bind(&r.decided_on).bind(r.decided_by).bind(&r.delivered_on).bind(&r.delivery_method)
        .bind(&r.delivery_ref).bind(r.overdue).bind(&r.reminded_due).bind(r.updated_at)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// One request; inside a write transaction on PostgreSQL the row is locked (SQLite has one writer).
pub async fn get(c: &mut Conn<'_>, id: i64, lock: bool) -> Result<Option<RequestRow>> {
    let sql = if lock && c.backend() == Backend::Postgres {
        "SELECT * FROM foi_requests WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT * FROM foi_requests WHERE id = $1"
    };
    Ok(with_conn!(c, x => { sqlx::query_as::<_, RequestRow>(sql).bind(id).fetch_optional(&mut **x).await })?)
}

pub async fn by_tracking(c: &mut Conn<'_>, tracking_no: &str) -> Result<Option<RequestRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, RequestRow>("SELECT * FROM foi_requests WHERE tracking_no = $1")
            .bind(tracking_no).fetch_optional(&mut **x).await
    })?)
}

pub async fn by_idem_key(c: &mut Conn<'_>, key: &str) -> Result<Option<RequestRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, RequestRow>("SELECT * FROM foi_requests WHERE idem_key = $1")
            .bind(key).fetch_optional(&mut **x).await
    })?)
}

/// The number of requests created on `prefix`'s day (tracking numbers are per day).
pub async fn count_tracking_prefix(c: &mut Conn<'_>, prefix: &str) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("SELECT COUNT(*) FROM foi_requests WHERE tracking_no LIKE $1")
            .bind(format!("{prefix}%")).fetch_one(&mut **x).await
    })?)
}

/// The applicant's requests received in `month` ('YYYY-MM') up to and including `id`, by
/// ID number or credit code: the count the per-request fee is banded on.
pub async fn applicant_month_count(c: &mut Conn<'_>, r: &RequestRow, month: &str) -> Result<i64> {
    let (col, key) = if r.uscc.is_empty() { ("id_number", &r.id_number) } else { ("uscc", &r.uscc) };
    if key.is_empty() {
        return Ok(1);
    }
    let sql = format!(
        "SELECT COUNT(*) FROM foi_requests WHERE {col} = $1 AND received_on LIKE $2 AND (received_on < $3 OR (received_on = $3 AND id <= $4))"
    );
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(key).bind(format!("{month}-%")).bind(r.received_on.as_deref().unwrap_or("")).bind(r.id)
            .fetch_one(&mut **x).await
    })?)
}

pub async fn open_ids(c: &mut Conn<'_>) -> Result<Vec<i64>> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("SELECT id FROM foi_requests WHERE state <> 'decided' ORDER BY id").fetch_all(&mut **x).await
    })?)
}

#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub state: Option<String>,
    pub overdue: bool,
    pub q: Option<String>,
    pub org_id: Option<i64>,
    pub year: Option<i32>,
}

fn scope_sql(scope: &OrgScope, args: &mut Vec<String>) -> String {
    match scope {
        OrgScope::All => "1=1".into(),
        OrgScope::None => "1=0".into(),
        OrgScope::Paths(paths) => {
            let mut parts = Vec::new();
            for p in paths {
                args.push(format!("{p}%"));
                parts.push(format!("o.path LIKE ${}", args.len()));
            }
            format!("({})", parts.join(" OR "))
        }
    }
}

/// Requests in the principal's organisations, newest first (open ones by due date).
pub async fn list(c: &mut Conn<'_>, scope: &OrgScope, f: &ListFilter, limit: i64) -> Result<Vec<ListRow>> {
    let mut args: Vec<String> = Vec::new();
    let mut cond = vec![scope_sql(scope, &mut args)];
    if let Some(s) = &f.state {
        args.push(s.clone());
        cond.push(format!("r.state = ${}", args.len()));
    }
    if f.overdue {
        cond.push("r.overdue = 1".into());
    }
    if let Some(q) = f.q.as_ref().filter(|q| !q.trim().is_empty()) {
        args.push(format!("%{}%", q.trim()));
        let n = args.len();
        cond.push(format!("(r.tracking_no LIKE ${n} OR r.info_title LIKE ${n} OR r.applicant_name LIKE ${n})"));
    }
    if let Some(o) = f.org_id {
        args.push(o.to_string());
        cond.push(format!("CAST(r.org_id AS TEXT) = ${}", args.len()));
    }
    if let Some(y) = f.year {
        args.push(format!("{y}-%"));
        cond.push(format!("r.received_on LIKE ${}", args.len()));
    }
    let sql = format!(
        "SELECT r.id, r.tracking_no, r.org_id, o.name AS org_name, r.channel, r.state, r.applicant_kind, r.applicant_name,
                r.info_title, r.received_on, r.due_on, r.outcome, r.decided_on, r.delivered_on, r.overdue, r.created_at
         FROM foi_requests r JOIN orgs o ON o.id = r.org_id
         WHERE {}
         ORDER BY CASE WHEN r.state = 'decided' THEN 1 ELSE 0 END, r.due_on IS NULL, r.due_on, r.id DESC
         LIMIT {limit}",
        cond.join(" AND ")
    );
    Ok(with_conn!(c, x => {
        let mut q = sqlx::query_as::<_, ListRow>(sqlx::AssertSqlSafe(sql));
        for a in &args {
            q = q.bind(a);
        }
        q.fetch_all(&mut **x).await
    })?)
}

/// What the statistics count: every request of the organisation (and its sub-organisations
/// when `subtree`) received on or before the end of `year`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatRow {
    pub applicant_kind: String,
    pub received_on: String,
    pub decided_on: Option<String>,
    pub outcome: Option<String>,
}

pub async fn stat_rows(c: &mut Conn<'_>, org_path: &str, subtree: bool, year: i32) -> Result<Vec<StatRow>> {
    let org_cond = if subtree { "o.path LIKE $1" } else { "o.path = $1" };
    let sql = format!(
        "SELECT r.applicant_kind, r.received_on, r.decided_on, r.outcome FROM foi_requests r JOIN orgs o ON o.id = r.org_id
         WHERE {org_cond} AND r.received_on IS NOT NULL AND r.received_on <= $2"
    );
    let pat = if subtree { format!("{org_path}%") } else { org_path.to_string() };
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, StatRow>(sqlx::AssertSqlSafe(sql)).bind(&pat).bind(format!("{year}-12-31")).fetch_all(&mut **x).await
    })?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewStatRow {
    pub kind: String,
    pub filed_on: String,
    pub result: String,
    pub concluded_on: Option<String>,
}

pub async fn review_stat_rows(
    c: &mut Conn<'_>,
    org_path: &str,
    subtree: bool,
    year: i32,
) -> Result<Vec<ReviewStatRow>> {
    let org_cond = if subtree { "o.path LIKE $1" } else { "o.path = $1" };
    let sql = format!(
        "SELECT v.kind, v.filed_on, v.result, v.concluded_on FROM foi_reviews v
         JOIN foi_requests r ON r.id = v.request_id JOIN orgs o ON o.id = r.org_id
         WHERE {org_cond} AND v.filed_on LIKE $2"
    );
    let pat = if subtree { format!("{org_path}%") } else { org_path.to_string() };
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, ReviewStatRow>(sqlx::AssertSqlSafe(sql)).bind(&pat).bind(format!("{year}-%")).fetch_all(&mut **x).await
    })?)
}

pub async fn steps(c: &mut Conn<'_>, request_id: i64) -> Result<Vec<StepRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, StepRow>("SELECT * FROM foi_steps WHERE request_id = $1 ORDER BY id")
            .bind(request_id).fetch_all(&mut **x).await
    })?)
}

pub async fn insert_step(c: &mut Conn<'_>, s: &StepRow) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO foi_steps (request_id, kind, started_on, deadline_on, ended_on, detail, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(s.request_id).bind(&s.kind).bind(&s.started_on).bind(&s.deadline_on).bind(&s.ended_on).bind(&s.detail)
        .bind(s.created_at)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn end_step(c: &mut Conn<'_>, id: i64, on: &str) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("UPDATE foi_steps SET ended_on = $2 WHERE id = $1").bind(id).bind(on).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn add_event(
    c: &mut Conn<'_>,
    request_id: i64,
    actor: &str,
    kind: &str,
    text: &str,
    public: bool,
) -> Result<()> {
    let now = gongkai_kernel::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query("INSERT INTO foi_events (request_id, at, actor, kind, text, public) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(request_id).bind(now).bind(actor).bind(kind).bind(text).bind(public as i64)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn events(c: &mut Conn<'_>, request_id: i64, public_only: bool) -> Result<Vec<EventRow>> {
    let sql = if public_only {
        "SELECT * FROM foi_events WHERE request_id = $1 AND public = 1 ORDER BY id"
    } else {
        "SELECT * FROM foi_events WHERE request_id = $1 ORDER BY id"
    };
    Ok(with_conn!(c, x => { sqlx::query_as::<_, EventRow>(sql).bind(request_id).fetch_all(&mut **x).await })?)
}

pub async fn insert_letter(c: &mut Conn<'_>, l: &LetterRow) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO foi_letters (request_id, kind, title, body, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(l.request_id).bind(&l.kind).bind(&l.title).bind(&l.body).bind(l.created_by).bind(l.created_at)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn letters(c: &mut Conn<'_>, request_id: i64) -> Result<Vec<LetterRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, LetterRow>("SELECT * FROM foi_letters WHERE request_id = $1 ORDER BY id")
            .bind(request_id).fetch_all(&mut **x).await
    })?)
}

pub async fn insert_file(c: &mut Conn<'_>, f: &FileRow, data: &[u8], by: Option<i64>) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO foi_files (request_id, name, content_type, size, sha256, data, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(f.request_id).bind(&f.name).bind(&f.content_type).bind(f.size).bind(&f.sha256).bind(data).bind(by)
        .bind(f.created_at)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn files(c: &mut Conn<'_>, request_id: i64) -> Result<Vec<FileRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, FileRow>(
            "SELECT id, request_id, name, content_type, size, sha256, created_at FROM foi_files WHERE request_id = $1 ORDER BY id",
        )
        .bind(request_id).fetch_all(&mut **x).await
    })?)
}

pub async fn file_data(c: &mut Conn<'_>, request_id: i64, id: i64) -> Result<Option<(FileRow, Vec<u8>)>> {
    let meta = with_conn!(c, x => {
        sqlx::query_as::<_, FileRow>(
            "SELECT id, request_id, name, content_type, size, sha256, created_at FROM foi_files WHERE request_id = $1 AND id = $2",
        )
        .bind(request_id).bind(id).fetch_optional(&mut **x).await
    })?;
    let Some(meta) = meta else { return Ok(None) };
    let data: Vec<u8> = with_conn!(c, x => {
        sqlx::query_scalar("SELECT data FROM foi_files WHERE id = $1").bind(id).fetch_one(&mut **x).await
    })?;
    Ok(Some((meta, data)))
}

pub async fn insert_review(c: &mut Conn<'_>, v: &ReviewRow, by: Option<i64>) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO foi_reviews (request_id, kind, filed_on, body, result, concluded_on, note, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(v.request_id).bind(&v.kind).bind(&v.filed_on).bind(&v.body).bind(&v.result).bind(&v.concluded_on)
        .bind(&v.note).bind(by).bind(v.created_at)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn update_review(
    c: &mut Conn<'_>,
    id: i64,
    result: &str,
    concluded_on: Option<&str>,
    note: &str,
) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("UPDATE foi_reviews SET result = $2, concluded_on = $3, note = $4 WHERE id = $1")
            .bind(id).bind(result).bind(concluded_on).bind(note).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn reviews(c: &mut Conn<'_>, request_id: i64) -> Result<Vec<ReviewRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, ReviewRow>(
            "SELECT id, request_id, kind, filed_on, body, result, concluded_on, note, created_at FROM foi_reviews WHERE request_id = $1 ORDER BY id",
        )
        .bind(request_id).fetch_all(&mut **x).await
    })?)
}

pub async fn review(c: &mut Conn<'_>, id: i64) -> Result<Option<ReviewRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, ReviewRow>(
            "SELECT id, request_id, kind, filed_on, body, result, concluded_on, note, created_at FROM foi_reviews WHERE id = $1",
        )
        .bind(id).fetch_optional(&mut **x).await
    })?)
}

pub async fn template(c: &mut Conn<'_>, kind: &str) -> Result<Option<String>> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("SELECT body FROM foi_templates WHERE kind = $1").bind(kind).fetch_optional(&mut **x).await
    })?)
}

pub async fn put_template(c: &mut Conn<'_>, kind: &str, body: &str, by: Option<i64>) -> Result<()> {
    let now = gongkai_kernel::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query(
            "INSERT INTO foi_templates (kind, body, updated_by, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (kind) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(kind).bind(body).bind(by).bind(now).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}
