//! The `--json` documents: serialize-only structs converted from the library's types at the edge, so
//! no core type derives `Serialize`. Every `--json` invocation prints exactly one document, on one line,
//! on stdout; goose's log lines still go to stderr. Durations are numbers of milliseconds (fractional).
//!
//! # The documents
//!
//! Every document has `"command"` (the command's name as typed) and `"ok"` (whether it succeeded; when
//! `false`, the exit code is 1).
//!
//! **A run** (`up`, `up-by-one`, `up-to`, `down`, `down-to`, `redo`, `reset`):
//!
//! ```json
//! {"command":"up","ok":true,"dry_run":false,"version_before":2,"version_after":5,
//!  "migrations":[{"version":3,"name":"00003_x.sql","direction":"up","duration_ms":1.84,"empty":false}],
//!  "failed":null,"error":null}
//! ```
//!
//! `migrations` lists what completed, in order (on failure: what completed before it, which stays
//! applied). `failed` is `{"version","name","direction"}` of the migration that failed, or `null`.
//! `version_after` is `null` under `--no-versioning` or when the table could not be read afterwards.
//!
//! **A dry run** (the same commands with `--dry-run`): what would run, nothing changed:
//!
//! ```json
//! {"command":"up","ok":true,"dry_run":true,"version_before":2,"version_table_exists":true,
//!  "steps":[{"version":3,"name":"00003_x.sql","path":"migrations/00003_x.sql","direction":"up",
//!            "transaction":true,"statements":[{"line":2,"sql":"ALTER TABLE ..."}],
//!            "version_row":"INSERT INTO \"goose_db_version\" (version_id, is_applied) VALUES (3, true)"}]}
//! ```
//!
//! `transaction` says whether the step runs inside BEGIN/COMMIT (its statements and its `version_row`
//! together); `version_row` is `null` under `--no-versioning`.
//!
//! **`status`**:
//!
//! ```json
//! {"command":"status","ok":true,"current_version":2,"pending":1,
//!  "migrations":[{"version":1,"name":"00001_x.sql","path":"migrations/00001_x.sql","state":"applied",
//!                 "applied_at":"2024-02-03T12:30:05","partial":null}]}
//! ```
//!
//! `state` is `applied`, `pending`, `partial` (a NO TRANSACTION migration that stopped midway;
//! `partial` is then `{"direction","done","total"}`) or `no_versioning`. `applied_at` is the version
//! table's timestamp as the server wrote it (no time zone), or `null`. A version applied in the database
//! whose file is missing has `name` and `path` `null`. `pending` counts `pending` and `partial` rows;
//! `current_version` is `null` under `--no-versioning`.
//!
//! **`version`**: `{"command":"version","ok":true,"version":5,"no_versioning":false}`.
//!
//! **`validate`**:
//!
//! ```json
//! {"command":"validate","ok":true,
//!  "files":[{"path":"migrations/00001_x.sql","name":"00001_x.sql","version":1,"transaction":true,
//!            "up":[{"line":2,"sql":"CREATE TABLE ..."}],"down":[{"line":5,"sql":"DROP TABLE ..."}],
//!            "warnings":[]}],
//!  "errors":[]}
//! ```
//!
//! Statements are exactly what would be sent, ENVSUB applied from the environment. `errors` holds every
//! problem found (`{"message","file","line"}`, `line` may be `null`); a file with an error is not listed
//! in `files`. `warnings` are `{"line","message"}`.
//!
//! **Any other failure** (bad DSN, unreachable server, timeout): `{"command":"up","ok":false,
//! "error":{"message":"...","file":null,"line":null}}`.

use std::time::Duration;

use serde::Serialize;

use migrate::{
    Direction, Migration, MigrationResult, ParseWarning, ParsedMigration, PlanStep, Statement, StatusEntry, StatusState,
};

use crate::error::CliError;
use crate::output::Output;
use crate::redact::Secrets;

/// A statement and the line of its file where it starts.
#[derive(Debug, Serialize)]
pub(crate) struct StatementDoc<'a> {
    pub(crate) line: usize,
    pub(crate) sql: &'a str,
}

impl<'a> StatementDoc<'a> {
    pub(crate) fn list(statements: &'a [Statement<'a>]) -> Vec<StatementDoc<'a>> {
        statements.iter().map(|s| StatementDoc { line: s.line(), sql: s.text() }).collect()
    }
}

/// An error.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorDoc {
    pub(crate) message: String,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<usize>,
}

/// One migration that ran.
#[derive(Debug, Serialize)]
pub(crate) struct MigrationDoc {
    version: i64,
    name: String,
    direction: &'static str,
    duration_ms: f64,
    empty: bool,
}

impl From<&MigrationResult> for MigrationDoc {
    fn from(result: &MigrationResult) -> MigrationDoc {
        MigrationDoc {
            version: result.version.get(),
            name: result.name.clone(),
            direction: result.direction.as_str(),
            duration_ms: millis(result.duration),
            empty: result.empty,
        }
    }
}

/// The migration a run failed in.
#[derive(Debug, Serialize)]
pub(crate) struct FailedDoc {
    pub(crate) version: i64,
    pub(crate) name: String,
    pub(crate) direction: &'static str,
}

/// A run.
#[derive(Debug, Serialize)]
pub(crate) struct RunDoc {
    pub(crate) command: &'static str,
    pub(crate) ok: bool,
    pub(crate) dry_run: bool,
    pub(crate) version_before: Option<i64>,
    pub(crate) version_after: Option<i64>,
    pub(crate) migrations: Vec<MigrationDoc>,
    pub(crate) failed: Option<FailedDoc>,
    pub(crate) error: Option<ErrorDoc>,
    /// The backup taken before the run, when its environment asks for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) backup: Option<serde_json::Value>,
}

/// A dry run.
#[derive(Debug, Serialize)]
pub(crate) struct PlanDoc<'a> {
    pub(crate) command: &'static str,
    pub(crate) ok: bool,
    pub(crate) dry_run: bool,
    pub(crate) version_before: i64,
    pub(crate) version_table_exists: bool,
    pub(crate) steps: Vec<StepDoc<'a>>,
}

/// One step of a dry run.
#[derive(Debug, Serialize)]
pub(crate) struct StepDoc<'a> {
    version: i64,
    name: &'a str,
    path: &'a str,
    direction: &'static str,
    transaction: bool,
    statements: Vec<StatementDoc<'a>>,
    version_row: Option<String>,
}

impl<'a> StepDoc<'a> {
    /// `transaction` is whether the step really runs in one (the driver may not have transactions).
    pub(crate) fn new(step: &'a PlanStep<'a>, transaction: bool, version_row: Option<String>) -> StepDoc<'a> {
        StepDoc {
            version: step.version().get(),
            name: step.migration.name(),
            path: step.migration.path(),
            direction: step.direction.as_str(),
            transaction,
            statements: StatementDoc::list(step.statements()),
            version_row,
        }
    }
}

/// `status`.
#[derive(Debug, Serialize)]
pub(crate) struct StatusDoc<'a> {
    pub(crate) command: &'static str,
    pub(crate) ok: bool,
    pub(crate) current_version: Option<i64>,
    pub(crate) pending: usize,
    pub(crate) migrations: Vec<StatusEntryDoc<'a>>,
}

/// One line of `status`.
#[derive(Debug, Serialize)]
pub(crate) struct StatusEntryDoc<'a> {
    version: i64,
    name: Option<&'a str>,
    path: Option<&'a str>,
    state: &'static str,
    applied_at: Option<String>,
    partial: Option<PartialDoc>,
    /// For an applied migration with a file, when checksums are kept: `ok`, `changed` (its Up section),
    /// `down_changed` or `none` (no checksum recorded yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    checksum: Option<&'static str>,
}

/// How far a partial migration got.
#[derive(Debug, Serialize)]
pub(crate) struct PartialDoc {
    direction: &'static str,
    done: usize,
    total: usize,
}

impl<'a> StatusDoc<'a> {
    /// The document for these entries.
    pub(crate) fn new(
        entries: &[StatusEntry<'a>],
        current_version: Option<i64>,
        checksums: &ChecksumStates,
    ) -> StatusDoc<'a> {
        let migrations: Vec<StatusEntryDoc<'a>> = entries
            .iter()
            .map(|entry| StatusEntryDoc { checksum: checksums.state(entry.version), ..StatusEntryDoc::from(entry) })
            .collect();
        let pending = migrations.iter().filter(|m| matches!(m.state, "pending" | "partial")).count();
        StatusDoc { command: "status", ok: true, current_version, pending, migrations }
    }
}

impl<'a> From<&StatusEntry<'a>> for StatusEntryDoc<'a> {
    fn from(entry: &StatusEntry<'a>) -> StatusEntryDoc<'a> {
        let (state, applied_at, partial) = match entry.state {
            StatusState::Applied(at) => ("applied", at.map(|at| at.format("%Y-%m-%dT%H:%M:%S").to_string()), None),
            StatusState::Pending => ("pending", None, None),
            StatusState::NoVersioning => ("no_versioning", None, None),
            StatusState::Partial { direction: d, done, total } => {
                ("partial", None, Some(PartialDoc { direction: d.as_str(), done, total }))
            }
        };
        StatusEntryDoc {
            version: entry.version,
            name: entry.migration.map(|m| m.name()),
            path: entry.migration.map(|m| m.path()),
            state,
            applied_at,
            partial,
            checksum: None,
        }
    }
}

/// The checksum state of each applied migration, for `status` (empty when not read).
#[derive(Debug, Default)]
pub(crate) struct ChecksumStates(std::collections::BTreeMap<i64, &'static str>);

impl ChecksumStates {
    /// From the history check over the applied migrations that have files.
    pub(crate) fn new(
        migrations: &[migrate::Migration],
        rows: &[migrate::AppliedRow],
        check: &migrate::HistoryCheck,
    ) -> ChecksumStates {
        let applied: std::collections::BTreeSet<i64> =
            rows.iter().filter(|r| r.is_applied && r.version > 0).map(|r| r.version).collect();
        let mut states: std::collections::BTreeMap<i64, &'static str> =
            migrations.iter().map(|m| m.version().get()).filter(|v| applied.contains(v)).map(|v| (v, "ok")).collect();
        for row in &check.unrecorded {
            states.insert(row.version.get(), "none");
        }
        for changed in check.changed.iter().rev() {
            let state = if changed.direction == migrate::Direction::Up { "changed" } else { "down_changed" };
            states.insert(changed.version.get(), state);
        }
        ChecksumStates(states)
    }

    /// The state of `version`, if it has one.
    pub(crate) fn state(&self, version: i64) -> Option<&'static str> {
        self.0.get(&version).copied()
    }
}

/// `version`.
#[derive(Debug, Serialize)]
pub(crate) struct VersionDoc {
    pub(crate) command: &'static str,
    pub(crate) ok: bool,
    pub(crate) version: i64,
    pub(crate) no_versioning: bool,
}

/// `repair`'s JSON document.
#[derive(Debug, Serialize)]
pub(crate) struct RepairDoc {
    pub(crate) command: &'static str,
    pub(crate) ok: bool,
    pub(crate) dry_run: bool,
    /// Versions whose checksums were (or would be) recorded.
    pub(crate) recorded: Vec<i64>,
    /// Versions whose checksums were (or would be) forgotten.
    pub(crate) removed: Vec<i64>,
}

/// `baseline`, `mark-applied`, `mark-rolled-back`.
#[derive(Debug, Serialize)]
pub(crate) struct MarkDoc {
    pub(crate) command: &'static str,
    pub(crate) ok: bool,
    pub(crate) dry_run: bool,
    /// Versions recorded as applied.
    pub(crate) applied: Vec<i64>,
    /// Versions recorded as rolled back.
    pub(crate) rolled_back: Vec<i64>,
}

/// `verify`: `ok` when nothing was found.
#[derive(Debug, Serialize)]
pub(crate) struct VerifyDoc {
    pub(crate) command: &'static str,
    pub(crate) ok: bool,
    /// Applied migrations whose files were checked against their checksums (0 when none are kept).
    pub(crate) checked: usize,
    pub(crate) findings: Vec<FindingDoc>,
}

/// One finding of `verify`.
#[derive(Debug, Serialize)]
pub(crate) struct FindingDoc {
    pub(crate) kind: &'static str,
    pub(crate) version: i64,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<usize>,
    pub(crate) message: String,
}

impl From<&migrate::Finding> for FindingDoc {
    fn from(finding: &migrate::Finding) -> FindingDoc {
        let (file, line) = match finding {
            migrate::Finding::Changed(changed) => (Some(changed.file.clone()), changed.statement.map(|(_, l)| l)),
            migrate::Finding::OutOfOrder { file, .. } | migrate::Finding::Unrecorded { file, .. } => {
                (Some(file.clone()), None)
            }
            migrate::Finding::Partial { file, .. } => (file.clone(), None),
            _ => (None, None),
        };
        FindingDoc { kind: finding.kind(), version: finding.version().get(), file, line, message: finding.to_string() }
    }
}

/// `validate`.
#[derive(Debug, Serialize)]
pub(crate) struct ValidateDoc<'a> {
    pub(crate) command: &'static str,
    pub(crate) ok: bool,
    pub(crate) files: Vec<FileDoc<'a>>,
    pub(crate) errors: Vec<ErrorDoc>,
}

/// One valid file.
#[derive(Debug, Serialize)]
pub(crate) struct FileDoc<'a> {
    pub(crate) path: &'a str,
    pub(crate) name: &'a str,
    pub(crate) version: i64,
    pub(crate) transaction: bool,
    pub(crate) up: Vec<StatementDoc<'a>>,
    pub(crate) down: Vec<StatementDoc<'a>>,
    pub(crate) warnings: Vec<WarningDoc>,
}

impl<'a> FileDoc<'a> {
    /// A migration file and its parse.
    pub(crate) fn new(migration: &'a Migration, parsed: &'a ParsedMigration<'a>) -> FileDoc<'a> {
        FileDoc {
            path: migration.path(),
            name: migration.name(),
            version: migration.version().get(),
            transaction: !parsed.no_transaction(),
            up: StatementDoc::list(parsed.statements(Direction::Up)),
            down: StatementDoc::list(parsed.statements(Direction::Down)),
            warnings: parsed.warnings().iter().map(WarningDoc::from).collect(),
        }
    }
}

/// A parse warning.
#[derive(Debug, Serialize)]
pub(crate) struct WarningDoc {
    line: usize,
    message: String,
}

impl From<&ParseWarning> for WarningDoc {
    fn from(warning: &ParseWarning) -> WarningDoc {
        WarningDoc { line: warning.line, message: warning.to_string() }
    }
}

/// Any failure outside a run's report.
#[derive(Debug, Serialize)]
pub(crate) struct FailureDoc {
    pub(crate) command: &'static str,
    pub(crate) ok: bool,
    pub(crate) error: ErrorDoc,
}

/// The document for a command that failed: a run's report when the run itself failed, else the error.
pub(crate) fn failure_document(command: &'static str, error: &CliError, out: &Output) -> String {
    let (file, line) = match error.location() {
        Some((file, line)) => (Some(file), line),
        None => (None, None),
    };
    let error_doc = ErrorDoc { message: out.scrub(&error.to_string()).into_owned(), file, line };
    match error {
        CliError::Run(run) => render(
            &RunDoc {
                command,
                ok: false,
                dry_run: false,
                version_before: None,
                version_after: None,
                migrations: run.applied.iter().map(MigrationDoc::from).collect(),
                failed: run.failed.as_ref().map(|(version, name, d)| FailedDoc {
                    version: version.get(),
                    name: name.clone(),
                    direction: d.as_str(),
                }),
                error: Some(error_doc),
                backup: out.notes().backup,
            },
            out.secrets(),
        ),
        _ => render(&FailureDoc { command, ok: false, error: error_doc }, out.secrets()),
    }
}

/// A document as one line of JSON, newline-terminated, with every known secret replaced in its values
/// before they are escaped (a password holding `"` or `\\` would not match once escaped).
pub(crate) fn render(document: &impl Serialize, secrets: &Secrets) -> String {
    let rendered = serde_json::to_value(document).and_then(|mut value| {
        scrub_strings(&mut value, secrets);
        serde_json::to_string(&value)
    });
    // Serializing these plain structs cannot fail; if it ever did, an error document still goes out.
    match rendered {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        Err(error) => format!("{{\"ok\":false,\"error\":{{\"message\":{:?}}}}}\n", error.to_string()),
    }
}

fn scrub_strings(value: &mut serde_json::Value, secrets: &Secrets) {
    match value {
        serde_json::Value::String(text) => {
            if let std::borrow::Cow::Owned(scrubbed) = secrets.scrub(text) {
                *text = scrubbed;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|item| scrub_strings(item, secrets)),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(|field| scrub_strings(field, secrets)),
        _ => {}
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_nanos() as f64 / 1e6
}

#[cfg(test)]
mod tests;
