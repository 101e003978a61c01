//! Every failure we can reach, driven with a known password that must appear nowhere in stdout or
//! stderr, in goose's form and the modern form, as text and as JSON.

use migrate::postgres::pg_url_from_parts;
use sqlx::Connection;

use crate::support::{admin_options, drop_role, fixture, migrate, password_role, Run, TempDir, TestDb};

/// One failure to drive: a label, the arguments, extra variables, the expected exit code.
type Case<'a> = (&'a str, Vec<String>, Vec<(&'a str, String)>, i32);

const PASSWORD: &str = "Sup3r-Secret %/:@#?+ ü";

fn assert_hidden(run: &Run, what: &str) {
    let encoded: String = migrate::postgres::pg_url_from_parts("h", None, "u", Some(PASSWORD), "d", &[])
        .split_once(':')
        .and_then(|(_, rest)| rest.split_once(':'))
        .and_then(|(_, rest)| rest.split_once('@'))
        .map(|(password, _)| password.to_owned())
        .unwrap();
    for text in [&run.stdout, &run.stderr] {
        for secret in [PASSWORD, encoded.as_str(), "Sup3r-Secret"] {
            assert!(!text.contains(secret), "{what}: the password appears:\n{text}");
        }
    }
}

#[tokio::test]
async fn no_failure_prints_the_password() {
    let db = TestDb::new("secrets").await;
    let role = format!("mt_cli_secret_{}", std::process::id());
    password_role(&role, PASSWORD, &db).await;
    let options = admin_options();
    let host = options.get_host().to_owned();
    let port = options.get_port();
    let url = |host: &str, port: u16, password: &str| {
        pg_url_from_parts(
            host,
            Some(port),
            &role,
            Some(password),
            &db.name,
            &[("sslmode", "disable"), ("connect_timeout", "3")],
        )
    };
    let good = url(&host, port, PASSWORD);
    let basic = fixture("basic");
    let basic = basic.to_str().unwrap();
    let failing = fixture("failing");
    let failing = failing.to_str().unwrap();
    let bad_file = TempDir::new("secrets_bad_file");
    bad_file.write("00007_bad.sql", "-- +goose Up\nCREATE TABLE x (id int)\n");

    let mut cases: Vec<Case<'_>> = vec![
        (
            "bad host",
            vec!["-dir".into(), basic.into(), "postgres".into(), url("127.0.0.1", 1, PASSWORD), "up".into()],
            vec![],
            1,
        ),
        (
            "bad password",
            vec!["-dir".into(), basic.into(), "postgres".into(), url(&host, port, "wrong-Sup3r-Secret"), "up".into()],
            vec![],
            1,
        ),
        ("bad SQL", vec!["-dir".into(), failing.into(), "postgres".into(), good.clone(), "up".into()], vec![], 1),
        (
            "bad file",
            vec!["-dir".into(), bad_file.path().into(), "postgres".into(), good.clone(), "up".into()],
            vec![],
            1,
        ),
        // The DSN given twice shifts goose's arguments: the "command" is then the DSN itself.
        (
            "shifted arguments",
            vec!["postgres".into(), good.clone(), "up".into()],
            vec![("GOOSE_DBSTRING", good.clone())],
            2,
        ),
        ("bad flag after the DSN", vec!["postgres".into(), good.clone(), "up".into(), "-bogus".into()], vec![], 2),
        ("modern positional DSN", vec!["up".into(), good.clone()], vec![], 2),
        (
            "bad password from parts",
            vec![
                "status".into(),
                "--dir".into(),
                basic.into(),
                "--db-host".into(),
                host.clone(),
                "--db-user".into(),
                role.clone(),
                "--db-name".into(),
                db.name.clone(),
                "--db-password-env".into(),
                "PW".into(),
            ],
            vec![("PW", format!("{PASSWORD}-wrong"))],
            1,
        ),
        ("env command", vec!["env".into()], vec![("GOOSE_DBSTRING", good.clone())], 0),
        (
            "verbose run",
            // -allow-changed: fixtures/failing applied its own version 1 to this database above.
            vec![
                "-v".into(),
                "-allow-changed".into(),
                "-dir".into(),
                basic.into(),
                "postgres".into(),
                good.clone(),
                "up-to".into(),
                "1".into(),
            ],
            vec![("PGPASSWORD", PASSWORD.to_owned())],
            0,
        ),
    ];
    // The same failures as JSON documents.
    let json_cases: Vec<_> = cases
        .iter()
        .filter(|(_, args, _, code)| *code == 1 && args[0] == "-dir")
        .map(|(what, args, env, code)| {
            let mut args = args.clone();
            args.push("-json".into());
            (*what, args, env.clone(), *code)
        })
        .collect();
    cases.extend(json_cases);
    for (what, args, env, code) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let run = migrate(&args, &env);
        assert_eq!(run.code, *code, "{what}: {}", run.stderr);
        assert_hidden(&run, what);
    }

    // A lock timeout: another session holds goose's lock in this database.
    let mut holder = sqlx::postgres::PgConnection::connect_with(&options.clone().database(&db.name)).await.unwrap();
    sqlx::query("SELECT pg_advisory_lock(4097083626)").execute(&mut holder).await.unwrap();
    let lock_args = ["up", "--allow-changed", "--dir", basic, "--database-url", &good, "--lock-wait", "1s"];
    let run = migrate(&lock_args, &[]);
    assert_eq!(run.code, 1, "lock timeout: {}", run.stderr);
    assert!(run.stderr.contains("waiting for the migration lock"), "{}", run.stderr);
    assert_hidden(&run, "lock timeout");
    let run = migrate(&[&lock_args[..], &["--json"]].concat(), &[]);
    assert_eq!(run.code, 1);
    assert_hidden(&run, "lock timeout, JSON");
    holder.close().await.unwrap();

    db.drop_db().await;
    drop_role(&role).await;
}

/// Input that once made the redaction panic, and a panic itself: neither may print what the user typed.
#[test]
fn panics_never_print_the_input() {
    let run = migrate(&["postgres", "host=127.0.0.1 port=1 password=sécret-pw x é", "status"], &[]);
    assert_ne!(run.code, 101, "it panicked: {}", run.stderr);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("sécret-pw"), "{}", run.stderr);

    // A debug build panics on request, with the arguments in the panic message; the hook shows neither.
    let run = migrate(&["postgres", "postgres://u:Sup3r-Secret@h/db", "status"], &[("MIGRATE_TEST_PANIC", "1")]);
    assert_eq!(run.code, 101, "{}", run.stderr);
    assert!(run.stderr.starts_with("migrate: internal error at crates/migrate-cli/src/lib.rs:"), "{}", run.stderr);
    assert!(!run.stderr.contains("Sup3r-Secret") && !run.stderr.contains("test panic"), "{}", run.stderr);
}

/// A password holding every character JSON escapes, substituted into a migration by ENVSUB: the JSON
/// documents show it neither as typed nor escaped.
#[test]
fn json_documents_never_show_an_escaped_password() {
    let password = "q\"uo\\te\tta\nb\u{1}ctl/é";
    let dir = TempDir::new("secrets_json");
    dir.write(
        "00001_role.sql",
        "-- +goose ENVSUB ON\n-- +goose Up\nALTER ROLE app PASSWORD '${PGPASSWORD}';\n-- +goose ENVSUB OFF\n",
    );
    let run = migrate(&["validate", "--json", "--dir", dir.path()], &[("PGPASSWORD", password)]).expect(0);
    let escaped = serde_json::to_string(password).unwrap();
    let escaped = escaped.trim_matches('"');
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(password) && !text.contains(escaped), "the password appears:\n{text}");
    }
    assert!(run.stdout.contains("PASSWORD 'xxxxx'"), "{}", run.stdout);
}
