//! One module per command; this one dispatches and holds what several share (connecting, the
//! migrations directory). No migration logic lives here: planning and running are the library's.

mod backup;
mod dry_run;
mod env_cmd;
mod files;
mod fleet;
mod lint;
mod mark;
mod metrics;
mod protect;
mod repair;
mod run;
mod schema;
mod signals;
mod status;
mod validate;
mod verify;
mod wait;

use std::process::ExitCode;
use std::sync::Arc;

use migrate::{resolve, DirectorySource, Driver, Migration};

use crate::drivers::{self, DriverKind, OpenOptions, Target};
use crate::env::Env;
use crate::error::CliError;
use crate::output::Output;
use crate::settings::{Command, Settings};

/// Runs the command, bounded by `-timeout` when given.
pub(crate) async fn execute(settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    if let Some(fleet) = &settings.fleet {
        return fleet::run(settings, fleet, env, out).await;
    }
    protect::confirm(settings, out)?;
    let started = std::time::Instant::now();
    let command = dispatch(settings, env, out);
    let result = match settings.timeout {
        // wait bounds itself, and reports the last connection error when it gives up.
        Some(timeout) if settings.command != Command::Wait => {
            tokio::time::timeout(timeout, command).await.map_err(|_| CliError::Timeout(timeout)).and_then(|r| r)
        }
        _ => command.await,
    };
    if matches!(settings.command, Command::Migrate(_)) && !settings.dry_run && metrics::wanted(settings) {
        metrics::publish(settings, env, started.elapsed(), result.is_err(), out).await;
    }
    result
}

async fn dispatch(settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    match &settings.command {
        Command::Migrate(command) => run::run(*command, settings, env, out).await,
        Command::Status => status::status(settings, env, out).await,
        Command::Version => status::version(settings, env, out).await,
        Command::Verify => verify::verify(settings, env, out).await,
        Command::Repair { versions } => repair::repair(versions, settings, env, out).await,
        Command::Mark(mark) => mark::mark(mark, settings, env, out).await,
        Command::Create { name, kind } => files::create(name, kind, settings, out),
        Command::Fix => files::fix(settings, out),
        Command::Init => files::init(settings, out),
        Command::Validate { files } => validate::validate(files, settings, env, out),
        Command::Env => env_cmd::env(settings, env, out),
        Command::Wait => wait::wait(settings, env, out).await,
        Command::Lint { files } => lint::lint(files, settings, env, out).await,
        Command::SchemaDump { out: file } => schema::dump(file.as_deref(), settings, env, out).await,
        Command::Drift { shadow_url, against } => {
            schema::drift(shadow_url.as_ref(), against.as_deref(), settings, env, out).await
        }
        Command::SchemaTest => schema::test(settings, env, out).await,
    }
}

/// The migrations of the directory.
fn migrations(settings: &Settings) -> Result<Vec<Migration>, CliError> {
    Ok(resolve(&DirectorySource::new(&settings.dir), &[])?)
}

/// Lists the migrations while connecting, then reads and digests their files on two other threads while
/// the command connects and reads the database ahead (`prefetch_history`): the files are most of what a
/// runner with nothing to do spends. The commands that read ahead then wait for every file at once; the
/// others check as they go (a file's text and digest are computed once, by whichever thread asks first).
/// A problem with the directory is reported before a connection error.
async fn migrations_and_connection(
    settings: &Settings,
    env: &Env,
    out: &Output,
) -> Result<(Arc<Vec<Migration>>, DriverKind, Box<dyn Driver>), CliError> {
    let dir = settings.dir.clone();
    // A run that changes the database (and verify, repair, the marks, and the modern status with its checksum
    // states) checks every applied file against its checksum. goose's status and version read no file
    // contents.
    let shows_checksums = matches!(settings.command, Command::Status) && (settings.json || !settings.goose_form);
    let read_texts = (shows_checksums
        || matches!(
            settings.command,
            Command::Migrate(_) | Command::Verify | Command::Repair { .. } | Command::Mark(_) | Command::Lint { .. }
        ))
        && !settings.no_versioning;
    let (listed, listing) = tokio::sync::oneshot::channel();
    let reading = tokio::task::spawn_blocking(move || {
        let migrations = resolve(&DirectorySource::new(dir), &[]).map(Arc::new);
        let ahead = migrations.as_ref().ok().filter(|_| read_texts).map(Arc::clone);
        // The receiver is gone only when the command already failed.
        let _ = listed.send(migrations);
        if let Some(migrations) = ahead {
            read_all(&migrations);
        }
    });
    // While the files are listed, the commands that check them read the version and checksum rows ahead
    // (one round trip); the others read only what they need.
    let prefetch = read_texts && (shows_checksums || matches!(settings.command, Command::Migrate(_) | Command::Verify));
    let connected = match connect(settings, env, out).await {
        Ok((kind, mut driver)) => {
            if prefetch {
                driver.prefetch_history().await;
            }
            Ok((kind, driver))
        }
        Err(error) => Err(error),
    };
    let migrations = match listing.await {
        Ok(migrations) => migrations?,
        // The listing thread ended without an answer: it panicked.
        Err(_) => {
            let error = reading.await.err().map_or_else(String::new, |error| error.to_string());
            return Err(CliError::failed(format!("reading the migrations failed: {error}")));
        }
    };
    let (kind, driver) = connected?;
    if prefetch {
        // The files are read by now or soon: waiting for all of them at once costs less than the check
        // waiting on each file still being read (a thread hand-off per file).
        let _ = reading.await;
    }
    Ok((migrations, kind, driver))
}

/// A driver call that failed, as one line naming what was being done.
fn failed(what: &'static str) -> impl Fn(migrate::BoxError) -> CliError {
    move |error| CliError::failed(format!("{what} failed: {error}"))
}

/// The file name of a version, for messages (the bare version when no file has it).
fn file_name(migrations: &[Migration], version: migrate::Version) -> String {
    migrations.iter().find(|m| m.version() == version).map_or_else(|| version.to_string(), |m| m.name().to_owned())
}

/// Reads every SQL migration's text and computes its digest into their caches, half on another thread
/// (an applied file whose digest is the recorded one is not parsed). A file that cannot be read is
/// reported where its text is needed.
fn read_all(migrations: &[Migration]) {
    let read = |part: &[Migration]| {
        for migration in part {
            if let migrate::MigrationKind::Sql { text } = migration.kind() {
                let _ = text.read_ahead();
            }
        }
    };
    let (first, second) = migrations.split_at(migrations.len() / 2);
    std::thread::scope(|scope| {
        scope.spawn(|| read(second));
        read(first);
    });
}

/// The database the settings name, parsed, and logged (redacted, with where it came from) before anything
/// connects to it.
fn target(settings: &Settings, env: &Env, out: &Output) -> Result<(DriverKind, Target), CliError> {
    let database = settings
        .database
        .as_ref()
        .ok_or_else(|| CliError::Usage(format!("{} needs a database", settings.command.name())))?;
    let target = Target::parse(database.driver, database.dsn(), env)?;
    // The environment is named even when a flag or variable chose the database over its own.
    let origin = match &settings.ops.environment {
        Some(name) if !database.origin.starts_with("environment ") => {
            format!("{}; environment {name}", database.origin)
        }
        _ => database.origin.clone(),
    };
    out.log(&target.describe(&origin));
    Ok((database.driver, target))
}

/// Connects to the database the settings name.
async fn connect(settings: &Settings, env: &Env, out: &Output) -> Result<(DriverKind, Box<dyn Driver>), CliError> {
    let (kind, target) = target(settings, env, out)?;
    let options = OpenOptions {
        table: &settings.table,
        lock_wait: settings.lock_wait,
        connect_timeout: None,
        cluster: settings.clickhouse_cluster.as_ref(),
        lock_timeout: settings.lock_timeout,
    };
    Ok((kind, drivers::open(&target, &options).await?))
}
