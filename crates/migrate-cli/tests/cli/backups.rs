//! Backups before a production run, against the real server: taken under the lock only when something
//! is pending, verified, in the JSON report, restorable (restored into a scratch database, the schema
//! compared); a failed required backup applies nothing; an optional one lets the run go on; the restore
//! command is printed when a migration fails after the backup.

use std::path::Path;
use std::process::Command;

use crate::support::{fixture, migrate_in, TempDir, TestDb};

/// A project whose protected prod environment is `db`, backed up as `backup` says.
fn project(db: &TestDb, backup: &str) -> TempDir {
    let dir = TempDir::new("backup_project");
    dir.write(
        "migrate.toml",
        &format!(
            "dir = {:?}\nservice = \"billing\"\n[environments.prod]\n\
             database = {{ host_env = \"PGH\", user = \"postgres\", name = {:?}, params = {{ sslmode = \"disable\" }} }}\n\
             protected = true\n[environments.prod.backup]\n{backup}\n",
            fixture("basic").display().to_string(),
            db.name
        ),
    );
    dir
}

const PROD: &[(&str, &str)] = &[("PGH", "127.0.0.1")];

fn dumps(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// The schema of a database as pg_dump writes it, the database's name and pg_dump's random key left out.
fn schema(db: &TestDb) -> String {
    let output = Command::new("pg_dump")
        .args(["--schema-only", "--no-owner", "--restrict-key=fixed", "--dbname", &db.url()])
        .output()
        .expect("pg_dump (Debian's postgresql-client) is installed by scripts/servers.sh");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).replace(&db.name, "DB")
}

#[tokio::test]
async fn a_backup_is_taken_before_a_run_that_changes_something_and_restores() {
    let db = TestDb::new("backup_taken").await;
    let backups = TempDir::new("backups");
    let dir =
        project(&db, &format!("mode = \"required\"\npath = \"{}/{{database}}_{{timestamp}}.dump\"", backups.path()));
    let run = migrate_in(&dir.0, &["up", "--environment", "prod", "--json"], PROD).expect(0);
    let files = dumps(&backups.0);
    assert_eq!(files.len(), 1, "{files:?}\n{}", run.stderr);
    assert!(files[0].starts_with(&format!("{}_", db.name)) && files[0].ends_with("Z.dump"), "{files:?}");
    let document = run.json();
    let backup = &document["backup"];
    let path = backups.0.join(&files[0]);
    assert_eq!(backup["path"], path.display().to_string());
    assert_eq!(backup["size_bytes"], std::fs::metadata(&path).unwrap().len());
    assert!(backup["entries"].as_u64().is_some_and(|n| n > 0), "{backup}");
    assert!(run.stderr.contains(&format!("backup {} (", path.display())), "{}", run.stderr);
    // Taken before the first statement: the dump holds no migrated table.
    let listing = Command::new("pg_restore").arg("--list").arg(&path).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(!listing.contains("TABLE public users"), "{listing}");
    // Nothing pending: no backup.
    migrate_in(&dir.0, &["up", "--environment", "prod"], PROD).expect(0);
    assert_eq!(dumps(&backups.0).len(), 1);
    // A down takes one too, and that dump restores into a scratch database with the same schema.
    std::thread::sleep(std::time::Duration::from_millis(1100)); // A new {timestamp}.
    let run = migrate_in(&dir.0, &["down", "--environment", "prod", "--yes"], PROD).expect(0);
    let files = dumps(&backups.0);
    assert_eq!(files.len(), 2, "{files:?}\n{}", run.stderr);
    let scratch = TestDb::new("backup_restore").await;
    let restore = Command::new("pg_restore")
        .args(["--no-owner", "--dbname", &scratch.url()])
        .arg(backups.0.join(&files[1]))
        .output()
        .unwrap();
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    migrate_in(&dir.0, &["up", "--environment", "prod"], PROD).expect(0);
    // The database was migrated up again since: roll the scratch copy forward too and compare.
    let scratch_url = scratch.url();
    migrate_in(&dir.0, &["up", "--database-url", &scratch_url, "--dir", fixture("basic").to_str().unwrap()], &[])
        .expect(0);
    assert_eq!(schema(&scratch), schema(&db), "the restored database differs from the one backed up");
    assert_eq!(scratch.versions().await.len(), db.versions().await.len());
    scratch.drop_db().await;
    db.drop_db().await;
}

#[tokio::test]
async fn a_failed_required_backup_applies_nothing() {
    let db = TestDb::new("backup_fails").await;
    let dir = project(&db, "mode = \"required\"\npath = \"/nonexistent-volume/{database}_{timestamp}.dump\"");
    // A dry run says the backup would be taken, and takes none.
    let plan = migrate_in(&dir.0, &["up", "--environment", "prod", "--dry-run"], PROD).expect(0);
    assert!(
        plan.stdout.contains("-- a backup is taken under the lock before the first step (required: nothing runs unless it succeeds): pg_dump to /nonexistent-volume/{database}_{timestamp}.dump\n"),
        "{}",
        plan.stdout
    );
    let run = migrate_in(&dir.0, &["up", "--environment", "prod"], PROD).expect(1);
    assert!(
        run.stderr
            .contains("the backup failed, so nothing was applied: backup directory /nonexistent-volume does not exist"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("OK "), "{}", run.stderr);
    assert!(!db.has_table("users").await);
    assert!(db.column("SELECT count(*)::text FROM goose_db_version WHERE version_id > 0").await == ["0"]);
    // Optional: the failure is a warning and the run goes on.
    let optional = project(&db, "mode = \"optional\"\npath = \"/nonexistent-volume/{database}_{timestamp}.dump\"");
    let run = migrate_in(&optional.0, &["up", "--environment", "prod"], PROD).expect(0);
    assert!(run.stderr.contains("warning: backup failed, and it is optional, so the run goes on"), "{}", run.stderr);
    assert_eq!(db.versions().await.len(), 6);
    db.drop_db().await;
}

#[tokio::test]
async fn a_failure_after_the_backup_prints_the_restore_command() {
    let db = TestDb::new("backup_restore_hint").await;
    let backups = TempDir::new("backups_hint");
    let migrations = TempDir::new("backup_bad");
    migrations.write("00001_ok.sql", "-- +goose Up\nCREATE TABLE t (id int);\n");
    migrations.write("00002_bad.sql", "-- +goose Up\nSELEC 1;\n");
    let dir = project(&db, &format!("path = \"{}/{{database}}.dump\"", backups.path()));
    let run =
        migrate_in(&dir.0, &["up", "--environment", "prod", "--dir", migrations.path(), "--json"], PROD).expect(1);
    let dump = backups.0.join(format!("{}.dump", db.name));
    assert!(dump.exists(), "{}", run.stderr);
    let hint = run
        .stderr
        .lines()
        .find(|l| l.contains("to return to it, run: pg_restore"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(hint.contains(&dump.display().to_string()), "{hint}");
    assert_eq!(run.json()["backup"]["path"], dump.display().to_string());
    db.drop_db().await;
}

#[tokio::test]
async fn a_backup_command_runs_without_a_shell() {
    let db = TestDb::new("backup_command").await;
    let out = TempDir::new("backup_command_out");
    let marker = out.0.join("marker");
    let dir = project(
        &db,
        &format!(
            "command = [\"sh\", \"-c\", \"echo $$MIGRATE_BACKUP_DATABASE {{environment}} > {}; echo s3://bucket/{{database}}\"]\n\
             restore_command = [\"restore-tool\", \"s3://bucket/{{database}}\"]",
            marker.display()
        ),
    );
    let run = migrate_in(&dir.0, &["up", "--environment", "prod"], PROD).expect(0);
    assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), format!("{} prod", db.name));
    assert!(run.stderr.contains(&format!("backup s3://bucket/{}", db.name)), "{}", run.stderr);
    db.drop_db().await;
}
