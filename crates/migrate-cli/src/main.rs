//! The `migrate` binary; everything lives in the crate's library (`lib.rs`).

fn main() -> std::process::ExitCode {
    migrate_cli::main()
}
