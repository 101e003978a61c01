//! Test helpers: a uniquely named fresh database per test, and `run` for one command through the same
//! runner the CLI and the library use.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use migrate_core::{migrate, resolve, Command, DirectorySource, Migration, Outcome, PlanRequest, RunError, RunOptions};
use migrate_postgres::{PgConfig, PgDriver};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

/// The server the tests use (`MIGRATE_TEST_PG_URL`, default the local trust-auth server).
pub(crate) fn pg_admin_url() -> String {
    #[allow(clippy::disallowed_methods)] // Tests read their server from the environment.
    std::env::var("MIGRATE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".to_owned())
}

/// The repository's `fixtures/` folder.
pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// A database created for one test and dropped by `drop_db`.
pub(crate) struct TestDb {
    pub(crate) name: String,
    pub(crate) options: PgConnectOptions,
}

impl TestDb {
    /// Creates `mt_<label>_<pid>_<n>`, dropping a leftover of the same name first.
    pub(crate) async fn new(label: &str) -> TestDb {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!("mt_{label}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let mut admin = admin().await;
        for sql in [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")] {
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut admin).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let options = admin_options().database(&name);
        TestDb { name, options }
    }

    /// A fresh connection to the database.
    pub(crate) async fn connect(&self) -> PgConnection {
        PgConnection::connect_with(&self.options).await.unwrap_or_else(|e| panic!("connecting to {}: {e}", self.name))
    }

    /// A driver on a new connection.
    pub(crate) async fn driver(&self, config: PgConfig) -> PgDriver {
        PgDriver::connect(&self.options, None, &self.name, config).await.unwrap()
    }

    /// Runs SQL (several statements allowed) through the simple query protocol.
    pub(crate) async fn exec(&self, sql: &str) {
        let mut connection = self.connect().await;
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Runs one query and returns the first column of every row as text.
    pub(crate) async fn column(&self, sql: &str) -> Vec<String> {
        let mut connection = self.connect().await;
        let rows: Vec<(Option<String>,)> = sqlx::query_as(AssertSqlSafe(sql.to_owned()))
            .fetch_all(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter().map(|(value,)| value.unwrap_or_else(|| "NULL".to_owned())).collect()
    }

    /// The version rows as `version:applied`, in id order.
    pub(crate) async fn versions(&self) -> Vec<String> {
        self.column("SELECT version_id || ':' || is_applied FROM goose_db_version ORDER BY id").await
    }

    /// Whether a table exists.
    pub(crate) async fn has_table(&self, table: &str) -> bool {
        self.column(&format!("SELECT to_regclass('{table}')::text")).await[0] != "NULL"
    }

    pub(crate) async fn drop_db(self) {
        let mut admin = admin().await;
        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .execute(&mut admin)
            .await
            .unwrap();
    }
}

pub(crate) fn admin_options() -> PgConnectOptions {
    PgConnectOptions::from_str(&pg_admin_url()).unwrap()
}

async fn admin() -> PgConnection {
    PgConnection::connect_with(&admin_options()).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {} is not reachable (run scripts/servers.sh up): {e}", pg_admin_url())
    })
}

/// The migrations of a directory.
pub(crate) fn load(dir: &Path) -> Vec<Migration> {
    resolve(&DirectorySource::new(dir), &[]).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// Plans and runs one command with the lock on, as the CLI does.
pub(crate) async fn run(
    driver: &mut PgDriver,
    migrations: &[Migration],
    command: Command,
) -> Result<Outcome, RunError> {
    run_with(driver, migrations, command, false, false).await
}

/// `run` with goose's flags.
pub(crate) async fn run_with(
    driver: &mut PgDriver,
    migrations: &[Migration],
    command: Command,
    allow_missing: bool,
    no_versioning: bool,
) -> Result<Outcome, RunError> {
    let request = PlanRequest { command, allow_missing, no_versioning };
    migrate(driver, migrations, &request, &RunOptions::default(), &|_| None, &mut |_| {}).await
}

/// The versions a run applied or rolled back, as `up 1`, `down 3`.
pub(crate) fn steps(outcome: &Outcome) -> Vec<String> {
    outcome.report.results.iter().map(|r| format!("{} {}", r.direction, r.version)).collect()
}

/// Runs `up` over a directory, locked, collecting what the runner reported about checksums (`changed up 1`,
/// `recorded [1, 2]`): the checksum tests' run, on either server.
pub(crate) async fn up_reporting_checksums(
    driver: &mut dyn migrate_core::Driver,
    dir: &TempDir,
    allow_changed: bool,
) -> (Result<Vec<String>, RunError>, Vec<String>) {
    let migrations = load(&dir.0);
    let request = PlanRequest { command: Command::Up, allow_missing: false, no_versioning: false };
    let options =
        RunOptions { lock: true, allow_changed, preflight: None, stop: None, before_run: None, lock_retries: 0 };
    let mut events = Vec::new();
    let outcome = migrate(driver, &migrations, &request, &options, &|_| None, &mut |event| match event {
        migrate_core::RunEvent::Changed { changed } => {
            events.push(format!("changed {} {}", changed.direction, changed.version))
        }
        migrate_core::RunEvent::ChecksumsRecorded { versions } => {
            events.push(format!("recorded {:?}", versions.iter().map(|v| v.get()).collect::<Vec<_>>()))
        }
        _ => {}
    })
    .await;
    (outcome.map(|outcome| steps(&outcome)), events)
}

/// A temporary directory of generated migrations, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "migrate-e2e-{label}-{}-{}",
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
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
