//! Multi-value functions (esql-spec §13.8). They see a field's values as they are stored
//! (sorted for indexed fields, production order for computed ones) and reduce, reorder or
//! slice them; a null field stays null.

use super::math::{f, to_type};
use super::{scalar, FunctionDef, RetMulti};
use crate::udf::Failure;
use crate::udf::{Ctx, MultiValues, Nulls};
use crate::value::{cmp_values, Value};
use esql::catalog::{arity, expect, is_any, is_integral, is_numeric, is_orderable, is_string};
use esql::catalog::{ArgError, Args};
use esql::DataType;
use std::cmp::Ordering;

pub fn register(defs: &mut Vec<FunctionDef>) {
    let mv = |d: FunctionDef| d.row(|r| r.multi = MultiValues::Accept);
    let mv_multi = |d: FunctionDef| {
        d.row(|r| {
            r.multi = MultiValues::Accept;
            r.ret_multi = RetMulti::IfAnyArg;
        })
    };
    defs.push(mv(scalar(
        "MV_COUNT",
        |a| one(a, is_any, "any type except counter types").map(|_| DataType::Integer),
        |a, _| Ok(Value::Int(a[0].values().len() as i32)),
    )));
    defs.push(mv(scalar("MV_FIRST", same_any, |a, _| {
        Ok(a[0].values().first().cloned().unwrap_or(Value::Null))
    })));
    defs.push(mv(scalar("MV_LAST", same_any, |a, _| {
        Ok(a[0].values().last().cloned().unwrap_or(Value::Null))
    })));
    defs.push(mv(scalar("MV_MIN", same_orderable, mv_min)));
    defs.push(mv(scalar("MV_MAX", same_orderable, mv_max)));
    defs.push(mv(scalar(
        "MV_SUM",
        same_numeric,
        |a, _| sum(a[0].values()),
    )));
    defs.push(mv(scalar(
        "MV_AVG",
        |a| one(a, is_numeric, "numeric").map(|_| DataType::Double),
        |a, _| avg(a[0].values()),
    )));
    defs.push(mv(scalar("MV_MEDIAN", same_numeric, |a, _| {
        Ok(median(&sorted(a[0].values())))
    })));
    defs.push(mv(scalar(
        "MV_MEDIAN_ABSOLUTE_DEVIATION",
        same_numeric,
        |a, _| Ok(median_absolute_deviation(a[0].values())),
    )));
    defs.push(mv(scalar("MV_PERCENTILE", percentile_rule, |a, c| {
        percentile(a[0].values(), f(&a[1]), c.ret)
    })));
    defs.push(mv_multi(scalar("MV_DEDUPE", same_any, |a, _| {
        let mut out: Vec<Value> = vec![];
        for v in a[0].values() {
            if !out.contains(v) {
                out.push(v.clone());
            }
        }
        Ok(Value::from_values(out))
    })));
    defs.push(mv_multi(scalar("MV_SORT", sort_rule, mv_sort)));
    defs.push(mv_multi(scalar("MV_SLICE", slice_rule, mv_slice)));
    defs.push(mv(scalar("MV_CONCAT", concat_rule, |a, _| {
        let Value::Str(delim) = &a[1] else {
            return Ok(Value::Null);
        };
        let parts: Vec<&str> = a[0]
            .values()
            .iter()
            .filter_map(|v| match v {
                Value::Str(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        Ok(Value::Str(parts.join(delim)))
    })));
    defs.push(scalar("MV_ZIP", zip_rule, mv_zip).row(|r| {
        r.multi = MultiValues::Accept;
        r.nulls = Nulls::Pass;
        r.ret_multi = RetMulti::Always;
    }));
    defs.push(
        scalar("MV_APPEND", append_rule, |a, c| {
            let mut out: Vec<Value> = a[0].values().iter().map(|v| to_type(v, c.ret)).collect();
            out.extend(a[1].values().iter().map(|v| to_type(v, c.ret)));
            Ok(Value::from_values(out))
        })
        .row(|r| {
            r.multi = MultiValues::Accept;
            r.ret_multi = RetMulti::Always;
        }),
    );
    defs.push(mv(scalar(
        "MV_PSERIES_WEIGHTED_SUM",
        pseries_rule,
        |a, _| {
            let p = f(&a[1]);
            let mut s = Kahan::default();
            for (i, v) in a[0].values().iter().enumerate() {
                s.add(f(v) / ((i + 1) as f64).powf(p));
            }
            super::math::finite(s.value())
        },
    )));
    defs.push(
        scalar("MV_CONTAINS", contains_rule, |a, _| {
            let sup = a[0].values();
            Ok(Value::Bool(a[1].values().iter().all(|v| {
                sup.iter()
                    .any(|s| cmp_values(s, v).is_eq() && same_kind(s, v))
            })))
        })
        .row(|r| {
            r.multi = MultiValues::Accept;
            r.nulls = Nulls::Pass;
        }),
    );
}

// ---- type rules -------------------------------------------------------------------------

/// The smallest of a (multi-)value's values, by ES's order; also SORT's key for a
/// multi-value ascending and MIN's per-row reduction.
pub fn mv_min(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    Ok(a[0]
        .values()
        .iter()
        .min_by(|x, y| cmp_values(x, y))
        .cloned()
        .unwrap_or(Value::Null))
}

/// The largest of a (multi-)value's values, by ES's order; also SORT's key for a
/// multi-value descending and MAX's per-row reduction.
pub fn mv_max(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    Ok(a[0]
        .values()
        .iter()
        .max_by(|x, y| cmp_values(x, y))
        .cloned()
        .unwrap_or(Value::Null))
}

fn one(a: &Args<'_>, ok: fn(DataType) -> bool, expected: &str) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(a, 0, ok, expected)?;
    Ok(a.types[0].widen_text())
}

fn same_any(a: &Args<'_>) -> Result<DataType, ArgError> {
    one(a, is_any, "any type except counter types")
}

fn same_orderable(a: &Args<'_>) -> Result<DataType, ArgError> {
    one(a, is_orderable, "any type except counter types")
}

fn same_numeric(a: &Args<'_>) -> Result<DataType, ArgError> {
    one(a, is_numeric, "numeric")
}

fn percentile_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(a, 0, is_numeric, "numeric except unsigned_long")?;
    expect(a, 1, is_numeric, "numeric except unsigned_long")?;
    Ok(a.types[0])
}

fn sort_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(2))?;
    expect(a, 0, is_orderable, "any type except counter types")?;
    if a.types.len() == 2 {
        expect(a, 1, is_string, "string")?;
    }
    Ok(a.types[0].widen_text())
}

fn slice_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(3))?;
    expect(a, 0, is_any, "any type except counter types")?;
    for i in 1..a.types.len() {
        expect(a, i, is_integral, "integer")?;
    }
    Ok(a.types[0].widen_text())
}

fn concat_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(a, 0, is_string, "string")?;
    expect(a, 1, is_string, "string")?;
    Ok(DataType::Keyword)
}

fn zip_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(3))?;
    for i in 0..a.types.len() {
        expect(a, i, is_string, "string")?;
    }
    Ok(DataType::Keyword)
}

fn append_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    match super::conditional::common_type(&a.types[..2]) {
        Some(t) => Ok(t),
        None => Err(ArgError::Type {
            index: 1,
            expected: a.types[0].verifier_name().into(),
        }),
    }
}

fn pseries_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(a, 0, |t| t == DataType::Double, "double")?;
    expect(a, 1, is_numeric, "numeric")?;
    if !a.constant[1] {
        return Err(ArgError::NotConstant { index: 1 });
    }
    Ok(DataType::Double)
}

fn contains_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    append_rule(a).map(|_| DataType::Boolean)
}

// ---- kernels ----------------------------------------------------------------------------

fn same_kind(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b) || (f(a).is_finite() && f(b).is_finite())
}

/// Kahan-compensated double sum, so that MV_SUM/MV_AVG of doubles do not depend on the
/// accumulated rounding error of naive addition.
#[derive(Default)]
struct Kahan {
    sum: f64,
    c: f64,
}

impl Kahan {
    fn add(&mut self, x: f64) {
        let y = x - self.c;
        let t = self.sum + y;
        self.c = (t - self.sum) - y;
        self.sum = t;
    }

    fn value(&self) -> f64 {
        self.sum
    }
}

fn sum(values: &[Value]) -> Result<Value, Failure> {
    let Some(first) = values.first() else {
        return Ok(Value::Null);
    };
    match first {
        Value::Double(_) => {
            let mut s = Kahan::default();
            values.iter().for_each(|v| s.add(f(v)));
            super::math::finite(s.value())
        }
        Value::Int(_) => {
            let mut acc: i32 = 0;
            for v in values {
                if let Value::Int(i) = v {
                    acc = acc
                        .checked_add(*i)
                        .ok_or("java.lang.ArithmeticException: integer overflow")?;
                }
            }
            Ok(Value::Int(acc))
        }
        Value::Long(_) => {
            let mut acc: i64 = 0;
            for v in values {
                if let Value::Long(i) = v {
                    acc = acc
                        .checked_add(*i)
                        .ok_or("java.lang.ArithmeticException: long overflow")?;
                }
            }
            Ok(Value::Long(acc))
        }
        Value::UnsignedLong(_) => {
            let mut acc: u64 = 0;
            for v in values {
                if let Value::UnsignedLong(i) = v {
                    acc = acc
                        .checked_add(*i)
                        .ok_or("java.lang.ArithmeticException: unsigned_long overflow")?;
                }
            }
            Ok(Value::UnsignedLong(acc))
        }
        _ => Ok(Value::Null),
    }
}

fn avg(values: &[Value]) -> Result<Value, Failure> {
    if values.is_empty() {
        return Ok(Value::Null);
    }
    let n = values.len() as f64;
    match values[0] {
        Value::Double(_) => {
            let mut s = Kahan::default();
            values.iter().for_each(|v| s.add(f(v)));
            super::math::finite(s.value() / n)
        }
        _ => {
            // Integral sums are exact, so the average does not depend on value order.
            let total: i128 = values
                .iter()
                .map(|v| match v {
                    Value::Int(i) => *i as i128,
                    Value::Long(l) => *l as i128,
                    Value::UnsignedLong(u) => *u as i128,
                    _ => 0,
                })
                .sum();
            Ok(Value::Double(total as f64 / n))
        }
    }
}

fn sorted(values: &[Value]) -> Vec<Value> {
    let mut v = values.to_vec();
    v.sort_by(cmp_values);
    v
}

/// Even counts average the two middle values; integral types round that mean down.
fn median(sorted: &[Value]) -> Value {
    let n = sorted.len();
    if n == 0 {
        return Value::Null;
    }
    if n % 2 == 1 {
        return sorted[n / 2].clone();
    }
    mean_down(&sorted[n / 2 - 1], &sorted[n / 2])
}

fn mean_down(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => Value::Double((x + y) / 2.0),
        (Value::Int(x), Value::Int(y)) => Value::Int((*x as i64 + *y as i64).div_euclid(2) as i32),
        (Value::Long(x), Value::Long(y)) => {
            Value::Long((*x as i128 + *y as i128).div_euclid(2) as i64)
        }
        (Value::UnsignedLong(x), Value::UnsignedLong(y)) => {
            Value::UnsignedLong(((*x as u128 + *y as u128) / 2) as u64)
        }
        (x, _) => x.clone(),
    }
}

/// median(|x − median(x)|), in the input's type (deviations of integers stay integral).
fn median_absolute_deviation(values: &[Value]) -> Value {
    let s = sorted(values);
    let m = median(&s);
    let devs: Vec<Value> = s
        .iter()
        .map(|v| match (v, &m) {
            (Value::Double(x), Value::Double(c)) => Value::Double((x - c).abs()),
            (Value::Int(x), Value::Int(c)) => Value::Long((*x as i64 - *c as i64).abs()),
            (Value::Long(x), Value::Long(c)) => {
                Value::UnsignedLong((*x as i128 - *c as i128).unsigned_abs() as u64)
            }
            (Value::UnsignedLong(x), Value::UnsignedLong(c)) => Value::UnsignedLong(x.abs_diff(*c)),
            (x, _) => x.clone(),
        })
        .collect();
    let md = median(&sorted(&devs));
    match (&m, md) {
        (Value::Int(_), Value::Long(l)) => i32::try_from(l).map(Value::Int).unwrap_or(Value::Null),
        (Value::Long(_), Value::UnsignedLong(u)) => {
            i64::try_from(u).map(Value::Long).unwrap_or(Value::Null)
        }
        (_, other) => other,
    }
}

/// Linear interpolation between the closest ranks; integral types round down.
fn percentile(values: &[Value], p: f64, ret: DataType) -> Result<Value, Failure> {
    if !(0.0..=100.0).contains(&p) {
        return Err(format!(
            "java.lang.IllegalArgumentException: Percentile parameter must be a number between 0 and 100, found [{}]",
            crate::format::java_double(p)
        ).into());
    }
    let s = sorted(values);
    if s.is_empty() {
        return Ok(Value::Null);
    }
    let pos = p / 100.0 * (s.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    let (a, b) = (&s[lo], &s[hi]);
    Ok(match (a, b) {
        (Value::Double(x), Value::Double(y)) => Value::Double(x + (y - x) * frac),
        (Value::Int(x), Value::Int(y)) => {
            Value::Int(*x + ((*y as i64 - *x as i64) as f64 * frac).floor() as i32)
        }
        (Value::Long(x), Value::Long(y)) => {
            Value::Long(x.wrapping_add(((*y as i128 - *x as i128) as f64 * frac).floor() as i64))
        }
        (Value::UnsignedLong(x), Value::UnsignedLong(y)) => {
            Value::UnsignedLong(x + ((y - x) as f64 * frac).floor() as u64)
        }
        (x, _) => to_type(x, ret),
    })
}

/// IPs order by their 16-byte IPv6 form (IPv4 mapped), as ES stores them: `::1` sorts
/// before `127.0.0.1`.
fn order_for(ctx: &Ctx) -> fn(&Value, &Value) -> Ordering {
    if ctx.arg_types.first() == Some(&DataType::Ip) {
        |a, b| match (a, b) {
            (Value::Str(x), Value::Str(y)) => ip_key(x).cmp(&ip_key(y)),
            _ => cmp_values(a, b),
        }
    } else {
        cmp_values
    }
}

fn ip_key(s: &str) -> Option<u128> {
    Some(match s.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        std::net::IpAddr::V6(v6) => u128::from(v6),
    })
}

fn mv_sort(a: &[Value], ctx: &Ctx) -> Result<Value, Failure> {
    let desc = match a.get(1) {
        None => false,
        Some(Value::Str(o)) if o.eq_ignore_ascii_case("asc") => false,
        Some(Value::Str(o)) if o.eq_ignore_ascii_case("desc") => true,
        Some(Value::Str(o)) => {
            return Err(format!(
                "org.elasticsearch.xpack.esql.core.InvalidArgumentException: Invalid order value in [mv_sort], expected one of [ASC, DESC] but got [{o}]"
            ).into())
        }
        Some(_) => false,
    };
    let mut v = a[0].values().to_vec();
    v.sort_by(order_for(ctx));
    if desc {
        v.reverse();
    }
    Ok(Value::from_values(v))
}

fn index(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i as i64,
        Value::Long(l) => *l,
        _ => 0,
    }
}

/// 0-based, `end` inclusive (defaults to `start`); negative offsets count from the end.
fn mv_slice(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let values = a[0].values();
    let start = index(&a[1]);
    let end = a.get(2).map(index).unwrap_or(start);
    if (start >= 0) == (end >= 0) && start > end {
        return Err(
            "org.elasticsearch.xpack.esql.core.InvalidArgumentException: Start offset is greater than end offset"
                .into(),
        );
    }
    let n = values.len() as i64;
    let s = if start < 0 { n + start } else { start }.max(0);
    let e = if end < 0 { n + end } else { end }.min(n - 1);
    if s > e || s >= n || e < 0 {
        return Ok(Value::Null);
    }
    Ok(Value::from_values(values[s as usize..=e as usize].to_vec()))
}

/// Pairs values by position; the longer side's tail is kept alone.
fn mv_zip(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let delim = match a.get(2) {
        None => ",".to_string(),
        Some(Value::Str(d)) => d.clone(),
        Some(_) => return Ok(Value::Null),
    };
    let (l, r) = (a[0].values(), a[1].values());
    if l.is_empty() && r.is_empty() {
        return Ok(Value::Null);
    }
    let text = |v: Option<&Value>| match v {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let out = (0..l.len().max(r.len()))
        .map(|i| match (text(l.get(i)), text(r.get(i))) {
            (Some(x), Some(y)) => Value::Str(format!("{x}{delim}{y}")),
            (Some(x), None) | (None, Some(x)) => Value::Str(x),
            (None, None) => Value::Null,
        })
        .collect();
    Ok(Value::from_values(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[i32]) -> Value {
        Value::from_values(v.iter().map(|x| Value::Int(*x)).collect())
    }

    fn ctx() -> Ctx {
        Ctx::new(DataType::Integer, vec![])
    }

    #[test]
    fn slice_bounds() {
        let s = |start: i32, end: Option<i32>| {
            let mut a = vec![ints(&[1, 2, 3, 4, 5]), Value::Int(start)];
            if let Some(e) = end {
                a.push(Value::Int(e));
            }
            mv_slice(&a, &ctx())
        };
        assert_eq!(s(0, Some(1)), Ok(ints(&[1, 2])));
        assert_eq!(s(1, None), Ok(Value::Int(2)));
        assert_eq!(s(-2, Some(-1)), Ok(ints(&[4, 5])));
        assert_eq!(s(3, Some(10)), Ok(ints(&[4, 5])));
        assert_eq!(s(7, Some(10)), Ok(Value::Null));
        assert_eq!(s(-10, Some(-9)), Ok(Value::Null));
        assert_eq!(s(-10, Some(1)), Ok(ints(&[1, 2])));
        assert!(s(3, Some(1)).is_err());
    }

    #[test]
    fn sums_and_medians() {
        assert!(sum(ints(&[0, 1, i32::MAX]).values()).is_err());
        assert_eq!(median(&sorted(ints(&[3, 7, 1, 6]).values())), Value::Int(4));
        assert_eq!(median(&sorted(ints(&[-3, -2]).values())), Value::Int(-3));
        let ul = Value::from_values(
            [u64::MAX, 0, 1, 9223372036854775807, 9223372036854775808, 2]
                .iter()
                .map(|u| Value::UnsignedLong(*u))
                .collect(),
        );
        assert_eq!(
            median(&sorted(ul.values())),
            Value::UnsignedLong(4611686018427387904)
        );
        let d = Value::from_values(
            [-6.77, 4.69, 5.05, 12.15]
                .iter()
                .map(|x| Value::Double(*x))
                .collect(),
        );
        assert_eq!(avg(d.values()), Ok(Value::Double(3.7800000000000002)));
    }

    #[test]
    fn zip_keeps_tail() {
        let s =
            |v: &[&str]| Value::from_values(v.iter().map(|x| Value::Str(x.to_string())).collect());
        let r = mv_zip(
            &[s(&["x", "y", "z"]), s(&["a", "b"]), Value::Str("-".into())],
            &ctx(),
        );
        assert_eq!(r, Ok(s(&["x-a", "y-b", "z"])));
    }
}
