//! Time helpers. Stored times are UTC epoch milliseconds; people see Asia/Shanghai,
//! which has had no daylight saving since 1991, so a fixed UTC+8 offset is exact.

use time::{
    Date, OffsetDateTime, PrimitiveDateTime, UtcOffset, format_description::BorrowedFormatItem,
    macros::format_description,
};

pub const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

const DATE_FMT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");
const DATETIME_FMT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
const MINUTE_FMT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day] [hour]:[minute]");

pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn ms_to_local(ms: i64) -> PrimitiveDateTime {
    let odt = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(SHANGHAI);
    PrimitiveDateTime::new(odt.date(), odt.time())
}

pub fn local_to_ms(local: PrimitiveDateTime) -> i64 {
    (local.assume_offset(SHANGHAI).unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn today() -> Date {
    ms_to_local(now_ms()).date()
}

pub fn fmt_date(d: Date) -> String {
    d.format(DATE_FMT).unwrap_or_default()
}

pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), DATE_FMT).ok()
}

pub fn parse_local_minute(s: &str) -> Option<PrimitiveDateTime> {
    let s = s.trim().replace('T', " ");
    PrimitiveDateTime::parse(&s, MINUTE_FMT).or_else(|_| PrimitiveDateTime::parse(&s, DATETIME_FMT)).ok()
}

pub fn fmt_local(dt: PrimitiveDateTime) -> String {
    dt.format(MINUTE_FMT).unwrap_or_default()
}

/// "YYYY-MM-DD HH:MM:SS" in Asia/Shanghai.
pub fn fmt_ms(ms: i64) -> String {
    ms_to_local(ms).format(DATETIME_FMT).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_round_trip() {
        let ms = 1_727_400_000_000; // 2024-09-27 09:20 +08:00
        assert_eq!(fmt_ms(ms), "2024-09-27 09:20:00");
        assert_eq!(local_to_ms(ms_to_local(ms)), ms);
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(fmt_date(parse_date("2024-02-29").unwrap()), "2024-02-29");
    }
}
