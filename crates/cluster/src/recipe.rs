//! What another process needs to plan a query again and so rebuild its functions
//! (`engine::remote`): the query, its `NOW()`, its time filter and a description of each
//! dataset (names, columns, schema, index naming, document ids). No data.

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion_proto::protobuf;
use engine::remote::RemoteJob;
use engine::{BatchIter, Dataset, DatasetError, DocumentId, IndexNaming, TimeFilter};
use prost::Message;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recipe {
    pub query: String,
    pub now_ms: i64,
    pub time_filter: Option<(String, i64, i64)>,
    pub datasets: Vec<DatasetShape>,
}

/// A dataset as planning sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DatasetShape {
    pub name: String,
    /// (name, ES|QL type name).
    pub columns: Vec<(String, String)>,
    /// The Arrow schema, as DataFusion's protobuf, in hex.
    pub schema: String,
    /// `Index(name)` or a data stream `(stream, time field)`.
    pub index: Option<String>,
    pub stream: Option<(String, String)>,
    pub id_key: Vec<String>,
    pub id_fallback: Vec<String>,
    pub enrich_match_field: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    #[error("query parameters are not supported on a cluster yet: put the values in the query")]
    Params,
    #[error("the schema of dataset [{0}] cannot be sent to the cluster: {1}")]
    Schema(String, String),
    #[error("a cluster process sent a query description it cannot read: {0}")]
    Damaged(String),
}

impl Recipe {
    pub fn of(job: &RemoteJob<'_>) -> Result<Recipe, RecipeError> {
        if !job.params.is_empty() {
            return Err(RecipeError::Params);
        }
        let datasets = job
            .datasets
            .iter()
            .map(|d| shape(d.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Recipe {
            query: job.query.to_string(),
            now_ms: job.now_ms,
            time_filter: job
                .time_filter
                .as_ref()
                .map(|t| (t.field.clone(), t.from_ms, t.to_ms)),
            datasets,
        })
    }

    /// Datasets with the same shapes and no rows, to plan against.
    pub fn datasets(&self) -> Result<Vec<Arc<dyn Dataset>>, RecipeError> {
        self.datasets
            .iter()
            .map(|s| Ok(Arc::new(ShapeOnly::new(s.clone())?) as Arc<dyn Dataset>))
            .collect()
    }

    pub fn time_filter(&self) -> Option<TimeFilter> {
        self.time_filter
            .as_ref()
            .map(|(field, from_ms, to_ms)| TimeFilter {
                field: field.clone(),
                from_ms: *from_ms,
                to_ms: *to_ms,
            })
    }
}

fn shape(d: &dyn Dataset) -> Result<DatasetShape, RecipeError> {
    let schema = d.schema();
    let proto = protobuf::Schema::try_from(schema.as_ref())
        .map_err(|e| RecipeError::Schema(d.name().to_string(), e.to_string()))?;
    let (index, stream) = match d.index_naming() {
        IndexNaming::Index(name) => (Some(name), None),
        IndexNaming::DataStream { stream, time_field } => (None, Some((stream, time_field))),
    };
    let id = d.document_id();
    Ok(DatasetShape {
        name: d.name().to_string(),
        columns: d
            .columns()
            .into_iter()
            .map(|c| (c.name, c.ty.name().to_string()))
            .collect(),
        schema: hex(&proto.encode_to_vec()),
        index,
        stream,
        id_key: id.key,
        id_fallback: id.fallback,
        enrich_match_field: d.enrich_match_field(),
    })
}

/// A dataset that is only its shape: planning against it builds the same plan (and the
/// same functions) as against the data it describes; scanning it is an error.
struct ShapeOnly {
    shape: DatasetShape,
    columns: Vec<esql::Column>,
    schema: SchemaRef,
}

impl ShapeOnly {
    fn new(shape: DatasetShape) -> Result<ShapeOnly, RecipeError> {
        let damaged = |what: String| RecipeError::Damaged(what);
        let bytes = unhex(&shape.schema).ok_or_else(|| damaged("schema is not hex".into()))?;
        let proto = protobuf::Schema::decode(bytes.as_slice())
            .map_err(|e| damaged(format!("schema: {e}")))?;
        let schema = Schema::try_from(&proto).map_err(|e| damaged(format!("schema: {e}")))?;
        let columns = shape
            .columns
            .iter()
            .map(|(name, ty)| {
                esql::DataType::from_name(ty)
                    .map(|ty| esql::Column {
                        name: name.clone(),
                        ty,
                    })
                    .ok_or_else(|| damaged(format!("column [{name}] has unknown type [{ty}]")))
            })
            .collect::<Result<_, _>>()?;
        Ok(ShapeOnly {
            shape,
            columns,
            schema: Arc::new(schema),
        })
    }
}

impl Dataset for ShapeOnly {
    fn name(&self) -> &str {
        &self.shape.name
    }

    fn columns(&self) -> Vec<esql::Column> {
        self.columns.clone()
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn scan(&self, _columns: &[String]) -> Result<BatchIter, DatasetError> {
        Err(DatasetError::source(RecipeError::Damaged(format!(
            "dataset [{}] was described for planning only and has no rows here",
            self.shape.name
        ))))
    }

    fn enrich_match_field(&self) -> Option<String> {
        self.shape.enrich_match_field.clone()
    }

    fn index_naming(&self) -> IndexNaming {
        match (&self.shape.index, &self.shape.stream) {
            (_, Some((stream, time_field))) => IndexNaming::DataStream {
                stream: stream.clone(),
                time_field: time_field.clone(),
            },
            (Some(name), None) => IndexNaming::Index(name.clone()),
            (None, None) => IndexNaming::Index(self.shape.name.clone()),
        }
    }

    fn document_id(&self) -> DocumentId {
        DocumentId {
            key: self.shape.id_key.clone(),
            fallback: self.shape.id_fallback.clone(),
        }
    }
}

/// An Arrow schema as DataFusion's protobuf, in hex.
pub(crate) fn schema_to_hex(schema: &Schema) -> datafusion::common::Result<String> {
    let proto = protobuf::Schema::try_from(schema)
        .map_err(|e| datafusion::common::DataFusionError::Internal(e.to_string()))?;
    Ok(hex(&proto.encode_to_vec()))
}

pub(crate) fn schema_from_hex(text: &str) -> datafusion::common::Result<SchemaRef> {
    let bad = |m: String| {
        datafusion::common::DataFusionError::Internal(format!("unreadable schema: {m}"))
    };
    let bytes = unhex(text).ok_or_else(|| bad("not hex".into()))?;
    let proto = protobuf::Schema::decode(bytes.as_slice()).map_err(|e| bad(e.to_string()))?;
    Ok(Arc::new(
        Schema::try_from(&proto).map_err(|e| bad(e.to_string()))?,
    ))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};

    #[test]
    fn hex_round_trips_and_rejects_what_is_not_hex() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&bytes)).unwrap(), bytes);
        assert_eq!(hex(&[0x0f, 0xa0]), "0fa0");
        assert_eq!(unhex("abc"), None, "odd length");
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é0"), None, "not ASCII");
        assert_eq!(unhex("").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn schemas_travel_with_their_types_and_metadata() {
        let field = Field::new("user.name", DataType::Utf8, true).with_metadata(
            [("es_type".to_string(), "keyword".to_string())]
                .into_iter()
                .collect(),
        );
        let schema = Schema::new(vec![
            field,
            Field::new(
                "@timestamp",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
            Field::new(
                "related.ip",
                DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
                true,
            ),
        ]);
        let back = schema_from_hex(&schema_to_hex(&schema).unwrap()).unwrap();
        assert_eq!(back.as_ref(), &schema);
        let err = schema_from_hex("0g").unwrap_err().to_string();
        assert!(err.contains("unreadable schema"), "{err}");
    }
}
