//! The modern form: `migrate COMMAND [--flags]`, parsed with clap, with `--help` on every command and
//! shell completions. It reaches the same [`Settings`] as goose's form, reading the same variables
//! (`GOOSE_MIGRATION_DIR`, `GOOSE_TABLE`, `NO_COLOR`, `GOOSE_DBSTRING`...) as fallbacks, so
//! `GOOSE_DRIVER=postgres GOOSE_DBSTRING=... migrate up` means the same under either parser.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::database::{resolve_database, DbFlags, ReadFile};
use crate::env::{parse_bool, Env, EnvFile};
use crate::error::CliError;
use crate::project::{OpsFlags, Project};
use crate::settings::ShadowUrl;
use crate::settings::{parse_go_duration, ClusterFlags, Command, Fleet, LintFlags, Settings};

/// How long `wait` waits when `--timeout` is not given.
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// goose-compatible database migrations for PostgreSQL and ClickHouse.
#[derive(Debug, Parser)]
#[command(
    name = "migrate",
    version,
    disable_help_subcommand = true,
    after_help = "goose's form works too, unchanged: migrate [OPTIONS] DRIVER DBSTRING COMMAND, e.g.\n  \
                  migrate -dir migrations postgres \"$DATABASE_URL\" up\n\
                  A command line is read in the modern form when its first argument is one of the commands \
                  above and no later argument is a Go-style single-dash flag such as -dir or -table=x; \
                  otherwise in goose's form (migrate -h shows goose's usage).\n\n\
                  Exit codes: 0 success, 1 failure, 2 bad arguments, 3 status --exit-code with pending migrations."
)]
pub(crate) struct ModernCli {
    #[command(subcommand)]
    pub(crate) command: ModernCommand,
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Print each statement as it runs (validate: goose's table)
    #[arg(short, long, global = true)]
    verbose: bool,
    /// No colour (NO_COLOR=1 works too)
    #[arg(long, global = true)]
    no_color: bool,
    /// .env file to load; "none" loads nothing [default: ./.env if present]
    #[arg(long, global = true, value_name = "FILE")]
    env: Option<String>,
    /// The project file [env: MIGRATE_CONFIG] [default: ./migrate.toml, else DIR/migrate.toml]
    #[arg(long, global = true, value_name = "FILE", help_heading = "Project")]
    config: Option<PathBuf>,
    /// The environment of migrate.toml to use (its database, protection, backup) [env: MIGRATE_ENVIRONMENT]
    #[arg(long, global = true, value_name = "NAME", help_heading = "Project")]
    environment: Option<String>,
    /// Confirm a destructive command (down, redo, reset, marks, repair) on a protected environment
    #[arg(long, global = true, help_heading = "Project")]
    yes: bool,
    /// The service, for metrics and logs [env: MIGRATE_SERVICE] [default: migrate.toml's, else the directory's name]
    #[arg(long, global = true, value_name = "NAME", help_heading = "Project")]
    service: Option<String>,
    /// text (goose's lines) or json (one object per line) [env: MIGRATE_LOG_FORMAT] [default: text]
    #[arg(long, global = true, value_name = "FORMAT", value_parser = ["text", "json"], help_heading = "Project")]
    log_format: Option<String>,
    /// Push the run's metrics to this Prometheus Pushgateway at the end [env: MIGRATE_METRICS_PUSH]
    #[arg(long, global = true, value_name = "URL", help_heading = "Project")]
    metrics_push: Option<String>,
    /// Write the run's metrics to this file, for node_exporter's textfile collector [env: MIGRATE_METRICS_FILE]
    #[arg(long, global = true, value_name = "FILE", help_heading = "Project")]
    metrics_file: Option<PathBuf>,
}

impl GlobalArgs {
    fn ops(&self) -> OpsFlags {
        OpsFlags {
            config: self.config.clone(),
            environment: self.environment.clone(),
            yes: self.yes,
            service: self.service.clone(),
            log_format: self.log_format.clone(),
            metrics_push: self.metrics_push.clone(),
            metrics_file: self.metrics_file.clone(),
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ModernCommand {
    /// Apply every pending migration
    Up {
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// Apply the next pending migration
    UpByOne(RunArgs),
    /// Apply pending migrations up to and including VERSION
    UpTo {
        /// The last version to apply
        version: i64,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Roll back the current version
    Down(RunArgs),
    /// Roll back while the current version is above VERSION (0 rolls back everything)
    DownTo {
        /// The version to stop at
        version: i64,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Roll back the current version and apply it again
    Redo(RunArgs),
    /// Roll back every applied migration
    Reset(RunArgs),
    /// Show each migration and whether it is applied
    Status {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        dir: DirArg,
        /// Under -no-versioning semantics: list files only, without reading the version table
        #[arg(long)]
        no_versioning: bool,
        /// Print one JSON document on stdout
        #[arg(long)]
        json: bool,
        /// Exit 3 when migrations are pending
        #[arg(long)]
        exit_code: bool,
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// Compare the applied history with the files: changed files (checksums), applied versions without a
    /// file, out-of-order pending ones, partial ones, unrecorded checksums. Exit 1 on any finding
    Verify {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        dir: DirArg,
        /// Print one JSON document on stdout
        #[arg(long)]
        json: bool,
    },
    /// Record every migration up to VERSION as applied without running it (a database migrated some other
    /// way), in goose's rows
    Baseline {
        /// The last version to record
        version: i64,
        #[command(flatten)]
        mark: MarkArgs,
    },
    /// Record versions as applied without running them
    MarkApplied {
        /// The versions
        #[arg(required = true)]
        versions: Vec<i64>,
        #[command(flatten)]
        mark: MarkArgs,
    },
    /// Record applied versions as rolled back without running their Down sections
    MarkRolledBack {
        /// The versions
        #[arg(required = true)]
        versions: Vec<i64>,
        #[command(flatten)]
        mark: MarkArgs,
    },
    /// Record the files' checksums as they are now, for the given applied versions (all when none are
    /// given), after an intended edit; and forget the checksums of versions no longer applied
    Repair {
        /// The versions to record (default: every applied one whose checksum differs or is missing)
        versions: Vec<i64>,
        #[command(flatten)]
        mark: MarkArgs,
    },
    /// Print the database's current version
    Version {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        dir: DirArg,
        /// Print the last file's version instead of reading the database
        #[arg(long)]
        no_versioning: bool,
        /// Print one JSON document on stdout
        #[arg(long)]
        json: bool,
    },
    /// Create a new migration file: <timestamp>_<name>.sql (or <NNNNN>_<name>.sql with -s)
    Create {
        /// What the migration does, e.g. "add users"; snake-cased into the file name
        name: String,
        /// The file type; only sql is written by this tool
        #[arg(value_name = "TYPE", default_value = "sql")]
        kind: String,
        #[command(flatten)]
        dir: DirArg,
        /// Number the file sequentially (00001, 00002...) instead of with a UTC timestamp
        #[arg(short, long)]
        sequential: bool,
    },
    /// Renumber timestamped migrations sequentially, after the highest sequential one
    Fix {
        #[command(flatten)]
        dir: DirArg,
    },
    /// Parse migration files without a database: the directory, or the FILEs given
    Validate {
        /// Files to check instead of the directory
        files: Vec<String>,
        #[command(flatten)]
        dir: DirArg,
        /// Print one JSON document on stdout: every file's statements, with ENVSUB applied
        #[arg(long)]
        json: bool,
    },
    /// Lint migration files before anything runs: goose mistakes, squawk's PostgreSQL safety rules,
    /// ClickHouse rules and your conventions (migrate.toml [lint]). Exit 1 on errors (on warnings too with
    /// --strict)
    Lint {
        /// Files to lint instead of the directory
        files: Vec<String>,
        #[command(flatten)]
        dir: DirArg,
        /// text, json, sarif (code scanning) or github (Actions annotations) [default: text]
        #[arg(long, value_name = "FORMAT", value_parser = ["text", "json", "sarif", "github"])]
        format: Option<String>,
        /// Same as --format json
        #[arg(long)]
        json: bool,
        /// Warnings fail too
        #[arg(long)]
        strict: bool,
        /// postgres or clickhouse: which rules apply [env: GOOSE_DRIVER] [default: guessed per file]
        #[arg(long, value_name = "NAME")]
        driver: Option<String>,
        /// The PostgreSQL version the migrations target, e.g. 11 (squawk's version-aware rules) [default: the
        /// connected server's, else migrate.toml's pg-version, else 15]
        #[arg(long, value_name = "VERSION")]
        pg_version: Option<String>,
        /// Also connect: the server's version, and applied migrations edited since they ran (checksums)
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// The version table, with --database-url [env: GOOSE_TABLE] [default: goose_db_version]
        #[arg(long, value_name = "NAME")]
        table: Option<String>,
        /// ClickHouse cluster mode: replicated engines and ON CLUSTER are expected (as cluster = true in
        /// migrate.toml)
        #[arg(long, value_name = "NAME")]
        clickhouse_cluster: Option<String>,
    },
    /// Create the migrations directory with a first migration
    Init {
        #[command(flatten)]
        dir: DirArg,
    },
    /// Print goose's environment variables (GOOSE_DBSTRING with its password redacted)
    Env,
    /// Wait until the database accepts connections (for init containers)
    Wait {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Schema tools (PostgreSQL): dump the live schema as DDL
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Compare the live schema with the one the migrations build on a scratch database (or --shadow-url),
    /// or with a committed dump (--against). Exit 1 on drift (PostgreSQL)
    Drift {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        dir: DirArg,
        /// Build the expected schema in this empty database instead of a scratch one (no CREATEDB needed)
        #[arg(long, value_name = "URL")]
        shadow_url: Option<String>,
        /// The expected schema is this dump (from `migrate schema dump`), not the migrations
        #[arg(long, value_name = "FILE")]
        against: Option<PathBuf>,
        /// Print one JSON document on stdout
        #[arg(long)]
        json: bool,
    },
    /// On a scratch database: apply every migration, then from the newest down roll each back, check the
    /// schema is what it was before its Up, and apply it again. Exit 1 on the first that fails (PostgreSQL)
    Test {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        dir: DirArg,
        /// Print one JSON document on stdout
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script
    Completions {
        /// The shell
        shell: Shell,
    },
    /// Print help for the modern form, or for one command
    Help {
        /// The command
        command: Option<String>,
    },
}

/// `schema`'s commands.
#[derive(Debug, Subcommand)]
pub(crate) enum SchemaCommand {
    /// Print the live schema as DDL that re-creates it: the same bytes for the same schema
    Dump {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        dir: DirArg,
        /// Write it to this file instead of stdout
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// The shells completions are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Shell {
    /// bash
    Bash,
    /// zsh
    Zsh,
    /// fish
    Fish,
}

/// `--dir`.
#[derive(Debug, Args)]
pub(crate) struct DirArg {
    /// Directory with migration files [env: GOOSE_MIGRATION_DIR] [default: .]
    #[arg(long, value_name = "DIR")]
    dir: Option<String>,
}

/// The database and how long to spend on it.
#[derive(Args)]
pub(crate) struct DbArgs {
    /// The database URL; the driver follows its scheme [env: DATABASE_URL, GOOSE_DBSTRING]
    #[arg(long, value_name = "URL", help_heading = "Database")]
    database_url: Option<String>,
    /// postgres (pgx, redshift) or clickhouse, when the URL does not say [env: GOOSE_DRIVER]
    #[arg(long, value_name = "NAME", help_heading = "Database")]
    driver: Option<String>,
    /// Host, to build the URL from parts [env: POSTGRES_HOST, CLICKHOUSE_HOST]
    #[arg(long, value_name = "HOST", help_heading = "Database")]
    db_host: Option<String>,
    /// Port [env: POSTGRES_PORT, CLICKHOUSE_PORT]
    #[arg(long, value_name = "PORT", help_heading = "Database")]
    db_port: Option<u16>,
    /// User [env: POSTGRES_USER, CLICKHOUSE_USERNAME]
    #[arg(long, value_name = "USER", help_heading = "Database")]
    db_user: Option<String>,
    /// Database name [env: POSTGRES_DATABASE, CLICKHOUSE_DATABASE]
    #[arg(long, value_name = "NAME", help_heading = "Database")]
    db_name: Option<String>,
    /// Read the password from this environment variable [default: POSTGRES_PASSWORD, CLICKHOUSE_PASSWORD]
    #[arg(long, value_name = "VAR", help_heading = "Database")]
    db_password_env: Option<String>,
    /// Read the password from this file (one trailing newline is dropped)
    #[arg(long, value_name = "PATH", help_heading = "Database")]
    db_password_file: Option<PathBuf>,
    /// Extra URL parameter, e.g. sslmode=require (repeatable)
    #[arg(long, value_name = "KEY=VALUE", help_heading = "Database")]
    db_param: Vec<String>,
    /// The version table [env: GOOSE_TABLE] [default: goose_db_version]
    #[arg(long, value_name = "NAME", help_heading = "Database")]
    table: Option<String>,
    /// Bound on the whole command, a Go duration such as 30s or 1h13m (wait: how long to wait) [default: none; wait: 60s]
    #[arg(long, value_name = "DURATION", value_parser = duration, help_heading = "Database")]
    timeout: Option<Duration>,
    /// ClickHouse: run in cluster mode on this cluster (replicated version tables, ON CLUSTER DDL confirmed on every host)
    #[arg(long, value_name = "NAME", help_heading = "ClickHouse cluster")]
    clickhouse_cluster: Option<String>,
    /// ClickHouse cluster mode: refuse, instead of warning about, a table created without ON CLUSTER or on a non-replicated engine
    #[arg(long, requires = "clickhouse_cluster", help_heading = "ClickHouse cluster")]
    clickhouse_cluster_strict: bool,
    /// ClickHouse cluster mode: how long each ON CLUSTER statement may take on every host [default: 180s]
    #[arg(long, value_name = "DURATION", value_parser = duration, requires = "clickhouse_cluster", help_heading = "ClickHouse cluster")]
    clickhouse_ddl_timeout: Option<Duration>,
}

// DbArgs holds the database URL, which may hold a password.
impl std::fmt::Debug for DbArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbArgs { .. }")
    }
}

/// `--all`: every target of a workspace migrate.toml (`[services.NAME]` x environments x tenants).
#[derive(Debug, Args)]
pub(crate) struct FleetArgs {
    /// Every service and environment of the workspace migrate.toml ([services.NAME]), several at once
    /// (--environment NAME: that environment only)
    #[arg(long, help_heading = "Workspace")]
    all: bool,
    /// Only these services, with --all: a,b
    #[arg(long, value_name = "NAMES", value_delimiter = ',', requires = "all", help_heading = "Workspace")]
    services: Vec<String>,
    /// How many targets at once, with --all [default: 4]
    #[arg(long, value_name = "N", requires = "all", value_parser = clap::value_parser!(u16).range(1..), help_heading = "Workspace")]
    jobs: Option<u16>,
    /// up --all: start no further target after a failure
    #[arg(long, requires = "all", help_heading = "Workspace")]
    fail_fast: bool,
    /// This process's share of the targets, e.g. 0/4 (a Kubernetes Indexed Job: JOB_COMPLETION_INDEX with
    /// MIGRATE_SHARDS=COUNT)
    #[arg(long, value_name = "INDEX/COUNT", requires = "all", help_heading = "Workspace")]
    shard: Option<String>,
}

/// The flags of the commands that write only bookkeeping: baseline, mark-applied, mark-rolled-back, repair.
#[derive(Debug, Args)]
pub(crate) struct MarkArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    dir: DirArg,
    /// Print what it would change, change nothing
    #[arg(long)]
    dry_run: bool,
    /// Print one JSON document on stdout
    #[arg(long)]
    json: bool,
    /// How long to wait for another runner's migration lock [default: 5m]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    lock_wait: Option<Duration>,
    /// Apply without linting the pending migrations first (lint errors refuse a run otherwise)
    #[arg(long)]
    no_lint: bool,
}

/// The flags of the commands that change the database.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    dir: DirArg,
    /// Apply missing (out-of-order) migrations instead of refusing
    #[arg(long)]
    allow_missing: bool,
    /// Run even if an applied migration's file changed since it was applied (a warning instead)
    #[arg(long)]
    allow_changed: bool,
    /// Run by file order and never read or write the version table
    #[arg(long)]
    no_versioning: bool,
    /// Print the plan and the exact statements, with transaction boundaries; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Print one JSON document on stdout
    #[arg(long)]
    json: bool,
    /// How long to wait for another runner's migration lock [default: 5m]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    lock_wait: Option<Duration>,
    /// PostgreSQL: lock_timeout for each transactional migration, so a blocked ALTER gives up instead of
    /// queueing every other query behind it [default: none]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    lock_timeout: Option<Duration>,
    /// Run a migration that timed out on a lock again, up to N times, with back-off (0.5s, 1s, 2s... at
    /// most 10s) [default: 0]
    #[arg(long, value_name = "N")]
    lock_retries: Option<u32>,
    /// Apply without linting the pending migrations first (lint errors refuse a run otherwise)
    #[arg(long)]
    no_lint: bool,
}

fn duration(text: &str) -> Result<Duration, String> {
    parse_go_duration(text).ok_or_else(|| "expected a Go duration such as 30s, 5m or 1h13m".to_owned())
}

/// What a modern command line asks for.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // Made once per process and consumed at once: boxing buys nothing.
pub(crate) enum ModernParsed {
    /// A command.
    Run(Settings),
    /// `completions SHELL`.
    Completions(Shell),
    /// `help [COMMAND]`: the text to print.
    Help(String),
}

/// Parses the arguments (without the program name). clap's own errors, `--help` and `--version` come
/// back as `Err(clap::Error)` for the caller to print.
pub(crate) fn parse(args: &[String]) -> Result<ModernCli, clap::Error> {
    ModernCli::try_parse_from(std::iter::once("migrate".to_owned()).chain(args.iter().cloned()))
}

impl ModernCli {
    /// The `.env` file `--env` selects.
    pub(crate) fn env_file(&self) -> EnvFile {
        EnvFile::from_flag(self.global.env.as_deref())
    }

    /// Resolves the command against the environment.
    pub(crate) fn resolve(&self, env: &Env, read_file: ReadFile<'_>) -> Result<ModernParsed, CliError> {
        let (command, db, dir, run) = match &self.command {
            ModernCommand::Up { run, .. } => {
                (migrate_cmd(migrate::Command::Up), Some(&run.db), Some(&run.dir), Some(run))
            }
            ModernCommand::UpByOne(run) => {
                (migrate_cmd(migrate::Command::UpByOne), Some(&run.db), Some(&run.dir), Some(run))
            }
            ModernCommand::UpTo { version, run } => {
                (migrate_cmd(migrate::Command::UpTo(*version)), Some(&run.db), Some(&run.dir), Some(run))
            }
            ModernCommand::Down(run) => (migrate_cmd(migrate::Command::Down), Some(&run.db), Some(&run.dir), Some(run)),
            ModernCommand::DownTo { version, run } => {
                (migrate_cmd(migrate::Command::DownTo(*version)), Some(&run.db), Some(&run.dir), Some(run))
            }
            ModernCommand::Redo(run) => (migrate_cmd(migrate::Command::Redo), Some(&run.db), Some(&run.dir), Some(run)),
            ModernCommand::Reset(run) => {
                (migrate_cmd(migrate::Command::Reset), Some(&run.db), Some(&run.dir), Some(run))
            }
            ModernCommand::Status { db, dir, .. } => (Command::Status, Some(db), Some(dir), None),
            ModernCommand::Version { db, dir, .. } => (Command::Version, Some(db), Some(dir), None),
            ModernCommand::Verify { db, dir, .. } => (Command::Verify, Some(db), Some(dir), None),
            ModernCommand::Baseline { version, mark } => {
                (Command::Mark(migrate::Mark::Baseline(*version)), Some(&mark.db), Some(&mark.dir), None)
            }
            ModernCommand::MarkApplied { versions, mark } => {
                (Command::Mark(migrate::Mark::Applied(versions.clone())), Some(&mark.db), Some(&mark.dir), None)
            }
            ModernCommand::MarkRolledBack { versions, mark } => {
                (Command::Mark(migrate::Mark::RolledBack(versions.clone())), Some(&mark.db), Some(&mark.dir), None)
            }
            ModernCommand::Repair { versions, mark } => {
                (Command::Repair { versions: versions.clone() }, Some(&mark.db), Some(&mark.dir), None)
            }
            ModernCommand::Create { name, kind, dir, .. } => {
                (Command::Create { name: name.clone(), kind: kind.clone() }, None, Some(dir), None)
            }
            ModernCommand::Fix { dir } => (Command::Fix, None, Some(dir), None),
            ModernCommand::Validate { files, dir, .. } => {
                (Command::Validate { files: files.clone() }, None, Some(dir), None)
            }
            ModernCommand::Lint { files, dir, .. } => (Command::Lint { files: files.clone() }, None, Some(dir), None),
            ModernCommand::Init { dir } => (Command::Init, None, Some(dir), None),
            ModernCommand::Env => (Command::Env, None, None, None),
            ModernCommand::Wait { db } => (Command::Wait, Some(db), None, None),
            ModernCommand::Schema(SchemaCommand::Dump { db, dir, out }) => {
                (Command::SchemaDump { out: out.clone() }, Some(db), Some(dir), None)
            }
            ModernCommand::Drift { db, dir, shadow_url, against, .. } => (
                Command::Drift { shadow_url: shadow_url.clone().map(ShadowUrl), against: against.clone() },
                Some(db),
                Some(dir),
                None,
            ),
            ModernCommand::Test { db, dir, .. } => (Command::SchemaTest, Some(db), Some(dir), None),
            ModernCommand::Completions { shell } => return Ok(ModernParsed::Completions(*shell)),
            ModernCommand::Help { command } => return help(command.as_deref()).map(ModernParsed::Help),
        };
        let mut settings = Settings::new(command);
        let ops_flags = self.global.ops();
        let dir_flag = dir.and_then(|d| d.dir.as_deref());
        let project = Project::load(&ops_flags, dir_flag, env, read_file)?;
        settings.dir = project.dir(dir_flag, env);
        settings.ops = project.operations(&ops_flags, &settings.dir, env)?;
        settings.verbose = self.global.verbose;
        settings.no_color = self.global.no_color || env.get("NO_COLOR").and_then(parse_bool) == Some(true);
        let fleet_args = match &self.command {
            ModernCommand::Up { fleet, .. } | ModernCommand::Status { fleet, .. } if fleet.all => Some(fleet),
            _ => None,
        };
        if let Some(fleet) = fleet_args {
            settings.fleet = Some(Box::new(fleet.resolve(&project, &ops_flags, db, env)?));
        }
        let configured = project.database(&settings.ops.service)?;
        let db = db.filter(|_| settings.fleet.is_none());
        if let Some(db) = db {
            settings.table = project.table(db.table.as_deref(), env);
            settings.database = Some(resolve_database(&db.flags(), env, read_file, configured.as_ref())?);
            settings.timeout = db.timeout.filter(|t| !t.is_zero());
            settings.clickhouse_cluster = db.clickhouse_cluster.clone().map(|name| ClusterFlags {
                name,
                strict: db.clickhouse_cluster_strict,
                ddl_timeout: db.clickhouse_ddl_timeout,
            });
        }
        if let Some(run) = run {
            settings.allow_missing = run.allow_missing;
            settings.allow_changed = run.allow_changed;
            settings.no_versioning = run.no_versioning;
            settings.dry_run = run.dry_run;
            settings.json = run.json;
            settings.lock_wait = run.lock_wait;
            settings.lock_timeout = run.lock_timeout.filter(|t| !t.is_zero());
            settings.lock_retries = run.lock_retries.unwrap_or(0);
            settings.lint.no_lint = run.no_lint;
        }
        if let Some(environment) = project.environment() {
            settings.lock_wait = settings.lock_wait.or(environment.lock_wait);
            if run.is_some_and(|run| run.lock_timeout.is_none()) {
                settings.lock_timeout = environment.lock_timeout;
            }
            if run.is_some_and(|run| run.lock_retries.is_none()) {
                settings.lock_retries = environment.lock_retries.unwrap_or(0);
            }
            settings.lint.no_lint |= environment.lint == Some(false);
        }
        match &self.command {
            ModernCommand::Status { no_versioning, json, exit_code, .. } => {
                settings.no_versioning = *no_versioning;
                settings.json = *json;
                settings.exit_code = *exit_code;
            }
            ModernCommand::Version { no_versioning, json, .. } => {
                settings.no_versioning = *no_versioning;
                settings.json = *json;
            }
            ModernCommand::Create { sequential, .. } => settings.sequential = *sequential,
            ModernCommand::Lint {
                format,
                json,
                strict,
                driver,
                pg_version,
                database_url,
                table,
                clickhouse_cluster,
                ..
            } => {
                settings.clickhouse_cluster =
                    clickhouse_cluster.clone().map(|name| ClusterFlags { name, strict: false, ddl_timeout: None });
                settings.lint = LintFlags {
                    no_lint: false,
                    format: format.clone().or_else(|| json.then(|| "json".to_owned())),
                    strict: *strict,
                    pg_version: pg_version.clone(),
                    dialect: driver.clone().or_else(|| env.non_empty("GOOSE_DRIVER").map(str::to_owned)),
                };
                settings.json = *json || format.as_deref() == Some("json");
                if let Some(url) = database_url {
                    let flags = DbFlags { url: Some(url.clone()), driver: driver.clone(), ..DbFlags::default() };
                    settings.database = Some(resolve_database(&flags, env, read_file, None)?);
                    settings.table = project.table(table.as_deref(), env);
                }
            }
            ModernCommand::Validate { json, .. } | ModernCommand::Verify { json, .. } => settings.json = *json,
            ModernCommand::Baseline { mark, .. }
            | ModernCommand::MarkApplied { mark, .. }
            | ModernCommand::MarkRolledBack { mark, .. }
            | ModernCommand::Repair { mark, .. } => {
                settings.dry_run = mark.dry_run;
                settings.json = mark.json;
                settings.lock_wait = mark.lock_wait.or(settings.lock_wait);
            }
            // What `env` shows: the database as far as it resolves without flags.
            ModernCommand::Env => {
                settings.table = project.table(None, env);
                settings.database = resolve_database(&DbFlags::default(), env, read_file, configured.as_ref()).ok();
            }
            ModernCommand::Wait { .. } => settings.timeout = Some(settings.timeout.unwrap_or(DEFAULT_WAIT)),
            ModernCommand::Drift { json, .. } | ModernCommand::Test { json, .. } => settings.json = *json,
            _ => {}
        }
        Ok(ModernParsed::Run(settings))
    }
}

impl FleetArgs {
    /// The workspace and its selection; a database given on the command line is refused (each target has
    /// its own).
    fn resolve(&self, project: &Project, ops: &OpsFlags, db: Option<&DbArgs>, env: &Env) -> Result<Fleet, CliError> {
        let Some(config) = project.config.clone().filter(|c| !c.services.is_empty()) else {
            return Err(CliError::Usage(
                "--all needs a workspace migrate.toml with [services.NAME] tables (see docs/environments.md)"
                    .to_owned(),
            ));
        };
        if db.is_some_and(|db| db.database_url.is_some() || db.flags().has_parts()) {
            return Err(CliError::Usage(
                "--all takes each target's database from migrate.toml: drop --database-url and the --db-* flags"
                    .to_owned(),
            ));
        }
        for name in &self.services {
            if !config.services.contains_key(name) {
                let known: Vec<&str> = config.services.keys().map(String::as_str).collect();
                return Err(CliError::Usage(format!(
                    "--services: no service {name:?} (the file has: {})",
                    known.join(", ")
                )));
            }
        }
        let shard = match (&self.shard, env.non_empty("JOB_COMPLETION_INDEX"), env.non_empty("MIGRATE_SHARDS")) {
            (Some(text), _, _) => Some(parse_shard(text)?),
            (None, Some(index), Some(count)) => Some(parse_shard(&format!("{index}/{count}"))?),
            _ => None,
        };
        Ok(Fleet {
            config,
            ops: ops.clone(),
            services: self.services.clone(),
            environment: ops
                .environment
                .clone()
                .or_else(|| env.non_empty(migrate_config::ENVIRONMENT_VAR).map(str::to_owned)),
            jobs: usize::from(self.jobs.unwrap_or(4)),
            fail_fast: self.fail_fast,
            shard,
        })
    }
}

/// `INDEX/COUNT`, with INDEX below COUNT.
fn parse_shard(text: &str) -> Result<(u64, u64), CliError> {
    let parsed =
        text.split_once('/').and_then(|(i, n)| Some((i.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((index, count)) if count > 0 && index < count => Ok((index, count)),
        _ => {
            Err(CliError::Usage(format!("shard {text:?}: expected INDEX/COUNT with INDEX from 0 to COUNT-1, e.g. 0/4")))
        }
    }
}

impl DbArgs {
    fn flags(&self) -> DbFlags {
        DbFlags {
            url: self.database_url.clone(),
            driver: self.driver.clone(),
            host: self.db_host.clone(),
            port: self.db_port,
            user: self.db_user.clone(),
            name: self.db_name.clone(),
            password_env: self.db_password_env.clone(),
            password_file: self.db_password_file.clone(),
            params: self.db_param.clone(),
        }
    }
}

fn migrate_cmd(command: migrate::Command) -> Command {
    Command::Migrate(command)
}

/// The help text of the modern form, or of one of its commands.
pub(crate) fn help(command: Option<&str>) -> Result<String, CliError> {
    let mut root = <ModernCli as clap::CommandFactory>::command();
    // Building propagates the binary name, so a command's usage line reads "migrate up", not "up".
    root.build();
    match command {
        None => Ok(root.render_help().to_string()),
        Some(name) => match root.find_subcommand_mut(name) {
            Some(sub) => Ok(sub.render_help().to_string()),
            None => Err(CliError::Usage(format!("no such command {name:?}: see migrate help"))),
        },
    }
}

/// The completion script for `shell`.
pub(crate) fn completions(shell: Shell) -> String {
    let mut command = <ModernCli as clap::CommandFactory>::command();
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(generator, &mut command, "migrate", &mut script);
    String::from_utf8_lossy(&script).into_owned()
}

#[cfg(test)]
mod tests;
