//! End-to-end tests of the `migrate` binary against the real PostgreSQL (`scripts/servers.sh up`).
//! Each test gets its own database; a test that cannot reach the server fails with the connection
//! error, nothing is skipped.

// A test binary: helpers panic with context instead of returning errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Running the binary, fresh databases, temporary directories, snapshot filters.
mod support;

/// goose's invocation: the job template, GOOSE_* variables, .env, the log lines, exit codes.
mod goose_form;

/// The modern form: --database-url, parts, --json, --dry-run, status --exit-code, wait, help.
mod modern_form;

/// Every special character in a real role's password, through every way of giving it.
mod passwords;

/// Every failure we can reach, with a known password that must appear nowhere.
mod secrets;

/// create, fix, init, validate, env: no database.
mod files;

/// ClickHouse: goose's DSN forms, status and down, a URL from parts with a password needing encoding.
mod clickhouse;

/// The library's log events in the CLI's output: lock waits naming the holder, driver warnings.
mod logging;

/// Checksums and verify: what `verify` finds, each kind on its own, and its JSON document.
mod history;

/// lint, and the lint `up` makes before its lock: refusing, --no-lint, warnings, a connected lint.
mod lint;

/// SIGTERM during a slow migration: rolled back (PostgreSQL) or stopped between statements (ClickHouse),
/// the lock released, exit 4.
mod signals;

/// Checksums on ClickHouse: verify (one case per kind, partial included), repair, --allow-changed, baseline and
/// the marks, with goose's own query reading the version table after every command.
mod clickhouse_history;

/// migrate.toml: environments, protection, password literals refused, JSON logs.
mod environments;

/// Backups before a production run: taken, verified, restorable; a failed one applies nothing.
mod backups;

/// Metrics pushed to the real Pushgateway, the alert evaluated by the real Prometheus.
mod metrics;

/// status --all and up --all: a workspace of services and environments, 200 tenants, shards.
mod fleet;

/// --lock-timeout and --lock-retries: a blocked migration gives up, and runs again whole.
mod lock_timeout;

/// schema dump, drift and test: stable dumps, drift findings, bad Downs caught, scratch databases dropped.
mod schema;
