//! The clickhouse driver of the migrate toolkit.
