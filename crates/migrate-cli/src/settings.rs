//! What a command line resolves to, whichever form it was written in: the command, the directory, the
//! database, and the switches. Both parsers (`goose_form`, `modern_form`) end here, so everything after
//! parsing has one shape to handle.

use std::time::Duration;

use crate::database::Database;

/// A fully resolved invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// What to do.
    pub(crate) command: Command,
    /// The migrations directory (or, for `validate`, a single file, as goose allows).
    pub(crate) dir: String,
    /// The version table.
    pub(crate) table: String,
    /// The database, for the commands that need one.
    pub(crate) database: Option<Database>,
    /// Print each statement.
    pub(crate) verbose: bool,
    /// `-no-color`, or `NO_COLOR` true by Go's ParseBool.
    pub(crate) no_color: bool,
    /// Written in goose's form (whose output stays goose's byte for byte).
    pub(crate) goose_form: bool,
    /// Apply missing (out-of-order) migrations.
    pub(crate) allow_missing: bool,
    /// Run although an applied migration's file changed.
    pub(crate) allow_changed: bool,
    /// goose's `-no-versioning`.
    pub(crate) no_versioning: bool,
    /// Show the plan, change nothing.
    pub(crate) dry_run: bool,
    /// One JSON document on stdout instead of goose's text.
    pub(crate) json: bool,
    /// `status`: exit 3 when migrations are pending.
    pub(crate) exit_code: bool,
    /// `create`: sequential numbering.
    pub(crate) sequential: bool,
    /// Bound on the whole command (goose's `-timeout`); for `wait`, how long to wait.
    pub(crate) timeout: Option<Duration>,
    /// How long to wait for another runner's migration lock (the driver's default when `None`).
    pub(crate) lock_wait: Option<Duration>,
    /// PostgreSQL's `lock_timeout` for each transactional migration (none when `None`).
    pub(crate) lock_timeout: Option<Duration>,
    /// How many times a migration that timed out on a lock runs again.
    pub(crate) lock_retries: u32,
    /// ClickHouse cluster mode (the DSN's `cluster=` parameter turns it on too).
    pub(crate) clickhouse_cluster: Option<ClusterFlags>,
    /// `lint`'s switches, and the runs' `--no-lint`.
    pub(crate) lint: LintFlags,
    /// The project file, the environment, and what runs around a migration (backup, metrics, logs).
    pub(crate) ops: Operations,
    /// `--all`: the workspace's targets instead of one database.
    pub(crate) fleet: Option<Box<Fleet>>,
}

/// `status --all` / `up --all`: which targets of a workspace, how many at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fleet {
    /// The workspace file.
    pub(crate) config: migrate_config::ProjectConfig,
    /// The operations flags, for every target.
    pub(crate) ops: crate::project::OpsFlags,
    /// `--services`: only these (all when empty).
    pub(crate) services: Vec<String>,
    /// `--environment`: only this one (all when `None`).
    pub(crate) environment: Option<String>,
    /// `--jobs`.
    pub(crate) jobs: usize,
    /// `--fail-fast`.
    pub(crate) fail_fast: bool,
    /// `--shard INDEX/COUNT`.
    pub(crate) shard: Option<(u64, u64)>,
}

/// What `migrate.toml` and the operations flags add to a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Operations {
    /// The `migrate.toml` in use, if any.
    pub(crate) config: Option<std::path::PathBuf>,
    /// The `[lint]` section comes from this file (else the migrations directory's `migrate.toml`).
    pub(crate) lint_config: Option<std::path::PathBuf>,
    /// The environment selected (`--environment`, `MIGRATE_ENVIRONMENT`, `default_environment`).
    pub(crate) environment: Option<String>,
    /// Whether that environment is protected.
    pub(crate) protected: bool,
    /// `--yes`: confirms a destructive command on a protected environment.
    pub(crate) yes: bool,
    /// The service, for metrics and logs.
    pub(crate) service: String,
    /// The backup taken before a run that changes something.
    pub(crate) backup: Option<migrate_config::BackupConfig>,
    /// Push metrics to this Pushgateway.
    pub(crate) metrics_push: Option<String>,
    /// Write metrics to this file (node_exporter's textfile collector).
    pub(crate) metrics_file: Option<std::path::PathBuf>,
    /// One JSON object per log line.
    pub(crate) log_json: bool,
}

/// How `lint` reports, and whether a run lints what it applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LintFlags {
    /// `--no-lint`: a run applies its migrations without linting them first.
    pub(crate) no_lint: bool,
    /// `--format text|json|sarif|github` (`--json` is `json`); text when `None`.
    pub(crate) format: Option<String>,
    /// `--strict`: warnings fail too.
    pub(crate) strict: bool,
    /// `--pg-version`: the PostgreSQL version the migrations target, when no connection says.
    pub(crate) pg_version: Option<String>,
    /// `--driver` (or `GOOSE_DRIVER`) without a database: which rules apply; guessed per file when `None`.
    pub(crate) dialect: Option<String>,
}

/// `--clickhouse-cluster NAME` and its companions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClusterFlags {
    /// The cluster, as named in the servers' `<remote_servers>`.
    pub(crate) name: String,
    /// Refuse (instead of warn about) a migration that creates a table without ON CLUSTER or with a
    /// non-replicated engine.
    pub(crate) strict: bool,
    /// How long each ON CLUSTER statement may take on every host (the driver's default when `None`).
    pub(crate) ddl_timeout: Option<Duration>,
}

/// The commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// up, up-by-one, up-to, down, down-to, redo, reset.
    Migrate(migrate::Command),
    /// The status table.
    Status,
    /// The database's current version.
    Version,
    /// Compare the database's history with the directory (read-only).
    Verify,
    /// baseline, mark-applied, mark-rolled-back: goose's rows written without running anything.
    Mark(migrate::Mark),
    /// Record the files' checksums as they are now for these applied versions (all when empty).
    Repair {
        /// The versions given.
        versions: Vec<i64>,
    },
    /// A new migration file.
    Create {
        /// The description, snake-cased into the file name.
        name: String,
        /// `sql` (the only type this tool writes) or what the user asked for.
        kind: String,
    },
    /// Renumber timestamped migrations sequentially.
    Fix,
    /// Parse files without a database; `files` empty means the directory.
    Validate {
        /// Files given on the command line.
        files: Vec<String>,
    },
    /// A new migrations directory with a first migration.
    Init,
    /// Print goose's environment variables.
    Env,
    /// Block until the database accepts connections.
    Wait,
    /// Lint files without running them; `files` empty means the directory.
    Lint {
        /// Files given on the command line.
        files: Vec<String>,
    },
    /// The live schema as DDL (`schema dump`), to stdout or a file.
    SchemaDump {
        /// `--out FILE`.
        out: Option<std::path::PathBuf>,
    },
    /// The live schema against the migrations' (or a committed dump's).
    Drift {
        /// `--shadow-url URL`: build the expected schema there instead of on a scratch database.
        shadow_url: Option<ShadowUrl>,
        /// `--against FILE`: the expected schema is this dump, not the migrations.
        against: Option<std::path::PathBuf>,
    },
    /// Every migration's Down checked against its Up, on a scratch database.
    SchemaTest,
}

/// A shadow database's URL, which may hold a password: never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ShadowUrl(pub(crate) String);

impl std::fmt::Debug for ShadowUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShadowUrl(..)")
    }
}

impl Command {
    /// The command's name as typed, for messages and the JSON `command` field.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::Migrate(command) => match command {
                migrate::Command::Up => "up",
                migrate::Command::UpByOne => "up-by-one",
                migrate::Command::UpTo(_) => "up-to",
                migrate::Command::Down => "down",
                migrate::Command::DownTo(_) => "down-to",
                migrate::Command::Redo => "redo",
                migrate::Command::Reset => "reset",
                migrate::Command::Apply { .. } => "apply",
            },
            Command::Status => "status",
            Command::Version => "version",
            Command::Verify => "verify",
            Command::Mark(migrate::Mark::Baseline(_)) => "baseline",
            Command::Mark(migrate::Mark::Applied(_)) => "mark-applied",
            Command::Mark(migrate::Mark::RolledBack(_)) => "mark-rolled-back",
            Command::Repair { .. } => "repair",
            Command::Create { .. } => "create",
            Command::Fix => "fix",
            Command::Validate { .. } => "validate",
            Command::Init => "init",
            Command::Env => "env",
            Command::Wait => "wait",
            Command::Lint { .. } => "lint",
            Command::SchemaDump { .. } => "schema dump",
            Command::Drift { .. } => "drift",
            Command::SchemaTest => "test",
        }
    }
}

impl Settings {
    /// Settings with goose's defaults, for `command`.
    pub(crate) fn new(command: Command) -> Settings {
        Settings {
            command,
            dir: ".".to_owned(),
            table: DEFAULT_TABLE.to_owned(),
            database: None,
            verbose: false,
            no_color: false,
            goose_form: false,
            allow_missing: false,
            allow_changed: false,
            no_versioning: false,
            dry_run: false,
            json: false,
            exit_code: false,
            sequential: false,
            timeout: None,
            lock_wait: None,
            lock_timeout: None,
            lock_retries: 0,
            clickhouse_cluster: None,
            lint: LintFlags::default(),
            ops: Operations::default(),
            fleet: None,
        }
    }
}

/// goose's version table.
pub(crate) const DEFAULT_TABLE: &str = "goose_db_version";

/// goose's directory default.
pub(crate) const DEFAULT_DIR: &str = ".";

/// `-dir`/`--dir` against `GOOSE_MIGRATION_DIR`, with goose's quirk: a flag still equal to the default
/// `.` (even typed explicitly) loses to the variable.
pub(crate) fn resolve_dir(flag: Option<&str>, env_dir: Option<&str>) -> String {
    match (flag, env_dir) {
        (Some(dir), _) if dir != DEFAULT_DIR => dir.to_owned(),
        (_, Some(dir)) => dir.to_owned(),
        _ => DEFAULT_DIR.to_owned(),
    }
}

/// `-table`/`--table` > `GOOSE_TABLE` > `goose_db_version`.
pub(crate) fn resolve_table(flag: Option<&str>, env_table: Option<&str>) -> String {
    flag.filter(|t| !t.is_empty()).or(env_table).unwrap_or(DEFAULT_TABLE).to_owned()
}

/// Go's `time.ParseDuration`, shared with the ClickHouse DSN parser.
pub(crate) use migrate::parse_go_duration;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_and_table_precedence() {
        assert_eq!(resolve_dir(Some("x"), Some("env")), "x");
        assert_eq!(resolve_dir(Some("."), Some("env")), "env");
        assert_eq!(resolve_dir(None, Some("env")), "env");
        assert_eq!(resolve_dir(None, None), ".");
        assert_eq!(resolve_table(Some("t"), Some("e")), "t");
        assert_eq!(resolve_table(None, Some("e")), "e");
        assert_eq!(resolve_table(None, None), "goose_db_version");
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1h13m"), Some(Duration::from_secs(4380)));
        assert_eq!(parse_go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
        for bad in ["", "5", "5x", "s", "1e400s", "-1s"] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
    }
}
