//! The live line on a terminal: while a migration runs for more than a second, one line at the bottom
//! of stderr shows its name and elapsed time, redrawn in place and erased before any log line.

use std::io::Write;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a migration runs before the live line appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// How often the line is redrawn.
pub(crate) const TICK: Duration = Duration::from_millis(250);

/// The state of the live line, shared by the event callback and the ticker task.
#[derive(Debug, Default)]
pub(crate) struct Live {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    running: Option<(String, Instant)>,
    shown: bool,
}

impl Live {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state inconsistent: use it anyway.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A migration started.
    pub(crate) fn start(&self, name: &str) {
        self.state().running = Some((name.to_owned(), Instant::now()));
    }

    /// The migration finished or failed.
    #[allow(clippy::print_stderr)]
    pub(crate) fn stop(&self) {
        let mut state = self.state();
        state.running = None;
        if state.shown {
            let _ = std::io::stderr().lock().write_all(b"\r\x1b[2K");
            state.shown = false;
        }
    }

    /// Erases the line (before a log line is written to `out`).
    pub(crate) fn clear(&self, out: &mut impl Write) {
        let mut state = self.state();
        if state.shown {
            let _ = out.write_all(b"\r\x1b[2K");
            state.shown = false;
        }
    }

    /// Redraws the line if a migration has been running for long enough.
    #[allow(clippy::print_stderr)]
    pub(crate) fn tick(&self) {
        let mut state = self.state();
        let Some((name, started)) = &state.running else { return };
        let elapsed = started.elapsed();
        if elapsed < SHOW_AFTER {
            return;
        }
        let line = format!("\r\x1b[2K  running {name} ({}s)", elapsed.as_secs());
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(line.as_bytes()).and_then(|()| stderr.flush());
        state.shown = true;
    }
}
