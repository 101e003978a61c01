//! The PostgreSQL driver against the real server: every command over the fixtures, failures that leave no
//! trace, locking under contention and SIGKILL, goose interoperability both ways, and the corpus.

use std::time::Duration;

use chrono::Datelike;
use migrate_core::{status, Command, Direction, RunErrorKind, StatusState, Version};
use migrate_postgres::{PgConfig, TableName};

use crate::recording_proxy::{pg_messages, RecordingProxy};
use crate::support::{fixtures, load, run, run_with, steps, TempDir, TestDb};

fn version(v: i64) -> Version {
    Version::new(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_over_the_basic_fixture() {
    let db = TestDb::new("commands").await;
    let migrations = load(&fixtures().join("basic"));
    let mut driver = db.driver(PgConfig::default()).await;

    let outcome = run(&mut driver, &migrations, Command::UpByOne).await.unwrap();
    assert_eq!(steps(&outcome), ["up 1"]);
    let outcome = run(&mut driver, &migrations, Command::UpTo(3)).await.unwrap();
    assert_eq!(steps(&outcome), ["up 2", "up 3"]);
    assert_eq!(db.column("SELECT count(*)::text FROM users").await, ["2"]);
    let outcome = run(&mut driver, &migrations, Command::Up).await.unwrap();
    assert_eq!(steps(&outcome), ["up 4", "up 5", "up 6"]);
    assert!(outcome.report.results[0].empty, "00004 has no statements");
    assert_eq!(db.versions().await, ["0:true", "1:true", "2:true", "3:true", "4:true", "5:true", "6:true"]);
    // CREATE INDEX CONCURRENTLY ran outside a transaction and the index is valid.
    assert_eq!(
        db.column("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'users_email_idx'::regclass").await,
        ["true"]
    );

    // Nothing pending: no steps, and the current version reported.
    let outcome = run(&mut driver, &migrations, Command::Up).await.unwrap();
    assert!(outcome.report.results.is_empty());
    assert_eq!(outcome.version_before, 6);

    let outcome = run(&mut driver, &migrations, Command::Down).await.unwrap();
    assert_eq!(steps(&outcome), ["down 6"]);
    let outcome = run(&mut driver, &migrations, Command::Redo).await.unwrap();
    assert_eq!(steps(&outcome), ["down 5", "up 5"]);
    let outcome = run(&mut driver, &migrations, Command::DownTo(2)).await.unwrap();
    assert_eq!(steps(&outcome), ["down 5", "down 4", "down 3"]);
    assert_eq!(db.versions().await, ["0:true", "1:true", "2:true"]);

    let rows = migrate_core::VersionStore::list_applied(&mut driver).await.unwrap().unwrap();
    let states: Vec<String> = status(&migrations, Some(&rows), &[])
        .iter()
        .map(|e| format!("{}={}", e.version, matches!(e.state, StatusState::Applied(Some(_)))))
        .collect();
    assert_eq!(states, ["1=true", "2=true", "3=false", "4=false", "5=false", "6=false"]);
    assert_eq!(migrate_core::current_version(&rows), Some(2));

    let outcome = run(&mut driver, &migrations, Command::Reset).await.unwrap();
    assert_eq!(steps(&outcome), ["down 2", "down 1"]);
    assert_eq!(db.versions().await, ["0:true"]);
    assert!(!db.has_table("users").await);
    let error = run(&mut driver, &migrations, Command::Down).await.unwrap_err();
    assert!(error.to_string().contains("database is at version 0"), "{error}");
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_statement_leaves_no_trace_of_its_migration() {
    let db = TestDb::new("failing").await;
    let migrations = load(&fixtures().join("failing"));
    let mut driver = db.driver(PgConfig::default()).await;
    let error = run(&mut driver, &migrations, Command::Up).await.unwrap_err();
    assert_eq!(error.applied.iter().map(|r| r.version.get()).collect::<Vec<_>>(), [1]);
    assert_eq!(error.failed.as_ref().map(|f| f.0.get()), Some(2));
    let RunErrorKind::Statement { file, line, index, source, .. } = &error.kind else { panic!("{error}") };
    assert!(file.ends_with("00002_broken.sql"), "{file}");
    assert_eq!((*index, *line), (2, 6), "the error points at the bad column's line: {error}");
    assert!(source.to_string().starts_with("SQLSTATE 42703"), "{source}");
    assert!(error.to_string().contains("rolled back"), "{error}");
    // Migration 1 stays; nothing of 2 (its table or its row); 3 never ran.
    assert!(db.has_table("accounts").await);
    assert!(!db.has_table("ledger").await);
    assert!(!db.has_table("never_reached").await);
    assert_eq!(db.versions().await, ["0:true", "1:true"]);
    // The lock was released on the error path: another session can take it at once.
    assert_eq!(db.column("SELECT pg_try_advisory_lock(4097083626)::text").await, ["true"]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_file_means_nothing_is_applied() {
    let db = TestDb::new("badfile").await;
    let dir = TempDir::new("badfile");
    dir.write("00001_ok.sql", "-- +goose Up\nCREATE TABLE ok (id int);\n-- +goose Down\nDROP TABLE ok;\n");
    dir.write("00002_bad.sql", "-- +goose Up\nCREATE TABLE bad (id int);\n-- +goose Down\nDROP TABLE bad\n");
    let migrations = load(&dir.0);
    let mut driver = db.driver(PgConfig::default()).await;
    let error = run(&mut driver, &migrations, Command::Up).await.unwrap_err();
    assert!(error.to_string().contains("00002_bad.sql:4"), "{error}");
    assert!(!db.has_table("ok").await);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_migrations_and_no_versioning() {
    let db = TestDb::new("missing").await;
    let dir = TempDir::new("missing");
    let write = |v: i64| {
        dir.write(
            &format!("{v:05}_t{v}.sql"),
            &format!("-- +goose Up\nCREATE TABLE t{v} (id int);\n-- +goose Down\nDROP TABLE t{v};\n"),
        );
    };
    for v in [1, 3] {
        write(v);
    }
    let mut driver = db.driver(PgConfig::default()).await;
    run(&mut driver, &load(&dir.0), Command::Up).await.unwrap();
    write(2);
    write(6);
    let migrations = load(&dir.0);
    let error = run(&mut driver, &migrations, Command::Up).await.unwrap_err();
    assert!(error.to_string().contains("found 1 missing migration(s) before current version 3"), "{error}");
    assert!(!db.has_table("t6").await, "nothing runs when a migration is missing");
    let outcome = run_with(&mut driver, &migrations, Command::Up, true, false).await.unwrap();
    assert_eq!(steps(&outcome), ["up 2", "up 6"]);
    // down follows applied order: 6 was applied last, then 2.
    let outcome = run(&mut driver, &migrations, Command::DownTo(1)).await.unwrap();
    assert_eq!(steps(&outcome), ["down 6", "down 2", "down 3"]);

    run_with(&mut driver, &migrations, Command::Up, true, false).await.unwrap();
    // No-versioning runs files and never touches the version table.
    let before = db.versions().await;
    let outcome = run_with(&mut driver, &migrations, Command::Down, false, true).await.unwrap();
    assert_eq!(steps(&outcome), ["down 6"]);
    let error = run_with(&mut driver, &migrations, Command::Down, false, true).await.unwrap_err();
    assert!(error.to_string().contains("t6"), "t6 is already gone: {error}");
    assert_eq!(db.versions().await, before);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_qualified_table_and_custom_lock_key() {
    let db = TestDb::new("schema").await;
    db.exec("CREATE SCHEMA app").await;
    let config = PgConfig { table: TableName::parse("app.Migrations").unwrap(), lock_key: 42, ..PgConfig::default() };
    let mut driver = db.driver(config).await;
    run(&mut driver, &load(&fixtures().join("basic")), Command::UpTo(2)).await.unwrap();
    assert_eq!(db.column("SELECT count(*)::text FROM app.migrations").await, ["3"]);
    assert!(!db.has_table("goose_db_version").await);
    db.drop_db().await;
}

/// goose's own SQL (goose.md section 4): the current identity shape and the older serial shape.
const GOOSE_DDL_IDENTITY: &str = "CREATE TABLE goose_db_version (\n  id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,\n  version_id bigint NOT NULL,\n  is_applied boolean NOT NULL,\n  tstamp timestamp NOT NULL DEFAULT now()\n)";
const GOOSE_DDL_SERIAL: &str = "CREATE TABLE goose_db_version (\n  id serial NOT NULL,\n  version_id bigint NOT NULL,\n  is_applied boolean NOT NULL,\n  tstamp timestamp NULL default now(),\n  PRIMARY KEY(id)\n)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continues_a_database_goose_migrated() {
    for (label, ddl) in [("identity", GOOSE_DDL_IDENTITY), ("serial", GOOSE_DDL_SERIAL)] {
        let db = TestDb::new(&format!("fromgoose_{label}")).await;
        // What goose leaves after `up-to 2` of the basic fixture, including an old rolled-back row for 3.
        let setup = format!(
            "{ddl}; INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true); \
             CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL); \
             INSERT INTO goose_db_version (version_id, is_applied) VALUES (1, true); \
             INSERT INTO users (email) VALUES ('ada@example.com'), ('grace@example.com'); \
             INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, true); \
             INSERT INTO goose_db_version (version_id, is_applied) VALUES (3, true); \
             INSERT INTO goose_db_version (version_id, is_applied) VALUES (3, false)"
        );
        db.exec(&setup).await;
        let migrations = load(&fixtures().join("basic"));
        let mut driver = db.driver(PgConfig::default()).await;
        let outcome = run(&mut driver, &migrations, Command::Up).await.unwrap();
        assert_eq!(steps(&outcome), ["up 3", "up 4", "up 5", "up 6"], "{label}");
        assert_eq!(
            db.versions().await,
            ["0:true", "1:true", "2:true", "3:true", "3:false", "3:true", "4:true", "5:true", "6:true"],
            "{label}"
        );
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goose_can_continue_a_database_migrate_migrated() {
    let db = TestDb::new("togoose").await;
    let migrations = load(&fixtures().join("basic"));
    let mut driver = db.driver(PgConfig::default()).await;
    run(&mut driver, &migrations, Command::UpTo(4)).await.unwrap();
    // The table migrate created is exactly the one goose creates.
    let columns = db
        .column(
            "SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '-') || ' ' || is_identity \
             FROM information_schema.columns WHERE table_name = 'goose_db_version' ORDER BY ordinal_position",
        )
        .await;
    assert_eq!(
        columns,
        [
            "id integer NO - YES",
            "version_id bigint NO - NO",
            "is_applied boolean NO - NO",
            "tstamp timestamp without time zone NO now() NO"
        ]
    );
    assert_eq!(
        // PostgreSQL 18 lists NOT NULL constraints in pg_constraint too (contype 'n'): compare the others.
        db.column(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'goose_db_version'::regclass AND contype <> 'n'"
        )
            .await,
        ["PRIMARY KEY (id)"]
    );
    // goose's own queries, as its legacy engine sends them, see what it expects.
    assert_eq!(db.column("SELECT max(version_id)::text FROM goose_db_version").await, ["4"]);
    assert_eq!(
        db.column("SELECT version_id || ':' || is_applied from goose_db_version ORDER BY id DESC").await,
        ["4:true", "3:true", "2:true", "1:true", "0:true"]
    );
    // goose applies 5 (its insert) and rolls back 4 (its delete); migrate reads the result.
    db.exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (5, true); DELETE FROM goose_db_version WHERE version_id=5").await;
    let outcome = run(&mut driver, &migrations, Command::Up).await.unwrap();
    assert_eq!(steps(&outcome), ["up 5", "up 6"]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_runners_apply_each_migration_once() {
    let db = TestDb::new("concurrent").await;
    let dir = TempDir::new("concurrent");
    for v in 1..=50 {
        // Not idempotent on purpose: a second application would fail or add a row.
        dir.write(
            &format!("{v:05}_m{v}.sql"),
            &format!("-- +goose Up\nCREATE TABLE t{v} (id int);\nINSERT INTO applied_log VALUES ({v});\n-- +goose Down\nDROP TABLE t{v};\n"),
        );
    }
    db.exec("CREATE TABLE applied_log (version int)").await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let options = db.options.clone();
        let path = dir.0.clone();
        tasks.push(tokio::spawn(async move {
            let migrations = load(&path);
            let mut driver =
                migrate_postgres::PgDriver::connect(&options, None, "test", PgConfig::default()).await.unwrap();
            run(&mut driver, &migrations, Command::Up).await.map(|o| o.report.results.len())
        }));
    }
    let mut applied_by_runners = 0;
    for task in tasks {
        applied_by_runners += task.await.unwrap().unwrap();
    }
    assert_eq!(applied_by_runners, 50);
    assert_eq!(db.column("SELECT count(*)::text FROM applied_log").await, ["50"]);
    assert_eq!(db.column("SELECT count(DISTINCT version)::text FROM applied_log").await, ["50"]);
    assert_eq!(db.column("SELECT count(*)::text FROM goose_db_version").await, ["51"]);
    assert_eq!(db.column("SELECT count(DISTINCT version_id)::text FROM goose_db_version").await, ["51"]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_with_nothing_to_do_never_waits_for_the_lock() {
    let db = TestDb::new("nowait").await;
    let migrations = load(&fixtures().join("basic"));
    let mut driver = db.driver(PgConfig::default()).await;
    run(&mut driver, &migrations, Command::Up).await.unwrap();
    // Someone else holds the lock (a long migration in another pod).
    let mut holder = db.connect().await;
    sqlx::query("SELECT pg_advisory_lock(4097083626)").execute(&mut holder).await.unwrap();
    let config = PgConfig { lock_wait: Duration::from_millis(300), ..PgConfig::default() };
    let mut second = db.driver(config).await;
    let outcome = run(&mut second, &migrations, Command::Up).await.unwrap();
    assert!(outcome.report.results.is_empty());
    // With something to do, it waits, reports who holds the lock, and times out.
    let error = run(&mut second, &migrations, Command::Down).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("timed out") && text.contains("held by pid"), "{text}");
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_directories_that_apply_cleanly_apply_with_migrate() {
    let root = fixtures().join("../../shared/corpus");
    if !root.is_dir() {
        eprintln!("corpus: {} not present", root.display());
        return;
    }
    // INDEX.md marks these "applies cleanly" on PostgreSQL.
    let clean = [
        "getpolygon__polygon/migrations",
        "Permify__permify/migrations",
        "openfga__openfga/postgres",
        "codexxx-code__go-servers/exchange__pgsql",
        "codexxx-code__go-servers/generator__pgsql",
        "chistyakoviv__logbot/migrations",
        "bhatti__formicary/migrations",
        "cloudflare__cfssl/pg__migrations",
        "Verce11o__Hezzl-Go/postgres",
    ];
    for dir in clean {
        let db = TestDb::new("corpus").await;
        let migrations = load(&root.join(dir));
        let mut driver = db.driver(PgConfig::default()).await;
        let outcome = run(&mut driver, &migrations, Command::Up).await.unwrap_or_else(|e| panic!("{dir}: {e}"));
        assert_eq!(outcome.report.results.len(), migrations.len(), "{dir}");
        let again = run(&mut driver, &migrations, Command::Up).await.unwrap();
        assert!(again.report.results.is_empty(), "{dir}: second up is a no-op");
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_version_directly() {
    let db = TestDb::new("apply").await;
    let migrations = load(&fixtures().join("basic"));
    let mut driver = db.driver(PgConfig::default()).await;
    run(&mut driver, &migrations, Command::Apply { version: version(1), direction: Direction::Up }).await.unwrap();
    let error = run(&mut driver, &migrations, Command::Apply { version: version(1), direction: Direction::Up })
        .await
        .unwrap_err();
    assert!(error.to_string().contains("already applied"), "{error}");
    db.drop_db().await;
}

/// The entry point of the runner processes other tests start; without `MIGRATE_E2E_CHILD` it does nothing.
/// `MIGRATE_E2E_CHILD=<database>|<migrations dir>`: run `up` there with the lock and exit 0 or 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_process_entry() {
    #[allow(clippy::disallowed_methods)] // The parent passes the job through the environment.
    let Ok(job) = std::env::var("MIGRATE_E2E_CHILD") else {
        return;
    };
    let (database, dir) = job.split_once('|').unwrap();
    let options = crate::support::admin_options().database(database);
    let config = PgConfig { lock_wait: Duration::from_secs(120), ..PgConfig::default() };
    let mut driver = migrate_postgres::PgDriver::connect(&options, None, database, config).await.unwrap();
    let code = match run(&mut driver, &load(std::path::Path::new(dir)), Command::Up).await {
        Ok(outcome) => {
            println!("child applied {}", outcome.report.results.len());
            0
        }
        Err(error) => {
            println!("child failed: {error}");
            1
        }
    };
    std::process::exit(code);
}

fn spawn_child(db: &TestDb, dir: &std::path::Path) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "postgres::child_process_entry", "--nocapture", "--test-threads=1"])
        .env("MIGRATE_E2E_CHILD", format!("{}|{}", db.name, dir.display()))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runners_in_separate_processes_apply_each_migration_once() {
    let db = TestDb::new("processes").await;
    let dir = TempDir::new("processes");
    for v in 1..=50 {
        dir.write(
            &format!("{v:05}_m{v}.sql"),
            &format!("-- +goose Up\nCREATE TABLE t{v} (id int);\nINSERT INTO applied_log VALUES ({v});\n-- +goose Down\nDROP TABLE t{v};\n"),
        );
    }
    db.exec("CREATE TABLE applied_log (version int)").await;
    let children: Vec<_> = (0..4).map(|_| spawn_child(&db, &dir.0)).collect();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let options = db.options.clone();
        let path = dir.0.clone();
        tasks.push(tokio::spawn(async move {
            let mut driver =
                migrate_postgres::PgDriver::connect(&options, None, "t", PgConfig::default()).await.unwrap();
            run(&mut driver, &load(&path), Command::Up).await.map(|o| o.report.results.len())
        }));
    }
    let mut applied = 0;
    for task in tasks {
        applied += task.await.unwrap().unwrap();
    }
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "child runner failed: {stdout}");
        let count = stdout
            .split("child applied ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{stdout}"));
        applied += count.parse::<usize>().unwrap();
    }
    assert_eq!(applied, 50);
    assert_eq!(db.column("SELECT count(*) || '/' || count(DISTINCT version) FROM applied_log").await, ["50/50"]);
    assert_eq!(
        db.column("SELECT count(*) || '/' || count(DISTINCT version_id) FROM goose_db_version").await,
        ["51/51"]
    );
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_killed_mid_transaction_leaves_all_or_nothing() {
    let db = TestDb::new("sigkill").await;
    let dir = TempDir::new("sigkill");
    dir.write("00001_a.sql", "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n");
    dir.write(
        "00002_slow.sql",
        "-- +goose Up\nCREATE TABLE slow (id int);\nINSERT INTO slow VALUES (1);\nSELECT pg_sleep(30);\nINSERT INTO slow VALUES (2);\n-- +goose Down\nDROP TABLE slow;\n",
    );
    let mut child = spawn_child(&db, &dir.0);
    // Wait until the child is inside migration 2's transaction.
    let query = format!(
        "SELECT count(*)::text FROM pg_stat_activity WHERE datname = '{}' AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()",
        db.name
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while db.column(&query).await != ["1"] {
        assert!(std::time::Instant::now() < deadline, "the child never reached the slow statement");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Nothing of migration 2 is visible: its transaction never committed.
    assert!(!db.has_table("slow").await);
    assert_eq!(db.versions().await, ["0:true", "1:true"]);
    // The next run gets the lock once the server notices the dead client (about a second, thanks to
    // client_connection_check_interval, not the 30 s of the statement) and completes.
    let started = std::time::Instant::now();
    let config = PgConfig { lock_wait: Duration::from_secs(20), ..PgConfig::default() };
    let mut driver = db.driver(config).await;
    dir.write("00002_slow.sql", "-- +goose Up\nCREATE TABLE slow (id int);\nINSERT INTO slow VALUES (1), (2);\n-- +goose Down\nDROP TABLE slow;\n");
    let fixed = load(&dir.0);
    let outcome = run(&mut driver, &fixed, Command::Up).await.unwrap();
    assert_eq!(steps(&outcome), ["up 2"]);
    assert!(started.elapsed() < Duration::from_secs(15), "waited {:?} for the dead runner's lock", started.elapsed());
    assert_eq!(db.column("SELECT count(*)::text FROM slow").await, ["2"]);
    assert_eq!(db.versions().await, ["0:true", "1:true", "2:true"]);
    let locks = format!(
        "SELECT count(*)::text FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
         WHERE l.locktype = 'advisory' AND d.datname = '{}' AND l.pid <> pg_backend_pid()",
        db.name
    );
    assert_eq!(db.column(&locks).await, ["0"], "released while the runner's session is still open");
    driver.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_timeouts_and_application_name() {
    let db = TestDb::new("timeouts").await;
    let dir = TempDir::new("timeouts");
    dir.write(
        "00001_slow.sql",
        "-- +goose Up\nCREATE TABLE s (id int);\nSELECT pg_sleep(5);\n-- +goose Down\nDROP TABLE s;\n",
    );
    let config = PgConfig { statement_timeout: Some(Duration::from_millis(200)), ..PgConfig::default() };
    let spec = migrate_postgres::PgConnSpec::parse(&crate::support::pg_admin_url(), &|_| None).unwrap();
    let mut spec_options = spec.to_connect_options().database(&db.name);
    spec_options = spec_options.application_name("migrate");
    let mut driver = migrate_postgres::PgDriver::connect(&spec_options, None, "t", config).await.unwrap();
    let started = std::time::Instant::now();
    let error = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
    assert!(error.to_string().contains("SQLSTATE 57014"), "statement_timeout cancels: {error}");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(!db.has_table("s").await, "rolled back");
    let names = db
        .column(&format!(
            "SELECT application_name FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
            db.name
        ))
        .await;
    assert_eq!(names, ["migrate"]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_with_libpq_key_value_dsns_sockets_and_pg_environment() {
    let db = TestDb::new("dsns").await;
    let migrations = load(&fixtures().join("basic"));
    let env = |name: &str| match name {
        "PGHOST" => Some("127.0.0.1".to_owned()),
        "PGUSER" => Some("postgres".to_owned()),
        _ => None,
    };
    // The server under test (MIGRATE_TEST_PG_URL: 15 from Debian, or 16-18 on their own ports and sockets).
    let port = crate::support::admin_options().get_port();
    #[allow(clippy::disallowed_methods)] // Tests read their server from the environment.
    let socket_dir = std::env::var("MIGRATE_TEST_PG_SOCKET_DIR").unwrap_or_else(|_| "/var/run/postgresql".to_owned());
    let env = |name: &str| match name {
        "PGPORT" => Some(port.to_string()),
        other => env(other),
    };
    let dsns = [
        format!("host=127.0.0.1 port={port} user=postgres dbname={} sslmode=disable", db.name),
        format!("postgres:///{}?host={socket_dir}&port={port}&user=postgres", db.name),
        format!("postgresql://postgres@127.0.0.1:{port}/{}?options=-c%20search_path%3Dpublic", db.name),
        format!("dbname={} sslmode=disable", db.name), // host, port and user from the PG* variables
    ];
    for (index, dsn) in dsns.iter().enumerate() {
        let spec = migrate_postgres::PgConnSpec::parse(dsn, &env).unwrap_or_else(|e| panic!("{dsn}: {e}"));
        let mut driver = migrate_postgres::PgDriver::connect_spec(&spec, PgConfig::default())
            .await
            .unwrap_or_else(|e| panic!("{dsn}: {e}"));
        let target = i64::try_from(index).unwrap() + 1;
        run(&mut driver, &migrations, Command::UpTo(target)).await.unwrap_or_else(|e| panic!("{dsn}: {e}"));
    }
    assert_eq!(db.column("SELECT max(version_id)::text FROM goose_db_version").await, ["4"]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_without_a_position_still_name_their_statement() {
    let db = TestDb::new("noposition").await;
    let dir = TempDir::new("noposition");
    // A unique violation carries no error position: the driver finds the statement by counting the
    // commands the server completed before it.
    dir.write(
        "00001_dupes.sql",
        "-- +goose Up\nCREATE TABLE u (id int PRIMARY KEY);\nINSERT INTO u VALUES (1);\n\nINSERT INTO u VALUES (2);\nINSERT INTO u\n  VALUES (1);\nINSERT INTO u VALUES (3);\n-- +goose Down\nDROP TABLE u;\n",
    );
    let mut driver = db.driver(PgConfig::default()).await;
    let error = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
    let RunErrorKind::Statement { index, line, source, .. } = &error.kind else { panic!("{error}") };
    assert_eq!((*index, *line), (4, 6), "{error}");
    assert!(source.to_string().starts_with("SQLSTATE 23505"), "{source}");
    assert!(!db.has_table("u").await);
    assert_eq!(db.versions().await, ["0:true"]);
    db.drop_db().await;
}

/// Finding the failing statement never runs anything twice: a sequence (which no rollback resets) moves
/// once, and a block holding several commands or none still maps the failure to the right statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_statement_runs_once() {
    let db = TestDb::new("runs_once").await;
    let dir = TempDir::new("runs_once");
    dir.write("00001_seq.sql", "-- +goose Up\nCREATE SEQUENCE s;\nCREATE TABLE u (id int PRIMARY KEY);\n");
    dir.write(
        "00002_dupes.sql",
        "-- +goose Up\nSELECT nextval('s');\n-- +goose StatementBegin\nINSERT INTO u VALUES (1); SELECT nextval('s');\n\
         -- +goose StatementEnd\nINSERT INTO u VALUES (length($$;$$) + 1); -- two\nINSERT INTO u\n  VALUES (1);\n\
         SELECT nextval('s');\n",
    );
    let mut driver = db.driver(PgConfig::default()).await;
    let error = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
    let RunErrorKind::Statement { index, line, source, .. } = &error.kind else { panic!("{error}") };
    assert!(source.to_string().starts_with("SQLSTATE 23505"), "{source}");
    assert_eq!((*index, *line), (4, 7), "{error}");
    assert_eq!(db.column("SELECT last_value::text FROM s").await, ["2"], "each nextval ran once");
    assert_eq!(db.column("SELECT count(*)::text FROM u").await, ["0"]);
    db.drop_db().await;
}

/// A failed CREATE INDEX CONCURRENTLY leaves an INVALID index; the rerun with IF NOT EXISTS must not record
/// the migration as applied over it, and both failures say how to fix it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_concurrent_index_is_never_recorded_as_applied() {
    let db = TestDb::new("invalid_index").await;
    let dir = TempDir::new("invalid_index");
    dir.write("00001_t.sql", "-- +goose Up\nCREATE TABLE t (a int);\nINSERT INTO t VALUES (1), (1);\n");
    dir.write(
        "00002_idx.sql",
        "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\n",
    );
    let mut driver = db.driver(PgConfig::default()).await;
    let error = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("00002_idx.sql:3") && text.contains("SQLSTATE 23505"), "{text}");
    assert!(text.contains("it left the INVALID index t_a: drop it with DROP INDEX CONCURRENTLY t_a;"), "{text}");
    // The rerun: IF NOT EXISTS skips the INVALID index, and that is refused, not recorded.
    let mut driver = db.driver(PgConfig::default()).await;
    let error = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
    let RunErrorKind::Statement { line, source, .. } = &error.kind else { panic!("{error}") };
    assert_eq!(*line, 3, "{error}");
    assert!(source.to_string().starts_with("index t_a is INVALID"), "{source}");
    assert_eq!(db.versions().await, ["0:true", "1:true"]);
    // Fixed as the message says: it applies, with a valid index.
    db.exec("DROP INDEX CONCURRENTLY t_a").await;
    db.exec("DELETE FROM t WHERE ctid = (SELECT max(ctid) FROM t)").await;
    run(&mut driver, &load(&dir.0), Command::Up).await.unwrap();
    assert_eq!(db.column("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 't_a'::regclass").await, ["true"]);
    assert_eq!(db.versions().await, ["0:true", "1:true", "2:true"]);
    db.drop_db().await;
}

/// The connection dropped while a statement runs: the error names that statement and says the connection
/// was lost, in a transaction and outside one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_names_the_running_statement() {
    let db = TestDb::new("lost_connection").await;
    for (label, header) in [("transaction", ""), ("no transaction", "-- +goose NO TRANSACTION\n")] {
        let dir = TempDir::new("lost_connection");
        dir.write(
            "00001_slow.sql",
            &format!("{header}-- +goose Up\nCREATE TABLE IF NOT EXISTS x (id int);\nSELECT pg_sleep(30);\n"),
        );
        let killer = {
            let db_name = db.name.clone();
            let admin = db.connect().await;
            tokio::spawn(async move {
                let mut admin = admin;
                for _ in 0..200 {
                    let killed: Vec<(bool,)> = sqlx::query_as(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = $1 AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()",
                    )
                    .bind(&db_name)
                    .fetch_all(&mut admin)
                    .await
                    .unwrap();
                    if !killed.is_empty() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                panic!("the migration never started");
            })
        };
        let mut driver = db.driver(PgConfig::default()).await;
        let error = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
        killer.await.unwrap();
        let RunErrorKind::Statement { index, line, source, .. } = &error.kind else { panic!("{label}: {error}") };
        let expected_line = 3 + header.lines().count();
        assert_eq!((*index, *line), (2, expected_line), "{label}: {error}");
        assert!(source.to_string().contains("terminating connection"), "{label}: {source}");
    }
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_migration_spans_several_batches() {
    let db = TestDb::new("large").await;
    let dir = TempDir::new("large");
    let mut text = String::from("-- +goose Up\nCREATE TABLE big (id int PRIMARY KEY, pad text);\n");
    for i in 0..6000 {
        // About 6 MB in all: two batches.
        text.push_str(&format!("INSERT INTO big VALUES ({i}, '{}');\n", "p".repeat(1000)));
    }
    text.push_str("INSERT INTO big VALUES (5999, 'duplicate in the last batch');\n-- +goose Down\nDROP TABLE big;\n");
    dir.write("00001_big.sql", &text);
    let mut driver = db.driver(PgConfig::default()).await;
    let error = run(&mut driver, &load(&dir.0), Command::Up).await.unwrap_err();
    let RunErrorKind::Statement { index, line, .. } = &error.kind else { panic!("{error}") };
    assert_eq!((*index, *line), (6002, 6003), "{error}");
    assert!(!db.has_table("big").await, "nothing of the earlier batches stays");
    // Without the duplicate it applies, across batches, in one transaction.
    dir.write("00001_big.sql", &text.replace("INSERT INTO big VALUES (5999, 'duplicate in the last batch');\n", ""));
    run(&mut driver, &load(&dir.0), Command::Up).await.unwrap();
    assert_eq!(db.column("SELECT count(*)::text FROM big").await, ["6000"]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applied_times_read_back_exactly_as_the_server_stored_them() {
    for (label, column) in [("timestamp", "timestamp"), ("timestamptz", "timestamptz")] {
        let db = TestDb::new(&format!("tstamp_{label}")).await;
        // Fractions of every length, whole seconds, a year past 9999 and a BC date.
        db.exec(&format!(
            "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, \
             is_applied boolean NOT NULL, tstamp {column} NOT NULL DEFAULT now()); \
             INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES \
             (0, true, '2024-02-29 23:59:59'), (1, true, '2024-03-01 00:00:00.5'), \
             (2, true, '2024-03-01 00:00:00.000001'), (3, false, '1999-12-31 12:34:56.123456'), \
             (4, true, '12024-01-02 03:04:05.25'), (6, true, '0044-03-15 12:00:00 BC'); \
             INSERT INTO goose_db_version (version_id, is_applied) VALUES (5, true)"
        ))
        .await;
        let mut driver = db.driver(PgConfig::default()).await;
        let rows = migrate_core::VersionStore::list_applied(&mut driver).await.unwrap().unwrap();
        let read: Vec<String> = rows
            .iter()
            .map(|row| {
                let at = row.applied_at.unwrap();
                let at = match at.year() {
                    year if year <= 0 => format!("{:04}{} BC", 1 - year, at.format("-%m-%d %H:%M:%S%.6f")),
                    year => format!("{year:04}{} AD", at.format("-%m-%d %H:%M:%S%.6f")),
                };
                format!("{}:{}:{at}", row.version, row.is_applied)
            })
            .collect();
        let stored = db
            .column(
                "SELECT version_id || ':' || is_applied || ':' || \
                 to_char(tstamp::timestamp, 'YYYY-MM-DD HH24:MI:SS.US BC') FROM goose_db_version ORDER BY id DESC",
            )
            .await;
        assert_eq!(read, stored, "{label}");
        assert_eq!(read[1], "6:true:0044-03-15 12:00:00.000000 BC", "{label}");
        assert_eq!(read[2], "4:true:12024-01-02 03:04:05.250000 AD", "{label}");
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_with_nothing_to_do_sends_one_query_on_one_connection() {
    let db = TestDb::new("noop_requests").await;
    let migrations = load(&fixtures().join("basic"));
    run(&mut db.driver(PgConfig::default()).await, &migrations, Command::Up).await.unwrap();

    let host = db.options.get_host().to_owned();
    let proxy = RecordingProxy::start(&format!("{host}:{}", db.options.get_port())).await;
    let options = db.options.clone().port(proxy.port);
    let mut driver = migrate_postgres::PgDriver::connect(&options, None, &db.name, PgConfig::default()).await.unwrap();
    let outcome = run(&mut driver, &migrations, Command::Up).await.unwrap();
    assert!(outcome.report.results.is_empty());

    let connections = proxy.connections();
    assert_eq!(connections.len(), 1, "one connection");
    let requests: Vec<String> = pg_messages(&connections[0])
        .into_iter()
        .filter(|(kind, _)| matches!(kind, 'Q' | 'P' | 'E'))
        .map(|(kind, body)| format!("{kind} {}", String::from_utf8_lossy(body).trim_end_matches('\0')))
        .collect();
    // goose's list and the checksums (each applied file is checked) in one multi-statement simple query; no
    // lock taken, nothing else asked.
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert!(requests[0].starts_with("Q SELECT version_id"), "{requests:#?}");
    assert!(requests[0].contains(";\nSELECT version_id, up_checksum"), "{requests:#?}");
    db.drop_db().await;
}
