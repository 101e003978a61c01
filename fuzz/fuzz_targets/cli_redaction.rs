//! The CLI's DSN redaction and secret scrubbing.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    migrate_cli::fuzzing::redaction(text);
});
