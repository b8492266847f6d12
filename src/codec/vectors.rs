//! Generates `tests/vectors/v1.json`, the frozen test vectors of wire
//! format v1, and fails when the committed file differs from what the code
//! produces. Regenerate deliberately with
//! `REGENERATE_VECTORS=1 cargo test --lib vectors`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::codec::Codec;
use crate::envelope::{Lifetimes, SessionMeta};
use crate::error::ErrorKind;
use crate::key::Key;
use crate::keyring::{KeySpec, Keyring};
use crate::rng::testing::FixedRng;
use crate::suite::Suite;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/v1.json");
const NAME: &str = "__Host-s";
/// 2026-01-01T00:00:00Z.
const T0: u64 = 1_767_225_600;

#[derive(Serialize)]
struct File {
    description: &'static str,
    format_version: u8,
    keys: Vec<KeyVector>,
    valid: Vec<Valid>,
    invalid: Vec<Invalid>,
}

#[derive(Serialize)]
struct KeyVector {
    id: u32,
    suite: &'static str,
    key_hex: String,
}

#[derive(Serialize)]
struct Valid {
    suite: &'static str,
    key_id: u32,
    cookie_name: &'static str,
    context: &'static str,
    nonce_hex: String,
    session_id_hex: String,
    issued_at: u64,
    absolute_expiry: Option<u64>,
    idle_expiry: Option<u64>,
    data_version: u32,
    /// The data, a string, sealed as postcard.
    data: String,
    now: u64,
    value: String,
}

#[derive(Serialize)]
struct Invalid {
    description: &'static str,
    cookie_name: &'static str,
    now: u64,
    value: String,
    expected: String,
}

fn key_bytes(id: u32) -> [u8; 32] {
    core::array::from_fn(|i| (i as u8).wrapping_mul(7).wrapping_add(id as u8 * 31 + 1))
}

fn keyring() -> Keyring {
    let mut ring = Keyring::new(KeySpec::new(1, Key::from_bytes(&key_bytes(1)).unwrap()));
    for (id, suite) in [(2, Suite::XChaCha20Poly1305), (3, Suite::Aes256Gcm)] {
        ring.add_accept_only(
            KeySpec::new(id, Key::from_bytes(&key_bytes(id)).unwrap()).suite(suite),
        )
        .unwrap();
    }
    ring
}

fn keyring_with_primary(id: u32) -> Keyring {
    let mut ring = keyring();
    ring.promote(id).unwrap();
    ring
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn meta(seed: u8, lifetimes: Lifetimes) -> SessionMeta {
    SessionMeta::generate(&mut FixedRng(&[seed; 16]), lifetimes, at(T0))
        .unwrap()
        .with_data_version(1)
}

fn nonce(seed: u8, len: usize) -> Vec<u8> {
    (0..len as u8).map(|i| i.wrapping_mul(13) ^ seed).collect()
}

fn seal_fixed<T: Serialize + ?Sized>(
    codec: &Codec,
    ring: &Keyring,
    meta: &SessionMeta,
    data: &T,
    nonce: &[u8],
) -> String {
    codec
        .seal_with(&mut FixedRng(nonce), ring, meta, data, |_| 0)
        .unwrap()
}

/// Re-encodes a value after changing its decoded bytes.
fn edit(value: &str, f: impl FnOnce(&mut Vec<u8>)) -> String {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut bytes = engine.decode(value).unwrap();
    f(&mut bytes);
    engine.encode(bytes)
}

fn generate() -> String {
    let codec = Codec::new(NAME).unwrap();
    let mut valid = Vec::new();
    let data_cases = ["", "a", &"x".repeat(256), &"session data ".repeat(220)];
    for (seed, (id, suite)) in [
        (1u32, Suite::Xaes256Gcm),
        (2, Suite::XChaCha20Poly1305),
        (3, Suite::Aes256Gcm),
    ]
    .into_iter()
    .enumerate()
    {
        let ring = keyring_with_primary(id);
        for (i, data) in data_cases.iter().enumerate() {
            let seed = (seed * 16 + i) as u8;
            let meta = meta(seed, Lifetimes::default());
            let nonce = nonce(seed, suite.nonce_len());
            let value = seal_fixed(&codec, &ring, &meta, *data, &nonce);
            valid.push(Valid {
                suite: suite.name(),
                key_id: id,
                cookie_name: NAME,
                context: "",
                nonce_hex: hex(&nonce),
                session_id_hex: hex(meta.session_id().as_bytes()),
                issued_at: meta.issued_at,
                absolute_expiry: meta.absolute_expiry,
                idle_expiry: meta.idle_expiry,
                data_version: meta.data_version,
                data: (*data).to_owned(),
                now: T0 + 60,
                value,
            });
        }
    }

    let ring = keyring();
    let base_meta = meta(0xee, Lifetimes::default());
    let base = seal_fixed(&codec, &ring, &base_meta, "alice", &nonce(0xee, 24));
    let kind = |k: ErrorKind| format!("{k:?}");
    let mut invalid = Vec::new();
    let mut push = |description, cookie_name, now, value: String, expected: ErrorKind| {
        invalid.push(Invalid {
            description,
            cookie_name,
            now,
            value,
            expected: kind(expected),
        });
    };
    let now = T0 + 60;
    push("empty", NAME, now, String::new(), ErrorKind::Malformed);
    push(
        "too short",
        NAME,
        now,
        base[..40].to_owned(),
        ErrorKind::Malformed,
    );
    push(
        "character outside base64url",
        NAME,
        now,
        format!("{}!", &base[..base.len() - 1]),
        ErrorKind::Malformed,
    );
    push(
        "standard alphabet instead of URL-safe",
        NAME,
        now,
        format!("{}+{}", &base[..20], &base[21..]),
        ErrorKind::Malformed,
    );
    push(
        "padding",
        NAME,
        now,
        format!("{base}=="),
        ErrorKind::Malformed,
    );
    let extra = (4 + 1 - base.len() % 4) % 4;
    let extra = if extra == 0 { 4 } else { extra };
    push(
        "impossible length",
        NAME,
        now,
        format!("{base}{}", "A".repeat(extra)),
        ErrorKind::Malformed,
    );
    push(
        "truncated tag",
        NAME,
        now,
        edit(&base, |b| {
            b.pop();
        }),
        ErrorKind::AuthenticationFailed,
    );
    push(
        "flipped bit in ciphertext",
        NAME,
        now,
        edit(&base, |b| b[40] ^= 0x01),
        ErrorKind::AuthenticationFailed,
    );
    push(
        "flipped bit in tag",
        NAME,
        now,
        edit(&base, |b| {
            let last = b.len() - 1;
            b[last] ^= 0x80
        }),
        ErrorKind::AuthenticationFailed,
    );
    push(
        "flipped bit in nonce",
        NAME,
        now,
        edit(&base, |b| b[5] ^= 0x10),
        ErrorKind::AuthenticationFailed,
    );
    push(
        "sealed for another cookie name",
        "__Host-t",
        now,
        base.clone(),
        ErrorKind::AuthenticationFailed,
    );
    push(
        "unknown version",
        NAME,
        now,
        edit(&base, |b| b[0] = 2),
        ErrorKind::UnsupportedVersion,
    );
    push(
        "version zero",
        NAME,
        now,
        edit(&base, |b| b[0] = 0),
        ErrorKind::UnsupportedVersion,
    );
    push(
        "unknown key id",
        NAME,
        now,
        edit(&base, |b| b[1..5].copy_from_slice(&99u32.to_be_bytes())),
        ErrorKind::UnknownKey,
    );
    push(
        "key id rewritten to another configured key",
        NAME,
        now,
        edit(&base, |b| b[1..5].copy_from_slice(&2u32.to_be_bytes())),
        ErrorKind::AuthenticationFailed,
    );
    push(
        "idle timeout passed",
        NAME,
        T0 + 30 * 60,
        base.clone(),
        ErrorKind::ExpiredIdle,
    );
    push(
        "issued in the future beyond the skew",
        NAME,
        T0 - 61,
        base.clone(),
        ErrorKind::NotYetValid,
    );
    push(
        "longer than a cookie can be",
        NAME,
        now,
        "A".repeat(4096),
        ErrorKind::TooLarge,
    );
    let absolute_only = meta(0xdd, Lifetimes::new(Some(Duration::from_secs(100)), None));
    let short = seal_fixed(&codec, &ring, &absolute_only, "alice", &nonce(0xdd, 24));
    push(
        "absolute lifetime passed",
        NAME,
        T0 + 100,
        short,
        ErrorKind::ExpiredAbsolute,
    );
    let trailing = seal_fixed(&codec, &ring, &base_meta, &("alice", 0u8), &nonce(0xcc, 24));
    push(
        "authentic payload with a trailing byte",
        NAME,
        now,
        trailing,
        ErrorKind::PayloadDecode,
    );

    let file = File {
        description: "sealed-session wire format v1 test vectors; data is a postcard-encoded string",
        format_version: crate::codec::FORMAT_V1,
        keys: [
            (1, Suite::Xaes256Gcm),
            (2, Suite::XChaCha20Poly1305),
            (3, Suite::Aes256Gcm),
        ]
        .into_iter()
        .map(|(id, suite)| KeyVector {
            id,
            suite: suite.name(),
            key_hex: hex(&key_bytes(id)),
        })
        .collect(),
        valid,
        invalid,
    };
    let mut json = serde_json::to_string_pretty(&file).unwrap();
    json.push('\n');
    json
}

#[test]
fn vectors_are_current() {
    let generated = generate();
    if std::env::var_os("REGENERATE_VECTORS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(PATH).parent().unwrap()).unwrap();
        std::fs::write(PATH, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        committed == generated,
        "tests/vectors/v1.json differs from what the code produces: the wire format changed. \
         If that is intended (it logs every user out), regenerate with \
         `REGENERATE_VECTORS=1 cargo test --lib vectors`"
    );
}

#[test]
fn every_invalid_vector_fails_as_recorded() {
    // The file's own check lives in tests/vectors.rs; this guards the
    // generator against recording an outcome the codec does not produce.
    let file: serde_json::Value = serde_json::from_str(&generate()).unwrap();
    let ring = keyring();
    for case in file["invalid"].as_array().unwrap() {
        let codec = Codec::new(case["cookie_name"].as_str().unwrap()).unwrap();
        let err = codec
            .open_at::<String>(
                &ring,
                case["value"].as_str().unwrap(),
                at(case["now"].as_u64().unwrap()),
            )
            .unwrap_err();
        assert_eq!(
            format!("{:?}", err.kind()),
            case["expected"],
            "{}",
            case["description"]
        );
    }
}
