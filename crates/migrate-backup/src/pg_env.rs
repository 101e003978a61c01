//! The libpq environment that hands a parsed connection to pg_dump (or a backup command), so that
//! nothing about the connection, least of all the password, is on a command line.

use migrate_postgres::{PgConnSpec, PgHost};

use crate::process::Secrets;

/// The application name pg_dump reports, so the backup is recognisable in `pg_stat_activity`.
pub const BACKUP_APPLICATION_NAME: &str = "migrate-backup";

/// Inherited libpq variables removed before the spec's are set: each says something about the
/// connection that the parsed spec already decided (it was parsed with the same environment), and
/// `PGSERVICE` would even take precedence over the variables we set. Others, such as `PGSSLCRL` or
/// `PGTARGETSESSIONATTRS`, which the spec does not model, are inherited.
pub(crate) const CLEARED_PG_VARS: &[&str] = &[
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSSLMODE",
    "PGREQUIRESSL",
    "PGSSLROOTCERT",
    "PGSSLCERT",
    "PGSSLKEY",
    "PGAPPNAME",
    "PGCONNECT_TIMEOUT",
    "PGOPTIONS",
    "PGSERVICE",
    "PGSERVICEFILE",
];

/// DSN keywords that migrate's own connection ignores but libpq (and so pg_dump) honours, with the
/// variable that carries each. Keywords with no variable (`keepalives`, `sslpassword`) cannot be
/// handed on without a command line, and are dropped.
const LIBPQ_ONLY_KEYWORDS: &[(&str, &str)] = &[
    ("hostaddr", "PGHOSTADDR"),
    ("passfile", "PGPASSFILE"),
    ("require_auth", "PGREQUIREAUTH"),
    ("channel_binding", "PGCHANNELBINDING"),
    ("client_encoding", "PGCLIENTENCODING"),
    ("gssencmode", "PGGSSENCMODE"),
    ("gsslib", "PGGSSLIB"),
    ("gssdelegation", "PGGSSDELEGATION"),
    ("requiressl", "PGREQUIRESSL"),
    ("sslnegotiation", "PGSSLNEGOTIATION"),
    ("sslcompression", "PGSSLCOMPRESSION"),
    ("sslcertmode", "PGSSLCERTMODE"),
    ("sslcrl", "PGSSLCRL"),
    ("sslcrldir", "PGSSLCRLDIR"),
    ("sslsni", "PGSSLSNI"),
    ("requirepeer", "PGREQUIREPEER"),
    ("ssl_min_protocol_version", "PGSSLMINPROTOCOLVERSION"),
    ("ssl_max_protocol_version", "PGSSLMAXPROTOCOLVERSION"),
    ("krbsrvname", "PGKRBSRVNAME"),
    ("service", "PGSERVICE"),
    ("servicefile", "PGSERVICEFILE"),
    ("target_session_attrs", "PGTARGETSESSIONATTRS"),
    ("load_balance_hosts", "PGLOADBALANCEHOSTS"),
];

/// The variables to set for a child connecting as `spec`, and the secrets among them.
pub(crate) fn pg_env(spec: &PgConnSpec) -> (Vec<(String, String)>, Secrets) {
    let mut env = Vec::new();
    let mut secrets = Secrets::default();
    let mut set = |name: &str, value: String| env.push((name.to_owned(), value));

    // libpq takes comma-separated lists for failover, as the DSN gave them.
    let hosts: Vec<String> = spec
        .hosts()
        .map(|host| match host {
            PgHost::Tcp { host, .. } => host.clone(),
            PgHost::Unix { dir, .. } => dir.to_string_lossy().into_owned(),
        })
        .collect();
    let ports: Vec<String> = spec.hosts().map(|host| host.port().to_string()).collect();
    set("PGHOST", hosts.join(","));
    set("PGPORT", ports.join(","));
    set("PGUSER", spec.user.clone());
    set("PGDATABASE", spec.dbname.clone());
    if let Some(password) = spec.password() {
        set("PGPASSWORD", password.to_owned());
        secrets.add(password);
    }
    set("PGSSLMODE", spec.sslmode.as_str().to_owned());
    for (name, file) in [("PGSSLROOTCERT", &spec.sslrootcert), ("PGSSLCERT", &spec.sslcert), ("PGSSLKEY", &spec.sslkey)]
    {
        if let Some(file) = file {
            set(name, file.to_string_lossy().into_owned());
        }
    }
    set("PGAPPNAME", BACKUP_APPLICATION_NAME.to_owned());
    if let Some(timeout) = spec.connect_timeout {
        set("PGCONNECT_TIMEOUT", timeout.as_secs().max(1).to_string());
    }
    let settings: Vec<String> = spec
        .options
        .iter()
        .chain(&spec.params)
        .map(|(name, value)| format!("-c {}={}", escape_option(name), escape_option(value)))
        .collect();
    if !settings.is_empty() {
        set("PGOPTIONS", settings.join(" "));
    }
    for (key, value) in &spec.ignored_params {
        if let Some((_, var)) = LIBPQ_ONLY_KEYWORDS.iter().find(|(keyword, _)| keyword == key) {
            set(var, value.clone());
        }
    }
    for (key, value) in spec.params.iter().chain(&spec.ignored_params) {
        if key.contains("password") {
            secrets.add(value);
        }
    }
    (env, secrets)
}

/// Escapes a word for libpq's `options`, where a backslash escapes a space or another backslash.
fn escape_option(word: &str) -> String {
    word.replace('\\', r"\\").replace(' ', r"\ ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dsn: &str) -> PgConnSpec {
        PgConnSpec::parse(dsn, &|_| None).unwrap()
    }

    fn get<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
        env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn url_becomes_libpq_variables() {
        let (env, secrets) = pg_env(&spec(
            "postgres://app:s%3Acret@db1:5433,db2:5434/orders?sslmode=verify-full&sslrootcert=/ca.pem\
             &connect_timeout=7&search_path=a,%20b&target_session_attrs=read-write&keepalives=1",
        ));
        assert_eq!(get(&env, "PGHOST"), Some("db1,db2"));
        assert_eq!(get(&env, "PGPORT"), Some("5433,5434"));
        assert_eq!(get(&env, "PGUSER"), Some("app"));
        assert_eq!(get(&env, "PGPASSWORD"), Some("s:cret"));
        assert_eq!(get(&env, "PGDATABASE"), Some("orders"));
        assert_eq!(get(&env, "PGSSLMODE"), Some("verify-full"));
        assert_eq!(get(&env, "PGSSLROOTCERT"), Some("/ca.pem"));
        assert_eq!(get(&env, "PGCONNECT_TIMEOUT"), Some("7"));
        assert_eq!(get(&env, "PGAPPNAME"), Some(BACKUP_APPLICATION_NAME));
        assert_eq!(get(&env, "PGOPTIONS"), Some(r"-c search_path=a,\ b"));
        assert_eq!(get(&env, "PGTARGETSESSIONATTRS"), Some("read-write"));
        assert!(env.iter().all(|(name, _)| name.starts_with("PG")));
        assert_eq!(secrets.scrub("x s:cret s%3Acret"), "x xxxxx xxxxx");
    }

    #[test]
    fn unix_socket_and_no_password() {
        let (env, _) = pg_env(&spec("host=/var/run/postgresql port=5432 user=postgres dbname=app"));
        assert_eq!(get(&env, "PGHOST"), Some("/var/run/postgresql"));
        assert_eq!(get(&env, "PGPORT"), Some("5432"));
        assert_eq!(get(&env, "PGPASSWORD"), None);
    }

    #[test]
    fn every_set_variable_is_cleared_first_or_not_modelled() {
        // What the spec decides must not be contradicted by an inherited variable.
        for name in ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE", "PGOPTIONS", "PGAPPNAME"] {
            assert!(CLEARED_PG_VARS.contains(&name), "{name}");
        }
    }
}
