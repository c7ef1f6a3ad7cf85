//! The parser with uap-core's rules at the commit Elasticsearch bundles
//! (`../shared/uap/regexes.yaml`): every pattern compiles, Elastic's fixture documents get
//! their `user_agent` objects exactly, and every user agent of the real data sets (plus
//! case, line-terminator and non-ASCII variants) parses as the JDK's own regex engine parses
//! it under Elasticsearch's rules (`tests/UaOracle.java`).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{json, Value};
use useragent::{Parsed, UaParser};

fn rules() -> Option<(PathBuf, UaParser)> {
    let path = testkit::require_shared("uap/regexes.yaml")?;
    let parser = UaParser::open(&path).unwrap_or_else(|e| panic!("{e}"));
    Some((path, parser))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every document with a `user_agent` in Elastic's expected outputs under `../shared`.
fn elastic_documents() -> Vec<(String, Value)> {
    let mut files = Vec::new();
    for rel in [
        "fixtures/cloudtrail-integration",
        "data/real/elastic-integrations-aws-cloudtrail",
    ] {
        if let Some(dir) = testkit::require_shared(rel) {
            files_under(&dir, &mut files);
        }
    }
    let mut out = Vec::new();
    for f in files {
        if !f.to_string_lossy().ends_with("-expected.json") {
            continue;
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for doc in v["expected"].as_array().unwrap() {
            if let Some(ua) = doc.get("user_agent") {
                out.push((f.display().to_string(), ua.clone()));
            }
        }
    }
    out
}

#[test]
fn every_pattern_compiles() {
    let Some((_, p)) = rules() else { return };
    assert_eq!(p.rule_counts(), [362, 197, 629]);
    let t = Instant::now();
    let failures = p.compile_all();
    assert!(failures.is_empty(), "{failures:#?}");
    eprintln!("compiled every pattern (both forms) in {:?}", t.elapsed());
}

#[test]
fn elastic_fixture_documents_get_elastics_user_agent() {
    let Some((_, p)) = rules() else { return };
    let docs = elastic_documents();
    let mut distinct = BTreeSet::new();
    let mut bad = Vec::new();
    for (file, want) in &docs {
        let original = want["original"].as_str().unwrap();
        distinct.insert(original.to_string());
        let got = Value::Object(p.parse(original).to_object(original));
        if &got != want {
            bad.push(format!("{file}\n  got  {got}\n  want {want}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    eprintln!(
        "{} documents, {} distinct user agents: all equal",
        docs.len(),
        distinct.len()
    );
    if !docs.is_empty() {
        assert!(
            distinct.len() >= 26,
            "fixtures went missing: {}",
            distinct.len()
        );
    }
}

/// The distinct `user_agent.original` values of the real data sets, as the pipeline sets them.
fn real_user_agents() -> BTreeSet<String> {
    let Some(real) = testkit::require_shared("data/real") else {
        return BTreeSet::new();
    };
    let mut files = Vec::new();
    files_under(&real, &mut files);
    let mut out = BTreeSet::new();
    cloudtrail::for_each_document(&files, &cloudtrail::DocumentOptions::default(), |item| {
        if let Ok(doc) = item {
            if let Some(ua) = doc.pointer("/user_agent/original").and_then(Value::as_str) {
                out.insert(ua.to_string());
            }
        }
        true
    });
    out
}

/// Variants that exercise what ASCII subjects never do: case folding, line terminators
/// before `$`, non-ASCII letters next to `\w`, `\b` and `.`.
fn variants(uas: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    for (i, ua) in uas.iter().enumerate() {
        match i % 8 {
            0 => out.push(ua.to_uppercase()),
            1 => out.push(ua.to_lowercase()),
            2 => out.push(format!("{ua}\n")),
            3 => out.push(format!("{ua}\r\n")),
            4 => out.push(ua.replacen(' ', "\u{a0}", 1)),
            5 => out.push(ua.replacen('/', "é/", 1)),
            6 => out.push(format!("{ua}\u{2028}")),
            _ => out.push(ua.replace('k', "\u{212a}").replace('s', "\u{17f}")),
        }
    }
    for s in [
        "",
        "\n",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36\n",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36",
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Terraform/1.9.2 (+https://www.terraform.io) terraform-provider-aws/5.58.0",
        "Ünïcödé/1.0 (Wïndows NT 10.0)",
    ] {
        out.push(s.to_string());
    }
    out
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(h: &str) -> Option<String> {
    if h == "~" {
        return None;
    }
    let bytes: Vec<u8> = (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    Some(String::from_utf8(bytes).unwrap())
}

/// The processor's six values, before the pipeline's cleanup.
fn fields(p: &Parsed) -> [Option<String>; 6] {
    [
        Some(p.name.clone()),
        p.version.clone(),
        p.os.as_ref().map(|o| o.name.clone()),
        p.os.as_ref().and_then(|o| o.version.clone()),
        p.os.as_ref().and_then(|o| o.full.clone()),
        Some(p.device_name.clone()),
    ]
}

#[test]
fn same_answers_as_the_jdk() {
    let Some((path, p)) = rules() else { return };
    if !testkit::require_java(&["java"]) {
        return;
    }
    let mut subjects: BTreeSet<String> = real_user_agents();
    subjects.extend(
        elastic_documents()
            .iter()
            .map(|(_, ua)| ua["original"].as_str().unwrap().to_string()),
    );
    let real = subjects.len();
    let extra = variants(&subjects);
    subjects.extend(extra);
    let subjects: Vec<String> = subjects.into_iter().collect();

    let oracle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/UaOracle.java");
    let mut child = Command::new("java")
        .arg(&oracle)
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run java");
    let input: String = subjects.iter().map(|s| hex(s) + "\n").collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "oracle failed");
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(lines.len(), subjects.len());

    let t = Instant::now();
    let ours: Vec<Parsed> = subjects.iter().map(|s| p.parse_uncached(s)).collect();
    let took = t.elapsed();
    let mut bad = Vec::new();
    for ((s, line), got) in subjects.iter().zip(&lines).zip(&ours) {
        let want: Vec<Option<String>> = line.split('\t').map(unhex).collect();
        if want != fields(got) {
            bad.push(format!("{s:?}\n  rust {:?}\n  java {want:?}", fields(got)));
        }
    }
    assert!(bad.is_empty(), "{} differ:\n{}", bad.len(), bad.join("\n"));
    // The literal shortcut never skips a rule that matches.
    for s in &subjects {
        assert_eq!(p.unsound_literals(s), Vec::<usize>::new(), "{s:?}");
    }
    let (with, all) = p.rules_with_literal();
    eprintln!("{with} of {all} rules have a required literal");
    eprintln!(
        "{} subjects ({real} real user agents) equal to the JDK's; parsed (first use, compiling) in {took:?}",
        subjects.len()
    );
}

/// `aws-cli/2.17.60` as Elastic's grimoire-generated fixtures spell it.
fn cli_2_17_60(env: &str, command: &str) -> String {
    format!("aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/macos#23.6.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/grimoire_{env} cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#{command}")
}

/// Elastic's values for user agents of the aws package's pipeline fixtures that are not in
/// `../shared` (elastic/integrations `packages/aws/data_stream/cloudtrail/_dev/test/pipeline/`,
/// the `user_agent` object of each `*-expected.json` named in the comment; read through
/// the code index). Together with the fixtures in `../shared` these are the distinct user
/// agents of Elastic's CloudTrail fixtures.
#[test]
fn elastic_values_for_the_fixtures_outside_shared() {
    let Some((_, p)) = rules() else { return };
    let cli = |v: &str| json!({"name": "aws-cli", "version": v, "device": {"name": "Other"}});
    let cases: Vec<(String, Value)> = vec![
        // get-caller-identity
        ("aws-sdk-nodejs/2.1384.0 darwin/v20.16.0 AWS-Toolkit-For-VSCode/3.31.0 Visual-Studio-Code/1.94.2 ClientId/37f8324b-eab7-4264-9abd-4be2e6454726 promise".into(),
         json!({"name": "aws-sdk-nodejs", "version": "2.1384.0", "device": {"name": "Other"}})),
        // add-permission, batch-get-secret-value, create-trust-anchor, schedule-key-deletion,
        // create-stack, get-parameter, delete-alarms, create-traffic-mirror-target,
        // create-detector
        (cli_2_17_60("8ce3f005-c362-4713-912a-4d6f5c122258", "lambda.add-permission"), cli("2.17.60")),
        (cli_2_17_60("e46e6e5b-f4d8-479c-9f84-ff7598c1ac9e", "secretsmanager.batch-get-secret-value"), cli("2.17.60")),
        (cli_2_17_60("5ee6ac99-1a3a-439c-a8d6-a576883a1e8e", "rolesanywhere.create-trust-anchor"), cli("2.17.60")),
        (cli_2_17_60("b9ebeb30-e2c8-40eb-8c5b-3a825acea708", "kms.schedule-key-deletion"), cli("2.17.60")),
        (cli_2_17_60("f180216f-c8a2-4a1e-8ffc-0e27851dad77", "cloudformation.create-stack"), cli("2.17.60")),
        (cli_2_17_60("52af3621-8820-4e8a-8f18-7683368a7dc2", "ssm.get-parameter"), cli("2.17.60")),
        (cli_2_17_60("2b93b5c6-5303-4575-acec-5e50f4e32a77", "cloudwatch.delete-alarms"), cli("2.17.60")),
        (cli_2_17_60("8de3a094-8de4-45be-a488-d6525555d1d0", "ec2.create-traffic-mirror-target"), cli("2.17.60")),
        (cli_2_17_60("c11215cc-0dab-4506-b744-4f477e8062f6", "guardduty.create-detector"), cli("2.17.60")),
        // put-bucket-replication (in brackets, as S3 logs them)
        (format!("[{}]", cli_2_17_60("52af3621-8820-4e8a-8f18-7683368a7dc2", "s3api.put-bucket-replication")), cli("2.17.60")),
        // create-lambda, create-db-instance, disable-key
        ("aws-cli/2.14.5 Python/3.11.6 Darwin/23.6.0 exec-env/grimoire_7ea17849-045c-4e81-8a81-d0822d5c4aaf exe/x86_64 prompt/off command/lambda.create-function".into(), cli("2.14.5")),
        ("aws-cli/2.14.5 Python/3.11.6 Darwin/23.6.0 exec-env/grimoire_7ea17849-045c-4e81-8a81-d0822d5c4aaf exe/x86_64 prompt/off command/rds.create-db-instance".into(), cli("2.14.5")),
        ("aws-cli/2.14.5 Python/3.11.6 Darwin/23.6.0 exec-env/grimoire_7ea17849-045c-4e81-8a81-d0822d5c4aaf exe/x86_64 prompt/off command/kms.disable-key".into(), cli("2.14.5")),
        // publish
        ("aws-cli/2.18.17 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1016-aws md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#sns.publish".into(),
         json!({"name": "aws-cli", "version": "2.18.17", "os": {"name": "Linux"}, "device": {"name": "Other"}})),
        // assume-role
        ("aws-cli/1.16.248 Python/3.4.7 Linux/4.9.184-0.1.ac.235.83.329.metal1.x86_64 botocore/1.12.239".into(),
         json!({"name": "aws-cli", "version": "1.16.248", "os": {"name": "Linux", "version": "4.9.184", "full": "Linux 4.9.184"}, "device": {"name": "Spider"}})),
        // delete-bucket
        ("[aws-cli/1.11.10 Python/2.7.8 Linux/3.2.45-0.6.wd.865.49.315.metal1.x86_64 botocore/1.4.67]".into(),
         json!({"name": "aws-cli", "version": "1.11.10", "os": {"name": "Linux", "version": "3.2.45", "full": "Linux 3.2.45"}, "device": {"name": "Spider"}})),
        // change-password
        ("aws-cli/1.16.310 Python/3.8.1 Darwin/18.7.0 botocore/1.13.46".into(),
         json!({"name": "aws-cli", "version": "1.16.310", "device": {"name": "Spider"}})),
        // create-user
        ("aws-cli/1.3.2 Python/2.7.5 Windows/7".into(),
         json!({"name": "aws-cli", "version": "1.3.2", "os": {"name": "Windows"}, "device": {"name": "Other"}})),
        // create-key-pair
        ("EC2ConsoleBackend, aws-sdk-java/Linux/x.xx.fleetxen Java_HotSpot(TM)_64-Bit_Server_VM/xx".into(),
         json!({"name": "Other", "os": {"name": "Linux"}, "device": {"name": "Other"}})),
        // delete-web-acl
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36".into(),
         json!({"name": "Chrome", "version": "129.0.0.0", "os": {"name": "Mac OS X", "version": "10.15.7", "full": "Mac OS X 10.15.7"}, "device": {"name": "Mac"}})),
        // get-bucket-policy
        ("config.amazonaws.com".into(), json!({"name": "Other", "device": {"name": "Other"}})),
        // open-control-channel
        ("Go-http-client/1.1".into(), json!({"name": "Go-http-client", "version": "1.1", "device": {"name": "Other"}})),
        // list-attached-role-policies: `aws-sdk-go-v2` is not named by this uap-core commit
        // (a later one names it and breaks these values).
        ("APN/1.0 HashiCorp/1.0 Terraform/1.9.6 (+https://www.terraform.io) terraform-provider-aws/5.73.0 (+https://registry.terraform.io/providers/hashicorp/aws) m/C aws-sdk-go-v2/1.32.2 os/macos lang/go#1.23.2 md/GOOS#darwin md/GOARCH#arm64 api/iam#1.37.2".into(),
         json!({"name": "Other", "device": {"name": "Other"}})),
    ];
    let mut bad = Vec::new();
    for (original, mut want) in cases.iter().cloned() {
        want["original"] = Value::String(original.clone());
        let got = Value::Object(p.parse(&original).to_object(&original));
        if got != want {
            bad.push(format!("{original}\n  got  {got}\n  want {want}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    let mut all: BTreeSet<String> = cases.into_iter().map(|(o, _)| o).collect();
    all.extend(
        elastic_documents()
            .iter()
            .map(|(_, ua)| ua["original"].as_str().unwrap().to_string()),
    );
    eprintln!(
        "{} distinct fixture user agents with Elastic's values",
        all.len()
    );
}
