//! `trailhunt hunt` and `trailhunt hunts …`: which hunts to run, over which data, and the
//! exit code; running is `hunts::Runner`'s, printing is `hunt_out`'s.

use crate::render::Format;
use crate::{
    add_lookups, hunt_out, investigate_out, open_data_for, output_format, report_query_error,
    resolve_now, DataArgs, HuntsAction,
};
use anyhow::{anyhow, bail, Result};
use std::io::Write;
use std::path::PathBuf;

/// The hunts trailhunt knows: built-in, then the installed library (`hunts update`), then
/// each `--hunts DIR` (a later copy of the same hunt wins).
fn library(dirs: &[PathBuf]) -> Result<hunts::Library> {
    let mut lib = hunts::Library::new();
    let home = hunts::install::home()?;
    let installed = hunts::install::library_dir(&home);
    if installed.is_dir() {
        for e in lib.add_installed(&installed) {
            eprintln!("warning: {e}");
        }
    }
    for d in dirs {
        if !d.exists() {
            bail!("--hunts {}: no such directory", d.display());
        }
        for e in lib.add_dir(d) {
            eprintln!("warning: {e}");
        }
    }
    Ok(lib)
}

/// Exit codes of `hunt` (grep's convention): something fired, nothing fired, errors.
pub(crate) const EXIT_FIRED: i32 = 0;
pub(crate) const EXIT_NOTHING: i32 = 1;
pub(crate) const EXIT_ERROR: i32 = 2;

/// `--investigate` and the report: run each finding's pivots and judge it.
#[derive(clap::Args, Debug, Default)]
pub(crate) struct InvestigateArgs {
    /// For every finding, run the hunt's pivots (the calls behind it, the same resource
    /// before and after, the principal's identity, origins and other calls) and give a
    /// verdict: likely tampering, likely maintenance, unclear, or a refused attempt.
    #[arg(long)]
    pub investigate: bool,
    /// Also write the investigation as one self-contained HTML file (implies
    /// --investigate). `--format markdown` prints the same content on stdout.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// How far around a finding's calls its principal's activity is examined (30m, 1h, 1d).
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub window: String,
    /// An address, network, country or user agent the principal first used less than this
    /// before a finding (or never before it) counts as new.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub recent: String,
    /// Rows investigated per query; the others are listed as not investigated.
    #[arg(long, value_name = "N", default_value_t = investigate::DEFAULT_MAX_FINDINGS)]
    pub max_findings: usize,
}

impl InvestigateArgs {
    fn enabled(&self) -> bool {
        self.investigate || self.report.is_some()
    }

    fn options(&self) -> Result<investigate::Options> {
        let window_ms = hunts::replay::parse_interval(&self.window).ok_or_else(|| {
            anyhow!(
                "--window {:?}: not a duration (a number and s, m, h, d or w, e.g. 30m or 1h)",
                self.window
            )
        })?;
        let recent_ms = hunts::replay::parse_interval(&self.recent).ok_or_else(|| {
            anyhow!(
                "--recent {:?}: not a duration (a number and s, m, h, d or w, e.g. 24h or 7d)",
                self.recent
            )
        })?;
        Ok(investigate::Options {
            window_ms,
            recent_ms,
            max_findings: self.max_findings,
        })
    }
}

pub(crate) fn cmd_hunt(
    data: &DataArgs,
    dirs: &[PathBuf],
    keys: &[String],
    replay: bool,
    inv: &InvestigateArgs,
) -> Result<i32> {
    let inv_opts = if inv.enabled() {
        Some(inv.options()?)
    } else {
        None
    };
    let lib = library(dirs)?;
    let selected: Vec<hunts::Hunt> = if keys.is_empty() {
        lib.for_cloudtrail().into_iter().cloned().collect()
    } else {
        keys.iter()
            .map(|k| lib.resolve(k).map_err(|e| anyhow!("{e}")))
            .collect::<Result<_>>()?
    };
    if selected.is_empty() {
        bail!("no ES|QL hunts or rules for CloudTrail to run: give a HUNT, --hunts DIR, or run `trailhunt hunts update` once");
    }
    let queries: Vec<&str> = selected
        .iter()
        .filter(|h| h.is_esql())
        .flat_map(|h| h.esql_queries().into_iter().map(|(_, q)| q))
        .collect();
    // An investigation's pivots run here, on what the client has read.
    let mut session = open_data_for(data, &queries, inv_opts.is_none())?;
    add_lookups(&mut session, data)?;
    let now = resolve_now(&session, data.now.as_deref())?;
    let format = output_format(data.format);
    let runner = hunts::Runner::new(
        session.data.clone(),
        session.datasets[1..].to_vec(),
        session.options(now),
    );
    let mut stdout = std::io::stdout().lock();
    // With an investigation, Markdown output is the report itself (printed at the end).
    let mut discard = std::io::sink();
    let report_markdown = inv_opts.is_some() && format == Format::Markdown;
    let out: &mut dyn Write = if report_markdown {
        &mut discard
    } else {
        &mut stdout
    };
    let mut output = hunt_out::HuntOutput::new(out, format);
    let mut investigated = investigate_out::Collected::default();
    // Pivots run many queries over the same data: over raw files, through an in-memory
    // copy of the columns they read (read in one pass when the first finding needs them;
    // the store is used as it is).
    let pivot_queries: Vec<String> = selected
        .iter()
        .flat_map(|h| h.pivots.iter().map(|p| p.query.clone()))
        .collect();
    let pivot_queries: Vec<&str> = pivot_queries.iter().map(String::as_str).collect();
    let mut pivot_runner: Option<hunts::Runner> = None;
    let mut written: Result<()> = Ok(());
    let (rules, plain): (Vec<hunts::Hunt>, Vec<hunts::Hunt>) = if replay {
        selected.into_iter().partition(|h| h.rule().is_some())
    } else {
        (Vec::new(), selected)
    };
    runner.run(&plain, |event| {
        if written.is_err() {
            return;
        }
        written = match event {
            hunts::Event::NotEsql(hunt) => output.not_esql(hunt),
            hunts::Event::Query(run) => {
                report_run(&run);
                let shown = output.query(&run);
                match (&inv_opts, shown) {
                    (Some(opts), Ok(())) => {
                        let needed = run.result.as_ref().is_ok_and(|r| !r.rows.is_empty())
                            && !run.hunt.pivots.is_empty();
                        if needed && pivot_runner.is_none() {
                            match runner.snapshot_for(&pivot_queries) {
                                Ok(r) => pivot_runner = Some(r),
                                Err(e) => {
                                    return written =
                                        Err(anyhow!("reading the data for the pivots: {e}"))
                                }
                            }
                        }
                        let inv =
                            investigated.add(pivot_runner.as_ref().unwrap_or(&runner), &run, opts);
                        investigate_out::show(&mut output, &run, inv)
                    }
                    (_, shown) => shown,
                }
            }
        };
    });
    written?;
    // Replays run each rule hundreds of times: over raw files, read them once.
    let replayer = if rules.is_empty() {
        None
    } else {
        Some(runner.snapshot()?)
    };
    for rule in &rules {
        let Some(replayer) = &replayer else { break };
        if !rule.is_esql() {
            output.not_esql(rule)?;
            continue;
        }
        let run = replayer
            .replay(rule)
            .map_err(|e| anyhow!("{}: {e}", rule.stem))?;
        if let Some(e) = &run.error {
            eprintln!("rule {} ({}):", rule.stem, rule.name);
            if let Some((_, q)) = rule.esql_queries().first() {
                report_query_error(q, e);
            }
        }
        output.replay(&run)?;
    }
    let totals = output.finish()?;
    if inv_opts.is_some() {
        let report = investigate_out::report(&investigated, data, now, &inv.window);
        if report_markdown {
            stdout.write_all(report::markdown(&report).as_bytes())?;
        }
        if let Some(path) = &inv.report {
            std::fs::write(path, report::html(&report))
                .map_err(|e| anyhow!("--report {}: {e}", path.display()))?;
            eprintln!("report written to {}", path.display());
        }
    }
    session.summary();
    Ok(match totals.outcome() {
        hunts::Outcome::Fired => EXIT_FIRED,
        hunts::Outcome::Nothing => EXIT_NOTHING,
        hunts::Outcome::Errors => EXIT_ERROR,
    })
}

/// What stderr says about one query as it finishes: its error with a caret, warnings,
/// and why an empty result may only be a wrong `--now`.
fn report_run(run: &hunts::QueryRun) {
    let hunt = run.hunt;
    match &run.result {
        Err(e) => {
            eprintln!(
                "hunt {} ({}), query {}:",
                hunt.stem,
                hunt.name,
                run.index + 1
            );
            report_query_error(run.query, e);
        }
        Ok(result) => {
            for w in &result.warnings {
                eprintln!("warning: {w}");
            }
            if let Some(empty) = run.empty.filter(|e| e.looks_like_replay()) {
                eprintln!("note: {} returned no rows, but {empty}", hunt.stem);
            }
        }
    }
}

pub(crate) fn cmd_hunts(action: HuntsAction) -> Result<i32> {
    match action {
        HuntsAction::List {
            hunt_dirs,
            platform,
            technique,
            keyword,
        } => {
            let lib = library(&hunt_dirs)?;
            let mut out = std::io::stdout().lock();
            let filter = hunts::Filter {
                platform,
                technique,
                keyword,
            };
            for h in lib.hunts().iter().filter(|h| filter.matches(h)) {
                let kind = if h.rule().is_some() { "rule" } else { "hunt" };
                let lang = h.language.join(",");
                writeln!(
                    out,
                    "{:<60} {:<4} {:<8} {:<10} {:<18} {}",
                    h.stem,
                    kind,
                    lang,
                    lib.provenance(h),
                    h.mitre.join(","),
                    h.name
                )?;
            }
            Ok(0)
        }
        HuntsAction::Show {
            hunt_dirs,
            hunts: keys,
        } => {
            let lib = library(&hunt_dirs)?;
            let mut out = std::io::stdout().lock();
            for k in keys {
                let h = lib.resolve(&k).map_err(|e| anyhow!("{e}"))?;
                write!(out, "{}", hunts::markdown(&h))?;
            }
            Ok(0)
        }
        HuntsAction::Lint { hunt_dirs, paths } => cmd_lint(&hunt_dirs, &paths),
        HuntsAction::Update { from } => cmd_update(from.as_deref()),
    }
}

/// `hunts lint [PATH…]`: the findings of every ES|QL query, `file:line:col` first so editors
/// jump to them; with no PATH, the whole library. Exit 0 clean, 1 findings, 2 errors.
fn cmd_lint(dirs: &[PathBuf], paths: &[PathBuf]) -> Result<i32> {
    let mut errors = 0;
    let lib = if paths.is_empty() {
        library(dirs)?
    } else {
        let mut lib = hunts::Library::empty();
        for p in paths {
            let errs = if p.is_dir() {
                lib.add_dir(p)
            } else {
                lib.add_file(p)
            };
            for e in errs {
                eprintln!("error: {e}");
                errors += 1;
            }
        }
        lib
    };
    let mut out = std::io::stdout().lock();
    let mut findings = 0;
    for h in lib.hunts() {
        for f in hunts::lint::lint_hunt(h) {
            findings += 1;
            // Positions are in the query text; the file position of a TOML string is not
            // kept, so the hunt and query number lead the line.
            let fix = f
                .finding
                .fix
                .as_ref()
                .map_or(String::new(), |x| format!("\n    fix: {x}"));
            writeln!(
                out,
                "{} [query {}] {}:{}: {} [{}]{fix}",
                h.origin,
                f.query + 1,
                f.finding.line,
                f.finding.column,
                f.finding.message,
                f.finding.code
            )?;
        }
    }
    for group in lib.duplicate_uuids() {
        findings += 1;
        let files: Vec<String> = group.iter().map(|h| h.origin.to_string()).collect();
        writeln!(
            out,
            "duplicate UUID {}: {}",
            group[0].uuid,
            files.join(", ")
        )?;
    }
    eprintln!(
        "{} hunts and rules checked: {findings} finding(s)",
        lib.hunts().len()
    );
    Ok(if errors > 0 {
        EXIT_ERROR
    } else if findings > 0 {
        1
    } else {
        0
    })
}

fn cmd_update(from: Option<&str>) -> Result<i32> {
    let source = match from {
        Some(s) => hunts::install::UpdateSource::parse(s),
        None => hunts::install::UpdateSource::Url(hunts::install::DEFAULT_URL.to_string()),
    };
    let home = hunts::install::home()?;
    eprintln!(
        "trailhunt: installing the hunting library from {source} into {}",
        home.display()
    );
    let installed = hunts::install::update(&source, &home)?;
    for w in &installed.warnings {
        eprintln!("warning: {w}");
    }
    let m = &installed.manifest;
    writeln!(
        std::io::stdout(),
        "installed {} hunts and {} ES|QL rules into {} from {} (commit {}, {})",
        m.hunts,
        m.rules,
        installed.library.display(),
        m.source,
        m.commit.as_deref().unwrap_or("unknown"),
        m.commit_date.as_deref().unwrap_or("date unknown")
    )?;
    Ok(0)
}
