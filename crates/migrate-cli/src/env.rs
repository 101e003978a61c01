//! A snapshot of the environment, with `.env` files layered in the way goose loads them.
//!
//! goose calls godotenv's `Load`, which exports the file into the process environment without overriding
//! variables that are already set. We get the same precedence without mutating the process: the file's
//! values fill only names the snapshot does not have. Every environment read of the CLI (goose's
//! variables, libpq's `PG*`, ENVSUB) goes through one snapshot, so `.env` feeds all of them, as in goose.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// The environment variables the CLI sees.
#[derive(Clone, Default)]
pub(crate) struct Env {
    vars: BTreeMap<String, String>,
}

// Values can be secrets (PGPASSWORD, POSTGRES_PASSWORD): list the names only.
impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

/// Which `.env` file to load: goose's `-env` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnvFile {
    /// `-env` not given (or empty): load `./.env` when it exists.
    Default,
    /// `-env=none`: load nothing.
    Disabled,
    /// `-env=PATH`: load this file; it must exist.
    Path(PathBuf),
}

impl EnvFile {
    /// Reads goose's `-env` value.
    pub(crate) fn from_flag(value: Option<&str>) -> EnvFile {
        match value {
            None | Some("") => EnvFile::Default,
            Some("none") => EnvFile::Disabled,
            Some(path) => EnvFile::Path(PathBuf::from(path)),
        }
    }
}

impl Env {
    /// An environment with exactly these variables (tests, and the process snapshot).
    pub(crate) fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Env {
        Env { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// This environment with one more variable (a tenant's `MIGRATE_TENANT`), overriding one of that name.
    pub(crate) fn with_var(&self, name: &str, value: &str) -> Env {
        let mut env = self.clone();
        env.vars.insert(name.to_owned(), value.to_owned());
        env
    }

    /// The process environment. Variables whose name or value is not UTF-8 are left out: none of the
    /// ones the CLI reads can be used unless they are text.
    #[allow(clippy::disallowed_methods)] // The CLI's one reader of the process environment.
    pub(crate) fn from_process() -> Env {
        Env::from_pairs(std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))))
    }

    /// A variable, set-but-empty included (ENVSUB's `${X-default}` tells them apart).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// A variable, with empty treated as unset (goose's rule for its own variables).
    pub(crate) fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.is_empty())
    }

    /// The lookup function the library takes (ENVSUB, libpq variables).
    pub(crate) fn lookup(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// Adds the variables of the `.env` file `file` selects, without overriding any that are set.
    pub(crate) fn with_env_file(mut self, file: &EnvFile) -> Result<Env, CliError> {
        let path = match file {
            EnvFile::Disabled => return Ok(self),
            EnvFile::Default => {
                let path = Path::new(".env");
                // goose's load of ./.env is best-effort: no file, nothing to do.
                if !path.is_file() {
                    return Ok(self);
                }
                path
            }
            EnvFile::Path(path) => path.as_path(),
        };
        for (name, value) in read_env_file(path)? {
            self.vars.entry(name).or_insert(value);
        }
        Ok(self)
    }
}

/// The variables of a `.env` file, in order. Errors name the file and line but never quote the line,
/// which may hold a secret.
fn read_env_file(path: &Path) -> Result<Vec<(String, String)>, CliError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|error| {
        CliError::failed(format!(
            "failed to load env file {shown}: {error}; pass an existing file to -env, or -env=none"
        ))
    })?;
    let iter = dotenvy::from_read_iter(text.as_bytes());
    let mut pairs = Vec::new();
    for item in iter {
        match item {
            Ok(pair) => pairs.push(pair),
            Err(dotenvy::Error::LineParse(line, _)) => {
                let number = text.find(line.as_str()).map_or(0, |at| text[..at].matches('\n').count() + 1);
                let location = if number > 0 { format!("{shown}:{number}") } else { shown.to_string() };
                return Err(CliError::failed(format!(
                    "failed to load env file {location}: the line is not NAME=value (check its quoting); fix the \
                     line, or pass -env=none"
                )));
            }
            Err(_) => {
                return Err(CliError::failed(format!(
                    "failed to load env file {shown}: it could not be read as NAME=value lines; fix it, or pass \
                     -env=none"
                )));
            }
        }
    }
    Ok(pairs)
}

/// Go's `strconv.ParseBool`, which goose uses for `NO_COLOR` and boolean flags.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, text: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("migrate-cli-env-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn env_file_never_overrides() {
        let path = temp_file("layer", "# comment\nA=from_file\nB=\"quoted value\"\nexport C=c\n");
        let env = Env::from_pairs([("A", "from_process")]).with_env_file(&EnvFile::Path(path.clone())).unwrap();
        assert_eq!(env.get("A"), Some("from_process"));
        assert_eq!(env.get("B"), Some("quoted value"));
        assert_eq!(env.get("C"), Some("c"));
        // A variable set but empty still counts as set, as with godotenv.
        let env = Env::from_pairs([("A", "")]).with_env_file(&EnvFile::Path(path.clone())).unwrap();
        assert_eq!(env.get("A"), Some(""));
        assert_eq!(Env::default().with_env_file(&EnvFile::Disabled).unwrap().get("A"), None);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn env_file_errors_hide_the_line() {
        let missing = std::env::temp_dir().join("migrate-cli-no-such-env-file");
        let error = Env::default().with_env_file(&EnvFile::Path(missing)).unwrap_err().to_string();
        assert!(error.contains("failed to load env file"), "{error}");
        let path = temp_file("bad", "OK=1\nPASSWORD='s3cret-unterminated\n");
        let error = Env::default().with_env_file(&EnvFile::Path(path.clone())).unwrap_err().to_string();
        assert!(!error.contains("s3cret"), "{error}");
        assert!(error.contains(":2:"), "{error}");
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn flags_and_bools() {
        assert_eq!(EnvFile::from_flag(None), EnvFile::Default);
        assert_eq!(EnvFile::from_flag(Some("")), EnvFile::Default);
        assert_eq!(EnvFile::from_flag(Some("none")), EnvFile::Disabled);
        assert_eq!(EnvFile::from_flag(Some("x.env")), EnvFile::Path("x.env".into()));
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("yes"), None);
    }
}
