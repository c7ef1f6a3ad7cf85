//! The typed IR: what the analyzer hands to the planner. Every expression carries its
//! ES|QL type and span, every step the columns it sees are known, so the engine never
//! resolves a name or checks a type again. Kept apart from the analyzer so that readers of
//! the planner see the contract without the checking code.

use crate::ast::{BinaryOp, Literal};
use crate::span::Span;
use crate::types::DataType;

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: DataType,
}

/// A typed expression. `span` is kept for warnings (`Line L:C: evaluation of [...]`).
#[derive(Debug, Clone, PartialEq)]
pub struct TExpr {
    pub kind: TKind,
    pub ty: DataType,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TKind {
    Literal(Literal),
    Column(String),
    /// A scalar function (canonical name).
    Call {
        name: String,
        args: Vec<TExpr>,
    },
    /// An aggregate (only inside STATS aggregate expressions).
    Agg {
        name: String,
        args: Vec<TExpr>,
        filter: Option<Box<TExpr>>,
    },
    Neg(Box<TExpr>),
    Not(Box<TExpr>),
    Binary {
        op: BinaryOp,
        left: Box<TExpr>,
        right: Box<TExpr>,
    },
    IsNull {
        expr: Box<TExpr>,
        negated: bool,
    },
    In {
        expr: Box<TExpr>,
        list: Vec<TExpr>,
        negated: bool,
    },
    Like {
        expr: Box<TExpr>,
        patterns: Vec<String>,
        negated: bool,
        regex: bool,
    },
    /// A conversion, explicit (`::type`) or implicit (string literal to date/ip/…).
    Cast {
        expr: Box<TExpr>,
        to: DataType,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TSortKey {
    pub expr: TExpr,
    pub descending: bool,
    pub nulls_first: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TSource {
    /// The data behind the index patterns, with the columns the resolver reported and the
    /// `METADATA` fields asked for (in the written order; they follow `columns` in the
    /// first command's input, as in ES).
    From {
        patterns: Vec<String>,
        columns: Vec<Column>,
        metadata: Vec<Column>,
    },
    Row(Vec<(String, TExpr)>),
    /// `SHOW INFO` / `SHOW FUNCTIONS`; the engine supplies the rows.
    Show(crate::ast::Show),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Where(TExpr),
    /// Assignments in order; each may see the previous ones.
    Eval(Vec<(String, TExpr)>),
    Stats {
        aggs: Vec<(String, TExpr)>,
        groups: Vec<(String, TExpr)>,
    },
    /// The output columns as (input name, output name), in order. KEEP, DROP and RENAME
    /// all become this, with wildcards already expanded.
    Project(Vec<(String, String)>),
    Sort(Vec<TSortKey>),
    Limit(u64),
    /// One row per value of the column.
    MvExpand(String),
    /// New keyword columns (in order) cut out of `input` by the pattern.
    Dissect {
        input: TExpr,
        pattern: crate::dissect::DissectPattern,
        separator: String,
        fields: Vec<String>,
    },
    /// Left outer join with a lookup dataset on equal keys; `added` columns go to the end.
    LookupJoin {
        index: String,
        keys: Vec<String>,
        added: Vec<Column>,
        /// The command, for warnings about multi-valued keys.
        span: Span,
    },
    /// Left join on `left_key == match_field`, adding (output name, policy field) columns.
    Enrich {
        index: String,
        left_key: String,
        match_field: String,
        fields: Vec<(String, String)>,
        span: Span,
    },
    /// New typed columns matched by the first of the patterns that matches.
    Grok {
        input: TExpr,
        patterns: Vec<crate::grok::GrokPattern>,
        fields: Vec<(String, DataType)>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Analyzed {
    pub source: TSource,
    pub steps: Vec<Step>,
    pub columns: Vec<Column>,
    /// Analysis-time warnings (shadowed STATS columns), in ES's wording.
    pub warnings: Vec<String>,
}

/// Whether the expression folds to a constant (literals and functions of them, `NOW()`).
pub fn is_constant(e: &TExpr) -> bool {
    match &e.kind {
        TKind::Literal(_) => true,
        TKind::Column(_) | TKind::Agg { .. } => false,
        TKind::Call { name, args } => name == "NOW" || args.iter().all(is_constant),
        TKind::Neg(x) | TKind::Not(x) => is_constant(x),
        TKind::Cast { expr, .. } => is_constant(expr),
        TKind::IsNull { expr, .. } | TKind::Like { expr, .. } => is_constant(expr),
        TKind::Binary { left, right, .. } => is_constant(left) && is_constant(right),
        TKind::In { expr, list, .. } => is_constant(expr) && list.iter().all(is_constant),
    }
}

pub fn contains_agg(e: &TExpr) -> bool {
    match &e.kind {
        TKind::Agg { .. } => true,
        TKind::Literal(_) | TKind::Column(_) => false,
        TKind::Call { args, .. } => args.iter().any(contains_agg),
        TKind::Neg(x) | TKind::Not(x) => contains_agg(x),
        TKind::Cast { expr, .. } | TKind::IsNull { expr, .. } | TKind::Like { expr, .. } => {
            contains_agg(expr)
        }
        TKind::Binary { left, right, .. } => contains_agg(left) || contains_agg(right),
        TKind::In { expr, list, .. } => contains_agg(expr) || list.iter().any(contains_agg),
    }
}
