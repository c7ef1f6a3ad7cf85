//! The in-test data and function catalog the verifier tests analyze against.

use esql::ast::Literal;
use esql::catalog::{arity, expect, is_orderable, is_string, ArgError, Args, Catalog};
use esql::catalog::{FunctionKind, Signature};
use esql::{Column, DataType, EnrichPolicy, SourceResolver};

/// `test` (an employees-like index, also as `employees` for queries copied from ES), `languages_lookup` and the `languages_policy` policy.
pub struct TestData;

fn col(name: &str, ty: DataType) -> Column {
    Column {
        name: name.to_string(),
        ty,
    }
}

impl SourceResolver for TestData {
    fn resolve(&self, patterns: &[String]) -> Result<Vec<Column>, esql::ResolveError> {
        match patterns[0].as_str() {
            "test" | "employees" => Ok(vec![
                col("emp_no", DataType::Integer),
                col("salary", DataType::Integer),
                col("languages", DataType::Integer),
                col("first_name", DataType::Keyword),
                col("last_name", DataType::Keyword),
                col("hire_date", DataType::Date),
                col("still_hired", DataType::Boolean),
                col("height", DataType::Double),
                col("weight", DataType::Double),
                col("blob", DataType::Unsupported),
            ]),
            "languages_lookup" => Ok(vec![
                col("language_code", DataType::Integer),
                col("language_name", DataType::Keyword),
            ]),
            other => Err(esql::ResolveError::UnknownIndex(other.to_string())),
        }
    }

    fn enrich_policy(&self, name: &str) -> Result<EnrichPolicy, esql::ResolveError> {
        if name != "languages_policy" {
            return Err(esql::ResolveError::UnknownEnrichPolicy(name.to_string()));
        }
        Ok(EnrichPolicy {
            index: "languages".into(),
            match_field: "language_code".into(),
            columns: vec![
                col("language_code", DataType::Integer),
                col("language_name", DataType::Keyword),
            ],
        })
    }
}

/// A few functions with ES-like type rules; named options use the catalog's default.
pub struct TestCatalog;

fn count(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 0, Some(1))?;
    Ok(DataType::Long)
}

fn min_max(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(a, 0, is_orderable, "boolean, date, ip, string or numeric")?;
    Ok(a.types[0])
}

fn count_distinct(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(2))?;
    if a.types.len() == 2 && !a.constant[1] {
        return Err(ArgError::NotConstant { index: 1 });
    }
    Ok(DataType::Long)
}

fn length(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(a, 0, is_string, "string")?;
    Ok(DataType::Integer)
}

fn to_ip(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(a, 0, is_string, "string")?;
    Ok(DataType::Ip)
}

fn odd(_: &Args<'_>) -> Result<DataType, ArgError> {
    Err(ArgError::Other("odd(1) is odd".into()))
}

impl Catalog for TestCatalog {
    fn lookup(&self, name: &str) -> Option<Signature> {
        let (name, kind, rule): (&'static str, _, esql::catalog::TypeRule) =
            match name.to_ascii_uppercase().as_str() {
                "COUNT" => ("COUNT", FunctionKind::Aggregate, count),
                "MAX" => ("MAX", FunctionKind::Aggregate, min_max),
                "MIN" => ("MIN", FunctionKind::Aggregate, min_max),
                "COUNT_DISTINCT" => ("COUNT_DISTINCT", FunctionKind::Aggregate, count_distinct),
                "LENGTH" => ("LENGTH", FunctionKind::Scalar, length),
                "TO_IP" => ("TO_IP", FunctionKind::Scalar, to_ip),
                "TO_IP_OCTAL" => ("TO_IP_OCTAL", FunctionKind::Scalar, to_ip),
                "ODD" => ("ODD", FunctionKind::Scalar, odd),
                _ => return None,
            };
        Some(Signature { name, kind, rule })
    }
}

/// [`TestCatalog`] whose `TO_IP` takes a `leading_zeros` option, as the engine's does.
pub struct WithOptions;

impl Catalog for WithOptions {
    fn lookup(&self, name: &str) -> Option<Signature> {
        TestCatalog.lookup(name)
    }

    fn with_options(
        &self,
        name: &str,
        options: &[(String, Literal)],
    ) -> Result<&'static str, String> {
        match (name, options) {
            ("TO_IP", [(k, Literal::Keyword(v))]) if k == "leading_zeros" && v == "octal" => {
                Ok("TO_IP_OCTAL")
            }
            ("TO_IP", [(k, Literal::Keyword(v))]) => Err(format!(
                "Illegal value [{v}] for option [{k}] in [{{call}}]"
            )),
            _ => Err(format!("function [{name}] does not take named options")),
        }
    }
}
