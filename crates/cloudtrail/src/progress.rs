//! What a scan tells an observer as it goes, for progress bars and the like.
//!
//! The scan never prints: a command line that wants a bar passes a [`ScanObserver`] in
//! [`crate::ScanOptions::observer`] and draws it itself. Events come from the thread driving
//! the scan (the consumer of the [`crate::Scan`] iterator), in file order, once per file, so an
//! observer needs no ordering logic of its own. Without an observer the scan does no extra
//! work at all (not even the `stat` of every file that [`ScanObserver::started`] needs).

use crate::scan::ScanStats;
use std::path::PathBuf;

/// One file the scan has finished with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDone {
    pub path: PathBuf,
    /// Its size on disk (compressed, for gzip): what [`ScanStats::bytes`] adds up.
    pub bytes: u64,
    /// Rows it gave.
    pub records: u64,
    /// Records (or NDJSON lines) of it that were dropped, each also reported as a diagnostic.
    pub rejected: u64,
    /// Whether it could not be read to its end (rows read before the failure are kept).
    pub failed: bool,
}

/// Receives a scan's progress. All methods have cheap defaults except
/// [`file_done`](ScanObserver::file_done).
pub trait ScanObserver: Send + Sync {
    /// Before any file is read: how many files the scan will read and their total size on
    /// disk (files that cannot be `stat`ed count as 0 bytes).
    fn started(&self, _files: usize, _bytes: u64) {}

    /// Each file, once, when all its rows and diagnostics have been consumed.
    fn file_done(&self, file: &FileDone);

    /// Once, when the scan has read its last file or is dropped (a query with `LIMIT` can
    /// stop reading early, and an error ends it): the place to clear a bar.
    fn finished(&self, _stats: &ScanStats) {}
}
