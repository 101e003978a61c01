//! SASLprep (RFC 4013) for sqlx's SCRAM authentication, behaving as PostgreSQL's own `pg_saslprep`
//! (server and libpq): when the prepared password would hold a prohibited character, the password is
//! used as it is. The server computed the stored verifier from those same raw bytes, so upstream
//! stringprep's error refused passwords the server accepts (a TAB, most emoji) and quoted the offending
//! character in its message.
//!
//! What is applied: RFC 3454 table B.1 (mapped to nothing), C.1.2 (non-ASCII spaces, mapped to a space),
//! NFKC, then the prohibited tables C.2 (controls), C.3 (private use), C.4 (non-characters), C.5-C.9
//! (surrogates cannot occur in a `str`; inappropriate for plain text or canonical representation, bidi
//! formatting, tagging). Not applied: A.1 (code points unassigned in Unicode 3.2) and the bidi rules of
//! section 6. A password that fails only those checks, and that mapping or NFKC also changes, is the
//! one case where this differs from PostgreSQL (the server uses it raw; this sends it prepared).

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// The error type of upstream's signature; [`saslprep`] never returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error(());

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SASLprep failed")
    }
}

impl std::error::Error for Error {}

/// SASLprep of `s`, or `s` itself when the result would hold a prohibited character, as PostgreSQL does.
///
/// # Errors
///
/// Never: the signature is upstream stringprep's, which sqlx calls.
pub fn saslprep(s: &str) -> Result<Cow<'_, str>, Error> {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Ok(Cow::Borrowed(s)); // Printable ASCII: SASLprep changes nothing and refuses nothing.
    }
    let mapped: String =
        s.chars().filter(|&c| !mapped_to_nothing(c)).map(|c| if non_ascii_space(c) { ' ' } else { c }).nfkc().collect();
    if mapped.chars().any(prohibited) {
        return Ok(Cow::Borrowed(s));
    }
    Ok(if mapped == s { Cow::Borrowed(s) } else { Cow::Owned(mapped) })
}

/// RFC 3454 table B.1.
fn mapped_to_nothing(c: char) -> bool {
    matches!(
        c,
        '\u{ad}' | '\u{34f}' | '\u{1806}' | '\u{180b}'..='\u{180d}' | '\u{200b}'..='\u{200d}' | '\u{2060}'
            | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
    )
}

/// RFC 3454 table C.1.2.
fn non_ascii_space(c: char) -> bool {
    matches!(c, '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200b}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

/// RFC 3454 tables C.1.2 and C.2 to C.9, as RFC 4013 section 2.3 prohibits them.
fn prohibited(c: char) -> bool {
    non_ascii_space(c)
        || matches!(
            c,
            // C.2.1, C.2.2: control characters.
            '\u{0}'..='\u{1f}' | '\u{7f}' | '\u{80}'..='\u{9f}' | '\u{6dd}' | '\u{70f}' | '\u{180e}'
                | '\u{200c}' | '\u{200d}' | '\u{2028}' | '\u{2029}' | '\u{2060}'..='\u{2063}'
                | '\u{206a}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffc}' | '\u{1d173}'..='\u{1d17a}'
                // C.3: private use.
                | '\u{e000}'..='\u{f8ff}' | '\u{f0000}'..='\u{ffffd}' | '\u{100000}'..='\u{10fffd}'
                // C.4: non-character code points.
                | '\u{fdd0}'..='\u{fdef}' | '\u{fffe}' | '\u{ffff}' | '\u{1fffe}' | '\u{1ffff}' | '\u{2fffe}'
                | '\u{2ffff}' | '\u{3fffe}' | '\u{3ffff}' | '\u{4fffe}' | '\u{4ffff}' | '\u{5fffe}' | '\u{5ffff}'
                | '\u{6fffe}' | '\u{6ffff}' | '\u{7fffe}' | '\u{7ffff}' | '\u{8fffe}' | '\u{8ffff}' | '\u{9fffe}'
                | '\u{9ffff}' | '\u{afffe}' | '\u{affff}' | '\u{bfffe}' | '\u{bffff}' | '\u{cfffe}' | '\u{cffff}'
                | '\u{dfffe}' | '\u{dffff}' | '\u{efffe}' | '\u{effff}' | '\u{ffffe}' | '\u{fffff}'
                | '\u{10fffe}' | '\u{10ffff}'
                // C.6, C.7, C.8: inappropriate for plain text or canonical representation, bidi formatting.
                | '\u{fff9}'..='\u{fffd}' | '\u{2ff0}'..='\u{2ffb}' | '\u{340}' | '\u{341}' | '\u{200e}'
                | '\u{200f}' | '\u{202a}'..='\u{202e}'
                // C.9: tagging characters.
                | '\u{e0001}' | '\u{e0020}'..='\u{e007f}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_as_postgresql_prepares_it() {
        assert_eq!(saslprep("plain-ascii %/:@").unwrap(), "plain-ascii %/:@");
        // Refused by SASLprep: PostgreSQL (and so this) uses the password as it is.
        assert_eq!(saslprep("tab\there").unwrap(), "tab\there");
        assert_eq!(saslprep("private \u{e000}").unwrap(), "private \u{e000}");
        // Mapped: a no-break space becomes a space, a soft hyphen disappears, NFKC folds the ligature.
        assert_eq!(saslprep("a\u{a0}b\u{ad}c\u{fb01}").unwrap(), "a bcfi");
        assert_eq!(saslprep("ünïcødé-密码").unwrap(), "ünïcødé-密码");
        // An emoji is unassigned in Unicode 3.2 (not checked here) and NFKC keeps it: the same either way.
        assert_eq!(saslprep("crab 🦀").unwrap(), "crab 🦀");
    }
}
