//! `write_file` on a real directory: the previous file's values come back, the replacement is atomic (no
//! temporary file left), and errors name the path.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use migrate_metrics::{write_file, MetricsError, Previous, RunMetrics};

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("migrate-metrics-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(failed: bool, finished_secs: u64) -> RunMetrics {
    RunMetrics {
        service: "billing".into(),
        database: "app".into(),
        environment: None,
        duration: Duration::from_secs(2),
        failed,
        version: Some(9),
        pending: Some(0),
        finished_at: UNIX_EPOCH + Duration::from_secs(finished_secs),
    }
}

fn read_back(path: &std::path::Path) -> Previous {
    Previous::from_text(&std::fs::read_to_string(path).unwrap(), "billing")
}

#[test]
fn the_previous_file_is_carried_forward() {
    let dir = temp_dir("round-trip");
    let path = dir.join("migrate.prom");

    write_file(&path, &run(true, 1_700_000_000)).unwrap();
    assert_eq!(read_back(&path), Previous { failures: 1, last_success_seconds: None });
    write_file(&path, &run(false, 1_700_000_100)).unwrap();
    assert_eq!(read_back(&path), Previous { failures: 0, last_success_seconds: Some(1_700_000_100.0) });
    write_file(&path, &run(true, 1_700_000_200)).unwrap();
    write_file(&path, &run(true, 1_700_000_300)).unwrap();
    assert_eq!(read_back(&path), Previous { failures: 2, last_success_seconds: Some(1_700_000_100.0) });

    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["migrate.prom"], "only the metrics file is left");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_file_starts_from_zero() {
    let dir = temp_dir("damaged");
    let path = dir.join("migrate.prom");
    std::fs::write(&path, [0xff, 0xfe, b'\n']).unwrap();
    write_file(&path, &run(true, 1_700_000_000)).unwrap();
    assert_eq!(read_back(&path).failures, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_directory_is_an_error_naming_the_path() {
    let dir = temp_dir("missing");
    let path = dir.join("no-such-dir").join("migrate.prom");
    let error = write_file(&path, &run(true, 1_700_000_000)).unwrap_err();
    assert!(matches!(error, MetricsError::WriteFile { .. }), "{error:?}");
    assert!(error.to_string().contains("no-such-dir"), "{error}");
    let error = write_file(std::path::Path::new("/"), &run(true, 1_700_000_000)).unwrap_err();
    assert!(matches!(error, MetricsError::FilePath { .. }), "{error:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
