//! The ES|QL language: lexer, parser, AST with spans, and the analyzer that resolves names
//! and types with Elasticsearch's error messages. No IO and no DataFusion here, so the
//! crate builds in seconds and can be fuzzed on its own.

pub mod analyzer;
pub mod ast;
pub mod catalog;
pub mod dissect;
pub mod error;
pub mod grok;
pub mod lexer;
pub mod params;
pub mod parser;
pub mod span;
pub mod types;

pub use analyzer::{
    analyze, Analyzed, Column, EnrichPolicy, SourceResolver, Step, TExpr, TKind, TSortKey, TSource,
};
pub use error::{ErrorKind, EsqlError};
pub use params::{ParamValue, Params};
pub use parser::{parse, parse_with_params};
pub use span::{Position, Span};
pub use types::DataType;
