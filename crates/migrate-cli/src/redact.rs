//! Keeping passwords out of everything the CLI prints.
//!
//! The drivers already redact the DSNs they show. This module covers what the CLI itself might echo:
//! `env` prints `GOOSE_DBSTRING` with its password replaced, and every error line goes through
//! [`Secrets::scrub`] as a last line of defence, in case a mistyped command line put a DSN where a
//! command name was expected (goose would print it back) or a server echoed something it was sent.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// What a password is replaced with: the drivers' text.
pub(crate) use migrate::postgres::dsn::REDACTED_PASSWORD as REDACTED;

/// Passwords below this length are not scrubbed from free text: replacing every "a" in a message would
/// destroy it, and such a password is not worth protecting from a log line anyway.
const MIN_SCRUB_LEN: usize = 4;

/// The secrets known to this run, to be removed from error output.
#[derive(Default, Clone)]
pub(crate) struct Secrets {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} known)", self.secrets.len())
    }
}

impl Secrets {
    /// Remembers a secret, in the forms it can appear in: as is and percent-encoded.
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.chars().count() < MIN_SCRUB_LEN {
            return;
        }
        // Encoders differ on which punctuation they leave alone: cover the strictest and the URL-component
        // one (`-._~` kept) that pg_url_from_parts and ch_url_from_parts use.
        const STRICT: &percent_encoding::AsciiSet = percent_encoding::NON_ALPHANUMERIC;
        let forms = [
            secret.to_owned(),
            percent_encoding::utf8_percent_encode(secret, STRICT).to_string(),
            migrate::postgres::encode_url_part(secret),
        ];
        for form in forms {
            if !self.secrets.contains(&form) {
                self.secrets.push(form);
            }
        }
        // Longest first, so a secret that contains another is replaced whole.
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// Remembers the password of every argument that looks like a DSN, decoded and as it was typed.
    pub(crate) fn add_from_args(&mut self, args: &[String]) {
        for arg in args {
            if let Some(password) = dsn_password(arg) {
                self.add(&password);
            }
            if let Some((start, end)) = password_spans(arg).into_iter().next() {
                self.add(&arg[start..end]);
            }
        }
    }

    /// The text with every known secret replaced by [`REDACTED`].
    pub(crate) fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut text = Cow::Borrowed(text);
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = Cow::Owned(text.replace(secret.as_str(), REDACTED));
            }
        }
        text
    }
}

/// A DSN with its password replaced by [`REDACTED`], for display. Handles URLs (`scheme://user:pass@…`,
/// and `password=` in the query) and libpq `key=value` strings; anything else is returned unchanged.
pub(crate) fn redact_dsn(dsn: &str) -> String {
    let mut out = dsn.to_owned();
    for (start, end) in password_spans(dsn).into_iter().rev() {
        out.replace_range(start..end, REDACTED);
    }
    out
}

/// The password a DSN holds (percent-decoded for URLs), if any.
pub(crate) fn dsn_password(dsn: &str) -> Option<String> {
    let (start, end) = password_spans(dsn).into_iter().next()?;
    let raw = &dsn[start..end];
    if dsn.contains("://") {
        return Some(percent_decode_str(raw).decode_utf8_lossy().into_owned());
    }
    let unquoted = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')).unwrap_or(raw);
    Some(unquoted.replace("\\'", "'").replace("\\\\", "\\"))
}

/// Byte ranges of the password values in a DSN, in order.
fn password_spans(dsn: &str) -> Vec<(usize, usize)> {
    match dsn.find("://") {
        Some(scheme_end) => url_password_spans(dsn, scheme_end + 3),
        None if dsn.contains('=') => keyword_password_spans(dsn),
        None => Vec::new(),
    }
}

fn url_password_spans(dsn: &str, authority_start: usize) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let rest = &dsn[authority_start..];
    // The last '@' ends the user information even when an unencoded '@' sits in the password; if the
    // query holds an '@' this over-redacts, which is the safe direction.
    if let Some(at) = rest.rfind('@') {
        if let Some(colon) = rest[..at].find(':') {
            spans.push((authority_start + colon + 1, authority_start + at));
        }
    }
    let query_start = match spans.last() {
        Some(&(_, end)) => dsn[end..].find('?').map(|q| end + q),
        None => dsn[authority_start..].find('?').map(|q| authority_start + q),
    };
    if let Some(query_start) = query_start {
        let mut offset = query_start + 1;
        for pair in dsn[query_start + 1..].split('&') {
            if let Some((key, _)) = pair.split_once('=') {
                if key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("sslpassword") {
                    spans.push((offset + key.len() + 1, offset + pair.len()));
                }
            }
            offset += pair.len() + 1;
        }
    }
    spans
}

fn keyword_password_spans(dsn: &str) -> Vec<(usize, usize)> {
    let bytes = dsn.as_bytes();
    let mut spans = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        // A keyword: up to '=' (with optional spaces around it).
        while index < bytes.len() && bytes[index].is_ascii_whitespace() {
            index += 1;
        }
        let key_start = index;
        while index < bytes.len() && bytes[index] != b'=' && !bytes[index].is_ascii_whitespace() {
            index += 1;
        }
        // Compared as bytes: `index` only ever stops at ASCII here, but a stray non-ASCII word between
        // pairs must not become a slice boundary.
        let key = &bytes[key_start..index];
        while index < bytes.len() && bytes[index].is_ascii_whitespace() {
            index += 1;
        }
        if index >= bytes.len() || bytes[index] != b'=' {
            continue; // A word that is not a `key=value` pair: the key loop already moved past it.
        }
        index += 1;
        while index < bytes.len() && bytes[index].is_ascii_whitespace() {
            index += 1;
        }
        let value_start = index;
        if index < bytes.len() && bytes[index] == b'\'' {
            index += 1;
            while index < bytes.len() && bytes[index] != b'\'' {
                index += if bytes[index] == b'\\' { 2 } else { 1 };
            }
            index = (index + 1).min(bytes.len());
        } else {
            while index < bytes.len() && !bytes[index].is_ascii_whitespace() {
                index += 1;
            }
        }
        if key.eq_ignore_ascii_case(b"password") || key.eq_ignore_ascii_case(b"sslpassword") {
            spans.push((value_start, index));
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(redact_dsn("postgres://u:p%40ss@h:5432/db"), "postgres://u:xxxxx@h:5432/db");
        assert_eq!(dsn_password("postgres://u:p%40ss@h:5432/db").as_deref(), Some("p@ss"));
        // An unencoded '@' or '/' in the password is still covered.
        assert_eq!(redact_dsn("postgres://u:a@b/c@h/db"), "postgres://u:xxxxx@h/db");
        assert_eq!(redact_dsn("postgres://u@h/db?sslmode=disable"), "postgres://u@h/db?sslmode=disable");
        assert_eq!(
            redact_dsn("tcp://h:9000?username=u&password=secret&database=d"),
            "tcp://h:9000?username=u&password=xxxxx&database=d"
        );
        assert_eq!(dsn_password("tcp://h:9000?password=s%20t").as_deref(), Some("s t"));
        assert_eq!(redact_dsn("not a dsn"), "not a dsn");
    }

    #[test]
    fn keyword_values() {
        assert_eq!(redact_dsn("host=h password=secret user=u"), "host=h password=xxxxx user=u");
        assert_eq!(redact_dsn("password = 'a b\\' c' user=u"), "password = xxxxx user=u");
        assert_eq!(dsn_password("password='a b\\' c' user=u").as_deref(), Some("a b' c"));
        assert_eq!(redact_dsn("password="), "password=xxxxx");
        // A word that is not a pair, with non-ASCII in it, once made a slice land inside a character.
        assert_eq!(redact_dsn("host=h password=sécret x é"), "host=h password=xxxxx x é");
        assert_eq!(dsn_password("é password=sécret").as_deref(), Some("sécret"));
    }

    #[test]
    fn scrubbing() {
        let mut secrets = Secrets::default();
        secrets.add("p@ss word");
        secrets.add("abc"); // too short to scrub
        assert_eq!(secrets.scrub("x p@ss word y p%40ss%20word abc"), "x xxxxx y xxxxx abc");
        let mut secrets = Secrets::default();
        secrets.add_from_args(&["postgres://u:hunter22@h/db".to_owned(), "up".to_owned()]);
        assert_eq!(
            secrets.scrub("\"postgres://u:hunter22@h/db\": no such command"),
            "\"postgres://u:xxxxx@h/db\": no such command"
        );
    }
}
