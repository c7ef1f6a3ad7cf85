//! What a source can learn from the filters DataFusion pushes into its scan.
//!
//! DataFusion hands a table the conjuncts of the `WHERE` right above it (after constant
//! folding, so `@timestamp > NOW() - 7 days` arrives as a timestamp literal). A raw-file
//! source cannot evaluate them cheaply, but it can use two necessary conditions:
//!
//! * **literal clauses** — for `col == "x"`, `col IN (…)`, `col LIKE "*x*"` and ORs of them,
//!   every matching row has a column value containing one of the clause's literals; the
//!   source decides which columns it can check against its raw text;
//! * **a time range** on the time column, to skip files whose layout dates lie outside it.
//!
//! Both are *necessary* conditions only: the filter stays in the plan (pushdown is
//! `Inexact`) and decides on every row that is read. Anything not understood is ignored,
//! which only weakens the conditions.

use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::{InList, Like};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};

/// "The value of `column` contains `literal`" (equality implies it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needle {
    pub column: String,
    pub literal: String,
}

/// Necessary conditions on the rows a query can keep; see the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushdown {
    /// A conjunction of clauses; in each clause at least one needle holds.
    pub required: Vec<Vec<Needle>>,
    /// Inclusive bounds on the time column, in epoch milliseconds.
    pub time_min: Option<i64>,
    pub time_max: Option<i64>,
}

impl Pushdown {
    /// Reads the conjuncts DataFusion pushed into a scan; `time_column` names the column whose
    /// bounds are collected.
    pub fn from_filters(filters: &[Expr], time_column: &str) -> Pushdown {
        let mut p = Pushdown::default();
        for f in filters {
            p.conjunct(f, time_column);
        }
        p
    }

    fn conjunct(&mut self, e: &Expr, time_column: &str) {
        if let Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) = e
        {
            self.conjunct(left, time_column);
            self.conjunct(right, time_column);
            return;
        }
        if let Some(clause) = clause(e) {
            self.required.push(clause);
            return;
        }
        self.time_bound(e, time_column);
    }

    fn time_bound(&mut self, e: &Expr, time_column: &str) {
        match e {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                let (op, ms) = match (column_name(left), millis(right)) {
                    (Some(c), Some(ms)) if c == time_column => (*op, ms),
                    _ => match (millis(left), column_name(right)) {
                        (Some(ms), Some(c)) if c == time_column => match op.swap() {
                            Some(op) => (op, ms),
                            None => return,
                        },
                        _ => return,
                    },
                };
                match op {
                    Operator::Gt | Operator::GtEq => self.raise_min(ms),
                    Operator::Lt | Operator::LtEq => self.lower_max(ms),
                    Operator::Eq => {
                        self.raise_min(ms);
                        self.lower_max(ms);
                    }
                    _ => {}
                }
            }
            Expr::Between(b) if !b.negated && column_name(&b.expr) == Some(time_column) => {
                if let Some(lo) = millis(&b.low) {
                    self.raise_min(lo);
                }
                if let Some(hi) = millis(&b.high) {
                    self.lower_max(hi);
                }
            }
            _ => {}
        }
    }

    fn raise_min(&mut self, ms: i64) {
        self.time_min = Some(self.time_min.map_or(ms, |m| m.max(ms)));
    }

    fn lower_max(&mut self, ms: i64) {
        self.time_max = Some(self.time_max.map_or(ms, |m| m.min(ms)));
    }
}

/// The needles one of which every row passing `e` satisfies, if `e` implies such a clause.
fn clause(e: &Expr) -> Option<Vec<Needle>> {
    match e {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => {
            let (c, s) = match (column_name(left), string(right)) {
                (Some(c), Some(s)) => (c, s),
                _ => (column_name(right)?, string(left)?),
            };
            Some(vec![needle(c, s)])
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            // Either side holds, so one of either side's needles does.
            let mut a = clause(left)?;
            a.extend(clause(right)?);
            Some(a)
        }
        // `AND` inside an `OR`: either conjunct's clause is implied; keep the first.
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::And,
            right,
        }) => clause(left).or_else(|| clause(right)),
        Expr::InList(InList {
            expr,
            list,
            negated: false,
        }) => {
            let c = column_name(expr)?;
            list.iter()
                .map(|item| string(item).map(|s| needle(c, s)))
                .collect()
        }
        Expr::Like(Like {
            negated: false,
            expr,
            pattern,
            escape_char,
            case_insensitive: false,
        }) => {
            let c = column_name(expr)?;
            let lit = longest_like_literal(string(pattern)?, *escape_char);
            Some(vec![needle(c, &lit)])
        }
        _ => None,
    }
}

fn needle(column: &str, literal: &str) -> Needle {
    Needle {
        column: column.to_string(),
        literal: literal.to_string(),
    }
}

/// The longest run of literal characters in a SQL `LIKE` pattern (`%`, `_` wildcards).
fn longest_like_literal(pattern: &str, escape: Option<char>) -> String {
    let (mut best, mut cur) = (String::new(), String::new());
    let mut chars = pattern.chars();
    while let Some(ch) = chars.next() {
        if Some(ch) == escape {
            if let Some(n) = chars.next() {
                cur.push(n);
            }
            continue;
        }
        if ch == '%' || ch == '_' {
            if cur.chars().count() > best.chars().count() {
                best = std::mem::take(&mut cur);
            }
            cur.clear();
            continue;
        }
        cur.push(ch);
    }
    if cur.chars().count() > best.chars().count() {
        best = cur;
    }
    best
}

fn column_name(e: &Expr) -> Option<&str> {
    match e {
        Expr::Column(c) => Some(c.name.as_str()),
        _ => None,
    }
}

fn string(e: &Expr) -> Option<&str> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)),
            _,
        ) => Some(s.as_str()),
        _ => None,
    }
}

fn millis(e: &Expr) -> Option<i64> {
    match e {
        Expr::Literal(v, _) => match v {
            ScalarValue::TimestampMillisecond(Some(ms), _) => Some(*ms),
            ScalarValue::TimestampSecond(Some(s), _) => s.checked_mul(1000),
            ScalarValue::TimestampMicrosecond(Some(us), _) => Some(us.div_euclid(1000)),
            ScalarValue::TimestampNanosecond(Some(ns), _) => Some(ns.div_euclid(1_000_000)),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::lit;

    /// Columns as the planner makes them: unqualified, dots and all.
    fn col(name: &str) -> Expr {
        crate::planner::expr::column(name)
    }

    fn ts(ms: i64) -> Expr {
        Expr::Literal(ScalarValue::TimestampMillisecond(Some(ms), None), None)
    }

    #[test]
    fn equality_in_and_or_become_clauses() {
        let f = col("event.action")
            .in_list(vec![lit("StopLogging"), lit("DeleteTrail")], false)
            .and(col("event.provider").eq(lit("s3.amazonaws.com")));
        let p = Pushdown::from_filters(&[f], "@timestamp");
        assert_eq!(p.required.len(), 2);
        assert_eq!(p.required[0][1].literal, "DeleteTrail");
        assert_eq!(p.required[1][0].column, "event.provider");
        let or = col("a").eq(lit("x")).or(lit("y").eq(col("b")));
        let p = Pushdown::from_filters(&[or], "@timestamp");
        assert_eq!(p.required, vec![vec![needle("a", "x"), needle("b", "y")]]);
    }

    #[test]
    fn anything_not_understood_is_ignored() {
        let negated = col("a").in_list(vec![lit("x")], true);
        let ne = col("a").not_eq(lit("x"));
        let half_or = col("a").eq(lit("x")).or(col("b").gt(lit(3)));
        let p = Pushdown::from_filters(&[negated, ne, half_or], "@timestamp");
        assert_eq!(p, Pushdown::default());
    }

    #[test]
    fn like_keeps_its_longest_literal_run() {
        assert_eq!(longest_like_literal("Delete%Logs_x", Some('\\')), "Delete");
        assert_eq!(longest_like_literal("%ab\\%cd%", Some('\\')), "ab%cd");
        assert_eq!(longest_like_literal("%", Some('\\')), "");
    }

    #[test]
    fn time_bounds_from_both_sides() {
        let f = vec![
            col("@timestamp").gt(ts(1_000)),
            ts(5_000).gt_eq(col("@timestamp")),
            col("@timestamp").gt(ts(2_000)),
        ];
        let p = Pushdown::from_filters(&f, "@timestamp");
        assert_eq!((p.time_min, p.time_max), (Some(2_000), Some(5_000)));
    }
}
