//! Shared fixtures for the integration tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use sealed_session::adapter::Clock;
use sealed_session::{Key, KeyId, KeySpec, Keyring, Suite};

/// 2026-01-01T00:00:00Z.
pub(crate) const T0: u64 = 1_767_225_600;

pub(crate) fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// The wall clock, moved by an offset the test sets: for servers that run
/// in real time while the test jumps past a deadline.
#[derive(Clone, Default)]
pub(crate) struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub(crate) fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_secs() as i64, Ordering::SeqCst);
    }

    /// Seconds ahead of (or, negative, behind) the wall clock.
    pub(crate) fn set(&self, offset_secs: i64) {
        self.0.store(offset_secs, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        let offset = self.0.load(Ordering::SeqCst);
        let now = SystemTime::now();
        if offset >= 0 {
            now + Duration::from_secs(offset as u64)
        } else {
            now - Duration::from_secs(offset.unsigned_abs())
        }
    }
}

pub(crate) fn key(seed: u8) -> Key {
    Key::from_bytes(&[seed; 32]).expect("non-zero key")
}

/// A keyring whose primary is `primary` and which also accepts ids 1..=3,
/// one per suite (1: XAES-256-GCM, 2: XChaCha20-Poly1305, 3: AES-256-GCM).
pub(crate) fn three_suites(primary: KeyId) -> Keyring {
    let spec = |id: KeyId| {
        let suite = match id {
            1 => Suite::Xaes256Gcm,
            2 => Suite::XChaCha20Poly1305,
            _ => Suite::Aes256Gcm,
        };
        KeySpec::new(id, key(id as u8)).suite(suite)
    };
    let mut ring = Keyring::new(spec(primary));
    for id in (1..=3).filter(|id| *id != primary) {
        ring.add_accept_only(spec(id)).expect("unique id");
    }
    ring
}

pub(crate) fn decode(value: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value)
        .expect("base64url")
}

pub(crate) fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
