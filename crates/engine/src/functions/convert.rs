//! Type conversions (esql-spec §13.7) and the `::type` cast. Conversions accept
//! multi-values and convert each value; values that fail are dropped with a warning.

use super::{FunctionDef, Impl, RetMulti, RowImpl};
use crate::format::java_double;
use crate::udf::Failure;
use crate::udf::{Ctx, MultiValues, Nulls};
use crate::value::Value;
use esql::catalog::{arity, ArgError, Args, FunctionKind, Signature};
use esql::DataType;

pub fn register(defs: &mut Vec<FunctionDef>) {
    defs.push(conversion("TO_STRING", &["TO_STR"], DataType::Keyword));
    defs.push(conversion("TO_TEXT", &[], DataType::Text));
    defs.push(conversion("TO_INTEGER", &["TO_INT"], DataType::Integer));
    defs.push(conversion("TO_LONG", &[], DataType::Long));
    defs.push(conversion("TO_DOUBLE", &["TO_DBL"], DataType::Double));
    defs.push(conversion("TO_DATETIME", &["TO_DT"], DataType::Date));
    defs.push(conversion("TO_IP", &[], DataType::Ip));
    defs.push(conversion("TO_BOOLEAN", &["TO_BOOL"], DataType::Boolean));
    defs.push(conversion(
        "TO_UNSIGNED_LONG",
        &["TO_UL", "TO_ULONG"],
        DataType::UnsignedLong,
    ));
    defs.push(conversion("TO_VERSION", &["TO_VER"], DataType::Version));
}

/// The conversion function a cast to `t` uses.
pub fn conversion_name(t: DataType) -> Option<&'static str> {
    Some(match t {
        DataType::Keyword | DataType::Text => "TO_STRING",
        DataType::Integer => "TO_INTEGER",
        DataType::Long => "TO_LONG",
        DataType::Double => "TO_DOUBLE",
        DataType::Date => "TO_DATETIME",
        DataType::Ip => "TO_IP",
        DataType::Boolean => "TO_BOOLEAN",
        DataType::UnsignedLong => "TO_UNSIGNED_LONG",
        DataType::Version => "TO_VERSION",
        _ => return None,
    })
}

fn conversion(name: &'static str, aliases: &'static [&'static str], to: DataType) -> FunctionDef {
    let rule: esql::catalog::TypeRule = match to {
        DataType::Keyword => |a| accept(a, DataType::Keyword, |t| !t.is_span()),
        DataType::Text => |a| accept(a, DataType::Text, |t| !t.is_span()),
        DataType::Integer => |a| accept(a, DataType::Integer, numeric_like),
        DataType::Long => |a| accept(a, DataType::Long, numeric_like),
        DataType::Double => |a| accept(a, DataType::Double, numeric_like),
        DataType::UnsignedLong => |a| accept(a, DataType::UnsignedLong, numeric_like),
        DataType::Date => |a| {
            accept(a, DataType::Date, |t| {
                t.is_numeric() || t.is_string() || t == DataType::Date
            })
        },
        DataType::Ip => |a| accept(a, DataType::Ip, |t| t.is_string() || t == DataType::Ip),
        DataType::Boolean => |a| {
            accept(a, DataType::Boolean, |t| {
                t.is_numeric() || t.is_string() || t == DataType::Boolean
            })
        },
        _ => |a| {
            accept(a, DataType::Version, |t| {
                t.is_string() || t == DataType::Version
            })
        },
    };
    FunctionDef {
        sig: Signature {
            name,
            kind: FunctionKind::Scalar,
            rule,
        },
        aliases,
        imp: Impl::Row(RowImpl {
            kernel: convert_kernel,
            multi: MultiValues::Accept,
            nulls: Nulls::Propagate,
            ret_multi: RetMulti::IfAnyArg,
        }),
    }
}

fn numeric_like(t: DataType) -> bool {
    t.is_numeric() || t.is_string() || matches!(t, DataType::Boolean | DataType::Date)
}

fn accept(a: &Args<'_>, to: DataType, ok: fn(DataType) -> bool) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    let t = a.types[0];
    if t == DataType::Null || ok(t) {
        Ok(to)
    } else {
        Err(ArgError::Type {
            index: 0,
            expected: format!("convertible to {}", to.name()),
        })
    }
}

fn convert_kernel(args: &[Value], ctx: &Ctx) -> Result<Value, Failure> {
    let from = ctx.arg_types.first().copied().unwrap_or(DataType::Null);
    let mut out = vec![];
    let mut first_err = None;
    for v in args[0].values() {
        match convert_one(v, from, ctx.ret) {
            Ok(c) => out.push(c),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if out.is_empty() {
        if let Some(e) = first_err {
            return Err(e);
        }
    }
    // Values that failed are dropped, but the user still hears about them.
    if let Some(e) = first_err {
        ctx.warn(e.0);
    }
    Ok(Value::from_values(out))
}

/// Converts one value; the error is the Java exception ES reports.
pub fn convert_one(v: &Value, from: DataType, to: DataType) -> Result<Value, Failure> {
    match to {
        DataType::Keyword | DataType::Text => Ok(Value::Str(to_es_string(v, from))),
        DataType::Integer => {
            if let Value::Str(s) = v {
                return str_to_integral(s, i32::MIN as f64, i32::MAX as f64).map(|l| Value::Int(l as i32));
            }
            let l = to_long(v)?;
            i32::try_from(l)
                .map(Value::Int)
                .map_err(|_| Failure(format!("org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{l}] out of [integer] range")))
        }
        DataType::Long => to_long(v).map(Value::Long),
        DataType::UnsignedLong => to_unsigned_long(v).map(Value::UnsignedLong),
        DataType::Double => to_double(v).map(Value::Double),
        DataType::Boolean => Ok(Value::Bool(match v {
            Value::Bool(b) => *b,
            Value::Str(s) => s.eq_ignore_ascii_case("true"),
            Value::Int(i) => *i != 0,
            Value::Long(l) => *l != 0,
            Value::UnsignedLong(u) => *u != 0,
            Value::Double(d) => *d != 0.0,
            _ => false,
        })),
        DataType::Date => match v {
            Value::Date(d) => Ok(Value::Date(*d)),
            Value::Str(s) => javatime::parse_strict_date_optional_time(s).map(Value::Date).map_err(|_| {
                format!("java.lang.IllegalArgumentException: failed to parse date field [{s}] with format [strict_date_optional_time]")
            }).map_err(Failure::from),
            other => to_long(other).map(Value::Date),
        },
        DataType::Ip => match v {
            Value::Str(s) => parse_ip(s)
                .map(Value::Str)
                .ok_or_else(|| format!("java.lang.IllegalArgumentException: '{s}' is not an IP string literal.")).map_err(Failure::from),
            _ => Err("unsupported conversion to ip".into()),
        },
        DataType::Version => match v {
            Value::Str(s) => Ok(Value::Str(s.clone())),
            _ => Err("unsupported conversion to version".into()),
        },
        _ => Err(format!("unsupported conversion to {}", to.name()).into()),
    }
}

/// Canonical IP text: IPv4 dotted, IPv6 compressed lower-case (what ES prints).
pub fn parse_ip(s: &str) -> Option<String> {
    let ip: std::net::IpAddr = s.parse().ok()?;
    Some(match ip {
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        v4 => v4.to_string(),
    })
}

fn to_long(v: &Value) -> Result<i64, Failure> {
    match v {
        Value::Int(i) => Ok(*i as i64),
        Value::Long(l) => Ok(*l),
        Value::Date(d) => Ok(*d),
        Value::Bool(b) => Ok(*b as i64),
        Value::UnsignedLong(u) => i64::try_from(*u).map_err(|_| {
            format!("org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{u}] out of [long] range")
        }).map_err(Failure::from),
        Value::Double(d) => double_to_long(*d),
        Value::Str(s) => str_to_integral(s, -9.223372036854776E18, 9.223372036854776E18),
        _ => Err("unsupported conversion".into()),
    }
}

fn number_format(s: &str) -> Failure {
    Failure(format!(
        "java.lang.NumberFormatException: For input string: \"{s}\""
    ))
}

/// Integer text first; otherwise a decimal that rounds into range (`"2147483647.2"`).
/// Anything else reports the integer parser's complaint, as ES does.
fn str_to_integral(s: &str, min: f64, max: f64) -> Result<i64, Failure> {
    let t = s.trim();
    if let Ok(l) = t.parse::<i64>() {
        if (min..=max).contains(&(l as f64)) {
            return Ok(l);
        }
        return Err(number_format(s));
    }
    match t.parse::<f64>() {
        Ok(d) if d.is_finite() && !t.contains(['i', 'I', 'n', 'N']) => {
            let r = (d + 0.5).floor();
            if r >= min && r <= max && r.abs() < 9.223372036854776E18 {
                Ok(r as i64)
            } else {
                Err(number_format(s))
            }
        }
        _ => Err(number_format(s)),
    }
}

fn to_unsigned_long(v: &Value) -> Result<u64, Failure> {
    let out_of_range = |x: String| {
        Failure(format!("org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{x}] out of [unsigned_long] range"))
    };
    match v {
        Value::UnsignedLong(u) => Ok(*u),
        Value::Int(i) => u64::try_from(*i).map_err(|_| out_of_range(i.to_string())),
        Value::Long(l) => u64::try_from(*l).map_err(|_| out_of_range(l.to_string())),
        Value::Date(l) => u64::try_from(*l).map_err(|_| out_of_range(l.to_string())),
        Value::Bool(b) => Ok(*b as u64),
        Value::Double(d) => double_to_ul(*d).ok_or_else(|| out_of_range(java_double(*d))),
        Value::Str(s) => {
            let t = s.trim();
            if let Ok(u) = t.parse::<u64>() {
                return Ok(u);
            }
            // BigDecimal's grammar: digits, one point, an exponent.
            if let Some(c) = t
                .chars()
                .find(|c| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')))
            {
                return Err(format!("java.lang.NumberFormatException: Character {c} is neither a decimal digit number, decimal point, nor \"e\" notation exponential mark.").into());
            }
            let d: f64 = t.parse().map_err(|_| number_format(s))?;
            double_to_ul(d).ok_or_else(|| out_of_range(t.to_string()))
        }
        _ => Err("unsupported conversion".into()),
    }
}

fn double_to_ul(d: f64) -> Option<u64> {
    let r = (d + 0.5).floor();
    (0.0..18446744073709551616.0)
        .contains(&r)
        .then_some(r as u64)
}

/// Java's `Math.round` (half up), after checking the long range as ES does.
fn double_to_long(d: f64) -> Result<i64, Failure> {
    if !(-9.223372036854776E18..9.223372036854776E18).contains(&d) {
        return Err(format!(
            "org.elasticsearch.xpack.esql.core.InvalidArgumentException: [{}] out of [long] range",
            java_double(d)
        )
        .into());
    }
    Ok((d + 0.5).floor() as i64)
}

fn to_double(v: &Value) -> Result<f64, Failure> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Long(l) => Ok(*l as f64),
        Value::UnsignedLong(u) => Ok(*u as f64),
        Value::Double(d) => Ok(*d),
        Value::Date(d) => Ok(*d as f64),
        Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::Str(s) => s.trim().parse::<f64>().map_err(|_| number_format(s)),
        _ => Err("unsupported conversion".into()),
    }
}

/// How TO_STRING renders a value of ES type `from`.
pub fn to_es_string(v: &Value, from: DataType) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Long(l) => l.to_string(),
        Value::UnsignedLong(u) => u.to_string(),
        Value::Double(d) => java_double(*d),
        Value::Date(d) => {
            let _ = from;
            javatime::format_iso_millis(*d)
        }
        Value::Null => String::new(),
        Value::Multi(vs) => vs
            .iter()
            .map(|x| to_es_string(x, from))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(
            convert_one(&Value::Double(2.5), DataType::Double, DataType::Integer),
            Ok(Value::Int(3))
        );
        assert_eq!(
            convert_one(&Value::Double(-2.5), DataType::Double, DataType::Long),
            Ok(Value::Long(-2))
        );
        assert_eq!(
            convert_one(
                &Value::Str("2147483648.2".into()),
                DataType::Keyword,
                DataType::Long
            ),
            Ok(Value::Long(2147483648))
        );
        assert!(convert_one(
            &Value::Long(501379200000),
            DataType::Long,
            DataType::Integer
        )
        .unwrap_err()
        .0
        .contains("[501379200000] out of [integer] range"));
        assert_eq!(
            convert_one(
                &Value::Str("TRUE".into()),
                DataType::Keyword,
                DataType::Boolean
            ),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            convert_one(
                &Value::Str("::ffff:1.2.3.4".into()),
                DataType::Keyword,
                DataType::Ip
            ),
            Ok(Value::Str("1.2.3.4".into()))
        );
        assert!(
            convert_one(&Value::Str("foo".into()), DataType::Keyword, DataType::Ip)
                .unwrap_err()
                .0
                .contains("'foo' is not an IP string literal.")
        );
    }
}
