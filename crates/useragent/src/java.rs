//! Java regular expressions (`java.util.regex.Pattern`, as Elasticsearch compiles the uap-core
//! rules) rewritten into fancy-regex syntax with the same matches.
//!
//! The two dialects look alike but differ where it matters for user agents:
//!
//! * `\d`, `\w`, `\s` (and `\b`) are ASCII in Java unless `UNICODE_CHARACTER_CLASS` is set;
//!   in Rust they are Unicode. They are written out as ASCII classes.
//! * `CASE_INSENSITIVE` (`regex_flag: 'i'`) folds ASCII letters only; Rust's `(?i)` folds
//!   Unicode (`k` also matches the Kelvin sign). Letters are written as `[kK]`.
//! * `.` excludes all of Java's line terminators (`\n`, `\r`, U+0085, U+2028, U+2029), not
//!   just `\n`.
//! * `$` (and `\Z`) also matches before a line terminator that ends the input.
//!
//! The last and `\b` need look-arounds to be exact, which only the backtracking engine has.
//! So every pattern has two translations, picked per subject by [`Mode`]: for the usual
//! subject (ASCII, no `\r` or `\n`) `$` is the end of input and `\b` is Rust's own word
//! boundary — the same positions there — and the pattern runs on the regex crate's automata;
//! anything else gets the exact rewrite. A pattern without `$`, `\Z`, `\b` or `\B` has one
//! translation for both.
//!
//! Constructs the rules never need and Rust cannot express faithfully (back-references,
//! `\p{…}` classes, nested classes and `&&`, `\G`, flags other than `i`) are refused with the
//! reason, never approximated.
//!
//! One file on purpose: the translator (`Tx`), the required-literal derivation (`Required`,
//! which the translator feeds as it walks the pattern, in the same single pass) and the
//! character-set arithmetic (`Set`) are three views of one parse of a Java pattern; apart,
//! each would need the parser's internal states exposed to the others.

use std::fmt;

/// Which subjects a translation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// ASCII subjects without `\r` or `\n`.
    Ascii,
    /// Any subject.
    Exact,
}

impl Mode {
    pub(crate) fn of(subject: &str) -> Mode {
        if subject.is_ascii() && !subject.bytes().any(|b| b == b'\n' || b == b'\r') {
            Mode::Ascii
        } else {
            Mode::Exact
        }
    }
}

/// A pattern Java would reject, or one using a construct this translation does not support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Character offset in the Java pattern.
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at character {}", self.message, self.offset + 1)
    }
}

/// The rewritten pattern and what the matcher needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Translated {
    pub(crate) pattern: String,
    /// Capturing groups (Java's `groupCount()`).
    pub(crate) groups: usize,
    /// Whether the [`Mode::Exact`] translation differs from the [`Mode::Ascii`] one.
    pub(crate) mode_dependent: bool,
    /// Requirements every match satisfies, each a list of literals of which the match
    /// contains one (ASCII-lowercased when the pattern is case-insensitive), most selective
    /// first: a subject failing one cannot match, so the pattern need not be compiled or run
    /// for it. `None` when none were found.
    pub(crate) required: Option<Vec<Vec<String>>>,
}

/// Translates `java` (compiled with `CASE_INSENSITIVE` when `case_insensitive`) for `mode`.
pub(crate) fn translate(
    java: &str,
    case_insensitive: bool,
    mode: Mode,
) -> Result<Translated, SyntaxError> {
    let mut t = Tx {
        s: java.chars().collect(),
        i: 0,
        out: String::with_capacity(java.len() * 2),
        mode,
        ci: case_insensitive,
        open: Vec::new(),
        groups: 0,
        can_repeat: false,
        mode_dependent: false,
        req: Required::new(case_insensitive),
    };
    t.run()?;
    Ok(Translated {
        pattern: t.out,
        groups: t.groups,
        mode_dependent: t.mode_dependent,
        required: t.req.finish(),
    })
}

/// Java's line terminators (without `UNIX_LINES`).
const TERMINATORS: [(u32, u32); 4] = [(0x0a, 0x0a), (0x0d, 0x0d), (0x85, 0x85), (0x2028, 0x2029)];
/// `[0-9A-Za-z_]`, Java's `\w` and what its `\b` looks at.
const WORD: [(u32, u32); 4] = [(0x30, 0x39), (0x41, 0x5a), (0x5f, 0x5f), (0x61, 0x7a)];
const WORD_CLASS: &str = "[0-9A-Z_a-z]";
/// Java's `$` and `\Z`: the end, or before a final `\r\n`, or before a final single line
/// terminator (but not between `\r` and `\n`).
const JAVA_DOLLAR: &str = r"(?=\r\n\z|(?<!\r)\n\z|[\r\x{85}\x{2028}\x{2029}]\z|\z)";

struct Tx {
    s: Vec<char>,
    i: usize,
    out: String,
    mode: Mode,
    /// Case-insensitive here (the flag, or an inline `(?i)` in scope).
    ci: bool,
    /// For each open group, the case flag to restore when it closes.
    open: Vec<bool>,
    groups: usize,
    /// Whether the last thing emitted can take a quantifier.
    can_repeat: bool,
    mode_dependent: bool,
    req: Required,
}

impl Tx {
    fn err<T>(&self, at: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            offset: at,
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    fn run(&mut self) -> Result<(), SyntaxError> {
        while let Some(c) = self.peek() {
            let at = self.i;
            self.i += 1;
            match c {
                '\\' => self.escape(at)?,
                '[' => {
                    let set = self.class(at)?;
                    emit_set(&mut self.out, &set);
                    self.req.atom(None);
                    self.can_repeat = true;
                }
                '(' => self.group_open(at)?,
                ')' => {
                    let Some(ci) = self.open.pop() else {
                        return self.err(at, "unmatched closing ')'");
                    };
                    self.ci = ci;
                    self.out.push(')');
                    self.req.close();
                    self.can_repeat = true;
                }
                '|' => {
                    self.out.push('|');
                    self.req.alternate();
                    self.can_repeat = false;
                }
                '.' => {
                    emit_set(&mut self.out, &Set::from(&TERMINATORS).negate());
                    self.req.atom(None);
                    self.can_repeat = true;
                }
                '^' => {
                    self.out.push('^');
                    self.req.zero_width();
                    self.can_repeat = false;
                }
                '$' => self.dollar(),
                '*' | '+' | '?' | '{' => self.quantifier(c, at)?,
                _ => {
                    self.literal(c);
                    self.can_repeat = true;
                }
            }
        }
        if !self.open.is_empty() {
            return self.err(self.s.len(), "unclosed group");
        }
        Ok(())
    }

    fn literal(&mut self, c: char) {
        self.req.atom(Some(c));
        if self.ci && c.is_ascii_alphabetic() {
            let (l, u) = (c.to_ascii_lowercase(), c.to_ascii_uppercase());
            self.out.push('[');
            self.out.push(u);
            self.out.push(l);
            self.out.push(']');
        } else {
            emit_char(&mut self.out, c);
        }
    }

    fn dollar(&mut self) {
        self.req.zero_width();
        self.mode_dependent = true;
        match self.mode {
            Mode::Ascii => self.out.push_str(r"\z"),
            Mode::Exact => self.out.push_str(JAVA_DOLLAR),
        }
        self.can_repeat = false;
    }

    fn word_boundary(&mut self, negated: bool) {
        self.req.zero_width();
        self.mode_dependent = true;
        match (self.mode, negated) {
            (Mode::Ascii, false) => self.out.push_str(r"\b"),
            (Mode::Ascii, true) => self.out.push_str(r"\B"),
            (Mode::Exact, false) => self.out.push_str(&format!(
                "(?:(?<={w})(?!{w})|(?<!{w})(?={w}))",
                w = WORD_CLASS
            )),
            (Mode::Exact, true) => self.out.push_str(&format!(
                "(?:(?<={w})(?={w})|(?<!{w})(?!{w}))",
                w = WORD_CLASS
            )),
        }
        self.can_repeat = false;
    }

    fn group_open(&mut self, at: usize) -> Result<(), SyntaxError> {
        self.open.push(self.ci);
        self.can_repeat = false;
        let lookaround = self.peek() == Some('?')
            && (matches!(self.peek_at(1), Some('=' | '!'))
                || (self.peek_at(1) == Some('<') && matches!(self.peek_at(2), Some('=' | '!'))));
        self.req.open(lookaround);
        if self.peek() != Some('?') {
            self.groups += 1;
            self.out.push('(');
            return Ok(());
        }
        self.i += 1;
        match (self.peek(), self.peek_at(1)) {
            (Some(':'), _) => {
                self.i += 1;
                self.out.push_str("(?:");
            }
            (Some('='), _) | (Some('!'), _) | (Some('>'), _) => {
                let c = self.peek().expect("peeked");
                self.i += 1;
                self.out.push_str("(?");
                self.out.push(c);
            }
            (Some('<'), Some(c @ ('=' | '!'))) => {
                self.i += 2;
                self.out.push_str("(?<");
                self.out.push(c);
            }
            (Some('<'), Some(c)) if c.is_ascii_alphabetic() => {
                // A named group is a numbered group too; the name plays no part here.
                self.i += 1;
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                    self.i += 1;
                }
                if self.peek() != Some('>') {
                    return self.err(at, "malformed named group");
                }
                self.i += 1;
                self.groups += 1;
                self.out.push('(');
            }
            _ => return self.inline_flags(at),
        }
        Ok(())
    }

    /// `(?i)`, `(?-i)`, `(?i:…)`: the only flag the rules could use.
    fn inline_flags(&mut self, at: usize) -> Result<(), SyntaxError> {
        // Case rules that change inside the pattern: no literal is trusted.
        self.req.give_up();
        let mut on = true;
        let mut ci = self.ci;
        loop {
            match self.peek() {
                Some('i') => ci = on,
                Some('-') if on => on = false,
                Some(')') => {
                    // Applies to the rest of the enclosing group: this is no group.
                    self.i += 1;
                    self.open.pop();
                    self.req.close();
                    self.ci = ci;
                    return Ok(());
                }
                Some(':') => {
                    self.i += 1;
                    self.ci = ci;
                    self.out.push_str("(?:");
                    return Ok(());
                }
                Some(c) => {
                    return self.err(
                        self.i,
                        format!("unsupported group or flag '(?{c}' (only (?i) is supported)"),
                    )
                }
                None => return self.err(at, "unclosed group"),
            }
            self.i += 1;
        }
    }

    fn quantifier(&mut self, c: char, at: usize) -> Result<(), SyntaxError> {
        if !self.can_repeat {
            return self.err(at, format!("dangling meta character '{c}'"));
        }
        let at_least_once = match c {
            '+' => true,
            '*' | '?' => false,
            _ => self.peek().is_some_and(|d| d.is_ascii_digit() && d != '0'),
        };
        self.req.quantified(at_least_once);
        if c == '{' {
            let (min, max) = self.bounds(at)?;
            match max {
                Some(Some(max)) if max < min => {
                    return self.err(at, "illegal repetition range");
                }
                Some(Some(max)) => self.out.push_str(&format!("{{{min},{max}}}")),
                Some(None) => self.out.push_str(&format!("{{{min},}}")),
                None => self.out.push_str(&format!("{{{min}}}")),
            }
        } else {
            self.out.push(c);
        }
        // Lazy and possessive forms; fancy-regex has both.
        if let Some(m @ ('?' | '+')) = self.peek() {
            self.i += 1;
            self.out.push(m);
        }
        self.can_repeat = false;
        Ok(())
    }

    /// `{n}`, `{n,}`, `{n,m}` after the `{`: (n, None) / (n, Some(None)) / (n, Some(Some(m))).
    #[allow(clippy::type_complexity)]
    fn bounds(&mut self, at: usize) -> Result<(u32, Option<Option<u32>>), SyntaxError> {
        let Some(min) = self.number() else {
            return self.err(at, "illegal repetition");
        };
        let max = match self.peek() {
            Some('}') => None,
            Some(',') => {
                self.i += 1;
                Some(self.number())
            }
            _ => return self.err(at, "unclosed counted closure"),
        };
        if self.peek() != Some('}') {
            return self.err(at, "unclosed counted closure");
        }
        self.i += 1;
        Ok((min, max))
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i == start {
            return None;
        }
        let digits: String = self.s[start..self.i].iter().collect();
        digits.parse().ok()
    }

    /// An escape outside a class; `at` is the backslash.
    fn escape(&mut self, at: usize) -> Result<(), SyntaxError> {
        let Some(c) = self.peek() else {
            return self.err(at, "unexpected end after '\\'");
        };
        match c {
            'b' | 'B' => {
                self.i += 1;
                self.word_boundary(c == 'B');
            }
            'A' => {
                self.i += 1;
                self.out.push('^');
                self.req.zero_width();
                self.can_repeat = false;
            }
            'z' => {
                self.i += 1;
                self.out.push_str(r"\z");
                self.req.zero_width();
                self.can_repeat = false;
            }
            'Z' => {
                self.i += 1;
                self.dollar();
            }
            'Q' => {
                self.i += 1;
                while let Some(q) = self.peek() {
                    if q == '\\' && self.peek_at(1) == Some('E') {
                        self.i += 2;
                        return Ok(());
                    }
                    self.i += 1;
                    self.literal(q);
                    self.can_repeat = true;
                }
            }
            'E' => {
                // A stray `\E` is ignored, as Java does.
                self.i += 1;
            }
            _ => match self.escape_item(at)? {
                Item::Set(set) => {
                    emit_set(&mut self.out, &set);
                    self.req.atom(None);
                    self.can_repeat = true;
                }
                Item::Char(ch) => {
                    self.literal(ch);
                    self.can_repeat = true;
                }
            },
        }
        Ok(())
    }

    /// An escape that stands for one character or a predefined class (inside or outside a
    /// character class). `self.i` is just after the backslash.
    fn escape_item(&mut self, at: usize) -> Result<Item, SyntaxError> {
        let c = self.peek().expect("caller checked");
        self.i += 1;
        let predefined =
            |set: Set, negate: bool| Ok(Item::Set(if negate { set.negate() } else { set }));
        match c {
            'd' | 'D' => predefined(Set::from(&[(0x30, 0x39)]), c == 'D'),
            'w' | 'W' => predefined(Set::from(&WORD), c == 'W'),
            's' | 'S' => predefined(Set::from(&[(0x09, 0x0d), (0x20, 0x20)]), c == 'S'),
            'h' | 'H' => predefined(
                Set::from(&[
                    (0x09, 0x09),
                    (0x20, 0x20),
                    (0xa0, 0xa0),
                    (0x1680, 0x1680),
                    (0x180e, 0x180e),
                    (0x2000, 0x200a),
                    (0x202f, 0x202f),
                    (0x205f, 0x205f),
                    (0x3000, 0x3000),
                ]),
                c == 'H',
            ),
            'v' | 'V' => predefined(
                Set::from(&[(0x0a, 0x0d), (0x85, 0x85), (0x2028, 0x2029)]),
                c == 'V',
            ),
            't' => Ok(Item::Char('\t')),
            'n' => Ok(Item::Char('\n')),
            'r' => Ok(Item::Char('\r')),
            'f' => Ok(Item::Char('\u{0c}')),
            'a' => Ok(Item::Char('\u{07}')),
            'e' => Ok(Item::Char('\u{1b}')),
            '0' => {
                // \0n, \0nn, \0mnn (m ≤ 3): octal.
                let mut v = 0u32;
                let mut n = 0;
                while n < 3 {
                    let Some(d) = self.peek().and_then(|d| d.to_digit(8)) else {
                        break;
                    };
                    if n == 2 && v > 0o37 {
                        break;
                    }
                    v = v * 8 + d;
                    self.i += 1;
                    n += 1;
                }
                if n == 0 {
                    return self.err(at, "illegal octal escape sequence");
                }
                Ok(Item::Char(char::from_u32(v).expect("octal is below 0x100")))
            }
            'x' => {
                let v = if self.peek() == Some('{') {
                    self.i += 1;
                    let start = self.i;
                    while self.peek().is_some_and(|h| h.is_ascii_hexdigit()) {
                        self.i += 1;
                    }
                    let hex: String = self.s[start..self.i].iter().collect();
                    if self.peek() != Some('}') || hex.is_empty() {
                        return self.err(at, "illegal hexadecimal escape sequence");
                    }
                    self.i += 1;
                    u32::from_str_radix(&hex, 16).ok()
                } else {
                    self.hex_digits(2)
                };
                match v.and_then(char::from_u32) {
                    Some(ch) => Ok(Item::Char(ch)),
                    None => self.err(at, "illegal hexadecimal escape sequence"),
                }
            }
            'u' => match self.hex_digits(4).and_then(char::from_u32) {
                Some(ch) => Ok(Item::Char(ch)),
                None => self.err(
                    at,
                    "illegal or unsupported (surrogate) Unicode escape sequence",
                ),
            },
            'c' => match self.peek() {
                Some(x) if x.is_ascii() => {
                    self.i += 1;
                    Ok(Item::Char(char::from(x as u8 ^ 64)))
                }
                _ => self.err(at, "illegal control escape sequence"),
            },
            '1'..='9' => self.err(at, "back-references are not supported"),
            'p' | 'P' => self.err(at, "Unicode property classes (\\p{…}) are not supported"),
            'k' | 'G' | 'R' | 'X' | 'N' => {
                self.err(at, format!("the escape \\{c} is not supported"))
            }
            c if c.is_ascii_alphabetic() => self.err(at, format!("illegal escape sequence \\{c}")),
            c => Ok(Item::Char(c)),
        }
    }

    fn hex_digits(&mut self, n: usize) -> Option<u32> {
        let digits: String = self.s.get(self.i..self.i + n)?.iter().collect();
        if digits.len() != n || !digits.chars().all(|h| h.is_ascii_hexdigit()) {
            return None;
        }
        self.i += n;
        u32::from_str_radix(&digits, 16).ok()
    }

    /// A character class; `at` is its `[`, `self.i` just after it.
    fn class(&mut self, at: usize) -> Result<Set, SyntaxError> {
        let negated = self.peek() == Some('^');
        if negated {
            self.i += 1;
        }
        let mut set = Set::default();
        let mut items = 0usize;
        loop {
            let Some(c) = self.peek() else {
                return self.err(at, "unclosed character class");
            };
            let item_at = self.i;
            self.i += 1;
            // Java reads a `]` before any item as a literal.
            if c == ']' && items > 0 {
                break;
            }
            items += 1;
            let first = match c {
                '[' => return self.err(item_at, "nested character classes are not supported"),
                '&' if self.peek() == Some('&') => {
                    return self.err(item_at, "class intersections (&&) are not supported")
                }
                '\\' => {
                    match self.peek() {
                        None => return self.err(item_at, "unexpected end after '\\'"),
                        Some('Q') => {
                            self.i += 1;
                            while let Some(q) = self.peek() {
                                if q == '\\' && self.peek_at(1) == Some('E') {
                                    self.i += 2;
                                    break;
                                }
                                self.i += 1;
                                set.add_char(q, self.ci);
                            }
                            continue;
                        }
                        Some('b' | 'B' | 'A' | 'z' | 'Z' | 'E') => {
                            return self.err(item_at, "this escape is not allowed in a class")
                        }
                        _ => {}
                    }
                    match self.escape_item(item_at)? {
                        Item::Set(s) => {
                            set.add_set(&s);
                            continue;
                        }
                        Item::Char(ch) => ch,
                    }
                }
                c => c,
            };
            // A range `a-z` (a `-` before `]` is a literal).
            if self.peek() == Some('-') && self.peek_at(1).is_some_and(|n| n != ']') {
                self.i += 1;
                let end_at = self.i;
                let last = match self.peek().expect("checked") {
                    '[' => return self.err(end_at, "nested character classes are not supported"),
                    '\\' => {
                        self.i += 1;
                        if self.peek().is_none() {
                            return self.err(end_at, "unexpected end after '\\'");
                        }
                        match self.escape_item(end_at)? {
                            Item::Char(ch) => ch,
                            Item::Set(_) => return self.err(end_at, "illegal character range"),
                        }
                    }
                    ch => {
                        self.i += 1;
                        ch
                    }
                };
                if last < first {
                    return self.err(item_at, "illegal character range");
                }
                set.add_range(first as u32, last as u32, self.ci);
            } else {
                set.add_char(first, self.ci);
            }
        }
        Ok(if negated {
            set.negate()
        } else {
            set.normalized()
        })
    }
}

/// Finds literals that every match of the pattern contains (see [`Translated::required`]).
///
/// Conservative by construction: a run of literal characters is kept only while nothing but
/// literal characters joins it; anything else (a class, an anchor, an optional or repeated
/// atom, a look-around) ends the run. A group counts only when it is not optional; an
/// alternation gives "one of" its branches' best requirements, and nothing if a branch has
/// none. The result is a conjunction: every match satisfies each requirement.
struct Required {
    ci: bool,
    frames: Vec<Frame>,
    /// The last atom, whose quantifier (if any) is not seen yet.
    pending: Option<Piece>,
    gave_up: bool,
}

/// Literals of which a match contains at least one.
type AnyOf = Vec<String>;

/// Requirements kept per pattern: the most selective few.
const KEEP: usize = 4;

#[derive(Default)]
struct Frame {
    /// The current run of required literal characters.
    run: String,
    /// The requirements of the current branch, all of which hold.
    all: Vec<AnyOf>,
    /// Something other than one run happened in this branch (it is not a pure literal).
    broken: bool,
    /// The best requirement of each branch before the current one (`None`: it had none).
    branches: Vec<Option<AnyOf>>,
    lookaround: bool,
}

enum Piece {
    /// Literal text that continues the run (a character, or a group that is one run).
    Text(String),
    /// A group's requirements, which do not join the run.
    Inner(Vec<AnyOf>),
    /// Anything without a literal.
    Other,
}

/// How selective a requirement is: its shortest literal, then how few literals it has.
fn score(r: &AnyOf) -> (usize, std::cmp::Reverse<usize>) {
    (
        r.iter().map(String::len).min().unwrap_or(0),
        std::cmp::Reverse(r.len()),
    )
}

fn best(all: &[AnyOf]) -> Option<AnyOf> {
    all.iter().max_by_key(|r| score(r)).cloned()
}

impl Frame {
    fn require(&mut self, r: AnyOf) {
        if score(&r).0 > 0 && !self.all.contains(&r) {
            self.all.push(r);
        }
    }

    fn end_run(&mut self) {
        if !self.run.is_empty() {
            let run = std::mem::take(&mut self.run);
            self.require(vec![run]);
        }
    }

    fn take(&mut self, piece: Piece, quantified: Option<bool>) {
        match (piece, quantified) {
            (Piece::Text(t), None) => self.run.push_str(&t),
            (Piece::Text(t), Some(true)) => {
                self.run.push_str(&t);
                self.end_run();
                self.broken = true;
            }
            (Piece::Inner(rs), None | Some(true)) => {
                self.end_run();
                rs.into_iter().for_each(|r| self.require(r));
                self.broken = true;
            }
            (Piece::Text(_) | Piece::Inner(_), Some(false)) | (Piece::Other, _) => {
                self.end_run();
                self.broken = true;
            }
        }
    }

    /// Ends the current branch.
    fn end_branch(&mut self) {
        self.end_run();
        let all = std::mem::take(&mut self.all);
        self.branches.push(best(&all));
        self.all = all;
        self.broken = false;
    }

    /// The frame's requirements once its content has ended: the branch's own, or after an
    /// alternation one of every branch's best.
    fn finish(mut self) -> Vec<AnyOf> {
        self.end_run();
        if self.branches.is_empty() {
            return self.all;
        }
        self.end_branch();
        let mut any = Vec::new();
        for b in self.branches {
            match b {
                Some(b) => any.extend(b),
                None => return Vec::new(),
            }
        }
        any.sort();
        any.dedup();
        vec![any]
    }
}

impl Required {
    fn new(ci: bool) -> Required {
        Required {
            ci,
            frames: vec![Frame::default()],
            pending: None,
            gave_up: false,
        }
    }

    fn frame(&mut self) -> &mut Frame {
        self.frames
            .last_mut()
            .expect("the top frame is never popped")
    }

    fn flush(&mut self, quantified: Option<bool>) {
        if let Some(p) = self.pending.take() {
            self.frame().take(p, quantified);
        }
    }

    fn atom(&mut self, c: Option<char>) {
        self.flush(None);
        self.pending = Some(match c {
            Some(c) if self.ci => Piece::Text(c.to_ascii_lowercase().to_string()),
            Some(c) => Piece::Text(c.to_string()),
            None => Piece::Other,
        });
    }

    fn zero_width(&mut self) {
        self.atom(None);
        self.flush(None);
    }

    fn quantified(&mut self, at_least_once: bool) {
        self.flush(Some(at_least_once));
    }

    fn alternate(&mut self) {
        self.flush(None);
        let f = self.frame();
        f.end_branch();
        f.all.clear();
    }

    fn open(&mut self, lookaround: bool) {
        self.flush(None);
        self.frames.push(Frame {
            lookaround,
            ..Frame::default()
        });
    }

    fn close(&mut self) {
        self.flush(None);
        if self.frames.len() < 2 {
            return;
        }
        let f = self.frames.pop().expect("checked");
        self.pending = Some(if f.lookaround {
            Piece::Other
        } else if f.branches.is_empty() && !f.broken {
            Piece::Text(f.run)
        } else {
            let rs = f.finish();
            if rs.is_empty() {
                Piece::Other
            } else {
                Piece::Inner(rs)
            }
        });
    }

    fn give_up(&mut self) {
        self.gave_up = true;
    }

    fn finish(mut self) -> Option<Vec<AnyOf>> {
        self.flush(None);
        if self.gave_up || self.frames.len() != 1 {
            return None;
        }
        let mut all = self.frames.pop().expect("the top frame").finish();
        all.sort_by_key(|r| std::cmp::Reverse(score(r)));
        all.truncate(KEEP);
        (!all.is_empty()).then_some(all)
    }
}

enum Item {
    Char(char),
    Set(Set),
}

/// A set of code points as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Set(Vec<(u32, u32)>);

impl Set {
    fn from(ranges: &[(u32, u32)]) -> Set {
        Set(ranges.to_vec()).normalized()
    }

    /// Adds a range; [`Set::normalized`] sorts and merges once the set is complete.
    fn push(&mut self, lo: u32, hi: u32) {
        self.0.push((lo, hi));
    }

    /// Sorted, disjoint, non-adjacent ranges.
    fn normalized(mut self) -> Set {
        self.0.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(self.0.len());
        for &(lo, hi) in &self.0 {
            match merged.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        Set(merged)
    }

    fn add_char(&mut self, c: char, ci: bool) {
        self.add_range(c as u32, c as u32, ci);
    }

    /// With `ci`, also the other case of every ASCII letter in the range (Java's
    /// case-insensitive ranges without `UNICODE_CASE`).
    fn add_range(&mut self, lo: u32, hi: u32, ci: bool) {
        self.push(lo, hi);
        if ci {
            for (a, z, delta) in [(0x41u32, 0x5au32, 0x20u32), (0x61, 0x7a, 0)] {
                let (l, h) = (lo.max(a), hi.min(z));
                if l <= h {
                    if delta > 0 {
                        self.push(l + delta, h + delta);
                    } else {
                        self.push(l - 0x20, h - 0x20);
                    }
                }
            }
        }
    }

    fn add_set(&mut self, other: &Set) {
        for &(lo, hi) in &other.0 {
            self.push(lo, hi);
        }
    }

    /// The complement among Unicode scalar values (Rust strings hold no surrogates).
    fn negate(&self) -> Set {
        let sorted = self.clone().normalized();
        let mut out = Set::default();
        let mut next = 0u32;
        for &(lo, hi) in &sorted.0 {
            if lo > next {
                out.0.push((next, lo - 1));
            }
            next = hi + 1;
        }
        if next <= 0x10_ffff {
            out.0.push((next, 0x10_ffff));
        }
        // Cut out the surrogates.
        let mut cut = Set::default();
        for (lo, hi) in out.0 {
            if hi < 0xd800 || lo > 0xdfff {
                cut.0.push((lo, hi));
                continue;
            }
            if lo < 0xd800 {
                cut.0.push((lo, 0xd7ff));
            }
            if hi > 0xdfff {
                cut.0.push((0xe000, hi));
            }
        }
        cut
    }
}

fn emit_set(out: &mut String, set: &Set) {
    let set = set.clone().normalized();
    if set.0.is_empty() {
        // Matches nothing (e.g. `[^\x00-\x{10FFFF}]`).
        out.push_str(r"(?!)");
        return;
    }
    out.push('[');
    for &(lo, hi) in &set.0 {
        emit_class_char(out, lo);
        if hi > lo {
            out.push('-');
            emit_class_char(out, hi);
        }
    }
    out.push(']');
}

fn emit_class_char(out: &mut String, c: u32) {
    match char::from_u32(c) {
        Some(ch) if ch.is_ascii_alphanumeric() => out.push(ch),
        _ => out.push_str(&format!("\\x{{{c:X}}}")),
    }
}

fn emit_char(out: &mut String, c: char) {
    let plain = c.is_ascii_alphanumeric()
        || c == ' '
        || (!c.is_ascii() && !c.is_control())
        || (c.is_ascii_graphic() && !r"\.+*?()|[]{}^$#&-~".contains(c));
    if plain {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", c as u32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(p: &str, ci: bool) -> String {
        translate(p, ci, Mode::Ascii).unwrap().pattern
    }

    fn exact(p: &str) -> String {
        translate(p, false, Mode::Exact).unwrap().pattern
    }

    fn err(p: &str) -> String {
        translate(p, false, Mode::Exact).unwrap_err().message
    }

    #[test]
    fn classes_are_ascii_and_case_folding_is_ascii() {
        assert_eq!(tr(r"(\d+)\.", false), r"([0-9]+)\x{2E}");
        assert_eq!(tr(r"\w", false), "[0-9A-Z\\x{5F}a-z]");
        assert_eq!(tr("Ks", true), "[Kk][Ss]");
        assert_eq!(tr("[a-c_]", true), "[A-C\\x{5F}a-c]");
        assert_eq!(
            tr("[^a]", true),
            "[\\x{0}-\\x{40}B-\\x{60}b-\\x{D7FF}\\x{E000}-\\x{10FFFF}]"
        );
        assert_eq!(tr(r"[\w-.]", false), "[\\x{2D}-\\x{2E}0-9A-Z\\x{5F}a-z]");
    }

    #[test]
    fn java_class_quirks() {
        // `]` first is a literal, `-` last is a literal.
        assert_eq!(tr("[]a-]", false), "[\\x{2D}\\x{5D}a]");
        assert_eq!(tr("[%20| ]", false), "[\\x{20}\\x{25}02\\x{7C}]");
        assert_eq!(err("[a[b]]"), "nested character classes are not supported");
        assert_eq!(err("[a&&b]"), "class intersections (&&) are not supported");
        assert_eq!(err("[z-a]"), "illegal character range");
        assert_eq!(err("[ab"), "unclosed character class");
    }

    #[test]
    fn anchors_depend_on_the_mode() {
        let t = translate(r"a$", false, Mode::Ascii).unwrap();
        assert!(t.mode_dependent);
        assert_eq!(t.pattern, r"a\z");
        assert_eq!(exact("a$"), format!("a{JAVA_DOLLAR}"));
        assert!(exact(r"\bx").starts_with("(?:(?<="));
        let plain = translate(r"(a)(?:b|)", false, Mode::Exact).unwrap();
        assert!(!plain.mode_dependent);
        assert_eq!(plain.groups, 1);
    }

    #[test]
    fn groups_and_quantifiers() {
        let t = translate(
            r"(a)(?:b)(?<n>c)(?=d)(?i:e)(f){2,3}?x*+",
            false,
            Mode::Ascii,
        )
        .unwrap();
        assert_eq!(t.groups, 3);
        assert_eq!(t.pattern, "(a)(?:b)(c)(?=d)(?:[Ee])(f){2,3}?x*+");
        assert_eq!(tr("(?i)a(?-i)b", false), "[Aa]b");
        assert_eq!(err("*a"), "dangling meta character '*'");
        assert_eq!(err("a{x}"), "illegal repetition");
        assert_eq!(err("(a"), "unclosed group");
        assert_eq!(err("a)"), "unmatched closing ')'");
        assert_eq!(err(r"(a)\1"), "back-references are not supported");
        assert_eq!(
            err("(?s)a"),
            "unsupported group or flag '(?s' (only (?i) is supported)"
        );
    }

    fn req(p: &str, ci: bool) -> Vec<Vec<String>> {
        translate(p, ci, Mode::Ascii)
            .unwrap()
            .required
            .unwrap_or_default()
    }

    fn all(rs: &[&[&str]]) -> Vec<Vec<String>> {
        rs.iter()
            .map(|r| r.iter().map(|l| l.to_string()).collect())
            .collect()
    }

    #[test]
    fn required_literals_are_conservative() {
        assert_eq!(
            req(r"(GeoEvent Server) (\d+)(?:\.(\d+)|)", false),
            all(&[&["GeoEvent Server "]])
        );
        assert_eq!(
            req(r"^(.{0,200})/(\d+)(?:\.(\d+)|) CFNetwork", false),
            all(&[&[" CFNetwork"], &["/"]])
        );
        assert_eq!(req(r"(Firefox)/(\d+)", true), all(&[&["firefox/"]]));
        // Optional or repeated atoms end a run, and are not required themselves.
        assert_eq!(req(r"abc?d", false), all(&[&["ab"], &["d"]]));
        assert_eq!(req(r"x(abcd)?y", false), all(&[&["x"], &["y"]]));
        assert_eq!(req(r"ab+cd", false), all(&[&["ab"], &["cd"]]));
        assert_eq!(req(r"a{0,3}bc", false), all(&[&["bc"]]));
        assert_eq!(req(r"xa{2}", false), all(&[&["xa"]]));
        // Alternations give one of their branches' best, when every branch has one.
        assert_eq!(
            req(r"(?:foo|bar)baz", false),
            all(&[&["baz"], &["bar", "foo"]])
        );
        assert_eq!(
            req(r"AspiegelBot|PetalBot", false),
            all(&[&["AspiegelBot", "PetalBot"]])
        );
        assert_eq!(req(r"(a(?:b|cd)|e\d)", false), all(&[&["a", "e"]]));
        assert_eq!(req(r"(?:x|)y|z", false), all(&[&["y", "z"]]));
        assert_eq!(req(r"foo|\d", false), all(&[]));
        assert_eq!(req(r"(?:foo|)", false), all(&[]));
        // A group that is not one run contributes its requirements, apart from its
        // neighbours.
        assert_eq!(
            req(r"x(ab\dcdef)y", false),
            all(&[&["cdef"], &["ab"], &["x"], &["y"]])
        );
        assert_eq!(
            req(r"; {0,2}(IQ.{0,200}?)(?: Build|\) AppleWebKit)", false),
            all(&[&[" Build", ") AppleWebKit"], &["IQ"], &[";"]])
        );
        // Look-arounds and inline flags are not trusted.
        assert_eq!(req(r"(?=abcdef)x", false), all(&[&["x"]]));
        assert_eq!(req(r"(?i)abc", false), all(&[]));
        assert_eq!(req(r"\d+", false), all(&[]));
        assert_eq!(req(r"\Qa.b\E", false), all(&[&["a.b"]]));
    }

    #[test]
    fn escapes() {
        assert_eq!(
            tr(r"\/\-\t\x41\u0042\0101\cA", false),
            "/\\x{2D}\\x{9}ABA\\x{1}"
        );
        assert_eq!(tr(r"\Qa.b\E.", false), "a\\x{2E}b[\\x{0}-\\x{9}\\x{B}-\\x{C}\\x{E}-\\x{84}\\x{86}-\\x{2027}\\x{202A}-\\x{D7FF}\\x{E000}-\\x{10FFFF}]");
        assert_eq!(err(r"\y"), "illegal escape sequence \\y");
        assert!(err(r"\p{L}").contains("not supported"));
    }
}
