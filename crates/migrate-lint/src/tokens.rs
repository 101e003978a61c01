//! A small SQL tokenizer for the rules no real parser serves here (ClickHouse DDL, goose-file checks): words,
//! quoted names, strings and punctuation, with comments skipped and byte offsets kept.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A bare word or number (`CREATE`, `events`, `3`), or an ENVSUB reference `${NAME}`.
    Word,
    /// A `"quoted"` or `` `quoted` `` name, quotes included.
    QuotedName,
    /// A `'string'` literal, quotes included.
    String,
    /// One punctuation character.
    Punct,
}

/// One token of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub(crate) kind: TokenKind,
    pub(crate) text: &'a str,
    /// Byte offset in the tokenized text.
    pub(crate) offset: usize,
}

impl Token<'_> {
    /// Whether the token is the word `keyword`, in any case.
    pub(crate) fn is(&self, keyword: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    /// The name the token stands for: quotes removed.
    pub(crate) fn name(&self) -> &str {
        match self.kind {
            TokenKind::QuotedName => self.text.get(1..self.text.len().saturating_sub(1)).unwrap_or(""),
            _ => self.text,
        }
    }
}

/// Splits `text` into tokens, skipping whitespace and `--`, `#` (ClickHouse) and `/* */` comments.
pub(crate) fn tokenize(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        let start = at;
        let kind = match byte {
            b if b.is_ascii_whitespace() => {
                at += 1;
                continue;
            }
            b'-' if bytes.get(at + 1) == Some(&b'-') => {
                at = skip_line(bytes, at);
                continue;
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = find(bytes, at + 2, b"*/").map_or(bytes.len(), |end| end + 2);
                continue;
            }
            b'\'' => {
                at = skip_quoted(bytes, at, b'\'');
                TokenKind::String
            }
            b'"' | b'`' => {
                at = skip_quoted(bytes, at, byte);
                TokenKind::QuotedName
            }
            b'$' if bytes.get(at + 1) == Some(&b'{') => {
                at = find(bytes, at + 2, b"}").map_or(bytes.len(), |end| end + 1);
                TokenKind::Word
            }
            b if is_word_byte(b) => {
                while at < bytes.len() && is_word_byte(bytes[at]) {
                    at += 1;
                }
                TokenKind::Word
            }
            _ => {
                at += text.get(at..).and_then(|rest| rest.chars().next()).map_or(1, char::len_utf8);
                TokenKind::Punct
            }
        };
        if let Some(token_text) = text.get(start..at) {
            tokens.push(Token { kind, text: token_text, offset: start });
        }
    }
    tokens
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

fn skip_line(bytes: &[u8], from: usize) -> usize {
    memchr_at(bytes, from, b'\n').map_or(bytes.len(), |end| end + 1)
}

fn memchr_at(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    bytes.get(from..)?.iter().position(|&b| b == needle).map(|pos| pos + from)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|window| window == needle).map(|pos| pos + from)
}

/// The end of a quoted run starting at `from`; a doubled quote or a backslash escapes.
fn skip_quoted(bytes: &[u8], from: usize, quote: u8) -> usize {
    let mut at = from + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b if b == quote => {
                if bytes.get(at + 1) == Some(&quote) {
                    at += 2;
                } else {
                    return at + 1;
                }
            }
            _ => at += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::{tokenize, TokenKind};

    #[test]
    fn comments_are_skipped_and_strings_kept_whole() {
        let tokens = tokenize("CREATE -- no\nTABLE `a b`.x /* c */ ('it''s', ${DB}) ;");
        let texts: Vec<&str> = tokens.iter().map(|t| t.text).collect();
        assert_eq!(texts, ["CREATE", "TABLE", "`a b`", ".", "x", "(", "'it''s'", ",", "${DB}", ")", ";"]);
        assert_eq!(tokens[2].kind, TokenKind::QuotedName);
        assert_eq!(tokens[2].name(), "a b");
        assert_eq!(tokens[1].offset, 13);
    }

    #[test]
    fn an_unterminated_string_ends_at_the_end() {
        let tokens = tokenize("SELECT 'abc");
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens[1].text, "'abc");
    }
}
