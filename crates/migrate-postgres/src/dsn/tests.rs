//! Tests for PostgreSQL DSN parsing, redaction, URL building and the sqlx mapping.

use std::collections::HashMap;
use std::fmt::Write;

use percent_encoding::utf8_percent_encode;
use sqlx::postgres::PgSslMode;

use crate::dsn::syntax::COMPONENT;
use crate::dsn::{pg_url_from_parts, PgConnSpec, PgHost};

/// Parses `dsn` with the environment `env` and compares a one-line summary (or `error: <Display>`)
/// with `expected`.
fn check(dsn: &str, env: &[(&str, &str)], expected: &str) {
    let actual = match parse(dsn, env) {
        Ok(spec) => summary(&spec),
        Err(err) => format!("error: {err}"),
    };
    assert_eq!(actual, expected, "dsn: {dsn}");
}

fn parse(dsn: &str, env: &[(&str, &str)]) -> Result<PgConnSpec, crate::dsn::DsnError> {
    let env: HashMap<&str, &str> = env.iter().copied().collect();
    PgConnSpec::parse(dsn, &|var| env.get(var).map(|v| (*v).to_owned()))
}

fn summary(spec: &PgConnSpec) -> String {
    let hosts: Vec<String> = spec
        .hosts()
        .map(|host| match host {
            PgHost::Tcp { host, port } => format!("tcp({host}):{port}"),
            PgHost::Unix { dir, port } => format!("unix({}):{port}", dir.display()),
        })
        .collect();
    let mut out = format!(
        "{} user={} password={:?} db={} sslmode={}",
        hosts.join(","),
        spec.user,
        spec.password(),
        spec.dbname,
        spec.sslmode
    );
    let files = [("rootcert", &spec.sslrootcert), ("cert", &spec.sslcert), ("key", &spec.sslkey)];
    for (name, file) in files {
        if let Some(file) = file {
            write!(out, " {name}={}", file.display()).unwrap();
        }
    }
    if let Some(name) = &spec.application_name {
        write!(out, " app={name:?}").unwrap();
    }
    if let Some(timeout) = spec.connect_timeout {
        write!(out, " timeout={timeout:?}").unwrap();
    }
    let lists = [("options", &spec.options), ("params", &spec.params), ("ignored", &spec.ignored_params)];
    for (name, list) in lists {
        if !list.is_empty() {
            let items: Vec<String> = list.iter().map(|(k, v)| format!("{k}={v}")).collect();
            write!(out, " {name}=[{}]", items.join("; ")).unwrap();
        }
    }
    out
}

#[test]
fn urls() {
    let cases: &[(&str, &str)] = &[
        (
            "postgres://user:pass@localhost:5432/db?sslmode=disable",
            r#"tcp(localhost):5432 user=user password=Some("pass") db=db sslmode=disable"#,
        ),
        ("postgresql://u@h/d", "tcp(h):5432 user=u password=None db=d sslmode=prefer"),
        ("PostgreSQL://u@H/d", "tcp(H):5432 user=u password=None db=d sslmode=prefer"),
        ("  postgres://u@h/d\n", "tcp(h):5432 user=u password=None db=d sslmode=prefer"),
        (
            "postgres://us%20er:p%40ss%3Aw%2Fd%3F%23%25%2B@h/my%20db",
            r#"tcp(h):5432 user=us er password=Some("p@ss:w/d?#%+") db=my db sslmode=prefer"#,
        ),
        // Unencoded '@', ':' and '#' in a password are tolerated.
        ("postgres://u:p@ss:w#rd@h/db", r#"tcp(h):5432 user=u password=Some("p@ss:w#rd") db=db sslmode=prefer"#),
        ("postgres://u:@h/db", "tcp(h):5432 user=u password=None db=db sslmode=prefer"),
        ("postgres://u@[::1]:5433/db", "tcp(::1):5433 user=u password=None db=db sslmode=prefer"),
        ("postgres://u@[fe80::1%25eth0]/db", "tcp(fe80::1%eth0):5432 user=u password=None db=db sslmode=prefer"),
        ("postgres://u@127.0.0.1:6000", "tcp(127.0.0.1):6000 user=u password=None db=u sslmode=prefer"),
        (
            "postgres://user@/db?host=/var/run/postgresql",
            "unix(/var/run/postgresql):5432 user=user password=None db=db sslmode=prefer",
        ),
        ("postgres:///db?host=/sock&port=5433", "unix(/sock):5433 user=postgres password=None db=db sslmode=prefer"),
        (
            "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/postgres",
            "unix(/var/run/postgresql):5432 user=postgres password=None db=postgres sslmode=prefer",
        ),
        ("postgres://", "tcp(localhost):5432 user=postgres password=None db=postgres sslmode=prefer"),
        ("postgres://:5433/db", "tcp(localhost):5433 user=postgres password=None db=db sslmode=prefer"),
        // Multi-host lists.
        ("postgres://u@h1:5432,h2:5433/db", "tcp(h1):5432,tcp(h2):5433 user=u password=None db=db sslmode=prefer"),
        (
            "postgres://u@h1,h2:5433,[::1]/db",
            "tcp(h1):5432,tcp(h2):5433,tcp(::1):5432 user=u password=None db=db sslmode=prefer",
        ),
        ("postgres://u@h1,h2/db?port=6000", "tcp(h1):6000,tcp(h2):6000 user=u password=None db=db sslmode=prefer"),
        // Query parameters.
        (
            "postgres://u@h/db?sslmode=verify-full&sslrootcert=/ca.pem&sslcert=/c.pem&sslkey=/k.pem\
             &application_name=my%20app&connect_timeout=10",
            r#"tcp(h):5432 user=u password=None db=db sslmode=verify-full rootcert=/ca.pem cert=/c.pem key=/k.pem app="my app" timeout=10s"#,
        ),
        (
            "postgres://u@h/db?password=a+b&application_name=x+y",
            r#"tcp(h):5432 user=u password=Some("a+b") db=db sslmode=prefer app="x+y""#,
        ),
        (
            "postgres://u:p@h:1/db?user=v&password=q&dbname=e&host=k&port=2",
            r#"tcp(k):2 user=v password=Some("q") db=e sslmode=prefer"#,
        ),
        ("postgres://h?database=x", "tcp(h):5432 user=postgres password=None db=x sslmode=prefer"),
        ("postgres://u@h/db?ssl=true", "tcp(h):5432 user=u password=None db=db sslmode=require"),
        ("postgres://u@h/db?connect_timeout=0", "tcp(h):5432 user=u password=None db=db sslmode=prefer"),
        ("postgres://u@h/db?&&sslmode=allow&", "tcp(h):5432 user=u password=None db=db sslmode=allow"),
        (
            "postgres://u@h/db?options=-c%20search_path%3Dapp%2Cpublic%20-c%20statement_timeout%3D150ms\
             %20--lock-timeout%3D1s%20-cgeqo%3Doff",
            "tcp(h):5432 user=u password=None db=db sslmode=prefer \
             options=[search_path=app,public; statement_timeout=150ms; lock_timeout=1s; geqo=off]",
        ),
        (
            "postgres://u@h/db?options=-c%20search_path%3Da%5C%20b",
            "tcp(h):5432 user=u password=None db=db sslmode=prefer options=[search_path=a b]",
        ),
        (
            "postgres://u@h/db?search_path=app&lock_timeout=1s&my.setting=x",
            "tcp(h):5432 user=u password=None db=db sslmode=prefer \
             params=[search_path=app; lock_timeout=1s; my.setting=x]",
        ),
        (
            "postgres://u@h/db?target_session_attrs=read-write&statement-cache-capacity=0&sslpassword=k",
            "tcp(h):5432 user=u password=None db=db sslmode=prefer \
             ignored=[target_session_attrs=read-write; statement-cache-capacity=0; sslpassword=k]",
        ),
        (
            "postgres://u@h/db?search_path=a&search_path=b",
            "tcp(h):5432 user=u password=None db=db sslmode=prefer params=[search_path=b]",
        ),
    ];
    for (dsn, expected) in cases {
        check(dsn, &[], expected);
    }
}

#[test]
fn keyword_value_dsns() {
    let cases: &[(&str, &str)] = &[
        (
            r"host=localhost port=5432 user=postgres dbname=x sslmode=disable password='a b\' c'",
            r#"tcp(localhost):5432 user=postgres password=Some("a b' c") db=x sslmode=disable"#,
        ),
        ("  host = h  port= 5433\tdbname =d  ", "tcp(h):5433 user=postgres password=None db=d sslmode=prefer"),
        (r"password=a\ b\\c host=h", r#"tcp(h):5432 user=postgres password=Some("a b\\c") db=postgres sslmode=prefer"#),
        (r"password='' host=h", "tcp(h):5432 user=postgres password=None db=postgres sslmode=prefer"),
        (
            r"password='it''s' host=h",
            "error: syntax error at byte 13 of the key=value DSN: expected '=' after a keyword",
        ),
        ("user=u password=pä€ host=h", r#"tcp(h):5432 user=u password=Some("pä€") db=u sslmode=prefer"#),
        (
            "host=h1,h2 port=5432,5433",
            "tcp(h1):5432,tcp(h2):5433 user=postgres password=None db=postgres sslmode=prefer",
        ),
        ("host=h1,h2 port=5433", "tcp(h1):5433,tcp(h2):5433 user=postgres password=None db=postgres sslmode=prefer"),
        (
            "host=h1,,/tmp port=1,,3",
            "tcp(h1):1,tcp(localhost):5432,unix(/tmp):3 user=postgres password=None db=postgres sslmode=prefer",
        ),
        ("host=/tmp dbname=x", "unix(/tmp):5432 user=postgres password=None db=x sslmode=prefer"),
        ("host=::1 dbname=x", "tcp(::1):5432 user=postgres password=None db=x sslmode=prefer"),
        ("host=[::1] dbname=x", "tcp(::1):5432 user=postgres password=None db=x sslmode=prefer"),
        (
            "options='-c search_path=app -c geqo=off' search_path=x",
            "tcp(localhost):5432 user=postgres password=None db=postgres sslmode=prefer \
             options=[search_path=app; geqo=off] params=[search_path=x]",
        ),
        (
            "database=x ssl=true application_name='migrate test' connect_timeout=3",
            r#"tcp(localhost):5432 user=postgres password=None db=x sslmode=require app="migrate test" timeout=3s"#,
        ),
        // As in libpq, whitespace after '=' is skipped, so an empty value must be quoted.
        ("host=h password= port=1", r#"tcp(h):5432 user=postgres password=Some("port=1") db=postgres sslmode=prefer"#),
        // An unquoted `options` value stops at the space.
        (
            "options=-c search_path=x",
            "error: invalid options `-c` in the DSN: only `-c name=value` and `--name=value` are supported",
        ),
    ];
    for (dsn, expected) in cases {
        check(dsn, &[], expected);
    }
}

#[test]
fn environment_and_defaults() {
    let env_all: &[(&str, &str)] = &[
        ("PGHOST", "envhost"),
        ("PGPORT", "6543"),
        ("PGUSER", "bob"),
        ("PGPASSWORD", "envpw"),
        ("PGDATABASE", "envdb"),
        ("PGSSLMODE", "require"),
        ("PGSSLROOTCERT", "/env/ca.pem"),
        ("PGSSLCERT", "/env/c.pem"),
        ("PGSSLKEY", "/env/k.pem"),
        ("PGAPPNAME", "envapp"),
        ("PGCONNECT_TIMEOUT", "7"),
        ("PGOPTIONS", "-c geqo=off"),
        ("USER", "alice"),
    ];
    /// A DSN, an environment and the expected summary.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        ("", &[], "tcp(localhost):5432 user=postgres password=None db=postgres sslmode=prefer"),
        ("", &[("USER", "alice")], "tcp(localhost):5432 user=alice password=None db=alice sslmode=prefer"),
        (
            "",
            &[("LOGNAME", "carol"), ("USER", "")],
            "tcp(localhost):5432 user=carol password=None db=carol sslmode=prefer",
        ),
        (
            "",
            env_all,
            r#"tcp(envhost):6543 user=bob password=Some("envpw") db=envdb sslmode=require rootcert=/env/ca.pem cert=/env/c.pem key=/env/k.pem app="envapp" timeout=7s options=[geqo=off]"#,
        ),
        (
            "postgres://u:p@h:1/db?sslmode=disable&application_name=a&connect_timeout=2&options=-c%20x%3D1\
             &sslrootcert=/ca&sslcert=/c&sslkey=/k",
            env_all,
            r#"tcp(h):1 user=u password=Some("p") db=db sslmode=disable rootcert=/ca cert=/c key=/k app="a" timeout=2s options=[x=1]"#,
        ),
        (
            "postgres:///",
            env_all,
            r#"tcp(envhost):6543 user=bob password=Some("envpw") db=envdb sslmode=require rootcert=/env/ca.pem cert=/env/c.pem key=/env/k.pem app="envapp" timeout=7s options=[geqo=off]"#,
        ),
        (
            "postgres://h/db",
            &[("PGHOST", "/sock"), ("PGPORT", "1"), ("USER", "alice")],
            "tcp(h):1 user=alice password=None db=db sslmode=prefer",
        ),
        (
            "",
            &[("PGHOST", "/sock,h2"), ("PGPORT", "1,2")],
            "unix(/sock):1,tcp(h2):2 user=postgres password=None db=postgres sslmode=prefer",
        ),
        // Empty variables count as unset.
        (
            "",
            &[("PGHOST", ""), ("PGPORT", ""), ("PGUSER", ""), ("PGSSLMODE", "")],
            "tcp(localhost):5432 user=postgres password=None db=postgres sslmode=prefer",
        ),
        // A keyword given empty in the DSN blocks its variable, as in libpq.
        (
            "host=h password='' port=''",
            &[("PGPASSWORD", "envpw"), ("PGPORT", "1")],
            "tcp(h):5432 user=postgres password=None db=postgres sslmode=prefer",
        ),
        (
            "",
            &[("PGPORT", "abc")],
            "error: invalid port `abc` in environment variable PGPORT: expected a number from 1 to 65535",
        ),
        (
            "",
            &[("PGSSLMODE", "on")],
            "error: invalid sslmode `on` in environment variable PGSSLMODE: \
             expected disable, allow, prefer, require, verify-ca or verify-full",
        ),
        (
            "",
            &[("PGCONNECT_TIMEOUT", "5s")],
            "error: invalid connect_timeout `5s` in environment variable PGCONNECT_TIMEOUT: \
             expected a whole number of seconds",
        ),
    ];
    for (dsn, env, expected) in cases {
        check(dsn, env, expected);
    }
}

#[test]
fn errors() {
    let cases: &[(&str, &str)] = &[
        (
            "localhost:5432",
            "error: unrecognised DSN: expected a postgres:// or postgresql:// URL, or libpq key=value pairs",
        ),
        ("mysql://u@h/db", "error: unsupported URL scheme `mysql`: expected postgres:// or postgresql://"),
        (
            "postgres://u:p%zz@h/db",
            "error: invalid percent-encoding in the password of the URL: \
             every '%' must start a %XX escape of UTF-8 text",
        ),
        (
            "postgres://u:p%C3@h/db",
            "error: invalid percent-encoding in the password of the URL: \
             every '%' must start a %XX escape of UTF-8 text",
        ),
        (
            "postgres://u%@h/db",
            "error: invalid percent-encoding in the user name of the URL: \
             every '%' must start a %XX escape of UTF-8 text",
        ),
        (
            "postgres://u@h/d%b",
            "error: invalid percent-encoding in the database name of the URL: \
             every '%' must start a %XX escape of UTF-8 text",
        ),
        (
            "postgres://u:pa/ss@h/db",
            "error: the URL has an '@' after its host: \
             percent-encode '@', '/' and '?' in the user name, password and database name",
        ),
        (
            "postgres://u:pa?ss@h/db",
            "error: the URL has an '@' after its host: \
             percent-encode '@', '/' and '?' in the user name, password and database name",
        ),
        ("postgres://u@[::1/db", "error: invalid host in the URL: an IPv6 address has no closing ']'"),
        (
            "postgres://u@[::1]x/db",
            "error: invalid host in the URL: only ':port' may follow an IPv6 address in brackets",
        ),
        ("postgres://u@[h]/db", "error: invalid host in the URL: brackets may only hold an IPv6 address"),
        (
            "postgres://u@::1/db",
            "error: invalid host in the URL: an IPv6 address must be written in brackets, as in [::1]:5432",
        ),
        ("postgres://u@h:abc/db", "error: invalid port in the URL's host list: expected a number from 1 to 65535"),
        ("postgres://u@h:70000/db", "error: invalid port `70000` in the DSN: expected a number from 1 to 65535"),
        ("postgres://u@h:0/db", "error: invalid port `0` in the DSN: expected a number from 1 to 65535"),
        ("postgres://u@h/db?port=+5", "error: invalid port `+5` in the DSN: expected a number from 1 to 65535"),
        (
            "postgres://u@h1,h2,h3/db?port=1,2",
            "error: 3 hosts but 2 ports: give one port for all hosts, or one per host",
        ),
        ("postgres://u@h/db?sslmode", "error: query parameter 1 of the URL has no '='"),
        (
            "postgres://u@h/db?sslmode=bogus",
            "error: invalid sslmode `bogus` in the DSN: \
             expected disable, allow, prefer, require, verify-ca or verify-full",
        ),
        (
            "postgres://u@h/db?sslmode=REQUIRE",
            "error: invalid sslmode `REQUIRE` in the DSN: \
             expected disable, allow, prefer, require, verify-ca or verify-full",
        ),
        (
            "postgres://u@h/db?ssl=false",
            "error: invalid ssl `false` in the DSN: only ssl=true (meaning sslmode=require) is supported",
        ),
        (
            "postgres://u@h/db?connect_timeout=-1",
            "error: invalid connect_timeout `-1` in the DSN: expected a whole number of seconds",
        ),
        (
            "postgres://u@h/db?options=-B%201",
            "error: invalid options `-B 1` in the DSN: only `-c name=value` and `--name=value` are supported",
        ),
        (
            "postgres://u@h/db?options=-c",
            "error: invalid options `-c` in the DSN: only `-c name=value` and `--name=value` are supported",
        ),
        (
            "postgres://u@h/db?bad%20key=1",
            "error: `bad key` is neither a libpq keyword nor a valid PostgreSQL setting name",
        ),
        ("postgres://u@h/db?=1", "error: `` is neither a libpq keyword nor a valid PostgreSQL setting name"),
        ("host=h password", "error: syntax error at byte 7 of the key=value DSN: expected '=' after a keyword"),
        ("host=h password='abc", "error: syntax error at byte 16 of the key=value DSN: unterminated quoted value"),
        (r"host=h password='abc\'", "error: syntax error at byte 16 of the key=value DSN: unterminated quoted value"),
        ("=x", "error: syntax error at byte 0 of the key=value DSN: '=' without a keyword before it"),
    ];
    for (dsn, expected) in cases {
        check(dsn, &[], expected);
    }
}

/// Passwords that break naive URL handling.
const NASTY_PASSWORDS: &[&str] = &[
    "s3cr%t:@/#? pä",
    "p%41:@#?/ +w",
    "%",
    "%%",
    "%2F",
    "%zz",
    "a+b",
    "a b",
    " leading and trailing ",
    "@",
    ":",
    "/",
    "?",
    "#",
    "&",
    "=",
    "a&b=c",
    "[::1]",
    ",",
    "'",
    "''",
    "\\",
    "\\'",
    "\"",
    "tab\tnewline\n",
    "日本語パスワード",
    "crab 🦀",
    "xxxxx",
];

#[test]
fn url_from_parts_round_trips() {
    let hosts: &[(&str, Option<u16>, &str)] = &[
        ("localhost", Some(5432), "tcp(localhost):5432"),
        ("db.example.com", None, "tcp(db.example.com):5432"),
        ("::1", Some(5433), "tcp(::1):5433"),
        ("fe80::1%eth0", None, "tcp(fe80::1%eth0):5432"),
        ("/var/run/postgresql", Some(5433), "unix(/var/run/postgresql):5433"),
        ("", Some(6000), "tcp(localhost):6000"),
    ];
    let users = ["postgres", "us er", "u@x:y", "ü"];
    let dbnames = ["db", "my db", "d/b?#@%"];
    for password in NASTY_PASSWORDS {
        for (host, port, host_summary) in hosts {
            for user in users {
                for dbname in dbnames {
                    let params = [("application_name", *password), ("search_path", "a,b")];
                    let url = pg_url_from_parts(host, *port, user, Some(password), dbname, &params);
                    let spec = parse(&url, &[]).unwrap();
                    let expected = format!(
                        "{host_summary} user={user} password={:?} db={dbname} sslmode=prefer \
                         app={password:?} params=[search_path=a,b]",
                        Some(password)
                    );
                    assert_eq!(summary(&spec), expected, "url: {url}");
                }
            }
        }
    }
}

#[test]
fn url_from_parts_shapes() {
    /// Host, port, user, password, database and the expected URL.
    type Case<'a> = (&'a str, Option<u16>, &'a str, Option<&'a str>, &'a str, &'a str);
    let cases: &[Case<'_>] = &[
        ("h", Some(1), "u", Some("p"), "d", "postgres://u:p@h:1/d"),
        ("h", None, "", None, "d", "postgres://h/d"),
        ("h", None, "", Some("p"), "", "postgres://:p@h/"),
        ("::1", Some(5432), "u", None, "d", "postgres://u@[::1]:5432/d"),
        ("/tmp", None, "u", None, "d", "postgres://u@%2Ftmp/d"),
        ("", None, "u", None, "d", "postgres://u@/d"),
        ("h", None, "u", Some("p%41:@#?/ +w"), "d", "postgres://u:p%2541%3A%40%23%3F%2F%20%2Bw@h/d"),
    ];
    for (host, port, user, password, dbname, expected) in cases {
        assert_eq!(pg_url_from_parts(host, *port, user, *password, dbname, &[]), *expected);
    }
    assert_eq!(
        pg_url_from_parts("h", None, "u", None, "d", &[("sslmode", "disable"), ("a b", "c&d")]),
        "postgres://u@h/d?sslmode=disable&a%20b=c%26d"
    );
}

/// Compares the redacted URL of a parsed DSN, and checks that it parses back to the same spec
/// with the password replaced.
fn check_redacted(dsn: &str, expected: &str) {
    let spec = parse(dsn, &[]).unwrap();
    let redacted = spec.redacted();
    assert_eq!(redacted, expected, "dsn: {dsn}");
    assert_eq!(spec.to_string(), redacted);
    let reparsed = parse(&redacted, &[]).unwrap();
    let mut expected_spec = spec.clone();
    expected_spec.password = spec.password.as_ref().map(|_| "xxxxx".to_owned());
    for (key, value) in &mut expected_spec.ignored_params {
        if key.contains("password") {
            *value = "xxxxx".to_owned();
        }
    }
    assert_eq!(reparsed, expected_spec, "redacted: {redacted}");
}

#[test]
fn redacted_urls() {
    let cases: &[(&str, &str)] = &[
        ("postgres://u:secret@h/db", "postgres://u:xxxxx@h:5432/db?sslmode=prefer"),
        ("postgres://u@h/db", "postgres://u@h:5432/db?sslmode=prefer"),
        (
            "host=/var/run/postgresql,::1,h port=1,2,3 user='a b' password=x dbname=d/b",
            "postgres://a%20b:xxxxx@%2Fvar%2Frun%2Fpostgresql:1,[::1]:2,h:3/d%2Fb?sslmode=prefer",
        ),
        (
            "postgres://u:s3cr%25t@h/db?sslmode=verify-ca&connect_timeout=9&application_name=a%20b\
             &options=-c%20search_path%3Da%5C%20b&sslrootcert=/ca&sslcert=/c&sslkey=/k\
             &lock_timeout=1s&sslpassword=keypw&keepalives=1",
            "postgres://u:xxxxx@h:5432/db?sslmode=verify-ca&connect_timeout=9&application_name=a%20b\
             &options=-c%20search_path%3Da%5C%20b&sslrootcert=%2Fca&sslcert=%2Fc&sslkey=%2Fk\
             &lock_timeout=1s&sslpassword=xxxxx&keepalives=1",
        ),
    ];
    for (dsn, expected) in cases {
        check_redacted(dsn, expected);
    }
}

/// Compares what the sqlx getters report for the options built from `dsn`.
fn check_connect(dsn: &str, expected: &str) {
    let spec = parse(dsn, &[]).unwrap();
    let options = spec.to_connect_options();
    let actual = format!(
        "host={} port={} socket={:?} user={} db={:?} ssl={:?} app={:?} options={:?}",
        options.get_host(),
        options.get_port(),
        options.get_socket(),
        options.get_username(),
        options.get_database(),
        options.get_ssl_mode(),
        options.get_application_name(),
        options.get_options(),
    );
    assert_eq!(actual, expected, "dsn: {dsn}");
}

#[test]
fn connect_options() {
    let cases: &[(&str, &str)] = &[
        (
            "postgres://u:p@[::1]:5433/db?sslmode=verify-full",
            r#"host=::1 port=5433 socket=None user=u db=Some("db") ssl=VerifyFull app=Some("migrate") options=None"#,
        ),
        (
            "postgres://u@/db?host=/var/run/postgresql&port=5433&sslmode=require",
            r#"host=/var/run/postgresql port=5433 socket=Some("/var/run/postgresql") user=u db=Some("db") ssl=Disable app=Some("migrate") options=None"#,
        ),
        (
            "host=h sslmode=disable application_name=svc options='-c geqo=off' search_path='app x'",
            r#"host=h port=5432 socket=None user=postgres db=Some("postgres") ssl=Disable app=Some("svc") options=Some("-c geqo=off -c search_path=app\\ x")"#,
        ),
        (
            "host=h sslmode=allow",
            r#"host=h port=5432 socket=None user=postgres db=Some("postgres") ssl=Allow app=Some("migrate") options=None"#,
        ),
        (
            "host=h sslmode=verify-ca",
            r#"host=h port=5432 socket=None user=postgres db=Some("postgres") ssl=VerifyCa app=Some("migrate") options=None"#,
        ),
    ];
    for (dsn, expected) in cases {
        check_connect(dsn, expected);
    }
}

#[test]
fn connect_options_carry_password_certificates_and_fallback_hosts() {
    let spec =
        parse("postgres://u:p%20w@h1:1,h2:2/db?sslrootcert=/ca.pem&sslcert=/c.pem&sslkey=/k.pem&sslmode=prefer", &[])
            .unwrap();
    // sqlx has no getters for these; its derived Debug shows them.
    let debug = format!("{:?}", spec.to_connect_options());
    for needle in [
        r#"password: Some("p w")"#,
        r#"ssl_root_cert: Some(File("/ca.pem"))"#,
        r#"ssl_client_cert: Some(File("/c.pem"))"#,
        r#"ssl_client_key: Some(File("/k.pem"))"#,
    ] {
        assert!(debug.contains(needle), "{needle} not in {debug}");
    }
    let ssl = spec.to_connect_options().get_ssl_mode();
    assert!(matches!(ssl, PgSslMode::Prefer), "{ssl:?}");
    let fallbacks: Vec<(String, u16)> = spec
        .fallback_hosts
        .iter()
        .map(|host| {
            let options = spec.to_connect_options_for(host);
            (options.get_host().to_owned(), options.get_port())
        })
        .collect();
    assert_eq!(fallbacks, [("h2".to_owned(), 2)]);
}

/// The password must not leak through any error message, `Debug` or `Display`.
#[test]
fn password_never_leaks() {
    let password = "s3cr%t:@/#? pä";
    let encoded: String = utf8_percent_encode(password, COMPONENT).collect();
    let leaks = |text: &str| text.contains("s3cr") || text.contains("pä") || text.contains("%C3%A4");

    let failing: Vec<(String, Vec<(&str, &str)>)> = vec![
        (format!("postgres://u:{password}@h/db"), vec![]),
        (format!("postgres://u:{encoded}@h:bad/db"), vec![]),
        (format!("postgres://u:{encoded}@h:99999/db"), vec![]),
        (format!("postgres://u:{encoded}@[::1/db"), vec![]),
        (format!("postgres://u:{encoded}@h/db?sslmode=nope"), vec![]),
        (format!("postgres://u:{encoded}@h/db?sslmode"), vec![]),
        (format!("postgres://u:{encoded}@h/db%"), vec![]),
        (format!("postgres://u@h/db?password={encoded}&port=x"), vec![]),
        (format!("postgres://u@h/db?password={password}"), vec![]),
        (format!("host=h password={password} port=1"), vec![]),
        (format!("host=h password='{password}"), vec![]),
        (format!("host=h password='{password}' sslmode=bogus"), vec![]),
        (format!("host=h password='{password}' port=1,2"), vec![]),
        ("host=h".to_owned(), vec![("PGPASSWORD", password), ("PGPORT", "x")]),
        (password.to_owned(), vec![]),
        (format!("postgres:/{password}"), vec![]),
    ];
    for (dsn, env) in &failing {
        let err = parse(dsn, env).unwrap_err();
        let texts = [err.to_string(), format!("{err:?}")];
        for text in texts {
            assert!(!leaks(&text), "dsn {dsn:?} leaked through {text:?}");
        }
    }

    let succeeding: Vec<(String, Vec<(&str, &str)>)> = vec![
        (format!("postgres://u:{encoded}@h/db"), vec![]),
        (format!("postgres://u@h/db?password={encoded}&sslpassword={encoded}"), vec![]),
        (r"host=h password='s3cr%t:@/#? pä'".to_owned(), vec![]),
        ("host=h".to_owned(), vec![("PGPASSWORD", password)]),
    ];
    for (dsn, env) in &succeeding {
        let spec = parse(dsn, env).unwrap();
        assert_eq!(spec.password(), Some(password), "dsn: {dsn}");
        let texts = [spec.to_string(), spec.redacted(), format!("{spec:?}"), format!("{spec:#?}")];
        for text in texts {
            assert!(!leaks(&text), "dsn {dsn:?} leaked through {text:?}");
        }
    }
}

/// Found by fuzzing: a bracketed host that is not an IPv6 address (`host=[[]]`) parsed, and its redacted
/// URL named another host. Brackets now only enclose an IPv6 address.
#[test]
fn brackets_only_enclose_ipv6_addresses() {
    for dsn in ["host=[[]]", "host=a,[[x]] dbname=d", "postgres://h/d?host=[a]]"] {
        let error = PgConnSpec::parse(dsn, &|_| None).unwrap_err();
        assert!(error.to_string().contains("brackets may only enclose an IPv6 address"), "{dsn}: {error}");
    }
    let spec = PgConnSpec::parse("host=[::1] dbname=d", &|_| None).unwrap();
    assert_eq!(spec.host, PgHost::Tcp { host: "::1".to_owned(), port: 5432 });
}
