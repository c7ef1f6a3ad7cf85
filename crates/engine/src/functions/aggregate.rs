//! Aggregate signatures (esql-spec §13.1). How they run is in `planner::stats`, which maps
//! each onto a DataFusion aggregate with ES's multi-value semantics (every value counts).

use super::{FunctionDef, Impl};
use esql::catalog::{
    arity, expect, is_any, is_numeric, is_orderable, ArgError, Args, FunctionKind, Signature,
    TypeRule,
};
use esql::DataType;

fn agg(name: &'static str, rule: TypeRule) -> FunctionDef {
    FunctionDef {
        sig: Signature {
            name,
            kind: FunctionKind::Aggregate,
            rule,
        },
        aliases: &[],
        imp: Impl::Aggregate,
    }
}

pub fn register(defs: &mut Vec<FunctionDef>) {
    defs.push(agg("COUNT", |a| {
        arity(a, 0, Some(1))?;
        if !a.types.is_empty() {
            expect(a, 0, is_any, "any type except counter types")?;
        }
        Ok(DataType::Long)
    }));
    defs.push(agg("COUNT_DISTINCT", |a| {
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
    }));
    defs.push(agg("MIN", min_max));
    defs.push(agg("MAX", min_max));
    defs.push(agg("SUM", |a| {
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
    }));
    defs.push(agg("AVG", |a| {
        arity(a, 1, Some(1))?;
        expect(
            a,
            0,
            numeric_or_metric,
            "numeric except unsigned_long or counter types",
        )?;
        Ok(DataType::Double)
    }));
    defs.push(agg("MEDIAN", one_numeric_to_double));
    defs.push(agg("MEDIAN_ABSOLUTE_DEVIATION", one_numeric_to_double));
    defs.push(agg("STD_DEV", one_numeric_to_double));
    defs.push(agg("VARIANCE", one_numeric_to_double).aliases(&["STD_VAR"]));
    defs.push(agg("PERCENTILE", |a| {
        arity(a, 2, Some(2))?;
        expect(a, 0, is_numeric, "numeric except unsigned_long")?;
        expect(a, 1, is_numeric, "numeric except unsigned_long")?;
        if !a.constant[1] {
            return Err(ArgError::NotConstant { index: 1 });
        }
        Ok(DataType::Double)
    }));
    defs.push(agg("WEIGHTED_AVG", |a| {
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
    }));
    defs.push(agg("TOP", |a| {
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
    }));
    defs.push(agg("VALUES", |a| {
        arity(a, 1, Some(1))?;
        expect(
            a,
            0,
            is_any,
            "any type except unsigned_long and spatial types",
        )?;
        Ok(a.types[0].widen_text())
    }));
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

fn min_max(a: &Args<'_>) -> Result<DataType, ArgError> {
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

/// A pre-aggregated metric reads as the numbers it summarises.
fn numeric_or_metric(t: DataType) -> bool {
    is_numeric(t) || t == DataType::AggregateMetricDouble
}
