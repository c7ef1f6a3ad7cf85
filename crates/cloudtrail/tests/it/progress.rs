//! The scan's progress seam (`ScanOptions::observer`): `started` once with the files and
//! their bytes, every file once and in order with its size on disk and its rows, `finished`
//! once — on the repository's sample, on bad input, and when the reader stops early.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cloudtrail::{scan, FileDone, ScanObserver, ScanOptions, ScanStats};

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Started { files: usize, bytes: u64 },
    File(FileDone),
    Finished { files: u64, records: u64 },
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

impl Recorder {
    fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl ScanObserver for Recorder {
    fn started(&self, files: usize, bytes: u64) {
        self.0.lock().unwrap().push(Event::Started { files, bytes });
    }
    fn file_done(&self, file: &FileDone) {
        self.0.lock().unwrap().push(Event::File(file.clone()));
    }
    fn finished(&self, stats: &ScanStats) {
        self.0.lock().unwrap().push(Event::Finished {
            files: stats.files(),
            records: stats.records(),
        });
    }
}

fn sample_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample/AWSLogs");
    sources::expand_local(&[dir.display().to_string()]).unwrap()
}

fn options(observer: Option<Arc<Recorder>>) -> ScanOptions {
    ScanOptions {
        columns: Some(vec!["event.action".into(), "@timestamp".into()]),
        threads: 2,
        observer: observer.map(|o| o as Arc<dyn ScanObserver>),
        ..ScanOptions::default()
    }
}

fn rows_of(files: Vec<PathBuf>) -> u64 {
    scan(files, options(None))
        .map(|b| b.unwrap().num_rows() as u64)
        .sum()
}

#[test]
fn observer_sees_every_sample_file_once_with_its_bytes_and_records() {
    let files = sample_files();
    assert!(files.len() > 100, "the sample has its files");
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .collect();
    let rec = Arc::new(Recorder::default());
    let mut s = scan(files.clone(), options(Some(rec.clone())));
    let stats = s.stats();
    let rows: u64 = (&mut s).map(|b| b.unwrap().num_rows() as u64).sum();
    let events = rec.take();
    drop(s);
    assert!(rec.take().is_empty(), "finished is reported once");

    assert_eq!(
        events.first(),
        Some(&Event::Started {
            files: files.len(),
            bytes: sizes.iter().sum()
        })
    );
    assert_eq!(
        events.last(),
        Some(&Event::Finished {
            files: files.len() as u64,
            records: rows
        })
    );
    let done: Vec<&FileDone> = events
        .iter()
        .filter_map(|e| match e {
            Event::File(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(done.len() + 2, events.len(), "{events:?}");
    // Every file once, in the given order, with its size on disk.
    assert_eq!(
        done.iter().map(|f| f.path.clone()).collect::<Vec<_>>(),
        files
    );
    for (f, size) in done.iter().zip(&sizes) {
        assert_eq!(f.bytes, *size, "{}", f.path.display());
        assert!(!f.failed && f.rejected == 0, "{f:?}");
    }
    // The per-file rows add up to the scan's, and each is what the file alone gives.
    assert_eq!(done.iter().map(|f| f.records).sum::<u64>(), rows);
    assert_eq!(rows, stats.records());
    assert_eq!(stats.bytes(), sizes.iter().sum::<u64>());
    for f in &done {
        assert_eq!(
            f.records,
            rows_of(vec![f.path.clone()]),
            "{}",
            f.path.display()
        );
    }
}

#[test]
fn observer_counts_rejected_records_and_failed_files() {
    let dir = tempfile::Builder::new()
        .prefix("cloudtrail-progress-")
        .tempdir()
        .unwrap();
    let good = r#"{"eventVersion":"1.08","eventTime":"2024-07-31T13:06:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventID":"e1"}"#;
    let mixed = dir.path().join("mixed.ndjson");
    std::fs::write(&mixed, format!("{good}\n{{not json\n{good}\n")).unwrap();
    let missing = dir.path().join("missing.json");
    let files = vec![mixed.clone(), missing.clone()];
    let rec = Arc::new(Recorder::default());
    let rows: u64 = scan(files, options(Some(rec.clone())))
        .map(|b| b.unwrap().num_rows() as u64)
        .sum();
    assert_eq!(rows, 2);
    let events = rec.take();
    let size = std::fs::metadata(&mixed).unwrap().len();
    assert_eq!(
        events,
        vec![
            Event::Started {
                files: 2,
                bytes: size
            },
            Event::File(FileDone {
                path: mixed,
                bytes: size,
                records: 2,
                rejected: 1,
                failed: false
            }),
            Event::File(FileDone {
                path: missing,
                bytes: 0,
                records: 0,
                rejected: 0,
                failed: true
            }),
            Event::Finished {
                files: 2,
                records: 2
            },
        ]
    );
}

#[test]
fn observer_is_finished_once_when_the_reader_stops_early() {
    let files = sample_files();
    let rec = Arc::new(Recorder::default());
    let mut opts = options(Some(rec.clone()));
    opts.batch_size = 10;
    let mut s = scan(files.clone(), opts);
    let first = s.next().unwrap().unwrap();
    assert_eq!(first.num_rows(), 10);
    drop(s);
    let events = rec.take();
    let finished = events
        .iter()
        .filter(|e| matches!(e, Event::Finished { .. }))
        .count();
    assert_eq!(finished, 1, "{events:?}");
    assert!(matches!(events.last(), Some(Event::Finished { .. })));
    let done = events
        .iter()
        .filter(|e| matches!(e, Event::File(_)))
        .count();
    assert!(done < files.len(), "stopped before the end: {done}");
}
