//! What a `migrate.toml` says, checked: the types the CLI resolves its settings from.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// A value taken from the file, with the line it is on (for messages about it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Its 1-based line in the file.
    pub line: usize,
}

/// A `migrate.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectConfig {
    /// The file it was read from.
    pub path: PathBuf,
    /// The file's text (the `[lint]` section is read from it by the lint crate).
    pub text: String,
    /// The migrations directory, relative to the file's directory when it was relative in the file.
    pub dir: Option<Located<PathBuf>>,
    /// The version table.
    pub table: Option<Located<String>>,
    /// The driver name as written (`postgres`, `pgx`, `redshift`, `clickhouse`); checked by the caller.
    pub driver: Option<Located<String>>,
    /// The service, for metrics and logs.
    pub service: Option<Located<String>>,
    /// What `{base}` stands for in database-name patterns.
    pub database_base: Option<Located<String>>,
    /// The environment used when none is named.
    pub default_environment: Option<Located<String>>,
    /// `text` or `json`.
    pub log_format: Option<Located<String>>,
    /// Where metrics go, unless an environment says otherwise.
    pub metrics: MetricsConfig,
    /// Whether the file has a `[lint]` section.
    pub has_lint: bool,
    /// The environments, by name.
    pub environments: BTreeMap<String, Environment>,
    /// A workspace's services, by name (`[services.NAME]`), for `status --all` and `up --all`.
    pub services: BTreeMap<String, Service>,
}

/// One `[services.NAME]` of a workspace file: a service's migrations and its databases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Its name.
    pub name: String,
    /// The line of its table.
    pub line: usize,
    /// Its migrations directory (relative to the file's directory when relative).
    pub dir: Located<PathBuf>,
    /// Its version table, over the top-level one.
    pub table: Option<Located<String>>,
    /// Its driver, over the top-level one.
    pub driver: Option<Located<String>>,
    /// What `{base}` stands for in its database names (default: the top-level one).
    pub database_base: Option<Located<String>>,
    /// Its own environment tables: each replaces the top-level table of the same name for this service.
    pub environments: BTreeMap<String, Environment>,
    /// The tenant databases each of its environments expands into.
    pub tenants: Option<Tenants>,
}

/// Where a service's tenant databases are listed; each tenant is the environment's database with its name
/// replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tenants {
    /// Named in the file.
    Databases(Vec<String>),
    /// One name per line of this file (`#` comments and blank lines skipped).
    File(PathBuf),
    /// The first column of this SQL query, run against the environment's database (PostgreSQL), e.g.
    /// `SELECT datname FROM pg_database WHERE datname LIKE 'tenant_%'`.
    Query(String),
    /// One name per line of this program's output, run without a shell.
    Command(Vec<String>),
    /// Schemas of the environment's one database instead of databases: each tenant runs with
    /// `search_path` set to its schema, its version table in that schema, and `MIGRATE_TENANT` for ENVSUB.
    Schemas(Vec<String>),
    /// Those schemas as the first column of this SQL query, run against the environment's database.
    SchemaQuery(String),
}

impl Tenants {
    /// Whether the tenants are schemas of one database (else databases of one server).
    pub fn are_schemas(&self) -> bool {
        matches!(self, Tenants::Schemas(_) | Tenants::SchemaQuery(_))
    }
}

/// Where a run's metrics go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsConfig {
    /// A Pushgateway URL (`push`).
    pub push: Option<Located<String>>,
    /// A file for node_exporter's textfile collector (`file`).
    pub file: Option<Located<PathBuf>>,
}

/// One `[environments.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Its name.
    pub name: String,
    /// The line of its table.
    pub line: usize,
    /// Its database, when it names one.
    pub database: Option<DatabaseConfig>,
    /// Overrides the top-level `dir`.
    pub dir: Option<Located<PathBuf>>,
    /// Overrides the top-level `table`.
    pub table: Option<Located<String>>,
    /// Overrides the top-level `driver`.
    pub driver: Option<Located<String>>,
    /// Destructive commands need `--yes` (or an answer on a terminal).
    pub protected: bool,
    /// How long to wait for another runner's lock.
    pub lock_wait: Option<Duration>,
    /// PostgreSQL's `lock_timeout` for each transactional migration.
    pub lock_timeout: Option<Duration>,
    /// How many times a migration that timed out on a lock runs again.
    pub lock_retries: Option<u32>,
    /// `lint = false`: runs apply without linting first (as `--no-lint`).
    pub lint: Option<bool>,
    /// The backup taken before a run that changes something.
    pub backup: Option<BackupConfig>,
    /// Overrides the top-level `[metrics]`, key by key.
    pub metrics: MetricsConfig,
}

/// Where a value comes from: written in the file, or read from an environment variable at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting<T> {
    /// Not given.
    Unset,
    /// Written in the file.
    Literal(T),
    /// The name of the environment variable that holds it.
    Env(String),
}

impl<T> Setting<T> {
    /// Whether it was given at all.
    pub fn is_set(&self) -> bool {
        !matches!(self, Setting::Unset)
    }
}

/// An environment's database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// The line of its key.
    pub line: usize,
    /// The whole URL (never with a password: that is refused), or the variable holding it.
    pub url: Setting<String>,
    /// The parts, when there is no URL.
    pub host: Setting<String>,
    /// Port.
    pub port: Setting<u16>,
    /// User.
    pub user: Setting<String>,
    /// Where the password comes from.
    pub password: Option<PasswordSource>,
    /// The database name; `{base}`, `{service}` and `{environment}` are expanded by [`ProjectConfig::expand_name`](crate::ProjectConfig::expand_name).
    /// With a URL it replaces the URL's database.
    pub name: Setting<String>,
    /// Extra URL parameters (`params = { sslmode = "require" }`), in order.
    pub params: Vec<(String, String)>,
}

/// Where a password comes from: never the file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// This environment variable.
    Env(String),
    /// This file (a mounted secret), less one trailing newline.
    File(PathBuf),
}

/// `[environments.NAME.backup]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupConfig {
    /// The line of the table.
    pub line: usize,
    /// Whether a failed backup stops the run.
    pub mode: BackupMode,
    /// How the backup is taken.
    pub method: BackupMethodConfig,
    /// A bound on the backup.
    pub timeout: Option<Duration>,
}

/// `mode = "required" | "optional"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupMode {
    /// No migration runs unless the backup succeeded.
    Required,
    /// A failed backup is reported and the run goes on.
    Optional,
}

/// How a backup is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupMethodConfig {
    /// The built-in PostgreSQL backup: `pg_dump --format=custom` to this path template.
    PgDump {
        /// The path template, e.g. `/backups/{database}_{timestamp}.dump`.
        path: String,
        /// The pg_dump to run (default: the one on `PATH`).
        pg_dump: Option<PathBuf>,
    },
    /// A command, run without a shell, each argument a template.
    Command {
        /// The command and its arguments.
        argv: Vec<String>,
        /// The command that restores it, printed when a migration fails after the backup.
        restore: Option<Vec<String>>,
    },
}
