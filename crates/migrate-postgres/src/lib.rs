//! The postgres driver of the migrate toolkit.

pub mod dsn;

pub use crate::dsn::{pg_url_from_parts, DsnError, PgConnSpec, PgHost, SslMode};
