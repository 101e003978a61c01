//! `schema dump`, `drift` and `test`: the schema tools of migrate-schema, on PostgreSQL. Each builds what
//! it needs on a scratch database that the library always drops; a SIGINT or SIGTERM abandons the work,
//! which drops it too (the guard's `Drop`), before the command exits.

use std::future::Future;
use std::path::Path;
use std::process::ExitCode;

use migrate::postgres::PgConnSpec;
use migrate::{DirectorySource, Migrator};
use migrate_schema::{Expected, Finding, ReadOptions, TestFinding, Workspace};
use serde::Serialize;
use tokio::signal::unix::{signal, SignalKind};

use crate::commands::target;
use crate::drivers::Target;
use crate::env::Env;
use crate::error::{CliError, EXIT_FAILURE};
use crate::output::{json, Output, Style};
use crate::settings::{Settings, ShadowUrl};

/// `schema dump [--out FILE]`.
pub(crate) async fn dump(
    file: Option<&Path>,
    settings: &Settings,
    env: &Env,
    out: &Output,
) -> Result<ExitCode, CliError> {
    let spec = postgres(settings, env, out)?;
    let options = read_options(settings)?;
    let schema =
        until_signal(migrate_schema::read_database(&spec.to_connect_options(), &spec.redacted(), &options), out)
            .await?
            .map_err(schema_error("reading the schema"))?;
    let text = migrate_schema::dump(&schema);
    match file {
        Some(path) => {
            std::fs::write(path, &text)
                .map_err(|error| CliError::failed(format!("writing {} failed: {error}", path.display())))?;
            out.log(&format!("schema dump written to {}", path.display()));
        }
        None => out.stdout(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The JSON document of `drift --json`.
#[derive(Serialize)]
struct DriftDoc<'a> {
    command: &'static str,
    ok: bool,
    findings: &'a [Finding],
}

/// `drift [--shadow-url URL] [--against FILE] [--json]`.
pub(crate) async fn drift(
    shadow_url: Option<&ShadowUrl>,
    against: Option<&Path>,
    settings: &Settings,
    env: &Env,
    out: &Output,
) -> Result<ExitCode, CliError> {
    let live = postgres(settings, env, out)?;
    let options = read_options(settings)?;
    let shadow = match shadow_url {
        Some(url) => Some(
            PgConnSpec::parse(&url.0, &|name| env.lookup(name))
                .map_err(|error| CliError::BadArgument(format!("--shadow-url: invalid PostgreSQL DSN: {error}")))?,
        ),
        None => None,
    };
    let workspace = match &shadow {
        Some(spec) => Workspace::Shadow(spec),
        None => Workspace::Scratch(&live),
    };
    let dump_text = match against {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|error| CliError::failed(format!("reading {} failed: {error}", path.display())))?,
        ),
        None => None,
    };
    let migrator = migrator(settings);
    let expected = match &dump_text {
        Some(text) => Expected::Dump(text),
        None => Expected::Migrations(&migrator),
    };
    let findings = until_signal(migrate_schema::drift(expected, workspace, &live, &options), out)
        .await?
        .map_err(schema_error("drift"))?;
    if settings.json {
        let document = DriftDoc { command: "drift", ok: findings.is_empty(), findings: &findings };
        out.stdout(&json::render(&document, out.secrets()))?;
    } else {
        for finding in &findings {
            out.log(&format!("{} {finding}", out.paint(Style::Yellow, "drift:")));
        }
        let source = if against.is_some() { "the dump" } else { "the migrations" };
        match findings.len() {
            0 => out.log(&format!("drift: none; the database's schema is the one {source} build")),
            n => out.log(&format!("drift: {n} finding(s) against the schema {source} build")),
        }
    }
    Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FAILURE) })
}

/// The JSON document of `test --json`.
#[derive(Serialize)]
struct TestDoc<'a> {
    command: &'static str,
    ok: bool,
    migrations: usize,
    findings: &'a [TestFinding],
}

/// `test [--json]`.
pub(crate) async fn test(settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    let server = postgres(settings, env, out)?;
    let options = read_options(settings)?;
    let migrator = migrator(settings);
    let report = until_signal(migrate_schema::test_migrations(&server, &migrator, &options), out)
        .await?
        .map_err(schema_error("test"))?;
    let passed = report.passed();
    if settings.json {
        let document =
            TestDoc { command: "test", ok: passed, migrations: report.migrations, findings: &report.findings };
        out.stdout(&json::render(&document, out.secrets()))?;
    } else {
        for finding in &report.findings {
            let label = if finding.problem.is_error() { "test: error:" } else { "test: warning:" };
            let style = if finding.problem.is_error() { Style::Red } else { Style::Yellow };
            out.log(&format!("{} {finding}", out.paint(style, label)));
        }
        if passed {
            out.log(&format!(
                "test: passed: each of {} migration(s) rolled back to the schema before its Up and applied again",
                report.migrations
            ));
        } else {
            out.log("test: failed");
        }
    }
    Ok(if passed { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FAILURE) })
}

/// The PostgreSQL database the settings name; ClickHouse is refused clearly.
fn postgres(settings: &Settings, env: &Env, out: &Output) -> Result<PgConnSpec, CliError> {
    match target(settings, env, out)?.1 {
        Target::Postgres(spec) => Ok(*spec),
        Target::ClickHouse(_) => Err(CliError::failed(format!(
            "{} is not yet available for ClickHouse: PostgreSQL only for now",
            settings.command.name()
        ))),
    }
}

fn read_options(settings: &Settings) -> Result<ReadOptions, CliError> {
    ReadOptions::for_version_table(&settings.table).map_err(|error| CliError::BadArgument(error.to_string()))
}

fn migrator(settings: &Settings) -> Migrator {
    Migrator::new(DirectorySource::new(&settings.dir)).with_table(settings.table.clone())
}

fn schema_error(what: &'static str) -> impl Fn(migrate_schema::Error) -> CliError {
    move |error| CliError::failed(format!("{what} failed: {error}"))
}

/// Runs `work` to its end unless SIGINT or SIGTERM comes first: then the work is dropped, which drops any
/// scratch database it made (its guard waits for the DROP), and the command fails saying so.
async fn until_signal<T>(work: impl Future<Output = T>, out: &Output) -> Result<T, CliError> {
    let (Ok(mut terminate), Ok(mut interrupt)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        // No signal handling here (no such facility): the default action stays.
        return Ok(work.await);
    };
    let name = {
        tokio::pin!(work);
        tokio::select! {
            done = &mut work => return Ok(done),
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        }
        // `work` is dropped here, with its scratch database.
    };
    out.log(&format!("migrate: {name} received: stopped; the scratch database, if any, was dropped"));
    Err(CliError::failed(format!("{} interrupted by {name}", "the command")))
}
