//! The crate's errors. None holds a password: servers are named by their redacted form, and driver
//! errors come through migrate-postgres's `PgError`, which never quotes one.

use migrate_postgres::PgError;

/// What went wrong reading, dumping or comparing a schema.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Connecting, or a catalog query, failed.
    #[error(transparent)]
    Postgres(#[from] PgError),
    /// The role may not create the scratch database.
    #[error(
        "creating a scratch database on {server} was refused: the role needs the CREATEDB privilege \
         (ALTER ROLE <role> CREATEDB), or give an empty database migrate may change with --shadow-url URL"
    )]
    CreateDatabaseRefused {
        /// The server, password redacted.
        server: String,
    },
    /// Applying migrations (or a dump) to the scratch or shadow database failed.
    #[error("{step}: {source}")]
    Migrate {
        /// What was being done.
        step: String,
        /// The library's error (it names the failing file and line).
        #[source]
        source: Box<migrate::Error>,
    },
    /// The version table name is not valid.
    #[error(transparent)]
    TableName(#[from] migrate_postgres::TableNameError),
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The migrator runs without versioning, so migrations cannot be rolled back one by one.
    #[error("schema test needs the version table: turn no-versioning off")]
    NoVersioning,
}

impl Error {
    /// A failed query, with what it was for.
    pub(crate) fn query(action: &'static str) -> impl Fn(sqlx::Error) -> Error {
        move |source| Error::Postgres(PgError::Query { action, source })
    }

    /// A failed step of the migrator.
    pub(crate) fn migrate(step: impl Into<String>) -> impl FnOnce(migrate::Error) -> Error {
        let step = step.into();
        move |source| Error::Migrate { step, source: Box::new(source) }
    }
}
