//! Name resolution and typing (esql-spec §4, §8, §9, §10): turns the AST into a typed
//! pipeline (the IR in [`crate::typed`]) whose column list is known after every step,
//! reporting problems the way ES's verifier does (all of them, each with its position).
//!
//! This module holds the driver and the state shared by every clause; each command is
//! checked in its own file under `commands/`, expressions in `expr.rs`, function calls in
//! `call.rs` and "did you mean" hints in `suggest.rs`, the way DataFusion's `sql` crate
//! splits its planner by clause.

mod call;
mod commands;
mod expr;
mod suggest;

use crate::ast::*;
use crate::catalog::Catalog;
use crate::error::{EsqlError, Problem};
use crate::span::{Position, Span};
use crate::types::DataType;
use suggest::similar_names;

pub use crate::typed::{
    contains_agg, is_constant, Analyzed, Column, Step, TExpr, TKind, TSortKey, TSource,
};
pub use commands::{show_columns, wildcard_match};
pub use expr::{castable, comparable, literal_type};

/// Rows returned when nothing bounds the result (`esql.query.result_truncation_default_size`).
pub const DEFAULT_LIMIT: u64 = 1000;
/// The most rows a query may return (`esql.query.result_truncation_max_size`).
pub const MAX_LIMIT: u64 = 10_000;

/// Tells the analyzer which columns an index pattern list has.
pub trait SourceResolver {
    /// An error becomes a verification problem at the pattern (`Unknown index [x]`).
    fn resolve(&self, patterns: &[String]) -> Result<Vec<Column>, ResolveError>;

    /// An ENRICH policy: the lookup data it reads and its match field.
    fn enrich_policy(&self, name: &str) -> Result<EnrichPolicy, ResolveError> {
        Err(ResolveError::UnknownEnrichPolicy(name.to_string()))
    }
}

/// Why a [`SourceResolver`] could not answer; `Display` is Elasticsearch's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// No index matches: `Unknown index [pattern]`.
    UnknownIndex(String),
    /// `unresolved enrich policy [name]`.
    UnknownEnrichPolicy(String),
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::UnknownIndex(p) => write!(f, "Unknown index [{p}]"),
            ResolveError::UnknownEnrichPolicy(n) => write!(f, "unresolved enrich policy [{n}]"),
        }
    }
}

impl std::error::Error for ResolveError {}

#[derive(Debug, Clone, PartialEq)]
pub struct EnrichPolicy {
    /// The dataset holding the policy's data.
    pub index: String,
    pub match_field: String,
    pub columns: Vec<Column>,
}

pub fn analyze(
    source: &str,
    query: &Query,
    catalog: &dyn Catalog,
    resolver: &dyn SourceResolver,
) -> Result<Analyzed, EsqlError> {
    let mut a = Analyzer {
        src: source,
        catalog,
        resolver,
        problems: vec![],
        warnings: vec![],
    };
    let mut result = a.run(query, resolver);
    result.warnings = std::mem::take(&mut a.warnings);
    if a.problems.is_empty() {
        Ok(result)
    } else {
        Err(EsqlError::verification(a.problems))
    }
}

struct Analyzer<'a> {
    src: &'a str,
    /// Warnings found while analyzing (ES sends them with the response).
    warnings: Vec<String>,
    catalog: &'a dyn Catalog,
    resolver: &'a dyn SourceResolver,
    problems: Vec<Problem>,
}

/// Marker type for expressions that failed to type; keeps analysis going to collect more
/// problems without cascading messages.
const ERR: DataType = DataType::Unsupported;

impl<'a> Analyzer<'a> {
    fn problem(&mut self, span: Span, message: impl Into<String>) {
        self.problems.push(Problem {
            span,
            position: Position::of(self.src, span.start),
            message: message.into(),
        });
    }

    fn text(&self, span: Span) -> &'a str {
        span.text(self.src)
    }

    fn run(&mut self, query: &Query, resolver: &dyn SourceResolver) -> Analyzed {
        let (source, mut columns) = match self.source_command(&query.source, resolver) {
            Ok(sc) => sc,
            // Without the index nothing else can be checked; ES reports only this.
            Err(source) => {
                return Analyzed {
                    source,
                    steps: vec![],
                    columns: vec![],
                    warnings: vec![],
                }
            }
        };
        let mut steps = vec![];
        for cmd in &query.commands {
            if let Some(step) = self.command(cmd, &mut columns) {
                steps.push(step);
            }
        }
        match steps.last() {
            Some(Step::Limit(_)) => {}
            _ => steps.push(Step::Limit(DEFAULT_LIMIT)),
        }
        Analyzed {
            source,
            steps,
            columns,
            warnings: vec![],
        }
    }

    /// Where a field's name is: the explicit name, else the expression.
    fn field_span(&self, f: &Field) -> Span {
        f.name.as_ref().map(|(_, s)| *s).unwrap_or(f.expr.span)
    }

    /// ES warns when a later STATS column hides an earlier one of the same name.
    fn shadowed(&mut self, name: &str, earlier: Span, later: Span) {
        let a = Position::of(self.src, earlier.start);
        let b = Position::of(self.src, later.start);
        self.warnings.push(format!(
            "Line {a}: Field '{name}' shadowed by field at line {b}"
        ));
    }

    fn field_name(&self, f: &Field) -> String {
        match (&f.name, &f.expr.kind) {
            (Some((n, _)), _) => n.clone(),
            (None, ExprKind::Column(c)) => c.clone(),
            (None, _) => self.text(f.expr.span).to_string(),
        }
    }

    fn check_not_span(&mut self, e: &TExpr) {
        if e.ty.is_span() {
            self.problem(
                e.span,
                format!(
                    "EVAL does not support type [{}] as the return data type of expression [{}]",
                    e.ty.name(),
                    self.text(e.span)
                ),
            );
        }
    }

    fn lookup_column(&mut self, name: &str, span: Span, columns: &[Column]) -> Option<DataType> {
        if let Some(c) = columns.iter().find(|c| c.name == name) {
            return Some(c.ty);
        }
        let similar = similar_names(name, columns);
        let msg = match similar.len() {
            0 => format!("Unknown column [{name}]"),
            1 => format!("Unknown column [{name}], did you mean [{}]?", similar[0]),
            _ => format!(
                "Unknown column [{name}], did you mean any of [{}]?",
                similar.join(", ")
            ),
        };
        self.problem(span, msg);
        None
    }
}

/// What expressions inside `STATS` see: the grouping keys (by name) and the aggregate's
/// `WHERE` filter.
struct AggContext<'g> {
    groups: &'g [(String, TExpr)],
    filter: Option<TExpr>,
}
