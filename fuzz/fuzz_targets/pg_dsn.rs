//! The PostgreSQL DSN parser (URLs, libpq keyword/value strings, PG* variables), and the promise of
//! `PgConnSpec::redacted`: parsing the redacted form again gives the same spec but for the password, so
//! redacting that spec gives the same text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use migrate_postgres::dsn::REDACTED_PASSWORD;
use migrate_postgres::PgConnSpec;

/// A fixed environment, so a run depends on the input only; the user comes from PGUSER (libpq would
/// otherwise ask the operating system).
fn env(name: &str) -> Option<String> {
    match name {
        "PGUSER" => Some("fuzz".to_owned()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(dsn) = std::str::from_utf8(data) else { return };
    let Ok(spec) = PgConnSpec::parse(dsn, &env) else { return };
    let redacted = spec.redacted();
    let _ = format!("{spec:?} {spec}");
    let _ = spec.to_connect_options();
    let again = PgConnSpec::parse(&redacted, &env)
        .unwrap_or_else(|error| panic!("the redacted DSN {redacted:?} does not parse: {error}"));
    assert_eq!(again.redacted(), redacted, "redacting the re-parsed spec differs");
    // The redacted form carries no password: parsed again, it has none or the placeholder.
    if let Some(password) = spec.password().filter(|p| *p != REDACTED_PASSWORD) {
        assert_ne!(again.password(), Some(password), "the password survives redaction in {redacted:?}");
    }
});
