//! 征集调查: solicitations (意见征集: a draft open for comments between two dates, the
//! comments moderated before they appear) and questionnaires (问卷调查: single and multiple
//! choice, rating and free-text questions with simple skip logic, one response per person
//! best-effort, results as server-rendered SVG charts with tables beside them). After
//! closing, staff publish the feedback (采纳情况 / 调查结果). Public pages live under
//! `/hudong/{site}/zhengji`; `service::counts` gives the annual report's figures.

pub mod demo;
pub mod export;
pub mod pages;
pub mod rules;
pub mod service;
pub mod store;
pub mod web;

pub use service::counts;
