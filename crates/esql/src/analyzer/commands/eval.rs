//! `EVAL name = expr, …`: each assignment sees the ones before it and replaces a column of
//! the same name (moving it to the end).

use crate::analyzer::Analyzer;
use crate::ast::Field;
use crate::typed::{Column, Step};

impl Analyzer<'_> {
    pub(super) fn eval_command(&mut self, fields: &[Field], columns: &mut Vec<Column>) -> Step {
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
        Step::Eval(out)
    }
}
