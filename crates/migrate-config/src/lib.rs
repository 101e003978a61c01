//! `migrate.toml`: a project's migrations directory, version table, driver and service, and its
//! environments (dev, staging, prod...), each with its database, protection, lock, lint, backup and
//! metrics settings. This crate reads and checks the file; the CLI decides what wins over it (flags,
//! then environment variables, then this file, then the defaults).
//!
//! Nothing secret is ever written in the file: a database is a URL without a password, the name of the
//! variable holding the URL, or parts whose password is named by `password_env` or `password_file`. A
//! literal password is refused with its line, as is any key the file should not have.
//!
//! ```
//! use migrate_config::{ProjectConfig, Setting, PasswordSource};
//!
//! let text = r#"
//! dir = "migrations"
//! service = "auth-service"
//!
//! [environments.dev]
//! database_url_env = "DATABASE_URL"        # read the URL from this variable
//! [environments.prod]
//! database = { host_env = "POSTGRES_HOST", user_env = "POSTGRES_USER", password_env = "POSTGRES_PASSWORD", name = "girok_auth" }
//! protected = true
//! [environments.prod.backup]
//! mode = "required"
//! path = "/backups/{database}_{timestamp}.dump"
//! "#;
//! let config = ProjectConfig::parse("migrate.toml", text)?;
//! let prod = config.environment("prod")?;
//! assert!(prod.protected);
//! let database = prod.database.as_ref().unwrap();
//! assert_eq!(database.host, Setting::Env("POSTGRES_HOST".into()));
//! assert_eq!(database.password, Some(PasswordSource::Env("POSTGRES_PASSWORD".into())));
//!
//! let refused = ProjectConfig::parse("migrate.toml", "[environments.x]\ndatabase = { host = \"h\", password = \"s3cret\" }\n");
//! let message = refused.unwrap_err().to_string();
//! assert!(message.starts_with("migrate.toml:2: a password in migrate.toml is refused"));
//! assert!(!message.contains("s3cret"));
//! # Ok::<(), migrate_config::ConfigError>(())
//! ```

mod error;
mod model;
mod parse;
mod raw;

use std::path::PathBuf;

pub use crate::error::ConfigError;
pub use crate::model::{
    BackupConfig, BackupMethodConfig, BackupMode, DatabaseConfig, Environment, Located, MetricsConfig, PasswordSource,
    ProjectConfig, Service, Setting, Tenants,
};

/// The file's name, looked for in the working directory, then in the migrations directory.
pub const FILE_NAME: &str = "migrate.toml";

/// The variable that names the file, as `--config` does.
pub const CONFIG_VAR: &str = "MIGRATE_CONFIG";

/// The variable that picks the environment, as `--environment` does.
pub const ENVIRONMENT_VAR: &str = "MIGRATE_ENVIRONMENT";

impl ProjectConfig {
    /// Reads the text of a `migrate.toml`; `path` names the file in messages, and its relative paths
    /// (`dir`, `password_file`, `metrics.file`) are taken from the file's directory.
    pub fn parse(path: impl Into<PathBuf>, text: &str) -> Result<ProjectConfig, ConfigError> {
        parse::parse(&path.into(), text)
    }

    /// The environment called `name`.
    pub fn environment(&self, name: &str) -> Result<&Environment, ConfigError> {
        self.environments.get(name).ok_or_else(|| ConfigError::UnknownEnvironment {
            path: self.path.clone(),
            name: name.to_owned(),
            known: if self.environments.is_empty() {
                "none".to_owned()
            } else {
                self.environments.keys().cloned().collect::<Vec<_>>().join(", ")
            },
        })
    }

    /// Expands a database-name pattern: `{base}` (the top-level `database_base`), `{service}` and
    /// `{environment}`; `line` is the pattern's line, for the message when a placeholder is unknown.
    ///
    /// ```
    /// # use migrate_config::ProjectConfig;
    /// let config = ProjectConfig::parse("migrate.toml", "database_base = \"auth\"\n[environments.dev]\n")?;
    /// assert_eq!(config.expand_name("{base}_dev", 3, "dev", Some("auth-service"))?, "auth_dev");
    /// assert_eq!(config.expand_name("{environment}_{base}", 3, "dev", None)?, "dev_auth");
    /// assert!(config.expand_name("{nope}", 3, "dev", None).is_err());
    /// # Ok::<(), migrate_config::ConfigError>(())
    /// ```
    pub fn expand_name(
        &self,
        pattern: &str,
        line: usize,
        environment: &str,
        service: Option<&str>,
    ) -> Result<String, ConfigError> {
        let base = self.database_base.as_ref().map(|b| b.value.as_str());
        self.expand_name_with_base(pattern, line, environment, service, base)
    }

    /// [`ProjectConfig::expand_name`] with `{base}` given (a service's own `database_base`).
    pub fn expand_name_with_base(
        &self,
        pattern: &str,
        line: usize,
        environment: &str,
        service: Option<&str>,
        base: Option<&str>,
    ) -> Result<String, ConfigError> {
        let error = |message: String| ConfigError::Invalid { path: self.path.clone(), line, message };
        let mut out = String::with_capacity(pattern.len() + 16);
        let mut rest = pattern;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or_else(|| error(format!("{pattern:?}: a {{ without its }}")))?;
            let value = match &after[..close] {
                "base" => base.ok_or_else(|| {
                    error(
                        "{base} needs database_base = \"...\" at the top of migrate.toml (or in the service)"
                            .to_owned(),
                    )
                })?,
                "service" => service.ok_or_else(|| error("{service} needs service = \"...\"".to_owned()))?,
                "environment" => environment,
                other => {
                    return Err(error(format!(
                        "unknown placeholder {{{other}}} in {pattern:?}: use {{base}}, {{service}} or {{environment}}"
                    )))
                }
            };
            out.push_str(value);
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
