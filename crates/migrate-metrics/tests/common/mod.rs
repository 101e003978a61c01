//! What the server tests share: where the Pushgateway and Prometheus are (failing loudly when they do not
//! answer), a plain HTTP client, unique service names and runs to push.
#![allow(dead_code)] // each test file uses its own part
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use migrate_metrics::RunMetrics;
use serde_json::Value;

pub(crate) const START_SERVERS: &str = "run `scripts/tools/prometheus.sh up` (as root: it installs and starts them)";

#[allow(clippy::disallowed_methods)] // Tests read their servers from the environment.
pub(crate) fn pushgateway_url() -> String {
    std::env::var("MIGRATE_TEST_PUSHGATEWAY_URL").unwrap_or_else(|_| "http://127.0.0.1:9091".to_owned())
}

#[allow(clippy::disallowed_methods)] // Tests read their servers from the environment.
pub(crate) fn prometheus_url() -> String {
    std::env::var("MIGRATE_TEST_PROMETHEUS_URL").unwrap_or_else(|_| "http://127.0.0.1:9090".to_owned())
}

pub(crate) fn http() -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() })
        .with_no_client_auth();
    reqwest::Client::builder().timeout(Duration::from_secs(10)).tls_backend_preconfigured(tls).build().unwrap()
}

/// Panics with how to start the servers unless `{url}/-/ready` answers 200.
pub(crate) async fn require_ready(what: &str, url: &str) {
    match http().get(format!("{url}/-/ready")).send().await {
        Ok(answer) if answer.status().is_success() => {}
        Ok(answer) => panic!("{what} at {url} is not ready (HTTP {}); {START_SERVERS}", answer.status()),
        Err(e) => panic!("{what} at {url} does not answer ({e}); {START_SERVERS}"),
    }
}

/// A service name no other test or earlier run uses (the Pushgateway keeps groups across runs).
pub(crate) fn unique_service(test: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("it-{test}-{}-{nanos}", std::process::id())
}

pub(crate) fn run(service: &str, failed: bool, version: Option<i64>, finished_secs: u64) -> RunMetrics {
    RunMetrics {
        service: service.to_owned(),
        database: "app".to_owned(),
        environment: Some("test".to_owned()),
        duration: Duration::from_millis(1500),
        failed,
        version,
        pending: version.map(|_| u64::from(failed)),
        finished_at: UNIX_EPOCH + Duration::from_secs(finished_secs),
    }
}

/// The Pushgateway's group `job=migrate, service`, as its API shows it; `None` when it has none.
pub(crate) async fn group(service: &str) -> Option<Value> {
    let url = format!("{}/api/v1/metrics", pushgateway_url());
    let json: Value = http().get(url).send().await.unwrap().error_for_status().unwrap().json().await.unwrap();
    json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["labels"]["job"] == "migrate" && g["labels"]["service"] == service)
        .cloned()
}

/// The family's type and the value of its only sample, with that sample's labels; `None` when absent.
pub(crate) fn family(group: &Value, name: &str) -> Option<(String, f64, Value)> {
    let family = group.get(name)?;
    let samples = family["metrics"].as_array().unwrap();
    assert_eq!(samples.len(), 1, "{name}: {samples:?}");
    let value = samples[0]["value"].as_str().unwrap().parse().unwrap();
    Some((family["type"].as_str().unwrap().to_owned(), value, samples[0]["labels"].clone()))
}

pub(crate) async fn delete_group(service: &str) {
    // Only plain names here, so no base64 segment is needed.
    let url = format!("{}/metrics/job/migrate/service/{service}", pushgateway_url());
    http().delete(url).send().await.unwrap().error_for_status().unwrap();
}

/// The family's type and value (see [`family`]); panics when it is absent.
pub(crate) fn kind_value(group: &Value, name: &str) -> (String, f64) {
    let (kind, value, _) = family(group, name).unwrap_or_else(|| panic!("no {name} in {group}"));
    (kind, value)
}

/// The Pushgateway that asks for basic auth, credentials in the URL (scripts/tools/prometheus.sh's test
/// user; `p@ss/w0rd:test` percent-encoded).
#[allow(clippy::disallowed_methods)] // Tests read their servers from the environment.
pub(crate) fn auth_pushgateway_url() -> String {
    std::env::var("MIGRATE_TEST_PUSHGATEWAY_AUTH_URL")
        .unwrap_or_else(|_| "http://migrate:p%40ss%2Fw0rd%3Atest@127.0.0.1:9092".to_owned())
}

/// `url` without its `user:password@`.
pub(crate) fn without_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}{}", &url[..scheme + 3], &url[at + 1..]),
        _ => url.to_owned(),
    }
}
