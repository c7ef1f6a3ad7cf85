//! Expressions, loosest-binding first: `OR`, `AND`, `NOT`, predicates (`IN`, `LIKE`,
//! `RLIKE`, `IS NULL`), comparisons (which do not chain), `+ -`, `* / %`, unary minus,
//! `::` casts, and primaries (literals, parameters, columns, function calls with named
//! options).

use super::literal::{lit, negate_literal};
use super::{Parser, RESERVED};
use crate::ast::*;
use crate::error::EsqlError;
use crate::lexer::Tok;
use crate::params::ParamValue;
use crate::span::Span;

impl Parser<'_> {
    pub(super) fn expr(&mut self) -> Result<Expr, EsqlError> {
        let base = self.depth;
        self.deeper()?;
        let e = self.or_expr()?;
        self.depth = base;
        Ok(e)
    }

    fn or_expr(&mut self) -> Result<Expr, EsqlError> {
        let base = self.depth;
        let mut left = self.and_expr()?;
        while self.is_kw("or") {
            self.deeper()?;
            self.advance()?;
            let right = self.and_expr()?;
            left = binary(BinaryOp::Or, left, right);
        }
        self.depth = base;
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, EsqlError> {
        let base = self.depth;
        let mut left = self.not_expr()?;
        while self.is_kw("and") {
            self.deeper()?;
            self.advance()?;
            let right = self.not_expr()?;
            left = binary(BinaryOp::And, left, right);
        }
        self.depth = base;
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr, EsqlError> {
        if self.is_kw("not") {
            let start = self.advance()?.span;
            let base = self.depth;
            self.deeper()?;
            let inner = self.not_expr()?;
            self.depth = base;
            let span = start.to(inner.span);
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span,
            });
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, EsqlError> {
        let value = self.comparison()?;
        let negated = if self.is_kw("not") {
            // Only `NOT IN`, `NOT LIKE`, `NOT RLIKE` continue a predicate.
            self.advance()?;
            if !(self.is_kw("in") || self.is_kw("like") || self.is_kw("rlike")) {
                return Err(self.mismatched("{IN, LIKE, RLIKE}"));
            }
            true
        } else {
            false
        };
        if self.eat_kw("in")? {
            return self.in_list(value, negated);
        }
        let regex = self.is_kw("rlike");
        if regex || self.is_kw("like") {
            self.advance()?;
            return self.like(value, negated, regex);
        }
        if negated {
            return Err(self.mismatched("{IN, LIKE, RLIKE}"));
        }
        if self.is_kw("is") {
            return self.is_null(value);
        }
        Ok(value)
    }

    /// `value [NOT] IN (expr, …)`, after the `IN`.
    fn in_list(&mut self, value: Expr, negated: bool) -> Result<Expr, EsqlError> {
        self.expect(Tok::LParen, "(")?;
        let mut list = vec![self.expr()?];
        while self.eat(&Tok::Comma)? {
            list.push(self.expr()?);
        }
        let close = self.expect(Tok::RParen, ")")?;
        let span = value.span.to(close.span);
        Ok(Expr {
            kind: ExprKind::In {
                expr: Box::new(value),
                list,
                negated,
            },
            span,
        })
    }

    /// `value [NOT] LIKE|RLIKE "p"`, `(…)` or an expression (a parameter), after the keyword.
    fn like(&mut self, value: Expr, negated: bool, regex: bool) -> Result<Expr, EsqlError> {
        if !matches!(self.tok.tok, Tok::Str(_) | Tok::LParen) {
            let pattern = self.unary()?;
            let span = value.span.to(pattern.span);
            return Ok(Expr {
                kind: ExprKind::LikeExpr {
                    expr: Box::new(value),
                    pattern: Box::new(pattern),
                    negated,
                    regex,
                },
                span,
            });
        }
        let mut patterns = vec![];
        let end;
        if self.tok.tok == Tok::LParen {
            self.advance()?;
            loop {
                patterns.push(self.string_literal()?);
                if !self.eat(&Tok::Comma)? {
                    break;
                }
            }
            end = self.expect(Tok::RParen, ")")?.span;
        } else {
            let p = self.string_literal()?;
            end = p.1;
            patterns.push(p);
        }
        let span = value.span.to(end);
        Ok(Expr {
            kind: ExprKind::Like {
                expr: Box::new(value),
                patterns,
                negated,
                regex,
            },
            span,
        })
    }

    /// `value IS [NOT] NULL`, at the `IS`.
    fn is_null(&mut self, value: Expr) -> Result<Expr, EsqlError> {
        self.advance()?;
        let negated = self.eat_kw("not")?;
        if !self.is_kw("null") {
            return Err(self.mismatched("{'not', 'null'}"));
        }
        let end = self.advance()?.span;
        let span = value.span.to(end);
        Ok(Expr {
            kind: ExprKind::IsNull {
                expr: Box::new(value),
                negated,
            },
            span,
        })
    }

    fn comparison(&mut self) -> Result<Expr, EsqlError> {
        let left = self.additive()?;
        let op = match self.tok.tok {
            Tok::Eq => BinaryOp::Eq,
            Tok::NotEq => BinaryOp::NotEq,
            Tok::Lt => BinaryOp::Lt,
            Tok::Le => BinaryOp::Le,
            Tok::Gt => BinaryOp::Gt,
            Tok::Ge => BinaryOp::Ge,
            Tok::Assign => {
                return Err(EsqlError::parsing(
                    self.src,
                    self.tok.span,
                    "mismatched input '=' expecting {'==', '!=', '<', '<=', '>', '>='} (use == to compare)",
                ))
            }
            _ => return Ok(left),
        };
        self.advance()?;
        let right = self.additive()?;
        if matches!(
            self.tok.tok,
            Tok::Eq | Tok::NotEq | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge
        ) {
            // Comparisons do not chain in ES|QL.
            return Err(self.mismatched("{<EOF>, '|', 'and', 'or'}"));
        }
        Ok(binary(op, left, right))
    }

    fn additive(&mut self) -> Result<Expr, EsqlError> {
        let base = self.depth;
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.tok.tok {
                Tok::Plus => BinaryOp::Add,
                Tok::Minus => BinaryOp::Sub,
                _ => {
                    self.depth = base;
                    return Ok(left);
                }
            };
            self.deeper()?;
            self.advance()?;
            let right = self.multiplicative()?;
            left = binary(op, left, right);
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, EsqlError> {
        let base = self.depth;
        let mut left = self.unary()?;
        loop {
            let op = match self.tok.tok {
                Tok::Star => BinaryOp::Mul,
                Tok::Slash => BinaryOp::Div,
                Tok::Percent => BinaryOp::Mod,
                _ => {
                    self.depth = base;
                    return Ok(left);
                }
            };
            self.deeper()?;
            self.advance()?;
            let right = self.unary()?;
            left = binary(op, left, right);
        }
    }

    pub(super) fn unary(&mut self) -> Result<Expr, EsqlError> {
        match self.tok.tok {
            Tok::Minus => {
                let start = self.advance()?.span;
                let base = self.depth;
                self.deeper()?;
                let inner = self.unary()?;
                self.depth = base;
                let span = start.to(inner.span);
                Ok(Expr {
                    kind: ExprKind::Neg(Box::new(inner)),
                    span,
                })
            }
            Tok::Plus => {
                self.advance()?;
                let base = self.depth;
                self.deeper()?;
                let e = self.unary()?;
                self.depth = base;
                Ok(e)
            }
            _ => self.postfix(),
        }
    }

    pub(super) fn postfix(&mut self) -> Result<Expr, EsqlError> {
        let base = self.depth;
        let mut e = self.primary()?;
        while self.tok.tok == Tok::Cast {
            self.deeper()?;
            self.advance()?;
            let (type_name, type_span) = match &self.tok.tok {
                Tok::Ident(s) => (s.clone(), self.tok.span),
                _ => return Err(self.mismatched("{UNQUOTED_IDENTIFIER}")),
            };
            self.advance()?;
            let span = e.span.to(type_span);
            e = Expr {
                kind: ExprKind::Cast {
                    expr: Box::new(e),
                    type_name,
                    type_span,
                },
                span,
            };
        }
        self.depth = base;
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, EsqlError> {
        let t = self.tok.clone();
        match &t.tok {
            Tok::Int(text) => self.number_literal(&t, text),
            Tok::Decimal(v) => {
                self.advance()?;
                Ok(Expr {
                    kind: ExprKind::Literal(Literal::Double(*v)),
                    span: t.span,
                })
            }
            Tok::Str(s) => {
                self.advance()?;
                Ok(Expr {
                    kind: ExprKind::Literal(Literal::Keyword(s.clone())),
                    span: t.span,
                })
            }
            Tok::Param(name) => {
                self.advance()?;
                let kind = match self.bind(name, t.span)? {
                    ParamValue::Value(l) => ExprKind::Literal(l),
                    ParamValue::Identifier(id) => ExprKind::Column(id),
                };
                Ok(Expr { kind, span: t.span })
            }
            Tok::LParen => {
                self.advance()?;
                let inner = self.expr()?;
                let close = self.expect(Tok::RParen, ")")?;
                Ok(Expr {
                    kind: inner.kind,
                    span: t.span.to(close.span),
                })
            }
            Tok::LBracket => self.list_literal(),
            Tok::Ident(word) => {
                let lower = word.to_ascii_lowercase();
                match lower.as_str() {
                    "null" => {
                        self.advance()?;
                        return Ok(lit(Literal::Null, t.span));
                    }
                    "true" | "false" => {
                        self.advance()?;
                        return Ok(lit(Literal::Bool(lower == "true"), t.span));
                    }
                    _ => {}
                }
                // A function call is a name directly followed by `(`.
                let save = self.lexer.position();
                let next = self.lexer.next_token()?;
                self.lexer.reset(save);
                if next.tok == Tok::LParen && !RESERVED.contains(&lower.as_str()) {
                    return self.call();
                }
                let (name, span) = self.qualified_name()?;
                Ok(Expr {
                    kind: ExprKind::Column(name),
                    span,
                })
            }
            Tok::QuotedIdent(_) => {
                let (name, span) = self.qualified_name()?;
                Ok(Expr {
                    kind: ExprKind::Column(name),
                    span,
                })
            }
            _ => {
                let found = t.tok.describe(self.text(t.span));
                Err(EsqlError::parsing(
                    self.src,
                    t.span,
                    format!(
                        "extraneous input {found} expecting {{QUOTED_STRING, INTEGER_LITERAL, DECIMAL_LITERAL, 'false', 'null', '?', 'true', '+', '-', '[', '(', UNQUOTED_IDENTIFIER, QUOTED_IDENTIFIER}}"
                    ),
                ))
            }
        }
    }

    fn call(&mut self) -> Result<Expr, EsqlError> {
        let name_tok = self.advance()?;
        let Tok::Ident(name) = name_tok.tok else {
            unreachable!("caller checked")
        };
        self.expect(Tok::LParen, "(")?;
        let mut args = vec![];
        if self.tok.tok == Tok::Star {
            let s = self.advance()?.span;
            args.push(Expr {
                kind: ExprKind::Star,
                span: s,
            });
        } else if self.tok.tok != Tok::RParen {
            loop {
                if self.tok.tok == Tok::LBrace && !args.is_empty() {
                    // Named options come last.
                    args.push(self.options()?);
                    break;
                }
                args.push(self.expr()?);
                if !self.eat(&Tok::Comma)? {
                    break;
                }
            }
        }
        let close = self.expect(Tok::RParen, ")")?;
        Ok(Expr {
            kind: ExprKind::Call {
                name,
                name_span: name_tok.span,
                args,
            },
            span: name_tok.span.to(close.span),
        })
    }

    /// `{"key": constant, …}`; keys are strings, values literals (or bound parameters).
    fn options(&mut self) -> Result<Expr, EsqlError> {
        let open = self.advance()?.span;
        let mut entries: Vec<(String, Literal)> = vec![];
        loop {
            let key_tok = self.advance()?;
            let Tok::Str(key) = &key_tok.tok else {
                let found = key_tok.tok.describe(self.text(key_tok.span));
                return Err(EsqlError::parsing(
                    self.src,
                    key_tok.span,
                    format!("mismatched input {found} expecting QUOTED_STRING"),
                ));
            };
            self.expect(Tok::Colon, ":")?;
            let value = self.unary()?;
            let lit = match value.kind {
                ExprKind::Literal(l) => l,
                ExprKind::Neg(inner) => match inner.kind {
                    ExprKind::Literal(l) => negate_literal(l),
                    _ => return Err(self.not_constant_option(value.span)),
                },
                _ => return Err(self.not_constant_option(value.span)),
            };
            if entries.iter().any(|(k, _)| k == key) {
                return Err(EsqlError::parsing(
                    self.src,
                    key_tok.span,
                    format!(
                        "Duplicated function arguments with the same name [{key}] is not supported"
                    ),
                ));
            }
            entries.push((key.clone(), lit));
            if !self.eat(&Tok::Comma)? {
                break;
            }
        }
        let close = self.expect(Tok::RBrace, "}")?;
        Ok(Expr {
            kind: ExprKind::Options(entries),
            span: open.to(close.span),
        })
    }

    fn not_constant_option(&self, span: Span) -> EsqlError {
        EsqlError::parsing(
            self.src,
            span,
            format!(
                "Invalid named function argument [{}], only constant value is supported",
                self.text(span)
            ),
        )
    }
}

fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    let span = left.span.to(right.span);
    Expr {
        kind: ExprKind::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        },
        span,
    }
}
