//! Scratch databases: created with a unique name on the server of a connection spec, and always dropped:
//! by [`ScratchDatabase::drop_database`] on the normal path, and by the guard's `Drop` when a future
//! holding it is abandoned (an error returned early, a panic, a Ctrl-C that drops the command's future).
//!
//! `Drop` cannot await, so the guard drops the database from a thread with a runtime of its own and waits
//! for it: a process that exits right after (the CLI on SIGINT) leaves nothing behind.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use migrate_postgres::{PgConnSpec, PgError};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

use crate::error::Error;

/// The prefix of every scratch database's name, so a leftover (a `kill -9`) is easy to find.
pub const SCRATCH_PREFIX: &str = "migrate_scratch_";

/// A database that exists for one command, dropped when done.
#[derive(Debug)]
pub struct ScratchDatabase {
    /// Where it is created and dropped from: the spec's own database.
    server: PgConnectOptions,
    options: PgConnectOptions,
    /// Cleared once dropped, so `Drop` does nothing more.
    name: String,
}

impl ScratchDatabase {
    /// Creates an empty database named `migrate_scratch_<pid>_<n>_<time>` on the server `spec` names,
    /// with a connection to `spec`'s database (which `CREATE DATABASE` needs, and any database does).
    ///
    /// A role without `CREATEDB` gets [`Error::CreateDatabaseRefused`], which says what to do.
    pub async fn create(spec: &PgConnSpec) -> Result<ScratchDatabase, Error> {
        let server = spec.to_connect_options();
        let name = unique_name();
        let created = run_on(&server, &spec.redacted(), format!("CREATE DATABASE \"{name}\"")).await;
        match created {
            Ok(()) => {}
            Err(Error::Postgres(PgError::Query { source: sqlx::Error::Database(db), .. }))
                if db.code().as_deref() == Some("42501") =>
            {
                return Err(Error::CreateDatabaseRefused { server: spec.redacted() });
            }
            Err(error) => return Err(error),
        }
        tracing::debug!(database = %name, "scratch database created");
        let options = server.clone().database(&name);
        Ok(ScratchDatabase { server, options, name })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Options that connect to it.
    pub fn connect_options(&self) -> &PgConnectOptions {
        &self.options
    }

    /// Drops the database, ending any session still connected to it.
    pub async fn drop_database(mut self) -> Result<(), Error> {
        let name = std::mem::take(&mut self.name);
        drop_named(&self.server, &name).await?;
        tracing::debug!(database = %name, "scratch database dropped");
        Ok(())
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if self.name.is_empty() {
            return;
        }
        let name = std::mem::take(&mut self.name);
        let server = self.server.clone();
        let dropping = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            match runtime {
                Ok(runtime) => runtime.block_on(drop_named(&server, &name)).map_err(|e| e.to_string()),
                Err(error) => Err(format!("starting a runtime to drop {name} failed: {error}")),
            }
        });
        match dropping.join() {
            Ok(Ok(())) => tracing::debug!("scratch database dropped by its guard"),
            Ok(Err(error)) => tracing::warn!(%error, "dropping the scratch database failed"),
            Err(_) => tracing::warn!("dropping the scratch database panicked"),
        }
    }
}

/// `WITH (FORCE)` ends the sessions still connected: a migration's connection the command abandoned.
async fn drop_named(server: &PgConnectOptions, name: &str) -> Result<(), Error> {
    let target = format!("{}:{}", server.get_host(), server.get_port());
    run_on(server, &target, format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await
}

/// Runs one statement on a connection of its own.
async fn run_on(options: &PgConnectOptions, target: &str, sql: String) -> Result<(), Error> {
    let mut connection = PgConnection::connect_with(options)
        .await
        .map_err(|source| Error::Postgres(PgError::Connect { target: target.to_owned(), source }))?;
    let outcome = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut connection).await;
    let _ = connection.close().await;
    outcome.map(|_| ()).map_err(Error::query("creating or dropping the scratch database"))
}

/// Unique across calls in one process (the counter), processes (the pid) and runs (the time); a plain
/// lower-case identifier, so quoting it is safe.
fn unique_name() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let micros = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_micros() % 1_000_000_000);
    format!("{SCRATCH_PREFIX}{}_{n}_{micros}", std::process::id())
}
