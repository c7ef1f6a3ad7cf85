//! `SORT key [ASC|DESC] [NULLS FIRST|LAST], …` and `LIMIT n`.

use crate::analyzer::{Analyzer, ERR, MAX_LIMIT};
use crate::ast::SortKey;
use crate::typed::{Column, Step, TSortKey};
use crate::types::DataType;

impl Analyzer<'_> {
    pub(super) fn sort_command(&mut self, keys: &[SortKey], columns: &[Column]) -> Step {
        let mut out = vec![];
        for k in keys {
            let e = self.expr(&k.expr, columns, None);
            if !crate::catalog::is_orderable(e.ty) && e.ty != DataType::Null && e.ty != ERR {
                self.problem(k.expr.span, format!("cannot sort on {}", e.ty.name()));
            }
            out.push(TSortKey {
                expr: e,
                descending: k.descending,
                nulls_first: k.nulls_first.unwrap_or(k.descending),
            });
        }
        Step::Sort(out)
    }

    /// ES caps every LIMIT at `esql.query.result_truncation_max_size`.
    pub(super) fn limit_command(&mut self, n: u64) -> Step {
        Step::Limit(n.min(MAX_LIMIT))
    }
}
