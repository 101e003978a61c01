//! `lint` and the lint a run makes before its lock, against the real PostgreSQL and ClickHouse: an error
//! refuses `up` with nothing applied and names file:line, `--no-lint` runs it, earlier applied files are
//! context, and a connected `lint` finds an applied migration edited since it ran.

use crate::clickhouse::{ch, ch_url, ChDb};
use crate::support::{migrate, TempDir, TestDb};

const TABLE: &str = "-- +goose Up\nCREATE TABLE a (id bigint);\n-- +goose Down\nDROP TABLE a;\n";
/// Accepted by the server (the variable becomes ''), refused by lint: ENVSUB without a default, unset.
const UNSET_VARIABLE: &str =
    "-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE b${LINT_TEST_UNSET_SUFFIX} (id bigint);\n\
                              -- +goose ENVSUB OFF\n-- +goose Down\nDROP TABLE b;\n";

#[tokio::test]
async fn a_lint_error_refuses_up_with_nothing_applied_and_no_lint_runs_it() {
    let db = TestDb::new("lint_up").await;
    let url = db.url();
    let dir = TempDir::new("lint_up");
    dir.write("00001_a.sql", TABLE);
    dir.write("00002_b.sql", UNSET_VARIABLE);
    for args in
        [vec!["up", "--dir", dir.path(), "--database-url", &url], vec!["-dir", dir.path(), "postgres", &url, "up"]]
    {
        let run = migrate(&args, &[]).expect(1);
        assert!(
            run.stderr.contains("1 lint error(s) in the migrations to apply; nothing was applied"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("00002_b.sql:3:"), "file:line: {}", run.stderr);
        assert!(run.stderr.contains("error[envsub-unset]"), "{}", run.stderr);
        assert!(run.stderr.contains("--no-lint"), "says how to proceed: {}", run.stderr);
        // Refused before the lock: not even the clean first migration ran, no version table was made.
        assert!(!db.has_table("a").await && !db.has_table("goose_db_version").await);
    }
    let run = migrate(&["up", "--dir", dir.path(), "--database-url", &url, "--no-lint"], &[]).expect(0);
    assert!(run.stderr.contains("OK   00002_b.sql"), "{}", run.stderr);
    assert_eq!(db.versions().await, ["1", "2"]);
    db.drop_db().await;
}

#[tokio::test]
async fn lint_warnings_are_logged_in_the_modern_form_only_and_never_refuse() {
    let db = TestDb::new("lint_warn").await;
    let url = db.url();
    let dir = TempDir::new("lint_warn");
    dir.write("00001_a.sql", "-- +goose Up\nCREATE TABLE a (id int);\n");
    let run = migrate(&["-dir", dir.path(), "postgres", &url, "up-by-one"], &[]).expect(0);
    assert!(!run.stderr.contains("warning["), "goose's log stays goose's: {}", run.stderr);
    dir.write("00002_b.sql", "-- +goose Up\nCREATE TABLE b (id int);\n");
    let run = migrate(&["up", "--dir", dir.path(), "--database-url", &url], &[]).expect(0);
    assert!(run.stderr.contains("lint: "), "{}", run.stderr);
    assert!(run.stderr.contains("00002_b.sql:2: warning[prefer-bigint-over-int]"), "{}", run.stderr);
    assert!(run.stderr.contains("00002_b.sql:1: warning[missing-down]"), "{}", run.stderr);
    assert!(!run.stderr.contains("00001_a.sql"), "only what the run applies is linted: {}", run.stderr);
    // Nothing pending: nothing linted.
    let run = migrate(&["up", "--dir", dir.path(), "--database-url", &url], &[]).expect(0);
    assert!(!run.stderr.contains("warning["), "{}", run.stderr);
    db.drop_db().await;
}

#[tokio::test]
async fn connected_lint_finds_an_edited_applied_migration() {
    let db = TestDb::new("lint_edited").await;
    let url = db.url();
    let dir = TempDir::new("lint_edited");
    dir.write("00001_a.sql", TABLE);
    migrate(&["up", "--dir", dir.path(), "--database-url", &url], &[]).expect(0);
    let run = migrate(&["lint", "--dir", dir.path(), "--database-url", &url], &[]).expect(0);
    assert!(run.stdout.contains("1 file(s) linted: 0 error(s)"), "{}", run.stdout);
    dir.write("00001_a.sql", &TABLE.replace("id bigint", "id bigint, name text"));
    let run = migrate(&["lint", "--dir", dir.path(), "--database-url", &url, "--json"], &[]).expect(1);
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let findings = document["findings"].as_array().unwrap().clone();
    let edited: Vec<_> = findings.iter().filter(|f| f["rule"] == "edited-applied-migration").collect();
    assert_eq!(edited.len(), 1, "{}", run.stdout);
    assert_eq!((edited[0]["line"].as_u64(), edited[0]["severity"].as_str()), (Some(2), Some("error")));
    // Offline, the same directory is clean: the rule needs the database.
    let run = migrate(&["lint", "--dir", dir.path()], &[]).expect(0);
    assert!(!run.stdout.contains("edited-applied-migration"), "{}", run.stdout);
    db.drop_db().await;
}

#[test]
fn lint_exit_codes_strict_and_formats() {
    let dir = TempDir::new("lint_formats");
    dir.write("00001_a.sql", "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n");
    let run = migrate(&["lint", "--dir", dir.path()], &[]).expect(0);
    assert!(run.stdout.contains("00001_a.sql:2:20: warning[prefer-bigint-over-int]"), "{}", run.stdout);
    migrate(&["lint", "--dir", dir.path(), "--strict"], &[]).expect(1);
    migrate(&["-dir", dir.path(), "-strict", "lint"], &[]).expect(1);
    let run = migrate(&["lint", "--dir", dir.path(), "--format", "sarif"], &[]).expect(0);
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "prefer-bigint-over-int");
    let run = migrate(&["-dir", dir.path(), "-format", "github", "lint"], &[]).expect(0);
    assert!(run.stdout.starts_with("::warning file="), "{}", run.stdout);
    // Files given on the command line; a wrong format is a usage error.
    let file = format!("{}/00001_a.sql", dir.path());
    let run = migrate(&["lint", &file, "--json"], &[]).expect(0);
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(document["files"], 1);
    migrate(&["lint", "--dir", dir.path(), "--format", "xml"], &[]).expect(2);
    // GOOSE_DRIVER picks the rules: PostgreSQL's int rule does not apply to ClickHouse.
    let run = migrate(&["-dir", dir.path(), "lint"], &[("GOOSE_DRIVER", "clickhouse")]).expect(0);
    assert!(!run.stdout.contains("prefer-bigint-over-int"), "{}", run.stdout);
    // Cluster mode from the flag, in both forms.
    let ch = TempDir::new("lint_cluster");
    ch.write("00001_t.sql", "-- +goose Up\nCREATE TABLE IF NOT EXISTS t (id UInt64) ENGINE = MergeTree ORDER BY id;\n-- +goose Down\nDROP TABLE IF EXISTS t;\n");
    let plain = migrate(&["lint", "--dir", ch.path(), "--driver", "clickhouse"], &[]).expect(0);
    assert!(!plain.stdout.contains("clickhouse-non-replicated-engine"), "{}", plain.stdout);
    for args in [
        vec!["lint", "--dir", ch.path(), "--driver", "clickhouse", "--clickhouse-cluster", "prod"],
        vec!["-dir", ch.path(), "-clickhouse-cluster", "prod", "lint"],
    ] {
        let run = migrate(&args, &[("GOOSE_DRIVER", "clickhouse")]).expect(0);
        assert!(run.stdout.contains("warning[clickhouse-non-replicated-engine]"), "{args:?}: {}", run.stdout);
        assert!(run.stdout.contains("warning[clickhouse-missing-on-cluster]"), "{args:?}: {}", run.stdout);
    }
}

/// ClickHouse accepts a Distributed table over a local table nobody created; lint refuses it, but not when
/// an applied migration created the local table.
#[test]
fn clickhouse_distributed_over_a_missing_local_table() {
    let db = ChDb::new("lint");
    let url = format!("{}?database={}", ch_url(), db.name);
    let dir = TempDir::new("lint_ch");
    let local = "-- +goose Up\nCREATE TABLE IF NOT EXISTS events_local (id UInt64) ENGINE = MergeTree ORDER BY id;\n\
                 -- +goose Down\nDROP TABLE IF EXISTS events_local;\n";
    let distributed =
        "-- +goose Up\nCREATE TABLE IF NOT EXISTS events (id UInt64) ENGINE = Distributed(test_shard_localhost, \
                       currentDatabase(), events_local, rand());\n-- +goose Down\nDROP TABLE IF EXISTS events;\n";
    dir.write("00002_events.sql", distributed);
    let run = migrate(&["-dir", dir.path(), "clickhouse", &url, "up"], &[]).expect(1);
    assert!(run.stderr.contains("00002_events.sql:2:") && run.stderr.contains("clickhouse-distributed-without-local"));
    assert_eq!(ch(&format!("EXISTS TABLE {}.goose_db_version", db.name)).trim(), "0", "nothing applied");
    // The local table created by an earlier, applied migration is context for the pending one.
    std::fs::remove_file(dir.0.join("00002_events.sql")).unwrap();
    dir.write("00001_events_local.sql", local);
    migrate(&["-dir", dir.path(), "clickhouse", &url, "up"], &[]).expect(0);
    dir.write("00002_events.sql", distributed);
    migrate(&["-dir", dir.path(), "clickhouse", &url, "up"], &[]).expect(0);
    assert_eq!(db.versions(), ["1", "2"]);
    assert_eq!(ch(&format!("EXISTS TABLE {}.events", db.name)).trim(), "1");
}
