//! `STATS agg [WHERE cond], … [BY group, …]`: groupings are resolved first and seen by the
//! aggregates by name; outside an aggregate only grouping keys and constants may appear;
//! when names repeat, ES keeps one column and warns about each one it hides.

use crate::analyzer::{AggContext, Analyzer, ERR};
use crate::ast::{AggField, Field};
use crate::span::Span;
use crate::typed::{contains_agg, Column, Step, TExpr, TKind};

/// Every output name as written: (name, position, is a grouping).
type Occurrences = Vec<(String, Span, bool)>;

impl Analyzer<'_> {
    pub(super) fn stats_command(
        &mut self,
        aggs: &[AggField],
        groups: &[Field],
        columns: &mut Vec<Column>,
    ) -> Step {
        let mut occurrences: Occurrences = vec![];
        let tgroups = self.stats_groups(groups, columns, &mut occurrences);
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
        let mut taggs = self.stats_aggs(aggs, &visible, &plain_groups, &mut occurrences);
        self.warn_shadowed_stats(&occurrences);
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
        Step::Stats {
            aggs: taggs.into_iter().map(|(n, e, _)| (n, e)).collect(),
            groups: plain_groups,
        }
    }

    /// The `BY` expressions, the last of a name winning.
    fn stats_groups(
        &mut self,
        groups: &[Field],
        columns: &[Column],
        occurrences: &mut Occurrences,
    ) -> Vec<(String, TExpr, Span)> {
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
        tgroups
    }

    /// The aggregate expressions (with their `WHERE` filters), the last of a name winning.
    fn stats_aggs(
        &mut self,
        aggs: &[AggField],
        visible: &[Column],
        plain_groups: &[(String, TExpr)],
        occurrences: &mut Occurrences,
    ) -> Vec<(String, TExpr, Span)> {
        let mut taggs: Vec<(String, TExpr, Span)> = vec![];
        for a in aggs {
            let filter = a.filter.as_ref().map(|f| {
                let fe = self.expr(f, visible, None);
                self.expect_condition(f, fe.ty);
                fe
            });
            let ctx = AggContext {
                groups: plain_groups,
                filter,
            };
            let e = self.expr(&a.field.expr, visible, Some(&ctx));
            if e.ty != ERR {
                // Outside aggregates only grouping keys and constants may appear.
                if let Some((span, name)) = non_group_column(&e, plain_groups) {
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
        taggs
    }

    /// The last grouping of a name wins, else the last aggregate; ES names the winner in a
    /// warning for every column it hides.
    fn warn_shadowed_stats(&mut self, occurrences: &Occurrences) {
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
