//! Backups taken before a production migration run: PostgreSQL's own `pg_dump`, verified with
//! `pg_restore --list`, or a command template (clickhouse-backup, an S3 upload, ClickHouse's `BACKUP`).
//!
//! The runner calls [`take_backup`] once something is pending, after taking the lock and before the
//! first statement; when it fails and the backup is required, nothing is applied. The
//! [`BackupReport`] says where the backup went, how big it is, and the command that restores it,
//! which the runner prints if a migration fails afterwards.
//!
//! The built-in backup ([`BackupMethod::PgDump`]):
//!
//! - checks `pg_dump --version` against the server's major version first, because pg_dump refuses
//!   to dump a newer server ([`BackupError::PgDumpTooOld`] says how to fix it);
//! - connects only through the child's environment (`PGHOST`, `PGPASSWORD`, ...), never its command
//!   line, which every user of the machine can read;
//! - refuses a missing directory (a backup volume that is not mounted) and an existing file;
//! - writes `PATH.partial` (mode 0600) and gives it the final name only once `pg_restore --list`
//!   has read it back, so a file with the final name is always a complete, readable dump.
//!
//! A password never appears in a message, `Debug` output, the restore command or a child's command
//! line; whatever pg_dump or a command prints is scrubbed of it as well.
//!
//! See `docs/backups.md` for the configuration the CLI reads.

#![deny(missing_docs)]

mod command;
mod error;
mod pg_dump;
mod pg_env;
mod process;
mod template;
mod version;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use migrate_postgres::PgConnSpec;

pub use crate::error::BackupError;
pub use crate::pg_env::BACKUP_APPLICATION_NAME;
pub use crate::process::STDERR_TAIL_LINES;
pub use crate::template::{expand_template, sanitise, PLACEHOLDERS};
pub use crate::version::{parse_tool_version, ToolVersion};

/// How to take the backup: `PgDump { path, pg_dump }` (PostgreSQL's `pg_dump --format=custom` to a path
/// template such as `/backups/{database}_{timestamp}.dump` (see [`expand_template`]), whose directory must
/// exist and file must not; `pg_restore` is taken from pg_dump's directory when it is there) or `Command {
/// argv, restore }` (a program run with templated arguments, without a shell; its stdout's last non-empty
/// line is the backup's location; `restore` is printed, shell-quoted, never run). The type is
/// `migrate.toml`'s own (`[environments.NAME.backup]`), so the file and the backup share one definition.
pub use migrate_config::BackupMethodConfig as BackupMethod;

/// What the templates and the backup command are told about the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupContext {
    /// The service (`{service}`).
    pub service: String,
    /// The environment, such as `prod` (`{environment}`).
    pub environment: String,
    /// The database name (`{database}`).
    pub database: String,
    /// The database's version before the run (`{version}`).
    pub version: i64,
    /// When the backup is taken (`{timestamp}`, written as `20240506T070809Z`).
    pub now: DateTime<Utc>,
}

/// The database being backed up.
#[derive(Clone)]
pub enum BackupTarget<'a> {
    /// A PostgreSQL server, as the run connected to it.
    Postgres {
        /// The parsed connection; pg_dump gets it through its environment.
        spec: &'a PgConnSpec,
        /// The server's major version (`server_version_num / 10000`), if the runner knows it. When it
        /// does not, pg_dump's own refusal of a newer server is recognised instead.
        server_major: Option<u32>,
    },
    /// Any other database (ClickHouse); only a backup command can back it up.
    Other {
        /// Variables for the backup command, such as `CLICKHOUSE_PASSWORD`. Values are never logged,
        /// and those of variables whose names contain `PASS`, `SECRET`, `TOKEN`, `KEY`, `CREDENTIAL`
        /// or `AUTH` are also scrubbed from what the command prints.
        env: Vec<(String, String)>,
    },
}

impl fmt::Debug for BackupTarget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackupTarget::Postgres { spec, server_major } => {
                f.debug_struct("Postgres").field("spec", spec).field("server_major", server_major).finish()
            }
            // Names only: any value could be a secret.
            BackupTarget::Other { env } => f
                .debug_struct("Other")
                .field("env", &env.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// What a successful backup produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The local file written: the dump, or the file a backup command printed, if it exists.
    pub path: Option<PathBuf>,
    /// Where the backup is, for people: the dump's path, or the backup command's last line of output
    /// (such as `s3://bucket/app_20240506T070809Z`).
    pub location: Option<String>,
    /// The size of [`BackupReport::path`].
    pub size_bytes: Option<u64>,
    /// How long the backup took, checks and verification included.
    pub duration: Duration,
    /// The command that restores this backup, ready to print; it holds no password (pg_restore reads
    /// it from `PGPASSWORD` or `~/.pgpass`).
    pub restore_command: Option<String>,
    /// How many entries `pg_restore --list` found in the dump's table of contents.
    pub entries: Option<usize>,
    /// The pg_dump version used, such as `15.20`.
    pub tool_version: Option<String>,
}

impl BackupReport {
    /// The report as a JSON object for the run's JSON report: `path`, `location`, `size_bytes`,
    /// `duration_ms`, `entries`, `tool_version` and `restore_command`, `null` when unknown.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "path": self.path.as_ref().map(|path| path.to_string_lossy()),
            "location": self.location,
            "size_bytes": self.size_bytes,
            "duration_ms": u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX),
            "entries": self.entries,
            "tool_version": self.tool_version,
            "restore_command": self.restore_command,
        })
    }
}

/// One line for the log: `backup /backups/app.dump (1234 bytes, 17 entries) in 0.4s`.
impl fmt::Display for BackupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "backup {}", self.location.as_deref().unwrap_or("taken"))?;
        match (self.size_bytes, self.entries) {
            (Some(size), Some(entries)) => write!(f, " ({size} bytes, {entries} entries)")?,
            (Some(size), None) => write!(f, " ({size} bytes)")?,
            _ => {}
        }
        write!(f, " in {:.1}s", self.duration.as_secs_f64())
    }
}

/// Takes the backup `method` describes of `target`, within `timeout` if one is given (the running
/// program is killed when it passes, and its partial file removed).
///
/// Dropping the returned future (a cancelled run) kills the running program too, and removes the
/// partial dump.
pub async fn take_backup(
    method: &BackupMethod,
    target: &BackupTarget<'_>,
    context: &BackupContext,
    timeout: Option<Duration>,
) -> Result<BackupReport, BackupError> {
    let started = tokio::time::Instant::now();
    let deadline = timeout.map(|total| process::Deadline { at: started + total, total });
    let mut report = match method {
        BackupMethod::PgDump { path, pg_dump } => {
            let BackupTarget::Postgres { spec, server_major } = target else {
                return Err(BackupError::NotPostgres { database: context.database.clone() });
            };
            pg_dump::backup(path, pg_dump.as_deref(), spec, *server_major, context, deadline).await?
        }
        BackupMethod::Command { argv, restore } => {
            command::backup(argv, restore.as_deref(), target, context, deadline).await?
        }
    };
    report.duration = started.elapsed();
    tracing::info!(
        location = report.location.as_deref().unwrap_or(""),
        size_bytes = report.size_bytes,
        entries = report.entries,
        duration_ms = u64::try_from(report.duration.as_millis()).unwrap_or(u64::MAX),
        "{report}"
    );
    Ok(report)
}
