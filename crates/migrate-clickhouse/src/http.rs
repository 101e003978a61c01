//! A small client for ClickHouse's HTTP interface: one statement per POST, the user and password in the
//! `X-ClickHouse-User` / `X-ClickHouse-Key` headers (never in the URL, so never in a log), the database and
//! the DSN's settings as URL parameters, and results read as `TabSeparated`, the format that is the same on
//! 18.x and on current servers.
//!
//! Every request sends `wait_end_of_query=1`, so an error that happens while a result is produced arrives
//! as an error status instead of inside a 200 answer.

use std::fmt;
use std::time::Duration;

use percent_encoding::utf8_percent_encode;

use migrate_core::url_syntax::COMPONENT;

use crate::dsn::{ChConnSpec, ChScheme};
use crate::error::{ChError, ServerError};

/// A client for one server. Cloning shares the connection pool.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use migrate_clickhouse::{ChClient, ChConnSpec};
/// let client = ChClient::new(&ChConnSpec::parse("http://127.0.0.1:8123/default")?)?;
/// let rows = client.query("SELECT version() FORMAT TabSeparated").await?;
/// println!("ClickHouse {}", rows[0][0]);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ChClient {
    http: reqwest::Client,
    url: String,
    /// `database` and the DSN's settings.
    params: Vec<(String, String)>,
    user: String,
    password: Option<String>,
    target: String,
    connect_timeout: Duration,
    query_timeout: Duration,
}

impl fmt::Debug for ChClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChClient").field("target", &self.target).finish_non_exhaustive()
    }
}

/// How one request is sent.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RequestOptions<'a> {
    /// The session whose `SET`s apply (and are kept).
    pub(crate) session: Option<&'a str>,
    /// Settings that replace the DSN's for this request.
    pub(crate) overrides: &'a [(&'a str, &'a str)],
    /// A longer limit than the DSN's `read_timeout` for this request (an `ON CLUSTER` statement waits for
    /// every host up to its own timeout, which must not be cut short by the client's).
    pub(crate) timeout: Option<Duration>,
}

impl ChClient {
    /// A client for the server a parsed DSN names, with its TLS options and timeouts. Nothing is sent yet.
    pub fn new(spec: &ChConnSpec) -> Result<ChClient, ChError> {
        let builder = reqwest::Client::builder()
            .connect_timeout(spec.connect_timeout)
            .tcp_keepalive(Duration::from_secs(60))
            // One statement at a time: a single kept-alive connection is all a run uses.
            .pool_max_idle_per_host(2)
            .http1_only();
        // Always a preconfigured rustls set-up, even for plain HTTP: reqwest would otherwise look for a
        // process-wide crypto provider (and panic without one).
        let tls = match spec.scheme {
            ChScheme::Https => crate::tls::client_config(spec.ca_file.as_deref(), spec.skip_verify)?,
            ChScheme::Http => crate::tls::client_config(None, false)?,
        };
        let builder = builder.tls_backend_preconfigured(tls);
        let http = builder.build().map_err(|e| ChError::Client { reason: describe(e) })?;
        let params = spec.http_params().into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        Ok(ChClient {
            http,
            url: spec.base_url(),
            params,
            user: spec.user.clone(),
            password: spec.password().map(str::to_owned),
            target: spec.redacted(),
            connect_timeout: spec.connect_timeout,
            query_timeout: spec.query_timeout,
        })
    }

    /// The server, for messages (password redacted).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Runs one statement and returns the body of the answer (empty for DDL and inserts).
    pub async fn execute(&self, sql: &str) -> Result<String, ChError> {
        self.send(sql, RequestOptions::default()).await
    }

    /// Runs a query whose SQL ends in `FORMAT TabSeparated` and returns its rows, each value unescaped.
    pub async fn query(&self, sql: &str) -> Result<Vec<Vec<String>>, ChError> {
        Ok(parse_tab_separated(&self.execute(sql).await?))
    }

    /// Sends one statement.
    pub(crate) async fn send(&self, sql: &str, options: RequestOptions<'_>) -> Result<String, ChError> {
        let url = self.url_for(options);
        let limit = options.timeout.map_or(self.query_timeout, |t| t.max(self.query_timeout));
        let mut request =
            self.http.post(url).timeout(limit).header("X-ClickHouse-User", &self.user).body(sql.to_owned());
        if let Some(password) = &self.password {
            request = request.header("X-ClickHouse-Key", password);
        }
        let response = request.send().await.map_err(|e| self.transport_error(e, limit))?;
        let status = response.status();
        let header_code = response
            .headers()
            .get("X-ClickHouse-Exception-Code")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.map_err(|e| self.transport_error(e, limit))?;
        if status.is_success() && header_code.is_none() {
            return Ok(body);
        }
        Err(ServerError::from_answer(status.as_u16(), header_code.as_deref(), &body).into())
    }

    fn url_for(&self, options: RequestOptions<'_>) -> String {
        let mut url = self.url.clone();
        let mut separator = '?';
        let mut push = |key: &str, value: &str| {
            url.push(separator);
            separator = '&';
            url.extend(utf8_percent_encode(key, COMPONENT));
            url.push('=');
            url.extend(utf8_percent_encode(value, COMPONENT));
        };
        for (key, value) in &self.params {
            // The client's own parameters win over a DSN setting of the same name.
            let replaced = options.overrides.iter().any(|(k, _)| *k == key) || key == "wait_end_of_query";
            if !replaced {
                push(key, value);
            }
        }
        for (key, value) in options.overrides {
            push(key, value);
        }
        if let Some(session) = options.session {
            push("session_id", session);
        }
        push("wait_end_of_query", "1");
        url
    }

    fn transport_error(&self, error: reqwest::Error, query_timeout: Duration) -> ChError {
        let target = self.target.clone();
        if error.is_timeout() {
            let timeout = if error.is_connect() { self.connect_timeout } else { query_timeout };
            ChError::Timeout { target, timeout }
        } else if error.is_connect() {
            ChError::Connect { target, reason: describe(error) }
        } else {
            ChError::Request { target, reason: describe(error) }
        }
    }
}

/// Requests for the driver's own tables: outside the migration session (so a migration's `SET` or `USE`
/// never changes them, and a renewal can run beside a long statement), with settings that keep reads and
/// writes immediate whatever the DSN says.
#[derive(Debug, Clone)]
pub(crate) struct Bookkeeping {
    client: ChClient,
    overrides: Vec<(&'static str, &'static str)>,
}

impl Bookkeeping {
    pub(crate) fn new(client: ChClient, overrides: Vec<(&'static str, &'static str)>) -> Bookkeeping {
        Bookkeeping { client, overrides }
    }

    pub(crate) async fn execute(&self, sql: &str) -> Result<String, ChError> {
        self.client.send(sql, RequestOptions { session: None, overrides: &self.overrides, timeout: None }).await
    }

    /// Runs one statement with more settings (and optionally a longer client timeout) than the usual ones.
    pub(crate) async fn execute_with(
        &self,
        sql: &str,
        settings: &[(&str, &str)],
        timeout: Option<Duration>,
    ) -> Result<String, ChError> {
        self.send_in(sql, None, settings, timeout).await
    }

    /// Sends a statement with `settings`: in the migration `session` with only those (as the migration's
    /// own statements go), or as bookkeeping, with the usual overrides too, when `session` is `None`.
    pub(crate) async fn send_in(
        &self,
        sql: &str,
        session: Option<&str>,
        settings: &[(&str, &str)],
        timeout: Option<Duration>,
    ) -> Result<String, ChError> {
        let mut overrides: Vec<(&str, &str)> = match session {
            Some(_) => Vec::new(),
            None => self.overrides.iter().copied().filter(|(key, _)| !settings.iter().any(|(k, _)| k == key)).collect(),
        };
        overrides.extend_from_slice(settings);
        self.client.send(sql, RequestOptions { session, overrides: &overrides, timeout }).await
    }

    /// The client, for requests in the migration session.
    pub(crate) fn client(&self) -> &ChClient {
        &self.client
    }

    pub(crate) async fn query(&self, sql: &str) -> Result<Vec<Vec<String>>, ChError> {
        Ok(parse_tab_separated(&self.execute(sql).await?))
    }

    /// Runs a `CREATE TABLE IF NOT EXISTS`; old servers can still answer "already exists" to two
    /// concurrent ones, which means the same.
    pub(crate) async fn execute_create(&self, sql: &str) -> Result<(), ChError> {
        match self.execute(sql).await {
            Ok(_) => Ok(()),
            Err(error) if error.code() == Some(crate::error::code::TABLE_ALREADY_EXISTS) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// A single number from a one-value query.
    pub(crate) async fn number<T: std::str::FromStr>(&self, sql: &str, action: &'static str) -> Result<T, ChError> {
        let body = self.execute(sql).await?;
        body.trim().parse().map_err(|_| ChError::Unexpected { action, text: body.trim().to_owned() })
    }

    /// Polls `sql`, a count of `table`'s unfinished mutations, with back-off (5 ms doubling to 200 ms)
    /// until it reads 0; still pending after `wait` is an error.
    pub(crate) async fn wait_for_mutations(
        &self,
        sql: &str,
        action: &'static str,
        table: &str,
        wait: Duration,
    ) -> Result<(), ChError> {
        let started = std::time::Instant::now();
        let mut delay = Duration::from_millis(5);
        loop {
            let pending: u64 = self.number(sql, action).await?;
            if pending == 0 {
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= wait {
                return Err(ChError::MutationTimeout { table: table.to_owned(), waited, pending });
            }
            tokio::time::sleep(delay.min(wait.saturating_sub(waited))).await;
            delay = (delay * 2).min(Duration::from_millis(200));
        }
    }
}

/// A client error and its causes on one line, without the URL (which could carry settings).
fn describe(error: reqwest::Error) -> String {
    migrate_core::error_chain(&error.without_url())
}

/// Splits a `TabSeparated` answer into rows of unescaped values.
pub(crate) fn parse_tab_separated(body: &str) -> Vec<Vec<String>> {
    body.lines().map(|line| line.split('\t').map(unescape).collect()).collect()
}

/// Undoes `TabSeparated` escaping (`\t`, `\n`, `\\`, `\'` and the rest).
pub(crate) fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('0') => out.push('\0'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_separated() {
        assert_eq!(parse_tab_separated(""), Vec::<Vec<String>>::new());
        assert_eq!(parse_tab_separated("1\ta\\tb\n2\tit\\'s\\\\\n"), [["1", "a\tb"], ["2", "it's\\"]]);
    }

    #[test]
    fn urls_carry_settings_and_no_password() {
        let spec =
            ChConnSpec::parse("clickhouse://u:s%26cret@h:9000/db?max_threads=2&async_insert=1&wait_end_of_query=0")
                .unwrap();
        let client = ChClient::new(&spec).unwrap();
        let url =
            client.url_for(RequestOptions { session: Some("s 1"), overrides: &[("async_insert", "0")], timeout: None });
        assert_eq!(url, "http://h:8123/?database=db&max_threads=2&async_insert=0&session_id=s%201&wait_end_of_query=1");
        assert!(!format!("{client:?}").contains("cret"));
    }
}
