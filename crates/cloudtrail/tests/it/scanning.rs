//! Scanning behaviour on synthetic files: shapes, compression, errors with positions,
//! determinism, projection and the multi-value/ip conventions of the columns.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMillisecondType;
use arrow_array::{Array, RecordBatch};
use cloudtrail::{scan, Diagnostic, DiagnosticKind, NormalizeOptions, ScanError, ScanOptions};

/// A `tempfile` scratch directory with a write-a-file helper.
struct TempDir(tempfile::TempDir);

impl TempDir {
    fn new() -> Self {
        TempDir(
            tempfile::Builder::new()
                .prefix("cloudtrail-it-")
                .tempdir()
                .unwrap(),
        )
    }
    fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn rec(i: usize, action: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-07-31T13:06:{:02}Z","eventSource":"cloudtrail.amazonaws.com","eventName":"{action}","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.{i}","eventID":"id-{i}","userIdentity":{{"type":"IAMUser","principalId":"P{i}","arn":"arn:aws:iam::1:user/u{i}","accountId":"111","userName":"u{i}"}}}}"#,
        i % 60
    )
}

struct Run {
    batches: Vec<RecordBatch>,
    diags: Vec<Diagnostic>,
    records: u64,
    rejected: u64,
    files_failed: u64,
    pipeline_errors: u64,
    error: Option<ScanError>,
}

fn run(files: Vec<PathBuf>, columns: &[&str], tweak: impl FnOnce(&mut ScanOptions)) -> Run {
    let diags = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&diags);
    let mut opts = ScanOptions {
        columns: Some(columns.iter().map(|s| s.to_string()).collect()),
        threads: 2,
        normalize: NormalizeOptions {
            created: Some("2021-11-11T01:02:03.123Z".into()),
            ..Default::default()
        },
        on_diagnostic: Some(Arc::new(move |d: &Diagnostic| {
            sink.lock().unwrap().push(d.clone())
        })),
        ..Default::default()
    };
    tweak(&mut opts);
    let mut s = scan(files, opts);
    let stats = s.stats();
    let mut batches = Vec::new();
    let mut error = None;
    for b in &mut s {
        match b {
            Ok(b) => batches.push(b),
            Err(e) => error = Some(e),
        }
    }
    let diags = diags.lock().unwrap().clone();
    Run {
        batches,
        diags,
        records: stats.records(),
        rejected: stats.rejected(),
        files_failed: stats.files_failed(),
        pipeline_errors: stats.pipeline_errors(),
        error,
    }
}

/// All values of a Utf8 column as strings ("∅" for null).
fn strings(batches: &[RecordBatch], col: usize) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(col).as_string::<i32>();
            (0..a.len())
                .map(|i| {
                    if a.is_null(i) {
                        "∅".to_string()
                    } else {
                        a.value(i).to_string()
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// All values of a List<Utf8> column, joined by `|`.
fn lists(batches: &[RecordBatch], col: usize) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(col).as_list::<i32>();
            (0..a.len())
                .map(|i| {
                    if a.is_null(i) {
                        return "∅".to_string();
                    }
                    let v = a.value(i);
                    let s = v.as_string::<i32>();
                    (0..s.len())
                        .map(|j| s.value(j).to_string())
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_shape_loads() {
    let d = TempDir::new();
    let (a, b, c) = (rec(1, "A"), rec(2, "B"), rec(3, "C"));
    let files = vec![
        d.file(
            "1-records-oneline.json",
            format!(r#"{{"Records":[{a},{b}]}}"#),
        ),
        d.file(
            "2-records-pretty.json",
            format!("{{\n  \"Records\": [\n    {a},\n    {b}\n  ]\n}}\n"),
        ),
        d.file("3-array.json", format!("[\n{a},\n{b}\n]")),
        d.file("4-bare.json", format!("{c}\n")),
        d.file("5-ndjson.log", format!("{a}\n\n{b}\n{c}\n")),
        d.file("6-empty-array.json", "[]"),
        d.file("7-empty-records.json", r#"{"Records":[]}"#),
        d.file(
            "8-gz-without-extension",
            gzip(format!("{a}\n{b}").as_bytes()),
        ),
        d.file("9-named.gz-but-plain.json.gz", format!("[{c}]")),
    ];
    let r = run(files, &["event.action", "event.original"], |_| {});
    assert!(r.diags.is_empty(), "{:?}", r.diags);
    assert_eq!(
        strings(&r.batches, 0).join(""),
        "ABABABCABCABC",
        "file order, then record order"
    );
    assert_eq!(r.records, 13);
    // event.original is the record's exact source text.
    assert_eq!(strings(&r.batches, 1)[0], a);
}

#[test]
fn truncated_gzip_keeps_the_good_prefix() {
    let d = TempDir::new();
    let lines: String = (0..2000).map(|i| rec(i, "X") + "\n").collect();
    let gz = gzip(lines.as_bytes());
    let cut = &gz[..gz.len() / 2];
    let f = d.file("cut.json.gz", cut);
    let r = run(vec![f.clone()], &["event.id"], |_| {});
    assert!(r.records > 100 && r.records < 2000, "{}", r.records);
    assert_eq!(r.files_failed, 1);
    assert_eq!(r.rejected, 0);
    let d0 = &r.diags[0];
    assert_eq!(d0.kind, DiagnosticKind::FileFailed);
    assert_eq!(d0.path, f);
    assert_eq!(d0.line, Some(r.records + 1), "{d0}");
    assert!(d0.message.contains("gzip"), "{d0}");
    // Records are the first ones, in order.
    assert_eq!(strings(&r.batches, 0)[..3], ["id-0", "id-1", "id-2"]);
}

#[test]
fn bad_json_positions() {
    let d = TempDir::new();
    let nd = d.file(
        "bad.ndjson",
        format!(
            "{}\n{{\"eventName\": \"X\",, \"a\": 1}}\n[1, 2\n{}\n",
            rec(1, "A"),
            rec(2, "B")
        ),
    );
    let r = run(vec![nd.clone()], &["event.action"], |_| {});
    assert_eq!(r.records, 2);
    assert_eq!(r.rejected, 2, "{:?}", r.diags);
    let shown: Vec<String> = r.diags.iter().map(|d| d.to_string()).collect();
    let p = nd.display();
    assert_eq!(
        shown,
        [
            format!("{p}:2:19 (record 2): invalid JSON: key must be a string"),
            format!("{p}:3:5 (record 3): invalid JSON: EOF while parsing a list"),
        ]
    );
    assert_eq!(strings(&r.batches, 0), ["A", "B"]);
}

#[test]
fn bad_document_fails_the_file_with_position() {
    let d = TempDir::new();
    let f = d.file(
        "broken.json",
        format!(
            "{{\"Records\": [\n{},\n{{\"eventName\": \"X\" \"b\"}}\n]}}",
            rec(1, "A")
        ),
    );
    let ok = d.file("ok.json", format!("[{}]", rec(2, "B")));
    let r = run(vec![f.clone(), ok], &["event.action"], |_| {});
    assert_eq!(strings(&r.batches, 0), ["B"]);
    assert_eq!(r.files_failed, 1);
    assert_eq!(
        r.diags[0].to_string(),
        format!("{}:3:19: invalid JSON: expected `,` or `}}`", f.display())
    );
}

#[test]
fn records_that_are_not_objects_and_bad_event_times() {
    let d = TempDir::new();
    let f = d.file(
        "mixed.json",
        format!(
            "[\n{},\n42,\n{{\"eventTime\": \"redacted\", \"eventName\": \"Y\"}}\n]",
            rec(1, "A")
        ),
    );
    let r = run(
        vec![f.clone()],
        &["event.action", "event.kind", "@timestamp"],
        |_| {},
    );
    assert_eq!(r.records, 2);
    assert_eq!(r.rejected, 1);
    assert_eq!(r.pipeline_errors, 1);
    assert_eq!(
        r.diags[0].to_string(),
        format!(
            "{}:3:1 (record 2): record is not a JSON object (found a number)",
            f.display()
        )
    );
    assert_eq!(r.diags[1].kind, DiagnosticKind::PipelineError);
    assert_eq!(r.diags[1].record, Some(3));
    assert!(r.diags[1]
        .message
        .contains("unable to parse date [redacted]"));
    // Kept like Elasticsearch keeps it: flagged, with the agent's read time.
    assert_eq!(strings(&r.batches, 1), ["event", "pipeline_error"]);
    let ts = r.batches[0]
        .column(2)
        .as_primitive::<TimestampMillisecondType>();
    assert_eq!(ts.value(1), 1636592523123);
}

#[test]
fn unreadable_file_is_reported() {
    let d = TempDir::new();
    let missing = d.0.path().join("gone.json");
    let ok = d.file("ok.json", rec(1, "A"));
    let r = run(vec![missing.clone(), ok], &["event.action"], |_| {});
    assert_eq!(r.records, 1);
    assert_eq!(r.files_failed, 1);
    assert!(r.diags[0]
        .to_string()
        .starts_with(&format!("{}: cannot open", missing.display())));
}

#[test]
fn strict_mode_stops_at_first_diagnostic() {
    let d = TempDir::new();
    let f = d.file(
        "x.ndjson",
        format!("{}\nnot json\n{}\n", rec(1, "A"), rec(2, "B")),
    );
    let r = run(vec![f], &["event.action"], |o| o.strict = true);
    match r.error {
        Some(ScanError::Strict(d)) => assert_eq!(d.line, Some(2)),
        other => panic!("expected strict error, got {other:?}"),
    }
}

#[test]
fn output_is_deterministic_across_threads_and_batch_sizes() {
    let d = TempDir::new();
    let mut files = Vec::new();
    for f in 0..23 {
        let recs: Vec<String> = (0..(f * 7 % 30 + 1))
            .map(|i| rec(f * 100 + i, "A"))
            .collect();
        files.push(d.file(
            &format!("{f:02}.json"),
            format!("{{\"Records\":[{}]}}", recs.join(",")),
        ));
    }
    let base = run(files.clone(), &["event.id"], |o| {
        o.threads = 1;
        o.batch_size = 8192;
    });
    let want = strings(&base.batches, 0);
    for (threads, batch) in [(2, 7), (4, 50), (8, 1)] {
        let r = run(files.clone(), &["event.id"], |o| {
            o.threads = threads;
            o.batch_size = batch;
        });
        assert_eq!(strings(&r.batches, 0), want);
        assert!(r.batches.iter().all(|b| b.num_rows() <= batch));
        let full = r.batches.len() - 1;
        assert!(r.batches[..full].iter().all(|b| b.num_rows() == batch));
    }
}

#[test]
fn projection_and_schema() {
    let d = TempDir::new();
    let f = d.file("a.json", rec(1, "A"));
    let cols = ["user.name", "event.module", "@timestamp"];
    let r = run(vec![f.clone()], &cols, |_| {});
    let b = &r.batches[0];
    assert_eq!(b.num_columns(), 3);
    assert_eq!(b.schema().field(0).name(), "user.name");
    assert_eq!(b.schema().field(0).metadata()["es_type"], "keyword");
    assert_eq!(strings(&r.batches, 0), ["u1"]);
    assert_eq!(strings(&r.batches, 1), ["aws"]);
    let r = run(vec![f.clone()], &["nope"], |_| {});
    assert!(matches!(r.error, Some(ScanError::UnknownColumn(_))));
    let s = scan(vec![f], ScanOptions::default());
    assert_eq!(s.schema().fields().len(), cloudtrail::ecs_fields().len());
}

#[test]
fn lists_are_sorted_deduped_and_ips_canonical() {
    let d = TempDir::new();
    let record = r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"AddUserToGroup","eventSource":"iam.amazonaws.com",
        "sourceIPAddress":"2001:DB8:0:0:0:0:0:1","serviceEventDetails":{"sourceIpAddress":"::ffff:10.0.0.1"},
        "userIdentity":{"type":"IAMUser","principalId":"zed","userName":"alice"},
        "requestParameters":{"userName":"bob","groupName":"g"}}"#
        .replace('\n', "");
    let f = d.file("a.json", &record);
    let r = run(
        vec![f],
        &[
            "event.type",
            "related.user",
            "related.ip",
            "source.ip",
            "source.address",
            "tags",
        ],
        |_| {},
    );
    assert_eq!(lists(&r.batches, 0), ["change|group"]);
    assert_eq!(lists(&r.batches, 1), ["alice|bob|zed"]);
    assert_eq!(lists(&r.batches, 2), ["10.0.0.1|2001:db8::1"]);
    assert_eq!(strings(&r.batches, 3), ["2001:db8::1"]);
    assert_eq!(strings(&r.batches, 4), ["2001:DB8:0:0:0:0:0:1"]);
    assert_eq!(
        lists(&r.batches, 5),
        ["actor_target_mapping|aws-cloudtrail|forwarded"]
    );
}

#[test]
fn invalid_ips_never_become_source_ip() {
    let d = TempDir::new();
    let lines: Vec<String> = [
        "035.249.253.232",
        "100.200.300.400",
        "AWS Internal",
        "1.2.3.4",
    ]
    .iter()
    .map(|ip| format!(r#"{{"eventName":"X","sourceIPAddress":"{ip}"}}"#))
    .collect();
    let f = d.file("a.ndjson", lines.join("\n"));
    let r = run(vec![f], &["source.ip", "related.ip"], |_| {});
    assert_eq!(strings(&r.batches, 0), ["∅", "∅", "∅", "1.2.3.4"]);
    assert_eq!(lists(&r.batches, 1), ["∅", "∅", "∅", "1.2.3.4"]);
}

#[test]
fn huge_ndjson_streams() {
    // Not a speed test: checks that a file much larger than the channel window streams through
    // with every record accounted for.
    let d = TempDir::new();
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&rec(i, "A"));
        text.push('\n');
    }
    let f = d.file("big.ndjson", text);
    let r = run(vec![f], &["event.id"], |o| o.batch_size = 1000);
    assert_eq!(r.records, 20_000);
    assert_eq!(r.batches.len(), 20);
    assert_eq!(strings(&r.batches, 0)[19_999], "id-19999");
}

#[allow(dead_code)]
fn _assert_send(p: &Path) {
    fn is_send<T: Send>(_: &T) {}
    is_send(&scan(vec![p.to_path_buf()], ScanOptions::default()));
}

#[test]
fn documents_one_by_one() {
    let d = TempDir::new();
    let f = d.file(
        "a.ndjson",
        format!(
            "{}\nnope\n{{\"eventTime\":\"bad\",\"eventName\":\"Z\"}}\n{}\n",
            rec(1, "A"),
            rec(2, "B")
        ),
    );
    let opts = cloudtrail::DocumentOptions {
        normalize: NormalizeOptions {
            created: Some("2021-11-11T01:02:03.123Z".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut seen = Vec::new();
    cloudtrail::for_each_document(std::slice::from_ref(&f), &opts, |item| {
        seen.push(match item {
            Ok(doc) => format!("doc {}", doc["event"]["action"]),
            Err(d) => format!("diag {:?} {:?}", d.kind, d.line),
        });
        true
    });
    assert_eq!(
        seen,
        [
            "doc \"A\"",
            "diag Rejected Some(2)",
            "doc \"Z\"",
            "diag PipelineError Some(3)",
            "doc \"B\""
        ]
    );
    let mut n = 0;
    cloudtrail::for_each_document(&[f.clone(), f], &opts, |_| {
        n += 1;
        n < 2
    });
    assert_eq!(n, 2, "returning false stops the walk");
}
