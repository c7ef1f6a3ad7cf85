//! Running a query's plan somewhere else: on an Apache DataFusion Ballista cluster (crate
//! `cluster`). The engine plans as always; a [`RemoteRunner`] executes the logical plan.
//!
//! A plan sent to other processes names its functions, but ES|QL's functions are not
//! DataFusion's registered ones: each call is its own instance (its kernel, its types, its
//! position in the query for warnings, the query's warning collector). So the other
//! processes plan the same query again from the same inputs ([`query_functions`]) and take
//! each function from there by its [`FunctionKey`]: the same planner code builds the same
//! functions, with nothing to keep in sync by hand.

use crate::{logical_plan, Dataset, EngineError, QueryOptions, TimeFilter, Warnings};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, LogicalPlan, ScalarUDF};
use esql::Params;
use futures::future::BoxFuture;
use std::sync::Arc;

/// Executes logical plans that [`crate::execute`] planned.
pub trait RemoteRunner: Send + Sync {
    /// Where the plans go (`df://host:port`), for messages.
    fn describe(&self) -> String;
    /// Runs `plan` and returns its batches; failures of the functions on the other side
    /// must reach `job.warnings`.
    fn run<'a>(
        &'a self,
        plan: LogicalPlan,
        job: RemoteJob<'a>,
    ) -> BoxFuture<'a, Result<Vec<RecordBatch>, EngineError>>;
}

/// What a remote process needs to plan the query again ([`query_functions`]).
pub struct RemoteJob<'a> {
    pub query: &'a str,
    pub params: &'a Params,
    pub datasets: &'a [Arc<dyn Dataset>],
    pub now_ms: i64,
    pub time_filter: Option<TimeFilter>,
    /// The query's warnings: what the remote functions report goes here.
    pub warnings: &'a Warnings,
}

/// A [`RemoteRunner`] in [`QueryOptions`].
#[derive(Clone)]
pub struct Remote(pub Arc<dyn RemoteRunner>);

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Remote({})", self.0.describe())
    }
}

/// How a function of a planned query is found again when the query is planned again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FunctionKey {
    /// The function's name (ES|QL functions carry their position: `TO_LONG@3:10`).
    pub name: String,
    /// Its number in planning order, for ES|QL functions.
    pub ordinal: Option<u32>,
}

impl FunctionKey {
    pub fn of(udf: &ScalarUDF) -> FunctionKey {
        let any: &dyn std::any::Any = udf.inner().as_ref();
        let ordinal = any
            .downcast_ref::<crate::udf::RowUdf>()
            .map(|r| r.ordinal());
        FunctionKey {
            name: udf.name().to_string(),
            ordinal,
        }
    }
}

/// Whether `udf` was made by this engine's planner (and so must be found again by
/// [`query_functions`] on the other side), rather than being one of DataFusion's own
/// functions, which every process has by name.
pub fn is_engine_function(udf: &ScalarUDF) -> bool {
    let any: &dyn std::any::Any = udf.inner().as_ref();
    any.is::<crate::udf::RowUdf>() || crate::metadata::is_metadata_function(udf)
}

/// Plans `query` again, as [`crate::execute`] did, and returns every function instance in
/// the plan with its key. `datasets` need only describe the data (names, columns, schema,
/// index naming, document ids): nothing is read. Functions report their failures to
/// `warnings`.
pub fn query_functions(
    query: &str,
    params: &Params,
    datasets: &[Arc<dyn Dataset>],
    now_ms: i64,
    time_filter: Option<TimeFilter>,
    warnings: &Warnings,
) -> Result<Vec<(FunctionKey, Arc<ScalarUDF>)>, EngineError> {
    let opts = QueryOptions {
        now_ms,
        time_filter,
        ..QueryOptions::default()
    };
    let (_, plan) =
        crate::with_query_stack(|| logical_plan(query, params, datasets, &opts, warnings))??;
    let mut out = vec![];
    let _ = plan.apply(|node| {
        let _ = node.apply_expressions(|e| {
            e.apply(|e| {
                if let Expr::ScalarFunction(f) = e {
                    out.push((FunctionKey::of(&f.func), f.func.clone()));
                }
                Ok(TreeNodeRecursion::Continue)
            })
        });
        Ok(TreeNodeRecursion::Continue)
    });
    Ok(out)
}
