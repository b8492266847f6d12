//! Fixtures shared by the fuzz targets: the fixed keys, cookie name and
//! clock of the `open` target, a strict reference base64url decoder, and a
//! reference decoder for the envelope layout.
//!
//! The seed corpus under `corpus/` is written by the ignored test at the
//! bottom of this file:
//!
//! ```text
//! cargo test --manifest-path fuzz/Cargo.toml -- --ignored regenerate_seed_corpus
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sealed_session::{Codec, Key, KeyId, KeySpec, Keyring, Suite};

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
/// absolute expiry, idle expiry, data version.
pub type MetaWire = ([u8; 16], u64, Option<u64>, Option<u64>, u32);

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

/// The value of one base64url character, `None` for anything else
/// (including `=`).
pub fn base64url_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// Strict, deliberately simple base64url decoder: URL-safe alphabet only,
/// no padding, and the unused bits of the last character must be zero (so
/// every byte string has exactly one encoding).
pub fn decode_base64url(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in text {
        acc = (acc << 6) | u32::from(base64url_value(c)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits (2 or 4) must be zero for a canonical encoding.
    (acc == 0).then_some(out)
}

/// Decodes a plaintext envelope whose data is a [`MapData`], following the
/// documented layout rather than the crate's code. `true` when it decodes.
pub fn reference_decode_envelope(plaintext: &[u8]) -> bool {
    let Ok(((_, issued_at, absolute, idle, _), rest)) =
        postcard::take_from_bytes::<MetaWire>(plaintext)
    else {
        return false;
    };
    let in_range = |t: Option<u64>| t.is_none_or(|t| t <= MAX_UNIX_SECS);
    if !(in_range(Some(issued_at)) && in_range(absolute) && in_range(idle)) {
        return false;
    }
    matches!(postcard::take_from_bytes::<MapData>(rest), Ok((_, [])))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_base64url() {
        assert_eq!(decode_base64url(b"").as_deref(), Some(&[][..]));
        assert_eq!(decode_base64url(b"AQ").as_deref(), Some(&[1][..]));
        assert_eq!(decode_base64url(b"AR"), None, "non-zero trailing bits");
        assert_eq!(decode_base64url(b"AQ=="), None, "padding");
        assert_eq!(decode_base64url(b"A"), None);
        assert_eq!(
            decode_base64url(b"-_-_").as_deref(),
            Some(&[0xfb, 0xff, 0xbf][..])
        );
        assert_eq!(decode_base64url(b"+/+/"), None, "standard alphabet");
        assert_eq!(
            decode_base64url(b"AQAAAAEA").as_deref(),
            Some(&[1, 0, 0, 0, 1, 0][..])
        );
    }

    #[test]
    fn fixed_keyring() {
        assert_eq!(keyring(1).key_ids(), vec![1, 2, 3]);
        assert_eq!(keyring(3).key_ids(), vec![3, 1, 2]);
        assert_eq!(keyring(2).suite(2), Some(Suite::XChaCha20Poly1305));
    }

    /// The committed `open` seeds reach the checks they were made for.
    #[test]
    fn open_seeds_reach_their_checks() {
        use sealed_session::ErrorKind;

        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/open");
        let ring = keyring(1);
        let expected = [
            ("seed-xaes-valid", None),
            ("seed-xchacha-valid", None),
            ("seed-aes-valid", None),
            ("seed-empty-map", None),
            ("seed-not-a-map", Some(ErrorKind::PayloadDecode)),
            ("seed-expired-idle", Some(ErrorKind::ExpiredIdle)),
            ("seed-not-yet-valid", Some(ErrorKind::NotYetValid)),
            ("seed-other-name", Some(ErrorKind::AuthenticationFailed)),
            ("seed-unknown-key", Some(ErrorKind::UnknownKey)),
        ];
        for (name, kind) in expected {
            let value = std::fs::read_to_string(dir.join(name)).expect(name);
            let result = codec().open_at::<MapData>(&ring, &value, now());
            assert_eq!(result.err().map(|e| e.kind()), kind, "{name}");
        }
    }

    /// Writes the seed corpus. Sealed values carry random nonces and
    /// session ids, so each run produces new (equally valid) files.
    #[test]
    #[ignore = "writes fuzz/corpus; run on purpose"]
    fn regenerate_seed_corpus() {
        seeds::write_all();
    }
}

#[cfg(test)]
mod seeds {
    use std::fs;
    use std::path::PathBuf;

    use sealed_session::{Lifetimes, SessionMeta};
    use serde::Serialize;

    use super::*;

    fn write(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(target);
        fs::create_dir_all(&dir).expect("create corpus dir");
        fs::write(dir.join(format!("seed-{name}")), bytes).expect("write seed");
    }

    fn seal<T: Serialize + ?Sized>(ring: &Keyring, name: &str, issued: u64, data: &T) -> String {
        let meta = SessionMeta::new_at(Lifetimes::default(), at(issued)).expect("meta");
        Codec::new(name)
            .expect("name")
            .seal(ring, &meta, data)
            .expect("seal")
    }

    fn map(entries: &[(&str, &[u8])]) -> MapData {
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
            .collect()
    }

    pub(super) fn write_all() {
        let issued = NOW_SECS - 60;
        let user = map(&[("user", b"alice"), ("csrf", &[7; 16])]);

        // `open` and `header`: valid values for every suite, then values
        // that fail at each later check.
        for (id, suite, _) in FIXED_KEYS {
            let value = seal(&keyring(id), COOKIE_NAME, issued, &user);
            let name = match suite {
                Suite::Xaes256Gcm => "xaes",
                Suite::XChaCha20Poly1305 => "xchacha",
                _ => "aes",
            };
            write("open", &format!("{name}-valid"), &value);
            write("header", &format!("{name}-valid"), &value);
        }
        let ring = keyring(1);
        write(
            "open",
            "empty-map",
            seal(&ring, COOKIE_NAME, issued, &MapData::new()),
        );
        write(
            "open",
            "not-a-map",
            seal(&ring, COOKIE_NAME, issued, &(7u8, "x")),
        );
        write(
            "open",
            "expired-idle",
            seal(&keyring(2), COOKIE_NAME, NOW_SECS - 3600, &user),
        );
        write(
            "open",
            "not-yet-valid",
            seal(&keyring(3), COOKIE_NAME, NOW_SECS + 3600, &user),
        );
        write("open", "other-name", seal(&ring, "other", issued, &user));
        let foreign = Keyring::new(KeySpec::new(9, Key::from_bytes(&[0x99; 32]).expect("key")));
        let unknown = seal(&foreign, COOKIE_NAME, issued, &user);
        write("open", "unknown-key", &unknown);
        write("header", "unknown-key", &unknown);
        write(
            "header",
            "short",
            "AQAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        );
        write(
            "header",
            "version-2",
            "AgAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        );

        // `envelope`: postcard of the metadata followed by a map.
        let envelope = |meta: MetaWire, data: &MapData| {
            postcard::to_allocvec(&(meta, data)).expect("postcard")
        };
        let full: MetaWire = (
            [0xa5; 16],
            issued,
            Some(issued + 43_200),
            Some(issued + 1800),
            0,
        );
        write("envelope", "full", envelope(full, &user));
        let bare: MetaWire = ([1; 16], 0, None, None, 3);
        write(
            "envelope",
            "no-expiry-empty-map",
            envelope(bare, &MapData::new()),
        );
        let max: MetaWire = ([0; 16], MAX_UNIX_SECS, Some(MAX_UNIX_SECS), None, u32::MAX);
        write("envelope", "max-times", envelope(max, &map(&[("", b"")])));
        let mut trailing = envelope(full, &user);
        trailing.push(0);
        write("envelope", "trailing-byte", trailing);

        // `keyring_parse`.
        const K1: &str = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
        const K2: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
        const HEX: &str = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
        write("keyring_parse", "single", format!("1:{K1}"));
        write(
            "keyring_parse",
            "suites",
            format!("2:xchacha20-poly1305:{K1}, 1:aes-256-gcm:{HEX},\n 3:XAES-256-GCM:{K2}"),
        );
        write(
            "keyring_parse",
            "url-safe-unpadded",
            "7:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA",
        );
        write("keyring_parse", "hex-key", HEX);
        write("keyring_parse", "duplicate-id", format!("1:{K1},1:{K2}"));
        write("keyring_parse", "short-key", "5:AAAA");
        write(
            "keyring_parse",
            "all-zero",
            "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        );
        write("keyring_parse", "unknown-suite", format!("1:rot13:{K1}"));
        write("keyring_parse", "empty-entry", format!("1:{K1},"));
        write(
            "keyring_parse",
            "64-byte-key",
            format!("4:{}AQ==", "AQEB".repeat(21)),
        );

        // `roundtrip`: unstructured bytes for `arbitrary`, each longer than
        // the smallest `Case` (shorter inputs are rejected unread).
        let mut state: u32 = 0x2545_f491;
        let mut bytes = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect()
        };
        write("roundtrip", "zeros", [0x00; 128]);
        write("roundtrip", "ones", [0xff; 128]);
        write("roundtrip", "random-128", bytes(128));
        write("roundtrip", "random-256", bytes(256));
        write("roundtrip", "random-512", bytes(512));
    }
}
