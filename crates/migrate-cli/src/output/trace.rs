//! The library's `tracing` events as goose log lines: a lock wait that names its holder, the cluster
//! guard's warnings, "only the first of several hosts is used". Events the runner also reports as
//! [`migrate::RunEvent`]s (which the commands print in goose's words) are left out, and so is everything
//! below `info` unless `-v` asks for `debug`. Only our own crates' events are shown: a driver library's
//! (sqlx's statement log, say) are not ours to print.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

use crate::output::{Output, Style};

/// Routes the library's events to `out` for the rest of the process (once; later calls do nothing).
pub(crate) fn install(out: &Output, verbose: bool) {
    let layer = LogLines { out: out.clone(), max_level: if verbose { Level::DEBUG } else { Level::INFO } };
    // Already installed (a second call in tests): the first one stays.
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer));
}

/// The layer: one log line per event.
struct LogLines {
    out: Output,
    max_level: Level,
}

impl<S: Subscriber> Layer<S> for LogLines {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        shown(metadata.target(), *metadata.level(), self.max_level)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let metadata = event.metadata();
        if !shown(metadata.target(), *metadata.level(), self.max_level) {
            return;
        }
        let mut line = LineBuilder::default();
        event.record(&mut line);
        let level = *metadata.level();
        let text = match level {
            Level::ERROR => self.out.paint(Style::Red, &format!("error: {}", line.text())),
            Level::WARN => self.out.paint(Style::Yellow, &format!("warning: {}", line.text())),
            Level::INFO => line.text(),
            _ => self.out.paint(Style::Grey, &line.text()),
        };
        let severity = match level {
            Level::ERROR => crate::output::Level::Error,
            Level::WARN => crate::output::Level::Warn,
            _ => crate::output::Level::Info,
        };
        self.out.log_at(severity, &text, &[]);
    }
}

/// Whether an event of `target` at `level` is printed.
fn shown(target: &str, level: Level, max_level: Level) -> bool {
    let ours = ["migrate", "migrate_core", "migrate_postgres", "migrate_clickhouse"].iter().any(|crate_name| {
        target.strip_prefix(crate_name).is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    });
    ours && target != migrate::RUN_EVENT_TARGET && level <= max_level
}

/// `message key=value key=value`, values as the event gave them.
#[derive(Default)]
struct LineBuilder {
    message: String,
    fields: String,
}

impl LineBuilder {
    fn text(&self) -> String {
        match (self.message.is_empty(), self.fields.is_empty()) {
            (_, true) => self.message.clone(),
            (true, false) => self.fields.clone(),
            (false, false) => format!("{} ({})", self.message, self.fields),
        }
    }
}

impl Visit for LineBuilder {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
            return;
        }
        if !self.fields.is_empty() {
            self.fields.push_str(", ");
        }
        let _ = write!(self.fields, "{}: {value:?}", field.name().replace('_', " "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_events_at_the_chosen_level() {
        assert!(shown("migrate_postgres::driver", Level::INFO, Level::INFO));
        assert!(shown("migrate_clickhouse::cluster::guard", Level::WARN, Level::INFO));
        assert!(!shown("migrate_postgres::driver", Level::DEBUG, Level::INFO));
        assert!(shown("migrate_postgres::driver", Level::DEBUG, Level::DEBUG));
        assert!(!shown("sqlx::query", Level::INFO, Level::DEBUG));
        assert!(!shown("migrate_other", Level::WARN, Level::INFO));
        assert!(!shown(migrate::RUN_EVENT_TARGET, Level::INFO, Level::INFO));
    }

    #[test]
    fn lines_read_as_sentences() {
        let line = LineBuilder {
            message: "waiting for the migration lock".to_owned(),
            fields: "holder: pid 7, waited: 5s".to_owned(),
        };
        assert_eq!(line.text(), "waiting for the migration lock (holder: pid 7, waited: 5s)");
    }
}
