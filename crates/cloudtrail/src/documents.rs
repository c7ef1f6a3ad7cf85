//! Normalized documents one by one, for `trailhunt normalize` (ECS NDJSON output) and tools
//! that want the documents rather than Arrow columns.
//!
//! These are the pipeline's documents exactly: nested objects, and every array in the order
//! the pipeline built it (`related.user` in rename order, `event.type` as appended, …). The
//! Arrow columns of [`crate::scan`] deliberately differ: keyword and ip lists there are sorted
//! and de-duplicated, because that is what Elasticsearch's doc values (which ES|QL reads)
//! return, while `_source` (what `normalize` reproduces) keeps the pipeline's order. Both are
//! "what Elasticsearch has"; they answer different questions.

use std::fmt;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::enrich::Enrich;
use crate::limits::Limits;
use crate::normalize::{self, NormalizeOptions};
use crate::reader::{self, Problem, RecordRef, Sink};
use crate::scan::{Diagnostic, DiagnosticKind};

/// How [`for_each_document`] reads and normalizes.
#[derive(Clone, Default)]
pub struct DocumentOptions {
    pub normalize: NormalizeOptions,
    /// Hand blank NDJSON lines to the pipeline (near-empty documents), as Elastic's pipeline
    /// tests do; off by default because a blank line carries no record.
    pub blank_lines: bool,
    /// An optional enrichment step (GeoIP and the like; see [`crate::enrich`]).
    pub enrich: Option<Arc<dyn Enrich>>,
    /// Caps on what one file or record may cost (see [`crate::limits`]).
    pub limits: Limits,
    /// Keep the bytes of rejected records in [`Diagnostic::raw`] (for an `--errors` log).
    pub keep_raw: bool,
}

impl fmt::Debug for DocumentOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentOptions")
            .field("normalize", &self.normalize)
            .field("blank_lines", &self.blank_lines)
            .field("enrich", &self.enrich.is_some())
            .field("limits", &self.limits)
            .field("keep_raw", &self.keep_raw)
            .finish()
    }
}

/// Calls `f` for every record of `files`, in file and record order, with the ECS document
/// (keys sorted, as Elastic's test tooling prints them; arrays untouched) or the diagnostic
/// explaining why there is none. A kept document that Elasticsearch would flag
/// (`event.kind: pipeline_error`) is passed as `Ok` and then followed by an `Err` diagnostic of
/// kind [`DiagnosticKind::PipelineError`]. Returning `false` from `f` stops the walk.
pub fn for_each_document(
    files: &[PathBuf],
    doc_opts: &DocumentOptions,
    mut f: impl FnMut(Result<Value, Diagnostic>) -> bool,
) {
    let mut opts = doc_opts.normalize.clone();
    // One read time for the whole run, as one agent run would stamp it.
    opts.created.get_or_insert_with(normalize::time::now_string);
    for path in files {
        let mut sink = DocSink {
            path,
            opts: &opts,
            blank_lines: doc_opts.blank_lines,
            enrich: doc_opts.enrich.as_deref(),
            keep_raw: doc_opts.keep_raw,
            f: &mut f,
            stopped: false,
        };
        reader::read_file_limited(path, &mut sink, &doc_opts.limits);
        if sink.stopped {
            return;
        }
    }
}

struct DocSink<'a, F> {
    path: &'a Path,
    opts: &'a NormalizeOptions,
    blank_lines: bool,
    enrich: Option<&'a dyn Enrich>,
    keep_raw: bool,
    f: &'a mut F,
    stopped: bool,
}

impl<F: FnMut(Result<Value, Diagnostic>) -> bool> DocSink<'_, F> {
    fn emit(&mut self, item: Result<Value, Diagnostic>) -> ControlFlow<()> {
        if (self.f)(item) {
            ControlFlow::Continue(())
        } else {
            self.stopped = true;
            ControlFlow::Break(())
        }
    }
}

fn diag(path: &Path, kind: DiagnosticKind, r: &RecordRef<'_>, message: String) -> Diagnostic {
    Diagnostic {
        path: path.to_path_buf(),
        line: Some(r.line),
        column: Some(r.column),
        record: Some(r.index),
        offset: Some(r.offset),
        message,
        kind,
        raw: None,
    }
}

impl<F: FnMut(Result<Value, Diagnostic>) -> bool> Sink for DocSink<'_, F> {
    fn record(&mut self, r: RecordRef<'_>) -> ControlFlow<()> {
        match crate::shape::document(
            &r.text,
            self.opts,
            self.enrich,
            crate::normalize::Output::Document,
        ) {
            Ok(mut doc) => {
                let error = crate::scan::pipeline_error_message(&doc);
                normalize::sort_keys(&mut doc);
                self.emit(Ok(doc))?;
                match error {
                    Some(message) => {
                        let d = diag(self.path, DiagnosticKind::PipelineError, &r, message);
                        self.emit(Err(d))
                    }
                    None => ControlFlow::Continue(()),
                }
            }
            Err(e) => {
                let (line, column) = crate::scan::error_position(&r, &e);
                let mut d = diag(self.path, DiagnosticKind::Rejected, &r, e.to_string());
                d.line = Some(line);
                d.column = Some(column);
                if self.keep_raw {
                    d.raw = Some(Arc::from(r.text.as_bytes()));
                }
                self.emit(Err(d))
            }
        }
    }

    fn blank_lines(&self) -> bool {
        self.blank_lines
    }

    fn problem(&mut self, p: Problem) -> ControlFlow<()> {
        let d = Diagnostic::from_problem(self.path, p, self.keep_raw);
        self.emit(Err(d))
    }
}
