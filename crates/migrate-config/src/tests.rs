//! The checks of `migrate.toml`, each refusal with its line.

use super::*;

fn parse(text: &str) -> Result<ProjectConfig, String> {
    ProjectConfig::parse("conf/migrate.toml", text).map_err(|e| e.to_string())
}

#[test]
fn the_issue_example() {
    let text = r#"dir = "migrations"
service = "auth-service"

[environments.dev]
database_url_env = "DATABASE_URL"        # read the URL from this variable
[environments.prod]
database = { host_env = "POSTGRES_HOST", user_env = "POSTGRES_USER", password_env = "POSTGRES_PASSWORD", name = "girok_auth" }
protected = true
[environments.prod.backup]
mode = "required"
path = "/backups/{database}_{timestamp}.dump"
"#;
    let config = parse(text).unwrap();
    assert_eq!(config.dir.as_ref().unwrap().value, PathBuf::from("conf/migrations"));
    assert_eq!(config.service.as_ref().unwrap().value, "auth-service");
    let dev = config.environment("dev").unwrap();
    assert_eq!(dev.database.as_ref().unwrap().url, Setting::Env("DATABASE_URL".into()));
    assert!(!dev.protected);
    let prod = config.environment("prod").unwrap();
    assert_eq!(prod.line, 6);
    let db = prod.database.as_ref().unwrap();
    assert_eq!(db.name, Setting::Literal("girok_auth".into()));
    assert_eq!(db.user, Setting::Env("POSTGRES_USER".into()));
    let backup = prod.backup.as_ref().unwrap();
    assert_eq!(backup.mode, BackupMode::Required);
    assert_eq!(
        backup.method,
        BackupMethodConfig::PgDump { path: "/backups/{database}_{timestamp}.dump".into(), pg_dump: None }
    );
    assert!(config.environment("staging").unwrap_err().to_string().ends_with("(the file has: dev, prod)"));
}

#[test]
fn refusals_name_their_line() {
    let cases = [
        ("tabel = \"x\"\n", "conf/migrate.toml:1: unknown field `tabel`"),
        ("[environments.a]\nprotect = true\n", "conf/migrate.toml:2: unknown field `protect`"),
        (
            "[environments.a]\ndatabase_url = \"postgres://u:hunter2@h/db\"\n",
            "conf/migrate.toml:2: a password in migrate.toml is refused",
        ),
        (
            "[environments.a]\ndatabase_url = \"postgres://u@h/db?password=hunter2\"\n",
            "conf/migrate.toml:2: a password",
        ),
        ("[environments.a]\ndatabase_url = \"host=h password=hunter2\"\n", "conf/migrate.toml:2: a password"),
        (
            "[environments.a]\n\n[environments.a.database]\nhost = \"h\"\npassword = \"hunter2\"\n",
            "conf/migrate.toml:5: a password",
        ),
        (
            "[environments.a]\ndatabase = { host = \"h\", params = { password = \"hunter2\" } }\n",
            "conf/migrate.toml:2: a password",
        ),
        (
            "[environments.a]\ndatabase = { password_env = \"hunter 2!\" }\n",
            "conf/migrate.toml:2: password_env must be the name of an environment variable",
        ),
        (
            "[environments.a]\ndatabase = { port = \"hunter2\" }\n",
            "conf/migrate.toml:2: a value of the wrong type: expected i64",
        ),
        ("[environments.a]\ndatabase = { port = 70000 }\n", "conf/migrate.toml:2: port must be from 1 to 65535"),
        ("[environments.a]\nlock_wait = \"5\"\n", "conf/migrate.toml:2: lock_wait = \"5\" is not a duration"),
        (
            "[environments.a]\ndatabase_url_env = \"A\"\ndatabase = { host = \"h\" }\n",
            "conf/migrate.toml:3: give the database once",
        ),
        (
            "[environments.a]\ndatabase = { url = \"postgres://h/db\", host = \"h\" }\n",
            "conf/migrate.toml:2: a database given by url takes only name and params",
        ),
        ("[environments.a.backup]\nmode = \"always\"\npath = \"x\"\n", "conf/migrate.toml:2: mode must be"),
        ("[environments.a.backup]\nmode = \"optional\"\n", "conf/migrate.toml:1: a backup needs path"),
        (
            "[environments.a.backup]\npath = \"x\"\ncommand = [\"y\"]\n",
            "conf/migrate.toml:2: give path (pg_dump) or command",
        ),
        ("default_environment = \"prod\"\n", "conf/migrate.toml:1: default_environment names \"prod\""),
        ("log_format = \"xml\"\n", "conf/migrate.toml:1: log_format must be"),
        (
            "[metrics]\npush = \"http://u:pw@gw:9091\"\n",
            "conf/migrate.toml:2: a password in migrate.toml is refused (the metrics push URL)",
        ),
        ("dir = [\n", "conf/migrate.toml:1:"),
    ];
    for (text, expected) in cases {
        let message = parse(text).unwrap_err();
        assert!(message.starts_with(expected), "{text:?}\n  gave {message:?}\n  want {expected:?}");
        assert!(!message.contains("hunter"), "the secret is quoted: {message}");
    }
}

#[test]
fn urls_without_passwords_pass() {
    for url in ["postgres://u@h/db", "postgres://h/db?sslmode=require", "clickhouse://h:9000/db", "host=h user=u"] {
        assert!(!parse::url_has_password(url), "{url}");
    }
    for url in ["postgres://u:p@h/db", "postgres://u:p@ss@h/db", "http://u:p/q@h/", "password=x host=h"] {
        assert!(parse::url_has_password(url), "{url}");
    }
}

#[test]
fn environments_keep_everything_they_say() {
    let text = r#"database_base = "auth"
table = "schema_versions"
[metrics]
push = "http://gw:9091"
[environments.staging]
database = { url_env = "DATABASE_URL", name = "{base}_release", params = { sslmode = "require" } }
dir = "/elsewhere"
lock_wait = "90s"
lint = false
metrics = { file = "metrics/migrate.prom" }
[environments.staging.backup]
mode = "optional"
command = ["clickhouse-backup", "create", "{database}_{timestamp}"]
restore_command = ["clickhouse-backup", "restore", "{database}_{timestamp}"]
timeout = "30m"
"#;
    let config = parse(text).unwrap();
    let staging = config.environment("staging").unwrap();
    let db = staging.database.as_ref().unwrap();
    assert_eq!(db.params, vec![("sslmode".to_owned(), "require".to_owned())]);
    assert_eq!(config.expand_name("{base}_release", db.line, "staging", None).unwrap(), "auth_release");
    assert_eq!(staging.dir.as_ref().unwrap().value, PathBuf::from("/elsewhere"));
    assert_eq!(staging.lock_wait, Some(std::time::Duration::from_secs(90)));
    assert_eq!(staging.lint, Some(false));
    assert_eq!(staging.metrics.file.as_ref().unwrap().value, PathBuf::from("conf/metrics/migrate.prom"));
    assert_eq!(config.metrics.push.as_ref().unwrap().value, "http://gw:9091");
    let backup = staging.backup.as_ref().unwrap();
    assert_eq!(backup.mode, BackupMode::Optional);
    assert_eq!(backup.timeout, Some(std::time::Duration::from_secs(1800)));
    assert!(matches!(&backup.method, BackupMethodConfig::Command { argv, restore: Some(_) } if argv.len() == 3));
    let missing_base = ProjectConfig::parse("m.toml", "").unwrap().expand_name("{base}", 4, "x", None);
    assert!(missing_base.unwrap_err().to_string().starts_with("m.toml:4: {base} needs database_base"));
}

#[test]
fn lint_is_left_to_the_lint_crate() {
    let config = parse("[lint]\npg-version = \"11\"\n[lint.rules]\nban-drop-table = \"error\"\n").unwrap();
    assert!(config.has_lint);
    assert!(config.text.contains("ban-drop-table"));
}

#[test]
fn a_workspace_lists_its_services() {
    let text = r#"database_base = "shared"
[environments.dev]
database = { host_env = "PGHOST_DEV", user = "app", name = "{base}_dev" }
[environments.prod]
database = { host_env = "PGHOST_PROD", user = "app", name = "{base}" }
protected = true

[services.auth]
dir = "services/auth/migrations"
database_base = "auth"
[services.events]
dir = "services/events/migrations/clickhouse"
driver = "clickhouse"
[services.events.environments.dev]
database_url_env = "EVENTS_DEV_URL"
[services.tenants]
dir = "services/tenants/migrations"
tenants = { query = "SELECT datname FROM pg_database WHERE datname LIKE 'tenant_%'" }
"#;
    let config = parse(text).unwrap();
    let names: Vec<&str> = config.services.keys().map(String::as_str).collect();
    assert_eq!(names, ["auth", "events", "tenants"]);
    let auth = &config.services["auth"];
    assert_eq!(auth.dir.value, PathBuf::from("conf/services/auth/migrations"));
    assert_eq!(auth.database_base.as_ref().unwrap().value, "auth");
    assert_eq!(config.expand_name_with_base("{base}_dev", 3, "dev", Some("auth"), Some("auth")).unwrap(), "auth_dev");
    let events = &config.services["events"];
    assert_eq!(events.driver.as_ref().unwrap().value, "clickhouse");
    assert_eq!(events.environments["dev"].database.as_ref().unwrap().url, Setting::Env("EVENTS_DEV_URL".into()));
    assert!(matches!(&config.services["tenants"].tenants, Some(Tenants::Query(q)) if q.contains("tenant_%")));
    let bad = parse("[services.x]\ntable = \"t\"\n").unwrap_err();
    assert!(bad.starts_with("conf/migrate.toml:1: service x needs dir"), "{bad}");
    let two = parse("[services.x]\ndir = \"d\"\ntenants = { databases = [\"a\"], query = \"q\" }\n").unwrap_err();
    assert!(two.starts_with("conf/migrate.toml:3: tenants takes one of"), "{two}");
    let unknown = parse("[services.x]\ndir = \"d\"\ndirr = \"e\"\n").unwrap_err();
    assert!(unknown.starts_with("conf/migrate.toml:3: unknown field `dirr`"), "{unknown}");
}
