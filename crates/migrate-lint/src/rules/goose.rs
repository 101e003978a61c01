//! Rules about the goose file itself: what goose would split wrongly, missing or empty Down sections, a Down
//! that does not undo Up, NO TRANSACTION, and ENVSUB variables.

use migrate_core::Statement;

use crate::file::{annotation, MigrationFile, RawFinding};
use crate::finding::Severity;
use crate::tokens::{tokenize, Token};
use crate::Dialect;

/// Runs the goose-file rules.
pub(crate) fn check(
    file: &MigrationFile<'_>,
    dialect: Dialect,
    pg_major: u32,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Vec<RawFinding>,
) {
    split_bodies(file, out);
    down_section(file, out);
    if dialect == Dialect::Postgres {
        no_transaction(file, pg_major, out);
    }
    envsub(file, lookup, out);
}

/// A statement with an odd number of `$$` was cut inside a dollar-quoted body: goose ends a statement at
/// any line ending with `;` outside StatementBegin/End.
fn split_bodies(file: &MigrationFile<'_>, out: &mut Vec<RawFinding>) {
    for statement in file.up.iter().chain(&file.down) {
        if statement.text().matches("$$").count() % 2 == 1 {
            out.push(
                file.at_statement(
                    "goose-split-body",
                    Severity::Error,
                    statement,
                    "goose splits this $$ body at the first line ending with ';', and the server fails on the piece"
                        .to_string(),
                    "wrap the statement in -- +goose StatementBegin / -- +goose StatementEnd".to_string(),
                ),
            );
        }
    }
}

fn down_section(file: &MigrationFile<'_>, out: &mut Vec<RawFinding>) {
    let Some(down_line) = file.down_line else {
        let line = file.up_line.unwrap_or(1);
        out.push(file.at_line(
            "missing-down",
            Severity::Warning,
            line,
            "no -- +goose Down section: this migration cannot be rolled back".to_string(),
            "add -- +goose Down with the statements that undo Up".to_string(),
        ));
        return;
    };
    let placeholder =
        file.down.len() == 1 && file.down[0].text().to_ascii_lowercase().starts_with("select 'down sql query'");
    if file.down.is_empty() || placeholder {
        out.push(file.at_line(
            "empty-down",
            Severity::Warning,
            down_line,
            "the Down section runs nothing, so a rollback leaves Up's changes in place".to_string(),
            "write the statements that undo Up, or say why not in a comment and ignore this rule".to_string(),
        ));
        return;
    }
    let mut dropped: Vec<String> = file.down.iter().flat_map(|s| dropped_names(s.text())).collect();
    // A Down that puts back the old definition (CREATE OR REPLACE) undoes a replacement too.
    let restored = file.down.iter().filter_map(|s| {
        let replaces = tokenize(s.text()).get(1).is_some_and(|t| t.is("or"));
        replaces.then(|| created_object(s.text()).map(|(_, name, _)| name)).flatten()
    });
    dropped.extend(restored);
    for statement in &file.up {
        let Some((kind, name, table)) = created_object(statement.text()) else { continue };
        let is_dropped = |name: &str| dropped.iter().any(|d| d.eq_ignore_ascii_case(name));
        // An index or trigger goes with its table.
        if !is_dropped(&name) && !table.as_deref().is_some_and(is_dropped) {
            out.push(file.at_statement(
                "down-does-not-undo",
                Severity::Warning,
                statement,
                format!("Up creates {kind} {name} but Down never drops it"),
                format!("add DROP {kind} IF EXISTS {name}; to the Down section"),
            ));
        }
    }
}

/// The last part of a possibly qualified name starting at `tokens[at]`.
fn object_name(tokens: &[Token<'_>], mut at: usize) -> Option<String> {
    let mut name = tokens.get(at)?.name().to_string();
    while tokens.get(at + 1).is_some_and(|t| t.text == ".") {
        at += 2;
        name = tokens.get(at)?.name().to_string();
    }
    Some(name)
}

/// Skips `IF NOT EXISTS` / `IF EXISTS` and `CONCURRENTLY` at `at`.
fn skip_modifiers(tokens: &[Token<'_>], mut at: usize) -> usize {
    loop {
        match tokens.get(at) {
            Some(t) if t.is("if") => at += if tokens.get(at + 1).is_some_and(|t| t.is("not")) { 3 } else { 2 },
            Some(t) if t.is("concurrently") => at += 1,
            _ => return at,
        }
    }
}

const CREATABLE: &[&str] = &[
    "table",
    "index",
    "view",
    "type",
    "sequence",
    "function",
    "trigger",
    "schema",
    "extension",
    "domain",
    "dictionary",
];

/// What a CREATE statement creates: its kind (upper case), unqualified name, and for an index or trigger
/// the table it is on.
fn created_object(text: &str) -> Option<(String, String, Option<String>)> {
    let tokens = tokenize(text);
    let mut at = 1;
    if !tokens.first()?.is("create") {
        return None;
    }
    if tokens.get(at).is_some_and(|t| t.is("or")) {
        at += 2;
    }
    while tokens
        .get(at)
        .is_some_and(|t| ["unique", "materialized", "temporary", "temp", "unlogged"].iter().any(|k| t.is(k)))
    {
        at += 1;
    }
    let kind = tokens.get(at)?;
    if !CREATABLE.iter().any(|k| kind.is(k)) {
        return None;
    }
    let name_at = skip_modifiers(&tokens, at + 1);
    // An index without a name (CREATE INDEX ON t ...) has nothing to drop by name.
    if tokens.get(name_at).is_some_and(|t| t.is("on")) {
        return None;
    }
    let table = if kind.is("index") || kind.is("trigger") {
        tokens.iter().skip(name_at).position(|t| t.is("on")).and_then(|on| {
            let at = name_at + on + 1;
            let at = if tokens.get(at).is_some_and(|t| t.is("only")) { at + 1 } else { at };
            object_name(&tokens, at)
        })
    } else {
        None
    };
    Some((kind.text.to_ascii_uppercase(), object_name(&tokens, name_at)?, table))
}

/// The names a Down statement drops or renames away.
fn dropped_names(text: &str) -> Vec<String> {
    let tokens = tokenize(text);
    let mut names = Vec::new();
    let Some(first) = tokens.first() else { return names };
    if !first.is("drop") {
        return names;
    }
    let mut at = 1;
    while tokens.get(at).is_some_and(|t| t.is("materialized") || CREATABLE.iter().any(|k| t.is(k))) {
        at += 1;
    }
    at = skip_modifiers(&tokens, at);
    // DROP TABLE a, b, c.
    while let Some(name) = object_name(&tokens, at) {
        names.push(name);
        let Some(comma) = tokens.iter().skip(at).position(|t| t.text == "," || t.text == ";" || t.text == "(") else {
            break;
        };
        let next = at + comma;
        if tokens.get(next).is_some_and(|t| t.text == ",") {
            at = next + 1;
        } else {
            break;
        }
    }
    names
}

/// Statements PostgreSQL refuses inside a transaction block.
fn needs_no_transaction(statement: &Statement<'_>, pg_major: u32) -> Option<&'static str> {
    let tokens = tokenize(statement.text());
    let first = tokens.first()?;
    if first.is("vacuum") {
        return Some("VACUUM");
    }
    if (first.is("create") || first.is("drop")) && tokens.get(1).is_some_and(|t| t.is("database")) {
        return Some("CREATE/DROP DATABASE");
    }
    if first.is("alter") && tokens.get(1).is_some_and(|t| t.is("system")) {
        return Some("ALTER SYSTEM");
    }
    let concurrently = tokens.iter().take(8).any(|t| t.is("concurrently"));
    if concurrently && (first.is("create") || first.is("drop") || first.is("reindex") || first.is("repack")) {
        return Some("CONCURRENTLY");
    }
    let detach = tokens.windows(2).any(|w| w[0].is("detach") && w[1].is("partition"));
    if first.is("alter") && detach && tokens.iter().any(|t| t.is("concurrently")) {
        return Some("DETACH PARTITION ... CONCURRENTLY");
    }
    let add_value = first.is("alter")
        && tokens.get(1).is_some_and(|t| t.is("type"))
        && tokens.windows(2).any(|w| w[0].is("add") && w[1].is("value"));
    if add_value && pg_major < 12 {
        return Some("ALTER TYPE ... ADD VALUE before PostgreSQL 12");
    }
    None
}

fn no_transaction(file: &MigrationFile<'_>, pg_major: u32, out: &mut Vec<RawFinding>) {
    let mut any_needed = false;
    for statement in &file.up {
        let Some(what) = needs_no_transaction(statement, pg_major) else { continue };
        any_needed = true;
        if !file.no_transaction {
            out.push(file.at_statement(
                "no-transaction-required",
                Severity::Error,
                statement,
                format!("{what} cannot run inside a transaction block, and goose runs this migration in one"),
                "add -- +goose NO TRANSACTION to the file (goose then runs each statement on its own)".to_string(),
            ));
        }
    }
    if file.no_transaction && !any_needed && !file.up.is_empty() {
        let line = (1..=file.index.line_count())
            .find(|&line| annotation(file.index.line_text(line)).as_deref() == Some("no transaction"))
            .unwrap_or(1);
        out.push(file.at_line(
            "no-transaction-unneeded",
            Severity::Warning,
            line,
            "NO TRANSACTION without a statement that needs it: a failure half-way leaves a partly applied migration".to_string(),
            "remove -- +goose NO TRANSACTION".to_string(),
        ));
    }
}

/// `${NAME}` references without a default inside ENVSUB ON regions, whose variable is not set.
fn envsub(file: &MigrationFile<'_>, lookup: &dyn Fn(&str) -> Option<String>, out: &mut Vec<RawFinding>) {
    let mut on = false;
    for line in 1..=file.index.line_count() {
        let text = file.index.line_text(line);
        match annotation(text).as_deref() {
            Some("envsub on") => on = true,
            Some("envsub off") => on = false,
            _ if on => {
                let mut rest = text;
                let mut consumed = 0;
                while let Some(start) = rest.find("${") {
                    let Some(length) = rest.get(start..).and_then(|r| r.find('}')) else { break };
                    let inner = rest.get(start + 2..start + length).unwrap_or("");
                    let has_default = inner.contains(['-', '=', '?', '+', ':']);
                    if !has_default && !inner.is_empty() && lookup(inner).is_none() {
                        let column = text.get(..consumed + start).map_or(0, |p| p.chars().count()) + 1;
                        out.push(RawFinding {
                            rule: "envsub-unset".to_string(),
                            severity: Severity::Error,
                            line,
                            column,
                            message: format!("ENVSUB variable {inner} is not set and has no default: goose substitutes an empty string"),
                            fix: format!("set {inner}, or write ${{{inner}:-default}}"),
                            anchor: file.up_statement_line_at(line),
                        });
                    }
                    consumed += start + length + 1;
                    rest = rest.get(start + length + 1..).unwrap_or("");
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{created_object, dropped_names};

    #[test]
    fn created_and_dropped_names_match_unqualified() {
        assert_eq!(
            created_object("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS a.i ON t (x);"),
            Some(("INDEX".into(), "i".into(), Some("t".into())))
        );
        assert_eq!(
            created_object("CREATE TRIGGER tr BEFORE INSERT ON ONLY s.t FOR EACH ROW EXECUTE FUNCTION f();"),
            Some(("TRIGGER".into(), "tr".into(), Some("t".into())))
        );
        assert_eq!(
            created_object("create or replace function f() returns int"),
            Some(("FUNCTION".into(), "f".into(), None))
        );
        assert_eq!(created_object("CREATE INDEX ON t (x);"), None);
        assert_eq!(dropped_names("DROP TABLE IF EXISTS a, s.b CASCADE;"), ["a", "b"]);
    }
}
