//! A backup taken by a command template (clickhouse-backup, an S3 upload, `clickhouse-client` running
//! `BACKUP`), run directly rather than through a shell, which the container image does not have.

use std::path::{Path, PathBuf};

use crate::pg_env::{pg_env, CLEARED_PG_VARS};
use crate::process::{self, shell_quote, Child, Deadline, Secrets};
use crate::template::timestamp;
use crate::{expand_template, BackupContext, BackupError, BackupReport, BackupTarget};

/// What to do when the command's program is not found.
const COMMAND_HINT: &str = "check backup.command: its first word must be a program on PATH or a path to one";

/// Words in a variable name that mark its value as a secret, to be scrubbed from the command's output.
const SECRET_NAME_WORDS: &[&str] = &["PASS", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "AUTH"];

/// Runs the backup command and reads the backup's location from its output.
pub(crate) async fn backup(
    argv: &[String],
    restore: Option<&[String]>,
    target: &BackupTarget<'_>,
    context: &BackupContext,
    deadline: Option<Deadline>,
) -> Result<BackupReport, BackupError> {
    let mut words = argv.iter().map(|word| expand_template(word, context)).collect::<Result<Vec<_>, _>>()?;
    if words.is_empty() || words[0].is_empty() {
        return Err(BackupError::EmptyCommand);
    }
    let program = words.remove(0);
    // Expanded before the backup runs, so a mistake in it is found before any time is spent.
    let restore_command = match restore {
        Some(restore) if !restore.is_empty() => {
            let words = restore.iter().map(|word| expand_template(word, context)).collect::<Result<Vec<_>, _>>()?;
            Some(words.iter().map(|word| shell_quote(word)).collect::<Vec<_>>().join(" "))
        }
        _ => None,
    };

    let (mut env, secrets, remove_env) = match target {
        // The command may run pg_dump itself (into a pipe, say): it gets the connection as pg_dump does.
        BackupTarget::Postgres { spec, .. } => {
            let (env, secrets) = pg_env(spec);
            (env, secrets, CLEARED_PG_VARS)
        }
        BackupTarget::Other { env } => {
            let mut secrets = Secrets::default();
            for (name, value) in env {
                let upper = name.to_ascii_uppercase();
                if SECRET_NAME_WORDS.iter().any(|word| upper.contains(word)) {
                    secrets.add(value);
                }
            }
            (env.clone(), secrets, &[][..])
        }
    };
    env.extend([
        ("MIGRATE_BACKUP_DATABASE".to_owned(), context.database.clone()),
        ("MIGRATE_BACKUP_TIMESTAMP".to_owned(), timestamp(context)),
        ("MIGRATE_BACKUP_SERVICE".to_owned(), context.service.clone()),
        ("MIGRATE_BACKUP_ENVIRONMENT".to_owned(), context.environment.clone()),
        ("MIGRATE_BACKUP_VERSION".to_owned(), context.version.to_string()),
    ]);

    // Only the program's name is shown: the arguments came from configuration and are not repeated in
    // messages, in case someone put a secret there after all.
    let what = format!("backup command {program}");
    let child = Child {
        program: program.clone().into(),
        args: words.into_iter().map(Into::into).collect(),
        remove_env,
        env,
        what: what.clone(),
        not_found_hint: COMMAND_HINT,
    };
    let finished = process::run(child, deadline).await?;
    if !finished.status.success() {
        return Err(BackupError::Failed {
            what,
            status: finished.status.to_string(),
            stderr: secrets.tail(&finished.stderr),
        });
    }

    let location = secrets
        .scrub(&String::from_utf8_lossy(&finished.stdout))
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .map(str::to_owned);
    // A location that is a local file (a command that wrote one) gets its size reported too.
    let file = location.as_deref().map(Path::new).filter(|path| path.is_absolute()).and_then(|path| {
        let meta = std::fs::metadata(path).ok().filter(std::fs::Metadata::is_file)?;
        Some((PathBuf::from(path), meta.len()))
    });
    Ok(BackupReport {
        path: file.as_ref().map(|(path, _)| path.clone()),
        size_bytes: file.map(|(_, size)| size),
        location,
        duration: std::time::Duration::ZERO,
        restore_command,
        entries: None,
        tool_version: None,
    })
}
