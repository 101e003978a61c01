//! `migrate.toml` in the modern form: finding the file, picking the environment, and the precedence of
//! every setting it can give: flags, then environment variables, then the selected environment's table,
//! then the file's top level, then the defaults. goose's form reads no project file.
//!
//! | setting        | flag                | variable               | migrate.toml                          | default            |
//! |----------------|---------------------|------------------------|---------------------------------------|--------------------|
//! | file           | `--config`          | `MIGRATE_CONFIG`       | (found: `./migrate.toml`, `DIR/migrate.toml`) | none       |
//! | environment    | `--environment`     | `MIGRATE_ENVIRONMENT`  | `default_environment`                 | none               |
//! | directory      | `--dir`             | `GOOSE_MIGRATION_DIR`  | environment `dir`, then `dir`         | `.`                |
//! | table          | `--table`           | `GOOSE_TABLE`          | environment `table`, then `table`     | `goose_db_version` |
//! | database       | `--database-url`, `--db-*` | `DATABASE_URL`, `GOOSE_DBSTRING` | the environment's database | `POSTGRES_*`/`CLICKHOUSE_*` parts |
//! | service        | `--service`         | `MIGRATE_SERVICE`      | `service`                             | the directory's name |
//! | lock wait      | `--lock-wait`       |                        | environment `lock_wait`               | the driver's (5m)  |
//! | lint           | `--no-lint`         |                        | environment `lint = false`            | on                 |
//! | metrics push   | `--metrics-push`    | `MIGRATE_METRICS_PUSH` | environment `metrics.push`, then `[metrics] push` | none   |
//! | metrics file   | `--metrics-file`    | `MIGRATE_METRICS_FILE` | environment `metrics.file`, then `[metrics] file` | none   |
//! | log format     | `--log-format`      | `MIGRATE_LOG_FORMAT`   | `log_format`                          | `text`             |

use std::path::{Path, PathBuf};

use migrate_config::{Environment, ProjectConfig, Service, CONFIG_VAR, ENVIRONMENT_VAR, FILE_NAME};

use crate::database::{ConfiguredDatabase, ReadFile};
use crate::drivers::DriverKind;
use crate::env::Env;
use crate::error::CliError;
use crate::settings::{Operations, DEFAULT_DIR, DEFAULT_TABLE};

/// The operations flags every modern command takes, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OpsFlags {
    pub(crate) config: Option<PathBuf>,
    pub(crate) environment: Option<String>,
    pub(crate) yes: bool,
    pub(crate) service: Option<String>,
    pub(crate) log_format: Option<String>,
    pub(crate) metrics_push: Option<String>,
    pub(crate) metrics_file: Option<PathBuf>,
}

/// The project file and the environment picked from it (and, for one target of a workspace, the
/// service: its own environment tables, directory, table and driver come first).
#[derive(Debug, Clone)]
pub(crate) struct Project {
    pub(crate) config: Option<ProjectConfig>,
    environment: Option<String>,
    service: Option<String>,
}

impl Project {
    /// Finds and reads `migrate.toml` (`--config`, `MIGRATE_CONFIG`, `./migrate.toml`, then
    /// `DIR/migrate.toml` for the directory the flags or variables name) and picks the environment.
    pub(crate) fn load(
        flags: &OpsFlags,
        dir_flag: Option<&str>,
        env: &Env,
        read: ReadFile<'_>,
    ) -> Result<Project, CliError> {
        let named = flags.config.clone().or_else(|| env.non_empty(CONFIG_VAR).map(PathBuf::from));
        let config = match named {
            Some(path) => Some(read_config(&path, read)?.ok_or_else(|| {
                CliError::Usage(format!("{}: no such file (named by --config or {CONFIG_VAR})", path.display()))
            })?),
            None => {
                let dir = dir_flag.filter(|d| *d != DEFAULT_DIR).or_else(|| env.non_empty("GOOSE_MIGRATION_DIR"));
                let mut found = read_config(Path::new(FILE_NAME), read)?;
                if let (None, Some(dir)) = (&found, dir) {
                    found = read_config(&Path::new(dir).join(FILE_NAME), read)?;
                }
                found
            }
        };
        let asked = flags.environment.clone().or_else(|| env.non_empty(ENVIRONMENT_VAR).map(str::to_owned));
        let environment = match (&config, asked) {
            (Some(config), Some(name)) => {
                // A workspace may define an environment only inside its services.
                let in_a_service = config.services.values().any(|s| s.environments.contains_key(&name));
                if !in_a_service {
                    config.environment(&name).map_err(|e| CliError::Usage(e.to_string()))?;
                }
                Some(name)
            }
            (None, Some(name)) => {
                return Err(CliError::Usage(format!(
                "environment {name:?} asked for, but there is no {FILE_NAME} (looked in the working directory and the \
                     migrations directory; --config FILE names one)"
            )))
            }
            (Some(config), None) => config.default_environment.as_ref().map(|d| d.value.clone()),
            (None, None) => None,
        };
        Ok(Project { config, environment, service: None })
    }

    /// One target of a workspace: `service` in `environment`.
    pub(crate) fn for_service(config: ProjectConfig, service: &str, environment: &str) -> Project {
        Project { config: Some(config), environment: Some(environment.to_owned()), service: Some(service.to_owned()) }
    }

    /// The service of a workspace target.
    fn service(&self) -> Option<&Service> {
        self.config.as_ref()?.services.get(self.service.as_deref()?)
    }

    /// The selected environment: the service's own table of that name, else the file's.
    pub(crate) fn environment(&self) -> Option<&Environment> {
        let name = self.environment.as_deref()?;
        if let Some(own) = self.service().and_then(|s| s.environments.get(name)) {
            return Some(own);
        }
        self.config.as_ref()?.environments.get(name)
    }

    /// The migrations directory: `--dir` > `GOOSE_MIGRATION_DIR` > the environment's `dir` > the file's
    /// `dir` > `.` (goose's quirk kept: `--dir .` loses to the variable).
    pub(crate) fn dir(&self, flag: Option<&str>, env: &Env) -> String {
        if let Some(dir) = flag.filter(|d| *d != DEFAULT_DIR).or_else(|| env.non_empty("GOOSE_MIGRATION_DIR")) {
            return dir.to_owned();
        }
        if let Some(dir) = flag {
            return dir.to_owned();
        }
        let configured = self
            .environment()
            .and_then(|e| e.dir.as_ref())
            .or(self.service().map(|s| &s.dir))
            .or(self.config.as_ref().and_then(|c| c.dir.as_ref()));
        configured.map_or_else(|| DEFAULT_DIR.to_owned(), |dir| dir.value.display().to_string())
    }

    /// The version table: `--table` > `GOOSE_TABLE` > the environment's > the file's > goose's.
    pub(crate) fn table(&self, flag: Option<&str>, env: &Env) -> String {
        let configured = self
            .environment()
            .and_then(|e| e.table.as_ref())
            .or(self.service().and_then(|s| s.table.as_ref()))
            .or(self.config.as_ref().and_then(|c| c.table.as_ref()));
        flag.filter(|t| !t.is_empty())
            .or_else(|| env.non_empty("GOOSE_TABLE"))
            .or(configured.map(|t| t.value.as_str()))
            .unwrap_or(DEFAULT_TABLE)
            .to_owned()
    }

    /// The driver the file names for the environment (its own, else the top-level one).
    fn driver(&self) -> Result<Option<DriverKind>, CliError> {
        let Some(config) = &self.config else { return Ok(None) };
        let service_driver = self.service().and_then(|s| s.driver.as_ref());
        let Some(driver) =
            self.environment().and_then(|e| e.driver.as_ref()).or(service_driver).or(config.driver.as_ref())
        else {
            return Ok(None);
        };
        DriverKind::from_name(&driver.value).map(Some).ok_or_else(|| {
            CliError::Usage(format!(
                "{}:{}: unknown driver {:?}: use postgres (or pgx, redshift) or clickhouse",
                config.path.display(),
                driver.line,
                driver.value
            ))
        })
    }

    /// The selected environment's database, when it names one.
    pub(crate) fn database<'a>(&'a self, service: &'a str) -> Result<Option<ConfiguredDatabase<'a>>, CliError> {
        let (Some(config), Some(environment)) = (&self.config, self.environment()) else { return Ok(None) };
        let Some(database) = &environment.database else { return Ok(None) };
        let base = self
            .service()
            .and_then(|s| s.database_base.as_ref())
            .or(config.database_base.as_ref())
            .map(|b| b.value.as_str());
        Ok(Some(ConfiguredDatabase {
            config,
            environment,
            database,
            service: Some(service),
            base,
            driver: self.driver()?,
        }))
    }

    /// The operations settings, once the directory is known (the service defaults to its name).
    pub(crate) fn operations(&self, flags: &OpsFlags, dir: &str, env: &Env) -> Result<Operations, CliError> {
        let environment = self.environment();
        let config = self.config.as_ref();
        let service = self
            .service
            .clone()
            .or_else(|| flags.service.clone())
            .or_else(|| env.non_empty("MIGRATE_SERVICE").map(str::to_owned))
            .or_else(|| config.and_then(|c| c.service.as_ref()).map(|s| s.value.clone()))
            .unwrap_or_else(|| service_from_dir(dir));
        let log_format = flags
            .log_format
            .clone()
            .or_else(|| env.non_empty("MIGRATE_LOG_FORMAT").map(str::to_owned))
            .or_else(|| config.and_then(|c| c.log_format.as_ref()).map(|f| f.value.clone()));
        let log_json = match log_format.as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => return Err(CliError::Usage(format!("log format {other:?}: use text or json"))),
        };
        let metrics = |pick: &dyn Fn(&migrate_config::MetricsConfig) -> bool| {
            environment.map(|e| &e.metrics).filter(|m| pick(m)).or(config.map(|c| &c.metrics).filter(|m| pick(m)))
        };
        let metrics_push = flags
            .metrics_push
            .clone()
            .or_else(|| env.non_empty("MIGRATE_METRICS_PUSH").map(str::to_owned))
            .or_else(|| metrics(&|m| m.push.is_some()).and_then(|m| m.push.as_ref()).map(|p| p.value.clone()));
        let metrics_file = flags
            .metrics_file
            .clone()
            .or_else(|| env.non_empty("MIGRATE_METRICS_FILE").map(PathBuf::from))
            .or_else(|| metrics(&|m| m.file.is_some()).and_then(|m| m.file.as_ref()).map(|f| f.value.clone()));
        Ok(Operations {
            config: config.map(|c| c.path.clone()),
            lint_config: config.filter(|c| c.has_lint).map(|c| c.path.clone()),
            environment: environment.map(|e| e.name.clone()),
            protected: environment.is_some_and(|e| e.protected),
            yes: flags.yes,
            service,
            backup: environment.and_then(|e| e.backup.clone()),
            metrics_push,
            metrics_file,
            log_json,
        })
    }
}

/// Reads a `migrate.toml`; `None` when there is none at `path`.
fn read_config(path: &Path, read: ReadFile<'_>) -> Result<Option<ProjectConfig>, CliError> {
    match read(path) {
        Ok(text) => ProjectConfig::parse(path, &text).map(Some).map_err(|e| CliError::Usage(e.to_string())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(CliError::failed(format!("{}: {error}", path.display()))),
    }
}

/// The service a migrations directory belongs to: its name, or its parent's when the directory has a
/// generic name (`services/billing/migrations` and `services/billing/migrations/postgres` are `billing`).
pub(crate) fn service_from_dir(dir: &str) -> String {
    const GENERIC: [&str; 7] = ["migrations", "migration", "postgres", "clickhouse", "sql", "db", "schema"];
    let path = std::path::absolute(dir).unwrap_or_else(|_| PathBuf::from(dir));
    path.components()
        .rev()
        .filter_map(|c| match c {
            std::path::Component::Normal(name) => name.to_str(),
            _ => None,
        })
        .find(|name| !GENERIC.contains(&name.to_ascii_lowercase().as_str()))
        .unwrap_or("migrate")
        .to_owned()
}

#[cfg(test)]
mod tests;
