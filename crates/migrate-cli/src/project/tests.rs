//! The precedence table of the module docs, a test per row: flags > variables > the environment's table >
//! the file's top level > defaults. Files are injected, so these read no disk.

use std::collections::BTreeMap;
use std::path::Path;

use crate::env::Env;
use crate::modern_form::{parse, ModernParsed};
use crate::settings::Settings;

const CONFIG: &str = r#"dir = "top_dir"
table = "top_table"
service = "top-service"
database_base = "auth"
log_format = "json"
[metrics]
push = "http://top-gateway:9091"
file = "top.prom"
[environments.dev]
database_url_env = "DEV_URL"
[environments.prod]
dir = "prod_dir"
table = "prod_table"
lock_wait = "42s"
lint = false
protected = true
database = { host_env = "PGH", user = "app", password_env = "PGPW", name = "{base}_prod", params = { sslmode = "disable" } }
metrics = { push = "http://prod-gateway:9091" }
"#;

fn files(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut files = BTreeMap::from([("migrate.toml".to_owned(), CONFIG.to_owned())]);
    files.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    files
}

fn resolve_with(files: &BTreeMap<String, String>, args: &str, env: &[(&str, &str)]) -> Result<Settings, String> {
    let read = |path: &Path| {
        files
            .get(&path.display().to_string())
            .cloned()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    };
    let args: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
    let cli = parse(&args).map_err(|e| e.to_string())?;
    match cli.resolve(&Env::from_pairs(env.iter().copied()), &read).map_err(|e| e.to_string())? {
        ModernParsed::Run(settings) => Ok(settings),
        _ => Err("not a run".to_owned()),
    }
}

fn resolve(args: &str, env: &[(&str, &str)]) -> Settings {
    resolve_with(&files(&[]), args, env).unwrap_or_else(|e| panic!("{args}: {e}"))
}

const PROD_ENV: &[(&str, &str)] = &[("PGH", "db.internal"), ("PGPW", "s3cr/et")];

#[test]
fn file_row() {
    let named = files(&[("conf/other.toml", "service = \"named\"\n"), ("mig/migrate.toml", "service = \"in-dir\"\n")]);
    let run = |args: &str, env: &[(&str, &str)]| {
        let env: Vec<_> = env.iter().copied().chain([("DATABASE_URL", "postgres://h/d")]).collect();
        resolve_with(&named, args, &env).unwrap().ops
    };
    assert_eq!(run("status --config conf/other.toml", &[("MIGRATE_CONFIG", "migrate.toml")]).service, "named");
    assert_eq!(run("status", &[("MIGRATE_CONFIG", "conf/other.toml")]).service, "named");
    assert_eq!(run("status --dir mig", &[]).service, "top-service", "./migrate.toml before DIR/migrate.toml");
    let mut only_dir = files(&[("mig/migrate.toml", "service = \"in-dir\"\n")]);
    only_dir.remove("migrate.toml");
    let settings = resolve_with(&only_dir, "status --dir mig", &[("DATABASE_URL", "postgres://h/d")]).unwrap();
    assert_eq!(settings.ops.service, "in-dir");
    assert_eq!(settings.ops.config.unwrap().display().to_string(), "mig/migrate.toml");
    let missing = resolve_with(&named, "status --config nope.toml", &[]).unwrap_err();
    assert!(missing.starts_with("nope.toml: no such file"), "{missing}");
}

#[test]
fn environment_row() {
    let both = [("MIGRATE_ENVIRONMENT", "dev"), ("PGH", "h"), ("PGPW", "p")];
    assert_eq!(resolve("status --environment prod", &both).ops.environment.as_deref(), Some("prod"));
    let var = [("MIGRATE_ENVIRONMENT", "dev"), ("DEV_URL", "postgres://h/d")];
    assert_eq!(resolve("status", &var).ops.environment.as_deref(), Some("dev"));
    let with_default = files(&[("migrate.toml", &format!("default_environment = \"dev\"\n{CONFIG}"))]);
    let settings = resolve_with(&with_default, "status", &[("DEV_URL", "postgres://h/d")]).unwrap();
    assert_eq!(settings.ops.environment.as_deref(), Some("dev"));
    assert_eq!(resolve("status --database-url postgres://h/d", &[]).ops.environment, None);
    let unknown = resolve_with(&files(&[]), "status --environment staging", &[]).unwrap_err();
    assert_eq!(unknown, "migrate.toml: no environment \"staging\" (the file has: dev, prod)");
    let no_file = resolve_with(&BTreeMap::new(), "status --environment prod", &[]).unwrap_err();
    assert!(no_file.contains("there is no migrate.toml"), "{no_file}");
}

#[test]
fn directory_row() {
    let url = ("DATABASE_URL", "postgres://h/d");
    let dev = [("GOOSE_MIGRATION_DIR", "var_dir"), ("DEV_URL", "postgres://h/d")];
    assert_eq!(resolve("status --dir flag_dir --environment dev", &dev).dir, "flag_dir");
    assert_eq!(resolve("status", &[("GOOSE_MIGRATION_DIR", "var_dir"), url]).dir, "var_dir");
    let mut env = PROD_ENV.to_vec();
    env.push(url);
    assert_eq!(resolve("status --environment prod", &env).dir, "prod_dir");
    assert_eq!(resolve("status", &[url]).dir, "top_dir");
    assert_eq!(resolve_with(&BTreeMap::new(), "status", &[url]).unwrap().dir, ".");
    // goose's quirk: an explicit `--dir .` loses to the variable, but wins over the file.
    assert_eq!(resolve("status --dir .", &[("GOOSE_MIGRATION_DIR", "var_dir"), url]).dir, "var_dir");
    assert_eq!(resolve("status --dir .", &[url]).dir, ".");
}

#[test]
fn table_row() {
    let url = ("DATABASE_URL", "postgres://h/d");
    assert_eq!(resolve("status --table flag_table", &[("GOOSE_TABLE", "var_table"), url]).table, "flag_table");
    assert_eq!(resolve("status", &[("GOOSE_TABLE", "var_table"), url]).table, "var_table");
    assert_eq!(resolve("status --environment prod", PROD_ENV).table, "prod_table");
    assert_eq!(resolve("status", &[url]).table, "top_table");
    assert_eq!(resolve_with(&BTreeMap::new(), "status", &[url]).unwrap().table, "goose_db_version");
}

#[test]
fn database_row() {
    let mut env = PROD_ENV.to_vec();
    let dsn = |s: &Settings| s.database.as_ref().map(|d| (d.dsn().to_owned(), d.origin.clone())).unwrap();
    env.push(("DATABASE_URL", "postgres://from-var/db"));
    env.push(("GOOSE_DBSTRING", "postgres://from-goose/db"));
    env.push(("POSTGRES_HOST", "from-parts"));
    let flag = resolve("status --environment prod --database-url postgres://from-flag/db", &env);
    assert_eq!(dsn(&flag), ("postgres://from-flag/db".to_owned(), "--database-url".to_owned()));
    let parts = resolve("status --environment prod --db-host from-db-flags", &env);
    assert_eq!(dsn(&parts).1, "the --db-* flags");
    assert_eq!(dsn(&resolve("status --environment prod", &env)).1, "DATABASE_URL");
    env.retain(|(k, _)| *k != "DATABASE_URL");
    assert_eq!(dsn(&resolve("status --environment prod", &env)).1, "GOOSE_DBSTRING");
    env.retain(|(k, _)| *k != "GOOSE_DBSTRING");
    assert_eq!(
        dsn(&resolve("status --environment prod", &env)),
        (
            "postgres://app:s3cr%2Fet@db.internal/auth_prod?sslmode=disable".to_owned(),
            "environment prod in migrate.toml".to_owned()
        )
    );
    // Without an environment, the POSTGRES_* parts are the last resort.
    assert_eq!(dsn(&resolve("status", &env)).1, "the POSTGRES_* variables");
    // An environment given by a URL variable, with the database name replaced by the pattern's.
    let dev = resolve("status --environment dev", &[("DEV_URL", "postgres://u@h/base")]);
    assert_eq!(dsn(&dev).0, "postgres://u@h/base");
    let pattern =
        CONFIG.replace("database_url_env = \"DEV_URL\"", "database = { url_env = \"DEV_URL\", name = \"{base}_dev\" }");
    let named = files(&[("migrate.toml", &pattern)]);
    let dev = resolve_with(&named, "status --environment dev", &[("DEV_URL", "postgres://u@h/base")]).unwrap();
    assert_eq!(dsn(&dev).0, "postgres://u@h/base?dbname=auth_dev");
    let unset = resolve_with(&files(&[]), "status --environment prod", &[("PGH", "h")]).unwrap_err();
    assert_eq!(unset, "migrate.toml:17: environment prod: password_env names PGPW, which is not set or is empty");
}

#[test]
fn service_row() {
    let url = ("DATABASE_URL", "postgres://h/d");
    assert_eq!(resolve("status --service flag-svc", &[("MIGRATE_SERVICE", "var-svc"), url]).ops.service, "flag-svc");
    assert_eq!(resolve("status", &[("MIGRATE_SERVICE", "var-svc"), url]).ops.service, "var-svc");
    assert_eq!(resolve("status", &[url]).ops.service, "top-service");
    let none = BTreeMap::new();
    let from_dir = resolve_with(&none, "status --dir services/billing/migrations/postgres", &[url]).unwrap();
    assert_eq!(from_dir.ops.service, "billing");
}

#[test]
fn lock_wait_and_lint_rows() {
    let prod = resolve("up --environment prod", PROD_ENV);
    assert_eq!(prod.lock_wait, Some(std::time::Duration::from_secs(42)));
    assert!(prod.lint.no_lint);
    let flag = resolve("up --environment prod --lock-wait 3s", PROD_ENV);
    assert_eq!(flag.lock_wait, Some(std::time::Duration::from_secs(3)));
    let default = resolve_with(&BTreeMap::new(), "up --database-url postgres://h/d", &[]).unwrap();
    assert_eq!((default.lock_wait, default.lint.no_lint), (None, false));
}

#[test]
fn metrics_rows() {
    let url = ("DATABASE_URL", "postgres://h/d");
    let push_and_file =
        |s: &Settings| (s.ops.metrics_push.clone(), s.ops.metrics_file.as_ref().map(|f| f.display().to_string()));
    let flag = resolve(
        "up --metrics-push http://flag:9091 --metrics-file f.prom",
        &[("MIGRATE_METRICS_PUSH", "http://var:9091"), url],
    );
    assert_eq!(push_and_file(&flag), (Some("http://flag:9091".into()), Some("f.prom".into())));
    let vars = [("MIGRATE_METRICS_PUSH", "http://var:9091"), ("MIGRATE_METRICS_FILE", "v.prom"), url];
    assert_eq!(push_and_file(&resolve("up", &vars)), (Some("http://var:9091".into()), Some("v.prom".into())));
    // The environment overrides the top level key by key.
    let prod = resolve("up --environment prod", PROD_ENV);
    assert_eq!(push_and_file(&prod), (Some("http://prod-gateway:9091".into()), Some("top.prom".into())));
    let top = resolve("up", &[url]);
    assert_eq!(push_and_file(&top), (Some("http://top-gateway:9091".into()), Some("top.prom".into())));
    let none = resolve_with(&BTreeMap::new(), "up", &[url]).unwrap();
    assert_eq!(push_and_file(&none), (None, None));
}

#[test]
fn log_format_row() {
    let url = ("DATABASE_URL", "postgres://h/d");
    assert!(!resolve("up --log-format text", &[("MIGRATE_LOG_FORMAT", "json"), url]).ops.log_json);
    assert!(!resolve("up", &[("MIGRATE_LOG_FORMAT", "text"), url]).ops.log_json);
    assert!(resolve("up", &[url]).ops.log_json);
    assert!(!resolve_with(&BTreeMap::new(), "up", &[url]).unwrap().ops.log_json);
    let bad = resolve_with(&BTreeMap::new(), "up", &[("MIGRATE_LOG_FORMAT", "xml"), url]).unwrap_err();
    assert!(bad.contains("use text or json"), "{bad}");
}

#[test]
fn protection_comes_from_the_environment() {
    assert!(resolve("down --environment prod", PROD_ENV).ops.protected);
    assert!(!resolve("down --environment dev", &[("DEV_URL", "postgres://h/d")]).ops.protected);
    assert!(resolve("down --environment prod --yes", PROD_ENV).ops.yes);
}

#[test]
fn a_password_in_the_file_is_refused_with_its_line() {
    let text = "[environments.prod]\nprotected = true\ndatabase_url = \"postgres://app:hunter2@db/app\"\n";
    let error = resolve_with(&files(&[("migrate.toml", text)]), "status --environment prod", &[]).unwrap_err();
    assert!(error.starts_with("migrate.toml:3: a password in migrate.toml is refused"), "{error}");
    assert!(!error.contains("hunter2"));
}
