//! 知识库: answers the 12345 centre gives callers, each owned and kept current by one
//! organisation. Agents and handlers propose entries (from scratch or from an answered
//! order); the owner reviews them; search ranks the active ones for the agent screen.
//! The public 12345 web form (`crate::public`) rides on this slice's router.

mod demo;
pub mod search;
pub mod service;
pub mod store;
pub mod web;

pub use demo::seed_demo;

use gongkai_kernel::web::Slice;

fn router() -> axum::Router<gongkai_kernel::web::AppState> {
    web::router().merge(crate::public::router())
}

pub fn slice() -> Slice {
    Slice { name: "hotline-kb", routes: web::ROUTES, router, templates: crate::template_source, nav: web::NAV }
}
