//! The goose parser, both directions, with ENVSUB on (for half the inputs) and a variable lookup.
//!
//! Input: one flag byte, then the file's bytes (lossily decoded: the resolver rejects non-UTF-8 files
//! before the parser sees them). Besides "no panic", it checks what callers rely on: every statement
//! and error points at a line of the file, statements are trimmed and non-empty, and `parse` agrees
//! with `parse_direction`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use migrate_core::{parse, parse_direction, Direction};

/// A lookup that depends only on the name: unset, set but empty, or a value with characters ENVSUB
/// treats specially (a value is never expanded again). No newline: a value with one makes a statement
/// longer than its lines, and positions past them map past the file.
fn lookup(name: &str) -> Option<String> {
    match name.len() % 4 {
        0 => None,
        1 => Some(String::new()),
        2 => Some(format!("v_{name}")),
        _ => Some("$x ${y} \\$ ; -- +goose Down".to_owned()),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let body = String::from_utf8_lossy(rest);
    let text = if flags & 1 == 1 { format!("-- +goose ENVSUB ON\n{body}") } else { body.into_owned() };
    let lines = text.split('\n').count().max(1);
    let file = "fuzz.sql";

    match parse(file, &text, &lookup) {
        Ok(parsed) => {
            for direction in [Direction::Up, Direction::Down] {
                let alone = parse_direction(file, &text, direction, &lookup)
                    .unwrap_or_else(|error| panic!("parse succeeded but {direction} alone failed: {error}"));
                assert_eq!(alone.statements, parsed.statements(direction), "{direction} statements differ");
                assert_eq!(alone.no_transaction, parsed.no_transaction());
                for statement in parsed.statements(direction) {
                    let body = statement.text();
                    assert!(!body.is_empty(), "empty statement");
                    assert_eq!(body, body.trim(), "untrimmed statement");
                    assert!((1..=lines).contains(&statement.line()), "statement line {} of {lines}", statement.line());
                    let last = statement.line_of_position(body.chars().count());
                    assert!(last >= statement.line() && last <= lines, "position line {last} of {lines}");
                    let _ = statement.line_of_position(usize::MAX);
                }
            }
            for warning in parsed.warnings() {
                assert!((1..=lines).contains(&warning.line), "warning line {} of {lines}", warning.line);
                let _ = warning.to_string();
            }
        }
        Err(error) => {
            assert!((1..=lines).contains(&error.line()), "error line {} of {lines}: {error}", error.line());
            assert!(error.to_string().starts_with("fuzz.sql:"));
        }
    }
});
