//! One work order: every field (the caller masked for whoever may not see them), the
//! legs, the timeline, linked orders, likely duplicates, attachments and the form of every
//! step the principal may take now. Each step posts to its own address and comes back here.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use gongkai_kernel::auth::Principal;
use gongkai_kernel::clock;
use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::web::ctx::{form_error, render_with, see_other};
use gongkai_kernel::web::{AppState, Auth, ClientIp, CsrfForm, WebResult};

use super::files;
use super::intake::refs;
use super::{
    Fields, channel_label, kind_label, leg_state_label, role_label, satisfaction_label, state_label, urgency_label,
};
use crate::model::{LegState, OrderState, Satisfaction, event_label};
use crate::rules::{Limit, MAX_EXTENSION_DAYS};
use crate::service::{self, Callback, Dispatch, Push};
use crate::store::OrderRow;

const TEMPLATE: &str = "console/hotline/order.html";

fn limit_zh(spec: &str) -> String {
    Limit::parse(spec).map(Limit::zh).unwrap_or_default()
}

fn brief_json(b: &crate::store::Brief) -> Value {
    json!({
        "id": b.id, "no": b.no, "title": b.title, "state_label": state_label(&b.state), "kind_label": kind_label(&b.kind),
        "caller_phone": b.caller_phone, "date": clock::fmt_date(clock::ms_to_local(b.received_at).date()),
    })
}

async fn page_ctx(state: &AppState, who: &Principal, ip: &str, id: i64) -> Result<Value> {
    let v = service::view(&state.db, who, ip, id).await?;
    let r = refs(state).await?;
    let now = clock::now_ms();
    let o = &v.order;
    let st = OrderState::parse(&o.state).unwrap_or(OrderState::Received);
    let open = st.is_open();
    let a = &v.access;
    let (files, merged_into) = {
        let mut h = state.db.read().await?;
        let mut c = h.conn();
        let merged_into = match o.merged_into {
            Some(m) => crate::store::get_order(&mut c, m, false).await?.map(|t| json!({ "id": t.id, "no": t.no })),
            None => None,
        };
        (files::list(&mut c, id).await?, merged_into)
    };
    // Likely duplicates are for the centre, which sees the caller, so they match on the
    // real number.
    let duplicates = if a.centre && open {
        service::duplicates(&state.db, o).await?.iter().map(brief_json).collect()
    } else {
        vec![]
    };
    let org_name = |id: i64| v.org_names.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone()).unwrap_or_default();
    let main_reply = v
        .legs
        .iter()
        .filter(|l| {
            l.role == "main" && !matches!(LegState::parse(&l.state), Some(LegState::Returned | LegState::Cancelled))
        })
        .map(|l| l.reply.clone())
        .next_back()
        .unwrap_or_default();
    let legs: Vec<Value> = v
        .legs
        .iter()
        .map(|l| {
            let ls = LegState::parse(&l.state);
            let active = ls.is_some_and(LegState::is_active);
            let mine = a.handles(l.id);
            let accepted = ls == Some(LegState::Accepted);
            json!({
                "l": l,
                "org": org_name(l.org_id),
                "role_label": role_label(&l.role),
                "state_label": leg_state_label(&l.state),
                "accept_limit": limit_zh(&l.accept_limit),
                "handle_limit": limit_zh(&l.handle_limit),
                "active": active,
                "late": (ls == Some(LegState::Pending) && l.accept_due < now) || (accepted && l.handle_due < now),
                "mine": mine,
                "can_accept": mine && ls == Some(LegState::Pending),
                "can_return": mine && active && now <= l.return_due,
                "can_extend": mine && accepted && l.ext_state != "requested" && (l.ext_days as u32) < MAX_EXTENSION_DAYS,
                "ext_left": MAX_EXTENSION_DAYS.saturating_sub(l.ext_days as u32),
                "can_reply": mine && accepted && matches!(st, OrderState::Dispatched | OrderState::Received),
                "can_decide": a.centre && active && l.ext_state == "requested",
            })
        })
        .collect();
    let events: Vec<Value> = v
        .events
        .iter()
        .map(|e| {
            json!({
                "at": clock::fmt_ms(e.at), "actor": e.actor, "kind": e.kind, "label": event_label(&e.kind),
                "text": e.text, "on_time": e.on_time, "public": e.public,
            })
        })
        .collect();
    let category = o.category_id.and_then(|c| r.cats.iter().find(|x| x.id == c)).map(|c| c.path.clone());
    let place = o
        .place_id
        .and_then(|p| r.places.iter().find(|x| x.id == p))
        .map(|p| if p.community.is_empty() { p.street.clone() } else { format!("{} {}", p.street, p.community) });
    let category_code = o.category_id.and_then(|c| r.cats.iter().find(|x| x.id == c)).map(|c| c.code.clone());
    let suggested = r.suggested_org(category_code.as_deref().unwrap_or(""), o.place_id);
    let tags: Vec<&str> = o.tags.split(',').filter(|t| !t.is_empty()).collect();
    Ok(json!({
        "o": o,
        "masked": v.masked,
        "state_label": st.label_zh(),
        "kind_label": kind_label(&o.kind),
        "urgency_label": urgency_label(&o.urgency),
        "channel_label": channel_label(&o.channel),
        "satisfaction_label": o.satisfaction.as_deref().map(satisfaction_label),
        "received": clock::fmt_ms(o.received_at),
        "callback_due": o.callback_due.map(clock::fmt_ms),
        "callback_limit": limit_zh(&o.callback_limit),
        "category": category,
        "place": place,
        "tags": tags,
        "legs": legs,
        "events": events,
        "links": v.links.iter().map(brief_json).collect::<Vec<_>>(),
        "merged_into": merged_into,
        "duplicates": duplicates,
        "files": files.iter().map(|f| json!({ "f": f, "size": files::size_label(f.size) })).collect::<Vec<_>>(),
        "access": a,
        "open": open,
        "late": o.overdue == 1,
        "orgs": r.org_options(),
        "suggested_org": suggested,
        "suggested_org_name": r.org_name(suggested),
        "main_reply": main_reply,
        "satisfactions": super::satisfactions(),
        "max_ext": MAX_EXTENSION_DAYS,
        "can_answer": a.centre && st == OrderState::Received && v.legs.iter().all(|l| !LegState::parse(&l.state).is_some_and(LegState::is_active)),
        "can_dispatch": a.centre && st == OrderState::Received,
        "can_review": a.centre && st == OrderState::Replied,
        "can_callback": a.centre && st == OrderState::Callback,
        "can_merge": a.centre && open,
        "can_relate": a.sees_identity(),
        "can_urge": (a.centre || a.supervisor) && open,
        "can_supervise": a.supervisor && open,
        "can_instruct": a.leader && open,
        "errors": {},
        "typed": {},
        "form": "",
    }))
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    saved: String,
}

pub async fn page(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> WebResult<Response> {
    let mut ctx = page_ctx(&state, &who, &ip, id).await?;
    ctx["notice"] = json!(notice(&q.saved));
    Ok(render_with(&state, Some(&who), TEMPLATE, ctx, "/console/hotline/orders")?.into_response())
}

/// What the page says after a step (`?saved=…`).
fn notice(step: &str) -> Option<&'static str> {
    Some(match step {
        "intake-dispatch" => "工单已受理并派单。",
        "intake-answer" => "工单已受理，已直接答复并办结。",
        "answer" => "已直接答复并办结。",
        "dispatch" => "已派单。",
        "accept" => "已签收，请在办理期限内答复。",
        "return" => "已退单，工单回到热线中心改派。",
        "extension" => "延期申请已提交，等待热线中心审核。",
        "decide" => "已审核延期申请。",
        "reply" => "答复已提交，等待热线中心审核。",
        "review" => "审核意见已提交。",
        "callback" => "回访已记录。",
        "close" => "工单已办结。",
        "merge" => "工单已合并。",
        "relate" => "已关联工单。",
        "urge" => "已催办。",
        "supervise" => "已督办。",
        "instruct" => "已批办。",
        _ => return None,
    })
}

/// The page again with one form's errors and what was typed in it.
pub(crate) async fn show_error(
    state: &AppState,
    who: &Principal,
    ip: &str,
    id: i64,
    form: &str,
    typed: Value,
    e: Error,
) -> WebResult<Response> {
    if matches!(e, Error::NotFound) {
        return Err(e.into());
    }
    let mut ctx = page_ctx(state, who, ip, id).await?;
    ctx["typed"] = typed;
    ctx["form"] = json!(form);
    Ok(form_error(state, who, TEMPLATE, ctx, e))
}

/// An attachment, to whoever may see the order; always a download, never shown inline.
pub async fn file(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    Path((id, fid)): Path<(i64, i64)>,
) -> WebResult<Response> {
    service::view(&state.db, &who, &ip, id).await?;
    let (meta, data) = {
        let mut h = state.db.read().await?;
        files::data(&mut h.conn(), id, fid).await?
    };
    Ok(gongkai_kernel::web::ctx::attachment(&meta.name, &meta.name, &meta.content_type, data))
}

/// One step: call the use case; back to the page, or the page with the form's errors.
async fn step(state: &AppState, who: &Principal, ip: &str, id: i64, key: &str, f: Fields) -> WebResult<Response> {
    let db = &state.db;
    let leg = f.i64("leg").unwrap_or(0);
    let r: Result<OrderRow> = match key {
        "answer" => service::answer_directly(db, who, ip, id, f.get("answer")).await,
        "dispatch" => {
            let d = Dispatch {
                main_org: f.i64("main_org"),
                co_orgs: f.all_i64("co_orgs"),
                note: f.get("note").trim().into(),
            };
            service::dispatch(db, who, ip, id, &d).await
        }
        "accept" => service::accept(db, who, ip, id, leg).await,
        "return" => service::return_leg(db, who, ip, id, leg, f.get("reason")).await,
        "extension" => match f.get("days").trim().parse::<u32>() {
            Ok(days) => service::request_extension(db, who, ip, id, leg, days, f.get("reason")).await,
            Err(_) => Err(Error::field("days", "请填写申请延期的工作日数")),
        },
        "decide" => match f.get("decision") {
            d @ ("approve" | "refuse") => {
                service::decide_extension(db, who, ip, id, leg, d == "approve", f.get("note")).await
            }
            _ => Err(Error::field("decision", "请选择同意或不同意")),
        },
        "reply" => service::reply(db, who, ip, id, leg, f.get("reply")).await,
        "review" => match f.get("decision") {
            d @ ("pass" | "back") => {
                service::review(db, who, ip, id, d == "pass", f.get("answer"), f.get("note")).await
            }
            _ => Err(Error::field("decision", "请选择审核结果")),
        },
        "callback" => match f.get("reached") {
            r @ ("1" | "0") => {
                let cb = Callback {
                    reached: r == "1",
                    resolved: f.get("resolved") == "1",
                    satisfaction: Satisfaction::parse(f.get("satisfaction")),
                    note: f.get("note").to_string(),
                };
                service::callback(db, who, ip, id, &cb).await
            }
            _ => Err(Error::field("reached", "请选择是否接通")),
        },
        "close" => service::close(db, who, ip, id, f.get("note")).await,
        "merge" => service::merge(db, who, ip, id, f.get("into")).await,
        "relate" => service::relate(db, who, ip, id, f.get("other")).await,
        "urge" => service::push(db, who, ip, id, Push::Urge, f.get("note")).await,
        "supervise" => service::push(db, who, ip, id, Push::Supervise, f.get("note")).await,
        "instruct" => service::push(db, who, ip, id, Push::Instruct, f.get("note")).await,
        _ => Err(Error::NotFound),
    };
    // Forms on one leg carry the leg in their name, so only that form shows the errors.
    let form = match key {
        "accept" | "return" | "extension" | "decide" | "reply" => format!("{key}-{leg}"),
        _ => key.to_string(),
    };
    match r {
        Ok(_) => Ok(see_other(&format!("/console/hotline/orders/{id}?saved={key}"))),
        Err(e) => show_error(state, who, ip, id, &form, json!({ form.clone(): f.typed(&["co_orgs"]) }), e).await,
    }
}

macro_rules! steps {
    ($($name:ident => $key:literal;)*) => {$(
        pub async fn $name(
            State(state): State<AppState>,
            Auth(who): Auth,
            ClientIp(ip): ClientIp,
            Path(id): Path<i64>,
            CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
        ) -> WebResult<Response> {
            step(&state, &who, &ip, id, $key, Fields(pairs)).await
        }
    )*};
}

steps! {
    answer => "answer";
    dispatch => "dispatch";
    accept => "accept";
    return_leg => "return";
    extension => "extension";
    decide => "decide";
    reply => "reply";
    review => "review";
    callback => "callback";
    close => "close";
    merge => "merge";
    relate => "relate";
    urge => "urge";
    supervise => "supervise";
    instruct => "instruct";
}
