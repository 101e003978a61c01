//! The text of a SQL migration: in memory (embedded, or given), or on disk and read the first time it is
//! needed, with its checksums computed once. goose's `status` never reads a file's contents; every run
//! reads the applied files (to check their checksums) and the planner the ones it runs.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;

use crate::checksum::Checksums;
use crate::source::ResolveProblem;

/// Where a source file's bytes are.
#[derive(Debug, Clone)]
pub enum FileContents {
    /// Already in memory.
    Memory(Cow<'static, [u8]>),
    /// In this file, read on first use.
    Disk(PathBuf),
    /// None: the entry is not a regular file (a directory or a FIFO named like a migration), which the
    /// resolver refuses.
    NotAFile {
        /// What it is: "a directory", "a FIFO (named pipe)", ...
        what: &'static str,
    },
}

impl FileContents {
    /// The contents of the file at `path`, read on first use; a path that is not a regular file (nor a link
    /// to one) gives [`FileContents::NotAFile`], so that nothing blocks on a FIFO.
    pub fn from_path(path: impl Into<PathBuf>) -> std::io::Result<FileContents> {
        let path = path.into();
        let file_type = std::fs::metadata(&path)?.file_type();
        Ok(if file_type.is_file() {
            FileContents::Disk(path)
        } else {
            FileContents::NotAFile { what: crate::source::describe(file_type) }
        })
    }
}

/// A SQL migration's text.
#[derive(Clone)]
pub struct SqlText {
    /// The path shown in messages.
    display: String,
    inner: Inner,
    /// The checksums, computed once (a caller may compute them ahead, on another thread, while it
    /// connects); `None` inside when the text does not read or parse, which the caller reports itself.
    checksums: OnceLock<Option<Checksums>>,
    /// The digest of the text's bytes, computed once; `None` inside when the text does not read.
    digest: OnceLock<Option<String>>,
    /// The digest of what one read of the file gave (`None` inside when that was not the whole file, as
    /// far as one read can tell): only ever compared for equality with a recorded digest.
    quick_digest: OnceLock<Option<String>>,
}

#[derive(Clone)]
enum Inner {
    Memory(Cow<'static, str>),
    Disk { file: PathBuf, loaded: OnceLock<Result<String, ResolveProblem>> },
}

impl SqlText {
    /// Text already in memory.
    pub fn memory(text: impl Into<Cow<'static, str>>) -> SqlText {
        SqlText {
            display: String::new(),
            inner: Inner::Memory(text.into()),
            checksums: OnceLock::new(),
            digest: OnceLock::new(),
            quick_digest: OnceLock::new(),
        }
    }

    /// From a source file's contents; bytes in memory are checked to be UTF-8 now.
    pub(crate) fn from_contents(display: &str, contents: FileContents) -> Result<SqlText, ResolveProblem> {
        let inner = match contents {
            FileContents::Memory(bytes) => Inner::Memory(decode(display, bytes)?),
            FileContents::Disk(file) => Inner::Disk { file, loaded: OnceLock::new() },
            FileContents::NotAFile { what } => {
                return Err(ResolveProblem::NotAFile { path: display.to_owned(), what });
            }
        };
        Ok(SqlText {
            display: display.to_owned(),
            inner,
            checksums: OnceLock::new(),
            digest: OnceLock::new(),
            quick_digest: OnceLock::new(),
        })
    }

    /// The text, reading the file the first time.
    pub fn get(&self) -> Result<&str, ResolveProblem> {
        match &self.inner {
            Inner::Memory(text) => Ok(text),
            Inner::Disk { file, loaded } => {
                let loaded = loaded.get_or_init(|| {
                    let bytes = read_file(file).map_err(|error| ResolveProblem::Io {
                        path: self.display.clone(),
                        message: error.to_string(),
                    })?;
                    decode(&self.display, Cow::Owned(bytes)).map(Cow::into_owned)
                });
                loaded.as_deref().map_err(Clone::clone)
            }
        }
    }
}

impl SqlText {
    /// The text's checksums (`file` names it in a parse error), computed the first time; `None` when the
    /// text does not read or parse (ask [`Checksums::of`] for the error).
    pub fn checksums(&self, file: &str) -> Option<&Checksums> {
        self.checksums.get_or_init(|| Checksums::of(file, self.get().ok()?).ok()).as_ref()
    }

    /// The digest of the text's bytes (the SHA-256 of its bytes, in lower-case hex), computed the first time; `None`
    /// when the text does not read. Cheaper than [`SqlText::checksums`]: it reads the file but parses
    /// nothing, and an applied file whose digest is the recorded one needs no more.
    pub fn digest(&self) -> Option<&str> {
        self.digest.get_or_init(|| Some(crate::checksum::file_digest(self.get().ok()?.as_bytes()))).as_deref()
    }

    /// Whether the file's bytes have this digest (a recorded one). For a file not read yet this costs one
    /// `read` of it and keeps no text: the check a runner with nothing to do makes of every applied file.
    /// A short read that was not the whole file cannot match a whole file's digest, so a match is exact; a
    /// mismatch is confirmed from the whole text.
    pub fn digest_matches(&self, expected: &str) -> bool {
        if let Some(digest) = self.digest.get() {
            return digest.as_deref() == Some(expected);
        }
        if self.read_ahead() == Some(expected) {
            return true;
        }
        self.digest() == Some(expected)
    }

    /// Reads ahead what [`SqlText::digest_matches`] needs (a caller may do it on another thread while it
    /// connects): for a small file on disk, the digest of one read of it; `None` otherwise.
    pub fn read_ahead(&self) -> Option<&str> {
        let Inner::Disk { file, loaded } = &self.inner else { return self.digest() };
        if loaded.get().is_some() {
            return self.digest();
        }
        self.quick_digest.get_or_init(|| quick_file_digest(file)).as_deref()
    }
}

impl fmt::Debug for SqlText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Memory(text) => f.debug_tuple("SqlText").field(&text.len()).finish(),
            Inner::Disk { file, .. } => f.debug_tuple("SqlText").field(file).finish(),
        }
    }
}

/// Two texts are equal when they read the same (so an embedded and a directory source compare equal).
impl PartialEq for SqlText {
    fn eq(&self, other: &SqlText) -> bool {
        // Equal texts, or both unreadable.
        self.get().ok() == other.get().ok()
    }
}

impl Eq for SqlText {}

/// Most migrations are small; reading up to this much first saves asking the file's size.
const SMALL_FILE: usize = 16 * 1024;

/// A file's bytes. Unlike `std::fs::read`, a small file costs no `statx` (every applied file is read on
/// every run, to check its checksum): up to [`SMALL_FILE`] bytes are read first, and only a larger file's
/// size is asked, so its buffer is allocated once.
fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    thread_local! {
        // One scratch buffer per thread, so each small file's bytes are allocated once, at their size.
        static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(SMALL_FILE));
    }
    let mut file = std::fs::File::open(path)?;
    let head = SCRATCH.with(|scratch| -> std::io::Result<Option<Vec<u8>>> {
        let mut scratch = scratch.borrow_mut();
        scratch.clear();
        let read = (&mut file).take(SMALL_FILE as u64).read_to_end(&mut scratch)?;
        Ok((read < SMALL_FILE).then(|| scratch.to_vec()))
    })?;
    if let Some(bytes) = head {
        return Ok(bytes);
    }
    // A large file: from the start again, into a buffer of its size.
    drop(file);
    std::fs::read(path)
}

/// The digest of a small file from one `read` (open, read, close: no `statx`, no read of the end): `None`
/// when the read filled the buffer (the file may be longer) or failed.
fn quick_file_digest(path: &std::path::Path) -> Option<String> {
    use std::io::Read;
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; SMALL_FILE]);
    }
    let mut file = std::fs::File::open(path).ok()?;
    BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        let read = file.read(&mut buffer).ok()?;
        (read < buffer.len()).then(|| crate::checksum::file_digest(&buffer[..read]))
    })
}

/// The text, or a problem naming the line of the first byte that is not UTF-8.
fn decode(display: &str, contents: Cow<'static, [u8]>) -> Result<Cow<'static, str>, ResolveProblem> {
    let line_of = |bytes: &[u8], offset: usize| 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
    let result = match contents {
        Cow::Borrowed(bytes) => {
            std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|error| line_of(bytes, error.valid_up_to()))
        }
        Cow::Owned(bytes) => String::from_utf8(bytes)
            .map(Cow::Owned)
            .map_err(|error| line_of(error.as_bytes(), error.utf8_error().valid_up_to())),
    };
    result.map_err(|line| ResolveProblem::NotUtf8 { path: display.to_owned(), line })
}
