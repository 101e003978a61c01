//! Checking the applied history against the files before a run: which applied migrations' files changed
//! since they were applied (by their recorded checksums), and which applied migrations have no checksum
//! yet (applied by goose, or before checksums were kept) and are adopted at the next locked run.

use std::collections::HashMap;

use crate::checksum::{ChecksumRow, Checksums};
use crate::driver::AppliedRow;
use crate::parser::{parse_direction_verbatim, ParseError};
use crate::source::{Migration, MigrationKind};
use crate::{Direction, Version};

/// An applied migration whose file no longer matches its recorded checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedMigration {
    /// The version.
    pub version: Version,
    /// The file's path.
    pub file: String,
    /// Which section changed.
    pub direction: Direction,
    /// For an Up change: the 1-based index of the first statement that differs, and its line in the
    /// file now (the line after the last statement when statements were removed).
    pub statement: Option<(usize, usize)>,
    /// The tool version that recorded the checksum.
    pub recorded_by: String,
}

/// What the check found.
#[derive(Debug, Default)]
pub struct HistoryCheck {
    /// Applied migrations whose Up or Down section changed, in version order (Up before Down).
    pub changed: Vec<ChangedMigration>,
    /// Rows to record for applied migrations that have a file but no checksum yet.
    pub unrecorded: Vec<ChecksumRow>,
}

/// Compares the applied versions that have SQL files with their recorded checksums. A file that cannot
/// be read or parsed is reported as the parse error it is.
pub fn check_history(
    migrations: &[Migration],
    rows: &[AppliedRow],
    recorded: &[ChecksumRow],
) -> Result<HistoryCheck, HistoryError> {
    let recorded: HashMap<i64, &ChecksumRow> = recorded.iter().map(|row| (row.version.get(), row)).collect();
    let applied = crate::plan::applied_versions(rows);
    let mut check = HistoryCheck::default();
    for migration in migrations.iter().filter(|m| applied.contains(&m.version().get())) {
        let MigrationKind::Sql { text } = migration.kind() else { continue };
        let text = text.get().map_err(|problem| HistoryError::Unreadable { message: problem.to_string() })?;
        let now = Checksums::of(migration.path(), text)?;
        let Some(row) = recorded.get(&migration.version().get()) else {
            check.unrecorded.push(ChecksumRow::new(migration.version(), &now));
            continue;
        };
        if row.up != now.up {
            let statement = match row.first_changed_statement(&now) {
                Some(index) => {
                    let up = parse_direction_verbatim(migration.path(), text, Direction::Up)?;
                    let line = up.statements.get(index).map(|s| s.line()).unwrap_or_else(|| text.lines().count() + 1);
                    Some((index + 1, line))
                }
                // Every statement hashes the same: the transaction mode changed.
                None => None,
            };
            check.changed.push(changed(migration, Direction::Up, statement, row));
        }
        if row.down != now.down {
            check.changed.push(changed(migration, Direction::Down, None, row));
        }
    }
    Ok(check)
}

fn changed(
    migration: &Migration,
    direction: Direction,
    statement: Option<(usize, usize)>,
    row: &ChecksumRow,
) -> ChangedMigration {
    ChangedMigration {
        version: migration.version(),
        file: migration.path().to_owned(),
        direction,
        statement,
        recorded_by: row.tool_version.clone(),
    }
}

/// The checksum row to record for a SQL migration being applied now (none for code migrations).
pub(crate) fn row_for(migration: &Migration) -> Result<Option<ChecksumRow>, HistoryError> {
    let MigrationKind::Sql { text } = migration.kind() else { return Ok(None) };
    let text = text.get().map_err(|problem| HistoryError::Unreadable { message: problem.to_string() })?;
    Ok(Some(ChecksumRow::new(migration.version(), &Checksums::of(migration.path(), text)?)))
}

/// Why the history could not be checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// An applied migration's file could not be read.
    #[error("{message}")]
    Unreadable {
        /// What went wrong, with the path.
        message: String,
    },
    /// An applied migration's file does not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

impl std::fmt::Display for ChangedMigration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.direction, self.statement) {
            (Direction::Up, Some((index, line))) => write!(
                f,
                "{}:{line}: migration {} is applied, and its Up section changed since ({} recorded it): statement \
                 {index} differs first",
                self.file, self.version, self.recorded_by
            ),
            (Direction::Up, None) => write!(
                f,
                "{}: migration {} is applied, and its transaction mode (NO TRANSACTION) changed since ({} recorded it)",
                self.file, self.version, self.recorded_by
            ),
            (Direction::Down, _) => write!(
                f,
                "{}: migration {} is applied, and its Down section changed since ({} recorded it)",
                self.file, self.version, self.recorded_by
            ),
        }
    }
}
