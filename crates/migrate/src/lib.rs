//! goose-compatible database migrations for PostgreSQL and ClickHouse.
//!
//! This facade re-exports the database-independent core (sources, the goose parser, the planner and the
//! runner) and, behind the `postgres` and `clickhouse` features, the drivers.
//!
//! ```no_run
//! # async fn start() -> Result<(), Box<dyn std::error::Error>> {
//! use migrate::postgres::{PgConfig, PgConnSpec, PgDriver};
//! use migrate::{migrate, resolve, Command, DirectorySource, PlanRequest, RunOptions};
//!
//! let spec = PgConnSpec::parse("postgres://app@db/app", &|_| None)?;
//! let mut driver = PgDriver::connect_spec(&spec, PgConfig::default()).await?;
//! let migrations = resolve(&DirectorySource::new("migrations"), &[])?;
//! let request = PlanRequest { command: Command::Up, allow_missing: false, no_versioning: false };
//! let outcome = migrate(&mut driver, &migrations, &request, &RunOptions { lock: true }, &|_| None, &mut |_| {}).await?;
//! println!("applied {} migrations", outcome.report.results.len());
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub use migrate_core::*;

/// The PostgreSQL driver.
#[cfg(feature = "postgres")]
pub use migrate_postgres as postgres;

/// The ClickHouse driver.
#[cfg(feature = "clickhouse")]
pub use migrate_clickhouse as clickhouse;
