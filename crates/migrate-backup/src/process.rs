//! Running one child program (pg_dump, pg_restore, a backup command) without a shell, with a deadline,
//! its output read while it runs and kept to a bounded tail, and secrets scrubbed from what is quoted.

use std::ffi::OsString;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

use crate::BackupError;

/// How many lines of a child's stderr an error quotes.
pub const STDERR_TAIL_LINES: usize = 20;

/// How much of each output stream is kept: the end is what explains a failure, and a chatty backup
/// tool must not fill memory.
const KEPT_BYTES: usize = 64 * 1024;

/// How long to keep reading output after the child exited: a grandchild it left running may hold the
/// pipes open forever.
const OUTPUT_GRACE: Duration = Duration::from_secs(2);

/// What a redacted secret is shown as (the same marker as in redacted connection URLs).
const REDACTED: &str = migrate_postgres::dsn::REDACTED_PASSWORD;

/// The end of the backup's time budget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    /// When the time is up.
    pub(crate) at: Instant,
    /// The whole budget, for the message.
    pub(crate) total: Duration,
}

/// Secret values to blank out of anything quoted from a child, however it came to print them.
#[derive(Default)]
pub(crate) struct Secrets(Vec<String>);

impl Secrets {
    /// Adds a secret, and its percent-encoded form (as it would appear in a URL).
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let encoded = migrate_postgres::encode_url_part(secret);
        if encoded != secret {
            self.0.push(encoded);
        }
        self.0.push(secret.to_owned());
        // Longest first, so a secret containing another is blanked whole.
        self.0.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    }

    /// `text` with every secret replaced by the redaction marker.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.0 {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), REDACTED);
            }
        }
        text
    }

    /// The last [`STDERR_TAIL_LINES`] non-blank lines of `output`, trimmed and scrubbed.
    pub(crate) fn tail(&self, output: &[u8]) -> String {
        let text = self.scrub(&String::from_utf8_lossy(output));
        let lines: Vec<&str> = text.lines().map(str::trim_end).filter(|line| !line.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].join("\n")
    }
}

/// One program to run.
pub(crate) struct Child {
    /// The program: a path, or a name looked up on `PATH`.
    pub(crate) program: OsString,
    /// Its arguments.
    pub(crate) args: Vec<OsString>,
    /// Variables to remove from the inherited environment before `env` is applied.
    pub(crate) remove_env: &'static [&'static str],
    /// Variables to set.
    pub(crate) env: Vec<(String, String)>,
    /// What it is, for messages (`pg_dump`, `backup command clickhouse-backup`).
    pub(crate) what: String,
    /// What to do when the program is not found.
    pub(crate) not_found_hint: &'static str,
}

/// A child that ran to its end.
pub(crate) struct Finished {
    /// How it ended.
    pub(crate) status: ExitStatus,
    /// The tail of its stdout.
    pub(crate) stdout: Vec<u8>,
    /// How many lines of the whole stdout (not only the kept tail) are neither blank nor start with
    /// `;`: for `pg_restore --list`, the table-of-contents entries.
    pub(crate) stdout_entries: usize,
    /// The tail of its stderr.
    pub(crate) stderr: Vec<u8>,
}

/// Runs `child` to its end, or kills it when `deadline` passes.
///
/// The child is also killed if this future is dropped (the run was cancelled), through
/// `kill_on_drop`, so a backup never outlives the migration run that asked for it.
pub(crate) async fn run(child: Child, deadline: Option<Deadline>) -> Result<Finished, BackupError> {
    let program_text = child.program.to_string_lossy().into_owned();
    let mut command = tokio::process::Command::new(&child.program);
    command.args(&child.args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    for var in child.remove_env {
        command.env_remove(var);
    }
    for (name, value) in &child.env {
        command.env(name, value);
    }
    let mut process = command.spawn().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => {
            BackupError::ToolNotFound { program: program_text.clone(), hint: child.not_found_hint }
        }
        _ => BackupError::Spawn { program: program_text.clone(), source },
    })?;

    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let mut stdout_lines = EntryCounter::default();
    let mut stderr_lines = EntryCounter::default();
    let (stdout_pipe, stderr_pipe) = (process.stdout.take(), process.stderr.take());
    let outcome = {
        let output = async {
            tokio::join!(
                read_tail(stdout_pipe, &mut stdout, &mut stdout_lines),
                read_tail(stderr_pipe, &mut stderr, &mut stderr_lines)
            )
        };
        let mut output = std::pin::pin!(output);
        let work = async {
            let mut output_done = false;
            let status = tokio::select! {
                status = process.wait() => status,
                _ = &mut output => {
                    output_done = true;
                    process.wait().await
                }
            };
            if !output_done {
                // The output may be cut short here; the child's exit status is what counts.
                let _ = tokio::time::timeout(OUTPUT_GRACE, &mut output).await;
            }
            status
        };
        match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline.at, work).await.ok(),
            None => Some(work.await),
        }
    };
    let Some(status) = outcome else {
        // SIGKILL, then reap it; a child that ignores nothing cannot delay this long.
        let _ = process.start_kill();
        let _ = process.wait().await;
        let total = deadline.map_or(Duration::ZERO, |deadline| deadline.total);
        return Err(BackupError::TimedOut { what: child.what, timeout: total });
    };
    let status = status.map_err(|source| BackupError::Spawn { program: program_text, source })?;
    Ok(Finished { status, stdout, stdout_entries: stdout_lines.entries, stderr })
}

/// Counts lines whose first non-blank byte is not `;`, across chunk boundaries.
#[derive(Default)]
struct EntryCounter {
    /// Whether the current line's first non-blank byte has been seen.
    decided: bool,
    /// The count so far.
    entries: usize,
}

impl EntryCounter {
    fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            match byte {
                b'\n' => self.decided = false,
                b' ' | b'\t' | b'\r' => {}
                _ if self.decided => {}
                byte => {
                    self.decided = true;
                    if byte != b';' {
                        self.entries += 1;
                    }
                }
            }
        }
    }
}

/// Reads `reader` to its end into `buf`, keeping only about the last [`KEPT_BYTES`], and counting
/// entry lines in `counter`.
async fn read_tail(reader: Option<impl AsyncRead + Unpin>, buf: &mut Vec<u8>, counter: &mut EntryCounter) {
    let Some(mut reader) = reader else { return };
    let mut chunk = [0u8; 8192];
    loop {
        match reader.read(&mut chunk).await {
            // A read error ends the capture; the exit status still decides success.
            Ok(0) | Err(_) => break,
            Ok(n) => {
                counter.feed(&chunk[..n]);
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > 2 * KEPT_BYTES {
                    buf.drain(..buf.len() - KEPT_BYTES);
                }
            }
        }
    }
}

/// Quotes `word` for a POSIX shell, for commands printed for a person to paste.
pub(crate) fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '=' | '@' | '%' | '+' | ',')
        });
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_raw_and_encoded() {
        let mut secrets = Secrets::default();
        secrets.add("p@ss w\"rd");
        secrets.add("");
        let text = "password p@ss w\"rd in postgres://u:p%40ss%20w%22rd@h/db";
        assert_eq!(secrets.scrub(text), "password xxxxx in postgres://u:xxxxx@h/db");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let secrets = Secrets::default();
        let output: String = (1..=30).map(|n| format!("line {n}\n\n")).collect();
        let tail = secrets.tail(output.as_bytes());
        assert_eq!(tail.lines().count(), STDERR_TAIL_LINES);
        assert!(tail.starts_with("line 11\n") && tail.ends_with("line 30"), "{tail}");
        assert_eq!(secrets.tail(b"  \n"), "");
    }

    #[test]
    fn entry_lines_are_counted_across_chunks() {
        let listing = ";\n; Archive created at 2024-05-06\n;\n215; 1259 16386 TABLE public t postgres\n\n  \n\
                       3300; 0 16386 TABLE DATA public t postgres\n; Selected TOC Entries:\n";
        for split in 0..listing.len() {
            let mut counter = EntryCounter::default();
            counter.feed(&listing.as_bytes()[..split]);
            counter.feed(&listing.as_bytes()[split..]);
            assert_eq!(counter.entries, 2, "split at {split}");
        }
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("/backups/app_1.dump"), "/backups/app_1.dump");
        assert_eq!(shell_quote("--dbname=postgres://u@h:5432/db"), "--dbname=postgres://u@h:5432/db");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("x?sslmode=disable&a=b"), "'x?sslmode=disable&a=b'");
        assert_eq!(shell_quote(""), "''");
    }
}
