//! One DataFusion scalar UDF type for every ES|QL function whose semantics differ from
//! SQL's: it evaluates row by row on [`Value`]s, applies ES's multi-value rule (a
//! single-value function on a multi-value gives null plus two warnings) and turns kernel
//! failures into null plus a warning at the expression's position. A function is then
//! just a kernel (`fn(&[Value]) -> Result<Value, Failure>`) and a signature.

use crate::value::{arrow_type, build_array, list_of, value_at, Value};
use crate::warnings::{Site, Warnings, MULTI_VALUE};
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use esql::DataType;
use std::hash::{Hash, Hasher};

/// A function body. `Err(failure)` means "null, and warn with the failure's message".
pub type Kernel = fn(&[Value], &Ctx) -> Result<Value, Failure>;

/// Why a value could not be computed, as the message of ES's warning
/// (`java.lang.ArithmeticException: long overflow`, …). Row functions turn it into null
/// plus that warning; it converts from a message, so `Err("…".into())` or `?` on a
/// message-returning helper is all a kernel needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Failure(pub String);

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure(message)
    }
}

impl PartialEq<&str> for Failure {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Failure {
        Failure(message.to_string())
    }
}

/// What a kernel may know about its call besides the values.
pub struct Ctx {
    /// The ES|QL result type (e.g. so TO_STRING knows an `ip` from a `keyword`).
    pub ret: DataType,
    /// The ES|QL types of the arguments.
    pub arg_types: Vec<DataType>,
    /// Failures that did not make the whole result null (a dropped value of a multi-value).
    pub(crate) side_warnings: std::cell::RefCell<Vec<String>>,
}

impl Ctx {
    pub fn new(ret: DataType, arg_types: Vec<DataType>) -> Ctx {
        Ctx {
            ret,
            arg_types,
            side_warnings: Default::default(),
        }
    }

    pub fn warn(&self, message: String) {
        self.side_warnings.borrow_mut().push(message);
    }

    /// The result of converting a (multi-)value one element at a time: the first failure is
    /// the error when nothing converted, else a warning beside the converted values.
    pub fn values_or_error(
        &self,
        out: Vec<crate::value::Value>,
        first_err: Option<Failure>,
    ) -> Result<crate::value::Value, Failure> {
        match first_err {
            Some(e) if out.is_empty() => Err(e),
            Some(e) => {
                self.warn(e.0);
                Ok(crate::value::Value::from_values(out))
            }
            None => Ok(crate::value::Value::from_values(out)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MultiValues {
    /// Single-value function: a multi-valued argument gives null plus a warning.
    Reject,
    /// The kernel sees multi-values as they are (conversions, COALESCE, MV_*).
    Accept,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nulls {
    /// Any null argument makes the result null without calling the kernel.
    Propagate,
    /// The kernel handles nulls itself (COALESCE, CASE, IS NULL-like functions).
    Pass,
}

#[derive(Debug, Clone)]
pub struct RowUdf {
    name: String,
    kernel: Kernel,
    ret: DataType,
    ret_multi: bool,
    multi: MultiValues,
    nulls: Nulls,
    arg_types: Vec<DataType>,
    site: Site,
    warnings: Warnings,
    /// This function's number among the query's functions (see [`Warnings::next_ordinal`]).
    ordinal: u32,
    signature: Signature,
}

impl PartialEq for RowUdf {
    fn eq(&self, other: &Self) -> bool {
        // Two calls are the same expression only at the same site: warnings name it.
        self.name == other.name
            && self.kernel as usize == other.kernel as usize
            && self.ret == other.ret
            && self.ret_multi == other.ret_multi
            && self.site == other.site
            && self.arg_types == other.arg_types
    }
}

impl Eq for RowUdf {}

impl Hash for RowUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.site.hash(state);
        self.ret.hash(state);
    }
}

pub struct RowUdfSpec {
    pub name: &'static str,
    pub kernel: Kernel,
    pub ret: DataType,
    pub ret_multi: bool,
    pub multi: MultiValues,
    pub nulls: Nulls,
}

impl RowUdf {
    pub fn udf(
        spec: RowUdfSpec,
        arg_types: Vec<DataType>,
        site: Site,
        warnings: Warnings,
    ) -> ScalarUDF {
        ScalarUDF::new_from_impl(RowUdf {
            name: format!("{}@{}:{}", spec.name, site.line, site.column),
            kernel: spec.kernel,
            ret: spec.ret,
            ret_multi: spec.ret_multi,
            multi: spec.multi,
            nulls: spec.nulls,
            arg_types,
            site,
            ordinal: warnings.next_ordinal(),
            warnings,
            // E(), PI(), TAU() take no arguments; DataFusion's variadic needs one.
            signature: Signature::one_of(
                vec![TypeSignature::VariadicAny, TypeSignature::Nullary],
                Volatility::Immutable,
            ),
        })
    }
}

impl RowUdf {
    /// This function's number among its query's functions, in planning order: planning the
    /// same query again gives the same function the same number (`crate::remote`).
    pub fn ordinal(&self) -> u32 {
        self.ordinal
    }
}

impl ScalarUDFImpl for RowUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[ArrowType]) -> DfResult<ArrowType> {
        let t = arrow_type(self.ret);
        Ok(if self.ret_multi { list_of(t) } else { t })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<DfResult<Vec<_>>>()?;
        let ctx = Ctx::new(self.ret, self.arg_types.clone());
        let mut out = Vec::with_capacity(rows);
        let mut row_args: Vec<Value> = Vec::with_capacity(arrays.len());
        for i in 0..rows {
            row_args.clear();
            row_args.extend(arrays.iter().map(|a| value_at(a.as_ref(), i)));
            out.push(self.eval_row(&row_args, &ctx));
            for msg in ctx.side_warnings.borrow_mut().drain(..) {
                self.warnings.failure(&self.site, &msg);
            }
        }
        Ok(ColumnarValue::Array(build_array(
            self.ret,
            self.ret_multi,
            &out,
        )))
    }
}

impl RowUdf {
    fn eval_row(&self, args: &[Value], ctx: &Ctx) -> Value {
        if self.multi == MultiValues::Reject && args.iter().any(|a| matches!(a, Value::Multi(_))) {
            self.warnings.failure(&self.site, MULTI_VALUE);
            return Value::Null;
        }
        if self.nulls == Nulls::Propagate && args.iter().any(Value::is_null) {
            return Value::Null;
        }
        match (self.kernel)(args, ctx) {
            Ok(v) => v,
            Err(Failure(msg)) => {
                self.warnings.failure(&self.site, &msg);
                Value::Null
            }
        }
    }
}
