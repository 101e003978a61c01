//! `wait`: for init containers, block until the database accepts connections and answers a query,
//! retrying with a short per-attempt bound until the timeout.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::commands::target;
use crate::drivers::{self, OpenOptions};
use crate::env::Env;
use crate::error::CliError;
use crate::modern_form::DEFAULT_WAIT;
use crate::output::{go_duration, Output};
use crate::settings::Settings;

/// The bound on one connection attempt.
const ATTEMPT: Duration = Duration::from_secs(5);
/// The pause between attempts.
const PAUSE: Duration = Duration::from_millis(500);
/// How often an unchanged error is logged again.
const REPEAT_LOG: Duration = Duration::from_secs(10);

pub(crate) async fn wait(settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    let (_, target) = target(settings, env, out)?;
    let timeout = settings.timeout.unwrap_or(DEFAULT_WAIT);
    let started = Instant::now();
    let shown = target.redacted();
    let mut last: Option<(String, Instant)> = None;
    loop {
        let remaining = timeout.saturating_sub(started.elapsed());
        let options = OpenOptions {
            table: &settings.table,
            lock_wait: None,
            connect_timeout: Some(remaining.min(ATTEMPT).max(Duration::from_millis(100))),
            cluster: settings.clickhouse_cluster.as_ref(),
            lock_timeout: None,
        };
        let attempt = async {
            let mut driver = drivers::open(&target, &options).await?;
            driver.list_applied().await.map_err(|error| CliError::failed(error.to_string()))?;
            Ok::<(), CliError>(())
        };
        let error = match attempt.await {
            Ok(()) => {
                out.log(&format!("migrate: {shown} accepts connections (waited {})", go_duration(started.elapsed())));
                return Ok(ExitCode::SUCCESS);
            }
            Err(error) => error.to_string(),
        };
        if started.elapsed() >= timeout {
            return Err(CliError::failed(format!(
                "gave up waiting for {shown} after {}: {error}; check the address and credentials, or raise --timeout",
                go_duration(timeout)
            )));
        }
        // Compared without digits: near the end each attempt's bound shrinks, and a timeout error quotes it.
        let key: String = error.chars().filter(|c| !c.is_ascii_digit()).collect();
        let repeat = last.as_ref().is_none_or(|(previous, at)| *previous != key || at.elapsed() >= REPEAT_LOG);
        if repeat {
            out.log(&format!("migrate: waiting for {shown}: {error}"));
            last = Some((key, Instant::now()));
        }
        tokio::time::sleep(PAUSE.min(timeout.saturating_sub(started.elapsed()))).await;
    }
}
