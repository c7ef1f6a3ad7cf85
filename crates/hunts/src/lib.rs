//! Hunt files in Elastic's detection-rules format, and trailhunt's hunt library.
//!
//! A hunt file is a TOML document with a single `[hunt]` table (see
//! `docs/hunting-library.md` §a). Elastic's own loader is a Python dataclass, so
//! it is strict about key names but not about value types; we mirror that:
//! list-valued keys also accept a single string, unknown keys are ignored, and
//! every error points at the file and the TOML line:column so a user editing a
//! hunt can fix it without guessing.
//!
//! [`Library`] holds the built-in hunts plus any loaded from directories, and
//! resolves the names a user types on the command line; [`Runner`] runs them over data.

mod docs;
pub mod install;
mod library;
pub mod lint;
pub mod mitre;
mod parse;
pub mod pivot;
pub mod replay;
pub mod runner;
mod snapshot;

use std::fmt;
use std::path::{Path, PathBuf};

pub use docs::{markdown, technique_url, Filter};
pub use library::{Library, Provenance, ResolveError};
pub use parse::{parse_file, parse_hunt};
pub use pivot::{param_name, Each, Pivot};
pub use runner::{EmptyWindow, Event, Outcome, QueryRun, Runner, Status, Totals};

/// One hunt: metadata plus one or more query strings.
///
/// Fields keep the upstream names and their values exactly as TOML parsed them
/// (no trimming): the query text must reach the engine byte-for-byte, and the
/// rest is shown to analysts as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunt {
    pub uuid: String,
    pub name: String,
    /// File name without `.toml`; the short name users type (`trailhunt hunt <stem>`).
    pub stem: String,
    pub description: String,
    pub author: String,
    pub integration: Vec<String>,
    pub language: Vec<String>,
    pub license: String,
    pub notes: Vec<String>,
    pub mitre: Vec<String>,
    pub references: Vec<String>,
    pub queries: Vec<String>,
    pub origin: Origin,
    /// A hunt (`[hunt]`) or a detection rule (`[rule]`) with its scheduling.
    pub kind: Kind,
    /// Follow-up queries for each finding (`[[hunt.pivot]]`); empty for upstream hunts.
    pub pivots: Vec<Pivot>,
}

/// What kind of file a [`Hunt`] was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A hunting query (`[hunt]` table): run once, by hand, relative to `NOW()`.
    Hunt,
    /// A detection rule (`[rule]` table): one query that Kibana's scheduler runs every
    /// `interval` over the look-back window `from`.
    Rule(Rule),
}

/// A detection rule's metadata: what it alerts with and how Kibana schedules it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub rule_id: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    pub risk_score: Option<i64>,
    /// How often the rule runs, e.g. `5m` (Kibana's default when absent).
    pub interval: String,
    /// The look-back of each run, e.g. `now-9m` (Kibana's default `now-6m` when absent).
    pub from: String,
    /// The most alerts one run creates (Kibana's default 100).
    pub max_signals: u32,
    /// The field the scheduler's time range applies to instead of `@timestamp`.
    pub timestamp_override: Option<String>,
    /// The ATT&CK techniques with their names, as the rule's `threat` tables give them.
    pub techniques: Vec<(String, String)>,
    /// A building-block rule (its alerts are hidden by default in Kibana).
    pub building_block: bool,
    pub tags: Vec<String>,
}

impl Hunt {
    /// The hunt's ATT&CK techniques as `(id, name)`; the name is empty when unknown.
    /// A rule's own names win over trailhunt's table.
    pub fn techniques(&self) -> Vec<(String, String)> {
        self.mitre
            .iter()
            .map(|id| {
                let from_rule = self
                    .rule()
                    .and_then(|r| r.techniques.iter().find(|(i, _)| i == id))
                    .map(|(_, n)| n.clone());
                let name = from_rule
                    .or_else(|| mitre::technique_name(id).map(str::to_string))
                    .unwrap_or_default();
                (id.clone(), name)
            })
            .collect()
    }

    /// The rule metadata, when this is a detection rule.
    pub fn rule(&self) -> Option<&Rule> {
        match &self.kind {
            Kind::Rule(r) => Some(r),
            Kind::Hunt => None,
        }
    }
}

/// Where a hunt came from, so listings and errors can say which copy is used.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Compiled into the binary (`crates/hunts/builtin/`).
    BuiltIn,
    /// Loaded from this file.
    File(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::BuiltIn => f.write_str("<built-in>"),
            Origin::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The language of one query string, inferred from its text.
///
/// Upstream files only declare the *set* of languages (`language = ["ES|QL",
/// "SQL"]`), so a mixed file needs this to pick the queries our engine can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    /// Starts with `FROM` (possibly after a stray `sql` line, which occurs upstream).
    Esql,
    /// osquery SQL (`SELECT …` / `WITH …`).
    Sql,
    /// Anything else; in the upstream library that is EQL.
    Other,
}

/// Guesses a query's language from its first word, ignoring `//` comments.
pub fn query_language(query: &str) -> QueryLanguage {
    let mut words = query
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .flat_map(str::split_whitespace);
    let first = words.next().map(str::to_ascii_lowercase);
    match first.as_deref() {
        Some("from") => QueryLanguage::Esql,
        Some("select") | Some("with") => QueryLanguage::Sql,
        Some("sql") => match words.next().map(str::to_ascii_lowercase).as_deref() {
            Some("from") => QueryLanguage::Esql,
            _ => QueryLanguage::Sql,
        },
        _ => QueryLanguage::Other,
    }
}

impl Hunt {
    /// True when the hunt declares ES|QL (or declares nothing and its queries
    /// look like ES|QL), i.e. when trailhunt can try to run it.
    pub fn is_esql(&self) -> bool {
        if self.language.is_empty() {
            return self
                .queries
                .iter()
                .any(|q| query_language(q) == QueryLanguage::Esql);
        }
        self.language.iter().any(|l| {
            let l = l.trim().to_ascii_lowercase();
            l == "es|ql" || l == "esql"
        })
    }

    /// The ES|QL query strings with their 0-based index in `queries`
    /// (a mixed-language file may hold osquery or EQL next to them).
    pub fn esql_queries(&self) -> Vec<(usize, &str)> {
        self.queries
            .iter()
            .enumerate()
            .filter(|(_, q)| query_language(q) == QueryLanguage::Esql)
            .map(|(i, q)| (i, q.as_str()))
            .collect()
    }

    /// The platform folder the hunt belongs to (`aws`, `linux`, …).
    ///
    /// Upstream keeps hunts in `hunting/<platform>/queries/`, which is the most
    /// reliable source; for other layouts and built-ins we fall back to the
    /// first integration's vendor prefix (`aws.cloudtrail` → `aws`).
    pub fn platform(&self) -> Option<&str> {
        if let Origin::File(path) = &self.origin {
            if let Some(p) = platform_from_path(path) {
                return Some(p);
            }
        }
        let first = self.integration.first()?;
        let end = first.find(['.', '_']).unwrap_or(first.len());
        (end > 0).then(|| &first[..end])
    }
}

/// `…/<platform>/queries/<file>.toml` → `<platform>`.
fn platform_from_path(path: &Path) -> Option<&str> {
    let parent = path.parent()?;
    if parent.file_name()?.to_str()? != "queries" {
        return None;
    }
    parent.parent()?.file_name()?.to_str()
}

/// Why a hunt file could not be loaded.
///
/// `Display` is a single `file:line:column: message` line (the format editors
/// and CI annotations understand), because users fix these by hand.
#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    /// The file could not be read.
    #[error("{}: cannot read hunt file: {source}", file.display())]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax error, or a `[hunt]` table that does not fit the schema.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The file path, or `<built-in>/<stem>.toml` for built-ins.
        file: String,
        /// 1-based TOML line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        message: String,
    },
}

impl HuntError {
    /// The file the error is about, as displayed.
    pub fn file(&self) -> String {
        match self {
            HuntError::Io { file, .. } => file.display().to_string(),
            HuntError::Invalid { file, .. } => file.clone(),
        }
    }

    /// 1-based (line, column) of the problem, when it is about file contents.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            HuntError::Io { .. } => None,
            HuntError::Invalid { line, column, .. } => Some((*line, *column)),
        }
    }
}

const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "multiple_service_logging_deleted_or_stopped",
        include_str!("../builtin/multiple_service_logging_deleted_or_stopped.toml"),
    ),
    (
        "logging_disabled_across_services_by_one_principal",
        include_str!("../builtin/logging_disabled_across_services_by_one_principal.toml"),
    ),
    (
        "guardduty_securityhub_config_disabled_or_weakened",
        include_str!("../builtin/guardduty_securityhub_config_disabled_or_weakened.toml"),
    ),
    (
        "cloudwatch_alarms_or_log_groups_deleted",
        include_str!("../builtin/cloudwatch_alarms_or_log_groups_deleted.toml"),
    ),
];

/// The hunts compiled into trailhunt, so the seed hunt works without a
/// detection-rules checkout.
///
/// They go through [`parse_hunt`] like any file; the unit tests guarantee the
/// embedded files parse, so a failure here is a build defect and panics.
pub fn builtin() -> Vec<Hunt> {
    BUILTIN_FILES
        .iter()
        .map(|(stem, text)| {
            parse_hunt(text, Origin::BuiltIn, stem)
                .unwrap_or_else(|e| panic!("built-in hunt {stem} is invalid: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_seed_metadata() {
        let hunts = builtin();
        assert_eq!(hunts.len(), 4);
        assert!(hunts[1..].iter().all(|h| h.license == "Apache-2.0"));
        let h = &hunts[0];
        assert_eq!(h.uuid, "d74f8928-5e46-11ef-9488-f661ea17fbce");
        assert_eq!(h.name, "Multiple Service Logging Deleted or Stopped");
        assert_eq!(h.stem, "multiple_service_logging_deleted_or_stopped");
        assert_eq!(h.integration, ["aws.cloudtrail"]);
        assert_eq!(h.language, ["ES|QL"]);
        assert_eq!(h.mitre, ["T1562.008"]);
        assert_eq!(h.author, "Elastic");
        assert_eq!(h.license, "Elastic License v2");
        assert_eq!(h.origin, Origin::BuiltIn);
        assert_eq!(h.queries.len(), 1);
        assert!(h.queries[0].starts_with("from logs-aws.cloudtrail*\n"));
        assert!(h.queries[0].ends_with("aws.cloudtrail.user_identity.arn\n"));
        assert!(h.is_esql());
        assert_eq!(h.platform(), Some("aws"));
        assert!(!h.notes.is_empty() && h.notes.iter().any(|n| n.contains("YYYY")));
    }

    /// Every built-in pivot parses once its parameters are bound (the investigation runs
    /// them unattended; a typo must fail here, not in an analyst's report).
    #[test]
    fn builtin_pivots_parse_with_their_parameters() {
        let mut checked = 0;
        for h in builtin() {
            for p in &h.pivots {
                let mut params = esql::Params::new();
                for name in names_used(&p.query) {
                    params.push_named(
                        name,
                        esql::ParamValue::Value(esql::ast::Literal::Keyword(
                            "2024-01-01T00:00:00Z".into(),
                        )),
                    );
                }
                esql::parse_with_params(&p.query, &params)
                    .unwrap_or_else(|e| panic!("{} pivot {}: {e}", h.stem, p.id));
                checked += 1;
            }
        }
        assert_eq!(checked, 4 * 11);
    }

    fn names_used(q: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = q;
        while let Some(i) = rest.find('?') {
            let tail = &rest[i + 1..];
            let n: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !n.is_empty() && !out.contains(&n) {
                out.push(n.clone());
            }
            rest = &tail[n.len()..];
        }
        out
    }

    #[test]
    fn language_detection() {
        assert_eq!(
            query_language("// c\nFROM logs-* | limit 1"),
            QueryLanguage::Esql
        );
        assert_eq!(query_language("sql\nfrom x | keep a"), QueryLanguage::Esql);
        assert_eq!(
            query_language("SELECT * FROM processes"),
            QueryLanguage::Sql
        );
        assert_eq!(
            query_language("sequence by host.id [process where true]"),
            QueryLanguage::Other
        );
    }

    #[test]
    fn platform_from_layout_or_integration() {
        let mut h = builtin().remove(0);
        h.origin = Origin::File(PathBuf::from("/x/hunting/llm/queries/a.toml"));
        assert_eq!(h.platform(), Some("llm"));
        h.origin = Origin::File(PathBuf::from("/tmp/a.toml"));
        h.integration = vec!["okta".into()];
        assert_eq!(h.platform(), Some("okta"));
        h.integration.clear();
        assert_eq!(h.platform(), None);
    }
}
