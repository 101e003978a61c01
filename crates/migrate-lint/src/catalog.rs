//! Every rule migrate's lint knows: its id, family, default severity and a one-line summary. squawk's rules
//! keep squawk's ids; the rest are ours.

use crate::finding::Severity;

/// Which family a rule belongs to (and so which part of the linter reports it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Mistakes in the goose file itself.
    Goose,
    /// squawk's PostgreSQL safety rules.
    Postgres,
    /// PostgreSQL safety rules squawk does not have.
    PostgresExtra,
    /// ClickHouse rules.
    ClickHouse,
    /// A team's conventions: off unless `migrate.toml` turns them on.
    Convention,
}

/// One rule of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// The id used in findings, `migrate.toml` and ignores.
    pub id: &'static str,
    /// The family.
    pub family: Family,
    /// The severity unless configured; `None` means off by default.
    pub default_severity: Option<Severity>,
    /// What the rule catches, in one line.
    pub summary: &'static str,
}

const fn rule(id: &'static str, family: Family, default_severity: Option<Severity>, summary: &'static str) -> RuleInfo {
    RuleInfo { id, family, default_severity, summary }
}

use Family::{ClickHouse, Convention, Goose, Postgres, PostgresExtra};
const ERROR: Option<Severity> = Some(Severity::Error);
const WARNING: Option<Severity> = Some(Severity::Warning);
const OFF: Option<Severity> = None;

/// The rules, family by family.
pub const RULES: &[RuleInfo] = &[
    rule("goose-parse-error", Goose, ERROR, "the file does not parse as a goose migration"),
    rule(
        "goose-split-body",
        Goose,
        ERROR,
        "a $$ body outside StatementBegin/StatementEnd that goose splits at a ';' line end",
    ),
    rule("missing-down", Goose, WARNING, "no -- +goose Down section"),
    rule("empty-down", Goose, WARNING, "a Down section with no statements"),
    rule("down-does-not-undo", Goose, WARNING, "Up creates an object that Down never drops"),
    rule(
        "no-transaction-required",
        Goose,
        ERROR,
        "a statement that cannot run in a transaction, in a transactional migration",
    ),
    rule("no-transaction-unneeded", Goose, WARNING, "NO TRANSACTION on a migration that needs none"),
    rule("envsub-unset", Goose, ERROR, "an ENVSUB variable with no default that is not set"),
    rule("lint-ignore-without-reason", Goose, ERROR, "a migrate:lint-ignore comment without a reason"),
    rule(
        "edited-applied-migration",
        Goose,
        ERROR,
        "an applied migration's Up section changed since it ran (needs a database: lint --database-url)",
    ),
    rule("adding-field-with-default", Postgres, WARNING, "ADD COLUMN with a volatile default rewrites the table"),
    rule("adding-foreign-key-constraint", Postgres, WARNING, "a foreign key without NOT VALID locks both tables"),
    rule("adding-not-nullable-field", Postgres, WARNING, "SET NOT NULL scans the table under an exclusive lock"),
    rule(
        "adding-required-field",
        Postgres,
        WARNING,
        "ADD COLUMN NOT NULL without a default fails on a non-empty table",
    ),
    rule("adding-serial-primary-key-field", Postgres, WARNING, "a primary key added without an existing unique index"),
    rule("ban-char-field", Postgres, WARNING, "char(n) pads and wastes space"),
    rule(
        "ban-concurrent-index-creation-in-transaction",
        Postgres,
        ERROR,
        "CREATE INDEX CONCURRENTLY inside a transaction fails",
    ),
    rule("ban-drop-column", Postgres, WARNING, "DROP COLUMN breaks running code and loses data"),
    rule("ban-drop-database", Postgres, WARNING, "DROP DATABASE loses data"),
    rule("ban-drop-not-null", Postgres, WARNING, "DROP NOT NULL can break code that assumed it"),
    rule("ban-drop-table", Postgres, WARNING, "DROP TABLE loses data"),
    rule("ban-drop-view", Postgres, WARNING, "DROP VIEW breaks code that reads it"),
    rule("ban-drop-function", Postgres, WARNING, "DROP FUNCTION breaks code that calls it"),
    rule("ban-drop-type", Postgres, WARNING, "DROP TYPE breaks columns and code that use it"),
    rule("ban-drop-default", Postgres, WARNING, "DROP DEFAULT breaks inserts that relied on it"),
    rule("ban-drop-schema", Postgres, WARNING, "DROP SCHEMA loses everything in it"),
    rule("ban-drop-sequence", Postgres, WARNING, "DROP SEQUENCE breaks the columns that use it"),
    rule("ban-drop-domain", Postgres, WARNING, "DROP DOMAIN breaks the columns that use it"),
    rule("ban-drop-constraint", Postgres, WARNING, "DROP CONSTRAINT lets bad data in"),
    rule(
        "ban-drop-generated-expression",
        Postgres,
        WARNING,
        "DROP EXPRESSION turns a generated column into a plain one",
    ),
    rule("ban-drop-extension", Postgres, WARNING, "DROP EXTENSION removes what depends on it"),
    rule("ban-set-schema", Postgres, WARNING, "SET SCHEMA moves an object away from running code"),
    rule("ban-alter-identity", Postgres, WARNING, "ALTER ... IDENTITY changes how ids are generated"),
    rule("renaming-object", Postgres, WARNING, "renaming an object breaks running code"),
    rule("unused-ignore", Postgres, WARNING, "a squawk-ignore comment naming a rule squawk does not have"),
    rule("ban-truncate-cascade", Postgres, WARNING, "TRUNCATE ... CASCADE empties other tables too"),
    rule("ban-uncommitted-transaction", Postgres, WARNING, "a BEGIN without COMMIT"),
    rule("ban-create-domain-with-constraint", Postgres, WARNING, "domain constraints are not validated on ALTER"),
    rule(
        "ban-alter-domain-with-add-constraint",
        Postgres,
        WARNING,
        "ALTER DOMAIN ADD CONSTRAINT scans every using table",
    ),
    rule("ban-duplicate-column-assignments", Postgres, WARNING, "a column assigned twice in one statement"),
    rule("changing-column-type", Postgres, WARNING, "ALTER COLUMN TYPE rewrites the table under an exclusive lock"),
    rule(
        "constraint-missing-not-valid",
        Postgres,
        WARNING,
        "a constraint added without NOT VALID scans the table under lock",
    ),
    rule("disallowed-unique-constraint", Postgres, WARNING, "a unique constraint built without an existing index"),
    rule("identifier-too-long", Postgres, WARNING, "an identifier longer than 63 bytes is truncated"),
    rule("prefer-bigint-over-int", Postgres, WARNING, "int ids run out; use bigint"),
    rule("prefer-bigint-over-smallint", Postgres, WARNING, "smallint ids run out; use bigint"),
    rule("prefer-identity", Postgres, WARNING, "serial columns; use GENERATED ... AS IDENTITY"),
    rule("prefer-repack", Postgres, WARNING, "VACUUM FULL / CLUSTER lock the table; use REPACK (pg-version 19 and up)"),
    rule("prefer-robust-stmts", Postgres, WARNING, "CREATE/DROP without IF [NOT] EXISTS fail when re-run"),
    rule("prefer-text-field", Postgres, WARNING, "varchar(n) changes need a rewrite; use text with a check"),
    rule("prefer-timestamp-tz", Postgres, WARNING, "timestamp without time zone"),
    rule("renaming-column", Postgres, WARNING, "renaming a column breaks running code"),
    rule("renaming-table", Postgres, WARNING, "renaming a table breaks running code"),
    rule("require-concurrent-index-creation", Postgres, WARNING, "CREATE INDEX without CONCURRENTLY blocks writes"),
    rule("require-concurrent-index-deletion", Postgres, WARNING, "DROP INDEX without CONCURRENTLY blocks writes"),
    rule("require-concurrent-partition-detach", Postgres, WARNING, "DETACH PARTITION without CONCURRENTLY"),
    rule("require-concurrent-reindex", Postgres, WARNING, "REINDEX without CONCURRENTLY"),
    rule("require-enum-value-ordering", Postgres, WARNING, "ADD VALUE without BEFORE/AFTER"),
    rule("transaction-nesting", Postgres, WARNING, "BEGIN/COMMIT inside goose's own transaction"),
    rule(
        "require-lock-timeout",
        Postgres,
        OFF,
        "no SET lock_timeout before a locking statement (on in squawk, off here unless configured)",
    ),
    rule(
        "require-statement-timeout",
        Postgres,
        OFF,
        "no SET statement_timeout before a locking statement (on in squawk, off here unless configured)",
    ),
    rule("ban-truncate", PostgresExtra, WARNING, "TRUNCATE empties a table (squawk bans only TRUNCATE ... CASCADE)"),
    rule(
        "ban-vacuum-full-and-cluster",
        PostgresExtra,
        WARNING,
        "VACUUM FULL / CLUSTER lock the table while they rewrite it (before PostgreSQL 19; then prefer-repack)",
    ),
    rule(
        "rewrite-in-long-transaction",
        PostgresExtra,
        WARNING,
        "a table rewrite in a transaction that goes on to other statements, holding its exclusive lock",
    ),
    rule(
        "clickhouse-non-replicated-engine",
        ClickHouse,
        WARNING,
        "cluster mode: a MergeTree table that is not Replicated",
    ),
    rule("clickhouse-missing-on-cluster", ClickHouse, WARNING, "cluster mode: DDL without ON CLUSTER"),
    rule(
        "clickhouse-mutation-without-sync",
        ClickHouse,
        WARNING,
        "ALTER ... UPDATE/DELETE returns before the mutation is done",
    ),
    rule("clickhouse-optimize-final", ClickHouse, WARNING, "OPTIMIZE ... FINAL rewrites every part"),
    rule(
        "clickhouse-distributed-without-local",
        ClickHouse,
        ERROR,
        "a Distributed table over a local table no migration creates before it",
    ),
    rule("clickhouse-drop-without-if-exists", ClickHouse, WARNING, "DROP without IF EXISTS fails when re-run"),
    rule("clickhouse-changing-order-by", ClickHouse, WARNING, "MODIFY ORDER BY / PRIMARY KEY"),
    rule(
        "clickhouse-materialized-view-without-to",
        ClickHouse,
        WARNING,
        "a MATERIALIZED VIEW without TO hides its data in an inner table",
    ),
    rule("clickhouse-nullable-in-order-by", ClickHouse, WARNING, "a Nullable column in ORDER BY"),
    rule(
        "clickhouse-hardcoded-database",
        ClickHouse,
        WARNING,
        "a database name written into DDL instead of ${CLICKHOUSE_DATABASE}",
    ),
    rule("convention-id-column-type", Convention, OFF, "an id column of another type than the team's (option id-type)"),
    rule(
        "convention-timestamp-precision",
        Convention,
        OFF,
        "a timestamp column without the team's precision (option timestamp-precision)",
    ),
    rule("convention-required-timestamps", Convention, OFF, "CREATE TABLE without created_at and updated_at"),
    rule(
        "convention-constraint-name",
        Convention,
        OFF,
        "a named constraint not starting with its kind's prefix (options primary-key-prefix, foreign-key-prefix, ...)",
    ),
    rule(
        "convention-index-name",
        Convention,
        OFF,
        "an index name not starting with the team's prefix (option index-prefix)",
    ),
];

/// The rule with this id.
pub fn rule_info(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|info| info.id == id)
}
