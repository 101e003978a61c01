//! Schema tools for goose migrations on PostgreSQL: a catalog model read from `pg_catalog`, a
//! deterministic DDL dump, a diff, drift detection against the migrations (or a committed dump), and a
//! test that every Down undoes its Up.
//!
//! - [`read`] reads a database's [`Schema`] (a few catalog queries, in one snapshot), leaving out
//!   PostgreSQL's schemas, what extensions own, and goose's version table with its companions
//!   ([`ReadOptions`]).
//! - [`dump`] prints it as DDL: the same bytes for the same schema, in any database; applying a dump to
//!   an empty database and dumping that gives the same dump.
//! - [`diff`] lists each [`Finding`]: object, missing / extra / changed, before and after.
//! - [`drift()`] builds the expected schema on a [`ScratchDatabase`] (or a shadow database) and compares
//!   it with the live one; [`test_migrations`] walks every migration down and up again.
//!
//! ```no_run
//! # async fn run() -> Result<(), migrate_schema::Error> {
//! use migrate_schema::{drift, Expected, ReadOptions, Workspace};
//!
//! let live = migrate_postgres::PgConnSpec::parse("postgres://app@db/app", &|_| None).expect("a URL");
//! let migrator = migrate::Migrator::new(migrate::DirectorySource::new("migrations"));
//! let options = ReadOptions::for_version_table("goose_db_version")?;
//! for finding in drift(Expected::Migrations(&migrator), Workspace::Scratch(&live), &live, &options).await? {
//!     println!("{finding}");
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod check;
mod diff;
mod drift;
mod dump;
mod error;
mod model;
mod postgres;
mod quote;
mod scratch;

pub use crate::check::{test_migrations, Problem, TestFinding, TestReport};
pub use crate::diff::{diff, Finding, FindingKind};
pub use crate::drift::{drift, expected_schema, read_database, Expected, Workspace};
pub use crate::dump::dump;
pub use crate::error::Error;
pub use crate::model::{
    Column, Comment, CompositeType, Constraint, ConstraintKind, Domain, Enum, Extension, ForeignKeyAction, Function,
    Identity, Index, QualifiedName, RoutineKind, Schema, Sequence, Table, TableKind, Trigger, View,
};
pub use crate::postgres::{read, ReadOptions};
pub use crate::scratch::{ScratchDatabase, SCRATCH_PREFIX};
