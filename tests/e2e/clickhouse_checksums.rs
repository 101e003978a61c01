//! Migration checksums on ClickHouse (18.16 in CI), the PostgreSQL cases of `checksums.rs` on the other
//! server: an edited applied statement stops `up` before anything is sent, edits that change no statement
//! pass (and the new bytes' digest is recorded), `allow_changed` warns and runs, a changed Down only warns,
//! goose-created history (both engine forms of goose's table) is adopted and then guarded, and goose's own
//! queries read its table as goose wrote it after every command.

use migrate_clickhouse::{ChClient, ChConfig};
use migrate_core::{ChecksumStore, Command, Direction, RunErrorKind};

use crate::clickhouse::harness::{run, ChDb};
use crate::support::{load, steps, TempDir};

const ONE: &str = "-- +goose Up\nCREATE TABLE a (x UInt8) ENGINE = Memory;\nINSERT INTO a VALUES (1);\n-- +goose Down\nDROP TABLE a;\n";
const TWO: &str = "-- +goose Up\nCREATE TABLE b (x UInt8) ENGINE = Memory;\n-- +goose Down\nDROP TABLE b;\n";
const THREE: &str = "-- +goose Up\nCREATE TABLE c (x UInt8) ENGINE = Memory;\n-- +goose Down\nDROP TABLE c;\n";

/// goose's ClickHouse DDL (goose.md section 4), current and pre-v3.8.
const GOOSE_DDL: &str = "CREATE TABLE IF NOT EXISTS goose_db_version (\n  version_id Int64,\n  is_applied UInt8,\n  date Date default now(),\n  tstamp DateTime default now()\n) ENGINE = MergeTree() ORDER BY (date)";
const GOOSE_DDL_OLD: &str = "CREATE TABLE IF NOT EXISTS goose_db_version (\n  version_id Int64,\n  is_applied UInt8,\n  date Date default now(),\n  tstamp DateTime default now()\n) ENGINE = MergeTree(date, (date), 8192)";

/// Runs `up` with the given options on a new driver, collecting what the runner reported about checksums.
async fn up(
    db: &ChDb,
    dir: &TempDir,
    allow_changed: bool,
) -> (Result<Vec<String>, migrate_core::RunError>, Vec<String>) {
    let mut driver = db.driver(ChConfig::default()).await;
    crate::support::up_reporting_checksums(&mut driver, dir, allow_changed).await
}

/// `up` that must succeed: its steps and events.
async fn up_ok(db: &ChDb, dir: &TempDir) -> (Vec<String>, Vec<String>) {
    let (outcome, events) = up(db, dir, false).await;
    (outcome.unwrap_or_else(|e| panic!("{e}")), events)
}

/// goose's own reads of its table (its dialect's list and latest-version queries, unchanged), as
/// `version:is_applied` newest first; the latest version must be the list's first.
async fn goose_reads(db: &ChDb) -> Vec<String> {
    let client = ChClient::new(&db.spec).unwrap();
    let list = "SELECT version_id, is_applied FROM goose_db_version ORDER BY version_id DESC";
    let rows = client.query(&format!("{list} FORMAT TabSeparated")).await.unwrap_or_else(|e| panic!("{list}: {e}"));
    let rows: Vec<String> = rows.iter().map(|row| row.join(":")).collect();
    let latest = client.query("SELECT max(version_id) FROM goose_db_version FORMAT TabSeparated").await.unwrap();
    assert_eq!(Some(&latest[0][0]), rows.first().and_then(|row| row.split(':').next().map(str::to_owned)).as_ref());
    rows
}

/// The versions whose checksums the driver lists.
async fn checksummed(db: &ChDb) -> Vec<i64> {
    let mut driver = db.driver(ChConfig::default()).await;
    driver.list_checksums().await.unwrap().unwrap_or_default().iter().map(|row| row.version.get()).collect()
}

/// The file digest recorded last for a version.
async fn digest(db: &ChDb, version: i64) -> Vec<String> {
    db.column(&format!("SELECT argMax(file_sha256, seq) FROM goose_db_version_checksums WHERE version_id = {version}"))
        .await
}

/// The SHA-256 of a text, as ClickHouse computes it.
async fn sha256(db: &ChDb, text: &str) -> Vec<String> {
    let literal = text.replace('\\', "\\\\").replace('\'', "\\'").replace('\r', "\\r").replace('\n', "\\n");
    db.column(&format!("SELECT lower(hex(SHA256('{literal}')))")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_applied_statement_stops_up_and_harmless_edits_pass() {
    let db = ChDb::new("cksum_edit").await;
    let dir = TempDir::new("ch-cksum-edit");
    dir.write("00001_a.sql", ONE);
    assert_eq!(up(&db, &dir, false).await.0.unwrap(), ["up 1"]);
    assert!(db.has_table("goose_db_version_checksums").await);
    assert_eq!(checksummed(&db).await, [1]);
    assert_eq!(digest(&db, 1).await, sha256(&db, ONE).await, "the digest is the SHA-256 of the file's bytes");
    assert_eq!(goose_reads(&db).await, ["1:1", "0:1"]);

    // CRLF line endings and trailing spaces change no statement: the run goes on, and the new bytes' digest
    // is recorded by that locked run.
    let crlf = ONE.replace('\n', "  \r\n");
    dir.write("00001_a.sql", &crlf);
    dir.write("00002_b.sql", TWO);
    assert_eq!(up_ok(&db, &dir).await, (vec!["up 2".to_owned()], vec![]));
    assert_eq!(digest(&db, 1).await, sha256(&db, &crlf).await);
    assert_eq!(goose_reads(&db).await, ["2:1", "1:1", "0:1"]);

    // A comment line between the statements changes none either, with and without something to run.
    let commented = crlf.replace("INSERT", "-- a note\r\nINSERT");
    dir.write("00001_a.sql", &commented);
    assert_eq!(up_ok(&db, &dir).await, (vec![], vec![]));
    dir.write("00003_c.sql", THREE);
    assert_eq!(up_ok(&db, &dir).await, (vec!["up 3".to_owned()], vec![]));
    assert_eq!(digest(&db, 1).await, sha256(&db, &commented).await);
    assert_eq!(goose_reads(&db).await, ["3:1", "2:1", "1:1", "0:1"]);

    // A statement edited: the run stops before anything is sent, naming the file and the statement's line;
    // the pending 4 is not applied and the edited INSERT does not run again.
    dir.write("00001_a.sql", &ONE.replace("VALUES (1)", "VALUES (2)"));
    dir.write("00004_d.sql", "-- +goose Up\nCREATE TABLE d (x UInt8) ENGINE = Memory;\n");
    let error = up(&db, &dir, false).await.0.unwrap_err();
    let RunErrorKind::Changed { changed } = &error.kind else { panic!("{error}") };
    assert_eq!((changed.version.get(), changed.direction, changed.statement), (1, Direction::Up, Some((2, 3))));
    let text = error.to_string();
    assert!(text.contains("00001_a.sql:3: migration 1 is applied, and its Up section changed since"), "{text}");
    assert!(text.contains("statement 2 differs first"), "{text}");
    assert!(error.applied.is_empty(), "{error}");
    assert!(!db.has_table("d").await, "nothing ran");
    assert_eq!(db.column("SELECT toString(sum(x)) FROM a").await, ["1"]);
    assert_eq!(goose_reads(&db).await, ["3:1", "2:1", "1:1", "0:1"]);
    // Any command that changes the database refuses the same way, `down` included.
    let mut driver = db.driver(ChConfig::default()).await;
    let error = run(&mut driver, &load(&dir.0), Command::Down).await.unwrap_err();
    assert!(matches!(error.kind, RunErrorKind::Changed { .. }), "{error}");
    assert!(db.has_table("c").await, "3 was not rolled back");

    // Allowed: a warning, and the run goes on; the recorded checksum stays the applied one, so the next
    // run without the allowance refuses again.
    let (outcome, events) = up(&db, &dir, true).await;
    assert_eq!(outcome.unwrap(), ["up 4"]);
    assert_eq!(events, ["changed up 1"]);
    assert!(db.has_table("d").await);
    assert_eq!(goose_reads(&db).await, ["4:1", "3:1", "2:1", "1:1", "0:1"]);
    let error = up(&db, &dir, false).await.0.unwrap_err();
    assert!(matches!(error.kind, RunErrorKind::Changed { .. }), "{error}");

    // A changed Down section only warns.
    dir.write("00001_a.sql", ONE);
    dir.write("00002_b.sql", &TWO.replace("DROP TABLE b", "DROP TABLE IF EXISTS b"));
    let (outcome, events) = up(&db, &dir, false).await;
    assert_eq!(outcome.unwrap(), Vec::<String>::new());
    assert_eq!(events, ["changed down 2"]);

    // Rolled back, a migration's checksum goes with its version row (written when the lock is released);
    // applied again, it is recorded anew.
    let mut driver = db.driver(ChConfig::default()).await;
    let outcome = run(&mut driver, &load(&dir.0), Command::Down).await.unwrap();
    assert_eq!(steps(&outcome), ["down 4"]);
    assert_eq!(checksummed(&db).await, [1, 2, 3]);
    assert_eq!(goose_reads(&db).await, ["3:1", "2:1", "1:1", "0:1"]);
    dir.write("00004_d.sql", "-- +goose Up\nCREATE TABLE IF NOT EXISTS d (x UInt8) ENGINE = Memory;\n");
    let (outcome, events) = up(&db, &dir, false).await;
    assert_eq!(outcome.unwrap(), ["up 4"]);
    assert_eq!(events, ["changed down 2"]);
    assert_eq!(checksummed(&db).await, [1, 2, 3, 4]);
    assert_eq!(goose_reads(&db).await, ["4:1", "3:1", "2:1", "1:1", "0:1"]);
    db.drop_db().await;
}

/// goose migrated the database (its table in either engine form, its rows, the objects, no checksums):
/// the next locked run records the applied files' checksums, says so once, and from then on an edit is
/// caught; goose's table is never altered and goose's reads still agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goose_history_is_adopted_then_guarded() {
    for (label, ddl) in [("current", GOOSE_DDL), ("old", GOOSE_DDL_OLD)] {
        let db = ChDb::new(&format!("cksum_adopt_{label}")).await;
        let dir = TempDir::new("ch-cksum-adopt");
        dir.write("00001_a.sql", ONE);
        dir.write("00002_b.sql", TWO);
        dir.write("00003_c.sql", THREE);
        // What goose leaves after `up-to 2`.
        for sql in [
            ddl,
            "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1)",
            "CREATE TABLE a (x UInt8) ENGINE = Memory",
            "INSERT INTO a VALUES (1)",
            "INSERT INTO goose_db_version (version_id, is_applied) VALUES (1, 1)",
            "CREATE TABLE b (x UInt8) ENGINE = Memory",
            "INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, 1)",
        ] {
            db.exec(sql).await;
        }
        let before = db.column("SHOW CREATE TABLE goose_db_version").await;

        let (outcome, events) = up(&db, &dir, false).await;
        assert_eq!(outcome.unwrap(), ["up 3"], "{label}");
        assert_eq!(events, ["recorded [1, 2]"], "{label}: adopted, reported once");
        assert_eq!(checksummed(&db).await, [1, 2, 3], "{label}");
        assert_eq!(goose_reads(&db).await, ["3:1", "2:1", "1:1", "0:1"], "{label}");
        // Reported once: the next run (with something to do, so it takes the lock) records nothing more.
        dir.write("00004_d.sql", "-- +goose Up\nCREATE TABLE d (x UInt8) ENGINE = Memory;\n");
        let (outcome, events) = up(&db, &dir, false).await;
        assert_eq!(outcome.unwrap(), ["up 4"], "{label}");
        assert!(events.is_empty(), "{label}: {events:?}");

        // From then on an edit of an adopted file is caught, and nothing runs.
        dir.write("00001_a.sql", &ONE.replace("(x UInt8)", "(x UInt16)"));
        dir.write("00005_e.sql", "-- +goose Up\nCREATE TABLE e (x UInt8) ENGINE = Memory;\n");
        let error = up(&db, &dir, false).await.0.unwrap_err();
        let RunErrorKind::Changed { changed } = &error.kind else { panic!("{label}: {error}") };
        assert_eq!((changed.version.get(), changed.statement), (1, Some((1, 2))), "{label}");
        assert!(error.to_string().contains("00001_a.sql:2: migration 1 is applied"), "{label}: {error}");
        assert!(!db.has_table("e").await, "{label}: nothing ran");

        assert_eq!(goose_reads(&db).await, ["4:1", "3:1", "2:1", "1:1", "0:1"], "{label}");
        assert_eq!(db.column("SHOW CREATE TABLE goose_db_version").await, before, "{label}: goose's table unaltered");
        db.drop_db().await;
    }
}

/// A database goose migrated with nothing pending: a run with nothing to do takes no lock, so it neither
/// refuses nor records (and creates no table); the first locked run adopts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adoption_waits_for_a_locked_run() {
    let db = ChDb::new("cksum_adopt_noop").await;
    let dir = TempDir::new("ch-cksum-adopt-noop");
    dir.write("00001_a.sql", ONE);
    for sql in [
        GOOSE_DDL,
        "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1)",
        "CREATE TABLE a (x UInt8) ENGINE = Memory",
        "INSERT INTO goose_db_version (version_id, is_applied) VALUES (1, 1)",
    ] {
        db.exec(sql).await;
    }
    assert_eq!(up_ok(&db, &dir).await, (vec![], vec![]));
    assert!(!db.has_table("goose_db_version_checksums").await, "a run with nothing to do creates nothing");
    dir.write("00002_b.sql", TWO);
    assert_eq!(up_ok(&db, &dir).await, (vec!["up 2".to_owned()], vec!["recorded [1]".to_owned()]));
    assert_eq!(checksummed(&db).await, [1, 2]);
    assert_eq!(goose_reads(&db).await, ["2:1", "1:1", "0:1"]);
    db.drop_db().await;
}
