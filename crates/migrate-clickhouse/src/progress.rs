//! Reading the progress log (`<version table>_progress`) and ordering its writes.
//!
//! Writes are appends: the newest row of a version (highest `seq`) is its state and `done = 0` means
//! cleared, so recording progress never needs a mutation. `seq` only has to grow across the writes of the
//! lock holder, which is the only writer: it continues from the table's maximum, read once per lock hold,
//! and never falls behind the wall clock in nanoseconds, so even runs without the lock rarely collide.

use migrate_core::{Direction, Progress, Version};

use crate::error::ChError;

/// Orders progress writes.
#[derive(Debug, Default)]
pub(crate) struct Sequence {
    last: Option<u64>,
}

impl Sequence {
    /// Whether the table's maximum must be read first.
    pub(crate) fn needs_start(&self) -> bool {
        self.last.is_none()
    }

    /// Continues after `max`, the table's largest `seq`.
    pub(crate) fn start(&mut self, max: u64) {
        self.last = Some(max);
    }

    /// Forgets the position (when the lock changes hands, someone else may have written).
    pub(crate) fn reset(&mut self) {
        self.last = None;
    }

    pub(crate) fn next(&mut self) -> u64 {
        let next = self.last.unwrap_or(0).saturating_add(1).max(crate::lock::unix_nanos());
        self.last = Some(next);
        next
    }
}

/// One row of the progress query: `version_id, direction, done, total, checksum`.
pub(crate) fn parse_row(row: &[String]) -> Result<Progress, ChError> {
    let unexpected = || ChError::Unexpected { action: "reading migration progress", text: row.join("\t") };
    let [version, direction, done, total, checksum] = row else { return Err(unexpected()) };
    let version = version.parse().ok().and_then(Version::new).ok_or_else(unexpected)?;
    let direction = match direction.as_str() {
        "up" => Direction::Up,
        "down" => Direction::Down,
        _ => return Err(unexpected()),
    };
    Ok(Progress {
        version,
        direction,
        done: done.parse().map_err(|_| unexpected())?,
        total: total.parse().map_err(|_| unexpected())?,
        checksum: checksum.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn rows() {
        let progress = parse_row(&row(&["7", "down", "2", "5", "ab"])).unwrap();
        assert_eq!(
            (progress.version.get(), progress.direction, progress.done, progress.total),
            (7, Direction::Down, 2, 5)
        );
        for bad in [&["x", "up", "1", "2", ""][..], &["7", "sideways", "1", "2", ""], &["7", "up", "1"]] {
            assert!(parse_row(&row(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sequence_grows() {
        let mut seq = Sequence::default();
        assert!(seq.needs_start());
        seq.start(u64::MAX - 1);
        assert_eq!(seq.next(), u64::MAX);
        assert_eq!(seq.next(), u64::MAX);
        seq.reset();
        let a = seq.next();
        assert!(seq.next() > a);
    }
}
