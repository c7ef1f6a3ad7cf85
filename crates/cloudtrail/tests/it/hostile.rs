//! Hostile and broken inputs, generated here (nothing big is stored): decompression bombs,
//! truncated and corrupt gzip, files the prefilter would skip that are not well-formed,
//! over-long lines, oversized records and fields, deep nesting, huge arrays, FIFOs and
//! devices. Each must give the exact count of good records, and every bad record or file
//! must be named with its position and reason — the same with and without the prefilter,
//! since skipping unparsed may never hide a problem.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cloudtrail::{scan, Diagnostic, DiagnosticKind, Limits, Prefilter, ScanOptions};

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::Builder::new()
            .prefix("cloudtrail-hostile-")
            .tempdir()
            .unwrap())
    }
    fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
}

/// A record no query below can match (its action and provider are not the prefilter's).
fn quiet(i: usize) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-07-31T13:06:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.{i}","eventID":"q-{i}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::1:user/u{i}"}},"requestParameters":{{"bucketName":"b","key":"k{i}"}}}}"#,
        i % 60
    )
}

/// A record the seed-like prefilter below lets through.
fn loud(i: usize) -> String {
    quiet(i)
        .replace("s3.amazonaws.com", "cloudtrail.amazonaws.com")
        .replace("GetObject", "StopLogging")
}

fn prefilter() -> Prefilter {
    Prefilter::new(vec![
        vec!["StopLogging".into(), "DeleteTrail".into()],
        vec!["cloudtrail.amazonaws.com".into()],
    ])
    .unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// `zeros` zero bytes through flate2, 1 MiB at a time: a few MB that inflate to `zeros`.
fn bomb(zeros: u64) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..zeros >> 20 {
        e.write_all(&chunk).unwrap();
    }
    e.finish().unwrap()
}

/// What a scan read and reported.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    rows: u64,
    skipped: u64,
    rejected: u64,
    files: u64,
    files_failed: u64,
    /// `Display` of every diagnostic, in file order.
    diags: Vec<String>,
}

impl Outcome {
    /// Records in: what the files held, however it was read.
    fn records_in(&self) -> u64 {
        self.rows + self.skipped + self.rejected
    }
}

fn run_with(files: &[PathBuf], prefilter: Option<Prefilter>, limits: Limits) -> Outcome {
    let diags = Arc::new(Mutex::new(Vec::<Diagnostic>::new()));
    let sink = Arc::clone(&diags);
    let opts = ScanOptions {
        columns: Some(vec!["event.action".into(), "event.provider".into()]),
        threads: 2,
        prefilter,
        limits,
        on_diagnostic: Some(Arc::new(move |d: &Diagnostic| {
            sink.lock().unwrap().push(d.clone())
        })),
        ..ScanOptions::default()
    };
    let s = scan(files.to_vec(), opts);
    let stats = s.stats();
    let rows: usize = s.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows as u64, stats.records());
    assert_eq!(
        stats.records_in(),
        stats.records() + stats.skipped_records() + stats.rejected()
    );
    let diags = diags.lock().unwrap();
    Outcome {
        rows: stats.records(),
        skipped: stats.skipped_records(),
        rejected: stats.rejected(),
        files: stats.files(),
        files_failed: stats.files_failed(),
        // Kept records Elasticsearch would flag are not problems of the input's accounting
        // (and skipped records are never normalized, so never flagged).
        diags: diags
            .iter()
            .filter(|d| d.kind != DiagnosticKind::PipelineError)
            .map(|d| d.to_string())
            .collect(),
    }
}

/// Scans with and without the prefilter and checks that both report exactly the same
/// problems and the same number of records in; returns the prefiltered outcome.
fn both(files: &[PathBuf], limits: Limits) -> Outcome {
    let full = run_with(files, None, limits);
    let fast = run_with(files, Some(prefilter()), limits);
    assert_eq!(full.skipped, 0);
    if let Some(i) = (0..fast.diags.len().max(full.diags.len()))
        .find(|&i| fast.diags.get(i) != full.diags.get(i))
    {
        panic!(
            "the prefilter hid or changed a problem: diagnostic {i} is {:?} with it, {:?} without",
            fast.diags.get(i),
            full.diags.get(i)
        );
    }
    assert_eq!(
        (fast.records_in(), fast.rejected, fast.files_failed),
        (full.records_in(), full.rejected, full.files_failed),
        "records in = processed + rejected must not depend on the query"
    );
    fast
}

fn name(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn gzip_bomb_is_stopped_by_ratio_and_named() {
    let d = Dir::new();
    // 3 MB of gzip inflating to 3 GiB.
    let bomb = d.file("bomb.json.gz", bomb(3 << 30));
    let size = std::fs::metadata(&bomb).unwrap().len();
    assert!(size < 8 << 20, "{size}");
    let good = d.file("good.json", format!("{}\n{}\n", loud(1), quiet(2)));
    let o = both(&[bomb.clone(), good], Limits::default());
    assert_eq!(
        (o.rows, o.skipped, o.rejected, o.files, o.files_failed),
        (1, 1, 0, 2, 1)
    );
    assert_eq!(o.diags.len(), 1);
    let prefix = format!(
        "{}:1: decompresses to more than 200 times its compressed size (",
        name(&bomb)
    );
    assert!(o.diags[0].starts_with(&prefix), "{}", o.diags[0]);
    assert!(
        o.diags[0].ends_with(
            "; a decompression bomb?) (--max-ratio); stopped there, the records before it are kept"
        ),
        "{}",
        o.diags[0]
    );
}

#[test]
fn inflated_cap_keeps_the_records_before_it() {
    let d = Dir::new();
    // 40k records of NDJSON (≈10 MB inflated), capped at 4 MiB: the records before the cap are
    // kept, the partial line at the cap is not.
    let text: String = (0..40_000).map(|i| quiet(i) + "\n").collect();
    // The lines that end within the first 4 MiB.
    let mut end = 0;
    let want = (0..40_000)
        .take_while(|&i| {
            end += quiet(i).len() + 1;
            end <= 4 << 20
        })
        .count() as u64;
    let f = d.file("big.json.gz", gzip(text.as_bytes()));
    let limits = Limits {
        max_inflated: 4 << 20,
        ..Limits::default()
    };
    let o = both(std::slice::from_ref(&f), limits);
    assert_eq!(o.files_failed, 1);
    assert_eq!(o.records_in(), want, "{o:?}");
    assert_eq!(o.diags.len(), 1);
    assert!(
        o.diags[0].ends_with(": decompresses to more than 4 MiB (--max-inflated); stopped there, the records before it are kept"),
        "{}",
        o.diags[0]
    );
    assert!(o.diags[0].starts_with(&format!("{}:{}:", name(&f), o.records_in() + 1)));
}

#[test]
fn truncated_and_corrupt_gzip() {
    let d = Dir::new();
    let text: String = (0..200).map(|i| quiet(i) + "\n").collect();
    let gz = gzip(text.as_bytes());
    let cut = d.file("cut.json.gz", &gz[..gz.len() / 2]);
    // A wrong CRC: every record is read, then the file is reported.
    let mut flipped = gz.clone();
    let crc = flipped.len() - 8;
    flipped[crc] ^= 0x55;
    let corrupt = d.file("corrupt.json.gz", flipped);
    let mut tail = gz.clone();
    tail.extend_from_slice(b"not gzip at all, but long enough to be read as a header");
    let trailing = d.file("trailing.json.gz", tail);
    let two = d.file("two.json.gz", [gz.clone(), gz.clone()].concat());
    let o = both(
        &[cut.clone(), corrupt.clone(), trailing.clone(), two],
        Limits::default(),
    );
    assert_eq!((o.files, o.files_failed, o.rejected), (4, 3, 0));
    let line = |i: usize| quiet(i).len() + 1;
    let kept: usize = (0..200)
        .take_while(|&i| (0..=i).map(line).sum::<usize>() <= text.len() / 2)
        .count();
    assert_eq!(o.diags.len(), 3, "{:?}", o.diags);
    assert!(o.diags[0].starts_with(&format!(
        "{}:{}: gzip stream broken after ",
        name(&cut),
        o.diags[0].split(':').nth(1).unwrap()
    )));
    assert!(
        o.diags[0].ends_with(" decompressed bytes: incomplete deflate stream"),
        "{}",
        o.diags[0]
    );
    assert_eq!(
        o.diags[1],
        format!("{}:201: gzip stream broken after {} decompressed bytes: corrupt gzip stream does not have a matching checksum", name(&corrupt), text.len())
    );
    assert_eq!(
        o.diags[2],
        format!(
            "{}:201: gzip stream broken after {} decompressed bytes: invalid gzip header",
            name(&trailing),
            text.len()
        )
    );
    // Every record of the three files read to the end, both members of the concatenated
    // file, and the lines of the cut file before its cut.
    let cut_records = o.records_in() - 800;
    assert!(
        cut_records <= kept as u64 && cut_records + 20 >= kept as u64,
        "{cut_records} {kept}"
    );
}

#[test]
fn corrupt_files_the_prefilter_would_skip_are_reported() {
    let d = Dir::new();
    let q = quiet(1);
    let files = [
        // A Records file with a syntax error: the whole document fails.
        d.file("syntax.json", format!("{{\"Records\": [\n{q},\n{q} x\n]}}")),
        // The same on one line (S3 delivery shape).
        d.file("oneline.json", format!("{{\"Records\":[{q},{q}],}}\n")),
        // NDJSON: a cut line, a non-record object, a string, a good record.
        d.file(
            "lines.json",
            format!("{q}\n{}\n{{\"x\":1}}\n\"text\"\n{q}\n", &q[..q.len() - 9]),
        ),
        // An array with a bad element among good ones.
        d.file("array.json", format!("[{q}, 17, {q}]")),
        // Valid JSON that the parser still refuses: a lone surrogate, a number out of range.
        d.file(
            "refused.json",
            format!(
                "{}\n{}\n",
                q.replace("\"k1\"", "\"\\ud800\""),
                q.replace("\"b\"", "1e999")
            ),
        ),
        // A control character inside a string.
        d.file(
            "control.json",
            q.replace("GetObject", "Get\u{1}Object") + "\n",
        ),
        // Invalid UTF-8 in a line.
        d.file(
            "utf8.json",
            [q.as_bytes(), b"\n{\"eventName\":\"\xff\"}\n"].concat(),
        ),
    ];
    let o = both(&files, Limits::default());
    let n = |i: usize| name(&files[i]);
    let k1 = q.find("\"k1\"").unwrap();
    let b = q.find("\"b\"").unwrap();
    let get = q.find("GetObject").unwrap();
    let want = vec![
        format!("{}:3:{}: invalid JSON: expected `,` or `]`", n(0), q.len() + 2),
        format!("{}:1:{} (record 1): invalid JSON: trailing comma", n(1), 2 * q.len() + 16),
        format!("{}:2:{} (record 2): invalid JSON: EOF while parsing a string", n(2), q.len() - 9),
        format!("{}:3:1 (record 3): not a CloudTrail record: it has none of eventVersion, eventTime, eventName, eventSource, userIdentity", n(2)),
        format!("{}:4:1 (record 4): record is not a JSON object (found a string)", n(2)),
        format!("{}:1:{} (record 2): record is not a JSON object (found a number)", n(3), q.len() + 4),
        format!("{}:1:{} (record 1): invalid JSON: unexpected end of hex escape", n(4), k1 + 8),
        format!("{}:2:{} (record 2): invalid JSON: number out of range", n(4), b + 5),
        format!("{}:1:{} (record 1): invalid JSON: control character (\\u0000-\\u001F) found while parsing a string", n(5), get + 4),
        format!("{}:2:15 (record 2): invalid UTF-8", n(6)),
    ];
    assert_eq!(o.diags, want);
    // The pretty document fails whole; a bad line loses only itself.
    assert_eq!((o.rows, o.files_failed), (0, 1));
    // Good records: 2 lines + 2 array elements + 1 utf8 line, all skipped by the prefilter.
    assert_eq!((o.skipped, o.rejected), (5, 9));
}

#[test]
fn deep_nesting_and_huge_arrays() {
    let d = Dir::new();
    let q = quiet(1);
    let deep = |n: usize| q.replace("\"b\"", &format!("{}1{}", "[".repeat(n), "]".repeat(n)));
    let files = [
        // 200 levels in one NDJSON record: the parser's limit, not a stack overflow.
        d.file("deep.json", deep(200) + "\n" + &q + "\n"),
        // 100k levels inside a Records document: the document fails, named.
        d.file(
            "deeper.json",
            format!("{{\"Records\": [\n{}\n]}}", deep(100_000)),
        ),
        // An array of 2M elements in a record (4 MB): over the array limit.
        d.file(
            "wide.json",
            q.replace("\"b\"", &format!("[{}0]", "0,".repeat(2_000_000))) + "\n",
        ),
    ];
    let o = both(&files, Limits::default());
    let deep = "nested more than 100 levels deep (at `requestParameters.bucketName`)";
    assert_eq!(
        o.diags,
        [
            format!("{}:1:1 (record 1): {deep}", name(&files[0])),
            format!("{}:2:1 (record 1): {deep}", name(&files[1])),
            format!("{}:1:1 (record 1): array `requestParameters.bucketName` has more than 1000000 elements (the limit for one array)", name(&files[2])),
        ]
    );
    assert_eq!((o.skipped, o.rejected, o.files_failed), (1, 3, 0));
}

#[test]
fn size_caps_reject_by_name_and_go_on() {
    let d = Dir::new();
    let q = quiet(1);
    let limits = Limits {
        max_document: 1 << 20,
        max_record: 256 << 10,
        max_field: 64 << 10,
        ..Limits::default()
    };
    let policy = q.replace("\"k1\"", &format!("\"{}\"", "p".repeat(100 << 10)));
    let files = [
        // An NDJSON line over the document cap, between good lines.
        d.file("long.json", format!("{q}\n{}\n{q}\n", "x".repeat(2 << 20))),
        // A pretty document over the cap.
        d.file(
            "doc.json",
            format!(
                "{{\n\"Records\": [\n{}\n]}}",
                vec![q.clone(); 8000].join(",\n")
            ),
        ),
        // A record over the record cap, in an array.
        d.file(
            "record.json",
            format!(
                "[{q}, {}]",
                q.replace("\"k1\"", &format!("\"{}\"", "r".repeat(300 << 10)))
            ),
        ),
        // A field over the field cap.
        d.file("field.json", policy + "\n"),
        // The first line of the file is the long one.
        d.file("first.json", format!("{}\n{q}\n", "y".repeat(2 << 20))),
    ];
    let o = both(&files, limits);
    let big_record = q.len() + (300 << 10) - 2;
    assert_eq!(
        o.diags,
        [
            format!("{}:2:1 (record 2): line is {} bytes, over the 1 MiB cap on one JSON document or line (--max-document); skipped", name(&files[0]), (2 << 20) + 1),
            format!("{}:1:1: JSON document larger than the 1 MiB cap on one document (--max-document): not read", name(&files[1])),
            format!("{}:1:{} (record 2): record is {big_record} bytes, over the 256 KiB cap on one record (--max-record)", name(&files[2]), q.len() + 4),
            format!("{}:1:1 (record 1): field `requestParameters.key` is {} bytes, over the 64 KiB cap (--max-field)", name(&files[3]), (100 << 10) + 2),
            format!("{}:1:1 (record 1): line is {} bytes, over the 1 MiB cap on one JSON document or line (--max-document); skipped", name(&files[4]), (2 << 20) + 1),
        ]
    );
    assert_eq!((o.skipped, o.rejected, o.files_failed), (4, 4, 1));
}

#[test]
fn fifos_sockets_and_devices_are_never_opened() {
    let d = Dir::new();
    let fifo = d.path().join("fifo.json");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let sock = d.path().join("sock.json");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let good = d.file("good.json", quiet(1));
    let files = vec![
        fifo.clone(),
        sock.clone(),
        PathBuf::from("/dev/zero"),
        good,
        d.path().to_path_buf(),
    ];
    let o = both(&files, Limits::default());
    assert_eq!(
        o.diags,
        [
            format!(
                "{}: a FIFO (named pipe), not a regular file: skipped, never opened",
                name(&fifo)
            ),
            format!(
                "{}: a socket, not a regular file: skipped, never opened",
                name(&sock)
            ),
            "/dev/zero: a character device, not a regular file: skipped, never opened".to_string(),
            format!(
                "{}: a directory, not a regular file: skipped, never opened",
                name(d.path())
            ),
        ]
    );
    assert_eq!((o.files, o.files_failed, o.records_in()), (5, 4, 1));
}

/// Random damage to small files (flipped, dropped and inserted bytes, cuts): whatever the
/// damage, the prefilter reports the same problems and the same records in as a full read.
#[test]
fn damaged_files_report_the_same_with_and_without_the_prefilter() {
    let d = Dir::new();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let shapes: Vec<String> = vec![
        format!("{{\"Records\":[{},{},{}]}}", quiet(1), quiet(2), loud(3)),
        format!("{{\"Records\":[{},{}]}}", quiet(1), quiet(2)),
        format!("[{}, {}]\n", quiet(1), quiet(2)),
        format!("{}\n{}\n{}\n", quiet(1), loud(2), quiet(3)),
        format!("{{\n  \"Records\": [\n    {}\n  ]\n}}\n", quiet(4)),
    ];
    let tokens: [&[u8]; 12] = [
        b"\"", b"\\", b",", b"]", b"}", b"{", b"[", b"\n", b"\\u0000", b"1e5", b"\xc3", b":",
    ];
    let mut files = Vec::new();
    for i in 0..600 {
        let mut b = shapes[i % shapes.len()].clone().into_bytes();
        for _ in 0..1 + next(3) {
            let at = next(b.len());
            match next(4) {
                0 => b[at] ^= 1 << next(8),
                1 => {
                    b.remove(at);
                }
                2 => {
                    let t = tokens[next(tokens.len())];
                    b.splice(at..at, t.iter().copied());
                }
                _ => b.truncate(at),
            }
        }
        files.push(d.file(&format!("{i:03}.json"), &b));
    }
    let o = both(&files, Limits::default());
    assert!(
        o.skipped > 100 && o.rejected > 100 && o.files_failed > 50,
        "{o:?}"
    );
}

/// lookup-events output carries each record as a JSON string: an escape inside the record
/// (`\u0053topLogging` is `StopLogging`) is doubly escaped in the file's text, where the
/// prefilter cannot see it. Such a file is never skipped by its outer text.
#[test]
fn lookup_events_are_never_judged_by_their_outer_text() {
    let d = Dir::new();
    let inner = loud(1).replace("StopLogging", "\\u0053topLogging");
    let quoted = serde_json::to_string(&inner).unwrap();
    let f = d.file(
        "events.json",
        format!("{{\"Events\":[{{\"CloudTrailEvent\":{quoted}}}]}}"),
    );
    let o = both(std::slice::from_ref(&f), Limits::default());
    assert_eq!((o.rows, o.skipped, o.rejected), (1, 0, 0));
}

/// The check cache (kept across the scans of a hunt run) gives the same answers as checking
/// again, and a file changed in between is checked again.
#[test]
fn check_cache_remembers_verdicts_and_rechecks_changed_files() {
    let d = Dir::new();
    let body: Vec<String> = (0..40).map(quiet).collect();
    let good = format!("{{\"Records\":[{}]}}", body.join(","));
    let f = d.file("a.json", &good);
    let cache = Arc::new(cloudtrail::CheckCache::default());
    let scan_once = || {
        let diags = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = Arc::clone(&diags);
        let opts = ScanOptions {
            columns: Some(vec!["event.action".into()]),
            threads: 1,
            prefilter: Some(prefilter()),
            check_cache: Some(cache.clone()),
            on_diagnostic: Some(Arc::new(move |d: &Diagnostic| {
                sink.lock().unwrap().push(d.to_string())
            })),
            ..ScanOptions::default()
        };
        let s = scan(vec![f.clone()], opts);
        let stats = s.stats();
        s.for_each(|b| drop(b.unwrap()));
        let diags = diags.lock().unwrap().clone();
        (
            stats.skipped_records(),
            stats.rejected(),
            stats.files_failed(),
            diags,
        )
    };
    assert_eq!(scan_once(), (40, 0, 0, vec![]));
    assert_eq!(scan_once(), (40, 0, 0, vec![]));
    // Same size, new bytes and a new modification time: checked again, and reported.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let bad = good.replacen("\"GetObject\"", "\"GetObject\"x", 1);
    std::fs::write(&f, &bad[..good.len()]).unwrap();
    let (skipped, rejected, failed, diags) = scan_once();
    // (The cut file no longer ends its one line with `}`: it is read as a document, which
    // fails whole.)
    assert_eq!((skipped, rejected, failed), (0, 0, 1), "{diags:?}");
    assert!(diags[0].contains("a.json:1:"), "{diags:?}");
}

/// Under a memory budget (`Limits::scan_memory`) large rows are sent on in small chunks and
/// batches — cut by size, the same for any thread count — and a document over the worker's
/// share of the budget is reported naming both flags.
#[test]
fn a_memory_budget_cuts_batches_by_size_and_lowers_the_document_cap() {
    let d = Dir::new();
    let big = "b".repeat(1 << 20);
    let files: Vec<PathBuf> = (0..6)
        .map(|f| {
            let recs: Vec<String> = (0..5)
                .map(|i| quiet(f * 10 + i).replace("\"b\"", &format!("\"{big}\"")))
                .collect();
            d.file(
                &format!("f{f}.json"),
                format!("{{\"Records\":[{}]}}", recs.join(",")).into_bytes(),
            )
        })
        .collect();
    let limits = Limits {
        scan_memory: Some(32 << 20),
        ..Limits::default()
    };
    let shapes = |threads: usize, limits: Limits| -> Vec<usize> {
        let opts = ScanOptions {
            columns: Some(vec!["aws.cloudtrail.request_parameters".into()]),
            threads,
            limits,
            ..ScanOptions::default()
        };
        scan(files.clone(), opts)
            .map(|b| b.unwrap().num_rows())
            .collect()
    };
    let one = shapes(1, limits);
    assert_eq!(one.iter().sum::<usize>(), 30);
    assert!(one.len() > 1 && one.iter().all(|&n| n < 30), "{one:?}");
    assert_eq!(shapes(2, limits), one, "the same cuts for any thread count");
    // Without a budget: one batch of all 30 rows.
    assert_eq!(shapes(2, Limits::default()), [30]);

    // A 12 MiB document (one record per line), over a 16 MiB budget's share for one of two workers (the floor,
    // 4 MiB) but under --max-document.
    let rec = quiet(1).replace("\"b\"", &format!("\"{}\"", "c".repeat(3 << 20)));
    let doc = format!("{{\"Records\":[\n{}\n]}}", vec![rec; 4].join(",\n"));
    let f = d.file("doc.json", doc.into_bytes());
    let small = Limits {
        scan_memory: Some(16 << 20),
        ..Limits::default()
    };
    let o = run_with(&[f.clone(), files[0].clone()], None, small);
    assert_eq!(o.files_failed, 1, "{o:?}");
    assert!(
        o.diags[0].ends_with("JSON document larger than the 4 MiB cap on one document (--max-document, lowered to fit --memory-limit): not read"),
        "{}",
        o.diags[0]
    );
    assert_eq!(run_with(&[f], None, Limits::default()).files_failed, 0);
}
