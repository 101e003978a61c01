//! The one apply loop: executes a [`Plan`] through a [`Driver`], and [`migrate`] wraps planning, locking
//! and re-planning around it. The CLI, the library and every driver go through here.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

use crate::before_run::{BeforeRun, RunAbout};
use crate::driver::{AppliedRow, BoxError, CodeFailure, Driver, StatementFailure};
use crate::history::{check_history, checksum_row_of, ChangedMigration, HistoryError};
use crate::parser::ParseWarning;
use crate::plan::{plan, replan, Command, Plan, PlanError, PlanRequest, PlanStep, StepBody};
use crate::preflight::{Preflight, PreflightErrors, PreflightFinding};
use crate::progress::{Progress, StatementsHasher};
use crate::source::Migration;
use crate::stop::StopSignal;
use crate::{Direction, Version};

/// The `tracing` target of the runner's events that repeat a [`RunEvent`] (a migration finished or failed,
/// a parse warning), so a program that prints the `RunEvent`s can leave these out of its log.
pub const RUN_EVENT_TARGET: &str = "migrate_core::runner::events";

/// Options of a run that are not part of the plan.
#[derive(Clone)]
pub struct RunOptions {
    /// Take the driver's lock around ensure-table, re-plan and run (skipped when nothing is pending).
    pub lock: bool,
    /// Run even when an applied migration's Up section changed since it was applied (warn instead).
    pub allow_changed: bool,
    /// Checks the migrations to apply before the lock is taken (lint); its errors refuse the run.
    pub preflight: Option<Arc<dyn Preflight>>,
    /// Stops the run at its next safe point when requested (see [`StopSignal`]).
    pub stop: Option<StopSignal>,
    /// Runs under the lock before the first statement of a run that changes something (a backup); its
    /// error stops the run with nothing applied.
    pub before_run: Option<Arc<dyn BeforeRun>>,
    /// How many times a migration whose statement gave up waiting for a lock (`lock_timeout`) is run
    /// again: a transactional one whole, in a new transaction; a NO TRANSACTION one only when its first
    /// statement was the one (never past it). 0: never.
    pub lock_retries: u32,
}

/// The wait before retry `attempt` (1-based) of a migration that timed out on a lock: 0.5 s, doubling, at
/// most 10 s, so a blocker has time to finish without the runner queueing behind it for long.
///
/// ```
/// use std::time::Duration;
/// let delays: Vec<Duration> = (1..=7).map(migrate_core::lock_retry_delay).collect();
/// assert_eq!(delays.iter().map(Duration::as_millis).collect::<Vec<_>>(), [500, 1000, 2000, 4000, 8000, 10000, 10000]);
/// ```
pub fn lock_retry_delay(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(5))).min(Duration::from_secs(10))
}

impl Default for RunOptions {
    /// Locked, refusing changed history, no preflight check.
    fn default() -> RunOptions {
        RunOptions { lock: true, allow_changed: false, preflight: None, stop: None, before_run: None, lock_retries: 0 }
    }
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("lock", &self.lock)
            .field("allow_changed", &self.allow_changed)
            .field("preflight", &self.preflight.is_some())
            .field("stop", &self.stop)
            .field("before_run", &self.before_run.as_ref().map(|hook| hook.name()))
            .field("lock_retries", &self.lock_retries)
            .finish()
    }
}

/// Something that happened during a run, for logs, progress lines and metrics.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunEvent<'a> {
    /// A file about to run parses but deserves attention (sent once per file, before its first step).
    Warning {
        /// The warning, with the file and line.
        warning: &'a ParseWarning,
    },
    /// An applied migration's file changed since it was applied: a Down section (always a warning), or an
    /// Up section when the run allows changed history.
    Changed {
        /// What changed.
        changed: &'a ChangedMigration,
    },
    /// The preflight check (lint) found something in a migration about to run that does not refuse the
    /// run; sent before the lock is taken.
    PreflightWarning {
        /// The finding.
        finding: &'a PreflightFinding,
    },
    /// Checksums were recorded for applied migrations that had none (applied by goose, or before checksums
    /// were kept); sent once, under the lock.
    ChecksumsRecorded {
        /// Their versions.
        versions: &'a [Version],
    },
    /// A migration starts.
    MigrationStarted {
        /// The step.
        step: &'a PlanStep<'a>,
    },
    /// A statement is about to be sent (outside a transaction), or was sent as part of its migration's
    /// transaction: those are reported once the driver answers, and only the statements that ran (a failed
    /// transaction reports the statements up to and including the one that failed).
    Statement {
        /// The step.
        step: &'a PlanStep<'a>,
        /// Its 0-based index.
        index: usize,
    },
    /// A migration finished.
    MigrationFinished {
        /// Its result.
        result: &'a MigrationResult,
    },
    /// A statement of a migration gave up waiting for a lock (`lock_timeout`): nothing of the attempt took
    /// effect, and the migration runs again after `delay`.
    LockRetry {
        /// The step.
        step: &'a PlanStep<'a>,
        /// The 0-based statement that waited.
        statement: usize,
        /// The retry about to start (1-based).
        attempt: u32,
        /// How many retries are allowed.
        of: u32,
        /// The wait before it.
        delay: Duration,
    },
    /// A migration failed; nothing of it is recorded.
    MigrationFailed {
        /// The step.
        step: &'a PlanStep<'a>,
        /// How long it ran.
        duration: Duration,
        /// The 0-based index of the statement that failed, when a statement did.
        statement: Option<usize>,
    },
}

/// One migration that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationResult {
    /// Its version.
    pub version: Version,
    /// Its file name.
    pub name: String,
    /// Which way it ran.
    pub direction: Direction,
    /// How long it took.
    pub duration: Duration,
    /// Whether its section had no statements (goose logs `EMPTY`).
    pub empty: bool,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Each migration run, in order.
    pub results: Vec<MigrationResult>,
}

/// The outcome of [`migrate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What ran.
    pub report: RunReport,
    /// goose's current version before the run.
    pub version_before: i64,
    /// goose's current version after the run (derived from the rows read and the steps that ran, so no
    /// second read is needed; `None` under no-versioning).
    pub version_after: Option<i64>,
}

/// A failed run: what was applied before the failure, which migration failed, and why.
#[derive(Debug)]
pub struct RunError {
    /// Migrations that completed before the failure (they stay applied).
    pub applied: Vec<MigrationResult>,
    /// The migration that failed, if the failure was inside one.
    pub failed: Option<(Version, String, Direction)>,
    /// Why.
    pub kind: RunErrorKind,
}

impl RunError {
    fn new(kind: RunErrorKind) -> RunError {
        RunError { applied: Vec::new(), failed: None, kind }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.kind.source()
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunErrorKind {
    /// The command could not be planned (including a file that does not parse): nothing ran.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The run was asked to stop ([`StopSignal`]) and did, at a safe point: what it applied before stays
    /// applied and recorded, and `file` (when one was in flight) left nothing behind: rolled back, or (a
    /// resumable migration) recorded as progress that the next run resumes from.
    #[error("{}", stopped_message(file.as_deref(), *resumes_at))]
    Stopped {
        /// The migration in flight when the stop came, if any.
        file: Option<String>,
        /// For a resumable migration stopped between statements: the 1-based statement the next run
        /// starts at.
        resumes_at: Option<usize>,
    },
    /// The [`BeforeRun`] hook (the backup) failed: nothing ran.
    #[error("{hook} failed, so nothing was applied: {source}")]
    BeforeRun {
        /// What failed (`backup`).
        hook: &'static str,
        /// Why.
        source: BoxError,
    },
    /// The preflight check (lint) found errors in migrations about to run: nothing ran.
    #[error("{} {check} error(s) in the migrations to apply; nothing was applied\n{findings}", findings.0.len())]
    Preflight {
        /// What checked (`lint`).
        check: &'static str,
        /// Every error found.
        findings: PreflightErrors,
    },
    /// A statement failed; its migration was rolled back when it ran in a transaction.
    #[error("{file}:{line}: {direction} statement {index} failed: {source}{}", failure_note(*.transaction, *.resumable, *.index))]
    Statement {
        /// The file.
        file: String,
        /// The line the server's error points at (the statement's first line when it gave no position).
        line: usize,
        /// The 1-based index of the statement in its section.
        index: usize,
        /// The direction.
        direction: Direction,
        /// Whether the migration ran in a transaction (and so left no trace).
        transaction: bool,
        /// Whether the statements before it are recorded as progress, so the next run resumes at this one.
        resumable: bool,
        /// The database's error.
        source: BoxError,
    },
    /// Beginning, committing or recording the version failed.
    #[error("{file}: recording {direction} of version {version} failed: {source}")]
    Bookkeeping {
        /// The file.
        file: String,
        /// The version.
        version: Version,
        /// The direction.
        direction: Direction,
        /// The database's error.
        source: BoxError,
    },
    /// An unfinished migration's completed statements changed since they ran: resuming could skip or
    /// repeat work.
    #[error("{file}: {done} of {total} {direction} statements ran before it failed, and {problem}; restore them as they were (fix only statement {next} onwards), or undo their effects by hand and clear the recorded progress")]
    ResumeMismatch {
        /// The file.
        file: String,
        /// Which way it was running.
        direction: Direction,
        /// Statements that completed.
        done: usize,
        /// Statements the section had then.
        total: usize,
        /// The first statement to run on resume (1-based).
        next: usize,
        /// What changed.
        problem: &'static str,
    },
    /// An applied migration's Up section changed since it was applied: nothing ran.
    #[error("{changed}")]
    Changed {
        /// What changed (the first of them).
        changed: ChangedMigration,
    },
    /// The applied migrations' files could not be checked against their checksums.
    #[error("checking the applied migrations' checksums failed: {0}")]
    History(#[from] HistoryError),
    /// Recording per-statement progress failed.
    #[error("{file}: recording progress failed: {source}")]
    Progress {
        /// The file.
        file: String,
        /// The error.
        source: BoxError,
    },
    /// A code migration cannot run here.
    #[error("{file}: code migrations are not supported by this runner")]
    CodeUnsupported {
        /// The migration.
        file: String,
    },
    /// A code migration's function returned an error.
    #[error("{file}: {direction} code migration failed: {source}{}", code_failed_note(*.transaction))]
    Code {
        /// The migration.
        file: String,
        /// The direction.
        direction: Direction,
        /// Whether it ran in a transaction (and so left no trace).
        transaction: bool,
        /// The function's error.
        source: BoxError,
    },
    /// Talking to the database failed outside a migration.
    #[error("{action} failed: {source}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The error.
        source: BoxError,
    },
}

/// What a failed statement left behind and what the next run will do, as the runner will actually do it.
fn failure_note(transaction: bool, resumable: bool, index: usize) -> String {
    match (transaction, resumable, index) {
        (true, _, _) => " (the migration was rolled back; fix the statement and run again)".to_owned(),
        (false, true, 1) => " (no statement of this migration was applied; fix this one and run again)".to_owned(),
        (false, true, _) => format!(
            " (no transaction: statements 1-{} of this migration are applied and recorded; fix statement {index} \
             and run again, and the next run resumes at statement {index}; leave the applied ones unchanged, \
             they are checked)",
            index - 1
        ),
        (false, false, 1) => {
            " (NO TRANSACTION: no statement of this migration was applied; fix it and run again)".to_owned()
        }
        (false, false, _) => format!(
            " (NO TRANSACTION: statements 1-{} stay applied and the version is not recorded; the next run starts \
             this migration again at statement 1, so make those idempotent or undo them, then fix statement \
             {index} and run again)",
            index - 1
        ),
    }
}

fn stopped_message(file: Option<&str>, resumes_at: Option<usize>) -> String {
    match (file, resumes_at) {
        (None, _) => "stopped as asked, between migrations".to_owned(),
        (Some(file), None) => format!("stopped as asked: {file} was in flight and was rolled back (not applied)"),
        (Some(file), Some(next)) => format!(
            "stopped as asked: {file} stopped after statement {}; its progress is recorded and the next run resumes \
             at statement {next}",
            next - 1
        ),
    }
}

fn code_failed_note(transaction: bool) -> &'static str {
    if transaction {
        " (the migration was rolled back; fix it and run again)"
    } else {
        " (it ran outside a transaction: what it did before failing stays and the version is not recorded)"
    }
}

/// Executes a plan, in order, stopping at the first failure.
pub async fn run(
    driver: &mut dyn Driver,
    plan: &Plan<'_>,
    on_event: &mut (dyn FnMut(RunEvent<'_>) + Send),
) -> Result<RunReport, RunError> {
    run_until(driver, plan, None, 0, on_event).await
}

/// [`run`], stopping at the next safe point once `stop` is requested.
async fn run_until(
    driver: &mut dyn Driver,
    plan: &Plan<'_>,
    stop: Option<&StopSignal>,
    lock_retries: u32,
    on_event: &mut (dyn FnMut(RunEvent<'_>) + Send),
) -> Result<RunReport, RunError> {
    let stopping = || stop.is_some_and(StopSignal::is_requested);
    let mut report = RunReport::default();
    let transactions = driver.capabilities().transactions;
    // Progress belongs to recorded steps only (no-versioning runs keep none): no read without one.
    let progress = if driver.keeps_progress() && plan.steps().iter().any(|step| step.record) {
        driver
            .list_progress()
            .await
            .map_err(|source| RunError::new(RunErrorKind::Database { action: "reading migration progress", source }))?
    } else {
        Vec::new()
    };
    for (index, step) in plan.steps().iter().enumerate() {
        if stopping() {
            return Err(RunError {
                applied: report.results,
                failed: None,
                kind: RunErrorKind::Stopped { file: None, resumes_at: None },
            });
        }
        for warning in plan.warnings_at(index) {
            tracing::warn!(target: RUN_EVENT_TARGET, file = step.migration.name(), "{warning}");
            on_event(RunEvent::Warning { warning });
        }
        let previous = progress.iter().find(|p| p.version == step.version());
        if step.record && driver.keeps_checksums() {
            let row = match step.direction {
                Direction::Up => checksum_row_of(step.migration).map_err(|e| RunError::new(e.into()))?,
                Direction::Down => None,
            };
            driver.stage_checksum(step.version(), row);
        }
        on_event(RunEvent::MigrationStarted { step });
        let started = Instant::now();
        let span = tracing::info_span!(
            "migration",
            version = step.version().get(),
            file = step.migration.name(),
            direction = %step.direction,
            duration_ms = tracing::field::Empty,
        );
        let outcome =
            run_step(driver, step, transactions, previous, stop, lock_retries, on_event).instrument(span.clone()).await;
        let duration = started.elapsed();
        span.record("duration_ms", duration.as_secs_f64() * 1000.0);
        if let Err(mut kind) = outcome {
            // A stop that cancelled the migration's transaction shows as its statement failing.
            let cancelled = matches!(kind, RunErrorKind::Statement { transaction: true, .. });
            if stopping() && cancelled {
                kind = RunErrorKind::Stopped { file: Some(step.migration.path().to_owned()), resumes_at: None };
            }
            let statement = match &kind {
                RunErrorKind::Statement { index, .. } => index.checked_sub(1),
                _ => None,
            };
            on_event(RunEvent::MigrationFailed { step, duration, statement });
            tracing::warn!(
                target: RUN_EVENT_TARGET,
                version = step.version().get(),
                file = step.migration.name(),
                ?duration,
                "migration failed"
            );
            return Err(RunError {
                applied: report.results,
                failed: Some((step.version(), step.migration.name().to_owned(), step.direction)),
                kind,
            });
        }
        let result = MigrationResult {
            version: step.version(),
            name: step.migration.name().to_owned(),
            direction: step.direction,
            duration,
            // A code migration is empty when it has no function for the direction, as goose's Go ones are.
            empty: match &step.body {
                StepBody::Sql { statements, .. } => statements.is_empty(),
                StepBody::Code { runs, .. } => !runs,
            },
        };
        tracing::info!(
            target: RUN_EVENT_TARGET,
            version = result.version.get(),
            file = %result.name,
            ?duration,
            "migration finished"
        );
        on_event(RunEvent::MigrationFinished { result: &result });
        report.results.push(result);
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)] // The step's context, each passed on as it is.
async fn run_step(
    driver: &mut dyn Driver,
    step: &PlanStep<'_>,
    transactions: bool,
    previous: Option<&Progress>,
    stop: Option<&StopSignal>,
    lock_retries: u32,
    on_event: &mut (dyn FnMut(RunEvent<'_>) + Send),
) -> Result<(), RunErrorKind> {
    let record = step.record.then_some((step.version(), step.direction));
    let file = step.migration.path();
    let bookkeeping = |source: BoxError| RunErrorKind::Bookkeeping {
        file: file.to_owned(),
        version: step.version(),
        direction: step.direction,
        source,
    };
    let statements = match &step.body {
        StepBody::Sql { statements, .. } => statements,
        StepBody::Code { runs: false, .. } => {
            // No function for this direction: goose still records the version.
            if let Some((version, direction)) = record {
                driver.record(version, direction).await.map_err(bookkeeping)?;
            }
            return Ok(());
        }
        StepBody::Code { runs: true, transaction } => {
            let in_transaction = *transaction && transactions;
            let code_failure = |failure: CodeFailure| match failure {
                CodeFailure::Unsupported => RunErrorKind::CodeUnsupported { file: file.to_owned() },
                CodeFailure::Failed(source) => RunErrorKind::Code {
                    file: file.to_owned(),
                    direction: step.direction,
                    transaction: in_transaction,
                    source,
                },
                CodeFailure::Bookkeeping(source) => bookkeeping(source),
            };
            if in_transaction {
                return driver
                    .execute_code_in_transaction(step.version(), step.direction, record)
                    .await
                    .map_err(code_failure);
            }
            driver.execute_code(step.version(), step.direction).await.map_err(code_failure)?;
            if let Some((version, direction)) = record {
                driver.record(version, direction).await.map_err(bookkeeping)?;
            }
            return Ok(());
        }
    };
    let in_transaction = step.transaction() && transactions;
    let keeps_progress = driver.keeps_progress() && step.record;
    let failure = |failure: StatementFailure| match failure.statement.and_then(|i| statements.get(i).map(|s| (i, s))) {
        Some((index, statement)) => RunErrorKind::Statement {
            file: file.to_owned(),
            line: failure.position.map_or(statement.line(), |p| statement.line_of_position(p)),
            index: index + 1,
            direction: step.direction,
            transaction: in_transaction,
            resumable: !in_transaction && keeps_progress,
            source: failure.error,
        },
        None => bookkeeping(failure.error),
    };
    if in_transaction {
        let mut attempt = 0;
        loop {
            let executed = driver.execute_in_transaction(statements, record).await;
            let ran = match &executed {
                Err(StatementFailure { statement: Some(index), .. }) => (index + 1).min(statements.len()),
                _ => statements.len(),
            };
            for index in 0..ran {
                on_event(RunEvent::Statement { step, index });
            }
            match executed {
                // Rolled back whole: run it again in a new transaction, its checksum row staged again.
                Err(f) if f.lock_timeout && attempt < lock_retries && !stop.is_some_and(StopSignal::is_requested) => {
                    attempt += 1;
                    let delay = lock_retry_delay(attempt);
                    let statement = f.statement.unwrap_or(0);
                    tracing::warn!(target: RUN_EVENT_TARGET, file, attempt, ?delay, "a statement timed out waiting for a lock; retrying the migration");
                    on_event(RunEvent::LockRetry { step, statement, attempt, of: lock_retries, delay });
                    sleep(delay).await;
                    restage_checksum(driver, step).map_err(RunErrorKind::from)?;
                }
                other => return other.map_err(failure),
            }
        }
    }
    let (start, mut hasher) = match previous {
        Some(previous) if keeps_progress => check_resume(step, statements, previous)?,
        _ => (0, StatementsHasher::default()),
    };
    if start > 0 {
        tracing::info!(file, resume_at = start + 1, total = statements.len(), "resuming an unfinished migration");
    }
    for (index, statement) in statements.iter().enumerate().skip(start) {
        // Only a migration whose progress is recorded can stop between statements and leave nothing
        // half-done: the next run resumes it here. Any other runs to its end.
        if keeps_progress && index > start && stop.is_some_and(StopSignal::is_requested) {
            return Err(RunErrorKind::Stopped { file: Some(file.to_owned()), resumes_at: Some(index + 1) });
        }
        on_event(RunEvent::Statement { step, index });
        // Statements in a transaction are sent by the driver in one call; here the runner sends each one,
        // so it can time each one.
        let span = tracing::info_span!(
            "statement",
            version = step.version().get(),
            file,
            index = index + 1,
            line = statement.line(),
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let mut executed = driver.execute(statement).instrument(span.clone()).await;
        // Only the first statement of a migration run outside a transaction is retried: nothing of it ran.
        let mut attempt = 0;
        let first = index == 0 && start == 0;
        while let Err(f) = &executed {
            if !(first && f.lock_timeout && attempt < lock_retries && !stop.is_some_and(StopSignal::is_requested)) {
                break;
            }
            attempt += 1;
            let delay = lock_retry_delay(attempt);
            on_event(RunEvent::LockRetry { step, statement: 0, attempt, of: lock_retries, delay });
            sleep(delay).await;
            executed = driver.execute(statement).await;
        }
        span.record("duration_ms", started.elapsed().as_secs_f64() * 1000.0);
        executed.map_err(|mut f| {
            f.statement = Some(index);
            failure(f)
        })?;
        // After the last statement the version row follows at once and supersedes progress, so saving it
        // would cost a round trip per migration for nothing (a one-statement migration keeps goose's cost).
        let last = index + 1 == statements.len();
        if keeps_progress && !last {
            hasher.add(statement);
            let progress = Progress {
                version: step.version(),
                direction: step.direction,
                done: index + 1,
                total: statements.len(),
                checksum: hasher.hex(),
            };
            driver
                .save_progress(&progress)
                .await
                .map_err(|source| RunErrorKind::Progress { file: file.to_owned(), source })?;
        }
    }
    if let Some((version, direction)) = record {
        driver.record(version, direction).await.map_err(bookkeeping)?;
    }
    // Progress exists only if this run saved some (more than one statement) or resumed from some.
    if keeps_progress && (start > 0 || statements.len() > 1) {
        driver
            .clear_progress(step.version())
            .await
            .map_err(|source| RunErrorKind::Progress { file: file.to_owned(), source })?;
    }
    Ok(())
}

/// Stages a step's checksum row again, for a retry (the driver takes it with the first attempt).
fn restage_checksum(driver: &mut dyn Driver, step: &PlanStep<'_>) -> Result<(), crate::history::HistoryError> {
    if step.record && driver.keeps_checksums() {
        let row = match step.direction {
            Direction::Up => checksum_row_of(step.migration)?,
            Direction::Down => None,
        };
        driver.stage_checksum(step.version(), row);
    }
    Ok(())
}

/// Waits `delay` on whatever runtime drives the run: the core depends on none, so a helper thread sleeps
/// and wakes the task (a retry waits seconds; a thread for it costs nothing next to that).
async fn sleep(delay: Duration) {
    SleepFuture::new(delay).await;
}

/// A future that completes once a helper thread has slept for the delay.
struct SleepFuture {
    state: Arc<std::sync::Mutex<(bool, Option<std::task::Waker>)>>,
}

impl SleepFuture {
    fn new(delay: Duration) -> SleepFuture {
        let state = Arc::new(std::sync::Mutex::new((false, None::<std::task::Waker>)));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            if let Ok(mut state) = shared.lock() {
                state.0 = true;
                if let Some(waker) = state.1.take() {
                    waker.wake();
                }
            }
        });
        SleepFuture { state }
    }
}

impl std::future::Future for SleepFuture {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        match self.state.lock() {
            Ok(mut state) => {
                if state.0 {
                    return std::task::Poll::Ready(());
                }
                state.1 = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
            // A poisoned lock means the sleeping thread panicked: do not wait for it.
            Err(_) => std::task::Poll::Ready(()),
        }
    }
}

/// Where an unfinished migration resumes: after its completed statements, if they are unchanged; with the
/// checksum hasher already over them.
fn check_resume(
    step: &PlanStep<'_>,
    statements: &[crate::Statement<'_>],
    previous: &Progress,
) -> Result<(usize, StatementsHasher), RunErrorKind> {
    let mismatch = |problem: &'static str| RunErrorKind::ResumeMismatch {
        file: step.migration.path().to_owned(),
        direction: previous.direction,
        done: previous.done,
        total: previous.total,
        next: previous.done + 1,
        problem,
    };
    if previous.direction != step.direction {
        return Err(mismatch("now it is asked to run the other way"));
    }
    let Some(completed) = statements.get(..previous.done) else {
        return Err(mismatch("the file now has fewer statements than that"));
    };
    // The hasher goes on over the statements still to run, for the progress saved after each.
    let mut hasher = StatementsHasher::default();
    for statement in completed {
        hasher.add(statement);
    }
    if hasher.hex() != previous.checksum {
        return Err(mismatch("those statements have changed since"));
    }
    Ok((previous.done, hasher))
}

/// Plans and runs a command the safe way: plan without the lock (so a runner with nothing to do never
/// waits), then take the lock, ensure the version table, read it again, plan again and run. The lock is
/// released on every path.
pub async fn migrate(
    driver: &mut dyn Driver,
    migrations: &[Migration],
    request: &PlanRequest,
    options: &RunOptions,
    lookup: &(dyn Fn(&str) -> Option<String> + Sync),
    on_event: &mut (dyn FnMut(RunEvent<'_>) + Send),
) -> Result<Outcome, RunError> {
    let span = tracing::info_span!("migrate", command = ?request.command);
    async move {
        let mut first = None;
        if !request.no_versioning {
            // The version and checksum rows in one round trip where the driver can (a no-op if read ahead).
            if driver.keeps_checksums() {
                driver.prefetch_history().await;
            }
            let rows = read_rows(driver).await?;
            check_checksums(driver, migrations, &rows, options, on_event).await?;
            let planned = plan(migrations, &rows, request, lookup).map_err(|e| RunError::new(e.into()))?;
            let up_like = matches!(request.command, Command::Up | Command::UpTo(_));
            if planned.is_empty() && up_like {
                let version = planned.current_version();
                return Ok(Outcome {
                    report: RunReport::default(),
                    version_before: version,
                    version_after: Some(version),
                });
            }
            preflight(options, migrations, &planned, lookup, on_event)?;
            first = Some(planned);
        }
        if !options.lock {
            return locked_section(driver, migrations, request, options, lookup, first, on_event).await;
        }
        driver
            .acquire()
            .await
            .map_err(|source| RunError::new(RunErrorKind::Database { action: "taking the migration lock", source }))?;
        let result = locked_section(driver, migrations, request, options, lookup, first, on_event).await;
        let released = driver.release().await;
        match (result, released) {
            (Ok(outcome), Ok(())) => Ok(outcome),
            (Ok(outcome), Err(source)) => Err(RunError {
                applied: outcome.report.results,
                failed: None,
                kind: RunErrorKind::Database { action: "releasing the migration lock", source },
            }),
            (Err(error), released) => {
                if let Err(release_error) = released {
                    tracing::error!(error = %release_error, "releasing the migration lock failed after an error");
                }
                Err(error)
            }
        }
    }
    .instrument(span)
    .await
}

/// Runs the preflight check over the plan's Up steps: warnings become events, errors refuse the run.
#[allow(clippy::result_large_err)] // The run's one error type, as the async steps around it return it.
fn preflight(
    options: &RunOptions,
    migrations: &[Migration],
    plan: &Plan<'_>,
    lookup: &(dyn Fn(&str) -> Option<String> + Sync),
    on_event: &mut (dyn FnMut(RunEvent<'_>) + Send),
) -> Result<(), RunError> {
    let Some(check) = &options.preflight else { return Ok(()) };
    let pending: Vec<&Migration> =
        plan.steps().iter().filter(|step| step.direction == Direction::Up).map(|step| step.migration).collect();
    if pending.is_empty() {
        return Ok(());
    }
    let (errors, warnings): (Vec<_>, Vec<_>) =
        check.check(migrations, &pending, lookup).into_iter().partition(|finding| finding.error);
    for finding in &warnings {
        tracing::warn!(target: RUN_EVENT_TARGET, "{finding}");
        on_event(RunEvent::PreflightWarning { finding });
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(RunError::new(RunErrorKind::Preflight { check: check.name(), findings: PreflightErrors(errors) }))
}

/// Refuses a run when an applied migration's Up section changed since it was applied (unless allowed),
/// and reports changed Down sections; reads the checksums only when the driver keeps them.
async fn check_checksums(
    driver: &mut dyn Driver,
    migrations: &[Migration],
    rows: &[AppliedRow],
    options: &RunOptions,
    on_event: &mut (dyn FnMut(RunEvent<'_>) + Send),
) -> Result<(), RunError> {
    if !driver.keeps_checksums() {
        return Ok(());
    }
    let recorded = driver
        .list_checksums()
        .await
        .map_err(|source| RunError::new(RunErrorKind::Database { action: "reading the migration checksums", source }))?
        .unwrap_or_default();
    let check = check_history(migrations, rows, &recorded).map_err(|e| RunError::new(e.into()))?;
    for changed in &check.changed {
        if changed.direction == Direction::Up && !options.allow_changed {
            return Err(RunError::new(RunErrorKind::Changed { changed: changed.clone() }));
        }
        tracing::warn!(target: RUN_EVENT_TARGET, "{changed}");
        on_event(RunEvent::Changed { changed });
    }
    Ok(())
}

/// Under the lock: creates the checksum table when missing, records the checksums of applied migrations
/// that have none, and saves the new file digest of those whose bytes changed but not their checksums.
async fn adopt_checksums(
    driver: &mut dyn Driver,
    migrations: &[Migration],
    rows: &[AppliedRow],
    on_event: &mut (dyn FnMut(RunEvent<'_>) + Send),
) -> Result<(), RunError> {
    if !driver.keeps_checksums() {
        return Ok(());
    }
    let database = |action: &'static str| move |source| RunError::new(RunErrorKind::Database { action, source });
    let recorded = driver.list_checksums().await.map_err(database("reading the migration checksums"))?;
    if recorded.is_none() {
        driver.ensure_checksum_table().await.map_err(database("creating the checksum table"))?;
    }
    let check = check_history(migrations, rows, recorded.as_deref().unwrap_or_default())
        .map_err(|e| RunError::new(e.into()))?;
    if check.unrecorded.is_empty() && check.redigested.is_empty() {
        return Ok(());
    }
    let rows = [check.unrecorded.as_slice(), check.redigested.as_slice()].concat();
    driver.save_checksums(&rows).await.map_err(database("recording the migration checksums"))?;
    if check.unrecorded.is_empty() {
        return Ok(());
    }
    let versions: Vec<Version> = check.unrecorded.iter().map(|row| row.version).collect();
    tracing::info!(target: RUN_EVENT_TARGET, count = versions.len(), "recorded the checksums of applied migrations");
    on_event(RunEvent::ChecksumsRecorded { versions: &versions });
    Ok(())
}

async fn read_rows(driver: &mut dyn Driver) -> Result<Vec<AppliedRow>, RunError> {
    match driver.list_applied().await {
        Ok(rows) => Ok(rows.unwrap_or_default()),
        Err(source) => Err(RunError::new(RunErrorKind::Database { action: "reading the version table", source })),
    }
}

/// Plans again from the rows as they are under the lock (reusing what `first` parsed) and runs the plan.
async fn locked_section<'m>(
    driver: &mut dyn Driver,
    migrations: &'m [Migration],
    request: &PlanRequest,
    options: &RunOptions,
    lookup: &(dyn Fn(&str) -> Option<String> + Sync),
    first: Option<Plan<'m>>,
    on_event: &mut (dyn FnMut(RunEvent<'_>) + Send),
) -> Result<Outcome, RunError> {
    // Without versioning nothing was planned before the lock; the check runs on this plan instead.
    let checked = first.is_some();
    let rows = if request.no_versioning {
        Vec::new()
    } else {
        driver
            .ensure_table()
            .await
            .map_err(|source| RunError::new(RunErrorKind::Database { action: "creating the version table", source }))?;
        let rows = read_rows(driver).await?;
        adopt_checksums(driver, migrations, &rows, on_event).await?;
        rows
    };
    let plan = match first {
        Some(first) => replan(first, migrations, &rows, request, lookup),
        None => plan(migrations, &rows, request, lookup),
    }
    .map_err(|e| RunError::new(e.into()))?;
    if !checked {
        preflight(options, migrations, &plan, lookup, on_event)?;
    }
    if let (Some(hook), Some(first)) = (&options.before_run, plan.steps().first()) {
        let about =
            RunAbout { current_version: plan.current_version(), steps: plan.steps().len(), direction: first.direction };
        hook.before_run(&about)
            .await
            .map_err(|source| RunError::new(RunErrorKind::BeforeRun { hook: hook.name(), source }))?;
    }
    let report = run_until(driver, &plan, options.stop.as_ref(), options.lock_retries, on_event).await?;
    let version_after = (!request.no_versioning).then(|| version_after(&rows, &report));
    Ok(Outcome { report, version_before: plan.current_version(), version_after })
}

/// The current version once the results are applied to the rows as the driver records them: an up adds
/// the newest row, a down removes the version's rows.
fn version_after(rows: &[AppliedRow], report: &RunReport) -> i64 {
    let mut rows = rows.to_vec();
    for result in &report.results {
        match result.direction {
            Direction::Up => rows.insert(0, AppliedRow::new(result.version.get(), true, None)),
            Direction::Down => rows.retain(|row| row.version != result.version.get()),
        }
    }
    crate::plan::current_version(&rows).unwrap_or(0)
}
