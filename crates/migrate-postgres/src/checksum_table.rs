//! The checksum companion table, `<table>_checksums` beside goose's version table (which is never
//! altered): one row per applied SQL migration, written in the same transaction as its version row.

use migrate_core::{ChecksumRow, Version};

use crate::table::{quote_identifier, TableName};

/// The SQL of the checksum table of one version table.
#[derive(Debug, Clone)]
pub(crate) struct ChecksumTableSql {
    table: String,
    pub(crate) create: String,
    pub(crate) list: String,
}

impl ChecksumTableSql {
    pub(crate) fn new(version_table: &TableName) -> ChecksumTableSql {
        let name = quote_identifier(&format!("{}_checksums", version_table.table()));
        let table = match version_table.schema() {
            Some(schema) => format!("{}.{name}", quote_identifier(schema)),
            None => name,
        };
        ChecksumTableSql {
            create: format!(
                "CREATE TABLE IF NOT EXISTS {table} (\n  version_id bigint PRIMARY KEY,\n  up_checksum text NOT NULL,\n  \
                 down_checksum text NOT NULL,\n  up_statements text NOT NULL,\n  no_transaction boolean NOT NULL,\n  \
                 tool_version text NOT NULL,\n  file_sha256 text NOT NULL,\n  recorded_at timestamp NOT NULL DEFAULT \
                 now()\n)"
            ),
            list: format!(
                "SELECT version_id, up_checksum, down_checksum, up_statements, no_transaction, tool_version, \
                 file_sha256 FROM {table}"
            ),
            table,
        }
    }

    /// Records a row, replacing the version's previous one.
    pub(crate) fn upsert(&self, row: &ChecksumRow) -> String {
        format!(
            "INSERT INTO {} (version_id, up_checksum, down_checksum, up_statements, no_transaction, tool_version, \
             file_sha256) VALUES ({}, {}, {}, {}, {}, {}, {}) ON CONFLICT (version_id) DO UPDATE SET up_checksum = EXCLUDED.up_checksum, \
             down_checksum = EXCLUDED.down_checksum, up_statements = EXCLUDED.up_statements, \
             no_transaction = EXCLUDED.no_transaction, tool_version = EXCLUDED.tool_version, \
             file_sha256 = EXCLUDED.file_sha256, recorded_at = now()",
            self.table,
            row.version,
            literal(&row.up),
            literal(&row.down),
            literal(&row.up_statements),
            row.no_transaction,
            literal(&row.tool_version),
            literal(&row.file_digest),
        )
    }

    /// Forgets a version's row (its migration was rolled back).
    pub(crate) fn delete(&self, version: Version) -> String {
        format!("DELETE FROM {} WHERE version_id = {version}", self.table)
    }
}

/// A string literal (standard_conforming_strings, on since PostgreSQL 9.1).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beside_the_version_table() {
        let sql = ChecksumTableSql::new(&TableName::parse("app.versions").unwrap());
        assert!(
            sql.create.starts_with("CREATE TABLE IF NOT EXISTS \"app\".\"versions_checksums\" ("),
            "{}",
            sql.create
        );
        let row = ChecksumRow {
            version: Version::new(7).unwrap(),
            up: "ab".into(),
            down: "cd".into(),
            up_statements: "0011".into(),
            no_transaction: true,
            tool_version: "migrate 'x'".into(),
            file_digest: "ef".into(),
        };
        assert!(
            sql.upsert(&row).contains("VALUES (7, 'ab', 'cd', '0011', true, 'migrate ''x''', 'ef')"),
            "{}",
            sql.upsert(&row)
        );
        assert_eq!(
            sql.delete(Version::new(7).unwrap()),
            "DELETE FROM \"app\".\"versions_checksums\" WHERE version_id = 7"
        );
    }
}
