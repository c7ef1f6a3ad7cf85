//! Reading one file into CloudTrail record texts, whatever its container shape.
//!
//! Shapes are detected by content, never by file name: gzip by its magic bytes (`1f 8b`, also
//! concatenated members), then
//!
//! * **NDJSON** (and one-line files): the first non-blank line is a complete `{…}` or `[…]`;
//!   the file is then streamed line by line so a huge file never sits in memory, and a bad line
//!   only loses that line;
//! * **a JSON document** otherwise (pretty-printed): read whole, it is one value.
//!
//! Each value (line or document) is then expanded: `{"Records":[…]}` (S3 delivery) and JSON
//! arrays yield their elements, the `lookup-events` output `{"Events":[{"CloudTrailEvent":
//! "<json>"}]}` yields the embedded records, anything else is one record. A record's text is
//! its exact source slice, as the `aws-s3` input puts it into `message`.
//!
//! Nothing here can grow without bound ([`Limits`]): gzip output is capped in bytes and in
//! ratio to its input, a line or document is read up to a cap and no further, and a record
//! over its cap (or with a field or array over theirs) is rejected by name before anything
//! parses it. Only regular files are opened (a FIFO or a device would block or never end).
//!
//! One file on purpose: the shape detection, the line reader, the document reader and the
//! record splitter share one cursor protocol (positions, line numbers and the caps counted
//! across all of them), and every problem they report must name the same place; the gzip
//! decoding is apart (`gunzip.rs`), as are the caps (`limits.rs`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;

use serde_json::value::RawValue;

use crate::files::open_regular;
use crate::gunzip::{inflater, within};
use crate::limits::{human_size, LimitHit, Limits};
use crate::scan::DiagnosticKind;

/// One record's text and where it starts (1-based line/column; `index` counts records in the
/// file from 1; `offset` is its byte offset in the decompressed text).
pub(crate) struct RecordRef<'a> {
    pub text: Cow<'a, str>,
    pub line: u64,
    pub column: u64,
    pub index: u64,
    pub offset: u64,
}

/// Something in the file that is not a usable record: [`DiagnosticKind::Rejected`] loses one
/// record (or NDJSON line) and reading goes on; [`DiagnosticKind::FileFailed`] means the rest
/// of the file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub kind: DiagnosticKind,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub record: Option<u64>,
    /// Byte offset in the decompressed text, when known.
    pub offset: Option<u64>,
    pub message: String,
    /// The rejected bytes (at most [`RAW_PREFIX`] of an over-long line or record).
    pub raw: Option<Vec<u8>>,
}

/// How much of an over-long line or record is kept for the `--errors` log.
pub(crate) const RAW_PREFIX: usize = 64 << 10;

impl Problem {
    fn rejected(
        line: u64,
        column: u64,
        record: u64,
        offset: u64,
        message: String,
        raw: &[u8],
    ) -> Problem {
        Problem {
            kind: DiagnosticKind::Rejected,
            line: Some(line),
            column: Some(column),
            record: Some(record),
            offset: Some(offset),
            message,
            raw: Some(raw.to_vec()),
        }
    }
}

fn failed(line: Option<u64>, column: Option<u64>, offset: Option<u64>, message: String) -> Problem {
    Problem {
        kind: DiagnosticKind::FileFailed,
        line,
        column,
        record: None,
        offset,
        message,
        raw: None,
    }
}

/// Receives what the reader finds, in file order. `Break` stops reading (cancellation).
pub(crate) trait Sink {
    fn record(&mut self, record: RecordRef<'_>) -> ControlFlow<()>;
    fn problem(&mut self, problem: Problem) -> ControlFlow<()>;
    /// Whether blank NDJSON lines are handed on as empty records. Elastic's pipeline tests
    /// (`elastic-package test pipeline`) send every line, blank ones included, and index a
    /// near-empty document for each; real inputs carry no record on a blank line, so scans
    /// skip them.
    fn blank_lines(&self) -> bool {
        false
    }
    /// Whether to skip a whole line or document unparsed, before it is split into records
    /// (see [`crate::prefilter`]): `Some(n)` skips it and says how many records it holds (so
    /// record numbers stay those of a full read), `None` reads it. `offset` is where the
    /// value starts in the file's (decompressed) text.
    fn skip_value(&mut self, _text: &str, _offset: u64) -> Option<u64> {
        None
    }
}

/// [`read_file_limited`] with the default [`Limits`].
#[cfg(test)]
pub(crate) fn read_file(path: &Path, sink: &mut dyn Sink) -> u64 {
    read_file_limited(path, sink, &Limits::default())
}

/// Reads `path`, feeding `sink`, within `limits`. Returns the file's size on disk.
pub(crate) fn read_file_limited(path: &Path, sink: &mut dyn Sink, limits: &Limits) -> u64 {
    let file = match open_regular(path) {
        Ok(f) => f,
        Err(message) => {
            let _ = sink.problem(failed(None, None, None, message));
            return 0;
        }
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut raw = BufReader::with_capacity(64 * 1024, file);
    let gzip = match raw.fill_buf() {
        Ok(buf) => buf.starts_with(&[0x1f, 0x8b]),
        Err(e) => {
            let _ = sink.problem(failed(None, None, None, format!("cannot read: {e}")));
            return size;
        }
    };
    if gzip && size <= WHOLE_GZIP_LIMIT {
        // The common case (CloudTrail's S3 objects): read and inflate the file in one go.
        let mut compressed = Vec::with_capacity(size as usize);
        if let Err(e) = raw.read_to_end(&mut compressed) {
            let _ = sink.problem(failed(None, None, None, format!("cannot read: {e}")));
            return size;
        }
        TEXT.with(|cell| {
            let mut text = cell.borrow_mut();
            let whole = crate::gunzip::gunzip_whole(&compressed, &mut text).is_some()
                && within(text.len() as u64, compressed.len() as u64, limits).is_none();
            if whole {
                read_text(&text[..], true, limits, sink);
            } else {
                // Broken, unusual or over a cap: the streaming decoder says where it broke
                // (and keeps the records before that).
                read_text(inflater(&compressed[..], limits), true, limits, sink);
            }
            if text.capacity() > 16 << 20 {
                *text = Vec::new();
            }
        });
    } else if gzip {
        read_text(inflater(raw, limits), true, limits, sink);
    } else {
        read_text(raw, false, limits, sink);
    }
    size
}

/// Gzip files up to this size are read whole and inflated with libdeflate; larger ones
/// stream (their output could exceed [`crate::gunzip::MAX_WHOLE`] anyway).
const WHOLE_GZIP_LIMIT: u64 = 16 << 20;

thread_local! {
    /// Each worker's inflated-text buffer, reused from file to file.
    static TEXT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn io_message(e: &std::io::Error, gzip: bool, consumed: u64) -> String {
    if let Some(hit) = e.get_ref().and_then(|i| i.downcast_ref::<LimitHit>()) {
        return hit.to_string();
    }
    if gzip {
        format!("gzip stream broken after {consumed} decompressed bytes: {e}")
    } else {
        format!("read error after {consumed} bytes: {e}")
    }
}

/// How [`Reader::next_line`] ended.
enum Line {
    Eof,
    /// A line (with its terminator) is in the buffer.
    Full,
    /// The line was longer than the cap: the buffer holds its first [`RAW_PREFIX`] bytes, the
    /// rest was read past; `len` is its length.
    Long {
        len: u64,
    },
}

/// Tracks the position of the decompressed text for diagnostics.
struct Reader<R> {
    inner: R,
    gzip: bool,
    consumed: u64,
    line: u64,
    /// Byte offset where the last line read starts.
    line_start: u64,
}

impl<R: BufRead> Reader<R> {
    /// Next line including its terminator, read up to `cap` bytes (the rest of a longer line
    /// is read past, not kept).
    fn next_line(&mut self, buf: &mut Vec<u8>, cap: u64) -> std::io::Result<Line> {
        buf.clear();
        self.line_start = self.consumed;
        let mut len = 0u64;
        let mut long = false;
        loop {
            let avail = self.inner.fill_buf()?;
            if avail.is_empty() {
                break;
            }
            let (n, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            if !long {
                if len + n as u64 > cap {
                    long = true;
                    buf.extend_from_slice(&avail[..n.min(RAW_PREFIX.saturating_sub(buf.len()))]);
                    buf.truncate(RAW_PREFIX);
                    buf.shrink_to(RAW_PREFIX);
                } else {
                    buf.extend_from_slice(&avail[..n]);
                }
            }
            len += n as u64;
            self.inner.consume(n);
            self.consumed += n as u64;
            if done {
                break;
            }
        }
        if len == 0 {
            return Ok(Line::Eof);
        }
        self.line += 1;
        Ok(if long { Line::Long { len } } else { Line::Full })
    }
}

fn long_line(
    line: u64,
    len: u64,
    offset: u64,
    counter: &mut u64,
    raw: &[u8],
    (cap, flags): (u64, &str),
) -> Problem {
    *counter += 1;
    Problem::rejected(
        line,
        1,
        *counter,
        offset,
        format!(
            "line is {len} bytes, over the {} cap on one JSON document or line ({flags}); skipped",
            human_size(cap)
        ),
        raw,
    )
}

fn read_text<R: BufRead>(inner: R, gzip: bool, limits: &Limits, sink: &mut dyn Sink) {
    let mut r = Reader {
        inner,
        gzip,
        consumed: 0,
        line: 0,
        line_start: 0,
    };
    let cap = limits.max_document;
    let flags = limits.document_flags();
    let mut counter = 0u64;
    let mut buf = Vec::new();
    // Find the first non-blank line to choose the mode; `base` is where its text starts.
    let mut base = 0u64;
    let (first, long_first) = loop {
        match r.next_line(&mut buf, cap) {
            Ok(Line::Eof) => {
                // Only blank lines: in line mode each is a (blank) record.
                for line in 1..=r.line {
                    if blank_record(line, &mut counter, sink).is_break() {
                        return;
                    }
                }
                return;
            }
            Ok(Line::Long { len }) => break (r.line, Some(len)),
            Ok(Line::Full) => {
                base = r.line_start;
                if r.line == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
                    buf.drain(..3);
                    base += 3;
                }
                if !buf.iter().all(u8::is_ascii_whitespace) {
                    break (r.line, None);
                }
            }
            Err(e) => {
                let msg = io_message(&e, r.gzip, r.consumed);
                let _ = sink.problem(failed(Some(r.line + 1), None, Some(r.consumed), msg));
                return;
            }
        }
    };
    let trimmed = buf.trim_ascii();
    let one_line_value = long_first.is_some()
        || matches!(
            (trimmed.first(), trimmed.last()),
            (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']'))
        );
    if one_line_value {
        for line in 1..first {
            if blank_record(line, &mut counter, sink).is_break() {
                return;
            }
        }
        let flow = match long_first {
            Some(len) => sink.problem(long_line(
                first,
                len,
                r.line_start,
                &mut counter,
                &buf,
                (cap, flags),
            )),
            None => line_value(&buf, first, base, limits, &mut counter, sink),
        };
        if flow.is_break() {
            return;
        }
        loop {
            match r.next_line(&mut buf, cap) {
                Ok(Line::Eof) => return,
                Ok(Line::Long { len }) => {
                    let p = long_line(r.line, len, r.line_start, &mut counter, &buf, (cap, flags));
                    if sink.problem(p).is_break() {
                        return;
                    }
                }
                Ok(Line::Full) => {
                    if buf.iter().all(u8::is_ascii_whitespace) {
                        if blank_record(r.line, &mut counter, sink).is_break() {
                            return;
                        }
                        continue;
                    }
                    if line_value(&buf, r.line, r.line_start, limits, &mut counter, sink).is_break()
                    {
                        return;
                    }
                }
                Err(e) => {
                    // The good prefix has been delivered; the partial last line is dropped.
                    let msg = io_message(&e, r.gzip, r.consumed);
                    let _ = sink.problem(failed(Some(r.line + 1), None, Some(r.consumed), msg));
                    return;
                }
            }
        }
    }
    // A multi-line JSON document: read it whole, up to the cap.
    let mut doc = std::mem::take(&mut buf);
    let room = (cap + 1).saturating_sub(doc.len() as u64);
    if let Err(e) = (&mut r.inner).take(room).read_to_end(&mut doc) {
        let consumed = base + doc.len() as u64;
        let _ = sink.problem(failed(
            None,
            None,
            Some(consumed),
            io_message(&e, r.gzip, consumed),
        ));
        return;
    }
    if doc.len() as u64 > cap {
        let message = format!(
            "JSON document larger than the {} cap on one document ({flags}): not read",
            human_size(cap)
        );
        let _ = sink.problem(failed(Some(first), Some(1), Some(base), message));
        return;
    }
    let text = match std::str::from_utf8(&doc) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = position(&doc[..e.valid_up_to()], first, 1);
            let offset = base + e.valid_up_to() as u64;
            let _ = sink.problem(failed(
                Some(line),
                Some(column),
                Some(offset),
                "invalid UTF-8".into(),
            ));
            return;
        }
    };
    let at = At {
        line: first,
        column: 1,
        offset: base,
    };
    let _ = expand(text, at, true, limits, &mut counter, sink);
}

/// Where a value's text starts in the file.
#[derive(Clone, Copy)]
struct At {
    line: u64,
    column: u64,
    offset: u64,
}

/// A blank line as an empty record, when the sink asks for them (see [`Sink::blank_lines`]).
fn blank_record(line: u64, counter: &mut u64, sink: &mut dyn Sink) -> ControlFlow<()> {
    if !sink.blank_lines() {
        return ControlFlow::Continue(());
    }
    *counter += 1;
    sink.record(RecordRef {
        text: Cow::Borrowed(""),
        line,
        column: 1,
        index: *counter,
        offset: 0,
    })
}

fn line_value(
    buf: &[u8],
    line: u64,
    offset: u64,
    limits: &Limits,
    counter: &mut u64,
    sink: &mut dyn Sink,
) -> ControlFlow<()> {
    let bytes = buf.strip_suffix(b"\n").unwrap_or(buf);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let at = At {
                line,
                column: 1,
                offset,
            };
            expand(text, at, false, limits, counter, sink)
        }
        Err(e) => {
            *counter += 1;
            let mut p = Problem::rejected(
                line,
                e.valid_up_to() as u64 + 1,
                *counter,
                offset,
                "invalid UTF-8".into(),
                bytes,
            );
            p.offset = Some(offset + e.valid_up_to() as u64);
            sink.problem(p)
        }
    }
}

/// 1-based line/column reached after `prefix`, starting from (`line`, `column`).
fn position(prefix: &[u8], mut line: u64, mut column: u64) -> (u64, u64) {
    for &b in prefix {
        if b == b'\n' {
            line += 1;
            column = 1;
        } else if b & 0xC0 != 0x80 {
            // Count characters, not UTF-8 continuation bytes.
            column += 1;
        }
    }
    (line, column)
}

/// Hands one record to the sink, unless it breaks a size cap: then it is rejected by name
/// (its size, or the field or array over a cap) before anything parses it.
fn deliver(
    sink: &mut dyn Sink,
    limits: &Limits,
    text: Cow<'_, str>,
    at: At,
    counter: &mut u64,
) -> ControlFlow<()> {
    *counter += 1;
    let len = text.len() as u64;
    let problem = if len > limits.max_record {
        Some(format!(
            "record is {len} bytes, over the {} cap on one record (--max-record)",
            human_size(limits.max_record)
        ))
    } else if len > limits.big_record()
        || crate::structure::many_brackets(text.as_bytes(), crate::structure::MAX_NESTING as usize)
    {
        crate::structure::big_record_problem(text.as_bytes(), limits)
    } else {
        None
    };
    match problem {
        Some(message) => {
            let raw = &text.as_bytes()[..text.len().min(RAW_PREFIX)];
            sink.problem(Problem::rejected(
                at.line, at.column, *counter, at.offset, message, raw,
            ))
        }
        None => sink.record(RecordRef {
            text,
            line: at.line,
            column: at.column,
            index: *counter,
            offset: at.offset,
        }),
    }
}

/// Expands one JSON value's text (a line, or the whole document when `whole_file`).
fn expand(
    text: &str,
    at: At,
    whole_file: bool,
    limits: &Limits,
    counter: &mut u64,
    sink: &mut dyn Sink,
) -> ControlFlow<()> {
    if let Some(records) = sink.skip_value(text, at.offset) {
        *counter += records;
        return ControlFlow::Continue(());
    }
    let start = text.len() - text.trim_start().len();
    let first = text.as_bytes().get(start).copied();
    let syntax_error = |e: serde_json::Error, counter: &mut u64| {
        let l = at.line + e.line() as u64 - 1;
        let c = if e.line() == 1 {
            at.column + e.column() as u64 - 1
        } else {
            e.column() as u64
        };
        let message = format!(
            "invalid JSON: {}",
            crate::normalize::strip_position(&e.to_string())
        );
        if whole_file {
            failed(Some(l), Some(c), None, message)
        } else {
            *counter += 1;
            let raw = &text.as_bytes()[..text.len().min(RAW_PREFIX)];
            Problem::rejected(l, c, *counter, at.offset, message, raw)
        }
    };
    let elements: Vec<&RawValue> = match first {
        Some(b'[') => match serde_json::from_str::<Vec<&RawValue>>(text) {
            Ok(items) => items,
            Err(e) => return sink.problem(syntax_error(e, counter)),
        },
        Some(b'{') if CONTAINER_KEYS.iter().any(|k| text.contains(k)) => {
            let map = match serde_json::from_str::<BTreeMap<String, &RawValue>>(text) {
                Ok(m) => m,
                Err(e) => return sink.problem(syntax_error(e, counter)),
            };
            let array = |key: &str| map.get(key).filter(|r| r.get().starts_with('['));
            if let Some(records) = array("Records") {
                match serde_json::from_str::<Vec<&RawValue>>(records.get()) {
                    Ok(items) => items,
                    Err(e) => return sink.problem(syntax_error(e, counter)),
                }
            } else if let Some(events) = array("Events") {
                return lookup_events(text, events, at, limits, counter, sink);
            } else if let Some(docs) = array("expected").filter(|_| map.len() == 1) {
                match serde_json::from_str::<Vec<&RawValue>>(docs.get()) {
                    Ok(items) => items,
                    Err(e) => return sink.problem(syntax_error(e, counter)),
                }
            } else if let Some(hits) = search_hits(&map) {
                hits
            } else {
                return deliver(sink, limits, Cow::Borrowed(text), at, counter);
            }
        }
        _ => return deliver(sink, limits, Cow::Borrowed(text), at, counter),
    };
    let mut cursor = (0usize, at.line, at.column);
    for item in elements {
        let (at, slice) = advance(text, at, &mut cursor, item.get());
        deliver(sink, limits, Cow::Borrowed(slice), at, counter)?;
    }
    ControlFlow::Continue(())
}

/// Keys whose presence in a top-level object may make it a container of records: S3 delivery
/// `Records`, lookup-events `CloudTrailEvent`, `elastic-package` expected files
/// (`{"expected":[ECS docs]}`) and Elasticsearch search responses (`{"hits":{"hits":[…]}}`,
/// each hit's `_source` is then unwrapped by [`crate::shape`]).
const CONTAINER_KEYS: [&str; 4] = [
    "\"Records\"",
    "\"CloudTrailEvent\"",
    "\"expected\"",
    "\"hits\"",
];

/// The hits of a search response body (`hits.hits`), if `map` is one.
fn search_hits<'a>(map: &BTreeMap<String, &'a RawValue>) -> Option<Vec<&'a RawValue>> {
    let outer: &'a RawValue = map.get("hits")?;
    let inner = serde_json::from_str::<BTreeMap<String, &'a RawValue>>(outer.get()).ok()?;
    let hits: &'a RawValue = inner.get("hits").filter(|h| h.get().starts_with('['))?;
    serde_json::from_str::<Vec<&'a RawValue>>(hits.get()).ok()
}

/// Position of `slice` (a sub-slice of `text`, which starts at `at`), moving `cursor` forward
/// incrementally so a large document is scanned once.
fn advance<'t>(
    text: &'t str,
    at: At,
    cursor: &mut (usize, u64, u64),
    slice: &'t str,
) -> (At, &'t str) {
    let offset = slice.as_ptr() as usize - text.as_ptr() as usize;
    let (l, c) = position(&text.as_bytes()[cursor.0..offset], cursor.1, cursor.2);
    *cursor = (offset, l, c);
    let here = At {
        line: l,
        column: c,
        offset: at.offset + offset as u64,
    };
    (here, slice)
}

/// `aws cloudtrail lookup-events` output: each event carries the record as a JSON string.
fn lookup_events(
    text: &str,
    events: &RawValue,
    at: At,
    limits: &Limits,
    counter: &mut u64,
    sink: &mut dyn Sink,
) -> ControlFlow<()> {
    let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(events.get()) else {
        return deliver(sink, limits, Cow::Borrowed(text), at, counter);
    };
    let mut cursor = (0usize, at.line, at.column);
    for item in items {
        let (here, slice) = advance(text, at, &mut cursor, item.get());
        let inner = serde_json::from_str::<BTreeMap<String, serde_json::Value>>(slice)
            .ok()
            .and_then(|m| m.get("CloudTrailEvent")?.as_str().map(str::to_owned));
        match inner {
            Some(record) => deliver(sink, limits, Cow::Owned(record), here, counter)?,
            None => {
                *counter += 1;
                sink.problem(Problem::rejected(
                    here.line,
                    here.column,
                    *counter,
                    here.offset,
                    "lookup-events entry has no CloudTrailEvent string".into(),
                    slice.as_bytes(),
                ))?
            }
        }
    }
    ControlFlow::Continue(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        records: Vec<(String, u64, u64, u64)>,
        problems: Vec<Problem>,
    }

    impl Sink for Collect {
        fn record(&mut self, r: RecordRef<'_>) -> ControlFlow<()> {
            self.records
                .push((r.text.into_owned(), r.line, r.column, r.index));
            ControlFlow::Continue(())
        }
        fn problem(&mut self, p: Problem) -> ControlFlow<()> {
            self.problems.push(p);
            ControlFlow::Continue(())
        }
    }

    fn read(bytes: &[u8]) -> Collect {
        let dir = crate::test_util::TempDir::new("reader");
        let p = dir.write_bytes("f", bytes);
        let mut c = Collect::default();
        read_file(&p, &mut c);
        c
    }

    #[test]
    fn records_keep_exact_source_slices() {
        let c = read(b"{\"Records\": [\n  {\"a\": 1},\n  {\"b\" : [2, 3]}\n]}\n");
        assert_eq!(c.problems, vec![]);
        assert_eq!(c.records.len(), 2);
        assert_eq!(c.records[0], ("{\"a\": 1}".into(), 2, 3, 1));
        assert_eq!(c.records[1], ("{\"b\" : [2, 3]}".into(), 3, 3, 2));
    }

    #[test]
    fn ndjson_with_blank_and_bad_lines() {
        let c = read(b"{\"a\":1}\n\n{\"b\":\n{\"c\":3}\r\n");
        assert_eq!(c.records.len(), 3, "the bad line is handed on as a record");
        assert_eq!(c.records[1].0, "{\"b\":");
        assert_eq!(c.records[1].1, 3);
        assert_eq!(c.records[2], ("{\"c\":3}".into(), 4, 1, 3));
    }

    #[test]
    fn array_and_empty_array() {
        let c = read(b"[\n {\"x\":1},\n {\"y\":2}\n]");
        assert_eq!(c.records.len(), 2);
        assert_eq!(c.records[1].1, 3);
        let c = read(b"[]");
        assert!(c.records.is_empty() && c.problems.is_empty());
        let c = read(b"  \n");
        assert!(c.records.is_empty() && c.problems.is_empty());
    }

    #[test]
    fn broken_document_reports_position() {
        let c = read(b"{\"Records\": [\n {\"a\": 1},\n {\"b\" 2}\n]}");
        assert!(c.records.is_empty());
        assert_eq!(
            c.problems,
            vec![Problem {
                kind: DiagnosticKind::FileFailed,
                line: Some(3),
                column: Some(7),
                record: None,
                offset: None,
                message: "invalid JSON: expected `:`".into(),
                raw: None,
            }]
        );
    }

    #[test]
    fn expected_files_and_search_hits_are_containers() {
        let c = read(b"{\n  \"expected\": [\n    {\"a\": 1},\n    {\"b\": 2}\n  ]\n}\n");
        assert_eq!(c.problems, vec![]);
        assert_eq!(c.records[0], ("{\"a\": 1}".into(), 3, 5, 1));
        assert_eq!(c.records[1].0, "{\"b\": 2}");
        let c =
            read(b"{\"took\": 1, \"hits\": {\"total\": 1, \"hits\": [{\"_source\": {\"x\": 1}}]}}");
        assert_eq!(c.records.len(), 1);
        assert_eq!(c.records[0].0, "{\"_source\": {\"x\": 1}}");
        // A record that merely has such keys is one record.
        let c = read(b"{\"expected\": [1], \"eventName\": \"X\"}\n{\"hits\": 3}\n");
        assert_eq!(c.records.len(), 2);
    }

    #[test]
    fn blank_lines_only_when_asked() {
        struct Blank(Collect);
        impl Sink for Blank {
            fn record(&mut self, r: RecordRef<'_>) -> ControlFlow<()> {
                self.0.record(r)
            }
            fn problem(&mut self, p: Problem) -> ControlFlow<()> {
                self.0.problem(p)
            }
            fn blank_lines(&self) -> bool {
                true
            }
        }
        let bytes = b"\n{\"a\":1}\n\n{\"b\":2}\n\n";
        assert_eq!(read(bytes).records.len(), 2);
        let dir = crate::test_util::TempDir::new("blank");
        let p = dir.write_bytes("f", bytes);
        let mut c = Blank(Collect::default());
        read_file(&p, &mut c);
        let got: Vec<(&str, u64, u64)> =
            c.0.records
                .iter()
                .map(|(t, l, _, i)| (t.as_str(), *l, *i))
                .collect();
        assert_eq!(
            got,
            [
                ("", 1, 1),
                ("{\"a\":1}", 2, 2),
                ("", 3, 3),
                ("{\"b\":2}", 4, 4),
                ("", 5, 5)
            ]
        );
    }

    #[test]
    fn lookup_events_are_unwrapped() {
        let c = read(b"{\"Events\": [{\"EventId\": \"x\", \"CloudTrailEvent\": \"{\\\"eventName\\\":\\\"A\\\"}\"}]}");
        assert_eq!(c.problems, vec![]);
        assert_eq!(c.records[0].0, "{\"eventName\":\"A\"}");
    }
}
