//! goose's two tables: `status` (log lines with `%-24s`) and `validate -v` (a tabwriter table on stdout).

use migrate::{StatusEntry, StatusState};

/// The status table's lines, without the log prefix: goose's header, then one line per migration.
pub(crate) fn status_lines(
    entries: &[StatusEntry<'_>],
    checksums: &crate::output::json::ChecksumStates,
) -> Vec<String> {
    let mut lines = vec![
        "    Applied At                  Migration".to_owned(),
        "    =======================================".to_owned(),
    ];
    for entry in entries {
        let name = match entry.migration {
            Some(migration) => migration.name().to_owned(),
            None => format!("{} (applied, no migration file)", entry.version),
        };
        let state = match entry.state {
            StatusState::Applied(None) => "applied".to_owned(),
            other => other.to_string(),
        };
        let note = match checksums.state(entry.version) {
            Some("changed") => "  (changed since it was applied)",
            Some("down_changed") => "  (Down section changed since it was applied)",
            Some("none") => "  (no checksum recorded)",
            _ => "",
        };
        lines.push(format!("    {state:<24} -- {name}{note}"));
    }
    lines
}

/// One row of `validate -v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValidateRow {
    /// The file's extension.
    pub(crate) kind: String,
    /// Whether it runs in a transaction.
    pub(crate) transaction: bool,
    /// Up statements.
    pub(crate) up: usize,
    /// Down statements.
    pub(crate) down: usize,
    /// The base name.
    pub(crate) name: String,
}

/// goose's `validate -v` table: Go's tabwriter with padding 3 and every cell tab-terminated, so every
/// column (the last included) is padded.
pub(crate) fn validate_table(rows: &[ValidateRow]) -> String {
    let mut cells: Vec<[String; 5]> = vec![
        ["Type", "Txn", "Up", "Down", "Name"].map(str::to_owned),
        ["────", "───", "──", "────", "────"].map(str::to_owned),
    ];
    for row in rows {
        let txn = if row.transaction { "✔" } else { "✘" };
        cells.push([row.kind.clone(), txn.to_owned(), row.up.to_string(), row.down.to_string(), row.name.clone()]);
    }
    let mut widths = [0usize; 5];
    for line in &cells {
        for (width, cell) in widths.iter_mut().zip(line) {
            // tabwriter measures runes, not bytes.
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in &cells {
        for (width, cell) in widths.iter().zip(line) {
            out.push_str(cell);
            out.push_str(&" ".repeat(width + 3 - cell.chars().count()));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use migrate::{status, AppliedRow, Direction, EmbeddedSource, Progress, Version};

    use super::*;

    static FILES: &[(&str, &str)] = &[
        ("00001_users.sql", "-- +goose Up\nCREATE TABLE users (id int);\n"),
        ("00002_posts.sql", "-- +goose Up\nCREATE TABLE posts (id int);\n"),
        ("00003_index.sql", "-- +goose NO TRANSACTION\n-- +goose Up\nSELECT 1;\nSELECT 2;\n"),
        ("00004_later.sql", "-- +goose Up\nSELECT 1;\n"),
    ];

    #[test]
    fn status_table() {
        let migrations = migrate::resolve(&EmbeddedSource::new("migrations", FILES), &[]).unwrap();
        let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok();
        let rows = [
            AppliedRow::new(9, true, at("2024-02-10 08:00:00")),
            AppliedRow::new(2, true, at("2024-02-03 12:30:05")),
            AppliedRow::new(1, true, at("2013-01-06 11:25:03")),
            AppliedRow::new(0, true, None),
        ];
        let progress = [Progress {
            version: Version::new(3).unwrap(),
            direction: Direction::Up,
            done: 1,
            total: 2,
            checksum: String::new(),
        }];
        let lines = status_lines(&status(&migrations, Some(&rows), &progress), &Default::default());
        insta::assert_snapshot!(lines.join("\n"));
        let lines = status_lines(&status(&migrations, None, &[]), &Default::default());
        insta::assert_snapshot!("status_no_versioning", lines.join("\n"));
    }

    #[test]
    fn validate_rows() {
        let rows = [
            ValidateRow {
                kind: "sql".into(),
                transaction: true,
                up: 3,
                down: 1,
                name: "00001_create_users.sql".into(),
            },
            ValidateRow { kind: "sql".into(), transaction: false, up: 1, down: 12, name: "00002_index.sql".into() },
        ];
        insta::assert_snapshot!(validate_table(&rows));
    }
}
