//! The commands that need no database: create, fix, init, validate, env.

use crate::support::{filters, fixture, migrate, migrate_in, stable_json, TempDir};

#[test]
fn create_timestamped_and_sequential() {
    let dir = TempDir::new("create");
    let run = migrate(&["-dir", dir.path(), "create", "Add updated_at to users table", "sql"], &[]).expect(0);
    let names = dir.names();
    assert_eq!(names.len(), 1);
    let name = &names[0];
    let (version, rest) = name.split_once('_').unwrap();
    assert!(version.len() == 14 && version.bytes().all(|b| b.is_ascii_digit()), "{name}");
    assert_eq!(rest, "add_updated_at_to_users_table.sql");
    assert!(run.stderr.contains(&format!("Created new file: {}/{name}", dir.path())), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.0.join(name)).unwrap(),
        "-- +goose Up\nSELECT 'up SQL query';\n\n-- +goose Down\nSELECT 'down SQL query';\n"
    );
    // -s: max sequential + 1, timestamps ignored; the modern form's -s too.
    migrate(&["-s", "-dir", dir.path(), "create", "first"], &[]).expect(0);
    migrate(&["create", "$()&^%(_--crazy__--input$)", "--dir", dir.path(), "-s"], &[]).expect(0);
    let names = dir.names();
    assert!(
        names.contains(&"00001_first.sql".to_owned()) && names.contains(&"00002_crazy_input.sql".to_owned()),
        "{names:?}"
    );
    // sql is the default and the only type.
    let go = migrate(&["-dir", dir.path(), "create", "x", "go"], &[]).expect(1);
    assert!(go.stderr.contains("go migrations cannot be created"), "{}", go.stderr);
    let missing = migrate(&["-dir", "/nonexistent/dir", "create", "x"], &[]).expect(1);
    assert!(missing.stderr.contains("does not exist"), "{}", missing.stderr);
    // After DRIVER DBSTRING too, without touching the database.
    migrate(&["-dir", dir.path(), "-s", "postgres", "postgres://x@127.0.0.1:1/x", "create", "third"], &[]).expect(0);
    assert!(dir.names().contains(&"00003_third.sql".to_owned()));
}

#[test]
fn fix_renumbers_timestamps() {
    let dir = TempDir::new("fix");
    for name in ["00001_a.sql", "00003_b.sql", "20240102030406_d.sql", "20240102030405_c.sql"] {
        dir.write(name, "-- +goose Up\nSELECT 1;\n");
    }
    let run = migrate(&["-dir", dir.path(), "fix"], &[]).expect(0);
    assert_eq!(dir.names(), ["00001_a.sql", "00003_b.sql", "00004_c.sql", "00005_d.sql"]);
    filters(None).bind(|| insta::assert_snapshot!(run.stderr));
    let empty = TempDir::new("fix_empty");
    migrate(&["fix", "--dir", empty.path()], &[]).expect(1);
}

#[test]
fn init_creates_the_directory_once() {
    let cwd = TempDir::new("init");
    let run = migrate_in(&cwd.0, &["init"], &[]).expect(0);
    assert!(run.stderr.contains("Created new file: migrations/"), "{}", run.stderr);
    let files: Vec<_> = std::fs::read_dir(cwd.0.join("migrations")).unwrap().collect();
    assert_eq!(files.len(), 1);
    // The first migration is valid.
    migrate_in(&cwd.0, &["validate", "--dir", "migrations"], &[]).expect(0);
    let again = migrate_in(&cwd.0, &["init"], &[]).expect(1);
    assert!(again.stderr.contains("directory already exists: migrations"), "{}", again.stderr);
    migrate_in(&cwd.0, &["-dir", "db", "init"], &[]).expect(0);
    assert!(cwd.0.join("db").is_dir());
}

#[test]
fn validate_table_and_json() {
    let basic = fixture("basic");
    let basic = basic.to_str().unwrap();
    let quiet = migrate(&["-dir", basic, "validate"], &[]).expect(0);
    assert_eq!((quiet.stdout.as_str(), quiet.stderr.as_str()), ("", ""));
    let table = migrate(&["-dir", basic, "-v", "validate"], &[]).expect(0);
    insta::assert_snapshot!("validate_table", table.stdout);
    let json = migrate(&["validate", "--dir", basic, "--json"], &[]).expect(0);
    filters(None).bind(|| insta::assert_json_snapshot!("validate_json", stable_json(json.json())));
    // Files given one by one, ENVSUB applied from the environment; goose's -dir may name one file.
    let dir = TempDir::new("validate");
    dir.write(
        "00007_envsub.sql",
        "-- +goose Up\n-- +goose ENVSUB ON\nCREATE SCHEMA ${APP_SCHEMA:-app};\nSELECT '$REGION';\n",
    );
    let file = dir.0.join("00007_envsub.sql");
    let file = file.to_str().unwrap();
    let json = migrate(&["validate", file, "--json"], &[("REGION", "eu-west")]).expect(0);
    let document = json.json();
    assert_eq!(document["files"][0]["up"][0]["sql"], "CREATE SCHEMA app;");
    assert_eq!(document["files"][0]["up"][1]["sql"], "SELECT 'eu-west';");
    assert_eq!(document["files"][0]["up"][1]["line"], 4);
    migrate(&["-dir", file, "validate"], &[]).expect(0);
}

#[test]
fn validate_reports_every_error_with_file_and_line() {
    let dir = TempDir::new("validate_bad");
    dir.write("00001_ok.sql", "-- +goose Up\nSELECT 1;\n");
    dir.write("00002_unfinished.sql", "-- +goose Up\nSELECT 1;\nSELECT 2\n-- +goose Down\nSELECT 3;\n");
    dir.write("00003_annotation.sql", "-- +goose Up\n  -- +goose StatementBegin\nSELECT 1;\n");
    let run = migrate(&["-dir", dir.path(), "validate"], &[]).expect(1);
    let shown = run.stderr.replace(dir.path(), "[dir]");
    filters(None).bind(|| insta::assert_snapshot!("validate_errors", shown));
    let json = migrate(&["validate", "--dir", dir.path(), "--json"], &[]).expect(1);
    let document = json.json();
    assert_eq!(document["ok"], false);
    assert_eq!(document["files"].as_array().unwrap().len(), 1);
    let errors = document["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["line"], 3);
    assert!(errors[0]["file"].as_str().unwrap().ends_with("00002_unfinished.sql"));
    assert_eq!(errors[1]["line"], 2);
    // Names and duplicates are problems of the directory.
    dir.write("nonumber.sql", "-- +goose Up\nSELECT 1;\n");
    dir.write("01_dup.sql", "-- +goose Up\nSELECT 1;\n");
    let run = migrate(&["validate", "--dir", dir.path()], &[]).expect(1);
    assert!(
        run.stderr.contains("could not parse a migration version")
            && run.stderr.contains("duplicate migration version 1"),
        "{}",
        run.stderr
    );
}

#[test]
fn env_prints_goose_variables_with_the_password_hidden() {
    let cwd = TempDir::new("env");
    cwd.write(".env", "GOOSE_MIGRATION_DIR=from_dotenv\nGOOSE_DRIVER=ignored\n");
    let env = [("GOOSE_DRIVER", "postgres"), ("GOOSE_DBSTRING", "postgres://app:hunter2@db:5432/app?sslmode=disable")];
    let run = migrate_in(&cwd.0, &["-env", ".env", "env"], &env).expect(0);
    insta::assert_snapshot!(run.stdout);
    assert!(!run.stdout.contains("hunter2"));
    // The modern form prints the same variables with the values a run would use, then migrate's own.
    let modern = migrate_in(&cwd.0, &["env"], &env).expect(0);
    assert!(modern.stdout.starts_with(&run.stdout), "{}", modern.stdout);
    assert!(modern.stdout.contains("MIGRATE_DATABASE_FROM=\"GOOSE_DBSTRING\"\n"), "{}", modern.stdout);
    assert!(!modern.stdout.contains("hunter2"));
}

/// The version of each file in the directory.
fn versions(dir: &TempDir) -> Vec<String> {
    dir.names().iter().map(|name| name.split_once('_').unwrap().0.to_owned()).collect()
}

#[test]
fn create_never_reuses_a_version() {
    let dir = TempDir::new("create_same_second");
    // Two creates in a row, almost always within one second.
    migrate(&["-dir", dir.path(), "create", "first", "sql"], &[]).expect(0);
    migrate(&["-dir", dir.path(), "create", "second", "sql"], &[]).expect(0);
    let mut unique = versions(&dir);
    unique.dedup();
    assert_eq!(unique.len(), 2, "{:?}", dir.names());
    migrate(&["-dir", dir.path(), "validate"], &[]).expect(0);

    // Seconds already taken from now on (as by another create, or init, in this second) are skipped.
    let dir = TempDir::new("create_taken_seconds");
    let now = chrono::Utc::now();
    let at = |offset: i64| (now + chrono::TimeDelta::seconds(offset)).format("%Y%m%d%H%M%S").to_string();
    for offset in 0..3 {
        dir.write(&format!("{}_taken_{offset}.sql", at(offset)), "-- +goose Up\nSELECT 1;\n");
    }
    let run = migrate(&["-dir", dir.path(), "create", "third"], &[]).expect(0);
    let mut unique = versions(&dir);
    unique.dedup();
    assert_eq!(unique.len(), 4, "{:?}", dir.names());
    let third = dir.names().into_iter().find(|name| name.ends_with("_third.sql")).unwrap();
    assert!(third > at(2), "{third}");
    assert!(run.stderr.contains(&format!("Created new file: {}/{third}", dir.path())), "{}", run.stderr);

    // init, then create at once.
    let cwd = TempDir::new("init_then_create");
    migrate_in(&cwd.0, &["init"], &[]).expect(0);
    migrate_in(&cwd.0, &["-dir", "migrations", "create", "next"], &[]).expect(0);
    migrate_in(&cwd.0, &["create", "after", "--dir", "migrations"], &[]).expect(0);
    let migrations = TempDir(cwd.0.join("migrations"));
    let mut unique = versions(&migrations);
    unique.dedup();
    assert_eq!(unique.len(), 3, "{:?}", migrations.names());
    migrate_in(&cwd.0, &["validate", "--dir", "migrations"], &[]).expect(0);
    std::mem::forget(migrations); // removed with cwd
}

#[test]
fn validate_reports_duplicates_names_and_parse_errors_together() {
    let dir = TempDir::new("validate_all");
    dir.write("1_a.sql", "-- +goose Up\nSELECT 1;\n");
    dir.write("001_b.sql", "-- +goose Up\nSELECT 1;\n");
    dir.write("2_c.sql", "-- +goose Up\nSELECT 2;\n");
    dir.write("02_d.sql", "-- +goose Up\nSELECT 2;\n");
    dir.write("nonumber.sql", "-- +goose Up\nSELECT 1;\n");
    dir.write("3_unfinished.sql", "-- +goose Up\nSELECT 3\n");
    dir.write("4_bom.sql", "\u{feff}-- +goose Up\nSELECT 4;\n");
    dir.write("5_open_block.sql", "-- +goose Up\n-- +goose StatementBegin\nSELECT 5;\n-- +goose Down\nSELECT 6;\n");
    std::fs::create_dir(dir.0.join("6_a_directory.sql")).unwrap();
    let run = migrate(&["-dir", dir.path(), "validate"], &[]).expect(1);
    let shown = run.stderr.replace(dir.path(), "[dir]");
    filters(None).bind(|| insta::assert_snapshot!("validate_everything_at_once", shown));
    let json = migrate(&["validate", "--dir", dir.path(), "--json"], &[]).expect(1);
    let document = json.json();
    let errors = document["errors"].as_array().unwrap();
    let located: Vec<(String, Option<u64>)> = errors
        .iter()
        .map(|e| {
            let file = e["file"].as_str().unwrap_or("-").replace(dir.path(), "[dir]");
            (file, e["line"].as_u64())
        })
        .collect();
    assert_eq!(
        located,
        [
            ("[dir]/1_a.sql".to_owned(), None),
            ("[dir]/2_c.sql".to_owned(), None),
            ("[dir]/6_a_directory.sql".to_owned(), None),
            ("[dir]/nonumber.sql".to_owned(), None),
            ("[dir]/3_unfinished.sql".to_owned(), Some(2)),
            ("[dir]/4_bom.sql".to_owned(), Some(1)),
            ("[dir]/5_open_block.sql".to_owned(), Some(2)),
        ],
        "{errors:#?}"
    );
    // The files that did resolve are in the document: one of each duplicate pair.
    let files: Vec<&str> = document["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(files, ["001_b.sql", "02_d.sql"]);
}

#[cfg(unix)]
#[test]
fn validate_refuses_a_fifo_without_opening_it() {
    let dir = TempDir::new("validate_fifo");
    dir.write("00001_ok.sql", "-- +goose Up\nSELECT 1;\n");
    let fifo = dir.0.join("00002_pipe.sql");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // Opening a FIFO for reading blocks until a writer comes: bound the run so a regression fails.
    let run_bounded = |args: &[&str]| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_migrate"))
            .args(args)
            .current_dir(&dir.0)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                panic!("migrate {args:?} blocked on the FIFO");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    };
    let fifo = fifo.to_str().unwrap();
    for args in [&["validate", "--dir", dir.path()][..], &["validate", fifo], &["-dir", dir.path(), "validate"]] {
        let output = run_bounded(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{fifo}: is a FIFO (named pipe), not a migration file")),
            "{args:?}: {stderr}"
        );
    }
}
