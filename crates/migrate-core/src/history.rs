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
    /// Rows whose file's bytes changed while its checksums did not (line endings, trailing spaces, comment
    /// lines), with the new file digest: saved at the next locked run, so later runs need not parse them.
    pub redigested: Vec<ChecksumRow>,
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
        let row = recorded.get(&migration.version().get()).copied();
        if let (Some(row), MigrationKind::Sql { text }) = (row, migration.kind()) {
            // The usual case, and the only work for an unchanged file: its bytes are the recorded ones.
            if !row.file_digest.is_empty() && text.digest_matches(&row.file_digest) {
                continue;
            }
        }
        let Some(now) = checksums_of(migration)? else { continue };
        let Some(row) = row else {
            check.unrecorded.push(now.row(migration.version()));
            continue;
        };
        if row.up != now.checksums.up {
            let statement = match row.first_changed_statement(now.checksums) {
                Some(index) => {
                    let up = parse_direction_verbatim(migration.path(), now.text, Direction::Up)?;
                    let line =
                        up.statements.get(index).map(|s| s.line()).unwrap_or_else(|| now.text.lines().count() + 1);
                    Some((index + 1, line))
                }
                // Every statement hashes the same: the transaction mode changed.
                None => None,
            };
            check.changed.push(changed(migration, Direction::Up, statement, row));
        }
        if row.down != now.checksums.down {
            check.changed.push(changed(migration, Direction::Down, None, row));
        }
        if row.up == now.checksums.up && row.down == now.checksums.down {
            check.redigested.push(ChecksumRow { file_digest: now.digest.to_owned(), ..row.clone() });
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
    Ok(checksums_of(migration)?.map(|now| now.row(migration.version())))
}

/// A SQL migration file as it is now.
struct FileNow<'a> {
    text: &'a str,
    checksums: &'a Checksums,
    digest: &'a str,
}

impl FileNow<'_> {
    fn row(&self, version: Version) -> ChecksumRow {
        ChecksumRow::new(version, self.checksums, self.digest)
    }
}

/// A SQL migration's text, checksums and digest (computed once, in its `SqlText`); `None` for a code
/// migration.
fn checksums_of(migration: &Migration) -> Result<Option<FileNow<'_>>, HistoryError> {
    let MigrationKind::Sql { text: sql } = migration.kind() else { return Ok(None) };
    let text = sql.get().map_err(|problem| HistoryError::Unreadable { message: problem.to_string() })?;
    match (sql.checksums(migration.path()), sql.digest()) {
        (Some(checksums), Some(digest)) => Ok(Some(FileNow { text, checksums, digest })),
        // The cache holds no checksums only when the text does not parse: parse it again for the error.
        _ => Err(Checksums::of(migration.path(), text).err().map_or_else(
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

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "-- +goose Up\nCREATE TABLE t (id int);\n-- +goose Down\nDROP TABLE t;\n";

    fn version(v: i64) -> Version {
        Version::new(v).unwrap()
    }

    fn applied(text: &'static str) -> (Vec<Migration>, Vec<AppliedRow>) {
        (vec![Migration::sql(version(1), "00001_t.sql", text)], vec![AppliedRow::new(1, true, None)])
    }

    /// The row a run recorded for `text`.
    fn recorded(text: &'static str) -> ChecksumRow {
        let (migrations, _) = applied(text);
        checksum_row_of(&migrations[0]).unwrap().unwrap()
    }

    #[test]
    fn unchanged_bytes_are_not_parsed() {
        let (migrations, rows) = applied(FILE);
        // A row whose checksums disagree with the file but whose digest is the file's: the digest alone
        // decides, so the file was not compared (nor parsed).
        let row = ChecksumRow { up: "not the checksum".into(), ..recorded(FILE) };
        let check = check_history(&migrations, &rows, std::slice::from_ref(&row)).unwrap();
        assert!(check.changed.is_empty() && check.redigested.is_empty(), "{check:?}");
        let MigrationKind::Sql { text } = migrations[0].kind() else { unreachable!() };
        assert!(text.digest().is_some());
        // Without a digest (a row from before digests), the checksums are compared.
        let row = ChecksumRow { file_digest: String::new(), ..row };
        let check = check_history(&migrations, &rows, &[row]).unwrap();
        assert_eq!(check.changed.len(), 1, "{check:?}");
    }

    #[test]
    fn new_bytes_with_the_same_checksums_are_redigested() {
        let crlf = "-- +goose Up\r\nCREATE TABLE t (id int);  \r\n-- +goose Down\r\nDROP TABLE t;\r\n";
        let (migrations, rows) = applied(crlf);
        let before = recorded(FILE);
        let check = check_history(&migrations, &rows, std::slice::from_ref(&before)).unwrap();
        assert!(check.changed.is_empty(), "{check:?}");
        assert_eq!(check.redigested.len(), 1, "{check:?}");
        let redigested = &check.redigested[0];
        assert_eq!(redigested.file_digest, recorded(crlf).file_digest);
        assert_ne!(redigested.file_digest, before.file_digest);
        // Only the digest is new: what the row says was recorded (and by whom) stays.
        assert_eq!(ChecksumRow { file_digest: before.file_digest.clone(), ..redigested.clone() }, before);
    }

    #[test]
    fn an_edit_is_found_past_the_digest() {
        let edited = "-- +goose Up\nCREATE TABLE t (id bigint);\n-- +goose Down\nDROP TABLE t;\n";
        let (migrations, rows) = applied(edited);
        let check = check_history(&migrations, &rows, &[recorded(FILE)]).unwrap();
        assert_eq!(check.changed.len(), 1, "{check:?}");
        assert_eq!(check.changed[0].statement, Some((1, 2)));
        assert!(check.redigested.is_empty());
    }
}
