//! Parsing one hunt file, with positions for every error.
//!
//! We deserialize into `Spanned` values rather than a typed struct so that
//! schema errors ("`query` must be a list of strings") can point at the
//! offending value, not just at the file.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::{Spanned, Value};

use crate::{Hunt, HuntError, Kind, Origin, Rule};

type RawTable = Spanned<BTreeMap<String, Spanned<Value>>>;

#[derive(Deserialize)]
struct RawDoc {
    hunt: Option<RawTable>,
    rule: Option<RawTable>,
    metadata: Option<RawTable>,
}

/// Parses a hunt (`[hunt]`) or an Elastic detection rule (`[rule]`, with its
/// `[metadata]`): what `--hunts DIR` and `trailhunt hunt FILE` accept.
pub fn parse_file(text: &str, origin: Origin, stem: &str) -> Result<Hunt, HuntError> {
    let (cx, doc) = read_doc(text, &origin, stem)?;
    match (doc.hunt, doc.rule) {
        (Some(table), _) => hunt_from(&cx, table, origin, stem),
        (None, Some(rule)) => rule_from(&cx, rule, doc.metadata, origin, stem),
        (None, None) => Err(cx.err(
            0,
            "neither a [hunt] nor a [rule] table: not a hunt or rule file".into(),
        )),
    }
}

/// Parses the text of a hunt file.
///
/// `stem` is the file name without `.toml` (it is not stored in the file);
/// `origin` is used both for the result and to name the file in errors.
pub fn parse_hunt(text: &str, origin: Origin, stem: &str) -> Result<Hunt, HuntError> {
    let (cx, doc) = read_doc(text, &origin, stem)?;
    let Some(table) = doc.hunt else {
        return Err(cx.err(0, "no [hunt] table: not a hunt file".into()));
    };
    hunt_from(&cx, table, origin, stem)
}

fn read_doc<'t>(text: &'t str, origin: &Origin, stem: &str) -> Result<(Cx<'t>, RawDoc), HuntError> {
    let file = match origin {
        Origin::BuiltIn => format!("<built-in>/{stem}.toml"),
        Origin::File(p) => p.display().to_string(),
    };
    let cx = Cx { text, file };
    let doc: RawDoc = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        cx.err(at, e.message().trim_end().to_string())
    })?;
    Ok((cx, doc))
}

fn hunt_from(cx: &Cx, table: RawTable, origin: Origin, stem: &str) -> Result<Hunt, HuntError> {
    let at = table.span().start;
    let t = Table {
        cx,
        map: table.into_inner(),
        at,
    };

    let queries = t.string_list("query", true, false)?;
    if queries.is_empty() {
        return Err(t.error_at("query", "`query` must hold at least one query string"));
    }
    let uuid = t.string("uuid", true)?;
    if uuid.trim().is_empty() {
        return Err(t.error_at("uuid", "`uuid` is empty"));
    }
    let name = t.string("name", true)?;
    if name.trim().is_empty() {
        return Err(t.error_at("name", "`name` is empty"));
    }

    let pivots = match t.map.get("pivot") {
        None => Vec::new(),
        Some(v) => {
            crate::pivot::parse_pivots(v.get_ref()).map_err(|m| cx.err(v.span().start, m))?
        }
    };

    Ok(Hunt {
        uuid,
        name,
        stem: stem.to_string(),
        description: t.string("description", false)?,
        author: t.string("author", false)?,
        integration: t.string_list("integration", false, true)?,
        language: t.string_list("language", false, true)?,
        license: t.string("license", false)?,
        notes: t.string_list("notes", false, true)?,
        mitre: t.string_list("mitre", false, true)?,
        references: t.string_list("references", false, true)?,
        queries,
        origin,
        kind: Kind::Hunt,
        pivots,
    })
}

/// An Elastic detection rule as a one-query [`Hunt`] (`uuid` = `rule_id`).
///
/// The rule schema is far larger than what is read here (exceptions, actions, …);
/// only what running, replaying and reporting need is kept, and other keys are ignored.
fn rule_from(
    cx: &Cx,
    table: RawTable,
    metadata: Option<RawTable>,
    origin: Origin,
    stem: &str,
) -> Result<Hunt, HuntError> {
    let at = table.span().start;
    let t = Table {
        cx,
        map: table.into_inner(),
        at,
    };
    let rule_id = t.string("rule_id", true)?;
    let name = t.string("name", true)?;
    if name.trim().is_empty() {
        return Err(t.error_at("name", "`name` is empty"));
    }
    let language = t.string("language", false)?;
    // ML and threshold rules have no query; they cannot run here but still list.
    let query = t.string("query", false)?;
    let integration = match metadata {
        Some(m) => {
            let at = m.span().start;
            Table {
                cx,
                map: m.into_inner(),
                at,
            }
            .string_list("integration", false, true)?
        }
        None => Vec::new(),
    };
    let risk_score = match t.map.get("risk_score").map(|v| v.get_ref()) {
        None => None,
        Some(Value::Integer(i)) => Some(*i),
        Some(other) => {
            return Err(t.error_at(
                "risk_score",
                &format!(
                    "`risk_score` must be an integer, found {}",
                    other.type_str()
                ),
            ))
        }
    };
    let max_signals = match t.map.get("max_signals").map(|v| v.get_ref()) {
        None => 100,
        Some(Value::Integer(i)) if (1..=i64::from(u32::MAX)).contains(i) => *i as u32,
        Some(_) => {
            return Err(t.error_at("max_signals", "`max_signals` must be a positive integer"))
        }
    };
    let techniques = t
        .map
        .get("threat")
        .map(|v| threat_techniques(v.get_ref()))
        .unwrap_or_default();
    let mitre = techniques.iter().map(|(id, _)| id.clone()).collect();
    let or_default = |s: String, d: &str| {
        if s.trim().is_empty() {
            d.to_string()
        } else {
            s
        }
    };
    let note = t.string("note", false)?;
    let rule = Rule {
        rule_id: rule_id.clone(),
        severity: t.string("severity", false)?,
        risk_score,
        interval: or_default(t.string("interval", false)?, "5m"),
        from: or_default(t.string("from", false)?, "now-6m"),
        max_signals,
        timestamp_override: Some(t.string("timestamp_override", false)?).filter(|s| !s.is_empty()),
        techniques,
        building_block: t.map.contains_key("building_block_type"),
        tags: t.string_list("tags", false, true)?,
    };
    Ok(Hunt {
        uuid: rule_id,
        name,
        stem: stem.to_string(),
        description: t.string("description", false)?,
        author: t.string_list("author", false, true)?.join(", "),
        integration,
        language: if language.is_empty() {
            vec![]
        } else {
            vec![language]
        },
        license: t.string("license", false)?,
        notes: if note.is_empty() { vec![] } else { vec![note] },
        mitre,
        references: t.string_list("references", false, true)?,
        queries: if query.is_empty() {
            vec![]
        } else {
            vec![query]
        },
        origin,
        kind: Kind::Rule(rule),
        pivots: Vec::new(),
    })
}

/// `[[rule.threat]]` → the techniques, sub-techniques in place of their parent when
/// given (`T1078.004` rather than `T1078`), in file order, each once.
fn threat_techniques(threat: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |t: &Value| {
        let id = t.get("id").and_then(Value::as_str).unwrap_or_default();
        let name = t.get("name").and_then(Value::as_str).unwrap_or_default();
        if !id.is_empty() && !out.iter().any(|(i, _)| i == id) {
            out.push((id.to_string(), name.to_string()));
        }
    };
    for entry in threat.as_array().into_iter().flatten() {
        for tech in entry
            .get("technique")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match tech.get("subtechnique").and_then(Value::as_array) {
                Some(subs) if !subs.is_empty() => subs.iter().for_each(&mut push),
                _ => push(tech),
            }
        }
    }
    out
}

/// Error context: the file name and text, to turn byte offsets into line:col.
struct Cx<'a> {
    text: &'a str,
    file: String,
}

impl Cx<'_> {
    fn err(&self, offset: usize, message: String) -> HuntError {
        let (line, column) = line_col(self.text, offset);
        HuntError::Invalid {
            file: self.file.clone(),
            line,
            column,
            message,
        }
    }
}

/// 1-based line and character column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

struct Table<'a> {
    cx: &'a Cx<'a>,
    map: BTreeMap<String, Spanned<Value>>,
    /// Offset of the `[hunt]` table, for "missing key" errors.
    at: usize,
}

impl Table<'_> {
    fn span(&self, key: &str) -> Range<usize> {
        self.map.get(key).map_or(self.at..self.at, |v| v.span())
    }

    fn error_at(&self, key: &str, message: &str) -> HuntError {
        self.cx.err(self.span(key).start, message.to_string())
    }

    fn missing(&self, key: &str) -> HuntError {
        self.cx.err(
            self.at,
            format!("[hunt] is missing the required key `{key}`"),
        )
    }

    /// A string value; absent optional keys become "".
    fn string(&self, key: &str, required: bool) -> Result<String, HuntError> {
        match self.map.get(key) {
            None if required => Err(self.missing(key)),
            None => Ok(String::new()),
            Some(v) => match v.get_ref() {
                Value::String(s) => Ok(s.clone()),
                other => Err(self.cx.err(
                    v.span().start,
                    format!("`{key}` must be a string, found {}", other.type_str()),
                )),
            },
        }
    }

    /// A list of strings. `lenient` also accepts a bare string (upstream's
    /// dataclass does not check types, and its own tests pass plain strings
    /// for `integration`/`language`).
    fn string_list(
        &self,
        key: &str,
        required: bool,
        lenient: bool,
    ) -> Result<Vec<String>, HuntError> {
        let Some(v) = self.map.get(key) else {
            return if required {
                Err(self.missing(key))
            } else {
                Ok(Vec::new())
            };
        };
        let at = v.span().start;
        match v.get_ref() {
            Value::String(s) if lenient => Ok(vec![s.clone()]),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.cx.err(
                        at,
                        format!(
                            "`{key}` must be a list of strings, but element {} is {}",
                            i + 1,
                            article(other.type_str())
                        ),
                    )),
                })
                .collect(),
            other => Err(self.cx.err(
                at,
                format!(
                    "`{key}` must be a list of strings, found {}",
                    article(other.type_str())
                ),
            )),
        }
    }
}

fn article(type_str: &str) -> String {
    let a = if type_str.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{a} {type_str}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn origin() -> Origin {
        Origin::File(PathBuf::from("hunting/aws/queries/x.toml"))
    }

    const GOOD: &str = r#"[hunt]
author = "Me"
description = "d"
integration = ["aws.cloudtrail"]
uuid = "11111111-2222-3333-4444-555555555555"
name = "X"
language = ["ES|QL"]
license = "Apache-2.0"
notes = ["a", ""]
mitre = ["T1"]
references = ["https://example.com"]
extra_key_we_ignore = 1
query = ['''
from logs-*
| keep a
''', '''from b | limit 1''']
"#;

    #[test]
    fn parses_all_fields() {
        let h = parse_hunt(GOOD, origin(), "x").unwrap();
        assert_eq!(h.stem, "x");
        assert_eq!(h.notes, ["a", ""]);
        assert_eq!(h.references, ["https://example.com"]);
        assert_eq!(h.queries, ["from logs-*\n| keep a\n", "from b | limit 1"]);
        assert_eq!(h.platform(), Some("aws"));
    }

    fn err(text: &str) -> String {
        parse_hunt(text, origin(), "x").unwrap_err().to_string()
    }

    #[test]
    fn syntax_error_names_file_and_line() {
        let e = err("[hunt]\nname = \"x\"\nuuid = \n");
        assert!(e.starts_with("hunting/aws/queries/x.toml:3:"), "{e}");
    }

    #[test]
    fn missing_uuid() {
        let text = GOOD.replace("uuid = \"11111111-2222-3333-4444-555555555555\"\n", "");
        let e = err(&text);
        assert_eq!(
            e,
            "hunting/aws/queries/x.toml:1:1: [hunt] is missing the required key `uuid`"
        );
    }

    #[test]
    fn query_not_list_of_strings() {
        let text = "[hunt]\nuuid = \"u\"\nname = \"n\"\n\nquery = [\"a\", 3]\n";
        let e = err(text);
        assert_eq!(
            e,
            "hunting/aws/queries/x.toml:5:9: `query` must be a list of strings, but element 2 is an integer"
        );
        let e = err("[hunt]\nuuid = \"u\"\nname = \"n\"\nquery = \"from x\"\n");
        assert!(
            e.contains(":4:9: `query` must be a list of strings, found a string"),
            "{e}"
        );
        let e = err("[hunt]\nuuid = \"u\"\nname = \"n\"\nquery = []\n");
        assert!(e.contains(":4:9: `query` must hold at least one"), "{e}");
    }

    #[test]
    fn wrong_scalar_type_and_no_table() {
        let e = err("[hunt]\nuuid = 7\nname = \"n\"\nquery = [\"q\"]\n");
        assert!(
            e.contains(":2:8: `uuid` must be a string, found integer"),
            "{e}"
        );
        let e = err("title = \"a rule\"\n");
        assert!(e.contains(":1:1: no [hunt] table"), "{e}");
    }

    #[test]
    fn lenient_string_for_lists() {
        let h = parse_hunt(
            "[hunt]\nuuid = \"u\"\nname = \"n\"\nlanguage = \"ES|QL\"\nquery = [\"from a\"]\n",
            origin(),
            "x",
        )
        .unwrap();
        assert_eq!(h.language, ["ES|QL"]);
        assert!(h.is_esql());
    }

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
        assert_eq!(line_col("", 5), (1, 1));
    }
}
