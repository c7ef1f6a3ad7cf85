//! The analyzed ES|QL pipeline to a DataFusion `LogicalPlan`, one step at a time. Each
//! command keeps the analyzer's column list as the plan's output, in order, so the plan's
//! schema always means what ES|QL says it means.

pub(crate) mod expr;
mod join;
mod show;
mod stats;

pub use expr::Planned;

use crate::warnings::Warnings;
use datafusion::common::DFSchema;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, SortExpr};
use esql::analyzer::{Analyzed, Step, TExpr, TKind};
use esql::{DataType, Position};
use expr::{column, ExprPlanner};

/// Why a query could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A problem with the query at a position (`line L:C: …`).
    #[error("line {line}:{column}: {message}")]
    At {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error("internal planning error: {0}")]
    Internal(String),
}

impl PlanError {
    pub fn at(source: &str, e: &TExpr, message: impl Into<String>) -> PlanError {
        let p = Position::of(source, e.span.start);
        PlanError::At {
            line: p.line,
            column: p.column,
            message: message.into(),
        }
    }

    /// Where in the query the problem is, as (line, column), both from 1; `None` for
    /// failures that are not the query's fault.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            PlanError::At { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }
}

pub struct PlanContext<'a> {
    pub source: &'a str,
    /// Every dataset the query may read (LOOKUP JOIN and ENRICH targets included).
    pub datasets: &'a [std::sync::Arc<dyn crate::source::Dataset>],
    pub warnings: &'a Warnings,
    pub now_ms: i64,
}

impl<'a> PlanContext<'a> {
    pub(crate) fn exprs<'s>(&'s self, schema: &'s DFSchema) -> ExprPlanner<'s> {
        ExprPlanner {
            source: self.source,
            warnings: self.warnings,
            now_ms: self.now_ms,
            schema,
        }
    }
}

/// Plans the pipeline on top of `input` (the scan for FROM, one empty row for ROW).
pub fn plan_steps(
    ctx: &PlanContext<'_>,
    analyzed: &Analyzed,
    input: LogicalPlan,
) -> Result<LogicalPlan, PlanError> {
    let mut plan = input;
    if let esql::TSource::Row(fields) = &analyzed.source {
        let mut exprs = vec![];
        let schema = plan.schema().clone();
        for (name, e) in fields {
            let p = ctx.exprs(&schema).plan(e)?;
            exprs.push(p.expr.alias(name));
        }
        plan = LogicalPlanBuilder::from(plan).project(exprs)?.build()?;
    }
    if let esql::TSource::Show(what) = &analyzed.source {
        plan = show::plan(*what)?;
    }
    // Columns in output order after each step, as the analyzer computed them.
    let mut names: Vec<String> = match &analyzed.source {
        esql::TSource::From {
            columns, metadata, ..
        } => columns
            .iter()
            .chain(metadata)
            .map(|c| c.name.clone())
            .collect(),
        esql::TSource::Row(fields) => fields.iter().map(|(n, _)| n.clone()).collect(),
        esql::TSource::Show(what) => esql::analyzer::show_columns(*what)
            .into_iter()
            .map(|c| c.name)
            .collect(),
    };
    for (i, step) in analyzed.steps.iter().enumerate() {
        let ordered = order_matters(&analyzed.steps[i + 1..]);
        plan = plan_step(ctx, step, plan, &mut names, ordered)?;
    }
    // Pin the final column order and names.
    let exprs: Vec<Expr> = analyzed
        .columns
        .iter()
        .map(|c| column(&c.name).alias(&c.name))
        .collect();
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// Whether the row order a step produces can be seen: by the user at the end, or by a
/// LIMIT or a later STATS (first-seen group order) before any SORT reorders the rows.
fn order_matters(rest: &[Step]) -> bool {
    for s in rest {
        match s {
            Step::Sort(_) => return false,
            Step::Limit(_) | Step::Stats { .. } => return true,
            _ => {}
        }
    }
    true
}

fn plan_step(
    ctx: &PlanContext<'_>,
    step: &Step,
    plan: LogicalPlan,
    names: &mut Vec<String>,
    ordered: bool,
) -> Result<LogicalPlan, PlanError> {
    let schema = plan.schema().clone();
    match step {
        Step::Where(cond) => {
            let p = ctx.exprs(&schema).plan(cond)?;
            let expr = boolean(p);
            Ok(LogicalPlanBuilder::from(plan).filter(expr)?.build()?)
        }
        Step::Eval(assignments) => {
            let mut plan = plan;
            for (name, e) in assignments {
                let schema = plan.schema().clone();
                let p = ctx.exprs(&schema).plan(e)?;
                names.retain(|n| n != name);
                let mut exprs: Vec<Expr> = names.iter().map(|n| column(n)).collect();
                exprs.push(p.expr.alias(name));
                names.push(name.clone());
                plan = LogicalPlanBuilder::from(plan).project(exprs)?.build()?;
            }
            Ok(plan)
        }
        Step::Stats { aggs, groups } => {
            let out = stats::plan_stats(ctx, plan, aggs, groups, ordered)?;
            *names = aggs
                .iter()
                .map(|(n, _)| n.clone())
                .chain(groups.iter().map(|(n, _)| n.clone()))
                .collect();
            Ok(out)
        }
        Step::Project(pairs) => {
            let exprs: Vec<Expr> = pairs
                .iter()
                .map(|(from, to)| column(from).alias(to))
                .collect();
            *names = pairs.iter().map(|(_, to)| to.clone()).collect();
            Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
        }
        Step::Sort(keys) => {
            let planner = ctx.exprs(&schema);
            let mut sort = vec![];
            for k in keys {
                let p = planner.plan(&k.expr)?;
                // A multi-value sorts by its minimum ascending, its maximum descending.
                let p = if p.multi {
                    mv_extreme(ctx, &k.expr, p, k.descending)
                } else {
                    p
                };
                let p = if p.ty == DataType::Ip {
                    planner.ip_order(&k.expr, p)
                } else {
                    p
                };
                sort.push(SortExpr::new(p.expr, !k.descending, k.nulls_first));
            }
            Ok(LogicalPlanBuilder::from(plan).sort(sort)?.build()?)
        }
        Step::Limit(n) => Ok(LogicalPlanBuilder::from(plan)
            .limit(0, Some(*n as usize))?
            .build()?),
        Step::MvExpand(name) => {
            let col = datafusion::common::Column::new_unqualified(name);
            let is_list = matches!(
                schema
                    .field_with_unqualified_name(name)
                    .map(|f| f.data_type().clone()),
                Ok(datafusion::arrow::datatypes::DataType::List(_))
            );
            if !is_list {
                return Ok(plan);
            }
            let opts = datafusion::common::UnnestOptions::new().with_preserve_nulls(true);
            Ok(LogicalPlanBuilder::from(plan)
                .unnest_column_with_options(col, opts)?
                .build()?)
        }
        Step::Dissect {
            input,
            pattern,
            separator,
            fields,
        } => {
            let p = ctx.exprs(&schema).plan(input)?;
            let mut new_cols = vec![];
            for f in fields {
                let args = vec![
                    p.expr.clone(),
                    lit_str(&pattern.source),
                    lit_str(separator),
                    lit_str(f),
                ];
                let arg_types = vec![
                    p.ty,
                    DataType::Keyword,
                    DataType::Keyword,
                    DataType::Keyword,
                ];
                let udf = row_fn(
                    ctx,
                    input,
                    "dissect",
                    crate::extract::dissect,
                    DataType::Keyword,
                    p.multi,
                    arg_types,
                );
                new_cols.push((f.clone(), udf.call(args)));
            }
            append_columns(plan, names, new_cols)
        }
        Step::LookupJoin {
            index,
            keys,
            added,
            span,
        } => {
            let keys: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), k.clone())).collect();
            let added: Vec<(String, String)> = added
                .iter()
                .map(|c| (c.name.clone(), c.name.clone()))
                .collect();
            join::left_join(ctx, *span, plan, names, index, &keys, &added)
        }
        Step::Enrich {
            index,
            left_key,
            match_field,
            fields,
            span,
        } => join::left_join(
            ctx,
            *span,
            plan,
            names,
            index,
            &[(left_key.clone(), match_field.clone())],
            fields,
        ),
        Step::Grok {
            input,
            patterns,
            fields,
        } => {
            let sep = crate::extract::PATTERN_SEPARATOR.to_string();
            let text = patterns
                .iter()
                .map(|g| g.source.as_str())
                .collect::<Vec<_>>()
                .join(&sep);
            let p = ctx.exprs(&schema).plan(input)?;
            let mut new_cols = vec![];
            for (f, ty) in fields {
                // A name captured twice in one pattern yields a multi-value.
                let repeated = patterns.iter().any(|g| {
                    g.groups
                        .iter()
                        .filter(|(_, i)| g.fields.get(*i).is_some_and(|(n, _)| n == f))
                        .count()
                        > 1
                });
                let args = vec![p.expr.clone(), lit_str(&text), lit_str(f)];
                let arg_types = vec![p.ty, DataType::Keyword, DataType::Keyword];
                let udf = row_fn(
                    ctx,
                    input,
                    "grok",
                    crate::extract::grok,
                    *ty,
                    p.multi || repeated,
                    arg_types,
                );
                new_cols.push((f.clone(), udf.call(args)));
            }
            append_columns(plan, names, new_cols)
        }
    }
}

fn lit_str(s: &str) -> Expr {
    Expr::Literal(
        datafusion::common::ScalarValue::Utf8(Some(s.to_string())),
        None,
    )
}

fn row_fn(
    ctx: &PlanContext<'_>,
    site: &TExpr,
    name: &'static str,
    kernel: crate::udf::Kernel,
    ret: DataType,
    multi: bool,
    arg_types: Vec<DataType>,
) -> datafusion::logical_expr::ScalarUDF {
    crate::udf::RowUdf::udf(
        crate::udf::RowUdfSpec {
            name,
            kernel,
            ret,
            ret_multi: multi,
            multi: crate::udf::MultiValues::Accept,
            nulls: crate::udf::Nulls::Propagate,
        },
        arg_types,
        site_of(ctx, site),
        ctx.warnings.clone(),
    )
}

/// New columns go to the end; a new column replaces an existing one of the same name.
fn append_columns(
    plan: LogicalPlan,
    names: &mut Vec<String>,
    new_cols: Vec<(String, Expr)>,
) -> Result<LogicalPlan, PlanError> {
    names.retain(|n| !new_cols.iter().any(|(c, _)| c == n));
    let mut exprs: Vec<Expr> = names.iter().map(|n| column(n)).collect();
    for (n, e) in new_cols {
        exprs.push(e.alias(&n));
        names.push(n);
    }
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// WHERE needs a boolean; a `null` condition keeps nothing.
fn boolean(p: Planned) -> Expr {
    if p.ty == DataType::Null {
        Expr::Literal(datafusion::common::ScalarValue::Boolean(Some(false)), None)
    } else {
        p.expr
    }
}

fn mv_extreme(ctx: &PlanContext<'_>, site: &TExpr, p: Planned, max: bool) -> Planned {
    let ty = p.ty;
    let udf = crate::udf::RowUdf::udf(
        crate::udf::RowUdfSpec {
            name: if max { "mv_max" } else { "mv_min" },
            kernel: if max {
                crate::functions::mv::mv_max
            } else {
                crate::functions::mv::mv_min
            },
            ret: ty,
            ret_multi: false,
            multi: crate::udf::MultiValues::Accept,
            nulls: crate::udf::Nulls::Propagate,
        },
        vec![ty],
        site_of(ctx, site),
        ctx.warnings.clone(),
    );
    Planned {
        expr: udf.call(vec![p.expr]),
        ty,
        multi: false,
    }
}

pub(crate) fn site_of(ctx: &PlanContext<'_>, e: &TExpr) -> crate::warnings::Site {
    let p = Position::of(ctx.source, e.span.start);
    crate::warnings::Site {
        line: p.line,
        column: p.column,
        text: e.span.text(ctx.source).to_string(),
    }
}

/// Replaces sub-expressions bottom-up; used by STATS to swap aggregates for columns.
pub(crate) fn rewrite(e: &TExpr, f: &mut dyn FnMut(&TExpr) -> Option<TExpr>) -> TExpr {
    if let Some(r) = f(e) {
        return r;
    }
    let kind = match &e.kind {
        TKind::Call { name, args } => TKind::Call {
            name: name.clone(),
            args: args.iter().map(|a| rewrite(a, f)).collect(),
        },
        TKind::Neg(x) => TKind::Neg(Box::new(rewrite(x, f))),
        TKind::Not(x) => TKind::Not(Box::new(rewrite(x, f))),
        TKind::Binary { op, left, right } => TKind::Binary {
            op: *op,
            left: Box::new(rewrite(left, f)),
            right: Box::new(rewrite(right, f)),
        },
        TKind::IsNull { expr, negated } => TKind::IsNull {
            expr: Box::new(rewrite(expr, f)),
            negated: *negated,
        },
        TKind::In {
            expr,
            list,
            negated,
        } => TKind::In {
            expr: Box::new(rewrite(expr, f)),
            list: list.iter().map(|a| rewrite(a, f)).collect(),
            negated: *negated,
        },
        TKind::Like {
            expr,
            patterns,
            negated,
            regex,
        } => TKind::Like {
            expr: Box::new(rewrite(expr, f)),
            patterns: patterns.clone(),
            negated: *negated,
            regex: *regex,
        },
        TKind::Cast { expr, to } => TKind::Cast {
            expr: Box::new(rewrite(expr, f)),
            to: *to,
        },
        other => other.clone(),
    };
    TExpr {
        kind,
        ty: e.ty,
        span: e.span,
    }
}
