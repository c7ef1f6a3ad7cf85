//! Java `HashMap` iteration order and `toString()` rendering.
//!
//! Elastic's pipeline stores `requestParameters`, `responseElements`, `additionalEventData` and
//! `serviceEventDetails` as the Painless `toString()` of the parsed JSON object. Elasticsearch's
//! JSON parser builds every object as a `java.util.HashMap`, so the key order of those strings is
//! the hash-table order, not the input order. Hunting queries match on these strings
//! (`request_parameters LIKE "*roleSessionName=…*"`), so we must reproduce the order exactly.
//!
//! The order depends on: `String.hashCode` over UTF-16 code units, the `h ^ (h >>> 16)` spread,
//! the table capacity (16, doubled whenever the size exceeds 0.75 × capacity, and also doubled
//! instead of treeifying when a chain grows past 8 while the table is smaller than 64), and
//! insertion order inside a bucket. Resizes split every bucket into `i` and `i + old` while
//! keeping relative order, which iterating the old table in order and re-appending reproduces.
//!
//! Treeified bins (9+ colliding keys in a table of 64+ buckets) iterate in an order that depends
//! on red-black tree insertion; that needs adversarial keys and is not modelled: such bins keep
//! insertion order.

use serde_json::{Map, Number, Value};

const INITIAL_CAPACITY: usize = 16;
const TREEIFY_THRESHOLD: usize = 8;
const MIN_TREEIFY_CAPACITY: usize = 64;

/// `java.lang.String.hashCode()`: `31*h + unit` over UTF-16 code units, wrapping at 32 bits.
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// `HashMap.hash()`: folds the high bits into the low ones because the table index only uses
/// the low bits.
pub fn spread(h: i32) -> u32 {
    let h = h as u32;
    h ^ (h >> 16)
}

/// Simulates a `java.util.HashMap` (default constructor) receiving `keys` by `put` in order and
/// returns the indices of the distinct keys in iteration order.
///
/// A key that is put again keeps its first position (Java replaces the value in place), so for
/// duplicates the index of the *first* occurrence is returned; callers that want "last value
/// wins" look the value up by key.
pub fn hashmap_order<S: AsRef<str>>(keys: &[S]) -> Vec<usize> {
    order_by(keys.len(), |i| keys[i].as_ref())
}

/// Objects up to this many keys (nearly all of CloudTrail's) are ordered with stack buffers:
/// at most 48 distinct keys keep the table at 64 buckets or fewer (48 ≤ 0.75 × 64, and the
/// treeify resize stops at 64).
const SMALL_KEYS: usize = 48;

/// [`hashmap_order`] over `n` keys given by index.
fn order_by<'k>(n: usize, key: impl Fn(usize) -> &'k str) -> Vec<usize> {
    if n > SMALL_KEYS {
        let hashes: Vec<u32> = (0..n).map(|i| spread(string_hash(key(i)))).collect();
        let mut chain_len = vec![0u32; MIN_TREEIFY_CAPACITY.max(n.next_power_of_two() * 2)];
        return order_with(&hashes, &key, &mut chain_len);
    }
    let mut hashes = [0u32; SMALL_KEYS];
    for (i, h) in hashes.iter_mut().enumerate().take(n) {
        *h = spread(string_hash(key(i)));
    }
    let mut chain_len = [0u32; MIN_TREEIFY_CAPACITY];
    order_with(&hashes[..n], &key, &mut chain_len)
}

/// The simulation itself; `chain_len` has room for the largest table the keys can reach.
fn order_with<'k>(
    hashes: &[u32],
    key: &impl Fn(usize) -> &'k str,
    chain_len: &mut [u32],
) -> Vec<usize> {
    // Iteration order is bucket by bucket, and within a bucket insertion order (appends go to
    // the tail and a resize splits each chain keeping relative order). So the order is the
    // distinct keys stably sorted by their bucket in the final table; only the final capacity
    // needs simulating, from the size threshold and the chain lengths that trigger the
    // resize-instead-of-treeify.
    let mut distinct: Vec<usize> = Vec::with_capacity(hashes.len());
    let mut cap = INITIAL_CAPACITY;
    chain_len[..cap].fill(0);
    for (i, &hash) in hashes.iter().enumerate() {
        let bucket = (hash as usize) & (cap - 1);
        let duplicate = chain_len[bucket] > 0
            && distinct
                .iter()
                .any(|&j| hashes[j] == hash && key(j) == key(i));
        if duplicate {
            continue;
        }
        let chain_len_before = chain_len[bucket];
        chain_len[bucket] += 1;
        distinct.push(i);
        // putVal calls treeifyBin once the chain held 8 nodes before this append; below 64
        // buckets treeifyBin resizes instead. Then the usual load-factor resize.
        if chain_len_before as usize >= TREEIFY_THRESHOLD && cap < MIN_TREEIFY_CAPACITY {
            cap *= 2;
            recount(&mut chain_len[..cap], cap, &distinct, hashes);
        }
        if distinct.len() * 4 > cap * 3 {
            cap *= 2;
            recount(&mut chain_len[..cap], cap, &distinct, hashes);
        }
    }
    // A stable counting sort by final bucket: `chain_len` holds each bucket's count.
    let mut next = 0u32;
    for count in chain_len[..cap].iter_mut() {
        let start = next;
        next += *count;
        *count = start;
    }
    let mut ordered = vec![0usize; distinct.len()];
    for &i in &distinct {
        let slot = &mut chain_len[(hashes[i] as usize) & (cap - 1)];
        ordered[*slot as usize] = i;
        *slot += 1;
    }
    ordered
}

fn recount(chain_len: &mut [u32], cap: usize, keys: &[usize], hashes: &[u32]) {
    chain_len.fill(0);
    for &i in keys {
        chain_len[(hashes[i] as usize) & (cap - 1)] += 1;
    }
}

/// Reorders one object's members into `HashMap` iteration order.
pub fn reorder_map(map: &mut Map<String, Value>) {
    if map.len() < 2 {
        return;
    }
    let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
    let order = hashmap_order(&entries.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>());
    let mut slots: Vec<Option<(String, Value)>> = entries.into_iter().map(Some).collect();
    for i in order {
        if let Some((k, v)) = slots[i].take() {
            map.insert(k, v);
        }
    }
}

/// Reorders every object inside `value` (recursively) into `HashMap` iteration order, as
/// Elasticsearch's JSON processor would have built them. Must run before cleanup: the capacity
/// depends on the original key count, and removing keys later does not reorder the rest.
pub fn reorder_recursive(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for v in map.values_mut() {
                reorder_recursive(v);
            }
            reorder_map(map);
        }
        Value::Array(items) => items.iter_mut().for_each(reorder_recursive),
        _ => {}
    }
}

/// Parses JSON text with every object already in `HashMap` iteration order — the same value
/// as `serde_json::from_str` followed by [`reorder_recursive`], without building each
/// object's hash table twice.
pub fn from_str_java_ordered(text: &str) -> serde_json::Result<Value> {
    let v: JavaOrdered = serde_json::from_str(text)?;
    Ok(v.0)
}

struct JavaOrdered(Value);

impl<'de> serde::Deserialize<'de> for JavaOrdered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JavaOrderedVisitor).map(JavaOrdered)
    }
}

struct JavaOrderedVisitor;

impl<'de> serde::de::Visitor<'de> for JavaOrderedVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(JavaOrdered(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::with_capacity(16);
        while let Some((k, JavaOrdered(v))) = map.next_entry::<String, JavaOrdered>()? {
            entries.push((k, v));
        }
        let order = order_by(entries.len(), |i| entries[i].0.as_str());
        if order.len() != entries.len() {
            // Duplicate keys: serde_json keeps the last value at the first position; let the
            // general path reproduce exactly that.
            let mut m: Map<String, Value> = entries.into_iter().collect();
            reorder_map(&mut m);
            return Ok(Value::Object(m));
        }
        let mut m = Map::with_capacity(entries.len());
        for i in order {
            let (k, v) = std::mem::take(&mut entries[i]);
            m.insert(k, v);
        }
        Ok(Value::Object(m))
    }
}

/// Java `toString()` of a parsed JSON value: `AbstractMap.toString` (`{k=v, …}`, members in the
/// map's current order), `AbstractCollection.toString` (`[a, b]`), raw strings (no quoting or
/// escaping, so the format is not reversible), Java number and boolean rendering.
pub fn to_java_string(value: &Value) -> String {
    let mut out = String::new();
    write_java(value, &mut out);
    out
}

fn write_java(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&java_number(n)),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_java(v, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write_java(v, out);
            }
            out.push('}');
        }
    }
}

/// Renders a JSON number the way Java prints the boxed type Jackson gives it: integers as
/// decimal digits (Integer, Long, BigInteger), anything with a fraction or exponent as `Double`.
pub fn java_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        java_double(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// `Double.toString` as of JDK 19+ (Elasticsearch runs on 21+): the shortest decimal that
/// round-trips (preferring the closest 2-digit one when a 1-digit one exists), plain notation
/// for 10⁻³ ≤ |x| < 10⁷ with at least one fractional digit, else `d.dddE±n`.
pub fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let (mut digits, mut exp) = sci_parts(&format!("{:e}", x.abs()));
    if digits.len() == 1 {
        // JDK 19+: when the shortest candidate has one digit, a closer two-digit decimal that
        // still round-trips wins (e.g. 4.9E-324 rather than 5E-324).
        let two = format!("{:.1e}", x.abs());
        if two.parse::<f64>().ok() == Some(x.abs()) {
            let (d2, e2) = sci_parts(&two);
            let d2 = d2.trim_end_matches('0').to_string();
            if !d2.is_empty() {
                digits = d2;
                exp = e2;
            }
        }
    }
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    let abs = x.abs();
    if (1e-3..1e7).contains(&abs) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        out.push('E');
        out.push_str(&exp.to_string());
    }
    out
}

/// Splits Rust's `{:e}` output (`1.2345e-5`) into significant digits and decimal exponent.
fn sci_parts(s: &str) -> (String, i32) {
    let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    (digits.to_string(), exp.parse().unwrap_or(0))
}

/// Java `String.compareTo`: lexicographic by UTF-16 code unit. Differs from Rust's byte order
/// only for characters outside the BMP versus U+E000..U+FFFF; `TreeSet` output relies on it.
pub fn java_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ordered_keys(keys: &[&str]) -> Vec<String> {
        hashmap_order(keys)
            .into_iter()
            .map(|i| keys[i].to_string())
            .collect()
    }

    #[test]
    fn hash_matches_java() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        assert_eq!(string_hash("Aa"), string_hash("BB"));
        assert_eq!(string_hash("hello"), 99162322);
        // Overflow wraps like Java int arithmetic.
        assert_eq!(
            string_hash("polygenelubricants"),
            i32::MIN,
            "well-known Java hash of MIN_VALUE"
        );
    }

    #[test]
    fn console_login_example_from_spec() {
        assert_eq!(
            ordered_keys(&["MobileVersion", "LoginTo", "MFAUsed"]),
            ["LoginTo", "MobileVersion", "MFAUsed"]
        );
    }

    #[test]
    fn resize_example_from_spec() {
        let k12: Vec<String> = (0..12).map(|i| format!("k{i}")).collect();
        let k12r: Vec<&str> = k12.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            ordered_keys(&k12r).join(","),
            "k0,k1,k2,k3,k4,k5,k11,k6,k10,k7,k8,k9"
        );
        let k13: Vec<String> = (0..13).map(|i| format!("k{i}")).collect();
        let k13r: Vec<&str> = k13.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            ordered_keys(&k13r).join(","),
            "k0,k1,k2,k3,k4,k5,k11,k6,k10,k7,k8,k12,k9"
        );
    }

    #[test]
    fn duplicates_keep_first_position() {
        assert_eq!(hashmap_order(&["b", "a", "b"]), vec![1, 0]);
    }

    #[test]
    fn renders_nested_values() {
        let mut v = json!({"roleArn": "arn:x", "durationSeconds": 3600, "tags": [{"value": "v", "key": "k"}], "f": 2.0, "b": true});
        reorder_recursive(&mut v);
        let s = to_java_string(&v);
        assert!(s.starts_with('{') && s.ends_with('}'));
        assert!(s.contains("durationSeconds=3600"));
        assert!(s.contains("f=2.0"));
        assert!(s.contains("b=true"));
        assert!(s.contains("tags=[{value=v, key=k}]"));
    }

    #[test]
    fn doubles_like_jdk19() {
        let cases = [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (2.0, "2.0"),
            (100.0, "100.0"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1.5e-4, "1.5E-4"),
            (1e7, "1.0E7"),
            (9999999.0, "9999999.0"),
            (1e10, "1.0E10"),
            (123.456, "123.456"),
            (-3.25, "-3.25"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e23, "1.0E23"),
            (2e-3, "0.002"),
            (5e-324, "4.9E-324"),
            (f64::MAX, "1.7976931348623157E308"),
            (1.2345678e-7, "1.2345678E-7"),
            (12345678.9, "1.23456789E7"),
            (-0.0, "-0.0"),
        ];
        for (x, want) in cases {
            assert_eq!(java_double(x), want, "{x:e}");
        }
    }

    #[test]
    fn java_compare_uses_utf16() {
        use std::cmp::Ordering;
        assert_eq!(java_cmp("B", "a"), Ordering::Less);
        // U+FFFD (one unit 0xFFFD) sorts after U+1F600 (surrogates 0xD83D…) in Java.
        assert_eq!(java_cmp("\u{1F600}", "\u{FFFD}"), Ordering::Less);
    }
}
