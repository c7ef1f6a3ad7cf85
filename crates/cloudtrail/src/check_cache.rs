//! What the structural check ([`crate::structure`]) found for large values, remembered across
//! the scans of one run: a hunt run scans the same files once per query, each with its own
//! prefilter, and a file checked well-formed for the first query need not be checked again
//! for the next. Only the verdict is kept (the number of records, or "read it normally"),
//! keyed by the file's identity (device, inode, size, modification time) and the value's
//! place in it, so a file changed in between is simply checked again.

use std::collections::HashMap;
use std::sync::Mutex;

/// Values smaller than this are checked again each time: cheap, and there can be millions.
pub(crate) const MIN_VALUE: usize = 4 << 10;
/// At most this many verdicts are kept (a few tens of MB); later ones are not remembered.
const MAX_ENTRIES: usize = 1 << 20;

/// A file as it was when it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FileKey {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
}

impl FileKey {
    pub(crate) fn of(path: &std::path::Path) -> Option<FileKey> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(FileKey {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
        })
    }
}

/// Shared by every scan that passes the same cache in [`crate::ScanOptions::check_cache`].
#[derive(Default)]
pub struct CheckCache {
    verdicts: Mutex<HashMap<(FileKey, u64, usize), Option<u64>>>,
}

impl std::fmt::Debug for CheckCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.verdicts.lock().map_or(0, |m| m.len());
        write!(f, "CheckCache({n} verdicts)")
    }
}

impl CheckCache {
    /// The verdict for the value of `len` bytes at `offset` of `file`, computing it with
    /// `check` the first time.
    pub(crate) fn get_or_check(
        &self,
        file: FileKey,
        offset: u64,
        len: usize,
        check: impl FnOnce() -> Option<u64>,
    ) -> Option<u64> {
        let key = (file, offset, len);
        if let Some(v) = self.verdicts.lock().ok().and_then(|m| m.get(&key).copied()) {
            return v;
        }
        let v = check();
        if let Ok(mut m) = self.verdicts.lock() {
            if m.len() < MAX_ENTRIES {
                m.insert(key, v);
            }
        }
        v
    }
}
