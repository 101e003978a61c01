//! The run's metrics, at the end of every migrating command, failed or not: pushed to a Prometheus
//! Pushgateway (`--metrics-push`) and/or written for node_exporter's textfile collector
//! (`--metrics-file`). A metrics failure is a warning: it never changes the outcome of the migration.

use std::time::{Duration, SystemTime};

use migrate::{Driver, Migration, StatusState};
use migrate_metrics::RunMetrics;

use crate::drivers::Target;
use crate::env::Env;
use crate::output::{Level, Output};
use crate::settings::Settings;

/// How long a push may take: a Pushgateway that hangs must not hold the Job.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether this run reports metrics.
pub(crate) fn wanted(settings: &Settings) -> bool {
    settings.ops.metrics_push.is_some() || settings.ops.metrics_file.is_some()
}

/// The version and the number of pending migrations after a run, read from the database (best-effort: a
/// failed run may have lost its connection).
pub(crate) async fn read_state(driver: &mut dyn Driver, migrations: &[Migration], out: &Output) {
    let Ok(Some(rows)) = driver.list_applied().await else { return };
    let version = migrate::current_version(&rows).unwrap_or(0);
    let pending = migrate::status(migrations, Some(&rows), &[])
        .iter()
        .filter(|entry| matches!(entry.state, StatusState::Pending | StatusState::Partial { .. }))
        .count();
    out.note_state(version, u64::try_from(pending).unwrap_or(u64::MAX));
}

/// Publishes the metrics of a run that took `duration` and `failed` or not.
pub(crate) async fn publish(settings: &Settings, env: &Env, duration: Duration, failed: bool, out: &Output) {
    let database = settings
        .database
        .as_ref()
        .and_then(|db| Target::parse(db.driver, db.dsn(), env).ok())
        .map(|target| match target {
            Target::Postgres(spec) => spec.dbname.clone(),
            Target::ClickHouse(spec) => spec.database.clone(),
        })
        .unwrap_or_default();
    let notes = out.notes();
    let metrics = RunMetrics {
        service: settings.ops.service.clone(),
        database,
        environment: settings.ops.environment.clone(),
        duration,
        failed,
        version: notes.state.map(|(version, _)| version),
        pending: notes.state.map(|(_, pending)| pending),
        finished_at: SystemTime::now(),
    };
    if let Some(path) = &settings.ops.metrics_file {
        match migrate_metrics::write_file(path, &metrics) {
            Ok(()) => out.log_at(Level::Info, &format!("metrics: written to {}", path.display()), &[]),
            Err(error) => out.warn(&format!("warning: metrics: {error}")),
        }
    }
    if let Some(url) = &settings.ops.metrics_push {
        match migrate_metrics::push(url, &metrics, PUSH_TIMEOUT).await {
            Ok(report) => {
                out.log(&format!(
                    "metrics: pushed to {} (failures since the last success: {})",
                    report.group_url, report.failures
                ));
                if let migrate_metrics::PreviousState::Unavailable { reason } = &report.previous {
                    out.warn(&format!(
                        "warning: metrics: the previous values could not be read ({reason}); counted from zero"
                    ));
                }
            }
            Err(error) => out.warn(&format!("warning: metrics: {error}")),
        }
    }
}
