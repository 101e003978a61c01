//! The finding model: what every rule reports, whatever its family.

use std::fmt;
use std::str::FromStr;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth a look; fails the run only with `--strict`.
    Warning,
    /// Goose or the server would fail, or data or availability is at risk: lint exits 1.
    Error,
}

impl Severity {
    /// The lowercase name used in every output format and in `migrate.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity name that is not `warning` or `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity {0:?}: use \"warning\" or \"error\"")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(text: &str) -> Result<Severity, UnknownSeverity> {
        match text {
            "warning" | "warn" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(UnknownSeverity(other.to_string())),
        }
    }
}

/// One problem found in one migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule's id, e.g. `require-concurrent-index-creation`.
    pub rule: String,
    /// The severity after configuration.
    pub severity: Severity,
    /// The file as it was given (a path relative to the linted directory's parent, or as typed).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// One line saying what is wrong.
    pub message: String,
    /// One line saying how to fix it.
    pub fix: String,
}

impl Finding {
    /// Orders findings by file, then position, then rule, so every output is stable.
    pub(crate) fn sort_key(&self) -> (&str, usize, usize, &str) {
        (&self.file, self.line, self.column, &self.rule)
    }
}
