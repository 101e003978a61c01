//! The SQL of cluster mode: the `ON CLUSTER` clause and replicated engines of the driver's tables, and the
//! reads of `system.clusters`, `system.replicas`, `system.mutations` and `system.zookeeper` (the DDL queue
//! and the tables' nodes). Every value goes through [`quote_string`].

use super::ClusterConfig;
use crate::sql::TableRef;
use crate::table::quote_string;

/// The cluster SQL for one configuration.
#[derive(Debug, Clone)]
pub(crate) struct ClusterSql {
    name: String,
    path: String,
    replica: String,
    queue: String,
}

impl ClusterSql {
    pub(crate) fn new(config: &ClusterConfig) -> ClusterSql {
        ClusterSql {
            name: config.name().to_owned(),
            path: quote_string(&config.expanded_path()),
            replica: quote_string(&config.replica_name),
            queue: config.ddl_queue_path.clone(),
        }
    }

    /// ` ON CLUSTER 'name'`: a string literal, which every release accepts whatever the name's characters.
    pub(crate) fn on_cluster(&self) -> String {
        format!(" ON CLUSTER {}", quote_string(&self.name))
    }

    /// `Replicated<family>('<path>', '<replica>'[, args])`.
    pub(crate) fn engine(&self, family: &str, args: &str) -> String {
        let args = if args.is_empty() { String::new() } else { format!(", {args}") };
        format!("Replicated{family}({}, {}{args})", self.path, self.replica)
    }

    pub(crate) fn cluster_hosts(&self) -> String {
        format!("SELECT count() FROM system.clusters WHERE cluster = {} FORMAT TabSeparated", quote_string(&self.name))
    }

    pub(crate) fn table_engine(table: &TableRef) -> String {
        format!(
            "SELECT engine FROM system.tables WHERE database = {} AND name = {} FORMAT TabSeparated",
            table.database_literal, table.table_literal
        )
    }

    /// `zookeeper_path, total_replicas, active_replicas` of a replicated table (no row otherwise).
    pub(crate) fn replica_state(table: &TableRef) -> String {
        format!(
            "SELECT zookeeper_path, total_replicas, active_replicas FROM system.replicas WHERE database = {} AND table = {} FORMAT TabSeparated",
            table.database_literal, table.table_literal
        )
    }

    pub(crate) fn sync_replica(table: &TableRef) -> String {
        format!("SYSTEM SYNC REPLICA {}", table.quoted)
    }

    /// Mutations registered in ZooKeeper that this replica has not finished (or not even seen).
    pub(crate) fn unfinished_mutations(table: &TableRef, zookeeper_path: &str) -> String {
        format!(
            "SELECT count() FROM system.zookeeper WHERE path = {} AND name NOT IN (SELECT mutation_id FROM system.mutations WHERE database = {} AND table = {} AND is_done = 1) FORMAT TabSeparated",
            quote_string(&format!("{zookeeper_path}/mutations")),
            table.database_literal,
            table.table_literal
        )
    }

    pub(crate) fn replica_names(zookeeper_path: &str) -> String {
        format!(
            "SELECT name FROM system.zookeeper WHERE path = {} ORDER BY name FORMAT TabSeparated",
            quote_string(&format!("{zookeeper_path}/replicas"))
        )
    }

    /// A replica's `host` node (where it runs) and `is_active` node (present while it is up).
    pub(crate) fn replica_nodes(zookeeper_path: &str, replica: &str) -> String {
        format!(
            "SELECT name, value FROM system.zookeeper WHERE path = {} AND name IN ('host', 'is_active') FORMAT TabSeparated",
            quote_string(&format!("{zookeeper_path}/replicas/{replica}"))
        )
    }

    /// The sequence number the next task in the DDL queue will get at least: one past the newest task's.
    /// (Not the queue node's `cversion`: the DDL workers delete old tasks, and each deletion moves
    /// `cversion` on without moving the sequence, so after the first clean-up it runs ahead of it.)
    pub(crate) fn queue_mark(&self) -> String {
        format!(
            "SELECT if(count() = 0, 0, max(toUInt64OrZero(substring(name, 7))) + 1) FROM system.zookeeper \
             WHERE path = {} AND name LIKE 'query-%' FORMAT TabSeparated",
            quote_string(&self.queue)
        )
    }

    /// Tasks created at or after a mark: `name, value`, oldest first.
    pub(crate) fn tasks_from(&self, mark: u64) -> String {
        format!(
            "SELECT name, value FROM system.zookeeper WHERE path = {} AND name >= {} ORDER BY name LIMIT 50 FORMAT TabSeparated",
            quote_string(&self.queue),
            quote_string(&format!("query-{mark:010}"))
        )
    }

    /// One task: `name, value`.
    pub(crate) fn task(&self, task: &str) -> String {
        format!(
            "SELECT name, value FROM system.zookeeper WHERE path = {} AND name = {} FORMAT TabSeparated",
            quote_string(&self.queue),
            quote_string(task)
        )
    }

    /// The `finished` or `active` children of a task: `name, value`.
    pub(crate) fn task_children(&self, task: &str, child: &str) -> String {
        format!(
            "SELECT name, value FROM system.zookeeper WHERE path = {} FORMAT TabSeparated",
            quote_string(&format!("{}/{task}/{child}", self.queue))
        )
    }

    /// The queue path, for messages.
    pub(crate) fn queue(&self) -> &str {
        &self.queue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        let mut config = ClusterConfig::new("c1").unwrap();
        config.ddl_queue_path = "/ddl".to_owned();
        let sql = ClusterSql::new(&config);
        assert_eq!(sql.on_cluster(), " ON CLUSTER 'c1'");
        assert_eq!(
            sql.engine("ReplacingMergeTree", "seq"),
            "ReplicatedReplacingMergeTree('/clickhouse/tables/migrate/c1/{database}/{table}', '{shard}-{replica}', seq)"
        );
        assert!(sql.queue_mark().contains("path = '/ddl' AND name LIKE 'query-%'"), "{}", sql.queue_mark());
        assert!(sql.tasks_from(7).contains("name >= 'query-0000000007'"));
        let sql = ClusterSql::new(&ClusterConfig::new("c1").unwrap());
        assert!(sql.queue_mark().contains("path = '/clickhouse/task_queue/ddl' AND name LIKE 'query-%'"));
        assert!(sql.task_children("query-1", "finished").contains("'/clickhouse/task_queue/ddl/query-1/finished'"));
        assert!(ClusterSql::replica_nodes("/p", "a'b").contains("'/p/replicas/a\\'b'"));
    }
}
