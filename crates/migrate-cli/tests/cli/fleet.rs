//! `status --all` and `up --all` against the real servers: a workspace of three PostgreSQL services and
//! one ClickHouse service in two environments (and one service whose server is down), then 200 tenant
//! databases listed by a query, with a failing tenant, and four shards that cover them exactly once.

use std::collections::BTreeMap;

use crate::clickhouse::{ch_url, ChDb};
use crate::support::{admin_exec, filters, fixture, migrate_in, TempDir, TestDb};

fn pg_host_port() -> (String, u16) {
    let options = crate::support::admin_options();
    (options.get_host().to_owned(), options.get_port())
}

/// The targets' names and results of an `--all` JSON document.
fn targets(document: &serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    document["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["target"].as_str().unwrap().to_owned(), t.clone()))
        .collect()
}

#[tokio::test]
async fn a_workspace_of_services_and_environments() {
    let base = format!("mt_ws_{}", std::process::id());
    let (host, port) = pg_host_port();
    let pg_names: Vec<String> =
        ["auth", "billing", "notes"].iter().flat_map(|s| ["dev", "prod"].map(|e| format!("{base}_{s}_{e}"))).collect();
    let pg: Vec<TestDb> = {
        let mut dbs = Vec::new();
        for name in &pg_names {
            admin_exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
            admin_exec(&format!("CREATE DATABASE {name}")).await;
            dbs.push(TestDb { name: name.clone() });
        }
        dbs
    };
    let events_dev = ChDb::new("ws_events_dev");
    let events_prod = ChDb::new("ws_events_prod");
    let root = TempDir::new("workspace");
    let ch_base = ch_url();
    root.write(
        "migrate.toml",
        &format!(
            r#"database_base = "{base}"
[environments.dev]
database = {{ host = "{host}", port = {port}, user = "postgres", name = "{{base}}_{{service}}_dev", params = {{ sslmode = "disable" }} }}
[environments.prod]
database = {{ host = "{host}", port = {port}, user = "postgres", name = "{{base}}_{{service}}_prod", params = {{ sslmode = "disable" }} }}
protected = true

[services.auth]
dir = "{basic}"
[services.billing]
dir = "{examples}"
[services.notes]
dir = "{basic}"
table = "notes_versions"
[services.events]
dir = "{clickhouse}"
[services.events.environments.dev]
database_url = "{ch_base}{events_dev}"
lint = false
[services.events.environments.prod]
database_url = "{ch_base}{events_prod}"
lint = false
[services.legacy]
dir = "{basic}"
[services.legacy.environments.dev]
database_url = "postgres://postgres@127.0.0.1:1/legacy?sslmode=disable&connect_timeout=2"
"#,
            basic = fixture("basic").display(),
            examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/migrations").display(),
            clickhouse = fixture("clickhouse").display(),
            events_dev = events_dev.name,
            events_prod = events_prod.name,
        ),
    );
    let env = [("CH_PREFIX", "ws")];
    // Before: every reachable target has everything pending; the one that is down is reported.
    let before = migrate_in(&root.0, &["status", "--all"], &env).expect(1);
    let table: Vec<&str> = before.stderr.lines().filter(|l| !l.contains("] using ")).collect();
    let mut settings = filters(None);
    settings.add_filter(&base, "[base]");
    settings.add_filter(r"mt_cli_ws_events_(dev|prod)_\d+_\d+", "[events_$1]");
    settings.add_filter(r"error: connecting to .*", "error: connecting to [legacy] failed");
    settings.bind(|| insta::assert_snapshot!("status_all_before", table.join("\n")));
    // up --all --jobs 4: legacy fails (its dev server is down, its prod database missing: the top-level
    // environments apply to every service), every other target is migrated.
    let up = migrate_in(&root.0, &["up", "--all", "--jobs", "4", "--json"], &env).expect(1);
    let results = targets(&up.json());
    assert_eq!(results.len(), 10, "{}", up.stdout);
    for (name, result) in &results {
        assert_eq!(result["ok"], !name.starts_with("legacy/"), "{name}: {result}");
    }
    assert_eq!(results["auth/prod"]["applied"], 6);
    assert_eq!(results["billing/dev"]["version_after"], 2);
    assert_eq!(results["events/dev"]["applied"], 6);
    assert!(results["legacy/dev"]["error"].as_str().unwrap().contains("127.0.0.1:1"), "{}", up.stdout);
    for db in &pg[..4] {
        assert_eq!(db.versions().await.len(), if db.name.contains("billing") { 2 } else { 6 }, "{}", db.name);
    }
    assert_eq!(events_prod.versions().len(), 6);
    // The log names each target; --services and --environment select.
    assert!(up.stderr.contains("[auth/dev] OK   00001_create_users.sql"), "{}", up.stderr);
    let some =
        migrate_in(&root.0, &["status", "--all", "--services", "auth,events", "--environment", "prod", "--json"], &env)
            .expect(0);
    let names: Vec<String> = targets(&some.json()).into_keys().collect();
    assert_eq!(names, ["auth/prod", "events/prod"]);
    // A runner holding auth/dev's lock shows in the table (goose's advisory lock key, in that database only).
    let mut holder = pg[0].connect().await;
    sqlx::query("SELECT pg_advisory_lock(4097083626)").execute(&mut holder).await.unwrap();
    let after =
        migrate_in(&root.0, &["status", "--all", "--environment", "dev", "--services", "auth,billing,notes"], &env)
            .expect(0);
    let line =
        |target: &str| after.stderr.lines().find(|l| l.contains(&format!(" {target} "))).unwrap_or_default().to_owned();
    assert!(line("auth/dev").contains("held by pid "), "{}", after.stderr);
    assert!(line("billing/dev").ends_with(" free") && line("notes/dev").ends_with(" free"), "{}", after.stderr);
    drop(holder);
    for db in pg {
        db.drop_db().await;
    }
    drop((events_dev, events_prod));
}

#[tokio::test]
async fn two_hundred_tenants_with_a_failing_one_and_four_shards() {
    let prefix = format!("mt_tenant_{}", std::process::id());
    let names: Vec<String> = (0..200).map(|n| format!("{prefix}_{n:03}")).collect();
    for name in &names {
        admin_exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        admin_exec(&format!("CREATE DATABASE {name}")).await;
    }
    // Tenant 7 already has the table the first migration creates: its run fails.
    let broken = TestDb { name: names[7].clone() };
    broken.exec("CREATE TABLE users (id int)").await;
    let (host, port) = pg_host_port();
    let root = TempDir::new("tenants");
    root.write(
        "migrate.toml",
        &format!(
            r#"[environments.prod]
database = {{ host = "{host}", port = {port}, user = "postgres", name = "postgres", params = {{ sslmode = "disable" }} }}
[services.tenants]
dir = "{basic}"
tenants = {{ query = "SELECT datname FROM pg_database WHERE datname LIKE '{prefix}\\_%' ORDER BY 1" }}
"#,
            basic = fixture("basic").display(),
        ),
    );
    // Four shards as four processes: together they take every tenant exactly once.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for shard in 0..4 {
        let run = migrate_in(
            &root.0,
            &["up", "--all", "--jobs", "8", "--shard", &format!("{shard}/4"), "--json", "--no-lint"],
            &[],
        );
        assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
        for (name, result) in targets(&run.json()) {
            *seen.entry(name.clone()).or_default() += 1;
            assert_eq!(result["ok"], !name.ends_with("_007"), "{name}: {result}");
        }
    }
    assert_eq!(seen.len(), 200, "{seen:?}");
    assert!(seen.values().all(|count| *count == 1), "{seen:?}");
    // Each tenant was migrated once (one row per version), the failing one not at all.
    for (n, name) in names.iter().enumerate() {
        let db = TestDb { name: name.clone() };
        let expected = if n == 7 { 0 } else { 6 };
        assert_eq!(db.versions().await.len(), expected, "{name}");
    }
    // A rerun of the whole fleet (JOB_COMPLETION_INDEX/MIGRATE_SHARDS unset: every tenant) has only the
    // failing tenant left to do once it is fixed.
    broken.exec("DROP TABLE users").await;
    let rerun = migrate_in(&root.0, &["up", "--all", "--jobs", "8", "--json", "--no-lint"], &[]).expect(0);
    let results = targets(&rerun.json());
    let applied: Vec<&String> = results.iter().filter(|(_, r)| r["applied"] != 0).map(|(n, _)| n).collect();
    assert_eq!(applied, [&format!("tenants/prod/{}", names[7])]);
    // An Indexed Job's pod reads its shard from the environment.
    let pod =
        migrate_in(&root.0, &["status", "--all", "--json"], &[("JOB_COMPLETION_INDEX", "2"), ("MIGRATE_SHARDS", "4")])
            .expect(0);
    let pod_targets = targets(&pod.json());
    assert!(!pod_targets.is_empty() && pod_targets.len() < 200, "{}", pod_targets.len());
    for name in &names {
        admin_exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    }
}

#[tokio::test]
async fn tenants_as_schemas_of_one_database() {
    let db = TestDb::new("fleet_schemas").await;
    let schemas: Vec<String> = (0..20).map(|n| format!("tenant_{n:02}")).collect();
    for schema in &schemas {
        db.exec(&format!("CREATE SCHEMA {schema}")).await;
    }
    let migrations = TempDir::new("fleet_schema_migrations");
    migrations.write(
        "00001_items.sql",
        "-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE items (id int);\nCOMMENT ON TABLE items IS 'for ${MIGRATE_TENANT}';\n-- +goose Down\nDROP TABLE items;\n",
    );
    migrations.write("00002_more.sql", "-- +goose Up\nALTER TABLE items ADD COLUMN note text;\n");
    let (host, port) = pg_host_port();
    let root = TempDir::new("fleet_schema_root");
    root.write(
        "migrate.toml",
        &format!(
            r#"[environments.prod]
database = {{ host = "{host}", port = {port}, user = "postgres", name = "{name}", params = {{ sslmode = "disable" }} }}
[services.shop]
dir = "{dir}"
tenants = {{ schemas_query = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%' ORDER BY 1" }}
"#,
            name = db.name,
            dir = migrations.path(),
        ),
    );
    let run = migrate_in(&root.0, &["up", "--all", "--jobs", "4", "--json", "--no-lint"], &[]).expect(0);
    let results = targets(&run.json());
    assert_eq!(results.len(), 20, "{}", run.stdout);
    assert!(results.values().all(|r| r["applied"] == 2), "{}", run.stdout);
    for schema in &schemas {
        let comment = db.column(&format!("SELECT obj_description('{schema}.items'::regclass)")).await;
        assert_eq!(comment, [format!("for {schema}")]);
        let versions =
            db.column(&format!("SELECT count(*)::text FROM {schema}.goose_db_version WHERE version_id > 0")).await;
        assert_eq!(versions, ["2"], "{schema}");
    }
    assert!(!db.has_table("public.goose_db_version").await, "nothing in the default schema");
    // status --all sees each schema's own table: nothing pending.
    migrate_in(&root.0, &["status", "--all"], &[]).expect(0);
    db.drop_db().await;
}
