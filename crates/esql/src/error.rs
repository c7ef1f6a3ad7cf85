//! Errors in Elasticsearch's wording, so users recognise them and tests can compare them
//! with ES: parsing errors are `line L:C: message`; verification errors are collected and
//! reported together as `Found N problem(s)\nline L:C: …`.

use crate::span::{Position, Span};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not ES|QL (ES answers `parsing_exception`).
    Parsing,
    /// The text is ES|QL but wrong for the data (ES answers `verification_exception`).
    Verification,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub span: Span,
    pub position: Position,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsqlError {
    pub kind: ErrorKind,
    pub problems: Vec<Problem>,
}

impl EsqlError {
    pub fn parsing(source: &str, span: Span, message: impl Into<String>) -> EsqlError {
        EsqlError {
            kind: ErrorKind::Parsing,
            problems: vec![Problem {
                span,
                position: Position::of(source, span.start),
                message: message.into(),
            }],
        }
    }

    pub fn verification(problems: Vec<Problem>) -> EsqlError {
        EsqlError {
            kind: ErrorKind::Verification,
            problems,
        }
    }

    /// ES's `type` for the error body (`parsing_exception` / `verification_exception`).
    pub fn es_type(&self) -> &'static str {
        match self.kind {
            ErrorKind::Parsing => "parsing_exception",
            ErrorKind::Verification => "verification_exception",
        }
    }

    /// The first problem's span, for pointing a caret at the query.
    pub fn primary_span(&self) -> Option<Span> {
        self.problems.first().map(|p| p.span)
    }
}

impl fmt::Display for EsqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Parsing => {
                let p = &self.problems[0];
                write!(f, "line {}: {}", p.position, p.message)
            }
            ErrorKind::Verification => {
                write!(f, "Found {} problem", self.problems.len())?;
                if self.problems.len() != 1 {
                    write!(f, "s")?;
                }
                for p in &self.problems {
                    write!(f, "\nline {}: {}", p.position, p.message)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for EsqlError {}
