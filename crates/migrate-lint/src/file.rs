//! One migration file prepared for the rules: its goose parse, line index, sections and the raw findings
//! the rules report against it.

use migrate_core::{parse_direction_verbatim, Direction, ParseError, Statement};

use crate::finding::Severity;
use crate::location::LineIndex;

/// A finding before configuration and ignores: the rule's own severity, and the line of the statement it
/// belongs to (`anchor`, 0 for the file), which inline ignores match.
#[derive(Debug, Clone)]
pub(crate) struct RawFinding {
    pub(crate) rule: String,
    pub(crate) severity: Severity,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
    pub(crate) fix: String,
    pub(crate) anchor: usize,
}

/// A parsed migration file.
pub(crate) struct MigrationFile<'a> {
    pub(crate) text: &'a str,
    pub(crate) index: LineIndex<'a>,
    pub(crate) up: Vec<Statement<'a>>,
    pub(crate) down: Vec<Statement<'a>>,
    pub(crate) no_transaction: bool,
    /// The line of `-- +goose Up`.
    pub(crate) up_line: Option<usize>,
    /// The line of `-- +goose Down`.
    pub(crate) down_line: Option<usize>,
}

/// A goose annotation line's keyword, lowercased: `up`, `down`, `no transaction`, `envsub on`, ...
pub(crate) fn annotation(line: &str) -> Option<String> {
    let rest = line.strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("+goose")?;
    Some(rest.trim().to_ascii_lowercase())
}

impl<'a> MigrationFile<'a> {
    /// Parses both directions as written (ENVSUB references kept, so an unset variable is a finding, not a
    /// failure).
    pub(crate) fn parse(file: &str, text: &'a str) -> Result<MigrationFile<'a>, ParseError> {
        let up = parse_direction_verbatim(file, text, Direction::Up)?;
        let down = parse_direction_verbatim(file, text, Direction::Down)?;
        let index = LineIndex::new(text);
        let mut up_line = None;
        let mut down_line = None;
        for line in 1..=index.line_count() {
            match annotation(index.line_text(line)).as_deref() {
                Some("up") if up_line.is_none() => up_line = Some(line),
                Some("down") if down_line.is_none() => down_line = Some(line),
                _ => {}
            }
        }
        Ok(MigrationFile {
            text,
            index,
            up: up.statements,
            down: down.statements,
            no_transaction: up.no_transaction,
            up_line,
            down_line,
        })
    }

    /// The byte offset in the file where a statement's text starts.
    pub(crate) fn statement_offset(&self, statement: &Statement<'_>) -> usize {
        let line_start = self.index.line_start(statement.line()).unwrap_or(0);
        let leading =
            self.index.line_text(statement.line()).len() - self.index.line_text(statement.line()).trim_start().len();
        line_start + leading
    }

    /// A finding at a byte offset of the file, anchored to `anchor`'s statement line.
    pub(crate) fn at_offset(
        &self,
        rule: &str,
        severity: Severity,
        offset: usize,
        anchor: usize,
        message: String,
        fix: String,
    ) -> RawFinding {
        let (line, column) = self.index.position(offset);
        RawFinding { rule: rule.to_string(), severity, line, column, message, fix, anchor }
    }

    /// A finding at the start of a statement.
    pub(crate) fn at_statement(
        &self,
        rule: &str,
        severity: Severity,
        statement: &Statement<'_>,
        message: String,
        fix: String,
    ) -> RawFinding {
        let line = statement.line();
        RawFinding {
            rule: rule.to_string(),
            severity,
            line,
            column: self.index.first_column(line),
            message,
            fix,
            anchor: line,
        }
    }

    /// A finding about the file as a whole, at a line.
    pub(crate) fn at_line(
        &self,
        rule: &str,
        severity: Severity,
        line: usize,
        message: String,
        fix: String,
    ) -> RawFinding {
        RawFinding { rule: rule.to_string(), severity, line, column: 1, message, fix, anchor: 0 }
    }

    /// The file's text with everything outside the Up section blanked (line breaks kept), so offsets in it
    /// are offsets in the file.
    pub(crate) fn up_section_text(&self) -> String {
        let start = self.up_line.and_then(|line| self.index.line_start(line)).unwrap_or(0);
        let end = self.down_line.and_then(|line| self.index.line_start(line)).unwrap_or(self.text.len());
        let mut masked = String::with_capacity(self.text.len());
        for (at, c) in self.text.char_indices() {
            if (start..end).contains(&at) || c == '\n' {
                masked.push(c);
            } else {
                // As many spaces as the character has bytes: offsets stay byte offsets of the file.
                masked.extend(std::iter::repeat_n(' ', c.len_utf8()));
            }
        }
        masked
    }

    /// The statement of a direction that contains a file line (the last one starting at or before it).
    pub(crate) fn up_statement_line_at(&self, line: usize) -> usize {
        self.up.iter().map(Statement::line).take_while(|&start| start <= line).last().unwrap_or(0)
    }
}
