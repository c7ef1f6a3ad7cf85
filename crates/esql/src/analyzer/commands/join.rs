//! `LOOKUP JOIN index ON key, …` and `ENRICH policy [ON key] [WITH …]`: left joins with
//! data the [`SourceResolver`](crate::analyzer::SourceResolver) describes.

use crate::analyzer::Analyzer;
use crate::ast::EnrichField;
use crate::span::Span;
use crate::typed::{Column, Step};

impl Analyzer<'_> {
    pub(super) fn lookup_join_command(
        &mut self,
        index: &(String, Span),
        keys: &[(String, Span)],
        span: Span,
        columns: &mut Vec<Column>,
    ) -> Option<Step> {
        let (index, ispan) = index;
        let right = match self.resolver.resolve(std::slice::from_ref(index)) {
            Ok(c) => c,
            Err(m) => {
                self.problem(*ispan, m.to_string());
                return None;
            }
        };
        for (k, kspan) in keys {
            self.lookup_column(k, *kspan, columns);
            if !right.iter().any(|c| &c.name == k) {
                self.problem(
                    *kspan,
                    format!("Unknown column [{k}] in right side of join"),
                );
            }
        }
        let added: Vec<Column> = right
            .into_iter()
            .filter(|c| !keys.iter().any(|(k, _)| k == &c.name))
            .collect();
        columns.retain(|c| !added.iter().any(|a| a.name == c.name));
        columns.extend(added.iter().cloned());
        Some(Step::LookupJoin {
            index: index.clone(),
            keys: keys.iter().map(|(k, _)| k.clone()).collect(),
            added,
            span,
        })
    }

    pub(super) fn enrich_command(
        &mut self,
        policy: &(String, Span),
        on: &Option<(String, Span)>,
        with: &[EnrichField],
        span: Span,
        columns: &mut Vec<Column>,
    ) -> Option<Step> {
        let (policy, pspan) = policy;
        // A mode prefix (`_any:`, `_coordinator:`, `_remote:`) does not change the data.
        let name = policy.rsplit(':').next().unwrap_or(policy);
        let pol = match self.resolver.enrich_policy(name) {
            Ok(p) => p,
            Err(m) => {
                self.problem(*pspan, m.to_string());
                return None;
            }
        };
        let (left_key, kspan) = on.clone().unwrap_or((pol.match_field.clone(), *pspan));
        self.lookup_column(&left_key, kspan, columns);
        let mut fields = vec![];
        if with.is_empty() {
            for c in pol.columns.iter().filter(|c| c.name != pol.match_field) {
                fields.push((c.name.clone(), c.name.clone(), c.ty));
            }
        } else {
            for (new, (f, fspan)) in with {
                match pol.columns.iter().find(|c| &c.name == f) {
                    Some(c) => fields.push((
                        new.as_ref()
                            .map(|n| n.0.clone())
                            .unwrap_or_else(|| f.clone()),
                        f.clone(),
                        c.ty,
                    )),
                    None => self.problem(
                        *fspan,
                        format!("Enrich field [{f}] not found in enrich policy [{name}]"),
                    ),
                }
            }
        }
        for (out, _, ty) in &fields {
            columns.retain(|c| &c.name != out);
            columns.push(Column {
                name: out.clone(),
                ty: *ty,
            });
        }
        Some(Step::Enrich {
            index: pol.index,
            left_key,
            match_field: pol.match_field,
            fields: fields.into_iter().map(|(o, f, _)| (o, f)).collect(),
            span,
        })
    }
}
