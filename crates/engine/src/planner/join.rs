//! LOOKUP JOIN and ENRICH (esql-spec §8.12–8.13) as DataFusion left outer joins against a
//! lookup dataset. Lookup columns shadow same-named input columns and go to the end; a
//! multi-valued key matches nothing (null plus ES's multi-value warning), as in ES.

use super::expr::column;
use super::{PlanContext, PlanError};
use crate::source::DatasetTable;
use crate::udf::{MultiValues, Nulls, RowUdf, RowUdfSpec};
use datafusion::common::JoinType;
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use std::sync::Arc;

/// Joins `plan` (whose output columns are `names`) with `index` on
/// `left_keys[i] == right_keys[i]`, adding `added` (output name, lookup column) pairs.
pub fn left_join(
    ctx: &PlanContext<'_>,
    span: esql::Span,
    plan: LogicalPlan,
    names: &mut Vec<String>,
    index: &str,
    keys: &[(String, String)],
    added: &[(String, String)],
) -> Result<LogicalPlan, PlanError> {
    let dataset = ctx
        .datasets
        .iter()
        .find(|d| esql::analyzer::wildcard_match(index, d.name()))
        .cloned()
        .ok_or_else(|| PlanError::Internal(format!("no lookup data for [{index}]")))?;
    let table = dataset
        .table_provider()
        .unwrap_or_else(|| Arc::new(DatasetTable::new(dataset.clone())));
    let right =
        LogicalPlanBuilder::scan(format!("lookup_{index}"), provider_as_source(table), None)?
            .build()?;
    let left_schema = plan.schema().clone();
    let right_schema = right.schema().clone();

    // Right side: keys under private names (cast to the left key's type), then the added
    // columns under their output names.
    let mut right_exprs = vec![];
    for (i, (left_key, right_key)) in keys.iter().enumerate() {
        let lt = left_schema
            .field_with_unqualified_name(left_key)
            .map(|f| f.data_type().clone())?;
        let lt = match lt {
            datafusion::arrow::datatypes::DataType::List(f) => f.data_type().clone(),
            other => other,
        };
        right_exprs.push(
            Expr::Cast(datafusion::logical_expr::Cast::new(
                Box::new(column(right_key)),
                lt,
            ))
            .alias(format!("__rk{i}")),
        );
    }
    for (out, field) in added {
        right_schema.field_with_unqualified_name(field)?;
        right_exprs.push(column(field).alias(out));
    }
    let right = LogicalPlanBuilder::from(right)
        .project(right_exprs)?
        .build()?;

    // Left side: drop shadowed columns, add single-valued keys.
    names.retain(|n| !added.iter().any(|(o, _)| o == n));
    let mut left_exprs: Vec<Expr> = names.iter().map(|n| column(n)).collect();
    for (i, (left_key, _)) in keys.iter().enumerate() {
        let field = left_schema.field_with_unqualified_name(left_key)?;
        let key = column(left_key);
        let key = if matches!(
            field.data_type(),
            datafusion::arrow::datatypes::DataType::List(_)
        ) {
            let ty = ctx_type(field.data_type());
            RowUdf::udf(
                RowUdfSpec {
                    name: "join_key",
                    kernel: |a, _| Ok(a[0].clone()),
                    ret: ty,
                    ret_multi: false,
                    multi: MultiValues::Reject,
                    nulls: Nulls::Propagate,
                },
                vec![ty],
                {
                    let p = esql::Position::of(ctx.source, span.start);
                    crate::warnings::Site {
                        line: p.line,
                        column: p.column,
                        text: span.text(ctx.source).to_string(),
                    }
                },
                ctx.warnings.clone(),
            )
            .call(vec![key])
        } else {
            key
        };
        left_exprs.push(key.alias(format!("__lk{i}")));
    }
    let left = LogicalPlanBuilder::from(plan)
        .project(left_exprs)?
        .build()?;
    let lk: Vec<String> = (0..keys.len()).map(|i| format!("__lk{i}")).collect();
    let rk: Vec<String> = (0..keys.len()).map(|i| format!("__rk{i}")).collect();
    let joined = LogicalPlanBuilder::from(left)
        .join(
            right,
            JoinType::Left,
            (
                lk.iter()
                    .map(datafusion::common::Column::new_unqualified)
                    .collect::<Vec<_>>(),
                rk.iter()
                    .map(datafusion::common::Column::new_unqualified)
                    .collect::<Vec<_>>(),
            ),
            None,
        )?
        .build()?;
    let mut out: Vec<Expr> = names.iter().map(|n| column(n)).collect();
    for (o, _) in added {
        out.push(column(o));
        names.push(o.clone());
    }
    Ok(LogicalPlanBuilder::from(joined).project(out)?.build()?)
}

/// The ES|QL type behind a List column's element, for the key's single-value guard.
fn ctx_type(t: &datafusion::arrow::datatypes::DataType) -> esql::DataType {
    use datafusion::arrow::datatypes::DataType as A;
    let inner = match t {
        A::List(f) => f.data_type().clone(),
        other => other.clone(),
    };
    match inner {
        A::Int32 => esql::DataType::Integer,
        A::Int64 => esql::DataType::Long,
        A::UInt64 => esql::DataType::UnsignedLong,
        A::Float64 => esql::DataType::Double,
        A::Boolean => esql::DataType::Boolean,
        A::Timestamp(_, _) => esql::DataType::Date,
        _ => esql::DataType::Keyword,
    }
}
