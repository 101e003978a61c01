//! A snapshot of a database's schema read from the PostgreSQL catalog, as sorted text lines per kind of
//! object, so two snapshots compare with a set difference and every difference reads as a sentence.
//!
//! Only definitions are read, never data or sequence positions: a Down is asked to undo its Up's schema.

use std::collections::{BTreeMap, BTreeSet};

use migrate_postgres::PgError;
use sqlx::postgres::PgConnection;

use crate::error::Error;

/// Every user object of the database, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Schema {
    objects: BTreeMap<&'static str, BTreeSet<String>>,
}

/// Schemas that belong to PostgreSQL itself.
const USER_SCHEMAS: &str =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// One query per kind of object, each returning one text line per object. `format` prints NULL as an
/// empty string, so no object disappears because one of its attributes is NULL.
const QUERIES: &[(&str, &str)] = &[
    ("schema", "SELECT format('%s', n.nspname) FROM pg_namespace n WHERE {USER}"),
    (
        "relation",
        "SELECT format('%s.%s (%s)', n.nspname, c.relname, CASE c.relkind WHEN 'r' THEN 'table' \
         WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' \
         WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'composite type' END) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND {USER}",
    ),
    (
        "column",
        "SELECT format('%s.%s.%s %s%s%s', n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), \
         CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END, ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid)) \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') AND {USER}",
    ),
    (
        "index",
        "SELECT format('%s.%s: %s', n.nspname, i.relname, pg_get_indexdef(i.oid)) \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace \
         WHERE {USER}",
    ),
    (
        "constraint",
        "SELECT format('%s.%s.%s: %s', n.nspname, coalesce(c.relname, t.typname), con.conname, \
         pg_get_constraintdef(con.oid)) FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace \
         LEFT JOIN pg_class c ON c.oid = con.conrelid LEFT JOIN pg_type t ON t.oid = con.contypid WHERE {USER}",
    ),
    (
        "function",
        "SELECT format('%s.%s(%s) %s returns %s: %s', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), \
         p.prokind, pg_get_function_result(p.oid), md5(coalesce(p.prosrc, ''))) \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {USER}",
    ),
    (
        "sequence",
        "SELECT format('%s.%s %s start %s increment %s min %s max %s cycle %s', n.nspname, c.relname, \
         format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle) \
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {USER}",
    ),
    (
        "view",
        "SELECT format('%s.%s: %s', n.nspname, c.relname, pg_get_viewdef(c.oid)) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') AND {USER}",
    ),
    (
        "trigger",
        "SELECT format('%s.%s.%s: %s', n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid)) \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT t.tgisinternal AND {USER}",
    ),
    (
        "type",
        "SELECT format('%s.%s (%s)%s', n.nspname, t.typname, t.typtype, ' ' || (SELECT string_agg(e.enumlabel, ',' \
         ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)) \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE t.typtype IN ('e', 'd', 'r', 'm') AND {USER}",
    ),
    ("extension", "SELECT format('%s %s', e.extname, e.extversion) FROM pg_extension e"),
];

impl Schema {
    /// Reads the schema of the database `connection` is connected to.
    pub(crate) async fn read(connection: &mut PgConnection) -> Result<Schema, Error> {
        let mut objects = BTreeMap::new();
        for (kind, query) in QUERIES {
            let sql = query.replace("{USER}", USER_SCHEMAS);
            let lines: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *connection)
                .await
                .map_err(|source| Error::Postgres(PgError::Query { action: "reading the schema", source }))?;
            objects.insert(*kind, lines.into_iter().collect());
        }
        Ok(Schema { objects })
    }

    /// What `after` has that `self` lacks and the reverse, one sentence each; empty when they are equal.
    pub(crate) fn differences(&self, after: &Schema) -> Vec<String> {
        let empty = BTreeSet::new();
        let mut differences = Vec::new();
        for (kind, before_lines) in &self.objects {
            let after_lines = after.objects.get(kind).unwrap_or(&empty);
            for line in after_lines.difference(before_lines) {
                differences.push(format!("{kind} {line}: left behind"));
            }
            for line in before_lines.difference(after_lines) {
                differences.push(format!("{kind} {line}: missing"));
            }
        }
        differences
    }
}
