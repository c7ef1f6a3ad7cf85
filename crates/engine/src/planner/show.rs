//! `SHOW INFO` and `SHOW FUNCTIONS` (esql-spec §7.3): rows about trailhunt itself, as a
//! one-batch in-memory table that the rest of the pipeline reads like any source.
//!
//! The function list is derived from the catalog the analyzer uses, by asking each type
//! rule which arities and argument types it accepts, so it can never disagree with what
//! queries actually accept. Our catalog has no argument names or descriptions: arguments
//! are listed by position and descriptions are null.

use super::PlanError;
use crate::functions::Registry;
use crate::value::{arrow_type, build_array, Value};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::{provider_as_source, MemTable};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use esql::ast::Show;
use esql::catalog::{ArgError, Args, FunctionKind, Signature};
use esql::DataType;
use std::sync::Arc;

pub fn plan(what: Show) -> Result<LogicalPlan, PlanError> {
    let columns = esql::analyzer::show_columns(what);
    let rows = match what {
        Show::Info => vec![info()],
        Show::Functions => functions(),
    };
    // Per-argument columns hold one value per argument, so they are multi-valued.
    let multi = |name: &str| {
        matches!(
            name,
            "argNames" | "argTypes" | "argDescriptions" | "optionalArgs"
        )
    };
    let mut fields = vec![];
    let mut arrays = vec![];
    for (i, c) in columns.iter().enumerate() {
        let values: Vec<Value> = rows.iter().map(|r| r[i].clone()).collect();
        let array = build_array(c.ty, multi(&c.name), &values);
        let ty = if multi(&c.name) {
            crate::value::list_of(arrow_type(c.ty))
        } else {
            arrow_type(c.ty)
        };
        fields.push(Field::new(&c.name, ty, true));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| PlanError::Internal(e.to_string()))?;
    let table = MemTable::try_new(schema, vec![vec![batch]])?;
    Ok(LogicalPlanBuilder::scan("show", provider_as_source(Arc::new(table)), None)?.build()?)
}

/// `version`, `date`, `hash`: ours, not Elasticsearch's. A build may stamp the date and
/// commit through `TRAILHUNT_BUILD_DATE` / `TRAILHUNT_BUILD_HASH`.
fn info() -> Vec<Value> {
    let s = |v: &str| Value::Str(v.to_string());
    vec![
        s(env!("CARGO_PKG_VERSION")),
        s(option_env!("TRAILHUNT_BUILD_DATE").unwrap_or("unknown")),
        s(option_env!("TRAILHUNT_BUILD_HASH").unwrap_or("unknown")),
    ]
}

/// The concrete types a probe tries, in the order ES lists them.
const PROBE_TYPES: &[DataType] = &[
    DataType::Boolean,
    DataType::Date,
    DataType::DatePeriod,
    DataType::Double,
    DataType::Integer,
    DataType::Ip,
    DataType::Keyword,
    DataType::Long,
    DataType::Text,
    DataType::TimeDuration,
    DataType::UnsignedLong,
    DataType::Version,
];

/// Beyond this many arguments a function counts as variadic.
const MAX_PROBED_ARITY: usize = 6;

fn functions() -> Vec<Vec<Value>> {
    let registry = Registry::global();
    registry
        .names()
        .into_iter()
        .filter_map(|n| registry.get(n))
        .map(|d| describe(&d.sig))
        .collect()
}

fn call(sig: &Signature, types: &[DataType]) -> Result<DataType, ArgError> {
    let constant = vec![true; types.len()];
    (sig.rule)(&Args {
        types,
        constant: &constant,
    })
}

/// One SHOW FUNCTIONS row for a signature.
fn describe(sig: &Signature) -> Vec<Value> {
    let arity_ok =
        |n: usize| !matches!(call(sig, &vec![DataType::Null; n]), Err(ArgError::Arity(_)));
    let accepted: Vec<usize> = (0..=MAX_PROBED_ARITY).filter(|&n| arity_ok(n)).collect();
    let min = accepted.first().copied().unwrap_or(0);
    let variadic = accepted.contains(&MAX_PROBED_ARITY);
    let shown = if variadic {
        min.max(1)
    } else {
        accepted.last().copied().unwrap_or(0)
    };
    // With every other argument null, which types does each position take, and what
    // comes out (null results say nothing: CASE's conditions do not decide its type)?
    let mut arg_types: Vec<Vec<DataType>> = vec![];
    let mut returns: Vec<DataType> = vec![];
    for i in 0..shown {
        let n = shown.max(min);
        let mut ok = vec![];
        for &t in PROBE_TYPES {
            let mut types = vec![DataType::Null; n];
            types[i] = t;
            if let Ok(r) = call(sig, &types) {
                ok.push(t);
                if r != DataType::Null && !returns.contains(&r) {
                    returns.push(r);
                }
            }
        }
        arg_types.push(ok);
    }
    if returns.is_empty() {
        if let Ok(r) = call(sig, &vec![DataType::Null; min]) {
            returns.push(r);
        }
    }
    let join = |ts: &[DataType]| {
        let mut names: Vec<&str> = ts.iter().map(|t| t.verifier_name()).collect();
        names.sort();
        names.dedup();
        names.join("|")
    };
    let name = sig.name.to_ascii_lowercase();
    let arg_names: Vec<String> = (1..=shown).map(|i| format!("arg{i}")).collect();
    let params: Vec<String> = arg_names
        .iter()
        .zip(&arg_types)
        .enumerate()
        .map(|(i, (a, ts))| {
            let optional = if i >= min { "?" } else { "" };
            let dots = if variadic && i + 1 == shown {
                "..."
            } else {
                ""
            };
            format!("{optional}{a}{dots}:{}", join(ts))
        })
        .collect();
    let synopsis = format!("{} {name}({})", join(&returns), params.join(", "));
    let many = |vs: Vec<Value>| Value::from_values(vs);
    vec![
        Value::Str(name),
        Value::Str(synopsis),
        many(arg_names.into_iter().map(Value::Str).collect()),
        many(arg_types.iter().map(|ts| Value::Str(join(ts))).collect()),
        Value::Null,
        Value::Str(join(&returns)),
        Value::Null,
        many((0..shown).map(|i| Value::Bool(i >= min)).collect()),
        Value::Bool(variadic),
        Value::Bool(sig.kind == FunctionKind::Aggregate),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row_of(name: &str) -> Vec<Value> {
        functions()
            .into_iter()
            .find(|r| r[0] == Value::Str(name.into()))
            .unwrap()
    }

    #[test]
    fn functions_are_described_from_their_type_rules() {
        let round = row_of("round");
        assert_eq!(
            round[1],
            Value::Str(
                "double|integer|long|unsigned_long round(arg1:double|integer|long|unsigned_long, ?arg2:integer|long)".into()
            )
        );
        assert_eq!(
            round[7],
            Value::Multi(vec![Value::Bool(false), Value::Bool(true)])
        );
        let concat = row_of("concat");
        assert_eq!(concat[8], Value::Bool(true));
        assert_eq!(row_of("count")[9], Value::Bool(true));
        assert_eq!(row_of("abs")[9], Value::Bool(false));
    }

    #[test]
    fn show_plans_one_row_per_function() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let n = rt.block_on(async {
            let ctx = datafusion::prelude::SessionContext::new();
            let df = ctx
                .execute_logical_plan(plan(Show::Functions).unwrap())
                .await
                .unwrap();
            df.count().await.unwrap()
        });
        assert_eq!(n, Registry::global().names().len());
        let info = info();
        assert_eq!(info[0], Value::Str(env!("CARGO_PKG_VERSION").into()));
    }
}
