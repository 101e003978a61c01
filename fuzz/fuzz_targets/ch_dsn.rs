//! The ClickHouse DSN parser (HTTP URLs, clickhouse-go's `clickhouse://` and `tcp://`), and the promise
//! of `ChConnSpec::redacted`: parsing the redacted form again gives the same spec but for the password.

#![no_main]

use libfuzzer_sys::fuzz_target;
use migrate_clickhouse::dsn::REDACTED_PASSWORD;
use migrate_clickhouse::ChConnSpec;

fuzz_target!(|data: &[u8]| {
    let Ok(dsn) = std::str::from_utf8(data) else { return };
    let Ok(spec) = ChConnSpec::parse(dsn) else { return };
    let redacted = spec.redacted();
    let _ = format!("{spec:?} {spec}");
    let _ = (spec.base_url(), spec.http_params());
    let again = ChConnSpec::parse(&redacted)
        .unwrap_or_else(|error| panic!("the redacted DSN {redacted:?} does not parse: {error}"));
    assert_eq!(again.redacted(), redacted, "redacting the re-parsed spec differs");
    // The redacted form carries no password: parsed again, it has none or the placeholder.
    if let Some(password) = spec.password().filter(|p| *p != REDACTED_PASSWORD) {
        assert_ne!(again.password(), Some(password), "the password survives redaction in {redacted:?}");
    }
});
