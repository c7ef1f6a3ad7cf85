//! The Java `HashMap` renderer: the one-pass ordered parse equals parse-then-reorder, the
//! iteration order is a permutation of the keys, and `Double.toString` renderings read back as
//! the same double.
#![no_main]

use cloudtrail::java_map::{
    from_str_java_ordered, hashmap_order, java_double, reorder_recursive, to_java_string,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() >= 8 {
        let x = f64::from_le_bytes(data[..8].try_into().unwrap());
        let s = java_double(x);
        if x.is_finite() {
            let back: f64 = s.parse().unwrap_or_else(|e| panic!("{s:?} for {x:e}: {e}"));
            assert_eq!(
                back.to_bits(),
                x.to_bits(),
                "{s} does not read back as {x:e}"
            );
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let one_pass = from_str_java_ordered(text);
    let two_pass = serde_json::from_str::<serde_json::Value>(text).map(|mut v| {
        reorder_recursive(&mut v);
        v
    });
    match (&one_pass, &two_pass) {
        (Ok(a), Ok(b)) => {
            // Same members in the same order (serde_json's equality ignores order).
            assert_eq!(
                serde_json::to_string(a).unwrap(),
                serde_json::to_string(b).unwrap()
            );
            let _ = to_java_string(a);
        }
        (Err(_), Err(_)) => {}
        _ => panic!("one-pass {one_pass:?} vs two-pass {two_pass:?}"),
    }
    // Keys: the text's lines, deduplicated.
    let mut keys: Vec<&str> = text.lines().collect();
    keys.sort_unstable();
    keys.dedup();
    let mut order = hashmap_order(&keys);
    assert_eq!(order.len(), keys.len());
    order.sort_unstable();
    assert!(order.iter().copied().eq(0..keys.len()), "not a permutation");
});
