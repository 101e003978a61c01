//! `env`: goose's variables, one `NAME="value"` per line (Go's `%q`), with the DSN's password redacted
//! (goose prints it; we do not print secrets).

use std::process::ExitCode;

use crate::env::Env;
use crate::error::CliError;
use crate::output::Output;
use crate::redact::redact_dsn;
use crate::settings::{DEFAULT_DIR, DEFAULT_TABLE};

pub(crate) fn env(env: &Env, out: &Output) -> Result<ExitCode, CliError> {
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
