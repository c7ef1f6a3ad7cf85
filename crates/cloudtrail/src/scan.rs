//! A streaming, parallel scan of CloudTrail files into Arrow record batches.
//!
//! Worker threads read and normalize whole files; the consumer (the [`Scan`] iterator) takes
//! their output strictly in file order and cuts it into batches of `batch_size` rows, so the
//! result is identical for any thread count. Memory stays bounded whatever the input size: only
//! a window of files is in flight, and each file's output goes through a small bounded channel,
//! so a worker on a huge NDJSON file waits for the consumer instead of buffering the file.
//! Under a memory budget ([`Limits::scan_memory`]) chunks and batches are also cut by size,
//! and each worker's document cap is lowered to fit, so large records cannot multiply past it.
//!
//! One file on purpose: the options, the stats, the consumer, the workers and their per-file
//! sink share one private protocol (`Msg`, `Shared`, the in-order window of channels), and
//! splitting them would make that protocol crate-visible. What a scan reports about its
//! input lives in `diagnostic.rs`; what it counts, in `scan_stats.rs`; what it counts for
//! progress, in `progress.rs`.

use std::collections::VecDeque;
use std::fmt;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, Schema, SchemaRef};
use serde_json::Value;

use crate::check_cache::{CheckCache, FileKey};
use crate::columns::{BatchBuilder, ColumnPlan};
use crate::compiled::CompiledPlan;
use crate::enrich::Enrich;
use crate::limits::Limits;
use crate::normalize::{self, NormalizeError, NormalizeOptions};
use crate::prefilter::Prefilter;
use crate::progress::{FileDone, ScanObserver};
use crate::reader::{self, Problem, RecordRef, Sink};
pub use crate::scan_stats::{ScanCounts, ScanStats};
use crate::schema::{self, EcsField, UnknownColumn};

pub use crate::diagnostic::{Diagnostic, DiagnosticFn, DiagnosticKind, ScanError};

/// How to scan.
#[derive(Clone)]
pub struct ScanOptions {
    /// Columns to build, in output order; `None` = all of [`schema::ecs_fields`].
    pub columns: Option<Vec<String>>,
    pub batch_size: usize,
    /// Cut the output into batches of exactly `batch_size` rows (the last may be shorter;
    /// under [`Limits::scan_memory`], also one whose rows would outgrow its share).
    /// Off, batches are the workers' own (up to ~1k rows each, still in file order): for consumers that re-batch anyway, like ingest, this saves a copy of every
    /// value.
    pub exact_batches: bool,
    /// Worker threads (0 is treated as 1).
    pub threads: usize,
    /// Make the first diagnostic fatal (`--strict`).
    pub strict: bool,
    pub normalize: NormalizeOptions,
    pub on_diagnostic: Option<DiagnosticFn>,
    /// An optional enrichment step (GeoIP and the like; see [`crate::enrich`]).
    pub enrich: Option<Arc<dyn Enrich>>,
    /// Skip records (and whole lines or files) that cannot match the query, unparsed.
    pub prefilter: Option<Prefilter>,
    /// Told of every finished file (see [`crate::progress`]).
    pub observer: Option<Arc<dyn ScanObserver>>,
    /// Caps on what one file or record may cost (see [`crate::limits`]).
    pub limits: Limits,
    /// Keep the bytes of rejected records in [`Diagnostic::raw`] (for an `--errors` log).
    pub keep_raw: bool,
    /// Remembers the structural check's verdicts for the next scan of the same files (see
    /// [`crate::check_cache`]); `None` checks every time.
    pub check_cache: Option<Arc<CheckCache>>,
    /// Run the interpreted pipeline on every record, never the compiled normalizer: the
    /// oracle the compiled one is tested against (and a way to rule it out when a result
    /// looks wrong).
    pub interpreted: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            columns: None,
            batch_size: 8192,
            exact_batches: true,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            strict: false,
            normalize: NormalizeOptions::default(),
            on_diagnostic: None,
            enrich: None,
            prefilter: None,
            observer: None,
            limits: Limits::default(),
            keep_raw: false,
            check_cache: None,
            interpreted: false,
        }
    }
}

impl fmt::Debug for ScanOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScanOptions")
            .field("columns", &self.columns)
            .field("batch_size", &self.batch_size)
            .field("exact_batches", &self.exact_batches)
            .field("threads", &self.threads)
            .field("strict", &self.strict)
            .field("normalize", &self.normalize)
            .field("on_diagnostic", &self.on_diagnostic.is_some())
            .field("enrich", &self.enrich.is_some())
            .field("prefilter", &self.prefilter)
            .field("observer", &self.observer.is_some())
            .field("limits", &self.limits)
            .field("keep_raw", &self.keep_raw)
            .field("check_cache", &self.check_cache)
            .finish()
    }
}

/// Rows per message from a worker; bounds the memory of one in-flight message.
pub(crate) const CHUNK_ROWS: usize = 1024;
/// Messages buffered per in-flight file.
const CHANNEL_DEPTH: usize = 4;
/// A chunk or batch is never cut by size below this (a tiny budget must still make progress).
const MIN_CUT_BYTES: u64 = 256 << 10;

/// What a scan may hold at once under [`Limits::scan_memory`]: half for the workers'
/// documents ([`Limits::for_workers`]), half for rows — a quarter for the chunks in flight
/// (every window slot's channel full, plus one being built per worker), a quarter for the
/// rows waiting to fill a batch. Rows are counted by [`row_cost`], so the cuts depend only
/// on the data, never on the thread count.
#[derive(Debug, Clone, Copy)]
struct RowBudget {
    chunk: u64,
    pending: u64,
}

impl RowBudget {
    fn new(scan_memory: Option<u64>, threads: usize, window: usize) -> RowBudget {
        match scan_memory {
            None => RowBudget {
                chunk: u64::MAX,
                pending: u64::MAX,
            },
            Some(m) => {
                let chunks = (window * (CHANNEL_DEPTH + 1) + threads) as u64;
                RowBudget {
                    chunk: (m / 4 / chunks).max(MIN_CUT_BYTES),
                    pending: (m / 4).max(MIN_CUT_BYTES),
                }
            }
        }
    }
}

/// What one row costs the budget: twice its record's text (a row holds the text itself as
/// `event.original` and its fields, at most once more). An over-estimate for narrow
/// projections, which is the safe side.
fn row_cost(text: &str) -> u64 {
    2 * text.len() as u64 + 64
}

enum Msg {
    /// Rows of one file, in file order (a file may send several), and their [`row_cost`].
    Rows(RecordBatch, u64),
    Failed(ArrowError),
    Diag(Diagnostic),
    Done {
        bytes: u64,
        skipped_records: u64,
        skipped_values: u64,
        compiled_records: u64,
    },
}

struct Job {
    path: PathBuf,
    tx: SyncSender<Msg>,
}

struct Shared {
    schema: SchemaRef,
    fields: Vec<&'static EcsField>,
    plan: ColumnPlan,
    normalize: NormalizeOptions,
    enrich: Option<Arc<dyn Enrich>>,
    prefilter: Option<Prefilter>,
    limits: Limits,
    rows: RowBudget,
    keep_raw: bool,
    check_cache: Option<Arc<CheckCache>>,
    /// Set when every requested column can be read without the full pipeline.
    compiled: Option<CompiledPlan>,
    cancel: AtomicBool,
}

/// An iterator of record batches over files; see the module docs. `Send`, so it can be driven
/// from a blocking thread.
pub struct Scan {
    schema: SchemaRef,
    stats: Arc<ScanStats>,
    opts_batch: usize,
    exact_batches: bool,
    strict: bool,
    on_diagnostic: Option<DiagnosticFn>,
    pending_files: VecDeque<PathBuf>,
    window: VecDeque<(PathBuf, Receiver<Msg>)>,
    window_size: usize,
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
    shared: Option<Arc<Shared>>,
    /// Worker batches waiting to fill a `batch_size` batch, their row count and cost.
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    pending_cost: u64,
    rows: RowBudget,
    /// Full batches cut from a chunk that crossed a batch boundary.
    ready: VecDeque<Result<RecordBatch, ScanError>>,
    error: Option<ScanError>,
    finished: bool,
    /// Taken when [`ScanObserver::finished`] has been called.
    observer: Option<Arc<dyn ScanObserver>>,
    /// What the front file of the window has given so far (for [`ScanObserver::file_done`]).
    front: FrontCounts,
}

/// Rows and problems of the file being consumed.
#[derive(Default)]
struct FrontCounts {
    records: u64,
    rejected: u64,
    failed: bool,
}

/// Starts scanning `files` in order. Problems with the options (unknown columns) surface as the
/// first item.
pub fn scan(files: Vec<PathBuf>, opts: ScanOptions) -> Scan {
    let stats = Arc::new(ScanStats::default());
    let fields: Result<Vec<&'static EcsField>, UnknownColumn> =
        schema::resolve_columns(opts.columns.as_deref());
    let fields = match fields {
        Ok(f) => f,
        Err(e) => {
            return Scan {
                schema: Arc::new(Schema::empty()),
                stats,
                opts_batch: 1,
                exact_batches: true,
                strict: opts.strict,
                on_diagnostic: opts.on_diagnostic,
                pending_files: VecDeque::new(),
                window: VecDeque::new(),
                window_size: 0,
                jobs: None,
                workers: Vec::new(),
                shared: None,
                pending: Vec::new(),
                pending_rows: 0,
                pending_cost: 0,
                rows: RowBudget::new(None, 1, 1),
                ready: VecDeque::new(),
                error: Some(e.into()),
                finished: false,
                observer: None,
                front: FrontCounts::default(),
            }
        }
    };
    let schema: SchemaRef = Arc::new(Schema::new(
        fields
            .iter()
            .map(|f| schema::arrow_field(f))
            .collect::<Vec<_>>(),
    ));
    let mut normalize = opts.normalize.clone();
    // One read time per scan, as one agent run would stamp it.
    normalize
        .created
        .get_or_insert_with(normalize::time::now_string);
    let threads = opts.threads.max(1).min(files.len().max(1));
    let window_size = threads * 2;
    let rows = RowBudget::new(opts.limits.scan_memory, threads, window_size);
    let shared = Arc::new(Shared {
        schema: schema.clone(),
        fields: fields.clone(),
        plan: ColumnPlan::new(&fields),
        normalize,
        enrich: opts.enrich.clone(),
        prefilter: opts.prefilter.clone(),
        limits: opts.limits.for_workers(threads),
        rows,
        keep_raw: opts.keep_raw,
        check_cache: opts.check_cache.clone(),
        // The compiled normalizer runs an enrichment step that declares what it reads (GeoIP,
        // the user agent); one that may read anything sends every record to the pipeline.
        compiled: match &opts.enrich {
            _ if opts.interpreted => None,
            enrich => CompiledPlan::new(&fields, enrich.as_ref()),
        },
        cancel: AtomicBool::new(false),
    });
    if let Some(o) = &opts.observer {
        let bytes = files
            .iter()
            .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
            .sum();
        o.started(files.len(), bytes);
    }
    let (job_tx, job_rx) = mpsc::channel::<Job>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    let workers = (0..threads)
        .map(|i| {
            let rx = Arc::clone(&job_rx);
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("cloudtrail-scan-{i}"))
                .spawn(move || worker(rx, shared))
                .expect("spawning scan worker")
        })
        .collect();
    let mut scan = Scan {
        schema: schema.clone(),
        stats,
        opts_batch: opts.batch_size.max(1),
        exact_batches: opts.exact_batches,
        strict: opts.strict,
        on_diagnostic: opts.on_diagnostic,
        pending_files: files.into(),
        window: VecDeque::new(),
        window_size,
        jobs: Some(job_tx),
        workers,
        shared: Some(shared),
        pending: Vec::new(),
        pending_rows: 0,
        pending_cost: 0,
        rows,
        ready: VecDeque::new(),
        error: None,
        finished: false,
        observer: opts.observer,
        front: FrontCounts::default(),
    };
    scan.fill_window();
    scan
}

impl Scan {
    pub fn stats(&self) -> Arc<ScanStats> {
        Arc::clone(&self.stats)
    }

    /// The schema of every batch (the requested columns in order).
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn fill_window(&mut self) {
        while self.window.len() < self.window_size {
            let Some(path) = self.pending_files.pop_front() else {
                break;
            };
            let (tx, rx) = mpsc::sync_channel(CHANNEL_DEPTH);
            if let Some(jobs) = &self.jobs {
                let _ = jobs.send(Job {
                    path: path.clone(),
                    tx,
                });
            }
            self.window.push_back((path, rx));
        }
    }

    fn stop(&mut self) {
        self.finished = true;
        if let Some(shared) = &self.shared {
            shared.cancel.store(true, Ordering::Relaxed);
        }
        self.window.clear();
        self.pending_files.clear();
        self.jobs = None;
    }

    /// The pending rows as one batch (no copy when they are one worker batch).
    fn take_batch(&mut self) -> Option<Result<RecordBatch, ScanError>> {
        if self.pending_rows == 0 {
            return None;
        }
        self.pending_rows = 0;
        self.pending_cost = 0;
        let parts = std::mem::take(&mut self.pending);
        Some(match parts.len() {
            1 => Ok(parts.into_iter().next().expect("one part")),
            _ => {
                arrow_select::concat::concat_batches(&self.schema, &parts).map_err(ScanError::from)
            }
        })
    }

    /// Cuts worker batches into batches of exactly `batch_size` rows (the last may be
    /// shorter), so the output does not depend on how files were split among workers.
    /// Under a memory budget a batch is also cut short, between chunks, when its rows
    /// would cost more than the budget's share for waiting rows.
    fn add_rows(&mut self, batch: RecordBatch, cost: u64) {
        if !self.exact_batches {
            self.ready.push_back(Ok(batch));
            return;
        }
        if self.pending_rows > 0 && self.pending_cost.saturating_add(cost) > self.rows.pending {
            let short = self.take_batch().expect("rows present");
            self.ready.push_back(short);
        }
        let mut offset = 0;
        let n = batch.num_rows().max(1) as u64;
        while offset < batch.num_rows() {
            let take = (self.opts_batch - self.pending_rows).min(batch.num_rows() - offset);
            self.pending.push(batch.slice(offset, take));
            self.pending_rows += take;
            self.pending_cost += cost * take as u64 / n;
            offset += take;
            if self.pending_rows == self.opts_batch {
                let full = self.take_batch().expect("rows present");
                self.ready.push_back(full);
            }
        }
    }

    fn diagnostic(&mut self, d: Diagnostic) -> Option<ScanError> {
        let counter = match d.kind {
            DiagnosticKind::Rejected => {
                self.front.rejected += 1;
                &self.stats.rejected
            }
            DiagnosticKind::FileFailed => {
                self.front.failed = true;
                &self.stats.files_failed
            }
            DiagnosticKind::PipelineError => &self.stats.pipeline_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(cb) = &self.on_diagnostic {
            cb(&d);
        }
        self.strict.then_some(ScanError::Strict(d))
    }

    /// The front file is done: tell the observer, start counting the next one.
    fn file_done(&mut self, path: PathBuf, bytes: u64) {
        let front = std::mem::take(&mut self.front);
        if let Some(o) = &self.observer {
            o.file_done(&FileDone {
                path,
                bytes,
                records: front.records,
                rejected: front.rejected,
                failed: front.failed,
            });
        }
    }

    /// Calls [`ScanObserver::finished`], once.
    fn observer_finished(&mut self) {
        if let Some(o) = self.observer.take() {
            o.finished(&self.stats);
        }
    }
}

impl Iterator for Scan {
    type Item = Result<RecordBatch, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.error.take() {
            self.stop();
            return Some(Err(e));
        }
        if let Some(batch) = self.ready.pop_front() {
            return Some(batch);
        }
        if self.finished {
            return None;
        }
        loop {
            let Some((path, rx)) = self.window.front() else {
                self.finished = true;
                self.observer_finished();
                return self.take_batch();
            };
            let msg = match rx.recv() {
                Ok(m) => m,
                Err(_) => {
                    let path = path.clone();
                    self.stop();
                    return Some(Err(ScanError::WorkerPanicked(path)));
                }
            };
            match msg {
                Msg::Rows(batch, cost) => {
                    self.stats
                        .records
                        .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                    self.front.records += batch.num_rows() as u64;
                    self.add_rows(batch, cost);
                    if let Some(batch) = self.ready.pop_front() {
                        return Some(batch);
                    }
                }
                Msg::Failed(e) => {
                    self.stop();
                    return Some(Err(e.into()));
                }
                Msg::Diag(d) => {
                    if let Some(err) = self.diagnostic(d) {
                        self.stop();
                        return Some(Err(err));
                    }
                }
                Msg::Done {
                    bytes,
                    skipped_records,
                    skipped_values,
                    compiled_records,
                } => {
                    self.stats.files.fetch_add(1, Ordering::Relaxed);
                    self.stats.bytes.fetch_add(bytes, Ordering::Relaxed);
                    let s = &self.stats;
                    s.skipped_records
                        .fetch_add(skipped_records, Ordering::Relaxed);
                    s.skipped_values
                        .fetch_add(skipped_values, Ordering::Relaxed);
                    s.compiled_records
                        .fetch_add(compiled_records, Ordering::Relaxed);
                    if let Some((path, _)) = self.window.pop_front() {
                        self.file_done(path, bytes);
                    }
                    self.fill_window();
                }
            }
        }
    }
}

impl Drop for Scan {
    fn drop(&mut self) {
        self.stop();
        self.observer_finished();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn worker(jobs: Arc<Mutex<Receiver<Job>>>, shared: Arc<Shared>) {
    // One set of Arrow builders per worker, reused across its files.
    let mut builder = BatchBuilder::new(shared.schema.clone(), &shared.fields);
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        if shared.cancel.load(Ordering::Relaxed) {
            return;
        }
        let mut sink = FileSink {
            shared: &shared,
            path: &job.path,
            tx: &job.tx,
            builder: &mut builder,
            cost: 0,
            skipped_records: 0,
            skipped_values: 0,
            compiled_records: 0,
            file_key: None,
        };
        let bytes = reader::read_file_limited(&job.path, &mut sink, &shared.limits);
        if sink.flush().is_break() {
            continue;
        }
        let _ = job.tx.send(Msg::Done {
            bytes,
            skipped_records: sink.skipped_records,
            skipped_values: sink.skipped_values,
            compiled_records: sink.compiled_records,
        });
    }
}

/// Normalizes and extracts the records of one file, sending rows in chunks.
struct FileSink<'a> {
    shared: &'a Shared,
    path: &'a PathBuf,
    tx: &'a SyncSender<Msg>,
    builder: &'a mut BatchBuilder,
    /// The [`row_cost`] of the rows in `builder`.
    cost: u64,
    skipped_records: u64,
    skipped_values: u64,
    compiled_records: u64,
    /// The file's identity for the check cache, once needed (`Some(None)`: unknown).
    file_key: Option<Option<FileKey>>,
}

impl FileSink<'_> {
    fn send(&mut self, msg: Msg) -> ControlFlow<()> {
        if self.shared.cancel.load(Ordering::Relaxed) || self.tx.send(msg).is_err() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn flush(&mut self) -> ControlFlow<()> {
        if self.builder.rows() == 0 {
            return ControlFlow::Continue(());
        }
        let cost = std::mem::take(&mut self.cost);
        match self.builder.finish() {
            Ok(batch) => self.send(Msg::Rows(batch, cost)),
            Err(e) => {
                let _ = self.send(Msg::Failed(e));
                ControlFlow::Break(())
            }
        }
    }

    /// Send the rows now: [`CHUNK_ROWS`] of them, or their share of the memory budget.
    fn chunk_full(&self) -> bool {
        self.builder.rows() >= CHUNK_ROWS || self.cost >= self.shared.rows.chunk
    }

    fn diag(&mut self, p: Problem) -> ControlFlow<()> {
        // Keep rows and diagnostics in file order.
        self.flush()?;
        let d = Diagnostic::from_problem(self.path, p, self.shared.keep_raw);
        self.send(Msg::Diag(d))
    }
}

impl Sink for FileSink<'_> {
    fn skip_value(&mut self, text: &str, offset: u64) -> Option<u64> {
        let p = self.shared.prefilter.as_ref()?;
        if p.may_match(text.as_bytes()) {
            return None;
        }
        // Skipped only when it is known to hold nothing the full path would report. That also
        // keeps lookup-events output (records embedded as JSON strings, whose escapes its
        // outer text hides) from being judged by its outer text: the check never passes a
        // top-level `Events` key.
        let check = || crate::structure::plain_records(text.as_bytes(), &self.shared.limits);
        let records = match &self.shared.check_cache {
            Some(cache) if text.len() >= crate::check_cache::MIN_VALUE => {
                let path = self.path;
                match *self.file_key.get_or_insert_with(|| FileKey::of(path)) {
                    Some(key) => cache.get_or_check(key, offset, text.len(), check),
                    None => check(),
                }
            }
            _ => check(),
        }?;
        self.skipped_values += 1;
        self.skipped_records += records;
        Some(records)
    }

    fn record(&mut self, r: RecordRef<'_>) -> ControlFlow<()> {
        let shared = self.shared;
        if let Some(p) = &shared.prefilter {
            let text = r.text.as_bytes();
            if !p.may_match(text) && crate::structure::plain_record(text) {
                self.skipped_records += 1;
                return ControlFlow::Continue(());
            }
        }
        if let Some((row, original)) = shared.compiled.as_ref().and_then(|f| {
            let row = f.extract(&r.text, &shared.normalize)?;
            Some((row, f.original_column()))
        }) {
            let text: &str = &r.text;
            self.builder.push(row, original.map(|i| (i, text)));
            self.compiled_records += 1;
            self.cost += row_cost(&r.text);
            if self.chunk_full() {
                self.flush()?;
            }
            return ControlFlow::Continue(());
        }
        match crate::shape::document(
            &r.text,
            &shared.normalize,
            shared.enrich.as_deref(),
            crate::normalize::Output::Columns,
        ) {
            Ok(doc) => {
                let error = pipeline_error_message(&doc);
                self.shared.plan.append(&doc, self.builder);
                self.cost += row_cost(&r.text);
                if let Some(message) = error {
                    self.diag(Problem {
                        kind: DiagnosticKind::PipelineError,
                        line: Some(r.line),
                        column: Some(r.column),
                        record: Some(r.index),
                        offset: Some(r.offset),
                        message,
                        raw: None,
                    })?;
                }
                if self.chunk_full() {
                    self.flush()?;
                }
                ControlFlow::Continue(())
            }
            Err(e) => {
                let (line, column) = error_position(&r, &e);
                self.diag(Problem {
                    kind: DiagnosticKind::Rejected,
                    line: Some(line),
                    column: Some(column),
                    record: Some(r.index),
                    offset: Some(r.offset),
                    message: e.to_string(),
                    raw: self.shared.keep_raw.then(|| r.text.as_bytes().to_vec()),
                })
            }
        }
    }

    fn problem(&mut self, p: Problem) -> ControlFlow<()> {
        self.diag(p)
    }
}

/// File position of a record-level normalize error (its JSON position is record-relative).
pub(crate) fn error_position(r: &RecordRef<'_>, e: &NormalizeError) -> (u64, u64) {
    match e {
        NormalizeError::InvalidJson { line, column, .. } => {
            let l = r.line + line - 1;
            let c = if *line == 1 {
                r.column + column - 1
            } else {
                *column
            };
            (l, c)
        }
        NormalizeError::NotAnObject { .. } | NormalizeError::NotCloudTrail { .. } => {
            (r.line, r.column)
        }
    }
}

/// The pipeline errors of a kept document, short enough for a one-line diagnostic.
pub(crate) fn pipeline_error_message(doc: &Value) -> Option<String> {
    let messages = doc.get("error")?.get("message")?;
    let list: Vec<&str> = match messages {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => vec![s.as_str()],
        _ => return None,
    };
    let short: Vec<&str> = list
        .iter()
        .map(|m| m.split(" failed with message: ").nth(1).unwrap_or(m))
        .collect();
    Some(format!(
        "kept as event.kind: pipeline_error: {}",
        short.join("; ")
    ))
}
