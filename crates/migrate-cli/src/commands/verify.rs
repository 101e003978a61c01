//! `verify`: the database's history against the directory, read-only (no lock, nothing created). Exit 0
//! when they agree, 1 with one line (or JSON entry) per finding.

use std::process::ExitCode;

use migrate::verify_history;

use crate::commands::{failed, migrations_and_connection};
use crate::env::Env;
use crate::error::{CliError, EXIT_FAILURE};
use crate::output::json::{self, FindingDoc, VerifyDoc};
use crate::output::{Output, Style};
use crate::settings::Settings;

pub(crate) async fn verify(settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    let (migrations, _, mut driver) = migrations_and_connection(settings, env, out).await?;
    let rows = driver.list_applied().await.map_err(failed("reading the version table"))?.unwrap_or_default();
    let recorded = if driver.keeps_checksums() {
        // No table yet reads as no checksums: every applied migration is then "no checksum recorded".
        Some(driver.list_checksums().await.map_err(failed("reading the checksums"))?.unwrap_or_default())
    } else {
        None
    };
    let progress = if driver.keeps_progress() {
        driver.list_progress().await.map_err(failed("reading migration progress"))?
    } else {
        Vec::new()
    };
    let findings = verify_history(&migrations, &rows, recorded.as_deref(), &progress)
        .map_err(|error| CliError::failed(format!("verify: {error}")))?;
    let checked = if recorded.is_some() { migrate::applied_count(&rows) } else { 0 };
    if settings.json {
        let document = VerifyDoc {
            command: "verify",
            ok: findings.is_empty(),
            checked,
            findings: findings.iter().map(FindingDoc::from).collect(),
        };
        out.stdout(&json::render(&document, out.secrets()))?;
    } else {
        for finding in &findings {
            out.log(&format!("{} {}: {finding}", out.paint(Style::Yellow, "verify:"), finding.kind()));
        }
        match (findings.len(), recorded.is_some()) {
            (0, true) => {
                out.log(&format!("verify: the database agrees with the directory ({checked} applied checked)"))
            }
            (0, false) => out.log("verify: the database agrees with the directory (this driver keeps no checksums)"),
            (n, _) => out.log(&format!("verify: {n} finding(s)")),
        }
    }
    Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FAILURE) })
}
