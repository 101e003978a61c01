//! SIGTERM during a slow migration, against the real servers: a PostgreSQL transaction in flight is
//! cancelled and rolled back, what ran before stays recorded, the lock is released and the exit code is 4;
//! on ClickHouse the run stops after the statement in flight, its progress recorded, the lease released,
//! and the next run resumes there.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::clickhouse::{ch, ch_url, ChDb};
use crate::support::{migrate, TempDir, TestDb};

/// Starts `migrate ARGS` in the background, its output captured.
fn spawn(args: &[&str]) -> Child {
    let cwd = TempDir::new("signal-cwd");
    Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(args)
        .current_dir(&cwd.0)
        .env_remove("DATABASE_URL")
        .env_remove("GOOSE_DRIVER")
        .env_remove("GOOSE_DBSTRING")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting migrate")
}

fn terminate(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("running kill");
    assert!(status.success(), "kill -TERM failed");
}

/// Waits (bounded) until `ready` says the run reached the slow part.
async fn wait_until<F: std::future::Future<Output = bool>>(what: &str, mut ready: impl FnMut() -> F) {
    let started = Instant::now();
    while !ready().await {
        assert!(started.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn finish(child: Child) -> (i32, String) {
    let output = child.wait_with_output().expect("waiting for migrate");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), stderr)
}

#[tokio::test]
async fn sigterm_rolls_back_the_postgresql_transaction_in_flight_and_releases_the_lock() {
    let db = TestDb::new("sigterm").await;
    let url = db.url();
    let dir = TempDir::new("sigterm");
    dir.write("00001_a.sql", "-- +goose Up\nCREATE TABLE a (id bigint);\n-- +goose Down\nDROP TABLE a;\n");
    dir.write(
        "00002_slow.sql",
        "-- +goose Up\nCREATE TABLE slow (id bigint);\nSELECT pg_sleep(60);\n-- +goose Down\nDROP TABLE slow;\n",
    );
    dir.write("00003_c.sql", "-- +goose Up\nCREATE TABLE c (id bigint);\n-- +goose Down\nDROP TABLE c;\n");
    let started = Instant::now();
    let child = spawn(&["up", "--dir", dir.path(), "--database-url", &url]);
    let probe = db.connect().await;
    let probe = tokio::sync::Mutex::new(probe);
    wait_until("the slow migration", || async {
        let mut probe = probe.lock().await;
        let sleeping: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut *probe)
        .await
        .unwrap();
        sleeping > 0
    })
    .await;
    terminate(&child);
    let (code, stderr) = finish(child);
    assert_eq!(code, 4, "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30), "it stopped at once, not after pg_sleep: {stderr}");
    assert!(stderr.contains("SIGTERM received: stopping now"), "{stderr}");
    assert!(stderr.contains("00002_slow.sql was in flight and was rolled back"), "{stderr}");
    assert!(stderr.contains("OK   00001_a.sql"), "{stderr}");
    // 1 stays applied; 2 left nothing behind; 3 never started; nobody holds the lock.
    assert_eq!(db.versions().await, ["1"]);
    assert!(db.has_table("a").await && !db.has_table("slow").await && !db.has_table("c").await);
    let held: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(&mut *probe.lock().await)
    .await
    .unwrap();
    assert_eq!(held, 0, "the advisory lock is released");
    // The next run goes on from there (without the slow statement).
    dir.write("00002_slow.sql", "-- +goose Up\nCREATE TABLE slow (id bigint);\n-- +goose Down\nDROP TABLE slow;\n");
    migrate(&["up", "--dir", dir.path(), "--database-url", &url], &[]).expect(0);
    assert_eq!(db.versions().await, ["1", "2", "3"]);
    db.drop_db().await;
}

#[tokio::test]
async fn sigterm_on_clickhouse_stops_after_the_statement_in_flight_and_the_next_run_resumes() {
    let db = ChDb::new("sigterm");
    let url = format!("{}?database={}", ch_url(), db.name);
    let dir = TempDir::new("sigterm-ch");
    // The alias names this test's statement in system.processes (18.16 has no current_database there).
    let marker = format!("slept_{}", db.name);
    dir.write(
        "00001_slow.sql",
        &format!(
            "-- +goose Up\nCREATE TABLE IF NOT EXISTS counter (n UInt8) ENGINE = MergeTree ORDER BY n;\n\
             INSERT INTO counter VALUES (1);\nSELECT sleep(3) AS {marker};\nINSERT INTO counter VALUES (2);\n\
             -- +goose Down\nDROP TABLE IF EXISTS counter;\n"
        ),
    );
    let child = spawn(&["up", "--dir", dir.path(), "--database-url", &url]);
    let probe = format!(
        "SELECT count() FROM system.processes WHERE query LIKE '%AS {marker}%' AND query NOT LIKE '%processes%'"
    );
    wait_until("the sleeping statement", || {
        let probe = probe.clone();
        async move { ch(&probe).trim() != "0" }
    })
    .await;
    terminate(&child);
    let (code, stderr) = finish(child);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("stopping after the statement in flight"), "{stderr}");
    assert!(stderr.contains("resumes at statement 4"), "{stderr}");
    // Statement 4 never ran, the version is not recorded, and the lease is gone.
    assert_eq!(ch(&format!("SELECT groupArray(n) FROM {}.counter", db.name)).trim(), "[1]");
    assert!(db.versions().is_empty());
    let live_claims = format!(
        "SELECT count() FROM (SELECT token, max(released) AS released FROM {}.goose_db_version_lock GROUP BY token) \
         WHERE released = 0",
        db.name
    );
    assert_eq!(ch(&live_claims).trim(), "0", "the lease is released");
    // The next run starts at once (no lease to wait out) and resumes at statement 4: each insert ran once.
    let started = Instant::now();
    let run = migrate(&["up", "--dir", dir.path(), "--database-url", &url], &[]).expect(0);
    assert!(started.elapsed() < Duration::from_secs(10), "{}", run.stderr);
    assert_eq!(ch(&format!("SELECT arraySort(groupArray(n)) FROM {}.counter", db.name)).trim(), "[1,2]");
    assert_eq!(db.versions(), ["1"]);
}

#[tokio::test]
async fn a_killed_clickhouse_runner_s_lease_is_taken_over_at_once_on_the_same_host() {
    let db = ChDb::new("lease_takeover");
    let dir = TempDir::new("lease_takeover");
    dir.write(
        "00001_slow.sql",
        "-- +goose Up\nCREATE TABLE t (id UInt64) ENGINE = MergeTree ORDER BY id;\nSELECT sleep(3);\nSELECT sleep(3);\nSELECT sleep(3);\nINSERT INTO t VALUES (1);\n-- +goose Down\nDROP TABLE t;\n",
    );
    let url = format!("{}{}", ch_url(), db.name);
    let mut child = spawn(&["up", "--dir", dir.path(), "--database-url", &url, "--no-lint"]);
    let held = format!("SELECT count() FROM {}.goose_db_version_lock WHERE held = 1 AND released = 0", db.name);
    wait_until("the first runner to hold the lease", || {
        let held = held.clone();
        async move {
            ch(&format!("EXISTS TABLE {}.goose_db_version_lock", db_name(&held))).trim() == "1"
                && ch(&held).trim() != "0"
        }
    })
    .await;
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    // The lease is 30 s; the next runner on this host sees its holder's process is gone and takes over.
    let started = Instant::now();
    let run = migrate(&["up", "--dir", dir.path(), "--database-url", &url, "--no-lint"], &[]).expect(0);
    assert!(started.elapsed() < Duration::from_secs(20), "waited {:?} for a dead runner's lease", started.elapsed());
    assert!(run.stderr.contains("the migration lock's holder is gone"), "{}", run.stderr);
    assert_eq!(db.versions(), ["1"]);
    assert_eq!(ch(&format!("SELECT count() FROM {}.t", db.name)).trim(), "1");
}

/// The database a `SELECT ... FROM db.table` query names.
fn db_name(query: &str) -> String {
    query.split(" FROM ").nth(1).and_then(|rest| rest.split('.').next()).unwrap_or_default().to_owned()
}
