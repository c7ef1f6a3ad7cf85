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

use serde_json::Value;
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
    eprintln!(
        "{} subjects ({real} real user agents) equal to the JDK's; parsed (first use, compiling) in {took:?}",
        subjects.len()
    );
}
