//! Everything the CLI writes. goose's log lines go to stderr with Go's `log` prefix (local time
//! `YYYY/MM/DD HH:MM:SS `); documents (usage, `env`, JSON, the dry-run script, `validate -v`) go to
//! stdout. Colour is used only when stderr is a terminal and neither `-no-color` nor `NO_COLOR` says
//! otherwise; on a terminal a live line shows a migration that has been running for over a second.
//!
//! This module and its children are the only places that print, hence the local `allow`s.

pub(crate) mod json;
pub(crate) mod live;
pub(crate) mod tables;
pub(crate) mod trace;

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use crate::error::CliError;
use crate::redact::Secrets;

pub(crate) use crate::output::live::Live;

/// The colours the CLI uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `OK`.
    Green,
    /// `EMPTY`, warnings.
    Yellow,
    /// Errors.
    Red,
    /// Statements and transaction boundaries under `-v` (goose's grey).
    Grey,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Green => "\x1b[32m",
            Style::Yellow => "\x1b[33m",
            Style::Red => "\x1b[31m",
            Style::Grey => "\x1b[90m",
        }
    }
}

/// How serious a log line is: `--log-format json` writes it as `level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// Progress and results.
    Info,
    /// Something to look at; the command goes on.
    Warn,
    /// The command failed.
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Where and how to write.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    color: bool,
    live: Option<Arc<Live>>,
    secrets: Secrets,
    /// `--log-format json`: one JSON object per log line instead of goose's text.
    json_logs: bool,
    /// What a command learned on the way that the closing document reports (the backup taken).
    notes: Arc<std::sync::Mutex<Notes>>,
    /// `[service/environment] ` before every line of one target of `--all` (`target` in JSON logs).
    target: Option<Arc<str>>,
}

/// What the closing JSON document and the metrics report besides the command's own result.
#[derive(Debug, Clone, Default)]
pub(crate) struct Notes {
    /// The backup taken before the run, as its JSON report.
    pub(crate) backup: Option<serde_json::Value>,
    /// What a run did: the version before, after, and how many migrations ran.
    pub(crate) run: Option<(i64, Option<i64>, usize)>,
    /// The version and the number of pending migrations after the run, when they were read.
    pub(crate) state: Option<(i64, u64)>,
}

impl Output {
    /// Output for this process: colour and the live line only when stderr is a terminal.
    pub(crate) fn new(no_color: bool, secrets: Secrets) -> Output {
        let terminal = std::io::stderr().is_terminal();
        Output {
            color: terminal && !no_color,
            live: terminal.then(|| Arc::new(Live::default())),
            secrets,
            json_logs: false,
            notes: Arc::default(),
            target: None,
        }
    }

    /// The same output writing one JSON object per log line (no colour, no live line): for log collectors.
    pub(crate) fn with_json_logs(self, json_logs: bool) -> Output {
        if !json_logs {
            return self;
        }
        Output { color: false, live: None, json_logs, ..self }
    }

    /// Output that never colours and has no live line (tests, and before settings are known).
    pub(crate) fn plain(secrets: Secrets) -> Output {
        Output { color: false, live: None, secrets, json_logs: false, notes: Arc::default(), target: None }
    }

    /// `text` in `style` when colour is on.
    pub(crate) fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}\x1b[0m", style.code())
        } else {
            text.to_owned()
        }
    }

    /// The live line, when stderr is a terminal.
    pub(crate) fn live(&self) -> Option<Arc<Live>> {
        self.live.clone()
    }

    /// Writes one goose log line to stderr. Every line, like every document, is scrubbed of the known
    /// passwords: the types already redact them, this is the last line of defence.
    pub(crate) fn log(&self, line: &str) {
        self.log_at(Level::Info, line, &[]);
    }

    /// A warning line (`level: warn` in JSON logs).
    pub(crate) fn warn(&self, line: &str) {
        self.log_at(Level::Warn, line, &[]);
    }

    /// A log line with a level and, in JSON logs, these fields beside the message (`version`, `file`,
    /// `duration`, `error`...); text logs show the line alone.
    #[allow(clippy::print_stderr)] // The CLI's output is its job; goose logs to stderr.
    pub(crate) fn log_at(&self, level: Level, line: &str, fields: &[(&str, serde_json::Value)]) {
        if self.json_logs {
            let mut object = serde_json::Map::new();
            object
                .insert("time".into(), chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true).into());
            object.insert("level".into(), level.as_str().into());
            object.insert("message".into(), self.scrub(line).into_owned().into());
            if let Some(target) = &self.target {
                object.insert("target".into(), target.to_string().into());
            }
            for (key, value) in fields {
                let value = match value {
                    serde_json::Value::String(text) => self.scrub(text).into_owned().into(),
                    other => other.clone(),
                };
                object.insert((*key).to_owned(), value);
            }
            let mut text = serde_json::Value::Object(object).to_string();
            text.push('\n');
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            return;
        }
        let stamp = chrono::Local::now().format("%Y/%m/%d %H:%M:%S");
        let mut stderr = std::io::stderr().lock();
        if let Some(live) = &self.live {
            live.clear(&mut stderr);
        }
        // A failed write to stderr has nowhere to be reported.
        let target = self.target.as_deref().map(|t| format!("[{t}] ")).unwrap_or_default();
        let _ = writeln!(stderr, "{stamp} {target}{}", self.scrub(line));
    }

    /// Writes many log lines at once (the status table): one time stamp and one write, since stderr is
    /// unbuffered and a thousand migrations would otherwise take thousands of writes.
    #[allow(clippy::print_stderr)]
    pub(crate) fn log_lines(&self, lines: &[String]) {
        if self.json_logs {
            for line in lines {
                self.log(line);
            }
            return;
        }
        let stamp = chrono::Local::now().format("%Y/%m/%d %H:%M:%S").to_string();
        let mut text = String::with_capacity(lines.iter().map(|l| l.len() + stamp.len() + 2).sum());
        for line in lines {
            text.push_str(&stamp);
            text.push(' ');
            if let Some(target) = &self.target {
                text.push('[');
                text.push_str(target);
                text.push_str("] ");
            }
            text.push_str(&self.scrub(line));
            text.push('\n');
        }
        let mut stderr = std::io::stderr().lock();
        if let Some(live) = &self.live {
            live.clear(&mut stderr);
        }
        let _ = stderr.write_all(text.as_bytes());
    }

    /// Logs an error: one line per line of the message, scrubbed of known secrets.
    pub(crate) fn log_error(&self, prefix: &str, error: &CliError) {
        if self.json_logs {
            let text = error.to_string();
            let mut fields = vec![("error", serde_json::Value::from(text.clone()))];
            if let Some((file, line)) = error.location() {
                fields.push(("file", file.into()));
                if let Some(line) = line {
                    fields.push(("line", line.into()));
                }
            }
            let first = text.lines().next().unwrap_or_default();
            self.log_at(Level::Error, &format!("{prefix} {first}"), &fields);
            return;
        }
        for line in error.to_string().lines() {
            self.log(&format!("{} {line}", self.paint(Style::Red, prefix)));
        }
    }

    /// The output of one target of `--all`: its lines named, its own notes, no live line.
    pub(crate) fn for_target(&self, target: &str) -> Output {
        Output { live: None, notes: Arc::default(), target: Some(Arc::from(target)), ..self.clone() }
    }

    /// Notes what a run did, for `up --all`'s summary.
    pub(crate) fn note_run(&self, version_before: i64, version_after: Option<i64>, applied: usize) {
        if let Ok(mut notes) = self.notes.lock() {
            notes.run = Some((version_before, version_after, applied));
        }
    }

    /// Notes the backup taken, for the closing document.
    pub(crate) fn note_backup(&self, backup: serde_json::Value) {
        if let Ok(mut notes) = self.notes.lock() {
            notes.backup = Some(backup);
        }
    }

    /// Notes the database's state after the run, for the metrics.
    pub(crate) fn note_state(&self, version: i64, pending: u64) {
        if let Ok(mut notes) = self.notes.lock() {
            notes.state = Some((version, pending));
        }
    }

    /// What was noted so far.
    pub(crate) fn notes(&self) -> Notes {
        self.notes.lock().map(|notes| notes.clone()).unwrap_or_default()
    }

    /// The secrets this output scrubs.
    pub(crate) fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Removes known secrets from text that did not come from a redacting type.
    pub(crate) fn scrub<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        self.secrets.scrub(text)
    }

    /// Writes to stderr without the log prefix (usage text after an argument error).
    #[allow(clippy::print_stderr)]
    pub(crate) fn stderr(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(self.scrub(text).as_bytes());
    }

    /// Writes a document to stdout; a closed pipe ends the command quietly.
    pub(crate) fn stdout(&self, text: &str) -> Result<(), CliError> {
        let mut stdout = std::io::stdout().lock();
        let written = stdout.write_all(self.scrub(text).as_bytes()).and_then(|()| stdout.flush());
        match written {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(CliError::BrokenPipe),
            Err(error) => Err(CliError::failed(format!("writing to stdout failed: {error}"))),
        }
    }
}

/// A duration as goose prints it: Go's `Duration.String()` of the value rounded to 1/100 of its largest
/// unit (`1.23s`, `12.35ms`, `123.46µs`, `850ns`).
pub(crate) fn go_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    let (unit_nanos, unit) = match nanos {
        0..1_000 => return format!("{nanos}ns"),
        1_000..1_000_000 => (1_000u128, "µs"),
        1_000_000..1_000_000_000 => (1_000_000, "ms"),
        _ if nanos < 60_000_000_000 => (1_000_000_000, "s"),
        _ => {
            let hundredths = (nanos + 5_000_000) / 10_000_000;
            let hours = hundredths / 360_000;
            let minutes = (hundredths / 6000) % 60;
            let rest = hundredths % 6000;
            let seconds = trim_decimal(rest / 100, rest % 100);
            return if hours > 0 { format!("{hours}h{minutes}m{seconds}s") } else { format!("{minutes}m{seconds}s") };
        }
    };
    let hundredths = (nanos * 100 + unit_nanos / 2) / unit_nanos;
    format!("{}{unit}", trim_decimal(hundredths / 100, hundredths % 100))
}

fn trim_decimal(whole: u128, hundredths: u128) -> String {
    match hundredths {
        0 => whole.to_string(),
        h if h % 10 == 0 => format!("{whole}.{}", h / 10),
        h => format!("{whole}.{h:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let cases = [
            (Duration::from_nanos(850), "850ns"),
            (Duration::from_nanos(123_456), "123.46µs"),
            (Duration::from_nanos(12_345_678), "12.35ms"),
            (Duration::from_millis(1_234), "1.23s"),
            (Duration::from_millis(1_200), "1.2s"),
            (Duration::from_secs(2), "2s"),
            (Duration::from_millis(62_500), "1m2.5s"),
            (Duration::from_secs(4380), "1h13m0s"),
        ];
        for (duration, expected) in cases {
            assert_eq!(go_duration(duration), expected);
        }
    }

    #[test]
    fn paint_only_with_colour() {
        let plain = Output::plain(Secrets::default());
        assert_eq!(plain.paint(Style::Green, "OK"), "OK");
        let coloured = Output {
            color: true,
            live: None,
            secrets: Secrets::default(),
            json_logs: false,
            notes: Arc::default(),
            target: None,
        };
        assert_eq!(coloured.paint(Style::Green, "OK"), "\x1b[32mOK\x1b[0m");
    }
}
