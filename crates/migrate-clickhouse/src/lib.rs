//! The ClickHouse driver of migrate: goose-compatible version table, resumable non-transactional
//! migrations and a lease lock, over ClickHouse's HTTP interface.
//!
//! # Brief overview
//!
//! [`ChConnSpec`] parses the DSNs goose users have (HTTP URLs and clickhouse-go's `clickhouse://` and
//! `tcp://` forms, mapped to the HTTP port). [`ChDriver`] implements migrate-core's `Driver` through
//! [`ChClient`], one statement per HTTP request, in one session so that a `SET` carries over. [`ChConfig`]
//! holds the version [`TableName`] and the lock and mutation timeouts.
//!
//! - The version table is goose's, created with goose's DDL and read as goose reads it, including tables
//!   of the older `MergeTree(date, (date), 8192)` form. A rollback deletes through a mutation: goose's
//!   `SETTINGS mutations_sync = 2` form where the server has it, otherwise (18.x) a plain `ALTER ... DELETE`
//!   polled in `system.mutations` until done. Reads wait for pending mutations of the table.
//! - ClickHouse has no transactions, so the driver reports none; the runner records progress after each
//!   statement in `<table>_progress`, shows an interrupted migration as partially applied and resumes it
//!   after checking that the statements that ran are unchanged.
//! - The lock is a lease in `<table>_lock`, with the guarantee and its argument in the `lock` module's
//!   documentation (in short: on one server, two runners never hold it at once).
//! - [`sql_catalog`] lists every SQL text the driver sends, for the check that runs them on a current
//!   ClickHouse engine (`scripts/chdb/check.py`).
//! - **Cluster mode** ([`ClusterConfig`] in [`ChConfig::cluster`], or the DSN's `x-cluster`): the three
//!   tables are created `ON CLUSTER` on replicated engines and read after syncing the replica, so every host
//!   sees the same state; `ON CLUSTER` statements are confirmed on every host (a [`DdlReport`] names the
//!   hosts that failed or did not answer); statements that would leave hosts different are warned about or
//!   refused; the lock's claims are quorum inserts. The choices and their reasons are in the `cluster`
//!   module's documentation.

#![deny(missing_docs)]

mod cluster;
mod driver;
pub mod dsn;
mod error;
mod http;
mod lock;
mod progress;
mod sql;
mod table;
mod tls;

pub use crate::cluster::{
    ClusterConfig, ClusterConfigError, DdlReport, HostOutcome, HostState, DEFAULT_DDL_QUEUE_PATH, DEFAULT_DDL_TIMEOUT,
    DEFAULT_REPLICA_NAME, DEFAULT_ZOOKEEPER_PATH,
};
pub use crate::driver::{ChConfig, ChDriver};
pub use crate::dsn::{ch_url_from_parts, ChConnSpec, ChScheme, DsnError};
pub use crate::error::{ChError, ClusterError, ServerError};
pub use crate::http::ChClient;
pub use crate::sql::{cluster_sql_catalog, sql_catalog, version_row_sql};
pub use crate::table::{TableName, TableNameError};
