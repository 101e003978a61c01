//! The README's "Using the library" section shows code that this crate compiles: each `rust` block there
//! must be the text of one of the example's files, and its `toml` block must name the dependencies and the
//! driver feature the example really uses. So an edit to either side that forgets the other fails here.

// A test binary: a missing piece of the README is a failure with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The `## Using the library` section, up to the next `## ` heading.
fn library_section(readme: &str) -> &str {
    let start = readme.find("\n## Using the library\n").expect("the README has a \"## Using the library\" section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |end| end + 4);
    &rest[..end]
}

/// Each fenced block as (language, text without the fences).
fn fenced_blocks(section: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in section.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(language)) => open = Some((language.trim().to_owned(), String::new())),
            (Some(_), Some("")) => blocks.extend(open.take()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a fenced block is not closed");
    blocks
}

#[test]
fn the_library_examples_are_the_compiled_files() {
    let readme = read("../README.md");
    let blocks = fenced_blocks(library_section(&readme));
    let sources = [read("build.rs"), read("src/bin/quickstart.rs")];
    let rust: Vec<&String> = blocks.iter().filter(|(language, _)| language == "rust").map(|(_, text)| text).collect();
    assert_eq!(rust.len(), sources.len(), "one README block per compiled file: {rust:#?}");
    for (block, source) in rust.iter().zip(&sources) {
        assert!(source.ends_with(block.as_str()), "the README shows\n{block}\nbut the compiled file is\n{source}");
    }
}

#[test]
fn the_dependency_lines_are_the_examples() {
    let readme = read("../README.md");
    let blocks = fenced_blocks(library_section(&readme));
    let toml = blocks.iter().find(|(language, _)| language == "toml").map(|(_, text)| text).expect("a toml block");
    let manifest = read("Cargo.toml");
    let dependencies = manifest.split("\n[dependencies]\n").nth(1).and_then(|rest| rest.split("\n[").next());
    let dependencies = dependencies.expect("the example's Cargo.toml has [dependencies]");
    let mut named = 0;
    for line in toml.lines().filter(|line| line.contains(" = ")) {
        let (name, value) = line.split_once(" = ").unwrap();
        named += 1;
        if name == "migrate-goose" {
            // The example takes the facade through the workspace, as `migrate`: the features must agree.
            let features = value.split("features = ").nth(1).and_then(|rest| rest.split(']').next()).unwrap();
            let ours = dependencies.lines().find(|line| line.starts_with("migrate = ")).unwrap();
            assert!(ours.contains(&format!("features = {features}]")), "README {line:?}, example {ours:?}");
        } else {
            let ours = dependencies.lines().find(|line| line.starts_with(&format!("{name} ")));
            assert!(ours.is_some(), "the README lists {name}, which the example does not depend on");
        }
    }
    assert_eq!(named, 3, "migrate-goose, tokio and tracing-subscriber:\n{toml}");
}
