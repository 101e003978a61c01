//! The `migrate` command.

fn main() {}
