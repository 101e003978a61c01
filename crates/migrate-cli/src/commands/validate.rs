//! `validate`: resolve and parse migration files without a database, collecting every problem rather
//! than stopping at the first. goose's output (nothing, or the `-v` table) or one JSON document with each
//! file's statements, ENVSUB applied from the environment.

use std::path::Path;
use std::process::ExitCode;

use migrate::{parse, resolve, resolve_files, Direction, DirectorySource, FileContents, MigrationKind, SourceFile};

use crate::env::Env;
use crate::error::{CliError, EXIT_FAILURE};
use crate::output::json::{self, ErrorDoc, FileDoc, ValidateDoc};
use crate::output::tables::{validate_table, ValidateRow};
use crate::output::{Output, Style};
use crate::settings::Settings;

pub(crate) fn validate(files: &[String], settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    let mut errors: Vec<ErrorDoc> = Vec::new();
    let single_file = files.is_empty() && Path::new(&settings.dir).is_file();
    let resolved = if files.is_empty() && !single_file {
        resolve(&DirectorySource::new(&settings.dir), &[])
    } else {
        let paths: Vec<String> = if single_file { vec![settings.dir.clone()] } else { files.to_vec() };
        let mut read = Vec::with_capacity(paths.len());
        for path in paths {
            // Read when parsed; a FIFO or directory is refused by the resolver, never opened.
            match FileContents::from_path(&path) {
                Ok(contents) => {
                    let name =
                        Path::new(&path).file_name().map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
                    read.push(SourceFile { name, path, contents });
                }
                Err(error) => {
                    errors.push(ErrorDoc { message: format!("{path}: {error}"), file: Some(path), line: None })
                }
            }
        }
        resolve_files(read, &[])
    };
    // Every problem at once: the directory's (names, duplicates, entries that are not files), then the
    // parse errors of every file that did resolve.
    let migrations = match resolved {
        Ok(migrations) => migrations,
        Err(error) => {
            errors.extend(error.problems().iter().map(|problem| ErrorDoc {
                message: problem.to_string(),
                file: problem.path().map(str::to_owned),
                line: problem.line(),
            }));
            error.resolved().to_vec()
        }
    };
    let lookup = |name: &str| env.lookup(name);
    let mut documents = Vec::new();
    let mut rows = Vec::new();
    for migration in &migrations {
        let MigrationKind::Sql { text } = migration.kind() else { continue };
        let text = match text.get() {
            Ok(text) => text,
            Err(problem) => {
                errors.push(ErrorDoc {
                    message: problem.to_string(),
                    file: Some(migration.path().to_owned()),
                    line: problem.line(),
                });
                continue;
            }
        };
        match parse(migration.path(), text, &lookup) {
            Ok(parsed) => {
                rows.push(ValidateRow {
                    kind: "sql".to_owned(),
                    transaction: !parsed.no_transaction(),
                    up: parsed.statements(Direction::Up).len(),
                    down: parsed.statements(Direction::Down).len(),
                    name: migration.name().to_owned(),
                });
                documents.push((migration, parsed));
            }
            Err(error) => errors.push(ErrorDoc {
                message: error.to_string(),
                file: Some(error.file().to_owned()),
                line: Some(error.line()),
            }),
        }
    }
    let ok = errors.is_empty();
    if settings.json {
        let files = documents.iter().map(|(migration, parsed)| FileDoc::new(migration, parsed)).collect();
        let document = ValidateDoc { command: "validate", ok, files, errors: scrubbed(errors.iter(), out) };
        out.stdout(&json::render(&document, out.secrets()))?;
        if !ok {
            for error in &document.errors {
                out.log(&format!("{} {}", out.paint(Style::Red, "migrate validate:"), error.message));
            }
        }
    } else {
        for (_, parsed) in &documents {
            for warning in parsed.warnings() {
                out.log(&format!("{} {warning}", out.paint(Style::Yellow, "warning:")));
            }
        }
        for error in &errors {
            out.log(&format!("{} {}", out.paint(Style::Red, "migrate validate:"), out.scrub(&error.message)));
        }
        if ok && settings.verbose {
            out.stdout(&validate_table(&rows))?;
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FAILURE) })
}

fn scrubbed<'a>(errors: impl Iterator<Item = &'a ErrorDoc>, out: &Output) -> Vec<ErrorDoc> {
    errors
        .map(|e| ErrorDoc { message: out.scrub(&e.message).into_owned(), file: e.file.clone(), line: e.line })
        .collect()
}
