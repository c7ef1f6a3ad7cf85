//! CloudTrail data as the engine's datasets — the bridge between the `cloudtrail` reader,
//! the `store` and the ES|QL `engine`, which know nothing of each other:
//!
//! * [`CloudTrailFiles`]: raw log files; the query's filters come down as the reader's
//!   literal prefilter and as day pruning of the delivery folders;
//! * [`StoreDataset`]: the Parquet store, through DataFusion's Parquet scan;
//! * the ES type of every CloudTrail column ([`es_type`], [`ecs_columns`]);
//! * what `METADATA _index` and `_id` are for CloudTrail ([`index_naming`], [`document_id`]);
//! * what the data spans ([`time_span`], for `--now latest`) and which delivery days a set of
//!   queries can read ([`query_days`], for pruning S3 listings before anything is fetched).

mod raw;
mod store;

pub use raw::{prefilter, CloudTrailFiles, RawSpec, RemoteObject, Reporter, S3Access};
pub use store::{store_dir, StoreDataset, DEFAULT_STORE};

use engine::{Dataset, DocumentId, EngineError, IndexNaming, Params, QueryOptions, TimeSpan};
use esql::{Column, DataType};
use sources::DayRange;
use std::sync::Arc;

/// The data stream name Elastic's integration writes CloudTrail to; `FROM
/// logs-aws.cloudtrail*` matches it.
pub const INDEX_NAME: &str = "logs-aws.cloudtrail-default";

/// `METADATA _index`: Elastic's integration writes to a data stream, so a document's
/// `_index` is the backing index of its `@timestamp` day (UTC),
/// `.ds-logs-aws.cloudtrail-default-2024.05.01-000001`; raw files and the store alike.
pub fn index_naming() -> IndexNaming {
    IndexNaming::DataStream {
        stream: INDEX_NAME.to_string(),
        time_field: engine::source::TIME_COLUMN.to_string(),
    }
}

/// `METADATA _id` (see `engine::metadata`): a hash of `event.id` — CloudTrail's eventID,
/// unique per event — and `@timestamp`, so the same event has the same id read raw or from
/// the store and in every run (CloudTrail may deliver an event twice: both copies get one
/// id, as one alert). An event without an eventID (hand-made or truncated records) is
/// told apart by the fields that identify a call — its request ID, API, caller and
/// origin — added to the hash; all are small columns, read only when `_id` is used.
pub fn document_id() -> DocumentId {
    DocumentId {
        key: vec!["event.id".into(), engine::source::TIME_COLUMN.into()],
        fallback: [
            "aws.cloudtrail.request_id",
            "event.provider",
            "event.action",
            "cloud.account.id",
            "cloud.region",
            "aws.cloudtrail.user_identity.arn",
            "source.address",
        ]
        .map(String::from)
        .to_vec(),
    }
}

/// Every CloudTrail column with its ES|QL type, as `FROM logs-aws.cloudtrail*` lists them
/// (raw files and the store alike).
pub fn ecs_columns() -> Vec<Column> {
    cloudtrail::ecs_fields()
        .iter()
        .map(|f| Column {
            name: f.name.to_string(),
            ty: es_type(&f.es_type),
        })
        .collect()
}

/// ES|QL type of a CloudTrail field.
pub fn es_type(t: &cloudtrail::EsType) -> DataType {
    match t {
        cloudtrail::EsType::Keyword => DataType::Keyword,
        cloudtrail::EsType::Text => DataType::Text,
        cloudtrail::EsType::Long => DataType::Long,
        cloudtrail::EsType::Boolean => DataType::Boolean,
        cloudtrail::EsType::Date => DataType::Date,
        cloudtrail::EsType::Ip => DataType::Ip,
        _ => DataType::Unsupported,
    }
}

/// How many events the data holds and their oldest and newest `@timestamp`.
pub fn time_span(dataset: Arc<dyn Dataset>, opts: &QueryOptions) -> Result<TimeSpan, EngineError> {
    engine::time_span_blocking(dataset, opts)
}

/// `--now latest`: the newest event's time. `None` when the data holds no event.
pub fn latest_event(
    dataset: Arc<dyn Dataset>,
    opts: &QueryOptions,
) -> Result<Option<i64>, EngineError> {
    Ok(time_span(dataset, opts)?.last)
}

/// The delivery days a set of queries can read, from the `@timestamp` bounds their filters
/// put on the CloudTrail data at `NOW() = now_ms` (constant-folded as DataFusion pushes
/// them down). Open when any query is unbounded or does not plan (a query that does not
/// plan is reported when it runs; it prunes nothing here).
pub fn query_days(queries: &[&str], params: &Params, now_ms: i64) -> DayRange {
    if queries.is_empty() {
        return DayRange::default();
    }
    let schema_only: Arc<dyn Dataset> = Arc::new(CloudTrailFiles::new(vec![], false));
    let opts = QueryOptions {
        now_ms,
        ..QueryOptions::default()
    };
    let (mut min, mut max) = (Some(i64::MAX), Some(i64::MIN));
    for q in queries {
        let (lo, hi) = engine::time_bounds(q, params, std::slice::from_ref(&schema_only), &opts)
            .unwrap_or((None, None));
        min = min.zip(lo).map(|(a, b)| a.min(b));
        max = max.zip(hi).map(|(a, b)| a.max(b));
    }
    DayRange::from_millis(min, max)
}
