//! The fixed keys, cookie name and clock the targets share, and the
//! checks of error messages.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sealed_session::adapter::Clock;
use sealed_session::codec::Codec;
use sealed_session::{
    CookieConfig, Key, KeyId, KeySpec, Keyring, KeyringHandle, SessionConfig, SessionManager,
    SessionMap, Suite,
};

/// Cookie name every `open` seed is sealed for.
pub const COOKIE_NAME: &str = "__Host-session";

/// The `open` target's clock: 2023-11-14T22:13:20Z.
pub const NOW_SECS: u64 = 1_700_000_000;

/// One key of each suite, with fixed (public, test-only) key bytes.
pub const FIXED_KEYS: [(KeyId, Suite, [u8; 32]); 3] = [
    (1, Suite::Xaes256Gcm, [0x11; 32]),
    (2, Suite::XChaCha20Poly1305, [0x22; 32]),
    (3, Suite::Aes256Gcm, [0x33; 32]),
];

/// Length of a header: version byte and big-endian key id.
pub const HEADER_LEN: usize = 5;

/// Shortest value the codec looks at: base64 of a header, a 12-byte nonce
/// and a 16-byte tag (the shortest suite), 44 characters.
pub const MIN_VALUE_CHARS: usize = (HEADER_LEN + 12 + 16) * 4 / 3;

/// Latest time the envelope represents: 9999-12-31T23:59:59Z.
pub const MAX_UNIX_SECS: u64 = 253_402_300_799;

/// The envelope's metadata as postcard sees it: session id, issued at,
/// sealed at, absolute expiry, idle expiry, data version, profile.
pub type MetaWire = ([u8; 16], u64, u64, Option<u64>, Option<u64>, u32, u8);

/// A flash message as postcard sees it: the level's variant index, the
/// text.
pub type FlashWire = (u32, String);

/// The session layer's payload around a [`MapData`]: CSRF secret, flash
/// messages, data (absent for an anonymous session).
pub type SessionPayload = (Option<[u8; 32]>, Vec<FlashWire>, Option<MapData>);

/// The data type the `open` and `envelope` targets decode.
pub type MapData = BTreeMap<String, Vec<u8>>;

/// `UNIX_EPOCH + secs`.
pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// The `open` target's clock as a `SystemTime`.
pub fn now() -> SystemTime {
    at(NOW_SECS)
}

/// A keyring with every fixed key, `primary` first. Seal budgets are
/// unlimited so that long fuzzing runs never exhaust the AES-256-GCM key.
pub fn keyring(primary: KeyId) -> Keyring {
    let spec = |(id, suite, bytes): (KeyId, Suite, [u8; 32])| {
        let key = Key::from_bytes(&bytes).expect("fixed key bytes are valid");
        KeySpec::new(id, key).suite(suite).seal_budget(u64::MAX)
    };
    let mut keys = FIXED_KEYS.to_vec();
    keys.sort_by_key(|&(id, ..)| id != primary);
    let mut keys = keys.into_iter();
    let mut ring = Keyring::new(spec(keys.next().expect("three keys")));
    for entry in keys {
        ring.add_accept_only(spec(entry))
            .expect("fixed key ids are unique");
    }
    ring
}

/// The `open` target's codec: [`COOKIE_NAME`], no context, default limits.
pub fn codec() -> Codec {
    Codec::new(COOKIE_NAME).expect("valid cookie name")
}

/// A clock stopped at `UNIX_EPOCH + .0` seconds.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        at(self.0)
    }
}

/// The `cookie_header` target's session manager: cookie [`COOKIE_NAME`]
/// with default attributes and lifetimes, chunking over up to
/// `max_chunks` cookies (0: off), the fixed keyring with key 1 primary,
/// and the clock at [`NOW_SECS`].
pub fn session_manager(max_chunks: u8) -> SessionManager<SessionMap> {
    session_manager_at(max_chunks, 1, NOW_SECS)
}

/// Like [`session_manager`], with another primary key and clock.
pub fn session_manager_at(max_chunks: u8, primary: KeyId, secs: u64) -> SessionManager<SessionMap> {
    let config = SessionConfig::new(CookieConfig::new(COOKIE_NAME)).chunking(max_chunks);
    SessionManager::new(config, KeyringHandle::new(keyring(primary)))
        .expect("valid session configuration")
        .with_clock(FixedClock(secs))
}

/// The value of one base64url character, `None` for anything else
/// (including `=`).
/// Whether `c` may appear in a base64 key (either alphabet, or padding).
pub fn is_base64_text_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_' | '=')
}

/// Asserts that `shown` (an error's `Display` and `Debug`) does not echo
/// any run of 16 or more base64 characters from `input`.
///
/// Suite names are removed from `shown` first: they are fixed words of the
/// messages (`xchacha20-poly1305` is itself an 18-character run), and an
/// input naming an unknown suite such as `chacha20-poly1305` would
/// otherwise match them. Every other run of base64 characters in the
/// messages is shorter than 16.
pub fn assert_no_echo(input: &str, shown: &str) {
    let mut shown = shown.to_owned();
    for suite in Suite::ALL {
        shown = shown.replace(suite.name(), " ");
    }
    for run in input.split(|c| !is_base64_text_char(c)) {
        if run.len() >= 16 {
            assert!(
                !shown.contains(run),
                "message echoes input {run:?}: {shown:?}"
            );
        }
    }
}

/// The `legacy` target's key, as the peers build it (`Key::from` of these
/// 64 public, test-only bytes).
pub const LEGACY_MASTER: [u8; 64] = [0x4c; 64];

/// The legacy cookie of `source` the `legacy` target opens: its peer's
/// default name (`user` for string-shaped sources) and [`LEGACY_MASTER`].
pub fn legacy_cookie(
    source: sealed_session::migrate::LegacySource,
) -> sealed_session::migrate::LegacyCookie {
    use sealed_session::migrate::{LegacyCookie, LegacyKey};
    let key = LegacyKey::from_master(&LEGACY_MASTER).expect("64 bytes");
    LegacyCookie::new(source, source.default_cookie_name().unwrap_or("user")).key(key)
}
