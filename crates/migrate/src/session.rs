//! Opening a database for one command. The URL's scheme picks the driver; each driver is one `Session`
//! variant and one `open_*` function, compiled only with its feature, so a service that enables one driver
//! never compiles the other.

use std::time::Duration;

use migrate_core::Driver;

#[cfg(feature = "postgres")]
use crate::code::CodeMigration;
use crate::database::{Database, DatabaseKind};
use crate::error::Error;
#[cfg(feature = "postgres")]
use crate::pg_session::PgSession;

/// The driver settings a [`Migrator`](crate::Migrator) carries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    /// The version table; the driver's default (goose's `goose_db_version`) when `None`.
    pub(crate) table: Option<String>,
    /// The lock key; goose's when `None`.
    pub(crate) lock_key: Option<i64>,
    /// How long to wait for another runner's lock; the driver's default when `None`.
    pub(crate) lock_timeout: Option<Duration>,
    /// PostgreSQL's `lock_timeout` in each migration's transaction.
    pub(crate) statement_lock_timeout: Option<Duration>,
    /// Registered code migrations.
    #[cfg(feature = "postgres")]
    pub(crate) code: Vec<CodeMigration>,
    /// ClickHouse cluster mode.
    #[cfg(feature = "clickhouse")]
    pub(crate) clickhouse_cluster: Option<migrate_clickhouse::ClusterConfig>,
}

impl Settings {
    fn has_code(&self) -> bool {
        #[cfg(feature = "postgres")]
        return !self.code.is_empty();
        #[cfg(not(feature = "postgres"))]
        return false;
    }
}

/// An open database: the driver the runner drives.
#[allow(clippy::large_enum_variant)] // One per command, on the stack of that command: boxing buys nothing.
pub(crate) enum Session {
    #[cfg(feature = "postgres")]
    Postgres(PgSession),
    #[cfg(feature = "clickhouse")]
    ClickHouse(migrate_clickhouse::ChDriver),
}

impl Session {
    pub(crate) fn driver(&mut self) -> &mut dyn Driver {
        // `*self`: with no driver feature the enum is empty, and only a place of that type matches nothing.
        match *self {
            #[cfg(feature = "postgres")]
            Session::Postgres(ref mut session) => session,
            #[cfg(feature = "clickhouse")]
            Session::ClickHouse(ref mut driver) => driver,
        }
    }

    /// Closes the connection, logging (not failing on) a close error: the command's outcome is already
    /// decided.
    pub(crate) async fn close(self) {
        match self {
            #[cfg(feature = "postgres")]
            Session::Postgres(session) => session.close().await,
            // HTTP: no session to close beyond dropping the client.
            #[cfg(feature = "clickhouse")]
            Session::ClickHouse(_) => {}
        }
    }
}

/// Opens the database for one command.
pub(crate) async fn open(database: Database<'_>, settings: &Settings) -> Result<Session, Error> {
    match database {
        Database::Url(url) => match backend(url)? {
            DatabaseKind::Postgres => open_postgres_url(url, settings).await,
            DatabaseKind::ClickHouse => open_clickhouse_url(url, settings).await,
        },
        #[cfg(feature = "postgres")]
        Database::PgOptions(options) => PgSession::connect(&options, settings).await.map(Session::Postgres),
        #[cfg(feature = "postgres")]
        Database::PgConnection(connection) => PgSession::new(*connection, settings).map(Session::Postgres),
        #[cfg(feature = "postgres")]
        Database::PgPool(pool) => PgSession::from_pool(pool, settings).await.map(Session::Postgres),
    }
}

/// The driver a URL names ([`DatabaseKind::of_url`]); an unknown scheme is named in the error (only the
/// scheme: the rest of the URL may hold a password).
fn backend(url: &str) -> Result<DatabaseKind, Error> {
    DatabaseKind::of_url(url).ok_or_else(|| match url.split_once("://") {
        Some((scheme, _)) => Error::UnsupportedScheme { scheme: scheme.to_owned() },
        None => Error::NotAUrl,
    })
}

#[cfg(feature = "postgres")]
async fn open_postgres_url(url: &str, settings: &Settings) -> Result<Session, Error> {
    PgSession::connect_url(url, settings).await.map(Session::Postgres)
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres_url(_url: &str, _settings: &Settings) -> Result<Session, Error> {
    Err(Error::DriverUnavailable {
        driver: "postgres",
        reason: "this build of migrate has no PostgreSQL driver: enable the `postgres` feature",
    })
}

/// ClickHouse over its HTTP interface. Code migrations need a transaction, which ClickHouse has not.
#[cfg(feature = "clickhouse")]
async fn open_clickhouse_url(url: &str, settings: &Settings) -> Result<Session, Error> {
    let spec = migrate_clickhouse::ChConnSpec::parse(url)?;
    if settings.has_code() {
        return Err(Error::CodeMigrationsUnsupported { driver: "clickhouse" });
    }
    let mut config = migrate_clickhouse::ChConfig::default();
    if let Some(table) = &settings.table {
        config.table = migrate_clickhouse::TableName::parse(table)?;
    }
    if let Some(lock_timeout) = settings.lock_timeout {
        config.lock_wait = lock_timeout;
    }
    config.cluster = settings.clickhouse_cluster.clone();
    let driver = migrate_clickhouse::ChDriver::connect(&spec, config).await?;
    Ok(Session::ClickHouse(driver))
}

#[cfg(not(feature = "clickhouse"))]
async fn open_clickhouse_url(_url: &str, settings: &Settings) -> Result<Session, Error> {
    if settings.has_code() {
        return Err(Error::CodeMigrationsUnsupported { driver: "clickhouse" });
    }
    Err(Error::DriverUnavailable {
        driver: "clickhouse",
        reason: "this build of migrate has no ClickHouse driver: enable the `clickhouse` feature",
    })
}
