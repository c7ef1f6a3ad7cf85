//! The binary on hostile input, generated here in temporary folders: a corpus of broken,
//! oversized, looping and special files next to good ones. Every good record is counted once,
//! every bad file and record is named on stderr with its reason, the summary says what was
//! not read and why, `--errors` lists each problem with its raw bytes, and the run stays
//! within bounded memory (peak RSS measured with `wait4`, not timed).

mod common;

use common::workspace;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one run printed, and its peak resident memory.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    max_rss_kib: i64,
}

impl Run {
    fn warnings(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("warning: "))
            .collect()
    }
    fn summary(&self) -> &str {
        self.stderr
            .lines()
            .rfind(|l| l.starts_with("trailhunt: "))
            .unwrap_or("")
    }
}

/// Runs the built binary (optionally under `prefix`, e.g. `unshare -U`) and measures it.
// The child is reaped by `wait4`, which also gives its resource usage.
#[allow(clippy::zombie_processes)]
fn run_in(prefix: &[&str], args: &[&OsStr], dir: &Path) -> Run {
    let exe = env!("CARGO_BIN_EXE_trailhunt");
    let mut cmd = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    let mut child = cmd
        .args(args)
        .current_dir(dir)
        .env("TRAILHUNT_HOME", dir.join("no-library"))
        .env("TRAILHUNT_CACHE", dir.join("cache"))
        .env_remove("TRAILHUNT_GEOIP")
        .env_remove("TRAILHUNT_ASN")
        .env_remove("TRAILHUNT_UA_REGEXES")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run trailhunt");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).unwrap();
        s
    });
    let mut e = Vec::new();
    err.read_to_end(&mut e).unwrap();
    let o = t.join().unwrap();
    let mut status = 0;
    // SAFETY: plain wait4 on our own child with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    Run {
        code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        stdout: String::from_utf8_lossy(&o).into_owned(),
        stderr: String::from_utf8_lossy(&e).into_owned(),
        max_rss_kib: usage.ru_maxrss,
    }
}

fn run(args: &[&str], dir: &Path) -> Run {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    run_in(&[], &args, dir)
}

fn rec(i: usize, action: &str, source: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-07-31T13:{:02}:00Z","eventSource":"{source}","eventName":"{action}","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.{i}","eventID":"e-{i}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::1:user/u{i}"}},"requestParameters":{{"k":"v{i}"}}}}"#,
        i % 60
    )
}

fn quiet(i: usize) -> String {
    rec(i, "GetObject", "s3.amazonaws.com")
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// `n` zero bytes streamed through flate2: a few MB that inflate to `n`.
fn bomb(n: u64) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..n >> 20 {
        e.write_all(&chunk).unwrap();
    }
    e.finish().unwrap()
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// The corpus: `(file, what the warning about it says)`, and the good records it holds.
struct Corpus {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    /// (path relative to `dir`, the end of its warning line).
    bad: Vec<(String, String)>,
    good: u64,
    stop_logging: u64,
}

impl Corpus {
    /// Inputs in the corpus that are hostile or broken (each has a warning).
    fn hostile(&self) -> usize {
        self.bad.len()
    }
}

fn corpus() -> Corpus {
    let tmp = tempfile::Builder::new()
        .prefix("trailhunt-untrusted-")
        .tempdir()
        .unwrap();
    let dir = tmp.path().to_path_buf();
    let logs = dir.join("logs");
    std::fs::create_dir_all(logs.join("sub")).unwrap();
    let put = |rel: &str, bytes: &[u8]| std::fs::write(logs.join(rel), bytes).unwrap();
    let q = quiet(1);
    let mut bad: Vec<(String, String)> = Vec::new();
    let mut note = |rel: &str, msg: &str| bad.push((format!("logs/{rel}"), msg.to_string()));

    // Good data: 3 + 4 + 1 + 1 + 2 records, two of them StopLogging.
    let stop = rec(2, "StopLogging", "cloudtrail.amazonaws.com");
    put(
        "good.json",
        format!("{{\"Records\":[{q},{stop},{}]}}", quiet(3)).as_bytes(),
    );
    let lines: String = (10..14).map(|i| quiet(i) + "\n").collect();
    put("sub/good.ndjson.gz", &gz(lines.as_bytes()));
    put(
        "sub/events.json",
        format!(
            "{{\"Events\":[{{\"CloudTrailEvent\":{}}},{{\"EventId\":\"x\"}}]}}",
            serde_json_string(&rec(20, "StopLogging", "cloudtrail.amazonaws.com"))
        )
        .as_bytes(),
    );
    note(
        "sub/events.json",
        "(record 2): lookup-events entry has no CloudTrailEvent string",
    );
    std::fs::write(logs.join(OsStr::from_bytes(b"caf\xe9.json")), quiet(30)).unwrap();
    note("caf\u{fffd}.json", "its name is not valid UTF-8 (shown here with U+FFFD for the bytes that are not): read as usual");
    put(
        "dup-keys.json",
        format!(
            "[{}, {}]",
            quiet(40),
            quiet(41).replace("\"k\":", "\"eventName\":\"A\",\"k\":")
        )
        .as_bytes(),
    );

    // Compression: a bomb, cut, bad CRC, trailing garbage, gzip inside gzip.
    put("bomb.json.gz", &bomb(2 << 30));
    note(
        "bomb.json.gz",
        "; a decompression bomb?) (--max-ratio); stopped there, the records before it are kept",
    );
    let g = gz(format!("{q}\n").repeat(50).as_bytes());
    put("cut.json.gz", &g[..g.len() / 2]);
    // The lines of the cut file that inflate whole are kept.
    let mut text = Vec::new();
    let _ = flate2::read::MultiGzDecoder::new(&g[..g.len() / 2]).read_to_end(&mut text);
    let cut_kept = text.iter().filter(|&&b| b == b'\n').count() as u64;
    note(
        "cut.json.gz",
        "decompressed bytes: incomplete deflate stream",
    );
    let mut crc = g.clone();
    let at = crc.len() - 8;
    crc[at] ^= 1;
    put("crc.json.gz", &crc);
    note(
        "crc.json.gz",
        "decompressed bytes: corrupt gzip stream does not have a matching checksum",
    );
    put(
        "trailing.json.gz",
        &[g.clone(), b"garbage after the member, long enough".to_vec()].concat(),
    );
    note(
        "trailing.json.gz",
        "decompressed bytes: invalid gzip header",
    );
    put("double.json.gz", &gz(&gz(q.as_bytes())));
    note("double.json.gz", ":1:2: invalid UTF-8");

    // Broken JSON the prefilter would skip, and JSON the pipeline refuses.
    put(
        "syntax.json",
        format!("{{\"Records\": [\n{q},\n{q} x\n]}}").as_bytes(),
    );
    note("syntax.json", "invalid JSON: expected `,` or `]`");
    put(
        "lines.ndjson",
        format!("{q}\n{}\n{{\"x\":1}}\n\"text\"\n", &q[..q.len() - 2]).as_bytes(),
    );
    note(
        "lines.ndjson",
        "(record 2): invalid JSON: EOF while parsing an object",
    );
    note("lines.ndjson", "(record 3): not a CloudTrail record: it has none of eventVersion, eventTime, eventName, eventSource, userIdentity");
    note(
        "lines.ndjson",
        "(record 4): record is not a JSON object (found a string)",
    );
    let pretty = format!("{{\n  \"Records\": [\n    {q},\n    {q}\n  ]\n}}\n");
    put("trunc-doc.json", &pretty.as_bytes()[..pretty.len() / 2]);
    note("trunc-doc.json", "invalid JSON: EOF while parsing a string");
    put("bracket.json", b"[\n");
    note("bracket.json", "invalid JSON: EOF while parsing a list");
    put("bom-garbage.json", b"\xEF\xBB\xBF}{\n");
    note(
        "bom-garbage.json",
        "(record 1): invalid JSON: expected value",
    );
    put(
        "records-object.json",
        format!("{{\"Records\":{q}}}").as_bytes(),
    );
    note("records-object.json", "(record 1): not a CloudTrail record: it has none of eventVersion, eventTime, eventName, eventSource, userIdentity");
    put("array.json", format!("[{q}, 17]").as_bytes());
    note(
        "array.json",
        "(record 2): record is not a JSON object (found a number)",
    );
    put("utf8.ndjson", b"{\"eventName\":\"\xff\"}\n");
    note("utf8.ndjson", "(record 1): invalid UTF-8");
    put(
        "control.json",
        q.replace("GetObject", "Get\u{7}Object").as_bytes(),
    );
    note("control.json", "(record 1): invalid JSON: control character (\\u0000-\\u001F) found while parsing a string");
    put(
        "surrogate.json",
        q.replace("\"v1\"", "\"\\udc00\"").as_bytes(),
    );
    note(
        "surrogate.json",
        "(record 1): invalid JSON: lone leading surrogate in hex escape",
    );
    put("range.json", q.replace("\"v1\"", "-1e400").as_bytes());
    note(
        "range.json",
        "(record 1): invalid JSON: number out of range",
    );
    put("binary.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00");
    note("binary.bin", ":1:1: invalid UTF-8");
    put("nul.json", b"\x00\x00\x00\x00{}\n");
    note("nul.json", "(record 1): invalid JSON: expected value");
    put("zip.zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00");
    note("zip.zip", "(record 1): invalid JSON: expected value");

    // Shape caps: nesting, a huge array, a field and a record over their caps.
    let nest = |n: usize| q.replace("\"v1\"", &format!("{}1{}", "[".repeat(n), "]".repeat(n)));
    put("deep.json", nest(1000).as_bytes());
    note(
        "deep.json",
        "(record 1): nested more than 100 levels deep (at `requestParameters.k`)",
    );
    put(
        "wide.json",
        q.replace("\"v1\"", &format!("[{}0]", "0,".repeat(1_500_000)))
            .as_bytes(),
    );
    note("wide.json", "(record 1): array `requestParameters.k` has more than 1000000 elements (the limit for one array)");
    put(
        "field.json",
        q.replace("\"v1\"", &format!("\"{}\"", "f".repeat(5 << 20)))
            .as_bytes(),
    );
    note(
        "field.json",
        &format!(
            "(record 1): field `requestParameters.k` is {} bytes, over the 4 MiB cap (--max-field)",
            (5 << 20) + 2
        ),
    );
    let many: Vec<String> = (0..100)
        .map(|i| format!("\"p{i}\":\"{}\"", "r".repeat(200 << 10)))
        .collect();
    let huge = q.replace("\"k\":\"v1\"", &many.join(","));
    put("record.json", huge.as_bytes());
    note(
        "record.json",
        &format!(
            "(record 1): record is {} bytes, over the 16 MiB cap on one record (--max-record)",
            huge.len()
        ),
    );

    // From the peers' changelogs: JSON Lines with a `Records` batch per line, the last one
    // cut (Suzaku #139 dropped such files silently); a field of multi-byte characters over
    // its cap (#148: a char-boundary panic); lines that are JSON but not objects; and nesting
    // at the top of a document, outside any record. A timestamp the pipeline cannot parse
    // (#150 dropped every event on a bad date) is no problem: the integration keeps the
    // event without a parsed time, and so do we.
    put(
        "batches.jsonl",
        format!(
            "{{\"Records\":[{}]}}\n{{\"Records\":[{}]}}\n{{\"Records\":[{q}\n",
            quiet(60),
            quiet(61)
        )
        .as_bytes(),
    );
    note(
        "batches.jsonl",
        ":3:292 (record 3): invalid JSON: EOF while parsing a list",
    );
    put(
        "cjk-field.json",
        q.replace("\"v1\"", &format!("\"{}\"", "漢".repeat(2 << 20)))
            .as_bytes(),
    );
    note(
        "cjk-field.json",
        &format!(
            "(record 1): field `requestParameters.k` is {} bytes, over the 4 MiB cap (--max-field)",
            (6 << 20) + 2
        ),
    );
    put(
        "bad-time.json",
        q.replace("2024-07-31T13:01:00Z", "2024-13-45T99:00:00Z")
            .as_bytes(),
    );
    put(
        "scalars.ndjson",
        format!("{}\n\"a string\"\n", quiet(62)).as_bytes(),
    );
    note(
        "scalars.ndjson",
        ":2:1 (record 2): record is not a JSON object (found a string)",
    );
    put(
        "deep-top.json",
        format!("{}{q}{}", "[".repeat(5000), "]".repeat(5000)).as_bytes(),
    );
    note(
        "deep-top.json",
        ":1:2 (record 1): nested more than 100 levels deep (at `(record)`)",
    );

    // Empty and blank files hold no record and are no problem.
    put("empty.json", b"");
    put("blank.json", b"\xEF\xBB\xBF \n\n");

    // The file system: a FIFO, a socket, a device, links of every kind, a hidden file.
    mkfifo(&logs.join("pipe.json"));
    note(
        "pipe.json",
        "a FIFO (named pipe), not a regular file: skipped, never opened",
    );
    let sock = std::os::unix::net::UnixListener::bind(logs.join("sock.json")).unwrap();
    std::mem::forget(sock);
    note(
        "sock.json",
        "a socket, not a regular file: skipped, never opened",
    );
    symlink("/dev/zero", logs.join("zero.json")).unwrap();
    note(
        "zero.json",
        "a character device, not a regular file: skipped, never opened",
    );
    symlink("..", logs.join("sub/up")).unwrap();
    note(
        "sub/up",
        "a link back to logs, which contains it (a loop): not followed",
    );
    symlink("self.json", logs.join("self.json")).unwrap();
    note("self.json", "a symbolic link that cannot be followed (Too many levels of symbolic links (os error 40)): skipped");
    symlink("missing.json", logs.join("broken.json")).unwrap();
    note(
        "broken.json",
        "a broken symbolic link (its target does not exist): skipped",
    );
    symlink(logs.join("good.json"), logs.join("sub/link.json")).unwrap();
    note(
        "sub/link.json",
        "same file as logs/good.json (a link to it, or named twice): read once",
    );
    std::fs::hard_link(logs.join("good.json"), logs.join("hard.json")).unwrap();
    note(
        "hard.json",
        "same file as logs/good.json (a link to it, or named twice): read once",
    );
    symlink(logs.join("sub"), logs.join("sub-again")).unwrap();
    note(
        "sub-again",
        "same folder as logs/sub (a link to it, or named twice): read once",
    );
    put(".hidden.json", q.as_bytes());
    note(
        ".hidden.json",
        "1 hidden entry (names starting with `.`) not read, this one among them",
    );

    // good.json, the NDJSON gzip, lookup-events, the non-UTF-8 name, dup-keys, the first
    // line of lines.ndjson and element of array.json, and what the
    // cut, bad-CRC and trailing-garbage gzip files hold before their fault.
    let good = 3 + 4 + 1 + 1 + 2 + 1 + 1 + cut_kept + 50 + 50 + 2 + 1 + 1;
    Corpus {
        _tmp: tmp,
        dir,
        bad,
        good,
        stop_logging: 2,
    }
}

fn serde_json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Checks that each bad input has its warning (naming its path) and nothing else warns.
fn check_warnings(r: &Run, bad: &[(String, String)], logs_arg: &str) {
    // Paths as the corpus names them: relative to its folder.
    let warnings: Vec<String> = r
        .warnings()
        .iter()
        .map(|w| w.replace(logs_arg, "logs"))
        .collect();
    let mut unmatched: Vec<&str> = warnings.iter().map(String::as_str).collect();
    for (rel, msg) in bad {
        let pos = unmatched
            .iter()
            .position(|w| w.starts_with(&format!("warning: {rel}")) && w.ends_with(msg.as_str()))
            .unwrap_or_else(|| panic!("no warning for {rel} ending in {msg:?}:\n{}", r.stderr));
        unmatched.remove(pos);
    }
    assert!(unmatched.is_empty(), "unexpected warnings: {unmatched:#?}");
}

#[test]
fn hostile_corpus_counts_each_good_record_once_and_names_every_bad_input() {
    let c = corpus();
    // 41 hostile inputs named one by one, plus three odd but harmless ones (duplicate keys, an
    // empty file, a BOM and blank lines) that must not be.
    assert_eq!(c.hostile(), 41);
    let logs = c.dir.join("logs").display().to_string();
    let errors = c.dir.join("errors.ndjson");
    let count = "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)";
    let stops = "FROM logs-aws.cloudtrail* | WHERE event.action == \"StopLogging\" AND event.provider == \"cloudtrail.amazonaws.com\" | STATS n = COUNT(*)";
    let mut totals = Vec::new();
    for (query, want) in [(count, c.good), (stops, c.stop_logging)] {
        let r = run(
            &[
                "query",
                "-i",
                &logs,
                "-i",
                &logs,
                "--memory-limit",
                "512M",
                "--errors",
                &errors.display().to_string(),
                "-f",
                "csv",
                query,
            ],
            &c.dir,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.stdout, format!("n\r\n{want}\r\n"), "{}", r.stderr);
        let mut bad = c.bad.clone();
        bad.push((
            "logs".into(),
            "folder named more than once: read once".into(),
        ));
        check_warnings(&r, &bad, &logs);
        // Files read: everything but the specials, links, loop and hidden file; a 2 GiB bomb
        // inflated only to its first 16 MiB; memory stays far below the limit.
        let s = r.summary();
        assert!(s.starts_with("trailhunt: 35 files (9 unreadable), "), "{s}");
        assert!(
            s.contains("not read: 4 second paths to files or folders already read, 1 symbolic-link loop, 3 FIFOs, sockets or devices, 2 unreadable folders, entries or broken links, 1 hidden entry"),
            "{s}"
        );
        assert!(r.max_rss_kib < 512 * 1024, "peak RSS {} KiB", r.max_rss_kib);
        // Records in = processed + rejected, the same whatever the query skipped.
        let rejected = c.bad.iter().filter(|(_, m)| m.contains("(record ")).count();
        assert_eq!(rejected, 21);
        assert!(
            s.contains(&format!("{} records, {rejected} rejected", c.good)),
            "{s}"
        );
        totals.push(s.split(" MB").next().unwrap().to_string());
        if query == stops {
            assert!(s.contains("the prefilter skipped "), "{s}");
            // The structural check's verdicts are kept for the next run.
            let saved = c.dir.join("cache/structure-checks");
            assert!(saved.is_file(), "{}", saved.display());
        }
        // The log: one line per problem, raw bytes of each rejected record.
        let log = std::fs::read_to_string(&errors).unwrap();
        let entries: Vec<serde_json::Value> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let kinds = |k: &str| entries.iter().filter(|e| e["kind"] == k).count();
        assert_eq!(kinds("rejected"), rejected, "{log}");
        assert_eq!(kinds("file_failed"), 9, "{log}");
        assert_eq!(kinds("skipped"), 11, "{log}");
        assert_eq!(kinds("note"), 1, "{log}");
        let utf8 = entries
            .iter()
            .find(|e| e["file"].as_str().unwrap().ends_with("utf8.ndjson"))
            .unwrap();
        assert_eq!(utf8["raw_base64"], "eyJldmVudE5hbWUiOiL/In0=");
        let array = entries
            .iter()
            .find(|e| e["file"].as_str().unwrap().ends_with("array.json"))
            .unwrap();
        assert_eq!(array["raw"], "17");
        assert_eq!(array["record"], 2);
        let big = entries
            .iter()
            .find(|e| e["file"].as_str().unwrap().ends_with("record.json"))
            .unwrap();
        assert_eq!(big["raw_truncated"], true);
        assert_eq!(big["raw"].as_str().unwrap().len(), 64 << 10);
    }
    assert_eq!(
        totals[0], totals[1],
        "the counts do not depend on the query"
    );
}

#[test]
fn caps_are_flags_with_clear_errors() {
    let c = corpus();
    let logs = c.dir.join("logs").display().to_string();
    let r = run(
        &[
            "query",
            "-i",
            &logs,
            "--max-record",
            "200",
            "-f",
            "csv",
            "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)",
        ],
        &c.dir,
    );
    assert_eq!(
        r.stdout, "n\r\n0\r\n",
        "every good record is over 200 bytes: {}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("over the 200 bytes cap on one record (--max-record)"),
        "{}",
        r.stderr
    );
    for (flag, value, msg) in [
        (
            "--max-record",
            "0",
            "--max-record: invalid size [0]: must be at least one byte",
        ),
        (
            "--max-inflated",
            "lots",
            "--max-inflated: invalid size [lots]",
        ),
        ("--max-ratio", "0", "--max-ratio: must be more than 0"),
    ] {
        let r = run(
            &[
                "query",
                "-i",
                &logs,
                flag,
                value,
                "FROM logs-aws.cloudtrail*",
            ],
            &c.dir,
        );
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains(msg), "{}", r.stderr);
    }
    let r = run(
        &[
            "query",
            "-i",
            &logs,
            "--errors",
            "/nonexistent/dir/e.ndjson",
            "FROM logs-aws.cloudtrail*",
        ],
        &c.dir,
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("error: --errors /nonexistent/dir/e.ndjson: No such file or directory"),
        "{}",
        r.stderr
    );
}

#[test]
fn strict_makes_unread_inputs_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("ok.json"), quiet(1)).unwrap();
    mkfifo(&tmp.path().join("pipe.json"));
    let args = ["query", "-i", ".", "--strict", "FROM logs-aws.cloudtrail*"];
    let r = run(&args, tmp.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("error: ./pipe.json: a FIFO (named pipe), not a regular file: skipped, never opened (--strict)"),
        "{}",
        r.stderr
    );
    let r = run(&["normalize", "--strict", "."], tmp.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    // A second path to a file is no error.
    std::fs::remove_file(tmp.path().join("pipe.json")).unwrap();
    symlink("ok.json", tmp.path().join("link.json")).unwrap();
    let r = run(
        &[
            "query",
            "-i",
            ".",
            "--strict",
            "-f",
            "csv",
            "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)",
        ],
        tmp.path(),
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "n\r\n1\r\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn warnings_are_capped_per_file_and_the_rest_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let bad: String = (0..50).map(|i| format!("{{\"bad\":{i}}}\n")).collect();
    std::fs::write(tmp.path().join("bad.ndjson"), bad).unwrap();
    let errors = tmp.path().join("e.ndjson");
    let r = run(
        &[
            "query",
            "-i",
            "bad.ndjson",
            "--errors",
            "e.ndjson",
            "-f",
            "csv",
            "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)",
        ],
        tmp.path(),
    );
    assert_eq!(r.warnings().len(), 20, "{}", r.stderr);
    assert!(
        r.summary().contains("0 records, 50 rejected")
            && r.summary().contains(
                "; 30 more rejected records in 1 files not shown (all are in the --errors file)"
            ),
        "{}",
        r.summary()
    );
    assert_eq!(std::fs::read_to_string(errors).unwrap().lines().count(), 50);
}

/// Unreadable files and folders are named and the run goes on. Root reads everything, so as
/// root this runs under `unshare -U` (the files' owner is then unmapped and permissions apply).
#[test]
fn unreadable_files_and_folders_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(logs.join("locked")).unwrap();
    std::fs::write(logs.join("ok.json"), quiet(1)).unwrap();
    std::fs::write(logs.join("locked/x.json"), quiet(2)).unwrap();
    std::fs::write(logs.join("secret.json"), quiet(3)).unwrap();
    let mode = |p: &Path, m| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    mode(&logs.join("locked"), 0o000);
    mode(&logs.join("secret.json"), 0o000);
    // SAFETY: geteuid has no preconditions.
    let prefix: &[&str] = if unsafe { libc::geteuid() } == 0 {
        &["unshare", "-U"]
    } else {
        &[]
    };
    let args: Vec<&OsStr> = [
        "query",
        "-i",
        "logs",
        "-f",
        "csv",
        "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let r = run_in(prefix, &args, tmp.path());
    mode(&logs.join("locked"), 0o755);
    mode(&logs.join("secret.json"), 0o644);
    if r.code != 0 && r.stdout.is_empty() && r.stderr.contains("unshare") {
        eprintln!("skipping: no user namespace here: {}", r.stderr);
        return;
    }
    assert_eq!(r.stdout, "n\r\n1\r\n", "{}", r.stderr);
    assert_eq!(
        r.warnings(),
        [
            "warning: logs/locked: cannot read folder: Permission denied (os error 13)",
            "warning: logs/secret.json: cannot open: Permission denied (os error 13)",
        ]
    );
    assert!(
        r.summary()
            .starts_with("trailhunt: 2 files (1 unreadable), 1 records, 0 rejected"),
        "{}",
        r.summary()
    );
    assert!(
        r.summary()
            .contains("not read: 1 unreadable folder, entry or broken link"),
        "{}",
        r.summary()
    );
}

/// 100,000 one-record files: each counted once, in bounded memory.
#[test]
fn a_hundred_thousand_tiny_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("many");
    for d in 0..100 {
        let dir = root.join(format!("{d:03}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..1000 {
            let action = if f == 7 { "StopLogging" } else { "GetObject" };
            let text = rec(d * 1000 + f, action, "cloudtrail.amazonaws.com");
            std::fs::write(dir.join(format!("{f:04}.json")), text).unwrap();
        }
    }
    let r = run(
        &["query", "-i", "many", "-f", "csv", "FROM logs-aws.cloudtrail* | WHERE event.action == \"StopLogging\" | STATS n = COUNT(*)"],
        tmp.path(),
    );
    assert_eq!(r.stdout, "n\r\n100\r\n", "{}", r.stderr);
    assert!(
        r.summary()
            .starts_with("trailhunt: 100000 files (0 unreadable), 100000 records, 0 rejected"),
        "{}",
        r.summary()
    );
    assert!(r.max_rss_kib < 400 * 1024, "peak RSS {} KiB", r.max_rss_kib);
    let _ = workspace();
}

/// `ingest` and `normalize` read through the same reader: the same caps, the same problems
/// in their `--errors` logs, and two names that only differ in bytes that are not UTF-8 are
/// two sources of the store (their lossy forms are the same).
#[test]
fn ingest_and_normalize_account_for_the_same_problems() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("good.json"),
        format!("{{\"Records\":[{},{},{}]}}", quiet(1), quiet(2), quiet(3)),
    )
    .unwrap();
    std::fs::write(logs.join("bad.ndjson"), format!("{}\n{{\"b\":\n", quiet(4))).unwrap();
    std::fs::write(logs.join(OsStr::from_bytes(b"f\xfe.json")), quiet(5)).unwrap();
    std::fs::write(logs.join(OsStr::from_bytes(b"f\xff.json")), quiet(6)).unwrap();
    mkfifo(&logs.join("pipe.json"));
    let r = run(
        &[
            "ingest",
            "logs",
            "--store",
            "store",
            "--errors",
            "ingest-errors.ndjson",
        ],
        tmp.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "ingested 4 of 4 files into store (0 already stored): 6 records stored, 1 rejected"
        ),
        "{}",
        r.stderr
    );
    let r = run(
        &["normalize", "logs", "--errors", "normalize-errors.ndjson"],
        tmp.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 6);
    let kinds = |f: &str| -> Vec<String> {
        let mut k: Vec<String> = std::fs::read_to_string(tmp.path().join(f))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                format!(
                    "{} {}",
                    v["kind"].as_str().unwrap(),
                    v["file"].as_str().unwrap()
                )
            })
            .collect();
        k.sort();
        k
    };
    let want = [
        "note logs/f\u{fffd}.json",
        "note logs/f\u{fffd}.json",
        "rejected logs/bad.ndjson",
        "skipped logs/pipe.json",
    ];
    assert_eq!(kinds("ingest-errors.ndjson"), want);
    assert_eq!(kinds("normalize-errors.ndjson"), want);
    let r = run(
        &[
            "query",
            "--store",
            "store",
            "-f",
            "csv",
            "FROM logs-aws.cloudtrail* | STATS n = COUNT(*)",
        ],
        tmp.path(),
    );
    assert_eq!(r.stdout, "n\r\n6\r\n", "{}", r.stderr);
}

/// A file or folder whose name is not UTF-8 can be named on the command line itself (not
/// only met while walking a folder): `query -i`, `normalize` and `ingest` read it, and name
/// it lossily in what they print.
#[test]
fn non_utf8_paths_named_on_the_command_line_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(OsStr::from_bytes(b"logs-\xff"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = OsStr::from_bytes(b"logs-\xff/trail-\xfe.json");
    std::fs::write(
        tmp.path().join(file),
        format!("{{\"Records\":[{},{}]}}", quiet(1), quiet(2)),
    )
    .unwrap();
    let q = OsStr::new("FROM logs-aws.cloudtrail* | STATS n = COUNT(*)");
    for src in [file, OsStr::from_bytes(b"logs-\xff")] {
        let args = [
            OsStr::new("query"),
            OsStr::new("-f"),
            OsStr::new("csv"),
            OsStr::new("-i"),
            src,
            q,
        ];
        let r = run_in(&[], &args, tmp.path());
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.stdout, "n\r\n2\r\n", "{}", r.stderr);
        let r = run_in(&[], &[OsStr::new("normalize"), src], tmp.path());
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.stdout.lines().count(), 2, "{}", r.stderr);
    }
    let missing = OsStr::from_bytes(b"gone-\xff.json");
    let r = run_in(&[], &[OsStr::new("normalize"), missing], tmp.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("gone-\u{fffd}.json: no such file or directory"),
        "{}",
        r.stderr
    );
    let args = [
        OsStr::new("ingest"),
        OsStr::from_bytes(b"logs-\xff"),
        OsStr::new("--store"),
        OsStr::new("store"),
    ];
    let r = run_in(&[], &args, tmp.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("2 records stored"), "{}", r.stderr);
}

/// Large records cannot multiply past the memory budget: 320 records of 3 MiB each (1 GiB
/// of rows, in 40 small gzip files) are read with a 512 MiB `--memory-limit`. Before the scan
/// cut its chunks and batches by size, the rows waiting to fill one 8192-row batch alone held
/// all of them.
#[test]
fn large_records_stay_inside_the_memory_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let big = "a".repeat(3 << 20);
    let records: Vec<String> = (0..8)
        .map(|i| quiet(i).replace("\"v", &format!("\"{big}")))
        .collect();
    let file = gz(format!("{{\"Records\":[{}]}}", records.join(",")).as_bytes());
    for f in 0..40 {
        std::fs::write(logs.join(format!("f{f:02}.json.gz")), &file).unwrap();
    }
    let q = "FROM logs-aws.cloudtrail* | EVAL l = LENGTH(aws.cloudtrail.request_parameters) | STATS n = COUNT(*), m = MAX(l)";
    let r = run(
        &[
            "query",
            "-i",
            "logs",
            "--memory-limit",
            "512M",
            "--max-ratio",
            "5000",
            "-f",
            "csv",
            q,
        ],
        tmp.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // `{k=aaa…a1}`: the flattened request parameters.
    let want = format!("n,m\r\n320,{}\r\n", (3 << 20) + 5);
    assert_eq!(r.stdout, want, "{}", r.stderr);
    assert!(r.max_rss_kib < 512 * 1024, "peak RSS {} KiB", r.max_rss_kib);
}
