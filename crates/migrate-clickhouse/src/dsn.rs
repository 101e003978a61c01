//! ClickHouse connection strings, mapped onto ClickHouse's HTTP interface.
//!
//! [`ChConnSpec::parse`] accepts:
//!
//! - HTTP URLs: `http://user:pass@host:8123/db` or `https://…:8443/?database=db`.
//! - clickhouse-go v2 DSNs, as goose users write them:
//!   `clickhouse://user:pass@host:9000/db?secure=true&skip_verify=true&dial_timeout=5s` and
//!   `tcp://host:9000?username=u&password=p&database=db`.
//!   These name the native port, which is mapped to the HTTP one: 9000 (or no port) to 8123,
//!   and with `secure=true` (or port 9440) to 8443 over HTTPS.
//!   Any other native port is an error unless `http_port=NNNN` says which HTTP port to use;
//!   `http_port` overrides the port for every scheme.
//!   `protocol=http` says that the port in a `clickhouse://` DSN is already an HTTP port.
//!
//! Query parameters (keys are case-sensitive):
//!
//! | key | meaning |
//! |---|---|
//! | `database` | the database; overrides the path |
//! | `username`, `user` | the user; overrides the userinfo |
//! | `password` | the password; overrides the userinfo |
//! | `secure` | TLS (HTTPS); a bare `secure` means true; booleans are Go's `1 t T TRUE true True 0 f F FALSE false False` |
//! | `skip_verify` | do not verify the server certificate; a bare `skip_verify` means true |
//! | `ca_file` | a PEM file of CA certificates to trust instead of the built-in roots |
//! | `dial_timeout` | connect timeout, a Go duration (`5s`, `1m30s`, `250ms`); default 30s |
//! | `read_timeout` | timeout of one query, a Go duration; default 300s |
//! | `http_port` | the HTTP port to use |
//! | `protocol` | `native` (the default for `clickhouse://` and `tcp://`) or `http` |
//! | `x-cluster`, `x-cluster-name`, `cluster` | the cluster name: turns on the driver's cluster mode; see [`ChConnSpec::cluster`] |
//!
//! clickhouse-go's client-only keys (`debug`, `compress`, `max_open_conns`, …) and other `x-` keys
//! are kept apart in [`ChConnSpec::ignored_params`]. `query`, `query_id`, `session_id` and
//! `session_check` are rejected, because the HTTP client sets them. Every other key is a
//! ClickHouse setting sent with each query; `true` and `false` become `1` and `0`, as in
//! clickhouse-go.
//! As in clickhouse-go (Go's `url.ParseQuery`), `+` in the query is a space.
//!
//! A host list (`h1:9000,h2:9000`) is accepted: [`ChConnSpec::base_url`] uses the first host, and
//! the others are kept in [`ChConnSpec::fallback_hosts`] for the caller to try or report.
//!
//! The password never appears in `Debug`, `Display`, [`ChConnSpec::base_url`] or error text: it
//! is meant to be sent in the `X-ClickHouse-Key` header.

#[cfg(test)]
mod tests;

mod syntax;

use std::fmt;
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::time::Duration;

use percent_encoding::utf8_percent_encode;

use crate::dsn::syntax::COMPONENT;
use migrate_core::url_syntax::{
    push_host_port, push_query, push_userinfo, redact_if_secret, Redacted, RedactedParams, UrlSyntaxError,
};

/// The user when the DSN names none.
pub const DEFAULT_USER: &str = "default";

/// The database when the DSN names none.
pub const DEFAULT_DATABASE: &str = "default";

/// ClickHouse's plain HTTP port.
pub const HTTP_PORT: u16 = 8123;

/// ClickHouse's HTTPS port.
pub const HTTPS_PORT: u16 = 8443;

/// The connect timeout when `dial_timeout` is absent or zero (clickhouse-go's default).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The query timeout when `read_timeout` is absent or zero (clickhouse-go's default).
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(300);

pub use migrate_core::url_syntax::REDACTED_PASSWORD;

/// A parsed and fully defaulted ClickHouse HTTP connection specification.
///
/// Build one with [`ChConnSpec::parse`] (or `str::parse`). Send queries to
/// [`ChConnSpec::base_url`] with [`ChConnSpec::http_params`], and authenticate with
/// [`ChConnSpec::user`] and [`ChConnSpec::password`] in the `X-ClickHouse-User` and
/// `X-ClickHouse-Key` headers.
#[derive(Clone, PartialEq, Eq)]
pub struct ChConnSpec {
    /// HTTP or HTTPS.
    pub scheme: ChScheme,
    /// The host name or IP address; IPv6 addresses have no brackets.
    pub host: String,
    /// The HTTP port.
    pub port: u16,
    /// Further hosts from a host list, with their HTTP ports; not used by
    /// [`ChConnSpec::base_url`].
    pub fallback_hosts: Vec<(String, u16)>,
    /// The user.
    pub user: String,
    password: Option<String>,
    /// The database that unqualified names refer to.
    pub database: String,
    /// A PEM file of CA certificates to trust instead of the built-in roots.
    pub ca_file: Option<PathBuf>,
    /// Whether to skip verifying the server certificate.
    pub skip_verify: bool,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long to wait for one query.
    pub query_timeout: Duration,
    /// ClickHouse settings to send with every query, in order.
    pub settings: Vec<(String, String)>,
    /// The cluster name from `x-cluster`, `x-cluster-name` (golang-migrate's spelling) or
    /// `cluster`: [`crate::ChDriver::connect`] turns on cluster mode with it (see
    /// [`crate::ClusterConfig`]). goose itself has no cluster mode; this is not a ClickHouse setting.
    pub cluster: Option<String>,
    /// clickhouse-go client keys and `x-` keys that were recognised but have no effect, in order.
    pub ignored_params: Vec<(String, String)>,
    /// The native-protocol port the DSN named (9000 or 9440) when it was mapped to [`ChConnSpec::port`],
    /// so a caller can say so: the HTTP interface is what this client speaks.
    pub native_port: Option<u16>,
}

/// The transport of the HTTP interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChScheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

/// Why a ClickHouse DSN could not be parsed.
///
/// The message never contains the password: values are quoted only for keys whose values cannot be
/// secret, and URL syntax errors quote nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DsnError {
    /// The URL does not split: a bad host, port, percent-encoding, query, or a misplaced `@`.
    #[error(transparent)]
    Url(#[from] migrate_core::url_syntax::UrlSyntaxError),
    /// The DSN is not a URL.
    #[error("unrecognised DSN: expected a URL such as http://host:8123/db or clickhouse://host:9000/db")]
    UnrecognisedFormat,
    /// The DSN is a URL with another scheme.
    #[error("unsupported URL scheme `{scheme}`: expected http, https, clickhouse or tcp")]
    UnsupportedScheme {
        /// The scheme, without `://`.
        scheme: String,
    },
    /// A native-protocol port whose HTTP port cannot be inferred.
    #[error("cannot tell the HTTP port for native port {port}: add http_port=NNNN (9000 maps to 8123, 9440 to 8443)")]
    UnknownNativePort {
        /// The native port from the DSN.
        port: u16,
    },
    /// `https://` together with `secure=false`.
    #[error("the URL scheme is https but secure=false: drop one of them")]
    ConflictingTls,
    /// A value that is not valid for its key.
    #[error("invalid {key} `{value}`: {reason}")]
    InvalidValue {
        /// The key.
        key: &'static str,
        /// The rejected value.
        value: String,
        /// What was expected.
        reason: &'static str,
    },
    /// A key that the HTTP client sets itself.
    #[error("`{key}` cannot be given in the DSN: the migrate client sets it")]
    ReservedParam {
        /// The key.
        key: String,
    },
    /// An unknown key that cannot be a ClickHouse setting name.
    #[error("`{key}` is neither a known DSN parameter nor a valid ClickHouse setting name")]
    InvalidSettingName {
        /// The key.
        key: String,
    },
}

impl ChConnSpec {
    /// Parses an HTTP URL or a clickhouse-go DSN (see the [module docs](self)).
    pub fn parse(dsn: &str) -> Result<ChConnSpec, DsnError> {
        let dsn = dsn.trim();
        let Some((scheme, rest)) = dsn.split_once("://") else {
            return Err(DsnError::UnrecognisedFormat);
        };
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "http" => SchemeKind::Http,
            "https" => SchemeKind::Https,
            "clickhouse" | "tcp" => SchemeKind::Native,
            _ => {
                let is_scheme = !scheme.is_empty()
                    && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
                if !is_scheme {
                    return Err(DsnError::UnrecognisedFormat);
                }
                return Err(DsnError::UnsupportedScheme { scheme: scheme.to_owned() });
            }
        };
        let parts = syntax::split_url(rest)?;
        let mut raw = RawDsn::default();
        if let Some(userinfo) = parts.userinfo {
            let (user, password) = match userinfo.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (userinfo, None),
            };
            raw.user = Some(syntax::decode(user, "user name")?);
            if let Some(password) = password {
                raw.password = Some(syntax::decode(password, "password")?);
            }
        }
        let hosts = syntax::split_hosts(parts.hosts)?;
        if let Some(path) = parts.path {
            raw.database = Some(syntax::decode(path, "database name")?);
        }
        if let Some(query) = parts.query {
            for (key, value) in syntax::split_query(query)? {
                raw.apply(key, value)?;
            }
        }
        raw.resolve(kind, hosts)
    }

    /// The password, if any; send it as `X-ClickHouse-Key`.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The URL to POST queries to, such as `https://host:8443/`, without credentials or query.
    pub fn base_url(&self) -> String {
        let mut url = format!("{}://", self.scheme.as_str());
        push_host_port(&mut url, &self.host, Some(self.port));
        url.push('/');
        url
    }

    /// The query parameters to send with every request: `database`, then the settings.
    pub fn http_params(&self) -> Vec<(&str, &str)> {
        let database = std::iter::once(("database", self.database.as_str()));
        let settings = self.settings.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        database.chain(settings).collect()
    }

    /// An HTTP URL for display, with the password replaced by [`REDACTED_PASSWORD`].
    ///
    /// Parsing it again gives the same spec, except for the password.
    pub fn redacted(&self) -> String {
        let mut url = format!("{}://", self.scheme.as_str());
        push_userinfo(&mut url, &self.user, self.password.as_ref().map(|_| REDACTED_PASSWORD));
        push_host_port(&mut url, &self.host, Some(self.port));
        for (host, port) in &self.fallback_hosts {
            url.push(',');
            push_host_port(&mut url, host, Some(*port));
        }
        url.push('/');
        url.extend(utf8_percent_encode(&self.database, COMPONENT));

        let mut query: Vec<(&str, String)> = Vec::new();
        if self.skip_verify {
            query.push(("skip_verify", "true".to_owned()));
        }
        if let Some(file) = &self.ca_file {
            query.push(("ca_file", file.to_string_lossy().into_owned()));
        }
        if self.connect_timeout != DEFAULT_CONNECT_TIMEOUT {
            let timeout = syntax::format_go_duration(self.connect_timeout);
            query.push(("dial_timeout", timeout));
        }
        if self.query_timeout != DEFAULT_QUERY_TIMEOUT {
            let timeout = syntax::format_go_duration(self.query_timeout);
            query.push(("read_timeout", timeout));
        }
        if let Some(cluster) = &self.cluster {
            query.push(("x-cluster", cluster.clone()));
        }
        for (key, value) in self.settings.iter().chain(&self.ignored_params) {
            query.push((key.as_str(), redact_if_secret(key, value).to_owned()));
        }
        push_query(&mut url, query.iter().map(|(k, v)| (*k, v.as_str())));
        url
    }
}

impl std::str::FromStr for ChConnSpec {
    type Err = DsnError;

    fn from_str(dsn: &str) -> Result<ChConnSpec, DsnError> {
        ChConnSpec::parse(dsn)
    }
}

impl fmt::Debug for ChConnSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChConnSpec")
            .field("scheme", &self.scheme)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("fallback_hosts", &self.fallback_hosts)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| Redacted))
            .field("database", &self.database)
            .field("ca_file", &self.ca_file)
            .field("skip_verify", &self.skip_verify)
            .field("connect_timeout", &self.connect_timeout)
            .field("query_timeout", &self.query_timeout)
            .field("settings", &RedactedParams(&self.settings))
            .field("cluster", &self.cluster)
            .field("ignored_params", &RedactedParams(&self.ignored_params))
            .finish()
    }
}

impl fmt::Display for ChConnSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl ChScheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChScheme::Http => "http",
            ChScheme::Https => "https",
        }
    }
}

impl fmt::Display for ChScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds a ClickHouse HTTP URL from parts, percent-encoding each one so that any password
/// (including `% / : @ # ?`, spaces, `+` and non-ASCII text) parses back unchanged.
///
/// A host containing `:` is written as an IPv6 literal in brackets. An empty `user` with no
/// password is left out. `params` become query parameters (settings, or the keys in the
/// [module docs](self)).
pub fn ch_url_from_parts(
    scheme: ChScheme,
    host: &str,
    port: Option<u16>,
    user: &str,
    password: Option<&str>,
    database: &str,
    params: &[(&str, &str)],
) -> String {
    let mut url = format!("{}://", scheme.as_str());
    push_userinfo(&mut url, user, password);
    push_host_port(&mut url, host, port);
    url.push('/');
    url.extend(utf8_percent_encode(database, COMPONENT));
    push_query(&mut url, params.iter().copied());
    url
}

/// clickhouse-go keys that configure its client, not the server.
const CLIENT_ONLY_KEYS: &[&str] = &[
    "debug",
    "compress",
    "compress_level",
    "max_compression_buffer",
    "block_buffer_size",
    "connection_open_strategy",
    "max_open_conns",
    "max_idle_conns",
    "conn_max_lifetime",
    "client_info_product",
    "http_proxy",
];

/// HTTP-interface parameters that the migrate client sets itself.
const RESERVED_KEYS: &[&str] = &["query", "query_id", "session_id", "session_check"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SchemeKind {
    Http,
    Https,
    Native,
}

/// What the DSN said, before defaults and port mapping.
#[derive(Debug, Default)]
struct RawDsn {
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
    secure: Option<bool>,
    skip_verify: bool,
    ca_file: Option<PathBuf>,
    connect_timeout: Option<Duration>,
    query_timeout: Option<Duration>,
    http_port: Option<u16>,
    http_protocol: bool,
    cluster: Option<String>,
    settings: Vec<(String, String)>,
    ignored_params: Vec<(String, String)>,
}

impl RawDsn {
    fn apply(&mut self, key: String, value: String) -> Result<(), DsnError> {
        match key.as_str() {
            "database" => self.database = Some(value),
            "username" | "user" => self.user = Some(value),
            "password" => self.password = Some(value),
            "secure" => self.secure = Some(parse_flag("secure", value)?),
            "skip_verify" => self.skip_verify = parse_flag("skip_verify", value)?,
            "ca_file" => self.ca_file = Some(PathBuf::from(value)).filter(|f| !f.as_os_str().is_empty()),
            "dial_timeout" => self.connect_timeout = Some(parse_timeout("dial_timeout", value)?),
            "read_timeout" => self.query_timeout = Some(parse_timeout("read_timeout", value)?),
            "http_port" => match value.parse::<u16>() {
                Ok(port) if port != 0 && value.bytes().all(|b| b.is_ascii_digit()) => {
                    self.http_port = Some(port);
                }
                _ => {
                    return Err(DsnError::InvalidValue {
                        key: "http_port",
                        value,
                        reason: "expected a number from 1 to 65535",
                    })
                }
            },
            "protocol" => match value.to_ascii_lowercase().as_str() {
                "http" => self.http_protocol = true,
                "native" => self.http_protocol = false,
                _ => return Err(DsnError::InvalidValue { key: "protocol", value, reason: "expected native or http" }),
            },
            "x-cluster" | "x-cluster-name" | "cluster" => {
                self.cluster = Some(value).filter(|name| !name.is_empty());
            }
            key if RESERVED_KEYS.contains(&key) => return Err(DsnError::ReservedParam { key: key.to_owned() }),
            key if CLIENT_ONLY_KEYS.contains(&key) || key.starts_with("x-") => {
                set_pair(&mut self.ignored_params, key, value);
            }
            key if is_setting_name(key) => {
                let value = match value.to_ascii_lowercase().as_str() {
                    "true" => "1".to_owned(),
                    "false" => "0".to_owned(),
                    _ => value,
                };
                set_pair(&mut self.settings, key, value);
            }
            _ => return Err(DsnError::InvalidSettingName { key }),
        }
        Ok(())
    }

    fn resolve(self, kind: SchemeKind, hosts: Vec<syntax::UrlHost>) -> Result<ChConnSpec, DsnError> {
        if kind == SchemeKind::Https && self.secure == Some(false) {
            return Err(DsnError::ConflictingTls);
        }
        let native = kind == SchemeKind::Native && !self.http_protocol;
        let tls = kind == SchemeKind::Https
            || self.secure == Some(true)
            || (native && self.secure.is_none() && hosts.iter().any(|h| h.port == Some(9440)));
        let scheme = if tls { ChScheme::Https } else { ChScheme::Http };
        let default_port = if tls { HTTPS_PORT } else { HTTP_PORT };
        let http_port = |port: Option<u16>| -> Result<u16, DsnError> {
            if let Some(port) = self.http_port {
                return Ok(port);
            }
            match port {
                None => Ok(default_port),
                Some(9000 | 9440) if native => Ok(default_port),
                Some(port) if native => Err(DsnError::UnknownNativePort { port }),
                Some(port) => Ok(port),
            }
        };
        let native_port = match hosts.first().and_then(|entry| entry.port) {
            Some(port @ (9000 | 9440)) if native && self.http_port.is_none() => Some(port),
            _ => None,
        };
        let mut resolved = Vec::with_capacity(hosts.len());
        for entry in hosts {
            let host = if entry.host.is_empty() { "localhost".to_owned() } else { entry.host };
            check_host(&host)?;
            resolved.push((host, http_port(entry.port)?));
        }
        let mut resolved = resolved.into_iter();
        let (host, port) = resolved.next().unwrap_or_else(|| ("localhost".to_owned(), default_port));

        let non_empty = |value: Option<String>| value.filter(|v| !v.is_empty());
        let nonzero = |timeout: Option<Duration>| timeout.filter(|t| !t.is_zero());
        Ok(ChConnSpec {
            scheme,
            host,
            port,
            fallback_hosts: resolved.collect(),
            user: non_empty(self.user).unwrap_or_else(|| DEFAULT_USER.to_owned()),
            password: non_empty(self.password),
            database: non_empty(self.database).unwrap_or_else(|| DEFAULT_DATABASE.to_owned()),
            ca_file: self.ca_file,
            skip_verify: self.skip_verify,
            connect_timeout: nonzero(self.connect_timeout).unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            query_timeout: nonzero(self.query_timeout).unwrap_or(DEFAULT_QUERY_TIMEOUT),
            settings: self.settings,
            cluster: self.cluster,
            ignored_params: self.ignored_params,
            native_port,
        })
    }
}

/// Go's `strconv.ParseBool`, with an empty value meaning true (clickhouse-go's bare `?secure`).
fn parse_flag(key: &'static str, value: String) -> Result<bool, DsnError> {
    match value.as_str() {
        "" | "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(DsnError::InvalidValue { key, value, reason: "expected true or false" }),
    }
}

fn parse_timeout(key: &'static str, value: String) -> Result<Duration, DsnError> {
    match syntax::parse_go_duration(&value) {
        Some(duration) => Ok(duration),
        None => Err(DsnError::InvalidValue {
            key,
            value,
            reason: "expected a non-negative Go duration such as 5s, 1m30s or 250ms",
        }),
    }
}

/// Replaces the value of `key` or appends the pair, so the last occurrence wins.
fn set_pair(pairs: &mut Vec<(String, String)>, key: &str, value: String) {
    match pairs.iter_mut().find(|(k, _)| k == key) {
        Some((_, existing)) => *existing = value,
        None => pairs.push((key.to_owned(), value)),
    }
}

/// Whether `name` can be a ClickHouse setting: letters, digits and `_`, not starting with a digit.
fn is_setting_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Accepts an IPv6 address or a host name of ASCII letters, digits, `-`, `.` and `_`, so that
/// [`ChConnSpec::base_url`] is always a valid URL.
fn check_host(host: &str) -> Result<(), DsnError> {
    if host.contains(':') {
        if host.parse::<Ipv6Addr>().is_err() {
            return Err(DsnError::Url(UrlSyntaxError::InvalidHost {
                reason: "not a valid IPv6 address (zone indices are not supported)",
            }));
        }
        return Ok(());
    }
    let is_name = host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if !is_name {
        return Err(DsnError::Url(UrlSyntaxError::InvalidHost {
            reason: "a host name may only hold ASCII letters, digits, '-', '.' and '_'",
        }));
    }
    Ok(())
}
