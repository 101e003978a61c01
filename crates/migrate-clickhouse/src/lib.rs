//! The clickhouse driver of the migrate toolkit.

pub mod dsn;

pub use crate::dsn::{ch_url_from_parts, ChConnSpec, ChScheme, DsnError};
