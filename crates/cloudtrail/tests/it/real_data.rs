//! Every data set under `../shared/data/real` loads; only the deliberately broken files report
//! problems, and they are reported with their path.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use std::sync::{Arc, Mutex};

use cloudtrail::{scan, Diagnostic, DiagnosticKind, ScanOptions};

struct DirResult {
    files: u64,
    records: u64,
    rows: usize,
    rejected: u64,
    files_failed: u64,
    pipeline_errors: u64,
    diagnostics: Vec<Diagnostic>,
}

fn scan_dir(dir: &std::path::Path, columns: Option<Vec<String>>) -> DirResult {
    let files = sources::expand_local(&[dir.display().to_string()]).unwrap();
    let diags = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&diags);
    let opts = ScanOptions {
        columns,
        threads: 2,
        on_diagnostic: Some(Arc::new(move |d: &Diagnostic| {
            sink.lock().unwrap().push(d.clone())
        })),
        ..Default::default()
    };
    let mut s = scan(files, opts);
    let stats = s.stats();
    let mut rows = 0;
    for batch in &mut s {
        rows += batch.unwrap().num_rows();
    }
    let diagnostics = diags.lock().unwrap().clone();
    DirResult {
        files: stats.files(),
        records: stats.records(),
        rows,
        rejected: stats.rejected(),
        files_failed: stats.files_failed(),
        pipeline_errors: stats.pipeline_errors(),
        diagnostics,
    }
}

#[test]
fn real_data_sets_load() {
    let Some(root) = crate::shared("data/real") else {
        return;
    };
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut results = BTreeMap::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let r = scan_dir(dir, None);
        println!(
            "{name}: files {} records {} rejected {} files_failed {} pipeline_errors {}",
            r.files, r.records, r.rejected, r.files_failed, r.pipeline_errors
        );
        for d in &r.diagnostics {
            println!("  {d}");
        }
        assert_eq!(r.rows as u64, r.records, "{name}: rows vs records");
        results.insert(name, r);
    }
    let sans = &results["sans504-s3-ransomware-lab"];
    assert_eq!((sans.files, sans.records), (3872, 30477));
    let broken = [
        "cloudgrep-tests/bad_cloudtrail.json",
        "cloudtrail2sightings/aws.execution.ec2-user-data.json",
    ];
    // Panther's rule tests include logs of other sources (Okta, GSuite, GitHub, …) and
    // CloudTrail copies with lower-cased keys under `log`: no CloudTrail record, so each is
    // rejected with its line and reason instead of being indexed as an empty event.
    let not_cloudtrail: BTreeMap<&str, u64> = [("panther-analysis-tests", 73)].into();
    for (name, r) in &results {
        let want = not_cloudtrail.get(name.as_str()).copied().unwrap_or(0);
        assert_eq!(r.rejected, want, "{name}: rejected");
        for d in &r.diagnostics {
            let path = d.path.display().to_string();
            if d.kind == DiagnosticKind::FileFailed {
                assert!(
                    broken.iter().any(|b| path.ends_with(b)),
                    "unexpected failure: {d}"
                );
                assert!(d.line.is_some() && d.column.is_some(), "{d}");
            }
            if d.kind == DiagnosticKind::Rejected {
                assert!(d.line.is_some(), "{d}");
                assert!(
                    d.message.starts_with("not a CloudTrail record: in `log`: "),
                    "{d}"
                );
            }
        }
    }
    for b in broken {
        let dir = b.split('/').next().unwrap();
        let r = &results[dir];
        assert!(
            r.diagnostics
                .iter()
                .any(|d| d.kind == DiagnosticKind::FileFailed && d.path.ends_with(b)),
            "{b} must be reported"
        );
    }
    let expected_records = [
        ("invictus-ir-aws-dataset", 2900),
        ("stratus-red-team", 310),
        ("traildiscover", 563),
        ("otrf-security-datasets", 103),
        ("cloudgrep-tests", 2),
        ("cloudtrail2sightings", 12),
        ("awsdocs-cloudtrail-user-guide", 21),
        ("aws-cli-examples", 1),
        ("openregister-sumologic-fixture", 4),
        // 537 rule tests, 73 of them not CloudTrail (above).
        ("panther-analysis-tests", 464),
        // raw-sample.json + 50 SS4O documents (the record under aws.cloudtrail).
        ("opensearch-catalog", 51),
        // 5 raw lines + 5 ECS documents from the three -expected.json files (one is the
        // near-empty document of a blank test line): each event once raw, once as ECS.
        ("elastic-integrations-aws-cloudtrail", 10),
    ];
    for (dir, n) in expected_records {
        assert_eq!(results[dir].records, n, "{dir}");
    }
    assert_eq!(
        results.len(),
        expected_records.len() + 1,
        "a set without counts"
    );
}

/// (min, max) of `@timestamp` over a set, as ISO strings.
fn time_range(dir: &std::path::Path) -> (String, String) {
    let files = sources::expand_local(&[dir.display().to_string()]).unwrap();
    let opts = ScanOptions {
        columns: Some(vec!["@timestamp".into()]),
        threads: 2,
        ..Default::default()
    };
    let mut all = Vec::new();
    for batch in scan(files, opts) {
        let batch = batch.unwrap();
        let col = batch
            .column(0)
            .as_primitive::<arrow_array::types::TimestampMillisecondType>();
        all.extend(col.iter().flatten());
    }
    let fmt = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    (
        fmt(*all.iter().min().unwrap()),
        fmt(*all.iter().max().unwrap()),
    )
}

/// Shapes whose time used to be the read time: each record now carries its own.
#[test]
fn event_times_come_from_the_records() {
    let Some(root) = crate::shared("data/real") else {
        return;
    };
    let cases = [
        // Logstash `@timestamp` (no eventTime): the documented departure from Elastic.
        (
            "otrf-security-datasets",
            "2020-09-14T00:44:20.000Z",
            "2020-09-14T01:13:20.000Z",
        ),
        // SS4O eventTime from the nested record; raw-sample.json is the 2024 one.
        (
            "opensearch-catalog",
            "2021-12-02T",
            "2024-05-22T06:35:54.000Z",
        ),
        // ECS documents keep their indexed @timestamp; the near-empty one has the
        // harness time 2021-11-11.
        (
            "elastic-integrations-aws-cloudtrail",
            "2016-07-14T19:15:45.000Z",
            "2024-10-08T",
        ),
    ];
    for (set, oldest, newest) in cases {
        let (min, max) = time_range(&root.join(set));
        println!("{set}: {min} .. {max}");
        assert!(min.starts_with(oldest), "{set}: oldest {min}");
        assert!(max.starts_with(newest), "{set}: newest {max}");
    }
}
