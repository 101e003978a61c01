//! The CLI's argument parsing (goose's form and the modern form, both stages) over an empty environment.
//! The fuzzing entry reads no file (no `.env`, no `--db-password-file`), so any input is safe to run.
//!
//! Input: the arguments separated by NUL bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let args: Vec<String> = text.split('\0').map(str::to_owned).collect();
    migrate_cli::fuzzing::arguments(&args);
});
