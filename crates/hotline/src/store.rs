//! SQL of the hotline. One SQL text for both backends. An order and its legs are read,
//! changed in memory by the service and written back whole inside one transaction.

use serde::Serialize;

use gongkai_kernel::audit::Actor;
use gongkai_kernel::db::{Backend, Conn, pow2_chunks, value_rows};
use gongkai_kernel::error::Result;
use gongkai_kernel::with_conn;

use crate::rules::SlaRow;

#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub no: String,
    #[serde(skip)]
    pub idem_key: Option<String>,
    #[serde(skip)]
    pub token: Option<String>,
    pub channel: String,
    pub client_id: Option<i64>,
    pub caller_name: String,
    pub caller_phone: String,
    pub caller_email: String,
    pub anonymous: i64,
    pub confidential: i64,
    pub kind: String,
    pub category_id: Option<i64>,
    pub category_top: Option<i64>,
    pub urgency: String,
    pub tags: String,
    pub title: String,
    pub content: String,
    pub address: String,
    pub place_id: Option<i64>,
    pub street: String,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub attributes: String,
    pub media_url: String,
    pub state: String,
    pub agent_id: Option<i64>,
    pub received_at: i64,
    pub received_on: String,
    pub direct: i64,
    pub answer: String,
    pub reviewed_at: Option<i64>,
    pub callback_limit: String,
    pub callback_due: Option<i64>,
    pub callback_at: Option<i64>,
    pub reached: Option<i64>,
    pub resolved: Option<i64>,
    pub satisfaction: Option<String>,
    pub redo_count: i64,
    pub closed_at: Option<i64>,
    pub closed_on_time: Option<i64>,
    pub merged_into: Option<i64>,
    pub leader_note: String,
    pub priority: i64,
    pub urged: i64,
    pub supervised: i64,
    pub overdue: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct LegRow {
    pub id: i64,
    pub order_id: i64,
    pub org_id: i64,
    pub role: String,
    pub state: String,
    pub dispatched_at: i64,
    pub handle_from: i64,
    pub accept_limit: String,
    pub return_limit: String,
    pub handle_limit: String,
    pub accept_due: i64,
    pub return_due: i64,
    pub handle_due: i64,
    pub accepted_at: Option<i64>,
    pub accepted_on_time: Option<i64>,
    pub ext_days: i64,
    pub ext_state: String,
    pub ext_request_days: i64,
    pub ext_reason: String,
    pub returned_at: Option<i64>,
    pub return_reason: String,
    pub replied_at: Option<i64>,
    pub reply: String,
    pub replied_on_time: Option<i64>,
    pub overdue: i64,
    pub reminded: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub order_id: i64,
    pub leg_id: Option<i64>,
    pub at: i64,
    pub day: String,
    pub actor: String,
    pub actor_id: Option<i64>,
    pub kind: String,
    pub value: String,
    pub on_time: Option<i64>,
    pub text: String,
    pub state: String,
    pub public: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CategoryRow {
    pub id: i64,
    pub code: String,
    pub parent_id: Option<i64>,
    pub top_id: Option<i64>,
    pub name: String,
    pub path: String,
    pub keywords: String,
    pub default_org_id: Option<i64>,
    pub open311: i64,
    pub attributes: String,
    pub active: i64,
    pub sort: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PlaceRow {
    pub id: i64,
    pub street: String,
    pub community: String,
    pub org_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ClientRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub channel: String,
    #[serde(skip)]
    pub key_hash: String,
    pub active: i64,
    pub created_at: i64,
}

const ORDER_COLS: &str = "no, idem_key, token, channel, client_id, caller_name, caller_phone, caller_email, anonymous,
  confidential, kind, category_id, category_top, urgency, tags, title, content, address, place_id, street, lat, lng,
  attributes, media_url, state, agent_id, received_at, received_on, direct, answer, reviewed_at, callback_limit,
  callback_due, callback_at, reached, resolved, satisfaction, redo_count, closed_at, closed_on_time, merged_into,
  leader_note, priority, urged, supervised, overdue, updated_at";

macro_rules! bind_order_fields {
    ($q:expr, $o:expr) => {
        $q.bind(&$o.no)
            .bind(&$o.idem_key)
            .bind(&$o.token)
            .bind(&$o.channel)
            .bind($o.client_id)
            .bind(&$o.caller_name)
            .bind(&$o.caller_phone)
            .bind(&$o.caller_email)
            .bind($o.anonymous)
            .bind($o.confidential)
            .bind(&$o.kind)
            .bind($o.category_id)
            .bind($o.category_top)
            .bind(&$o.urgency)
            .bind(&$o.tags)
            .bind(&$o.title)
            .bind(&$o.content)
            .bind(&$o.address)
            .bind($o.place_id)
            .bind(&$o.street)
            .bind($o.lat)
            .bind($o.lng)
            .bind(&$o.attributes)
            .bind(&$o.media_url)
            .bind(&$o.state)
            .bind($o.agent_id)
            .bind($o.received_at)
            .bind(&$o.received_on)
            .bind($o.direct)
            .bind(&$o.answer)
            .bind($o.reviewed_at)
            .bind(&$o.callback_limit)
            .bind($o.callback_due)
            .bind($o.callback_at)
            .bind($o.reached)
            .bind($o.resolved)
            .bind(&$o.satisfaction)
            .bind($o.redo_count)
            .bind($o.closed_at)
            .bind($o.closed_on_time)
            .bind($o.merged_into)
            .bind(&$o.leader_note)
            .bind($o.priority)
            .bind($o.urged)
            .bind($o.supervised)
            .bind($o.overdue)
            .bind($o.updated_at)
    };
}

/// Most rows of one multi-row INSERT of orders (48 values each). Kept small: sqlx looks up
/// each SQLite parameter's name, which takes time linear in the statement's parameters.
const ORDER_ROWS: usize = 16;

/// Insert new orders whose ids were taken with [`gongkai_kernel::db::next_ids`] (so each
/// has its final number), with a few multi-row statements (`pow2_chunks`).
pub async fn insert_orders(c: &mut Conn<'_>, orders: &[&OrderRow]) -> Result<()> {
    const COLS: usize = 48;
    for chunk in pow2_chunks(orders, ORDER_ROWS) {
        let sql = format!("INSERT INTO hl_orders ({ORDER_COLS}, id) VALUES {}", value_rows(chunk.len(), COLS));
        with_conn!(c, x => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for o in chunk {
                q = bind_order_fields!(q, o).bind(o.id);
            }
            q.execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Write back every field of an order.
pub async fn save_order(c: &mut Conn<'_>, o: &OrderRow) -> Result<()> {
    let sets: Vec<String> =
        ORDER_COLS.split(',').map(|s| s.trim()).enumerate().map(|(i, col)| format!("{col} = ${}", i + 1)).collect();
    let sql = format!("UPDATE hl_orders SET {} WHERE id = $48", sets.join(", "));
    with_conn!(c, x => {
        bind_order_fields!(sqlx::query(sqlx::AssertSqlSafe(sql)), o).bind(o.id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// One order; inside a write transaction on PostgreSQL the row is locked (SQLite has one writer).
pub async fn get_order(c: &mut Conn<'_>, id: i64, lock: bool) -> Result<Option<OrderRow>> {
    let sql = if lock && c.backend() == Backend::Postgres {
        "SELECT * FROM hl_orders WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT * FROM hl_orders WHERE id = $1"
    };
    Ok(with_conn!(c, x => { sqlx::query_as::<_, OrderRow>(sql).bind(id).fetch_optional(&mut **x).await })?)
}

/// An order by a unique column: `no`, `idem_key` or `token`.
pub async fn order_by(c: &mut Conn<'_>, column: OrderKey, value: &str) -> Result<Option<OrderRow>> {
    let sql = match column {
        OrderKey::No => "SELECT * FROM hl_orders WHERE no = $1",
        OrderKey::Idem => "SELECT * FROM hl_orders WHERE idem_key = $1",
        OrderKey::Token => "SELECT * FROM hl_orders WHERE token = $1",
    };
    Ok(with_conn!(c, x => { sqlx::query_as::<_, OrderRow>(sql).bind(value).fetch_optional(&mut **x).await })?)
}

#[derive(Debug, Clone, Copy)]
pub enum OrderKey {
    No,
    Idem,
    Token,
}

const LEG_COLS: &str =
    "order_id, org_id, role, state, dispatched_at, handle_from, accept_limit, return_limit, handle_limit,
  accept_due, return_due, handle_due, accepted_at, accepted_on_time, ext_days, ext_state, ext_request_days, ext_reason,
  returned_at, return_reason, replied_at, reply, replied_on_time, overdue, reminded, updated_at";

macro_rules! bind_leg_fields {
    ($q:expr, $l:expr) => {
        $q.bind($l.order_id)
            .bind($l.org_id)
            .bind(&$l.role)
            .bind(&$l.state)
            .bind($l.dispatched_at)
            .bind($l.handle_from)
            .bind(&$l.accept_limit)
            .bind(&$l.return_limit)
            .bind(&$l.handle_limit)
            .bind($l.accept_due)
            .bind($l.return_due)
            .bind($l.handle_due)
            .bind($l.accepted_at)
            .bind($l.accepted_on_time)
            .bind($l.ext_days)
            .bind(&$l.ext_state)
            .bind($l.ext_request_days)
            .bind(&$l.ext_reason)
            .bind($l.returned_at)
            .bind(&$l.return_reason)
            .bind($l.replied_at)
            .bind(&$l.reply)
            .bind($l.replied_on_time)
            .bind($l.overdue)
            .bind($l.reminded)
            .bind($l.updated_at)
    };
}

pub async fn insert_leg(c: &mut Conn<'_>, l: &LegRow) -> Result<i64> {
    let sql = format!(
        "INSERT INTO hl_legs ({LEG_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,
           $21,$22,$23,$24,$25,$26) RETURNING id"
    );
    Ok(with_conn!(c, x => {
        bind_leg_fields!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), l).fetch_one(&mut **x).await
    })?)
}

pub async fn save_leg(c: &mut Conn<'_>, l: &LegRow) -> Result<()> {
    let sets: Vec<String> =
        LEG_COLS.split(',').map(|s| s.trim()).enumerate().map(|(i, col)| format!("{col} = ${}", i + 1)).collect();
    let sql = format!("UPDATE hl_legs SET {} WHERE id = $27", sets.join(", "));
    with_conn!(c, x => {
        bind_leg_fields!(sqlx::query(sqlx::AssertSqlSafe(sql)), l).bind(l.id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn legs_of(c: &mut Conn<'_>, order_id: i64) -> Result<Vec<LegRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, LegRow>("SELECT * FROM hl_legs WHERE order_id = $1 ORDER BY id").bind(order_id).fetch_all(&mut **x).await
    })?)
}

pub async fn get_leg(c: &mut Conn<'_>, id: i64) -> Result<Option<LegRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, LegRow>("SELECT * FROM hl_legs WHERE id = $1").bind(id).fetch_optional(&mut **x).await
    })?)
}

/// A timeline entry to add.
#[derive(Debug, Clone, Default)]
pub struct NewEvent<'a> {
    pub leg_id: Option<i64>,
    pub kind: &'a str,
    pub value: &'a str,
    pub on_time: Option<bool>,
    pub text: &'a str,
    pub public: bool,
}

/// One new timeline entry of [`add_events`].
pub struct EventOf<'a> {
    pub order: &'a OrderRow,
    pub actor: &'a Actor,
    pub at: i64,
    pub event: NewEvent<'a>,
}

/// Most rows of one multi-row INSERT of entries (see `ORDER_ROWS`).
const EVENT_ROWS: usize = 32;

/// Append timeline entries with a few multi-row statements (a batch of intakes).
pub async fn add_events(c: &mut Conn<'_>, rows: &[EventOf<'_>]) -> Result<()> {
    const COLS: usize = 12;
    for chunk in pow2_chunks(rows, EVENT_ROWS) {
        let sql = format!(
            "INSERT INTO hl_events (order_id, leg_id, at, day, actor, actor_id, kind, value, on_time, text, state, public)
             VALUES {}",
            value_rows(chunk.len(), COLS)
        );
        with_conn!(c, x => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                let day = gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::ms_to_local(r.at).date());
                let e = &r.event;
                q = q.bind(r.order.id).bind(e.leg_id).bind(r.at).bind(day).bind(&r.actor.name).bind(r.actor.user_id)
                    .bind(e.kind).bind(e.value).bind(e.on_time.map(i64::from)).bind(e.text).bind(&r.order.state)
                    .bind(e.public as i64);
            }
            q.execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

pub async fn add_event(c: &mut Conn<'_>, order: &OrderRow, actor: &Actor, at: i64, e: &NewEvent<'_>) -> Result<i64> {
    let day = gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::ms_to_local(at).date());
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO hl_events (order_id, leg_id, at, day, actor, actor_id, kind, value, on_time, text, state, public)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id",
        )
        .bind(order.id).bind(e.leg_id).bind(at).bind(&day).bind(&actor.name).bind(actor.user_id).bind(e.kind)
        .bind(e.value).bind(e.on_time.map(i64::from)).bind(e.text).bind(&order.state).bind(e.public as i64)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn events(c: &mut Conn<'_>, order_id: i64) -> Result<Vec<EventRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, EventRow>("SELECT * FROM hl_events WHERE order_id = $1 ORDER BY id").bind(order_id).fetch_all(&mut **x).await
    })?)
}

pub async fn add_link(c: &mut Conn<'_>, a: i64, b: i64, kind: &str) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query("INSERT INTO hl_links (order_id, other_id, kind) VALUES ($1,$2,$3) ON CONFLICT (order_id, other_id) DO NOTHING")
            .bind(a).bind(b).bind(kind).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// A short view of an order for lists, links, history and duplicate suggestions.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Brief {
    pub id: i64,
    pub no: String,
    pub kind: String,
    pub title: String,
    pub state: String,
    pub caller_name: String,
    pub caller_phone: String,
    pub confidential: i64,
    pub channel: String,
    pub urgency: String,
    pub street: String,
    pub category_id: Option<i64>,
    pub received_at: i64,
    pub overdue: i64,
    pub priority: i64,
}

const BRIEF: &str = "o.id, o.no, o.kind, o.title, o.state, o.caller_name, o.caller_phone, o.confidential, o.channel,
  o.urgency, o.street, o.category_id, o.received_at, o.overdue, o.priority";

/// Orders linked to `order_id` either way, with the link kind.
pub async fn links(c: &mut Conn<'_>, order_id: i64) -> Result<Vec<Brief>> {
    let sql = format!(
        "SELECT {BRIEF} FROM hl_orders o WHERE o.id IN (
           SELECT other_id FROM hl_links WHERE order_id = $1 UNION SELECT order_id FROM hl_links WHERE other_id = $1)
         ORDER BY o.id"
    );
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Brief>(sqlx::AssertSqlSafe(sql)).bind(order_id).fetch_all(&mut **x).await
    })?)
}

/// A caller's earlier orders, newest first (the agent screen looks them up as the number
/// is typed, so a prefix of at least 4 digits is enough).
pub async fn by_phone_prefix(c: &mut Conn<'_>, prefix: &str, limit: i64) -> Result<Vec<Brief>> {
    let sql = format!(
        "SELECT {BRIEF} FROM hl_orders o WHERE o.caller_phone LIKE $1 ORDER BY o.received_at DESC LIMIT {limit}"
    );
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Brief>(sqlx::AssertSqlSafe(sql)).bind(format!("{prefix}%")).fetch_all(&mut **x).await
    })?)
}

/// Open or recent orders that may be the same matter: the same caller, or the same place
/// and category, received since `since_ms`.
pub async fn likely_duplicates(
    c: &mut Conn<'_>,
    exclude_id: i64,
    phone: &str,
    place_id: Option<i64>,
    category_id: Option<i64>,
    since_ms: i64,
) -> Result<Vec<Brief>> {
    let sql = format!(
        "SELECT {BRIEF} FROM hl_orders o
         WHERE o.id <> $1 AND o.received_at >= $2 AND o.state <> 'merged'
           AND (($3 <> '' AND o.caller_phone = $3) OR ($4 IS NOT NULL AND $5 IS NOT NULL AND o.place_id = $4 AND o.category_id = $5))
         ORDER BY o.received_at DESC LIMIT 10"
    );
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Brief>(sqlx::AssertSqlSafe(sql))
            .bind(exclude_id).bind(since_ms).bind(phone).bind(place_id).bind(category_id)
            .fetch_all(&mut **x).await
    })?)
}

// --- reference tables -------------------------------------------------------------------

pub async fn categories(c: &mut Conn<'_>) -> Result<Vec<CategoryRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, CategoryRow>("SELECT * FROM hl_categories ORDER BY path, sort, id").fetch_all(&mut **x).await
    })?)
}

pub async fn category_by_code(c: &mut Conn<'_>, code: &str) -> Result<Option<CategoryRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, CategoryRow>("SELECT * FROM hl_categories WHERE code = $1").bind(code).fetch_optional(&mut **x).await
    })?)
}

pub async fn category(c: &mut Conn<'_>, id: i64) -> Result<Option<CategoryRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, CategoryRow>("SELECT * FROM hl_categories WHERE id = $1").bind(id).fetch_optional(&mut **x).await
    })?)
}

/// A new category under `parent` (None for a top level); path and top are derived.
#[allow(clippy::too_many_arguments)] // one per column; every caller names them in place
pub async fn insert_category(
    c: &mut Conn<'_>,
    code: &str,
    name: &str,
    parent: Option<&CategoryRow>,
    default_org_id: Option<i64>,
    open311: bool,
    attributes: &str,
    keywords: &str,
) -> Result<i64> {
    let path = match parent {
        Some(p) => format!("{}/{name}", p.path),
        None => name.to_string(),
    };
    let id: i64 = with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO hl_categories (code, parent_id, top_id, name, path, keywords, default_org_id, open311, attributes)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id",
        )
        .bind(code).bind(parent.map(|p| p.id)).bind(parent.and_then(|p| p.top_id)).bind(name).bind(&path)
        .bind(keywords).bind(default_org_id).bind(open311 as i64).bind(attributes)
        .fetch_one(&mut **x).await
    })?;
    if parent.is_none() {
        with_conn!(c, x => {
            sqlx::query("UPDATE hl_categories SET top_id = id WHERE id = $1").bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(id)
}

pub async fn places(c: &mut Conn<'_>) -> Result<Vec<PlaceRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, PlaceRow>("SELECT * FROM hl_places ORDER BY street, community").fetch_all(&mut **x).await
    })?)
}

pub async fn place(c: &mut Conn<'_>, id: i64) -> Result<Option<PlaceRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, PlaceRow>("SELECT * FROM hl_places WHERE id = $1").bind(id).fetch_optional(&mut **x).await
    })?)
}

pub async fn insert_place(c: &mut Conn<'_>, street: &str, community: &str, org_id: Option<i64>) -> Result<i64> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("INSERT INTO hl_places (street, community, org_id) VALUES ($1,$2,$3) RETURNING id")
            .bind(street).bind(community).bind(org_id).fetch_one(&mut **x).await
    })?)
}

pub async fn sla_rows(c: &mut Conn<'_>) -> Result<Vec<SlaRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, SlaRow>("SELECT * FROM hl_sla ORDER BY kind, category_code, urgency").fetch_all(&mut **x).await
    })?)
}

pub async fn upsert_sla(c: &mut Conn<'_>, r: &SlaRow) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query(
            "INSERT INTO hl_sla (kind, category_code, urgency, accept_limit, return_limit, handle_limit, callback_limit)
             VALUES ($1,$2,$3,$4,$5,$6,$7)
             ON CONFLICT (kind, category_code, urgency) DO UPDATE SET accept_limit = excluded.accept_limit,
               return_limit = excluded.return_limit, handle_limit = excluded.handle_limit, callback_limit = excluded.callback_limit",
        )
        .bind(&r.kind).bind(&r.category_code).bind(&r.urgency).bind(&r.accept_limit).bind(&r.return_limit)
        .bind(&r.handle_limit).bind(&r.callback_limit)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn delete_sla(c: &mut Conn<'_>, id: i64) -> Result<u64> {
    Ok(with_conn!(c, x => {
        sqlx::query("DELETE FROM hl_sla WHERE id = $1").bind(id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?)
}

pub async fn client_by_key_hash(c: &mut Conn<'_>, hash: &str) -> Result<Option<ClientRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, ClientRow>("SELECT * FROM hl_clients WHERE key_hash = $1 AND active = 1").bind(hash).fetch_optional(&mut **x).await
    })?)
}

pub async fn clients(c: &mut Conn<'_>) -> Result<Vec<ClientRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, ClientRow>("SELECT * FROM hl_clients ORDER BY id").fetch_all(&mut **x).await
    })?)
}

pub async fn insert_client(c: &mut Conn<'_>, name: &str, kind: &str, channel: &str, key_hash: &str) -> Result<i64> {
    let now = gongkai_kernel::clock::now_ms();
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("INSERT INTO hl_clients (name, kind, channel, key_hash, created_at) VALUES ($1,$2,$3,$4,$5) RETURNING id")
            .bind(name).bind(kind).bind(channel).bind(key_hash).bind(now).fetch_one(&mut **x).await
    })?)
}

pub async fn set_client_active(c: &mut Conn<'_>, id: i64, active: bool) -> Result<u64> {
    Ok(with_conn!(c, x => {
        sqlx::query("UPDATE hl_clients SET active = $2 WHERE id = $1").bind(id).bind(active as i64).execute(&mut **x).await.map(|r| r.rows_affected())
    })?)
}

// --- worklists --------------------------------------------------------------------------

/// What a worklist shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only orders with a leg of these organisation paths (a department's queue); None: all.
    pub org_paths: Option<Vec<String>>,
    pub state: Option<String>,
    pub leg_state: Option<String>,
    pub overdue: bool,
    pub q: Option<String>,
    /// `q` also matches the caller's phone: only for those who see callers unmasked (the
    /// centre), or a masked list would confirm a number searched for.
    pub q_phone: bool,
    pub channel: Option<String>,
    pub kind: Option<String>,
    pub category_top: Option<i64>,
    pub street: Option<String>,
    pub org_id: Option<i64>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

/// A worklist row: the order with its main leg's organisation and due instant.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ListRow {
    pub id: i64,
    pub no: String,
    pub kind: String,
    pub title: String,
    pub state: String,
    pub channel: String,
    pub urgency: String,
    pub caller_name: String,
    pub caller_phone: String,
    pub confidential: i64,
    pub street: String,
    pub received_at: i64,
    pub overdue: i64,
    pub priority: i64,
    pub urged: i64,
    pub supervised: i64,
    pub org_name: Option<String>,
    pub leg_state: Option<String>,
    pub due: Option<i64>,
}

/// Open orders first (priority, overdue, due), then the newest; `offset`/`limit` page it.
/// Returns the page and the total.
pub async fn list(c: &mut Conn<'_>, f: &ListFilter, offset: i64, limit: i64) -> Result<(Vec<ListRow>, i64)> {
    let mut args: Vec<String> = Vec::new();
    let mut cond: Vec<String> = vec!["1=1".into()];
    let mut n = 0usize;
    let mut push = |args: &mut Vec<String>, v: String| {
        args.push(v);
        n += 1;
        n
    };
    if let Some(paths) = &f.org_paths {
        if paths.is_empty() {
            cond.push("1=0".into());
        } else {
            let mut parts = Vec::new();
            for p in paths {
                let k = push(&mut args, format!("{p}%"));
                parts.push(format!("g.path LIKE ${k}"));
            }
            cond.push(format!(
                "EXISTS (SELECT 1 FROM hl_legs l2 JOIN orgs g ON g.id = l2.org_id WHERE l2.order_id = o.id AND ({}))",
                parts.join(" OR ")
            ));
        }
    }
    if let Some(s) = &f.state {
        let k = push(&mut args, s.clone());
        cond.push(format!("o.state = ${k}"));
    }
    if let Some(s) = &f.leg_state {
        let k = push(&mut args, s.clone());
        cond.push(format!("EXISTS (SELECT 1 FROM hl_legs l3 WHERE l3.order_id = o.id AND l3.state = ${k})"));
    }
    if f.overdue {
        cond.push("o.overdue = 1".into());
    }
    if let Some(q) = f.q.as_ref().map(|q| q.trim()).filter(|q| !q.is_empty()) {
        let k = push(&mut args, format!("%{q}%"));
        let phone = if f.q_phone { format!(" OR o.caller_phone LIKE ${k}") } else { String::new() };
        cond.push(format!("(o.no LIKE ${k} OR o.title LIKE ${k} OR o.address LIKE ${k}{phone})"));
    }
    if let Some(s) = &f.channel {
        let k = push(&mut args, s.clone());
        cond.push(format!("o.channel = ${k}"));
    }
    if let Some(s) = &f.kind {
        let k = push(&mut args, s.clone());
        cond.push(format!("o.kind = ${k}"));
    }
    if let Some(s) = &f.street {
        let k = push(&mut args, s.clone());
        cond.push(format!("o.street = ${k}"));
    }
    // Integers from typed filters: safe to write into the SQL.
    if let Some(t) = f.category_top {
        cond.push(format!("o.category_top = {t}"));
    }
    if let Some(org) = f.org_id {
        cond.push(format!("EXISTS (SELECT 1 FROM hl_legs l4 WHERE l4.order_id = o.id AND l4.org_id = {org})"));
    }
    if let Some(t) = f.from_ms {
        cond.push(format!("o.received_at >= {t}"));
    }
    if let Some(t) = f.to_ms {
        cond.push(format!("o.received_at < {t}"));
    }
    let wher = cond.join(" AND ");
    let sql = format!(
        "SELECT o.id, o.no, o.kind, o.title, o.state, o.channel, o.urgency, o.caller_name, o.caller_phone, o.confidential,
                o.street, o.received_at, o.overdue, o.priority, o.urged, o.supervised,
                g.name AS org_name, l.state AS leg_state,
                CASE WHEN o.state = 'callback' THEN o.callback_due
                     WHEN l.state = 'pending' THEN l.accept_due
                     WHEN l.state = 'accepted' THEN l.handle_due END AS due
         FROM hl_orders o
         LEFT JOIN hl_legs l ON l.id = (SELECT MAX(id) FROM hl_legs lm WHERE lm.order_id = o.id AND lm.role = 'main')
         LEFT JOIN orgs g ON g.id = l.org_id
         WHERE {wher}
         ORDER BY CASE WHEN o.state IN ('closed', 'merged') THEN 1 ELSE 0 END, o.priority DESC, o.overdue DESC,
                  o.received_at DESC
         LIMIT {limit} OFFSET {offset}"
    );
    let count_sql = format!("SELECT COUNT(*) FROM hl_orders o WHERE {wher}");
    let rows = with_conn!(c, x => {
        let mut q = sqlx::query_as::<_, ListRow>(sqlx::AssertSqlSafe(sql));
        for a in &args {
            q = q.bind(a);
        }
        q.fetch_all(&mut **x).await
    })?;
    let total: i64 = with_conn!(c, x => {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql));
        for a in &args {
            q = q.bind(a);
        }
        q.fetch_one(&mut **x).await
    })?;
    Ok((rows, total))
}
