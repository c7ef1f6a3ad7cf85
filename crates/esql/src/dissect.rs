//! DISSECT patterns (esql-spec §8.9), as Elasticsearch's dissect processor reads them:
//! literal delimiters between `%{key}`s, matched left to right without regexes. Keys:
//! `%{name}`, skip `%{?name}` / `%{}`, append `%{+name}` / `%{+name/N}`, right padding
//! `%{name->}`. Reference keys (`%{*k}` / `%{&k}`) are not supported by ES|QL.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    Normal,
    Skip,
    Append { order: Option<u32> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub kind: KeyKind,
    /// `->`: repeated delimiter characters after the value are absorbed.
    pub right_pad: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DissectPattern {
    /// The pattern as written.
    pub source: String,
    /// Literal text before the first key (must match the start of the value).
    pub prefix: String,
    /// Each key with the delimiter that follows it ("" for the last key: rest of input).
    pub keys: Vec<(Key, String)>,
}

/// A DISSECT or GROK pattern that cannot be compiled; the message is Elasticsearch's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatternError {}

impl DissectPattern {
    pub fn parse(pattern: &str) -> Result<DissectPattern, PatternError> {
        Self::compile(pattern).map_err(PatternError)
    }

    fn compile(pattern: &str) -> Result<DissectPattern, String> {
        let mut rest = pattern;
        let Some(first) = rest.find("%{") else {
            return Err(format!("Invalid pattern [{pattern}] for dissect: no keys"));
        };
        let prefix = rest[..first].to_string();
        rest = &rest[first..];
        let mut keys = vec![];
        while let Some(body) = rest.strip_prefix("%{") {
            let close = body
                .find('}')
                .ok_or_else(|| format!("Invalid pattern [{pattern}] for dissect: unclosed key"))?;
            let key = parse_key(&body[..close], pattern)?;
            rest = &body[close + 1..];
            let next = rest.find("%{").unwrap_or(rest.len());
            let delimiter = rest[..next].to_string();
            if delimiter.is_empty() && next < rest.len() {
                return Err(format!(
                    "Invalid pattern [{pattern}] for dissect: keys must be separated by delimiters"
                ));
            }
            rest = &rest[next..];
            keys.push((key, delimiter));
        }
        if keys.iter().all(|(k, _)| k.kind == KeyKind::Skip) {
            return Err(format!(
                "Invalid pattern [{pattern}] for dissect: no named keys"
            ));
        }
        Ok(DissectPattern {
            source: pattern.to_string(),
            prefix,
            keys,
        })
    }

    /// The output columns in pattern order (skips excluded, appends once).
    pub fn output_names(&self) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        for (k, _) in &self.keys {
            if k.kind != KeyKind::Skip && !out.contains(&k.name) {
                out.push(k.name.clone());
            }
        }
        out
    }

    /// Matches one value; `None` when the value does not fit the pattern.
    pub fn apply(&self, input: &str, append_separator: &str) -> Option<Vec<(String, String)>> {
        let mut rest = input.strip_prefix(self.prefix.as_str())?;
        let mut captured: Vec<(&Key, String)> = vec![];
        for (i, (key, delim)) in self.keys.iter().enumerate() {
            let last = i + 1 == self.keys.len();
            let value;
            if delim.is_empty() {
                // Only the last key may lack a following delimiter: it takes the rest.
                value = rest.to_string();
                rest = "";
            } else {
                let at = rest.find(delim.as_str())?;
                value = rest[..at].to_string();
                rest = &rest[at + delim.len()..];
                if key.right_pad {
                    while let Some(r) = rest.strip_prefix(delim.as_str()) {
                        rest = r;
                    }
                }
                if last && !rest.is_empty() {
                    // A trailing delimiter must end the value.
                    return None;
                }
            }
            captured.push((key, value));
        }
        let mut out: Vec<(String, String)> = vec![];
        let mut appends: Vec<(String, u32, usize, String)> = vec![];
        for (idx, (key, value)) in captured.into_iter().enumerate() {
            match &key.kind {
                KeyKind::Skip => {}
                KeyKind::Normal => match out.iter_mut().find(|(n, _)| n == &key.name) {
                    Some(slot) => slot.1 = value,
                    None => out.push((key.name.clone(), value)),
                },
                KeyKind::Append { order } => {
                    if !out.iter().any(|(n, _)| n == &key.name) {
                        out.push((key.name.clone(), String::new()));
                    }
                    appends.push((key.name.clone(), order.unwrap_or(u32::MAX), idx, value));
                }
            }
        }
        appends.sort_by_key(|a| (a.1, a.2));
        for (name, ..) in appends
            .iter()
            .map(|a| (a.0.clone(), ()))
            .collect::<Vec<_>>()
        {
            let joined: Vec<&str> = appends
                .iter()
                .filter(|a| a.0 == name)
                .map(|a| a.3.as_str())
                .collect();
            if let Some(slot) = out.iter_mut().find(|(n, _)| n == &name) {
                slot.1 = joined.join(append_separator);
            }
        }
        Some(out)
    }
}

fn parse_key(raw: &str, pattern: &str) -> Result<Key, String> {
    let (raw, right_pad) = match raw.strip_suffix("->") {
        Some(r) => (r, true),
        None => (raw, false),
    };
    if raw.is_empty() {
        return Ok(Key {
            name: String::new(),
            kind: KeyKind::Skip,
            right_pad,
        });
    }
    if let Some(name) = raw.strip_prefix('?') {
        return Ok(Key {
            name: name.to_string(),
            kind: KeyKind::Skip,
            right_pad,
        });
    }
    if raw.starts_with('*') || raw.starts_with('&') {
        return Err(format!(
            "Reference keys not supported in dissect patterns: [{raw}]"
        ));
    }
    if let Some(name) = raw.strip_prefix('+') {
        let (name, order) = match name.split_once('/') {
            Some((n, o)) => (
                n,
                Some(o.parse::<u32>().map_err(|_| {
                    format!("Invalid pattern [{pattern}] for dissect: bad append order [{o}]")
                })?),
            ),
            None => (name, None),
        };
        return Ok(Key {
            name: name.to_string(),
            kind: KeyKind::Append { order },
            right_pad,
        });
    }
    Ok(Key {
        name: raw.to_string(),
        kind: KeyKind::Normal,
        right_pad,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: &str, s: &str, sep: &str) -> Option<Vec<(String, String)>> {
        DissectPattern::parse(p).unwrap().apply(s, sep)
    }

    fn pairs(v: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    }

    #[test]
    fn basic_and_no_match() {
        assert_eq!(
            run("%{b} %{c}", "foo bar", ""),
            pairs(&[("b", "foo"), ("c", "bar")])
        );
        assert_eq!(run("%{b} %{c} baz", "foo bar", ""), None);
        assert_eq!(
            run(
                "%{Y}-%{M}-%{D}T%{h}:%{m}:%{s}Z - %{msg} - %{ip};",
                "1953-01-23T12:15:00Z - some text - 127.0.0.1;",
                ""
            ),
            pairs(&[
                ("Y", "1953"),
                ("M", "01"),
                ("D", "23"),
                ("h", "12"),
                ("m", "15"),
                ("s", "00"),
                ("msg", "some text"),
                ("ip", "127.0.0.1")
            ])
        );
    }

    #[test]
    fn append_skip_padding() {
        assert_eq!(
            run("%{+b} %{c} %{+b} %{d} %{+b}", "foo 1 bar 2 baz", ""),
            pairs(&[("b", "foobarbaz"), ("c", "1"), ("d", "2")])
        );
        assert_eq!(
            run("%{+b/3} %{c} %{+b/2} %{d} %{+b/1}", "foo 1 bar 2 baz", ""),
            pairs(&[("b", "bazbarfoo"), ("c", "1"), ("d", "2")])
        );
        assert_eq!(
            run("%{+b} %{c} %{+b} %{d} %{+b}", "foo 1 bar 2 baz", ","),
            pairs(&[("b", "foo,bar,baz"), ("c", "1"), ("d", "2")])
        );
        assert_eq!(
            run("%{b} %{?c} %{d}", "foo bar baz", ""),
            pairs(&[("b", "foo"), ("d", "baz")])
        );
        assert_eq!(
            run("%{b->} %{c}", "foo           bar", ""),
            pairs(&[("b", "foo"), ("c", "bar")])
        );
        assert_eq!(
            DissectPattern::parse("%{b} %{?c} %{d}")
                .unwrap()
                .output_names(),
            ["b", "d"]
        );
    }

    #[test]
    fn java_map_strings() {
        // The shape of the integration's request_parameters strings.
        let p = "{%{?policyArn}=%{policy}, %{?roleName}=%{role}}";
        assert_eq!(
            run(p, "{policyArn=arn:aws:iam::1:policy/x, roleName=admin}", ""),
            pairs(&[("policy", "arn:aws:iam::1:policy/x"), ("role", "admin")])
        );
    }
}
