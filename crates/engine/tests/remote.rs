//! `engine::remote`: a runner that does what a cluster process does — plan the query again
//! from its text and the datasets' shapes, and swap every ES|QL function of the plan for
//! the one with the same key from the new plan — gives the same columns, rows and
//! warnings as a local run, and the new functions' warnings reach the query's collector.

use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::prelude::SessionContext;
use engine::remote::{query_functions, FunctionKey, Remote, RemoteJob, RemoteRunner};
use engine::{execute_blocking, Dataset, EngineError, MemoryDataset, QueryOptions, Warnings};
use esql::{Column, DataType};
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn dataset() -> Arc<dyn Dataset> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("event.action", ArrowType::Utf8, true),
        Field::new("n", ArrowType::Int64, true),
        Field::new("s", ArrowType::Utf8, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![
            Some("StopLogging"),
            Some("DeleteTrail"),
            None,
            Some("StopLogging"),
        ])),
        Arc::new(Int64Array::from(vec![
            Some(1),
            Some(i64::MAX),
            None,
            Some(-4),
        ])),
        Arc::new(StringArray::from(vec![
            Some("12"),
            Some("x"),
            Some("3.5"),
            Some("not a number"),
        ])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let col = |name: &str, ty| Column {
        name: name.into(),
        ty,
    };
    Arc::new(MemoryDataset {
        name: "logs-aws.cloudtrail-default".into(),
        columns: vec![
            col("event.action", DataType::Keyword),
            col("n", DataType::Long),
            col("s", DataType::Keyword),
        ],
        batches: vec![batch],
        schema,
    })
}

/// Plans again, swaps the functions, runs in a fresh session.
struct Replanning {
    swapped: AtomicUsize,
}

impl RemoteRunner for Replanning {
    fn describe(&self) -> String {
        "replanning".into()
    }

    fn run<'a>(
        &'a self,
        plan: LogicalPlan,
        job: RemoteJob<'a>,
    ) -> BoxFuture<'a, Result<Vec<RecordBatch>, EngineError>> {
        Box::pin(async move {
            let sink = job.warnings.clone();
            let remote_warnings =
                Warnings::forwarding(move |site, message| sink.failure(site, message));
            let functions: HashMap<FunctionKey, _> = query_functions(
                job.query,
                job.params,
                job.datasets,
                job.now_ms,
                job.time_filter.clone(),
                &remote_warnings,
            )?
            .into_iter()
            .collect();
            let plan = plan
                .transform_up(|node| {
                    node.map_expressions(|e| {
                        e.transform_up(|e| match e {
                            Expr::ScalarFunction(mut f)
                                if engine::remote::is_engine_function(&f.func) =>
                            {
                                let key = FunctionKey::of(&f.func);
                                let other = functions.get(&key).unwrap_or_else(|| {
                                    panic!("{key:?} is not in the plan made again")
                                });
                                assert!(!Arc::ptr_eq(other, &f.func));
                                self.swapped.fetch_add(1, Ordering::Relaxed);
                                f.func = other.clone();
                                Ok(Transformed::yes(Expr::ScalarFunction(f)))
                            }
                            other => Ok(Transformed::no(other)),
                        })
                    })
                })
                .map_err(|e| EngineError::Execution(e.to_string()))?
                .data;
            let df = SessionContext::new()
                .execute_logical_plan(plan)
                .await
                .map_err(|e| EngineError::Execution(e.to_string()))?;
            df.collect()
                .await
                .map_err(|e| EngineError::Execution(e.to_string()))
        })
    }
}

#[test]
fn a_plan_whose_functions_are_rebuilt_elsewhere_gives_the_same_rows_and_warnings() {
    let queries = [
        // Conversions that fail on some rows: warnings at two sites.
        "FROM logs-aws.cloudtrail* | EVAL a = TO_LONG(s), b = TO_DOUBLE(s) | KEEP a, b",
        // Overflow in arithmetic, a multi-value, string functions.
        "FROM logs-aws.cloudtrail* | EVAL m = n + 1, l = LENGTH(event.action), c = CONCAT(event.action, \"-\", s) | KEEP m, l, c",
        // Aggregates whose finish is an ES|QL function, and METADATA.
        "FROM logs-aws.cloudtrail* METADATA _index, _id | STATS k = COUNT_DISTINCT(s), v = VALUES(event.action), ids = COUNT_DISTINCT(_id) BY idx = _index",
        "FROM logs-aws.cloudtrail* | EVAL parts = SPLIT(s, \".\") | MV_EXPAND parts | EVAL p = TO_INTEGER(parts) | STATS n = COUNT(*) BY p | SORT p",
        "ROW a = [1, 2, 3] | EVAL b = MV_SUM(a) + TO_LONG(\"x\")",
    ];
    for q in queries {
        let local = execute_blocking(q, &[dataset()], &QueryOptions::default())
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        let runner = Arc::new(Replanning {
            swapped: AtomicUsize::new(0),
        });
        let opts = QueryOptions {
            remote: Some(Remote(runner.clone())),
            ..QueryOptions::default()
        };
        let remote =
            execute_blocking(q, &[dataset()], &opts).unwrap_or_else(|e| panic!("{q}: {e}"));
        assert!(
            runner.swapped.load(Ordering::Relaxed) > 0,
            "{q}: no function was rebuilt"
        );
        assert_eq!(
            format!("{:?}", local.columns),
            format!("{:?}", remote.columns),
            "{q}"
        );
        assert_eq!(
            format!("{:?}", local.rows),
            format!("{:?}", remote.rows),
            "{q}"
        );
        assert_eq!(local.warnings, remote.warnings, "{q}");
    }
    // The first query does warn, so the comparison above covered forwarded warnings.
    let r = execute_blocking(queries[0], &[dataset()], &QueryOptions::default()).unwrap();
    assert!(r.warnings.len() >= 4, "{:?}", r.warnings);
}

#[test]
fn function_keys_are_unique_in_a_plan() {
    let q = "FROM logs-aws.cloudtrail* METADATA _id | EVAL a = TO_LONG(s), b = TO_LONG(s), c = MV_MIN(SPLIT(s, \".\")), d = MV_MAX(SPLIT(s, \".\")) | STATS x = COUNT_DISTINCT(a), y = MEDIAN(b) BY c, d";
    let fs = query_functions(
        q,
        &Default::default(),
        &[dataset()],
        0,
        None,
        &Warnings::new(),
    )
    .unwrap();
    // The same instance may sit in several places of a plan; two instances never share a key.
    let mut seen: HashMap<FunctionKey, *const datafusion::logical_expr::ScalarUDF> = HashMap::new();
    for (k, f) in &fs {
        if engine::remote::is_engine_function(f) {
            assert!(
                k.ordinal.is_some() || k.name.starts_with("metadata_"),
                "{k:?}"
            );
            let ptr = Arc::as_ptr(f);
            assert_eq!(
                *seen.entry(k.clone()).or_insert(ptr),
                ptr,
                "{k:?} names two functions"
            );
        }
    }
    assert!(seen.len() >= 5, "{seen:?}");
}
