//! goose's invocation, parsed by hand because goose's flags are Go-style single-dash long flags that may
//! appear anywhere: `migrate [flags] DRIVER DBSTRING COMMAND [args]`, with `GOOSE_DRIVER`,
//! `GOOSE_DBSTRING`, `GOOSE_MIGRATION_DIR` and `GOOSE_TABLE` merged as goose merges them.

use std::time::Duration;

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parsed {
    Help,
    Version,
    Run(Invocation),
}

/// A command to run against a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    pub(crate) dir: String,
    pub(crate) table: String,
    pub(crate) verbose: bool,
    pub(crate) allow_missing: bool,
    pub(crate) no_versioning: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) driver: String,
    pub(crate) dbstring: String,
    pub(crate) command: CliCommand,
}

/// The commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CliCommand {
    Up,
    UpByOne,
    UpTo(i64),
    Down,
    DownTo(i64),
    Redo,
    Reset,
    Status,
    Version,
}

/// A usage error (exit 2, as Go's flag package) or a missing argument (exit 1, as goose).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArgsError {
    Usage(String),
    Missing(String),
}

const BOOL_FLAGS: &[&str] = &["v", "s", "allow-missing", "no-versioning", "no-color", "h", "help", "version"];
const VALUE_FLAGS: &[&str] = &["dir", "table", "env", "timeout", "certfile", "ssl-cert", "ssl-key"];

/// Parses the arguments (without the program name); `env` reads the environment.
pub(crate) fn parse(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Result<Parsed, ArgsError> {
    let env = |name: &str| env(name).filter(|value| !value.is_empty());
    let mut positional: Vec<String> = Vec::new();
    let mut flags: Vec<(String, String)> = Vec::new();
    let mut index = 0;
    while index < args.len() {
        let arg = &args[index];
        index += 1;
        if arg == "--" {
            // Go's flag parsing stops here; xflag keeps the "--" and everything after as positional.
            positional.extend(args[index - 1..].iter().cloned());
            break;
        }
        let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')).filter(|f| !f.is_empty()) else {
            positional.push(arg.clone());
            continue;
        };
        let (name, inline_value) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (flag, None),
        };
        if BOOL_FLAGS.contains(&name) {
            let value = inline_value.unwrap_or_else(|| "true".to_owned());
            parse_bool(&value)
                .ok_or_else(|| ArgsError::Usage(format!("invalid boolean value {value:?} for -{name}")))?;
            flags.push((name.to_owned(), value));
        } else if VALUE_FLAGS.contains(&name) {
            let value = match inline_value {
                Some(value) => value,
                None if index < args.len() => {
                    index += 1;
                    args[index - 1].clone()
                }
                None => return Err(ArgsError::Usage(format!("flag needs an argument: -{name}"))),
            };
            flags.push((name.to_owned(), value));
        } else {
            return Err(ArgsError::Usage(format!("flag provided but not defined: -{name}")));
        }
    }
    let flag = |name: &str| flags.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let on = |name: &str| flag(name).is_some_and(|v| parse_bool(&v) == Some(true));
    if on("h") || on("help") {
        return Ok(Parsed::Help);
    }
    if on("version") {
        return Ok(Parsed::Version);
    }
    let mut dir = flag("dir").unwrap_or_else(|| ".".to_owned());
    if dir == "." {
        // goose's quirk: an explicit -dir=. loses to GOOSE_MIGRATION_DIR too.
        if let Some(from_env) = env("GOOSE_MIGRATION_DIR") {
            dir = from_env;
        }
    }
    let table = flag("table").or_else(|| env("GOOSE_TABLE")).unwrap_or_else(|| "goose_db_version".to_owned());
    let timeout = match flag("timeout") {
        Some(text) => Some(parse_go_duration(&text).ok_or_else(|| {
            ArgsError::Usage(format!("invalid value {text:?} for flag -timeout: use a Go duration like 30s or 1h13m"))
        })?),
        None => None,
    };
    if let Some(driver) = env("GOOSE_DRIVER") {
        positional.insert(0, driver);
    }
    if let Some(dbstring) = env("GOOSE_DBSTRING") {
        positional.insert(1.min(positional.len()), dbstring);
    }
    if positional.len() < 3 {
        return Err(ArgsError::Missing("expected DRIVER DBSTRING COMMAND".to_owned()));
    }
    let number = |name: &str| -> Result<i64, ArgsError> {
        let usage =
            || ArgsError::Missing(format!("{name} must be of form: migrate DRIVER DBSTRING [OPTIONS] {name} VERSION"));
        let text = positional.get(3).ok_or_else(usage)?;
        text.parse().map_err(|_| ArgsError::Missing(format!("version must be a number (got '{text}')")))
    };
    let command = match positional[2].as_str() {
        "up" => CliCommand::Up,
        "up-by-one" => CliCommand::UpByOne,
        "up-to" => CliCommand::UpTo(number("up-to")?),
        "down" => CliCommand::Down,
        "down-to" => CliCommand::DownTo(number("down-to")?),
        "redo" => CliCommand::Redo,
        "reset" => CliCommand::Reset,
        "status" => CliCommand::Status,
        "version" => CliCommand::Version,
        other => return Err(ArgsError::Missing(format!("{other:?}: no such command"))),
    };
    Ok(Parsed::Run(Invocation {
        dir,
        table,
        verbose: on("v"),
        allow_missing: on("allow-missing"),
        no_versioning: on("no-versioning"),
        timeout,
        driver: positional[0].clone(),
        dbstring: positional[1].clone(),
        command,
    }))
}

/// Go's `strconv.ParseBool`.
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `time.ParseDuration` for the units goose users write: `h`, `m`, `s`, `ms`, `us`/`µs`, `ns`.
pub(crate) fn parse_go_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let value: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let seconds = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * seconds;
        rest = &rest[unit_end..];
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(args: &str, env: &[(&str, &str)]) -> Result<Parsed, ArgsError> {
        let args: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        parse(&args, &|name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    fn run(args: &str, env: &[(&str, &str)]) -> Invocation {
        match check(args, env) {
            Ok(Parsed::Run(invocation)) => invocation,
            other => panic!("{args}: {other:?}"),
        }
    }

    #[test]
    fn goose_invocations() {
        let i = run("-dir /app/migrations postgres postgres://x up", &[]);
        assert_eq!(
            (i.dir.as_str(), i.driver.as_str(), i.dbstring.as_str(), i.command),
            ("/app/migrations", "postgres", "postgres://x", CliCommand::Up)
        );
        // Flags anywhere, -x and --x alike, -x=v and -x v alike.
        let i = run("postgres DSN up-to 42 --dir=m -allow-missing -v=true -table app.versions", &[]);
        assert_eq!(
            (i.dir.as_str(), i.table.as_str(), i.allow_missing, i.verbose, i.command),
            ("m", "app.versions", true, true, CliCommand::UpTo(42))
        );
        // GOOSE_DRIVER and GOOSE_DBSTRING fill the first positional arguments.
        let i = run(
            "status",
            &[
                ("GOOSE_DRIVER", "postgres"),
                ("GOOSE_DBSTRING", "postgres://y"),
                ("GOOSE_MIGRATION_DIR", "db"),
                ("GOOSE_TABLE", "t"),
            ],
        );
        assert_eq!(
            (i.driver.as_str(), i.dbstring.as_str(), i.dir.as_str(), i.table.as_str()),
            ("postgres", "postgres://y", "db", "t")
        );
        // An explicit -dir other than "." wins over GOOSE_MIGRATION_DIR; "-dir=." loses (goose's quirk).
        assert_eq!(run("-dir=x postgres d up", &[("GOOSE_MIGRATION_DIR", "db")]).dir, "x");
        assert_eq!(run("-dir=. postgres d up", &[("GOOSE_MIGRATION_DIR", "db")]).dir, "db");
        // MySQL TLS flags are accepted and ignored.
        run("-certfile c.pem -ssl-cert a -ssl-key b postgres d up", &[]);
        assert_eq!(run("-timeout 1h13m postgres d up", &[]).timeout, Some(Duration::from_secs(4380)));
    }

    #[test]
    fn errors_and_exit_classes() {
        assert_eq!(check("-h", &[]), Ok(Parsed::Help));
        assert_eq!(check("-version", &[]), Ok(Parsed::Version));
        assert!(matches!(check("-nope postgres d up", &[]), Err(ArgsError::Usage(_))));
        assert!(matches!(check("postgres d up -dir", &[]), Err(ArgsError::Usage(_))));
        assert!(matches!(check("-timeout 5x postgres d up", &[]), Err(ArgsError::Usage(_))));
        assert!(matches!(check("-v=maybe postgres d up", &[]), Err(ArgsError::Usage(_))));
        assert_eq!(check("postgres d", &[]), Err(ArgsError::Missing("expected DRIVER DBSTRING COMMAND".into())));
        assert_eq!(
            check("postgres d up-to x", &[]),
            Err(ArgsError::Missing("version must be a number (got 'x')".into()))
        );
        assert_eq!(check("postgres d sideways", &[]), Err(ArgsError::Missing("\"sideways\": no such command".into())));
    }
}
