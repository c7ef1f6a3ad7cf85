//! `user_agent.*` for CloudTrail documents: name, version, OS and device parsed from
//! `user_agent.original` exactly as Elasticsearch's `user_agent` ingest processor does for
//! Elastic's `aws` integration, with the uap-core rules (`regexes.yaml`) the user supplies.
//!
//! Elasticsearch bundles a copy of uap-core's rules, and its values depend on that exact copy
//! (a newer uap-core names `aws-sdk-go-v2` differently; an older one leaves trailing dots in
//! Firefox versions). trailhunt ships none: the user points `--ua-regexes` at a file, or
//! `trailhunt ua update` installs uap-core at the commit Elasticsearch names
//! ([`install::COMMIT`], with the `install` feature). Without rules, no field beyond
//! `original` is written, as before.
//!
//! The processor's rules, reproduced here (see `../shared/uap/README.md` for the source
//! reading they come from):
//!
//! * each section (`user_agent_parsers`, `os_parsers`, `device_parsers`) is tried in file
//!   order with an unanchored search; the first rule whose name resolves to non-null wins;
//! * `regex_flag: 'i'` compiles case-insensitively (ASCII, as Java does), other flags are
//!   ignored;
//! * the name is the `*_replacement` with only its first `$1` replaced by group 1 (when that
//!   group took part), else group 1; version replacements are literal, else groups 2–5, and
//!   an empty group is a value, not a missing one;
//! * `name` is `Other` when no user-agent rule matched, `version` is the parts joined with
//!   `.` up to the first missing one (absent without a major), `os` only when an OS rule
//!   matched, with `version` and `full` (= name + " " + version) only with an OS major, and
//!   `device.name` is always there, `Other` when no device rule matched;
//! * the pipeline's final cleanup then drops empty strings, so a field whose value is `""`
//!   is not written (see [`Parsed::insert_into`]). Elasticsearch skips that cleanup only
//!   when a document's pipeline fails outright; such a document would keep an empty parsed
//!   value there and not here, the one known difference of running the processor as an
//!   enrichment step after the pipeline.
//!
//! The Java patterns are translated into Rust syntax with Java's semantics (`java.rs`) and
//! compiled on first use. Each also yields literals every match must contain (1187 of the
//! 1188 rules name some product or token), so a rule is compiled and run only for subjects
//! that contain them: a user agent costs a few dozen substring tests and a handful of regex
//! searches, and a run compiles only the rules its user agents come near. Results are cached
//! per distinct string: CloudTrail holds few distinct user agents, so almost every record is
//! a cache hit.

mod java;
mod rules;

#[cfg(feature = "install")]
pub mod install;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

pub use rules::Section;
use rules::{Rules, VersionedName};

/// Distinct strings whose results are kept; when full the cache starts over, which bounds
/// memory on a pathological input (every record a new string).
const CACHE_ENTRIES: usize = 16_384;

/// Why a rules file cannot be used; the message names the file (and line).
#[derive(Debug, thiserror::Error)]
pub enum UaError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}{}: {message}", path.display(), column.map(|c| format!(":{c}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: Option<usize>,
        message: String,
    },
}

/// The parsed operating system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Os {
    pub name: String,
    pub version: Option<String>,
    /// `name version`, present with `version`.
    pub full: Option<String>,
}

/// What the processor writes for one user-agent string (besides `original`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// `Other` when no rule matched.
    pub name: String,
    pub version: Option<String>,
    pub os: Option<Os>,
    /// `Other` when no rule matched.
    pub device_name: String,
}

impl Parsed {
    /// Adds the fields to a `user_agent` object, leaving out empty strings (and an `os` left
    /// empty), as the pipeline's final cleanup does.
    pub fn insert_into(&self, ua: &mut Map<String, Value>) {
        let put = |m: &mut Map<String, Value>, k: &str, v: Option<&String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                m.insert(k.to_string(), Value::String(v.clone()));
            }
        };
        put(ua, "name", Some(&self.name));
        put(ua, "version", self.version.as_ref());
        if let Some(os) = &self.os {
            let mut m = Map::new();
            put(&mut m, "name", Some(&os.name));
            put(&mut m, "version", os.version.as_ref());
            put(&mut m, "full", os.full.as_ref());
            if !m.is_empty() {
                ua.insert("os".into(), Value::Object(m));
            }
        }
        let mut device = Map::new();
        put(&mut device, "name", Some(&self.device_name));
        if !device.is_empty() {
            ua.insert("device".into(), Value::Object(device));
        }
    }

    /// The fields as a `user_agent` object with `original` (what `trailhunt ua parse`
    /// prints).
    pub fn to_object(&self, original: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("original".into(), Value::String(original.to_string()));
        self.insert_into(&mut m);
        m
    }
}

/// `major[.minor[.patch[.build]]]`, stopping at the first missing part.
fn joined(parts: &[Option<String>; 4]) -> Option<String> {
    let major = parts[0].as_ref()?;
    let mut v = major.clone();
    for p in &parts[1..] {
        match p {
            Some(p) => {
                v.push('.');
                v.push_str(p);
            }
            None => break,
        }
    }
    Some(v)
}

/// A compiled rules file and its cache; an [`cloudtrail::Enrich`] step.
pub struct UaParser {
    rules: Rules,
    path: PathBuf,
    cache: Mutex<HashMap<String, Arc<Parsed>>>,
}

impl fmt::Debug for UaParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UaParser")
            .field("path", &self.path)
            .field("rules", &self.rule_counts())
            .finish()
    }
}

/// A rule whose translated pattern does not compile (see [`UaParser::compile_all`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileFailure {
    pub section: Section,
    pub line: usize,
    pub regex: String,
    pub message: String,
}

impl UaParser {
    /// Reads and checks a rules file: YAML structure and every pattern's Java syntax.
    /// Patterns are compiled when first needed.
    pub fn open(path: &Path) -> Result<UaParser, UaError> {
        let text = std::fs::read_to_string(path).map_err(|source| UaError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        UaParser::from_yaml(&text, path)
    }

    /// [`UaParser::open`] on text already read; `path` names it in errors.
    pub fn from_yaml(text: &str, path: &Path) -> Result<UaParser, UaError> {
        let rules = Rules::parse(text).map_err(|e| UaError::Invalid {
            path: path.to_path_buf(),
            line: e.line,
            column: e.column,
            message: e.message,
        })?;
        Ok(UaParser {
            rules,
            path: path.to_path_buf(),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The file the rules were read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rules per section: user agent, OS, device.
    pub fn rule_counts(&self) -> [usize; 3] {
        Section::ALL.map(|s| self.rules.section(s).len())
    }

    /// Rules that name a literal every match contains (checked before the pattern is
    /// compiled or run), and all rules.
    pub fn rules_with_literal(&self) -> (usize, usize) {
        self.rules.with_literal()
    }

    /// Rules whose pattern matches `ua` although their required literal is absent from it —
    /// always none unless the literal derivation is wrong (tests check it on real data).
    #[doc(hidden)]
    pub fn unsound_literals(&self, ua: &str) -> Vec<usize> {
        let s = self.rules.subject(ua);
        Section::ALL
            .iter()
            .flat_map(|sec| self.rules.section(*sec))
            .filter(|r| r.literal_unsound_for(&s))
            .map(|r| r.line)
            .collect()
    }

    /// Compiles every pattern now (both of its forms), returning those that fail.
    pub fn compile_all(&self) -> Vec<CompileFailure> {
        let mut out = Vec::new();
        for s in Section::ALL {
            for r in self.rules.section(s) {
                if let Err(message) = r.compile() {
                    out.push(CompileFailure {
                        section: s,
                        line: r.line,
                        regex: r.regex.clone(),
                        message,
                    });
                }
            }
        }
        out
    }

    /// The fields for `ua`, cached per distinct string.
    pub fn parse(&self, ua: &str) -> Arc<Parsed> {
        let lock = || self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = lock().get(ua) {
            return Arc::clone(hit);
        }
        let parsed = Arc::new(self.parse_uncached(ua));
        let mut cache = lock();
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(ua.to_string(), Arc::clone(&parsed));
        parsed
    }

    /// The fields for `ua`, without the cache.
    pub fn parse_uncached(&self, ua: &str) -> Parsed {
        let subject = self.rules.subject(ua);
        let agent = self.rules.find(Section::UserAgent, &subject);
        let os = self
            .rules
            .find(Section::Os, &subject)
            .map(|VersionedName { name, parts }| {
                let version = joined(&parts);
                let full = version.as_ref().map(|v| format!("{name} {v}"));
                Os {
                    name,
                    version,
                    full,
                }
            });
        let device = self.rules.find(Section::Device, &subject);
        Parsed {
            version: agent.as_ref().and_then(|a| joined(&a.parts)),
            name: agent.map_or_else(|| "Other".to_string(), |a| a.name),
            os,
            device_name: device.map_or_else(|| "Other".to_string(), |d| d.name),
        }
    }
}

impl cloudtrail::Enrich for UaParser {
    fn enrich(&self, doc: &mut Map<String, Value>) {
        let Some(ua) = doc.get_mut("user_agent").and_then(Value::as_object_mut) else {
            return;
        };
        let Some(original) = ua.get("original").and_then(Value::as_str) else {
            return;
        };
        let parsed = self.parse(original);
        parsed.insert_into(ua);
    }

    fn reads(&self) -> Option<Vec<&'static str>> {
        Some(vec!["user_agent.original"])
    }

    /// Every `user_agent.*` column but `original` (and its `.text`), which the pipeline
    /// copies from the record.
    fn writes(&self, name: &str) -> bool {
        name.strip_prefix("user_agent.")
            .is_some_and(|rest| rest != "original" && rest != "original.text")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = r#"
user_agent_parsers:
  - regex: '(aws-cli)/(\d+)\.(\d+)\.(\d+)'
  - regex: 'Nameless(?:/(x)|)/\d'
  - regex: '(Firefox)/(\d+)\.(\d+)\.?(\d*)'
  - regex: 'ua (\w+) (\d+)(?:\.(\d+)|)'
    family_replacement: 'Client $1 $1'
    v1_replacement: '$2'
  - regex: 'tool(x)?'
    family_replacement: 'Tool$1'
  - regex: '(?:Emp)(ty)(|)(x?)'
    family_replacement: ''
os_parsers:
  - regex: 'linux'
    regex_flag: 'i'
    os_replacement: 'Linux'
  - regex: '(Windows) (\d+)'
device_parsers:
  - regex: '(Spider)'
    regex_flag: 'i'
    device_replacement: 'Spider'
"#;

    fn parser() -> UaParser {
        UaParser::from_yaml(RULES, Path::new("test.yaml")).unwrap()
    }

    fn obj(p: &UaParser, ua: &str) -> Value {
        Value::Object(p.parse(ua).to_object(ua))
    }

    #[test]
    fn elasticsearch_rules() {
        let p = parser();
        assert!(p.compile_all().is_empty());
        assert_eq!(
            obj(&p, "aws-cli/2.1.3 LINUX spider"),
            serde_json::json!({"original": "aws-cli/2.1.3 LINUX spider", "name": "aws-cli",
                "version": "2.1.3", "os": {"name": "Linux"}, "device": {"name": "Spider"}})
        );
        // A null name skips the rule; no match at all is Other.
        assert_eq!(obj(&p, "Nameless/3")["name"], "Other");
        // An empty group is a part: the version keeps the dot; a missing one ends it.
        assert_eq!(p.parse("Firefox/136.0").version.as_deref(), Some("136.0."));
        assert_eq!(
            p.parse("Firefox/136.0.1").version.as_deref(),
            Some("136.0.1")
        );
        assert_eq!(p.parse("ua foo 7").version.as_deref(), Some("$2"));
        // Only the first $1; version replacements literal.
        let c = p.parse("ua foo 7.1");
        assert_eq!(c.name, "Client foo $1");
        assert_eq!(c.version.as_deref(), Some("$2.1"));
        // `$1` stays when group 1 did not take part.
        assert_eq!(p.parse("tool").name, "Tool$1");
        assert_eq!(p.parse("toolx").name, "Toolx");
        // The OS: version and full only with a major.
        let w = p.parse("Windows 10");
        assert_eq!(
            w.os,
            Some(Os {
                name: "Windows".into(),
                version: Some("10".into()),
                full: Some("Windows 10".into())
            })
        );
        assert_eq!(w.device_name, "Other");
    }

    #[test]
    fn empty_values_are_cleaned_up() {
        let p = parser();
        let parsed = p.parse("Empty");
        assert_eq!(parsed.name, "");
        assert_eq!(parsed.version.as_deref(), Some("."));
        let o = obj(&p, "Empty");
        assert!(o.get("name").is_none(), "{o}");
        assert_eq!(o["version"], ".");
    }

    #[test]
    fn unusual_subjects_use_java_semantics() {
        let p = UaParser::from_yaml(
            "user_agent_parsers:\n  - regex: '^(\\w+)/(\\d+)$'\n  - regex: '(K)elvin'\n    regex_flag: 'i'\n",
            Path::new("t.yaml"),
        )
        .unwrap();
        // `$` before a final line terminator, `\w` ASCII only.
        assert_eq!(p.parse("curl/7\n").name, "curl");
        assert_eq!(p.parse("curl/7\r\n").name, "curl");
        assert_eq!(p.parse("curl/7\n\n").name, "Other");
        assert_eq!(p.parse("cürl/7").name, "Other");
        // ASCII case folding: the Kelvin sign is not a K.
        assert_eq!(p.parse("kelvin").name, "k");
        assert_eq!(p.parse("\u{212A}elvin").name, "Other");
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let e = UaParser::from_yaml(
            "user_agent_parsers:\n  - regex: 'a('\n",
            Path::new("r.yaml"),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "r.yaml:2: regex 'a(': unclosed group at character 3"
        );
        let e = UaParser::from_yaml(
            "user_agent_parsers:\n  - family_replacement: x\n",
            Path::new("r.yaml"),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "r.yaml:2: entry without `regex`");
        let e = UaParser::from_yaml("user_agent_parsers: [\n", Path::new("r.yaml")).unwrap_err();
        assert!(e.to_string().starts_with("r.yaml:"), "{e}");
        let e = UaParser::from_yaml("hello: 1\n", Path::new("r.yaml")).unwrap_err();
        assert!(e.to_string().contains("none of user_agent_parsers"), "{e}");
        let e = UaParser::open(Path::new("/nonexistent/r.yaml")).unwrap_err();
        assert!(
            e.to_string().starts_with("cannot read /nonexistent/r.yaml"),
            "{e}"
        );
    }

    #[test]
    fn writes_only_derived_columns() {
        use cloudtrail::Enrich;
        let p = parser();
        assert!(p.writes("user_agent.name"));
        assert!(p.writes("user_agent.os.full.text"));
        assert!(!p.writes("user_agent.original"));
        assert!(!p.writes("user_agent.original.text"));
        assert!(!p.writes("source.ip"));
    }
}
