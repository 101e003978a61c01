//! The goose SQL annotation parser: a pure function from a file's name and text (and a variable lookup for
//! ENVSUB) to its Up and Down statements and its NO TRANSACTION flag.
//!
//! It reproduces goose's `internal/sqlparser` line by line, including running the state machine once per
//! direction over the whole file, so that the same files split into the same statements and fail with the
//! same errors. Two deliberate differences: lines may be of any length (goose stops at 4 MiB), and the
//! goose quirk where an empty `StatementBegin`/`StatementEnd` pair emits an empty statement and swallows
//! the next SQL line is reported as a [`ParseWarning`]. The swallowed line is still not run, so databases
//! migrated by goose and by migrate stay identical; the empty statement is dropped.

mod annotation;
mod envsub;
pub use envsub::expand_variables;

use std::borrow::Cow;
use std::fmt;

use crate::parser::annotation::Annotation;
use crate::Direction;

/// One SQL statement of a migration, sent to the database as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    text: Cow<'a, str>,
    line: usize,
}

impl<'a> Statement<'a> {
    /// A statement starting at `line` (1-based) of its file.
    pub fn new(text: impl Into<Cow<'a, str>>, line: usize) -> Statement<'a> {
        Statement { text: text.into(), line }
    }

    /// The exact text to execute: trimmed, trailing `;` and in-statement comments kept.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The 1-based line of the file where the statement's text starts.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The file line of a 1-based character position inside the statement (as PostgreSQL reports errors).
    pub fn line_of_position(&self, position: usize) -> usize {
        let newlines = self.text.chars().take(position.saturating_sub(1)).filter(|&c| c == '\n').count();
        self.line + newlines
    }
}

/// A parsed migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMigration<'a> {
    up: Vec<Statement<'a>>,
    down: Vec<Statement<'a>>,
    no_transaction: bool,
    warnings: Vec<ParseWarning>,
}

impl<'a> ParsedMigration<'a> {
    /// The statements of one direction, in order.
    pub fn statements(&self, direction: Direction) -> &[Statement<'a>] {
        match direction {
            Direction::Up => &self.up,
            Direction::Down => &self.down,
        }
    }

    /// Whether the file carries `-- +goose NO TRANSACTION` (anywhere; it applies to both directions).
    pub fn no_transaction(&self) -> bool {
        self.no_transaction
    }

    /// Things that parse but deserve attention.
    pub fn warnings(&self) -> &[ParseWarning] {
        &self.warnings
    }

    /// The statements of one direction and the warnings, taken out of the parse without copying.
    pub fn into_direction(self, direction: Direction) -> (Vec<Statement<'a>>, Vec<ParseWarning>) {
        match direction {
            Direction::Up => (self.up, self.warnings),
            Direction::Down => (self.down, self.warnings),
        }
    }
}

/// Something that parses but probably does not do what its author meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWarning {
    /// The file.
    pub file: String,
    /// The 1-based line it points at.
    pub line: usize,
    /// What it is.
    pub kind: ParseWarningKind,
}

/// The kinds of [`ParseWarning`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseWarningKind {
    /// A `StatementBegin`/`StatementEnd` block with nothing in it. When `swallowed_line` is set, goose
    /// silently skips that SQL line after the block; migrate skips it too, for identical databases.
    EmptyStatementBlock {
        /// The SQL line goose (and therefore migrate) does not run.
        swallowed_line: Option<usize>,
    },
}

impl fmt::Display for ParseWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ParseWarningKind::EmptyStatementBlock { swallowed_line: Some(swallowed) } => write!(
                f,
                "{}:{}: empty StatementBegin/StatementEnd block: goose skips the SQL on line {swallowed} after it, \
                 and so does migrate; remove the empty block (and re-add that SQL as a new migration if it must run)",
                self.file, self.line
            ),
            ParseWarningKind::EmptyStatementBlock { swallowed_line: None } => {
                write!(f, "{}:{}: empty StatementBegin/StatementEnd block; remove it", self.file, self.line)
            }
        }
    }
}

/// A file that does not parse, with the line to look at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {kind}")]
pub struct ParseError {
    file: String,
    line: usize,
    direction: Option<Direction>,
    kind: ParseErrorKind,
}

impl ParseError {
    /// The file.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The 1-based line.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The direction being parsed, for errors only one direction sees (an unfinished statement).
    pub fn direction(&self) -> Option<Direction> {
        self.direction
    }

    /// What is wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }
}

/// What is wrong with a file; each message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// An annotation line indented with spaces or tabs.
    #[error("annotation starts with whitespace: start \"-- +goose\" lines at column 1")]
    LeadingWhitespace,
    /// `-- +goose` with nothing after it.
    #[error("empty annotation: write one of Up, Down, StatementBegin, StatementEnd, NO TRANSACTION, ENVSUB ON, ENVSUB OFF after \"-- +goose\"")]
    EmptyAnnotation,
    /// Two `+goose` on one line.
    #[error("more than one \"+goose\" on the line: put each annotation on its own line")]
    MultipleGoose,
    /// An annotation goose does not know (also a plain `--` comment that mentions `+goose`).
    #[error("unsupported annotation {text:?}: use Up, Down, StatementBegin, StatementEnd, NO TRANSACTION, ENVSUB ON or ENVSUB OFF, and keep \"+goose\" out of ordinary comments")]
    UnsupportedAnnotation {
        /// The annotation text after removing `--` and `+goose`.
        text: String,
    },
    /// SQL before `-- +goose Up`.
    #[error("SQL before the \"-- +goose Up\" annotation: add \"-- +goose Up\" above it")]
    SqlBeforeUp,
    /// A second `-- +goose Up`.
    #[error("duplicate \"-- +goose Up\" annotation: a file has one Up section")]
    DuplicateUp,
    /// `-- +goose Down` outside the Up section (first, or twice).
    #[error("\"-- +goose Down\" must follow the Up section, once")]
    DownWithoutUp,
    /// `StatementBegin` before the Up section.
    #[error("\"-- +goose StatementBegin\" must follow \"-- +goose Up\" or \"-- +goose Down\"")]
    BeginOutsideSection,
    /// A `StatementBegin` (the error's line) whose block another annotation ends before its `StatementEnd`;
    /// goose rejects the file at that annotation.
    #[error("\"-- +goose StatementBegin\" is not closed: add \"-- +goose StatementEnd\" before the \"-- +goose {annotation}\" on line {at}")]
    StatementBeginNotClosed {
        /// The annotation found inside the block: `Down` or `StatementBegin`.
        annotation: &'static str,
        /// Its line.
        at: usize,
    },
    /// `StatementEnd` without `StatementBegin`.
    #[error("\"-- +goose StatementEnd\" without a \"-- +goose StatementBegin\" before it")]
    EndWithoutBegin,
    /// A statement whose last line does not end with `;`.
    #[error("unfinished {direction} statement {start:?}: end its last line with ';' (a ';' inside a line or before a comment without a space does not count), or wrap it in StatementBegin/StatementEnd")]
    MissingSemicolon {
        /// The direction whose statement is unfinished.
        direction: Direction,
        /// The beginning of the statement.
        start: String,
    },
    /// No `-- +goose Up` at all.
    #[error("no \"-- +goose Up\" annotation: a migration starts with \"-- +goose Up\"")]
    NoUpAnnotation,
    /// A `StatementBegin` (the error's line) still open at the end of the file.
    #[error("\"-- +goose StatementBegin\" is not closed by the end of the file: add \"-- +goose StatementEnd\" after its statement")]
    MissingStatementEnd,
    /// The file starts with a UTF-8 byte-order mark, which goose takes for SQL before the Up annotation (so
    /// goose rejects the file too).
    #[error("the file starts with a UTF-8 byte-order mark (BOM, U+FEFF), which goose rejects as SQL before \"-- +goose Up\": save the file as UTF-8 without a BOM")]
    ByteOrderMark,
    /// ENVSUB expansions nested deeper than migrate follows (goose's interpolate has no bound).
    #[error("ENVSUB: \"${{...}}\" expansions nested more than {limit} deep: flatten the nested defaults, or put \"-- +goose ENVSUB OFF\" around the line")]
    EnvsubTooDeep {
        /// The deepest nesting accepted.
        limit: usize,
    },
    /// ENVSUB could not expand the line.
    #[error("ENVSUB: {message}: set the variable, write a literal $ as $$ or \\$, or put \"-- +goose ENVSUB OFF\" around the line")]
    Envsub {
        /// The substitution error.
        message: String,
    },
}

/// Parses a migration file, Up then Down; the first error wins.
///
/// `lookup` supplies ENVSUB variables (pass `|name| std::env::var(name).ok()` for goose's behaviour).
///
/// ```
/// use migrate_core::{parse, Direction};
/// let text = "-- +goose Up\nCREATE TABLE t (id int);\n-- +goose Down\nDROP TABLE t;\n";
/// let parsed = parse("00001_t.sql", text, &|_| None).unwrap();
/// let up = parsed.statements(Direction::Up);
/// assert_eq!(up[0].text(), "CREATE TABLE t (id int);");
/// assert_eq!(up[0].line(), 2);
/// ```
pub fn parse<'a>(
    file: &str,
    text: &'a str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<ParsedMigration<'a>, ParseError> {
    let up = parse_direction(file, text, Direction::Up, lookup)?;
    let down = parse_direction(file, text, Direction::Down, lookup)?;
    let mut warnings = up.warnings;
    warnings.extend(down.warnings);
    Ok(ParsedMigration { up: up.statements, down: down.statements, no_transaction: up.no_transaction, warnings })
}

/// The result of parsing one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectionParse<'a> {
    /// The statements of that direction.
    pub statements: Vec<Statement<'a>>,
    /// Whether the file carries NO TRANSACTION.
    pub no_transaction: bool,
    /// Warnings about that direction's section.
    pub warnings: Vec<ParseWarning>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Up,
    BeginUp,
    EndUp,
    Down,
    BeginDown,
    EndDown,
}

impl State {
    fn direction(self) -> Option<Direction> {
        match self {
            State::Start => None,
            State::Up | State::BeginUp | State::EndUp => Some(Direction::Up),
            State::Down | State::BeginDown | State::EndDown => Some(Direction::Down),
        }
    }
}

/// Parses one direction, exactly as goose's `ParseSQLMigration(r, direction)` does.
pub fn parse_direction<'a>(
    file: &str,
    text: &'a str,
    direction: Direction,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<DirectionParse<'a>, ParseError> {
    parse_direction_with(file, text, direction, Some(lookup))
}

/// Parses one direction as written: ENVSUB sections keep their `${VAR}` references (statements split
/// where the unexpanded lines end with `;`). What a migration's checksum is computed over, so that
/// environments substituting different values share one checksum.
pub fn parse_direction_verbatim<'a>(
    file: &str,
    text: &'a str,
    direction: Direction,
) -> Result<DirectionParse<'a>, ParseError> {
    parse_direction_with(file, text, direction, None)
}

/// ENVSUB's variable lookup.
type Lookup<'l> = &'l dyn Fn(&str) -> Option<String>;

fn parse_direction_with<'a>(
    file: &str,
    text: &'a str,
    direction: Direction,
    lookup: Option<Lookup<'_>>,
) -> Result<DirectionParse<'a>, ParseError> {
    let error = |line: usize, kind: ParseErrorKind| ParseError { file: file.to_owned(), line, direction: None, kind };
    // The error is the block's, so it points at its StatementBegin and names the annotation that ended it.
    let not_closed = |begin_line: usize, annotation: &'static str, at: usize| {
        error(begin_line, ParseErrorKind::StatementBeginNotClosed { annotation, at })
    };
    // goose reads a byte-order mark as text before the Up annotation; say what it is.
    if text.starts_with('\u{feff}') {
        return Err(error(1, ParseErrorKind::ByteOrderMark));
    }
    let mut state = State::Start;
    let mut buffer = Buffer::new(text);
    let mut statements = Vec::new();
    let mut warnings = Vec::new();
    let mut no_transaction = false;
    let mut envsub = false;
    let mut block_line = 0;

    for Line { number, start, text: line } in Lines::new(text) {
        if state == State::Start && line.trim().is_empty() {
            continue;
        }
        let trimmed_start = line.trim_start();
        let mut is_end_line = false;
        if annotation::is_annotation(trimmed_start, line) {
            match annotation::extract(line).map_err(|kind| error(number, kind))? {
                Annotation::Up => {
                    if state != State::Start {
                        return Err(error(number, ParseErrorKind::DuplicateUp));
                    }
                    state = State::Up;
                    continue;
                }
                Annotation::Down => {
                    if matches!(state, State::BeginUp | State::BeginDown) {
                        return Err(not_closed(block_line, "Down", number));
                    }
                    if !matches!(state, State::Up | State::EndUp) {
                        return Err(error(number, ParseErrorKind::DownWithoutUp));
                    }
                    if let Some((line, start)) = buffer.unfinished() {
                        let kind = ParseErrorKind::MissingSemicolon { direction, start };
                        return Err(ParseError { file: file.to_owned(), line, direction: Some(direction), kind });
                    }
                    state = State::Down;
                    continue;
                }
                Annotation::StatementBegin => {
                    state = match state {
                        State::Up | State::EndUp => State::BeginUp,
                        State::Down | State::EndDown => State::BeginDown,
                        State::BeginUp | State::BeginDown => {
                            return Err(not_closed(block_line, "StatementBegin", number));
                        }
                        State::Start => return Err(error(number, ParseErrorKind::BeginOutsideSection)),
                    };
                    block_line = number;
                    continue;
                }
                Annotation::StatementEnd => {
                    // No `continue`: goose lets this line fall through (see the empty-block quirk below).
                    state = match state {
                        State::BeginUp => State::EndUp,
                        State::BeginDown => State::EndDown,
                        _ => return Err(error(number, ParseErrorKind::EndWithoutBegin)),
                    };
                    is_end_line = true;
                }
                Annotation::NoTransaction => {
                    no_transaction = true;
                    continue;
                }
                Annotation::EnvsubOn => {
                    envsub = true;
                    continue;
                }
                Annotation::EnvsubOff => {
                    envsub = false;
                    continue;
                }
            }
        }
        // Leading comments and empty lines before a statement are dropped; once a statement has started,
        // every line is kept.
        if buffer.is_empty() && (trimmed_start.starts_with("--") || line.is_empty()) {
            continue;
        }
        let in_end_state = matches!(state, State::EndUp | State::EndDown);
        let mut semicolon_line = Cow::Borrowed(line);
        if !in_end_state {
            let expanded = if let Some(lookup) = lookup.filter(|_| envsub) {
                envsub::expand(line, lookup).map_err(|failure| {
                    let kind = match failure {
                        envsub::ExpandError::Message(message) => ParseErrorKind::Envsub { message },
                        envsub::ExpandError::TooDeep => ParseErrorKind::EnvsubTooDeep { limit: envsub::MAX_NESTING },
                    };
                    error(number, kind)
                })?
            } else {
                Cow::Borrowed(line)
            };
            buffer.push(number, start, line, &expanded);
            semicolon_line = expanded;
        }
        let Some(line_direction) = state.direction() else {
            return Err(error(number, ParseErrorKind::SqlBeforeUp));
        };
        if line_direction != direction {
            buffer.clear();
            continue;
        }
        match state {
            State::Up | State::Down if ends_with_semicolon(&semicolon_line) => {
                statements.push(buffer.take_statement());
            }
            State::EndUp | State::EndDown => {
                let statement = buffer.take_statement();
                if statement.text.is_empty() {
                    let swallowed_line = (!is_end_line).then_some(number);
                    warnings.push(ParseWarning {
                        file: file.to_owned(),
                        line: block_line,
                        kind: ParseWarningKind::EmptyStatementBlock { swallowed_line },
                    });
                } else {
                    statements.push(statement);
                }
                state = if state == State::EndUp { State::Up } else { State::Down };
            }
            _ => {}
        }
    }

    match state {
        State::Start => return Err(error(1, ParseErrorKind::NoUpAnnotation)),
        State::BeginUp | State::BeginDown => return Err(error(block_line, ParseErrorKind::MissingStatementEnd)),
        _ => {}
    }
    if let Some((line, start)) = buffer.unfinished() {
        let kind = ParseErrorKind::MissingSemicolon { direction, start };
        return Err(ParseError { file: file.to_owned(), line, direction: Some(direction), kind });
    }
    Ok(DirectionParse { statements, no_transaction, warnings })
}

/// goose's end-of-statement rule: split the line into words, stop at the first word that starts with `--`,
/// and the statement ends when the last word before it ends with `;`.
fn ends_with_semicolon(line: &str) -> bool {
    // Most lines hold no `--`; a byte scan says so without the word splitting below (`memmem::find` would
    // build a substring searcher for every line, which cost more than the scan).
    if !has_double_dash(line.as_bytes()) {
        return line.trim_end().ends_with(';');
    }
    let mut search_from = 0;
    let before_comment = loop {
        match line[search_from..].find("--") {
            None => break line,
            Some(offset) => {
                let at = search_from + offset;
                let starts_word = line[..at].chars().next_back().is_none_or(char::is_whitespace);
                if starts_word {
                    break &line[..at];
                }
                search_from = at + 1;
            }
        }
    };
    before_comment.trim_end().ends_with(';')
}

/// Whether `--` occurs anywhere in the bytes.
fn has_double_dash(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'-', bytes).any(|at| bytes.get(at + 1) == Some(&b'-'))
}

struct Line<'a> {
    number: usize,
    start: usize,
    text: &'a str,
}

/// Lines as Go's `bufio.ScanLines` gives them: split on `\n`, one trailing `\r` dropped, a last line without
/// a newline included when it is not empty.
struct Lines<'a> {
    text: &'a str,
    pos: usize,
    number: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        Lines { text, pos: 0, number: 0 }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        let rest = &self.text[start..];
        let (raw, advance) = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(end) => (&rest[..end], end + 1),
            None => (rest, rest.len()),
        };
        self.pos += advance;
        self.number += 1;
        let text = raw.strip_suffix('\r').unwrap_or(raw);
        Some(Line { number: self.number, start, text })
    }
}

/// The statement being accumulated. goose appends each line plus `\n` to a buffer; here, while the lines are
/// consecutive and unchanged, the buffer is only a range of the file, so statements borrow the text.
struct Buffer<'a> {
    text: &'a str,
    first_line: usize,
    content: BufferContent,
}

enum BufferContent {
    Empty,
    /// `text[start..end]` plus a final `\n`.
    Range {
        start: usize,
        end: usize,
    },
    Owned(String),
}

impl<'a> Buffer<'a> {
    fn new(text: &'a str) -> Buffer<'a> {
        Buffer { text, first_line: 0, content: BufferContent::Empty }
    }

    fn is_empty(&self) -> bool {
        matches!(self.content, BufferContent::Empty)
    }

    fn push(&mut self, number: usize, start: usize, raw: &str, written: &str) {
        let unchanged = written.len() == raw.len() && written.as_ptr() == raw.as_ptr();
        let end = start + raw.len();
        match &mut self.content {
            BufferContent::Empty => {
                self.first_line = number;
                self.content = if unchanged {
                    BufferContent::Range { start, end }
                } else {
                    BufferContent::Owned(format!("{written}\n"))
                };
            }
            BufferContent::Range { start: range_start, end: range_end } => {
                if unchanged && start == *range_end + 1 {
                    *range_end = end;
                } else {
                    let mut owned = String::with_capacity(*range_end - *range_start + written.len() + 2);
                    owned.push_str(&self.text[*range_start..*range_end]);
                    owned.push('\n');
                    owned.push_str(written);
                    owned.push('\n');
                    self.content = BufferContent::Owned(owned);
                }
            }
            BufferContent::Owned(owned) => {
                owned.push_str(written);
                owned.push('\n');
            }
        }
    }

    fn clear(&mut self) {
        self.content = BufferContent::Empty;
    }

    fn as_str(&self) -> &str {
        match &self.content {
            BufferContent::Empty => "",
            BufferContent::Range { start, end } => &self.text[*start..*end],
            BufferContent::Owned(owned) => owned,
        }
    }

    /// The start line and first characters of a non-blank buffer.
    fn unfinished(&self) -> Option<(usize, String)> {
        let content = self.as_str();
        let trimmed = content.trim();
        if trimmed.is_empty() {
            return None;
        }
        let first_line = trimmed.lines().next().unwrap_or_default();
        let mut start: String = first_line.chars().take(60).collect();
        if start.len() < trimmed.len() {
            start.push_str("...");
        }
        Some((self.statement_line(content), start))
    }

    /// The line where the trimmed statement begins (leading blank lines are trimmed away).
    fn statement_line(&self, content: &str) -> usize {
        let leading = content.len() - content.trim_start().len();
        self.first_line + content[..leading].bytes().filter(|&b| b == b'\n').count()
    }

    fn take_statement(&mut self) -> Statement<'a> {
        let content = std::mem::replace(&mut self.content, BufferContent::Empty);
        let (text, line) = match content {
            BufferContent::Empty => (Cow::Borrowed(""), self.first_line),
            BufferContent::Range { start, end } => {
                let slice: &'a str = &self.text[start..end];
                (Cow::Borrowed(slice.trim()), self.statement_line(slice))
            }
            BufferContent::Owned(owned) => {
                let line = self.statement_line(&owned);
                (Cow::Owned(owned.trim().to_owned()), line)
            }
        };
        Statement { text, line }
    }
}

#[cfg(test)]
mod tests;
