//! From normalized ECS documents to Arrow columns, the way Elasticsearch indexes them.
//!
//! Extraction ([`ColumnPlan::append`]) is the per-record step: it walks the nested document
//! once against the column paths (arrays of objects fan out, like ES's non-nested objects),
//! converts values to the field type, orders multi-values as doc values do — keyword and ip
//! sorted and de-duplicated (ip by its 16-byte form), numbers/dates/booleans sorted with
//! duplicates, text (read from `_source`) in source order — and appends them to the scan
//! worker's Arrow builders ([`BatchBuilder`]).

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow_array::{new_null_array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{ArrowError, SchemaRef};
use serde_json::Value;

use crate::java_map;
use crate::normalize::time;
use crate::schema::{EcsField, EsType, CONSTANTS};

/// One column value of one row, already converted and ordered. A string may be borrowed
/// from the record's text (the compiled normalizer copies most values straight from it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Str(Cow<'a, str>),
    I64(i64),
    Bool(bool),
    StrList(Vec<String>),
    I64List(Vec<i64>),
    BoolList(Vec<bool>),
}

struct ColSpec {
    field: &'static EcsField,
    constant: Option<&'static str>,
}

/// One level of the column paths: which columns end here and which keys lead deeper.
/// Children are sorted by (length, key) for binary search (the `aws.cloudtrail` level has
/// ~100): most probes are settled by the length, without comparing bytes.
#[derive(Default)]
struct PathNode {
    columns: Vec<usize>,
    children: Vec<(&'static str, PathNode)>,
}

impl PathNode {
    fn insert(&mut self, path: &[&'static str], column: usize) {
        match path.split_first() {
            None => self.columns.push(column),
            Some((key, rest)) => {
                let i = match self
                    .children
                    .binary_search_by(|(k, _)| by_len_then_bytes(k, key))
                {
                    Ok(i) => i,
                    Err(i) => {
                        self.children.insert(i, (key, PathNode::default()));
                        i
                    }
                };
                self.children[i].1.insert(rest, column);
            }
        }
    }

    fn child(&self, key: &str) -> Option<&PathNode> {
        self.children
            .binary_search_by(|(k, _)| by_len_then_bytes(k, key))
            .ok()
            .map(|i| &self.children[i].1)
    }
}

fn by_len_then_bytes(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The requested columns and how to read each from a document.
///
/// A document is walked once against a trie of the column paths (most of the ~500 ECS columns
/// are absent from any one document, so looking each up by its path cost more than the walk).
/// The walk visits values in document order, so each column meets its values in the same order
/// a per-path walk would (arrays of objects fan out, nulls are skipped).
pub(crate) struct ColumnPlan {
    cols: Vec<ColSpec>,
    /// (column, value) of the constant columns.
    constants: Vec<(usize, &'static str)>,
    root: PathNode,
}

impl ColumnPlan {
    pub(crate) fn new(fields: &[&'static EcsField]) -> Self {
        let mut root = PathNode::default();
        let cols: Vec<ColSpec> = fields
            .iter()
            .enumerate()
            .map(|(i, &field)| {
                let name: &'static str = field.name.as_str();
                // A `.text` multi-field reads its parent's value.
                let source = match name.strip_suffix(".text") {
                    Some(parent) if crate::schema::ecs_field(parent).is_some() => {
                        crate::schema::ecs_field(parent)
                            .expect("checked")
                            .name
                            .as_str()
                    }
                    _ => name,
                };
                let constant = CONSTANTS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
                if constant.is_none() && field.es_type != EsType::Unsupported {
                    root.insert(&source.split('.').collect::<Vec<_>>(), i);
                }
                ColSpec { field, constant }
            })
            .collect();
        let constants = cols
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i, c.constant?)))
            .collect();
        ColumnPlan {
            cols,
            constants,
            root,
        }
    }

    /// Appends one document as a row of `out` (built for the same fields).
    ///
    /// Only the columns the document has values for (and the constants) are touched; the
    /// builder fills the rest with nulls lazily.
    pub(crate) fn append(&self, doc: &Value, out: &mut BatchBuilder) {
        let mut found: Vec<(usize, &Value)> = Vec::with_capacity(64);
        walk(doc, &self.root, &mut found);
        // Stable: a column's values stay in document order.
        found.sort_by_key(|(col, _)| *col);
        let rows = out.rows;
        for &(i, v) in &self.constants {
            out.caught_up(i, rows).append_str(v);
        }
        let mut leaves: Vec<&Value> = Vec::new();
        let mut rest = found.as_slice();
        while let Some(&(i, _)) = rest.first() {
            let n = rest.iter().take_while(|(col, _)| *col == i).count();
            leaves.clear();
            leaves.extend(rest[..n].iter().map(|(_, v)| *v));
            rest = &rest[n..];
            let field = self.cols[i].field;
            match (leaves.as_slice(), field.es_type, out.caught_up(i, rows)) {
                // The common case, without the conversion's intermediate vector and copy.
                ([Value::String(s)], EsType::Keyword | EsType::Text, ColBuilder::Str(b)) => {
                    b.append_value(s)
                }
                (_, _, b) => b.append(convert(field, &leaves)),
            }
        }
        out.rows += 1;
    }

    /// The row for one document, in column order (for the compiled normalizer's enriched
    /// columns and tests; scans use [`Self::append`]).
    pub(crate) fn extract(&self, doc: &Value) -> Vec<Cell<'static>> {
        let mut found: Vec<(usize, &Value)> = Vec::new();
        walk(doc, &self.root, &mut found);
        found.sort_by_key(|(col, _)| *col);
        self.cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if let Some(v) = c.constant {
                    return Cell::Str(Cow::Borrowed(v));
                }
                let leaves: Vec<&Value> = found
                    .iter()
                    .filter(|(col, _)| *col == i)
                    .map(|(_, v)| *v)
                    .collect();
                convert(c.field, &leaves)
            })
            .collect()
    }
}

/// Collects `(column, value)` for every value of `v` that sits at a column's path.
fn walk<'a>(v: &'a Value, node: &PathNode, out: &mut Vec<(usize, &'a Value)>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| walk(i, node, out)),
        Value::Null => {}
        _ => {
            for &col in &node.columns {
                out.push((col, v));
            }
            if let Value::Object(m) = v {
                if node.children.is_empty() {
                    return;
                }
                for (k, child) in m {
                    if let Some(next) = node.child(k) {
                        walk(child, next, out);
                    }
                }
            }
        }
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

pub(crate) fn convert(field: &EcsField, leaves: &[&Value]) -> Cell<'static> {
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
fn strings(mut v: Vec<String>, multi: bool) -> Cell<'static> {
    match (v.is_empty(), multi) {
        (true, _) => Cell::Null,
        (false, true) => Cell::StrList(v),
        (false, false) => Cell::Str(Cow::Owned(v.swap_remove(0))),
    }
}

fn longs(mut v: Vec<i64>, multi: bool) -> Cell<'static> {
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

    fn len(&self) -> usize {
        match self {
            ColBuilder::Str(b) => b.len(),
            ColBuilder::I64(b) => b.len(),
            ColBuilder::Date(b) => b.len(),
            ColBuilder::Bool(b) => b.len(),
            ColBuilder::StrList(b) => b.len(),
            ColBuilder::I64List(b) => b.len(),
            ColBuilder::DateList(b) => b.len(),
            ColBuilder::BoolList(b) => b.len(),
        }
    }

    fn append_nulls(&mut self, n: usize) {
        match self {
            ColBuilder::Str(b) => b.append_nulls(n),
            ColBuilder::I64(b) => b.append_nulls(n),
            ColBuilder::Date(b) => b.append_nulls(n),
            ColBuilder::Bool(b) => b.append_nulls(n),
            ColBuilder::StrList(b) => (0..n).for_each(|_| b.append_null()),
            ColBuilder::I64List(b) => (0..n).for_each(|_| b.append_null()),
            ColBuilder::DateList(b) => (0..n).for_each(|_| b.append_null()),
            ColBuilder::BoolList(b) => (0..n).for_each(|_| b.append_null()),
        }
    }

    /// A constant keyword (constants are single-valued keywords).
    fn append_str(&mut self, v: &str) {
        match self {
            ColBuilder::Str(b) => b.append_value(v),
            other => other.append(Cell::Str(Cow::Borrowed(v))),
        }
    }

    fn append(&mut self, cell: Cell<'_>) {
        match (self, cell) {
            (ColBuilder::Str(b), Cell::Str(s)) => b.append_value(&*s),
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

    /// The column so far, as an array; the builder starts again with room for as many rows
    /// and bytes as it just held (a builder's `finish` leaves it with no capacity, and
    /// growing the string buffers again from nothing for every file's batch reallocated and
    /// copied them several times over).
    fn finish(&mut self) -> ArrayRef {
        match self {
            ColBuilder::Str(b) => {
                let (rows, bytes) = (b.len(), b.values_slice().len());
                let array = b.finish();
                *b = StringBuilder::with_capacity(rows, bytes);
                Arc::new(array)
            }
            ColBuilder::StrList(b) => {
                let rows = b.len();
                let (values, bytes) = (b.values_ref().len(), b.values_ref().values_slice().len());
                let array = b.finish();
                *b = ListBuilder::with_capacity(StringBuilder::with_capacity(values, bytes), rows);
                Arc::new(array)
            }
            ColBuilder::I64(b) => Arc::new(b.finish()),
            ColBuilder::Date(b) => Arc::new(b.finish()),
            ColBuilder::Bool(b) => Arc::new(b.finish()),
            ColBuilder::I64List(b) => Arc::new(b.finish()),
            ColBuilder::DateList(b) => Arc::new(b.finish()),
            ColBuilder::BoolList(b) => Arc::new(b.finish()),
        }
    }
}

/// Accumulates rows into Arrow arrays for one schema.
///
/// Nulls are not appended row by row: a column's builder is caught up with nulls only when
/// a value arrives, and a column that got no value in the whole batch becomes a null array
/// at `finish`. A record fills a few dozen of the ~500 ECS columns, so appending every null
/// was a large share of building a batch.
pub(crate) struct BatchBuilder {
    schema: SchemaRef,
    builders: Vec<ColBuilder>,
    /// One all-null array per column, sliced for columns that got no value: slices share
    /// the buffers, so the many empty columns of each small per-file batch cost no
    /// allocation (and no memory while batches wait to be written).
    null_templates: Vec<ArrayRef>,
    rows: usize,
}

/// Rows of the shared null arrays (scan workers flush batches of at most this many rows;
/// larger batches get fresh null arrays).
const NULL_TEMPLATE_ROWS: usize = crate::scan::CHUNK_ROWS;

impl BatchBuilder {
    pub(crate) fn new(schema: SchemaRef, fields: &[&'static EcsField]) -> Self {
        let null_templates = schema
            .fields()
            .iter()
            .map(|f| new_null_array(f.data_type(), NULL_TEMPLATE_ROWS))
            .collect();
        BatchBuilder {
            schema,
            builders: fields.iter().map(|f| ColBuilder::new(f)).collect(),
            null_templates,
            rows: 0,
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Column `i`'s builder with nulls appended up to row `rows` (the row being built).
    fn caught_up(&mut self, i: usize, rows: usize) -> &mut ColBuilder {
        let b = &mut self.builders[i];
        let behind = rows - b.len();
        if behind > 0 {
            b.append_nulls(behind);
        }
        b
    }

    /// Appends one row given as its non-null cells (column index, value), in any order of
    /// distinct columns; the other columns are null.
    /// `text`: one more string column appended straight from a `&str` (the record's own
    /// text for `event.original`, which a cell would have copied).
    pub(crate) fn push(&mut self, row: Vec<(usize, Cell<'_>)>, text: Option<(usize, &str)>) {
        let rows = self.rows;
        for (i, cell) in row {
            self.caught_up(i, rows).append(cell);
        }
        if let Some((i, text)) = text {
            self.caught_up(i, rows).append_str(text);
        }
        self.rows += 1;
    }

    pub(crate) fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let rows = std::mem::take(&mut self.rows);
        let columns: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .zip(self.schema.fields())
            .zip(&self.null_templates)
            .map(|((b, f), nulls)| match b.len() {
                0 if rows <= nulls.len() => nulls.slice(0, rows),
                0 => new_null_array(f.data_type(), rows),
                n => {
                    b.append_nulls(rows - n);
                    b.finish()
                }
            })
            .collect();
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
    use arrow_array::Array;
    use serde_json::json;

    #[test]
    fn builder_fills_nulls_lazily() {
        let names = [
            "event.module",
            "user.name",
            "related.user",
            "source.as.number",
        ];
        let fields: Vec<&'static EcsField> = names.iter().map(|n| ecs_field(n).unwrap()).collect();
        let schema = crate::schema::arrow_schema(Some(
            &names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
        ))
        .unwrap();
        let plan = ColumnPlan::new(&fields);
        let mut b = BatchBuilder::new(schema, &fields);
        let docs = [
            json!({"related": {"user": ["b", "a"]}}),
            json!({}),
            json!({"user": {"name": "x"}}),
            json!({}),
        ];
        for _ in 0..2 {
            for d in &docs {
                plan.append(d, &mut b);
            }
            b.push(vec![], None);
            let batch = b.finish().unwrap();
            assert_eq!(batch.num_rows(), 5);
            let module = batch
                .column(0)
                .as_any()
                .downcast_ref::<arrow_array::StringArray>();
            assert_eq!(
                module.unwrap().iter().flatten().count(),
                4,
                "constant, not on pushed row"
            );
            let user = batch
                .column(1)
                .as_any()
                .downcast_ref::<arrow_array::StringArray>();
            let user: Vec<Option<&str>> = user.unwrap().iter().collect();
            assert_eq!(user, [None, None, Some("x"), None, None]);
            let related = batch
                .column(2)
                .as_any()
                .downcast_ref::<arrow_array::ListArray>();
            let related = related.unwrap();
            assert_eq!(related.len(), 5);
            assert!(related.is_valid(0) && (1..5).all(|i| related.is_null(i)));
            // A column no row filled is a null array of its type.
            assert_eq!(batch.column(3).null_count(), 5);
            assert_eq!(batch.column(3).data_type(), &arrow_schema::DataType::Int64);
        }
    }

    fn cell(name: &str, doc: Value) -> Cell<'static> {
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
