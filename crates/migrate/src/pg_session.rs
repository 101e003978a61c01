//! The PostgreSQL driver as the library runs it: migrate-postgres's `PgDriver` for everything it does, plus
//! the registered code migrations, which only the library has.
//!
//! A code migration in a transaction runs as a SQL one does: `BEGIN`, the function on the same connection,
//! the version row, `COMMIT`. The apply loop stays in migrate-core's runner, which calls the executor's code
//! hooks implemented here.

use async_trait::async_trait;
use migrate_core::{
    AppliedRow, BoxError, Capabilities, ChecksumRow, ChecksumStore, CodeFailure, Direction, Driver, Executor, Lock,
    Progress, ProgressStore, Statement, StatementFailure, Version, VersionStore,
};
use migrate_postgres::{PgConfig, PgConnSpec, PgDriver, PgError, TableName};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};
use sqlx::AssertSqlSafe;

use crate::code::{CodeMigration, ErasedCodeFn};
use crate::error::Error;
use crate::session::Settings;

/// A `PgDriver` that can also run code migrations.
pub(crate) struct PgSession {
    /// `None` once the connection was dropped after a failed rollback (which releases the session lock).
    driver: Option<PgDriver>,
    code: Vec<CodeMigration>,
}

impl PgSession {
    pub(crate) fn new(connection: PgConnection, settings: &Settings) -> Result<PgSession, Error> {
        let config = config(settings)?;
        Ok(PgSession { driver: Some(PgDriver::from_connection(connection, config)), code: settings.code.clone() })
    }

    pub(crate) async fn connect_url(url: &str, settings: &Settings) -> Result<PgSession, Error> {
        let config = config(settings)?;
        let spec = PgConnSpec::parse(url, &crate::env)?;
        let driver = PgDriver::connect_spec(&spec, config).await?;
        Ok(PgSession { driver: Some(driver), code: settings.code.clone() })
    }

    pub(crate) async fn connect(options: &PgConnectOptions, settings: &Settings) -> Result<PgSession, Error> {
        let config = config(settings)?;
        let target = describe_options(options);
        let driver = PgDriver::connect(options, None, &target, config).await?;
        Ok(PgSession { driver: Some(driver), code: settings.code.clone() })
    }

    pub(crate) async fn from_pool(pool: &PgPool, settings: &Settings) -> Result<PgSession, Error> {
        let config = config(settings)?;
        let target = describe_options(&pool.connect_options());
        let connection = pool.acquire().await.map_err(|source| PgError::Connect { target, source })?;
        // Detached, so the connection is closed after the command instead of returning to the pool.
        let driver = PgDriver::from_connection(connection.detach(), config);
        Ok(PgSession { driver: Some(driver), code: settings.code.clone() })
    }

    pub(crate) async fn close(self) {
        if let Some(driver) = self.driver {
            if let Err(error) = driver.close().await {
                tracing::warn!(error = %error, "closing the migration connection failed");
            }
        }
    }

    fn driver(&mut self) -> Result<&mut PgDriver, PgError> {
        self.driver.as_mut().ok_or(PgError::Closed)
    }

    /// Rolls back after a failure inside a transaction; if even that fails, drops the connection so the
    /// server ends the transaction and releases the session lock.
    async fn abandon_transaction(&mut self) {
        let Ok(driver) = self.driver() else {
            return;
        };
        let rolled_back = match driver.connection() {
            Ok(connection) => sqlx::raw_sql(AssertSqlSafe("ROLLBACK")).execute(connection).await.map(|_| ()),
            Err(_) => return,
        };
        if let Err(error) = rolled_back {
            tracing::warn!(error = %error, "ROLLBACK failed; closing the connection");
            self.driver = None;
        }
    }
}

/// The registered function for a version and direction.
fn function(code: &[CodeMigration], version: Version, direction: Direction) -> Option<&dyn ErasedCodeFn> {
    code.iter().find(|code| code.version() == version.get())?.function(direction)
}

/// The driver's configuration from the migrator's settings.
fn config(settings: &Settings) -> Result<PgConfig, Error> {
    let mut config = PgConfig::default();
    if let Some(table) = &settings.table {
        config.table = TableName::parse(table)?;
    }
    if let Some(key) = settings.lock_key {
        config.lock_key = key;
    }
    if let Some(timeout) = settings.lock_timeout {
        config.lock_wait = timeout;
    }
    config.lock_timeout = settings.statement_lock_timeout;
    Ok(config)
}

/// The server, for messages: host, port and database, never the password.
/// `host:port/database`, to name a server in errors (a password is never part of it).
pub(crate) fn describe_options(options: &PgConnectOptions) -> String {
    format!("{}:{}/{}", options.get_host(), options.get_port(), options.get_database().unwrap_or(""))
}

async fn simple(driver: &mut PgDriver, action: &'static str, sql: &'static str) -> Result<(), BoxError> {
    let connection = driver.connection()?;
    match sqlx::raw_sql(AssertSqlSafe(sql)).execute(connection).await {
        Ok(_) => Ok(()),
        Err(source) => Err(PgError::Query { action, source }.into()),
    }
}

/// `BEGIN`, the function, the version row, `COMMIT`; the caller rolls back on any error.
async fn code_transaction(
    driver: &mut PgDriver,
    function: &dyn ErasedCodeFn,
    record: Option<(Version, Direction)>,
) -> Result<(), CodeFailure> {
    simple(driver, "beginning the code migration's transaction", "BEGIN").await.map_err(CodeFailure::Bookkeeping)?;
    let connection = driver.connection().map_err(|error| CodeFailure::Bookkeeping(error.into()))?;
    function.call(connection).await.map_err(CodeFailure::Failed)?;
    if let Some((version, direction)) = record {
        driver.record(version, direction).await.map_err(CodeFailure::Bookkeeping)?;
    }
    simple(driver, "committing the code migration", "COMMIT").await.map_err(CodeFailure::Bookkeeping)
}

fn closed_statement() -> StatementFailure {
    StatementFailure::new(None, None, Box::new(PgError::Closed))
}

#[async_trait]
impl VersionStore for PgSession {
    async fn ensure_table(&mut self) -> Result<(), BoxError> {
        self.driver()?.ensure_table().await
    }

    async fn list_applied(&mut self) -> Result<Option<Vec<AppliedRow>>, BoxError> {
        self.driver()?.list_applied().await
    }

    async fn record(&mut self, version: Version, direction: Direction) -> Result<(), BoxError> {
        self.driver()?.record(version, direction).await
    }
}

#[async_trait]
impl Executor for PgSession {
    async fn execute(&mut self, statement: &Statement<'_>) -> Result<(), StatementFailure> {
        self.driver().map_err(|_| closed_statement())?.execute(statement).await
    }

    async fn execute_in_transaction(
        &mut self,
        statements: &[Statement<'_>],
        record: Option<(Version, Direction)>,
    ) -> Result<(), StatementFailure> {
        self.driver().map_err(|_| closed_statement())?.execute_in_transaction(statements, record).await
    }

    async fn execute_code(&mut self, version: Version, direction: Direction) -> Result<(), CodeFailure> {
        let Some(function) = function(&self.code, version, direction) else {
            return Err(CodeFailure::Unsupported);
        };
        let driver = self.driver.as_mut().ok_or_else(|| CodeFailure::Bookkeeping(PgError::Closed.into()))?;
        let connection = driver.connection().map_err(|error| CodeFailure::Bookkeeping(error.into()))?;
        function.call(connection).await.map_err(CodeFailure::Failed)
    }

    async fn execute_code_in_transaction(
        &mut self,
        version: Version,
        direction: Direction,
        record: Option<(Version, Direction)>,
    ) -> Result<(), CodeFailure> {
        let Some(function) = function(&self.code, version, direction) else {
            return Err(CodeFailure::Unsupported);
        };
        let driver = self.driver.as_mut().ok_or_else(|| CodeFailure::Bookkeeping(PgError::Closed.into()))?;
        let outcome = code_transaction(driver, function, record).await;
        if outcome.is_err() {
            self.abandon_transaction().await;
        }
        outcome
    }
}

#[async_trait]
impl Lock for PgSession {
    async fn acquire(&mut self) -> Result<(), BoxError> {
        self.driver()?.acquire().await
    }

    async fn release(&mut self) -> Result<(), BoxError> {
        match self.driver.as_mut() {
            Some(driver) => driver.release().await,
            None => Ok(()), // The connection was dropped, and the server released the session lock with it.
        }
    }
}

#[async_trait]
impl ProgressStore for PgSession {
    fn keeps_progress(&self) -> bool {
        self.driver.as_ref().is_some_and(ProgressStore::keeps_progress)
    }

    async fn list_progress(&mut self) -> Result<Vec<Progress>, BoxError> {
        self.driver()?.list_progress().await
    }

    async fn save_progress(&mut self, progress: &Progress) -> Result<(), BoxError> {
        self.driver()?.save_progress(progress).await
    }

    async fn clear_progress(&mut self, version: Version) -> Result<(), BoxError> {
        self.driver()?.clear_progress(version).await
    }
}

#[async_trait]
impl ChecksumStore for PgSession {
    fn keeps_checksums(&self) -> bool {
        self.driver.as_ref().is_some_and(ChecksumStore::keeps_checksums)
    }

    async fn list_checksums(&mut self) -> Result<Option<Vec<ChecksumRow>>, BoxError> {
        self.driver()?.list_checksums().await
    }

    async fn ensure_checksum_table(&mut self) -> Result<(), BoxError> {
        self.driver()?.ensure_checksum_table().await
    }

    async fn save_checksums(&mut self, rows: &[ChecksumRow]) -> Result<(), BoxError> {
        self.driver()?.save_checksums(rows).await
    }

    async fn delete_checksums(&mut self, versions: &[Version]) -> Result<(), BoxError> {
        self.driver()?.delete_checksums(versions).await
    }

    fn stage_checksum(&mut self, version: Version, row: Option<ChecksumRow>) {
        if let Some(driver) = self.driver.as_mut() {
            driver.stage_checksum(version, row);
        }
    }
}

impl Driver for PgSession {
    fn capabilities(&self) -> Capabilities {
        Capabilities { transactions: true }
    }
}
