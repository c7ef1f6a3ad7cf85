//! From normalized ECS documents to Arrow columns, the way Elasticsearch indexes them.
//!
//! Extraction ([`ColumnPlan::extract`]) is the per-record step: it walks the nested document for
//! each requested column (arrays of objects fan out, like ES's non-nested objects), converts
//! values to the field type, and orders multi-values as doc values do: keyword and ip sorted and
//! de-duplicated (ip by its 16-byte form), numbers/dates/booleans sorted with duplicates, text
//! (read from `_source`) in source order. Building arrays ([`BatchBuilder`]) is separate so a
//! later prefilter can skip extraction for records it rejects.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Int64Builder, ListBuilder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{ArrowError, SchemaRef};
use serde_json::Value;

use crate::java_map;
use crate::normalize::time;
use crate::schema::{EcsField, EsType, CONSTANTS};

/// One column value of one row, already converted and ordered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Str(String),
    I64(i64),
    Bool(bool),
    StrList(Vec<String>),
    I64List(Vec<i64>),
    BoolList(Vec<bool>),
}

struct ColSpec {
    field: &'static EcsField,
    /// Path of the value in the document (a `.text` multi-field reads its parent).
    path: Vec<&'static str>,
    constant: Option<&'static str>,
}

/// The requested columns and how to read each from a document.
pub(crate) struct ColumnPlan {
    cols: Vec<ColSpec>,
}

impl ColumnPlan {
    pub(crate) fn new(fields: &[&'static EcsField]) -> Self {
        let cols = fields
            .iter()
            .map(|&field| {
                let name: &'static str = field.name.as_str();
                let source = match name.strip_suffix(".text") {
                    Some(parent) if crate::schema::ecs_field(parent).is_some() => {
                        crate::schema::ecs_field(parent)
                            .expect("checked")
                            .name
                            .as_str()
                    }
                    _ => name,
                };
                ColSpec {
                    field,
                    path: source.split('.').collect(),
                    constant: CONSTANTS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v),
                }
            })
            .collect();
        ColumnPlan { cols }
    }

    /// The row for one document, in column order.
    pub(crate) fn extract(&self, doc: &Value) -> Vec<Cell> {
        let mut leaves = Vec::new();
        self.cols
            .iter()
            .map(|c| {
                if let Some(v) = c.constant {
                    return Cell::Str(v.to_string());
                }
                if c.field.es_type == EsType::Unsupported {
                    return Cell::Null;
                }
                leaves.clear();
                collect(doc, &c.path, &mut leaves);
                convert(c.field, &leaves)
            })
            .collect()
    }
}

fn collect<'a>(v: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect(i, path, out)),
        Value::Null => {}
        _ if path.is_empty() => out.push(v),
        Value::Object(m) => {
            if let Some(child) = m.get(path[0]) {
                collect(child, &path[1..], out);
            }
        }
        _ => {}
    }
}

fn as_keyword(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(java_map::java_number(n)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn as_long(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

pub(crate) fn convert(field: &EcsField, leaves: &[&Value]) -> Cell {
    let multi = field.multi_valued;
    match field.es_type {
        EsType::Keyword => {
            let mut v: Vec<String> = leaves.iter().filter_map(|l| as_keyword(l)).collect();
            v.sort_unstable();
            v.dedup();
            strings(v, multi)
        }
        EsType::Text => {
            let v: Vec<String> = leaves.iter().filter_map(|l| as_keyword(l)).collect();
            strings(v, multi)
        }
        EsType::Ip => {
            let mut v: Vec<[u8; 16]> = leaves
                .iter()
                .filter_map(|l| l.as_str().and_then(crate::ip::parse))
                .map(crate::ip::to_bytes)
                .collect();
            v.sort_unstable();
            v.dedup();
            strings(v.into_iter().map(crate::ip::format_bytes).collect(), multi)
        }
        EsType::Long => longs(leaves.iter().filter_map(|l| as_long(l)).collect(), multi),
        EsType::Date => longs(
            leaves
                .iter()
                .filter_map(|l| time::parse_date_field(l))
                .collect(),
            multi,
        ),
        EsType::Boolean => {
            let mut v: Vec<bool> = leaves.iter().filter_map(|l| as_bool(l)).collect();
            v.sort_unstable();
            match (v.is_empty(), multi) {
                (true, _) => Cell::Null,
                (false, true) => Cell::BoolList(v),
                (false, false) => Cell::Bool(v[0]),
            }
        }
        EsType::Unsupported => Cell::Null,
    }
}

/// A single-valued column that meets several values keeps the first in doc-values order.
fn strings(mut v: Vec<String>, multi: bool) -> Cell {
    match (v.is_empty(), multi) {
        (true, _) => Cell::Null,
        (false, true) => Cell::StrList(v),
        (false, false) => Cell::Str(v.swap_remove(0)),
    }
}

fn longs(mut v: Vec<i64>, multi: bool) -> Cell {
    v.sort_unstable();
    match (v.is_empty(), multi) {
        (true, _) => Cell::Null,
        (false, true) => Cell::I64List(v),
        (false, false) => Cell::I64(v[0]),
    }
}

enum ColBuilder {
    Str(StringBuilder),
    I64(Int64Builder),
    Date(TimestampMillisecondBuilder),
    Bool(BooleanBuilder),
    StrList(ListBuilder<StringBuilder>),
    I64List(ListBuilder<Int64Builder>),
    DateList(ListBuilder<TimestampMillisecondBuilder>),
    BoolList(ListBuilder<BooleanBuilder>),
}

impl ColBuilder {
    fn new(f: &EcsField) -> Self {
        match (f.es_type, f.multi_valued) {
            (EsType::Long, false) => ColBuilder::I64(Int64Builder::new()),
            (EsType::Date, false) => ColBuilder::Date(TimestampMillisecondBuilder::new()),
            (EsType::Boolean, false) => ColBuilder::Bool(BooleanBuilder::new()),
            (_, false) => ColBuilder::Str(StringBuilder::new()),
            (EsType::Long, true) => ColBuilder::I64List(ListBuilder::new(Int64Builder::new())),
            (EsType::Date, true) => {
                ColBuilder::DateList(ListBuilder::new(TimestampMillisecondBuilder::new()))
            }
            (EsType::Boolean, true) => {
                ColBuilder::BoolList(ListBuilder::new(BooleanBuilder::new()))
            }
            (_, true) => ColBuilder::StrList(ListBuilder::new(StringBuilder::new())),
        }
    }

    fn append(&mut self, cell: Cell) {
        match (self, cell) {
            (ColBuilder::Str(b), Cell::Str(s)) => b.append_value(s),
            (ColBuilder::Str(b), _) => b.append_null(),
            (ColBuilder::I64(b), Cell::I64(v)) => b.append_value(v),
            (ColBuilder::I64(b), _) => b.append_null(),
            (ColBuilder::Date(b), Cell::I64(v)) => b.append_value(v),
            (ColBuilder::Date(b), _) => b.append_null(),
            (ColBuilder::Bool(b), Cell::Bool(v)) => b.append_value(v),
            (ColBuilder::Bool(b), _) => b.append_null(),
            (ColBuilder::StrList(b), Cell::StrList(v)) => {
                v.iter().for_each(|s| b.values().append_value(s));
                b.append(true);
            }
            (ColBuilder::StrList(b), _) => b.append_null(),
            (ColBuilder::I64List(b), Cell::I64List(v)) => {
                b.values().append_slice(&v);
                b.append(true);
            }
            (ColBuilder::I64List(b), _) => b.append_null(),
            (ColBuilder::DateList(b), Cell::I64List(v)) => {
                b.values().append_slice(&v);
                b.append(true);
            }
            (ColBuilder::DateList(b), _) => b.append_null(),
            (ColBuilder::BoolList(b), Cell::BoolList(v)) => {
                v.iter().for_each(|&x| b.values().append_value(x));
                b.append(true);
            }
            (ColBuilder::BoolList(b), _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColBuilder::Str(b) => Arc::new(b.finish()),
            ColBuilder::I64(b) => Arc::new(b.finish()),
            ColBuilder::Date(b) => Arc::new(b.finish()),
            ColBuilder::Bool(b) => Arc::new(b.finish()),
            ColBuilder::StrList(b) => Arc::new(b.finish()),
            ColBuilder::I64List(b) => Arc::new(b.finish()),
            ColBuilder::DateList(b) => Arc::new(b.finish()),
            ColBuilder::BoolList(b) => Arc::new(b.finish()),
        }
    }
}

/// Accumulates rows into Arrow arrays for one schema.
pub(crate) struct BatchBuilder {
    schema: SchemaRef,
    builders: Vec<ColBuilder>,
    rows: usize,
}

impl BatchBuilder {
    pub(crate) fn new(schema: SchemaRef, fields: &[&'static EcsField]) -> Self {
        BatchBuilder {
            schema,
            builders: fields.iter().map(|f| ColBuilder::new(f)).collect(),
            rows: 0,
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    pub(crate) fn push(&mut self, row: Vec<Cell>) {
        for (b, cell) in self.builders.iter_mut().zip(row) {
            b.append(cell);
        }
        self.rows += 1;
    }

    pub(crate) fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(ColBuilder::finish).collect();
        let rows = std::mem::take(&mut self.rows);
        RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ecs_field;
    use serde_json::json;

    fn cell(name: &str, doc: Value) -> Cell {
        let plan = ColumnPlan::new(&[ecs_field(name).unwrap()]);
        plan.extract(&doc).remove(0)
    }

    #[test]
    fn keyword_lists_sorted_and_deduped() {
        let doc = json!({"related": {"user": ["b", "a", "b"]}});
        assert_eq!(
            cell("related.user", doc),
            Cell::StrList(vec!["a".into(), "b".into()])
        );
        let doc = json!({"event": {"type": ["group", "change"]}});
        assert_eq!(
            cell("event.type", doc),
            Cell::StrList(vec!["change".into(), "group".into()])
        );
    }

    #[test]
    fn text_keeps_source_order() {
        let doc = json!({"error": {"message": ["z", "a", "z"]}});
        assert_eq!(
            cell("error.message", doc),
            Cell::StrList(vec!["z".into(), "a".into(), "z".into()])
        );
        let doc = json!({"user": {"name": "Alice"}});
        assert_eq!(cell("user.name.text", doc), Cell::Str("Alice".into()));
    }

    #[test]
    fn ips_canonical_sorted_by_bytes() {
        let doc = json!({"related": {"ip": ["10.0.0.1", "::FFFF:9.0.0.1", "2001:DB8::1", "bad", "10.0.0.1"]}});
        assert_eq!(
            cell("related.ip", doc),
            Cell::StrList(vec![
                "9.0.0.1".into(),
                "10.0.0.1".into(),
                "2001:db8::1".into()
            ])
        );
        assert_eq!(
            cell("source.ip", json!({"source": {"ip": "bad"}})),
            Cell::Null
        );
    }

    #[test]
    fn arrays_of_objects_fan_out() {
        let doc = json!({"aws": {"cloudtrail": {"resources": [
            {"arn": "b", "type": "T"}, {"arn": "a", "type": "T"}]}}});
        assert_eq!(
            cell("aws.cloudtrail.resources.arn", doc.clone()),
            Cell::StrList(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            cell("aws.cloudtrail.resources.type", doc),
            Cell::StrList(vec!["T".into()])
        );
    }

    #[test]
    fn typed_values() {
        let doc = json!({"@timestamp": "2014-07-16T15:49:27.000Z",
            "aws": {"cloudtrail": {"read_only": "true", "management_event": true}},
            "source": {"as": {"number": 29518}}});
        assert_eq!(cell("@timestamp", doc.clone()), Cell::I64(1405525767000));
        assert_eq!(
            cell("aws.cloudtrail.read_only", doc.clone()),
            Cell::Bool(true)
        );
        assert_eq!(
            cell("aws.cloudtrail.management_event", doc.clone()),
            Cell::Str("true".into())
        );
        assert_eq!(cell("source.as.number", doc.clone()), Cell::I64(29518));
        assert_eq!(cell("event.module", doc.clone()), Cell::Str("aws".into()));
        assert_eq!(
            cell("aws.cloudtrail.flattened.request_parameters", doc),
            Cell::Null
        );
    }
}
