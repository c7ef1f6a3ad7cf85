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

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;

use serde_json::value::RawValue;

/// One record's text and where it starts (1-based line/column; `index` counts records in the
/// file from 1).
pub(crate) struct RecordRef<'a> {
    pub text: Cow<'a, str>,
    pub line: u64,
    pub column: u64,
    pub index: u64,
}

/// Something in the file that is not a usable record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// One record (or NDJSON line) is lost; reading goes on.
    Rejected {
        line: Option<u64>,
        column: Option<u64>,
        record: Option<u64>,
        message: String,
    },
    /// The rest of the file cannot be read.
    FileFailed {
        line: Option<u64>,
        column: Option<u64>,
        message: String,
    },
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
    /// Whether a whole line or document (before it is split into records) may hold a record
    /// the query can match; `false` skips it unparsed (see [`crate::prefilter`]).
    fn may_match_value(&mut self, _text: &str) -> bool {
        true
    }
}

/// Reads `path`, feeding `sink`. Returns the file's size on disk.
pub(crate) fn read_file(path: &Path, sink: &mut dyn Sink) -> u64 {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            let _ = sink.problem(failed(None, None, format!("cannot open: {e}")));
            return 0;
        }
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut raw = BufReader::with_capacity(64 * 1024, file);
    let gzip = match raw.fill_buf() {
        Ok(buf) => buf.starts_with(&[0x1f, 0x8b]),
        Err(e) => {
            let _ = sink.problem(failed(None, None, format!("cannot read: {e}")));
            return size;
        }
    };
    if gzip && size <= WHOLE_GZIP_LIMIT {
        // The common case (CloudTrail's S3 objects): read and inflate the file in one go.
        let mut compressed = Vec::with_capacity(size as usize);
        if let Err(e) = raw.read_to_end(&mut compressed) {
            let _ = sink.problem(failed(None, None, format!("cannot read: {e}")));
            return size;
        }
        TEXT.with(|cell| {
            let mut text = cell.borrow_mut();
            if crate::gunzip::gunzip_whole(&compressed, &mut text).is_some() {
                read_text(&text[..], true, sink);
            } else {
                // Broken or unusual: the streaming decoder says where it broke.
                let decoder = flate2::bufread::MultiGzDecoder::new(&compressed[..]);
                read_text(BufReader::with_capacity(64 * 1024, decoder), true, sink);
            }
            if text.capacity() > 16 << 20 {
                *text = Vec::new();
            }
        });
    } else if gzip {
        let decoder = flate2::bufread::MultiGzDecoder::new(raw);
        read_text(BufReader::with_capacity(64 * 1024, decoder), true, sink);
    } else {
        read_text(raw, false, sink);
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

fn failed(line: Option<u64>, column: Option<u64>, message: String) -> Problem {
    Problem::FileFailed {
        line,
        column,
        message,
    }
}

fn io_message(e: &std::io::Error, gzip: bool, consumed: u64) -> String {
    if gzip {
        format!("gzip stream broken after {consumed} decompressed bytes: {e}")
    } else {
        format!("read error after {consumed} bytes: {e}")
    }
}

/// Tracks the position of the decompressed text for diagnostics.
struct Reader<R> {
    inner: R,
    gzip: bool,
    consumed: u64,
    line: u64,
}

impl<R: BufRead> Reader<R> {
    /// Next line including its terminator; `Ok(false)` at end of input.
    fn next_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        buf.clear();
        let n = self.inner.read_until(b'\n', buf)?;
        self.consumed += n as u64;
        if n == 0 {
            return Ok(false);
        }
        self.line += 1;
        Ok(true)
    }
}

fn read_text<R: BufRead>(inner: R, gzip: bool, sink: &mut dyn Sink) {
    let mut r = Reader {
        inner,
        gzip,
        consumed: 0,
        line: 0,
    };
    let mut counter = 0u64;
    let mut buf = Vec::new();
    // Find the first non-blank line to choose the mode.
    let first = loop {
        match r.next_line(&mut buf) {
            Ok(false) => {
                // Only blank lines: in line mode each is a (blank) record.
                for line in 1..=r.line {
                    if blank_record(line, &mut counter, sink).is_break() {
                        return;
                    }
                }
                return;
            }
            Ok(true) => {
                if r.line == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
                    buf.drain(..3);
                }
                if !buf.iter().all(u8::is_ascii_whitespace) {
                    break r.line;
                }
            }
            Err(e) => {
                let msg = io_message(&e, r.gzip, r.consumed);
                let _ = sink.problem(failed(Some(r.line + 1), None, msg));
                return;
            }
        }
    };
    let trimmed = buf.trim_ascii();
    let one_line_value = matches!(
        (trimmed.first(), trimmed.last()),
        (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']'))
    );
    if one_line_value {
        for line in 1..first {
            if blank_record(line, &mut counter, sink).is_break() {
                return;
            }
        }
        if line_value(&buf, first, &mut counter, sink).is_break() {
            return;
        }
        loop {
            match r.next_line(&mut buf) {
                Ok(false) => return,
                Ok(true) => {
                    if buf.iter().all(u8::is_ascii_whitespace) {
                        if blank_record(r.line, &mut counter, sink).is_break() {
                            return;
                        }
                        continue;
                    }
                    if line_value(&buf, r.line, &mut counter, sink).is_break() {
                        return;
                    }
                }
                Err(e) => {
                    // The good prefix has been delivered; the partial last line is dropped.
                    let msg = io_message(&e, r.gzip, r.consumed);
                    let _ = sink.problem(failed(Some(r.line + 1), None, msg));
                    return;
                }
            }
        }
    }
    // A multi-line JSON document: read it whole.
    let mut doc = std::mem::take(&mut buf);
    if let Err(e) = r.inner.read_to_end(&mut doc) {
        let consumed = r.consumed + doc.len() as u64;
        let _ = sink.problem(failed(None, None, io_message(&e, r.gzip, consumed)));
        return;
    }
    let text = match std::str::from_utf8(&doc) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = position(&doc[..e.valid_up_to()], first, 1);
            let _ = sink.problem(failed(Some(line), Some(column), "invalid UTF-8".into()));
            return;
        }
    };
    let _ = expand(text, first, 1, true, &mut counter, sink);
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
    })
}

fn line_value(buf: &[u8], line: u64, counter: &mut u64, sink: &mut dyn Sink) -> ControlFlow<()> {
    let bytes = buf.strip_suffix(b"\n").unwrap_or(buf);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => expand(text, line, 1, false, counter, sink),
        Err(e) => {
            *counter += 1;
            sink.problem(Problem::Rejected {
                line: Some(line),
                column: Some(e.valid_up_to() as u64 + 1),
                record: Some(*counter),
                message: "invalid UTF-8".into(),
            })
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

/// Expands one JSON value's text (a line, or the whole document when `whole_file`).
fn expand(
    text: &str,
    line: u64,
    column: u64,
    whole_file: bool,
    counter: &mut u64,
    sink: &mut dyn Sink,
) -> ControlFlow<()> {
    if !sink.may_match_value(text) {
        return ControlFlow::Continue(());
    }
    let start = text.len() - text.trim_start().len();
    let first = text.as_bytes().get(start).copied();
    let syntax_error = |e: serde_json::Error, counter: &mut u64| {
        let l = line + e.line() as u64 - 1;
        let c = if e.line() == 1 {
            column + e.column() as u64 - 1
        } else {
            e.column() as u64
        };
        let message = format!(
            "invalid JSON: {}",
            crate::normalize::strip_position(&e.to_string())
        );
        if whole_file {
            failed(Some(l), Some(c), message)
        } else {
            *counter += 1;
            Problem::Rejected {
                line: Some(l),
                column: Some(c),
                record: Some(*counter),
                message,
            }
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
                return lookup_events(text, events, line, column, counter, sink);
            } else if let Some(docs) = array("expected").filter(|_| map.len() == 1) {
                match serde_json::from_str::<Vec<&RawValue>>(docs.get()) {
                    Ok(items) => items,
                    Err(e) => return sink.problem(syntax_error(e, counter)),
                }
            } else if let Some(hits) = search_hits(&map) {
                hits
            } else {
                return one(text, line, column, counter, sink);
            }
        }
        _ => return one(text, line, column, counter, sink),
    };
    let mut cursor = (0usize, line, column);
    for item in elements {
        let (l, c) = advance(text, &mut cursor, item.get());
        *counter += 1;
        sink.record(RecordRef {
            text: Cow::Borrowed(item.get()),
            line: l,
            column: c,
            index: *counter,
        })?;
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

/// Position of `slice` (a sub-slice of `text`), moving `cursor` forward incrementally so a
/// large document is scanned once.
fn advance(text: &str, cursor: &mut (usize, u64, u64), slice: &str) -> (u64, u64) {
    let offset = slice.as_ptr() as usize - text.as_ptr() as usize;
    let (l, c) = position(&text.as_bytes()[cursor.0..offset], cursor.1, cursor.2);
    *cursor = (offset, l, c);
    (l, c)
}

fn one(
    text: &str,
    line: u64,
    column: u64,
    counter: &mut u64,
    sink: &mut dyn Sink,
) -> ControlFlow<()> {
    *counter += 1;
    sink.record(RecordRef {
        text: Cow::Borrowed(text),
        line,
        column,
        index: *counter,
    })
}

/// `aws cloudtrail lookup-events` output: each event carries the record as a JSON string.
fn lookup_events(
    text: &str,
    events: &RawValue,
    line: u64,
    column: u64,
    counter: &mut u64,
    sink: &mut dyn Sink,
) -> ControlFlow<()> {
    let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(events.get()) else {
        return one(text, line, column, counter, sink);
    };
    let mut cursor = (0usize, line, column);
    for item in items {
        let (l, c) = advance(text, &mut cursor, item.get());
        *counter += 1;
        let inner = serde_json::from_str::<BTreeMap<String, serde_json::Value>>(item.get())
            .ok()
            .and_then(|m| m.get("CloudTrailEvent")?.as_str().map(str::to_owned));
        match inner {
            Some(record) => sink.record(RecordRef {
                text: Cow::Owned(record),
                line: l,
                column: c,
                index: *counter,
            })?,
            None => sink.problem(Problem::Rejected {
                line: Some(l),
                column: Some(c),
                record: Some(*counter),
                message: "lookup-events entry has no CloudTrailEvent string".into(),
            })?,
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
            vec![Problem::FileFailed {
                line: Some(3),
                column: Some(7),
                message: "invalid JSON: expected `:`".into()
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
