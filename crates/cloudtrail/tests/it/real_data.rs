//! Every data set under `../shared/data/real` loads; only the deliberately broken files report
//! problems, and they are reported with their path.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use cloudtrail::{expand_sources, scan, Diagnostic, DiagnosticKind, ScanOptions};

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
    let files = expand_sources(&[dir.display().to_string()]).unwrap();
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
    for (name, r) in &results {
        assert_eq!(r.rejected, 0, "{name}: nothing may be rejected");
        for d in &r.diagnostics {
            let path = d.path.display().to_string();
            if d.kind == DiagnosticKind::FileFailed {
                assert!(
                    broken.iter().any(|b| path.ends_with(b)),
                    "unexpected failure: {d}"
                );
                assert!(d.line.is_some() && d.column.is_some(), "{d}");
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
        ("panther-analysis-tests", 537),
    ];
    for (dir, n) in expected_records {
        assert_eq!(results[dir].records, n, "{dir}");
    }
}
