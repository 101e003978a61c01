//! `repair [VERSION...]`: after an intended edit of an applied migration, record its file's checksums as
//! they are now (every applied migration whose checksum differs or is missing when no version is given),
//! and forget the checksums of versions that are no longer applied. Under the migration lock; `--dry-run`
//! says what it would change and changes nothing.

use std::process::ExitCode;

use crate::commands::{file_name, migrations_and_connection};
use crate::env::Env;
use crate::error::CliError;
use crate::output::json::{self, RepairDoc};
use crate::output::Output;
use crate::settings::Settings;

pub(crate) async fn repair(
    versions: &[i64],
    settings: &Settings,
    env: &Env,
    out: &Output,
) -> Result<ExitCode, CliError> {
    let (migrations, _, mut driver) = migrations_and_connection(settings, env, out).await?;
    let repair = migrate::repair(driver.as_mut(), &migrations, versions, settings.dry_run)
        .await
        .map_err(|error| CliError::failed(format!("repair: {error}")))?;
    let verb = if settings.dry_run { "would record" } else { "recorded" };
    let name = |version| file_name(&migrations, version);
    if settings.json {
        let document = RepairDoc {
            command: "repair",
            ok: true,
            dry_run: settings.dry_run,
            recorded: repair.record.iter().map(|row| row.version.get()).collect(),
            removed: repair.remove.iter().map(|v| v.get()).collect(),
        };
        out.stdout(&json::render(&document, out.secrets()))?;
        return Ok(ExitCode::SUCCESS);
    }
    for row in &repair.record {
        out.log(&format!(
            "repair: {verb} the checksums of {} as it is now (version {})",
            name(row.version),
            row.version
        ));
    }
    let forget = if settings.dry_run { "would forget" } else { "forgot" };
    for version in &repair.remove {
        out.log(&format!("repair: {forget} the checksums of version {version}, which is no longer applied"));
    }
    if repair.record.is_empty() && repair.remove.is_empty() {
        out.log("repair: nothing to change: every applied migration's checksum matches its file");
    }
    Ok(ExitCode::SUCCESS)
}
