//! Per-statement progress of migrations that run outside a transaction, so that a migration that failed
//! at statement k resumes at statement k once the file is fixed, after checking by hash that statements
//! 1 to k-1 are unchanged. Drivers keep progress in a companion table; goose's table is never altered.

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::driver::BoxError;
use crate::parser::Statement;
use crate::{Direction, Version};

/// How far an unfinished migration got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The migration.
    pub version: Version,
    /// The direction that was running.
    pub direction: Direction,
    /// How many statements completed.
    pub done: usize,
    /// How many statements the section had then.
    pub total: usize,
    /// [`statements_checksum`] of the completed statements.
    pub checksum: String,
}

/// Where a driver keeps [`Progress`]. The defaults keep nothing, for drivers whose migrations are
/// transactional or that do not offer resuming.
#[async_trait]
pub trait ProgressStore: Send {
    /// Whether progress is kept (and so whether the runner records and resumes it).
    fn keeps_progress(&self) -> bool {
        false
    }

    /// The progress of every unfinished migration.
    async fn list_progress(&mut self) -> Result<Vec<Progress>, BoxError> {
        Ok(Vec::new())
    }

    /// Records progress after a statement completed.
    async fn save_progress(&mut self, _progress: &Progress) -> Result<(), BoxError> {
        Ok(())
    }

    /// Forgets a migration's progress once it completed.
    async fn clear_progress(&mut self, _version: Version) -> Result<(), BoxError> {
        Ok(())
    }
}

/// Incremental SHA-256 over statements: each text, length-prefixed so boundaries count.
#[derive(Clone, Default)]
pub(crate) struct StatementsHasher {
    hasher: Sha256,
}

impl StatementsHasher {
    pub(crate) fn add(&mut self, statement: &Statement<'_>) {
        self.hasher.update((statement.text().len() as u64).to_le_bytes());
        self.hasher.update(statement.text().as_bytes());
    }

    pub(crate) fn hex(&self) -> String {
        self.hasher.clone().finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The checksum progress records for the given (completed) statements.
pub fn statements_checksum(statements: &[Statement<'_>]) -> String {
    let mut hasher = StatementsHasher::default();
    for statement in statements {
        hasher.add(statement);
    }
    hasher.hex()
}
