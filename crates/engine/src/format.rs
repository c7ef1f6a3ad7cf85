//! How Elasticsearch writes values in a `_query` response: dates as
//! `2024-07-31T13:06:24.000Z`, doubles as Java's `Double.toString`, multi-values as
//! arrays, and the same text for CSV/table cells.

use crate::value::Value;

/// Java's `Double.toString`: plain notation for 1e-3 ≤ |d| < 1e7, otherwise computerized
/// scientific notation (`1.0E10`, `3.181719481E8`), always with a fractional digit. The
/// digits are the shortest that round-trip, as in current JDKs.
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{d}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{d:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

/// A value as JSON, as ES writes it.
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Long(l) => J::from(*l),
        Value::UnsignedLong(u) => J::from(*u),
        Value::Double(d) => {
            // JSON has no NaN/Infinity; ES never returns them (they become null + warning).
            match serde_json::Number::from_f64(*d) {
                Some(_) => serde_json::from_str(&java_double(*d)).unwrap_or(J::Null),
                None => J::Null,
            }
        }
        Value::Str(s) => J::String(s.clone()),
        Value::Date(ms) => J::String(javatime::format_iso_millis(*ms)),
        Value::Multi(vs) => J::Array(vs.iter().map(to_json).collect()),
    }
}

/// A value as one text cell (CSV, table): multi-values as `[a, b]`, null as empty (CSV)
/// or `null` (table), chosen by the caller through `null`.
pub fn to_text(v: &Value, null: &str) -> String {
    match v {
        Value::Null => null.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Long(l) => l.to_string(),
        Value::UnsignedLong(u) => u.to_string(),
        Value::Double(d) => java_double(*d),
        Value::Str(s) => s.clone(),
        Value::Date(ms) => javatime::format_iso_millis(*ms),
        Value::Multi(vs) => format!(
            "[{}]",
            vs.iter()
                .map(|x| to_text(x, null))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_doubles() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(1e10), "1.0E10");
        assert_eq!(java_double(318171948.1), "3.181719481E8");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(1234567.5), "1234567.5");
        assert_eq!(java_double(-2.5), "-2.5");
        assert_eq!(java_double(1e7), "1.0E7");
    }
}
