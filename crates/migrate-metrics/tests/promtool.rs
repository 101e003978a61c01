//! promtool (Debian's prometheus package, installed by scripts/tools/prometheus.sh) lints `render`'s text:
//! `promtool check metrics` must accept it, with nothing to say.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use migrate_metrics::{render, Previous, RunMetrics};

#[allow(clippy::disallowed_methods)] // Tests read their tools from the environment.
fn promtool() -> String {
    std::env::var("MIGRATE_TEST_PROMTOOL").unwrap_or_else(|_| "promtool".to_owned())
}

fn check_metrics(text: &str) -> (bool, String) {
    let mut child = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}); {}", promtool(), common::START_SERVERS));
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), said)
}

#[test]
fn promtool_accepts_every_shape_of_render() {
    let full = RunMetrics {
        service: "team/billing \"x\"".into(),
        database: "app\\db\nline".into(),
        environment: Some("prod".into()),
        duration: Duration::from_micros(1_234_567),
        failed: true,
        version: Some(20240101120000),
        pending: Some(3),
        finished_at: std::time::SystemTime::now(),
    };
    let previous = Previous { failures: 4, last_success_seconds: Some(1_700_000_000.25) };
    let unknown = RunMetrics { version: None, pending: None, environment: None, ..full.clone() };
    let success = RunMetrics { failed: false, ..full.clone() };
    for (name, text) in [
        ("failed, everything known", render(&full, &previous)),
        ("failed, nothing known", render(&unknown, &Previous::default())),
        ("succeeded", render(&success, &previous)),
    ] {
        let (ok, said) = check_metrics(&text);
        assert!(ok && said.trim().is_empty(), "{name}: promtool check metrics said:\n{said}\non:\n{text}");
    }
}

#[test]
fn promtool_would_catch_a_bad_type() {
    // The check above means something: promtool flags a counter without the _total suffix.
    let (ok, said) =
        check_metrics("# HELP migration_failures x\n# TYPE migration_failures counter\nmigration_failures 1\n");
    assert!(!ok && said.contains("_total"), "{said}");
}
