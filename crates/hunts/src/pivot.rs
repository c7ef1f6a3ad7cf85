//! Pivots: the follow-up queries a hunt's notes ask for, as data (`[[hunt.pivot]]`).
//!
//! A pivot is an ES|QL query whose `?name` parameters are bound from one finding (a row
//! of the hunt's result) and from what earlier pivots of the same finding found. Its
//! `read` text tells the analyst how to read the answer. trailhunt's own hunts ship
//! pivots; the `investigate` crate runs them and derives a verdict from their answers.
//!
//! ```toml
//! [[hunt.pivot]]
//! id = "calls"                 # unique in the hunt; later pivots refer to it
//! title = "The calls behind this row"
//! query = '''from logs-aws.cloudtrail* | where aws.cloudtrail.user_identity.arn == ?aws_cloudtrail_user_identity_arn'''
//! read = "One row per call: when, which resource, from where."
//!
//! [[hunt.pivot]]
//! id = "lifecycle"
//! each = "calls.resource"      # once per distinct value of column `resource` of pivot `calls`, bound as ?resource
//! title = "…"
//! query = "…"
//! ```
//!
//! Parameters a pivot may use (see `investigate::bind` for the exact rules): every column
//! of the finding row, named by [`param_name`] (`aws.cloudtrail.user_identity.arn` →
//! `?aws_cloudtrail_user_identity_arn`), and once the first pivot has run,
//! `?finding_start`, `?finding_end` (its first and last `@timestamp`) and `?window_start`,
//! `?window_end` (those widened by the investigation window).

use toml::Value;

/// One pivot of a hunt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pivot {
    /// Short name, unique within the hunt (`calls`, `lifecycle`, …).
    pub id: String,
    pub title: String,
    /// ES|QL with `?name` parameters.
    pub query: String,
    /// How to read the answer, for the report.
    pub read: String,
    /// Run once per distinct value of a column of an earlier pivot.
    pub each: Option<Each>,
}

/// `each = "PIVOT.COLUMN"`: the pivot runs once per distinct non-null value of `column` in
/// the answer of the earlier pivot `pivot`, with that value bound to `?param`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Each {
    pub pivot: String,
    pub column: String,
    /// [`param_name`] of `column`.
    pub param: String,
}

/// The parameter name a column is bound to: every character that cannot appear in an
/// ES|QL parameter name becomes `_`, leading `_`/`@` are dropped (`@timestamp` →
/// `timestamp`, `event.action` → `event_action`).
pub fn param_name(column: &str) -> String {
    let mapped: String = column
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = mapped.trim_start_matches('_');
    if trimmed.is_empty() || trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        format!("p_{trimmed}")
    } else {
        trimmed.to_string()
    }
}

/// Why a `pivot` array was refused; the caller adds the file position.
pub(crate) fn parse_pivots(value: &Value) -> Result<Vec<Pivot>, String> {
    let Value::Array(items) = value else {
        return Err(format!(
            "`pivot` must be an array of tables ([[hunt.pivot]]), found {}",
            value.type_str()
        ));
    };
    let mut pivots: Vec<Pivot> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let n = i + 1;
        let Value::Table(t) = item else {
            return Err(format!(
                "pivot {n} must be a table, found {}",
                item.type_str()
            ));
        };
        let text = |key: &str, required: bool| -> Result<String, String> {
            match t.get(key) {
                None if required => Err(format!("pivot {n} is missing the required key `{key}`")),
                None => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(other) => Err(format!(
                    "pivot {n}: `{key}` must be a string, found {}",
                    other.type_str()
                )),
            }
        };
        let id = text("id", true)?;
        if id.trim().is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "pivot {n}: `id` must be a non-empty word (letters, digits, `_`, `-`), found {id:?}"
            ));
        }
        if pivots.iter().any(|p| p.id == id) {
            return Err(format!("pivot {n}: the id `{id}` is used twice"));
        }
        let query = text("query", true)?;
        if query.trim().is_empty() {
            return Err(format!("pivot {n} (`{id}`): `query` is empty"));
        }
        let each = match text("each", false)? {
            e if e.is_empty() => None,
            e => {
                let Some((pivot, column)) = e.split_once('.') else {
                    return Err(format!(
                        "pivot {n} (`{id}`): `each` must be PIVOT.COLUMN, found {e:?}"
                    ));
                };
                if !pivots.iter().any(|p| p.id == pivot) {
                    return Err(format!(
                        "pivot {n} (`{id}`): `each` refers to `{pivot}`, which is not an earlier pivot"
                    ));
                }
                Some(Each {
                    pivot: pivot.to_string(),
                    column: column.to_string(),
                    param: param_name(column),
                })
            }
        };
        for key in t.keys() {
            if !["id", "title", "query", "read", "each"].contains(&key.as_str()) {
                return Err(format!(
                    "pivot {n} (`{id}`): unknown key `{key}` (expected id, title, query, read, each)"
                ));
            }
        }
        let title = match text("title", false)? {
            t if t.is_empty() => id.clone(),
            t => t,
        };
        pivots.push(Pivot {
            id,
            title,
            query,
            read: text("read", false)?,
            each,
        });
    }
    Ok(pivots)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Pivot>, String> {
        let v: toml::Table = toml::from_str(text).unwrap();
        parse_pivots(&v["pivot"])
    }

    #[test]
    fn param_names() {
        assert_eq!(param_name("event.action"), "event_action");
        assert_eq!(param_name("@timestamp"), "timestamp");
        assert_eq!(
            param_name("aws.cloudtrail.user_identity.arn"),
            "aws_cloudtrail_user_identity_arn"
        );
        assert_eq!(param_name("1x"), "p_1x");
        assert_eq!(param_name("date"), "date");
    }

    #[test]
    fn pivots_in_order_with_each() {
        let p = parse(
            "[[pivot]]\nid = \"calls\"\nquery = \"from x\"\n[[pivot]]\nid = \"life\"\ntitle = \"T\"\neach = \"calls.resource\"\nquery = \"from y | where a == ?resource\"\nread = \"r\"\n",
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].title, "calls");
        assert_eq!(
            p[1].each,
            Some(Each {
                pivot: "calls".into(),
                column: "resource".into(),
                param: "resource".into()
            })
        );
    }

    #[test]
    fn refusals() {
        let e = parse("[[pivot]]\nquery = \"from x\"\n").unwrap_err();
        assert_eq!(e, "pivot 1 is missing the required key `id`");
        let e =
            parse("[[pivot]]\nid = \"a\"\nquery = \"q\"\n[[pivot]]\nid = \"a\"\nquery = \"q\"\n")
                .unwrap_err();
        assert!(e.contains("used twice"), "{e}");
        let e = parse("[[pivot]]\nid = \"a\"\nquery = \"q\"\neach = \"b.c\"\n").unwrap_err();
        assert!(e.contains("not an earlier pivot"), "{e}");
        let e = parse("[[pivot]]\nid = \"a\"\nquery = \"q\"\neach = \"bc\"\n").unwrap_err();
        assert!(e.contains("PIVOT.COLUMN"), "{e}");
        let e = parse("[[pivot]]\nid = \"a\"\nquery = \"q\"\nqeury = 1\n").unwrap_err();
        assert!(e.contains("unknown key `qeury`"), "{e}");
        let e = parse("pivot = 3\n").unwrap_err();
        assert!(e.contains("array of tables"), "{e}");
        let e = parse("[[pivot]]\nid = \"a b\"\nquery = \"q\"\n").unwrap_err();
        assert!(e.contains("non-empty word"), "{e}");
    }
}
