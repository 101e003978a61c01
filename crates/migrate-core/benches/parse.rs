//! Throughput, linearity and peak-memory benchmark of the goose annotation parser, [`migrate_core::parse`].
//!
//! Run with `cargo bench -p migrate-goose-core --bench parse`. Each case generates a migration in memory (nothing
//! is written to disk), parses it once to check the result (and once more in a child process to measure peak
//! memory), then parses it [`RUNS`] times for the timings. The process exits with status 1 when the 50 MB LF case misses the
//! issue's targets (at least [`GATE_MB_PER_S`] MB/s on the fastest run, extra peak memory at most
//! [`GATE_EXTRA_RATIO`] times the file), so the bench can be used as a gate.
//!
//! Peak memory (Linux only) is measured in a fresh child process per case (this executable, re-run with
//! `MIGRATE_PARSE_BENCH_CHILD` set): measured in this process, the heap left by an earlier case's parses is
//! reused and hides the parse's own allocations. The child generates the text, writes `5` to
//! `/proc/self/clear_refs` to reset the peak RSS to the current RSS, parses once and reads `VmHWM` from
//! `/proc/self/status`. When `clear_refs` cannot be written (or `MIGRATE_PARSE_BENCH_NO_CLEAR_REFS` is set),
//! the peak also covers generating the text, which reserves the text's size once and so stays below the
//! parse's peak.

// A benchmark reports on stdout and stderr; the workspace warns on printing only because libraries must not.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use migrate_core::{parse, Direction, ParsedMigration};

/// Timed parses per case.
const RUNS: usize = 7;
/// MB as in MB/s.
const MB: f64 = 1e6;
/// The throughput target for the 50 MB LF case. Checked on the fastest of the runs: other work on the
/// machine only ever adds time, and on a busy 2-core machine it moved the median by a third.
const GATE_MB_PER_S: f64 = 300.0;
/// The memory target: peak at most twice the file, so at most one file's worth above the text.
const GATE_EXTRA_RATIO: f64 = 1.0;
/// Set (to a case index) in the child processes that measure memory.
const CHILD_ENV: &str = "MIGRATE_PARSE_BENCH_CHILD";
/// Set to measure memory without resetting the peak (to test that fallback).
const NO_CLEAR_REFS_ENV: &str = "MIGRATE_PARSE_BENCH_NO_CLEAR_REFS";
/// The file name passed to the parser.
const FILE: &str = "00001_bench.sql";

#[derive(Debug, Clone, Copy)]
struct Case {
    name: &'static str,
    size: usize,
    crlf: bool,
    envsub: bool,
}

/// CRLF and ENVSUB are the paths where statements can own their text instead of borrowing the file, but only
/// some do: under CRLF the multi-line ones (a `\r` sits between the lines), under ENVSUB the lines with a `$`
/// (here the `DO $$` blocks); the `owned` column counts them.
const CASES: [Case; 5] = [
    Case { name: "5 MB LF", size: 5_000_000, crlf: false, envsub: false },
    Case { name: "25 MB LF", size: 25_000_000, crlf: false, envsub: false },
    Case { name: "50 MB LF", size: 50_000_000, crlf: false, envsub: false },
    Case { name: "50 MB CRLF", size: 50_000_000, crlf: true, envsub: false },
    Case { name: "50 MB ENVSUB", size: 50_000_000, crlf: false, envsub: true },
];
/// The gated case.
const GATE_CASE: usize = 2;
/// The linearity cases (5, 25, 50 MB LF).
const LINEAR_CASES: [usize; 3] = [0, 1, 2];

/// A generated migration and what parsing it must give.
struct Generated {
    text: String,
    up_statements: usize,
    first_up_line: usize,
}

/// Appends one line; writing to a `String` cannot fail.
fn line(text: &mut String, newline: &str, args: std::fmt::Arguments<'_>) {
    let _ = text.write_fmt(args);
    text.push_str(newline);
}

/// A goose migration of single-row INSERTs of at least `case.size` bytes: every 50th statement a multi-line
/// one after a comment line, every 1000th a `StatementBegin`/`StatementEnd` block.
fn generate(case: Case) -> Generated {
    let nl = if case.crlf { "\r\n" } else { "\n" };
    // Reserve the final size up front so that generating does not leave a larger, half-used allocation.
    let mut text = String::with_capacity(case.size + 512);
    line(&mut text, nl, format_args!("-- +goose Up"));
    if case.envsub {
        line(&mut text, nl, format_args!("-- +goose ENVSUB ON"));
    }
    let first_up_line = if case.envsub { 3 } else { 2 };
    line(&mut text, nl, format_args!("CREATE TABLE bench (id int, name text);"));
    let mut up_statements = 1;
    let mut n: u64 = 0;
    while text.len() < case.size {
        n += 1;
        if n.is_multiple_of(1000) {
            line(&mut text, nl, format_args!("-- +goose StatementBegin"));
            line(&mut text, nl, format_args!("DO $$"));
            line(&mut text, nl, format_args!("BEGIN"));
            line(&mut text, nl, format_args!("  INSERT INTO bench (id, name) VALUES ({n}, 'name-{n}');"));
            line(&mut text, nl, format_args!("END"));
            line(&mut text, nl, format_args!("$$;"));
            line(&mut text, nl, format_args!("-- +goose StatementEnd"));
        } else if n.is_multiple_of(50) {
            line(&mut text, nl, format_args!("-- comment before statement {n}"));
            line(&mut text, nl, format_args!("INSERT INTO bench (id, name)"));
            line(&mut text, nl, format_args!("  VALUES ({n}, 'name-{n}');"));
        } else {
            line(&mut text, nl, format_args!("INSERT INTO bench (id, name) VALUES ({n}, 'name-{n}');"));
        }
        up_statements += 1;
    }
    line(&mut text, nl, format_args!("-- +goose Down"));
    line(&mut text, nl, format_args!("DROP TABLE bench;"));
    Generated { text, up_statements, first_up_line }
}

fn no_variables(_: &str) -> Option<String> {
    None
}

/// Checks a parse of `generated`; returns how many statements own their text instead of borrowing it.
fn check(generated: &Generated, parsed: &ParsedMigration<'_>) -> Result<usize, String> {
    let up = parsed.statements(Direction::Up);
    let down = parsed.statements(Direction::Down);
    if up.len() != generated.up_statements || down.len() != 1 {
        return Err(format!(
            "wrong statement counts: {} up (expected {}), {} down (expected 1)",
            up.len(),
            generated.up_statements,
            down.len()
        ));
    }
    let first = &up[0];
    if first.text() != "CREATE TABLE bench (id int, name text);" || first.line() != generated.first_up_line {
        return Err(format!("wrong first Up statement {:?} on line {}", first.text(), first.line()));
    }
    if down[0].text() != "DROP TABLE bench;" {
        return Err(format!("wrong Down statement {:?}", down[0].text()));
    }
    if !parsed.warnings().is_empty() {
        return Err(format!("unexpected warnings: {:?}", parsed.warnings()));
    }
    let range = generated.text.as_bytes().as_ptr_range();
    let mut owned = 0;
    for statement in up.iter().chain(down) {
        if statement.text().contains('\r') {
            return Err(format!("statement on line {} keeps a '\\r'", statement.line()));
        }
        if !range.contains(&statement.text().as_ptr()) {
            owned += 1;
        }
    }
    Ok(owned)
}

/// A field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let rest = status.lines().find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?;
    let kb: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kb * 1024)
}

/// Resets the peak RSS to the current RSS; false when not permitted or not Linux.
#[allow(clippy::disallowed_methods)] // The benchmark's parent passes switches to its children this way.
fn reset_peak() -> bool {
    std::env::var_os(NO_CLEAR_REFS_ENV).is_none() && std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[derive(Debug, Clone, Copy)]
struct Memory {
    /// RSS just before the parse.
    before: u64,
    /// Peak RSS: since the reset before the parse, or since the process started when it could not be reset.
    peak: u64,
}

/// One checked parse; returns how many statements own their text.
fn probe(generated: &Generated) -> Result<usize, String> {
    let parsed = parse(FILE, &generated.text, &no_variables).map_err(|e| format!("parse failed: {e}"))?;
    check(generated, &parsed)
}

/// The child process: generate one case, reset the peak RSS if permitted, parse once, print `before peak`.
fn child(index: &str) -> Result<(), String> {
    let case = index.parse::<usize>().ok().and_then(|i| CASES.get(i)).ok_or(format!("no case {index:?}"))?;
    let generated = generate(*case);
    reset_peak();
    let before = status_bytes("VmRSS").ok_or("no VmRSS in /proc/self/status")?;
    probe(&generated)?;
    let peak = status_bytes("VmHWM").ok_or("no VmHWM in /proc/self/status")?;
    println!("{before} {peak}");
    Ok(())
}

/// Runs the child process for case `index`.
fn memory_in_child(index: usize) -> Result<Memory, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the bench executable: {e}"))?;
    let output = Command::new(exe)
        .env(CHILD_ENV, index.to_string())
        .output()
        .map_err(|e| format!("cannot start the memory child process: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("memory child process failed ({}): {stderr}", output.status));
    }
    let mut numbers = stdout.split_whitespace().map(str::parse::<u64>);
    match (numbers.next(), numbers.next()) {
        (Some(Ok(before)), Some(Ok(peak))) => Ok(Memory { before, peak }),
        _ => Err(format!("memory child process printed {stdout:?}")),
    }
}

struct Row {
    case: Case,
    bytes: usize,
    statements: usize,
    owned: usize,
    median: Duration,
    min: Duration,
    memory: Option<Memory>,
}

impl Row {
    fn mb_per_s(&self, time: Duration) -> f64 {
        self.bytes as f64 / MB / time.as_secs_f64()
    }

    /// From the fastest run, the least disturbed by other work on the machine.
    fn ns_per_byte(&self) -> f64 {
        self.min.as_secs_f64() * 1e9 / self.bytes as f64
    }

    fn extra_ratio(&self) -> Option<f64> {
        self.memory.map(|m| m.peak.saturating_sub(m.before) as f64 / self.bytes as f64)
    }

    fn peak_ratio(&self) -> Option<f64> {
        self.memory.map(|m| m.peak as f64 / self.bytes as f64)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemoryMode {
    /// A fresh child process per case, peak RSS reset through `clear_refs` after generating the text.
    ChildReset,
    /// A fresh child process per case, `clear_refs` not writable: the peak also covers generating the text.
    ChildNoReset,
    /// No `/proc`: not measured.
    Unavailable,
}

fn run_case(index: usize, mode: MemoryMode) -> Result<Row, String> {
    let memory = match mode {
        MemoryMode::ChildReset | MemoryMode::ChildNoReset => Some(memory_in_child(index)?),
        MemoryMode::Unavailable => None,
    };
    let case = CASES[index];
    let generated = generate(case);
    // Checks the result and warms up.
    let owned = probe(&generated)?;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let parsed = parse(black_box(FILE), black_box(&generated.text), &no_variables);
        let elapsed = start.elapsed();
        let parsed = parsed.map_err(|e| format!("parse failed: {e}"))?;
        black_box(&parsed);
        drop(parsed);
        times.push(elapsed);
    }
    times.sort();
    Ok(Row {
        case,
        bytes: generated.text.len(),
        statements: generated.up_statements + 1,
        owned,
        median: times[RUNS / 2],
        min: times[0],
        memory,
    })
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"))
}

/// Each workload's shape at 200 kB, parsed and checked once.
fn smoke() -> ExitCode {
    for case in CASES {
        let small = Case { size: 200_000, ..case };
        if let Err(message) = probe(&generate(small)) {
            eprintln!("parse bench smoke test, {}: {message}", case.name);
            return ExitCode::FAILURE;
        }
    }
    println!("parse bench smoke test: {} workloads parse as expected (run `cargo bench` for the figures)", CASES.len());
    ExitCode::SUCCESS
}

#[allow(clippy::disallowed_methods)] // The benchmark's parent passes switches to its children this way.
fn main() -> ExitCode {
    if let Some(index) = std::env::var_os(CHILD_ENV) {
        return match child(&index.to_string_lossy()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("parse bench child: {message}");
                ExitCode::FAILURE
            }
        };
    }
    // `cargo test --all-targets` runs this bench too, without `--bench` and in a debug build: there it only
    // checks that every workload parses into the right statements; timing and its gate are `cargo bench`'s.
    if !std::env::args().any(|arg| arg == "--bench") {
        return smoke();
    }
    let mode = if status_bytes("VmHWM").is_none() {
        MemoryMode::Unavailable
    } else if reset_peak() {
        MemoryMode::ChildReset
    } else {
        MemoryMode::ChildNoReset
    };
    println!(
        "migrate_core::parse: {RUNS} timed parses per case; MB = 1e6 bytes; MB/s and Mstmt/s from the median run, \
         MB/s max and ns/B from the fastest"
    );
    match mode {
        MemoryMode::ChildReset => println!(
            "memory: one parse in a fresh child process per case (so no earlier case's heap is reused), \
             peak RSS reset through /proc/self/clear_refs after generating the text"
        ),
        MemoryMode::ChildNoReset => println!(
            "memory: one parse in a fresh child process per case; /proc/self/clear_refs is not writable, \
             so the peak also covers generating the text (which stays below the parse's peak)"
        ),
        MemoryMode::Unavailable => println!("memory: no /proc/self/status (not Linux?), not measured"),
    }
    println!(
        "case               MB    stmts  owned median ms   min ms    MB/s MB/s max  Mstmt/s  ns/B min  extra peak/file"
    );
    let mut rows = Vec::with_capacity(CASES.len());
    for (index, case) in CASES.iter().enumerate() {
        let row = match run_case(index, mode) {
            Ok(row) => row,
            Err(message) => {
                eprintln!("{}: {message}", case.name);
                return ExitCode::FAILURE;
            }
        };
        println!(
            "{:<13} {:>7.2} {:>8} {:>6} {:>9.1} {:>8.1} {:>7.0} {:>8.0} {:>8.2} {:>8.3} {:>6} {:>9}",
            row.case.name,
            row.bytes as f64 / MB,
            row.statements,
            row.owned,
            row.median.as_secs_f64() * 1e3,
            row.min.as_secs_f64() * 1e3,
            row.mb_per_s(row.median),
            row.mb_per_s(row.min),
            row.statements as f64 / row.median.as_secs_f64() / 1e6,
            row.ns_per_byte(),
            ratio(row.extra_ratio()),
            ratio(row.peak_ratio()),
        );
        rows.push(row);
    }
    println!(
        "owned = statements copied out of the file; extra = (peak RSS - RSS before the parse) / file; \
         peak/file = peak RSS (whole process) / file"
    );

    let [small, middle, large] = LINEAR_CASES.map(|i| &rows[i]);
    println!(
        "linearity (fastest runs): ns/B {:.3} at {:.0} MB, {:.3} at {:.0} MB, {:.3} at {:.0} MB; per-byte time {:.0} MB / {:.0} MB \
         = {:.2} (1.00 = linear)",
        small.ns_per_byte(),
        small.bytes as f64 / MB,
        middle.ns_per_byte(),
        middle.bytes as f64 / MB,
        large.ns_per_byte(),
        large.bytes as f64 / MB,
        large.bytes as f64 / MB,
        small.bytes as f64 / MB,
        large.ns_per_byte() / small.ns_per_byte(),
    );

    let gate = &rows[GATE_CASE];
    let mut failures = Vec::new();
    let speed = gate.mb_per_s(gate.min);
    if speed < GATE_MB_PER_S {
        failures.push(format!("fastest run {speed:.0} MB/s < {GATE_MB_PER_S:.0} MB/s"));
    }
    match gate.extra_ratio() {
        Some(extra) if extra > GATE_EXTRA_RATIO => {
            failures.push(format!("extra memory {extra:.2} x file > {GATE_EXTRA_RATIO:.1} (peak over 2x file)"))
        }
        Some(_) => {}
        None => println!("gate: memory not measured, only speed gated"),
    }
    if failures.is_empty() {
        let extra = ratio(gate.extra_ratio());
        println!(
            "gate ({}): PASS: fastest run {speed:.0} MB/s >= {GATE_MB_PER_S:.0}, extra memory {extra} <= \
             {GATE_EXTRA_RATIO:.1}",
            gate.case.name
        );
        ExitCode::SUCCESS
    } else {
        println!("gate ({}): FAIL: {}", gate.case.name, failures.join("; "));
        ExitCode::FAILURE
    }
}
