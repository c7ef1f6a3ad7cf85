//! String functions (esql-spec §13.3). They return keyword; `text` input reads as keyword.

use super::{scalar, FunctionDef, RetMulti};
use crate::udf::Ctx;
use crate::udf::Failure;
use crate::value::Value;
use esql::catalog::{arity, expect, is_integral, is_string, ArgError, Args};
use esql::DataType;
use std::cell::RefCell;
use std::collections::HashMap;

pub fn register(defs: &mut Vec<FunctionDef>) {
    // `x LIKE expr` / `x RLIKE expr`: the analyzer's calls for patterns that are not
    // literals (named with a `$` so no query calls them directly).
    defs.push(scalar(
        "LIKE$PATTERN",
        two_strings_to_boolean,
        |a, _| match a {
            [Value::Str(s), Value::Str(p)] => {
                java_regex(&crate::pattern::wildcard_to_regex(p), |r| {
                    Value::Bool(r.is_match(s))
                })
            }
            _ => Ok(Value::Null),
        },
    ));
    defs.push(scalar(
        "RLIKE$PATTERN",
        two_strings_to_boolean,
        |a, _| match a {
            [Value::Str(s), Value::Str(p)] => {
                java_regex(&crate::pattern::lucene_to_regex(p)?, |r| {
                    Value::Bool(r.is_match(s))
                })
            }
            _ => Ok(Value::Null),
        },
    ));
    defs.push(scalar("TO_LOWER", one_string_to_keyword, |a, _| {
        map_str(a, |s| s.to_lowercase())
    }));
    defs.push(scalar("TO_UPPER", one_string_to_keyword, |a, _| {
        map_str(a, |s| s.to_uppercase())
    }));
    defs.push(scalar("TRIM", one_string_to_keyword, |a, _| {
        map_str(a, |s| s.trim().to_string())
    }));
    defs.push(scalar("LTRIM", one_string_to_keyword, |a, _| {
        map_str(a, |s| s.trim_start().to_string())
    }));
    defs.push(scalar("RTRIM", one_string_to_keyword, |a, _| {
        map_str(a, |s| s.trim_end().to_string())
    }));
    defs.push(scalar(
        "LENGTH",
        |a| {
            arity(a, 1, Some(1))?;
            expect(a, 0, is_string, "string")?;
            Ok(DataType::Integer)
        },
        |a, _| match a {
            [Value::Str(s)] => Ok(Value::Int(s.chars().count() as i32)),
            _ => Ok(Value::Null),
        },
    ));
    defs.push(scalar(
        "CONCAT",
        |a| {
            arity(a, 2, None)?;
            for i in 0..a.types.len() {
                expect(a, i, is_string, "string")?;
            }
            Ok(DataType::Keyword)
        },
        |a, _| {
            let mut out = String::new();
            for v in a {
                match v {
                    Value::Str(s) => out.push_str(s),
                    _ => return Ok(Value::Null),
                }
            }
            Ok(Value::Str(out))
        },
    ));
    defs.push(scalar(
        "SUBSTRING",
        |a| {
            arity(a, 2, Some(3))?;
            expect(a, 0, is_string, "string")?;
            expect(a, 1, is_integral, "integer")?;
            if a.types.len() == 3 {
                expect(a, 2, is_integral, "integer")?;
            }
            Ok(DataType::Keyword)
        },
        substring,
    ));
    defs.push(scalar("LEFT", two_string_int, |a, _| match a {
        [Value::Str(s), n] => Ok(Value::Str(s.chars().take(int(n).max(0) as usize).collect())),
        _ => Ok(Value::Null),
    }));
    defs.push(scalar("RIGHT", two_string_int, |a, _| match a {
        [Value::Str(s), n] => {
            let len = s.chars().count();
            let n = (int(n).max(0) as usize).min(len);
            Ok(Value::Str(s.chars().skip(len - n).collect()))
        }
        _ => Ok(Value::Null),
    }));
    defs.push(scalar("STARTS_WITH", two_strings_bool, |a, _| match a {
        [Value::Str(s), Value::Str(p)] => Ok(Value::Bool(s.starts_with(p.as_str()))),
        _ => Ok(Value::Null),
    }));
    defs.push(scalar("ENDS_WITH", two_strings_bool, |a, _| match a {
        [Value::Str(s), Value::Str(p)] => Ok(Value::Bool(s.ends_with(p.as_str()))),
        _ => Ok(Value::Null),
    }));
    defs.push(scalar(
        "REPLACE",
        |a| {
            arity(a, 3, Some(3))?;
            for i in 0..3 {
                expect(a, i, is_string, "string")?;
            }
            Ok(DataType::Keyword)
        },
        replace,
    ));
    defs.push(
        scalar(
            "SPLIT",
            |a| {
                arity(a, 2, Some(2))?;
                expect(a, 0, is_string, "string")?;
                expect(a, 1, is_string, "string")?;
                Ok(DataType::Keyword)
            },
            split,
        )
        .row(|r| r.ret_multi = RetMulti::Always),
    );
}

fn one_string_to_keyword(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(a, 0, is_string, "string")?;
    Ok(DataType::Keyword)
}

fn two_strings_bool(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(a, 0, is_string, "string")?;
    expect(a, 1, is_string, "string")?;
    Ok(DataType::Boolean)
}

fn two_string_int(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(a, 0, is_string, "string")?;
    expect(a, 1, is_integral, "integer")?;
    Ok(DataType::Keyword)
}

fn map_str(a: &[Value], f: impl Fn(&str) -> String) -> Result<Value, Failure> {
    match a {
        [Value::Str(s)] => Ok(Value::Str(f(s))),
        _ => Ok(Value::Null),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i as i64,
        Value::Long(l) => *l,
        _ => 0,
    }
}

/// 1-based start; 0 acts like 1; negative counts from the end; past the end is "".
fn substring(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let (s, start, len) = match a {
        [Value::Str(s), st] => (s, int(st), None),
        [Value::Str(s), st, l] => (s, int(st), Some(int(l))),
        _ => return Ok(Value::Null),
    };
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len() as i64;
    let begin = if start < 0 {
        (n + start).max(0)
    } else {
        (start - 1).max(0)
    };
    if begin >= n {
        return Ok(Value::Str(String::new()));
    }
    let end = match len {
        Some(l) if l < 0 => return Ok(Value::Str(String::new())),
        Some(l) => (begin + l).min(n),
        None => n,
    };
    Ok(Value::Str(
        chars[begin as usize..end as usize].iter().collect(),
    ))
}

thread_local! {
    static REGEXES: RefCell<HashMap<String, Result<regex::Regex, Failure>>> = RefCell::new(HashMap::new());
}

/// Compiles (and caches) a Java-syntax regex; the common subset maps onto `regex`.
pub fn java_regex<T>(pattern: &str, f: impl FnOnce(&regex::Regex) -> T) -> Result<T, Failure> {
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() > 256 {
            cache.clear();
        }
        let compiled = cache.entry(pattern.to_string()).or_insert_with(|| {
            regex::Regex::new(pattern)
                .map_err(|e| Failure(format!("java.util.regex.PatternSyntaxException: {e}")))
        });
        match compiled {
            Ok(r) => Ok(f(r)),
            Err(e) => Err(e.clone()),
        }
    })
}

fn replace(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    match a {
        [Value::Str(s), Value::Str(re), Value::Str(rep)] => {
            // Java's `$1` group syntax; `${name}` is the same in both.
            let rep = java_replacement(rep);
            java_regex(re, |r| {
                Value::Str(r.replace_all(s, rep.as_str()).into_owned())
            })
        }
        _ => Ok(Value::Null),
    }
}

/// Java replacement strings: `$n` group refs, `\x` escapes a character. Rust's `$1a` would
/// read group "1a", so groups are braced.
fn java_replacement(rep: &str) -> String {
    let mut out = String::new();
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    if n == '$' {
                        out.push_str("$$");
                    } else {
                        out.push(n);
                    }
                }
            }
            '$' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str("$$");
                } else {
                    out.push_str(&format!("${{{digits}}}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn split(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    match a {
        [Value::Str(s), Value::Str(d)] => {
            if d.is_empty() {
                return Ok(Value::from_values(
                    s.chars().map(|c| Value::Str(c.to_string())).collect(),
                ));
            }
            Ok(Value::from_values(
                s.split(d.as_str())
                    .map(|p| Value::Str(p.to_string()))
                    .collect(),
            ))
        }
        _ => Ok(Value::Null),
    }
}

fn two_strings_to_boolean(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(a, 0, is_string, "string")?;
    expect(a, 1, is_string, "string")?;
    Ok(DataType::Boolean)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx::new(DataType::Keyword, vec![])
    }

    #[test]
    fn substring_rules() {
        let s = |v: &str, a: i32, b: Option<i32>| {
            let mut args = vec![Value::Str(v.into()), Value::Int(a)];
            if let Some(b) = b {
                args.push(Value::Int(b));
            }
            substring(&args, &ctx()).unwrap()
        };
        assert_eq!(s("2024", 0, Some(2)), Value::Str("20".into()));
        assert_eq!(s("Facello", -3, None), Value::Str("llo".into()));
        assert_eq!(s("abc", 5, None), Value::Str("".into()));
        assert_eq!(s("abcdef", 2, Some(3)), Value::Str("bcd".into()));
    }

    #[test]
    fn replace_with_groups() {
        let r = replace(
            &[
                Value::Str("foo-bar".into()),
                Value::Str("(\\w+)-(\\w+)".into()),
                Value::Str("$2_$1".into()),
            ],
            &ctx(),
        )
        .unwrap();
        assert_eq!(r, Value::Str("bar_foo".into()));
    }
}
