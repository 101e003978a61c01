//! The driver's replicated tables on the host it talks to: created `ON CLUSTER` when missing, brought up
//! to date before they are read, and checked for inactive replicas before the lock is taken.
//!
//! Reading a replica right after another host wrote can miss the write (about 30 ms on loopback, longer
//! under load), and `select_sequential_consistency` does not help for rows inserted without quorum. So a
//! read is preceded by `SYSTEM SYNC REPLICA`, which pulls the table's replication log from ZooKeeper and
//! waits until this replica has executed it: every insert logged before the read started is then here.
//! A rollback's `ALTER … DELETE` is a mutation, registered under the table's `mutations` znode and pulled
//! by each replica on its own schedule; the read also waits until every mutation listed there is done on
//! this replica (`system.mutations.is_done`), which is what 18.16 offers instead of `mutations_sync`.

use std::time::{Duration, Instant};

use crate::error::{ChError, ClusterError};
use crate::http::Bookkeeping;
use crate::sql::TableRef;

use super::ddl::{run_on_cluster, DdlSettings};
use super::sql::ClusterSql;

/// A replicated table as this host sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplicatedTable {
    /// The table's node in ZooKeeper.
    pub(crate) zookeeper_path: String,
    /// Replicas registered there.
    pub(crate) total: u64,
    /// Replicas up now.
    pub(crate) active: u64,
}

/// Operations on the driver's replicated tables through one host.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Replicas<'a> {
    pub(crate) bk: &'a Bookkeeping,
    pub(crate) sql: &'a ClusterSql,
    pub(crate) ddl: &'a DdlSettings,
    /// How long to wait for every host (the cluster's DDL timeout).
    pub(crate) host_wait: Duration,
    /// How long to wait for mutations.
    pub(crate) mutation_wait: Duration,
}

impl Replicas<'_> {
    /// The table's replication state here: `None` when it does not exist here, an error when it exists
    /// without a replicated engine.
    pub(crate) async fn state(&self, table: &TableRef) -> Result<Option<ReplicatedTable>, ChError> {
        let rows = self.bk.query(&ClusterSql::replica_state(table)).await?;
        if let Some(row) = rows.first() {
            let unexpected = || ChError::Unexpected { action: "reading system.replicas", text: row.join("\t") };
            let [path, total, active] = row.as_slice() else { return Err(unexpected()) };
            return Ok(Some(ReplicatedTable {
                zookeeper_path: path.clone(),
                total: total.parse().map_err(|_| unexpected())?,
                active: active.parse().map_err(|_| unexpected())?,
            }));
        }
        let engines = self.bk.query(&ClusterSql::table_engine(table)).await?;
        match engines.first().and_then(|row| row.first()) {
            None => Ok(None),
            Some(engine) => Err(ClusterError::NotReplicated {
                table: table.quoted.clone(),
                target: self.bk.client().target().to_owned(),
                engine: engine.clone(),
            }
            .into()),
        }
    }

    /// Creates the table `ON CLUSTER` (confirmed on every host) unless it exists here, and returns its state.
    pub(crate) async fn ensure(&self, table: &TableRef, create: &str) -> Result<ReplicatedTable, ChError> {
        if let Some(state) = self.state(table).await? {
            return Ok(state);
        }
        run_on_cluster(self.bk, self.sql, self.ddl, create, None).await?;
        self.state(table).await?.ok_or_else(|| ChError::Unexpected {
            action: "creating a table ON CLUSTER",
            text: format!("{} is still missing from system.replicas", table.quoted),
        })
    }

    /// Brings this replica up to date before a read (see the module docs). `false` when the table does
    /// not exist here.
    pub(crate) async fn sync(&self, table: &TableRef) -> Result<bool, ChError> {
        let Some(state) = self.state(table).await? else { return Ok(false) };
        let receive_timeout = self.host_wait.as_secs().max(1).to_string();
        self.bk
            .execute_with(
                &ClusterSql::sync_replica(table),
                &[("receive_timeout", receive_timeout.as_str())],
                Some(self.host_wait + Duration::from_secs(30)),
            )
            .await?;
        self.wait_for_mutations(table, &state.zookeeper_path).await?;
        Ok(true)
    }

    /// Waits until every mutation registered for the table is done on this replica.
    pub(crate) async fn wait_for_mutations(&self, table: &TableRef, zookeeper_path: &str) -> Result<(), ChError> {
        let sql = ClusterSql::unfinished_mutations(table, zookeeper_path);
        let action = "reading mutations in system.zookeeper and system.mutations";
        self.bk.wait_for_mutations(&sql, action, &table.quoted, self.mutation_wait).await
    }

    /// Waits until every replica of the table is active and returns how many there are; names the
    /// inactive ones when the wait runs out.
    pub(crate) async fn wait_active(&self, table: &TableRef) -> Result<u64, ChError> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(20);
        loop {
            let state = self.state(table).await?.ok_or_else(|| ChError::Unexpected {
                action: "reading system.replicas",
                text: format!("{} is missing", table.quoted),
            })?;
            if state.active >= state.total {
                return Ok(state.total);
            }
            let waited = started.elapsed();
            if waited >= self.host_wait {
                let inactive = self.inactive(&state.zookeeper_path).await?;
                return Err(ClusterError::ReplicasInactive { table: table.quoted.clone(), waited, inactive }.into());
            }
            tokio::time::sleep(delay.min(self.host_wait.saturating_sub(waited))).await;
            delay = (delay * 2).min(Duration::from_millis(500));
        }
    }

    /// The inactive replicas of a table, as `name (host:port)`.
    async fn inactive(&self, zookeeper_path: &str) -> Result<Vec<String>, ChError> {
        let mut inactive = Vec::new();
        for row in self.bk.query(&ClusterSql::replica_names(zookeeper_path)).await? {
            let Some(name) = row.first() else { continue };
            let nodes = self.bk.query(&ClusterSql::replica_nodes(zookeeper_path, name)).await?;
            if nodes.iter().any(|node| node.first().is_some_and(|n| n == "is_active")) {
                continue;
            }
            let host = nodes.iter().find(|node| node.first().is_some_and(|n| n == "host")).and_then(|n| n.get(1));
            inactive.push(match host.and_then(|value| host_address(value)) {
                Some(address) => format!("{name} ({address})"),
                None => name.clone(),
            });
        }
        Ok(inactive)
    }
}

/// `host:tcp_port` from a replica's `host` node (`host: 127.0.0.1\nport: 9009\ntcp_port: 9000\n…`).
fn host_address(value: &str) -> Option<String> {
    let field = |key: &str| value.lines().find_map(|line| line.strip_prefix(key)).map(str::trim);
    Some(format!("{}:{}", field("host:")?, field("tcp_port:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_hosts() {
        let value = "host: 127.0.0.1\nport: 29009\ntcp_port: 29000\ndatabase: db\ntable: t\nscheme: http\n";
        assert_eq!(host_address(value).as_deref(), Some("127.0.0.1:29000"));
        assert_eq!(host_address("host: h\n"), None);
    }
}
