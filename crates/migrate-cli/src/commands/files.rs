//! `create`, `fix` and `init`: goose's file-name rules (UTC timestamps or `%05d` sequential versions,
//! snake_case names) and goose's SQL template. No database.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use migrate::{version_from_file_name, Version};

use crate::error::CliError;
use crate::output::Output;
use crate::settings::{Settings, DEFAULT_DIR};

/// goose's SQL template for `create` (v3.27: no StatementBegin/End).
pub(crate) const SQL_TEMPLATE: &str =
    "-- +goose Up\nSELECT 'up SQL query';\n\n-- +goose Down\nSELECT 'down SQL query';\n";

/// The first migration `init` writes: a short guide, then the same template.
pub(crate) const INIT_TEMPLATE: &str = "\
-- The first migration of this directory, created by `migrate init`.
--
-- Each file holds one migration: the SQL under the Up annotation below applies it, the SQL
-- under the Down annotation rolls it back. A statement ends at a line that ends with `;`; wrap
-- statements that contain such lines (functions, DO blocks) in StatementBegin and StatementEnd
-- annotations. A NO TRANSACTION annotation runs the file outside a transaction (needed for
-- CREATE INDEX CONCURRENTLY). Annotation lines start with two dashes and the word goose with a
-- plus sign in front, so ordinary comments like these must not contain that word with its plus.
-- The files are goose's, so goose can run them too.
--
-- Replace the two queries below, or delete this file and run `migrate create NAME`.

-- +goose Up
SELECT 'up SQL query';

-- +goose Down
SELECT 'down SQL query';
";

pub(crate) fn create(name: &str, kind: &str, settings: &Settings, out: &Output) -> Result<ExitCode, CliError> {
    match kind {
        "sql" => {}
        "go" => {
            return Err(CliError::failed(
                "go migrations cannot be created: the migrate command runs SQL migrations (Rust code migrations are \
                 registered in the library); run `migrate create NAME sql`",
            ))
        }
        other => return Err(CliError::failed(format!("unknown migration type {other:?}: use sql"))),
    }
    let dir = Path::new(&settings.dir);
    if !dir.is_dir() {
        return Err(CliError::failed(format!(
            "{}: migrations directory does not exist; create it, pass the right one with -dir, or run `migrate init`",
            settings.dir
        )));
    }
    let snake = snake_case(name);
    if snake.is_empty() {
        return Err(CliError::failed(format!("migration name {name:?} has no letters or digits: name what it does")));
    }
    let version = if settings.sequential {
        next_sequential(&existing_versions(dir)?)
    } else {
        // goose takes the current second even when a migration (another `create`, or `init`, in the same
        // second) already has it; two files with one version fail every later run, so take the next free
        // second instead.
        next_free_timestamp(chrono::Utc::now().naive_utc(), &versions_in(dir, Names::Lenient)?)
    };
    let path = join(&settings.dir, &format!("{version}_{snake}.sql"));
    write_new(&path, SQL_TEMPLATE)?;
    out.log(&format!("Created new file: {}", path.display()));
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn fix(settings: &Settings, out: &Output) -> Result<ExitCode, CliError> {
    let dir = Path::new(&settings.dir);
    let versions = existing_versions(dir)?;
    if versions.is_empty() {
        return Err(CliError::failed(format!(
            "{}: no migration files found; pass the right directory with -dir",
            settings.dir
        )));
    }
    for (old, new) in fix_renames(&versions) {
        let (from, to) = (dir.join(&old), dir.join(&new));
        if to.exists() {
            return Err(CliError::failed(format!(
                "cannot rename {old} to {new}: {new} already exists; rename one of them by hand"
            )));
        }
        std::fs::rename(&from, &to)
            .map_err(|error| CliError::failed(format!("renaming {} failed: {error}", from.display())))?;
        out.log(&format!("RENAMED {old} => {new}"));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn init(settings: &Settings, out: &Output) -> Result<ExitCode, CliError> {
    let dir = if settings.dir.is_empty() || settings.dir == DEFAULT_DIR { "migrations" } else { settings.dir.as_str() };
    if Path::new(dir).exists() {
        return Err(CliError::failed(format!(
            "directory already exists: {dir}; use `migrate create NAME` to add a migration to it"
        )));
    }
    std::fs::create_dir_all(dir).map_err(|error| CliError::failed(format!("creating {dir} failed: {error}")))?;
    let version = chrono::Utc::now().format("%Y%m%d%H%M%S");
    let path = join(dir, &format!("{version}_initial.sql"));
    write_new(&path, INIT_TEMPLATE)?;
    out.log(&format!("Created new file: {}", path.display()));
    Ok(ExitCode::SUCCESS)
}

/// `dir/name` as Go's `filepath.Join` shows it (no `./` prefix for the current directory).
fn join(dir: &str, name: &str) -> PathBuf {
    if dir == DEFAULT_DIR || dir.is_empty() {
        PathBuf::from(name)
    } else {
        Path::new(dir).join(name)
    }
}

/// Creates a file that must not exist yet.
fn write_new(path: &Path, text: &str) -> Result<(), CliError> {
    let shown = path.display();
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::failed(format!("failed to create migration file: {shown} already exists"))
        } else {
            CliError::failed(format!("failed to create migration file {shown}: {error}"))
        }
    })?;
    file.write_all(text.as_bytes())
        .map_err(|error| CliError::failed(format!("failed to write migration file {shown}: {error}")))
}

/// goose's snake_case: letters and digits lower-cased, every run of anything else one `_`, trimmed.
pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for c in name.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// How goose classifies a version (`migrate.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionKind {
    /// Parses as `YYYYMMDDHHMMSS` after the Unix epoch.
    Timestamp,
    /// Anything else, including a 14-digit number that is not a real date, or one before the epoch.
    Sequential,
    /// Exactly the epoch, `19700101000000`: neither (goose's boundary).
    Neither,
}

/// Classifies a version as goose does: its decimal string parsed with Go's layout `20060102150405`.
pub(crate) fn classify(version: Version) -> VersionKind {
    let text = version.get().to_string();
    let bytes = text.as_bytes();
    if bytes.len() != 14 || !bytes.iter().all(u8::is_ascii_digit) {
        return VersionKind::Sequential;
    }
    let field = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
    let date = field(0..4)
        .zip(field(4..6))
        .zip(field(6..8))
        .and_then(|((y, m), d)| chrono::NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d));
    let time = field(8..10)
        .zip(field(10..12))
        .zip(field(12..14))
        .and_then(|((h, m), s)| chrono::NaiveTime::from_hms_opt(h, m, s));
    let Some(at) = date.zip(time).map(|(d, t)| d.and_time(t)) else { return VersionKind::Sequential };
    let epoch = chrono::DateTime::UNIX_EPOCH.naive_utc();
    match at.cmp(&epoch) {
        std::cmp::Ordering::Greater => VersionKind::Timestamp,
        std::cmp::Ordering::Less => VersionKind::Sequential,
        std::cmp::Ordering::Equal => VersionKind::Neither,
    }
}

/// The next sequential version, `%05d`: the highest sequential one plus one, or 1.
pub(crate) fn next_sequential(versions: &[(Version, String)]) -> String {
    let last = versions.iter().map(|(v, _)| *v).filter(|v| classify(*v) == VersionKind::Sequential).max();
    format!("{:05}", last.map_or(1, |v| v.get().saturating_add(1)))
}

/// goose's `fix`: each timestamped migration, in version order, renamed to the next sequential number
/// after the highest sequential one, replacing the first occurrence of its version in the name.
pub(crate) fn fix_renames(versions: &[(Version, String)]) -> Vec<(String, String)> {
    let mut next = next_sequential(versions).parse::<i64>().unwrap_or(1);
    let mut timestamped: Vec<&(Version, String)> =
        versions.iter().filter(|(v, _)| classify(*v) == VersionKind::Timestamp).collect();
    timestamped.sort_by_key(|(v, _)| *v);
    let mut renames = Vec::with_capacity(timestamped.len());
    for (version, name) in timestamped {
        renames.push((name.clone(), name.replacen(&version.to_string(), &format!("{next:05}"), 1)));
        next = next.saturating_add(1);
    }
    renames
}

/// The timestamp version (`YYYYMMDDHHMMSS`, UTC) of `now`, or of the first second after it that no
/// existing migration has.
pub(crate) fn next_free_timestamp(now: chrono::NaiveDateTime, existing: &[(Version, String)]) -> String {
    let mut at = now;
    loop {
        let version = at.format("%Y%m%d%H%M%S").to_string();
        let taken = existing.iter().any(|(v, _)| v.get().to_string() == version);
        // Each taken second is one existing file, so this ends; past the calendar, keep the last one.
        match at.checked_add_signed(chrono::TimeDelta::seconds(1)) {
            Some(next) if taken => at = next,
            _ => return version,
        }
    }
}

/// Whether a `.sql` file whose name carries no version is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Names {
    /// As in goose's CLI (`fix`, `create -s`).
    Strict,
    /// Skipped: only the versions that exist matter.
    Lenient,
}

/// The versions of the migration files at the top of `dir` (goose's `*.sql` and `*.go`; a `.sql` file
/// without a version is an error, as in goose's CLI).
pub(crate) fn existing_versions(dir: &Path) -> Result<Vec<(Version, String)>, CliError> {
    versions_in(dir, Names::Strict)
}

/// The versions of the migration files at the top of `dir`, `.sql` names without one handled as `names` says.
pub(crate) fn versions_in(dir: &Path, names: Names) -> Result<Vec<(Version, String)>, CliError> {
    let shown = dir.display();
    let entries = std::fs::read_dir(dir).map_err(|error| {
        CliError::failed(format!(
            "{shown}: cannot read the migrations directory: {error}; pass the right one with -dir"
        ))
    })?;
    let mut versions = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| CliError::failed(format!("{shown}: {error}")))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
        let sql = name.ends_with(".sql");
        let go = name.ends_with(".go") && !name.ends_with("_test.go");
        if !(sql || go) {
            continue;
        }
        match version_from_file_name(&name) {
            Ok(version) => versions.push((version, name)),
            Err(reason) if sql && names == Names::Strict => {
                return Err(CliError::failed(format!(
                    "{}: could not parse a migration version from the file name: {reason}",
                    dir.join(&name).display()
                )))
            }
            Err(_) => {}
        }
    }
    versions.sort();
    Ok(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(version: i64) -> Version {
        Version::new(version).unwrap()
    }

    #[test]
    fn snake_case_as_goose() {
        assert_eq!(snake_case("Add updated_at to users table"), "add_updated_at_to_users_table");
        assert_eq!(snake_case("$()&^%(_--crazy__--input$)"), "crazy_input");
        assert_eq!(snake_case("AddUsers"), "addusers");
        assert_eq!(snake_case("Ünïcode Názov"), "ünïcode_názov");
        assert_eq!(snake_case("!!!"), "");
    }

    #[test]
    fn classification() {
        assert_eq!(classify(v(20240102030405)), VersionKind::Timestamp);
        assert_eq!(classify(v(1)), VersionKind::Sequential);
        assert_eq!(classify(v(99999)), VersionKind::Sequential);
        // 14 digits that are not a real date, and dates before the epoch, are sequential.
        assert_eq!(classify(v(20241302030405)), VersionKind::Sequential);
        assert_eq!(classify(v(20240230030405)), VersionKind::Sequential);
        assert_eq!(classify(v(19000101000000)), VersionKind::Sequential);
        assert_eq!(classify(v(19700101000000)), VersionKind::Neither);
    }

    #[test]
    fn timestamps_skip_taken_seconds() {
        let at = |text: &str| chrono::NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M%S").unwrap();
        let now = at("20240102235958");
        assert_eq!(next_free_timestamp(now, &[]), "20240102235958");
        assert_eq!(next_free_timestamp(now, &[(v(1), "00001_a.sql".into())]), "20240102235958");
        // The next second is a real time: across the minute, hour and day.
        let taken =
            [(v(20240102235958), "20240102235958_a.sql".into()), (v(20240102235959), "20240102235959_b.sql".into())];
        assert_eq!(next_free_timestamp(now, &taken), "20240103000000");
        assert_eq!(classify(v(20240103000000)), VersionKind::Timestamp);
    }

    #[test]
    fn sequential_numbers_and_fix() {
        assert_eq!(next_sequential(&[]), "00001");
        assert_eq!(next_sequential(&[(v(20240102030405), "20240102030405_a.sql".into())]), "00001");
        assert_eq!(next_sequential(&[(v(3), "00003_a.sql".into()), (v(1), "00001_b.sql".into())]), "00004");
        assert_eq!(next_sequential(&[(v(123456), "123456_a.sql".into())]), "123457");
        let files = [
            (v(1), "00001_a.sql".into()),
            (v(3), "00003_b.sql".into()),
            (v(20240102030406), "20240102030406_d.sql".into()),
            (v(20240102030405), "20240102030405_c.sql".into()),
        ];
        assert_eq!(
            fix_renames(&files),
            [
                ("20240102030405_c.sql".to_owned(), "00004_c.sql".to_owned()),
                ("20240102030406_d.sql".to_owned(), "00005_d.sql".to_owned()),
            ]
        );
    }
}
