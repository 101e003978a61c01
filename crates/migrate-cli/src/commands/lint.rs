//! `lint`: migrate-lint's rules over the directory (or the files given), printed as text, JSON, SARIF or
//! GitHub annotations; with a database, the server's version for the version-aware rules and a finding for
//! each applied migration edited since it ran. Also builds the check a run makes before its lock.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use migrate::lint::{self, Dialect, Format, LintOptions, LintPreflight};
use migrate::{check_history, Driver, Preflight};

use crate::commands::{failed, migrations_and_connection};
use crate::drivers::DriverKind;
use crate::env::Env;
use crate::error::{CliError, EXIT_FAILURE};
use crate::output::Output;
use crate::settings::Settings;

pub(crate) async fn lint(files: &[String], settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    let format: Format = settings.lint.format.as_deref().unwrap_or("text").parse().map_err(usage)?;
    let dir = Path::new(&settings.dir);
    let single_file = files.is_empty() && dir.is_file();
    let mut config = match &settings.ops.lint_config {
        Some(project_file) => lint::read_config_file(project_file)?,
        None if single_file || !dir.is_dir() => lint::LintConfig::default(),
        None => lint::read_config(dir)?,
    };
    if let Some(version) = &settings.lint.pg_version {
        config.pg_version = Some(version.clone());
    }
    config.cluster |= settings.clickhouse_cluster.is_some();
    let dialect = dialect(settings)?;
    let mut changed = Vec::new();
    if settings.database.is_some() {
        let (migrations, _, mut driver) = migrations_and_connection(settings, env, out).await?;
        if let Some(major) = driver.server_major_version() {
            config.pg_version = Some(major.to_string());
        }
        changed = edited(driver.as_mut(), &migrations).await?;
    }
    let paths: Vec<PathBuf> = if single_file {
        vec![dir.to_path_buf()]
    } else if files.is_empty() {
        lint::migration_files(dir)?
    } else {
        files.iter().map(PathBuf::from).collect()
    };
    let lookup = |name: &str| env.lookup(name);
    let options = LintOptions { dialect, config, lookup: &lookup };
    let mut report = lint::lint_files(&paths, &options)?;
    lint::add_history_findings(&mut report, &changed, &options.config);
    out.stdout(&lint::render(&report, format))?;
    Ok(if report.fails(settings.lint.strict) { ExitCode::from(EXIT_FAILURE) } else { ExitCode::SUCCESS })
}

/// The applied migrations whose Up section changed since they ran.
async fn edited(
    driver: &mut dyn Driver,
    migrations: &[migrate::Migration],
) -> Result<Vec<migrate::ChangedMigration>, CliError> {
    if !driver.keeps_checksums() {
        return Ok(Vec::new());
    }
    let rows = driver.list_applied().await.map_err(failed("reading the version table"))?.unwrap_or_default();
    let recorded = driver.list_checksums().await.map_err(failed("reading the checksums"))?.unwrap_or_default();
    let check = check_history(migrations, &rows, &recorded).map_err(|error| CliError::failed(error.to_string()))?;
    Ok(check.changed)
}

/// The rules to apply: the database's driver, else `--driver`/`GOOSE_DRIVER`, else guessed per file.
fn dialect(settings: &Settings) -> Result<Option<Dialect>, CliError> {
    let kind = match (&settings.database, &settings.lint.dialect) {
        (Some(database), _) => Some(database.driver),
        (None, Some(name)) => Some(DriverKind::from_name(name).ok_or_else(|| {
            CliError::Usage(format!("unknown driver {name:?}: use postgres (or pgx, redshift) or clickhouse"))
        })?),
        (None, None) => None,
    };
    Ok(kind.map(dialect_of))
}

fn dialect_of(kind: DriverKind) -> Dialect {
    match kind {
        DriverKind::Postgres => Dialect::Postgres,
        DriverKind::ClickHouse => Dialect::ClickHouse,
    }
}

/// The check a run makes of what it is about to apply, unless `--no-lint`: the directory's `migrate.toml`
/// (read only when something is pending) and the connected server's version.
pub(crate) fn preflight(settings: &Settings, kind: DriverKind, driver: &dyn Driver) -> Option<Arc<dyn Preflight>> {
    if settings.lint.no_lint {
        return None;
    }
    // Nothing is read here: the configuration only when something is pending.
    let dialect = Some(dialect_of(kind));
    let check = match &settings.ops.lint_config {
        Some(project_file) => LintPreflight::reading_config_file(dialect, project_file),
        None => LintPreflight::reading_config(dialect, &settings.dir),
    }
    .for_server(driver.server_major_version());
    Some(Arc::new(check))
}

fn usage(error: impl std::fmt::Display) -> CliError {
    CliError::Usage(error.to_string())
}

impl From<lint::LintError> for CliError {
    fn from(error: lint::LintError) -> CliError {
        CliError::failed(error.to_string())
    }
}
