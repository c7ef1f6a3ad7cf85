//! `java_map::from_str_java_ordered` (objects built directly in Java `HashMap` order) against
//! the two-step reference — `serde_json::from_str`, then `reorder_recursive` — on every
//! record of `../shared/data/real` and the repository sample, plus duplicate keys.

use std::io::Read;
use std::path::{Path, PathBuf};

use cloudtrail::java_map::{from_str_java_ordered, reorder_recursive};
use serde_json::Value;

fn reference(text: &str) -> Value {
    let mut v: Value = serde_json::from_str(text).unwrap();
    reorder_recursive(&mut v);
    v
}

/// Same value and the same key order at every level (`==` ignores order).
fn assert_same(text: &str) {
    let got = from_str_java_ordered(text).unwrap();
    let want = reference(text);
    assert_eq!(
        serde_json::to_string(&got).unwrap(),
        serde_json::to_string(&want).unwrap(),
        "{text}"
    );
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn text_of(path: &Path) -> Option<String> {
    let raw = std::fs::read(path).ok()?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_string(&mut s)
            .ok()?;
        Some(s)
    } else {
        String::from_utf8(raw).ok()
    }
}

#[test]
fn java_ordered_parse_equals_parse_then_reorder() {
    for text in [
        r#"{"b":1,"a":{"y":[{"q":1,"p":2}],"x":null},"c":"s"}"#,
        r#"{"k":1,"k":2,"a":3}"#,
        r#"[{"Aa":1,"BB":2},{"BB":1,"Aa":2}]"#,
        r#"{"n":1.5e300,"m":-0.0,"u":18446744073709551615}"#,
    ] {
        assert_same(text);
    }
    let mut dirs = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample")];
    dirs.extend(crate::shared("data/real"));
    let mut checked = 0usize;
    for dir in dirs {
        let mut all = vec![];
        files(&dir, &mut all);
        for f in all {
            let Some(text) = text_of(&f) else { continue };
            // Whole documents (S3 deliveries, arrays, single records) and NDJSON lines.
            if serde_json::from_str::<Value>(&text).is_ok() {
                assert_same(&text);
                checked += 1;
            } else {
                for line in text.lines() {
                    if serde_json::from_str::<Value>(line).is_ok() {
                        assert_same(line);
                        checked += 1;
                    }
                }
            }
        }
    }
    println!("java-ordered parse: {checked} documents compared");
    assert!(checked > 100, "only {checked} documents found");
}
