//! Backups against the real PostgreSQL server (`MIGRATE_TEST_PG_URL`): pg_dump taken, verified,
//! restored and compared; refusals that leave no file; secrets kept out of everything; command mode.

// Helpers outside #[test] functions panic on failure too: a test that cannot set up must fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod command;
mod pg_dump;
mod support;
