//! Migration sources (a directory, or files embedded in the binary) and the one resolver that turns their
//! files into an ordered list of migrations with goose's rules.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use crate::source::text::{FileContents, SqlText};
use crate::version::{version_from_file_name, Version, VersionNameError};

mod text;

/// One file offered by a source: its base name, the path to show in messages, and its contents.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The base name, e.g. `00001_create_users.sql`.
    pub name: String,
    /// The path shown in messages, e.g. `migrations/00001_create_users.sql`.
    pub path: String,
    /// The contents, in memory or still on disk (a directory reads a file only when its text is needed).
    pub contents: FileContents,
}

/// Where migration files come from.
pub trait MigrationSource {
    /// The top-level files of the source, in any order. Only names matter for code-migration files.
    fn files(&self) -> Result<Vec<SourceFile>, ResolveError>;
}

/// Migrations read from a directory at run time (its top level only, as goose does).
#[derive(Debug, Clone)]
pub struct DirectorySource {
    dir: PathBuf,
}

impl DirectorySource {
    /// A source reading the `*.sql` files at the top level of `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> DirectorySource {
        DirectorySource { dir: dir.into() }
    }

    /// The directory this source reads.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl MigrationSource for DirectorySource {
    fn files(&self) -> Result<Vec<SourceFile>, ResolveError> {
        let dir_text = self.dir.display().to_string();
        let io_error = |path: &Path, error: std::io::Error| {
            ResolveError::single(ResolveProblem::Io { path: path.display().to_string(), message: error.to_string() })
        };
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(ResolveError::single(ResolveProblem::MissingDirectory { dir: dir_text }));
            }
            Err(error) => return Err(io_error(&self.dir, error)),
        };
        let mut candidates = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|error| io_error(&self.dir, error))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue; // Not UTF-8, so it cannot end in ".sql" as goose's glob requires.
            };
            if file_kind(&name).is_none() {
                continue;
            }
            let path = entry.path();
            // The directory entry knows its type; only a symlink needs a stat (it counts by what it points
            // at, so a link to a regular file is a migration file).
            let mut file_type = entry.file_type().map_err(|error| io_error(&path, error))?;
            if file_type.is_symlink() {
                file_type = std::fs::metadata(&path).map_err(|error| io_error(&path, error))?.file_type();
            }
            if file_type.is_file() {
                candidates.push((name, path.display().to_string(), FileContents::Disk(path)));
            } else if file_kind(&name) == Some(FileKind::Sql) {
                // goose globs it and fails (or, for a FIFO, blocks) only when it runs it: the resolver
                // refuses it, together with any other problem of the directory.
                candidates.push((
                    name,
                    path.display().to_string(),
                    FileContents::NotAFile { what: describe(file_type) },
                ));
            }
        }
        let files: Vec<SourceFile> =
            candidates.into_iter().map(|(name, path, contents)| SourceFile { name, path, contents }).collect();
        if files.is_empty() {
            return Err(ResolveError::single(ResolveProblem::NoMigrations { location: dir_text }));
        }
        Ok(files)
    }
}

/// What a directory entry that is not a regular file is, for messages.
pub(crate) fn describe(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return "a device";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Migrations compiled into the binary: `(file name, contents)` pairs, as `migrate::embed!` produces.
///
/// `Copy`, so a `static` produced by `embed!` can be handed to a function that takes a source by value.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedSource {
    location: &'static str,
    files: &'static [(&'static str, &'static str)],
}

impl EmbeddedSource {
    /// A source over embedded files; `location` names the directory they came from, for messages.
    pub const fn new(location: &'static str, files: &'static [(&'static str, &'static str)]) -> EmbeddedSource {
        EmbeddedSource { location, files }
    }
}

impl MigrationSource for EmbeddedSource {
    fn files(&self) -> Result<Vec<SourceFile>, ResolveError> {
        if self.files.is_empty() {
            return Err(ResolveError::single(ResolveProblem::NoMigrations { location: self.location.to_owned() }));
        }
        Ok(self
            .files
            .iter()
            .map(|(name, text)| SourceFile {
                name: (*name).to_owned(),
                path: format!("{}/{}", self.location.trim_end_matches('/'), name),
                contents: FileContents::Memory(Cow::Borrowed(text.as_bytes())),
            })
            .collect())
    }
}

/// A code migration registered by version (the Rust stand-in for goose's Go migrations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeMigrationInfo {
    /// Its version, shared with SQL files.
    pub version: Version,
    /// A name for messages and status.
    pub name: String,
    /// Whether it runs inside the migration's transaction.
    pub transaction: bool,
    /// Whether it has an up function (the version is recorded either way).
    pub has_up: bool,
    /// Whether it has a down function (the version is removed either way).
    pub has_down: bool,
}

/// A resolved migration: a version, its file name and path, and its SQL text or code registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    version: Version,
    name: String,
    path: String,
    kind: MigrationKind,
}

/// What a migration runs.
#[derive(Debug, Clone, PartialEq, Eq)]
// Made once per file and kept in one Vec for the run; boxing the text would add an allocation per file.
#[allow(clippy::large_enum_variant)]
pub enum MigrationKind {
    /// An annotated SQL file; parsed when it is planned.
    Sql {
        /// The file's text (read on first use when it comes from a directory).
        text: SqlText,
    },
    /// A registered code migration.
    Code(CodeMigrationInfo),
}

impl Migration {
    /// A SQL migration built directly, for tests and for callers with their own sources.
    pub fn sql(version: Version, name: impl Into<String>, text: impl Into<Cow<'static, str>>) -> Migration {
        let name = name.into();
        Migration { version, path: name.clone(), name, kind: MigrationKind::Sql { text: SqlText::memory(text) } }
    }

    /// The version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The base file name (goose prints it in `OK <name>` lines and in status).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The path shown in error messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What it runs.
    pub fn kind(&self) -> &MigrationKind {
        &self.kind
    }
}

/// Why the migrations could not be resolved: every problem found, not only the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ResolveError {
    problems: Vec<ResolveProblem>,
    resolved: Vec<Migration>,
}

impl ResolveError {
    fn single(problem: ResolveProblem) -> ResolveError {
        ResolveError { problems: vec![problem], resolved: Vec::new() }
    }

    /// Each problem found.
    pub fn problems(&self) -> &[ResolveProblem] {
        &self.problems
    }

    /// The migrations that did resolve despite the problems, ordered by version (of two files with one
    /// version, the first in name order), so that a check such as `validate` can go on to parse them and
    /// report everything at once. Never run these: the set is incomplete.
    pub fn resolved(&self) -> &[Migration] {
        &self.resolved
    }
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            problem.fmt(f)?;
        }
        Ok(())
    }
}

/// One problem with a source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveProblem {
    /// The directory does not exist.
    #[error("{dir}: migrations directory does not exist")]
    MissingDirectory {
        /// The directory.
        dir: String,
    },
    /// The source holds no migrations.
    #[error("{location}: no migration files found; add one with `migrate create NAME sql`")]
    NoMigrations {
        /// The directory or embedded location.
        location: String,
    },
    /// Reading failed.
    #[error("{path}: {message}")]
    Io {
        /// The file or directory.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// A `.sql` file whose name does not carry a version.
    #[error("{path}: could not parse a migration version from the file name: {reason}")]
    BadFileName {
        /// The file.
        path: String,
        /// Why.
        reason: VersionNameError,
    },
    /// Two migrations with one version.
    #[error("duplicate migration version {version}: {first} and {second}; give one of them a new version")]
    DuplicateVersion {
        /// The version.
        version: Version,
        /// The first file (or code migration).
        first: String,
        /// The second one.
        second: String,
    },
    /// A code-migration file with no code migration registered for its version.
    #[error(
        "{path}: code migration file with no registered code migration for version {version}; register it \
         in the library or remove the file"
    )]
    UnregisteredCodeFile {
        /// The file.
        path: String,
        /// Its version.
        version: Version,
    },
    /// A directory entry named like a SQL migration that is not a regular file (nor a link to one).
    #[error(
        "{path}: is {what}, not a migration file; migrations must be regular files (or links to them): \
         rename it so that it does not end in .sql, or move it out of the migrations directory"
    )]
    NotAFile {
        /// The entry.
        path: String,
        /// What it is instead: "a directory", "a FIFO (named pipe)", ...
        what: &'static str,
    },
    /// A `.sql` file that is not UTF-8.
    #[error("{path}:{line}: the file is not valid UTF-8; save it as UTF-8")]
    NotUtf8 {
        /// The file.
        path: String,
        /// The line of the first invalid byte.
        line: usize,
    },
}

impl ResolveProblem {
    /// The file the problem is about (for a duplicate, the second file), when it is about one.
    pub fn path(&self) -> Option<&str> {
        match self {
            ResolveProblem::MissingDirectory { .. } | ResolveProblem::NoMigrations { .. } => None,
            ResolveProblem::Io { path, .. }
            | ResolveProblem::BadFileName { path, .. }
            | ResolveProblem::UnregisteredCodeFile { path, .. }
            | ResolveProblem::NotAFile { path, .. }
            | ResolveProblem::NotUtf8 { path, .. } => Some(path),
            ResolveProblem::DuplicateVersion { second, .. } => Some(second),
        }
    }

    /// The 1-based line the problem points at, when it points at one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ResolveProblem::NotUtf8 { line, .. } => Some(*line),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Sql,
    Code,
}

/// goose globs `*.sql` and `*.go` (case-sensitive, skipping `_test.go`); `.rs` is our code-migration file.
fn file_kind(name: &str) -> Option<FileKind> {
    if name.ends_with(".sql") {
        Some(FileKind::Sql)
    } else if (name.ends_with(".go") && !name.ends_with("_test.go")) || name.ends_with(".rs") {
        Some(FileKind::Code)
    } else {
        None
    }
}

/// Resolves a source's files and the registered code migrations into migrations ordered by version.
///
/// goose's rules: only `*.sql` (and code-migration `*.go`/`*.rs`) files count; the version is the integer
/// before the first `_`; a `.sql` name without one is an error; a code file whose name has no version is
/// skipped, one with a version needs a registered code migration; duplicate versions are errors.
///
/// ```
/// use migrate_core::{resolve, EmbeddedSource};
/// static FILES: &[(&str, &str)] = &[
///     ("00002_b.sql", "-- +goose Up\nSELECT 2;\n"),
///     ("00001_a.sql", "-- +goose Up\nSELECT 1;\n"),
/// ];
/// let migrations = resolve(&EmbeddedSource::new("migrations", FILES), &[]).unwrap();
/// assert_eq!(migrations[0].name(), "00001_a.sql");
/// ```
pub fn resolve(source: &dyn MigrationSource, code: &[CodeMigrationInfo]) -> Result<Vec<Migration>, ResolveError> {
    resolve_files(source.files()?, code)
}

/// Resolves files already read (files named one by one, say) as [`resolve`] resolves a source's.
pub fn resolve_files(mut files: Vec<SourceFile>, code: &[CodeMigrationInfo]) -> Result<Vec<Migration>, ResolveError> {
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let mut problems = Vec::new();
    let mut by_version: BTreeMap<Version, Migration> = BTreeMap::new();
    let mut insert = |migration: Migration, problems: &mut Vec<ResolveProblem>| {
        if let Some(existing) = by_version.get(&migration.version) {
            problems.push(ResolveProblem::DuplicateVersion {
                version: migration.version,
                first: existing.path.clone(),
                second: migration.path.clone(),
            });
        } else {
            by_version.insert(migration.version, migration);
        }
    };
    for info in code {
        let migration = Migration {
            version: info.version,
            name: info.name.clone(),
            path: format!("code migration {} ({})", info.version, info.name),
            kind: MigrationKind::Code(info.clone()),
        };
        insert(migration, &mut problems);
    }
    for file in files {
        match file_kind(&file.name) {
            Some(FileKind::Sql) => {
                if let FileContents::NotAFile { what } = file.contents {
                    problems.push(ResolveProblem::NotAFile { path: file.path, what });
                    continue;
                }
                let version = match version_from_file_name(&file.name) {
                    Ok(version) => version,
                    Err(reason) => {
                        problems.push(ResolveProblem::BadFileName { path: file.path, reason });
                        continue;
                    }
                };
                let text = match SqlText::from_contents(&file.path, file.contents) {
                    Ok(text) => text,
                    Err(problem) => {
                        problems.push(problem);
                        continue;
                    }
                };
                insert(
                    Migration { version, name: file.name, path: file.path, kind: MigrationKind::Sql { text } },
                    &mut problems,
                );
            }
            Some(FileKind::Code) => {
                let Ok(version) = version_from_file_name(&file.name) else {
                    continue; // goose skips code files whose names carry no version (e.g. mod.rs).
                };
                if !code.iter().any(|info| info.version == version) {
                    problems.push(ResolveProblem::UnregisteredCodeFile { path: file.path, version });
                }
                // A registered code migration's file is the registration itself: nothing more to add.
            }
            None => {}
        }
    }
    if !problems.is_empty() {
        return Err(ResolveError { problems, resolved: by_version.into_values().collect() });
    }
    Ok(by_version.into_values().collect())
}

#[cfg(test)]
mod tests;
