//! The driver's error type, and how a server error is described: SQLSTATE, message, detail and hint.

use std::fmt;
use std::time::Duration;

/// What went wrong talking to PostgreSQL. Never contains a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// Connecting failed.
    #[error("connecting to {target} failed: {}", describe(source))]
    Connect {
        /// The server, password redacted.
        target: String,
        /// The client's error.
        source: sqlx::Error,
    },
    /// Connecting did not finish in time.
    #[error("connecting to {target} timed out after {timeout:?}")]
    ConnectTimeout {
        /// The server, password redacted.
        target: String,
        /// The limit.
        timeout: Duration,
    },
    /// A query failed.
    #[error("{action}: {}", describe(source))]
    Query {
        /// What was being done.
        action: &'static str,
        /// The client's error.
        source: sqlx::Error,
    },
    /// Another runner held the lock for too long.
    #[error("timed out after {:.1}s waiting for the migration lock (advisory lock {key}){}: another migration is running", waited.as_secs_f64(), holder.as_deref().map(|h| format!(", held by {h}")).unwrap_or_default())]
    LockTimeout {
        /// The advisory-lock key.
        key: i64,
        /// How long it waited.
        waited: Duration,
        /// Who held it, when known.
        holder: Option<String>,
    },
    /// The lock was not held when it was released.
    #[error("the migration lock (advisory lock {key}) was not held by this session when releasing it")]
    LockNotHeld {
        /// The advisory-lock key.
        key: i64,
    },
    /// A concurrent index build left (or kept) an INVALID index, which the planner would never use and
    /// a rerun with `IF NOT EXISTS` would silently keep.
    #[error("index {index} is INVALID (a CREATE INDEX CONCURRENTLY failed part-way and left it; IF NOT EXISTS then keeps it): drop it with DROP INDEX CONCURRENTLY {index}; and run again")]
    InvalidIndex {
        /// The index, as `regclass` prints it.
        index: String,
    },
    /// The connection was closed after a failure, to release the session lock.
    #[error("the connection was closed after an earlier failure")]
    Closed,
}

/// A server error as one line: `SQLSTATE 42P01: relation "x" does not exist (detail: ...; hint: ...)`.
pub(crate) fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => {
            let mut text = match db.code() {
                Some(code) => format!("SQLSTATE {code}: {}", db.message()),
                None => db.message().to_owned(),
            };
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                let extras: Vec<String> = [("detail", pg.detail()), ("hint", pg.hint())]
                    .into_iter()
                    .filter_map(|(label, value)| value.map(|v| format!("{label}: {v}")))
                    .collect();
                if !extras.is_empty() {
                    text.push_str(&format!(" ({})", extras.join("; ")));
                }
            }
            if lost_connection(error) {
                text.push_str(" (the server closed the connection)");
            }
            text
        }
        // sqlx's own SASLprep error quotes the refused character of the password.
        sqlx::Error::Configuration(inner) if inner.to_string().contains("saslprep") => {
            "the password or user name holds a character SASLprep refuses (a control character, or a code point \
             unassigned in Unicode 3.2 such as most emoji), which PostgreSQL accepts but this sqlx refuses to \
             send; build with migrate's stringprep patch (README, \"Passwords SASLprep refuses\")"
                .to_owned()
        }
        other => other.to_string(),
    }
}

/// Whether the error means the connection is gone (so the server ended the session and rolled back any
/// open transaction).
pub(crate) fn lost_connection(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::PoolClosed => true,
        // admin_shutdown, crash_shutdown, cannot_connect_now: FATAL, and the server closes the session.
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

/// A server error for the runner: displays the server's error as one line (SQLSTATE, message, detail,
/// hint), keeps the SQLSTATE for callers.
#[derive(Debug)]
pub struct ServerError {
    sqlstate: Option<String>,
    text: String,
    source: sqlx::Error,
}

impl ServerError {
    pub(crate) fn new(source: sqlx::Error) -> ServerError {
        let text = match &source {
            sqlx::Error::Database(_) => describe(&source),
            other if lost_connection(other) => format!("the connection to the server was lost ({other})"),
            other => describe(other),
        };
        ServerError { sqlstate: sqlstate(&source), text, source }
    }

    /// The connection went after every command but `COMMIT` completed: the server may have committed.
    pub(crate) fn commit_unknown(source: sqlx::Error) -> ServerError {
        let mut error = ServerError::new(source);
        error.text = format!(
            "{} while COMMIT was on its way: whether the migration committed is unknown; run status before \
             running again",
            error.text
        );
        error
    }

    /// A failed concurrent index build: names the INVALID index it left, or says where to look.
    pub(crate) fn with_invalid_index_note(mut self, invalid: Option<&str>) -> ServerError {
        match invalid {
            Some(index) => self.text.push_str(&format!(
                "; it left the INVALID index {index}: drop it with DROP INDEX CONCURRENTLY {index}; before running again"
            )),
            None => self.text.push_str(
                "; a failed concurrent index build leaves an INVALID index: find it with SELECT indexrelid::regclass \
                 FROM pg_index WHERE NOT indisvalid, and drop it with DROP INDEX CONCURRENTLY before running again",
            ),
        }
        self
    }

    /// The client's error.
    pub(crate) fn source_error(&self) -> &sqlx::Error {
        &self.source
    }

    /// The SQLSTATE code, when the server sent one.
    pub fn sqlstate(&self) -> Option<&str> {
        self.sqlstate.as_deref()
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for ServerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The SQLSTATE of a query error, if any.
pub(crate) fn sqlstate(error: &sqlx::Error) -> Option<String> {
    match error {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// The 1-based position in the statement that the server's error points at.
pub(crate) fn position(error: &sqlx::Error) -> Option<usize> {
    let sqlx::Error::Database(db) = error else { return None };
    let pg = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    match pg.position()? {
        sqlx::postgres::PgErrorPosition::Original(position) => Some(position),
        _ => None,
    }
}
