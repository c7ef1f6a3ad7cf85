//! The `--errors FILE` log: every rejected record, failed file and skipped input as one
//! NDJSON line, so an analyst can see (and re-process) exactly what a run did not read.
//!
//! ```text
//! {"file":"logs/a.json","kind":"rejected","line":3,"column":1,"record":2,"offset":118,"reason":"invalid JSON: …","raw":"{\"eventName\":"}
//! {"file":"logs/b.json.gz","kind":"file_failed","reason":"decompresses to more than 4 GiB …"}
//! {"file":"logs/fifo","kind":"skipped","reason":"a FIFO (named pipe), not a regular file: skipped, never opened"}
//! ```
//!
//! Kinds: `rejected` (a record lost), `file_failed` (the rest of a file could not be read),
//! `skipped` (an input not read at all) and `note` (read, but worth knowing about).
//!
//! `raw` is the record's bytes as text when they are UTF-8, otherwise `raw_base64` holds them
//! (an over-long line or record keeps its first 64 KiB and says `"raw_truncated":true`). A file
//! name that is not UTF-8 is shown lossily in `file` and exactly in `file_base64`.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::scan::{Diagnostic, DiagnosticKind};

/// An NDJSON writer of problems with the input, shared by the threads that report them.
pub struct ErrorLog {
    out: Mutex<Box<dyn Write + Send>>,
    /// The first write error, reported once by [`ErrorLog::finish`].
    failed: Mutex<Option<std::io::Error>>,
}

impl ErrorLog {
    /// Creates (truncates) `path`.
    pub fn create(path: &Path) -> std::io::Result<ErrorLog> {
        let file = std::fs::File::create(path)?;
        Ok(ErrorLog::new(Box::new(std::io::BufWriter::new(file))))
    }

    /// A log writing to any writer (tests).
    pub fn new(out: Box<dyn Write + Send>) -> ErrorLog {
        ErrorLog {
            out: Mutex::new(out),
            failed: Mutex::new(None),
        }
    }

    /// Logs a rejected record or a failed file. Kept records Elasticsearch would flag
    /// (`pipeline_error`) are not rejections and are not logged.
    pub fn diagnostic(&self, d: &Diagnostic) {
        let kind = match d.kind {
            DiagnosticKind::Rejected => "rejected",
            DiagnosticKind::FileFailed => "file_failed",
            DiagnosticKind::PipelineError => return,
        };
        let mut m = entry(&d.path, kind);
        for (key, v) in [
            ("line", d.line),
            ("column", d.column),
            ("record", d.record),
            ("offset", d.offset),
        ] {
            if let Some(v) = v {
                m.insert(key.into(), v.into());
            }
        }
        m.insert("reason".into(), d.message.clone().into());
        if let Some(raw) = &d.raw {
            match std::str::from_utf8(raw) {
                Ok(text) => m.insert("raw".into(), text.into()),
                Err(_) => m.insert("raw_base64".into(), base64(raw).into()),
            };
            if raw.len() >= crate::reader::RAW_PREFIX {
                m.insert("raw_truncated".into(), true.into());
            }
        }
        self.write(m);
    }

    /// Logs an input that was not read at all (a FIFO, an unreadable folder, a second path to
    /// a file already read, …), with the reason.
    pub fn skipped(&self, path: &Path, reason: &str) {
        self.input(path, "skipped", reason);
    }

    /// Logs something worth knowing about an input that was read (a name that is not UTF-8).
    pub fn noted(&self, path: &Path, reason: &str) {
        self.input(path, "note", reason);
    }

    fn input(&self, path: &Path, kind: &str, reason: &str) {
        let mut m = entry(path, kind);
        m.insert("reason".into(), reason.into());
        self.write(m);
    }

    fn write(&self, m: Map<String, Value>) {
        let mut line = Value::Object(m).to_string();
        line.push('\n');
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = out.write_all(line.as_bytes()) {
            self.failed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert(e);
        }
    }

    /// Flushes the log; the first error any write met, if one did.
    pub fn finish(&self) -> std::io::Result<()> {
        if let Some(e) = self.failed.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(e);
        }
        self.out.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}

fn entry(path: &Path, kind: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("file".into(), path.to_string_lossy().into_owned().into());
    if path.to_str().is_none() {
        use std::os::unix::ffi::OsStrExt;
        m.insert(
            "file_base64".into(),
            base64(path.as_os_str().as_bytes()).into(),
        );
    }
    m.insert("kind".into(), kind.into());
    m
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
        assert_eq!(base64(&[0xff, 0xfe]), "//4=");
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn one_line_per_problem() {
        use std::os::unix::ffi::OsStrExt;
        let buf = Shared::default();
        let log = ErrorLog::new(Box::new(buf.clone()));
        let d = Diagnostic {
            path: "a.json".into(),
            line: Some(2),
            column: Some(1),
            record: Some(1),
            offset: Some(10),
            message: "invalid UTF-8".into(),
            kind: DiagnosticKind::Rejected,
            raw: Some(Arc::from(&b"{\"x\":\xff}"[..])),
        };
        log.diagnostic(&d);
        log.diagnostic(&Diagnostic {
            kind: DiagnosticKind::PipelineError,
            ..d.clone()
        });
        let odd = Path::new(std::ffi::OsStr::from_bytes(b"b\xffc"));
        log.skipped(odd, "a FIFO");
        log.finish().unwrap();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"file":"a.json","kind":"rejected","line":2,"column":1,"record":1,"offset":10,"reason":"invalid UTF-8","raw_base64":"eyJ4Ijr/fQ=="}"#,
                "\n",
                "{\"file\":\"b\u{fffd}c\",\"file_base64\":\"Yv9j\",\"kind\":\"skipped\",\"reason\":\"a FIFO\"}\n"
            )
        );
    }
}
