//! The `migrate` library against the real server: `migrate::up` from a URL, a pool and a connection,
//! embedded sources, the Migrator's commands and options, failures, code migrations, the test helpers
//! and the round-trip check.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use migrate::postgres::{pg_url_from_parts, PgConnSpec, PgHost};
use migrate::testing::{check_round_trip, RoundTripError, TestDatabase};
use migrate::{
    CodeMigration, Direction, DirectorySource, EmbeddedSource, Error, Migrator, Report, RunErrorKind, StatusState,
    Version,
};
use sqlx::postgres::{PgConnection, PgPoolOptions};
use sqlx::Connection;

use crate::support::{fixtures, pg_admin_url};

/// The same folder as `fixtures/basic`, compiled in (paths are relative to tests/Cargo.toml).
static BASIC: EmbeddedSource = migrate::embed!("../fixtures/basic");

fn basic() -> DirectorySource {
    DirectorySource::new(fixtures().join("basic"))
}

fn versions(report: &Report) -> Vec<String> {
    report.results.iter().map(|r| format!("{} {}", r.direction, r.version)).collect()
}

/// A URL for a test database (the test server trusts local connections, so there is no password in it).
fn url_of(db: &TestDatabase) -> String {
    let spec = PgConnSpec::parse(&pg_admin_url(), &|_| None).unwrap();
    let PgHost::Tcp { host, port } = &spec.host else { panic!("the test server is reached over TCP") };
    pg_url_from_parts(host, Some(*port), &spec.user, spec.password(), db.name(), &[("sslmode", "disable")])
}

async fn fresh() -> TestDatabase {
    TestDatabase::create_empty(&pg_admin_url())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {} (run scripts/servers.sh up): {e}", pg_admin_url()))
}

async fn column(db: &mut TestDatabase, sql: &str) -> Vec<String> {
    let rows: Vec<(Option<String>,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_all(db.connection())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter().map(|(v,)| v.unwrap_or_else(|| "NULL".to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_from_a_url_a_pool_and_a_connection() {
    let mut db = fresh().await;
    let url = url_of(&db);

    let report = migrate::up(&url, basic()).await.unwrap();
    assert_eq!(versions(&report), ["up 1", "up 2", "up 3", "up 4", "up 5", "up 6"]);
    assert_eq!(report.version_before, 0);
    assert!(report.results[3].empty, "00004 has no statements");
    assert_eq!(report.results[0].name, "00001_create_users.sql");
    let report = migrate::up(&url, basic()).await.unwrap();
    assert!(report.results.is_empty());
    assert_eq!(report.version_before, 6);

    // A pool: one connection is taken for the command, and the pool keeps working.
    let pool = PgPoolOptions::new().max_connections(2).connect_with(db.connect_options().clone()).await.unwrap();
    let migrator = Migrator::new(basic());
    assert_eq!(versions(&migrator.down_to(&pool, 3).await.unwrap()), ["down 6", "down 5", "down 4"]);
    assert!(migrator.has_pending(&pool).await.unwrap());
    assert_eq!(versions(&migrate::up(&pool, basic()).await.unwrap()), ["up 4", "up 5", "up 6"]);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 2);
    pool.close().await;

    // A connection of the caller's, and connect options.
    let connection = PgConnection::connect_with(db.connect_options()).await.unwrap();
    assert_eq!(migrator.db_version(connection).await.unwrap(), 6);
    assert!(!migrator.has_pending(db.connect_options().clone()).await.unwrap());
    assert_eq!(column(&mut db, "SELECT count(*)::text FROM goose_db_version").await, ["7"]);
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_folder_is_the_directory() {
    let embedded = migrate::resolve(&BASIC, &[]).unwrap();
    let directory = migrate::resolve(&basic(), &[]).unwrap();
    let texts = |migrations: &[migrate::Migration]| -> Vec<(String, String)> {
        migrations
            .iter()
            .map(|m| match m.kind() {
                migrate::MigrationKind::Sql { text } => (m.name().to_owned(), text.get().unwrap().to_owned()),
                migrate::MigrationKind::Code(_) => panic!("no code migrations here"),
            })
            .collect()
    };
    assert_eq!(texts(&embedded), texts(&directory));
    assert_eq!(embedded[0].path(), "../fixtures/basic/00001_create_users.sql");

    let db = fresh().await;
    let report = migrate::up(db.connect_options().clone(), BASIC).await.unwrap();
    assert_eq!(report.results.len(), 6);
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_and_option_of_the_migrator() {
    let mut db = fresh().await;
    let options = db.connect_options().clone();
    let target = || options.clone();
    let migrator = Migrator::new(BASIC)
        .with_table("lib.versions")
        .with_lock_key(77)
        .with_lock_timeout(Duration::from_secs(10))
        .with_excluded_versions([5]);
    sqlx::raw_sql("CREATE SCHEMA lib").execute(db.connection()).await.unwrap();

    assert_eq!(versions(&migrator.up_by_one(target()).await.unwrap()), ["up 1"]);
    assert_eq!(versions(&migrator.up_to(target(), 3).await.unwrap()), ["up 2", "up 3"]);
    let version = Version::new(6).unwrap();
    assert_eq!(versions(&migrator.apply_version(target(), version, Direction::Up).await.unwrap()), ["up 6"]);
    // 5 is excluded: as if its file did not exist, so 4 is missing (older than 6) and refused by default.
    let error = migrator.up(target()).await.unwrap_err();
    assert!(error.to_string().contains("missing migration"), "{error}");
    assert!(migrator.has_pending(target()).await.is_err());
    let out_of_order = migrator.clone().with_allow_out_of_order(true);
    assert!(out_of_order.has_pending(target()).await.unwrap());
    assert_eq!(versions(&out_of_order.up(target()).await.unwrap()), ["up 4"]);

    let status: Vec<String> = migrator
        .status(target())
        .await
        .unwrap()
        .iter()
        .map(|s| format!("{}:{}", s.version, matches!(s.state, StatusState::Applied(Some(_)))))
        .collect();
    assert_eq!(status, ["1:true", "2:true", "3:true", "4:true", "6:true"]);
    // goose's current version is the most recently applied one.
    assert_eq!(migrator.db_version(target()).await.unwrap(), 4);
    assert_eq!(versions(&migrator.down(target()).await.unwrap()), ["down 4"]);
    assert_eq!(versions(&migrator.down_to(target(), 0).await.unwrap()), ["down 6", "down 3", "down 2", "down 1"]);
    // The table is the one asked for; goose's default was never created.
    assert_eq!(column(&mut db, "SELECT count(*)::text FROM lib.versions").await, ["1"]);
    assert_eq!(column(&mut db, "SELECT to_regclass('goose_db_version')::text").await, ["NULL"]);

    // No versioning: every migration runs every time, and nothing records it.
    let unversioned = Migrator::new(DirectorySource::new(fixtures().join("round_trip_good")))
        .with_no_versioning(true)
        .with_lock(false);
    assert_eq!(unversioned.up(target()).await.unwrap().results.len(), 4);
    assert!(unversioned.has_pending(target()).await.unwrap());
    assert!(matches!(unversioned.db_version(target()).await, Err(Error::NoVersioning)));

    let bad_table = Migrator::new(BASIC).with_table("no; such table").up(target()).await.unwrap_err();
    assert!(matches!(bad_table, Error::TableName(_)), "{bad_table}");
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_tells_what_was_applied_and_which_migration_failed() {
    let db = fresh().await;
    let error =
        migrate::up(db.connect_options().clone(), DirectorySource::new(fixtures().join("failing"))).await.unwrap_err();
    assert_eq!(error.applied().iter().map(|r| r.version.get()).collect::<Vec<_>>(), [1]);
    let failed = error.failed_migration().unwrap();
    assert_eq!((failed.version.get(), failed.name, failed.direction), (2, "00002_broken.sql", Direction::Up));
    let message = error.to_string();
    assert!(message.contains("00002_broken.sql:6:"), "the message names the file and line: {message}");
    let run = error.run_error().unwrap();
    assert!(matches!(run.kind, RunErrorKind::Statement { index: 2, .. }), "{run}");
    assert!(std::error::Error::source(&error).is_some(), "the database's error is the cause");
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_are_checked_and_passwords_stay_out_of_errors() {
    let error = migrate::up("mysql://root@localhost/app", BASIC).await.unwrap_err();
    assert!(matches!(&error, Error::UnsupportedScheme { scheme } if scheme == "mysql"), "{error}");
    // Neither a URL nor key=value: refused as the CLI refuses it, and the string (maybe a password) not shown.
    let error = migrate::up("s3cret-app.db", BASIC).await.unwrap_err();
    assert!(matches!(error, Error::NotAUrl) && !error.to_string().contains("s3cret"), "{error}");
    // Nothing listens on port 1: the connection error names the server, never the password.
    let error = migrate::up("postgres://app:s3cret-pw@127.0.0.1:1/app?connect_timeout=5", BASIC).await.unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(matches!(error, Error::Postgres(_)), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
    let error = Migrator::new(BASIC)
        .with_code_migration(CodeMigration::new(7, "x"))
        .up("clickhouse://127.0.0.1:9000")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::CodeMigrationsUnsupported { .. }), "{error}");
}

async fn add_user(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (email) VALUES ('code@example.com')").execute(conn).await?;
    Ok(())
}

async fn remove_user(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM users WHERE email = 'code@example.com'").execute(conn).await?;
    Ok(())
}

async fn index_concurrently(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    // Fails inside a transaction: this proves the function got the connection outside one.
    sqlx::raw_sql("CREATE INDEX CONCURRENTLY users_id_email_idx ON users (id, email)").execute(conn).await?;
    Ok(())
}

async fn insert_then_fail(conn: &mut PgConnection) -> Result<(), migrate::BoxError> {
    sqlx::query("INSERT INTO users (email) VALUES ('rolled-back@example.com')").execute(conn).await?;
    Err("the backfill found bad data".into())
}

/// How many times `in_transaction` ran inside a transaction block.
static SEEN: AtomicUsize = AtomicUsize::new(0);

async fn in_transaction(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    // SAVEPOINT is refused outside a transaction block.
    sqlx::raw_sql("SAVEPOINT probe; RELEASE SAVEPOINT probe").execute(conn).await?;
    SEEN.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_migrations_run_in_the_migrations_transaction() {
    let mut db = fresh().await;
    let options = db.connect_options().clone();
    let target = || options.clone();
    let migrator = Migrator::new(BASIC)
        .with_code_migration(CodeMigration::new(7, "00007_add_user").with_up(add_user).with_down(remove_user))
        .with_code_migration(CodeMigration::new(8, "00008_index").with_up(index_concurrently).with_transaction(false))
        .with_code_migration(CodeMigration::new(9, "00009_check").with_up(in_transaction))
        .with_code_migration(CodeMigration::new(10, "00010_nothing"));
    let report = migrator.up(target()).await.unwrap();
    assert_eq!(versions(&report)[6..], ["up 7", "up 8", "up 9", "up 10"]);
    assert_eq!(report.results[6].name, "00007_add_user");
    let empty: Vec<bool> = report.results[6..].iter().map(|r| r.empty).collect();
    assert_eq!(empty, [false, false, false, true], "only the migration without a function is empty");
    assert_eq!(column(&mut db, "SELECT count(*)::text FROM users WHERE email = 'code@example.com'").await, ["1"]);
    assert_eq!(column(&mut db, "SELECT to_regclass('users_id_email_idx')::text").await, ["users_id_email_idx"]);
    assert_eq!(SEEN.load(Ordering::SeqCst), 1, "the function ran inside a transaction");
    // Code and SQL share the version table; a migration without a function is still recorded.
    assert_eq!(migrator.db_version(target()).await.unwrap(), 10);

    assert_eq!(versions(&migrator.down_to(target(), 6).await.unwrap()), ["down 10", "down 9", "down 8", "down 7"]);
    assert_eq!(column(&mut db, "SELECT count(*)::text FROM users WHERE email = 'code@example.com'").await, ["0"]);

    // A failing function rolls back everything it did, and the version is not recorded.
    let failing =
        Migrator::new(BASIC).with_code_migration(CodeMigration::new(7, "00007_bad").with_up(insert_then_fail));
    let error = failing.up(target()).await.unwrap_err();
    assert_eq!(error.failed_migration().map(|f| f.name), Some("00007_bad"));
    let run = error.run_error().unwrap();
    assert!(matches!(run.kind, RunErrorKind::Code { transaction: true, .. }), "{run}");
    assert!(error.to_string().contains("the backfill found bad data"), "{error}");
    assert_eq!(column(&mut db, "SELECT count(*)::text FROM users WHERE email LIKE 'rolled-back%'").await, ["0"]);
    assert_eq!(failing.db_version(target()).await.unwrap(), 6);

    // Versions are shared with the SQL files: a clash is refused before anything runs.
    let clash = Migrator::new(BASIC).with_code_migration(CodeMigration::new(3, "00003_clash").with_up(add_user));
    let error = clash.up(target()).await.unwrap_err();
    assert!(matches!(error, Error::Resolve(_)) && error.to_string().contains("duplicate migration version 3"));
    let error = Migrator::new(BASIC).with_code_migration(CodeMigration::new(0, "zero")).up(target()).await;
    assert!(matches!(error, Err(Error::CodeMigrationVersion { version: 0, .. })));
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_databases_are_created_migrated_and_dropped() {
    let migrator = Migrator::new(BASIC);
    let mut db = TestDatabase::create(&pg_admin_url(), &migrator).await.unwrap();
    let name = db.name().to_owned();
    assert!(name.starts_with("migrate_test_"), "{name}");
    assert_eq!(column(&mut db, "SELECT count(*)::text FROM users").await, ["2"]);
    let other = TestDatabase::create_empty(&pg_admin_url()).await.unwrap();
    assert_ne!(other.name(), name);
    other.drop_database().await.unwrap();
    // A pool the test left open does not stop the drop.
    let pool = PgPoolOptions::new().connect_with(db.connect_options().clone()).await.unwrap();
    db.drop_database().await.unwrap();
    drop(pool);
    let mut admin = PgConnection::connect(&pg_admin_url()).await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_round_trip_check_passes_when_every_down_undoes_its_up() {
    for fixture in ["basic", "round_trip_good"] {
        let migrator = Migrator::new(DirectorySource::new(fixtures().join(fixture)));
        if let Err(error) = check_round_trip(&pg_admin_url(), &migrator).await {
            panic!("{fixture}: {error}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_round_trip_check_names_the_migration_whose_down_is_wrong() {
    let migrator = Migrator::new(DirectorySource::new(fixtures().join("round_trip_bad_down")));
    let error = check_round_trip(&pg_admin_url(), &migrator).await.unwrap_err();
    let RoundTripError::DownMismatch { version, name, differences } = &error else { panic!("{error}") };
    assert_eq!((version.get(), name.as_str()), (2, "00002_add_bio.sql"));
    assert_eq!(differences, &["column public.authors.bio text: left behind"], "{error}");
    assert!(error.to_string().starts_with("00002_add_bio.sql (version 2): its Down does not undo its Up"), "{error}");

    // A code migration without a Down is caught the same way.
    async fn create_table(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::raw_sql("CREATE TABLE from_code (id int)").execute(conn).await?;
        Ok(())
    }
    let migrator =
        Migrator::new(BASIC).with_code_migration(CodeMigration::new(7, "00007_no_down").with_up(create_table));
    let error = check_round_trip(&pg_admin_url(), &migrator).await.unwrap_err();
    assert!(matches!(&error, RoundTripError::DownMismatch { name, .. } if name == "00007_no_down"), "{error}");
    assert!(error.to_string().contains("relation public.from_code (table): left behind"), "{error}");
}

#[test]
fn commands_can_run_on_a_multi_threaded_runtime() {
    fn assert_send<T: Send>(_: &T) {}
    let migrator = Migrator::new(BASIC);
    let future = migrator.up("postgres://localhost/app");
    assert_send(&future);
    let future = check_round_trip("postgres://localhost/postgres", &migrator);
    assert_send(&future);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_on_clickhouse_from_a_url() {
    let db = crate::clickhouse::harness::ChDb::new("library").await;
    let url = format!("{}?database={}", crate::clickhouse::harness::ch_url(), db.name);
    let source = DirectorySource::new(fixtures().join("clickhouse"));
    let report = migrate::up(url.as_str(), source.clone()).await.unwrap();
    assert_eq!(versions(&report), ["up 1", "up 2", "up 3", "up 4", "up 5", "up 6"]);
    let again = migrate::up(url.as_str(), source).await.unwrap();
    assert!(again.results.is_empty());
    assert_eq!(db.versions().await, ["0:1", "1:1", "2:1", "3:1", "4:1", "5:1", "6:1"]);
    db.drop_db().await;
}

/// The library's `verify` and `with_allow_changed`: an edited applied file is found, refused by `up`,
/// and allowed when asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_and_allow_changed_in_the_library() {
    let db = fresh().await;
    let dir = crate::support::TempDir::new("library_verify");
    dir.write("00001_a.sql", "-- +goose Up\nCREATE TABLE a (id int);\n");
    let migrator = Migrator::new(DirectorySource::new(&dir.0));
    migrator.up(db.connect_options().clone()).await.unwrap();
    assert!(migrator.verify(db.connect_options().clone()).await.unwrap().is_empty());
    dir.write("00001_a.sql", "-- +goose Up\nCREATE TABLE a (id bigint);\n");
    dir.write("00002_b.sql", "-- +goose Up\nCREATE TABLE b (id int);\n");
    let findings = migrator.verify(db.connect_options().clone()).await.unwrap();
    assert_eq!(findings.iter().map(|f| f.kind()).collect::<Vec<_>>(), ["changed_up"]);
    let error = migrator.up(db.connect_options().clone()).await.unwrap_err();
    assert!(error.to_string().contains("its Up section changed since"), "{error}");
    let report = migrator.clone().with_allow_changed(true).up(db.connect_options().clone()).await.unwrap();
    assert_eq!(versions(&report), ["up 2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repair_baseline_and_the_marks_in_the_library() {
    let mut db = fresh().await;
    let dir = crate::support::TempDir::new("library_marks");
    for n in 1..=4 {
        dir.write(&format!("0000{n}_t{n}.sql"), &format!("-- +goose Up\nCREATE TABLE t{n} (id bigint);\n"));
    }
    // Tables 1..3 exist already (migrated some other way): baseline records them without running them.
    for n in 1..=3 {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE TABLE t{n} (id bigint)")))
            .execute(db.connection())
            .await
            .unwrap();
    }
    let migrator = Migrator::new(DirectorySource::new(&dir.0));
    let marked = migrator.baseline(db.connect_options().clone(), 3).await.unwrap();
    assert_eq!(marked.iter().map(|v| v.get()).collect::<Vec<_>>(), [1, 2, 3]);
    let report = migrator.up(db.connect_options().clone()).await.unwrap();
    assert_eq!(versions(&report), ["up 4"], "only 4 runs after the baseline");
    // mark-rolled-back and mark-applied write goose's rows and nothing else.
    migrator.mark_rolled_back(db.connect_options().clone(), &[4]).await.unwrap();
    assert_eq!(column(&mut db, "SELECT to_regclass('t4')::text").await, ["t4"], "nothing ran");
    assert_eq!(migrator.db_version(db.connect_options().clone()).await.unwrap(), 3);
    let error = migrator.mark_rolled_back(db.connect_options().clone(), &[4]).await.unwrap_err();
    assert!(error.to_string().contains("version 4"), "{error}");
    migrator.mark_applied(db.connect_options().clone(), &[4]).await.unwrap();
    assert_eq!(migrator.db_version(db.connect_options().clone()).await.unwrap(), 4);
    // An intended edit of an applied file: up refuses, repair records it, up passes.
    dir.write("00002_t2.sql", "-- +goose Up\nCREATE TABLE t2 (id bigint, name text);\n");
    assert!(migrator.up(db.connect_options().clone()).await.is_err());
    let repair = migrator.repair(db.connect_options().clone(), &[]).await.unwrap();
    assert_eq!(repair.record.iter().map(|row| row.version.get()).collect::<Vec<_>>(), [2]);
    assert!(migrator.verify(db.connect_options().clone()).await.unwrap().is_empty());
    migrator.up(db.connect_options().clone()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_lint_refuses_a_lint_error_before_anything_runs() {
    let mut db = fresh().await;
    let dir = crate::support::TempDir::new("library_lint");
    dir.write("00001_a.sql", "-- +goose Up\nCREATE TABLE a (id bigint);\n-- +goose Down\nDROP TABLE a;\n");
    dir.write(
        "00002_f.sql",
        "-- +goose Up\nCREATE FUNCTION f() RETURNS bigint AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql;\n",
    );
    let migrator = Migrator::new(DirectorySource::new(&dir.0)).with_lint(migrate::lint::LintConfig::default());
    let error = migrator.up(db.connect_options().clone()).await.unwrap_err();
    let Error::Run(run) = &error else { panic!("{error:?}") };
    let RunErrorKind::Preflight { findings, .. } = &run.kind else { panic!("{error:?}") };
    assert!(findings.0.iter().all(|f| f.rule == "goose-split-body" && f.file.ends_with("00002_f.sql")), "{error}");
    assert!(run.applied.is_empty());
    assert_eq!(column(&mut db, "SELECT to_regclass('a')::text").await, ["NULL"], "nothing ran, not even 00001");
    // Without lint the run goes ahead (and fails at the server, as goose would).
    let error = Migrator::new(DirectorySource::new(&dir.0)).up(db.connect_options().clone()).await.unwrap_err();
    assert!(error.applied().len() == 1, "{error}");
}
