//! Lint for goose migration files, before anything runs.
//!
//! [`lint_dir`] (or [`lint_files`]) parses each migration with migrate-core's goose parser, then runs four
//! families of rules ([`catalog::RULES`]): mistakes in the goose file itself, squawk's PostgreSQL safety
//! rules (through squawk's own published linter, so the findings are squawk's), ClickHouse rules over a
//! small tokenizer, and a team's conventions (off until `migrate.toml` turns them on). Every [`Finding`]
//! has a rule id, a severity, `file:line:column`, a one-line message and a one-line fix; [`render`] prints a
//! [`Report`] as text, JSON, SARIF 2.1.0 or GitHub annotations.
//!
//! ```
//! use migrate_lint::{lint_text, Dialect, LintConfig, LintOptions};
//! let options = LintOptions { dialect: Some(Dialect::Postgres), config: LintConfig::default(), lookup: &|_| None };
//! let report = lint_text("001_t.sql", "-- +goose Up\nCREATE INDEX i ON t (x);\n", &options);
//! assert!(report.findings.iter().any(|f| f.rule == "require-concurrent-index-creation"));
//! assert!(report.findings.iter().any(|f| f.rule == "missing-down"));
//! ```

#![deny(missing_docs)]

pub mod catalog;
pub mod config;
mod file;
pub mod finding;
pub mod format;
mod ignore;
mod location;
mod preflight;
mod rules;
mod tokens;

use std::fs;
use std::path::{Path, PathBuf};

pub use crate::config::{ConfigError, LintConfig};
pub use crate::finding::{Finding, Severity};
pub use crate::format::{render, Format};
pub use crate::preflight::LintPreflight;

use crate::file::{MigrationFile, RawFinding};
use crate::ignore::Ignores;
use crate::rules::clickhouse::ClickHouseState;

/// Which database the migrations are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL: goose rules and squawk's rules.
    Postgres,
    /// ClickHouse: goose rules and the ClickHouse rules.
    ClickHouse,
}

/// How to lint.
pub struct LintOptions<'a> {
    /// The database; `None` guesses per file (an `ENGINE =` clause means ClickHouse).
    pub dialect: Option<Dialect>,
    /// The `[lint]` configuration.
    pub config: LintConfig,
    /// ENVSUB variables (the process environment, in the CLI).
    pub lookup: &'a (dyn Fn(&str) -> Option<String> + Sync),
}

/// What a lint run found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The number of files linted.
    pub files: usize,
    /// The findings, by file and position.
    pub findings: Vec<Finding>,
}

impl Report {
    /// The number of findings of a severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == severity).count()
    }

    /// Whether the run fails: any error, or any warning when `strict`.
    pub fn fails(&self, strict: bool) -> bool {
        self.count(Severity::Error) > 0 || (strict && !self.findings.is_empty())
    }
}

/// A lint run that could not read its input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LintError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `migrate.toml` is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The directory's migrations do not resolve (bad names, duplicate versions).
    #[error(transparent)]
    Resolve(#[from] migrate_core::ResolveError),
}

/// The name of the configuration file at the migrations directory's root.
pub const CONFIG_FILE: &str = "migrate.toml";

/// Reads `migrate.toml` from a directory; no file gives the defaults.
pub fn read_config(dir: &Path) -> Result<LintConfig, LintError> {
    read_config_file(&dir.join(CONFIG_FILE))
}

/// Reads the `[lint]` section of this file (a project's `migrate.toml` wherever it is); no file gives the
/// defaults.
pub fn read_config_file(path: &Path) -> Result<LintConfig, LintError> {
    let path = path.to_owned();
    match fs::read_to_string(&path) {
        Ok(text) => Ok(LintConfig::from_toml(&path.display().to_string(), &text)?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(LintConfig::default()),
        Err(source) => Err(LintError::Read { path, source }),
    }
}

/// The SQL migrations of a directory, in goose's order, as migrate-core's resolver finds them (so lint
/// sees exactly the files a run applies).
pub fn migration_files(dir: &Path) -> Result<Vec<PathBuf>, LintError> {
    let migrations = migrate_core::resolve(&migrate_core::DirectorySource::new(dir), &[])?;
    Ok(migrations
        .iter()
        .filter(|m| matches!(m.kind(), migrate_core::MigrationKind::Sql { .. }))
        .map(|m| PathBuf::from(m.path()))
        .collect())
}

/// Lints a migrations directory; its `migrate.toml`, when present, replaces `options.config`.
pub fn lint_dir(dir: &Path, options: &LintOptions<'_>) -> Result<Report, LintError> {
    let config = if dir.join(CONFIG_FILE).exists() { read_config(dir)? } else { options.config.clone() };
    let options = LintOptions { dialect: options.dialect, config, lookup: options.lookup };
    lint_files(&migration_files(dir)?, &options)
}

/// Lints files, in the order given (the Distributed-table rule looks at earlier files).
pub fn lint_files(files: &[PathBuf], options: &LintOptions<'_>) -> Result<Report, LintError> {
    let lint = |files: &[PathBuf]| -> Result<Report, LintError> {
        let mut linter = Linter::new(options);
        for path in files {
            let text = fs::read_to_string(path).map_err(|source| LintError::Read { path: path.clone(), source })?;
            linter.lint(&path.display().to_string(), &text);
        }
        Ok(linter.finish())
    };
    // PostgreSQL files are linted each on its own (only ClickHouse's rules look at earlier files): two
    // threads take half each.
    if options.dialect != Some(Dialect::Postgres) || files.len() < 16 {
        return lint(files);
    }
    let (first, second) = files.split_at(files.len() / 2);
    let (first, second) = std::thread::scope(|scope| {
        let second = scope.spawn(|| lint(second));
        (lint(first), second.join())
    });
    let mut report = first?;
    // A panic in the other half is a bug; lint that half here again so it surfaces as one.
    let other = match second {
        Ok(result) => result?,
        Err(_) => lint(files.split_at(files.len() / 2).1)?,
    };
    report.files += other.files;
    report.findings.extend(other.findings);
    report.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(report)
}

/// Lints one file's text.
pub fn lint_text(file: &str, text: &str, options: &LintOptions<'_>) -> Report {
    let mut linter = Linter::new(options);
    linter.lint(file, text);
    linter.finish()
}

/// Lints the `pending` files of a run, reading the files before them for context only (a Distributed
/// table over a local table an applied migration created is fine); findings name `pending` files only.
/// `files` are `(path, text)` in version order; `pending` holds indexes into it.
pub fn lint_pending(files: &[(&str, &str)], pending: &[usize], options: &LintOptions<'_>) -> Report {
    let mut linter = Linter::new(options);
    let last = pending.iter().copied().max();
    for (index, (name, text)) in files.iter().enumerate() {
        if Some(index) > last {
            break;
        }
        if pending.contains(&index) {
            linter.lint(name, text);
        } else {
            linter.observe(name, text);
        }
    }
    linter.finish()
}

/// Adds a finding for each applied migration whose Up section changed since it ran (migrate-core's
/// checksum check, from a connected lint), keeping the report in file order.
pub fn add_history_findings(report: &mut Report, changed: &[migrate_core::ChangedMigration], config: &LintConfig) {
    const RULE: &str = "edited-applied-migration";
    for change in changed.iter().filter(|c| c.direction == migrate_core::Direction::Up) {
        let Some(severity) = config.severity(RULE, Severity::Error) else { return };
        let (statement, line) = change.statement.unwrap_or((1, 1));
        report.findings.push(Finding {
            rule: RULE.to_string(),
            severity,
            file: change.file.clone(),
            line,
            column: 1,
            message: format!(
                "version {} is applied, and its Up section changed since (first at statement {statement})",
                change.version
            ),
            fix: "restore the file and add a new migration; if the edit was intended, `migrate repair VERSION`"
                .to_string(),
        });
    }
    report.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// The state of one run: squawk's linter is built once, ClickHouse tables accumulate across files.
struct Linter<'o, 'a> {
    options: &'o LintOptions<'a>,
    /// The opt-in squawk rules configured on.
    opt_in: Vec<String>,
    /// The squawk rules configured (or by default) off.
    off: Vec<String>,
    pg_major: u32,
    clickhouse: ClickHouseState,
    report: Report,
}

impl<'o, 'a> Linter<'o, 'a> {
    fn new(options: &'o LintOptions<'a>) -> Linter<'o, 'a> {
        let config = &options.config;
        // squawk's opt-in rules run when configured on: the two timeout rules (off in the catalog) and any
        // rule `[lint.rules]` names with a severity (ban-drop-trigger, require-table-schema, ...).
        let timeouts = ["require-lock-timeout", "require-statement-timeout"].into_iter().filter(|id| config.is_on(id));
        let configured = config.rules.iter().filter(|(_, severity)| severity.is_some()).map(|(id, _)| id.as_str());
        let opt_in: Vec<String> = timeouts.chain(configured).map(str::to_string).collect();
        // And the rules that are off are not run at all (squawk's timeout rules are its slowest).
        let off: Vec<String> = catalog::RULES
            .iter()
            .filter(|rule| rule.family == catalog::Family::Postgres && !config.is_on(rule.id))
            .map(|rule| rule.id.to_string())
            .collect();
        let pg_major =
            config.pg_version.as_deref().and_then(|v| v.split('.').next()).and_then(|m| m.parse().ok()).unwrap_or(15);
        Linter { options, opt_in, off, pg_major, clickhouse: ClickHouseState::default(), report: Report::default() }
    }

    fn lint(&mut self, name: &str, text: &str) {
        self.report.files += 1;
        let mut raw: Vec<RawFinding> = Vec::new();
        let file = match MigrationFile::parse(name, text) {
            Ok(file) => file,
            Err(error) => {
                self.push(
                    name,
                    &Ignores::default(),
                    vec![RawFinding {
                        rule: "goose-parse-error".to_string(),
                        severity: Severity::Error,
                        line: error.line(),
                        column: 1,
                        message: error.kind().to_string(),
                        fix: "fix the file so goose can parse it; goose refuses it as it is".to_string(),
                        anchor: 0,
                    }],
                );
                return;
            }
        };
        let ignores = Ignores::read(&file, &mut raw);
        let dialect = self.options.dialect.unwrap_or_else(|| guess_dialect(text));
        rules::goose::check(&file, dialect, self.pg_major, self.options.lookup, &mut raw);
        match dialect {
            Dialect::Postgres => {
                // A fresh squawk linter per file: one keeps every file's findings and ignores it has seen.
                let mut squawk =
                    rules::postgres::linter(self.options.config.pg_version.as_deref(), &self.opt_in, &self.off);
                rules::postgres::check(&file, &mut squawk, &mut raw);
                rules::postgres_extra::check(&file, self.pg_major, &mut raw);
            }
            Dialect::ClickHouse => {
                rules::clickhouse::check(&file, &self.options.config, &mut self.clickhouse, &mut raw)
            }
        }
        rules::convention::check(&file, &self.options.config, &mut raw);
        self.push(name, &ignores, raw);
    }

    /// Reads a file only for what later files may refer to (ClickHouse tables); reports nothing.
    fn observe(&mut self, name: &str, text: &str) {
        let Ok(file) = MigrationFile::parse(name, text) else { return };
        if self.options.dialect.unwrap_or_else(|| guess_dialect(text)) == Dialect::ClickHouse {
            rules::clickhouse::check(&file, &self.options.config, &mut self.clickhouse, &mut Vec::new());
        }
    }

    fn push(&mut self, name: &str, ignores: &Ignores, raw: Vec<RawFinding>) {
        for finding in raw {
            if ignores.covers(&finding) {
                continue;
            }
            let Some(severity) = self.options.config.severity(&finding.rule, finding.severity) else { continue };
            self.report.findings.push(Finding {
                rule: finding.rule,
                severity,
                file: name.to_string(),
                line: finding.line,
                column: finding.column,
                message: finding.message,
                fix: finding.fix,
            });
        }
    }

    fn finish(mut self) -> Report {
        self.report.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.report
    }
}

/// ClickHouse DDL names an engine; PostgreSQL's never does.
fn guess_dialect(text: &str) -> Dialect {
    let upper = text.to_ascii_uppercase();
    if upper.contains("MERGETREE") || upper.contains("ENGINE =") || upper.contains("ENGINE=") {
        Dialect::ClickHouse
    } else {
        Dialect::Postgres
    }
}
