//! goose-compatible database migrations for PostgreSQL and ClickHouse.
