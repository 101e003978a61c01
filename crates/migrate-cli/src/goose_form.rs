//! goose's invocation, parsed by hand because goose's flags are Go-style single-dash long flags that may
//! appear anywhere: `migrate [flags] DRIVER DBSTRING COMMAND [args]`, with `GOOSE_DRIVER`,
//! `GOOSE_DBSTRING`, `GOOSE_MIGRATION_DIR`, `GOOSE_TABLE` and `NO_COLOR` merged as goose merges them.
//!
//! Two stages: [`parse`] reads only the arguments (it needs the `-env` flag before the environment can be
//! read), and [`RawGoose::resolve`] merges the environment and fills in defaults.
//!
//! Beyond goose, this form also takes `-dry-run`, `-json` and `-exit-code` (any number of dashes, like
//! every flag here), so existing job templates can opt into them without changing shape.

use crate::database::Database;
use crate::drivers::DriverKind;
use crate::env::{parse_bool, Env, EnvFile};
use crate::error::CliError;
use crate::settings::{parse_go_duration, resolve_dir, resolve_table, ClusterFlags, Command, LintFlags, Settings};

/// What a goose-form command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // Made once per process and consumed at once: boxing buys nothing.
pub(crate) enum GooseParsed {
    /// `-h`: print goose's usage.
    Help,
    /// `-version`.
    Version,
    /// A command.
    Run(Settings),
}

/// The arguments, split into flags and positional arguments, before the environment is consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawGoose {
    flags: Vec<(String, String)>,
    positional: Vec<String>,
}

const BOOL_FLAGS: &[&str] = &[
    "v",
    "s",
    "allow-missing",
    // Ours, beyond goose (a boolean like goose's).
    "allow-changed",
    "no-versioning",
    "no-color",
    "h",
    "help",
    "version",
    // Ours, beyond goose.
    "dry-run",
    "json",
    "exit-code",
    "clickhouse-cluster-strict",
    "no-lint",
    "strict",
];
const VALUE_FLAGS: &[&str] = &[
    "dir",
    "table",
    "env",
    "timeout",
    "certfile",
    "ssl-cert",
    "ssl-key",
    // Ours, beyond goose.
    "lock-wait",
    "clickhouse-cluster",
    "clickhouse-ddl-timeout",
    "format",
    "pg-version",
];

/// The commands goose recognises as the first positional argument, before merging `GOOSE_DRIVER`.
const NO_DATABASE_COMMANDS: &[&str] = &["init", "create", "fix", "env", "validate", "lint"];

/// Splits the arguments (without the program name) the way Go's flag package and xflag do.
pub(crate) fn parse(args: &[String]) -> Result<RawGoose, CliError> {
    let mut positional = Vec::new();
    let mut flags = Vec::new();
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
                .ok_or_else(|| CliError::Usage(format!("invalid boolean value {value:?} for -{name}: parse error")))?;
            flags.push((name.to_owned(), value));
        } else if VALUE_FLAGS.contains(&name) {
            let value = match inline_value {
                Some(value) => value,
                None if index < args.len() => {
                    index += 1;
                    args[index - 1].clone()
                }
                None => return Err(CliError::Usage(format!("flag needs an argument: -{name}"))),
            };
            flags.push((name.to_owned(), value));
        } else {
            return Err(CliError::Usage(format!("flag provided but not defined: -{name}")));
        }
    }
    Ok(RawGoose { flags, positional })
}

impl RawGoose {
    fn flag(&self, name: &str) -> Option<&str> {
        self.flags.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn on(&self, name: &str) -> bool {
        self.flag(name).is_some_and(|v| parse_bool(v) == Some(true))
    }

    /// The `.env` file `-env` selects.
    pub(crate) fn env_file(&self) -> EnvFile {
        EnvFile::from_flag(self.flag("env"))
    }

    /// Merges goose's environment variables and resolves the command.
    pub(crate) fn resolve(&self, env: &Env) -> Result<GooseParsed, CliError> {
        if self.on("h") || self.on("help") {
            return Ok(GooseParsed::Help);
        }
        if self.on("version") {
            return Ok(GooseParsed::Version);
        }
        if self.positional.is_empty() {
            return Err(CliError::GooseUsage("no command given".to_owned()));
        }
        let mut positional = self.positional.clone();
        let first = positional[0].as_str();
        let (command, database) = if NO_DATABASE_COMMANDS.contains(&first) {
            (self.command(first, &positional[1..])?, None)
        } else {
            // goose's mergeArgs: GOOSE_DRIVER becomes args[0], then GOOSE_DBSTRING args[1].
            if let Some(driver) = env.non_empty("GOOSE_DRIVER") {
                positional.insert(0, driver.to_owned());
            }
            if let Some(dbstring) = env.non_empty("GOOSE_DBSTRING") {
                positional.insert(1.min(positional.len()), dbstring.to_owned());
            }
            if positional.len() < 3 {
                return Err(CliError::GooseUsage("expected DRIVER DBSTRING COMMAND".to_owned()));
            }
            // init, env and validate are recognised only as the first argument, as in goose.
            if ["init", "env", "validate"].contains(&positional[2].as_str()) {
                return Err(CliError::BadArgument(format!("{:?}: no such command", positional[2])));
            }
            let command = self.command(&positional[2], &positional[3..])?;
            let database = match command {
                // goose runs create and fix after DRIVER DBSTRING without opening the database.
                Command::Create { .. } | Command::Fix => None,
                _ => {
                    let driver = DriverKind::from_name(&positional[0])
                        .ok_or_else(|| CliError::BadArgument(format!("{:?}: unknown dialect", positional[0])))?;
                    let origin = match env.non_empty("GOOSE_DBSTRING") {
                        Some(_) => "GOOSE_DBSTRING",
                        None => "the DBSTRING argument",
                    };
                    Some(Database::new(driver, positional[1].clone(), origin))
                }
            };
            (command, database)
        };
        let timeout = match self.flag("timeout") {
            Some(text) => Some(parse_go_duration(text).ok_or_else(|| {
                CliError::Usage(format!(
                    "invalid value {text:?} for flag -timeout: use a Go duration like 30s or 1h13m"
                ))
            })?),
            None => None,
        };
        let lock_wait = match self.flag("lock-wait") {
            Some(text) => Some(parse_go_duration(text).ok_or_else(|| {
                CliError::Usage(format!("invalid value {text:?} for flag -lock-wait: use a Go duration like 5m"))
            })?),
            None => None,
        };
        let mut settings = Settings::new(command);
        settings.lock_wait = lock_wait;
        settings.dir = resolve_dir(self.flag("dir"), env.non_empty("GOOSE_MIGRATION_DIR"));
        settings.table = resolve_table(self.flag("table"), env.non_empty("GOOSE_TABLE"));
        settings.database = database;
        settings.verbose = self.on("v");
        settings.no_color = self.on("no-color") || env.get("NO_COLOR").and_then(parse_bool) == Some(true);
        settings.goose_form = true;
        settings.allow_missing = self.on("allow-missing");
        settings.allow_changed = self.on("allow-changed");
        settings.no_versioning = self.on("no-versioning");
        settings.dry_run = self.on("dry-run");
        settings.json = self.on("json");
        settings.exit_code = self.on("exit-code");
        settings.sequential = self.on("s");
        settings.lint = LintFlags {
            no_lint: self.on("no-lint"),
            format: self.flag("format").map(str::to_owned).or_else(|| settings.json.then(|| "json".to_owned())),
            strict: self.on("strict"),
            pg_version: self.flag("pg-version").map(str::to_owned),
            dialect: env.non_empty("GOOSE_DRIVER").map(str::to_owned),
        };
        settings.timeout = timeout.filter(|t| !t.is_zero());
        settings.clickhouse_cluster = match self.flag("clickhouse-cluster") {
            Some(name) => {
                let ddl_timeout = match self.flag("clickhouse-ddl-timeout") {
                    Some(text) => Some(parse_go_duration(text).ok_or_else(|| {
                        CliError::Usage(format!(
                            "invalid value {text:?} for flag -clickhouse-ddl-timeout: use a Go duration like 30s"
                        ))
                    })?),
                    None => None,
                };
                Some(ClusterFlags { name: name.to_owned(), strict: self.on("clickhouse-cluster-strict"), ddl_timeout })
            }
            None if self.flag("clickhouse-ddl-timeout").is_some() || self.on("clickhouse-cluster-strict") => {
                return Err(CliError::Usage(
                    "-clickhouse-ddl-timeout and -clickhouse-cluster-strict need -clickhouse-cluster NAME".to_owned(),
                ));
            }
            None => None,
        };
        Ok(GooseParsed::Run(settings))
    }

    fn command(&self, name: &str, args: &[String]) -> Result<Command, CliError> {
        let number = |name: &str| -> Result<i64, CliError> {
            let usage = || {
                CliError::GooseUsage(format!(
                    "{name} must be of form: migrate DRIVER DBSTRING [OPTIONS] {name} VERSION"
                ))
            };
            let text = args.first().ok_or_else(usage)?;
            text.parse().map_err(|_| CliError::BadArgument(format!("version must be a number (got '{text}')")))
        };
        let versions = |name: &str, args: &[String]| -> Result<Vec<i64>, CliError> {
            if args.is_empty() {
                return Err(CliError::GooseUsage(format!(
                    "{name} must be of form: migrate DRIVER DBSTRING [OPTIONS] {name} VERSION..."
                )));
            }
            args.iter()
                .map(|text| {
                    text.parse().map_err(|_| CliError::BadArgument(format!("version must be a number (got '{text}')")))
                })
                .collect()
        };
        Ok(match name {
            "up" => Command::Migrate(migrate::Command::Up),
            "up-by-one" => Command::Migrate(migrate::Command::UpByOne),
            "up-to" => Command::Migrate(migrate::Command::UpTo(number("up-to")?)),
            "down" => Command::Migrate(migrate::Command::Down),
            "down-to" => Command::Migrate(migrate::Command::DownTo(number("down-to")?)),
            "redo" => Command::Migrate(migrate::Command::Redo),
            "reset" => Command::Migrate(migrate::Command::Reset),
            "status" => Command::Status,
            "version" => Command::Version,
            "verify" => Command::Verify,
            "baseline" => Command::Mark(migrate::Mark::Baseline(number("baseline")?)),
            "mark-applied" | "mark-rolled-back" => {
                let versions = versions(name, args)?;
                Command::Mark(if name == "mark-applied" {
                    migrate::Mark::Applied(versions)
                } else {
                    migrate::Mark::RolledBack(versions)
                })
            }
            "repair" => Command::Repair {
                versions: args
                    .iter()
                    .map(|text| {
                        text.parse()
                            .map_err(|_| CliError::BadArgument(format!("version must be a number (got '{text}')")))
                    })
                    .collect::<Result<_, _>>()?,
            },
            "create" => {
                let name = args.first().ok_or_else(|| {
                    CliError::GooseUsage("create must be of form: migrate [OPTIONS] create NAME [sql]".to_owned())
                })?;
                if args.len() > 2 {
                    return Err(CliError::GooseUsage(
                        "create must be of form: migrate [OPTIONS] create NAME [sql]: too many arguments".to_owned(),
                    ));
                }
                Command::Create { name: name.clone(), kind: args.get(1).cloned().unwrap_or_else(|| "sql".to_owned()) }
            }
            "fix" => Command::Fix,
            "validate" => Command::Validate { files: Vec::new() },
            "lint" => Command::Lint { files: args.to_vec() },
            "init" => Command::Init,
            "env" => Command::Env,
            other => return Err(CliError::BadArgument(format!("{other:?}: no such command"))),
        })
    }
}

/// goose's usage text, adapted: goose's form first, then where the modern form is documented.
pub(crate) const USAGE: &str = "Usage: migrate [OPTIONS] DRIVER DBSTRING COMMAND

or

Set environment key
GOOSE_DRIVER=DRIVER
GOOSE_DBSTRING=DBSTRING

Usage: migrate [OPTIONS] COMMAND

Drivers:
    postgres, pgx, redshift, clickhouse

Examples:
    migrate -dir migrations postgres \"postgres://user:password@localhost:5432/app?sslmode=disable\" up
    migrate postgres \"user=postgres dbname=postgres sslmode=disable\" status
    GOOSE_DRIVER=postgres GOOSE_DBSTRING=\"$DATABASE_URL\" migrate -dir migrations up
    migrate -dir migrations create add_users sql
    migrate -dir migrations -v validate

Options:
    -dir string          directory with migration files (default \".\", or GOOSE_MIGRATION_DIR)
    -table string        migrations table name (default \"goose_db_version\", or GOOSE_TABLE)
    -env string          .env file to load: \"\" loads ./.env if present, \"none\" loads nothing
    -allow-missing       apply missing (out-of-order) migrations
    -allow-changed       run although an applied migration's file changed (migrate only)
    -no-versioning       apply migrations without versioning, in file order
    -timeout duration    maximum time for the whole run (e.g. 30s, 1h13m)
    -s                   create: use sequential numbering for new migrations
    -v                   verbose: print each statement
    -no-color            disable colour (NO_COLOR is honoured too)
    -dry-run             print the plan and its statements, change nothing (migrate only)
    -json                print one JSON document on stdout: status, up..reset, validate (migrate only)
    -exit-code           status: exit 3 when migrations are pending (migrate only)
    -no-lint             up..redo: apply without linting the pending migrations first (migrate only)
    -format string       lint: text, json, sarif or github (migrate only)
    -strict              lint: warnings fail too (migrate only)
    -pg-version string   lint: the PostgreSQL version targeted when no database says (migrate only)
    -lock-wait DURATION  how long to wait for another runner's lock, default 5m (migrate only)
    -h                   print this help
    -version             print the version
    -certfile, -ssl-cert, -ssl-key
                         MySQL TLS files: accepted and ignored

Commands:
    up                   Migrate the DB to the most recent version available
    up-by-one            Migrate the DB up by 1
    up-to VERSION        Migrate the DB to a specific VERSION
    down                 Roll back the version by 1
    down-to VERSION      Roll back to a specific VERSION
    redo                 Re-run the latest migration
    reset                Roll back all migrations
    status               Dump the migration status for the current DB
    version              Print the current version of the database
    verify               Compare the applied history with the files (checksums, missing, partial) (migrate only)
    repair [VERSION...]  Record the files' checksums as they are now (all applied when none given) (migrate only)
    baseline VERSION     Record every migration up to VERSION as applied, without running it (migrate only)
    mark-applied V...    Record versions as applied / mark-rolled-back V...: as rolled back (migrate only)
    create NAME [sql]    Creates new migration file with the current timestamp
    fix                  Apply sequential ordering to migrations
    validate             Check migration files without running them
    lint [FILE...]       Lint migration files (goose, PostgreSQL safety, ClickHouse, conventions) (migrate only)
    init                 Create the migrations directory with a first migration
    env                  Print goose's environment variables

Environment: GOOSE_DRIVER, GOOSE_DBSTRING, GOOSE_MIGRATION_DIR, GOOSE_TABLE, NO_COLOR, and libpq's PGHOST,
PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE for what a PostgreSQL DSN leaves out.

The modern form (migrate up --database-url URL, passwords from parts, wait, completions): migrate help
";

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn check(args: &str, env: &[(&str, &str)]) -> Result<GooseParsed, CliError> {
        let args: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
        parse(&args)?.resolve(&Env::from_pairs(env.iter().copied()))
    }

    fn run(args: &str, env: &[(&str, &str)]) -> Settings {
        match check(args, env) {
            Ok(GooseParsed::Run(settings)) => settings,
            other => panic!("{args}: {other:?}"),
        }
    }

    fn error(args: &str, env: &[(&str, &str)]) -> (String, u8) {
        match check(args, env) {
            Err(CliError::Usage(message) | CliError::BadArgument(message)) => (message, 2),
            Err(CliError::GooseUsage(message)) => (message, 1),
            Err(other) => (other.to_string(), 1),
            Ok(other) => panic!("{args}: {other:?}"),
        }
    }

    #[test]
    fn goose_invocations() {
        let s = run("-dir /app/migrations postgres postgres://x up", &[]);
        assert_eq!(
            (s.dir.as_str(), s.database.as_ref().map(|d| (d.driver, d.dsn())), &s.command),
            ("/app/migrations", Some((DriverKind::Postgres, "postgres://x")), &Command::Migrate(migrate::Command::Up))
        );
        // Flags anywhere, -x and --x alike, -x=v and -x v alike.
        let s = run("postgres DSN up-to 42 --dir=m -allow-missing -v=true -table app.versions", &[]);
        assert_eq!(
            (s.dir.as_str(), s.table.as_str(), s.allow_missing, s.verbose, &s.command),
            ("m", "app.versions", true, true, &Command::Migrate(migrate::Command::UpTo(42)))
        );
        // GOOSE_DRIVER and GOOSE_DBSTRING fill the first positional arguments.
        let env = [
            ("GOOSE_DRIVER", "pgx"),
            ("GOOSE_DBSTRING", "postgres://y"),
            ("GOOSE_MIGRATION_DIR", "db"),
            ("GOOSE_TABLE", "t"),
        ];
        let s = run("status", &env);
        assert_eq!(
            (s.database.as_ref().map(|d| d.dsn()), s.dir.as_str(), s.table.as_str(), &s.command),
            (Some("postgres://y"), "db", "t", &Command::Status)
        );
        // An explicit -dir other than "." wins over GOOSE_MIGRATION_DIR; "-dir=." loses (goose's quirk).
        assert_eq!(run("-dir=x postgres d up", &[("GOOSE_MIGRATION_DIR", "db")]).dir, "x");
        assert_eq!(run("-dir=. postgres d up", &[("GOOSE_MIGRATION_DIR", "db")]).dir, "db");
        // Empty variables count as unset.
        assert_eq!(run("-dir=. postgres d up", &[("GOOSE_MIGRATION_DIR", "")]).dir, ".");
        // MySQL TLS flags are accepted and ignored.
        run("-certfile c.pem -ssl-cert a -ssl-key b postgres d up", &[]);
        assert_eq!(run("-timeout 1h13m postgres d up", &[]).timeout, Some(Duration::from_secs(4380)));
        assert_eq!(run("-timeout 0 postgres d up", &[]).timeout, None);
        // Ours: -dry-run, -json, -exit-code.
        let s = run("postgres d status -json -exit-code", &[]);
        assert!(s.json && s.exit_code && !s.dry_run);
        assert!(run("postgres d up --dry-run", &[]).dry_run);
    }

    #[test]
    fn no_color() {
        assert!(run("-no-color postgres d up", &[]).no_color);
        assert!(run("postgres d up", &[("NO_COLOR", "1")]).no_color);
        assert!(run("postgres d up", &[("NO_COLOR", "true")]).no_color);
        // Go's ParseBool: "yes" is not true.
        assert!(!run("postgres d up", &[("NO_COLOR", "yes")]).no_color);
    }

    #[test]
    fn database_free_commands() {
        let s = run("-dir m -s create Add_Users", &[]);
        assert_eq!(s.command, Command::Create { name: "Add_Users".into(), kind: "sql".into() });
        assert!(s.sequential && s.database.is_none());
        assert_eq!(run("create x go", &[]).command, Command::Create { name: "x".into(), kind: "go".into() });
        // create and fix also work after DRIVER DBSTRING, without a database.
        let s = run("postgres d create y", &[]);
        assert!(matches!(s.command, Command::Create { .. }) && s.database.is_none());
        assert_eq!(run("postgres d fix", &[]).command, Command::Fix);
        assert_eq!(run("-v validate", &[]).command, Command::Validate { files: vec![] });
        assert_eq!(run("init", &[]).command, Command::Init);
        // These are recognised before GOOSE_DRIVER is merged.
        assert_eq!(run("env", &[("GOOSE_DRIVER", "postgres")]).command, Command::Env);
        // ...and init, env, validate after a driver are not commands, as in goose.
        assert_eq!(error("postgres d validate", &[]).0, "\"validate\": no such command");
    }

    #[test]
    fn errors_and_exit_classes() {
        assert_eq!(check("-h", &[]).unwrap(), GooseParsed::Help);
        assert_eq!(check("-help", &[]).unwrap(), GooseParsed::Help);
        assert_eq!(check("-version", &[]).unwrap(), GooseParsed::Version);
        assert_eq!(error("-nope postgres d up", &[]), ("flag provided but not defined: -nope".into(), 2));
        assert_eq!(error("postgres d up -dir", &[]), ("flag needs an argument: -dir".into(), 2));
        assert_eq!(error("-timeout 5x postgres d up", &[]).1, 2);
        assert_eq!(error("-v=maybe postgres d up", &[]).1, 2);
        assert_eq!(error("", &[]), ("no command given".into(), 1));
        assert_eq!(error("postgres d", &[]), ("expected DRIVER DBSTRING COMMAND".into(), 1));
        assert_eq!(error("postgres d up-to x", &[]), ("version must be a number (got 'x')".into(), 2));
        assert_eq!(
            error("postgres d up-to", &[]),
            ("up-to must be of form: migrate DRIVER DBSTRING [OPTIONS] up-to VERSION".into(), 1)
        );
        assert_eq!(error("postgres d sideways", &[]), ("\"sideways\": no such command".into(), 2));
        assert_eq!(error("mysql d up", &[]), ("\"mysql\": unknown dialect".into(), 2));
        assert_eq!(error("create", &[]).1, 1);
    }
}

#[cfg(test)]
mod snapshots {
    use super::*;

    /// The resolved settings of the job template's line, whole, as one snapshot.
    #[test]
    fn job_template_settings() {
        let args: Vec<String> =
            ["-dir", "/app/migrations", "postgres", "postgres://app:s3cret@db/app", "up"].map(str::to_owned).to_vec();
        let env = Env::from_pairs([("GOOSE_TABLE", "app.goose_versions"), ("NO_COLOR", "1")]);
        insta::assert_debug_snapshot!(parse(&args).unwrap().resolve(&env).unwrap());
    }
}
