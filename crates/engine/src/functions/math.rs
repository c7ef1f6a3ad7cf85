//! Math functions (esql-spec §13.4) and CLAMP*. Results follow ES's types: ABS, CEIL,
//! FLOOR, ROUND keep the input type; the transcendental functions return double. A result
//! that is not a finite double becomes null plus ES's `not a finite double number` warning,
//! domain errors give ES's own messages (`Log of non-positive number`, …).

use super::{scalar, FunctionDef, RetMulti};
use crate::udf::Failure;
use crate::udf::{Ctx, MultiValues};
use crate::value::{cmp_values, Value};
use esql::catalog::{arity, expect, is_integral, is_numeric, is_orderable, ArgError, Args};
use esql::DataType;

const NOT_FINITE: &str = "java.lang.ArithmeticException: not a finite double number: ";

pub fn register(defs: &mut Vec<FunctionDef>) {
    // On types where they change nothing ES drops the call, so multi-values pass through.
    defs.push(identity_on(scalar("ABS", same_numeric, |a, _| {
        Ok(match &a[0] {
            // Java's Math.abs leaves MIN_VALUE as it is.
            Value::Int(i) => Value::Int(i.wrapping_abs()),
            Value::Long(l) => Value::Long(l.wrapping_abs()),
            Value::Double(d) => Value::Double(d.abs()),
            Value::Multi(_) => return pass_through(&a[0], &[DataType::UnsignedLong]),
            other => other.clone(),
        })
    })));
    defs.push(identity_on(scalar("CEIL", same_numeric, |a, _| {
        integral_pass(&a[0], f64::ceil)
    })));
    defs.push(identity_on(scalar("FLOOR", same_numeric, |a, _| {
        integral_pass(&a[0], f64::floor)
    })));
    defs.push(scalar("ROUND", round_rule, round));
    defs.push(scalar("ROUND_TO", round_to_rule, round_to));
    defs.push(scalar("SIGNUM", to_double_rule, |a, _| {
        let d = f(&a[0]);
        Ok(Value::Double(if d == 0.0 || d.is_nan() {
            d
        } else {
            d.signum()
        }))
    }));
    defs.push(scalar("SQRT", to_double_rule, |a, _| {
        let d = f(&a[0]);
        if d < 0.0 {
            return Err("java.lang.ArithmeticException: Square root of negative".into());
        }
        finite(d.sqrt())
    }));
    defs.push(scalar("CBRT", to_double_rule, |a, _| {
        finite(f(&a[0]).cbrt())
    }));
    defs.push(scalar("EXP", to_double_rule, |a, _| finite(f(&a[0]).exp())));
    defs.push(scalar("LOG10", to_double_rule, |a, _| {
        let d = positive(f(&a[0]))?;
        finite(d.log10())
    }));
    defs.push(scalar("LOG", log_rule, |a, _| match a {
        [v] => finite(positive(f(v))?.ln()),
        [b, v] => {
            let (b, v) = (positive(f(b))?, positive(f(v))?);
            if b == 1.0 {
                return Err("java.lang.ArithmeticException: Log of base 1".into());
            }
            finite(v.ln() / b.ln())
        }
        _ => Ok(Value::Null),
    }));
    defs.push(scalar("POW", two_numeric_double, |a, _| {
        finite(f(&a[0]).powf(f(&a[1])))
    }));
    defs.push(scalar("HYPOT", two_numeric_double, |a, _| {
        finite(f(&a[0]).hypot(f(&a[1])))
    }));
    defs.push(scalar("ATAN2", two_numeric_double, |a, _| {
        finite(f(&a[0]).atan2(f(&a[1])))
    }));
    defs.push(scalar("SIN", to_double_rule, |a, _| finite(f(&a[0]).sin())));
    defs.push(scalar("COS", to_double_rule, |a, _| finite(f(&a[0]).cos())));
    defs.push(scalar("TAN", to_double_rule, |a, _| finite(f(&a[0]).tan())));
    defs.push(scalar("ASIN", to_double_rule, |a, _| {
        let d = f(&a[0]);
        if !(-1.0..=1.0).contains(&d) {
            return Err("java.lang.ArithmeticException: Asin input out of range".into());
        }
        finite(d.asin())
    }));
    defs.push(scalar("ACOS", to_double_rule, |a, _| {
        let d = f(&a[0]);
        if !(-1.0..=1.0).contains(&d) {
            return Err("java.lang.ArithmeticException: Acos input out of range".into());
        }
        finite(d.acos())
    }));
    defs.push(scalar("ATAN", to_double_rule, |a, _| {
        finite(f(&a[0]).atan())
    }));
    defs.push(scalar("SINH", to_double_rule, |a, _| {
        overflow(f(&a[0]).sinh(), "sinh")
    }));
    defs.push(scalar("COSH", to_double_rule, |a, _| {
        overflow(f(&a[0]).cosh(), "cosh")
    }));
    defs.push(scalar("TANH", to_double_rule, |a, _| {
        finite(f(&a[0]).tanh())
    }));
    defs.push(scalar("E", constant_rule, |_, _| {
        Ok(Value::Double(std::f64::consts::E))
    }));
    defs.push(scalar("PI", constant_rule, |_, _| {
        Ok(Value::Double(std::f64::consts::PI))
    }));
    defs.push(scalar("TAU", constant_rule, |_, _| {
        Ok(Value::Double(std::f64::consts::TAU))
    }));
    defs.push(scalar(
        "CLAMP",
        |a| clamp_rule(a, 3),
        |a, c| {
            let lo = to_type(&a[1], c.ret);
            let hi = to_type(&a[2], c.ret);
            let v = max_of(to_type(&a[0], c.ret), lo);
            Ok(min_of(v, hi))
        },
    ));
    defs.push(scalar(
        "CLAMP_MIN",
        |a| clamp_rule(a, 2),
        |a, c| Ok(max_of(to_type(&a[0], c.ret), to_type(&a[1], c.ret))),
    ));
    defs.push(scalar(
        "CLAMP_MAX",
        |a| clamp_rule(a, 2),
        |a, c| Ok(min_of(to_type(&a[0], c.ret), to_type(&a[1], c.ret))),
    ));
    defs.push(scalar("COPY_SIGN", copy_sign_rule, copy_sign));
    defs.push(scalar("SCALB", scalb_rule, |a, _| {
        let scale = match &a[1] {
            Value::Int(i) => *i as i64,
            Value::Long(l) => *l,
            _ => 0,
        };
        let scale = scale.clamp(-2200, 2200) as i32;
        finite(
            f(&a[0])
                * 2f64.powi(scale.clamp(-1074, 1023))
                * 2f64.powi(scale - scale.clamp(-1074, 1023)),
        )
    }));
    for (name, factor) in [
        ("TO_DEGREES", 180.0 / std::f64::consts::PI),
        ("TO_RADIANS", std::f64::consts::PI / 180.0),
    ] {
        let kernel: crate::udf::Kernel = if factor > 1.0 {
            |a, c| each_double(&a[0], c, |d| d.to_degrees())
        } else {
            |a, c| each_double(&a[0], c, |d| d.to_radians())
        };
        defs.push(scalar(name, to_double_rule, kernel).row(|r| {
            r.multi = MultiValues::Accept;
            r.ret_multi = RetMulti::IfAnyArg;
        }));
    }
}

// ---- type rules -------------------------------------------------------------------------

fn same_numeric(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(a, 0, is_numeric, "numeric")?;
    Ok(a.types[0])
}

fn to_double_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(a, 0, is_numeric, "numeric")?;
    Ok(DataType::Double)
}

fn two_numeric_double(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(a, 0, is_numeric, "numeric")?;
    expect(a, 1, is_numeric, "numeric")?;
    Ok(DataType::Double)
}

fn constant_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 0, Some(0))?;
    Ok(DataType::Double)
}

fn log_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(2))?;
    for i in 0..a.types.len() {
        expect(a, i, is_numeric, "numeric")?;
    }
    Ok(DataType::Double)
}

fn round_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(2))?;
    expect(a, 0, is_numeric, "numeric")?;
    if a.types.len() == 2 {
        expect(a, 1, is_integral, "integer")?;
    }
    Ok(a.types[0])
}

fn round_to_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, None)?;
    let dates = a.types[0] == DataType::Date;
    let ok = if dates {
        |t| t == DataType::Date
    } else {
        is_numeric
    };
    let expected = if dates { "datetime" } else { "numeric" };
    let mut acc = DataType::Null;
    for (i, &t) in a.types.iter().enumerate() {
        expect(a, i, ok, expected)?;
        acc = match (acc, t) {
            (DataType::Null, t) | (t, DataType::Null) => t,
            (x, y) if x == y => x,
            (x, y) => DataType::numeric_common(x, y).ok_or(ArgError::Type {
                index: i,
                expected: expected.into(),
            })?,
        };
    }
    Ok(acc)
}

fn clamp_rule(a: &Args<'_>, n: usize) -> Result<DataType, ArgError> {
    arity(a, n, Some(n))?;
    let mut acc = DataType::Null;
    for (i, &t) in a.types.iter().enumerate() {
        if t != DataType::Null && !is_orderable(t) {
            return Err(ArgError::Type {
                index: i,
                expected: "boolean, date, ip, string, version or numeric".into(),
            });
        }
        acc = super::conditional::common_type(&[acc, t]).ok_or_else(|| ArgError::Type {
            index: i,
            expected: acc.verifier_name().into(),
        })?;
    }
    Ok(acc)
}

fn copy_sign_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    let ok = |t: DataType| matches!(t, DataType::Integer | DataType::Long | DataType::Double);
    expect(a, 0, ok, "double, integer or long")?;
    expect(a, 1, ok, "double, integer or long")?;
    Ok(a.types[0])
}

fn scalb_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(a, 0, is_numeric, "numeric")?;
    expect(a, 1, is_integral, "integer or long")?;
    Ok(DataType::Double)
}

// ---- helpers ----------------------------------------------------------------------------

/// A numeric value as a double (unsigned longs as their unsigned value).
pub fn f(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Long(l) => *l as f64,
        Value::UnsignedLong(u) => *u as f64,
        Value::Double(d) => *d,
        Value::Date(d) => *d as f64,
        _ => f64::NAN,
    }
}

/// ES refuses NaN and infinities as results.
pub fn finite(d: f64) -> Result<Value, Failure> {
    if d.is_nan() {
        Err(format!("{NOT_FINITE}NaN").into())
    } else if d.is_infinite() {
        Err(format!(
            "{NOT_FINITE}{}",
            if d > 0.0 { "Infinity" } else { "-Infinity" }
        )
        .into())
    } else {
        Ok(Value::Double(d))
    }
}

fn overflow(d: f64, what: &str) -> Result<Value, Failure> {
    if d.is_finite() {
        Ok(Value::Double(d))
    } else {
        Err(format!("java.lang.ArithmeticException: {what} overflow").into())
    }
}

/// Logarithms refuse zero (both signs) and negatives.
fn positive(d: f64) -> Result<f64, Failure> {
    if d > 0.0 {
        Ok(d)
    } else {
        Err("java.lang.ArithmeticException: Log of non-positive number".into())
    }
}

fn identity_on(d: FunctionDef) -> FunctionDef {
    d.row(|r| {
        r.multi = MultiValues::Accept;
        r.ret_multi = RetMulti::IfAnyArg;
    })
}

/// A multi-value survives only where the function is the identity for its type.
fn pass_through(v: &Value, identity_types: &[DataType]) -> Result<Value, Failure> {
    let first = v.values().first();
    let ty = match first {
        Some(Value::Int(_)) => DataType::Integer,
        Some(Value::Long(_)) => DataType::Long,
        Some(Value::UnsignedLong(_)) => DataType::UnsignedLong,
        _ => DataType::Double,
    };
    if identity_types.contains(&ty) {
        Ok(v.clone())
    } else {
        Err(crate::warnings::MULTI_VALUE.to_string().into())
    }
}

fn integral_pass(v: &Value, op: fn(f64) -> f64) -> Result<Value, Failure> {
    match v {
        Value::Double(d) => Ok(Value::Double(op(*d))),
        Value::Multi(_) => pass_through(
            v,
            &[DataType::Integer, DataType::Long, DataType::UnsignedLong],
        ),
        other => Ok(other.clone()),
    }
}

/// Converts a value of a narrower numeric type to `to` (the widened result type).
pub fn to_type(v: &Value, to: DataType) -> Value {
    match (v, to) {
        (Value::Int(i), DataType::Long) => Value::Long(*i as i64),
        (Value::Int(i), DataType::Double) => Value::Double(*i as f64),
        (Value::Long(l), DataType::Double) => Value::Double(*l as f64),
        (Value::UnsignedLong(u), DataType::Double) => Value::Double(*u as f64),
        (other, _) => other.clone(),
    }
}

fn max_of(a: Value, b: Value) -> Value {
    if cmp_values(&b, &a).is_gt() {
        b
    } else {
        a
    }
}

fn min_of(a: Value, b: Value) -> Value {
    if cmp_values(&b, &a).is_lt() {
        b
    } else {
        a
    }
}

fn each_double(v: &Value, ctx: &Ctx, op: fn(f64) -> f64) -> Result<Value, Failure> {
    let mut out = vec![];
    let mut first_err = None;
    for x in v.values() {
        match finite(op(f(x))) {
            Ok(d) => out.push(d),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    ctx.values_or_error(out, first_err)
}

// ---- ROUND ------------------------------------------------------------------------------

fn decimals(a: &[Value]) -> i64 {
    match a.get(1) {
        Some(Value::Int(i)) => *i as i64,
        Some(Value::Long(l)) => *l,
        _ => 0,
    }
}

/// Half away from zero at `decimals` digits (negative: tens, hundreds, …), keeping the
/// input's type; integral types only change for negative decimals.
fn round(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let d = decimals(a);
    match &a[0] {
        Value::Double(x) => Ok(Value::Double(round_double(*x, d))),
        Value::Int(i) => {
            let r = round_integral(*i as i128, d);
            i32::try_from(r)
                .map(Value::Int)
                .map_err(|_| "java.lang.ArithmeticException: integer overflow".into())
        }
        Value::Long(l) => {
            let r = round_integral(*l as i128, d);
            i64::try_from(r)
                .map(Value::Long)
                .map_err(|_| "java.lang.ArithmeticException: long overflow".into())
        }
        Value::UnsignedLong(u) => {
            let r = round_integral(*u as i128, d);
            u64::try_from(r)
                .map(Value::UnsignedLong)
                .map_err(|_| "java.lang.ArithmeticException: unsigned_long overflow".into())
        }
        other => Ok(other.clone()),
    }
}

fn round_integral(x: i128, decimals: i64) -> i128 {
    if decimals >= 0 {
        return x;
    }
    if decimals < -38 {
        return 0;
    }
    let p = 10i128.pow((-decimals) as u32);
    let (q, r) = (x / p, (x % p).abs());
    let q = if r * 2 >= p { q + x.signum() } else { q };
    q * p
}

fn round_double(x: f64, decimals: i64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if decimals > 300 {
        return x;
    }
    if decimals < -330 {
        return 0.0 * x.signum();
    }
    let scale = 10f64.powi(decimals as i32);
    let m = x * scale;
    if !m.is_finite() {
        return x;
    }
    let r = m.abs().round() / scale;
    if m < 0.0 {
        -r
    } else {
        r
    }
}

// ---- ROUND_TO ---------------------------------------------------------------------------

/// The largest point not above the value; values below every point go to the smallest.
fn round_to(a: &[Value], ctx: &Ctx) -> Result<Value, Failure> {
    let v = to_type(&a[0], ctx.ret);
    let points: Vec<Value> = a[1..].iter().map(|p| to_type(p, ctx.ret)).collect();
    let below = points
        .iter()
        .filter(|p| !cmp_values(p, &v).is_gt())
        .max_by(|x, y| cmp_values(x, y));
    let chosen = match below {
        Some(p) => p,
        None => match points.iter().min_by(|x, y| cmp_values(x, y)) {
            Some(p) => p,
            None => return Ok(Value::Null),
        },
    };
    Ok(chosen.clone())
}

// ---- COPY_SIGN --------------------------------------------------------------------------

fn copy_sign(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let negative = match &a[1] {
        Value::Double(d) => d.is_sign_negative(),
        other => f(other) < 0.0,
    };
    Ok(match &a[0] {
        Value::Double(d) => Value::Double(if negative { -d.abs() } else { d.abs() }),
        Value::Int(i) => {
            let m = i
                .checked_abs()
                .ok_or("java.lang.ArithmeticException: integer overflow")?;
            Value::Int(if negative { -m } else { m })
        }
        Value::Long(l) => {
            let m = l
                .checked_abs()
                .ok_or("java.lang.ArithmeticException: long overflow")?;
            Value::Long(if negative { -m } else { m })
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(ret: DataType) -> Ctx {
        Ctx::new(ret, vec![])
    }

    #[test]
    fn rounding() {
        let r = |v: Value, d: i64| round(&[v, Value::Long(d)], &ctx(DataType::Double));
        assert_eq!(r(Value::Double(-123.5), 0), Ok(Value::Double(-124.0)));
        assert_eq!(r(Value::Double(123.45), 1), Ok(Value::Double(123.5)));
        assert_eq!(
            r(Value::Double(0.4025000000000003), 2),
            Ok(Value::Double(0.4))
        );
        assert_eq!(r(Value::Int(1234), -2), Ok(Value::Int(1200)));
        assert_eq!(r(Value::Int(-1250), -2), Ok(Value::Int(-1300)));
        assert_eq!(
            r(Value::UnsignedLong(18446744073709551614), -1),
            Ok(Value::UnsignedLong(18446744073709551610))
        );
        assert_eq!(
            r(Value::UnsignedLong(12446744073709551615), -19),
            Ok(Value::UnsignedLong(10000000000000000000))
        );
        assert!(r(Value::UnsignedLong(u64::MAX), -19).is_err());
        assert_eq!(
            r(Value::UnsignedLong(u64::MAX), -20),
            Ok(Value::UnsignedLong(0))
        );
        assert_eq!(
            r(Value::UnsignedLong(u64::MAX), -6144415263046370459),
            Ok(Value::UnsignedLong(0))
        );
    }

    #[test]
    fn round_to_points() {
        let c = ctx(DataType::Integer);
        let rt = |v: &[i32]| round_to(&v.iter().map(|x| Value::Int(*x)).collect::<Vec<_>>(), &c);
        assert_eq!(rt(&[1, 2, -1, 9, 0, 100]), Ok(Value::Int(0)));
        assert_eq!(rt(&[1, 2, 3]), Ok(Value::Int(2)));
        assert_eq!(rt(&[1, 0, 1, 2]), Ok(Value::Int(1)));
    }

    #[test]
    fn domain_errors() {
        assert!(finite(f64::NAN).unwrap_err().0.ends_with("NaN"));
        assert!(finite(f64::INFINITY).unwrap_err().0.ends_with("Infinity"));
        assert!(positive(-0.0).is_err());
    }
}
