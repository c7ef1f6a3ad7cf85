//! Literals: strings, numbers (the narrowest of integer, long, unsigned_long, double),
//! time spans (`7 days`) and list literals (`[1, 2.5]`, one element type).

use super::Parser;
use crate::ast::*;
use crate::error::EsqlError;
use crate::lexer::{Tok, Token};
use crate::span::Span;

/// Why a list literal is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListError {
    MixedTypes,
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListError::MixedTypes => {
                f.write_str("list literal elements must all be of the same type")
            }
        }
    }
}

impl Parser<'_> {
    pub(super) fn string_literal(&mut self) -> Result<(String, Span), EsqlError> {
        match &self.tok.tok {
            Tok::Str(s) => {
                let r = (s.clone(), self.tok.span);
                self.advance()?;
                Ok(r)
            }
            _ => Err(self.mismatched("QUOTED_STRING")),
        }
    }

    /// An integer, or a time span when a unit follows (`7 day`, `7day`); `t` is the
    /// integer's token, still current.
    pub(super) fn number_literal(&mut self, t: &Token, text: &str) -> Result<Expr, EsqlError> {
        self.advance()?;
        // `7 day` / `7day`: a time-span literal.
        if let Tok::Ident(word) = &self.tok.tok {
            if let Some(unit) = TimeUnit::parse(word) {
                let unit_span = self.advance()?.span;
                let span = t.span.to(unit_span);
                let n: i64 = text.parse().map_err(|_| {
                    EsqlError::parsing(self.src, t.span, format!("Number [{text}] is too large"))
                })?;
                let ts = TimeSpan::of(n, unit)
                    .ok_or_else(|| EsqlError::parsing(self.src, span, "time span overflows"))?;
                return Ok(Expr {
                    kind: ExprKind::Literal(Literal::Span(ts)),
                    span,
                });
            }
        }
        Ok(Expr {
            kind: ExprKind::Literal(integer_literal(text)),
            span: t.span,
        })
    }

    pub(super) fn list_literal(&mut self) -> Result<Expr, EsqlError> {
        let open = self.advance()?.span;
        let mut items = vec![];
        if self.tok.tok != Tok::RBracket {
            loop {
                let negative = self.eat(&Tok::Minus)?;
                let t = self.advance()?;
                let item = match (&t.tok, negative) {
                    (Tok::Int(s), false) => integer_literal(s),
                    (Tok::Int(s), true) => negate_literal(integer_literal(s)),
                    (Tok::Decimal(v), n) => Literal::Double(if n { -v } else { *v }),
                    (Tok::Str(s), false) => Literal::Keyword(s.clone()),
                    (Tok::Ident(w), false) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
                    (Tok::Ident(w), false) if w.eq_ignore_ascii_case("false") => {
                        Literal::Bool(false)
                    }
                    _ => {
                        let found = t.tok.describe(self.text(t.span));
                        return Err(EsqlError::parsing(
                            self.src,
                            t.span,
                            format!("mismatched input {found} expecting {{QUOTED_STRING, INTEGER_LITERAL, DECIMAL_LITERAL, 'false', 'true'}}"),
                        ));
                    }
                };
                items.push(item);
                if !self.eat(&Tok::Comma)? {
                    break;
                }
            }
        }
        let close = self.expect(Tok::RBracket, "]")?;
        let span = open.to(close.span);
        unify_list(items)
            .map(|l| lit(l, span))
            .map_err(|m| EsqlError::parsing(self.src, span, m.to_string()))
    }
}

pub(super) fn lit(l: Literal, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Literal(l),
        span,
    }
}

/// The first of integer, long, unsigned_long, double that holds the literal (§2.4).
pub(super) fn integer_literal(text: &str) -> Literal {
    if let Ok(v) = text.parse::<i32>() {
        Literal::Integer(v)
    } else if let Ok(v) = text.parse::<i64>() {
        Literal::Long(v)
    } else if let Ok(v) = text.parse::<u64>() {
        Literal::UnsignedLong(v)
    } else {
        Literal::Double(text.parse::<f64>().unwrap_or(f64::INFINITY))
    }
}

pub(super) fn negate_literal(l: Literal) -> Literal {
    match l {
        Literal::Integer(v) => Literal::Integer(-v),
        Literal::Long(v) if v == i32::MAX as i64 + 1 => Literal::Integer(i32::MIN),
        Literal::Long(v) => Literal::Long(-v),
        Literal::UnsignedLong(v) if v == i64::MAX as u64 + 1 => Literal::Long(i64::MIN),
        Literal::UnsignedLong(v) => Literal::Double(-(v as f64)),
        Literal::Double(v) => Literal::Double(-v),
        other => other,
    }
}

/// List literals hold one kind; mixed integers and decimals become doubles, mixed integer
/// widths widen.
fn unify_list(items: Vec<Literal>) -> Result<Literal, ListError> {
    if items.is_empty() {
        return Ok(Literal::Null);
    }
    let rank = |l: &Literal| match l {
        Literal::Integer(_) => 0,
        Literal::Long(_) => 1,
        Literal::UnsignedLong(_) => 2,
        Literal::Double(_) => 3,
        _ => 9,
    };
    let numeric = items.iter().all(|l| rank(l) < 9);
    if numeric {
        let top = items.iter().map(rank).max().unwrap_or(0);
        let conv = items
            .into_iter()
            .map(|l| match (top, l) {
                (0, l) => l,
                (1, Literal::Integer(v)) => Literal::Long(v as i64),
                (2, Literal::Integer(v)) if v >= 0 => Literal::UnsignedLong(v as u64),
                (2, Literal::Long(v)) if v >= 0 => Literal::UnsignedLong(v as u64),
                (3, Literal::Integer(v)) => Literal::Double(v as f64),
                (3, Literal::Long(v)) => Literal::Double(v as f64),
                (3, Literal::UnsignedLong(v)) => Literal::Double(v as f64),
                (_, l) => l,
            })
            .collect();
        return Ok(Literal::List(conv));
    }
    let same = items
        .windows(2)
        .all(|w| std::mem::discriminant(&w[0]) == std::mem::discriminant(&w[1]));
    if !same {
        return Err(ListError::MixedTypes);
    }
    Ok(Literal::List(items))
}
