//! SQL for interviews. One SQL text for both backends. State changes are conditional
//! updates (`WHERE state = …`), so two moderators acting at once cannot both succeed.

use gongkai_kernel::db::Conn;
use gongkai_kernel::error::Result;
use gongkai_kernel::with_conn;
use serde::Serialize;

use super::rules::CountRow;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InterviewRow {
    pub id: i64,
    pub site_id: i64,
    pub kind: String,
    pub topic: String,
    pub intro: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub state: String,
    pub answer_days: i64,
    pub announced_on: Option<String>,
    pub live_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub ended_on: Option<String>,
    pub answer_due_on: Option<String>,
    pub last_seq: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct GuestRow {
    pub id: i64,
    pub interview_id: i64,
    pub sort: i64,
    pub name: String,
    pub title: String,
    pub has_photo: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct QuestionRow {
    pub id: i64,
    pub interview_id: i64,
    pub origin: String,
    pub asker: String,
    pub body: String,
    pub state: String,
    pub reason: String,
    pub submitted_at: i64,
    pub answered_at: Option<i64>,
    pub overdue: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub interview_id: i64,
    pub seq: i64,
    pub kind: String,
    pub question_id: Option<i64>,
    pub question: String,
    pub asker: String,
    pub guest: String,
    pub body: String,
    pub has_photo: i64,
    pub photo_alt: String,
    pub photo_caption: String,
    pub photo_width: i64,
    pub photo_height: i64,
    pub after_session: i64,
    pub published_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReminderRow {
    pub id: i64,
    pub interview_id: i64,
    pub question_id: i64,
    pub kind: String,
    pub due_on: String,
    pub created_at: i64,
}

/// What a new or edited interview writes.
pub struct InterviewData<'a> {
    pub site_id: i64,
    pub kind: &'a str,
    pub topic: &'a str,
    pub intro: &'a str,
    pub starts_at: i64,
    pub ends_at: i64,
    pub answer_days: i64,
}

const INTERVIEW_COLS: &str = "id, site_id, kind, topic, intro, starts_at, ends_at, state, answer_days, announced_on, \
     live_at, ended_at, ended_on, answer_due_on, last_seq, created_by, created_at, updated_at";

pub async fn insert(c: &mut Conn<'_>, d: &InterviewData<'_>, by: Option<i64>, at: i64) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO itv_interviews (site_id, kind, topic, intro, starts_at, ends_at, state, answer_days, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8, $9, $9) RETURNING id",
        )
        .bind(d.site_id).bind(d.kind).bind(d.topic).bind(d.intro).bind(d.starts_at).bind(d.ends_at)
        .bind(d.answer_days).bind(by).bind(at)
        .fetch_one(&mut **x).await
    })?)
}

/// Rewrite the editable fields while the interview is still a draft or announced.
pub async fn update(c: &mut Conn<'_>, id: i64, d: &InterviewData<'_>, at: i64) -> Result<bool> {
    let n = with_conn!(c, x => {
        sqlx::query(
            "UPDATE itv_interviews SET site_id = $2, kind = $3, topic = $4, intro = $5, starts_at = $6, ends_at = $7,
             answer_days = $8, updated_at = $9 WHERE id = $1 AND state IN ('draft', 'announced')",
        )
        .bind(id).bind(d.site_id).bind(d.kind).bind(d.topic).bind(d.intro).bind(d.starts_at).bind(d.ends_at)
        .bind(d.answer_days).bind(at)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<InterviewRow>> {
    let sql = format!("SELECT {INTERVIEW_COLS} FROM itv_interviews WHERE id = $1");
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, InterviewRow>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **x).await
    })?)
}

/// Interviews of a site (all sites when None), newest start first; drafts only when asked.
pub async fn list(c: &mut Conn<'_>, site_id: Option<i64>, with_drafts: bool) -> Result<Vec<InterviewRow>> {
    let sql = format!(
        "SELECT {INTERVIEW_COLS} FROM itv_interviews WHERE ($1 IS NULL OR site_id = $1) AND ($2 OR state <> 'draft')
         ORDER BY starts_at DESC, id DESC"
    );
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, InterviewRow>(sqlx::AssertSqlSafe(sql)).bind(site_id).bind(with_drafts).fetch_all(&mut **x).await
    })?)
}

/// Move from one state to another; false when the interview was not in `from` any more.
pub async fn transition(c: &mut Conn<'_>, id: i64, from: &str, to: &str, at: i64) -> Result<bool> {
    let n = with_conn!(c, x => {
        sqlx::query("UPDATE itv_interviews SET state = $3, updated_at = $4 WHERE id = $1 AND state = $2")
            .bind(id).bind(from).bind(to).bind(at)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

pub async fn set_announced(c: &mut Conn<'_>, id: i64, on: &str) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("UPDATE itv_interviews SET announced_on = $2 WHERE id = $1").bind(id).bind(on)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn set_live(c: &mut Conn<'_>, id: i64, at: i64) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("UPDATE itv_interviews SET live_at = $2 WHERE id = $1").bind(id).bind(at)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn set_ended(c: &mut Conn<'_>, id: i64, at: i64, on: &str, due: &str) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("UPDATE itv_interviews SET ended_at = $2, ended_on = $3, answer_due_on = $4 WHERE id = $1")
            .bind(id).bind(at).bind(on).bind(due)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn replace_guests(c: &mut Conn<'_>, id: i64, guests: &[(String, String)]) -> Result<()> {
    // Photos stay with the guest of the same name.
    let kept: Vec<(String, Option<Vec<u8>>, String)> = with_conn!(c, x => {
        sqlx::query_as("SELECT name, photo, photo_type FROM itv_guests WHERE interview_id = $1").bind(id).fetch_all(&mut **x).await
    })?;
    with_conn!(c, x => {
        sqlx::query("DELETE FROM itv_guests WHERE interview_id = $1").bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    for (i, (name, title)) in guests.iter().enumerate() {
        let photo = kept.iter().find(|k| &k.0 == name);
        let (data, ty) = photo.map(|p| (p.1.clone(), p.2.clone())).unwrap_or((None, String::new()));
        with_conn!(c, x => {
            sqlx::query("INSERT INTO itv_guests (interview_id, sort, name, title, photo, photo_type) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id).bind(i as i64).bind(name).bind(title).bind(&data).bind(&ty)
                .execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

pub async fn guests(c: &mut Conn<'_>, id: i64) -> Result<Vec<GuestRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, GuestRow>(
            "SELECT id, interview_id, sort, name, title, CAST(CASE WHEN photo IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_photo
             FROM itv_guests WHERE interview_id = $1 ORDER BY sort",
        )
        .bind(id).fetch_all(&mut **x).await
    })?)
}

pub async fn set_guest_photo(c: &mut Conn<'_>, interview_id: i64, gid: i64, data: &[u8], ty: &str) -> Result<bool> {
    let n = with_conn!(c, x => {
        sqlx::query("UPDATE itv_guests SET photo = $3, photo_type = $4 WHERE interview_id = $1 AND id = $2")
            .bind(interview_id).bind(gid).bind(data).bind(ty)
            .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// (bytes, content type) of a guest's photo.
pub async fn guest_photo(c: &mut Conn<'_>, interview_id: i64, gid: i64) -> Result<Option<(Vec<u8>, String)>> {
    let r: Option<(Option<Vec<u8>>, String)> = with_conn!(c, x => {
        sqlx::query_as("SELECT photo, photo_type FROM itv_guests WHERE interview_id = $1 AND id = $2")
            .bind(interview_id).bind(gid).fetch_optional(&mut **x).await
    })?;
    Ok(r.and_then(|(d, t)| d.map(|d| (d, t))))
}

/// A question; with an idempotency key, a repeated submission returns (existing id, false).
#[allow(clippy::too_many_arguments)]
pub async fn insert_question(
    c: &mut Conn<'_>,
    interview_id: i64,
    origin: &str,
    idem_key: Option<&str>,
    asker: &str,
    body: &str,
    state: &str,
    at: i64,
) -> Result<(i64, bool)> {
    let id: Option<i64> = with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO itv_questions (interview_id, origin, idem_key, asker, body, state, submitted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idem_key) DO NOTHING RETURNING id",
        )
        .bind(interview_id).bind(origin).bind(idem_key).bind(asker).bind(body).bind(state).bind(at)
        .fetch_optional(&mut **x).await
    })?;
    match (id, idem_key) {
        (Some(id), _) => Ok((id, true)),
        (None, Some(k)) => {
            let existing = question_by_idem(c, k).await?;
            existing.map(|q| (q.id, false)).ok_or_else(|| gongkai_kernel::Error::internal("question vanished"))
        }
        (None, None) => Err(gongkai_kernel::Error::internal("question not inserted")),
    }
}

const QUESTION_COLS: &str =
    "id, interview_id, origin, asker, body, state, reason, submitted_at, answered_at, overdue FROM itv_questions";

pub async fn question_by_idem(c: &mut Conn<'_>, key: &str) -> Result<Option<QuestionRow>> {
    let sql = format!("SELECT {QUESTION_COLS} WHERE idem_key = $1");
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, QuestionRow>(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(&mut **x).await
    })?)
}

pub async fn question(c: &mut Conn<'_>, interview_id: i64, qid: i64) -> Result<Option<QuestionRow>> {
    let sql = format!("SELECT {QUESTION_COLS} WHERE interview_id = $1 AND id = $2");
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, QuestionRow>(sqlx::AssertSqlSafe(sql)).bind(interview_id).bind(qid).fetch_optional(&mut **x).await
    })?)
}

pub async fn questions(c: &mut Conn<'_>, interview_id: i64) -> Result<Vec<QuestionRow>> {
    let sql = format!("SELECT {QUESTION_COLS} WHERE interview_id = $1 ORDER BY submitted_at, id");
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, QuestionRow>(sqlx::AssertSqlSafe(sql)).bind(interview_id).fetch_all(&mut **x).await
    })?)
}

/// Move a question between states; false when it was not in one of `from` any more.
pub async fn question_state(
    c: &mut Conn<'_>,
    qid: i64,
    from: &[&str],
    to: &str,
    reason: &str,
    answered_at: Option<i64>,
) -> Result<bool> {
    let from = from.join(",");
    let n = with_conn!(c, x => {
        sqlx::query(
            "UPDATE itv_questions SET state = $2, reason = $3, answered_at = COALESCE($4, answered_at)
             WHERE id = $1 AND (',' || $5 || ',') LIKE ('%,' || state || ',%')",
        )
        .bind(qid).bind(to).bind(reason).bind(answered_at).bind(&from)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// The next entry number of an interview. The update locks the interview's row until the
/// transaction ends, so entries commit in number order and a reader never skips one.
pub async fn next_seq(c: &mut Conn<'_>, interview_id: i64) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("UPDATE itv_interviews SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq")
            .bind(interview_id).fetch_one(&mut **x).await
    })?)
}

pub struct NewEntry<'a> {
    pub interview_id: i64,
    pub seq: i64,
    pub kind: &'a str,
    pub question_id: Option<i64>,
    pub question: &'a str,
    pub asker: &'a str,
    pub guest: &'a str,
    pub body: &'a str,
    pub photo: Option<EntryPhoto<'a>>,
    pub after_session: bool,
    pub at: i64,
    pub by: Option<i64>,
}

/// An entry's photo: the bytes with the type read from them, its text and its size.
#[derive(Debug, Clone, Copy)]
pub struct EntryPhoto<'a> {
    pub data: &'a [u8],
    pub content_type: &'a str,
    pub alt: &'a str,
    pub caption: &'a str,
    pub width: i64,
    pub height: i64,
}

pub async fn insert_entry(c: &mut Conn<'_>, e: &NewEntry<'_>) -> Result<i64> {
    let none = EntryPhoto { data: &[], content_type: "", alt: "", caption: "", width: 0, height: 0 };
    let p = e.photo.unwrap_or(none);
    let data = e.photo.map(|p| p.data);
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO itv_entries (interview_id, seq, kind, question_id, question, asker, guest, body, photo, photo_type,
             photo_alt, photo_caption, photo_width, photo_height, after_session, published_at, published_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
        )
        .bind(e.interview_id).bind(e.seq).bind(e.kind).bind(e.question_id).bind(e.question).bind(e.asker)
        .bind(e.guest).bind(e.body).bind(data).bind(p.content_type).bind(p.alt).bind(p.caption).bind(p.width)
        .bind(p.height).bind(e.after_session as i64).bind(e.at).bind(e.by)
        .fetch_one(&mut **x).await
    })?)
}

/// Published entries after number `after`, in order.
pub async fn entries(c: &mut Conn<'_>, interview_id: i64, after: i64) -> Result<Vec<EntryRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, EntryRow>(
            "SELECT id, interview_id, seq, kind, question_id, question, asker, guest, body,
                    CAST(CASE WHEN photo IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_photo, photo_alt, photo_caption,
                    photo_width, photo_height, after_session, published_at
             FROM itv_entries WHERE interview_id = $1 AND seq > $2 ORDER BY seq LIMIT 500",
        )
        .bind(interview_id).bind(after).fetch_all(&mut **x).await
    })?)
}

/// (bytes, content type) of the photo of update `seq`. Every entry is published when it
/// is written, so a row here is public once its interview is.
pub async fn entry_photo(c: &mut Conn<'_>, interview_id: i64, seq: i64) -> Result<Option<(Vec<u8>, String)>> {
    let r: Option<(Option<Vec<u8>>, String)> = with_conn!(c, x => {
        sqlx::query_as("SELECT photo, photo_type FROM itv_entries WHERE interview_id = $1 AND seq = $2 AND kind = 'update'")
            .bind(interview_id).bind(seq).fetch_optional(&mut **x).await
    })?;
    Ok(r.and_then(|(d, t)| d.map(|d| (d, t))))
}

/// An open question of an ended interview, for the sweep.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenQuestion {
    pub question_id: i64,
    pub interview_id: i64,
    pub due_on: String,
    pub overdue: i64,
}

pub async fn open_questions_of_ended(c: &mut Conn<'_>) -> Result<Vec<OpenQuestion>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, OpenQuestion>(
            "SELECT q.id AS question_id, q.interview_id, i.answer_due_on AS due_on, q.overdue
             FROM itv_questions q JOIN itv_interviews i ON i.id = q.interview_id
             WHERE i.state = 'ended' AND i.answer_due_on IS NOT NULL AND q.state IN ('pending', 'queued')
             ORDER BY q.id",
        )
        .fetch_all(&mut **x).await
    })?)
}

pub async fn set_overdue(c: &mut Conn<'_>, qid: i64) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("UPDATE itv_questions SET overdue = 1 WHERE id = $1").bind(qid).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Write a reminder once per question and kind; true when it is new.
pub async fn insert_reminder(
    c: &mut Conn<'_>,
    interview_id: i64,
    qid: i64,
    kind: &str,
    due_on: &str,
    at: i64,
) -> Result<bool> {
    let n = with_conn!(c, x => {
        sqlx::query(
            "INSERT INTO itv_reminders (interview_id, question_id, kind, due_on, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (question_id, kind) DO NOTHING",
        )
        .bind(interview_id).bind(qid).bind(kind).bind(due_on).bind(at)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

pub async fn reminders(c: &mut Conn<'_>, interview_id: Option<i64>) -> Result<Vec<ReminderRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, ReminderRow>(
            "SELECT r.id, r.interview_id, r.question_id, r.kind, r.due_on, r.created_at FROM itv_reminders r
             JOIN itv_questions q ON q.id = r.question_id
             WHERE ($1 IS NULL OR r.interview_id = $1) AND q.state IN ('pending', 'queued')
             ORDER BY r.created_at DESC, r.id DESC",
        )
        .bind(interview_id).fetch_all(&mut **x).await
    })?)
}

pub async fn count_rows(c: &mut Conn<'_>, site_id: Option<i64>) -> Result<Vec<CountRow>> {
    let held: Vec<(String, String)> = with_conn!(c, x => {
        sqlx::query_as(
            "SELECT kind, ended_on FROM itv_interviews WHERE state = 'ended' AND ended_on IS NOT NULL AND ($1 IS NULL OR site_id = $1)",
        )
        .bind(site_id).fetch_all(&mut **x).await
    })?;
    let questions: Vec<(i64, Option<i64>)> = with_conn!(c, x => {
        sqlx::query_as(
            "SELECT q.submitted_at, q.answered_at FROM itv_questions q JOIN itv_interviews i ON i.id = q.interview_id
             WHERE ($1 IS NULL OR i.site_id = $1)",
        )
        .bind(site_id).fetch_all(&mut **x).await
    })?;
    let mut rows: Vec<CountRow> = held.into_iter().map(|(kind, ended_on)| CountRow::Held { kind, ended_on }).collect();
    rows.extend(questions.into_iter().map(|(s, a)| CountRow::Question { submitted_at: s, answered_at: a }));
    Ok(rows)
}
