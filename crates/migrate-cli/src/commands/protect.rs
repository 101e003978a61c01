//! Protected environments: the commands that undo or rewrite history (down, down-to, redo, reset, the
//! marks, repair) run on one only when confirmed, by `--yes` or, on a terminal, by typing its name.

use std::io::{BufRead, IsTerminal, Write};

use crate::error::CliError;
use crate::output::Output;
use crate::settings::{Command, Settings};

/// Whether `command` undoes or rewrites what a protected environment holds.
fn is_destructive(command: &Command) -> bool {
    matches!(
        command,
        Command::Migrate(
            migrate::Command::Down | migrate::Command::DownTo(_) | migrate::Command::Redo | migrate::Command::Reset
        ) | Command::Mark(_)
            | Command::Repair { .. }
    )
}

/// Refuses a destructive command on a protected environment unless it is confirmed; a dry run needs no
/// confirmation (it changes nothing).
pub(crate) fn confirm(settings: &Settings, out: &Output) -> Result<(), CliError> {
    let Some(environment) = settings.ops.environment.as_deref().filter(|_| settings.ops.protected) else {
        return Ok(());
    };
    if !is_destructive(&settings.command) || settings.dry_run || settings.ops.yes {
        return Ok(());
    }
    let command = settings.command.name();
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        out.stderr(&format!("environment {environment} is protected: type {environment} to run {command} there: "));
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|error| CliError::failed(format!("reading the confirmation failed: {error}")))?;
        if answer.trim() == environment {
            return Ok(());
        }
        return Err(CliError::BadArgument(format!(
            "not confirmed: {command} did not run on environment {environment}"
        )));
    }
    Err(CliError::BadArgument(format!(
        "environment {environment} is protected: {command} changes its history, so it needs --yes (nothing was changed)"
    )))
}
