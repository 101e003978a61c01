//! Quorum inserts: an insert that answers only once every replica has the row, used for the lock's claims
//! and renewals (see the `lock` module for why).
//!
//! 18.16 lets one quorum insert into a table be in flight at a time: a second one fails at once with
//! code 286 ("Another quorum insert has been already started", "Quorum for previous write has not been
//! satisfied yet") and writes nothing, so it is retried after a short jittered pause. Code 285 (fewer live
//! replicas than the quorum) also writes nothing and is retried in case a replica is just restarting;
//! both give up when the caller's time is up.

use std::time::{Duration, Instant};

use crate::error::{code, ChError};
use crate::http::Bookkeeping;

/// The longest pause between retries.
const MAX_PAUSE: Duration = Duration::from_millis(100);

/// Inserts with `insert_quorum` = every replica of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quorum {
    replicas: u64,
}

impl Quorum {
    /// A quorum of `replicas` (at least 1).
    pub(crate) fn new(replicas: u64) -> Quorum {
        Quorum { replicas: replicas.max(1) }
    }

    /// Runs an insert with the quorum, retrying while another quorum insert is in flight or a replica is
    /// not live, for at most `within` (and at least once).
    pub(crate) async fn insert(&self, bk: &Bookkeeping, sql: &str, within: Duration) -> Result<(), ChError> {
        let started = Instant::now();
        let replicas = self.replicas.to_string();
        // The server's own wait for the replicas to confirm, in milliseconds.
        let timeout_ms = within.as_millis().clamp(1000, 600_000).to_string();
        let settings = [("insert_quorum", replicas.as_str()), ("insert_quorum_timeout", timeout_ms.as_str())];
        let mut pause = Duration::from_millis(5);
        loop {
            match bk.execute_with(sql, &settings, None).await {
                Ok(_) => return Ok(()),
                Err(error) if retryable(&error) && started.elapsed() + pause < within => {
                    tracing::trace!(error = %error, "quorum insert: retrying");
                    tokio::time::sleep(crate::lock::jitter(pause)).await;
                    pause = (pause * 2).min(MAX_PAUSE);
                }
                Err(error) => return Err(error),
            }
        }
    }
}

fn retryable(error: &ChError) -> bool {
    matches!(error.code(), Some(code::UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE | code::TOO_FEW_LIVE_REPLICAS))
}
