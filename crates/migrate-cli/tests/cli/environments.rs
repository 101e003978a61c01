//! migrate.toml against the real server: an environment's database from its parts, the line naming the
//! environment before connecting, a protected environment refusing `down` without `--yes`, a password
//! literal refused with its line, and `--log-format json`.

use crate::support::{fixture, migrate_in, TempDir, TestDb};

/// A project directory whose migrate.toml has a dev and a protected prod environment on `db`.
fn project(db: &TestDb) -> TempDir {
    let dir = TempDir::new("env_project");
    let basic = fixture("basic");
    dir.write(
        "migrate.toml",
        &format!(
            "dir = {:?}\nservice = \"billing\"\n\n[environments.dev]\ndatabase_url_env = \"DEV_URL\"\n\n\
             [environments.prod]\ndatabase = {{ host_env = \"PGH\", user = \"postgres\", password_env = \"PGPW\", name = {:?}, params = {{ sslmode = \"disable\" }} }}\n\
             protected = true\n",
            basic.display().to_string(),
            db.name
        ),
    );
    dir
}

const PROD: &[(&str, &str)] = &[("PGH", "127.0.0.1"), ("PGPW", "not-needed-with-trust")];

#[tokio::test]
async fn a_protected_environment_refuses_down_without_yes() {
    let db = TestDb::new("env_protect").await;
    let dir = project(&db);
    let up = migrate_in(&dir.0, &["up", "--environment", "prod"], PROD).expect(0);
    assert!(
        up.stderr.contains(&format!(
            "using PostgreSQL postgres://postgres:xxxxx@127.0.0.1:5432/{}?sslmode=disable (from environment prod in {})",
            db.name, "migrate.toml"
        )),
        "{}",
        up.stderr
    );
    assert!(!up.stderr.contains("not-needed-with-trust"));
    let before = db.versions().await;
    for command in [&["down"][..], &["redo"], &["reset"], &["down-to", "0"], &["mark-rolled-back", "6"], &["repair"]] {
        let mut args = command.to_vec();
        args.extend(["--environment", "prod"]);
        let run = migrate_in(&dir.0, &args, PROD).expect(2);
        assert!(
            run.stderr.contains(&format!(
                "environment prod is protected: {} changes its history, so it needs --yes",
                command[0]
            )),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("using PostgreSQL"), "it connected before refusing: {}", run.stderr);
    }
    assert_eq!(db.versions().await, before, "a refused command changed the database");
    // A dry run changes nothing, so it needs no confirmation; --yes confirms.
    migrate_in(&dir.0, &["down", "--environment", "prod", "--dry-run"], PROD).expect(0);
    migrate_in(&dir.0, &["down", "--environment", "prod", "--yes"], PROD).expect(0);
    assert_eq!(db.versions().await.len(), before.len() - 1);
    // Not protected: dev runs down as goose does.
    let dev = [("DEV_URL", db.url())];
    let dev: Vec<(&str, &str)> = dev.iter().map(|(k, v)| (*k, v.as_str())).collect();
    migrate_in(&dir.0, &["down", "--environment", "dev"], &dev).expect(0);
    // An unknown environment lists the known ones.
    let run = migrate_in(&dir.0, &["status", "--environment", "staging"], &[]).expect(2);
    assert!(
        run.stderr.contains("migrate.toml: no environment \"staging\" (the file has: dev, prod)"),
        "{}",
        run.stderr
    );
    db.drop_db().await;
}

#[tokio::test]
async fn a_password_literal_in_the_file_is_refused_with_its_line() {
    let dir = TempDir::new("env_password");
    dir.write(
        "migrate.toml",
        "service = \"x\"\n[environments.prod]\ndatabase_url = \"postgres://app:hunter2@db/app\"\n",
    );
    let run = migrate_in(&dir.0, &["status", "--environment", "prod"], &[]).expect(2);
    assert!(run.stderr.contains("migrate.toml:3: a password in migrate.toml is refused"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    dir.write("migrate.toml", "[environments.prod]\ndatabase = { host = \"db\", password = \"hunter2\" }\n");
    let run = migrate_in(&dir.0, &["up", "--environment", "prod"], &[]).expect(2);
    assert!(run.stderr.contains("migrate.toml:2: a password in migrate.toml is refused"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    // An unknown key is refused with its line too.
    dir.write("migrate.toml", "[environments.prod]\nprotect = true\n");
    let run = migrate_in(&dir.0, &["status"], &[]).expect(2);
    assert!(run.stderr.contains("migrate.toml:2: unknown field `protect`"), "{}", run.stderr);
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let db = TestDb::new("env_json").await;
    let dir = project(&db);
    let run = migrate_in(&dir.0, &["up", "--environment", "prod", "--log-format", "json"], PROD).expect(0);
    let lines: Vec<serde_json::Value> =
        run.stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert!(lines.iter().all(|l| l["time"].is_string() && l["level"].is_string() && l["message"].is_string()));
    let applied: Vec<&serde_json::Value> = lines.iter().filter(|l| l["file"].is_string()).collect();
    assert_eq!(applied.len(), 6, "{}", run.stderr);
    assert_eq!(applied[0]["version"], 1);
    assert_eq!(applied[0]["file"], "00001_create_users.sql");
    assert!(applied[0]["duration"].as_f64().is_some_and(|d| d > 0.0));
    // A failure is one error object with the error and where it points.
    std::fs::create_dir(dir.0.join("bad")).unwrap();
    dir.write("bad/00001_bad.sql", "-- +goose Up\nSELECT 1;\nSELEC 2;\n");
    let run = migrate_in(
        &dir.0,
        &["up", "--environment", "prod", "--log-format", "json", "--dir", "bad", "--table", "other"],
        PROD,
    )
    .expect(1);
    let error: serde_json::Value = run
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|l: &serde_json::Value| l["level"] == "error")
        .unwrap();
    assert!(error["error"].as_str().unwrap().contains("syntax error"), "{error}");
    assert_eq!(error["file"], "bad/00001_bad.sql");
    assert_eq!(error["line"], 3);
    db.drop_db().await;
}

/// Runs `migrate ARGS` on a pseudo-terminal (util-linux `script`), typing `answer` at it.
fn on_a_terminal(dir: &TempDir, args: &str, answer: &str, env: &[(&str, &str)]) -> (i32, String) {
    use std::io::Write;
    let command = format!("{} {args} --no-color", env!("CARGO_BIN_EXE_migrate"));
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(&dir.0)
        .env_remove("DATABASE_URL")
        .env_remove("GOOSE_DBSTRING")
        .env_remove("MIGRATE_ENVIRONMENT")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux script (Debian's bsdutils) runs the binary on a terminal");
    child.stdin.take().unwrap().write_all(format!("{answer}\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test]
async fn on_a_terminal_a_protected_environment_asks_for_its_name() {
    let db = TestDb::new("env_ask").await;
    let dir = project(&db);
    migrate_in(&dir.0, &["up", "--environment", "prod"], PROD).expect(0);
    let applied = db.versions().await.len();
    let (code, text) = on_a_terminal(&dir, "down --environment prod", "nope", PROD);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("environment prod is protected: type prod to run down there:"), "{text}");
    assert!(text.contains("not confirmed: down did not run on environment prod"), "{text}");
    assert_eq!(db.versions().await.len(), applied);
    let (code, text) = on_a_terminal(&dir, "down --environment prod", "prod", PROD);
    assert_eq!(code, 0, "{text}");
    assert_eq!(db.versions().await.len(), applied - 1, "{text}");
    db.drop_db().await;
}

/// `examples/migrate.toml`: the users' three environments, each database named by its pattern, prod
/// protected and backed up.
#[tokio::test]
async fn the_example_project_file_runs_all_three_environments() {
    use crate::support::admin_exec;
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/migrate.toml");
    let config = config.to_str().unwrap();
    // The names the file's patterns give (notes_dev, notes_release, notes): only this test uses them.
    let names = ["notes_dev", "notes_release", "notes"];
    for name in names {
        admin_exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        admin_exec(&format!("CREATE DATABASE {name}")).await;
    }
    let cwd = TempDir::new("example_project");
    let backups = TempDir::new("example_backups");
    let env = [
        ("POSTGRES_HOST", "127.0.0.1"),
        ("POSTGRES_PORT", "5432"),
        ("POSTGRES_USER", "postgres"),
        ("POSTGRES_PASSWORD", "unused-with-trust"),
        ("MIGRATE_BACKUP_DIR", backups.path()),
    ];
    // dev is the default environment.
    let dev = migrate_in(&cwd.0, &["up", "--config", config], &env).expect(0);
    assert!(dev.stderr.contains("/notes_dev?sslmode=disable (from environment dev in "), "{}", dev.stderr);
    migrate_in(&cwd.0, &["up", "--config", config, "--environment", "staging"], &env).expect(0);
    let prod = migrate_in(&cwd.0, &["up", "--config", config, "--environment", "prod"], &env).expect(0);
    assert!(prod.stderr.contains("/notes?sslmode=disable (from environment prod in "), "{}", prod.stderr);
    let dumps: Vec<_> =
        std::fs::read_dir(&backups.0).unwrap().filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    assert!(dumps.len() == 1 && dumps[0].starts_with("notes_") && dumps[0].ends_with(".dump"), "{dumps:?}");
    for name in names {
        let db = TestDb { name: name.to_owned() };
        assert_eq!(db.versions().await, ["1", "2"], "{name}");
    }
    migrate_in(&cwd.0, &["down", "--config", config, "--environment", "prod"], &env).expect(2);
    migrate_in(&cwd.0, &["down", "--config", config, "--environment", "staging"], &env).expect(0);
    let shown = migrate_in(&cwd.0, &["env", "--config", config, "--environment", "prod"], &env).expect(0);
    assert!(shown.stdout.contains("MIGRATE_PROTECTED=\"true\"\n"), "{}", shown.stdout);
    assert!(
        shown.stdout.contains(
            "MIGRATE_BACKUP=\"required: pg_dump to ${MIGRATE_BACKUP_DIR:-/backups}/{database}_{timestamp}.dump\"\n"
        ),
        "{}",
        shown.stdout
    );
    assert!(shown.stdout.contains("MIGRATE_SERVICE=\"notes-service\"\n"), "{}", shown.stdout);
    assert!(!shown.stdout.contains("unused-with-trust"), "{}", shown.stdout);
    for name in names {
        admin_exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
    }
}
