//! Work a run does under the lock, once it knows it will change something and before its first
//! statement: the hook the pre-migration backup plugs into (the core takes no backups itself). An error
//! stops the run with nothing applied.

use async_trait::async_trait;

use crate::driver::BoxError;
use crate::Direction;

/// What a run is about to do, for a [`BeforeRun`] hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAbout {
    /// goose's current version, read under the lock.
    pub current_version: i64,
    /// How many migrations the run will apply or roll back.
    pub steps: usize,
    /// Whether it applies (up) or rolls back (down) first.
    pub direction: Direction,
}

/// Runs under the lock before the first statement of a run that changes something; never called when
/// nothing is to run. [`crate::RunOptions::before_run`] holds one.
#[async_trait]
pub trait BeforeRun: Send + Sync {
    /// What it is called in messages, e.g. `backup`.
    fn name(&self) -> &'static str;

    /// Does the work; an error stops the run before anything is applied.
    async fn before_run(&self, about: &RunAbout) -> Result<(), BoxError>;
}
