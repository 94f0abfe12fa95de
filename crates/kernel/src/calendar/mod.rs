//! Working-day calendar: pure rules in `rules`, the official notices and administrators'
//! edits in the database. Every deadline in gongkai is computed on `service::load`.

pub mod rules;
pub mod service;
pub mod store;
pub mod web;

/// The official notices shipped with the binary (NateScarlet/holiday-cn, MIT), seeded into
/// an empty database. Later notices are added in the console or with `calendar import`.
pub const OFFICIAL_NOTICES: [&str; 11] = [
    include_str!("../../../../data/holiday-cn/2017.json"),
    include_str!("../../../../data/holiday-cn/2018.json"),
    include_str!("../../../../data/holiday-cn/2019.json"),
    include_str!("../../../../data/holiday-cn/2020.json"),
    include_str!("../../../../data/holiday-cn/2021.json"),
    include_str!("../../../../data/holiday-cn/2022.json"),
    include_str!("../../../../data/holiday-cn/2023.json"),
    include_str!("../../../../data/holiday-cn/2024.json"),
    include_str!("../../../../data/holiday-cn/2025.json"),
    include_str!("../../../../data/holiday-cn/2026.json"),
    include_str!("../../../../data/holiday-cn/2027.json"),
];
