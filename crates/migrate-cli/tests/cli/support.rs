//! Helpers: run the built binary with a clean environment, create and drop a database per test, and
//! filter what changes from run to run out of snapshots.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

/// The server the tests use (`MIGRATE_TEST_PG_URL`, default the local trust-auth server).
pub(crate) fn admin_url() -> String {
    #[allow(clippy::disallowed_methods)] // Tests read their server from the environment.
    std::env::var("MIGRATE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".to_owned())
}

/// The repository's fixtures.
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(name)
}

/// What a run of the binary printed.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Panics with everything printed unless the exit code is `code`.
    #[track_caller]
    pub(crate) fn expect(self, code: i32) -> Run {
        assert_eq!(self.code, code, "exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    /// stdout as one JSON document.
    #[track_caller]
    pub(crate) fn json(&self) -> serde_json::Value {
        assert_eq!(self.stdout.lines().count(), 1, "one JSON line expected: {}", self.stdout);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

/// Variables that would change what the binary does; removed from every run.
const AMBIENT: &[&str] = &[
    "GOOSE_DRIVER",
    "GOOSE_DBSTRING",
    "GOOSE_MIGRATION_DIR",
    "GOOSE_TABLE",
    "NO_COLOR",
    "DATABASE_URL",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DATABASE",
    "CLICKHOUSE_HOST",
    "CLICKHOUSE_PORT",
    "CLICKHOUSE_USERNAME",
    "CLICKHOUSE_PASSWORD",
    "CLICKHOUSE_DATABASE",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSSLMODE",
    "MIGRATE_CONFIG",
    "MIGRATE_ENVIRONMENT",
    "MIGRATE_SERVICE",
    "MIGRATE_LOG_FORMAT",
    "MIGRATE_METRICS_PUSH",
    "MIGRATE_METRICS_FILE",
];

/// Runs `migrate ARGS` in `cwd` with `env` on top of a cleaned environment.
pub(crate) fn migrate_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migrate"));
    command.args(args).current_dir(cwd);
    for name in AMBIENT {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("running the migrate binary");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `migrate ARGS` in a fresh empty directory (so no stray `.env` is read).
pub(crate) fn migrate(args: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = TempDir::new("cwd");
    migrate_in(&dir.0, args, env)
}

/// Runs a shell command line with `migrate` on the PATH, as a job template would.
pub(crate) fn shell(script: &str, env: &[(&str, &str)]) -> Run {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_migrate")).parent().unwrap().to_owned();
    #[allow(clippy::disallowed_methods)] // The child needs the test's PATH plus the binary.
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let dir = TempDir::new("sh");
    let mut command = Command::new("sh");
    command.arg("-c").arg(script).current_dir(&dir.0).env("PATH", path);
    for name in AMBIENT {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("running sh");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A database created for one test: `mt_cli_<label>_<pid>_<n>`. Drop it with [`TestDb::drop_db`].
pub(crate) struct TestDb {
    pub(crate) name: String,
}

impl TestDb {
    pub(crate) async fn new(label: &str) -> TestDb {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!("mt_cli_{label}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        admin_exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        admin_exec(&format!("CREATE DATABASE {name}")).await;
        TestDb { name }
    }

    /// The URL the binary connects with (trust authentication as postgres).
    pub(crate) fn url(&self) -> String {
        let options = admin_options();
        format!(
            "postgres://{}@{}:{}/{}?sslmode=disable",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            self.name
        )
    }

    pub(crate) async fn connect(&self) -> PgConnection {
        PgConnection::connect_with(&admin_options().database(&self.name))
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.name))
    }

    pub(crate) async fn exec(&self, sql: &str) {
        let mut connection = self.connect().await;
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The first column of every row, as text.
    pub(crate) async fn column(&self, sql: &str) -> Vec<String> {
        let mut connection = self.connect().await;
        let rows: Vec<(Option<String>,)> = sqlx::query_as(AssertSqlSafe(sql.to_owned()))
            .fetch_all(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter().map(|(v,)| v.unwrap_or_else(|| "NULL".to_owned())).collect()
    }

    /// Applied versions (rows of goose_db_version above 0), in id order.
    pub(crate) async fn versions(&self) -> Vec<String> {
        self.column("SELECT version_id::text FROM goose_db_version WHERE version_id > 0 ORDER BY id").await
    }

    pub(crate) async fn has_table(&self, table: &str) -> bool {
        self.column(&format!("SELECT to_regclass('{table}')::text")).await[0] != "NULL"
    }

    pub(crate) async fn drop_db(self) {
        admin_exec(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).await;
    }
}

pub(crate) fn admin_options() -> PgConnectOptions {
    PgConnectOptions::from_str(&admin_url()).unwrap()
}

pub(crate) async fn admin() -> PgConnection {
    PgConnection::connect_with(&admin_options())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {} is not reachable (run scripts/servers.sh up): {e}", admin_url()))
}

pub(crate) async fn admin_exec(sql: &str) {
    let mut admin = admin().await;
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut admin).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Creates (or recreates) a login role with a password, in the group pg_hba asks a password of, owning
/// `db`'s public schema so it can migrate there.
pub(crate) async fn password_role(role: &str, password: &str, db: &TestDb) {
    admin_exec(
        "DO $$ BEGIN CREATE ROLE migrate_password_auth NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    .await;
    let literal = password.replace('\'', "''");
    admin_exec(&format!("DROP ROLE IF EXISTS {role}")).await;
    admin_exec(&format!("CREATE ROLE {role} LOGIN PASSWORD '{literal}' IN ROLE migrate_password_auth")).await;
    db.exec(&format!("GRANT ALL ON SCHEMA public TO {role}")).await;
}

/// Drops a role created by [`password_role`] (after the database that granted it things).
pub(crate) async fn drop_role(role: &str) {
    admin_exec(&format!("DROP ROLE IF EXISTS {role}")).await;
}

/// A temporary directory, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "migrate-cli-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub(crate) fn write(&self, name: &str, text: &str) {
        std::fs::write(self.0.join(name), text).unwrap();
    }

    pub(crate) fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }

    /// File names, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// insta settings that hide what changes between runs: log dates, durations, applied-at times, the
/// test database's name and the fixtures' absolute path.
pub(crate) fn filters(db: Option<&TestDb>) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} ", "[date] ");
    settings.add_filter(r"\((\d+(\.\d+)?(ns|µs|ms|s|m|h))+\)", "([duration])");
    // The library's debug lines under -v carry measured durations as `name: 1.2ms`.
    settings.add_filter(r": (\d+(\.\d+)?(ns|µs|ms|s|m|h))+\b", ": [duration]");
    settings.add_filter(r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}", "[applied at]            ");
    let fixtures = fixture("").to_string_lossy().into_owned();
    settings.add_filter(&regex_escape(fixtures.trim_end_matches('/')), "[fixtures]");
    if let Some(db) = db {
        settings.add_filter(&db.name, "[db]");
    }
    settings
}

/// A JSON document with its run-dependent values replaced, for snapshots.
pub(crate) fn stable_json(mut value: serde_json::Value) -> serde_json::Value {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    match key.as_str() {
                        "duration_ms" => *value = "[ms]".into(),
                        "applied_at" if !value.is_null() => *value = "[applied at]".into(),
                        _ => walk(value),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}

pub(crate) fn regex_escape(text: &str) -> String {
    text.chars().map(|c| if "\\.+*?()|[]{}^$".contains(c) { format!("\\{c}") } else { c.to_string() }).collect()
}
