//! The driver's error type, and how a ClickHouse error answer is read: the code (from the
//! `X-ClickHouse-Exception-Code` header or the body's `Code: N`), the error name when the server gives one,
//! the message and the position of a syntax error.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// What went wrong talking to ClickHouse. Never contains a password: servers are named through
/// [`crate::ChConnSpec::redacted`] and URLs are stripped from client errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChError {
    /// The server could not be reached.
    #[error("connecting to {target} failed: {reason} (is ClickHouse's HTTP interface listening there?)")]
    Connect {
        /// The server, password redacted.
        target: String,
        /// The client's error, without the URL.
        reason: String,
    },
    /// No answer in time.
    #[error("{target} did not answer within {timeout:?} (raise read_timeout or dial_timeout in the DSN)")]
    Timeout {
        /// The server, password redacted.
        target: String,
        /// The limit that was reached.
        timeout: Duration,
    },
    /// The request failed after connecting (the connection broke, the answer could not be read).
    #[error("request to {target} failed: {reason}")]
    Request {
        /// The server, password redacted.
        target: String,
        /// The client's error, without the URL.
        reason: String,
    },
    /// The server answered with an error.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The CA file of the DSN could not be read.
    #[error("reading the CA file {path}: {source}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The CA file holds no usable certificate.
    #[error("the CA file {path} holds no usable PEM certificate{}", reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    CaFileContent {
        /// The file.
        path: PathBuf,
        /// The parser's complaint, if any.
        reason: Option<String>,
    },
    /// The TLS or HTTP client could not be set up.
    #[error("setting up the HTTP client failed: {reason}")]
    Client {
        /// Why.
        reason: String,
    },
    /// An answer to one of the driver's own queries did not have the expected shape.
    #[error("{action}: unexpected answer from the server: {text:?}")]
    Unexpected {
        /// What was being read.
        action: &'static str,
        /// The offending text (the driver's own bookkeeping data, never secret).
        text: String,
    },
    /// Another runner held the migration lock for longer than the wait allows.
    #[error("timed out after {:.1}s waiting for the migration lock (lock table {table}){}: another migration is running", waited.as_secs_f64(), holder.as_deref().map(|h| format!(", held by {h}")).unwrap_or_default())]
    LockTimeout {
        /// The lock table.
        table: String,
        /// How long it waited.
        waited: Duration,
        /// Who held it, when known.
        holder: Option<String>,
    },
    /// The lease could not be renewed in time, so another runner may take the lock: the run stops before
    /// sending anything else.
    #[error("the migration lock's lease lapsed ({reason}); stopped before sending more, so that a runner taking over cannot overlap with this one")]
    LeaseLost {
        /// Why renewing failed.
        reason: String,
    },
    /// A version-table deletion (a mutation on ClickHouse 18.x) did not finish in time.
    #[error("waited {:.1}s for the mutation deleting from {table} to finish ({pending} still pending in system.mutations); check system.mutations and the server log", waited.as_secs_f64())]
    MutationTimeout {
        /// The version table.
        table: String,
        /// How long it waited.
        waited: Duration,
        /// Unfinished mutations when it gave up.
        pending: u64,
    },
    /// Cluster mode could not be set up or a statement was refused (see [`ClusterError`]).
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// An `ON CLUSTER` statement did not finish on every host: the report names each host's state.
    #[error("{report}{}", server.as_ref().map(|s| format!(" [{s}]")).unwrap_or_default())]
    ClusterDdl {
        /// Each host's state.
        report: crate::cluster::DdlReport,
        /// The server's answer to the statement, when it was an error.
        server: Option<Box<ChError>>,
    },
    /// The DDL queue could not be read through `system.zookeeper`.
    #[error("reading the DDL queue {path} through system.zookeeper failed: {source} (in cluster mode the queue path must be the servers' <distributed_ddl><path>, and ZooKeeper must answer)")]
    DdlQueue {
        /// The queue path.
        path: String,
        /// Why.
        source: Box<ChError>,
    },
}

/// Errors of cluster mode (see [`crate::ClusterConfig`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The cluster options are not usable.
    #[error(transparent)]
    Config(#[from] crate::cluster::ClusterConfigError),
    /// The DSN names one cluster and the configuration another.
    #[error("the DSN names cluster {dsn:?} but the cluster option says {option:?}: drop one of them")]
    Mismatch {
        /// The DSN's `x-cluster`.
        dsn: String,
        /// The configured name.
        option: String,
    },
    /// The server does not know the cluster.
    #[error("{target} has no cluster {cluster:?} in system.clusters: check the name against <remote_servers> in the servers' configuration")]
    UnknownCluster {
        /// The server, password redacted.
        target: String,
        /// The cluster name.
        cluster: String,
    },
    /// One of the driver's tables exists on this host without a replicated engine.
    #[error("{table} exists on {target} with engine {engine}, not a Replicated one; cluster mode keeps its tables replicated: convert the table (see the README) or run without cluster mode")]
    NotReplicated {
        /// The table.
        table: String,
        /// The server, password redacted.
        target: String,
        /// Its engine.
        engine: String,
    },
    /// Some replica of one of the driver's tables stayed inactive.
    #[error("waited {:.1}s for every replica of {table} to be active; not active: {}; cluster mode needs every host of the cluster up (start it, or drop its replica)", waited.as_secs_f64(), inactive.join(", "))]
    ReplicasInactive {
        /// The table.
        table: String,
        /// How long it waited.
        waited: Duration,
        /// The inactive replicas, as `name (host:port)`.
        inactive: Vec<String>,
    },
    /// A migration statement refused by the guard rails in strict mode.
    #[error("refused in strict cluster mode: {}; fix the statement, or turn strict mode off to only warn", problems.join("; "))]
    Refused {
        /// What is wrong with it.
        problems: Vec<String>,
    },
}

impl ChError {
    /// The ClickHouse error code, when the server sent one.
    pub fn code(&self) -> Option<u32> {
        match self {
            ChError::Server(server) => server.code(),
            _ => None,
        }
    }
}

/// The longest message kept from an error answer, in characters.
const MAX_MESSAGE: usize = 4000;

/// An error answer of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    status: u16,
    code: Option<u32>,
    name: Option<String>,
    message: String,
}

impl ServerError {
    /// Reads an error answer: the HTTP status, the `X-ClickHouse-Exception-Code` header (sent by servers
    /// since 19.x) and the body, `Code: 60, e.displayText() = DB::Exception: ..., e.what() = DB::Exception`
    /// on 18.x or `Code: 60. DB::Exception: ... (UNKNOWN_TABLE) (version 26.9.2.1)` on current servers.
    pub(crate) fn from_answer(status: u16, header_code: Option<&str>, body: &str) -> ServerError {
        let body = body.trim();
        let (body_code, rest) = match body.strip_prefix("Code: ") {
            Some(after) => {
                let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                (after[..digits].parse::<u32>().ok(), &after[digits..])
            }
            None => (None, body),
        };
        let code = header_code.and_then(|c| c.trim().parse::<u32>().ok()).or(body_code);
        let mut message = rest.strip_prefix(", e.displayText() = ").or_else(|| rest.strip_prefix(". ")).unwrap_or(rest);
        // 18.x appends the exception class; current servers append the build.
        if let Some(index) = message.rfind(", e.what() = ") {
            message = &message[..index];
        }
        if let Some(index) = message.rfind(" (version ") {
            if message.ends_with(')') {
                message = &message[..index];
            }
        }
        let mut name = None;
        if let Some(start) = message.rfind(" (") {
            let candidate = &message[start + 2..];
            if let Some(candidate) = candidate.strip_suffix(')') {
                if !candidate.is_empty() && candidate.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                    name = Some(candidate.to_owned());
                    message = &message[..start];
                }
            }
        }
        let message = message.strip_prefix("DB::Exception: ").unwrap_or(message).trim();
        let message = match message {
            "" => format!("HTTP status {status} with an empty body"),
            // A proxy's error page, say: enough to recognise it.
            long if long.chars().count() > MAX_MESSAGE => {
                format!("{}... ({} bytes)", long.chars().take(MAX_MESSAGE).collect::<String>(), long.len())
            }
            message => message.to_owned(),
        };
        ServerError { status, code, name, message }
    }

    /// The ClickHouse error code (`60` for an unknown table, `62` for a syntax error, ...).
    pub fn code(&self) -> Option<u32> {
        self.code
    }

    /// The error's name, when the server gives it (`UNKNOWN_TABLE`; current servers only).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The server's message, without the code and the build.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status of the answer.
    pub fn http_status(&self) -> u16 {
        self.status
    }

    /// The 1-based byte position of a syntax error in the statement (`failed at position N`).
    pub fn position(&self) -> Option<usize> {
        let after = self.message.split("failed at position ").nth(1)?;
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        after[..digits].parse().ok()
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, &self.name) {
            (Some(code), Some(name)) => write!(f, "ClickHouse error {code} ({name}): {}", self.message),
            (Some(code), None) => write!(f, "ClickHouse error {code}: {}", self.message),
            (None, _) => write!(f, "ClickHouse answered HTTP {}: {}", self.status, self.message),
        }
    }
}

impl std::error::Error for ServerError {}

/// ClickHouse error codes the driver reacts to.
pub(crate) mod code {
    /// `TABLE_ALREADY_EXISTS`: a concurrent `CREATE TABLE IF NOT EXISTS` on an old server.
    pub(crate) const TABLE_ALREADY_EXISTS: u32 = 57;
    /// `UNKNOWN_TABLE`.
    pub(crate) const UNKNOWN_TABLE: u32 = 60;
    /// `SYNTAX_ERROR`: `SETTINGS` in `ALTER` on 18.x.
    pub(crate) const SYNTAX_ERROR: u32 = 62;
    /// `UNKNOWN_SETTING`: `mutations_sync` on 18.x.
    pub(crate) const UNKNOWN_SETTING: u32 = 115;
    /// `TIMEOUT_EXCEEDED`: an `ON CLUSTER` statement some host did not finish in time.
    pub(crate) const TIMEOUT_EXCEEDED: u32 = 159;
    /// `TOO_FEW_LIVE_REPLICAS`: a quorum insert while a replica is down.
    pub(crate) const TOO_FEW_LIVE_REPLICAS: u32 = 285;
    /// `UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE`: another quorum insert into the table is in flight.
    pub(crate) const UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE: u32 = 286;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_18_16_answers() {
        let body =
            "Code: 60, e.displayText() = DB::Exception: Table default.nope doesn't exist., e.what() = DB::Exception\n";
        let error = ServerError::from_answer(404, None, body);
        assert_eq!(error.code(), Some(60));
        assert_eq!(error.name(), None);
        assert_eq!(error.message(), "Table default.nope doesn't exist.");
        assert_eq!(error.to_string(), "ClickHouse error 60: Table default.nope doesn't exist.");
    }

    #[test]
    fn reads_current_answers() {
        let body = "Code: 62. DB::Exception: Syntax error: failed at position 7 (1) (line 1, col 7): 1. Expected one of: FROM. (SYNTAX_ERROR) (version 26.9.2.1 (official build))\n";
        let error = ServerError::from_answer(400, Some("62"), body);
        assert_eq!(error.code(), Some(62));
        assert_eq!(error.name(), Some("SYNTAX_ERROR"));
        assert_eq!(error.position(), Some(7));
        assert!(error.message().starts_with("Syntax error: failed at position 7"), "{}", error.message());
        assert!(error.message().ends_with("Expected one of: FROM."), "{}", error.message());
    }

    #[test]
    fn header_code_wins_and_odd_bodies_survive() {
        let error = ServerError::from_answer(500, Some("159"), "Timeout exceeded");
        assert_eq!((error.code(), error.message()), (Some(159), "Timeout exceeded"));
        let error = ServerError::from_answer(502, None, "");
        assert_eq!(error.to_string(), "ClickHouse answered HTTP 502: HTTP status 502 with an empty body");
        let error = ServerError::from_answer(500, None, "Code: x");
        assert_eq!(error.code(), None);
        let page = format!("<html>{}</html>", "é".repeat(5000));
        let error = ServerError::from_answer(502, None, &page);
        assert!(error.message().ends_with("... (10013 bytes)"), "{}", error.message());
    }
}
