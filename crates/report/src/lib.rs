//! The investigation report: what was run over which data, the findings with their
//! verdicts, each finding's pivot tables and a timeline of the principal's activity.
//!
//! * [`html`]: one self-contained file. Styles and the chart (SVG) are inline, a
//!   Content-Security-Policy forbids every network load, and every string from the data is
//!   escaped (attacker-controlled user agents and request parameters end up here).
//! * [`markdown`]: the same content as Markdown, with cells escaped so data cannot break
//!   the table or inject markup.

mod html;
mod markdown;
pub mod timeline;

pub use html::html;
pub use markdown::markdown;

use engine::QueryResult;
use hunts::Hunt;
use investigate::{Finding, Investigation};

/// Everything a report shows.
pub struct Report<'a> {
    /// "trailhunt 0.1.0".
    pub tool: String,
    /// What was read: the inputs or the store.
    pub data: String,
    /// `NOW()` of the run, ISO-8601.
    pub now: String,
    /// The investigation window, in words ("1 h").
    pub window: String,
    pub sections: Vec<Section<'a>>,
}

/// One query of one hunt and what came of it.
pub struct Section<'a> {
    pub hunt: &'a Hunt,
    pub query_index: usize,
    pub query: &'a str,
    /// `fired`, `no rows`, `error`, …
    pub status: String,
    pub result: Option<&'a QueryResult>,
    pub error: Option<String>,
    pub investigation: Option<&'a Investigation>,
}

impl Report<'_> {
    /// Every investigated finding with the section it belongs to, in report order; the
    /// number is the finding's anchor (`finding-N`).
    pub fn findings(&self) -> Vec<(usize, &Section<'_>, &Finding)> {
        let mut out = Vec::new();
        for s in &self.sections {
            if let Some(inv) = s.investigation {
                for f in &inv.findings {
                    out.push((out.len() + 1, s, f));
                }
            }
        }
        out
    }
}

/// A short description of a finding row: its action(s) and when.
pub(crate) fn finding_what(f: &Finding) -> String {
    let mut parts = Vec::new();
    for key in ["event.action", "actions", "event.provider", "services"] {
        if let Some((_, v)) = f.row.iter().find(|(c, _)| c.name == key) {
            if !v.is_null() {
                parts.push(engine::format::to_text(v, ""));
            }
            if key == "event.action" || key == "actions" {
                break;
            }
        }
    }
    parts.join(" ")
}

/// The finding's span in words.
pub(crate) fn finding_when(f: &Finding) -> String {
    match f.span {
        Some((a, b)) if a == b => investigate::iso(a),
        Some((a, b)) => format!("{} … {}", investigate::iso(a), investigate::iso(b)),
        None => String::new(),
    }
}

/// The verdict's evidence for the findings table: each item cut to a readable length
/// (the finding's own section has it whole).
pub(crate) fn because_short(f: &Finding) -> String {
    const MAX: usize = 90;
    f.verdict
        .evidence
        .iter()
        .map(|e| {
            if e.text.chars().count() > MAX {
                let cut: String = e.text.chars().take(MAX).collect();
                format!("{}…", cut.trim_end())
            } else {
                e.text.clone()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Pivots the report shows as a chart rather than a table.
pub(crate) const CHART_ONLY: &[&str] = &["timeline"];
