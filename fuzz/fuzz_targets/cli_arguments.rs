//! The CLI's argument parsing (goose's form and the modern form, both stages) over an empty environment.
//!
//! Input: the arguments separated by NUL bytes.

#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;

/// `-env=PATH` makes the parser read that file (the fuzzing entry reads no other file). The target runs in
/// an empty directory and skips such inputs when they could name a file that never ends or blocks
/// (`/dev/zero`, a FIFO): absolute paths, `..`, and the system's device and runtime folders.
fn may_read_a_special_file(text: &str, args: &[String]) -> bool {
    text.contains("env")
        && (args.iter().any(|arg| arg.contains("=/") || arg.starts_with('/'))
            || ["..", "/dev", "/proc", "/sys", "/run", "/tmp"].iter().any(|bad| text.contains(bad)))
}

fuzz_target!(|data: &[u8]| {
    static EMPTY_DIR: Once = Once::new();
    EMPTY_DIR.call_once(|| {
        let dir = std::env::temp_dir().join(format!("migrate-fuzz-cli-{}", std::process::id()));
        if std::fs::create_dir_all(&dir).and_then(|()| std::env::set_current_dir(&dir)).is_err() {
            std::process::abort();
        }
    });
    let Ok(text) = std::str::from_utf8(data) else { return };
    let args: Vec<String> = text.split('\0').map(str::to_owned).collect();
    if may_read_a_special_file(text, &args) {
        return;
    }
    migrate_cli::fuzzing::arguments(&args);
});
