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
mod intrusion;
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

const USAGE: &str = "usage: samplegen --out DIR [--seed N] [--days N] [--events-per-day N | --events N] [--background-only] [--force]

Writes CloudTrail logs as CloudTrail delivers them to S3:
  DIR/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<random>.json.gz

  --seed N            PRNG seed (default 6766190463958868004)
  --days N            days of background activity ending 2024-08-01 (default 14)
  --events-per-day N  approximate background events per day (default 250)
  --events N          benchmark scale: about N events in total, generated and written one
                      day at a time on all cores (bounded memory, gzip level 6); the files
                      differ from the default mode's but are just as deterministic
  --background-only   leave out the scripted story: the same background activity (same
                      records) with nothing to find, for negative tests of hunts and rules
  --force             replace an existing DIR/AWSLogs
Unless --background-only is given, the scripted story events (2024-07-20 … 2024-07-31)
are included.";

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
    /// Benchmark scale (`--events`): streamed day by day.
    total: Option<u64>,
    /// `--background-only`: no story events.
    background_only: bool,
    force: bool,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut out = None;
    let mut args = Args {
        out: PathBuf::new(),
        seed: DEFAULT_SEED,
        days: DEFAULT_DAYS,
        per_day: DEFAULT_PER_DAY,
        total: None,
        background_only: false,
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
            "--events" => args.total = Some(num("--events", it.next())?),
            "--background-only" => args.background_only = true,
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
    if let Some(total) = args.total {
        return run_scaled(args, &root, last_day, total);
    }
    let mut events = background::generate(args.seed, last_day, args.days, args.per_day);
    if !args.background_only {
        events.extend(story::events(args.seed));
    }
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

/// `--events`: each day's background is generated, grouped into delivery files and written
/// before the next day starts, by one worker per core, so memory holds a day per worker
/// whatever the total. The story's events (unless `--background-only`) get files of their
/// own.
fn run_scaled(
    args: &Args,
    root: &Path,
    last_day: i64,
    total: u64,
) -> Result<(usize, usize, u64), String> {
    let per_day = total.div_ceil(args.days as u64).max(1);
    let end = last_day + 86_400 - 1;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let days: Vec<i64> = (0..args.days)
        .rev()
        .map(|d| last_day - d * 86_400)
        .collect();
    let results: Vec<Result<(usize, usize, u64), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let days = &days;
                scope.spawn(move || {
                    let mut sum = (0, 0, 0);
                    for (i, &day) in days.iter().enumerate() {
                        if i % workers != w {
                            continue;
                        }
                        let events = background::generate_day(args.seed, day, end, per_day);
                        let tag = format!("file-names-{day}");
                        let (f, e, b) = write_all(root, events, args.seed, &tag, 6)?;
                        sum = (sum.0 + f, sum.1 + e, sum.2 + b);
                    }
                    Ok(sum)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a worker panicked".into())))
            .collect()
    });
    let story = if args.background_only {
        Vec::new()
    } else {
        story::events(args.seed)
    };
    let mut sum = write_all(root, story, args.seed, "file-names-story", 6)?;
    for r in results {
        let (f, e, b) = r?;
        sum = (sum.0 + f, sum.1 + e, sum.2 + b);
    }
    Ok(sum)
}

/// Groups `events` into delivery files and writes them; returns (files, events, bytes).
fn write_all(
    root: &Path,
    events: Vec<Event>,
    seed: u64,
    names_tag: &str,
    level: u32,
) -> Result<(usize, usize, u64), String> {
    let count = events.len();
    let files = deliveries(events);
    let mut names = Rng::fork(seed, names_tag);
    let mut bytes = 0;
    for ((account, region, window_end), records) in &files {
        let path = delivery_path(root, account, region, *window_end, &names.alnum(16));
        bytes += write_gz_level(&path, records, Compression::new(level))?;
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
    write_gz_level(path, records, Compression::best())
}

fn write_gz_level(path: &Path, records: &[Value], level: Compression) -> Result<u64, String> {
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(err)?;
    }
    let body = serde_json::to_vec(&json!({ "Records": records })).map_err(|e| e.to_string())?;
    let mut gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), level);
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
        assert!(!a.background_only);
        assert!(
            args(&["--out", "x", "--background-only"])
                .unwrap()
                .background_only
        );
    }

    #[test]
    fn scaled_mode_is_deterministic_and_close_to_the_asked_size() {
        let a = args(&["--out", "x", "--events", "3000", "--days", "3"]).unwrap();
        assert_eq!(a.total, Some(3000));
        let root = std::env::temp_dir().join(format!("samplegen-scaled-{}", std::process::id()));
        let run_once = |dir: &str| {
            let out = root.join(dir);
            let (files, events, _) = run_scaled(&a, &out, time::ymd(2024, 8, 1), 3000).unwrap();
            let mut listing: Vec<(PathBuf, Vec<u8>)> = Vec::new();
            let mut stack = vec![out.clone()];
            while let Some(d) = stack.pop() {
                for e in fs::read_dir(&d).unwrap() {
                    let p = e.unwrap().path();
                    if p.is_dir() {
                        stack.push(p);
                    } else {
                        listing.push((p.strip_prefix(&out).unwrap().into(), fs::read(&p).unwrap()));
                    }
                }
            }
            listing.sort();
            (files, events, listing)
        };
        let (files, events, first) = run_once("a");
        let (_, _, second) = run_once("b");
        let _ = fs::remove_dir_all(&root);
        assert_eq!(first, second, "same arguments, same bytes");
        assert_eq!(files, first.len());
        // Background sessions overshoot a day's quota by at most one session; the story adds
        // its own events.
        assert!((3000..3600).contains(&events), "{events}");
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
