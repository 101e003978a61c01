//! ClickHouse rules, over our tokenizer: no published Rust parser reads ClickHouse's DDL dialect (engines,
//! ON CLUSTER, SETTINGS) well enough to be worth its build.

use std::collections::HashSet;

use migrate_core::Statement;

use crate::config::LintConfig;
use crate::file::{MigrationFile, RawFinding};
use crate::finding::Severity;
use crate::rules::tables::create_table;
use crate::tokens::{tokenize, Token};

/// What the ClickHouse rules remember across the files of one run, in version order.
#[derive(Debug, Default)]
pub(crate) struct ClickHouseState {
    /// Tables created so far, unqualified and lowercased.
    created: HashSet<String>,
    /// Databases the migrations create themselves (a schema of several databases names them on purpose).
    databases: HashSet<String>,
}

struct Check<'f, 'a> {
    file: &'f MigrationFile<'a>,
    statement: &'f Statement<'a>,
    base: usize,
    out: &'f mut Vec<RawFinding>,
}

impl Check<'_, '_> {
    fn report(&mut self, rule: &str, token: &Token<'_>, message: String, fix: String) {
        let offset = self.base + token.offset;
        let severity = crate::catalog::rule_info(rule).and_then(|r| r.default_severity).unwrap_or(Severity::Warning);
        self.out.push(self.file.at_offset(rule, severity, offset, self.statement.line(), message, fix));
    }
}

/// Runs the ClickHouse rules on the Up statements.
pub(crate) fn check(
    file: &MigrationFile<'_>,
    config: &LintConfig,
    state: &mut ClickHouseState,
    out: &mut Vec<RawFinding>,
) {
    let mut mutations_sync_set = false;
    for statement in &file.up {
        let tokens = tokenize(statement.text());
        let Some(first) = tokens.first() else { continue };
        let mut check = Check { file, statement, base: file.statement_offset(statement), out };
        if first.is("set") && tokens.iter().any(|t| t.is("mutations_sync")) {
            mutations_sync_set = true;
        }
        let is_ddl =
            first.is("create") || first.is("alter") || first.is("drop") || first.is("rename") || first.is("truncate");
        if config.cluster && is_ddl && !tokens.windows(2).any(|w| w[0].is("on") && w[1].is("cluster")) {
            check.report(
                "clickhouse-missing-on-cluster",
                first,
                "cluster mode: this DDL runs on one host only".to_string(),
                "add ON CLUSTER '{cluster}' after the object name".to_string(),
            );
        }
        if first.is("create") {
            create(&mut check, &tokens, config, state);
        } else if first.is("alter") {
            alter(&mut check, &tokens, mutations_sync_set);
        } else if first.is("drop") {
            let if_exists = tokens.iter().take(6).any(|t| t.is("if"));
            if !if_exists {
                check.report(
                    "clickhouse-drop-without-if-exists",
                    first,
                    "DROP without IF EXISTS fails when the object is already gone (a re-run after a partial failure)"
                        .to_string(),
                    "write DROP ... IF EXISTS".to_string(),
                );
            }
        } else if first.is("optimize") {
            if let Some(final_token) = tokens.iter().find(|t| t.is("final")) {
                check.report(
                    "clickhouse-optimize-final",
                    final_token,
                    "OPTIMIZE ... FINAL rewrites every part of the table, a long heavy merge".to_string(),
                    "let background merges work, or OPTIMIZE one PARTITION without FINAL".to_string(),
                );
            }
        }
    }
}

fn create(check: &mut Check<'_, '_>, tokens: &[Token<'_>], config: &LintConfig, state: &mut ClickHouseState) {
    let materialized = tokens.iter().take(4).any(|t| t.is("materialized"));
    if materialized && tokens.iter().take(6).any(|t| t.is("view")) {
        let as_at = tokens.iter().position(|t| t.is("as")).unwrap_or(tokens.len());
        let has_to = tokens.iter().take(as_at).any(|t| t.is("to"));
        if !has_to {
            check.report(
                "clickhouse-materialized-view-without-to",
                &tokens[0],
                "a MATERIALIZED VIEW without TO keeps its rows in a hidden .inner table, hard to alter or backfill"
                    .to_string(),
                "create the target table first and write CREATE MATERIALIZED VIEW ... TO target AS SELECT ..."
                    .to_string(),
            );
        }
    }
    if tokens.get(1).is_some_and(|t| t.is("database")) {
        let at = if tokens.get(2).is_some_and(|t| t.is("if")) { 5 } else { 2 };
        if let Some(name) = tokens.get(at) {
            state.databases.insert(name.name().to_ascii_lowercase());
        }
        return;
    }
    hardcoded_database(check, tokens, config, state);
    let Some(table) = create_table(tokens) else { return };
    if let Some(name) = tokens.get(table.name_at) {
        state.created.insert(name.name().to_ascii_lowercase());
    }
    let engine_at = table.rest.iter().position(|t| t.is("engine"));
    let engine = engine_at.and_then(|at| table.rest.get(at + 1..)).and_then(|rest| rest.iter().find(|t| t.text != "="));
    if let Some(engine) = engine {
        if config.cluster && engine.text.ends_with("MergeTree") && !engine.text.starts_with("Replicated") {
            check.report(
                "clickhouse-non-replicated-engine",
                engine,
                format!("cluster mode: {} keeps its data on one replica", engine.text),
                format!("use Replicated{}", engine.text),
            );
        }
        if engine.text == "Distributed" {
            distributed(check, table.rest, engine, state);
        }
    }
    nullable_in_order_by(check, &table);
}

/// `Distributed(cluster, database, table, ...)`: the local table must exist by now.
fn distributed(check: &mut Check<'_, '_>, rest: &[Token<'_>], engine: &Token<'_>, state: &ClickHouseState) {
    let Some(engine_at) = rest.iter().position(|t| std::ptr::eq(t, engine)) else { return };
    // The top-level arguments (`currentDatabase()` has parentheses of its own); the table is the third.
    let mut args: Vec<Vec<&Token<'_>>> = vec![Vec::new()];
    let mut depth = 0usize;
    for token in rest.iter().skip(engine_at + 2) {
        match token.text {
            ")" if depth == 0 => break,
            "," if depth == 0 => args.push(Vec::new()),
            text => {
                depth = match text {
                    "(" => depth + 1,
                    ")" => depth - 1,
                    _ => depth,
                };
                if let Some(arg) = args.last_mut() {
                    arg.push(token);
                }
            }
        }
    }
    let Some([local]) = args.get(2).map(Vec::as_slice) else { return };
    let local_name = local.name().trim_matches('\'').to_ascii_lowercase();
    if !state.created.contains(&local_name) {
        check.report(
            "clickhouse-distributed-without-local",
            local,
            format!("the Distributed table reads {local_name}, which no migration up to this one creates"),
            format!("create {local_name} (ON CLUSTER) in this or an earlier migration"),
        );
    }
}

fn nullable_in_order_by(check: &mut Check<'_, '_>, table: &crate::rules::tables::CreateTable<'_, '_>) {
    let nullable: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| c.type_tokens.first().is_some_and(|t| t.is("nullable")))
        .map(|c| c.name.name())
        .collect();
    let Some(order_at) = table.rest.windows(2).position(|w| w[0].is("order") && w[1].is("by")) else { return };
    const CLAUSES: &[&str] = &["partition", "primary", "sample", "settings", "ttl", "comment", "as"];
    let order_by =
        table.rest.iter().skip(order_at + 2).take_while(|t| !CLAUSES.iter().any(|c| t.is(c)) && t.text != ";");
    for token in order_by {
        if nullable.iter().any(|name| name.eq_ignore_ascii_case(token.name())) {
            check.report(
                "clickhouse-nullable-in-order-by",
                token,
                format!(
                    "{} is Nullable and in ORDER BY: the table needs allow_nullable_key, and NULLs sort last",
                    token.name()
                ),
                format!("make {} non-Nullable with a default, or leave it out of ORDER BY", token.name()),
            );
        }
    }
}

/// A `db.table` whose database is a literal name rather than an ENVSUB reference.
fn hardcoded_database(check: &mut Check<'_, '_>, tokens: &[Token<'_>], config: &LintConfig, state: &ClickHouseState) {
    let variable = &config.options.database_variable;
    for (at, token) in tokens.iter().enumerate() {
        let names_object = tokens.get(at.wrapping_sub(1)).is_some_and(|t| {
            t.is("table") || t.is("view") || t.is("exists") || t.is("to") || t.is("from") || t.is("dictionary")
        });
        let qualified = tokens.get(at + 1).is_some_and(|t| t.text == ".");
        let created_here = state.databases.contains(&token.name().to_ascii_lowercase());
        if names_object && qualified && !token.text.starts_with("${") && !created_here {
            check.report(
                "clickhouse-hardcoded-database",
                token,
                format!(
                    "database {} is written into the DDL, so the migration cannot run against another database",
                    token.name()
                ),
                format!("write ${{{variable}}}.table under -- +goose ENVSUB ON, or leave the database out"),
            );
        }
    }
}

fn alter(check: &mut Check<'_, '_>, tokens: &[Token<'_>], mutations_sync_set: bool) {
    if !tokens.get(1).is_some_and(|t| t.is("table")) {
        return;
    }
    let synced = mutations_sync_set || tokens.iter().any(|t| t.is("mutations_sync"));
    for (at, token) in tokens.iter().enumerate() {
        let previous = tokens.get(at.wrapping_sub(1));
        let action_position =
            previous.is_some_and(|p| p.text == "," || p.kind == crate::tokens::TokenKind::Word && at >= 3);
        if (token.is("update") || token.is("delete")) && action_position && !synced {
            check.report(
                "clickhouse-mutation-without-sync",
                token,
                format!(
                    "ALTER TABLE ... {} is an asynchronous mutation: the migration ends before it does",
                    token.text.to_ascii_uppercase()
                ),
                "add SETTINGS mutations_sync = 2 (or SET mutations_sync = 2 before it)".to_string(),
            );
            break;
        }
        if token.is("modify") && tokens.get(at + 1).is_some_and(|t| t.is("order") || t.is("primary")) {
            check.report(
                "clickhouse-changing-order-by",
                token,
                "changing the sorting key only applies to new columns' expressions and can break the table's data layout".to_string(),
                "create a new table with the new ORDER BY and move the data with INSERT ... SELECT".to_string(),
            );
        }
    }
}
