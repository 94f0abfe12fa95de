//! The SQL of the public side: services (active leaf categories marked Open311), service
//! requests and their public updates. Requests are public when they are filed under an
//! Open311 service and are not confidential; the caller's identity is never selected.

use gongkai_kernel::db::Conn;
use gongkai_kernel::error::Result;
use gongkai_kernel::with_conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServiceRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub path: String,
    pub keywords: String,
    pub attributes: String,
    pub group_name: Option<String>,
}

const SERVICE_SQL: &str = "SELECT c.id, c.code, c.name, c.path, c.keywords, c.attributes, t.name AS group_name
  FROM hl_categories c LEFT JOIN hl_categories t ON t.id = c.top_id
  WHERE c.open311 = 1 AND c.active = 1
    AND NOT EXISTS (SELECT 1 FROM hl_categories k WHERE k.parent_id = c.id AND k.active = 1)";

pub async fn services(c: &mut Conn<'_>) -> Result<Vec<ServiceRow>> {
    // Not by path: text collation differs between the backends; the id is creation order.
    let sql = format!("{SERVICE_SQL} ORDER BY c.sort, c.id");
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, ServiceRow>(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **x).await
    })?)
}

pub async fn service(c: &mut Conn<'_>, code: &str) -> Result<Option<ServiceRow>> {
    let sql = format!("{SERVICE_SQL} AND c.code = $1");
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, ServiceRow>(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(&mut **x).await
    })?)
}

/// One service request as GeoReport shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub id: i64,
    pub no: String,
    pub state: String,
    pub content: String,
    pub address: String,
    pub place_id: Option<i64>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub media_url: String,
    pub received_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub service_code: String,
    pub service_name: String,
    /// The live main leg's organisation.
    pub agency: Option<String>,
    /// The live main leg's handling deadline.
    pub expected: Option<i64>,
    /// The latest public timeline entry.
    pub status_notes: Option<String>,
}

/// What `GET requests` asks for. `numbers`, when given, overrides everything else.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub numbers: Option<Vec<String>>,
    pub codes: Vec<String>,
    /// Some(true): open only; Some(false): closed only.
    pub open: Option<bool>,
    pub from_ms: i64,
    pub to_ms: i64,
    pub limit: i64,
}

const PUBLIC_SCOPE: &str = "o.confidential = 0 AND c.open311 = 1";

pub async fn requests(c: &mut Conn<'_>, f: &RequestFilter) -> Result<Vec<RequestRow>> {
    let mut args: Vec<&str> = Vec::new();
    let mut cond = vec![PUBLIC_SCOPE.to_string()];
    let placeholders = |vals: &[String], args: &[&str]| -> String {
        (0..vals.len()).map(|i| format!("${}", args.len() + i + 1)).collect::<Vec<_>>().join(", ")
    };
    match &f.numbers {
        Some(nos) => {
            let p = placeholders(nos, &args);
            args.extend(nos.iter().map(String::as_str));
            cond.push(format!("o.no IN ({p})"));
        }
        None => {
            if !f.codes.is_empty() {
                let p = placeholders(&f.codes, &args);
                args.extend(f.codes.iter().map(String::as_str));
                cond.push(format!("c.code IN ({p})"));
            }
            match f.open {
                Some(true) => cond.push("o.state NOT IN ('closed', 'merged')".into()),
                Some(false) => cond.push("o.state IN ('closed', 'merged')".into()),
                None => {}
            }
            // Typed integers: safe to write into the SQL.
            cond.push(format!("o.received_at >= {} AND o.received_at <= {}", f.from_ms, f.to_ms));
        }
    }
    let sql = format!(
        "SELECT o.id, o.no, o.state, o.content, o.address, o.place_id, o.lat, o.lng, o.media_url, o.received_at,
                o.updated_at, o.closed_at, c.code AS service_code, c.name AS service_name,
                g.name AS agency, l.handle_due AS expected,
                (SELECT e.text FROM hl_events e WHERE e.order_id = o.id AND e.public = 1 ORDER BY e.id DESC LIMIT 1)
                  AS status_notes
         FROM hl_orders o
         JOIN hl_categories c ON c.id = o.category_id
         LEFT JOIN hl_legs l ON l.id = (SELECT MAX(lm.id) FROM hl_legs lm
             WHERE lm.order_id = o.id AND lm.role = 'main' AND lm.state NOT IN ('returned', 'cancelled'))
         LEFT JOIN orgs g ON g.id = l.org_id
         WHERE {}
         ORDER BY o.received_at DESC, o.id DESC
         LIMIT {}",
        cond.join(" AND "),
        f.limit.max(1)
    );
    Ok(with_conn!(c, x => {
        let mut q = sqlx::query_as::<_, RequestRow>(sqlx::AssertSqlSafe(sql));
        for a in &args {
            q = q.bind(*a);
        }
        q.fetch_all(&mut **x).await
    })?)
}

/// One public timeline entry (the mySociety `servicerequestupdates` extension).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UpdateRow {
    pub id: i64,
    pub no: String,
    pub state: String,
    pub at: i64,
    pub kind: String,
    pub text: String,
}

/// Public updates in the window, oldest first, so a poller can page by `start_date`.
pub async fn updates(c: &mut Conn<'_>, from_ms: i64, to_ms: i64, limit: i64) -> Result<Vec<UpdateRow>> {
    let sql = format!(
        "SELECT e.id, o.no, e.state, e.at, e.kind, e.text
         FROM hl_events e JOIN hl_orders o ON o.id = e.order_id JOIN hl_categories c ON c.id = o.category_id
         WHERE e.public = 1 AND {PUBLIC_SCOPE} AND e.at >= $1 AND e.at <= $2
         ORDER BY e.at, e.id LIMIT {}",
        limit.max(1)
    );
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, UpdateRow>(sqlx::AssertSqlSafe(sql)).bind(from_ms).bind(to_ms).fetch_all(&mut **x).await
    })?)
}

/// The order number of a token; None for an unknown token.
pub async fn number_of_token(c: &mut Conn<'_>, token: &str) -> Result<Option<String>> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar::<_, String>("SELECT no FROM hl_orders WHERE token = $1").bind(token).fetch_optional(&mut **x).await
    })?)
}
