//! "Did you mean" hints for unknown columns: names within a small edit distance.

use crate::typed::Column;

/// Close names for "did you mean" hints: same last segment, or a small edit distance.
pub(super) fn similar_names(name: &str, columns: &[Column]) -> Vec<String> {
    let mut out: Vec<String> = columns
        .iter()
        .filter(|c| {
            let d = levenshtein(&c.name.to_ascii_lowercase(), &name.to_ascii_lowercase());
            d <= (name.len() / 4).clamp(1, 3)
        })
        .map(|c| c.name.clone())
        .collect();
    out.truncate(5);
    out
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}
