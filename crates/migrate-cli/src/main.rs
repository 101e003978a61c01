//! The `migrate` command: goose's invocation and output, over the migrate library. Only arguments and
//! output live here; planning and running are the library's.

mod args;
mod output;

use std::process::ExitCode;

use migrate::postgres::{PgConfig, PgConnSpec, PgDriver, TableName};
use migrate::{
    current_version, migrate, resolve, status, Command, Direction, DirectorySource, Migration, PlanRequest,
    ProgressStore, RunEvent, RunOptions, StatusState, VersionStore,
};

use crate::args::{ArgsError, CliCommand, Invocation, Parsed};
use crate::output::{go_duration, log};

const USAGE: &str = "Usage: migrate [OPTIONS] DRIVER DBSTRING COMMAND

Drivers:
    postgres, pgx, redshift, clickhouse

Commands:
    up                   Migrate the DB to the most recent version available
    up-by-one            Migrate the DB up by 1
    up-to VERSION        Migrate the DB to a specific VERSION
    down                 Roll back the version by 1
    down-to VERSION      Roll back to a specific VERSION
    redo                 Re-run the latest migration
    reset                Roll back all migrations
    status               Dump the migration status for the current DB
    version              Print the current version of the database

Options:
    -dir string          directory with migration files (default \".\", or GOOSE_MIGRATION_DIR)
    -table string        migrations table name (default \"goose_db_version\", or GOOSE_TABLE)
    -allow-missing       apply missing (out-of-order) migrations
    -no-versioning       apply migrations without versioning, in file order
    -timeout duration    maximum time for the whole run (e.g. 30s, 1h13m)
    -v                   print each statement
    -h                   print this help
    -version             print the version

Environment: GOOSE_DRIVER, GOOSE_DBSTRING, GOOSE_MIGRATION_DIR, GOOSE_TABLE, PGHOST, PGPORT, PGUSER,
PGPASSWORD, PGDATABASE, PGSSLMODE.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args::parse(&args, &env) {
        Ok(Parsed::Help) => {
            print_stdout(USAGE);
            ExitCode::SUCCESS
        }
        Ok(Parsed::Version) => {
            print_stdout(&format!("migrate version: {}\n", env!("CARGO_PKG_VERSION")));
            ExitCode::SUCCESS
        }
        Ok(Parsed::Run(invocation)) => match run_with_timeout(&invocation) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                log(&format!("migrate run: {error}"));
                ExitCode::from(1)
            }
        },
        Err(ArgsError::Usage(message)) => {
            print_stderr(&format!("{message}\n{USAGE}"));
            ExitCode::from(2)
        }
        Err(ArgsError::Missing(message)) => {
            print_stderr(&format!("{message}\n{USAGE}"));
            ExitCode::from(1)
        }
    }
}

#[allow(clippy::disallowed_methods)] // The CLI is where the environment is read.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[allow(clippy::print_stdout)] // Usage and version go to stdout, as goose's do.
fn print_stdout(text: &str) {
    print!("{text}");
}

#[allow(clippy::print_stderr)]
fn print_stderr(text: &str) {
    eprint!("{text}");
}

type CliError = Box<dyn std::error::Error + Send + Sync>;

fn run_with_timeout(invocation: &Invocation) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        match invocation.timeout.filter(|t| !t.is_zero()) {
            Some(timeout) => tokio::time::timeout(timeout, run(invocation))
                .await
                .map_err(|_| format!("timed out after {}: raise -timeout", go_duration(timeout)))?,
            None => run(invocation).await,
        }
    })
}

async fn run(invocation: &Invocation) -> Result<(), CliError> {
    let migrations = resolve(&DirectorySource::new(&invocation.dir), &[])?;
    match invocation.driver.as_str() {
        "postgres" | "pgx" | "redshift" => {}
        "clickhouse" => return Err("the clickhouse driver is not available in this build yet".into()),
        other => return Err(format!("{other:?}: unknown dialect").into()),
    }
    let spec = PgConnSpec::parse(&invocation.dbstring, &env)?;
    let config = PgConfig { table: TableName::parse(&invocation.table)?, ..PgConfig::default() };
    let mut driver = PgDriver::connect_spec(&spec, config).await?;
    let command = match invocation.command {
        CliCommand::Status => return print_status(&mut driver, &migrations, invocation.no_versioning).await,
        CliCommand::Version => return print_version(&mut driver, &migrations, invocation.no_versioning).await,
        CliCommand::Up => Command::Up,
        CliCommand::UpByOne => Command::UpByOne,
        CliCommand::UpTo(version) => Command::UpTo(version),
        CliCommand::Down => Command::Down,
        CliCommand::DownTo(version) => Command::DownTo(version),
        CliCommand::Redo => Command::Redo,
        CliCommand::Reset => Command::Reset,
    };
    let request =
        PlanRequest { command, allow_missing: invocation.allow_missing, no_versioning: invocation.no_versioning };
    let verbose = invocation.verbose;
    let mut on_event = |event: RunEvent<'_>| match event {
        RunEvent::MigrationFinished { result } => {
            let label = if result.empty { "EMPTY" } else { "OK   " };
            log(&format!(
                "{label}{}{} ({})",
                if result.empty { " " } else { "" },
                result.name,
                go_duration(result.duration)
            ));
        }
        RunEvent::Statement { step, index } if verbose => {
            if let Some(statement) = step.statements().get(index) {
                log(&format!("Executing statement: {}", statement.text()));
            }
        }
        _ => {}
    };
    let lookup = |name: &str| env(name);
    let outcome =
        migrate(&mut driver, &migrations, &request, &RunOptions { lock: true }, &lookup, &mut on_event).await?;
    let last_up = outcome.report.results.iter().rev().find(|r| r.direction == Direction::Up);
    match (command, invocation.no_versioning) {
        (Command::Up | Command::UpTo(_), false) => match last_up {
            Some(result) => log(&format!("goose: successfully migrated database to version: {}", result.version)),
            None => log(&format!("goose: no migrations to run. current version: {}", outcome.version_before)),
        },
        (Command::Up | Command::UpTo(_), true) => {
            if let Some(result) = last_up {
                log(&format!("goose: up to current file version: {}", result.version));
            }
        }
        (Command::DownTo(_), false) => {
            let rows = driver.list_applied().await?.unwrap_or_default();
            log(&format!("goose: no migrations to run. current version: {}", current_version(&rows).unwrap_or(0)));
        }
        _ => {}
    }
    driver.close().await?;
    Ok(())
}

async fn print_status(driver: &mut PgDriver, migrations: &[Migration], no_versioning: bool) -> Result<(), CliError> {
    let rows = if no_versioning { None } else { Some(driver.list_applied().await?.unwrap_or_default()) };
    log("    Applied At                  Migration");
    log("    =======================================");
    let progress = if no_versioning { Vec::new() } else { driver.list_progress().await? };
    for entry in status(migrations, rows.as_deref(), &progress) {
        let name = match entry.migration {
            Some(migration) => migration.name().to_owned(),
            None => format!("{} (applied, no migration file)", entry.version),
        };
        let state = match entry.state {
            StatusState::Applied(None) => "applied".to_owned(),
            other => other.to_string(),
        };
        log(&format!("    {state:<24} -- {name}"));
    }
    Ok(())
}

async fn print_version(driver: &mut PgDriver, migrations: &[Migration], no_versioning: bool) -> Result<(), CliError> {
    if no_versioning {
        let last = migrations.last().map_or(0, |m| m.version().get());
        log(&format!("goose: file version {last}"));
        return Ok(());
    }
    let rows = driver.list_applied().await?.unwrap_or_default();
    log(&format!("goose: version {}", current_version(&rows).unwrap_or(0)));
    Ok(())
}
