//! The PostgreSQL reader: the catalog model from `pg_catalog`, one query per kind of object (fifteen in
//! all, whatever the number of tables), in one read-only repeatable-read transaction so every query sees
//! the same snapshot.
//!
//! `search_path` is emptied for the transaction, as pg_dump does: every `pg_get_*def` and `format_type`
//! then schema-qualifies every name, so a definition reads the same in any database and re-creates the
//! same object wherever it is applied.

use std::collections::BTreeMap;

use migrate_postgres::TableName;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Row};

use crate::error::Error;
use crate::model::{
    Column, Comment, CompositeType, Constraint, ConstraintKind, Domain, Enum, Extension, ForeignKeyAction, Function,
    Identity, Index, QualifiedName, RoutineKind, Schema, Sequence, Table, TableKind, Trigger, View,
};

/// What to leave out of a read besides PostgreSQL's own schemas and what extensions own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// The schema of the version table, when the name is qualified (else it is left out in any schema).
    pub version_schema: Option<String>,
    /// The version table and its companions (`<table>_checksums`, `<table>_progress`, `<table>_lock`).
    pub left_out: Vec<String>,
}

impl ReadOptions {
    /// Leaves out goose's version table `table` (`name` or `schema.name`) and its companions.
    pub fn for_version_table(table: &str) -> Result<ReadOptions, Error> {
        let table = TableName::parse(table)?;
        let name = table.table();
        // The companions are named by suffixing the version table's name: checksums (migrate-postgres),
        // progress and lock (the ClickHouse driver's, left out here too in case a team shares names).
        let left_out =
            ["", "_checksums", "_progress", "_lock"].iter().map(|suffix| format!("{name}{suffix}")).collect();
        Ok(ReadOptions { version_schema: table.schema().map(str::to_owned), left_out })
    }
}

impl Default for ReadOptions {
    /// goose's default table, `goose_db_version`.
    fn default() -> ReadOptions {
        ReadOptions {
            version_schema: None,
            left_out: [
                "goose_db_version",
                "goose_db_version_checksums",
                "goose_db_version_progress",
                "goose_db_version_lock",
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }
}

/// User schemas only: not PostgreSQL's, not TOAST's, not temporary ones.
fn user_schema(alias: &str) -> String {
    format!(
        "{alias}.nspname NOT IN ('pg_catalog', 'information_schema') AND {alias}.nspname NOT LIKE 'pg\\_toast%' \
         AND {alias}.nspname NOT LIKE 'pg\\_temp\\_%'"
    )
}

/// Not a member of an extension (its `CREATE EXTENSION` makes it).
fn not_extension_member(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass AND e.objid = {oid} \
         AND e.deptype = 'e')"
    )
}

/// Not the version table or a companion ($1 the names, $2 the schema or NULL for any).
fn not_left_out(class: &str, namespace: &str) -> String {
    format!("NOT ({class}.relname = ANY($1) AND ($2::text IS NULL OR {namespace}.nspname = $2))")
}

/// A relation of the user's: schema, extension and left-out filters for `pg_class c` in `pg_namespace n`.
fn user_relation(class: &str, namespace: &str) -> String {
    format!(
        "{} AND {} AND {}",
        user_schema(namespace),
        not_extension_member("pg_class", &format!("{class}.oid")),
        not_left_out(class, namespace)
    )
}

/// `COLLATE` text for a collation other than the type's default.
fn collation(collation_oid: &str, type_alias: &str) -> String {
    format!(
        "CASE WHEN {collation_oid} <> 0 AND {collation_oid} <> {type_alias}.typcollation THEN \
         (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co JOIN pg_namespace cn \
         ON cn.oid = co.collnamespace WHERE co.oid = {collation_oid}) END"
    )
}

fn schemas_sql() -> String {
    format!(
        "SELECT n.nspname::text FROM pg_namespace n WHERE {} AND {}",
        user_schema("n"),
        not_extension_member("pg_namespace", "n.oid")
    )
}

const EXTENSIONS_SQL: &str = "SELECT e.extname::text, n.nspname::text FROM pg_extension e \
    JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'";

fn enums_sql() -> String {
    format!(
        "SELECT n.nspname::text, t.typname::text, ARRAY(SELECT l.enumlabel::text FROM pg_enum l \
         WHERE l.enumtypid = t.oid ORDER BY l.enumsortorder) \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'e' AND {} AND {}",
        user_schema("n"),
        not_extension_member("pg_type", "t.oid")
    )
}

fn domains_sql() -> String {
    format!(
        "SELECT n.nspname::text, t.typname::text, format_type(t.typbasetype, t.typtypmod), {}, t.typdefault, \
         t.typnotnull, \
         ARRAY(SELECT k.conname::text FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c' ORDER BY k.conname), \
         ARRAY(SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c' ORDER BY k.conname) \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_type b ON b.oid = t.typbasetype \
         WHERE t.typtype = 'd' AND {} AND {}",
        collation("t.typcollation", "b"),
        user_schema("n"),
        not_extension_member("pg_type", "t.oid")
    )
}

fn composites_sql() -> String {
    format!(
        "SELECT n.nspname::text, t.typname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), {}, \
         coalesce(a.attnum, 0)::int4 \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class c ON c.oid = t.typrelid \
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         LEFT JOIN pg_type at ON at.oid = a.atttypid \
         WHERE t.typtype = 'c' AND c.relkind = 'c' AND {} AND {}",
        collation("a.attcollation", "at"),
        user_schema("n"),
        not_extension_member("pg_type", "t.oid")
    )
}

fn functions_sql() -> String {
    format!(
        "SELECT n.nspname::text, p.proname::text, pg_get_function_identity_arguments(p.oid), p.prokind::text, \
         pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE p.prokind IN ('f', 'p', 'w') AND {} AND {}",
        user_schema("n"),
        not_extension_member("pg_proc", "p.oid")
    )
}

fn sequences_sql() -> String {
    format!(
        "SELECT n.nspname::text, c.relname::text, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, \
         s.seqmin, s.seqmax, s.seqcache, s.seqcycle, own.nspname::text, oc.relname::text, oa.attname::text \
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid \
           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') \
         LEFT JOIN pg_class oc ON oc.oid = d.refobjid LEFT JOIN pg_namespace own ON own.oid = oc.relnamespace \
         LEFT JOIN pg_attribute oa ON oa.attrelid = d.refobjid AND oa.attnum = d.refobjsubid \
         WHERE coalesce(d.deptype::text, '') <> 'i' AND {} AND (oc.oid IS NULL OR {})",
        user_relation("c", "n"),
        not_left_out("oc", "own")
    )
}

fn tables_sql() -> String {
    format!(
        "SELECT n.nspname::text, c.relname::text, c.relkind::text, c.relpersistence::text, \
         CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, \
         pn.nspname::text, pc.relname::text, pg_get_expr(c.relpartbound, c.oid), \
         ARRAY(SELECT hn.nspname::text FROM pg_inherits h JOIN pg_class hc ON hc.oid = h.inhparent \
           JOIN pg_namespace hn ON hn.oid = hc.relnamespace WHERE h.inhrelid = c.oid AND NOT c.relispartition \
           ORDER BY h.inhseqno), \
         ARRAY(SELECT hc.relname::text FROM pg_inherits h JOIN pg_class hc ON hc.oid = h.inhparent \
           WHERE h.inhrelid = c.oid AND NOT c.relispartition ORDER BY h.inhseqno) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_inherits pi ON c.relispartition AND pi.inhrelid = c.oid \
         LEFT JOIN pg_class pc ON pc.oid = pi.inhparent LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND {}",
        user_relation("c", "n")
    )
}

fn columns_sql() -> String {
    format!(
        "SELECT n.nspname::text, c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), {}, \
         pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, a.attnotnull, \
         a.attislocal, a.attnum::int4 \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_type at ON at.oid = a.atttypid \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND {}",
        collation("a.attcollation", "at"),
        user_relation("c", "n")
    )
}

fn constraints_sql() -> String {
    format!(
        "SELECT n.nspname::text, c.relname::text, k.conname::text, k.contype::text, pg_get_constraintdef(k.oid), \
         k.condeferrable, k.condeferred, k.confupdtype::text, k.confdeltype::text, rn.nspname::text, rc.relname::text \
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class rc ON rc.oid = k.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
         WHERE k.contype IN ('p', 'u', 'c', 'f', 'x') AND k.conislocal AND k.conparentid = 0 \
         AND c.relkind IN ('r', 'p') AND {}",
        user_relation("c", "n")
    )
}

fn indexes_sql() -> String {
    format!(
        "SELECT n.nspname::text, i.relname::text, n.nspname::text, t.relname::text, am.amname::text, x.indisunique, \
         pg_get_expr(x.indpred, x.indrelid), x.indexprs IS NOT NULL, \
         ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord) \
           JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum \
           WHERE k.ord > x.indnkeyatts ORDER BY k.ord), \
         pg_get_indexdef(i.oid), i.relkind::text \
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_am am ON am.oid = i.relam \
         WHERE t.relkind IN ('r', 'p', 'm') AND {} \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid AND k.conrelid = t.oid \
           AND k.contype IN ('p', 'u', 'x')) \
         AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.oid)",
        user_relation("t", "n")
    )
}

fn views_sql() -> String {
    format!(
        "SELECT n.nspname::text, c.relname::text, c.relkind::text, pg_get_viewdef(c.oid) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') AND {}",
        user_relation("c", "n")
    )
}

fn view_dependencies_sql() -> String {
    format!(
        "SELECT DISTINCT n.nspname::text, c.relname::text, rn.nspname::text, rc.relname::text \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_rewrite r ON r.ev_class = c.oid \
         JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid \
           AND d.refclassid = 'pg_class'::regclass \
         JOIN pg_class rc ON rc.oid = d.refobjid AND rc.oid <> c.oid AND rc.relkind IN ('v', 'm') \
         JOIN pg_namespace rn ON rn.oid = rc.relnamespace WHERE c.relkind IN ('v', 'm') AND {}",
        user_relation("c", "n")
    )
}

fn triggers_sql() -> String {
    format!(
        "SELECT n.nspname::text, c.relname::text, t.tgname::text, pg_get_triggerdef(t.oid) \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND {}",
        user_relation("c", "n")
    )
}

fn comments_sql() -> String {
    let relation = user_relation("c", "n");
    let schema = user_schema("n");
    format!(
        "SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' \
           WHEN 'i' THEN 'INDEX' WHEN 'I' THEN 'INDEX' ELSE 'TABLE' END || ' ' || format('%I.%I', n.nspname, c.relname), \
           d.description \
         FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid AND d.objsubid = 0 \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i', 'I') AND {relation} \
         UNION ALL \
         SELECT 'COLUMN ' || format('%I.%I.%I', n.nspname, c.relname, a.attname), d.description \
         FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE d.objsubid > 0 AND {relation} \
         UNION ALL \
         SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END \
           || format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), d.description \
         FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid \
         JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {schema} AND {proc} \
         UNION ALL \
         SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || format('%I.%I', n.nspname, t.typname), \
           d.description \
         FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND d.objoid = t.oid \
         JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype IN ('e', 'd', 'c') AND {schema} AND {typ} \
         UNION ALL \
         SELECT 'SCHEMA ' || quote_ident(n.nspname), d.description \
         FROM pg_description d JOIN pg_namespace n ON d.classoid = 'pg_namespace'::regclass AND d.objoid = n.oid \
         WHERE {schema} AND NOT (n.nspname = 'public' AND d.description = 'standard public schema') \
         UNION ALL \
         SELECT 'CONSTRAINT ' || quote_ident(k.conname) || ' ON ' || format('%I.%I', n.nspname, c.relname), d.description \
         FROM pg_description d JOIN pg_constraint k ON d.classoid = 'pg_constraint'::regclass AND d.objoid = k.oid \
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {relation} \
         UNION ALL \
         SELECT 'CONSTRAINT ' || quote_ident(k.conname) || ' ON DOMAIN ' || format('%I.%I', n.nspname, t.typname), \
           d.description \
         FROM pg_description d JOIN pg_constraint k ON d.classoid = 'pg_constraint'::regclass AND d.objoid = k.oid \
         JOIN pg_type t ON t.oid = k.contypid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {schema} \
         UNION ALL \
         SELECT 'TRIGGER ' || quote_ident(g.tgname) || ' ON ' || format('%I.%I', n.nspname, c.relname), d.description \
         FROM pg_description d JOIN pg_trigger g ON d.classoid = 'pg_trigger'::regclass AND d.objoid = g.oid \
         JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {relation}",
        proc = not_extension_member("pg_proc", "p.oid"),
        typ = not_extension_member("pg_type", "t.oid"),
    )
}

/// Reads the schema of the database `connection` is connected to.
///
/// The connection is left as it was: the reads run in a transaction of their own, committed at the end
/// (nothing is written), and `search_path` is changed only inside it (`SET LOCAL`).
pub async fn read(connection: &mut PgConnection, options: &ReadOptions) -> Result<Schema, Error> {
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL search_path = ''")
        .execute(&mut *connection)
        .await
        .map_err(Error::query("starting the catalog read"))?;
    let schema = read_in_transaction(connection, options).await;
    let end = if schema.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = sqlx::raw_sql(end).execute(&mut *connection).await.map_err(Error::query("ending the catalog read"));
    let schema = schema?;
    ended?;
    Ok(schema)
}

/// Runs one catalog query with the left-out names bound.
async fn rows(
    connection: &mut PgConnection,
    options: &ReadOptions,
    action: &'static str,
    sql: String,
) -> Result<Vec<PgRow>, Error> {
    sqlx::query(AssertSqlSafe(sql))
        .bind(&options.left_out)
        .bind(options.version_schema.as_deref())
        .fetch_all(&mut *connection)
        .await
        .map_err(Error::query(action))
}

/// A column of a row, decoded, or the query's error.
fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r PgRow,
    index: usize,
) -> Result<T, Error> {
    row.try_get(index).map_err(Error::query("decoding the catalog"))
}

fn name(row: &PgRow, schema: usize, name: usize) -> Result<QualifiedName, Error> {
    Ok(QualifiedName::new(get::<String>(row, schema)?, get::<String>(row, name)?))
}

async fn read_in_transaction(connection: &mut PgConnection, options: &ReadOptions) -> Result<Schema, Error> {
    let mut schema = Schema::default();

    // The queries that filter on no relation bind nothing; a query may not bind more parameters than it
    // uses, so they go without.
    for row in sqlx::query(AssertSqlSafe(schemas_sql()))
        .fetch_all(&mut *connection)
        .await
        .map_err(Error::query("reading the schemas"))?
    {
        schema.schemas.push(get(&row, 0)?);
    }
    for row in
        sqlx::query(EXTENSIONS_SQL).fetch_all(&mut *connection).await.map_err(Error::query("reading the extensions"))?
    {
        schema.extensions.push(Extension { name: get(&row, 0)?, schema: get(&row, 1)? });
    }
    for row in sqlx::query(AssertSqlSafe(enums_sql()))
        .fetch_all(&mut *connection)
        .await
        .map_err(Error::query("reading the enum types"))?
    {
        schema.enums.push(Enum { name: name(&row, 0, 1)?, labels: get(&row, 2)? });
    }
    for row in sqlx::query(AssertSqlSafe(domains_sql()))
        .fetch_all(&mut *connection)
        .await
        .map_err(Error::query("reading the domains"))?
    {
        let names: Vec<String> = get(&row, 6)?;
        let definitions: Vec<String> = get(&row, 7)?;
        schema.domains.push(Domain {
            name: name(&row, 0, 1)?,
            base_type: get(&row, 2)?,
            collation: get(&row, 3)?,
            default: get(&row, 4)?,
            not_null: get(&row, 5)?,
            checks: names.into_iter().zip(definitions).collect(),
        });
    }
    // Attributes by type: position, name, type, collation.
    type Attribute = (i32, String, String, Option<String>);
    let mut composites: BTreeMap<QualifiedName, Vec<Attribute>> = BTreeMap::new();
    for row in sqlx::query(AssertSqlSafe(composites_sql()))
        .fetch_all(&mut *connection)
        .await
        .map_err(Error::query("reading the composite types"))?
    {
        let attributes = composites.entry(name(&row, 0, 1)?).or_default();
        if let Some(attribute) = get::<Option<String>>(&row, 2)? {
            attributes.push((
                get(&row, 5)?,
                attribute,
                get::<Option<String>>(&row, 3)?.unwrap_or_default(),
                get(&row, 4)?,
            ));
        }
    }
    for (name, mut attributes) in composites {
        attributes.sort();
        let attributes = attributes.into_iter().map(|(_, name, data_type, collation)| (name, data_type, collation));
        schema.composites.push(CompositeType { name, attributes: attributes.collect() });
    }
    for row in sqlx::query(AssertSqlSafe(functions_sql()))
        .fetch_all(&mut *connection)
        .await
        .map_err(Error::query("reading the functions"))?
    {
        let definition: String = get(&row, 4)?;
        schema.functions.push(Function {
            name: name(&row, 0, 1)?,
            arguments: get(&row, 2)?,
            kind: if get::<String>(&row, 3)? == "p" { RoutineKind::Procedure } else { RoutineKind::Function },
            definition: definition.trim_end().to_owned(),
        });
    }
    for row in rows(connection, options, "reading the sequences", sequences_sql()).await? {
        let owner: Option<String> = get(&row, 10)?;
        let owned_by = match (get::<Option<String>>(&row, 9)?, owner, get::<Option<String>>(&row, 11)?) {
            (Some(schema), Some(table), Some(column)) => Some((QualifiedName::new(schema, table), column)),
            _ => None,
        };
        schema.sequences.push(Sequence {
            name: name(&row, 0, 1)?,
            data_type: get(&row, 2)?,
            start: get(&row, 3)?,
            increment: get(&row, 4)?,
            min: get(&row, 5)?,
            max: get(&row, 6)?,
            cache: get(&row, 7)?,
            cycle: get(&row, 8)?,
            owned_by,
        });
    }

    let mut tables: BTreeMap<QualifiedName, Table> = BTreeMap::new();
    for row in rows(connection, options, "reading the tables", tables_sql()).await? {
        let table_name = name(&row, 0, 1)?;
        let kind = match get::<Option<String>>(&row, 4)? {
            Some(key) if get::<String>(&row, 2)? == "p" => TableKind::Partitioned { key },
            _ => TableKind::Ordinary,
        };
        let partition_of = match (get::<Option<String>>(&row, 5)?, get::<Option<String>>(&row, 6)?) {
            (Some(schema), Some(parent)) => {
                Some((QualifiedName::new(schema, parent), get::<Option<String>>(&row, 7)?.unwrap_or_default()))
            }
            _ => None,
        };
        let parent_schemas: Vec<String> = get(&row, 8)?;
        let parent_names: Vec<String> = get(&row, 9)?;
        let table = Table {
            name: table_name.clone(),
            kind,
            unlogged: get::<String>(&row, 3)? == "u",
            partition_of,
            inherits: parent_schemas.into_iter().zip(parent_names).map(|(s, n)| QualifiedName::new(s, n)).collect(),
            columns: Vec::new(),
            constraints: Vec::new(),
        };
        tables.insert(table_name, table);
    }
    let mut columns: Vec<(QualifiedName, i32, Column)> = Vec::new();
    for row in rows(connection, options, "reading the columns", columns_sql()).await? {
        if !get::<bool>(&row, 9)? {
            continue; // Inherited from a parent, whose CREATE TABLE gives it.
        }
        let default: Option<String> = get(&row, 5)?;
        let generated = get::<String>(&row, 7)? == "s";
        let identity = match get::<String>(&row, 6)?.as_str() {
            "a" => Some(Identity::Always),
            "d" => Some(Identity::ByDefault),
            _ => None,
        };
        let column = Column {
            name: get(&row, 2)?,
            data_type: get(&row, 3)?,
            collation: get(&row, 4)?,
            default: if generated { None } else { default.clone() },
            identity,
            generated: if generated { default } else { None },
            not_null: get(&row, 8)?,
        };
        columns.push((name(&row, 0, 1)?, get(&row, 10)?, column));
    }
    columns.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    for (table, _, column) in columns {
        if let Some(table) = tables.get_mut(&table) {
            table.columns.push(column);
        }
    }
    for row in rows(connection, options, "reading the constraints", constraints_sql()).await? {
        let kind = match get::<String>(&row, 3)?.as_str() {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "c" => ConstraintKind::Check,
            "x" => ConstraintKind::Exclusion,
            _ => ConstraintKind::ForeignKey {
                references: QualifiedName::new(
                    get::<Option<String>>(&row, 9)?.unwrap_or_default(),
                    get::<Option<String>>(&row, 10)?.unwrap_or_default(),
                ),
                on_update: ForeignKeyAction::from_code(&get::<String>(&row, 7)?),
                on_delete: ForeignKeyAction::from_code(&get::<String>(&row, 8)?),
            },
        };
        let constraint = Constraint {
            name: get(&row, 2)?,
            kind,
            definition: get(&row, 4)?,
            deferrable: get(&row, 5)?,
            initially_deferred: get(&row, 6)?,
        };
        if let Some(table) = tables.get_mut(&name(&row, 0, 1)?) {
            table.constraints.push(constraint);
        }
    }
    schema.tables = tables.into_values().collect();
    for table in &mut schema.tables {
        table.constraints.sort_by(|a, b| a.name.cmp(&b.name));
    }

    for row in rows(connection, options, "reading the indexes", indexes_sql()).await? {
        let mut definition: String = get(&row, 9)?;
        if get::<String>(&row, 10)? == "I" {
            // A partitioned table's index is printed ON ONLY; without ONLY, its partitions get theirs.
            definition = definition.replacen(" ON ONLY ", " ON ", 1);
        }
        schema.indexes.push(Index {
            name: name(&row, 0, 1)?,
            table: name(&row, 2, 3)?,
            method: get(&row, 4)?,
            unique: get(&row, 5)?,
            predicate: get(&row, 6)?,
            expression: get(&row, 7)?,
            include: get(&row, 8)?,
            definition,
        });
    }

    let mut dependencies: BTreeMap<QualifiedName, Vec<QualifiedName>> = BTreeMap::new();
    for row in rows(connection, options, "reading the views' dependencies", view_dependencies_sql()).await? {
        dependencies.entry(name(&row, 0, 1)?).or_default().push(name(&row, 2, 3)?);
    }
    for row in rows(connection, options, "reading the views", views_sql()).await? {
        let view_name = name(&row, 0, 1)?;
        let query: String = get(&row, 3)?;
        let mut depends_on = dependencies.remove(&view_name).unwrap_or_default();
        depends_on.sort();
        let view = View { name: view_name, query: query.trim_end().trim_end_matches(';').to_owned(), depends_on };
        if get::<String>(&row, 2)? == "m" {
            schema.materialized_views.push(view);
        } else {
            schema.views.push(view);
        }
    }
    for row in rows(connection, options, "reading the triggers", triggers_sql()).await? {
        schema.triggers.push(Trigger { table: name(&row, 0, 1)?, name: get(&row, 2)?, definition: get(&row, 3)? });
    }
    for row in rows(connection, options, "reading the comments", comments_sql()).await? {
        schema.comments.push(Comment { object: get(&row, 0)?, text: get(&row, 1)? });
    }

    sort(&mut schema);
    Ok(schema)
}

/// Byte order by schema then name, whatever the database's collation, so equal schemas read equal.
fn sort(schema: &mut Schema) {
    schema.schemas.sort();
    schema.extensions.sort();
    schema.enums.sort_by(|a, b| a.name.cmp(&b.name));
    schema.domains.sort_by(|a, b| a.name.cmp(&b.name));
    schema.composites.sort_by(|a, b| a.name.cmp(&b.name));
    schema.functions.sort_by(|a, b| (&a.name, &a.arguments).cmp(&(&b.name, &b.arguments)));
    schema.sequences.sort_by(|a, b| a.name.cmp(&b.name));
    schema.tables.sort_by(|a, b| a.name.cmp(&b.name));
    schema.views.sort_by(|a, b| a.name.cmp(&b.name));
    schema.materialized_views.sort_by(|a, b| a.name.cmp(&b.name));
    schema.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    schema.triggers.sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
    schema.comments.sort();
}
