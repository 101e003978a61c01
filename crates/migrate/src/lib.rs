//! goose-compatible database migrations for Rust services: apply goose-format SQL files (and Rust code
//! migrations) to PostgreSQL at start-up, sharing goose's version table and lock, so goose and migrate can
//! take turns on one database.
//!
//! # Brief overview
//!
//! - [`up`] applies every pending migration: the one call most services need.
//! - [`Migrator`] is goose's Provider: the other commands ([`Migrator::up_by_one`], [`Migrator::up_to`],
//!   [`Migrator::down`], [`Migrator::down_to`], [`Migrator::apply_version`], [`Migrator::status`],
//!   [`Migrator::db_version`], [`Migrator::has_pending`]) and the options (table, out-of-order, versioning,
//!   excluded versions, lock, key and timeout, code migrations).
//! - A [`Database`] is a URL, or a `&PgPool`, `PgConnection` or `PgConnectOptions` the service already
//!   has, so it keeps its own TLS and pool settings.
//! - Sources: [`embed!`] compiles a directory into the binary and checks every file while building;
//!   [`DirectorySource`] reads one at run time.
//! - [`CodeMigration`]: a Rust async function registered by version, run in the migration's transaction.
//! - A [`Report`] lists each migration run; an [`Error`] from a failed run tells what was applied before
//!   it ([`Error::applied`]) and which migration failed ([`Error::failed_migration`]), with the cause.
//! - `testing` (feature `testing`): fresh databases for a service's integration tests, and a check that
//!   every Down undoes its Up.
//!
//! # At start-up
//!
//! ```toml
//! [dependencies]
//! migrate-goose = { version = "0.1", features = ["postgres"] }   # the library is called `migrate`
//! ```
//!
//! ```no_run
//! use migrate::EmbeddedSource;
//!
//! static MIGRATIONS: EmbeddedSource = migrate::embed!("tests/migrations");
//!
//! # #[cfg(feature = "postgres")]
//! # async fn start() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = sqlx::PgPool::connect("postgres://app@db.internal/app").await?;
//! let report = migrate::up(&pool, MIGRATIONS).await?;
//! tracing::info!(applied = report.results.len(), "database migrated");
//! # Ok(()) }
//! ```
//!
//! The `examples/` folder of the repository holds a small tokio service doing this, with an integration test
//! written with the test helpers.
//!
//! # Failures
//!
//! A failed run stops at the first failing migration. A transactional migration leaves no trace; those
//! before it stay applied and are listed in the error:
//!
//! ```no_run
//! # #[cfg(feature = "postgres")]
//! # async fn start(pool: sqlx::PgPool) {
//! # static MIGRATIONS: migrate::EmbeddedSource = migrate::embed!("tests/migrations");
//! match migrate::up(&pool, MIGRATIONS).await {
//!     Ok(report) => tracing::info!(applied = report.results.len(), "migrated"),
//!     Err(error) => {
//!         let applied: Vec<_> = error.applied().iter().map(|result| result.version).collect();
//!         let failed = error.failed_migration().map(|failed| failed.name);
//!         tracing::error!(%error, ?applied, ?failed, "migration failed");
//!     }
//! }
//! # }
//! ```
//!
//! # Tracing
//!
//! The library never prints. It emits `tracing` spans and events: a `migrate` span for a command, a
//! `migration` span for each migration (version, file, direction) with a `migration finished` event (its
//! duration), a `statement` span for each statement sent on its own (version, file, index, line), and
//! warnings (a lock another runner holds, a goose quirk in a file). A service that has no subscriber yet
//! installs one to see them, e.g. `tracing_subscriber::fmt().init()` (crate `tracing-subscriber`, feature
//! `fmt`). A [`Report`] prints as one line per migration run (`println!("{report}")`).
//!
//! # Features
//!
//! No feature is on by default: enable the driver of each database the service uses.
//!
//! - `postgres`: the PostgreSQL driver ([`postgres`]), code migrations, the sqlx connection types in
//!   [`Database`], and the sqlx this crate was built with, re-exported as [`sqlx`](mod@crate::sqlx).
//! - `clickhouse`: the ClickHouse driver ([`clickhouse`]), for `clickhouse://`, `tcp://`, `http://` and
//!   `https://` URLs (and cluster mode).
//! - `testing`: the `testing` module (implies `postgres`).
//!
//! A service that enables one driver does not compile the other:
//! `migrate-goose = { version = "0.1", features = ["postgres"] }` builds no ClickHouse code (and no HTTP
//! client). A URL for a database whose feature is off fails with [`Error::DriverUnavailable`].
//!
//! # sqlx version
//!
//! The PostgreSQL side runs on **sqlx 0.9** (0.9.0 or later 0.9.x), with the `runtime-tokio` and
//! `tls-rustls-ring-webpki` features. A `&PgPool`, `PgConnection` or `PgConnectOptions` passed as a
//! [`Database`], and the connection a code migration receives, are sqlx 0.9 types. A service on another
//! sqlx (0.8, say) gets a type mismatch naming two different versions of `sqlx_postgres::PgPool`: either
//! move the service to sqlx 0.9, or pass a URL instead of a pool, or open the migration connection with
//! this crate's sqlx, [`migrate::sqlx`](mod@crate::sqlx):
//!
//! ```no_run
//! # #[cfg(feature = "postgres")]
//! # async fn start() -> Result<(), Box<dyn std::error::Error>> {
//! # static MIGRATIONS: migrate::EmbeddedSource = migrate::embed!("tests/migrations");
//! // The service's own pool stays on its sqlx; migrations get a pool of migrate's sqlx 0.9.
//! let pool = migrate::sqlx::PgPool::connect("postgres://app@db.internal/app").await?;
//! migrate::up(&pool, MIGRATIONS).await?;
//! # Ok(()) }
//! ```
//!
//! The database-independent core (sources, the goose parser, the planner and the runner) is re-exported
//! at the crate root, and each driver as a module ([`postgres`], [`clickhouse`]).

#![deny(missing_docs)]

#[cfg(feature = "postgres")]
mod code;
mod database;
mod error;
mod migrator;
#[cfg(feature = "postgres")]
mod pg_session;
mod session;
#[cfg(feature = "testing")]
pub mod testing;

// The core's API, by name (its URL helpers, `url_syntax`, stay the drivers' business).
pub use migrate_core::url_syntax::parse_go_duration;
pub use migrate_core::{
    applied_count, check_history, checksum_row_of, current_version, error_chain, expand_variables, lock_retry_delay,
    mark, migrate, parse, parse_applied_at, parse_direction, parse_direction_verbatim, plan, plan_marks, plan_repair,
    repair, replan, resolve, resolve_files, run, statements_checksum, status, verify_history, version_from_file_name,
    AppliedAt, AppliedRow, BeforeRun, BoxError, Canceller, Capabilities, ChangedMigration, ChecksumRow, ChecksumStore,
    Checksums, CodeFailure, CodeMigrationInfo, Command, Direction, DirectionParse, DirectorySource, Driver,
    EmbeddedSource, Executor, FileContents, Finding, HistoryCheck, HistoryError, Lock, Mark, MarkError, Migration,
    MigrationKind, MigrationResult, MigrationSource, Outcome, ParseError, ParseErrorKind, ParseWarning,
    ParseWarningKind, ParsedMigration, Plan, PlanError, PlanRequest, PlanStep, Preflight, PreflightErrors,
    PreflightFinding, Progress, ProgressStore, Repair, RepairError, ResolveError, ResolveProblem, RunAbout, RunError,
    RunErrorKind, RunEvent, RunOptions, RunReport, SourceFile, SqlText, Statement, StatementFailure, StatusEntry,
    StatusState, StepBody, StopSignal, Version, VersionNameError, VersionStore, RUN_EVENT_TARGET,
};

#[cfg(feature = "postgres")]
pub use crate::code::{CodeFn, CodeMigration};
pub use crate::database::{Database, DatabaseKind};
pub use crate::error::{Error, FailedMigration};
pub use crate::migrator::{MigrationStatus, Migrator, Report};

/// The PostgreSQL driver.
#[cfg(feature = "postgres")]
pub use migrate_postgres as postgres;

/// The ClickHouse driver.
#[cfg(feature = "clickhouse")]
pub use migrate_clickhouse as clickhouse;

/// Lint for goose files (goose mistakes, squawk's PostgreSQL rules, ClickHouse rules, conventions):
/// [`lint::lint_dir`], and [`Migrator::with_lint`] to lint the pending migrations before a run.
#[cfg(feature = "lint")]
pub use migrate_lint as lint;

/// The metrics of a run (Prometheus text, a Pushgateway push, a textfile, the `metrics` facade), as
/// [`Migrator::with_metrics`] records them.
#[cfg(feature = "metrics")]
pub use migrate_metrics as metrics;

/// The sqlx (0.9) this crate is built with: its `PgPool`, `PgConnection` and `PgConnectOptions` are the
/// ones [`Database`] accepts. A service on another sqlx version opens the migration connection with this
/// one (see "sqlx version" in the crate documentation).
#[cfg(feature = "postgres")]
pub use sqlx;

/// Applies every pending migration of `source` to `database`, with goose's defaults (table
/// `goose_db_version`, the lock on). Use a [`Migrator`] for anything else.
///
/// `database` is a URL (`postgres://…`), a `&PgPool`, a `PgConnection` or `PgConnectOptions`; `source` is
/// usually a `static` made by [`embed!`], or a [`DirectorySource`].
///
/// ```no_run
/// # async fn start() -> Result<(), migrate::Error> {
/// let report = migrate::up("postgres://app@localhost/app", migrate::DirectorySource::new("migrations")).await?;
/// for result in &report.results {
///     tracing::info!(version = %result.version, file = %result.name, duration = ?result.duration, "applied");
/// }
/// # Ok(()) }
/// ```
pub async fn up(
    database: impl Into<Database<'_>>,
    source: impl MigrationSource + Send + Sync + 'static,
) -> Result<Report, Error> {
    Migrator::new(source).up(database).await
}

/// Embeds a directory of migrations in the binary, checked while compiling.
///
/// `embed!("migrations")` reads the directory (relative to the calling crate's `Cargo.toml`) at compile
/// time, resolves and parses every file with the same code [`DirectorySource`] uses at run time, and turns
/// any problem (a file name without a version, two files with one version, a file that does not parse, a
/// missing directory) into a compile error that names the file and line. It evaluates to an
/// [`EmbeddedSource`], usable in a `static`.
///
/// ```
/// static MIGRATIONS: migrate::EmbeddedSource = migrate::embed!("tests/migrations");
///
/// let migrations = migrate::resolve(&MIGRATIONS, &[])?;
/// assert_eq!(migrations[0].name(), "00001_create_accounts.sql");
/// # Ok::<(), migrate::ResolveError>(())
/// ```
///
/// # The `build.rs` line
///
/// Each file is embedded with `include_str!`, so editing a file rebuilds the crate, but Cargo does not see
/// a *new* file in the directory. Add this `build.rs` next to `Cargo.toml` so that adding a migration
/// rebuilds too:
///
/// ```text
/// // build.rs
/// fn main() {
///     println!("cargo:rerun-if-changed=migrations");
/// }
/// ```
///
/// Code-migration files (`*.rs`, `*.go`) are embedded by name only; registering them is
/// [`Migrator::with_code_migration`]'s job, checked when the migrations are resolved.
pub use migrate_macros::embed;

/// What `embed!` expands to. Not public API: only the macro may use it.
#[doc(hidden)]
pub mod __private {
    use migrate_core::EmbeddedSource;

    /// The source `embed!` builds from `(file name, contents)` pairs.
    pub const fn embedded_source(
        location: &'static str,
        files: &'static [(&'static str, &'static str)],
    ) -> EmbeddedSource {
        EmbeddedSource::new(location, files)
    }
}

/// The process environment: ENVSUB variables and the `PG*` defaults, as goose reads them.
fn env(name: &str) -> Option<String> {
    #[allow(clippy::disallowed_methods)] // The facade's one reader of the environment.
    std::env::var(name).ok()
}
