//! SQL for messages. One SQL text for both backends; a message is read, changed in memory
//! by the service and written back whole (`save`) inside one transaction.

use serde::Serialize;

use gongkai_kernel::auth::OrgScope;
use gongkai_kernel::db::{Backend, Conn};
use gongkai_kernel::error::Result;
use gongkai_kernel::with_conn;

use super::stats::StatRow;

#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub code: String,
    #[serde(skip)]
    pub access_hash: String,
    #[serde(skip)]
    pub idem_key: Option<String>,
    pub site_id: i64,
    pub kind: String,
    pub addressee: String,
    pub addressee_org_id: i64,
    pub org_id: Option<i64>,
    pub title: String,
    pub content: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub agree_publish: i64,
    pub state: String,
    pub reject_reason: Option<String>,
    pub reject_note: String,
    pub submitted_on: String,
    pub accepted_on: Option<String>,
    pub due_days: Option<i64>,
    pub due_on: Option<String>,
    pub reminded_due: Option<String>,
    pub overdue: i64,
    pub alarm: i64,
    pub reply: String,
    pub reply_by: Option<i64>,
    pub replied_at: Option<i64>,
    pub review_levels: i64,
    pub review_passed: i64,
    pub review1_by: Option<i64>,
    pub publish_ok: i64,
    pub sent_on: Option<String>,
    pub published_on: Option<String>,
    pub public_title: String,
    pub public_content: String,
    pub public_reply: String,
    pub reply_org: String,
    pub rating: Option<String>,
    pub rated_at: Option<i64>,
    pub followup: String,
    pub followup_at: Option<i64>,
    pub supervised: i64,
    #[serde(skip)]
    pub ip: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub message_id: i64,
    pub at: i64,
    pub actor: String,
    pub actor_id: Option<i64>,
    pub kind: String,
    pub text: String,
    pub public: i64,
}

pub async fn insert(c: &mut Conn<'_>, m: &MessageRow) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO msg_messages (code, access_hash, idem_key, site_id, kind, addressee, addressee_org_id, org_id,
               title, content, name, phone, email, agree_publish, state, submitted_on, review_levels, ip, created_at, updated_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$19)
             RETURNING id",
        )
        .bind(&m.code).bind(&m.access_hash).bind(&m.idem_key).bind(m.site_id).bind(&m.kind).bind(&m.addressee)
        .bind(m.addressee_org_id).bind(m.org_id).bind(&m.title).bind(&m.content).bind(&m.name).bind(&m.phone)
        .bind(&m.email).bind(m.agree_publish).bind(&m.state).bind(&m.submitted_on).bind(m.review_levels).bind(&m.ip)
        .bind(m.created_at)
        .fetch_one(&mut **x).await
    })?)
}

/// Write back every field a use case may change.
pub async fn save(c: &mut Conn<'_>, m: &MessageRow) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query(
            "UPDATE msg_messages SET org_id=$2, state=$3, reject_reason=$4, reject_note=$5, accepted_on=$6, due_days=$7,
               due_on=$8, reminded_due=$9, overdue=$10, alarm=$11, reply=$12, reply_by=$13, replied_at=$14,
               review_levels=$15, review_passed=$16, review1_by=$17, publish_ok=$18, sent_on=$19, published_on=$20,
               public_title=$21, public_content=$22, public_reply=$23, reply_org=$24, rating=$25, rated_at=$26,
               followup=$27, followup_at=$28, supervised=$29, updated_at=$30, submitted_on=$31
             WHERE id=$1",
        )
        .bind(m.id).bind(m.org_id).bind(&m.state).bind(&m.reject_reason).bind(&m.reject_note).bind(&m.accepted_on)
        .bind(m.due_days).bind(&m.due_on).bind(&m.reminded_due).bind(m.overdue).bind(m.alarm).bind(&m.reply)
        .bind(m.reply_by).bind(m.replied_at).bind(m.review_levels).bind(m.review_passed).bind(m.review1_by)
        .bind(m.publish_ok).bind(&m.sent_on).bind(&m.published_on).bind(&m.public_title).bind(&m.public_content)
        .bind(&m.public_reply).bind(&m.reply_org).bind(&m.rating).bind(m.rated_at).bind(&m.followup)
        .bind(m.followup_at).bind(m.supervised).bind(m.updated_at).bind(&m.submitted_on)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// One message; inside a write transaction on PostgreSQL the row is locked (SQLite has one writer).
pub async fn get(c: &mut Conn<'_>, id: i64, lock: bool) -> Result<Option<MessageRow>> {
    let sql = if lock && c.backend() == Backend::Postgres {
        "SELECT * FROM msg_messages WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT * FROM msg_messages WHERE id = $1"
    };
    Ok(with_conn!(c, x => { sqlx::query_as::<_, MessageRow>(sql).bind(id).fetch_optional(&mut **x).await })?)
}

pub async fn by_code(c: &mut Conn<'_>, code: &str) -> Result<Option<MessageRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, MessageRow>("SELECT * FROM msg_messages WHERE code = $1").bind(code).fetch_optional(&mut **x).await
    })?)
}

pub async fn by_idem_key(c: &mut Conn<'_>, key: &str) -> Result<Option<MessageRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, MessageRow>("SELECT * FROM msg_messages WHERE idem_key = $1").bind(key).fetch_optional(&mut **x).await
    })?)
}

/// Messages the sweep looks at: not answered yet, or flagged.
pub async fn open_messages(c: &mut Conn<'_>) -> Result<Vec<MessageRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, MessageRow>(
            "SELECT * FROM msg_messages WHERE state NOT IN ('sent', 'published', 'rejected') OR overdue = 1 OR alarm = 1 ORDER BY id",
        )
        .fetch_all(&mut **x).await
    })?)
}

pub async fn add_event(
    c: &mut Conn<'_>,
    message_id: i64,
    actor: &gongkai_kernel::audit::Actor,
    kind: &str,
    text: &str,
    public: bool,
) -> Result<()> {
    let now = gongkai_kernel::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query("INSERT INTO msg_events (message_id, at, actor, actor_id, kind, text, public) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(message_id).bind(now).bind(&actor.name).bind(actor.user_id).bind(kind).bind(text).bind(public as i64)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn events(c: &mut Conn<'_>, message_id: i64, public_only: bool) -> Result<Vec<EventRow>> {
    let sql = if public_only {
        "SELECT * FROM msg_events WHERE message_id = $1 AND public = 1 ORDER BY id"
    } else {
        "SELECT * FROM msg_events WHERE message_id = $1 ORDER BY id"
    };
    Ok(with_conn!(c, x => { sqlx::query_as::<_, EventRow>(sql).bind(message_id).fetch_all(&mut **x).await })?)
}

/// A list row with the names the worklist shows.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ListRow {
    pub id: i64,
    pub code: String,
    pub site_id: i64,
    pub site_name: String,
    pub kind: String,
    pub addressee: String,
    pub addressee_name: String,
    pub org_name: Option<String>,
    pub title: String,
    pub name: String,
    pub state: String,
    pub submitted_on: String,
    pub due_on: Option<String>,
    pub overdue: i64,
    pub alarm: i64,
    pub supervised: i64,
}

/// Who sees what on the worklist: the sites whose desk the principal is, and the
/// organisation scopes (handling or addressed organisation) of the other roles.
#[derive(Debug, Clone, Default)]
pub struct Visibility {
    pub sites: Vec<i64>,
    pub orgs: Vec<OrgScope>,
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub state: Option<String>,
    pub site_id: Option<i64>,
    pub q: Option<String>,
    /// Only overdue or alarmed messages (the supervision queue).
    pub flagged: bool,
}

fn visibility_sql(v: &Visibility, args: &mut Vec<String>) -> String {
    let mut parts = Vec::new();
    if !v.sites.is_empty() {
        // Site ids are integers from the database: safe to write into the SQL.
        let ids: Vec<String> = v.sites.iter().map(|i| i.to_string()).collect();
        parts.push(format!("m.site_id IN ({})", ids.join(",")));
    }
    for scope in &v.orgs {
        match scope {
            OrgScope::All => return "1=1".into(),
            OrgScope::None => {}
            OrgScope::Paths(paths) => {
                for p in paths {
                    args.push(format!("{p}%"));
                    let n = args.len();
                    parts.push(format!("(o.path LIKE ${n} OR (m.org_id IS NULL AND ao.path LIKE ${n}))"));
                }
            }
        }
    }
    if parts.is_empty() { "1=0".into() } else { format!("({})", parts.join(" OR ")) }
}

/// The worklist: open ones first by due date, then the newest.
pub async fn list(c: &mut Conn<'_>, v: &Visibility, f: &ListFilter, limit: i64) -> Result<Vec<ListRow>> {
    let mut args: Vec<String> = Vec::new();
    let mut cond = vec![visibility_sql(v, &mut args)];
    if let Some(s) = &f.state {
        args.push(s.clone());
        cond.push(format!("m.state = ${}", args.len()));
    }
    if let Some(s) = f.site_id {
        cond.push(format!("m.site_id = {s}"));
    }
    if f.flagged {
        cond.push("(m.overdue = 1 OR m.alarm = 1)".into());
    }
    if let Some(q) = f.q.as_ref().map(|q| q.trim()).filter(|q| !q.is_empty()) {
        args.push(format!("%{q}%"));
        let n = args.len();
        cond.push(format!("(m.code LIKE ${n} OR m.title LIKE ${n} OR m.name LIKE ${n})"));
    }
    let sql = format!(
        "SELECT m.id, m.code, m.site_id, s.name AS site_name, m.kind, m.addressee, ao.name AS addressee_name,
                o.name AS org_name, m.title, m.name, m.state, m.submitted_on, m.due_on, m.overdue, m.alarm, m.supervised
         FROM msg_messages m JOIN sites s ON s.id = m.site_id JOIN orgs ao ON ao.id = m.addressee_org_id
              LEFT JOIN orgs o ON o.id = m.org_id
         WHERE {}
         ORDER BY CASE WHEN m.state IN ('sent', 'published', 'rejected') THEN 1 ELSE 0 END, m.alarm DESC,
                  m.overdue DESC, m.due_on IS NULL, m.due_on, m.id DESC
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

/// A published reply as the public list shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PublicRow {
    pub id: i64,
    pub kind: String,
    pub public_title: String,
    pub reply_org: String,
    pub submitted_on: String,
    pub sent_on: Option<String>,
    pub published_on: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PublicFilter {
    pub q: Option<String>,
    pub kind: Option<String>,
    pub year: Option<i32>,
}

/// Published replies of a site, newest first: (rows of the page, total).
pub async fn published(
    c: &mut Conn<'_>,
    site_id: i64,
    f: &PublicFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<PublicRow>, i64)> {
    let mut args: Vec<String> = Vec::new();
    let mut cond = vec![format!("m.site_id = {site_id}"), "m.state = 'published'".to_string()];
    if let Some(q) = f.q.as_ref().map(|q| q.trim()).filter(|q| !q.is_empty()) {
        // Search the masked text only: the stored original holds personal data.
        args.push(format!("%{q}%"));
        let n = args.len();
        cond.push(format!("(m.public_title LIKE ${n} OR m.public_content LIKE ${n} OR m.public_reply LIKE ${n})"));
    }
    if let Some(k) = &f.kind {
        args.push(k.clone());
        cond.push(format!("m.kind = ${}", args.len()));
    }
    if let Some(y) = f.year {
        args.push(format!("{y}-%"));
        cond.push(format!("m.submitted_on LIKE ${}", args.len()));
    }
    let cond = cond.join(" AND ");
    let sql = format!(
        "SELECT m.id, m.kind, m.public_title, m.reply_org, m.submitted_on, m.sent_on, m.published_on
         FROM msg_messages m WHERE {cond} ORDER BY m.sent_on DESC, m.id DESC LIMIT {limit} OFFSET {offset}"
    );
    let count_sql = format!("SELECT COUNT(*) FROM msg_messages m WHERE {cond}");
    Ok(with_conn!(c, x => {
        let mut q = sqlx::query_as::<_, PublicRow>(sqlx::AssertSqlSafe(sql));
        let mut n = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql));
        for a in &args {
            q = q.bind(a);
            n = n.bind(a);
        }
        let rows = q.fetch_all(&mut **x).await?;
        let total = n.fetch_one(&mut **x).await?;
        Ok::<_, sqlx::Error>((rows, total))
    })?)
}

pub async fn review_levels(c: &mut Conn<'_>, site_id: i64) -> Result<i64> {
    let v: Option<i64> = with_conn!(c, x => {
        sqlx::query_scalar("SELECT review_levels FROM msg_site_settings WHERE site_id = $1").bind(site_id).fetch_optional(&mut **x).await
    })?;
    Ok(v.unwrap_or(1))
}

pub async fn set_review_levels(c: &mut Conn<'_>, site_id: i64, levels: i64) -> Result<()> {
    let now = gongkai_kernel::clock::now_ms();
    with_conn!(c, x => {
        sqlx::query(
            "INSERT INTO msg_site_settings (site_id, review_levels, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (site_id) DO UPDATE SET review_levels = excluded.review_levels, updated_at = excluded.updated_at",
        )
        .bind(site_id).bind(levels).bind(now).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The site's deadline overrides: (type, working days).
pub async fn deadlines(c: &mut Conn<'_>, site_id: i64) -> Result<Vec<(String, i64)>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, (String, i64)>("SELECT kind, days FROM msg_deadlines WHERE site_id = $1 ORDER BY kind")
            .bind(site_id).fetch_all(&mut **x).await
    })?)
}

pub async fn set_deadline(c: &mut Conn<'_>, site_id: i64, kind: &str, days: Option<i64>) -> Result<()> {
    let now = gongkai_kernel::clock::now_ms();
    with_conn!(c, x => {
        match days {
            Some(d) => sqlx::query(
                "INSERT INTO msg_deadlines (site_id, kind, days, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (site_id, kind) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at",
            )
            .bind(site_id).bind(kind).bind(d).bind(now).execute(&mut **x).await.map(|r| r.rows_affected()),
            None => sqlx::query("DELETE FROM msg_deadlines WHERE site_id = $1 AND kind = $2")
                .bind(site_id).bind(kind).execute(&mut **x).await.map(|r| r.rows_affected()),
        }
    })?;
    Ok(())
}

/// Every message of the site (None: all sites) and organisation subtree submitted on or
/// before `to`.
pub async fn stat_rows(
    c: &mut Conn<'_>,
    site_id: Option<i64>,
    org_path: Option<&str>,
    to: &str,
) -> Result<Vec<StatRow>> {
    let mut cond = vec!["m.submitted_on <= $1".to_string()];
    if let Some(s) = site_id {
        cond.push(format!("m.site_id = {s}"));
    }
    if org_path.is_some() {
        cond.push("COALESCE(o.path, ao.path) LIKE $2".into());
    }
    let sql = format!(
        "SELECT m.kind, m.state, m.submitted_on, m.accepted_on, m.due_on, m.sent_on, m.published_on, m.rating,
                COALESCE(o.name, ao.name) AS org_name
         FROM msg_messages m JOIN orgs ao ON ao.id = m.addressee_org_id LEFT JOIN orgs o ON o.id = m.org_id
         WHERE {}",
        cond.join(" AND ")
    );
    Ok(with_conn!(c, x => {
        let mut q = sqlx::query_as::<_, StatRow>(sqlx::AssertSqlSafe(sql)).bind(to);
        if let Some(p) = org_path {
            q = q.bind(format!("{p}%"));
        }
        q.fetch_all(&mut **x).await
    })?)
}

/// An attachment without its bytes.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FileRow {
    pub id: i64,
    pub message_id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: i64,
}

pub async fn insert_file(c: &mut Conn<'_>, f: &FileRow, data: &[u8]) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO msg_files (message_id, name, content_type, size, sha256, data, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(f.message_id).bind(&f.name).bind(&f.content_type).bind(f.size).bind(&f.sha256).bind(data)
        .bind(f.created_at)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn files(c: &mut Conn<'_>, message_id: i64) -> Result<Vec<FileRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, FileRow>(
            "SELECT id, message_id, name, content_type, size, sha256, created_at FROM msg_files WHERE message_id = $1 ORDER BY id",
        )
        .bind(message_id).fetch_all(&mut **x).await
    })?)
}

/// One attachment of one message, with its bytes.
pub async fn file_data(c: &mut Conn<'_>, message_id: i64, id: i64) -> Result<Option<(FileRow, Vec<u8>)>> {
    let meta = with_conn!(c, x => {
        sqlx::query_as::<_, FileRow>(
            "SELECT id, message_id, name, content_type, size, sha256, created_at FROM msg_files WHERE id = $1 AND message_id = $2",
        )
        .bind(id).bind(message_id).fetch_optional(&mut **x).await
    })?;
    let Some(meta) = meta else { return Ok(None) };
    let data: Vec<u8> = with_conn!(c, x => {
        sqlx::query_scalar("SELECT data FROM msg_files WHERE id = $1").bind(id).fetch_one(&mut **x).await
    })?;
    Ok(Some((meta, data)))
}
