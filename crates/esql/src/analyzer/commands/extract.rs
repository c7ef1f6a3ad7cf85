//! `DISSECT` and `GROK`: cut new columns out of a string with a pattern; the patterns are
//! compiled here so that a bad one is reported with the query's other problems.

use crate::analyzer::{Analyzer, ERR};
use crate::ast::Expr;
use crate::span::Span;
use crate::typed::{Column, Step, TExpr};
use crate::types::DataType;

impl Analyzer<'_> {
    pub(super) fn dissect_command(
        &mut self,
        input: &Expr,
        pattern: &(String, Span),
        append_separator: &Option<String>,
        columns: &mut Vec<Column>,
    ) -> Option<Step> {
        let (pattern, pspan) = pattern;
        let e = self.expr(input, columns, None);
        self.expect_string_input(&e, input.span, "Dissect");
        let parsed = match crate::dissect::DissectPattern::parse(pattern) {
            Ok(p) => p,
            Err(m) => {
                self.problem(*pspan, m.0);
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

    pub(super) fn grok_command(
        &mut self,
        input: &Expr,
        patterns: &[(String, Span)],
        columns: &mut Vec<Column>,
    ) -> Step {
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
                Err(m) => self.problem(*pspan, m.0),
            }
        }
        for (f, ty) in &fields {
            columns.retain(|c| &c.name != f);
            columns.push(Column {
                name: f.clone(),
                ty: *ty,
            });
        }
        Step::Grok {
            input: e,
            patterns: parsed,
            fields,
        }
    }

    /// DISSECT and GROK read strings only.
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
}
