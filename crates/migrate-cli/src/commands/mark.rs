//! `baseline VERSION`, `mark-applied VERSION...`, `mark-rolled-back VERSION...`: goose's version rows
//! written as goose writes them, without running any migration, under the migration lock. Recording an
//! apply also records the file's checksums; recording a rollback forgets them. `--dry-run` prints the rows
//! it would write.

use std::process::ExitCode;

use migrate::{Direction, Mark};

use crate::commands::{file_name, migrations_and_connection};
use crate::env::Env;
use crate::error::CliError;
use crate::output::json::{self, MarkDoc};
use crate::output::Output;
use crate::settings::Settings;

pub(crate) async fn mark(mark: &Mark, settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    let (migrations, _, mut driver) = migrations_and_connection(settings, env, out).await?;
    let steps = migrate::mark(driver.as_mut(), &migrations, mark, settings.dry_run)
        .await
        .map_err(|error| CliError::failed(error.to_string()))?;
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
