//! The search tables: the administrators' dictionary (words and synonym groups) and the
//! aggregate search-term log. Dictionary changes are audited and announced on the outbox
//! (`search.dictionary`), so every node reloads synonyms and rebuilds for new words.

use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::db::Db;
use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::{audit, outbox, with_conn};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WordRow {
    pub id: i64,
    pub kind: String,
    pub text: String,
    pub created_at: i64,
}

pub async fn list(db: &Db) -> Result<Vec<WordRow>> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    Ok(with_conn!(&mut c, x => {
        sqlx::query_as::<_, WordRow>("SELECT id, kind, text, created_at FROM search_words ORDER BY kind, text")
            .fetch_all(&mut **x).await
    })?)
}

/// The administrators' words, sorted.
pub async fn words(db: &Db) -> Result<Vec<String>> {
    Ok(list(db).await?.into_iter().filter(|w| w.kind == "word").map(|w| w.text).collect())
}

/// Synonym groups, each a list of normalised terms.
pub async fn synonyms(db: &Db) -> Result<Vec<Vec<String>>> {
    Ok(list(db)
        .await?
        .into_iter()
        .filter(|w| w.kind == "synonym")
        .map(|w| w.text.split(',').map(crate::text::normalize).filter(|t| !t.is_empty()).collect())
        .collect())
}

fn may_manage(who: &Principal) -> Result<()> {
    if who.has(Perm::SettingsManage) {
        Ok(())
    } else {
        Err(Error::Forbidden("只有系统管理员可以维护检索词典".into()))
    }
}

/// Validate a word or a synonym group as typed; returns the stored form.
pub fn clean_entry(kind: &str, text: &str) -> Result<String> {
    let field = "text";
    match kind {
        "word" => {
            let w = crate::text::normalize(text.trim());
            if w.is_empty() {
                return Err(Error::field(field, "请填写词语"));
            }
            if w.chars().count() > 20 || w.chars().any(|c| c.is_whitespace() || c == ',') {
                return Err(Error::field(field, "词语不超过 20 个字，不含空格和逗号"));
            }
            if !w.chars().all(char::is_alphanumeric) {
                return Err(Error::field(field, "词语只能由汉字、字母和数字组成"));
            }
            Ok(w)
        }
        "synonym" => {
            let mut terms: Vec<String> = text
                .split([',', '，', '、', ';', '；', '\n'])
                .map(|t| crate::text::normalize(t.trim()))
                .filter(|t| !t.is_empty())
                .collect();
            terms.dedup();
            if terms.len() < 2 {
                return Err(Error::field(field, "同义词组至少要有两个词，用逗号分隔，例如：市民热线，12345"));
            }
            if terms.iter().any(|t| t.chars().count() > 20) || terms.len() > 10 {
                return Err(Error::field(field, "同义词组最多 10 个词，每个词不超过 20 个字"));
            }
            Ok(terms.join(","))
        }
        _ => Err(Error::field("kind", "类型只能是词语或同义词")),
    }
}

pub async fn add(db: &Db, who: &Principal, ip: &str, kind: &str, text: &str) -> Result<i64> {
    may_manage(who)?;
    let text = clean_entry(kind, text)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let now = gongkai_kernel::clock::now_ms();
    let id: i64 = with_conn!(&mut c, x => {
        sqlx::query_scalar(
            "INSERT INTO search_words (kind, text, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(kind).bind(&text).bind(who.user_id).bind(now).fetch_one(&mut **x).await
    })
    .map_err(|e| {
        let e: Error = e.into();
        if gongkai_kernel::error::is_unique_violation(&e) {
            Error::field("text", format!("“{text}”已在词典中"))
        } else {
            e
        }
    })?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "search.dictionary.add",
        "search_words",
        id,
        json!({ "kind": kind, "text": text }),
    )
    .await?;
    outbox::emit(&mut c, "search.dictionary", id, json!({ "op": "add", "kind": kind })).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn remove(db: &Db, who: &Principal, ip: &str, id: i64) -> Result<()> {
    may_manage(who)?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let row: Option<(String, String)> = with_conn!(&mut c, x => {
        sqlx::query_as("SELECT kind, text FROM search_words WHERE id = $1").bind(id).fetch_optional(&mut **x).await
    })?;
    let Some((kind, text)) = row else { return Err(Error::NotFound) };
    with_conn!(&mut c, x => {
        sqlx::query("DELETE FROM search_words WHERE id = $1").bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "search.dictionary.remove",
        "search_words",
        id,
        json!({ "kind": kind, "text": text }),
    )
    .await?;
    outbox::emit(&mut c, "search.dictionary", id, json!({ "op": "remove", "kind": kind })).await?;
    tx.commit().await?;
    Ok(())
}

/// Add aggregated counts: ((day, site, term), n).
pub async fn add_terms(db: &Db, batch: &[((String, i64, String), i64)]) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    for ((day, site, term), n) in batch {
        with_conn!(&mut c, x => {
            sqlx::query(
                "INSERT INTO search_terms (day, site_id, term, n) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (day, site_id, term) DO UPDATE SET n = search_terms.n + excluded.n",
            )
            .bind(day).bind(site).bind(term).bind(n).execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    tx.commit().await
}

/// The most searched terms since `since_day` (one site, or all sites when None).
pub async fn hot(db: &Db, site_id: Option<i64>, since_day: &str, n: i64) -> Result<Vec<(String, i64)>> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    Ok(with_conn!(&mut c, x => {
        sqlx::query_as::<_, (String, i64)>(
            "SELECT term, CAST(SUM(n) AS BIGINT) AS total FROM search_terms
              WHERE day >= $1 AND ($2 IS NULL OR site_id = $2)
              GROUP BY term ORDER BY total DESC, term LIMIT $3",
        )
        .bind(since_day).bind(site_id).bind(n).fetch_all(&mut **x).await
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_validated_with_field_messages() {
        assert_eq!(clean_entry("word", " 青禾通办 ").ok().as_deref(), Some("青禾通办"));
        assert!(clean_entry("word", "").is_err());
        assert!(clean_entry("word", "a b").is_err());
        assert!(clean_entry("word", "<script>").is_err());
        assert_eq!(clean_entry("synonym", "市民热线，12345").ok().as_deref(), Some("市民热线,12345"));
        assert!(clean_entry("synonym", "市民热线").is_err());
        assert!(clean_entry("other", "x").is_err());
    }
}
