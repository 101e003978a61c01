//! Adopting a database that was migrated some other way: `baseline VERSION` (every migration up to
//! VERSION recorded as applied without running it), `mark-applied VERSION...` and `mark-rolled-back
//! VERSION...` (as `prisma migrate resolve` and Flyway's baseline do). Only goose's rows change, written
//! as goose writes them, so goose agrees afterwards; nothing of the migrations runs.

use crate::driver::AppliedRow;
use crate::plan::applied_versions;
use crate::source::Migration;
use crate::{Direction, Version};

/// Which rows to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// Every migration with a version up to this one that is not applied yet.
    Baseline(i64),
    /// These versions, recorded as applied.
    Applied(Vec<i64>),
    /// These versions, recorded as rolled back.
    RolledBack(Vec<i64>),
}

/// The rows a mark writes, in order: `(version, Up)` records an apply, `(version, Down)` a rollback.
pub fn plan_marks(
    migrations: &[Migration],
    rows: &[AppliedRow],
    mark: &Mark,
) -> Result<Vec<(Version, Direction)>, MarkError> {
    let applied = applied_versions(rows);
    let file = |version: i64| migrations.iter().find(|m| m.version().get() == version);
    let given = |versions: &[i64], direction: Direction| -> Result<Vec<(Version, Direction)>, MarkError> {
        let mut steps = Vec::with_capacity(versions.len());
        for &version in versions {
            let migration = file(version).ok_or(MarkError::NoFile { version })?;
            match (direction, applied.contains(&version)) {
                (Direction::Up, true) => return Err(MarkError::AlreadyApplied { version }),
                (Direction::Down, false) => return Err(MarkError::NotApplied { version }),
                _ => steps.push((migration.version(), direction)),
            }
        }
        Ok(steps)
    };
    match mark {
        Mark::Baseline(version) => {
            file(*version).ok_or(MarkError::NoFile { version: *version })?;
            let steps: Vec<(Version, Direction)> = migrations
                .iter()
                .filter(|m| m.version().get() <= *version && !applied.contains(&m.version().get()))
                .map(|m| (m.version(), Direction::Up))
                .collect();
            if steps.is_empty() {
                return Err(MarkError::AlreadyApplied { version: *version });
            }
            Ok(steps)
        }
        Mark::Applied(versions) => given(versions, Direction::Up),
        Mark::RolledBack(versions) => given(versions, Direction::Down),
    }
}

/// Why a mark was refused (nothing is written then).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MarkError {
    /// No migration file has the version.
    #[error("no migration file has version {version}")]
    NoFile {
        /// The version.
        version: i64,
    },
    /// It is applied already (for a baseline: every migration up to it is).
    #[error("version {version} is already applied")]
    AlreadyApplied {
        /// The version.
        version: i64,
    },
    /// It is not applied, so it cannot be marked rolled back.
    #[error("version {version} is not applied")]
    NotApplied {
        /// The version.
        version: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrations(versions: &[i64]) -> Vec<Migration> {
        versions
            .iter()
            .map(|v| Migration::sql(Version::new(*v).unwrap(), format!("{v:05}_m.sql"), "-- +goose Up\nSELECT 1;\n"))
            .collect()
    }

    fn rows(versions: &[i64]) -> Vec<AppliedRow> {
        let mut rows: Vec<AppliedRow> = versions.iter().rev().map(|v| AppliedRow::new(*v, true, None)).collect();
        rows.push(AppliedRow::new(0, true, None));
        rows
    }

    fn plan(mark: Mark, applied: &[i64]) -> Result<Vec<String>, MarkError> {
        Ok(plan_marks(&migrations(&[1, 2, 3, 4]), &rows(applied), &mark)?
            .into_iter()
            .map(|(v, d)| format!("{d} {v}"))
            .collect())
    }

    #[test]
    fn marks() {
        assert_eq!(plan(Mark::Baseline(3), &[]).unwrap(), ["up 1", "up 2", "up 3"]);
        assert_eq!(plan(Mark::Baseline(3), &[1]).unwrap(), ["up 2", "up 3"]);
        assert_eq!(plan(Mark::Baseline(3), &[1, 2, 3]), Err(MarkError::AlreadyApplied { version: 3 }));
        assert_eq!(plan(Mark::Baseline(9), &[]), Err(MarkError::NoFile { version: 9 }));
        assert_eq!(plan(Mark::Applied(vec![4, 2]), &[1]).unwrap(), ["up 4", "up 2"]);
        assert_eq!(plan(Mark::Applied(vec![1]), &[1]), Err(MarkError::AlreadyApplied { version: 1 }));
        assert_eq!(plan(Mark::RolledBack(vec![1]), &[1, 2]).unwrap(), ["down 1"]);
        assert_eq!(plan(Mark::RolledBack(vec![3]), &[1]), Err(MarkError::NotApplied { version: 3 }));
        assert_eq!(plan(Mark::RolledBack(vec![7]), &[1]), Err(MarkError::NoFile { version: 7 }));
    }
}
