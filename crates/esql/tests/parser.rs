//! Parser behaviour through the public API: precedence, literals, parameters, and the
//! position of parse errors.

use esql::ast::{BinaryOp, Command, ExprKind, Literal, SourceCommand};
use esql::{parse, parse_expression, parse_with_params, ErrorKind, Params};

fn err(q: &str) -> String {
    let e = parse(q).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Parsing, "{e}");
    e.to_string()
}

fn op(e: &ExprKind) -> BinaryOp {
    match e {
        ExprKind::Binary { op, .. } => *op,
        other => panic!("{other:?}"),
    }
}

#[test]
fn multiplication_binds_tighter_than_addition_and_and_than_or() {
    let e = parse_expression("a + b * c").unwrap();
    assert_eq!(op(&e.kind), BinaryOp::Add);
    let ExprKind::Binary { right, .. } = &e.kind else {
        unreachable!()
    };
    assert_eq!(op(&right.kind), BinaryOp::Mul);

    let e = parse_expression("a or b and c").unwrap();
    assert_eq!(op(&e.kind), BinaryOp::Or);
    let e = parse_expression("a - b - c").unwrap();
    let ExprKind::Binary { left, .. } = &e.kind else {
        unreachable!()
    };
    assert_eq!(op(&left.kind), BinaryOp::Sub, "left-associative");
    // A comparison binds looser than arithmetic and does not chain.
    let e = parse_expression("a + 1 > b * 2").unwrap();
    assert_eq!(op(&e.kind), BinaryOp::Gt);
    assert_eq!(
        err("row x = 1 | where a < b < c"),
        "line 1:25: mismatched input '<' expecting {<EOF>, '|', 'and', 'or'}"
    );
}

#[test]
fn integer_literals_take_the_narrowest_type() {
    let lit = |s: &str| match parse_expression(s).unwrap().kind {
        ExprKind::Literal(l) => l,
        other => panic!("{other:?}"),
    };
    assert_eq!(lit("2147483647"), Literal::Integer(i32::MAX));
    assert_eq!(lit("2147483648"), Literal::Long(2147483648));
    assert_eq!(lit("18446744073709551615"), Literal::UnsignedLong(u64::MAX));
    assert_eq!(lit("1.5"), Literal::Double(1.5));
    assert_eq!(lit("\"a\\tb\""), Literal::Keyword("a\tb".into()));
    assert_eq!(
        lit("[1, 3000000000]"),
        Literal::List(vec![Literal::Long(1), Literal::Long(3000000000)])
    );
    assert_eq!(
        lit("[-2147483648]"),
        Literal::List(vec![Literal::Integer(i32::MIN)])
    );
    assert_eq!(
        err("row a = [1, \"x\"]"),
        "line 1:9: list literal elements must all be of the same type"
    );
}

#[test]
fn limit_must_be_a_non_negative_integer() {
    assert_eq!(
        err("row a = 1 | limit x"),
        "line 1:19: mismatched input 'x' expecting {INTEGER_LITERAL, '?'}"
    );
    let mut p = Params::new();
    p.add_spec("-1").unwrap();
    assert_eq!(
        parse_with_params("row a = 1 | limit ?", &p)
            .unwrap_err()
            .to_string(),
        "line 1:19: Invalid value for LIMIT [?], must be a non-negative integer"
    );
}

#[test]
fn params_bind_values_and_identifiers() {
    let mut p = Params::new();
    p.add_spec("field=first_name").unwrap();
    p.add_spec("n=3").unwrap();
    let q = parse_with_params("from t | where ??field == ?n | limit ?n", &p).unwrap();
    let Command::Where { cond, .. } = &q.commands[0] else {
        panic!("{q:?}")
    };
    let ExprKind::Binary { left, right, .. } = &cond.kind else {
        panic!("{cond:?}")
    };
    assert_eq!(left.kind, ExprKind::Column("first_name".into()));
    assert_eq!(right.kind, ExprKind::Literal(Literal::Integer(3)));
    assert!(matches!(q.commands[1], Command::Limit { n: 3, .. }));

    let e = parse_with_params("row a = ?n, b = ?", &p).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 1:17: Inconsistent parameter declaration, use one of positional, named or anonymous params but not a combination of anonymous and named"
    );
    let e = parse_with_params("row a = ??n", &p).unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 1:9: Query parameter [??n] must be a string naming a field or function"
    );
}

#[test]
fn parse_errors_point_at_the_token() {
    assert_eq!(
        err("from t | where a = 1"),
        "line 1:18: mismatched input '=' expecting {'==', '!=', '<', '<=', '>', '>='} (use == to compare)"
    );
    assert_eq!(
        err("from t | eval x = f(1, {\"a\": 1, \"a\": 2})"),
        "line 1:33: Duplicated function arguments with the same name [a] is not supported"
    );
    assert_eq!(
        err("from t | dissect a \"%{b}\" foo = \"x\""),
        "line 1:27: Invalid option for dissect: [foo]"
    );
    assert_eq!(
        err("explain from t"),
        "line 1:1: command [EXPLAIN] is not supported yet by trailhunt"
    );
    assert!(matches!(
        parse("row a = 1").unwrap().source,
        SourceCommand::Row { .. }
    ));
}

/// ES's `LogicalPlanBuilder.visitFromCommand`: metadata names are checked while parsing,
/// unknown ones first, then repeats (the first declaration as `@line:column`).
#[test]
fn metadata_names_are_checked_while_parsing() {
    assert_eq!(
        err("from test metadata _id, _foo"),
        "line 1:25: unsupported metadata field [_foo]"
    );
    assert_eq!(
        err("from test metadata _id, _index, _id"),
        "line 1:33: metadata field [_id] already declared [@1:20]"
    );
    let q = parse("from test metadata _index, _id, _version, _score, _source").unwrap();
    let SourceCommand::From { metadata, .. } = &q.source else {
        unreachable!()
    };
    let names: Vec<&str> = metadata.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["_index", "_id", "_version", "_score", "_source"]);
}

/// Found by the `esql_parse` fuzz target: a lexer error on a multi-byte character had a
/// one-byte span that ended inside the character (a caret drawn from it sliced the query), and
/// an error at the end of the text had a span past the end.
#[test]
fn error_spans_cover_whole_characters_and_stay_inside_the_query() {
    for q in [
        "FROM logs | WHERE TionЛ.*\" and x == 1",
        "FROM logs | WHERE a == 1 €",
        "FROM logs | EVAL x = 1 🦀",
        "ROW x = ¬1",
        "FROM logs | WHERE",
        "FROM logs | WHERE \"unterminated",
        // A backslash before a multi-byte character used to panic (slicing inside it).
        "(\"\\\u{1cd}ral(c",
        "ROW x = \"a\\€\"",
    ] {
        let e = esql::parse(q).expect_err(q);
        for p in &e.problems {
            assert!(
                p.span.start <= p.span.end && p.span.end <= q.len(),
                "{q}: {:?}",
                p.span
            );
            assert!(
                q.is_char_boundary(p.span.start) && q.is_char_boundary(p.span.end),
                "{q}: {:?}",
                p.span
            );
        }
    }
}
