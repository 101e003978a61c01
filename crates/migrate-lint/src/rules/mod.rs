//! The rules, one module per family.

pub(crate) mod clickhouse;
pub(crate) mod convention;
pub(crate) mod goose;
pub(crate) mod postgres;
pub(crate) mod postgres_extra;
pub(crate) mod tables;
