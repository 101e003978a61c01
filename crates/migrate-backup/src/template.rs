//! Placeholder templates for backup paths and commands: `{database}`, `{timestamp}`, `{service}`,
//! `{environment}` and `{version}`, each value made safe as part of a file name.

use crate::{BackupContext, BackupError};

/// The placeholders [`expand_template`] knows, in the order the docs list them.
pub const PLACEHOLDERS: &[&str] = &["database", "timestamp", "service", "environment", "version"];

/// How `{timestamp}` is written: UTC, sortable, and without `:` (which some file systems and S3 tools
/// treat specially).
pub(crate) const TIMESTAMP_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// Expands the placeholders in `template` from `context`.
///
/// `{{` and `}}` stand for literal braces. Each value is sanitised for use in a file name (see
/// [`sanitise`]), so a database called `a/b` cannot make the path point elsewhere, and a value can never
/// start an option (`-`) when the template places it at the start of an argument.
///
/// An unknown placeholder, or a `{` that is never closed, is an error naming it; the template itself
/// is not quoted, because a command template could hold text its author would not want printed.
///
/// ```
/// use migrate_backup::{expand_template, BackupContext};
/// use chrono::TimeZone;
/// let context = BackupContext {
///     service: "billing".into(),
///     environment: "prod".into(),
///     database: "app".into(),
///     version: 20240101120000,
///     now: chrono::Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap(),
/// };
/// let path = expand_template("/backups/{database}_{timestamp}.dump", &context).unwrap();
/// assert_eq!(path, "/backups/app_20240506T070809Z.dump");
/// assert!(expand_template("/backups/{db}.dump", &context).is_err());
/// ```
pub fn expand_template(template: &str, context: &BackupContext) -> Result<String, BackupError> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(idx) = rest.find(['{', '}']) {
        let offset = template.len() - rest.len() + idx;
        out.push_str(&rest[..idx]);
        let tail = &rest[idx..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if let Some(after) = tail.strip_prefix('}') {
            // A lone `}` cannot start a placeholder, so it is kept as written.
            out.push('}');
            rest = after;
        } else {
            let body = &tail[1..];
            let Some(end) = body.find('}') else {
                return Err(BackupError::UnclosedPlaceholder { offset });
            };
            let name = &body[..end];
            let value = placeholder_value(name, context)
                .ok_or_else(|| BackupError::UnknownPlaceholder { name: name.to_owned(), offset })?;
            out.push_str(&sanitise(&value));
            rest = &body[end + 1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The raw (unsanitised) value of a placeholder, or `None` if the name is unknown.
fn placeholder_value(name: &str, context: &BackupContext) -> Option<String> {
    Some(match name {
        "database" => context.database.clone(),
        "timestamp" => timestamp(context),
        "service" => context.service.clone(),
        "environment" => context.environment.clone(),
        "version" => context.version.to_string(),
        _ => return None,
    })
}

/// `context.now` as `{timestamp}` writes it, e.g. `20240506T070809Z`.
pub(crate) fn timestamp(context: &BackupContext) -> String {
    context.now.format(TIMESTAMP_FORMAT).to_string()
}

/// Makes a value safe inside one file name: ASCII letters, digits, `.`, `_` and `-` are kept, anything
/// else (a `/`, a space, a quote, non-ASCII text) becomes `_`. A leading `-` or `.` becomes `_` too, so
/// the value is never read as an option, a hidden file, `.` or `..`.
pub fn sanitise(value: &str) -> String {
    let mut out: String = value
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect();
    if out.starts_with(['-', '.']) {
        out.replace_range(..1, "_");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn context(database: &str) -> BackupContext {
        BackupContext {
            service: "billing api".into(),
            environment: "prod".into(),
            database: database.into(),
            version: 20240101120000,
            now: chrono::Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap(),
        }
    }

    #[test]
    fn expands_every_placeholder() {
        let text =
            expand_template("{service}/{environment}/{database}-{version}-{timestamp}", &context("app")).unwrap();
        assert_eq!(text, "billing_api/prod/app-20240101120000-20240506T070809Z");
    }

    #[test]
    fn a_template_without_placeholders_is_unchanged() {
        assert_eq!(expand_template("/backups/fixed.dump", &context("app")).unwrap(), "/backups/fixed.dump");
        assert_eq!(expand_template("", &context("app")).unwrap(), "");
    }

    #[test]
    fn doubled_braces_are_literal() {
        assert_eq!(expand_template("{{database}} {{{database}}}", &context("app")).unwrap(), "{database} {app}");
        assert_eq!(expand_template("a}b", &context("app")).unwrap(), "a}b");
    }

    #[test]
    fn unknown_placeholder_is_named() {
        let error = expand_template("/backups/{db}_{timestamp}.dump", &context("app")).unwrap_err();
        assert!(matches!(&error, BackupError::UnknownPlaceholder { name, offset: 9 } if name == "db"), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("{db}") && message.contains("{database}"), "{message}");
        assert!(matches!(expand_template("{}", &context("app")), Err(BackupError::UnknownPlaceholder { .. })));
        assert!(matches!(expand_template("{Database}", &context("app")), Err(BackupError::UnknownPlaceholder { .. })));
    }

    #[test]
    fn unclosed_brace_is_an_error() {
        let error = expand_template("/backups/{database", &context("app")).unwrap_err();
        assert!(matches!(error, BackupError::UnclosedPlaceholder { offset: 9 }), "{error:?}");
    }

    #[test]
    fn values_are_sanitised_for_file_names() {
        assert_eq!(
            expand_template("/b/{database}.dump", &context("../../etc/passwd")).unwrap(),
            "/b/_._.._etc_passwd.dump"
        );
        assert_eq!(expand_template("/b/{database}.dump", &context("--help")).unwrap(), "/b/_-help.dump");
        assert_eq!(expand_template("/b/{database}.dump", &context("..")).unwrap(), "/b/_..dump");
        assert_eq!(expand_template("/b/{database}", &context("my db \"x\"")).unwrap(), "/b/my_db__x_");
        assert_eq!(expand_template("/b/{database}", &context("données")).unwrap(), "/b/donn_es");
        assert_eq!(expand_template("/b/{database}", &context("App_1.2-x")).unwrap(), "/b/App_1.2-x");
    }

    #[test]
    fn negative_and_zero_versions() {
        let mut ctx = context("app");
        ctx.version = 0;
        assert_eq!(expand_template("{version}", &ctx).unwrap(), "0");
        ctx.version = -3;
        assert_eq!(expand_template("{version}", &ctx).unwrap(), "_3");
    }

    #[test]
    fn every_listed_placeholder_expands() {
        for name in PLACEHOLDERS {
            assert!(expand_template(&format!("{{{name}}}"), &context("app")).is_ok(), "{name}");
        }
    }
}
