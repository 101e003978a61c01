//! `schema dump`, `drift` and `test` through the binary, against the real PostgreSQL: the dump is stable
//! and round-trips, drift finds what was changed by hand and nothing on a clean database, `test` catches
//! a Down that forgets an index and a Down that fails, and the scratch database is gone after success,
//! failure and SIGINT.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{admin, fixture, migrate, TempDir, TestDb};

/// Scratch databases a `migrate` process with this pid left on the server.
async fn scratch_of(pid: u32) -> Vec<String> {
    let mut admin = admin().await;
    sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE $1")
        .bind(format!("migrate\\_scratch\\_{pid}\\_%"))
        .fetch_all(&mut admin)
        .await
        .unwrap()
}

/// Any scratch database at all (the tests here each check that theirs is gone once they finish).
async fn any_scratch_named_like(prefix: &str) -> Vec<String> {
    let mut admin = admin().await;
    sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE starts_with(datname, $1)")
        .bind(prefix)
        .fetch_all(&mut admin)
        .await
        .unwrap()
}

fn basic() -> String {
    fixture("basic").to_str().unwrap().to_owned()
}

#[tokio::test]
async fn dump_is_stable_and_round_trips() {
    let db = TestDb::new("schema_dump").await;
    let dir = fixture("schema");
    migrate(&["up", "--dir", dir.to_str().unwrap(), "--database-url", &db.url()], &[]).expect(0);
    let first = migrate(&["schema", "dump", "--database-url", &db.url()], &[]).expect(0).stdout;
    let second = migrate(&["schema", "dump", "--database-url", &db.url()], &[]).expect(0).stdout;
    assert_eq!(first, second);
    assert!(first.contains("CREATE MATERIALIZED VIEW app.daily_orders"), "{first}");

    // --out writes the same text; applying it to an empty database and dumping that gives it back.
    let out = TempDir::new("schema_dump");
    let file = out.0.join("schema.sql");
    migrate(&["schema", "dump", "--database-url", &db.url(), "--out", file.to_str().unwrap()], &[]).expect(0);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);
    let copy = TestDb::new("schema_dump_copy").await;
    copy.exec(&first).await;
    let again = migrate(&["schema", "dump", "--database-url", &copy.url()], &[]).expect(0).stdout;
    assert_eq!(again, first);
    copy.drop_db().await;
    db.drop_db().await;
}

#[tokio::test]
async fn drift_reports_hand_made_changes_and_nothing_on_a_clean_database() {
    let db = TestDb::new("schema_drift").await;
    migrate(&["up", "--dir", &basic(), "--database-url", &db.url()], &[]).expect(0);
    let clean = migrate(&["drift", "--dir", &basic(), "--database-url", &db.url()], &[]).expect(0);
    assert!(clean.stderr.contains("drift: none"), "{}", clean.stderr);

    // A committed dump, taken now, for --against.
    let out = TempDir::new("schema_drift");
    let committed = out.0.join("schema.sql");
    migrate(&["schema", "dump", "--database-url", &db.url(), "--out", committed.to_str().unwrap()], &[]).expect(0);

    db.exec(
        "ALTER TABLE users ADD COLUMN nickname text; DROP INDEX users_email_idx; \
         ALTER TABLE users ALTER COLUMN created_at SET DEFAULT '2020-01-01'",
    )
    .await;
    let run = migrate(&["drift", "--dir", &basic(), "--database-url", &db.url(), "--json"], &[]).expect(1);
    let document = run.json();
    insta::assert_json_snapshot!("drift_json", document);
    let text = migrate(&["drift", "--dir", &basic(), "--database-url", &db.url()], &[]).expect(1);
    assert!(text.stderr.contains("drift: extra column public.users.nickname: nickname text"), "{}", text.stderr);
    assert!(text.stderr.contains("drift: missing index public.users_email_idx"), "{}", text.stderr);
    assert!(text.stderr.contains("drift: changed column public.users.created_at"), "{}", text.stderr);

    let against =
        migrate(&["drift", "--database-url", &db.url(), "--against", committed.to_str().unwrap(), "--json"], &[])
            .expect(1);
    assert_eq!(against.json()["findings"], document["findings"]);

    // --shadow-url: the expected schema is built in the database given, which is left as it ends.
    let shadow = TestDb::new("schema_drift_shadow").await;
    let with_shadow = migrate(
        &["drift", "--dir", &basic(), "--database-url", &db.url(), "--shadow-url", &shadow.url(), "--json"],
        &[],
    )
    .expect(1);
    assert_eq!(with_shadow.json()["findings"], document["findings"]);
    assert!(shadow.has_table("users").await);
    shadow.drop_db().await;
    db.drop_db().await;
}

#[tokio::test]
async fn the_scratch_database_is_gone_after_a_failure() {
    let db = TestDb::new("schema_drift_fail").await;
    let failing = fixture("failing");
    let run = migrate(&["drift", "--dir", failing.to_str().unwrap(), "--database-url", &db.url()], &[]).expect(1);
    assert!(run.stderr.contains("applying the migrations"), "{}", run.stderr);
    // The binary's pid is gone by now; no scratch database of any finished run may remain from this test,
    // whose scratch names carry the child's pid: none is left at all for pids that have exited.
    let left = any_scratch_named_like("migrate_scratch_").await;
    for name in left {
        let pid: u32 = name.trim_start_matches("migrate_scratch_").split('_').next().unwrap().parse().unwrap();
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists(), "{name} left behind by an exited process");
    }
    db.drop_db().await;
}

#[tokio::test]
async fn sigint_drops_the_scratch_database() {
    let db = TestDb::new("schema_sigint").await;
    let dir = TempDir::new("schema_sigint");
    dir.write(
        "00001_slow.sql",
        "-- +goose Up\nCREATE TABLE slow (id bigint);\nSELECT pg_sleep(60);\n-- +goose Down\nDROP TABLE slow;\n",
    );
    let cwd = TempDir::new("schema_sigint_cwd");
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["drift", "--dir", dir.path(), "--database-url", &db.url()])
        .current_dir(&cwd.0)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    while scratch_of(pid).await.is_empty() {
        assert!(started.elapsed() < Duration::from_secs(20), "the scratch database never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let the slow migration start, then interrupt.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("SIGINT received"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30), "it waited for the slow migration");
    assert_eq!(scratch_of(pid).await, Vec::<String>::new(), "scratch database left behind: {stderr}");
    db.drop_db().await;
}

#[tokio::test]
async fn test_passes_on_clean_fixtures_and_catches_bad_downs() {
    let db = TestDb::new("schema_test").await;
    for clean in ["basic", "schema", "round_trip_good"] {
        let dir = fixture(clean);
        let run = migrate(&["test", "--dir", dir.to_str().unwrap(), "--database-url", &db.url()], &[]).expect(0);
        assert!(run.stderr.contains("test: passed"), "{clean}: {}", run.stderr);
    }

    let forgets = fixture("schema_down_forgets_index");
    let run =
        migrate(&["test", "--dir", forgets.to_str().unwrap(), "--database-url", &db.url(), "--json"], &[]).expect(1);
    insta::assert_json_snapshot!("test_forgets_index_json", run.json());

    let fails = fixture("schema_down_fails");
    let run = migrate(&["test", "--dir", fails.to_str().unwrap(), "--database-url", &db.url()], &[]).expect(1);
    assert!(run.stderr.contains("test: error: 00002_add_tags.sql: its Down fails"), "{}", run.stderr);
    assert!(run.stderr.contains("labels"), "{}", run.stderr);
    db.drop_db().await;
}

#[tokio::test]
async fn clickhouse_is_not_yet_supported() {
    let run = migrate(&["schema", "dump", "--database-url", "clickhouse://127.0.0.1:9000/default"], &[]).expect(1);
    assert!(run.stderr.contains("not yet available for ClickHouse"), "{}", run.stderr);
}
