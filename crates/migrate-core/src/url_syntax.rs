//! The lexical layer both drivers' DSN parsers share: a hand-written URL splitter, strict
//! percent-decoding, URL building with correct percent-encoding, and Go's duration syntax (goose users
//! write `5s` and `1h13m` in DSNs and flags).
//!
//! The `url` crate is not used because it rejects forms goose's drivers accept (`user@/db?host=/sock`,
//! host lists `h1:5432,h2:5433`, an unencoded `#` in a password). Nothing here echoes input text in an
//! error, because any fragment may be part of a password.

use std::time::Duration;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// The characters percent-encoded in every URL part written: all but ASCII alphanumerics and `-._~`.
pub const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// [`COMPONENT`] without `:`, for IPv6 literals written inside brackets.
pub const IPV6_LITERAL: &AsciiSet = &COMPONENT.remove(b':');

/// A URL that does not split. The messages name the part, never its text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlSyntaxError {
    /// A `%` that does not start a `%XX` escape, or an escape that is not UTF-8.
    #[error("invalid percent-encoding in the {part} of the URL: every '%' must start a %XX escape of UTF-8 text")]
    PercentEncoding {
        /// The URL part.
        part: &'static str,
    },
    /// An `@` after the host: an unencoded `/` or `?` in the password moved it.
    #[error("the URL has an '@' after its host: percent-encode '@', '/' and '?' in the user name, password and database name")]
    MisplacedAt,
    /// A host-list entry that is not `host`, `host:port` or `[ipv6]:port`.
    #[error("invalid host in the URL: {reason}")]
    InvalidHost {
        /// What is wrong.
        reason: &'static str,
    },
    /// A port that is not made of digits.
    #[error("invalid port in the URL's host list: expected a number from 1 to 65535")]
    InvalidPort,
    /// A query segment without `=`, where the rules require one.
    #[error("query parameter {index} of the URL has no '='")]
    QueryWithoutEquals {
        /// Its 1-based position.
        index: usize,
    },
}

/// The parts of a URL after `scheme://`, still percent-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// Everything before the last `@` of the authority, if there is an `@`.
    pub userinfo: Option<&'a str>,
    /// The comma-separated host list, possibly empty.
    pub hosts: &'a str,
    /// The path without its leading `/`, if there is a path.
    pub path: Option<&'a str>,
    /// Everything after the first `?` that follows the authority.
    pub query: Option<&'a str>,
}

/// Splits what follows `scheme://` into userinfo, host list, path and query.
///
/// The authority ends at the first `/` or `?`, and the userinfo at the last `@` inside it, so an
/// unencoded `@`, `:` or `#` in a password is tolerated. An unencoded `/` or `?` in a password moves the
/// real `@` after the authority; that is detected and reported without echoing input.
pub fn split_url(rest: &str) -> Result<UrlParts<'_>, UrlSyntaxError> {
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // A path and query keys never contain '@' in practice; query values (after '=') may.
    let before_first_value = tail.split('=').next().unwrap_or_default();
    if before_first_value.contains('@') {
        return Err(UrlSyntaxError::MisplacedAt);
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

/// One entry of a URL host list: the decoded host (brackets removed) and the port's digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlHost<'a> {
    /// The host, percent-decoded.
    pub host: String,
    /// The port, checked to be ASCII digits (so an error about its range may show it).
    pub port: Option<&'a str>,
}

/// Splits a URL host list such as `h1:5432,[::1]:5433,%2Ftmp` into its entries; an empty list gives one
/// empty entry. `example_port` completes the IPv6 hint in the error message.
pub fn split_hosts(list: &str, example_port: u16) -> Result<Vec<UrlHost<'_>>, UrlSyntaxError> {
    list.split(',').map(|entry| split_host(entry, example_port)).collect()
}

fn split_host(entry: &str, example_port: u16) -> Result<UrlHost<'_>, UrlSyntaxError> {
    let (host, port) = if let Some(bracketed) = entry.strip_prefix('[') {
        let Some((literal, after)) = bracketed.split_once(']') else {
            return Err(UrlSyntaxError::InvalidHost { reason: "an IPv6 address has no closing ']'" });
        };
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => {
                    return Err(UrlSyntaxError::InvalidHost {
                        reason: "only ':port' may follow an IPv6 address in brackets",
                    })
                }
            },
        };
        if !literal.contains(':') {
            return Err(UrlSyntaxError::InvalidHost { reason: "brackets may only hold an IPv6 address" });
        }
        (literal, port)
    } else {
        match entry.split_once(':') {
            Some((_, port)) if port.contains(':') => {
                let reason = match example_port {
                    5432 => "an IPv6 address must be written in brackets, as in [::1]:5432",
                    8123 => "an IPv6 address must be written in brackets, as in [::1]:8123",
                    _ => "an IPv6 address must be written in brackets, as in [::1]:PORT",
                };
                return Err(UrlSyntaxError::InvalidHost { reason });
            }
            Some((host, port)) => (host, Some(port)),
            None => (entry, None),
        }
    };
    let port = port.filter(|port| !port.is_empty());
    if port.is_some_and(|port| !port.bytes().all(|b| b.is_ascii_digit())) {
        return Err(UrlSyntaxError::InvalidPort);
    }
    Ok(UrlHost { host: decode(host, "host")?, port })
}

/// How a query string is read: the two drivers' clients disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryRules {
    /// libpq: `+` is a plus sign, and a segment without `=` is an error.
    LibPq,
    /// Go's `url.ParseQuery` (clickhouse-go): `+` is a space, and a segment without `=` has an empty value.
    Go,
}

/// Splits a URL query into decoded `(key, value)` pairs; empty segments (`a=1&&b=2`) are skipped.
pub fn split_query(query: &str, rules: QueryRules) -> Result<Vec<(String, String)>, UrlSyntaxError> {
    let mut pairs = Vec::new();
    for (index, segment) in query.split('&').enumerate() {
        if segment.is_empty() {
            continue;
        }
        let (key, value) = match (segment.split_once('='), rules) {
            (Some(pair), _) => pair,
            (None, QueryRules::Go) => (segment, ""),
            (None, QueryRules::LibPq) => return Err(UrlSyntaxError::QueryWithoutEquals { index: index + 1 }),
        };
        let pair = match rules {
            QueryRules::LibPq => (decode(key, "query")?, decode(value, "query")?),
            QueryRules::Go => (decode(&key.replace('+', " "), "query")?, decode(&value.replace('+', " "), "query")?),
        };
        pairs.push(pair);
    }
    Ok(pairs)
}

/// Percent-decodes `text`, requiring every `%` to start a `%XX` escape and the result to be UTF-8.
/// `part` names the URL part for the error message.
pub fn decode(text: &str, part: &'static str) -> Result<String, UrlSyntaxError> {
    let escapes_ok = text.split('%').skip(1).all(|after_percent| {
        after_percent.as_bytes().get(..2).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_ok {
        return Err(UrlSyntaxError::PercentEncoding { part });
    }
    match percent_decode_str(text).decode_utf8() {
        Ok(decoded) => Ok(decoded.into_owned()),
        Err(_) => Err(UrlSyntaxError::PercentEncoding { part }),
    }
}

/// Appends `user[:password]@` to a URL being built, each part percent-encoded so any password survives
/// (`% / : @ # ?`, spaces, `+`, non-ASCII); nothing when there is neither a user nor a password.
pub fn push_userinfo(url: &mut String, user: &str, password: Option<&str>) {
    if user.is_empty() && password.is_none() {
        return;
    }
    url.extend(utf8_percent_encode(user, COMPONENT));
    if let Some(password) = password {
        url.push(':');
        url.extend(utf8_percent_encode(password, COMPONENT));
    }
    url.push('@');
}

/// Appends `host[:port]` to a URL being built: an IPv6 host in brackets (a zone's `%` encoded), any
/// other host percent-encoded.
pub fn push_host_port(url: &mut String, host: &str, port: Option<u16>) {
    if host.contains(':') {
        url.push('[');
        url.extend(utf8_percent_encode(host, IPV6_LITERAL));
        url.push(']');
    } else {
        url.extend(utf8_percent_encode(host, COMPONENT));
    }
    if let Some(port) = port {
        url.push(':');
        url.push_str(&port.to_string());
    }
}

/// Appends `?k=v&...` to a URL being built, each key and value percent-encoded.
pub fn push_query<'a>(url: &mut String, params: impl Iterator<Item = (&'a str, &'a str)>) {
    for (index, (key, value)) in params.enumerate() {
        url.push(if index == 0 { '?' } else { '&' });
        url.extend(utf8_percent_encode(key, COMPONENT));
        url.push('=');
        url.extend(utf8_percent_encode(value, COMPONENT));
    }
}

/// What a redacted password is shown as.
pub const REDACTED_PASSWORD: &str = "xxxxx";

/// The value to show for a connection parameter: [`REDACTED_PASSWORD`] for any key naming a password
/// (`password`, `sslpassword`, ...), the value itself otherwise.
pub fn redact_if_secret<'a>(key: &str, value: &'a str) -> &'a str {
    if key.contains("password") {
        REDACTED_PASSWORD
    } else {
        value
    }
}

/// Shows as `<redacted>` in `Debug` output, in place of a secret field.
pub struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Connection parameters in `Debug` output, password values redacted.
pub struct RedactedParams<'a>(pub &'a [(String, String)]);

impl std::fmt::Debug for RedactedParams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(key, value)| (key, redact_if_secret(key, value)))).finish()
    }
}

/// Parses a Go duration such as `5s`, `1m30s`, `1.5h`, `250ms` or `0`, as Go's `time.ParseDuration`
/// does, except that negative durations are rejected. Units: `ns`, `us` (or `µs`, `μs`), `ms`, `s`, `m`,
/// `h`. `None` on bad syntax or overflow.
///
/// ```
/// use migrate_core::url_syntax::parse_go_duration;
/// assert_eq!(parse_go_duration("1h13m").unwrap().as_secs(), 4380);
/// assert_eq!(parse_go_duration("1.5s").unwrap().as_millis(), 1500);
/// assert!(parse_go_duration("5x").is_none());
/// ```
pub fn parse_go_duration(text: &str) -> Option<Duration> {
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
    Some(Duration::from_nanos(u64::try_from(total_nanos).ok()?))
}

/// Formats a duration so that [`parse_go_duration`] reads it back exactly: `30s`, `250ms` or `1500ns`.
pub fn format_go_duration(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        return format!("{}s", duration.as_secs());
    }
    if duration.subsec_nanos().is_multiple_of(1_000_000) {
        return format!("{}ms", duration.as_millis());
    }
    format!("{}ns", duration.as_nanos())
}
