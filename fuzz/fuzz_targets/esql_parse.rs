//! The ES|QL lexer and parser on arbitrary text: never a panic or a stack overflow, and every
//! error points inside the query (the CLI draws a caret at that span).
#![no_main]

use libfuzzer_sys::fuzz_target;

fn check_error(text: &str, err: &esql::EsqlError) {
    assert!(!err.problems.is_empty(), "an error without a problem");
    for p in &err.problems {
        assert!(p.span.start <= p.span.end, "inverted span {:?}", p.span);
        assert!(
            p.span.end <= text.len(),
            "span {:?} past the end ({})",
            p.span,
            text.len()
        );
        assert!(
            text.is_char_boundary(p.span.start),
            "span {:?} inside a character",
            p.span
        );
        assert!(
            text.is_char_boundary(p.span.end),
            "span {:?} inside a character",
            p.span
        );
        assert!(
            p.position.line >= 1 && p.position.column >= 1,
            "{:?}",
            p.position
        );
        assert!(!p.message.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match esql::parse(text) {
        Ok(_) => {}
        Err(e) => check_error(text, &e),
    }
    // The same text as a query tail, where hunts keep their filters.
    let query = format!("FROM logs-aws.cloudtrail-* | WHERE {text}");
    if let Err(e) = esql::parse(&query) {
        check_error(&query, &e);
    }
    if let Err(e) = esql::parse_expression(text) {
        check_error(text, &e);
    }
});
