//! Cluster mode: the driver's tables replicated across a ClickHouse cluster, migration DDL confirmed on
//! every host, and guard rails for statements that would leave hosts different.
//!
//! goose (and the single-server mode of this driver) keeps its version table as a local `MergeTree` on the
//! one server the DSN names; on a cluster every other host then sees no migrations at all. In cluster mode:
//!
//! - **Tables.** The version table and its companions (`_progress`, `_lock`) are created `ON CLUSTER` with
//!   `Replicated*MergeTree` engines under one ZooKeeper path per table for the whole cluster
//!   ([`ClusterConfig::zookeeper_path`]; no `{shard}` in it by default, because migration state is one
//!   state even when the data is sharded). goose reads the version table as it always does: same columns,
//!   same rows, only the engine differs.
//! - **Reads** (`replicated` module). Before the version or progress table is read, the replica the driver
//!   talks to is brought up to date: `SYSTEM SYNC REPLICA` (which waits for every insert already logged in
//!   ZooKeeper, so a row another runner wrote through another host is here), then a wait until every
//!   mutation listed under the table's ZooKeeper node is done on this replica (18.16 has no
//!   `mutations_sync`, and `SYNC REPLICA` does not cover mutations not yet scheduled here).
//! - **Writes.** Version rows are plain inserts with `insert_deduplicate = 0`, because a replicated table
//!   drops an identical block (goose's row for an up, a down and an up again within a second). They are
//!   deliberately not quorum inserts: on 18.16 the newest quorum-written part is never mutated, so goose's
//!   `ALTER … DELETE` of a rollback would never take effect. A rollback deletes through a mutation, as
//!   goose does; the writer waits for it on its replica and readers on other hosts wait as above.
//! - **DDL** (`ddl` module). A migration statement with `ON CLUSTER` is sent with a per-query
//!   `distributed_ddl_task_timeout` and then confirmed host by host; a statement that did not finish on
//!   every host fails with the list of hosts, so it is not counted as done and the migration is not
//!   recorded.
//! - **Guard rails** (`guard` module). Creating a table without `ON CLUSTER`, or with an engine that keeps
//!   its data on one host, is reported (`tracing::warn`), or refused when [`ClusterConfig::strict`] is set.
//! - **Lock** (see the `lock` module). Claims and renewals are inserted with a quorum of every replica of
//!   the lock table, so a claim that answered is visible on every host.

mod ddl;
mod guard;
mod quorum;
mod replicated;
mod sql;
mod statement;

use std::time::Duration;

pub(crate) use self::ddl::{run_on_cluster, DdlSettings};
pub use self::ddl::{DdlReport, HostOutcome, HostState};
pub(crate) use self::guard::check_statement;
pub(crate) use self::quorum::Quorum;
pub(crate) use self::replicated::Replicas;
pub(crate) use self::sql::ClusterSql;

/// The default ZooKeeper path of the driver's replicated tables. `{cluster}` is replaced by the cluster
/// name by migrate; `{database}` and `{table}` are expanded by the server.
pub const DEFAULT_ZOOKEEPER_PATH: &str = "/clickhouse/tables/migrate/{cluster}/{database}/{table}";

/// The default replica name: unique across the cluster with the macros most set-ups define, also when
/// replica names repeat from shard to shard.
pub const DEFAULT_REPLICA_NAME: &str = "{shard}-{replica}";

/// The server's default `<distributed_ddl><path>`, where `ON CLUSTER` tasks are queued.
pub const DEFAULT_DDL_QUEUE_PATH: &str = "/clickhouse/task_queue/ddl";

/// The default wait for every host: the server's own default `distributed_ddl_task_timeout`.
pub const DEFAULT_DDL_TIMEOUT: Duration = Duration::from_secs(180);

/// The longest cluster name accepted.
const MAX_NAME: usize = 200;

/// Cluster mode: set [`crate::ChConfig::cluster`] (or the DSN's `x-cluster` parameter) to use it.
///
/// ```
/// use std::time::Duration;
/// use migrate_clickhouse::{ChConfig, ClusterConfig};
///
/// let mut cluster = ClusterConfig::new("analytics")?;
/// cluster.ddl_timeout = Duration::from_secs(60);
/// let config = ChConfig { cluster: Some(cluster), ..ChConfig::default() };
/// # assert_eq!(config.cluster.unwrap().name(), "analytics");
/// # Ok::<(), migrate_clickhouse::ClusterConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterConfig {
    name: String,
    /// The ZooKeeper path of each replicated table the driver creates (default
    /// [`DEFAULT_ZOOKEEPER_PATH`]). `{cluster}` is replaced by the cluster name; `{database}`, `{table}`
    /// and the server's macros are expanded by the server. It must name one path per table (keep
    /// `{table}`) and one for the whole cluster (a `{shard}` in it would give each shard its own state).
    pub zookeeper_path: String,
    /// The replica name of each host (default [`DEFAULT_REPLICA_NAME`]); it must be unique across the
    /// cluster.
    pub replica_name: String,
    /// How long to wait for every host (default [`DEFAULT_DDL_TIMEOUT`], at least 1 s): sent as
    /// `distributed_ddl_task_timeout` with every `ON CLUSTER` statement (over a `SET` of the migration or
    /// the DSN's setting), and the limit for replicas of the driver's tables to be active and in sync.
    pub ddl_timeout: Duration,
    /// The server's `<distributed_ddl><path>` (default [`DEFAULT_DDL_QUEUE_PATH`]), read through
    /// `system.zookeeper` to tell which host did what when an `ON CLUSTER` statement fails.
    pub ddl_queue_path: String,
    /// Refuse, instead of warning about, a migration statement that creates a table without
    /// `ON CLUSTER` or with an engine that keeps its data on one host (default false).
    pub strict: bool,
}

/// A cluster configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterConfigError {
    /// The cluster name is empty or has characters a cluster name in `remote_servers` cannot have.
    #[error("invalid cluster name {name:?}: use ASCII letters, digits, '_', '-' and '.' (as in <remote_servers>)")]
    InvalidName {
        /// The rejected name.
        name: String,
    },
    /// A ZooKeeper path that is not absolute or has empty parts.
    #[error("invalid {what} {path:?}: expected an absolute ZooKeeper path such as /clickhouse/task_queue/ddl")]
    InvalidPath {
        /// Which setting.
        what: &'static str,
        /// The rejected path.
        path: String,
    },
    /// A replica name template that is empty.
    #[error("the replica name of the driver's replicated tables is empty (the default is {DEFAULT_REPLICA_NAME})")]
    EmptyReplicaName,
    /// A DDL timeout under one second (the server counts whole seconds, and 0 would not wait at all).
    #[error("the cluster DDL timeout must be at least 1 s, got {timeout:?}")]
    DdlTimeout {
        /// The rejected timeout.
        timeout: Duration,
    },
}

impl ClusterConfig {
    /// Cluster mode for the cluster `name` (as in the servers' `<remote_servers>`), with the defaults.
    pub fn new(name: &str) -> Result<ClusterConfig, ClusterConfigError> {
        let valid = !name.is_empty()
            && name.len() <= MAX_NAME
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            return Err(ClusterConfigError::InvalidName { name: name.to_owned() });
        }
        Ok(ClusterConfig {
            name: name.to_owned(),
            zookeeper_path: DEFAULT_ZOOKEEPER_PATH.to_owned(),
            replica_name: DEFAULT_REPLICA_NAME.to_owned(),
            ddl_timeout: DEFAULT_DDL_TIMEOUT,
            ddl_queue_path: DEFAULT_DDL_QUEUE_PATH.to_owned(),
            strict: false,
        })
    }

    /// The cluster name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks the fields a caller may have changed.
    pub fn validate(&self) -> Result<(), ClusterConfigError> {
        let absolute = |path: &str| path.starts_with('/') && path.len() > 1 && !path[1..].split('/').any(str::is_empty);
        if !absolute(&self.zookeeper_path) {
            return Err(ClusterConfigError::InvalidPath { what: "ZooKeeper path", path: self.zookeeper_path.clone() });
        }
        if !absolute(&self.ddl_queue_path) {
            return Err(ClusterConfigError::InvalidPath { what: "DDL queue path", path: self.ddl_queue_path.clone() });
        }
        if self.replica_name.trim().is_empty() {
            return Err(ClusterConfigError::EmptyReplicaName);
        }
        if self.ddl_timeout < Duration::from_secs(1) {
            return Err(ClusterConfigError::DdlTimeout { timeout: self.ddl_timeout });
        }
        Ok(())
    }

    /// The ZooKeeper path template with the cluster name in place of `{cluster}`.
    pub(crate) fn expanded_path(&self) -> String {
        self.zookeeper_path.replace("{cluster}", &self.name)
    }

    /// `distributed_ddl_task_timeout`, in whole seconds (rounded up).
    pub(crate) fn ddl_timeout_secs(&self) -> u64 {
        self.ddl_timeout.as_secs() + u64::from(self.ddl_timeout.subsec_nanos() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert!(ClusterConfig::new("test_cluster").is_ok());
        assert!(ClusterConfig::new("prod-eu.1").is_ok());
        for bad in ["", "a b", "x'y", "{cluster}", "a`b", &"c".repeat(201)] {
            assert!(ClusterConfig::new(bad).is_err(), "{bad:?}");
        }
        let mut config = ClusterConfig::new("c1").unwrap();
        assert_eq!(config.expanded_path(), "/clickhouse/tables/migrate/c1/{database}/{table}");
        assert!(config.validate().is_ok());
        config.ddl_queue_path = "/clickhouse/task_queue/ddl/".to_owned();
        assert!(config.validate().unwrap_err().to_string().contains("DDL queue path"));
        config.ddl_queue_path = DEFAULT_DDL_QUEUE_PATH.to_owned();
        config.zookeeper_path = "clickhouse/x".to_owned();
        assert!(config.validate().is_err());
        config.zookeeper_path = DEFAULT_ZOOKEEPER_PATH.to_owned();
        config.ddl_timeout = Duration::from_millis(500);
        assert!(config.validate().is_err());
        config.ddl_timeout = Duration::from_millis(2500);
        assert_eq!(config.ddl_timeout_secs(), 3);
        config.replica_name = " ".to_owned();
        assert_eq!(config.validate(), Err(ClusterConfigError::EmptyReplicaName));
    }
}
