//! The output formats: text, JSON, SARIF 2.1.0 and GitHub Actions annotations.

use std::fmt::Write;
use std::str::FromStr;

use serde_json::{json, Value};

use crate::catalog::rule_info;
use crate::finding::{Finding, Severity};
use crate::Report;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `file:line:column: severity[rule] message` and a `fix:` line.
    Text,
    /// One JSON document with every finding.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=...`).
    Github,
}

/// A format name that is not one of text, json, sarif, github.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?}: use text, json, sarif or github")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(text: &str) -> Result<Format, UnknownFormat> {
        match text {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "github" => Ok(Format::Github),
            other => Err(UnknownFormat(other.to_string())),
        }
    }
}

/// Renders a report in a format.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => text(report),
        Format::Json => to_pretty(&json_document(report)),
        Format::Sarif => to_pretty(&sarif(report)),
        Format::Github => github(report),
    }
}

fn to_pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn text(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let _ = writeln!(out, "{}:{}:{}: {}[{}] {}", f.file, f.line, f.column, f.severity, f.rule, f.message);
        let _ = writeln!(out, "  fix: {}", f.fix);
    }
    let _ = writeln!(
        out,
        "{} file(s) linted: {} error(s), {} warning(s)",
        report.files,
        report.count(Severity::Error),
        report.count(Severity::Warning)
    );
    out
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "rule": f.rule, "severity": f.severity.as_str(), "file": f.file, "line": f.line,
        "column": f.column, "message": f.message, "fix": f.fix,
    })
}

fn json_document(report: &Report) -> Value {
    json!({
        "files": report.files,
        "errors": report.count(Severity::Error),
        "warnings": report.count(Severity::Warning),
        "findings": report.findings.iter().map(finding_json).collect::<Vec<_>>(),
    })
}

fn sarif(report: &Report) -> Value {
    let mut rule_ids: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let summary = rule_info(id).map_or("squawk rule", |info| info.summary);
            json!({ "id": id, "shortDescription": { "text": summary } })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule,
                "level": f.severity.as_str(),
                "message": { "text": format!("{} Fix: {}", f.message, f.fix) },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": f.file },
                    "region": { "startLine": f.line, "startColumn": f.column },
                }}],
            })
        })
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": { "driver": { "name": "migrate lint", "informationUri": "https://github.com/migrate-rs/migrate", "rules": rules } },
            "results": results,
        }],
    })
}

/// GitHub's workflow commands escape `%`, CR and LF in the message, and also `:` and `,` in properties.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn github(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(
            out,
            "::{level} file={},line={},col={},title={}::{}",
            escape_property(&f.file),
            f.line,
            f.column,
            escape_property(&f.rule),
            escape_data(&format!("{} Fix: {}", f.message, f.fix))
        );
    }
    out
}
