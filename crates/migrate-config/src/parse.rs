//! From the raw file to the checked model: durations parsed, sources decided, and everything that could
//! hold a secret in the file refused.

use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::error::{line_of, ConfigError};
use crate::model::{
    BackupConfig, BackupMethodConfig, BackupMode, DatabaseConfig, Environment, Located, MetricsConfig, PasswordSource,
    ProjectConfig, Service, Setting, Tenants,
};
use crate::raw::{RawBackup, RawDatabase, RawEnvironment, RawMetrics, RawProject, RawService};

/// Reads the text of a `migrate.toml`; `path` names it in messages and anchors its relative paths.
pub(crate) fn parse(path: &Path, text: &str) -> Result<ProjectConfig, ConfigError> {
    let file = File { path, text };
    let raw: RawProject = toml::from_str(text).map_err(|error| {
        let line = error.span().map_or(1, |span| line_of(text, span.start));
        file.error(line, describe_toml_error(error.message()))
    })?;
    let mut environments = std::collections::BTreeMap::new();
    for (name, environment) in raw.environments {
        let line = file.line(&environment);
        let environment = file.environment(name.clone(), line, environment.into_inner())?;
        environments.insert(name, environment);
    }
    let mut services = std::collections::BTreeMap::new();
    for (name, service) in raw.services {
        let line = file.line(&service);
        let service = file.service(name.clone(), line, service.into_inner())?;
        services.insert(name, service);
    }
    let config = ProjectConfig {
        path: path.to_owned(),
        text: text.to_owned(),
        dir: raw.dir.map(|dir| file.relative_path(dir)),
        table: raw.table.map(|t| file.located(t)),
        driver: raw.driver.map(|d| file.located(d)),
        service: raw.service.map(|s| file.located(s)),
        database_base: raw.database_base.map(|b| file.located(b)),
        default_environment: raw.default_environment.map(|e| file.located(e)),
        log_format: raw.log_format.map(|f| file.located(f)),
        metrics: file.metrics(raw.metrics)?,
        has_lint: raw.lint.is_some(),
        environments,
        services,
    };
    if let Some(format) = &config.log_format {
        if !matches!(format.value.as_str(), "text" | "json") {
            return Err(file.error(format.line, "log_format must be \"text\" or \"json\"".to_owned()));
        }
    }
    if let Some(default) = &config.default_environment {
        if !config.environments.contains_key(&default.value) {
            return Err(file.error(
                default.line,
                format!(
                    "default_environment names {:?}, which has no [environments.{}] table",
                    default.value, default.value
                ),
            ));
        }
    }
    Ok(config)
}

/// serde's messages quote the offending value (`invalid type: string "…", expected …`), and a value put
/// under the wrong key may be a secret: keep what was expected, never the value.
fn describe_toml_error(message: &str) -> String {
    let message = message.trim();
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let expected = rest.rfind(", expected ").map(|at| &rest[at + 2..]);
            let what =
                if prefix.starts_with("invalid type") { "a value of the wrong type" } else { "an invalid value" };
            return match expected {
                Some(expected) => format!("{what}: {expected}"),
                None => what.to_owned(),
            };
        }
    }
    message.to_owned()
}

struct File<'a> {
    path: &'a Path,
    text: &'a str,
}

impl File<'_> {
    fn error(&self, line: usize, message: String) -> ConfigError {
        ConfigError::Invalid { path: self.path.to_owned(), line, message }
    }

    fn line<T>(&self, value: &Spanned<T>) -> usize {
        line_of(self.text, value.span().start)
    }

    fn located<T>(&self, value: Spanned<T>) -> Located<T> {
        let line = self.line(&value);
        Located { value: value.into_inner(), line }
    }

    /// A path from the file, relative to the file's own directory.
    fn relative_path(&self, value: Spanned<String>) -> Located<PathBuf> {
        let Located { value, line } = self.located(value);
        let path = PathBuf::from(value);
        let base = self.path.parent().filter(|p| !p.as_os_str().is_empty());
        let value = match base {
            Some(base) if path.is_relative() => base.join(path),
            _ => path,
        };
        Located { value, line }
    }

    fn variable(&self, key: &str, value: Spanned<String>) -> Result<String, ConfigError> {
        let Located { value, line } = self.located(value);
        let valid = value.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            // Not quoted: a value that is not a variable name may be the secret itself.
            return Err(self.error(
                line,
                format!("{key} must be the name of an environment variable (letters, digits and _), not the value"),
            ));
        }
        Ok(value)
    }

    fn duration(&self, key: &str, value: Spanned<String>) -> Result<std::time::Duration, ConfigError> {
        let Located { value, line } = self.located(value);
        migrate_core::url_syntax::parse_go_duration(&value).ok_or_else(|| {
            self.error(line, format!("{key} = {value:?} is not a duration: write e.g. \"30s\", \"5m\" or \"1h\""))
        })
    }

    fn metrics(&self, raw: Option<RawMetrics>) -> Result<MetricsConfig, ConfigError> {
        let raw = raw.unwrap_or_default();
        let push = match raw.push {
            Some(push) => {
                let push = self.located(push);
                if url_has_password(&push.value) {
                    return Err(self.error(push.line, password_refused("the metrics push URL")));
                }
                Some(push)
            }
            None => None,
        };
        Ok(MetricsConfig { push, file: raw.file.map(|file| self.relative_path(file)) })
    }

    fn environment(&self, name: String, line: usize, raw: RawEnvironment) -> Result<Environment, ConfigError> {
        let whole = [raw.database_url.as_ref(), raw.database_url_env.as_ref()].into_iter().flatten().count();
        let database = match (raw.database, whole) {
            (Some(database), 0) => Some(self.database(database)?),
            (Some(database), _) => {
                return Err(self.error(
                    self.line(&database),
                    "give the database once: database_url, database_url_env or database = { ... }".to_owned(),
                ))
            }
            (None, 2) => {
                let line = raw.database_url_env.as_ref().map_or(line, |v| self.line(v));
                return Err(self.error(line, "give database_url or database_url_env, not both".to_owned()));
            }
            (None, 1) => {
                let (key_line, url) = match (raw.database_url, raw.database_url_env) {
                    (Some(url), _) => (self.line(&url), self.url(url)?),
                    (None, Some(var)) => (self.line(&var), Setting::Env(self.variable("database_url_env", var)?)),
                    (None, None) => (line, Setting::Unset),
                };
                Some(DatabaseConfig { line: key_line, url, ..DatabaseConfig::empty(key_line) })
            }
            (None, _) => None,
        };
        let backup = match raw.backup {
            Some(backup) => {
                let line = self.line(&backup);
                Some(self.backup(line, backup.into_inner())?)
            }
            None => None,
        };
        Ok(Environment {
            name,
            line,
            database,
            dir: raw.dir.map(|dir| self.relative_path(dir)),
            table: raw.table.map(|t| self.located(t)),
            driver: raw.driver.map(|d| self.located(d)),
            protected: raw.protected.unwrap_or(false),
            lock_wait: raw.lock_wait.map(|w| self.duration("lock_wait", w)).transpose()?,
            lock_timeout: raw.lock_timeout.map(|w| self.duration("lock_timeout", w)).transpose()?,
            lock_retries: raw.lock_retries,
            lint: raw.lint,
            backup,
            metrics: self.metrics(raw.metrics)?,
        })
    }

    fn service(&self, name: String, line: usize, raw: RawService) -> Result<Service, ConfigError> {
        let dir = raw.dir.map(|dir| self.relative_path(dir)).ok_or_else(|| {
            self.error(line, format!("service {name} needs dir = \"...\" (its migrations directory)"))
        })?;
        let mut environments = std::collections::BTreeMap::new();
        for (env_name, environment) in raw.environments {
            let env_line = self.line(&environment);
            environments.insert(env_name.clone(), self.environment(env_name, env_line, environment.into_inner())?);
        }
        let tenants = match raw.tenants {
            None => None,
            Some(tenants) => {
                let tenants_line = self.line(&tenants);
                let tenants = tenants.into_inner();
                let one_of = "tenants takes one of databases, file, query, command (tenant databases), schemas or \
                              schemas_query (tenant schemas of one database)";
                let mut found = Vec::new();
                if let Some(databases) = tenants.databases {
                    found.push(Tenants::Databases(databases));
                }
                if let Some(path) = tenants.file {
                    found.push(Tenants::File(self.relative_path(path).value));
                }
                if let Some(query) = tenants.query {
                    found.push(Tenants::Query(query.into_inner()));
                }
                if let Some(command) = tenants.command {
                    let command_line = self.line(&command);
                    let argv = command.into_inner();
                    if argv.first().is_none_or(|p| p.is_empty()) {
                        return Err(self.error(command_line, "command must name a program".to_owned()));
                    }
                    found.push(Tenants::Command(argv));
                }
                if let Some(schemas) = tenants.schemas {
                    found.push(Tenants::Schemas(schemas));
                }
                if let Some(query) = tenants.schemas_query {
                    found.push(Tenants::SchemaQuery(query.into_inner()));
                }
                if found.len() != 1 {
                    return Err(self.error(tenants_line, one_of.to_owned()));
                }
                found.pop()
            }
        };
        Ok(Service {
            name,
            line,
            dir,
            table: raw.table.map(|t| self.located(t)),
            driver: raw.driver.map(|d| self.located(d)),
            database_base: raw.database_base.map(|b| self.located(b)),
            environments,
            tenants,
        })
    }

    fn url(&self, url: Spanned<String>) -> Result<Setting<String>, ConfigError> {
        let Located { value, line } = self.located(url);
        if url_has_password(&value) {
            return Err(self.error(line, password_refused("a database URL")));
        }
        Ok(Setting::Literal(value))
    }

    fn text_setting(
        &self,
        key: &str,
        literal: Option<Spanned<String>>,
        variable: Option<Spanned<String>>,
    ) -> Result<Setting<String>, ConfigError> {
        match (literal, variable) {
            (Some(literal), Some(_)) => {
                Err(self.error(self.line(&literal), format!("give {key} or {key}_env, not both")))
            }
            (Some(literal), None) => Ok(Setting::Literal(literal.into_inner())),
            (None, Some(variable)) => Ok(Setting::Env(self.variable(&format!("{key}_env"), variable)?)),
            (None, None) => Ok(Setting::Unset),
        }
    }

    fn database(&self, raw: Spanned<RawDatabase>) -> Result<DatabaseConfig, ConfigError> {
        let line = self.line(&raw);
        let raw = raw.into_inner();
        if let Some(password) = &raw.password {
            return Err(self.error(self.line(password), password_refused("the database")));
        }
        let url = match (raw.url, raw.url_env) {
            (Some(url), Some(_)) => return Err(self.error(self.line(&url), "give url or url_env, not both".to_owned())),
            (Some(url), None) => self.url(url)?,
            (None, Some(var)) => Setting::Env(self.variable("url_env", var)?),
            (None, None) => Setting::Unset,
        };
        let host = self.text_setting("host", raw.host, raw.host_env)?;
        let user = self.text_setting("user", raw.user, raw.user_env)?;
        let name = self.text_setting("name", raw.name, raw.name_env)?;
        let port = match (raw.port, raw.port_env) {
            (Some(port), Some(_)) => {
                return Err(self.error(self.line(&port), "give port or port_env, not both".to_owned()))
            }
            (Some(port), None) => {
                let port_line = self.line(&port);
                let value = u16::try_from(port.into_inner()).ok().filter(|p| *p > 0);
                Setting::Literal(value.ok_or_else(|| self.error(port_line, "port must be from 1 to 65535".to_owned()))?)
            }
            (None, Some(var)) => Setting::Env(self.variable("port_env", var)?),
            (None, None) => Setting::Unset,
        };
        let password = match (raw.password_env, raw.password_file) {
            (Some(var), Some(_)) => {
                return Err(self.error(self.line(&var), "give password_env or password_file, not both".to_owned()))
            }
            (Some(var), None) => Some(PasswordSource::Env(self.variable("password_env", var)?)),
            (None, Some(file)) => Some(PasswordSource::File(self.relative_path(file).value)),
            (None, None) => None,
        };
        if url.is_set() && (host.is_set() || user.is_set() || port.is_set() || password.is_some()) {
            return Err(self.error(
                line,
                "a database given by url takes only name and params besides: put the host, port, user and password \
                 in the URL's variable, or give the parts without url"
                    .to_owned(),
            ));
        }
        let mut params = Vec::with_capacity(raw.params.len());
        for (key, value) in raw.params {
            if key.eq_ignore_ascii_case("password") {
                return Err(self.error(self.line(&value), password_refused("the database params")));
            }
            params.push((key, value.into_inner()));
        }
        Ok(DatabaseConfig { line, url, host, port, user, password, name, params })
    }

    fn backup(&self, line: usize, raw: RawBackup) -> Result<BackupConfig, ConfigError> {
        let mode = match raw.mode {
            None => BackupMode::Required,
            Some(mode) => {
                let Located { value, line } = self.located(mode);
                match value.as_str() {
                    "required" => BackupMode::Required,
                    "optional" => BackupMode::Optional,
                    _ => return Err(self.error(line, "mode must be \"required\" or \"optional\"".to_owned())),
                }
            }
        };
        let method = match (raw.path, raw.command) {
            (Some(path), None) => {
                if let Some(restore) = &raw.restore_command {
                    return Err(self.error(
                        self.line(restore),
                        "restore_command goes with command; the pg_dump backup prints its own restore command"
                            .to_owned(),
                    ));
                }
                BackupMethodConfig::PgDump {
                    path: path.into_inner(),
                    pg_dump: raw.pg_dump.map(|p| self.relative_path(p).value),
                }
            }
            (None, Some(command)) => {
                let command_line = self.line(&command);
                if let Some(pg_dump) = &raw.pg_dump {
                    return Err(self.error(self.line(pg_dump), "pg_dump goes with path, not with command".to_owned()));
                }
                let argv = command.into_inner();
                if argv.first().is_none_or(|program| program.is_empty()) {
                    return Err(self
                        .error(command_line, "command must name a program: command = [\"prog\", \"arg\"]".to_owned()));
                }
                BackupMethodConfig::Command { argv, restore: raw.restore_command.map(Spanned::into_inner) }
            }
            (Some(path), Some(_)) => {
                return Err(self.error(self.line(&path), "give path (pg_dump) or command, not both".to_owned()))
            }
            (None, None) => {
                return Err(self.error(
                    line,
                    "a backup needs path = \"/backups/{database}_{timestamp}.dump\" (pg_dump) or command = [...]"
                        .to_owned(),
                ))
            }
        };
        let timeout = raw.timeout.map(|t| self.duration("timeout", t)).transpose()?;
        Ok(BackupConfig { line, mode, method, timeout })
    }
}

impl DatabaseConfig {
    fn empty(line: usize) -> DatabaseConfig {
        DatabaseConfig {
            line,
            url: Setting::Unset,
            host: Setting::Unset,
            port: Setting::Unset,
            user: Setting::Unset,
            password: None,
            name: Setting::Unset,
            params: Vec::new(),
        }
    }
}

fn password_refused(what: &str) -> String {
    format!(
        "a password in migrate.toml is refused ({what}): name the variable that holds it with password_env = \
         \"POSTGRES_PASSWORD\" (or password_file = \"/run/secrets/db-password\"), or give the whole URL with \
         database_url_env = \"DATABASE_URL\""
    )
}

/// Whether a connection string carries a password: a URL's userinfo `user:password@`, a `password=` query
/// parameter, or a libpq `password=` keyword.
pub(crate) fn url_has_password(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if let Some((_, rest)) = lower.split_once("://") {
        // The userinfo ends at the last '@' before the path (a password may hold an unencoded '@' or '/').
        let authority_end = rest.find(['?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            if rest[..at].split_once(':').is_some_and(|(_, password)| !password.is_empty()) {
                return true;
            }
        }
        let query = rest.split_once('?').map_or("", |(_, query)| query);
        return query.split('&').any(|pair| pair.split('=').next() == Some("password"));
    }
    lower.split_whitespace().any(|pair| pair.trim_start().starts_with("password=") || pair == "password")
}
