//! GROK patterns (esql-spec §8.10): `%{SYNTAX:name[:type]}` over a library of named
//! regular expressions, plus inline `(?<name>…)` groups. This module expands a pattern into
//! one regex (Oniguruma syntax, as ES uses Joni; the engine runs it with a backtracking
//! engine that supports the same lookarounds and atomic groups) and lists the output
//! fields. The library below holds the standard core patterns, written out here.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The core grok library: the patterns hunts and logs use (numbers, words, network
/// addresses, paths, URIs, dates, log levels, e-mail, quoted strings).
const LIBRARY: &[(&str, &str)] = &[
    ("USERNAME", r"[a-zA-Z0-9._-]+"),
    ("USER", r"%{USERNAME}"),
    (
        "EMAILLOCALPART",
        r"[a-zA-Z0-9!#$%&'*+\-/=?^_`{|}~]{1,64}(?:\.[a-zA-Z0-9!#$%&'*+\-/=?^_`{|}~]{1,62}){0,63}",
    ),
    ("EMAILADDRESS", r"%{EMAILLOCALPART}@%{HOSTNAME}"),
    ("INT", r"(?:[+-]?(?:[0-9]+))"),
    (
        "BASE10NUM",
        r"(?<![0-9.+-])(?>[+-]?(?:(?:[0-9]+(?:\.[0-9]+)?)|(?:\.[0-9]+)))",
    ),
    ("NUMBER", r"(?:%{BASE10NUM})"),
    (
        "BASE16NUM",
        r"(?<![0-9A-Fa-f])(?:[+-]?(?:0x)?(?:[0-9A-Fa-f]+))",
    ),
    (
        "BASE16FLOAT",
        r"\b(?<![0-9A-Fa-f.])(?:[+-]?(?:0x)?(?:(?:[0-9A-Fa-f]+(?:\.[0-9A-Fa-f]*)?)|(?:\.[0-9A-Fa-f]+)))\b",
    ),
    ("POSINT", r"\b(?:[1-9][0-9]*)\b"),
    ("NONNEGINT", r"\b(?:[0-9]+)\b"),
    ("WORD", r"\b\w+\b"),
    ("NOTSPACE", r"\S+"),
    ("SPACE", r"\s*"),
    ("DATA", r".*?"),
    ("GREEDYDATA", r".*"),
    (
        "QUOTEDSTRING",
        r#"(?>(?<!\\)(?>"(?>\\.|[^\\"]+)+"|""|(?>'(?>\\.|[^\\']+)+')|''|(?>`(?>\\.|[^\\`]+)+`)|``))"#,
    ),
    ("QS", r"%{QUOTEDSTRING}"),
    (
        "UUID",
        r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
    ),
    (
        "URN",
        r"urn:[0-9A-Za-z][0-9A-Za-z-]{0,31}:(?:%[0-9a-fA-F]{2}|[0-9A-Za-z()+,.:=@;$_!*'/?#-])+",
    ),
    ("MAC", r"(?:%{CISCOMAC}|%{WINDOWSMAC}|%{COMMONMAC})"),
    ("CISCOMAC", r"(?:(?:[A-Fa-f0-9]{4}\.){2}[A-Fa-f0-9]{4})"),
    ("WINDOWSMAC", r"(?:(?:[A-Fa-f0-9]{2}-){5}[A-Fa-f0-9]{2})"),
    ("COMMONMAC", r"(?:(?:[A-Fa-f0-9]{2}:){5}[A-Fa-f0-9]{2})"),
    (
        "IPV6",
        r"((([0-9A-Fa-f]{1,4}:){7}([0-9A-Fa-f]{1,4}|:))|(([0-9A-Fa-f]{1,4}:){6}(:[0-9A-Fa-f]{1,4}|((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})|:))|(([0-9A-Fa-f]{1,4}:){5}(((:[0-9A-Fa-f]{1,4}){1,2})|:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})|:))|(([0-9A-Fa-f]{1,4}:){4}(((:[0-9A-Fa-f]{1,4}){1,3})|((:[0-9A-Fa-f]{1,4})?:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9A-Fa-f]{1,4}:){3}(((:[0-9A-Fa-f]{1,4}){1,4})|((:[0-9A-Fa-f]{1,4}){0,2}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9A-Fa-f]{1,4}:){2}(((:[0-9A-Fa-f]{1,4}){1,5})|((:[0-9A-Fa-f]{1,4}){0,3}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9A-Fa-f]{1,4}:){1}(((:[0-9A-Fa-f]{1,4}){1,6})|((:[0-9A-Fa-f]{1,4}){0,4}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(:(((:[0-9A-Fa-f]{1,4}){1,7})|((:[0-9A-Fa-f]{1,4}){0,5}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:)))(%.+)?",
    ),
    (
        "IPV4",
        r"(?<![0-9])(?:(?:[0-1]?[0-9]{1,2}|2[0-4][0-9]|25[0-5])[.](?:[0-1]?[0-9]{1,2}|2[0-4][0-9]|25[0-5])[.](?:[0-1]?[0-9]{1,2}|2[0-4][0-9]|25[0-5])[.](?:[0-1]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]))(?![0-9])",
    ),
    ("IP", r"(?:%{IPV6}|%{IPV4})"),
    (
        "HOSTNAME",
        r"\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*(\.?|\b)",
    ),
    ("IPORHOST", r"(?:%{IP}|%{HOSTNAME})"),
    ("HOSTPORT", r"%{IPORHOST}:%{POSINT}"),
    ("PATH", r"(?:%{UNIXPATH}|%{WINPATH})"),
    ("UNIXPATH", r"(/([\w_%!$@:.,+~-]+|\\.)*)+"),
    ("TTY", r"(?:/dev/(pts|tty([pq])?)(\w+)?/?(?:[0-9]+))"),
    ("WINPATH", r"(?>[A-Za-z]+:|\\)(?:\\[^\\?*]*)+"),
    ("URIPROTO", r"[A-Za-z]([A-Za-z0-9+\-.]+)+"),
    ("URIHOST", r"%{IPORHOST}(?::%{POSINT})?"),
    ("URIPATH", r"(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\-]*)+"),
    ("URIPARAM", r"\?[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\-\[\]<>]*"),
    ("URIPATHPARAM", r"%{URIPATH}(?:%{URIPARAM})?"),
    (
        "URI",
        r"%{URIPROTO}://(?:%{USER}(?::[^@]*)?@)?(?:%{URIHOST})?(?:%{URIPATHPARAM})?",
    ),
    (
        "MONTH",
        r"\b(?:[Jj]an(?:uary|uar)?|[Ff]eb(?:ruary|ruar)?|[Mm](?:a|ä)?r(?:ch|z)?|[Aa]pr(?:il)?|[Mm]a(?:y|i)?|[Jj]un(?:e|i)?|[Jj]ul(?:y|i)?|[Aa]ug(?:ust)?|[Ss]ep(?:tember)?|[Oo](?:c|k)?t(?:ober)?|[Nn]ov(?:ember)?|[Dd]e(?:c|z)(?:ember)?)\b",
    ),
    ("MONTHNUM", r"(?:0?[1-9]|1[0-2])"),
    ("MONTHNUM2", r"(?:0[1-9]|1[0-2])"),
    ("MONTHDAY", r"(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])"),
    (
        "DAY",
        r"(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)",
    ),
    ("YEAR", r"(?>\d\d){1,2}"),
    ("HOUR", r"(?:2[0123]|[01]?[0-9])"),
    ("MINUTE", r"(?:[0-5][0-9])"),
    ("SECOND", r"(?:(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?)"),
    (
        "TIME",
        r"(?!<[0-9])%{HOUR}:%{MINUTE}(?::%{SECOND})(?![0-9])",
    ),
    ("DATE_US", r"%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}"),
    ("DATE_EU", r"%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}"),
    ("ISO8601_TIMEZONE", r"(?:Z|[+-]%{HOUR}(?::?%{MINUTE}))"),
    ("ISO8601_SECOND", r"(?:%{SECOND}|60)"),
    (
        "TIMESTAMP_ISO8601",
        r"%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?%{ISO8601_TIMEZONE}?",
    ),
    ("DATE", r"%{DATE_US}|%{DATE_EU}"),
    ("DATESTAMP", r"%{DATE}[- ]%{TIME}"),
    ("TZ", r"(?:[APMCE][SD]T|UTC)"),
    (
        "DATESTAMP_RFC822",
        r"%{DAY} %{MONTH} %{MONTHDAY} %{YEAR} %{TIME} %{TZ}",
    ),
    (
        "DATESTAMP_RFC2822",
        r"%{DAY}, %{MONTHDAY} %{MONTH} %{YEAR} %{TIME} %{ISO8601_TIMEZONE}",
    ),
    (
        "DATESTAMP_OTHER",
        r"%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{TZ} %{YEAR}",
    ),
    (
        "DATESTAMP_EVENTLOG",
        r"%{YEAR}%{MONTHNUM2}%{MONTHDAY}%{HOUR}%{MINUTE}%{SECOND}",
    ),
    ("HTTPDATE", r"%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}"),
    ("SYSLOGTIMESTAMP", r"%{MONTH} +%{MONTHDAY} %{TIME}"),
    ("PROG", r"[\x21-\x5a\x5c\x5e-\x7e]+"),
    ("SYSLOGPROG", r"%{PROG:program}(?:\[%{POSINT:pid}\])?"),
    ("SYSLOGHOST", r"%{IPORHOST}"),
    (
        "SYSLOGFACILITY",
        r"<%{NONNEGINT:facility}.%{NONNEGINT:priority}>",
    ),
    (
        "LOGLEVEL",
        r"([Aa]lert|ALERT|[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo?(?:rmation)?|INFO?(?:RMATION)?|[Ww]arn?(?:ing)?|WARN?(?:ING)?|[Ee]rr?(?:or)?|ERR?(?:OR)?|[Cc]rit?(?:ical)?|CRIT?(?:ICAL)?|[Ff]atal|FATAL|[Ss]evere|SEVERE|EMERG(?:ENCY)?|[Ee]merg(?:ency)?)",
    ),
];

fn library() -> &'static HashMap<&'static str, &'static str> {
    static L: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    L.get_or_init(|| LIBRARY.iter().copied().collect())
}

/// The ES|QL type a grok field converts to (`:int`, `:long`, `:float`/`:double`,
/// `:boolean`; anything else is keyword).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrokType {
    Keyword,
    Integer,
    Long,
    Double,
    Boolean,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrokPattern {
    /// The pattern as written.
    pub source: String,
    /// The expanded regex; capture group `gN` is field `fields[N]`'s occurrence.
    pub regex: String,
    /// (regex group name, output field index) for each named capture.
    pub groups: Vec<(String, usize)>,
    /// Output fields in first-appearance order, with their types.
    pub fields: Vec<(String, GrokType)>,
}

impl GrokPattern {
    pub fn parse(pattern: &str) -> Result<GrokPattern, crate::dissect::PatternError> {
        let mut out = GrokPattern {
            source: pattern.to_string(),
            regex: String::new(),
            groups: vec![],
            fields: vec![],
        };
        out.regex = expand(pattern, &mut out, 0, true).map_err(crate::dissect::PatternError)?;
        Ok(out)
    }

    fn field(&mut self, name: &str, ty: GrokType) -> String {
        let idx = match self.fields.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.fields.push((name.to_string(), ty));
                self.fields.len() - 1
            }
        };
        let group = format!("g{}", self.groups.len());
        self.groups.push((group.clone(), idx));
        group
    }
}

/// Expands `%{…}` references; only the top level names output fields (library patterns
/// such as SYSLOGPROG carry their own names, which ES|QL also outputs, so those count too).
fn expand(pattern: &str, out: &mut GrokPattern, depth: usize, top: bool) -> Result<String, String> {
    if depth > 32 {
        return Err("grok pattern nests too deeply (recursive definition?)".into());
    }
    let mut result = String::new();
    let mut rest = pattern;
    while let Some(at) = rest.find("%{") {
        result.push_str(&rewrite_named_groups(&rest[..at], out, top));
        let body = &rest[at + 2..];
        let close = body
            .find('}')
            .ok_or_else(|| format!("Invalid pattern [{pattern}] for grok: unclosed %{{"))?;
        let spec = &body[..close];
        rest = &body[close + 1..];
        let mut parts = spec.splitn(3, ':');
        let syntax = parts.next().unwrap_or_default();
        let name = parts.next();
        let ty = match parts.next() {
            Some("int") | Some("integer") => GrokType::Integer,
            Some("long") => GrokType::Long,
            Some("float") | Some("double") => GrokType::Double,
            Some("boolean") | Some("bool") => GrokType::Boolean,
            _ => GrokType::Keyword,
        };
        let def = library().get(syntax).ok_or_else(|| {
            format!("Unable to find pattern [{syntax}] in Grok's pattern dictionary")
        })?;
        let inner = expand(def, out, depth + 1, false)?;
        match name {
            Some(n) if !n.is_empty() => {
                let g = out.field(n, ty);
                result.push_str(&format!("(?<{g}>{inner})"));
            }
            _ => result.push_str(&format!("(?:{inner})")),
        }
    }
    result.push_str(&rewrite_named_groups(rest, out, top));
    Ok(result)
}

/// Inline `(?<name>…)` groups in the user's pattern become output fields; names inside
/// library definitions are not ES|QL outputs, so they become plain groups there.
fn rewrite_named_groups(text: &str, out: &mut GrokPattern, top: bool) -> String {
    let mut result = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("(?<") {
        let after = &rest[at + 3..];
        // `(?<=` and `(?<!` are lookbehinds, not names.
        if after.starts_with('=') || after.starts_with('!') {
            result.push_str(&rest[..at + 3]);
            rest = after;
            continue;
        }
        let Some(end) = after.find('>') else { break };
        let name = &after[..end];
        result.push_str(&rest[..at]);
        if top {
            let g = out.field(name, GrokType::Keyword);
            result.push_str(&format!("(?<{g}>"));
        } else {
            result.push_str("(?:");
        }
        rest = &after[end + 1..];
    }
    result.push_str(rest);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_types() {
        let p = GrokPattern::parse("%{WORD:a} %{NUMBER:b:int} %{IP:c} (?<d>[a-z]+)").unwrap();
        assert_eq!(
            p.fields,
            vec![
                ("a".to_string(), GrokType::Keyword),
                ("b".to_string(), GrokType::Integer),
                ("c".to_string(), GrokType::Keyword),
                ("d".to_string(), GrokType::Keyword)
            ]
        );
        assert_eq!(p.groups.len(), 4);
        assert!(GrokPattern::parse("%{NOPE:x}")
            .unwrap_err()
            .0
            .contains("Unable to find pattern [NOPE]"));
    }

    #[test]
    fn repeated_names_share_a_field() {
        let p = GrokPattern::parse("%{WORD:x} %{WORD:x}").unwrap();
        assert_eq!(p.fields.len(), 1);
        assert_eq!(p.groups, vec![("g0".to_string(), 0), ("g1".to_string(), 0)]);
    }
}
