//! Guard rails: in cluster mode, a migration that creates something on one host only, or a table whose
//! data stays on one host, leaves the hosts different without any error. Such statements are reported
//! before they are sent: a warning by default, a refusal with [`super::ClusterConfig::strict`].

use super::statement::{shape, Creates, Shape};

/// Engines that keep their data on the host that has the table, besides the non-replicated `*MergeTree`.
const LOCAL_ENGINES: &[&str] = &["Log", "TinyLog", "StripeLog", "Memory", "Set", "Join", "EmbeddedRocksDB"];

/// The problems of one statement, with its shape (so the caller does not lex it twice).
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub(crate) shape: Shape,
    pub(crate) problems: Vec<String>,
}

/// Reads a statement and lists what would leave the cluster's hosts different.
pub(crate) fn check_statement(text: &str) -> Checked {
    let shape = shape(text);
    let mut problems = Vec::new();
    if let Some(creates) = &shape.creates {
        if shape.on_cluster.is_none() {
            problems.push(format!(
                "it creates a {} without ON CLUSTER, so only the host migrate talks to gets it",
                kind(creates)
            ));
        }
        if let Creates::Table { engine: Some(engine) } | Creates::MaterializedView { engine: Some(engine) } = creates {
            if keeps_data_locally(engine) {
                problems.push(format!(
                    "its engine {engine} is not replicated, so each host keeps its own data (use Replicated{})",
                    if engine.ends_with("MergeTree") { engine.as_str() } else { "MergeTree" }
                ));
            }
        }
    }
    Checked { shape, problems }
}

fn kind(creates: &Creates) -> &'static str {
    match creates {
        Creates::Table { .. } => "table",
        Creates::MaterializedView { .. } => "materialized view",
        Creates::Other { kind } => kind,
    }
}

/// Whether a table engine stores rows on its own host only.
fn keeps_data_locally(engine: &str) -> bool {
    let merge_tree =
        engine.ends_with("MergeTree") && !engine.starts_with("Replicated") && !engine.starts_with("Shared");
    merge_tree || LOCAL_ENGINES.contains(&engine)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(sql: &str) -> Vec<String> {
        check_statement(sql).problems
    }

    #[test]
    fn replicated_on_cluster_tables_pass() {
        assert!(problems("CREATE TABLE t ON CLUSTER c (id UInt8) ENGINE = ReplicatedMergeTree('/p/{shard}/t', '{replica}') ORDER BY id").is_empty());
        assert!(problems("CREATE TABLE d ON CLUSTER c AS t ENGINE = Distributed(c, db, t, rand())").is_empty());
        assert!(problems("CREATE VIEW v ON CLUSTER c AS SELECT 1").is_empty());
        assert!(problems("CREATE MATERIALIZED VIEW mv ON CLUSTER c TO dest AS SELECT 1").is_empty());
        assert!(problems("CREATE TEMPORARY TABLE t (id UInt8) ENGINE = Memory").is_empty());
        assert!(problems("INSERT INTO t VALUES (1)").is_empty());
        assert!(problems("ALTER TABLE t ON CLUSTER c ADD COLUMN x UInt8").is_empty());
    }

    #[test]
    fn one_host_statements_are_named() {
        let found = problems("CREATE TABLE t (id UInt8) ENGINE = MergeTree() ORDER BY id");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("creates a table without ON CLUSTER"), "{found:?}");
        assert!(found[1].contains("engine MergeTree is not replicated") && found[1].contains("ReplicatedMergeTree"));
        let found = problems("CREATE TABLE t ON CLUSTER c (id UInt8) ENGINE = ReplacingMergeTree(v) ORDER BY id");
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("use ReplicatedReplacingMergeTree"), "{found:?}");
        let found = problems("CREATE TABLE t ON CLUSTER c (id UInt8) ENGINE = Memory");
        assert!(found[0].contains("engine Memory is not replicated"), "{found:?}");
        let found =
            problems("CREATE MATERIALIZED VIEW mv ON CLUSTER c ENGINE = SummingMergeTree() ORDER BY k AS SELECT 1");
        assert!(found[0].contains("SummingMergeTree"), "{found:?}");
        let found = problems("CREATE DATABASE analytics");
        assert_eq!(found, ["it creates a database without ON CLUSTER, so only the host migrate talks to gets it"]);
    }
}
