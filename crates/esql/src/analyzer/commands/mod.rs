//! One file per command (or small family of commands): each checks its clause against
//! the columns coming in, records problems, and returns the typed step plus the columns
//! going out. `command` only dispatches.

mod eval;
mod extract;
mod filter;
mod join;
mod mv_expand;
mod project;
mod sort;
mod source;
mod stats;

pub use project::wildcard_match;
pub use source::show_columns;

use super::Analyzer;
use crate::ast::Command;
use crate::typed::{Column, Step};

impl Analyzer<'_> {
    pub(super) fn command(&mut self, cmd: &Command, columns: &mut Vec<Column>) -> Option<Step> {
        match cmd {
            Command::Where { cond, .. } => Some(self.where_command(cond, columns)),
            Command::Eval { fields, .. } => Some(self.eval_command(fields, columns)),
            Command::Stats { aggs, groups, .. } => Some(self.stats_command(aggs, groups, columns)),
            Command::Keep { patterns, .. } => Some(self.keep_command(patterns, columns)),
            Command::Drop { patterns, .. } => Some(self.drop_command(patterns, columns)),
            Command::Rename { pairs, .. } => Some(self.rename_command(pairs, columns)),
            Command::Sort { keys, .. } => Some(self.sort_command(keys, columns)),
            Command::Limit { n, .. } => Some(self.limit_command(*n)),
            Command::MvExpand { column, .. } => Some(self.mv_expand_command(column, columns)),
            Command::Dissect {
                input,
                pattern,
                append_separator,
                ..
            } => self.dissect_command(input, pattern, append_separator, columns),
            Command::Grok {
                input, patterns, ..
            } => Some(self.grok_command(input, patterns, columns)),
            Command::LookupJoin { index, keys, span } => {
                self.lookup_join_command(index, keys, *span, columns)
            }
            Command::Enrich {
                policy,
                on,
                with,
                span,
            } => self.enrich_command(policy, on, with, *span, columns),
        }
    }
}
