//! What a scan reports about its input: one [`Diagnostic`] per problem (file, line, column,
//! record, byte offset, the rejected bytes), the errors that end a scan, and the callback
//! that receives diagnostics. Split from `scan.rs`, which is the scan itself.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_schema::ArrowError;

use crate::reader::Problem;
use crate::schema::UnknownColumn;

/// What kind of trouble a [`Diagnostic`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticKind {
    /// A record (or NDJSON line) was dropped; counted in [`crate::ScanStats::rejected`].
    Rejected,
    /// A file could not be read (further); counted in [`crate::ScanStats::files_failed`]. Records read
    /// before the failure are kept.
    FileFailed,
    /// The record was kept, but Elasticsearch would have indexed it as
    /// `event.kind: pipeline_error` (e.g. an unparseable `eventTime`); counted in
    /// [`crate::ScanStats::pipeline_errors`].
    PipelineError,
}

/// One problem found while scanning, with enough position to find it in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: PathBuf,
    /// 1-based line of the problem (or of the record's start), in the decompressed text.
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// 1-based index of the record within the file.
    pub record: Option<u64>,
    /// Byte offset of the record (or the problem) in the decompressed text, when known.
    pub offset: Option<u64>,
    pub message: String,
    pub kind: DiagnosticKind,
    /// The rejected bytes, with [`crate::ScanOptions::keep_raw`] (at most 64 KiB of an over-long
    /// line or record): what `--errors` writes.
    pub raw: Option<Arc<[u8]>>,
}

impl Diagnostic {
    /// The diagnostic for a reader's problem in `path`; the raw bytes only when `keep_raw`.
    pub(crate) fn from_problem(path: &std::path::Path, p: Problem, keep_raw: bool) -> Diagnostic {
        Diagnostic {
            path: path.to_path_buf(),
            line: p.line,
            column: p.column,
            record: p.record,
            offset: p.offset,
            message: p.message,
            kind: p.kind,
            raw: p.raw.filter(|_| keep_raw).map(Arc::from),
        }
    }
}

impl fmt::Display for Diagnostic {
    /// `logs/x.json.gz:12:5: invalid JSON: …` or `file.json (record 17): …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(r) = self.record {
            write!(f, " (record {r})")?;
        } else if let (None, Some(o)) = (self.line, self.offset) {
            write!(f, " (byte {o})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A condition that ends the scan.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    UnknownColumn(#[from] UnknownColumn),
    /// Strict mode: the first diagnostic is fatal.
    #[error("{0}")]
    Strict(Diagnostic),
    #[error("building Arrow batch: {0}")]
    Arrow(#[from] ArrowError),
    #[error("{}: worker thread panicked", .0.display())]
    WorkerPanicked(PathBuf),
}

/// Callback receiving diagnostics in file order, on the thread driving the scan.
pub type DiagnosticFn = Arc<dyn Fn(&Diagnostic) + Send + Sync>;
