//! Both outcomes of the rules, on hand-made pivot answers.

use super::*;
use crate::{Outcome, PivotAnswer};
use esql::{Column, DataType};
use hunts::Pivot;

const ME: &str = "arn:aws:iam::1:user/me";
const T0: i64 = 1_722_430_000_000;
const MIN: i64 = 60_000;

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

fn answer(id: &str, cols: &[(&str, DataType)], rows: Vec<Vec<Value>>) -> PivotAnswer {
    PivotAnswer {
        pivot: Pivot {
            id: id.into(),
            title: id.into(),
            query: String::new(),
            read: String::new(),
            each: None,
        },
        bound: vec![],
        outcome: Outcome::Rows(QueryResult {
            columns: cols
                .iter()
                .map(|(n, t)| Column {
                    name: n.to_string(),
                    ty: *t,
                })
                .collect(),
            rows,
            warnings: vec![],
        }),
    }
}

fn calls(outcome: &str) -> PivotAnswer {
    answer(
        "calls",
        &[
            ("@timestamp", DataType::Date),
            ("event.provider", DataType::Keyword),
            ("event.action", DataType::Keyword),
            ("event.outcome", DataType::Keyword),
            ("resource", DataType::Keyword),
            ("aws.cloudtrail.error_code", DataType::Keyword),
        ],
        vec![vec![
            Value::Date(T0),
            s("cloudtrail.amazonaws.com"),
            s("StopLogging"),
            s(outcome),
            s("trail-1"),
            if outcome == "failure" {
                s("AccessDenied")
            } else {
                Value::Null
            },
        ]],
    )
}

fn lifecycle(rows: Vec<(i64, &str, &str, &str)>) -> PivotAnswer {
    answer(
        "lifecycle",
        &[
            ("@timestamp", DataType::Date),
            ("when", DataType::Keyword),
            ("resource", DataType::Keyword),
            ("event.action", DataType::Keyword),
            ("event.outcome", DataType::Keyword),
            (PRINCIPAL_COLUMN, DataType::Keyword),
        ],
        rows.into_iter()
            .map(|(t, when, action, who)| {
                vec![
                    Value::Date(t),
                    s(when),
                    s("trail-1"),
                    s(action),
                    s("success"),
                    s(who),
                ]
            })
            .collect(),
    )
}

fn history(n: i64) -> PivotAnswer {
    answer(
        "history",
        &[("calls", DataType::Long)],
        vec![vec![Value::Long(n)]],
    )
}

fn origin(id: &str, col: &str, rows: Vec<(&str, bool)>) -> PivotAnswer {
    answer(
        id,
        &[(col, DataType::Keyword), ("new", DataType::Boolean)],
        rows.into_iter()
            .map(|(v, n)| vec![s(v), Value::Bool(n)])
            .collect(),
    )
}

fn activity(rows: Vec<(&str, &str, &str, i64, i64)>) -> PivotAnswer {
    answer(
        "activity",
        &[
            ("category", DataType::Keyword),
            ("event.provider", DataType::Keyword),
            ("event.action", DataType::Keyword),
            ("calls", DataType::Long),
            ("first_call", DataType::Date),
        ],
        rows.into_iter()
            .map(|(c, p, a, n, t)| vec![s(c), s(p), s(a), Value::Long(n), Value::Date(t)])
            .collect(),
    )
}

fn finding(pivots: Vec<PivotAnswer>) -> Finding {
    let mut f = Finding {
        row_index: 0,
        row: vec![],
        principal: Some(ME.into()),
        span: Some((T0, T0)),
        window: Some((T0 - 60 * MIN, T0 + 60 * MIN)),
        pivots,
        verdict: Verdict::default(),
    };
    f.verdict = judge(&f);
    f
}

#[test]
fn stopped_and_restarted_by_itself_from_home_is_maintenance() {
    let f = finding(vec![
        calls("success"),
        lifecycle(vec![(T0 + 4 * MIN, "after", "StartLogging", ME)]),
        history(120),
        origin("addresses", "source.address", vec![("198.51.100.7", false)]),
        origin("agents", "user_agent.original", vec![("aws-cli/2", false)]),
        activity(vec![(
            "other",
            "s3.amazonaws.com",
            "PutObject",
            3,
            T0 - MIN,
        )]),
    ]);
    let v = &f.verdict;
    assert_eq!(v.label, Label::LikelyMaintenance, "{v:?}");
    assert_eq!((v.tampering, v.maintenance), (0, 4));
    assert!(
        v.because()
            .contains("trail-1 re-enabled (StartLogging) 4 min later by the same principal"),
        "{}",
        v.because()
    );
    assert!(
        v.because()
            .contains("from its usual addresses (198.51.100.7)"),
        "{}",
        v.because()
    );
}

#[test]
fn not_restarted_new_origin_and_other_services_is_tampering() {
    let f = finding(vec![
        calls("success"),
        lifecycle(vec![]),
        history(500),
        origin("addresses", "source.address", vec![("203.0.113.77", true)]),
        origin(
            "agents",
            "user_agent.original",
            vec![("Boto3/1.34 kali", true)],
        ),
        activity(vec![
            (
                "logging disabled",
                "ec2.amazonaws.com",
                "DeleteFlowLogs",
                3,
                T0 + 15 * MIN,
            ),
            (
                "logging disabled",
                "route53resolver.amazonaws.com",
                "DeleteResolverQueryLogConfig",
                1,
                T0 + 28 * MIN,
            ),
            (
                "logging disabled",
                "cloudtrail.amazonaws.com",
                "DeleteTrail",
                1,
                T0 + 46 * MIN,
            ),
            (
                "discovery",
                "cloudtrail.amazonaws.com",
                "DescribeTrails",
                1,
                T0 - 5 * MIN,
            ),
            (
                "discovery",
                "s3.amazonaws.com",
                "ListBuckets",
                1,
                T0 + 50 * MIN,
            ),
            (
                "IAM change",
                "iam.amazonaws.com",
                "CreateAccessKey",
                2,
                T0 + 5 * MIN,
            ),
        ]),
    ]);
    let v = &f.verdict;
    assert_eq!(v.label, Label::LikelyTampering, "{v:?}");
    // not re-enabled 1 + new address 2 + new agent 1 + other services 2 + recon 1 + IAM 1
    assert_eq!((v.tampering, v.maintenance), (8, 0));
    let why = v.because();
    assert!(
        why.contains("not re-enabled or re-created afterwards: trail-1"),
        "{why}"
    );
    assert!(
        why.contains(
            "2 other logging services switched off within 1 h of the finding: ec2, route53resolver"
        ),
        "{why}"
    );
    assert!(
        why.contains("discovery before the first call: DescribeTrails"),
        "{why}"
    );
    assert!(
        !why.contains("ListBuckets"),
        "discovery after the first call is not recon: {why}"
    );
    assert!(why.contains("CreateAccessKey ×2"), "{why}");
}

#[test]
fn own_resource_removed_from_home_is_maintenance_even_if_not_recreated() {
    let f = finding(vec![
        calls("success"),
        lifecycle(vec![
            (T0 - 300 * MIN, "before", "CreateTrail", ME),
            (T0 + MIN, "after", "DeleteTrail", ME),
        ]),
        history(40),
        origin("addresses", "source.address", vec![("192.0.2.14", false)]),
    ]);
    assert_eq!(f.verdict.label, Label::LikelyMaintenance, "{:?}", f.verdict);
    assert_eq!((f.verdict.tampering, f.verdict.maintenance), (1, 4));
    assert!(f
        .verdict
        .because()
        .contains("trail-1 was created by the same principal 5 h earlier (CreateTrail)"));
}

#[test]
fn refused_calls_are_a_refused_attempt() {
    let f = finding(vec![calls("failure"), lifecycle(vec![]), history(10)]);
    assert_eq!(f.verdict.label, Label::RefusedAttempt);
    assert!(f
        .verdict
        .because()
        .contains("every call was refused (AccessDenied)"));
    assert_eq!(
        f.verdict.tampering, 0,
        "a refused call switched nothing off"
    );
}

#[test]
fn no_history_and_mixed_signals_are_unclear() {
    let f = finding(vec![
        calls("success"),
        lifecycle(vec![]),
        history(0),
        origin("addresses", "source.address", vec![("203.0.113.9", true)]),
    ]);
    assert_eq!(f.verdict.label, Label::Unclear, "{:?}", f.verdict);
    assert!(f
        .verdict
        .because()
        .contains("no earlier activity of this principal"));
    // A new address is not evidence without a history to compare with.
    assert_eq!(f.verdict.tampering, 1);
}

#[test]
fn restarted_by_someone_else_counts_less() {
    let f = finding(vec![
        calls("success"),
        lifecycle(vec![(
            T0 + 90 * MIN,
            "after",
            "StartLogging",
            "arn:aws:iam::1:user/secops",
        )]),
    ]);
    assert_eq!(f.verdict.maintenance, 1);
    assert!(f
        .verdict
        .because()
        .contains("1 h 30 min later by another principal (arn:aws:iam::1:user/secops)"));
}

#[test]
fn durations() {
    assert_eq!(duration(12_000), "12 s");
    assert_eq!(duration(4 * MIN), "4 min");
    assert_eq!(duration(125 * MIN), "2 h 5 min");
    assert_eq!(duration(60 * MIN), "1 h");
    assert_eq!(duration(25 * 60 * MIN), "1 d 1 h");
}

#[test]
fn the_pivot_decides_what_turns_a_resource_back_on() {
    // `turns_on` from the pivot: an UpdateDetector that enables the detector again counts,
    // even though UpdateDetector is not in the built-in list.
    let l = answer(
        "lifecycle",
        &[
            ("@timestamp", DataType::Date),
            ("when", DataType::Keyword),
            ("turns_on", DataType::Boolean),
            ("resource", DataType::Keyword),
            ("event.action", DataType::Keyword),
            ("event.outcome", DataType::Keyword),
            (PRINCIPAL_COLUMN, DataType::Keyword),
        ],
        vec![
            vec![
                Value::Date(T0 + 10 * MIN),
                s("after"),
                Value::Bool(false),
                s("trail-1"),
                s("UpdateDetector"),
                s("success"),
                s(ME),
            ],
            vec![
                Value::Date(T0 + 20 * MIN),
                s("after"),
                Value::Bool(true),
                s("trail-1"),
                s("UpdateDetector"),
                s("success"),
                s(ME),
            ],
        ],
    );
    let f = finding(vec![calls("success"), l]);
    assert_eq!(f.verdict.maintenance, 2, "{:?}", f.verdict);
    assert!(
        f.verdict
            .because()
            .contains("trail-1 re-enabled (UpdateDetector) 20 min later by the same principal"),
        "{}",
        f.verdict.because()
    );
}
