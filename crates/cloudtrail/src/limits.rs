//! Caps on what one input may cost, so no file — a decompression bomb, a line without an
//! end, a record with a 100 MB field — can exhaust memory or run for hours. Every cap that is
//! hit is reported with the file, where in it, and the flag that raises it; the scan goes on
//! with the next record or file.
//!
//! The defaults are far above anything CloudTrail writes (its S3 objects are at most tens of
//! MB inflated, at ratios of 10–20 to 1; single records stay well under 1 MB) and low enough
//! that the worst case stays a few GB per worker thread.

use std::fmt;

/// Byte and ratio caps on input (see the module docs). Sizes are bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Decompressed bytes per gzip file (`--max-inflated`).
    pub max_inflated: u64,
    /// Decompressed bytes per compressed byte read, once a file has inflated past
    /// [`RATIO_FLOOR`] (`--max-ratio`): a bomb is stopped after its first megabytes instead
    /// of after `max_inflated`.
    pub max_ratio: u64,
    /// One JSON document or NDJSON line, which is held in memory whole (`--max-document`).
    pub max_document: u64,
    /// One record's text (`--max-record`).
    pub max_record: u64,
    /// One field's value inside a record, nested fields included (`--max-field`).
    pub max_field: u64,
    /// Elements of one array inside a record.
    pub max_array: u64,
    /// The bytes a scan may hold at once — its workers' documents, the rows in flight and
    /// the rows waiting to make a batch — when the run has a memory budget (the caller's
    /// share of `--memory-limit`). The scan lowers `max_document` and cuts its row chunks
    /// and batches by size to fit (see `scan`). `None`: only the caps above and the row
    /// counts bound them.
    pub scan_memory: Option<u64>,
    /// Set by [`Limits::for_workers`] when the budget lowered `max_document`, so messages
    /// name `--memory-limit` as well.
    pub document_lowered: bool,
}

/// Ratios are judged only past this many decompressed bytes: small files of repeated text
/// compress very well and cannot hurt.
pub const RATIO_FLOOR: u64 = 16 << 20;

/// Records larger than this get the field and array checks (smaller ones cannot break
/// `max_field`'s default, and their arrays are small), so ordinary records pay nothing.
pub(crate) const BIG_RECORD: u64 = 1 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_inflated: 4 << 30,
            max_ratio: 200,
            max_document: 1 << 30,
            max_record: 16 << 20,
            max_field: 4 << 20,
            max_array: 1_000_000,
            scan_memory: None,
            document_lowered: false,
        }
    }
}

/// A worker's document cap never goes below this to fit a budget: a budget that small
/// could not hold one ordinary CloudTrail file.
pub const MIN_DOCUMENT: u64 = 4 << 20;

impl Limits {
    /// These limits for a scan with `workers` threads: `max_document` lowered (not below
    /// [`MIN_DOCUMENT`]) so that all workers' documents fit in half of
    /// [`Limits::scan_memory`].
    pub fn for_workers(mut self, workers: usize) -> Limits {
        if let Some(m) = self.scan_memory {
            let cap = (m / 2 / workers.max(1) as u64).max(MIN_DOCUMENT);
            if cap < self.max_document {
                self.max_document = cap;
                self.document_lowered = true;
            }
        }
        self
    }

    /// The flag(s) to name when a document or line is over `max_document`.
    pub(crate) fn document_flags(&self) -> &'static str {
        if self.document_lowered {
            "--max-document, lowered to fit --memory-limit"
        } else {
            "--max-document"
        }
    }

    /// The smallest size at which a record needs the field and array checks.
    pub(crate) fn big_record(&self) -> u64 {
        BIG_RECORD.min(self.max_field)
    }
}

/// A size in words: `4 GiB`, `16 MiB`, `512 KiB`, `17 bytes`.
pub fn human_size(n: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    for (unit, name) in UNITS {
        if n >= unit {
            let v = n as f64 / unit as f64;
            return if n.is_multiple_of(unit) {
                format!("{} {name}", n / unit)
            } else {
                format!("{v:.1} {name}")
            };
        }
    }
    format!("{n} bytes")
}

/// Why a decompressing reader stopped: a cap of [`Limits`] was reached. Carried inside an
/// `io::Error` from the decoder to the reader, which reports it as the file's failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LimitHit {
    Inflated {
        cap: u64,
    },
    Ratio {
        cap: u64,
        inflated: u64,
        compressed: u64,
    },
}

impl fmt::Display for LimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitHit::Inflated { cap } => write!(
                f,
                "decompresses to more than {} (--max-inflated); stopped there, the records before it are kept",
                human_size(*cap)
            ),
            LimitHit::Ratio {
                cap,
                inflated,
                compressed,
            } => write!(
                f,
                "decompresses to more than {cap} times its compressed size ({} from {}; a decompression bomb?) (--max-ratio); stopped there, the records before it are kept",
                human_size(*inflated),
                human_size(*compressed)
            ),
        }
    }
}

impl std::error::Error for LimitHit {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_words() {
        assert_eq!(human_size(17), "17 bytes");
        assert_eq!(human_size(4 << 30), "4 GiB");
        assert_eq!(human_size(3 << 19), "1.5 MiB");
        assert_eq!(human_size(1024), "1 KiB");
    }
}
