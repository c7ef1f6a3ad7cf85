//! `KEEP`, `DROP` and `RENAME`: they only choose, order and rename columns, so all three
//! become a [`Step::Project`] with wildcards already expanded (esql-spec §8.4).

use crate::analyzer::Analyzer;
use crate::span::Span;
use crate::typed::{Column, Step};
use crate::types::DataType;

/// `(old, new)` names with their spans.
type RenamePair = ((String, Span), (String, Span));

impl Analyzer<'_> {
    pub(super) fn keep_command(
        &mut self,
        patterns: &[(String, Span)],
        columns: &mut Vec<Column>,
    ) -> Step {
        let kept = self.keep(patterns, columns);
        let proj = kept
            .iter()
            .map(|c| (c.name.clone(), c.name.clone()))
            .collect();
        *columns = kept;
        Step::Project(proj)
    }

    pub(super) fn drop_command(
        &mut self,
        patterns: &[(String, Span)],
        columns: &mut Vec<Column>,
    ) -> Step {
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
        Step::Project(proj)
    }

    pub(super) fn rename_command(
        &mut self,
        pairs: &[RenamePair],
        columns: &mut Vec<Column>,
    ) -> Step {
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
        Step::Project(cur.into_iter().map(|(s, n, _)| (s, n)).collect())
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
