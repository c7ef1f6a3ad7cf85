//! Normalized documents one by one, for `trailhunt normalize` (ECS NDJSON output) and tools
//! that want the documents rather than Arrow columns.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::normalize::{self, NormalizeOptions};
use crate::reader::{self, Problem, RecordRef, Sink};
use crate::scan::{Diagnostic, DiagnosticKind};

/// Calls `f` for every record of `files`, in file and record order, with the ECS document
/// (keys sorted, as Elastic's test tooling prints them) or the diagnostic explaining why there is
/// none. A kept document that Elasticsearch would flag (`event.kind: pipeline_error`) is passed
/// as `Ok` and then followed by an `Err` diagnostic of kind [`DiagnosticKind::PipelineError`].
/// Returning `false` from `f` stops the walk.
pub fn for_each_document(
    files: &[PathBuf],
    opts: &NormalizeOptions,
    mut f: impl FnMut(Result<Value, Diagnostic>) -> bool,
) {
    let mut opts = opts.clone();
    // One read time for the whole run, as one agent run would stamp it.
    opts.created.get_or_insert_with(normalize::time::now_string);
    for path in files {
        let mut sink = DocSink {
            path,
            opts: &opts,
            f: &mut f,
            stopped: false,
        };
        reader::read_file(path, &mut sink);
        if sink.stopped {
            return;
        }
    }
}

struct DocSink<'a, F> {
    path: &'a Path,
    opts: &'a NormalizeOptions,
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

fn diag(
    path: &Path,
    kind: DiagnosticKind,
    line: Option<u64>,
    column: Option<u64>,
    record: Option<u64>,
    message: String,
) -> Diagnostic {
    Diagnostic {
        path: path.to_path_buf(),
        line,
        column,
        record,
        message,
        kind,
    }
}

impl<F: FnMut(Result<Value, Diagnostic>) -> bool> Sink for DocSink<'_, F> {
    fn record(&mut self, r: RecordRef<'_>) -> ControlFlow<()> {
        match normalize::normalize_record(&r.text, self.opts) {
            Ok(mut doc) => {
                let error = crate::scan::pipeline_error_message(&doc);
                normalize::sort_keys(&mut doc);
                self.emit(Ok(doc))?;
                match error {
                    Some(message) => {
                        let d = diag(
                            self.path,
                            DiagnosticKind::PipelineError,
                            Some(r.line),
                            Some(r.column),
                            Some(r.index),
                            message,
                        );
                        self.emit(Err(d))
                    }
                    None => ControlFlow::Continue(()),
                }
            }
            Err(e) => {
                let (line, column) = crate::scan::error_position(&r, &e);
                let d = diag(
                    self.path,
                    DiagnosticKind::Rejected,
                    Some(line),
                    Some(column),
                    Some(r.index),
                    e.to_string(),
                );
                self.emit(Err(d))
            }
        }
    }

    fn problem(&mut self, p: Problem) -> ControlFlow<()> {
        let d = match p {
            Problem::Rejected {
                line,
                column,
                record,
                message,
            } => diag(
                self.path,
                DiagnosticKind::Rejected,
                line,
                column,
                record,
                message,
            ),
            Problem::FileFailed {
                line,
                column,
                message,
            } => diag(
                self.path,
                DiagnosticKind::FileFailed,
                line,
                column,
                None,
                message,
            ),
        };
        self.emit(Err(d))
    }
}
