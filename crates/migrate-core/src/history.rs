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
        let Some((text, now)) = checksums_of(migration)? else { continue };
        let Some(row) = recorded.get(&migration.version().get()) else {
            check.unrecorded.push(ChecksumRow::new(migration.version(), now));
            continue;
        };
        if row.up != now.up {
            let statement = match row.first_changed_statement(now) {
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
pub fn checksum_row_of(migration: &Migration) -> Result<Option<ChecksumRow>, HistoryError> {
    Ok(checksums_of(migration)?.map(|(_, checksums)| ChecksumRow::new(migration.version(), checksums)))
}

/// A SQL migration's text and checksums (computed once, in its `SqlText`); `None` for a code migration.
fn checksums_of(migration: &Migration) -> Result<Option<(&str, &Checksums)>, HistoryError> {
    let MigrationKind::Sql { text: sql } = migration.kind() else { return Ok(None) };
    let text = sql.get().map_err(|problem| HistoryError::Unreadable { message: problem.to_string() })?;
    match sql.checksums(migration.path()) {
        Some(checksums) => Ok(Some((text, checksums))),
        // The cache holds no checksums only when the text does not parse: parse it again for the error.
        None => Err(Checksums::of(migration.path(), text).err().map_or_else(
            || HistoryError::Unreadable {
                message: format!("{}: its checksums could not be computed", migration.path()),
            },
            HistoryError::Parse,
        )),
    }
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

/// One thing `verify` found where the database and the directory disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// An applied migration's file changed since it was applied.
    Changed(ChangedMigration),
    /// A version is applied in the database but no file has it.
    NoFile {
        /// The version.
        version: Version,
    },
    /// A pending migration is older than the newest applied one (applying it needs allow-missing).
    OutOfOrder {
        /// The version.
        version: Version,
        /// Its file.
        file: String,
        /// The newest applied version.
        newest_applied: i64,
    },
    /// A migration stopped part-way and is recorded as partially applied (ClickHouse progress).
    Partial {
        /// The version.
        version: Version,
        /// Its file, when there is one.
        file: Option<String>,
        /// Statements completed.
        done: usize,
        /// Statements in the section.
        total: usize,
    },
    /// An applied migration has no checksum recorded yet (applied by goose, or before checksums).
    Unrecorded {
        /// The version.
        version: Version,
        /// Its file.
        file: String,
    },
}

impl Finding {
    /// A short name for the kind, as the JSON document gives it.
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::Changed(changed) if changed.direction == Direction::Up => "changed_up",
            Finding::Changed(_) => "changed_down",
            Finding::NoFile { .. } => "no_file",
            Finding::OutOfOrder { .. } => "out_of_order",
            Finding::Partial { .. } => "partial",
            Finding::Unrecorded { .. } => "no_checksum",
        }
    }

    /// The version it is about.
    pub fn version(&self) -> Version {
        match self {
            Finding::Changed(changed) => changed.version,
            Finding::NoFile { version }
            | Finding::OutOfOrder { version, .. }
            | Finding::Partial { version, .. }
            | Finding::Unrecorded { version, .. } => *version,
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Changed(changed) => changed.fmt(f),
            Finding::NoFile { version } => write!(f, "version {version} is applied, but no migration file has it"),
            Finding::OutOfOrder { version, file, newest_applied } => write!(
                f,
                "{file}: migration {version} is pending but older than the newest applied version {newest_applied} \
                 (out of order: it needs allow-missing to run)"
            ),
            Finding::Partial { version, file, done, total } => write!(
                f,
                "{}: migration {version} is partially applied ({done} of {total} statements); the next run resumes it",
                file.as_deref().unwrap_or("(no file)")
            ),
            Finding::Unrecorded { version, file } => write!(
                f,
                "{file}: migration {version} is applied but has no checksum recorded (applied by goose, or before \
                 checksums were kept); the next locked run records it"
            ),
        }
    }
}

/// How many versions goose counts as applied.
pub fn applied_count(rows: &[AppliedRow]) -> usize {
    crate::plan::applied_versions(rows).len()
}

/// Everything where the database and the directory disagree, in version order per kind: changed files,
/// applied versions with no file, out-of-order pending ones, partial ones, and (when checksums are kept)
/// applied ones with no checksum. Reads nothing but the files' texts.
pub fn verify_history(
    migrations: &[Migration],
    rows: &[AppliedRow],
    recorded: Option<&[ChecksumRow]>,
    progress: &[crate::progress::Progress],
) -> Result<Vec<Finding>, HistoryError> {
    let applied = crate::plan::applied_versions(rows);
    let mut findings = Vec::new();
    if let Some(recorded) = recorded {
        let check = check_history(migrations, rows, recorded)?;
        findings.extend(check.changed.into_iter().map(Finding::Changed));
        let unrecorded = check.unrecorded.iter().map(|row| row.version);
        for version in unrecorded {
            let file = migrations.iter().find(|m| m.version() == version).map(|m| m.path().to_owned());
            findings.push(Finding::Unrecorded { version, file: file.unwrap_or_default() });
        }
    }
    let files: std::collections::BTreeSet<i64> = migrations.iter().map(|m| m.version().get()).collect();
    for version in applied.iter().filter(|v| !files.contains(v)) {
        if let Some(version) = Version::new(*version) {
            findings.push(Finding::NoFile { version });
        }
    }
    let newest_applied = applied.iter().next_back().copied().unwrap_or(0);
    for migration in migrations {
        let version = migration.version().get();
        if !applied.contains(&version) && version < newest_applied {
            findings.push(Finding::OutOfOrder {
                version: migration.version(),
                file: migration.path().to_owned(),
                newest_applied,
            });
        }
    }
    for partial in progress {
        let file = migrations.iter().find(|m| m.version() == partial.version).map(|m| m.path().to_owned());
        findings.push(Finding::Partial { version: partial.version, file, done: partial.done, total: partial.total });
    }
    Ok(findings)
}

/// What `repair` changes in the checksum table.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Repair {
    /// Rows to record (the files as they are now), for applied migrations whose checksum differs or is
    /// missing.
    pub record: Vec<ChecksumRow>,
    /// Versions whose row goes, because they are no longer applied.
    pub remove: Vec<Version>,
}

/// Plans `repair` for the given versions (all applied ones when empty): record their files' checksums as
/// they are now, and forget the rows of versions that are no longer applied. A given version that is not
/// applied, or has no SQL file, is refused.
pub fn plan_repair(
    migrations: &[Migration],
    rows: &[AppliedRow],
    recorded: &[ChecksumRow],
    versions: &[i64],
) -> Result<Repair, RepairError> {
    let applied = crate::plan::applied_versions(rows);
    for version in versions {
        if !applied.contains(version) {
            return Err(RepairError::NotApplied { version: *version });
        }
        let has_file =
            migrations.iter().any(|m| m.version().get() == *version && matches!(m.kind(), MigrationKind::Sql { .. }));
        if !has_file {
            return Err(RepairError::NoFile { version: *version });
        }
    }
    let by_version: HashMap<i64, &ChecksumRow> = recorded.iter().map(|row| (row.version.get(), row)).collect();
    let mut repair = Repair::default();
    for migration in migrations {
        let version = migration.version().get();
        let chosen = if versions.is_empty() { applied.contains(&version) } else { versions.contains(&version) };
        if !chosen {
            continue;
        }
        let Some(row) = checksum_row_of(migration)? else { continue };
        let same = by_version.get(&version).is_some_and(|old| old.up == row.up && old.down == row.down);
        if !same {
            repair.record.push(row);
        }
    }
    repair.remove = recorded.iter().map(|row| row.version).filter(|v| !applied.contains(&v.get())).collect();
    Ok(repair)
}

/// Why `repair` refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepairError {
    /// The version is not applied: there is nothing to repair.
    #[error("version {version} is not applied, so it has no checksum to repair")]
    NotApplied {
        /// The version.
        version: i64,
    },
    /// No SQL migration file has the version.
    #[error("no SQL migration file has version {version}")]
    NoFile {
        /// The version.
        version: i64,
    },
    /// A file could not be read or parsed.
    #[error(transparent)]
    History(#[from] HistoryError),
}
