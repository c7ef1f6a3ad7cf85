//! `samplegen`: writes deterministic, realistic CloudTrail logs in the layout
//! CloudTrail uses when it delivers to S3, so trailhunt's demos and tests can
//! run on data that looks like a real bucket without shipping anyone's real
//! logs. See `sample/README.md` for the story the data tells.
//!
//! Determinism is the point: the same arguments give byte-identical files
//! (fixed PRNG, fixed gzip header, sorted output), so the sample in the repo
//! can be regenerated and diffed.

mod actors;
mod background;
mod event;
mod ops;
mod rng;
mod story;
mod time;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use flate2::{Compression, GzBuilder};
use serde_json::{json, Value};

use crate::event::Spec;
use crate::rng::Rng;

/// Default PRNG seed; the committed sample uses it.
const DEFAULT_SEED: u64 = 0x5EED_7A11_C0DE_2024;
/// The story happens 2024-07-28 … 2024-08-01; background ends on the last day.
const LAST_DAY: (i64, u32, u32) = (2024, 8, 1);
const DEFAULT_DAYS: i64 = 14;
const DEFAULT_PER_DAY: u64 = 250;
/// CloudTrail delivers a file roughly every five minutes.
const WINDOW_SECS: i64 = 300;

const USAGE: &str = "usage: samplegen --out DIR [--seed N] [--days N] [--events-per-day N] [--force]

Writes CloudTrail logs as CloudTrail delivers them to S3:
  DIR/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<random>.json.gz

  --seed N            PRNG seed (default 6766190463958868004)
  --days N            days of background activity ending 2024-08-01 (default 14)
  --events-per-day N  approximate background events per day (default 250)
  --force             replace an existing DIR/AWSLogs
The scripted story events (2024-07-20 … 2024-07-31) are always included.";

/// One generated record with the keys that decide its delivery file.
pub struct Event {
    pub account: &'static str,
    pub region: &'static str,
    pub time: i64,
    pub record: Value,
}

impl Event {
    pub fn new(spec: &Spec, record: Value) -> Event {
        Event {
            account: spec.account,
            region: spec.region,
            time: spec.time,
            record,
        }
    }
}

#[derive(Debug)]
struct Args {
    out: PathBuf,
    seed: u64,
    days: i64,
    per_day: u64,
    force: bool,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut out = None;
    let mut args = Args {
        out: PathBuf::new(),
        seed: DEFAULT_SEED,
        days: DEFAULT_DAYS,
        per_day: DEFAULT_PER_DAY,
        force: false,
    };
    fn num<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        v.parse()
            .map_err(|_| format!("{flag}: `{v}` is not a valid number"))
    }
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a value")?)),
            "--seed" => args.seed = num("--seed", it.next())?,
            "--days" => args.days = num("--days", it.next())?,
            "--events-per-day" => args.per_day = num("--events-per-day", it.next())?,
            "--force" => args.force = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    args.out = out.ok_or("--out is required")?;
    if !(1..=366).contains(&args.days) {
        return Err("--days must be between 1 and 366".into());
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("samplegen: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok((files, events, bytes)) => {
            println!(
                "samplegen: wrote {events} events in {files} files ({bytes} bytes gzip) under {}",
                args.out.join("AWSLogs").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("samplegen: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Generates and writes everything; returns (files, events, bytes written).
fn run(args: &Args) -> Result<(usize, usize, u64), String> {
    let root = args.out.join("AWSLogs");
    if root.exists() {
        if !args.force {
            return Err(format!(
                "{} already exists; pass --force to replace it",
                root.display()
            ));
        }
        fs::remove_dir_all(&root).map_err(|e| format!("removing {}: {e}", root.display()))?;
    }
    let last_day = time::ymd(LAST_DAY.0, LAST_DAY.1, LAST_DAY.2);
    let mut events = background::generate(args.seed, last_day, args.days, args.per_day);
    events.extend(story::events(args.seed));
    let count = events.len();

    let files = deliveries(events);
    let mut names = Rng::fork(args.seed, "file-names");
    let mut bytes = 0;
    for ((account, region, window_end), records) in &files {
        let path = delivery_path(&root, account, region, *window_end, &names.alnum(16));
        bytes += write_gz(&path, records)?;
    }
    Ok((files.len(), count, bytes))
}

type FileKey = (&'static str, &'static str, i64);

/// Groups records into delivery files: one per account, region and 5-minute
/// window (keyed by the window's end, which is when CloudTrail names the
/// file), with records in time order inside each file.
fn deliveries(mut events: Vec<Event>) -> BTreeMap<FileKey, Vec<Value>> {
    events.sort_by_key(|e| e.time);
    let mut files: BTreeMap<FileKey, Vec<Value>> = BTreeMap::new();
    for e in events {
        let window_end = (e.time.div_euclid(WINDOW_SECS) + 1) * WINDOW_SECS;
        files
            .entry((e.account, e.region, window_end))
            .or_default()
            .push(e.record);
    }
    files
}

/// `AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<suffix>.json.gz`
fn delivery_path(root: &Path, account: &str, region: &str, t: i64, suffix: &str) -> PathBuf {
    let (y, mo, d, h, mi, _) = time::parts(t);
    root.join(account)
        .join("CloudTrail")
        .join(region)
        .join(format!("{y:04}"))
        .join(format!("{mo:02}"))
        .join(format!("{d:02}"))
        .join(format!(
            "{account}_CloudTrail_{region}_{y:04}{mo:02}{d:02}T{h:02}{mi:02}Z_{suffix}.json.gz"
        ))
}

/// Writes `{"Records":[…]}` on one line, gzip with a fixed header (mtime 0, no
/// file name) so the bytes depend only on the content.
fn write_gz(path: &Path, records: &[Value]) -> Result<u64, String> {
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(err)?;
    }
    let body = serde_json::to_vec(&json!({ "Records": records })).map_err(|e| e.to_string())?;
    let mut gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::best());
    gz.write_all(&body).map_err(err)?;
    let data = gz.finish().map_err(err)?;
    fs::write(path, &data).map_err(err)?;
    Ok(data.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn argument_parsing() {
        let a = args(&["--out", "x", "--seed", "5", "--days", "3"]).unwrap();
        assert_eq!((a.seed, a.days, a.per_day), (5, 3, DEFAULT_PER_DAY));
        assert!(args(&[]).unwrap_err().contains("--out"));
        assert!(args(&["--out", "x", "--days", "zero"])
            .unwrap_err()
            .contains("not a valid number"));
        assert!(args(&["--out", "x", "--bogus"]).is_err());
        assert_eq!(args(&["--help"]).err(), Some(String::new()));
    }

    #[test]
    fn delivery_file_naming() {
        let p = delivery_path(
            Path::new("o"),
            "418295730164",
            "us-east-1",
            time::at(2024, 7, 31, 13, 10, 0),
            "AbCdEfGhIjKlMnOp",
        );
        assert_eq!(
            p,
            Path::new("o/418295730164/CloudTrail/us-east-1/2024/07/31/418295730164_CloudTrail_us-east-1_20240731T1310Z_AbCdEfGhIjKlMnOp.json.gz")
        );
    }
}
