//! Why a backup was not taken; every message names what to look at and never holds a password.

use std::path::PathBuf;
use std::time::Duration;

/// Why a backup failed. When the run's backup is required, any of these means nothing is applied.
///
/// Output quoted from pg_dump, pg_restore or a backup command is its stderr tail (at most
/// [`STDERR_TAIL_LINES`](crate::STDERR_TAIL_LINES) lines) with every known secret replaced by
/// `xxxxx`; templates are never quoted, only placeholder names and offsets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// A template names a placeholder that does not exist.
    #[error(
        "unknown placeholder `{{{name}}}` at byte {offset} of a backup template; \
         known: {{database}}, {{timestamp}}, {{service}}, {{environment}}, {{version}}"
    )]
    UnknownPlaceholder {
        /// The name between the braces.
        name: String,
        /// The byte offset of its `{` in the template.
        offset: usize,
    },
    /// A template has a `{` with no `}` after it.
    #[error("the `{{` at byte {offset} of a backup template is never closed (write `{{{{` for a literal brace)")]
    UnclosedPlaceholder {
        /// The byte offset of the `{`.
        offset: usize,
    },
    /// The expanded backup path cannot name a file.
    #[error("backup path `{path}` {reason}")]
    InvalidPath {
        /// The expanded path.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A backup command with no program.
    #[error("the backup command is empty: give at least the program to run")]
    EmptyCommand,
    /// The built-in pg_dump backup was asked for a database that is not PostgreSQL.
    #[error("the built-in pg_dump backup needs a PostgreSQL database; use a backup command for {database}")]
    NotPostgres {
        /// The database the run targets.
        database: String,
    },
    /// The directory the backup should go into does not exist.
    ///
    /// It is not created: a backup volume that is not mounted must be noticed, not papered over.
    #[error("backup directory {} does not exist (is the backup volume mounted?); it is not created for you", dir.display())]
    MissingDirectory {
        /// The directory.
        dir: PathBuf,
    },
    /// The backup path's parent exists but is not a directory.
    #[error("{} is not a directory, so no backup can be written into it", dir.display())]
    NotADirectory {
        /// The path that should be a directory.
        dir: PathBuf,
    },
    /// The backup file exists already; it is never overwritten.
    #[error(
        "backup file {} already exists; refusing to overwrite it (put {{timestamp}} in the path template)",
        path.display()
    )]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// The work file of a backup is there already: another backup is writing it, or one was interrupted.
    #[error(
        "{} exists, left by a backup that is still running or was interrupted; remove it if none is running",
        path.display()
    )]
    PartialExists {
        /// The `.partial` file.
        path: PathBuf,
    },
    /// The program to run was not found.
    #[error("{program} not found: {hint}")]
    ToolNotFound {
        /// The program as given (a name looked up on `PATH`, or a path).
        program: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// The program could not be started, or waited for, for another reason.
    #[error("could not run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// `pg_dump --version` printed nothing that reads as a version.
    #[error("could not read a version from `{program} --version`, which printed `{output}`")]
    UnreadableVersion {
        /// The program.
        program: String,
        /// Its output (first line, scrubbed).
        output: String,
    },
    /// pg_dump is older than the server, which pg_dump refuses to dump.
    #[error(
        "pg_dump {pg_dump} ({program}) is older than the server (PostgreSQL {server}) and cannot dump it: \
         put pg_dump {server_major} or newer on PATH, or set backup.pg_dump to one, such as \
         \"/usr/lib/postgresql/{server_major}/bin/pg_dump\""
    )]
    PgDumpTooOld {
        /// The pg_dump program used.
        program: String,
        /// pg_dump's version, such as `15.20`.
        pg_dump: String,
        /// The server's version (its major version when that is all that is known).
        server: String,
        /// The server's major version, which pg_dump must at least have.
        server_major: u32,
    },
    /// pg_dump or the backup command exited unsuccessfully.
    #[error("{what} failed ({status}){}", stderr_suffix(stderr))]
    Failed {
        /// What ran: `pg_dump`, or `backup command <program>`.
        what: String,
        /// How it ended, such as `exit status: 1`.
        status: String,
        /// Its stderr tail, scrubbed.
        stderr: String,
    },
    /// `pg_restore --list` could not read the dump: the file is not a usable backup.
    #[error("backup {} could not be verified: pg_restore --list failed ({status}){}", path.display(), stderr_suffix(stderr))]
    VerifyFailed {
        /// The dump that was checked (its `.partial` name; it has been removed).
        path: PathBuf,
        /// How pg_restore ended.
        status: String,
        /// Its stderr tail, scrubbed.
        stderr: String,
    },
    /// pg_dump reported success but wrote nothing.
    #[error("pg_dump wrote an empty file {}", path.display())]
    EmptyFile {
        /// The file (removed).
        path: PathBuf,
    },
    /// The backup did not finish in time; the running program was killed (and a partial dump removed).
    #[error("{what} did not finish within {}; it was stopped", format_duration(*timeout))]
    TimedOut {
        /// What was running.
        what: String,
        /// The configured limit.
        timeout: Duration,
    },
    /// A file-system step failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done, such as `create` or `rename`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// `: <stderr>` on a new line when there is any stderr, else nothing.
fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(":\n{stderr}")
    }
}

/// A duration as a person writes it in the config: `30m`, `1h30m`, `45s`, `1.5s`.
pub(crate) fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if duration.subsec_nanos() != 0 || secs == 0 {
        return format!("{}s", duration.as_secs_f64());
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut text = String::new();
    for (value, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if value != 0 {
            text.push_str(&format!("{value}{unit}"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_config() {
        assert_eq!(format_duration(Duration::from_secs(1800)), "30m");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(45)), "45s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }
}
