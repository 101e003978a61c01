//! Command-template backups: run without a shell (the tests use `sh -c` as the command itself, as
//! one could on a machine that has it), placeholders expanded, failures and timeouts reported.

use std::time::Duration;

use chrono::TimeZone;
use migrate_backup::{take_backup, BackupContext, BackupError, BackupMethod, BackupTarget};

use crate::support::{ScratchDb, TempDir};

fn fixed_context(database: &str) -> BackupContext {
    BackupContext {
        service: "events".into(),
        environment: "prod".into(),
        database: database.into(),
        version: 42,
        now: chrono::Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap(),
    }
}

fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

fn clickhouse_target() -> BackupTarget<'static> {
    BackupTarget::Other {
        env: vec![("CLICKHOUSE_PASSWORD".into(), "s3cr3t-pw".into()), ("BACKUP_REGION".into(), "eu-west-1".into())],
    }
}

#[tokio::test]
async fn placeholders_are_expanded_and_the_last_line_is_the_location() {
    let method = BackupMethod::Command {
        argv: sh("echo uploading >&2; echo 'progress 100%'; echo; \
                  test \"$CLICKHOUSE_PASSWORD\" = s3cr3t-pw || exit 9; \
                  test \"$MIGRATE_BACKUP_DATABASE\" = 'my events' || exit 8; \
                  test \"$MIGRATE_BACKUP_TIMESTAMP\" = 20240506T070809Z || exit 7; \
                  test \"$MIGRATE_BACKUP_VERSION\" = 42 || exit 6; \
                  echo \"s3://bucket/$0/{database}_{timestamp}\"; echo '   '")
        .into_iter()
        .chain(["{environment}".to_owned()])
        .collect(),
        restore: Some(vec![
            "clickhouse-backup".into(),
            "restore_remote".into(),
            "{database}_{timestamp}".into(),
            "--note=it's {service}".into(),
        ]),
    };
    let report = take_backup(&method, &clickhouse_target(), &fixed_context("my events"), None).await.unwrap();
    assert_eq!(report.location.as_deref(), Some("s3://bucket/prod/my_events_20240506T070809Z"));
    assert_eq!(report.path, None);
    assert_eq!(report.size_bytes, None);
    assert_eq!(report.entries, None);
    assert_eq!(
        report.restore_command.as_deref(),
        Some(r"clickhouse-backup restore_remote my_events_20240506T070809Z '--note=it'\''s events'")
    );
    assert!(!format!("{:?}", clickhouse_target()).contains("s3cr3t"));
}

#[tokio::test]
async fn a_failing_command_reports_its_status_and_scrubbed_stderr() {
    let method = BackupMethod::Command {
        argv: sh("echo 'connecting to clickhouse'; echo \"auth failed for s3cr3t-pw in $BACKUP_REGION\" >&2; exit 3"),
        restore: None,
    };
    let error = take_backup(&method, &clickhouse_target(), &fixed_context("events"), None).await.unwrap_err();
    let BackupError::Failed { what, status, stderr } = &error else { panic!("{error:?}") };
    assert_eq!(what, "backup command sh");
    assert!(status.contains('3'), "{status}");
    assert_eq!(stderr, "auth failed for xxxxx in eu-west-1");
    assert!(!error.to_string().contains("s3cr3t") && !format!("{error:?}").contains("s3cr3t"));
    // The script (the arguments) is not repeated in the message.
    assert!(!error.to_string().contains("connecting to"), "{error}");
}

#[tokio::test]
async fn template_mistakes_are_found_before_anything_runs() {
    let dir = TempDir::new("tmpl");
    let marker = dir.path().join("ran");
    let touch = format!("touch '{}'", marker.display());
    for (argv, restore) in [
        (vec!["sh".into(), "-c".into(), touch.clone(), "{databse}".into()], None),
        (sh(&touch), Some(vec!["restore".into(), "{when}".into()])),
        (sh(&format!("{touch} {{database")), None),
    ] {
        let method = BackupMethod::Command { argv, restore };
        let error = take_backup(&method, &clickhouse_target(), &fixed_context("events"), None).await.unwrap_err();
        assert!(
            matches!(error, BackupError::UnknownPlaceholder { .. } | BackupError::UnclosedPlaceholder { .. }),
            "{error:?}"
        );
        assert!(!marker.exists());
    }
    let method = BackupMethod::Command { argv: vec![], restore: None };
    let error = take_backup(&method, &clickhouse_target(), &fixed_context("events"), None).await.unwrap_err();
    assert!(matches!(error, BackupError::EmptyCommand), "{error:?}");
}

#[tokio::test]
async fn a_missing_program_is_named() {
    let method =
        BackupMethod::Command { argv: vec!["clickhouse-backup-not-installed".into(), "create".into()], restore: None };
    let error = take_backup(&method, &clickhouse_target(), &fixed_context("events"), None).await.unwrap_err();
    assert!(matches!(error, BackupError::ToolNotFound { .. }), "{error:?}");
    assert!(error.to_string().starts_with("clickhouse-backup-not-installed not found"), "{error}");
}

#[tokio::test]
async fn a_command_past_its_timeout_is_killed() {
    let method = BackupMethod::Command { argv: vec!["sleep".into(), "30".into()], restore: None };
    let started = std::time::Instant::now();
    let error = take_backup(&method, &clickhouse_target(), &fixed_context("events"), Some(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(
        matches!(&error, BackupError::TimedOut { what, timeout } if what == "backup command sleep" && timeout.as_millis() == 300)
    );
}

/// A command backing up PostgreSQL gets the connection as pg_dump does, and a local file it prints
/// is reported with its size.
#[tokio::test]
async fn a_command_for_postgres_gets_the_connection_and_its_file_is_measured() {
    let db = ScratchDb::new("cmd").await;
    db.exec("CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 100)").await;
    let dir = TempDir::new("cmd");
    let spec = crate::support::spec_for(&db.name);
    let target = BackupTarget::Postgres { spec: &spec, server_major: None };
    let file = dir.template("{database}-{version}.sql");
    let method = BackupMethod::Command {
        argv: vec![
            "sh".into(),
            "-c".into(),
            "test \"$PGAPPNAME\" = migrate-backup && pg_dump --file=\"$1\" && echo \"$1\"".into(),
            "sh".into(),
            file,
        ],
        restore: Some(vec!["psql".into(), "--file={database}-{version}.sql".into()]),
    };
    let report = take_backup(&method, &target, &fixed_context(&db.name), None).await.unwrap();
    let path = dir.path().join(format!("{}-42.sql", db.name));
    assert_eq!(report.path.as_deref(), Some(path.as_path()));
    assert_eq!(report.size_bytes, Some(std::fs::metadata(&path).unwrap().len()));
    assert!(std::fs::read_to_string(&path).unwrap().contains("CREATE TABLE public.t"));
    assert_eq!(report.restore_command, Some(format!("psql --file={}-42.sql", db.name)));
}
