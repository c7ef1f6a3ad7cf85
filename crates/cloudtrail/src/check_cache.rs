//! What the structural check ([`crate::structure`]) found for large values, remembered across
//! scans: a hunt run scans the same files once per query, each with its own prefilter, and
//! an analyst runs hunt after hunt over the same folder. A file checked well-formed once
//! need not be checked again. Only the verdict is kept (the number of records, or "read it
//! normally"), keyed by the file's identity — device, inode, size, modification and status
//! change times — and the value's place in it, so a file changed in between is simply
//! checked again. (The status change time cannot be set back by a user, so a rewrite that
//! restores the size and modification time is still seen.)
//!
//! [`CheckCache::load`] and [`CheckCache::save`] keep the verdicts in a file between runs,
//! so only the first scan of a set of files pays for the check: the cost of skipping
//! safely is paid once, not by every hunt. The file starts with a header naming the
//! check's version and settings; a file written by another version, or damaged, is
//! ignored and replaced, never trusted.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// Values smaller than this are checked again each time: cheap, and there can be millions.
pub(crate) const MIN_VALUE: usize = 4 << 10;
/// At most this many verdicts are kept (64 MB on disk); later ones are not remembered.
const MAX_ENTRIES: usize = 1 << 20;
/// One saved verdict: nine little-endian u64s.
const ENTRY_BYTES: usize = 9 * 8;

/// A file as it was when it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FileKey {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i64,
    ctime_ns: i64,
}

impl FileKey {
    pub(crate) fn of(path: &std::path::Path) -> Option<FileKey> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
        Some(FileKey {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime_ns: ns(m.mtime(), m.mtime_nsec()),
            ctime_ns: ns(m.ctime(), m.ctime_nsec()),
        })
    }
}

type Key = (FileKey, u64, usize);

/// Shared by every scan that passes the same cache in [`crate::ScanOptions::check_cache`].
#[derive(Default)]
pub struct CheckCache {
    verdicts: Mutex<Verdicts>,
}

#[derive(Default)]
struct Verdicts {
    /// Each verdict, and whether this run used or made it.
    map: HashMap<Key, (Option<u64>, bool)>,
    /// Verdicts added since the cache was loaded.
    added: usize,
}

impl std::fmt::Debug for CheckCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.verdicts.lock().map_or(0, |m| m.map.len());
        write!(f, "CheckCache({n} verdicts)")
    }
}

/// What a saved file must start with: the format, this crate's version and the settings the
/// verdicts depend on (a verdict may change with any of them).
fn header(limits: &crate::Limits) -> String {
    use crate::structure as s;
    format!(
        "trailhunt structure-check verdicts v1; cloudtrail {}; rules {}; big record {}; depth {} {}; number {}\n",
        env!("CARGO_PKG_VERSION"),
        s::RULES_VERSION,
        limits.big_record(),
        s::MAX_DEPTH,
        s::MAX_NESTING,
        s::MAX_NUMBER,
    )
}

impl CheckCache {
    /// The verdicts saved at `path` for checks under `limits`; an empty cache when there is
    /// no such file, or it was written by another version or with other settings, or is
    /// damaged (it is then replaced by the next [`CheckCache::save`]).
    pub fn load(path: &Path, limits: &crate::Limits) -> CheckCache {
        let cache = CheckCache::default();
        let Ok(bytes) = std::fs::read(path) else {
            return cache;
        };
        let head = header(limits);
        let Some(body) = bytes.strip_prefix(head.as_bytes()) else {
            return cache;
        };
        if body.len() % ENTRY_BYTES != 0 {
            return cache;
        }
        let mut map = HashMap::with_capacity(body.len() / ENTRY_BYTES);
        for e in body.chunks_exact(ENTRY_BYTES).take(MAX_ENTRIES) {
            let w = |i: usize| u64::from_le_bytes(e[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            let file = FileKey {
                dev: w(0),
                ino: w(1),
                len: w(2),
                mtime_ns: w(3) as i64,
                ctime_ns: w(4) as i64,
            };
            let verdict = match w(8) {
                u64::MAX => None,
                n => Some(n),
            };
            map.insert((file, w(5), w(6) as usize), (verdict, false));
            // w(7) is reserved (0).
        }
        CheckCache {
            verdicts: Mutex::new(Verdicts { map, added: 0 }),
        }
    }

    /// Writes the verdicts to `path` (through a temporary file beside it and a rename, so a
    /// reader never sees half a file), when any were added since [`CheckCache::load`].
    /// When the cache is more than half full, only the verdicts used or made by this run are
    /// written, so verdicts on files long gone do not fill it for ever.
    pub fn save(&self, path: &Path, limits: &crate::Limits) -> std::io::Result<()> {
        let Ok(v) = self.verdicts.lock() else {
            return Ok(());
        };
        if v.added == 0 {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        {
            let mut out = std::io::BufWriter::new(tmp.as_file_mut());
            out.write_all(header(limits).as_bytes())?;
            let prune = v.map.len() > MAX_ENTRIES / 2;
            for ((f, offset, len), (verdict, used)) in &v.map {
                if prune && !used {
                    continue;
                }
                let words = [
                    f.dev,
                    f.ino,
                    f.len,
                    f.mtime_ns as u64,
                    f.ctime_ns as u64,
                    *offset,
                    *len as u64,
                    0,
                    verdict.unwrap_or(u64::MAX),
                ];
                for w in words {
                    out.write_all(&w.to_le_bytes())?;
                }
            }
            out.flush()?;
        }
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

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
        if let Ok(mut m) = self.verdicts.lock() {
            if let Some((v, used)) = m.map.get_mut(&key) {
                *used = true;
                return *v;
            }
        }
        let v = check();
        if let Ok(mut m) = self.verdicts.lock() {
            if m.map.len() < MAX_ENTRIES && m.map.insert(key, (v, true)).is_none() {
                m.added += 1;
            }
        }
        v
    }

    /// How many verdicts the cache holds.
    pub fn len(&self) -> usize {
        self.verdicts.lock().map_or(0, |m| m.map.len())
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;
    use std::cell::Cell;

    /// The verdict `cache` gives `path`, and whether the check had to run for it.
    fn verdict(cache: &CheckCache, path: &Path, answer: Option<u64>) -> (Option<u64>, bool) {
        let ran = Cell::new(false);
        let key = FileKey::of(path).unwrap();
        let v = cache.get_or_check(key, 7, 100, || {
            ran.set(true);
            answer
        });
        (v, ran.get())
    }

    #[test]
    fn verdicts_survive_a_save_and_load_and_a_changed_file_is_checked_again() {
        let dir = tempfile::tempdir().unwrap();
        let saved = dir.path().join("cache/checks");
        let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
        std::fs::write(&a, "{}").unwrap();
        std::fs::write(&b, "[]").unwrap();
        let limits = Limits::default();

        let first = CheckCache::load(&saved, &limits);
        assert!(first.is_empty());
        assert_eq!(verdict(&first, &a, Some(3)), (Some(3), true));
        assert_eq!(verdict(&first, &b, None), (None, true));
        assert_eq!(verdict(&first, &a, Some(9)), (Some(3), false));
        first.save(&saved, &limits).unwrap();

        let second = CheckCache::load(&saved, &limits);
        assert_eq!(second.len(), 2);
        assert_eq!(verdict(&second, &a, Some(9)), (Some(3), false));
        assert_eq!(verdict(&second, &b, Some(9)), (None, false));

        // Rewritten with the same size and modification time: the status change time moves.
        let m = std::fs::metadata(&a).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&a, "[]").unwrap();
        let f = std::fs::File::options().write(true).open(&a).unwrap();
        f.set_modified(m.modified().unwrap()).unwrap();
        drop(f);
        assert_eq!(verdict(&second, &a, Some(1)), (Some(1), true));

        // Other settings: nothing is trusted.
        let other = Limits {
            max_field: 1000,
            ..Limits::default()
        };
        assert!(CheckCache::load(&saved, &other).is_empty());
    }

    #[test]
    fn a_damaged_or_foreign_file_is_ignored_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let saved = dir.path().join("checks");
        let a = dir.path().join("a.json");
        std::fs::write(&a, "{}").unwrap();
        let limits = Limits::default();
        let cache = CheckCache::load(&saved, &limits);
        verdict(&cache, &a, Some(5));
        cache.save(&saved, &limits).unwrap();
        let mut bytes = std::fs::read(&saved).unwrap();
        bytes.pop();
        std::fs::write(&saved, &bytes).unwrap();
        assert!(CheckCache::load(&saved, &limits).is_empty(), "cut short");
        std::fs::write(&saved, b"not a cache at all").unwrap();
        let cache = CheckCache::load(&saved, &limits);
        assert!(cache.is_empty(), "foreign");
        assert_eq!(verdict(&cache, &a, Some(5)), (Some(5), true));
        cache.save(&saved, &limits).unwrap();
        assert_eq!(CheckCache::load(&saved, &limits).len(), 1);
        // Nothing new: not written again.
        let before = std::fs::metadata(&saved).unwrap().modified().unwrap();
        CheckCache::load(&saved, &limits)
            .save(&saved, &limits)
            .unwrap();
        assert_eq!(
            std::fs::metadata(&saved).unwrap().modified().unwrap(),
            before
        );
    }
}
