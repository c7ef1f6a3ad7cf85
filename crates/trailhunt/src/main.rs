//! The `trailhunt` command line: wires the reader, the engine, the hunt library and the
//! renderers together. Logic lives in the library crates; this file parses arguments,
//! reports progress and errors, and sets the exit code.

mod cluster_cmd;
mod geo_args;
mod hunt_out;
mod hunts_cmd;
mod input_args;
mod investigate_out;
mod progress;
mod render;
mod s3_args;
mod store_cmd;
mod ua_cmd;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use datasets::{CloudTrailFiles, StoreDataset};
use engine::{Dataset, EngineError, QueryOptions, QueryResult};
use render::Format;
pub(crate) use s3_args::{S3AccessArgs, S3Args};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "trailhunt",
    version,
    about = "Run Elastic's ES|QL threat hunts on raw AWS CloudTrail logs, no cluster needed"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// No progress bars (they are drawn on stderr, and only when it is a terminal).
    #[arg(long, global = true)]
    no_progress: bool,
    /// Write CSV text cells as they are even when they start with `=`, `+`, `-`, `@`, tab
    /// or CR (by default such cells get a leading `'` so spreadsheets do not run them).
    #[arg(long, global = true)]
    csv_formulas: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run one ES|QL query (FROM logs-aws.cloudtrail* …) over CloudTrail logs.
    Query {
        #[command(flatten)]
        data: DataArgs,
        /// The ES|QL query text.
        query: String,
        /// A value for a `?name` placeholder: NAME=VALUE (or N=VALUE, or a bare VALUE for
        /// the next `?`); VALUE is JSON-like (5, 1.5, true, null, "text") or plain text.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
    },
    /// Run hunts (by file stem, UUID or TOML path); with none, every ES|QL CloudTrail hunt.
    Hunt {
        #[command(flatten)]
        data: DataArgs,
        /// Extra hunt directories (a detection-rules `hunting/` tree or any folder of TOML).
        #[arg(long = "hunts", value_name = "DIR")]
        hunt_dirs: Vec<PathBuf>,
        #[arg(value_name = "HUNT")]
        hunts: Vec<String>,
        /// Run detection rules as Kibana's scheduler would over the data's time span (every
        /// `interval`, over the `from` look-back) and report each alert once.
        #[arg(long)]
        replay: bool,
        #[command(flatten)]
        investigation: hunts_cmd::InvestigateArgs,
    },
    /// List, show, lint or install hunts and rules.
    Hunts {
        #[command(subcommand)]
        action: HuntsAction,
    },
    /// Normalize CloudTrail files once into the embedded Parquet store (idempotent).
    Ingest(store_cmd::IngestArgs),
    /// Inspect or compact the embedded store.
    Store(store_cmd::StoreArgs),
    /// Run a Ballista scheduler for `--cluster df://HOST:PORT` (build with `--features cluster`).
    Scheduler(cluster_cmd::SchedulerArgs),
    /// Run a Ballista executor for a `trailhunt scheduler` (build with `--features cluster`).
    Executor(cluster_cmd::ExecutorArgs),
    /// Install or try the uap-core rules that fill user_agent.name, .version, .os.*, .device.name.
    Ua {
        #[command(subcommand)]
        action: ua_cmd::UaAction,
    },
    /// Print ECS documents as NDJSON, as Elastic's aws integration would index them.
    Normalize {
        /// CloudTrail sources: files, directories, globs, or s3://bucket/prefix.
        #[arg(value_name = "SRC", required = true)]
        sources: Vec<OsString>,
        #[command(flatten)]
        s3: S3Args,
        #[command(flatten)]
        geo: geo_args::GeoArgs,
        /// Fix `event.created` (the integration sets it to the read time).
        #[arg(long, value_name = "TS")]
        created: Option<String>,
        /// Integration tags, e.g. preserve_original_event, actor_target_mapping.
        #[arg(long = "tag", value_name = "NAME")]
        tags: Vec<String>,
        /// The integration's retain mode: all, keyword, flattened, minimal, none.
        #[arg(long, value_name = "MODE", value_parser = ["all", "keyword", "flattened", "minimal", "none"])]
        retain: Option<String>,
        /// Also normalize blank NDJSON lines (near-empty documents), as Elastic's pipeline
        /// tests do.
        #[arg(long)]
        blank_lines: bool,
        /// Stop at the first bad file or record.
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        input: input_args::InputArgs,
    },
}

#[derive(Subcommand)]
pub(crate) enum HuntsAction {
    /// One line per hunt or rule: stem, kind, language, where it comes from, ATT&CK, name.
    List {
        #[arg(long = "hunts", value_name = "DIR")]
        hunt_dirs: Vec<PathBuf>,
        /// Only this platform folder (aws, okta, linux, …).
        #[arg(long)]
        platform: Option<String>,
        /// Only hunts citing this ATT&CK technique (T1562 also matches T1562.008).
        #[arg(long)]
        technique: Option<String>,
        /// Only hunts whose name, description, notes or query contain this (any case).
        #[arg(long)]
        keyword: Option<String>,
    },
    /// Check ES|QL queries for the library's known mistakes (see `hunts::lint`).
    Lint {
        #[arg(long = "hunts", value_name = "DIR")]
        hunt_dirs: Vec<PathBuf>,
        /// Hunt or rule files or directories (default: the whole library).
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Install or update Elastic's hunting library and AWS ES|QL rules in the data
    /// directory ($TRAILHUNT_HOME, else $XDG_DATA_HOME/trailhunt).
    Update {
        /// Where from: an https:// tarball URL, a detection-rules checkout, or a .tar.gz
        /// (default: the upstream GitHub repository).
        #[arg(long, value_name = "URL|DIR|TARBALL")]
        from: Option<String>,
    },
    /// A hunt as the library's Markdown docs show it.
    Show {
        #[arg(long = "hunts", value_name = "DIR")]
        hunt_dirs: Vec<PathBuf>,
        #[arg(value_name = "HUNT", required = true)]
        hunts: Vec<String>,
    },
}

#[derive(Args)]
pub(crate) struct DataArgs {
    /// CloudTrail input: a file, a directory (recursive), or a glob; repeatable.
    /// Any bytes the OS allows in a path (a name that is not UTF-8 is read as a path).
    #[arg(long = "input", short = 'i', value_name = "SRC")]
    inputs: Vec<OsString>,
    /// The embedded store to read when no --input is given: a folder, or s3://bucket/prefix
    /// (a store copied there, read with the AWS chain as s3:// inputs are).
    #[arg(long, env = "TRAILHUNT_STORE", value_name = "DIR|S3URL")]
    store: Option<PathBuf>,
    /// NOW() for the query: an ISO-8601 timestamp, or `latest` (the newest event).
    #[arg(long, value_name = "TS|latest")]
    now: Option<String>,
    /// Output format (default: table on a terminal, json otherwise).
    #[arg(long, short = 'f', value_enum)]
    format: Option<Format>,
    /// Make any bad file or record fatal instead of reporting and skipping it.
    #[arg(long)]
    strict: bool,
    /// Do not print the summary and per-record warnings on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// A lookup index for LOOKUP JOIN: NAME=FILE (.csv, .ndjson or .parquet); repeatable.
    #[arg(long = "lookup", value_name = "NAME=FILE")]
    lookups: Vec<String>,
    /// An enrich policy for ENRICH: NAME=FILE:MATCH_FIELD; repeatable.
    #[arg(long = "enrich", value_name = "NAME=FILE:FIELD")]
    enrich: Vec<String>,
    /// Read every record: no literal prefilter and no file pruning by the query's time
    /// range (to check a suspected pushdown problem; results must not change).
    #[arg(long, hide = true)]
    no_pushdown: bool,
    /// Memory budget of the query (e.g. 512M, 2G): sorts and aggregations spill to disk
    /// instead of exceeding it.
    #[arg(long, value_name = "SIZE")]
    memory_limit: Option<String>,
    /// Stop any query that runs longer than this (500ms, 30s, 5m, 1h); each query of a hunt run
    /// gets the full limit.
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// Run the queries on a Ballista cluster: df://HOST:PORT of a `trailhunt scheduler`.
    /// The store (--store) must be in S3 or a folder every executor reads at the same path.
    #[arg(long, value_name = "URL")]
    cluster: Option<String>,
    /// How long to wait for the cluster's scheduler to accept a connection.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    cluster_timeout: String,
    #[command(flatten)]
    s3: S3Args,
    #[command(flatten)]
    geo: geo_args::GeoArgs,
    #[command(flatten)]
    input: input_args::InputArgs,
}

impl DataArgs {
    /// What the run reads, in words (for the report).
    pub(crate) fn describe(&self) -> String {
        if !self.inputs.is_empty() {
            let names: Vec<_> = self.inputs.iter().map(|i| i.to_string_lossy()).collect();
            format!("CloudTrail files: {}", names.join(", "))
        } else if let Some(s) = &self.store {
            format!("the trailhunt store at {}", s.display())
        } else {
            "the default store".to_string()
        }
    }
}

/// Expands sources (local and `s3://`) with the S3 flags; `s3_days` further prunes S3
/// listings (a query's time range). S3 progress and what was left out (a second path to a
/// file, a FIFO, …) go to stderr unless `quiet`; what was left out is also returned, and
/// written to `log`.
pub(crate) fn expand_sources_noted(
    srcs: &[OsString],
    s3: &S3Args,
    s3_days: sources::DayRange,
    quiet: bool,
    log: Option<&cloudtrail::ErrorLog>,
    s3_list_only: bool,
) -> Result<(Vec<sources::SourceFile>, Vec<sources::SourceNote>)> {
    let notes = std::sync::Mutex::new(Vec::new());
    let note = |n: &sources::SourceNote| {
        if !quiet {
            progress::suspend(|| eprintln!("warning: {n}"));
        }
        match log {
            Some(log) if n.kind == sources::NoteKind::NotUtf8 => log.noted(&n.path, &n.message),
            Some(log) => log.skipped(&n.path, &n.message),
            None => {}
        }
        notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(n.clone());
    };
    let bar = progress::Downloads::new(quiet);
    let report = |f: &sources::Fetched| {
        if !quiet {
            progress::suspend(|| {
                eprintln!(
                    "trailhunt: {}: {} objects ({:.1} MB), {} to download",
                    f.url,
                    f.objects,
                    f.bytes as f64 / 1e6,
                    f.to_download
                )
            });
        }
        bar.listed(f);
    };
    let downloaded = |d: &sources::Downloaded| bar.downloaded(d);
    let opts = sources::ExpandOptions {
        days: sources::DayRange::from_dates(s3.since.as_deref(), s3.until.as_deref())?,
        s3_days,
        s3: s3.options(),
        report: Some(&report),
        downloaded: Some(&downloaded),
        note: Some(&note),
        s3_list_only,
    };
    let files = sources::expand(srcs, &opts)?;
    Ok((files, notes.into_inner().unwrap_or_else(|p| p.into_inner())))
}

/// `--strict`: an input that could not be read (an unreadable folder or entry, a broken
/// link, a FIFO or device) ends the run; second paths to files, loops and hidden entries are
/// not errors.
fn strict_sources(notes: &[sources::SourceNote]) -> Result<()> {
    use sources::NoteKind::{Special, Unreadable};
    match notes
        .iter()
        .find(|n| matches!(n.kind, Unreadable | Special))
    {
        Some(n) => bail!("{n} (--strict)"),
        None => Ok(()),
    }
}

/// Adds the lookup tables and enrich policies named on the command line.
pub(crate) fn add_lookups(session: &mut Session, data: &DataArgs) -> Result<()> {
    for spec in &data.lookups {
        session
            .datasets
            .push(Arc::new(engine::lookup::parse_lookup(spec)?));
    }
    for spec in &data.enrich {
        session
            .datasets
            .push(Arc::new(engine::lookup::parse_enrich(spec)?));
    }
    Ok(())
}

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc (v3, statically linked by `libmimalloc-sys`) exports its option setter; the crate
// declares no constant for this option, so the index is taken from its `mimalloc.h`.
extern "C" {
    fn mi_option_set(option: std::os::raw::c_int, value: std::os::raw::c_long);
}
const MI_OPTION_PURGE_DELAY: std::os::raw::c_int = 15;

/// mimalloc returns freed pages to the OS 10 ms after they empty. Ingest's per-file buffers
/// and the store writer's per-file arrays free and re-grow far more often than that, so
/// each cycle paid a page fault and the kernel's page zeroing: for ingest freed pages are
/// kept for reuse (never purged; CPU on 174k events 13.0 → 11.3 s, same peak RSS). Queries
/// keep a one-second delay (a 90k-event raw scan 6.6 → 5.2 s), so memory an aggregation
/// gave back is returned: never purging raised the peak RSS of a 10M-group STATS under
/// `--memory-limit 1G` from ~0.8 to ~1.0 GiB.
fn tune_allocator(ingest: bool) {
    let delay_ms = if ingest { -1 } else { 1000 };
    // SAFETY: plain option store, valid at any time; 15 = mi_option_purge_delay (v3 header),
    // where -1 means never.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, delay_ms) };
}

fn main() {
    let cli = Cli::parse();
    progress::init(cli.no_progress);
    render::allow_csv_formulas(cli.csv_formulas);
    tune_allocator(matches!(cli.command, Command::Ingest(_)));
    let code = match run(cli) {
        Ok(code) => code,
        // The reader of stdout went away (`trailhunt … | head`): stop quietly, with the
        // status a shell gives a writer killed by SIGPIPE.
        Err(e) if closed_stdout(&e) => EXIT_CLOSED_STDOUT,
        Err(e) => {
            eprintln!("error: {e:#}");
            hunts_cmd::EXIT_ERROR
        }
    };
    std::process::exit(code);
}

/// Exit status when stdout was closed early (128 + SIGPIPE, as a shell reports it).
const EXIT_CLOSED_STDOUT: i32 = 141;

fn closed_stdout(e: &anyhow::Error) -> bool {
    let pipe = Some(std::io::ErrorKind::BrokenPipe);
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().map(|io| io.kind()) == pipe
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                == pipe
    })
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Query {
            data,
            query,
            params,
        } => cmd_query(&data, &query, &params),
        Command::Hunt {
            data,
            hunt_dirs,
            hunts,
            replay,
            investigation,
        } => hunts_cmd::cmd_hunt(&data, &hunt_dirs, &hunts, replay, &investigation),
        Command::Hunts { action } => hunts_cmd::cmd_hunts(action),
        Command::Ingest(args) => store_cmd::cmd_ingest(&args),
        Command::Store(args) => store_cmd::cmd_store(&args),
        Command::Ua { action } => ua_cmd::cmd_ua(&action),
        Command::Scheduler(args) => cluster_cmd::cmd_scheduler(&args),
        Command::Executor(args) => cluster_cmd::cmd_executor(&args),
        Command::Normalize {
            sources,
            s3,
            geo,
            created,
            tags,
            retain,
            blank_lines,
            strict,
            input,
        } => {
            let opts = cloudtrail::DocumentOptions {
                normalize: cloudtrail::NormalizeOptions {
                    created,
                    tags,
                    retain,
                },
                blank_lines,
                enrich: geo.enrich()?,
                limits: input.limits()?,
                keep_raw: input.errors.is_some(),
            };
            let log = input.error_log()?;
            let code = cmd_normalize(&sources, &s3, &opts, strict, log.as_deref());
            input_args::finish_log(log.as_deref(), input.errors.as_deref());
            code
        }
    }
}

/// The data a query runs on, plus what the summary needs.
struct Session {
    /// The CloudTrail data (raw files or the store).
    data: Arc<dyn Dataset>,
    /// The raw files, when that is what is read (for the summary line).
    files: Option<Arc<CloudTrailFiles>>,
    /// `data` and any lookup tables.
    datasets: Vec<Arc<dyn Dataset>>,
    started: Instant,
    quiet: bool,
    memory_limit: Option<usize>,
    timeout: Option<std::time::Duration>,
    /// `--cluster`: where the plans run.
    remote: Option<engine::remote::Remote>,
    /// `--errors`: the log and its path.
    errors: Option<(Arc<cloudtrail::ErrorLog>, PathBuf)>,
}

/// The days the queries can read, from their `@timestamp` filters, for pruning S3 listings
/// before anything is fetched. Open when there is no S3 source, with `--now latest` (NOW is
/// only known after reading), with `--no-pushdown`, or when any query is unbounded.
fn query_days(data: &DataArgs, queries: &[&str]) -> sources::DayRange {
    let open = sources::DayRange::default();
    if data.no_pushdown || !data.inputs.iter().any(|i| sources::is_s3(i)) {
        return open;
    }
    let now_ms = match data.now.as_deref() {
        None => wall_clock_ms(),
        Some(s) if s.eq_ignore_ascii_case("latest") => return open,
        Some(s) => match javatime::parse_strict_date_optional_time(s) {
            Ok(ms) => ms,
            Err(_) => return open, // reported by resolve_now
        },
    };
    datasets::query_days(queries, &engine::Params::default(), now_ms)
}

/// Prints each distinct problem with the input once, as a warning.
fn warn_reporter() -> datasets::Reporter {
    Arc::new(|d: &cloudtrail::Diagnostic| progress::suspend(|| eprintln!("warning: {d}")))
}

/// `500ms`, `30s`, `5m`, `1h`, `1d` for `flag`.
fn parse_duration(s: &str, flag: &str) -> Result<std::time::Duration> {
    s.trim()
        .strip_suffix("ms")
        .and_then(|n| n.parse::<u64>().ok().filter(|n| *n > 0))
        .or_else(|| hunts::replay::parse_interval(s).map(|ms| ms as u64))
        .map(std::time::Duration::from_millis)
        .ok_or_else(|| {
            anyhow!("{flag} {s:?}: not a duration (a number and ms, s, m, h or d, e.g. 30s or 5m)")
        })
}

pub(crate) fn open_data(data: &DataArgs, queries: &[&str]) -> Result<Session> {
    open_data_for(data, queries, true)
}

/// [`open_data`]; `all_on_cluster`: with `--cluster`, every query of the session runs on
/// the cluster, so `s3://` sources are only listed here and each executor fetches its own
/// objects. Otherwise (an investigation's pivots run here) they are fetched here.
pub(crate) fn open_data_for(
    data: &DataArgs,
    queries: &[&str],
    all_on_cluster: bool,
) -> Result<Session> {
    // Without --memory-limit, half the RAM: no input may push a query into the OOM killer.
    let memory_limit = data
        .memory_limit
        .as_deref()
        .map(|s| engine::parse_size(s).map_err(|e| anyhow!("--memory-limit: {e}")))
        .transpose()?
        .or_else(engine::default_memory_limit);
    let timeout = data
        .timeout
        .as_deref()
        .map(|s| parse_duration(s, "--timeout"))
        .transpose()?;
    let remote = data
        .cluster
        .as_deref()
        .map(|url| {
            cluster_cmd::remote(
                url,
                parse_duration(&data.cluster_timeout, "--cluster-timeout")?,
            )
        })
        .transpose()?;
    if data.inputs.is_empty() {
        // No --input: the embedded store, read through DataFusion's Parquet scan.
        let dir = datasets::store_dir(data.store.as_deref());
        let ds = Arc::new(StoreDataset::open_at(
            store::StoreLocation::parse(&dir)?,
            data.s3.options(),
        )?);
        if !data.quiet {
            eprintln!(
                "trailhunt: store {} ({} events in {} files)",
                ds.location(),
                ds.events(),
                ds.file_count()
            );
        }
        return Ok(Session {
            datasets: vec![ds.clone() as Arc<dyn Dataset>],
            data: ds,
            files: None,
            started: Instant::now(),
            // The raw-file summary does not apply; the line above said what is read.
            quiet: true,
            memory_limit,
            timeout,
            remote,
            errors: None,
        });
    }
    // The databases first: a bad path fails before anything is downloaded.
    let enrich = data.geo.enrich()?;
    let mut limits = data.input.limits()?;
    // The raw scan's share of the budget: DataFusion's pool has the other three quarters
    // (see engine::session).
    limits.scan_memory = memory_limit.map(|m| m as u64 / 4);
    let log = data.input.error_log()?;
    // Local sources and s3:// prefixes (fetched into the local cache, or listed for the
    // cluster's executors).
    let list_only = remote.is_some() && all_on_cluster;
    let (files, notes) = expand_sources_noted(
        &data.inputs,
        &data.s3,
        query_days(data, queries),
        data.quiet,
        log.as_deref(),
        list_only,
    )?;
    if data.strict {
        strict_sources(&notes)?;
    }
    let objects: std::collections::BTreeMap<_, _> = files
        .iter()
        .filter(|_| list_only)
        .filter_map(|f| {
            Some((
                f.path.clone(),
                datasets::RemoteObject {
                    url: f.origin.clone()?,
                    size: f.size?,
                },
            ))
        })
        .collect();
    let mut files = CloudTrailFiles::new(files.into_iter().map(|f| f.path).collect(), data.strict)
        .with_remote_objects(
            objects,
            datasets::S3Access {
                endpoint_url: data.s3.access.endpoint_url.clone(),
                profile: data.s3.access.profile.clone(),
            },
        )
        .with_pushdown(!data.no_pushdown)
        .with_interpreted(data.input.interpreted)
        .with_enrich(enrich)
        .with_limits(limits)
        // The structural check is paid once per file, not once per run (see
        // cloudtrail::check_cache).
        .with_saved_checks(sources::cache_root().join("structure-checks"))
        .with_source_notes(notes);
    if let Some(log) = &log {
        files = files.with_error_log(log.clone());
    }
    if !data.quiet {
        files = files.with_reporter(warn_reporter());
    }
    if let Some(o) = progress::scan_observer(data.quiet) {
        files = files.with_observer(o);
    }
    let files = Arc::new(files);
    Ok(Session {
        datasets: vec![files.clone() as Arc<dyn Dataset>],
        data: files.clone(),
        files: Some(files),
        started: Instant::now(),
        quiet: data.quiet,
        memory_limit,
        timeout,
        remote,
        errors: log.zip(data.input.errors.clone()),
    })
}

impl Session {
    /// The summary line on stderr (unless `-q`), and the `--errors` log flushed.
    fn summary(&self) {
        if let Some((log, path)) = &self.errors {
            input_args::finish_log(Some(log), Some(path));
        }
        if self.quiet {
            return;
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        let Some(files) = &self.files else { return };
        eprintln!("trailhunt: {}, {elapsed:.2}s", files.summary());
    }

    fn options(&self, now_ms: i64) -> QueryOptions {
        QueryOptions {
            now_ms,
            memory_limit: self.memory_limit,
            timeout: self.timeout,
            remote: self.remote.clone(),
            ..Default::default()
        }
    }

    fn run_with_params(
        &self,
        query: &str,
        params: &engine::Params,
        now_ms: i64,
    ) -> Result<QueryResult, EngineError> {
        engine::execute_blocking_with_params(query, params, &self.datasets, &self.options(now_ms))
    }
}

pub(crate) fn output_format(f: Option<Format>) -> Format {
    f.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Json
    })
}

/// `--now`: a timestamp, `latest`, or (absent) the wall clock.
pub(crate) fn resolve_now(session: &Session, now: Option<&str>) -> Result<i64> {
    match now {
        None => Ok(wall_clock_ms()),
        Some(s) if s.eq_ignore_ascii_case("latest") => {
            match datasets::latest_event(session.data.clone(), &session.options(wall_clock_ms()))? {
                Some(ms) => Ok(ms),
                None => bail!("--now latest: the input holds no events with a timestamp"),
            }
        }
        Some(s) => javatime::parse_strict_date_optional_time(s).map_err(|_| {
            anyhow!("invalid --now value [{s}]: expected an ISO-8601 timestamp such as 2024-08-01T00:00:00Z, or `latest`")
        }),
    }
}

fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Prints a query error the way ES words it, with the query line and a caret.
pub(crate) fn report_query_error(query: &str, e: &EngineError) {
    eprintln!("error: {e}");
    if let Some((line, col)) = e.position() {
        if let Some(text) = query.lines().nth(line - 1) {
            eprintln!("  {text}");
            eprintln!("  {}^", " ".repeat(col.saturating_sub(1)));
        }
    }
}

fn cmd_query(data: &DataArgs, query: &str, param_specs: &[String]) -> Result<i32> {
    let mut params = engine::Params::new();
    for spec in param_specs {
        params
            .add_spec(spec)
            .map_err(|e| anyhow!("--param {spec}: {e}"))?;
    }
    let mut session = open_data(data, &[query])?;
    add_lookups(&mut session, data)?;
    let now = resolve_now(&session, data.now.as_deref())?;
    let result = match session.run_with_params(query, &params, now) {
        Ok(r) => r,
        Err(e) => {
            report_query_error(query, &e);
            return Ok(1);
        }
    };
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    let mut out = std::io::stdout().lock();
    render::write(&mut out, &result, output_format(data.format))?;
    out.flush()?;
    session.summary();
    Ok(0)
}

/// Prints one ECS document per line, exactly as the pipeline built it (see
/// `cloudtrail::for_each_document`: nested objects, arrays in pipeline order). Bad inputs are
/// reported on stderr by path and line and do not stop the run unless `--strict`.
fn cmd_normalize(
    srcs: &[OsString],
    s3: &S3Args,
    opts: &cloudtrail::DocumentOptions,
    strict: bool,
    log: Option<&cloudtrail::ErrorLog>,
) -> Result<i32> {
    let (files, notes) =
        expand_sources_noted(srcs, s3, sources::DayRange::default(), false, log, false)?;
    if strict {
        strict_sources(&notes)?;
    }
    let files: Vec<PathBuf> = files.into_iter().map(|f| f.path).collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut bad = 0u64;
    let mut result: Result<()> = Ok(());
    cloudtrail::for_each_document(&files, opts, |item| match item {
        Ok(doc) => {
            if result.is_ok() {
                result = serde_json::to_writer(&mut out, &doc)
                    .context("writing output")
                    .and_then(|_| writeln!(out).context("writing output"));
            }
            // Stop reading once output fails (a closed pipe): nothing more can be written.
            result.is_ok()
        }
        Err(d) => {
            bad += 1;
            eprintln!("warning: {d}");
            if let Some(log) = log {
                log.diagnostic(&d);
            }
            !strict
        }
    });
    result?;
    out.flush()?;
    if strict && bad > 0 {
        bail!("{bad} bad input(s) (--strict)");
    }
    Ok(0)
}
