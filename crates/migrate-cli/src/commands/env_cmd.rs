//! `env`: goose's variables, one `NAME="value"` per line (Go's `%q`), with the DSN's password redacted
//! (goose prints it; we do not print secrets). The modern form prints the effective settings instead:
//! the same names with what the run would use (flags, variables and `migrate.toml` merged), then the
//! `MIGRATE_*` settings of the project file and its environment.

use std::process::ExitCode;

use crate::drivers::DriverKind;
use crate::env::Env;
use crate::error::CliError;
use crate::output::Output;
use crate::redact::redact_dsn;
use crate::settings::{Settings, DEFAULT_DIR, DEFAULT_TABLE};

pub(crate) fn env(settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    if settings.goose_form {
        return goose_env(env, out);
    }
    let ops = &settings.ops;
    let database = settings.database.as_ref();
    let driver = database.map_or("", |db| match db.driver {
        DriverKind::Postgres => "postgres",
        DriverKind::ClickHouse => "clickhouse",
    });
    let path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    let backup = ops.backup.as_ref().map_or_else(String::new, |backup| {
        let mode = match backup.mode {
            migrate_config::BackupMode::Required => "required",
            migrate_config::BackupMode::Optional => "optional",
        };
        match &backup.method {
            migrate_config::BackupMethodConfig::PgDump { path, .. } => format!("{mode}: pg_dump to {path}"),
            migrate_config::BackupMethodConfig::Command { argv, .. } => format!("{mode}: {}", argv.join(" ")),
        }
    });
    let vars = [
        ("GOOSE_DRIVER", driver.to_owned()),
        ("GOOSE_DBSTRING", database.map(|db| redact_dsn(db.dsn())).unwrap_or_default()),
        ("GOOSE_MIGRATION_DIR", settings.dir.clone()),
        ("GOOSE_TABLE", settings.table.clone()),
        ("NO_COLOR", settings.no_color.to_string()),
        ("MIGRATE_CONFIG", path(&ops.config)),
        ("MIGRATE_ENVIRONMENT", ops.environment.clone().unwrap_or_default()),
        ("MIGRATE_DATABASE_FROM", database.map(|db| db.origin.clone()).unwrap_or_default()),
        ("MIGRATE_PROTECTED", ops.protected.to_string()),
        ("MIGRATE_SERVICE", ops.service.clone()),
        ("MIGRATE_BACKUP", backup),
        ("MIGRATE_METRICS_PUSH", ops.metrics_push.as_deref().map(redact_dsn).unwrap_or_default()),
        ("MIGRATE_METRICS_FILE", path(&ops.metrics_file)),
        ("MIGRATE_LOG_FORMAT", if ops.log_json { "json" } else { "text" }.to_owned()),
    ];
    let text: String = vars.iter().map(|(name, value)| format!("{name}={}\n", go_quote(value))).collect();
    out.stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn goose_env(env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    let value = |name: &str, default: &str| env.non_empty(name).unwrap_or(default).to_owned();
    let vars = [
        ("GOOSE_DRIVER", value("GOOSE_DRIVER", "")),
        ("GOOSE_DBSTRING", redact_dsn(&value("GOOSE_DBSTRING", ""))),
        ("GOOSE_MIGRATION_DIR", value("GOOSE_MIGRATION_DIR", DEFAULT_DIR)),
        ("GOOSE_TABLE", value("GOOSE_TABLE", DEFAULT_TABLE)),
        ("NO_COLOR", value("NO_COLOR", "false")),
    ];
    let text: String = vars.iter().map(|(name, value)| format!("{name}={}\n", go_quote(value))).collect();
    out.stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Go's `strconv.Quote` for the text these variables hold: escapes for quotes, backslashes and control
/// characters; printable Unicode kept as it is.
pub(crate) fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(go_quote("a \"b\" \\ c\n\té"), "\"a \\\"b\\\" \\\\ c\\n\\té\"");
        assert_eq!(go_quote("\x01"), "\"\\x01\"");
    }
}
