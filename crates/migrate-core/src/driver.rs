//! The narrow interfaces a database driver implements: a version store, an executor and a lock.
//!
//! Drivers execute; they never decide what to run. The table name, schema and lock key are fixed when a
//! driver is built, so no method takes them.

use async_trait::async_trait;

use crate::checksum::ChecksumStore;
use crate::parser::Statement;
use crate::plan::AppliedAt;
use crate::progress::ProgressStore;
use crate::{Direction, Version};

/// Any error a driver reports; the runner adds the file, statement and line.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One row of goose's version table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRow {
    /// `version_id` (0 is the row goose writes when it creates the table).
    pub version: i64,
    /// `is_applied`; only goose versions before 2018 wrote `false` rows.
    pub is_applied: bool,
    /// `tstamp`, as the server's wall clock wrote it.
    pub applied_at: Option<AppliedAt>,
}

impl AppliedRow {
    /// A row.
    pub fn new(version: i64, is_applied: bool, applied_at: Option<AppliedAt>) -> AppliedRow {
        AppliedRow { version, is_applied, applied_at }
    }
}

/// What a driver can do, asked instead of checking which driver it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Whether a migration's statements and its version row can share one transaction.
    pub transactions: bool,
}

/// A statement (or the bookkeeping around it) that failed.
#[derive(Debug)]
pub struct StatementFailure {
    /// The 0-based index of the failed statement in the list given to the driver; `None` when the failure
    /// was not a statement's (BEGIN, the version row, COMMIT).
    pub statement: Option<usize>,
    /// The 1-based character position inside the statement that the server reported, if any.
    pub position: Option<usize>,
    /// The server's or client's error.
    pub error: BoxError,
    /// The server gave up waiting for a lock the statement needed (PostgreSQL's `lock_not_available`,
    /// 55P03, after `lock_timeout`): nothing of it took effect, so a transaction can be run again
    /// ([`crate::RunOptions::lock_retries`]).
    pub lock_timeout: bool,
}

impl StatementFailure {
    /// A failure of the statement at `statement` (or of bookkeeping when `None`).
    pub fn new(statement: Option<usize>, position: Option<usize>, error: BoxError) -> StatementFailure {
        StatementFailure { statement, position, error, lock_timeout: false }
    }

    /// The same failure, marked as a lock wait that timed out.
    pub fn with_lock_timeout(mut self, lock_timeout: bool) -> StatementFailure {
        self.lock_timeout = lock_timeout;
        self
    }
}

/// Why a code migration did not complete.
#[derive(Debug)]
#[non_exhaustive]
pub enum CodeFailure {
    /// This executor cannot run code migrations (the default of [`Executor::execute_code`]).
    Unsupported,
    /// The migration's function returned an error; in a transaction, everything was rolled back.
    Failed(BoxError),
    /// Beginning the transaction, recording the version or committing failed.
    Bookkeeping(BoxError),
}

/// goose's version table: ensure it, read it, write it.
#[async_trait]
pub trait VersionStore: Send {
    /// Creates the table with goose's DDL and its `(0, true)` row when it is missing; tolerates a
    /// concurrent creator.
    async fn ensure_table(&mut self) -> Result<(), BoxError>;

    /// Every row, most recently applied first (the order goose's `ListMigrations` gives), or `None` when the
    /// table does not exist.
    async fn list_applied(&mut self) -> Result<Option<Vec<AppliedRow>>, BoxError>;

    /// Records an apply (insert `(version, true)`) or a rollback (delete the version's rows) on its own,
    /// after a migration that ran outside a transaction.
    async fn record(&mut self, version: Version, direction: Direction) -> Result<(), BoxError>;

    /// Reads the version rows and the checksum rows ahead, in one round trip where the driver can, while
    /// the caller is still busy (listing the migration files): the next `list_applied` and
    /// `list_checksums` answer from them, once. Taking the lock or writing anything forgets them, so a
    /// locked section always reads afresh. A failure here is not an error: the lists are read as usual.
    async fn prefetch_history(&mut self) {}
}

/// Runs statements.
#[async_trait]
pub trait Executor: Send {
    /// Runs one statement on its own (autocommit).
    async fn execute(&mut self, statement: &Statement<'_>) -> Result<(), StatementFailure>;

    /// Runs the statements, then the version-row change when `record` is given, in one transaction: all of
    /// it is committed or none of it.
    async fn execute_in_transaction(
        &mut self,
        statements: &[Statement<'_>],
        record: Option<(Version, Direction)>,
    ) -> Result<(), StatementFailure>;

    /// Runs the registered code migration `version` in `direction` on its own, outside a transaction
    /// (the runner records the version afterwards).
    ///
    /// Code migrations live in the library that registered them, not in a driver: the default reports
    /// [`CodeFailure::Unsupported`], and a wrapper that holds the registered functions overrides it.
    async fn execute_code(&mut self, version: Version, direction: Direction) -> Result<(), CodeFailure> {
        let _ = (version, direction);
        Err(CodeFailure::Unsupported)
    }

    /// Runs the registered code migration `version` in `direction`, then the version-row change when
    /// `record` is given, in one transaction: all of it is committed or none of it.
    async fn execute_code_in_transaction(
        &mut self,
        version: Version,
        direction: Direction,
        record: Option<(Version, Direction)>,
    ) -> Result<(), CodeFailure> {
        let _ = (version, direction, record);
        Err(CodeFailure::Unsupported)
    }
}

/// Mutual exclusion between runners.
#[async_trait]
pub trait Lock: Send {
    /// Waits for the lock (bounded by the driver's configured timeout).
    async fn acquire(&mut self) -> Result<(), BoxError>;

    /// Releases it. Called on every path once `acquire` succeeded.
    async fn release(&mut self) -> Result<(), BoxError>;

    /// Who holds the lock now, if anyone, for reports (`status --all`): read-only, it never takes the
    /// lock; `None` also when the driver cannot tell.
    async fn holder(&mut self) -> Option<String> {
        None
    }
}

/// Cancels the statement a driver's connection is running, from another task while the driver is busy
/// (the CLI's SIGTERM handler, through [`Driver::canceller`]).
#[async_trait]
pub trait Canceller: Send + Sync {
    /// Asks the server to cancel what the connection runs now; `Ok(false)` when there was nothing to
    /// cancel (or no way to name the connection yet).
    async fn cancel(&self) -> Result<bool, BoxError>;
}

/// Everything the runner needs from a database.
pub trait Driver: VersionStore + Executor + Lock + ProgressStore + ChecksumStore {
    /// What the database can do.
    fn capabilities(&self) -> Capabilities;

    /// The server's major version (PostgreSQL's 15, 16...), when the connection told it; lint's
    /// version-aware rules read it.
    fn server_major_version(&self) -> Option<u32> {
        None
    }

    /// A handle that cancels this driver's statement in flight from another task, when the driver can
    /// (PostgreSQL, for a connection it opened itself).
    fn canceller(&self) -> Option<std::sync::Arc<dyn Canceller>> {
        None
    }
}
