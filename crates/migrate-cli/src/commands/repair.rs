//! `repair [VERSION...]`: after an intended edit of an applied migration, record its file's checksums as
//! they are now (every applied migration whose checksum differs or is missing when no version is given),
//! and forget the checksums of versions that are no longer applied. Under the migration lock; `--dry-run`
//! says what it would change and changes nothing.

use std::process::ExitCode;

use migrate::{plan_repair, Repair};

use crate::commands::{failed, file_name, migrations_and_connection, with_lock};
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
    if !driver.keeps_checksums() {
        return Err(CliError::failed(
            "repair: this database's driver keeps no checksums yet, so there is nothing to repair",
        ));
    }
    let repair = with_lock(driver.as_mut(), settings.dry_run, async |driver| {
        repair_locked(driver, &migrations, versions, settings.dry_run).await
    })
    .await?;
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

async fn repair_locked(
    driver: &mut dyn migrate::Driver,
    migrations: &[migrate::Migration],
    versions: &[i64],
    dry_run: bool,
) -> Result<Repair, CliError> {
    let rows = driver.list_applied().await.map_err(failed("reading the version table"))?.unwrap_or_default();
    let recorded = driver.list_checksums().await.map_err(failed("reading the checksums"))?;
    let repair = plan_repair(migrations, &rows, recorded.as_deref().unwrap_or_default(), versions)
        .map_err(|error| CliError::failed(format!("repair: {error}")))?;
    if dry_run {
        return Ok(repair);
    }
    if recorded.is_none() {
        driver.ensure_checksum_table().await.map_err(failed("creating the checksum table"))?;
    }
    driver.save_checksums(&repair.record).await.map_err(failed("recording the checksums"))?;
    driver.delete_checksums(&repair.remove).await.map_err(failed("forgetting checksums"))?;
    Ok(repair)
}
