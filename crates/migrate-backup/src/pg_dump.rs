//! The built-in PostgreSQL backup: `pg_dump --format=custom` into `PATH.partial`, read back with
//! `pg_restore --list`, then published under its final name, never over an existing file.
//!
//! The file-system steps use blocking `std::fs` calls: each is one metadata operation on a local
//! path, far shorter than the dump around them.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use migrate_postgres::PgConnSpec;

use crate::pg_env::{pg_env, CLEARED_PG_VARS};
use crate::process::{self, shell_quote, Child, Deadline, Secrets};
use crate::version::{parse_mismatch, parse_tool_version};
use crate::{expand_template, BackupContext, BackupError, BackupReport};

/// What to do when pg_dump is not found.
const PG_DUMP_HINT: &str =
    "install the PostgreSQL client tools (pg_dump, pg_restore) or set backup.pg_dump to the pg_dump to use";

/// What to do when pg_restore is not found.
const PG_RESTORE_HINT: &str = "install pg_restore (it comes with pg_dump) so the backup can be verified";

/// The suffix of the file pg_dump writes before it has been verified.
const PARTIAL_SUFFIX: &str = ".partial";

/// Takes, verifies and publishes one dump.
pub(crate) async fn backup(
    path_template: &str,
    pg_dump: Option<&Path>,
    spec: &PgConnSpec,
    server_major: Option<u32>,
    context: &BackupContext,
    deadline: Option<Deadline>,
) -> Result<BackupReport, BackupError> {
    let path = PathBuf::from(expand_template(path_template, context)?);
    check_destination(&path)?;
    let partial_path = partial_name(&path);

    let pg_dump = pg_dump.map_or_else(|| PathBuf::from("pg_dump"), Path::to_path_buf);
    let version = check_version(&pg_dump, server_major, deadline).await?;

    let (env, secrets) = pg_env(spec);
    let partial = PartialFile::create(&partial_path)?;
    let mut file_arg = OsString::from("--file=");
    file_arg.push(partial.path.as_os_str());
    let dump = Child {
        program: pg_dump.clone().into_os_string(),
        args: vec!["--format=custom".into(), file_arg, "--no-password".into()],
        remove_env: CLEARED_PG_VARS,
        env,
        what: "pg_dump".to_owned(),
        not_found_hint: PG_DUMP_HINT,
    };
    let finished = process::run(dump, deadline).await?;
    if !finished.status.success() {
        let stderr = secrets.tail(&finished.stderr);
        if let Some((server, pg_dump_version)) = parse_mismatch(&stderr) {
            let server_major = parse_tool_version(&server).map_or(0, |version| version.major);
            return Err(BackupError::PgDumpTooOld {
                program: pg_dump.display().to_string(),
                pg_dump: pg_dump_version,
                server,
                server_major,
            });
        }
        return Err(BackupError::Failed { what: "pg_dump".to_owned(), status: finished.status.to_string(), stderr });
    }

    let size = std::fs::metadata(&partial.path)
        .map_err(|source| BackupError::Io { action: "read the size of", path: partial.path.clone(), source })?
        .len();
    if size == 0 {
        return Err(BackupError::EmptyFile { path: partial.path.clone() });
    }
    let pg_restore = restore_program(&pg_dump);
    let entries = verify(&pg_restore, &partial.path, &secrets, deadline).await?;
    partial.publish(&path)?;

    let url = connection_url_without_password(spec);
    let restore_command = format!(
        "{} --clean --if-exists --no-owner {} {}",
        shell_quote(&pg_restore.to_string_lossy()),
        shell_quote(&format!("--dbname={url}")),
        shell_quote(&path.to_string_lossy()),
    );
    Ok(BackupReport {
        location: Some(path.display().to_string()),
        path: Some(path),
        size_bytes: Some(size),
        duration: std::time::Duration::ZERO,
        restore_command: Some(restore_command),
        entries: Some(entries),
        tool_version: Some(version),
    })
}

/// Refuses a path that names no file, a missing or non-directory parent, and an existing file.
fn check_destination(path: &Path) -> Result<(), BackupError> {
    let text = path.to_string_lossy();
    if text.is_empty() {
        return Err(BackupError::InvalidPath { path: text.into_owned(), reason: "is empty" });
    }
    if text.ends_with('/') || path.file_name().is_none() {
        return Err(BackupError::InvalidPath { path: text.into_owned(), reason: "names a directory, not a file" });
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(BackupError::NotADirectory { dir: dir.to_path_buf() }),
        Err(error) if error.kind() == ErrorKind::NotFound => {
            return Err(BackupError::MissingDirectory { dir: dir.to_path_buf() })
        }
        Err(source) => return Err(BackupError::Io { action: "inspect", path: dir.to_path_buf(), source }),
    }
    // symlink_metadata, so that even a dangling symlink under that name is not replaced.
    match std::fs::symlink_metadata(path) {
        Ok(_) => Err(BackupError::AlreadyExists { path: path.to_path_buf() }),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(()),
        Err(source) => Err(BackupError::Io { action: "inspect", path: path.to_path_buf(), source }),
    }
}

/// `PATH.partial`.
fn partial_name(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(PARTIAL_SUFFIX);
    PathBuf::from(name)
}

/// Runs `pg_dump --version` and refuses a pg_dump older than the server; returns the version text.
async fn check_version(
    pg_dump: &Path,
    server_major: Option<u32>,
    deadline: Option<Deadline>,
) -> Result<String, BackupError> {
    let child = Child {
        program: pg_dump.as_os_str().to_owned(),
        args: vec!["--version".into()],
        // It needs no connection, so it gets none of the connection's variables.
        remove_env: CLEARED_PG_VARS,
        env: Vec::new(),
        what: "pg_dump --version".to_owned(),
        not_found_hint: PG_DUMP_HINT,
    };
    let finished = process::run(child, deadline).await?;
    let stdout = String::from_utf8_lossy(&finished.stdout);
    let program = pg_dump.display().to_string();
    let Some(version) = parse_tool_version(&stdout).filter(|_| finished.status.success()) else {
        let printed = if stdout.trim().is_empty() { String::from_utf8_lossy(&finished.stderr) } else { stdout };
        let output = printed.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("").to_owned();
        return Err(BackupError::UnreadableVersion { program, output });
    };
    if let Some(server_major) = server_major {
        if version.major < server_major {
            return Err(BackupError::PgDumpTooOld {
                program,
                pg_dump: version.text,
                server: server_major.to_string(),
                server_major,
            });
        }
    }
    Ok(version.text)
}

/// The pg_restore beside `pg_dump` when there is one (the same release, so it reads the dump's
/// archive version), else the one on `PATH`.
fn restore_program(pg_dump: &Path) -> PathBuf {
    match pg_dump.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            let sibling = dir.join("pg_restore");
            if sibling.is_file() {
                return sibling;
            }
            PathBuf::from("pg_restore")
        }
        _ => PathBuf::from("pg_restore"),
    }
}

/// Reads the dump's table of contents with `pg_restore --list`; returns how many entries it has.
async fn verify(
    pg_restore: &Path,
    dump: &Path,
    secrets: &Secrets,
    deadline: Option<Deadline>,
) -> Result<usize, BackupError> {
    let child = Child {
        program: pg_restore.as_os_str().to_owned(),
        args: vec!["--list".into(), dump.as_os_str().to_owned()],
        // Listing reads only the file.
        remove_env: CLEARED_PG_VARS,
        env: Vec::new(),
        what: "pg_restore --list".to_owned(),
        not_found_hint: PG_RESTORE_HINT,
    };
    let finished = process::run(child, deadline).await?;
    if !finished.status.success() {
        return Err(BackupError::VerifyFailed {
            path: dump.to_path_buf(),
            status: finished.status.to_string(),
            stderr: secrets.tail(&finished.stderr),
        });
    }
    Ok(finished.stdout_entries)
}

/// The connection as a URL with no password in it, for the restore command.
fn connection_url_without_password(spec: &PgConnSpec) -> String {
    let url = spec.redacted();
    if spec.password().is_none() {
        return url;
    }
    // The redacted URL is `postgres://USER:xxxxx@...`; the user name is percent-encoded, so the first
    // `@` ends the user information.
    let marker = format!(":{}", migrate_postgres::dsn::REDACTED_PASSWORD);
    if let Some((userinfo, rest)) = url.strip_prefix("postgres://").and_then(|rest| rest.split_once('@')) {
        if let Some(user) = userinfo.strip_suffix(marker.as_str()) {
            return format!("postgres://{user}@{rest}");
        }
    }
    url
}

/// The dump's work file: created here (so a stale one is noticed, not silently reused), readable by
/// its owner only (a dump holds all the data), and removed unless it was published.
struct PartialFile {
    path: PathBuf,
    published: bool,
}

impl PartialFile {
    fn create(path: &Path) -> Result<PartialFile, BackupError> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(_) => Ok(PartialFile { path: path.to_path_buf(), published: false }),
            Err(error) if error.kind() == ErrorKind::AlreadyExists => {
                Err(BackupError::PartialExists { path: path.to_path_buf() })
            }
            Err(source) => Err(BackupError::Io { action: "create", path: path.to_path_buf(), source }),
        }
    }

    /// Gives the verified dump its final name, refusing to replace a file that appeared meanwhile.
    fn publish(mut self, path: &Path) -> Result<(), BackupError> {
        // A hard link fails if the name is taken, where a rename would replace the file.
        match std::fs::hard_link(&self.path, path) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::AlreadyExists => {
                return Err(BackupError::AlreadyExists { path: path.to_path_buf() })
            }
            // File systems without hard links (some network and FUSE mounts): check, then rename.
            Err(_) => {
                if std::fs::symlink_metadata(path).is_ok() {
                    return Err(BackupError::AlreadyExists { path: path.to_path_buf() });
                }
                std::fs::rename(&self.path, path).map_err(|source| BackupError::Io {
                    action: "rename the dump to",
                    path: path.to_path_buf(),
                    source,
                })?;
            }
        }
        self.published = true;
        let _ = std::fs::remove_file(&self.path);
        // pg_dump synced the file itself; the new name is made durable here. A directory that cannot
        // be synced (some file systems refuse) still holds the file.
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            if let Ok(dir) = std::fs::File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.published {
            // Nothing that looks like a backup may stay behind a failure; a failed removal leaves a
            // `.partial` name, which never passes for a finished dump.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dsn: &str) -> PgConnSpec {
        PgConnSpec::parse(dsn, &|_| None).unwrap()
    }

    #[test]
    fn restore_url_has_no_password() {
        let url = connection_url_without_password(&spec("postgres://app:p%40ss%20w@db:5433/orders?sslmode=require"));
        assert_eq!(url, "postgres://app@db:5433/orders?sslmode=require");
        let url = connection_url_without_password(&spec("postgres://app@db/orders"));
        assert_eq!(url, "postgres://app@db:5432/orders?sslmode=prefer");
        let url = connection_url_without_password(&spec("host=/var/run/postgresql user=a password=xxxxx dbname=d"));
        assert!(!url.contains("xxxxx") && url.starts_with("postgres://a@"), "{url}");
    }

    #[test]
    fn destination_checks() {
        let dir = std::env::temp_dir().join(format!("migrate-backup-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("nope/x.dump");
        assert!(
            matches!(check_destination(&missing), Err(BackupError::MissingDirectory { dir: d }) if d == dir.join("nope"))
        );
        let file = dir.join("exists.dump");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(check_destination(&file), Err(BackupError::AlreadyExists { .. })));
        assert!(matches!(check_destination(&file.join("y")), Err(BackupError::NotADirectory { .. })));
        assert!(matches!(check_destination(Path::new("")), Err(BackupError::InvalidPath { .. })));
        assert!(matches!(check_destination(&dir.join("sub/")), Err(BackupError::InvalidPath { .. })));
        assert!(check_destination(&dir.join("new.dump")).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn restore_program_prefers_the_sibling() {
        assert_eq!(restore_program(Path::new("pg_dump")), PathBuf::from("pg_restore"));
        assert_eq!(restore_program(Path::new("/usr/bin/pg_dump")), PathBuf::from("/usr/bin/pg_restore"));
        assert_eq!(restore_program(Path::new("/nonexistent/bin/pg_dump")), PathBuf::from("pg_restore"));
    }
}
