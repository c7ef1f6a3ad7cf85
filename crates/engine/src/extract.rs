//! Row kernels behind DISSECT and GROK. Each output column is one call over the input;
//! compiled patterns are cached per thread.
//! Multi-valued input applies the pattern to each value; matches become multi-values.

use crate::udf::Ctx;
use crate::udf::Failure;
use crate::value::Value;
use esql::dissect::DissectPattern;
use esql::grok::GrokPattern;
use std::cell::RefCell;
use std::collections::HashMap;

/// Compiled GROK alternatives (or the reason they do not compile), cached by pattern text.
type CompiledGrok = Result<Vec<(GrokPattern, fancy_regex::Regex)>, Failure>;
/// For the first matching pattern: its field names and the (field index, text) captures.
type GrokMatch = Vec<(Vec<String>, Vec<(usize, String)>)>;

thread_local! {
    static DISSECT: RefCell<HashMap<String, Result<DissectPattern, Failure>>> = RefCell::new(HashMap::new());
    static GROK: RefCell<HashMap<String, CompiledGrok>> = RefCell::new(HashMap::new());
}

/// `dissect(input, pattern, separator, field)`.
pub fn dissect(args: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let [input, Value::Str(pattern), Value::Str(sep), Value::Str(field)] = args else {
        return Ok(Value::Null);
    };
    DISSECT.with(|cache| {
        let mut cache = cache.borrow_mut();
        let parsed = cache.entry(pattern.clone()).or_insert_with(|| {
            DissectPattern::parse(pattern).map_err(|e| Failure::from(e.to_string()))
        });
        let p = parsed.as_ref().map_err(|e| e.clone())?;
        let mut out = vec![];
        for v in input.values() {
            if let Value::Str(s) = v {
                if let Some(fields) = p.apply(s, sep) {
                    if let Some((_, val)) = fields.iter().find(|(n, _)| n == field) {
                        out.push(Value::Str(val.clone()));
                    }
                }
            }
        }
        Ok(Value::from_values(out))
    })
}

/// Separates GROK's patterns inside one literal argument.
pub const PATTERN_SEPARATOR: char = '\u{1f}';

/// `grok(input, patterns, field)`: the field's captures, converted to the result type.
pub fn grok(args: &[Value], ctx: &Ctx) -> Result<Value, Failure> {
    let [input, Value::Str(patterns), Value::Str(field)] = args else {
        return Ok(Value::Null);
    };
    let mut out = vec![];
    for v in input.values() {
        let Value::Str(s) = v else { continue };
        let captures = match_grok(patterns, s)?;
        for (pattern_fields, caps) in captures {
            for (idx, text) in caps {
                if pattern_fields.get(idx).is_some_and(|n| n == field) {
                    out.push(convert(&text, ctx.ret));
                }
            }
        }
    }
    Ok(Value::from_values(out))
}

/// For the first matching pattern: its field names and the (field index, text) captures.
fn match_grok(patterns: &str, input: &str) -> Result<GrokMatch, Failure> {
    GROK.with(|cache| {
        let mut cache = cache.borrow_mut();
        let compiled = cache.entry(patterns.to_string()).or_insert_with(|| {
            patterns
                .split(PATTERN_SEPARATOR)
                .map(|p| {
                    let g = GrokPattern::parse(p).map_err(|e| e.to_string())?;
                    let re = fancy_regex::Regex::new(&g.regex)
                        .map_err(|e| format!("invalid grok pattern [{p}]: {e}"))?;
                    Ok((g, re))
                })
                .collect()
        });
        let compiled = compiled.as_ref().map_err(|e| e.clone())?;
        for (g, re) in compiled {
            let caps = match re.captures(input) {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => return Err(format!("grok match failed: {e}").into()),
            };
            let names: Vec<String> = g.fields.iter().map(|(n, _)| n.clone()).collect();
            let mut found = vec![];
            for (group, idx) in &g.groups {
                if let Some(m) = caps.name(group) {
                    found.push((*idx, m.as_str().to_string()));
                }
            }
            return Ok(vec![(names, found)]);
        }
        Ok(vec![])
    })
}

fn convert(text: &str, t: esql::DataType) -> Value {
    use esql::DataType::*;
    match t {
        Integer => text.trim().parse().map(Value::Int).unwrap_or(Value::Null),
        Long => text.trim().parse().map(Value::Long).unwrap_or(Value::Null),
        Double => text
            .trim()
            .parse()
            .map(Value::Double)
            .unwrap_or(Value::Null),
        Boolean => Value::Bool(text.trim().eq_ignore_ascii_case("true")),
        _ => Value::Str(text.to_string()),
    }
}
