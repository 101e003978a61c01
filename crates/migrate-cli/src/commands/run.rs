//! up, up-by-one, up-to, down, down-to, redo, reset: goose's log lines while the library's runner
//! works, then goose's summary line (or one JSON document).

use std::process::ExitCode;

use std::sync::atomic::{AtomicBool, Ordering};

use std::sync::Arc;

use migrate::{migrate, BeforeRun, Command, Direction, PlanRequest, RunEvent, RunOptions, StopSignal};

use crate::commands::backup::{self, BackupHook};
use crate::commands::{dry_run, lint, metrics, migrations_and_connection, signals};
use crate::drivers::Target;
use crate::env::Env;
use crate::error::CliError;
use crate::output::json::{self, MigrationDoc, RunDoc};
use crate::output::{go_duration, live, Level, Output, Style};
use crate::settings::Settings;

pub(crate) async fn run(command: Command, settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    let (migrations, kind, mut driver) = migrations_and_connection(settings, env, out).await?;
    let request = PlanRequest { command, allow_missing: settings.allow_missing, no_versioning: settings.no_versioning };
    if settings.dry_run {
        return dry_run::show(driver.as_mut(), kind, &migrations, &request, settings, env, out).await;
    }
    let transactions = driver.capabilities().transactions;
    let verbose = settings.verbose;
    let live = out.live();
    let ticker = live.clone().map(|live| {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(live::TICK).await;
                live.tick();
            }
        })
    });
    let grey = |text: &str| out.log(&out.paint(Style::Grey, text));
    // Whether the migration that is running has a transaction, for -v's Begin/Commit/Rollback lines, and
    // for a signal: only a transaction in flight is cancelled.
    let in_transaction = AtomicBool::new(false);
    let mut on_event = |event: RunEvent<'_>| match event {
        RunEvent::Warning { warning } => out.warn(&out.paint(Style::Yellow, &format!("warning: {warning}"))),
        RunEvent::Changed { changed } => out.warn(&out.paint(Style::Yellow, &format!("warning: {changed}"))),
        // goose's form keeps goose's log byte for byte; `migrate lint` shows every finding with its fix.
        RunEvent::PreflightWarning { finding } if !settings.goose_form => out.warn(&out.paint(
            Style::Yellow,
            &format!("lint: {}:{}: warning[{}] {}", finding.file, finding.line, finding.rule, finding.message),
        )),
        RunEvent::ChecksumsRecorded { versions } => out.log(&format!(
            "recorded the checksums of {} applied migration(s) that had none (applied by goose, or before checksums \
             were kept); later edits to them are caught",
            versions.len()
        )),
        RunEvent::MigrationStarted { step } => {
            if let Some(live) = &live {
                live.start(step.migration.name());
            }
            in_transaction.store(step.transaction() && transactions, Ordering::SeqCst);
            if verbose && in_transaction.load(Ordering::SeqCst) {
                grey("Begin transaction");
            }
        }
        RunEvent::Statement { step, index } if verbose => {
            if let Some(statement) = step.statements().get(index) {
                grey(&format!("Executing statement: {}", statement.text()));
            }
        }
        RunEvent::MigrationFinished { result } => {
            if let Some(live) = &live {
                live.stop();
            }
            if in_transaction.swap(false, Ordering::SeqCst) && verbose {
                grey("Commit transaction");
            }
            let (label, pad) = if result.empty { ("EMPTY", " ") } else { ("OK", "   ") };
            let style = if result.empty { Style::Yellow } else { Style::Green };
            let line = format!("{}{pad}{} ({})", out.paint(style, label), result.name, go_duration(result.duration));
            out.log_at(
                Level::Info,
                &line,
                &[
                    ("version", result.version.get().into()),
                    ("file", result.name.clone().into()),
                    ("direction", result.direction.to_string().into()),
                    ("duration", result.duration.as_secs_f64().into()),
                ],
            );
        }
        RunEvent::LockRetry { step, statement, attempt, of, delay } => {
            let line = step.statements().get(statement).map_or(0, |s| s.line());
            out.warn(&out.paint(
                Style::Yellow,
                &format!(
                    "warning: {}:{line}: timed out waiting for a lock (lock_timeout); nothing of it took effect, \
                     running it again in {} (retry {attempt} of {of})",
                    step.migration.name(),
                    go_duration(delay)
                ),
            ));
        }
        RunEvent::MigrationFailed { step, statement, .. } => {
            if let Some(live) = &live {
                live.stop();
            }
            if let Some(statement) = statement.filter(|_| verbose) {
                let line = step.statements().get(statement).map_or(0, |s| s.line());
                grey(&format!("Stopped at statement {} (line {line}): it failed", statement + 1));
            }
            if in_transaction.swap(false, Ordering::SeqCst) && verbose {
                grey("Rollback transaction");
            }
        }
        _ => {}
    };
    let lookup = |name: &str| env.lookup(name);
    let stop = StopSignal::new();
    let backup = match &settings.database {
        Some(database) if settings.ops.backup.is_some() => {
            let target = Target::parse(database.driver, database.dsn(), env)?;
            BackupHook::for_run(settings, env, target, driver.server_major_version(), out)?
        }
        _ => None,
    };
    let backup_taken = backup.as_ref().map(BackupHook::taken);
    let options = RunOptions {
        lock: true,
        allow_changed: settings.allow_changed,
        preflight: lint::preflight(settings, kind, driver.as_ref()),
        stop: Some(stop.clone()),
        before_run: backup.map(|hook| Arc::new(hook) as Arc<dyn BeforeRun>),
        lock_retries: settings.lock_retries,
    };
    let canceller = driver.canceller();
    let running = migrate(driver.as_mut(), &migrations, &request, &options, &lookup, &mut on_event);
    let outcome = signals::until_done(running, &stop, canceller, &in_transaction, out).await;
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    if let (Err(_), Some(taken)) = (&outcome, &backup_taken) {
        backup::restore_hint(taken, out);
    }
    if metrics::wanted(settings) && !settings.no_versioning {
        metrics::read_state(driver.as_mut(), &migrations, out).await;
    }
    let outcome = outcome?;
    out.note_run(outcome.version_before, outcome.version_after, outcome.report.results.len());
    summary(command, settings, &migrations, &outcome, out);
    if settings.json {
        let document = RunDoc {
            command: settings.command.name(),
            ok: true,
            dry_run: false,
            version_before: (!settings.no_versioning).then_some(outcome.version_before),
            version_after: outcome.version_after,
            migrations: outcome.report.results.iter().map(MigrationDoc::from).collect(),
            failed: None,
            error: None,
            backup: out.notes().backup,
        };
        out.stdout(&json::render(&document, out.secrets()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// goose's closing line for the command.
fn summary(
    command: Command,
    settings: &Settings,
    migrations: &[migrate::Migration],
    outcome: &migrate::Outcome,
    out: &Output,
) {
    let results = &outcome.report.results;
    let version_after = outcome.version_after;
    let last = |direction: Direction| results.iter().rev().find(|r| r.direction == direction);
    match (command, settings.no_versioning) {
        (Command::Up | Command::UpTo(_), false) => match last(Direction::Up) {
            Some(result) => out.log(&format!("goose: successfully migrated database to version: {}", result.version)),
            None => out.log(&format!("goose: no migrations to run. current version: {}", outcome.version_before)),
        },
        (Command::Up | Command::UpTo(_), true) => {
            if let Some(result) = last(Direction::Up) {
                out.log(&format!("goose: up to current file version: {}", result.version));
            }
        }
        (Command::DownTo(_), false) => {
            out.log(&format!("goose: no migrations to run. current version: {}", version_after.unwrap_or(0)));
        }
        (Command::Down | Command::DownTo(_), true) => {
            // goose names the highest file below the last one rolled back.
            if let Some(lowest) = last(Direction::Down) {
                let remaining = migrations.iter().map(|m| m.version()).filter(|v| *v < lowest.version).max();
                out.log(&format!("goose: down to current file version: {}", remaining.map_or(0, |v| v.get())));
            }
        }
        _ => {}
    }
}
