//! `status` and `version`: read-only. Unlike goose, neither creates the version table.

use std::process::ExitCode;

use migrate::{current_version, StatusState};

use crate::commands::{connect, migrations, migrations_and_connection};
use crate::env::Env;
use crate::error::{CliError, EXIT_PENDING};
use crate::output::json::{self, ChecksumStates, StatusDoc, VersionDoc};
use crate::output::tables::status_lines;
use crate::output::Output;
use crate::settings::Settings;

pub(crate) async fn status(settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    let (migrations, _, mut driver) = migrations_and_connection(settings, env, out).await?;
    let read_failed = |error| CliError::failed(format!("reading the version table failed: {error}"));
    let rows = if settings.no_versioning {
        None
    } else {
        Some(driver.list_applied().await.map_err(read_failed)?.unwrap_or_default())
    };
    let progress = if settings.no_versioning || !driver.keeps_progress() {
        Vec::new()
    } else {
        driver.list_progress().await.map_err(|e| CliError::failed(format!("reading migration progress failed: {e}")))?
    };
    let entries = migrate::status(&migrations, rows.as_deref(), &progress);
    // The modern form and JSON show each applied migration's checksum state; goose's table stays goose's.
    let checksums = match rows.as_deref() {
        Some(rows) if (settings.json || !settings.goose_form) && driver.keeps_checksums() => {
            let recorded = driver
                .list_checksums()
                .await
                .map_err(|e| CliError::failed(format!("reading the checksums failed: {e}")))?
                .unwrap_or_default();
            let check = migrate::check_history(&migrations, rows, &recorded)
                .map_err(|e| CliError::failed(format!("checking the checksums failed: {e}")))?;
            ChecksumStates::new(&migrations, rows, &check)
        }
        _ => ChecksumStates::default(),
    };
    if settings.json {
        let current = rows.as_deref().map(|rows| current_version(rows).unwrap_or(0));
        out.stdout(&json::render(&StatusDoc::new(&entries, current, &checksums), out.secrets()))?;
    } else {
        out.log_lines(&status_lines(&entries, &checksums));
    }
    let pending = entries.iter().any(|e| matches!(e.state, StatusState::Pending | StatusState::Partial { .. }));
    if settings.exit_code && pending {
        return Ok(ExitCode::from(EXIT_PENDING));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn version(settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    let version = if settings.no_versioning {
        migrations(settings)?.last().map_or(0, |m| m.version().get())
    } else {
        let (_, mut driver) = connect(settings, env, out).await?;
        let rows = driver
            .list_applied()
            .await
            .map_err(|error| CliError::failed(format!("reading the version table failed: {error}")))?
            .unwrap_or_default();
        current_version(&rows).unwrap_or(0)
    };
    if settings.json {
        let document = VersionDoc { command: "version", ok: true, version, no_versioning: settings.no_versioning };
        out.stdout(&json::render(&document, out.secrets()))?;
    } else if settings.no_versioning {
        out.log(&format!("goose: file version {version}"));
    } else {
        out.log(&format!("goose: version {version}"));
    }
    Ok(ExitCode::SUCCESS)
}
