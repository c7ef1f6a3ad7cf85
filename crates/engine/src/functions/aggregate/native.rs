//! Aggregates DataFusion computes natively (COUNT, MIN, MAX, SUM, AVG). A multi-valued
//! argument is reduced per row first (COUNT counts the row's values, MIN takes its
//! minimum, SUM its total) so every value counts; a pre-aggregated metric contributes the
//! matching part of each row's summary.

use super::{agg, numeric_or_metric, widen, AggCall, AggPlan};
use crate::functions::{metric, mv, FunctionDef};
use crate::planner::PlanError;
use crate::udf::Ctx;
use crate::udf::Failure;
use crate::value::Value;
use datafusion::arrow::datatypes::DataType as Arrow;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn as df;
use datafusion::logical_expr::{Cast, Expr, TryCast};
use esql::catalog::{arity, expect, is_any, is_orderable, ArgError, Args};
use esql::DataType;

pub fn register(defs: &mut Vec<FunctionDef>) {
    defs.push(agg("COUNT", count_rule, plan_count));
    defs.push(agg("MIN", min_max_rule, plan_min));
    defs.push(agg("MAX", min_max_rule, plan_max));
    defs.push(agg("SUM", sum_rule, plan_sum));
    defs.push(agg("AVG", avg_rule, plan_avg));
}

fn count_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 0, Some(1))?;
    if !a.types.is_empty() {
        expect(a, 0, is_any, "any type except counter types")?;
    }
    Ok(DataType::Long)
}

fn min_max_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(
        a,
        0,
        |t| is_orderable(t) || t == DataType::AggregateMetricDouble,
        "boolean, date, ip, string or numeric except unsigned_long or counter types",
    )?;
    Ok(match a.types[0] {
        DataType::AggregateMetricDouble => DataType::Double,
        t => t.widen_text(),
    })
}

fn sum_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(
        a,
        0,
        numeric_or_metric,
        "numeric except unsigned_long or counter types",
    )?;
    Ok(match a.types[0] {
        DataType::Double | DataType::AggregateMetricDouble => DataType::Double,
        DataType::Null => DataType::Null,
        _ => DataType::Long,
    })
}

fn avg_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(
        a,
        0,
        numeric_or_metric,
        "numeric except unsigned_long or counter types",
    )?;
    Ok(DataType::Double)
}

fn is_metric(p: &crate::planner::expr::Planned) -> bool {
    p.ty == DataType::AggregateMetricDouble
}

/// `COUNT(*)` counts rows, `COUNT(x)` the values of `x` (every value of a multi-value).
fn plan_count(call: &AggCall<'_>) -> Result<AggPlan, PlanError> {
    let Some(p) = call.args.first() else {
        return Ok(AggPlan::new(
            call.filtered(df::count(lit_i64(1)))?,
            call.raw(0),
        ));
    };
    Ok(if is_metric(p) {
        let n = call.always_per_row(p, "metric_part", metric::part_count, DataType::Long);
        AggPlan::new(
            call.filtered(df::sum(n))?,
            coalesce(vec![call.raw(0), lit_i64(0)]),
        )
    } else if p.ty == DataType::Null {
        AggPlan::new(call.filtered(df::count(lit_i64(1)))?, lit_i64(0))
    } else if p.multi {
        let n = call.per_row(p, "mv_count", mv_count, DataType::Long);
        AggPlan::new(
            call.filtered(df::sum(n))?,
            coalesce(vec![call.raw(0), lit_i64(0)]),
        )
    } else {
        AggPlan::new(call.filtered(df::count(p.expr.clone()))?, call.raw(0))
    })
}

fn plan_min(call: &AggCall<'_>) -> Result<AggPlan, PlanError> {
    let p = call.first()?;
    let arg = if is_metric(p) {
        call.always_per_row(p, "metric_part", metric::part_min, DataType::Double)
    } else {
        call.per_row(p, "mv_min", mv::mv_min, p.ty)
    };
    Ok(AggPlan::new(call.filtered(df::min(arg))?, call.raw(0)))
}

fn plan_max(call: &AggCall<'_>) -> Result<AggPlan, PlanError> {
    let p = call.first()?;
    let arg = if is_metric(p) {
        call.always_per_row(p, "metric_part", metric::part_max, DataType::Double)
    } else {
        call.per_row(p, "mv_max", mv::mv_max, p.ty)
    };
    Ok(AggPlan::new(call.filtered(df::max(arg))?, call.raw(0)))
}

fn plan_sum(call: &AggCall<'_>) -> Result<AggPlan, PlanError> {
    let p = call.first()?;
    if is_metric(p) {
        let s = call.always_per_row(p, "metric_part", metric::part_sum, DataType::Double);
        return Ok(AggPlan::new(call.filtered(df::sum(s))?, call.raw(0)));
    }
    match p.ty {
        DataType::Null => Ok(AggPlan::new(
            call.filtered(df::count(lit_i64(1)))?,
            Expr::Literal(ScalarValue::Null, None),
        )),
        DataType::Double => {
            let arg = call.per_row(p, "mv_sum", mv_sum, p.ty);
            Ok(AggPlan::new(call.filtered(df::sum(arg))?, call.raw(0)))
        }
        _ => {
            // Integral sums add up in 128 bits; a total beyond a long is null plus ES's
            // overflow warning, never a wrapped number.
            let arg = Expr::Cast(Cast::new(
                Box::new(call.per_row(p, "mv_sum", mv_sum, p.ty)),
                Arrow::Decimal128(38, 0),
            ));
            let total = call.raw(0);
            let as_long = Expr::TryCast(TryCast::new(Box::new(total.clone()), Arrow::Int64));
            let finish = call.finish_fn(
                "sum_finish",
                sum_finish,
                DataType::Long,
                false,
                vec![DataType::Long, DataType::Boolean],
                vec![as_long, total.is_not_null()],
            );
            Ok(AggPlan::new(call.filtered(df::sum(arg))?, finish))
        }
    }
}

/// The mean of every value: a metric's sums over its counts, a multi-value's values
/// each counted, else DataFusion's own average.
fn plan_avg(call: &AggCall<'_>) -> Result<AggPlan, PlanError> {
    let p = call.first()?;
    let double = crate::value::arrow_type(DataType::Double);
    if is_metric(p) {
        let s = call.always_per_row(p, "metric_part", metric::part_sum, DataType::Double);
        let n = call.always_per_row(p, "metric_part", metric::part_count, DataType::Long);
        let avg = call.raw(0) / Expr::Cast(Cast::new(Box::new(call.raw(1)), double));
        return Ok(AggPlan {
            aggregates: vec![call.filtered(df::sum(s))?, call.filtered(df::sum(n))?],
            finish: avg,
        });
    }
    if p.multi {
        // sum of all values / number of values, over every value of every row.
        let s = widen(
            call.per_row(p, "mv_sum", mv_sum, p.ty),
            p.ty,
            DataType::Double,
        );
        let n = call.per_row(p, "mv_count", mv_count, DataType::Long);
        let avg = Expr::Cast(Cast::new(Box::new(call.raw(0)), double.clone()))
            / Expr::Cast(Cast::new(Box::new(call.raw(1)), double));
        return Ok(AggPlan {
            aggregates: vec![call.filtered(df::sum(s))?, call.filtered(df::sum(n))?],
            finish: avg,
        });
    }
    let arg = widen(p.expr.clone(), p.ty, DataType::Double);
    Ok(AggPlan::new(call.filtered(df::avg(arg))?, call.raw(0)))
}

pub(super) fn lit_i64(v: i64) -> Expr {
    Expr::Literal(ScalarValue::Int64(Some(v)), None)
}

/// A 128-bit total that did not fit a long (`as_long` null while the total is not).
fn sum_finish(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    match (&a[0], &a[1]) {
        (Value::Null, Value::Bool(true)) => {
            Err("java.lang.ArithmeticException: long overflow".into())
        }
        (v, _) => Ok(v.clone()),
    }
}

/// The number of values in a row.
pub(super) fn mv_count(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    Ok(Value::Long(a[0].values().len() as i64))
}

/// A row's values added up with ES's arithmetic (overflow is an error).
pub(super) fn mv_sum(a: &[Value], ctx: &Ctx) -> Result<Value, Failure> {
    let vs = a[0].values();
    let Some(first) = vs.first() else {
        return Ok(Value::Null);
    };
    let mut acc = first.clone();
    for v in &vs[1..] {
        acc = crate::arith::add(&[acc, v.clone()], ctx)?;
    }
    Ok(acc)
}
