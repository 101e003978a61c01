//! The README's first library example, compiled here so that it cannot rot (`tests/readme.rs` checks that
//! the README shows this file's code unchanged, from the `static` on). Run it with
//! `DATABASE_URL=postgres://… cargo run -p migrate-examples --bin quickstart`.

#![allow(clippy::print_stdout)] // An example program: printing the report is its job.
#![allow(clippy::disallowed_methods)] // A service reads its configuration from the environment.

static MIGRATIONS: migrate::EmbeddedSource = migrate::embed!("migrations");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Show the library's tracing events (each migration as it finishes, lock waits, warnings) on stderr.
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();

    let url = std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL to the database to migrate")?;
    let report = migrate::up(url.as_str(), MIGRATIONS).await?;
    println!("{report}");
    Ok(())
}
