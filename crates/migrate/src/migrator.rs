//! [`Migrator`]: goose's Provider for Rust services. It holds a source and options; each command resolves
//! the migrations, opens the database and hands everything to migrate-core's `migrate` (plan, lock,
//! re-plan, run), so there is exactly one apply loop whatever calls it.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use migrate_core::{
    current_version, plan, resolve, Command, Direction, Mark, Migration, MigrationResult, MigrationSource, PlanRequest,
    Repair, RunOptions, StatusState, StopSignal, Version,
};

#[cfg(feature = "postgres")]
use crate::code::CodeMigration;
use crate::database::Database;
use crate::error::Error;
use crate::session::{self, Session, Settings};

/// Runs goose-format migrations from one source, with goose Provider's commands and options.
///
/// Build it with [`Migrator::new`] and the `with_*` methods, then call a command with a database: a URL,
/// a `&PgPool`, a `PgConnection` or `PgConnectOptions` (see [`Database`]). Each command opens the database,
/// runs and closes it; a `Migrator` is cheap to clone and can be kept for the life of a service.
///
/// As in goose, `-- +goose ENVSUB ON` sections and the `PG*` defaults of a URL read the process environment.
///
/// ```no_run
/// # #[cfg(feature = "postgres")]
/// # async fn start(pool: sqlx::PgPool) -> Result<(), migrate::Error> {
/// use migrate::{embed, EmbeddedSource, Migrator};
///
/// static MIGRATIONS: EmbeddedSource = embed!("tests/migrations");
///
/// let migrator = Migrator::new(MIGRATIONS).with_table("app_schema_versions");
/// if migrator.has_pending(&pool).await? {
///     let report = migrator.up(&pool).await?;
///     for result in &report.results {
///         tracing::info!(version = %result.version, name = %result.name, "applied");
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Migrator {
    source: Arc<dyn MigrationSource + Send + Sync>,
    settings: Settings,
    allow_out_of_order: bool,
    no_versioning: bool,
    excluded: BTreeSet<i64>,
    lock: bool,
    allow_changed: bool,
    stop: Option<StopSignal>,
    lock_retries: u32,
    #[cfg(feature = "lint")]
    lint: Option<migrate_lint::LintConfig>,
    #[cfg(feature = "metrics")]
    metrics: Option<MetricsLabels>,
}

/// The labels of the metrics a [`Migrator`] records (`Migrator::with_metrics`).
#[cfg(feature = "metrics")]
#[derive(Debug, Clone)]
struct MetricsLabels {
    service: String,
    database: String,
}

/// What a command did.
///
/// It prints (`Display`) as one line per migration run, then a summary line:
///
/// ```text
/// up   00001_create_notes.sql (version 1, 4.2ms)
/// up   00002_index_notes_by_time.sql (version 2, 1.3ms, empty)
/// 2 migrations run; the database was at version 0
/// ```
///
/// or `no migrations to run; the database is at version 2` when there was nothing to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Each migration run, in order: version, name, direction, duration and whether it was empty.
    pub results: Vec<MigrationResult>,
    /// goose's current version before the command (0 for a new database or under no-versioning).
    pub version_before: i64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.results.is_empty() {
            return write!(f, "no migrations to run; the database is at version {}", self.version_before);
        }
        for result in &self.results {
            let empty = if result.empty { ", empty" } else { "" };
            writeln!(
                f,
                "{:<4} {} (version {}, {:.1?}{empty})",
                result.direction.as_str(),
                result.name,
                result.version,
                result.duration
            )?;
        }
        let count = self.results.len();
        let plural = if count == 1 { "" } else { "s" };
        write!(f, "{count} migration{plural} run; the database was at version {}", self.version_before)
    }
}

/// The state of one migration, from [`Migrator::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The version.
    pub version: i64,
    /// The file name (or code migration name); `None` for a version that is applied in the database but
    /// has no migration in the source.
    pub name: Option<String>,
    /// Applied (and when), pending, or partially applied.
    pub state: StatusState,
}

impl Migrator {
    /// A migrator over `source` ([`embed!`](crate::embed) or [`DirectorySource`](crate::DirectorySource)),
    /// with goose's defaults: table `goose_db_version`, the lock on with goose's key, out-of-order
    /// migrations refused.
    pub fn new(source: impl MigrationSource + Send + Sync + 'static) -> Migrator {
        Migrator {
            source: Arc::new(source),
            settings: Settings::default(),
            allow_out_of_order: false,
            no_versioning: false,
            excluded: BTreeSet::new(),
            lock: true,
            allow_changed: false,
            stop: None,
            lock_retries: 0,
            #[cfg(feature = "lint")]
            lint: None,
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }

    /// The version table, `table` or `schema.table` (default `goose_db_version`). An invalid name is
    /// reported by the first command.
    pub fn with_table(mut self, table: impl Into<String>) -> Migrator {
        self.settings.table = Some(table.into());
        self
    }

    /// Applies missing (out-of-order) migrations, older than the database's version but never applied,
    /// before the new ones, instead of failing (goose's `WithAllowOutofOrder`, `-allow-missing`).
    ///
    /// # Warning
    ///
    /// A migration written against an older schema then runs after newer ones; check that it still makes
    /// sense there.
    pub fn with_allow_out_of_order(mut self, allow: bool) -> Migrator {
        self.allow_out_of_order = allow;
        self
    }

    /// Runs migrations by file order without reading or writing the version table (goose's
    /// `WithDisableVersioning`, `-no-versioning`).
    ///
    /// # Warning
    ///
    /// Nothing records what ran, so [`Migrator::up`] runs every migration every time: use it only for
    /// idempotent scripts such as seed data.
    pub fn with_no_versioning(mut self, no_versioning: bool) -> Migrator {
        self.no_versioning = no_versioning;
        self
    }

    /// Leaves these versions out, as if their files did not exist (goose's `WithExcludeVersions`).
    pub fn with_excluded_versions(mut self, versions: impl IntoIterator<Item = i64>) -> Migrator {
        self.excluded.extend(versions);
        self
    }

    /// Takes the migration lock around commands that change the database (default `true`).
    ///
    /// # Warning
    ///
    /// Without the lock, two instances starting together both apply the same migrations: the second
    /// usually fails on a duplicate object, and a data migration can run twice.
    pub fn with_lock(mut self, lock: bool) -> Migrator {
        self.lock = lock;
        self
    }

    /// Runs even when an applied migration's Up section changed since it was applied (default `false`:
    /// such a run stops before applying anything, naming the file and the first statement that differs).
    /// The change is then reported as a warning (`tracing`), as a changed Down section always is.
    pub fn with_allow_changed(mut self, allow: bool) -> Migrator {
        self.allow_changed = allow;
        self
    }

    /// Lints the migrations a command is about to apply, before it takes the lock: an error-level finding
    /// refuses the command with nothing applied ([`Error`] names each finding's file:line); warnings go to
    /// `tracing`. PostgreSQL's version-aware rules use the connected server's version. Nothing is linted
    /// when nothing is pending. Read a directory's `migrate.toml` with `migrate::lint::read_config`.
    ///
    /// ```no_run
    /// # async fn start(url: &str) -> Result<(), migrate::Error> {
    /// use migrate::{DirectorySource, Migrator};
    /// let migrator = Migrator::new(DirectorySource::new("migrations")).with_lint(migrate::lint::LintConfig::default());
    /// migrator.up(url).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "lint")]
    pub fn with_lint(mut self, config: migrate_lint::LintConfig) -> Migrator {
        self.lint = Some(config);
        self
    }

    /// Records each command's metrics through the [`metrics`](https://docs.rs/metrics) facade, so the
    /// service's own exporter (a `metrics-exporter-prometheus` recorder, say) exposes them:
    /// `migration_duration_seconds`, `migration_failure_total`, `migration_version{version}`,
    /// `migration_pending` and `migration_last_success_timestamp_seconds`, labelled `service` and
    /// `database` as given here (see `migrate::metrics` for their meaning). Recorded after every migrating
    /// command, failed or not; nothing is recorded without a recorder installed.
    ///
    /// ```no_run
    /// # async fn start(url: &str) -> Result<(), migrate::Error> {
    /// use migrate::{DirectorySource, Migrator};
    /// let migrator = Migrator::new(DirectorySource::new("migrations")).with_metrics("billing", "billing");
    /// migrator.up(url).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "metrics")]
    pub fn with_metrics(mut self, service: impl Into<String>, database: impl Into<String>) -> Migrator {
        self.metrics = Some(MetricsLabels { service: service.into(), database: database.into() });
        self
    }

    /// Lets a service stop a run at its next safe point (a shutdown signal): once `stop` is requested,
    /// no further migration starts and a resumable ClickHouse migration stops between statements; the
    /// command returns an error whose kind is `RunErrorKind::Stopped`, the lock released. A migration in
    /// a PostgreSQL transaction runs to its end (the `migrate` command also cancels it).
    pub fn with_stop(mut self, stop: StopSignal) -> Migrator {
        self.stop = Some(stop);
        self
    }

    /// The lock key (PostgreSQL: the advisory-lock key; default goose's, so migrate and goose runners
    /// exclude each other). Give services that share a database but not their migrations different keys.
    pub fn with_lock_key(mut self, key: i64) -> Migrator {
        self.settings.lock_key = Some(key);
        self
    }

    /// How long to wait for another runner's lock before failing (default 5 minutes).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Migrator {
        self.settings.lock_timeout = Some(timeout);
        self
    }

    /// PostgreSQL: `lock_timeout` for each transactional migration, so a migration blocked by a long
    /// transaction gives up (SQLSTATE 55P03) instead of making every later query on that table wait behind
    /// it. Pair it with [`Migrator::with_lock_retries`].
    pub fn with_statement_lock_timeout(mut self, timeout: Duration) -> Migrator {
        self.settings.statement_lock_timeout = Some(timeout).filter(|t| !t.is_zero());
        self
    }

    /// Runs a migration that timed out on a lock again, up to `retries` times, waiting
    /// [`lock_retry_delay`](crate::lock_retry_delay) before each: a transactional one whole, a NO
    /// TRANSACTION one only when its first statement timed out.
    pub fn with_lock_retries(mut self, retries: u32) -> Migrator {
        self.lock_retries = retries;
        self
    }

    /// ClickHouse cluster mode: the version and companion tables are replicated and created ON CLUSTER,
    /// and every migration's ON CLUSTER DDL is confirmed on every host before its version is recorded (see
    /// `migrate::clickhouse::ClusterConfig`). A DSN's `cluster=` parameter turns it on too.
    #[cfg(feature = "clickhouse")]
    pub fn with_clickhouse_cluster(mut self, cluster: migrate_clickhouse::ClusterConfig) -> Migrator {
        self.settings.clickhouse_cluster = Some(cluster);
        self
    }

    /// Registers a code migration (PostgreSQL only). Its version shares the number space of the source's
    /// files; a clash is reported by the first command.
    #[cfg(feature = "postgres")]
    pub fn with_code_migration(mut self, migration: CodeMigration) -> Migrator {
        self.settings.code.push(migration);
        self
    }

    /// Applies every pending migration.
    pub async fn up(&self, database: impl Into<Database<'_>>) -> Result<Report, Error> {
        self.command(database.into(), Command::Up).await
    }

    /// Applies the next pending migration; an error when there is none.
    pub async fn up_by_one(&self, database: impl Into<Database<'_>>) -> Result<Report, Error> {
        self.command(database.into(), Command::UpByOne).await
    }

    /// Applies pending migrations up to and including `version`.
    pub async fn up_to(&self, database: impl Into<Database<'_>>, version: i64) -> Result<Report, Error> {
        self.command(database.into(), Command::UpTo(version)).await
    }

    /// Rolls back the current (most recently applied) migration.
    pub async fn down(&self, database: impl Into<Database<'_>>) -> Result<Report, Error> {
        self.command(database.into(), Command::Down).await
    }

    /// Rolls back migrations while the current version is above `version` (`0` rolls back everything).
    pub async fn down_to(&self, database: impl Into<Database<'_>>, version: i64) -> Result<Report, Error> {
        self.command(database.into(), Command::DownTo(version)).await
    }

    /// Applies or rolls back exactly one version, whatever else is pending.
    pub async fn apply_version(
        &self,
        database: impl Into<Database<'_>>,
        version: Version,
        direction: Direction,
    ) -> Result<Report, Error> {
        self.command(database.into(), Command::Apply { version, direction }).await
    }

    /// The state of every migration, and of every applied version that has no migration, by version.
    pub async fn status(&self, database: impl Into<Database<'_>>) -> Result<Vec<MigrationStatus>, Error> {
        self.status_of(database.into()).await
    }

    /// Compares the database's history with the migrations, reading only (no lock, nothing created):
    /// every [`Finding`](migrate_core::Finding) (an applied file that changed since it was applied, an
    /// applied version without a file, an out-of-order pending one, a partial one, a missing checksum).
    /// Empty when they agree.
    pub async fn verify(&self, database: impl Into<Database<'_>>) -> Result<Vec<migrate_core::Finding>, Error> {
        let migrations = self.migrations()?;
        let mut session = self.open(database.into()).await?;
        let read = async {
            let (rows, progress) = read_state(&mut session).await?;
            let driver = session.driver();
            let recorded = if driver.keeps_checksums() {
                Some(driver.list_checksums().await.map_err(Error::VersionTable)?.unwrap_or_default())
            } else {
                None
            };
            Ok::<_, Error>((rows.unwrap_or_default(), progress, recorded))
        }
        .await;
        session.close().await;
        let (rows, progress, recorded) = read?;
        Ok(migrate_core::verify_history(&migrations, &rows, recorded.as_deref(), &progress)?)
    }

    /// Records the checksums of `versions` (every applied migration whose checksum differs or is missing
    /// when empty) as their files are now, after an intended edit, and forgets those of versions no longer
    /// applied; under the lock. Returns what it changed.
    pub async fn repair(&self, database: impl Into<Database<'_>>, versions: &[i64]) -> Result<Repair, Error> {
        let migrations = self.migrations()?;
        let mut session = self.open(database.into()).await?;
        let repaired = migrate_core::repair(session.driver(), &migrations, versions, false).await;
        session.close().await;
        Ok(repaired?)
    }

    /// Records every migration up to `version` that is not applied yet as applied, without running it (a
    /// database migrated some other way); goose's rows, with the files' checksums. Returns the versions.
    pub async fn baseline(&self, database: impl Into<Database<'_>>, version: i64) -> Result<Vec<Version>, Error> {
        self.mark(database.into(), Mark::Baseline(version)).await
    }

    /// Records `versions` as applied without running them (refused for one already applied or without a
    /// file). Returns the versions.
    pub async fn mark_applied(
        &self,
        database: impl Into<Database<'_>>,
        versions: &[i64],
    ) -> Result<Vec<Version>, Error> {
        self.mark(database.into(), Mark::Applied(versions.to_vec())).await
    }

    /// Records applied `versions` as rolled back without running their Down sections. Returns the versions.
    pub async fn mark_rolled_back(
        &self,
        database: impl Into<Database<'_>>,
        versions: &[i64],
    ) -> Result<Vec<Version>, Error> {
        self.mark(database.into(), Mark::RolledBack(versions.to_vec())).await
    }

    async fn mark(&self, database: Database<'_>, mark: Mark) -> Result<Vec<Version>, Error> {
        let migrations = self.migrations()?;
        let mut session = self.open(database).await?;
        let marked = migrate_core::mark(session.driver(), &migrations, &mark, false).await;
        session.close().await;
        Ok(marked?.into_iter().map(|(version, _)| version).collect())
    }

    /// goose's current version: the most recently applied one (0 when none is).
    pub async fn db_version(&self, database: impl Into<Database<'_>>) -> Result<i64, Error> {
        self.db_version_of(database.into()).await
    }

    /// Whether [`Migrator::up`] has anything to do, without taking the lock. Missing (out-of-order)
    /// migrations are an error unless [`Migrator::with_allow_out_of_order`] allows them.
    pub async fn has_pending(&self, database: impl Into<Database<'_>>) -> Result<bool, Error> {
        self.has_pending_in(database.into()).await
    }

    /// The resolved migrations, without the excluded versions.
    pub(crate) fn migrations(&self) -> Result<Vec<Migration>, Error> {
        #[cfg(feature = "postgres")]
        let code = self.settings.code.iter().map(CodeMigration::info).collect::<Result<Vec<_>, _>>()?;
        #[cfg(not(feature = "postgres"))]
        let code = Vec::new();
        let mut migrations = resolve(self.source.as_ref(), &code)?;
        migrations.retain(|migration| !self.excluded.contains(&migration.version().get()));
        Ok(migrations)
    }

    #[cfg(feature = "testing")]
    pub(crate) fn no_versioning(&self) -> bool {
        self.no_versioning
    }

    pub(crate) async fn open(&self, database: Database<'_>) -> Result<Session, Error> {
        session::open(database, &self.settings).await
    }

    fn request(&self, command: Command) -> PlanRequest {
        PlanRequest { command, allow_missing: self.allow_out_of_order, no_versioning: self.no_versioning }
    }

    async fn command(&self, database: Database<'_>, command: Command) -> Result<Report, Error> {
        let migrations = self.migrations()?;
        let mut session = self.open(database).await?;
        let request = self.request(command);
        let options = RunOptions {
            lock: self.lock,
            allow_changed: self.allow_changed,
            preflight: None,
            stop: self.stop.clone(),
            before_run: None,
            lock_retries: self.lock_retries,
        };
        #[cfg(feature = "lint")]
        let options = RunOptions {
            preflight: self.lint.clone().map(|config| -> Arc<dyn migrate_core::Preflight> {
                let major = session.driver().server_major_version();
                Arc::new(migrate_lint::LintPreflight::new(None, config).for_server(major))
            }),
            ..options
        };
        #[cfg(feature = "metrics")]
        let started = std::time::Instant::now();
        let outcome =
            migrate_core::migrate(session.driver(), &migrations, &request, &options, &crate::env, &mut |_| {}).await;
        #[cfg(feature = "metrics")]
        if let Some(labels) = &self.metrics {
            record_metrics(labels, session.driver(), &migrations, started.elapsed(), outcome.is_err()).await;
        }
        session.close().await;
        let outcome = outcome?;
        Ok(Report { results: outcome.report.results, version_before: outcome.version_before })
    }

    async fn status_of(&self, database: Database<'_>) -> Result<Vec<MigrationStatus>, Error> {
        let migrations = self.migrations()?;
        let mut session = self.open(database).await?;
        let read = if self.no_versioning { Ok((None, Vec::new())) } else { read_state(&mut session).await };
        session.close().await;
        let (rows, progress) = read?;
        let entries = migrate_core::status(&migrations, rows.as_deref(), &progress);
        Ok(entries
            .into_iter()
            .map(|entry| MigrationStatus {
                version: entry.version,
                name: entry.migration.map(|migration| migration.name().to_owned()),
                state: entry.state,
            })
            .collect())
    }

    async fn db_version_of(&self, database: Database<'_>) -> Result<i64, Error> {
        if self.no_versioning {
            return Err(Error::NoVersioning);
        }
        let mut session = self.open(database).await?;
        let rows = read_rows(&mut session).await;
        session.close().await;
        Ok(current_version(&rows?).unwrap_or(0))
    }

    async fn has_pending_in(&self, database: Database<'_>) -> Result<bool, Error> {
        if self.no_versioning {
            return Ok(true); // Nothing records what ran, so everything is always pending (goose's answer).
        }
        let migrations = self.migrations()?;
        let mut session = self.open(database).await?;
        let rows = read_rows(&mut session).await;
        session.close().await;
        let rows = rows?;
        let plan = plan(&migrations, &rows, &self.request(Command::Up), &crate::env)?;
        Ok(!plan.is_empty())
    }
}

impl fmt::Debug for Migrator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migrator")
            .field("settings", &self.settings)
            .field("allow_out_of_order", &self.allow_out_of_order)
            .field("no_versioning", &self.no_versioning)
            .field("excluded", &self.excluded)
            .field("lock", &self.lock)
            .finish_non_exhaustive()
    }
}

async fn read_rows(session: &mut Session) -> Result<Vec<migrate_core::AppliedRow>, Error> {
    let rows = session.driver().list_applied().await.map_err(Error::VersionTable)?;
    Ok(rows.unwrap_or_default())
}

type State = (Option<Vec<migrate_core::AppliedRow>>, Vec<migrate_core::Progress>);

async fn read_state(session: &mut Session) -> Result<State, Error> {
    let rows = read_rows(session).await?;
    let progress = session.driver().list_progress().await.map_err(Error::VersionTable)?;
    Ok((Some(rows), progress))
}

/// Records a command's metrics, with the version and pending count read back (best-effort).
#[cfg(feature = "metrics")]
async fn record_metrics(
    labels: &MetricsLabels,
    driver: &mut dyn migrate_core::Driver,
    migrations: &[Migration],
    duration: Duration,
    failed: bool,
) {
    let state = match driver.list_applied().await {
        Ok(Some(rows)) => {
            let pending = migrate_core::status(migrations, Some(&rows), &[])
                .iter()
                .filter(|e| matches!(e.state, StatusState::Pending | StatusState::Partial { .. }))
                .count();
            Some((current_version(&rows).unwrap_or(0), u64::try_from(pending).unwrap_or(u64::MAX)))
        }
        _ => None,
    };
    migrate_metrics::record(&migrate_metrics::RunMetrics {
        service: labels.service.clone(),
        database: labels.database.clone(),
        environment: None,
        duration,
        failed,
        version: state.map(|(version, _)| version),
        pending: state.map(|(_, pending)| pending),
        finished_at: std::time::SystemTime::now(),
    });
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use migrate_core::{Direction, MigrationResult, Version};

    use super::Report;

    fn result(version: i64, name: &str, millis: u64, empty: bool) -> MigrationResult {
        let Some(version) = Version::new(version) else { panic!("version {version} is below 1") };
        MigrationResult {
            version,
            name: name.to_owned(),
            direction: Direction::Up,
            duration: Duration::from_micros(millis * 1000 + 250),
            empty,
        }
    }

    #[test]
    fn a_report_prints_each_migration_then_a_summary() {
        let report = Report {
            results: vec![result(1, "00001_create_notes.sql", 4, false), result(2, "00002_index.sql", 1, true)],
            version_before: 0,
        };
        assert_eq!(
            report.to_string(),
            "up   00001_create_notes.sql (version 1, 4.2ms)\n\
             up   00002_index.sql (version 2, 1.2ms, empty)\n\
             2 migrations run; the database was at version 0"
        );
        let one = Report { results: vec![result(3, "00003_x.sql", 2, false)], version_before: 2 };
        assert!(one.to_string().ends_with("\n1 migration run; the database was at version 2"), "{one}");
    }

    #[test]
    fn an_empty_report_says_there_was_nothing_to_do() {
        let report = Report { results: Vec::new(), version_before: 7 };
        assert_eq!(report.to_string(), "no migrations to run; the database is at version 7");
    }
}
