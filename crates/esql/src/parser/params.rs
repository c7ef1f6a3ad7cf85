//! Binding `?`, `?N`, `?name` and `??name` placeholders while parsing (esql-spec §2.6),
//! with ES's errors for a missing value or mixed placeholder kinds.

use super::Parser;
use crate::ast::Literal;
use crate::error::EsqlError;
use crate::params::ParamValue;
use crate::span::Span;

impl Parser<'_> {
    /// The value of a placeholder (`text` is what follows its `?`), with ES's errors for
    /// one that has no value or mixes placeholder kinds.
    pub(super) fn bind(&mut self, text: &str, span: Span) -> Result<ParamValue, EsqlError> {
        let fail = |this: &Self, m: String| Err(EsqlError::parsing(this.src, span, m));
        let (identifier, key) = match text.strip_prefix('?') {
            Some(k) => (true, k),
            None => (false, text),
        };
        let kind = if key.is_empty() {
            "anonymous"
        } else if key.chars().all(|c| c.is_ascii_digit()) {
            "positional"
        } else {
            "named"
        };
        match self.param_kind {
            Some(k) if k != kind => {
                let (a, b) = if k < kind { (k, kind) } else { (kind, k) };
                return fail(
                    self,
                    format!(
                        "Inconsistent parameter declaration, use one of positional, named or anonymous params but not a combination of {a} and {b}"
                    ),
                );
            }
            _ => self.param_kind = Some(kind),
        }
        let value = match kind {
            "anonymous" => {
                self.anonymous += 1;
                match self.params.at(self.anonymous) {
                    Some(v) => v.clone(),
                    None => {
                        return fail(
                            self,
                            format!("Not enough actual parameters {}", self.params.len()),
                        )
                    }
                }
            }
            "positional" => {
                let n: usize = key.parse().unwrap_or(0);
                match self.params.at(n) {
                    Some(v) => v.clone(),
                    None => {
                        let hint = if self.params.is_empty() {
                            String::new()
                        } else {
                            format!(
                                ", did you mean any position between 1 and {}?",
                                self.params.len()
                            )
                        };
                        return fail(
                            self,
                            format!("No parameter is defined for position {n}{hint}"),
                        );
                    }
                }
            }
            _ => match self.params.named(key) {
                Some(v) => v.clone(),
                None => {
                    let names = self.params.names();
                    let hint = if names.is_empty() {
                        String::new()
                    } else {
                        format!(", did you mean any of [{}]?", names.join(", "))
                    };
                    return fail(self, format!("Unknown query parameter [{key}]{hint}"));
                }
            },
        };
        match (identifier, value) {
            (false, v) => Ok(v),
            (true, ParamValue::Identifier(id)) => Ok(ParamValue::Identifier(id)),
            (true, ParamValue::Value(Literal::Keyword(id))) => Ok(ParamValue::Identifier(id)),
            (true, _) => fail(
                self,
                format!("Query parameter [?{text}] must be a string naming a field or function"),
            ),
        }
    }
}
