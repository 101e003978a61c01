//! ENVSUB: goose's variable substitution (the grammar of mfridman/interpolate v0.0.2, which goose uses).
//!
//! `$NAME`, `${NAME}`, `${NAME:-default}` (unset or empty), `${NAME-default}` (unset), `${NAME?message}`
//! (error when unset), `${NAME:offset}` and `${NAME:offset:length}` (byte substrings). `\$` and `$$` give
//! `$`, `\\` stays `\\`, `$(` stays. A `$` that ends the line is kept; any other `$` must start a name that
//! begins with a letter. Unset variables expand to the empty string.
//!
//! One difference from interpolate: `${...}` expansions nest at most [`MAX_NESTING`] deep. interpolate
//! recurses without a bound (Go's stacks grow to 1 GB); here the parser and the evaluator recurse on the
//! thread's stack, so a line of thousands of nested defaults is an error instead of a stack overflow.

use std::borrow::Cow;

/// How deep `${NAME:-${...}}` expansions may nest on one line (real migrations use two or three).
pub(crate) const MAX_NESTING: usize = 64;

/// Why a line could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpandError {
    /// interpolate's own errors (syntax, `${NAME?message}`).
    Message(String),
    /// Expansions nested deeper than [`MAX_NESTING`].
    TooDeep,
}

impl From<String> for ExpandError {
    fn from(message: String) -> ExpandError {
        ExpandError::Message(message)
    }
}

/// Expands ENVSUB's grammar in any text (a backup path in `migrate.toml`, say), as migration files do:
/// `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME?message}`... An unset variable expands to the empty
/// string; the error says what is wrong (a syntax error, or the `${NAME?message}` of an unset variable).
///
/// ```
/// let lookup = |name: &str| (name == "BACKUP_DIR").then(|| "/backups".to_string());
/// assert_eq!(migrate_core::expand_variables("${BACKUP_DIR}/x.dump", &lookup).unwrap(), "/backups/x.dump");
/// assert_eq!(migrate_core::expand_variables("${MISSING:-/tmp}/x", &lookup).unwrap(), "/tmp/x");
/// assert!(migrate_core::expand_variables("${MISSING?set MISSING}", &lookup).is_err());
/// ```
pub fn expand_variables(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    text.lines()
        .map(|line| match expand(line, lookup) {
            Ok(expanded) => Ok(expanded.into_owned()),
            Err(ExpandError::Message(message)) => Err(message),
            Err(ExpandError::TooDeep) => Err(format!("expansions nest deeper than {MAX_NESTING} levels")),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|lines| lines.join("\n"))
}

/// Expands one line. The whole line is parsed before anything is evaluated, as goose does.
pub(crate) fn expand<'l>(line: &'l str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Cow<'l, str>, ExpandError> {
    if !line.contains('$') {
        return Ok(Cow::Borrowed(line));
    }
    let mut parser = Parser { input: line, pos: 0, depth: 0 };
    let items = parser.expression(None)?;
    let mut out = String::with_capacity(line.len());
    evaluate(&items, lookup, &mut out)?;
    Ok(Cow::Owned(out))
}

enum Item<'l> {
    Text(&'l str),
    Variable(&'l str),
    /// `${NAME:-content}`
    DefaultIfEmpty(&'l str, Vec<Item<'l>>),
    /// `${NAME-content}`
    DefaultIfUnset(&'l str, Vec<Item<'l>>),
    /// `${NAME:offset[:length]}`
    Substring(&'l str, i64, Option<i64>),
    /// `${NAME?message}`
    Required(&'l str, Vec<Item<'l>>),
}

struct Parser<'l> {
    input: &'l str,
    pos: usize,
    /// How many `${` expansions enclose the current position.
    depth: usize,
}

impl<'l> Parser<'l> {
    fn rest(&self) -> &'l str {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn scan_until(&mut self, stop: impl Fn(char) -> bool) -> &'l str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if stop(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        &self.input[start..self.pos]
    }

    fn expression(&mut self, stop: Option<char>) -> Result<Vec<Item<'l>>, ExpandError> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                break;
            }
            let rest = self.rest();
            if rest.starts_with("\\\\") {
                self.pos += 2;
                items.push(Item::Text("\\\\"));
                continue;
            }
            if rest.starts_with("\\$") || rest.starts_with("$$") {
                self.pos += 2;
                items.push(Item::Text("$"));
                continue;
            }
            if rest.starts_with("$(") {
                self.pos += 2;
                items.push(Item::Text("$("));
                continue;
            }
            // A `$` that is the last character of the whole line is literal text.
            if c == '$' && self.pos < self.input.len() - 1 {
                items.push(self.expansion()?);
                continue;
            }
            let start = self.pos;
            self.pos += c.len_utf8();
            self.scan_until(|r| r == '$' || r == '\\' || Some(r) == stop);
            items.push(Item::Text(&self.input[start..self.pos]));
        }
        Ok(items)
    }

    fn expansion(&mut self) -> Result<Item<'l>, ExpandError> {
        self.next(); // the '$'
        if self.peek() == Some('{') {
            if self.depth == MAX_NESTING {
                return Err(ExpandError::TooDeep);
            }
            self.depth += 1;
            let item = self.brace_expansion();
            self.depth -= 1;
            return item;
        }
        Ok(Item::Variable(self.identifier()?))
    }

    fn identifier(&mut self) -> Result<&'l str, String> {
        match self.peek() {
            Some(c) if c.is_alphabetic() => {}
            other => return Err(format!("expected identifier to start with a letter, got {}", describe(other))),
        }
        Ok(self.scan_until(|r| !(r.is_alphabetic() || r.is_numeric() || r == '_')))
    }

    fn brace_expansion(&mut self) -> Result<Item<'l>, ExpandError> {
        self.next(); // the '{'
        let name = self.identifier()?;
        if self.peek() == Some('}') {
            self.next();
            return Ok(Item::Variable(name));
        }
        let item = match self.next() {
            Some(':') if self.peek() == Some('-') => {
                self.next();
                Item::DefaultIfEmpty(name, self.expression(Some('}'))?)
            }
            Some(':') => self.substring(name)?,
            Some('-') => Item::DefaultIfUnset(name, self.expression(Some('}'))?),
            Some('?') => Item::Required(name, self.expression(Some('}'))?),
            other => return Err(format!("expected an operator, got {}", describe(other)).into()),
        };
        match self.next() {
            Some('}') => Ok(item),
            other => Err(format!("expected brace expansion to end with }}, got {}", describe(other)).into()),
        }
    }

    fn substring(&mut self, name: &'l str) -> Result<Item<'l>, String> {
        let offset = self.scan_until(|r| r == ':' || r == '}');
        // Rust's parser accepts what Go's strconv.Atoi does: one optional sign, then ASCII digits.
        let offset = offset.trim().parse::<i64>().map_err(|_| format!("unable to parse offset {offset:?}"))?;
        if self.peek() == Some('}') {
            return Ok(Item::Substring(name, offset, None));
        }
        self.next();
        let length = self.scan_until(|r| r == '}');
        let length = length.trim().parse::<i64>().map_err(|_| format!("unable to parse length {length:?}"))?;
        Ok(Item::Substring(name, offset, Some(length)))
    }
}

fn describe(c: Option<char>) -> String {
    match c {
        Some(c) => format!("{c:?}"),
        None => "end of line".to_owned(),
    }
}

fn evaluate(items: &[Item<'_>], lookup: &dyn Fn(&str) -> Option<String>, out: &mut String) -> Result<(), String> {
    for item in items {
        match item {
            Item::Text(text) => out.push_str(text),
            Item::Variable(name) => out.push_str(&lookup(name).unwrap_or_default()),
            Item::DefaultIfEmpty(name, content) => match lookup(name) {
                Some(value) if !value.is_empty() => out.push_str(&value),
                _ => evaluate(content, lookup, out)?,
            },
            Item::DefaultIfUnset(name, content) => match lookup(name) {
                Some(value) => out.push_str(&value),
                None => evaluate(content, lookup, out)?,
            },
            Item::Substring(name, offset, length) => {
                let value = lookup(name).unwrap_or_default();
                out.push_str(&substring(&value, *offset, *length));
            }
            Item::Required(name, message) => match lookup(name) {
                Some(value) => out.push_str(&value),
                None => {
                    let mut text = String::new();
                    evaluate(message, lookup, &mut text)?;
                    if text.is_empty() {
                        text.push_str("not set");
                    }
                    return Err(format!("${name}: {text}"));
                }
            },
        }
    }
    Ok(())
}

/// Byte-based substring with bash-like clamping, as interpolate does it.
fn substring(value: &str, offset: i64, length: Option<i64>) -> String {
    let len = i64::try_from(value.len()).unwrap_or(i64::MAX);
    let mut from = if offset < 0 { offset.saturating_add(len) } else { offset };
    from = from.clamp(0, len);
    let to = match length {
        None => len,
        Some(length) if length >= 0 => from.saturating_add(length).min(len),
        Some(length) => length.saturating_add(len).max(from).min(len),
    };
    let (from, to) = (usize::try_from(from).unwrap_or(0), usize::try_from(to).unwrap_or(0));
    String::from_utf8_lossy(value.as_bytes().get(from..to).unwrap_or_default()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "COMMIT" => Some("1adf998e39f647b4b25842f107c6ed9d30a3a7c7".into()),
            "NAME" => Some("foo".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = expand(input, &env);
        let got = got.as_deref().map_err(|error| match error {
            ExpandError::Message(message) => message.as_str(),
            ExpandError::TooDeep => "too deep",
        });
        assert_eq!(got, expected, "input {input:?}");
    }

    fn nested(depth: usize, innermost: &str) -> String {
        format!("{}{innermost}{}", "${A:-".repeat(depth), "}".repeat(depth))
    }

    #[test]
    fn nesting_is_bounded() {
        check(&nested(MAX_NESTING - 1, "${NAME}"), Ok("foo"));
        check(&nested(MAX_NESTING, "x"), Ok("x"));
        check(&nested(MAX_NESTING, "${NAME}"), Err("too deep"));
        // Far deeper than any stack allows for recursion: an error, not an overflow.
        check(&nested(25_000, "x"), Err("too deep"));
        // Depth is nesting, not the number of expansions on the line.
        check(&"${A:-${NAME}}".repeat(10_000), Ok(&"foo".repeat(10_000)));
    }

    #[test]
    fn grammar() {
        check("plain", Ok("plain"));
        check("$NAME x ${NAME}y", Ok("foo x fooy"));
        check("$UNSET|${UNSET}", Ok("|"));
        check("${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d}", Ok("d d  d"));
        check("${UNSET:-${ALSO:-$NAME}}", Ok("foo"));
        check("${EMPTY:--:{}}", Ok("-:{}"));
        check("$$NAME \\$NAME \\\\ $(x)", Ok("$NAME $NAME \\\\ $(x)"));
        check("cost $", Ok("cost $"));
        check("$1", Err("expected identifier to start with a letter, got '1'"));
        check("'$'x", Err("expected identifier to start with a letter, got '\\''"));
        check("${_X}", Err("expected identifier to start with a letter, got '_'"));
        check("${UNSET?}", Err("$UNSET: not set"));
        check("${UNSET?set it: $NAME}", Err("$UNSET: set it: foo"));
        check("${NAME:?m}", Err("unable to parse offset \"?m\""));
        check("${NAME", Err("expected an operator, got end of line"));
        check("$NAME_x1é", Ok(""));
        check("${COMMIT:7}", Ok("e39f647b4b25842f107c6ed9d30a3a7c7"));
        check("${COMMIT: -7}", Ok("0a3a7c7"));
        check("${COMMIT: -128}", Ok("1adf998e39f647b4b25842f107c6ed9d30a3a7c7"));
        check("${COMMIT:128}", Ok(""));
        check("${COMMIT:7:7}", Ok("e39f647"));
        check("${COMMIT:7:-7}", Ok("e39f647b4b25842f107c6ed9d3"));
        check("${COMMIT:0:-128}", Ok(""));
        check("${COMMIT:7:128}", Ok("e39f647b4b25842f107c6ed9d30a3a7c7"));
        check("${UNSET:0:7}", Ok(""));
    }
}
