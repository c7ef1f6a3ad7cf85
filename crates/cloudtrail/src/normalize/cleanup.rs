//! The pipeline's two recursive cleanups.
//!
//! Cleanup #1 runs before anything reads the record and also drops the literal strings `"-"`
//! and `"none"` (a parity quirk: genuine payload values `"-"`/`"none"` vanish too). Cleanup #2
//! runs at the very end and only drops null, `""` and empty containers. Both judge containers
//! after cleaning their children, and neither reorders what remains.

use serde_json::Value;

use super::ctx::Obj;

/// Which values a cleanup pass removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pass {
    /// Before renames: null, `""`, `"-"`, `"none"`, empty objects/lists.
    First,
    /// At the end: null, `""`, empty objects/lists.
    Final,
}

/// Cleans a map's members in place.
pub(crate) fn clean_map(map: &mut Obj, pass: Pass) {
    map.retain(|_, v| !clean_value(v, pass));
}

/// Cleans `v` in place and returns true when `v` itself must be removed.
pub(crate) fn clean_value(v: &mut Value, pass: Pass) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty() || (pass == Pass::First && (s == "-" || s == "none")),
        Value::Object(map) => {
            clean_map(map, pass);
            map.is_empty()
        }
        Value::Array(items) => {
            items.retain_mut(|item| !clean_value(item, pass));
            items.is_empty()
        }
        Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn first_pass_removes_placeholders_recursively() {
        let mut v = json!({
            "a": null, "b": "", "c": "-", "d": "none", "e": "None", "f": {}, "g": [],
            "h": {"x": {"y": ""}, "z": 0}, "i": [null, "", "-", {"k": []}, "keep"],
            "j": false
        });
        assert!(!clean_value(&mut v, Pass::First));
        assert_eq!(
            v,
            json!({"e": "None", "h": {"z": 0}, "i": ["keep"], "j": false})
        );
    }

    #[test]
    fn final_pass_keeps_dash_and_none() {
        let mut v = json!({"c": "-", "d": "none", "e": [""], "f": {"g": null}});
        clean_value(&mut v, Pass::Final);
        assert_eq!(v, json!({"c": "-", "d": "none"}));
    }

    #[test]
    fn removal_keeps_order() {
        let mut v = json!({"z": 1, "y": "", "a": 2});
        clean_value(&mut v, Pass::First);
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a"]);
    }
}
