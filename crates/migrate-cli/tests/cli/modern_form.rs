//! The modern form against the real PostgreSQL.

use crate::support::{admin_options, filters, fixture, migrate, stable_json, TempDir, TestDb};

#[tokio::test]
async fn up_with_url_and_json_documents() {
    let db = TestDb::new("modern_json").await;
    let url = db.url();
    let dir = fixture("basic");
    let dir = dir.to_str().unwrap();
    let up = migrate(&["up-to", "3", "--dir", dir, "--database-url", &url, "--json"], &[]).expect(0);
    // goose's lines still go to stderr; the document alone goes to stdout.
    assert!(up.stderr.contains("OK   00003_add_created_at.sql"), "{}", up.stderr);
    insta::assert_json_snapshot!("up_json", stable_json(up.json()));
    let status = migrate(&["status", "--dir", dir, "--json"], &[("DATABASE_URL", &url)]).expect(0);
    filters(Some(&db)).bind(|| insta::assert_json_snapshot!("status_json", stable_json(status.json())));
    let version = migrate(&["version", "--dir", dir, "--json", "--database-url", &url], &[]).expect(0);
    assert_eq!(version.json()["version"], 3);
    let down = migrate(&["down", "--dir", dir, "--database-url", &url, "--json"], &[]).expect(0);
    insta::assert_json_snapshot!("down_json", stable_json(down.json()));
    // A failed run: what applied before the failure, which one failed, and where.
    let failing = fixture("failing");
    let failed_db = TestDb::new("modern_json_fail").await;
    let run = migrate(&["up", "--dir", failing.to_str().unwrap(), "--database-url", &failed_db.url(), "--json"], &[])
        .expect(1);
    filters(Some(&failed_db)).bind(|| insta::assert_json_snapshot!("failed_up_json", stable_json(run.json())));
    failed_db.drop_db().await;
    db.drop_db().await;
}

#[tokio::test]
async fn url_from_parts() {
    let db = TestDb::new("modern_parts").await;
    let options = admin_options();
    let port = options.get_port().to_string();
    let dir = fixture("basic");
    let dir = dir.to_str().unwrap();
    let flags = [
        "up-to",
        "2",
        "--dir",
        dir,
        "--db-host",
        options.get_host(),
        "--db-port",
        &port,
        "--db-user",
        options.get_username(),
        "--db-name",
        &db.name,
        "--db-param",
        "sslmode=disable",
    ];
    migrate(&flags, &[]).expect(0);
    assert_eq!(db.versions().await, ["1", "2"]);
    // The job's variables alone.
    let env = [
        ("POSTGRES_HOST", options.get_host()),
        ("POSTGRES_PORT", port.as_str()),
        ("POSTGRES_USER", options.get_username()),
        ("POSTGRES_DATABASE", db.name.as_str()),
    ];
    migrate(&["up", "--dir", dir], &env).expect(0);
    assert_eq!(db.versions().await, ["1", "2", "3", "4", "5", "6"]);
    db.drop_db().await;
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let db = TestDb::new("modern_dry").await;
    let url = db.url();
    let dir = fixture("basic");
    let dir = dir.to_str().unwrap();
    // A fresh database: the version table is not even created.
    let run = migrate(&["up", "--dir", dir, "--database-url", &url, "--dry-run"], &[]).expect(0);
    filters(Some(&db)).bind(|| insta::assert_snapshot!("dry_run_fresh", run.stdout));
    assert!(!db.has_table("goose_db_version").await);
    assert!(!db.has_table("users").await);
    migrate(&["up-to", "4", "--dir", dir, "--database-url", &url], &[]).expect(0);
    for command in [&["up"][..], &["redo"], &["down-to", "1"], &["reset"]] {
        let mut args = command.to_vec();
        args.extend(["--dir", dir, "--database-url", &url, "--dry-run"]);
        let run = migrate(&args, &[]).expect(0);
        let name = format!("dry_run_{}", command[0]);
        filters(Some(&db)).bind(|| insta::assert_snapshot!(name, run.stdout));
    }
    let json = migrate(&["up", "--dir", dir, "--database-url", &url, "--dry-run", "--json"], &[]).expect(0);
    filters(Some(&db)).bind(|| insta::assert_json_snapshot!("dry_run_json", stable_json(json.json())));
    assert_eq!(db.versions().await, ["1", "2", "3", "4"]);
    // goose's form takes -dry-run as well.
    migrate(&["-dir", dir, "postgres", &url, "reset", "-dry-run"], &[]).expect(0);
    assert_eq!(db.versions().await, ["1", "2", "3", "4"]);
    db.drop_db().await;
}

#[tokio::test]
async fn status_exit_code() {
    let db = TestDb::new("modern_exit").await;
    let url = db.url();
    let dir = fixture("basic");
    let dir = dir.to_str().unwrap();
    migrate(&["status", "--dir", dir, "--database-url", &url, "--exit-code"], &[]).expect(3);
    migrate(&["status", "--dir", dir, "--database-url", &url], &[]).expect(0);
    migrate(&["up", "--dir", dir, "--database-url", &url], &[]).expect(0);
    migrate(&["status", "--dir", dir, "--database-url", &url, "--exit-code"], &[]).expect(0);
    // goose's form too.
    migrate(&["-dir", dir, "postgres", &url, "down"], &[]).expect(0);
    migrate(&["-dir", dir, "-exit-code", "postgres", &url, "status"], &[]).expect(3);
    db.drop_db().await;
}

#[tokio::test]
async fn wait_for_the_database() {
    let db = TestDb::new("modern_wait").await;
    let run = migrate(&["wait", "--database-url", &db.url(), "--timeout", "10s"], &[]).expect(0);
    assert!(run.stderr.contains("accepts connections"), "{}", run.stderr);
    // Nothing listens on port 1: it retries, then gives up with the last error.
    let closed = "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable";
    let run = migrate(&["wait", "--database-url", closed, "--timeout", "1500ms"], &[]).expect(1);
    assert!(run.stderr.contains("waiting for postgres://postgres@127.0.0.1:1/postgres"), "{}", run.stderr);
    assert!(run.stderr.contains("gave up waiting for"), "{}", run.stderr);
    db.drop_db().await;
}

#[tokio::test]
async fn help_completions_and_usage_errors() {
    let help = migrate(&["--help"], &[]).expect(0);
    assert!(help.stdout.contains("Usage: migrate [OPTIONS] <COMMAND>"), "{}", help.stdout);
    let up_help = migrate(&["up", "--help"], &[]).expect(0);
    assert!(up_help.stdout.contains("--database-url <URL>"), "{}", up_help.stdout);
    let help_up = migrate(&["help", "up"], &[]).expect(0);
    assert!(help_up.stdout.contains("Usage: migrate up [OPTIONS]"), "{}", help_up.stdout);
    for shell in ["bash", "zsh", "fish"] {
        let script = migrate(&["completions", shell], &[]).expect(0).stdout;
        assert!(script.contains("up-by-one"), "{shell}");
    }
    let error = migrate(&["up", "--bogus"], &[]).expect(2);
    assert!(error.stderr.contains("--bogus"), "{}", error.stderr);
    let no_db = migrate(&["up"], &[]).expect(2);
    assert!(no_db.stderr.starts_with("error: no database given"), "{}", no_db.stderr);
    let dir = TempDir::new("modern_empty");
    let run = migrate(&["status", "--dir", dir.path(), "--database-url", "postgres://x@127.0.0.1:1/x"], &[]).expect(1);
    assert!(run.stderr.contains("no migration files found"), "{}", run.stderr);
}

/// A flag that does not fit the database is found only once the settings are resolved: with --json it
/// still answers with the failure document, and exits 2 as any usage error.
#[tokio::test]
async fn a_late_usage_error_still_answers_in_json() {
    let dir = fixture("basic");
    let dir = dir.to_str().unwrap();
    let url = "postgres://postgres@127.0.0.1:1/none?sslmode=disable";
    let run =
        migrate(&["status", "--dir", dir, "--database-url", url, "--clickhouse-cluster", "c", "--json"], &[]).expect(2);
    assert!(run.stdout.starts_with(r#"{"command":"status","ok":false,"error":{"message":"#), "{}", run.stdout);
    assert!(run.stdout.contains("--clickhouse-cluster applies to ClickHouse databases only"), "{}", run.stdout);
    assert!(run.stderr.contains("--clickhouse-cluster applies to ClickHouse databases only"), "{}", run.stderr);
}
