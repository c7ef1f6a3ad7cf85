//! Dotted-path access to the ingest document, with the semantics of the ingest processors the
//! pipeline uses (`rename`, `set … copy_from`, `append allow_duplicates: false`).
//!
//! Paths only descend through objects, like `ctx.a?.b?.c` in Painless: a list or scalar in the
//! middle of a path means "missing".

use serde_json::{Map, Value};

use super::Failure;

pub(crate) type Obj = Map<String, Value>;

/// Objects up to this size are searched by a linear scan: the pipeline's objects are small
/// and most lookups miss, and comparing lengths first is far cheaper than SipHash.
const LINEAR_LOOKUP_MAX: usize = 16;

/// Key equality with the cheap tests first: most candidates differ in length or first byte,
/// and those never reach `memcmp`.
#[inline]
fn same_key(k: &str, key: &str) -> bool {
    k.len() == key.len() && k.as_bytes().first() == key.as_bytes().first() && k == key
}

fn lookup<'a>(m: &'a Obj, key: &str) -> Option<&'a Value> {
    if m.len() <= LINEAR_LOOKUP_MAX {
        m.iter().find(|(k, _)| same_key(k, key)).map(|(_, v)| v)
    } else {
        m.get(key)
    }
}

fn lookup_mut<'a>(m: &'a mut Obj, key: &str) -> Option<&'a mut Value> {
    if m.len() <= LINEAR_LOOKUP_MAX {
        m.iter_mut().find(|(k, _)| same_key(k, key)).map(|(_, v)| v)
    } else {
        m.get_mut(key)
    }
}

/// Objects the pipeline creates (`aws`, `aws.cloudtrail`, `user`, …) mostly end up with a
/// handful to a few dozen keys; starting them with room avoids regrowing both the entry list
/// and the hash index several times per document.
const NEW_OBJECT_CAPACITY: usize = 8;

/// The segments of a dotted path (a byte scan; `str::split` costs more on these short paths).
fn segments(path: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(path);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.as_bytes().iter().position(|&b| b == b'.') {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

pub(crate) fn get<'a>(m: &'a Obj, path: &str) -> Option<&'a Value> {
    let mut parts = segments(path);
    let mut cur = lookup(m, parts.next()?)?;
    for p in parts {
        cur = lookup(cur.as_object()?, p)?;
    }
    Some(cur)
}

/// Like [`get`], treating JSON `null` as missing (Painless `!= null`).
pub(crate) fn get_nn<'a>(m: &'a Obj, path: &str) -> Option<&'a Value> {
    get(m, path).filter(|v| !v.is_null())
}

pub(crate) fn get_str<'a>(m: &'a Obj, path: &str) -> Option<&'a str> {
    get(m, path).and_then(Value::as_str)
}

pub(crate) fn has(m: &Obj, path: &str) -> bool {
    get_nn(m, path).is_some()
}

pub(crate) fn remove(m: &mut Obj, path: &str) -> Option<Value> {
    match path.rsplit_once('.') {
        None => m.shift_remove(path),
        Some((parent, last)) => get_obj_mut(m, parent)?.shift_remove(last),
    }
}

fn get_obj_mut<'a>(m: &'a mut Obj, path: &str) -> Option<&'a mut Obj> {
    let mut cur = m;
    for p in segments(path) {
        cur = lookup_mut(cur, p)?.as_object_mut()?;
    }
    Some(cur)
}

/// Sets a value, creating parent objects; fails like `IngestDocument.setFieldValue` when a
/// parent exists but is not an object.
pub(crate) fn set(m: &mut Obj, path: &str, v: Value) -> Result<(), Failure> {
    let mut cur = m;
    let mut parts = segments(path).peekable();
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            match lookup_mut(cur, p) {
                Some(slot) => *slot = v,
                None => {
                    cur.insert(p.to_string(), v);
                }
            }
            return Ok(());
        }
        // Look before inserting: `entry` would allocate the key even when it exists.
        if lookup(cur, p).is_none() {
            cur.insert(
                p.to_string(),
                Value::Object(Map::with_capacity(NEW_OBJECT_CAPACITY)),
            );
        }
        let next = lookup_mut(cur, p).expect("present or just inserted");
        cur = match next {
            Value::Object(o) => o,
            Value::Null => {
                *next = Value::Object(Map::with_capacity(NEW_OBJECT_CAPACITY));
                next.as_object_mut().expect("just set")
            }
            _ => {
                return Err(Failure::new(format!(
                    "cannot set [{p}] with parent object of type [{}] as part of path [{path}]",
                    java_type(next)
                )))
            }
        };
    }
    Ok(())
}

fn java_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(_) => "java.lang.Integer",
        _ => "java.lang.Object",
    }
}

/// `rename` with `ignore_missing: true`: moves the value when present. The target must not
/// exist unless `override_target`, as in Elasticsearch.
pub(crate) fn rename(m: &mut Obj, from: &str, to: &str) -> Result<(), Failure> {
    rename_impl(m, from, to, false)
}

pub(crate) fn rename_override(m: &mut Obj, from: &str, to: &str) -> Result<(), Failure> {
    rename_impl(m, from, to, true)
}

fn rename_impl(m: &mut Obj, from: &str, to: &str, override_target: bool) -> Result<(), Failure> {
    // One walk to the source's parent, which is all a miss (the common case) costs; on a hit
    // the value is taken out right away and put back in its place if the target is taken.
    let (parent_path, key) = match from.rsplit_once('.') {
        Some((p, k)) => (Some(p), k),
        None => (None, from),
    };
    let Some(parent) = parent_obj(m, parent_path) else {
        return Ok(());
    };
    let Some(index) = parent.keys().position(|k| same_key(k, key)) else {
        return Ok(());
    };
    let v = parent.shift_remove(key).expect("found above");
    if !override_target && get(m, to).is_some() {
        parent_obj(m, parent_path)
            .expect("the source's parent is still there")
            .shift_insert(index, key.to_string(), v);
        return Err(Failure::new(format!("field [{to}] already exists")));
    }
    set(m, to, v)
}

/// The object at `path`, or `m` itself for the top level.
fn parent_obj<'a>(m: &'a mut Obj, path: Option<&str>) -> Option<&'a mut Obj> {
    match path {
        Some(p) => get_obj_mut(m, p),
        None => Some(m),
    }
}

/// `set` with `copy_from` and `ignore_empty_value: true`.
pub(crate) fn copy_nonempty(m: &mut Obj, from: &str, to: &str) -> Result<(), Failure> {
    match get(m, from) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s.is_empty() => Ok(()),
        Some(v) => {
            let v = v.clone();
            set(m, to, v)
        }
    }
}

/// `append` with `allow_duplicates: false`: turns a scalar into a list and adds the value
/// unless an equal one is already there.
pub(crate) fn append_unique(m: &mut Obj, path: &str, v: Value) -> Result<(), Failure> {
    if let Some(existing) = get_mut(m, path) {
        match existing {
            Value::Array(items) => {
                if !items.contains(&v) {
                    items.push(v);
                }
            }
            other => {
                let old = other.take();
                *other = if old == v {
                    Value::Array(vec![old])
                } else {
                    Value::Array(vec![old, v])
                };
            }
        }
        return Ok(());
    }
    set(m, path, Value::Array(vec![v]))
}

pub(crate) fn get_mut<'a>(m: &'a mut Obj, path: &str) -> Option<&'a mut Value> {
    match path.rsplit_once('.') {
        None => lookup_mut(m, path),
        Some((parent, last)) => lookup_mut(get_obj_mut(m, parent)?, last),
    }
}

/// What a Mustache `{{{path}}}` template renders for a value: strings as is, everything else
/// via Java `toString()`.
pub(crate) fn template(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => crate::java_map::to_java_string(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Obj {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn paths() {
        let mut m = obj(json!({"a": {"b": {"c": 1}, "l": [{"x": 1}]}}));
        assert_eq!(get(&m, "a.b.c"), Some(&json!(1)));
        assert_eq!(get(&m, "a.l.x"), None);
        set(&mut m, "a.n.m", json!("v")).unwrap();
        assert_eq!(get_str(&m, "a.n.m"), Some("v"));
        assert!(set(&mut m, "a.n.m.z", json!(1)).is_err());
        rename(&mut m, "a.b.c", "x.y").unwrap();
        assert_eq!(get(&m, "x.y"), Some(&json!(1)));
        assert!(get(&m, "a.b.c").is_none());
        rename(&mut m, "missing", "x.y").unwrap();
        set(&mut m, "q", json!(2)).unwrap();
        assert!(rename(&mut m, "q", "x.y").is_err());
        // A failed rename leaves the source where it was, in its place.
        let mut m = obj(json!({"j": {"a": 1, "b": 2, "c": 3}, "t": 0}));
        let before = serde_json::to_string(&m).unwrap();
        assert!(rename(&mut m, "j.b", "t").is_err());
        assert_eq!(serde_json::to_string(&m).unwrap(), before);
        rename_override(&mut m, "j.b", "t").unwrap();
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"j":{"a":1,"c":3},"t":2}"#
        );
        append_unique(&mut m, "r", json!("a")).unwrap();
        append_unique(&mut m, "r", json!("a")).unwrap();
        append_unique(&mut m, "r", json!("b")).unwrap();
        assert_eq!(get(&m, "r"), Some(&json!(["a", "b"])));
    }
}
