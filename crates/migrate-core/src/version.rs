//! Migration versions and goose's file-name rule for them.

use std::fmt;

/// A migration version: goose's int64, at least 1.
///
/// The version is the identity of a migration. Renaming the description or changing the zero-padding of a
/// file does not change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(i64);

impl Version {
    /// The version, if `value` is at least 1.
    pub fn new(value: i64) -> Option<Version> {
        if value >= 1 {
            Some(Version(value))
        } else {
            None
        }
    }

    /// The version as goose stores it in `version_id`.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a file name does not name a migration version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionNameError {
    /// The name has no `_` separating the version from the description.
    #[error("no '_' after the version: name migrations like 00001_create_users.sql")]
    NoSeparator,
    /// The text before the first `_` is not a 64-bit integer.
    #[error("{text:?} before the first '_' is not a 64-bit integer version")]
    NotANumber {
        /// The text before the first `_`.
        text: String,
    },
    /// The number is zero or negative.
    #[error("version {value} is less than 1")]
    TooSmall {
        /// The parsed number.
        value: i64,
    },
}

/// Parses the version of a migration file name with goose's rule: the text before the first `_`, parsed as a
/// base-10 int64 (leading zeros and one leading `+` allowed), at least 1.
///
/// ```
/// use migrate_core::version_from_file_name;
/// assert_eq!(version_from_file_name("00042_add_users.sql").unwrap().get(), 42);
/// assert_eq!(version_from_file_name("+7_x.sql").unwrap().get(), 7);
/// assert!(version_from_file_name("add_users.sql").is_err());
/// ```
pub fn version_from_file_name(file_name: &str) -> Result<Version, VersionNameError> {
    let Some((number, _)) = file_name.split_once('_') else {
        return Err(VersionNameError::NoSeparator);
    };
    // Rust's integer parser takes exactly what Go's strconv.ParseInt(s, 10, 64) does: one optional sign,
    // then ASCII digits, no overflow.
    let value = number.parse::<i64>().map_err(|_| VersionNameError::NotANumber { text: number.to_owned() })?;
    Version::new(value).ok_or(VersionNameError::TooSmall { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let cases: &[(&str, Result<i64, VersionNameError>)] = &[
            ("00001_a.sql", Ok(1)),
            ("1_a_b.sql", Ok(1)),
            ("+1_x.sql", Ok(1)),
            ("20240101120000_x.sql", Ok(20240101120000)),
            ("9223372036854775807_max.sql", Ok(i64::MAX)),
            ("9223372036854775808_over.sql", Err(VersionNameError::NotANumber { text: "9223372036854775808".into() })),
            ("0_zero.sql", Err(VersionNameError::TooSmall { value: 0 })),
            ("-1_neg.sql", Err(VersionNameError::TooSmall { value: -1 })),
            ("++1_x.sql", Err(VersionNameError::NotANumber { text: "++1".into() })),
            ("_x.sql", Err(VersionNameError::NotANumber { text: "".into() })),
            ("1a_x.sql", Err(VersionNameError::NotANumber { text: "1a".into() })),
            (" 1_x.sql", Err(VersionNameError::NotANumber { text: " 1".into() })),
            ("nounderscore.sql", Err(VersionNameError::NoSeparator)),
        ];
        for (name, expected) in cases {
            let got = version_from_file_name(name).map(Version::get);
            assert_eq!(&got, expected, "{name}");
        }
    }
}
