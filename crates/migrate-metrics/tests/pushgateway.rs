//! `push` against the real Pushgateway (scripts/tools/prometheus.sh up): types, values and the carried-forward
//! state across runs, odd label values, basic auth in the URL, and errors that name no password.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{delete_group, family, group, kind_value, pushgateway_url, require_ready, run, unique_service};
use migrate_metrics::{push, MetricsError, Previous, PreviousState};

const TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn runs_carry_the_failure_count_and_last_success_forward() {
    let url = pushgateway_url();
    require_ready("the Pushgateway", &url).await;
    let service = unique_service("sequence");

    // A good run: the counter at 0, the run's end as the last success.
    let report = push(&url, &run(&service, false, Some(5), 1_700_000_000), TIMEOUT).await.unwrap();
    assert_eq!(report.previous, PreviousState::Absent);
    assert_eq!(report.failures, 0);
    assert!(report.group_url.ends_with(&format!("/metrics/job/migrate/service/{service}")), "{report:?}");
    let g = group(&service).await.expect("the group after a push");
    assert_eq!(family(&g, "migration_failure_total").unwrap().0, "COUNTER");
    assert_eq!(family(&g, "migration_failure_total").unwrap().1, 0.0);
    let (kind, value, labels) = family(&g, "migration_version").unwrap();
    assert_eq!((kind.as_str(), value), ("GAUGE", 5.0));
    assert_eq!(labels["version"], "5");
    assert_eq!(labels["database"], "app");
    assert_eq!(labels["environment"], "test");
    assert_eq!(labels["service"], service.as_str());
    assert_eq!(kind_value(&g, "migration_duration_seconds"), ("GAUGE".to_owned(), 1.5));
    assert_eq!(family(&g, "migration_pending").unwrap().1, 0.0);
    assert_eq!(family(&g, "migration_last_success_timestamp_seconds").unwrap().1, 1_700_000_000.0);

    // A failed run: 1, the last success carried forward.
    let report = push(&url, &run(&service, true, Some(5), 1_700_000_100), TIMEOUT).await.unwrap();
    let found = Previous { failures: 0, last_success_seconds: Some(1_700_000_000.0) };
    assert_eq!(report.previous, PreviousState::Found(found));
    assert_eq!(report.failures, 1);
    let g = group(&service).await.unwrap();
    assert_eq!(kind_value(&g, "migration_failure_total"), ("COUNTER".to_owned(), 1.0));
    assert_eq!(family(&g, "migration_last_success_timestamp_seconds").unwrap().1, 1_700_000_000.0);
    assert_eq!(family(&g, "migration_pending").unwrap().1, 1.0);

    // A second failure that could not reach the database: 2, and no version or pending series.
    let report = push(&url, &run(&service, true, None, 1_700_000_200), TIMEOUT).await.unwrap();
    assert_eq!(report.failures, 2);
    let g = group(&service).await.unwrap();
    assert_eq!(family(&g, "migration_failure_total").unwrap().1, 2.0);
    assert_eq!(family(&g, "migration_last_success_timestamp_seconds").unwrap().1, 1_700_000_000.0);
    assert!(family(&g, "migration_version").is_none(), "{g}");
    assert!(family(&g, "migration_pending").is_none(), "{g}");

    // A good run again: back to 0, a new last success, the new version alone.
    let report = push(&url, &run(&service, false, Some(6), 1_700_000_300), TIMEOUT).await.unwrap();
    assert_eq!(report.previous.values(), Previous { failures: 2, last_success_seconds: Some(1_700_000_000.0) });
    let g = group(&service).await.unwrap();
    assert_eq!(kind_value(&g, "migration_failure_total"), ("COUNTER".to_owned(), 0.0));
    assert_eq!(family(&g, "migration_last_success_timestamp_seconds").unwrap().1, 1_700_000_300.0);
    let (_, value, labels) = family(&g, "migration_version").unwrap();
    assert_eq!((value, labels["version"].as_str()), (6.0, Some("6")));

    delete_group(&service).await;
}

#[tokio::test]
async fn odd_label_values_go_through_base64_and_escaping() {
    let url = pushgateway_url();
    require_ready("the Pushgateway", &url).await;
    let service = format!("team/{} \"quoted\" \\ x", unique_service("odd"));
    let mut metrics = run(&service, true, Some(3), 1_700_000_000);
    metrics.database = "db \"main\"\nsecond line".to_owned();

    push(&url, &metrics, TIMEOUT).await.unwrap();
    let report = push(&url, &metrics, TIMEOUT).await.unwrap();
    assert_eq!(report.failures, 2, "the second push read the first one's group back: {report:?}");
    let g = group(&service).await.expect("the group, its service label decoded");
    let (_, value, labels) = family(&g, "migration_failure_total").unwrap();
    assert_eq!(value, 2.0);
    assert_eq!(labels["database"], "db \"main\"\nsecond line");
    assert_eq!(labels["service"], service.as_str());

    let answer = common::http().delete(format!("{url}{}", &report.group_url[url.len()..])).send().await.unwrap();
    assert!(answer.status().is_success());
}

#[tokio::test]
async fn basic_auth_in_the_url_is_sent_and_never_shown() {
    // The second Pushgateway asks for user `migrate` and a password with `@`, `/` and `:` in it.
    let url = common::auth_pushgateway_url();
    let bare = common::without_userinfo(&url);
    require_ready_auth(&url).await;
    let service = unique_service("auth");

    let error = push(&bare, &run(&service, true, None, 1_700_000_000), TIMEOUT).await.unwrap_err();
    assert!(matches!(error, MetricsError::Status { status: 401, .. }), "without credentials: {error:?}");

    let wrong = url.replacen("%40", "%41", 1);
    let error = push(&wrong, &run(&service, true, None, 1_700_000_000), TIMEOUT).await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, MetricsError::Status { status: 401, .. }), "a wrong password: {error:?}");
    assert!(!text.contains("w0rd") && text.contains("migrate:***@"), "{text}");

    push(&url, &run(&service, true, None, 1_700_000_000), TIMEOUT).await.unwrap();
    let report = push(&url, &run(&service, true, None, 1_700_000_100), TIMEOUT).await.unwrap();
    // The second push read the first one back through the authenticated API.
    assert_eq!(report.previous, PreviousState::Found(Previous { failures: 1, last_success_seconds: None }));
    assert_eq!(report.failures, 2);
    assert!(!report.group_url.contains("w0rd") && report.group_url.contains("migrate:***@"), "{report:?}");

    // Clean up with the same credentials, through the API a person would use.
    let (user, password) = ("migrate", "p@ss/w0rd:test");
    let answer = common::http()
        .delete(format!("{bare}/metrics/job/migrate/service/{service}"))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{answer:?}");
}

async fn require_ready_auth(url: &str) {
    let bare = common::without_userinfo(url);
    let answer =
        common::http().get(format!("{bare}/-/ready")).basic_auth("migrate", Some("p@ss/w0rd:test")).send().await;
    match answer {
        Ok(answer) if answer.status().is_success() => {}
        other => panic!("the basic-auth Pushgateway at {bare} is not ready ({other:?}); {}", common::START_SERVERS),
    }
}

#[tokio::test]
async fn a_closed_port_fails_clearly_without_the_password() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://migrate:s3cr3t-pw@127.0.0.1:{port}/");
    let error = push(&url, &run("it-closed", true, None, 1_700_000_000), Duration::from_secs(3)).await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, MetricsError::Transport { .. }), "{error:?}");
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(!format!("{error:?}").contains("s3cr3t"), "{error:?}");
    assert!(
        text.contains(&format!("http://migrate:***@127.0.0.1:{port}/metrics/job/migrate/service/it-closed")),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connect"), "{text}");
}

#[tokio::test]
async fn an_error_status_names_the_status_and_the_body() {
    // Prometheus answers the Pushgateway's PUT with an error: a real server's error status and body.
    let prometheus = common::prometheus_url();
    require_ready("Prometheus", &prometheus).await;
    let url = prometheus.replacen("://", "://migrate:s3cr3t-pw@", 1);
    let error = push(&url, &run("it-status", true, None, 1_700_000_000), TIMEOUT).await.unwrap_err();
    let text = error.to_string();
    let MetricsError::Status { status, body, .. } = &error else { panic!("{error:?}") };
    assert!((400..500).contains(status), "{text}");
    assert!(!body.contains('\n'), "{text}");
    assert!(text.contains(&format!("HTTP {status}: ")), "{text}");
    assert!(!text.contains("s3cr3t") && text.contains("migrate:***@"), "{text}");
}
