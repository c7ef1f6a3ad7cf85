//! ES|QL's two pattern languages: `LIKE` wildcards (`*`, `?`, `\` escapes; whole value) map
//! onto SQL LIKE so DataFusion can run them natively; `RLIKE` is Lucene's regular
//! expression syntax (always anchored, no `^`/`$`), translated to the `regex` crate.

use crate::udf::Failure;

/// `*` → `%`, `?` → `_`, `\x` → literal x; SQL's own `%`/`_`/`\` are escaped.
pub fn wildcard_to_sql_like(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 4);
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '\\' => match chars.next() {
                Some(n) => push_literal(&mut out, n),
                None => push_literal(&mut out, '\\'),
            },
            c => push_literal(&mut out, c),
        }
    }
    out
}

/// The same wildcards as an anchored regex, for patterns only known per row.
pub fn wildcard_to_regex(p: &str) -> String {
    let mut out = String::from("(?s)^");
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '\\' => out.push_str(&regex::escape(&chars.next().unwrap_or('\\').to_string())),
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    out
}

fn push_literal(out: &mut String, c: char) {
    if matches!(c, '%' | '_' | '\\') {
        out.push('\\');
    }
    out.push(c);
}

/// Translates a Lucene regexp (with Elasticsearch's default flags) into an anchored Rust
/// regex. Operators Rust's engine cannot express (`~` complement, `&` intersection,
/// `<n-m>` intervals) are reported instead of being misread.
pub fn lucene_to_regex(p: &str) -> Result<String, Failure> {
    let mut out = String::from("^(?:");
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    out.push(']');
                }
                '\\' if i + 1 < chars.len() => {
                    i += 1;
                    out.push_str(&regex::escape(&chars[i].to_string()));
                }
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
            i += 1;
            continue;
        }
        match c {
            '\\' => {
                i += 1;
                let n = chars
                    .get(i)
                    .copied()
                    .ok_or("invalid regex: trailing backslash")?;
                out.push_str(&regex::escape(&n.to_string()));
            }
            '"' => {
                // A quoted literal string.
                let end = chars[i + 1..]
                    .iter()
                    .position(|&x| x == '"')
                    .ok_or("invalid regex: unterminated quote")?;
                let lit: String = chars[i + 1..i + 1 + end].iter().collect();
                out.push_str(&regex::escape(&lit));
                i += end + 1;
            }
            '[' => {
                in_class = true;
                out.push('[');
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
            }
            '@' => out.push_str("(?s:.*)"),
            '#' => out.push_str("[^\\s\\S]"),
            '.' => out.push_str("(?s:.)"),
            '~' | '&' => {
                return Err(
                    format!("RLIKE operator [{c}] is not supported yet by trailhunt").into(),
                )
            }
            '<' => {
                return Err(
                    "RLIKE numeric intervals <n-m> are not supported yet by trailhunt".into(),
                )
            }
            '^' | '$' => out.push_str(&regex::escape(&c.to_string())),
            '*' | '+' | '?' | '{' | '}' | '|' | '(' | ')' | ',' => out.push(c),
            c if c.is_ascii_digit() => out.push(c),
            c => out.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    if in_class {
        return Err("invalid regex: unterminated character class".into());
    }
    out.push_str(")$");
    regex::Regex::new(&out).map_err(|e| format!("invalid regex [{p}]: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert_eq!(wildcard_to_sql_like("Delete*"), "Delete%");
        assert_eq!(wildcard_to_sql_like("a?c_%"), "a_c\\_\\%");
        assert_eq!(wildcard_to_sql_like("foo\\*"), "foo*");
        assert_eq!(wildcard_to_sql_like("C:\\\\*"), "C:\\\\%");
    }

    #[test]
    fn wildcards_as_regex() {
        let m = |p: &str, s: &str| {
            regex::Regex::new(&wildcard_to_regex(p))
                .unwrap()
                .is_match(s)
        };
        assert!(m("Eber*", "Eberhardt"));
        assert!(!m("Eber*", "xEberhardt"));
        assert!(m("a?c.", "abc."));
        assert!(!m("a?c.", "abcd"));
        assert!(m("foo\\*", "foo*"));
        assert!(!m("foo\\*", "foox"));
    }

    #[test]
    fn lucene() {
        let m = |p: &str, s: &str| {
            regex::Regex::new(&lucene_to_regex(p).unwrap())
                .unwrap()
                .is_match(s)
        };
        assert!(m("Delete.*", "DeleteTrail"));
        assert!(!m("Delete", "DeleteTrail"));
        assert!(m("(Stop|Delete)Logging", "StopLogging"));
        assert!(m("a[bc]+d", "abccd"));
        assert!(m("@", "anything"));
        assert!(!m("#", ""));
        assert!(m("\"a.b\"", "a.b"));
        assert!(!m("\"a.b\"", "axb"));
        assert!(m("1\\.2", "1.2"));
        assert!(lucene_to_regex("a~b").is_err());
    }
}
