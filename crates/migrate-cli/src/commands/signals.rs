//! SIGTERM and SIGINT during a run (a Job's deadline, `kubectl delete`, Ctrl-C): the first asks the run
//! to stop at its next safe point and cancels a PostgreSQL transaction in flight, so it rolls back; the
//! run then releases the lock and reports what it applied (exit 4). A second signal exits at once.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use migrate::{Canceller, StopSignal};
use tokio::signal::unix::{signal, SignalKind};

use crate::output::Output;

/// Polls `work` to its end, handling the signals meanwhile. `in_transaction` says whether the migration
/// running now is inside a transaction (only that is cancelled: a NO TRANSACTION one runs to its end).
pub(crate) async fn until_done<T>(
    work: impl Future<Output = T>,
    stop: &StopSignal,
    canceller: Option<Arc<dyn Canceller>>,
    in_transaction: &AtomicBool,
    out: &Output,
) -> T {
    let (Ok(mut terminate), Ok(mut interrupt)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        // No signal handling here (no such facility): the default action stays.
        return work.await;
    };
    tokio::pin!(work);
    loop {
        let name = tokio::select! {
            done = &mut work => return done,
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        if stop.is_requested() {
            out.log(&format!("migrate: {name} again: exiting now, without waiting for the run to stop"));
            std::process::exit(if name == "SIGTERM" { 143 } else { 130 });
        }
        stop.request();
        let cancelling = in_transaction.load(Ordering::SeqCst) && canceller.is_some();
        out.log(&format!(
            "migrate: {name} received: stopping {}; the lock is then released",
            if cancelling {
                "now: the migration in flight is cancelled and rolled back"
            } else {
                "after the statement in flight"
            }
        ));
        if let (true, Some(canceller)) = (cancelling, &canceller) {
            // The run keeps waiting for its own connection meanwhile; the cancel makes that answer come.
            let cancel = canceller.cancel();
            tokio::pin!(cancel);
            let cancelled = tokio::select! {
                done = &mut work => return done,
                cancelled = &mut cancel => cancelled,
            };
            if let Err(error) = cancelled {
                out.log(&format!("migrate: could not cancel the migration in flight ({error}); it runs to its end"));
            }
        }
    }
}
