//! The hotline's machine interfaces: Open311 GeoReport v2 under `/open311/v2/` (`api`),
//! the inbound gateway of the WeChat, Weibo, app and e-mail channels under
//! `/api/hotline/v1/` (`gateway`), and the console page of their keys (`clients`).
//! Both APIs authenticate by key, never by the session cookie; see docs/hotline-api.md.

pub mod api;
pub mod attrs;
pub mod clients;
pub mod gateway;
pub mod query;
pub mod wire;

use gongkai_kernel::auth::Perm;
use gongkai_kernel::web::{AppState, NavItem, Slice};

gongkai_kernel::console_routes! { ROUTES, console_router;
    get  "/console/hotline/clients" SettingsManage => clients::page;
    post "/console/hotline/clients" SettingsManage => clients::create_form;
    post "/console/hotline/clients/{id}/deactivate" SettingsManage => clients::deactivate_form;
}

const NAV: &[NavItem] =
    &[NavItem { href: "/console/hotline/clients", label: "热线接口", perm: Perm::SettingsManage }];

fn router() -> axum::Router<AppState> {
    console_router().merge(api::router()).merge(gateway::router())
}

pub fn slice() -> Slice {
    Slice { name: "hotline-open311", routes: ROUTES, router, templates: crate::template_source, nav: NAV }
}
