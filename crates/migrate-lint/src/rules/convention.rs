//! A team's conventions, each off unless `migrate.toml` turns it on: the id column's type, timestamp
//! precision, created_at/updated_at, index names.

use crate::config::LintConfig;
use crate::file::{MigrationFile, RawFinding};
use crate::finding::Severity;
use crate::rules::tables::create_table;
use crate::tokens::tokenize;

/// Other spellings of the same type.
fn canonical_type(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "int8" | "int64" => "bigint".to_string(),
        "int" | "int4" | "integer" | "int32" => "int".to_string(),
        "varchar" | "string" => "text".to_string(),
        _ => lower,
    }
}

const TIMESTAMP_TYPES: &[&str] = &["timestamp", "timestamptz", "datetime64", "time", "timetz"];

/// Runs the convention rules that `config` turns on.
pub(crate) fn check(file: &MigrationFile<'_>, config: &LintConfig, out: &mut Vec<RawFinding>) {
    let options = &config.options;
    for statement in &file.up {
        let tokens = tokenize(statement.text());
        let base = file.statement_offset(statement);
        let mut report = |rule: &str, offset: usize, message: String, fix: String| {
            if config.is_on(rule) {
                out.push(file.at_offset(rule, Severity::Warning, base + offset, statement.line(), message, fix));
            }
        };
        if let Some(index_at) = tokens.iter().take(3).position(|t| t.is("index")) {
            let mut name_at = index_at + 1;
            while tokens
                .get(name_at)
                .is_some_and(|t| t.is("concurrently") || t.is("if") || t.is("not") || t.is("exists"))
            {
                name_at += 1;
            }
            if let Some(name) = tokens.get(name_at).filter(|t| !t.is("on")) {
                if tokens.first().is_some_and(|t| t.is("create")) && !name.name().starts_with(&options.index_prefix) {
                    report(
                        "convention-index-name",
                        name.offset,
                        format!("index {} does not start with {:?}", name.name(), options.index_prefix),
                        format!("rename it {}{}", options.index_prefix, name.name()),
                    );
                }
            }
        }
        constraint_names(&tokens, options, &mut report);
        let Some(table) = create_table(&tokens) else { continue };
        for column in &table.columns {
            let Some(type_token) = column.type_tokens.first() else { continue };
            if column.name.name().eq_ignore_ascii_case("id")
                && canonical_type(type_token.text) != canonical_type(&options.id_type)
            {
                report(
                    "convention-id-column-type",
                    type_token.offset,
                    format!("id is {}, the convention is {}", type_token.text, options.id_type),
                    format!("declare id as {}", options.id_type),
                );
            }
            let is_timestamp = TIMESTAMP_TYPES.iter().any(|t| type_token.is(t));
            if is_timestamp {
                let precision = match (column.type_tokens.get(1), column.type_tokens.get(2)) {
                    (Some(open), Some(number)) if open.text == "(" => number.text.parse::<u32>().ok(),
                    _ => None,
                };
                if precision != Some(options.timestamp_precision) {
                    report(
                        "convention-timestamp-precision",
                        type_token.offset,
                        format!(
                            "{} {} has no precision ({}) as the convention asks",
                            column.name.name(),
                            type_token.text,
                            options.timestamp_precision
                        ),
                        format!("write {}({})", type_token.text, options.timestamp_precision),
                    );
                }
            }
        }
        if !table.columns.is_empty() {
            let has = |name: &str| table.columns.iter().any(|c| c.name.name().eq_ignore_ascii_case(name));
            let missing: Vec<&str> = ["created_at", "updated_at"].into_iter().filter(|n| !has(n)).collect();
            if !missing.is_empty() {
                let offset = tokens.get(table.name_at).map_or(0, |t| t.offset);
                report(
                    "convention-required-timestamps",
                    offset,
                    format!("the table has no {}", missing.join(" and ")),
                    format!(
                        "add {}",
                        missing
                            .iter()
                            .map(|n| format!("{n} timestamptz NOT NULL DEFAULT now()"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
    }
}

/// `CONSTRAINT name PRIMARY KEY | FOREIGN KEY | UNIQUE | CHECK`: the name starts with its kind's prefix.
fn constraint_names(
    tokens: &[crate::tokens::Token<'_>],
    options: &crate::config::RuleOptions,
    report: &mut impl FnMut(&str, usize, String, String),
) {
    let prefixes = &options.constraint_prefixes;
    for (at, token) in tokens.iter().enumerate() {
        if !token.is("constraint") {
            continue;
        }
        let (Some(name), Some(kind)) = (tokens.get(at + 1), tokens.get(at + 2)) else { continue };
        let (prefix, what) = if kind.is("primary") {
            (&prefixes.primary_key, "primary key")
        } else if kind.is("foreign") {
            (&prefixes.foreign_key, "foreign key")
        } else if kind.is("unique") {
            (&prefixes.unique, "unique constraint")
        } else if kind.is("check") {
            (&prefixes.check, "check constraint")
        } else {
            continue;
        };
        if !name.name().starts_with(prefix.as_str()) {
            report(
                "convention-constraint-name",
                name.offset,
                format!("{what} {} does not start with {prefix:?}", name.name()),
                format!("rename it {prefix}{}", name.name()),
            );
        }
    }
}
