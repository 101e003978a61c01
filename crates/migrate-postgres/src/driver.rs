//! The PostgreSQL driver: one dedicated connection that holds the session advisory lock, reads and writes
//! goose's version table, and sends each statement through the simple query protocol as goose does.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use migrate_core::{
    AppliedRow, BoxError, Canceller, Capabilities, ChecksumRow, ChecksumStore, Direction, Driver, Executor, Lock,
    ProgressStore, Statement, StatementFailure, Version, VersionStore,
};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

use crate::batch::{Batch, ErrorSite};
use crate::checksum_table::ChecksumTableSql;
use crate::error::{lost_connection, position, sqlstate, PgError, ServerError};
use crate::sql_text::{self, ConcurrentIndex};
use crate::table::{TableName, VersionTableSql};
use crate::version_row::applied_row;

/// `pid, application_name, client address, backend start` of the lock holder.
type HolderRow = (i32, Option<String>, Option<String>, Option<String>);

/// goose's advisory-lock key (the CRC-32 of "goose"), so migrate and goose runners exclude each other.
pub const GOOSE_LOCK_KEY: i64 = 4_097_083_626;

/// How the driver behaves. Start from [`PgConfig::default`] and change what you need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// The version table (default `goose_db_version`).
    pub table: TableName,
    /// The advisory-lock key (default goose's).
    pub lock_key: i64,
    /// How long to wait for another runner's lock before failing (default 5 minutes, as goose).
    pub lock_wait: Duration,
    /// `SET LOCAL lock_timeout` for each migration's transaction, when set.
    pub lock_timeout: Option<Duration>,
    /// `SET LOCAL statement_timeout` for each migration's transaction, when set.
    pub statement_timeout: Option<Duration>,
}

impl Default for PgConfig {
    fn default() -> PgConfig {
        PgConfig {
            table: TableName::goose_default(),
            lock_key: GOOSE_LOCK_KEY,
            lock_wait: Duration::from_secs(300),
            lock_timeout: None,
            statement_timeout: None,
        }
    }
}

/// A migration driver over one PostgreSQL connection.
#[derive(Debug)]
pub struct PgDriver {
    connection: Option<PgConnection>,
    sql: VersionTableSql,
    checksums: ChecksumTableSql,
    /// The checksum change the next version-row write makes in its transaction.
    staged_checksum: Option<String>,
    config: PgConfig,
    /// `SET LOCAL ...` sent at the start of each migration transaction (empty when no timeout is set).
    transaction_settings: String,
    /// How to reach the server again (for [`PgCanceller`]): known when the driver opened the connection.
    connect_options: Option<PgConnectOptions>,
    /// The connection's backend pid, learnt with the lock (0 until then).
    backend_pid: Arc<AtomicI32>,
    /// What `prefetch_history` read, for the next list calls (each taken once).
    prefetched: Prefetched,
}

/// The version and checksum rows read ahead; `None` when not read (or already taken).
#[derive(Debug, Default)]
struct Prefetched {
    applied: Option<Vec<AppliedRow>>,
    checksums: Option<Vec<ChecksumRow>>,
}

/// Cancels the statement a [`PgDriver`]'s connection runs, from another task: a second connection asks
/// `pg_cancel_backend` of the first one's backend, so its transaction fails and is rolled back.
#[derive(Debug, Clone)]
pub struct PgCanceller {
    options: PgConnectOptions,
    pid: Arc<AtomicI32>,
}

#[async_trait]
impl Canceller for PgCanceller {
    async fn cancel(&self) -> Result<bool, BoxError> {
        let pid = self.pid.load(Ordering::SeqCst);
        if pid == 0 {
            return Ok(false);
        }
        let mut side = PgConnection::connect_with(&self.options)
            .await
            .map_err(|source| PgError::Query { action: "connecting to cancel the migration in flight", source })?;
        let cancelled: bool =
            sqlx::query_scalar("SELECT pg_cancel_backend($1)")
                .bind(pid)
                .fetch_one(&mut side)
                .await
                .map_err(|source| PgError::Query { action: "cancelling the migration in flight", source })?;
        let _ = side.close().await;
        Ok(cancelled)
    }
}

impl PgDriver {
    /// Connects with the given options; `connect_timeout` bounds the whole handshake. `target` is the
    /// redacted server name used in errors.
    pub async fn connect(
        options: &PgConnectOptions,
        connect_timeout: Option<Duration>,
        target: &str,
        config: PgConfig,
    ) -> Result<PgDriver, PgError> {
        let connecting = PgConnection::connect_with(options);
        let connection = match connect_timeout {
            Some(timeout) => tokio::time::timeout(timeout, connecting)
                .await
                .map_err(|_| PgError::ConnectTimeout { target: target.to_owned(), timeout })?,
            None => connecting.await,
        }
        .map_err(|source| PgError::Connect { target: target.to_owned(), source })?;
        let mut driver = PgDriver::from_connection(connection, config);
        driver.connect_options = Some(options.clone());
        Ok(driver)
    }

    /// Connects to the server a parsed DSN names, enforcing its `connect_timeout`. Of a host list, only the
    /// first host is tried (said in a warning).
    pub async fn connect_spec(spec: &crate::dsn::PgConnSpec, config: PgConfig) -> Result<PgDriver, PgError> {
        if !spec.fallback_hosts.is_empty() {
            tracing::warn!(hosts = ?spec.fallback_hosts, "the DSN lists several hosts; only the first is used");
        }
        PgDriver::connect(&spec.to_connect_options(), spec.connect_timeout, &spec.redacted(), config).await
    }

    /// A driver over a connection the caller opened (keeping its TLS and session settings).
    pub fn from_connection(connection: PgConnection, config: PgConfig) -> PgDriver {
        let mut transaction_settings = String::new();
        if let Some(timeout) = config.lock_timeout {
            transaction_settings.push_str(&format!("SET LOCAL lock_timeout = {};", timeout.as_millis()));
        }
        if let Some(timeout) = config.statement_timeout {
            transaction_settings.push_str(&format!("SET LOCAL statement_timeout = {};", timeout.as_millis()));
        }
        PgDriver {
            connection: Some(connection),
            sql: VersionTableSql::new(&config.table),
            checksums: ChecksumTableSql::new(&config.table),
            staged_checksum: None,
            config,
            transaction_settings,
            connect_options: None,
            backend_pid: Arc::new(AtomicI32::new(0)),
            prefetched: Prefetched::default(),
        }
    }

    /// The connection, for callers that run their own queries between migrations.
    pub fn connection(&mut self) -> Result<&mut PgConnection, PgError> {
        self.connection.as_mut().ok_or(PgError::Closed)
    }

    /// Closes the connection cleanly.
    pub async fn close(mut self) -> Result<(), PgError> {
        match self.connection.take() {
            Some(connection) => {
                connection.close().await.map_err(|source| PgError::Query { action: "closing the connection", source })
            }
            None => Ok(()),
        }
    }

    /// Sends a multi-statement simple query; on failure, also how many of its commands completed first.
    async fn counting(&mut self, sql: &str) -> Result<(), (sqlx::Error, usize)> {
        use futures_util::StreamExt;
        self.prefetched = Prefetched::default();
        let connection = self.connection.as_mut().ok_or((sqlx::Error::PoolClosed, 0))?;
        let mut answers = sqlx::raw_sql(AssertSqlSafe(sql)).execute_many(connection);
        let mut completed = 0;
        while let Some(answer) = answers.next().await {
            match answer {
                Ok(_) => completed += 1,
                Err(error) => return Err((error, completed)),
            }
        }
        Ok(())
    }

    /// The index's name when it exists and is INVALID (`pg_index.indisvalid` false). A failed check
    /// (the connection gone, say) reads as "not known to be invalid": the statement's own result stands.
    async fn invalid_index(&mut self, regclass: &str) -> Option<String> {
        let connection = self.connection.as_mut()?;
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT i.indexrelid::regclass::text FROM pg_index i WHERE i.indexrelid = to_regclass($1) AND NOT i.indisvalid",
        )
        .bind(regclass)
        .fetch_optional(connection)
        .await
        .ok()?;
        row.map(|(name,)| name)
    }

    async fn simple(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        self.prefetched = Prefetched::default();
        let connection = self.connection.as_mut().ok_or(sqlx::Error::PoolClosed)?;
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(connection).await.map(|_| ())
    }

    /// Rolls back after a failure inside a transaction; if even that fails, closes the connection so the
    /// server ends the transaction and releases the session lock.
    async fn abandon_transaction(&mut self) {
        if let Err(error) = self.simple("ROLLBACK").await {
            tracing::warn!(error = %error, "ROLLBACK failed; closing the connection");
            self.connection = None;
        }
    }

    /// Asks the server (PostgreSQL 14+) to check every second that this client is still there, so a runner
    /// killed in the middle of a long statement has its transaction rolled back and its lock released
    /// within a second, not when the statement ends. Older servers do not know the setting; that is fine.
    async fn watch_for_dead_client(&mut self) {
        if let Err(error) = self.simple("SET client_connection_check_interval = 1000").await {
            tracing::debug!(error = %error, "client_connection_check_interval not available");
        }
    }

    async fn lock_holder(&mut self) -> Option<String> {
        let connection = self.connection.as_mut()?;
        let key = self.config.lock_key;
        let row: Option<HolderRow> = sqlx::query_as(
            "SELECT a.pid, a.application_name, host(a.client_addr), to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND l.classid = ($1 >> 32)::bigint::oid AND l.objid = ($1 & 4294967295)::bigint::oid LIMIT 1",
        )
        .bind(key)
        .fetch_optional(connection)
        .await
        .ok()?;
        row.map(|(pid, application_name, client, since)| {
            format!(
                "pid {pid} (application_name {:?}, client {}, connected since {})",
                application_name.unwrap_or_default(),
                client.as_deref().unwrap_or("local socket"),
                since.as_deref().unwrap_or("?")
            )
        })
    }
}

#[async_trait]
impl VersionStore for PgDriver {
    async fn ensure_table(&mut self) -> Result<(), BoxError> {
        let connection = self.connection.as_mut().ok_or(PgError::Closed)?;
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(&self.sql.regclass_name)
            .fetch_one(connection)
            .await
            .map_err(|source| PgError::Query { action: "checking for the version table", source })?;
        if exists {
            return Ok(());
        }
        // goose creates the table and its 0 row in one transaction.
        let create = format!("BEGIN; {}; {}; COMMIT", self.sql.create, self.sql.insert_zero);
        match self.simple(&create).await {
            Ok(()) => Ok(()),
            // Another runner (a goose without a lock, say) created it first: that is what we wanted.
            Err(error) if matches!(sqlstate(&error).as_deref(), Some("42P07" | "23505")) => {
                self.abandon_transaction().await;
                Ok(())
            }
            Err(source) => {
                self.abandon_transaction().await;
                Err(PgError::Query { action: "creating the version table", source }.into())
            }
        }
    }

    async fn list_applied(&mut self) -> Result<Option<Vec<AppliedRow>>, BoxError> {
        if let Some(rows) = self.prefetched.applied.take() {
            return Ok(Some(rows));
        }
        let connection = self.connection.as_mut().ok_or(PgError::Closed)?;
        // The simple query protocol: one round trip (a prepared statement would take two), which is most of
        // what a runner with nothing to do spends.
        let rows = sqlx::raw_sql(AssertSqlSafe(self.sql.list.as_str())).fetch_all(connection).await;
        match rows {
            Ok(rows) => rows
                .iter()
                .map(applied_row)
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
                .map_err(|source| PgError::Query { action: "reading a row of the version table", source }.into()),
            Err(error) if sqlstate(&error).as_deref() == Some("42P01") => Ok(None),
            Err(source) => Err(PgError::Query { action: "reading the version table", source }.into()),
        }
    }

    /// Both lists in one multi-statement simple query. A missing table (a first run) fails it: then nothing
    /// is kept and the lists are read one by one as usual.
    async fn prefetch_history(&mut self) {
        use futures_util::StreamExt;
        // Idempotent: what was read ahead and not yet used stays (the CLI reads ahead while it lists the
        // files, and the runner asks again).
        if self.prefetched.applied.is_some() || self.prefetched.checksums.is_some() {
            return;
        }
        let Some(connection) = self.connection.as_mut() else { return };
        let sql = format!("{};\n{}", self.sql.list, self.checksums.list);
        let mut answers = sqlx::raw_sql(AssertSqlSafe(sql)).fetch_many(connection);
        let (mut applied, mut checksums) = (Vec::new(), Vec::new());
        let mut statement = 0;
        while let Some(answer) = answers.next().await {
            match answer {
                Ok(sqlx::Either::Left(_)) => statement += 1,
                Ok(sqlx::Either::Right(row)) if statement == 0 => match applied_row(&row) {
                    Ok(row) => applied.push(row),
                    Err(_) => return,
                },
                Ok(sqlx::Either::Right(row)) => match checksum_row(&row) {
                    Ok(row) => checksums.push(row),
                    Err(_) => return,
                },
                Err(error) => {
                    tracing::trace!(error = %error, "reading the history ahead failed; reading it as usual");
                    return;
                }
            }
        }
        drop(answers);
        if statement == 2 {
            self.prefetched = Prefetched { applied: Some(applied), checksums: Some(checksums) };
        }
    }

    async fn record(&mut self, version: Version, direction: Direction) -> Result<(), BoxError> {
        // With a checksum change, both in one transaction (a multi-statement simple query is one).
        let sql = match self.staged_checksum.take() {
            Some(checksum) => format!("{};\n{checksum}", self.sql.record(version, direction)),
            None => self.sql.record(version, direction),
        };
        self.simple(&sql).await.map_err(|source| PgError::Query { action: "writing the version table", source }.into())
    }
}

#[async_trait]
impl Executor for PgDriver {
    /// Sends one statement (NO TRANSACTION migrations). A concurrent index build is checked afterwards:
    /// `CREATE INDEX CONCURRENTLY IF NOT EXISTS` succeeds over the INVALID index an earlier failed build
    /// left, which must not be recorded as applied; a failed build says which index it left INVALID.
    async fn execute(&mut self, statement: &Statement<'_>) -> Result<(), StatementFailure> {
        let concurrent = sql_text::concurrent_index(statement.text());
        let sent = self.simple(statement.text()).await;
        let invalid = match &concurrent {
            Some(ConcurrentIndex { regclass: Some(regclass) }) => self.invalid_index(regclass).await,
            _ => None,
        };
        match (sent, invalid) {
            (Ok(()), None) => Ok(()),
            (Ok(()), Some(index)) => Err(StatementFailure::new(None, None, Box::new(PgError::InvalidIndex { index }))),
            (Err(error), invalid) => {
                let mut failure = ServerError::new(error);
                match (&concurrent, invalid) {
                    (_, Some(index)) => failure = failure.with_invalid_index_note(Some(&index)),
                    (Some(ConcurrentIndex { regclass: None }), None) => failure = failure.with_invalid_index_note(None),
                    _ => {}
                }
                let position = position(failure.source_error());
                Err(StatementFailure::new(None, position, Box::new(failure)))
            }
        }
    }

    /// Sends the whole migration in as few round trips as possible: `BEGIN`, the statements and the
    /// version row with `COMMIT` in batches of multi-statement simple queries (one round trip for a small
    /// migration). A failure is mapped back to its statement through the server's error position, or, when
    /// it gives none, through the number of commands the server completed before it: nothing is ever
    /// sent a second time to find the statement.
    async fn execute_in_transaction(
        &mut self,
        statements: &[Statement<'_>],
        record: Option<(Version, Direction)>,
    ) -> Result<(), StatementFailure> {
        let prefix = format!("BEGIN;{}\n", self.transaction_settings);
        let checksum = self.staged_checksum.take().map(|sql| format!("{sql};\n")).unwrap_or_default();
        let suffix = match record {
            Some((version, direction)) => format!("{};\n{checksum}COMMIT", self.sql.record(version, direction)),
            None => "COMMIT".to_owned(),
        };
        let mut next = 0;
        loop {
            let (batch, after) = Batch::build(if next == 0 { &prefix } else { "" }, statements, next, &suffix);
            if let Err((error, completed)) = self.counting(&batch.sql).await {
                self.abandon_transaction().await;
                return Err(locate_failure(&batch, error, completed));
            }
            if after == statements.len() {
                return Ok(());
            }
            next = after;
        }
    }
}

/// The statement a failed batch stopped at, from the error's position or the commands completed before
/// it; a lost connection during `COMMIT` is said to leave the outcome unknown.
fn locate_failure(batch: &Batch, error: sqlx::Error, completed: usize) -> StatementFailure {
    let site = match position(&error) {
        Some(position) => batch.site(position),
        None => batch.site_after(completed),
    };
    match site {
        ErrorSite::Statement { index, position } => {
            let lock_timeout = sqlstate(&error).as_deref() == Some("55P03");
            StatementFailure::new(Some(index), position, Box::new(ServerError::new(error)))
                .with_lock_timeout(lock_timeout)
        }
        ErrorSite::Bookkeeping => {
            // Everything but COMMIT completed and then the connection went: the server may have committed.
            let commit_unknown = lost_connection(&error)
                && batch.has_bookkeeping()
                && completed + 1 == batch.commands()
                && batch.bookkeeping_commands() > 0;
            let error = if commit_unknown { ServerError::commit_unknown(error) } else { ServerError::new(error) };
            StatementFailure::new(None, None, Box::new(error))
        }
    }
}

#[async_trait]
impl Lock for PgDriver {
    async fn holder(&mut self) -> Option<String> {
        self.lock_holder().await
    }

    async fn acquire(&mut self) -> Result<(), BoxError> {
        // Under the lock the rows are read afresh: what another runner did while we waited counts.
        self.prefetched = Prefetched::default();
        let key = self.config.lock_key;
        let started = Instant::now();
        let mut delay = Duration::from_millis(20);
        let mut last_report: Option<Instant> = None;
        loop {
            let connection = self.connection.as_mut().ok_or(PgError::Closed)?;
            // Polling the non-blocking form: a session blocked in pg_advisory_lock would make any
            // CREATE INDEX CONCURRENTLY in the holder's migration wait for it (a deadlock).
            // The backend pid comes in the same answer: a canceller names the connection by it.
            let (acquired, pid): (bool, i32) = sqlx::query_as("SELECT pg_try_advisory_lock($1), pg_backend_pid()")
                .bind(key)
                .fetch_one(connection)
                .await
                .map_err(|source| PgError::Query { action: "taking the migration lock", source })?;
            self.backend_pid.store(pid, Ordering::SeqCst);
            if acquired {
                tracing::debug!(key, waited = ?started.elapsed(), "migration lock taken");
                self.watch_for_dead_client().await;
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= self.config.lock_wait {
                let holder = self.lock_holder().await;
                return Err(PgError::LockTimeout { key, waited, holder }.into());
            }
            if last_report.is_none_or(|at| at.elapsed() >= Duration::from_secs(5)) {
                let holder = self.lock_holder().await.unwrap_or_else(|| "another session".to_owned());
                tracing::info!(key, holder = %holder, waited = ?waited, "waiting for the migration lock");
                last_report = Some(Instant::now());
            }
            tokio::time::sleep(delay.min(self.config.lock_wait.saturating_sub(waited))).await;
            delay = (delay * 2).min(Duration::from_millis(500));
        }
    }

    async fn release(&mut self) -> Result<(), BoxError> {
        let key = self.config.lock_key;
        let Some(connection) = self.connection.as_mut() else {
            return Ok(()); // Closed: the server released the session lock with the session.
        };
        let released: Result<bool, sqlx::Error> =
            sqlx::query_scalar("SELECT pg_advisory_unlock($1)").bind(key).fetch_one(connection).await;
        match released {
            Ok(true) => Ok(()),
            Ok(false) => Err(PgError::LockNotHeld { key }.into()),
            Err(source) => {
                // Closing the session is the last way to release a session-level lock.
                self.connection = None;
                Err(PgError::Query {
                    action: "releasing the migration lock (the connection was closed instead)",
                    source,
                }
                .into())
            }
        }
    }
}

/// PostgreSQL migrations roll back as a whole; NO TRANSACTION ones are not resumed (goose's behaviour).
impl ProgressStore for PgDriver {}

#[async_trait]
impl ChecksumStore for PgDriver {
    fn keeps_checksums(&self) -> bool {
        true
    }

    async fn list_checksums(&mut self) -> Result<Option<Vec<ChecksumRow>>, BoxError> {
        if let Some(rows) = self.prefetched.checksums.take() {
            return Ok(Some(rows));
        }
        let connection = self.connection.as_mut().ok_or(PgError::Closed)?;
        // The simple protocol: one round trip, as for the version table.
        let rows = sqlx::raw_sql(AssertSqlSafe(self.checksums.list.as_str())).fetch_all(connection).await;
        match rows {
            Ok(rows) => rows
                .iter()
                .map(checksum_row)
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
                .map_err(|source| PgError::Query { action: "reading a row of the checksum table", source }.into()),
            Err(error) if sqlstate(&error).as_deref() == Some("42P01") => Ok(None),
            Err(source) => Err(PgError::Query { action: "reading the checksum table", source }.into()),
        }
    }

    async fn ensure_checksum_table(&mut self) -> Result<(), BoxError> {
        let create = self.checksums.create.clone();
        match self.simple(&create).await {
            // A concurrent creator (without our lock) won the race: the table is there.
            Err(error) if matches!(sqlstate(&error).as_deref(), Some("42P07" | "23505")) => Ok(()),
            other => other.map_err(|source| PgError::Query { action: "creating the checksum table", source }.into()),
        }
    }

    async fn save_checksums(&mut self, rows: &[ChecksumRow]) -> Result<(), BoxError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut sql = String::from("BEGIN;\n");
        for row in rows {
            sql.push_str(&self.checksums.upsert(row));
            sql.push_str(";\n");
        }
        sql.push_str("COMMIT");
        if let Err(source) = self.simple(&sql).await {
            self.abandon_transaction().await;
            return Err(PgError::Query { action: "writing the checksum table", source }.into());
        }
        Ok(())
    }

    async fn delete_checksums(&mut self, versions: &[Version]) -> Result<(), BoxError> {
        if versions.is_empty() {
            return Ok(());
        }
        let sql: Vec<String> = versions.iter().map(|version| self.checksums.delete(*version)).collect();
        self.simple(&sql.join(";\n"))
            .await
            .map_err(|source| PgError::Query { action: "deleting from the checksum table", source }.into())
    }

    fn stage_checksum(&mut self, version: Version, row: Option<ChecksumRow>) {
        self.staged_checksum = Some(match row {
            Some(row) => self.checksums.upsert(&row),
            None => self.checksums.delete(version),
        });
    }
}

/// A checksum-table row, read by position.
fn checksum_row(row: &sqlx::postgres::PgRow) -> Result<ChecksumRow, sqlx::Error> {
    use sqlx::Row;
    let version: i64 = row.try_get(0)?;
    let version = Version::new(version)
        .ok_or_else(|| sqlx::Error::Decode(format!("checksum row with version {version}, not above 0").into()))?;
    Ok(ChecksumRow {
        version,
        up: row.try_get(1)?,
        down: row.try_get(2)?,
        up_statements: row.try_get(3)?,
        no_transaction: row.try_get(4)?,
        tool_version: row.try_get(5)?,
        file_digest: row.try_get(6)?,
    })
}

impl Driver for PgDriver {
    fn capabilities(&self) -> Capabilities {
        Capabilities { transactions: true }
    }

    fn canceller(&self) -> Option<Arc<dyn Canceller>> {
        let options = self.connect_options.clone()?;
        Some(Arc::new(PgCanceller { options, pid: Arc::clone(&self.backend_pid) }))
    }

    fn server_major_version(&self) -> Option<u32> {
        // server_version_num, sent at start-up: 150019 for 15.19 (90624, major 9, for 9.6.24).
        Some(self.connection.as_ref()?.server_version_num()? / 10_000)
    }
}
