//! Parser tests: the fixtures under `fixtures/parser` (each with a hand-derived `.expected` golden file and
//! an insta snapshot of the full output and messages), inline cases, and the real-world corpus.

use std::fmt::Write;
use std::path::Path;

use crate::parser::{parse, parse_direction, ParseError};
use crate::Direction;

/// The variables goose's own envsub tests run with.
fn fixture_env(name: &str) -> Option<String> {
    match name {
        "GOOSE_ENV_REGION" => Some("us_east_".to_owned()),
        "GOOSE_ENV_SET_BUT_EMPTY_VALUE" => Some(String::new()),
        "GOOSE_ENV_NAME" => Some("foo".to_owned()),
        _ => None,
    }
}

fn kind_name(error: &ParseError) -> String {
    let debug = format!("{:?}", error.kind());
    debug.split([' ', '{', '(']).next().unwrap_or_default().to_owned()
}

/// Renders a parse in the `.expected` format (see fixtures/parser/README.md).
fn render_golden(file: &str, bytes: &[u8], lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let line = 1 + bytes[..error.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
            return format!("error: - @{line} NotUtf8\n");
        }
    };
    if let Err(error) = parse_direction(file, text, Direction::Up, lookup) {
        return format!("error: up @{} {}\n", error.line(), kind_name(&error));
    }
    let parsed = match parse(file, text, lookup) {
        Ok(parsed) => parsed,
        Err(error) => return format!("error: down @{} {}\n", error.line(), kind_name(&error)),
    };
    let mut out = format!("no_transaction: {}\n", parsed.no_transaction());
    for warning in parsed.warnings() {
        writeln!(out, "warning: @{} EmptyStatementBlock", warning.line).unwrap();
    }
    for direction in [Direction::Up, Direction::Down] {
        for (index, statement) in parsed.statements(direction).iter().enumerate() {
            writeln!(out, "=== {direction} {} @{}\n{}", index + 1, statement.line(), statement.text()).unwrap();
        }
    }
    out
}

/// The human-readable snapshot: the golden rendering plus every message as users see it.
fn render_snapshot(file: &str, bytes: &[u8]) -> String {
    let mut out = render_golden(file, bytes, &fixture_env);
    if let Ok(text) = std::str::from_utf8(bytes) {
        match parse(file, text, &fixture_env) {
            Ok(parsed) => {
                for warning in parsed.warnings() {
                    writeln!(out, "message: {warning}").unwrap();
                }
            }
            Err(error) => writeln!(out, "message: {error}").unwrap(),
        }
    }
    out
}

#[test]
fn fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/parser").canonicalize().unwrap();
    let mut checked = 0;
    insta::glob!("../../../../fixtures/parser", "**/*.sql", |path| {
        let bytes = std::fs::read(path).unwrap();
        let relative = path.strip_prefix(&root).unwrap_or(path).display().to_string();
        let expected_path = path.with_extension("expected");
        let expected =
            std::fs::read_to_string(&expected_path).unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let golden = render_golden(&relative, &bytes, &fixture_env);
        assert_eq!(golden, expected, "{relative}: parse differs from {}", expected_path.display());
        insta::assert_snapshot!(render_snapshot(&relative, &bytes));
        checked += 1;
    });
    assert!(checked >= 40, "only {checked} parser fixtures found");
}

fn check(text: &str, expected: &str) {
    let got = render_snapshot("inline.sql", text.as_bytes());
    assert_eq!(got, expected, "input:\n{text}");
}

#[test]
fn semicolon_rules() {
    // goose's TestSemicolons: the last word before the first `--` word must end with `;`.
    let ends = |line: &str| super::ends_with_semicolon(line);
    assert!(ends("END;"));
    assert!(ends("END; -- comment"));
    assert!(ends("END   ; -- comment"));
    assert!(!ends("END -- comment ;"));
    assert!(!ends("END \" ; \" -- comment"));
    assert!(!ends("SELECT 1;-- no space"));
    assert!(!ends("SELECT 2 ;--x"));
    assert!(ends("a--b;"));
    assert!(ends("x;\u{a0}"));
    assert!(!ends(""));
    // Lone dashes are no comment; a `--` at the very end is.
    assert!(ends("SELECT 1 - -1;"));
    assert!(ends("SELECT 'a-b';"));
    assert!(ends("SELECT 1; --"));
    assert!(!ends("SELECT 1 --"));
    assert!(!ends("-"));
}

#[test]
fn inline_cases() {
    check("-- +goose Up\n", "no_transaction: false\n");
    check(
        "-- +goose Up\nSELECT 1; SELECT 2; -- one\n-- +goose Down\nSELECT 3;",
        "no_transaction: false\n=== up 1 @2\nSELECT 1; SELECT 2; -- one\n=== down 1 @4\nSELECT 3;\n",
    );
    check("-- +goose Up\r\nSELECT\r\n 1;\r\n", "no_transaction: false\n=== up 1 @2\nSELECT\n 1;\n");
    check(
        "",
        "error: up @1 NoUpAnnotation\nmessage: inline.sql:1: no \"-- +goose Up\" annotation: a migration starts with \"-- +goose Up\"\n",
    );
}

#[test]
fn statements_borrow_the_file_text() {
    let text = "-- +goose Up\nCREATE TABLE a (\n  id int\n);\n-- +goose Down\nDROP TABLE a;\n";
    let parsed = parse("f.sql", text, &|_| None).unwrap();
    for direction in [Direction::Up, Direction::Down] {
        for statement in parsed.statements(direction) {
            assert!(matches!(statement.text, std::borrow::Cow::Borrowed(_)), "{statement:?}");
        }
    }
}

#[test]
fn error_positions_map_to_file_lines() {
    let text = "-- +goose Up\n\nCREATE TABLE a (\n  id int,\n  oops\n);\n";
    let parsed = parse("f.sql", text, &|_| None).unwrap();
    let statement = &parsed.statements(Direction::Up)[0];
    assert_eq!(statement.line(), 3);
    let position = statement.text().find("oops").unwrap() + 1;
    assert_eq!(statement.line_of_position(position), 5);
}

#[test]
fn long_lines_are_fine() {
    let long = "x".repeat(5 << 20);
    let text = format!("-- +goose Up\nSELECT '{long}';\n");
    let parsed = parse("f.sql", &text, &|_| None).unwrap();
    assert_eq!(parsed.statements(Direction::Up)[0].text().len(), long.len() + 10);
}

/// Every goose folder of the shared corpus parses, except where goose itself rejects a file.
#[test]
fn corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if !root.is_dir() {
        eprintln!("corpus: {} not present, nothing to check", root.display());
        return;
    }
    // The values the corpus INDEX used for the folders that rely on ENVSUB.
    let env = |name: &str| -> Option<String> {
        match name {
            "CLICKHOUSE_KAFKA_BOOTSTRAP_SERVERS" => Some("kafka:9092".into()),
            "CLICKHOUSE_KAFKA_CONSUMER_GROUP" => Some("clickhouse".into()),
            "CLICKHOUSE_KAFKA_NUM_CONSUMERS" => Some("1".into()),
            "PTOLEMY_CLICKHOUSE_DATABASE" => Some("corpus_db".into()),
            name if name.ends_with("_TOPIC_NAME") => Some(name.to_lowercase()),
            _ => None,
        }
    };
    let mut summary = String::new();
    let mut dirs: Vec<_> = walk_dirs(&root);
    dirs.sort();
    let mut n_files = 0;
    for dir in dirs {
        let source = crate::DirectorySource::new(&dir);
        let migrations = crate::resolve(&source, &[]).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let relative = dir.strip_prefix(&root).unwrap().display().to_string();
        writeln!(summary, "{relative}: {} files", migrations.len()).unwrap();
        for migration in &migrations {
            n_files += 1;
            let crate::MigrationKind::Sql { text } = migration.kind() else { unreachable!() };
            let name = format!("{relative}/{}", migration.name());
            let text = text.get().unwrap();
            match parse(&name, text, &env) {
                Ok(parsed) => {
                    for warning in parsed.warnings() {
                        writeln!(summary, "  warning {warning}").unwrap();
                    }
                }
                Err(error) => {
                    writeln!(summary, "  {error}").unwrap();
                    // goose rejects only gocuration's Down sections (INDEX.md: statements without `;`).
                    assert!(
                        relative.starts_with("ikeikeikeike__gocuration")
                            && error.direction() == Some(Direction::Down)
                            && matches!(error.kind(), crate::ParseErrorKind::MissingSemicolon { .. }),
                        "unexpected corpus error: {error}"
                    );
                    assert!(parse_direction(&name, text, Direction::Up, &env).is_ok());
                }
            }
        }
    }
    assert!(n_files > 200, "corpus has only {n_files} files");
    insta::assert_snapshot!(summary);
}

fn walk_dirs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut has_sql = false;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk_dirs(&path));
        } else if path.extension().is_some_and(|e| e == "sql") {
            has_sql = true;
        }
    }
    if has_sql {
        found.push(dir.to_path_buf());
    }
    found
}

#[test]
fn deep_envsub_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 25_000;
    let nested = format!("{}x{}", "${A:-".repeat(depth), "}".repeat(depth));
    let text = format!("-- +goose Up\n-- +goose ENVSUB ON\nSELECT '{nested}';\n");
    let error = parse("f.sql", &text, &|_| None).unwrap_err();
    assert_eq!(error.line(), 3);
    let message = error.to_string();
    assert!(message.starts_with("f.sql:3: ENVSUB: \"${...}\" expansions nested more than 64 deep"), "{message}");
    // Without ENVSUB the line is plain SQL.
    let plain = text.replace("-- +goose ENVSUB ON\n", "");
    assert_eq!(parse("f.sql", &plain, &|_| None).unwrap().statements(Direction::Up).len(), 1);
}
