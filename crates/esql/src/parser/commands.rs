//! Commands: the source command (`FROM`, `ROW`, `SHOW`) and one method per processing
//! command. A command ES knows but trailhunt does not run fails at its position with
//! `command [X] is not supported yet by trailhunt`, never silently.

use super::Parser;
use crate::ast::*;
use crate::error::EsqlError;
use crate::lexer::Tok;
use crate::params::ParamValue;
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

impl Parser<'_> {
    pub(super) fn source_command(&mut self) -> Result<SourceCommand, EsqlError> {
        let start = self.tok.span;
        if self.is_kw("from") {
            return self.source_from(start);
        }
        if self.is_kw("row") {
            return self.source_row(start);
        }
        if self.is_kw("show") {
            return self.source_show(start);
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

    /// `FROM pattern, … [METADATA field, …]`; the patterns are lexed in index-pattern mode.
    fn source_from(&mut self, start: Span) -> Result<SourceCommand, EsqlError> {
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
        let mut metadata: Vec<(String, Span)> = vec![];
        // The pattern-mode token after the list is already lexed; switch back to normal mode.
        self.lexer.reset(self.tok.span.start);
        self.tok = self.lexer.next_token()?;
        if self.eat_kw("metadata")? {
            loop {
                let (name, span) = self.identifier()?;
                // ES checks the names while parsing (a `parsing_exception`): unknown ones
                // first, then repeats, pointing at the first declaration as `@line:column`.
                if crate::metadata::metadata_field(&name).is_none() {
                    return Err(EsqlError::parsing(
                        self.src,
                        span,
                        format!("unsupported metadata field [{name}]"),
                    ));
                }
                if let Some((_, first)) = metadata.iter().find(|(n, _)| *n == name) {
                    let at = crate::span::Position::of(self.src, first.start);
                    return Err(EsqlError::parsing(
                        self.src,
                        span,
                        format!(
                            "metadata field [{name}] already declared [@{}:{}]",
                            at.line, at.column
                        ),
                    ));
                }
                metadata.push((name, span));
                if !self.eat(&Tok::Comma)? {
                    break;
                }
            }
        }
        let end = self.prev_end();
        Ok(SourceCommand::From {
            patterns,
            metadata,
            span: start.to(Span::new(end, end)),
        })
    }

    /// `ROW [name =] expr, …`.
    fn source_row(&mut self, start: Span) -> Result<SourceCommand, EsqlError> {
        self.advance()?;
        let fields = self.fields()?;
        let end = self.prev_end();
        Ok(SourceCommand::Row {
            fields,
            span: start.to(Span::new(end, end)),
        })
    }

    /// `SHOW INFO` / `SHOW FUNCTIONS`.
    fn source_show(&mut self, start: Span) -> Result<SourceCommand, EsqlError> {
        self.advance()?;
        let what = if self.eat_kw("info")? {
            Show::Info
        } else if self.eat_kw("functions")? {
            Show::Functions
        } else {
            return Err(self.mismatched("{'info', 'functions'}"));
        };
        let end = self.prev_end();
        Ok(SourceCommand::Show {
            what,
            span: start.to(Span::new(end, end)),
        })
    }

    fn advance_pattern_mode_from_keyword(&mut self) -> Result<(), EsqlError> {
        // The lexer is positioned after FROM; lex the next token as a pattern.
        self.tok = self.lexer.next_index_pattern()?;
        Ok(())
    }

    pub(super) fn processing_command(&mut self) -> Result<Command, EsqlError> {
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
        match word.as_str() {
            "where" => self.where_command(start),
            "eval" => self.eval_command(start),
            "stats" => self.stats_command(start),
            "keep" | "drop" => self.keep_or_drop_command(start, word == "keep"),
            "rename" => self.rename_command(start),
            "sort" => self.sort_command(start),
            "limit" => self.limit_command(start),
            "mv_expand" => self.mv_expand_command(start),
            "dissect" => self.dissect_command(start),
            "grok" => self.grok_command(start),
            "lookup" => self.lookup_command(start),
            "enrich" => self.enrich_command(start),
            _ => unreachable!("checked against SUPPORTED_PROCESSING"),
        }
    }

    /// `KEEP pattern, …` / `DROP pattern, …`.
    fn keep_or_drop_command(&mut self, start: Span, keep: bool) -> Result<Command, EsqlError> {
        let patterns = self.name_patterns()?;
        let span = self.span_from(start);
        Ok(if keep {
            Command::Keep { patterns, span }
        } else {
            Command::Drop { patterns, span }
        })
    }

    /// `WHERE cond`.
    fn where_command(&mut self, start: Span) -> Result<Command, EsqlError> {
        let cond = self.expr()?;
        Ok(Command::Where {
            cond,
            span: self.span_from(start),
        })
    }

    /// `EVAL [name =] expr, …`.
    fn eval_command(&mut self, start: Span) -> Result<Command, EsqlError> {
        let fields = self.fields()?;
        Ok(Command::Eval {
            fields,
            span: self.span_from(start),
        })
    }

    /// `STATS [[name =] agg [WHERE cond], …] [BY [name =] expr, …]`.
    fn stats_command(&mut self, start: Span) -> Result<Command, EsqlError> {
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
        Ok(Command::Stats {
            aggs,
            groups,
            span: self.span_from(start),
        })
    }

    /// `RENAME old AS new, …` or the newer `RENAME new = old, …`.
    fn rename_command(&mut self, start: Span) -> Result<Command, EsqlError> {
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
        Ok(Command::Rename {
            pairs,
            span: self.span_from(start),
        })
    }

    /// `SORT expr [ASC|DESC] [NULLS FIRST|LAST], …`.
    fn sort_command(&mut self, start: Span) -> Result<Command, EsqlError> {
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
        Ok(Command::Sort {
            keys,
            span: self.span_from(start),
        })
    }

    /// `LIMIT n`, `n` a non-negative integer literal or parameter.
    fn limit_command(&mut self, start: Span) -> Result<Command, EsqlError> {
        let t = self.advance()?;
        let n = match &t.tok {
            Tok::Int(s) => s.parse::<u64>().map_err(|_| {
                EsqlError::parsing(
                    self.src,
                    t.span,
                    format!("Invalid value for LIMIT [{s}], must be a non-negative integer"),
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
        Ok(Command::Limit {
            n,
            span: self.span_from(start),
        })
    }

    /// `MV_EXPAND column`.
    fn mv_expand_command(&mut self, start: Span) -> Result<Command, EsqlError> {
        let column = self.qualified_name()?;
        Ok(Command::MvExpand {
            column,
            span: self.span_from(start),
        })
    }

    /// `DISSECT input "pattern" [APPEND_SEPARATOR = "sep"]`.
    fn dissect_command(&mut self, start: Span) -> Result<Command, EsqlError> {
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
        Ok(Command::Dissect {
            input,
            pattern,
            append_separator,
            span: self.span_from(start),
        })
    }

    /// `GROK input "pattern"[, "pattern"…]`.
    fn grok_command(&mut self, start: Span) -> Result<Command, EsqlError> {
        let input = self.postfix()?;
        let mut patterns = vec![self.string_literal()?];
        while self.eat(&Tok::Comma)? {
            patterns.push(self.string_literal()?);
        }
        Ok(Command::Grok {
            input,
            patterns,
            span: self.span_from(start),
        })
    }

    /// `LOOKUP JOIN index ON key, …`.
    fn lookup_command(&mut self, start: Span) -> Result<Command, EsqlError> {
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
        Ok(Command::LookupJoin {
            index,
            keys,
            span: self.span_from(start),
        })
    }

    /// `ENRICH policy [ON column] [WITH [new =] field, …]`.
    fn enrich_command(&mut self, start: Span) -> Result<Command, EsqlError> {
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
        Ok(Command::Enrich {
            policy,
            on,
            with,
            span: self.span_from(start),
        })
    }
}

fn expecting_commands() -> String {
    "{'dissect', 'drop', 'enrich', 'eval', 'grok', 'keep', 'limit', 'mv_expand', 'rename', 'sort', 'stats', 'where', 'lookup'}".to_string()
}
