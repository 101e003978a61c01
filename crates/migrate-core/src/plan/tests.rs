//! Planner tests in a compact table form: `files | db rows in applied order (`!` = is_applied false) |
//! command [flags]`, expected steps or error.

use crate::driver::AppliedRow;
use crate::plan::{current_version, plan, replan, status, Command, Plan, PlanRequest, StatusState};
use crate::source::Migration;
use crate::{Direction, Version};

fn migrations(spec: &str) -> Vec<Migration> {
    let mut list: Vec<Migration> = spec
        .split_whitespace()
        .map(|v| {
            let version = Version::new(v.parse().unwrap()).unwrap();
            let text = format!("-- +goose Up\nSELECT {v};\n-- +goose Down\nSELECT -{v};\n");
            Migration::sql(version, format!("{v:0>5}_m.sql"), text)
        })
        .collect();
    list.sort_by_key(Migration::version);
    list
}

/// Rows in applied order, returned most recent first as the drivers list them.
fn rows(spec: &str) -> Vec<AppliedRow> {
    let mut rows: Vec<AppliedRow> = spec
        .split_whitespace()
        .map(|v| match v.strip_suffix('!') {
            Some(v) => AppliedRow::new(v.parse().unwrap(), false, None),
            None => AppliedRow::new(v.parse().unwrap(), true, None),
        })
        .collect();
    rows.reverse();
    rows
}

fn request(spec: &str) -> PlanRequest {
    let words: Vec<&str> = spec.split_whitespace().collect();
    let number = |i: usize| words[i].parse::<i64>().unwrap();
    let command = match words[0] {
        "up" => Command::Up,
        "up-by-one" => Command::UpByOne,
        "up-to" => Command::UpTo(number(1)),
        "down" => Command::Down,
        "down-to" => Command::DownTo(number(1)),
        "redo" => Command::Redo,
        "reset" => Command::Reset,
        "apply" => Command::Apply {
            version: Version::new(number(1)).unwrap(),
            direction: if words[2] == "up" { Direction::Up } else { Direction::Down },
        },
        other => panic!("unknown command {other}"),
    };
    PlanRequest {
        command,
        allow_missing: words.contains(&"allow-missing"),
        no_versioning: words.contains(&"no-versioning"),
    }
}

fn check(spec: &str, expected: &str) {
    let parts: Vec<&str> = spec.split('|').map(str::trim).collect();
    let migrations = migrations(parts[0]);
    let rows = rows(parts[1]);
    let got = match plan(&migrations, &rows, &request(parts[2]), &|_| None) {
        Ok(plan) => plan
            .steps()
            .iter()
            .map(|step| format!("{} {}", step.direction, step.version()))
            .collect::<Vec<_>>()
            .join(", "),
        Err(error) => format!("error: {error}"),
    };
    assert_eq!(got, expected, "case: {spec}");
}

#[test]
fn up() {
    check("1 2 3 | | up", "up 1, up 2, up 3");
    check("1 2 3 | 0 | up", "up 1, up 2, up 3");
    check("1 2 3 | 0 1 2 3 | up", "");
    check("1 2 3 5 | 0 1 2 | up", "up 3, up 5");
    check("10 2 | 0 | up", "up 2, up 10");
    check("1 2 3 | 0 1 2 3 | up-by-one", "error: no next version found: nothing is pending");
    check("1 2 3 | 0 1 | up-by-one", "up 2");
    check("1 2 3 4 | 0 1 | up-to 3", "up 2, up 3");
    check("1 2 3 4 | 0 1 | up-to 0", "");
    // An old `is_applied = false` row that is the newest row of its version means rolled back.
    check("1 2 3 | 0 1 2 3 3! | up", "up 3");
    check("1 2 3 | 0 1 2! 2 3 | up", "");
}

#[test]
fn missing_migrations() {
    check(
        "1 2 3 6 | 0 1 3 | up",
        "error: found 1 missing migration(s) before current version 3:\n\tversion 2: 00002_m.sql\nthey were added out of order (never applied, and older than the current version 3)",
    );
    check("1 2 3 6 | 0 1 3 | up allow-missing", "up 2, up 6");
    check("1 2 3 4 6 | 0 1 5 | up allow-missing", "up 2, up 3, up 4, up 6");
    check("1 2 3 6 | 0 1 3 | up-by-one allow-missing", "up 2");
    check("1 2 3 4 6 | 0 1 5 | up-to 3 allow-missing", "up 2, up 3");
    check("1 2 3 6 | 0 1 3 | up-to 1", "");
    // A missing migration above the target is not in the way of up-to.
    check("1 2 3 6 | 0 1 3 | up-to 2", "error: found 1 missing migration(s) before current version 3:\n\tversion 2: 00002_m.sql\nthey were added out of order (never applied, and older than the current version 3)");
    // down, redo and reset are unaffected by missing migrations.
    check("1 2 3 6 | 0 1 3 | down", "down 3");
}

#[test]
fn down() {
    check("1 2 3 | 0 1 2 3 | down", "down 3");
    check("1 2 3 | 0 | down", "error: no migration to roll back: the database is at version 0");
    check("1 2 3 | | down", "error: no next version found: nothing is pending");
    check(
        "1 2 | 0 1 2 7 | down",
        "error: version 7 is applied but its migration file is missing: restore the file to roll it back",
    );
    // Most recently applied, not highest: after an out-of-order apply of 2 following 3.
    check("1 2 3 | 0 1 3 2 | down", "down 2");
    check("1 2 3 | 0 1 2 3 3! | down", "down 2");
    check("1 2 3 4 | 0 1 2 3 4 | down-to 2", "down 4, down 3");
    check("1 2 3 4 | 0 1 2 3 4 | down-to 0", "down 4, down 3, down 2, down 1");
    check("1 2 3 4 | 0 1 2 3 4 | down-to 4", "");
    // down-to stops at the first row at or below the target, even when later-applied higher versions remain.
    check("1 2 3 4 | 0 1 4 2 3 | down-to 2", "down 3");
    check("1 2 3 | 0 | down-to 0", "");
    check("1 2 3 | 0 1 2 3 | redo", "down 3, up 3");
    check("1 2 3 | 0 | redo", "error: no migration to roll back: the database is at version 0");
}

#[test]
fn reset() {
    check("1 2 3 | 0 1 2 3 | reset", "down 3, down 2, down 1");
    check("1 2 3 | 0 1 3 2 | reset", "down 3, down 2, down 1");
    check("1 2 3 | 0 1 3 7 | reset", "down 3, down 1");
    check("1 2 3 | 0 | reset", "");
}

#[test]
fn apply_version() {
    check("1 2 3 | 0 1 | apply 3 up", "up 3");
    check("1 2 3 | 0 1 | apply 1 up", "error: version 1 is already applied");
    check("1 2 3 | 0 1 | apply 2 down", "error: version 2 is not applied");
    check("1 2 3 | 0 1 | apply 9 up", "error: no migration with version 9");
    check("1 2 3 | 0 1 | apply 1 down", "down 1");
}

#[test]
fn no_versioning() {
    check("1 2 3 | 0 1 2 3 | up no-versioning", "up 1, up 2, up 3");
    check("1 2 3 | | up-to 2 no-versioning", "up 1, up 2");
    check("1 2 3 | | up-by-one no-versioning", "up 1");
    check("1 2 3 | | down no-versioning", "down 3");
    check("1 2 3 | | down-to 1 no-versioning", "down 3, down 2");
    check("1 2 3 | | redo no-versioning", "down 3, up 3");
    check("1 2 3 | | reset no-versioning", "down 3, down 2, down 1");
}

#[test]
fn steps_never_record_under_no_versioning() {
    let migrations = migrations("1 2");
    let versioned = plan(&migrations, &[], &request("up"), &|_| None).unwrap();
    assert!(versioned.steps().iter().all(|s| s.record));
    let unversioned = plan(&migrations, &[], &request("up no-versioning"), &|_| None).unwrap();
    assert!(unversioned.steps().iter().all(|s| !s.record));
}

#[test]
fn a_bad_file_fails_the_plan_before_anything_runs() {
    let mut list = migrations("1 2");
    list.push(Migration::sql(Version::new(3).unwrap(), "00003_bad.sql", "-- +goose Up\nSELECT 1\n"));
    let error = plan(&list, &[], &request("up"), &|_| None).unwrap_err();
    assert_eq!(error.to_string().split(':').take(2).collect::<Vec<_>>(), ["00003_bad.sql", "2"]);
    // A broken Down section fails an up plan too: both directions are checked before running.
    let mut list = migrations("1");
    list.push(Migration::sql(
        Version::new(2).unwrap(),
        "00002_bad.sql",
        "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 1\n",
    ));
    assert!(plan(&list, &[], &request("up"), &|_| None).is_err());
}

#[test]
fn current_version_is_goose_s() {
    assert_eq!(current_version(&rows("0 1 3 2")), Some(2));
    assert_eq!(current_version(&rows("0 1 2 2!")), Some(1));
    assert_eq!(current_version(&rows("")), None);
    assert_eq!(current_version(&rows("0")), Some(0));
}

#[test]
fn status_shows_database_only_versions() {
    let migrations = migrations("1 2 4");
    let rows = rows("0 1 3 4 4!");
    let entries = status(&migrations, Some(&rows), &[]);
    let summary: Vec<String> =
        entries.iter().map(|e| format!("{}:{}:{}", e.version, e.migration.is_some(), e.state)).collect();
    assert_eq!(summary, ["1:true:applied", "2:true:Pending", "3:false:applied", "4:true:Pending"]);
    let unversioned = status(&migrations, None, &[]);
    assert!(unversioned.iter().all(|e| e.state.to_string() == "no versioning"));
}

#[test]
fn applied_times_print_in_go_s_ansic_layout() {
    let at = |text: &str| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
    let state = |text: &str| StatusState::Applied(Some(at(text))).to_string();
    assert_eq!(state("2013-01-06 11:25:03"), "Sun Jan  6 11:25:03 2013");
    assert_eq!(state("2026-11-21 09:05:59"), "Sat Nov 21 09:05:59 2026");
    assert_eq!(
        format!("{:<26}|", StatusState::Applied(Some(at("2013-01-06 11:25:03")))),
        "Sun Jan  6 11:25:03 2013  |"
    );
}

/// Migrations whose statements read an ENVSUB variable, so each parse of one shows as a lookup.
fn envsub_migrations(versions: &[i64]) -> Vec<Migration> {
    versions
        .iter()
        .map(|&v| {
            let text =
                format!("-- +goose ENVSUB ON\n-- +goose Up\nSELECT ${{X}}, {v};\n-- +goose Down\nSELECT -{v};\n");
            Migration::sql(Version::new(v).unwrap(), format!("{v:0>5}_m.sql"), text)
        })
        .collect()
}

fn step_names(plan: &Plan<'_>) -> Vec<String> {
    plan.steps().iter().map(|step| format!("{} {}", step.direction, step.version())).collect()
}

#[test]
fn replanning_reuses_the_steps_already_parsed_and_builds_the_rest() {
    let migrations = envsub_migrations(&[1, 2, 3, 4]);
    let lookups = std::cell::Cell::new(0);
    let lookup = |_: &str| {
        lookups.set(lookups.get() + 1);
        Some("x".to_owned())
    };
    let first = plan(&migrations, &rows("0 1"), &request("up"), &lookup).unwrap();
    assert_eq!(step_names(&first), ["up 2", "up 3", "up 4"]);
    let per_parse = lookups.get() / 3;
    assert!(per_parse > 0 && lookups.get() == 3 * per_parse);
    let parses = || lookups.get() / per_parse;

    // Another runner applied 2 meanwhile: 3 and 4 are the steps planned before, nothing is parsed again.
    let second = replan(first, &migrations, &rows("0 1 2"), &request("up"), &lookup).unwrap();
    assert_eq!(parses(), 3);
    let fresh = plan(&migrations, &rows("0 1 2"), &request("up"), &|_| Some("x".to_owned())).unwrap();
    assert_eq!(format!("{:?}", second.steps()), format!("{:?}", fresh.steps()));
    assert_eq!(second.current_version(), 2);

    // Another runner rolled back to 0 meanwhile: 1 and 2 are parsed anew, 3 and 4 reused.
    let third = replan(second, &migrations, &rows("0"), &request("up"), &lookup).unwrap();
    assert_eq!(step_names(&third), ["up 1", "up 2", "up 3", "up 4"]);
    assert_eq!(parses(), 5);
    assert_eq!(third.steps()[0].statements()[0].text(), "SELECT x, 1;");

    // The other direction of a migration is its own step, parsed for that direction.
    let down = replan(third, &migrations, &rows("0 1 2 3 4"), &request("down"), &lookup).unwrap();
    assert_eq!(step_names(&down), ["down 4"]);
    assert_eq!(down.steps()[0].statements()[0].text(), "SELECT -4;");
    assert_eq!(parses(), 6);
}

#[test]
fn a_file_s_warnings_show_once_even_when_it_runs_twice() {
    let text = "-- +goose Up\nCREATE TABLE q (id int);\n-- +goose StatementBegin\n-- +goose StatementEnd\n\
                INSERT INTO q VALUES (1);\n-- +goose Down\nDROP TABLE q;\n";
    let migrations = vec![Migration::sql(Version::new(1).unwrap(), "00001_q.sql", text)];
    let redo = plan(&migrations, &rows("0 1"), &request("redo"), &|_| None).unwrap();
    assert_eq!(step_names(&redo), ["down 1", "up 1"]);
    assert_eq!(redo.warnings_at(0).len(), 1);
    assert!(redo.warnings_at(1).is_empty(), "the second run of the file repeats nothing");
    assert!(redo.warnings_at(2).is_empty());
    let all: Vec<String> = redo.warnings().map(ToString::to_string).collect();
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].starts_with("00001_q.sql:3: empty StatementBegin/StatementEnd block"), "{all:?}");
}
