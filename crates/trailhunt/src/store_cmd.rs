//! The embedded store on the command line: `trailhunt ingest`, `trailhunt store info|vacuum`,
//! and the store as the engine's dataset when a query has no `--input`.

use crate::dataset::INDEX_NAME;
use crate::s3::S3Args;
use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use datafusion::arrow::datatypes::SchemaRef;
use engine::{BatchIter, Dataset};
use esql::Column;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Where the store is when neither `--store` nor `$TRAILHUNT_STORE` says.
pub const DEFAULT_STORE: &str = "trailhunt-store";

#[derive(Args)]
pub struct IngestArgs {
    /// CloudTrail sources: files, directories, globs, or s3://bucket/prefix.
    #[arg(value_name = "SRC", required = true)]
    pub sources: Vec<String>,
    /// The store directory (created if missing).
    #[arg(long, env = "TRAILHUNT_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub s3: S3Args,
    /// No progress line or summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Commit after every N source files (default: every 256 MB or 2000 files).
    #[arg(long, value_name = "N", hide = true)]
    pub commit_every: Option<usize>,
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
        #[arg(long, env = "TRAILHUNT_STORE", value_name = "DIR")]
        store: Option<PathBuf>,
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

pub fn store_dir(arg: &Option<PathBuf>) -> PathBuf {
    arg.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_STORE))
}

/// The store as `logs-aws.cloudtrail-default`, over the commit current when opened.
pub struct StoreDataset {
    store: store::Store,
    table: Arc<store::StoreTable>,
    manifest: store::Manifest,
}

impl StoreDataset {
    pub fn open(dir: &Path) -> Result<StoreDataset> {
        let store = store::Store::open(dir).map_err(|e| anyhow!("{e}"))?;
        let manifest = store::Manifest::load_data_files(dir).map_err(|e| anyhow!("{e}"))?;
        let table = Arc::new(store::StoreTable::new(
            dir.to_path_buf(),
            Arc::new(manifest.clone()),
            store.schema(),
        ));
        Ok(StoreDataset {
            store,
            table,
            manifest,
        })
    }

    /// One line for stderr: what a query is about to read.
    pub fn describe(&self) -> String {
        format!(
            "trailhunt: store {} ({} events in {} files)",
            self.store.root().display(),
            self.manifest.rows(),
            self.manifest.files.len()
        )
    }
}

impl Dataset for StoreDataset {
    fn name(&self) -> &str {
        INDEX_NAME
    }

    fn columns(&self) -> Vec<Column> {
        crate::dataset::ecs_columns()
    }

    fn schema(&self) -> SchemaRef {
        self.store.schema()
    }

    /// Used only where DataFusion's Parquet scan is not (the engine prefers
    /// [`Dataset::table_provider`]): reads every file, in manifest order.
    fn scan(&self, columns: &[String]) -> Result<BatchIter, String> {
        let target = cloudtrail::arrow_schema(Some(columns)).map_err(|e| e.to_string())?;
        let root = self.store.root().to_path_buf();
        let files = self.manifest.files.clone();
        let iter =
            files
                .into_iter()
                .flat_map(move |f| match store::read::read_file(&root, &f, &target) {
                    Ok(batches) => batches.into_iter().map(Ok).collect::<Vec<_>>(),
                    Err(e) => vec![Err(e.to_string())],
                });
        Ok(Box::new(iter))
    }

    fn table_provider(&self) -> Option<Arc<dyn datafusion::catalog::TableProvider>> {
        Some(self.table.clone())
    }
}

pub fn cmd_ingest(args: &IngestArgs) -> Result<i32> {
    let dir = store_dir(&args.store);
    let named = crate::s3::expand_all_named(&args.sources, &args.s3, args.quiet)?;
    let source_names = named
        .iter()
        .filter_map(|(p, k)| k.clone().map(|k| (p.clone(), k)))
        .collect();
    let files: Vec<PathBuf> = named.into_iter().map(|(p, _)| p).collect();
    let store = store::Store::create(&dir).map_err(|e| anyhow!("{e}"))?;
    let quiet = args.quiet;
    let tty = std::io::stderr().is_terminal();
    let mut last_line = Instant::now();
    let progress = move |p: &store::Progress| {
        let done = p.finished;
        if quiet || (done && p.files_total == 0) {
            return;
        }
        if !tty && !done && last_line.elapsed().as_secs() < 5 {
            return;
        }
        last_line = Instant::now();
        let mb = p.bytes_done as f64 / 1e6;
        let rate = if p.elapsed_secs > 0.0 {
            mb / p.elapsed_secs
        } else {
            0.0
        };
        let eta = if rate > 0.0 && p.bytes_total > p.bytes_done {
            format!(
                ", ETA {:.0}s",
                (p.bytes_total - p.bytes_done) as f64 / 1e6 / rate
            )
        } else {
            String::new()
        };
        let line = format!(
            "ingest: {}/{} files, {} records, {} rejected, {:.1} MB, {:.1} MB/s{eta}",
            p.files_done, p.files_total, p.records, p.rejected, mb, rate
        );
        if tty {
            eprint!("\r{line}\x1b[K");
            if done {
                eprintln!();
            }
        } else {
            eprintln!("{line}");
        }
    };
    let report = store
        .ingest(
            &files,
            store::IngestOptions {
                progress: Some(Box::new(progress)),
                max_commits: None,
                commit_files: args.commit_every,
                source_names,
            },
        )
        .map_err(|e| anyhow!("{e}"))?;
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
        StoreAction::Info { store, json } => {
            let dir = store_dir(store);
            let s = store::Store::open(&dir).map_err(|e| anyhow!("{e}"))?;
            let info = s.info().map_err(|e| anyhow!("{e}"))?;
            let fmt = |t: Option<i64>| t.map(javatime::format_iso_millis);
            if *json {
                let v = serde_json::json!({
                    "store": dir.display().to_string(),
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
                println!("{v}");
            } else {
                let none = || "-".to_string();
                println!("store:      {}", dir.display());
                println!("events:     {}", info.events);
                println!(
                    "time range: {} .. {}",
                    fmt(info.first).unwrap_or_else(none),
                    fmt(info.last).unwrap_or_else(none)
                );
                println!(
                    "accounts:   {} ({})",
                    info.accounts.len(),
                    info.accounts.iter().cloned().collect::<Vec<_>>().join(", ")
                );
                println!(
                    "regions:    {} ({})",
                    info.regions.len(),
                    info.regions.iter().cloned().collect::<Vec<_>>().join(", ")
                );
                println!(
                    "files:      {} Parquet files in {} day partitions",
                    info.files, info.partitions
                );
                println!(
                    "bytes:      {} ({:.1} MB)",
                    info.bytes,
                    info.bytes as f64 / 1e6
                );
                println!("sources:    {} ingested files", info.sources);
            }
            Ok(0)
        }
        StoreAction::Vacuum { store } => {
            let dir = store_dir(store);
            let s = store::Store::open(&dir).map_err(|e| anyhow!("{e}"))?;
            let r = s.vacuum().map_err(|e| anyhow!("{e}"))?;
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
