//! A hand-written recursive-descent parser for ES|QL (esql-spec §1–8). Errors use ANTLR's
//! wording (`mismatched input 'x' expecting …`) because that is what ES users see.
//! Commands we recognise but do not run yet fail at their position, never silently.

use crate::ast::*;
use crate::error::EsqlError;
use crate::lexer::{Lexer, Tok, Token};
use crate::params::{ParamValue, Params};
use crate::span::Span;

/// Processing commands ES knows; used for "expecting" lists and "not supported" errors.
const PROCESSING_COMMANDS: &[&str] = &[
    "change_point",
    "completion",
    "dissect",
    "drop",
    "enrich",
    "eval",
    "fork",
    "grok",
    "inline",
    "inlinestats",
    "keep",
    "limit",
    "lookup",
    "mv_expand",
    "rename",
    "rerank",
    "sample",
    "sort",
    "stats",
    "where",
    "fuse",
    "insist_🐔",
    "join",
];

const SUPPORTED_PROCESSING: &[&str] = &[
    "dissect",
    "drop",
    "enrich",
    "eval",
    "grok",
    "keep",
    "limit",
    "lookup",
    "mv_expand",
    "rename",
    "sort",
    "stats",
    "where",
];

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
    let mut p = Parser::new(source)?;
    p.params = params.clone();
    p.query()
}

/// Parses a standalone expression (used by tests and by tools such as the linter).
pub fn parse_expression(source: &str) -> Result<Expr, EsqlError> {
    let mut p = Parser::new(source)?;
    let e = p.expr()?;
    p.expect_eof()?;
    Ok(e)
}

struct Parser<'a> {
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

    fn source_command(&mut self) -> Result<SourceCommand, EsqlError> {
        let start = self.tok.span;
        if self.is_kw("from") {
            self.advance_pattern_mode_from_keyword()?;
            let mut patterns = vec![];
            loop {
                match &self.tok.tok {
                    Tok::Ident(s) if !patterns.is_empty() && s.eq_ignore_ascii_case("metadata") => {
                        break
                    }
                    Tok::Ident(s) | Tok::Str(s) => {
                        patterns.push((s.clone(), self.tok.span));
                        self.advance_pattern_mode()?;
                    }
                    _ => return Err(self.mismatched("{QUOTED_STRING, UNQUOTED_SOURCE}")),
                }
                if self.tok.tok == Tok::Comma {
                    self.advance_pattern_mode()?;
                } else {
                    break;
                }
            }
            let mut metadata = vec![];
            // The pattern-mode token after the list is already lexed; switch back to normal mode.
            self.lexer.reset(self.tok.span.start);
            self.tok = self.lexer.next_token()?;
            if self.eat_kw("metadata")? {
                loop {
                    let (name, span) = self.identifier()?;
                    metadata.push((name, span));
                    if !self.eat(&Tok::Comma)? {
                        break;
                    }
                }
            }
            let end = self.prev_end();
            return Ok(SourceCommand::From {
                patterns,
                metadata,
                span: start.to(Span::new(end, end)),
            });
        }
        if self.is_kw("row") {
            self.advance()?;
            let fields = self.fields()?;
            let end = self.prev_end();
            return Ok(SourceCommand::Row {
                fields,
                span: start.to(Span::new(end, end)),
            });
        }
        if self.is_kw("show") {
            self.advance()?;
            let what = if self.eat_kw("info")? {
                Show::Info
            } else if self.eat_kw("functions")? {
                Show::Functions
            } else {
                return Err(self.mismatched("{'info', 'functions'}"));
            };
            let end = self.prev_end();
            return Ok(SourceCommand::Show {
                what,
                span: start.to(Span::new(end, end)),
            });
        }
        for kw in ["ts", "explain", "metrics", "promql"] {
            if self.is_kw(kw) {
                return Err(EsqlError::parsing(
                    self.src,
                    self.tok.span,
                    format!(
                        "command [{}] is not supported yet by trailhunt",
                        kw.to_ascii_uppercase()
                    ),
                ));
            }
        }
        Err(self.mismatched("{'explain', 'from', 'row', 'show', 'ts'}"))
    }

    fn advance_pattern_mode_from_keyword(&mut self) -> Result<(), EsqlError> {
        // The lexer is positioned after FROM; lex the next token as a pattern.
        self.tok = self.lexer.next_index_pattern()?;
        Ok(())
    }

    /// End offset of the last consumed token (approximated by the current token start,
    /// trimmed of trailing whitespace).
    fn prev_end(&self) -> usize {
        let upto = &self.src[..self.tok.span.start];
        upto.trim_end().len()
    }

    fn processing_command(&mut self) -> Result<Command, EsqlError> {
        let start = self.tok.span;
        let Tok::Ident(word) = &self.tok.tok else {
            return Err(self.mismatched(&expecting_commands()));
        };
        let word = word.to_ascii_lowercase();
        if !SUPPORTED_PROCESSING.contains(&word.as_str()) {
            if PROCESSING_COMMANDS.contains(&word.as_str()) {
                let shown = if word == "inline" {
                    "INLINE STATS".to_string()
                } else {
                    word.to_ascii_uppercase()
                };
                return Err(EsqlError::parsing(
                    self.src,
                    start,
                    format!("command [{shown}] is not supported yet by trailhunt"),
                ));
            }
            return Err(self.mismatched(&expecting_commands()));
        }
        self.advance()?;
        let cmd = match word.as_str() {
            "where" => {
                let cond = self.expr()?;
                Command::Where {
                    cond,
                    span: self.span_from(start),
                }
            }
            "eval" => {
                let fields = self.fields()?;
                Command::Eval {
                    fields,
                    span: self.span_from(start),
                }
            }
            "stats" => {
                let mut aggs = vec![];
                if !self.is_kw("by") && !matches!(self.tok.tok, Tok::Pipe | Tok::Eof) {
                    loop {
                        let field = self.field()?;
                        let filter = if self.eat_kw("where")? {
                            Some(self.expr()?)
                        } else {
                            None
                        };
                        aggs.push(AggField { field, filter });
                        if !self.eat(&Tok::Comma)? {
                            break;
                        }
                    }
                }
                let groups = if self.eat_kw("by")? {
                    self.fields()?
                } else {
                    vec![]
                };
                Command::Stats {
                    aggs,
                    groups,
                    span: self.span_from(start),
                }
            }
            "keep" | "drop" => {
                let patterns = self.name_patterns()?;
                let span = self.span_from(start);
                if word == "keep" {
                    Command::Keep { patterns, span }
                } else {
                    Command::Drop { patterns, span }
                }
            }
            "rename" => {
                let mut pairs = vec![];
                loop {
                    let first = self.name_pattern()?;
                    if self.eat_kw("as")? {
                        let second = self.name_pattern()?;
                        pairs.push((first, second));
                    } else if self.eat(&Tok::Assign)? {
                        // Newer form: RENAME new = old.
                        let old = self.name_pattern()?;
                        pairs.push((old, first));
                    } else {
                        return Err(self.mismatched("{'=', AS}"));
                    }
                    if !self.eat(&Tok::Comma)? {
                        break;
                    }
                }
                Command::Rename {
                    pairs,
                    span: self.span_from(start),
                }
            }
            "sort" => {
                let mut keys = vec![];
                loop {
                    let expr = self.expr()?;
                    let descending = if self.eat_kw("desc")? {
                        true
                    } else {
                        self.eat_kw("asc")?;
                        false
                    };
                    let nulls_first = if self.eat_kw("nulls")? {
                        if self.eat_kw("first")? {
                            Some(true)
                        } else if self.eat_kw("last")? {
                            Some(false)
                        } else {
                            return Err(self.mismatched("{FIRST, LAST}"));
                        }
                    } else {
                        None
                    };
                    keys.push(SortKey {
                        expr,
                        descending,
                        nulls_first,
                    });
                    if !self.eat(&Tok::Comma)? {
                        break;
                    }
                }
                Command::Sort {
                    keys,
                    span: self.span_from(start),
                }
            }
            "limit" => {
                let t = self.advance()?;
                let n = match &t.tok {
                    Tok::Int(s) => s.parse::<u64>().map_err(|_| {
                        EsqlError::parsing(
                            self.src,
                            t.span,
                            format!(
                                "Invalid value for LIMIT [{s}], must be a non-negative integer"
                            ),
                        )
                    })?,
                    Tok::Param(p) => match self.bind(p, t.span)? {
                        ParamValue::Value(Literal::Integer(i)) if i >= 0 => i as u64,
                        ParamValue::Value(Literal::Long(l)) if l >= 0 => l as u64,
                        _ => {
                            return Err(EsqlError::parsing(
                                self.src,
                                t.span,
                                format!(
                                    "Invalid value for LIMIT [{}], must be a non-negative integer",
                                    self.text(t.span)
                                ),
                            ))
                        }
                    },
                    _ => {
                        let found = t.tok.describe(self.text(t.span));
                        return Err(EsqlError::parsing(
                            self.src,
                            t.span,
                            format!("mismatched input {found} expecting {{INTEGER_LITERAL, '?'}}"),
                        ));
                    }
                };
                Command::Limit {
                    n,
                    span: self.span_from(start),
                }
            }
            "mv_expand" => {
                let column = self.qualified_name()?;
                Command::MvExpand {
                    column,
                    span: self.span_from(start),
                }
            }
            "dissect" => {
                let input = self.postfix()?;
                let pattern = self.string_literal()?;
                let mut append_separator = None;
                if let Tok::Ident(opt) = &self.tok.tok {
                    if opt.eq_ignore_ascii_case("append_separator") {
                        self.advance()?;
                        self.expect(Tok::Assign, "=")?;
                        append_separator = Some(self.string_literal()?.0);
                    } else {
                        return Err(EsqlError::parsing(
                            self.src,
                            self.tok.span,
                            format!("Invalid option for dissect: [{opt}]"),
                        ));
                    }
                }
                Command::Dissect {
                    input,
                    pattern,
                    append_separator,
                    span: self.span_from(start),
                }
            }
            "grok" => {
                let input = self.postfix()?;
                let mut patterns = vec![self.string_literal()?];
                while self.eat(&Tok::Comma)? {
                    patterns.push(self.string_literal()?);
                }
                Command::Grok {
                    input,
                    patterns,
                    span: self.span_from(start),
                }
            }
            "lookup" => {
                if !self.eat_kw("join")? {
                    return Err(self.mismatched("'join'"));
                }
                self.relex_as_pattern()?;
                let index = match &self.tok.tok {
                    Tok::Ident(s) | Tok::Str(s) => (s.clone(), self.tok.span),
                    _ => return Err(self.mismatched("{QUOTED_STRING, UNQUOTED_SOURCE}")),
                };
                self.lexer.reset(self.tok.span.end);
                self.tok = self.lexer.next_token()?;
                if !self.eat_kw("on")? {
                    return Err(self.mismatched("'on'"));
                }
                let mut keys = vec![self.qualified_name()?];
                while self.eat(&Tok::Comma)? {
                    keys.push(self.qualified_name()?);
                }
                Command::LookupJoin {
                    index,
                    keys,
                    span: self.span_from(start),
                }
            }
            "enrich" => {
                self.relex_as_pattern()?;
                let policy = match &self.tok.tok {
                    Tok::Ident(s) | Tok::Str(s) => (s.clone(), self.tok.span),
                    _ => return Err(self.mismatched("ENRICH_POLICY_NAME")),
                };
                self.lexer.reset(self.tok.span.end);
                self.tok = self.lexer.next_token()?;
                let on = if self.eat_kw("on")? {
                    Some(self.qualified_name()?)
                } else {
                    None
                };
                let mut with = vec![];
                if self.eat_kw("with")? {
                    loop {
                        let first = self.qualified_name()?;
                        if self.eat(&Tok::Assign)? {
                            let field = self.qualified_name()?;
                            with.push((Some(first), field));
                        } else {
                            with.push((None, first));
                        }
                        if !self.eat(&Tok::Comma)? {
                            break;
                        }
                    }
                }
                Command::Enrich {
                    policy,
                    on,
                    with,
                    span: self.span_from(start),
                }
            }
            _ => unreachable!("checked against SUPPORTED_PROCESSING"),
        };
        Ok(cmd)
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

    /// The value of a placeholder (`text` is what follows its `?`), with ES's errors for
    /// one that has no value or mixes placeholder kinds.
    fn bind(&mut self, text: &str, span: Span) -> Result<ParamValue, EsqlError> {
        let fail = |this: &Self, m: String| Err(EsqlError::parsing(this.src, span, m));
        let (identifier, key) = match text.strip_prefix('?') {
            Some(k) => (true, k),
            None => (false, text),
        };
        let kind = if key.is_empty() {
            "anonymous"
        } else if key.chars().all(|c| c.is_ascii_digit()) {
            "positional"
        } else {
            "named"
        };
        match self.param_kind {
            Some(k) if k != kind => {
                let (a, b) = if k < kind { (k, kind) } else { (kind, k) };
                return fail(
                    self,
                    format!(
                        "Inconsistent parameter declaration, use one of positional, named or anonymous params but not a combination of {a} and {b}"
                    ),
                );
            }
            _ => self.param_kind = Some(kind),
        }
        let value = match kind {
            "anonymous" => {
                self.anonymous += 1;
                match self.params.at(self.anonymous) {
                    Some(v) => v.clone(),
                    None => {
                        return fail(
                            self,
                            format!("Not enough actual parameters {}", self.params.len()),
                        )
                    }
                }
            }
            "positional" => {
                let n: usize = key.parse().unwrap_or(0);
                match self.params.at(n) {
                    Some(v) => v.clone(),
                    None => {
                        let hint = if self.params.is_empty() {
                            String::new()
                        } else {
                            format!(
                                ", did you mean any position between 1 and {}?",
                                self.params.len()
                            )
                        };
                        return fail(
                            self,
                            format!("No parameter is defined for position {n}{hint}"),
                        );
                    }
                }
            }
            _ => match self.params.named(key) {
                Some(v) => v.clone(),
                None => {
                    let names = self.params.names();
                    let hint = if names.is_empty() {
                        String::new()
                    } else {
                        format!(", did you mean any of [{}]?", names.join(", "))
                    };
                    return fail(self, format!("Unknown query parameter [{key}]{hint}"));
                }
            },
        };
        match (identifier, value) {
            (false, v) => Ok(v),
            (true, ParamValue::Identifier(id)) => Ok(ParamValue::Identifier(id)),
            (true, ParamValue::Value(Literal::Keyword(id))) => Ok(ParamValue::Identifier(id)),
            (true, _) => fail(
                self,
                format!("Query parameter [?{text}] must be a string naming a field or function"),
            ),
        }
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

    pub fn expr(&mut self) -> Result<Expr, EsqlError> {
        self.or_expr()
    }

    fn or_expr(&mut self) -> Result<Expr, EsqlError> {
        let mut left = self.and_expr()?;
        while self.is_kw("or") {
            self.advance()?;
            let right = self.and_expr()?;
            left = binary(BinaryOp::Or, left, right);
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, EsqlError> {
        let mut left = self.not_expr()?;
        while self.is_kw("and") {
            self.advance()?;
            let right = self.not_expr()?;
            left = binary(BinaryOp::And, left, right);
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr, EsqlError> {
        if self.is_kw("not") {
            let start = self.advance()?.span;
            let inner = self.not_expr()?;
            let span = start.to(inner.span);
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span,
            });
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, EsqlError> {
        let value = self.comparison()?;
        let negated = if self.is_kw("not") {
            // Only `NOT IN`, `NOT LIKE`, `NOT RLIKE` continue a predicate.
            self.advance()?;
            if !(self.is_kw("in") || self.is_kw("like") || self.is_kw("rlike")) {
                return Err(self.mismatched("{IN, LIKE, RLIKE}"));
            }
            true
        } else {
            false
        };
        if self.eat_kw("in")? {
            self.expect(Tok::LParen, "(")?;
            let mut list = vec![self.expr()?];
            while self.eat(&Tok::Comma)? {
                list.push(self.expr()?);
            }
            let close = self.expect(Tok::RParen, ")")?;
            let span = value.span.to(close.span);
            return Ok(Expr {
                kind: ExprKind::In {
                    expr: Box::new(value),
                    list,
                    negated,
                },
                span,
            });
        }
        let regex = self.is_kw("rlike");
        if regex || self.is_kw("like") {
            self.advance()?;
            if !matches!(self.tok.tok, Tok::Str(_) | Tok::LParen) {
                let pattern = self.unary()?;
                let span = value.span.to(pattern.span);
                return Ok(Expr {
                    kind: ExprKind::LikeExpr {
                        expr: Box::new(value),
                        pattern: Box::new(pattern),
                        negated,
                        regex,
                    },
                    span,
                });
            }
            let mut patterns = vec![];
            let end;
            if self.tok.tok == Tok::LParen {
                self.advance()?;
                loop {
                    patterns.push(self.string_literal()?);
                    if !self.eat(&Tok::Comma)? {
                        break;
                    }
                }
                end = self.expect(Tok::RParen, ")")?.span;
            } else {
                let p = self.string_literal()?;
                end = p.1;
                patterns.push(p);
            }
            let span = value.span.to(end);
            return Ok(Expr {
                kind: ExprKind::Like {
                    expr: Box::new(value),
                    patterns,
                    negated,
                    regex,
                },
                span,
            });
        }
        if negated {
            return Err(self.mismatched("{IN, LIKE, RLIKE}"));
        }
        if self.is_kw("is") {
            self.advance()?;
            let negated = self.eat_kw("not")?;
            if !self.is_kw("null") {
                return Err(self.mismatched("{'not', 'null'}"));
            }
            let end = self.advance()?.span;
            let span = value.span.to(end);
            return Ok(Expr {
                kind: ExprKind::IsNull {
                    expr: Box::new(value),
                    negated,
                },
                span,
            });
        }
        Ok(value)
    }

    fn string_literal(&mut self) -> Result<(String, Span), EsqlError> {
        match &self.tok.tok {
            Tok::Str(s) => {
                let r = (s.clone(), self.tok.span);
                self.advance()?;
                Ok(r)
            }
            _ => Err(self.mismatched("QUOTED_STRING")),
        }
    }

    fn comparison(&mut self) -> Result<Expr, EsqlError> {
        let left = self.additive()?;
        let op = match self.tok.tok {
            Tok::Eq => BinaryOp::Eq,
            Tok::NotEq => BinaryOp::NotEq,
            Tok::Lt => BinaryOp::Lt,
            Tok::Le => BinaryOp::Le,
            Tok::Gt => BinaryOp::Gt,
            Tok::Ge => BinaryOp::Ge,
            Tok::Assign => {
                return Err(EsqlError::parsing(
                    self.src,
                    self.tok.span,
                    "mismatched input '=' expecting {'==', '!=', '<', '<=', '>', '>='} (use == to compare)",
                ))
            }
            _ => return Ok(left),
        };
        self.advance()?;
        let right = self.additive()?;
        if matches!(
            self.tok.tok,
            Tok::Eq | Tok::NotEq | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge
        ) {
            // Comparisons do not chain in ES|QL.
            return Err(self.mismatched("{<EOF>, '|', 'and', 'or'}"));
        }
        Ok(binary(op, left, right))
    }

    fn additive(&mut self) -> Result<Expr, EsqlError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.tok.tok {
                Tok::Plus => BinaryOp::Add,
                Tok::Minus => BinaryOp::Sub,
                _ => return Ok(left),
            };
            self.advance()?;
            let right = self.multiplicative()?;
            left = binary(op, left, right);
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, EsqlError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.tok.tok {
                Tok::Star => BinaryOp::Mul,
                Tok::Slash => BinaryOp::Div,
                Tok::Percent => BinaryOp::Mod,
                _ => return Ok(left),
            };
            self.advance()?;
            let right = self.unary()?;
            left = binary(op, left, right);
        }
    }

    fn unary(&mut self) -> Result<Expr, EsqlError> {
        match self.tok.tok {
            Tok::Minus => {
                let start = self.advance()?.span;
                let inner = self.unary()?;
                let span = start.to(inner.span);
                Ok(Expr {
                    kind: ExprKind::Neg(Box::new(inner)),
                    span,
                })
            }
            Tok::Plus => {
                self.advance()?;
                self.unary()
            }
            _ => self.postfix(),
        }
    }

    fn postfix(&mut self) -> Result<Expr, EsqlError> {
        let mut e = self.primary()?;
        while self.tok.tok == Tok::Cast {
            self.advance()?;
            let (type_name, type_span) = match &self.tok.tok {
                Tok::Ident(s) => (s.clone(), self.tok.span),
                _ => return Err(self.mismatched("{UNQUOTED_IDENTIFIER}")),
            };
            self.advance()?;
            let span = e.span.to(type_span);
            e = Expr {
                kind: ExprKind::Cast {
                    expr: Box::new(e),
                    type_name,
                    type_span,
                },
                span,
            };
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, EsqlError> {
        let t = self.tok.clone();
        match &t.tok {
            Tok::Int(text) => {
                self.advance()?;
                // `7 day` / `7day`: a time-span literal.
                if let Tok::Ident(word) = &self.tok.tok {
                    if let Some(unit) = TimeUnit::parse(word) {
                        let unit_span = self.advance()?.span;
                        let span = t.span.to(unit_span);
                        let n: i64 = text.parse().map_err(|_| {
                            EsqlError::parsing(
                                self.src,
                                t.span,
                                format!("Number [{text}] is too large"),
                            )
                        })?;
                        let ts = TimeSpan::of(n, unit).ok_or_else(|| {
                            EsqlError::parsing(self.src, span, "time span overflows")
                        })?;
                        return Ok(Expr {
                            kind: ExprKind::Literal(Literal::Span(ts)),
                            span,
                        });
                    }
                }
                Ok(Expr {
                    kind: ExprKind::Literal(integer_literal(text)),
                    span: t.span,
                })
            }
            Tok::Decimal(v) => {
                self.advance()?;
                Ok(Expr {
                    kind: ExprKind::Literal(Literal::Double(*v)),
                    span: t.span,
                })
            }
            Tok::Str(s) => {
                self.advance()?;
                Ok(Expr {
                    kind: ExprKind::Literal(Literal::Keyword(s.clone())),
                    span: t.span,
                })
            }
            Tok::Param(name) => {
                self.advance()?;
                let kind = match self.bind(name, t.span)? {
                    ParamValue::Value(l) => ExprKind::Literal(l),
                    ParamValue::Identifier(id) => ExprKind::Column(id),
                };
                Ok(Expr { kind, span: t.span })
            }
            Tok::LParen => {
                self.advance()?;
                let inner = self.expr()?;
                let close = self.expect(Tok::RParen, ")")?;
                Ok(Expr {
                    kind: inner.kind,
                    span: t.span.to(close.span),
                })
            }
            Tok::LBracket => self.list_literal(),
            Tok::Ident(word) => {
                let lower = word.to_ascii_lowercase();
                match lower.as_str() {
                    "null" => {
                        self.advance()?;
                        return Ok(lit(Literal::Null, t.span));
                    }
                    "true" | "false" => {
                        self.advance()?;
                        return Ok(lit(Literal::Bool(lower == "true"), t.span));
                    }
                    _ => {}
                }
                // A function call is a name directly followed by `(`.
                let save = self.lexer.position();
                let next = self.lexer.next_token()?;
                self.lexer.reset(save);
                if next.tok == Tok::LParen && !RESERVED.contains(&lower.as_str()) {
                    return self.call();
                }
                let (name, span) = self.qualified_name()?;
                Ok(Expr {
                    kind: ExprKind::Column(name),
                    span,
                })
            }
            Tok::QuotedIdent(_) => {
                let (name, span) = self.qualified_name()?;
                Ok(Expr {
                    kind: ExprKind::Column(name),
                    span,
                })
            }
            _ => {
                let found = t.tok.describe(self.text(t.span));
                Err(EsqlError::parsing(
                    self.src,
                    t.span,
                    format!(
                        "extraneous input {found} expecting {{QUOTED_STRING, INTEGER_LITERAL, DECIMAL_LITERAL, 'false', 'null', '?', 'true', '+', '-', '[', '(', UNQUOTED_IDENTIFIER, QUOTED_IDENTIFIER}}"
                    ),
                ))
            }
        }
    }

    fn call(&mut self) -> Result<Expr, EsqlError> {
        let name_tok = self.advance()?;
        let Tok::Ident(name) = name_tok.tok else {
            unreachable!("caller checked")
        };
        self.expect(Tok::LParen, "(")?;
        let mut args = vec![];
        if self.tok.tok == Tok::Star {
            let s = self.advance()?.span;
            args.push(Expr {
                kind: ExprKind::Star,
                span: s,
            });
        } else if self.tok.tok != Tok::RParen {
            loop {
                if self.tok.tok == Tok::LBrace && !args.is_empty() {
                    // Named options come last.
                    args.push(self.options()?);
                    break;
                }
                args.push(self.expr()?);
                if !self.eat(&Tok::Comma)? {
                    break;
                }
            }
        }
        let close = self.expect(Tok::RParen, ")")?;
        Ok(Expr {
            kind: ExprKind::Call {
                name,
                name_span: name_tok.span,
                args,
            },
            span: name_tok.span.to(close.span),
        })
    }

    /// `{"key": constant, …}`; keys are strings, values literals (or bound parameters).
    fn options(&mut self) -> Result<Expr, EsqlError> {
        let open = self.advance()?.span;
        let mut entries: Vec<(String, Literal)> = vec![];
        loop {
            let key_tok = self.advance()?;
            let Tok::Str(key) = &key_tok.tok else {
                let found = key_tok.tok.describe(self.text(key_tok.span));
                return Err(EsqlError::parsing(
                    self.src,
                    key_tok.span,
                    format!("mismatched input {found} expecting QUOTED_STRING"),
                ));
            };
            self.expect(Tok::Colon, ":")?;
            let value = self.unary()?;
            let lit = match value.kind {
                ExprKind::Literal(l) => l,
                ExprKind::Neg(inner) => match inner.kind {
                    ExprKind::Literal(l) => negate_literal(l),
                    _ => return Err(self.not_constant_option(value.span)),
                },
                _ => return Err(self.not_constant_option(value.span)),
            };
            if entries.iter().any(|(k, _)| k == key) {
                return Err(EsqlError::parsing(
                    self.src,
                    key_tok.span,
                    format!(
                        "Duplicated function arguments with the same name [{key}] is not supported"
                    ),
                ));
            }
            entries.push((key.clone(), lit));
            if !self.eat(&Tok::Comma)? {
                break;
            }
        }
        let close = self.expect(Tok::RBrace, "}")?;
        Ok(Expr {
            kind: ExprKind::Options(entries),
            span: open.to(close.span),
        })
    }

    fn not_constant_option(&self, span: Span) -> EsqlError {
        EsqlError::parsing(
            self.src,
            span,
            format!(
                "Invalid named function argument [{}], only constant value is supported",
                self.text(span)
            ),
        )
    }

    fn list_literal(&mut self) -> Result<Expr, EsqlError> {
        let open = self.advance()?.span;
        let mut items = vec![];
        if self.tok.tok != Tok::RBracket {
            loop {
                let negative = self.eat(&Tok::Minus)?;
                let t = self.advance()?;
                let item = match (&t.tok, negative) {
                    (Tok::Int(s), false) => integer_literal(s),
                    (Tok::Int(s), true) => negate_literal(integer_literal(s)),
                    (Tok::Decimal(v), n) => Literal::Double(if n { -v } else { *v }),
                    (Tok::Str(s), false) => Literal::Keyword(s.clone()),
                    (Tok::Ident(w), false) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
                    (Tok::Ident(w), false) if w.eq_ignore_ascii_case("false") => {
                        Literal::Bool(false)
                    }
                    _ => {
                        let found = t.tok.describe(self.text(t.span));
                        return Err(EsqlError::parsing(
                            self.src,
                            t.span,
                            format!("mismatched input {found} expecting {{QUOTED_STRING, INTEGER_LITERAL, DECIMAL_LITERAL, 'false', 'true'}}"),
                        ));
                    }
                };
                items.push(item);
                if !self.eat(&Tok::Comma)? {
                    break;
                }
            }
        }
        let close = self.expect(Tok::RBracket, "]")?;
        let span = open.to(close.span);
        unify_list(items)
            .map(|l| lit(l, span))
            .map_err(|m| EsqlError::parsing(self.src, span, m))
    }
}

fn expecting_commands() -> String {
    "{'dissect', 'drop', 'enrich', 'eval', 'grok', 'keep', 'limit', 'mv_expand', 'rename', 'sort', 'stats', 'where', 'lookup'}".to_string()
}

fn lit(l: Literal, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Literal(l),
        span,
    }
}

fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    let span = left.span.to(right.span);
    Expr {
        kind: ExprKind::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        },
        span,
    }
}

/// The first of integer, long, unsigned_long, double that holds the literal (§2.4).
fn integer_literal(text: &str) -> Literal {
    if let Ok(v) = text.parse::<i32>() {
        Literal::Integer(v)
    } else if let Ok(v) = text.parse::<i64>() {
        Literal::Long(v)
    } else if let Ok(v) = text.parse::<u64>() {
        Literal::UnsignedLong(v)
    } else {
        Literal::Double(text.parse::<f64>().unwrap_or(f64::INFINITY))
    }
}

fn negate_literal(l: Literal) -> Literal {
    match l {
        Literal::Integer(v) => Literal::Integer(-v),
        Literal::Long(v) if v == i32::MAX as i64 + 1 => Literal::Integer(i32::MIN),
        Literal::Long(v) => Literal::Long(-v),
        Literal::UnsignedLong(v) if v == i64::MAX as u64 + 1 => Literal::Long(i64::MIN),
        Literal::UnsignedLong(v) => Literal::Double(-(v as f64)),
        Literal::Double(v) => Literal::Double(-v),
        other => other,
    }
}

/// List literals hold one kind; mixed integers and decimals become doubles, mixed integer
/// widths widen.
fn unify_list(items: Vec<Literal>) -> Result<Literal, String> {
    if items.is_empty() {
        return Ok(Literal::Null);
    }
    let rank = |l: &Literal| match l {
        Literal::Integer(_) => 0,
        Literal::Long(_) => 1,
        Literal::UnsignedLong(_) => 2,
        Literal::Double(_) => 3,
        _ => 9,
    };
    let numeric = items.iter().all(|l| rank(l) < 9);
    if numeric {
        let top = items.iter().map(rank).max().unwrap_or(0);
        let conv = items
            .into_iter()
            .map(|l| match (top, l) {
                (0, l) => l,
                (1, Literal::Integer(v)) => Literal::Long(v as i64),
                (2, Literal::Integer(v)) if v >= 0 => Literal::UnsignedLong(v as u64),
                (2, Literal::Long(v)) if v >= 0 => Literal::UnsignedLong(v as u64),
                (3, Literal::Integer(v)) => Literal::Double(v as f64),
                (3, Literal::Long(v)) => Literal::Double(v as f64),
                (3, Literal::UnsignedLong(v)) => Literal::Double(v as f64),
                (_, l) => l,
            })
            .collect();
        return Ok(Literal::List(conv));
    }
    let same = items
        .windows(2)
        .all(|w| std::mem::discriminant(&w[0]) == std::mem::discriminant(&w[1]));
    if !same {
        return Err("list literal elements must all be of the same type".to_string());
    }
    Ok(Literal::List(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(q: &str) -> String {
        parse(q).unwrap_err().to_string()
    }

    #[test]
    fn parses_the_seed_hunt() {
        let q = "from logs-aws.cloudtrail*\n| where @timestamp > now() - 7 day\n| where\n    event.provider in (\"ec2.amazonaws.com\",\"route53resolver.amazonaws.com\",\"s3.amazonaws.com\", \"cloudtrail.amazonaws.com\")\n    and event.action in (\"DeleteFlowLogs\",\"DeleteResolverQueryLogConfig\", \"DeleteTrail\", \"StopLogging\")\n| eval date = DATE_FORMAT(\"YYYY-mm-dd\", @timestamp)\n| stats service_logging_delete_count = count(*) by event.provider, event.action, event.outcome, date, aws.cloudtrail.user_identity.arn\n";
        let parsed = parse(q).unwrap();
        assert_eq!(parsed.commands.len(), 4);
        match &parsed.source {
            SourceCommand::From { patterns, .. } => {
                assert_eq!(patterns[0].0, "logs-aws.cloudtrail*")
            }
            other => panic!("{other:?}"),
        }
        match &parsed.commands[3] {
            Command::Stats { aggs, groups, .. } => {
                assert_eq!(aggs.len(), 1);
                assert_eq!(groups.len(), 5);
                assert_eq!(
                    groups[4].expr.kind,
                    ExprKind::Column("aws.cloudtrail.user_identity.arn".into())
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn precedence() {
        let e = parse_expression("NOT a == 1 AND b OR c").unwrap();
        let ExprKind::Binary {
            op: BinaryOp::Or,
            left,
            ..
        } = e.kind
        else {
            panic!()
        };
        let ExprKind::Binary {
            op: BinaryOp::And,
            left: not,
            ..
        } = left.kind
        else {
            panic!()
        };
        assert!(matches!(not.kind, ExprKind::Not(_)));
        let e = parse_expression("-a * b + c % 2").unwrap();
        let ExprKind::Binary {
            op: BinaryOp::Add,
            left,
            ..
        } = e.kind
        else {
            panic!()
        };
        assert!(matches!(
            left.kind,
            ExprKind::Binary {
                op: BinaryOp::Mul,
                ..
            }
        ));
    }

    #[test]
    fn spans_name_expressions_verbatim() {
        let q = "row a = 1 | eval  a  +  1, COUNT(*)";
        let parsed = parse(q).unwrap();
        let Command::Eval { fields, .. } = &parsed.commands[0] else {
            panic!()
        };
        assert_eq!(fields[0].expr.span.text(q), "a  +  1");
        assert_eq!(fields[1].expr.span.text(q), "COUNT(*)");
    }

    #[test]
    fn time_spans_and_literals() {
        for s in [
            "1day", "1 DAY", "-3 hours", "2 mo", "5 min", "10 ms", "1 q", "1 yr",
        ] {
            parse_expression(s).unwrap();
        }
        let e = parse_expression("[1, 2.5]").unwrap();
        assert_eq!(
            e.kind,
            ExprKind::Literal(Literal::List(vec![
                Literal::Double(1.0),
                Literal::Double(2.5)
            ]))
        );
        assert_eq!(
            parse_expression("9223372036854775808").unwrap().kind,
            ExprKind::Literal(Literal::UnsignedLong(9223372036854775808))
        );
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(err("from x | foo"), "line 1:10: mismatched input 'foo' expecting {'dissect', 'drop', 'enrich', 'eval', 'grok', 'keep', 'limit', 'mv_expand', 'rename', 'sort', 'stats', 'where', 'lookup'}");
        assert_eq!(
            err("from x | fork (where a > 1)"),
            "line 1:10: command [FORK] is not supported yet by trailhunt"
        );
        assert_eq!(
            err("from x\n| change_point v"),
            "line 2:3: command [CHANGE_POINT] is not supported yet by trailhunt"
        );
        parse("from x | lookup join lang_lookup on code | enrich _any:pol on a with b = c, d")
            .unwrap();
        assert!(err("from x | where a < b < c").starts_with("line 1:22: mismatched input '<'"));
        assert!(err("row a = ").starts_with("line 1:9: extraneous input <EOF>"));
    }

    #[test]
    fn commands() {
        let q = parse("from a, b* metadata _index | keep a*, b | drop c | rename a as b, x = y | sort a desc nulls last, b | limit 5").unwrap();
        assert_eq!(q.commands.len(), 5);
        let q =
            parse("row a = 1 | stats c = count(*) where a > 1, max(a) by b = a + 1, a").unwrap();
        let Command::Stats { aggs, groups, .. } = &q.commands[0] else {
            panic!()
        };
        assert!(aggs[0].filter.is_some());
        assert_eq!(groups.len(), 2);
        let q = parse("from x | where `first name` like \"A*\" and y not rlike (\"a.*\", \"b\") and z is not null and w not in (1, 2)").unwrap();
        assert_eq!(q.commands.len(), 1);
    }

    #[test]
    fn show() {
        let q = parse("show info | keep version").unwrap();
        assert!(matches!(
            q.source,
            SourceCommand::Show {
                what: Show::Info,
                ..
            }
        ));
        assert_eq!(q.commands.len(), 1);
        let q = parse("SHOW FUNCTIONS").unwrap();
        assert!(matches!(
            q.source,
            SourceCommand::Show {
                what: Show::Functions,
                ..
            }
        ));
        assert!(err("show tables").starts_with("line 1:6: mismatched input 'tables'"));
    }

    #[test]
    fn params_bind_while_parsing() {
        let mut ps = Params::new();
        ps.add_spec("5").unwrap();
        ps.add_spec("\"x\"").unwrap();
        let q = parse_with_params("row a = ? | eval b = ? | limit ?", &ps);
        assert!(q
            .unwrap_err()
            .to_string()
            .contains("Not enough actual parameters 2"));
        let q = parse_with_params("row a = ?1, b = ?2 | limit ?1", &ps).unwrap();
        let SourceCommand::Row { fields, .. } = &q.source else {
            panic!()
        };
        assert_eq!(fields[0].expr.kind, ExprKind::Literal(Literal::Integer(5)));
        assert_eq!(
            fields[1].expr.kind,
            ExprKind::Literal(Literal::Keyword("x".into()))
        );
        assert!(matches!(q.commands[0], Command::Limit { n: 5, .. }));
        let e = parse_with_params("row a = ?1, b = ?", &ps).unwrap_err();
        assert!(e.to_string().contains("Inconsistent parameter declaration"));
        let e = parse_with_params("row a = ?3", &ps).unwrap_err();
        assert!(e.to_string().ends_with(
            "No parameter is defined for position 3, did you mean any position between 1 and 2?"
        ));

        let mut named = Params::new();
        named.add_spec("f=first_name").unwrap();
        named.add_spec("n=10").unwrap();
        let q = parse_with_params("from e | keep ??f | where ??f == ?n", &named).unwrap();
        let Command::Where { cond, .. } = &q.commands[1] else {
            panic!()
        };
        let ExprKind::Binary { left, right, .. } = &cond.kind else {
            panic!()
        };
        assert_eq!(left.kind, ExprKind::Column("first_name".into()));
        assert_eq!(right.kind, ExprKind::Literal(Literal::Integer(10)));
        let e = parse_with_params("row a = ?m", &named).unwrap_err();
        assert!(e
            .to_string()
            .ends_with("Unknown query parameter [m], did you mean any of [f, n]?"));
        assert!(parse("row a = ?")
            .unwrap_err()
            .to_string()
            .ends_with("Not enough actual parameters 0"));
    }

    #[test]
    fn named_options_come_last() {
        let e = parse_expression(r#"to_ip(s, {"leading_zeros": "octal", "n": -1})"#).unwrap();
        let ExprKind::Call { args, .. } = &e.kind else {
            panic!()
        };
        assert_eq!(
            args[1].kind,
            ExprKind::Options(vec![
                ("leading_zeros".into(), Literal::Keyword("octal".into())),
                ("n".into(), Literal::Integer(-1)),
            ])
        );
        assert!(parse_expression(r#"f(s, {"a": x})"#)
            .unwrap_err()
            .to_string()
            .contains("only constant value is supported"));
        assert!(parse_expression(r#"f(s, {"a": 1}, 2)"#).is_err());
    }
}
