//! Calendar pages: a year at a glance, day edits, notice import, office hours, and the
//! due-date calculator with its explanation.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::rules::DayKind;
use super::{service, store};
use crate::auth::Perm;
use crate::clock::{fmt_date, parse_date, today};
use crate::error::Error;
use crate::web::ctx::{render_with, see_other};
use crate::web::{AppState, Auth, ClientIp, CsrfForm, WebResult};

#[derive(Deserialize, Default)]
pub struct YearQuery {
    year: Option<i32>,
    saved: Option<String>,
}

pub async fn year(State(state): State<AppState>, Auth(who): Auth, Query(q): Query<YearQuery>) -> WebResult<Response> {
    let year = q.year.filter(|y| (2000..=2100).contains(y)).unwrap_or_else(|| today().year());
    page(&state, &who, year, q.saved.is_some(), json!({}), None).await
}

async fn page(
    state: &AppState,
    who: &crate::auth::Principal,
    year: i32,
    saved: bool,
    errors: serde_json::Value,
    message: Option<String>,
) -> WebResult<Response> {
    let cal = service::load(&state.db).await?;
    let (days, years) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        (
            store::days_between(&mut c, &format!("{year}-01-01"), &format!("{year}-12-31")).await?,
            store::years(&mut c).await?,
        )
    };
    let hours = service::office_hours(&state.db).await?;
    let loaded = cal.years_loaded().contains(&year);
    let status = if errors.as_object().is_some_and(|m| !m.is_empty()) || message.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let kinds: Vec<_> = [DayKind::Holiday, DayKind::AdjustedWorkday, DayKind::Workday, DayKind::Weekend]
        .iter()
        .map(|k| json!({ "value": k.as_str(), "label": k.label_zh() }))
        .collect();
    let ctx = json!({
        "year": year, "prev": year - 1, "next": year + 1, "days": days, "years": years, "loaded": loaded,
        "office_hours": hours.to_string_spec(), "can_edit": who.has(Perm::SettingsManage), "kinds": kinds,
        "saved": saved, "errors": errors, "error_message": message,
    });
    Ok((status, render_with(state, Some(who), "console/calendar.html", ctx, "/console/calendar")?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DayForm {
    day: String,
    kind: String,
    name: String,
}

pub async fn set_day(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<DayForm>,
) -> WebResult<Response> {
    let date = parse_date(&f.day);
    let year = date.map(|d| d.year()).unwrap_or_else(|| today().year());
    let result = match (date, DayKind::parse(&f.kind)) {
        (None, _) => Err(Error::field("day", "请输入有效日期，格式 YYYY-MM-DD")),
        (_, None) => Err(Error::field("kind", "请选择日期类型")),
        (Some(d), Some(k)) => service::set_day(&state.db, &who.actor(&ip), d, k, &f.name).await,
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/console/calendar?year={year}&saved=1"))),
        Err(Error::Invalid(e)) => page(&state, &who, year, false, json!(e.as_map()), None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ImportForm {
    notice: String,
}

pub async fn import(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<ImportForm>,
) -> WebResult<Response> {
    match service::import_notice(&state.db, &who.actor(&ip), &f.notice, "console").await {
        Ok((year, _)) => Ok(see_other(&format!("/console/calendar?year={year}&saved=1"))),
        Err(Error::Invalid(e)) => page(&state, &who, today().year(), false, json!(e.as_map()), None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HoursForm {
    office_hours: String,
}

pub async fn set_hours(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<HoursForm>,
) -> WebResult<Response> {
    match service::set_office_hours(&state.db, &who.actor(&ip), &f.office_hours).await {
        Ok(_) => Ok(see_other("/console/calendar?saved=1")),
        Err(Error::Invalid(e)) => page(&state, &who, today().year(), false, json!(e.as_map()), None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct DueQuery {
    from: Option<String>,
    days: Option<String>,
}

/// The calculator every desk uses: start date + N working days, with the reasoning.
pub async fn due(State(state): State<AppState>, Auth(who): Auth, Query(q): Query<DueQuery>) -> WebResult<Response> {
    let from = q.from.clone().unwrap_or_else(|| fmt_date(today()));
    let days = q.days.clone().unwrap_or_else(|| "20".into());
    let mut errors = serde_json::Map::new();
    let start = parse_date(&from);
    if start.is_none() {
        errors.insert("from".into(), json!("请输入有效日期，格式 YYYY-MM-DD"));
    }
    let n = days.trim().parse::<u32>().ok().filter(|n| *n <= 366);
    if n.is_none() {
        errors.insert("days".into(), json!("工作日数应为 0 到 366 的整数"));
    }
    let result = match (start, n) {
        (Some(s), Some(n)) => {
            let cal = service::load(&state.db).await?;
            let ex = cal.explain_add_working_days(s, n);
            Some(
                json!({ "due": fmt_date(ex.due), "text": ex.to_zh(), "skipped": ex.skipped, "adjusted": ex.adjusted_counted, "missing": ex.years_missing }),
            )
        }
        _ => None,
    };
    let status =
        if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    let ctx = json!({ "from": from, "days": days, "result": result, "errors": errors });
    Ok((status, render_with(&state, Some(&who), "console/due.html", ctx, "/console/calendar")?).into_response())
}
