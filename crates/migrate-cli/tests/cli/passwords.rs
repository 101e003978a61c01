//! Every character that breaks hand-built URLs, in the password of a real role that pg_hba makes give
//! a password, given through each way the CLI takes one.

use migrate::postgres::pg_url_from_parts;

use crate::support::{admin_options, drop_role, migrate, password_role, shell, TempDir, TestDb};

/// One password per troublesome character, and one with all of them.
const PASSWORDS: &[&str] = &[
    "per%cent",
    "per%25cent",
    "sl/ash",
    "co:lon",
    "at@sign",
    "ha#sh",
    "quest?ion",
    "spa ce",
    "pl+us",
    "amp&equals=",
    "ünïcødé-密码",
    // SASLprep refuses these; PostgreSQL then uses the password as it is, and so must the client.
    "tab\there",
    "emoji-🦀",
    "all % / : @ # ? + é",
];

#[tokio::test]
async fn every_special_character_connects() {
    let db = TestDb::new("pw").await;
    let options = admin_options();
    let (host, port) = (options.get_host().to_owned(), options.get_port().to_string());
    let files = TempDir::new("pw_files");
    let migrations = TempDir::new("pw_migrations");
    // ENVSUB names the table after the password's index, so each role's `up` creates its own.
    migrations.write("00001_t.sql", "-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE pw_$PW_INDEX (id int);\n");
    for (index, password) in PASSWORDS.iter().enumerate() {
        let role = format!("mt_cli_pw_{index}_{}", std::process::id());
        password_role(&role, password, &db).await;
        let context = format!("password {password:?}");
        let table = |way: &str| format!("--table=v_{index}_{way}");
        // Each way gets its own version table; only the file way applies the migration.
        let common = [
            "--dir",
            migrations.path(),
            "--db-host",
            &host,
            "--db-port",
            &port,
            "--db-user",
            &role,
            "--db-name",
            &db.name,
        ];

        // --db-password-env NAME.
        let mut args = vec!["status"];
        args.extend(common);
        args.extend(["--db-password-env", "SECRET_PW"]);
        let t = table("env");
        args.push(&t);
        migrate(&args, &[("SECRET_PW", password)]).expect(0);

        // --db-password-file PATH (with the trailing newline echo would add).
        let file = files.0.join(format!("pw{index}"));
        std::fs::write(&file, format!("{password}\n")).unwrap();
        let mut args = vec!["up"];
        args.extend(common);
        let file = file.to_str().unwrap().to_owned();
        args.extend(["--db-password-file", &file]);
        let t = table("file");
        args.push(&t);
        let run = migrate(&args, &[("PW_INDEX", &index.to_string())]);
        assert_eq!(run.code, 0, "{context}: {}", run.stderr);
        assert!(db.has_table(&format!("pw_{index}")).await, "{context}");

        // The job's variables: POSTGRES_HOST/PORT/USER/PASSWORD/DATABASE.
        let env = [
            ("POSTGRES_HOST", host.as_str()),
            ("POSTGRES_PORT", port.as_str()),
            ("POSTGRES_USER", role.as_str()),
            ("POSTGRES_PASSWORD", password),
            ("POSTGRES_DATABASE", db.name.as_str()),
        ];
        let t = table("vars");
        let run = migrate(&["status", "--dir", migrations.path(), &t], &env);
        assert_eq!(run.code, 0, "{context}: {}", run.stderr);

        // The URL pg_url_from_parts builds, through goose's job template.
        let url = pg_url_from_parts(
            &host,
            Some(options.get_port()),
            &role,
            Some(password),
            &db.name,
            &[("sslmode", "disable")],
        );
        let script =
            format!("migrate -dir {} -table v_{index}_url postgres \"$DATABASE_URL\" status", migrations.path());
        let run = shell(&script, &[("DATABASE_URL", &url)]);
        assert_eq!(run.code, 0, "{context}: {}", run.stderr);

        // And a wrong password is refused, so the tests above did check it.
        let mut args = vec!["status"];
        args.extend(common);
        args.extend(["--db-password-env", "SECRET_PW"]);
        let run = migrate(&args, &[("SECRET_PW", "wrong-password")]);
        assert_eq!(run.code, 1, "{context}: {}", run.stderr);
        assert!(run.stderr.contains("password authentication failed"), "{context}: {}", run.stderr);
    }
    db.drop_db().await;
    for index in 0..PASSWORDS.len() {
        drop_role(&format!("mt_cli_pw_{index}_{}", std::process::id())).await;
    }
}
