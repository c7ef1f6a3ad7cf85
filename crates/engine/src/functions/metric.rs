//! `aggregate_metric_double`: a value that already summarises several numbers as
//! `{min, max, sum, value_count}`. ES stores it for pre-aggregated metrics; ES|QL makes one
//! with `TO_AGGREGATE_METRIC_DOUBLE` and MIN/MAX/SUM/AVG/COUNT read the matching part
//! (`planner::stats`). It travels as the JSON text ES prints for it, so it needs no Arrow
//! type of its own; it is rare enough that parsing it back per row is no concern.

use super::{FunctionDef, Impl, RetMulti, RowImpl};
use crate::format::java_double;
use crate::udf::Failure;
use crate::udf::{Ctx, MultiValues, Nulls};
use crate::value::Value;
use esql::catalog::{arity, expect, FunctionKind, Signature};
use esql::DataType;

pub fn register(defs: &mut Vec<FunctionDef>) {
    defs.push(FunctionDef {
        sig: Signature {
            name: "TO_AGGREGATE_METRIC_DOUBLE",
            kind: FunctionKind::Scalar,
            rule: |a| {
                arity(a, 1, Some(1))?;
                expect(
                    a,
                    0,
                    |t| t.is_numeric() || t == DataType::AggregateMetricDouble,
                    "numeric or aggregate_metric_double",
                )?;
                Ok(DataType::AggregateMetricDouble)
            },
        },
        aliases: &[],
        imp: Impl::Row(RowImpl {
            kernel: to_metric,
            multi: MultiValues::Accept,
            nulls: Nulls::Propagate,
            ret_multi: RetMulti::Never,
        }),
    });
}

/// The parts of a metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metric {
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub count: i64,
}

impl Metric {
    pub fn render(&self) -> String {
        format!(
            "{{\"min\":{},\"max\":{},\"sum\":{},\"value_count\":{}}}",
            java_double(self.min),
            java_double(self.max),
            java_double(self.sum),
            self.count
        )
    }

    pub fn parse(s: &str) -> Option<Metric> {
        let v: serde_json::Value = serde_json::from_str(s).ok()?;
        Some(Metric {
            min: v.get("min")?.as_f64()?,
            max: v.get("max")?.as_f64()?,
            sum: v.get("sum")?.as_f64()?,
            count: v.get("value_count")?.as_i64()?,
        })
    }
}

/// One metric summarising all the values of the argument (a multi-value is one metric).
fn to_metric(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    if let Value::Str(s) = &a[0] {
        return Ok(Value::Str(s.clone()));
    }
    let xs: Vec<f64> = a[0]
        .values()
        .iter()
        .filter_map(|v| match v {
            Value::Int(i) => Some(*i as f64),
            Value::Long(l) => Some(*l as f64),
            Value::UnsignedLong(u) => Some(*u as f64),
            Value::Double(d) => Some(*d),
            _ => None,
        })
        .collect();
    if xs.is_empty() {
        return Ok(Value::Null);
    }
    let m = Metric {
        min: xs.iter().copied().fold(f64::INFINITY, f64::min),
        max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        sum: xs.iter().sum(),
        count: xs.len() as i64,
    };
    Ok(Value::Str(m.render()))
}

/// Row kernels reading one part, for the aggregates.
pub fn part_min(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    Ok(part(&a[0], |m| Value::Double(m.min)))
}

pub fn part_max(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    Ok(part(&a[0], |m| Value::Double(m.max)))
}

pub fn part_sum(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    Ok(part(&a[0], |m| Value::Double(m.sum)))
}

pub fn part_count(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    Ok(part(&a[0], |m| Value::Long(m.count)))
}

fn part(v: &Value, f: fn(&Metric) -> Value) -> Value {
    match v {
        Value::Str(s) => Metric::parse(s).map(|m| f(&m)).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_round_trips_through_its_text() {
        let ctx = Ctx::new(DataType::AggregateMetricDouble, vec![DataType::Integer]);
        let v = to_metric(
            &[Value::Multi(vec![
                Value::Int(1),
                Value::Int(4),
                Value::Int(2),
            ])],
            &ctx,
        )
        .unwrap();
        assert_eq!(
            v,
            Value::Str(r#"{"min":1.0,"max":4.0,"sum":7.0,"value_count":3}"#.into())
        );
        assert_eq!(
            part_count(std::slice::from_ref(&v), &ctx).unwrap(),
            Value::Long(3)
        );
        assert_eq!(part_max(&[v], &ctx).unwrap(), Value::Double(4.0));
    }
}
