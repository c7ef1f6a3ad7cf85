//! trailhunt on an Apache DataFusion Ballista cluster: `trailhunt scheduler`,
//! `trailhunt executor` and `--cluster df://HOST:PORT`.
//!
//! The same plans as a local run, executed by Ballista. What Ballista cannot know about
//! trailhunt travels through its codecs ([`codec`]): ES|QL functions are rebuilt on each
//! process by planning the query again from a description the client serves
//! ([`relay`], [`recipe`]), and their warnings come back to the client the same way.
//!
//! Behind the `ballista` feature (the binary's `cluster` feature): without it this crate is
//! empty and the rest of trailhunt builds its trimmed DataFusion.

#[cfg(feature = "ballista")]
pub mod client;
#[cfg(feature = "ballista")]
pub mod codec;
#[cfg(feature = "ballista")]
pub mod process;
#[cfg(feature = "ballista")]
pub mod raw;
#[cfg(feature = "ballista")]
pub mod recipe;
#[cfg(feature = "ballista")]
pub mod relay;

#[cfg(feature = "ballista")]
pub use client::Cluster;

/// A random 128-bit id, as hex: a query's name at its client's relay, and the only
/// credential for it.
#[cfg(feature = "ballista")]
pub(crate) fn random_id() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_err()
    {
        // No /dev/urandom: the hasher's per-process random keys, mixed with the time.
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        let a = h.finish();
        h.write_u64(a);
        bytes[..8].copy_from_slice(&a.to_le_bytes());
        bytes[8..].copy_from_slice(&h.finish().to_le_bytes());
    }
    recipe::hex(&bytes)
}
