//! The JSON documents, built from the library's types and snapshotted.

use std::time::Duration;

use migrate::{
    plan, resolve, status, AppliedRow, Command, Direction, EmbeddedSource, MigrationResult, PlanRequest, RunError,
    Version,
};

use super::*;

static FILES: &[(&str, &str)] = &[
    ("00001_users.sql", "-- +goose Up\nCREATE TABLE users (id int);\n\n-- +goose Down\nDROP TABLE users;\n"),
    ("00002_index.sql", "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON users (id);\n-- +goose Down\nDROP INDEX i;\n"),
    ("00003_empty.sql", "-- +goose Up\n"),
];

fn value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

fn at(text: &str) -> Option<chrono::NaiveDateTime> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()
}

#[test]
fn run_document() {
    let result = |version: i64, name: &str, empty: bool| MigrationResult {
        version: Version::new(version).unwrap(),
        name: name.to_owned(),
        direction: Direction::Up,
        duration: Duration::from_micros(1500),
        empty,
    };
    let document = RunDoc {
        backup: None,
        command: "up",
        ok: true,
        dry_run: false,
        version_before: Some(1),
        version_after: Some(3),
        migrations: vec![
            MigrationDoc::from(&result(2, "00002_index.sql", false)),
            MigrationDoc::from(&result(3, "00003_empty.sql", true)),
        ],
        failed: None,
        error: None,
    };
    let text = render(&document, &Secrets::default());
    assert!(text.ends_with("}\n") && text.lines().count() == 1);
    insta::assert_json_snapshot!(value(&text));
}

#[test]
fn plan_document() {
    let migrations = resolve(&EmbeddedSource::new("migrations", FILES), &[]).unwrap();
    let rows = [AppliedRow::new(1, true, None), AppliedRow::new(0, true, None)];
    let request = PlanRequest { command: Command::Up, allow_missing: false, no_versioning: false };
    let plan = plan(&migrations, &rows, &request, &|_| None).unwrap();
    let steps = plan
        .steps()
        .iter()
        .map(|step| StepDoc::new(step, step.transaction(), Some(format!("INSERT ... ({})", step.version()))))
        .collect();
    let document = PlanDoc {
        command: "up",
        ok: true,
        dry_run: true,
        version_before: plan.current_version(),
        version_table_exists: true,
        steps,
    };
    insta::assert_json_snapshot!(value(&render(&document, &Secrets::default())));
}

#[test]
fn status_document() {
    let migrations = resolve(&EmbeddedSource::new("migrations", FILES), &[]).unwrap();
    let rows = [
        AppliedRow::new(7, true, at("2024-02-04 10:00:00")),
        AppliedRow::new(1, true, at("2024-02-03 12:30:05")),
        AppliedRow::new(0, true, None),
    ];
    let entries = status(&migrations, Some(&rows), &[]);
    let document = StatusDoc::new(&entries, Some(7), &ChecksumStates::default());
    assert_eq!(document.pending, 2);
    insta::assert_json_snapshot!(value(&render(&document, &Secrets::default())));
}

#[test]
fn validate_document() {
    let migrations = resolve(&EmbeddedSource::new("migrations", FILES), &[]).unwrap();
    let lookup = |_: &str| None;
    let parsed: Vec<_> = migrations
        .iter()
        .map(|m| match m.kind() {
            migrate::MigrationKind::Sql { text } => {
                (m, migrate::parse(m.path(), text.get().unwrap(), &lookup).unwrap())
            }
            migrate::MigrationKind::Code(_) => unreachable!(),
        })
        .collect();
    let files = parsed.iter().map(|(m, p)| FileDoc::new(m, p)).collect();
    let error = migrate::parse("migrations/00004_bad.sql", "-- +goose Up\nSELECT 1\n", &lookup).unwrap_err();
    let errors =
        vec![ErrorDoc { message: error.to_string(), file: Some(error.file().into()), line: Some(error.line()) }];
    let document = ValidateDoc { command: "validate", ok: false, files, errors };
    insta::assert_json_snapshot!(value(&render(&document, &Secrets::default())));
}

#[test]
fn failure_documents() {
    let out = Output::plain(crate::redact::Secrets::default());
    let migrations = resolve(&EmbeddedSource::new("migrations", FILES), &[]).unwrap();
    let rows = [AppliedRow::new(0, true, None)];
    let request = PlanRequest { command: Command::Down, allow_missing: false, no_versioning: false };
    let plan_error = plan(&migrations, &rows, &request, &|_| None).unwrap_err();
    let run_error = RunError { applied: Vec::new(), failed: None, kind: plan_error.into() };
    insta::assert_json_snapshot!("failure_run", value(&failure_document("down", &CliError::from(run_error), &out)));
    let timeout = CliError::Timeout(Duration::from_secs(30));
    insta::assert_json_snapshot!("failure_other", value(&failure_document("status", &timeout, &out)));
}
