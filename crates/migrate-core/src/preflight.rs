//! A check of the migrations a run is about to apply, before it takes the lock: the hook lint plugs into
//! (the `migrate-goose-lint` crate implements [`Preflight`]; the core knows no rules). An error refuses the
//! run with nothing applied; warnings are reported and the run goes on.

use std::fmt;

use crate::source::Migration;

/// Checks the pending migrations of a run; [`crate::RunOptions::preflight`] holds one.
///
/// `migrations` is every migration known (in version order, so a check can read earlier files for
/// context, e.g. the table a later one refers to); `pending` is the ones this run would apply up.
/// It is not called when nothing is pending, so a no-op run pays nothing.
pub trait Preflight: Send + Sync {
    /// What the check is called in messages, e.g. `lint`.
    fn name(&self) -> &'static str;

    /// What the check found; any [`PreflightFinding::error`] refuses the run.
    /// `lookup` reads ENVSUB variables, as the run does.
    fn check(
        &self,
        migrations: &[Migration],
        pending: &[&Migration],
        lookup: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Vec<PreflightFinding>;
}

/// One finding of a [`Preflight`] check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightFinding {
    /// Whether it refuses the run.
    pub error: bool,
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The rule that found it, e.g. `goose-split-body`.
    pub rule: String,
    /// What is wrong, in one line.
    pub message: String,
    /// How to fix it, in one line.
    pub fix: String,
}

impl fmt::Display for PreflightFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = if self.error { "error" } else { "warning" };
        write!(
            f,
            "{}:{}:{}: {severity}[{}] {} ({})",
            self.file, self.line, self.column, self.rule, self.message, self.fix
        )
    }
}

/// The findings that refused a run (every error, one per line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightErrors(pub Vec<PreflightFinding>);

impl fmt::Display for PreflightErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, finding) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            finding.fmt(f)?;
        }
        Ok(())
    }
}
