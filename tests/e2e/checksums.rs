//! Migration checksums on PostgreSQL: an edited applied migration stops the run before anything is
//! applied, edits that change no statement pass, `allow_changed` warns and runs, a changed Down only warns,
//! goose-created history is adopted and then guarded, and goose's own table is left as goose reads it.

use migrate_core::{migrate, Command, Direction, PlanRequest, RunErrorKind, RunEvent, RunOptions};
use migrate_postgres::PgConfig;

use crate::support::{load, run, steps, TempDir, TestDb};

const ONE: &str = "-- +goose Up\nCREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n-- +goose Down\nDROP TABLE a;\n";
const TWO: &str = "-- +goose Up\nCREATE TABLE b (id int);\n-- +goose Down\nDROP TABLE b;\n";

/// Runs `up` with the given options, collecting what the runner reported about checksums.
async fn up(
    db: &TestDb,
    dir: &TempDir,
    allow_changed: bool,
) -> (Result<Vec<String>, migrate_core::RunError>, Vec<String>) {
    let mut driver = db.driver(PgConfig::default()).await;
    let migrations = load(&dir.0);
    let request = PlanRequest { command: Command::Up, allow_missing: false, no_versioning: false };
    let options = RunOptions { lock: true, allow_changed, preflight: None, stop: None };
    let mut events = Vec::new();
    let outcome = migrate(&mut driver, &migrations, &request, &options, &|_| None, &mut |event| match event {
        RunEvent::Changed { changed } => events.push(format!("changed {} {}", changed.direction, changed.version)),
        RunEvent::ChecksumsRecorded { versions } => {
            events.push(format!("recorded {:?}", versions.iter().map(|v| v.get()).collect::<Vec<_>>()))
        }
        _ => {}
    })
    .await;
    (outcome.map(|outcome| steps(&outcome)), events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_applied_migration_stops_the_run() {
    let db = TestDb::new("checksum_edit").await;
    let dir = TempDir::new("checksum_edit");
    dir.write("00001_a.sql", ONE);
    assert_eq!(up(&db, &dir, false).await.0.unwrap(), ["up 1"]);
    // goose's table is untouched beside its companion; both are there.
    assert!(db.has_table("goose_db_version_checksums").await);
    assert_eq!(db.versions().await, ["0:true", "1:true"]);

    // Edits that change no statement: line endings, trailing spaces, comment lines between statements.
    let digest = |version: i64| {
        let db = &db;
        async move {
            let sql = format!("SELECT file_sha256 FROM goose_db_version_checksums WHERE version_id = {version}");
            db.column(&sql).await
        }
    };
    // The digest recorded is the SHA-256 of the file's bytes (PostgreSQL's sha256 agrees).
    let sha256 = |text: &str| {
        let db = &db;
        let sql = format!("SELECT encode(sha256(convert_to('{}', 'UTF8')), 'hex')", text.replace('\'', "''"));
        async move { db.column(&sql).await }
    };
    assert_eq!(digest(1).await, sha256(ONE).await);
    let crlf = ONE.replace('\n', "  \r\n").replace("INSERT", "-- a note\r\nINSERT");
    dir.write("00001_a.sql", &crlf);
    dir.write("00002_b.sql", TWO);
    assert_eq!(up(&db, &dir, false).await.0.unwrap(), ["up 2"]);
    // The next locked run saved the new bytes' digest (the checksums are the same), so later runs need
    // not parse the file.
    assert_eq!(digest(1).await, sha256(&crlf).await);

    // A statement edited: the run stops at once, naming the file and the statement's line; 3 never runs.
    dir.write("00001_a.sql", &ONE.replace("VALUES (1)", "VALUES (2)"));
    dir.write("00003_c.sql", "-- +goose Up\nCREATE TABLE c (id int);\n");
    let error = up(&db, &dir, false).await.0.unwrap_err();
    let RunErrorKind::Changed { changed } = &error.kind else { panic!("{error}") };
    assert_eq!((changed.version.get(), changed.direction, changed.statement), (1, Direction::Up, Some((2, 3))));
    let text = error.to_string();
    assert!(text.contains("00001_a.sql:3: migration 1 is applied, and its Up section changed since"), "{text}");
    assert!(text.contains("statement 2 differs first"), "{text}");
    assert!(!db.has_table("c").await, "nothing ran");

    // Allowed: a warning, and the run goes on.
    let (outcome, events) = up(&db, &dir, true).await;
    assert_eq!(outcome.unwrap(), ["up 3"]);
    assert_eq!(events, ["changed up 1"]);

    // A changed Down section only warns.
    dir.write("00001_a.sql", ONE);
    dir.write("00002_b.sql", &TWO.replace("DROP TABLE b", "DROP TABLE IF EXISTS b"));
    let (outcome, events) = up(&db, &dir, false).await;
    assert_eq!(outcome.unwrap(), Vec::<String>::new());
    assert_eq!(events, ["changed down 2"]);

    // Rolled back, a migration's checksum goes with its version row; applied again, it is recorded anew.
    let mut driver = db.driver(PgConfig::default()).await;
    run(&mut driver, &load(&dir.0), Command::Down).await.unwrap();
    assert_eq!(db.column("SELECT version_id::text FROM goose_db_version_checksums ORDER BY 1").await, ["1", "2"]);
    dir.write("00003_c.sql", "-- +goose Up\nCREATE TABLE IF NOT EXISTS c (id int);\n");
    assert_eq!(up(&db, &dir, false).await.0.unwrap(), ["up 3"]);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goose_history_is_adopted_then_guarded() {
    let db = TestDb::new("checksum_adopt").await;
    let dir = TempDir::new("checksum_adopt");
    dir.write("00001_a.sql", ONE);
    dir.write("00002_b.sql", TWO);
    // What goose leaves: its table and rows, the migrations' objects, no checksums.
    db.exec(
        "CREATE TABLE goose_db_version (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, \
         version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now());
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true);
         CREATE TABLE a (id int); INSERT INTO a VALUES (1);",
    )
    .await;
    // The next locked run records the applied file's checksums, once, and applies what is pending.
    let (outcome, events) = up(&db, &dir, false).await;
    assert_eq!(outcome.unwrap(), ["up 2"]);
    assert_eq!(events, ["recorded [1]"]);
    let (_, events) = up(&db, &dir, false).await;
    assert!(events.is_empty(), "{events:?}");
    // From then on an edit is caught.
    dir.write("00001_a.sql", &ONE.replace("CREATE TABLE a (id int)", "CREATE TABLE a (id bigint)"));
    let error = up(&db, &dir, false).await.0.unwrap_err();
    assert!(matches!(error.kind, RunErrorKind::Changed { .. }), "{error}");
    // goose's own query still reads its table as goose wrote it.
    assert_eq!(
        db.column("SELECT version_id::text FROM goose_db_version WHERE is_applied ORDER BY id").await,
        ["0", "1", "2"]
    );
    db.drop_db().await;
}
