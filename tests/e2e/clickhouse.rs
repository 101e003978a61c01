//! The ClickHouse driver against the real server (18.16 in CI): every command over the fixtures, SET and
//! ENVSUB, a failing statement resumed after the fix (and refused when earlier statements changed), the
//! lease lock under contention and after a crash, goose-created version tables of both engine forms,
//! errors without secrets, and the corpus.

use std::time::{Duration, Instant};

use migrate_clickhouse::{ChConfig, ChConnSpec, ChDriver, TableName};
use migrate_core::{current_version, ChecksumStore, Command, Lock, ProgressStore, RunErrorKind, VersionStore};

use crate::recording_proxy::{http_request_bodies, RecordingProxy};
use crate::support::{fixtures, load, steps, TempDir};

use harness::{run, states, ChDb};

/// ENVSUB values of `fixtures/clickhouse/00006_envsub.sql`.
fn fixture_env(name: &str) -> Option<String> {
    (name == "CH_PREFIX").then(|| "env".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_over_the_clickhouse_fixture() {
    let db = ChDb::new("commands").await;
    let migrations = load(&fixtures().join("clickhouse"));
    let mut driver = db.driver(ChConfig::default()).await;
    assert_eq!(
        states(&mut driver, &migrations).await,
        ["1 Pending", "2 Pending", "3 Pending", "4 Pending", "5 Pending", "6 Pending"]
    );

    let outcome = run(&mut driver, &migrations, Command::UpByOne).await.unwrap();
    assert_eq!(steps(&outcome), ["up 1"]);
    let outcome = run(&mut driver, &migrations, Command::UpTo(3)).await.unwrap();
    assert_eq!(steps(&outcome), ["up 2", "up 3"]);
    // Both statements of 00002 ran; the StatementBegin block of 00003 went as one statement.
    assert_eq!(db.column("SELECT count() FROM events").await, ["3"]);
    assert_eq!(db.column("SELECT n FROM events_summary WHERE kind = 'login'").await, ["2"]);
    assert_eq!(db.column("SELECT DISTINCT note FROM events_summary").await, ["one;\ntwo;"]);

    let outcome = run(&mut driver, &migrations, Command::Up).await.unwrap();
    assert_eq!(steps(&outcome), ["up 4", "up 5", "up 6"]);
    assert!(outcome.report.results[0].empty, "00004 has no statements");
    // The SET of 00005 applied to the statement after it (one HTTP session per driver)...
    assert_eq!(db.column("SELECT value FROM settings_seen").await, ["3"]);
    // ...and not outside that session.
    assert_ne!(db.column("SELECT value FROM system.settings WHERE name = 'max_threads'").await, ["3"]);
    // ENVSUB: the variable and the default.
    assert_eq!(
        db.column(&format!(
            "SELECT default_expression FROM system.columns WHERE database = '{}' AND table = 'env_things' AND name = 'label'",
            db.name
        ))
        .await,
        ["'none'"]
    );
    assert_eq!(db.versions().await, ["0:1", "1:1", "2:1", "3:1", "4:1", "5:1", "6:1"]);

    // Nothing pending: no steps, and the current version reported.
    let outcome = run(&mut driver, &migrations, Command::Up).await.unwrap();
    assert!(outcome.report.results.is_empty());
    assert_eq!(outcome.version_before, 6);
    let rows = driver.list_applied().await.unwrap().unwrap();
    assert_eq!(current_version(&rows), Some(6));
    assert!(states(&mut driver, &migrations).await.iter().all(|s| s.ends_with(" applied")));

    let outcome = run(&mut driver, &migrations, Command::Down).await.unwrap();
    assert_eq!(steps(&outcome), ["down 6"]);
    assert!(!db.has_table("env_things").await);
    let outcome = run(&mut driver, &migrations, Command::Redo).await.unwrap();
    assert_eq!(steps(&outcome), ["down 5", "up 5"]);
    assert_eq!(db.column("SELECT value FROM settings_seen").await, ["3"]);
    let outcome = run(&mut driver, &migrations, Command::DownTo(2)).await.unwrap();
    assert_eq!(steps(&outcome), ["down 5", "down 4", "down 3"]);
    assert_eq!(db.versions().await, ["0:1", "1:1", "2:1"]);
    assert_eq!(
        states(&mut driver, &migrations).await,
        ["1 applied", "2 applied", "3 Pending", "4 Pending", "5 Pending", "6 Pending"]
    );
    let rows = driver.list_applied().await.unwrap().unwrap();
    assert_eq!(current_version(&rows), Some(2));

    let outcome = run(&mut driver, &migrations, Command::Reset).await.unwrap();
    assert_eq!(steps(&outcome), ["down 2", "down 1"]);
    assert_eq!(db.versions().await, ["0:1"]);
    assert!(!db.has_table("events").await);
    let error = run(&mut driver, &migrations, Command::Down).await.unwrap_err();
    assert!(error.to_string().contains("database is at version 0"), "{error}");
    assert!(driver.list_progress().await.unwrap().is_empty(), "completed migrations leave no progress");
    db.drop_db().await;
}

/// Copies `fixtures/clickhouse-failing` into a temporary directory the test can edit.
fn failing_copy(label: &str) -> TempDir {
    let dir = TempDir::new(label);
    for entry in std::fs::read_dir(fixtures().join("clickhouse-failing")).unwrap() {
        let path = entry.unwrap().path();
        dir.write(path.file_name().unwrap().to_str().unwrap(), &std::fs::read_to_string(&path).unwrap());
    }
    dir
}

fn edit(dir: &TempDir, file: &str, from: &str, to: &str) {
    let path = dir.0.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

/// Checksums on ClickHouse: recorded after the run (one INSERT), an edited applied migration stops the
/// next run before anything is sent, a rollback forgets the checksum, and goose's table is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_applied_migration_stops_the_run() {
    let db = ChDb::new("checksums").await;
    let dir = TempDir::new("ch-checksums");
    dir.write("00001_a.sql", "-- +goose Up\nCREATE TABLE a (x UInt8) ENGINE = Memory;\nINSERT INTO a VALUES (1);\n-- +goose Down\nDROP TABLE a;\n");
    let mut driver = db.driver(ChConfig::default()).await;
    run(&mut driver, &load(&dir.0), Command::Up).await.unwrap();
    assert_eq!(db.column("SELECT toString(count()) FROM goose_db_version_checksums").await, ["1"]);
    dir.write("00001_a.sql", "-- +goose Up\nCREATE TABLE a (x UInt8) ENGINE = Memory;\nINSERT INTO a VALUES (2);\n-- +goose Down\nDROP TABLE a;\n");
    dir.write("00002_b.sql", "-- +goose Up\nCREATE TABLE b (x UInt8) ENGINE = Memory;\n");
    let error = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
    let RunErrorKind::Changed { changed } = &error.kind else { panic!("{error}") };
    assert_eq!(changed.statement, Some((2, 3)), "{error}");
    assert!(!db.has_table("b").await, "nothing ran");
    // Restored, it runs; rolled back, the checksum goes too.
    dir.write("00001_a.sql", "-- +goose Up\nCREATE TABLE a (x UInt8) ENGINE = Memory;\nINSERT INTO a VALUES (1);\n-- +goose Down\nDROP TABLE a;\n");
    run(&mut driver, &load(&dir.0), Command::Up).await.unwrap();
    run(&mut driver, &load(&dir.0), Command::Down).await.unwrap();
    let recorded = driver.list_checksums().await.unwrap().unwrap();
    assert_eq!(recorded.iter().map(|row| row.version.get()).collect::<Vec<_>>(), [1]);
    assert_eq!(db.versions().await, ["0:1", "1:1"]);
    db.drop_db().await;
}

/// A failure at the first statement leaves nothing of the migration applied, and the message says so
/// (no advice to undo statements that never ran).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_first_statement_says_nothing_was_applied() {
    let db = ChDb::new("first_fails").await;
    let dir = TempDir::new("ch-first-fails");
    dir.write("00001_bad.sql", "-- +goose Up\nCREATE TABLE t (x UInt8) ENGINE = Nope;\nSELECT 1;\n");
    let mut driver = db.driver(ChConfig::default()).await;
    let error = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("00001_bad.sql:2: up statement 1 failed"), "{text}");
    assert!(text.ends_with("(no statement of this migration was applied; fix this one and run again)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_statement_is_resumed_after_the_fix() {
    let db = ChDb::new("resume").await;
    let dir = failing_copy("ch-resume");
    let mut driver = db.driver(ChConfig::default()).await;
    let error = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
    assert_eq!(error.applied.iter().map(|r| r.version.get()).collect::<Vec<_>>(), [1]);
    assert_eq!(error.failed.as_ref().map(|f| f.0.get()), Some(2));
    let RunErrorKind::Statement { file, line, index, source, transaction, .. } = &error.kind else { panic!("{error}") };
    assert!(file.ends_with("00002_partial.sql"), "{file}");
    assert_eq!((*index, *line, *transaction), (3, 5, false), "{error}");
    assert!(source.to_string().starts_with("ClickHouse error 47"), "{source}");
    assert!(
        error.to_string().contains(
            "statements 1-2 of this migration are applied and recorded; fix statement 3 and run \
         again, and the next run resumes at statement 3"
        ),
        "{error}"
    );
    // Statements 1 and 2 of 00002 stay applied; nothing after the failure ran; no version row.
    assert_eq!(db.column("SELECT count() FROM ledger").await, ["1"]);
    assert!(!db.has_table("ledger_done").await);
    assert!(!db.has_table("never_reached").await);
    assert_eq!(db.versions().await, ["0:1", "1:1"]);
    let migrations = load(&dir.0);
    assert_eq!(states(&mut driver, &migrations).await, ["1 applied", "2 Partial 2/4 up", "3 Pending"]);
    // The lock was released on the error path: another runner takes it at once.
    let mut other = db.driver(ChConfig { lock_wait: Duration::from_secs(2), ..ChConfig::default() }).await;
    other.acquire().await.unwrap();
    other.release().await.unwrap();

    // Fixed: the run resumes at statement 3, so statement 2's insert is not repeated.
    edit(&dir, "00002_partial.sql", "amount_typo", "amount * 2");
    let outcome = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap();
    assert_eq!(steps(&outcome), ["up 2", "up 3"]);
    assert_eq!(db.column("SELECT toString(sum(amount)) || '/' || toString(count()) FROM ledger").await, ["300/2"]);
    assert!(db.has_table("ledger_done").await);
    assert_eq!(db.versions().await, ["0:1", "1:1", "2:1", "3:1"]);
    assert!(driver.list_progress().await.unwrap().is_empty());
    let migrations = load(&dir.0);
    assert_eq!(states(&mut driver, &migrations).await, ["1 applied", "2 applied", "3 applied"]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_is_refused_when_completed_statements_changed() {
    let db = ChDb::new("refuse").await;
    let dir = failing_copy("ch-refuse");
    let mut driver = db.driver(ChConfig::default()).await;
    run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
    // Statement 1 already ran as it was; changing it (while fixing statement 3) must not be skipped silently.
    edit(&dir, "00002_partial.sql", "amount_typo", "amount");
    edit(&dir, "00002_partial.sql", "amount Int64)", "amount Int64, note String)");
    let error = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
    let RunErrorKind::ResumeMismatch { done, total, next, .. } = &error.kind else { panic!("{error}") };
    assert_eq!((*done, *total, *next), (2, 4, 3));
    let text = error.to_string();
    assert!(text.contains("00002_partial.sql") && text.contains("those statements have changed"), "{text}");
    assert!(!db.has_table("ledger_done").await, "nothing ran");
    assert_eq!(states(&mut driver, &load(&dir.0)).await, ["1 applied", "2 Partial 2/4 up", "3 Pending"]);
    // Fewer statements than ran is refused too.
    std::fs::write(dir.0.join("00002_partial.sql"), "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 1;\n").unwrap();
    let error = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
    assert!(error.to_string().contains("fewer statements"), "{error}");
    // Restoring statement 1 lets it resume.
    let fixed = failing_copy("ch-refuse-fixed");
    edit(&fixed, "00002_partial.sql", "amount_typo", "amount");
    let outcome = run(&mut driver, &load(&fixed.0), Command::Up).await.unwrap();
    assert_eq!(steps(&outcome), ["up 2", "up 3"]);
    assert_eq!(db.column("SELECT count() FROM ledger").await, ["2"]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_syntax_error_points_at_its_line() {
    let db = ChDb::new("syntax").await;
    let dir = TempDir::new("ch-syntax");
    dir.write(
        "00001_bad.sql",
        "-- +goose Up\nCREATE TABLE t (id UInt64)\nENGINE = MergeTree()\nORDER BY id PARTITION BY;\n-- +goose Down\nDROP TABLE t;\n",
    );
    let mut driver = db.driver(ChConfig::default()).await;
    let error = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
    let RunErrorKind::Statement { line, source, .. } = &error.kind else { panic!("{error}") };
    assert_eq!(*line, 4, "{error}");
    assert!(source.to_string().starts_with("ClickHouse error 62"), "{source}");
    assert!(error.to_string().contains("00001_bad.sql:4: up statement 1 failed"), "{error}");
    db.drop_db().await;
}

/// goose's ClickHouse DDL (goose.md section 4), current and pre-v3.8.
const GOOSE_DDL: &str = "CREATE TABLE IF NOT EXISTS goose_db_version (\n  version_id Int64,\n  is_applied UInt8,\n  date Date default now(),\n  tstamp DateTime default now()\n) ENGINE = MergeTree() ORDER BY (date)";
const GOOSE_DDL_OLD: &str = "CREATE TABLE IF NOT EXISTS goose_db_version (\n  version_id Int64,\n  is_applied UInt8,\n  date Date default now(),\n  tstamp DateTime default now()\n) ENGINE = MergeTree(date, (date), 8192)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continues_a_database_goose_migrated() {
    for (label, ddl) in [("current", GOOSE_DDL), ("old", GOOSE_DDL_OLD)] {
        let db = ChDb::new(&format!("fromgoose_{label}")).await;
        // What goose leaves after `up-to 2` of the fixture, plus a pre-2018 rolled-back row for 3 (newest).
        db.exec(ddl).await;
        for sql in [
            "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1)",
            "CREATE TABLE events (id UInt64, kind String, at DateTime DEFAULT now()) ENGINE = MergeTree() ORDER BY id",
            "INSERT INTO goose_db_version (version_id, is_applied) VALUES (1, 1)",
            "INSERT INTO events (id, kind) VALUES (1, 'signup'), (2, 'login')",
            "INSERT INTO events (id, kind) VALUES (3, 'login')",
            "INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, 1)",
            "INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES (3, 1, '2020-01-01 00:00:00')",
            "INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES (3, 0, '2020-01-02 00:00:00')",
        ] {
            db.exec(sql).await;
        }
        let before = db.column("SHOW CREATE TABLE goose_db_version").await;
        let migrations = load(&fixtures().join("clickhouse"));
        let mut driver = db.driver(ChConfig::default()).await;
        // goose's rows read back with the times the server stored (its own time zone's wall clock).
        let rows = migrate_core::VersionStore::list_applied(&mut driver).await.unwrap().unwrap();
        let old_rows: Vec<String> = rows
            .iter()
            .filter(|row| row.version == 3)
            .map(|row| format!("{}:{}", row.is_applied, row.applied_at.unwrap()))
            .collect();
        assert_eq!(old_rows, ["false:2020-01-02 00:00:00", "true:2020-01-01 00:00:00"], "{label}");
        let stored = db.column("SELECT toString(max(tstamp)) FROM goose_db_version").await;
        let newest = rows.iter().filter_map(|row| row.applied_at).max().unwrap();
        assert_eq!([newest.to_string()], stored.as_slice(), "{label}");
        let outcome = run(&mut driver, &migrations, Command::Up).await.unwrap();
        assert_eq!(steps(&outcome), ["up 3", "up 4", "up 5", "up 6"], "{label}");
        assert_eq!(db.versions().await, ["0:1", "1:1", "2:1", "3:1", "3:0", "3:1", "4:1", "5:1", "6:1"], "{label}");
        // Rolling back deletes through a mutation on either engine form.
        let outcome = run(&mut driver, &migrations, Command::DownTo(4)).await.unwrap();
        assert_eq!(steps(&outcome), ["down 6", "down 5"], "{label}");
        assert_eq!(db.versions().await, ["0:1", "1:1", "2:1", "3:1", "3:0", "3:1", "4:1"], "{label}");
        assert_eq!(
            db.column("SHOW CREATE TABLE goose_db_version").await,
            before,
            "{label}: goose's table is never altered"
        );
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_table_is_gooses() {
    let db = ChDb::new("togoose").await;
    let migrations = load(&fixtures().join("clickhouse"));
    let mut driver = db.driver(ChConfig::default()).await;
    run(&mut driver, &migrations, Command::UpTo(4)).await.unwrap();
    let columns = db
        .column(&format!(
            "SELECT concat(name, ' ', type, ' ', default_kind, ' ', default_expression) FROM system.columns WHERE database = '{}' AND table = 'goose_db_version'",
            db.name
        ))
        .await;
    assert_eq!(
        columns,
        [
            "version_id Int64  ",
            "is_applied UInt8  ",
            "date Date DEFAULT CAST(now(), 'Date')",
            "tstamp DateTime DEFAULT now()"
        ]
    );
    let create = db.column("SHOW CREATE TABLE goose_db_version").await;
    assert!(create[0].contains("ENGINE = MergeTree() ORDER BY date"), "{create:?}");
    // goose's own queries see what it expects.
    assert_eq!(db.column("SELECT max(version_id) FROM goose_db_version").await, ["4"]);
    assert_eq!(
        db.column("SELECT concat(toString(version_id), ':', toString(is_applied)) FROM goose_db_version ORDER BY version_id DESC").await,
        ["4:1", "3:1", "2:1", "1:1", "0:1"]
    );
    // goose rolls back 4 (its delete, here without mutations_sync) while the server cannot run it yet, then
    // applies 5 (its insert, which also wakes the server's merges); migrate's read waits for the delete.
    db.exec("SYSTEM STOP MERGES goose_db_version").await;
    db.exec("ALTER TABLE goose_db_version DELETE WHERE version_id = 4").await;
    let pending = "SELECT count() FROM system.mutations WHERE database = currentDatabase() \
                   AND table = 'goose_db_version' AND is_done = 0";
    assert_eq!(db.column(pending).await, ["1"]);
    let started = Instant::now();
    let goose = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        db.exec("SYSTEM START MERGES goose_db_version").await;
        db.exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (5, 1)").await;
    };
    let (rows, ()) = tokio::join!(driver.list_applied(), goose);
    let rows = rows.unwrap().unwrap();
    assert_eq!(rows.iter().map(|r| r.version).collect::<Vec<_>>(), [5, 3, 2, 1, 0], "reads wait for the mutation");
    assert!(started.elapsed() >= Duration::from_millis(700), "the read waited for the delete");
    assert_eq!(db.column(pending).await, ["0"]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_qualified_table_name_keeps_every_table_in_its_database() {
    let db = ChDb::new("qualified").await;
    let dir = TempDir::new("ch-qualified");
    dir.write("00001_a.sql", "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n");
    let mut spec = db.spec.clone();
    spec.database = "default".to_owned();
    let table = TableName::parse(&format!("{}.Versions", db.name)).unwrap();
    let mut driver = ChDriver::connect(&spec, ChConfig { table, ..ChConfig::default() }).await.unwrap();
    let outcome = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap();
    assert_eq!(steps(&outcome), ["up 1"]);
    run(&mut driver, &load(&dir.0), Command::Down).await.unwrap();
    assert_eq!(
        db.column(&format!("SELECT name FROM system.tables WHERE database = '{}' ORDER BY name", db.name)).await,
        ["Versions", "Versions_checksums", "Versions_lock", "Versions_progress"]
    );
    assert_eq!(db.column("SELECT count() FROM Versions").await, ["1"]);
    db.drop_db().await;
}

/// `count` migrations that must run exactly once: each creates a table (a second run fails) and logs.
fn once_only_migrations(label: &str, count: i64) -> TempDir {
    let dir = TempDir::new(label);
    for v in 1..=count {
        dir.write(
            &format!("{v:05}_m{v}.sql"),
            &format!(
                "-- +goose Up\nCREATE TABLE t{v} (id UInt64) ENGINE = Log;\nINSERT INTO applied_log VALUES ({v});\n-- +goose Down\nDROP TABLE t{v};\n"
            ),
        );
    }
    dir
}

#[allow(clippy::print_stderr)] // The timing is worth seeing with --nocapture.
async fn concurrent_runners(label: &str, runners: usize, count: i64) {
    let db = ChDb::new(label).await;
    let dir = once_only_migrations(label, count);
    db.exec("CREATE TABLE applied_log (version Int64) ENGINE = MergeTree() ORDER BY version").await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..runners {
        let spec = db.spec.clone();
        let path = dir.0.clone();
        tasks.push(tokio::spawn(async move {
            let migrations = load(&path);
            let mut driver = ChDriver::connect(&spec, ChConfig::default()).await.unwrap();
            run(&mut driver, &migrations, Command::Up).await.map(|o| o.report.results.len())
        }));
    }
    let mut applied_by_runners = 0;
    for task in tasks {
        applied_by_runners += task.await.unwrap().unwrap_or_else(|e| panic!("a runner failed: {e}"));
    }
    eprintln!("{runners} concurrent runners applied {count} migrations in {:?}", started.elapsed());
    assert_eq!(applied_by_runners, count as usize);
    assert_eq!(db.column("SELECT count() FROM applied_log").await, [count.to_string()]);
    assert_eq!(db.column("SELECT uniqExact(version) FROM applied_log").await, [count.to_string()]);
    assert_eq!(db.column("SELECT count() FROM goose_db_version").await, [(count + 1).to_string()]);
    assert_eq!(db.column("SELECT uniqExact(version_id) FROM goose_db_version").await, [(count + 1).to_string()]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_runners_apply_each_migration_once() {
    concurrent_runners("two_runners", 2, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_runners_apply_each_migration_once() {
    concurrent_runners("eight_runners", 8, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_lock_excludes_under_contention() {
    let db = ChDb::new("exclusion").await;
    // Eight drivers take the lock five times each; an in-process counter sees any overlap.
    let inside = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|_| tokio::spawn(harness::hold_in_turns(db.spec.clone(), ChConfig::default(), 5, inside.clone())))
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    // Every claim ended released: none is live.
    let live = db
        .column("SELECT count() FROM (SELECT token, max(released) AS r FROM goose_db_version_lock GROUP BY token) WHERE r = 0")
        .await;
    assert_eq!(live, ["0"]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_migrations_up_and_reset() {
    let db = ChDb::new("fifty").await;
    let dir = once_only_migrations("ch-fifty", 50);
    db.exec("CREATE TABLE applied_log (version Int64) ENGINE = MergeTree() ORDER BY version").await;
    let migrations = load(&dir.0);
    let mut driver = db.driver(ChConfig::default()).await;
    let started = Instant::now();
    let outcome = run(&mut driver, &migrations, Command::Up).await.unwrap();
    let up = started.elapsed();
    assert_eq!(outcome.report.results.len(), 50);
    let started = Instant::now();
    let outcome = run(&mut driver, &migrations, Command::Reset).await.unwrap();
    let reset = started.elapsed();
    assert_eq!(outcome.report.results.len(), 50);
    eprintln!("ClickHouse {}: 50 migrations up in {up:?}, reset in {reset:?}", driver.server_version());
    assert_eq!(db.versions().await, ["0:1"]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_waits_names_its_holder_and_is_skipped_with_nothing_to_do() {
    let db = ChDb::new("lockwait").await;
    let migrations = load(&fixtures().join("clickhouse"));
    let mut driver = db.driver(ChConfig::default()).await;
    run(&mut driver, &migrations, Command::Up).await.unwrap();
    // Someone else holds the lock (a long migration in another pod).
    let mut holder = db.driver(ChConfig::default()).await;
    holder.acquire().await.unwrap();
    let config = ChConfig { lock_wait: Duration::from_millis(1500), ..ChConfig::default() };
    let mut second = db.driver(config).await;
    let started = Instant::now();
    let outcome = run(&mut second, &migrations, Command::Up).await.unwrap();
    assert!(outcome.report.results.is_empty());
    assert!(started.elapsed() < Duration::from_secs(1), "nothing to do: no waiting");
    // With something to do, it waits, names the holder, and times out.
    let error = run(&mut second, &migrations, Command::Down).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("timed out") && text.contains(holder.owner()) && text.contains("holding"), "{text}");
    assert_eq!(db.versions().await.len(), 7, "nothing was rolled back");
    // Released, the lock is free at once.
    holder.release().await.unwrap();
    let outcome = run(&mut second, &migrations, Command::Down).await.unwrap();
    assert_eq!(steps(&outcome), ["down 6"]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_holders_lease_is_taken_over_after_it_expires() {
    let db = ChDb::new("takeover").await;
    let lease = Duration::from_secs(5);
    let mut crashed = db.driver(ChConfig { lock_lease: lease, ..ChConfig::default() }).await;
    crashed.acquire().await.unwrap();
    // The holder renews while it lives...
    tokio::time::sleep(lease + Duration::from_secs(1)).await;
    let mut waiter = db.driver(ChConfig { lock_wait: Duration::from_millis(500), ..ChConfig::default() }).await;
    let error = waiter.acquire().await.unwrap_err();
    assert!(error.to_string().contains("timed out"), "{error}");
    // ...and once it is gone without releasing (dropped: no more renewals), the lease runs out.
    drop(crashed);
    let started = Instant::now();
    let mut taker = db.driver(ChConfig { lock_wait: Duration::from_secs(30), ..ChConfig::default() }).await;
    taker.acquire().await.unwrap();
    let waited = started.elapsed();
    assert!(waited <= lease + Duration::from_secs(5), "took over after {waited:?}");
    taker.release().await.unwrap();
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_is_renewed_through_long_statements() {
    let db = ChDb::new("renewal").await;
    let dir = TempDir::new("ch-renewal");
    // 7.5 s of statements under a 5 s lease (2.75 s usable): it only completes if renewals work.
    dir.write(
        "00001_slow.sql",
        "-- +goose Up\nSELECT sleep(2.5);\nSELECT sleep(2.5);\nSELECT sleep(2.5);\n-- +goose Down\nSELECT 1;\n",
    );
    let migrations = load(&dir.0);
    let spec = db.spec.clone();
    let slow = tokio::spawn(async move {
        let mut driver =
            ChDriver::connect(&spec, ChConfig { lock_lease: Duration::from_secs(5), ..ChConfig::default() })
                .await
                .unwrap();
        run(&mut driver, &migrations, Command::Up).await.map(|o| steps(&o))
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Meanwhile nobody else gets the lock, although the holder's first claim has long expired.
    let mut waiter = db.driver(ChConfig { lock_wait: Duration::from_secs(5), ..ChConfig::default() }).await;
    let error = waiter.acquire().await.unwrap_err();
    assert!(error.to_string().contains("timed out"), "{error}");
    assert_eq!(slow.await.unwrap().unwrap(), ["up 1"]);
    waiter.acquire().await.unwrap();
    waiter.release().await.unwrap();
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_errors_never_show_the_password() {
    let url = harness::ch_url();
    let mut spec = ChConnSpec::parse(&url).unwrap();
    let with_password = url.replacen("://", "://default:s3cret-xyz@", 1);
    assert!(!url.contains('@'), "MIGRATE_TEST_CH_URL carries its own credentials: {url}");
    let wrong = ChConnSpec::parse(&with_password).unwrap();
    let error = ChDriver::connect(&wrong, ChConfig::default()).await.unwrap_err();
    let text = format!("{error} {error:?} {wrong} {wrong:?}");
    assert_eq!(error.code(), Some(193), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    // Nothing listens on port 1.
    spec.port = 1;
    let error = ChDriver::connect(&spec, ChConfig::default()).await.unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with("connecting to http://default@") && text.contains(":1/"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_directories_that_apply_on_18_16_apply_with_migrate() {
    let root = fixtures().join("../../shared/corpus");
    assert!(root.is_dir(), "the shared corpus is missing at {}", root.display());
    // INDEX.md marks only this ClickHouse directory "applies cleanly" on 18.16.
    for dir in ["VampireAotD__anilibrary-scraper/clickhouse"] {
        let db = ChDb::new("corpus").await;
        let migrations = load(&root.join(dir));
        let mut driver = db.driver(ChConfig::default()).await;
        let outcome = run(&mut driver, &migrations, Command::Up).await.unwrap_or_else(|e| panic!("{dir}: {e}"));
        assert_eq!(outcome.report.results.len(), migrations.len(), "{dir}");
        let again = run(&mut driver, &migrations, Command::Up).await.unwrap();
        assert!(again.report.results.is_empty(), "{dir}: second up is a no-op");
        // Not rolled back: its Down uses DROP VIEW, which 18.16 does not have.
        db.drop_db().await;
    }
}

/// Helpers: a fresh database per test, and commands through the same runner the CLI uses.
pub(crate) mod harness {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use migrate_clickhouse::{ChClient, ChConfig, ChConnSpec, ChDriver};
    use migrate_core::{
        migrate, status, Command, Migration, Outcome, PlanRequest, ProgressStore, RunError, RunOptions, StatusState,
        VersionStore,
    };

    /// The server the tests use (`MIGRATE_TEST_CH_URL`, default the local one).
    pub(crate) fn ch_url() -> String {
        #[allow(clippy::disallowed_methods)] // Tests read their server from the environment.
        std::env::var("MIGRATE_TEST_CH_URL").unwrap_or_else(|_| "http://127.0.0.1:8123/".to_owned())
    }

    fn admin() -> ChClient {
        ChClient::new(&ChConnSpec::parse(&ch_url()).unwrap()).unwrap()
    }

    /// A database created for one test and dropped by `drop_db`.
    pub(crate) struct ChDb {
        pub(crate) name: String,
        pub(crate) spec: ChConnSpec,
        client: ChClient,
    }

    impl ChDb {
        /// Creates `mt_<label>_<pid>_<n>`, dropping a leftover of the same name first.
        pub(crate) async fn new(label: &str) -> ChDb {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let name = format!("mt_{label}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
            let admin = admin();
            for sql in [format!("DROP DATABASE IF EXISTS {name}"), format!("CREATE DATABASE {name}")] {
                admin.execute(&sql).await.unwrap_or_else(|e| {
                    panic!("ClickHouse at {} failed `{sql}` (run scripts/servers.sh up): {e}", ch_url())
                });
            }
            let mut spec = ChConnSpec::parse(&ch_url()).unwrap();
            spec.database = name.clone();
            let client = ChClient::new(&spec).unwrap();
            ChDb { name, spec, client }
        }

        pub(crate) async fn driver(&self, config: ChConfig) -> ChDriver {
            ChDriver::connect(&self.spec, config).await.unwrap()
        }

        pub(crate) async fn exec(&self, sql: &str) {
            self.client.execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }

        /// The first column of every row, as text.
        pub(crate) async fn column(&self, sql: &str) -> Vec<String> {
            let rows =
                self.client.query(&format!("{sql} FORMAT TabSeparated")).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            rows.into_iter().map(|row| row.into_iter().next().unwrap_or_default()).collect()
        }

        /// The version rows as `version:applied`, by version and time.
        pub(crate) async fn versions(&self) -> Vec<String> {
            self.column(
                "SELECT concat(toString(version_id), ':', toString(is_applied)) FROM goose_db_version ORDER BY version_id, tstamp",
            )
            .await
        }

        pub(crate) async fn has_table(&self, table: &str) -> bool {
            let sql =
                format!("SELECT count() FROM system.tables WHERE database = '{}' AND name = '{table}'", self.name);
            self.column(&sql).await == ["1"]
        }

        pub(crate) async fn drop_db(self) {
            admin().execute(&format!("DROP DATABASE IF EXISTS {}", self.name)).await.unwrap();
        }
    }

    /// Plans and runs one command with the lock on, as the CLI does, with the fixture's ENVSUB variables.
    pub(crate) async fn run(
        driver: &mut ChDriver,
        migrations: &[Migration],
        command: Command,
    ) -> Result<Outcome, RunError> {
        let request = PlanRequest { command, allow_missing: false, no_versioning: false };
        migrate(driver, migrations, &request, &RunOptions::default(), &super::fixture_env, &mut |_| {}).await
    }

    /// `status` as `<version> <state>`, with `applied` for any applied time.
    pub(crate) async fn states(driver: &mut ChDriver, migrations: &[Migration]) -> Vec<String> {
        let rows = driver.list_applied().await.unwrap();
        let progress = driver.list_progress().await.unwrap();
        status(migrations, Some(rows.as_deref().unwrap_or_default()), &progress)
            .iter()
            .map(|entry| match entry.state {
                StatusState::Applied(Some(_)) => format!("{} applied", entry.version),
                state => format!("{} {state}", entry.version),
            })
            .collect()
    }

    /// Takes and releases the lock `holds` times on its own connection; `inside` counts the holders
    /// across all the tasks sharing it, so any overlap fails the test.
    pub(crate) async fn hold_in_turns(
        spec: ChConnSpec,
        config: ChConfig,
        holds: usize,
        inside: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) {
        use migrate_core::Lock;
        use std::sync::atomic::Ordering;
        let mut driver = ChDriver::connect(&spec, config).await.unwrap();
        for _ in 0..holds {
            driver.acquire().await.unwrap();
            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders at once");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            inside.fetch_sub(1, Ordering::SeqCst);
            driver.release().await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_with_nothing_to_do_sends_three_requests() {
    let db = ChDb::new("noop_requests").await;
    let migrations = load(&fixtures().join("clickhouse"));
    run(&mut db.driver(ChConfig::default()).await, &migrations, Command::Up).await.unwrap();

    let proxy = RecordingProxy::start(&format!("{}:{}", db.spec.host, db.spec.port)).await;
    let mut spec = db.spec.clone();
    spec.port = proxy.port;
    let mut driver = ChDriver::connect(&spec, ChConfig::default()).await.unwrap();
    let outcome = run(&mut driver, &migrations, Command::Up).await.unwrap();
    assert!(outcome.report.results.is_empty());

    let requests: Vec<String> = proxy.connections().iter().flat_map(|bytes| http_request_bodies(bytes)).collect();
    // The server's version and settings, goose's list with the pending-mutation count, the checksums of
    // the applied files; no lock.
    assert_eq!(requests.len(), 3, "{requests:#?}");
    assert!(requests[0].starts_with("SELECT 'version', version()"), "{requests:#?}");
    assert!(requests[1].starts_with("SELECT version_id, is_applied, tstamp"), "{requests:#?}");
    assert!(requests[2].starts_with("SELECT version_id, u, d, s"), "{requests:#?}");
    db.drop_db().await;
}
