//! goose's log lines: stderr, a local-time `YYYY/MM/DD HH:MM:SS ` prefix, Go's duration format.

use std::time::Duration;

/// Writes one goose log line to stderr.
#[allow(clippy::print_stderr)] // The CLI's output is its job; goose logs to stderr.
pub(crate) fn log(line: &str) {
    eprintln!("{} {line}", chrono::Local::now().format("%Y/%m/%d %H:%M:%S"));
}

/// A duration as goose prints it: Go's `Duration.String()` of the value rounded to 1/100 of its largest
/// unit (`1.23s`, `12.35ms`, `123.46µs`, `850ns`).
pub(crate) fn go_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    let (unit_nanos, unit) = match nanos {
        0..1_000 => return format!("{nanos}ns"),
        1_000..1_000_000 => (1_000u128, "µs"),
        1_000_000..1_000_000_000 => (1_000_000, "ms"),
        _ if nanos < 60_000_000_000 => (1_000_000_000, "s"),
        _ => {
            let seconds = (nanos + 5_000_000) / 10_000_000; // hundredths of a second
            let minutes = seconds / 6000;
            let rest = seconds % 6000;
            return format!("{minutes}m{}s", trim_decimal(rest / 100, rest % 100));
        }
    };
    let hundredths = (nanos * 100 + unit_nanos / 2) / unit_nanos;
    format!("{}{unit}", trim_decimal(hundredths / 100, hundredths % 100))
}

fn trim_decimal(whole: u128, hundredths: u128) -> String {
    match hundredths {
        0 => whole.to_string(),
        h if h % 10 == 0 => format!("{whole}.{}", h / 10),
        h => format!("{whole}.{h:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let cases = [
            (Duration::from_nanos(850), "850ns"),
            (Duration::from_nanos(123_456), "123.46µs"),
            (Duration::from_nanos(12_345_678), "12.35ms"),
            (Duration::from_millis(1_234), "1.23s"),
            (Duration::from_millis(1_200), "1.2s"),
            (Duration::from_secs(2), "2s"),
            (Duration::from_millis(62_500), "1m2.5s"),
        ];
        for (duration, expected) in cases {
            assert_eq!(go_duration(duration), expected);
        }
    }
}
