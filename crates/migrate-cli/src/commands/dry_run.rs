//! `--dry-run`: read the version table (no lock, no writes, no table creation), plan with the library's
//! planner, and print what would run, statement by statement, with the transaction boundaries and the
//! version-row changes the driver would send. Nothing is changed.
//!
//! The text form is an SQL script with `--` comments, so it reads like what the server will see.

use std::fmt::Write;
use std::process::ExitCode;

use migrate::{plan, Driver, Migration, PlanRequest, PlanStep, Progress};

use crate::drivers::{self, DriverKind};
use crate::env::Env;
use crate::error::CliError;
use crate::output::json::{self, PlanDoc, StepDoc};
use crate::output::Output;
use crate::settings::Settings;

pub(crate) async fn show(
    driver: &mut dyn Driver,
    kind: DriverKind,
    migrations: &[Migration],
    request: &PlanRequest,
    settings: &Settings,
    env: &Env,
    out: &Output,
) -> Result<ExitCode, CliError> {
    let read_failed = |error| CliError::failed(format!("reading the version table failed: {error}"));
    let (rows, table_exists) = if request.no_versioning {
        (Vec::new(), true)
    } else {
        match driver.list_applied().await.map_err(read_failed)? {
            Some(rows) => (rows, true),
            None => (Vec::new(), false),
        }
    };
    let progress = if driver.keeps_progress() && !request.no_versioning {
        driver.list_progress().await.map_err(|e| CliError::failed(format!("reading migration progress failed: {e}")))?
    } else {
        Vec::new()
    };
    let plan = plan(migrations, &rows, request, &|name| env.lookup(name))?;
    let transactions = driver.capabilities().transactions;
    let version_row = |step: &PlanStep<'_>| -> Result<Option<String>, CliError> {
        if step.record {
            drivers::version_row_sql(kind, &settings.table, step.version(), step.direction).map(Some)
        } else {
            Ok(None)
        }
    };
    if settings.json {
        let mut steps = Vec::with_capacity(plan.steps().len());
        for step in plan.steps() {
            steps.push(StepDoc::new(step, step.transaction() && transactions, version_row(step)?));
        }
        let document = PlanDoc {
            command: settings.command.name(),
            ok: true,
            dry_run: true,
            version_before: plan.current_version(),
            version_table_exists: table_exists,
            steps,
        };
        out.stdout(&json::render(&document, out.secrets()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = String::new();
    let count = plan.steps().len();
    let _ = writeln!(
        text,
        "-- migrate {} --dry-run: {count} migration{} would run; nothing was changed",
        settings.command.name(),
        if count == 1 { "" } else { "s" }
    );
    if !request.no_versioning {
        let table = drivers::table_display(kind, &settings.table)?;
        let _ = writeln!(text, "-- current version: {}", plan.current_version());
        if !table_exists {
            let _ = writeln!(
                text,
                "-- the version table {table} does not exist: it would be created first, with its version 0 row"
            );
        }
        if count > 0 {
            let _ = writeln!(text, "-- the migration lock is taken before the first step and released after the last");
        }
    }
    if let (Some(backup), true) = (&settings.ops.backup, count > 0) {
        let mode = match backup.mode {
            migrate_config::BackupMode::Required => "required: nothing runs unless it succeeds",
            migrate_config::BackupMode::Optional => "optional",
        };
        let what = match &backup.method {
            migrate_config::BackupMethodConfig::PgDump { path, .. } => format!("pg_dump to {path}"),
            migrate_config::BackupMethodConfig::Command { argv, .. } => argv.join(" "),
        };
        let _ = writeln!(text, "-- a backup is taken under the lock before the first step ({mode}): {what}");
    }
    for warning in plan.warnings() {
        let _ = writeln!(text, "-- warning: {warning}");
    }
    for step in plan.steps() {
        write_step(&mut text, step, step.transaction() && transactions, version_row(step)?, &progress);
    }
    out.stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn write_step(
    text: &mut String,
    step: &PlanStep<'_>,
    transaction: bool,
    version_row: Option<String>,
    progress: &[Progress],
) {
    let direction = step.direction;
    let mode = if transaction { "in one transaction" } else { "no transaction" };
    let _ = writeln!(text, "\n-- {}: {direction}, version {} ({mode})", step.migration.name(), step.version());
    if step.statements().is_empty() {
        let _ = writeln!(text, "-- no statements in this direction (goose logs EMPTY); the version is still recorded");
    }
    let skip = match progress.iter().find(|p| p.version == step.version() && p.direction == step.direction) {
        Some(previous) if !transaction => {
            let _ = writeln!(
                text,
                "-- an earlier run stopped after statement {} of {}: it resumes after it if those are unchanged",
                previous.done, previous.total
            );
            previous.done
        }
        _ => 0,
    };
    if transaction {
        text.push_str("BEGIN;\n");
    }
    for statement in step.statements().iter().skip(skip) {
        let _ = writeln!(text, "-- {}:{}", step.migration.path(), statement.line());
        let _ = writeln!(text, "{}", statement.text());
    }
    if let Some(row) = version_row {
        let _ = writeln!(text, "{row};");
    }
    if transaction {
        text.push_str("COMMIT;\n");
    }
}
