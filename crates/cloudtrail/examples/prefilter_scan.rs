//! Times one raw scan with the seed hunt's literal prefilter, for before/after comparisons of
//! the prefilter path (the structural check of skipped input must keep it fast):
//!
//! ```text
//! cargo run --release -p cloudtrail --example prefilter_scan -- DIR [--no-prefilter] [--threads N] [--runs N] [--cache | --saved FILE] [--columns A,B,…]
//! ```
//!
//! `--columns` reads those columns instead of the seed hunt's (with `--no-prefilter`, the cost
//! of the fast path or the full pipeline for them). Prints, per run, the wall time, rows, records skipped unparsed and rejected. `--cache`
//! shares one check cache across the runs, as the queries of a hunt run share one; `--saved
//! FILE` loads the verdicts from FILE before each run and saves them after it, as separate
//! trailhunt runs do (the first run pays for the check, the later ones read the verdicts).

use std::time::Instant;

use cloudtrail::{scan, NormalizeOptions, Prefilter, ScanOptions};

fn seed_prefilter() -> Prefilter {
    let actions = [
        "DeleteFlowLogs",
        "DeleteResolverQueryLogConfig",
        "DeleteTrail",
        "StopLogging",
    ];
    let providers = [
        "ec2.amazonaws.com",
        "route53resolver.amazonaws.com",
        "s3.amazonaws.com",
        "cloudtrail.amazonaws.com",
    ];
    Prefilter::new(vec![
        actions.map(String::from).to_vec(),
        providers.map(String::from).to_vec(),
    ])
    .expect("non-empty clauses")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let (mut prefilter, mut threads, mut runs) = (true, 2usize, 5usize);
    let mut cache = None;
    let mut saved: Option<std::path::PathBuf> = None;
    let mut chosen: Option<Vec<String>> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--no-prefilter" => prefilter = false,
            "--cache" => cache = Some(std::sync::Arc::new(cloudtrail::CheckCache::default())),
            "--threads" => threads = args.next().and_then(|n| n.parse().ok()).unwrap_or(2),
            "--columns" => {
                chosen = args
                    .next()
                    .map(|c| c.split(',').map(str::to_string).collect())
            }
            "--saved" => saved = args.next().map(Into::into),
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(5),
            _ => dir = Some(a),
        }
    }
    let Some(dir) = dir else {
        eprintln!("usage: prefilter_scan DIR [--no-prefilter] [--threads N] [--runs N]");
        std::process::exit(2);
    };
    let files = sources::expand_local(&[dir]).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let columns = [
        "@timestamp",
        "event.provider",
        "event.action",
        "event.outcome",
        "aws.cloudtrail.user_identity.arn",
    ];
    for _ in 0..runs {
        let started = Instant::now();
        let limits = cloudtrail::Limits::default();
        if let Some(path) = &saved {
            cache = Some(std::sync::Arc::new(cloudtrail::CheckCache::load(
                path, &limits,
            )));
        }
        let opts = ScanOptions {
            columns: Some(
                chosen
                    .clone()
                    .unwrap_or_else(|| columns.iter().map(|s| s.to_string()).collect()),
            ),
            threads,
            prefilter: prefilter.then(seed_prefilter),
            check_cache: cache.clone(),
            normalize: NormalizeOptions {
                created: Some("2024-08-02T00:00:00.000Z".into()),
                ..NormalizeOptions::default()
            },
            ..ScanOptions::default()
        };
        let s = scan(files.clone(), opts);
        let stats = s.stats();
        let rows: usize = s.map(|b| b.map_or(0, |b| b.num_rows())).sum();
        if let (Some(path), Some(cache)) = (&saved, &cache) {
            cache.save(path, &limits).expect("save the verdicts");
        }
        println!(
            "{:.3}s rows {rows} skipped_records {} skipped_values {} rejected {} files {} fast {}",
            started.elapsed().as_secs_f64(),
            stats.skipped_records(),
            stats.skipped_values(),
            stats.rejected(),
            stats.files(),
            stats.compiled_records(),
        );
    }
}
