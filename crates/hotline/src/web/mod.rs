//! Console pages of the hotline: the agent screen (热线受理), the order page with the form
//! of every step the principal may take, the worklists and queues, and the settings (SLA
//! table, categories, gazetteer). Routes are open to every signed-in user unless a step
//! needs a permission of its own; `service` decides per order who acts.

mod files;
mod intake;
mod lists;
mod order;
mod settings;

use serde_json::{Value, json};

use gongkai_kernel::auth::{OrgScope, Perm, Principal};
use gongkai_kernel::web::{NavItem, Slice};

use crate::model::{Channel, Kind, LegRole, LegState, OrderState, Satisfaction, Urgency};

gongkai_kernel::console_routes! { ROUTES, router;
    get  "/console/hotline/new" HotlineIntake => intake::page;
    post "/console/hotline/new" HotlineIntake => intake::submit;
    get  "/console/hotline/callers.json" HotlineIntake => intake::callers;
    get  "/console/hotline/categories.json" Console => intake::categories_json;
    get  "/console/hotline/orders" Console => lists::orders;
    get  "/console/hotline/tasks" Console => lists::tasks;
    get  "/console/hotline/orders/{id}" Console => order::page;
    get  "/console/hotline/orders/{id}/files/{fid}" Console => order::file;
    post "/console/hotline/orders/{id}/answer" Console => order::answer;
    post "/console/hotline/orders/{id}/dispatch" Console => order::dispatch;
    post "/console/hotline/orders/{id}/accept" Console => order::accept;
    post "/console/hotline/orders/{id}/return" Console => order::return_leg;
    post "/console/hotline/orders/{id}/extension" Console => order::extension;
    post "/console/hotline/orders/{id}/extension/decide" Console => order::decide;
    post "/console/hotline/orders/{id}/reply" Console => order::reply;
    post "/console/hotline/orders/{id}/review" Console => order::review;
    post "/console/hotline/orders/{id}/callback" Console => order::callback;
    post "/console/hotline/orders/{id}/close" Console => order::close;
    post "/console/hotline/orders/{id}/merge" Console => order::merge;
    post "/console/hotline/orders/{id}/relate" Console => order::relate;
    post "/console/hotline/orders/{id}/urge" Console => order::urge;
    post "/console/hotline/orders/{id}/supervise" Console => order::supervise;
    post "/console/hotline/orders/{id}/instruct" Console => order::instruct;
    get  "/console/hotline/sla" SettingsManage => settings::sla;
    post "/console/hotline/sla" SettingsManage => settings::sla_add;
    post "/console/hotline/sla/{id}" SettingsManage => settings::sla_update;
    post "/console/hotline/sla/{id}/delete" SettingsManage => settings::sla_delete;
    get  "/console/hotline/categories" SettingsManage => settings::categories;
    post "/console/hotline/categories" SettingsManage => settings::category_add;
    get  "/console/hotline/categories/{id}" SettingsManage => settings::category_page;
    post "/console/hotline/categories/{id}" SettingsManage => settings::category_update;
    get  "/console/hotline/places" SettingsManage => settings::places;
    post "/console/hotline/places" SettingsManage => settings::place_add;
    post "/console/hotline/places/{id}" SettingsManage => settings::place_update;
}

const NAV: &[NavItem] = &[
    NavItem { href: "/console/hotline/new", label: "热线受理", perm: Perm::HotlineIntake },
    NavItem { href: "/console/hotline/orders", label: "热线工单", perm: Perm::Console },
    NavItem { href: "/console/hotline/tasks", label: "承办任务", perm: Perm::Console },
    NavItem { href: "/console/hotline/sla", label: "热线设置", perm: Perm::SettingsManage },
];

pub fn slice() -> Slice {
    Slice { name: "hotline-web", routes: ROUTES, router, templates: crate::template_source, nav: NAV }
}

/// A form as name/value pairs: the agent screen and the dispatch form repeat names
/// (co-handlers, tags), which a struct cannot take from a url-encoded body.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn get(&self, k: &str) -> &str {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    pub fn all(&self, k: &str) -> Vec<&str> {
        self.0.iter().filter(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty()).collect()
    }
    pub fn checked(&self, k: &str) -> bool {
        matches!(self.get(k).trim(), "1" | "on" | "true" | "yes")
    }
    pub fn i64(&self, k: &str) -> Option<i64> {
        self.get(k).trim().parse().ok()
    }
    pub fn all_i64(&self, k: &str) -> Vec<i64> {
        self.all(k).iter().filter_map(|v| v.trim().parse().ok()).collect()
    }
    /// What was typed, for the form shown again: one value per name, lists for `multi`.
    pub fn typed(&self, multi: &[&str]) -> Value {
        let mut m = serde_json::Map::new();
        for (k, v) in &self.0 {
            if k == "_csrf" {
                continue;
            }
            if multi.contains(&k.as_str()) {
                let e = m.entry(k.clone()).or_insert_with(|| json!([]));
                if let Value::Array(a) = e {
                    a.push(json!(v));
                }
            } else {
                m.entry(k.clone()).or_insert_with(|| json!(v));
            }
        }
        Value::Object(m)
    }
}

/// Options for a select: `{value, label}`.
pub(crate) fn options<T: Copy>(all: &[T], f: impl Fn(T) -> (&'static str, &'static str)) -> Vec<Value> {
    all.iter().map(|x| f(*x)).map(|(v, l)| json!({ "value": v, "label": l })).collect()
}

pub(crate) fn kinds() -> Vec<Value> {
    options(Kind::ALL, |k| (k.as_str(), k.label_zh()))
}
pub(crate) fn urgencies() -> Vec<Value> {
    options(Urgency::ALL, |k| (k.as_str(), k.label_zh()))
}
pub(crate) fn channels() -> Vec<Value> {
    options(Channel::ALL, |k| (k.as_str(), k.label_zh()))
}
pub(crate) fn order_states() -> Vec<Value> {
    options(OrderState::ALL, |k| (k.as_str(), k.label_zh()))
}
pub(crate) fn leg_states() -> Vec<Value> {
    options(LegState::ALL, |k| (k.as_str(), k.label_zh()))
}
pub(crate) fn satisfactions() -> Vec<Value> {
    options(Satisfaction::ALL, |k| (k.as_str(), k.label_zh()))
}

pub(crate) fn kind_label(s: &str) -> &'static str {
    Kind::parse(s).map(Kind::label_zh).unwrap_or("")
}
pub(crate) fn urgency_label(s: &str) -> &'static str {
    Urgency::parse(s).map(Urgency::label_zh).unwrap_or("")
}
pub(crate) fn channel_label(s: &str) -> &'static str {
    Channel::parse(s).map(Channel::label_zh).unwrap_or("")
}
pub(crate) fn state_label(s: &str) -> &'static str {
    OrderState::parse(s).map(OrderState::label_zh).unwrap_or("")
}
pub(crate) fn leg_state_label(s: &str) -> &'static str {
    LegState::parse(s).map(LegState::label_zh).unwrap_or("")
}
pub(crate) fn role_label(s: &str) -> &'static str {
    LegRole::parse(s).map(LegRole::label_zh).unwrap_or("")
}
pub(crate) fn satisfaction_label(s: &str) -> &'static str {
    Satisfaction::parse(s).map(Satisfaction::label_zh).unwrap_or("")
}

/// Tags the agent ticks most often; anything else is typed.
pub(crate) const COMMON_TAGS: &[&str] = &["营商环境", "民生实事", "安全隐患", "生态环境", "老年人", "企业诉求"];

/// The organisations whose orders a principal sees on the lists: None for all (the
/// centre, or a district-wide supervisor or leader); else the union of the paths the
/// principal handles, supervises or leads.
pub(crate) fn list_scope(who: &Principal) -> Option<Vec<String>> {
    if who.has(Perm::HotlineIntake) {
        return None;
    }
    let mut paths = Vec::new();
    for perm in [Perm::CaseHandle, Perm::Supervise, Perm::LeaderView] {
        match who.org_scope(perm) {
            OrgScope::All => return None,
            OrgScope::Paths(p) => paths.extend(p),
            OrgScope::None => {}
        }
    }
    paths.sort();
    paths.dedup();
    Some(paths)
}

/// The organisation paths a principal handles (CaseHandle): None for all.
pub(crate) fn handler_scope(who: &Principal) -> Option<Vec<String>> {
    match who.org_scope(Perm::CaseHandle) {
        OrgScope::All => None,
        OrgScope::Paths(p) => Some(p),
        OrgScope::None => Some(Vec::new()),
    }
}
