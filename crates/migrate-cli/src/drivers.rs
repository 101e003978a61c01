//! The one place that knows which database drivers exist: driver names and URL schemes map to a
//! [`DriverKind`], and [`open`] turns a DSN into a connected `Box<dyn Driver>`. Everything else in the
//! CLI works through `migrate::Driver`, so a new driver is an arm here.

use std::time::Duration;

use migrate::clickhouse::{ChConfig, ChConnSpec, ChDriver, ChError, ClusterConfig};
use migrate::postgres::{PgConfig, PgConnSpec, PgDriver, TableName};
use migrate::{Direction, Driver, Version};

use crate::env::Env;
use crate::error::CliError;
use crate::settings::ClusterFlags;

/// The databases the CLI can talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DriverKind {
    /// PostgreSQL (goose's `postgres`, `pgx` and `redshift`).
    Postgres,
    /// ClickHouse.
    ClickHouse,
}

impl DriverKind {
    /// goose's driver names.
    pub(crate) fn from_name(name: &str) -> Option<DriverKind> {
        match name {
            "postgres" | "postgresql" | "pgx" | "redshift" => Some(DriverKind::Postgres),
            "clickhouse" => Some(DriverKind::ClickHouse),
            _ => None,
        }
    }

    /// The driver a DSN names, decided by the library ([`migrate::DatabaseKind::of_url`]).
    pub(crate) fn from_dsn(dsn: &str) -> Option<DriverKind> {
        migrate::DatabaseKind::of_url(dsn).map(|kind| match kind {
            migrate::DatabaseKind::Postgres => DriverKind::Postgres,
            migrate::DatabaseKind::ClickHouse => DriverKind::ClickHouse,
        })
    }
}

/// How to open a driver.
#[derive(Debug, Clone)]
pub(crate) struct OpenOptions<'a> {
    /// The version table, as typed.
    pub(crate) table: &'a str,
    /// How long to wait for another runner's lock (the driver's default when `None`).
    pub(crate) lock_wait: Option<Duration>,
    /// A bound on connecting, tighter than the DSN's own (for `wait`'s attempts).
    pub(crate) connect_timeout: Option<Duration>,
    /// ClickHouse cluster mode, when asked for on the command line.
    pub(crate) cluster: Option<&'a ClusterFlags>,
    /// PostgreSQL: `SET LOCAL lock_timeout` in each migration's transaction.
    pub(crate) lock_timeout: Option<Duration>,
}

/// A parsed DSN: what the CLI needs to show and to protect before connecting.
pub(crate) enum Target {
    /// A PostgreSQL server.
    Postgres(Box<PgConnSpec>),
    /// A ClickHouse server (HTTP interface).
    ClickHouse(Box<ChConnSpec>),
}

impl Target {
    /// Parses a DSN for `kind`; `env` supplies libpq's `PG*` variables.
    pub(crate) fn parse(kind: DriverKind, dsn: &str, env: &Env) -> Result<Target, CliError> {
        match kind {
            DriverKind::Postgres => PgConnSpec::parse(dsn, &|name| env.lookup(name))
                .map(|spec| Target::Postgres(Box::new(spec)))
                .map_err(|error| CliError::BadArgument(dsn_error("PostgreSQL", dsn, &error.to_string()))),
            DriverKind::ClickHouse => ChConnSpec::parse(dsn)
                .map(|spec| Target::ClickHouse(Box::new(spec)))
                .map_err(|error| CliError::BadArgument(dsn_error("ClickHouse", dsn, &error.to_string()))),
        }
    }

    /// The log line naming the database before a run connects: driver, redacted DSN, where it came from,
    /// and a native ClickHouse port that was mapped to the HTTP one.
    pub(crate) fn describe(&self, origin: &str) -> String {
        match self {
            Target::Postgres(spec) => format!("using PostgreSQL {} (from {origin})", spec.redacted()),
            Target::ClickHouse(spec) => {
                let mapped = match spec.native_port {
                    Some(native) => format!(
                        "; native port {native} mapped to HTTP port {}, the interface this client speaks",
                        spec.port
                    ),
                    None => String::new(),
                };
                format!("using ClickHouse {} (from {origin}{mapped})", spec.redacted())
            }
        }
    }

    /// The server, password redacted.
    pub(crate) fn redacted(&self) -> String {
        match self {
            Target::Postgres(spec) => spec.redacted(),
            Target::ClickHouse(spec) => spec.redacted(),
        }
    }
}

/// A DSN syntax error as one line, with the likely cause of a URL that splits wrongly: a password holding
/// an unencoded `#`, `?`, `/` or `@` ends the URL's authority early (and what follows reads as a port).
fn dsn_error(driver: &str, dsn: &str, reason: &str) -> String {
    let mut text = format!("invalid {driver} DSN: {reason}");
    if dsn.contains("://") && (reason.contains("invalid port") || reason.contains("'@' after its host")) {
        text.push_str(
            "; a password holding #, ?, / or @ must be percent-encoded in a URL (%23, %3F, %2F, %40), or give \
             the parts instead (--db-host, --db-user, --db-name, and --db-password-env NAME or --db-password-file \
             PATH), which are encoded for you",
        );
    }
    text
}

/// Connects to the target.
pub(crate) async fn open(target: &Target, options: &OpenOptions<'_>) -> Result<Box<dyn Driver>, CliError> {
    match target {
        Target::Postgres(spec) => {
            if options.cluster.is_some() {
                return Err(CliError::Usage("--clickhouse-cluster applies to ClickHouse databases only".to_owned()));
            }
            let mut config =
                PgConfig { table: pg_table(options.table)?, lock_timeout: options.lock_timeout, ..PgConfig::default() };
            if let Some(lock_wait) = options.lock_wait {
                config.lock_wait = lock_wait;
            }
            let mut spec = spec.as_ref().clone();
            if let Some(limit) = options.connect_timeout {
                spec.connect_timeout = Some(spec.connect_timeout.map_or(limit, |own| own.min(limit)));
            }
            let driver =
                PgDriver::connect_spec(&spec, config).await.map_err(|error| CliError::failed(error.to_string()))?;
            Ok(Box::new(driver))
        }
        Target::ClickHouse(spec) => {
            let mut config = ChConfig { table: ch_table(options.table)?, ..ChConfig::default() };
            if let Some(lock_wait) = options.lock_wait {
                config.lock_wait = lock_wait;
            }
            if let Some(flags) = options.cluster {
                let mut cluster =
                    ClusterConfig::new(&flags.name).map_err(|error| CliError::Usage(error.to_string()))?;
                cluster.strict = flags.strict;
                if let Some(timeout) = flags.ddl_timeout {
                    cluster.ddl_timeout = timeout;
                }
                cluster.validate().map_err(|error| CliError::Usage(error.to_string()))?;
                config.cluster = Some(cluster);
            }
            let mut spec = spec.as_ref().clone();
            if let Some(limit) = options.connect_timeout {
                spec.connect_timeout = spec.connect_timeout.min(limit);
            }
            let driver = ChDriver::connect(&spec, config).await.map_err(|error| match error {
                // The server's own answer (a wrong password, an unknown database) does not say which server.
                ChError::Server(_) => CliError::failed(format!("{}: {error}", spec.redacted())),
                error => CliError::failed(error.to_string()),
            })?;
            Ok(Box::new(driver))
        }
    }
}

/// The statement that records (`Up`) or forgets (`Down`) a version, from the driver's own SQL.
pub(crate) fn version_row_sql(
    kind: DriverKind,
    table: &str,
    version: Version,
    direction: Direction,
) -> Result<String, CliError> {
    Ok(match kind {
        DriverKind::Postgres => migrate::postgres::version_row_sql(&pg_table(table)?, version, direction),
        DriverKind::ClickHouse => migrate::clickhouse::version_row_sql(&ch_table(table)?, version, direction),
    })
}

/// The version table's name as the driver writes it in SQL.
pub(crate) fn table_display(kind: DriverKind, table: &str) -> Result<String, CliError> {
    match kind {
        DriverKind::Postgres => Ok(pg_table(table)?.to_string()),
        DriverKind::ClickHouse => Ok(ch_table(table)?.to_string()),
    }
}

fn ch_table(table: &str) -> Result<migrate::clickhouse::TableName, CliError> {
    migrate::clickhouse::TableName::parse(table).map_err(|error| CliError::BadArgument(error.to_string()))
}

fn pg_table(table: &str) -> Result<TableName, CliError> {
    TableName::parse(table).map_err(|error| CliError::BadArgument(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_schemes() {
        for name in ["postgres", "pgx", "redshift"] {
            assert_eq!(DriverKind::from_name(name), Some(DriverKind::Postgres));
        }
        assert_eq!(DriverKind::from_name("clickhouse"), Some(DriverKind::ClickHouse));
        assert_eq!(DriverKind::from_name("mysql"), None);
        for dsn in ["postgres://h/db", "POSTGRESQL://h", "host=h dbname=d"] {
            assert_eq!(DriverKind::from_dsn(dsn), Some(DriverKind::Postgres), "{dsn}");
        }
        for dsn in ["clickhouse://h:9000", "tcp://h:9000", "http://h:8123", "https://h:8443"] {
            assert_eq!(DriverKind::from_dsn(dsn), Some(DriverKind::ClickHouse), "{dsn}");
        }
        assert_eq!(DriverKind::from_dsn("mysql://h"), None);
        assert_eq!(DriverKind::from_dsn("somefile.db"), None);
    }

    #[test]
    fn version_rows() {
        let v = Version::new(3).unwrap();
        assert_eq!(
            version_row_sql(DriverKind::Postgres, "goose_db_version", v, Direction::Up).unwrap(),
            "INSERT INTO \"goose_db_version\" (version_id, is_applied) VALUES (3, true)"
        );
        assert_eq!(
            version_row_sql(DriverKind::Postgres, "App.Versions", v, Direction::Down).unwrap(),
            "DELETE FROM \"app\".\"versions\" WHERE version_id=3"
        );
    }
}
