//! The lexical layer of DSN parsing: a hand-written URL splitter, strict percent-decoding, and a
//! Go `time.ParseDuration` equivalent.
//!
//! The `url` crate is not used because it rejects host lists (`h1:9000,h2:9000`) and an unencoded
//! `#` in a password. Nothing here echoes input text in an error, because any fragment may be part
//! of a password.
//!
//! This mirrors `migrate-postgres`'s `dsn::syntax`; the two differ in query decoding (`+` is a
//! space here, as in clickhouse-go, and a plus sign in libpq).

use std::time::Duration;

use percent_encoding::{percent_decode_str, AsciiSet, NON_ALPHANUMERIC};

use crate::dsn::DsnError;

/// The characters percent-encoded in every URL part we write: all but ASCII alphanumerics and
/// `-`, `.`, `_`, `~`.
pub(crate) const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

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

/// One entry of a URL host list: the decoded host (brackets removed) and the port.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UrlHost {
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
}

/// Splits a URL host list such as `h1:9000,[::1]:9000` into its entries.
///
/// An empty list gives one empty entry.
pub(crate) fn split_hosts(list: &str) -> Result<Vec<UrlHost>, DsnError> {
    list.split(',').map(split_host).collect()
}

fn split_host(entry: &str) -> Result<UrlHost, DsnError> {
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
                    reason: "an IPv6 address must be written in brackets, as in [::1]:8123",
                })
            }
            Some((host, port)) => (host, Some(port)),
            None => (entry, None),
        }
    };
    let port = match port.filter(|port| !port.is_empty()) {
        None => None,
        Some(port) => {
            let is_number = port.bytes().all(|b| b.is_ascii_digit());
            match port.parse::<u16>() {
                Ok(port) if is_number && port != 0 => Some(port),
                _ => return Err(DsnError::InvalidUrlPort),
            }
        }
    };
    Ok(UrlHost { host: decode(host, "host")?, port })
}

/// Splits a URL query into decoded `(key, value)` pairs, as Go's `url.ParseQuery` does for
/// clickhouse-go: `+` is a space, and a segment without `=` has an empty value. Empty segments are
/// skipped.
pub(crate) fn split_query(query: &str) -> Result<Vec<(String, String)>, DsnError> {
    let mut pairs = Vec::new();
    for segment in query.split('&') {
        if segment.is_empty() {
            continue;
        }
        let (key, value) = segment.split_once('=').unwrap_or((segment, ""));
        let key = decode(&key.replace('+', " "), "query")?;
        let value = decode(&value.replace('+', " "), "query")?;
        pairs.push((key, value));
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

/// Parses a Go duration string such as `5s`, `1m30s`, `1.5h`, `250ms` or `0`, as Go's
/// `time.ParseDuration` does, except that negative durations are rejected.
///
/// Units are `ns`, `us` (or `µs`, `μs`), `ms`, `s`, `m` and `h`. Returns `None` on bad syntax or
/// overflow.
pub(crate) fn parse_go_duration(text: &str) -> Option<Duration> {
    let text = text.strip_prefix('+').unwrap_or(text);
    if text == "0" {
        return Some(Duration::ZERO);
    }
    if text.is_empty() {
        return None;
    }
    let mut rest = text;
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_digits, after_int) = rest.split_at(int_len);
        let (frac_digits, after_number) = match after_int.strip_prefix('.') {
            Some(after_dot) => {
                let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
                after_dot.split_at(frac_len)
            }
            None => ("", after_int),
        };
        if int_digits.is_empty() && frac_digits.is_empty() {
            return None;
        }
        let unit_len = after_number.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(after_number.len());
        let (unit, next) = after_number.split_at(unit_len);
        let nanos_per_unit: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let int: u128 = if int_digits.is_empty() { 0 } else { int_digits.parse().ok()? };
        total_nanos = total_nanos.checked_add(int.checked_mul(nanos_per_unit)?)?;
        // Digits past the 18th cannot change the result by a nanosecond.
        let frac_digits = frac_digits.get(..18).unwrap_or(frac_digits);
        if !frac_digits.is_empty() {
            let frac: u128 = frac_digits.parse().ok()?;
            let scale = 10u128.pow(u32::try_from(frac_digits.len()).ok()?);
            total_nanos = total_nanos.checked_add(frac * nanos_per_unit / scale)?;
        }
        rest = next;
    }
    let nanos = u64::try_from(total_nanos).ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Formats a duration so that [`parse_go_duration`] reads it back exactly: `30s`, `250ms` or
/// `1500ns`.
pub(crate) fn format_go_duration(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        return format!("{}s", duration.as_secs());
    }
    if duration.subsec_nanos().is_multiple_of(1_000_000) {
        return format!("{}ms", duration.as_millis());
    }
    format!("{}ns", duration.as_nanos())
}
