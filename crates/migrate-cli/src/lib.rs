//! The `migrate` command: goose's invocation and output over the migrate library, plus a modern form
//! with `--help`, completions, credentials from parts, `--dry-run`, `--json` and `wait`.
//!
//! A library only so that `src/main.rs` and the fuzz targets (`fuzz/`) share it: [`main`] is the whole
//! program, and [`fuzzing`] exposes the argument and DSN paths to the fuzzers. Nothing here is an API.
//!
//! Flow: `form::detect` picks the parser; the parser's first stage reads only the arguments (it must
//! find `-env` before the environment can be read); the `.env` file is layered into one environment
//! snapshot; the second stage resolves `settings::Settings`; `commands::execute` runs the command.
//! Errors map to goose's exit codes in `report`. Only arguments and output live in this crate.

mod commands;
mod database;
mod drivers;
mod env;
mod error;
mod form;
mod goose_form;
mod modern_form;
mod output;
mod project;
mod redact;
mod settings;

use std::process::ExitCode;

use crate::env::Env;
use crate::error::CliError;
use crate::form::Form;
use crate::goose_form::GooseParsed;
use crate::modern_form::ModernParsed;
use crate::output::{json, Output};
use crate::redact::Secrets;
use crate::settings::{Command, Settings};

/// What the arguments asked for, once parsed.
enum Request {
    /// Print this on stdout (help, version, completions).
    Print(String),
    /// Run a command.
    Run(Box<Settings>, Env),
}

/// The program: parses `std::env::args`, runs the command, and returns goose's exit code.
pub fn main() -> ExitCode {
    install_panic_hook();
    let args: Vec<String> = match std::env::args_os().skip(1).map(|arg| arg.into_string()).collect() {
        Ok(args) => args,
        Err(_) => {
            let out = Output::plain(Secrets::default());
            out.stderr("error: the arguments must be valid UTF-8\n");
            return ExitCode::from(error::EXIT_USAGE);
        }
    };
    let mut secrets = Secrets::default();
    secrets.add_from_args(&args);
    let form = form::detect(&args);
    let plain = Output::plain(secrets.clone());
    let files = Files { env_files: true, read: &|path| std::fs::read_to_string(path) };
    let request = match parse(&args, form, Env::from_process(), &files) {
        Ok(request) => request,
        Err(error) => {
            let hint = if form == Form::Goose { form::mixed_form_hint(&args) } else { None };
            if let (Some(hint), CliError::Usage(message) | CliError::GooseUsage(message)) = (hint, &error) {
                plain.stderr(&format!("{message}\n{hint}\n"));
                return error.exit_code();
            }
            return report(&error, form, None, &plain);
        }
    };
    match request {
        Request::Print(text) => match plain.stdout(&text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => report(&error, form, None, &plain),
        },
        Request::Run(settings, env) => {
            for name in ["PGPASSWORD", "POSTGRES_PASSWORD", "CLICKHOUSE_PASSWORD"] {
                if let Some(password) = env.non_empty(name) {
                    secrets.add(password);
                }
            }
            if let Some(password) = settings.database.as_ref().and_then(|db| redact::dsn_password(db.dsn())) {
                secrets.add(&password);
            }
            let out = Output::new(settings.no_color, secrets).with_json_logs(settings.ops.log_json);
            output::trace::install(&out, settings.verbose);
            match execute(&settings, &env, &out) {
                Ok(code) => code,
                Err(error) => report(&error, form, Some(&settings), &out),
            }
        }
    }
}

/// Replaces the default panic message, which would print whatever the panic carried (possibly a DSN or
/// a password from the input), with a fixed one naming only the place in our source.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        use std::io::Write;
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "migrate: internal error{place}; this is a bug, please report it (details are not shown: they \
             could hold secrets)"
        );
    }));
    // Lets the CLI tests check the hook: a debug build panics with its arguments when asked to.
    #[cfg(debug_assertions)]
    #[allow(clippy::disallowed_methods)] // Before any settings exist; a debug-build test switch only.
    if std::env::var_os("MIGRATE_TEST_PANIC").is_some() {
        let args: Vec<String> = std::env::args().collect();
        panic!("test panic with the arguments {args:?}");
    }
}

/// Parses the arguments in their form, with the environment (and `.env`) merged in; `read_file` reads
/// the files flags name (`--db-password-file`).
/// What parsing may read from disk: the `.env` file (`-env`, `./.env`) and the files flags name.
struct Files<'a> {
    env_files: bool,
    read: database::ReadFile<'a>,
}

fn parse(args: &[String], form: Form, process: Env, files: &Files<'_>) -> Result<Request, CliError> {
    let with_env_file = |env: Env, file: &env::EnvFile| if files.env_files { env.with_env_file(file) } else { Ok(env) };
    match form {
        Form::Goose => {
            let raw = goose_form::parse(args)?;
            let env = with_env_file(process, &raw.env_file())?;
            Ok(match raw.resolve(&env)? {
                GooseParsed::Help => Request::Print(goose_form::USAGE.to_owned()),
                GooseParsed::Version => Request::Print(version_text()),
                GooseParsed::Run(settings) => Request::Run(Box::new(settings), env),
            })
        }
        Form::Modern => {
            let cli = match modern_form::parse(args) {
                Ok(cli) => cli,
                Err(error) => {
                    use clap::error::ErrorKind;
                    return match error.kind() {
                        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                            Ok(Request::Print(error.render().to_string()))
                        }
                        _ => Err(CliError::Rendered(error.render().to_string())),
                    };
                }
            };
            let env = with_env_file(process, &cli.env_file())?;
            Ok(match cli.resolve(&env, files.read)? {
                ModernParsed::Help(text) => Request::Print(text),
                ModernParsed::Completions(shell) => Request::Print(modern_form::completions(shell)),
                ModernParsed::Run(settings) => Request::Run(Box::new(settings), env),
            })
        }
    }
}

fn version_text() -> String {
    format!(
        "migrate version: {} (revision {}, built {})\n",
        env!("CARGO_PKG_VERSION"),
        env!("MIGRATE_GIT_REVISION"),
        env!("MIGRATE_BUILD_DATE")
    )
}

/// Runs the command on a single-threaded runtime: one connection, nothing to parallelise.
fn execute(settings: &Settings, env: &Env, out: &Output) -> Result<ExitCode, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::failed(format!("starting the async runtime failed: {error}")))?;
    let result = runtime.block_on(commands::execute(settings, env, out));
    // Everything the command does is awaited by then: do not wait for idle blocking threads to wind down
    // (a runner with nothing to do would spend a noticeable part of its life here).
    runtime.shutdown_background();
    result
}

/// Prints an error the way its kind calls for and returns goose's exit code for it.
fn report(error: &CliError, form: Form, settings: Option<&Settings>, out: &Output) -> ExitCode {
    match error {
        CliError::BrokenPipe => {}
        CliError::Rendered(text) => out.stderr(text),
        // A usage error found while parsing the arguments gets the usage text; one found after (settings
        // resolved, e.g. a flag that does not fit the database) is reported like any failure, JSON included.
        CliError::Usage(message) if settings.is_none() && form == Form::Goose => {
            out.stderr(&format!("{message}\n{}", goose_form::USAGE))
        }
        CliError::Usage(message) if settings.is_none() => {
            out.stderr(&format!("error: {message}\n\nFor more information, try 'migrate help'.\n"));
        }
        CliError::GooseUsage(message) => out.stderr(&format!("{message}\n{}", goose_form::USAGE)),
        _ => {
            let prefix = match settings.map(|s| &s.command) {
                Some(Command::Validate { .. }) => "migrate validate:",
                Some(Command::Lint { .. }) => "migrate lint:",
                Some(_) => "migrate run:",
                None => "migrate:",
            };
            out.log_error(prefix, error);
            if let Some(settings) = settings.filter(|s| s.json) {
                // The document is best-effort here: the error itself is already on stderr.
                let _ = out.stdout(&json::failure_document(settings.command.name(), error, out));
            }
        }
    }
    error.exit_code()
}

/// Entry points for the fuzz targets in `fuzz/`: each takes arbitrary input, must never panic, and reads
/// no environment and no file (neither `.env` nor a file a flag names).
#[doc(hidden)]
pub mod fuzzing {
    use super::{form, parse, redact, Env, Secrets};

    /// Both forms' argument parsing and settings resolution, over an empty environment.
    pub fn arguments(args: &[String]) {
        let no_file = |_: &std::path::Path| Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        let files = super::Files { env_files: false, read: &no_file };
        let _ = parse(args, form::detect(args), Env::default(), &files);
    }

    /// The CLI's DSN redaction and secret scrubbing.
    pub fn redaction(text: &str) {
        let _ = redact::redact_dsn(text);
        let _ = redact::dsn_password(text);
        let mut secrets = Secrets::default();
        secrets.add_from_args(&[text.to_owned()]);
        let _ = secrets.scrub(text);
    }
}
