//! The facade's one error type, so a service handles every failure of a migration run with one `?`, and
//! can still ask what was applied before a failure and which migration failed.

use std::fmt;

use migrate_core::{BoxError, Direction, MigrationResult, PlanError, ResolveError, RunError, Version};

/// Why a [`Migrator`](crate::Migrator) command (or [`up`](crate::up)) failed. Never contains a password.
///
/// `Display` is one message saying what failed. `Debug` (what `main() -> Result<(), migrate::Error>` prints
/// when it returns the error) is that message followed by the causes behind it, one per line, as `anyhow`
/// prints them. A cause the lines above already describe is left out: one whose text they include, and
/// the sqlx error behind a PostgreSQL failure, which the message gives as SQLSTATE, message, detail and
/// hint (sqlx's own text would add the server's C source line, `at line 768`, easily taken for a file's).
///
/// ```text
/// version table: listing the applied versions
///
/// Caused by:
///     connection reset by peer
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The source's files could not be resolved: a bad file name, a duplicate version, a missing directory.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// A code migration was registered with a version below 1.
    #[error("code migration {name:?}: version {version} is less than 1; versions start at 1")]
    CodeMigrationVersion {
        /// The registered name.
        name: String,
        /// The registered version.
        version: i64,
    },
    /// The URL names a kind of database migrate does not know.
    #[error("unsupported database URL scheme `{scheme}`: use postgres:// (or postgresql://), or clickhouse://, tcp://, http:// or https:// for ClickHouse")]
    UnsupportedScheme {
        /// The scheme, without `://`.
        scheme: String,
    },
    /// The string is neither a URL nor a libpq `key=value` DSN (it is not shown: it may hold a password).
    #[error("not a database URL: use postgres://... (or a libpq key=value DSN), or clickhouse://, tcp://, http:// or https:// for ClickHouse")]
    NotAUrl,
    /// The URL names a database whose driver this build does not include (its feature is off).
    #[error("{driver} URL: {reason}")]
    DriverUnavailable {
        /// `postgres` or `clickhouse`.
        driver: &'static str,
        /// Why, and what to do.
        reason: &'static str,
    },
    /// Code migrations were registered for a database that cannot run them.
    #[error("code migrations run on PostgreSQL only; {driver} has no transaction to give them")]
    CodeMigrationsUnsupported {
        /// The database kind.
        driver: &'static str,
    },
    /// The PostgreSQL URL or DSN does not parse.
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL URL: {0}")]
    PostgresUrl(#[from] migrate_postgres::DsnError),
    /// The ClickHouse URL or DSN does not parse.
    #[cfg(feature = "clickhouse")]
    #[error("ClickHouse URL: {0}")]
    ClickHouseUrl(#[from] migrate_clickhouse::DsnError),
    /// The version table's name is not valid.
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    TableName(#[from] migrate_postgres::TableNameError),
    /// Connecting to PostgreSQL, or talking to it outside a migration, failed.
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Postgres(#[from] migrate_postgres::PgError),

    /// The ClickHouse version-table name is invalid.
    #[cfg(feature = "clickhouse")]
    #[error(transparent)]
    ClickHouseTableName(#[from] migrate_clickhouse::TableNameError),

    /// Connecting to ClickHouse failed.
    #[cfg(feature = "clickhouse")]
    #[error(transparent)]
    ClickHouse(#[from] migrate_clickhouse::ChError),
    /// The command could not be planned (for [`Migrator::has_pending`](crate::Migrator::has_pending)).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A run failed: see [`Error::applied`] and [`Error::failed_migration`]. (Boxed: it is large, and
    /// every `Result` of the crate carries this type.)
    #[error(transparent)]
    Run(Box<RunError>),
    /// Reading the version table failed.
    #[error("version table: {0}")]
    VersionTable(#[source] BoxError),
    /// An applied migration's file could not be read or parsed to check its checksum.
    #[error(transparent)]
    History(#[from] migrate_core::HistoryError),
    /// `repair` or a mark could not write the history (nothing was written unless the database failed).
    #[error(transparent)]
    HistoryWrite(#[from] migrate_core::HistoryWriteError),
    /// [`Migrator::db_version`](crate::Migrator::db_version) under no-versioning, where there is no version.
    #[error("the database version is unknown under no-versioning: the version table is never read")]
    NoVersioning,
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.to_string();
        f.write_str(&message)?;
        let mut shown = message;
        let mut causes = Vec::new();
        let mut next = std::error::Error::source(self);
        while let Some(cause) = next {
            if described_by_driver(cause) {
                break;
            }
            let text = cause.to_string();
            if !shown.contains(&text) {
                shown.push('\n');
                shown.push_str(&text);
                causes.push(text);
            }
            next = cause.source();
        }
        if causes.is_empty() {
            return Ok(());
        }
        f.write_str("\n\nCaused by:")?;
        let numbered = causes.len() > 1;
        for (index, cause) in causes.iter().enumerate() {
            // A multi-line cause keeps its later lines under its first.
            let (label, indent) =
                if numbered { (format!("{index:>5}: "), "       ") } else { ("    ".to_owned(), "    ") };
            write!(f, "\n{label}{}", cause.replace('\n', &format!("\n{indent}")))?;
        }
        Ok(())
    }
}

/// Whether `cause` is the database client's error that a driver's message already describes.
fn described_by_driver(cause: &(dyn std::error::Error + 'static)) -> bool {
    #[cfg(feature = "postgres")]
    if cause.downcast_ref::<sqlx::Error>().is_some() {
        return true;
    }
    let _ = cause;
    false
}

impl From<RunError> for Error {
    fn from(error: RunError) -> Error {
        Error::Run(Box::new(error))
    }
}

/// The migration a run failed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedMigration<'a> {
    /// Its version.
    pub version: Version,
    /// Its file name (or code migration name).
    pub name: &'a str,
    /// Which way it was running.
    pub direction: Direction,
}

impl Error {
    /// The migrations that completed before the failure; they stay applied. Empty when nothing ran.
    pub fn applied(&self) -> &[MigrationResult] {
        match self {
            Error::Run(error) => &error.applied,
            _ => &[],
        }
    }

    /// The migration that failed, when the failure was inside one; its cause is [`std::error::Error::source`]
    /// and the message.
    pub fn failed_migration(&self) -> Option<FailedMigration<'_>> {
        let Error::Run(error) = self else {
            return None;
        };
        let (version, name, direction) = error.failed.as_ref()?;
        Some(FailedMigration { version: *version, name, direction: *direction })
    }

    /// The runner's error, for the details of a failed statement (`RunErrorKind::Statement` carries the
    /// file, line and the database's error).
    pub fn run_error(&self) -> Option<&RunError> {
        match self {
            Error::Run(error) => Some(error.as_ref()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[derive(Debug, thiserror::Error)]
    #[error("reading goose_db_version failed")]
    struct Query {
        source: Io,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("connection reset by peer")]
    struct Io {
        source: Os,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("os error 104\nsecond line")]
    struct Os;

    #[derive(Debug, thiserror::Error)]
    #[error("permission denied for table goose_db_version")]
    struct Denied;

    #[test]
    fn debug_is_the_message_then_each_cause_not_already_shown() {
        // "version table: {0}" already shows the first cause's text: only the two below it are listed.
        let error = Error::VersionTable(Box::new(Query { source: Io { source: Os } }));
        assert_eq!(
            format!("{error:?}"),
            "version table: reading goose_db_version failed\n\
             \n\
             Caused by:\n\
             \x20   0: connection reset by peer\n\
             \x20   1: os error 104\n\
             \x20      second line"
        );
        // `main() -> Result<(), migrate::Error>` and `{:#?}` print the same text.
        assert_eq!(format!("{error:#?}"), format!("{error:?}"));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("listing the applied versions")]
    struct Listing {
        source: Denied,
    }

    #[test]
    fn one_cause_is_not_numbered() {
        let error = Error::VersionTable(Box::new(Listing { source: Denied }));
        assert_eq!(
            format!("{error:?}"),
            "version table: listing the applied versions\n\nCaused by:\n    permission denied for table goose_db_version"
        );
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn the_sqlx_error_behind_a_postgres_failure_is_not_listed_again() {
        // The driver's message describes it; below it sqlx would add its own wording.
        #[derive(Debug, thiserror::Error)]
        #[error("reading the version table: SQLSTATE 42501: permission denied")]
        struct Described {
            source: sqlx::Error,
        }
        let error = Error::VersionTable(Box::new(Described { source: sqlx::Error::PoolTimedOut }));
        assert_eq!(format!("{error:?}"), "version table: reading the version table: SQLSTATE 42501: permission denied");
        // The same error as an ordinary cause is listed.
        let plain = Error::VersionTable(Box::new(Listing { source: Denied }));
        assert!(format!("{plain:?}").ends_with("Caused by:\n    permission denied for table goose_db_version"));
    }

    #[test]
    fn debug_without_causes_is_the_message() {
        let error = Error::UnsupportedScheme { scheme: "mysql".to_owned() };
        assert_eq!(format!("{error:?}"), error.to_string());
        assert!(format!("{error:?}").starts_with("unsupported database URL scheme `mysql`"));
    }
}
