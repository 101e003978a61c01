//! One fixture per rule: `fixtures/lint/<rule-id>/bad.sql` must yield a finding of the rule, `good.sql`
//! (the same migration, corrected) none of it. The text and JSON outputs of both are insta snapshots
//! (`tests/snapshots/rules__<rule-id>.snap`), and docs/lint.md shows each fixture as the rule's Bad and Good
//! examples.
//!
//! Layout of a rule's directory:
//! - `bad.sql`, `good.sql`: goose migrations, linted as `<rule-id>/bad.sql` and `<rule-id>/good.sql` so the
//!   output does not depend on the checkout's path.
//! - `migrate.toml` (optional): the `[lint]` section the rule needs (rules off by default, ClickHouse cluster
//!   mode, options), read with [`migrate_lint::read_config`].
//! - a subdirectory (optional) of migrations linted together in file-name order, for rules that look at
//!   earlier files: `clickhouse-distributed-without-local/earlier/` creates the local table in one migration
//!   and the Distributed table in the next, which must not be a finding.
//!
//! The dialect follows the rule's family: ClickHouse rules lint as ClickHouse, every other family as
//! PostgreSQL. The environment holds one ENVSUB variable, `CLICKHOUSE_DATABASE`, as a ClickHouse
//! deployment that follows `clickhouse-hardcoded-database` sets it.
//!
//! To update the snapshots: `INSTA_UPDATE=always cargo test -p migrate-goose-lint --test rules`, then read the
//! `.snap` changes before committing them.

// Helpers outside #[test] functions panic on broken fixtures, as the tests do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use migrate_lint::catalog::{Family, RuleInfo, RULES};
use migrate_lint::{lint_pending, lint_text, read_config, render, Dialect, Format, LintOptions, Report};

/// Rules without a fixture directory, and why.
const NO_FIXTURE: &[(&str, &str)] =
    &[("edited-applied-migration", "needs a database with applied checksums; tested end to end by the CLI")];

/// Rules whose fixture currently shows the rule misbehaving: the case below names what is wrong. The
/// bad/good assertion expects them to fail (and fails when one starts passing, so the list stays true);
/// their snapshots record today's output. Each entry gets a line here saying what is wrong.
const KNOWN_WRONG: &[&str] = &[];

/// The ENVSUB variables the fixtures run with.
fn lookup(name: &str) -> Option<String> {
    (name == "CLICKHOUSE_DATABASE").then(|| "analytics".to_string())
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/lint")
}

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/lint.md")
}

fn dialect(rule: &RuleInfo) -> Dialect {
    match rule.family {
        Family::ClickHouse => Dialect::ClickHouse,
        Family::Goose | Family::Postgres | Family::PostgresExtra | Family::Convention => Dialect::Postgres,
    }
}

/// The catalog's rules that have fixtures.
fn fixture_rules() -> impl Iterator<Item = &'static RuleInfo> {
    RULES.iter().filter(|rule| !NO_FIXTURE.iter().any(|(id, _)| *id == rule.id))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn options(rule: &RuleInfo) -> LintOptions<'static> {
    let dir = fixtures().join(rule.id);
    let config = read_config(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()));
    LintOptions { dialect: Some(dialect(rule)), config, lookup: &lookup }
}

/// Lints `<rule-id>/<file>` under a stable relative name.
fn lint_fixture(rule: &RuleInfo, file: &str) -> Report {
    let text = read(&fixtures().join(rule.id).join(file));
    lint_text(&format!("{}/{file}", rule.id), &text, &options(rule))
}

/// The subdirectories of a rule's fixture: each is a sequence of migrations linted together.
fn sequences(rule: &RuleInfo) -> Vec<(String, Report)> {
    let dir = fixtures().join(rule.id);
    let mut dirs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|sub| {
            let sub_name = sub.file_name().and_then(|n| n.to_str()).expect("a UTF-8 name").to_string();
            let mut files: Vec<PathBuf> = fs::read_dir(&sub)
                .expect("the subdirectory lists")
                .map(|entry| entry.expect("a directory entry").path())
                .filter(|path| path.extension().is_some_and(|e| e == "sql"))
                .collect();
            files.sort();
            let named: Vec<(String, String)> = files
                .iter()
                .map(|path| {
                    let file = path.file_name().and_then(|n| n.to_str()).expect("a UTF-8 name");
                    (format!("{}/{sub_name}/{file}", rule.id), read(path))
                })
                .collect();
            let pairs: Vec<(&str, &str)> = named.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
            let all: Vec<usize> = (0..pairs.len()).collect();
            (sub_name, lint_pending(&pairs, &all, &options(rule)))
        })
        .collect()
}

fn count(report: &Report, rule: &str) -> usize {
    report.findings.iter().filter(|f| f.rule == rule).count()
}

#[test]
fn every_rule_has_a_fixture_and_every_fixture_names_a_rule() {
    let dirs: BTreeSet<String> = fs::read_dir(fixtures())
        .expect("fixtures/lint lists")
        .map(|entry| entry.expect("a directory entry"))
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().into_string().expect("a UTF-8 name"))
        .collect();
    let missing: Vec<&str> = fixture_rules().map(|rule| rule.id).filter(|id| !dirs.contains(*id)).collect();
    assert!(missing.is_empty(), "rules without fixtures/lint/<rule-id>/: {missing:?}");
    let unknown: Vec<&String> = dirs.iter().filter(|dir| !fixture_rules().any(|rule| rule.id == *dir)).collect();
    assert!(unknown.is_empty(), "fixture directories that name no catalog rule (or an exempt one): {unknown:?}");
    for rule in fixture_rules() {
        for file in ["bad.sql", "good.sql"] {
            let path = fixtures().join(rule.id).join(file);
            assert!(path.is_file(), "missing {}", path.display());
        }
    }
    for (id, _) in NO_FIXTURE {
        assert!(RULES.iter().any(|rule| rule.id == *id), "NO_FIXTURE names {id}, which the catalog lacks");
    }
    for id in KNOWN_WRONG {
        assert!(fixture_rules().any(|rule| rule.id == *id), "KNOWN_WRONG names {id}, which has no fixture");
    }
}

/// What is wrong with a rule's fixtures, if anything.
fn problems(rule: &RuleInfo) -> Vec<String> {
    let mut problems = Vec::new();
    let bad = lint_fixture(rule, "bad.sql");
    if count(&bad, rule.id) == 0 {
        problems.push(format!("bad.sql has no {} finding:\n{}", rule.id, render(&bad, Format::Text)));
    }
    let good = lint_fixture(rule, "good.sql");
    if count(&good, rule.id) > 0 {
        problems.push(format!("good.sql has a {} finding:\n{}", rule.id, render(&good, Format::Text)));
    }
    // A sequence is a corrected case too: none of its files may be a finding of the rule.
    for (name, report) in sequences(rule) {
        if count(&report, rule.id) > 0 {
            problems.push(format!("{name}/ has a {} finding:\n{}", rule.id, render(&report, Format::Text)));
        }
    }
    problems
}

#[test]
fn bad_fixtures_are_findings_and_good_fixtures_are_not() {
    let mut failures = Vec::new();
    for rule in fixture_rules() {
        let problems = problems(rule);
        let known = KNOWN_WRONG.contains(&rule.id);
        if known && problems.is_empty() {
            failures.push(format!("{}: passes now; remove it from KNOWN_WRONG", rule.id));
        } else if !known {
            failures.extend(problems.into_iter().map(|problem| format!("{}: {problem}", rule.id)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn findings_keep_the_catalog_severity_unless_configured() {
    for rule in fixture_rules() {
        let configured = options(rule).config.rules.contains_key(rule.id);
        let Some(default) = rule.default_severity else { continue };
        if configured {
            continue;
        }
        for finding in lint_fixture(rule, "bad.sql").findings.iter().filter(|f| f.rule == rule.id) {
            assert_eq!(finding.severity, default, "{}: {finding:?}", rule.id);
        }
    }
}

#[test]
fn outputs_match_the_snapshots() {
    for rule in fixture_rules() {
        let mut snapshot = String::new();
        let mut section = |title: String, report: &Report| {
            for (format, name) in [(Format::Text, "text"), (Format::Json, "json")] {
                snapshot.push_str(&format!("===== {title} ({name}) =====\n"));
                snapshot.push_str(&render(report, format));
            }
        };
        section("bad.sql".to_string(), &lint_fixture(rule, "bad.sql"));
        section("good.sql".to_string(), &lint_fixture(rule, "good.sql"));
        for (name, report) in sequences(rule) {
            section(format!("{name}/"), &report);
        }
        insta::with_settings!({ description => format!("{}: {}", rule.id, rule.summary), omit_expression => true }, {
            insta::assert_snapshot!(rule.id, snapshot);
        });
    }
}

/// The lines of a fixture's Up section: from `-- +goose Up` up to (not including) `-- +goose Down`, without
/// trailing blank lines.
fn up_section(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.trim() == "-- +goose Up").unwrap_or(0);
    let end = lines.iter().position(|l| l.trim() == "-- +goose Down").unwrap_or(lines.len());
    let mut section: Vec<&str> = lines.get(start..end.max(start)).unwrap_or(&[]).to_vec();
    while section.last().is_some_and(|l| l.trim().is_empty()) {
        section.pop();
    }
    section.join("\n")
}

/// What docs/lint.md shows of a fixture: the whole file for goose-file rules (their findings are often
/// about the Down section or the annotations), the Up section for the others.
fn doc_example(rule: &RuleInfo, file: &str) -> String {
    let text = read(&fixtures().join(rule.id).join(file));
    match rule.family {
        Family::Goose => text.trim_end().to_string(),
        _ => up_section(&text),
    }
}

/// The text of the `### <rule-id>` section of docs/lint.md, up to the next heading outside a code block.
fn doc_section<'d>(docs: &'d str, id: &str) -> Option<&'d str> {
    let heading = format!("\n### {id}\n");
    let start = docs.find(&heading)? + heading.len();
    let rest = &docs[start..];
    let mut in_code = false;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            return Some(&rest[..offset]);
        }
        offset += line.len();
    }
    Some(rest)
}

#[test]
fn docs_show_every_rule_with_its_fixtures() {
    let docs = read(&docs());
    let mut failures = Vec::new();
    for rule in RULES {
        let Some(section) = doc_section(&docs, rule.id) else {
            failures.push(format!("docs/lint.md has no \"### {}\" heading", rule.id));
            continue;
        };
        if !section.contains(rule.summary) {
            failures
                .push(format!("### {}: the section does not quote the catalog summary {:?}", rule.id, rule.summary));
        }
        let severity = rule.default_severity.map_or("off", |s| s.as_str());
        if !section.contains(&format!("Default severity: {severity}")) {
            failures.push(format!("### {}: the section does not say \"Default severity: {severity}\"", rule.id));
        }
        if !fixture_rules().any(|r| r.id == rule.id) {
            continue;
        }
        let config = fixtures().join(rule.id).join(migrate_lint::CONFIG_FILE);
        if config.is_file() {
            let block = format!("```toml\n{}\n```\n", read(&config).trim_end());
            if !section.contains(&block) {
                failures
                    .push(format!("### {}: the section lacks the fixture's migrate.toml, verbatim:\n{block}", rule.id));
            }
        }
        for (label, file) in [("Bad", "bad.sql"), ("Good", "good.sql")] {
            let example = doc_example(rule, file);
            let block = format!("{label} (`fixtures/lint/{}/{file}`):\n\n```sql\n{example}\n```\n", rule.id);
            if !section.contains(&block) {
                failures.push(format!("### {}: the section lacks, verbatim:\n{block}", rule.id));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_toml_example_in_the_docs_is_a_valid_configuration() {
    let docs = read(&docs());
    let mut blocks = 0;
    for (at, _) in docs.match_indices("```toml\n") {
        let start = at + "```toml\n".len();
        let end = docs[start..].find("```").map_or(docs.len(), |end| start + end);
        let text = &docs[start..end];
        blocks += 1;
        let config = migrate_lint::LintConfig::from_toml("docs/lint.md", text);
        assert!(config.is_ok(), "docs/lint.md: this migrate.toml is refused: {config:?}\n{text}");
    }
    assert!(blocks > 1, "docs/lint.md shows no migrate.toml");
}

/// squawk's opt-in rules (not in the catalog) run when `[lint.rules]` gives them a severity, and only then.
#[test]
fn configured_opt_in_squawk_rules_run() {
    let text = "-- +goose Up\nDROP TRIGGER IF EXISTS audit ON orders;\n-- +goose Down\nSELECT 1;\n";
    let lint = |toml: &str| {
        let config = migrate_lint::LintConfig::from_toml("migrate.toml", toml).unwrap();
        let options = LintOptions { dialect: Some(Dialect::Postgres), config, lookup: &|_| None };
        let report = lint_text("00001_a.sql", text, &options);
        report.findings.iter().filter(|f| f.rule == "ban-drop-trigger").map(|f| f.severity).collect::<Vec<_>>()
    };
    assert_eq!(lint(""), []);
    assert_eq!(lint("[lint.rules]\nban-drop-trigger = \"error\"\n"), [migrate_lint::Severity::Error]);
    assert_eq!(lint("[lint.rules]\nban-drop-trigger = \"off\"\n"), []);
}

/// The README's rule list names every rule of the catalog.
#[test]
fn the_readme_lists_every_rule() {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let missing: Vec<&str> = RULES.iter().map(|r| r.id).filter(|id| !readme.contains(&format!("`{id}`"))).collect();
    assert!(missing.is_empty(), "README.md's Lint section does not list {missing:?}");
}
