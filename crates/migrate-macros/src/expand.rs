//! What `embed!` checks and emits: the directory's files resolved and parsed with migrate-core, then one
//! `(name, include_str!(path))` pair per file.

use std::path::{Path, PathBuf};

use migrate_core::{parse, resolve_files, DirectorySource, MigrationKind, MigrationSource, ResolveProblem, SourceFile};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::LitStr;

/// The tokens of `embed!(relative)`, or every problem found, one per line.
pub(crate) fn expand(relative: &str) -> Result<TokenStream, String> {
    let dir = manifest_dir()?.join(relative);
    let files = read_dir(&dir, relative)?;
    let location = relative.trim_end_matches('/');
    let (sql, code): (Vec<SourceFile>, Vec<SourceFile>) =
        files.into_iter().map(|file| relabel(file, location)).partition(|file| file.name.ends_with(".sql"));
    check(location, sql.clone())?;
    let mut pairs = Vec::with_capacity(sql.len() + code.len());
    for file in &sql {
        let path = dir.join(&file.name);
        let Some(path) = path.to_str() else {
            return Err(format!("{}: the path is not UTF-8, so include_str! cannot name it", path.display()));
        };
        let name = LitStr::new(&file.name, Span::call_site());
        let path = LitStr::new(path, Span::call_site());
        pairs.push(quote! { (#name, ::core::include_str!(#path)) });
    }
    // Code-migration files carry no text: the resolver checks at run time that each one is registered.
    for file in &code {
        let name = LitStr::new(&file.name, Span::call_site());
        pairs.push(quote! { (#name, "") });
    }
    let location = LitStr::new(location, Span::call_site());
    Ok(quote! {
        ::migrate::__private::embedded_source(#location, &[#(#pairs),*])
    })
}

/// The directory of the crate being compiled: `embed!` paths are relative to it, like `sqlx::migrate!`.
///
/// `MIGRATE_EMBED_MANIFEST_DIR` overrides it for this crate's compile-fail tests only: trybuild compiles
/// each test as a crate under `target/`, where the fixture folders are not (dtolnay/trybuild#202).
fn manifest_dir() -> Result<PathBuf, String> {
    #[allow(clippy::disallowed_methods)] // Cargo hands the crate's directory to macros only this way.
    let dir = std::env::var_os("MIGRATE_EMBED_MANIFEST_DIR").or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"));
    dir.map(PathBuf::from).ok_or_else(|| "CARGO_MANIFEST_DIR is not set: build with cargo".to_owned())
}

/// The directory's files, with a message for a missing directory that fits the macro (the shared one
/// speaks of the CLI's `-dir` flag).
fn read_dir(dir: &Path, relative: &str) -> Result<Vec<SourceFile>, String> {
    match DirectorySource::new(dir).files() {
        Ok(files) => Ok(files),
        Err(error) if matches!(error.problems(), [ResolveProblem::MissingDirectory { .. }]) => Err(format!(
            "{relative}: migrations directory does not exist; embed! paths are relative to the directory of the \
             crate's Cargo.toml"
        )),
        Err(error) => Err(error.to_string()),
    }
}

/// Names a file as the embedded source will at run time (`migrations/00001_x.sql`), so compile-time and
/// run-time messages agree and do not depend on where the checkout lives.
fn relabel(file: SourceFile, location: &str) -> SourceFile {
    SourceFile { path: format!("{location}/{}", file.name), ..file }
}

/// Resolves and parses the SQL files, collecting every problem rather than stopping at the first.
///
/// Code-migration files are left out here: which versions are registered is only known at run time.
fn check(location: &str, sql: Vec<SourceFile>) -> Result<(), String> {
    if sql.is_empty() {
        return Ok(()); // Only code-migration files: nothing to parse.
    }
    let migrations = resolve_files(sql, &[]).map_err(|error| error.to_string())?;
    let mut problems = Vec::new();
    for migration in &migrations {
        if let MigrationKind::Sql { text } = migration.kind() {
            match text.get() {
                Ok(text) => {
                    if let Err(error) = parse(migration.path(), text, &placeholder) {
                        problems.push(error.to_string());
                    }
                }
                Err(problem) => problems.push(problem.to_string()),
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!("{} migration(s) in {location} do not parse:\n{}", problems.len(), problems.join("\n")))
}

/// ENVSUB values exist only at run time. A non-empty stand-in lets the build check everything else
/// (annotations, statement ends, `${...}` syntax) without depending on the build machine's environment.
fn placeholder(_name: &str) -> Option<String> {
    Some("x".to_owned())
}
