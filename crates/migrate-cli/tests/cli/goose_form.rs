//! goose's invocation against the real PostgreSQL.

use crate::support::{filters, fixture, migrate, migrate_in, shell, TempDir, TestDb};

/// The exact line of the job template: `migrate -dir <dir> postgres "$DATABASE_URL" up`, run by a shell.
#[tokio::test]
async fn job_template_invocation() {
    let db = TestDb::new("job").await;
    let dir = fixture("basic");
    let script = format!("migrate -dir {} postgres \"$DATABASE_URL\" up", dir.display());
    let run = shell(&script, &[("DATABASE_URL", &db.url())]).expect(0);
    assert_eq!(run.stdout, "");
    filters(Some(&db)).bind(|| insta::assert_snapshot!(run.stderr));
    assert_eq!(db.versions().await, ["1", "2", "3", "4", "5", "6"]);
    // Again: nothing to do, and the pod does not wait for the lock.
    let run = shell(&script, &[("DATABASE_URL", &db.url())]).expect(0);
    filters(Some(&db)).bind(|| insta::assert_snapshot!("job_template_again", run.stderr));
    db.drop_db().await;
}

#[tokio::test]
async fn status_table_and_every_command() {
    let db = TestDb::new("goose_cmds").await;
    let url = db.url();
    let dir = fixture("basic");
    let dir = dir.to_str().unwrap();
    migrate(&["-dir", dir, "postgres", &url, "up-to", "3"], &[]).expect(0);
    let status = migrate(&["-dir", dir, "postgres", &url, "status"], &[]).expect(0);
    filters(Some(&db)).bind(|| insta::assert_snapshot!(status.stderr));
    let version = migrate(&["postgres", &url, "version", "-dir", dir], &[]).expect(0);
    assert!(version.stderr.ends_with(" goose: version 3\n"), "{}", version.stderr);
    migrate(&["-dir", dir, "postgres", &url, "up-by-one"], &[]).expect(0);
    assert_eq!(db.versions().await, ["1", "2", "3", "4"]);
    migrate(&["-dir", dir, "postgres", &url, "down"], &[]).expect(0);
    migrate(&["-dir", dir, "postgres", &url, "redo"], &[]).expect(0);
    assert_eq!(db.versions().await, ["1", "2", "3"]);
    let down_to = migrate(&["-dir", dir, "postgres", &url, "down-to", "1"], &[]).expect(0);
    assert!(down_to.stderr.ends_with(" goose: no migrations to run. current version: 1\n"), "{}", down_to.stderr);
    migrate(&["-dir", dir, "postgres", &url, "up"], &[]).expect(0);
    migrate(&["-dir", dir, "postgres", &url, "reset"], &[]).expect(0);
    assert_eq!(db.versions().await, Vec::<String>::new());
    db.drop_db().await;
}

#[tokio::test]
async fn goose_environment_and_dotenv() {
    let db = TestDb::new("goose_env").await;
    let url = db.url();
    let dir = fixture("basic");
    let env = [
        ("GOOSE_DRIVER", "postgres"),
        ("GOOSE_DBSTRING", url.as_str()),
        ("GOOSE_MIGRATION_DIR", dir.to_str().unwrap()),
        ("GOOSE_TABLE", "custom_versions"),
    ];
    // A command first, then goose's single-dash flag: goose's env form.
    migrate(&["up-to", "2", "-v"], &env).expect(0);
    migrate(&["status", "-allow-missing"], &env).expect(0);
    assert!(db.has_table("custom_versions").await);
    // .env supplies what the environment does not have, and never overrides it.
    let cwd = TempDir::new("dotenv");
    cwd.write(
        ".env",
        &format!(
            "GOOSE_DRIVER=postgres\nGOOSE_DBSTRING={url}\nGOOSE_MIGRATION_DIR={}\nGOOSE_TABLE=ignored\n",
            dir.display()
        ),
    );
    migrate_in(&cwd.0, &["up"], &[("GOOSE_TABLE", "custom_versions")]).expect(0);
    assert_eq!(db.column("SELECT count(*)::text FROM custom_versions WHERE version_id > 0").await, ["6"]);
    assert!(!db.has_table("ignored").await);
    // -env=none loads nothing; -env=PATH must exist.
    let none = migrate_in(&cwd.0, &["-env=none", "status"], &[]).expect(1);
    assert!(none.stderr.contains("expected DRIVER DBSTRING COMMAND"), "{}", none.stderr);
    let missing = migrate(&["-env", "/nonexistent/.env", "-dir", "x", "postgres", &url, "status"], &[]).expect(1);
    assert!(missing.stderr.contains("failed to load env file /nonexistent/.env"), "{}", missing.stderr);
    db.drop_db().await;
}

#[tokio::test]
async fn exit_codes() {
    let db = TestDb::new("goose_exit").await;
    let url = db.url();
    let dir = fixture("basic");
    let dir = dir.to_str().unwrap();
    // 2: a flag error, with goose's usage.
    let bad_flag = migrate(&["-nope", "postgres", &url, "up"], &[]).expect(2);
    assert!(bad_flag.stderr.starts_with("flag provided but not defined: -nope\nUsage: migrate"), "{}", bad_flag.stderr);
    // 1: not enough arguments, a runtime error; 2: an unknown command.
    migrate(&["postgres", &url], &[]).expect(1);
    migrate(&["postgres", &url, "sideways"], &[]).expect(2);
    let down = migrate(&["-dir", dir, "postgres", &url, "down"], &[]).expect(1);
    // A fresh database has no version table: nothing to roll back.
    assert!(down.stderr.contains("migrate run: no next version found"), "{}", down.stderr);
    migrate(&["-dir", dir, "postgres", &url, "up"], &[]).expect(0);
    let by_one = migrate(&["-dir", dir, "postgres", &url, "up-by-one"], &[]).expect(1);
    assert!(by_one.stderr.contains("no next version found"), "{}", by_one.stderr);
    // -h and -version print to stdout and exit 0.
    assert!(migrate(&["-h"], &[]).expect(0).stdout.starts_with("Usage: migrate [OPTIONS] DRIVER DBSTRING COMMAND"));
    let version = migrate(&["-version"], &[]).expect(0).stdout;
    assert!(version.starts_with(&format!("migrate version: {} (revision ", env!("CARGO_PKG_VERSION"))), "{version}");
    let revision = version.split("revision ").nth(1).and_then(|r| r.split(',').next()).unwrap();
    assert!(
        revision == "unknown" || (revision.len() == 12 && revision.chars().all(|c| c.is_ascii_hexdigit())),
        "{version}"
    );
    assert!(version.trim_end().ends_with(')') && version.contains(", built 20"), "{version}");
    // No arguments: usage and 1, as goose.
    migrate(&[], &[]).expect(1);
    db.drop_db().await;
}

#[tokio::test]
async fn failing_migration_points_at_file_and_line() {
    let db = TestDb::new("goose_fail").await;
    let url = db.url();
    let dir = fixture("failing");
    let run = migrate(&["-dir", dir.to_str().unwrap(), "postgres", &url, "up"], &[]).expect(1);
    filters(Some(&db)).bind(|| insta::assert_snapshot!(run.stderr));
    assert_eq!(db.versions().await, ["1"]);
    db.drop_db().await;
}

#[tokio::test]
async fn verbose_and_no_versioning() {
    let db = TestDb::new("goose_verbose").await;
    let url = db.url();
    let dir = fixture("basic");
    let dir = dir.to_str().unwrap();
    let run = migrate(&["-v", "-dir", dir, "postgres", &url, "up-to", "2"], &[("NO_COLOR", "1")]).expect(0);
    filters(Some(&db)).bind(|| insta::assert_snapshot!(run.stderr));
    let run = migrate(&["-dir", dir, "-no-versioning", "postgres", &url, "status"], &[]).expect(0);
    assert!(run.stderr.contains("no versioning            -- 00001_create_users.sql"), "{}", run.stderr);
    let run = migrate(&["-dir", dir, "-no-versioning", "postgres", &url, "version"], &[]).expect(0);
    assert!(run.stderr.ends_with(" goose: file version 6\n"), "{}", run.stderr);
    db.drop_db().await;
}

/// A file's parse warning reaches the log of a real run, once, even when redo runs the file twice.
#[tokio::test]
async fn parse_warnings_are_logged_once_per_file() {
    let db = TestDb::new("warnings").await;
    let url = db.url();
    let dir = TempDir::new("warnings");
    dir.write(
        "00001_q.sql",
        "-- +goose Up\nCREATE TABLE q (id int);\n-- +goose StatementBegin\n-- +goose StatementEnd\n\
         INSERT INTO q VALUES (1);\n-- +goose Down\nDROP TABLE q;\n",
    );
    let path = dir.0.to_str().unwrap();
    for command in ["up", "redo"] {
        let run = migrate(&["-dir", path, "postgres", &url, command], &[]).expect(0);
        let warnings: Vec<&str> = run.stderr.lines().filter(|line| line.contains("warning:")).collect();
        assert_eq!(warnings.len(), 1, "{command}: {}", run.stderr);
        assert!(warnings[0].contains("00001_q.sql:3: empty StatementBegin/StatementEnd block"), "{}", run.stderr);
    }
    // Nothing to do: nothing parsed, nothing to warn about.
    let run = migrate(&["-dir", path, "postgres", &url, "up"], &[]).expect(0);
    assert!(!run.stderr.contains("warning:"), "{}", run.stderr);
    db.drop_db().await;
}

/// Arguments that are present but wrong exit 2 with one line, not goose's usage; a URL that splits
/// wrongly around an unencoded password character says how to fix it.
#[test]
fn wrong_arguments_exit_2_with_one_line() {
    let basic = fixture("basic");
    let dir = basic.to_str().unwrap();
    let url = "postgres://u@127.0.0.1:1/db";
    for (args, message) in [
        (vec!["-dir", dir, "postgres", url, "bogus"], "\"bogus\": no such command"),
        (vec!["-dir", dir, "mysql", url, "up"], "\"mysql\": unknown dialect"),
        (vec!["-dir", dir, "postgres", url, "up-to", "x"], "version must be a number (got 'x')"),
        (vec!["-dir", dir, "-table", "a.b.c", "postgres", url, "status"], "invalid version table name \"a.b.c\""),
        (vec!["-dir", dir, "postgres", "postgres://u:a/b@h/db", "status"], "invalid PostgreSQL DSN: "),
    ] {
        let run = migrate(&args, &[]).expect(2);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("Usage:"), "{args:?}: {}", run.stderr);
    }
    let run = migrate(&["-dir", dir, "postgres", "postgres://u:a/b@h/db", "status"], &[]).expect(2);
    assert!(
        run.stderr.contains("must be percent-encoded in a URL (%23, %3F, %2F, %40), or give the parts"),
        "{}",
        run.stderr
    );
    // goose's "not enough arguments" keeps its usage text and exit 1.
    let run = migrate(&["-dir", dir, "postgres", url, "up-to"], &[]).expect(1);
    assert!(run.stderr.contains("Usage:"), "{}", run.stderr);
}

/// A line that mixes the forms gets three short lines (the error, the form detected and why, the other
/// spelling), not goose's whole usage.
#[test]
fn mixed_forms_suggest_the_other_spelling() {
    let run = migrate(&["status", "-dir", "migrations"], &[]).expect(1);
    assert_eq!(
        run.stderr,
        "expected DRIVER DBSTRING COMMAND\ngoose's form was detected (status followed by the single-dash flag -dir), \
         which takes the database from GOOSE_DRIVER and GOOSE_DBSTRING\nfor the modern form, give flags two dashes: \
         migrate status --dir migrations\n"
    );
    let run = migrate(&["--dir", "m", "status"], &[("DATABASE_URL", "postgres://h/d")]).expect(1);
    assert_eq!(run.stderr.lines().count(), 3, "{}", run.stderr);
    assert!(
        run.stderr.ends_with("for the modern form, put the command first: migrate status --dir m\n"),
        "{}",
        run.stderr
    );
}
