//! ES|QL values as rows of a result, and the conversions between them and Arrow arrays.
//! Multi-values are `Value::Multi` (never empty, never nested; one element collapses to
//! the plain value, as in ES).

use datafusion::arrow::array::*;
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, TimeUnit};
use esql::DataType;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    UnsignedLong(u64),
    Double(f64),
    /// keyword, text, ip and version all travel as strings.
    Str(String),
    /// Milliseconds since the epoch, UTC.
    Date(i64),
    Multi(Vec<Value>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The values of a field: none for null, one, or several.
    pub fn values(&self) -> &[Value] {
        match self {
            Value::Null => &[],
            Value::Multi(v) => v,
            other => std::slice::from_ref(other),
        }
    }

    /// Builds a value from a list of values following ES's rules: empty is null, one is
    /// itself.
    pub fn from_values(mut values: Vec<Value>) -> Value {
        values.retain(|v| !v.is_null());
        match values.len() {
            0 => Value::Null,
            1 => values.pop().unwrap_or(Value::Null),
            _ => Value::Multi(values),
        }
    }
}

/// Reads row `i` of an Arrow array (any type we produce) as a [`Value`].
pub fn value_at(array: &dyn Array, i: usize) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    match array.data_type() {
        ArrowType::Null => Value::Null,
        ArrowType::Boolean => Value::Bool(array.as_boolean().value(i)),
        ArrowType::Int32 => Value::Int(
            array
                .as_primitive::<datafusion::arrow::datatypes::Int32Type>()
                .value(i),
        ),
        ArrowType::Int64 => Value::Long(
            array
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                .value(i),
        ),
        ArrowType::UInt64 => Value::UnsignedLong(
            array
                .as_primitive::<datafusion::arrow::datatypes::UInt64Type>()
                .value(i),
        ),
        ArrowType::Float64 => Value::Double(
            array
                .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                .value(i),
        ),
        ArrowType::Utf8 => Value::Str(array.as_string::<i32>().value(i).to_string()),
        ArrowType::LargeUtf8 => Value::Str(array.as_string::<i64>().value(i).to_string()),
        ArrowType::Utf8View => Value::Str(array.as_string_view().value(i).to_string()),
        ArrowType::Dictionary(_, _) => {
            let casted = datafusion::arrow::compute::cast(&array.slice(i, 1), &ArrowType::Utf8);
            match casted {
                Ok(a) => value_at(a.as_ref(), 0),
                Err(_) => Value::Null,
            }
        }
        ArrowType::Timestamp(unit, _) => {
            let v = match unit {
                TimeUnit::Second => {
                    array
                        .as_primitive::<datafusion::arrow::datatypes::TimestampSecondType>()
                        .value(i)
                        * 1000
                }
                TimeUnit::Millisecond => array
                    .as_primitive::<datafusion::arrow::datatypes::TimestampMillisecondType>()
                    .value(i),
                TimeUnit::Microsecond => array
                    .as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>()
                    .value(i)
                    .div_euclid(1000),
                TimeUnit::Nanosecond => array
                    .as_primitive::<datafusion::arrow::datatypes::TimestampNanosecondType>()
                    .value(i)
                    .div_euclid(1_000_000),
            };
            Value::Date(v)
        }
        ArrowType::List(_) => {
            let list = array.as_list::<i32>();
            let inner = list.value(i);
            Value::from_values(
                (0..inner.len())
                    .map(|j| value_at(inner.as_ref(), j))
                    .collect(),
            )
        }
        ArrowType::LargeList(_) => {
            let list = array.as_list::<i64>();
            let inner = list.value(i);
            Value::from_values(
                (0..inner.len())
                    .map(|j| value_at(inner.as_ref(), j))
                    .collect(),
            )
        }
        ArrowType::Int8
        | ArrowType::Int16
        | ArrowType::UInt8
        | ArrowType::UInt16
        | ArrowType::UInt32 => {
            match datafusion::arrow::compute::cast(&array.slice(i, 1), &ArrowType::Int64) {
                Ok(a) => value_at(a.as_ref(), 0),
                Err(_) => Value::Null,
            }
        }
        ArrowType::Float32 | ArrowType::Float16 => {
            match datafusion::arrow::compute::cast(&array.slice(i, 1), &ArrowType::Float64) {
                Ok(a) => value_at(a.as_ref(), 0),
                Err(_) => Value::Null,
            }
        }
        _ => Value::Null,
    }
}

/// The Arrow type that holds one value of an ES|QL type.
pub fn arrow_type(t: DataType) -> ArrowType {
    match t {
        DataType::Keyword
        | DataType::Text
        | DataType::Ip
        | DataType::Version
        | DataType::Unsupported
        | DataType::AggregateMetricDouble => ArrowType::Utf8,
        DataType::Integer => ArrowType::Int32,
        DataType::Long => ArrowType::Int64,
        DataType::UnsignedLong => ArrowType::UInt64,
        DataType::Double => ArrowType::Float64,
        DataType::Boolean => ArrowType::Boolean,
        DataType::Date => ArrowType::Timestamp(TimeUnit::Millisecond, None),
        DataType::Null => ArrowType::Null,
        DataType::DatePeriod | DataType::TimeDuration => ArrowType::Int64,
    }
}

pub fn list_of(inner: ArrowType) -> ArrowType {
    ArrowType::List(Arc::new(Field::new("item", inner, true)))
}

/// Builds an array of ES type `t` from values; `multi` makes it a List column so rows may
/// hold several values.
pub fn build_array(t: DataType, multi: bool, values: &[Value]) -> ArrayRef {
    if multi {
        let inner_type = arrow_type(t);
        let mut offsets = vec![0i32];
        let mut flat: Vec<Value> = vec![];
        let mut valid = vec![];
        for v in values {
            let vs = v.values();
            flat.extend(vs.iter().cloned());
            offsets.push(flat.len() as i32);
            valid.push(!vs.is_empty());
        }
        let inner = build_array(t, false, &flat);
        let field = Arc::new(Field::new("item", inner_type, true));
        return Arc::new(ListArray::new(
            field,
            datafusion::arrow::buffer::OffsetBuffer::new(offsets.into()),
            inner,
            Some(valid.into()),
        ));
    }
    match t {
        DataType::Keyword
        | DataType::Text
        | DataType::Ip
        | DataType::Version
        | DataType::Unsupported
        | DataType::AggregateMetricDouble => {
            let mut b = StringBuilder::with_capacity(values.len(), values.len() * 16);
            for v in values {
                match single(v) {
                    Value::Str(s) => b.append_value(s),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Integer => Arc::new(
            values
                .iter()
                .map(|v| match single(v) {
                    Value::Int(x) => Some(*x),
                    _ => None,
                })
                .collect::<Int32Array>(),
        ),
        DataType::Long | DataType::DatePeriod | DataType::TimeDuration => Arc::new(
            values
                .iter()
                .map(|v| match single(v) {
                    Value::Long(x) => Some(*x),
                    _ => None,
                })
                .collect::<Int64Array>(),
        ),
        DataType::UnsignedLong => Arc::new(
            values
                .iter()
                .map(|v| match single(v) {
                    Value::UnsignedLong(x) => Some(*x),
                    _ => None,
                })
                .collect::<UInt64Array>(),
        ),
        DataType::Double => Arc::new(
            values
                .iter()
                .map(|v| match single(v) {
                    Value::Double(x) => Some(*x),
                    _ => None,
                })
                .collect::<Float64Array>(),
        ),
        DataType::Boolean => Arc::new(
            values
                .iter()
                .map(|v| match single(v) {
                    Value::Bool(x) => Some(*x),
                    _ => None,
                })
                .collect::<BooleanArray>(),
        ),
        DataType::Date => Arc::new(
            values
                .iter()
                .map(|v| match single(v) {
                    Value::Date(x) => Some(*x),
                    _ => None,
                })
                .collect::<TimestampMillisecondArray>(),
        ),
        DataType::Null => Arc::new(NullArray::new(values.len())),
    }
}

fn single(v: &Value) -> &Value {
    match v {
        Value::Multi(vs) => vs.first().unwrap_or(&Value::Null),
        other => other,
    }
}

/// ES ordering of two values of one type: numbers numerically, strings by UTF-8 bytes,
/// false < true, dates chronologically.
pub fn cmp_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let num = |v: &Value| match v {
        Value::Int(i) => Some(*i as f64),
        Value::Long(l) => Some(*l as f64),
        Value::UnsignedLong(u) => Some(*u as f64),
        Value::Double(d) => Some(*d),
        _ => None,
    };
    match (a, b) {
        (Value::Long(x), Value::Long(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::UnsignedLong(x), Value::UnsignedLong(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        },
    }
}
