//! The ES|QL function library. Each family lives in its own file and registers its
//! functions here: a [`Signature`] (the analyzer's type rule) plus how to run it — a row
//! kernel for the generic [`crate::udf::RowUdf`], a native DataFusion expression where the
//! semantics are provably the same (so pruning and pushdown work), or an aggregate with
//! the hook `STATS` plans it by ([`aggregate::PlanAggregate`]).
//! Adding a function is one entry in one small file.

// The families are the crate's business; outside it, the registry is the library. Public:
// the aggregate planning hook (to add aggregates) and the IP text rules other crates share.
pub mod aggregate;
pub(crate) mod conditional;
pub mod convert;
pub(crate) mod date;
pub(crate) mod digest;
pub(crate) mod ip;
pub(crate) mod math;
pub(crate) mod metric;
pub(crate) mod mv;
pub(crate) mod string;
pub(crate) mod text;

pub use aggregate::{AggCall, AggPlan, PlanAggregate};

use crate::udf::{Kernel, MultiValues, Nulls};
use esql::catalog::{Catalog, FunctionKind, Signature, TypeRule};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Whether a row function's result is a List column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetMulti {
    Never,
    Always,
    /// Multi-valued when some argument may be (conversions, COALESCE).
    IfAnyArg,
}

#[derive(Clone, Copy)]
pub struct RowImpl {
    pub kernel: Kernel,
    pub multi: MultiValues,
    pub nulls: Nulls,
    pub ret_multi: RetMulti,
}

#[derive(Clone, Copy)]
pub enum Impl {
    Row(RowImpl),
    /// Planned specially by the expression planner (NOW, CASE, COALESCE on natives, …).
    Special,
    /// An aggregate, with how `STATS` plans it (see [`aggregate::PlanAggregate`]).
    Aggregate(aggregate::PlanAggregate),
}

#[derive(Clone)]
pub struct FunctionDef {
    pub sig: Signature,
    pub aliases: &'static [&'static str],
    pub imp: Impl,
}

/// A single-value scalar function evaluated row by row; nulls in, null out.
pub fn scalar(name: &'static str, rule: TypeRule, kernel: Kernel) -> FunctionDef {
    FunctionDef {
        sig: Signature {
            name,
            kind: FunctionKind::Scalar,
            rule,
        },
        aliases: &[],
        imp: Impl::Row(RowImpl {
            kernel,
            multi: MultiValues::Reject,
            nulls: Nulls::Propagate,
            ret_multi: RetMulti::Never,
        }),
    }
}

impl FunctionDef {
    pub fn aliases(mut self, aliases: &'static [&'static str]) -> FunctionDef {
        self.aliases = aliases;
        self
    }

    pub fn row(mut self, f: impl FnOnce(&mut RowImpl)) -> FunctionDef {
        if let Impl::Row(r) = &mut self.imp {
            f(r);
        }
        self
    }
}

pub struct Registry {
    by_name: HashMap<String, Arc<FunctionDef>>,
}

impl Registry {
    fn build() -> Registry {
        let mut defs = vec![];
        date::register(&mut defs);
        digest::register(&mut defs);
        string::register(&mut defs);
        text::register(&mut defs);
        convert::register(&mut defs);
        conditional::register(&mut defs);
        ip::register(&mut defs);
        math::register(&mut defs);
        metric::register(&mut defs);
        mv::register(&mut defs);
        aggregate::register(&mut defs);
        let mut by_name = HashMap::new();
        for d in defs {
            let d = Arc::new(d);
            by_name.insert(d.sig.name.to_ascii_lowercase(), d.clone());
            for a in d.aliases {
                by_name.insert(a.to_ascii_lowercase(), d.clone());
            }
        }
        Registry { by_name }
    }

    /// The one registry; functions are stateless.
    pub fn global() -> &'static Registry {
        static R: OnceLock<Registry> = OnceLock::new();
        R.get_or_init(Registry::build)
    }

    pub fn get(&self, name: &str) -> Option<&Arc<FunctionDef>> {
        self.by_name.get(&name.to_ascii_lowercase())
    }

    /// Canonical names, sorted (for SHOW FUNCTIONS-like listings and docs); internal
    /// variants (named with a `$`, which no query can spell) are left out.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self
            .by_name
            .values()
            .map(|d| d.sig.name)
            .filter(|n| !n.contains('$'))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

impl Catalog for Registry {
    fn lookup(&self, name: &str) -> Option<Signature> {
        self.get(name).map(|d| d.sig.clone())
    }

    fn with_options(
        &self,
        name: &str,
        options: &[(String, esql::ast::Literal)],
    ) -> Result<&'static str, String> {
        match name {
            "TO_IP" => ip::to_ip_with_options(options).map_err(|e| e.0),
            _ => Err(format!(
                "function [{}] does not take named options",
                name.to_ascii_lowercase()
            )),
        }
    }
}
