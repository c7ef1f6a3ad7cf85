//! ES|QL arithmetic (esql-spec §4.2): integer types never wrap — overflow and division by
//! zero give null plus a warning naming the Java exception; `%` is Java's remainder (sign of
//! the dividend); non-finite double results are null too.

use crate::udf::Ctx;
use crate::udf::Failure;
use crate::value::Value;

const DIV_ZERO: &str = "java.lang.ArithmeticException: / by zero";

fn overflow(kind: &str) -> Failure {
    Failure(format!("java.lang.ArithmeticException: {kind} overflow"))
}

fn finite(d: f64) -> Result<Value, Failure> {
    if d.is_finite() {
        Ok(Value::Double(d))
    } else {
        Err(format!(
            "java.lang.ArithmeticException: not a finite double number: {}",
            if d.is_nan() {
                "NaN"
            } else if d > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            }
        )
        .into())
    }
}

macro_rules! int_op {
    ($name:ident, $checked:ident, $float:expr) => {
        pub fn $name(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
            match (&a[0], &a[1]) {
                (Value::Int(x), Value::Int(y)) => x
                    .$checked(*y)
                    .map(Value::Int)
                    .ok_or_else(|| overflow("integer")),
                (Value::Long(x), Value::Long(y)) => x
                    .$checked(*y)
                    .map(Value::Long)
                    .ok_or_else(|| overflow("long")),
                (Value::UnsignedLong(x), Value::UnsignedLong(y)) => x
                    .$checked(*y)
                    .map(Value::UnsignedLong)
                    .ok_or_else(|| overflow("unsigned_long")),
                (Value::Double(x), Value::Double(y)) => finite($float(*x, *y)),
                _ => Ok(Value::Null),
            }
        }
    };
}

int_op!(add, checked_add, |x: f64, y: f64| x + y);
int_op!(sub, checked_sub, |x: f64, y: f64| x - y);
int_op!(mul, checked_mul, |x: f64, y: f64| x * y);

pub fn div(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    match (&a[0], &a[1]) {
        (Value::Int(_), Value::Int(0))
        | (Value::Long(_), Value::Long(0))
        | (Value::UnsignedLong(_), Value::UnsignedLong(0)) => Err(DIV_ZERO.into()),
        (Value::Double(_), Value::Double(y)) if *y == 0.0 => Err(DIV_ZERO.into()),
        // Truncating division; MIN / -1 is the one overflow.
        (Value::Int(x), Value::Int(y)) => x
            .checked_div(*y)
            .map(Value::Int)
            .ok_or_else(|| overflow("integer")),
        (Value::Long(x), Value::Long(y)) => x
            .checked_div(*y)
            .map(Value::Long)
            .ok_or_else(|| overflow("long")),
        (Value::UnsignedLong(x), Value::UnsignedLong(y)) => Ok(Value::UnsignedLong(x / y)),
        (Value::Double(x), Value::Double(y)) => finite(x / y),
        _ => Ok(Value::Null),
    }
}

pub fn rem(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    match (&a[0], &a[1]) {
        (Value::Int(_), Value::Int(0))
        | (Value::Long(_), Value::Long(0))
        | (Value::UnsignedLong(_), Value::UnsignedLong(0)) => Err(DIV_ZERO.into()),
        (Value::Double(_), Value::Double(y)) if *y == 0.0 => Err(DIV_ZERO.into()),
        (Value::Int(x), Value::Int(y)) => Ok(Value::Int(x.wrapping_rem(*y))),
        (Value::Long(x), Value::Long(y)) => Ok(Value::Long(x.wrapping_rem(*y))),
        (Value::UnsignedLong(x), Value::UnsignedLong(y)) => Ok(Value::UnsignedLong(x % y)),
        (Value::Double(x), Value::Double(y)) => finite(x % y),
        _ => Ok(Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use esql::DataType;

    #[test]
    fn overflow_and_zero() {
        let c = Ctx::new(DataType::Integer, vec![]);
        assert_eq!(
            add(&[Value::Int(i32::MAX), Value::Int(1)], &c).unwrap_err(),
            "java.lang.ArithmeticException: integer overflow"
        );
        assert_eq!(
            div(&[Value::Long(1), Value::Long(0)], &c).unwrap_err(),
            DIV_ZERO
        );
        assert_eq!(
            div(&[Value::Int(-7), Value::Int(2)], &c).unwrap(),
            Value::Int(-3)
        );
        assert_eq!(
            rem(&[Value::Int(-7), Value::Int(2)], &c).unwrap(),
            Value::Int(-1)
        );
        assert_eq!(
            div(&[Value::Double(1.0), Value::Double(0.0)], &c).unwrap_err(),
            DIV_ZERO
        );
    }
}
