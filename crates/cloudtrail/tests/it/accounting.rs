//! `records in = processed + rejected` over every set in `../shared/data/real`: however the
//! scan reads a set — every column through the interpreted pipeline, a few through the compiled normalizer,
//! with prefilters that skip nothing, some or nearly everything — it counts the same records
//! in, rejects the same records and fails the same files, and reports exactly the same
//! problems. Skipping never hides anything.

use std::sync::{Arc, Mutex};

use cloudtrail::{scan, Diagnostic, DiagnosticKind, Prefilter, ScanOptions};

#[derive(Debug, PartialEq, Eq)]
struct Count {
    records_in: u64,
    rows: u64,
    skipped: u64,
    rejected: u64,
    files: u64,
    files_failed: u64,
    problems: Vec<String>,
}

fn count(files: &[std::path::PathBuf], columns: Option<&[&str]>, p: Option<Prefilter>) -> Count {
    let diags = Arc::new(Mutex::new(Vec::<Diagnostic>::new()));
    let sink = Arc::clone(&diags);
    let opts = ScanOptions {
        columns: columns.map(|c| c.iter().map(|s| s.to_string()).collect()),
        threads: 2,
        prefilter: p,
        // The reference (every column) runs the interpreted pipeline on every record.
        interpreted: columns.is_none(),
        on_diagnostic: Some(Arc::new(move |d: &Diagnostic| {
            sink.lock().unwrap().push(d.clone())
        })),
        ..ScanOptions::default()
    };
    let s = scan(files.to_vec(), opts);
    let stats = s.stats();
    let rows: usize = s.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows as u64, stats.records());
    let problems = diags
        .lock()
        .unwrap()
        .iter()
        .filter(|d| d.kind != DiagnosticKind::PipelineError)
        .map(|d| d.to_string())
        .collect();
    Count {
        records_in: stats.records_in(),
        rows: stats.records(),
        skipped: stats.skipped_records(),
        rejected: stats.rejected(),
        files: stats.files(),
        files_failed: stats.files_failed(),
        problems,
    }
}

fn prefilter(clauses: &[&[&str]]) -> Prefilter {
    Prefilter::new(
        clauses
            .iter()
            .map(|c| c.iter().map(|s| s.to_string()).collect())
            .collect(),
    )
    .unwrap()
}

#[test]
fn records_in_equal_processed_plus_rejected_on_every_real_set() {
    let Some(root) = crate::shared("data/real") else {
        return;
    };
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let seed = prefilter(&[
        &[
            "DeleteFlowLogs",
            "DeleteResolverQueryLogConfig",
            "DeleteTrail",
            "StopLogging",
        ],
        &[
            "ec2.amazonaws.com",
            "route53resolver.amazonaws.com",
            "s3.amazonaws.com",
            "cloudtrail.amazonaws.com",
        ],
    ]);
    let filters = [
        ("seed", seed),
        ("nothing", prefilter(&[&["NoSuchApiCallAnywhere"]])),
        ("s3", prefilter(&[&["s3.amazonaws.com"]])),
        (
            "assume-role",
            prefilter(&[&["AssumeRole", "GetCallerIdentity"]]),
        ),
    ];
    let fast: &[&str] = &["event.action", "event.provider", "@timestamp"];
    let (mut total_in, mut total_skipped) = (0, 0);
    for dir in &dirs {
        let set = dir.file_name().unwrap().to_string_lossy().to_string();
        let files = sources::expand_local(&[dir.display().to_string()]).unwrap();
        // Every column, full pipeline, nothing skipped: the reference.
        let all = count(&files, None, None);
        assert_eq!(all.skipped, 0);
        assert_eq!(all.records_in, all.rows + all.rejected, "{set}");
        assert_eq!(
            all.files,
            files.len() as u64,
            "{set}: every file is read or reported"
        );
        let mut runs = vec![("compiled".to_string(), count(&files, Some(fast), None))];
        for (name, p) in &filters {
            runs.push((
                format!("{name} prefilter"),
                count(&files, Some(fast), Some(p.clone())),
            ));
        }
        for (what, c) in &runs {
            let same = (c.records_in, c.rejected, c.files, c.files_failed);
            let want = (all.records_in, all.rejected, all.files, all.files_failed);
            assert_eq!(
                same, want,
                "{set}, {what}: records in, rejected, files, failed"
            );
            assert_eq!(c.problems, all.problems, "{set}, {what}: problems");
            assert_eq!(
                c.records_in,
                c.rows + c.skipped + c.rejected,
                "{set}, {what}"
            );
        }
        let (_, nothing) = &runs[2];
        assert_eq!(nothing.rows + nothing.skipped, all.rows, "{set}");
        println!(
            "{set}: {} files, {} records in = {} processed + {} rejected; {} failed files; the seed prefilter skipped {}",
            all.files, all.records_in, all.rows, all.rejected, all.files_failed, runs[1].1.skipped
        );
        total_in += all.records_in;
        total_skipped += runs[1].1.skipped;
    }
    // The sets' own counts (real_data.rs checks them set by set): 34,918 records read plus
    // the 73 Panther test logs that are not CloudTrail, which are rejected.
    assert_eq!(total_in, 34_918 + 73);
    assert!(
        total_skipped > 30_000,
        "the seed prefilter skips most records: {total_skipped}"
    );
}
