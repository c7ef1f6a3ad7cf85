//! Typing function calls: catalog lookup, named options, aggregates (only inside STATS,
//! never nested), `COUNT(*)`, the function's own type rule, and the implicit string-literal
//! casts ES retries with. The catalog is the engine's; this only applies it.

use crate::analyzer::{AggContext, Analyzer, ERR};
use crate::ast::*;
use crate::catalog::{ArgError, Args, FunctionKind};
use crate::span::Span;
use crate::typed::{contains_agg, is_constant, Column, TExpr, TKind};
use crate::types::DataType;

impl Analyzer<'_> {
    pub(super) fn call(
        &mut self,
        e: &Expr,
        name: &str,
        name_span: Span,
        args: &[Expr],
        columns: &[Column],
        agg: Option<&AggContext<'_>>,
    ) -> TExpr {
        let Some(mut sig) = self.catalog.lookup(name) else {
            self.problem(name_span, format!("Unknown function [{name}]"));
            return TExpr {
                kind: TKind::Literal(Literal::Null),
                ty: ERR,
                span: e.span,
            };
        };
        // Named options pick the variant of the function that implements them.
        let mut args = args;
        if let Some((last, rest)) = args.split_last() {
            if let ExprKind::Options(entries) = &last.kind {
                let variant = self
                    .catalog
                    .with_options(sig.name, entries)
                    .and_then(|n| self.catalog.lookup(n).ok_or_else(|| n.to_string()));
                match variant {
                    Ok(v) => sig = v,
                    Err(m) => {
                        let m = m.replace("{call}", self.text(e.span));
                        self.problem(last.span, m);
                        return TExpr {
                            kind: TKind::Literal(Literal::Null),
                            ty: ERR,
                            span: e.span,
                        };
                    }
                }
                args = rest;
            }
        }
        let is_agg = sig.kind == FunctionKind::Aggregate;
        if is_agg && agg.is_none() {
            self.problem(
                e.span,
                format!(
                    "aggregate function [{}] not allowed outside STATS command",
                    self.text(e.span)
                ),
            );
        }
        // Inside an aggregate's arguments, columns are the input rows again (not group keys).
        let mut targs: Vec<TExpr> = vec![];
        for a in args {
            if let ExprKind::Star = a.kind {
                if is_agg && sig.name == "COUNT" {
                    targs.push(TExpr {
                        kind: TKind::Literal(Literal::Keyword("*".into())),
                        ty: DataType::Keyword,
                        span: a.span,
                    });
                    continue;
                }
            }
            let inner_ctx = if is_agg { None } else { agg };
            let t = self.expr(a, columns, inner_ctx);
            if is_agg && contains_agg(&t) {
                self.problem(
                    a.span,
                    format!(
                        "nested aggregations [{}] not allowed inside other aggregations [{}]",
                        self.text(a.span),
                        self.text(e.span)
                    ),
                );
            }
            targs.push(t);
        }
        if targs.iter().any(|t| t.ty == ERR) {
            return TExpr {
                kind: TKind::Literal(Literal::Null),
                ty: ERR,
                span: e.span,
            };
        }
        let mut ty = self.apply_rule(&sig, e, name, &targs);
        // Implicit string-literal casts: retry with the literal converted to what the
        // parameter expects.
        if let Err(ArgError::Type { index, expected }) = &ty {
            let target = match expected.as_str() {
                "datetime" => Some(DataType::Date),
                "ip" => Some(DataType::Ip),
                "boolean" => Some(DataType::Boolean),
                _ => None,
            };
            if let Some(target) = target {
                let cast = self.coerce_to(targs[*index].clone(), target);
                if cast.ty == target {
                    targs[*index] = cast;
                    ty = self.apply_rule(&sig, e, name, &targs);
                }
            }
        }
        match ty {
            Ok(t) => {
                let kind = if is_agg {
                    TKind::Agg {
                        name: sig.name.to_string(),
                        args: targs,
                        filter: agg.and_then(|c| c.filter.clone()).map(Box::new),
                    }
                } else {
                    TKind::Call {
                        name: sig.name.to_string(),
                        args: targs,
                    }
                };
                TExpr {
                    kind,
                    ty: t,
                    span: e.span,
                }
            }
            Err(err) => {
                let msg = match err {
                    ArgError::Arity(m) => {
                        format!("error building [{}]: {m}", name.to_ascii_lowercase())
                    }
                    ArgError::Type { index, expected } => format!(
                        "{} argument of [{}] must be [{expected}], found value [{}] type [{}]",
                        crate::catalog::ordinal(index),
                        self.text(e.span),
                        self.text(args[index].span),
                        targs[index].ty.verifier_name()
                    ),
                    ArgError::NotConstant { index } => format!(
                        "{} argument of [{}] must be a constant, received [{}]",
                        crate::catalog::ordinal(index),
                        self.text(e.span),
                        self.text(args[index].span)
                    ),
                    ArgError::Other(m) => m,
                };
                let at = match &msg {
                    m if m.starts_with("error building") => name_span,
                    _ => e.span,
                };
                self.problem(at, msg);
                TExpr {
                    kind: TKind::Literal(Literal::Null),
                    ty: ERR,
                    span: e.span,
                }
            }
        }
    }

    fn apply_rule(
        &self,
        sig: &crate::catalog::Signature,
        _e: &Expr,
        _name: &str,
        targs: &[TExpr],
    ) -> Result<DataType, ArgError> {
        let types: Vec<DataType> = targs.iter().map(|t| t.ty).collect();
        let constant: Vec<bool> = targs.iter().map(is_constant).collect();
        (sig.rule)(&Args {
            types: &types,
            constant: &constant,
        })
    }
}
