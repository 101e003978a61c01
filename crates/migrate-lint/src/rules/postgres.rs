//! PostgreSQL safety rules: squawk's own linter (the `squawk-linter` crate) over the Up section, so the
//! findings are squawk's, statement for statement, with goose's transaction semantics.

use std::str::FromStr;

use squawk_linter::{Linter, LinterSettings, Version};
use squawk_syntax::SourceFile;

use crate::file::{MigrationFile, RawFinding};
use crate::finding::Severity;

/// The rules to run: squawk's defaults plus the opt-in timeout rules when configured on.
pub(crate) fn linter(pg_version: Option<&str>, opt_in: &[&str]) -> Linter {
    let include: Vec<squawk_linter::Rule> =
        opt_in.iter().filter_map(|id| squawk_linter::Rule::from_str(id).ok()).collect();
    let mut linter = Linter::with_rules(&include, &[]);
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
        let fix = violation.help.as_deref().map_or_else(|| format!("see squawk's {rule} rule"), first_line);
        out.push(file.at_offset(&rule, severity, offset, file.up_statement_line_at(line), message, fix));
    }
}

fn first_line(text: &str) -> String {
    text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_string()
}
