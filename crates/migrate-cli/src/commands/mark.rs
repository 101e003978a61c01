//! `baseline VERSION`, `mark-applied VERSION...`, `mark-rolled-back VERSION...`: goose's version rows
//! written as goose writes them, without running any migration, under the migration lock. Recording an
//! apply also records the file's checksums; recording a rollback forgets them. `--dry-run` prints the rows
//! it would write.

use std::process::ExitCode;

use migrate::{checksum_row_of, plan_marks, Direction, Driver, Mark, Migration, Version};

use crate::commands::{failed, file_name, migrations_and_connection, with_lock};
use crate::env::Env;
use crate::error::CliError;
use crate::output::json::{self, MarkDoc};
use crate::output::Output;
use crate::settings::Settings;

pub(crate) async fn mark(mark: &Mark, settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    let (migrations, _, mut driver) = migrations_and_connection(settings, env, out).await?;
    let steps = with_lock(driver.as_mut(), settings.dry_run, async |driver| {
        mark_locked(driver, &migrations, mark, settings.dry_run).await
    })
    .await?;
    let command = settings.command.name();
    if settings.json {
        let versions = |direction: Direction| {
            steps.iter().filter(|(_, d)| *d == direction).map(|(v, _)| v.get()).collect::<Vec<_>>()
        };
        let document = MarkDoc {
            command,
            ok: true,
            dry_run: settings.dry_run,
            applied: versions(Direction::Up),
            rolled_back: versions(Direction::Down),
        };
        out.stdout(&json::render(&document, out.secrets()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let name = |version| file_name(&migrations, version);
    for (version, direction) in &steps {
        let state = if *direction == Direction::Up { "applied" } else { "rolled back" };
        let verb = if settings.dry_run { "would record" } else { "recorded" };
        out.log(&format!("{command}: {verb} {} (version {version}) as {state}, without running it", name(*version)));
    }
    Ok(ExitCode::SUCCESS)
}

async fn mark_locked(
    driver: &mut dyn Driver,
    migrations: &[Migration],
    mark: &Mark,
    dry_run: bool,
) -> Result<Vec<(Version, Direction)>, CliError> {
    let rows = driver.list_applied().await.map_err(failed("reading the version table"))?.unwrap_or_default();
    let steps = plan_marks(migrations, &rows, mark).map_err(|error| CliError::failed(error.to_string()))?;
    if dry_run {
        return Ok(steps);
    }
    driver.ensure_table().await.map_err(failed("creating the version table"))?;
    if driver.keeps_checksums() && driver.list_checksums().await.map_err(failed("reading the checksums"))?.is_none() {
        driver.ensure_checksum_table().await.map_err(failed("creating the checksum table"))?;
    }
    for (version, direction) in &steps {
        if driver.keeps_checksums() {
            let row = match direction {
                Direction::Up => migrations
                    .iter()
                    .find(|m| m.version() == *version)
                    .map(checksum_row_of)
                    .transpose()
                    .map_err(|error| CliError::failed(error.to_string()))?
                    .flatten(),
                Direction::Down => None,
            };
            driver.stage_checksum(*version, row);
        }
        driver.record(*version, *direction).await.map_err(failed("writing the version table"))?;
    }
    Ok(steps)
}
