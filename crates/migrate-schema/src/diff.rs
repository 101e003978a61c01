//! Comparing two schemas: each object is keyed (`column public.users.email`) and described by the DDL
//! that would create it, so a difference reads as the object, what kind of difference, and the two
//! definitions.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::dump::{
    column_sql, composite_sql, constraint_sql, domain_sql, enum_sql, sequence_sql, table_head, view_sql,
};
use crate::model::Schema;
use crate::quote::ident;

/// How an object differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// Expected, but not in the actual schema.
    Missing,
    /// In the actual schema, not expected.
    Extra,
    /// In both, defined differently.
    Changed,
}

impl FindingKind {
    /// `missing`, `extra` or `changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Missing => "missing",
            FindingKind::Extra => "extra",
            FindingKind::Changed => "changed",
        }
    }
}

/// One difference between an expected and an actual schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The object: its kind and qualified name (`index public.users_email_idx`).
    pub object: String,
    /// Missing, extra or changed.
    pub kind: FindingKind,
    /// Its definition in the expected schema.
    pub before: Option<String>,
    /// Its definition in the actual schema.
    pub after: Option<String>,
}

/// `missing index public.users_email_idx: CREATE UNIQUE INDEX ...`, `changed column ...: A -> B`.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.as_str(), self.object)?;
        match (&self.before, &self.after) {
            (Some(before), Some(after)) => write!(f, ": {} -> {}", one_line(before), one_line(after)),
            (Some(only), None) | (None, Some(only)) => write!(f, ": {}", one_line(only)),
            (None, None) => Ok(()),
        }
    }
}

/// A definition on one line, shortened: a finding is a summary, the dump has the whole text.
fn one_line(text: &str) -> String {
    const LIMIT: usize = 160;
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}...", &joined[..cut]),
        None => joined,
    }
}

/// Every difference between `expected` and `actual`, ordered by object.
pub fn diff(expected: &Schema, actual: &Schema) -> Vec<Finding> {
    let before = objects(expected);
    let mut after = objects(actual);
    let mut findings = Vec::new();
    for (object, definition) in before {
        match after.remove(&object) {
            None => {
                findings.push(Finding { object, kind: FindingKind::Missing, before: Some(definition), after: None })
            }
            Some(other) if other != definition => findings.push(Finding {
                object,
                kind: FindingKind::Changed,
                before: Some(definition),
                after: Some(other),
            }),
            Some(_) => {}
        }
    }
    findings.extend(after.into_iter().map(|(object, definition)| Finding {
        object,
        kind: FindingKind::Extra,
        before: None,
        after: Some(definition),
    }));
    findings.sort_by(|a, b| a.object.cmp(&b.object));
    findings
}

/// Each object of the schema, keyed by kind and name, with the text that defines it.
fn objects(schema: &Schema) -> BTreeMap<String, String> {
    let mut objects = BTreeMap::new();
    let mut add = |key: String, definition: String| {
        objects.insert(key, definition);
    };
    for name in &schema.schemas {
        add(format!("schema {}", ident(name)), format!("CREATE SCHEMA {}", ident(name)));
    }
    for e in &schema.extensions {
        add(
            format!("extension {}", ident(&e.name)),
            format!("CREATE EXTENSION {} WITH SCHEMA {}", ident(&e.name), ident(&e.schema)),
        );
    }
    for e in &schema.enums {
        add(format!("type {}", e.name), enum_sql(e));
    }
    for d in &schema.domains {
        add(format!("domain {}", d.name), domain_sql(d));
    }
    for c in &schema.composites {
        add(format!("type {}", c.name), composite_sql(c));
    }
    for f in &schema.functions {
        add(format!("function {}({})", f.name, f.arguments), f.definition.clone());
    }
    for s in &schema.sequences {
        let mut definition = sequence_sql(s);
        if let Some((table, column)) = &s.owned_by {
            definition.push_str(&format!(" OWNED BY {table}.{}", ident(column)));
        }
        add(format!("sequence {}", s.name), definition);
    }
    for t in &schema.tables {
        let (head, tail) = table_head(t);
        add(format!("table {}", t.name), format!("{head}{tail}"));
        for c in &t.columns {
            add(format!("column {}.{}", t.name, ident(&c.name)), column_sql(c));
        }
        for c in &t.constraints {
            add(format!("constraint {}.{}", t.name, ident(&c.name)), constraint_sql(&t.name, c));
        }
    }
    for v in &schema.views {
        add(format!("view {}", v.name), view_sql(v, false));
    }
    for v in &schema.materialized_views {
        add(format!("materialized view {}", v.name), view_sql(v, true));
    }
    for i in &schema.indexes {
        add(format!("index {}", i.name), i.definition.clone());
    }
    for t in &schema.triggers {
        add(format!("trigger {}.{}", t.table, ident(&t.name)), t.definition.clone());
    }
    for c in &schema.comments {
        add(format!("comment on {}", c.object), c.text.clone());
    }
    objects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, QualifiedName, Table, TableKind};

    fn users(columns: &[(&str, Option<&str>)]) -> Schema {
        Schema {
            schemas: vec!["public".to_owned()],
            tables: vec![Table {
                name: QualifiedName::new("public", "users"),
                kind: TableKind::Ordinary,
                unlogged: false,
                partition_of: None,
                inherits: Vec::new(),
                columns: columns
                    .iter()
                    .map(|(name, default)| Column {
                        name: (*name).to_owned(),
                        data_type: "text".to_owned(),
                        collation: None,
                        default: default.map(str::to_owned),
                        identity: None,
                        generated: None,
                        not_null: false,
                    })
                    .collect(),
                constraints: Vec::new(),
            }],
            ..Schema::default()
        }
    }

    #[test]
    fn equal_schemas_have_no_findings() {
        let schema = users(&[("a", None)]);
        assert_eq!(diff(&schema, &schema.clone()), Vec::new());
    }

    #[test]
    fn missing_extra_and_changed() {
        let expected = users(&[("a", None), ("b", Some("'x'::text"))]);
        let actual = users(&[("b", Some("'y'::text")), ("c", None)]);
        let lines: Vec<String> = diff(&expected, &actual).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "missing column public.users.a: a text",
                "changed column public.users.b: b text DEFAULT 'x'::text -> b text DEFAULT 'y'::text",
                "extra column public.users.c: c text",
            ]
        );
    }
}
