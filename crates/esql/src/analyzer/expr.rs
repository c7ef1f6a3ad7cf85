//! Typing expressions: literals, column references, operators (§4), predicates (`IN`,
//! `LIKE`, `IS NULL`), casts, and the implicit conversions of string literals. Function
//! calls are in `call.rs`. Each expression kind has its own method so that its ES message
//! sits next to the rule that raises it.

use crate::analyzer::{AggContext, Analyzer, ERR};
use crate::ast::*;
use crate::span::Span;
use crate::typed::{Column, TExpr, TKind};
use crate::types::DataType;

impl Analyzer<'_> {
    pub(super) fn expr(
        &mut self,
        e: &Expr,
        columns: &[Column],
        agg: Option<&AggContext<'_>>,
    ) -> TExpr {
        let mk = typed_at(e.span);
        match &e.kind {
            ExprKind::Literal(l) => mk(TKind::Literal(l.clone()), literal_type(l)),
            ExprKind::Star => {
                self.problem(e.span, "* is only allowed in COUNT(*)");
                mk(TKind::Literal(Literal::Null), ERR)
            }
            ExprKind::Options(_) => {
                self.problem(
                    e.span,
                    "named options are only allowed as a function's last argument",
                );
                mk(TKind::Literal(Literal::Null), ERR)
            }
            ExprKind::Column(name) => self.column_ref(e, name, columns, agg),
            ExprKind::Call {
                name,
                name_span,
                args,
            } => self.call(e, name, *name_span, args, columns, agg),
            ExprKind::Neg(inner) => self.neg(e, inner, columns, agg),
            ExprKind::Not(inner) => {
                let t = self.expr(inner, columns, agg);
                self.expect_boolean(&t, e.span, inner.span, "argument");
                mk(TKind::Not(Box::new(t)), DataType::Boolean)
            }
            ExprKind::Binary { op, left, right } => {
                let l = self.expr(left, columns, agg);
                let r = self.expr(right, columns, agg);
                self.binary(e, *op, l, r)
            }
            ExprKind::IsNull { expr, negated } => {
                let t = self.expr(expr, columns, agg);
                mk(
                    TKind::IsNull {
                        expr: Box::new(t),
                        negated: *negated,
                    },
                    DataType::Boolean,
                )
            }
            ExprKind::In {
                expr,
                list,
                negated,
            } => self.in_list(e, expr, list, *negated, columns, agg),
            ExprKind::Like {
                expr,
                patterns,
                negated,
                regex,
            } => self.like(e, expr, patterns, *negated, *regex, columns, agg),
            ExprKind::LikeExpr {
                expr,
                pattern,
                negated,
                regex,
            } => self.like_expr(e, expr, pattern, *negated, *regex, columns, agg),
            ExprKind::Cast {
                expr,
                type_name,
                type_span,
            } => self.cast(e, expr, type_name, *type_span, columns, agg),
        }
    }

    /// A column by name; inside STATS (outside an aggregate) a grouping key by name first.
    fn column_ref(
        &mut self,
        e: &Expr,
        name: &String,
        columns: &[Column],
        agg: Option<&AggContext<'_>>,
    ) -> TExpr {
        let mk = typed_at(e.span);
        if let Some(ctx) = agg {
            // Inside STATS, outside an aggregate: a grouping key by name.
            if let Some((_, g)) = ctx.groups.iter().find(|(n, _)| n == name) {
                return mk(TKind::Column(name.clone()), g.ty);
            }
        }
        match self.lookup_column(name, e.span, columns) {
            Some(DataType::Unsupported) => {
                self.problem(
                    e.span,
                    format!("Cannot use field [{name}] with unsupported type"),
                );
                mk(TKind::Column(name.clone()), ERR)
            }
            Some(t) => mk(TKind::Column(name.clone()), t),
            None => mk(TKind::Column(name.clone()), ERR),
        }
    }

    /// Unary minus: numbers and time spans.
    fn neg(
        &mut self,
        e: &Expr,
        inner: &Expr,
        columns: &[Column],
        agg: Option<&AggContext<'_>>,
    ) -> TExpr {
        let mk = typed_at(e.span);
        let t = self.expr(inner, columns, agg);
        if !(t.ty.is_numeric() || t.ty.is_span() || t.ty == DataType::Null || t.ty == ERR) {
            self.problem(
                        e.span,
                        format!(
                            "argument of [{}] must be [numeric, date_period or time_duration], found value [{}] type [{}]",
                            self.text(e.span),
                            self.text(inner.span),
                            t.ty.verifier_name()
                        ),
                    );
        }
        let ty = t.ty;
        mk(TKind::Neg(Box::new(t)), ty)
    }

    /// `v [NOT] IN (items)`: every item must compare with `v`.
    fn in_list(
        &mut self,
        e: &Expr,
        expr: &Expr,
        list: &[Expr],
        negated: bool,
        columns: &[Column],
        agg: Option<&AggContext<'_>>,
    ) -> TExpr {
        let v = self.expr(expr, columns, agg);
        let mut items = vec![];
        for item in list {
            let it = self.expr(item, columns, agg);
            let it = self.coerce_to(it, v.ty);
            if v.ty != ERR && it.ty != ERR && !comparable(v.ty, it.ty) {
                self.problem(
                    item.span,
                    format!(
                        "{} argument of [{}] must be [{}], found value [{}] type [{}]",
                        crate::catalog::ordinal(items.len() + 1),
                        self.text(e.span),
                        v.ty.verifier_name(),
                        self.text(item.span),
                        it.ty.verifier_name()
                    ),
                );
            }
            items.push(it);
        }
        TExpr {
            kind: TKind::In {
                expr: Box::new(v),
                list: items,
                negated,
            },
            ty: DataType::Boolean,
            span: e.span,
        }
    }

    /// `v [NOT] LIKE|RLIKE "pattern"` or `(patterns…)`: `v` must be a string.
    #[allow(clippy::too_many_arguments)]
    fn like(
        &mut self,
        e: &Expr,
        expr: &Expr,
        patterns: &[(String, Span)],
        negated: bool,
        regex: bool,
        columns: &[Column],
        agg: Option<&AggContext<'_>>,
    ) -> TExpr {
        let v = self.expr(expr, columns, agg);
        if !(v.ty.is_string() || v.ty == DataType::Null || v.ty == ERR) {
            self.problem(
                expr.span,
                format!(
                    "first argument of [{}] must be [string], found value [{}] type [{}]",
                    self.text(e.span),
                    self.text(expr.span),
                    v.ty.verifier_name()
                ),
            );
        }
        TExpr {
            kind: TKind::Like {
                expr: Box::new(v),
                patterns: patterns.iter().map(|p| p.0.clone()).collect(),
                negated,
                regex,
            },
            ty: DataType::Boolean,
            span: e.span,
        }
    }

    /// `v [NOT] LIKE|RLIKE pattern` where the pattern is an expression (a parameter).
    #[allow(clippy::too_many_arguments)]
    fn like_expr(
        &mut self,
        e: &Expr,
        expr: &Expr,
        pattern: &Expr,
        negated: bool,
        regex: bool,
        columns: &[Column],
        agg: Option<&AggContext<'_>>,
    ) -> TExpr {
        let mk = typed_at(e.span);
        let v = self.expr(expr, columns, agg);
        let p = self.expr(pattern, columns, agg);
        for (x, t) in [(expr, &v), (pattern, &p)] {
            if !(t.ty.is_string() || t.ty == DataType::Null || t.ty == ERR) {
                self.problem(
                    x.span,
                    format!(
                        "{} argument of [{}] must be [string], found value [{}] type [{}]",
                        if std::ptr::eq(x, expr) {
                            "first"
                        } else {
                            "second"
                        },
                        self.text(e.span),
                        self.text(x.span),
                        t.ty.verifier_name()
                    ),
                );
            }
        }
        // A literal pattern (a bound parameter) is an ordinary LIKE; otherwise the
        // pattern is evaluated with the row (ES folds it to a constant first).
        if let TKind::Literal(Literal::Keyword(s)) = &p.kind {
            return mk(
                TKind::Like {
                    expr: Box::new(v),
                    patterns: vec![s.clone()],
                    negated,
                    regex,
                },
                DataType::Boolean,
            );
        }
        let call = mk(
            TKind::Call {
                name: if regex {
                    "RLIKE$PATTERN"
                } else {
                    "LIKE$PATTERN"
                }
                .into(),
                args: vec![v, p],
            },
            DataType::Boolean,
        );
        if negated {
            mk(TKind::Not(Box::new(call)), DataType::Boolean)
        } else {
            call
        }
    }

    /// `v::type`: the target must be a type ES can convert `v` to.
    fn cast(
        &mut self,
        e: &Expr,
        expr: &Expr,
        type_name: &str,
        type_span: Span,
        columns: &[Column],
        agg: Option<&AggContext<'_>>,
    ) -> TExpr {
        let mk = typed_at(e.span);
        let v = self.expr(expr, columns, agg);
        match DataType::from_name(type_name) {
            Some(to) if !matches!(to, DataType::Null | DataType::Unsupported) => {
                if !castable(v.ty, to) && v.ty != ERR {
                    self.problem(
                        e.span,
                        format!(
                            "argument of [{}] must be castable to [{}], found value [{}] type [{}]",
                            self.text(e.span),
                            to.name(),
                            self.text(expr.span),
                            v.ty.verifier_name()
                        ),
                    );
                }
                mk(
                    TKind::Cast {
                        expr: Box::new(v),
                        to,
                    },
                    to,
                )
            }
            _ => {
                self.problem(
                    type_span,
                    format!(
                        "Unsupported conversion to type [{}]",
                        type_name.to_ascii_uppercase()
                    ),
                );
                mk(
                    TKind::Cast {
                        expr: Box::new(v),
                        to: ERR,
                    },
                    ERR,
                )
            }
        }
    }

    fn expect_boolean(&mut self, t: &TExpr, whole: Span, arg: Span, which: &str) {
        if !(t.ty == DataType::Boolean || t.ty == DataType::Null || t.ty == ERR) {
            self.problem(
                arg,
                format!(
                    "{which} of [{}] must be [boolean], found value [{}] type [{}]",
                    self.text(whole),
                    self.text(arg),
                    t.ty.verifier_name()
                ),
            );
        }
    }

    /// String literals convert implicitly where the other side needs a date, ip, boolean,
    /// version or span (§4.3); nothing else converts.
    pub(super) fn coerce_to(&mut self, e: TExpr, target: DataType) -> TExpr {
        let convertible = matches!(
            target,
            DataType::Date | DataType::Ip | DataType::Version | DataType::Boolean
        );
        if convertible && e.ty.is_string() && matches!(e.kind, TKind::Literal(Literal::Keyword(_)))
        {
            let span = e.span;
            return TExpr {
                kind: TKind::Cast {
                    expr: Box::new(e),
                    to: target,
                },
                ty: target,
                span,
            };
        }
        e
    }

    fn binary(&mut self, e: &Expr, op: BinaryOp, l: TExpr, r: TExpr) -> TExpr {
        use DataType::*;
        let span = e.span;
        let whole = self.text(span).to_string();
        let mk = |l: TExpr, r: TExpr, ty: DataType| TExpr {
            kind: TKind::Binary {
                op,
                left: Box::new(l),
                right: Box::new(r),
            },
            ty,
            span,
        };
        if l.ty == ERR || r.ty == ERR {
            return mk(l, r, ERR);
        }
        match op {
            BinaryOp::And | BinaryOp::Or => {
                self.expect_boolean(&l, span, l.span, "first argument");
                self.expect_boolean(&r, span, r.span, "second argument");
                mk(l, r, Boolean)
            }
            _ if op.is_comparison() => {
                let l = self.coerce_to(l, r.ty);
                let r = self.coerce_to(r, l.ty);
                if !comparable(l.ty, r.ty) {
                    self.problem(
                        r.span,
                        format!(
                            "first argument of [{whole}] is [{}] so second argument must also be [{}] but was [{}]",
                            type_family(l.ty),
                            type_family(l.ty),
                            r.ty.verifier_name()
                        ),
                    );
                    return mk(l, r, ERR);
                }
                mk(l, r, Boolean)
            }
            _ => {
                // Arithmetic.
                let (lt, rt) = (l.ty, r.ty);
                let ty = if lt == Null || rt == Null {
                    Some(if lt == Null { rt } else { lt })
                } else if lt.is_numeric() && rt.is_numeric() {
                    DataType::numeric_common(lt, rt)
                } else if (matches!(op, BinaryOp::Add | BinaryOp::Sub)
                    && lt == Date
                    && rt.is_span())
                    || (op == BinaryOp::Add && lt.is_span() && rt == Date)
                {
                    Some(Date)
                } else if matches!(op, BinaryOp::Add | BinaryOp::Sub) && lt.is_span() && rt == lt {
                    Some(lt)
                } else {
                    None
                };
                match ty {
                    Some(t) => mk(l, r, t),
                    None => {
                        let msg = if lt.is_numeric() || lt == Date || lt.is_span() {
                            format!(
                                "[{}] has arguments with incompatible types [{}] and [{}]",
                                op.symbol(),
                                lt.verifier_name(),
                                rt.verifier_name()
                            )
                        } else {
                            format!(
                                "first argument of [{whole}] must be [{}], found value [{}] type [{}]",
                                if matches!(op, BinaryOp::Add | BinaryOp::Sub) {
                                    "date_nanos, datetime, double, integer, long or unsigned_long"
                                } else {
                                    "double, integer, long or unsigned_long"
                                },
                                self.text(l.span),
                                lt.verifier_name()
                            )
                        };
                        self.problem(span, msg);
                        mk(l, r, ERR)
                    }
                }
            }
        }
    }
}

pub fn literal_type(l: &Literal) -> DataType {
    match l {
        Literal::Null => DataType::Null,
        Literal::Bool(_) => DataType::Boolean,
        Literal::Integer(_) => DataType::Integer,
        Literal::Long(_) => DataType::Long,
        Literal::UnsignedLong(_) => DataType::UnsignedLong,
        Literal::Double(_) => DataType::Double,
        Literal::Keyword(_) => DataType::Keyword,
        Literal::List(items) => items.first().map(literal_type).unwrap_or(DataType::Null),
        Literal::Span(s) => {
            if s.calendar {
                DataType::DatePeriod
            } else {
                DataType::TimeDuration
            }
        }
    }
}

/// Whether `==`/`<`/`IN` may compare the two types.
pub fn comparable(a: DataType, b: DataType) -> bool {
    a == DataType::Null
        || b == DataType::Null
        || (a.is_numeric() && b.is_numeric() && DataType::numeric_common(a, b).is_some())
        || (a.is_string() && b.is_string())
        || a == b
}

fn type_family(t: DataType) -> &'static str {
    if t.is_numeric() {
        "numeric"
    } else if t.is_string() {
        "keyword"
    } else {
        t.verifier_name()
    }
}

/// Explicit `::type` conversions ES allows (the TO_* functions' input types).
pub fn castable(from: DataType, to: DataType) -> bool {
    use DataType::*;
    if from == to || from == Null {
        return true;
    }
    match to {
        Keyword | Text => !from.is_span(),
        Integer | Long | UnsignedLong | Double => {
            from.is_numeric() || from.is_string() || matches!(from, Boolean | Date)
        }
        Boolean => from.is_numeric() || from.is_string(),
        Date => from.is_numeric() || from.is_string(),
        Ip => from.is_string(),
        Version => from.is_string(),
        DatePeriod => from.is_string() || from == DatePeriod,
        TimeDuration => from.is_string() || from == TimeDuration,
        _ => false,
    }
}

/// Builds typed expressions that all carry `span` (the expression being analyzed).
fn typed_at(span: Span) -> impl Fn(TKind, DataType) -> TExpr {
    move |kind, ty| TExpr { kind, ty, span }
}
