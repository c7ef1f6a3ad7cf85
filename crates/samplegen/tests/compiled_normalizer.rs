//! The compiled normalizer against the interpreted pipeline (its oracle) on generated data
//! at scale: every column of every record equal. (`crates/cloudtrail/tests/it/compiled.rs`
//! does the same on the real data, Elastic's fixtures and the sample.)

use std::path::{Path, PathBuf};
use std::process::Command;

use arrow_array::RecordBatch;
use cloudtrail::{scan, NormalizeOptions, ScanOptions};

const BIN: &str = env!("CARGO_BIN_EXE_samplegen");

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn rows(files: &[PathBuf], interpreted: bool) -> (Vec<Vec<String>>, u64) {
    let opts = ScanOptions {
        threads: 2,
        interpreted,
        normalize: NormalizeOptions {
            created: Some("2024-08-02T00:00:00.000Z".into()),
            ..NormalizeOptions::default()
        },
        ..ScanOptions::default()
    };
    let mut s = scan(files.to_vec(), opts);
    let stats = s.stats();
    let batches: Vec<RecordBatch> = (&mut s).map(|b| b.unwrap()).collect();
    let rows = batches
        .iter()
        .flat_map(|b| {
            (0..b.num_rows()).map(move |r| {
                b.columns()
                    .iter()
                    .map(|c| format!("{:?}", c.slice(r, 1)))
                    .collect()
            })
        })
        .collect();
    (rows, stats.compiled_records())
}

#[test]
fn compiled_normalizer_equals_the_pipeline_on_generated_data() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("gen");
    // Benchmark mode (the generator `bench/` uses) and the story, 3 days; more events with
    // TRAILHUNT_GEN_EVENTS (a one-off check at scale).
    let events = std::env::var("TRAILHUNT_GEN_EVENTS").unwrap_or_else(|_| "40000".into());
    let status = Command::new(BIN)
        .arg("--out")
        .arg(&out)
        .args(["--days", "3", "--events", &events])
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let mut files = vec![];
    files_under(&out, &mut files);
    files.sort();
    let (compiled, n) = rows(&files, false);
    let (interpreted, m) = rows(&files, true);
    assert_eq!(m, 0);
    assert_eq!(compiled.len(), interpreted.len());
    assert!(compiled.len() >= 30_000.min(events.parse::<usize>().unwrap() * 3 / 4));
    let names: Vec<&str> = cloudtrail::ecs_fields()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    for (i, (a, b)) in compiled.iter().zip(&interpreted).enumerate() {
        for (c, name) in names.iter().enumerate() {
            assert_eq!(a[c], b[c], "record {i} column {name}");
        }
    }
    // Generated records are all plain CloudTrail: nearly all take the compiled path.
    assert!(
        n as usize * 100 >= compiled.len() * 95,
        "{n} of {}",
        compiled.len()
    );
}
