//! The ES|QL lexical grammar (esql-spec §2). The lexer works on demand with two modes,
//! because `FROM` index patterns (`logs-aws.cloudtrail*`, `-excluded`, `remote:idx`) are
//! not expression tokens: the parser asks for [`Lexer::next_index_pattern`] there.

use crate::error::EsqlError;
use crate::span::Span;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Unquoted identifier or keyword (keywords are recognised by the parser, case-insensitively).
    Ident(String),
    /// Backtick-quoted identifier, with doubled backticks already collapsed.
    QuotedIdent(String),
    Str(String),
    /// Integer literal as written (it may not fit any integer type; the parser decides).
    Int(String),
    Decimal(f64),
    /// `?`, `?1`, `?name` (the text after `?`); `??name` is `Param("?name")`.
    Param(String),
    Pipe,
    Comma,
    Dot,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Assign,
    Eq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Cast,
    Colon,
    Semicolon,
    Eof,
}

impl Tok {
    /// How ANTLR would quote the token in `mismatched input '…'` messages.
    pub fn describe(&self, text: &str) -> String {
        match self {
            Tok::Eof => "<EOF>".to_string(),
            _ => format!("'{text}'"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
    /// True when whitespace or a comment precedes the token; `a.b` and `1day` care.
    pub spaced: bool,
}

pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic()
}

fn is_ident_body(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer { src, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn reset(&mut self, pos: usize) {
        self.pos = pos;
    }

    fn peek_char(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_char_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    /// An error on the character at `start`: the span covers the whole character, so a caret
    /// under a multi-byte one never cuts it (found by the `esql_parse` fuzz target).
    fn err(&self, start: usize, msg: String) -> EsqlError {
        let width = self.src[start..].chars().next().map_or(0, char::len_utf8);
        EsqlError::parsing(self.src, Span::new(start, start + width), msg)
    }

    /// Skips whitespace and comments; returns whether anything was skipped.
    fn skip_trivia(&mut self) -> Result<bool, EsqlError> {
        let start = self.pos;
        loop {
            let rest = &self.src[self.pos..];
            if let Some(c) = rest.chars().next() {
                if c.is_whitespace() {
                    self.pos += c.len_utf8();
                    continue;
                }
            }
            if rest.starts_with("//") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
                continue;
            }
            if rest.starts_with("/*") {
                // Block comments nest, as in the ANTLR grammar.
                let open = self.pos;
                let mut depth = 0usize;
                let mut i = self.pos;
                let bytes = self.src.as_bytes();
                loop {
                    if i + 1 >= bytes.len() {
                        return Err(self.err(open, "unterminated block comment".into()));
                    }
                    if bytes[i] == b'/' && bytes[i + 1] == b'*' {
                        depth += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                self.pos = i;
                continue;
            }
            break;
        }
        Ok(self.pos > start)
    }

    /// Lexes one index pattern in `FROM` (unquoted run or quoted string), a comma, a pipe,
    /// or the `METADATA` keyword (returned as an identifier).
    pub fn next_index_pattern(&mut self) -> Result<Token, EsqlError> {
        let spaced = self.skip_trivia()?;
        let start = self.pos;
        match self.peek_char() {
            None => Ok(Token {
                tok: Tok::Eof,
                span: Span::new(start, start),
                spaced,
            }),
            Some('"') => self.next_token(),
            Some(',') | Some('|') | Some('[') | Some(']') | Some(';') => self.next_token(),
            Some(_) => {
                while let Some(c) = self.peek_char() {
                    if c.is_whitespace()
                        || matches!(c, ',' | '|' | '[' | ']' | '`' | '"' | '=' | ';')
                        || self.src[self.pos..].starts_with("//")
                        || self.src[self.pos..].starts_with("/*")
                    {
                        break;
                    }
                    self.pos += c.len_utf8();
                }
                if self.pos == start {
                    return Err(self.err(
                        start,
                        format!(
                            "token recognition error at: '{}'",
                            self.peek_char().unwrap_or(' ')
                        ),
                    ));
                }
                Ok(Token {
                    tok: Tok::Ident(self.src[start..self.pos].to_string()),
                    span: Span::new(start, self.pos),
                    spaced,
                })
            }
        }
    }

    pub fn next_token(&mut self) -> Result<Token, EsqlError> {
        let spaced = self.skip_trivia()?;
        let start = self.pos;
        let Some(c) = self.peek_char() else {
            return Ok(Token {
                tok: Tok::Eof,
                span: Span::new(start, start),
                spaced,
            });
        };
        let tok = match c {
            '"' => self.string(start)?,
            '`' => self.quoted_ident(start)?,
            '0'..='9' => self.number(start)?,
            '.' if self.peek_char_at(1).is_some_and(|d| d.is_ascii_digit())
                && spaced_or_first(self, start) =>
            {
                self.number(start)?
            }
            '?' => {
                self.pos += 1;
                // `??name` (an identifier parameter) keeps one `?` in its text.
                let body_start = if self.peek_char() == Some('?') {
                    self.pos += 1;
                    self.pos - 1
                } else {
                    self.pos
                };
                while self.peek_char().is_some_and(is_ident_body) {
                    self.pos += 1;
                }
                Tok::Param(self.src[body_start..self.pos].to_string())
            }
            c if is_ident_start(c)
                || ((c == '_' || c == '@') && self.peek_char_at(1).is_some_and(is_ident_body)) =>
            {
                self.pos += 1;
                while self.peek_char().is_some_and(is_ident_body) {
                    self.pos += 1;
                }
                Tok::Ident(self.src[start..self.pos].to_string())
            }
            _ => {
                let two = self.src[self.pos..].get(..2).unwrap_or("");
                let (tok, len) = match two {
                    "==" => (Tok::Eq, 2),
                    "!=" => (Tok::NotEq, 2),
                    "<=" => (Tok::Le, 2),
                    ">=" => (Tok::Ge, 2),
                    "::" => (Tok::Cast, 2),
                    _ => match c {
                        '|' => (Tok::Pipe, 1),
                        ',' => (Tok::Comma, 1),
                        '.' => (Tok::Dot, 1),
                        '(' => (Tok::LParen, 1),
                        ')' => (Tok::RParen, 1),
                        '[' => (Tok::LBracket, 1),
                        ']' => (Tok::RBracket, 1),
                        '{' => (Tok::LBrace, 1),
                        '}' => (Tok::RBrace, 1),
                        '=' => (Tok::Assign, 1),
                        '<' => (Tok::Lt, 1),
                        '>' => (Tok::Gt, 1),
                        '+' => (Tok::Plus, 1),
                        '-' => (Tok::Minus, 1),
                        '*' => (Tok::Star, 1),
                        '/' => (Tok::Slash, 1),
                        '%' => (Tok::Percent, 1),
                        ':' => (Tok::Colon, 1),
                        ';' => (Tok::Semicolon, 1),
                        other => {
                            return Err(
                                self.err(start, format!("token recognition error at: '{other}'"))
                            )
                        }
                    },
                };
                self.pos += len;
                tok
            }
        };
        Ok(Token {
            tok,
            span: Span::new(start, self.pos),
            spaced,
        })
    }

    fn string(&mut self, start: usize) -> Result<Tok, EsqlError> {
        let rest = &self.src[start..];
        if let Some(body) = rest.strip_prefix("\"\"\"") {
            // Triple-quoted: verbatim, may contain up to two quotes before the closing run.
            let Some(close) = body.find("\"\"\"") else {
                return Err(self.err(start, "token recognition error at: '\"\"\"'".to_string()));
            };
            // `""""x""""`-style runs: extend the close past extra quotes (max two extra).
            let mut end = close;
            while body[end + 3..].starts_with('"') && end < close + 2 {
                end += 1;
            }
            let text = &body[..end];
            if text.contains('\n') || text.contains('\r') {
                return Err(self.err(start, "token recognition error at: '\"\"\"'".to_string()));
            }
            self.pos = start + 3 + end + 3;
            return Ok(Tok::Str(text.to_string()));
        }
        let mut out = String::new();
        let mut chars = rest[1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos = start + 1 + i + 1;
                    return Ok(Tok::Str(out));
                }
                '\\' => match chars.next() {
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, '\\')) => out.push('\\'),
                    bad => {
                        // Up to the end of the character after the backslash, whatever its
                        // width (a byte count sliced `"\Ǎ` inside the `Ǎ`: a fuzz finding).
                        let end = bad.map_or(rest.len(), |(j, c)| 1 + j + c.len_utf8());
                        return Err(self.err(
                            start,
                            format!("token recognition error at: '{}'", &rest[..end]),
                        ));
                    }
                },
                '\n' | '\r' => break,
                c => out.push(c),
            }
        }
        let line_end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        Err(self.err(
            start,
            format!("token recognition error at: '{}'", &rest[..line_end]),
        ))
    }

    fn quoted_ident(&mut self, start: usize) -> Result<Tok, EsqlError> {
        let bytes = self.src.as_bytes();
        let mut i = start + 1;
        let mut out = String::new();
        loop {
            if i >= bytes.len() {
                return Err(self.err(
                    start,
                    format!("token recognition error at: '{}'", &self.src[start..]),
                ));
            }
            if bytes[i] == b'`' {
                if bytes.get(i + 1) == Some(&b'`') {
                    out.push('`');
                    i += 2;
                    continue;
                }
                self.pos = i + 1;
                return Ok(Tok::QuotedIdent(out));
            }
            let c = self.src[i..].chars().next().unwrap_or('`');
            out.push(c);
            i += c.len_utf8();
        }
    }

    fn number(&mut self, start: usize) -> Result<Tok, EsqlError> {
        let bytes = self.src.as_bytes();
        let mut i = start;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let mut decimal = false;
        if i < bytes.len() && bytes[i] == b'.' {
            // `1.` is a decimal, but `1..` or `1.foo` is not ours to judge here: a digit or
            // exponent or non-identifier after the dot makes it a decimal.
            let next = bytes.get(i + 1).copied();
            if next.is_none_or(|n| {
                !(n.is_ascii_alphabetic() || n == b'_' || n == b'.') || n == b'e' || n == b'E'
            }) {
                decimal = true;
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
        }
        if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
            let mut j = i + 1;
            if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                j += 1;
            }
            if j < bytes.len() && bytes[j].is_ascii_digit() {
                while j < bytes.len() && bytes[j].is_ascii_digit() {
                    j += 1;
                }
                decimal = true;
                i = j;
            }
        }
        self.pos = i;
        let text = &self.src[start..i];
        if decimal {
            let v: f64 = text
                .parse()
                .map_err(|_| self.err(start, format!("Invalid decimal number [{text}]")))?;
            Ok(Tok::Decimal(v))
        } else {
            Ok(Tok::Int(text.to_string()))
        }
    }
}

/// `.5` is a number only where an operand may start (not in `a.5` right after a name).
fn spaced_or_first(lexer: &Lexer<'_>, start: usize) -> bool {
    let before = lexer.src[..start].chars().next_back();
    !before.is_some_and(|c| is_ident_body(c) || c == '`' || c == ')')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        let mut l = Lexer::new(s);
        let mut out = vec![];
        loop {
            let t = l.next_token().unwrap();
            if t.tok == Tok::Eof {
                return out;
            }
            out.push(t.tok);
        }
    }

    #[test]
    fn identifiers_and_dots() {
        assert_eq!(
            toks("@timestamp event.action _index"),
            vec![
                Tok::Ident("@timestamp".into()),
                Tok::Ident("event".into()),
                Tok::Dot,
                Tok::Ident("action".into()),
                Tok::Ident("_index".into())
            ]
        );
        assert_eq!(toks("`a``b`"), vec![Tok::QuotedIdent("a`b".into())]);
    }

    #[test]
    fn strings() {
        assert_eq!(toks(r#""a\"b\\c\t""#), vec![Tok::Str("a\"b\\c\t".into())]);
        assert_eq!(toks(r#""""foo\*""""#), vec![Tok::Str("foo\\*".into())]);
        assert_eq!(toks(r#""""a"b""""#), vec![Tok::Str("a\"b".into())]);
        assert!(Lexer::new(r#""\d""#).next_token().is_err());
        assert!(Lexer::new("\"abc").next_token().is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(
            toks("1 1.5 .5 1e3 2."),
            vec![
                Tok::Int("1".into()),
                Tok::Decimal(1.5),
                Tok::Decimal(0.5),
                Tok::Decimal(1000.0),
                Tok::Decimal(2.0)
            ]
        );
        assert_eq!(
            toks("7day"),
            vec![Tok::Int("7".into()), Tok::Ident("day".into())]
        );
    }

    #[test]
    fn comments_and_operators() {
        assert_eq!(
            toks("a /* x /* nested */ y */ <= b // tail\n!= ::"),
            vec![
                Tok::Ident("a".into()),
                Tok::Le,
                Tok::Ident("b".into()),
                Tok::NotEq,
                Tok::Cast
            ]
        );
    }

    #[test]
    fn index_patterns() {
        let mut l = Lexer::new(" logs-aws.cloudtrail*, -x | where");
        assert_eq!(
            l.next_index_pattern().unwrap().tok,
            Tok::Ident("logs-aws.cloudtrail*".into())
        );
        assert_eq!(l.next_index_pattern().unwrap().tok, Tok::Comma);
        assert_eq!(l.next_index_pattern().unwrap().tok, Tok::Ident("-x".into()));
        assert_eq!(l.next_index_pattern().unwrap().tok, Tok::Pipe);
    }
}
