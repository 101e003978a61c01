//! The one error of this crate: a `migrate.toml` that cannot be used, with its file and line.

use std::path::PathBuf;

/// A `migrate.toml` that cannot be read or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        message: String,
    },
    /// The file is not valid, or says something that is refused.
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// `--environment NAME` (or `MIGRATE_ENVIRONMENT`) names an environment the file does not have.
    #[error("{}: no environment {name:?} (the file has: {known})", path.display())]
    UnknownEnvironment {
        /// The file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The names the file has, comma-separated, or "none".
        known: String,
    },
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |before| before.bytes().filter(|b| *b == b'\n').count() + 1)
}
