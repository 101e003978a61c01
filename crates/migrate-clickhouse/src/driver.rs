//! The ClickHouse driver: migration statements go one by one through one HTTP session (so a `SET` carries
//! over, as on goose's native connection); the version table, the progress log and the lock are written
//! outside that session.
//!
//! ClickHouse has no transactions: the driver says so ([`Capabilities`] `transactions: false`), the runner
//! sends each statement on its own, records progress after each one, and records the version at the end.
//!
//! In cluster mode ([`ChConfig::cluster`]) the same steps go through the `cluster` module: its tables are
//! replicated and synced before reads, `ON CLUSTER` statements are confirmed on every host, and the lock's
//! claims are quorum inserts.

use std::time::Duration;

use async_trait::async_trait;
use migrate_core::{
    AppliedRow, BoxError, Capabilities, ChecksumRow, ChecksumStore, Direction, Driver, Executor, Lock, Progress,
    ProgressStore, Statement, StatementFailure, Version, VersionStore,
};

use crate::cluster::{check_statement, run_on_cluster, ClusterConfig, ClusterSql, DdlSettings, Quorum, Replicas};
use crate::dsn::ChConnSpec;
use crate::error::{code, ChError, ClusterError};
use crate::http::{Bookkeeping, ChClient, RequestOptions};
use crate::lock::{owner_id, LeaseLock};
use crate::progress::{parse_row as parse_progress, Sequence};
use crate::sql::Sql;
use crate::table::TableName;

/// How the driver behaves. Start from [`ChConfig::default`] and change what you need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChConfig {
    /// goose's version table (default `goose_db_version`); the companion tables are `<table>_progress` and
    /// `<table>_lock` in the same database.
    pub table: TableName,
    /// How long to wait for another runner's lock before failing (default 5 minutes, as goose's lockers).
    pub lock_wait: Duration,
    /// How long a lock claim lives without renewal (default 30 s, renewed every sixth of it, as goose's
    /// table locker; at least 5 s). A crashed runner's lock is taken over after this.
    pub lock_lease: Duration,
    /// How long to wait for a version-table deletion (a mutation) to finish (default 5 minutes).
    pub mutation_wait: Duration,
    /// Cluster mode (default off, unless the DSN has `x-cluster`, `x-cluster-name` or `cluster`): the
    /// driver's tables replicated `ON CLUSTER` and `ON CLUSTER` statements confirmed on every host; see
    /// [`ClusterConfig`]. When both this and the DSN name a cluster, they must agree.
    pub cluster: Option<ClusterConfig>,
}

impl Default for ChConfig {
    fn default() -> ChConfig {
        ChConfig {
            table: TableName::goose_default(),
            lock_wait: Duration::from_secs(300),
            lock_lease: Duration::from_secs(30),
            mutation_wait: Duration::from_secs(300),
            cluster: None,
        }
    }
}

/// A migration driver over ClickHouse's HTTP interface.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use migrate_clickhouse::{ChConfig, ChConnSpec, ChDriver};
/// use migrate_core::{migrate, resolve, Command, DirectorySource, PlanRequest, RunOptions};
///
/// let spec = ChConnSpec::parse("clickhouse://default@127.0.0.1:9000/analytics")?;
/// let mut driver = ChDriver::connect(&spec, ChConfig::default()).await?;
/// let migrations = resolve(&DirectorySource::new("migrations"), &[])?;
/// let request = PlanRequest { command: Command::Up, allow_missing: false, no_versioning: false };
/// migrate(&mut driver, &migrations, &request, &RunOptions::default(), &|_| None, &mut |_| {}).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ChDriver {
    client: ChClient,
    bookkeeping: Bookkeeping,
    session: String,
    sql: Sql,
    config: ChConfig,
    server_version: String,
    /// Whether goose's `... SETTINGS mutations_sync = 2` delete works here (not on 18.x).
    sync_delete: bool,
    lock: LeaseLock,
    sequence: Sequence,
    /// The per-query settings of `ON CLUSTER` statements, in cluster mode.
    ddl: Option<DdlSettings>,
    /// The checksum change of the step running now, confirmed by its version row.
    staged_checksum: Option<(i64, Option<ChecksumRow>)>,
    /// Confirmed checksum changes, written in one INSERT when the lock is released (one request per run
    /// instead of one per migration; a run killed before it is adopted by the next run from the files).
    pending_checksums: Vec<(i64, Option<ChecksumRow>)>,
}

impl ChDriver {
    /// Connects to the server a parsed DSN names: reads its version and settings once.
    pub async fn connect(spec: &ChConnSpec, config: ChConfig) -> Result<ChDriver, ChError> {
        let client = ChClient::new(spec)?;
        let facts = client.query(Sql::server_facts()).await?;
        let server_version = facts_of(&facts, "version").next().cloned().unwrap_or_default();
        let knows = |name: &str| facts_of(&facts, "setting").any(|known| known == name);
        // Our own reads must see our own writes at once, whatever the DSN sets for the migrations.
        let mut overrides: Vec<(&'static str, &'static str)> =
            [("async_insert", "0"), ("use_query_cache", "0")].into_iter().filter(|(name, _)| knows(name)).collect();
        if !spec.fallback_hosts.is_empty() {
            tracing::warn!(hosts = ?spec.fallback_hosts, "the DSN lists several hosts; only the first is used");
        }
        let mut config = config;
        config.cluster = cluster_config(&config, spec)?;
        let (sql, ddl) = match &config.cluster {
            Some(cluster) => {
                cluster.validate().map_err(ClusterError::from)?;
                let rows = client.query(&ClusterSql::new(cluster).cluster_hosts()).await?;
                let hosts = rows.first().and_then(|row| row.first()).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
                if hosts == 0 {
                    let target = client.target().to_owned();
                    return Err(ClusterError::UnknownCluster { target, cluster: cluster.name().to_owned() }.into());
                }
                // Current releases' `distributed_ddl_output_mode` changes what an ON CLUSTER statement answers.
                let output_mode = knows("distributed_ddl_output_mode");
                // A replicated table drops an insert identical to a recent one: goose's version row for
                // an up, a down and an up again within a second would be lost.
                overrides.push(("insert_deduplicate", "0"));
                // The DSN's settings go with every request: a quorum set there would make version rows
                // quorum parts, which 18.16 never mutates (a rollback's delete would not take effect), and
                // sequential consistency would hide rows inserted without quorum. Only the lock's claims
                // use a quorum, set per insert.
                overrides.extend([("insert_quorum", "0"), ("select_sequential_consistency", "0")]);
                tracing::debug!(cluster = %cluster.name(), hosts, "cluster mode");
                let sql = Sql::for_cluster(&config.table, &spec.database, cluster);
                (sql, Some(DdlSettings::new(cluster.ddl_timeout_secs(), output_mode)))
            }
            None => (Sql::new(&config.table, &spec.database), None),
        };
        let owner = owner_id();
        tracing::debug!(server = %client.target(), version = %server_version, owner = %owner, "connected to ClickHouse");
        Ok(ChDriver {
            bookkeeping: Bookkeeping::new(client.clone(), overrides),
            session: format!("migrate-{owner}"),
            sql,
            sync_delete: knows("mutations_sync"),
            lock: LeaseLock::new(owner, config.lock_lease, config.lock_wait),
            sequence: Sequence::default(),
            ddl,
            staged_checksum: None,
            pending_checksums: Vec::new(),
            server_version,
            client,
            config,
        })
    }

    /// The client, for callers that run their own queries (outside the migration session).
    pub fn client(&self) -> &ChClient {
        &self.client
    }

    /// The server's `version()`, such as `18.16.1`.
    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    /// This driver's id in the lock table (`host-pid-random`).
    pub fn owner(&self) -> &str {
        self.lock.owner()
    }

    /// The configuration.
    pub fn config(&self) -> &ChConfig {
        &self.config
    }

    /// Cluster mode's operations on the driver's replicated tables.
    fn replicas(&self) -> Option<Replicas<'_>> {
        let (cluster, sql, ddl) = (self.config.cluster.as_ref()?, self.sql.cluster()?, self.ddl.as_ref()?);
        Some(Replicas {
            bk: &self.bookkeeping,
            sql,
            ddl,
            host_wait: cluster.ddl_timeout,
            mutation_wait: self.config.mutation_wait,
        })
    }

    /// Deletes a version's rows and waits until the mutation is done: the server waits for it with
    /// `mutations_sync = 2` (every replica), older servers are polled.
    async fn delete_version(&mut self, version: i64) -> Result<(), ChError> {
        if self.sync_delete {
            match self.bookkeeping.execute(&self.sql.delete_version_sync(version)).await {
                Ok(_) => return Ok(()),
                Err(error) if matches!(error.code(), Some(code::SYNTAX_ERROR | code::UNKNOWN_SETTING)) => {
                    tracing::debug!(error = %error, "the server rejects SETTINGS mutations_sync; polling instead");
                    self.sync_delete = false;
                }
                Err(error) => return Err(error),
            }
        }
        self.bookkeeping.execute(&self.sql.delete_version_async(version)).await?;
        self.wait_for_mutations().await
    }

    /// Waits until no mutation of the version table is pending, so reads see completed deletes; in cluster
    /// mode, until every mutation registered in ZooKeeper is done on this replica.
    async fn wait_for_mutations(&self) -> Result<(), ChError> {
        if let Some(replicas) = self.replicas() {
            let table = self.sql.version_table();
            return match replicas.state(table).await? {
                Some(state) => replicas.wait_for_mutations(table, &state.zookeeper_path).await,
                None => Ok(()),
            };
        }
        let table = self.config.table.to_string();
        let sql = self.sql.pending_mutations();
        self.bookkeeping.wait_for_mutations(&sql, "reading system.mutations", &table, self.config.mutation_wait).await
    }

    /// The version table's rows and the count of its pending mutations, or `None` when it is missing.
    async fn read_versions(&self) -> Result<Option<(Vec<AppliedRow>, u64)>, ChError> {
        let rows = match self.bookkeeping.query(&self.sql.list_versions()).await {
            Ok(rows) => rows,
            Err(error) if error.code() == Some(code::UNKNOWN_TABLE) => return Ok(None),
            Err(error) => return Err(error),
        };
        let pending = match rows.first() {
            Some(row) => pending_count(row)?,
            // No rows: nothing a pending delete could still remove.
            None => 0,
        };
        Ok(Some((rows.iter().map(|row| parse_row(row)).collect::<Result<_, _>>()?, pending)))
    }

    /// Creates the progress table when it is missing (`ON CLUSTER` in cluster mode).
    async fn create_progress_table(&self) -> Result<(), ChError> {
        match self.replicas() {
            Some(replicas) => {
                replicas.ensure(self.sql.progress_table(), &self.sql.create_progress_table()).await.map(|_| ())
            }
            None => self.bookkeeping.execute_create(&self.sql.create_progress_table()).await,
        }
    }

    async fn next_seq(&mut self) -> Result<u64, ChError> {
        if self.sequence.needs_start() {
            let max = match self.bookkeeping.number(&self.sql.max_progress_seq(), "reading migration progress").await {
                Ok(max) => max,
                Err(error) if error.code() == Some(code::UNKNOWN_TABLE) => {
                    self.create_progress_table().await?;
                    0
                }
                Err(error) => return Err(error),
            };
            self.sequence.start(max);
        }
        Ok(self.sequence.next())
    }

    async fn write_progress(
        &mut self,
        version: i64,
        direction: &str,
        done: usize,
        total: usize,
        checksum: &str,
    ) -> Result<(), ChError> {
        self.lock.check()?;
        let seq = self.next_seq().await?;
        let sql = self.sql.save_progress(version, direction, done as u64, total as u64, checksum, seq);
        self.bookkeeping.execute(&sql).await.map(|_| ())
    }

    async fn run_statement(&self, statement: &Statement<'_>) -> Result<(), StatementFailure> {
        self.lock.check().map_err(|error| StatementFailure::new(None, None, Box::new(error)))?;
        let text = statement.text();
        let sent = match (self.config.cluster.as_ref(), self.sql.cluster(), self.ddl.as_ref()) {
            (Some(cluster), Some(cluster_sql), Some(ddl)) => {
                let checked = check_statement(text);
                if !checked.problems.is_empty() {
                    if cluster.strict {
                        let error = ChError::from(ClusterError::Refused { problems: checked.problems });
                        return Err(StatementFailure::new(None, None, Box::new(error)));
                    }
                    for problem in &checked.problems {
                        tracing::warn!(line = statement.line(), problem = %problem, "cluster mode: this statement leaves the hosts different");
                    }
                }
                match checked.shape.on_cluster {
                    Some(_) => run_on_cluster(&self.bookkeeping, cluster_sql, ddl, text, Some(&self.session)).await,
                    None => self.send_in_session(text).await,
                }
            }
            _ => self.send_in_session(text).await,
        };
        match sent {
            Ok(_) => Ok(()),
            Err(error) => {
                let position = match &error {
                    ChError::Server(server) => server.position().map(|p| char_position(text, p)),
                    _ => None,
                };
                Err(StatementFailure::new(None, position, Box::new(error)))
            }
        }
    }

    async fn send_in_session(&self, text: &str) -> Result<String, ChError> {
        self.client.send(text, RequestOptions { session: Some(&self.session), overrides: &[], timeout: None }).await
    }
}

/// Cluster mode from the configuration or the DSN; both may name it, but then the same cluster.
fn cluster_config(config: &ChConfig, spec: &ChConnSpec) -> Result<Option<ClusterConfig>, ChError> {
    match (&config.cluster, &spec.cluster) {
        (Some(option), Some(dsn)) if option.name() != dsn => {
            Err(ClusterError::Mismatch { dsn: dsn.clone(), option: option.name().to_owned() }.into())
        }
        (Some(option), _) => Ok(Some(option.clone())),
        (None, Some(dsn)) => Ok(Some(ClusterConfig::new(dsn).map_err(ClusterError::from)?)),
        (None, None) => Ok(None),
    }
}

/// The 1-based character position of ClickHouse's 1-based byte position.
fn char_position(text: &str, byte_position: usize) -> usize {
    text.char_indices().take_while(|(index, _)| *index < byte_position.saturating_sub(1)).count() + 1
}

/// The values of the `kind` rows of the server-facts answer (`kind, value` rows).
fn facts_of<'a>(facts: &'a [Vec<String>], kind: &'a str) -> impl Iterator<Item = &'a String> + 'a {
    facts.iter().filter(move |row| row.first().is_some_and(|k| k == kind)).filter_map(|row| row.get(1))
}

/// The pending-mutations column of a listing row.
fn pending_count(row: &[String]) -> Result<u64, ChError> {
    row.get(3)
        .and_then(|count| count.parse().ok())
        .ok_or_else(|| ChError::Unexpected { action: "reading the version table", text: row.join("\t") })
}

/// A listing row: `version_id, is_applied, tstamp, pending mutations`.
fn parse_row(row: &[String]) -> Result<AppliedRow, ChError> {
    let unexpected = || ChError::Unexpected { action: "reading the version table", text: row.join("\t") };
    let [version, is_applied, tstamp, _pending] = row else { return Err(unexpected()) };
    let version = version.parse().map_err(|_| unexpected())?;
    let is_applied = match is_applied.as_str() {
        "1" => true,
        "0" => false,
        _ => return Err(unexpected()),
    };
    // DateTime as the server prints it, in its time zone: goose shows that wall-clock time too.
    let applied_at = migrate_core::parse_applied_at(tstamp);
    Ok(AppliedRow::new(version, is_applied, applied_at))
}

#[async_trait]
impl VersionStore for ChDriver {
    async fn ensure_table(&mut self) -> Result<(), BoxError> {
        self.lock.check()?;
        let zero_rows = match self.replicas() {
            Some(replicas) => {
                replicas.ensure(self.sql.version_table(), &self.sql.create_version_table()).await?;
                replicas.sync(self.sql.version_table()).await?;
                self.bookkeeping.number::<u64>(&self.sql.count_zero_rows(), "probing the version table").await?
            }
            None => {
                match self.bookkeeping.number::<u64>(&self.sql.count_zero_rows(), "probing the version table").await {
                    Ok(count) => count,
                    Err(error) if error.code() == Some(code::UNKNOWN_TABLE) => {
                        self.bookkeeping.execute_create(&self.sql.create_version_table()).await?;
                        0
                    }
                    Err(error) => return Err(error.into()),
                }
            }
        };
        if zero_rows == 0 {
            // goose writes (0, true) with the table; a table without it gets it now, as goose's Provider does.
            self.bookkeeping.execute(&self.sql.insert_version(0)).await?;
        }
        self.create_progress_table().await?;
        Ok(())
    }

    async fn list_applied(&mut self) -> Result<Option<Vec<AppliedRow>>, BoxError> {
        if let Some(replicas) = self.replicas() {
            // The replica is brought up to date, mutations included, before the read.
            if !replicas.sync(self.sql.version_table()).await? {
                return Ok(None);
            }
            return Ok(self.read_versions().await?.map(|(rows, _)| rows));
        }
        // A rollback's delete still running would leave its rows visible: read, and when the read says a
        // mutation was pending, wait for it and read again.
        loop {
            match self.read_versions().await? {
                Some((rows, 0)) => return Ok(Some(rows)),
                Some(_) => self.wait_for_mutations().await?,
                None => return Ok(None),
            }
        }
    }

    async fn record(&mut self, version: Version, direction: Direction) -> Result<(), BoxError> {
        self.lock.check()?;
        match direction {
            Direction::Up => self.bookkeeping.execute(&self.sql.insert_version(version.get())).await.map(|_| ())?,
            Direction::Down => self.delete_version(version.get()).await?,
        }
        if let Some(staged) = self.staged_checksum.take() {
            self.pending_checksums.push(staged);
        }
        Ok(())
    }
}

#[async_trait]
impl Executor for ChDriver {
    async fn execute(&mut self, statement: &Statement<'_>) -> Result<(), StatementFailure> {
        self.run_statement(statement).await
    }

    /// ClickHouse has no transactions and the runner never asks for one (see [`Driver::capabilities`]);
    /// should it, the statements and the record run one after another, without atomicity.
    async fn execute_in_transaction(
        &mut self,
        statements: &[Statement<'_>],
        record: Option<(Version, Direction)>,
    ) -> Result<(), StatementFailure> {
        for (index, statement) in statements.iter().enumerate() {
            self.run_statement(statement).await.map_err(|mut failure| {
                failure.statement = Some(index);
                failure
            })?;
        }
        if let Some((version, direction)) = record {
            self.record(version, direction).await.map_err(|error| StatementFailure::new(None, None, error))?;
        }
        Ok(())
    }
}

#[async_trait]
impl Lock for ChDriver {
    async fn holder(&mut self) -> Option<String> {
        crate::lock::holder(&self.bookkeeping, &self.sql).await
    }

    async fn acquire(&mut self) -> Result<(), BoxError> {
        self.sequence.reset();
        let quorum = match self.replicas() {
            Some(replicas) => {
                replicas.ensure(self.sql.lock_table(), &self.sql.create_lock_table()).await?;
                Some(Quorum::new(replicas.wait_active(self.sql.lock_table()).await?))
            }
            None => {
                self.bookkeeping.execute_create(&self.sql.create_lock_table()).await?;
                None
            }
        };
        self.lock.set_quorum(quorum);
        self.lock.acquire(&self.bookkeeping, &self.sql).await?;
        Ok(())
    }

    async fn release(&mut self) -> Result<(), BoxError> {
        self.staged_checksum = None;
        let pending = std::mem::take(&mut self.pending_checksums);
        if let Err(error) = self.write_checksums(&pending).await {
            // The next locked run records them from the files (they are the files that just ran).
            tracing::warn!(error = %error, "recording the migrations' checksums failed; the next run records them");
        }
        self.sequence.reset();
        self.lock.release(&self.bookkeeping, &self.sql).await?;
        Ok(())
    }
}

#[async_trait]
impl ProgressStore for ChDriver {
    fn keeps_progress(&self) -> bool {
        true
    }

    async fn list_progress(&mut self) -> Result<Vec<Progress>, BoxError> {
        if let Some(replicas) = self.replicas() {
            if !replicas.sync(self.sql.progress_table()).await? {
                return Ok(Vec::new());
            }
        }
        match self.bookkeeping.query(&self.sql.list_progress()).await {
            Ok(rows) => Ok(rows.iter().map(|row| parse_progress(row)).collect::<Result<_, _>>()?),
            Err(error) if error.code() == Some(code::UNKNOWN_TABLE) => Ok(Vec::new()),
            Err(error) => Err(error.into()),
        }
    }

    async fn save_progress(&mut self, progress: &Progress) -> Result<(), BoxError> {
        let direction = progress.direction.as_str();
        let (version, done, total) = (progress.version.get(), progress.done, progress.total);
        self.write_progress(version, direction, done, total, &progress.checksum).await?;
        Ok(())
    }

    async fn clear_progress(&mut self, version: Version) -> Result<(), BoxError> {
        self.write_progress(version.get(), "", 0, 0, "").await?;
        Ok(())
    }
}

#[async_trait]
impl ChecksumStore for ChDriver {
    fn keeps_checksums(&self) -> bool {
        true
    }

    async fn list_checksums(&mut self) -> Result<Option<Vec<ChecksumRow>>, BoxError> {
        if let Some(replicas) = self.replicas() {
            if !replicas.sync(self.sql.checksum_table()).await? {
                return Ok(None);
            }
        }
        match self.bookkeeping.query(&self.sql.list_checksums()).await {
            Ok(rows) => Ok(Some(rows.iter().map(|row| parse_checksum_row(row)).collect::<Result<_, _>>()?)),
            Err(error) if error.code() == Some(code::UNKNOWN_TABLE) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    async fn ensure_checksum_table(&mut self) -> Result<(), BoxError> {
        match self.replicas() {
            Some(replicas) => {
                replicas.ensure(self.sql.checksum_table(), &self.sql.create_checksum_table()).await.map(|_| ())?
            }
            None => self.bookkeeping.execute_create(&self.sql.create_checksum_table()).await?,
        }
        Ok(())
    }

    async fn save_checksums(&mut self, rows: &[ChecksumRow]) -> Result<(), BoxError> {
        let changes: Vec<(i64, Option<ChecksumRow>)> =
            rows.iter().map(|row| (row.version.get(), Some(row.clone()))).collect();
        Ok(self.write_checksums(&changes).await?)
    }

    async fn delete_checksums(&mut self, versions: &[Version]) -> Result<(), BoxError> {
        let changes: Vec<(i64, Option<ChecksumRow>)> = versions.iter().map(|version| (version.get(), None)).collect();
        Ok(self.write_checksums(&changes).await?)
    }

    fn stage_checksum(&mut self, version: Version, row: Option<ChecksumRow>) {
        self.staged_checksum = Some((version.get(), row));
    }
}

impl ChDriver {
    /// Appends checksum changes in one INSERT, ordered by nanosecond sequence numbers.
    async fn write_checksums(&mut self, changes: &[(i64, Option<ChecksumRow>)]) -> Result<(), ChError> {
        if changes.is_empty() {
            return Ok(());
        }
        let start = crate::lock::unix_nanos();
        let rows: Vec<(i64, Option<&ChecksumRow>, u64)> = changes
            .iter()
            .enumerate()
            .map(|(offset, (version, row))| (*version, row.as_ref(), start.saturating_add(offset as u64)))
            .collect();
        self.bookkeeping.execute(&self.sql.write_checksums(&rows)).await.map(|_| ())
    }
}

/// One row of the checksum query: `version_id, up, down, statements, no_transaction, tool_version,
/// file_sha256`.
fn parse_checksum_row(row: &[String]) -> Result<ChecksumRow, ChError> {
    let unexpected = || ChError::Unexpected { action: "reading the migration checksums", text: row.join("\t") };
    let [version, up, down, statements, no_transaction, tool_version, file_digest] = row else {
        return Err(unexpected());
    };
    Ok(ChecksumRow {
        version: version.parse().ok().and_then(Version::new).ok_or_else(unexpected)?,
        up: up.clone(),
        down: down.clone(),
        up_statements: statements.clone(),
        no_transaction: no_transaction == "1",
        tool_version: tool_version.clone(),
        file_digest: file_digest.clone(),
    })
}

impl Driver for ChDriver {
    fn capabilities(&self) -> Capabilities {
        Capabilities { transactions: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        assert_eq!(char_position("SELEC 1", 1), 1);
        assert_eq!(char_position("SELECT 'é', x", 13), 12);
        assert_eq!(char_position("ab", 99), 3);
    }

    #[test]
    fn version_rows() {
        let row = |values: [&str; 4]| values.map(str::to_owned).to_vec();
        let parsed = parse_row(&row(["20240101", "1", "2024-01-02 03:04:05", "0"])).unwrap();
        assert_eq!(parsed.version, 20240101);
        assert!(parsed.is_applied);
        assert_eq!(parsed.applied_at.unwrap().to_string(), "2024-01-02 03:04:05");
        assert!(parse_row(&row(["1", "2", "x", "0"])).is_err());
        assert!(parse_row(&row(["1", "0", "odd", "0"])).unwrap().applied_at.is_none());
        assert!(parse_row(&["1".to_owned(), "1".to_owned(), "2024-01-02 03:04:05".to_owned()]).is_err());
        assert_eq!(pending_count(&row(["1", "1", "2024-01-02 03:04:05", "2"])).unwrap(), 2);
        assert!(pending_count(&row(["1", "1", "2024-01-02 03:04:05", "many"])).is_err());
    }
}
