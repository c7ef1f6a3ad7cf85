//! The investigation a hunt's notes describe, done for every finding: run the hunt's
//! pivots (`[[hunt.pivot]]`, see [`hunts::pivot`]) with parameters bound from the finding
//! row, then judge the finding from their answers ([`verdict`]).
//!
//! Nothing here prints: the `report` crate and the binary render [`Investigation`]s.

pub mod bind;
pub mod verdict;

use std::collections::BTreeSet;

use engine::{QueryResult, Value};
use esql::{Column, Params};
use hunts::{Hunt, Pivot, Runner};

pub use bind::{Bindings, TIME_PARAMS};
pub use verdict::{Evidence, Label, Side, Verdict};

/// How far around a finding's calls the principal's activity is examined.
pub const DEFAULT_WINDOW_MS: i64 = 60 * 60 * 1000;
/// Findings investigated per query; the rest are listed as not investigated.
pub const DEFAULT_MAX_FINDINGS: usize = 50;
/// An origin first used less than this before a finding counts as new: intruders often
/// test a stolen key the day before they act.
pub const DEFAULT_RECENT_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone)]
pub struct Options {
    /// The window is the finding's first call − this … its last call + this.
    pub window_ms: i64,
    /// See [`DEFAULT_RECENT_MS`].
    pub recent_ms: i64,
    pub max_findings: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            window_ms: DEFAULT_WINDOW_MS,
            recent_ms: DEFAULT_RECENT_MS,
            max_findings: DEFAULT_MAX_FINDINGS,
        }
    }
}

/// The investigation of one query's result.
#[derive(Debug, Clone)]
pub struct Investigation {
    pub hunt_uuid: String,
    pub query_index: usize,
    pub findings: Vec<Finding>,
    /// Rows beyond [`Options::max_findings`], not investigated.
    pub not_investigated: usize,
}

/// One row of a hunt's result and what its pivots found.
#[derive(Debug, Clone)]
pub struct Finding {
    /// 0-based row of the hunt's result.
    pub row_index: usize,
    pub row: Vec<(Column, Value)>,
    /// `aws.cloudtrail.user_identity.arn` of the row, when it has one.
    pub principal: Option<String>,
    /// First and last `@timestamp` of the first pivot's answer (epoch ms).
    pub span: Option<(i64, i64)>,
    /// `span` widened by the investigation window.
    pub window: Option<(i64, i64)>,
    pub pivots: Vec<PivotAnswer>,
    pub verdict: Verdict,
}

impl Finding {
    /// The answer of the pivot with this id, when it ran.
    pub fn answer(&self, id: &str) -> Option<&QueryResult> {
        self.pivots
            .iter()
            .find(|p| p.pivot.id == id)
            .and_then(|p| match &p.outcome {
                Outcome::Rows(r) => Some(r),
                _ => None,
            })
    }
}

/// What one pivot gave for one finding.
#[derive(Debug, Clone)]
pub struct PivotAnswer {
    pub pivot: Pivot,
    /// The parameters the query used, with their values as text, in order of use.
    pub bound: Vec<(String, String)>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    /// The answer (for an `each` pivot, the runs' rows one after another).
    Rows(QueryResult),
    /// Not run, and why (a parameter the finding has no value for, …).
    Skipped(String),
    /// The query failed (ES-style message).
    Failed(String),
}

/// Investigates every row of `result` (the answer of `hunt`'s query `query_index`) with
/// the hunt's pivots. A hunt without pivots gives findings with only a verdict saying so.
pub fn investigate(
    runner: &Runner,
    hunt: &Hunt,
    query_index: usize,
    result: &QueryResult,
    opts: &Options,
) -> Investigation {
    let take = result.rows.len().min(opts.max_findings);
    let findings = result.rows[..take]
        .iter()
        .enumerate()
        .map(|(i, row)| investigate_row(runner, hunt, &result.columns, i, row, opts))
        .collect();
    Investigation {
        hunt_uuid: hunt.uuid.clone(),
        query_index,
        findings,
        not_investigated: result.rows.len() - take,
    }
}

fn investigate_row(
    runner: &Runner,
    hunt: &Hunt,
    columns: &[Column],
    row_index: usize,
    row: &[Value],
    opts: &Options,
) -> Finding {
    let row: Vec<(Column, Value)> = columns.iter().cloned().zip(row.iter().cloned()).collect();
    let principal = row
        .iter()
        .find(|(c, _)| c.name == verdict::PRINCIPAL_COLUMN)
        .and_then(|(_, v)| match v {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        });
    let mut bindings = Bindings::from_row(&row);
    let mut answers: Vec<PivotAnswer> = Vec::with_capacity(hunt.pivots.len());
    let mut span = None;
    let mut window = None;
    for (i, pivot) in hunt.pivots.iter().enumerate() {
        let answer = run_pivot(runner, pivot, &bindings, &answers);
        if i == 0 {
            if let Outcome::Rows(r) = &answer.outcome {
                span = time_span(r);
                if let Some((first, last)) = span {
                    window = Some((first - opts.window_ms, last + opts.window_ms));
                    bindings.set_times(first, last, opts.window_ms, opts.recent_ms);
                }
            }
        }
        answers.push(answer);
    }
    let mut finding = Finding {
        row_index,
        row,
        principal,
        span,
        window,
        pivots: answers,
        verdict: Verdict::default(),
    };
    finding.verdict = if hunt.pivots.is_empty() {
        Verdict::no_pivots()
    } else {
        verdict::judge(&finding)
    };
    finding
}

fn run_pivot(
    runner: &Runner,
    pivot: &Pivot,
    bindings: &Bindings,
    earlier: &[PivotAnswer],
) -> PivotAnswer {
    let used = bind::params_used(&pivot.query);
    let Some(each) = &pivot.each else {
        return match bindings.params_for(&used) {
            Ok((params, bound)) => PivotAnswer {
                pivot: pivot.clone(),
                outcome: execute(runner, &pivot.query, &params),
                bound,
            },
            Err(why) => skipped(pivot, why),
        };
    };
    // One run per distinct value of the referenced column.
    let Some(source) = earlier.iter().find(|a| a.pivot.id == each.pivot) else {
        return skipped(pivot, format!("pivot `{}` did not run", each.pivot));
    };
    let rows = match &source.outcome {
        Outcome::Rows(r) => r,
        _ => return skipped(pivot, format!("pivot `{}` has no answer", each.pivot)),
    };
    let Some(col) = rows.columns.iter().position(|c| c.name == each.column) else {
        return skipped(
            pivot,
            format!("pivot `{}` has no column [{}]", each.pivot, each.column),
        );
    };
    let values: BTreeSet<String> = rows
        .rows
        .iter()
        .flat_map(|r| r[col].values().to_vec())
        .filter_map(|v| match v {
            Value::Str(s) if !s.is_empty() => Some(s),
            _ => None,
        })
        .collect();
    if values.is_empty() {
        return skipped(
            pivot,
            format!("no value of [{}] in pivot `{}`", each.column, each.pivot),
        );
    }
    let mut merged: Option<QueryResult> = None;
    let mut all_bound = Vec::new();
    for value in values {
        let mut b = bindings.clone();
        b.set_text(&each.param, &value);
        let (params, bound) = match b.params_for(&used) {
            Ok(p) => p,
            Err(why) => return skipped(pivot, why),
        };
        for kv in bound {
            if !all_bound.contains(&kv) {
                all_bound.push(kv);
            }
        }
        match execute(runner, &pivot.query, &params) {
            Outcome::Rows(r) => match &mut merged {
                None => merged = Some(r),
                Some(m) if m.columns == r.columns => {
                    m.rows.extend(r.rows);
                    m.warnings.extend(r.warnings);
                }
                Some(_) => {
                    return failed(
                        pivot,
                        all_bound,
                        "the runs for different values gave different columns".into(),
                    )
                }
            },
            Outcome::Failed(e) => return failed(pivot, all_bound, e),
            Outcome::Skipped(s) => return skipped(pivot, s),
        }
    }
    PivotAnswer {
        pivot: pivot.clone(),
        bound: all_bound,
        outcome: Outcome::Rows(merged.expect("at least one value ran")),
    }
}

fn execute(runner: &Runner, query: &str, params: &Params) -> Outcome {
    match runner.execute_with_params(query, params, runner.options()) {
        Ok(r) => Outcome::Rows(r),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

fn skipped(pivot: &Pivot, why: String) -> PivotAnswer {
    PivotAnswer {
        pivot: pivot.clone(),
        bound: Vec::new(),
        outcome: Outcome::Skipped(why),
    }
}

fn failed(pivot: &Pivot, bound: Vec<(String, String)>, why: String) -> PivotAnswer {
    PivotAnswer {
        pivot: pivot.clone(),
        bound,
        outcome: Outcome::Failed(why),
    }
}

/// First and last value of the `@timestamp` column.
fn time_span(r: &QueryResult) -> Option<(i64, i64)> {
    let col = r.columns.iter().position(|c| c.name == "@timestamp")?;
    let times = r.rows.iter().filter_map(|row| match row[col] {
        Value::Date(ms) => Some(ms),
        _ => None,
    });
    times.fold(None, |acc, t| match acc {
        None => Some((t, t)),
        Some((a, b)) => Some((a.min(t), b.max(t))),
    })
}

/// ISO-8601 UTC with milliseconds, as ES renders dates.
pub fn iso(ms: i64) -> String {
    engine::format::to_text(&Value::Date(ms), "")
}

/// A column's values by name, as `Value`s, one per row.
pub fn column<'r>(r: &'r QueryResult, name: &str) -> Option<impl Iterator<Item = &'r Value> + 'r> {
    let i = r.columns.iter().position(|c| c.name == name)?;
    Some(r.rows.iter().map(move |row| &row[i]))
}
