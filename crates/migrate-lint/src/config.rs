//! The `[lint]` section of `migrate.toml` (at the migrations directory's root): rules on or off, their
//! severities and options.
//!
//! ```toml
//! [lint]
//! pg-version = "11"          # the server the migrations target (squawk's version-aware rules)
//! cluster = true             # ClickHouse cluster mode: replicated engines and ON CLUSTER
//!
//! [lint.rules]
//! prefer-robust-stmts = "off"
//! ban-drop-table = "error"
//! convention-id-column-type = "warning"
//!
//! [lint.options]
//! id-type = "bigint"
//! timestamp-precision = 6
//! index-prefix = "idx_"
//! primary-key-prefix = "pk_"     # also foreign-key-prefix ("fk_"), unique-prefix ("uq_"), check-prefix ("ck_")
//! database-variable = "CLICKHOUSE_DATABASE"
//! ```

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::catalog::rule_info;
use crate::finding::Severity;

/// What `[lint]` configures. `LintConfig::default()` is "no migrate.toml".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintConfig {
    /// The PostgreSQL version the migrations target, e.g. `"11"` or `"15.2"`.
    pub pg_version: Option<String>,
    /// ClickHouse cluster mode.
    pub cluster: bool,
    /// Per-rule settings: `None` turns the rule off.
    pub rules: BTreeMap<String, Option<Severity>>,
    /// Rule options.
    pub options: RuleOptions,
}

/// The options of the configurable rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOptions {
    /// The type an `id` column must have (`convention-id-column-type`).
    pub id_type: String,
    /// The precision a timestamp column must have (`convention-timestamp-precision`).
    pub timestamp_precision: u32,
    /// The prefix index names must start with (`convention-index-name`).
    pub index_prefix: String,
    /// The prefixes named constraints must start with (`convention-constraint-name`): primary key, foreign
    /// key, unique, check.
    pub constraint_prefixes: ConstraintPrefixes,
    /// The ENVSUB variable ClickHouse DDL names its database with (`clickhouse-hardcoded-database`).
    pub database_variable: String,
}

impl Default for RuleOptions {
    fn default() -> RuleOptions {
        RuleOptions {
            id_type: "bigint".to_string(),
            timestamp_precision: 6,
            index_prefix: "idx_".to_string(),
            constraint_prefixes: ConstraintPrefixes::default(),
            database_variable: "CLICKHOUSE_DATABASE".to_string(),
        }
    }
}

/// The prefix of each kind of named constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintPrefixes {
    /// `primary-key-prefix`, default `pk_`.
    pub primary_key: String,
    /// `foreign-key-prefix`, default `fk_`.
    pub foreign_key: String,
    /// `unique-prefix`, default `uq_`.
    pub unique: String,
    /// `check-prefix`, default `ck_`.
    pub check: String,
}

impl Default for ConstraintPrefixes {
    fn default() -> ConstraintPrefixes {
        ConstraintPrefixes {
            primary_key: "pk_".to_string(),
            foreign_key: "fk_".to_string(),
            unique: "uq_".to_string(),
            check: "ck_".to_string(),
        }
    }
}

/// A `migrate.toml` that cannot be used, with the line to look at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ConfigError {
    /// The configuration file.
    pub file: String,
    /// 1-based line (1 when the problem is not tied to one).
    pub line: usize,
    /// What is wrong and what to write instead.
    pub message: String,
}

impl LintConfig {
    /// The severity of `rule` after configuration, or `None` when it is off.
    pub fn severity(&self, rule: &str, reported: Severity) -> Option<Severity> {
        if let Some(configured) = self.rules.get(rule) {
            return *configured;
        }
        match rule_info(rule) {
            Some(info) => info.default_severity,
            // A squawk rule the catalog does not list: on when squawk reports it.
            None => Some(reported),
        }
    }

    /// Whether `rule` is on.
    pub fn is_on(&self, rule: &str) -> bool {
        self.severity(rule, Severity::Warning).is_some()
    }

    /// Parses the text of a `migrate.toml`; a file without `[lint]` gives the defaults.
    pub fn from_toml(file: &str, text: &str) -> Result<LintConfig, ConfigError> {
        let error = |line: usize, message: String| ConfigError { file: file.to_string(), line, message };
        let table: toml::Table = match text.parse() {
            Ok(table) => table,
            Err(parse_error) => {
                let line = parse_error.span().map_or(1, |span| line_of(text, span.start));
                let message = parse_error.message().to_string();
                return Err(error(line, message));
            }
        };
        let mut config = LintConfig::default();
        let Some(lint) = table.get("lint") else { return Ok(config) };
        let line_of_key =
            |key: &str| text.lines().position(|line| line.trim_start().starts_with(key)).map_or(1, |n| n + 1);
        let Some(lint) = lint.as_table() else {
            return Err(error(line_of_key("lint"), "\"lint\" must be a table: write [lint]".to_string()));
        };
        for (key, value) in lint {
            match (key.as_str(), value) {
                ("pg-version", toml::Value::String(version)) => {
                    if squawk_linter::Version::from_str(version).is_err() {
                        return Err(error(line_of_key(key), format!("pg-version {version:?} is not a version: write e.g. \"15\" or \"11.2\"")));
                    }
                    config.pg_version = Some(version.clone());
                }
                ("pg-version", toml::Value::Integer(major)) => config.pg_version = Some(major.to_string()),
                ("cluster", toml::Value::Boolean(cluster)) => config.cluster = *cluster,
                ("rules", toml::Value::Table(rules)) => {
                    for (rule, setting) in rules {
                        let known = rule_info(rule).is_some() || squawk_linter::Rule::from_str(rule).is_ok();
                        if !known {
                            return Err(error(line_of_key(rule), format!("unknown rule {rule:?}: see docs/lint.md for the rule ids")));
                        }
                        let severity = match setting.as_str() {
                            Some("off") => None,
                            Some(name) => Some(Severity::from_str(name).map_err(|e| error(line_of_key(rule), format!("{rule}: {e} or \"off\"")))?),
                            None => return Err(error(line_of_key(rule), format!("{rule}: write \"off\", \"warning\" or \"error\""))),
                        };
                        config.rules.insert(rule.clone(), severity);
                    }
                }
                ("options", toml::Value::Table(options)) => {
                    for (option, value) in options {
                        let wrong = |what: &str| error(line_of_key(option), format!("option {option} must be {what}"));
                        match option.as_str() {
                            "id-type" => config.options.id_type = value.as_str().ok_or_else(|| wrong("a string"))?.to_ascii_lowercase(),
                            "timestamp-precision" => {
                                let precision = value.as_integer().and_then(|n| u32::try_from(n).ok()).filter(|n| *n <= 6);
                                config.options.timestamp_precision = precision.ok_or_else(|| wrong("an integer from 0 to 6"))?;
                            }
                            "index-prefix" => config.options.index_prefix = value.as_str().ok_or_else(|| wrong("a string"))?.to_string(),
                            "primary-key-prefix" | "foreign-key-prefix" | "unique-prefix" | "check-prefix" => {
                                let prefixes = &mut config.options.constraint_prefixes;
                                let slot = match option.as_str() {
                                    "primary-key-prefix" => &mut prefixes.primary_key,
                                    "foreign-key-prefix" => &mut prefixes.foreign_key,
                                    "unique-prefix" => &mut prefixes.unique,
                                    _ => &mut prefixes.check,
                                };
                                *slot = value.as_str().ok_or_else(|| wrong("a string"))?.to_string();
                            }
                            "database-variable" => {
                                config.options.database_variable = value.as_str().ok_or_else(|| wrong("a string"))?.to_string()
                            }
                            _ => return Err(error(line_of_key(option), format!("unknown option {option:?}: use id-type, timestamp-precision, index-prefix, primary-key-prefix, foreign-key-prefix, unique-prefix, check-prefix or database-variable"))),
                        }
                    }
                }
                _ => {
                    return Err(error(line_of_key(key), format!("unknown or mistyped [lint] key {key:?}: use pg-version (string), cluster (bool), [lint.rules] or [lint.options]")))
                }
            }
        }
        Ok(config)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |prefix| prefix.matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::LintConfig;
    use crate::finding::Severity;

    #[test]
    fn rules_and_options_are_read() {
        let text = "[lint]\npg-version = \"11\"\n[lint.rules]\nban-drop-table = \"error\"\nprefer-robust-stmts = \"off\"\n[lint.options]\nid-type = \"UUID\"\n";
        let config = LintConfig::from_toml("migrate.toml", text).unwrap();
        assert_eq!(config.pg_version.as_deref(), Some("11"));
        assert_eq!(config.severity("ban-drop-table", Severity::Warning), Some(Severity::Error));
        assert!(!config.is_on("prefer-robust-stmts"));
        assert!(!config.is_on("convention-id-column-type"));
        assert_eq!(config.options.id_type, "uuid");
    }

    #[test]
    fn an_unknown_rule_names_its_line() {
        let error = LintConfig::from_toml("m.toml", "[lint.rules]\n\nno-such-rule = \"off\"\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.message.contains("no-such-rule"), "{error}");
    }

    #[test]
    fn a_bad_severity_is_refused() {
        let error = LintConfig::from_toml("m.toml", "[lint.rules]\nban-drop-table = \"fatal\"\n").unwrap_err();
        assert!(error.message.contains("fatal"), "{error}");
    }
}
