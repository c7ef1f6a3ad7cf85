//! Rendering a library run: each hunt with findings as a titled table, hunts without rows
//! collapsed to one line each, then a summary table and totals — or, with `--format json`,
//! one document with every query's rows, error, lint findings and ATT&CK techniques.
//! The run itself is `hunts::Runner`'s; this only prints.

use crate::render::{self, Format};
use engine::{EngineError, QueryResult, Value};
use esql::{Column, DataType};
use hunts::replay::ReplayRun;
use hunts::{lint::Finding, Hunt, QueryRun, Status, Totals};
use serde_json::{json, Map, Value as J};
use std::io::Write;

/// One line of the summary table.
struct SummaryLine {
    name: String,
    techniques: String,
    rows: Option<usize>,
    status: Status,
}

/// Collects and prints a run's output as the runs arrive.
pub struct HuntOutput<'o> {
    out: &'o mut dyn Write,
    format: Format,
    json_hunts: Vec<J>,
    /// One line per hunt without rows (or failing), printed after the findings.
    collapsed: Vec<String>,
    summary: Vec<SummaryLine>,
    pub totals: Totals,
}

impl<'o> HuntOutput<'o> {
    pub fn new(out: &'o mut dyn Write, format: Format) -> HuntOutput<'o> {
        HuntOutput {
            out,
            format,
            json_hunts: Vec::new(),
            collapsed: Vec::new(),
            summary: Vec::new(),
            totals: Totals::default(),
        }
    }

    fn record(&mut self, hunt: &Hunt, query: Option<usize>, rows: Option<usize>, status: Status) {
        self.totals.add(status);
        let n = hunt.queries.len();
        let name = match query {
            Some(i) if n > 1 => format!("{} [{}/{n}]", hunt.name, i + 1),
            _ => hunt.name.clone(),
        };
        self.summary.push(SummaryLine {
            name,
            techniques: hunt.mitre.join(" "),
            rows,
            status,
        });
    }

    /// A hunt with no ES|QL query (osquery, EQL, a KQL rule): listed, not run.
    pub fn not_esql(&mut self, hunt: &Hunt) -> anyhow::Result<()> {
        self.record(hunt, None, None, Status::NotRun);
        let lang = hunt.language.join(", ");
        match self.format {
            Format::Json => {
                let mut e = header(hunt, 0);
                e.insert("status".into(), "not_esql".into());
                e.insert(
                    "error".into(),
                    json!({"type": "not_esql", "reason": format!("not an ES|QL query (language: {lang})")}),
                );
                e.insert("columns".into(), json!([]));
                e.insert("values".into(), json!([]));
                self.json_hunts.push(J::Object(e));
            }
            Format::Ndjson => {}
            _ => self
                .collapsed
                .push(format!("  - {} — not ES|QL ({lang}), not run", hunt.name)),
        }
        Ok(())
    }

    /// One query of a hunt, run.
    pub fn query(&mut self, run: &QueryRun) -> anyhow::Result<()> {
        let hunt = run.hunt;
        let status = run.status();
        let rows = run.result.as_ref().ok().map(|r| r.rows.len());
        self.record(hunt, Some(run.index), rows, status);
        match self.format {
            Format::Json => {
                let mut e = header(hunt, run.index);
                e.insert("status".into(), status_json(status).into());
                e.insert("lint".into(), lint_json(&run.lint));
                match &run.result {
                    Ok(r) => {
                        e.insert("error".into(), J::Null);
                        if let J::Object(mut body) = render::es_body(r) {
                            e.append(&mut body);
                        }
                    }
                    Err(err) => {
                        e.insert("error".into(), error_json(err));
                        e.insert("columns".into(), json!([]));
                        e.insert("values".into(), json!([]));
                    }
                }
                self.json_hunts.push(J::Object(e));
            }
            Format::Ndjson => {
                if let Ok(r) = &run.result {
                    write_ndjson(self.out, hunt, r, None)?;
                }
            }
            other => match &run.result {
                Ok(r) if !r.rows.is_empty() => {
                    write_title(self.out, hunt, run.index, r.rows.len(), "row")?;
                    render::write(self.out, r, other)?;
                    write_lint(self.out, &run.lint)?;
                    writeln!(self.out)?;
                }
                Ok(_) => {
                    let lint = if run.lint.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({} lint finding(s): see `trailhunt hunts lint {}`)",
                            run.lint.len(),
                            hunt.stem
                        )
                    };
                    self.collapsed.push(format!(
                        "  - {}{} — no rows{lint}",
                        hunt.name,
                        query_suffix(hunt, run.index)
                    ));
                }
                Err(e) => self.collapsed.push(format!(
                    "  ✗ {}{} — error: {}",
                    hunt.name,
                    query_suffix(hunt, run.index),
                    first_line(&e.to_string())
                )),
            },
        }
        Ok(())
    }

    /// The output format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Where text output goes (for sections printed between hunts).
    pub fn writer(&mut self) -> &mut dyn Write {
        &mut *self.out
    }

    /// Adds a key to the JSON entry of the query printed last.
    pub fn attach_json(&mut self, key: &str, value: J) {
        if let Some(J::Object(e)) = self.json_hunts.last_mut() {
            e.insert(key.to_string(), value);
        }
    }

    /// A rule replayed over the data's time span: its alerts, each once.
    pub fn replay(&mut self, run: &ReplayRun) -> anyhow::Result<()> {
        let rule = run.rule;
        let status = match (&run.error, run.alerts.len()) {
            (Some(_), _) => Status::Failed,
            (None, 0) => Status::Empty,
            (None, n) => Status::Fired(n),
        };
        self.record(rule, None, Some(run.alerts.len()), status);
        let meta = rule.rule();
        let severity = meta.map_or("", |r| r.severity.as_str());
        let risk = meta.and_then(|r| r.risk_score);
        let table = alert_table(run, severity, risk);
        match self.format {
            Format::Json => {
                let mut e = header(rule, 0);
                e.insert("status".into(), status_json(status).into());
                e.insert(
                    "lint".into(),
                    lint_json(
                        &hunts::lint::lint_hunt(rule)
                            .into_iter()
                            .map(|f| f.finding)
                            .collect::<Vec<_>>(),
                    ),
                );
                e.insert(
                    "replay".into(),
                    json!({
                        "runs": run.runs,
                        "interval_ms": run.interval_ms,
                        "lookback_ms": run.lookback_ms,
                        "alerts": run.alerts.len(),
                    }),
                );
                e.insert(
                    "error".into(),
                    run.error.as_ref().map_or(J::Null, error_json),
                );
                if let J::Object(mut body) = render::es_body(&table) {
                    e.append(&mut body);
                }
                self.json_hunts.push(J::Object(e));
            }
            Format::Ndjson => write_ndjson(self.out, rule, &table, Some(severity))?,
            other => match &run.error {
                Some(e) => self.collapsed.push(format!(
                    "  ✗ {} — error: {}",
                    rule.name,
                    first_line(&e.to_string())
                )),
                None if run.alerts.is_empty() => self.collapsed.push(format!(
                    "  - {} — no alerts in {} scheduled run(s)",
                    rule.name, run.runs
                )),
                None => {
                    write_title(self.out, rule, 0, run.alerts.len(), "alert")?;
                    render::write(self.out, &table, other)?;
                    writeln!(self.out)?;
                }
            },
        }
        Ok(())
    }

    /// The collapsed lines, the summary table and the totals (or the JSON document).
    pub fn finish(self) -> anyhow::Result<Totals> {
        let t = self.totals;
        match self.format {
            Format::Json => {
                let doc = json!({
                    "hunts": self.json_hunts,
                    "summary": {
                        "queries": t.fired + t.empty + t.failed + t.not_run,
                        "fired": t.fired,
                        "rows": t.rows,
                        "empty": t.empty,
                        "failed": t.failed,
                        "not_esql": t.not_run,
                    },
                });
                serde_json::to_writer(&mut *self.out, &doc)?;
                writeln!(self.out)?;
            }
            Format::Ndjson => {}
            format => {
                // CSV output stays machine-readable: the summary goes to stderr there.
                let mut stderr = std::io::stderr();
                let out: &mut dyn Write = if format == Format::Csv {
                    &mut stderr
                } else {
                    &mut *self.out
                };
                if !self.collapsed.is_empty() {
                    writeln!(out, "Without findings:")?;
                    for line in &self.collapsed {
                        writeln!(out, "{line}")?;
                    }
                    writeln!(out)?;
                }
                if self.summary.len() > 1 {
                    writeln!(out, "Summary")?;
                    let fmt = if format == Format::Markdown {
                        Format::Markdown
                    } else {
                        Format::Table
                    };
                    render::write(out, &summary_table(&self.summary), fmt)?;
                }
                writeln!(
                    out,
                    "{} queries: {} fired ({} rows), {} without rows, {} errors, {} not ES|QL",
                    t.fired + t.empty + t.failed + t.not_run,
                    t.fired,
                    t.rows,
                    t.empty,
                    t.failed,
                    t.not_run
                )?;
            }
        }
        self.out.flush()?;
        Ok(t)
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn query_suffix(hunt: &Hunt, index: usize) -> String {
    let n = hunt.queries.len();
    if n > 1 {
        format!(" (query {} of {n})", index + 1)
    } else {
        String::new()
    }
}

/// `# Name — N row(s)`, then the UUID and the techniques with their names.
fn write_title(
    out: &mut dyn Write,
    hunt: &Hunt,
    index: usize,
    n: usize,
    what: &str,
) -> std::io::Result<()> {
    writeln!(
        out,
        "# {}{} — {n} {what}(s)",
        hunt.name,
        query_suffix(hunt, index)
    )?;
    let mut meta = vec![hunt.uuid.clone()];
    if let Some(r) = hunt.rule() {
        let risk = r
            .risk_score
            .map_or(String::new(), |s| format!(", risk {s}"));
        meta.push(format!("severity {}{risk}", r.severity));
    }
    for (id, name) in hunt.techniques() {
        meta.push(if name.is_empty() {
            id
        } else {
            format!("{id} {name}")
        });
    }
    writeln!(out, "  {}", meta.join(" · "))
}

fn write_lint(out: &mut dyn Write, lint: &[Finding]) -> std::io::Result<()> {
    for f in lint {
        let fix = f
            .fix
            .as_ref()
            .map_or(String::new(), |x| format!(" Fix: {x}"));
        writeln!(
            out,
            "  lint {}:{} [{}] {}{fix}",
            f.line, f.column, f.code, f.message
        )?;
    }
    Ok(())
}

fn header(hunt: &Hunt, index: usize) -> Map<String, J> {
    let mut e = Map::new();
    e.insert("uuid".into(), hunt.uuid.clone().into());
    e.insert("name".into(), hunt.name.clone().into());
    e.insert("query".into(), (index + 1).into());
    e.insert(
        "kind".into(),
        if hunt.rule().is_some() {
            "rule"
        } else {
            "hunt"
        }
        .into(),
    );
    if let Some(r) = hunt.rule() {
        e.insert("severity".into(), r.severity.clone().into());
        e.insert("risk_score".into(), r.risk_score.into());
    }
    e.insert(
        "mitre".into(),
        J::Array(
            hunt.techniques()
                .into_iter()
                .map(|(id, name)| json!({"id": id, "name": name}))
                .collect(),
        ),
    );
    e
}

fn status_json(s: Status) -> &'static str {
    match s {
        Status::Fired(_) => "fired",
        Status::Empty => "empty",
        Status::Failed => "error",
        Status::NotRun => "not_esql",
    }
}

/// Elasticsearch's error body (`{"type":"parsing_exception","reason":"line 1:2: …"}`),
/// with the position as numbers too.
pub fn error_json(e: &EngineError) -> J {
    let kind = match e {
        EngineError::Query(q) => match q.kind {
            esql::ErrorKind::Parsing => "parsing_exception",
            esql::ErrorKind::Verification => "verification_exception",
        },
        EngineError::Plan(_) => "verification_exception",
        EngineError::Execution(_) => "execution_exception",
    };
    let mut m = Map::new();
    m.insert("type".into(), kind.into());
    m.insert("reason".into(), e.to_string().into());
    if let Some((line, column)) = e.position() {
        m.insert("line".into(), line.into());
        m.insert("column".into(), column.into());
    }
    J::Object(m)
}

pub fn lint_json(lint: &[Finding]) -> J {
    J::Array(
        lint.iter()
            .map(|f| {
                json!({"code": f.code, "line": f.line, "column": f.column,
                       "message": f.message, "fix": f.fix})
            })
            .collect(),
    )
}

fn write_ndjson(
    out: &mut dyn Write,
    hunt: &Hunt,
    r: &QueryResult,
    severity: Option<&str>,
) -> std::io::Result<()> {
    for mut row in render::row_objects(r) {
        row.insert("hunt.uuid".into(), hunt.uuid.clone().into());
        row.insert("hunt.name".into(), hunt.name.clone().into());
        if let Some(s) = severity {
            row.insert("rule.severity".into(), s.into());
        }
        serde_json::to_writer(&mut *out, &J::Object(row))?;
        writeln!(out)?;
    }
    Ok(())
}

fn col(name: &str, ty: DataType) -> Column {
    Column {
        name: name.into(),
        ty,
    }
}

/// A replay's alerts as a result: when each fired, the rule's severity and risk score,
/// then the rule's own columns.
fn alert_table(run: &ReplayRun, severity: &str, risk: Option<i64>) -> QueryResult {
    let mut columns = vec![
        col("alert.fired_at", DataType::Date),
        col("rule.severity", DataType::Keyword),
        col("rule.risk_score", DataType::Long),
    ];
    columns.extend(run.columns.iter().cloned());
    let rows = run
        .alerts
        .iter()
        .map(|a| {
            let mut row = vec![
                Value::Date(a.fired_at_ms),
                Value::Str(severity.to_string()),
                risk.map_or(Value::Null, Value::Long),
            ];
            row.extend(a.row.iter().cloned());
            row
        })
        .collect();
    QueryResult {
        columns,
        rows,
        warnings: Vec::new(),
    }
}

fn summary_table(lines: &[SummaryLine]) -> QueryResult {
    QueryResult {
        columns: vec![
            col("hunt", DataType::Keyword),
            col("technique", DataType::Keyword),
            col("rows", DataType::Long),
            col("status", DataType::Keyword),
        ],
        rows: lines
            .iter()
            .map(|l| {
                vec![
                    Value::Str(l.name.clone()),
                    Value::Str(l.techniques.clone()),
                    l.rows.map_or(Value::Null, |n| Value::Long(n as i64)),
                    Value::Str(l.status.label().to_string()),
                ]
            })
            .collect(),
        warnings: Vec::new(),
    }
}
