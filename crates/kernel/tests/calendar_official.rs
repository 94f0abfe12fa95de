//! Exhaustive check of the working-day calendar against the official holiday-cn
//! data (NateScarlet/holiday-cn, MIT). The expected kind of every day is derived
//! here straight from the JSON, independently of `parse_holiday_cn`, so this test
//! checks the implementation and pins the data.

use std::collections::BTreeMap;

use gongkai_kernel::calendar::rules::{Calendar, DayKind};
use serde_json::Value;
use time::macros::date;
use time::{Date, Month, Weekday};

const FILES: [(i32, &str); 11] = [
    (2017, include_str!("../../../data/holiday-cn/2017.json")),
    (2018, include_str!("../../../data/holiday-cn/2018.json")),
    (2019, include_str!("../../../data/holiday-cn/2019.json")),
    (2020, include_str!("../../../data/holiday-cn/2020.json")),
    (2021, include_str!("../../../data/holiday-cn/2021.json")),
    (2022, include_str!("../../../data/holiday-cn/2022.json")),
    (2023, include_str!("../../../data/holiday-cn/2023.json")),
    (2024, include_str!("../../../data/holiday-cn/2024.json")),
    (2025, include_str!("../../../data/holiday-cn/2025.json")),
    (2026, include_str!("../../../data/holiday-cn/2026.json")),
    (2027, include_str!("../../../data/holiday-cn/2027.json")),
];

fn calendar() -> Calendar {
    Calendar::from_holiday_cn(FILES.iter().map(|(_, s)| *s)).expect("official data parses")
}

/// One listed entry as read directly from the JSON.
struct Entry {
    notice_year: i32,
    date: Date,
    is_off: bool,
    name: String,
}

fn ymd(s: &str) -> Date {
    let p: Vec<&str> = s.split('-').collect();
    assert_eq!(p.len(), 3, "bad date {s}");
    let month = Month::try_from(p[1].parse::<u8>().unwrap()).unwrap();
    Date::from_calendar_date(p[0].parse().unwrap(), month, p[2].parse().unwrap()).unwrap()
}

fn weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Independent reading of the files: every listed entry, keyed by date.
fn official_entries() -> BTreeMap<Date, Entry> {
    let mut out = BTreeMap::new();
    for (file_year, json) in FILES {
        let v: Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["year"].as_i64(), Some(i64::from(file_year)), "{file_year}.json year field");
        for e in v["days"].as_array().unwrap() {
            let date = ymd(e["date"].as_str().unwrap());
            let entry = Entry {
                notice_year: file_year,
                date,
                is_off: e["isOffDay"].as_bool().unwrap(),
                name: e["name"].as_str().unwrap().to_owned(),
            };
            // Pin the data: no date is listed by two notices (so file order is irrelevant).
            assert!(out.insert(date, entry).is_none(), "{date} listed twice");
        }
    }
    out
}

fn expected_kind(entries: &BTreeMap<Date, Entry>, d: Date) -> DayKind {
    match entries.get(&d) {
        Some(e) if e.is_off => DayKind::Holiday,
        Some(_) if weekend(d) => DayKind::AdjustedWorkday,
        Some(_) => DayKind::Workday,
        None if weekend(d) => DayKind::Weekend,
        None => DayKind::Workday,
    }
}

#[test]
fn every_day_2018_to_2026_matches_official_data() {
    let cal = calendar();
    let entries = official_entries();
    let mut d = date!(2018 - 01 - 01);
    let mut checked = 0;
    while d <= date!(2026 - 12 - 31) {
        let want = expected_kind(&entries, d);
        assert_eq!(cal.kind(d), want, "{d} ({})", d.weekday());
        assert_eq!(cal.is_working_day(d), matches!(want, DayKind::Workday | DayKind::AdjustedWorkday), "{d}");
        match entries.get(&d) {
            Some(e) => assert_eq!(cal.special(d).map(|s| s.name.as_str()), Some(e.name.as_str()), "{d}"),
            None => assert!(cal.special(d).is_none(), "{d}"),
        }
        checked += 1;
        d = d.next_day().unwrap();
    }
    assert_eq!(checked, 3287); // 9 years incl. leap years 2020 and 2024
}

#[test]
fn counts_per_notice_file() {
    let entries = official_entries();
    // (notice year, days off, listed working days, of which Sat/Sun make-up days)
    // The first two columns are the commonly published per-notice counts; 2020's
    // 7 working entries include the weekday 2020-02-03 (listed by the extension notice).
    let expected = [
        (2018, 23, 6, 6),
        (2019, 24, 7, 7),
        (2020, 30, 7, 6),
        (2021, 31, 7, 7),
        (2022, 31, 7, 7),
        (2023, 27, 7, 7),
        (2024, 28, 8, 8),
        (2025, 28, 5, 5),
        (2026, 33, 6, 6),
        (2027, 0, 0, 0), // notice not yet published
    ];
    for (year, off, working, makeup) in expected {
        let mine: Vec<&Entry> = entries.values().filter(|e| e.notice_year == year).collect();
        let got = (
            mine.iter().filter(|e| e.is_off).count(),
            mine.iter().filter(|e| !e.is_off).count(),
            mine.iter().filter(|e| !e.is_off && weekend(e.date)).count(),
        );
        println!("notice {year}: off {} / working {} / make-up weekend {}", got.0, got.1, got.2);
        assert_eq!(got, (off, working, makeup), "notice year {year}");
    }
}

#[test]
fn counts_per_calendar_year_from_calendar() {
    // By calendar year the numbers differ from the per-notice ones, because
    // late-December days sit in the next year's notice (2018-12-29..31 in 2019.json,
    // 2022-12-31 in 2023.json).
    let cal = calendar();
    // (calendar year, Holiday days, AdjustedWorkday days, working days)
    let expected = [
        (2018, 25, 7, 250),
        (2019, 22, 6, 250),
        (2020, 30, 6, 249),
        (2021, 31, 7, 250),
        (2022, 32, 7, 249),
        (2023, 26, 7, 249),
        (2024, 28, 8, 251),
        (2025, 28, 5, 248),
        (2026, 33, 6, 248),
    ];
    for (year, holidays, adjusted, working_days) in expected {
        let mut d = Date::from_calendar_date(year, Month::January, 1).unwrap();
        let (mut h, mut a, mut working) = (0, 0, 0);
        while d.year() == year {
            match cal.kind(d) {
                DayKind::Holiday => h += 1,
                DayKind::AdjustedWorkday => a += 1,
                _ => {}
            }
            if cal.is_working_day(d) {
                working += 1;
            }
            d = d.next_day().unwrap();
        }
        println!("calendar {year}: holiday {h} / adjusted {a} / working days {working}");
        assert_eq!((h, a, working), (holidays, adjusted, working_days), "calendar year {year}");
    }
}

#[test]
fn spring_festival_2020_extension() {
    let cal = calendar();
    let table = [
        (date!(2020 - 01 - 19), DayKind::AdjustedWorkday), // Sunday 调休 of the first notice
        (date!(2020 - 01 - 24), DayKind::Holiday),
        (date!(2020 - 01 - 30), DayKind::Holiday), // original end of 春节
        (date!(2020 - 01 - 31), DayKind::Holiday), // added by the extension
        (date!(2020 - 02 - 01), DayKind::Holiday), // Saturday: was a 调休 working day before the extension
        (date!(2020 - 02 - 02), DayKind::Holiday),
        (date!(2020 - 02 - 03), DayKind::Workday), // weekday listed as working
    ];
    for (d, want) in table {
        assert_eq!(cal.kind(d), want, "{d}");
    }
    assert_eq!(cal.add_working_days(date!(2020 - 01 - 20), 20), date!(2020 - 02 - 25));
}

#[test]
fn years_loaded_and_unpublished_2027() {
    let cal = calendar();
    assert_eq!(cal.years_loaded().iter().copied().collect::<Vec<_>>(), (2017..=2026).collect::<Vec<_>>());
    // 2027 has no notice yet: only the weekday rule applies, and the UI is warned.
    assert_eq!(cal.kind(date!(2027 - 01 - 01)), DayKind::Workday);
    let e = cal.explain_add_working_days(date!(2026 - 12 - 30), 3);
    assert_eq!(e.years_missing, vec![2027]);
    assert!(e.to_zh().contains("注意：2027年放假安排尚未录入，仅按周末计算。"));
}
