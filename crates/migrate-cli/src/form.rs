//! Telling goose's form from the modern form, by the first argument alone plus one escape hatch.
//!
//! - The first argument is one of the modern commands (`up`, `status`, `create`, `wait`, `completions`,
//!   `help`, …) or `--help`: the modern form, parsed by clap.
//! - Except when a later argument is a Go-style single-dash long flag (`-dir`, `-table=x`,
//!   `-allow-missing`, `-v=true`): then it is goose's form with `GOOSE_DRIVER`/`GOOSE_DBSTRING`
//!   supplying the driver and DSN (`migrate status -dir db`). clap never accepts such a flag, so nothing
//!   that parses in the modern form is taken away.
//! - Anything else (a flag first, such as `-dir`, or a driver name such as `postgres`): goose's form.
//!
//! `wait`, `completions` and `help` exist only in the modern form, so they always select it.

/// The two ways to write a command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// `migrate [flags] DRIVER DBSTRING COMMAND`.
    Goose,
    /// `migrate COMMAND [--flags]`.
    Modern,
}

/// Commands of both forms.
const SHARED_COMMANDS: &[&str] = &[
    "up",
    "up-by-one",
    "up-to",
    "down",
    "down-to",
    "redo",
    "reset",
    "status",
    "version",
    "verify",
    "repair",
    "baseline",
    "mark-applied",
    "mark-rolled-back",
    "create",
    "fix",
    "validate",
    "lint",
    "init",
    "env",
];

/// Commands only the modern form has.
const MODERN_ONLY: &[&str] = &["wait", "completions", "help", "--help", "schema", "drift", "test"];

/// Which form `args` (without the program name) are written in.
pub(crate) fn detect(args: &[String]) -> Form {
    let Some(first) = args.first() else { return Form::Goose };
    if MODERN_ONLY.contains(&first.as_str()) {
        return Form::Modern;
    }
    if !SHARED_COMMANDS.contains(&first.as_str()) {
        return Form::Goose;
    }
    let goose_flag = args[1..].iter().take_while(|arg| *arg != "--").any(|arg| is_go_style_flag(arg));
    if goose_flag {
        Form::Goose
    } else {
        Form::Modern
    }
}

/// For an argument error in goose's form when the line looks meant for the modern form: two lines saying
/// which form was detected and why, and the same command spelled the modern way.
pub(crate) fn mixed_form_hint(args: &[String]) -> Option<String> {
    let first = args.first()?;
    if SHARED_COMMANDS.contains(&first.as_str()) {
        // The escape hatch: a command, then Go-style flags.
        let flag = args[1..].iter().find(|arg| is_go_style_flag(arg))?;
        let modern: Vec<String> =
            args.iter().map(|arg| if is_go_style_flag(arg) { format!("-{arg}") } else { arg.clone() }).collect();
        return Some(format!(
            "goose's form was detected ({first} followed by the single-dash flag {flag}), which takes the database \
             from GOOSE_DRIVER and GOOSE_DBSTRING\nfor the modern form, give flags two dashes: migrate {}",
            modern.join(" ")
        ));
    }
    if !first.starts_with("--") {
        return None;
    }
    // A modern-style flag first, and a command later: the modern form wants the command first.
    let command = args.iter().position(|arg| SHARED_COMMANDS.contains(&arg.as_str()))?;
    let mut modern = vec![args[command].clone()];
    modern.extend(args.iter().enumerate().filter(|(i, _)| *i != command).map(|(_, arg)| arg.clone()));
    Some(format!(
        "goose's form was detected (the first argument is the flag {first}), which takes DRIVER DBSTRING COMMAND\n\
         for the modern form, put the command first: migrate {}",
        modern.join(" ")
    ))
}

/// `-name` with a name longer than one letter, or `-x=value`: Go's flag syntax, which clap rejects.
fn is_go_style_flag(arg: &str) -> bool {
    let Some(rest) = arg.strip_prefix('-') else { return false };
    if rest.starts_with('-') {
        return false;
    }
    let name = rest.split_once('=').map_or(rest, |(name, _)| name);
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    starts_with_letter && (name.len() > 1 || rest.contains('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(args: &str) -> Option<String> {
        mixed_form_hint(&args.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
    }

    #[test]
    fn hints_for_mixed_forms() {
        assert_eq!(
            hint("status -dir migrations").unwrap(),
            "goose's form was detected (status followed by the single-dash flag -dir), which takes the database \
             from GOOSE_DRIVER and GOOSE_DBSTRING\nfor the modern form, give flags two dashes: migrate status --dir \
             migrations"
        );
        assert_eq!(
            hint("--dir m status").unwrap(),
            "goose's form was detected (the first argument is the flag --dir), which takes DRIVER DBSTRING COMMAND\n\
             for the modern form, put the command first: migrate status --dir m"
        );
        assert_eq!(hint("-dir m postgres url status"), None);
        assert_eq!(hint("postgres url up"), None);
    }

    fn form(args: &str) -> Form {
        detect(&args.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
    }

    #[test]
    fn forms() {
        // goose's form: a flag or a driver first.
        assert_eq!(form("-dir m postgres URL up"), Form::Goose);
        assert_eq!(form("postgres URL up"), Form::Goose);
        assert_eq!(form("--dir=m postgres URL up"), Form::Goose);
        assert_eq!(form("-h"), Form::Goose);
        assert_eq!(form(""), Form::Goose);
        // The modern form: a command first.
        assert_eq!(form("up --dir m --database-url URL"), Form::Modern);
        assert_eq!(form("status -v --json"), Form::Modern);
        assert_eq!(form("create add_users -s"), Form::Modern);
        assert_eq!(form("wait --timeout 30s"), Form::Modern);
        assert_eq!(form("--help"), Form::Modern);
        assert_eq!(form("help up"), Form::Modern);
        // A command then goose's single-dash long flags: goose's env form.
        assert_eq!(form("status -dir db"), Form::Goose);
        assert_eq!(form("up -table=x"), Form::Goose);
        assert_eq!(form("up -v=true"), Form::Goose);
        assert_eq!(form("validate -- -dir"), Form::Modern);
        // Negative numbers are not flags.
        assert_eq!(form("up-to -1"), Form::Modern);
        // Modern-only commands stay modern whatever follows.
        assert_eq!(form("wait -timeout 30s"), Form::Modern);
    }
}
