//! Lint of hunt and rule queries: the defects of `docs/hunting-library.md` §f that can be
//! seen in the query text, each with its position, why it is probably wrong, and the
//! corrected text. (Being written.)

use crate::Hunt;

/// One probable defect in a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A short stable identifier of the check, e.g. `week-year-date-format`.
    pub code: &'static str,
    /// 1-based line and column in the query text.
    pub line: usize,
    pub column: usize,
    /// What is wrong and why.
    pub message: String,
    /// The corrected text for the flagged part, when there is one.
    pub fix: Option<String>,
}

/// A finding in one query (0-based index into `Hunt::queries`) of a hunt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuntFinding {
    pub query: usize,
    pub finding: Finding,
}

/// Lints one ES|QL query.
pub fn lint_query(query: &str) -> Vec<Finding> {
    let _ = query;
    Vec::new()
}

/// Lints every ES|QL query of a hunt, plus checks that need the hunt's metadata.
pub fn lint_hunt(hunt: &Hunt) -> Vec<HuntFinding> {
    hunt.esql_queries()
        .into_iter()
        .flat_map(|(query, text)| {
            lint_query(text)
                .into_iter()
                .map(move |finding| HuntFinding { query, finding })
        })
        .collect()
}
