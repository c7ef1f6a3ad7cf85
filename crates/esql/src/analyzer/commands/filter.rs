//! `WHERE cond`: the condition must be boolean.

use crate::analyzer::{Analyzer, ERR};
use crate::ast::Expr;
use crate::typed::{Column, Step};
use crate::types::DataType;

impl Analyzer<'_> {
    /// Also used for STATS' `agg WHERE cond` filters, which ES checks the same way.
    pub(in crate::analyzer) fn expect_condition(&mut self, cond: &Expr, ty: DataType) {
        if ty != DataType::Boolean && ty != DataType::Null && ty != ERR {
            self.problem(
                cond.span,
                format!(
                    "Condition expression needs to be boolean, found [{}]",
                    ty.verifier_name()
                ),
            );
        }
    }

    pub(super) fn where_command(&mut self, cond: &Expr, columns: &[Column]) -> Step {
        let e = self.expr(cond, columns, None);
        self.expect_condition(cond, e.ty);
        Step::Where(e)
    }
}
