//! Code migrations: Rust async functions registered by version, run by the same runner as SQL files.
//!
//! A function is stored type-erased so the [`Migrator`](crate::Migrator) stays one type whatever functions
//! it holds; the helper trait [`CodeFn`] is what lets a plain `async fn(&mut PgConnection)` be accepted,
//! because a closure bound cannot name a future that borrows its argument.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use migrate_core::{BoxError, CodeMigrationInfo, Direction, Version};
use sqlx::PgConnection;

use crate::error::Error;

/// A code migration: a version, a name, and an up and/or a down function.
///
/// Each function is an `async fn(&mut PgConnection) -> Result<(), E>` (any `E` that converts into a boxed
/// error, such as `sqlx::Error`). In a transactional migration (the default) the connection is inside the
/// migration's transaction, which also records the version: everything commits together or nothing does.
/// Do not `COMMIT` or `ROLLBACK` in the function. With [`CodeMigration::with_transaction`]`(false)` it gets
/// the connection outside any transaction, for work such as `CREATE INDEX CONCURRENTLY`.
///
/// A missing function is allowed: the version is still recorded (or removed), as goose does.
///
/// ```
/// use migrate::CodeMigration;
/// use sqlx::PgConnection;
///
/// async fn backfill_emails(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
///     sqlx::query("UPDATE users SET email = lower(email)").execute(conn).await?;
///     Ok(())
/// }
///
/// let migration = CodeMigration::new(3, "00003_backfill_emails").with_up(backfill_emails);
/// # let _ = migration;
/// ```
#[derive(Clone)]
pub struct CodeMigration {
    version: i64,
    name: String,
    transaction: bool,
    up: Option<Arc<dyn ErasedCodeFn>>,
    down: Option<Arc<dyn ErasedCodeFn>>,
}

impl CodeMigration {
    /// A transactional code migration with neither function yet. `version` shares the number space of the
    /// SQL files (a clash is reported when the migrations are resolved); `name` appears in reports and
    /// status.
    pub fn new(version: i64, name: impl Into<String>) -> CodeMigration {
        CodeMigration { version, name: name.into(), transaction: true, up: None, down: None }
    }

    /// The function that applies it.
    pub fn with_up<F>(mut self, function: F) -> CodeMigration
    where
        F: for<'c> CodeFn<'c>,
    {
        self.up = Some(Arc::new(Erased(function)));
        self
    }

    /// The function that rolls it back.
    pub fn with_down<F>(mut self, function: F) -> CodeMigration
    where
        F: for<'c> CodeFn<'c>,
    {
        self.down = Some(Arc::new(Erased(function)));
        self
    }

    /// Whether the function runs inside the migration's transaction (the default, `true`).
    ///
    /// # Warning
    ///
    /// With `false`, a function that fails half-way leaves what it did, and the version is not recorded:
    /// write it so that running it again is safe.
    pub fn with_transaction(mut self, transaction: bool) -> CodeMigration {
        self.transaction = transaction;
        self
    }

    /// What the resolver needs to know.
    pub(crate) fn info(&self) -> Result<CodeMigrationInfo, Error> {
        let version = Version::new(self.version)
            .ok_or_else(|| Error::CodeMigrationVersion { name: self.name.clone(), version: self.version })?;
        Ok(CodeMigrationInfo {
            version,
            name: self.name.clone(),
            transaction: self.transaction,
            has_up: self.up.is_some(),
            has_down: self.down.is_some(),
        })
    }

    pub(crate) fn version(&self) -> i64 {
        self.version
    }

    /// The function for a direction, if registered.
    pub(crate) fn function(&self, direction: Direction) -> Option<&dyn ErasedCodeFn> {
        match direction {
            Direction::Up => self.up.as_deref(),
            Direction::Down => self.down.as_deref(),
        }
    }
}

impl fmt::Debug for CodeMigration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeMigration")
            .field("version", &self.version)
            .field("name", &self.name)
            .field("transaction", &self.transaction)
            .field("up", &self.up.is_some())
            .field("down", &self.down.is_some())
            .finish()
    }
}

/// A code-migration function: implemented for every `async fn(&mut PgConnection) -> Result<(), E>` where
/// `E: Into<BoxError>`, and for functions returning such a future. You do not implement it yourself.
///
/// It exists because the future an async function returns borrows the connection, which a plain
/// `Fn(&mut PgConnection) -> Fut` bound cannot express. For the same reason, pass a named `async fn` rather
/// than a closure.
pub trait CodeFn<'c>: Send + Sync + 'static {
    /// The future the function returns.
    type Future: Future<Output = Result<(), Self::Error>> + Send + 'c;
    /// The function's error.
    type Error: Into<BoxError>;

    /// Calls the function.
    fn call(&self, connection: &'c mut PgConnection) -> Self::Future;
}

impl<'c, F, Fut, E> CodeFn<'c> for F
where
    F: Fn(&'c mut PgConnection) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'c,
    E: Into<BoxError>,
{
    type Future = Fut;
    type Error = E;

    fn call(&self, connection: &'c mut PgConnection) -> Fut {
        self(connection)
    }
}

type BoxFuture<'c> = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'c>>;

/// A [`CodeFn`] with its types erased, so functions of different types share one list.
pub(crate) trait ErasedCodeFn: Send + Sync {
    fn call<'c>(&'c self, connection: &'c mut PgConnection) -> BoxFuture<'c>;
}

struct Erased<F>(F);

impl<F> ErasedCodeFn for Erased<F>
where
    F: for<'c> CodeFn<'c>,
{
    fn call<'c>(&'c self, connection: &'c mut PgConnection) -> BoxFuture<'c> {
        let future = self.0.call(connection);
        Box::pin(async move { future.await.map_err(Into::into) })
    }
}
