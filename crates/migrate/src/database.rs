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

/// Which kind of database a URL or DSN names, by its scheme: the one place that decides it, for the
/// library and the `migrate` command alike.
///
/// ```
/// use migrate::DatabaseKind;
/// assert_eq!(DatabaseKind::of_url("postgres://app@db/app"), Some(DatabaseKind::Postgres));
/// assert_eq!(DatabaseKind::of_url("host=db dbname=app"), Some(DatabaseKind::Postgres));
/// assert_eq!(DatabaseKind::of_url("https://ch.internal:8443/?database=events"), Some(DatabaseKind::ClickHouse));
/// assert_eq!(DatabaseKind::of_url("mysql://db/app"), None);
/// assert_eq!(DatabaseKind::of_url("app.db"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// `postgres://`, `postgresql://`, or libpq's `key=value` form.
    Postgres,
    /// `clickhouse://`, `tcp://` (clickhouse-go's native forms), `http://`, `https://`.
    ClickHouse,
}

impl DatabaseKind {
    /// The kind a URL's scheme names; a string without `://` is libpq's `key=value` form when it holds an
    /// `=`. `None` for anything else.
    pub fn of_url(url: &str) -> Option<DatabaseKind> {
        match url.split_once("://") {
            Some((scheme, _)) => match scheme.to_ascii_lowercase().as_str() {
                "postgres" | "postgresql" => Some(DatabaseKind::Postgres),
                "clickhouse" | "tcp" | "http" | "https" => Some(DatabaseKind::ClickHouse),
                _ => None,
            },
            None if url.contains('=') => Some(DatabaseKind::Postgres),
            None => None,
        }
    }
}
