fn main() {
    let _ = migrate_macros::embed!("tests/embed/missing_directory");
}
