//! Every SQL text the driver sends, built in one place from the table names, so that the statements the
//! driver runs and the ones [`sql_catalog`] hands to the current-engine check (`scripts/chdb/check.py`) are
//! the same strings.
//!
//! Values are never bound: the only values written into SQL are integers the driver produces, and strings
//! (owner names, checksums, directions) passed through [`quote_string`].
//!
//! In cluster mode the same statements run on replicated tables created `ON CLUSTER`; the reads of the
//! system tables that only cluster mode needs are in `cluster::sql`, and [`cluster_sql_catalog`] lists them.

use migrate_core::{Direction, Version};

use crate::cluster::{ClusterConfig, ClusterSql};
use crate::table::{quote_string, TableName};

/// goose's version table (goose.md section 4) and the two companion tables.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    /// goose's version table.
    version: TableRef,
    /// `<table>_progress`.
    progress: TableRef,
    /// `<table>_lock`.
    lock: TableRef,
    /// `<table>_checksums`.
    checksums: TableRef,
    /// Cluster mode: the `ON CLUSTER` clause and the replicated engines of the tables.
    cluster: Option<ClusterSql>,
}

/// One of the driver's tables: its quoted name, and its database and name as string literals for the
/// system tables.
#[derive(Debug, Clone)]
pub(crate) struct TableRef {
    pub(crate) quoted: String,
    pub(crate) database_literal: String,
    pub(crate) table_literal: String,
}

impl TableRef {
    fn new(table: &TableName, default_database: &str) -> TableRef {
        TableRef {
            quoted: table.to_string(),
            database_literal: quote_string(table.database().unwrap_or(default_database)),
            table_literal: quote_string(table.table()),
        }
    }
}

/// One row written to the lock table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LockRow<'a> {
    pub(crate) token: &'a str,
    pub(crate) owner: &'a str,
    pub(crate) ticket: u64,
    pub(crate) seq: u32,
    pub(crate) held: bool,
    pub(crate) released: bool,
    pub(crate) lease_secs: u64,
}

/// The statement that records (`Up`) or forgets (`Down`) a version in `table`, as the driver sends it
/// (for dry runs); a server that knows `mutations_sync` gets the delete with `SETTINGS mutations_sync = 2`.
pub fn version_row_sql(table: &TableName, version: Version, direction: Direction) -> String {
    let sql = Sql::new(table, "");
    match direction {
        Direction::Up => sql.insert_version(version.get()),
        Direction::Down => sql.delete_version_async(version.get()),
    }
}

impl Sql {
    /// The SQL for `table`; `default_database` is the connection's, for unqualified names.
    pub(crate) fn new(table: &TableName, default_database: &str) -> Sql {
        Sql {
            version: TableRef::new(table, default_database),
            progress: TableRef::new(&table.with_suffix("_progress"), default_database),
            lock: TableRef::new(&table.with_suffix("_lock"), default_database),
            checksums: TableRef::new(&table.with_suffix("_checksums"), default_database),
            cluster: None,
        }
    }

    /// The SQL of cluster mode: the same statements on replicated tables created `ON CLUSTER`, every name
    /// qualified (the hosts run `ON CLUSTER` DDL in their own default database otherwise).
    pub(crate) fn for_cluster(table: &TableName, default_database: &str, cluster: &ClusterConfig) -> Sql {
        let table = table.qualified(default_database);
        Sql { cluster: Some(ClusterSql::new(cluster)), ..Sql::new(&table, default_database) }
    }

    /// The cluster SQL, in cluster mode.
    pub(crate) fn cluster(&self) -> Option<&ClusterSql> {
        self.cluster.as_ref()
    }

    pub(crate) fn version_table(&self) -> &TableRef {
        &self.version
    }

    pub(crate) fn progress_table(&self) -> &TableRef {
        &self.progress
    }

    pub(crate) fn checksum_table(&self) -> &TableRef {
        &self.checksums
    }

    pub(crate) fn lock_table(&self) -> &TableRef {
        &self.lock
    }

    /// `CREATE TABLE IF NOT EXISTS <name>[ ON CLUSTER 'c']`.
    fn create_head(&self, table: &TableRef) -> String {
        let on_cluster = self.cluster.as_ref().map(ClusterSql::on_cluster).unwrap_or_default();
        format!("CREATE TABLE IF NOT EXISTS {}{on_cluster}", table.quoted)
    }

    /// `<family>(<args>)`, or its replicated form in cluster mode.
    fn engine(&self, family: &str, args: &str) -> String {
        match &self.cluster {
            Some(cluster) => cluster.engine(family, args),
            None => format!("{family}({args})"),
        }
    }

    // ---- the server ----

    /// What the driver needs to know of the server, in one request (every run, even one with nothing to
    /// do, starts with it): a `version, <server version>` row and a `setting, <name>` row for each of
    /// the settings the driver cares about that this server knows.
    pub(crate) fn server_facts() -> &'static str {
        "SELECT 'version', version() UNION ALL SELECT 'setting', name FROM system.settings WHERE name IN \
         ('mutations_sync', 'async_insert', 'use_query_cache', 'distributed_ddl_output_mode') FORMAT TabSeparated"
    }

    // ---- goose's version table ----

    /// goose's DDL, as its ClickHouse dialect writes it.
    pub(crate) fn create_version_table(&self) -> String {
        format!(
            "{} (\n  version_id Int64,\n  is_applied UInt8,\n  date Date default now(),\n  tstamp DateTime default now()\n) ENGINE = {} ORDER BY (date)",
            self.create_head(&self.version),
            self.engine("MergeTree", "")
        )
    }

    /// goose's Provider probes the table with version 0.
    pub(crate) fn count_zero_rows(&self) -> String {
        format!("SELECT count() FROM {} WHERE version_id = 0 FORMAT TabSeparated", self.version.quoted)
    }

    /// goose's insert, always with `is_applied` true.
    pub(crate) fn insert_version(&self, version: i64) -> String {
        format!("INSERT INTO {} (version_id, is_applied) VALUES ({version}, 1)", self.version.quoted)
    }

    /// goose's delete: a mutation that waits until it is done.
    pub(crate) fn delete_version_sync(&self, version: i64) -> String {
        format!("ALTER TABLE {} DELETE WHERE version_id = {version} SETTINGS mutations_sync = 2", self.version.quoted)
    }

    /// The same mutation for servers without `mutations_sync` (18.x): it returns at once and is waited for
    /// through [`Sql::pending_mutations`].
    pub(crate) fn delete_version_async(&self, version: i64) -> String {
        format!("ALTER TABLE {} DELETE WHERE version_id = {version}", self.version.quoted)
    }

    /// Unfinished mutations of the version table; reads wait for 0 so that they see completed deletes.
    pub(crate) fn pending_mutations(&self) -> String {
        format!("{} FORMAT TabSeparated", self.pending_mutations_count())
    }

    fn pending_mutations_count(&self) -> String {
        format!(
            "SELECT count() FROM system.mutations WHERE database = {} AND table = {} AND is_done = 0",
            self.version.database_literal, self.version.table_literal
        )
    }

    /// goose's list (`ORDER BY version_id DESC`), newest row of a version first, with `tstamp` for status
    /// and, on every row, the count of [`Sql::pending_mutations`]: a read that finds none pending is
    /// complete in the same round trip (the subquery runs before the table's parts are read).
    pub(crate) fn list_versions(&self) -> String {
        format!(
            "SELECT version_id, is_applied, tstamp, ({}) FROM {} ORDER BY version_id DESC, tstamp DESC FORMAT TabSeparated",
            self.pending_mutations_count(),
            self.version.quoted
        )
    }

    // ---- progress of unfinished migrations ----

    /// An append-only log: the newest row (highest `seq`) of a version wins, `done = 0` means cleared, and
    /// ReplacingMergeTree folds old rows away in the background. No mutation is ever needed.
    pub(crate) fn create_progress_table(&self) -> String {
        format!(
            "{} (\n  version_id Int64,\n  direction String,\n  done UInt32,\n  total UInt32,\n  checksum String,\n  seq UInt64,\n  updated DateTime DEFAULT now()\n) ENGINE = {} ORDER BY (version_id)",
            self.create_head(&self.progress),
            self.engine("ReplacingMergeTree", "seq")
        )
    }

    pub(crate) fn save_progress(
        &self,
        version: i64,
        direction: &str,
        done: u64,
        total: u64,
        checksum: &str,
        seq: u64,
    ) -> String {
        format!(
            "INSERT INTO {} (version_id, direction, done, total, checksum, seq) VALUES ({version}, {}, {done}, {total}, {}, {seq})",
            self.progress.quoted,
            quote_string(direction),
            quote_string(checksum)
        )
    }

    pub(crate) fn list_progress(&self) -> String {
        format!(
            "SELECT version_id, d, n, tot, ck FROM (SELECT version_id, argMax(direction, seq) AS d, argMax(done, seq) AS n, argMax(total, seq) AS tot, argMax(checksum, seq) AS ck FROM {} GROUP BY version_id) WHERE n > 0 ORDER BY version_id FORMAT TabSeparated",
            self.progress.quoted
        )
    }

    pub(crate) fn max_progress_seq(&self) -> String {
        format!("SELECT max(seq) FROM {} FORMAT TabSeparated", self.progress.quoted)
    }

    // ---- checksums of applied migrations ----

    /// An append-only log like the progress table's: a version's newest row (highest `seq`) is its
    /// checksum, `deleted = 1` forgets it, so no write needs a mutation.
    pub(crate) fn create_checksum_table(&self) -> String {
        format!(
            "{} (\n  version_id Int64,\n  up_checksum String,\n  down_checksum String,\n  up_statements String,\n  no_transaction UInt8,\n  tool_version String,\n  file_sha256 String,\n  deleted UInt8,\n  seq UInt64,\n  recorded_at DateTime DEFAULT now()\n) ENGINE = {} ORDER BY (version_id)",
            self.create_head(&self.checksums),
            self.engine("ReplacingMergeTree", "seq")
        )
    }

    /// One INSERT of many rows: `(version, Some(row))` records, `(version, None)` forgets.
    pub(crate) fn write_checksums(&self, rows: &[(i64, Option<&migrate_core::ChecksumRow>, u64)]) -> String {
        let values: Vec<String> = rows
            .iter()
            .map(|(version, row, seq)| match row {
                Some(row) => format!(
                    "({version}, {}, {}, {}, {}, {}, {}, 0, {seq})",
                    quote_string(&row.up),
                    quote_string(&row.down),
                    quote_string(&row.up_statements),
                    u8::from(row.no_transaction),
                    quote_string(&row.tool_version),
                    quote_string(&row.file_digest)
                ),
                None => format!("({version}, '', '', '', 0, '', '', 1, {seq})"),
            })
            .collect();
        format!(
            "INSERT INTO {} (version_id, up_checksum, down_checksum, up_statements, no_transaction, tool_version, file_sha256, deleted, seq) VALUES {}",
            self.checksums.quoted,
            values.join(", ")
        )
    }

    pub(crate) fn list_checksums(&self) -> String {
        format!(
            "SELECT version_id, u, d, s, n, t, f FROM (SELECT version_id, argMax(up_checksum, seq) AS u, argMax(down_checksum, seq) AS d, argMax(up_statements, seq) AS s, argMax(no_transaction, seq) AS n, argMax(tool_version, seq) AS t, argMax(file_sha256, seq) AS f, argMax(deleted, seq) AS x FROM {} GROUP BY version_id) WHERE x = 0 ORDER BY version_id FORMAT TabSeparated",
            self.checksums.quoted
        )
    }

    // ---- the lease lock ----

    /// One row per write; a claim's state is the fold of its rows (see the `lock` module).
    pub(crate) fn create_lock_table(&self) -> String {
        format!(
            "{} (\n  token String,\n  owner String,\n  ticket UInt64,\n  seq UInt32,\n  held UInt8,\n  released UInt8,\n  expires DateTime,\n  updated DateTime DEFAULT now()\n) ENGINE = {} ORDER BY (token)",
            self.create_head(&self.lock),
            self.engine("ReplacingMergeTree", "seq")
        )
    }

    /// A claim, renewal or release row; the expiry is the server's clock plus the lease.
    pub(crate) fn write_lock_row(&self, row: &LockRow<'_>) -> String {
        format!(
            "INSERT INTO {} (token, owner, ticket, seq, held, released, expires) SELECT {}, {}, {}, {}, {}, {}, now() + {}",
            self.lock.quoted,
            quote_string(row.token),
            quote_string(row.owner),
            row.ticket,
            row.seq,
            u8::from(row.held),
            u8::from(row.released),
            row.lease_secs
        )
    }

    /// The live claims (not released, not expired by the server's clock), in priority order:
    /// `token, owner, ticket, held, seconds until expiry`.
    pub(crate) fn live_claims(&self) -> String {
        format!(
            "SELECT token, o, tk, h, toInt64(e) - toInt64(now()) FROM (SELECT token, any(owner) AS o, min(ticket) AS tk, max(held) AS h, max(released) AS r, max(expires) AS e FROM {} GROUP BY token) WHERE r = 0 AND e > now() ORDER BY tk, token FORMAT TabSeparated",
            self.lock.quoted
        )
    }
}

/// Every SQL text the driver sends for `table` (with sample values), in an order that runs as a scenario
/// on an empty database: `(what it is, SQL)`. `scripts/chdb/check.py` runs them on a current ClickHouse.
pub fn sql_catalog(table: &TableName, default_database: &str) -> Vec<(&'static str, String)> {
    let sql = Sql::new(table, default_database);
    let row = |seq: u32, held: bool, released: bool| LockRow {
        token: "host-1-0a1b2c3d-1",
        owner: "host-1-0a1b2c3d",
        ticket: 1_700_000_000_000_000_000,
        seq,
        held,
        released,
        lease_secs: 30,
    };
    let checksum_row = migrate_core::ChecksumRow {
        version: migrate_core::Version::new(1).unwrap_or_else(|| unreachable!()),
        up: "0f1e".to_owned(),
        down: "a'b\\c".to_owned(),
        up_statements: "0011aabb".to_owned(),
        no_transaction: true,
        tool_version: "migrate 0.1.0".to_owned(),
        file_digest: "9a8b".to_owned(),
    };
    vec![
        ("server facts", Sql::server_facts().to_owned()),
        ("create version table", sql.create_version_table()),
        ("count zero rows", sql.count_zero_rows()),
        ("insert version 0", sql.insert_version(0)),
        ("insert version", sql.insert_version(20_240_101_000_000)),
        ("insert version", sql.insert_version(20_240_102_000_000)),
        ("list versions", sql.list_versions()),
        ("delete version (mutations_sync)", sql.delete_version_sync(20_240_102_000_000)),
        ("delete version (plain mutation)", sql.delete_version_async(20_240_101_000_000)),
        ("pending mutations", sql.pending_mutations()),
        ("list versions", sql.list_versions()),
        ("create progress table", sql.create_progress_table()),
        ("max progress seq", sql.max_progress_seq()),
        ("save progress", sql.save_progress(20_240_103_000_000, "up", 1, 3, "0f1e", 1)),
        ("save progress", sql.save_progress(20_240_103_000_000, "up", 2, 3, "a'b\\c", 2)),
        ("list progress", sql.list_progress()),
        ("clear progress", sql.save_progress(20_240_103_000_000, "", 0, 0, "", 3)),
        ("list progress", sql.list_progress()),
        ("create checksum table", sql.create_checksum_table()),
        (
            "record checksums",
            sql.write_checksums(&[
                (20_240_101_000_000, Some(&checksum_row), 1),
                (20_240_102_000_000, Some(&checksum_row), 2),
            ]),
        ),
        ("forget a checksum", sql.write_checksums(&[(20_240_102_000_000, None, 3)])),
        ("list checksums", sql.list_checksums()),
        ("create lock table", sql.create_lock_table()),
        ("claim lock", sql.write_lock_row(&row(0, false, false))),
        ("live claims", sql.live_claims()),
        ("renew lock (held)", sql.write_lock_row(&row(1, true, false))),
        ("release lock", sql.write_lock_row(&row(u32::MAX, true, true))),
        ("live claims", sql.live_claims()),
    ]
}

/// Every SQL text the driver sends in cluster mode for `table` on the cluster `cluster` (with sample
/// values): the replicated forms of the tables and the reads of the system tables, `(what it is, SQL)`.
/// They need a cluster with ZooKeeper, so they are checked by the end-to-end tests, not by `check.py`.
pub fn cluster_sql_catalog(
    table: &TableName,
    default_database: &str,
    cluster: &ClusterConfig,
) -> Vec<(&'static str, String)> {
    let sql = Sql::for_cluster(table, default_database, cluster);
    let cluster_sql = ClusterSql::new(cluster);
    let zookeeper_path = "/clickhouse/tables/migrate/c/db/goose_db_version";
    vec![
        ("cluster hosts", cluster_sql.cluster_hosts()),
        ("table engine", ClusterSql::table_engine(sql.version_table())),
        ("replica state", ClusterSql::replica_state(sql.version_table())),
        ("create version table", sql.create_version_table()),
        ("create progress table", sql.create_progress_table()),
        ("create lock table", sql.create_lock_table()),
        ("sync replica", ClusterSql::sync_replica(sql.version_table())),
        ("unfinished mutations", ClusterSql::unfinished_mutations(sql.version_table(), zookeeper_path)),
        ("replica names", ClusterSql::replica_names(zookeeper_path)),
        ("replica nodes", ClusterSql::replica_nodes(zookeeper_path, "01-a")),
        ("DDL queue mark", cluster_sql.queue_mark()),
        ("DDL tasks from a mark", cluster_sql.tasks_from(42)),
        ("DDL task", cluster_sql.task("query-0000000042")),
        ("DDL task finished hosts", cluster_sql.task_children("query-0000000042", "finished")),
        ("DDL task active hosts", cluster_sql.task_children("query-0000000042", "active")),
        ("insert version", sql.insert_version(20_240_101_000_000)),
        ("delete version (plain mutation)", sql.delete_version_async(20_240_101_000_000)),
        ("list versions", sql.list_versions()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_rows_for_dry_runs() {
        let table = TableName::parse("analytics.versions").unwrap();
        let version = Version::new(7).unwrap();
        assert_eq!(
            version_row_sql(&table, version, Direction::Up),
            "INSERT INTO `analytics`.`versions` (version_id, is_applied) VALUES (7, 1)"
        );
        assert_eq!(
            version_row_sql(&table, version, Direction::Down),
            "ALTER TABLE `analytics`.`versions` DELETE WHERE version_id = 7"
        );
    }

    /// The exact SQL the driver sends: a change here is a change to what runs on users' servers, and
    /// `scripts/chdb/check.py` runs the same texts on a current engine.
    #[test]
    fn catalog() {
        let text: String = sql_catalog(&TableName::goose_default(), "default")
            .iter()
            .map(|(what, sql)| format!("-- {what}\n{sql}\n"))
            .collect();
        insta::assert_snapshot!(text);
    }

    /// The exact SQL of cluster mode.
    #[test]
    fn cluster_catalog() {
        let cluster = ClusterConfig::new("test_cluster").unwrap();
        let text: String = cluster_sql_catalog(&TableName::goose_default(), "analytics", &cluster)
            .iter()
            .map(|(what, sql)| format!("-- {what}\n{sql}\n"))
            .collect();
        insta::assert_snapshot!(text);
    }

    #[test]
    fn qualified_names_reach_every_table() {
        let sql = Sql::new(&TableName::parse("analytics.versions").unwrap(), "default");
        assert!(sql.pending_mutations().contains("database = 'analytics' AND table = 'versions'"));
        assert!(sql.list_progress().contains("FROM `analytics`.`versions_progress`"));
        assert!(sql.live_claims().contains("FROM `analytics`.`versions_lock`"));
    }
}
