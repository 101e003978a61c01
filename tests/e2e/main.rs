//! End-to-end tests against the real servers that `scripts/servers.sh up` starts. One binary; one module
//! per area. A test that cannot reach its server fails with the connection error; nothing is skipped.

// A test binary: helpers panic with context instead of returning errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Shared helpers: fresh databases, running commands through the core runner.
mod support;

/// A TCP proxy that records what a run sends, to count its connections and requests.
mod recording_proxy;

/// The PostgreSQL driver: every command, locking, failures, goose interoperability, the corpus.
mod postgres;

/// The ClickHouse driver: every command, resumable failures, the lease lock, goose interoperability, the corpus.
mod clickhouse;

/// ClickHouse cluster mode on the two-node cluster: replicated state read through either host, DDL confirmed on
/// every host, a host stopped mid-migration, runners on both hosts.
mod clickhouse_cluster;

/// The library: `migrate::up`, the Migrator's commands, embedded and code migrations, the test helpers.
mod library;

/// Migrator::with_metrics through the metrics facade.
mod library_metrics;

/// Checksums beside goose's table: an edited applied migration stops the run; adoption of goose's history.
mod checksums;

/// Checksums on ClickHouse: an edited applied statement stops the run, harmless edits pass, allow-changed, a
/// changed Down, adoption of goose's history in both engine forms, goose's reads after every command.
mod clickhouse_checksums;
