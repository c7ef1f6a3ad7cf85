//! What a scan counted: [`ScanStats`], readable while it runs, and [`ScanCounts`], the same
//! numbers as plain values (to add up the parts of a scan run elsewhere).

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of a scan, readable while it runs (they advance as batches are consumed).
#[derive(Debug, Default)]
pub struct ScanStats {
    pub(crate) files: AtomicU64,
    pub(crate) files_failed: AtomicU64,
    pub(crate) records: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) pipeline_errors: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) skipped_records: AtomicU64,
    pub(crate) skipped_values: AtomicU64,
    pub(crate) compiled_records: AtomicU64,
}

impl ScanStats {
    /// Files finished (including failed ones).
    pub fn files(&self) -> u64 {
        self.files.load(Ordering::Relaxed)
    }
    /// Files that could not be read completely.
    pub fn files_failed(&self) -> u64 {
        self.files_failed.load(Ordering::Relaxed)
    }
    /// Records emitted as rows.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }
    /// Records (or NDJSON lines) dropped, each reported by a diagnostic.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }
    /// Emitted records Elasticsearch would mark `event.kind: pipeline_error`.
    pub fn pipeline_errors(&self) -> u64 {
        self.pipeline_errors.load(Ordering::Relaxed)
    }
    /// Bytes of input files as stored (compressed size for gzip).
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    /// Records read in all: [`records`](Self::records) +
    /// [`skipped_records`](Self::skipped_records) + [`rejected`](Self::rejected). Whatever the
    /// query, it is the same for the same files: skipping never hides a record.
    pub fn records_in(&self) -> u64 {
        self.records() + self.skipped_records() + self.rejected()
    }
    /// Records the prefilter skipped unparsed: checked to be well-formed plain records (so
    /// nothing the full path would reject is hidden) that cannot match the query. Records
    /// inside skipped lines and files are counted too.
    pub fn skipped_records(&self) -> u64 {
        self.skipped_records.load(Ordering::Relaxed)
    }
    /// Records built by the compiled normalizer (the others went through the interpreted
    /// pipeline).
    pub fn compiled_records(&self) -> u64 {
        self.compiled_records.load(Ordering::Relaxed)
    }
    /// Whole lines or files the prefilter skipped before splitting them into records (each
    /// checked first: see [`crate::structure`]).
    pub fn skipped_values(&self) -> u64 {
        self.skipped_values.load(Ordering::Relaxed)
    }

    /// All counters at once, e.g. to send a scan's result from another process.
    pub fn counts(&self) -> ScanCounts {
        ScanCounts {
            files: self.files(),
            files_failed: self.files_failed(),
            records: self.records(),
            rejected: self.rejected(),
            pipeline_errors: self.pipeline_errors(),
            bytes: self.bytes(),
            skipped_records: self.skipped_records(),
            skipped_values: self.skipped_values(),
            compiled_records: self.compiled_records(),
        }
    }

    /// Adds the counters of a scan of other files (a part of this scan run elsewhere).
    pub fn add(&self, c: &ScanCounts) {
        for (counter, n) in [
            (&self.files, c.files),
            (&self.files_failed, c.files_failed),
            (&self.records, c.records),
            (&self.rejected, c.rejected),
            (&self.pipeline_errors, c.pipeline_errors),
            (&self.bytes, c.bytes),
            (&self.skipped_records, c.skipped_records),
            (&self.skipped_values, c.skipped_values),
            (&self.compiled_records, c.compiled_records),
        ] {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// [`ScanStats`] as plain numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScanCounts {
    pub files: u64,
    pub files_failed: u64,
    pub records: u64,
    pub rejected: u64,
    pub pipeline_errors: u64,
    pub bytes: u64,
    pub skipped_records: u64,
    pub skipped_values: u64,
    pub compiled_records: u64,
}

impl ScanCounts {
    /// Both scans' counters added up.
    pub fn plus(&self, o: &ScanCounts) -> ScanCounts {
        ScanCounts {
            files: self.files + o.files,
            files_failed: self.files_failed + o.files_failed,
            records: self.records + o.records,
            rejected: self.rejected + o.rejected,
            pipeline_errors: self.pipeline_errors + o.pipeline_errors,
            bytes: self.bytes + o.bytes,
            skipped_records: self.skipped_records + o.skipped_records,
            skipped_values: self.skipped_values + o.skipped_values,
            compiled_records: self.compiled_records + o.compiled_records,
        }
    }
}
