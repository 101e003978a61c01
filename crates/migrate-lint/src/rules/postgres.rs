//! PostgreSQL safety rules: squawk's own linter (the `squawk-linter` crate) over the Up section, so the
//! findings are squawk's, statement for statement, with goose's transaction semantics.

use std::str::FromStr;

use squawk_linter::{Linter, LinterSettings, Version};
use squawk_syntax::SourceFile;

use crate::file::{MigrationFile, RawFinding};
use crate::finding::Severity;

/// The rules to run: squawk's defaults, plus the opt-in ones configured on, less those that are off.
pub(crate) fn linter(pg_version: Option<&str>, opt_in: &[String], off: &[String]) -> Linter {
    let rules = |ids: &[String]| -> Vec<squawk_linter::Rule> {
        ids.iter().filter_map(|id| squawk_linter::Rule::from_str(id).ok()).collect()
    };
    let mut linter = Linter::with_rules(&rules(opt_in), &rules(off));
    if let Some(version) = pg_version.and_then(|v| Version::from_str(v).ok()) {
        linter.settings = LinterSettings { pg_version: version, ..LinterSettings::default() };
    }
    linter
}

/// Lints the Up section; `in_transaction` is goose's: true unless the file says NO TRANSACTION.
pub(crate) fn check(file: &MigrationFile<'_>, linter: &mut Linter, out: &mut Vec<RawFinding>) {
    let text = file.up_section_text();
    linter.settings.assume_in_transaction = !file.no_transaction;
    let parse = SourceFile::parse(&text);
    for violation in linter.lint(&parse, &text) {
        let rule = violation.code.to_string();
        let offset = usize::from(violation.text_range.start());
        let (line, _) = file.index.position(offset);
        let severity =
            if rule == "ban-concurrent-index-creation-in-transaction" { Severity::Error } else { Severity::Warning };
        let message = first_line(&violation.message);
        // squawk's fix (an edit it can make) is the most precise; its help text is sometimes a general one.
        let fix = match (&violation.fix, &violation.help) {
            (Some(fix), _) => first_line(&fix.title),
            (None, Some(help)) => first_line(help),
            (None, None) => fallback_fix(&rule).to_string(),
        };
        out.push(file.at_offset(&rule, severity, offset, file.up_statement_line_at(line), message, fix));
    }
}

fn first_line(text: &str) -> String {
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_string()
}

/// A fix line for the squawk rules that give no help text of their own.
fn fallback_fix(rule: &str) -> &'static str {
    match rule {
        "ban-drop-column" | "ban-drop-table" | "ban-drop-view" | "ban-drop-type" | "ban-drop-sequence"
        | "ban-drop-schema" | "ban-drop-function" | "ban-drop-extension" | "ban-drop-domain" | "ban-drop-database" => {
            "stop every reader and writer of it first (an earlier release), then drop it and say so with a \
             migrate:lint-ignore reason"
        }
        "ban-drop-default" => "keep the default until no code inserts rows without the column",
        "ban-drop-not-null" => "keep NOT NULL until no code relies on the column being set",
        "ban-drop-constraint" => {
            "keep the constraint until the code enforces the rule itself, then drop it with a reason"
        }
        "ban-drop-generated-expression" => "keep the expression until nothing relies on the column being computed",
        "renaming-column" | "renaming-table" | "renaming-object" => {
            "add the new name beside the old one, move the code over, then drop the old one in a later migration"
        }
        "changing-column-type" => {
            "add a new column of the new type, backfill it, switch the code, then drop the old one"
        }
        "ban-char-field" => "use text (or varchar without a length)",
        "ban-set-schema" => "create the object in the new schema and move the code over, instead of moving it",
        "ban-alter-identity" => "leave the identity as it is, or change it while nothing writes to the table",
        "ban-create-domain-with-constraint" | "ban-alter-domain-with-add-constraint" => {
            "put the constraint on the columns (a CHECK constraint, added NOT VALID and then validated)"
        }
        "ban-duplicate-column-assignments" => "assign each column once",
        "identifier-too-long" => "shorten the name to 63 bytes or fewer",
        "unused-ignore" => "remove the squawk-ignore comment, or name a rule squawk has",
        _ => "see squawk's documentation of this rule",
    }
}
