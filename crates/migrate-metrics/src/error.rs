//! The errors of pushing and writing metrics. A URL in a message is always redacted (no password).

use std::path::PathBuf;

/// Why metrics could not be pushed or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The Pushgateway URL is not one we can push to.
    #[error("metrics push URL {url}: {reason}")]
    InvalidUrl {
        /// The URL, password redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be set up (its TLS configuration).
    #[error("metrics push: cannot set up the HTTP client: {reason}")]
    Client {
        /// The client's error.
        reason: String,
    },
    /// The request did not get an answer (connection refused, timeout, TLS).
    #[error("pushing metrics to {url} failed: {reason}")]
    Transport {
        /// The group URL, password redacted.
        url: String,
        /// The client's error and its causes.
        reason: String,
    },
    /// The Pushgateway answered with an error status.
    #[error("pushing metrics to {url} failed: HTTP {status}: {body}")]
    Status {
        /// The group URL, password redacted.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The first line of the answer's body.
        body: String,
    },
    /// The metrics file's path has no file name (it ends in `..` or is a root).
    #[error("metrics file {path}: the path names no file")]
    FilePath {
        /// The path as given.
        path: PathBuf,
    },
    /// The previous metrics file could not be read.
    #[error("reading the previous metrics from {path}: {source}")]
    ReadFile {
        /// The metrics file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The metrics file could not be written (the temporary file, or renaming it over the file).
    #[error("writing metrics file {path}: {source}")]
    WriteFile {
        /// The file that failed: the temporary file or the metrics file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}
