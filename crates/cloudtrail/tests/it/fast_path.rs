//! The fast path (projection pushdown into the normalizer) against the full pipeline, and the
//! prefilter against no prefilter, on every record of `../shared/data/real`, Elastic's
//! pipeline fixtures and the repository sample: same rows, same values.

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use cloudtrail::{scan, NormalizeOptions, Prefilter, ScanOptions};

/// Every column the fast path can read.
const FAST: [&str; 77] = [
    "@timestamp",
    "aws.cloudtrail.additional_eventdata",
    "aws.cloudtrail.additional_eventdata.text",
    "aws.cloudtrail.error_code",
    "aws.cloudtrail.error_message",
    "aws.cloudtrail.event_category",
    "aws.cloudtrail.event_type",
    "aws.cloudtrail.recipient_account_id",
    "aws.cloudtrail.request_parameters",
    "aws.cloudtrail.request_parameters.text",
    "aws.cloudtrail.resources.account_id",
    "aws.cloudtrail.resources.arn",
    "aws.cloudtrail.resources.type",
    "aws.cloudtrail.response_elements",
    "aws.cloudtrail.response_elements.text",
    "aws.cloudtrail.service_event_details",
    "aws.cloudtrail.service_event_details.text",
    "aws.cloudtrail.session_credential_from_console",
    "aws.cloudtrail.user_identity.access_key_id",
    "aws.cloudtrail.user_identity.arn",
    "aws.cloudtrail.user_identity.credential_id",
    "aws.cloudtrail.user_identity.identity_provider",
    "aws.cloudtrail.user_identity.invoked_by",
    "aws.cloudtrail.user_identity.session_context.mfa_authenticated",
    "aws.cloudtrail.user_identity.session_context.session_issuer.account_id",
    "aws.cloudtrail.user_identity.session_context.session_issuer.arn",
    "aws.cloudtrail.user_identity.session_context.session_issuer.principal_id",
    "aws.cloudtrail.user_identity.session_context.session_issuer.type",
    "aws.cloudtrail.user_identity.session_context.source_identity",
    "aws.cloudtrail.user_identity.type",
    "cloud.account.id",
    "cloud.region",
    "data_stream.dataset",
    "data_stream.namespace",
    "data_stream.type",
    "event.action",
    "event.category",
    "event.dataset",
    "event.id",
    "event.ingested",
    "event.module",
    "event.outcome",
    "event.provider",
    "event.type",
    "group.id",
    "group.name",
    "service.name",
    "source.address",
    "source.as.number",
    "source.as.organization.name",
    "source.as.organization.name.text",
    "source.geo.city_name",
    "source.geo.continent_name",
    "source.geo.country_iso_code",
    "source.geo.country_name",
    "source.geo.location",
    "source.geo.region_iso_code",
    "source.geo.region_name",
    "source.ip",
    "user.changes.name",
    "user.changes.name.text",
    "user.id",
    "user.name",
    "user.name.text",
    "user.target.id",
    "user.target.name",
    "user.target.name.text",
    "user_agent.device.name",
    "user_agent.name",
    "user_agent.original",
    "user_agent.original.text",
    "user_agent.os.full",
    "user_agent.os.full.text",
    "user_agent.os.name",
    "user_agent.os.name.text",
    "user_agent.os.version",
    "user_agent.version",
];

fn sources() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample")];
    for rel in ["data/real", "fixtures/cloudtrail-integration"] {
        if let Some(d) = crate::shared(rel) {
            dirs.push(d);
        }
    }
    dirs
}

fn run(dir: &Path, columns: Vec<String>, prefilter: Option<Prefilter>) -> (Vec<RecordBatch>, u64) {
    let files = sources::expand_local(&[dir.display().to_string()]).unwrap();
    let opts = ScanOptions {
        columns: Some(columns),
        threads: 2,
        prefilter,
        normalize: NormalizeOptions {
            created: Some("2024-08-02T00:00:00.000Z".into()),
            ..NormalizeOptions::default()
        },
        ..ScanOptions::default()
    };
    let mut s = scan(files, opts);
    let stats = s.stats();
    let batches: Vec<RecordBatch> = (&mut s).map(|b| b.unwrap()).collect();
    (batches, stats.fast_records())
}

/// The public list (what the fuzz targets and callers use) is exactly the columns above.
#[test]
fn fast_path_columns_are_listed_publicly() {
    let mut public = cloudtrail::fast_path_columns();
    public.sort_unstable();
    let mut want = FAST.to_vec();
    want.sort_unstable();
    assert_eq!(public, want);
}

#[test]
fn fast_path_equals_the_full_pipeline() {
    let fast: Vec<String> = FAST.iter().map(|s| s.to_string()).collect();
    // One column the fast path cannot read forces the full pipeline for every record.
    let mut full = fast.clone();
    full.push("related.user".into());
    let (mut total, mut fast_total) = (0usize, 0u64);
    for dir in sources() {
        let (a, fast_n) = run(&dir, fast.clone(), None);
        let (b, full_n) = run(&dir, full.clone(), None);
        assert_eq!(full_n, 0, "the full run took the fast path");
        let rows = |v: &[RecordBatch]| v.iter().map(|b| b.num_rows()).sum::<usize>();
        assert_eq!(rows(&a), rows(&b), "{}", dir.display());
        let (mut ai, mut bi) = (a.iter().flat_map(rows_of), b.iter().flat_map(rows_of));
        let mut n = 0;
        loop {
            match (ai.next(), bi.next()) {
                (None, None) => break,
                (Some(x), Some(y)) => {
                    assert_eq!(x, y[..FAST.len()].to_vec(), "{} row {n}", dir.display());
                }
                _ => panic!("row counts differ in {}", dir.display()),
            }
            n += 1;
        }
        total += n;
        fast_total += fast_n;
    }
    println!("fast path: {fast_total} of {total} records");
    // The sample alone has 3,624 plain records: most rows must have taken the fast path.
    assert!(
        fast_total as usize * 10 >= total * 8,
        "{fast_total} of {total}"
    );
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
        let (a, _) = run(&dir, cols.clone(), None);
        let (b, _) = run(&dir, cols.clone(), Prefilter::new(clauses.clone()));
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
