//! Worklists: every order a principal may see, with the filters the statistics pages drill
//! down with (their parameter names are a contract), and the queues — the centre's (待派单,
//! 待审核, 待回访, 延期申请, 超时) and a department's (待签收, 办理中, 延期申请中, 超时).

use std::collections::BTreeSet;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::clock;
use gongkai_kernel::db::Conn;
use gongkai_kernel::error::Result;
use gongkai_kernel::web::ctx::render_with;
use gongkai_kernel::web::{AppState, Auth, WebResult};
use gongkai_kernel::with_conn;

use super::intake::refs;
use super::{channel_label, handler_scope, kind_label, leg_state_label, list_scope, state_label, urgency_label};
use crate::model::{Channel, Kind, LegState, OrderState};
use crate::rules;
use crate::store::{self, ListFilter, ListRow};

const PAGE: i64 = 50;

#[derive(Deserialize, Serialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    leg_state: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    category_top: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    org_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: String,
}

fn day_start(s: &str) -> Option<i64> {
    clock::parse_date(s).map(|d| clock::local_to_ms(time::PrimitiveDateTime::new(d, time::Time::MIDNIGHT)))
}

/// The filter from the query; unknown words are ignored rather than refused (a link from
/// elsewhere should still show a list).
fn filter_of(q: &ListQuery, scope: Option<Vec<String>>) -> ListFilter {
    let word = |s: &str, ok: bool| if ok { Some(s.trim().to_string()) } else { None };
    ListFilter {
        org_paths: scope,
        state: word(&q.state, OrderState::parse(q.state.trim()).is_some()),
        leg_state: word(&q.leg_state, LegState::parse(q.leg_state.trim()).is_some()),
        overdue: q.overdue == "1",
        q: Some(q.q.trim().to_string()).filter(|s| !s.is_empty()),
        channel: word(&q.channel, Channel::parse(q.channel.trim()).is_some()),
        kind: word(&q.kind, Kind::parse(q.kind.trim()).is_some()),
        category_top: q.category_top.trim().parse().ok(),
        street: Some(q.street.trim().to_string()).filter(|s| !s.is_empty()),
        org_id: q.org_id.trim().parse().ok(),
        from_ms: day_start(&q.from),
        // `to` is inclusive: up to the start of the next day.
        to_ms: day_start(&q.to).map(|t| t + 86_400_000),
        q_phone: false,
    }
}

/// Of `ids`, the orders where the principal handles a live leg (and so sees the caller).
async fn handled(c: &mut Conn<'_>, who: &Principal, ids: &[i64]) -> Result<BTreeSet<i64>> {
    let Some(paths) = handler_scope(who) else { return Ok(ids.iter().copied().collect()) };
    if paths.is_empty() || ids.is_empty() {
        return Ok(BTreeSet::new());
    }
    // Ids are integers from our own rows and paths are bound: safe to write into the SQL.
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let conds: Vec<String> = (1..=paths.len()).map(|i| format!("g.path LIKE ${i}")).collect();
    let sql = format!(
        "SELECT DISTINCT l.order_id FROM hl_legs l JOIN orgs g ON g.id = l.org_id
         WHERE l.order_id IN ({}) AND l.state <> 'cancelled' AND ({})",
        list.join(","),
        conds.join(" OR ")
    );
    let rows: Vec<i64> = with_conn!(c, x => {
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
        for p in &paths {
            q = q.bind(format!("{p}%"));
        }
        q.fetch_all(&mut **x).await
    })?;
    Ok(rows.into_iter().collect())
}

/// Rows for the template, the caller masked where the principal may not see it.
async fn rows_json(state: &AppState, who: &Principal, rows: Vec<ListRow>) -> Result<Vec<Value>> {
    let centre = who.has(Perm::HotlineIntake);
    let sees: BTreeSet<i64> = if centre {
        BTreeSet::new()
    } else {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut h = state.db.read().await?;
        handled(&mut h.conn(), who, &ids).await?
    };
    Ok(rows
        .into_iter()
        .map(|mut r| {
            if !(centre || sees.contains(&r.id)) {
                r.caller_name = rules::mask_name(&r.caller_name);
                r.caller_phone = rules::mask_phone(&r.caller_phone);
            }
            json!({
                "state_label": state_label(&r.state), "kind_label": kind_label(&r.kind),
                "channel_label": channel_label(&r.channel), "urgency_label": urgency_label(&r.urgency),
                "leg_state_label": r.leg_state.as_deref().map(leg_state_label),
                "received": clock::fmt_ms(r.received_at), "due": r.due.map(clock::fmt_ms),
                "r": r,
            })
        })
        .collect())
}

fn query_string(q: &ListQuery, page: i64) -> String {
    let mut q = q.clone();
    q.page = if page > 1 { page.to_string() } else { String::new() };
    let pairs: Vec<(&str, &str)> = [
        ("state", q.state.as_str()),
        ("leg_state", &q.leg_state),
        ("overdue", &q.overdue),
        ("q", &q.q),
        ("channel", &q.channel),
        ("kind", &q.kind),
        ("category_top", &q.category_top),
        ("street", &q.street),
        ("org_id", &q.org_id),
        ("from", &q.from),
        ("to", &q.to),
        ("page", &q.page),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .collect();
    pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
}

/// Percent-encoding of a query value (everything but the unreserved characters).
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub async fn orders(State(state): State<AppState>, Auth(who): Auth, Query(q): Query<ListQuery>) -> WebResult<Response> {
    let mut f = filter_of(&q, list_scope(&who));
    f.q_phone = who.has(Perm::HotlineIntake);
    let page = q.page.trim().parse::<i64>().unwrap_or(1).max(1);
    let (rows, total) = {
        let mut h = state.db.read().await?;
        store::list(&mut h.conn(), &f, (page - 1) * PAGE, PAGE).await?
    };
    let r = refs(&state).await?;
    let pages = ((total + PAGE - 1) / PAGE).max(1);
    let mut streets: Vec<&str> = r.places.iter().map(|p| p.street.as_str()).collect();
    streets.dedup();
    let ctx = json!({
        "rows": rows_json(&state, &who, rows).await?,
        "total": total, "page": page, "pages": pages,
        "prev": (page > 1).then(|| query_string(&q, page - 1)),
        "next": (page < pages).then(|| query_string(&q, page + 1)),
        "q": q,
        "states": super::order_states(), "leg_states": super::leg_states(),
        "kinds": super::kinds(), "channels": super::channels(),
        "tops": r.cats.iter().filter(|c| c.parent_id.is_none()).map(|c| json!({ "value": c.id, "label": c.name })).collect::<Vec<_>>(),
        "streets": streets.iter().map(|s| json!({ "value": s, "label": s })).collect::<Vec<_>>(),
        "orgs": r.org_options(),
        "centre": who.has(Perm::HotlineIntake),
    });
    Ok(render_with(&state, Some(&who), "console/hotline/orders.html", ctx, "/console/hotline/orders")?.into_response())
}

/// One leg in a queue: the order with that organisation's part.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TaskRow {
    pub leg_id: i64,
    pub leg_state: String,
    pub role: String,
    pub accept_due: i64,
    pub handle_due: i64,
    pub ext_state: String,
    pub ext_request_days: i64,
    pub leg_overdue: i64,
    pub org_name: String,
    pub id: i64,
    pub no: String,
    pub title: String,
    pub kind: String,
    pub urgency: String,
    pub state: String,
    pub received_at: i64,
    pub priority: i64,
    pub urged: i64,
    pub supervised: i64,
}

const EXT_REQUESTED: &str = "l.state = 'accepted' AND l.ext_state = 'requested'";

/// Department tabs and the condition each puts on a leg `l`. Late is judged against the
/// clock as well as the sweep's flag, so a leg shows as late the moment it is.
fn leg_tabs(now: i64) -> [(&'static str, &'static str, String); 4] {
    [
        ("pending", "待签收", "l.state = 'pending'".into()),
        ("accepted", "办理中", "l.state = 'accepted'".into()),
        ("ext", "延期申请中", EXT_REQUESTED.into()),
        (
            "overdue",
            "超时",
            format!(
                "((l.state = 'pending' AND (l.accept_due < {now} OR l.overdue > 0))
                  OR (l.state = 'accepted' AND (l.handle_due < {now} OR l.overdue > 0)))"
            ),
        ),
    ]
}

/// Legs of the organisations under `paths` (None: all) matching `cond`, most pressing first.
async fn legs_where(c: &mut Conn<'_>, paths: &Option<Vec<String>>, cond: &str) -> Result<Vec<TaskRow>> {
    let scope = match paths {
        None => "1=1".to_string(),
        Some(p) if p.is_empty() => "1=0".to_string(),
        Some(p) => (1..=p.len()).map(|i| format!("g.path LIKE ${i}")).collect::<Vec<_>>().join(" OR "),
    };
    let sql = format!(
        "SELECT l.id AS leg_id, l.state AS leg_state, l.role, l.accept_due, l.handle_due, l.ext_state, l.ext_request_days,
                l.overdue AS leg_overdue, g.name AS org_name, o.id, o.no, o.title, o.kind, o.urgency, o.state,
                o.received_at, o.priority, o.urged, o.supervised
         FROM hl_legs l JOIN hl_orders o ON o.id = l.order_id JOIN orgs g ON g.id = l.org_id
         WHERE ({scope}) AND {cond}
         ORDER BY o.priority DESC, CASE WHEN l.state = 'pending' THEN l.accept_due ELSE l.handle_due END, l.id
         LIMIT 500"
    );
    let binds: Vec<String> = paths.iter().flatten().map(|p| format!("{p}%")).collect();
    Ok(with_conn!(c, x => {
        let mut q = sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_all(&mut **x).await
    })?)
}

fn tasks_json(rows: &[TaskRow], now: i64) -> Vec<Value> {
    rows.iter()
        .map(|t| {
            let due = if t.leg_state == "pending" { t.accept_due } else { t.handle_due };
            json!({
                "t": t, "due": clock::fmt_ms(due), "late": due < now,
                "leg_state_label": leg_state_label(&t.leg_state), "state_label": state_label(&t.state),
                "kind_label": kind_label(&t.kind), "urgency_label": urgency_label(&t.urgency),
                "role_label": super::role_label(&t.role),
            })
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct TasksQuery {
    #[serde(default)]
    tab: String,
}

/// The centre's tabs: an order state, or a leg condition over all organisations.
const CENTRE_TABS: &[(&str, &str)] =
    &[("received", "待派单"), ("replied", "待审核"), ("callback", "待回访"), ("ext", "延期申请"), ("overdue", "超时")];

pub async fn tasks(State(state): State<AppState>, Auth(who): Auth, Query(q): Query<TasksQuery>) -> WebResult<Response> {
    let centre = who.has(Perm::HotlineIntake);
    let handler = who.has(Perm::CaseHandle);
    let now = clock::now_ms();
    let mut ctx = json!({ "centre": centre, "handler": handler, "tab": q.tab });
    let mut centre_rows = None;
    let mut h = state.db.read().await?;
    let mut c = h.conn();
    if centre {
        let tab = CENTRE_TABS.iter().find(|(k, _)| *k == q.tab).map(|(k, _)| *k).unwrap_or("received");
        let mut counts = Vec::new();
        for (k, label) in CENTRE_TABS {
            let n = match *k {
                "ext" => legs_where(&mut c, &None, EXT_REQUESTED).await?.len() as i64,
                "overdue" => store::list(&mut c, &ListFilter { overdue: true, ..Default::default() }, 0, 1).await?.1,
                s => store::list(&mut c, &ListFilter { state: Some(s.into()), ..Default::default() }, 0, 1).await?.1,
            };
            counts.push(json!({ "key": k, "label": label, "count": n, "current": *k == tab }));
        }
        ctx["centre_tabs"] = json!(counts);
        ctx["centre_tab"] = json!(tab);
        if tab == "ext" {
            ctx["centre_legs"] = json!(tasks_json(&legs_where(&mut c, &None, EXT_REQUESTED).await?, now));
        } else {
            let f = if tab == "overdue" {
                ListFilter { overdue: true, ..Default::default() }
            } else {
                ListFilter { state: Some(tab.into()), ..Default::default() }
            };
            centre_rows = Some(store::list(&mut c, &f, 0, 500).await?.0);
        }
    }
    if handler {
        let paths = handler_scope(&who);
        let tabs = leg_tabs(now);
        let tab = tabs.iter().find(|(k, _, _)| *k == q.tab).map(|(k, _, _)| *k).unwrap_or("pending");
        let mut counts = Vec::new();
        let mut rows = Vec::new();
        for (k, label, cond) in &tabs {
            let r = legs_where(&mut c, &paths, cond).await?;
            counts.push(json!({ "key": k, "label": label, "count": r.len(), "current": *k == tab }));
            if *k == tab {
                rows = r;
            }
        }
        ctx["leg_tabs"] = json!(counts);
        ctx["leg_tab"] = json!(tab);
        ctx["legs"] = json!(tasks_json(&rows, now));
    }
    drop(h);
    if let Some(rows) = centre_rows {
        ctx["centre_rows"] = json!(rows_json(&state, &who, rows).await?);
    }
    Ok(render_with(&state, Some(&who), "console/hotline/tasks.html", ctx, "/console/hotline/tasks")?.into_response())
}
