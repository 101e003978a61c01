//! The database-independent heart of migrate, a goose-compatible migration toolkit.
//!
//! # Brief overview
//!
//! A [`MigrationSource`] ([`DirectorySource`] or [`EmbeddedSource`]) offers files; [`resolve`] turns them
//! into [`Migration`]s ordered by [`Version`] with goose's file-name rules. [`parse`] splits a migration's
//! text into [`Statement`]s exactly as goose does. [`plan`] takes the migrations, the rows of the version
//! table ([`AppliedRow`]) and a [`PlanRequest`], and returns a [`Plan`]: the ordered steps to run, each
//! already parsed. [`run`] executes a plan through a [`Driver`] (the PostgreSQL and ClickHouse drivers
//! live in their own crates), and [`migrate`] wraps planning and running with the lock and the re-plan
//! after it is taken.
//!
//! This crate links no database client and does no network I/O; the parser does no I/O at all, and the
//! planner's only I/O is reading, once, the file of a migration it selected.
//!
//! ```
//! use migrate_core::{plan, resolve, AppliedRow, Command, EmbeddedSource, PlanRequest};
//!
//! static FILES: &[(&str, &str)] = &[
//!     ("00001_users.sql", "-- +goose Up\nCREATE TABLE users (id int);\n-- +goose Down\nDROP TABLE users;\n"),
//!     ("00002_posts.sql", "-- +goose Up\nCREATE TABLE posts (id int);\n-- +goose Down\nDROP TABLE posts;\n"),
//! ];
//! let migrations = resolve(&EmbeddedSource::new("migrations", FILES), &[])?;
//! let applied = [AppliedRow::new(0, true, None), AppliedRow::new(1, true, None)];
//! let request = PlanRequest { command: Command::Up, allow_missing: false, no_versioning: false };
//! let plan = plan(&migrations, &applied, &request, &|_| None)?;
//! assert_eq!(plan.steps().len(), 1);
//! assert_eq!(plan.steps()[0].statements()[0].text(), "CREATE TABLE posts (id int);");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod applied_at;
mod before_run;
mod checksum;
mod driver;
mod error_text;
mod history;
mod history_write;
mod marks;
mod parser;
mod plan;
mod preflight;
mod progress;
mod runner;
mod source;
mod stop;
pub mod url_syntax;
mod version;

use std::fmt;

pub use crate::applied_at::parse_applied_at;
pub use crate::before_run::{BeforeRun, RunAbout};
pub use crate::checksum::{ChecksumRow, ChecksumStore, Checksums};
pub use crate::driver::{
    AppliedRow, BoxError, Canceller, Capabilities, CodeFailure, Driver, Executor, Lock, StatementFailure, VersionStore,
};
pub use crate::error_text::error_chain;
pub use crate::history::{
    applied_count, check_history, checksum_row_of, plan_repair, verify_history, ChangedMigration, Finding,
    HistoryCheck, HistoryError, Repair, RepairError,
};
pub use crate::history_write::{mark, repair, HistoryWriteError};
pub use crate::marks::{plan_marks, Mark, MarkError};
pub use crate::parser::{
    expand_variables, parse, parse_direction, parse_direction_verbatim, DirectionParse, ParseError, ParseErrorKind,
    ParseWarning, ParseWarningKind, ParsedMigration, Statement,
};
pub use crate::plan::{
    current_version, plan, replan, status, AppliedAt, Command, Plan, PlanError, PlanRequest, PlanStep, StatusEntry,
    StatusState, StepBody,
};
pub use crate::preflight::{Preflight, PreflightErrors, PreflightFinding};
pub use crate::progress::{statements_checksum, Progress, ProgressStore};
pub use crate::runner::{
    lock_retry_delay, migrate, run, MigrationResult, Outcome, RunError, RunErrorKind, RunEvent, RunOptions, RunReport,
    RUN_EVENT_TARGET,
};
pub use crate::source::{
    resolve, resolve_files, CodeMigrationInfo, DirectorySource, EmbeddedSource, FileContents, Migration, MigrationKind,
    MigrationSource, ResolveError, ResolveProblem, SourceFile, SqlText,
};
pub use crate::stop::StopSignal;
pub use crate::version::{version_from_file_name, Version, VersionNameError};

/// Which way a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Apply: run the Up section and record the version.
    Up,
    /// Roll back: run the Down section and delete the version's rows.
    Down,
}

impl Direction {
    /// `up` or `down`, as logs, JSON and the progress table write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
