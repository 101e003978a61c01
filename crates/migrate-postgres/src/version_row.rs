//! Decoding one row of the version-table listing (`version_id, is_applied, tstamp`, in that order).
//!
//! The listing comes through the simple query protocol, so every value is text. A runner with nothing
//! to do spends a noticeable part of its life here on a long table: columns are taken by position, and
//! `tstamp` in PostgreSQL's ISO form (`YYYY-MM-DD HH:MM:SS[.ffffff]`, the `DateStyle` sqlx sets) is read
//! by hand instead of through a format-string parser (it also reads years past 9999 and BC dates, which
//! sqlx's decoding refuses). Anything else in that column falls back to sqlx's decoding.

use chrono::{NaiveDate, NaiveDateTime};
use migrate_core::AppliedRow;
use sqlx::postgres::{PgRow, PgValueFormat};
use sqlx::{Row, ValueRef};

/// One listing row, each column typed.
pub(crate) fn applied_row(row: &PgRow) -> Result<AppliedRow, sqlx::Error> {
    let version: i64 = row.try_get(0)?;
    let is_applied: bool = row.try_get(1)?;
    let raw = row.try_get_raw(2)?;
    let applied_at = if raw.is_null() {
        None
    } else if raw.format() == PgValueFormat::Text {
        match raw.as_str().ok().and_then(parse_iso_timestamp) {
            Some(at) => Some(at),
            None => row.try_get(2)?,
        }
    } else {
        row.try_get(2)?
    };
    Ok(AppliedRow::new(version, is_applied, applied_at))
}

/// `YYYY-MM-DD HH:MM:SS` (the year may run past four digits), with an optional fraction of up to nine
/// digits and an optional ` BC`; `None` for any other text.
fn parse_iso_timestamp(text: &str) -> Option<NaiveDateTime> {
    let (text, before_christ) = match text.strip_suffix(" BC") {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    let (date, time) = text.split_once(' ')?;
    let (year, month_day) = date.split_once('-')?;
    if year.len() < 4 || year.len() > 6 {
        return None;
    }
    let year = i32::try_from(digits(year.as_bytes())?).ok()?;
    // PostgreSQL counts 1 BC, 2 BC, ...; chrono's proleptic years count 0, -1, ...
    let year = if before_christ { 1 - year } else { year };
    let month_day = month_day.as_bytes();
    let time = time.as_bytes();
    if month_day.len() != 5 || month_day[2] != b'-' || time.len() < 8 || time[2] != b':' || time[5] != b':' {
        return None;
    }
    let nanos = match &time[8..] {
        [] => 0,
        [b'.', fraction @ ..] if !fraction.is_empty() && fraction.len() <= 9 => {
            digits(fraction)? * 10u32.pow(9 - fraction.len() as u32)
        }
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, digits(&month_day[0..2])?, digits(&month_day[3..5])?)?.and_hms_nano_opt(
        digits(&time[0..2])?,
        digits(&time[3..5])?,
        digits(&time[6..8])?,
        nanos,
    )
}

/// The value of a run of ASCII digits (at most nine, so it fits).
fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |value, &byte| byte.is_ascii_digit().then(|| value * 10 + u32::from(byte - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<String> {
        parse_iso_timestamp(text).map(|t| t.format("%Y-%m-%d %H:%M:%S%.f").to_string())
    }

    #[test]
    fn reads_postgres_iso_timestamps() {
        assert_eq!(at("2026-11-21 13:39:02").as_deref(), Some("2026-11-21 13:39:02"));
        assert_eq!(at("2026-11-21 13:39:02.5").as_deref(), Some("2026-11-21 13:39:02.500"));
        assert_eq!(at("2026-11-21 13:39:02.756924").as_deref(), Some("2026-11-21 13:39:02.756924"));
        assert_eq!(at("0001-01-01 00:00:00").as_deref(), Some("0001-01-01 00:00:00"));
        assert_eq!(at("12026-11-21 13:39:02").as_deref(), Some("+12026-11-21 13:39:02"));
        assert_eq!(at("0044-03-15 12:00:00 BC").as_deref(), Some("-0043-03-15 12:00:00"));
    }

    #[test]
    fn leaves_other_forms_to_the_fallback() {
        for text in [
            "",
            "infinity",
            "-infinity",
            "infinity BC",
            "202-11-21 13:39:02",
            "1234567-11-21 13:39:02",
            "2026-11-21 13:39:02 AD",
            "2026-11-21 13:39",
            "2026-11-21 13:39:02.12x",
            "2026-11-21T13:39:02",
            "2026-11-21 13:39:02.",
            "2026-11-21 13:39:02.1234567890",
            "2026-13-21 13:39:02",
            "2026-02-30 13:39:02",
            "2026-11-21 24:00:00",
            "2026-1a-21 13:39:02",
            "11/21/2026 13:39:02",
        ] {
            assert_eq!(at(text), None, "{text:?}");
        }
    }
}
