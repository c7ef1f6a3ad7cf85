//! Ingest progress for the caller to draw (the store never prints).
//!
//! The callback sees one [`Progress`] when the work is known (the files to read and their
//! bytes), one after every file read (with that file in [`Progress::file`]) and a last one
//! with [`Progress::finished`] set. Files are reported from the ingest's own thread, so the
//! callback needs to be neither `Send` nor fast to be correct; drawing is its business.

use cloudtrail::{FileDone, ScanObserver};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Receives running totals while ingesting: once at the start, once per file, once at the end.
pub type ProgressFn = Box<dyn FnMut(&Progress)>;

/// Running totals of an ingest.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Files to read (those already in the store are not counted).
    pub files_total: usize,
    pub files_done: usize,
    /// Their size on disk.
    pub bytes_total: u64,
    pub bytes_done: u64,
    pub records: u64,
    pub rejected: u64,
    pub elapsed_secs: f64,
    /// The file this report is about; `None` on the first and the last report.
    pub file: Option<FileDone>,
    /// Set on the last report of an ingest.
    pub finished: bool,
}

/// Collects the scan's finished files (the scan's observer must be `Send + Sync`; the
/// caller's callback need not be) until the ingest thread hands them on.
#[derive(Default, Clone)]
pub(crate) struct FileQueue(Arc<Mutex<Vec<FileDone>>>);

impl ScanObserver for FileQueue {
    fn file_done(&self, file: &FileDone) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(file.clone());
    }
}

impl FileQueue {
    pub(crate) fn observer(&self) -> Arc<dyn ScanObserver> {
        Arc::new(self.clone())
    }

    /// Adds the files finished since the last call to `progress` and reports each.
    pub(crate) fn drain(
        &self,
        progress: &mut Progress,
        started: Instant,
        callback: Option<&mut ProgressFn>,
    ) {
        let files = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        let mut callback = callback;
        for f in files {
            progress.files_done += 1;
            progress.bytes_done += f.bytes;
            progress.records += f.records;
            progress.rejected += f.rejected;
            progress.elapsed_secs = started.elapsed().as_secs_f64();
            if let Some(cb) = callback.as_mut() {
                progress.file = Some(f);
                cb(progress);
            }
        }
        progress.file = None;
    }
}

#[cfg(test)]
mod tests {
    use super::Progress;
    use std::cell::RefCell;
    use std::path::{Path, PathBuf};
    use std::rc::Rc;

    fn sample_files() -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample/AWSLogs");
        sources::expand_local(&[dir.display().to_string()]).unwrap()
    }

    /// Ingests `files` (in commits of `commit_files`) and returns every report.
    fn ingest(store: &crate::Store, files: &[PathBuf], commit_files: usize) -> Vec<Progress> {
        let seen: Rc<RefCell<Vec<Progress>>> = Rc::default();
        let sink = seen.clone();
        let opts = crate::IngestOptions {
            progress: Some(Box::new(move |p: &Progress| {
                sink.borrow_mut().push(p.clone())
            })),
            commit_files: Some(commit_files),
            ..Default::default()
        };
        let report = store.ingest(files, opts).unwrap();
        let seen = seen.take();
        let last = seen.last().unwrap();
        assert!(last.finished);
        assert_eq!(last.records, report.records);
        assert_eq!(last.bytes_done, report.bytes_read);
        assert_eq!(last.files_done, report.files_ingested);
        seen
    }

    #[test]
    fn ingest_reports_every_sample_file_once_with_its_bytes_and_records() {
        let tmp = tempfile::tempdir().unwrap();
        let store = crate::Store::create(tmp.path().join("s")).unwrap();
        let files = sample_files();
        let bytes: u64 = files
            .iter()
            .map(|f| std::fs::metadata(f).unwrap().len())
            .sum();
        // Several commits, so totals carry over from one chunk to the next.
        let seen = ingest(&store, &files, 100);
        let (first, last) = (&seen[0], &seen[seen.len() - 1]);
        assert_eq!((first.files_total, first.bytes_total), (files.len(), bytes));
        assert_eq!(
            (first.files_done, first.bytes_done, first.records),
            (0, 0, 0)
        );
        assert!(first.file.is_none() && !first.finished);
        assert_eq!((last.files_done, last.bytes_done), (files.len(), bytes));
        assert!(last.records > 3000, "{last:?}");

        let per_file: Vec<&Progress> = seen.iter().filter(|p| p.file.is_some()).collect();
        assert_eq!(per_file.len() + 2, seen.len(), "start, one per file, end");
        let mut named: Vec<PathBuf> = per_file
            .iter()
            .map(|p| p.file.as_ref().unwrap().path.clone())
            .collect();
        named.sort();
        let mut want = files.clone();
        want.sort();
        assert_eq!(named, want, "every file exactly once");
        // Running totals are the sums of the files reported so far.
        let (mut n, mut b, mut r) = (0, 0, 0);
        for p in &per_file {
            let f = p.file.as_ref().unwrap();
            assert_eq!(f.bytes, std::fs::metadata(&f.path).unwrap().len());
            n += 1;
            b += f.bytes;
            r += f.records;
            assert_eq!((p.files_done, p.bytes_done, p.records), (n, b, r));
            assert_eq!((p.files_total, p.bytes_total), (files.len(), bytes));
        }
        assert_eq!(r, last.records);

        // Re-ingesting reads nothing: a start and an end report, both with nothing to do.
        let again = ingest(&store, &files, 100);
        assert_eq!(again.len(), 2, "{again:?}");
        assert_eq!((again[0].files_total, again[1].files_done), (0, 0));
    }
}
