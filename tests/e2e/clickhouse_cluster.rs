//! Cluster mode of the ClickHouse driver on the real two-server cluster `test_cluster` (ClickHouse 18.16
//! nodes a and b with ZooKeeper, started by `scripts/servers.sh cluster-up`): up and down through one host
//! with the state read through the other, a statement that fails on one host, a host stopped during a
//! migration, runners on both hosts at once, and the guard rails.
//!
//! The tests take turns (one stops node b, which every other cluster test would notice), and a test that
//! stops node b starts it again on every path, a failing one included.

use std::process::Command as Process;
use std::time::{Duration, Instant};

use migrate_clickhouse::{ChConfig, ChDriver, ChError, ClusterError, HostState};
use migrate_core::{migrate, Command, Migration, Outcome, PlanRequest, RunError, RunErrorKind, RunEvent, RunOptions};
use migrate_core::{ProgressStore, VersionStore};

use crate::clickhouse::harness::states;
use crate::support::{fixtures, load, steps, TempDir};

use harness::{Cluster, Node};

/// The tests of this module run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_and_down_through_a_with_the_state_read_through_b() {
    let _turn = SERIAL.lock().await;
    let db = Cluster::new("updown").await;
    let migrations = load(&fixtures().join("clickhouse_cluster"));
    let mut a = db.driver(Node::A, db.config()).await;
    let mut b = db.driver(Node::B, db.config()).await;
    assert_eq!(states(&mut b, &migrations).await, ["1 Pending", "2 Pending", "3 Pending", "4 Pending"]);

    let started = Instant::now();
    let outcome = run(&db.name, &mut a, &migrations, Command::Up).await.unwrap();
    eprintln!("cluster: 4 migrations up through a in {:?}", started.elapsed());
    assert_eq!(steps(&outcome), ["up 1", "up 2", "up 3", "up 4"]);
    // At once, through the other host: the version table, the DDL and the data.
    assert_eq!(states(&mut b, &migrations).await, ["1 applied", "2 applied", "3 applied", "4 applied"]);
    for node in [Node::A, Node::B] {
        assert_eq!(db.column(node, "SELECT max(version_id) FROM goose_db_version").await, ["4"], "{node:?}");
        assert_eq!(db.engine(node, "goose_db_version").await, "ReplicatedMergeTree", "{node:?}");
        assert!(db.has_table(node, "events_by_kind").await, "{node:?}");
        assert_eq!(db.column(node, "SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = 'events' AND name = 'note'").await, ["1"]);
    }
    db.exec(Node::B, "SYSTEM SYNC REPLICA events").await;
    assert_eq!(db.column(Node::B, "SELECT n FROM events_by_kind WHERE kind = 'signup'").await, ["1"]);

    // Down through a; b sees each rollback at once (no quorum insert blocks the delete, and the
    // reader waits for the mutation on its replica).
    let outcome = run(&db.name, &mut a, &migrations, Command::Down).await.unwrap();
    assert_eq!(steps(&outcome), ["down 4"]);
    assert_eq!(states(&mut b, &migrations).await, ["1 applied", "2 applied", "3 applied", "4 Pending"]);
    assert!(!db.has_table(Node::B, "events_by_kind").await);
    let outcome = run(&db.name, &mut a, &migrations, Command::DownTo(1)).await.unwrap();
    assert_eq!(steps(&outcome), ["down 3", "down 2"]);
    assert_eq!(states(&mut b, &migrations).await, ["1 applied", "2 Pending", "3 Pending", "4 Pending"]);

    // Up again through b, read through a.
    let outcome = run(&db.name, &mut b, &migrations, Command::Up).await.unwrap();
    assert_eq!(steps(&outcome), ["up 2", "up 3", "up 4"]);
    assert_eq!(states(&mut a, &migrations).await, ["1 applied", "2 applied", "3 applied", "4 applied"]);
    // Redo writes goose's identical row for 4 within the same second: it must not be deduplicated away.
    let outcome = run(&db.name, &mut a, &migrations, Command::Redo).await.unwrap();
    assert_eq!(steps(&outcome), ["down 4", "up 4"]);
    assert_eq!(states(&mut b, &migrations).await, ["1 applied", "2 applied", "3 applied", "4 applied"]);
    assert_eq!(db.versions(Node::B).await, ["0:1", "1:1", "2:1", "3:1", "4:1"]);

    let outcome = run(&db.name, &mut b, &migrations, Command::Reset).await.unwrap();
    assert_eq!(steps(&outcome), ["down 4", "down 3", "down 2", "down 1"]);
    assert_eq!(db.versions(Node::A).await, ["0:1"]);
    assert!(!db.has_table(Node::A, "events").await && !db.has_table(Node::B, "events").await);
    assert!(a.list_progress().await.unwrap().is_empty());
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_that_fails_on_one_host_names_that_host() {
    let _turn = SERIAL.lock().await;
    let db = Cluster::new("onehost").await;
    // b already has a table of that name, so the ON CLUSTER create fails there and succeeds on a.
    db.exec(Node::B, "CREATE TABLE clash (id UInt8) ENGINE = Memory").await;
    let dir = TempDir::new("cluster-onehost");
    let create = |if_not_exists: &str| {
        format!(
            "-- +goose Up\nSELECT 1;\nCREATE TABLE {if_not_exists}clash ON CLUSTER {} (id UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{{database}}/{{table}}', '{{replica}}') ORDER BY id;\n-- +goose Down\nDROP TABLE clash ON CLUSTER {};\n",
            harness::cluster_name(),
            harness::cluster_name()
        )
    };
    dir.write("00001_clash.sql", &create(""));
    let mut a = db.driver(Node::A, db.config()).await;
    let error = run(&db.name, &mut a, &load(&dir.0), Command::Up).await.unwrap_err();
    let text = error.to_string();
    eprintln!("{text}");
    let RunErrorKind::Statement { index, source, .. } = &error.kind else { panic!("{error}") };
    assert_eq!(*index, 2, "{text}");
    let Some(ChError::ClusterDdl { report, .. }) = source.downcast_ref::<ChError>() else { panic!("{text}") };
    let b = harness::host(Node::B);
    let failed = report.hosts.iter().find(|h| h.host == b).unwrap_or_else(|| panic!("{report:?}"));
    assert!(
        matches!(&failed.state, HostState::Failed { code: Some(57), message } if message.contains("already exists")),
        "{report:?}"
    );
    assert!(report.hosts.iter().any(|h| h.host == harness::host(Node::A) && h.state == HostState::Done), "{report:?}");
    assert!(text.contains(&format!("failed on {b} (error 57")), "{text}");
    assert!(text.contains("done on") && text.contains("is not counted as done"), "{text}");
    // Not recorded, and statement 2 not counted as done: status through b shows 1 of 2 statements.
    let mut through_b = db.driver(Node::B, db.config()).await;
    assert_eq!(states(&mut through_b, &load(&dir.0)).await, ["1 Partial 1/2 up"]);

    // Fixed by hand on b, and made repeatable: the run resumes at statement 2 and completes.
    db.exec(Node::B, "DROP TABLE clash").await;
    dir.write("00001_clash.sql", &create("IF NOT EXISTS "));
    let outcome = run(&db.name, &mut a, &load(&dir.0), Command::Up).await.unwrap();
    assert_eq!(steps(&outcome), ["up 1"]);
    assert_eq!(db.engine(Node::B, "clash").await, "ReplicatedMergeTree");
    assert_eq!(states(&mut through_b, &load(&dir.0)).await, ["1 applied"]);
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_stopped_during_a_migration_fails_in_time_and_the_run_resumes_after_it_returns() {
    let _turn = SERIAL.lock().await;
    let db = Cluster::new("hostdown").await;
    let dir = TempDir::new("cluster-hostdown");
    let cluster = harness::cluster_name();
    let table = |name: &str| {
        format!("CREATE TABLE IF NOT EXISTS {name} ON CLUSTER {cluster} (id UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{{database}}/{{table}}', '{{replica}}') ORDER BY id;")
    };
    dir.write(
        "00001_first.sql",
        &format!("-- +goose Up\n{}\n-- +goose Down\nDROP TABLE first ON CLUSTER {cluster};\n", table("first")),
    );
    dir.write(
        "00002_second.sql",
        &format!(
            "-- +goose Up\nINSERT INTO first VALUES (1);\n{}\nCREATE VIEW IF NOT EXISTS second_ids ON CLUSTER {cluster} AS SELECT id FROM {}.second;\n-- +goose Down\nSELECT 1;\n",
            table("second"),
            db.name
        ),
    );
    let mut config = db.config();
    let timeout = Duration::from_secs(3);
    config.cluster.as_mut().unwrap().ddl_timeout = timeout;
    let mut a = db.driver(Node::A, config).await;
    run(&db.name, &mut a, &load(&dir.0), Command::UpByOne).await.unwrap();

    // Node b stops just before statement 2 of 00002 (the second ON CLUSTER create).
    let mut node_b = harness::NodeB::running();
    let started = Instant::now();
    let request = PlanRequest { command: Command::Up, allow_missing: false, no_versioning: false };
    let migrations = load(&dir.0);
    let mut stopped_at = None;
    let error = migrate(&mut a, &migrations, &request, &RunOptions::default(), &|_| None, &mut |event| {
        if let RunEvent::Statement { step, index: 1 } = event {
            if step.version().get() == 2 && stopped_at.is_none() {
                node_b.stop();
                stopped_at = Some(Instant::now());
            }
        }
    })
    .await
    .unwrap_err();
    let failed_after = stopped_at.expect("node b was stopped").elapsed();
    let text = error.to_string();
    eprintln!("host down: failed {failed_after:?} after node b stopped (whole run {:?}): {text}", started.elapsed());
    assert!(failed_after < timeout + Duration::from_secs(4), "not timely: {failed_after:?}");
    let RunErrorKind::Statement { index, source, .. } = &error.kind else { panic!("{error}") };
    assert_eq!(*index, 2, "{text}");
    let Some(ChError::ClusterDdl { report, server }) = source.downcast_ref::<ChError>() else { panic!("{text}") };
    assert!(report.task.is_some(), "{report:?}");
    assert_eq!(server.as_ref().and_then(|s| s.code()), Some(159), "{text}");
    let state_of = |node| report.hosts.iter().find(|h| h.host == harness::host(node)).map(|h| h.state.clone());
    assert_eq!(state_of(Node::B), Some(HostState::NoAnswer), "{report:?}");
    assert_eq!(state_of(Node::A), Some(HostState::Done), "{report:?}");
    assert!(text.contains(&format!("no answer from {}", harness::host(Node::B))), "{text}");
    assert_eq!(states(&mut a, &migrations).await, ["1 applied", "2 Partial 1/3 up"]);

    // While b is down, a new run cannot take the lock (its claims need every replica) and says why.
    let started = Instant::now();
    let error = run(&db.name, &mut a, &migrations, Command::Up).await.unwrap_err();
    let text = error.to_string();
    assert!(started.elapsed() < timeout + Duration::from_secs(4), "not timely: {:?}", started.elapsed());
    assert!(
        text.contains("taking the migration lock failed") && text.contains("not active: 01-b (127.0.0.1:29000)"),
        "{text}"
    );

    // b returns (and runs the queued create); the run resumes at statement 2 and completes.
    node_b.start();
    let mut a = db.driver(Node::A, db.config()).await;
    let outcome = run(&db.name, &mut a, &migrations, Command::Up).await.unwrap();
    assert_eq!(steps(&outcome), ["up 2"]);
    let mut b = db.driver(Node::B, db.config()).await;
    assert_eq!(states(&mut b, &migrations).await, ["1 applied", "2 applied"]);
    assert!(db.has_table(Node::B, "second_ids").await);
    db.exec(Node::B, "SYSTEM SYNC REPLICA first").await;
    assert_eq!(db.column(Node::B, "SELECT count() FROM first").await, ["1"], "statement 1 ran once");
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn runners_on_both_hosts_apply_each_migration_once() {
    let _turn = SERIAL.lock().await;
    let db = Cluster::new("race").await;
    let cluster = harness::cluster_name();
    db.exec(
        Node::A,
        &format!("CREATE TABLE applied_log ON CLUSTER {cluster} (version Int64, nonce UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{{database}}/{{table}}', '{{replica}}') ORDER BY version"),
    )
    .await;
    // Each migration creates a table without IF NOT EXISTS (a second run fails) and logs one row
    // (random, so replication's deduplication cannot hide a second insert).
    let dir = TempDir::new("cluster-race");
    let count = 8;
    for v in 1..=count {
        dir.write(
            &format!("{v:05}_m{v}.sql"),
            &format!("-- +goose Up\nCREATE TABLE t{v} ON CLUSTER {cluster} (id UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{{database}}/{{table}}', '{{replica}}') ORDER BY id;\nINSERT INTO applied_log SELECT {v}, rand64();\n-- +goose Down\nDROP TABLE t{v} ON CLUSTER {cluster};\n"),
        );
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for node in [Node::A, Node::B, Node::A, Node::B] {
        let (spec, name) = (db.spec(node), db.name.clone());
        let (path, config) = (dir.0.clone(), db.config());
        tasks.push(tokio::spawn(async move {
            let mut driver = ChDriver::connect(&spec, config).await.unwrap();
            run(&name, &mut driver, &load(&path), Command::Up).await.map(|o| o.report.results.len())
        }));
    }
    let mut applied = 0;
    for task in tasks {
        applied += task.await.unwrap().unwrap_or_else(|e| panic!("a runner failed: {e}"));
    }
    eprintln!("4 runners on 2 hosts applied {count} migrations in {:?}", started.elapsed());
    assert_eq!(applied, count);
    db.exec(Node::B, "SYSTEM SYNC REPLICA applied_log").await;
    assert_eq!(db.column(Node::B, "SELECT count() FROM applied_log").await, [count.to_string()]);
    assert_eq!(db.column(Node::B, "SELECT uniqExact(version) FROM applied_log").await, [count.to_string()]);
    assert_eq!(db.versions(Node::A).await.len(), count + 1);
    assert_eq!(db.versions(Node::B).await.len(), count + 1);
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_lock_excludes_across_hosts() {
    let _turn = SERIAL.lock().await;
    let db = Cluster::new("exclusion").await;
    let inside = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for node in [Node::A, Node::B, Node::A, Node::B] {
        let holds = crate::clickhouse::harness::hold_in_turns(db.spec(node), db.config(), 4, inside.clone());
        tasks.push(tokio::spawn(holds));
    }
    for task in tasks {
        task.await.unwrap();
    }
    eprintln!("4 drivers on 2 hosts took the lock 16 times in {:?}", started.elapsed());
    let live =
        "SELECT count() FROM (SELECT token, max(released) AS r FROM goose_db_version_lock GROUP BY token) WHERE r = 0";
    db.exec(Node::B, "SYSTEM SYNC REPLICA goose_db_version_lock").await;
    assert_eq!(db.column(Node::B, live).await, ["0"]);
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_rails_warn_or_refuse_one_host_tables() {
    let _turn = SERIAL.lock().await;
    let db = Cluster::new("guard").await;
    let dir = TempDir::new("cluster-guard");
    dir.write("00001_local.sql", "-- +goose Up\nCREATE TABLE local_only (id UInt8) ENGINE = MergeTree() ORDER BY id;\n-- +goose Down\nDROP TABLE local_only;\n");
    let mut strict = db.config();
    strict.cluster.as_mut().unwrap().strict = true;
    let mut a = db.driver(Node::A, strict).await;
    let error = run(&db.name, &mut a, &load(&dir.0), Command::Up).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("refused in strict cluster mode: it creates a table without ON CLUSTER"), "{text}");
    assert!(text.contains("its engine MergeTree is not replicated"), "{text}");
    assert!(!db.has_table(Node::A, "local_only").await, "nothing was sent");
    // Without strict mode it is only a warning: the table is created on a alone.
    let mut a = db.driver(Node::A, db.config()).await;
    run(&db.name, &mut a, &load(&dir.0), Command::Up).await.unwrap();
    assert!(db.has_table(Node::A, "local_only").await && !db.has_table(Node::B, "local_only").await);
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_mode_from_the_dsn_and_its_errors() {
    let _turn = SERIAL.lock().await;
    let db = Cluster::new("options").await;
    // The DSN's parameter turns cluster mode on.
    let mut spec = db.spec(Node::A);
    spec.cluster = Some(harness::cluster_name());
    let driver = ChDriver::connect(&spec, ChConfig::default()).await.unwrap();
    assert_eq!(driver.config().cluster.as_ref().map(|c| c.name().to_owned()), Some(harness::cluster_name()));
    // A name the servers do not know, and two names that disagree.
    spec.cluster = Some("no_such_cluster".to_owned());
    let error = ChDriver::connect(&spec, ChConfig::default()).await.unwrap_err();
    assert!(matches!(error, ChError::Cluster(ClusterError::UnknownCluster { .. })), "{error}");
    assert!(error.to_string().contains("no cluster \"no_such_cluster\" in system.clusters"), "{error}");
    let error = ChDriver::connect(&spec, db.config()).await.unwrap_err();
    assert!(matches!(error, ChError::Cluster(ClusterError::Mismatch { .. })), "{error}");
    // A DSN that asks for quorum inserts and sequentially consistent reads for every query: the driver's
    // own writes stay plain (else 18.16 would never apply the rollback's delete) and its reads see them.
    let mut spec = db.spec(Node::A);
    spec.settings.extend(
        [("insert_quorum", "2"), ("select_sequential_consistency", "1")].map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let dir = TempDir::new("cluster-options");
    dir.write("00001_a.sql", "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n");
    let config = ChConfig { mutation_wait: Duration::from_secs(5), ..db.config() };
    let mut quorum_dsn = ChDriver::connect(&spec, config).await.unwrap();
    assert_eq!(steps(&run(&db.name, &mut quorum_dsn, &load(&dir.0), Command::Up).await.unwrap()), ["up 1"]);
    assert_eq!(steps(&run(&db.name, &mut quorum_dsn, &load(&dir.0), Command::Down).await.unwrap()), ["down 1"]);
    assert_eq!(db.versions(Node::B).await, ["0:1"]);
    db.drop().await;
    let db = Cluster::new("options").await;
    // goose's local table where cluster mode expects a replicated one.
    db.exec(Node::A, "CREATE TABLE goose_db_version (version_id Int64, is_applied UInt8, date Date default now(), tstamp DateTime default now()) ENGINE = MergeTree() ORDER BY (date)").await;
    let mut a = db.driver(Node::A, db.config()).await;
    let error = a.list_applied().await.unwrap_err().to_string();
    assert!(error.contains("with engine MergeTree, not a Replicated one"), "{error}");
    db.drop().await;
}

/// Plans and runs one command with the lock on, as the CLI does, with the ENVSUB values of
/// `fixtures/clickhouse_cluster` (the cluster and the test's database).
async fn run(
    database: &str,
    driver: &mut ChDriver,
    migrations: &[Migration],
    command: Command,
) -> Result<Outcome, RunError> {
    let request = PlanRequest { command, allow_missing: false, no_versioning: false };
    let env = |name: &str| match name {
        "CH_CLUSTER" => Some(harness::cluster_name()),
        "CH_DATABASE" => Some(database.to_owned()),
        _ => None,
    };
    migrate(driver, migrations, &request, &RunOptions::default(), &env, &mut |_| {}).await
}

/// The cluster, its nodes and a fresh database on it per test.
mod harness {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use migrate_clickhouse::{ChClient, ChConfig, ChConnSpec, ChDriver, ClusterConfig};
    use migrate_core::VersionStore;

    use super::Process;

    fn env(name: &str, default: &str) -> String {
        #[allow(clippy::disallowed_methods)] // Tests read their servers from the environment.
        std::env::var(name).unwrap_or_else(|_| default.to_owned())
    }

    pub(crate) fn cluster_name() -> String {
        env("MIGRATE_TEST_CH_CLUSTER_NAME", "test_cluster")
    }

    /// A node of the cluster.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Node {
        A,
        B,
    }

    fn url(node: Node) -> String {
        match node {
            Node::A => env("MIGRATE_TEST_CH_CLUSTER_A", "http://127.0.0.1:18123/"),
            Node::B => env("MIGRATE_TEST_CH_CLUSTER_B", "http://127.0.0.1:28123/"),
        }
    }

    /// The node as the cluster configuration (and so a DDL report) names it: `host:native port`.
    pub(crate) fn host(node: Node) -> String {
        match node {
            Node::A => "127.0.0.1:19000".to_owned(),
            Node::B => "127.0.0.1:29000".to_owned(),
        }
    }

    /// A database created `ON CLUSTER` for one test, dropped by `drop`.
    pub(crate) struct Cluster {
        pub(crate) name: String,
        a: ChClient,
        b: ChClient,
    }

    impl Cluster {
        /// Creates `mc_<label>_<pid>_<n>` on every host, dropping a leftover of the same name first.
        pub(crate) async fn new(label: &str) -> Cluster {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let name = format!("mc_{label}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
            let admin = ChClient::new(&ChConnSpec::parse(&url(Node::A)).unwrap()).unwrap();
            let cluster = cluster_name();
            for sql in [
                format!("DROP DATABASE IF EXISTS {name} ON CLUSTER {cluster}"),
                format!("CREATE DATABASE {name} ON CLUSTER {cluster}"),
            ] {
                admin.execute(&sql).await.unwrap_or_else(|e| {
                    panic!(
                        "the ClickHouse cluster at {} failed `{sql}` (run scripts/servers.sh cluster-up): {e}",
                        url(Node::A)
                    )
                });
            }
            let client = |node| ChClient::new(&Cluster::spec_for(node, &name)).unwrap();
            Cluster { a: client(Node::A), b: client(Node::B), name }
        }

        fn spec_for(node: Node, database: &str) -> ChConnSpec {
            let mut spec = ChConnSpec::parse(&url(node)).unwrap();
            spec.database = database.to_owned();
            spec
        }

        pub(crate) fn spec(&self, node: Node) -> ChConnSpec {
            Cluster::spec_for(node, &self.name)
        }

        /// Cluster mode with a DDL timeout short enough for tests.
        pub(crate) fn config(&self) -> ChConfig {
            let mut cluster = ClusterConfig::new(&cluster_name()).unwrap();
            cluster.ddl_timeout = std::time::Duration::from_secs(20);
            ChConfig { cluster: Some(cluster), ..ChConfig::default() }
        }

        pub(crate) async fn driver(&self, node: Node, config: ChConfig) -> ChDriver {
            ChDriver::connect(&self.spec(node), config).await.unwrap()
        }

        fn client(&self, node: Node) -> &ChClient {
            match node {
                Node::A => &self.a,
                Node::B => &self.b,
            }
        }

        pub(crate) async fn exec(&self, node: Node, sql: &str) {
            self.client(node).execute(sql).await.unwrap_or_else(|e| panic!("{node:?}: {sql}: {e}"));
        }

        /// The first column of every row, as text.
        pub(crate) async fn column(&self, node: Node, sql: &str) -> Vec<String> {
            let rows = self
                .client(node)
                .query(&format!("{sql} FORMAT TabSeparated"))
                .await
                .unwrap_or_else(|e| panic!("{node:?}: {sql}: {e}"));
            rows.into_iter().map(|row| row.into_iter().next().unwrap_or_default()).collect()
        }

        /// The version rows as `version:applied`, by version, read through a new driver on `node`.
        pub(crate) async fn versions(&self, node: Node) -> Vec<String> {
            let mut driver = self.driver(node, self.config()).await;
            let mut rows = driver.list_applied().await.unwrap().unwrap_or_default();
            rows.reverse();
            rows.iter().map(|row| format!("{}:{}", row.version, u8::from(row.is_applied))).collect()
        }

        pub(crate) async fn has_table(&self, node: Node, table: &str) -> bool {
            let sql =
                format!("SELECT count() FROM system.tables WHERE database = '{}' AND name = '{table}'", self.name);
            self.column(node, &sql).await == ["1"]
        }

        pub(crate) async fn engine(&self, node: Node, table: &str) -> String {
            let sql = format!("SELECT engine FROM system.tables WHERE database = '{}' AND name = '{table}'", self.name);
            self.column(node, &sql).await.concat()
        }

        pub(crate) async fn drop(self) {
            let sql = format!("DROP DATABASE IF EXISTS {} ON CLUSTER {}", self.name, cluster_name());
            self.a.execute(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    /// Node b, stopped and started through `scripts/servers.sh`; started again when dropped stopped (a
    /// failing test included), so the other tests find the cluster whole.
    pub(crate) struct NodeB {
        stopped: bool,
    }

    impl NodeB {
        pub(crate) fn running() -> NodeB {
            NodeB { stopped: false }
        }

        pub(crate) fn stop(&mut self) {
            self.stopped = true;
            servers_sh("cluster-stop-node");
        }

        pub(crate) fn start(&mut self) {
            servers_sh("cluster-start-node");
            self.stopped = false;
        }
    }

    impl Drop for NodeB {
        fn drop(&mut self) {
            if self.stopped {
                servers_sh("cluster-start-node");
            }
        }
    }

    fn servers_sh(command: &str) {
        let default = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/servers.sh");
        let script = env("MIGRATE_SERVERS_SH", default);
        let output = Process::new(&script).args([command, "b"]).output().unwrap_or_else(|e| panic!("{script}: {e}"));
        assert!(
            output.status.success(),
            "{script} {command} b failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
