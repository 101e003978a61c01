//! Just enough of PostgreSQL's lexical rules to read a migration statement without a server: how many
//! commands the server will count in it (each answers with one CommandComplete), and its leading words.
//!
//! A goose statement is usually one command, but a StatementBegin/StatementEnd block may hold several,
//! and a comment-only one holds none. Knowing the count lets the driver tell, from the responses alone,
//! which statement of a multi-statement batch failed, without running anything a second time.
//!
//! Handled: `--` and nested `/* */` comments, `'…'` strings (`''` inside; `E'…'` with backslash
//! escapes), `"…"` identifiers, `$tag$…$tag$` bodies, and SQL-standard `BEGIN ATOMIC … END` bodies,
//! whose `;` do not end the command (as psql tracks them: `CASE` opens a level, `END` closes one).

/// One word outside comments and quotes, or a quoted identifier (unquoted), as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Word<'a> {
    /// A bare word (keyword or identifier), as written.
    Bare(&'a str),
    /// A `"quoted"` identifier, with `""` still doubled.
    Quoted(&'a str),
    /// `.`, between the parts of a qualified name.
    Dot,
    /// Any other token: punctuation, a number, a string literal.
    Other,
}

impl Word<'_> {
    /// Whether this is the bare keyword `keyword` (ASCII, any case).
    pub(crate) fn is(&self, keyword: &str) -> bool {
        matches!(self, Word::Bare(word) if word.eq_ignore_ascii_case(keyword))
    }
}

/// The tokens of `text` in order, with `;` reported as `None` and everything else as `Some(word)`.
fn tokens(text: &str) -> impl Iterator<Item = Option<Word<'_>>> {
    let bytes = text.as_bytes();
    let mut index = 0;
    std::iter::from_fn(move || loop {
        let &byte = bytes.get(index)?;
        let start = index;
        match byte {
            b if b.is_ascii_whitespace() => index += 1,
            b'-' if bytes.get(index + 1) == Some(&b'-') => {
                index = past_line_end(bytes, index);
            }
            b'/' if bytes.get(index + 1) == Some(&b'*') => {
                index = skip_block_comment(bytes, index);
            }
            b';' => {
                index += 1;
                return Some(None);
            }
            b'\'' => {
                index = skip_string(bytes, index + 1, false);
                return Some(Some(Word::Other));
            }
            b'"' => {
                index = skip_quoted_identifier(bytes, index + 1);
                let inner = text.get(start + 1..index.saturating_sub(1)).unwrap_or("");
                return Some(Some(Word::Quoted(inner)));
            }
            b'$' => match dollar_tag_end(bytes, index) {
                Some(tag_end) => {
                    index = skip_dollar_body(bytes, tag_end, &bytes[start..tag_end]);
                    return Some(Some(Word::Other));
                }
                None => {
                    index += 1;
                    while bytes.get(index).is_some_and(u8::is_ascii_digit) {
                        index += 1;
                    }
                    return Some(Some(Word::Other));
                }
            },
            b if is_ident_start(b) => {
                while bytes.get(index).is_some_and(|&b| is_ident_char(b)) {
                    index += 1;
                }
                // E'…' (and e'…') is a string with backslash escapes; other prefixes (U&, B, X, N) take
                // the plain rules, which the quote branch applies next.
                if index == start + 1 && matches!(byte, b'e' | b'E') && bytes.get(index) == Some(&b'\'') {
                    index = skip_string(bytes, index + 1, true);
                    return Some(Some(Word::Other));
                }
                return Some(Some(Word::Bare(text.get(start..index).unwrap_or(""))));
            }
            b'.' => {
                index += 1;
                return Some(Some(Word::Dot));
            }
            _ => {
                index += 1;
                return Some(Some(Word::Other));
            }
        }
    })
}

/// How many commands the server counts in `text`: the `;`-separated parts that hold any token.
pub(crate) fn command_count(text: &str) -> usize {
    let mut count = 0;
    let mut in_command = false;
    // Inside BEGIN ATOMIC … END: how many END are still to come.
    let mut atomic_depth = 0usize;
    let mut previous_begin = false;
    for token in tokens(text) {
        let Some(word) = token else {
            if atomic_depth == 0 && in_command {
                count += 1;
                in_command = false;
            }
            continue;
        };
        in_command = true;
        let opens = (previous_begin && word.is("atomic")) || (atomic_depth > 0 && word.is("case"));
        if opens {
            atomic_depth += 1;
        } else if atomic_depth > 0 && word.is("end") {
            atomic_depth -= 1;
        }
        previous_begin = word.is("begin");
    }
    count + usize::from(in_command)
}

/// The first `n` words of the first command (fewer if it is shorter).
pub(crate) fn leading_words(text: &str, n: usize) -> Vec<Word<'_>> {
    tokens(text).map_while(|token| token).take(n).collect()
}

/// A `CREATE [UNIQUE] INDEX CONCURRENTLY` or `REINDEX INDEX CONCURRENTLY` statement: such a statement
/// can leave an INVALID index behind (when it fails, and `IF NOT EXISTS` then keeps it on the rerun).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ConcurrentIndex {
    /// The index as `to_regclass` reads it (`"s".i`, qualified like its table when written bare), when
    /// the statement names it.
    pub(crate) regclass: Option<String>,
}

/// Reads a statement as a concurrent index build, if it is one.
pub(crate) fn concurrent_index(text: &str) -> Option<ConcurrentIndex> {
    let words = leading_words(text, 40);
    let mut at = 0;
    let next_is = |at: &mut usize, keyword: &str| -> bool {
        let found = words.get(*at).is_some_and(|w| w.is(keyword));
        *at += usize::from(found);
        found
    };
    if next_is(&mut at, "reindex") {
        if !(next_is(&mut at, "index") && next_is(&mut at, "concurrently")) {
            return None;
        }
        let (name, _) = qualified_name(&words, at)?;
        return Some(ConcurrentIndex { regclass: Some(name.join(".")) });
    }
    if !next_is(&mut at, "create") {
        return None;
    }
    next_is(&mut at, "unique");
    if !(next_is(&mut at, "index") && next_is(&mut at, "concurrently")) {
        return None;
    }
    if next_is(&mut at, "if") && !(next_is(&mut at, "not") && next_is(&mut at, "exists")) {
        return None;
    }
    if words.get(at).is_some_and(|w| w.is("on")) {
        return Some(ConcurrentIndex { regclass: None });
    }
    let (mut index, after) = qualified_name(&words, at)?;
    at = after;
    if index.len() == 1 && next_is(&mut at, "on") {
        next_is(&mut at, "only");
        // A bare index name lives in its table's schema.
        if let Some((table, _)) = qualified_name(&words, at) {
            if table.len() > 1 {
                let schema = table[..table.len() - 1].to_vec();
                index = [schema, index].concat();
            }
        }
    }
    Some(ConcurrentIndex { regclass: Some(index.join(".")) })
}

/// The parts of a dotted name starting at `at`, each as written (quoted ones with their quotes), and the
/// index after it.
fn qualified_name(words: &[Word<'_>], mut at: usize) -> Option<(Vec<String>, usize)> {
    let mut parts = Vec::new();
    loop {
        match words.get(at)? {
            Word::Bare(word) => parts.push((*word).to_owned()),
            Word::Quoted(word) => parts.push(format!("\"{word}\"")),
            _ => return None,
        }
        at += 1;
        if words.get(at) != Some(&Word::Dot) {
            return Some((parts, at));
        }
        at += 1;
    }
}

fn is_ident_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || byte >= 0x80
}

fn is_ident_char(byte: u8) -> bool {
    is_ident_start(byte) || byte.is_ascii_digit() || byte == b'$'
}

fn past_line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |offset| from + offset + 1)
}

/// Past a `/* … */` comment starting at `from`; PostgreSQL's nest.
fn skip_block_comment(bytes: &[u8], from: usize) -> usize {
    let mut depth = 0usize;
    let mut index = from;
    while index < bytes.len() {
        match (bytes[index], bytes.get(index + 1)) {
            (b'/', Some(b'*')) => {
                depth += 1;
                index += 2;
            }
            (b'*', Some(b'/')) => {
                depth -= 1;
                index += 2;
                if depth == 0 {
                    return index;
                }
            }
            _ => index += 1,
        }
    }
    bytes.len()
}

/// Past the closing quote of a string whose body starts at `from`.
fn skip_string(bytes: &[u8], from: usize, backslash_escapes: bool) -> usize {
    let mut index = from;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' if backslash_escapes => index += 2,
            b'\'' if bytes.get(index + 1) == Some(&b'\'') => index += 2,
            b'\'' => return index + 1,
            _ => index += 1,
        }
    }
    bytes.len()
}

fn skip_quoted_identifier(bytes: &[u8], from: usize) -> usize {
    let mut index = from;
    while index < bytes.len() {
        match bytes[index] {
            b'"' if bytes.get(index + 1) == Some(&b'"') => index += 2,
            b'"' => return index + 1,
            _ => index += 1,
        }
    }
    bytes.len()
}

/// If a dollar-quote tag (`$$` or `$name$`) starts at `from`, the index after it.
fn dollar_tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut index = from + 1;
    if bytes.get(index).is_some_and(|&b| is_ident_start(b)) {
        while bytes.get(index).is_some_and(|&b| is_ident_start(b) || b.is_ascii_digit()) {
            index += 1;
        }
    }
    (bytes.get(index) == Some(&b'$')).then_some(index + 1)
}

fn skip_dollar_body(bytes: &[u8], from: usize, tag: &[u8]) -> usize {
    bytes[from..]
        .windows(tag.len())
        .position(|window| window == tag)
        .map_or(bytes.len(), |offset| from + offset + tag.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_commands_as_the_server_does() {
        let cases = [
            ("SELECT 1;", 1),
            ("SELECT 1", 1),
            ("-- only a comment\n", 0),
            ("/* a /* nested */ comment; */ ;", 0),
            ("SELECT 1; SELECT 2;\nSELECT 3", 3),
            ("SELECT 'a;b', \"c;d\", E'\\';', $$;$$, $x$ $$; $x$; SELECT 2;", 2),
            ("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END $body$;", 1),
            ("DO $$ BEGIN PERFORM 1; END $$; -- trailing\n", 1),
            (
                "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END; \
                 SELECT 3; END; SELECT 4;",
                2,
            ),
            ("SELECT $1, a$b; ;;", 1),
            ("SELECT 'unterminated;", 1),
            ("SELECT é; SELECT ü", 2),
        ];
        for (text, expected) in cases {
            assert_eq!(command_count(text), expected, "{text}");
        }
    }

    #[test]
    fn leading_words_skip_comments() {
        let words = leading_words("-- c\n/* d */ CREATE UNIQUE INDEX \"My\"\"Idx\" ON t;", 5);
        assert!(words[0].is("create") && words[1].is("UNIQUE") && words[2].is("index"));
        assert_eq!(words[3], Word::Quoted("My\"\"Idx"));
        assert!(words[4].is("on"));
        assert_eq!(leading_words("SELECT 1; SELECT 2", 10).len(), 2);
    }

    #[test]
    fn concurrent_index_builds() {
        let regclass = |text: &str| concurrent_index(text).map(|c| c.regclass);
        assert_eq!(regclass("CREATE INDEX CONCURRENTLY idx ON t (a);"), Some(Some("idx".to_owned())));
        assert_eq!(
            regclass("create unique index concurrently if not exists \"Idx\" on only app.\"T\" (a)"),
            Some(Some("app.\"Idx\"".to_owned()))
        );
        assert_eq!(regclass("CREATE INDEX CONCURRENTLY s.i ON s.t (a)"), Some(Some("s.i".to_owned())));
        assert_eq!(regclass("CREATE INDEX CONCURRENTLY ON t (a)"), Some(None));
        assert_eq!(regclass("REINDEX INDEX CONCURRENTLY s.i"), Some(Some("s.i".to_owned())));
        assert_eq!(regclass("CREATE INDEX idx ON t (a)"), None);
        assert_eq!(regclass("SELECT 1"), None);
    }
}
