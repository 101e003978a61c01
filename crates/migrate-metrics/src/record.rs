//! The run's series through the [`metrics`] facade, for a process that installed a recorder (an exporter):
//! the same names and labels as the text, the state kept by the recorder.

use metrics::{describe_counter, describe_gauge, Label, Unit};

use crate::text::{
    base_labels, unix_seconds, DURATION, DURATION_HELP, FAILURES, FAILURES_HELP, LAST_SUCCESS, LAST_SUCCESS_HELP,
    PENDING, PENDING_HELP, VERSION, VERSION_HELP,
};
use crate::RunMetrics;

/// Records the run with the process's recorder (a no-op without one): the gauges
/// `migration_duration_seconds`, `migration_pending` and `migration_version{version}` are set, a failed run
/// increments `migration_failure_total` by 1, and a successful run sets
/// `migration_last_success_timestamp_seconds` and only registers the counter (so it shows 0 before any
/// failure). Series whose value is unknown are not touched.
pub fn record(metrics: &RunMetrics) {
    // Describing again is cheap, and reaches a recorder installed after an earlier run.
    describe_gauge!(DURATION, Unit::Seconds, DURATION_HELP);
    describe_counter!(FAILURES, Unit::Count, FAILURES_HELP);
    describe_gauge!(LAST_SUCCESS, Unit::Seconds, LAST_SUCCESS_HELP);
    describe_gauge!(PENDING, Unit::Count, PENDING_HELP);
    describe_gauge!(VERSION, VERSION_HELP);

    let labels: Vec<Label> = base_labels(metrics).into_iter().map(|(k, v)| Label::new(k, v)).collect();
    metrics::gauge!(DURATION, labels.clone()).set(metrics.duration.as_secs_f64());
    let failures = metrics::counter!(FAILURES, labels.clone());
    if metrics.failed {
        failures.increment(1);
    } else {
        metrics::gauge!(LAST_SUCCESS, labels.clone()).set(unix_seconds(metrics.finished_at));
    }
    if let Some(pending) = metrics.pending {
        metrics::gauge!(PENDING, labels.clone()).set(pending as f64);
    }
    if let Some(version) = metrics.version {
        let mut labels = labels;
        labels.push(Label::new("version", version.to_string()));
        metrics::gauge!(VERSION, labels).set(version as f64);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    use metrics_util::MetricKind;

    use super::*;

    fn run(failed: bool) -> RunMetrics {
        RunMetrics {
            service: "billing".into(),
            database: "app".into(),
            environment: None,
            duration: Duration::from_millis(250),
            failed,
            version: Some(7),
            pending: Some(1),
            finished_at: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        }
    }

    /// Every series as (kind, name, labels as `k=v`, value).
    fn series(recorder: &DebuggingRecorder) -> Vec<(MetricKind, String, Vec<String>, DebugValue)> {
        let mut out: Vec<_> = recorder
            .snapshotter()
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let (kind, key) = key.into_parts();
                let labels = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
                (kind, key.name().to_owned(), labels, value)
            })
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    #[test]
    fn failures_count_and_successes_register() {
        let recorder = DebuggingRecorder::new();
        metrics::with_local_recorder(&recorder, || {
            record(&run(false));
            record(&run(true));
            record(&run(true));
        });
        let all = series(&recorder);
        let names: Vec<_> = all.iter().map(|s| s.1.as_str()).collect();
        assert_eq!(
            names,
            [DURATION, FAILURES, LAST_SUCCESS, PENDING, VERSION],
            "every series once, with the same labels each run"
        );
        let failures = &all[1];
        assert_eq!(failures.0, MetricKind::Counter);
        assert_eq!(failures.2, ["service=billing", "database=app"]);
        assert_eq!(failures.3, DebugValue::Counter(2));
        assert_eq!(all[2].3, DebugValue::Gauge(1_700_000_000.0.into()));
        assert_eq!(all[4].2, ["service=billing", "database=app", "version=7"]);
        assert_eq!(all[4].3, DebugValue::Gauge(7.0.into()));
    }

    #[test]
    fn a_success_leaves_the_counter_at_zero() {
        let recorder = DebuggingRecorder::new();
        let mut unknown = run(false);
        unknown.version = None;
        unknown.pending = None;
        metrics::with_local_recorder(&recorder, || record(&unknown));
        let all = series(&recorder);
        let names: Vec<_> = all.iter().map(|s| s.1.as_str()).collect();
        assert_eq!(names, [DURATION, FAILURES, LAST_SUCCESS]);
        assert_eq!(all[1].3, DebugValue::Counter(0));
    }
}
