//! The backup an environment of `migrate.toml` asks for, as the run's [`BeforeRun`] hook: taken under
//! the lock, only when something is to run, before the first statement. A required backup that fails
//! stops the run with nothing applied; an optional one is reported and the run goes on. Its report goes
//! in the log and the JSON document, and its restore command is printed if a migration then fails.

use std::sync::Arc;

use async_trait::async_trait;
use migrate::{BeforeRun, BoxError, RunAbout};
use migrate_backup::{take_backup, BackupContext, BackupReport, BackupTarget};
use migrate_config::{BackupConfig, BackupMethodConfig, BackupMode};

use crate::drivers::Target;
use crate::env::Env;
use crate::error::CliError;
use crate::output::{Level, Output};
use crate::settings::Settings;

/// Takes the configured backup before a run changes something.
pub(crate) struct BackupHook {
    config: BackupConfig,
    target: Target,
    server_major: Option<u32>,
    service: String,
    environment: String,
    out: Output,
    /// The backup taken, for the restore hint after a failure.
    taken: Arc<std::sync::Mutex<Option<BackupReport>>>,
}

impl BackupHook {
    /// The hook for this run, when its environment has a backup; `${NAME}` in its path and command is
    /// expanded from the environment (ENVSUB's grammar, e.g. `${MIGRATE_BACKUP_DIR:-/backups}`).
    pub(crate) fn for_run(
        settings: &Settings,
        env: &Env,
        target: Target,
        server_major: Option<u32>,
        out: &Output,
    ) -> Result<Option<BackupHook>, CliError> {
        let Some(mut config) = settings.ops.backup.clone() else { return Ok(None) };
        let lookup = |name: &str| env.lookup(name);
        let file = settings.ops.config.as_ref().map_or_else(String::new, |p| p.display().to_string());
        let environment = settings.ops.environment.as_deref().unwrap_or_default();
        let line = config.line;
        let expand = |text: &str| {
            migrate::expand_variables(text, &lookup).map_err(|error| {
                CliError::Usage(format!("{file}:{line}: the backup of environment {environment}: {error}"))
            })
        };
        config.method = match &config.method {
            BackupMethodConfig::PgDump { path, pg_dump } => BackupMethodConfig::PgDump {
                path: expand(path)?,
                pg_dump: pg_dump.as_ref().map(|p| expand(&p.display().to_string()).map(Into::into)).transpose()?,
            },
            BackupMethodConfig::Command { argv, restore } => BackupMethodConfig::Command {
                argv: argv.iter().map(|a| expand(a)).collect::<Result<_, _>>()?,
                restore: restore.as_ref().map(|r| r.iter().map(|a| expand(a)).collect::<Result<_, _>>()).transpose()?,
            },
        };
        Ok(Some(BackupHook {
            config,
            target,
            server_major,
            service: settings.ops.service.clone(),
            environment: settings.ops.environment.clone().unwrap_or_default(),
            out: out.clone(),
            taken: Arc::default(),
        }))
    }

    /// Where the backup taken by this run is kept (shared with the hook once it is in the run).
    pub(crate) fn taken(&self) -> Arc<std::sync::Mutex<Option<BackupReport>>> {
        Arc::clone(&self.taken)
    }
}

#[async_trait]
impl BeforeRun for BackupHook {
    fn name(&self) -> &'static str {
        "the backup"
    }

    async fn before_run(&self, about: &RunAbout) -> Result<(), BoxError> {
        let (target, database) = match &self.target {
            Target::Postgres(spec) => {
                (BackupTarget::Postgres { spec, server_major: self.server_major }, spec.dbname.clone())
            }
            Target::ClickHouse(spec) => {
                let mut env = vec![
                    ("CLICKHOUSE_HOST".to_owned(), spec.host.clone()),
                    ("CLICKHOUSE_PORT".to_owned(), spec.port.to_string()),
                    ("CLICKHOUSE_USERNAME".to_owned(), spec.user.clone()),
                    ("CLICKHOUSE_DATABASE".to_owned(), spec.database.clone()),
                ];
                if let Some(password) = spec.password() {
                    env.push(("CLICKHOUSE_PASSWORD".to_owned(), password.to_owned()));
                }
                (BackupTarget::Other { env }, spec.database.clone())
            }
        };
        let context = BackupContext {
            service: self.service.clone(),
            environment: self.environment.clone(),
            database,
            version: about.current_version,
            now: chrono::Utc::now(),
        };
        self.out.log(&format!(
            "backup: taking a backup of {} before {} migration(s) run (environment {})",
            context.database, about.steps, self.environment
        ));
        match take_backup(&self.config.method, &target, &context, self.config.timeout).await {
            Ok(report) => {
                let mut fields = vec![("backup", report.to_json())];
                if let Some(path) = &report.path {
                    fields.push(("file", path.display().to_string().into()));
                }
                self.out.log_at(Level::Info, &report.to_string(), &fields);
                self.out.note_backup(report.to_json());
                if let Ok(mut taken) = self.taken.lock() {
                    *taken = Some(report);
                }
                Ok(())
            }
            Err(error) if self.config.mode == BackupMode::Optional => {
                self.out.warn(&format!("warning: backup failed, and it is optional, so the run goes on: {error}"));
                Ok(())
            }
            Err(error) => Err(Box::new(error)),
        }
    }
}

/// After a migration failed: how to restore the backup this run took, if it took one.
pub(crate) fn restore_hint(taken: &std::sync::Mutex<Option<BackupReport>>, out: &Output) {
    let Ok(taken) = taken.lock() else { return };
    let Some(report) = taken.as_ref() else { return };
    match &report.restore_command {
        Some(command) => out.warn(&format!(
            "backup: a migration failed after the backup {}; to return to it, run: {command}",
            report.location.as_deref().unwrap_or("taken before this run")
        )),
        None => out.warn(&format!(
            "backup: a migration failed after the backup {}; restore it with your backup tool if needed",
            report.location.as_deref().unwrap_or("taken before this run")
        )),
    }
}
