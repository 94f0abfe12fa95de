//! SQL of 征集调查 (one text for both backends).

use gongkai_kernel::db::Conn;
use gongkai_kernel::error::Result;
use gongkai_kernel::with_conn;

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct SurveyRow {
    pub id: i64,
    pub site_id: i64,
    pub org_id: i64,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub body: String,
    pub questions: String,
    pub opens_on: String,
    pub closes_on: String,
    pub state: String,
    pub published_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub feedback: String,
    pub feedback_at: Option<i64>,
    pub version: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: &str = "id, site_id, org_id, kind, title, description, body, questions, opens_on, closes_on, state, published_at, closed_at, feedback, feedback_at, version, created_by, created_at, updated_at";

pub async fn insert(c: &mut Conn<'_>, s: &SurveyRow) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO svy_surveys (site_id, org_id, kind, title, description, body, questions, opens_on, closes_on, state, version, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $12) RETURNING id",
        )
        .bind(s.site_id).bind(s.org_id).bind(&s.kind).bind(&s.title).bind(&s.description).bind(&s.body)
        .bind(&s.questions).bind(&s.opens_on).bind(&s.closes_on).bind(&s.state).bind(s.created_by).bind(s.created_at)
        .fetch_one(&mut **x).await
    })?)
}

/// Write back every mutable column; refused (false) when `expected_version` is stale.
pub async fn update(c: &mut Conn<'_>, s: &SurveyRow, expected_version: i64) -> Result<bool> {
    let n = with_conn!(c, x => {
        sqlx::query(
            "UPDATE svy_surveys SET org_id = $1, title = $2, description = $3, body = $4, questions = $5, opens_on = $6,
                closes_on = $7, state = $8, published_at = $9, closed_at = $10, feedback = $11, feedback_at = $12,
                version = version + 1, updated_at = $13
             WHERE id = $14 AND version = $15",
        )
        .bind(s.org_id).bind(&s.title).bind(&s.description).bind(&s.body).bind(&s.questions).bind(&s.opens_on)
        .bind(&s.closes_on).bind(&s.state).bind(s.published_at).bind(s.closed_at).bind(&s.feedback).bind(s.feedback_at)
        .bind(s.updated_at).bind(s.id).bind(expected_version)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<SurveyRow>> {
    let sql = format!("SELECT {COLS} FROM svy_surveys WHERE id = $1");
    Ok(with_conn!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **x).await)?)
}

/// Every survey (the console filters by permission), newest first.
pub async fn all(c: &mut Conn<'_>, site_id: Option<i64>) -> Result<Vec<SurveyRow>> {
    let sql = format!(
        "SELECT {COLS} FROM svy_surveys WHERE ($1 IS NULL OR site_id = $1) ORDER BY opens_on DESC, id DESC LIMIT 1000"
    );
    Ok(with_conn!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(site_id).fetch_all(&mut **x).await)?)
}

/// The published surveys of a site (the public list).
pub async fn published(c: &mut Conn<'_>, site_id: i64) -> Result<Vec<SurveyRow>> {
    let sql = format!(
        "SELECT {COLS} FROM svy_surveys WHERE site_id = $1 AND state <> 'draft' ORDER BY closes_on DESC, id DESC LIMIT 500"
    );
    Ok(with_conn!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(site_id).fetch_all(&mut **x).await)?)
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct FileRow {
    pub id: i64,
    pub survey_id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: i64,
}

pub async fn insert_file(c: &mut Conn<'_>, f: &FileRow, data: &[u8], by: Option<i64>) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO svy_files (survey_id, name, content_type, size, sha256, data, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(f.survey_id).bind(&f.name).bind(&f.content_type).bind(f.size).bind(&f.sha256).bind(data).bind(by).bind(f.created_at)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn files(c: &mut Conn<'_>, survey_id: i64) -> Result<Vec<FileRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as(
            "SELECT id, survey_id, name, content_type, size, sha256, created_at FROM svy_files WHERE survey_id = $1 ORDER BY id",
        )
        .bind(survey_id).fetch_all(&mut **x).await
    })?)
}

pub async fn file_data(c: &mut Conn<'_>, survey_id: i64, fid: i64) -> Result<Option<(FileRow, Vec<u8>)>> {
    let meta = files(c, survey_id).await?.into_iter().find(|f| f.id == fid);
    let Some(meta) = meta else { return Ok(None) };
    let data: Vec<u8> = with_conn!(c, x => {
        sqlx::query_scalar("SELECT data FROM svy_files WHERE id = $1").bind(fid).fetch_one(&mut **x).await
    })?;
    Ok(Some((meta, data)))
}

pub async fn delete_file(c: &mut Conn<'_>, survey_id: i64, fid: i64) -> Result<bool> {
    let n = with_conn!(c, x => {
        sqlx::query("DELETE FROM svy_files WHERE id = $1 AND survey_id = $2")
            .bind(fid).bind(survey_id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct CommentRow {
    pub id: i64,
    pub survey_id: i64,
    pub idem_key: String,
    pub name: String,
    pub contact: String,
    pub body: String,
    pub state: String,
    pub ip: String,
    pub moderated_by: Option<i64>,
    pub moderated_at: Option<i64>,
    pub created_at: i64,
}

const COMMENT_COLS: &str =
    "id, survey_id, idem_key, name, contact, body, state, ip, moderated_by, moderated_at, created_at";

pub async fn insert_comment(c: &mut Conn<'_>, r: &CommentRow) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO svy_comments (survey_id, idem_key, name, contact, body, state, ip, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(r.survey_id).bind(&r.idem_key).bind(&r.name).bind(&r.contact).bind(&r.body).bind(&r.state).bind(&r.ip).bind(r.created_at)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn comment_by_idem(c: &mut Conn<'_>, key: &str) -> Result<Option<CommentRow>> {
    let sql = format!("SELECT {COMMENT_COLS} FROM svy_comments WHERE idem_key = $1");
    Ok(with_conn!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(&mut **x).await)?)
}

pub async fn comment(c: &mut Conn<'_>, id: i64) -> Result<Option<CommentRow>> {
    let sql = format!("SELECT {COMMENT_COLS} FROM svy_comments WHERE id = $1");
    Ok(with_conn!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **x).await)?)
}

/// The comments of a survey, oldest first; `state` None for every state.
pub async fn comments(c: &mut Conn<'_>, survey_id: i64, state: Option<&str>) -> Result<Vec<CommentRow>> {
    let sql = format!(
        "SELECT {COMMENT_COLS} FROM svy_comments WHERE survey_id = $1 AND ($2 IS NULL OR state = $2) ORDER BY id LIMIT 5000"
    );
    Ok(
        with_conn!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(survey_id).bind(state).fetch_all(&mut **x).await)?,
    )
}

/// Moderate a pending comment; false when it was no longer pending.
pub async fn moderate(c: &mut Conn<'_>, id: i64, state: &str, by: i64, at: i64) -> Result<bool> {
    let n = with_conn!(c, x => {
        sqlx::query("UPDATE svy_comments SET state = $1, moderated_by = $2, moderated_at = $3 WHERE id = $4 AND state = 'pending'")
            .bind(state).bind(by).bind(at).bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ResponseRow {
    pub id: i64,
    pub survey_id: i64,
    pub idem_key: String,
    pub voter: String,
    pub answers: String,
    pub ip: String,
    pub created_at: i64,
}

const RESPONSE_COLS: &str = "id, survey_id, idem_key, voter, answers, ip, created_at";

pub async fn insert_response(c: &mut Conn<'_>, r: &ResponseRow) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO svy_responses (survey_id, idem_key, voter, answers, ip, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(r.survey_id).bind(&r.idem_key).bind(&r.voter).bind(&r.answers).bind(&r.ip).bind(r.created_at)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn response_by_idem(c: &mut Conn<'_>, key: &str) -> Result<Option<ResponseRow>> {
    let sql = format!("SELECT {RESPONSE_COLS} FROM svy_responses WHERE idem_key = $1");
    Ok(with_conn!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(&mut **x).await)?)
}

pub async fn has_voted(c: &mut Conn<'_>, survey_id: i64, voter: &str) -> Result<bool> {
    let n: i64 = with_conn!(c, x => {
        sqlx::query_scalar("SELECT COUNT(*) FROM svy_responses WHERE survey_id = $1 AND voter = $2")
            .bind(survey_id).bind(voter).fetch_one(&mut **x).await
    })?;
    Ok(n > 0)
}

pub async fn responses(c: &mut Conn<'_>, survey_id: i64) -> Result<Vec<ResponseRow>> {
    let sql = format!("SELECT {RESPONSE_COLS} FROM svy_responses WHERE survey_id = $1 ORDER BY id");
    Ok(with_conn!(c, x => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(survey_id).fetch_all(&mut **x).await)?)
}

/// (responses, comments, pending comments) of a survey.
pub async fn tallies(c: &mut Conn<'_>, survey_id: i64) -> Result<(i64, i64, i64)> {
    Ok(with_conn!(c, x => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM svy_responses WHERE survey_id = $1),
                    (SELECT COUNT(*) FROM svy_comments WHERE survey_id = $1),
                    (SELECT COUNT(*) FROM svy_comments WHERE survey_id = $1 AND state = 'pending')",
        )
        .bind(survey_id).fetch_one(&mut **x).await
    })?)
}

/// What the yearly counts read: the surveys of a site (or all) and the instants of the
/// comments and responses received in [from_ms, to_ms).
pub async fn year_rows(
    c: &mut Conn<'_>,
    site_id: Option<i64>,
    from_ms: i64,
    to_ms: i64,
) -> Result<(Vec<(String, String, String, Option<i64>)>, Vec<i64>, Vec<i64>)> {
    let surveys = with_conn!(&mut *c, x => {
        sqlx::query_as(
            "SELECT kind, state, opens_on, feedback_at FROM svy_surveys WHERE ($1 IS NULL OR site_id = $1)",
        )
        .bind(site_id).fetch_all(&mut **x).await
    })?;
    let opinions = with_conn!(&mut *c, x => {
        sqlx::query_scalar(
            "SELECT m.created_at FROM svy_comments m JOIN svy_surveys s ON s.id = m.survey_id
             WHERE ($1 IS NULL OR s.site_id = $1) AND m.created_at >= $2 AND m.created_at < $3",
        )
        .bind(site_id).bind(from_ms).bind(to_ms).fetch_all(&mut **x).await
    })?;
    let responses = with_conn!(&mut *c, x => {
        sqlx::query_scalar(
            "SELECT r.created_at FROM svy_responses r JOIN svy_surveys s ON s.id = r.survey_id
             WHERE ($1 IS NULL OR s.site_id = $1) AND r.created_at >= $2 AND r.created_at < $3",
        )
        .bind(site_id).bind(from_ms).bind(to_ms).fetch_all(&mut **x).await
    })?;
    Ok((surveys, opinions, responses))
}
