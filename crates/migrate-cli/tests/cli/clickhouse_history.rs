//! Checksums, `verify`, `repair`, `--allow-changed`, `baseline` and the marks against the real ClickHouse
//! (`scripts/servers.sh up`), the cases of `history.rs` on the other server: one `verify` case per kind of
//! finding the ClickHouse driver can produce (partially applied included), each on its own database, with
//! its JSON document snapshotted; verify creates nothing; and after every command goose's own query still
//! reads the version table and gives the rows expected.

use crate::clickhouse::{ch_url, ChDb};
use crate::support::{filters, migrate, regex_escape, stable_json, Run, TempDir};

const A: &str = "-- +goose Up\nCREATE TABLE a (x UInt8) ENGINE = Memory;\nINSERT INTO a VALUES (1);\n-- +goose Down\nDROP TABLE a;\n";
const B: &str = "-- +goose Up\nCREATE TABLE b (x UInt8) ENGINE = Memory;\n-- +goose Down\nDROP TABLE b;\n";
const C: &str = "-- +goose Up\nCREATE TABLE c (x UInt8) ENGINE = Memory;\n-- +goose Down\nDROP TABLE c;\n";
const D: &str = "-- +goose Up\nCREATE TABLE d (x UInt8) ENGINE = Memory;\n-- +goose Down\nDROP TABLE d;\n";

/// goose's ClickHouse DDL (goose.md section 4).
const GOOSE_DDL: &str = "CREATE TABLE IF NOT EXISTS goose_db_version (\n  version_id Int64,\n  is_applied UInt8,\n  date Date default now(),\n  tstamp DateTime default now()\n) ENGINE = MergeTree() ORDER BY (date)";

/// The database's URL for the binary (its HTTP interface, the database as a parameter).
fn url(db: &ChDb) -> String {
    format!("{}?database={}", ch_url(), db.name)
}

/// Runs SQL in the test's database, returning the TabSeparated answer.
fn sql(db: &ChDb, sql: &str) -> String {
    let output = std::process::Command::new("curl")
        .args(["-sS", "--fail-with-body", "--data-binary", sql, &url(db)])
        .output()
        .expect("running curl");
    let body = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "ClickHouse refused {sql}: {body}");
    body
}

/// goose's own list query (its ClickHouse dialect's, unchanged), as `version:is_applied`, newest first.
fn goose_reads(db: &ChDb) -> Vec<String> {
    let rows = sql(db, "SELECT version_id, is_applied FROM goose_db_version ORDER BY version_id DESC");
    let rows: Vec<String> = rows.lines().map(|line| line.replace('\t', ":")).collect();
    // Its latest-version query agrees.
    let latest = sql(db, "SELECT max(version_id) FROM goose_db_version");
    assert_eq!(Some(latest.trim()), rows.first().and_then(|row| row.split(':').next()), "{rows:?}");
    rows
}

/// The database's tables, sorted.
fn tables(db: &ChDb) -> Vec<String> {
    sql(db, "SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `migrate ARGS --dir DIR --database-url URL` (the modern form).
fn cli(args: &[&str], db: &ChDb, dir: &TempDir) -> Run {
    let url = url(db);
    migrate(&[args, &["--dir", dir.path(), "--database-url", &url]].concat(), &[])
}

/// `migrate -dir DIR [FLAGS] clickhouse URL COMMAND...` (goose's form).
fn goose_form(flags: &[&str], command: &[&str], db: &ChDb, dir: &TempDir) -> Run {
    let url = url(db);
    migrate(&[&["-dir", dir.path()], flags, &["clickhouse", &url], command].concat(), &[])
}

/// A database with 1 and 2 applied through migrate, and its directory.
fn applied(label: &str) -> (ChDb, TempDir) {
    let db = ChDb::new(label);
    let dir = TempDir::new(label);
    dir.write("00001_a.sql", A);
    dir.write("00002_b.sql", B);
    cli(&["up"], &db, &dir).expect(0);
    assert_eq!(goose_reads(&db), ["2:1", "1:1", "0:1"]);
    (db, dir)
}

fn verify(db: &ChDb, dir: &TempDir, json: bool) -> Run {
    cli(if json { &["verify", "--json"] } else { &["verify"] }, db, dir)
}

/// The kinds the JSON document lists.
fn kinds(run: &Run) -> Vec<String> {
    run.json()["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap().to_owned()).collect()
}

/// Snapshots verify's JSON document with the database's name and the directory filtered.
#[track_caller]
fn snapshot(name: &str, run: &Run, db: &ChDb, dir: &TempDir) {
    let mut settings = filters(None);
    settings.add_filter(&regex_escape(dir.path()), "[dir]");
    settings.add_filter(&db.name, "[db]");
    settings.bind(|| insta::assert_json_snapshot!(name, stable_json(run.json())));
}

#[test]
fn a_clean_history_verifies() {
    let (db, dir) = applied("ch_verify_clean");
    let run = verify(&db, &dir, false).expect(0);
    assert!(
        run.stderr.contains("verify: the database agrees with the directory (2 applied checked)"),
        "{}",
        run.stderr
    );
    let run = verify(&db, &dir, true).expect(0);
    snapshot("clean", &run, &db, &dir);
    goose_form(&[], &["verify"], &db, &dir).expect(0);
    assert_eq!(goose_reads(&db), ["2:1", "1:1", "0:1"]);
}

#[test]
fn a_changed_up_section() {
    let (db, dir) = applied("ch_verify_up");
    dir.write("00001_a.sql", &A.replace("VALUES (1)", "VALUES (2)"));
    let run = verify(&db, &dir, false).expect(1);
    assert!(run.stderr.contains("changed_up: ") && run.stderr.contains("00001_a.sql:3: migration 1"), "{}", run.stderr);
    let run = verify(&db, &dir, true).expect(1);
    assert_eq!(kinds(&run), ["changed_up"]);
    snapshot("changed_up", &run, &db, &dir);
    assert_eq!(goose_reads(&db), ["2:1", "1:1", "0:1"]);
}

#[test]
fn a_changed_down_section() {
    let (db, dir) = applied("ch_verify_down");
    dir.write("00002_b.sql", &B.replace("DROP TABLE b", "DROP TABLE IF EXISTS b"));
    let run = verify(&db, &dir, true).expect(1);
    assert_eq!(kinds(&run), ["changed_down"]);
    snapshot("changed_down", &run, &db, &dir);
    assert_eq!(goose_reads(&db), ["2:1", "1:1", "0:1"]);
}

#[test]
fn an_applied_version_without_a_file() {
    let (db, dir) = applied("ch_verify_nofile");
    std::fs::remove_file(dir.0.join("00002_b.sql")).unwrap();
    let run = verify(&db, &dir, true).expect(1);
    assert_eq!(kinds(&run), ["no_file"]);
    snapshot("no_file", &run, &db, &dir);
    assert_eq!(goose_reads(&db), ["2:1", "1:1", "0:1"]);
}

#[test]
fn a_pending_version_older_than_the_newest_applied() {
    let db = ChDb::new("ch_verify_order");
    let dir = TempDir::new("ch_verify_order");
    dir.write("00001_a.sql", A);
    dir.write("00003_c.sql", C);
    cli(&["up"], &db, &dir).expect(0);
    dir.write("00002_b.sql", B);
    let run = verify(&db, &dir, true).expect(1);
    assert_eq!(kinds(&run), ["out_of_order"]);
    snapshot("out_of_order", &run, &db, &dir);
    assert_eq!(goose_reads(&db), ["3:1", "1:1", "0:1"]);
}

/// ClickHouse has no transactions: a NO TRANSACTION migration whose third statement fails leaves two
/// applied and recorded in the progress table, which verify reports.
#[test]
fn a_partially_applied_migration() {
    let db = ChDb::new("ch_verify_partial");
    let dir = TempDir::new("ch_verify_partial");
    dir.write("00001_a.sql", A);
    dir.write(
        "00002_partial.sql",
        "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE p (x UInt8) ENGINE = Memory;\nINSERT INTO p VALUES (1);\n\
         INSERT INTO p SELECT no_such_column FROM p;\n-- +goose Down\nDROP TABLE p;\n",
    );
    dir.write("00003_c.sql", C);
    let run = cli(&["up"], &db, &dir).expect(1);
    assert!(run.stderr.contains("00002_partial.sql:5: up statement 3 failed"), "{}", run.stderr);
    assert_eq!(sql(&db, "SELECT count() FROM p"), "1\n");
    let run = verify(&db, &dir, false).expect(1);
    assert!(
        run.stderr.contains("partial: ")
            && run.stderr.contains("00002_partial.sql: migration 2 is partially applied (2 of 3 statements)"),
        "{}",
        run.stderr
    );
    let run = verify(&db, &dir, true).expect(1);
    assert_eq!(kinds(&run), ["partial"]);
    snapshot("partial", &run, &db, &dir);
    assert_eq!(goose_reads(&db), ["1:1", "0:1"]);
    // Fixed, the next run resumes at statement 3 (the INSERT before it is not repeated) and records the
    // fixed file's checksums; 1's were recorded when the failed run released its lock (no no_checksum above).
    let path = dir.0.join("00002_partial.sql");
    std::fs::write(&path, std::fs::read_to_string(&path).unwrap().replace("no_such_column", "x")).unwrap();
    cli(&["up"], &db, &dir).expect(0);
    assert_eq!(sql(&db, "SELECT count() FROM p"), "2\n");
    verify(&db, &dir, false).expect(0);
    assert_eq!(goose_reads(&db), ["3:1", "2:1", "1:1", "0:1"]);
}

/// As goose leaves it: its table and rows, no checksums. verify reports each applied migration, creates
/// nothing, and goose's form runs it too.
#[test]
fn applied_migrations_without_checksums() {
    let db = ChDb::new("ch_verify_unrecorded");
    let dir = TempDir::new("ch_verify_unrecorded");
    dir.write("00001_a.sql", A);
    sql(&db, GOOSE_DDL);
    sql(&db, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1)");
    sql(&db, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (1, 1)");
    let run = verify(&db, &dir, true).expect(1);
    assert_eq!(kinds(&run), ["no_checksum"]);
    snapshot("no_checksum", &run, &db, &dir);
    let run = goose_form(&[], &["verify"], &db, &dir).expect(1);
    assert!(run.stderr.contains("no_checksum: ") && run.stderr.contains("verify: 1 finding(s)"), "{}", run.stderr);
    assert_eq!(tables(&db), ["goose_db_version"], "verify creates nothing");
    assert_eq!(goose_reads(&db), ["1:1", "0:1"]);
}

/// verify reads only: on a database with no tables (nothing applied, so nothing to find) it creates none,
/// neither goose's table nor a companion (no lock either: its table would be one).
#[test]
fn verify_creates_nothing() {
    let db = ChDb::new("ch_verify_nothing");
    let dir = TempDir::new("ch_verify_nothing");
    dir.write("00001_a.sql", A);
    let run = verify(&db, &dir, false).expect(0);
    assert!(
        run.stderr.contains("verify: the database agrees with the directory (0 applied checked)"),
        "{}",
        run.stderr
    );
    verify(&db, &dir, true).expect(0);
    goose_form(&[], &["verify"], &db, &dir).expect(0);
    assert_eq!(tables(&db), Vec::<String>::new());
}

/// An intended edit: `up` refuses with file:line and applies nothing (the pending 3 stays pending),
/// `repair --dry-run` says what it would do and changes nothing, `repair 1` records the file as it is now,
/// then `up` runs 3 and `verify` passes.
#[test]
fn up_refuses_an_edit_until_repair() {
    let (db, dir) = applied("ch_repair");
    dir.write("00001_a.sql", &A.replace("VALUES (1)", "VALUES (10)"));
    dir.write("00003_c.sql", C);
    let run = cli(&["up"], &db, &dir).expect(1);
    assert!(
        run.stderr.contains("00001_a.sql:3: migration 1 is applied, and its Up section changed since"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing ran") && run.stderr.contains("migrate repair VERSION"), "{}", run.stderr);
    assert!(!tables(&db).contains(&"c".to_owned()), "nothing ran");
    assert_eq!(sql(&db, "SELECT sum(x) FROM a"), "1\n");
    assert_eq!(goose_reads(&db), ["2:1", "1:1", "0:1"]);
    // goose's form refuses the same way.
    goose_form(&[], &["up"], &db, &dir).expect(1);

    let run = cli(&["repair", "--dry-run"], &db, &dir).expect(0);
    assert!(
        run.stderr.contains("repair: would record the checksums of 00001_a.sql as it is now (version 1)"),
        "{}",
        run.stderr
    );
    cli(&["up"], &db, &dir).expect(1);
    // A version that is not applied is refused.
    let run = goose_form(&[], &["repair", "7"], &db, &dir).expect(1);
    assert!(run.stderr.contains("version 7 is not applied"), "{}", run.stderr);
    let run = goose_form(&[], &["repair", "1"], &db, &dir).expect(0);
    assert!(run.stderr.contains("repair: recorded the checksums of 00001_a.sql"), "{}", run.stderr);
    assert_eq!(goose_reads(&db), ["2:1", "1:1", "0:1"]);

    let run = cli(&["up"], &db, &dir).expect(0);
    assert!(run.stderr.contains("OK   00003_c.sql") && !run.stderr.contains("00001_a.sql"), "{}", run.stderr);
    assert_eq!(goose_reads(&db), ["3:1", "2:1", "1:1", "0:1"]);
    verify(&db, &dir, false).expect(0);
    let run = cli(&["repair", "--json"], &db, &dir).expect(0);
    assert_eq!(run.json()["recorded"], serde_json::json!([]));
    assert_eq!(run.json()["removed"], serde_json::json!([]));
}

/// goose rolled back a migration migrate applied (its delete, behind migrate's back): the checksum row is
/// left over. `repair` forgets it; applied again, the file is recorded anew.
#[test]
fn repair_forgets_a_version_goose_rolled_back() {
    let (db, dir) = applied("ch_repair_forget");
    // goose's `down`: its mutation (18.16 has no mutations_sync, so wait for it), then the Down's statement.
    sql(&db, "ALTER TABLE goose_db_version DELETE WHERE version_id = 2");
    let pending = "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0";
    for _ in 0..100 {
        if sql(&db, pending) == "0\n" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    sql(&db, "DROP TABLE b");
    assert_eq!(goose_reads(&db), ["1:1", "0:1"]);
    verify(&db, &dir, false).expect(0);

    let run = cli(&["repair", "--dry-run"], &db, &dir).expect(0);
    assert!(
        run.stderr.contains("repair: would forget the checksums of version 2, which is no longer applied"),
        "{}",
        run.stderr
    );
    let run = cli(&["repair", "--json"], &db, &dir).expect(0);
    assert_eq!(run.json()["removed"], serde_json::json!([2]));
    let run = cli(&["repair", "--json"], &db, &dir).expect(0);
    assert_eq!(run.json()["removed"], serde_json::json!([]), "forgotten once");
    assert_eq!(goose_reads(&db), ["1:1", "0:1"]);

    dir.write("00002_b.sql", &B.replace("(x UInt8)", "(x UInt16)"));
    let run = cli(&["up"], &db, &dir).expect(0);
    assert!(run.stderr.contains("OK   00002_b.sql"), "{}", run.stderr);
    verify(&db, &dir, false).expect(0);
    assert_eq!(goose_reads(&db), ["2:1", "1:1", "0:1"]);
}

/// `--allow-changed` (goose's form: `-allow-changed`) turns the refusal into a warning and runs; the
/// recorded checksum stays the applied one, so a run without it refuses again.
#[test]
fn allow_changed_warns_and_runs() {
    let (db, dir) = applied("ch_allow_changed");
    dir.write("00001_a.sql", &A.replace("VALUES (1)", "VALUES (2)"));
    dir.write("00003_c.sql", C);
    let run = cli(&["up", "--allow-changed"], &db, &dir).expect(0);
    assert!(
        run.stderr.contains("warning: ")
            && run.stderr.contains("00001_a.sql:3: migration 1 is applied, and its Up section changed since"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("OK   00003_c.sql"), "{}", run.stderr);
    assert_eq!(goose_reads(&db), ["3:1", "2:1", "1:1", "0:1"]);
    assert_eq!(sql(&db, "SELECT sum(x) FROM a"), "1\n", "the applied migration did not run again");

    dir.write("00004_d.sql", D);
    goose_form(&[], &["up"], &db, &dir).expect(1);
    let run = goose_form(&["-allow-changed"], &["up"], &db, &dir).expect(0);
    assert!(run.stderr.contains("00001_a.sql:3: migration 1 is applied"), "{}", run.stderr);
    assert_eq!(goose_reads(&db), ["4:1", "3:1", "2:1", "1:1", "0:1"]);
    cli(&["up"], &db, &dir).expect(1);
    assert_eq!(kinds(&verify(&db, &dir, true).expect(1)), ["changed_up"]);

    // Edits that change no statement pass: CRLF line endings, a comment line between statements.
    dir.write("00001_a.sql", &A.replace('\n', "\r\n").replace("INSERT", "-- a note\r\nINSERT"));
    cli(&["up"], &db, &dir).expect(0);
    verify(&db, &dir, false).expect(0);
    // A changed Down section only warns.
    dir.write("00002_b.sql", &B.replace("DROP TABLE b", "DROP TABLE IF EXISTS b"));
    let run = cli(&["up"], &db, &dir).expect(0);
    assert!(run.stderr.contains("warning: ") && run.stderr.contains("00002_b.sql"), "{}", run.stderr);
    assert_eq!(goose_reads(&db), ["4:1", "3:1", "2:1", "1:1", "0:1"]);
}

/// A database migrated some other way, with the tables of 1..3: `baseline 3` records them without running
/// them (in goose's rows, with their checksums), so the next `up` runs only 4; mark-rolled-back and
/// mark-applied move single versions; refusals name the version; goose reads every state.
#[test]
fn baseline_and_marks_adopt_a_database() {
    let db = ChDb::new("ch_baseline");
    let dir = TempDir::new("ch_baseline");
    for (name, text) in [("00001_a.sql", A), ("00002_b.sql", B), ("00003_c.sql", C), ("00004_d.sql", D)] {
        dir.write(name, text);
    }
    for table in ["a", "b", "c"] {
        sql(&db, &format!("CREATE TABLE {table} (x UInt8) ENGINE = Memory"));
    }
    let run = cli(&["baseline", "3", "--dry-run"], &db, &dir).expect(0);
    assert!(run.stderr.contains("baseline: would record 00001_a.sql (version 1) as applied"), "{}", run.stderr);
    assert_eq!(tables(&db), ["a", "b", "c"], "--dry-run creates nothing");

    let run = cli(&["baseline", "3"], &db, &dir).expect(0);
    assert!(
        run.stderr.contains("baseline: recorded 00003_c.sql (version 3) as applied, without running it"),
        "{}",
        run.stderr
    );
    assert_eq!(goose_reads(&db), ["3:1", "2:1", "1:1", "0:1"]);
    assert_eq!(sql(&db, "SELECT count() FROM a"), "0\n", "1's INSERT did not run");
    // The baselined files' checksums were recorded with their rows: verify agrees, nothing unrecorded.
    verify(&db, &dir, false).expect(0);

    let run = cli(&["up"], &db, &dir).expect(0);
    assert!(run.stderr.contains("OK   00004_d.sql"), "{}", run.stderr);
    for file in ["00001_a.sql", "00002_b.sql", "00003_c.sql"] {
        assert!(!run.stderr.contains(file), "{file} ran: {}", run.stderr);
    }
    assert!(tables(&db).contains(&"d".to_owned()));
    assert_eq!(goose_reads(&db), ["4:1", "3:1", "2:1", "1:1", "0:1"]);

    // Refusals: already in that state, no file; nothing written.
    let run = cli(&["mark-applied", "4"], &db, &dir).expect(1);
    assert!(run.stderr.contains("version 4 is already applied"), "{}", run.stderr);
    let run = cli(&["mark-rolled-back", "9"], &db, &dir).expect(1);
    assert!(run.stderr.contains("no migration file has version 9"), "{}", run.stderr);
    assert_eq!(goose_reads(&db), ["4:1", "3:1", "2:1", "1:1", "0:1"]);

    // goose's form, and JSON: the row goes (goose's delete), the table stays, the checksum is forgotten.
    let run = goose_form(&["-json"], &["mark-rolled-back", "4"], &db, &dir).expect(0);
    assert_eq!(run.json()["rolled_back"], serde_json::json!([4]));
    assert_eq!(goose_reads(&db), ["3:1", "2:1", "1:1", "0:1"]);
    assert!(tables(&db).contains(&"d".to_owned()), "nothing of the migration ran");
    verify(&db, &dir, false).expect(0);
    let run = cli(&["repair", "--json", "--dry-run"], &db, &dir).expect(0);
    assert_eq!(run.json()["removed"], serde_json::json!([]), "mark-rolled-back forgot 4's checksum");

    let run = cli(&["mark-applied", "4", "--json"], &db, &dir).expect(0);
    assert_eq!(run.json()["applied"], serde_json::json!([4]));
    assert_eq!(goose_reads(&db), ["4:1", "3:1", "2:1", "1:1", "0:1"]);
    verify(&db, &dir, false).expect(0);
    // goose's rows as goose writes them: one per version, is_applied 1, with its date and time.
    assert_eq!(
        sql(
            &db,
            "SELECT count(), uniqExact(version_id), min(is_applied), min(toYear(date)) > 2000 FROM goose_db_version"
        ),
        "5\t5\t1\t1\n"
    );
}
