fn main() {
    let _ = migrate_macros::embed!("tests/embed/bad_name");
}
