//! The lexical layer of DSN parsing: a hand-written `postgres://` URL splitter, the libpq
//! `key=value` tokenizer, and strict percent-decoding.
//!
//! The `url` crate is not used because it rejects forms that libpq accepts (`user@/db?host=/sock`,
//! `h1:5432,h2:5433`, an unencoded `#` in a password) and decodes `+` in queries as a space.
//! Nothing here echoes input text in an error, because any fragment may be part of a password.

use percent_encoding::{percent_decode_str, AsciiSet, NON_ALPHANUMERIC};

use crate::dsn::DsnError;

/// The characters percent-encoded in every URL part we write: all but ASCII alphanumerics and
/// `-`, `.`, `_`, `~`.
pub(crate) const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// [`COMPONENT`] without `:`, for IPv6 literals written inside brackets.
pub(crate) const IPV6_LITERAL: &AsciiSet = &COMPONENT.remove(b':');

/// The parts of a URL after `scheme://`, still percent-encoded.
#[derive(Debug)]
pub(crate) struct UrlParts<'a> {
    /// Everything before the last `@` of the authority, if there is an `@`.
    pub(crate) userinfo: Option<&'a str>,
    /// The comma-separated host list, possibly empty.
    pub(crate) hosts: &'a str,
    /// The path without its leading `/`, if there is a path.
    pub(crate) path: Option<&'a str>,
    /// Everything after the first `?` that follows the authority.
    pub(crate) query: Option<&'a str>,
}

/// Splits what follows `scheme://` into userinfo, host list, path and query.
///
/// The authority ends at the first `/` or `?`, and the userinfo at the last `@` inside it, so an
/// unencoded `@`, `:` or `#` in a password is tolerated. An unencoded `/` or `?` in a password
/// moves the real `@` after the authority; that is detected and reported without echoing input.
pub(crate) fn split_url(rest: &str) -> Result<UrlParts<'_>, DsnError> {
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // A path and query keys never contain '@' in practice; query values (after '=') may.
    let before_first_value = tail.split('=').next().unwrap_or_default();
    if before_first_value.contains('@') {
        return Err(DsnError::MisplacedAt);
    }
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (Some(userinfo), hosts),
        None => (None, authority),
    };
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    Ok(UrlParts { userinfo, hosts, path: path.strip_prefix('/'), query })
}

/// One entry of a URL host list: the decoded host (brackets removed) and the port digits.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UrlHost<'a> {
    pub(crate) host: String,
    pub(crate) port: Option<&'a str>,
}

/// Splits a URL host list such as `h1:5432,[::1]:5433,%2Ftmp` into its entries.
///
/// An empty list gives one empty entry. Ports are checked to be ASCII digits here, so that a
/// later range error may safely show the value.
pub(crate) fn split_hosts(list: &str) -> Result<Vec<UrlHost<'_>>, DsnError> {
    list.split(',').map(split_host).collect()
}

fn split_host(entry: &str) -> Result<UrlHost<'_>, DsnError> {
    let (host, port) = if let Some(bracketed) = entry.strip_prefix('[') {
        let Some((literal, after)) = bracketed.split_once(']') else {
            return Err(DsnError::InvalidUrlHost { reason: "an IPv6 address has no closing ']'" });
        };
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => {
                    return Err(DsnError::InvalidUrlHost {
                        reason: "only ':port' may follow an IPv6 address in brackets",
                    })
                }
            },
        };
        if !literal.contains(':') {
            return Err(DsnError::InvalidUrlHost { reason: "brackets may only hold an IPv6 address" });
        }
        (literal, port)
    } else {
        match entry.split_once(':') {
            Some((_, port)) if port.contains(':') => {
                return Err(DsnError::InvalidUrlHost {
                    reason: "an IPv6 address must be written in brackets, as in [::1]:5432",
                })
            }
            Some((host, port)) => (host, Some(port)),
            None => (entry, None),
        }
    };
    let port = port.filter(|port| !port.is_empty());
    if port.is_some_and(|port| !port.bytes().all(|b| b.is_ascii_digit())) {
        return Err(DsnError::InvalidUrlPort);
    }
    Ok(UrlHost { host: decode(host, "host")?, port })
}

/// Splits a URL query into decoded `(key, value)` pairs.
///
/// `+` stays a plus sign (libpq semantics, not HTML-form semantics). Empty segments (`a=1&&b=2`)
/// are skipped; a segment without `=` is an error.
pub(crate) fn split_query(query: &str) -> Result<Vec<(String, String)>, DsnError> {
    let mut pairs = Vec::new();
    for (idx, segment) in query.split('&').enumerate() {
        if segment.is_empty() {
            continue;
        }
        let Some((key, value)) = segment.split_once('=') else {
            return Err(DsnError::QueryWithoutEquals { index: idx + 1 });
        };
        pairs.push((decode(key, "query")?, decode(value, "query")?));
    }
    Ok(pairs)
}

/// Percent-decodes `text`, requiring every `%` to start a `%XX` escape and the result to be UTF-8.
///
/// `part` names the URL part for the error message.
pub(crate) fn decode(text: &str, part: &'static str) -> Result<String, DsnError> {
    let escapes_ok = text.split('%').skip(1).all(|after_percent| {
        after_percent.as_bytes().get(..2).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_ok {
        return Err(DsnError::PercentEncoding { part });
    }
    match percent_decode_str(text).decode_utf8() {
        Ok(decoded) => Ok(decoded.into_owned()),
        Err(_) => Err(DsnError::PercentEncoding { part }),
    }
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
