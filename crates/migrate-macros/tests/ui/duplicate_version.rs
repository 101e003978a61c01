fn main() {
    let _ = migrate_macros::embed!("tests/embed/duplicate_version");
}
