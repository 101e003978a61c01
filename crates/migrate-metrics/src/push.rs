//! Pushing a run's series to a Prometheus Pushgateway: the group `job=migrate, service=NAME` is replaced
//! (`PUT`), after its previous values were read (`GET /api/v1/metrics`) so the failure count and the last
//! success carry forward.

use std::sync::Arc;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use serde_json::Value;
use url::Url;

use crate::error::MetricsError;
use crate::text::{as_count, render, CONTENT_TYPE, FAILURES, LAST_SUCCESS};
use crate::{Previous, RunMetrics};

/// The `job` label of migrate's group.
const JOB: &str = "migrate";

/// The longest part of an error answer's first line kept in a message.
const BODY_LINE_MAX: usize = 200;

/// What a successful [`push`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct PushReport {
    /// The group's URL the series were put to, password redacted.
    pub group_url: String,
    /// The group's previous values, or why there were none.
    pub previous: PreviousState,
    /// The `migration_failure_total` value pushed.
    pub failures: u64,
}

/// Where a push's previous values came from.
#[derive(Debug, Clone, PartialEq)]
pub enum PreviousState {
    /// The group existed; these are its values (the defaults for series it lacked).
    Found(Previous),
    /// The Pushgateway has no such group yet: the run started from zero.
    Absent,
    /// The Pushgateway's state could not be read or parsed: the run started from zero.
    Unavailable {
        /// Why, with the URL redacted.
        reason: String,
    },
}

impl PreviousState {
    /// The values the run carried forward: zero unless found.
    pub fn values(&self) -> Previous {
        match self {
            PreviousState::Found(previous) => *previous,
            PreviousState::Absent | PreviousState::Unavailable { .. } => Previous::default(),
        }
    }
}

/// Pushes the run's series to the Pushgateway at `url` (`http://host:9091`, or a path prefix it is served
/// under), replacing the group `job=migrate, service=<service>`. The group's previous failure count and
/// last success are read first, best-effort (see [`PreviousState`]). A user and password in the URL are sent
/// as basic authentication, and never appear in an error. `timeout` bounds each of the two requests.
pub async fn push(url: &str, metrics: &RunMetrics, timeout: Duration) -> Result<PushReport, MetricsError> {
    let target = Target::parse(url)?;
    let group_url = target.group_url(&metrics.service);
    let group_shown = target.redacted(&group_url);
    let http = client(timeout)?;

    let previous = read_previous(&http, &target, &metrics.service).await;
    let text = render(metrics, &previous.values());
    let failures = if metrics.failed { previous.values().failures.saturating_add(1) } else { 0 };

    let response = target
        .authorize(http.put(&group_url))
        .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
        .body(text)
        .send()
        .await
        .map_err(|e| MetricsError::Transport { url: group_shown.clone(), reason: describe(e, timeout) })?;
    let status = response.status();
    if !status.is_success() {
        // The body says why (an inconsistent type, a bad label); a failure to read it leaves the status.
        let body = response.text().await.unwrap_or_default();
        return Err(MetricsError::Status { url: group_shown, status: status.as_u16(), body: first_line(&body) });
    }
    Ok(PushReport { group_url: group_shown, previous, failures })
}

/// A Pushgateway base URL without its credentials, which are kept apart for basic authentication.
struct Target {
    /// The base URL, no credentials, no trailing `/`.
    base: String,
    /// The base URL as messages show it.
    shown: String,
    user: Option<(String, Option<String>)>,
}

impl Target {
    fn parse(raw: &str) -> Result<Target, MetricsError> {
        let invalid = |reason: &str| MetricsError::InvalidUrl { url: redact_raw(raw), reason: reason.to_owned() };
        let mut url = Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.cannot_be_a_base() || url.host().is_none() {
            return Err(invalid("no host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("a query or fragment has no meaning here; the groups are paths under the URL"));
        }
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let user = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            Some((decode(url.username()), url.password().map(decode)))
        };
        let mut shown_url = url.clone();
        if shown_url.password().is_some() {
            // Setting a password on an http(s) URL with a host cannot fail.
            let _ = shown_url.set_password(Some("***"));
        }
        // Both cannot fail on an http(s) URL with a host.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let base = url.as_str().trim_end_matches('/').to_owned();
        let shown = shown_url.as_str().trim_end_matches('/').to_owned();
        Ok(Target { base, shown, user })
    }

    /// `{base}/metrics/job/migrate/service/{service}`, the service in base64 when it is not plain.
    fn group_url(&self, service: &str) -> String {
        format!("{}/metrics/job/{JOB}/{}", self.base, label_segment("service", service))
    }

    /// `url` (one of ours, under the base) as messages show it.
    fn redacted(&self, url: &str) -> String {
        match url.strip_prefix(&self.base) {
            Some(rest) => format!("{}{rest}", self.shown),
            None => self.shown.clone(),
        }
    }

    fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.user {
            Some((user, password)) => request.basic_auth(user, password.as_deref()),
            None => request,
        }
    }
}

/// A grouping-key label as path segments: `name/value`, or `name@base64/...` for a value that is empty or
/// holds anything beyond plain characters (a `/` would split the path; the Pushgateway decodes base64url).
fn label_segment(name: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':'));
    if plain {
        format!("{name}/{value}")
    } else if value.is_empty() {
        // The Pushgateway's spelling of an empty value.
        format!("{name}@base64/=")
    } else {
        format!("{name}@base64/{}", base64url(value.as_bytes()))
    }
}

/// RFC 4648 base64url, with padding (the Pushgateway accepts both).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn client(timeout: Duration) -> Result<reqwest::Client, MetricsError> {
    // The ring provider handed to this client only: a library must not install a process-wide one, and
    // reqwest built without a provider would look for (and panic without) that global one.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| MetricsError::Client { reason: e.to_string() })?
        .with_root_certificates(rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() })
        .with_no_client_auth();
    reqwest::Client::builder()
        .connect_timeout(timeout)
        .timeout(timeout)
        .http1_only()
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| MetricsError::Client { reason: describe(e, timeout) })
}

/// The group's previous values from `GET {base}/api/v1/metrics`, best-effort.
async fn read_previous(http: &reqwest::Client, target: &Target, service: &str) -> PreviousState {
    let url = format!("{}/api/v1/metrics", target.base);
    let unavailable = |reason: String| PreviousState::Unavailable { reason };
    let response = match target.authorize(http.get(&url)).send().await {
        Ok(response) => response,
        Err(e) => return unavailable(format!("GET {}: {}", target.redacted(&url), describe(e, Duration::ZERO))),
    };
    let status = response.status();
    let body = match response.text().await {
        Ok(body) => body,
        Err(e) => return unavailable(format!("GET {}: {}", target.redacted(&url), describe(e, Duration::ZERO))),
    };
    if !status.is_success() {
        return unavailable(format!("GET {}: HTTP {}: {}", target.redacted(&url), status.as_u16(), first_line(&body)));
    }
    match previous_from_api(&body, service) {
        Ok(Some(previous)) => PreviousState::Found(previous),
        Ok(None) => PreviousState::Absent,
        Err(reason) => unavailable(format!("GET {}: {reason}", target.redacted(&url))),
    }
}

/// Finds the group `{job="migrate", service}` in the API's answer (`{"data": [{"labels": {...},
/// "migration_failure_total": {"metrics": [{"labels": {...}, "value": "1"}]}, ...}]}`).
fn previous_from_api(body: &str, service: &str) -> Result<Option<Previous>, String> {
    let json: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    let groups = json.get("data").and_then(Value::as_array).ok_or("no `data` list in the answer")?;
    let ours = groups.iter().find(|group| {
        group.get("labels").and_then(Value::as_object).is_some_and(|labels| {
            labels.len() == 2
                && labels.get("job").and_then(Value::as_str) == Some(JOB)
                && labels.get("service").and_then(Value::as_str) == Some(service)
        })
    });
    let Some(group) = ours else { return Ok(None) };
    let mut previous = Previous::default();
    if let Some(value) = sample_value(group, FAILURES, service) {
        previous.failures = as_count(value).ok_or_else(|| format!("{FAILURES} is {value}, not a count"))?;
    }
    previous.last_success_seconds = sample_value(group, LAST_SUCCESS, service).filter(|v| v.is_finite());
    Ok(Some(previous))
}

/// The value of the family's first sample labelled with `service`.
fn sample_value(group: &Value, family: &str, service: &str) -> Option<f64> {
    let samples = group.get(family)?.get("metrics")?.as_array()?;
    samples
        .iter()
        .find(|sample| sample.pointer("/labels/service").and_then(Value::as_str) == Some(service))?
        .get("value")?
        .as_str()?
        .parse()
        .ok()
}

/// The first non-blank line of an answer, shortened.
fn first_line(body: &str) -> String {
    let line = body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("(empty body)");
    match line.char_indices().nth(BODY_LINE_MAX) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_owned(),
    }
}

/// A client error and its causes on one line, without the URL (which could carry the password).
fn describe(error: reqwest::Error, timeout: Duration) -> String {
    let timed_out = error.is_timeout();
    let mut text = migrate_core::error_chain(&error.without_url());
    if timed_out && !timeout.is_zero() {
        text.push_str(&format!(" (timeout {timeout:?})"));
    }
    text
}

/// A URL that did not parse, with whatever stands between `://` and the last `@` before the path hidden.
fn redact_raw(raw: &str) -> String {
    let Some(scheme_end) = raw.find("://").map(|i| i + 3) else {
        // No authority we can see; the credentials could be anywhere, so show nothing past an `@`.
        return match raw.rfind('@') {
            Some(_) => "(a URL with credentials, redacted)".to_owned(),
            None => raw.to_owned(),
        };
    };
    let rest = &raw[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &raw[..scheme_end], &rest[at..]),
        None => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg==");
        assert_eq!(base64url(b"fo"), "Zm8=");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        // The URL-safe alphabet: `-` and `_` where standard base64 has `+` and `/`.
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8=");
    }

    #[test]
    fn label_segments() {
        assert_eq!(label_segment("service", "billing-api_2"), "service/billing-api_2");
        assert_eq!(label_segment("service", "team/billing"), "service@base64/dGVhbS9iaWxsaW5n");
        assert_eq!(label_segment("service", ""), "service@base64/=");
        assert_eq!(label_segment("service", "a b"), "service@base64/YSBi");
    }

    #[test]
    fn credentials_leave_the_url() {
        let target = Target::parse("https://migrate:p%40ss%2Fw0rd@push.example:9091/gw/").unwrap();
        assert_eq!(target.base, "https://push.example:9091/gw");
        assert_eq!(target.shown, "https://migrate:***@push.example:9091/gw");
        assert_eq!(target.user, Some(("migrate".to_owned(), Some("p@ss/w0rd".to_owned()))));
        let group = target.group_url("billing");
        assert_eq!(group, "https://push.example:9091/gw/metrics/job/migrate/service/billing");
        assert_eq!(
            target.redacted(&group),
            "https://migrate:***@push.example:9091/gw/metrics/job/migrate/service/billing"
        );
    }

    #[test]
    fn bad_urls_are_refused_redacted() {
        for raw in ["ftp://u:secret@host/", "http://u:secret@/x", "http://u:secret@host/?a=b", "u:secret@host"] {
            let error = Target::parse(raw).err().unwrap().to_string();
            assert!(!error.contains("secret"), "{error}");
        }
        assert_eq!(redact_raw("http://u:secret@ho st/p@th"), "http://***@ho st/p@th");
        assert_eq!(redact_raw("http://host/p@th"), "http://host/p@th");
    }

    #[test]
    fn previous_values_from_the_api() {
        let body = r#"{"status":"success","data":[
            {"labels":{"job":"migrate","service":"billing","extra":"x"},
             "migration_failure_total":{"type":"COUNTER","metrics":[{"labels":{"service":"billing"},"value":"9"}]}},
            {"labels":{"job":"migrate","service":"billing"},
             "migration_failure_total":{"type":"COUNTER","metrics":[{"labels":{"service":"billing","database":"app"},"value":"2"}]},
             "migration_last_success_timestamp_seconds":{"type":"GAUGE","metrics":[{"labels":{"service":"billing"},"value":"1.7963251278232532e+09"}]}}
        ]}"#;
        let previous = previous_from_api(body, "billing").unwrap().unwrap();
        assert_eq!(previous, Previous { failures: 2, last_success_seconds: Some(1_796_325_127.823_253_2) });
        assert_eq!(previous_from_api(body, "orders").unwrap(), None);
        assert!(previous_from_api("<html>", "billing").is_err());
        assert!(previous_from_api("{}", "billing").is_err());
    }

    #[test]
    fn first_lines() {
        assert_eq!(first_line("\n  push rejected: bad type\nmore"), "push rejected: bad type");
        assert_eq!(first_line(""), "(empty body)");
        assert_eq!(first_line(&"é".repeat(300)).chars().count(), BODY_LINE_MAX + 3);
    }
}
