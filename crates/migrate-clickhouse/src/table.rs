//! The version table's name, checked once and quoted by one helper, and the names of the two companion
//! tables derived from it.

use std::fmt;

/// A version-table name: `table` or `database.table`, each an unquoted identifier.
///
/// goose pastes the name into its SQL unquoted; ClickHouse identifiers are case-sensitive, so the name is
/// kept as written. Only plain identifiers are accepted, so the quoted form always names the table goose
/// would use and no name can inject SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    database: Option<String>,
    table: String,
}

/// A table name that is not `identifier` or `database.identifier`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version table name {name:?}: use an identifier or database.identifier (ASCII letters, digits and _, not starting with a digit)")]
pub struct TableNameError {
    name: String,
}

/// The longest identifier accepted; the companion tables add `_progress` to it.
const MAX_IDENTIFIER: usize = 200;

impl TableName {
    /// goose's default, `goose_db_version`.
    pub fn goose_default() -> TableName {
        TableName { database: None, table: "goose_db_version".to_owned() }
    }

    /// Parses `table` or `database.table`.
    ///
    /// ```
    /// use migrate_clickhouse::TableName;
    /// assert_eq!(TableName::parse("analytics.Goose").unwrap().to_string(), "`analytics`.`Goose`");
    /// assert!(TableName::parse("x; DROP TABLE y").is_err());
    /// ```
    pub fn parse(name: &str) -> Result<TableName, TableNameError> {
        let error = || TableNameError { name: name.to_owned() };
        let (database, table) = match name.split_once('.') {
            Some((database, table)) => (Some(database), table),
            None => (None, name),
        };
        let identifier = |part: &str| -> Result<String, TableNameError> {
            let mut chars = part.chars();
            let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') || part.len() > MAX_IDENTIFIER {
                return Err(error());
            }
            Ok(part.to_owned())
        };
        Ok(TableName { database: database.map(identifier).transpose()?, table: identifier(table)? })
    }

    /// The database, when the name is qualified.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// The table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The name in `default_database` when it names no database.
    pub(crate) fn qualified(&self, default_database: &str) -> TableName {
        let database = self.database.clone().unwrap_or_else(|| default_database.to_owned());
        TableName { database: Some(database), table: self.table.clone() }
    }

    /// The companion table `<table><suffix>` in the same database.
    pub(crate) fn with_suffix(&self, suffix: &str) -> TableName {
        TableName { database: self.database.clone(), table: format!("{}{suffix}", self.table) }
    }
}

impl fmt::Display for TableName {
    /// The quoted, qualified name as it appears in SQL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(database) = &self.database {
            write!(f, "{}.", quote_identifier(database))?;
        }
        f.write_str(&quote_identifier(&self.table))
    }
}

/// Quotes an identifier with backticks: the one place identifiers enter SQL text.
pub(crate) fn quote_identifier(identifier: &str) -> String {
    format!("`{}`", identifier.replace('\\', "\\\\").replace('`', "\\`"))
}

/// Quotes a string literal: the one place text values enter SQL text.
pub(crate) fn quote_string(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let ok = |name: &str, expected: &str| assert_eq!(TableName::parse(name).unwrap().to_string(), expected);
        ok("goose_db_version", "`goose_db_version`");
        ok("Goose_DB_Version", "`Goose_DB_Version`");
        ok("analytics.versions", "`analytics`.`versions`");
        ok("_x1", "`_x1`");
        for bad in ["", "1abc", "a.b.c", "a b", "a;b", "`x`", "a.", ".b", "tëst", "a$b", &"x".repeat(201)] {
            assert!(TableName::parse(bad).is_err(), "{bad:?}");
        }
        let lock = TableName::parse("db.v").unwrap().with_suffix("_lock");
        assert_eq!(lock.to_string(), "`db`.`v_lock`");
        assert_eq!(TableName::goose_default().qualified("my-db").to_string(), "`my-db`.`goose_db_version`");
        assert_eq!(lock.qualified("other").to_string(), "`db`.`v_lock`");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_identifier("a`b\\c"), "`a\\`b\\\\c`");
        assert_eq!(quote_string("it's a\\b"), "'it\\'s a\\\\b'");
    }
}
