//! The notes service: `DATABASE_URL=postgres://… NOTES_ADDR=127.0.0.1:7878 notes`.

use std::process::ExitCode;

use migrate_examples::{serve, Notes};
use sqlx::postgres::PgPoolOptions;
use tokio::net::TcpListener;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    // migrate logs through `tracing` (each migration as it finishes, lock waits, warnings): show it.
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(&format!("notes: {error}"));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    #[allow(clippy::disallowed_methods)] // A service reads its configuration from the environment.
    let (url, addr) = (
        std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL to the service's PostgreSQL database")?,
        std::env::var("NOTES_ADDR").unwrap_or_else(|_| "127.0.0.1:7878".to_owned()),
    );
    let pool = PgPoolOptions::new().max_connections(5).connect(&url).await?;
    let (notes, migrated) = Notes::start(pool).await?;
    report(&format!("notes: migrations done:\n{migrated}"));
    let listener = TcpListener::bind(&addr).await?;
    report(&format!("notes: listening on {addr}"));
    serve(listener, notes).await?;
    Ok(())
}

#[allow(clippy::print_stderr)] // The binary's one place that prints; a real service would log with tracing too.
fn report(line: &str) {
    eprintln!("{line}");
}
