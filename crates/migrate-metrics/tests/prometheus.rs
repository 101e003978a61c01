//! The shipped alert on real data: Prometheus (scripts/tools/prometheus.sh up) scrapes the Pushgateway every
//! second and evaluates deploy/prometheus/migrate-alerts.yml; `MigrationFailed` fires after a failed push
//! and clears after a good one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{delete_group, http, prometheus_url, pushgateway_url, require_ready, run, unique_service};
use migrate_metrics::push;
use serde_json::Value;

/// Scrape (1 s) plus evaluation (1 s) plus slack for a loaded machine.
const WAIT: Duration = Duration::from_secs(15);

/// The firing `MigrationFailed` alerts of `service`.
async fn firing(service: &str) -> Vec<Value> {
    let query = format!(r#"ALERTS{{alertname="MigrationFailed",alertstate="firing",service="{service}"}}"#);
    let answer: Value = http()
        .get(format!("{}/api/v1/query", prometheus_url()))
        .query(&[("query", query)])
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["status"], "success", "{answer}");
    answer["data"]["result"].as_array().unwrap().clone()
}

/// Polls until `firing(service)` is non-empty (`want`) or empty; returns the last answer and the wait.
async fn wait_for(service: &str, want: bool) -> (Vec<Value>, Duration) {
    let start = Instant::now();
    loop {
        let alerts = firing(service).await;
        if alerts.is_empty() != want || start.elapsed() > WAIT {
            return (alerts, start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn migration_failed_fires_after_a_failure_and_clears_after_a_success() {
    require_ready("the Pushgateway", &pushgateway_url()).await;
    require_ready("Prometheus", &prometheus_url()).await;
    let rules: Value =
        http().get(format!("{}/api/v1/rules", prometheus_url())).send().await.unwrap().json().await.unwrap();
    assert!(
        rules.to_string().contains("\"MigrationFailed\""),
        "Prometheus has not loaded deploy/prometheus/migrate-alerts.yml; {}: {rules}",
        common::START_SERVERS
    );
    let service = unique_service("alert");
    let timeout = Duration::from_secs(10);

    push(&pushgateway_url(), &run(&service, false, Some(1), 1_700_000_000), timeout).await.unwrap();
    push(&pushgateway_url(), &run(&service, true, Some(1), 1_700_000_100), timeout).await.unwrap();
    let (alerts, waited) = wait_for(&service, true).await;
    assert_eq!(alerts.len(), 1, "no firing MigrationFailed for {service} within {WAIT:?}: {alerts:?}");
    let labels = &alerts[0]["metric"];
    assert_eq!(labels["database"], "app", "{labels}");
    assert_eq!(labels["job"], "migrate", "honor_labels keeps the pushed job: {labels}");
    assert_eq!(labels["severity"], "critical", "{labels}");
    eprintln!("MigrationFailed fired {waited:?} after the failed push");

    push(&pushgateway_url(), &run(&service, false, Some(2), 1_700_000_200), timeout).await.unwrap();
    let (alerts, waited) = wait_for(&service, false).await;
    assert!(alerts.is_empty(), "MigrationFailed for {service} still firing {WAIT:?} after a good push: {alerts:?}");
    eprintln!("MigrationFailed cleared {waited:?} after the good push");

    delete_group(&service).await;
}
