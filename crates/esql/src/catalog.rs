//! What the analyzer needs to know about functions, without knowing how they run. The
//! engine owns the function library (one small file per function family) and exposes each
//! function's [`Signature`] through a [`Catalog`]; keeping only the contract here lets the
//! language crate stay free of DataFusion.

use crate::types::DataType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKind {
    Scalar,
    Aggregate,
}

/// Why a call's arguments do not fit the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgError {
    /// Wrong number of arguments; the text follows ES (`expects exactly one argument`).
    Arity(String),
    /// Argument `index` (0-based) has the wrong type; `expected` lists what is accepted
    /// (`datetime`, `string`, `numeric`, …).
    Type { index: usize, expected: String },
    /// Argument `index` must be a constant (e.g. the DATE_TRUNC interval).
    NotConstant { index: usize },
    /// Anything else, with ES's message.
    Other(String),
}

/// The argument types and the "is it a literal" facts the type rule may need.
pub struct Args<'a> {
    pub types: &'a [DataType],
    pub constant: &'a [bool],
}

pub type TypeRule = fn(&Args<'_>) -> Result<DataType, ArgError>;

#[derive(Clone)]
pub struct Signature {
    /// Canonical (upper-case) name as ES documents it.
    pub name: &'static str,
    pub kind: FunctionKind,
    /// Checks arity and argument types and returns the result type.
    pub rule: TypeRule,
}

pub trait Catalog {
    /// Case-insensitive lookup, aliases included (`TO_STR` → `TO_STRING`).
    fn lookup(&self, name: &str) -> Option<Signature>;

    /// A call's named options (`TO_IP(s, {"leading_zeros": "octal"})`): the name of the
    /// function that implements the call with them (looked up again), or ES's complaint,
    /// in which `{call}` stands for the call's source text.
    fn with_options(
        &self,
        name: &str,
        options: &[(String, crate::ast::Literal)],
    ) -> Result<&'static str, String> {
        let _ = options;
        Err(format!(
            "function [{}] does not take named options",
            name.to_ascii_lowercase()
        ))
    }
}

// ---- helpers for writing type rules ---------------------------------------------------

/// `expects exactly one argument` & co.: ES spells small numbers out.
pub fn arity(args: &Args<'_>, min: usize, max: Option<usize>) -> Result<(), ArgError> {
    let n = args.types.len();
    let word = |k: usize| match k {
        0 => "no".to_string(),
        1 => "one".to_string(),
        2 => "two".to_string(),
        3 => "three".to_string(),
        4 => "four".to_string(),
        k => k.to_string(),
    };
    let plural = |k: usize| if k == 1 { "argument" } else { "arguments" };
    match max {
        Some(max) if min == max && n != min => Err(ArgError::Arity(format!(
            "expects exactly {} {}",
            word(min),
            plural(min)
        ))),
        Some(max) if n > max => Err(ArgError::Arity(format!(
            "expects at most {} {}",
            word(max),
            plural(max)
        ))),
        _ if n < min => Err(ArgError::Arity(format!(
            "expects at least {} {}",
            word(min),
            plural(min)
        ))),
        _ => Ok(()),
    }
}

/// Null is acceptable wherever a value is: the call then yields null.
pub fn expect(
    args: &Args<'_>,
    index: usize,
    ok: fn(DataType) -> bool,
    expected: &str,
) -> Result<(), ArgError> {
    let t = args.types[index];
    if t == DataType::Null || ok(t) {
        Ok(())
    } else {
        Err(ArgError::Type {
            index,
            expected: expected.to_string(),
        })
    }
}

pub fn is_string(t: DataType) -> bool {
    t.is_string()
}

pub fn is_numeric(t: DataType) -> bool {
    t.is_numeric()
}

pub fn is_integral(t: DataType) -> bool {
    matches!(t, DataType::Integer | DataType::Long)
}

pub fn is_date(t: DataType) -> bool {
    t == DataType::Date
}

pub fn is_ip(t: DataType) -> bool {
    t == DataType::Ip
}

pub fn is_boolean(t: DataType) -> bool {
    t == DataType::Boolean
}

pub fn is_any(t: DataType) -> bool {
    !matches!(
        t,
        DataType::Unsupported | DataType::DatePeriod | DataType::TimeDuration
    )
}

pub fn is_span(t: DataType) -> bool {
    t.is_span()
}

/// Types with an order, for MIN/MAX/GREATEST/LEAST/SORT.
pub fn is_orderable(t: DataType) -> bool {
    t.is_numeric()
        || t.is_string()
        || matches!(
            t,
            DataType::Boolean | DataType::Date | DataType::Ip | DataType::Version
        )
}

/// ES's ordinal words for argument positions in messages.
pub fn ordinal(index: usize) -> &'static str {
    [
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
        "tenth",
    ]
    .get(index)
    .copied()
    .unwrap_or("an")
}
