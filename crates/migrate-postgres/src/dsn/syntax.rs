//! The lexical layer of PostgreSQL DSN parsing: the libpq `key=value` tokenizer and the backend
//! `options` escapes here, the URL splitting shared with the ClickHouse driver in
//! `migrate_core::url_syntax` (read with libpq's rules: `+` in a query is a plus sign).
//! Nothing here echoes input text in an error, because any fragment may be part of a password.

use migrate_core::url_syntax::{self, QueryRules, UrlParts};

use crate::dsn::DsnError;

pub(crate) use migrate_core::url_syntax::{UrlHost, COMPONENT};

/// Splits what follows `postgres://` (see [`url_syntax::split_url`]).
pub(crate) fn split_url(rest: &str) -> Result<UrlParts<'_>, DsnError> {
    Ok(url_syntax::split_url(rest)?)
}

/// Splits a URL host list such as `h1:5432,[::1]:5433,%2Ftmp` into its entries.
pub(crate) fn split_hosts(list: &str) -> Result<Vec<UrlHost<'_>>, DsnError> {
    Ok(url_syntax::split_hosts(list, 5432)?)
}

/// Splits a URL query with libpq's rules: `+` stays a plus sign, a segment without `=` is an error.
pub(crate) fn split_query(query: &str) -> Result<Vec<(String, String)>, DsnError> {
    Ok(url_syntax::split_query(query, QueryRules::LibPq)?)
}

/// Percent-decodes one URL part strictly.
pub(crate) fn decode(text: &str, part: &'static str) -> Result<String, DsnError> {
    Ok(url_syntax::decode(text, part)?)
}

/// Tokenizes a libpq keyword/value connection string (`host=h port=5432 password='a b\' c'`).
///
/// The rules are libpq's `conninfo_parse`: whitespace separates pairs and may surround `=`; a value
/// is either single-quoted or runs to the next whitespace; in both forms a backslash takes the next
/// character literally. Errors carry byte offsets, never text.
pub(crate) fn split_keywords(dsn: &str) -> Result<Vec<(String, String)>, DsnError> {
    let mut chars = dsn.char_indices().peekable();
    let mut pairs = Vec::new();
    loop {
        while chars.next_if(|(_, c)| c.is_ascii_whitespace()).is_some() {}
        let Some(&(key_start, _)) = chars.peek() else {
            break;
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_ascii_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_ascii_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() {
            return Err(DsnError::KeywordSyntax { offset: key_start, reason: "expected '=' after a keyword" });
        }
        if key.is_empty() {
            return Err(DsnError::KeywordSyntax { offset: key_start, reason: "'=' without a keyword before it" });
        }
        while chars.next_if(|(_, c)| c.is_ascii_whitespace()).is_some() {}
        let mut value = String::new();
        if let Some((quote_start, _)) = chars.next_if(|(_, c)| *c == '\'') {
            loop {
                match chars.next() {
                    Some((_, '\'')) => break,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, escaped)) => value.push(escaped),
                        None => {
                            return Err(DsnError::KeywordSyntax {
                                offset: quote_start,
                                reason: "unterminated quoted value",
                            })
                        }
                    },
                    Some((_, c)) => value.push(c),
                    None => {
                        return Err(DsnError::KeywordSyntax {
                            offset: quote_start,
                            reason: "unterminated quoted value",
                        })
                    }
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_ascii_whitespace()) {
                if c == '\\' {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Splits a backend `options` string on unescaped whitespace, removing the backslash escapes.
pub(crate) fn split_escaped_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(escaped) = chars.next() {
                    word.push(escaped);
                }
            }
            c if c.is_ascii_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Writes `text` with whitespace and backslashes escaped by a backslash, as the backend's
/// `options` parser expects.
pub(crate) fn push_escaped_word(out: &mut String, text: &str) {
    for c in text.chars() {
        if c == '\\' || c.is_ascii_whitespace() {
            out.push('\\');
        }
        out.push(c);
    }
}
