//! The compiled normalizer against the interpreted pipeline (its oracle), and the prefilter
//! against no prefilter, on every record of `../shared/data/real`, Elastic's pipeline
//! fixtures, the repository sample and generated data: same rows, every column, same values.

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use std::sync::Arc;

use cloudtrail::{scan, Enrich, NormalizeOptions, Prefilter, ScanOptions};

fn sources() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample")];
    for rel in ["data/real", "fixtures/cloudtrail-integration"] {
        if let Some(d) = crate::shared(rel) {
            dirs.push(d);
        }
    }
    dirs
}

fn run(
    dir: &Path,
    columns: Vec<String>,
    prefilter: Option<Prefilter>,
    interpreted: bool,
) -> (Vec<RecordBatch>, u64) {
    run_enriched(dir, columns, prefilter, interpreted, None)
}

fn run_enriched(
    dir: &Path,
    columns: Vec<String>,
    prefilter: Option<Prefilter>,
    interpreted: bool,
    enrich: Option<Arc<dyn Enrich>>,
) -> (Vec<RecordBatch>, u64) {
    let files = sources::expand_local(&[dir.display().to_string()]).unwrap();
    let opts = ScanOptions {
        columns: Some(columns),
        threads: 2,
        prefilter,
        interpreted,
        enrich,
        normalize: NormalizeOptions {
            created: Some("2024-08-02T00:00:00.000Z".into()),
            ..NormalizeOptions::default()
        },
        ..ScanOptions::default()
    };
    let mut s = scan(files, opts);
    let stats = s.stats();
    let batches: Vec<RecordBatch> = (&mut s).map(|b| b.unwrap()).collect();
    (batches, stats.compiled_records())
}

fn all_columns() -> Vec<String> {
    cloudtrail::ecs_fields()
        .iter()
        .map(|f| f.name.clone())
        .collect()
}

/// The compiled normalizer has a source for every column: ingest and every query use it.
#[test]
fn every_column_is_compiled() {
    let public: Vec<String> = cloudtrail::compiled_columns()
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(public, all_columns());
}

/// Compiled and interpreted, all columns, on `dir`: the rows compared cell by cell; returns
/// (records, records the compiled normalizer built).
fn compare(dir: &Path, columns: &[String]) -> (usize, u64) {
    compare_enriched(dir, columns, None)
}

fn compare_enriched(
    dir: &Path,
    columns: &[String],
    enrich: Option<Arc<dyn Enrich>>,
) -> (usize, u64) {
    let (a, fast_n) = run_enriched(dir, columns.to_vec(), None, false, enrich.clone());
    let (b, full_n) = run_enriched(dir, columns.to_vec(), None, true, enrich);
    assert_eq!(full_n, 0, "the interpreted run took the compiled path");
    let rows = |v: &[RecordBatch]| v.iter().map(|b| b.num_rows()).sum::<usize>();
    assert_eq!(rows(&a), rows(&b), "{}", dir.display());
    let (mut ai, mut bi) = (a.iter().flat_map(rows_of), b.iter().flat_map(rows_of));
    let mut n = 0;
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => break,
            (Some(x), Some(y)) => {
                for (c, name) in columns.iter().enumerate() {
                    assert_eq!(x[c], y[c], "{} row {n} column {name}", dir.display());
                }
            }
            _ => panic!("row counts differ in {}", dir.display()),
        }
        n += 1;
    }
    (n, fast_n)
}

#[test]
fn compiled_normalizer_equals_the_pipeline() {
    let columns = all_columns();
    let (mut total, mut fast_total) = (0usize, 0u64);
    for dir in sources() {
        let (n, fast) = compare(&dir, &columns);
        total += n;
        fast_total += fast as usize as u64;
    }
    println!("compiled: {fast_total} of {total} records");
    // The sample alone has 3,624 plain records: most rows must have taken the compiled path.
    assert!(
        fast_total as usize * 10 >= total * 8,
        "{fast_total} of {total}"
    );
}

/// With GeoIP and user-agent enrichment (MaxMind's test databases, the uap-core rules that
/// reproduce Elastic's fixtures), which the compiled normalizer runs on a document of the
/// fields they read: every column equal too.
#[test]
fn compiled_normalizer_equals_the_pipeline_with_enrichment() {
    let (Some(city), Some(asn), Some(rules)) = (
        crate::shared("geoip/GeoLite2-City-Test.mmdb"),
        crate::shared("geoip/GeoLite2-ASN-Test.mmdb"),
        crate::shared("uap/regexes.yaml"),
    ) else {
        return;
    };
    let geo: Arc<dyn Enrich> = Arc::new(geoip::GeoIp::open(Some(&city), Some(&asn)).unwrap());
    let ua: Arc<dyn Enrich> = Arc::new(useragent::UaParser::open(&rules).unwrap());
    let both = cloudtrail::enrich::Chain::of(vec![geo, ua]);
    let columns = all_columns();
    let (mut total, mut compiled) = (0, 0);
    for dir in sources() {
        let (n, fast) = compare_enriched(&dir, &columns, both.clone());
        total += n;
        compiled += fast as usize;
    }
    println!("compiled with enrichment: {compiled} of {total} records");
    assert!(compiled * 10 >= total * 8, "{compiled} of {total}");
}

/// A narrow projection (the seed hunt's columns) built by the compiled normalizer equals the
/// same columns of the interpreted pipeline: the compiled path's checks depend on the
/// columns read (`event.kind` asks for an error-free run), so both ends are tested.
#[test]
fn a_narrow_projection_equals_the_pipeline() {
    let columns: Vec<String> = [
        "@timestamp",
        "event.action",
        "event.provider",
        "user.name",
        "source.ip",
        "related.user",
        "aws.cloudtrail.user_identity.arn",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for dir in sources() {
        compare(&dir, &columns);
    }
}

/// Each row as printed values (`Debug` of each one-row slice), so batches cut at different
/// boundaries compare equal.
fn rows_of(b: &RecordBatch) -> Vec<Vec<String>> {
    (0..b.num_rows())
        .map(|r| {
            b.columns()
                .iter()
                .map(|c| format!("{:?}", c.slice(r, 1)))
                .collect()
        })
        .collect()
}

#[test]
fn prefilter_keeps_every_matching_row() {
    // The seed hunt's clauses, and a LIKE-derived one: rows with the literals in their
    // columns are the same with and without the prefilter.
    let cols: Vec<String> = ["event.action", "event.provider", "@timestamp", "event.id"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let clauses = vec![
        vec![
            "DeleteFlowLogs".to_string(),
            "DeleteResolverQueryLogConfig".into(),
            "DeleteTrail".into(),
            "StopLogging".into(),
            "AssumeRole".into(),
        ],
        vec![
            "ec2.amazonaws.com".to_string(),
            "route53resolver.amazonaws.com".into(),
            "s3.amazonaws.com".into(),
            "cloudtrail.amazonaws.com".into(),
            "sts.amazonaws.com".into(),
        ],
    ];
    let matches = |row: &Vec<String>| {
        clauses[0]
            .iter()
            .any(|l| row[0].contains(&format!("\"{l}\"")))
            && clauses[1]
                .iter()
                .any(|l| row[1].contains(&format!("\"{l}\"")))
    };
    let (mut kept, mut all) = (0, 0);
    for dir in sources() {
        let (a, _) = run(&dir, cols.clone(), None, false);
        let (b, _) = run(&dir, cols.clone(), Prefilter::new(clauses.clone()), false);
        let want: Vec<Vec<String>> = a.iter().flat_map(rows_of).filter(matches).collect();
        let got: Vec<Vec<String>> = b.iter().flat_map(rows_of).filter(matches).collect();
        assert_eq!(got, want, "{}", dir.display());
        kept += b.iter().map(|x| x.num_rows()).sum::<usize>();
        all += a.iter().map(|x| x.num_rows()).sum::<usize>();
        if dir.ends_with("sample") {
            assert!(!want.is_empty(), "the sample has matching rows");
        }
    }
    println!("prefilter: {kept} of {all} records parsed");
    assert!(kept < all);
}

/// A payload the compiled normalizer's projection does not read is still checked as the
/// pipeline's parser checks it: a lone surrogate escape or a number out of range in
/// `requestParameters`, `responseElements`, `resources`, `tlsDetails` or `addendum` rejects
/// the record with the pipeline's diagnostic, whether the payload is parsed for a column or
/// not (the check is made once, by the parse, or at the end of the row when nothing parsed
/// it).
#[test]
fn unread_payloads_are_checked_as_the_pipeline_checks_them() {
    use std::sync::Mutex;
    let dir = tempfile::tempdir().unwrap();
    let record = |extra: &str| {
        format!(
            r#"{{"eventVersion":"1.08","eventTime":"2024-07-31T13:06:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.1","eventID":"e","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::1:user/u"}}{extra}}}"#
        )
    };
    let bad = [
        r#","requestParameters":{"k":"\ud800"}"#,
        r#","responseElements":{"n":1e999}"#,
        r#","resources":[{"ARN":"\udfff"}]"#,
        r#","tlsDetails":{"tlsVersion":"TLSv1.2","x":-1e400}"#,
        r#","addendum":{"reason":"\ud83d"}"#,
    ];
    let mut lines = vec![record(r#","requestParameters":{"k":"fine"}"#)];
    lines.extend(bad.iter().map(|b| record(b)));
    lines.push(record(""));
    std::fs::write(dir.path().join("records.json"), lines.join("\n") + "\n").unwrap();
    let outcome = |columns: &[&str], interpreted: bool| {
        let diags = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&diags);
        let opts = ScanOptions {
            columns: Some(columns.iter().map(|s| s.to_string()).collect()),
            threads: 1,
            interpreted,
            on_diagnostic: Some(Arc::new(move |d: &cloudtrail::Diagnostic| {
                sink.lock().unwrap().push(d.to_string())
            })),
            ..ScanOptions::default()
        };
        let files = sources::expand_local(&[dir.path().display().to_string()]).unwrap();
        let s = scan(files, opts);
        let stats = s.stats();
        let rows: usize = s.map(|b| b.unwrap().num_rows()).sum();
        let diags = diags.lock().unwrap().clone();
        (rows, stats.rejected(), diags)
    };
    for columns in [
        &[
            "event.action",
            "aws.cloudtrail.user_identity.arn",
            "source.ip",
        ][..],
        &[
            "aws.cloudtrail.request_parameters",
            "event.kind",
            "tls.version",
        ][..],
    ] {
        let compiled = outcome(columns, false);
        let interpreted = outcome(columns, true);
        assert_eq!(compiled, interpreted, "{columns:?}");
        assert_eq!(compiled.0, 2, "the two good records are rows: {compiled:?}");
        assert_eq!(compiled.1, bad.len() as u64, "{compiled:?}");
        assert_eq!(compiled.2.len(), bad.len(), "{compiled:?}");
    }
}
