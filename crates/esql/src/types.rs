//! ES|QL data types (esql-spec §4). These are the language's types; the engine maps them to
//! Arrow types, with multi-values as List columns of the same ES|QL type.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    Keyword,
    Text,
    Integer,
    Long,
    UnsignedLong,
    Double,
    Boolean,
    Date,
    Ip,
    Version,
    /// The type of `null` and of expressions computed only from null.
    Null,
    /// Mapped types ES|QL cannot read (flattened, geo_point in our CloudTrail schema).
    Unsupported,
    /// Literal-only span types (`1 month` vs `1 hour`); never a column type.
    DatePeriod,
    TimeDuration,
    /// A pre-aggregated metric (min, max, sum, value_count), made by
    /// `TO_AGGREGATE_METRIC_DOUBLE` and read by MIN/MAX/SUM/AVG/COUNT.
    AggregateMetricDouble,
}

impl DataType {
    /// The name ES prints in `_query` responses and error messages.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Keyword => "keyword",
            DataType::Text => "text",
            DataType::Integer => "integer",
            DataType::Long => "long",
            DataType::UnsignedLong => "unsigned_long",
            DataType::Double => "double",
            DataType::Boolean => "boolean",
            DataType::Date => "date",
            DataType::Ip => "ip",
            DataType::Version => "version",
            DataType::Null => "null",
            DataType::Unsupported => "unsupported",
            DataType::DatePeriod => "date_period",
            DataType::TimeDuration => "time_duration",
            DataType::AggregateMetricDouble => "aggregate_metric_double",
        }
    }

    /// ES's verifier says `datetime` for dates in type-mismatch messages.
    pub fn verifier_name(self) -> &'static str {
        match self {
            DataType::Date => "datetime",
            other => other.name(),
        }
    }

    /// Parses a mapping or cast type name (`keyword`, `int`, `datetime`, …).
    pub fn from_name(name: &str) -> Option<DataType> {
        Some(match name.to_ascii_lowercase().as_str() {
            "keyword" | "string" | "constant_keyword" | "wildcard" => DataType::Keyword,
            "text" | "match_only_text" => DataType::Text,
            "integer" | "int" | "short" | "byte" => DataType::Integer,
            "long" => DataType::Long,
            "unsigned_long" | "ul" => DataType::UnsignedLong,
            "double" | "float" | "half_float" | "scaled_float" => DataType::Double,
            "boolean" | "bool" => DataType::Boolean,
            "date" | "datetime" => DataType::Date,
            "ip" => DataType::Ip,
            "version" => DataType::Version,
            "null" => DataType::Null,
            "date_period" => DataType::DatePeriod,
            "time_duration" => DataType::TimeDuration,
            "aggregate_metric_double" => DataType::AggregateMetricDouble,
            "unsupported" => DataType::Unsupported,
            _ => return None,
        })
    }

    pub fn is_string(self) -> bool {
        matches!(self, DataType::Keyword | DataType::Text)
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            DataType::Integer | DataType::Long | DataType::UnsignedLong | DataType::Double
        )
    }

    pub fn is_span(self) -> bool {
        matches!(self, DataType::DatePeriod | DataType::TimeDuration)
    }

    /// Functions never return `text`: it reads as keyword (§4.4).
    pub fn widen_text(self) -> DataType {
        if self == DataType::Text {
            DataType::Keyword
        } else {
            self
        }
    }

    /// Numeric promotion for arithmetic and comparison (§4.2); `None` if not allowed.
    pub fn numeric_common(a: DataType, b: DataType) -> Option<DataType> {
        use DataType::*;
        Some(match (a, b) {
            (UnsignedLong, UnsignedLong) => UnsignedLong,
            (UnsignedLong, _) | (_, UnsignedLong) => return None,
            (Double, _) | (_, Double) => Double,
            (Long, _) | (_, Long) => Long,
            (Integer, Integer) => Integer,
            _ => return None,
        })
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
