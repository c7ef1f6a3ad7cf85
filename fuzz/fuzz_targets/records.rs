//! The reader and the normalizer on one arbitrary input file, in every input shape (plain
//! text, gzip, corrupt or truncated gzip): never a panic, and the scan accounts for every
//! record the same way however it reads the file —
//!
//! * every column through the full pipeline,
//! * the compiled normalizer's columns (every one): the same values as the interpreted pipeline,
//! * the compiled normalizer behind a prefilter: the same records in, rejected and failed, and every
//!   record whose `event.action` is the prefilter's literal still there.
#![no_main]

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use arrow_array::{Array, RecordBatch, StringArray};
use cloudtrail::{scan, Diagnostic, DiagnosticKind, NormalizeOptions, Prefilter, ScanOptions};
use libfuzzer_sys::fuzz_target;


struct Run {
    batch: Option<RecordBatch>,
    records_in: u64,
    rows: u64,
    rejected: u64,
    files_failed: u64,
    problems: Vec<String>,
}

fn run(file: &PathBuf, columns: Option<&[&str]>, prefilter: Option<Prefilter>) -> Run {
    let diags = Arc::new(Mutex::new(Vec::<Diagnostic>::new()));
    let sink = Arc::clone(&diags);
    let opts = ScanOptions {
        columns: columns.map(|c| c.iter().map(|s| s.to_string()).collect()),
        threads: 1,
        batch_size: 1 << 20,
        prefilter,
        // The reference (no column list) runs the interpreted pipeline on every record.
        interpreted: columns.is_none(),
        normalize: NormalizeOptions {
            created: Some("2024-08-02T00:00:00.000Z".into()),
            ..NormalizeOptions::default()
        },
        on_diagnostic: Some(Arc::new(move |d: &Diagnostic| {
            sink.lock().unwrap().push(d.clone())
        })),
        ..ScanOptions::default()
    };
    let s = scan(vec![file.clone()], opts);
    let stats = s.stats();
    let mut batches: Vec<RecordBatch> = Vec::new();
    for b in s {
        match b {
            Ok(b) => batches.push(b),
            // Not strict: a failure of the data is a diagnostic, never an Err batch.
            Err(e) => panic!("the scan failed instead of reporting: {e}"),
        }
    }
    assert!(batches.len() <= 1, "one batch expected at this batch size");
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows as u64, stats.records());
    let problems = diags
        .lock()
        .unwrap()
        .iter()
        .filter(|d| d.kind != DiagnosticKind::PipelineError)
        .map(|d| d.to_string())
        .collect();
    Run {
        batch: batches.pop(),
        records_in: stats.records_in(),
        rows: stats.records(),
        rejected: stats.rejected(),
        files_failed: stats.files_failed(),
        problems,
    }
}

fn column<'a>(b: &'a RecordBatch, name: &str) -> &'a dyn Array {
    let i = b.schema().index_of(name).expect("a requested column");
    b.column(i).as_ref()
}

fn actions(b: &Option<RecordBatch>, literal: &str) -> usize {
    let Some(b) = b else { return 0 };
    let a = column(b, "event.action");
    let a = a
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("event.action is a string");
    a.iter().filter(|v| *v == Some(literal)).count()
}

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            "/dev/shm"
        } else {
            "/tmp"
        };
        let d = PathBuf::from(base).join(format!("trailhunt-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("a scratch directory");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let (name, bytes) = match mode % 4 {
        0 => ("input.json", body.to_vec()),
        1 => ("input.json.gz", gzip(body)),
        // Whatever bytes, named as gzip: corrupt headers, bad CRCs, garbage after the end.
        2 => ("input.json.gz", body.to_vec()),
        // A gzip upload cut short.
        _ => {
            let mut z = gzip(body);
            z.truncate(z.len() * usize::from(mode / 4) / 64);
            ("input.json.gz", z)
        }
    };
    let path = dir().join(name);
    std::fs::write(&path, &bytes).expect("the scratch file");

    let full = run(&path, None, None);
    let fast_columns = cloudtrail::compiled_columns();
    let fast = run(&path, Some(&fast_columns), None);
    assert_eq!(full.records_in, fast.records_in, "records in");
    assert_eq!(full.rows, fast.rows, "rows");
    assert_eq!(full.rejected, fast.rejected, "rejected");
    assert_eq!(full.files_failed, fast.files_failed, "failed files");
    assert_eq!(full.problems, fast.problems, "problems");
    if let (Some(f), Some(q)) = (&full.batch, &fast.batch) {
        for &name in &fast_columns {
            let a = column(f, name);
            let b = column(q, name);
            assert_eq!(
                a.to_data(),
                b.to_data(),
                "column {name}: interpreted pipeline vs compiled normalizer"
            );
        }
    }

    // A literal that occurs: the first record's action, else a common one.
    let literal = full
        .batch
        .as_ref()
        .and_then(|b| {
            let a = column(b, "event.action");
            let a = a.as_any().downcast_ref::<StringArray>()?;
            a.iter()
                .flatten()
                .find(|s| !s.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "StopLogging".to_string());
    let prefilter = Prefilter::new(vec![vec![literal.clone()]]);
    let skipped = run(&path, Some(&fast_columns), prefilter);
    assert_eq!(
        full.records_in, skipped.records_in,
        "records in, prefiltered"
    );
    assert_eq!(full.rejected, skipped.rejected, "rejected, prefiltered");
    assert_eq!(
        full.files_failed, skipped.files_failed,
        "failed files, prefiltered"
    );
    assert_eq!(full.problems, skipped.problems, "problems, prefiltered");
    assert_eq!(
        actions(&full.batch, &literal),
        actions(&skipped.batch, &literal),
        "records with event.action == {literal:?} hidden by the prefilter"
    );
});

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(body).expect("in-memory gzip");
    z.finish().expect("in-memory gzip")
}
