//! Checksums of migration files, kept beside goose's version table (which is never altered) so that an
//! applied migration whose file was edited afterwards stops the next run.
//!
//! The definition (version 1), computed from the parsed statements *before* ENVSUB
//! ([`crate::parser::parse_direction_verbatim`]), so every environment shares one checksum:
//! - each statement's text is normalised: lines split on `\n`, trailing whitespace (a `\r` included)
//!   removed from every line, trailing empty lines dropped; comment-only and empty lines *between*
//!   statements are not part of any statement (the parser drops them, as goose does);
//! - the Up checksum is the SHA-256, in lower-case hex, of `migrate-checksum-v1\n`, then `transaction\n`
//!   or `no transaction\n`, then for each Up statement its normalised length as 8 little-endian bytes and
//!   its normalised text; the Down checksum is the same over the Down statements;
//! - so CRLF or LF, trailing spaces and comment lines between statements change nothing, while any edit
//!   to a statement's text, to where statements split, or to NO TRANSACTION changes the checksum.
//!
//! Each statement's own hash (the first 8 hex digits of the SHA-256 of its normalised text) is kept too,
//! so a changed file is reported at its first statement that differs.
//!
//! Beside them each row keeps the file's digest: the SHA-256, in lower-case hex, of the file's bytes when
//! the row was recorded. It is a shortcut, not part of the definition: equal bytes have equal checksums,
//! so a run over unchanged files parses none of them (every applied file is checked on every run); only a
//! file whose bytes differ is parsed and compared by its checksums.

use std::borrow::Cow;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::driver::BoxError;
use crate::parser::{parse_direction_verbatim, ParseError, Statement};
use crate::{Direction, Version};

/// The checksums of one migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksums {
    /// Over the Up section and the transaction mode.
    pub up: String,
    /// Over the Down section and the transaction mode.
    pub down: String,
    /// Each Up statement's short hash, in order.
    pub up_statements: Vec<String>,
    /// Whether the file is NO TRANSACTION.
    pub no_transaction: bool,
}

/// The digits of a short statement hash.
const STATEMENT_HASH_DIGITS: usize = 8;

impl Checksums {
    /// The checksums of a migration's text (`file` names it in a parse error).
    pub fn of(file: &str, text: &str) -> Result<Checksums, ParseError> {
        let up = parse_direction_verbatim(file, text, Direction::Up)?;
        let down = parse_direction_verbatim(file, text, Direction::Down)?;
        Ok(Checksums {
            up: section_checksum(&up.statements, up.no_transaction),
            down: section_checksum(&down.statements, up.no_transaction),
            up_statements: up.statements.iter().map(|s| statement_hash(s.text())).collect(),
            no_transaction: up.no_transaction,
        })
    }

    /// The short hashes as stored: concatenated, 8 hex digits each.
    pub fn up_statements_joined(&self) -> String {
        self.up_statements.concat()
    }
}

/// The statement's lines without trailing whitespace, trailing empty lines dropped; borrowed when that
/// changes nothing (the usual case: this runs over every applied file on every run).
fn normalized(text: &str) -> Cow<'_, str> {
    let clean = text.split('\n').all(|line| line.len() == line.trim_end().len()) && !text.ends_with('\n');
    if clean {
        return Cow::Borrowed(text);
    }
    let mut lines: Vec<&str> = text.split('\n').map(str::trim_end).collect();
    while lines.last().is_some_and(|line| line.is_empty()) {
        lines.pop();
    }
    Cow::Owned(lines.join("\n"))
}

/// The digest of a file's bytes (lower-case hex SHA-256), which [`ChecksumRow::file_digest`] keeps.
pub(crate) fn file_digest(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    text
}

fn section_checksum(statements: &[Statement<'_>], no_transaction: bool) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"migrate-checksum-v1\n");
    hasher.update(if no_transaction { &b"no transaction\n"[..] } else { &b"transaction\n"[..] });
    for statement in statements {
        let text = normalized(statement.text());
        hasher.update((text.len() as u64).to_le_bytes());
        hasher.update(text.as_bytes());
    }
    hex(&hasher.finalize())
}

fn statement_hash(text: &str) -> String {
    let digest = Sha256::digest(normalized(text).as_bytes());
    hex(&digest[..STATEMENT_HASH_DIGITS / 2])
}

/// One row of the checksum table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumRow {
    /// The migration's version.
    pub version: Version,
    /// [`Checksums::up`] when it was recorded.
    pub up: String,
    /// [`Checksums::down`] when it was recorded.
    pub down: String,
    /// [`Checksums::up_statements_joined`] when it was recorded.
    pub up_statements: String,
    /// Whether it was NO TRANSACTION.
    pub no_transaction: bool,
    /// The tool version that recorded it.
    pub tool_version: String,
    /// The digest of the file's bytes when it was recorded ([`crate::SqlText::digest`]; empty when not
    /// known): while the file's bytes are the same, its checksums are too, and the file is not parsed.
    pub file_digest: String,
}

impl ChecksumRow {
    /// The row recording `checksums` for `version`, of a file with digest `file_digest`, by this build.
    pub fn new(version: Version, checksums: &Checksums, file_digest: &str) -> ChecksumRow {
        ChecksumRow {
            version,
            up: checksums.up.clone(),
            down: checksums.down.clone(),
            up_statements: checksums.up_statements_joined(),
            no_transaction: checksums.no_transaction,
            tool_version: format!("migrate {}", env!("CARGO_PKG_VERSION")),
            file_digest: file_digest.to_owned(),
        }
    }

    /// The 0-based index of the first Up statement whose hash differs from `now`'s, when it can be told
    /// (the statement list grew or shrank: the first index past the shorter one).
    pub fn first_changed_statement(&self, now: &Checksums) -> Option<usize> {
        let recorded: Vec<&str> = self
            .up_statements
            .as_bytes()
            .chunks(STATEMENT_HASH_DIGITS)
            .map(|chunk| std::str::from_utf8(chunk).unwrap_or(""))
            .collect();
        let differs = recorded.iter().zip(&now.up_statements).position(|(a, b)| *a != b.as_str());
        differs.or_else(|| {
            (recorded.len() != now.up_statements.len()).then(|| recorded.len().min(now.up_statements.len()))
        })
    }
}

/// The companion table of checksums. Drivers that keep none use the defaults (nothing kept, nothing
/// checked).
#[async_trait]
pub trait ChecksumStore: Send {
    /// Whether this driver keeps checksums.
    fn keeps_checksums(&self) -> bool {
        false
    }

    /// Every row, or `None` when the table does not exist yet.
    async fn list_checksums(&mut self) -> Result<Option<Vec<ChecksumRow>>, BoxError> {
        Ok(None)
    }

    /// Creates the table when it is missing (under the lock).
    async fn ensure_checksum_table(&mut self) -> Result<(), BoxError> {
        Ok(())
    }

    /// Inserts or replaces rows on their own (adopting history that has none, `repair`).
    async fn save_checksums(&mut self, rows: &[ChecksumRow]) -> Result<(), BoxError> {
        let _ = rows;
        Ok(())
    }

    /// Deletes the rows of these versions (`repair`: versions no longer applied).
    async fn delete_checksums(&mut self, versions: &[Version]) -> Result<(), BoxError> {
        let _ = versions;
        Ok(())
    }

    /// Makes the next version-row write also record `row` (an Up) or forget the version's row (a Down),
    /// in the same transaction where the driver has them.
    fn stage_checksum(&mut self, version: Version, row: Option<ChecksumRow>) {
        let _ = (version, row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Checksums {
        Checksums::of("x.sql", text).unwrap()
    }

    #[test]
    fn what_changes_the_checksum() {
        let base =
            of("-- +goose Up\nCREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n-- +goose Down\nDROP TABLE t;\n");
        insta::assert_snapshot!(format!("{}\n{}\n{}", base.up, base.down, base.up_statements_joined()));
        // Line endings, trailing whitespace and comment lines between statements change nothing.
        let same = [
            "-- +goose Up\r\nCREATE TABLE t (id int);  \r\nINSERT INTO t VALUES (1);\r\n-- +goose Down\r\nDROP TABLE t;\r\n",
            "-- +goose Up\n-- a note\nCREATE TABLE t (id int);\n\n-- another\nINSERT INTO t VALUES (1);\t\n-- +goose Down\nDROP TABLE t;\n",
        ];
        for text in same {
            assert_eq!(of(text), base, "{text:?}");
        }
        // ENVSUB references are checksummed as written (no environment is read), so `${T}` is not `t`.
        let envsub = "-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE ${T} (id int);\n";
        assert_ne!(of(envsub).up, of(&envsub.replace("${T}", "t")).up);
        // A statement's text, the split, NO TRANSACTION: each changes the Up checksum.
        let changed = [
            "-- +goose Up\nCREATE TABLE t (id bigint);\nINSERT INTO t VALUES (1);\n-- +goose Down\nDROP TABLE t;\n",
            "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE t;\n",
            "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n-- +goose Down\nDROP TABLE t;\n",
        ];
        for text in changed {
            assert_ne!(of(text).up, base.up, "{text:?}");
        }
        // A Down edit changes only the Down checksum.
        let down = of("-- +goose Up\nCREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n-- +goose Down\nDROP TABLE IF EXISTS t;\n");
        assert_eq!((down.up == base.up, down.down == base.down), (true, false));
    }

    #[test]
    fn the_first_changed_statement_is_found() {
        let version = Version::new(1).unwrap();
        let recorded = ChecksumRow::new(version, &of("-- +goose Up\nSELECT 1;\nSELECT 2;\nSELECT 3;\n"), "");
        assert_eq!(recorded.first_changed_statement(&of("-- +goose Up\nSELECT 1;\nSELECT 2;\nSELECT 3;\n")), None);
        assert_eq!(recorded.first_changed_statement(&of("-- +goose Up\nSELECT 1;\nSELECT 20;\nSELECT 3;\n")), Some(1));
        assert_eq!(recorded.first_changed_statement(&of("-- +goose Up\nSELECT 1;\nSELECT 2;\n")), Some(2));
        assert_eq!(
            recorded.first_changed_statement(&of("-- +goose Up\nSELECT 1;\nSELECT 2;\nSELECT 3;\nSELECT 4;\n")),
            Some(3)
        );
    }
}
