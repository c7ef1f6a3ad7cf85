//! Lookup tables for `LOOKUP JOIN` and `ENRICH`, registered on the command line:
//! `--lookup NAME=FILE` (a lookup index) and `--enrich NAME=FILE:MATCH_FIELD` (an enrich
//! policy). Files are CSV (header `name` or `name:type`), NDJSON (types from the JSON
//! values) or Parquet (types from the schema), recognised by extension. Tables are loaded
//! whole into memory: lookup indices are small by nature.

use crate::source::{BatchIter, Dataset, DatasetError, MemoryDataset};
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

/// A table loaded into memory ([`MemoryDataset`]), usable by `LOOKUP JOIN` and, with a
/// match field, as an `ENRICH` policy.
pub struct LookupTable {
    table: MemoryDataset,
    match_field: Option<String>,
}

impl Dataset for LookupTable {
    fn name(&self) -> &str {
        self.table.name()
    }

    fn columns(&self) -> Vec<Column> {
        self.table.columns()
    }

    fn schema(&self) -> SchemaRef {
        self.table.schema()
    }

    fn scan(&self, columns: &[String]) -> Result<BatchIter, DatasetError> {
        self.table.scan(columns)
    }

    fn enrich_match_field(&self) -> Option<String> {
        self.match_field.clone()
    }

    fn in_memory(&self) -> bool {
        true
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
    if !t.table.columns.iter().any(|c| c.name == field) {
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
        "csv" => read_csv_table(path, &CsvOptions::default())?,
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
        table: MemoryDataset {
            name: name.to_string(),
            columns,
            batches: vec![batch],
            schema,
        },
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

type Table = (Vec<String>, Vec<DataType>, Vec<Vec<Value>>);

/// How [`read_csv`] reads a file beyond its header.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvOptions<'a> {
    /// `(column, type)` pairs that replace the header's type (the csv-spec suites load one
    /// file under several mappings).
    pub type_overrides: &'a [(&'a str, &'a str)],
    /// List the columns sorted by name, as `FROM` does for an index (else file order).
    pub sort_columns: bool,
}

/// A column type as written in a CSV header (`name:type`): Elasticsearch mapping types
/// (`short`, `half_float`, …) and ES|QL type names; how a value is read back ("flavour")
/// follows the mapping's stored precision. Unknown types read as keyword.
fn csv_column_type(t: &str) -> (DataType, &'static str) {
    match t.trim() {
        "keyword" | "string" => (DataType::Keyword, "keyword"),
        "text" => (DataType::Text, "text"),
        "integer" | "short" | "byte" => (DataType::Integer, "int"),
        "long" => (DataType::Long, "long"),
        "unsigned_long" => (DataType::UnsignedLong, "ul"),
        "double" => (DataType::Double, "double"),
        "float" => (DataType::Double, "float"),
        "half_float" => (DataType::Double, "half_float"),
        "scaled_float" => (DataType::Double, "scaled_float"),
        "boolean" => (DataType::Boolean, "bool"),
        "date" => (DataType::Date, "date"),
        "ip" => (DataType::Ip, "ip"),
        "version" => (DataType::Version, "version"),
        other => match DataType::from_name(other) {
            Some(t) => (t, "keyword"),
            None => (DataType::Unsupported, "unsupported"),
        },
    }
}

/// Splits a CSV line on commas outside quotes and `[…]` multi-values; `\,` is a literal
/// comma and `""` inside quotes a literal quote.
fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let (mut depth, mut quoted) = (0i32, false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                cur.push(',');
                chars.next();
            }
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            '[' if !quoted => {
                depth += 1;
                cur.push(c);
            }
            ']' if !quoted => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth <= 0 && !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// IEEE 754 binary16 rounding, as ES's half_float mapping stores values.
fn half_float(d: f64) -> f64 {
    if d == 0.0 || !d.is_finite() {
        return d;
    }
    let exp = d.abs().log2().floor().max(-14.0);
    let quantum = 2f64.powf(exp - 10.0);
    (d / quantum).round() * quantum
}

/// One value of a cell; empty and `null` are null.
fn csv_scalar(text: &str, t: DataType, flavour: &str) -> Value {
    let s = text.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    match t {
        DataType::Integer => s.parse().map(Value::Int).unwrap_or(Value::Null),
        DataType::Long => s.parse().map(Value::Long).unwrap_or(Value::Null),
        DataType::UnsignedLong => s.parse().map(Value::UnsignedLong).unwrap_or(Value::Null),
        DataType::Double => match s.parse::<f64>() {
            // ES reads these mapping types back at their stored precision.
            Ok(d) => Value::Double(match flavour {
                "float" => d as f32 as f64,
                "half_float" => half_float(d),
                "scaled_float" => (d * 100.0).round() / 100.0,
                _ => d,
            }),
            Err(_) => Value::Null,
        },
        DataType::Boolean => Value::Bool(s.eq_ignore_ascii_case("true")),
        DataType::Date => javatime::parse_strict_date_optional_time(s)
            .map(Value::Date)
            .unwrap_or(Value::Null),
        DataType::Ip => {
            Value::Str(crate::functions::convert::parse_ip(s).unwrap_or_else(|| s.to_string()))
        }
        _ => Value::Str(s.to_string()),
    }
}

/// The IP ordering of doc values (IPv4 as IPv4-mapped IPv6).
fn ip_sort_key(v: &Value) -> [u8; 16] {
    match v {
        Value::Str(s) => match s.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(v4)) => v4.to_ipv6_mapped().octets(),
            Ok(std::net::IpAddr::V6(v6)) => v6.octets(),
            Err(_) => [0xff; 16],
        },
        _ => [0; 16],
    }
}

/// A cell: a value, or `[a, b, …]` — a multi-value in doc-values order (sorted; keyword-like
/// types also de-duplicated), as Elasticsearch would return it.
fn csv_cell(text: &str, t: DataType, flavour: &str) -> Value {
    let s = text.trim();
    if let Some(inner) = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        let mut values: Vec<Value> = split_csv_line(inner)
            .iter()
            .map(|v| csv_scalar(v, t, flavour))
            .filter(|v| !v.is_null())
            .collect();
        values.sort_by(crate::value::cmp_values);
        if matches!(
            t,
            DataType::Keyword | DataType::Text | DataType::Ip | DataType::Version
        ) {
            if t == DataType::Ip {
                values.sort_by_key(ip_sort_key);
            }
            values.dedup();
        }
        return Value::from_values(values);
    }
    csv_scalar(s, t, flavour)
}

/// Reads a CSV lookup table (header `name` or `name:type`; blank lines ignored) as a
/// dataset named `name`. This is the one CSV reader: `--lookup`/`--enrich` files and the
/// csv-spec suites' data sets both go through it.
pub fn read_csv(name: &str, path: &Path, opts: &CsvOptions) -> Result<LookupTable> {
    let (names, types, rows) = read_csv_table(path, opts)?;
    let mut order: Vec<usize> = (0..names.len()).collect();
    if opts.sort_columns {
        order.sort_by(|a, b| names[*a].cmp(&names[*b]));
    }
    let pick = |i: &usize| (names[*i].clone(), types[*i]);
    let (names, types): (Vec<_>, Vec<_>) = order.iter().map(pick).unzip();
    let rows = rows
        .into_iter()
        .map(|r| order.iter().map(|i| r[*i].clone()).collect())
        .collect();
    build(name, names, types, rows, None)
}

fn read_csv_table(path: &Path, opts: &CsvOptions) -> Result<Table> {
    let text = read_text(path)?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| invalid(path, "empty CSV"))?;
    let mut names = vec![];
    let mut flavours = vec![];
    let mut types = vec![];
    for h in split_csv_line(header) {
        let (n, t) = h.rsplit_once(':').unwrap_or((&h, "keyword"));
        let n = n.trim();
        let t = opts
            .type_overrides
            .iter()
            .find(|(f, _)| *f == n)
            .map_or(t, |(_, t)| *t);
        let (ty, flavour) = csv_column_type(t);
        names.push(n.to_string());
        types.push(ty);
        flavours.push(flavour);
    }
    let mut rows = vec![];
    for (i, line) in lines {
        let cells = split_csv_line(line);
        if cells.len() > names.len() {
            return Err(LookupError::Invalid {
                path: format!("{}:{}", path.display(), i + 1),
                message: format!("expected {} fields, found {}", names.len(), cells.len()),
            });
        }
        rows.push(
            (0..names.len())
                .map(|c| {
                    let text = cells.get(c).map(String::as_str).unwrap_or("");
                    csv_cell(text, types[c], flavours[c])
                })
                .collect(),
        );
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
