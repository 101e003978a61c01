//! notes: a small tokio service that keeps text notes in PostgreSQL and migrates its database at
//! start-up with migrations compiled into the binary.
//!
//! [`Notes::start`] runs `migrate::up` on the service's own pool before anything else touches the
//! database; [`serve`] answers a line protocol on TCP: `add TEXT` replies with the new note's id, `list`
//! replies with one `ID TEXT` line per note and a final `.`.

use std::io;

use migrate::EmbeddedSource;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The migrations in `migrations/`, checked and embedded at compile time (see `build.rs` for the line
/// that makes a newly added file rebuild the crate).
pub static MIGRATIONS: EmbeddedSource = migrate::embed!("migrations");

/// The service: its pool, on a migrated database.
#[derive(Debug, Clone)]
pub struct Notes {
    pool: PgPool,
}

/// One note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Its id.
    pub id: i64,
    /// Its text.
    pub body: String,
}

impl Notes {
    /// Migrates the database the pool connects to, then returns the service and what the migration did.
    ///
    /// Several instances may start at once: the migration lock lets one apply the migrations while the
    /// others wait, then find nothing to do. An instance with nothing to do never waits.
    pub async fn start(pool: PgPool) -> Result<(Notes, migrate::Report), migrate::Error> {
        let report = migrate::up(&pool, MIGRATIONS).await?;
        Ok((Notes { pool }, report))
    }

    /// Stores a note and returns its id.
    pub async fn add(&self, body: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("INSERT INTO notes (body) VALUES ($1) RETURNING id").bind(body).fetch_one(&self.pool).await
    }

    /// Every note, oldest first.
    pub async fn list(&self) -> Result<Vec<Note>, sqlx::Error> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, body FROM notes ORDER BY created_at, id").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(id, body)| Note { id, body }).collect())
    }
}

/// Answers connections until accepting one fails; each connection is served by its own task.
pub async fn serve(listener: TcpListener, notes: Notes) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let notes = notes.clone();
        tokio::spawn(async move {
            // A client that disconnects mid-line is not the service's failure.
            let _ = handle(stream, &notes).await;
        });
    }
}

async fn handle(stream: TcpStream, notes: &Notes) -> io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    while let Some(line) = lines.next_line().await? {
        let reply = match line.split_once(' ') {
            Some(("add", body)) => match notes.add(body).await {
                Ok(id) => format!("{id}\n"),
                Err(error) => format!("error: {error}\n"),
            },
            None if line == "list" => match notes.list().await {
                Ok(list) => list.iter().map(|note| format!("{} {}\n", note.id, note.body)).collect::<String>() + ".\n",
                Err(error) => format!("error: {error}\n"),
            },
            _ => "error: send `add TEXT` or `list`\n".to_owned(),
        };
        writer.write_all(reply.as_bytes()).await?;
    }
    Ok(())
}
