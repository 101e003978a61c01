//! Decoding one row of the version-table listing (`version_id, is_applied, tstamp`, in that order).
//!
//! The listing comes through the simple query protocol, so every value is text. Columns are taken by
//! position, and `tstamp` in PostgreSQL's ISO form (the `DateStyle` sqlx sets) is read by
//! [`parse_applied_at`], which also reads years past 9999 and BC dates that sqlx's decoding refuses.
//! Anything else in that column falls back to sqlx's decoding.

use migrate_core::{parse_applied_at, AppliedRow};
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
        match raw.as_str().ok().and_then(parse_applied_at) {
            Some(at) => Some(at),
            None => row.try_get(2)?,
        }
    } else {
        row.try_get(2)?
    };
    Ok(AppliedRow::new(version, is_applied, applied_at))
}
