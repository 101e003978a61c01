//! Reading a version-table timestamp from the text a server sends.
//!
//! Both drivers receive `tstamp` as text (PostgreSQL's ISO `DateStyle`, ClickHouse's `DateTime`), and a
//! runner with nothing to do reads one per applied migration: a hand-written reader costs a small
//! fraction of a format-string parser's time, which was a quarter of a no-op run's own CPU on 1,000 rows.

use chrono::NaiveDate;

use crate::plan::AppliedAt;

/// `YYYY-MM-DD HH:MM:SS` (the year may run past four digits), with an optional fraction of up to nine
/// digits and an optional ` BC`; `None` for any other text.
///
/// ```
/// let at = migrate_core::parse_applied_at("2026-11-21 13:39:02.75").unwrap();
/// assert_eq!(at.to_string(), "2026-11-21 13:39:02.750");
/// assert!(migrate_core::parse_applied_at("infinity").is_none());
/// ```
pub fn parse_applied_at(text: &str) -> Option<AppliedAt> {
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
        parse_applied_at(text).map(|t| t.format("%Y-%m-%d %H:%M:%S%.f").to_string())
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
