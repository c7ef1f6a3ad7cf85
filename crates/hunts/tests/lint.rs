//! The linter against the real upstream hunting library and rules in `../shared`: every
//! defect of `docs/hunting-library.md` §f that is visible in the query text is found at its
//! exact line:column with the corrected text, clean hunts stay clean, and the whole library
//! lints without panicking.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hunts::lint::{
    codes, lint_hunt, lint_hunt_with, lint_query_with, Finding, HuntFinding, LintOptions,
};
use hunts::{parse_hunt, Hunt, Origin};

const HUNTS: &str = "hunts/elastic";
const RULES: &str = "rules/elastic-aws-esql";

fn load(path: &Path) -> Hunt {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("a file name");
    parse_hunt(&text, Origin::File(path.to_path_buf()), stem).unwrap_or_else(|e| panic!("{e}"))
}

/// An upstream hunt, `None` (a skip, or a panic in CI) when `../shared` is absent.
fn hunt(platform: &str, stem: &str) -> Option<Hunt> {
    let dir = testkit::require_shared(HUNTS)?;
    Some(load(
        &dir.join(platform)
            .join("queries")
            .join(format!("{stem}.toml")),
    ))
}

/// `[rule].query` of an upstream detection rule.
fn rule_query(rel: &str) -> Option<String> {
    let dir = testkit::require_shared(RULES)?;
    let path = dir.join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: toml::Value =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let query = doc
        .get("rule")
        .and_then(|r| r.get("query"))
        .and_then(|q| q.as_str());
    Some(
        query
            .unwrap_or_else(|| panic!("{}: no [rule].query", path.display()))
            .to_string(),
    )
}

fn listing(findings: &[HuntFinding]) -> String {
    findings
        .iter()
        .map(|f| format!("  [{}] {}\n", f.query, f.finding))
        .collect()
}

/// Asserts a finding of `code` in query `query` at `line:column` whose fix is `fix`.
#[track_caller]
fn expect(
    findings: &[HuntFinding],
    query: usize,
    code: &str,
    (line, column): (usize, usize),
    fix: Option<&str>,
) {
    let hit = findings.iter().any(|f| {
        f.query == query
            && f.finding.code == code
            && (f.finding.line, f.finding.column) == (line, column)
            && f.finding.fix.as_deref() == fix
    });
    assert!(
        hit,
        "expected {code} at [{query}] {line}:{column} with fix {fix:?}; found:\n{}",
        listing(findings)
    );
}

fn count(findings: &[HuntFinding], code: &str) -> usize {
    findings.iter().filter(|f| f.finding.code == code).count()
}

/// The query with one finding's fix applied.
fn apply(query: &str, f: &Finding) -> String {
    let mut out = query.to_string();
    out.replace_range(f.span.clone(), f.fix.as_deref().expect("a fix"));
    out
}

fn the<'a>(findings: &'a [HuntFinding], query: usize, code: &str) -> &'a Finding {
    let mut it = findings
        .iter()
        .filter(|f| f.query == query && f.finding.code == code);
    let f = it
        .next()
        .unwrap_or_else(|| panic!("no {code} in [{query}]:\n{}", listing(findings)));
    &f.finding
}

// ---- date formats ---------------------------------------------------------------------

#[test]
fn seed_week_year_and_minute_pattern_upstream_and_built_in() {
    let Some(h) = hunt("aws", "multiple_service_logging_deleted_or_stopped") else {
        return;
    };
    let found = lint_hunt(&h);
    expect(
        &found,
        0,
        codes::DATE_FORMAT_PATTERN,
        (6, 28),
        Some("yyyy-MM-dd"),
    );
    let f = the(&found, 0, codes::DATE_FORMAT_PATTERN);
    assert!(
        f.message.contains("week-based year") && f.message.contains("minute"),
        "{f}"
    );
    assert!(apply(&h.queries[0], f).contains("DATE_FORMAT(\"yyyy-MM-dd\", @timestamp)"));
    assert_eq!(
        found.len(),
        1,
        "only the pattern is wrong in the seed:\n{}",
        listing(&found)
    );

    // The built-in copy has the same query text, so the same finding.
    let seed = hunts::builtin()
        .into_iter()
        .find(|h| h.stem == "multiple_service_logging_deleted_or_stopped")
        .expect("the seed is built in");
    assert_eq!(lint_hunt(&seed), found);
}

#[test]
fn ec2_high_instance_deployment_has_the_same_pattern_bug() {
    let Some(h) = hunt("aws", "ec2_high_instance_deployment_count_attempts") else {
        return;
    };
    expect(
        &lint_hunt(&h),
        0,
        codes::DATE_FORMAT_PATTERN,
        (8, 28),
        Some("yyyy-MM-dd"),
    );
}

// ---- queries that cannot parse ----------------------------------------------------------

#[test]
fn single_equals_in_where_is_flagged_and_the_fix_parses() {
    let Some(h) = hunt(
        "aws",
        "servicequotas_discovery_multi_region_get_service_quota_calls",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    expect(&found, 0, codes::ASSIGNMENT_IN_WHERE, (5, 62), Some("=="));
    let q = &h.queries[0];
    assert!(esql::parse(q).is_err(), "upstream does not parse");
    let fixed = apply(q, the(&found, 0, codes::ASSIGNMENT_IN_WHERE));
    assert!(fixed.contains("event.provider == \"servicequotas.amazonaws.com\""));
    esql::parse(&fixed).unwrap_or_else(|e| panic!("the fixed query parses: {e}"));
}

#[test]
fn now_with_an_argument_and_its_fix() {
    let Some(h) = hunt(
        "windows",
        "execution_via_windows_scheduled_task_with_low_occurrence_frequency",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    expect(&found, 0, codes::NOW_ARGUMENT, (2, 27), Some("()"));
    let fixed = apply(&h.queries[0], the(&found, 0, codes::NOW_ARGUMENT));
    assert!(fixed.contains("@timestamp > now() - 7 day"));
    esql::parse(&fixed).unwrap_or_else(|e| panic!("the fixed query parses: {e}"));
}

#[test]
fn stray_sql_lines_in_the_eleven_linux_strings() {
    let files = [
        ("persistence_general_kernel_manipulation", 2),
        ("persistence_via_desktop_bus", 2),
        ("persistence_via_grub_bootloader", 2),
        ("persistence_via_initramfs", 2),
        ("persistence_via_network_manager_dispatcher_script", 2),
        ("persistence_via_policykit", 1),
    ];
    let mut total = 0;
    for (stem, n) in files {
        let Some(h) = hunt("linux", stem) else { return };
        let found = lint_hunt(&h);
        assert_eq!(
            count(&found, codes::STRAY_SQL_LINE),
            n,
            "{stem}:\n{}",
            listing(&found)
        );
        for f in found
            .iter()
            .filter(|f| f.finding.code == codes::STRAY_SQL_LINE)
        {
            assert_eq!((f.finding.line, f.finding.column), (1, 1));
            let fixed = apply(&h.queries[f.query], &f.finding);
            assert!(fixed.starts_with("from "), "{stem}: {fixed:?}");
        }
        total += n;
    }
    assert_eq!(total, 11);
}

#[test]
fn azure_rare_user_agents_sql_wildcards_duplicate_and_dangling_or() {
    let Some(h) = hunt(
        "azure",
        "entra_authentication_attempts_behind_rare_user_agents",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    // 19 patterns, all with SQL `%` (one of them repeated).
    assert_eq!(
        count(&found, codes::SQL_LIKE_WILDCARD),
        19,
        "{}",
        listing(&found)
    );
    expect(
        &found,
        0,
        codes::SQL_LIKE_WILDCARD,
        (35, 45),
        Some("*hydra*"),
    );
    expect(
        &found,
        0,
        codes::SQL_LIKE_WILDCARD,
        (41, 45),
        Some("*hydra*"),
    );
    expect(&found, 0, codes::DUPLICATE_OPERAND, (41, 9), Some(""));
    expect(&found, 0, codes::DANGLING_OPERATOR, (41, 54), Some(""));
    let fixed = apply(&h.queries[0], the(&found, 0, codes::DANGLING_OPERATOR));
    esql::parse(&fixed).unwrap_or_else(|e| panic!("without the dangling `or` it parses: {e}"));
}

#[test]
fn okta_rapid_reset_missing_aggregate_and_column_dropped_by_keep() {
    let Some(h) = hunt(
        "okta",
        "credential_access_rapid_reset_password_requests_for_different_users",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    expect(&found, 0, codes::MISSING_AGGREGATE, (13, 18), None);
    let keep = the(&found, 0, codes::DROPPED_BY_KEEP);
    assert_eq!((keep.line, keep.column), (13, 48));
    assert!(keep
        .fix
        .as_deref()
        .unwrap()
        .ends_with("okta.outcome.result, source.user.full_name"));
}

#[test]
fn spaced_dot_in_a_field_name() {
    let Some(h) = hunt("windows", "execution_via_remote_services_by_client_address") else {
        return;
    };
    expect(
        &lint_hunt(&h),
        0,
        codes::SPACED_DOT,
        (6, 24),
        Some("process.parent.name.caseless"),
    );
}

// ---- logic errors -----------------------------------------------------------------------

#[test]
fn okta_sql_wildcards_in_exclusions() {
    let Some(h) = hunt(
        "okta",
        "defense_evasion_failed_oauth_access_token_retrieval_via_public_client_app",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    expect(&found, 0, codes::SQL_LIKE_WILDCARD, (13, 39), Some("Okta*"));
    expect(
        &found,
        0,
        codes::SQL_LIKE_WILDCARD,
        (14, 42),
        Some("Datadog*"),
    );
    let Some(h) = hunt(
        "okta",
        "defense_evasion_rare_oauth_access_token_granted_by_application",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    expect(&found, 0, codes::SQL_LIKE_WILDCARD, (15, 44), Some("Okta*"));
    expect(
        &found,
        0,
        codes::SQL_LIKE_WILDCARD,
        (15, 84),
        Some("Datadog*"),
    );
}

#[test]
fn rule_with_sql_wildcards() {
    let Some(q) = rule_query("rules/cross-platform/execution_aws_ec2_lolbin_via_ssm.toml") else {
        return;
    };
    let found: Vec<_> = lint_query_with(&q, &LintOptions::rule())
        .into_iter()
        .map(|finding| HuntFinding { query: 0, finding })
        .collect();
    let fix = "*/document/orchestration/*/awsrunShellScript/*/_script.sh";
    expect(&found, 0, codes::SQL_LIKE_WILDCARD, (16, 34), Some(fix));
    expect(&found, 0, codes::SQL_LIKE_WILDCARD, (59, 36), Some(fix));
    assert_eq!(found.len(), 2, "{}", listing(&found));
}

#[test]
fn starts_with_wildcard_and_swapped_arguments() {
    let Some(h) = hunt("windows", "pe_file_transfer_via_smb_admin_shares_by_agent") else {
        return;
    };
    let found = lint_hunt(&h);
    expect(&found, 0, codes::WILDCARD_IN_PREFIX, (4, 39), Some("4d5a"));
    expect(&found, 1, codes::WILDCARD_IN_PREFIX, (4, 39), Some("4d5a"));
    let fixed = apply(&h.queries[0], the(&found, 0, codes::WILDCARD_IN_PREFIX));
    assert!(fixed.contains("starts_with(file.Ext.header_bytes, \"4d5a\")"));

    let Some(h) = hunt(
        "aws",
        "lambda_add_permissions_for_write_actions_to_function",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    expect(
        &found,
        0,
        codes::SWAPPED_ARGUMENTS,
        (8, 63),
        Some("starts_with(action_value, \"Update\")"),
    );
    expect(
        &found,
        0,
        codes::SWAPPED_ARGUMENTS,
        (8, 102),
        Some("starts_with(action_value, \"Put\")"),
    );
    // The correct `starts_with(action_value, "Invoke")` before them is not flagged.
    assert_eq!(count(&found, codes::SWAPPED_ARGUMENTS), 2);
    // …and KEEP lists principal_id twice.
    expect(&found, 0, codes::DUPLICATE_LIST_ENTRY, (10, 99), Some(""));
}

#[test]
fn rlike_anchors() {
    let Some(h) = hunt(
        "cross-platform",
        "potentially_spoofed_microsoft_authentication_domain",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    expect(
        &found,
        0,
        codes::RLIKE_ANCHOR,
        (11, 19),
        Some("(login|portal|api)\\\\.microsoftonline\\\\.com"),
    );
    expect(
        &found,
        0,
        codes::RLIKE_ANCHOR,
        (12, 19),
        Some(".*\\\\.onmicrosoft\\\\.com"),
    );
    let fixed = apply(&h.queries[0], the(&found, 0, codes::RLIKE_ANCHOR));
    assert!(fixed.contains(r#"domain RLIKE "(login|portal|api)\\.microsoftonline\\.com" OR"#));
}

#[test]
fn rlike_quantifier_on_a_quantifier() {
    let Some(h) = hunt(
        "windows",
        "persistence_via_startup_with_low_occurrence_frequency",
    ) else {
        return;
    };
    expect(
        &lint_hunt(&h),
        0,
        codes::RLIKE_REPEATED_QUANTIFIER,
        (4, 108),
        None,
    );
}

#[test]
fn limit_before_sort_in_the_eight_linux_queries() {
    let cases = [
        ("command_and_control_via_network_connections_with_low_occurrence_frequency_for_unique_agents", 3),
        ("excessive_ssh_network_activity_unique_destinations", 1),
        ("low_volume_external_network_connections_from_process", 2),
        ("low_volume_process_injection_syscalls_by_executable", 1),
        ("persistence_via_driver_load_with_low_occurrence_frequency", 1),
    ];
    for (stem, n) in cases {
        let Some(h) = hunt("linux", stem) else { return };
        let found = lint_hunt(&h);
        assert_eq!(
            count(&found, codes::LIMIT_BEFORE_SORT),
            n,
            "{stem}:\n{}",
            listing(&found)
        );
    }
    let Some(h) = hunt(
        "linux",
        "excessive_ssh_network_activity_unique_destinations",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    expect(
        &found,
        0,
        codes::LIMIT_BEFORE_SORT,
        (8, 3),
        Some("sort user.name asc\n| limit 100"),
    );
    let fixed = apply(&h.queries[0], the(&found, 0, codes::LIMIT_BEFORE_SORT));
    assert!(
        fixed
            .trim_end()
            .ends_with("| sort user.name asc\n| limit 100"),
        "{fixed}"
    );
}

#[test]
fn sort_direction_on_some_keys_only() {
    let Some(h) = hunt("llm", "aws_bedrock_dos_resource_exhaustion_detection") else {
        return;
    };
    let found = lint_hunt(&h);
    expect(
        &found,
        0,
        codes::SORT_DIRECTION,
        (13, 9),
        Some("max_prompt_tokens DESC, max_request_tokens DESC, max_completion_tokens DESC"),
    );
    let f = the(&found, 0, codes::SORT_DIRECTION);
    assert!(f.message.contains("`max_prompt_tokens`") && f.message.contains("ascending"));

    let Some(h) = hunt(
        "linux",
        "low_volume_external_network_connections_from_process",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    for q in [0, 1] {
        expect(
            &found,
            q,
            codes::SORT_DIRECTION,
            (8, 8),
            Some("connection_count asc, unique_agent_count asc"),
        );
    }
    let Some(h) = hunt("linux", "low_volume_gtfobins_external_network_connections") else {
        return;
    };
    expect(
        &lint_hunt(&h),
        0,
        codes::SORT_DIRECTION,
        (14, 16),
        Some("cc asc, destination.port asc"),
    );
}

#[test]
fn integer_division_and_a_divisor_that_can_be_zero() {
    let Some(h) = hunt(
        "windows",
        "high_count_of_network_connection_over_extended_period_by_process",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    let fix = Some("TO_DOUBLE(count_connections) / duration_hours");
    expect(&found, 0, codes::INTEGER_DIVISION, (11, 119), fix);
    expect(&found, 1, codes::INTEGER_DIVISION, (11, 168), fix);
    expect(&found, 2, codes::INTEGER_DIVISION, (12, 168), fix);
    let f = the(&found, 0, codes::INTEGER_DIVISION);
    assert!(f.message.contains("can also be 0"), "{f}");
    let fixed = apply(&h.queries[0], f);
    assert!(
        fixed.contains("number_of_con_per_hour = (TO_DOUBLE(count_connections) / duration_hours)")
    );
    // `TO_DOUBLE(total_bytes_out) / (1024*1024)` and `dur/3600000` (a double) are fine.
    assert_eq!(
        count(&found, codes::INTEGER_DIVISION),
        3,
        "{}",
        listing(&found)
    );

    let Some(h) = hunt("macos", "suspicious_network_connections_by_unsigned_macho") else {
        return;
    };
    expect(&lint_hunt(&h), 0, codes::INTEGER_DIVISION, (10, 168), fix);
}

#[test]
fn empty_string_comparison_never_holds() {
    let Some(h) = hunt("aws", "iam_user_activity_with_no_mfa_session") else {
        return;
    };
    let found = lint_hunt(&h);
    expect(
        &found,
        0,
        codes::EMPTY_STRING_COMPARISON,
        (7, 64),
        Some("aws.cloudtrail.user_identity.access_key_id IS NULL"),
    );
    // `mfa_authenticated == "false"` is a keyword comparison there: not flagged.
    assert_eq!(found.len(), 1, "{}", listing(&found));
}

#[test]
fn no_time_bound_in_hunts_but_not_in_rules() {
    let Some(h) = hunt(
        "aws",
        "iam_customer_managed_policies_attached_to_existing_roles",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    expect(
        &found,
        0,
        codes::NO_TIME_BOUND,
        (1, 1),
        Some("from logs-aws.cloudtrail*\n| where @timestamp > now() - 7 day"),
    );
    let fixed = apply(&h.queries[0], the(&found, 0, codes::NO_TIME_BOUND));
    esql::parse(&fixed).unwrap_or_else(|e| panic!("{e}"));
    assert!(lint_hunt_with(&h, &LintOptions::rule()).is_empty());

    // §f's other five.
    for (platform, stem, query) in [
        ("azure", "entra_suspicious_odata_client_requests", 0),
        (
            "windows",
            "execution_via_startup_with_low_occurrence_frequency",
            0,
        ),
        (
            "windows",
            "high_count_of_network_connection_over_extended_period_by_process",
            0,
        ),
        (
            "windows",
            "suspicious_base64_encoded_powershell_commands",
            0,
        ),
        ("windows", "suspicious_dns_txt_record_lookups_by_process", 0),
    ] {
        let Some(h) = hunt(platform, stem) else {
            return;
        };
        let found = lint_hunt(&h);
        let f = the(&found, query, codes::NO_TIME_BOUND);
        assert_eq!((f.line, f.column), (1, 1), "{stem}");
        let fixed = apply(&h.queries[query], f);
        assert!(
            fixed
                .to_ascii_lowercase()
                .contains("\n| where @timestamp > now() - 7 day\n"),
            "{stem}: {fixed}"
        );
    }

    // A rule's window comes from the scheduler: with rule options, no rule is flagged,
    // although most of them have no @timestamp filter of their own.
    let Some(q) =
        rule_query("rules/integrations/aws/discovery_multiple_discovery_api_calls_via_cli.toml")
    else {
        return;
    };
    assert!(lint_query_with(&q, &LintOptions::hunt())
        .iter()
        .any(|f| f.code == codes::NO_TIME_BOUND));
    assert!(!lint_query_with(&q, &LintOptions::rule())
        .iter()
        .any(|f| f.code == codes::NO_TIME_BOUND));
}

#[test]
fn thresholds_that_contradict_their_comment() {
    let Some(h) = hunt("aws", "ec2_discovery_multi_region_describe_instance_calls") else {
        return;
    };
    let found = lint_hunt(&h);
    expect(
        &found,
        0,
        codes::THRESHOLD_COMMENT,
        (14, 9),
        Some("region_count > 10"),
    );
    assert!(the(&found, 0, codes::THRESHOLD_COMMENT)
        .message
        .contains("\"more than 10\""));

    let Some(h) = hunt(
        "okta",
        "initial_access_password_spraying_from_repeat_source",
    ) else {
        return;
    };
    expect(
        &lint_hunt(&h),
        0,
        codes::THRESHOLD_COMMENT,
        (20, 9),
        Some("target_count > 5"),
    );

    // The rule copied from the EC2 hunt keeps the disagreement.
    let Some(q) =
        rule_query("rules_building_block/discovery_ec2_multi_region_describe_instances.toml")
    else {
        return;
    };
    let found = lint_query_with(&q, &LintOptions::rule());
    let f = found
        .iter()
        .find(|f| f.code == codes::THRESHOLD_COMMENT)
        .expect("a threshold finding");
    assert_eq!((f.line, f.column), (41, 9));
    assert_eq!(
        f.fix.as_deref(),
        Some("Esql.cloud_region_count_distinct > 10")
    );
}

#[test]
fn case_sensitive_hex_codes_and_literal_asterisk() {
    let Some(h) = hunt("windows", "windows_logon_activity_by_source_ip") else {
        return;
    };
    let found = lint_hunt(&h);
    expect(&found, 0, codes::HEX_CAPITAL_X, (7, 87), Some("0xC000005E"));
    assert_eq!(
        count(&found, codes::HEX_CAPITAL_X),
        3,
        "{}",
        listing(&found)
    );

    let Some(h) = hunt("aws", "ssm_rare_sendcommand_code_execution") else {
        return;
    };
    let found = lint_hunt(&h);
    expect(&found, 0, codes::LITERAL_ASTERISK, (6, 79), None);
    assert!(the(&found, 0, codes::LITERAL_ASTERISK)
        .message
        .starts_with("note:"));
}

#[test]
fn repeated_operands_and_list_entries() {
    let Some(h) = hunt(
        "windows",
        "network_discovery_via_sensitive_ports_by_unusual_process",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    expect(&found, 0, codes::DUPLICATE_OPERAND, (11, 106), Some(""));
    let fixed = apply(&h.queries[0], the(&found, 0, codes::DUPLICATE_OPERAND));
    assert!(fixed.contains("or (count_rdp_dst >= 1)"), "{fixed}");

    let Some(h) = hunt(
        "linux",
        "command_and_control_via_network_connections_with_low_occurrence_frequency_for_unique_agents",
    ) else {
        return;
    };
    let found = lint_hunt(&h);
    expect(&found, 0, codes::DUPLICATE_LIST_ENTRY, (3, 568), Some(""));
    assert!(the(&found, 0, codes::DUPLICATE_LIST_ENTRY)
        .message
        .contains("\"224.0.0.0/4\""));
}

#[test]
fn and_or_without_parentheses() {
    let Some(h) = hunt("linux", "persistence_via_dynamic_linker_hijacking") else {
        return;
    };
    let found = lint_hunt(&h);
    expect(
        &found,
        0,
        codes::AND_OR_PRECEDENCE,
        (5, 41),
        Some("(process.env_vars like \"LD_PRELOAD=*.so\" or\nprocess.env_vars like \"LD_LIBRARY_PATH=*\")"),
    );
    assert_eq!(found.len(), 1, "{}", listing(&found));
}

// ---- clean hunts and the whole library --------------------------------------------------

#[test]
fn nothing_in_five_clean_hunts() {
    // Chosen by reading them; each also exercises a way to go wrong: a `[^/]` class in
    // RLIKE, a comment threshold that agrees ("less than or equal to 5" / `<= 5`), columns
    // through DISSECT → KEEP → STATS, and `/` on a field of unknown type.
    for (platform, stem) in [
        ("aws", "iam_unusual_default_aviatrix_role_activity"),
        ("aws", "sns_topic_created_by_rare_user"),
        ("okta", "persistence_rare_domain_with_user_authentication"),
        ("linux", "defense_evasion_via_hidden_process_execution"),
        ("llm", "aws_bedrock_latency_anomalies_detection"),
    ] {
        let Some(h) = hunt(platform, stem) else {
            return;
        };
        assert!(!h.esql_queries().is_empty(), "{stem} has ES|QL");
        let found = lint_hunt(&h);
        assert!(found.is_empty(), "{platform}/{stem}:\n{}", listing(&found));
    }
}

fn hunt_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for platform in std::fs::read_dir(root).expect("hunts dir") {
        let queries = platform.expect("entry").path().join("queries");
        if !queries.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&queries).expect("queries dir") {
            let p = f.expect("entry").path();
            if p.extension().is_some_and(|e| e == "toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Invariants every finding keeps: a known code, a span inside the query, a position that
/// exists, and a one-line reason.
#[track_caller]
fn check_shape(query: &str, f: &Finding) {
    assert!(codes::ALL.contains(&f.code), "{f}");
    assert!(
        f.span.start <= f.span.end && f.span.end <= query.len(),
        "{f}"
    );
    let line = query
        .split('\n')
        .nth(f.line - 1)
        .unwrap_or_else(|| panic!("{f}: no such line"));
    assert!(f.column >= 1 && f.column <= line.chars().count() + 1, "{f}");
    assert!(!f.message.is_empty() && !f.message.contains('\n'), "{f}");
}

#[test]
fn whole_library_lints_with_expected_counts() {
    let Some(root) = testkit::require_shared(HUNTS) else {
        return;
    };
    let files = hunt_files(&root);
    assert_eq!(files.len(), 140);
    let mut queries = 0;
    // Per code: how many queries have at least one such finding.
    let mut per_code: BTreeMap<&str, usize> = BTreeMap::new();
    for path in &files {
        let h = load(path);
        queries += h.esql_queries().len();
        let found = lint_hunt(&h);
        for f in &found {
            check_shape(&h.queries[f.query], &f.finding);
        }
        let mut seen: Vec<(usize, &str)> =
            found.iter().map(|f| (f.query, f.finding.code)).collect();
        seen.sort();
        seen.dedup();
        for (_, code) in seen {
            *per_code.entry(code).or_default() += 1;
        }
    }
    eprintln!("{queries} ES|QL queries; queries with findings, per code: {per_code:#?}");
    assert_eq!(queries, 165, "§c counts 165 ES|QL queries");
    let at_least = [
        (codes::DATE_FORMAT_PATTERN, 2),
        (codes::ASSIGNMENT_IN_WHERE, 1),
        (codes::SQL_LIKE_WILDCARD, 3),
        (codes::WILDCARD_IN_PREFIX, 2),
        (codes::SWAPPED_ARGUMENTS, 1),
        (codes::RLIKE_ANCHOR, 1),
        (codes::RLIKE_REPEATED_QUANTIFIER, 1),
        (codes::LIMIT_BEFORE_SORT, 8),
        (codes::SORT_DIRECTION, 4),
        (codes::INTEGER_DIVISION, 4),
        (codes::EMPTY_STRING_COMPARISON, 1),
        (codes::NO_TIME_BOUND, 6),
        (codes::THRESHOLD_COMMENT, 2),
        (codes::HEX_CAPITAL_X, 1),
        (codes::LITERAL_ASTERISK, 1),
        (codes::DUPLICATE_LIST_ENTRY, 3),
        (codes::DUPLICATE_OPERAND, 2),
        (codes::AND_OR_PRECEDENCE, 1),
        (codes::DANGLING_OPERATOR, 1),
        (codes::NOW_ARGUMENT, 1),
        (codes::STRAY_SQL_LINE, 11),
        (codes::SPACED_DOT, 1),
        (codes::MISSING_AGGREGATE, 1),
        (codes::DROPPED_BY_KEEP, 1),
    ];
    for (code, n) in at_least {
        let got = per_code.get(code).copied().unwrap_or(0);
        assert!(got >= n, "{code}: {got} queries, §f has at least {n}");
    }
    // §f lists exactly six unbounded queries; more would be false alarms.
    assert_eq!(per_code.get(codes::NO_TIME_BOUND), Some(&6));
}

#[test]
fn all_rules_lint_without_time_bound_findings() {
    let Some(root) = testkit::require_shared(RULES) else {
        return;
    };
    let mut stack = vec![root.clone()];
    let mut rules = 0;
    let mut unbounded = 0;
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("rules dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let rel = p
                .strip_prefix(&root)
                .expect("under root")
                .to_str()
                .expect("utf-8");
            let Some(q) = rule_query(rel) else { return };
            // The loader's path: a [rule] file becomes a Hunt that knows it is a rule, and
            // lint_hunt then lints it with rule options.
            let text = std::fs::read_to_string(&p).expect("readable");
            let stem = p.file_stem().and_then(|s| s.to_str()).expect("a name");
            let h = hunts::parse_file(&text, Origin::File(p.clone()), stem)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(h.rule().is_some(), "{rel} is a rule");
            assert_eq!(h.esql_queries(), vec![(0, q.as_str())], "{rel}");
            let found = lint_hunt(&h);
            let direct = lint_query_with(&q, &LintOptions::rule());
            assert_eq!(
                found.iter().map(|f| f.finding.clone()).collect::<Vec<_>>(),
                direct
            );
            for f in &direct {
                check_shape(&q, f);
                assert_ne!(f.code, codes::NO_TIME_BOUND, "{rel}: {f}");
            }
            let as_hunt = lint_hunt_with(&h, &LintOptions::hunt());
            unbounded += usize::from(
                as_hunt
                    .iter()
                    .any(|f| f.finding.code == codes::NO_TIME_BOUND),
            );
            rules += 1;
        }
    }
    assert_eq!(rules, 26);
    // Most rules leave the window to the scheduler: as hunts they would be flagged.
    assert!(
        unbounded >= 20,
        "{unbounded} rules without their own time filter"
    );
}

#[test]
fn built_in_hunts_pass_except_the_upstream_seed() {
    // trailhunt's own hunts must be clean; the seed is Elastic's query kept byte-identical
    // (see its notes), so it keeps its one finding.
    let all = hunts::builtin();
    assert!(all.len() > 1);
    for h in &all {
        let found = lint_hunt(h);
        if h.stem == "multiple_service_logging_deleted_or_stopped" {
            assert_eq!(found.len(), 1, "{}", listing(&found));
            expect(
                &found,
                0,
                codes::DATE_FORMAT_PATTERN,
                (6, 28),
                Some("yyyy-MM-dd"),
            );
        } else {
            assert!(found.is_empty(), "{}:\n{}", h.stem, listing(&found));
        }
    }
}
