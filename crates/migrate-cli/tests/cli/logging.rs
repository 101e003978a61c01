//! The drivers' and runner's `tracing` events reach the CLI's stderr as log lines.

use sqlx::Connection;

use crate::support::{admin_options, fixture, migrate, TestDb};

#[tokio::test]
async fn a_runner_waiting_for_the_lock_says_who_holds_it() {
    let db = TestDb::new("log_lock").await;
    let options = admin_options().database(&db.name).application_name("the-holder");
    let mut holder = sqlx::postgres::PgConnection::connect_with(&options).await.unwrap();
    sqlx::query("SELECT pg_advisory_lock(4097083626)").execute(&mut holder).await.unwrap();
    let basic = fixture("basic");
    let run = migrate(&["up", "--dir", basic.to_str().unwrap(), "--database-url", &db.url(), "--lock-wait", "2s"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let waiting = run.stderr.lines().find(|l| l.contains("waiting for the migration lock (")).unwrap_or_else(|| {
        panic!("no lock-wait line:\n{}", run.stderr);
    });
    assert!(waiting.contains("holder: pid ") && waiting.contains("\"the-holder\""), "{waiting}");
    // The failure states the fact, then what to do in the CLI's terms, with a readable duration.
    assert!(run.stderr.contains("timed out after 2.0s waiting for the migration lock"), "{}", run.stderr);
    assert!(run.stderr.contains("wait longer with --lock-wait"), "{}", run.stderr);
    // goose's form takes the same option.
    let run = migrate(&["-dir", basic.to_str().unwrap(), "-lock-wait=1s", "postgres", &db.url(), "up"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("timed out after 1.0s"), "{}", run.stderr);
    holder.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn a_driver_warning_is_printed() {
    let db = TestDb::new("log_hosts").await;
    let url = db.url().replacen("127.0.0.1:5432", "127.0.0.1:5432,127.0.0.1:1", 1);
    assert_ne!(url, db.url(), "the test database URL changed shape: {url}");
    let basic = fixture("basic");
    let run = migrate(&["status", "--dir", basic.to_str().unwrap(), "--database-url", &url], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("warning: the DSN lists several hosts; only the first is used"), "{}", run.stderr);
    db.drop_db().await;
}

/// A server that accepts TCP connections but never answers: every attempt times out, each with a
/// shorter bound near the end, and the unchanged error is logged once, not once per attempt.
#[test]
fn wait_logs_an_unchanged_error_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("postgres://u@127.0.0.1:{port}/db?sslmode=disable");
    let run = migrate(&["wait", "--timeout", "6500ms", "--database-url", &url], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let waiting = run.stderr.lines().filter(|l| l.contains("migrate: waiting for")).count();
    assert_eq!(waiting, 1, "{}", run.stderr);
    assert!(run.stderr.contains("gave up waiting for"), "{}", run.stderr);
    drop(listener);
}

/// `-v` in a transaction prints the statements that ran, marks the one that failed, and nothing after it.
#[tokio::test]
async fn verbose_prints_only_what_ran() {
    let db = TestDb::new("log_verbose_fail").await;
    let dir = crate::support::TempDir::new("log_verbose_fail");
    dir.write(
        "00001_three.sql",
        "-- +goose Up\nCREATE TABLE v (id int PRIMARY KEY);\nINSERT INTO v VALUES (1), (1);\nINSERT INTO v VALUES (3);\n",
    );
    let run = migrate(&["-v", "-dir", dir.path(), "postgres", &db.url(), "up"], &[("NO_COLOR", "1")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut filters = crate::support::filters(Some(&db));
    filters.add_filter(&crate::support::regex_escape(dir.path()), "[dir]");
    filters.bind(|| insta::assert_snapshot!(run.stderr));
    db.drop_db().await;
}

/// An applied migration edited afterwards: refused with its file and line and what to do; with
/// -allow-changed a warning, and the run goes on.
#[tokio::test]
async fn an_edited_applied_migration_is_refused_then_allowed() {
    let db = TestDb::new("log_changed").await;
    let dir = crate::support::TempDir::new("log_changed");
    dir.write("00001_a.sql", "-- +goose Up\nCREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n");
    migrate(&["-dir", dir.path(), "postgres", &db.url(), "up"], &[]).expect(0);
    dir.write("00001_a.sql", "-- +goose Up\nCREATE TABLE a (id int);\nINSERT INTO a VALUES (2);\n");
    dir.write("00002_b.sql", "-- +goose Up\nCREATE TABLE b (id int);\n");
    let run = migrate(&["-dir", dir.path(), "postgres", &db.url(), "up"], &[]).expect(1);
    assert!(run.stderr.contains("00001_a.sql:3: migration 1 is applied, and its Up section changed"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing ran") && run.stderr.contains("-allow-changed"), "{}", run.stderr);
    assert!(!db.has_table("b").await);
    let run = migrate(&["-dir", dir.path(), "-allow-changed", "postgres", &db.url(), "up"], &[]).expect(0);
    assert!(run.stderr.contains("warning: ") && run.stderr.contains("OK   00002_b.sql"), "{}", run.stderr);
    db.drop_db().await;
}

/// The library states facts; the CLI names its own flags: a missing directory and out-of-order migrations.
#[tokio::test]
async fn the_cli_names_its_own_flags_in_hints() {
    let db = TestDb::new("log_hints").await;
    let run = migrate(&["status", "--dir", "/nonexistent/migrations", "--database-url", &db.url()], &[]).expect(1);
    assert!(
        run.stderr.contains("migrations directory does not exist; pass the right one with --dir"),
        "{}",
        run.stderr
    );
    let dir = crate::support::TempDir::new("log_hints");
    dir.write("00001_a.sql", "-- +goose Up\nSELECT 1;\n");
    dir.write("00003_c.sql", "-- +goose Up\nSELECT 3;\n");
    migrate(&["-dir", dir.path(), "postgres", &db.url(), "up"], &[]).expect(0);
    dir.write("00002_b.sql", "-- +goose Up\nSELECT 2;\n");
    let run = migrate(&["-dir", dir.path(), "postgres", &db.url(), "up"], &[]).expect(1);
    assert!(run.stderr.contains("they were added out of order"), "{}", run.stderr);
    assert!(run.stderr.contains("apply them with --allow-missing (goose's form: -allow-missing)"), "{}", run.stderr);
    db.drop_db().await;
}
