//! Aggregates that gather a group's values (DataFusion's `array_agg`, nulls left out)
//! and finish them with a kernel: COUNT_DISTINCT, VALUES, MEDIAN, PERCENTILE,
//! MEDIAN_ABSOLUTE_DEVIATION, STD_DEV, VARIANCE, TOP; and WEIGHTED_AVG, two sums and
//! their ratio.

use super::native::{mv_count, mv_sum};
use super::{agg, widen, AggCall, AggPlan};
use crate::functions::FunctionDef;
use crate::planner::expr::Planned;
use crate::planner::PlanError;
use crate::udf::Failure;
use crate::udf::{Ctx, Kernel, MultiValues, Nulls, RowUdfSpec};
use crate::value::Value;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn as df;
use datafusion::logical_expr::Expr;
use esql::catalog::{arity, expect, is_any, is_numeric, ArgError, Args};
use esql::DataType;

pub fn register(defs: &mut Vec<FunctionDef>) {
    defs.push(agg(
        "COUNT_DISTINCT",
        count_distinct_rule,
        plan_count_distinct,
    ));
    defs.push(agg("VALUES", values_rule, plan_values));
    defs.push(agg("MEDIAN", one_numeric_to_double, |c| {
        collect_then(c, median_finish, false)
    }));
    defs.push(agg(
        "MEDIAN_ABSOLUTE_DEVIATION",
        one_numeric_to_double,
        |c| collect_then(c, mad_finish, false),
    ));
    defs.push(agg("STD_DEV", one_numeric_to_double, |c| {
        collect_then(c, std_dev_finish, false)
    }));
    defs.push(
        agg("VARIANCE", one_numeric_to_double, |c| {
            collect_then(c, variance_finish, false)
        })
        .aliases(&["STD_VAR"]),
    );
    defs.push(agg("PERCENTILE", percentile_rule, |c| {
        collect_then(c, percentile_finish, false)
    }));
    defs.push(agg("TOP", top_rule, |c| collect_then(c, top_finish, true)));
    defs.push(agg("WEIGHTED_AVG", weighted_avg_rule, plan_weighted_avg));
}

fn count_distinct_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(2))?;
    expect(a, 0, is_any, "any exact type")?;
    if a.types.len() == 2 {
        expect(
            a,
            1,
            |t| matches!(t, DataType::Integer | DataType::Long),
            "integer",
        )?;
    }
    Ok(DataType::Long)
}

fn values_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(
        a,
        0,
        is_any,
        "any type except unsigned_long and spatial types",
    )?;
    Ok(a.types[0].widen_text())
}

fn one_numeric_to_double(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(
        a,
        0,
        is_numeric,
        "numeric except unsigned_long or counter types",
    )?;
    Ok(DataType::Double)
}

fn percentile_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(a, 0, is_numeric, "numeric except unsigned_long")?;
    expect(a, 1, is_numeric, "numeric except unsigned_long")?;
    if !a.constant[1] {
        return Err(ArgError::NotConstant { index: 1 });
    }
    Ok(DataType::Double)
}

fn top_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 3, Some(3))?;
    expect(
        a,
        0,
        |t| {
            t.is_numeric()
                || t.is_string()
                || matches!(t, DataType::Boolean | DataType::Date | DataType::Ip)
        },
        "boolean, date, ip, string or numeric except unsigned_long or counter types",
    )?;
    expect(a, 1, |t| t == DataType::Integer, "integer")?;
    expect(a, 2, |t| t.is_string(), "keyword")?;
    for i in 1..3 {
        if !a.constant[i] {
            return Err(ArgError::NotConstant { index: i });
        }
    }
    Ok(a.types[0].widen_text())
}

fn weighted_avg_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(
        a,
        0,
        is_numeric,
        "numeric except unsigned_long or counter types",
    )?;
    expect(
        a,
        1,
        is_numeric,
        "numeric except unsigned_long or counter types",
    )?;
    Ok(DataType::Double)
}

/// The group's non-null values of `p`, every value of a multi-value included.
fn collect(call: &AggCall<'_>, p: &Planned) -> Result<Expr, PlanError> {
    call.filtered_where(df::array_agg(p.expr.clone()), p.expr.clone().is_not_null())
}

fn plan_count_distinct(call: &AggCall<'_>) -> Result<AggPlan, PlanError> {
    let p = call.first()?;
    if !p.multi {
        let distinct = df::count_distinct(p.expr.clone());
        return Ok(AggPlan::new(call.filtered(distinct)?, call.raw(0)));
    }
    let finish = call.finish_fn(
        "count_distinct_finish",
        count_distinct_finish,
        DataType::Long,
        false,
        vec![p.ty],
        vec![call.raw(0)],
    );
    Ok(AggPlan::new(collect(call, p)?, finish))
}

fn plan_values(call: &AggCall<'_>) -> Result<AggPlan, PlanError> {
    let p = call.first()?;
    let finish = call.finish_fn(
        "values_finish",
        values_finish,
        call.ty,
        true,
        vec![p.ty],
        vec![call.raw(0)],
    );
    Ok(AggPlan::new(collect(call, p)?, finish))
}

/// The group's values, finished by `kernel` with the call's constant parameters
/// (PERCENTILE's percentile, TOP's limit and order) as further arguments.
fn collect_then(call: &AggCall<'_>, kernel: Kernel, ret_multi: bool) -> Result<AggPlan, PlanError> {
    let p = call.first()?;
    let mut args = vec![call.raw(0)];
    let mut types = vec![p.ty];
    for c in call.constants()? {
        types.push(c.ty);
        args.push(c.expr);
    }
    let finish = call.finish_fn("collect_finish", kernel, call.ty, ret_multi, types, args);
    Ok(AggPlan::new(collect(call, p)?, finish))
}

/// Σ(x·w) / Σ(w) over the rows where both are present. A multi-valued weight or field
/// makes the row null (with ES's warning); a multi-valued constant contributes each of
/// its values.
fn plan_weighted_avg(call: &AggCall<'_>) -> Result<AggPlan, PlanError> {
    let p = call.first()?;
    let w = call
        .args
        .get(1)
        .ok_or_else(|| PlanError::Internal("WEIGHTED_AVG needs a weight".into()))?;
    let single = |q: &Planned| -> Expr {
        if !q.multi {
            return q.expr.clone();
        }
        let spec = RowUdfSpec {
            name: "weighted_avg_single",
            kernel: |a, _| Ok(a[0].clone()),
            ret: q.ty,
            ret_multi: false,
            multi: MultiValues::Reject,
            nulls: Nulls::Propagate,
        };
        call.row_fn(spec, vec![q.ty], vec![q.expr.clone()])
    };
    let w_expr = widen(single(w), w.ty, DataType::Double);
    let (sum_x, n_x) = if p.multi && call.arg_is_literal(0)? {
        (
            widen(
                call.per_row(p, "mv_sum", mv_sum, p.ty),
                p.ty,
                DataType::Double,
            ),
            widen(
                call.per_row(p, "mv_count", mv_count, DataType::Long),
                DataType::Long,
                DataType::Double,
            ),
        )
    } else {
        (
            widen(single(p), p.ty, DataType::Double),
            Expr::Literal(ScalarValue::Float64(Some(1.0)), None),
        )
    };
    let both = sum_x
        .clone()
        .is_not_null()
        .and(w_expr.clone().is_not_null());
    let num = call.filtered_where(df::sum(sum_x * w_expr.clone()), both.clone())?;
    let den = call.filtered_where(df::sum(n_x * w_expr), both)?;
    let ratio = call.finish_fn(
        "weighted_avg_finish",
        weighted_avg_finish,
        DataType::Double,
        false,
        vec![DataType::Double, DataType::Double],
        vec![call.raw(0), call.raw(1)],
    );
    Ok(AggPlan {
        aggregates: vec![num, den],
        finish: ratio,
    })
}

/// Every distinct value, in first-seen order. Keyed by a rendering so large groups stay
/// linear (a `contains` scan per value was quadratic).
fn distinct_values(v: &Value) -> Vec<Value> {
    let mut all = vec![];
    flatten_all(v, &mut all);
    let mut seen = std::collections::HashSet::with_capacity(all.len());
    all.into_iter()
        .filter(|x| seen.insert(format!("{x:?}")))
        .collect()
}

fn numbers(v: &Value) -> Vec<f64> {
    let mut out = vec![];
    let mut flat = vec![];
    flatten_all(v, &mut flat);
    for x in flat {
        match x {
            Value::Int(i) => out.push(i as f64),
            Value::Long(l) => out.push(l as f64),
            Value::UnsignedLong(u) => out.push(u as f64),
            Value::Double(d) => out.push(d),
            _ => {}
        }
    }
    out
}

/// Every value, duplicates kept (statistics count each value).
fn flatten_all(v: &Value, out: &mut Vec<Value>) {
    for x in v.values() {
        match x {
            Value::Multi(_) => flatten_all(x, out),
            x => out.push(x.clone()),
        }
    }
}

/// Linear interpolation between the closest ranks, as ES's percentiles give on small sets.
fn percentile_of(mut xs: Vec<f64>, p: f64) -> Option<f64> {
    if xs.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let rank = p / 100.0 * (xs.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    Some(xs[lo] + (xs[hi] - xs[lo]) * (rank - lo as f64))
}

fn median_finish(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    Ok(percentile_of(numbers(&a[0]), 50.0)
        .map(Value::Double)
        .unwrap_or(Value::Null))
}

fn percentile_finish(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let p = match a.get(1) {
        Some(Value::Int(i)) => *i as f64,
        Some(Value::Long(l)) => *l as f64,
        Some(Value::Double(d)) => *d,
        _ => return Ok(Value::Null),
    };
    Ok(percentile_of(numbers(&a[0]), p)
        .map(Value::Double)
        .unwrap_or(Value::Null))
}

fn mad_finish(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let xs = numbers(&a[0]);
    let Some(m) = percentile_of(xs.clone(), 50.0) else {
        return Ok(Value::Null);
    };
    let dev: Vec<f64> = xs.iter().map(|x| (x - m).abs()).collect();
    Ok(percentile_of(dev, 50.0)
        .map(Value::Double)
        .unwrap_or(Value::Null))
}

fn variance_of(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    Some(xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n)
}

fn std_dev_finish(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    Ok(variance_of(&numbers(&a[0]))
        .map(|v| Value::Double(v.sqrt()))
        .unwrap_or(Value::Null))
}

fn variance_finish(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    Ok(variance_of(&numbers(&a[0]))
        .map(Value::Double)
        .unwrap_or(Value::Null))
}

fn weighted_avg_finish(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    match (&a[0], &a[1]) {
        (Value::Double(_), Value::Double(d)) if *d == 0.0 => {
            Err("java.lang.ArithmeticException: / by zero".into())
        }
        (Value::Double(n), Value::Double(d)) => Ok(Value::Double(n / d)),
        _ => Ok(Value::Null),
    }
}

/// TOP(field, limit, order): the `limit` smallest (asc) or largest (desc) values, sorted.
fn top_finish(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let mut values = vec![];
    flatten_all(&a[0], &mut values);
    let limit = match a.get(1) {
        Some(Value::Int(i)) => (*i).max(0) as usize,
        Some(Value::Long(l)) => (*l).max(0) as usize,
        _ => return Ok(Value::Null),
    };
    let desc = matches!(a.get(2), Some(Value::Str(s)) if s.eq_ignore_ascii_case("desc"));
    values.sort_by(crate::value::cmp_values);
    if desc {
        values.reverse();
    }
    values.truncate(limit);
    Ok(Value::from_values(values))
}

fn values_finish(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    Ok(Value::from_values(distinct_values(&a[0])))
}

fn count_distinct_finish(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    Ok(Value::Long(distinct_values(&a[0]).len() as i64))
}
