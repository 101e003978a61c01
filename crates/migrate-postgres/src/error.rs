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
            text
        }
        other => other.to_string(),
    }
}

/// A server error for the runner: displays like [`describe`], keeps the SQLSTATE for callers.
#[derive(Debug)]
pub struct ServerError {
    sqlstate: Option<String>,
    text: String,
    source: sqlx::Error,
}

impl ServerError {
    pub(crate) fn new(source: sqlx::Error) -> ServerError {
        ServerError { sqlstate: sqlstate(&source), text: describe(&source), source }
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
