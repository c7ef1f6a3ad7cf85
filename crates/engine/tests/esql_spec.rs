//! Elastic's own ES|QL conformance tests (`../shared/esql-spec/*.csv-spec`) run against our
//! engine: each block's query over the test data sets, comparing column names and types,
//! rows (ordered unless `ignoreOrder:true`) and the block's warnings (`warning:` /
//! `warningRegex:` lines, checked for every block).
//!
//! Run: `cargo test -p engine --test esql_spec` (add `-- --nocapture` to see the output of a
//! passing run). Prints every failing block with its reason, a line per file, then
//! `esql-spec: P passed, F failed, S skipped`. With `ESQL_SPEC_VERBOSE=1` also each failure's
//! query and row diff, and every skip; `ESQL_SPEC_FILE=<stem>` runs one file.
//!
//! Every block's outcome is committed in [`EXPECTATIONS`] (`esql_spec.expected`: block name,
//! pass/fail/skip, reason, and what the block needs — required capabilities, the ES versions
//! its `#[skip:…]` marker excludes, the ES line of the spec file when it is older than the
//! rest). Any difference — a block newly passing, newly failing, a different reason — fails
//! the test with a diff; after checking it, regenerate with
//! `TRAILHUNT_UPDATE_EXPECTATIONS=1 cargo test -p engine --test esql_spec`. The file holds
//! names and outcomes only, never Elastic's query text (ELv2, see `../shared/esql-spec/README.md`).
//!
//! Skips are only for data sets that are not present, features out of scope (full-text,
//! spatial, date_nanos, FORK, …) and `-Ignore` blocks. Without `../shared/esql-spec` the test
//! says so on stderr and passes, or fails under `TRAILHUNT_REQUIRE_SHARED=1` (`testkit`).

use engine::{Dataset, QueryOptions, Value};
use esql::DataType;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The committed per-block outcomes, next to this file.
const EXPECTATIONS: &str = "tests/esql_spec.expected";

/// Spec files stored from an older ES line than the rest (`../shared/esql-spec/README.md`):
/// their blocks may expect older behaviour (version skew), listed per block in the file.
const OLDER_SPECS: &[(&str, &str)] = &[
    ("eval", "8.11"),
    ("string", "8.11"),
    ("ints", "8.13"),
    ("date", "8.15"),
    ("row", "8.10"),
];

// ---- data sets -------------------------------------------------------------------------

/// A csv-spec data set, through the engine's one CSV reader (the one `--lookup` uses).
fn load_dataset(name: &str, csv: &Path, overrides: &[(&str, &str)]) -> Option<Arc<dyn Dataset>> {
    let opts = engine::lookup::CsvOptions {
        type_overrides: overrides,
        sort_columns: true, // FROM lists columns sorted by name.
    };
    match engine::lookup::read_csv(name, csv, &opts) {
        Ok(t) => Some(Arc::new(t)),
        Err(e) => {
            eprintln!("data set {name} not loaded: {e}");
            None
        }
    }
}

fn datasets(dir: &Path) -> BTreeMap<String, Arc<dyn Dataset>> {
    let d = dir.join("data");
    let mut out = BTreeMap::new();
    let mut add = |name: &str, file: &str, overrides: &[(&str, &str)]| {
        if let Some(ds) = load_dataset(name, &d.join(file), overrides) {
            out.insert(name.to_string(), ds);
        }
    };
    add("employees", "employees.csv", &[]);
    add("hosts", "hosts.csv", &[]);
    add(
        "hosts_ip_is_kwd",
        "hosts.csv",
        &[("ip0", "keyword"), ("ip1", "keyword")],
    );
    add("apps", "apps.csv", &[]);
    add("apps_short", "apps.csv", &[("id", "short")]);
    add("ul_logs", "ul_logs.csv", &[]);
    add("sample_data", "sample_data.csv", &[]);
    add(
        "sample_data_str",
        "sample_data.csv",
        &[("client_ip", "keyword")],
    );
    add("mv_sample_data", "mv_sample_data.csv", &[]);
    add("addresses", "addresses.csv", &[]);
    add("languages", "languages.csv", &[]);
    add("languages_lookup", "languages.csv", &[]);
    out
}

// ---- csv-spec blocks -------------------------------------------------------------------

#[derive(Debug, Default)]
struct Block {
    name: String,
    /// The ES version range of the name's `#[skip:<range>, reason:…]` marker.
    skip_versions: Option<String>,
    capabilities: Vec<String>,
    query: String,
    header: Vec<(String, String)>,
    rows: Vec<Vec<String>>,
    warnings: Vec<String>,
    warning_regexes: Vec<String>,
    ignore_order: bool,
}

fn parse_spec(text: &str) -> Vec<Block> {
    let mut blocks = vec![];
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with('#'));
    while let Some(name) = lines.next() {
        let mut b = Block {
            name: name.split("#[").next().unwrap_or(name).trim().to_string(),
            skip_versions: name.split_once("#[skip:").map(|(_, rest)| {
                rest.split([',', ']'])
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string()
            }),
            ..Default::default()
        };
        let mut query_lines: Vec<String> = vec![];
        for line in lines.by_ref() {
            let lower = line.to_ascii_lowercase();
            if query_lines.is_empty() && lower.starts_with("required_capability:") {
                b.capabilities
                    .push(line["required_capability:".len()..].trim().to_string());
                continue;
            }
            if query_lines.is_empty()
                && (lower.starts_with("skip_flattened_rewrite:")
                    || lower.starts_with("request_stored:"))
            {
                continue;
            }
            if let Some(body) = line.strip_suffix(';') {
                if let Some(esc) = body.strip_suffix('\\') {
                    query_lines.push(format!("{esc};"));
                    continue;
                }
                query_lines.push(body.to_string());
                break;
            }
            query_lines.push(line.to_string());
        }
        b.query = query_lines.join("\r\n");
        let mut header_seen = false;
        for line in lines.by_ref() {
            if line.starts_with(';') {
                break;
            }
            if let Some(w) = line.strip_prefix("warningRegex:") {
                b.warning_regexes.push(w.trim().to_string());
            } else if let Some(w) = line.strip_prefix("warning:") {
                b.warnings.push(w.to_string());
            } else if line.to_ascii_lowercase().starts_with("ignoreorder:") {
                b.ignore_order = line.to_ascii_lowercase().ends_with("true");
            } else if !header_seen {
                header_seen = true;
                b.header = split_cells(line)
                    .iter()
                    .map(|c| match c.rsplit_once(':') {
                        Some((n, t)) => (n.trim().to_string(), t.trim().to_string()),
                        None => (c.trim().to_string(), String::new()),
                    })
                    .collect();
            } else {
                b.rows.push(split_cells(line));
            }
        }
        blocks.push(b);
    }
    blocks
}

/// Splits a result line on `|` outside quotes and brackets.
fn split_cells(line: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let (mut quoted, mut depth) = (false, 0);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            '[' if !quoted => {
                depth += 1;
                cur.push(c);
            }
            ']' if !quoted => {
                depth -= 1;
                cur.push(c);
            }
            '|' if !quoted && depth == 0 => out.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

fn header_type(t: &str) -> DataType {
    match t.to_ascii_lowercase().as_str() {
        "i" | "int" | "integer" => DataType::Integer,
        "l" | "long" => DataType::Long,
        "d" | "double" => DataType::Double,
        "s" | "string" | "keyword" => DataType::Keyword,
        "txt" | "text" => DataType::Text,
        "bool" | "boolean" => DataType::Boolean,
        "date" | "datetime" => DataType::Date,
        "ip" => DataType::Ip,
        "version" => DataType::Version,
        "ul" | "unsigned_long" => DataType::UnsignedLong,
        "null" => DataType::Null,
        _ => DataType::Unsupported,
    }
}

/// A comparable rendering of a value of type `t`.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Cell {
    Null,
    Num(f64),
    Text(String),
    Many(Vec<Cell>),
}

fn expected_cell(text: &str, t: DataType) -> Cell {
    let s = text.trim();
    if s.eq_ignore_ascii_case("null") {
        return Cell::Null;
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        let items: Vec<Cell> = split_list(inner)
            .iter()
            .map(|x| expected_cell(x, t))
            .collect();
        return if items.len() == 1 {
            items.into_iter().next().unwrap_or(Cell::Null)
        } else {
            Cell::Many(items)
        };
    }
    let unq = s
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s);
    scalar_cell(unq, t)
}

fn split_list(inner: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quoted = false;
    for c in inner.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn scalar_cell(s: &str, t: DataType) -> Cell {
    match t {
        DataType::Integer | DataType::Long | DataType::UnsignedLong | DataType::Double => s
            .trim()
            .parse::<f64>()
            .map(Cell::Num)
            .unwrap_or_else(|_| Cell::Text(s.to_string())),
        DataType::Date => javatime::parse_strict_date_optional_time(s.trim())
            .map(|ms| Cell::Num(ms as f64))
            .unwrap_or_else(|_| Cell::Text(s.to_string())),
        DataType::Ip => Cell::Text(
            engine::functions::convert::parse_ip(s.trim()).unwrap_or_else(|| s.to_string()),
        ),
        DataType::Boolean => Cell::Text(s.trim().to_ascii_lowercase()),
        _ => Cell::Text(s.to_string()),
    }
}

fn actual_cell(v: &Value) -> Cell {
    match v {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Text(b.to_string()),
        Value::Int(i) => Cell::Num(*i as f64),
        Value::Long(l) => Cell::Num(*l as f64),
        Value::UnsignedLong(u) => Cell::Num(*u as f64),
        Value::Double(d) => Cell::Num(*d),
        Value::Str(s) => Cell::Text(s.clone()),
        Value::Date(ms) => Cell::Num(*ms as f64),
        Value::Multi(vs) => Cell::Many(vs.iter().map(actual_cell).collect()),
    }
}

/// How ES writes a warning into an HTTP `Warning` header.
fn header_escape(w: &str) -> String {
    w.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%25")
}

/// Features out of scope for now (issue: full-text, spatial, date_nanos, FORK, …).
fn out_of_scope(b: &Block) -> Option<String> {
    let q = b.query.to_ascii_lowercase();
    for cap in &b.capabilities {
        let c = cap.to_ascii_lowercase();
        for word in [
            "spatial",
            "date_nanos",
            "semantic",
            "fork",
            "change_point",
            "match_operator",
            "match_function",
            "qstr",
            "kql",
            "full_text",
            "metrics",
            "time_series",
            "geo",
            "cartesian",
            "fuse",
            "rerank",
            "completion",
            "inline_stats",
            "inlinestats",
        ] {
            if c.contains(word) {
                return Some(format!("capability {cap} is out of scope"));
            }
        }
    }
    for (needle, what) in [
        ("match(", "full-text MATCH"),
        ("qstr(", "full-text QSTR"),
        ("kql(", "full-text KQL"),
        ("to_geo", "spatial types"),
        ("to_cartesian", "spatial types"),
        ("date_nanos", "date_nanos"),
        ("| fork", "FORK"),
        ("change_point", "CHANGE_POINT"),
        ("set ", "SET query settings"),
        (
            "| enrich",
            "ENRICH policy data (not in the shared test data)",
        ),
    ] {
        // `set ` only counts as the SET prefix at the start of the query.
        let applies = if needle == "set " {
            q.trim_start().starts_with(needle)
        } else {
            q.contains(needle)
        };
        if applies {
            return Some(format!("{what} is out of scope"));
        }
    }
    if regex::Regex::new(r"(?i)\bst_[a-z_]+\s*\(")
        .unwrap()
        .is_match(&b.query)
    {
        return Some("spatial functions are out of scope".into());
    }
    if b.header.iter().any(|(_, t)| {
        matches!(
            t.as_str(),
            "geo_point" | "cartesian_point" | "geo_shape" | "cartesian_shape" | "date_nanos"
        )
    }) {
        return Some("spatial/date_nanos result types are out of scope".into());
    }
    None
}

/// Index patterns the block reads, if it uses FROM.
fn from_indices(q: &str) -> Vec<String> {
    let t = q.trim_start();
    let lower = t.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("from ") else {
        return vec![];
    };
    let end = rest.find(['|', '\r', '\n']).unwrap_or(rest.len());
    let list = &rest[..end];
    let list = list.split(" metadata").next().unwrap_or(list);
    list.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

enum Outcome {
    Pass,
    /// Reason (recorded), detail (printed when verbose).
    Fail(String, String),
    Skip(String),
}

/// A failure: a short reason for the expectations file (no query text) and the details
/// printed with `ESQL_SPEC_VERBOSE=1`.
fn fail(reason: impl Into<String>, detail: impl Into<String>) -> Outcome {
    Outcome::Fail(reason.into(), detail.into())
}

async fn run_block(b: &Block, data: &BTreeMap<String, Arc<dyn Dataset>>) -> Outcome {
    if b.name.ends_with("-Ignore") {
        return Outcome::Skip("-Ignore".into());
    }
    if let Some(r) = out_of_scope(b) {
        return Outcome::Skip(r);
    }
    let indices = from_indices(&b.query);
    for i in &indices {
        if i.starts_with('-') {
            continue;
        }
        if i.contains('*') || !data.contains_key(i.as_str()) {
            return Outcome::Skip(format!("data set [{i}] is not present"));
        }
    }
    // Every data set is visible: FROM picks its own, LOOKUP JOIN may name another.
    let sets: Vec<Arc<dyn Dataset>> = data.values().cloned().collect();
    let opts = QueryOptions {
        now_ms: javatime::parse_strict_date_optional_time("2024-08-01T00:00:00Z").unwrap(),
        ..QueryOptions::default()
    };
    let r = match engine::execute(&b.query, &sets, &opts).await {
        Ok(r) => r,
        Err(e) => {
            let e = e.to_string();
            return fail(format!("error: {}", reason_text(&e)), e);
        }
    };
    let got_header: Vec<(String, DataType)> =
        r.columns.iter().map(|c| (c.name.clone(), c.ty)).collect();
    let want_header: Vec<(String, DataType)> = b
        .header
        .iter()
        .map(|(n, t)| (n.clone(), header_type(t)))
        .collect();
    let norm = |t: DataType| {
        if t == DataType::Text {
            DataType::Keyword
        } else {
            t
        }
    };
    let header_ok = got_header.len() == want_header.len()
        && got_header.iter().zip(&want_header).all(|(g, w)| {
            g.0 == w.0
                && (norm(g.1) == norm(w.1) || (w.1 == DataType::Keyword && g.1 == DataType::Text))
        });
    if !header_ok {
        let names = |h: &[(String, DataType)]| h.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        let reason = if names(&got_header) == names(&want_header) {
            "column types differ"
        } else {
            "column names differ"
        };
        return fail(
            reason,
            format!(
                "columns: got {:?}, want {:?}",
                got_header
                    .iter()
                    .map(|(n, t)| format!("{n}:{t}"))
                    .collect::<Vec<_>>(),
                b.header
                    .iter()
                    .map(|(n, t)| format!("{n}:{t}"))
                    .collect::<Vec<_>>()
            ),
        );
    }
    let types: Vec<DataType> = want_header.iter().map(|(_, t)| *t).collect();
    let mut want: Vec<Vec<Cell>> = b
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .zip(&types)
                .map(|(c, t)| expected_cell(c, *t))
                .collect()
        })
        .collect();
    let mut got: Vec<Vec<Cell>> = r
        .rows
        .iter()
        .map(|row| row.iter().map(actual_cell).collect())
        .collect();
    if b.ignore_order {
        let key = |r: &Vec<Cell>| format!("{r:?}");
        want.sort_by_key(key);
        got.sort_by_key(key);
    }
    let same = want.len() == got.len()
        && want
            .iter()
            .zip(&got)
            .all(|(w, g)| w.len() == g.len() && w.iter().zip(g).all(|(a, b)| cells_equal(a, b)));
    if !same {
        let show = |rows: &[Vec<Cell>]| {
            rows.iter()
                .take(5)
                .map(|r| format!("{r:?}"))
                .collect::<Vec<_>>()
                .join("\n      ")
        };
        let reason = if got.len() == want.len() {
            format!("rows differ ({} rows)", want.len())
        } else {
            format!("rows differ (got {}, want {})", got.len(), want.len())
        };
        return fail(
            reason,
            format!(
                "rows differ ({} vs {} expected):\n    got  {}\n    want {}",
                got.len(),
                want.len(),
                show(&got),
                show(&want)
            ),
        );
    }
    {
        let mut got_w: Vec<String> = r.warnings.iter().map(|w| header_escape(w)).collect();
        if !b.warning_regexes.is_empty() {
            for re in &b.warning_regexes {
                let Ok(rx) = regex::Regex::new(re) else {
                    continue;
                };
                if !got_w.iter().any(|w| rx.is_match(w)) {
                    return fail(
                        format!(
                            "warnings differ (got {}, none matches a warningRegex)",
                            got_w.len()
                        ),
                        format!("no warning matches /{re}/; got {got_w:?}"),
                    );
                }
            }
        } else {
            let mut want_w: Vec<String> = b
                .warnings
                .iter()
                .map(|w| {
                    let lower = w.to_ascii_lowercase();
                    match lower.find("#[emulated:") {
                        Some(at) => w[at + "#[emulated:".len()..]
                            .trim_end_matches(']')
                            .to_string(),
                        None => w.clone(),
                    }
                })
                .collect();
            want_w.sort();
            got_w.sort();
            if want_w != got_w {
                let reason = if want_w.len() == got_w.len() {
                    format!("warnings differ ({} warnings, other text)", want_w.len())
                } else {
                    format!(
                        "warnings differ (got {}, want {})",
                        got_w.len(),
                        want_w.len()
                    )
                };
                return fail(reason, format!("warnings: got {got_w:?}, want {want_w:?}"));
            }
        }
    }
    Outcome::Pass
}

fn cells_equal(a: &Cell, b: &Cell) -> bool {
    match (a, b) {
        (Cell::Num(x), Cell::Num(y)) => x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        (Cell::Many(x), Cell::Many(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| cells_equal(p, q))
        }
        _ => a == b,
    }
}

/// An engine message made fit for the expectations file: its lines joined, query fragments
/// in brackets or quotes elided (`[…]`, `'…'`) unless they are one token (no spaces, at most
/// 24 chars: a name, an operator), at most 160 chars.
fn reason_text(msg: &str) -> String {
    let line = msg
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    let fragments = regex::Regex::new(r#"\[[^\[\]]*\]|"[^"]*"|'[^']*'"#).unwrap();
    let elide = |text: &str| {
        fragments
            .replace_all(text, |c: &regex::Captures| {
                let m = &c[0];
                let inner = &m[1..m.len() - 1];
                let kept = inner.chars().count() <= 24 && !inner.contains(char::is_whitespace);
                let inner = if kept { inner } else { "…" };
                // Done brackets become ⟦ ⟧ so that the ones around them match next round.
                match &m[..1] {
                    "[" => format!("⟦{inner}⟧"),
                    q => format!("{q}{inner}{q}"),
                }
            })
            .into_owned()
    };
    // Innermost brackets first, then the ones around them (`[CASE(a, [b], c)]`).
    let mut elided = elide(&line);
    loop {
        let next = elide(&elided);
        if next == elided {
            break;
        }
        elided = next;
    }
    let elided = elided.replace('⟦', "[").replace('⟧', "]");
    let mut out: String = elided.chars().take(160).collect();
    if elided.chars().count() > 160 {
        out.push('…');
    }
    out.replace('\t', " ")
}

/// One line of the expectations file: `file/block<TAB>outcome[<TAB>reason][<TAB>needs: …]`.
fn expectation_line(key: &str, outcome: &Outcome, needs: &str) -> String {
    let mut line = match outcome {
        Outcome::Pass => format!("{key}\tpass"),
        Outcome::Fail(reason, _) => format!("{key}\tfail\t{reason}"),
        Outcome::Skip(reason) => format!("{key}\tskip\t{}", reason_text(reason)),
    };
    if !needs.is_empty() {
        if matches!(outcome, Outcome::Pass) {
            line.push('\t');
        }
        line.push('\t');
        line.push_str(needs);
    }
    line
}

/// What a block needs beyond our engine's baseline, from its own markers: the ES versions its
/// `#[skip:…]` marker excludes, its `required_capability:` lines, and the ES line of its spec
/// file when that is older than the rest (possible version skew).
fn needs(stem: &str, b: &Block) -> String {
    let mut parts = vec![];
    if let Some(v) = OLDER_SPECS.iter().find(|(f, _)| *f == stem).map(|(_, v)| v) {
        parts.push(format!("spec from ES ~{v}"));
    }
    if let Some(v) = &b.skip_versions {
        parts.push(format!("skipped by ES on {v}"));
    }
    if !b.capabilities.is_empty() {
        parts.push(format!("capabilities {}", b.capabilities.join(",")));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("needs: {}", parts.join("; "))
    }
}

fn key_of(line: &str) -> &str {
    line.split('\t').next().unwrap_or(line)
}

/// The committed expectations: `file/block` → the whole line.
fn read_expectations(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| (key_of(l).to_string(), l.trim_end().to_string()))
        .collect()
}

fn write_expectations(
    path: &Path,
    lines: &BTreeMap<String, String>,
    counts: (usize, usize, usize),
) {
    let (p, f, s) = counts;
    let mut text = format!(
        "# Outcome of every csv-spec block of ../shared/esql-spec in crates/engine/tests/esql_spec.rs.\n\
         # Any change fails that test; check it, then regenerate this file with\n\
         #   TRAILHUNT_UPDATE_EXPECTATIONS=1 cargo test -p engine --test esql_spec\n\
         # Columns (tab-separated): file/block, outcome (pass | fail | skip), reason, and what the\n\
         # block needs (its required capabilities, the ES versions its #[skip:] marker excludes,\n\
         # the ES line of an older spec file). Names and outcomes only: the specs are Elastic's\n\
         # (ELv2) and their query text stays in ../shared.\n\
         # Totals: {p} pass, {f} fail, {s} skip\n"
    );
    for line in lines.values() {
        text.push_str(line);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn esql_spec() {
    let Some(dir) = testkit::require_shared("esql-spec") else {
        return;
    };
    let data = datasets(&dir);
    let verbose = std::env::var("ESQL_SPEC_VERBOSE").is_ok();
    let update =
        std::env::var("TRAILHUNT_UPDATE_EXPECTATIONS").is_ok_and(|v| !v.is_empty() && v != "0");
    let only = std::env::var("ESQL_SPEC_FILE").ok();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv-spec"))
        .collect();
    files.sort();
    let (mut p, mut f, mut s) = (0, 0, 0);
    let mut got: BTreeMap<String, String> = BTreeMap::new();
    let mut stems = vec![];
    for file in files {
        let stem = file
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .replace(".csv", "");
        if only.as_deref().is_some_and(|o| o != stem) {
            continue;
        }
        stems.push(stem.clone());
        let blocks = parse_spec(&std::fs::read_to_string(&file).unwrap());
        let (mut fp, mut ff, mut fs) = (0, 0, 0);
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for b in &blocks {
            // A panic in the engine is a failure of that block, not of the whole run.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                rt.block_on(async {
                    let fut = run_block(b, &data);
                    match tokio::time::timeout(std::time::Duration::from_secs(20), fut).await {
                        Ok(o) => o,
                        Err(_) => fail("timed out", "timed out after 20 s"),
                    }
                })
            }))
            .unwrap_or_else(|_| fail("panicked", "panicked"));
            // Names repeat within a few files: the second one is `name#2`, and so on.
            let n = seen.entry(b.name.clone()).or_default();
            *n += 1;
            let key = if *n == 1 {
                format!("{stem}/{}", b.name)
            } else {
                format!("{stem}/{}#{n}", b.name)
            };
            match &outcome {
                Outcome::Pass => fp += 1,
                Outcome::Fail(reason, detail) => {
                    ff += 1;
                    println!("  FAIL {key}: {reason}");
                    if verbose {
                        println!("    query: {}\n    {detail}", b.query.replace("\r\n", " "));
                    }
                }
                Outcome::Skip(why) => {
                    fs += 1;
                    if verbose {
                        println!("  skip {key}: {why}");
                    }
                }
            }
            got.insert(
                key.clone(),
                expectation_line(&key, &outcome, &needs(&stem, b)),
            );
        }
        println!("{stem}: {fp} passed, {ff} failed, {fs} skipped");
        p += fp;
        f += ff;
        s += fs;
    }
    println!("esql-spec: {p} passed, {f} failed, {s} skipped");
    // The floor the conformance issue set: at least 90% of the blocks that run pass (a full
    // run only; a single file may legitimately sit below it). The expectations are exact.
    if only.is_none() {
        let rate = p as f64 / (p + f).max(1) as f64;
        assert!(
            rate >= 0.90,
            "esql-spec pass rate fell to {:.1}% ({p} of {})",
            rate * 100.0,
            p + f
        );
    }

    // The committed expectations (only the files that ran, with ESQL_SPEC_FILE).
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(EXPECTATIONS);
    let mut want = read_expectations(&path);
    let in_run = |k: &str| {
        stems
            .iter()
            .any(|s| k.split_once('/').is_some_and(|(f, _)| f == s))
    };
    if update {
        want.retain(|k, _| !in_run(k));
        want.extend(got);
        let count = |o: &str| {
            want.values()
                .filter(|l| l.split('\t').nth(1) == Some(o))
                .count()
        };
        let counts = (count("pass"), count("fail"), count("skip"));
        write_expectations(&path, &want, counts);
        println!(
            "esql-spec: wrote {} ({} blocks)",
            path.display(),
            want.len()
        );
        return;
    }
    want.retain(|k, _| in_run(k));
    let mut diff = vec![];
    for (k, w) in &want {
        match got.get(k) {
            Some(g) if g == w => {}
            Some(g) => diff.push(format!("- {w}\n+ {g}")),
            None => diff.push(format!("- {w}\n  (no such block any more)")),
        }
    }
    for (k, g) in &got {
        if !want.contains_key(k) {
            diff.push(format!("+ {g}\n  (new block)"));
        }
    }
    assert!(
        diff.is_empty(),
        "{} csv-spec block(s) differ from {} (- committed, + this run):\n{}\n\n\
         If the change is intended, regenerate the file and commit it:\n  \
         TRAILHUNT_UPDATE_EXPECTATIONS=1 cargo test -p engine --test esql_spec",
        diff.len(),
        EXPECTATIONS,
        diff.join("\n")
    );
}
