//! Typed ES|QL expressions to DataFusion expressions. Native operators are used where
//! ES and SQL agree (comparisons, boolean logic, IN, LIKE, IS NULL) so that DataFusion can
//! prune and push down; anything that differs (overflow, multi-values, date spans, Java
//! patterns) goes through [`crate::udf::RowUdf`].

use super::PlanError;
use crate::functions::{date, FunctionDef, Impl, Registry, RetMulti};
use crate::udf::Failure;
use crate::udf::{Kernel, MultiValues, Nulls, RowUdf, RowUdfSpec};
use crate::value::{arrow_type, build_array, Value};
use crate::warnings::{Site, Warnings};
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::logical_expr::{expr::InList, Expr, ExprSchemable, Like};
use esql::analyzer::{TExpr, TKind};
use esql::ast::{BinaryOp, Literal};
use esql::{DataType, Position};
use std::sync::Arc;

/// A planned expression with its ES|QL type and whether it may hold multi-values.
#[derive(Debug, Clone)]
pub struct Planned {
    pub expr: Expr,
    pub ty: DataType,
    pub multi: bool,
}

pub struct ExprPlanner<'a> {
    pub source: &'a str,
    pub warnings: &'a Warnings,
    pub now_ms: i64,
    pub schema: &'a DFSchema,
}

pub fn column(name: &str) -> Expr {
    Expr::Column(Column::new_unqualified(name))
}

impl<'a> ExprPlanner<'a> {
    fn site(&self, e: &TExpr) -> Site {
        let p = Position::of(self.source, e.span.start);
        Site {
            line: p.line,
            column: p.column,
            text: e.span.text(self.source).to_string(),
        }
    }

    fn is_multi(&self, expr: &Expr) -> bool {
        matches!(
            expr.get_type(self.schema),
            Ok(ArrowType::List(_)) | Ok(ArrowType::LargeList(_))
        )
    }

    fn row_udf(&self, site: &TExpr, spec: RowUdfSpec, args: Vec<Planned>) -> Planned {
        let arg_types = args.iter().map(|a| a.ty).collect();
        let (ty, multi) = (spec.ret, spec.ret_multi);
        let udf = RowUdf::udf(spec, arg_types, self.site(site), self.warnings.clone());
        Planned {
            expr: udf.call(args.into_iter().map(|a| a.expr).collect()),
            ty,
            multi,
        }
    }

    /// Makes a possibly multi-valued input single-valued for a native operator: a
    /// multi-value becomes null with ES's warning, attributed to `parent`.
    /// An ip as a key that orders as ES orders addresses.
    pub fn ip_order(&self, site: &TExpr, p: Planned) -> Planned {
        self.row_udf(
            site,
            RowUdfSpec {
                name: "ip_order_key",
                kernel: crate::functions::ip::ip_order_key,
                ret: DataType::Keyword,
                ret_multi: false,
                multi: MultiValues::Accept,
                nulls: Nulls::Propagate,
            },
            vec![p],
        )
    }

    fn single(&self, parent: &TExpr, p: Planned) -> Planned {
        if !p.multi {
            return p;
        }
        let ty = p.ty;
        self.row_udf(
            parent,
            RowUdfSpec {
                name: "mv_single",
                kernel: |a, _| Ok(a[0].clone()),
                ret: ty,
                ret_multi: false,
                multi: MultiValues::Reject,
                nulls: Nulls::Propagate,
            },
            vec![p],
        )
    }

    fn cast_to(&self, p: Planned, t: DataType) -> Planned {
        if p.ty == t || p.ty == DataType::Null && t == DataType::Null {
            return p;
        }
        let target = arrow_type(t);
        Planned {
            expr: Expr::Cast(datafusion::logical_expr::Cast::new(
                Box::new(p.expr),
                target,
            )),
            ty: t,
            multi: false,
        }
    }

    pub fn plan(&self, e: &TExpr) -> Result<Planned, PlanError> {
        match &e.kind {
            TKind::Literal(l) => Ok(literal(l, e.ty)),
            TKind::Column(name) => {
                let expr = column(name);
                let multi = self.is_multi(&expr);
                Ok(Planned {
                    expr,
                    ty: e.ty,
                    multi,
                })
            }
            TKind::Call { name, args } => self.call(e, name, args),
            TKind::Agg { name, .. } => Err(PlanError::Internal(format!(
                "aggregate {name} outside STATS"
            ))),
            TKind::Neg(inner) => {
                if let TKind::Literal(Literal::Span(s)) = &inner.kind {
                    return Ok(literal(&Literal::Span(s.negate()), e.ty));
                }
                let p = self.plan(inner)?;
                Ok(self.row_udf(
                    e,
                    RowUdfSpec {
                        name: "neg",
                        kernel: neg,
                        ret: e.ty,
                        ret_multi: false,
                        multi: MultiValues::Reject,
                        nulls: Nulls::Propagate,
                    },
                    vec![p],
                ))
            }
            TKind::Not(inner) => {
                let p = self.plan(inner)?;
                let p = self.single(e, p);
                Ok(Planned {
                    expr: Expr::Not(Box::new(p.expr)),
                    ty: DataType::Boolean,
                    multi: false,
                })
            }
            TKind::Binary { op, left, right } => self.binary(e, *op, left, right),
            TKind::IsNull { expr, negated } => {
                let p = self.plan(expr)?;
                let inner = Box::new(p.expr);
                Ok(Planned {
                    expr: if *negated {
                        Expr::IsNotNull(inner)
                    } else {
                        Expr::IsNull(inner)
                    },
                    ty: DataType::Boolean,
                    multi: false,
                })
            }
            TKind::In {
                expr,
                list,
                negated,
            } => {
                let v = self.plan(expr)?;
                let v = self.single(e, v);
                let mut items = vec![];
                for it in list {
                    let p = self.plan(it)?;
                    items.push(self.single(e, p));
                }
                let mut types: Vec<DataType> = items.iter().map(|p| p.ty).collect();
                types.push(v.ty);
                let common = crate::functions::conditional::common_type(&types).unwrap_or(v.ty);
                let common = if common == DataType::Null {
                    DataType::Keyword
                } else {
                    common
                };
                let v = self.unify(v, common);
                let items = items
                    .into_iter()
                    .map(|p| self.unify(p, common).expr)
                    .collect();
                Ok(Planned {
                    expr: Expr::InList(InList::new(Box::new(v.expr), items, *negated)),
                    ty: DataType::Boolean,
                    multi: false,
                })
            }
            TKind::Like {
                expr,
                patterns,
                negated,
                regex,
            } => {
                // ES rewrites a pattern that matches everything into IS NOT NULL (before
                // multi-value checks), so `NOT LIKE "*"` keeps the nulls.
                let everything = if *regex { ".*" } else { "*" };
                if !patterns.is_empty() && patterns.iter().all(|p| p == everything) {
                    let test = self.plan(expr)?.expr.is_not_null();
                    return Ok(Planned {
                        expr: if *negated {
                            Expr::Not(Box::new(test))
                        } else {
                            test
                        },
                        ty: DataType::Boolean,
                        multi: false,
                    });
                }
                let v = self.plan(expr)?;
                let v = self.single(e, v);
                let mut alternatives = vec![];
                for p in patterns {
                    let one = if *regex {
                        let re = crate::pattern::lucene_to_regex(p)
                            .map_err(|m| PlanError::at(self.source, e, m.0))?;
                        let pat = Planned {
                            expr: Expr::Literal(ScalarValue::Utf8(Some(re)), None),
                            ty: DataType::Keyword,
                            multi: false,
                        };
                        self.row_udf(
                            e,
                            RowUdfSpec {
                                name: "rlike",
                                kernel: rlike,
                                ret: DataType::Boolean,
                                ret_multi: false,
                                multi: MultiValues::Reject,
                                nulls: Nulls::Propagate,
                            },
                            vec![v.clone(), pat],
                        )
                        .expr
                    } else {
                        Expr::Like(Like::new(
                            false,
                            Box::new(v.expr.clone()),
                            Box::new(Expr::Literal(
                                ScalarValue::Utf8(Some(crate::pattern::wildcard_to_sql_like(p))),
                                None,
                            )),
                            Some('\\'),
                            false,
                        ))
                    };
                    alternatives.push(one);
                }
                let mut any = alternatives.remove(0);
                for a in alternatives {
                    any = any.or(a);
                }
                Ok(Planned {
                    expr: if *negated {
                        Expr::Not(Box::new(any))
                    } else {
                        any
                    },
                    ty: DataType::Boolean,
                    multi: false,
                })
            }
            TKind::Cast { expr, to } => {
                let name = crate::functions::convert::conversion_name(*to).ok_or_else(|| {
                    PlanError::at(self.source, e, format!("cannot convert to [{}]", to.name()))
                })?;
                if expr.ty == *to || (expr.ty.is_string() && to.is_string()) {
                    let mut p = self.plan(expr)?;
                    p.ty = *to;
                    return Ok(p);
                }
                let arg = self.plan(expr)?;
                let def = Registry::global()
                    .get(name)
                    .cloned()
                    .ok_or_else(|| PlanError::Internal(name.to_string()))?;
                self.apply_row(e, &def, vec![arg])
            }
        }
    }

    /// Numeric arguments of different widths are cast to the common type, as ES compares
    /// them numerically.
    fn unify(&self, p: Planned, common: DataType) -> Planned {
        if p.ty == common || (p.ty.is_string() && common.is_string()) {
            return p;
        }
        if p.ty == DataType::Null || (p.ty.is_numeric() && common.is_numeric()) {
            return self.cast_to(p, common);
        }
        p
    }

    fn binary(
        &self,
        e: &TExpr,
        op: BinaryOp,
        left: &TExpr,
        right: &TExpr,
    ) -> Result<Planned, PlanError> {
        let l = self.plan(left)?;
        let r = self.plan(right)?;
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let l = self.single(e, l);
                let r = self.single(e, r);
                let l = self.unify(l, DataType::Boolean);
                let r = self.unify(r, DataType::Boolean);
                Ok(Planned {
                    expr: if op == BinaryOp::And {
                        l.expr.and(r.expr)
                    } else {
                        l.expr.or(r.expr)
                    },
                    ty: DataType::Boolean,
                    multi: false,
                })
            }
            _ if op.is_comparison() => {
                let l = self.single(e, l);
                let r = self.single(e, r);
                let common =
                    crate::functions::conditional::common_type(&[l.ty, r.ty]).unwrap_or(l.ty);
                let (l, r) = (self.unify(l, common), self.unify(r, common));
                let (l, r) =
                    if common == DataType::Ip && !matches!(op, BinaryOp::Eq | BinaryOp::NotEq) {
                        (self.ip_order(e, l), self.ip_order(e, r))
                    } else {
                        (l, r)
                    };
                let (le, re) = (l.expr, r.expr);
                let expr = match op {
                    BinaryOp::Eq => le.eq(re),
                    BinaryOp::NotEq => le.not_eq(re),
                    BinaryOp::Lt => le.lt(re),
                    BinaryOp::Le => le.lt_eq(re),
                    BinaryOp::Gt => le.gt(re),
                    _ => le.gt_eq(re),
                };
                Ok(Planned {
                    expr,
                    ty: DataType::Boolean,
                    multi: false,
                })
            }
            _ => {
                // Spans only meet dates (or other constant spans) here.
                if l.ty.is_span() && r.ty.is_span() {
                    if let (TKind::Literal(Literal::Span(a)), TKind::Literal(Literal::Span(b))) =
                        (&left.kind, &right.kind)
                    {
                        let b = if op == BinaryOp::Sub { b.negate() } else { *b };
                        let sum = esql::ast::TimeSpan {
                            months: a.months + b.months,
                            days: a.days + b.days,
                            millis: a.millis + b.millis,
                            calendar: a.calendar,
                        };
                        return Ok(literal(&Literal::Span(sum), e.ty));
                    }
                    return Err(PlanError::at(
                        self.source,
                        e,
                        "arithmetic on time spans must be constant",
                    ));
                }
                if e.ty == DataType::Date {
                    let (date, span, kernel): (Planned, Planned, Kernel) = if l.ty.is_span() {
                        (r, l, date::date_add)
                    } else if op == BinaryOp::Sub {
                        (l, r, date::date_sub)
                    } else {
                        (l, r, date::date_add)
                    };
                    return Ok(self.row_udf(
                        e,
                        RowUdfSpec {
                            name: "date_arith",
                            kernel,
                            ret: DataType::Date,
                            ret_multi: false,
                            multi: MultiValues::Reject,
                            nulls: Nulls::Propagate,
                        },
                        vec![date, span],
                    ));
                }
                let l = self.unify(l, e.ty);
                let r = self.unify(r, e.ty);
                let kernel: Kernel = match op {
                    BinaryOp::Add => crate::arith::add,
                    BinaryOp::Sub => crate::arith::sub,
                    BinaryOp::Mul => crate::arith::mul,
                    BinaryOp::Div => crate::arith::div,
                    _ => crate::arith::rem,
                };
                Ok(self.row_udf(
                    e,
                    RowUdfSpec {
                        name: "arith",
                        kernel,
                        ret: e.ty,
                        ret_multi: false,
                        multi: MultiValues::Reject,
                        nulls: Nulls::Propagate,
                    },
                    vec![l, r],
                ))
            }
        }
    }

    fn call(&self, e: &TExpr, name: &str, args: &[TExpr]) -> Result<Planned, PlanError> {
        if name == "NOW" {
            return Ok(Planned {
                expr: Expr::Literal(
                    ScalarValue::TimestampMillisecond(Some(self.now_ms), None),
                    None,
                ),
                ty: DataType::Date,
                multi: false,
            });
        }
        let def = Registry::global()
            .get(name)
            .cloned()
            .ok_or_else(|| PlanError::Internal(format!("function {name} has no implementation")))?;
        let mut planned = vec![];
        for a in args {
            planned.push(self.plan(a)?);
        }
        self.apply_row(e, &def, planned)
    }

    fn apply_row(
        &self,
        e: &TExpr,
        def: &Arc<FunctionDef>,
        args: Vec<Planned>,
    ) -> Result<Planned, PlanError> {
        match def.imp {
            Impl::Row(r) => {
                let ret_multi = match r.ret_multi {
                    RetMulti::Never => false,
                    RetMulti::Always => true,
                    RetMulti::IfAnyArg => args.iter().any(|a| a.multi),
                };
                Ok(self.row_udf(
                    e,
                    RowUdfSpec {
                        name: def.sig.name,
                        kernel: r.kernel,
                        ret: e.ty,
                        ret_multi,
                        multi: r.multi,
                        nulls: r.nulls,
                    },
                    args,
                ))
            }
            Impl::Special | Impl::Aggregate(_) => Err(PlanError::Internal(format!(
                "{} cannot be planned as a row function",
                def.sig.name
            ))),
        }
    }
}

fn neg(a: &[Value], _: &crate::udf::Ctx) -> Result<Value, Failure> {
    match &a[0] {
        Value::Int(i) => i
            .checked_neg()
            .map(Value::Int)
            .ok_or_else(|| "java.lang.ArithmeticException: integer overflow".into()),
        Value::Long(l) => l
            .checked_neg()
            .map(Value::Long)
            .ok_or_else(|| "java.lang.ArithmeticException: long overflow".into()),
        Value::Double(d) => Ok(Value::Double(-d)),
        Value::UnsignedLong(0) => Ok(Value::UnsignedLong(0)),
        Value::UnsignedLong(_) => {
            Err("java.lang.ArithmeticException: unsigned_long overflow".into())
        }
        other => Ok(other.clone()),
    }
}

fn rlike(a: &[Value], _: &crate::udf::Ctx) -> Result<Value, Failure> {
    match a {
        [Value::Str(s), Value::Str(re)] => {
            crate::functions::string::java_regex(re, |r| Value::Bool(r.is_match(s)))
        }
        _ => Ok(Value::Null),
    }
}

/// A literal as a typed DataFusion constant. Spans travel as their encoded text.
pub fn literal(l: &Literal, ty: DataType) -> Planned {
    let (sv, multi) = match l {
        Literal::Null => (ScalarValue::Null, false),
        Literal::Bool(b) => (ScalarValue::Boolean(Some(*b)), false),
        Literal::Integer(i) => (ScalarValue::Int32(Some(*i)), false),
        Literal::Long(v) => (ScalarValue::Int64(Some(*v)), false),
        Literal::UnsignedLong(v) => (ScalarValue::UInt64(Some(*v)), false),
        Literal::Double(v) => (ScalarValue::Float64(Some(*v)), false),
        Literal::Keyword(s) => (ScalarValue::Utf8(Some(s.clone())), false),
        Literal::Span(s) => (ScalarValue::Utf8(Some(date::encode_span(s))), false),
        Literal::List(items) => {
            let values: Vec<Value> = items.iter().map(literal_value).collect();
            let v = Value::from_values(values);
            let multi = matches!(v, Value::Multi(_));
            let arr = build_array(ty, multi, &[v]);
            (
                ScalarValue::try_from_array(&arr, 0).unwrap_or(ScalarValue::Null),
                multi,
            )
        }
    };
    Planned {
        expr: Expr::Literal(sv, None),
        ty,
        multi,
    }
}

fn literal_value(l: &Literal) -> Value {
    match l {
        Literal::Null => Value::Null,
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Integer(i) => Value::Int(*i),
        Literal::Long(v) => Value::Long(*v),
        Literal::UnsignedLong(v) => Value::UnsignedLong(*v),
        Literal::Double(v) => Value::Double(*v),
        Literal::Keyword(s) => Value::Str(s.clone()),
        Literal::Span(s) => Value::Str(date::encode_span(s)),
        Literal::List(items) => Value::from_values(items.iter().map(literal_value).collect()),
    }
}
