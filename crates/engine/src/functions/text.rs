//! More string functions (esql-spec §13.3): positions, repetition, reversal, lengths in
//! UTF-8 units and Base64. Positions and lengths count Unicode code points, as ES does.

use super::{scalar, FunctionDef};
use crate::udf::Ctx;
use crate::udf::Failure;
use crate::value::Value;
use esql::catalog::{arity, expect, is_integral, is_string, ArgError, Args};
use esql::DataType;

/// ES caps the strings REPEAT and SPACE may build (1 MB).
const MAX_BYTES: i64 = 1024 * 1024;

pub fn register(defs: &mut Vec<FunctionDef>) {
    defs.push(scalar("LOCATE", locate_rule, locate));
    defs.push(scalar("REPEAT", repeat_rule, |a, _| match a {
        [Value::Str(s), n] => repeat(s, int(n)),
        _ => Ok(Value::Null),
    }));
    defs.push(scalar(
        "SPACE",
        |a| {
            arity(a, 1, Some(1))?;
            expect(a, 0, is_integral, "integer")?;
            Ok(DataType::Keyword)
        },
        |a, _| repeat(" ", int(&a[0])),
    ));
    // By code point; combining sequences and emoji built of several code points are
    // reversed piecewise (ES reverses grapheme clusters).
    defs.push(scalar("REVERSE", one_string, |a, _| match a {
        [Value::Str(s)] => Ok(Value::Str(s.chars().rev().collect())),
        _ => Ok(Value::Null),
    }));
    defs.push(scalar("BIT_LENGTH", one_string_int, |a, _| match a {
        [Value::Str(s)] => Ok(Value::Int((s.len() * 8) as i32)),
        _ => Ok(Value::Null),
    }));
    defs.push(scalar("BYTE_LENGTH", one_string_int, |a, _| match a {
        [Value::Str(s)] => Ok(Value::Int(s.len() as i32)),
        _ => Ok(Value::Null),
    }));
    defs.push(scalar(
        "CONTAINS",
        |a| {
            arity(a, 2, Some(2))?;
            expect(a, 0, is_string, "string")?;
            expect(a, 1, is_string, "string")?;
            Ok(DataType::Boolean)
        },
        |a, _| match a {
            [Value::Str(s), Value::Str(sub)] => Ok(Value::Bool(s.contains(sub.as_str()))),
            _ => Ok(Value::Null),
        },
    ));
    defs.push(scalar("TO_BASE64", one_string, |a, _| match a {
        [Value::Str(s)] => Ok(Value::Str(base64_encode(s.as_bytes()))),
        _ => Ok(Value::Null),
    }));
    defs.push(scalar("FROM_BASE64", one_string, |a, _| match a {
        [Value::Str(s)] => base64_decode(s)
            .map(|b| Value::Str(String::from_utf8_lossy(&b).into_owned()))
            .ok_or_else(|| {
                "java.lang.IllegalArgumentException: Illegal base64 character".to_string()
            })
            .map_err(Failure::from),
        _ => Ok(Value::Null),
    }));
}

fn one_string(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(a, 0, is_string, "string")?;
    Ok(DataType::Keyword)
}

fn one_string_int(a: &Args<'_>) -> Result<DataType, ArgError> {
    one_string(a).map(|_| DataType::Integer)
}

fn locate_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(3))?;
    expect(a, 0, is_string, "string")?;
    expect(a, 1, is_string, "string")?;
    if a.types.len() == 3 {
        expect(a, 2, is_integral, "integer")?;
    }
    Ok(DataType::Integer)
}

fn repeat_rule(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(a, 0, is_string, "string")?;
    expect(a, 1, is_integral, "integer")?;
    Ok(DataType::Keyword)
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i as i64,
        Value::Long(l) => *l,
        _ => 0,
    }
}

/// 1-based position of `sub` at or after `start` (1-based; below 1 means 1), 0 if absent.
fn locate(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let (Value::Str(s), Value::Str(sub)) = (&a[0], &a[1]) else {
        return Ok(Value::Null);
    };
    let start = a.get(2).map(int).unwrap_or(1).max(1) as usize - 1;
    let chars: Vec<char> = s.chars().collect();
    if start > chars.len() {
        return Ok(Value::Int(0));
    }
    let byte_start: usize = chars[..start].iter().map(|c| c.len_utf8()).sum();
    Ok(Value::Int(match s[byte_start..].find(sub.as_str()) {
        Some(b) => (start + s[byte_start..byte_start + b].chars().count() + 1) as i32,
        None => 0,
    }))
}

fn repeat(s: &str, n: i64) -> Result<Value, Failure> {
    if n < 0 {
        return Err(format!(
            "java.lang.IllegalArgumentException: Number parameter cannot be negative, found [{n}]"
        )
        .into());
    }
    if (s.len() as i64).saturating_mul(n) > MAX_BYTES {
        return Err(format!(
            "org.elasticsearch.xpack.esql.core.InvalidArgumentException: Creating repeated strings with more than [{MAX_BYTES}] bytes is not supported"
        ).into());
    }
    Ok(Value::Str(s.repeat(n as usize)))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.trim_end_matches('=').bytes().collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for d in digits {
        let v = B64.iter().position(|&c| c == d)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "héllo"] {
            let e = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&e).unwrap(), s.as_bytes());
        }
        assert_eq!(base64_encode(b"elastic"), "ZWxhc3RpYw==");
        assert!(base64_decode("a$b").is_none());
    }

    #[test]
    fn locate_positions() {
        let c = Ctx::new(DataType::Integer, vec![]);
        let l = |s: &str, sub: &str, start: Option<i32>| {
            let mut a = vec![Value::Str(s.into()), Value::Str(sub.into())];
            a.extend(start.map(Value::Int));
            locate(&a, &c).unwrap()
        };
        assert_eq!(l("a tiger", "tiger", None), Value::Int(3));
        assert_eq!(l("héllo héllo", "llo", Some(5)), Value::Int(9));
        assert_eq!(l("abc", "z", None), Value::Int(0));
        assert_eq!(l("abc", "", Some(10)), Value::Int(0));
    }
}
