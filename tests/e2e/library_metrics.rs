//! `Migrator::with_metrics`: each command's series reach the process's `metrics` recorder, with the
//! version and pending count read back, after a good and after a failing command.

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::MetricKind;
use migrate::{DirectorySource, Migrator};

use migrate::postgres::{pg_url_from_parts, PgConnSpec, PgHost};

use crate::support::{fixtures, pg_admin_url, TempDir, TestDb};

fn url_of(name: &str) -> String {
    let spec = PgConnSpec::parse(&pg_admin_url(), &|_| None).unwrap();
    let PgHost::Tcp { host, port } = &spec.host else { panic!("the test server is reached over TCP") };
    pg_url_from_parts(host, Some(*port), &spec.user, spec.password(), name, &[("sslmode", "disable")])
}

/// The recorder's series, as `(kind, name, labels, value)` (a snapshot resets what it reads).
type Series = Vec<(MetricKind, String, Vec<String>, DebugValue)>;

fn snapshot(snapshotter: &Snapshotter) -> Series {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let (kind, key) = key.into_parts();
            let labels = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
            (kind, key.name().to_owned(), labels, value)
        })
        .collect()
}

/// The value of `name` for `service` in a snapshot.
fn value<'a>(series: &'a Series, name: &str, service: &str) -> Option<(MetricKind, &'a DebugValue, Vec<String>)> {
    series.iter().find_map(|(kind, key, labels, value)| {
        (key == name && labels.contains(&format!("service={service}"))).then(|| (*kind, value, labels.clone()))
    })
}

#[tokio::test(flavor = "current_thread")]
async fn a_migrator_records_its_metrics_through_the_facade() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // This test binary's only recorder: no other test uses with_metrics.
    recorder.install().expect("no other recorder in this test binary");
    let db = TestDb::new("lib_metrics").await;
    let url = url_of(&db.name);
    let migrator = Migrator::new(DirectorySource::new(fixtures().join("basic"))).with_metrics("lib-svc", &db.name);
    migrator.up(url.as_str()).await.unwrap();
    let series = snapshot(&snapshotter);
    let (kind, version, labels) = value(&series, "migration_version", "lib-svc").unwrap();
    assert_eq!((kind, version), (MetricKind::Gauge, &DebugValue::Gauge(6.0.into())));
    assert!(
        labels.contains(&format!("database={}", db.name)) && labels.contains(&"version=6".to_owned()),
        "{labels:?}"
    );
    assert_eq!(value(&series, "migration_pending", "lib-svc").unwrap().1, &DebugValue::Gauge(0.0.into()));
    assert!(value(&series, "migration_duration_seconds", "lib-svc").is_some());
    // A failing command counts a failure.
    let broken = TempDir::new("lib_metrics_bad");
    broken.write("00001_bad.sql", "-- +goose Up\nSELEC 1;\n");
    let failing = Migrator::new(DirectorySource::new(&broken.0))
        .with_table("other_versions")
        .with_metrics("lib-svc-bad", &db.name);
    assert!(failing.up(url.as_str()).await.is_err());
    let series = snapshot(&snapshotter);
    let (kind, failures, _) = value(&series, "migration_failure_total", "lib-svc-bad").unwrap();
    assert_eq!((kind, failures), (MetricKind::Counter, &DebugValue::Counter(1)));
    assert_eq!(value(&series, "migration_pending", "lib-svc-bad").unwrap().1, &DebugValue::Gauge(1.0.into()));
    db.drop_db().await;
}
