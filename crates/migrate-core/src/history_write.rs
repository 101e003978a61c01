//! Writing the history without running a migration: `repair` (record files' checksums as they are now,
//! forget those of versions no longer applied) and the marks (`baseline`, `mark-applied`,
//! `mark-rolled-back`: goose's rows as goose writes them). Each reads the rows again and writes under the
//! migration lock; a dry run reads without the lock and writes nothing. The CLI and the library's
//! `Migrator` both go through here.

use crate::checksum::ChecksumRow;
use crate::driver::{BoxError, Driver};
use crate::history::{checksum_row_of, plan_repair, HistoryError, Repair, RepairError};
use crate::marks::{plan_marks, Mark, MarkError};
use crate::source::Migration;
use crate::{Direction, Version};

/// Why a history write did not happen (nothing was written, unless the database failed part-way).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryWriteError {
    /// `repair` asked of a driver that keeps no checksums.
    #[error("this database's driver keeps no checksums, so there is nothing to repair")]
    NoChecksums,
    /// A version `repair` cannot take.
    #[error(transparent)]
    Repair(#[from] RepairError),
    /// A version a mark cannot take.
    #[error(transparent)]
    Mark(#[from] MarkError),
    /// A file's checksums could not be computed (it does not read or parse).
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The database refused.
    #[error("{action} failed: {source}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The driver's error.
        source: BoxError,
    },
}

fn database(action: &'static str) -> impl FnOnce(BoxError) -> HistoryWriteError {
    move |source| HistoryWriteError::Database { action, source }
}

/// Runs `work` under the driver's lock (unless `dry_run`, which writes nothing), releasing it on every
/// path; the work's own error wins over a failed release.
async fn locked<T>(
    driver: &mut dyn Driver,
    dry_run: bool,
    work: impl AsyncFnOnce(&mut dyn Driver) -> Result<T, HistoryWriteError>,
) -> Result<T, HistoryWriteError> {
    if dry_run {
        return work(driver).await;
    }
    driver.acquire().await.map_err(database("taking the migration lock"))?;
    let result = work(&mut *driver).await;
    let released = driver.release().await.map_err(database("releasing the migration lock"));
    let value = result?;
    released?;
    Ok(value)
}

/// Records the checksums of `versions` (every applied migration whose checksum differs or is missing when
/// empty) as their files are now, and forgets those of versions no longer applied; returns what it
/// changed (or, `dry_run`, would change).
pub async fn repair(
    driver: &mut dyn Driver,
    migrations: &[Migration],
    versions: &[i64],
    dry_run: bool,
) -> Result<Repair, HistoryWriteError> {
    if !driver.keeps_checksums() {
        return Err(HistoryWriteError::NoChecksums);
    }
    locked(driver, dry_run, async |driver: &mut dyn Driver| {
        let rows = driver.list_applied().await.map_err(database("reading the version table"))?.unwrap_or_default();
        let recorded = driver.list_checksums().await.map_err(database("reading the checksums"))?;
        let repair = plan_repair(migrations, &rows, recorded.as_deref().unwrap_or_default(), versions)?;
        if dry_run {
            return Ok(repair);
        }
        if recorded.is_none() {
            driver.ensure_checksum_table().await.map_err(database("creating the checksum table"))?;
        }
        driver.save_checksums(&repair.record).await.map_err(database("recording the checksums"))?;
        driver.delete_checksums(&repair.remove).await.map_err(database("forgetting checksums"))?;
        Ok(repair)
    })
    .await
}

/// Writes the rows of a mark (an apply records the file's checksums, a rollback forgets them); returns
/// them in order, `(version, Up)` for an apply and `(version, Down)` for a rollback.
pub async fn mark(
    driver: &mut dyn Driver,
    migrations: &[Migration],
    mark: &Mark,
    dry_run: bool,
) -> Result<Vec<(Version, Direction)>, HistoryWriteError> {
    locked(driver, dry_run, async |driver: &mut dyn Driver| {
        let rows = driver.list_applied().await.map_err(database("reading the version table"))?.unwrap_or_default();
        let steps = plan_marks(migrations, &rows, mark)?;
        if dry_run {
            return Ok(steps);
        }
        driver.ensure_table().await.map_err(database("creating the version table"))?;
        let keeps_checksums = driver.keeps_checksums();
        if keeps_checksums && driver.list_checksums().await.map_err(database("reading the checksums"))?.is_none() {
            driver.ensure_checksum_table().await.map_err(database("creating the checksum table"))?;
        }
        for (version, direction) in &steps {
            if keeps_checksums {
                let row: Option<ChecksumRow> = match direction {
                    Direction::Up => match migrations.iter().find(|m| m.version() == *version) {
                        Some(migration) => checksum_row_of(migration)?,
                        None => None,
                    },
                    Direction::Down => None,
                };
                driver.stage_checksum(*version, row);
            }
            driver.record(*version, *direction).await.map_err(database("writing the version table"))?;
        }
        Ok(steps)
    })
    .await
}
