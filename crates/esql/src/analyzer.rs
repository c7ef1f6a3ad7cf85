//! Name resolution and typing (esql-spec §4, §8, §9, §10): turns the AST into a typed
//! pipeline whose column list is known after every step, reporting problems the way ES's
//! verifier does (all of them, each with its position).

use crate::ast::*;
use crate::catalog::{ArgError, Args, Catalog, FunctionKind};
use crate::error::{EsqlError, Problem};
use crate::span::{Position, Span};
use crate::types::DataType;

/// Rows returned when nothing bounds the result (`esql.query.result_truncation_default_size`).
pub const DEFAULT_LIMIT: u64 = 1000;
/// The most rows a query may return (`esql.query.result_truncation_max_size`).
pub const MAX_LIMIT: u64 = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: DataType,
}

/// A typed expression. `span` is kept for warnings (`Line L:C: evaluation of [...]`).
#[derive(Debug, Clone, PartialEq)]
pub struct TExpr {
    pub kind: TKind,
    pub ty: DataType,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TKind {
    Literal(Literal),
    Column(String),
    /// A scalar function (canonical name).
    Call {
        name: String,
        args: Vec<TExpr>,
    },
    /// An aggregate (only inside STATS aggregate expressions).
    Agg {
        name: String,
        args: Vec<TExpr>,
        filter: Option<Box<TExpr>>,
    },
    Neg(Box<TExpr>),
    Not(Box<TExpr>),
    Binary {
        op: BinaryOp,
        left: Box<TExpr>,
        right: Box<TExpr>,
    },
    IsNull {
        expr: Box<TExpr>,
        negated: bool,
    },
    In {
        expr: Box<TExpr>,
        list: Vec<TExpr>,
        negated: bool,
    },
    Like {
        expr: Box<TExpr>,
        patterns: Vec<String>,
        negated: bool,
        regex: bool,
    },
    /// A conversion, explicit (`::type`) or implicit (string literal to date/ip/…).
    Cast {
        expr: Box<TExpr>,
        to: DataType,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TSortKey {
    pub expr: TExpr,
    pub descending: bool,
    pub nulls_first: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TSource {
    /// The data behind the index patterns, with the columns the resolver reported.
    From {
        patterns: Vec<String>,
        columns: Vec<Column>,
    },
    Row(Vec<(String, TExpr)>),
    /// `SHOW INFO` / `SHOW FUNCTIONS`; the engine supplies the rows.
    Show(crate::ast::Show),
}

/// The columns `SHOW` produces, as ES names and types them.
pub fn show_columns(what: crate::ast::Show) -> Vec<Column> {
    let col = |name: &str, ty| Column {
        name: name.to_string(),
        ty,
    };
    match what {
        crate::ast::Show::Info => ["version", "date", "hash"]
            .iter()
            .map(|n| col(n, DataType::Keyword))
            .collect(),
        crate::ast::Show::Functions => vec![
            col("name", DataType::Keyword),
            col("synopsis", DataType::Keyword),
            col("argNames", DataType::Keyword),
            col("argTypes", DataType::Keyword),
            col("argDescriptions", DataType::Keyword),
            col("returnType", DataType::Keyword),
            col("description", DataType::Keyword),
            col("optionalArgs", DataType::Boolean),
            col("variadic", DataType::Boolean),
            col("isAggregation", DataType::Boolean),
        ],
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Where(TExpr),
    /// Assignments in order; each may see the previous ones.
    Eval(Vec<(String, TExpr)>),
    Stats {
        aggs: Vec<(String, TExpr)>,
        groups: Vec<(String, TExpr)>,
    },
    /// The output columns as (input name, output name), in order. KEEP, DROP and RENAME
    /// all become this, with wildcards already expanded.
    Project(Vec<(String, String)>),
    Sort(Vec<TSortKey>),
    Limit(u64),
    /// One row per value of the column.
    MvExpand(String),
    /// New keyword columns (in order) cut out of `input` by the pattern.
    Dissect {
        input: TExpr,
        pattern: crate::dissect::DissectPattern,
        separator: String,
        fields: Vec<String>,
    },
    /// Left outer join with a lookup dataset on equal keys; `added` columns go to the end.
    LookupJoin {
        index: String,
        keys: Vec<String>,
        added: Vec<Column>,
        /// The command, for warnings about multi-valued keys.
        span: Span,
    },
    /// Left join on `left_key == match_field`, adding (output name, policy field) columns.
    Enrich {
        index: String,
        left_key: String,
        match_field: String,
        fields: Vec<(String, String)>,
        span: Span,
    },
    /// New typed columns matched by the first of the patterns that matches.
    Grok {
        input: TExpr,
        patterns: Vec<crate::grok::GrokPattern>,
        fields: Vec<(String, DataType)>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Analyzed {
    pub source: TSource,
    pub steps: Vec<Step>,
    pub columns: Vec<Column>,
    /// Analysis-time warnings (shadowed STATS columns), in ES's wording.
    pub warnings: Vec<String>,
}

/// Tells the analyzer which columns an index pattern list has.
pub trait SourceResolver {
    /// `Err(message)` becomes a verification problem at the pattern (`Unknown index [x]`).
    fn resolve(&self, patterns: &[String]) -> Result<Vec<Column>, String>;

    /// An ENRICH policy: the lookup data it reads and its match field.
    fn enrich_policy(&self, name: &str) -> Result<EnrichPolicy, String> {
        Err(format!("unresolved enrich policy [{name}]"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnrichPolicy {
    /// The dataset holding the policy's data.
    pub index: String,
    pub match_field: String,
    pub columns: Vec<Column>,
}

pub fn analyze(
    source: &str,
    query: &Query,
    catalog: &dyn Catalog,
    resolver: &dyn SourceResolver,
) -> Result<Analyzed, EsqlError> {
    let mut a = Analyzer {
        src: source,
        catalog,
        resolver,
        problems: vec![],
        warnings: vec![],
    };
    let mut result = a.run(query, resolver);
    result.warnings = std::mem::take(&mut a.warnings);
    if a.problems.is_empty() {
        Ok(result)
    } else {
        Err(EsqlError::verification(a.problems))
    }
}

struct Analyzer<'a> {
    src: &'a str,
    /// Warnings found while analyzing (ES sends them with the response).
    warnings: Vec<String>,
    catalog: &'a dyn Catalog,
    resolver: &'a dyn SourceResolver,
    problems: Vec<Problem>,
}

/// Marker type for expressions that failed to type; keeps analysis going to collect more
/// problems without cascading messages.
const ERR: DataType = DataType::Unsupported;

impl<'a> Analyzer<'a> {
    fn problem(&mut self, span: Span, message: impl Into<String>) {
        self.problems.push(Problem {
            span,
            position: Position::of(self.src, span.start),
            message: message.into(),
        });
    }

    fn text(&self, span: Span) -> &'a str {
        span.text(self.src)
    }

    fn run(&mut self, query: &Query, resolver: &dyn SourceResolver) -> Analyzed {
        let (source, mut columns) = match &query.source {
            SourceCommand::From {
                patterns, metadata, ..
            } => {
                let names: Vec<String> = patterns.iter().map(|p| p.0.clone()).collect();
                let cols = match resolver.resolve(&names) {
                    Ok(c) => c,
                    Err(msg) => {
                        // Without the index nothing else can be checked; ES reports only this.
                        self.problem(patterns[0].1, msg);
                        return Analyzed {
                            source: TSource::From {
                                patterns: names,
                                columns: vec![],
                            },
                            steps: vec![],
                            columns: vec![],
                            warnings: vec![],
                        };
                    }
                };
                if let Some((_, span)) = metadata.first() {
                    self.problem(*span, "METADATA fields are not supported yet by trailhunt");
                }
                (
                    TSource::From {
                        patterns: names,
                        columns: cols.clone(),
                    },
                    cols,
                )
            }
            SourceCommand::Row { fields, .. } => {
                let mut out: Vec<(String, TExpr)> = vec![];
                let mut cols: Vec<Column> = vec![];
                for f in fields {
                    let e = self.expr(&f.expr, &[], None);
                    self.check_not_span(&e);
                    let name = self.field_name(f);
                    out.retain(|(n, _)| n != &name);
                    cols.retain(|c| c.name != name);
                    cols.push(Column {
                        name: name.clone(),
                        ty: e.ty,
                    });
                    out.push((name, e));
                }
                (TSource::Row(out), cols)
            }
            SourceCommand::Show { what, .. } => (TSource::Show(*what), show_columns(*what)),
        };
        let mut steps = vec![];
        for cmd in &query.commands {
            if let Some(step) = self.command(cmd, &mut columns) {
                steps.push(step);
            }
        }
        match steps.last() {
            Some(Step::Limit(_)) => {}
            _ => steps.push(Step::Limit(DEFAULT_LIMIT)),
        }
        Analyzed {
            source,
            steps,
            columns,
            warnings: vec![],
        }
    }

    /// Where a field's name is: the explicit name, else the expression.
    fn field_span(&self, f: &Field) -> Span {
        f.name.as_ref().map(|(_, s)| *s).unwrap_or(f.expr.span)
    }

    /// ES warns when a later STATS column hides an earlier one of the same name.
    fn shadowed(&mut self, name: &str, earlier: Span, later: Span) {
        let a = Position::of(self.src, earlier.start);
        let b = Position::of(self.src, later.start);
        self.warnings.push(format!(
            "Line {a}: Field '{name}' shadowed by field at line {b}"
        ));
    }

    fn field_name(&self, f: &Field) -> String {
        match (&f.name, &f.expr.kind) {
            (Some((n, _)), _) => n.clone(),
            (None, ExprKind::Column(c)) => c.clone(),
            (None, _) => self.text(f.expr.span).to_string(),
        }
    }

    fn check_not_span(&mut self, e: &TExpr) {
        if e.ty.is_span() {
            self.problem(
                e.span,
                format!(
                    "EVAL does not support type [{}] as the return data type of expression [{}]",
                    e.ty.name(),
                    self.text(e.span)
                ),
            );
        }
    }

    fn command(&mut self, cmd: &Command, columns: &mut Vec<Column>) -> Option<Step> {
        match cmd {
            Command::Where { cond, .. } => {
                let e = self.expr(cond, columns, None);
                if e.ty != DataType::Boolean && e.ty != DataType::Null && e.ty != ERR {
                    self.problem(
                        cond.span,
                        format!(
                            "Condition expression needs to be boolean, found [{}]",
                            e.ty.verifier_name()
                        ),
                    );
                }
                Some(Step::Where(e))
            }
            Command::Eval { fields, .. } => {
                let mut out = vec![];
                for f in fields {
                    let e = self.expr(&f.expr, columns, None);
                    self.check_not_span(&e);
                    let name = self.field_name(f);
                    columns.retain(|c| c.name != name);
                    columns.push(Column {
                        name: name.clone(),
                        ty: e.ty,
                    });
                    out.push((name, e));
                }
                Some(Step::Eval(out))
            }
            Command::Stats { aggs, groups, .. } => {
                // Every output name as written: (name, position, is a grouping).
                let mut occurrences: Vec<(String, Span, bool)> = vec![];
                let mut tgroups: Vec<(String, TExpr, Span)> = vec![];
                for g in groups {
                    let e = self.expr(&g.expr, columns, None);
                    if let TKind::Agg { .. } = e.kind {
                        self.problem(
                            g.expr.span,
                            format!(
                                "cannot use an aggregate [{}] for grouping",
                                self.text(g.expr.span)
                            ),
                        );
                    }
                    self.check_not_span(&e);
                    let name = self.field_name(g);
                    let at = self.field_span(g);
                    occurrences.push((name.clone(), at, true));
                    tgroups.retain(|(n, _, _)| n != &name);
                    tgroups.push((name, e, at));
                }
                // Aggregates and their filters see the grouping keys by name (ES resolves
                // groupings first), shadowing input columns of the same name.
                let mut visible: Vec<Column> = columns.clone();
                for (n, e, _) in &tgroups {
                    visible.retain(|c| &c.name != n);
                    visible.push(Column {
                        name: n.clone(),
                        ty: e.ty,
                    });
                }
                let plain_groups: Vec<(String, TExpr)> = tgroups
                    .iter()
                    .map(|(n, e, _)| (n.clone(), e.clone()))
                    .collect();
                let mut taggs: Vec<(String, TExpr, Span)> = vec![];
                for a in aggs {
                    let filter = a.filter.as_ref().map(|f| {
                        let fe = self.expr(f, &visible, None);
                        if fe.ty != DataType::Boolean && fe.ty != DataType::Null && fe.ty != ERR {
                            self.problem(
                                f.span,
                                format!(
                                    "Condition expression needs to be boolean, found [{}]",
                                    fe.ty.verifier_name()
                                ),
                            );
                        }
                        fe
                    });
                    let ctx = AggContext {
                        groups: &plain_groups,
                        filter,
                    };
                    let e = self.expr(&a.field.expr, &visible, Some(&ctx));
                    if e.ty != ERR {
                        // Outside aggregates only grouping keys and constants may appear.
                        if let Some((span, name)) = non_group_column(&e, &plain_groups) {
                            self.problem(
                                span,
                                format!("column [{name}] must appear in the STATS BY clause or be used in an aggregate function"),
                            );
                        } else if !contains_agg(&e) && plain_groups.is_empty() {
                            self.problem(
                                a.field.expr.span,
                                format!(
                                    "expected an aggregate function but found [{}]",
                                    self.text(a.field.expr.span)
                                ),
                            );
                        }
                    }
                    let name = self.field_name(&a.field);
                    let at = self.field_span(&a.field);
                    occurrences.push((name.clone(), at, false));
                    taggs.retain(|(n, _, _)| n != &name);
                    taggs.push((name, e, at));
                }
                // The last grouping of a name wins, else the last aggregate; ES names the
                // winner in a warning for every column it hides.
                let mut names: Vec<&String> = occurrences.iter().map(|(n, _, _)| n).collect();
                names.dedup();
                let mut warned: Vec<(String, Span, Span)> = vec![];
                for name in names {
                    let same: Vec<&(String, Span, bool)> =
                        occurrences.iter().filter(|(n, _, _)| n == name).collect();
                    let winner = same.iter().rev().find(|o| o.2).or(same.last()).map(|o| o.1);
                    if let Some(w) = winner {
                        for o in &same {
                            if o.1 != w && !warned.iter().any(|x| x.1 == o.1) {
                                warned.push((name.clone(), o.1, w));
                            }
                        }
                    }
                }
                for (n, hidden, winner) in warned {
                    self.shadowed(&n, hidden, winner);
                }
                // A grouping column shadows an aggregate of the same name.
                taggs.retain(|(n, _, _)| !tgroups.iter().any(|(g, _, _)| g == n));
                columns.clear();
                for (n, e, _) in &taggs {
                    columns.push(Column {
                        name: n.clone(),
                        ty: e.ty,
                    });
                }
                columns.extend(tgroups.iter().map(|(n, e, _)| Column {
                    name: n.clone(),
                    ty: e.ty,
                }));
                Some(Step::Stats {
                    aggs: taggs.into_iter().map(|(n, e, _)| (n, e)).collect(),
                    groups: plain_groups,
                })
            }
            Command::Keep { patterns, .. } => {
                let kept = self.keep(patterns, columns);
                let proj = kept
                    .iter()
                    .map(|c| (c.name.clone(), c.name.clone()))
                    .collect();
                *columns = kept;
                Some(Step::Project(proj))
            }
            Command::Drop { patterns, .. } => {
                let mut drop = vec![false; columns.len()];
                for (p, span) in patterns {
                    let matches: Vec<usize> = (0..columns.len())
                        .filter(|&i| wildcard_match(p, &columns[i].name))
                        .collect();
                    if matches.is_empty() {
                        if p.contains('*') {
                            self.problem(*span, format!("No matches found for pattern [{p}]"));
                        } else {
                            self.problem(*span, format!("Unknown column [{p}]"));
                        }
                    }
                    for i in matches {
                        drop[i] = true;
                    }
                }
                let kept: Vec<Column> = columns
                    .iter()
                    .zip(drop)
                    .filter(|(_, d)| !d)
                    .map(|(c, _)| c.clone())
                    .collect();
                let proj = kept
                    .iter()
                    .map(|c| (c.name.clone(), c.name.clone()))
                    .collect();
                *columns = kept;
                Some(Step::Project(proj))
            }
            Command::Rename { pairs, .. } => {
                // (source column, current name) in output order.
                let mut cur: Vec<(String, String, DataType)> = columns
                    .iter()
                    .map(|c| (c.name.clone(), c.name.clone(), c.ty))
                    .collect();
                for ((old, ospan), (new, _)) in pairs {
                    let Some(pos) = cur.iter().position(|(_, n, _)| n == old) else {
                        self.problem(*ospan, format!("Unknown column [{old}]"));
                        continue;
                    };
                    if old == new {
                        continue;
                    }
                    cur.retain(|(_, n, _)| n != new || n == old);
                    let pos = cur.iter().position(|(_, n, _)| n == old).unwrap_or(pos);
                    cur[pos].1 = new.clone();
                }
                *columns = cur
                    .iter()
                    .map(|(_, n, t)| Column {
                        name: n.clone(),
                        ty: *t,
                    })
                    .collect();
                Some(Step::Project(
                    cur.into_iter().map(|(s, n, _)| (s, n)).collect(),
                ))
            }
            Command::Sort { keys, .. } => {
                let mut out = vec![];
                for k in keys {
                    let e = self.expr(&k.expr, columns, None);
                    if !crate::catalog::is_orderable(e.ty) && e.ty != DataType::Null && e.ty != ERR
                    {
                        self.problem(k.expr.span, format!("cannot sort on {}", e.ty.name()));
                    }
                    out.push(TSortKey {
                        expr: e,
                        descending: k.descending,
                        nulls_first: k.nulls_first.unwrap_or(k.descending),
                    });
                }
                Some(Step::Sort(out))
            }
            Command::Limit { n, .. } => Some(Step::Limit((*n).min(MAX_LIMIT))),
            Command::MvExpand {
                column: (name, span),
                ..
            } => {
                if let Some(DataType::Unsupported) = self.lookup_column(name, *span, columns) {
                    self.problem(
                        *span,
                        format!("Cannot use field [{name}] with unsupported type"),
                    );
                }
                Some(Step::MvExpand(name.clone()))
            }
            Command::Dissect {
                input,
                pattern: (pattern, pspan),
                append_separator,
                ..
            } => {
                let e = self.expr(input, columns, None);
                self.expect_string_input(&e, input.span, "Dissect");
                let parsed = match crate::dissect::DissectPattern::parse(pattern) {
                    Ok(p) => p,
                    Err(m) => {
                        self.problem(*pspan, m);
                        return None;
                    }
                };
                let fields = parsed.output_names();
                for f in &fields {
                    columns.retain(|c| &c.name != f);
                    columns.push(Column {
                        name: f.clone(),
                        ty: DataType::Keyword,
                    });
                }
                Some(Step::Dissect {
                    input: e,
                    pattern: parsed,
                    separator: append_separator.clone().unwrap_or_default(),
                    fields,
                })
            }
            Command::LookupJoin {
                index: (index, ispan),
                keys,
                span,
            } => {
                let right = match self.resolver.resolve(std::slice::from_ref(index)) {
                    Ok(c) => c,
                    Err(m) => {
                        self.problem(*ispan, m);
                        return None;
                    }
                };
                for (k, kspan) in keys {
                    self.lookup_column(k, *kspan, columns);
                    if !right.iter().any(|c| &c.name == k) {
                        self.problem(
                            *kspan,
                            format!("Unknown column [{k}] in right side of join"),
                        );
                    }
                }
                let added: Vec<Column> = right
                    .into_iter()
                    .filter(|c| !keys.iter().any(|(k, _)| k == &c.name))
                    .collect();
                columns.retain(|c| !added.iter().any(|a| a.name == c.name));
                columns.extend(added.iter().cloned());
                Some(Step::LookupJoin {
                    index: index.clone(),
                    keys: keys.iter().map(|(k, _)| k.clone()).collect(),
                    added,
                    span: *span,
                })
            }
            Command::Enrich {
                policy: (policy, pspan),
                on,
                with,
                span,
            } => {
                // A mode prefix (`_any:`, `_coordinator:`, `_remote:`) does not change the data.
                let name = policy.rsplit(':').next().unwrap_or(policy);
                let pol = match self.resolver.enrich_policy(name) {
                    Ok(p) => p,
                    Err(m) => {
                        self.problem(*pspan, m);
                        return None;
                    }
                };
                let (left_key, kspan) = on.clone().unwrap_or((pol.match_field.clone(), *pspan));
                self.lookup_column(&left_key, kspan, columns);
                let mut fields = vec![];
                if with.is_empty() {
                    for c in pol.columns.iter().filter(|c| c.name != pol.match_field) {
                        fields.push((c.name.clone(), c.name.clone(), c.ty));
                    }
                } else {
                    for (new, (f, fspan)) in with {
                        match pol.columns.iter().find(|c| &c.name == f) {
                            Some(c) => fields.push((
                                new.as_ref()
                                    .map(|n| n.0.clone())
                                    .unwrap_or_else(|| f.clone()),
                                f.clone(),
                                c.ty,
                            )),
                            None => self.problem(
                                *fspan,
                                format!("Enrich field [{f}] not found in enrich policy [{name}]"),
                            ),
                        }
                    }
                }
                for (out, _, ty) in &fields {
                    columns.retain(|c| &c.name != out);
                    columns.push(Column {
                        name: out.clone(),
                        ty: *ty,
                    });
                }
                Some(Step::Enrich {
                    index: pol.index,
                    left_key,
                    match_field: pol.match_field,
                    fields: fields.into_iter().map(|(o, f, _)| (o, f)).collect(),
                    span: *span,
                })
            }
            Command::Grok {
                input, patterns, ..
            } => {
                let e = self.expr(input, columns, None);
                self.expect_string_input(&e, input.span, "Grok");
                let mut parsed = vec![];
                let mut fields: Vec<(String, DataType)> = vec![];
                for (p, pspan) in patterns {
                    match crate::grok::GrokPattern::parse(p) {
                        Ok(g) => {
                            for (name, t) in &g.fields {
                                let ty = match t {
                                    crate::grok::GrokType::Keyword => DataType::Keyword,
                                    crate::grok::GrokType::Integer => DataType::Integer,
                                    crate::grok::GrokType::Long => DataType::Long,
                                    crate::grok::GrokType::Double => DataType::Double,
                                    crate::grok::GrokType::Boolean => DataType::Boolean,
                                };
                                if !fields.iter().any(|(n, _)| n == name) {
                                    fields.push((name.clone(), ty));
                                }
                            }
                            parsed.push(g);
                        }
                        Err(m) => self.problem(*pspan, m),
                    }
                }
                for (f, ty) in &fields {
                    columns.retain(|c| &c.name != f);
                    columns.push(Column {
                        name: f.clone(),
                        ty: *ty,
                    });
                }
                Some(Step::Grok {
                    input: e,
                    patterns: parsed,
                    fields,
                })
            }
        }
    }

    /// KEEP's precedence rules (§8.4): exact name > partial wildcard > lone `*`; among
    /// equals the rightmost pattern wins and fixes the position.
    fn keep(&mut self, patterns: &[(String, Span)], columns: &[Column]) -> Vec<Column> {
        let rank = |p: &str| {
            if p == "*" {
                0
            } else if p.contains('*') {
                1
            } else {
                2
            }
        };
        // For each column: (rank, pattern index) of the winning pattern.
        let mut winner: Vec<Option<(u8, usize)>> = vec![None; columns.len()];
        for (pi, (p, span)) in patterns.iter().enumerate() {
            let r = rank(p);
            let mut any = false;
            for (ci, c) in columns.iter().enumerate() {
                if wildcard_match(p, &c.name) {
                    any = true;
                    match winner[ci] {
                        Some((wr, _)) if wr > r => {}
                        _ => winner[ci] = Some((r, pi)),
                    }
                }
            }
            if !(any || p == "*" && columns.is_empty()) {
                if p.contains('*') {
                    self.problem(*span, format!("No matches found for pattern [{p}]"));
                } else {
                    self.problem(*span, format!("Unknown column [{p}]"));
                }
            }
        }
        let mut out = vec![];
        for pi in 0..patterns.len() {
            for (ci, c) in columns.iter().enumerate() {
                if winner[ci].map(|w| w.1) == Some(pi) {
                    out.push(c.clone());
                }
            }
        }
        out
    }

    fn lookup_column(&mut self, name: &str, span: Span, columns: &[Column]) -> Option<DataType> {
        if let Some(c) = columns.iter().find(|c| c.name == name) {
            return Some(c.ty);
        }
        let similar = similar_names(name, columns);
        let msg = match similar.len() {
            0 => format!("Unknown column [{name}]"),
            1 => format!("Unknown column [{name}], did you mean [{}]?", similar[0]),
            _ => format!(
                "Unknown column [{name}], did you mean any of [{}]?",
                similar.join(", ")
            ),
        };
        self.problem(span, msg);
        None
    }

    fn expr(&mut self, e: &Expr, columns: &[Column], agg: Option<&AggContext<'_>>) -> TExpr {
        let mk = |kind: TKind, ty: DataType| TExpr {
            kind,
            ty,
            span: e.span,
        };
        match &e.kind {
            ExprKind::Literal(l) => mk(TKind::Literal(l.clone()), literal_type(l)),
            ExprKind::Star => {
                self.problem(e.span, "* is only allowed in COUNT(*)");
                mk(TKind::Literal(Literal::Null), ERR)
            }
            ExprKind::Options(_) => {
                self.problem(
                    e.span,
                    "named options are only allowed as a function's last argument",
                );
                mk(TKind::Literal(Literal::Null), ERR)
            }
            ExprKind::Column(name) => {
                if let Some(ctx) = agg {
                    // Inside STATS, outside an aggregate: a grouping key by name.
                    if let Some((_, g)) = ctx.groups.iter().find(|(n, _)| n == name) {
                        return mk(TKind::Column(name.clone()), g.ty);
                    }
                }
                match self.lookup_column(name, e.span, columns) {
                    Some(DataType::Unsupported) => {
                        self.problem(
                            e.span,
                            format!("Cannot use field [{name}] with unsupported type"),
                        );
                        mk(TKind::Column(name.clone()), ERR)
                    }
                    Some(t) => mk(TKind::Column(name.clone()), t),
                    None => mk(TKind::Column(name.clone()), ERR),
                }
            }
            ExprKind::Call {
                name,
                name_span,
                args,
            } => self.call(e, name, *name_span, args, columns, agg),
            ExprKind::Neg(inner) => {
                let t = self.expr(inner, columns, agg);
                if !(t.ty.is_numeric() || t.ty.is_span() || t.ty == DataType::Null || t.ty == ERR) {
                    self.problem(
                        e.span,
                        format!(
                            "argument of [{}] must be [numeric, date_period or time_duration], found value [{}] type [{}]",
                            self.text(e.span),
                            self.text(inner.span),
                            t.ty.verifier_name()
                        ),
                    );
                }
                let ty = t.ty;
                mk(TKind::Neg(Box::new(t)), ty)
            }
            ExprKind::Not(inner) => {
                let t = self.expr(inner, columns, agg);
                self.expect_boolean(&t, e.span, inner.span, "argument");
                mk(TKind::Not(Box::new(t)), DataType::Boolean)
            }
            ExprKind::Binary { op, left, right } => {
                let l = self.expr(left, columns, agg);
                let r = self.expr(right, columns, agg);
                self.binary(e, *op, l, r)
            }
            ExprKind::IsNull { expr, negated } => {
                let t = self.expr(expr, columns, agg);
                mk(
                    TKind::IsNull {
                        expr: Box::new(t),
                        negated: *negated,
                    },
                    DataType::Boolean,
                )
            }
            ExprKind::In {
                expr,
                list,
                negated,
            } => {
                let v = self.expr(expr, columns, agg);
                let mut items = vec![];
                for item in list {
                    let it = self.expr(item, columns, agg);
                    let it = self.coerce_to(it, v.ty);
                    if v.ty != ERR && it.ty != ERR && !comparable(v.ty, it.ty) {
                        self.problem(
                            item.span,
                            format!(
                                "{} argument of [{}] must be [{}], found value [{}] type [{}]",
                                crate::catalog::ordinal(items.len() + 1),
                                self.text(e.span),
                                v.ty.verifier_name(),
                                self.text(item.span),
                                it.ty.verifier_name()
                            ),
                        );
                    }
                    items.push(it);
                }
                mk(
                    TKind::In {
                        expr: Box::new(v),
                        list: items,
                        negated: *negated,
                    },
                    DataType::Boolean,
                )
            }
            ExprKind::Like {
                expr,
                patterns,
                negated,
                regex,
            } => {
                let v = self.expr(expr, columns, agg);
                if !(v.ty.is_string() || v.ty == DataType::Null || v.ty == ERR) {
                    self.problem(
                        expr.span,
                        format!(
                            "first argument of [{}] must be [string], found value [{}] type [{}]",
                            self.text(e.span),
                            self.text(expr.span),
                            v.ty.verifier_name()
                        ),
                    );
                }
                mk(
                    TKind::Like {
                        expr: Box::new(v),
                        patterns: patterns.iter().map(|p| p.0.clone()).collect(),
                        negated: *negated,
                        regex: *regex,
                    },
                    DataType::Boolean,
                )
            }
            ExprKind::LikeExpr {
                expr,
                pattern,
                negated,
                regex,
            } => {
                let v = self.expr(expr, columns, agg);
                let p = self.expr(pattern, columns, agg);
                for (x, t) in [(expr, &v), (pattern, &p)] {
                    if !(t.ty.is_string() || t.ty == DataType::Null || t.ty == ERR) {
                        self.problem(
                            x.span,
                            format!(
                                "{} argument of [{}] must be [string], found value [{}] type [{}]",
                                if std::ptr::eq(x, expr) {
                                    "first"
                                } else {
                                    "second"
                                },
                                self.text(e.span),
                                self.text(x.span),
                                t.ty.verifier_name()
                            ),
                        );
                    }
                }
                // A literal pattern (a bound parameter) is an ordinary LIKE; otherwise the
                // pattern is evaluated with the row (ES folds it to a constant first).
                if let TKind::Literal(Literal::Keyword(s)) = &p.kind {
                    return mk(
                        TKind::Like {
                            expr: Box::new(v),
                            patterns: vec![s.clone()],
                            negated: *negated,
                            regex: *regex,
                        },
                        DataType::Boolean,
                    );
                }
                let call = mk(
                    TKind::Call {
                        name: if *regex {
                            "RLIKE$PATTERN"
                        } else {
                            "LIKE$PATTERN"
                        }
                        .into(),
                        args: vec![v, p],
                    },
                    DataType::Boolean,
                );
                if *negated {
                    mk(TKind::Not(Box::new(call)), DataType::Boolean)
                } else {
                    call
                }
            }
            ExprKind::Cast {
                expr,
                type_name,
                type_span,
            } => {
                let v = self.expr(expr, columns, agg);
                match DataType::from_name(type_name) {
                    Some(to) if !matches!(to, DataType::Null | DataType::Unsupported) => {
                        if !castable(v.ty, to) && v.ty != ERR {
                            self.problem(e.span, format!("argument of [{}] must be castable to [{}], found value [{}] type [{}]", self.text(e.span), to.name(), self.text(expr.span), v.ty.verifier_name()));
                        }
                        mk(
                            TKind::Cast {
                                expr: Box::new(v),
                                to,
                            },
                            to,
                        )
                    }
                    _ => {
                        self.problem(
                            *type_span,
                            format!(
                                "Unsupported conversion to type [{}]",
                                type_name.to_ascii_uppercase()
                            ),
                        );
                        mk(
                            TKind::Cast {
                                expr: Box::new(v),
                                to: ERR,
                            },
                            ERR,
                        )
                    }
                }
            }
        }
    }

    fn expect_string_input(&mut self, e: &TExpr, span: Span, command: &str) {
        if !(e.ty.is_string() || e.ty == DataType::Null || e.ty == ERR) {
            self.problem(
                span,
                format!(
                    "{command} only supports KEYWORD or TEXT values, found expression [{}] type [{}]",
                    self.text(span),
                    e.ty.name().to_ascii_uppercase()
                ),
            );
        }
    }

    fn expect_boolean(&mut self, t: &TExpr, whole: Span, arg: Span, which: &str) {
        if !(t.ty == DataType::Boolean || t.ty == DataType::Null || t.ty == ERR) {
            self.problem(
                arg,
                format!(
                    "{which} of [{}] must be [boolean], found value [{}] type [{}]",
                    self.text(whole),
                    self.text(arg),
                    t.ty.verifier_name()
                ),
            );
        }
    }

    /// String literals convert implicitly where the other side needs a date, ip, boolean,
    /// version or span (§4.3); nothing else converts.
    fn coerce_to(&mut self, e: TExpr, target: DataType) -> TExpr {
        let convertible = matches!(
            target,
            DataType::Date | DataType::Ip | DataType::Version | DataType::Boolean
        );
        if convertible && e.ty.is_string() && matches!(e.kind, TKind::Literal(Literal::Keyword(_)))
        {
            let span = e.span;
            return TExpr {
                kind: TKind::Cast {
                    expr: Box::new(e),
                    to: target,
                },
                ty: target,
                span,
            };
        }
        e
    }

    fn binary(&mut self, e: &Expr, op: BinaryOp, l: TExpr, r: TExpr) -> TExpr {
        use DataType::*;
        let span = e.span;
        let whole = self.text(span).to_string();
        let mk = |l: TExpr, r: TExpr, ty: DataType| TExpr {
            kind: TKind::Binary {
                op,
                left: Box::new(l),
                right: Box::new(r),
            },
            ty,
            span,
        };
        if l.ty == ERR || r.ty == ERR {
            return mk(l, r, ERR);
        }
        match op {
            BinaryOp::And | BinaryOp::Or => {
                self.expect_boolean(&l, span, l.span, "first argument");
                self.expect_boolean(&r, span, r.span, "second argument");
                mk(l, r, Boolean)
            }
            _ if op.is_comparison() => {
                let l = self.coerce_to(l, r.ty);
                let r = self.coerce_to(r, l.ty);
                if !comparable(l.ty, r.ty) {
                    self.problem(
                        r.span,
                        format!(
                            "first argument of [{whole}] is [{}] so second argument must also be [{}] but was [{}]",
                            type_family(l.ty),
                            type_family(l.ty),
                            r.ty.verifier_name()
                        ),
                    );
                    return mk(l, r, ERR);
                }
                mk(l, r, Boolean)
            }
            _ => {
                // Arithmetic.
                let (lt, rt) = (l.ty, r.ty);
                let ty = if lt == Null || rt == Null {
                    Some(if lt == Null { rt } else { lt })
                } else if lt.is_numeric() && rt.is_numeric() {
                    DataType::numeric_common(lt, rt)
                } else if (matches!(op, BinaryOp::Add | BinaryOp::Sub)
                    && lt == Date
                    && rt.is_span())
                    || (op == BinaryOp::Add && lt.is_span() && rt == Date)
                {
                    Some(Date)
                } else if matches!(op, BinaryOp::Add | BinaryOp::Sub) && lt.is_span() && rt == lt {
                    Some(lt)
                } else {
                    None
                };
                match ty {
                    Some(t) => mk(l, r, t),
                    None => {
                        let msg = if lt.is_numeric() || lt == Date || lt.is_span() {
                            format!(
                                "[{}] has arguments with incompatible types [{}] and [{}]",
                                op.symbol(),
                                lt.verifier_name(),
                                rt.verifier_name()
                            )
                        } else {
                            format!(
                                "first argument of [{whole}] must be [{}], found value [{}] type [{}]",
                                if matches!(op, BinaryOp::Add | BinaryOp::Sub) {
                                    "date_nanos, datetime, double, integer, long or unsigned_long"
                                } else {
                                    "double, integer, long or unsigned_long"
                                },
                                self.text(l.span),
                                lt.verifier_name()
                            )
                        };
                        self.problem(span, msg);
                        mk(l, r, ERR)
                    }
                }
            }
        }
    }

    fn call(
        &mut self,
        e: &Expr,
        name: &str,
        name_span: Span,
        args: &[Expr],
        columns: &[Column],
        agg: Option<&AggContext<'_>>,
    ) -> TExpr {
        let Some(mut sig) = self.catalog.lookup(name) else {
            self.problem(name_span, format!("Unknown function [{name}]"));
            return TExpr {
                kind: TKind::Literal(Literal::Null),
                ty: ERR,
                span: e.span,
            };
        };
        // Named options pick the variant of the function that implements them.
        let mut args = args;
        if let Some((last, rest)) = args.split_last() {
            if let ExprKind::Options(entries) = &last.kind {
                let variant = self
                    .catalog
                    .with_options(sig.name, entries)
                    .and_then(|n| self.catalog.lookup(n).ok_or_else(|| n.to_string()));
                match variant {
                    Ok(v) => sig = v,
                    Err(m) => {
                        let m = m.replace("{call}", self.text(e.span));
                        self.problem(last.span, m);
                        return TExpr {
                            kind: TKind::Literal(Literal::Null),
                            ty: ERR,
                            span: e.span,
                        };
                    }
                }
                args = rest;
            }
        }
        let is_agg = sig.kind == FunctionKind::Aggregate;
        if is_agg && agg.is_none() {
            self.problem(
                e.span,
                format!(
                    "aggregate function [{}] not allowed outside STATS command",
                    self.text(e.span)
                ),
            );
        }
        // Inside an aggregate's arguments, columns are the input rows again (not group keys).
        let mut targs: Vec<TExpr> = vec![];
        for a in args {
            if let ExprKind::Star = a.kind {
                if is_agg && sig.name == "COUNT" {
                    targs.push(TExpr {
                        kind: TKind::Literal(Literal::Keyword("*".into())),
                        ty: DataType::Keyword,
                        span: a.span,
                    });
                    continue;
                }
            }
            let inner_ctx = if is_agg { None } else { agg };
            let t = self.expr(a, columns, inner_ctx);
            if is_agg && contains_agg(&t) {
                self.problem(
                    a.span,
                    format!(
                        "nested aggregations [{}] not allowed inside other aggregations [{}]",
                        self.text(a.span),
                        self.text(e.span)
                    ),
                );
            }
            targs.push(t);
        }
        if targs.iter().any(|t| t.ty == ERR) {
            return TExpr {
                kind: TKind::Literal(Literal::Null),
                ty: ERR,
                span: e.span,
            };
        }
        let mut ty = self.apply_rule(&sig, e, name, &targs);
        // Implicit string-literal casts: retry with the literal converted to what the
        // parameter expects.
        if let Err(ArgError::Type { index, expected }) = &ty {
            let target = match expected.as_str() {
                "datetime" => Some(DataType::Date),
                "ip" => Some(DataType::Ip),
                "boolean" => Some(DataType::Boolean),
                _ => None,
            };
            if let Some(target) = target {
                let cast = self.coerce_to(targs[*index].clone(), target);
                if cast.ty == target {
                    targs[*index] = cast;
                    ty = self.apply_rule(&sig, e, name, &targs);
                }
            }
        }
        match ty {
            Ok(t) => {
                let kind = if is_agg {
                    TKind::Agg {
                        name: sig.name.to_string(),
                        args: targs,
                        filter: agg.and_then(|c| c.filter.clone()).map(Box::new),
                    }
                } else {
                    TKind::Call {
                        name: sig.name.to_string(),
                        args: targs,
                    }
                };
                TExpr {
                    kind,
                    ty: t,
                    span: e.span,
                }
            }
            Err(err) => {
                let msg = match err {
                    ArgError::Arity(m) => {
                        format!("error building [{}]: {m}", name.to_ascii_lowercase())
                    }
                    ArgError::Type { index, expected } => format!(
                        "{} argument of [{}] must be [{expected}], found value [{}] type [{}]",
                        crate::catalog::ordinal(index),
                        self.text(e.span),
                        self.text(args[index].span),
                        targs[index].ty.verifier_name()
                    ),
                    ArgError::NotConstant { index } => format!(
                        "{} argument of [{}] must be a constant, received [{}]",
                        crate::catalog::ordinal(index),
                        self.text(e.span),
                        self.text(args[index].span)
                    ),
                    ArgError::Other(m) => m,
                };
                let at = match &msg {
                    m if m.starts_with("error building") => name_span,
                    _ => e.span,
                };
                self.problem(at, msg);
                TExpr {
                    kind: TKind::Literal(Literal::Null),
                    ty: ERR,
                    span: e.span,
                }
            }
        }
    }

    fn apply_rule(
        &self,
        sig: &crate::catalog::Signature,
        _e: &Expr,
        _name: &str,
        targs: &[TExpr],
    ) -> Result<DataType, ArgError> {
        let types: Vec<DataType> = targs.iter().map(|t| t.ty).collect();
        let constant: Vec<bool> = targs.iter().map(is_constant).collect();
        (sig.rule)(&Args {
            types: &types,
            constant: &constant,
        })
    }
}

struct AggContext<'g> {
    groups: &'g [(String, TExpr)],
    filter: Option<TExpr>,
}

pub fn is_constant(e: &TExpr) -> bool {
    match &e.kind {
        TKind::Literal(_) => true,
        TKind::Column(_) | TKind::Agg { .. } => false,
        TKind::Call { name, args } => name == "NOW" || args.iter().all(is_constant),
        TKind::Neg(x) | TKind::Not(x) => is_constant(x),
        TKind::Cast { expr, .. } => is_constant(expr),
        TKind::IsNull { expr, .. } | TKind::Like { expr, .. } => is_constant(expr),
        TKind::Binary { left, right, .. } => is_constant(left) && is_constant(right),
        TKind::In { expr, list, .. } => is_constant(expr) && list.iter().all(is_constant),
    }
}

pub fn contains_agg(e: &TExpr) -> bool {
    match &e.kind {
        TKind::Agg { .. } => true,
        TKind::Literal(_) | TKind::Column(_) => false,
        TKind::Call { args, .. } => args.iter().any(contains_agg),
        TKind::Neg(x) | TKind::Not(x) => contains_agg(x),
        TKind::Cast { expr, .. } | TKind::IsNull { expr, .. } | TKind::Like { expr, .. } => {
            contains_agg(expr)
        }
        TKind::Binary { left, right, .. } => contains_agg(left) || contains_agg(right),
        TKind::In { expr, list, .. } => contains_agg(expr) || list.iter().any(contains_agg),
    }
}

/// A column used outside any aggregate that is not a grouping key.
fn non_group_column(e: &TExpr, groups: &[(String, TExpr)]) -> Option<(Span, String)> {
    match &e.kind {
        TKind::Column(n) if !groups.iter().any(|(g, _)| g == n) => Some((e.span, n.clone())),
        TKind::Agg { .. } | TKind::Literal(_) | TKind::Column(_) => None,
        TKind::Call { args, .. } => args.iter().find_map(|a| non_group_column(a, groups)),
        TKind::Neg(x) | TKind::Not(x) => non_group_column(x, groups),
        TKind::Cast { expr, .. } | TKind::IsNull { expr, .. } | TKind::Like { expr, .. } => {
            non_group_column(expr, groups)
        }
        TKind::Binary { left, right, .. } => {
            non_group_column(left, groups).or_else(|| non_group_column(right, groups))
        }
        TKind::In { expr, list, .. } => non_group_column(expr, groups)
            .or_else(|| list.iter().find_map(|a| non_group_column(a, groups))),
    }
}

pub fn literal_type(l: &Literal) -> DataType {
    match l {
        Literal::Null => DataType::Null,
        Literal::Bool(_) => DataType::Boolean,
        Literal::Integer(_) => DataType::Integer,
        Literal::Long(_) => DataType::Long,
        Literal::UnsignedLong(_) => DataType::UnsignedLong,
        Literal::Double(_) => DataType::Double,
        Literal::Keyword(_) => DataType::Keyword,
        Literal::List(items) => items.first().map(literal_type).unwrap_or(DataType::Null),
        Literal::Span(s) => {
            if s.calendar {
                DataType::DatePeriod
            } else {
                DataType::TimeDuration
            }
        }
    }
}

/// Whether `==`/`<`/`IN` may compare the two types.
pub fn comparable(a: DataType, b: DataType) -> bool {
    a == DataType::Null
        || b == DataType::Null
        || (a.is_numeric() && b.is_numeric() && DataType::numeric_common(a, b).is_some())
        || (a.is_string() && b.is_string())
        || a == b
}

fn type_family(t: DataType) -> &'static str {
    if t.is_numeric() {
        "numeric"
    } else if t.is_string() {
        "keyword"
    } else {
        t.verifier_name()
    }
}

/// Explicit `::type` conversions ES allows (the TO_* functions' input types).
pub fn castable(from: DataType, to: DataType) -> bool {
    use DataType::*;
    if from == to || from == Null {
        return true;
    }
    match to {
        Keyword | Text => !from.is_span(),
        Integer | Long | UnsignedLong | Double => {
            from.is_numeric() || from.is_string() || matches!(from, Boolean | Date)
        }
        Boolean => from.is_numeric() || from.is_string(),
        Date => from.is_numeric() || from.is_string(),
        Ip => from.is_string(),
        Version => from.is_string(),
        DatePeriod => from.is_string() || from == DatePeriod,
        TimeDuration => from.is_string() || from == TimeDuration,
        _ => false,
    }
}

/// ES's `*` patterns for KEEP/DROP/RENAME: `*` matches any run of characters.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == name;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// Close names for "did you mean" hints: same last segment, or a small edit distance.
fn similar_names(name: &str, columns: &[Column]) -> Vec<String> {
    let mut out: Vec<String> = columns
        .iter()
        .filter(|c| {
            let d = levenshtein(&c.name.to_ascii_lowercase(), &name.to_ascii_lowercase());
            d <= (name.len() / 4).clamp(1, 3)
        })
        .map(|c| c.name.clone())
        .collect();
    out.truncate(5);
    out
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}
