//! The rules file (uap-core's `regexes.yaml`) and Elasticsearch's way of applying one rule
//! (`UserAgentParser.UserAgentSubpattern`).
//!
//! The file is read through yaml-rust2's event stream rather than its document tree, so that
//! every error can name the line of the entry it is about.

use std::collections::HashMap;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::java::{self, Mode, Translated};

/// A YAML value with the line it starts on.
#[derive(Debug)]
enum Node {
    /// A scalar's text; `None` for YAML null (`~`, `null`, nothing).
    Scalar(Option<String>),
    Seq(Vec<(Node, usize)>),
    Map(Vec<(String, Node, usize)>),
}

/// Builds [`Node`]s from parser events.
#[derive(Default)]
struct Builder {
    /// Open containers: the node being filled, its line, and a pending map key.
    stack: Vec<(Node, usize, Option<String>)>,
    root: Option<(Node, usize)>,
    error: Option<(usize, String)>,
}

impl Builder {
    fn add(&mut self, node: Node, line: usize) {
        let Some((parent, _, key)) = self.stack.last_mut() else {
            if self.root.is_none() {
                self.root = Some((node, line));
            }
            return;
        };
        match parent {
            Node::Seq(items) => items.push((node, line)),
            Node::Map(entries) => match key.take() {
                Some(k) => entries.push((k, node, line)),
                None => match node {
                    Node::Scalar(k) => *key = Some(k.unwrap_or_default()),
                    _ => {
                        self.error
                            .get_or_insert((line, "a mapping key must be a plain value".into()));
                        // Keep the structure consistent: this value is dropped with its key.
                        *key = Some(String::new());
                    }
                },
            },
            Node::Scalar(_) => unreachable!("scalars are never open"),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line();
        match ev {
            Event::Scalar(text, style, _, _) => {
                let null = style == TScalarStyle::Plain
                    && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL");
                self.add(Node::Scalar((!null).then_some(text)), line);
            }
            Event::SequenceStart(..) => self.stack.push((Node::Seq(Vec::new()), line, None)),
            Event::MappingStart(..) => self.stack.push((Node::Map(Vec::new()), line, None)),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, line, _)) = self.stack.pop() {
                    self.add(node, line);
                }
            }
            Event::Alias(_) => {
                self.error
                    .get_or_insert((line, "YAML aliases are not supported".into()));
                self.add(Node::Scalar(None), line);
            }
            _ => {}
        }
    }
}

/// Why a rules file cannot be used, with the 1-based line it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RulesError {
    pub(crate) line: usize,
    pub(crate) column: Option<usize>,
    pub(crate) message: String,
}

impl RulesError {
    fn at(line: usize, message: impl Into<String>) -> Self {
        RulesError {
            line,
            column: None,
            message: message.into(),
        }
    }
}

/// The three sections Elasticsearch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    UserAgent,
    Os,
    Device,
}

impl Section {
    pub(crate) const ALL: [Section; 3] = [Section::UserAgent, Section::Os, Section::Device];

    pub fn key(self) -> &'static str {
        match self {
            Section::UserAgent => "user_agent_parsers",
            Section::Os => "os_parsers",
            Section::Device => "device_parsers",
        }
    }

    /// The keys Elasticsearch reads for the name and the four version parts.
    fn replacement_keys(self) -> (&'static str, [Option<&'static str>; 4]) {
        match self {
            Section::UserAgent => (
                "family_replacement",
                [
                    Some("v1_replacement"),
                    Some("v2_replacement"),
                    Some("v3_replacement"),
                    Some("v4_replacement"),
                ],
            ),
            Section::Os => (
                "os_replacement",
                [
                    Some("os_v1_replacement"),
                    Some("os_v2_replacement"),
                    Some("os_v3_replacement"),
                    Some("os_v4_replacement"),
                ],
            ),
            // brand_replacement and model_replacement are not read.
            Section::Device => ("device_replacement", [None; 4]),
        }
    }
}

/// A name and up to four version parts, as one rule resolves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionedName {
    pub(crate) name: String,
    pub(crate) parts: [Option<String>; 4],
}

/// One compiled form of a rule's pattern, built on first use.
#[derive(Debug)]
struct Lazy {
    pattern: String,
    compiled: OnceLock<Result<fancy_regex::Regex, String>>,
}

impl Lazy {
    fn new(pattern: String) -> Lazy {
        Lazy {
            pattern,
            compiled: OnceLock::new(),
        }
    }

    /// A form that cannot be built (its translation failed).
    fn failed(message: String) -> Lazy {
        Lazy {
            pattern: String::new(),
            compiled: OnceLock::from(Err(message)),
        }
    }

    fn get(&self) -> &Result<fancy_regex::Regex, String> {
        self.compiled.get_or_init(|| {
            fancy_regex::RegexBuilder::new(&self.pattern)
                .build()
                .map_err(|e| e.to_string())
        })
    }
}

/// Every rule's required literals, found in a subject in one pass: those of case-sensitive
/// rules, then (ids after them) those of case-insensitive rules, matched ASCII-case-blind.
#[derive(Debug, Default)]
struct Literals {
    /// The literals by id; the automata are built on first use (a run that reads no
    /// user-agent field never needs them).
    exact_lits: Vec<String>,
    folded_lits: Vec<String>,
    automata: OnceLock<(Option<AhoCorasick>, Option<AhoCorasick>)>,
    exact_count: usize,
}

impl Literals {
    /// Assigns ids to the rules' literals (the automata come on first use).
    fn build(rules: &mut [Vec<Rule>; 3]) -> Literals {
        let mut exact: HashMap<String, u32> = HashMap::new();
        let mut folded: HashMap<String, u32> = HashMap::new();
        for r in rules.iter_mut().flatten() {
            let Some(reqs) = r.required_text.take() else {
                continue;
            };
            let table = if r.case_insensitive {
                &mut folded
            } else {
                &mut exact
            };
            let ids = reqs
                .into_iter()
                .map(|any| {
                    any.into_iter()
                        .map(|lit| {
                            let next = table.len() as u32;
                            *table.entry(lit).or_insert(next)
                        })
                        .collect::<Vec<u32>>()
                })
                .collect();
            r.required = Some((r.case_insensitive, ids));
        }
        let ordered = |t: HashMap<String, u32>| {
            let mut v: Vec<(String, u32)> = t.into_iter().collect();
            v.sort_by_key(|(_, id)| *id);
            v.into_iter().map(|(l, _)| l).collect::<Vec<String>>()
        };
        let (exact_lits, folded_lits) = (ordered(exact), ordered(folded));
        Literals {
            exact_count: exact_lits.len(),
            exact_lits,
            folded_lits,
            automata: OnceLock::new(),
        }
    }

    fn automata(&self) -> &(Option<AhoCorasick>, Option<AhoCorasick>) {
        self.automata.get_or_init(|| {
            let build = |lits: &[String], fold: bool| {
                (!lits.is_empty())
                    .then(|| {
                        AhoCorasick::builder()
                            .ascii_case_insensitive(fold)
                            .build(lits)
                            .ok()
                    })
                    .flatten()
            };
            (
                build(&self.exact_lits, false),
                build(&self.folded_lits, true),
            )
        })
    }

    /// Which literals occur in `text`, as a bit set over their ids; `None` when an automaton
    /// could not be built (never expected), and then no rule may be skipped.
    fn present(&self, text: &str) -> Option<Vec<u64>> {
        let (exact, folded) = self.automata();
        if (exact.is_none() && !self.exact_lits.is_empty())
            || (folded.is_none() && !self.folded_lits.is_empty())
        {
            return None;
        }
        let total = self.exact_lits.len() + self.folded_lits.len();
        let mut bits = vec![0u64; total.div_ceil(64)];
        let mut set = |id: usize| bits[id / 64] |= 1 << (id % 64);
        if let Some(a) = exact {
            for m in a.find_overlapping_iter(text) {
                set(m.pattern().as_usize());
            }
        }
        if let Some(a) = folded {
            for m in a.find_overlapping_iter(text) {
                set(self.exact_count + m.pattern().as_usize());
            }
        }
        Some(bits)
    }
}

/// A subject as the rules look at it.
pub(crate) struct Subject<'a> {
    pub(crate) text: &'a str,
    /// The rules' literals found in it (`None`: unknown, every rule is tried).
    present: Option<Vec<u64>>,
    exact_count: usize,
    mode: Mode,
}

impl Subject<'_> {
    fn has(&self, folded: bool, id: u32) -> bool {
        let Some(present) = &self.present else {
            return true;
        };
        let id = id as usize + if folded { self.exact_count } else { 0 };
        present
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }
}

/// One entry of a section.
#[derive(Debug)]
pub(crate) struct Rule {
    /// The pattern as written in the file (Java syntax).
    pub(crate) regex: String,
    pub(crate) line: usize,
    groups: usize,
    case_insensitive: bool,
    /// Requirements every match satisfies, each "one of these literals" (lowercased for a
    /// case-insensitive rule), until [`Literals::build`] turns them into ids.
    required_text: Option<Vec<Vec<String>>>,
    /// The same as literal ids (and whether they are the case-insensitive ones): most rules
    /// name products, so most subjects are ruled out without compiling the pattern.
    required: Option<(bool, Vec<Vec<u32>>)>,
    ascii: Lazy,
    /// Whether other subjects need a translation of their own, which is made on first use
    /// (few subjects are not plain ASCII).
    mode_dependent: bool,
    exact: OnceLock<Lazy>,
    name_replacement: Option<String>,
    version_replacements: [Option<String>; 4],
}

impl Rule {
    fn lazy(&self, mode: Mode) -> &Lazy {
        if mode == Mode::Ascii || !self.mode_dependent {
            return &self.ascii;
        }
        self.exact.get_or_init(|| {
            match java::translate(&self.regex, self.case_insensitive, Mode::Exact) {
                Ok(t) => Lazy::new(t.pattern),
                Err(e) => Lazy::failed(e.to_string()),
            }
        })
    }

    /// Compiles both forms now; the error says why one does not compile.
    pub(crate) fn compile(&self) -> Result<(), String> {
        for lazy in [self.lazy(Mode::Ascii), self.lazy(Mode::Exact)] {
            if let Err(e) = lazy.get() {
                return Err(format!("{e} (translated to {})", lazy.pattern));
            }
        }
        Ok(())
    }

    /// False when `s` holds none of the required literals (so the pattern cannot match).
    fn may_match(&self, s: &Subject<'_>) -> bool {
        let Some((folded, reqs)) = &self.required else {
            return true;
        };
        reqs.iter()
            .all(|any| any.iter().any(|&id| s.has(*folded, id)))
    }

    /// Whether the pattern matches `s` although its required literals are absent (a bug in
    /// their derivation; for tests).
    pub(crate) fn literal_unsound_for(&self, s: &Subject<'_>) -> bool {
        if self.may_match(s) {
            return false;
        }
        let re = self.lazy(s.mode).get();
        re.as_ref()
            .is_ok_and(|re| re.is_match(s.text).unwrap_or(false))
    }

    /// `UserAgentSubpattern.match`: `None` when the pattern does not match or its name is
    /// null (the caller then tries the next rule).
    pub(crate) fn apply(&self, s: &Subject<'_>) -> Option<VersionedName> {
        if !self.may_match(s) {
            return None;
        }
        let (subject, mode) = (s.text, s.mode);
        // A pattern that does not compile (a bug, or a size limit) never matches; the
        // `every pattern compiles` test keeps the shipped rules free of them. A search that
        // exceeds the backtracking limit counts as no match as well.
        let re = self.lazy(mode).get().as_ref().ok()?;
        let caps = re.captures(subject).ok()??;
        let group = |i: usize| -> Option<&str> {
            if i <= self.groups {
                caps.get(i).map(|m| m.as_str())
            } else {
                None
            }
        };
        let name = match &self.name_replacement {
            Some(rep) => match group(1) {
                // Only the first `$1`, and the group's text taken literally.
                Some(g1) if rep.contains("$1") => rep.replacen("$1", g1, 1),
                _ => rep.clone(),
            },
            None => group(1)?.to_string(),
        };
        let mut parts: [Option<String>; 4] = Default::default();
        for (k, part) in parts.iter_mut().enumerate() {
            *part = match &self.version_replacements[k] {
                // Taken literally: Elasticsearch substitutes no `$N` in versions.
                Some(rep) => Some(rep.clone()),
                None => group(k + 2).map(str::to_string),
            };
        }
        Some(VersionedName { name, parts })
    }
}

/// The rules of the three sections, in file order.
#[derive(Debug)]
pub(crate) struct Rules {
    pub(crate) sections: [Vec<Rule>; 3],
    literals: Literals,
}

impl Rules {
    /// `text` prepared for matching: its mode and which required literals it holds.
    pub(crate) fn subject<'a>(&self, text: &'a str) -> Subject<'a> {
        Subject {
            text,
            present: self.literals.present(text),
            exact_count: self.literals.exact_count,
            mode: Mode::of(text),
        }
    }

    pub(crate) fn section(&self, s: Section) -> &[Rule] {
        &self.sections[s as usize]
    }

    /// The first rule of `section` that matches with a non-null name.
    pub(crate) fn find(&self, section: Section, subject: &Subject<'_>) -> Option<VersionedName> {
        self.section(section).iter().find_map(|r| r.apply(subject))
    }

    /// Rules with a required literal, and all rules.
    pub(crate) fn with_literal(&self) -> (usize, usize) {
        let all = self.sections.iter().flatten();
        let n = all.clone().filter(|r| r.required.is_some()).count();
        (n, all.count())
    }

    pub(crate) fn parse(text: &str) -> Result<Rules, RulesError> {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        parser.load(&mut builder, false).map_err(|e| RulesError {
            line: e.marker().line(),
            column: Some(e.marker().col() + 1),
            message: e.info().to_string(),
        })?;
        if let Some((line, message)) = builder.error {
            return Err(RulesError::at(line, message));
        }
        let Some((Node::Map(top), _)) = builder.root else {
            return Err(RulesError::at(
                1,
                "expected a mapping with user_agent_parsers, os_parsers and device_parsers",
            ));
        };
        let mut sections: [Vec<Rule>; 3] = Default::default();
        let mut found = false;
        for (key, node, line) in top {
            let Some(section) = Section::ALL.into_iter().find(|s| s.key() == key) else {
                continue;
            };
            found = true;
            let entries = match node {
                Node::Seq(items) => items,
                Node::Scalar(None) => Vec::new(),
                _ => return Err(RulesError::at(line, format!("{key} must be a list"))),
            };
            for (entry, line) in entries {
                sections[section as usize].push(rule(section, entry, line)?);
            }
        }
        if !found {
            return Err(RulesError::at(
                1,
                "none of user_agent_parsers, os_parsers, device_parsers is present",
            ));
        }
        let literals = Literals::build(&mut sections);
        Ok(Rules { sections, literals })
    }
}

fn rule(section: Section, entry: Node, line: usize) -> Result<Rule, RulesError> {
    let Node::Map(fields) = entry else {
        return Err(RulesError::at(
            line,
            format!(
                "an entry of {} must be a mapping with `regex`",
                section.key()
            ),
        ));
    };
    let get = |key: &str| -> Result<Option<String>, RulesError> {
        match fields.iter().position(|(k, _, _)| k == key) {
            None => Ok(None),
            Some(i) => match &fields[i].1 {
                Node::Scalar(v) => Ok(v.clone()),
                _ => Err(RulesError::at(
                    fields[i].2,
                    format!("`{key}` must be a string"),
                )),
            },
        }
    };
    let Some(regex) = get("regex")? else {
        return Err(RulesError::at(line, "entry without `regex`"));
    };
    let case_insensitive = get("regex_flag")?.as_deref() == Some("i");
    let (name_key, version_keys) = section.replacement_keys();
    let name_replacement = get(name_key)?;
    let mut version_replacements: [Option<String>; 4] = Default::default();
    for (slot, key) in version_replacements.iter_mut().zip(version_keys) {
        if let Some(key) = key {
            *slot = get(key)?;
        }
    }
    let bad = |e: java::SyntaxError| RulesError::at(line, format!("regex '{regex}': {e}"));
    let ascii: Translated = java::translate(&regex, case_insensitive, Mode::Ascii).map_err(bad)?;
    Ok(Rule {
        groups: ascii.groups,
        case_insensitive,
        required_text: ascii.required,
        required: None,
        ascii: Lazy::new(ascii.pattern),
        mode_dependent: ascii.mode_dependent,
        exact: OnceLock::new(),
        regex,
        line,
        name_replacement,
        version_replacements,
    })
}
