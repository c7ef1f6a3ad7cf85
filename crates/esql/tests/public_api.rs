//! The paths other crates (engine, trailhunt) use, so that moving code inside esql cannot
//! break them unnoticed. Add a path here when another crate starts using it.

#![allow(unused_imports)]

use esql::analyzer::{
    analyze, castable, comparable, contains_agg, is_constant, literal_type, show_columns,
    wildcard_match, Analyzed, Column, EnrichPolicy, SourceResolver, Step, TExpr, TKind, TSortKey,
    TSource, DEFAULT_LIMIT, MAX_LIMIT,
};
use esql::ast::{BinaryOp, Literal, Show, TimeSpan};
use esql::catalog::{
    arity, expect, is_any, is_date, is_integral, is_ip, is_numeric, is_orderable, is_string,
    ArgError, Args, Catalog, FunctionKind, Signature, TypeRule,
};
use esql::dissect::DissectPattern;
use esql::grok::GrokPattern;
use esql::{
    parse, parse_expression, parse_with_params, DataType, ErrorKind, EsqlError, ParamError,
    ParamValue, Params, Position, Problem, Span,
};

struct Empty;

impl SourceResolver for Empty {
    fn resolve(&self, _: &[String]) -> Result<Vec<esql::Column>, esql::ResolveError> {
        Ok(vec![])
    }

    fn enrich_policy(&self, name: &str) -> Result<esql::EnrichPolicy, esql::ResolveError> {
        Err(esql::ResolveError::UnknownEnrichPolicy(name.to_string()))
    }
}

#[test]
fn paths_used_elsewhere_resolve() {
    assert!(esql::analyzer::wildcard_match("a*", "ab"));
    assert_eq!(esql::analyzer::show_columns(Show::Info).len(), 3);
    let p = esql::Position::of("ab", 1);
    assert_eq!(p.to_string(), "1:2");
    let ast = esql::parse_with_params("row a = 1", &esql::Params::new()).unwrap();
    let analyzed: esql::Analyzed = esql::analyze("row a = 1", &ast, &NoFunctions, &Empty).unwrap();
    assert!(matches!(analyzed.source, esql::TSource::Row(_)));
    assert!(DissectPattern::parse("%{a}").is_ok());
    assert!(GrokPattern::parse("%{WORD:a}").is_ok());
}

struct NoFunctions;

impl Catalog for NoFunctions {
    fn lookup(&self, _: &str) -> Option<Signature> {
        None
    }
}
