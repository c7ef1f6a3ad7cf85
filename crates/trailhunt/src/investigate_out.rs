//! `hunt --investigate`: collects each query's answer, runs the investigation of its rows
//! (`investigate`), prints it after the hunt's table (or into the JSON entry), and builds
//! the `report::Report` for `--report` and `--format markdown`.

use crate::hunt_out::HuntOutput;
use crate::render::{self, Format};
use crate::DataArgs;
use engine::format::to_json;
use engine::QueryResult;
use hunts::{Hunt, QueryRun, Runner};
use investigate::{Investigation, Outcome, Side};
use serde_json::{json, Value as J};
use std::io::Write;

/// One query's answer as the report needs it.
pub struct Entry<'h> {
    pub hunt: &'h Hunt,
    pub index: usize,
    pub query: &'h str,
    pub status: &'static str,
    pub result: Option<QueryResult>,
    pub error: Option<String>,
    pub investigation: Option<Investigation>,
}

#[derive(Default)]
pub struct Collected<'h> {
    pub entries: Vec<Entry<'h>>,
}

impl<'h> Collected<'h> {
    /// Keeps the run and investigates its rows when it has any; returns the investigation.
    pub fn add(
        &mut self,
        runner: &Runner,
        run: &QueryRun<'h>,
        opts: &investigate::Options,
    ) -> Option<&Investigation> {
        let (result, error) = match &run.result {
            Ok(r) => (Some(r.clone()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        // Hunts without pivots have nothing to investigate: their rows stay a plain table
        // (the report lists them after the findings).
        let investigation = match &result {
            Some(r) if !r.rows.is_empty() && !run.hunt.pivots.is_empty() => Some(
                investigate::investigate(runner, run.hunt, run.index, r, opts),
            ),
            _ => None,
        };
        self.entries.push(Entry {
            hunt: run.hunt,
            index: run.index,
            query: run.query,
            status: run.status().label(),
            result,
            error,
            investigation,
        });
        self.entries.last().and_then(|e| e.investigation.as_ref())
    }
}

/// Prints an investigation after its hunt's table (text formats) or attaches it to the
/// hunt's JSON entry.
pub fn show(
    out: &mut HuntOutput,
    run: &QueryRun,
    inv: Option<&Investigation>,
) -> anyhow::Result<()> {
    let Some(inv) = inv else {
        let fired = run.result.as_ref().is_ok_and(|r| !r.rows.is_empty());
        if fired && matches!(out.format(), Format::Table | Format::Markdown) {
            writeln!(
                out.writer(),
                "(This hunt has no pivots ([[hunt.pivot]]): its rows are not investigated.)\n"
            )?;
        }
        return Ok(());
    };
    match out.format() {
        Format::Json => {
            out.attach_json("investigation", investigation_json(inv));
            Ok(())
        }
        Format::Ndjson => Ok(()),
        format => {
            let w = out.writer();
            write_text(w, run, inv, format)?;
            Ok(())
        }
    }
}

fn write_text(
    w: &mut dyn Write,
    run: &QueryRun,
    inv: &Investigation,
    format: Format,
) -> std::io::Result<()> {
    let table = if format == Format::Csv {
        Format::Table
    } else {
        format
    };
    for f in &inv.findings {
        writeln!(
            w,
            "Investigation of row {} of {}: {}",
            f.row_index + 1,
            run.hunt.name,
            f.verdict.summary()
        )?;
        if let Some(p) = &f.principal {
            writeln!(w, "  principal: {p}")?;
        }
        if let (Some((a, b)), Some((ws, we))) = (f.span, f.window) {
            writeln!(
                w,
                "  calls: {} … {}; window {} … {}",
                investigate::iso(a),
                investigate::iso(b),
                investigate::iso(ws),
                investigate::iso(we)
            )?;
        }
        for e in &f.verdict.evidence {
            let mark = match e.side {
                Side::Tampering => format!("▲ tampering +{}", e.weight),
                Side::Maintenance => format!("▼ maintenance +{}", e.weight),
                Side::Neutral => "•".to_string(),
            };
            writeln!(w, "  {mark}: {}", render::printable(&e.text))?;
        }
        for p in &f.pivots {
            match &p.outcome {
                Outcome::Rows(r) if p.pivot.id == "timeline" => {
                    writeln!(
                        w,
                        "  {} — {} calls (drawn in --report)",
                        p.pivot.title,
                        r.rows.len()
                    )?;
                }
                Outcome::Rows(r) if r.rows.is_empty() => {
                    writeln!(w, "  {} — no rows", p.pivot.title)?;
                }
                Outcome::Rows(r) => {
                    writeln!(w, "  {}", p.pivot.title)?;
                    render::write(w, r, table)?;
                }
                Outcome::Skipped(why) => writeln!(w, "  {} — not run: {why}", p.pivot.title)?,
                Outcome::Failed(e) => writeln!(w, "  {} — failed: {e}", p.pivot.title)?,
            }
        }
        writeln!(w)?;
    }
    if inv.not_investigated > 0 {
        writeln!(
            w,
            "{} more rows were not investigated (--max-findings {}).\n",
            inv.not_investigated,
            inv.findings.len()
        )?;
    }
    Ok(())
}

/// The investigation in the JSON output: per finding, the verdict with its evidence and
/// every pivot's answer in ES's `_query` shape.
pub fn investigation_json(inv: &Investigation) -> J {
    let findings: Vec<J> = inv
        .findings
        .iter()
        .map(|f| {
            let pivots: Vec<J> = f
                .pivots
                .iter()
                .map(|p| {
                    let mut o = json!({
                        "id": p.pivot.id,
                        "title": p.pivot.title,
                        "params": p.bound.iter().map(|(k, v)| (k.clone(), J::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                    });
                    match &p.outcome {
                        Outcome::Rows(r) => {
                            o["status"] = "ran".into();
                            if let J::Object(mut body) = render::es_body(r) {
                                o.as_object_mut().expect("object").append(&mut body);
                            }
                        }
                        Outcome::Skipped(why) => {
                            o["status"] = "skipped".into();
                            o["reason"] = why.clone().into();
                        }
                        Outcome::Failed(e) => {
                            o["status"] = "failed".into();
                            o["error"] = e.clone().into();
                        }
                    }
                    o
                })
                .collect();
            json!({
                "row": f.row_index,
                "values": f.row.iter().map(|(c, v)| (c.name.clone(), to_json(v))).collect::<serde_json::Map<_, _>>(),
                "principal": f.principal,
                "first_call": f.span.map(|(a, _)| investigate::iso(a)),
                "last_call": f.span.map(|(_, b)| investigate::iso(b)),
                "window": f.window.map(|(a, b)| json!([investigate::iso(a), investigate::iso(b)])),
                "verdict": {
                    "label": f.verdict.label.key(),
                    "text": f.verdict.label.text(),
                    "tampering": f.verdict.tampering,
                    "maintenance": f.verdict.maintenance,
                    "evidence": f.verdict.evidence.iter().map(|e| json!({
                        "side": match e.side { Side::Tampering => "tampering", Side::Maintenance => "maintenance", Side::Neutral => "neutral" },
                        "weight": e.weight,
                        "text": e.text,
                    })).collect::<Vec<_>>(),
                },
                "pivots": pivots,
            })
        })
        .collect();
    json!({"findings": findings, "not_investigated": inv.not_investigated})
}

/// The report over everything collected.
pub fn report<'a>(
    c: &'a Collected<'a>,
    data: &DataArgs,
    now_ms: i64,
    window: &str,
) -> report::Report<'a> {
    report::Report {
        tool: format!("trailhunt {}", env!("CARGO_PKG_VERSION")),
        data: data.describe(),
        now: investigate::iso(now_ms),
        window: format!("{window} before the first and after the last call of each finding"),
        sections: c
            .entries
            .iter()
            .map(|e| report::Section {
                hunt: e.hunt,
                query_index: e.index,
                query: e.query,
                status: e.status.to_string(),
                result: e.result.as_ref(),
                error: e.error.clone(),
                investigation: e.investigation.as_ref(),
            })
            .collect(),
    }
}
