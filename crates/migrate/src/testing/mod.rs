//! Helpers for a service's own integration tests against a real PostgreSQL server (feature `testing`):
//! a fresh, uniquely named database per test, and a check that every Down undoes its Up.
//!
//! Rust has no async `Drop`, so a [`TestDatabase`] is dropped with an explicit
//! [`TestDatabase::drop_database`] at the end of the test; one that is forgotten logs a warning and stays on
//! the server. Names start with `migrate_test_`, so leftovers are easy to find.
//!
//! ```no_run
//! use migrate::testing::{check_round_trip, TestDatabase};
//! use migrate::Migrator;
//!
//! static MIGRATIONS: migrate::EmbeddedSource = migrate::embed!("tests/migrations");
//! const SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
//!
//! # async fn test() -> Result<(), Box<dyn std::error::Error>> {
//! let migrator = Migrator::new(MIGRATIONS);
//!
//! // Every Down undoes its Up (run once per test suite).
//! check_round_trip(SERVER, &migrator).await?;
//!
//! // A migrated database for one test.
//! let mut db = TestDatabase::create(SERVER, &migrator).await?;
//! sqlx::query("INSERT INTO accounts (id, name) VALUES (1, 'ada')").execute(db.connection()).await?;
//! db.drop_database().await?;
//! # Ok(()) }
//! ```

mod round_trip;
mod schema;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use migrate_postgres::{PgConnSpec, PgError};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

use crate::error::Error;
use crate::migrator::Migrator;

pub use crate::testing::round_trip::{check_round_trip, RoundTripError};

/// A database created for one test, dropped by [`TestDatabase::drop_database`].
#[derive(Debug)]
pub struct TestDatabase {
    connection: PgConnection,
    options: PgConnectOptions,
    /// The server's maintenance database, where the test database is created and dropped.
    admin: PgConnectOptions,
    guard: DropGuard,
}

impl TestDatabase {
    /// Creates a fresh database on the server `server_url` names, applies `migrator`'s migrations to it and
    /// connects to it.
    ///
    /// `server_url` is any PostgreSQL URL or DSN on the server (usually its `postgres` database); its user
    /// needs the `CREATEDB` privilege.
    pub async fn create(server_url: &str, migrator: &Migrator) -> Result<TestDatabase, Error> {
        let db = TestDatabase::create_empty(server_url).await?;
        if let Err(error) = migrator.up(db.connect_options().clone()).await {
            let name = db.name().to_owned();
            if let Err(drop_error) = db.drop_database().await {
                tracing::warn!(database = %name, error = %drop_error, "dropping the test database failed");
            }
            return Err(error);
        }
        Ok(db)
    }

    /// Creates a fresh, empty database on the server `server_url` names and connects to it.
    pub async fn create_empty(server_url: &str) -> Result<TestDatabase, Error> {
        let spec = PgConnSpec::parse(server_url, &crate::env)?;
        let admin = spec.to_connect_options();
        let name = unique_name();
        let create = format!("CREATE DATABASE \"{name}\"");
        run_on(&admin, "creating the test database", create).await?;
        let options = admin.clone().database(&name);
        let connection = match connect(&options).await {
            Ok(connection) => connection,
            Err(error) => {
                if let Err(drop_error) = drop_named(&admin, &name).await {
                    tracing::warn!(database = %name, error = %drop_error, "dropping the test database failed");
                }
                return Err(error);
            }
        };
        tracing::debug!(database = %name, "test database created");
        Ok(TestDatabase { connection, options, admin, guard: DropGuard { name } })
    }

    /// The database's name (`migrate_test_<pid>_<n>_<time>`).
    pub fn name(&self) -> &str {
        &self.guard.name
    }

    /// Options that connect to the database, for the code under test to open its own pool.
    pub fn connect_options(&self) -> &PgConnectOptions {
        &self.options
    }

    /// A connection to the database, open until [`TestDatabase::drop_database`].
    pub fn connection(&mut self) -> &mut PgConnection {
        &mut self.connection
    }

    /// Closes the connection and drops the database, ending any session still connected to it (the
    /// service's pool, say).
    pub async fn drop_database(self) -> Result<(), Error> {
        let TestDatabase { connection, admin, mut guard, .. } = self;
        close(connection).await;
        drop_named(&admin, &guard.name).await?;
        tracing::debug!(database = %guard.name, "test database dropped");
        guard.name.clear();
        Ok(())
    }
}

/// Warns about a test database that was never dropped (its name is cleared once it is).
#[derive(Debug)]
struct DropGuard {
    name: String,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if !self.name.is_empty() {
            tracing::warn!(
                database = %self.name,
                "test database not dropped: call TestDatabase::drop_database at the end of the test"
            );
        }
    }
}

/// `WITH (FORCE)` ends the sessions still connected, such as a pool the test forgot to close.
async fn drop_named(admin: &PgConnectOptions, name: &str) -> Result<(), Error> {
    run_on(admin, "dropping the test database", format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await
}

/// Runs one statement on a connection of its own.
async fn run_on(options: &PgConnectOptions, action: &'static str, sql: String) -> Result<(), Error> {
    let mut connection = connect(options).await?;
    let outcome = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut connection).await;
    close(connection).await;
    match outcome {
        Ok(_) => Ok(()),
        Err(source) => Err(Error::Postgres(PgError::Query { action, source })),
    }
}

/// Unique across tests in one process (the counter), processes (the pid) and runs (the time), and a plain
/// lower-case identifier, so it can be quoted safely.
fn unique_name() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let micros = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_micros() % 1_000_000_000);
    format!("migrate_test_{}_{n}_{micros}", std::process::id())
}

async fn connect(options: &PgConnectOptions) -> Result<PgConnection, Error> {
    PgConnection::connect_with(options).await.map_err(|source| {
        Error::Postgres(PgError::Connect { target: crate::pg_session::describe_options(options), source })
    })
}

async fn close(connection: PgConnection) {
    if let Err(error) = connection.close().await {
        tracing::debug!(%error, "closing a test connection failed");
    }
}
