//! Progress bars for long work — raw scans, S3 downloads, ingest — drawn with `indicatif` on
//! stderr, and only when stderr is a terminal: piped or redirected output (and `--no-progress`,
//! `-q`, `TERM=dumb`) gets no bar and no `\r` at all, so logs and `--format json` consumers see
//! exactly what they saw before. stdout is never touched. Each bar is cleared when its work
//! ends, so the table printed next starts on a clean line.
//!
//! The library crates only report (`cloudtrail::ScanObserver`, `store::ProgressFn`,
//! `sources::ExpandOptions::{report, downloaded}`); everything about drawing lives here.

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Whether bars may be drawn at all (set once by [`init`]).
static ENABLED: OnceLock<bool> = OnceLock::new();

/// The bar on screen, so that warnings printed meanwhile go above it ([`suspend`]).
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// A raw scan shows its bar only once it has run this long: most queries over a case folder
/// finish sooner, and a bar flashing for every query of a hunt run helps nobody.
const SCAN_REVEAL_AFTER: Duration = Duration::from_millis(250);

/// Decides, once per process, whether progress bars are drawn: not with `--no-progress`,
/// not when stderr is not a terminal, not on a dumb terminal.
pub fn init(no_progress: bool) {
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    let on = !no_progress && !dumb && std::io::stderr().is_terminal();
    let _ = ENABLED.set(on);
}

fn enabled(quiet: bool) -> bool {
    !quiet && ENABLED.get().copied().unwrap_or(false)
}

/// Runs `f` (which prints to stderr) with the current bar, if any, taken off the screen.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let bar = ACTIVE.lock().ok().and_then(|a| a.clone());
    match bar {
        Some(b) => b.suspend(f),
        None => f(),
    }
}

/// `ingest 12/569 files [=====>    ] 1.2 MiB/8.4 MiB ETA 3s · 1,234 events, 4,321/s`: what
/// is done first, the rate last (`wide_msg` is cut to the terminal's width, so the line never
/// wraps). `NO_COLOR` (any non-empty value, <https://no-color.org>) gets it uncoloured.
fn style() -> ProgressStyle {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let template = if no_color {
        "{spinner} {prefix} [{bar:20}] {bytes}/{total_bytes} ETA {eta} {wide_msg}"
    } else {
        "{spinner:.green} {prefix:.bold} [{bar:20.cyan/blue}] {bytes}/{total_bytes} ETA {eta} {wide_msg}"
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// One bar on stderr, registered as the [`ACTIVE`] one and cleared when dropped.
struct Bar(ProgressBar, &'static str);

impl Bar {
    fn new(label: &'static str, total_bytes: u64, visible: bool) -> Bar {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total_bytes), target);
        bar.set_style(style());
        bar.set_prefix(label);
        if visible {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        if let Ok(mut a) = ACTIVE.lock() {
            *a = Some(bar.clone());
        }
        Bar(bar, label)
    }

    /// `12/569 files`, and the events with their rate.
    fn show(&self, done: usize, total: usize, unit: &str, events: Option<(u64, f64)>) {
        self.0.set_prefix(format!(
            "{} {}/{} {unit}",
            self.1,
            HumanCount(done as u64),
            HumanCount(total as u64)
        ));
        if let Some((events, secs)) = events {
            let rate = if secs > 0.0 {
                (events as f64 / secs) as u64
            } else {
                0
            };
            self.0.set_message(format!(
                "· {} events, {}/s",
                HumanCount(events),
                HumanCount(rate)
            ));
        }
    }

    fn reveal(&self) {
        if self.0.is_hidden() {
            self.0.set_draw_target(ProgressDrawTarget::stderr());
            self.0.enable_steady_tick(Duration::from_millis(200));
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
        if let Ok(mut a) = ACTIVE.lock() {
            *a = None;
        }
    }
}

/// A raw scan's bar: one per scan (each query of a hunt scans the files again).
struct ScanBar {
    state: Mutex<Option<ScanState>>,
}

struct ScanState {
    bar: Bar,
    files: usize,
    done: usize,
    records: u64,
    started: Instant,
}

impl cloudtrail::ScanObserver for ScanBar {
    fn started(&self, files: usize, bytes: u64) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        // Drop the previous bar (if a scan was never finished) before registering a new one.
        *state = None;
        if files == 0 {
            return;
        }
        let bar = Bar::new("scan", bytes, false);
        bar.show(0, files, "files", Some((0, 0.0)));
        *state = Some(ScanState {
            bar,
            files,
            done: 0,
            records: 0,
            started: Instant::now(),
        });
    }

    fn file_done(&self, file: &cloudtrail::FileDone) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let Some(s) = state.as_mut() else { return };
        s.done += 1;
        s.records += file.records;
        s.bar.0.inc(file.bytes);
        let secs = s.started.elapsed().as_secs_f64();
        s.bar
            .show(s.done, s.files, "files", Some((s.records, secs)));
        if s.started.elapsed() >= SCAN_REVEAL_AFTER && s.done < s.files {
            s.bar.reveal();
        }
    }

    fn finished(&self, _stats: &cloudtrail::ScanStats) {
        if let Ok(mut state) = self.state.lock() {
            *state = None;
        }
    }
}

/// The observer for raw scans, or `None` when no bar is drawn (the scan then does no
/// progress work at all).
pub fn scan_observer(quiet: bool) -> Option<Arc<dyn cloudtrail::ScanObserver>> {
    enabled(quiet).then(|| {
        Arc::new(ScanBar {
            state: Mutex::new(None),
        }) as Arc<dyn cloudtrail::ScanObserver>
    })
}

/// The bar of `s3://` downloads, over every prefix of one expansion; cleared when dropped.
pub struct Downloads {
    on: bool,
    state: Mutex<Option<DownloadState>>,
}

struct DownloadState {
    bar: Bar,
    objects: usize,
    done: usize,
}

impl Downloads {
    pub fn new(quiet: bool) -> Downloads {
        Downloads {
            on: enabled(quiet),
            state: Mutex::new(None),
        }
    }

    /// A prefix was listed: its objects not in the cache are added to the bar.
    pub fn listed(&self, f: &sources::Fetched) {
        if !self.on || f.to_download == 0 {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let s = state.get_or_insert_with(|| DownloadState {
            bar: Bar::new("s3", 0, true),
            objects: 0,
            done: 0,
        });
        s.objects += f.to_download;
        s.bar.0.inc_length(f.download_bytes);
        s.bar.show(s.done, s.objects, "objects", None);
    }

    pub fn downloaded(&self, d: &sources::Downloaded) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if let Some(s) = state.as_mut() {
            s.done += 1;
            s.bar.0.inc(d.bytes);
            s.bar.show(s.done, s.objects, "objects", None);
        }
    }
}

/// The ingest callback drawing a bar, or `None` when no bar is drawn.
pub fn ingest_progress(quiet: bool) -> Option<store::ProgressFn> {
    if !enabled(quiet) {
        return None;
    }
    let mut bar: Option<Bar> = None;
    Some(Box::new(move |p: &store::Progress| {
        if p.finished || p.files_total == 0 {
            bar = None;
            return;
        }
        let b = bar.get_or_insert_with(|| Bar::new("ingest", p.bytes_total, true));
        b.0.set_position(p.bytes_done);
        b.show(
            p.files_done,
            p.files_total,
            "files",
            Some((p.records, p.elapsed_secs)),
        );
    }))
}
