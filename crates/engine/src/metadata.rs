//! `FROM … METADATA _index, _id, _version`: ES's per-document metadata, computed right after
//! the scan from each document's own columns (no source stores them). Computing them in a
//! projection above the scan keeps the scan's projection and filter pushdown intact: a
//! filter on a mapped column moves below the projection as before, and one on a metadata
//! column reaches the scan as a function call over its input columns, which the pushdown
//! readers ignore (it only weakens what they can skip) and the plan still applies.
//!
//! * `_index`: what the dataset's [`IndexNaming`] says: a plain index's name, or the backing
//!   index of a data stream by the document's day (`.ds-logs-aws.cloudtrail-default-
//!   2024.05.01-000001`).
//! * `_id`: ES gives documents it indexes a random 20-character id (15 bytes of URL-safe
//!   base64). A replay cannot know those, but alert dedup (Kibana keys non-aggregating rule
//!   alerts by `_id`) needs an id that is the same for the same event however it is read,
//!   raw or from the store, in every run, and different for different events. So `_id` is
//!   the first 15 bytes of the SHA-256 of the document's [`DocumentId`] columns (for
//!   CloudTrail: `event.id`, CloudTrail's own unique eventID, and `@timestamp`), in the same
//!   20-character URL-safe base64 shape as ES's ids.
//! * `_version`: 1, the version of a document indexed once and never updated.

use crate::planner::expr::column;
use crate::planner::PlanError;
use crate::source::{Dataset, DocumentId, IndexNaming};
use crate::value::{value_at, Value};
use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, LogicalPlanBuilder, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::lit;
use esql::Column;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The metadata columns `fields` (as the analyzer listed them) appended to every column of
/// `plan` (the dataset's scan); a scan column of the same name is replaced.
pub(crate) fn project(
    plan: LogicalPlan,
    dataset: &dyn Dataset,
    fields: &[Column],
) -> Result<LogicalPlan, PlanError> {
    if fields.is_empty() {
        return Ok(plan);
    }
    let schema = plan.schema().clone();
    let has = |name: &str| schema.field_with_unqualified_name(name).is_ok();
    let mut exprs: Vec<Expr> = schema
        .fields()
        .iter()
        .filter(|f| !fields.iter().any(|m| &m.name == f.name()))
        .map(|f| column(f.name()))
        .collect();
    for f in fields {
        let e = match f.name.as_str() {
            "_index" => index_expr(dataset.index_naming(), &has)?,
            "_id" => id_expr(dataset.document_id(), &has)?,
            "_version" => lit(1i64),
            other => {
                return Err(PlanError::Internal(format!(
                    "metadata field [{other}] has no implementation"
                )))
            }
        };
        exprs.push(e.alias(&f.name));
    }
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

fn index_expr(naming: IndexNaming, has: &dyn Fn(&str) -> bool) -> Result<Expr, PlanError> {
    match naming {
        IndexNaming::Index(name) => Ok(lit(name)),
        IndexNaming::DataStream { stream, time_field } => {
            if !has(&time_field) {
                return Err(PlanError::Internal(format!(
                    "data stream [{stream}] has no time field [{time_field}]"
                )));
            }
            let udf = ScalarUDF::new_from_impl(BackingIndex {
                signature: Signature::any(1, Volatility::Immutable),
                stream,
            });
            Ok(udf.call(vec![column(&time_field)]))
        }
    }
}

fn id_expr(id: DocumentId, has: &dyn Fn(&str) -> bool) -> Result<Expr, PlanError> {
    let names: Vec<&String> = id.key.iter().chain(&id.fallback).collect();
    if let Some(missing) = names.iter().find(|n| !has(n)) {
        return Err(PlanError::Internal(format!(
            "document id column [{missing}] is not in the data"
        )));
    }
    if names.is_empty() {
        return Err(PlanError::Internal("document id has no columns".into()));
    }
    let udf = ScalarUDF::new_from_impl(DocumentIdUdf {
        signature: Signature::variadic_any(Volatility::Immutable),
        key_len: id.key.len(),
    });
    Ok(udf.call(names.into_iter().map(|n| column(n)).collect()))
}

/// Whether `udf` is one of this module's functions (`crate::remote`).
pub(crate) fn is_metadata_function(udf: &ScalarUDF) -> bool {
    let any: &dyn std::any::Any = udf.inner().as_ref();
    any.is::<BackingIndex>() || any.is::<DocumentIdUdf>()
}

/// `_index` of a data stream's document from its time.
#[derive(Debug, PartialEq, Eq, Hash)]
struct BackingIndex {
    signature: Signature,
    stream: String,
}

impl ScalarUDFImpl for BackingIndex {
    fn name(&self) -> &str {
        "metadata_index"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[ArrowType]) -> DfResult<ArrowType> {
        Ok(ArrowType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let times = args.args[0].to_array(rows)?;
        let mut out = StringBuilder::with_capacity(rows, rows * (self.stream.len() + 22));
        // Documents arrive roughly in time order: one name per run of the same day.
        let mut last: Option<(i64, String)> = None;
        for i in 0..rows {
            let Value::Date(ms) = value_at(times.as_ref(), i) else {
                out.append_null();
                continue;
            };
            let day = ms.div_euclid(86_400_000);
            match &last {
                Some((d, name)) if *d == day => out.append_value(name),
                _ => {
                    let name = backing_index(&self.stream, ms);
                    out.append_value(&name);
                    last = Some((day, name));
                }
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

/// `.ds-<stream>-<yyyy.MM.dd>-000001` for a document at `ms` (UTC).
pub fn backing_index(stream: &str, ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => format!(".ds-{stream}-{}-000001", t.format("%Y.%m.%d")),
        None => format!(".ds-{stream}-000001"),
    }
}

/// `_id` from the [`DocumentId`] columns: the first `key_len` arguments are the key, the
/// rest the fallback used (with the key) when any key value is null.
#[derive(Debug, PartialEq, Eq, Hash)]
struct DocumentIdUdf {
    signature: Signature,
    key_len: usize,
}

impl ScalarUDFImpl for DocumentIdUdf {
    fn name(&self) -> &str {
        "metadata_id"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[ArrowType]) -> DfResult<ArrowType> {
        Ok(ArrowType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<DfResult<Vec<_>>>()?;
        let mut out = StringBuilder::with_capacity(rows, rows * 20);
        let mut values: Vec<Value> = Vec::with_capacity(arrays.len());
        for i in 0..rows {
            values.clear();
            values.extend(arrays.iter().map(|a| value_at(a.as_ref(), i)));
            let key = &values[..self.key_len.min(values.len())];
            let used = if key.iter().any(Value::is_null) {
                &values[..]
            } else {
                key
            };
            out.append_value(document_id(used));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

/// The id of a document whose identifying values are `values`: 15 bytes of SHA-256 over
/// an unambiguous encoding of them, as 20 characters of URL-safe base64 (ES's id shape).
pub fn document_id(values: &[Value]) -> String {
    let mut h = Sha256::new();
    for v in values {
        encode(&mut h, v);
    }
    base64url(&h.finalize()[..15])
}

/// Each value with a type tag and, for strings and lists, a length: no two different
/// value lists feed the hash the same bytes. Dates are epoch milliseconds, so the id does
/// not depend on how a source labels its timestamps.
fn encode(h: &mut Sha256, v: &Value) {
    match v {
        Value::Null => h.update(b"n"),
        Value::Bool(b) => h.update([b'b', *b as u8]),
        Value::Int(n) => {
            h.update(b"l");
            h.update(i64::from(*n).to_le_bytes());
        }
        Value::Long(n) => {
            h.update(b"l");
            h.update(n.to_le_bytes());
        }
        Value::UnsignedLong(n) => {
            h.update(b"u");
            h.update(n.to_le_bytes());
        }
        Value::Double(f) => {
            h.update(b"f");
            h.update(f.to_bits().to_le_bytes());
        }
        Value::Str(s) => {
            h.update(b"s");
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
        Value::Date(ms) => {
            h.update(b"d");
            h.update(ms.to_le_bytes());
        }
        Value::Multi(vs) => {
            h.update(b"m");
            h.update((vs.len() as u64).to_le_bytes());
            for v in vs {
                encode(h, v);
            }
        }
    }
}

/// URL-safe base64 without padding (ES's ids are `Base64.getUrlEncoder().withoutPadding()`).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_the_rfc_examples() {
        // RFC 4648 §10, padding dropped.
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn ids_are_twenty_url_safe_characters_and_tell_values_apart() {
        let a = document_id(&[Value::Str("ab".into()), Value::Str("c".into())]);
        let b = document_id(&[Value::Str("a".into()), Value::Str("bc".into())]);
        assert_eq!(a.len(), 20);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, b, "lengths are part of the encoding");
        assert_ne!(
            document_id(&[Value::Null]),
            document_id(&[Value::Str(String::new())])
        );
        // Pinned (computed independently with Python's hashlib): ids must not change
        // between runs or versions, alert dedup keys on them.
        assert_eq!(
            document_id(&[Value::Str("x".into()), Value::Date(0)]),
            "b-mE2T-IfI3TVhQ5gWm3"
        );
        assert_eq!(
            document_id(&[Value::Int(7)]),
            document_id(&[Value::Long(7)]),
            "an integer is the same number as a long"
        );
    }

    #[test]
    fn backing_index_by_utc_day() {
        // 2024-05-01T23:59:59.999Z and the next millisecond.
        let ms = 1_714_607_999_999;
        assert_eq!(
            backing_index("logs-aws.cloudtrail-default", ms),
            ".ds-logs-aws.cloudtrail-default-2024.05.01-000001"
        );
        assert_eq!(backing_index("s", ms + 1), ".ds-s-2024.05.02-000001");
    }
}
