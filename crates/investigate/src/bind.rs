//! Binding a pivot's `?name` parameters.
//!
//! * Every column of the finding row is a parameter named by [`hunts::param_name`]:
//!   keyword, ip and version values as strings, numbers and booleans as themselves,
//!   dates as ISO-8601 strings (compare them with `TO_DATETIME(?p)`).
//! * After the first pivot: `?finding_start`, `?finding_end` (first and last `@timestamp`
//!   of its answer), `?window_start`, `?window_end` (those ∓ the window) and
//!   `?history_end` (`finding_start` − the recent period: what the principal did before it
//!   is its history, what it first did after it is new), ISO strings.
//! * An `each` pivot also gets its column's value.
//!
//! A pivot that uses a parameter whose value is null or multi-valued is skipped, with the
//! column named: `x == null` would match nothing, which would read as "no activity".

use std::collections::BTreeMap;

use engine::Value;
use esql::ast::Literal;
use esql::{Column, ParamValue, Params};

/// The time parameters set once the first pivot has found the finding's calls.
pub const TIME_PARAMS: [&str; 5] = [
    "finding_start",
    "finding_end",
    "window_start",
    "window_end",
    "history_end",
];

#[derive(Debug, Clone, Default)]
pub struct Bindings {
    /// Parameter → (where it came from, its value).
    values: BTreeMap<String, (String, Value)>,
}

impl Bindings {
    pub fn from_row(row: &[(Column, Value)]) -> Bindings {
        let mut b = Bindings::default();
        for (c, v) in row {
            b.values.insert(
                hunts::param_name(&c.name),
                (format!("column [{}] of the finding", c.name), v.clone()),
            );
        }
        b
    }

    pub fn set_times(&mut self, first: i64, last: i64, window_ms: i64, recent_ms: i64) {
        let times = [
            first,
            last,
            first - window_ms,
            last + window_ms,
            first - recent_ms,
        ];
        for (name, t) in TIME_PARAMS.iter().zip(times) {
            self.values.insert(
                name.to_string(),
                ("the first pivot's calls".into(), Value::Str(crate::iso(t))),
            );
        }
    }

    pub fn set_text(&mut self, name: &str, value: &str) {
        self.values.insert(
            name.to_string(),
            ("an earlier pivot".into(), Value::Str(value.to_string())),
        );
    }

    /// The parameters for a query that uses `used`, and their values as text; or why the
    /// query cannot run.
    pub fn params_for(&self, used: &[String]) -> Result<(Params, Vec<(String, String)>), String> {
        let mut params = Params::new();
        let mut bound = Vec::new();
        for name in used {
            let Some((from, value)) = self.values.get(name) else {
                return Err(if TIME_PARAMS.contains(&name.as_str()) {
                    format!("?{name} is unknown: the first pivot found no calls with an @timestamp")
                } else {
                    format!(
                        "?{name} is neither a column of the finding nor set by an earlier pivot"
                    )
                });
            };
            let literal = match value {
                Value::Null => return Err(format!("?{name}: {from} is null")),
                Value::Multi(_) => return Err(format!("?{name}: {from} is multi-valued")),
                Value::Bool(b) => Literal::Bool(*b),
                Value::Int(i) => Literal::Integer(*i),
                Value::Long(l) => Literal::Long(*l),
                Value::UnsignedLong(u) => Literal::UnsignedLong(*u),
                Value::Double(d) => Literal::Double(*d),
                Value::Str(s) => Literal::Keyword(s.clone()),
                Value::Date(ms) => Literal::Keyword(crate::iso(*ms)),
            };
            bound.push((name.clone(), engine::format::to_text(value, "null")));
            params.push_named(name.clone(), ParamValue::Value(literal));
        }
        Ok((params, bound))
    }
}

/// The `?name` parameters a query uses, in order of first use (`??name` identifiers and
/// text inside quotes or comments are not parameters).
pub fn params_used(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let b = query.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                // Triple-quoted or plain string: skip to its end.
                if query[i..].starts_with("\"\"\"") {
                    i = query[i + 3..]
                        .find("\"\"\"")
                        .map_or(b.len(), |e| i + 3 + e + 3);
                } else {
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = query[i..].find('\n').map_or(b.len(), |e| i + e);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = query[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            }
            b'?' if b.get(i + 1) == Some(&b'?') => {
                i += 2;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
            }
            b'?' => {
                let start = i + 1;
                i = start;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let name = &query[start..i];
                if !name.is_empty()
                    && !name.starts_with(|c: char| c.is_ascii_digit())
                    && !out.iter().any(|n| n == name)
                {
                    out.push(name.to_string());
                }
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use esql::DataType;

    #[test]
    fn finds_params_outside_strings_and_comments() {
        let q = "from x | where a == ?arn and b == \"?not\" // ?comment\n| where c > to_datetime(?window_start) and d == ?arn and e == ??ident and f == ?1";
        assert_eq!(params_used(q), ["arn", "window_start"]);
        assert_eq!(
            params_used("from x /* ?no */ | where x == \"\"\"?no\"\"\" and y == ?yes"),
            ["yes"]
        );
    }

    #[test]
    fn binds_row_values_and_refuses_nulls() {
        let row = vec![
            (
                Column {
                    name: "aws.cloudtrail.user_identity.arn".into(),
                    ty: DataType::Keyword,
                },
                Value::Str("arn:x".into()),
            ),
            (
                Column {
                    name: "n".into(),
                    ty: DataType::Long,
                },
                Value::Long(3),
            ),
            (
                Column {
                    name: "date".into(),
                    ty: DataType::Date,
                },
                Value::Date(0),
            ),
            (
                Column {
                    name: "empty".into(),
                    ty: DataType::Keyword,
                },
                Value::Null,
            ),
        ];
        let b = Bindings::from_row(&row);
        let (params, bound) = b
            .params_for(&[
                "aws_cloudtrail_user_identity_arn".into(),
                "n".into(),
                "date".into(),
            ])
            .unwrap();
        assert_eq!(params.len(), 3);
        assert_eq!(
            bound[0],
            ("aws_cloudtrail_user_identity_arn".into(), "arn:x".into())
        );
        assert_eq!(bound[2].1, "1970-01-01T00:00:00.000Z");
        assert_eq!(
            params.named("n"),
            Some(&ParamValue::Value(Literal::Long(3)))
        );
        let e = b.params_for(&["empty".into()]).unwrap_err();
        assert_eq!(e, "?empty: column [empty] of the finding is null");
        let e = b.params_for(&["window_start".into()]).unwrap_err();
        assert!(e.contains("first pivot found no calls"), "{e}");
        let e = b.params_for(&["nope".into()]).unwrap_err();
        assert!(e.contains("neither a column"), "{e}");
    }
}
