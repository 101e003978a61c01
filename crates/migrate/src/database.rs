//! Where migrations run: a URL, or a PostgreSQL connection or pool the service already has, so it keeps
//! its own TLS, pool and session settings.

#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};

/// The database a command runs against. Every command takes `impl Into<Database>`, so pass a URL, a
/// `&PgPool`, a `PgConnection` or `PgConnectOptions` directly.
///
/// A URL is `postgres://` or `postgresql://` (or a libpq `key=value` DSN) for PostgreSQL, and
/// `clickhouse://`, `tcp://`, `http://` or `https://` for ClickHouse. PostgreSQL URLs fill in what they leave
/// out from the `PG*` environment variables, as libpq does.
#[derive(Debug)]
#[non_exhaustive]
pub enum Database<'a> {
    /// A database URL or DSN; a connection is opened for the command and closed after it.
    Url(&'a str),
    /// PostgreSQL connection options; a connection is opened for the command and closed after it.
    #[cfg(feature = "postgres")]
    PgOptions(Box<PgConnectOptions>),
    /// A PostgreSQL connection the caller opened; the command uses it and closes it.
    #[cfg(feature = "postgres")]
    PgConnection(Box<PgConnection>),
    /// A PostgreSQL pool: one connection is taken from it for the command (the migration lock belongs to
    /// one session) and then closed rather than returned, so a session that held the lock or saw a failed
    /// transaction never goes back into the pool; the pool opens a replacement when it needs one.
    #[cfg(feature = "postgres")]
    PgPool(&'a PgPool),
}

impl<'a> From<&'a str> for Database<'a> {
    fn from(url: &'a str) -> Database<'a> {
        Database::Url(url)
    }
}

impl<'a> From<&'a String> for Database<'a> {
    fn from(url: &'a String) -> Database<'a> {
        Database::Url(url)
    }
}

#[cfg(feature = "postgres")]
impl From<PgConnectOptions> for Database<'_> {
    fn from(options: PgConnectOptions) -> Self {
        Database::PgOptions(Box::new(options))
    }
}

#[cfg(feature = "postgres")]
impl From<PgConnection> for Database<'_> {
    fn from(connection: PgConnection) -> Self {
        Database::PgConnection(Box::new(connection))
    }
}

#[cfg(feature = "postgres")]
impl<'a> From<&'a PgPool> for Database<'a> {
    fn from(pool: &'a PgPool) -> Database<'a> {
        Database::PgPool(pool)
    }
}
