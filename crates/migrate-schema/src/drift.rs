//! Drift: the schema the migrations (or a committed dump) produce, compared with the live database's.
//!
//! The expected schema is built on a scratch database on the live server (created and always dropped,
//! see [`ScratchDatabase`]) or on a shadow database the caller names, by applying the migrations with
//! the facade's [`Migrator`], exactly as a service would, or by running the dump's text.

use migrate::Migrator;
use migrate_postgres::{PgConnSpec, PgError};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

use crate::diff::{diff, Finding};
use crate::error::Error;
use crate::model::Schema;
use crate::postgres::{read, ReadOptions};
use crate::scratch::ScratchDatabase;

/// Where the expected schema comes from.
#[derive(Clone, Copy)]
pub enum Expected<'a> {
    /// Applying every migration of this migrator.
    Migrations(&'a Migrator),
    /// Running this dump (the text of `schema dump`, committed in the repository).
    Dump(&'a str),
}

/// Where the expected schema is built.
#[derive(Debug, Clone, Copy)]
pub enum Workspace<'a> {
    /// A scratch database on the server of this spec, created and dropped.
    Scratch(&'a PgConnSpec),
    /// This database, which should be empty; it is changed and left as it ends.
    Shadow(&'a PgConnSpec),
}

/// Builds the expected schema in `workspace` and reads it back.
pub async fn expected_schema(
    expected: Expected<'_>,
    workspace: Workspace<'_>,
    options: &ReadOptions,
) -> Result<Schema, Error> {
    match workspace {
        Workspace::Shadow(spec) => build(expected, &spec.to_connect_options(), &spec.redacted(), options).await,
        Workspace::Scratch(spec) => {
            let scratch = ScratchDatabase::create(spec).await?;
            let built = build(expected, scratch.connect_options(), scratch.name(), options).await;
            let dropped = scratch.drop_database().await;
            let schema = built?;
            dropped?;
            Ok(schema)
        }
    }
}

/// Every difference between the expected schema and `live`'s.
pub async fn drift(
    expected: Expected<'_>,
    workspace: Workspace<'_>,
    live: &PgConnSpec,
    options: &ReadOptions,
) -> Result<Vec<Finding>, Error> {
    let expected = expected_schema(expected, workspace, options).await?;
    let actual = read_database(&live.to_connect_options(), &live.redacted(), options).await?;
    Ok(diff(&expected, &actual))
}

/// Connects, reads the schema, closes.
pub async fn read_database(
    options: &PgConnectOptions,
    target: &str,
    read_options: &ReadOptions,
) -> Result<Schema, Error> {
    let mut connection = connect(options, target).await?;
    let schema = read(&mut connection, read_options).await;
    let _ = connection.close().await;
    schema
}

/// Applies the expected source to the database `options` names and reads its schema.
async fn build(
    expected: Expected<'_>,
    options: &PgConnectOptions,
    target: &str,
    read_options: &ReadOptions,
) -> Result<Schema, Error> {
    match expected {
        Expected::Migrations(migrator) => {
            migrator.up(options.clone()).await.map_err(Error::migrate("applying the migrations"))?;
        }
        Expected::Dump(text) => {
            let mut connection = connect(options, target).await?;
            let applied = sqlx::raw_sql(AssertSqlSafe(text.to_owned())).execute(&mut connection).await;
            let _ = connection.close().await;
            applied.map_err(Error::query("applying the schema dump"))?;
        }
    }
    read_database(options, target, read_options).await
}

pub(crate) async fn connect(options: &PgConnectOptions, target: &str) -> Result<PgConnection, Error> {
    PgConnection::connect_with(options)
        .await
        .map_err(|source| Error::Postgres(PgError::Connect { target: target.to_owned(), source }))
}
