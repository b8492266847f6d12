//! Keys and keyrings: key material, cipher suites, rotation, the
//! swappable handle, key files that reload themselves, and randomness.
//! Applications use the re-exports at the crate root; this module adds the
//! detail: the key-file watcher, key fingerprints and per-key counters.

pub(crate) mod handle;
pub(crate) mod key;
pub(crate) mod keyring;
pub(crate) mod rng;
pub(crate) mod suite;
pub(crate) mod watch;

pub use key::KeyFingerprint;
pub use keyring::KeyMetrics;
pub use watch::KeyFileWatcher;
