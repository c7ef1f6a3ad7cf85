//! The embedded store on the command line: `trailhunt ingest` (with its progress bar) and
//! `trailhunt store info|vacuum`.

use crate::S3Args;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args)]
pub struct IngestArgs {
    /// CloudTrail sources: files, directories, globs, or s3://bucket/prefix.
    #[arg(value_name = "SRC", required = true)]
    pub sources: Vec<std::ffi::OsString>,
    /// The store directory (created if missing).
    #[arg(long, env = "TRAILHUNT_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub s3: S3Args,
    // GeoIP databases: their source.geo.* / source.as.* are stored with the rows.
    #[command(flatten)]
    pub geo: crate::geo_args::GeoArgs,
    /// No progress bar or summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Commit after every N source files (default: every 256 MB or 2000 files).
    #[arg(long, value_name = "N", hide = true)]
    pub commit_every: Option<usize>,
    #[command(flatten)]
    pub input: crate::input_args::InputArgs,
}

#[derive(Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub action: StoreAction,
}

#[derive(Subcommand)]
pub enum StoreAction {
    /// Events, time range, accounts, regions, files and bytes in the store.
    Info {
        /// A folder, or s3://bucket/prefix.
        #[arg(long, env = "TRAILHUNT_STORE", value_name = "DIR|S3URL")]
        store: Option<PathBuf>,
        #[command(flatten)]
        s3: crate::S3AccessArgs,
        /// Print the numbers as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compact small files (each day into as few files as possible), atomically.
    Vacuum {
        #[arg(long, env = "TRAILHUNT_STORE", value_name = "DIR")]
        store: Option<PathBuf>,
    },
}

fn store_dir(arg: &Option<PathBuf>) -> PathBuf {
    datasets::store_dir(arg.as_deref())
}

/// The folder of a store being written: trailhunt writes only local (or shared) folders.
fn writable_store(arg: &Option<PathBuf>, what: &str) -> Result<PathBuf> {
    let dir = store_dir(arg);
    if sources::is_s3(dir.as_os_str()) {
        anyhow::bail!(
            "{what} writes a store in a folder, not in S3 ({}): {what} a local store, then copy \
             it with `aws s3 sync DIR {} --exclude '_trailhunt/*'` followed by `aws s3 cp \
             DIR/_trailhunt/manifest.json {}/_trailhunt/manifest.json` (the manifest last, so \
             readers never see files that are not there yet)",
            dir.display(),
            dir.display(),
            dir.display().to_string().trim_end_matches('/')
        );
    }
    Ok(dir)
}

pub fn cmd_ingest(args: &IngestArgs) -> Result<i32> {
    let dir = writable_store(&args.store, "ingest")?;
    let enrich = args.geo.enrich()?;
    let mut limits = args.input.limits()?;
    // Ingest holds no query state: the scan may use a quarter of the default budget, as it
    // does under a query.
    limits.scan_memory = engine::default_memory_limit().map(|m| m as u64 / 4);
    let log = args.input.error_log()?;
    let (named, _) = crate::expand_sources_noted(
        &args.sources,
        &args.s3,
        sources::DayRange::default(),
        args.quiet,
        log.as_deref(),
        false,
    )?;
    let source_names = named
        .iter()
        .filter_map(|f| f.origin.clone().map(|k| (f.path.clone(), k)))
        .collect();
    let files: Vec<PathBuf> = named.into_iter().map(|f| f.path).collect();
    let store = store::Store::create(&dir)?;
    let report = store.ingest(
        &files,
        store::IngestOptions {
            progress: crate::progress::ingest_progress(args.quiet),
            max_commits: None,
            commit_files: args.commit_every,
            source_names,
            enrich,
            limits,
            error_log: log.clone(),
            interpreted: args.input.interpreted,
        },
    )?;
    crate::input_args::finish_log(log.as_deref(), args.input.errors.as_deref());
    if !args.quiet {
        let rate = if report.elapsed_secs > 0.0 {
            report.records as f64 / report.elapsed_secs
        } else {
            0.0
        };
        eprintln!(
            "trailhunt: ingested {} of {} files into {} ({} already stored): {} records stored, {} rejected, {} data files, {:.2}s ({:.0} records/s)",
            report.files_ingested,
            report.files_seen,
            dir.display(),
            report.files_skipped,
            report.records,
            report.rejected,
            report.data_files_written,
            report.elapsed_secs,
            rate
        );
        for r in &report.reasons {
            eprintln!("  {r}");
        }
        if report.rejected as usize > report.reasons.len() {
            eprintln!(
                "  … and {} more",
                report.rejected as usize - report.reasons.len()
            );
        }
    }
    Ok(0)
}

pub fn cmd_store(args: &StoreArgs) -> Result<i32> {
    match &args.action {
        StoreAction::Info { store, s3, json } => {
            let dir = store_dir(store);
            let location = store::StoreLocation::parse(&dir)?;
            let info = match &location {
                store::StoreLocation::Local(dir) => store::Store::open(dir)?.info()?,
                remote => {
                    let m = sources::s3::block_on(store::remote::load_manifest(
                        remote,
                        &s3.options(),
                        true,
                    ))?;
                    store::Info::of(&m)
                }
            };
            let fmt = |t: Option<i64>| t.map(javatime::format_iso_millis);
            let mut out = std::io::stdout().lock();
            if *json {
                let v = serde_json::json!({
                    "store": location.to_string(),
                    "events": info.events,
                    "first": fmt(info.first),
                    "last": fmt(info.last),
                    "accounts": info.accounts,
                    "regions": info.regions,
                    "files": info.files,
                    "partitions": info.partitions,
                    "bytes": info.bytes,
                    "sources": info.sources,
                    "version": info.version,
                });
                writeln!(out, "{v}")?;
            } else {
                let none = || "-".to_string();
                writeln!(out, "store:      {location}")?;
                writeln!(out, "events:     {}", info.events)?;
                writeln!(
                    out,
                    "time range: {} .. {}",
                    fmt(info.first).unwrap_or_else(none),
                    fmt(info.last).unwrap_or_else(none)
                )?;
                writeln!(
                    out,
                    "accounts:   {} ({})",
                    info.accounts.len(),
                    info.accounts.iter().cloned().collect::<Vec<_>>().join(", ")
                )?;
                writeln!(
                    out,
                    "regions:    {} ({})",
                    info.regions.len(),
                    info.regions.iter().cloned().collect::<Vec<_>>().join(", ")
                )?;
                writeln!(
                    out,
                    "files:      {} Parquet files in {} day partitions",
                    info.files, info.partitions
                )?;
                writeln!(
                    out,
                    "bytes:      {} ({:.1} MB)",
                    info.bytes,
                    info.bytes as f64 / 1e6
                )?;
                writeln!(out, "sources:    {} ingested files", info.sources)?;
            }
            Ok(0)
        }
        StoreAction::Vacuum { store } => {
            let dir = writable_store(store, "vacuum")?;
            let s = store::Store::open(&dir)?;
            let r = s.vacuum()?;
            eprintln!(
                "trailhunt: vacuum {}: {} → {} files ({} groups compacted, {} leftovers removed)",
                dir.display(),
                r.files_before,
                r.files_after,
                r.partitions_compacted,
                r.leftovers_removed
            );
            Ok(0)
        }
    }
}
