//! Source positions. Every AST node carries a byte span into the query text so that
//! errors and warnings can point at `line L:C` exactly as Elasticsearch does, and so that
//! unnamed expressions can be named by their source text verbatim (ES|QL's naming rule).

use std::fmt;

/// A half-open byte range `[start, end)` into the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        source.get(self.start..self.end).unwrap_or("")
    }
}

/// A 1-based line and column, counted in characters (ES counts UTF-16 code units through
/// ANTLR; for the ASCII queries hunts are written in, the two agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    pub fn of(source: &str, offset: usize) -> Position {
        let offset = offset.min(source.len());
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = source[line_start..offset].chars().count() + 1;
        Position { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let q = "from x\n| where foo";
        assert_eq!(Position::of(q, 0), Position { line: 1, column: 1 });
        let at = q.find("foo").unwrap();
        assert_eq!(Position::of(q, at).to_string(), "2:9");
    }
}
