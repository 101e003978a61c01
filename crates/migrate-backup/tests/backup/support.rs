//! Test helpers: scratch databases and roles dropped even when a test fails, temporary directories,
//! fake pg_dump scripts, and a schema dump to compare databases by.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Utc;
use migrate_backup::BackupContext;
use migrate_postgres::{pg_url_from_parts, PgConnSpec, PgHost};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// The server the tests use (`MIGRATE_TEST_PG_URL`, default the local trust-auth server).
pub(crate) fn admin_url() -> String {
    #[allow(clippy::disallowed_methods)] // Tests read their server from the environment.
    std::env::var("MIGRATE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".to_owned())
}

/// The admin connection, parsed.
pub(crate) fn admin_spec() -> PgConnSpec {
    PgConnSpec::parse(&admin_url(), &|_| None).unwrap()
}

/// A URL for `dbname` as `user` (the admin's when `None`), on the admin's host.
pub(crate) fn url_for(dbname: &str, user: Option<(&str, &str)>) -> String {
    let admin = admin_spec();
    let (host, port) = match &admin.host {
        PgHost::Tcp { host, port } => (host.clone(), *port),
        PgHost::Unix { dir, port } => (dir.to_string_lossy().into_owned(), *port),
    };
    let (user, password) = match user {
        Some((user, password)) => (user.to_owned(), Some(password)),
        None => (admin.user.clone(), admin.password()),
    };
    pg_url_from_parts(&host, Some(port), &user, password, dbname, &[("sslmode", admin.sslmode.as_str())])
}

/// A spec for `dbname` as the admin.
pub(crate) fn spec_for(dbname: &str) -> PgConnSpec {
    PgConnSpec::parse(&url_for(dbname, None), &|_| None).unwrap()
}

/// Runs SQL (several statements allowed) on `url`, panicking with the SQL on failure.
pub(crate) async fn exec_url(url: &str, sql: &str) {
    let mut connection = PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {} is not reachable (run scripts/servers.sh up): {e}", admin_url()));
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(&mut connection)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// One text value from a query on `url`.
pub(crate) async fn query_text(url: &str, sql: &str) -> String {
    let mut connection = PgConnection::connect(url).await.unwrap_or_else(|e| panic!("connecting: {e}"));
    let (value,): (String,) = sqlx::query_as(AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut connection)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    value
}

/// The server's major version.
pub(crate) async fn server_major() -> u32 {
    let text = query_text(&admin_url(), "SELECT (current_setting('server_version_num')::int / 10000)::text").await;
    text.parse().unwrap()
}

/// Runs SQL as the admin from a synchronous context (a `Drop`), on a thread with its own runtime.
fn admin_exec_blocking(sql: String) {
    let outcome = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let mut connection = PgConnection::connect(&admin_url()).await.map_err(|e| e.to_string())?;
            sqlx::raw_sql(AssertSqlSafe(sql.clone())).execute(&mut connection).await.map_err(|e| format!("{sql}: {e}"))
        })
    })
    .join();
    match outcome {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => eprintln!("cleanup failed: {error}"),
        Err(_) => eprintln!("cleanup thread panicked"),
    }
}

fn unique(label: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!("mb_{label}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// A database created for one test and dropped when this goes out of scope, even on a panic.
pub(crate) struct ScratchDb {
    pub(crate) name: String,
}

impl ScratchDb {
    /// Creates `mb_<label>_<pid>_<n>`, dropping a leftover of the same name first.
    pub(crate) async fn new(label: &str) -> ScratchDb {
        let name = unique(label);
        exec_url(&admin_url(), &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        exec_url(&admin_url(), &format!("CREATE DATABASE {name}")).await;
        ScratchDb { name }
    }

    /// The admin's URL for this database.
    pub(crate) fn url(&self) -> String {
        url_for(&self.name, None)
    }

    /// Runs SQL in this database as the admin.
    pub(crate) async fn exec(&self, sql: &str) {
        exec_url(&self.url(), sql).await;
    }

    /// One text value from a query in this database.
    pub(crate) async fn text(&self, sql: &str) -> String {
        query_text(&self.url(), sql).await
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        admin_exec_blocking(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

/// A login role that must give its password over TCP (it joins `migrate_password_auth`, which the
/// servers script's pg_hba line asks a password of), dropped when this goes out of scope. Declare it
/// before the databases it owns, so they are dropped first.
pub(crate) struct PasswordRole {
    pub(crate) name: String,
}

impl PasswordRole {
    pub(crate) async fn new(label: &str, password: &str) -> PasswordRole {
        let name = unique(label);
        let admin = admin_url();
        exec_url(
            &admin,
            "DO $$ BEGIN CREATE ROLE migrate_password_auth NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        )
        .await;
        exec_url(&admin, &format!("DROP ROLE IF EXISTS {name}")).await;
        let literal = password.replace('\'', "''");
        exec_url(&admin, &format!("CREATE ROLE {name} LOGIN PASSWORD '{literal}' IN ROLE migrate_password_auth")).await;
        PasswordRole { name }
    }
}

impl Drop for PasswordRole {
    fn drop(&mut self) {
        admin_exec_blocking(format!("DROP ROLE IF EXISTS {}", self.name));
    }
}

/// A temporary directory, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> TempDir {
        let path = std::env::temp_dir().join(unique(label));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// A template for a file in this directory: the directory's path (braces doubled) and `name`.
    pub(crate) fn template(&self, name: &str) -> String {
        let dir = self.0.to_str().unwrap().replace('{', "{{").replace('}', "}}");
        format!("{dir}/{name}")
    }

    /// File names, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    /// Writes an executable `sh` script named `name`; returns its path.
    pub(crate) fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.0.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A context for a backup of `database` now.
pub(crate) fn context(database: &str) -> BackupContext {
    BackupContext {
        service: "billing".into(),
        environment: "prod".into(),
        database: database.into(),
        version: 20240101120000,
        now: Utc::now(),
    }
}

/// Sets a child's libpq variables for the admin connection to `dbname`.
pub(crate) fn admin_env(command: &mut Command, dbname: &str) {
    let spec = spec_for(dbname);
    let (host, port) = match &spec.host {
        PgHost::Tcp { host, port } => (host.clone(), *port),
        PgHost::Unix { dir, port } => (dir.to_string_lossy().into_owned(), *port),
    };
    command
        .env("PGHOST", host)
        .env("PGPORT", port.to_string())
        .env("PGUSER", &spec.user)
        .env("PGDATABASE", dbname)
        .env("PGSSLMODE", spec.sslmode.as_str());
    if let Some(password) = spec.password() {
        command.env("PGPASSWORD", password);
    }
}

/// `pg_dump --schema-only` of `dbname`, with a fixed restrict key and the database name replaced, so
/// that two databases with the same schema give the same text.
pub(crate) fn schema_of(dbname: &str) -> String {
    let mut command = Command::new("pg_dump");
    command.args(["--schema-only", "--no-owner", "--restrict-key=fixed"]);
    admin_env(&mut command, dbname);
    let output = command.output().expect("pg_dump runs");
    assert!(output.status.success(), "pg_dump --schema-only {dbname}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().replace(dbname, "DBNAME")
}

/// `pg_restore` of `dump` into `dbname`, as a person following the docs would.
pub(crate) fn restore_into(dump: &Path, dbname: &str) {
    let mut command = Command::new("pg_restore");
    command.args(["--no-owner", "--exit-on-error", "--dbname", dbname]).arg(dump);
    admin_env(&mut command, dbname);
    let output = command.output().expect("pg_restore runs");
    assert!(output.status.success(), "pg_restore into {dbname}: {}", String::from_utf8_lossy(&output.stderr));
}
