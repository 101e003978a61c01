//! The metrics of one migrate run: Prometheus text for a Pushgateway or node_exporter's textfile collector,
//! and the same series through the [`metrics`] facade for a service that embeds migrate.
//!
//! # The series
//!
//! Every series has the labels `service` and `database`, and `environment` when one is known (an empty
//! environment counts as none). A series whose value is unknown is left out, with its `# HELP`/`# TYPE`.
//!
//! | series | type | value |
//! |---|---|---|
//! | `migration_duration_seconds` | gauge | how long the last run took |
//! | `migration_failure_total` | counter | failed runs since the last successful one |
//! | `migration_last_success_timestamp_seconds` | gauge | when the last successful run finished (Unix seconds) |
//! | `migration_pending` | gauge | migrations still pending after the last run |
//! | `migration_version{version}` | gauge | the version after the last run, also in the `version` label |
//!
//! # Semantics
//!
//! `migration_failure_total` counts the failed runs since the last successful one: a failed run adds 1 to
//! the previous value and a successful run sets it to 0. Prometheus takes the drop to 0 for a counter reset,
//! and the alert `migration_failure_total > 0` (`deploy/prometheus/migrate-alerts.yml`) fires after a failed
//! run and clears after the next good one. A failed run carries `migration_last_success_timestamp_seconds`
//! forward, so the time of the last good run survives failures.
//!
//! Since every run replaces what the previous one left, the previous values are read first: by
//! [`write_file`] from the file it replaces, and by [`push`] from the Pushgateway's group
//! (`GET {url}/api/v1/metrics`). Both are best-effort: when the previous state cannot be read or parsed,
//! the run starts from zero (no failures, no last success), and [`push`] says so in its [`PushReport`].
//! Only samples whose `service` label is the run's own count as previous values.
//!
//! [`record`] sends the series to whatever recorder the process installed: there the recorder keeps the
//! state, so a failed run increments the counter by 1 and a successful run only registers it (at 0 when
//! new) and leaves its value alone; a recorder keeps every `version` label it was given.
//!
//! # The text
//!
//! [`render`] writes the Prometheus text format 0.0.4 (`text/plain; version=0.0.4`): the Pushgateway 1.5
//! reads OpenMetrics text as untyped and refuses a push that changes a series' type, so each family has
//! `# HELP` and `# TYPE` lines whose names are the sample names, `_total` included. Label values are escaped
//! as the format asks (backslash, double quote, newline). No sample has a timestamp: the textfile
//! collector refuses them and the Pushgateway sets its own.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use migrate_metrics::{render, Previous, RunMetrics};
//!
//! let run = RunMetrics {
//!     service: "billing".into(),
//!     database: "app".into(),
//!     environment: Some("prod".into()),
//!     duration: Duration::from_millis(1500),
//!     failed: true,
//!     version: Some(20240101120000),
//!     pending: Some(2),
//!     finished_at: SystemTime::now(),
//! };
//! let previous = Previous { failures: 1, last_success_seconds: Some(1_700_000_000.0) };
//! let text = render(&run, &previous);
//! assert!(text.contains(
//!     "migration_failure_total{service=\"billing\",database=\"app\",environment=\"prod\"} 2\n"
//! ));
//! assert!(text.contains("migration_last_success_timestamp_seconds{service=\"billing\",database=\"app\",environment=\"prod\"} 1700000000\n"));
//! ```

#![deny(missing_docs)]

mod error;
mod file;
mod push;
mod record;
mod text;

use std::time::{Duration, SystemTime};

pub use error::MetricsError;
pub use file::write_file;
pub use push::{push, PreviousState, PushReport};
pub use record::record;
pub use text::{render, CONTENT_TYPE};

/// The outcome of one migrate run, as the metrics report it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMetrics {
    /// The service whose migrations ran: the `service` label and the Pushgateway group.
    pub service: String,
    /// The database's name: the `database` label.
    pub database: String,
    /// The environment (migrate.toml's), when one is known: the `environment` label.
    pub environment: Option<String>,
    /// How long the run took.
    pub duration: Duration,
    /// The run failed.
    pub failed: bool,
    /// The database's version after the run; `None` when unknown (the database could not be reached).
    pub version: Option<i64>,
    /// The migrations still pending after the run; `None` when unknown.
    pub pending: Option<u64>,
    /// When the run ended: the last success's timestamp when the run succeeded.
    pub finished_at: SystemTime,
}

/// What the runs before this one left: the values a run carries forward.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Previous {
    /// `migration_failure_total`: failed runs since the last successful one.
    pub failures: u64,
    /// `migration_last_success_timestamp_seconds`: when the last successful run finished (Unix seconds).
    pub last_success_seconds: Option<f64>,
}

impl Previous {
    /// The previous values in Prometheus text (a file [`write_file`] wrote): the samples of
    /// `migration_failure_total` and `migration_last_success_timestamp_seconds` whose `service` label is
    /// `service`. Lines that do not parse are skipped, so a damaged file means starting from zero.
    pub fn from_text(text: &str, service: &str) -> Previous {
        text::previous_from_text(text, service)
    }
}
