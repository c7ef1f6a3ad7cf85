//! `STATS aggs BY groups` (esql-spec §6, §8.3) as project → unnest → aggregate → project:
//! 1. one projection computes every grouping key (`__g*`), aggregate argument (`__a*`)
//!    and per-aggregate filter (`__f*`) from the input row;
//! 2. each multi-valued key is unnested, so the row lands in every group of its values
//!    while the aggregate arguments still carry the whole row;
//! 3. DataFusion aggregates; multi-valued arguments are reduced per row first (COUNT
//!    counts values, MIN takes the row's minimum, …) so every value counts, as in ES;
//! 4. a projection finishes the aggregates and evaluates expressions around them.

use super::expr::{column, Planned};
use super::{mv_max, mv_min, rewrite, site_of, PlanContext, PlanError};
use crate::udf::{MultiValues, Nulls, RowUdf, RowUdfSpec};
use crate::value::Value;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder};
use esql::analyzer::{TExpr, TKind};
use esql::DataType;

struct AggCall {
    name: String,
    /// Planned arguments (already in the pre-projection, as `__a{k}_{i}` columns).
    args: Vec<Planned>,
    filter: Option<String>,
    ty: DataType,
    site: TExpr,
}

pub fn plan_stats(
    ctx: &PlanContext<'_>,
    input: LogicalPlan,
    aggs: &[(String, TExpr)],
    groups: &[(String, TExpr)],
    ordered: bool,
) -> Result<LogicalPlan, PlanError> {
    // 0. Grouping keys first, under their names: aggregates and filters may refer to them
    // (ES resolves groupings before the aggregates), shadowing same-named input columns.
    let rep = copies_of_keys(&input, groups);
    let in_schema = input.schema().clone();
    let mut keyed: Vec<Expr> = vec![];
    let mut key_multi = vec![];
    {
        let planner = ctx.exprs(&in_schema);
        let mut planned = vec![];
        for (name, g) in groups {
            let p = planner.plan(g)?;
            key_multi.push(p.multi);
            planned.push((name.clone(), p.expr));
        }
        for f in in_schema.fields() {
            if !groups.iter().any(|(n, _)| n == f.name()) {
                keyed.push(column(f.name()));
            }
        }
        for (name, e) in planned {
            keyed.push(e.alias(name));
        }
    }
    let input = LogicalPlanBuilder::from(input).project(keyed)?.build()?;
    let in_schema = input.schema().clone();
    let planner = ctx.exprs(&in_schema);
    let mut pre: Vec<Expr> = vec![];

    // 1. Grouping keys.
    let mut multi_groups = vec![];
    let keys: Vec<usize> = (0..groups.len()).filter(|&j| rep[j] == j).collect();
    for &j in &keys {
        if key_multi[j] {
            multi_groups.push(format!("__g{j}"));
        }
        pre.push(column(&groups[j].0).alias(format!("__g{j}")));
    }

    // Collect aggregate calls in order and their argument columns.
    let mut calls: Vec<AggCall> = vec![];
    let mut rewritten: Vec<TExpr> = vec![];
    for (_, e) in aggs {
        let mut err = None;
        let r = rewrite(e, &mut |x| {
            if let TKind::Agg { name, args, filter } = &x.kind {
                let k = calls.len();
                let mut planned = vec![];
                for (i, a) in args.iter().enumerate() {
                    if name == "COUNT"
                        && matches!(&a.kind, TKind::Literal(esql::ast::Literal::Keyword(s)) if s == "*")
                    {
                        continue;
                    }
                    match planner.plan(a) {
                        Ok(p) => {
                            let alias = format!("__a{k}_{i}");
                            pre.push(p.expr.clone().alias(&alias));
                            planned.push(Planned {
                                expr: column(&alias),
                                ty: p.ty,
                                multi: p.multi,
                            });
                        }
                        Err(e) => err = Some(e),
                    }
                }
                let filter = match filter {
                    Some(f) => match planner.plan(f) {
                        Ok(p) => {
                            let alias = format!("__f{k}");
                            // A null condition keeps no rows.
                            let cond = if p.ty == DataType::Null {
                                Expr::Literal(ScalarValue::Boolean(Some(false)), None)
                            } else {
                                p.expr
                            };
                            pre.push(cond.alias(&alias));
                            Some(alias)
                        }
                        Err(e) => {
                            err = Some(e);
                            None
                        }
                    },
                    None => None,
                };
                calls.push(AggCall {
                    name: name.clone(),
                    args: planned,
                    filter,
                    ty: x.ty,
                    site: x.clone(),
                });
                return Some(TExpr {
                    kind: TKind::Column(format!("__agg{k}")),
                    ty: x.ty,
                    span: x.span,
                });
            }
            // Outside aggregates, names refer to grouping keys.
            if let TKind::Column(n) = &x.kind {
                if let Some(j) = groups.iter().position(|(g, _)| g == n) {
                    return Some(TExpr {
                        kind: TKind::Column(format!("__g{}", rep[j])),
                        ty: x.ty,
                        span: x.span,
                    });
                }
            }
            None
        });
        if let Some(e) = err {
            return Err(e);
        }
        rewritten.push(r);
    }
    if pre.is_empty() {
        // COUNT(*) alone over no columns: keep one placeholder so rows survive.
        pre.push(Expr::Literal(ScalarValue::Boolean(Some(true)), None).alias("__row"));
    }
    let mut plan = LogicalPlanBuilder::from(input).project(pre)?.build()?;

    // 2. A row belongs to every group of a multi-valued key.
    for g in &multi_groups {
        plan = LogicalPlanBuilder::from(plan)
            .unnest_column_with_options(
                g.as_str(),
                datafusion::common::UnnestOptions::new().with_preserve_nulls(true),
            )?
            .build()?;
    }

    // ES emits groups in the order their first row arrived (its block hashes hand out group
    // ids in insertion order); DataFusion's parallel hash aggregate does not. When that
    // order can be seen, number the rows (after unnesting, so each value of a multi-valued
    // key has its place) and sort the groups by their first row.
    let ordered = ordered && !groups.is_empty();
    if ordered {
        plan = LogicalPlanBuilder::from(plan)
            .window(vec![
                datafusion::functions_window::expr_fn::row_number().alias("__rn")
            ])?
            .build()?;
    }

    // 3. Aggregate, reducing multi-valued arguments per row first.
    let schema = plan.schema().clone();
    let planner = ctx.exprs(&schema);
    let group_exprs: Vec<Expr> = keys.iter().map(|j| column(&format!("__g{j}"))).collect();
    let mut agg_exprs = vec![];
    let mut finish: Vec<Expr> = vec![];
    for (k, c) in calls.iter().enumerate() {
        let raw = format!("__raw{k}");
        let filtered = |e: Expr| -> Result<Expr, PlanError> {
            let mut b = e;
            if let Some(f) = &c.filter {
                b = match b {
                    Expr::AggregateFunction(_) => b.filter(column(f)).build()?,
                    other => other,
                };
            }
            Ok(b)
        };
        let arg = c.args.first().cloned();
        let reduce =
            |p: &Planned, name: &'static str, kernel: crate::udf::Kernel, ret: DataType| -> Expr {
                if !p.multi {
                    return p.expr.clone();
                }
                RowUdf::udf(
                    RowUdfSpec {
                        name,
                        kernel,
                        ret,
                        ret_multi: false,
                        multi: MultiValues::Accept,
                        nulls: Nulls::Propagate,
                    },
                    vec![p.ty],
                    site_of(ctx, &c.site),
                    ctx.warnings.clone(),
                )
                .call(vec![p.expr.clone()])
            };
        let out_col = column(&raw);
        // One part of a pre-aggregated metric, per row.
        let part = |p: &Planned, kernel: crate::udf::Kernel, ret: DataType| -> Expr {
            RowUdf::udf(
                RowUdfSpec {
                    name: "metric_part",
                    kernel,
                    ret,
                    ret_multi: false,
                    multi: MultiValues::Accept,
                    nulls: Nulls::Propagate,
                },
                vec![p.ty],
                site_of(ctx, &c.site),
                ctx.warnings.clone(),
            )
            .call(vec![p.expr.clone()])
        };
        use crate::functions::metric;
        let is_metric = |p: &Planned| p.ty == DataType::AggregateMetricDouble;
        let (aggregate, finished): (Expr, Expr) = match (c.name.as_str(), &arg) {
            ("COUNT", Some(p)) if is_metric(p) => (
                filtered(agg::sum(part(p, metric::part_count, DataType::Long)))?,
                datafusion::functions::expr_fn::coalesce(vec![out_col, lit_i64(0)]),
            ),
            ("MIN", Some(p)) if is_metric(p) => (
                filtered(agg::min(part(p, metric::part_min, DataType::Double)))?,
                out_col,
            ),
            ("MAX", Some(p)) if is_metric(p) => (
                filtered(agg::max(part(p, metric::part_max, DataType::Double)))?,
                out_col,
            ),
            ("SUM", Some(p)) if is_metric(p) => (
                filtered(agg::sum(part(p, metric::part_sum, DataType::Double)))?,
                out_col,
            ),
            ("AVG", Some(p)) if is_metric(p) => {
                let n = part(p, metric::part_count, DataType::Long);
                agg_exprs.push(filtered(agg::sum(n))?.alias(format!("__rawn{k}")));
                let avg = out_col
                    / Expr::Cast(datafusion::logical_expr::Cast::new(
                        Box::new(column(&format!("__rawn{k}"))),
                        crate::value::arrow_type(DataType::Double),
                    ));
                (
                    filtered(agg::sum(part(p, metric::part_sum, DataType::Double)))?,
                    avg,
                )
            }
            ("COUNT", None) => (filtered(agg::count(lit_i64(1)))?, out_col),
            ("COUNT", Some(p)) if p.ty == DataType::Null => {
                (filtered(agg::count(lit_i64(1)))?, lit_i64(0))
            }
            ("COUNT", Some(p)) if p.multi => (
                filtered(agg::sum(reduce(p, "mv_count", mv_count, DataType::Long)))?,
                datafusion::functions::expr_fn::coalesce(vec![out_col, lit_i64(0)]),
            ),
            ("COUNT", Some(p)) => (filtered(agg::count(p.expr.clone()))?, out_col),
            ("MIN", Some(p)) => (
                filtered(agg::min(reduce(p, "mv_min", mv_min, p.ty)))?,
                out_col,
            ),
            ("MAX", Some(p)) => (
                filtered(agg::max(reduce(p, "mv_max", mv_max, p.ty)))?,
                out_col,
            ),
            ("SUM", Some(p)) if p.ty == DataType::Null => (
                filtered(agg::count(lit_i64(1)))?,
                Expr::Literal(ScalarValue::Null, None),
            ),
            ("SUM", Some(p)) if p.ty == DataType::Double => {
                let arg = reduce(p, "mv_sum", mv_sum, p.ty);
                (filtered(agg::sum(arg))?, out_col)
            }
            ("SUM", Some(p)) => {
                // Integral sums add up in 128 bits; a total beyond a long is null plus
                // ES's overflow warning, never a wrapped number.
                use datafusion::arrow::datatypes::DataType as Arrow;
                let arg = Expr::Cast(datafusion::logical_expr::Cast::new(
                    Box::new(reduce(p, "mv_sum", mv_sum, p.ty)),
                    Arrow::Decimal128(38, 0),
                ));
                let as_long = Expr::TryCast(datafusion::logical_expr::TryCast::new(
                    Box::new(out_col.clone()),
                    Arrow::Int64,
                ));
                let finish = RowUdf::udf(
                    RowUdfSpec {
                        name: "sum_finish",
                        kernel: sum_finish,
                        ret: DataType::Long,
                        ret_multi: false,
                        multi: MultiValues::Accept,
                        nulls: Nulls::Pass,
                    },
                    vec![DataType::Long, DataType::Boolean],
                    site_of(ctx, &c.site),
                    ctx.warnings.clone(),
                )
                .call(vec![as_long, out_col.is_not_null()]);
                (filtered(agg::sum(arg))?, finish)
            }
            ("AVG", Some(p)) if p.multi => {
                // sum of all values / number of values, over every value of every row.
                let s = widen(reduce(p, "mv_sum", mv_sum, p.ty), p.ty, DataType::Double);
                let n = reduce(p, "mv_count", mv_count, DataType::Long);
                agg_exprs.push(filtered(agg::sum(n))?.alias(format!("__rawn{k}")));
                let avg = Expr::Cast(datafusion::logical_expr::Cast::new(
                    Box::new(out_col.clone()),
                    crate::value::arrow_type(DataType::Double),
                )) / Expr::Cast(datafusion::logical_expr::Cast::new(
                    Box::new(column(&format!("__rawn{k}"))),
                    crate::value::arrow_type(DataType::Double),
                ));
                (filtered(agg::sum(s))?, avg)
            }
            ("AVG", Some(p)) => (
                filtered(agg::avg(widen(p.expr.clone(), p.ty, DataType::Double)))?,
                out_col,
            ),
            ("COUNT_DISTINCT", Some(p)) if !p.multi => {
                (filtered(agg::count_distinct(p.expr.clone()))?, out_col)
            }
            ("COUNT_DISTINCT", Some(p)) | ("VALUES", Some(p)) => {
                let collected = agg::array_agg(p.expr.clone()).filter(p.expr.clone().is_not_null());
                let collected = match &c.filter {
                    Some(f) => collected.filter(column(f).and(p.expr.clone().is_not_null())),
                    None => collected,
                }
                .build()?;
                let is_count = c.name == "COUNT_DISTINCT";
                let finish = RowUdf::udf(
                    RowUdfSpec {
                        name: if is_count {
                            "count_distinct_finish"
                        } else {
                            "values_finish"
                        },
                        kernel: if is_count {
                            count_distinct_finish
                        } else {
                            values_finish
                        },
                        ret: if is_count { DataType::Long } else { c.ty },
                        ret_multi: !is_count,
                        multi: MultiValues::Accept,
                        nulls: Nulls::Pass,
                    },
                    vec![p.ty],
                    site_of(ctx, &c.site),
                    ctx.warnings.clone(),
                )
                .call(vec![out_col]);
                (collected, finish)
            }
            ("WEIGHTED_AVG", Some(p)) => {
                let w = c
                    .args
                    .get(1)
                    .cloned()
                    .ok_or_else(|| PlanError::Internal("WEIGHTED_AVG needs a weight".into()))?;
                // A multi-valued weight or field makes the row null (with ES's warning); a
                // multi-valued constant contributes each of its values.
                let single = |q: &Planned| -> Expr {
                    if !q.multi {
                        return q.expr.clone();
                    }
                    RowUdf::udf(
                        RowUdfSpec {
                            name: "weighted_avg_single",
                            kernel: |a, _| Ok(a[0].clone()),
                            ret: q.ty,
                            ret_multi: false,
                            multi: MultiValues::Reject,
                            nulls: Nulls::Propagate,
                        },
                        vec![q.ty],
                        site_of(ctx, &c.site),
                        ctx.warnings.clone(),
                    )
                    .call(vec![q.expr.clone()])
                };
                let TKind::Agg { args: targs, .. } = &c.site.kind else {
                    return Err(PlanError::Internal("aggregate site".into()));
                };
                let literal_list =
                    matches!(targs.first().map(|t| &t.kind), Some(TKind::Literal(_)));
                let w_expr = widen(single(&w), w.ty, DataType::Double);
                let (sum_x, n_x) = if p.multi && literal_list {
                    (
                        widen(reduce(p, "mv_sum", mv_sum, p.ty), p.ty, DataType::Double),
                        widen(
                            reduce(p, "mv_count", mv_count, DataType::Long),
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
                let cond = match &c.filter {
                    Some(f) => column(f).and(both),
                    None => both,
                };
                let num = agg::sum(sum_x * w_expr.clone())
                    .filter(cond.clone())
                    .build()?;
                let den = agg::sum(n_x * w_expr).filter(cond).build()?;
                agg_exprs.push(den.alias(format!("__rawn{k}")));
                let ratio = RowUdf::udf(
                    RowUdfSpec {
                        name: "weighted_avg_finish",
                        kernel: weighted_avg_finish,
                        ret: DataType::Double,
                        ret_multi: false,
                        multi: MultiValues::Accept,
                        nulls: Nulls::Pass,
                    },
                    vec![DataType::Double, DataType::Double],
                    site_of(ctx, &c.site),
                    ctx.warnings.clone(),
                )
                .call(vec![out_col, column(&format!("__rawn{k}"))]);
                (num, ratio)
            }
            (
                "MEDIAN"
                | "PERCENTILE"
                | "MEDIAN_ABSOLUTE_DEVIATION"
                | "STD_DEV"
                | "VARIANCE"
                | "TOP",
                Some(p),
            ) => {
                let not_null = p.expr.clone().is_not_null();
                let collected = agg::array_agg(p.expr.clone());
                let collected = match &c.filter {
                    Some(f) => collected.filter(column(f).and(not_null)),
                    None => collected.filter(not_null),
                }
                .build()?;
                // Constant parameters (percentile, TOP's limit and order) are planned again
                // after the aggregation, where they are literals.
                let TKind::Agg { args: targs, .. } = &c.site.kind else {
                    return Err(PlanError::Internal("aggregate site".into()));
                };
                let mut finish_args = vec![out_col];
                let mut types = vec![p.ty];
                for extra in targs.iter().skip(1) {
                    let e = planner.plan(extra)?;
                    types.push(e.ty);
                    finish_args.push(e.expr);
                }
                let (kernel, multi): (crate::udf::Kernel, bool) = match c.name.as_str() {
                    "MEDIAN" => (median_finish, false),
                    "PERCENTILE" => (percentile_finish, false),
                    "MEDIAN_ABSOLUTE_DEVIATION" => (mad_finish, false),
                    "STD_DEV" => (std_dev_finish, false),
                    "VARIANCE" => (variance_finish, false),
                    _ => (top_finish, true),
                };
                let finish = RowUdf::udf(
                    RowUdfSpec {
                        name: "collect_finish",
                        kernel,
                        ret: c.ty,
                        ret_multi: multi,
                        multi: MultiValues::Accept,
                        nulls: Nulls::Pass,
                    },
                    types,
                    site_of(ctx, &c.site),
                    ctx.warnings.clone(),
                )
                .call(finish_args);
                (collected, finish)
            }
            (other, _) => {
                return Err(PlanError::at(
                    ctx.source,
                    &c.site,
                    format!("aggregate [{other}] is not supported yet by trailhunt"),
                ))
            }
        };
        agg_exprs.push(aggregate.alias(&raw));
        finish.push(finished.alias(format!("__agg{k}")));
        let _ = &planner;
    }
    if ordered {
        agg_exprs.push(agg::min(column("__rn")).alias("__first"));
    }
    plan = LogicalPlanBuilder::from(plan)
        .aggregate(group_exprs, agg_exprs)?
        .build()?;
    // Finish the raw aggregates.
    let mut mid: Vec<Expr> = keys.iter().map(|j| column(&format!("__g{j}"))).collect();
    mid.extend(finish);
    if ordered {
        mid.push(column("__first"));
    }
    plan = LogicalPlanBuilder::from(plan).project(mid)?.build()?;
    if ordered {
        plan = LogicalPlanBuilder::from(plan)
            .sort(first_seen_order(groups, &keys))?
            .build()?;
    }

    // 4. Expressions around aggregates, then ES's column order: aggregates, then keys.
    let schema = plan.schema().clone();
    let planner = ctx.exprs(&schema);
    let mut out = vec![];
    for ((name, _), r) in aggs.iter().zip(&rewritten) {
        out.push(planner.plan(r)?.expr.alias(name));
    }
    for (j, (name, _)) in groups.iter().enumerate() {
        out.push(column(&format!("__g{}", rep[j])).alias(name));
    }
    Ok(LogicalPlanBuilder::from(plan).project(out)?.build()?)
}

/// The sort that puts groups in ES's output order. A single key's null group comes first
/// (ES reserves group id 0 for it), and a single boolean key is always null, false, true;
/// otherwise groups follow their first row.
fn first_seen_order(
    groups: &[(String, TExpr)],
    keys: &[usize],
) -> Vec<datafusion::logical_expr::SortExpr> {
    use datafusion::logical_expr::SortExpr;
    let first = SortExpr::new(column("__first"), true, false);
    match keys {
        [j] => {
            let key = column(&format!("__g{j}"));
            if groups[*j].1.ty == DataType::Boolean {
                vec![SortExpr::new(key, true, true)]
            } else {
                vec![SortExpr::new(key.is_null(), false, false), first]
            }
        }
        _ => vec![first],
    }
}

/// For each grouping key, the first key that is a copy of it (itself if none). A key that
/// only renames or re-evaluates another column (`EVAL z = y | RENAME z AS zzz | STATS … BY
/// y, zzz`) holds the same values row by row, so ES groups once and pairs the copies
/// instead of crossing a multi-valued key with itself.
fn copies_of_keys(input: &LogicalPlan, groups: &[(String, TExpr)]) -> Vec<usize> {
    let origins: Vec<Option<(usize, String)>> = groups
        .iter()
        .map(|(_, g)| match &g.kind {
            TKind::Column(n) => Some(origin(input, n)),
            _ => None,
        })
        .collect();
    (0..groups.len())
        .map(|j| {
            (0..j)
                .find(|&i| origins[j].is_some() && origins[i] == origins[j])
                .unwrap_or(j)
        })
        .collect()
}

/// Follows a column down through projections that merely pass or rename it (and filters,
/// which keep columns as they are): the depth reached and the column's name there. Two
/// columns with the same origin are equal in every row.
fn origin(plan: &LogicalPlan, name: &str) -> (usize, String) {
    let mut node = plan;
    let mut name = name.to_string();
    let mut depth = 0;
    loop {
        match node {
            LogicalPlan::Projection(p) => {
                let Some(i) = p.schema.fields().iter().position(|f| *f.name() == name) else {
                    break;
                };
                let mut e = &p.expr[i];
                while let Expr::Alias(a) = e {
                    e = &a.expr;
                }
                let Expr::Column(c) = e else {
                    break;
                };
                name = c.name.clone();
                node = &p.input;
            }
            LogicalPlan::Filter(f) => node = &f.input,
            _ => break,
        }
        depth += 1;
    }
    (depth, name)
}

fn lit_i64(v: i64) -> Expr {
    Expr::Literal(ScalarValue::Int64(Some(v)), None)
}

fn widen(e: Expr, from: DataType, to: DataType) -> Expr {
    if from == to {
        e
    } else {
        Expr::Cast(datafusion::logical_expr::Cast::new(
            Box::new(e),
            crate::value::arrow_type(to),
        ))
    }
}

/// A 128-bit total that did not fit a long (`as_long` null while the total is not).
fn sum_finish(a: &[Value], _: &crate::udf::Ctx) -> Result<Value, String> {
    match (&a[0], &a[1]) {
        (Value::Null, Value::Bool(true)) => {
            Err("java.lang.ArithmeticException: long overflow".into())
        }
        (v, _) => Ok(v.clone()),
    }
}

fn mv_count(a: &[Value], _: &crate::udf::Ctx) -> Result<Value, String> {
    Ok(Value::Long(a[0].values().len() as i64))
}

fn mv_sum(a: &[Value], ctx: &crate::udf::Ctx) -> Result<Value, String> {
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
pub fn percentile_of(mut xs: Vec<f64>, p: f64) -> Option<f64> {
    if xs.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let rank = p / 100.0 * (xs.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    Some(xs[lo] + (xs[hi] - xs[lo]) * (rank - lo as f64))
}

fn median_finish(a: &[Value], _: &crate::udf::Ctx) -> Result<Value, String> {
    Ok(percentile_of(numbers(&a[0]), 50.0)
        .map(Value::Double)
        .unwrap_or(Value::Null))
}

fn percentile_finish(a: &[Value], _: &crate::udf::Ctx) -> Result<Value, String> {
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

fn mad_finish(a: &[Value], _: &crate::udf::Ctx) -> Result<Value, String> {
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

fn std_dev_finish(a: &[Value], _: &crate::udf::Ctx) -> Result<Value, String> {
    Ok(variance_of(&numbers(&a[0]))
        .map(|v| Value::Double(v.sqrt()))
        .unwrap_or(Value::Null))
}

fn variance_finish(a: &[Value], _: &crate::udf::Ctx) -> Result<Value, String> {
    Ok(variance_of(&numbers(&a[0]))
        .map(Value::Double)
        .unwrap_or(Value::Null))
}

fn weighted_avg_finish(a: &[Value], _: &crate::udf::Ctx) -> Result<Value, String> {
    match (&a[0], &a[1]) {
        (Value::Double(_), Value::Double(d)) if *d == 0.0 => {
            Err("java.lang.ArithmeticException: / by zero".into())
        }
        (Value::Double(n), Value::Double(d)) => Ok(Value::Double(n / d)),
        _ => Ok(Value::Null),
    }
}

/// TOP(field, limit, order): the `limit` smallest (asc) or largest (desc) values, sorted.
fn top_finish(a: &[Value], _: &crate::udf::Ctx) -> Result<Value, String> {
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

fn values_finish(a: &[Value], _: &crate::udf::Ctx) -> Result<Value, String> {
    Ok(Value::from_values(distinct_values(&a[0])))
}

fn count_distinct_finish(a: &[Value], _: &crate::udf::Ctx) -> Result<Value, String> {
    Ok(Value::Long(distinct_values(&a[0]).len() as i64))
}
