//! PostgreSQL connection strings: parsing, libpq-style defaults, redaction, and sqlx options.
//!
//! [`PgConnSpec::parse`] accepts what goose accepts through pgx and libpq:
//!
//! - URLs: `postgres://` or `postgresql://`, with percent-encoded user, password and database,
//!   IPv6 hosts in brackets, host lists (`h1:5432,h2:5433`), Unix socket directories written
//!   encoded (`%2Fvar%2Frun%2Fpostgresql`) or as a query parameter (`postgres:///db?host=/sock`),
//!   and any libpq keyword as a query parameter.
//!   The URL is split by hand, not with the `url` crate, because libpq accepts forms that it rejects.
//!   A `+` in the query is a plus sign, as in libpq (pgx would read it as a space).
//!   `ssl=true` means `sslmode=require`, as in libpq.
//! - libpq keyword/value strings: `host=localhost port=5432 user=postgres password='a b\' c'`.
//! - The empty string, which takes everything from the environment and the defaults.
//!
//! Values the DSN leaves out come from the libpq environment variables, which the caller supplies
//! as a lookup function so that parsing stays pure: `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
//! `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY`, `PGAPPNAME`,
//! `PGCONNECT_TIMEOUT` and `PGOPTIONS`.
//! An empty variable counts as unset; a keyword given in the DSN, even empty, wins over the variable.
//! Then libpq's defaults apply: host `localhost` (libpq would try a Unix socket first), port 5432,
//! user from `USER`, `LOGNAME` or `USERNAME` in the same environment, else `postgres`, and the
//! database named after the user.
//!
//! Unknown keys become server settings ([`PgConnSpec::params`]), as pgx treats them.
//! libpq and pgx client keywords that sqlx cannot honour (`target_session_attrs`, `keepalives`,
//! `sslpassword`, …) are kept apart in [`PgConnSpec::ignored_params`], so the caller can warn.
//! `.pgpass` is not read.
//!
//! The password never appears in `Debug`, `Display` or error text: [`PgConnSpec`] redacts it, and
//! [`DsnError`] never quotes input that could hold it.

#[cfg(test)]
mod tests;

mod syntax;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use percent_encoding::utf8_percent_encode;
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::dsn::syntax::COMPONENT;
use migrate_core::url_syntax::{push_host_port, push_query, push_userinfo, redact_if_secret, Redacted, RedactedParams};

/// The port used when neither the DSN nor `PGPORT` gives one.
pub const DEFAULT_PORT: u16 = 5432;

/// The host used when neither the DSN nor `PGHOST` gives one.
pub const DEFAULT_HOST: &str = "localhost";

/// The `application_name` reported to the server when neither the DSN nor `PGAPPNAME` sets one.
pub const DEFAULT_APPLICATION_NAME: &str = "migrate";

pub use migrate_core::url_syntax::REDACTED_PASSWORD;

/// A parsed and fully defaulted PostgreSQL connection specification.
///
/// Build one with [`PgConnSpec::parse`], connect with [`PgConnSpec::to_connect_options`], and show
/// it with [`PgConnSpec::redacted`] (which is also its `Display`).
#[derive(Clone, PartialEq, Eq)]
pub struct PgConnSpec {
    /// The first host to connect to.
    pub host: PgHost,
    /// Further hosts from a multi-host DSN, to try in order after [`PgConnSpec::host`] (libpq
    /// failover); see [`PgConnSpec::to_connect_options_for`].
    pub fallback_hosts: Vec<PgHost>,
    /// The role to log in as.
    pub user: String,
    password: Option<String>,
    /// The database to connect to.
    pub dbname: String,
    /// The TLS policy.
    pub sslmode: SslMode,
    /// The CA certificate file (`sslrootcert`).
    pub sslrootcert: Option<PathBuf>,
    /// The client certificate file (`sslcert`).
    pub sslcert: Option<PathBuf>,
    /// The client private key file (`sslkey`).
    pub sslkey: Option<PathBuf>,
    /// The `application_name` from the DSN or `PGAPPNAME`; [`DEFAULT_APPLICATION_NAME`] is sent when
    /// this is `None`.
    pub application_name: Option<String>,
    /// How long to wait for a connection; `None` (also for `connect_timeout=0`) waits forever.
    ///
    /// sqlx ignores this, so the caller must enforce it, for example with `tokio::time::timeout`
    /// around `connect_with`.
    pub connect_timeout: Option<Duration>,
    /// Server settings from the libpq `options` keyword (`-c name=value` or `--name=value`), in order.
    pub options: Vec<(String, String)>,
    /// Server settings given as bare keys (`search_path=app`), in order; they win over
    /// [`PgConnSpec::options`], as runtime parameters do in the server.
    pub params: Vec<(String, String)>,
    /// libpq and pgx client keywords that were recognised but have no effect here, in order.
    pub ignored_params: Vec<(String, String)>,
}

/// One server to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgHost {
    /// A TCP host name or IP address; IPv6 addresses have no brackets.
    Tcp {
        /// The host name or address.
        host: String,
        /// The TCP port.
        port: u16,
    },
    /// A Unix-domain socket in a directory; a libpq host that starts with `/`.
    Unix {
        /// The directory holding the socket file `.s.PGSQL.<port>`.
        dir: PathBuf,
        /// The port, which names the socket file.
        port: u16,
    },
}

/// The libpq `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Never use TLS.
    Disable,
    /// Try without TLS first, then with TLS.
    Allow,
    /// Try TLS first, then without (the libpq default).
    #[default]
    Prefer,
    /// Require TLS without verifying the certificate (unless a root certificate is given).
    Require,
    /// Require TLS and verify the certificate chain.
    VerifyCa,
    /// Require TLS and verify the chain and the host name.
    VerifyFull,
}

/// Where a rejected value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueOrigin {
    /// The DSN itself.
    Dsn,
    /// The named environment variable.
    Env(&'static str),
}

/// Why a PostgreSQL DSN could not be parsed.
///
/// The message never contains the password: values are quoted only for keys whose values cannot be
/// secret (ports, `sslmode`, timeouts, `options`, setting names), and URL syntax errors quote nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DsnError {
    /// The URL does not split: a bad host, port, percent-encoding, query, or a misplaced `@`.
    #[error(transparent)]
    Url(#[from] migrate_core::url_syntax::UrlSyntaxError),
    /// The DSN is neither a URL nor `key=value` pairs.
    #[error("unrecognised DSN: expected a postgres:// or postgresql:// URL, or libpq key=value pairs")]
    UnrecognisedFormat,
    /// The DSN is a URL with another scheme.
    #[error("unsupported URL scheme `{scheme}`: expected postgres:// or postgresql://")]
    UnsupportedScheme {
        /// The scheme, without `://`.
        scheme: String,
    },
    /// A syntax error in a `key=value` DSN.
    #[error("syntax error at byte {offset} of the key=value DSN: {reason}")]
    KeywordSyntax {
        /// The byte offset of the offending keyword or quote.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A value that is not valid for its key.
    #[error("invalid {key} `{value}` {origin}: {reason}")]
    InvalidValue {
        /// The keyword.
        key: &'static str,
        /// The rejected value.
        value: String,
        /// Where the value came from.
        origin: ValueOrigin,
        /// What was expected.
        reason: &'static str,
    },
    /// Several ports that do not match the hosts one to one.
    #[error("{n_hosts} hosts but {n_ports} ports: give one port for all hosts, or one per host")]
    HostPortMismatch {
        /// How many hosts were given.
        n_hosts: usize,
        /// How many ports were given.
        n_ports: usize,
    },
    /// An unknown key that cannot be a PostgreSQL setting name.
    #[error("`{key}` is neither a libpq keyword nor a valid PostgreSQL setting name")]
    InvalidParamName {
        /// The key.
        key: String,
    },
}

impl PgConnSpec {
    /// Parses a URL or keyword/value DSN, filling what it leaves out from `env` and then from
    /// libpq's defaults (see the [module docs](self)).
    ///
    /// `env` looks up an environment variable; pass `&|name| std::env::var(name).ok()` for the
    /// process environment, or a map lookup in tests.
    pub fn parse(dsn: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<PgConnSpec, DsnError> {
        let settings = read_settings(dsn)?;
        resolve(settings, env)
    }

    /// The password, if any.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// All hosts in the order to try them: [`PgConnSpec::host`], then the fallback hosts.
    pub fn hosts(&self) -> impl Iterator<Item = &PgHost> {
        std::iter::once(&self.host).chain(&self.fallback_hosts)
    }

    /// A `postgres://` URL for display, with the password replaced by [`REDACTED_PASSWORD`].
    ///
    /// Parsing it again gives the same spec, except for the password.
    pub fn redacted(&self) -> String {
        let mut url = String::from("postgres://");
        push_userinfo(&mut url, &self.user, self.password.as_ref().map(|_| REDACTED_PASSWORD));
        for (idx, host) in self.hosts().enumerate() {
            if idx > 0 {
                url.push(',');
            }
            match host {
                PgHost::Tcp { host, port } => push_host_port(&mut url, host, Some(*port)),
                PgHost::Unix { dir, port } => {
                    push_host_port(&mut url, &dir.to_string_lossy(), Some(*port));
                }
            }
        }
        url.push('/');
        url.extend(utf8_percent_encode(&self.dbname, COMPONENT));

        let mut query: Vec<(&str, String)> = vec![("sslmode", self.sslmode.as_str().to_owned())];
        if let Some(timeout) = self.connect_timeout {
            query.push(("connect_timeout", timeout.as_secs().to_string()));
        }
        if let Some(name) = &self.application_name {
            query.push(("application_name", name.clone()));
        }
        if !self.options.is_empty() {
            query.push(("options", render_options(&self.options)));
        }
        let files = [("sslrootcert", &self.sslrootcert), ("sslcert", &self.sslcert), ("sslkey", &self.sslkey)];
        for (key, file) in files {
            if let Some(file) = file {
                query.push((key, file.to_string_lossy().into_owned()));
            }
        }
        for (key, value) in self.params.iter().chain(&self.ignored_params) {
            query.push((key.as_str(), redact_if_secret(key, value).to_owned()));
        }
        push_query(&mut url, query.iter().map(|(k, v)| (*k, v.as_str())));
        url
    }

    /// sqlx connect options for [`PgConnSpec::host`]; see [`PgConnSpec::to_connect_options_for`].
    pub fn to_connect_options(&self) -> PgConnectOptions {
        self.to_connect_options_for(&self.host)
    }

    /// sqlx connect options for one of [`PgConnSpec::hosts`], for callers that implement libpq's
    /// multi-host failover by trying each in turn.
    ///
    /// Every field of the spec is mapped. [`PgConnSpec::options`] and [`PgConnSpec::params`] are
    /// sent as `-c name=value` options. Over a Unix socket TLS is disabled, as libpq does.
    /// [`PgConnSpec::connect_timeout`] is not mapped because sqlx has no such option.
    ///
    /// The options start from sqlx's `PgConnectOptions::new_without_pgpass()`, which reads the
    /// process environment for the fields the spec leaves unset (password, certificate files) and
    /// for `PGOPTIONS`, which sqlx puts before our options. Pass the process environment to
    /// [`PgConnSpec::parse`] so both agree.
    pub fn to_connect_options_for(&self, host: &PgHost) -> PgConnectOptions {
        let application_name = self.application_name.as_deref().unwrap_or(DEFAULT_APPLICATION_NAME);
        let mut options = PgConnectOptions::new_without_pgpass()
            .username(&self.user)
            .database(&self.dbname)
            .application_name(application_name);
        options = match host {
            PgHost::Tcp { host, port } => options.host(host).port(*port).ssl_mode(self.sslmode.to_sqlx()),
            PgHost::Unix { dir, port } => {
                options.host(&dir.to_string_lossy()).socket(dir).port(*port).ssl_mode(PgSslMode::Disable)
            }
        };
        if let Some(password) = &self.password {
            options = options.password(password);
        }
        if let Some(file) = &self.sslrootcert {
            options = options.ssl_root_cert(file);
        }
        if let Some(file) = &self.sslcert {
            options = options.ssl_client_cert(file);
        }
        if let Some(file) = &self.sslkey {
            options = options.ssl_client_key(file);
        }
        if !self.options.is_empty() || !self.params.is_empty() {
            let settings = self.options.iter().chain(&self.params);
            options = options.options(settings.map(|(name, value)| (name, value)));
        }
        options
    }
}

impl fmt::Debug for PgConnSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConnSpec")
            .field("host", &self.host)
            .field("fallback_hosts", &self.fallback_hosts)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| Redacted))
            .field("dbname", &self.dbname)
            .field("sslmode", &self.sslmode)
            .field("sslrootcert", &self.sslrootcert)
            .field("sslcert", &self.sslcert)
            .field("sslkey", &self.sslkey)
            .field("application_name", &self.application_name)
            .field("connect_timeout", &self.connect_timeout)
            .field("options", &self.options)
            .field("params", &RedactedParams(&self.params))
            .field("ignored_params", &RedactedParams(&self.ignored_params))
            .finish()
    }
}

impl fmt::Display for PgConnSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl PgHost {
    /// The port.
    pub fn port(&self) -> u16 {
        match self {
            PgHost::Tcp { port, .. } | PgHost::Unix { port, .. } => *port,
        }
    }
}

impl SslMode {
    /// The libpq spelling, such as `verify-full`.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    fn from_libpq(text: &str) -> Option<SslMode> {
        let mode = match text {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        };
        Some(mode)
    }

    fn to_sqlx(self) -> PgSslMode {
        match self {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Allow => PgSslMode::Allow,
            SslMode::Prefer => PgSslMode::Prefer,
            SslMode::Require => PgSslMode::Require,
            SslMode::VerifyCa => PgSslMode::VerifyCa,
            SslMode::VerifyFull => PgSslMode::VerifyFull,
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ValueOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueOrigin::Dsn => f.write_str("in the DSN"),
            ValueOrigin::Env(var) => write!(f, "in environment variable {var}"),
        }
    }
}

/// One URL part percent-encoded as [`pg_url_from_parts`] writes it (a password, say), so a caller that
/// must recognise it in text (to scrub it) encodes it the same way.
pub fn encode_url_part(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// Builds a `postgres://` URL from parts, percent-encoding each one so that any password
/// (including `% / : @ # ?`, spaces, `+` and non-ASCII text) parses back unchanged.
///
/// An empty `host` is left out (libpq then uses its default); a host containing `:` is written as
/// an IPv6 literal in brackets; a host starting with `/` (a socket directory) is encoded whole.
/// An empty `user` with no password is left out. `params` become query parameters.
pub fn pg_url_from_parts(
    host: &str,
    port: Option<u16>,
    user: &str,
    password: Option<&str>,
    dbname: &str,
    params: &[(&str, &str)],
) -> String {
    let mut url = String::from("postgres://");
    push_userinfo(&mut url, user, password);
    push_host_port(&mut url, host, port);
    url.push('/');
    url.extend(utf8_percent_encode(dbname, COMPONENT));
    push_query(&mut url, params.iter().copied());
    url
}

/// Keys handled by [`resolve`] itself.
const KNOWN_KEYS: &[&str] = &[
    "host",
    "port",
    "user",
    "password",
    "dbname",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "application_name",
    "connect_timeout",
    "options",
];

/// libpq and pgx client keywords that are not server settings and that sqlx cannot honour.
/// Sending them to the server as settings would fail the connection, so they are set aside.
const IGNORED_KEYS: &[&str] = &[
    // libpq
    "hostaddr",
    "passfile",
    "require_auth",
    "channel_binding",
    "client_encoding",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "gsslib",
    "gssdelegation",
    "requiressl",
    "sslnegotiation",
    "sslcompression",
    "sslpassword",
    "sslcertmode",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "min_protocol_version",
    "max_protocol_version",
    "krbsrvname",
    "krbspn",
    "service",
    "servicefile",
    "target_session_attrs",
    "load_balance_hosts",
    // pgx
    "default_query_exec_mode",
    "statement_cache_capacity",
    "description_cache_capacity",
    "statement_cache_mode",
    "prefer_simple_protocol",
    "min_read_buffer_size",
    // sqlx
    "statement-cache-capacity",
];

/// Environment variables consulted for the user name when neither the DSN nor `PGUSER` has one.
const OS_USER_VARS: &[&str] = &["USER", "LOGNAME", "USERNAME"];

/// The user name of last resort.
const FALLBACK_USER: &str = "postgres";

/// The raw keyword settings of a DSN, in order, later ones replacing earlier ones.
#[derive(Debug, Default)]
struct Settings {
    pairs: Vec<(String, String)>,
}

impl Settings {
    fn set(&mut self, key: &str, value: String) -> Result<(), DsnError> {
        let (key, value) = match key {
            // pgx's name for dbname.
            "database" => ("dbname", value),
            // libpq's JDBC compatibility: only `ssl=true` is accepted.
            "ssl" if value == "true" => ("sslmode", "require".to_owned()),
            "ssl" => {
                return Err(DsnError::InvalidValue {
                    key: "ssl",
                    value,
                    origin: ValueOrigin::Dsn,
                    reason: "only ssl=true (meaning sslmode=require) is supported",
                })
            }
            key => (key, value),
        };
        match self.pairs.iter_mut().find(|(k, _)| k == key) {
            Some((_, existing)) => *existing = value,
            None => self.pairs.push((key.to_owned(), value)),
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Reads the DSN's own settings, without the environment or defaults.
fn read_settings(dsn: &str) -> Result<Settings, DsnError> {
    let dsn = dsn.trim();
    let mut settings = Settings::default();
    if let Some(rest) = strip_scheme(dsn) {
        read_url(rest, &mut settings)?;
        return Ok(settings);
    }
    if let Some((scheme, _)) = dsn.split_once("://") {
        let is_scheme =
            !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if is_scheme {
            return Err(DsnError::UnsupportedScheme { scheme: scheme.to_owned() });
        }
    }
    if dsn.contains('=') {
        for (key, value) in syntax::split_keywords(dsn)? {
            settings.set(&key, value)?;
        }
        return Ok(settings);
    }
    if !dsn.is_empty() {
        return Err(DsnError::UnrecognisedFormat);
    }
    Ok(settings)
}

fn strip_scheme(dsn: &str) -> Option<&str> {
    ["postgres://", "postgresql://"].iter().find_map(|scheme| {
        let head = dsn.get(..scheme.len())?;
        if head.eq_ignore_ascii_case(scheme) {
            dsn.get(scheme.len()..)
        } else {
            None
        }
    })
}

fn read_url(rest: &str, settings: &mut Settings) -> Result<(), DsnError> {
    let parts = syntax::split_url(rest)?;
    if let Some(userinfo) = parts.userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        let user = syntax::decode(user, "user name")?;
        if !user.is_empty() {
            settings.set("user", user)?;
        }
        if let Some(password) = password {
            settings.set("password", syntax::decode(password, "password")?)?;
        }
    }
    let hosts = syntax::split_hosts(parts.hosts)?;
    if hosts.iter().any(|entry| !entry.host.is_empty()) {
        let list: Vec<&str> = hosts.iter().map(|entry| entry.host.as_str()).collect();
        settings.set("host", list.join(","))?;
    }
    if hosts.iter().any(|entry| entry.port.is_some()) {
        let list: Vec<&str> = hosts.iter().map(|entry| entry.port.unwrap_or_default()).collect();
        settings.set("port", list.join(","))?;
    }
    if let Some(path) = parts.path {
        let dbname = syntax::decode(path, "database name")?;
        if !dbname.is_empty() {
            settings.set("dbname", dbname)?;
        }
    }
    if let Some(query) = parts.query {
        for (key, value) in syntax::split_query(query)? {
            settings.set(&key, value)?;
        }
    }
    Ok(())
}

/// Applies the environment and the defaults to the DSN's settings.
fn resolve(settings: Settings, env: &dyn Fn(&str) -> Option<String>) -> Result<PgConnSpec, DsnError> {
    let non_empty_env = |var: &str| env(var).filter(|value| !value.is_empty());
    let lookup = |key: &str, var: &'static str| -> Option<(String, ValueOrigin)> {
        match settings.get(key) {
            Some(value) => Some((value.to_owned(), ValueOrigin::Dsn)),
            None => non_empty_env(var).map(|value| (value, ValueOrigin::Env(var))),
        }
    };
    let non_empty = |key: &str, var: &'static str| lookup(key, var).filter(|(v, _)| !v.is_empty());
    let path = |key: &str, var: &'static str| non_empty(key, var).map(|(v, _)| PathBuf::from(v));

    let user = match non_empty("user", "PGUSER") {
        Some((user, _)) => user,
        None => OS_USER_VARS.iter().find_map(|var| non_empty_env(var)).unwrap_or_else(|| FALLBACK_USER.to_owned()),
    };
    let password = non_empty("password", "PGPASSWORD").map(|(password, _)| password);
    let dbname = match non_empty("dbname", "PGDATABASE") {
        Some((dbname, _)) => dbname,
        None => user.clone(),
    };
    let (host, fallback_hosts) = resolve_hosts(lookup("host", "PGHOST"), lookup("port", "PGPORT"))?;
    let sslmode = match non_empty("sslmode", "PGSSLMODE") {
        None => SslMode::default(),
        Some((value, origin)) => match SslMode::from_libpq(&value) {
            Some(mode) => mode,
            None => {
                return Err(DsnError::InvalidValue {
                    key: "sslmode",
                    value,
                    origin,
                    reason: "expected disable, allow, prefer, require, verify-ca or verify-full",
                })
            }
        },
    };
    let connect_timeout = match non_empty("connect_timeout", "PGCONNECT_TIMEOUT") {
        None => None,
        Some((value, origin)) => match value.parse::<u64>() {
            Ok(0) => None,
            Ok(secs) => Some(Duration::from_secs(secs)),
            Err(_) => {
                return Err(DsnError::InvalidValue {
                    key: "connect_timeout",
                    value,
                    origin,
                    reason: "expected a whole number of seconds",
                })
            }
        },
    };
    let options = match non_empty("options", "PGOPTIONS") {
        None => Vec::new(),
        Some((value, origin)) => match parse_backend_options(&value) {
            Some(options) => options,
            None => {
                return Err(DsnError::InvalidValue {
                    key: "options",
                    value,
                    origin,
                    reason: "only `-c name=value` and `--name=value` are supported",
                })
            }
        },
    };
    let application_name = non_empty("application_name", "PGAPPNAME").map(|(name, _)| name);
    let sslrootcert = path("sslrootcert", "PGSSLROOTCERT");
    let sslcert = path("sslcert", "PGSSLCERT");
    let sslkey = path("sslkey", "PGSSLKEY");

    let mut params = Vec::new();
    let mut ignored_params = Vec::new();
    for (key, value) in settings.pairs {
        if KNOWN_KEYS.contains(&key.as_str()) {
            continue;
        }
        if IGNORED_KEYS.contains(&key.as_str()) {
            ignored_params.push((key, value));
            continue;
        }
        if !is_setting_name(&key) {
            return Err(DsnError::InvalidParamName { key });
        }
        params.push((key, value));
    }

    Ok(PgConnSpec {
        host,
        fallback_hosts,
        user,
        password,
        dbname,
        sslmode,
        sslrootcert,
        sslcert,
        sslkey,
        application_name,
        connect_timeout,
        options,
        params,
        ignored_params,
    })
}

/// Pairs libpq's comma-separated `host` and `port` lists: one port for all hosts, or one each.
fn resolve_hosts(
    hosts: Option<(String, ValueOrigin)>,
    ports: Option<(String, ValueOrigin)>,
) -> Result<(PgHost, Vec<PgHost>), DsnError> {
    let hosts_origin = hosts.as_ref().map_or(ValueOrigin::Dsn, |(_, origin)| *origin);
    let hosts: Vec<&str> = match &hosts {
        Some((list, _)) => list.split(',').collect(),
        None => vec![""],
    };
    let ports: Vec<u16> = match &ports {
        Some((list, origin)) => list.split(',').map(|port| parse_port(port, *origin)).collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    if ports.len() > 1 && ports.len() != hosts.len() {
        return Err(DsnError::HostPortMismatch { n_hosts: hosts.len(), n_ports: ports.len() });
    }
    let origin = hosts_origin;
    let mut resolved = hosts.iter().enumerate().map(|(idx, host)| {
        let port = match ports.as_slice() {
            [single] => *single,
            _ => ports.get(idx).copied().unwrap_or(DEFAULT_PORT),
        };
        let host = host.strip_prefix('[').and_then(|host| host.strip_suffix(']')).unwrap_or(host);
        // Brackets only ever enclose an IPv6 address; a host holding one is a typo, and shown redacted as a
        // URL it would name another host.
        if host.contains(['[', ']']) {
            return Err(DsnError::InvalidValue {
                key: "host",
                value: (*host).to_owned(),
                origin,
                reason: "brackets may only enclose an IPv6 address, as in [::1]",
            });
        }
        Ok(if host.starts_with('/') {
            PgHost::Unix { dir: PathBuf::from(host), port }
        } else {
            let host = if host.is_empty() { DEFAULT_HOST } else { host };
            PgHost::Tcp { host: host.to_owned(), port }
        })
    });
    let first =
        resolved.next().transpose()?.unwrap_or(PgHost::Tcp { host: DEFAULT_HOST.to_owned(), port: DEFAULT_PORT });
    Ok((first, resolved.collect::<Result<_, _>>()?))
}

fn parse_port(text: &str, origin: ValueOrigin) -> Result<u16, DsnError> {
    if text.is_empty() {
        return Ok(DEFAULT_PORT);
    }
    match text.parse::<u16>() {
        Ok(port) if port != 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(port),
        _ => Err(DsnError::InvalidValue {
            key: "port",
            value: text.to_owned(),
            origin,
            reason: "expected a number from 1 to 65535",
        }),
    }
}

/// Parses the backend command-line `options` string into settings, or `None` if it holds anything
/// but `-c name=value`, `-cname=value` and `--name=value`. Dashes in names become underscores, as
/// the server does.
fn parse_backend_options(text: &str) -> Option<Vec<(String, String)>> {
    let mut words = syntax::split_escaped_words(text).into_iter();
    let mut settings = Vec::new();
    while let Some(word) = words.next() {
        let setting = if word == "-c" {
            words.next()?
        } else if let Some(setting) = word.strip_prefix("--") {
            setting.to_owned()
        } else if let Some(setting) = word.strip_prefix("-c") {
            setting.to_owned()
        } else {
            return None;
        };
        let (name, value) = setting.split_once('=')?;
        let name = name.replace('-', "_");
        if !is_setting_name(&name) {
            return None;
        }
        settings.push((name, value.to_owned()));
    }
    Some(settings)
}

/// Renders settings back into an `options` string that [`parse_backend_options`] reads.
fn render_options(options: &[(String, String)]) -> String {
    let mut text = String::new();
    for (name, value) in options {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str("-c ");
        syntax::push_escaped_word(&mut text, name);
        text.push('=');
        syntax::push_escaped_word(&mut text, value);
    }
    text
}

/// Whether `name` can be a server setting: letters, digits, `_` and `.` (for `extension.name`),
/// not starting with a digit or `.`.
fn is_setting_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}
