//! Parser unit tests: commands, precedence, literals, spans, parameters, error positions.

use super::*;

fn err(q: &str) -> String {
    parse(q).unwrap_err().to_string()
}

#[test]
fn parses_the_seed_hunt() {
    let q = "from logs-aws.cloudtrail*\n| where @timestamp > now() - 7 day\n| where\n    event.provider in (\"ec2.amazonaws.com\",\"route53resolver.amazonaws.com\",\"s3.amazonaws.com\", \"cloudtrail.amazonaws.com\")\n    and event.action in (\"DeleteFlowLogs\",\"DeleteResolverQueryLogConfig\", \"DeleteTrail\", \"StopLogging\")\n| eval date = DATE_FORMAT(\"YYYY-mm-dd\", @timestamp)\n| stats service_logging_delete_count = count(*) by event.provider, event.action, event.outcome, date, aws.cloudtrail.user_identity.arn\n";
    let parsed = parse(q).unwrap();
    assert_eq!(parsed.commands.len(), 4);
    match &parsed.source {
        SourceCommand::From { patterns, .. } => {
            assert_eq!(patterns[0].0, "logs-aws.cloudtrail*")
        }
        other => panic!("{other:?}"),
    }
    match &parsed.commands[3] {
        Command::Stats { aggs, groups, .. } => {
            assert_eq!(aggs.len(), 1);
            assert_eq!(groups.len(), 5);
            assert_eq!(
                groups[4].expr.kind,
                ExprKind::Column("aws.cloudtrail.user_identity.arn".into())
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn precedence() {
    let e = parse_expression("NOT a == 1 AND b OR c").unwrap();
    let ExprKind::Binary {
        op: BinaryOp::Or,
        left,
        ..
    } = e.kind
    else {
        panic!()
    };
    let ExprKind::Binary {
        op: BinaryOp::And,
        left: not,
        ..
    } = left.kind
    else {
        panic!()
    };
    assert!(matches!(not.kind, ExprKind::Not(_)));
    let e = parse_expression("-a * b + c % 2").unwrap();
    let ExprKind::Binary {
        op: BinaryOp::Add,
        left,
        ..
    } = e.kind
    else {
        panic!()
    };
    assert!(matches!(
        left.kind,
        ExprKind::Binary {
            op: BinaryOp::Mul,
            ..
        }
    ));
}

#[test]
fn spans_name_expressions_verbatim() {
    let q = "row a = 1 | eval  a  +  1, COUNT(*)";
    let parsed = parse(q).unwrap();
    let Command::Eval { fields, .. } = &parsed.commands[0] else {
        panic!()
    };
    assert_eq!(fields[0].expr.span.text(q), "a  +  1");
    assert_eq!(fields[1].expr.span.text(q), "COUNT(*)");
}

#[test]
fn time_spans_and_literals() {
    for s in [
        "1day", "1 DAY", "-3 hours", "2 mo", "5 min", "10 ms", "1 q", "1 yr",
    ] {
        parse_expression(s).unwrap();
    }
    let e = parse_expression("[1, 2.5]").unwrap();
    assert_eq!(
        e.kind,
        ExprKind::Literal(Literal::List(vec![
            Literal::Double(1.0),
            Literal::Double(2.5)
        ]))
    );
    assert_eq!(
        parse_expression("9223372036854775808").unwrap().kind,
        ExprKind::Literal(Literal::UnsignedLong(9223372036854775808))
    );
}

#[test]
fn errors_have_positions() {
    assert_eq!(err("from x | foo"), "line 1:10: mismatched input 'foo' expecting {'dissect', 'drop', 'enrich', 'eval', 'grok', 'keep', 'limit', 'mv_expand', 'rename', 'sort', 'stats', 'where', 'lookup'}");
    assert_eq!(
        err("from x | fork (where a > 1)"),
        "line 1:10: command [FORK] is not supported yet by trailhunt"
    );
    assert_eq!(
        err("from x\n| change_point v"),
        "line 2:3: command [CHANGE_POINT] is not supported yet by trailhunt"
    );
    parse("from x | lookup join lang_lookup on code | enrich _any:pol on a with b = c, d").unwrap();
    assert!(err("from x | where a < b < c").starts_with("line 1:22: mismatched input '<'"));
    assert!(err("row a = ").starts_with("line 1:9: extraneous input <EOF>"));
}

#[test]
fn commands() {
    let q = parse("from a, b* metadata _index | keep a*, b | drop c | rename a as b, x = y | sort a desc nulls last, b | limit 5").unwrap();
    assert_eq!(q.commands.len(), 5);
    let q = parse("row a = 1 | stats c = count(*) where a > 1, max(a) by b = a + 1, a").unwrap();
    let Command::Stats { aggs, groups, .. } = &q.commands[0] else {
        panic!()
    };
    assert!(aggs[0].filter.is_some());
    assert_eq!(groups.len(), 2);
    let q = parse("from x | where `first name` like \"A*\" and y not rlike (\"a.*\", \"b\") and z is not null and w not in (1, 2)").unwrap();
    assert_eq!(q.commands.len(), 1);
}

#[test]
fn show() {
    let q = parse("show info | keep version").unwrap();
    assert!(matches!(
        q.source,
        SourceCommand::Show {
            what: Show::Info,
            ..
        }
    ));
    assert_eq!(q.commands.len(), 1);
    let q = parse("SHOW FUNCTIONS").unwrap();
    assert!(matches!(
        q.source,
        SourceCommand::Show {
            what: Show::Functions,
            ..
        }
    ));
    assert!(err("show tables").starts_with("line 1:6: mismatched input 'tables'"));
}

#[test]
fn params_bind_while_parsing() {
    let mut ps = Params::new();
    ps.add_spec("5").unwrap();
    ps.add_spec("\"x\"").unwrap();
    let q = parse_with_params("row a = ? | eval b = ? | limit ?", &ps);
    assert!(q
        .unwrap_err()
        .to_string()
        .contains("Not enough actual parameters 2"));
    let q = parse_with_params("row a = ?1, b = ?2 | limit ?1", &ps).unwrap();
    let SourceCommand::Row { fields, .. } = &q.source else {
        panic!()
    };
    assert_eq!(fields[0].expr.kind, ExprKind::Literal(Literal::Integer(5)));
    assert_eq!(
        fields[1].expr.kind,
        ExprKind::Literal(Literal::Keyword("x".into()))
    );
    assert!(matches!(q.commands[0], Command::Limit { n: 5, .. }));
    let e = parse_with_params("row a = ?1, b = ?", &ps).unwrap_err();
    assert!(e.to_string().contains("Inconsistent parameter declaration"));
    let e = parse_with_params("row a = ?3", &ps).unwrap_err();
    assert!(e.to_string().ends_with(
        "No parameter is defined for position 3, did you mean any position between 1 and 2?"
    ));

    let mut named = Params::new();
    named.add_spec("f=first_name").unwrap();
    named.add_spec("n=10").unwrap();
    let q = parse_with_params("from e | keep ??f | where ??f == ?n", &named).unwrap();
    let Command::Where { cond, .. } = &q.commands[1] else {
        panic!()
    };
    let ExprKind::Binary { left, right, .. } = &cond.kind else {
        panic!()
    };
    assert_eq!(left.kind, ExprKind::Column("first_name".into()));
    assert_eq!(right.kind, ExprKind::Literal(Literal::Integer(10)));
    let e = parse_with_params("row a = ?m", &named).unwrap_err();
    assert!(e
        .to_string()
        .ends_with("Unknown query parameter [m], did you mean any of [f, n]?"));
    assert!(parse("row a = ?")
        .unwrap_err()
        .to_string()
        .ends_with("Not enough actual parameters 0"));
}

#[test]
fn named_options_come_last() {
    let e = parse_expression(r#"to_ip(s, {"leading_zeros": "octal", "n": -1})"#).unwrap();
    let ExprKind::Call { args, .. } = &e.kind else {
        panic!()
    };
    assert_eq!(
        args[1].kind,
        ExprKind::Options(vec![
            ("leading_zeros".into(), Literal::Keyword("octal".into())),
            ("n".into(), Literal::Integer(-1)),
        ])
    );
    assert!(parse_expression(r#"f(s, {"a": x})"#)
        .unwrap_err()
        .to_string()
        .contains("only constant value is supported"));
    assert!(parse_expression(r#"f(s, {"a": 1}, 2)"#).is_err());
}

/// Hostile nesting gives an error, never a stack overflow; the limit leaves room for any
/// real query (the library's deepest is far below it).
#[test]
fn expression_depth_and_length_are_limited() {
    // A query thread's stack (the engine runs queries on 256 MiB stacks); libtest's 2 MiB
    // is too small for the deepest accepted tree in a debug build.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(depth_and_length)
        .unwrap()
        .join()
        .unwrap();
}

fn depth_and_length() {
    let deep = |n: usize| format!("from x | where {}a{} == 1", "(".repeat(n), ")".repeat(n));
    let e = err(&deep(100_000));
    assert!(
        e.contains("ESQL statement exceeded the maximum expression depth allowed (400)"),
        "{e}"
    );
    parse(&deep(300)).unwrap();
    let ors = format!("from x | where {}", vec!["a == 1"; 20_000].join(" or "));
    assert!(err(&ors).contains("maximum expression depth"));
    let ors = format!("from x | where {}", vec!["a == 1"; 300].join(" or "));
    parse(&ors).unwrap();
    let neg = format!("from x | eval y = {}1", "-".repeat(50_000));
    assert!(err(&neg).contains("maximum expression depth"));
    let nots = format!("from x | where {}a", "not ".repeat(50_000));
    assert!(err(&nots).contains("maximum expression depth"));
    let casts = format!("from x | eval y = a{}", "::long".repeat(50_000));
    assert!(err(&casts).contains("maximum expression depth"));
    let calls = format!(
        "from x | eval y = {}a{}",
        "abs(".repeat(50_000),
        ")".repeat(50_000)
    );
    assert!(err(&calls).contains("maximum expression depth"));
    // Wide but flat is fine: a long IN list.
    let list: Vec<String> = (0..50_000).map(|i| format!("\"v{i}\"")).collect();
    parse(&format!("from x | where a in ({})", list.join(","))).unwrap();
    let long = format!("from x | where a == \"{}\"", "x".repeat(1_000_001));
    assert_eq!(
        err(&long),
        format!(
            "line 1:1: ESQL statement is too large [{} characters > 1000000]",
            long.len()
        )
    );
}
