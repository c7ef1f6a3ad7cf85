//! Aggregates (esql-spec §13.1): each registry entry carries its signature and how
//! `STATS` plans it — the DataFusion aggregates to emit and the finish that turns their
//! outputs into the ES|QL value, with ES's multi-value semantics (every value counts).
//! The `STATS` machinery (grouping keys, multi-valued keys, first-seen group order) is in
//! `planner::stats`; it knows no aggregate by name (only `COUNT(*)`'s star, which is
//! syntax rather than an argument, and reaches COUNT as no argument at all).
//!
//! Families: `native` maps onto DataFusion's own aggregates (COUNT, MIN, MAX, SUM, AVG),
//! `collected` gathers a group's values and finishes them with a kernel (COUNT_DISTINCT,
//! VALUES, MEDIAN, PERCENTILE, …).

mod collected;
mod native;

use super::{FunctionDef, Impl};
use crate::planner::expr::{column, Planned};
use crate::planner::{site_of, PlanContext, PlanError};
use crate::udf::{Kernel, MultiValues, Nulls, RowUdf, RowUdfSpec};
use datafusion::common::DFSchema;
use datafusion::logical_expr::{Expr, ExprFunctionExt};
use esql::analyzer::{TExpr, TKind};
use esql::catalog::{is_numeric, FunctionKind, Signature, TypeRule};
use esql::DataType;

/// The planning hook of an aggregate's registry entry ([`Impl::Aggregate`]): given one
/// call, the DataFusion aggregates to compute per group and the finish over their
/// outputs. `STATS` aliases the `i`-th aggregate so that the finish reads it as
/// [`AggCall::raw`]`(i)`, applies the call's `WHERE` through [`AggCall::filtered`], and
/// plans everything around the call (keys, unnesting, order, output columns) itself.
///
/// Adding an aggregate is one entry in one family file: its type rule beside this hook.
/// For instance a `RANGE(x)` (largest minus smallest value), in a family's `register`:
///
/// ```ignore
/// defs.push(agg(
///     "RANGE",
///     |a| {
///         arity(a, 1, Some(1))?;
///         expect(a, 0, is_numeric, "numeric except unsigned_long or counter types")?;
///         Ok(DataType::Double)
///     },
///     |call| {
///         let p = call.first()?;
///         // Every value of a multi-valued row counts: reduce each row to its extremes.
///         let lo = call.per_row(p, "mv_min", crate::functions::mv::mv_min, p.ty);
///         let hi = call.per_row(p, "mv_max", crate::functions::mv::mv_max, p.ty);
///         Ok(AggPlan {
///             aggregates: vec![
///                 call.filtered(df::min(widen(lo, p.ty, DataType::Double)))?,
///                 call.filtered(df::max(widen(hi, p.ty, DataType::Double)))?,
///             ],
///             finish: call.raw(1) - call.raw(0),
///         })
///     },
/// ));
/// ```
///
/// Nothing else changes: the analyzer finds the signature in the registry, and `STATS`
/// finds the hook there.
pub type PlanAggregate = fn(&AggCall<'_>) -> Result<AggPlan, PlanError>;

/// What an aggregate's [`PlanAggregate`] hook emits for one call.
pub struct AggPlan {
    /// DataFusion aggregate expressions over the call's argument columns, computed per
    /// group; the finish reads the `i`-th as [`AggCall::raw`]`(i)`.
    pub aggregates: Vec<Expr>,
    /// The ES|QL value, from the aggregates' outputs (a column, a cast, a finish kernel).
    pub finish: Expr,
}

impl AggPlan {
    /// One aggregate and its finish.
    pub fn new(aggregate: Expr, finish: Expr) -> AggPlan {
        AggPlan {
            aggregates: vec![aggregate],
            finish,
        }
    }
}

/// One aggregate call as `STATS` hands it to its entry's [`PlanAggregate`] hook.
pub struct AggCall<'a> {
    /// The call's arguments, planned as columns of the rows being aggregated (`COUNT(*)`
    /// has none). A multi-valued argument is a List column (`multi`).
    pub args: &'a [Planned],
    /// The ES|QL result type the analyzer gave the call.
    pub ty: DataType,
    /// The call's position among the `STATS` aggregates (names its columns).
    index: usize,
    /// The column holding the call's `WHERE` condition, if it has one.
    filter: Option<&'a str>,
    /// The call as analyzed: its position (for warnings and errors) and its arguments
    /// as written (for constant parameters).
    site: &'a TExpr,
    ctx: &'a PlanContext<'a>,
    /// The schema of the rows being aggregated.
    schema: &'a DFSchema,
}

impl<'a> AggCall<'a> {
    pub(crate) fn new(
        ctx: &'a PlanContext<'a>,
        schema: &'a DFSchema,
        site: &'a TExpr,
        index: usize,
        args: &'a [Planned],
        filter: Option<&'a str>,
    ) -> AggCall<'a> {
        AggCall {
            args,
            ty: site.ty,
            index,
            filter,
            site,
            ctx,
            schema,
        }
    }

    /// The name of the column holding the `i`-th aggregate's output.
    pub(crate) fn raw_name(index: usize, i: usize) -> String {
        match i {
            0 => format!("__raw{index}"),
            1 => format!("__rawn{index}"),
            _ => format!("__raw{index}_{i}"),
        }
    }

    /// The output of the `i`-th of [`AggPlan::aggregates`], for the finish.
    pub fn raw(&self, i: usize) -> Expr {
        column(&Self::raw_name(self.index, i))
    }

    /// The first argument; its absence is an aggregate trailhunt cannot plan.
    pub fn first(&self) -> Result<&'a Planned, PlanError> {
        self.args.first().ok_or_else(|| self.unsupported())
    }

    /// The error for a call this aggregate cannot plan.
    pub fn unsupported(&self) -> PlanError {
        let name = match &self.site.kind {
            TKind::Agg { name, .. } => name.as_str(),
            _ => "?",
        };
        PlanError::at(
            self.ctx.source,
            self.site,
            format!("aggregate [{name}] is not supported yet by trailhunt"),
        )
    }

    /// A DataFusion aggregate restricted to the rows of the call's `WHERE`.
    pub fn filtered(&self, e: Expr) -> Result<Expr, PlanError> {
        match (&self.filter, e) {
            (Some(f), e @ Expr::AggregateFunction(_)) => Ok(e.filter(column(f)).build()?),
            (_, e) => Ok(e),
        }
    }

    /// A DataFusion aggregate over the rows where `cond` holds (and the call's `WHERE`).
    pub fn filtered_where(&self, e: Expr, cond: Expr) -> Result<Expr, PlanError> {
        let cond = match &self.filter {
            Some(f) => column(f).and(cond),
            None => cond,
        };
        Ok(e.filter(cond).build()?)
    }

    /// A row function at the call's position (its failures warn there).
    pub fn row_fn(&self, spec: RowUdfSpec, arg_types: Vec<DataType>, args: Vec<Expr>) -> Expr {
        RowUdf::udf(
            spec,
            arg_types,
            site_of(self.ctx, self.site),
            self.ctx.warnings.clone(),
        )
        .call(args)
    }

    /// A finish kernel over aggregate outputs, which sees nulls and lists as they are.
    pub fn finish_fn(
        &self,
        name: &'static str,
        kernel: Kernel,
        ret: DataType,
        ret_multi: bool,
        arg_types: Vec<DataType>,
        args: Vec<Expr>,
    ) -> Expr {
        let spec = RowUdfSpec {
            name,
            kernel,
            ret,
            ret_multi,
            multi: MultiValues::Accept,
            nulls: Nulls::Pass,
        };
        self.row_fn(spec, arg_types, args)
    }

    /// `p` reduced to one value per row by `kernel` when it may be multi-valued (COUNT
    /// counts a row's values, MIN takes its minimum, …), so that every value counts.
    pub fn per_row(&self, p: &Planned, name: &'static str, kernel: Kernel, ret: DataType) -> Expr {
        if !p.multi {
            return p.expr.clone();
        }
        self.always_per_row(p, name, kernel, ret)
    }

    /// `kernel` on each row of `p`, multi-valued or not (one part of a metric, …).
    pub fn always_per_row(
        &self,
        p: &Planned,
        name: &'static str,
        kernel: Kernel,
        ret: DataType,
    ) -> Expr {
        let spec = RowUdfSpec {
            name,
            kernel,
            ret,
            ret_multi: false,
            multi: MultiValues::Accept,
            nulls: Nulls::Propagate,
        };
        self.row_fn(spec, vec![p.ty], vec![p.expr.clone()])
    }

    /// The arguments as written, after the first (constant parameters: a percentile,
    /// TOP's limit and order), planned again for the finish, where they are literals.
    pub fn constants(&self) -> Result<Vec<Planned>, PlanError> {
        let TKind::Agg { args, .. } = &self.site.kind else {
            return Err(PlanError::Internal("aggregate site".into()));
        };
        let planner = self.ctx.exprs(self.schema);
        args.iter().skip(1).map(|a| planner.plan(a)).collect()
    }

    /// Whether the `i`-th argument is written as a literal (a multi-valued constant
    /// contributes each of its values to WEIGHTED_AVG).
    pub fn arg_is_literal(&self, i: usize) -> Result<bool, PlanError> {
        let TKind::Agg { args, .. } = &self.site.kind else {
            return Err(PlanError::Internal("aggregate site".into()));
        };
        Ok(matches!(
            args.get(i).map(|t| &t.kind),
            Some(TKind::Literal(_))
        ))
    }
}

/// An aggregate's registry entry: its type rule and its planning hook.
fn agg(name: &'static str, rule: TypeRule, plan: PlanAggregate) -> FunctionDef {
    FunctionDef {
        sig: Signature {
            name,
            kind: FunctionKind::Aggregate,
            rule,
        },
        aliases: &[],
        imp: Impl::Aggregate(plan),
    }
}

pub fn register(defs: &mut Vec<FunctionDef>) {
    native::register(defs);
    collected::register(defs);
}

/// `e` cast from ES|QL type `from` to `to` (nothing when they are the same).
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

/// A pre-aggregated metric reads as the numbers it summarises.
fn numeric_or_metric(t: DataType) -> bool {
    is_numeric(t) || t == DataType::AggregateMetricDouble
}
