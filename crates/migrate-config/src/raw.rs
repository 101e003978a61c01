//! The file as serde reads it: every table refuses unknown keys, and the values messages point at keep
//! their spans. `parse.rs` turns this into the checked model.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProject {
    pub(crate) dir: Option<Spanned<String>>,
    pub(crate) table: Option<Spanned<String>>,
    pub(crate) driver: Option<Spanned<String>>,
    pub(crate) service: Option<Spanned<String>>,
    pub(crate) database_base: Option<Spanned<String>>,
    pub(crate) default_environment: Option<Spanned<String>>,
    pub(crate) log_format: Option<Spanned<String>>,
    pub(crate) metrics: Option<RawMetrics>,
    /// Read and checked by the lint crate.
    pub(crate) lint: Option<toml::Value>,
    #[serde(default)]
    pub(crate) environments: BTreeMap<String, Spanned<RawEnvironment>>,
    #[serde(default)]
    pub(crate) services: BTreeMap<String, Spanned<RawService>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawService {
    pub(crate) dir: Option<Spanned<String>>,
    pub(crate) table: Option<Spanned<String>>,
    pub(crate) driver: Option<Spanned<String>>,
    pub(crate) database_base: Option<Spanned<String>>,
    pub(crate) tenants: Option<Spanned<RawTenants>>,
    #[serde(default)]
    pub(crate) environments: BTreeMap<String, Spanned<RawEnvironment>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTenants {
    pub(crate) databases: Option<Vec<String>>,
    pub(crate) file: Option<Spanned<String>>,
    pub(crate) query: Option<Spanned<String>>,
    pub(crate) command: Option<Spanned<Vec<String>>>,
    pub(crate) schemas: Option<Vec<String>>,
    pub(crate) schemas_query: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMetrics {
    pub(crate) push: Option<Spanned<String>>,
    pub(crate) file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEnvironment {
    pub(crate) database_url: Option<Spanned<String>>,
    pub(crate) database_url_env: Option<Spanned<String>>,
    pub(crate) database: Option<Spanned<RawDatabase>>,
    pub(crate) dir: Option<Spanned<String>>,
    pub(crate) table: Option<Spanned<String>>,
    pub(crate) driver: Option<Spanned<String>>,
    pub(crate) protected: Option<bool>,
    pub(crate) lock_wait: Option<Spanned<String>>,
    pub(crate) lock_timeout: Option<Spanned<String>>,
    pub(crate) lock_retries: Option<u32>,
    pub(crate) lint: Option<bool>,
    pub(crate) backup: Option<Spanned<RawBackup>>,
    pub(crate) metrics: Option<RawMetrics>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDatabase {
    pub(crate) url: Option<Spanned<String>>,
    pub(crate) url_env: Option<Spanned<String>>,
    pub(crate) host: Option<Spanned<String>>,
    pub(crate) host_env: Option<Spanned<String>>,
    pub(crate) port: Option<Spanned<i64>>,
    pub(crate) port_env: Option<Spanned<String>>,
    pub(crate) user: Option<Spanned<String>>,
    pub(crate) user_env: Option<Spanned<String>>,
    /// Any type: a password literal is refused whatever it looks like.
    pub(crate) password: Option<Spanned<toml::Value>>,
    pub(crate) password_env: Option<Spanned<String>>,
    pub(crate) password_file: Option<Spanned<String>>,
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) name_env: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) params: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBackup {
    pub(crate) mode: Option<Spanned<String>>,
    pub(crate) path: Option<Spanned<String>>,
    pub(crate) pg_dump: Option<Spanned<String>>,
    pub(crate) command: Option<Spanned<Vec<String>>>,
    pub(crate) restore_command: Option<Spanned<Vec<String>>>,
    pub(crate) timeout: Option<Spanned<String>>,
}
