//! The round-trip check: on a fresh database, every Up one at a time, every Down one at a time, then every
//! Up again. After each Down the schema must be what it was before that migration's Up; the first one that
//! is not is named, with what differs.
//!
//! Every step goes through the [`Migrator`]'s own commands, so the check runs the migrations exactly as a
//! service would.

use std::collections::BTreeMap;

use migrate_core::Version;

use crate::error::Error;
use crate::migrator::Migrator;
use crate::testing::schema::Schema;
use crate::testing::TestDatabase;

/// Why [`check_round_trip`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoundTripError {
    /// A migration's Down left the schema different from before its Up.
    #[error(
        "{name} (version {version}): its Down does not undo its Up; compared with before the Up, after the Down:\n  {}",
        differences.join("\n  ")
    )]
    DownMismatch {
        /// The migration's version.
        version: Version,
        /// Its file name (or code migration name).
        name: String,
        /// Each object that differs, as `kind object: left behind` or `kind object: missing`.
        differences: Vec<String>,
    },
    /// A step failed; a failed run names its migration in the error.
    #[error("{step}: {source}")]
    Migrate {
        /// What was being done.
        step: String,
        /// The error.
        #[source]
        source: Error,
    },
    /// The migrator runs without versioning, so migrations cannot be stepped through.
    #[error("the round-trip check needs the version table: turn no-versioning off")]
    NoVersioning,
}

/// Checks that every Down undoes its Up, on a fresh database on the server `server_url` names, which is
/// dropped at the end.
///
/// All Ups run one at a time, with the schema read from the catalog (schemas, tables, views, sequences,
/// columns and their types, defaults, indexes, constraints, functions, triggers, types, extensions) before
/// each; then all Downs one at a time, each compared with the schema before its Up; then all Ups again, so
/// an Up that cannot run after its own Down is caught too. Data is not compared.
///
/// ```no_run
/// # async fn test() {
/// static MIGRATIONS: migrate::EmbeddedSource = migrate::embed!("tests/migrations");
///
/// let migrator = migrate::Migrator::new(MIGRATIONS);
/// if let Err(error) = migrate::testing::check_round_trip("postgres://postgres@localhost/postgres", &migrator).await {
///     panic!("{error}");
/// }
/// # }
/// ```
pub async fn check_round_trip(server_url: &str, migrator: &Migrator) -> Result<(), RoundTripError> {
    if migrator.no_versioning() {
        return Err(RoundTripError::NoVersioning);
    }
    let mut db = TestDatabase::create_empty(server_url).await.map_err(failed("creating the test database"))?;
    let outcome = round_trip(&mut db, migrator).await;
    let name = db.name().to_owned();
    match (outcome, db.drop_database().await) {
        (Ok(()), Err(error)) => Err(failed("dropping the test database")(error)),
        (outcome, Ok(())) => outcome,
        (Err(error), Err(drop_error)) => {
            tracing::warn!(database = %name, error = %drop_error, "dropping the test database failed");
            Err(error)
        }
    }
}

async fn round_trip(db: &mut TestDatabase, migrator: &Migrator) -> Result<(), RoundTripError> {
    ensure_version_table(db, migrator).await.map_err(failed("creating the version table"))?;
    let count = migrator.migrations().map_err(failed("resolving the migrations"))?.len();

    let mut before_up: BTreeMap<Version, Schema> = BTreeMap::new();
    for _ in 0..count {
        let schema = Schema::read(db.connection()).await.map_err(failed("reading the schema"))?;
        let report = migrator
            .up_by_one(db.connect_options().clone())
            .await
            .map_err(failed("applying the migrations one by one"))?;
        for result in &report.results {
            before_up.insert(result.version, schema.clone());
        }
    }

    for _ in 0..count {
        let report = migrator
            .down(db.connect_options().clone())
            .await
            .map_err(failed("rolling back the migrations one by one"))?;
        let after = Schema::read(db.connection()).await.map_err(failed("reading the schema"))?;
        for result in &report.results {
            let Some(expected) = before_up.get(&result.version) else {
                continue; // Not applied by this check, so there is nothing to compare with.
            };
            let differences = expected.differences(&after);
            if !differences.is_empty() {
                return Err(RoundTripError::DownMismatch {
                    version: result.version,
                    name: result.name.clone(),
                    differences,
                });
            }
        }
    }

    migrator
        .up(db.connect_options().clone())
        .await
        .map_err(failed("applying every migration again after rolling all of them back"))?;
    Ok(())
}

/// The version table and its checksum companion, so both are in every snapshot and never count as a
/// difference.
async fn ensure_version_table(db: &TestDatabase, migrator: &Migrator) -> Result<(), Error> {
    let mut session = migrator.open(db.connect_options().clone().into()).await?;
    let driver = session.driver();
    let mut ensured = driver.ensure_table().await.map_err(Error::VersionTable);
    if ensured.is_ok() && driver.keeps_checksums() {
        ensured = driver.ensure_checksum_table().await.map_err(Error::VersionTable);
    }
    session.close().await;
    ensured
}

fn failed(step: &'static str) -> impl Fn(Error) -> RoundTripError {
    move |source| RoundTripError::Migrate { step: step.to_owned(), source }
}
