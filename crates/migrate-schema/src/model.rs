//! The catalog model: every schema object a migration can create, as plain values with no OIDs, in a
//! deterministic order (by schema, then name), so two reads of equal schemas are equal values.
//!
//! Definitions that PostgreSQL itself can print canonically (a constraint, an index, a view's query, a
//! function) are kept as the server's text (`pg_get_*def` with an empty `search_path`, so every name is
//! schema-qualified): comparing and re-creating them then never depends on our own SQL printer.

use std::fmt;

/// A schema-qualified name, unquoted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualifiedName {
    /// The schema (`public`...).
    pub schema: String,
    /// The object's name within it.
    pub name: String,
}

impl QualifiedName {
    /// A name in `schema`.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> QualifiedName {
        QualifiedName { schema: schema.into(), name: name.into() }
    }
}

/// Quoted as SQL writes it: `public.users`, `"My Schema"."order"`.
impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", crate::quote::ident(&self.schema), crate::quote::ident(&self.name))
    }
}

/// A whole database's schema: every user object outside the system schemas, except the version table
/// and its companions, and except what extensions own (their `CREATE EXTENSION` recreates it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// Schemas (namespaces), `public` included.
    pub schemas: Vec<String>,
    /// Extensions.
    pub extensions: Vec<Extension>,
    /// Enum types.
    pub enums: Vec<Enum>,
    /// Domains.
    pub domains: Vec<Domain>,
    /// Composite types (`CREATE TYPE ... AS (...)`).
    pub composites: Vec<CompositeType>,
    /// Functions and procedures (aggregates are not read).
    pub functions: Vec<Function>,
    /// Sequences, except identity columns' own.
    pub sequences: Vec<Sequence>,
    /// Tables, partitioned tables and partitions.
    pub tables: Vec<Table>,
    /// Views.
    pub views: Vec<View>,
    /// Materialized views.
    pub materialized_views: Vec<View>,
    /// Indexes, except those a constraint owns and partitions' copies of a partitioned index.
    pub indexes: Vec<Index>,
    /// Triggers, except internal ones and partitions' copies.
    pub triggers: Vec<Trigger>,
    /// Comments on any of the above.
    pub comments: Vec<Comment>,
}

/// An extension (its version is left out: the same migrations on two servers may get two versions).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Extension {
    /// The extension's name.
    pub name: String,
    /// The schema its objects live in.
    pub schema: String,
}

/// An enum type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enum {
    /// The type.
    pub name: QualifiedName,
    /// Its labels, in sort order.
    pub labels: Vec<String>,
}

/// A domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// The domain.
    pub name: QualifiedName,
    /// The base type, as `format_type` prints it.
    pub base_type: String,
    /// A collation other than the base type's.
    pub collation: Option<String>,
    /// The default expression.
    pub default: Option<String>,
    /// `NOT NULL`.
    pub not_null: bool,
    /// Its CHECK constraints: name and definition, by name.
    pub checks: Vec<(String, String)>,
}

/// A composite type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositeType {
    /// The type.
    pub name: QualifiedName,
    /// Its attributes, in order: name, type, and a collation other than the type's default.
    pub attributes: Vec<(String, String, Option<String>)>,
}

/// Whether a routine is a function or a procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutineKind {
    /// `CREATE FUNCTION` (window functions too).
    Function,
    /// `CREATE PROCEDURE`.
    Procedure,
}

/// A function or procedure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// The routine.
    pub name: QualifiedName,
    /// Its identity arguments (`integer, text`): functions overload on them.
    pub arguments: String,
    /// Function or procedure.
    pub kind: RoutineKind,
    /// The server's `CREATE OR REPLACE ...` statement, without a final semicolon.
    pub definition: String,
}

/// A sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    /// The sequence.
    pub name: QualifiedName,
    /// Its type (`bigint`, `integer`, `smallint`).
    pub data_type: String,
    /// `START WITH`.
    pub start: i64,
    /// `INCREMENT BY`.
    pub increment: i64,
    /// `MINVALUE`.
    pub min: i64,
    /// `MAXVALUE`.
    pub max: i64,
    /// `CACHE`.
    pub cache: i64,
    /// `CYCLE`.
    pub cycle: bool,
    /// The column that owns it (`serial`, `OWNED BY`): table and column name.
    pub owned_by: Option<(QualifiedName, String)>,
}

/// What kind of table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableKind {
    /// An ordinary table.
    Ordinary,
    /// A partitioned table, with its partition key (`RANGE (created_at)`).
    Partitioned {
        /// `pg_get_partkeydef`'s text.
        key: String,
    },
}

/// A table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The table.
    pub name: QualifiedName,
    /// Ordinary or partitioned.
    pub kind: TableKind,
    /// `UNLOGGED`.
    pub unlogged: bool,
    /// A partition's parent and bound (`FOR VALUES FROM (...) TO (...)`, `DEFAULT`).
    pub partition_of: Option<(QualifiedName, String)>,
    /// Parents of plain inheritance (`INHERITS`), in order.
    pub inherits: Vec<QualifiedName>,
    /// Columns it declares itself (inherited ones come from the parent), in order.
    pub columns: Vec<Column>,
    /// Constraints it declares itself, by name.
    pub constraints: Vec<Constraint>,
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// Its type, as `format_type` prints it (`character varying(20)`, `public.mood`).
    pub data_type: String,
    /// A collation other than the type's default (`pg_catalog."C"`).
    pub collation: Option<String>,
    /// The default expression (not for generated columns).
    pub default: Option<String>,
    /// `GENERATED ... AS IDENTITY`.
    pub identity: Option<Identity>,
    /// `GENERATED ALWAYS AS (expression) STORED`: the expression.
    pub generated: Option<String>,
    /// `NOT NULL`.
    pub not_null: bool,
}

/// An identity column's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// `GENERATED ALWAYS AS IDENTITY`.
    Always,
    /// `GENERATED BY DEFAULT AS IDENTITY`.
    ByDefault,
}

/// A table constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// The constraint's name.
    pub name: String,
    /// What kind, with a foreign key's details.
    pub kind: ConstraintKind,
    /// `pg_get_constraintdef`'s text (`PRIMARY KEY (id)`, `FOREIGN KEY ... ON DELETE CASCADE DEFERRABLE`).
    pub definition: String,
    /// `DEFERRABLE`.
    pub deferrable: bool,
    /// `INITIALLY DEFERRED`.
    pub initially_deferred: bool,
}

/// The kinds of table constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintKind {
    /// `PRIMARY KEY`.
    PrimaryKey,
    /// `UNIQUE`.
    Unique,
    /// `CHECK`.
    Check,
    /// `FOREIGN KEY`.
    ForeignKey {
        /// The referenced table.
        references: QualifiedName,
        /// `ON UPDATE`.
        on_update: ForeignKeyAction,
        /// `ON DELETE`.
        on_delete: ForeignKeyAction,
    },
    /// `EXCLUDE`.
    Exclusion,
}

/// A foreign key's referential action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForeignKeyAction {
    /// `NO ACTION` (the default).
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

impl ForeignKeyAction {
    /// `pg_constraint.confupdtype`/`confdeltype`'s letter.
    pub(crate) fn from_code(code: &str) -> ForeignKeyAction {
        match code {
            "r" => ForeignKeyAction::Restrict,
            "c" => ForeignKeyAction::Cascade,
            "n" => ForeignKeyAction::SetNull,
            "d" => ForeignKeyAction::SetDefault,
            _ => ForeignKeyAction::NoAction,
        }
    }
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The index (in its table's schema).
    pub name: QualifiedName,
    /// The table or materialized view it indexes.
    pub table: QualifiedName,
    /// The access method (`btree`, `gin`, `gist`, `hash`, `brin`...).
    pub method: String,
    /// `UNIQUE`.
    pub unique: bool,
    /// A partial index's predicate.
    pub predicate: Option<String>,
    /// Whether some key is an expression rather than a column.
    pub expression: bool,
    /// `INCLUDE` columns, in order.
    pub include: Vec<String>,
    /// The `CREATE INDEX` statement, without a final semicolon (a partitioned table's without `ONLY`,
    /// so its partitions get theirs).
    pub definition: String,
}

/// A view or materialized view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The view.
    pub name: QualifiedName,
    /// Its query, as `pg_get_viewdef` prints it (no final semicolon).
    pub query: String,
    /// Other views and materialized views its query reads, so they are created first.
    pub depends_on: Vec<QualifiedName>,
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The trigger's name.
    pub name: String,
    /// Its table or view.
    pub table: QualifiedName,
    /// `pg_get_triggerdef`'s `CREATE TRIGGER` statement.
    pub definition: String,
}

/// A comment (`COMMENT ON`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Comment {
    /// The object as `COMMENT ON` names it: `TABLE public.users`, `COLUMN public.users.email`,
    /// `FUNCTION public.touch()`...
    pub object: String,
    /// The text.
    pub text: String,
}
