//! Stopping a run at a safe point, asked from outside it (the CLI's SIGTERM handler, a service shutting
//! down): the runner starts no further migration, and stops a resumable one (whose progress it records
//! statement by statement) between statements. A transaction in flight is the driver's to cancel (the
//! PostgreSQL driver's canceller); it then rolls back and the run reports the stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A request to stop, shared between the run and whoever asks; cheap to clone.
///
/// ```
/// let stop = migrate_core::StopSignal::new();
/// let handle = stop.clone();
/// assert!(!stop.is_requested());
/// handle.request();
/// assert!(stop.is_requested());
/// ```
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    /// A signal nobody has raised yet.
    pub fn new() -> StopSignal {
        StopSignal::default()
    }

    /// Asks the run to stop at its next safe point.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
