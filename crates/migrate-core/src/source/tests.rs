//! Resolver tests over real directories and embedded files.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::source::{resolve, CodeMigrationInfo, DirectorySource, EmbeddedSource, MigrationSource};
use crate::Version;

/// A fresh directory holding the given files (`name` ending in `/` makes a directory).
fn dir_with(files: &[(&str, &[u8])]) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "migrate-core-source-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, contents) in files {
        if let Some(sub) = name.strip_suffix('/') {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        } else {
            std::fs::write(dir.join(name), contents).unwrap();
        }
    }
    dir
}

fn check(files: &[(&str, &[u8])], code: &[i64], expected: &str) {
    let dir = dir_with(files);
    let code: Vec<CodeMigrationInfo> = code
        .iter()
        .map(|&v| CodeMigrationInfo {
            version: Version::new(v).unwrap(),
            name: format!("code_{v}"),
            transaction: true,
            has_up: true,
            has_down: true,
        })
        .collect();
    let got = match resolve(&DirectorySource::new(&dir), &code) {
        Ok(migrations) => {
            migrations.iter().map(|m| format!("{}={}", m.version(), m.name())).collect::<Vec<_>>().join(" ")
        }
        Err(error) => {
            error.to_string().replace(&format!("{}/", dir.display()), "").replace(&dir.display().to_string(), "DIR")
        }
    };
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(got, expected);
}

const SQL: &[u8] = b"-- +goose Up\nSELECT 1;\n";

#[test]
fn directory_rules() {
    check(&[("002_b.sql", SQL), ("10_c.sql", SQL), ("1_a.sql", SQL)], &[], "1=1_a.sql 2=002_b.sql 10=10_c.sql");
    // Only top-level `*.sql` (case-sensitive) and code files count; other files and subdirectories do not.
    check(
        &[
            ("1_a.sql", SQL),
            ("README.md", b"x"),
            ("2_b.SQL", SQL),
            ("sub/", b""),
            ("mod.rs", b""),
            ("3_t_test.go", b""),
        ],
        &[],
        "1=1_a.sql",
    );
    check(&[("+7_plus.sql", SQL)], &[], "7=+7_plus.sql");
    check(
        &[("1_a.sql", SQL), ("abc.sql", SQL), ("0_zero.sql", SQL)],
        &[],
        "0_zero.sql: could not parse a migration version from the file name: version 0 is less than 1\n\
         abc.sql: could not parse a migration version from the file name: no '_' after the version: name migrations like 00001_create_users.sql",
    );
    check(
        &[("1_a.sql", SQL), ("001_b.sql", SQL)],
        &[],
        "duplicate migration version 1: 001_b.sql and 1_a.sql; give one of them a new version",
    );
    check(&[], &[], "DIR: no migration files found; add one with `migrate create NAME sql`");
}

#[test]
fn a_directory_reads_a_file_only_when_its_text_is_needed() {
    let dir = dir_with(&[("1_bad.sql", b"-- +goose Up\nSELECT '\xff';\n"), ("2_ok.sql", SQL)]);
    let migrations = resolve(&DirectorySource::new(&dir), &[]).unwrap();
    let text = |index: usize| match migrations[index].kind() {
        crate::MigrationKind::Sql { text } => text.get().map(str::to_owned).map_err(|e| e.to_string()),
        crate::MigrationKind::Code(_) => panic!("not SQL"),
    };
    assert_eq!(text(1).unwrap(), "-- +goose Up\nSELECT 1;\n");
    let error = text(0).unwrap_err();
    assert_eq!(error, format!("{}:2: the file is not valid UTF-8; save it as UTF-8", dir.join("1_bad.sql").display()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn code_migrations() {
    check(
        &[("1_a.sql", SQL), ("2_b.go", b""), ("3_c.rs", b"")],
        &[],
        "2_b.go: code migration file with no registered code migration for version 2; register it in the library or remove the file\n\
         3_c.rs: code migration file with no registered code migration for version 3; register it in the library or remove the file",
    );
    check(&[("1_a.sql", SQL), ("2_b.rs", b"")], &[2], "1=1_a.sql 2=code_2");
    check(&[("1_a.sql", SQL)], &[5], "1=1_a.sql 5=code_5");
    check(
        &[("1_a.sql", SQL)],
        &[1],
        "duplicate migration version 1: code migration 1 (code_1) and 1_a.sql; give one of them a new version",
    );
}

#[test]
fn missing_directory() {
    let error = resolve(&DirectorySource::new("/nonexistent/migrations"), &[]).unwrap_err();
    assert_eq!(error.to_string(), "/nonexistent/migrations: migrations directory does not exist");
}

#[test]
fn embedded_and_directory_sources_resolve_alike() {
    static FILES: &[(&str, &str)] =
        &[("2_b.sql", "-- +goose Up\nSELECT 2;\n"), ("1_a.sql", "-- +goose Up\nSELECT 1;\n")];
    let dir = dir_with(&[("2_b.sql", FILES[0].1.as_bytes()), ("1_a.sql", FILES[1].1.as_bytes())]);
    let from_dir = resolve(&DirectorySource::new(&dir), &[]).unwrap();
    let from_embedded = resolve(&EmbeddedSource::new("migrations", FILES), &[]).unwrap();
    let key = |list: &[crate::Migration]| {
        list.iter().map(|m| (m.version(), m.name().to_owned(), m.kind().clone())).collect::<Vec<_>>()
    };
    assert_eq!(key(&from_dir), key(&from_embedded));
    // Files read beforehand resolve the same way, whatever their order.
    let from_files = crate::resolve_files(DirectorySource::new(&dir).files().unwrap(), &[]).unwrap();
    assert_eq!(key(&from_files), key(&from_dir));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(from_embedded[0].path(), "migrations/1_a.sql");
    assert!(EmbeddedSource::new("m", &[]).files().is_err());
}

#[test]
fn entries_named_like_migrations_must_be_regular_files() {
    // A directory named like a migration is refused with its path, with the directory's other problems.
    check(
        &[("1_a.sql", SQL), ("00002_x.sql/", b""), ("x.sql/", b""), ("abc.sql", SQL)],
        &[],
        "00002_x.sql: is a directory, not a migration file; migrations must be regular files (or links to them): \
         rename it so that it does not end in .sql, or move it out of the migrations directory\n\
         abc.sql: could not parse a migration version from the file name: no '_' after the version: name migrations like 00001_create_users.sql\n\
         x.sql: is a directory, not a migration file; migrations must be regular files (or links to them): \
         rename it so that it does not end in .sql, or move it out of the migrations directory",
    );
    // Other directories, and directories named like code files, are not migrations: skipped as before.
    check(&[("1_a.sql", SQL), ("2_b.go/", b""), ("sub/", b"")], &[], "1=1_a.sql");
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_and_links_count_by_their_target() {
    let dir = dir_with(&[("00001_a.sql", SQL), ("target/", b""), ("real.txt", SQL)]);
    let status = std::process::Command::new("mkfifo").arg(dir.join("00003_pipe.sql")).status().unwrap();
    assert!(status.success());
    std::os::unix::fs::symlink(dir.join("real.txt"), dir.join("00002_link.sql")).unwrap();
    std::os::unix::fs::symlink(dir.join("target"), dir.join("00004_dirlink.sql")).unwrap();
    let error = resolve(&DirectorySource::new(&dir), &[]).unwrap_err();
    let shown = error.to_string().replace(&format!("{}/", dir.display()), "");
    assert_eq!(
        shown,
        "00003_pipe.sql: is a FIFO (named pipe), not a migration file; migrations must be regular files (or links \
         to them): rename it so that it does not end in .sql, or move it out of the migrations directory\n\
         00004_dirlink.sql: is a directory, not a migration file; migrations must be regular files (or links to \
         them): rename it so that it does not end in .sql, or move it out of the migrations directory"
    );
    // What did resolve is kept for checks that report everything (validate): the file and the linked file.
    let names: Vec<&str> = error.resolved().iter().map(crate::Migration::name).collect();
    assert_eq!(names, ["00001_a.sql", "00002_link.sql"]);
    let crate::MigrationKind::Sql { text } = error.resolved()[1].kind() else { panic!("not SQL") };
    assert_eq!(text.get().unwrap(), "-- +goose Up\nSELECT 1;\n");
    // The same for a file named by path.
    assert!(matches!(
        crate::FileContents::from_path(dir.join("00003_pipe.sql")).unwrap(),
        crate::FileContents::NotAFile { what: "a FIFO (named pipe)" }
    ));
    assert!(matches!(
        crate::FileContents::from_path(dir.join("00002_link.sql")).unwrap(),
        crate::FileContents::Disk(_)
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn problems_keep_what_resolved() {
    let dir = dir_with(&[("1_a.sql", SQL), ("001_b.sql", SQL), ("01_c.sql", SQL), ("2_d.sql", SQL), ("bad.sql", SQL)]);
    let error = resolve(&DirectorySource::new(&dir), &[]).unwrap_err();
    let shown = error.to_string().replace(&format!("{}/", dir.display()), "");
    // Every duplicate of a version is reported, against the first in name order.
    assert_eq!(
        shown,
        "duplicate migration version 1: 001_b.sql and 01_c.sql; give one of them a new version\n\
         duplicate migration version 1: 001_b.sql and 1_a.sql; give one of them a new version\n\
         bad.sql: could not parse a migration version from the file name: no '_' after the version: name migrations like 00001_create_users.sql"
    );
    let names: Vec<&str> = error.resolved().iter().map(crate::Migration::name).collect();
    assert_eq!(names, ["001_b.sql", "2_d.sql"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
