//! Source commands: `FROM patterns [METADATA …]`, `ROW fields` and `SHOW INFO|FUNCTIONS`.
//! They produce the first column list every later command starts from.

use crate::analyzer::{Analyzer, SourceResolver};
use crate::ast::{Field, SourceCommand};
use crate::span::Span;
use crate::typed::{Column, TExpr, TSource};
use crate::types::DataType;

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

impl Analyzer<'_> {
    /// The source and its columns; `Err` (the source without columns) when the index
    /// patterns do not resolve, after which nothing else can be checked.
    pub(in crate::analyzer) fn source_command(
        &mut self,
        source: &SourceCommand,
        resolver: &dyn SourceResolver,
    ) -> Result<(TSource, Vec<Column>), TSource> {
        match source {
            SourceCommand::From {
                patterns, metadata, ..
            } => self.source_from(patterns, metadata, resolver),
            SourceCommand::Row { fields, .. } => Ok(self.source_row(fields)),
            SourceCommand::Show { what, .. } => Ok((TSource::Show(*what), show_columns(*what))),
        }
    }

    fn source_from(
        &mut self,
        patterns: &[(String, Span)],
        metadata: &[(String, Span)],
        resolver: &dyn SourceResolver,
    ) -> Result<(TSource, Vec<Column>), TSource> {
        let names: Vec<String> = patterns.iter().map(|p| p.0.clone()).collect();
        let cols = match resolver.resolve(&names) {
            Ok(c) => c,
            Err(msg) => {
                self.problem(patterns[0].1, msg.to_string());
                return Err(TSource::From {
                    patterns: names,
                    columns: vec![],
                    metadata: vec![],
                });
            }
        };
        // The parser has already refused names ES does not know and repeats.
        let mut meta: Vec<Column> = vec![];
        for (name, span) in metadata {
            match crate::metadata::metadata_field(name) {
                Some(f) if f.computed => meta.push(Column {
                    name: name.clone(),
                    ty: f.ty,
                }),
                _ => self.problem(
                    *span,
                    format!("METADATA field [{name}] is not supported yet by trailhunt"),
                ),
            }
        }
        // Metadata columns come after the mapped fields (ES appends them to the relation's
        // output); a mapped field of the same name is shadowed by the metadata field.
        let columns: Vec<Column> = cols
            .into_iter()
            .filter(|c| !meta.iter().any(|m| m.name == c.name))
            .collect();
        let all: Vec<Column> = columns.iter().chain(&meta).cloned().collect();
        Ok((
            TSource::From {
                patterns: names,
                columns,
                metadata: meta,
            },
            all,
        ))
    }

    fn source_row(&mut self, fields: &[Field]) -> (TSource, Vec<Column>) {
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
}
