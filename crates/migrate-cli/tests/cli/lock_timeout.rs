//! `--lock-timeout` and `--lock-retries` against the real server: a blocker holding ACCESS EXCLUSIVE on a
//! table makes the migration's ALTER give up (55P03) instead of queueing; with retries the migration runs
//! again, whole, once the blocker is gone; without, it fails naming the statement, nothing recorded.

use std::time::Duration;

use sqlx::Connection;

use crate::support::{migrate, TempDir, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_migration_gives_up_and_is_retried() {
    let db = TestDb::new("lock_timeout").await;
    db.exec("CREATE TABLE accounts (id int); INSERT INTO accounts VALUES (1)").await;
    let dir = TempDir::new("lock_timeout");
    dir.write(
        "00001_add_column.sql",
        "-- +goose Up\nCREATE TABLE audit (id int);\nALTER TABLE accounts ADD COLUMN note text;\n-- +goose Down\nALTER TABLE accounts DROP COLUMN note;\nDROP TABLE audit;\n",
    );
    let url = db.url();
    let mut blocker = db.connect().await;
    sqlx::raw_sql("BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE").execute(&mut blocker).await.unwrap();
    // No retries: it gives up after 200 ms, rolled back whole (audit is not there), not recorded.
    let run = migrate(&["up", "--dir", dir.path(), "--database-url", &url, "--lock-timeout", "200ms"], &[]).expect(1);
    assert!(run.stderr.contains("00001_add_column.sql:3: up statement 2 failed: SQLSTATE 55P03"), "{}", run.stderr);
    assert!(!db.has_table("audit").await);
    assert!(db.versions().await.is_empty());
    // Retries exhausted while the blocker holds on.
    let run = migrate(
        &["up", "--dir", dir.path(), "--database-url", &url, "--lock-timeout", "200ms", "--lock-retries", "1"],
        &[],
    )
    .expect(1);
    assert!(run.stderr.contains("timed out waiting for a lock (lock_timeout); nothing of it took effect, running it again in 500ms (retry 1 of 1)"), "{}", run.stderr);
    assert!(run.stderr.contains("SQLSTATE 55P03"), "{}", run.stderr);
    // The blocker lets go after about a second: a later retry succeeds.
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        sqlx::raw_sql("COMMIT").execute(&mut blocker).await.unwrap();
        blocker.close().await.unwrap();
    });
    let args: Vec<String> =
        ["up", "--dir", dir.path(), "--database-url", &url, "--lock-timeout", "200ms", "--lock-retries", "6"]
            .map(str::to_owned)
            .to_vec();
    let run = tokio::task::spawn_blocking(move || migrate(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]))
        .await
        .unwrap()
        .expect(0);
    release.await.unwrap();
    assert!(run.stderr.contains("(retry 1 of 6)"), "{}", run.stderr);
    assert!(run.stderr.contains("OK   00001_add_column.sql"), "{}", run.stderr);
    assert_eq!(db.versions().await, ["1"]);
    assert_eq!(db.column("SELECT count(*)::text FROM audit").await, ["0"], "one audit table, created once");
    db.drop_db().await;
}
