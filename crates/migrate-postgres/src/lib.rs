//! The PostgreSQL driver of migrate: goose-compatible execution, version table and locking.
//!
//! # Brief overview
//!
//! [`PgDriver`] implements migrate-core's `Driver` over one dedicated connection. [`PgConfig`] holds the
//! version [`TableName`], the advisory-lock key and the timeouts. Statements go through the simple query
//! protocol: a transactional migration, its version row and `COMMIT` in batches of multi-statement
//! queries, a NO TRANSACTION migration one statement at a time. The
//! session advisory lock (goose's key by default) is polled, never waited on in the server.

#![deny(missing_docs)]

mod batch;
mod checksum_table;
mod driver;
pub mod dsn;
mod error;
mod sql_text;
mod table;
mod version_row;

pub use crate::driver::{PgCanceller, PgConfig, PgDriver, GOOSE_LOCK_KEY};
pub use crate::dsn::{encode_url_part, pg_url_from_parts, DsnError, PgConnSpec, PgHost, SslMode};
pub use crate::error::{PgError, ServerError};
pub use crate::table::{version_row_sql, TableName, TableNameError};
