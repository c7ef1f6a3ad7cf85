//! Throughput of the structural check alone (`cloudtrail::structure`), on every value of the
//! files under DIR inflated into memory first:
//!
//! ```text
//! cargo run --release -p cloudtrail --example structure_speed -- DIR
//! ```

use std::io::Read;
use std::time::Instant;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: structure_speed DIR");
    let files = sources::expand_local(&[dir]).expect("files");
    let mut texts = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let mut text = Vec::new();
        if bytes.starts_with(&[0x1f, 0x8b]) {
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut text)
                .unwrap();
        } else {
            text = bytes;
        }
        texts.push(text);
    }
    let total: usize = texts.iter().map(Vec::len).sum();
    let limits = cloudtrail::Limits::default();
    for _ in 0..5 {
        let t = Instant::now();
        let mut records = 0u64;
        let mut refused = 0;
        for text in &texts {
            let text = text.trim_ascii_end();
            match cloudtrail::structure::plain_records(text, &limits) {
                Some(n) => records += n,
                None => refused += 1,
            }
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "{:.3}s {:.2} GB/s: {records} records, {refused} values refused",
            s,
            total as f64 / s / 1e9
        );
    }
}
