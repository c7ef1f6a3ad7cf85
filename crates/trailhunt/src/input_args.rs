//! `--errors FILE` and the caps on input (`--max-inflated`, `--max-ratio`, `--max-document`,
//! `--max-record`, `--max-field`): how every command that reads raw CloudTrail accounts for
//! what it could not use and bounds what one file may cost (see `cloudtrail::limits`); and
//! `--interpreted`, which normalizer reads it.

use anyhow::{anyhow, Result};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args, Clone, Default)]
pub(crate) struct InputArgs {
    /// Write every rejected record, failed file and input not read to FILE, one JSON object
    /// per line: file, kind, line/column/record/byte offset, reason, and the record's raw
    /// bytes (`raw`, or `raw_base64` when they are not UTF-8).
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,
    /// Stop reading a gzip file past this many decompressed bytes (default 4G); the records
    /// before are kept and the file is reported.
    #[arg(long, value_name = "SIZE")]
    pub max_inflated: Option<String>,
    /// Stop reading a gzip file that decompresses to more than N times its compressed size,
    /// judged past its first 16 MiB (default 200; CloudTrail's own files are 10–20): a
    /// decompression bomb is named and stopped early.
    #[arg(long, value_name = "N")]
    pub max_ratio: Option<u64>,
    /// Largest JSON document or NDJSON line read whole (default 1G); a longer line is
    /// rejected, a larger document reported.
    #[arg(long, value_name = "SIZE")]
    pub max_document: Option<String>,
    /// Largest single record (default 16M); a larger one is rejected by name.
    #[arg(long, value_name = "SIZE")]
    pub max_record: Option<String>,
    /// Largest field inside a record, nested fields included (default 4M); a record with a
    /// larger one is rejected, naming the field.
    #[arg(long, value_name = "SIZE")]
    pub max_field: Option<String>,
    /// Run Elastic's pipeline step by step on every record instead of the compiled
    /// normalizer (same rows, several times slower): to rule the compiled one out when a
    /// result looks wrong.
    #[arg(long)]
    pub interpreted: bool,
}

impl InputArgs {
    /// The caps, the defaults where no flag is given.
    pub(crate) fn limits(&self) -> Result<cloudtrail::Limits> {
        let mut l = cloudtrail::Limits::default();
        let size = |flag: &str, v: &Option<String>, into: &mut u64| -> Result<()> {
            if let Some(v) = v {
                let n = engine::parse_size(v).map_err(|e| anyhow!("--{flag}: {e}"))?;
                if n == 0 {
                    return Err(anyhow!("--{flag}: must be more than 0"));
                }
                *into = n as u64;
            }
            Ok(())
        };
        size("max-inflated", &self.max_inflated, &mut l.max_inflated)?;
        size("max-document", &self.max_document, &mut l.max_document)?;
        size("max-record", &self.max_record, &mut l.max_record)?;
        size("max-field", &self.max_field, &mut l.max_field)?;
        if let Some(r) = self.max_ratio {
            if r == 0 {
                return Err(anyhow!("--max-ratio: must be more than 0"));
            }
            l.max_ratio = r;
        }
        Ok(l)
    }

    /// The `--errors` log, created (truncated) now so a bad path fails before any reading.
    pub(crate) fn error_log(&self) -> Result<Option<Arc<cloudtrail::ErrorLog>>> {
        self.errors
            .as_deref()
            .map(|p| {
                cloudtrail::ErrorLog::create(p)
                    .map(Arc::new)
                    .map_err(|e| anyhow!("--errors {}: {e}", p.display()))
            })
            .transpose()
    }
}

/// Flushes the `--errors` log, saying so on stderr when it could not be written.
pub(crate) fn finish_log(log: Option<&cloudtrail::ErrorLog>, path: Option<&std::path::Path>) {
    if let (Some(log), Some(path)) = (log, path) {
        if let Err(e) = log.finish() {
            eprintln!("warning: --errors {}: {e}", path.display());
        }
    }
}
