//! A hand-written recursive-descent parser for ES|QL (esql-spec §1–8). Errors use ANTLR's
//! wording (`mismatched input 'x' expecting …`) because that is what ES users see.
//!
//! This module holds the parser's state, token helpers and the name rules shared by every
//! clause; commands are in `commands.rs`, expressions in `expr.rs`, literals in
//! `literal.rs` and placeholder binding in `params.rs`.

mod commands;
mod expr;
mod literal;
mod params;
#[cfg(test)]
mod tests;

use crate::ast::*;
use crate::error::EsqlError;
use crate::lexer::{Lexer, Tok, Token};
use crate::params::{ParamValue, Params};
use crate::span::Span;

/// Words that end an expression in the grammar, so they are never column names unquoted.
const RESERVED: &[&str] = &[
    "and", "or", "not", "in", "is", "like", "rlike", "null", "true", "false", "by", "as", "asc",
    "desc", "nulls", "first", "last", "where", "on", "with", "metadata",
];

pub fn parse(source: &str) -> Result<Query, EsqlError> {
    parse_with_params(source, &Params::default())
}

/// Parses a query, binding its `?` placeholders to `params` (esql-spec §2.6).
pub fn parse_with_params(source: &str, params: &Params) -> Result<Query, EsqlError> {
    check_length(source)?;
    let mut p = Parser::new(source)?;
    p.params = params.clone();
    p.query()
}

/// Parses a standalone expression (used by tests and by tools such as the linter).
pub fn parse_expression(source: &str) -> Result<Expr, EsqlError> {
    check_length(source)?;
    let mut p = Parser::new(source)?;
    let e = p.expr()?;
    p.expect_eof()?;
    Ok(e)
}

/// The longest query accepted, in bytes (as Elasticsearch caps a statement's length).
pub const MAX_QUERY_LENGTH: usize = 1_000_000;
/// The deepest expression accepted: parentheses, unary operators, casts and each link of an
/// operator chain count one level. Deeper input would overflow the stack of the parser or
/// of the planner's recursive walks; Elasticsearch has a limit of the same kind.
pub const MAX_EXPRESSION_DEPTH: usize = 400;

fn check_length(source: &str) -> Result<(), EsqlError> {
    if source.len() > MAX_QUERY_LENGTH {
        return Err(EsqlError::parsing(
            source,
            crate::span::Span { start: 0, end: 0 },
            format!(
                "ESQL statement is too large [{} characters > {MAX_QUERY_LENGTH}]",
                source.len()
            ),
        ));
    }
    Ok(())
}

struct Parser<'a> {
    /// Current expression nesting, see [`MAX_EXPRESSION_DEPTH`].
    depth: usize,
    src: &'a str,
    lexer: Lexer<'a>,
    tok: Token,
    params: Params,
    /// Anonymous `?` seen so far (the next one takes the parameter after them).
    anonymous: usize,
    /// The kinds of placeholder used (`anonymous`, `positional`, `named`); ES allows one.
    param_kind: Option<&'static str>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Result<Parser<'a>, EsqlError> {
        let mut lexer = Lexer::new(src);
        let tok = lexer.next_token()?;
        Ok(Parser {
            depth: 0,
            src,
            lexer,
            tok,
            params: Params::default(),
            anonymous: 0,
            param_kind: None,
        })
    }

    fn text(&self, span: Span) -> &'a str {
        span.text(self.src)
    }

    fn advance(&mut self) -> Result<Token, EsqlError> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.tok, next))
    }

    /// Re-lexes from the current token's start in index-pattern mode.
    fn advance_pattern_mode(&mut self) -> Result<Token, EsqlError> {
        let next = self.lexer.next_index_pattern()?;
        Ok(std::mem::replace(&mut self.tok, next))
    }

    /// Re-lexes the current token as an index pattern (LOOKUP JOIN and ENRICH targets).
    fn relex_as_pattern(&mut self) -> Result<(), EsqlError> {
        self.lexer.reset(self.tok.span.start);
        self.tok = self.lexer.next_index_pattern()?;
        Ok(())
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.tok.tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> Result<bool, EsqlError> {
        if self.is_kw(kw) {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn eat(&mut self, t: &Tok) -> Result<bool, EsqlError> {
        if &self.tok.tok == t {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// One level deeper into an expression; refuses input past [`MAX_EXPRESSION_DEPTH`]
    /// with a clear error instead of overflowing the stack.
    fn deeper(&mut self) -> Result<(), EsqlError> {
        self.depth += 1;
        if self.depth > MAX_EXPRESSION_DEPTH {
            return Err(EsqlError::parsing(
                self.src,
                self.tok.span,
                format!(
                    "ESQL statement exceeded the maximum expression depth allowed ({MAX_EXPRESSION_DEPTH})"
                ),
            ));
        }
        Ok(())
    }

    fn mismatched(&self, expecting: &str) -> EsqlError {
        let found = self.tok.tok.describe(self.text(self.tok.span));
        EsqlError::parsing(
            self.src,
            self.tok.span,
            format!("mismatched input {found} expecting {expecting}"),
        )
    }

    fn expect(&mut self, t: Tok, shown: &str) -> Result<Token, EsqlError> {
        if self.tok.tok == t {
            self.advance()
        } else {
            Err(self.mismatched(&format!("'{shown}'")))
        }
    }

    fn expect_eof(&mut self) -> Result<(), EsqlError> {
        if self.tok.tok == Tok::Eof {
            Ok(())
        } else {
            Err(self.mismatched("<EOF>"))
        }
    }

    fn query(&mut self) -> Result<Query, EsqlError> {
        let source = self.source_command()?;
        let mut commands = vec![];
        loop {
            match self.tok.tok {
                Tok::Eof => break,
                Tok::Pipe => {
                    self.advance()?;
                    commands.push(self.processing_command()?);
                }
                _ => return Err(self.mismatched("{<EOF>, '|'}")),
            }
        }
        Ok(Query { source, commands })
    }

    /// End offset of the last consumed token (approximated by the current token start,
    /// trimmed of trailing whitespace).
    fn prev_end(&self) -> usize {
        let upto = &self.src[..self.tok.span.start];
        upto.trim_end().len()
    }

    fn span_from(&self, start: Span) -> Span {
        Span::new(start.start, self.prev_end().max(start.end))
    }

    fn fields(&mut self) -> Result<Vec<Field>, EsqlError> {
        let mut out = vec![self.field()?];
        while self.eat(&Tok::Comma)? {
            out.push(self.field()?);
        }
        Ok(out)
    }

    /// `[name =] expr`. A name is a qualified name followed by `=` (not `==`).
    fn field(&mut self) -> Result<Field, EsqlError> {
        if matches!(self.tok.tok, Tok::Ident(_) | Tok::QuotedIdent(_)) && !self.is_reserved_here() {
            let saved_tok = self.tok.clone();
            let saved_lexer = self.lexer.position();
            let (name, span) = self.qualified_name()?;
            if self.tok.tok == Tok::Assign {
                self.advance()?;
                let expr = self.expr()?;
                return Ok(Field {
                    name: Some((name, span)),
                    expr,
                });
            }
            // Not an assignment: rewind and parse as an expression.
            self.tok = saved_tok;
            self.lexer.reset(saved_lexer);
        }
        let expr = self.expr()?;
        Ok(Field { name: None, expr })
    }

    fn is_reserved_here(&self) -> bool {
        matches!(&self.tok.tok, Tok::Ident(s) if RESERVED.contains(&s.to_ascii_lowercase().as_str()))
    }

    fn identifier(&mut self) -> Result<(String, Span), EsqlError> {
        match &self.tok.tok {
            Tok::Ident(s) if !RESERVED.contains(&s.to_ascii_lowercase().as_str()) => {
                let r = (s.clone(), self.tok.span);
                self.advance()?;
                Ok(r)
            }
            Tok::QuotedIdent(s) => {
                let r = (s.clone(), self.tok.span);
                self.advance()?;
                Ok(r)
            }
            Tok::Param(p) if p.starts_with('?') => {
                let (p, span) = (p.clone(), self.tok.span);
                self.advance()?;
                match self.bind(&p, span)? {
                    ParamValue::Identifier(id) => Ok((id, span)),
                    ParamValue::Value(_) => unreachable!("bind gives identifiers for ??"),
                }
            }
            _ => Err(self.mismatched("{UNQUOTED_IDENTIFIER, QUOTED_IDENTIFIER}")),
        }
    }

    /// `a.b.c`, each part optionally backtick-quoted; joined into one column name.
    fn qualified_name(&mut self) -> Result<(String, Span), EsqlError> {
        let (mut name, mut span) = self.identifier()?;
        while self.tok.tok == Tok::Dot && !self.tok.spaced {
            self.advance()?;
            let (part, pspan) = match &self.tok.tok {
                // After a dot any word is a name part, even a reserved one (`event.type`? no; `a.first`).
                Tok::Ident(s) => {
                    let r = (s.clone(), self.tok.span);
                    self.advance()?;
                    r
                }
                _ => self.identifier()?,
            };
            name.push('.');
            name.push_str(&part);
            span = span.to(pspan);
        }
        Ok((name, span))
    }

    /// A name pattern for KEEP/DROP/RENAME: a qualified name that may contain `*`.
    fn name_pattern(&mut self) -> Result<(String, Span), EsqlError> {
        let start = self.tok.span;
        let mut name = String::new();
        let mut end = start;
        let mut expect_part = true;
        loop {
            match &self.tok.tok {
                Tok::Star if expect_part || (!self.tok.spaced && !name.is_empty()) => {
                    name.push('*');
                    end = self.tok.span;
                    self.advance()?;
                    expect_part = false;
                }
                Tok::Ident(s) if expect_part || (!self.tok.spaced && name.ends_with('*')) => {
                    if name.is_empty() && RESERVED.contains(&s.to_ascii_lowercase().as_str()) {
                        break;
                    }
                    name.push_str(s);
                    end = self.tok.span;
                    self.advance()?;
                    expect_part = false;
                }
                Tok::QuotedIdent(s) if expect_part || (!self.tok.spaced && name.ends_with('*')) => {
                    name.push_str(s);
                    end = self.tok.span;
                    self.advance()?;
                    expect_part = false;
                }
                Tok::Param(p) if p.starts_with('?') && expect_part && name.is_empty() => {
                    // `??name` stands for a whole name (or pattern).
                    end = self.tok.span;
                    let (id, _) = self.identifier()?;
                    name.push_str(&id);
                    expect_part = false;
                }
                Tok::Dot if !self.tok.spaced && !name.is_empty() && !expect_part => {
                    name.push('.');
                    self.advance()?;
                    expect_part = true;
                }
                _ => break,
            }
            if self.tok.spaced && !expect_part {
                break;
            }
        }
        if name.is_empty() || expect_part {
            return Err(self.mismatched("{ID_PATTERN}"));
        }
        Ok((name, start.to(end)))
    }

    fn name_patterns(&mut self) -> Result<Vec<(String, Span)>, EsqlError> {
        let mut out = vec![self.name_pattern()?];
        while self.eat(&Tok::Comma)? {
            out.push(self.name_pattern()?);
        }
        Ok(out)
    }

    // ---- expressions, loosest first --------------------------------------------------
}
