//! `embed!` turns every problem with a migrations folder into a compile error at the macro call, naming the
//! file (and line, for a file that does not parse). Each case is a folder under `tests/embed/` and a
//! program under `tests/ui/` with the compiler's expected output next to it.

#[test]
fn embed_reports_bad_folders_as_compile_errors() {
    // trybuild compiles each program as a crate under target/, so point the macro back at this crate's
    // folders (see `manifest_dir` in src/expand.rs).
    std::env::set_var("MIGRATE_EMBED_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR"));
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
