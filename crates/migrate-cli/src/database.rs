//! Which database a command talks to: a DSN given whole (flag or variable), or built from parts with
//! every part percent-encoded, so a password needs no hand-encoding whatever characters it holds.
//!
//! Precedence, first match wins:
//! 1. `--database-url URL`;
//! 2. `--db-host/--db-port/--db-user/--db-name/--db-password-env/--db-password-file/--db-param` (parts
//!    not given as flags come from the driver's variables below);
//! 3. `DATABASE_URL`;
//! 4. `GOOSE_DBSTRING` (driver from `GOOSE_DRIVER`);
//! 5. the selected environment's database in `migrate.toml` (`database_url`, `database_url_env` or
//!    `database = { ... }`, whose parts name their variables);
//! 6. `POSTGRES_HOST` (with `POSTGRES_PORT/USER/PASSWORD/DATABASE`) or `CLICKHOUSE_HOST` (with
//!    `CLICKHOUSE_PORT/USERNAME/PASSWORD/DATABASE`).
//!
//! The driver is `--driver` when given, else the one the URL scheme names (`postgres`, `postgresql` →
//! PostgreSQL; `clickhouse`, `tcp`, `http`, `https` → ClickHouse).

use std::path::{Path, PathBuf};

use migrate::clickhouse::{ch_url_from_parts, ChScheme};
use migrate::postgres::pg_url_from_parts;
use migrate_config::{DatabaseConfig, Environment, PasswordSource, ProjectConfig, Setting};

use crate::drivers::DriverKind;
use crate::env::Env;
use crate::error::CliError;
use crate::redact::redact_dsn;

/// A database to connect to.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Database {
    /// Its driver.
    pub(crate) driver: DriverKind,
    dsn: String,
    /// Where the DSN came from, for messages.
    pub(crate) origin: String,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("driver", &self.driver)
            .field("dsn", &redact_dsn(&self.dsn))
            .field("origin", &self.origin)
            .finish()
    }
}

impl Database {
    /// A database from a DSN given whole.
    pub(crate) fn new(driver: DriverKind, dsn: impl Into<String>, origin: impl Into<String>) -> Database {
        Database { driver, dsn: dsn.into(), origin: origin.into() }
    }

    /// The DSN; it may hold a password, so never print it (use [`redact_dsn`]).
    pub(crate) fn dsn(&self) -> &str {
        &self.dsn
    }
}

/// The modern form's database flags, as typed.
#[derive(Default, Clone)]
pub(crate) struct DbFlags {
    pub(crate) url: Option<String>,
    pub(crate) driver: Option<String>,
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) user: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) password_env: Option<String>,
    pub(crate) password_file: Option<PathBuf>,
    pub(crate) params: Vec<String>,
}

impl DbFlags {
    /// Whether any part of a URL was given as a flag.
    pub(crate) fn has_parts(&self) -> bool {
        self.host.is_some()
            || self.port.is_some()
            || self.user.is_some()
            || self.name.is_some()
            || self.password_env.is_some()
            || self.password_file.is_some()
            || !self.params.is_empty()
    }
}

/// Reads a file (the password file); injected so resolution stays testable.
pub(crate) type ReadFile<'a> = &'a dyn Fn(&Path) -> std::io::Result<String>;

/// An environment's database in `migrate.toml`, with what its name pattern needs.
pub(crate) struct ConfiguredDatabase<'a> {
    pub(crate) config: &'a ProjectConfig,
    pub(crate) environment: &'a Environment,
    pub(crate) database: &'a DatabaseConfig,
    /// The service, for `{service}`.
    pub(crate) service: Option<&'a str>,
    /// What `{base}` stands for (the service's `database_base`, else the file's).
    pub(crate) base: Option<&'a str>,
    /// The driver the file names (the environment's, else the top-level one).
    pub(crate) driver: Option<DriverKind>,
}

/// Resolves the database of the modern form (see the module docs for the precedence).
pub(crate) fn resolve_database(
    flags: &DbFlags,
    env: &Env,
    read_file: ReadFile<'_>,
    configured: Option<&ConfiguredDatabase<'_>>,
) -> Result<Database, CliError> {
    let driver_flag = match flags.driver.as_deref() {
        Some(name) => Some(DriverKind::from_name(name).ok_or_else(|| {
            CliError::Usage(format!("unknown driver {name:?}: use postgres (or pgx, redshift) or clickhouse"))
        })?),
        None => None,
    };
    let whole = |dsn: &str, origin: &'static str, named: Option<DriverKind>| -> Result<Database, CliError> {
        let driver = named.or_else(|| DriverKind::from_dsn(dsn)).ok_or_else(|| {
            CliError::Usage(format!(
                "cannot tell the driver from the {origin} value: use a postgres:// or clickhouse:// URL, or pass \
                 --driver postgres|clickhouse"
            ))
        })?;
        Ok(Database::new(driver, dsn, origin))
    };
    if let Some(url) = flags.url.as_deref() {
        return whole(url, "--database-url", driver_flag);
    }
    // Which driver's variables are set; both set and nothing else deciding is refused, not guessed.
    let env_driver = || -> Result<Option<DriverKind>, CliError> {
        match (env.non_empty("POSTGRES_HOST").is_some(), env.non_empty("CLICKHOUSE_HOST").is_some()) {
            (true, true) => Err(CliError::Usage(
                "both POSTGRES_HOST and CLICKHOUSE_HOST are set: pass --driver postgres or --driver clickhouse to \
                 say which database this run is for"
                    .to_owned(),
            )),
            (true, false) => Ok(Some(DriverKind::Postgres)),
            (false, true) => Ok(Some(DriverKind::ClickHouse)),
            (false, false) => Ok(None),
        }
    };
    if flags.has_parts() {
        let driver = match driver_flag {
            Some(driver) => driver,
            None => env_driver()?.unwrap_or(DriverKind::Postgres),
        };
        return from_parts(driver, flags, env, read_file);
    }
    if let Some(url) = env.non_empty("DATABASE_URL") {
        return whole(url, "DATABASE_URL", driver_flag);
    }
    if let Some(dbstring) = env.non_empty("GOOSE_DBSTRING") {
        let named = match (driver_flag, env.non_empty("GOOSE_DRIVER")) {
            (Some(driver), _) => Some(driver),
            (None, Some(name)) => Some(DriverKind::from_name(name).ok_or_else(|| {
                CliError::Usage(format!("GOOSE_DRIVER={name:?}: unknown driver; use postgres or clickhouse"))
            })?),
            (None, None) => None,
        };
        return whole(dbstring, "GOOSE_DBSTRING", named);
    }
    if let Some(configured) = configured {
        return from_config(configured, driver_flag, env, read_file);
    }
    let driver = match driver_flag {
        Some(driver) => Some(driver),
        None => env_driver()?,
    };
    let driver = match driver {
        Some(driver) => driver,
        None => {
            return Err(CliError::Usage(
                "no database given: pass --database-url URL, set DATABASE_URL, or give the parts with --db-host \
                 --db-user --db-name and --db-password-env NAME (or POSTGRES_HOST, POSTGRES_USER, ...)"
                    .to_owned(),
            ))
        }
    };
    from_parts(driver, flags, env, read_file)
}

/// The variables each driver's parts default to.
struct PartVars {
    host: &'static str,
    port: &'static str,
    user: &'static str,
    password: &'static str,
    database: &'static str,
}

fn part_vars(driver: DriverKind) -> PartVars {
    match driver {
        DriverKind::Postgres => PartVars {
            host: "POSTGRES_HOST",
            port: "POSTGRES_PORT",
            user: "POSTGRES_USER",
            password: "POSTGRES_PASSWORD",
            database: "POSTGRES_DATABASE",
        },
        DriverKind::ClickHouse => PartVars {
            host: "CLICKHOUSE_HOST",
            port: "CLICKHOUSE_PORT",
            user: "CLICKHOUSE_USERNAME",
            password: "CLICKHOUSE_PASSWORD",
            database: "CLICKHOUSE_DATABASE",
        },
    }
}

fn from_parts(driver: DriverKind, flags: &DbFlags, env: &Env, read_file: ReadFile<'_>) -> Result<Database, CliError> {
    let vars = part_vars(driver);
    let host = flags
        .host
        .as_deref()
        .or_else(|| env.non_empty(vars.host))
        .ok_or_else(|| CliError::Usage(format!("no database host: pass --db-host or set {}", vars.host)))?;
    let port = match (flags.port, env.non_empty(vars.port)) {
        (Some(port), _) => Some(port),
        (None, Some(text)) => Some(
            text.parse::<u16>()
                .map_err(|_| CliError::Usage(format!("{}={text:?} is not a port number (1-65535)", vars.port)))?,
        ),
        (None, None) => None,
    };
    let user = flags.user.as_deref().or_else(|| env.non_empty(vars.user)).unwrap_or("");
    let name = flags.name.as_deref().or_else(|| env.non_empty(vars.database)).unwrap_or("");
    let password = match (&flags.password_env, &flags.password_file) {
        (Some(_), Some(_)) => {
            return Err(CliError::Usage("give --db-password-env or --db-password-file, not both".to_owned()))
        }
        (Some(name), None) => Some(env.non_empty(name).map(str::to_owned).ok_or_else(|| {
            CliError::Usage(format!("--db-password-env {name}: the variable {name} is not set or is empty"))
        })?),
        (None, Some(path)) => Some(read_password_file(path, read_file)?),
        (None, None) => env.non_empty(vars.password).map(str::to_owned),
    };
    let mut params = Vec::with_capacity(flags.params.len());
    for param in &flags.params {
        let (key, value) = param
            .split_once('=')
            .filter(|(key, _)| !key.is_empty())
            .ok_or_else(|| CliError::Usage(format!("--db-param {param:?}: expected KEY=VALUE")))?;
        params.push((key, value));
    }
    let dsn = url_from_parts(driver, host, port, user, password.as_deref(), name, &params);
    let origin = match (flags.has_parts(), driver) {
        (true, _) => "the --db-* flags",
        (false, DriverKind::Postgres) => "the POSTGRES_* variables",
        (false, DriverKind::ClickHouse) => "the CLICKHOUSE_* variables",
    };
    Ok(Database::new(driver, dsn, origin))
}

/// The URL of a database given by parts, each percent-encoded.
fn url_from_parts(
    driver: DriverKind,
    host: &str,
    port: Option<u16>,
    user: &str,
    password: Option<&str>,
    name: &str,
    params: &[(&str, &str)],
) -> String {
    match driver {
        DriverKind::Postgres => pg_url_from_parts(host, port, user, password, name, params),
        DriverKind::ClickHouse => {
            let url = ch_url_from_parts(ChScheme::Http, host, port, user, password, name, params);
            // A native-protocol port (CLICKHOUSE_PORT=9000 in our users' Jobs) makes it a clickhouse:// DSN,
            // which the driver maps to the HTTP port exactly as it maps one given whole.
            match port {
                Some(9000 | 9440) => url.replacen("http://", "clickhouse://", 1),
                _ => url,
            }
        }
    }
}

/// The database an environment of `migrate.toml` names: its URL (from the file or a variable, the
/// database name replaced when the environment gives one), or its parts, each from the file or a variable.
fn from_config(
    configured: &ConfiguredDatabase<'_>,
    driver_flag: Option<DriverKind>,
    env: &Env,
    read_file: ReadFile<'_>,
) -> Result<Database, CliError> {
    let ConfiguredDatabase { config, environment, database, service, base, driver } = configured;
    let file = config.path.display();
    let at = |line: usize, message: String| {
        CliError::Usage(format!("{file}:{line}: environment {}: {message}", environment.name))
    };
    let read = |setting: &Setting<String>, key: &str| -> Result<Option<String>, CliError> {
        match setting {
            Setting::Unset => Ok(None),
            Setting::Literal(value) => Ok(Some(value.clone())),
            Setting::Env(name) => env
                .non_empty(name)
                .map(|value| Some(value.to_owned()))
                .ok_or_else(|| at(database.line, format!("{key}_env names {name}, which is not set or is empty"))),
        }
    };
    let name = match read(&database.name, "name")? {
        Some(pattern) => Some(
            config
                .expand_name_with_base(&pattern, database.line, &environment.name, *service, *base)
                .map_err(|error| CliError::Usage(error.to_string()))?,
        ),
        None => None,
    };
    let origin = format!("environment {} in {file}", environment.name);
    let driver = driver_flag.or(*driver);
    if let Some(url) = read(&database.url, "url")? {
        let driver = driver.or_else(|| DriverKind::from_dsn(&url)).ok_or_else(|| {
            at(
                database.line,
                "cannot tell the driver from the URL: use a postgres:// or clickhouse:// URL, or set driver".to_owned(),
            )
        })?;
        let mut params: Vec<(&str, &str)> = database.params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        // A later query parameter wins over the URL's path in both drivers' parsers, as in libpq.
        let key = match driver {
            DriverKind::Postgres => "dbname",
            DriverKind::ClickHouse => "database",
        };
        if let Some(name) = &name {
            params.push((key, name));
        }
        return Ok(Database::new(driver, with_params(&url, &params), origin));
    }
    let driver = driver.unwrap_or(DriverKind::Postgres);
    let host = read(&database.host, "host")?
        .ok_or_else(|| at(database.line, "the database has no host: add host or host_env".to_owned()))?;
    let port = match &database.port {
        Setting::Unset => None,
        Setting::Literal(port) => Some(*port),
        Setting::Env(var) => {
            let text = env
                .non_empty(var)
                .ok_or_else(|| at(database.line, format!("port_env names {var}, which is not set or is empty")))?;
            Some(
                text.parse::<u16>()
                    .map_err(|_| at(database.line, format!("{var}={text:?} is not a port number (1-65535)")))?,
            )
        }
    };
    let user = read(&database.user, "user")?.unwrap_or_default();
    let password = match &database.password {
        None => None,
        Some(PasswordSource::Env(var)) => Some(
            env.non_empty(var)
                .map(str::to_owned)
                .ok_or_else(|| at(database.line, format!("password_env names {var}, which is not set or is empty")))?,
        ),
        Some(PasswordSource::File(path)) => Some(read_password_file(path, read_file)?),
    };
    let params: Vec<(&str, &str)> = database.params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let dsn = url_from_parts(driver, &host, port, &user, password.as_deref(), name.as_deref().unwrap_or(""), &params);
    Ok(Database::new(driver, dsn, origin))
}

/// The database an environment of `migrate.toml` names, whatever the flags and variables say (a target of
/// `--all`).
pub(crate) fn resolve_configured(
    configured: &ConfiguredDatabase<'_>,
    env: &Env,
    read_file: ReadFile<'_>,
) -> Result<Database, CliError> {
    from_config(configured, None, env, read_file)
}

/// `url` with these query parameters added, each percent-encoded.
pub(crate) fn with_params(url: &str, params: &[(&str, &str)]) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    // RFC 3986's unreserved characters stay as they are.
    const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    let mut out = url.to_owned();
    for (index, (key, value)) in params.iter().enumerate() {
        let separator = if index == 0 && !url.contains('?') { '?' } else { '&' };
        out.push(separator);
        out.extend(utf8_percent_encode(key, COMPONENT));
        out.push('=');
        out.extend(utf8_percent_encode(value, COMPONENT));
    }
    out
}

/// The password in a file: its whole content less one trailing newline (`echo` adds one; a Kubernetes
/// secret usually has none).
fn read_password_file(path: &Path, read_file: ReadFile<'_>) -> Result<String, CliError> {
    let text = read_file(path).map_err(|error| {
        CliError::failed(format!("password file {}: {error}; mount the secret there or fix the path", path.display()))
    })?;
    let text = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_files(path: &Path) -> std::io::Result<String> {
        match path.to_str() {
            Some("/run/secrets/pw") => Ok("p@ss:/ word\n".to_owned()),
            _ => Err(std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory")),
        }
    }

    fn check(flags: &DbFlags, env: &[(&str, &str)]) -> Result<(DriverKind, String, String), String> {
        resolve_database(flags, &Env::from_pairs(env.iter().copied()), &no_files, None)
            .map(|db| (db.driver, db.dsn().to_owned(), db.origin.clone()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn precedence() {
        let env = [("DATABASE_URL", "postgres://env/db"), ("GOOSE_DBSTRING", "postgres://goose/db")];
        let url = DbFlags { url: Some("postgres://flag/db".into()), ..DbFlags::default() };
        assert_eq!(check(&url, &env).unwrap().1, "postgres://flag/db");
        assert_eq!(check(&DbFlags::default(), &env).unwrap().2, "DATABASE_URL");
        assert_eq!(check(&DbFlags::default(), &env[1..]).unwrap().2, "GOOSE_DBSTRING");
        let parts = DbFlags { host: Some("h".into()), ..DbFlags::default() };
        assert_eq!(check(&parts, &env).unwrap().1, "postgres://h/");
        // Variables alone build the URL when nothing else is given.
        let pg = [
            ("POSTGRES_HOST", "db"),
            ("POSTGRES_PORT", "6432"),
            ("POSTGRES_USER", "app"),
            ("POSTGRES_PASSWORD", "a b"),
            ("POSTGRES_DATABASE", "main"),
        ];
        assert_eq!(check(&DbFlags::default(), &pg).unwrap().1, "postgres://app:a%20b@db:6432/main");
        let ch = [("CLICKHOUSE_HOST", "ch"), ("CLICKHOUSE_USERNAME", "u"), ("CLICKHOUSE_PASSWORD", "p/q")];
        let (driver, dsn, _) = check(&DbFlags::default(), &ch).unwrap();
        assert_eq!((driver, dsn.as_str()), (DriverKind::ClickHouse, "http://u:p%2Fq@ch/"));
        assert!(check(&DbFlags::default(), &[]).unwrap_err().starts_with("no database given"));
    }

    #[test]
    fn drivers() {
        let flags = |url: &str, driver: Option<&str>| DbFlags {
            url: Some(url.into()),
            driver: driver.map(Into::into),
            ..DbFlags::default()
        };
        assert_eq!(check(&flags("tcp://h:9000", None), &[]).unwrap().0, DriverKind::ClickHouse);
        assert_eq!(check(&flags("host=h", None), &[]).unwrap().0, DriverKind::Postgres);
        assert!(check(&flags("file.db", None), &[]).unwrap_err().contains("--driver"));
        assert_eq!(check(&flags("file.db", Some("pgx")), &[]).unwrap().0, DriverKind::Postgres);
        assert!(check(&flags("x", Some("mysql")), &[]).unwrap_err().contains("unknown driver"));
        let goose = [("GOOSE_DRIVER", "clickhouse"), ("GOOSE_DBSTRING", "localhost:9000")];
        assert_eq!(check(&DbFlags::default(), &goose).unwrap().0, DriverKind::ClickHouse);
    }

    #[test]
    fn passwords_from_parts() {
        let base = DbFlags {
            host: Some("127.0.0.1".into()),
            port: Some(5432),
            user: Some("u".into()),
            name: Some("d".into()),
            ..DbFlags::default()
        };
        let from_env = DbFlags { password_env: Some("PW".into()), ..base.clone() };
        assert_eq!(
            check(&from_env, &[("PW", "% / : @ # ? + é")]).unwrap().1,
            "postgres://u:%25%20%2F%20%3A%20%40%20%23%20%3F%20%2B%20%C3%A9@127.0.0.1:5432/d"
        );
        assert!(check(&from_env, &[]).unwrap_err().contains("PW is not set"));
        let from_file = DbFlags { password_file: Some("/run/secrets/pw".into()), ..base.clone() };
        assert_eq!(check(&from_file, &[]).unwrap().1, "postgres://u:p%40ss%3A%2F%20word@127.0.0.1:5432/d");
        let missing = DbFlags { password_file: Some("/nope".into()), ..base.clone() };
        assert!(check(&missing, &[]).unwrap_err().contains("password file /nope"));
        let both = DbFlags { password_env: Some("PW".into()), password_file: Some("/x".into()), ..base.clone() };
        assert!(check(&both, &[]).unwrap_err().contains("not both"));
        let params = DbFlags { params: vec!["sslmode=disable".into()], ..base.clone() };
        assert_eq!(check(&params, &[]).unwrap().1, "postgres://u@127.0.0.1:5432/d?sslmode=disable");
        let bad = DbFlags { params: vec!["sslmode".into()], ..base };
        assert!(check(&bad, &[]).unwrap_err().contains("KEY=VALUE"));
        assert!(check(&DbFlags::default(), &[("POSTGRES_HOST", "h"), ("POSTGRES_PORT", "x")])
            .unwrap_err()
            .contains("not a port"));
    }
}
