//! Lint of hunt and rule queries: the defects of `docs/hunting-library.md` §f that can be
//! seen in the query text, each with its position, why it is probably wrong, and the
//! corrected text.
//!
//! Many of the defects make the query unparsable (`=` as a comparison, `now(-)`, a stray
//! `sql` line), so most checks work on tokens from a small tolerant tokenizer of our own
//! that never fails: it still knows strings (plain and triple-quoted) and comments, so a
//! pattern inside a string or a comment is never mistaken for code. Checks that need types
//! (integer division) use the `esql` parser's AST and are skipped when the query does not
//! parse. Every check is conservative: a finding is shown to an analyst under the hunt's
//! results, so a false alarm costs more than a missed nit.
//! One file for now: every check shares the tokenizer and pipe-segment walk at its top;
//! splitting the checks into a `lint/` module per defect family is the next step (noted).

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use crate::Hunt;

/// Check codes, one per kind of defect (stable: tests and suppressions name them).
pub mod codes {
    /// DATE_FORMAT/DATE_PARSE pattern letters that mean something else than intended.
    pub const DATE_FORMAT_PATTERN: &str = "date-format-pattern";
    /// A string literal and a column in the wrong argument order.
    pub const SWAPPED_ARGUMENTS: &str = "swapped-arguments";
    /// `=` (assignment) used as a comparison in WHERE.
    pub const ASSIGNMENT_IN_WHERE: &str = "assignment-in-where";
    /// SQL `%` wildcards in a LIKE pattern.
    pub const SQL_LIKE_WILDCARD: &str = "sql-like-wildcard";
    /// `*` in a STARTS_WITH prefix or ENDS_WITH suffix.
    pub const WILDCARD_IN_PREFIX: &str = "wildcard-in-starts-ends-with";
    /// `^`/`$` in an RLIKE pattern.
    pub const RLIKE_ANCHOR: &str = "rlike-anchor";
    /// A quantifier applied to a quantifier in an RLIKE pattern (`.+*`).
    pub const RLIKE_REPEATED_QUANTIFIER: &str = "rlike-repeated-quantifier";
    /// LIMIT before SORT.
    pub const LIMIT_BEFORE_SORT: &str = "limit-before-sort";
    /// SORT with an explicit direction on some keys only.
    pub const SORT_DIRECTION: &str = "sort-direction-on-some-keys";
    /// `/` between two integers.
    pub const INTEGER_DIVISION: &str = "integer-division";
    /// `== ""` / `!= ""`.
    pub const EMPTY_STRING_COMPARISON: &str = "empty-string-comparison";
    /// A hunt without any time filter.
    pub const NO_TIME_BOUND: &str = "no-time-bound";
    /// A threshold that disagrees with the comment above it.
    pub const THRESHOLD_COMMENT: &str = "threshold-contradicts-comment";
    /// `"0X…"` hexadecimal status codes compared case-sensitively.
    pub const HEX_CAPITAL_X: &str = "hex-capital-x";
    /// `== "*"` / `!= "*"`: a literal asterisk, not a wildcard.
    pub const LITERAL_ASTERISK: &str = "literal-asterisk-comparison";
    /// A column used after a KEEP that does not keep it.
    pub const DROPPED_BY_KEEP: &str = "column-dropped-by-keep";
    /// The same entry twice in an IN list, CIDR_MATCH or KEEP.
    pub const DUPLICATE_LIST_ENTRY: &str = "duplicate-list-entry";
    /// The same operand twice in one AND or OR chain.
    pub const DUPLICATE_OPERAND: &str = "duplicate-operand";
    /// `AND` and `OR` mixed without parentheses.
    pub const AND_OR_PRECEDENCE: &str = "and-or-precedence";
    /// `AND`/`OR` with nothing after it.
    pub const DANGLING_OPERATOR: &str = "dangling-operator";
    /// `now(…)` with an argument (`now(-)`).
    pub const NOW_ARGUMENT: &str = "now-argument";
    /// A leading line holding only `sql`.
    pub const STRAY_SQL_LINE: &str = "stray-sql-line";
    /// A space before the `.` of a dotted field name.
    pub const SPACED_DOT: &str = "spaced-dot";
    /// `name = BY …` in STATS: no aggregate.
    pub const MISSING_AGGREGATE: &str = "missing-aggregate";

    /// Every code, for listings and tests.
    pub const ALL: &[&str] = &[
        DATE_FORMAT_PATTERN,
        SWAPPED_ARGUMENTS,
        ASSIGNMENT_IN_WHERE,
        SQL_LIKE_WILDCARD,
        WILDCARD_IN_PREFIX,
        RLIKE_ANCHOR,
        RLIKE_REPEATED_QUANTIFIER,
        LIMIT_BEFORE_SORT,
        SORT_DIRECTION,
        INTEGER_DIVISION,
        EMPTY_STRING_COMPARISON,
        NO_TIME_BOUND,
        THRESHOLD_COMMENT,
        HEX_CAPITAL_X,
        LITERAL_ASTERISK,
        DROPPED_BY_KEEP,
        DUPLICATE_LIST_ENTRY,
        DUPLICATE_OPERAND,
        AND_OR_PRECEDENCE,
        DANGLING_OPERATOR,
        NOW_ARGUMENT,
        STRAY_SQL_LINE,
        SPACED_DOT,
        MISSING_AGGREGATE,
    ];
}

/// One probable defect in a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A short stable identifier of the check (one of [`codes::ALL`]), e.g. `date-format-pattern`.
    pub code: &'static str,
    /// 1-based line and column in the query text.
    pub line: usize,
    pub column: usize,
    /// What is wrong and why.
    pub message: String,
    /// The corrected text for the flagged part, when there is one: it replaces
    /// `span` of the query (for a string literal's content, the text between the quotes).
    pub fix: Option<String>,
    /// Byte range of the query text that `fix` replaces (without a fix: the text the
    /// finding is about). `line`/`column` point at the problem itself, usually its start.
    pub span: Range<usize>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.line, self.column, self.code, self.message
        )?;
        if let Some(fix) = &self.fix {
            write!(f, " (fix: `{fix}`)")?;
        }
        Ok(())
    }
}

/// A finding in one query (0-based index into `Hunt::queries`) of a hunt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuntFinding {
    pub query: usize,
    pub finding: Finding,
}

/// What the linter may assume about the query's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintOptions {
    /// Flag a query that has no time filter. Hunts run by hand and need one; detection
    /// rules get their time range from the scheduler, so for them this is off.
    pub time_bound_required: bool,
}

impl LintOptions {
    /// For hunting queries (the default).
    pub fn hunt() -> LintOptions {
        LintOptions {
            time_bound_required: true,
        }
    }

    /// For detection rules' queries.
    pub fn rule() -> LintOptions {
        LintOptions {
            time_bound_required: false,
        }
    }

    /// [`LintOptions::rule`] for a detection rule, [`LintOptions::hunt`] otherwise.
    pub fn for_hunt(hunt: &Hunt) -> LintOptions {
        if hunt.rule().is_some() {
            LintOptions::rule()
        } else {
            LintOptions::hunt()
        }
    }
}

impl Default for LintOptions {
    fn default() -> LintOptions {
        LintOptions::hunt()
    }
}

/// Lints one ES|QL hunting query ([`LintOptions::hunt`]).
pub fn lint_query(query: &str) -> Vec<Finding> {
    lint_query_with(query, &LintOptions::hunt())
}

/// Lints one ES|QL query. Findings are in text order.
pub fn lint_query_with(query: &str, options: &LintOptions) -> Vec<Finding> {
    let mut l = Linter::new(query);
    l.run(options);
    let mut out = l.out;
    out.sort_by(|a, b| {
        (a.span.start, a.line, a.column, a.code).cmp(&(b.span.start, b.line, b.column, b.code))
    });
    out.dedup();
    out
}

/// Lints every ES|QL query of a hunt, or of a detection rule (then with
/// [`LintOptions::rule`]: the scheduler supplies the time range).
pub fn lint_hunt(hunt: &Hunt) -> Vec<HuntFinding> {
    lint_hunt_with(hunt, &LintOptions::for_hunt(hunt))
}

/// Lints every ES|QL query of a hunt (or rule) with the given options.
pub fn lint_hunt_with(hunt: &Hunt, options: &LintOptions) -> Vec<HuntFinding> {
    hunt.esql_queries()
        .into_iter()
        .flat_map(|(query, text)| {
            lint_query_with(text, options)
                .into_iter()
                .map(move |finding| HuntFinding { query, finding })
        })
        .collect()
}

// ---- tokens ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An identifier, keyword or dotted (possibly backquoted) field name, as one token.
    Name,
    Str,
    Num,
    Param,
    /// Operators and punctuation; anything unknown is a one-character `Op` too.
    Op,
}

#[derive(Debug, Clone)]
struct Tok {
    kind: Kind,
    span: Range<usize>,
    /// Whitespace or a comment precedes the token.
    spaced: bool,
    /// `"""…"""` (its content is verbatim; plain strings have backslash escapes).
    triple: bool,
    /// For strings: the bytes between the quotes.
    content: Range<usize>,
    /// For strings the unescaped value, otherwise the source text.
    value: String,
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '@' || c == '`'
}

fn is_name_body(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@'
}

/// Splits `src` into tokens and comments. Never fails: an unterminated string or comment
/// runs to the end of its line or of the text, and unknown characters become `Op`s.
fn tokenize(src: &str) -> (Vec<Tok>, Vec<Range<usize>>) {
    let mut toks = Vec::new();
    let mut comments = Vec::new();
    let mut i = 0;
    let mut spaced = true;
    while let Some(c) = src[i..].chars().next() {
        let rest = &src[i..];
        if c.is_whitespace() {
            i += c.len_utf8();
            spaced = true;
            continue;
        }
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(src.len(), |n| i + n);
            comments.push(i..end);
            i = end;
            spaced = true;
            continue;
        }
        if let Some(body) = rest.strip_prefix("/*") {
            let end = body.find("*/").map_or(src.len(), |n| i + 2 + n + 2);
            comments.push(i..end);
            i = end;
            spaced = true;
            continue;
        }
        let start = i;
        let mut tok = Tok {
            kind: Kind::Op,
            span: start..start,
            spaced,
            triple: false,
            content: start..start,
            value: String::new(),
        };
        if rest.starts_with("\"\"\"") {
            let body = start + 3;
            let close = src[body..].find("\"\"\"").map_or(src.len(), |n| body + n);
            // Up to two extra quotes before the closing run belong to the content.
            let mut cend = close;
            while cend < close + 2 && src.get(cend + 3..).is_some_and(|r| r.starts_with('"')) {
                cend += 1;
            }
            tok.kind = Kind::Str;
            tok.triple = true;
            tok.content = body..cend;
            tok.value = src[body..cend].to_string();
            i = (cend + 3).min(src.len());
        } else if c == '"' {
            let mut value = String::new();
            let mut chars = src[start + 1..].char_indices();
            let mut end = src.len();
            let mut cend = src.len();
            while let Some((k, ch)) = chars.next() {
                match ch {
                    '"' => {
                        cend = start + 1 + k;
                        end = cend + 1;
                        break;
                    }
                    '\n' => {
                        cend = start + 1 + k;
                        end = cend;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, 't')) => value.push('\t'),
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, 'r')) => value.push('\r'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, other)) => {
                            value.push('\\');
                            value.push(other);
                        }
                        None => value.push('\\'),
                    },
                    ch => value.push(ch),
                }
            }
            tok.kind = Kind::Str;
            tok.content = start + 1..cend;
            tok.value = value;
            i = end;
        } else if is_name_start(c) {
            let mut j = start;
            loop {
                if src[j..].starts_with('`') {
                    // Backquoted part; doubled backquotes stand for one.
                    j += 1;
                    loop {
                        match src[j..].find('`') {
                            Some(n) if src[j + n + 1..].starts_with('`') => j += n + 2,
                            Some(n) => {
                                j += n + 1;
                                break;
                            }
                            None => {
                                j = src.len();
                                break;
                            }
                        }
                    }
                } else {
                    while let Some(ch) = src[j..].chars().next().filter(|&ch| is_name_body(ch)) {
                        j += ch.len_utf8();
                    }
                }
                let mut after = src[j..].chars();
                if after.next() == Some('.')
                    && after
                        .next()
                        .is_some_and(|ch| is_name_start(ch) || ch.is_ascii_digit())
                {
                    j += 1;
                    continue;
                }
                break;
            }
            tok.kind = Kind::Name;
            i = j.max(start + 1);
        } else if c.is_ascii_digit() {
            let b = src.as_bytes();
            let mut j = start;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_digit() {
                j += 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
            }
            tok.kind = Kind::Num;
            i = j;
        } else if c == '?' {
            let mut j = start + 1;
            while let Some(ch) = src[j..]
                .chars()
                .next()
                .filter(|&ch| is_name_body(ch) || ch == '?')
            {
                j += ch.len_utf8();
            }
            tok.kind = Kind::Param;
            i = j;
        } else {
            let two = rest.get(..2).unwrap_or("");
            i += if ["==", "!=", "<=", ">=", "=~", "::"].contains(&two) {
                2
            } else {
                c.len_utf8()
            };
        }
        tok.span = start..i;
        if tok.kind != Kind::Str {
            tok.value = src[start..i].to_string();
        }
        toks.push(tok);
        spaced = false;
    }
    (toks, comments)
}

/// A string literal's source form for `value`: verbatim inside `"""…"""`, escaped otherwise.
fn string_source(triple: bool, value: &str) -> String {
    if triple {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}

fn quoted(triple: bool, value: &str) -> String {
    let q = if triple { "\"\"\"" } else { "\"" };
    format!("{q}{}{q}", string_source(triple, value))
}

// ---- the linter -----------------------------------------------------------------------

/// A pipe segment: tokens `start..end` (the command word first, the `|` excluded).
#[derive(Debug, Clone, Copy)]
struct Seg {
    start: usize,
    end: usize,
}

struct Linter<'a> {
    src: &'a str,
    toks: Vec<Tok>,
    comments: Vec<Range<usize>>,
    /// For each opening `(`/`[`/`{` its closing token, and for each closing its opening.
    pair: Vec<Option<usize>>,
    segs: Vec<Seg>,
    /// The text handed to the `esql` parser (a stray `sql` line blanked out).
    parse_src: String,
    out: Vec<Finding>,
}

impl<'a> Linter<'a> {
    fn new(src: &'a str) -> Linter<'a> {
        let (toks, comments) = tokenize(src);
        let mut l = Linter {
            src,
            toks,
            comments,
            pair: Vec::new(),
            segs: Vec::new(),
            parse_src: src.to_string(),
            out: Vec::new(),
        };
        l.stray_sql_line();
        l.index();
        l
    }

    // -- helpers

    fn finding(
        &mut self,
        code: &'static str,
        at: usize,
        span: Range<usize>,
        message: String,
        fix: Option<String>,
    ) {
        let p = esql::Position::of(self.src, at);
        self.out.push(Finding {
            code,
            line: p.line,
            column: p.column,
            message,
            fix,
            span,
        });
    }

    fn text(&self, r: Range<usize>) -> &'a str {
        self.src.get(r).unwrap_or("")
    }

    /// Source text of tokens `a..b`.
    fn toks_text(&self, a: usize, b: usize) -> &'a str {
        if a >= b {
            return "";
        }
        self.text(self.toks[a].span.start..self.toks[b - 1].span.end)
    }

    fn kw(&self, i: usize, word: &str) -> bool {
        self.toks
            .get(i)
            .is_some_and(|t| t.kind == Kind::Name && t.value.eq_ignore_ascii_case(word))
    }

    fn op(&self, i: usize, s: &str) -> bool {
        self.toks
            .get(i)
            .is_some_and(|t| t.kind == Kind::Op && t.value == s)
    }

    fn is_open(&self, i: usize) -> bool {
        self.op(i, "(") || self.op(i, "[") || self.op(i, "{")
    }

    /// `name(` at `i`: the index of the `(`.
    fn call_at(&self, i: usize, name: &str) -> Option<usize> {
        (self.kw(i, name) && self.op(i + 1, "(") && !self.toks[i + 1].spaced).then_some(i + 1)
    }

    /// Splits tokens `a..b` at tokens (outside nested groups) for which `split` holds.
    fn split(&self, a: usize, b: usize, split: impl Fn(usize) -> bool) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut from = a;
        let mut i = a;
        while i < b {
            if self.is_open(i) {
                i = self.pair[i].map_or(b, |c| c + 1);
                continue;
            }
            if split(i) {
                out.push((from, i));
                from = i + 1;
            }
            i += 1;
        }
        out.push((from, b.max(from)));
        out
    }

    /// The arguments of the call whose `(` is at `open`, as token ranges.
    fn args(&self, open: usize) -> Option<Vec<(usize, usize)>> {
        let close = self.pair[open]?;
        if close == open + 1 {
            return Some(Vec::new());
        }
        Some(self.split(open + 1, close, |i| self.op(i, ",")))
    }

    fn command(&self, s: Seg) -> String {
        match self.toks.get(s.start) {
            Some(t) if s.start < s.end && t.kind == Kind::Name => t.value.to_ascii_lowercase(),
            _ => String::new(),
        }
    }

    fn seg_range(&self, s: Seg) -> Range<usize> {
        if s.start >= s.end {
            return 0..0;
        }
        self.toks[s.start].span.start..self.toks[s.end - 1].span.end
    }

    fn is_single(&self, (a, b): (usize, usize), kind: Kind) -> bool {
        b == a + 1 && self.toks[a].kind == kind
    }

    // -- setup

    /// `sql` alone before `from`: reported, then dropped so the other checks see the query.
    fn stray_sql_line(&mut self) {
        if !(self.kw(0, "sql") && self.kw(1, "from")) {
            return;
        }
        let t = self.toks[0].span.clone();
        let line_end = self.src[t.end..]
            .find('\n')
            .map_or(self.src.len(), |n| t.end + n + 1);
        self.parse_src
            .replace_range(t.clone(), &" ".repeat(t.end - t.start));
        self.finding(
            codes::STRAY_SQL_LINE,
            t.start,
            t.start..line_end,
            "a line holding only `sql` (left over from a Markdown code fence) precedes FROM, \
             so the query does not parse"
                .into(),
            Some(String::new()),
        );
        self.toks.remove(0);
    }

    fn index(&mut self) {
        let n = self.toks.len();
        self.pair = vec![None; n];
        let mut stack: Vec<usize> = Vec::new();
        for i in 0..n {
            if self.is_open(i) {
                stack.push(i);
            } else if self.op(i, ")") || self.op(i, "]") || self.op(i, "}") {
                if let Some(o) = stack.pop() {
                    self.pair[o] = Some(i);
                    self.pair[i] = Some(o);
                }
            }
        }
        // Unclosed groups close at the end, so `split` never runs past the text.
        let mut start = 0;
        let mut depth = 0usize;
        for i in 0..n {
            if self.is_open(i) {
                depth += 1;
            } else if self.pair[i].is_some() && !self.is_open(i) {
                depth = depth.saturating_sub(1);
            } else if depth == 0 && self.op(i, "|") {
                self.segs.push(Seg { start, end: i });
                start = i + 1;
            }
        }
        self.segs.push(Seg { start, end: n });
    }

    fn run(&mut self, options: &LintOptions) {
        self.date_format();
        self.assignment_in_where();
        self.like_patterns();
        self.starts_ends_with();
        self.limit_before_sort();
        self.sort_directions();
        self.integer_division();
        self.literal_comparisons();
        if options.time_bound_required {
            self.time_bound();
        }
        self.thresholds();
        self.lists();
        self.dropped_by_keep();
        self.chains_in_segments();
        self.small_syntax_slips();
    }

    // -- 1. DATE_FORMAT patterns

    fn date_format(&mut self) {
        for i in 0..self.toks.len() {
            let (name, parse) = if self.kw(i, "date_format") {
                ("DATE_FORMAT", false)
            } else if self.kw(i, "date_parse") {
                ("DATE_PARSE", true)
            } else {
                continue;
            };
            let Some(open) = self.call_at(i, name) else {
                continue;
            };
            let Some(args) = self.args(open) else {
                continue;
            };
            if args.len() != 2 {
                continue;
            }
            let pattern = if self.is_single(args[0], Kind::Str) {
                args[0].0
            } else if !parse && self.is_single(args[1], Kind::Str) {
                // DATE_FORMAT(date, "pattern"): ES wants the format first.
                let close = self.pair[open].unwrap_or(open);
                let call = self.toks[i].span.start..self.toks[close].span.end;
                let fix = format!(
                    "{}({}, {})",
                    self.toks[i].value,
                    self.toks_text(args[1].0, args[1].1),
                    self.toks_text(args[0].0, args[0].1)
                );
                self.finding(
                    codes::SWAPPED_ARGUMENTS,
                    call.start,
                    call,
                    "DATE_FORMAT takes the format first and the date second, \
                     so with the pattern last the query is rejected"
                        .into(),
                    Some(fix),
                );
                args[1].0
            } else {
                continue;
            };
            let t = &self.toks[pattern];
            if let Some((fixed, reasons)) = java_pattern_fix(&t.value) {
                let message = format!(
                    "{name} pattern {}: {}",
                    quoted(t.triple, &t.value),
                    reasons.join("; ")
                );
                let (span, fix) = (t.content.clone(), string_source(t.triple, &fixed));
                self.finding(
                    codes::DATE_FORMAT_PATTERN,
                    span.start,
                    span,
                    message,
                    Some(fix),
                );
            }
        }
    }

    // -- 2. `=` in WHERE

    fn assignment_in_where(&mut self) {
        for s in self.segs.clone() {
            if self.command(s) != "where" {
                continue;
            }
            for i in s.start + 1..s.end {
                if self.op(i, "=") {
                    let span = self.toks[i].span.clone();
                    self.finding(
                        codes::ASSIGNMENT_IN_WHERE,
                        span.start,
                        span,
                        "a single `=` is assignment in ES|QL; comparison is `==`, \
                         so this WHERE does not parse"
                            .into(),
                        Some("==".into()),
                    );
                }
            }
        }
    }

    // -- 3 and 5. LIKE and RLIKE patterns

    /// The string-literal patterns after `LIKE`/`RLIKE` at `i` (one, or a parenthesized list).
    fn like_pattern_tokens(&self, i: usize) -> Vec<usize> {
        let j = i + 1;
        match self.toks.get(j) {
            Some(t) if t.kind == Kind::Str => vec![j],
            Some(_) if self.op(j, "(") => self
                .args(j)
                .unwrap_or_default()
                .into_iter()
                .filter(|&a| self.is_single(a, Kind::Str))
                .map(|a| a.0)
                .collect(),
            _ => Vec::new(),
        }
    }

    fn like_patterns(&mut self) {
        for i in 0..self.toks.len() {
            let regex = if self.kw(i, "rlike") {
                true
            } else if self.kw(i, "like") {
                false
            } else {
                continue;
            };
            for p in self.like_pattern_tokens(i) {
                let t = self.toks[p].clone();
                if regex {
                    self.rlike_pattern(&t);
                } else if t.value.starts_with('%') || t.value.ends_with('%') {
                    // A `%` at either end is the SQL idiom; one in the middle alone may be
                    // a literal percent sign (`%20`), so it is left alone.
                    let fixed = t.value.replace('%', "*");
                    self.finding(
                        codes::SQL_LIKE_WILDCARD,
                        t.content.start,
                        t.content.clone(),
                        format!(
                            "ES|QL LIKE wildcards are `*` and `?`; `%` is a literal percent sign, \
                             so {} only matches values that contain `%` characters",
                            quoted(t.triple, &t.value)
                        ),
                        Some(string_source(t.triple, &fixed)),
                    );
                }
            }
        }
    }

    fn rlike_pattern(&mut self, t: &Tok) {
        let scan = scan_lucene_regex(&t.value);
        if !scan.anchors.is_empty() {
            let v = &t.value;
            // Only `^` first and `$` last can simply go; elsewhere (`(/|$)`) the intent needs
            // a rewrite that depends on the pattern, so there is no fix.
            let at_edges = scan
                .anchors
                .iter()
                .all(|&k| (k == 0 && v.starts_with('^')) || (k + 1 == v.len() && v.ends_with('$')));
            let shown = quoted(t.triple, v);
            let (message, fix) = if at_edges {
                let fixed: String = v
                    .char_indices()
                    .filter(|(k, _)| !scan.anchors.contains(k))
                    .map(|(_, c)| c)
                    .collect();
                (
                    format!(
                        "RLIKE uses Lucene regular expressions, which always match the whole value \
                         and have no `^`/`$` anchors: in {shown} they are literal characters, so \
                         the pattern never matches"
                    ),
                    Some(string_source(t.triple, &fixed)),
                )
            } else {
                (
                    format!(
                        "RLIKE uses Lucene regular expressions, which have no `^`/`$` anchors: in \
                         {shown} they match only a literal `^`/`$` character, not the start or end \
                         of the value"
                    ),
                    None,
                )
            };
            self.finding(
                codes::RLIKE_ANCHOR,
                t.content.start,
                t.content.clone(),
                message,
                fix,
            );
        }
        if let Some(k) = scan.repeated_quantifier {
            let pair = &t.value[k - 1..=k];
            // The offset maps into the source only for verbatim (triple-quoted) strings.
            let at = if t.triple {
                t.content.start + k - 1
            } else {
                t.content.start
            };
            self.finding(
                codes::RLIKE_REPEATED_QUANTIFIER,
                at,
                t.content.clone(),
                format!(
                    "`{pair}` in {} applies a quantifier to a quantifier, which Lucene reads as a \
                     repetition of the repetition; `.+` or `.*` was probably meant",
                    quoted(t.triple, &t.value)
                ),
                None,
            );
        }
    }

    // -- 4. STARTS_WITH / ENDS_WITH

    fn starts_ends_with(&mut self) {
        for i in 0..self.toks.len() {
            let starts = if self.kw(i, "starts_with") {
                true
            } else if self.kw(i, "ends_with") {
                false
            } else {
                continue;
            };
            let name = if starts { "STARTS_WITH" } else { "ENDS_WITH" };
            let what = if starts { "prefix" } else { "suffix" };
            let Some(open) = self.call_at(i, name) else {
                continue;
            };
            let (Some(args), Some(close)) = (self.args(open), self.pair[open]) else {
                continue;
            };
            if args.len() != 2 {
                continue;
            }
            let call = self.toks[i].span.start..self.toks[close].span.end;
            let (a0, a1) = (args[0], args[1]);
            if self.is_single(a0, Kind::Str) && !self.is_single(a1, Kind::Str) {
                let s = self.toks_text(a0.0, a0.1);
                let col = self.toks_text(a1.0, a1.1);
                let fix = format!("{}({col}, {s})", self.toks[i].value);
                self.finding(
                    codes::SWAPPED_ARGUMENTS,
                    call.start,
                    call.clone(),
                    format!(
                        "{name} takes (string, {what}): here the literal {s} is the string and \
                         `{col}` the {what}, so it holds only when `{col}` is a {what} of {s}"
                    ),
                    Some(fix),
                );
                continue;
            }
            if !self.is_single(a1, Kind::Str) || !self.toks[a1.0].value.contains('*') {
                continue;
            }
            // `?` alone is not flagged: it is common literally (URLs), unlike `*`.
            let t = self.toks[a1.0].clone();
            let v = &t.value;
            let trimmed = if starts {
                v.trim_end_matches('*')
            } else {
                v.trim_start_matches('*')
            };
            let message = format!(
                "{name} compares literally and has no wildcards, so the `*` in {} must itself \
                 occur in the value and the test practically never holds",
                quoted(t.triple, v)
            );
            if !trimmed.is_empty() && !trimmed.contains(['*', '?']) {
                self.finding(
                    codes::WILDCARD_IN_PREFIX,
                    t.content.start,
                    t.content.clone(),
                    message,
                    Some(string_source(t.triple, trimmed)),
                );
            } else {
                let pattern = if starts {
                    format!("{v}*")
                } else {
                    format!("*{v}")
                };
                let fix = format!(
                    "{} LIKE {}",
                    self.toks_text(a0.0, a0.1),
                    quoted(t.triple, &pattern)
                );
                self.finding(
                    codes::WILDCARD_IN_PREFIX,
                    t.content.start,
                    call,
                    message,
                    Some(fix),
                );
            }
        }
    }

    // -- 6. LIMIT before SORT

    fn limit_before_sort(&mut self) {
        let segs = self.segs.clone();
        for (k, &lim) in segs.iter().enumerate() {
            if self.command(lim) != "limit" {
                continue;
            }
            // Commands that keep every row (and its order) may sit between the two; the fix
            // moves LIMIT after SORT, so names they define stay available to SORT.
            let mut j = k + 1;
            while j < segs.len()
                && ["keep", "drop", "rename", "eval", "dissect", "grok"]
                    .contains(&self.command(segs[j]).as_str())
            {
                j += 1;
            }
            if j >= segs.len() || self.command(segs[j]) != "sort" {
                continue;
            }
            let lim_r = self.seg_range(lim);
            let sort_r = self.seg_range(segs[j]);
            let next_start = self.seg_range(segs[k + 1]).start;
            let sep = self.text(lim_r.end..next_start);
            let sep = if sep.contains('\n') { "\n| " } else { " | " };
            let fix = format!(
                "{}{sep}{}",
                self.text(next_start..sort_r.end),
                self.text(lim_r.clone())
            );
            let limit_text = self.text(lim_r.clone()).to_string();
            self.finding(
                codes::LIMIT_BEFORE_SORT,
                lim_r.start,
                lim_r.start..sort_r.end,
                format!(
                    "`{limit_text}` keeps arbitrary rows and only then sorts them; \
                     to keep the first rows in sort order, LIMIT after SORT"
                ),
                Some(fix),
            );
        }
    }

    // -- 7. SORT directions

    fn sort_directions(&mut self) {
        for s in self.segs.clone() {
            if self.command(s) != "sort" {
                continue;
            }
            let keys = self.split(s.start + 1, s.end, |i| self.op(i, ","));
            if keys.len() < 2 {
                continue;
            }
            // Per key: where its expression ends (before ASC/DESC/NULLS) and its direction.
            let parsed: Vec<(usize, usize, Option<usize>)> = keys
                .iter()
                .map(|&(a, b)| {
                    let mut end = b;
                    let nulls = (a..b).find(|&i| self.kw(i, "nulls"));
                    if let Some(n) = nulls {
                        end = n;
                    }
                    let dir = (end > a && (self.kw(end - 1, "asc") || self.kw(end - 1, "desc")))
                        .then(|| end - 1);
                    (a, dir.unwrap_or(end), dir)
                })
                .collect();
            let explicit = parsed.iter().filter(|k| k.2.is_some()).count();
            if explicit == 0 || explicit == parsed.len() || parsed.iter().any(|k| k.0 >= k.1) {
                continue;
            }
            let mut fix = String::new();
            let first = self.toks[parsed[0].0].span.start;
            let mut cursor = first;
            let mut unmarked = Vec::new();
            let mut changes_order = false;
            for (n, &(a, expr_end, dir)) in parsed.iter().enumerate() {
                if dir.is_some() {
                    continue;
                }
                // The direction the author most likely meant: the next written one.
                let d = parsed[n + 1..]
                    .iter()
                    .chain(parsed[..n].iter().rev())
                    .find_map(|k| k.2)
                    .expect("some key has a direction");
                let word = self.toks[d].value.clone();
                changes_order |= word.eq_ignore_ascii_case("desc");
                let at = self.toks[expr_end - 1].span.end;
                fix.push_str(self.text(cursor..at));
                fix.push(' ');
                fix.push_str(&word);
                cursor = at;
                unmarked.push(format!("`{}`", self.toks_text(a, expr_end)));
            }
            let end = self.toks[keys.last().expect("two keys").1 - 1].span.end;
            fix.push_str(self.text(cursor..end));
            let consequence = match (changes_order, unmarked.len()) {
                (true, 1) => "so it sorts ascending although the other keys say DESC",
                (true, _) => "so they sort ascending although the other keys say DESC",
                (false, _) => {
                    "which happens to match here but reads as if one direction covered every key"
                }
            };
            let verb = if unmarked.len() == 1 {
                "has no direction and sorts"
            } else {
                "have no direction and sort"
            };
            let at = self.toks[parsed.iter().find(|k| k.2.is_none()).expect("unmarked").0]
                .span
                .start;
            self.finding(
                codes::SORT_DIRECTION,
                at,
                first..end,
                format!(
                    "ASC/DESC applies only to the key it follows: {} {verb} ascending (the \
                     default), {consequence}; write the direction on every key",
                    unmarked.join(", ")
                ),
                Some(fix),
            );
        }
    }

    // -- 8. integer division (AST)

    fn integer_division(&mut self) {
        let Ok(query) = esql::parse(&self.parse_src) else {
            return;
        };
        let mut env: HashMap<String, IntInfo> = HashMap::new();
        let mut found = Vec::new();
        for cmd in &query.commands {
            use esql::ast::Command as C;
            match cmd {
                C::Eval { fields, .. } => {
                    for f in fields {
                        divisions(&f.expr, &env, &mut found);
                        let name = f
                            .name
                            .as_ref()
                            .map(|n| n.0.clone())
                            .unwrap_or_else(|| f.expr.span.text(&self.parse_src).to_string());
                        match int_info(&f.expr, &env) {
                            Some(info) => env.insert(name, info),
                            None => env.remove(&name),
                        };
                    }
                }
                C::Where { cond, .. } => divisions(cond, &env, &mut found),
                C::Sort { keys, .. } => {
                    for k in keys {
                        divisions(&k.expr, &env, &mut found);
                    }
                }
                C::Stats { aggs, groups, .. } => {
                    let mut next = HashMap::new();
                    for g in groups {
                        divisions(&g.expr, &env, &mut found);
                        let name = g
                            .name
                            .as_ref()
                            .map(|n| n.0.clone())
                            .unwrap_or_else(|| g.expr.span.text(&self.parse_src).to_string());
                        if let Some(info) = int_info(&g.expr, &env) {
                            next.insert(name, info);
                        }
                    }
                    for a in aggs {
                        divisions(&a.field.expr, &env, &mut found);
                        if let Some(f) = &a.filter {
                            divisions(f, &env, &mut found);
                        }
                        let name = a
                            .field
                            .name
                            .as_ref()
                            .map(|n| n.0.clone())
                            .unwrap_or_else(|| a.field.expr.span.text(&self.parse_src).to_string());
                        if let Some(info) = int_info(&a.field.expr, &env) {
                            next.insert(name, info);
                        }
                    }
                    env = next;
                }
                C::Rename { pairs, .. } => {
                    for ((old, _), (new, _)) in pairs {
                        if let Some(info) = env.remove(old) {
                            env.insert(new.clone(), info);
                        }
                    }
                }
                _ => {}
            }
        }
        for (left, right, right_nonzero) in found {
            let l = self.text(left.clone()).to_string();
            let r = self.text(right.clone()).to_string();
            let mut message = format!(
                "`{l}` and `{r}` are both integers, so `/` truncates the quotient \
                 (7 / 2 is 3); convert one side with TO_DOUBLE"
            );
            if !right_nonzero {
                message.push_str(&format!(
                    ". `{r}` can also be 0, and then the result is null (with a warning)"
                ));
            }
            self.finding(
                codes::INTEGER_DIVISION,
                left.start,
                left.start..right.end,
                message,
                Some(format!("TO_DOUBLE({l}) / {r}")),
            );
        }
    }

    // -- 9 and extras: comparisons with literals

    fn literal_comparisons(&mut self) {
        for i in 0..self.toks.len() {
            if !(self.op(i, "==") || self.op(i, "!=")) || i == 0 || i + 1 >= self.toks.len() {
                continue;
            }
            let eq = self.op(i, "==");
            // The literal on either side, and a plain field name on the other.
            let (name, lit) = if self.toks[i + 1].kind == Kind::Str {
                (i - 1, i + 1)
            } else if self.toks[i - 1].kind == Kind::Str {
                (i + 1, i - 1)
            } else {
                continue;
            };
            let plain_name = self.toks[name].kind == Kind::Name
                && !(name == i - 1
                    && i >= 2
                    && self.toks[i - 2].kind == Kind::Op
                    && [".", "::"].contains(&self.toks[i - 2].value.as_str()))
                && !(name == i + 1 && self.op(i + 2, "("));
            if !plain_name {
                continue;
            }
            let field = self.toks[name].value.clone();
            let t = self.toks[lit].clone();
            let span = self.toks[name.min(lit)].span.start..self.toks[name.max(lit)].span.end;
            if t.value.is_empty() {
                let (op, fix) = if eq {
                    ("==", format!("{field} IS NULL"))
                } else {
                    ("!=", format!("{field} IS NOT NULL"))
                };
                self.finding(
                    codes::EMPTY_STRING_COMPARISON,
                    span.start,
                    span,
                    format!(
                        "Elastic's ingest pipeline removes empty strings, so `{field}` is never \"\" \
                         and `{op} \"\"` is {}; a missing value is null",
                        if eq { "never true" } else { "the same as IS NOT NULL" }
                    ),
                    Some(fix),
                );
            } else if t.value.contains('*') {
                let op = if eq { "==" } else { "!=" };
                let fix = (t.value != "*").then(|| {
                    let like = format!("{field} LIKE {}", quoted(t.triple, &t.value));
                    if eq {
                        like
                    } else {
                        format!("NOT {like}")
                    }
                });
                self.finding(
                    codes::LITERAL_ASTERISK,
                    span.start,
                    span,
                    format!(
                        "note: `{op}` compares literally (wildcards work only in LIKE), so this tests \
                         for the exact text {}; fine if a literal `*` is meant, otherwise use LIKE",
                        quoted(t.triple, &t.value)
                    ),
                    fix,
                );
            }
        }
        // Status codes written `0X…`: Windows logs `0x…` and comparisons are case-sensitive.
        for i in 0..self.toks.len() {
            let t = &self.toks[i];
            let hex = t.kind == Kind::Str
                && t.value.len() > 2
                && t.value.starts_with("0X")
                && t.value[2..].chars().all(|c| c.is_ascii_hexdigit());
            let compared = i > 0
                && (self.op(i - 1, "==")
                    || self.op(i - 1, "!=")
                    || self.op(i - 1, "(")
                    || self.op(i - 1, ",")
                    || self.op(i + 1, "==")
                    || self.op(i + 1, "!="));
            if hex && compared {
                let t = t.clone();
                let fixed = format!("0x{}", &t.value[2..]);
                self.finding(
                    codes::HEX_CAPITAL_X,
                    t.content.start,
                    t.content.clone(),
                    format!(
                        "string comparison is case-sensitive and hexadecimal codes are logged as \
                         `0x…`, so {} probably never matches",
                        quoted(t.triple, &t.value)
                    ),
                    Some(string_source(t.triple, &fixed)),
                );
            }
        }
    }

    // -- 10. time bound

    fn time_bound(&mut self) {
        let Some(&first) = self.segs.first() else {
            return;
        };
        if self.command(first) != "from" {
            return;
        }
        let bounded = self.segs.iter().any(|&s| {
            self.command(s) == "where"
                && (s.start..s.end)
                    .any(|i| self.kw(i, "@timestamp") || self.call_at(i, "now").is_some())
        });
        if bounded {
            return;
        }
        let r = self.seg_range(first);
        let lower = self.toks[first.start].value == "from";
        let filter = if lower {
            "| where @timestamp > now() - 7 day"
        } else {
            "| WHERE @timestamp > NOW() - 7 day"
        };
        let fix = format!("{}\n{filter}", self.text(r.clone()));
        self.finding(
            codes::NO_TIME_BOUND,
            r.start,
            r,
            "the query has no time filter, so it scans the whole index (and its results grow \
             with it); hunts usually bound @timestamp relative to NOW()"
                .into(),
            Some(fix),
        );
    }

    // -- 11. thresholds vs comments

    /// Comparisons `name op N` / `N op name` with an integer, in tokens `a..b`.
    fn int_comparisons(&self, a: usize, b: usize) -> Vec<Cmp> {
        let arith = |i: usize| {
            self.toks.get(i).is_some_and(|t| {
                t.kind == Kind::Op && ["+", "-", "*", "/", "%", "."].contains(&t.value.as_str())
            })
        };
        let mut out = Vec::new();
        for i in a..b.saturating_sub(2) {
            if self.toks[i + 1].kind != Kind::Op {
                continue;
            }
            let op: &'static str = match self.toks[i + 1].value.as_str() {
                "<" => "<",
                "<=" => "<=",
                ">" => ">",
                ">=" => ">=",
                _ => continue,
            };
            let (x, y) = (&self.toks[i], &self.toks[i + 2]);
            let (name, n, op) = match (x.kind, y.kind) {
                (Kind::Name, Kind::Num) => (i, y.value.parse::<i64>(), op),
                (Kind::Num, Kind::Name) => (i + 2, x.value.parse::<i64>(), flip(op)),
                _ => continue,
            };
            let Ok(n) = n else { continue };
            if (i > 0 && arith(i - 1)) || arith(i + 3) || self.op(i + 3, "(") {
                continue;
            }
            out.push(Cmp {
                name: self.toks[name].value.clone(),
                op,
                n,
                span: x.span.start..y.span.end,
            });
        }
        out
    }

    fn thresholds(&mut self) {
        let mut flagged: Vec<Range<usize>> = Vec::new();
        for c in self.comments.clone() {
            let claims = threshold_claims(self.text(c.clone()));
            if claims.is_empty() {
                continue;
            }
            // The comparisons that follow the comment: in its own pipe segment and the next.
            let k = self
                .segs
                .iter()
                .rposition(|s| s.start < s.end && self.toks[s.start].span.start <= c.start);
            let (from, to) = match k {
                Some(k) => {
                    let s = self.segs[k];
                    let from = (s.start..s.end)
                        .find(|&i| self.toks[i].span.start >= c.end)
                        .unwrap_or(s.end);
                    let to = self.segs.get(k + 1).map_or(s.end, |n| n.end);
                    (from, to)
                }
                None => (0, self.segs.first().map_or(0, |s| s.end)),
            };
            let cmps = self.int_comparisons(from, to);
            for claim in claims {
                let same_direction: Vec<&Cmp> = cmps
                    .iter()
                    .filter(|x| claim.bound.upward() == upward(x.op))
                    .collect();
                if same_direction.is_empty()
                    || same_direction
                        .iter()
                        .any(|x| claim.bound.agrees(claim.n, x.op, x.n))
                {
                    continue;
                }
                let Some(cmp) = same_direction
                    .iter()
                    .min_by_key(|x| (x.n - claim.n).abs())
                    .copied()
                else {
                    continue;
                };
                if flagged.contains(&cmp.span) {
                    continue;
                }
                flagged.push(cmp.span.clone());
                let written = self.text(cmp.span.clone()).to_string();
                let fix = format!("{} {} {}", cmp.name, claim.bound.op(), claim.n);
                self.finding(
                    codes::THRESHOLD_COMMENT,
                    cmp.span.start,
                    cmp.span.clone(),
                    format!(
                        "the comment says \"{}\" but the code tests `{written}`; one of them is wrong \
                         (the fix follows the comment)",
                        claim.phrase
                    ),
                    Some(fix),
                );
            }
        }
    }

    // -- extras: duplicates in lists

    fn lists(&mut self) {
        for i in 0..self.toks.len() {
            let entries = if self.kw(i, "in") && self.op(i + 1, "(") {
                self.args(i + 1).unwrap_or_default()
            } else if let Some(open) = self.call_at(i, "cidr_match") {
                self.args(open)
                    .unwrap_or_default()
                    .into_iter()
                    .skip(1)
                    .collect()
            } else {
                continue;
            };
            self.duplicate_entries(&entries, "list");
        }
        for s in self.segs.clone() {
            if self.command(s) == "keep" {
                let entries = self.split(s.start + 1, s.end, |i| self.op(i, ","));
                self.duplicate_entries(&entries, "KEEP");
            }
        }
    }

    fn duplicate_entries(&mut self, entries: &[(usize, usize)], what: &str) {
        let mut seen: Vec<(String, usize)> = Vec::new();
        for (n, &(a, b)) in entries.iter().enumerate() {
            if a >= b {
                continue;
            }
            let key = if b == a + 1 {
                let t = &self.toks[a];
                format!("{:?}:{}", t.kind, t.value)
            } else {
                self.toks_text(a, b).to_string()
            };
            match seen.iter().find(|(k, _)| *k == key) {
                Some(&(_, first)) => {
                    let prev_end = self.toks[entries[n - 1].1 - 1].span.end;
                    let text = self.toks_text(a, b).to_string();
                    let at = self.toks[a].span.start;
                    self.finding(
                        codes::DUPLICATE_LIST_ENTRY,
                        at,
                        prev_end..self.toks[b - 1].span.end,
                        format!(
                            "{text} is already entry {} of this {what}; the repeat is harmless but \
                             often a sign that a different value was meant",
                            first + 1
                        ),
                        Some(String::new()),
                    );
                }
                None => seen.push((key, n)),
            }
        }
    }

    // -- extras: columns a KEEP removed

    /// After a KEEP of plain names, follows the columns through the commands whose outputs
    /// can be read off the text (EVAL, DISSECT, STATS, WHERE, SORT, LIMIT, DROP) and flags a
    /// name that is no longer there. Anything else (RENAME, GROK, ENRICH, …) ends the check.
    fn dropped_by_keep(&mut self) {
        const WORDS: &[&str] = &[
            "and",
            "or",
            "not",
            "in",
            "is",
            "like",
            "rlike",
            "null",
            "true",
            "false",
            "by",
            "as",
            "asc",
            "desc",
            "nulls",
            "first",
            "last",
            "where",
            "on",
            "with",
            "append_separator",
        ];
        let segs = self.segs.clone();
        for (k, &keep) in segs.iter().enumerate() {
            if self.command(keep) != "keep" {
                continue;
            }
            let entries = self.split(keep.start + 1, keep.end, |i| self.op(i, ","));
            if entries.iter().any(|&e| !self.is_single(e, Kind::Name)) {
                continue;
            }
            let mut avail: Vec<String> = entries
                .iter()
                .map(|e| self.toks[e.0].value.clone())
                .collect();
            let mut reported: Vec<String> = Vec::new();
            for &seg in &segs[k + 1..] {
                let cmd = self.command(seg);
                if !["where", "sort", "eval", "stats", "dissect", "limit", "drop"]
                    .contains(&cmd.as_str())
                {
                    break;
                }
                let mut defined: Vec<String> = Vec::new();
                let mut groups: Vec<String> = Vec::new();
                let mut after_by = false;
                for i in seg.start + 1..seg.end {
                    let t = &self.toks[i];
                    if t.kind != Kind::Name {
                        continue;
                    }
                    let v = t.value.clone();
                    if self.kw(i, "by") {
                        after_by = true;
                        continue;
                    }
                    let number_before = i > 0 && self.toks[i - 1].kind == Kind::Num;
                    if self.op(i + 1, "(")
                        || number_before
                        || WORDS.contains(&v.to_ascii_lowercase().as_str())
                    {
                        continue;
                    }
                    if self.op(i + 1, "=") {
                        defined.push(v.clone());
                        if after_by {
                            groups.push(v);
                        }
                        continue;
                    }
                    if after_by && (self.op(i + 1, ",") || i + 1 == seg.end) {
                        groups.push(v.clone());
                    }
                    if cmd == "drop"
                        || avail.contains(&v)
                        || defined.contains(&v)
                        || reported.contains(&v)
                    {
                        continue;
                    }
                    reported.push(v.clone());
                    let keep_r = self.seg_range(keep);
                    let fix = format!("{}, {v}", self.text(keep_r.clone()));
                    let at = t.span.start;
                    self.finding(
                        codes::DROPPED_BY_KEEP,
                        at,
                        keep_r,
                        format!(
                            "`{v}` is used here but the KEEP before it does not keep it, so the \
                             query is rejected (unknown column); keep it or remove the use"
                        ),
                        Some(fix),
                    );
                }
                match cmd.as_str() {
                    "eval" => avail.extend(defined),
                    "stats" => {
                        avail = defined;
                        avail.extend(groups);
                    }
                    "drop" => {
                        let dropped: Vec<String> = (seg.start + 1..seg.end)
                            .filter(|&i| self.toks[i].kind == Kind::Name)
                            .map(|i| self.toks[i].value.clone())
                            .collect();
                        avail.retain(|c| !dropped.contains(c));
                    }
                    "dissect" => {
                        let pattern =
                            (seg.start + 1..seg.end).find(|&i| self.toks[i].kind == Kind::Str);
                        match pattern.and_then(|p| dissect_keys(&self.toks[p].value)) {
                            Some(keys) => avail.extend(keys),
                            None => break,
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    // -- extras: AND/OR chains

    fn chains_in_segments(&mut self) {
        for s in self.segs.clone() {
            if ["where", "eval", "stats"].contains(&self.command(s).as_str()) {
                self.chains(s.start + 1, s.end);
            }
        }
    }

    /// Checks every AND/OR chain in tokens `a..b` and in the groups nested in them.
    fn chains(&mut self, a: usize, b: usize) {
        for (x, y) in self.split(a, b, |i| self.op(i, ",")) {
            self.chain(x, y);
        }
        let mut i = a;
        while i < b {
            if self.is_open(i) {
                let close = self.pair[i].unwrap_or(b).min(b);
                self.chains(i + 1, close);
                i = close + 1;
            } else {
                i += 1;
            }
        }
    }

    fn chain(&mut self, a: usize, b: usize) {
        let disjuncts = self.split(a, b, |i| self.kw(i, "or"));
        self.duplicates_in(&disjuncts, "OR");
        let mut conj_counts = Vec::new();
        for &(x, y) in &disjuncts {
            let conjuncts = self.split(x, y, |i| self.kw(i, "and"));
            self.duplicates_in(&conjuncts, "AND");
            conj_counts.push((conjuncts.iter().filter(|c| c.0 < c.1).count(), conjuncts));
        }
        let nonempty = disjuncts.iter().filter(|d| d.0 < d.1).count();
        if disjuncts.len() < 2 || nonempty < 2 || !conj_counts.iter().any(|c| c.0 >= 2) {
            return;
        }
        let or_tok = disjuncts[0].1;
        let at = self.toks[or_tok].span.start;
        let end = self.toks[b - 1].span.end;
        // `A and B or C`: most likely `A and (B or C)` was meant.
        let fix = (conj_counts[0].0 >= 2 && conj_counts[1..].iter().all(|c| c.0 == 1)).then(|| {
            let last = *conj_counts[0].1.last().expect("conjuncts");
            let start = self.toks[last.0].span.start;
            (start, format!("({})", self.text(start..end)))
        });
        let (span, fix) = match fix {
            Some((start, f)) => (start..end, Some(f)),
            None => (self.toks[a].span.start..end, None),
        };
        let or_text = self.toks[or_tok].value.clone();
        self.finding(
            codes::AND_OR_PRECEDENCE,
            at,
            span,
            format!(
                "AND binds tighter than OR, so the conditions joined by AND before this `{or_text}` \
                 do not apply to the branch after it; add parentheses to say which is meant"
            ),
            fix,
        );
    }

    fn duplicates_in(&mut self, operands: &[(usize, usize)], joiner: &str) {
        let mut seen: Vec<Vec<(Kind, String)>> = Vec::new();
        for (n, &(a, b)) in operands.iter().enumerate() {
            if a >= b {
                continue;
            }
            let key: Vec<(Kind, String)> = (a..b)
                .map(|i| {
                    let t = &self.toks[i];
                    let keyword = t.kind == Kind::Name
                        && (self.op(i + 1, "(")
                            || [
                                "and", "or", "not", "like", "rlike", "in", "is", "null", "true",
                                "false",
                            ]
                            .contains(&t.value.to_ascii_lowercase().as_str()));
                    let v = if keyword {
                        t.value.to_ascii_lowercase()
                    } else {
                        t.value.clone()
                    };
                    (t.kind, v)
                })
                .collect();
            if seen.contains(&key) {
                let prev = operands[..n]
                    .iter()
                    .rev()
                    .find(|p| p.0 < p.1)
                    .expect("an earlier operand");
                let prev_end = self.toks[prev.1 - 1].span.end;
                let text = self.toks_text(a, b).to_string();
                self.finding(
                    codes::DUPLICATE_OPERAND,
                    self.toks[a].span.start,
                    prev_end..self.toks[b - 1].span.end,
                    format!(
                        "`{text}` is tested twice in the same {joiner}; the repeat is redundant and \
                         a different condition was probably meant"
                    ),
                    Some(String::new()),
                );
            } else {
                seen.push(key);
            }
        }
    }

    // -- extras: small syntax slips

    fn small_syntax_slips(&mut self) {
        let n = self.toks.len();
        // FROM holds index patterns (`from .alerts-*`), not expressions.
        let first = match self.segs.first() {
            Some(&s) if self.command(s) == "from" => s.end,
            _ => 0,
        };
        for i in first..n {
            // now(-)
            if let Some(open) = self.call_at(i, "now") {
                if let Some(close) = self.pair[open].filter(|&c| c > open + 1) {
                    let span = self.toks[open].span.start..self.toks[close].span.end;
                    self.finding(
                        codes::NOW_ARGUMENT,
                        self.toks[open + 1].span.start,
                        span.clone(),
                        format!(
                            "NOW() takes no arguments; `now{}` does not parse",
                            self.text(span)
                        ),
                        Some("()".into()),
                    );
                }
            }
            // `and`/`or` with nothing after it
            if (self.kw(i, "and") || self.kw(i, "or")) && i > 0 {
                let next_ends =
                    i + 1 >= n || self.op(i + 1, ")") || self.op(i + 1, "|") || self.op(i + 1, ",");
                if next_ends {
                    let t = self.toks[i].clone();
                    let prev_end = self.toks[i - 1].span.end;
                    self.finding(
                        codes::DANGLING_OPERATOR,
                        t.span.start,
                        prev_end..t.span.end,
                        format!(
                            "`{}` has no right-hand operand, so the query does not parse",
                            t.value
                        ),
                        Some(String::new()),
                    );
                }
            }
            // `a.b .c`
            if self.toks[i].kind == Kind::Name
                && self.op(i + 1, ".")
                && self.toks[i + 1].spaced
                && self
                    .toks
                    .get(i + 2)
                    .is_some_and(|t| t.kind == Kind::Name && !t.spaced)
            {
                let (a, c) = (&self.toks[i], &self.toks[i + 2]);
                let span = a.span.start..c.span.end;
                let fix = format!("{}.{}", a.value, c.value);
                self.finding(
                    codes::SPACED_DOT,
                    self.toks[i + 1].span.start,
                    span.clone(),
                    format!(
                        "a space splits the field name `{}`; parsers disagree on whether \
                         `name .part` is one name, so write it without the space",
                        self.text(span)
                    ),
                    Some(fix),
                );
            }
        }
        // `name = BY …` / `name = ,` in STATS
        for s in self.segs.clone() {
            if self.command(s) != "stats" {
                continue;
            }
            for i in s.start + 1..s.end {
                if self.op(i, "=")
                    && (i + 1 >= s.end || self.kw(i + 1, "by") || self.op(i + 1, ","))
                {
                    let name = self.toks[i - 1].value.clone();
                    let span = self.toks[i - 1].span.start..self.toks[i].span.end;
                    self.finding(
                        codes::MISSING_AGGREGATE,
                        self.toks[i].span.start,
                        span,
                        format!(
                            "`{name} =` has no aggregate after it, so the query does not parse \
                             (perhaps `{name} = count(*)` was meant)"
                        ),
                        None,
                    );
                }
            }
        }
    }
}

// ---- Java date patterns ---------------------------------------------------------------

/// The corrected pattern and the reasons, when `pattern` has letters that are probably
/// wrong. Only runs of pattern letters are looked at; `'quoted'` text is literal.
fn java_pattern_fix(pattern: &str) -> Option<(String, Vec<String>)> {
    // Pieces: (letter, count, byte range) for letter runs; separators in between.
    #[derive(Clone)]
    struct Run {
        letter: char,
        range: Range<usize>,
    }
    let mut runs: Vec<Run> = Vec::new();
    let mut i = 0;
    let b = pattern.as_bytes();
    while i < b.len() {
        let c = b[i] as char;
        if c == '\'' {
            // Quoted literal text; `''` is a quote.
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && b[i] == c as u8 {
                i += 1;
            }
            runs.push(Run {
                letter: c,
                range: start..i,
            });
        } else {
            i += 1;
        }
    }
    let has = |l: char| runs.iter().any(|r| r.letter == l);
    let sep_between = |a: &Run, z: &Run| pattern.get(a.range.end..z.range.start).unwrap_or("");
    let is_date = |l: char| matches!(l, 'y' | 'Y' | 'u' | 'd' | 'D');
    let mut replace: Vec<(Range<usize>, char)> = Vec::new();
    let mut reasons = Vec::new();
    let mut month_found = has('M') || has('L');
    // mm used as a month: no M anywhere and a date field beside it (not after `:`).
    if !month_found {
        for (k, r) in runs.iter().enumerate() {
            if r.letter != 'm' {
                continue;
            }
            let prev = k.checked_sub(1).map(|p| &runs[p]);
            let next = runs.get(k + 1);
            let beside_date = prev
                .is_some_and(|p| is_date(p.letter) && !sep_between(p, r).contains(':'))
                || next.is_some_and(|n| is_date(n.letter) && !sep_between(r, n).contains(':'));
            if beside_date {
                replace.push((r.range.clone(), 'M'));
                month_found = true;
            }
        }
        if month_found {
            reasons.push("`m` is minute-of-hour, month is `M`".to_string());
        }
    }
    if has('Y') && !has('w') {
        for r in runs.iter().filter(|r| r.letter == 'Y') {
            replace.push((r.range.clone(), 'y'));
        }
        reasons.push(
            "`Y` is the week-based year, which differs from the calendar year `y` around New Year"
                .to_string(),
        );
    }
    if has('D') && month_found {
        for r in runs.iter().filter(|r| r.letter == 'D') {
            replace.push((r.range.clone(), 'd'));
        }
        reasons.push("`D` is day-of-year, day-of-month is `d`".to_string());
    }
    if (has('h') || has('K')) && !has('a') && !has('B') {
        for r in runs.iter().filter(|r| r.letter == 'h' || r.letter == 'K') {
            replace.push((r.range.clone(), 'H'));
        }
        reasons.push(
            "`h` is the 12-hour clock and without an `a` (am/pm) marker 01:00 and 13:00 look the \
             same; the 24-hour clock is `H`"
                .to_string(),
        );
    }
    if replace.is_empty() {
        return None;
    }
    let mut fixed = pattern.to_string();
    for (range, letter) in replace {
        fixed.replace_range(range.clone(), &letter.to_string().repeat(range.len()));
    }
    Some((fixed, reasons))
}

/// The columns a DISSECT pattern creates, or `None` for reference keys (`%{*k}`/`%{&k}`)
/// whose names come from the data.
fn dissect_keys(pattern: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find("%{") {
        let after = &rest[open + 2..];
        let close = after.find('}')?;
        let key = &after[..close];
        let key = key.split("->").next().unwrap_or("");
        let key = key.trim_start_matches('+');
        if key.starts_with(['*', '&']) {
            return None;
        }
        let key = key.split('/').next().unwrap_or("");
        if !key.is_empty() && !key.starts_with('?') {
            out.push(key.to_string());
        }
        rest = &after[close + 1..];
    }
    Some(out)
}

// ---- Lucene regex ---------------------------------------------------------------------

struct RegexScan {
    /// Byte offsets (in the pattern) of `^`/`$` outside classes and escapes.
    anchors: Vec<usize>,
    /// Byte offset of a quantifier that follows another quantifier.
    repeated_quantifier: Option<usize>,
}

fn scan_lucene_regex(p: &str) -> RegexScan {
    let b = p.as_bytes();
    let mut anchors = Vec::new();
    let mut repeated_quantifier = None;
    let mut i = 0;
    let mut prev_quantifier = false;
    while i < b.len() {
        let c = b[i];
        let mut quantifier = false;
        match c {
            b'\\' => i += 1,
            b'[' => {
                // Skip the class; `^` right after `[` negates it and is not an anchor.
                i += 1;
                while i < b.len() && b[i] != b']' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'"' => {
                // Lucene's quoted literal string.
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += 1;
                }
            }
            b'{' => {
                while i < b.len() && b[i] != b'}' {
                    i += 1;
                }
                quantifier = true;
            }
            b'^' | b'$' => anchors.push(i),
            b'*' | b'+' | b'?' => {
                quantifier = true;
                if prev_quantifier && repeated_quantifier.is_none() {
                    repeated_quantifier = Some(i);
                }
            }
            _ => {}
        }
        prev_quantifier = quantifier;
        i += 1;
    }
    RegexScan {
        anchors,
        repeated_quantifier,
    }
}

// ---- thresholds -----------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Bound {
    fn upward(self) -> bool {
        matches!(self, Bound::Gt | Bound::Ge)
    }

    fn op(self) -> &'static str {
        match self {
            Bound::Gt => ">",
            Bound::Ge => ">=",
            Bound::Lt => "<",
            Bound::Le => "<=",
        }
    }

    /// Whether `x op m` means the same as this bound on `n`, for integers
    /// (`> 9` and `>= 10` agree with "at least 10").
    fn agrees(self, n: i64, op: &str, m: i64) -> bool {
        match (self, op) {
            (Bound::Gt, ">") | (Bound::Ge, ">=") | (Bound::Lt, "<") | (Bound::Le, "<=") => m == n,
            (Bound::Gt, ">=") | (Bound::Le, "<") => m == n + 1,
            (Bound::Ge, ">") | (Bound::Lt, "<=") => m + 1 == n,
            _ => false,
        }
    }
}

fn flip(op: &'static str) -> &'static str {
    match op {
        "<" => ">",
        "<=" => ">=",
        ">" => "<",
        ">=" => "<=",
        o => o,
    }
}

fn upward(op: &str) -> bool {
    op == ">" || op == ">="
}

struct Cmp {
    name: String,
    op: &'static str,
    n: i64,
    span: Range<usize>,
}

struct Claim {
    bound: Bound,
    n: i64,
    phrase: String,
}

/// `more than 10`, `at least 15`, … in a comment.
fn threshold_claims(comment: &str) -> Vec<Claim> {
    const PHRASES: &[(&str, Bound)] = &[
        ("more than or equal to", Bound::Ge),
        ("greater than or equal to", Bound::Ge),
        ("less than or equal to", Bound::Le),
        ("fewer than or equal to", Bound::Le),
        ("no more than", Bound::Le),
        ("not more than", Bound::Le),
        ("no fewer than", Bound::Ge),
        ("no less than", Bound::Ge),
        ("more than", Bound::Gt),
        ("greater than", Bound::Gt),
        ("at least", Bound::Ge),
        ("fewer than", Bound::Lt),
        ("less than", Bound::Lt),
        ("at most", Bound::Le),
    ];
    const WORDS: &[&str] = &[
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    let lower = comment.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lower.len() {
        let at_word = i == 0 || !lower.as_bytes()[i - 1].is_ascii_alphanumeric();
        let found = at_word
            .then(|| {
                // Bytes, not `str` slices: `i` may sit inside a multi-byte character, and an
                // ASCII phrase can only match where a character starts.
                PHRASES
                    .iter()
                    .find(|(p, _)| lower.as_bytes()[i..].starts_with(p.as_bytes()))
            })
            .flatten();
        let Some(&(phrase, bound)) = found else {
            i += 1;
            continue;
        };
        let mut j = i + phrase.len();
        let rest = &lower[j..];
        let ws = rest.len() - rest.trim_start().len();
        j += ws;
        let word_len = lower[j..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(lower.len() - j);
        let word = &lower[j..j + word_len];
        let n = if !word.is_empty() && word.bytes().all(|c| c.is_ascii_digit()) {
            word.parse().ok()
        } else {
            WORDS.iter().position(|w| *w == word).map(|n| n as i64)
        };
        if let (Some(n), true) = (n, ws > 0) {
            out.push(Claim {
                bound,
                n,
                phrase: comment[i..j + word_len].to_string(),
            });
        }
        i += phrase.len();
    }
    out
}

// ---- integer typing over the AST ------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct IntInfo {
    /// Known never to be 0 (a non-zero literal, `COUNT(*)` of a group).
    nonzero: bool,
}

/// Whether `e` is an integer, from literals, integer-valued functions and columns the
/// query itself computed as integers (source fields' types are unknown here).
fn int_info(e: &esql::ast::Expr, env: &HashMap<String, IntInfo>) -> Option<IntInfo> {
    use esql::ast::{BinaryOp, ExprKind as K, Literal as L};
    match &e.kind {
        K::Literal(L::Integer(n)) => Some(IntInfo { nonzero: *n != 0 }),
        K::Literal(L::Long(n)) => Some(IntInfo { nonzero: *n != 0 }),
        K::Literal(L::UnsignedLong(n)) => Some(IntInfo { nonzero: *n != 0 }),
        K::Column(name) => env.get(name).copied(),
        K::Neg(inner) => int_info(inner, env),
        K::Binary { op, left, right } if op.is_arithmetic() => {
            let (l, r) = (int_info(left, env)?, int_info(right, env)?);
            Some(IntInfo {
                nonzero: *op == BinaryOp::Mul && l.nonzero && r.nonzero,
            })
        }
        K::Cast { type_name, .. } => matches!(
            type_name.to_ascii_lowercase().as_str(),
            "int" | "integer" | "long" | "unsigned_long"
        )
        .then_some(IntInfo { nonzero: false }),
        K::Call { name, args, .. } => match name.to_ascii_lowercase().as_str() {
            "to_integer" | "to_int" | "to_long" | "to_unsigned_long" | "to_ul" | "date_diff"
            | "length" | "mv_count" | "bit_length" | "byte_length" | "locate" => {
                Some(IntInfo { nonzero: false })
            }
            "count" => Some(IntInfo {
                nonzero: args.is_empty() || matches!(args[0].kind, K::Star),
            }),
            "count_distinct" => Some(IntInfo { nonzero: false }),
            "sum" | "min" | "max" | "mv_min" | "mv_max" | "mv_sum" | "abs" | "values" => args
                .first()
                .and_then(|a| int_info(a, env))
                .map(|_| IntInfo { nonzero: false }),
            _ => None,
        },
        _ => None,
    }
}

/// Collects `(left span, right span, right known non-zero)` of every `/` between integers.
fn divisions(
    e: &esql::ast::Expr,
    env: &HashMap<String, IntInfo>,
    out: &mut Vec<(Range<usize>, Range<usize>, bool)>,
) {
    use esql::ast::{BinaryOp, ExprKind as K};
    let r = |s: esql::Span| s.start..s.end;
    match &e.kind {
        K::Binary { op, left, right } => {
            if *op == BinaryOp::Div {
                if let (Some(_), Some(ri)) = (int_info(left, env), int_info(right, env)) {
                    out.push((r(left.span), r(right.span), ri.nonzero));
                }
            }
            divisions(left, env, out);
            divisions(right, env, out);
        }
        K::Call { args, .. } => args.iter().for_each(|a| divisions(a, env, out)),
        K::LikeExpr { expr, pattern, .. } => {
            divisions(expr, env, out);
            divisions(pattern, env, out);
        }
        K::Neg(x) | K::Not(x) => divisions(x, env, out),
        K::IsNull { expr, .. } | K::Like { expr, .. } | K::Cast { expr, .. } => {
            divisions(expr, env, out)
        }
        K::In { expr, list, .. } => {
            divisions(expr, env, out);
            list.iter().for_each(|a| divisions(a, env, out));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes_of(q: &str) -> Vec<&'static str> {
        lint_query(q).into_iter().map(|f| f.code).collect()
    }

    fn only(q: &str, code: &str) -> Finding {
        let found: Vec<Finding> = lint_query(q)
            .into_iter()
            .filter(|f| f.code == code)
            .collect();
        assert_eq!(found.len(), 1, "{q}: {found:#?}");
        found.into_iter().next().expect("one")
    }

    const T: &str = "from logs-* | where @timestamp > now() - 7 day";

    #[test]
    fn a_clean_query_has_no_findings() {
        let q = format!(
            "{T} | where a == 1 and b LIKE \"a*\" and c RLIKE \"[^/]+\" | stats n = count(*) by a \
             | sort a DESC, n DESC | limit 10"
        );
        assert_eq!(codes_of(&q), Vec::<&str>::new());
    }

    #[test]
    fn date_patterns() {
        let f = only(
            &format!("{T} | eval d = DATE_FORMAT(\"YYYY-mm-dd\", @timestamp)"),
            codes::DATE_FORMAT_PATTERN,
        );
        assert_eq!(f.fix.as_deref(), Some("yyyy-MM-dd"));
        assert_eq!((f.line, f.column), (1, 72));
        // Correct patterns, ISO week dates and `HH:mm` times are fine.
        for ok in [
            "yyyy-MM-dd",
            "YYYY-'W'ww",
            "yyyy-MM-dd HH:mm:ss",
            "hh:mm a",
            "yyyy-DDD",
        ] {
            let q = format!("{T} | eval d = DATE_FORMAT(\"{ok}\", @timestamp)");
            assert_eq!(codes_of(&q), Vec::<&str>::new(), "{ok}");
        }
        let fix = |p: &str| java_pattern_fix(p).map(|(f, _)| f);
        assert_eq!(fix("yyyy-MM-DD").as_deref(), Some("yyyy-MM-dd"));
        assert_eq!(fix("yyyy-MM-dd hh:mm").as_deref(), Some("yyyy-MM-dd HH:mm"));
        assert_eq!(fix("yyyy-mm-dd HH:mm").as_deref(), Some("yyyy-MM-dd HH:mm"));
        assert_eq!(
            fix("'Year' yyyy"),
            None,
            "quoted text is not pattern letters"
        );
        // Date first, pattern second: the order is flagged too, and the pattern checked.
        let q = format!("{T} | eval d = DATE_FORMAT(@timestamp, \"YYYY-MM-dd\")");
        let found = lint_query(&q);
        let swap = found
            .iter()
            .find(|f| f.code == codes::SWAPPED_ARGUMENTS)
            .expect("swap");
        assert_eq!(
            swap.fix.as_deref(),
            Some("DATE_FORMAT(\"YYYY-MM-dd\", @timestamp)")
        );
        assert!(found.iter().any(|f| f.code == codes::DATE_FORMAT_PATTERN));
    }

    #[test]
    fn strings_and_comments_are_not_code() {
        let q = format!(
            "{T}\n// where a = 1, LIMIT 5 | SORT a and DATE_FORMAT(\"YYYY\", x)\n\
             | where msg == \"a = b | limit 3 | sort x, y desc\" and t == \"\"\"starts_with(\"x\", y)\"\"\""
        );
        assert_eq!(codes_of(&q), Vec::<&str>::new());
        // `/* … */` too, and `==` is never taken for `=`.
        let q = format!("{T} /* a = b */ | where a == b and c != d and e >= 1");
        assert_eq!(codes_of(&q), Vec::<&str>::new());
    }

    #[test]
    fn single_equals_in_where_but_not_in_eval_or_stats() {
        let f = only(
            &format!("{T} | where a = \"x\""),
            codes::ASSIGNMENT_IN_WHERE,
        );
        assert_eq!(f.fix.as_deref(), Some("=="));
        assert_eq!(&format!("{T} | where a = \"x\"")[f.span.clone()], "=");
        let q = format!("{T} | eval a = 1 | stats n = count(*) WHERE a == 1 by a");
        assert_eq!(codes_of(&q), Vec::<&str>::new());
    }

    #[test]
    fn like_percent_only_at_the_ends() {
        let f = only(
            &format!("{T} | where a LIKE \"%x%\""),
            codes::SQL_LIKE_WILDCARD,
        );
        assert_eq!(f.fix.as_deref(), Some("*x*"));
        let f = only(
            &format!("{T} | where a LIKE (\"b*\", \"Okta%\")"),
            codes::SQL_LIKE_WILDCARD,
        );
        assert_eq!(f.fix.as_deref(), Some("Okta*"));
        // A URL-encoded `%20` in the middle is a literal, and `*`/`?` are fine.
        let q = format!("{T} | where a LIKE \"*a%20b*\" and b LIKE \"a?*\"");
        assert_eq!(codes_of(&q), Vec::<&str>::new());
    }

    #[test]
    fn starts_with_and_ends_with() {
        let f = only(
            &format!("{T} | where STARTS_WITH(a, \"ab*\")"),
            codes::WILDCARD_IN_PREFIX,
        );
        assert_eq!(f.fix.as_deref(), Some("ab"));
        let f = only(
            &format!("{T} | where ends_with(a, \"*x*y\")"),
            codes::WILDCARD_IN_PREFIX,
        );
        assert_eq!(f.fix.as_deref(), Some("a LIKE \"**x*y\""));
        let f = only(
            &format!("{T} | where ends_with(\".exe\", process.name)"),
            codes::SWAPPED_ARGUMENTS,
        );
        assert_eq!(f.fix.as_deref(), Some("ends_with(process.name, \".exe\")"));
        // `?` alone is a common literal (URLs); two literals are not "swapped".
        let q = format!("{T} | where starts_with(url, \"/a?b\") and starts_with(\"ab\", \"a\")");
        assert_eq!(codes_of(&q), Vec::<&str>::new());
    }

    #[test]
    fn rlike_anchors_and_quantifiers() {
        let f = only(
            &format!("{T} | where a RLIKE \"^ab$\""),
            codes::RLIKE_ANCHOR,
        );
        assert_eq!(f.fix.as_deref(), Some("ab"));
        let f = only(
            &format!("{T} | where a RLIKE \"a(b|$)\""),
            codes::RLIKE_ANCHOR,
        );
        assert_eq!(f.fix, None, "an inner anchor needs a rewrite");
        // Escaped, in a class, or negating a class: not anchors.
        let q = format!("{T} | where a RLIKE \"x\\\\$[$^][^a]\" and b RLIKE \"\"\"\\$\"\"\"");
        assert_eq!(codes_of(&q), Vec::<&str>::new());
        only(
            &format!("{T} | where a RLIKE \"a.+*\""),
            codes::RLIKE_REPEATED_QUANTIFIER,
        );
        let q = format!("{T} | where a RLIKE \"a{{2}}b.*c\\\\+*\"");
        assert_eq!(codes_of(&q), Vec::<&str>::new());
    }

    #[test]
    fn limit_before_sort() {
        let q = format!("{T} | limit 5 | keep a | sort a");
        let f = only(&q, codes::LIMIT_BEFORE_SORT);
        assert_eq!(f.fix.as_deref(), Some("keep a | sort a | limit 5"));
        assert_eq!(&q[f.span.clone()], "limit 5 | keep a | sort a");
        // A STATS in between changes what is sorted: not this pattern.
        let q = format!("{T} | limit 5 | stats n = count(*) by a | sort n");
        assert_eq!(codes_of(&q), Vec::<&str>::new());
    }

    #[test]
    fn sort_directions() {
        let f = only(&format!("{T} | SORT a, b DESC"), codes::SORT_DIRECTION);
        assert_eq!(f.fix.as_deref(), Some("a DESC, b DESC"));
        assert!(f.message.contains("`a` has no direction"), "{}", f.message);
        let f = only(
            &format!("{T} | sort a desc nulls last, b"),
            codes::SORT_DIRECTION,
        );
        assert_eq!(f.fix.as_deref(), Some("a desc nulls last, b desc"));
        for ok in [
            "SORT a DESC, b DESC",
            "sort a, b",
            "sort a asc nulls first",
            "sort a desc",
        ] {
            assert_eq!(codes_of(&format!("{T} | {ok}")), Vec::<&str>::new(), "{ok}");
        }
    }

    #[test]
    fn integer_division_from_the_query_types() {
        let q = format!(
            "{T} | stats n = count(*), d = count_distinct(h) by u \
             | eval r = n / d, s = TO_DOUBLE(n) / d, t = n / 2, u2 = x / d"
        );
        let found: Vec<Finding> = lint_query(&q)
            .into_iter()
            .filter(|f| f.code == codes::INTEGER_DIVISION)
            .collect();
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].fix.as_deref(), Some("TO_DOUBLE(n) / d"));
        assert!(found[0].message.contains("can also be 0"));
        assert_eq!(found[1].fix.as_deref(), Some("TO_DOUBLE(n) / 2"));
        assert!(!found[1].message.contains("can also be 0"));
        let q = format!("{T} | eval m = DATE_DIFF(\"minute\", a, b) / TO_INT(c)");
        only(&q, codes::INTEGER_DIVISION);
        // STATS drops columns it does not output: `n` below is a new (unknown) column.
        let q = format!("{T} | eval n = TO_INT(x) | stats c = max(y) by z | eval r = c / 2");
        assert_eq!(codes_of(&q), Vec::<&str>::new());
    }

    #[test]
    fn empty_strings_and_asterisks() {
        let f = only(
            &format!("{T} | where a != \"\""),
            codes::EMPTY_STRING_COMPARISON,
        );
        assert_eq!(f.fix.as_deref(), Some("a IS NOT NULL"));
        let f = only(&format!("{T} | where a == \"*x\""), codes::LITERAL_ASTERISK);
        assert_eq!(f.fix.as_deref(), Some("a LIKE \"*x\""));
        // REPLACE's "" is an argument, not a comparison.
        let q = format!("{T} | eval a = replace(b, \"x\", \"\")");
        assert_eq!(codes_of(&q), Vec::<&str>::new());
    }

    #[test]
    fn time_bound_is_for_hunts_only() {
        let q = "FROM logs-* | WHERE a == 1";
        let f = only(q, codes::NO_TIME_BOUND);
        assert_eq!(
            f.fix.as_deref(),
            Some("FROM logs-*\n| WHERE @timestamp > NOW() - 7 day")
        );
        assert!(lint_query_with(q, &LintOptions::rule()).is_empty());
        assert!(lint_query("from x | where event.ingested > now() - 1 day").is_empty());
    }

    #[test]
    fn thresholds_against_comments() {
        let q = format!("{T}\n| stats n = count(*) by a\n// more than 10 hosts\n| where n >= 10");
        let f = only(&q, codes::THRESHOLD_COMMENT);
        assert_eq!(f.fix.as_deref(), Some("n > 10"));
        assert_eq!((f.line, f.column), (4, 9));
        // Equivalent integer forms and number words agree; unrelated numbers are ignored.
        for ok in [
            "// more than 10 hosts\n| where n > 10",
            "// more than 9 hosts\n| where n >= 10",
            "// at least 10\n| where 10 <= n",
            "// more than one country\n| where n >= 2",
            "// less than or equal to 5\n| where n <= 5",
            "// more than 1GB in 8 hours\n| where n >= 1",
            "// more than 5\n| eval x = 1\n| where n >= 5",
        ] {
            let q = format!("{T}\n| stats n = count(*) by a\n{ok}");
            assert_eq!(codes_of(&q), Vec::<&str>::new(), "{ok}");
        }
    }

    #[test]
    fn syntax_slips() {
        let q = "sql\nfrom x | where @timestamp > now(-) - 1 day and a.b .c == 1 and (d or)";
        let found = codes_of(q);
        for code in [
            codes::STRAY_SQL_LINE,
            codes::NOW_ARGUMENT,
            codes::SPACED_DOT,
            codes::DANGLING_OPERATOR,
        ] {
            assert!(found.contains(&code), "{code}: {found:?}");
        }
        // FROM index patterns are not field names.
        assert!(
            lint_query("from .alerts-security.* | where @timestamp > now() - 1 day").is_empty()
        );
        let f = only(
            &format!("{T} | stats n = count(*), c = by a"),
            codes::MISSING_AGGREGATE,
        );
        assert_eq!(f.fix, None);
    }

    #[test]
    fn duplicates_and_precedence() {
        let f = only(
            &format!("{T} | where a in (\"x\", \"y\", \"x\")"),
            codes::DUPLICATE_LIST_ENTRY,
        );
        let q = format!("{T} | where a in (\"x\", \"y\", \"x\")");
        let mut fixed = q.clone();
        fixed.replace_range(f.span.clone(), "");
        assert!(fixed.ends_with("(\"x\", \"y\")"), "{fixed}");
        only(
            &format!("{T} | where (a > 1 AND a > 1)"),
            codes::DUPLICATE_OPERAND,
        );
        only(&format!("{T} | keep a, b, a"), codes::DUPLICATE_LIST_ENTRY);
        let f = only(
            &format!("{T} | where a and b or c"),
            codes::AND_OR_PRECEDENCE,
        );
        assert_eq!(f.fix.as_deref(), Some("(b or c)"));
        for ok in [
            "where (a and b) or c",
            "where a and (b or c)",
            "where a or b or c",
        ] {
            assert_eq!(codes_of(&format!("{T} | {ok}")), Vec::<&str>::new(), "{ok}");
        }
    }

    #[test]
    fn columns_after_keep() {
        let q = format!("{T} | keep a, b | eval c = a | stats n = count(*) by c, d | sort n");
        let f = only(&q, codes::DROPPED_BY_KEEP);
        assert_eq!(f.fix.as_deref(), Some("keep a, b, d"));
        let q = format!("{T} | keep a | dissect a \"%{{x}} %{{?skip}}\" | stats n = count(*) by x | where n > 1");
        assert_eq!(codes_of(&q), Vec::<&str>::new());
        // Wildcards in KEEP: the kept columns are unknown, so nothing is checked.
        let q = format!("{T} | keep a* | stats n = count(*) by zz");
        assert_eq!(codes_of(&q), Vec::<&str>::new());
    }

    #[test]
    fn the_tokenizer_never_fails() {
        for q in [
            "",
            "\"",
            "\"\"\"",
            "`",
            "/*",
            "from x | where a ~ ! # $ é",
            "(((",
            ")))|",
        ] {
            let _ = lint_query(q);
        }
    }
}
