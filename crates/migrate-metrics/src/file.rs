//! Writing a run's series to a file for node_exporter's textfile collector: the previous file's values are
//! carried forward, and the new file replaces it atomically, so the collector never reads half a file.

use std::fs;
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::MetricsError;
use crate::text::render;
use crate::{Previous, RunMetrics};

/// Makes temporary names unique among the threads of one process (the PID tells processes apart).
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// Writes the run's series to `path` (name it `*.prom` for the textfile collector), carrying forward the
/// failure count and last success of the file it replaces. A missing file, or one that is not UTF-8 text,
/// counts as no previous run. The text goes to a temporary file in the same directory (a dot name not
/// ending in `.prom`, which the collector skips) that is synced and then renamed over `path`.
pub fn write_file(path: &Path, metrics: &RunMetrics) -> Result<(), MetricsError> {
    let name = path.file_name().ok_or_else(|| MetricsError::FilePath { path: path.to_owned() })?;
    let previous = match fs::read_to_string(path) {
        Ok(text) => Previous::from_text(&text, &metrics.service),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidData) => Previous::default(),
        Err(source) => return Err(MetricsError::ReadFile { path: path.to_owned(), source }),
    };
    let text = render(metrics, &previous);

    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.{}.tmp", std::process::id(), SEQUENCE.fetch_add(1, Ordering::Relaxed)));
    let temp = dir.join(temp_name);
    let written = write_synced(&temp, text.as_bytes())
        .map_err(|source| MetricsError::WriteFile { path: temp.clone(), source })
        .and_then(|()| {
            fs::rename(&temp, path).map_err(|source| MetricsError::WriteFile { path: path.to_owned(), source })
        });
    if written.is_err() {
        // Leave no stray temporary file behind; the error that matters is the one above.
        let _ = fs::remove_file(&temp);
    }
    written
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    // On disk before the rename, so a crash leaves the old file or the new one, never an empty one.
    file.sync_all()
}
