//! Lookup tables for `LOOKUP JOIN` and `ENRICH`, registered on the command line:
//! `--lookup NAME=FILE` (a lookup index) and `--enrich NAME=FILE:MATCH_FIELD` (an enrich
//! policy). Files are CSV (header `name` or `name:type`), NDJSON (types from the JSON
//! values) or Parquet (types from the schema), recognised by extension. Tables are loaded
//! whole into memory: lookup indices are small by nature.

use crate::source::{column_indices, BatchIter, Dataset, DatasetError};
use crate::value::{build_array, Value};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use esql::{Column, DataType};
use std::path::Path;
use std::sync::Arc;

/// Why a lookup table could not be loaded; every message names the file (and line).
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("{flag} expects {expected}, got [{spec}]")]
    BadSpec {
        flag: &'static str,
        expected: &'static str,
        spec: String,
    },
    #[error("{path}: unsupported lookup file type [.{ext}] (use .csv, .ndjson or .parquet)")]
    UnsupportedType { path: String, ext: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("--enrich {policy}: {path} has no column [{field}]")]
    NoMatchField {
        policy: String,
        path: String,
        field: String,
    },
    #[error("reading {path}: {error}")]
    Io {
        path: String,
        #[source]
        error: std::io::Error,
    },
    #[error("{path}: {error}")]
    Parquet {
        path: String,
        #[source]
        error: datafusion::parquet::errors::ParquetError,
    },
    #[error("{path}: {error}")]
    Arrow {
        path: String,
        #[source]
        error: datafusion::arrow::error::ArrowError,
    },
}

type Result<T, E = LookupError> = std::result::Result<T, E>;

fn invalid(path: &Path, message: impl Into<String>) -> LookupError {
    LookupError::Invalid {
        path: path.display().to_string(),
        message: message.into(),
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|error| LookupError::Io {
        path: path.display().to_string(),
        error,
    })
}

pub struct LookupTable {
    name: String,
    columns: Vec<Column>,
    schema: SchemaRef,
    batch: RecordBatch,
    match_field: Option<String>,
}

impl Dataset for LookupTable {
    fn name(&self) -> &str {
        &self.name
    }

    fn columns(&self) -> Vec<Column> {
        self.columns.clone()
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn scan(&self, columns: &[String]) -> Result<BatchIter, DatasetError> {
        let idx = column_indices(&self.schema, columns)?;
        let b = self.batch.project(&idx)?;
        Ok(Box::new(std::iter::once(Ok(b))))
    }

    fn enrich_match_field(&self) -> Option<String> {
        self.match_field.clone()
    }
}

/// `NAME=FILE` → a lookup index.
pub fn parse_lookup(spec: &str) -> Result<LookupTable> {
    let (name, file) = spec.split_once('=').ok_or_else(|| LookupError::BadSpec {
        flag: "--lookup",
        expected: "NAME=FILE",
        spec: spec.to_string(),
    })?;
    load(name, Path::new(file), None)
}

/// `NAME=FILE:MATCH_FIELD` → an enrich policy.
pub fn parse_enrich(spec: &str) -> Result<LookupTable> {
    let bad = || LookupError::BadSpec {
        flag: "--enrich",
        expected: "NAME=FILE:MATCH_FIELD",
        spec: spec.to_string(),
    };
    let (name, rest) = spec.split_once('=').ok_or_else(bad)?;
    let (file, field) = rest.rsplit_once(':').ok_or_else(bad)?;
    let t = load(name, Path::new(file), Some(field.to_string()))?;
    if !t.columns.iter().any(|c| c.name == field) {
        return Err(LookupError::NoMatchField {
            policy: name.to_string(),
            path: file.to_string(),
            field: field.to_string(),
        });
    }
    Ok(t)
}

fn load(name: &str, path: &Path, match_field: Option<String>) -> Result<LookupTable> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (names, types, rows) = match ext.as_str() {
        "csv" => read_csv(path)?,
        "ndjson" | "jsonl" | "json" => read_ndjson(path)?,
        "parquet" => return read_parquet(name, path, match_field),
        other => {
            return Err(LookupError::UnsupportedType {
                path: path.display().to_string(),
                ext: other.to_string(),
            })
        }
    };
    build(name, names, types, rows, match_field)
}

fn build(
    name: &str,
    names: Vec<String>,
    types: Vec<DataType>,
    rows: Vec<Vec<Value>>,
    match_field: Option<String>,
) -> Result<LookupTable> {
    let mut fields = vec![];
    let mut arrays = vec![];
    let mut columns = vec![];
    for (i, (n, t)) in names.iter().zip(&types).enumerate() {
        let values: Vec<Value> = rows
            .iter()
            .map(|r| r.get(i).cloned().unwrap_or(Value::Null))
            .collect();
        let multi = values.iter().any(|v| matches!(v, Value::Multi(_)));
        let arr = build_array(*t, multi, &values);
        fields.push(Field::new(n, arr.data_type().clone(), true));
        arrays.push(arr);
        columns.push(Column {
            name: n.clone(),
            ty: *t,
        });
    }
    let schema = Arc::new(Schema::new(fields));
    let batch =
        RecordBatch::try_new(schema.clone(), arrays).map_err(|error| LookupError::Arrow {
            path: name.to_string(),
            error,
        })?;
    Ok(LookupTable {
        name: name.to_string(),
        columns,
        schema,
        batch,
        match_field,
    })
}

fn cell(text: &str, t: DataType) -> Value {
    let s = text.trim();
    if s.is_empty() {
        return Value::Null;
    }
    match t {
        DataType::Integer => s.parse().map(Value::Int).unwrap_or(Value::Null),
        DataType::Long => s.parse().map(Value::Long).unwrap_or(Value::Null),
        DataType::Double => s.parse().map(Value::Double).unwrap_or(Value::Null),
        DataType::Boolean => Value::Bool(s.eq_ignore_ascii_case("true")),
        DataType::Date => javatime::parse_strict_date_optional_time(s)
            .map(Value::Date)
            .unwrap_or(Value::Null),
        DataType::Ip => crate::functions::convert::parse_ip(s)
            .map(Value::Str)
            .unwrap_or(Value::Null),
        _ => Value::Str(s.to_string()),
    }
}

/// Splits a CSV line (RFC 4180 quotes).
fn csv_line(line: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

type Table = (Vec<String>, Vec<DataType>, Vec<Vec<Value>>);

fn read_csv(path: &Path) -> Result<Table> {
    let text = read_text(path)?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or_else(|| invalid(path, "empty CSV"))?;
    let mut names = vec![];
    let mut types = vec![];
    for h in csv_line(header) {
        match h.rsplit_once(':') {
            Some((n, t)) if DataType::from_name(t.trim()).is_some() => {
                names.push(n.trim().to_string());
                types.push(DataType::from_name(t.trim()).unwrap_or(DataType::Keyword));
            }
            _ => {
                names.push(h.trim().to_string());
                types.push(DataType::Keyword);
            }
        }
    }
    let mut rows = vec![];
    for (i, line) in lines.enumerate() {
        let cells = csv_line(line);
        if cells.len() != names.len() {
            return Err(LookupError::Invalid {
                path: format!("{}:{}", path.display(), i + 2),
                message: format!("expected {} fields, found {}", names.len(), cells.len()),
            });
        }
        rows.push(cells.iter().zip(&types).map(|(c, t)| cell(c, *t)).collect());
    }
    Ok((names, types, rows))
}

fn read_ndjson(path: &Path) -> Result<Table> {
    let text = read_text(path)?;
    let mut names: Vec<String> = vec![];
    let mut types: Vec<DataType> = vec![];
    let mut objects = vec![];
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| LookupError::Invalid {
                path: at(),
                message: format!("invalid JSON: {e}"),
            })?;
        let serde_json::Value::Object(m) = v else {
            return Err(LookupError::Invalid {
                path: at(),
                message: "expected a JSON object".into(),
            });
        };
        for (k, v) in &m {
            let t = match v {
                serde_json::Value::Bool(_) => DataType::Boolean,
                serde_json::Value::Number(n) if n.is_i64() => DataType::Long,
                serde_json::Value::Number(_) => DataType::Double,
                serde_json::Value::Null => continue,
                _ => DataType::Keyword,
            };
            match names.iter().position(|n| n == k) {
                Some(p) if types[p] != t => {
                    types[p] = if types[p] == DataType::Long && t == DataType::Double {
                        t
                    } else {
                        DataType::Keyword
                    }
                }
                Some(_) => {}
                None => {
                    names.push(k.clone());
                    types.push(t);
                }
            }
        }
        objects.push(m);
    }
    let rows = objects
        .iter()
        .map(|m| {
            names
                .iter()
                .zip(&types)
                .map(|(n, t)| match m.get(n) {
                    None | Some(serde_json::Value::Null) => Value::Null,
                    Some(serde_json::Value::String(s)) => cell(s, *t),
                    Some(other) => cell(&other.to_string(), *t),
                })
                .collect()
        })
        .collect();
    Ok((names, types, rows))
}

fn read_parquet(name: &str, path: &Path, match_field: Option<String>) -> Result<LookupTable> {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let pq = |error| LookupError::Parquet {
        path: path.display().to_string(),
        error,
    };
    let file = std::fs::File::open(path).map_err(|error| LookupError::Io {
        path: path.display().to_string(),
        error,
    })?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(pq)?;
    let mut rows: Vec<Vec<Value>> = vec![];
    let mut schema = None;
    for batch in reader {
        let batch = batch.map_err(|error| LookupError::Arrow {
            path: path.display().to_string(),
            error,
        })?;
        schema.get_or_insert(batch.schema());
        for i in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| crate::value::value_at(c.as_ref(), i))
                    .collect(),
            );
        }
    }
    let schema = schema.ok_or_else(|| invalid(path, "no rows"))?;
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let types: Vec<DataType> = schema
        .fields()
        .iter()
        .map(|f| {
            use datafusion::arrow::datatypes::DataType as A;
            let t = match f.data_type() {
                A::List(inner) => inner.data_type().clone(),
                other => other.clone(),
            };
            match t {
                A::Int32 => DataType::Integer,
                A::Int8 | A::Int16 | A::Int64 | A::UInt8 | A::UInt16 | A::UInt32 => DataType::Long,
                A::UInt64 => DataType::UnsignedLong,
                A::Float32 | A::Float64 => DataType::Double,
                A::Boolean => DataType::Boolean,
                A::Timestamp(_, _) => DataType::Date,
                _ => DataType::Keyword,
            }
        })
        .collect();
    build(name, names, types, rows, match_field)
}
