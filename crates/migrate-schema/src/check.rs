//! `schema test`: on a scratch database, every migration applied one at a time (the schema read before
//! each), then from the newest down: its Down, the schema compared with the one before its Up, its Up
//! again (it must be re-runnable), and its Down again to reach the next one. The walk stops at the first
//! error, since what follows would be measured from a schema that is already wrong.

use std::fmt;

use migrate::Migrator;
use migrate_postgres::PgConnSpec;
use serde::Serialize;
use sqlx::Connection;

use crate::diff::{diff, Finding};
use crate::drift::connect;
use crate::error::Error;
use crate::postgres::{read, ReadOptions};
use crate::scratch::ScratchDatabase;

/// What is wrong with one migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// Its Up failed on the way up.
    UpFailed {
        /// The error, naming the file and line.
        error: String,
    },
    /// Its Down failed.
    DownFailed {
        /// The error, naming the file and line.
        error: String,
    },
    /// After its Down the schema is not what it was before its Up.
    DownMismatch {
        /// Expected: the schema before the Up; actual: after the Down.
        differences: Vec<Finding>,
    },
    /// Its Up failed when applied again after its Down.
    UpNotRerunnable {
        /// The error, naming the file and line.
        error: String,
    },
    /// Its Up does something but its Down is empty (a warning: a data migration may mean it).
    EmptyDown,
}

impl Problem {
    /// Whether the test fails for it (everything but an empty Down, which is a warning).
    pub fn is_error(&self) -> bool {
        !matches!(self, Problem::EmptyDown)
    }

    /// `up_failed`, `down_failed`, `down_mismatch`, `up_not_rerunnable`, `empty_down`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Problem::UpFailed { .. } => "up_failed",
            Problem::DownFailed { .. } => "down_failed",
            Problem::DownMismatch { .. } => "down_mismatch",
            Problem::UpNotRerunnable { .. } => "up_not_rerunnable",
            Problem::EmptyDown => "empty_down",
        }
    }
}

/// A problem and the migration it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestFinding {
    /// The migration's version.
    pub version: i64,
    /// Its file name.
    pub name: String,
    /// What is wrong.
    #[serde(flatten)]
    pub problem: Problem,
}

impl fmt::Display for TestFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::UpFailed { error } => write!(f, "{}: its Up fails: {error}", self.name),
            Problem::DownFailed { error } => write!(f, "{}: its Down fails: {error}", self.name),
            Problem::UpNotRerunnable { error } => {
                write!(f, "{}: its Up fails when applied again after its Down: {error}", self.name)
            }
            Problem::EmptyDown => write!(f, "{}: its Down is empty", self.name),
            Problem::DownMismatch { differences } => {
                write!(
                    f,
                    "{}: its Down does not undo its Up; after the Down, compared with before the Up:",
                    self.name
                )?;
                for difference in differences {
                    write!(f, "\n  {difference}")?;
                }
                Ok(())
            }
        }
    }
}

/// What the test found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestReport {
    /// How many migrations were applied.
    pub migrations: usize,
    /// Errors and warnings, in the order found (at most one error: the walk stops there).
    pub findings: Vec<TestFinding>,
}

impl TestReport {
    /// No error (warnings allowed).
    pub fn passed(&self) -> bool {
        !self.findings.iter().any(|finding| finding.problem.is_error())
    }
}

/// One migration applied on the way up, and the schema before it.
struct Applied {
    version: i64,
    name: String,
    up_empty: bool,
    before: crate::model::Schema,
}

/// Runs the test on a scratch database on `server`'s server, dropped at the end whatever happens.
pub async fn test_migrations(
    server: &PgConnSpec,
    migrator: &Migrator,
    options: &ReadOptions,
) -> Result<TestReport, Error> {
    let scratch = ScratchDatabase::create(server).await?;
    let outcome = walk(&scratch, migrator, options).await;
    let dropped = scratch.drop_database().await;
    let report = outcome?;
    dropped?;
    Ok(report)
}

async fn walk(scratch: &ScratchDatabase, migrator: &Migrator, options: &ReadOptions) -> Result<TestReport, Error> {
    let target = scratch.connect_options().clone();
    let statuses = migrator.status(target.clone()).await.map_err(Error::migrate("listing the migrations"))?;
    let count = statuses.iter().filter(|status| status.name.is_some()).count();
    let mut connection = connect(&target, scratch.name()).await?;
    let mut report = TestReport { migrations: 0, findings: Vec::new() };
    let mut applied: Vec<Applied> = Vec::new();
    let outcome = async {
        for _ in 0..count {
            let before = read(&mut connection, options).await?;
            match migrator.up_by_one(target.clone()).await {
                Ok(run) => {
                    for result in run.results {
                        applied.push(Applied {
                            version: result.version.get(),
                            name: result.name,
                            up_empty: result.empty,
                            before: before.clone(),
                        });
                    }
                }
                Err(error) => {
                    let (version, name) = failed_migration(&error);
                    report.findings.push(TestFinding {
                        version,
                        name,
                        problem: Problem::UpFailed { error: error.to_string() },
                    });
                    return Ok(());
                }
            }
        }
        report.migrations = applied.len();
        for migration in applied.iter().rev() {
            let finding = |problem| TestFinding { version: migration.version, name: migration.name.clone(), problem };
            match migrator.down(target.clone()).await {
                Ok(run) => {
                    if run.results.iter().any(|result| result.empty) && !migration.up_empty {
                        report.findings.push(finding(Problem::EmptyDown));
                    }
                }
                Err(error) => {
                    report.findings.push(finding(Problem::DownFailed { error: error.to_string() }));
                    return Ok(());
                }
            }
            let after = read(&mut connection, options).await?;
            let differences = diff(&migration.before, &after);
            if !differences.is_empty() {
                report.findings.push(finding(Problem::DownMismatch { differences }));
                return Ok(());
            }
            if let Err(error) = migrator.up_by_one(target.clone()).await {
                report.findings.push(finding(Problem::UpNotRerunnable { error: error.to_string() }));
                return Ok(());
            }
            if let Err(error) = migrator.down(target.clone()).await {
                report.findings.push(finding(Problem::DownFailed { error: error.to_string() }));
                return Ok(());
            }
        }
        Ok::<(), Error>(())
    }
    .await;
    let _ = connection.close().await;
    outcome?;
    Ok(report)
}

/// The version and file of the migration a run failed on (0 and empty when it failed before one).
fn failed_migration(error: &migrate::Error) -> (i64, String) {
    error.failed_migration().map_or((0, String::new()), |failed| (failed.version.get(), failed.name.to_owned()))
}
