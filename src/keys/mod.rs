//! Keys and keyrings: key material, cipher suites, rotation, the
//! swappable handle, key files that reload themselves, and randomness.
//! Applications use the re-exports at the crate root; this module adds the
//! detail: the key-file watcher and key fingerprints. Per-key counters
//! ([`KeyMetrics`](crate::metrics::KeyMetrics)) are in [`metrics`](crate::metrics).

pub(crate) mod handle;
pub(crate) mod key;
pub(crate) mod keyring;
pub(crate) mod rng;
pub(crate) mod suite;
pub(crate) mod watch;

pub use key::KeyFingerprint;
pub use watch::KeyFileWatcher;
