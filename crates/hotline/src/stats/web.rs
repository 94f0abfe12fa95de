//! Console pages of the statistics: the dashboard, the XLSX export, the monthly report
//! (page and DOCX) and the 民意调查 records. Routes need a signed-in user; the handlers
//! admit the centre, supervisors and leaders (`super::may_view`), polls are edited by the
//! centre (`Perm::HotlineIntake`, guarded on the route and in `polls`).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::Date;

use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::clock::{fmt_date, parse_date, today};
use gongkai_kernel::error::Error;
use gongkai_kernel::web::ctx::{attachment, form_error, render_with, see_other};
use gongkai_kernel::web::{AppState, Auth, ClientIp, CsrfForm, NavItem, Slice, WebResult};

use super::figures::{self, Filter, month_bounds};
use super::polls::{self, PollForm};
use super::tables::{self, Links, Table};
use super::{chart, export, report};

gongkai_kernel::console_routes! { ROUTES, router;
    get  "/console/hotline/stats" Console => stats_page;
    get  "/console/hotline/stats.xlsx" Console => stats_xlsx;
    get  "/console/hotline/stats.css" Console => stylesheet;
    get  "/console/hotline/reports/monthly" Console => report_page;
    get  "/console/hotline/reports/monthly.docx" Console => report_docx;
    get  "/console/hotline/polls" Console => polls_page;
    get  "/console/hotline/polls/new" HotlineIntake => poll_new;
    post "/console/hotline/polls/new" HotlineIntake => poll_create;
    get  "/console/hotline/polls/{id}" HotlineIntake => poll_edit;
    post "/console/hotline/polls/{id}" HotlineIntake => poll_update;
}

/// One entry per permission that opens the pages; the console lists it once.
const NAV: &[NavItem] = &[
    NavItem { href: "/console/hotline/stats", label: "热线统计", perm: Perm::HotlineIntake },
    NavItem { href: "/console/hotline/stats", label: "热线统计", perm: Perm::Supervise },
    NavItem { href: "/console/hotline/stats", label: "热线统计", perm: Perm::LeaderView },
    NavItem { href: "/console/hotline/polls", label: "民意调查", perm: Perm::HotlineIntake },
];

pub fn slice() -> Slice {
    Slice { name: "hotline-stats", routes: ROUTES, router, templates: crate::template_source, nav: NAV }
}

fn guard(who: &Principal) -> Result<(), Error> {
    if super::may_view(who) {
        Ok(())
    } else {
        Err(Error::Forbidden("只有热线中心、督办人员和领导可以查看热线统计".into()))
    }
}

/// The pages' own styles (the console's stylesheet has no charts or figure grid).
pub async fn stylesheet() -> Response {
    use axum::http::header;
    let css = crate::template_source("console/hotline/stats/stats.css").unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "private, max-age=3600")], css)
        .into_response()
}

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    table: String,
}

/// The longest period one page reads.
const MAX_DAYS: i64 = 3 * 366;

/// The period asked for, or this month; with a message when the dates were unusable.
fn period(q: &PeriodQuery, today: Date) -> (Date, Date, Option<String>) {
    let (mf, ml) = month_bounds(today);
    if q.from.trim().is_empty() && q.to.trim().is_empty() {
        return (mf, ml, None);
    }
    match (parse_date(&q.from), parse_date(&q.to)) {
        (Some(a), Some(b)) if a <= b && (b - a).whole_days() < MAX_DAYS => (a, b, None),
        (Some(a), Some(b)) if a <= b => {
            let end = a.checked_add(time::Duration::days(MAX_DAYS - 1)).unwrap_or(b).min(b);
            (a, end, Some("统计期间最长三年，已截短。".into()))
        }
        (Some(_), Some(_)) => (mf, ml, Some("起始日期晚于截止日期，已改为本月。".into())),
        _ => (mf, ml, Some("日期格式应为 YYYY-MM-DD，已改为本月。".into())),
    }
}

/// Every table of a period, in page order.
fn all_tables(d: &super::Data, links: &Links) -> Vec<Table> {
    vec![
        tables::summary_table(&d.total, links),
        tables::channel_table(&d.rows, links),
        tables::kind_table(&d.rows, links),
        tables::category_table(&d.rows, &d.categories, links, None),
        tables::org_table(&d.rows, &d.orgs, links),
        tables::street_table(&d.rows, links),
        tables::tags_table(&d.tags),
        tables::trend_table(&d.trend),
    ]
}

pub async fn stats_page(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<PeriodQuery>,
) -> WebResult<Response> {
    guard(&who)?;
    let today = today();
    let (from, to, notice) = period(&q, today);
    let d = super::load(&state.db, from, to, &Filter::default(), today, true).await?;
    let links = Links::new(from, to);
    let tables = all_tables(&d, &links);
    // The first `n` rows of table `name`: (row name, 受理).
    let bars_of = |name: &str, n: usize| -> Vec<(String, i64)> {
        let rows = tables.iter().find(|t| t.name == name).map(|t| t.rows.as_slice()).unwrap_or_default();
        rows.iter()
            .take(n)
            .map(|r| {
                let label = r.first().map(|c| c.text.clone()).unwrap_or_default();
                (label, r.get(1).and_then(|c| c.num).unwrap_or(0.0) as i64)
            })
            .collect()
    };
    let channel_chart = chart::bars(&bars_of("channel", 20), "件");
    let category_chart = chart::bars(&bars_of("category", 10), "件");
    let labels: Vec<String> = (1..=12).map(|m| format!("{m}月")).collect();
    let trend_chart = chart::lines(
        &labels,
        &[
            ("受理".into(), d.trend.iter().map(|(_, c)| c.received).collect()),
            ("办结".into(), d.trend.iter().map(|(_, c)| c.closed).collect()),
        ],
    );
    let presets: Vec<Value> = figures::presets(today)
        .into_iter()
        .map(|(label, a, b)| {
            json!({ "label": label, "from": fmt_date(a), "to": fmt_date(b), "current": a == from && b == to })
        })
        .collect();
    let ctx = json!({
        "from": fmt_date(from), "to": fmt_date(to), "notice": notice, "presets": presets,
        "metrics": tables::metrics(&d.total, &links),
        "t": tables.iter().map(|t| (t.name, t)).collect::<std::collections::BTreeMap<_, _>>(),
        "channel_chart": channel_chart, "category_chart": category_chart, "trend_chart": trend_chart,
        "year": to.year(),
        "mark": d.mark.map(fmt_date),
        "report_month": figures::month_key(figures::previous_month(today).0),
        "can_polls": who.has(Perm::HotlineIntake),
    });
    Ok(render_with(&state, Some(&who), "console/hotline/stats/index.html", ctx, "/console/hotline/stats")?
        .into_response())
}

pub async fn stats_xlsx(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<PeriodQuery>,
) -> WebResult<Response> {
    guard(&who)?;
    let name = q.table.trim();
    if name != "all" && tables::table_title(name).is_none() {
        return Err(Error::field("table", "没有这张统计表").into());
    }
    let today = today();
    let (from, to, _) = period(&q, today);
    let d = super::load(&state.db, from, to, &Filter::default(), today, name == "trend" || name == "all").await?;
    let links = Links::new(from, to);
    let chosen: Vec<Table> = all_tables(&d, &links).into_iter().filter(|t| name == "all" || t.name == name).collect();
    let period = format!("{} 至 {}", fmt_date(from), fmt_date(to));
    let bytes = export::to_xlsx(&chosen, &period)?;
    let title = tables::table_title(name).unwrap_or("全部统计表");
    Ok(attachment(
        &format!("热线统计-{title}-{}至{}.xlsx", fmt_date(from), fmt_date(to)),
        &format!("hotline-stats-{name}-{}-{}.xlsx", fmt_date(from), fmt_date(to)),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    ))
}

#[derive(Deserialize, Default)]
pub struct MonthQuery {
    #[serde(default)]
    month: String,
}

/// The month asked for, or the previous one (the last complete month).
fn month_of(q: &MonthQuery, today: Date) -> Result<Date, Error> {
    if q.month.trim().is_empty() {
        return Ok(figures::previous_month(today).0);
    }
    match figures::parse_month(&q.month) {
        Some(m) if m <= today => Ok(m),
        Some(_) => Err(Error::field("month", "该月份尚未开始")),
        None => Err(Error::field("month", "月份格式应为 YYYY-MM")),
    }
}

pub async fn report_page(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<MonthQuery>,
) -> WebResult<Response> {
    guard(&who)?;
    let today = today();
    let first = month_of(&q, today)?;
    let r = report::build(&state.db, first, today).await?;
    let this_month: Vec<f64> = r.chart.series.first().map(|s| s.1.clone()).unwrap_or_default();
    let chart = chart::bars(
        &r.chart.categories.iter().cloned().zip(this_month.iter().map(|v| *v as i64)).collect::<Vec<_>>(),
        "件",
    );
    let months: Vec<Value> = (0..12)
        .scan(first, |m, _| {
            let cur = *m;
            *m = figures::previous_month(cur).0;
            Some(json!({ "value": figures::month_key(cur), "label": figures::month_label(cur) }))
        })
        .collect();
    let ctx = json!({
        "r": r, "chart": chart, "months": months,
        "next_month": month_bounds(first).1.next_day().filter(|d| *d <= today).map(figures::month_key),
        "prev_month": figures::month_key(figures::previous_month(first).0),
    });
    Ok(render_with(&state, Some(&who), "console/hotline/stats/report.html", ctx, "/console/hotline/stats")?
        .into_response())
}

pub async fn report_docx(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<MonthQuery>,
) -> WebResult<Response> {
    guard(&who)?;
    let today = today();
    let first = month_of(&q, today)?;
    let r = report::build(&state.db, first, today).await?;
    let bytes = report::to_docx(&r)?;
    Ok(attachment(
        &format!("{}.docx", r.title),
        &format!("hotline-report-{}.docx", r.month),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        bytes,
    ))
}

// --- polls ------------------------------------------------------------------------------

async fn org_options(state: &AppState) -> Result<Vec<Value>, Error> {
    let mut h = state.db.read().await?;
    let orgs = gongkai_kernel::org::store::all(&mut h.conn()).await?;
    Ok(orgs.iter().map(|o| json!({ "value": o.id, "label": o.name })).collect())
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    #[serde(default)]
    saved: String,
}

pub async fn polls_page(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<SavedQuery>,
) -> WebResult<Response> {
    guard(&who)?;
    let (rows, orgs) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        (polls::list(&mut c).await?, super::store::org_names(&mut c).await?)
    };
    let rows: Vec<Value> = rows
        .iter()
        .map(|p| {
            json!({
                "p": p,
                "org": p.org_id.and_then(|o| orgs.get(&o).cloned()).unwrap_or_else(|| "热线中心".into()),
                "satisfaction": figures::pct(p.satisfaction()),
                "response": figures::pct(p.response_rate()),
            })
        })
        .collect();
    let ctx = json!({ "rows": rows, "can_edit": who.has(Perm::HotlineIntake), "saved": q.saved == "1" });
    Ok(render_with(&state, Some(&who), "console/hotline/stats/polls.html", ctx, "/console/hotline/polls")?
        .into_response())
}

const POLL_FORM: &str = "console/hotline/stats/poll_form.html";

async fn form_ctx(state: &AppState, id: Option<i64>, typed: &PollForm) -> Result<Value, Error> {
    Ok(json!({ "id": id, "t": typed, "orgs": org_options(state).await?, "errors": {} }))
}

pub async fn poll_new(State(state): State<AppState>, Auth(who): Auth) -> WebResult<Response> {
    let t = today();
    let typed = PollForm { started_on: fmt_date(t), ended_on: fmt_date(t), ..Default::default() };
    let ctx = form_ctx(&state, None, &typed).await?;
    Ok(render_with(&state, Some(&who), POLL_FORM, ctx, "/console/hotline/polls")?.into_response())
}

pub async fn poll_create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<PollForm>,
) -> WebResult<Response> {
    match polls::create(&state.db, &who, &ip, &f).await {
        Ok(_) => Ok(see_other("/console/hotline/polls?saved=1")),
        Err(e) => Ok(form_error(&state, &who, POLL_FORM, form_ctx(&state, None, &f).await?, e)),
    }
}

pub async fn poll_edit(State(state): State<AppState>, Auth(who): Auth, Path(id): Path<i64>) -> WebResult<Response> {
    let p = {
        let mut h = state.db.read().await?;
        polls::get(&mut h.conn(), id).await?.ok_or(Error::NotFound)?
    };
    let ctx = form_ctx(&state, Some(id), &PollForm::of(&p)).await?;
    Ok(render_with(&state, Some(&who), POLL_FORM, ctx, "/console/hotline/polls")?.into_response())
}

pub async fn poll_update(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<PollForm>,
) -> WebResult<Response> {
    match polls::update(&state.db, &who, &ip, id, &f).await {
        Ok(()) => Ok(see_other("/console/hotline/polls?saved=1")),
        Err(e) => Ok(form_error(&state, &who, POLL_FORM, form_ctx(&state, Some(id), &f).await?, e)),
    }
}
