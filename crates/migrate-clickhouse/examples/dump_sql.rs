//! Prints every SQL text the ClickHouse driver sends (see `migrate_clickhouse::sql_catalog`), each after a
//! `-- migrate-sql: <what>` line, for `scripts/chdb/check.py` to run on a current ClickHouse engine.
//!
//! `cargo run -q -p migrate-goose-clickhouse --example dump_sql [TABLE]` (default `goose_db_version`).

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let table = match std::env::args().nth(1) {
        Some(name) => migrate_clickhouse::TableName::parse(&name)?,
        None => migrate_clickhouse::TableName::goose_default(),
    };
    let mut out = std::io::stdout().lock();
    for (what, sql) in migrate_clickhouse::sql_catalog(&table, "default") {
        writeln!(out, "-- migrate-sql: {what}\n{sql}")?;
    }
    Ok(())
}
