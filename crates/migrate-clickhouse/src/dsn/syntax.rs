//! The lexical layer of ClickHouse DSN parsing: the URL splitting shared with the PostgreSQL driver in
//! `migrate_core::url_syntax`, read with clickhouse-go's rules (Go's `url.ParseQuery`: `+` in a query is
//! a space), and ports parsed to numbers. Nothing here echoes input text in an error, because any
//! fragment may be part of a password.

use migrate_core::url_syntax::{self, QueryRules, UrlParts};

use crate::dsn::DsnError;

pub(crate) use migrate_core::url_syntax::{format_go_duration, parse_go_duration, COMPONENT};

/// One entry of a URL host list: the decoded host (brackets removed) and the port.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UrlHost {
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
}

/// Splits what follows the scheme's `://` (see [`url_syntax::split_url`]).
pub(crate) fn split_url(rest: &str) -> Result<UrlParts<'_>, DsnError> {
    Ok(url_syntax::split_url(rest)?)
}

/// Splits a URL host list such as `h1:9000,[::1]:9000` into its entries, ports from 1 to 65535.
pub(crate) fn split_hosts(list: &str) -> Result<Vec<UrlHost>, DsnError> {
    url_syntax::split_hosts(list, 8123)?
        .into_iter()
        .map(|entry| {
            let port = match entry.port {
                None => None,
                Some(digits) => match digits.parse::<u16>() {
                    Ok(port) if port != 0 => Some(port),
                    _ => return Err(DsnError::Url(url_syntax::UrlSyntaxError::InvalidPort)),
                },
            };
            Ok(UrlHost { host: entry.host, port })
        })
        .collect()
}

/// Splits a URL query as Go's `url.ParseQuery` does for clickhouse-go.
pub(crate) fn split_query(query: &str) -> Result<Vec<(String, String)>, DsnError> {
    Ok(url_syntax::split_query(query, QueryRules::Go)?)
}

/// Percent-decodes one URL part strictly.
pub(crate) fn decode(text: &str, part: &'static str) -> Result<String, DsnError> {
    Ok(url_syntax::decode(text, part)?)
}
