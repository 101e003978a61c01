//! The Prometheus text format 0.0.4: rendering a run's series, and reading back the values a run carries
//! forward from text we wrote.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Previous, RunMetrics};

/// The `Content-Type` of [`render`]'s text, as the Pushgateway and scrapers expect it.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(crate) const DURATION: &str = "migration_duration_seconds";
pub(crate) const FAILURES: &str = "migration_failure_total";
pub(crate) const LAST_SUCCESS: &str = "migration_last_success_timestamp_seconds";
pub(crate) const PENDING: &str = "migration_pending";
pub(crate) const VERSION: &str = "migration_version";

pub(crate) const DURATION_HELP: &str = "How long the last migration run took, in seconds.";
pub(crate) const FAILURES_HELP: &str =
    "Failed migration runs since the last successful one (a successful run resets it to 0).";
pub(crate) const LAST_SUCCESS_HELP: &str = "When the last successful migration run finished, in Unix seconds.";
pub(crate) const PENDING_HELP: &str = "Migrations still pending after the last migration run.";
pub(crate) const VERSION_HELP: &str =
    "The database's migration version after the last migration run (also in the version label).";

/// The run's series in the Prometheus text format 0.0.4, carrying forward what `previous` holds: the
/// failure count grows by 1 on a failed run and is 0 after a successful one; the last success is the run's
/// end when it succeeded, else `previous`'s (left out when there is none).
pub fn render(metrics: &RunMetrics, previous: &Previous) -> String {
    let labels = base_labels(metrics);
    let (failures, last_success) = if metrics.failed {
        (previous.failures.saturating_add(1), previous.last_success_seconds)
    } else {
        (0, Some(unix_seconds(metrics.finished_at)))
    };
    let mut out = String::new();
    family(&mut out, DURATION, DURATION_HELP, "gauge", &labels, metrics.duration.as_secs_f64());
    family(&mut out, FAILURES, FAILURES_HELP, "counter", &labels, failures as f64);
    if let Some(seconds) = last_success {
        family(&mut out, LAST_SUCCESS, LAST_SUCCESS_HELP, "gauge", &labels, seconds);
    }
    if let Some(pending) = metrics.pending {
        family(&mut out, PENDING, PENDING_HELP, "gauge", &labels, pending as f64);
    }
    if let Some(version) = metrics.version {
        let mut labels = labels.clone();
        labels.push(("version", version.to_string()));
        // Exact up to 2^53 (a 14-digit timestamp version is far below); the label is exact anyway.
        family(&mut out, VERSION, VERSION_HELP, "gauge", &labels, version as f64);
    }
    out
}

/// `service`, `database` and, when known and not empty, `environment`, in that order.
pub(crate) fn base_labels(metrics: &RunMetrics) -> Vec<(&'static str, String)> {
    let mut labels = vec![("service", metrics.service.clone()), ("database", metrics.database.clone())];
    if let Some(environment) = metrics.environment.as_deref().filter(|e| !e.is_empty()) {
        labels.push(("environment", environment.to_owned()));
    }
    labels
}

/// Seconds since the Unix epoch; 0 for a time before it (a clock that badly wrong has no better answer).
pub(crate) fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

fn family(out: &mut String, name: &str, help: &str, kind: &str, labels: &[(&str, String)], value: f64) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    out.push_str(name);
    out.push('{');
    for (i, (label, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(label);
        out.push_str("=\"");
        escape_label_value(out, value);
        out.push('"');
    }
    out.push('}');
    let _ = writeln!(out, " {}", format_value(value));
}

/// Rust's shortest round-trip form, which never uses an exponent; the non-finite values as Go spells them.
fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        value.to_string()
    }
}

fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// One sample line: its name, labels (unescaped) and value.
struct Sample<'a> {
    name: &'a str,
    labels: Vec<(&'a str, String)>,
    value: f64,
}

pub(crate) fn previous_from_text(text: &str, service: &str) -> Previous {
    let mut previous = Previous::default();
    for sample in text.lines().filter_map(parse_sample) {
        let ours = sample.labels.iter().any(|(name, value)| *name == "service" && value == service);
        if !ours {
            continue;
        }
        match sample.name {
            FAILURES => {
                if let Some(count) = as_count(sample.value) {
                    previous.failures = count;
                }
            }
            LAST_SUCCESS if sample.value.is_finite() => previous.last_success_seconds = Some(sample.value),
            _ => {}
        }
    }
    previous
}

/// A counter's value as a count: a non-negative whole number (anything else is not one we wrote).
pub(crate) fn as_count(value: f64) -> Option<u64> {
    (value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value < u64::MAX as f64).then_some(value as u64)
}

/// Parses `name{label="value",...} value [timestamp]`; `None` for comments, blank lines and anything else.
fn parse_sample(line: &str) -> Option<Sample<'_>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line.find(|c: char| c == '{' || c.is_ascii_whitespace())?;
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inner)?;
        labels = parsed;
        rest = after;
    }
    let value = rest.split_ascii_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().ok()?,
    };
    Some(Sample { name, labels, value })
}

/// Parses the labels after `{` up to and including `}`; returns them and the text after `}`.
fn parse_labels(mut s: &str) -> Option<(Vec<(&str, String)>, &str)> {
    let mut labels = Vec::new();
    loop {
        s = s.trim_start();
        if let Some(after) = s.strip_prefix('}') {
            return Some((labels, after));
        }
        let eq = s.find('=')?;
        let name = s[..eq].trim();
        s = s[eq + 1..].trim_start().strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()? {
                    (_, 'n') => value.push('\n'),
                    (_, c) => value.push(c),
                },
                (_, c) => value.push(c),
            }
        };
        labels.push((name, value));
        s = s[end + 1..].trim_start();
        if let Some(after) = s.strip_prefix(',') {
            s = after;
        } else if !s.starts_with('}') {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn run(failed: bool) -> RunMetrics {
        RunMetrics {
            service: "billing".into(),
            database: "app".into(),
            environment: Some("prod".into()),
            duration: Duration::from_millis(1234),
            failed,
            version: Some(20240101120000),
            pending: Some(0),
            finished_at: UNIX_EPOCH + Duration::from_millis(1_700_000_123_456),
        }
    }

    #[test]
    fn success_snapshot() {
        let previous = Previous { failures: 3, last_success_seconds: Some(1_600_000_000.5) };
        insta::assert_snapshot!(render(&run(false), &previous));
    }

    #[test]
    fn failure_snapshot() {
        let mut failed = run(true);
        failed.pending = Some(2);
        let previous = Previous { failures: 3, last_success_seconds: Some(1_600_000_000.5) };
        insta::assert_snapshot!(render(&failed, &previous));
    }

    #[test]
    fn unknown_values_are_left_out() {
        // A run that could not connect: no version, no pending count, no success ever.
        let mut failed = run(true);
        failed.version = None;
        failed.pending = None;
        failed.environment = Some(String::new());
        insta::assert_snapshot!(render(&failed, &Previous::default()));
    }

    #[test]
    fn label_values_are_escaped_and_read_back() {
        let mut odd = run(false);
        odd.service = "team/a \"b\" \\ c\nd".into();
        odd.database = "db".into();
        let text = render(&odd, &Previous::default());
        assert!(text.contains(r#"service="team/a \"b\" \\ c\nd""#), "{text}");
        let mut failed = odd.clone();
        failed.failed = true;
        let previous = Previous::from_text(&text, &odd.service);
        assert_eq!(previous.failures, 0);
        assert_eq!(previous.last_success_seconds, Some(1_700_000_123.456));
        let again = render(&failed, &previous);
        let previous = Previous::from_text(&again, &odd.service);
        assert_eq!(previous, Previous { failures: 1, last_success_seconds: Some(1_700_000_123.456) });
    }

    #[test]
    fn previous_counts_only_the_service() {
        let text = "# TYPE migration_failure_total counter\n\
                    migration_failure_total{service=\"other\",database=\"x\"} 7\n\
                    migration_failure_total{database=\"x\", service=\"billing\"} 2 1700000000000\n\
                    migration_last_success_timestamp_seconds{service=\"billing\"} 1.7e+09\n\
                    garbage line\n\
                    migration_failure_total{service=\"billing\" 9\n";
        let previous = Previous::from_text(text, "billing");
        assert_eq!(previous, Previous { failures: 2, last_success_seconds: Some(1.7e9) });
        assert_eq!(Previous::from_text("", "billing"), Previous::default());
    }

    #[test]
    fn counts_are_whole_and_non_negative() {
        assert_eq!(as_count(2.0), Some(2));
        assert_eq!(as_count(-1.0), None);
        assert_eq!(as_count(1.5), None);
        assert_eq!(as_count(f64::NAN), None);
    }

    #[test]
    fn values_never_use_an_exponent() {
        assert_eq!(format_value(1.7963251278232532e9), "1796325127.8232532");
        assert_eq!(format_value(20240101120000.0), "20240101120000");
        assert_eq!(format_value(0.000001), "0.000001");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
    }
}
