//! `{key=value}` payload strings checked against the real JDK (`tools/JavaMapOracle.java`):
//! random key sets, resizes (13+ and 25+ keys), colliding hashes (`Aa`/`BB` families, including
//! chains long enough to force the resize-instead-of-treeify path), nested maps and lists,
//! numbers, booleans and values removed by cleanup.

use std::io::Write;
use std::process::{Command, Stdio};

use cloudtrail::{normalize_record, NormalizeOptions};
use serde_json::{json, Map, Value};

/// xorshift64*: deterministic vectors without a rand dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn key(&mut self) -> String {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:.*";
        let len = 1 + self.below(14) as usize;
        (0..len)
            .map(|_| CHARS[self.below(CHARS.len() as u64) as usize] as char)
            .collect()
    }
    /// Doubles whose `Double.toString` is the same on JDK 17 (the oracle here) and 19+.
    fn value(&mut self, depth: u32) -> Value {
        match self.below(if depth > 2 { 9 } else { 12 }) {
            0 => json!(self.below(1000)),
            1 => json!(self.next() >> 20),
            2 => json!(
                [0.5, 2.0, 1.0e10, 123.456, 1.0e-4, -7.25, 0.001, 12345678.9, 1e21]
                    [self.below(9) as usize]
            ),
            3 => json!(self.below(2) == 0),
            4 => json!(["", "-", "none", "None", "x-y"][self.below(5) as usize]),
            5 => Value::Null,
            6..=8 => json!(self.key()),
            9 | 10 => {
                let n = 1 + self.below(6) as usize;
                self.object(depth + 1, n)
            }
            _ => Value::Array((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
        }
    }
    fn object(&mut self, depth: u32, n: usize) -> Value {
        let mut m = Map::new();
        while m.len() < n {
            let k = self.key();
            let v = self.value(depth);
            m.insert(k, v);
        }
        Value::Object(m)
    }
}

/// `Aa` and `BB` have the same hash, so every word over {Aa, BB} of one length collides.
fn colliding(n: usize, pairs: u32) -> Vec<String> {
    (0..(1usize << pairs))
        .take(n)
        .map(|bits| {
            (0..pairs)
                .map(|i| if bits >> i & 1 == 1 { "BB" } else { "Aa" })
                .collect()
        })
        .collect()
}

fn vectors() -> Vec<Value> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::new();
    // Random sizes around the resize thresholds (12/13, 24/25, 48/49).
    for n in [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 20, 24, 25, 26, 31, 37, 48, 49, 60, 97,
    ] {
        out.push(rng.object(0, n));
    }
    // Colliding buckets: alone, mixed with other keys, and 9–10 keys in one chain.
    for (n, extra) in [(4, 0), (8, 3), (9, 0), (9, 6), (10, 2), (9, 15)] {
        let mut m = Map::new();
        for (i, k) in colliding(n, 4).into_iter().enumerate() {
            m.insert(k, json!(i));
            if i % 3 == 0 {
                for _ in 0..extra / 3 {
                    m.insert(rng.key(), json!(rng.key()));
                }
            }
        }
        out.push(Value::Object(m));
    }
    // Known shapes from the spec and cleanup edge cases.
    out.push(json!({"MobileVersion": "No", "LoginTo": "https://x/", "MFAUsed": "No"}));
    out.push(
        json!({"incomingTransitiveTags": {"Department": "Engineering"},
        "tags": [{"value": "a@b", "key": "Email"}, {"value": "12345", "key": "CostCenter"}],
        "roleArn": "arn:aws:iam::1:role/R", "roleSessionName": "s",
        "transitiveTagKeys": ["Email", "CostCenter"], "durationSeconds": 3600}),
    );
    out.push(
        json!({"comment": "", "instanceIds": [], "notificationConfig":
        {"notificationArn": "", "notificationEvents": [], "notificationType": ""},
        "k1": "-", "k2": "none", "kept": {"x": null, "y": [null, "", {}], "z": 1}}),
    );
    out.push(json!({"unicode": {"é": 1, "日本": 2, "😀": 3, "Ω": [true, false]}, "big": 9007199254740993u64,
        "neg": -42, "long": 1726046908000i64, "d": [1.5, 100.0]}));
    out.push(json!({"all": null, "gone": ""}));
    let mut k13 = Map::new();
    for i in 0..13 {
        k13.insert(format!("k{i}"), json!(i));
    }
    out.push(Value::Object(k13));
    out
}

fn ours(obj: &Value) -> String {
    let record = json!({"eventName": "X", "requestParameters": obj});
    let opts = NormalizeOptions {
        created: Some("2021-11-11T01:02:03.123Z".into()),
        tags: vec![],
        retain: None,
    };
    let doc = normalize_record(&record.to_string(), &opts).unwrap();
    doc.pointer("/aws/cloudtrail/request_parameters")
        .and_then(Value::as_str)
        .unwrap_or("null")
        .replace('\n', "\\n")
}

#[test]
fn payload_strings_match_the_jdk() {
    let Some(oracle) = crate::shared("tools/JavaMapOracle.java") else {
        return;
    };
    if !testkit::require_java(&["java"]) {
        return;
    }
    let vectors = vectors();
    assert!(vectors.len() >= 30);
    let input: String = vectors.iter().map(|v| format!("{v}\n")).collect();
    let child = Command::new("java")
        .arg(&oracle)
        .arg("--clean")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = child.expect("spawn java");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(expected.len(), vectors.len());
    let mut failures = Vec::new();
    for (v, want) in vectors.iter().zip(&expected) {
        let got = ours(v);
        if &got != want {
            failures.push(format!("input {v}\n  got  {got}\n  want {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("{} key sets match the JDK", vectors.len());
}
