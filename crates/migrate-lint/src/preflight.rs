//! Lint as the run's preflight check: `up` lints the migrations it is about to apply before it takes the
//! lock, and an error refuses the run (see `migrate_core::Preflight`).

use std::path::PathBuf;

use migrate_core::{Migration, MigrationKind, Preflight, PreflightFinding};

use crate::{lint_pending, read_config_file, Dialect, LintConfig, LintError, LintOptions, Severity, CONFIG_FILE};

/// Lints the pending SQL migrations of a run with this configuration.
///
/// ```
/// use std::sync::Arc;
/// use migrate_core::RunOptions;
/// use migrate_lint::{Dialect, LintConfig, LintPreflight};
/// let options = RunOptions { preflight: Some(Arc::new(LintPreflight::new(Some(Dialect::Postgres), LintConfig::default()))), ..RunOptions::default() };
/// assert!(options.preflight.is_some());
/// ```
#[derive(Debug, Clone)]
pub struct LintPreflight {
    dialect: Option<Dialect>,
    config: ConfigSource,
    server_major: Option<u32>,
}

/// Where the `[lint]` configuration comes from.
#[derive(Debug, Clone)]
enum ConfigSource {
    Given(Box<LintConfig>),
    /// This `migrate.toml`, read only when something is pending (a no-op run reads nothing).
    File(PathBuf),
}

impl LintPreflight {
    /// Lint for this database (`None` guesses per file) with this `[lint]` configuration.
    pub fn new(dialect: Option<Dialect>, config: LintConfig) -> LintPreflight {
        LintPreflight { dialect, config: ConfigSource::Given(Box::new(config)), server_major: None }
    }

    /// Lint with the `migrate.toml` of this migrations directory (the defaults when it has none), read
    /// when the check runs; a file that cannot be used refuses the run.
    pub fn reading_config(dialect: Option<Dialect>, dir: impl Into<PathBuf>) -> LintPreflight {
        LintPreflight::reading_config_file(dialect, dir.into().join(CONFIG_FILE))
    }

    /// Lint with the `[lint]` section of this file (a project's `migrate.toml`), read when the check runs.
    pub fn reading_config_file(dialect: Option<Dialect>, path: impl Into<PathBuf>) -> LintPreflight {
        LintPreflight { dialect, config: ConfigSource::File(path.into()), server_major: None }
    }

    /// Targets the server the run is connected to: its major version (when the driver knows it, as
    /// PostgreSQL's does) replaces `pg-version` from the configuration, and it makes the dialect PostgreSQL.
    pub fn for_server(mut self, major: Option<u32>) -> LintPreflight {
        if major.is_some() {
            self.server_major = major;
            self.dialect = Some(Dialect::Postgres);
        }
        self
    }
}

impl Preflight for LintPreflight {
    fn name(&self) -> &'static str {
        "lint"
    }

    fn check(
        &self,
        migrations: &[Migration],
        pending: &[&Migration],
        lookup: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Vec<PreflightFinding> {
        let mut config = match &self.config {
            ConfigSource::Given(config) => (**config).clone(),
            ConfigSource::File(path) => match read_config_file(path) {
                Ok(config) => config,
                Err(error) => return vec![config_finding(path, &error)],
            },
        };
        if let Some(major) = self.server_major {
            config.pg_version = Some(major.to_string());
        }
        // A file that cannot be read is the planner's to report (it already parsed every pending file).
        let mut files: Vec<(&str, &str)> = Vec::with_capacity(migrations.len());
        let mut indexes = Vec::with_capacity(pending.len());
        let pending_versions: std::collections::HashSet<_> = pending.iter().map(|m| m.version()).collect();
        for migration in migrations {
            let MigrationKind::Sql { text } = migration.kind() else { continue };
            let Ok(text) = text.get() else { continue };
            if pending_versions.contains(&migration.version()) {
                indexes.push(files.len());
            }
            files.push((migration.path(), text));
        }
        let options = LintOptions { dialect: self.dialect, config, lookup };
        lint_pending(&files, &indexes, &options)
            .findings
            .into_iter()
            .map(|finding| PreflightFinding {
                error: finding.severity == Severity::Error,
                file: finding.file,
                line: finding.line,
                column: finding.column,
                rule: finding.rule,
                message: finding.message,
                fix: finding.fix,
            })
            .collect()
    }
}

/// A `migrate.toml` that cannot be used, as a finding that refuses the run.
fn config_finding(path: &std::path::Path, error: &LintError) -> PreflightFinding {
    let (file, line, message) = match error {
        LintError::Config(config) => (config.file.clone(), config.line, config.message.clone()),
        other => (path.display().to_string(), 1, other.to_string()),
    };
    PreflightFinding {
        error: true,
        file,
        line,
        column: 1,
        rule: "lint-config".to_string(),
        message,
        fix: "fix the [lint] section of migrate.toml".to_string(),
    }
}
