//! JSON and digest functions: JSON_EXTRACT (a `$.a.b[0]` path into a JSON string; strings
//! come back unquoted, other values as JSON text), and MD5/SHA1/SHA256/HASH as lower-case
//! hex of the UTF-8 bytes.

use super::{scalar, FunctionDef};
use crate::udf::Ctx;
use crate::udf::Failure;
use crate::value::Value;
use esql::catalog::{arity, expect, is_string, ArgError, Args};
use esql::DataType;
use md5::Digest;

pub fn register(defs: &mut Vec<FunctionDef>) {
    defs.push(scalar("JSON_EXTRACT", two_strings, json_extract));
    defs.push(scalar("MD5", one_string, |a, _| digest(a, "MD5")));
    defs.push(scalar("SHA1", one_string, |a, _| digest(a, "SHA-1")));
    defs.push(scalar("SHA256", one_string, |a, _| digest(a, "SHA-256")));
    defs.push(scalar("HASH", two_strings, hash));
}

fn one_string(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 1, Some(1))?;
    expect(a, 0, is_string, "keyword or text")?;
    Ok(DataType::Keyword)
}

fn two_strings(a: &Args<'_>) -> Result<DataType, ArgError> {
    arity(a, 2, Some(2))?;
    expect(a, 0, is_string, "keyword or text")?;
    expect(a, 1, is_string, "keyword or text")?;
    Ok(DataType::Keyword)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(a: &[Value], algorithm: &str) -> Result<Value, Failure> {
    let [Value::Str(s)] = a else {
        return Ok(Value::Null);
    };
    let bytes = s.as_bytes();
    let out = match algorithm.to_ascii_uppercase().as_str() {
        "MD5" => hex(&md5::Md5::digest(bytes)),
        "SHA-1" | "SHA1" => hex(&sha1::Sha1::digest(bytes)),
        "SHA-256" | "SHA256" => hex(&sha2::Sha256::digest(bytes)),
        "SHA-384" | "SHA384" => hex(&sha2::Sha384::digest(bytes)),
        "SHA-512" | "SHA512" => hex(&sha2::Sha512::digest(bytes)),
        other => {
            return Err(format!(
                "java.security.NoSuchAlgorithmException: {other} MessageDigest not available"
            )
            .into())
        }
    };
    Ok(Value::Str(out))
}

fn hash(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let [Value::Str(alg), s] = a else {
        return Ok(Value::Null);
    };
    digest(std::slice::from_ref(s), alg)
}

fn json_extract(a: &[Value], _: &Ctx) -> Result<Value, Failure> {
    let [Value::Str(doc), Value::Str(path)] = a else {
        return Ok(Value::Null);
    };
    let v: serde_json::Value = serde_json::from_str(doc)
        .map_err(|e| format!("java.lang.IllegalArgumentException: invalid JSON input: {e}"))?;
    let mut cur = &v;
    for step in parse_path(path)? {
        let next = match (&step, cur) {
            (Step::Key(k), serde_json::Value::Object(m)) => m.get(k),
            (Step::Index(i), serde_json::Value::Array(xs)) => xs.get(*i),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return Ok(Value::Null),
        }
    }
    Ok(match cur {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::String(s) => Value::Str(s.clone()),
        other => Value::Str(other.to_string()),
    })
}

enum Step {
    Key(String),
    Index(usize),
}

/// `$.a.b[0]['c d']`, with or without the leading `$`.
fn parse_path(path: &str) -> Result<Vec<Step>, Failure> {
    let bad = || format!("java.lang.IllegalArgumentException: invalid JSON path [{path}]");
    let mut rest = path.strip_prefix('$').unwrap_or(path);
    let mut steps = vec![];
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return Err(bad().into());
            }
            steps.push(Step::Key(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(bad)?;
            let inner = r[..end].trim();
            let quoted = inner
                .strip_prefix('\'')
                .and_then(|x| x.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')));
            match quoted {
                Some(k) => steps.push(Step::Key(k.to_string())),
                None => steps.push(Step::Index(inner.parse().map_err(|_| bad())?)),
            }
            rest = &r[end + 1..];
        } else if steps.is_empty() {
            // A bare first key: `a.b`.
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            steps.push(Step::Key(rest[..end].to_string()));
            rest = &rest[end..];
        } else {
            return Err(bad().into());
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    #[test]
    fn extract_paths() {
        let c = Ctx::new(DataType::Keyword, vec![]);
        let doc = s(r#"{"a":{"b":[{"c":"x"},{"c":2}],"d e":true}}"#);
        assert_eq!(
            json_extract(&[doc.clone(), s("$.a.b[0].c")], &c).unwrap(),
            s("x")
        );
        assert_eq!(
            json_extract(&[doc.clone(), s("$.a.b[1].c")], &c).unwrap(),
            s("2")
        );
        assert_eq!(
            json_extract(&[doc.clone(), s("$.a['d e']")], &c).unwrap(),
            s("true")
        );
        assert_eq!(
            json_extract(&[doc.clone(), s("a.b[1]")], &c).unwrap(),
            s(r#"{"c":2}"#)
        );
        assert_eq!(json_extract(&[doc, s("$.nope")], &c).unwrap(), Value::Null);
    }

    #[test]
    fn digests() {
        assert_eq!(
            digest(&[s("abc")], "MD5").unwrap(),
            s("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(
            digest(&[s("abc")], "SHA-1").unwrap(),
            s("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(
            digest(&[s("abc")], "SHA-256").unwrap(),
            s("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }
}
