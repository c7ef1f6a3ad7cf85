//! Progress bars: never when stderr is not a terminal (as here, and in every pipeline and
//! log), so query, hunt, ingest and normalize print exactly what they printed before; on a
//! terminal (a pseudo-terminal from `script`), ingest draws its bar and clears it, and
//! `--no-progress` turns it off.

use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;
use common::{text, th, workspace};

fn sample() -> String {
    workspace().join("sample/AWSLogs").display().to_string()
}

const SEED: &str = "multiple_service_logging_deleted_or_stopped";
const COUNT: &str = "FROM logs-aws.cloudtrail* | STATS n = COUNT(*) BY event.provider | SORT n DESC, event.provider | LIMIT 3";

/// Nothing a bar would leave: no carriage return, no escape sequence, no bar or ETA.
#[track_caller]
fn assert_no_progress(what: &str, o: &Output) {
    let err = text(&o.stderr);
    for mark in ["\r", "\x1b", "ETA", "=>", "█", "events, "] {
        assert!(
            !err.contains(mark),
            "{what}: stderr shows progress ({mark:?}):\n{err}"
        );
    }
    assert!(
        !text(&o.stdout).contains('\r'),
        "{what}: stdout has a carriage return"
    );
}

#[test]
fn nothing_progress_like_when_stderr_is_not_a_terminal() {
    let input = sample();
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store").display().to_string();
    let runs: Vec<(&str, Vec<&str>)> = vec![
        (
            "query",
            vec!["query", "-i", &input, "--format", "json", COUNT],
        ),
        (
            "hunt",
            vec![
                "hunt",
                "-i",
                &input,
                "--now",
                "2024-08-02T00:00:00Z",
                "--format",
                "json",
                SEED,
            ],
        ),
        ("ingest", vec!["ingest", &input, "--store", &store]),
        (
            "query --store",
            vec!["query", "--store", &store, "--format", "json", COUNT],
        ),
        (
            "normalize",
            vec!["normalize", "--created", "2024-08-02T00:00:00.000Z", &input],
        ),
    ];
    for (what, args) in &runs {
        let o = th(args);
        assert!(
            o.status.code().is_some_and(|c| c <= 1),
            "{what}: {}",
            text(&o.stderr)
        );
        assert_no_progress(what, &o);
        // `--no-progress` is accepted by every command and changes nothing on stdout.
        let mut quiet = args.clone();
        quiet.insert(1, "--no-progress");
        let q = th(&quiet);
        assert_eq!(q.status.code(), o.status.code(), "{what} --no-progress");
        assert_no_progress(what, &q);
        assert!(
            q.stdout == o.stdout,
            "{what}: stdout changed with --no-progress ({} vs {} bytes)",
            q.stdout.len(),
            o.stdout.len()
        );
    }
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { count_files(&p) } else { 1 })
        .sum()
}

/// Runs the built binary on a pseudo-terminal (util-linux `script`), stdout and stderr both
/// to it; `None` (a skip) when `script` is missing.
fn on_terminal(args: &[&str], env: &[(&str, &str)]) -> Option<String> {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let cmd = std::iter::once(env!("CARGO_BIN_EXE_trailhunt"))
        .chain(args.iter().copied())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ");
    let mut c = Command::new("script");
    c.args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .current_dir(workspace())
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env(
            "TRAILHUNT_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-library"),
        )
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let o = match c.output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("skipped: cannot run util-linux `script` for a pseudo-terminal: {e}");
            return None;
        }
    };
    assert!(o.status.success(), "{cmd}: {}", text(&o.stdout));
    Some(text(&o.stdout))
}

#[test]
fn ingest_on_a_terminal_draws_a_bar_and_clears_it() {
    let input = sample();
    let tmp = tempfile::tempdir().unwrap();
    let store = |n: &str| tmp.path().join(n).display().to_string();

    let (a, b, c) = (store("a"), store("b"), store("c"));
    let Some(shown) = on_terminal(&["ingest", &input, "--store", &a], &[]) else {
        return;
    };
    assert!(shown.contains("ingest"), "{shown}");
    let start = format!("ingest 0/{} files", count_files(Path::new(&input)));
    assert!(shown.contains(&start), "no bar ({start}):\n{shown:?}");
    assert!(shown.contains("ETA"), "{shown:?}");
    assert!(shown.contains(" events, "), "{shown:?}");
    // Cleared (erase-line) before the summary, which starts on a clean line.
    let summary = shown.find("trailhunt: ingested").expect("the summary");
    assert!(shown[..summary].contains("\x1b[2K"), "{shown:?}");

    // NO_COLOR: the same bar without colours.
    let plain = on_terminal(&["ingest", &input, "--store", &b], &[("NO_COLOR", "1")]).unwrap();
    assert!(plain.contains(&format!("{start} [")), "{plain:?}");
    assert!(
        !plain.contains("\x1b[3"),
        "coloured despite NO_COLOR: {plain:?}"
    );

    // --no-progress: the summary only.
    let off = on_terminal(&["ingest", "--no-progress", &input, "--store", &c], &[]).unwrap();
    assert!(off.contains("trailhunt: ingested"), "{off}");
    assert!(!off.contains(&start), "{off:?}");
    assert!(!off.contains('\x1b'), "{off:?}");
}
