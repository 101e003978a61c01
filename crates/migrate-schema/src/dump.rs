//! The dump: DDL text that re-creates a [`Schema`], a function of the model alone (no OIDs, no database
//! name, no server version, no time), so equal schemas dump to equal bytes.
//!
//! Objects go in an order that satisfies their dependencies without a dependency graph, the way pg_dump's
//! sections do: schemas, extensions, types, functions (bodies unchecked, as pg_dump sets
//! `check_function_bodies`), sequences, tables (parents before partitions and children), sequence
//! ownership, primary, unique, check and exclusion constraints, views in dependency order, indexes,
//! foreign keys (which need the referenced keys), triggers, comments.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::model::{
    Column, CompositeType, Constraint, ConstraintKind, Domain, Enum, Identity, QualifiedName, Schema, Sequence, Table,
    TableKind, View,
};
use crate::quote::{ident, literal};

/// The dump's first lines: what it is, and the settings the statements after it rely on.
const HEADER: &str = "-- Schema dump written by migrate (PostgreSQL). Apply it to an empty database.\n\
SET check_function_bodies = false;\n\
SET client_min_messages = warning;\n\
SELECT pg_catalog.set_config('search_path', '', false);\n";

/// The DDL text that re-creates `schema`.
pub fn dump(schema: &Schema) -> String {
    let mut out = String::from(HEADER);
    let mut section = |title: &str, statements: Vec<String>| {
        if statements.is_empty() {
            return;
        }
        let _ = write!(out, "\n-- {title}\n");
        for statement in statements {
            out.push_str(&statement);
            out.push_str(";\n");
        }
    };
    section(
        "Schemas",
        schema.schemas.iter().map(|name| format!("CREATE SCHEMA IF NOT EXISTS {}", ident(name))).collect(),
    );
    section(
        "Extensions",
        schema
            .extensions
            .iter()
            .map(|e| format!("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}", ident(&e.name), ident(&e.schema)))
            .collect(),
    );
    section("Enum types", schema.enums.iter().map(enum_sql).collect());
    section("Domains", schema.domains.iter().map(domain_sql).collect());
    section("Composite types", schema.composites.iter().map(composite_sql).collect());
    section("Functions and procedures", schema.functions.iter().map(|f| f.definition.clone()).collect());
    section("Sequences", schema.sequences.iter().map(sequence_sql).collect());
    section("Tables", tables_in_order(&schema.tables).into_iter().map(table_sql).collect());
    section(
        "Sequence ownership",
        schema
            .sequences
            .iter()
            .filter_map(|s| {
                s.owned_by
                    .as_ref()
                    .map(|(table, column)| format!("ALTER SEQUENCE {} OWNED BY {table}.{}", s.name, ident(column)))
            })
            .collect(),
    );
    let constraints = |foreign: bool| -> Vec<String> {
        let mut statements = Vec::new();
        for table in &schema.tables {
            for constraint in &table.constraints {
                if matches!(constraint.kind, ConstraintKind::ForeignKey { .. }) == foreign {
                    statements.push(constraint_sql(&table.name, constraint));
                }
            }
        }
        statements
    };
    section("Constraints", constraints(false));
    section(
        "Views and materialized views",
        views_in_order(schema).into_iter().map(|(view, m)| view_sql(view, m)).collect(),
    );
    section("Indexes", schema.indexes.iter().map(|i| i.definition.clone()).collect());
    section("Foreign keys", constraints(true));
    section("Triggers", schema.triggers.iter().map(|t| t.definition.clone()).collect());
    section(
        "Comments",
        schema.comments.iter().map(|c| format!("COMMENT ON {} IS {}", c.object, literal(&c.text))).collect(),
    );
    out
}

pub(crate) fn enum_sql(e: &Enum) -> String {
    let labels: Vec<String> = e.labels.iter().map(|label| literal(label)).collect();
    format!("CREATE TYPE {} AS ENUM ({})", e.name, labels.join(", "))
}

pub(crate) fn domain_sql(d: &Domain) -> String {
    let mut sql = format!("CREATE DOMAIN {} AS {}", d.name, d.base_type);
    if let Some(collation) = &d.collation {
        let _ = write!(sql, " COLLATE {collation}");
    }
    if let Some(default) = &d.default {
        let _ = write!(sql, " DEFAULT {default}");
    }
    if d.not_null {
        sql.push_str(" NOT NULL");
    }
    for (name, check) in &d.checks {
        let _ = write!(sql, " CONSTRAINT {} {check}", ident(name));
    }
    sql
}

pub(crate) fn composite_sql(c: &CompositeType) -> String {
    let attributes: Vec<String> = c
        .attributes
        .iter()
        .map(|(name, data_type, collation)| match collation {
            Some(collation) => format!("{} {data_type} COLLATE {collation}", ident(name)),
            None => format!("{} {data_type}", ident(name)),
        })
        .collect();
    format!("CREATE TYPE {} AS ({})", c.name, attributes.join(", "))
}

pub(crate) fn sequence_sql(s: &Sequence) -> String {
    format!(
        "CREATE SEQUENCE {} AS {} START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {}{}",
        s.name,
        s.data_type,
        s.start,
        s.increment,
        s.min,
        s.max,
        s.cache,
        if s.cycle { " CYCLE" } else { " NO CYCLE" }
    )
}

/// A column as `CREATE TABLE` declares it.
pub(crate) fn column_sql(c: &Column) -> String {
    let mut sql = format!("{} {}", ident(&c.name), c.data_type);
    if let Some(collation) = &c.collation {
        let _ = write!(sql, " COLLATE {collation}");
    }
    if let Some(expression) = &c.generated {
        let _ = write!(sql, " GENERATED ALWAYS AS ({expression}) STORED");
    }
    match c.identity {
        Some(Identity::Always) => sql.push_str(" GENERATED ALWAYS AS IDENTITY"),
        Some(Identity::ByDefault) => sql.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
        None => {}
    }
    if let Some(default) = &c.default {
        let _ = write!(sql, " DEFAULT {default}");
    }
    if c.not_null {
        sql.push_str(" NOT NULL");
    }
    sql
}

/// What a table is, without its columns: `CREATE TABLE` up to the column list and after it.
pub(crate) fn table_head(t: &Table) -> (String, String) {
    let unlogged = if t.unlogged { "UNLOGGED " } else { "" };
    let mut head = format!("CREATE {unlogged}TABLE {}", t.name);
    let mut tail = String::new();
    if let Some((parent, bound)) = &t.partition_of {
        let _ = write!(head, " PARTITION OF {parent}");
        let _ = write!(tail, " {bound}");
    }
    if !t.inherits.is_empty() {
        let parents: Vec<String> = t.inherits.iter().map(ToString::to_string).collect();
        let _ = write!(tail, " INHERITS ({})", parents.join(", "));
    }
    if let TableKind::Partitioned { key } = &t.kind {
        let _ = write!(tail, " PARTITION BY {key}");
    }
    (head, tail)
}

fn table_sql(t: &Table) -> String {
    let (head, tail) = table_head(t);
    let columns: Vec<String> = t.columns.iter().map(|c| format!("    {}", column_sql(c))).collect();
    if t.partition_of.is_some() && columns.is_empty() {
        // A partition takes its parent's columns; an empty list would be a syntax error here.
        return format!("{head}{tail}");
    }
    if columns.is_empty() {
        return format!("{head} (){tail}");
    }
    format!("{head} (\n{}\n){tail}", columns.join(",\n"))
}

pub(crate) fn constraint_sql(table: &QualifiedName, c: &Constraint) -> String {
    format!("ALTER TABLE {table} ADD CONSTRAINT {} {}", ident(&c.name), c.definition)
}

pub(crate) fn view_sql(view: &View, materialized: bool) -> String {
    if materialized {
        format!("CREATE MATERIALIZED VIEW {} AS\n{}\nWITH NO DATA", view.name, view.query)
    } else {
        format!("CREATE VIEW {} AS\n{}", view.name, view.query)
    }
}

/// Parents (of partitions and of inheritance) before their children, else by name.
fn tables_in_order<'a>(tables: &'a [Table]) -> Vec<&'a Table> {
    let by_name: BTreeMap<&QualifiedName, &'a Table> = tables.iter().map(|t| (&t.name, t)).collect();
    let depth = |mut table: &'a Table| {
        let mut depth = 0usize;
        // Bounded by the number of tables, in case a catalog ever reports a cycle.
        while depth < tables.len() {
            let parent = table.partition_of.as_ref().map(|(p, _)| p).or(table.inherits.first());
            match parent.and_then(|p| by_name.get(p)) {
                Some(parent) => {
                    table = parent;
                    depth += 1;
                }
                None => break,
            }
        }
        depth
    };
    let mut ordered: Vec<(usize, &Table)> = tables.iter().map(|t| (depth(t), t)).collect();
    ordered.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
    ordered.into_iter().map(|(_, t)| t).collect()
}

/// Views and materialized views, each after those it reads, else by name (a depth-first walk in name
/// order, so the order is a function of the schema alone).
fn views_in_order(schema: &Schema) -> Vec<(&View, bool)> {
    let all: BTreeMap<&QualifiedName, (&View, bool)> = schema
        .views
        .iter()
        .map(|v| (&v.name, (v, false)))
        .chain(schema.materialized_views.iter().map(|v| (&v.name, (v, true))))
        .collect();
    let mut done: BTreeSet<&QualifiedName> = BTreeSet::new();
    let mut ordered = Vec::new();
    fn visit<'a>(
        name: &'a QualifiedName,
        all: &BTreeMap<&'a QualifiedName, (&'a View, bool)>,
        done: &mut BTreeSet<&'a QualifiedName>,
        ordered: &mut Vec<(&'a View, bool)>,
    ) {
        let Some(&(view, materialized)) = all.get(name) else { return };
        if !done.insert(name) {
            return;
        }
        for dependency in &view.depends_on {
            visit(dependency, all, done, ordered);
        }
        ordered.push((view, materialized));
    }
    for name in all.keys() {
        visit(name, &all, &mut done, &mut ordered);
    }
    ordered
}
