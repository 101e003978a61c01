//! The CLI's one error type and how each kind maps to goose's exit codes.

use std::process::ExitCode;
use std::time::Duration;

use migrate::{PlanError, ResolveError, RunError};

use crate::output::go_duration;

/// Exit code for success.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit code for every runtime failure (goose's `log.Fatalf`).
pub(crate) const EXIT_FAILURE: u8 = 1;
/// Exit code for a flag or argument error (Go's `flag.ExitOnError`).
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code of `status --exit-code` when migrations are pending: distinct from 1 and 2 so a script can
/// tell "pending" from "broken".
pub(crate) const EXIT_PENDING: u8 = 3;
/// Exit code of a run stopped by SIGTERM or SIGINT at a safe point: what ran is recorded, the migration in
/// flight rolled back (or, resumable, recorded as progress), the lock released. Run again to go on.
pub(crate) const EXIT_STOPPED: u8 = 4;

/// Everything that can go wrong in the CLI. Messages say what failed and what to do, and never hold a
/// password: DSNs are shown redacted, and driver errors are already redacted by the drivers.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// Bad flags or arguments in the modern form, or a bad flag value in goose's form (exit 2).
    #[error("{0}")]
    Usage(String),
    /// clap's own rendering of an argument error in the modern form (exit 2), printed as it is.
    #[error("{0}")]
    Rendered(String),
    /// An argument that is present but wrong (an unknown command or driver, a bad version number, version
    /// table name or DSN): reported as one log line like a failure, with exit code 2.
    #[error("{0}")]
    BadArgument(String),
    /// goose's "not enough arguments" class: usage is printed and the exit code is 1, as goose does.
    #[error("{0}")]
    GooseUsage(String),
    /// The migration files could not be resolved.
    #[error("{}{}", .0, resolve_hint(.0))]
    Resolve(#[from] ResolveError),
    /// The command could not be planned (or a file the plan needs does not parse).
    #[error("{}{}", .0, plan_hint(.0))]
    Plan(#[from] PlanError),
    /// A run failed; the report of what was applied before the failure is kept for the output.
    #[error("{}{}", .0, run_hint(.0))]
    Run(Box<RunError>),
    /// The whole command ran out of time.
    #[error("timed out after {}: raise -timeout (--timeout), or find what is slow or blocked", go_duration(*.0))]
    Timeout(Duration),
    /// Any other failure, already phrased for the user.
    #[error("{0}")]
    Failed(String),
    /// stdout was closed (`migrate status | head`): stop quietly and exit 0, as ripgrep does.
    #[error("broken pipe")]
    BrokenPipe,
}

impl CliError {
    /// A failure with a message that says what failed and what to do.
    pub(crate) fn failed(message: impl Into<String>) -> CliError {
        CliError::Failed(message.into())
    }

    /// goose's exit code for this error.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Usage(_) | CliError::Rendered(_) | CliError::BadArgument(_) => EXIT_USAGE,
            CliError::BrokenPipe => EXIT_OK,
            CliError::Run(error) if matches!(error.kind, migrate::RunErrorKind::Stopped { .. }) => EXIT_STOPPED,
            _ => EXIT_FAILURE,
        })
    }

    /// The file and line the error points at, when it points at one.
    pub(crate) fn location(&self) -> Option<(String, Option<usize>)> {
        match self {
            CliError::Plan(PlanError::Parse(error)) => Some((error.file().to_owned(), Some(error.line()))),
            CliError::Run(error) => match &error.kind {
                migrate::RunErrorKind::Statement { file, line, .. } => Some((file.clone(), Some(*line))),
                migrate::RunErrorKind::Changed { changed } => {
                    Some((changed.file.clone(), changed.statement.map(|(_, line)| line)))
                }
                migrate::RunErrorKind::Plan(PlanError::Parse(error)) => {
                    Some((error.file().to_owned(), Some(error.line())))
                }
                migrate::RunErrorKind::Bookkeeping { file, .. }
                | migrate::RunErrorKind::ResumeMismatch { file, .. }
                | migrate::RunErrorKind::Progress { file, .. }
                | migrate::RunErrorKind::CodeUnsupported { file } => Some((file.clone(), None)),
                _ => None,
            },
            _ => None,
        }
    }
}

/// What to do about a directory that is not there, in the CLI's terms (the library states the fact).
fn resolve_hint(error: &ResolveError) -> &'static str {
    let missing_dir = error.problems().iter().any(|p| matches!(p, migrate::ResolveProblem::MissingDirectory { .. }));
    if missing_dir {
        "; pass the right one with --dir (goose's form: -dir), or set GOOSE_MIGRATION_DIR"
    } else {
        ""
    }
}

/// What to do about migrations added out of order.
fn plan_hint(error: &PlanError) -> String {
    match error {
        PlanError::Missing { db_version, .. } => format!(
            "; apply them with --allow-missing (goose's form: -allow-missing), or renumber them above {db_version}"
        ),
        _ => String::new(),
    }
}

/// What to do about a failed run, in the CLI's own terms (the library states only the fact).
fn run_hint(error: &RunError) -> String {
    match &error.kind {
        migrate::RunErrorKind::Plan(plan) => plan_hint(plan),
        migrate::RunErrorKind::Changed { .. } => "; nothing ran. Restore the file as it was applied (never edit an \
            applied migration: add a new one), or, if the edit was intended and the database already matches it, \
            record the file as it is now with `migrate repair VERSION` (or apply with --allow-changed, goose's \
            form -allow-changed, which reports the edit again on every run until it is repaired)"
            .to_owned(),
        migrate::RunErrorKind::Stopped { .. } => {
            "; the lock is released and what ran before is recorded: run again to go on".to_owned()
        }
        migrate::RunErrorKind::Preflight { .. } => {
            "\nFix the findings, silence one with a `-- migrate:lint-ignore RULE \
            reason` line above its statement, or run once without lint with --no-lint (goose's form: -no-lint)"
                .to_owned()
        }
        _ => lock_wait_hint(error).to_owned(),
    }
}

/// What to do about a lock timeout.
fn lock_wait_hint(error: &RunError) -> &'static str {
    let Some(source) = std::error::Error::source(error) else {
        return "";
    };
    let postgres = source
        .downcast_ref::<migrate::postgres::PgError>()
        .is_some_and(|e| matches!(e, migrate::postgres::PgError::LockTimeout { .. }));
    let clickhouse = source
        .downcast_ref::<migrate::clickhouse::ChError>()
        .is_some_and(|e| matches!(e, migrate::clickhouse::ChError::LockTimeout { .. }));
    if postgres || clickhouse {
        "; to let it finish first, wait longer with --lock-wait (goose's form: -lock-wait), e.g. 15m"
    } else {
        ""
    }
}

impl From<RunError> for CliError {
    fn from(error: RunError) -> CliError {
        CliError::Run(Box::new(error))
    }
}
