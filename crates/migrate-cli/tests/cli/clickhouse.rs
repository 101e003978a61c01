//! The binary against the real ClickHouse (`scripts/servers.sh up`): goose's invocation with every DSN form
//! goose users have, status and down, the URL built from parts for a user whose password holds every
//! character a URL must encode, and that password never printed.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::{fixture, migrate};

/// The single server's HTTP interface (`MIGRATE_TEST_CH_URL`, default the local one).
pub(crate) fn ch_url() -> String {
    #[allow(clippy::disallowed_methods)] // Tests read their server from the environment.
    std::env::var("MIGRATE_TEST_CH_URL").unwrap_or_else(|_| "http://127.0.0.1:8123/".to_owned())
}

/// The user scripts/clickhouse-server/zz-migrate-users.xml defines.
const USER: &str = "migrate_pw";
const PASSWORD: &str = "p%41:@#?/ +wä&=";

pub(crate) fn ch(sql: &str) -> String {
    let output = std::process::Command::new("curl")
        .args(["-sS", "--fail-with-body", "--data-binary", sql, &ch_url()])
        .output()
        .expect("running curl");
    let body = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "ClickHouse at {} refused {sql}: {body}", ch_url());
    body
}

pub(crate) struct ChDb {
    pub(crate) name: String,
}

impl ChDb {
    pub(crate) fn new(label: &str) -> ChDb {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!("mt_cli_{label}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        ch(&format!("DROP DATABASE IF EXISTS {name}"));
        ch(&format!("CREATE DATABASE {name}"));
        ChDb { name }
    }

    pub(crate) fn versions(&self) -> Vec<String> {
        ch(&format!("SELECT version_id FROM {}.goose_db_version WHERE version_id > 0 ORDER BY version_id", self.name))
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for ChDb {
    fn drop(&mut self) {
        ch(&format!("DROP DATABASE IF EXISTS {}", self.name));
    }
}

#[test]
fn goose_invocation_with_each_dsn_form() {
    let dir = fixture("clickhouse");
    let dir = dir.to_str().unwrap();
    let env = [("CH_PREFIX", "env")];
    let db = ChDb::new("forms");
    // clickhouse-go's DSNs (native port 9000 mapped to the HTTP port) and the HTTP form.
    let dsns = [
        format!("clickhouse://default@127.0.0.1:9000/{}", db.name),
        format!("tcp://127.0.0.1:9000?username=default&database={}", db.name),
        format!("{}?database={}", ch_url(), db.name),
    ];
    migrate(&["-dir", dir, "clickhouse", &dsns[0], "up-by-one"], &env).expect(0);
    migrate(&["-dir", dir, "clickhouse", &dsns[1], "up-to", "3"], &env).expect(0);
    let run = migrate(&["-dir", dir, "clickhouse", &dsns[2], "up"], &env).expect(0);
    assert!(run.stderr.contains("goose: successfully migrated database to version: 6"), "{}", run.stderr);
    assert_eq!(db.versions(), ["1", "2", "3", "4", "5", "6"]);
    let run = migrate(&["-dir", dir, "clickhouse", &dsns[0], "status"], &env).expect(0);
    assert_eq!(run.stderr.lines().filter(|l| l.contains(" -- 0000")).count(), 6, "{}", run.stderr);
    assert!(!run.stderr.contains("Pending"), "{}", run.stderr);
    migrate(&["-dir", dir, "clickhouse", &dsns[0], "down-to", "2"], &env).expect(0);
    assert_eq!(db.versions(), ["1", "2"]);
    let run = migrate(&["-dir", dir, "clickhouse", &dsns[1], "version"], &env).expect(0);
    assert!(run.stderr.contains("goose: version 2"), "{}", run.stderr);
}

#[test]
fn url_from_parts_with_every_special_character() {
    let dir = fixture("clickhouse");
    let dir = dir.to_str().unwrap();
    let db = ChDb::new("parts");
    let flags = [
        "up-to",
        "2",
        "--dir",
        dir,
        "--driver",
        "clickhouse",
        "--db-host",
        "127.0.0.1",
        "--db-port",
        "8123",
        "--db-user",
        USER,
        "--db-password-env",
        "CH_SECRET",
        "--db-name",
        &db.name,
    ];
    let run = migrate(&flags, &[("CH_SECRET", PASSWORD)]).expect(0);
    assert!(!run.stderr.contains(PASSWORD) && !run.stdout.contains(PASSWORD));
    assert_eq!(db.versions(), ["1", "2"]);
    // The variables jobs already set.
    let env = [
        ("CLICKHOUSE_HOST", "127.0.0.1"),
        ("CLICKHOUSE_PORT", "8123"),
        ("CLICKHOUSE_USERNAME", USER),
        ("CLICKHOUSE_PASSWORD", PASSWORD),
        ("CLICKHOUSE_DATABASE", db.name.as_str()),
        ("CH_PREFIX", "env"),
    ];
    migrate(&["up", "--dir", dir, "--driver", "clickhouse"], &env).expect(0);
    assert_eq!(db.versions(), ["1", "2", "3", "4", "5", "6"]);
    // A wrong password fails clearly, and neither password is printed.
    let run = migrate(&flags, &[("CH_SECRET", "wrong-Secret-123")]).expect(1);
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(PASSWORD) && !text.contains("wrong-Secret-123"), "{text}");
    }
    assert!(run.stderr.contains("193"), "ClickHouse's wrong-password code: {}", run.stderr);
    // The failure names the server it came from, redacted.
    assert!(run.stderr.contains(&format!("migrate run: http://{USER}:xxxxx@127.0.0.1:8123/")), "{}", run.stderr);
}

/// One node of the two-node test cluster (`scripts/servers.sh cluster-up`).
fn cluster_node(variable: &str, default: &str) -> String {
    #[allow(clippy::disallowed_methods)] // Tests read their servers from the environment.
    std::env::var(variable).unwrap_or_else(|_| default.to_owned())
}

fn post(url: &str, sql: &str) -> String {
    let output = std::process::Command::new("curl")
        .args(["-sS", "--fail-with-body", "--data-binary", sql, url])
        .output()
        .expect("running curl");
    let body = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "ClickHouse at {url} refused {sql}: {body}");
    body
}

#[test]
fn cluster_mode_up_through_one_host_status_and_down_through_the_other() {
    let a = cluster_node("MIGRATE_TEST_CH_CLUSTER_A", "http://127.0.0.1:18123/");
    let b = cluster_node("MIGRATE_TEST_CH_CLUSTER_B", "http://127.0.0.1:28123/");
    let cluster = cluster_node("MIGRATE_TEST_CH_CLUSTER_NAME", "test_cluster");
    let name = format!("mt_cli_cluster_{}", std::process::id());
    post(&a, &format!("DROP DATABASE IF EXISTS {name} ON CLUSTER {cluster}"));
    post(&a, &format!("CREATE DATABASE {name} ON CLUSTER {cluster}"));
    let dir = fixture("clickhouse_cluster");
    let dir = dir.to_str().unwrap();
    let env = [("CH_CLUSTER", cluster.as_str()), ("CH_DATABASE", name.as_str())];
    let on = |host: &str| format!("{host}?database={name}");
    // The modern form through host A.
    let run =
        migrate(&["up", "--dir", dir, "--database-url", &on(&a), "--clickhouse-cluster", &cluster], &env).expect(0);
    assert!(run.stderr.contains("successfully migrated database to version: 4"), "{}", run.stderr);
    // goose's form through host B sees every migration applied.
    let run = migrate(&["-dir", dir, "-clickhouse-cluster", &cluster, "clickhouse", &on(&b), "status"], &env).expect(0);
    assert_eq!(run.stderr.lines().filter(|l| l.contains(" -- 0000")).count(), 4, "{}", run.stderr);
    assert!(!run.stderr.contains("Pending"), "{}", run.stderr);
    // Down through B, and A sees it.
    migrate(&["-dir", dir, "-clickhouse-cluster", &cluster, "clickhouse", &on(&b), "down-to", "0"], &env).expect(0);
    let run =
        migrate(&["status", "--dir", dir, "--database-url", &on(&a), "--clickhouse-cluster", &cluster], &env).expect(0);
    assert_eq!(run.stderr.lines().filter(|l| l.contains("Pending")).count(), 4, "{}", run.stderr);
    // The flag is for ClickHouse only, and its companions need it.
    let run = migrate(
        &["up", "--dir", dir, "--database-url", "postgres://x@127.0.0.1/x", "--clickhouse-cluster", &cluster],
        &[],
    );
    assert_ne!(run.code, 0);
    let run = migrate(&["-dir", dir, "-clickhouse-cluster-strict", "clickhouse", &on(&a), "up"], &env);
    assert_eq!(run.code, 2, "{}", run.stderr);
    post(&a, &format!("DROP DATABASE IF EXISTS {name} ON CLUSTER {cluster}"));
}

/// Our users' Job environment names the native port (CLICKHOUSE_PORT=9000): from the variables, from
/// `--db-port` and in a clickhouse:// DSN it maps to the HTTP port, and the target line says so.
#[test]
fn native_ports_map_to_http_everywhere() {
    let url = ch_url();
    let host = url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix(":8123/"))
        .unwrap_or_else(|| panic!("this test needs the server's HTTP interface on port 8123, not {url}"));
    let db = ChDb::new("native_port");
    let dir = fixture("clickhouse");
    let dir = dir.to_str().unwrap();
    let mapped = "native port 9000 mapped to HTTP port 8123";
    let vars = [
        ("CLICKHOUSE_HOST", host),
        ("CLICKHOUSE_PORT", "9000"),
        ("CLICKHOUSE_USERNAME", "default"),
        ("CLICKHOUSE_DATABASE", db.name.as_str()),
    ];
    let run = migrate(&["status", "--dir", dir], &vars).expect(0);
    let line = run.stderr.lines().next().unwrap_or_default();
    assert!(line.contains(&format!("using ClickHouse http://default@{host}:8123/{}", db.name)), "{line}");
    assert!(line.contains(&format!("(from the CLICKHOUSE_* variables; {mapped}")), "{line}");

    let flags = ["status", "--dir", dir, "--driver", "clickhouse", "--db-host", host, "--db-port", "9000"];
    let run = migrate(&[&flags[..], &["--db-name", &db.name]].concat(), &[]).expect(0);
    assert!(run.stderr.contains(&format!("(from the --db-* flags; {mapped}")), "{}", run.stderr);

    let dsn = format!("clickhouse://{host}:9000/{}", db.name);
    let run = migrate(&["-dir", dir, "clickhouse", &dsn, "status"], &[]).expect(0);
    assert!(run.stderr.contains(&format!("(from the DBSTRING argument; {mapped}")), "{}", run.stderr);
    drop(db);
}

/// Both drivers' variables set and nothing else to decide: refused, not guessed.
#[test]
fn both_drivers_variables_are_refused() {
    let vars = [("POSTGRES_HOST", "pg"), ("CLICKHOUSE_HOST", "ch")];
    let run = migrate(&["status", "--dir", "."], &vars).expect(2);
    assert!(run.stderr.contains("both POSTGRES_HOST and CLICKHOUSE_HOST are set: pass --driver"), "{}", run.stderr);
}

/// baseline and the marks on ClickHouse: goose's rows written without running anything.
#[test]
fn baseline_and_marks_on_clickhouse() {
    let db = ChDb::new("baseline");
    let dir = crate::support::TempDir::new("ch_baseline");
    for (name, table) in [("00001_a.sql", "a"), ("00002_b.sql", "b"), ("00003_c.sql", "c")] {
        dir.write(name, &format!("-- +goose Up\nCREATE TABLE {table} (id UInt8) ENGINE = Memory;\n"));
    }
    ch(&format!("CREATE TABLE {}.a (id UInt8) ENGINE = Memory", db.name));
    let url = format!("{}?database={}", ch_url(), db.name);
    let tail = ["--dir", dir.path(), "--database-url", url.as_str()];
    let with = |args: &[&'static str]| -> Vec<&str> { args.iter().copied().chain(tail).collect() };
    migrate(&with(&["baseline", "1"]), &[]).expect(0);
    assert_eq!(db.versions(), ["1"]);
    migrate(&with(&["up"]), &[]).expect(0);
    assert_eq!(db.versions(), ["1", "2", "3"]);
    migrate(&with(&["mark-rolled-back", "3"]), &[]).expect(0);
    assert_eq!(db.versions(), ["1", "2"]);
    let run = migrate(&with(&["mark-rolled-back", "3"]), &[]).expect(1);
    assert!(run.stderr.contains("version 3 is not applied"), "{}", run.stderr);
}

/// verify on ClickHouse: a migration stopped part-way is a `partial` finding; once it completes, the
/// history verifies clean.
#[test]
fn verify_finds_a_partial_migration() {
    let db = ChDb::new("verify_partial");
    let dir = fixture("clickhouse-failing");
    let url = format!("{}?database={}", ch_url(), db.name);
    let args = |command: &'static str| vec![command, "--dir", dir.to_str().unwrap(), "--database-url", url.as_str()];
    migrate(&args("up"), &[]).expect(1);
    let run = migrate(&[&args("verify")[..], &["--json"]].concat(), &[]).expect(1);
    let document = run.json();
    let kinds: Vec<&str> =
        document["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["partial"], "{}", run.stdout);
}
