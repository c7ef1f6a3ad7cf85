//! The ES|QL language: lexer, parser, AST with spans, and the analyzer that resolves names
//! and types with Elasticsearch's error messages. No IO and no DataFusion here, so the
//! crate builds in seconds and can be fuzzed on its own.
//!
//! The public API is curated: the AST (`ast`), the function-catalog contract the engine
//! implements (`catalog`), the analyzer and its typed IR (`analyzer`, re-exported here),
//! the DISSECT and GROK pattern compilers (`dissect`, `grok`), ES's metadata fields
//! (`metadata`), and the items re-exported below. The lexer, the parser's internals and the helper modules are private.

pub mod analyzer;
pub mod ast;
pub mod catalog;
pub mod dissect;
pub mod grok;
pub mod metadata;

mod error;
mod lexer;
mod params;
mod parser;
mod span;
mod typed;
mod types;

pub use analyzer::{
    analyze, Analyzed, Column, EnrichPolicy, ResolveError, SourceResolver, Step, TExpr, TKind,
    TSortKey, TSource,
};
pub use error::{ErrorKind, EsqlError, Problem};
pub use params::{is_param_name, ParamError, ParamValue, Params};
pub use parser::{
    parse, parse_expression, parse_with_params, MAX_EXPRESSION_DEPTH, MAX_QUERY_LENGTH,
};
pub use span::{Position, Span};
pub use types::DataType;
