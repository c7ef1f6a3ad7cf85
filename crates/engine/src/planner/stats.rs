//! `STATS aggs BY groups` (esql-spec §6, §8.3) as project → unnest → aggregate → project,
//! one function per phase:
//! 0. [`group_keys`]: the grouping keys under their names, which aggregates may use;
//! 1. [`aggregate_inputs`]: one projection computes every grouping key (`__g*`),
//!    aggregate argument (`__a*`) and per-aggregate filter (`__f*`) from the input row;
//! 2. [`expand_keys`]: each multi-valued key is unnested, so the row lands in every group
//!    of its values while the aggregate arguments still carry the whole row (and rows are
//!    numbered when the groups' first-seen order can be seen);
//! 3. [`aggregate_node`]: DataFusion aggregates, each call planned by its registry entry
//!    ([`crate::functions::aggregate::PlanAggregate`]), which reduces multi-valued
//!    arguments per row first so every value counts, as in ES;
//! 4. [`finish`]: a projection finishes the aggregates, in first-seen group order;
//! 5. [`output`]: expressions around the aggregates, in ES's column order.
//!
//! Nothing here knows an aggregate by name: adding one is an entry in
//! `functions::aggregate`.

use super::expr::{column, ExprPlanner, Planned};
use super::{rewrite, PlanContext, PlanError};
use crate::functions::aggregate::{AggCall, AggPlan};
use crate::functions::{Impl, Registry};
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use esql::analyzer::{TExpr, TKind};
use esql::DataType;

/// One aggregate call, its inputs already columns of the pre-aggregation projection.
struct Call {
    /// The canonical name, the call's registry entry.
    name: String,
    /// Planned arguments (as `__a{k}_{i}` columns).
    args: Vec<Planned>,
    /// The column of the call's `WHERE` (`__f{k}`).
    filter: Option<String>,
    site: TExpr,
}

/// The grouping keys as planned.
struct Keys {
    /// For each key, the first key that is a copy of it (itself if none).
    rep: Vec<usize>,
    /// The keys actually grouped on (those that are no copy), in order.
    kept: Vec<usize>,
    /// For each key, whether it may be multi-valued.
    multi: Vec<bool>,
}

/// The column of the `j`-th grouping key from the pre-aggregation projection on.
fn key_column(j: usize) -> String {
    format!("__g{j}")
}

/// Plans `STATS aggs BY groups` on top of `input`: the phases below, in order. `ordered`
/// says whether the groups' order can be seen later (then it is ES's first-seen order).
pub fn plan_stats(
    ctx: &PlanContext<'_>,
    input: LogicalPlan,
    aggs: &[(String, TExpr)],
    groups: &[(String, TExpr)],
    ordered: bool,
) -> Result<LogicalPlan, PlanError> {
    let (input, keys) = group_keys(ctx, input, groups)?;
    let (plan, calls, rewritten) = aggregate_inputs(ctx, input, aggs, groups, &keys)?;
    let ordered = ordered && !groups.is_empty();
    let plan = expand_keys(plan, &keys, ordered)?;
    let (plan, finishes) = aggregate_node(ctx, plan, &keys, &calls, ordered)?;
    let plan = finish(plan, groups, &keys, finishes, ordered)?;
    output(ctx, plan, aggs, &rewritten, groups, &keys)
}

/// Phase 0: the grouping keys first, under their names, since aggregates and filters may
/// refer to them (ES resolves groupings before the aggregates), shadowing same-named input
/// columns. Also finds the keys that copy another and those that may be multi-valued.
fn group_keys(
    ctx: &PlanContext<'_>,
    input: LogicalPlan,
    groups: &[(String, TExpr)],
) -> Result<(LogicalPlan, Keys), PlanError> {
    let rep = copies_of_keys(&input, groups);
    let in_schema = input.schema().clone();
    let planner = ctx.exprs(&in_schema);
    let mut planned = vec![];
    let mut multi = vec![];
    for (name, g) in groups {
        let p = planner.plan(g)?;
        multi.push(p.multi);
        planned.push((name.clone(), p.expr));
    }
    let mut keyed: Vec<Expr> = vec![];
    for f in in_schema.fields() {
        if !groups.iter().any(|(n, _)| n == f.name()) {
            keyed.push(column(f.name()));
        }
    }
    for (name, e) in planned {
        keyed.push(e.alias(name));
    }
    let plan = LogicalPlanBuilder::from(input).project(keyed)?.build()?;
    let kept = (0..groups.len()).filter(|&j| rep[j] == j).collect();
    Ok((plan, Keys { rep, kept, multi }))
}

/// Phase 1: the projection the aggregation reads — every kept key (`__g{j}`), every
/// aggregate argument (`__a{k}_{i}`) and filter (`__f{k}`) — with the aggregate calls in
/// order and each output expression rewritten to read the calls' results (`__agg{k}`)
/// and the keys.
fn aggregate_inputs(
    ctx: &PlanContext<'_>,
    input: LogicalPlan,
    aggs: &[(String, TExpr)],
    groups: &[(String, TExpr)],
    keys: &Keys,
) -> Result<(LogicalPlan, Vec<Call>, Vec<TExpr>), PlanError> {
    let in_schema = input.schema().clone();
    let planner = ctx.exprs(&in_schema);
    let mut pre: Vec<Expr> = keys
        .kept
        .iter()
        .map(|&j| column(&groups[j].0).alias(key_column(j)))
        .collect();
    let mut calls: Vec<Call> = vec![];
    let mut rewritten: Vec<TExpr> = vec![];
    for (_, e) in aggs {
        let mut err = None;
        let r = rewrite(e, &mut |x| {
            if let TKind::Agg { .. } = &x.kind {
                let k = calls.len();
                match call_inputs(&planner, k, x, &mut pre) {
                    Ok(c) => calls.push(c),
                    Err(e) => err = Some(e),
                }
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
                        kind: TKind::Column(key_column(keys.rep[j])),
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
    let plan = LogicalPlanBuilder::from(input).project(pre)?.build()?;
    Ok((plan, calls, rewritten))
}

/// One aggregate call's inputs, added to the projection `pre`: its arguments
/// (`__a{k}_{i}`) and its `WHERE` (`__f{k}`, a null condition keeping no rows). Every part
/// is planned; when several fail, the last failure is the error.
fn call_inputs(
    planner: &ExprPlanner<'_>,
    k: usize,
    site: &TExpr,
    pre: &mut Vec<Expr>,
) -> Result<Call, PlanError> {
    let TKind::Agg { name, args, filter } = &site.kind else {
        return Err(PlanError::Internal("aggregate site".into()));
    };
    let mut err = None;
    let mut planned = vec![];
    for (i, a) in args.iter().enumerate() {
        // `COUNT(*)`: the star is syntax, not a value to count.
        if name == "COUNT"
            && matches!(&a.kind, TKind::Literal(esql::ast::Literal::Keyword(s)) if s == "*")
        {
            continue;
        }
        match planner.plan(a) {
            Ok(p) => {
                let alias = format!("__a{k}_{i}");
                pre.push(p.expr.alias(&alias));
                planned.push(Planned {
                    expr: column(&alias),
                    ty: p.ty,
                    multi: p.multi,
                });
            }
            Err(e) => err = Some(e),
        }
    }
    let mut filter_column = None;
    if let Some(f) = filter {
        match planner.plan(f) {
            Ok(p) => {
                let alias = format!("__f{k}");
                let cond = if p.ty == DataType::Null {
                    Expr::Literal(ScalarValue::Boolean(Some(false)), None)
                } else {
                    p.expr
                };
                pre.push(cond.alias(&alias));
                filter_column = Some(alias);
            }
            Err(e) => err = Some(e),
        }
    }
    if let Some(e) = err {
        return Err(e);
    }
    Ok(Call {
        name: name.clone(),
        args: planned,
        filter: filter_column,
        site: site.clone(),
    })
}

/// Phase 2: a row belongs to every group of a multi-valued key, so each such key is
/// unnested (a null or empty key stays one null group).
///
/// ES emits groups in the order their first row arrived (its block hashes hand out group
/// ids in insertion order); DataFusion's parallel hash aggregate does not. When that order
/// can be seen (`ordered`), the rows are numbered (`__rn`, after unnesting, so each value
/// of a multi-valued key has its place) for [`finish`] to sort the groups by their first.
fn expand_keys(
    mut plan: LogicalPlan,
    keys: &Keys,
    ordered: bool,
) -> Result<LogicalPlan, PlanError> {
    for &j in keys.kept.iter().filter(|&&j| keys.multi[j]) {
        plan = LogicalPlanBuilder::from(plan)
            .unnest_column_with_options(
                key_column(j).as_str(),
                datafusion::common::UnnestOptions::new().with_preserve_nulls(true),
            )?
            .build()?;
    }
    if ordered {
        plan = LogicalPlanBuilder::from(plan)
            .window(vec![
                datafusion::functions_window::expr_fn::row_number().alias("__rn")
            ])?
            .build()?;
    }
    Ok(plan)
}

/// Phase 3: the aggregate node, grouped by the kept keys. Each call is planned by its
/// registry entry's hook; its `i`-th DataFusion aggregate is named
/// [`AggCall::raw_name`]`(k, i)`. Returns the node and each call's finish (`__agg{k}`).
fn aggregate_node(
    ctx: &PlanContext<'_>,
    plan: LogicalPlan,
    keys: &Keys,
    calls: &[Call],
    ordered: bool,
) -> Result<(LogicalPlan, Vec<Expr>), PlanError> {
    let schema = plan.schema().clone();
    let registry = Registry::global();
    let mut agg_exprs = vec![];
    let mut finishes = vec![];
    for (k, c) in calls.iter().enumerate() {
        let call = AggCall::new(ctx, &schema, &c.site, k, &c.args, c.filter.as_deref());
        let hook = match registry.get(&c.name).map(|d| d.imp) {
            Some(Impl::Aggregate(hook)) => hook,
            _ => return Err(call.unsupported()),
        };
        let AggPlan { aggregates, finish } = hook(&call)?;
        for (i, a) in aggregates.into_iter().enumerate() {
            agg_exprs.push(a.alias(AggCall::raw_name(k, i)));
        }
        finishes.push(finish.alias(format!("__agg{k}")));
    }
    if ordered {
        agg_exprs.push(agg::min(column("__rn")).alias("__first"));
    }
    let group_exprs: Vec<Expr> = keys.kept.iter().map(|&j| column(&key_column(j))).collect();
    let plan = LogicalPlanBuilder::from(plan)
        .aggregate(group_exprs, agg_exprs)?
        .build()?;
    Ok((plan, finishes))
}

/// Phase 4: the kept keys and the finished aggregates (`__agg{k}`), the groups sorted in
/// ES's first-seen order when it can be seen.
fn finish(
    plan: LogicalPlan,
    groups: &[(String, TExpr)],
    keys: &Keys,
    finishes: Vec<Expr>,
    ordered: bool,
) -> Result<LogicalPlan, PlanError> {
    let mut mid: Vec<Expr> = keys.kept.iter().map(|&j| column(&key_column(j))).collect();
    mid.extend(finishes);
    if ordered {
        mid.push(column("__first"));
    }
    let mut plan = LogicalPlanBuilder::from(plan).project(mid)?.build()?;
    if ordered {
        plan = LogicalPlanBuilder::from(plan)
            .sort(first_seen_order(groups, &keys.kept))?
            .build()?;
    }
    Ok(plan)
}

/// Phase 5: the expressions around the aggregates, then ES's column order: aggregates,
/// then keys (a copied key reads the key it copies).
fn output(
    ctx: &PlanContext<'_>,
    plan: LogicalPlan,
    aggs: &[(String, TExpr)],
    rewritten: &[TExpr],
    groups: &[(String, TExpr)],
    keys: &Keys,
) -> Result<LogicalPlan, PlanError> {
    let schema = plan.schema().clone();
    let planner = ctx.exprs(&schema);
    let mut out = vec![];
    for ((name, _), r) in aggs.iter().zip(rewritten) {
        out.push(planner.plan(r)?.expr.alias(name));
    }
    for (j, (name, _)) in groups.iter().enumerate() {
        out.push(column(&key_column(keys.rep[j])).alias(name));
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
