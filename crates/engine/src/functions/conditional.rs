//! Conditional functions (esql-spec §13.2). These see nulls and multi-values themselves:
//! COALESCE returns the first non-null argument (lists included), CASE the value of the
//! first true condition, GREATEST/LEAST let a multi-value contribute its own max/min.

use super::{scalar, FunctionDef, RetMulti};
use crate::udf::Failure;
use crate::udf::{Ctx, MultiValues, Nulls};
use crate::value::{cmp_values, Value};
use esql::catalog::{arity, is_orderable, ArgError, Args};
use esql::DataType;

pub fn register(defs: &mut Vec<FunctionDef>) {
    defs.push(
        scalar("COALESCE", coalesce_rule, |a, c| {
            Ok(a.iter()
                .find(|v| !v.is_null())
                .map(|v| widen(v, c.ret))
                .unwrap_or(Value::Null))
        })
        .row(|r| {
            r.multi = MultiValues::Accept;
            r.nulls = Nulls::Pass;
            r.ret_multi = RetMulti::IfAnyArg;
        }),
    );
    defs.push(scalar("CASE", case_rule, case).row(|r| {
        r.multi = MultiValues::Accept;
        r.nulls = Nulls::Pass;
        r.ret_multi = RetMulti::IfAnyArg;
    }));
    defs.push(
        scalar("GREATEST", extremum_rule, |a, c| extremum(a, true, c.ret))
            .row(|r| r.multi = MultiValues::Accept),
    );
    defs.push(
        scalar("LEAST", extremum_rule, |a, c| extremum(a, false, c.ret))
            .row(|r| r.multi = MultiValues::Accept),
    );
}

/// The common type of value arguments: equal types, or numerics widened, or keyword/text.
pub fn common_type(types: &[DataType]) -> Option<DataType> {
    let mut acc = DataType::Null;
    for &t in types {
        acc = match (acc, t) {
            (DataType::Null, t) | (t, DataType::Null) => t,
            (a, b) if a == b => a,
            (a, b) if a.is_string() && b.is_string() => DataType::Keyword,
            (a, b) if a.is_numeric() && b.is_numeric() => DataType::numeric_common(a, b)?,
            _ => return None,
        };
    }
    Some(acc.widen_text())
}

fn coalesce_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, None)?;
    same_types(a, 0..a.types.len())
}

fn same_types(
    a: &Args<'_>,
    idx: impl Iterator<Item = usize> + Clone,
) -> Result<DataType, ArgError> {
    let types: Vec<DataType> = idx.clone().map(|i| a.types[i]).collect();
    match common_type(&types) {
        Some(t) => Ok(t),
        None => {
            let first = types
                .iter()
                .copied()
                .find(|t| *t != DataType::Null)
                .unwrap_or(DataType::Null);
            let bad = idx
                .into_iter()
                .find(|&i| common_type(&[first, a.types[i]]).is_none())
                .unwrap_or(0);
            Err(ArgError::Type {
                index: bad,
                expected: first.verifier_name().to_string(),
            })
        }
    }
}

fn case_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, None)?;
    let n = a.types.len();
    for i in (0..n - n % 2).step_by(2) {
        if !matches!(a.types[i], DataType::Boolean | DataType::Null) {
            return Err(ArgError::Type {
                index: i,
                expected: "boolean".into(),
            });
        }
    }
    let values = (1..n)
        .step_by(2)
        .chain(if n % 2 == 1 { Some(n - 1) } else { None });
    same_types(a, values.collect::<Vec<_>>().into_iter())
}

fn case(a: &[Value], ctx: &Ctx) -> Result<Value, Failure> {
    let mut i = 0;
    while i + 1 < a.len() {
        match &a[i] {
            Value::Bool(true) => return Ok(widen(&a[i + 1], ctx.ret)),
            Value::Multi(_) => ctx.warn(crate::warnings::CASE_CONDITION_MULTI_VALUE.to_string()),
            _ => {}
        }
        i += 2;
    }
    Ok(if a.len() % 2 == 1 {
        widen(&a[a.len() - 1], ctx.ret)
    } else {
        Value::Null
    })
}

/// A value (or each value of a multi-value) in the call's widened numeric type.
fn widen(v: &Value, ret: DataType) -> Value {
    match v {
        Value::Multi(vs) => Value::Multi(vs.iter().map(|x| super::math::to_type(x, ret)).collect()),
        other => super::math::to_type(other, ret),
    }
}

fn extremum_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, None)?;
    let t = same_types(a, 0..a.types.len())?;
    if !is_orderable(t) && t != DataType::Null {
        return Err(ArgError::Type {
            index: 0,
            expected: "boolean, date, ip, string or numeric".into(),
        });
    }
    Ok(t)
}

/// Mixed numeric arguments compare and answer in the widened type.
fn extremum(a: &[Value], greatest: bool, ret: DataType) -> Result<Value, Failure> {
    let widened: Vec<Value> = a
        .iter()
        .flat_map(|v| v.values())
        .map(|v| super::math::to_type(v, ret))
        .collect();
    let mut best: Option<&Value> = None;
    for v in &widened {
        best = match best {
            None => Some(v),
            Some(b) => {
                let ord = cmp_values(v, b);
                if (greatest && ord.is_gt()) || (!greatest && ord.is_lt()) {
                    Some(v)
                } else {
                    Some(b)
                }
            }
        };
    }
    Ok(best.cloned().unwrap_or(Value::Null))
}
