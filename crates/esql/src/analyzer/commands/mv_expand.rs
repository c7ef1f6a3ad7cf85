//! `MV_EXPAND column`: one row per value; the column must exist and have a type.

use crate::analyzer::Analyzer;
use crate::span::Span;
use crate::typed::{Column, Step};
use crate::types::DataType;

impl Analyzer<'_> {
    pub(super) fn mv_expand_command(
        &mut self,
        column: &(String, Span),
        columns: &[Column],
    ) -> Step {
        let (name, span) = column;
        if let Some(DataType::Unsupported) = self.lookup_column(name, *span, columns) {
            self.problem(
                *span,
                format!("Cannot use field [{name}] with unsupported type"),
            );
        }
        Step::MvExpand(name.clone())
    }
}
