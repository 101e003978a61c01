//! The built-in pg_dump backup against the real server.

use std::time::Duration;

use migrate_backup::{take_backup, BackupError, BackupMethod, BackupTarget};
use migrate_postgres::{encode_url_part, PgConnSpec};

use crate::support::{context, restore_into, schema_of, server_major, url_for, PasswordRole, ScratchDb, TempDir};

/// A few tables with a foreign key, a unique and a check constraint, an index, a view, a function, a
/// comment, and data with awkward text.
const SCHEMA: &str = r#"
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    total numeric(12, 2) NOT NULL CHECK (total >= 0),
    note text
);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE VIEW customer_totals AS
    SELECT c.id, c.email, sum(o.total) AS total FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.email;
CREATE FUNCTION order_count(bigint) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM orders WHERE customer_id = $1 $$;
COMMENT ON TABLE orders IS 'backed up before each production run';
INSERT INTO customers (email) SELECT 'user' || g || '@example.com' FROM generate_series(1, 50) g;
INSERT INTO orders (customer_id, total, note)
    SELECT 1 + g % 50, g * 1.25, CASE WHEN g % 7 = 0 THEN 'it''s "quoted"' || chr(10) || 'and multi-line' END
    FROM generate_series(1, 500) g;
"#;

/// Row counts and a digest of every row, to compare data.
const DATA_DIGEST: &str = "SELECT (SELECT count(*) FROM orders)::text || ' ' || \
    (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o) || ' ' || \
    (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM customers c)";

fn pg_dump_method(path: String) -> BackupMethod {
    BackupMethod::PgDump { path, pg_dump: None }
}

#[tokio::test]
async fn dump_is_verified_restorable_and_its_restore_command_works() {
    let source = ScratchDb::new("src").await;
    let copy = ScratchDb::new("copy").await;
    source.exec(SCHEMA).await;
    let dir = TempDir::new("dump");
    let spec = crate::support::spec_for(&source.name);
    let target = BackupTarget::Postgres { spec: &spec, server_major: Some(server_major().await) };
    let ctx = context(&source.name);

    let method = pg_dump_method(dir.template("{database}_{timestamp}.dump"));
    let report = take_backup(&method, &target, &ctx, Some(Duration::from_secs(120))).await.unwrap();

    let expected_name = format!("{}_{}.dump", source.name, ctx.now.format("%Y%m%dT%H%M%SZ"));
    let path = report.path.clone().unwrap();
    assert_eq!(path, dir.path().join(&expected_name));
    assert_eq!(dir.names(), vec![expected_name], "exactly the dump, no .partial");
    let meta = std::fs::metadata(&path).unwrap();
    assert!(meta.len() > 0);
    assert_eq!(report.size_bytes, Some(meta.len()));
    assert_eq!(report.location.as_deref(), Some(path.to_str().unwrap()));
    // customers, orders, their sequences, constraints, index, view, function, comment, data...
    assert!(report.entries.unwrap() >= 15, "{report:?}");
    assert!(report.tool_version.as_deref().is_some_and(|v| v.starts_with(char::is_numeric)), "{report:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "a dump holds all the data: owner only");
    }
    let restore = report.restore_command.clone().unwrap();
    assert!(restore.starts_with("pg_restore --clean --if-exists --no-owner "), "{restore}");
    assert!(restore.contains(&format!("/{}?", source.name)) && restore.ends_with(path.to_str().unwrap()), "{restore}");
    let json = report.to_json();
    assert_eq!(json["size_bytes"], meta.len());
    assert_eq!(json["path"], path.to_str().unwrap());
    eprintln!("{report}");

    // Restored into another database, the schema and the data are the same.
    restore_into(&path, &copy.name);
    assert_eq!(schema_of(&source.name), schema_of(&copy.name));
    assert_eq!(source.text(DATA_DIGEST).await, copy.text(DATA_DIGEST).await);
    assert!(copy.text("SELECT count(*)::text FROM orders").await == "500");

    // A failed migration's damage, then the printed restore command run as printed.
    source
        .exec(
            "DELETE FROM orders WHERE id > 100; DROP VIEW customer_totals; ALTER TABLE customers ADD COLUMN junk int;",
        )
        .await;
    assert_ne!(schema_of(&source.name), schema_of(&copy.name));
    let output = std::process::Command::new("sh").arg("-c").arg(&restore).output().unwrap();
    assert!(output.status.success(), "{restore}: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(schema_of(&source.name), schema_of(&copy.name));
    assert_eq!(source.text(DATA_DIGEST).await, copy.text(DATA_DIGEST).await);
}

#[tokio::test]
async fn an_existing_file_is_never_overwritten() {
    let db = ScratchDb::new("exists").await;
    db.exec("CREATE TABLE t (x int); INSERT INTO t VALUES (1)").await;
    let dir = TempDir::new("exists");
    let spec = crate::support::spec_for(&db.name);
    let target = BackupTarget::Postgres { spec: &spec, server_major: None };
    let method = pg_dump_method(dir.template("fixed.dump"));

    std::fs::write(dir.path().join("fixed.dump"), b"precious").unwrap();
    let error = take_backup(&method, &target, &context(&db.name), None).await.unwrap_err();
    assert!(matches!(&error, BackupError::AlreadyExists { path } if path.ends_with("fixed.dump")), "{error:?}");
    assert!(error.to_string().contains("fixed.dump") && error.to_string().contains("refusing to overwrite"), "{error}");
    assert_eq!(std::fs::read(dir.path().join("fixed.dump")).unwrap(), b"precious");
    assert_eq!(dir.names(), vec!["fixed.dump"]);

    // The same after a backup of our own took the name.
    std::fs::remove_file(dir.path().join("fixed.dump")).unwrap();
    let first = take_backup(&method, &target, &context(&db.name), None).await.unwrap();
    let bytes = std::fs::read(first.path.as_ref().unwrap()).unwrap();
    let error = take_backup(&method, &target, &context(&db.name), None).await.unwrap_err();
    assert!(matches!(error, BackupError::AlreadyExists { .. }), "{error:?}");
    assert_eq!(std::fs::read(first.path.as_ref().unwrap()).unwrap(), bytes);
    assert_eq!(dir.names(), vec!["fixed.dump"]);

    // A stale work file is named, not reused.
    std::fs::write(dir.path().join("other.dump.partial"), b"").unwrap();
    let method = pg_dump_method(dir.template("other.dump"));
    let error = take_backup(&method, &target, &context(&db.name), None).await.unwrap_err();
    assert!(matches!(&error, BackupError::PartialExists { path } if path.ends_with("other.dump.partial")), "{error:?}");
}

#[tokio::test]
async fn a_missing_directory_is_an_error_naming_it_and_is_not_created() {
    let db = ScratchDb::new("nodir").await;
    let dir = TempDir::new("nodir");
    let spec = crate::support::spec_for(&db.name);
    let target = BackupTarget::Postgres { spec: &spec, server_major: None };
    let method = pg_dump_method(dir.template("not-mounted/{database}.dump"));
    let error = take_backup(&method, &target, &context(&db.name), None).await.unwrap_err();
    let missing = dir.path().join("not-mounted");
    assert!(matches!(&error, BackupError::MissingDirectory { dir } if *dir == missing), "{error:?}");
    assert!(error.to_string().contains(missing.to_str().unwrap()), "{error}");
    assert!(!missing.exists());
    assert!(dir.names().is_empty());
}

#[tokio::test]
async fn a_failing_pg_dump_leaves_no_file() {
    let dir = TempDir::new("fail");
    let spec = crate::support::spec_for("mb_database_that_does_not_exist");
    let target = BackupTarget::Postgres { spec: &spec, server_major: None };
    let method = pg_dump_method(dir.template("{database}.dump"));
    let error = take_backup(&method, &target, &context("mb_database_that_does_not_exist"), None).await.unwrap_err();
    let BackupError::Failed { what, status, stderr } = &error else { panic!("{error:?}") };
    assert_eq!(what, "pg_dump");
    assert!(status.contains('1'), "{status}");
    assert!(stderr.contains("mb_database_that_does_not_exist") && stderr.contains("does not exist"), "{stderr}");
    assert!(stderr.lines().count() <= migrate_backup::STDERR_TAIL_LINES);
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[tokio::test]
async fn a_pg_dump_older_than_the_server_is_refused_with_both_versions() {
    let db = ScratchDb::new("old").await;
    let dir = TempDir::new("old");
    let spec = crate::support::spec_for(&db.name);
    // The real pg_dump against a server said to be newer than any.
    let target = BackupTarget::Postgres { spec: &spec, server_major: Some(99) };
    let method = pg_dump_method(dir.template("x.dump"));
    let error = take_backup(&method, &target, &context(&db.name), None).await.unwrap_err();
    let BackupError::PgDumpTooOld { pg_dump, server_major: 99, .. } = &error else { panic!("{error:?}") };
    let message = error.to_string();
    assert!(message.contains(&format!("pg_dump {pg_dump}")) && message.contains("PostgreSQL 99"), "{message}");
    assert!(message.contains("backup.pg_dump") && message.contains("/usr/lib/postgresql/99/bin/pg_dump"), "{message}");
    assert!(dir.names().is_empty());

    // Without the server's version, pg_dump's own refusal is recognised (a stand-in prints it).
    let bin = TempDir::new("oldbin");
    let fake = bin.script(
        "pg_dump",
        "if [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)'; exit 0; fi\n\
         echo 'pg_dump: error: aborting because of server version mismatch' >&2\n\
         echo 'pg_dump: detail: server version: 17.2; pg_dump version: 15.20 (Debian 15.20-0+deb12u1)' >&2\n\
         exit 1",
    );
    let target = BackupTarget::Postgres { spec: &spec, server_major: None };
    let method = BackupMethod::PgDump { path: dir.template("x.dump"), pg_dump: Some(fake) };
    let error = take_backup(&method, &target, &context(&db.name), None).await.unwrap_err();
    assert!(
        matches!(&error, BackupError::PgDumpTooOld { pg_dump, server, server_major: 17, .. } if pg_dump == "15.20" && server == "17.2"),
        "{error:?}"
    );
    assert!(dir.names().is_empty());
}

#[tokio::test]
async fn a_missing_pg_dump_binary_is_named() {
    let db = ScratchDb::new("nobin").await;
    let dir = TempDir::new("nobin");
    let spec = crate::support::spec_for(&db.name);
    let target = BackupTarget::Postgres { spec: &spec, server_major: None };
    let method = BackupMethod::PgDump {
        path: dir.template("x.dump"),
        pg_dump: Some("/nonexistent/postgresql/bin/pg_dump".into()),
    };
    let error = take_backup(&method, &target, &context(&db.name), None).await.unwrap_err();
    assert!(matches!(error, BackupError::ToolNotFound { .. }), "{error:?}");
    assert!(error.to_string().starts_with("/nonexistent/postgresql/bin/pg_dump not found"), "{error}");
    assert!(dir.names().is_empty());
}

#[tokio::test]
async fn a_pg_dump_past_its_timeout_is_killed_and_leaves_no_file() {
    let db = ScratchDb::new("slow").await;
    let dir = TempDir::new("slow");
    let bin = TempDir::new("slowbin");
    let fake = bin.script("pg_dump", "if [ \"$1\" = --version ]; then exec pg_dump --version; fi\nexec sleep 30");
    let spec = crate::support::spec_for(&db.name);
    let target = BackupTarget::Postgres { spec: &spec, server_major: None };
    let method = BackupMethod::PgDump { path: dir.template("x.dump"), pg_dump: Some(fake) };
    let started = std::time::Instant::now();
    let error = take_backup(&method, &target, &context(&db.name), Some(Duration::from_millis(700))).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(matches!(&error, BackupError::TimedOut { what, .. } if what == "pg_dump"), "{error:?}");
    assert!(error.to_string().contains("0.7s"), "{error}");
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

/// A password with every character that breaks naive quoting, checked by the server (the role must
/// give it over TCP), kept off pg_dump's command line and out of every message.
#[tokio::test]
async fn the_password_goes_through_the_environment_and_nowhere_else() {
    const PASSWORD: &str = "p@ss w\"rd";
    let role = PasswordRole::new("pw", PASSWORD).await;
    let db = ScratchDb::new("pw").await;
    db.exec(&format!("ALTER DATABASE {} OWNER TO {}", db.name, role.name)).await;
    let url = url_for(&db.name, Some((&role.name, PASSWORD)));
    crate::support::exec_url(
        &url,
        "CREATE TABLE secrets_kept (id int PRIMARY KEY); INSERT INTO secrets_kept VALUES (1)",
    )
    .await;
    let spec = PgConnSpec::parse(&url, &|_| None).unwrap();
    let encoded = encode_url_part(PASSWORD);
    let leaks = |text: &str| text.contains(PASSWORD) || text.contains(&encoded);

    // A pg_dump stand-in that records its argument vector, as the kernel has it, and its PGPASSWORD,
    // then runs the real pg_dump.
    let dir = TempDir::new("pw");
    let bin = TempDir::new("pwbin");
    let record = bin.path().join("cmdline");
    let seen_password = bin.path().join("pgpassword");
    let fake = bin.script(
        "pg_dump",
        &format!(
            "tr '\\0' '\\n' < /proc/$$/cmdline >> '{}'\nprintf '%s' \"$PGPASSWORD\" > '{}'\nexec pg_dump \"$@\"",
            record.display(),
            seen_password.display()
        ),
    );
    let target = BackupTarget::Postgres { spec: &spec, server_major: Some(server_major().await) };
    let method = BackupMethod::PgDump { path: dir.template("{database}.dump"), pg_dump: Some(fake.clone()) };
    let report = take_backup(&method, &target, &context(&db.name), None).await.unwrap();
    assert!(report.entries.unwrap() > 0);
    let cmdline = std::fs::read_to_string(&record).unwrap();
    assert!(cmdline.contains("--format=custom") && cmdline.contains("--no-password"), "{cmdline}");
    assert!(!leaks(&cmdline), "password on pg_dump's command line: {cmdline}");
    assert_eq!(std::fs::read_to_string(&seen_password).unwrap(), PASSWORD, "PGPASSWORD is how pg_dump got it");
    for text in [format!("{report:?}"), report.to_string(), report.to_json().to_string(), format!("{target:?}")] {
        assert!(!leaks(&text), "{text}");
    }
    let restore = report.restore_command.unwrap();
    assert!(
        !leaks(&restore) && !restore.contains("xxxxx") && restore.contains(&format!("{}@", role.name)),
        "{restore}"
    );

    // The server really checks the password: a wrong one fails, and is not quoted either.
    let wrong = PgConnSpec::parse(&url_for(&db.name, Some((&role.name, "wr0ng pass"))), &|_| None).unwrap();
    let target = BackupTarget::Postgres { spec: &wrong, server_major: None };
    let method = BackupMethod::PgDump { path: dir.template("wrong.dump"), pg_dump: None };
    let error = take_backup(&method, &target, &context(&db.name), None).await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("password authentication failed"), "{message}");
    assert!(!message.contains("wr0ng pass") && !format!("{error:?}").contains("wr0ng pass"), "{message}");

    // Whatever a pg_dump prints, the password is scrubbed from the error.
    let blabber = bin.script(
        "blabber",
        &format!(
            "if [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 15.20'; exit 0; fi\n\
             echo \"could not connect with $PGPASSWORD\" >&2\necho 'or postgres://u:{encoded}@h/db' >&2\nexit 2"
        ),
    );
    let target = BackupTarget::Postgres { spec: &spec, server_major: None };
    let method = BackupMethod::PgDump { path: dir.template("blabber.dump"), pg_dump: Some(blabber) };
    let error = take_backup(&method, &target, &context(&db.name), None).await.unwrap_err();
    let (message, debug) = (error.to_string(), format!("{error:?}"));
    assert!(
        message.contains("could not connect with xxxxx") && message.contains("postgres://u:xxxxx@h/db"),
        "{message}"
    );
    assert!(!leaks(&message) && !leaks(&debug), "{message}\n{debug}");
    assert_eq!(dir.names(), vec![format!("{}.dump", db.name)]);
}

#[tokio::test]
async fn a_unix_socket_host_works() {
    let socket_dir = "/var/run/postgresql";
    assert!(
        std::path::Path::new(socket_dir).join(".s.PGSQL.5432").exists(),
        "this test needs the local server's socket in {socket_dir}"
    );
    let db = ScratchDb::new("sock").await;
    db.exec("CREATE TABLE t (x int)").await;
    let spec = PgConnSpec::parse(
        &format!("host={socket_dir} port=5432 user=postgres dbname={} sslmode=disable", db.name),
        &|_| None,
    )
    .unwrap();
    let dir = TempDir::new("sock");
    let target = BackupTarget::Postgres { spec: &spec, server_major: None };
    let report =
        take_backup(&pg_dump_method(dir.template("{database}.dump")), &target, &context(&db.name), None).await.unwrap();
    assert!(report.entries.unwrap() > 0);
    assert!(report.restore_command.unwrap().contains("%2Fvar%2Frun%2Fpostgresql"));
}

#[tokio::test]
async fn the_pg_dump_method_needs_a_postgres_target() {
    let dir = TempDir::new("notpg");
    let target = BackupTarget::Other { env: vec![] };
    let error =
        take_backup(&pg_dump_method(dir.template("x.dump")), &target, &context("events"), None).await.unwrap_err();
    assert!(matches!(error, BackupError::NotPostgres { .. }), "{error:?}");
}
