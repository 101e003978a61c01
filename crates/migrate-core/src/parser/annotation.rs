//! Recognising and reading `-- +goose ...` annotation lines exactly as goose does.

use crate::parser::ParseErrorKind;

/// The seven annotations goose knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Annotation {
    Up,
    Down,
    StatementBegin,
    StatementEnd,
    NoTransaction,
    EnvsubOn,
    EnvsubOff,
}

/// goose treats a line as an annotation when its trimmed form starts with `--` and it contains `+goose`
/// anywhere, so a plain comment mentioning `+goose` is an (invalid) annotation too.
pub(crate) fn is_annotation(line_trimmed_start: &str, line: &str) -> bool {
    line_trimmed_start.starts_with("--") && line.contains("+goose")
}

/// Reads an annotation line: no leading whitespace, every `--` removed, the first `+goose` removed, the rest
/// trimmed and compared case-insensitively.
pub(crate) fn extract(line: &str) -> Result<Annotation, ParseErrorKind> {
    if line.starts_with([' ', '\t']) {
        return Err(ParseErrorKind::LeadingWhitespace);
    }
    let without_dashes = line.replace("--", "");
    let command = without_dashes.replacen("+goose", "", 1);
    if command.contains("+goose") {
        return Err(ParseErrorKind::MultipleGoose);
    }
    let command = command.trim();
    if command.is_empty() {
        return Err(ParseErrorKind::EmptyAnnotation);
    }
    const KNOWN: [(&str, Annotation); 7] = [
        ("up", Annotation::Up),
        ("down", Annotation::Down),
        ("statementbegin", Annotation::StatementBegin),
        ("statementend", Annotation::StatementEnd),
        ("no transaction", Annotation::NoTransaction),
        ("envsub on", Annotation::EnvsubOn),
        ("envsub off", Annotation::EnvsubOff),
    ];
    KNOWN
        .iter()
        .find(|(name, _)| equal_fold(command, name))
        .map(|(_, annotation)| *annotation)
        .ok_or_else(|| ParseErrorKind::UnsupportedAnnotation { text: command.to_owned() })
}

/// Go's `strings.EqualFold` against an ASCII lower-case name: besides ASCII case, the Kelvin sign folds to
/// `k` and the long s to `s`, the only non-ASCII characters whose simple case folding reaches ASCII letters.
fn equal_fold(text: &str, lower_ascii_name: &str) -> bool {
    let mut name = lower_ascii_name.chars();
    for c in text.chars() {
        let folded = match c {
            '\u{212A}' => 'k',
            '\u{017F}' => 's',
            c => c.to_ascii_lowercase(),
        };
        if name.next() != Some(folded) {
            return false;
        }
    }
    name.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations() {
        let cases: &[(&str, Result<Annotation, ParseErrorKind>)] = &[
            ("-- +goose Up", Ok(Annotation::Up)),
            ("-- +goose   UP \t", Ok(Annotation::Up)),
            ("--+goose up", Ok(Annotation::Up)),
            ("---- +goose Down", Ok(Annotation::Down)),
            ("-- +goose statementBEGIN", Ok(Annotation::StatementBegin)),
            ("-- +goose NO TRANSACTION", Ok(Annotation::NoTransaction)),
            ("-- +goose envsub on", Ok(Annotation::EnvsubOn)),
            ("-- +goose \u{17F}tatementEnd", Ok(Annotation::StatementEnd)),
            (" -- +goose Up", Err(ParseErrorKind::LeadingWhitespace)),
            ("\t-- +goose Up", Err(ParseErrorKind::LeadingWhitespace)),
            ("-- +goose", Err(ParseErrorKind::EmptyAnnotation)),
            ("-- +goose +goose Up", Err(ParseErrorKind::MultipleGoose)),
            (
                "-- +goose NO  TRANSACTION",
                Err(ParseErrorKind::UnsupportedAnnotation { text: "NO  TRANSACTION".into() }),
            ),
            (
                "-- +goose StatementEnd -- note",
                Err(ParseErrorKind::UnsupportedAnnotation { text: "StatementEnd  note".into() }),
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(&extract(line), expected, "{line:?}");
        }
    }
}
