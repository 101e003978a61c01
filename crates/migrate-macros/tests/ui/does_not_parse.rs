fn main() {
    let _ = migrate_macros::embed!("tests/embed/does_not_parse");
}
