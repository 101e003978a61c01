//! Tests for ClickHouse DSN parsing, port mapping, redaction and URL building.

use std::fmt::Write;
use std::time::Duration;

use percent_encoding::utf8_percent_encode;

use crate::dsn::syntax::{format_go_duration, parse_go_duration, COMPONENT};
use crate::dsn::{ch_url_from_parts, ChConnSpec, ChScheme, DsnError};

/// Parses `dsn` and compares a one-line summary (or `error: <Display>`) with `expected`.
fn check(dsn: &str, expected: &str) {
    let actual = match ChConnSpec::parse(dsn) {
        Ok(spec) => summary(&spec),
        Err(err) => format!("error: {err}"),
    };
    assert_eq!(actual, expected, "dsn: {dsn}");
}

fn summary(spec: &ChConnSpec) -> String {
    let mut out = format!(
        "{} {}:{} user={} password={:?} db={}",
        spec.scheme,
        spec.host,
        spec.port,
        spec.user,
        spec.password(),
        spec.database
    );
    for (host, port) in &spec.fallback_hosts {
        write!(out, " fallback={host}:{port}").unwrap();
    }
    if spec.skip_verify {
        out.push_str(" skip_verify");
    }
    if let Some(file) = &spec.ca_file {
        write!(out, " ca={}", file.display()).unwrap();
    }
    if spec.connect_timeout != Duration::from_secs(30) {
        write!(out, " connect={:?}", spec.connect_timeout).unwrap();
    }
    if spec.query_timeout != Duration::from_secs(300) {
        write!(out, " query={:?}", spec.query_timeout).unwrap();
    }
    if let Some(cluster) = &spec.cluster {
        write!(out, " cluster={cluster}").unwrap();
    }
    let lists = [("settings", &spec.settings), ("ignored", &spec.ignored_params)];
    for (name, list) in lists {
        if !list.is_empty() {
            let items: Vec<String> = list.iter().map(|(k, v)| format!("{k}={v}")).collect();
            write!(out, " {name}=[{}]", items.join("; ")).unwrap();
        }
    }
    out
}

#[test]
fn http_urls() {
    let cases: &[(&str, &str)] = &[
        ("http://user:pass@host:8123/?database=db", r#"http host:8123 user=user password=Some("pass") db=db"#),
        ("http://u:p@host:8123/db", r#"http host:8123 user=u password=Some("p") db=db"#),
        ("https://host/db", "https host:8443 user=default password=None db=db"),
        ("http://host", "http host:8123 user=default password=None db=default"),
        ("HTTP://HOST:9000/db", "http HOST:9000 user=default password=None db=db"),
        (" http://h/my%20db?database=&user= \n", "http h:8123 user=default password=None db=default"),
        ("http://u:p@ss:w#rd@h/db", r#"http h:8123 user=u password=Some("p@ss:w#rd") db=db"#),
        ("http://u:%2F%3F%25%2B@h/", r#"http h:8123 user=u password=Some("/?%+") db=default"#),
        // `+` is a space in the query (clickhouse-go) but not in the userinfo.
        ("http://u:a+b@h/?password=c+d%2B", r#"http h:8123 user=u password=Some("c d+") db=default"#),
        ("http://u:a+b@h/", r#"http h:8123 user=u password=Some("a+b") db=default"#),
        ("http://[::1]:8124/", "http ::1:8124 user=default password=None db=default"),
        ("http:///db", "http localhost:8123 user=default password=None db=db"),
        ("http://h/db?secure=1", "https h:8443 user=default password=None db=db"),
        (
            "https://h:443/db?http_port=8443&skip_verify&ca_file=/etc/ca.pem",
            "https h:8443 user=default password=None db=db skip_verify ca=/etc/ca.pem",
        ),
    ];
    for (dsn, expected) in cases {
        check(dsn, expected);
    }
}

#[test]
fn clickhouse_go_dsns() {
    let cases: &[(&str, &str)] = &[
        (
            "clickhouse://user:pass@host:9000/db?secure=true&skip_verify=true&dial_timeout=5s&read_timeout=30s",
            r#"https host:8443 user=user password=Some("pass") db=db skip_verify connect=5s query=30s"#,
        ),
        ("tcp://host:9000?username=u&password=p&database=db", r#"http host:8123 user=u password=Some("p") db=db"#),
        (
            "tcp://127.0.0.1:9000?username=u&database=db&debug=true",
            "http 127.0.0.1:8123 user=u password=None db=db ignored=[debug=true]",
        ),
        ("clickhouse://host", "http host:8123 user=default password=None db=default"),
        ("clickhouse://host?secure", "https host:8443 user=default password=None db=default"),
        ("clickhouse://host:9440/db", "https host:8443 user=default password=None db=db"),
        ("clickhouse://host:9440/db?secure=false", "http host:8123 user=default password=None db=db"),
        ("clickhouse://host:19000/db?http_port=18123", "http host:18123 user=default password=None db=db"),
        ("clickhouse://host:8123/db?protocol=http", "http host:8123 user=default password=None db=db"),
        ("clickhouse://host:8443/db?protocol=HTTP&secure=true", "https host:8443 user=default password=None db=db"),
        (
            "clickhouse://u:p@h1:9000,h2:9000,[::1]:9000/db",
            r#"http h1:8123 user=u password=Some("p") db=db fallback=h2:8123 fallback=::1:8123"#,
        ),
        ("clickhouse://h1,h2/db?secure=true", "https h1:8443 user=default password=None db=db fallback=h2:8443"),
        ("clickhouse://[::1]:9000/db", "http ::1:8123 user=default password=None db=db"),
        (
            "clickhouse://h?dial_timeout=1m30s&read_timeout=1.5h",
            "http h:8123 user=default password=None db=default connect=90s query=5400s",
        ),
        (
            "clickhouse://h?dial_timeout=250ms&read_timeout=0",
            "http h:8123 user=default password=None db=default connect=250ms",
        ),
        (
            "clickhouse://h/db?max_execution_time=60&enable_http_compression=true&join_use_nulls=False&log_comment=Hi",
            "http h:8123 user=default password=None db=db \
             settings=[max_execution_time=60; enable_http_compression=1; join_use_nulls=0; log_comment=Hi]",
        ),
        (
            "clickhouse://h/db?max_threads=2&max_threads=4",
            "http h:8123 user=default password=None db=db settings=[max_threads=4]",
        ),
        ("clickhouse://h/db?x-cluster=main", "http h:8123 user=default password=None db=db cluster=main"),
        ("clickhouse://h/db?x-cluster-name=c2", "http h:8123 user=default password=None db=db cluster=c2"),
        ("clickhouse://h/db?cluster=c1&x-cluster=", "http h:8123 user=default password=None db=db"),
        (
            "clickhouse://h/db?compress=lz4&max_open_conns=5&x-multi-statement=true&conn_max_lifetime=1h",
            "http h:8123 user=default password=None db=db \
             ignored=[compress=lz4; max_open_conns=5; x-multi-statement=true; conn_max_lifetime=1h]",
        ),
    ];
    for (dsn, expected) in cases {
        check(dsn, expected);
    }
}

#[test]
fn errors() {
    let cases: &[(&str, &str)] = &[
        (
            "host:9000",
            "error: unrecognised DSN: expected a URL such as http://host:8123/db or clickhouse://host:9000/db",
        ),
        ("postgres://h/db", "error: unsupported URL scheme `postgres`: expected http, https, clickhouse or tcp"),
        (
            "a b://h/db",
            "error: unrecognised DSN: expected a URL such as http://host:8123/db or clickhouse://host:9000/db",
        ),
        (
            "clickhouse://host:19000/db",
            "error: cannot tell the HTTP port for native port 19000: \
             add http_port=NNNN (9000 maps to 8123, 9440 to 8443)",
        ),
        ("https://h/db?secure=false", "error: the URL scheme is https but secure=false: drop one of them"),
        (
            "http://u:p%zz@h/",
            "error: invalid percent-encoding in the password of the URL: \
             every '%' must start a %XX escape of UTF-8 text",
        ),
        (
            "http://h/?a=%FF",
            "error: invalid percent-encoding in the query of the URL: \
             every '%' must start a %XX escape of UTF-8 text",
        ),
        (
            "http://u:pa/ss@h/",
            "error: the URL has an '@' after its host: \
             percent-encode '@', '/' and '?' in the user name, password and database name",
        ),
        ("http://h:abc/", "error: invalid port in the URL's host list: expected a number from 1 to 65535"),
        ("http://h:0/", "error: invalid port in the URL's host list: expected a number from 1 to 65535"),
        ("http://h:65536/", "error: invalid port in the URL's host list: expected a number from 1 to 65535"),
        ("http://[::1/", "error: invalid host in the URL: an IPv6 address has no closing ']'"),
        (
            "http://::1/",
            "error: invalid host in the URL: an IPv6 address must be written in brackets, as in [::1]:8123",
        ),
        (
            "http://[fe80::1%25eth0]/",
            "error: invalid host in the URL: not a valid IPv6 address (zone indices are not supported)",
        ),
        ("http://[nonsense]/", "error: invalid host in the URL: brackets may only hold an IPv6 address"),
        ("http://[::g]/", "error: invalid host in the URL: not a valid IPv6 address (zone indices are not supported)"),
        (
            "http://exa%20mple/",
            "error: invalid host in the URL: \
             a host name may only hold ASCII letters, digits, '-', '.' and '_'",
        ),
        (
            "clickhouse://h?dial_timeout=5",
            "error: invalid dial_timeout `5`: expected a non-negative Go duration such as 5s, 1m30s or 250ms",
        ),
        (
            "clickhouse://h?read_timeout=-5s",
            "error: invalid read_timeout `-5s`: expected a non-negative Go duration such as 5s, 1m30s or 250ms",
        ),
        ("clickhouse://h?skip_verify=yes", "error: invalid skip_verify `yes`: expected true or false"),
        ("clickhouse://h?secure=on", "error: invalid secure `on`: expected true or false"),
        ("clickhouse://h?protocol=grpc", "error: invalid protocol `grpc`: expected native or http"),
        ("clickhouse://h?http_port=0", "error: invalid http_port `0`: expected a number from 1 to 65535"),
        ("http://h/?query=SELECT+1", "error: `query` cannot be given in the DSN: the migrate client sets it"),
        ("http://h/?session_id=abc", "error: `session_id` cannot be given in the DSN: the migrate client sets it"),
        (
            "http://h/?bad-key=1",
            "error: `bad-key` is neither a known DSN parameter nor a valid ClickHouse setting name",
        ),
        ("http://h/?=1", "error: `` is neither a known DSN parameter nor a valid ClickHouse setting name"),
    ];
    for (dsn, expected) in cases {
        check(dsn, expected);
    }
}

#[test]
fn go_durations() {
    let cases: &[(&str, Option<Duration>)] = &[
        ("0", Some(Duration::ZERO)),
        ("+0", Some(Duration::ZERO)),
        ("0s", Some(Duration::ZERO)),
        ("5s", Some(Duration::from_secs(5))),
        ("+5s", Some(Duration::from_secs(5))),
        ("1m30s", Some(Duration::from_secs(90))),
        ("250ms", Some(Duration::from_millis(250))),
        ("1.5h", Some(Duration::from_secs(5400))),
        (".5s", Some(Duration::from_millis(500))),
        ("5.s", Some(Duration::from_secs(5))),
        ("1h2m3s4ms5us6ns", Some(Duration::new(3723, 4_005_006))),
        ("1\u{b5}s", Some(Duration::from_micros(1))),
        ("1\u{3bc}s", Some(Duration::from_micros(1))),
        ("0.000000001s", Some(Duration::from_nanos(1))),
        ("1.0000000001s", Some(Duration::from_secs(1))),
        ("1.00000000000000000000009s", Some(Duration::from_secs(1))),
        ("", None),
        ("5", None),
        ("-5s", None),
        ("5x", None),
        ("s", None),
        (".s", None),
        ("1.s5", None),
        ("5 s", None),
        ("1e3s", None),
        ("99999999999999999999999999999999999999999h", None),
        ("9999999999999h", None),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_go_duration(text), *expected, "duration: {text:?}");
    }
    let durations = [
        Duration::ZERO,
        Duration::from_secs(30),
        Duration::from_millis(1500),
        Duration::from_nanos(1_000_000_001),
        Duration::from_micros(3),
    ];
    for duration in durations {
        let text = format_go_duration(duration);
        assert_eq!(parse_go_duration(&text), Some(duration), "formatted: {text}");
    }
}

#[test]
fn base_url_and_http_params() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "clickhouse://u:secret@h:9000/db?max_execution_time=60&x-cluster=c",
            "http://h:8123/",
            "database=db max_execution_time=60",
        ),
        ("https://[::1]/", "https://[::1]:8443/", "database=default"),
        ("tcp://h1:9440,h2:9440?database=x", "https://h1:8443/", "database=x"),
    ];
    for (dsn, expected_url, expected_params) in cases {
        let spec = ChConnSpec::parse(dsn).unwrap();
        assert_eq!(spec.base_url(), *expected_url, "dsn: {dsn}");
        let params: Vec<String> = spec.http_params().iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(params.join(" "), *expected_params, "dsn: {dsn}");
    }
}

/// Compares the redacted URL of a parsed DSN, and checks that it parses back to the same spec
/// with the password replaced.
fn check_redacted(dsn: &str, expected: &str) {
    let spec: ChConnSpec = dsn.parse().unwrap();
    let redacted = spec.redacted();
    assert_eq!(redacted, expected, "dsn: {dsn}");
    assert_eq!(spec.to_string(), redacted);
    let reparsed = ChConnSpec::parse(&redacted).unwrap();
    let mut expected_spec = spec.clone();
    expected_spec.password = spec.password.as_ref().map(|_| "xxxxx".to_owned());
    // The redacted form names the HTTP port it maps to, so a native port is no longer "mapped" there.
    expected_spec.native_port = None;
    assert_eq!(reparsed, expected_spec, "redacted: {redacted}");
}

#[test]
fn redacted_urls() {
    let cases: &[(&str, &str)] = &[
        ("http://u:secret@h/db", "http://u:xxxxx@h:8123/db"),
        ("clickhouse://h", "http://default@h:8123/default"),
        (
            "clickhouse://u:s3cr%25t@h1:9440,[::1]:9440/my%20db?skip_verify=1&ca_file=/ca.pem\
             &dial_timeout=1500ms&read_timeout=1m&x-cluster-name=main&max_threads=2&debug=1",
            "https://u:xxxxx@h1:8443,[::1]:8443/my%20db?skip_verify=true&ca_file=%2Fca.pem\
             &dial_timeout=1500ms&read_timeout=60s&x-cluster=main&max_threads=2&debug=1",
        ),
    ];
    for (dsn, expected) in cases {
        check_redacted(dsn, expected);
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
    "\\",
    "\"",
    "tab\tnewline\n",
    "日本語パスワード",
    "crab 🦀",
    "xxxxx",
];

#[test]
fn url_from_parts_round_trips() {
    let hosts: &[(&str, Option<u16>, &str)] = &[
        ("localhost", Some(8123), "localhost:8123"),
        ("db.example.com", None, "db.example.com:8443"),
        ("::1", Some(9999), "::1:9999"),
        ("", None, "localhost:8443"),
    ];
    let users = ["default", "us er", "u@x:y", "ü"];
    let databases = ["db", "my db", "d/b?#@%"];
    for password in NASTY_PASSWORDS {
        for (host, port, host_summary) in hosts {
            for user in users {
                for database in databases {
                    let params = [("log_comment", *password), ("max_threads", "2")];
                    let url = ch_url_from_parts(ChScheme::Https, host, *port, user, Some(password), database, &params);
                    let spec = ChConnSpec::parse(&url).unwrap();
                    let expected = format!(
                        "https {host_summary} user={user} password={:?} db={database} \
                         settings=[log_comment={password}; max_threads=2]",
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
    assert_eq!(
        ch_url_from_parts(ChScheme::Http, "h", Some(8123), "u", Some("p%41:@#?/ +w"), "db", &[]),
        "http://u:p%2541%3A%40%23%3F%2F%20%2Bw@h:8123/db"
    );
    assert_eq!(
        ch_url_from_parts(ChScheme::Https, "::1", None, "", None, "", &[("a b", "c&d")]),
        "https://[::1]/?a%20b=c%26d"
    );
}

/// The password must not leak through any error message, `Debug`, `Display` or the base URL.
#[test]
fn password_never_leaks() {
    let password = "s3cr%t:@/#? pä";
    let encoded: String = utf8_percent_encode(password, COMPONENT).collect();
    let leaks = |text: &str| text.contains("s3cr") || text.contains("pä") || text.contains("%C3%A4");

    let failing = [
        format!("clickhouse://u:{password}@h/db"),
        format!("clickhouse://u:{encoded}@h:bad/db"),
        format!("clickhouse://u:{encoded}@h:19000/db"),
        format!("clickhouse://u:{encoded}@[::1/db"),
        format!("clickhouse://u:{encoded}@h/db?secure=nope"),
        format!("clickhouse://u:{encoded}@h/db%"),
        format!("https://u:{encoded}@h/db?secure=false"),
        format!("clickhouse://h/db?password={encoded}&dial_timeout=x"),
        format!("clickhouse://h/db?password={password}"),
        format!("u:{password}@h:9000"),
        format!("c h://u:{encoded}@h"),
    ];
    for dsn in &failing {
        let err: DsnError = ChConnSpec::parse(dsn).unwrap_err();
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!leaks(&text), "dsn {dsn:?} leaked through {text:?}");
        }
    }

    let succeeding =
        [format!("clickhouse://u:{encoded}@h/db"), format!("http://h/db?password={encoded}&x-password={encoded}")];
    for dsn in &succeeding {
        let spec = ChConnSpec::parse(dsn).unwrap();
        assert_eq!(spec.password(), Some(password), "dsn: {dsn}");
        let texts = [spec.to_string(), spec.redacted(), spec.base_url(), format!("{spec:?}"), format!("{spec:#?}")];
        for text in texts {
            assert!(!leaks(&text), "dsn {dsn:?} leaked through {text:?}");
        }
    }
}

/// A native port is remembered as mapped (for the log line); an HTTP port or http_port= is not.
#[test]
fn native_ports_are_remembered_as_mapped() {
    let native = |dsn: &str| ChConnSpec::parse(dsn).unwrap().native_port;
    assert_eq!(native("clickhouse://h:9000/db"), Some(9000));
    assert_eq!(native("tcp://h:9440?username=u"), Some(9440));
    assert_eq!(native("clickhouse://h/db"), None);
    assert_eq!(native("clickhouse://h:9000/db?http_port=18123"), None);
    assert_eq!(native("http://h:9000/db"), None);
}
