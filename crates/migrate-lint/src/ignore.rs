//! Inline ignores: `-- migrate:lint-ignore RULE[,RULE] reason` on the line above a statement, and
//! `-- migrate:lint-ignore-file RULE[,RULE] reason` for the whole file. A reason is required; an ignore
//! without one ignores nothing and is itself a finding.

use crate::file::{MigrationFile, RawFinding};
use crate::finding::Severity;

const LINE_MARK: &str = "migrate:lint-ignore";
const FILE_MARK: &str = "migrate:lint-ignore-file";

/// The ignores of one file.
#[derive(Debug, Default)]
pub(crate) struct Ignores {
    /// Rules ignored for the whole file.
    file_rules: Vec<String>,
    /// (statement line, rule) pairs.
    statement_rules: Vec<(usize, String)>,
}

impl Ignores {
    /// Reads the file's ignore comments; those without a reason become findings.
    pub(crate) fn read(file: &MigrationFile<'_>, out: &mut Vec<RawFinding>) -> Ignores {
        let mut ignores = Ignores::default();
        let statement_lines: Vec<usize> = file.up.iter().chain(&file.down).map(|s| s.line()).collect();
        for line in 1..=file.index.line_count() {
            let text = file.index.line_text(line).trim_start();
            let Some(comment) = text.strip_prefix("--").map(str::trim_start) else { continue };
            let (whole_file, rest) = if let Some(rest) = comment.strip_prefix(FILE_MARK) {
                (true, rest)
            } else if let Some(rest) = comment.strip_prefix(LINE_MARK) {
                (false, rest)
            } else {
                continue;
            };
            let mut words = rest.split_whitespace();
            let rules: Vec<String> = words
                .next()
                .map(|r| r.split(',').filter(|r| !r.is_empty()).map(str::to_string).collect())
                .unwrap_or_default();
            let has_reason = words.next().is_some();
            if rules.is_empty() || !has_reason {
                out.push(file.at_line(
                    "lint-ignore-without-reason",
                    Severity::Error,
                    line,
                    "this lint-ignore gives no rule or no reason, so it ignores nothing".to_string(),
                    format!("write -- {} RULE why it is safe here", if whole_file { FILE_MARK } else { LINE_MARK }),
                ));
                continue;
            }
            if whole_file {
                ignores.file_rules.extend(rules);
            } else if let Some(&statement) = statement_lines.iter().filter(|&&s| s > line).min() {
                ignores.statement_rules.extend(rules.into_iter().map(|rule| (statement, rule)));
            }
        }
        ignores
    }

    /// Whether a finding is ignored.
    pub(crate) fn covers(&self, finding: &RawFinding) -> bool {
        if finding.rule == "lint-ignore-without-reason" {
            return false;
        }
        self.file_rules.contains(&finding.rule)
            || self.statement_rules.iter().any(|(line, rule)| *line == finding.anchor && *rule == finding.rule)
    }
}
