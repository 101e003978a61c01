//! The modern form's resolution (pure: environment and files injected) and its `--help` texts.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::drivers::DriverKind;

fn no_files(_: &Path) -> std::io::Result<String> {
    Err(std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory"))
}

fn resolve(args: &str, env: &[(&str, &str)]) -> Result<ModernParsed, String> {
    let args: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
    let cli = parse(&args).map_err(|e| e.to_string())?;
    cli.resolve(&Env::from_pairs(env.iter().copied()), &no_files).map_err(|e| e.to_string())
}

fn settings(args: &str, env: &[(&str, &str)]) -> Settings {
    match resolve(args, env) {
        Ok(ModernParsed::Run(settings)) => settings,
        other => panic!("{args}: {other:?}"),
    }
}

#[test]
fn up_with_url_and_dir() {
    let s = settings("up --dir migrations --database-url postgres://u@h/db", &[]);
    assert_eq!(s.command, Command::Migrate(migrate::Command::Up));
    assert_eq!(s.dir, "migrations");
    assert_eq!(s.table, "goose_db_version");
    let db = s.database.unwrap();
    assert_eq!((db.driver, db.dsn()), (DriverKind::Postgres, "postgres://u@h/db"));
}

#[test]
fn environment_fallbacks() {
    let env = [
        ("DATABASE_URL", "clickhouse://h:9000/db"),
        ("GOOSE_MIGRATION_DIR", "db/migrations"),
        ("GOOSE_TABLE", "app.versions"),
        ("NO_COLOR", "1"),
    ];
    let s = settings("status", &env);
    assert_eq!(s.database.unwrap().driver, DriverKind::ClickHouse);
    assert_eq!((s.dir.as_str(), s.table.as_str(), s.no_color), ("db/migrations", "app.versions", true));
    // Flags win over the variables.
    let s = settings("status --dir m --table t --database-url postgres://x/y", &env);
    assert_eq!((s.dir.as_str(), s.table.as_str()), ("m", "t"));
    // goose's variables work in the modern form too.
    let goose = [("GOOSE_DRIVER", "postgres"), ("GOOSE_DBSTRING", "host=h dbname=d")];
    assert_eq!(settings("up", &goose).database.unwrap().dsn(), "host=h dbname=d");
}

#[test]
fn commands_and_switches() {
    let s = settings("up-to 42 --database-url postgres://h/d --allow-missing --dry-run --json --lock-wait 2s", &[]);
    assert_eq!(s.command, Command::Migrate(migrate::Command::UpTo(42)));
    assert!(s.allow_missing && s.dry_run && s.json);
    assert_eq!(s.lock_wait, Some(Duration::from_secs(2)));
    let s = settings("down-to 0 --database-url postgres://h/d --no-versioning --timeout 1h13m", &[]);
    assert_eq!((s.no_versioning, s.timeout), (true, Some(Duration::from_secs(4380))));
    let s = settings("status --database-url postgres://h/d --exit-code --json", &[]);
    assert!(s.exit_code && s.json);
    let s = settings("create Add_Users -s --dir m", &[]);
    assert_eq!(s.command, Command::Create { name: "Add_Users".into(), kind: "sql".into() });
    assert!(s.sequential && s.database.is_none());
    let s = settings("validate a.sql b.sql --json -v", &[]);
    assert_eq!(s.command, Command::Validate { files: vec!["a.sql".into(), "b.sql".into()] });
    assert!(s.json && s.verbose);
    // wait waits 60s unless told otherwise.
    assert_eq!(settings("wait --database-url postgres://h/d", &[]).timeout, Some(DEFAULT_WAIT));
    assert_eq!(settings("wait --database-url postgres://h/d --timeout 5s", &[]).timeout, Some(Duration::from_secs(5)));
    assert!(matches!(resolve("completions bash", &[]), Ok(ModernParsed::Completions(Shell::Bash))));
    assert!(matches!(resolve("help up", &[]), Ok(ModernParsed::Help(text)) if text.contains("migrate up")));
}

#[test]
fn parts_build_an_encoded_url() {
    let s = settings(
        "up --db-host 127.0.0.1 --db-port 5432 --db-user app --db-name main --db-password-env PW --db-param sslmode=disable",
        &[("PW", "p@ss/w:rd #1?")],
    );
    assert_eq!(
        s.database.unwrap().dsn(),
        "postgres://app:p%40ss%2Fw%3Ard%20%231%3F@127.0.0.1:5432/main?sslmode=disable"
    );
}

#[test]
fn errors() {
    let no_db = resolve("up", &[]).unwrap_err();
    assert!(no_db.starts_with("no database given"), "{no_db}");
    let clap_error = resolve("up --bogus", &[]).unwrap_err();
    assert!(clap_error.contains("--bogus"), "{clap_error}");
    assert!(resolve("up --database-url x --timeout 5x", &[]).unwrap_err().contains("Go duration"));
    assert!(resolve("completions powershell", &[]).is_err());
    assert!(resolve("help sideways", &[]).unwrap_err().contains("no such command"));
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("help", help(None).unwrap());
    for command in ["up", "status", "validate", "create", "wait", "lint"] {
        insta::assert_snapshot!(format!("help_{command}"), help(Some(command)).unwrap());
    }
    insta::assert_snapshot!("goose_usage", crate::goose_form::USAGE);
}

#[test]
fn completion_scripts() {
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let script = completions(shell);
        assert!(script.contains("up-by-one") && script.contains("database-url"), "{shell:?}");
    }
}

/// The resolved settings of a modern line with the URL built from parts, whole, as one snapshot (the DSN
/// shows redacted, as it would in any debug output).
#[test]
fn parts_settings_snapshot() {
    let env = [("POSTGRES_HOST", "db"), ("POSTGRES_USER", "app"), ("POSTGRES_PASSWORD", "p@ss word")];
    insta::assert_debug_snapshot!(settings("up --dir migrations --db-name main --dry-run --lock-wait 30s", &env));
}
