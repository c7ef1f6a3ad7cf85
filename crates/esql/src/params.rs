//! Query parameters (esql-spec §2.6): the values a caller supplies for `?`, `?1` and
//! `?name` placeholders, and `??name` identifiers. The parser binds them while parsing, as
//! ES does, so the rest of the pipeline only ever sees literals and column names.

use crate::ast::Literal;

/// Why a command-line parameter spec ([`Params::add_spec`]) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    /// `N=VALUE` whose `N` is not a usable position (too large).
    InvalidPosition(String),
    /// `N=VALUE` given when the next position is another one.
    OutOfOrder { position: usize, next: usize },
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamError::InvalidPosition(k) => write!(f, "invalid parameter position [{k}]"),
            ParamError::OutOfOrder { position, next } => write!(
                f,
                "parameter position [{position}] out of order: the next position is [{next}]"
            ),
        }
    }
}

impl std::error::Error for ParamError {}

/// What a placeholder stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A constant (`?`, `?1`, `?name`).
    Value(Literal),
    /// A field or function name (`??name`, or ES's older `{"identifier": "x"}` form).
    Identifier(String),
}

/// The parameters of one query, in the order given. Anonymous `?` take them in order of
/// appearance, `?N` by 1-based position, `?name` by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    entries: Vec<(Option<String>, ParamValue)>,
}

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds an unnamed parameter (for `?` and `?N`).
    pub fn push(&mut self, value: ParamValue) {
        self.entries.push((None, value));
    }

    /// Adds a named parameter; a later value for the same name wins.
    pub fn push_named(&mut self, name: impl Into<String>, value: ParamValue) {
        let name = name.into();
        self.entries
            .retain(|(n, _)| n.as_deref() != Some(name.as_str()));
        self.entries.push((Some(name), value));
    }

    /// The parameter at a 1-based position.
    pub fn at(&self, position: usize) -> Option<&ParamValue> {
        position
            .checked_sub(1)
            .and_then(|i| self.entries.get(i))
            .map(|(_, v)| v)
    }

    pub fn named(&self, name: &str) -> Option<&ParamValue> {
        self.entries
            .iter()
            .find(|(n, _)| n.as_deref() == Some(name))
            .map(|(_, v)| v)
    }

    pub fn names(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter_map(|(n, _)| n.as_deref())
            .collect()
    }

    /// Parses `NAME=VALUE` (a named parameter), `N=VALUE` (position N) or a bare `VALUE`
    /// (the next position), as a command line gives them. See [`ParamValue::from_text`].
    pub fn add_spec(&mut self, spec: &str) -> Result<(), ParamError> {
        let (key, value) = match spec.split_once('=') {
            Some((k, v)) if is_param_name(k) || is_position(k) => (Some(k), v),
            _ => (None, spec),
        };
        let value = ParamValue::from_text(value);
        match key {
            Some(k) if is_position(k) => {
                let n: usize = k
                    .parse()
                    .map_err(|_| ParamError::InvalidPosition(k.to_string()))?;
                if n != self.entries.len() + 1 {
                    return Err(ParamError::OutOfOrder {
                        position: n,
                        next: self.entries.len() + 1,
                    });
                }
                self.push(value);
            }
            Some(k) => self.push_named(k, value),
            None => self.push(value),
        }
        Ok(())
    }
}

impl ParamValue {
    /// A value as written on a command line: JSON numbers, `true`, `false`, `null` and
    /// `"quoted strings"` keep their JSON meaning; anything else is a keyword as is.
    /// Integers take the narrowest ES type that holds them, as ES types JSON params.
    pub fn from_text(s: &str) -> ParamValue {
        let t = s.trim();
        let lit = match t {
            "null" => Literal::Null,
            "true" => Literal::Bool(true),
            "false" => Literal::Bool(false),
            _ if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') => {
                match unquote(&t[1..t.len() - 1]) {
                    Some(v) => Literal::Keyword(v),
                    None => Literal::Keyword(s.to_string()),
                }
            }
            _ if !is_json_number(t) => Literal::Keyword(s.to_string()),
            _ => {
                if let Ok(i) = t.parse::<i32>() {
                    Literal::Integer(i)
                } else if let Ok(l) = t.parse::<i64>() {
                    Literal::Long(l)
                } else if let Ok(u) = t.parse::<u64>() {
                    Literal::UnsignedLong(u)
                } else {
                    match t.parse::<f64>() {
                        Ok(d) => Literal::Double(d),
                        Err(_) => Literal::Keyword(s.to_string()),
                    }
                }
            }
        };
        ParamValue::Value(lit)
    }
}

/// `name` in `?name`: a letter or `_`, then letters, digits or `_`.
pub fn is_param_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_position(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// JSON's number grammar (so `inf`, `NaN` or `1e` stay strings).
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if b.first() == Some(&b'-') {
        i += 1;
    }
    if b.get(i) == Some(&b'0') {
        i += 1;
    } else if !digits(&mut i) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// The body of a JSON string literal, escapes resolved; `None` if malformed.
fn unquote(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut cs = body.chars();
    while let Some(c) = cs.next() {
        match c {
            '"' => return None,
            '\\' => out.push(match cs.next()? {
                '"' => '"',
                '\\' => '\\',
                '/' => '/',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => {
                    let hex: String = cs.by_ref().take(4).collect();
                    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                }
                _ => return None,
            }),
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Literal {
        match ParamValue::from_text(s) {
            ParamValue::Value(l) => l,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn values_take_their_json_meaning() {
        assert_eq!(lit("5"), Literal::Integer(5));
        assert_eq!(lit("5000000000"), Literal::Long(5_000_000_000));
        assert_eq!(lit("1.5"), Literal::Double(1.5));
        assert_eq!(lit("true"), Literal::Bool(true));
        assert_eq!(lit("null"), Literal::Null);
        assert_eq!(lit("\"5\""), Literal::Keyword("5".into()));
        assert_eq!(lit("ConsoleLogin"), Literal::Keyword("ConsoleLogin".into()));
        assert_eq!(lit("NaN"), Literal::Keyword("NaN".into()));
        assert_eq!(lit("1e3"), Literal::Double(1000.0));
        assert_eq!(lit("01"), Literal::Keyword("01".into()));
        assert_eq!(lit(r#""a\"b""#), Literal::Keyword("a\"b".into()));
    }

    #[test]
    fn specs_are_named_positional_or_next() {
        let mut p = Params::new();
        p.add_spec("action=ConsoleLogin").unwrap();
        assert_eq!(
            p.add_spec("1=x"),
            Err(ParamError::OutOfOrder {
                position: 1,
                next: 2
            })
        );
        assert_eq!(
            p.add_spec("1=x").unwrap_err().to_string(),
            "parameter position [1] out of order: the next position is [2]"
        );
        assert_eq!(
            p.add_spec("99999999999999999999=x")
                .unwrap_err()
                .to_string(),
            "invalid parameter position [99999999999999999999]"
        );
        p.add_spec("2=7").unwrap();
        p.add_spec("a b=c").unwrap();
        assert_eq!(
            p.named("action"),
            Some(&ParamValue::Value(Literal::Keyword("ConsoleLogin".into())))
        );
        assert_eq!(p.at(2), Some(&ParamValue::Value(Literal::Integer(7))));
        assert_eq!(
            p.at(3),
            Some(&ParamValue::Value(Literal::Keyword("a b=c".into())))
        );
    }
}
