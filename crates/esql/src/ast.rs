//! The parsed query, before names and types are resolved. Every node keeps its span so
//! that later stages can name unnamed columns by their source text and point errors at
//! the right place.

use crate::span::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub source: SourceCommand,
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SourceCommand {
    From {
        patterns: Vec<(String, Span)>,
        metadata: Vec<(String, Span)>,
        span: Span,
    },
    Row {
        fields: Vec<Field>,
        span: Span,
    },
    /// `SHOW INFO` / `SHOW FUNCTIONS`: facts about the engine itself.
    Show {
        what: Show,
        span: Span,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    Info,
    Functions,
}

/// `[name =] expr` in ROW, EVAL, STATS and BY.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Explicit name; `None` means the column is named by the expression's source text.
    pub name: Option<(String, Span)>,
    pub expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AggField {
    pub field: Field,
    /// The per-aggregate `WHERE` filter (`STATS c = COUNT(*) WHERE x > 1`).
    pub filter: Option<Expr>,
}

/// An ENRICH `WITH` entry: optional new name, then the policy field.
pub type EnrichField = (Option<(String, Span)>, (String, Span));

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
    /// `None` = the default: nulls last for ASC, first for DESC.
    pub nulls_first: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Where {
        cond: Expr,
        span: Span,
    },
    Eval {
        fields: Vec<Field>,
        span: Span,
    },
    Stats {
        aggs: Vec<AggField>,
        groups: Vec<Field>,
        span: Span,
    },
    Keep {
        patterns: Vec<(String, Span)>,
        span: Span,
    },
    Drop {
        patterns: Vec<(String, Span)>,
        span: Span,
    },
    Rename {
        pairs: Vec<((String, Span), (String, Span))>,
        span: Span,
    },
    Sort {
        keys: Vec<SortKey>,
        span: Span,
    },
    Limit {
        n: u64,
        span: Span,
    },
    MvExpand {
        column: (String, Span),
        span: Span,
    },
    Dissect {
        input: Expr,
        pattern: (String, Span),
        append_separator: Option<String>,
        span: Span,
    },
    Grok {
        input: Expr,
        patterns: Vec<(String, Span)>,
        span: Span,
    },
    /// `LOOKUP JOIN index ON key[, key…]`.
    LookupJoin {
        index: (String, Span),
        keys: Vec<(String, Span)>,
        span: Span,
    },
    /// `ENRICH policy [ON field] [WITH [new =] field, …]`.
    Enrich {
        policy: (String, Span),
        on: Option<(String, Span)>,
        with: Vec<EnrichField>,
        span: Span,
    },
}

impl Command {
    pub fn span(&self) -> Span {
        match self {
            Command::Where { span, .. }
            | Command::Eval { span, .. }
            | Command::Stats { span, .. }
            | Command::Keep { span, .. }
            | Command::Drop { span, .. }
            | Command::Rename { span, .. }
            | Command::Sort { span, .. }
            | Command::Limit { span, .. }
            | Command::MvExpand { span, .. }
            | Command::Dissect { span, .. }
            | Command::Grok { span, .. }
            | Command::LookupJoin { span, .. }
            | Command::Enrich { span, .. } => *span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Integer(i32),
    Long(i64),
    UnsignedLong(u64),
    Double(f64),
    Keyword(String),
    /// `[1, 2, 3]`: elements share one kind.
    List(Vec<Literal>),
    /// `7 day`: a calendar or fixed time span.
    Span(TimeSpan),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
}

impl TimeUnit {
    /// Every spelling ES accepts (esql-spec §2.5), case-insensitively.
    pub fn parse(word: &str) -> Option<TimeUnit> {
        Some(match word.to_ascii_lowercase().as_str() {
            "year" | "years" | "y" | "yr" => TimeUnit::Year,
            "quarter" | "quarters" | "q" => TimeUnit::Quarter,
            "month" | "months" | "mo" => TimeUnit::Month,
            "week" | "weeks" | "w" => TimeUnit::Week,
            "day" | "days" | "d" => TimeUnit::Day,
            "hour" | "hours" | "h" => TimeUnit::Hour,
            "minute" | "minutes" | "m" | "min" => TimeUnit::Minute,
            "second" | "seconds" | "s" | "sec" => TimeUnit::Second,
            "millisecond" | "milliseconds" | "ms" => TimeUnit::Millisecond,
            _ => return None,
        })
    }

    /// Calendar units (`DATE_PERIOD`) move by calendar rules; the rest (`TIME_DURATION`) by
    /// a fixed number of milliseconds.
    pub fn is_calendar(self) -> bool {
        matches!(
            self,
            TimeUnit::Year | TimeUnit::Quarter | TimeUnit::Month | TimeUnit::Week | TimeUnit::Day
        )
    }
}

/// A span normalised to months + days + milliseconds, which is how calendar arithmetic
/// needs it (`1 month` is not a fixed duration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpan {
    pub months: i64,
    pub days: i64,
    pub millis: i64,
    pub calendar: bool,
}

impl TimeSpan {
    pub fn of(n: i64, unit: TimeUnit) -> Option<TimeSpan> {
        let calendar = unit.is_calendar();
        let (months, days, millis) = match unit {
            TimeUnit::Year => (n.checked_mul(12)?, 0, 0),
            TimeUnit::Quarter => (n.checked_mul(3)?, 0, 0),
            TimeUnit::Month => (n, 0, 0),
            TimeUnit::Week => (0, n.checked_mul(7)?, 0),
            TimeUnit::Day => (0, n, 0),
            TimeUnit::Hour => (0, 0, n.checked_mul(3_600_000)?),
            TimeUnit::Minute => (0, 0, n.checked_mul(60_000)?),
            TimeUnit::Second => (0, 0, n.checked_mul(1000)?),
            TimeUnit::Millisecond => (0, 0, n),
        };
        Some(TimeSpan {
            months,
            days,
            millis,
            calendar,
        })
    }

    pub fn negate(self) -> TimeSpan {
        TimeSpan {
            months: -self.months,
            days: -self.days,
            millis: -self.millis,
            calendar: self.calendar,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Eq => "==",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge
        )
    }

    pub fn is_arithmetic(self) -> bool {
        matches!(
            self,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    Column(String),
    /// `f(args)`; `COUNT(*)` has the single argument [`ExprKind::Star`].
    Call {
        name: String,
        name_span: Span,
        args: Vec<Expr>,
    },
    Star,
    /// `LIKE`/`RLIKE` whose pattern is an expression (`LIKE CONCAT(p, "*")`, `LIKE p`).
    LikeExpr {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
        regex: bool,
    },
    /// A function's trailing named options, `{"key": constant, …}` (esql-spec §2.7).
    Options(Vec<(String, Literal)>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// `LIKE` (wildcards) or `RLIKE` (Lucene regex), with one or more patterns.
    Like {
        expr: Box<Expr>,
        patterns: Vec<(String, Span)>,
        negated: bool,
        regex: bool,
    },
    /// `expr::type`.
    Cast {
        expr: Box<Expr>,
        type_name: String,
        type_span: Span,
    },
}
