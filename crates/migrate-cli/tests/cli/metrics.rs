//! The run's metrics from the CLI to the real Pushgateway and Prometheus (`scripts/tools/prometheus.sh
//! up`): pushed after a good and after a failing run, the alert MigrationFailed firing after the failure
//! and clearing after the next good run; the textfile collector's file.

use std::time::{Duration, Instant};

use crate::support::{fixture, migrate, TempDir, TestDb};

fn url(var: &str, default: &str) -> String {
    #[allow(clippy::disallowed_methods)] // Tests read their servers from the environment.
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

/// GET through curl (installed with Prometheus by scripts/tools/prometheus.sh).
fn get(url: &str) -> String {
    let output = std::process::Command::new("curl").args(["-fsS", "--max-time", "5", url]).output().expect("curl");
    assert!(
        output.status.success(),
        "GET {url} failed (run scripts/tools/prometheus.sh up): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The Pushgateway's samples of `service` for `name`, as `value` strings.
fn pushed(gateway: &str, service: &str, name: &str) -> Vec<String> {
    get(&format!("{gateway}/metrics"))
        .lines()
        .filter(|line| line.starts_with(&format!("{name}{{")) && line.contains(&format!("service=\"{service}\"")))
        .filter_map(|line| line.rsplit_once(' ').map(|(_, value)| value.to_owned()))
        .collect()
}

/// Whether Prometheus has MigrationFailed firing for `service`.
fn firing(prometheus: &str, service: &str) -> bool {
    let query = format!("ALERTS{{alertname=\"MigrationFailed\",alertstate=\"firing\",service=\"{service}\"}}");
    let encoded: String = query.bytes().map(|b| format!("%{b:02X}")).collect();
    get(&format!("{prometheus}/api/v1/query?query={encoded}")).contains("\"alertname\":\"MigrationFailed\"")
}

fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[tokio::test]
async fn a_failed_run_fires_the_alert_and_a_good_one_clears_it() {
    let gateway = url("MIGRATE_TEST_PUSHGATEWAY_URL", "http://127.0.0.1:9091");
    let prometheus = url("MIGRATE_TEST_PROMETHEUS_URL", "http://127.0.0.1:9090");
    let db = TestDb::new("metrics_alert").await;
    let service = format!("cli-metrics-{}", std::process::id());
    let good = fixture("basic");
    let bad = TempDir::new("metrics_bad");
    for entry in std::fs::read_dir(&good).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), bad.0.join(entry.file_name())).unwrap();
    }
    bad.write("00099_broken.sql", "-- +goose Up\nSELEC 1;\n");
    let file = TempDir::new("metrics_file");
    let prom = file.0.join("migrate.prom");
    let run = |dir: &str| {
        migrate(
            &[
                "up",
                "--dir",
                dir,
                "--database-url",
                &db.url(),
                "--service",
                &service,
                "--metrics-push",
                &gateway,
                "--metrics-file",
                prom.to_str().unwrap(),
            ],
            &[],
        )
    };
    let ok = run(good.to_str().unwrap()).expect(0);
    assert!(ok.stderr.contains("metrics: pushed to"), "{}", ok.stderr);
    assert_eq!(pushed(&gateway, &service, "migration_failure_total"), ["0"]);
    assert_eq!(pushed(&gateway, &service, "migration_version"), ["6"]);
    assert_eq!(pushed(&gateway, &service, "migration_pending"), ["0"]);
    let last_success = pushed(&gateway, &service, "migration_last_success_timestamp_seconds");
    assert_eq!(last_success.len(), 1);
    // The failing run: pushed too, the failure counted, the last success carried, the alert fires.
    let failed = run(bad.path()).expect(1);
    assert!(failed.stderr.contains("metrics: pushed to"), "{}", failed.stderr);
    assert_eq!(pushed(&gateway, &service, "migration_failure_total"), ["1"]);
    assert_eq!(pushed(&gateway, &service, "migration_pending"), ["1"]);
    assert_eq!(pushed(&gateway, &service, "migration_last_success_timestamp_seconds"), last_success);
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("# TYPE migration_failure_total counter\n"), "{text}");
    assert!(
        text.contains(&format!("migration_failure_total{{service=\"{service}\",database=\"{}\"}} 1\n", db.name)),
        "{text}"
    );
    wait_for("MigrationFailed to fire", || firing(&prometheus, &service));
    // A good run again: the counter back to 0 and the alert cleared.
    std::fs::remove_file(bad.0.join("00099_broken.sql")).unwrap();
    run(bad.path()).expect(0);
    assert_eq!(pushed(&gateway, &service, "migration_failure_total"), ["0"]);
    wait_for("MigrationFailed to clear", || !firing(&prometheus, &service));
    let _ = std::process::Command::new("curl")
        .args(["-fsS", "-X", "DELETE", &format!("{gateway}/metrics/job/migrate/service/{service}")])
        .output();
    db.drop_db().await;
}

#[tokio::test]
async fn an_unreachable_pushgateway_is_a_warning_not_a_failure() {
    let db = TestDb::new("metrics_down").await;
    let basic = fixture("basic");
    let run = migrate(
        &[
            "up",
            "--dir",
            basic.to_str().unwrap(),
            "--database-url",
            &db.url(),
            "--metrics-push",
            "http://u:hunter2@127.0.0.1:1",
        ],
        &[],
    )
    .expect(0);
    assert!(run.stderr.contains("warning: metrics: "), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    db.drop_db().await;
}
